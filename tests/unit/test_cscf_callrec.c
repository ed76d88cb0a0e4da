/**
 * @file test_cscf_callrec.c  Call records (cscf/callrec.h): the session
 *                            routing hooks correlated by Call-ID into one
 *                            record per call and session case.
 *
 * The hooks get real decoded messages (INVITE, 2xx, BYE from either side,
 * CANCEL, an error final).  Wall time comes from a test clock and the
 * lifetimes run on the frozen loop clock (tmr_test_set_now), so every
 * time in a record is known.
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
#include "core/loop.h"
#include "core/mem.h"
#include "cscf/callrec.h"
#include "cscf/scscf_route.h"
#include "sip/msg.h"

#define T0    1000000u
#define WALL0 1790000000000LL /* 2026-09-21T14:13:20Z */

static int64_t wall;
static struct callrec got[8];
static char got_line[8][1024];
static size_t ngot;

static int64_t test_now(void)
{
	return wall;
}


static void advance(uint32_t ms)
{
	uint64_t j = tmr_jiffies() + ms;

	wall += ms;
	tmr_test_set_now(j);
	tmr_poll();
}


static void sub_h(const struct callrec *rec, void *arg)
{
	(void)arg;
	assert_true(ngot < 8);
	got[ngot] = *rec;
	/* the views die after the call: keep the line */
	assert_int_equal(
		callrec_format(rec, got_line[ngot], sizeof(got_line[ngot])), 0);
	got[ngot].call_id = got[ngot].icid = got[ngot].served_user = NULL;
	got[ngot].from = got[ngot].to = NULL;
	ngot++;
}


static struct sip_msg *msg_of(const char *text)
{
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 1024, 65535), 0);
	assert_int_equal(buf_write_str(mb, text), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&msg, mb, true, &merr), 0);
	mem_deref(mb);
	return msg;
}

#define HDRS(cid)                                       \
	"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n" \
	"Max-Forwards: 70\r\n"                          \
	"Call-ID: " cid "\r\n"

static const char invite[] = "INVITE sip:bob@ims.test SIP/2.0\r\n" HDRS(
	"c1@ue") "From: <sip:alice@ims.test>;tag=at\r\n"
		 "To: <sip:bob@ims.test>\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "P-Charging-Vector: "
		 "icid-value=\"ab12cd\";icid-generated-at=p\r\n"
		 "Content-Length: 0\r\n\r\n";
static const char ok200[] = "SIP/2.0 200 OK\r\n" HDRS(
	"c1@ue") "From: <sip:alice@ims.test>;tag=at\r\n"
		 "To: <sip:bob@ims.test>;tag=bt\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
static const char bye_caller[] = "BYE sip:bob@10.0.0.2 SIP/2.0\r\n" HDRS(
	"c1@ue") "From: <sip:alice@ims.test>;tag=at\r\n"
		 "To: <sip:bob@ims.test>;tag=bt\r\n"
		 "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
static const char bye_callee[] = "BYE sip:alice@10.0.0.1 SIP/2.0\r\n" HDRS(
	"c1@ue") "From: <sip:bob@ims.test>;tag=bt\r\n"
		 "To: <sip:alice@ims.test>;tag=at\r\n"
		 "CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
static const char cancel[] = "CANCEL sip:bob@ims.test SIP/2.0\r\n" HDRS(
	"c1@ue") "From: <sip:alice@ims.test>;tag=at\r\n"
		 "To: <sip:bob@ims.test>\r\n"
		 "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n";
static const char busy[] = "SIP/2.0 486 Busy Here\r\n" HDRS(
	"c1@ue") "From: <sip:alice@ims.test>;tag=at\r\n"
		 "To: <sip:bob@ims.test>;tag=bt\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

struct fx {
	struct callrec_tab *t;
	struct sip_msg *inv, *ok, *byer, *byee, *can, *busy;
};

static struct fx F;

static void fx_up(uint32_t max_calls)
{
	struct callrec_conf c = { 0 };

	memset(&F, 0, sizeof(F));
	memset(got, 0, sizeof(got));
	ngot = 0;
	wall = WALL0;
	tmr_test_set_now(T0);
	assert_int_equal(loop_init(16), 0);
	c.setup_s = 60;
	c.max_s = 3600;
	c.max_calls = max_calls;
	c.now = test_now;
	assert_int_equal(callrec_alloc(&F.t, &c), 0);
	assert_int_equal(callrec_subscribe(F.t, sub_h, NULL), 0);
	assert_int_equal(callrec_subscribe(F.t, sub_h, NULL), EALREADY);
	F.inv = msg_of(invite);
	F.ok = msg_of(ok200);
	F.byer = msg_of(bye_caller);
	F.byee = msg_of(bye_callee);
	F.can = msg_of(cancel);
	F.busy = msg_of(busy);
}


