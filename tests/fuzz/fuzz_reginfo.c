/**
 * @file fuzz_reginfo.c  libFuzzer harness for the reginfo XML codec
 * (cscf/reginfo.h, RFC 3680 5.3) and the subscriber-side state that merges
 * it (cscf/regevent.h, regevent_watch).
 *
 * Each input is decoded with reginfo_decode().  Properties checked, beyond
 * "no crash, no sanitizer report":
 *  - the result is 0, EBADMSG or EMSGSIZE, and a refusal says why;
 *  - an accepted document keeps the limits and has every mandatory member
 *    (aor, id, contact id and uri, enumerations in range);
 *  - it encodes, the encoding decodes, and encoding that again gives the
 *    same bytes;
 *  - a watcher fed the input twice (as full state first when it is
 *    partial, so both merge paths run) keeps no terminated registration
 *    or contact in its state, and stays within the limits;
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
#include "cscf/regevent.h"
#include "cscf/reginfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_reginfo: property broken: %s\n", what);
	abort();
}


static void check_model(const struct reginfo *ri)
{
	if ((unsigned)ri->state > REGINFO_PARTIAL ||
	    ri->reg_n > REGINFO_REG_MAX)
		fail("document state or registration count");
	for (size_t i = 0; i < ri->reg_n; i++) {
		const struct reginfo_reg *r = &ri->reg[i];

		if (!r->aor || !r->id ||
		    (unsigned)r->state > REGINFO_REG_TERMINATED ||
		    r->ct_n > REGINFO_CT_MAX)
			fail("registration members");
		for (size_t j = 0; j < r->ct_n; j++) {
			const struct reginfo_contact *c = &r->ct[j];

			if (!c->id || !c->uri || !*c->uri ||
			    (unsigned)c->state > REGINFO_CT_TERMINATED ||
			    (unsigned)c->event >= REGINFO_EV_NUM ||
			    (c->has_q && c->q > 1000) ||
			    c->param_n > REGINFO_PARAM_MAX)
				fail("contact members");
			for (size_t k = 0; k < c->param_n; k++)
				if (!c->param[k].name)
					fail("unknown-param without name");
		}
	}
}


static void check_watch(const struct regevent_watch *w)
{
	const struct reginfo *st = regevent_watch_state(w);

	if (!st || st->reg_n > REGINFO_REG_MAX)
		fail("watch state over the limit");
	for (size_t i = 0; i < st->reg_n; i++) {
		if (st->reg[i].state == REGINFO_REG_TERMINATED)
			fail("watch keeps a terminated registration");
		if (st->reg[i].ct_n > REGINFO_CT_MAX)
			fail("watch registration over the limit");
		for (size_t j = 0; j < st->reg[i].ct_n; j++)
			if (st->reg[i].ct[j].state != REGINFO_CT_ACTIVE)
				fail("watch keeps a terminated contact");
	}
}


static void term_h(const struct regevent_term *t, void *arg)
{
	size_t *n = arg;

	if (!t->aor || !t->reg_id || (t->ct_id && !t->ct_uri))
		fail("terminated report without its identities");
	(*n)++;
}


static void watch(const uint8_t *data, size_t size, const struct reginfo *ri)
{
	struct regevent_watch_result res;
	struct regevent_watch *w = NULL;
	struct buf *mb = NULL;
	size_t terms = 0;
	char err[160];

	if (regevent_watch_alloc(&w))
		return;
	if (ri->state == REGINFO_PARTIAL && ri->version > 0) {
		/* a full state of the version before, so the partial merges:
		 * the same registrations, every contact active */
		struct reginfo *full =
			reginfo_alloc(ri->version - 1, REGINFO_FULL);

		if (full && !buf_alloc(&mb, 1024, 8u * REGINFO_MAX)) {
			for (size_t i = 0; i < ri->reg_n; i++) {
				struct reginfo_reg *r = reginfo_reg_copy(
					full, &ri->reg[i], false);

				if (!r)
					break;
				r->state = REGINFO_REG_ACTIVE;
				for (size_t j = 0; j < r->ct_n; j++)
					r->ct[j].state = REGINFO_CT_ACTIVE;
			}
			if (!reginfo_encode(mb, full) &&
			    mb->end <= REGINFO_MAX &&
			    regevent_watch_body(w, (const char *)mb->b, mb->end,
						term_h, &terms, &res, err,
						sizeof(err)) == 0 &&
			    !res.applied)
				fail("a full state was not applied");
		}
		mem_deref(full);
	}
	if (regevent_watch_body(w, (const char *)data, size, term_h, &terms,
				&res, err, sizeof(err)) == 0 &&
	    res.applied) {
		check_watch(w);
		if (regevent_watch_body(w, (const char *)data, size, term_h,
					&terms, &res, err, sizeof(err)) ||
		    !res.stale)
			fail("the same document twice is not stale");
	}
	check_watch(w);
	mem_deref(mb);
	mem_deref(w);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reginfo *ri = NULL, *again = NULL;
	struct buf *e1 = NULL, *e2 = NULL;
	size_t blocks = mem_live_blocks();
	char err[160];
	int rc;

	if (size > REGINFO_MAX + 16)
		return 0;
	rc = reginfo_decode(&ri, (const char *)data, size, err, sizeof(err));
	if (rc == EBADMSG && !err[0])
		fail("refused without a reason");
	if (rc && rc != EBADMSG && rc != EMSGSIZE)
		fail("unexpected error code");
	if (rc)
		goto out;

	check_model(ri);
	if (buf_alloc(&e1, 1024, 8u * REGINFO_MAX) ||
	    buf_alloc(&e2, 1024, 8u * REGINFO_MAX))
		goto out;
	if (reginfo_encode(e1, ri))
		fail("a decoded document does not encode");
	if (e1->end > REGINFO_MAX)
		goto watch; /* grew past what decode takes (escaping) */
	if (reginfo_decode(&again, (const char *)e1->b, e1->end, err,
			   sizeof(err)))
		fail(err);
	check_model(again);
	if (reginfo_encode(e2, again))
		fail("a re-decoded document does not encode");
	if (e1->end != e2->end || memcmp(e1->b, e2->b, e1->end))
		fail("encode(decode(encode(x))) differs from encode(x)");
watch:
	watch(data, size, ri);
out:
	mem_deref(e2);
	mem_deref(e1);
	mem_deref(again);
	mem_deref(ri);
	if (mem_live_blocks() != blocks)
		fail("memory blocks leaked");
	return 0;
}
