/**
 * @file test_cscf_edit.c  Message rewriting for the CSCF roles
 *                         (cscf/edit.h): where added lines go.
 *
 * An added Record-Route, Route or Path must end up as the top value of
 * its name (RFC 3261 16.6 step 4, 20.34; RFC 3327 4).  RFC 3261 7.3.1
 * fixes the order of lines of one name only, so a peer may put them
 * before the Vias (Kamailio writes its Record-Route at the very top of
 * what it forwards): the table covers lines before and after the Vias,
 * none at all, several names added at once, a removed line of the added
 * name, no Via, and a bad added line.  Each case decodes the result and
 * reads the values of the name in message order.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "cscf/edit.h"
#include "sip/msg.h"

#define VIAS                                                   \
	"Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-s\r\n" \
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-i\r\n"
#define TAIL                                       \
	"From: <sip:alice@ims.test>;tag=a\r\n"     \
	"To: <sip:bob@ims.test>\r\n"               \
	"Call-ID: c1\r\n"                          \
	"CSeq: 1 INVITE\r\n"                       \
	"Max-Forwards: 60\r\n"                     \
	"Contact: <sip:alice@192.0.2.10:5062>\r\n" \
	"Content-Length: 0\r\n\r\n"
#define INV  "INVITE sip:bob@192.0.2.20:5064 SIP/2.0\r\n"
#define RR_P "<sip:tok@127.0.0.1:5060;lr>"


static int setup(void **state)
{
	return mem_mark(state);
}


static int teardown(void **state)
{
	return mem_expect_no_leaks(state);
}


static struct sip_msg *msg_make(const char *text)
{
	struct sip_msg_err merr;
	struct sip_msg *m = NULL;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, strlen(text), SIP_MSG_MAX), 0);
	assert_int_equal(buf_write_str(mb, text), 0);
	mb->pos = 0;
	if (sip_msg_alloc(&m, mb, true, &merr))
		fail_msg("does not decode: %s\n%s", merr.reason, text);
	mem_deref(mb);
	return m;
}


/* The values of header `id` in message order, joined by " | ". */
static void values(const struct sip_msg *m, enum sip_hdr_id id, char *out,
		   size_t sz)
{
	struct sip_hdr_iter it = { 0 };
	size_t l = 0;
	struct pl v;

	out[0] = '\0';
	while (sip_msg_hdr_value_next(m, id, &it, &v) && l < sz)
		l += (size_t)snprintf(out + l, sz - l, "%s%.*s", l ? " | " : "",
				      (int)v.l, v.p);
}


/* The index of the first line of `id` relative to the last Via: <0
 * above it, >0 below. */
static int below_vias(const struct sip_msg *m, enum sip_hdr_id id)
{
	return (int)m->first[id] - (int)m->last[SIP_HDR_VIA];
}


static uint16_t lines(const char *s)
{
	uint16_t n = 0;

	for (; (s = strstr(s, "\r\n")) != NULL; s += 2)
		n++;
	return n;
}


struct pos_case {
	const char *name;
	const char *in;
	struct cscf_edit e;
	enum sip_hdr_id id; /* the name to read back */
	const char *want;   /* its values after the edit */
	int vias;           /* where its first line is: -1 above, 1 below */
};