static void fx_down(void)
{
	mem_deref(F.t);
	mem_deref(F.inv);
	mem_deref(F.ok);
	mem_deref(F.byer);
	mem_deref(F.byee);
	mem_deref(F.can);
	mem_deref(F.busy);
	loop_close();
}


static void ev(scscf_call_h *h, enum scscf_sescase sc, const char *user,
	       const struct sip_msg *msg, uint16_t scode)
{
	struct scscf_call c = { sc, user, msg, scode };

	h(&c, F.t);
}


/* alice calls bob through one S-CSCF: an orig and a term record */
static void start_both(void)
{
	ev(callrec_call_start, SCSCF_SC_ORIG, "sip:alice@ims.test", F.inv, 0);
	ev(callrec_call_start, SCSCF_SC_TERM_REG, "sip:bob@ims.test", F.inv, 0);
	/* a pass back from an AS would not run the hook; a second start of
	 * the same case is ignored all the same */
	ev(callrec_call_start, SCSCF_SC_ORIG, "sip:alice@ims.test", F.inv, 0);
	assert_int_equal(callrec_open_count(F.t), 2);
}


static void test_answered_bye(void **state)
{
	static const struct {
		bool callee;
		const char *cause;
	} tv[] = { { false, "end-cause=bye-caller" },
		   { true, "end-cause=bye-callee" } };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fx_up(0);
		start_both();
		advance(2000);
		ev(callrec_call_answer, SCSCF_SC_TERM_REG, "sip:bob@ims.test",
		   F.ok, 200);
		ev(callrec_call_answer, SCSCF_SC_ORIG, "sip:alice@ims.test",
		   F.ok, 200);
		advance(1000); /* a second 2xx (another fork) changes nothing */
		ev(callrec_call_answer, SCSCF_SC_ORIG, "sip:alice@ims.test",
		   F.ok, 200);
		advance(30000);
		/* BYE passes twice (two Record-Routes of ours): the first
		 * ends both records */
		ev(callrec_call_end, SCSCF_SC_ORIG, "",
		   tv[i].callee ? F.byee : F.byer, 0);
		ev(callrec_call_end, SCSCF_SC_ORIG, "",
		   tv[i].callee ? F.byee : F.byer, 0);
		assert_int_equal(ngot, 2);
		assert_int_equal(callrec_open_count(F.t), 0);
		assert_int_equal(got[0].start_ms, WALL0);
		assert_int_equal(got[0].answer_ms, WALL0 + 2000);
		assert_int_equal(got[0].end_ms, WALL0 + 33000);
		assert_int_equal(got[0].end, tv[i].callee
						     ? CALLREC_END_BYE_CALLEE
						     : CALLREC_END_BYE_CALLER);
		assert_non_null(strstr(got_line[0], "case=orig"));
		assert_non_null(strstr(got_line[0], tv[i].cause));
		assert_non_null(strstr(got_line[1], "case=term "));
		assert_non_null(strstr(got_line[1], "user=sip:bob@ims.test"));
		assert_non_null(strstr(got_line[1], tv[i].cause));
		fx_down();
	}
}


static void test_line(void **state)
{
	(void)state;
	fx_up(0);
	start_both();
	advance(2000);
	ev(callrec_call_answer, SCSCF_SC_ORIG, "sip:alice@ims.test", F.ok, 200);
	advance(31000);
	ev(callrec_call_end, SCSCF_SC_ORIG, "", F.byer, 0);
	assert_int_equal(ngot, 2);
	assert_string_equal(got_line[0],
			    "call-id=c1@ue icid=ab12cd user=sip:alice@ims.test "
			    "case=orig from=sip:alice@ims.test "
			    "to=sip:bob@ims.test "
			    "start=2026-09-21T14:13:20.000Z "
			    "answer=2026-09-21T14:13:22.000Z "
			    "end=2026-09-21T14:13:53.000Z duration=31 "
			    "end-cause=bye-caller scode=0");
	/* bob's side was never answered through its hook: no answer time */
	assert_non_null(strstr(got_line[1], " answer=- "));
	fx_down();
}


static void test_cancelled(void **state)
{
	(void)state;
	fx_up(0);
	start_both();
	advance(4000);
	ev(callrec_call_end, SCSCF_SC_ORIG, "", F.can, 0);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].end, CALLREC_END_CANCEL);
	assert_int_equal(got[0].answer_ms, 0);
	assert_int_equal(got[0].end_ms, WALL0 + 4000);
	assert_non_null(strstr(got_line[1], "end-cause=cancel scode=0"));
	/* the 487 that follows finds nothing open */
	ev(callrec_call_end, SCSCF_SC_ORIG, "sip:alice@ims.test", F.busy, 487);
	assert_int_equal(ngot, 2);
	fx_down();
}


