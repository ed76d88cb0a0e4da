/**
 * @file fuzz_userdata.c  libFuzzer harness for the User-Data XML codec
 * (diameter/userdata.h, TS 29.228 annex E).
 *
 * Each input is decoded with cx_userdata_decode().  Properties checked,
 * beyond "no crash, no sanitizer report":
 *  - the result is 0, EBADMSG or EMSGSIZE, and a refusal says why;
 *  - an accepted document has what the model promises: a PrivateID, at
 *    least one service profile each with a public identity, every iFC an
 *    ApplicationServer, iFCs sorted by Priority, every SPT its condition;
 *  - the decoded model encodes (it came from XML, so it is XML text), the
 *    encoding decodes, and encoding that again gives the same bytes;
 *  - no entims memory block outlives the input.
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "diameter/userdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX (64u * 1024u) /* larger documents add nothing */


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_userdata: property broken: %s\n", what);
	abort();
}


static void check_model(const struct cx_subscription *sub)
{
	if (!sub->private_id || !sub->sp_n)
		fail("accepted without PrivateID or ServiceProfile");
	for (size_t i = 0; i < sub->sp_n; i++) {
		const struct cx_service_profile *sp = &sub->sp[i];

		if (!sp->pub_n)
			fail("service profile without identity");
		for (size_t j = 0; j < sp->pub_n; j++) {
			if (!sp->pub[j].identity || !*sp->pub[j].identity)
				fail("public identity without Identity");
		}
		for (size_t j = 0; j < sp->ifc_n; j++) {
			const struct cx_ifc *ifc = &sp->ifc[j];

			if (!ifc->as_uri)
				fail("iFC without ServerName");
			if (j && sp->ifc[j - 1].priority > ifc->priority)
				fail("iFCs not sorted by priority");
			if (!ifc->tp)
				continue;
			if (!ifc->tp->spt_n)
				fail("trigger point without SPT");
			for (size_t k = 0; k < ifc->tp->spt_n; k++) {
				const struct cx_spt *s = &ifc->tp->spt[k];

				if (s->group < 0 ||
				    (s->kind != CX_SPT_SESSION_CASE && !s->a))
					fail("SPT without its condition");
			}
		}
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cx_subscription *sub = NULL, *again = NULL;
	struct buf *e1 = NULL, *e2 = NULL;
	size_t blocks = mem_live_blocks();
	char err[160];
	int rc;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	rc = cx_userdata_decode(&sub, (const char *)data, size, err,
				sizeof(err));
	if (rc == EBADMSG && !err[0])
		fail("refused without a reason");
	if (rc && rc != EBADMSG && rc != EMSGSIZE)
		fail("unexpected error code");
	if (rc)
		goto out;

	check_model(sub);
	if (buf_alloc(&e1, 1024, 4u * CX_USERDATA_MAX) ||
	    buf_alloc(&e2, 1024, 4u * CX_USERDATA_MAX))
		goto out;
	if (cx_userdata_encode(e1, sub))
		fail("a decoded subscription does not encode");
	if (e1->end > CX_USERDATA_MAX)
		goto out; /* grew past what decode takes (escaping) */
	if (cx_userdata_decode(&again, (const char *)e1->b, e1->end, err,
			       sizeof(err)))
		fail(err);
	check_model(again);
	if (cx_userdata_encode(e2, again))
		fail("a re-decoded subscription does not encode");
	if (e1->end != e2->end || memcmp(e1->b, e2->b, e1->end))
		fail("encode(decode(encode(x))) differs from encode(x)");
out:
	mem_deref(e2);
	mem_deref(e1);
	mem_deref(again);
	mem_deref(sub);
	if (mem_live_blocks() != blocks)
		fail("memory blocks leaked");
	return 0;
}