static void test_added_on_top(void **state)
{
	static const char *const none[] = { NULL };
	const struct pos_case cases[] = {
		{ "Record-Route after the Vias",
		  INV VIAS "Record-Route: <sip:s@127.0.0.1:5080;lr>\r\n" TAIL,
		  { .add = "Record-Route: " RR_P "\r\n" },
		  SIP_HDR_RECORD_ROUTE,
		  RR_P " | <sip:s@127.0.0.1:5080;lr>",
		  1 },
		/* Kamailio: its Record-Route lines above the Vias */
		{ "Record-Route before the Vias",
		  INV "Record-Route: <sip:mt@127.0.0.1:6060;lr=on>\r\n"
		      "Record-Route: <sip:mo@127.0.0.1:6060;lr=on>\r\n" VIAS
		      "Record-Route: <sip:old@127.0.0.1:5060;lr>\r\n" TAIL,
		  { .add = "Record-Route: " RR_P "\r\n" },
		  SIP_HDR_RECORD_ROUTE,
		  RR_P " | <sip:mt@127.0.0.1:6060;lr=on> | "
		       "<sip:mo@127.0.0.1:6060;lr=on> | "
		       "<sip:old@127.0.0.1:5060;lr>",
		  -1 },
		{ "no Record-Route yet",
		  INV VIAS TAIL,
		  { .add = "Record-Route: " RR_P "\r\n" },
		  SIP_HDR_RECORD_ROUTE,
		  RR_P,
		  1 },
		/* two names: each above its own kind, the order kept */
		{ "Route and Record-Route, one before the Vias",
		  INV "Record-Route: <sip:mo@127.0.0.1:6060;lr=on>\r\n" VIAS
		      "Route: <sip:x@127.0.0.1:7070;lr>\r\n" TAIL,
		  { .add = "Route: <sip:r@127.0.0.1:5080;lr>\r\n"
			   "Record-Route: " RR_P "\r\n" },
		  SIP_HDR_ROUTE,
		  "<sip:r@127.0.0.1:5080;lr> | <sip:x@127.0.0.1:7070;lr>",
		  1 },
		{ "the Record-Route of the same edit",
		  INV "Record-Route: <sip:mo@127.0.0.1:6060;lr=on>\r\n" VIAS
		      "Route: <sip:x@127.0.0.1:7070;lr>\r\n" TAIL,
		  { .add = "Route: <sip:r@127.0.0.1:5080;lr>\r\n"
			   "Record-Route: " RR_P "\r\n" },
		  SIP_HDR_RECORD_ROUTE,
		  RR_P " | <sip:mo@127.0.0.1:6060;lr=on>",
		  -1 },
		/* a Route above the Vias that the edit removes: the
		 * added one takes its place */
		{ "replaced Route before the Vias",
		  INV
		  "Route: <sip:phone-preloaded@192.0.2.99;lr>\r\n" VIAS TAIL,
		  { .drop = CSCF_DROP(SIP_HDR_ROUTE),
		    .drop_names = none,
		    .add = "Route: <sip:orig@127.0.0.1:5080;lr>\r\n" },
		  SIP_HDR_ROUTE,
		  "<sip:orig@127.0.0.1:5080;lr>",
		  -1 },
		{ "Path, compact Via",
		  "REGISTER sip:ims.test SIP/2.0\r\n"
		  "v: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r\r\n"
		  "Path: <sip:old@192.0.2.1;lr>\r\n"
		  "From: <sip:alice@ims.test>;tag=a\r\n"
		  "To: <sip:alice@ims.test>\r\n"
		  "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"
		  "Content-Length: 0\r\n\r\n",
		  { .add = "Path: " RR_P "\r\n" },
		  SIP_HDR_PATH,
		  RR_P " | <sip:old@192.0.2.1;lr>",
		  1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pos_case *c = &cases[i];
		struct sip_msg *in = msg_make(c->in), *out = NULL;
		char got[512];

		assert_int_equal(cscf_edit_msg(&out, in, &c->e), 0);
		values(out, c->id, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->name, got,
				 c->want);
		if ((below_vias(out, c->id) > 0) != (c->vias > 0))
			fail_msg("%s: first line %s the Vias", c->name,
				 c->vias > 0 ? "not below" : "not above");
		/* the rest is untouched */
		assert_int_equal(out->hdrc, in->hdrc - (c->e.drop ? 1 : 0) +
						    lines(c->e.add));
		values(out, SIP_HDR_CALL_ID, got, sizeof(got));
		assert_true(!strcmp(got, "c1") || !strcmp(got, "r1"));
		mem_deref(out);
		mem_deref(in);
	}
}


/* No Via (not a valid request, but the edit must not care): on top. */
static void test_no_via(void **state)
{
	struct sip_msg *in, *out = NULL;
	const struct cscf_edit e = { .add = "Record-Route: " RR_P "\r\n" };
	char got[256];

	(void)state;
	in = msg_make("SIP/2.0 200 OK\r\nCall-ID: c1\r\n"
		      "Record-Route: <sip:a@127.0.0.1;lr>\r\n"
		      "Content-Length: 0\r\n\r\n");
	assert_int_equal(cscf_edit_msg(&out, in, &e), 0);
	values(out, SIP_HDR_RECORD_ROUTE, got, sizeof(got));
	assert_string_equal(got, RR_P " | <sip:a@127.0.0.1;lr>");
	assert_int_equal(out->first[SIP_HDR_RECORD_ROUTE], 1);
	mem_deref(out);
	mem_deref(in);
}


/* An added line that is no header line: the result does not decode. */
static void test_bad_line(void **state)
{
	struct sip_msg *in, *out = NULL;
	const struct cscf_edit e = { .add = "no colon here\r\n" };

	(void)state;
	in = msg_make(INV VIAS TAIL);
	assert_int_equal(cscf_edit_msg(&out, in, &e), EBADMSG);
	assert_null(out);
	assert_int_equal(cscf_edit_msg(&out, in, NULL), EINVAL);
	mem_deref(in);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_added_on_top),
		T(test_no_via),
		T(test_bad_line),
#undef T
	};

	return cmocka_run_group_tests_name("cscf_edit", tests, NULL, NULL);
}