static void test_failed(void **state)
{
	(void)state;
	fx_up(0);
	start_both();
	advance(1000);
	/* bob's pass fails first, the orig pass gets the relayed 486 */
	ev(callrec_call_end, SCSCF_SC_TERM_REG, "sip:bob@ims.test", F.busy,
	   486);
	assert_int_equal(ngot, 1);
	assert_int_equal(callrec_open_count(F.t), 1);
	ev(callrec_call_end, SCSCF_SC_ORIG, "sip:alice@ims.test", F.busy, 486);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].end, CALLREC_END_FAILED);
	assert_int_equal(got[1].scode, 486);
	assert_non_null(strstr(got_line[1], "end-cause=failed scode=486"));
	/* the role's own answer (no served user): every unanswered one */
	start_both();
	ev(callrec_call_end, SCSCF_SC_ORIG, "", F.inv, 408);
	assert_int_equal(ngot, 4);
	assert_int_equal(got[3].scode, 408);
	/* an error after an answer does not end the answered record */
	start_both();
	ev(callrec_call_answer, SCSCF_SC_ORIG, "sip:alice@ims.test", F.ok, 200);
	ev(callrec_call_end, SCSCF_SC_ORIG, "", F.busy, 500);
	assert_int_equal(ngot, 5); /* only bob's */
	assert_int_equal(callrec_open_count(F.t), 1);
	fx_down();
	/* closing ends what is open */
	assert_int_equal(ngot, 6);
	assert_int_equal(got[5].end, CALLREC_END_CLOSED);
}


static void test_timeout(void **state)
{
	(void)state;
	fx_up(0);
	start_both();
	ev(callrec_call_answer, SCSCF_SC_ORIG, "sip:alice@ims.test", F.ok, 200);
	advance(59999);
	assert_int_equal(ngot, 0);
	advance(1);
	/* unanswered term record: setup_s */
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].end, CALLREC_END_TIMEOUT);
	assert_int_equal(got[0].sc, CALLREC_TERM);
	/* answered orig record: max_s from its answer */
	advance(3600000 - 60000 - 1);
	assert_int_equal(ngot, 1);
	advance(1);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[1].end, CALLREC_END_TIMEOUT);
	assert_int_equal(got[1].answer_ms, WALL0);
	assert_int_equal(callrec_open_count(F.t), 0);
	fx_down();
}


static void test_bound(void **state)
{
	(void)state;
	fx_up(1);
	ev(callrec_call_start, SCSCF_SC_ORIG, "sip:alice@ims.test", F.inv, 0);
	ev(callrec_call_start, SCSCF_SC_TERM_REG, "sip:bob@ims.test", F.inv, 0);
	assert_int_equal(callrec_open_count(F.t), 1);
	callrec_unsubscribe(F.t, sub_h, NULL);
	ev(callrec_call_end, SCSCF_SC_ORIG, "", F.byer, 0);
	assert_int_equal(ngot, 0);
	assert_int_equal(callrec_open_count(F.t), 0);
	fx_down();
}


static void test_icid(void **state)
{
	static const struct {
		const char *pcv;
		int err;
		const char *icid;
	} tv[] = {
		{ "icid-value=AyretyU0dm+6O2IrT5tAFrbHLso=;icid-generated-at="
		  "192.0.6.8",
		  0, "AyretyU0dm+6O2IrT5tAFrbHLso=" },
		{ "orig-ioi=home.net; icid-value = \"1234bc9876e\"", 0,
		  "1234bc9876e" },
		{ "icid-generated-at=1.2.3.4", ENOENT, NULL },
		{ "icid-value=", ENOENT, NULL },
		{ "icid-valuex=1", ENOENT, NULL },
		{ "icid-value=\"unterminated", ENOENT, NULL },
		{ "icid-value=0123456789abcdef0123456789abcdef", ENOSPC, NULL },
	};
	char buf[32], text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct sip_msg *m;

		(void)snprintf(
			text, sizeof(text),
			"OPTIONS sip:x@y SIP/2.0\r\n" HDRS(
				"c") "From: <sip:a@y>;tag=1\r\nTo: "
				     "<sip:x@y>\r\n"
				     "CSeq: 1 OPTIONS\r\nP-Charging-Vector: "
				     "%s\r\n"
				     "Content-Length: 0\r\n\r\n",
			tv[i].pcv);
		m = msg_of(text);
		assert_int_equal(callrec_icid(m, buf, sizeof(buf)), tv[i].err);
		if (!tv[i].err)
			assert_string_equal(buf, tv[i].icid);
		mem_deref(m);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answered_bye, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_line, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cancelled, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_failed, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_timeout, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_bound, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_icid, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
