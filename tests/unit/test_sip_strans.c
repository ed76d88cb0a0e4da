/**
 * @file test_sip_strans.c  Server transactions (RFC 3261 17.2, 9.2, RFC
 * 6026): every state and timer of the INVITE and non-INVITE machines,
 * retransmission absorption, ACK and CANCEL matching, the RFC 2543
 * fallback rules, the memory a completed transaction keeps.
 *
 * The stack runs without transports: sip->sendh records every message
 * with the (frozen) time it was sent, and the clock is moved by hand so
 * that every timer fires at its exact time.
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
#include "core/hash.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "util/fakesip.h"

#define BRANCH "z9hG4bKst-test-1"

/* What the TU heard from its transaction. */
struct ev {
	int n;
	int err[8];
	enum sip_method meth[8];
	struct sip_strans **drop; /* drop this handle on any event */
	struct sip *close;        /* close all transactions on any event */
};

static void ev_h(int err, struct sip_msg *msg, void *arg)
{
	struct ev *e = arg;

	assert_true(e->n < 8);
	e->err[e->n] = err;
	e->meth[e->n] = msg ? msg->meth : SIP_METHOD_OTHER;
	e->n++;
	if (e->drop)
		*e->drop = mem_deref(*e->drop);
	if (e->close)
		sip_trans_close_all(e->close);
}


/* A request; unset fields take the defaults below. */
struct rq {
	const char *met;
	const char *branch; /* "-": no branch parameter */
	const char *sentby;
	const char *ruri;
	const char *totag;
	const char *fromtag;
	const char *callid;
	uint32_t cseq;
	const char *cseq_met;
	enum sip_transp tp;
};

/* A counted, decoded request as sip_msg_dup() gives the core. */
static struct sip_msg *mkreq(struct rq r)
{
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb;
	char text[2048], bp[128] = "";
	const char *tps;
	int n;

	if (!r.tp)
		r.tp = SIP_TRANSP_UDP;
	tps = r.tp == SIP_TRANSP_UDP ? "UDP"
				     : (r.tp == SIP_TRANSP_TCP ? "TCP" : "TLS");
	if (!r.branch)
		r.branch = BRANCH;
	if (strcmp(r.branch, "-") != 0)
		(void)snprintf(bp, sizeof(bp), ";branch=%s", r.branch);
	n = snprintf(text, sizeof(text),
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: Alice <sip:alice@example.com>;tag=%s\r\n"
		     "To: Bob <sip:bob@example.com>%s%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "Contact: <sip:alice@127.0.0.2:5070>\r\n"
		     "Content-Length: 0\r\n\r\n",
		     r.met, r.ruri ? r.ruri : "sip:bob@example.com", tps,
		     r.sentby ? r.sentby : "127.0.0.2:5070", bp,
		     r.fromtag ? r.fromtag : "a1", r.totag ? ";tag=" : "",
		     r.totag ? r.totag : "", r.callid ? r.callid : "c1@h",
		     r.cseq ? r.cseq : 7, r.cseq_met ? r.cseq_met : r.met);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(buf_alloc(&mb, (size_t)n, (size_t)n), 0);
	assert_int_equal(buf_write(mb, text, (size_t)n), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&msg, mb, true, &merr), 0);
	mem_deref(mb);
	msg->conn = NULL;
	msg->tp = r.tp;
	msg->rx_ms = 0;
	assert_int_equal(sa_set_str(&msg->src, "127.0.0.2", 5070), 0);
	assert_int_equal(sa_set_str(&msg->dst, "127.0.0.1", 5060), 0);
	return msg;
}


/* Feed a request to sip_strans_recv(). */
static bool feed(struct sip *sip, struct rq r)
{
	struct sip_msg *msg = mkreq(r);
	bool taken = sip_strans_recv(sip, msg);

	mem_deref(msg);
	return taken;
}


static struct sip_strans *start(struct sip *sip, struct rq r, struct ev *e)
{
	struct sip_msg *msg = mkreq(r);
	struct sip_strans *st = NULL;

	assert_false(sip_strans_recv(sip, msg));
	assert_int_equal(sip_strans_alloc(&st, sip, msg, ev_h, e), 0);
	assert_non_null(st);
	mem_deref(msg);
	return st;
}


static int reply_tag(struct sip_strans *st, uint16_t scode, const char *tag)
{
	struct sip_reply_opts o;

	memset(&o, 0, sizeof(o));
	pl_set_str(&o.totag, tag);
	return sip_strans_reply(st, scode, &o);
}


#define INV(...) ((struct rq){ .met = "INVITE", __VA_ARGS__ })
#define ACK(...) ((struct rq){ .met = "ACK", __VA_ARGS__ })
#define CAN(...) ((struct rq){ .met = "CANCEL", __VA_ARGS__ })
#define REG(...) ((struct rq){ .met = "REGISTER", __VA_ARGS__ })


/* ---- INVITE ---- */

/* 17.2.1: 100 (Trying) after 200 ms of TU silence; an INVITE
 * retransmission re-sends the last provisional response. */
static void test_invite_100_trying(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(), &e);
	assert_non_null(sip_strans_req(st));
	fake_run_to(100);
	/* a retransmission before any response: absorbed, nothing sent */
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 0);
	fake_run_to(199);
	assert_int_equal(fake_nsent, 0);
	fake_run_to(200);
	assert_int_equal(fake_nsent, 1);
	assert_int_equal(fake_sent[0].t, 200);
	assert_true(fake_sent_starts(0, "SIP/2.0 100 "));
	assert_true(fake_sent_has(0, "\r\nTo: Bob <sip:bob@example.com>\r\n"));
	assert_int_equal(sa_port(&fake_sent[0].dst), 5070);
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 2);
	assert_string_equal(fake_sent[1].p, fake_sent[0].p);

	assert_int_equal(reply_tag(st, 180, "s1"), 0);
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 4);
	assert_true(fake_sent_starts(3, "SIP/2.0 180 "));
	assert_string_equal(fake_sent[3].p, fake_sent[2].p);
	assert_int_equal(sip->stats.retrans_absorbed, 3);
	assert_int_equal(sip->stats.tx_responses, 4);
	mem_deref(st);
	fake_env_close(sip);
}


/* No 100 (Trying) when the TU answered within 200 ms. */
static void test_invite_tu_answers(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(), &e);
	fake_run_to(50);
	assert_int_equal(reply_tag(st, 183, "s1"), 0);
	fake_run_to(10000);
	assert_int_equal(fake_nsent, 1);
	assert_true(fake_sent_starts(0, "SIP/2.0 183 "));
	assert_true(fake_sent_has(0, ";tag=s1\r\n"));
	/* and a TU may send the 100 itself */
	mem_deref(st);
	st = start(sip, INV(.branch = "z9hG4bKother"), &e);
	assert_int_equal(sip_strans_reply(st, 100, NULL), 0);
	fake_run_to(20000);
	assert_int_equal(fake_nsent, 2);
	mem_deref(st);
	fake_env_close(sip);
}


/* 17.2.1: a non-2xx final: Completed, Timer G retransmits it (T1
 * doubling up to T2), Timer H gives up at 64*T1 and tells the TU. */
static void test_invite_timer_g_h(void **state)
{
	static const uint64_t at[] = { 0,     500,   1500,  3500,  7500, 11500,
				       15500, 19500, 23500, 27500, 31500 };
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;
	size_t i;

	(void)state;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 486, "s1"), 0);
	assert_null(sip_strans_req(st)); /* only key and bytes are kept */
	assert_int_equal(sip_strans_reply(st, 500, NULL), EPROTO);
	assert_int_equal(sip_strans_send_raw(st, 500, "x", 1), EPROTO);
	fake_run_to(31999);
	assert_int_equal(fake_nsent, 11);
	for (i = 0; i < 11; i++) {
		assert_int_equal(fake_sent[i].t, at[i]);
		assert_true(fake_sent_starts(i, "SIP/2.0 486 "));
	}
	/* an INVITE retransmission gets the final again */
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 12);
	assert_int_equal(e.n, 0);
	fake_run_to(32000);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.err[0], ETIMEDOUT);
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, INV()));
	assert_int_equal(sip_strans_reply(st, 500, NULL), ESRCH);
	mem_deref(st);
	fake_env_close(sip);
}


/* 17.2.1: the ACK moves Completed to Confirmed; Timer I (T4) absorbs
 * further ACKs and INVITE retransmissions. */
static void test_invite_ack_timer_i(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 404, "s1"), 0);
	fake_run_to(600);
	assert_int_equal(fake_nsent, 2); /* Timer G once */
	/* an ACK from elsewhere (sent-by) is not ours */
	assert_false(feed(sip, ACK(.totag = "s1", .sentby = "127.0.0.9")));
	assert_true(feed(sip, ACK(.totag = "s1")));
	fake_run_to(5000);
	assert_int_equal(fake_nsent, 2);
	assert_true(feed(sip, ACK(.totag = "s1")));
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 2);
	assert_true(sip_strans_active(st));
	fake_run_to(600 + 4999);
	assert_true(sip_strans_active(st));
	fake_run_to(600 + 5000);
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, ACK(.totag = "s1")));
	assert_int_equal(e.n, 0);
	mem_deref(st);
	fake_env_close(sip);
}


/* Reliable transports: no Timer G, Timer I is zero, Timer H still runs. */
static void test_invite_reliable(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(.tp = SIP_TRANSP_TCP), &e);
	assert_int_equal(reply_tag(st, 480, "s1"), 0);
	fake_run_to(20000);
	assert_int_equal(fake_nsent, 1);
	assert_int_equal(fake_sent[0].tp, SIP_TRANSP_TCP);
	assert_true(feed(sip, ACK(.totag = "s1", .tp = SIP_TRANSP_TCP)));
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, ACK(.totag = "s1", .tp = SIP_TRANSP_TCP)));
	mem_deref(st);

	st = start(sip, INV(.tp = SIP_TRANSP_TCP), &e);
	assert_int_equal(reply_tag(st, 480, "s1"), 0);
	fake_run_to(20000 + 32000);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.err[0], ETIMEDOUT);
	assert_int_equal(fake_nsent, 2);
	mem_deref(st);
	fake_env_close(sip);
}


/* RFC 6026 7.1: a 2xx moves to Accepted; INVITE retransmissions are
 * absorbed, ACKs go up to the TU, further 2xx are sent; Timer L ends it. */
static void test_invite_accepted_timer_l(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;
	char ok[2048];

	(void)state;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 200, "s1"), 0);
	assert_int_equal(fake_nsent, 1);
	assert_true(fake_sent_starts(0, "SIP/2.0 200 "));
	assert_null(sip_strans_req(st));
	(void)snprintf(ok, sizeof(ok), "%s", fake_sent[0].p);
	fake_run_to(10000);
	assert_int_equal(fake_nsent, 1); /* no Timer G for a 2xx */
	assert_true(feed(sip, INV()));
	assert_int_equal(fake_nsent, 1);
	/* the ACK for a 2xx is the TU's, whatever its branch */
	assert_false(feed(sip, ACK(.totag = "s1")));
	assert_false(feed(sip, ACK(.totag = "s1", .branch = "z9hG4bKack2")));
	/* the TU (or proxy) retransmits its 2xx, or forwards another */
	assert_int_equal(sip_strans_retransmit(st), 0);
	assert_int_equal(sip_strans_send_raw(st, 200, ok, strlen(ok)), 0);
	assert_int_equal(fake_nsent, 3);
	assert_string_equal(fake_sent[1].p, ok);
	assert_string_equal(fake_sent[2].p, ok);
	assert_int_equal(sip_strans_send_raw(st, 486, ok, strlen(ok)), EPROTO);
	assert_int_equal(sip_strans_reply(st, 200, NULL), EPROTO);
	fake_run_to(31999);
	assert_true(sip_strans_active(st));
	fake_run_to(32000);
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, INV()));
	assert_int_equal(sip_strans_retransmit(st), ESRCH);
	assert_int_equal(e.n, 0);
	mem_deref(st);
	fake_env_close(sip);
}


/* An INVITE's final response that follows its ringing within 2 ms (or
 * the loop's coalescing interval) over UDP waits the rest of it, so that
 * a peer reading with several workers cannot take it before the 180.
 * INVITE retransmissions still get it at once; 100 Trying, a later final
 * and stream transports are not held. */
static void test_final_spacing(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	static const char ok2[] = "SIP/2.0 200 OK\r\nX-Fork: 2\r\n\r\n";
	struct sip_strans *st, *st2;

	(void)state;
	/* 180 and 200 together: the 200 leaves 2 ms later */
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 180, "s1"), 0);
	assert_int_equal(reply_tag(st, 200, "s1"), 0);
	assert_int_equal(fake_nsent, 1);
	assert_int_equal(sip->stats.finals_held, 1);
	assert_true(sip_strans_active(st));
	assert_int_equal(sip_strans_reply(st, 486, NULL), EPROTO);
	fake_run_to(1);
	assert_int_equal(fake_nsent, 1);
	fake_run_to(2);
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "SIP/2.0 200 "));
	assert_int_equal(fake_sent[1].t, 2);
	fake_run_to(3000);
	assert_int_equal(fake_nsent, 2); /* once, no Timer G for a 2xx */
	mem_deref(st);

	/* a non-2xx 1 ms after the 180 waits 1 ms; an INVITE retransmission
	 * meanwhile is answered with it at once, and Timer G counts from
	 * there */
	st = start(sip, INV(.branch = "z9hG4bKsp2"), &e);
	assert_int_equal(reply_tag(st, 183, "s2"), 0);
	fake_run_to(3001);
	assert_int_equal(reply_tag(st, 486, "s2"), 0);
	assert_int_equal(fake_nsent, 3);
	assert_true(feed(sip, INV(.branch = "z9hG4bKsp2")));
	assert_int_equal(fake_nsent, 4);
	assert_true(fake_sent_starts(3, "SIP/2.0 486 "));
	fake_run_to(3500);
	assert_int_equal(fake_nsent, 4);
	fake_run_to(3501);
	assert_int_equal(fake_nsent, 5); /* Timer G: T1 after 3001 */
	assert_int_equal(fake_sent[4].t, 3501);
	assert_true(feed(sip, ACK(.branch = "z9hG4bKsp2", .totag = "s2")));
	mem_deref(st);

	/* 100 Trying holds nothing; a final 2 ms after ringing neither */
	st = start(sip, INV(.branch = "z9hG4bKsp3"), &e);
	st2 = start(sip, INV(.branch = "z9hG4bKsp4"), &e);
	assert_int_equal(sip_strans_reply(st, 100, NULL), 0);
	assert_int_equal(reply_tag(st, 200, "s3"), 0);
	assert_int_equal(reply_tag(st2, 180, "s4"), 0);
	fake_run_to(4002);
	assert_int_equal(fake_nsent, 8);
	assert_int_equal(reply_tag(st2, 200, "s4"), 0);
	assert_int_equal(fake_nsent, 9);
	assert_int_equal(fake_sent[8].t, 4002);
	assert_int_equal(sip->stats.finals_held, 2);
	mem_deref(st);
	mem_deref(st2);

	/* a stream keeps its order: nothing held */
	st = start(sip, INV(.branch = "z9hG4bKsp5", .tp = SIP_TRANSP_TCP), &e);
	assert_int_equal(reply_tag(st, 180, "s5"), 0);
	assert_int_equal(reply_tag(st, 200, "s5"), 0);
	assert_int_equal(fake_nsent, 11);
	mem_deref(st);

	/* a second 2xx (a forking proxy's) while the first is held: the
	 * first goes at once, the second waits in its turn */
	st = start(sip, INV(.branch = "z9hG4bKsp6"), &e);
	assert_int_equal(reply_tag(st, 180, "s6"), 0);
	assert_int_equal(reply_tag(st, 200, "s6"), 0);
	assert_int_equal(sip_strans_send_raw(st, 200, ok2, strlen(ok2)), 0);
	assert_int_equal(fake_nsent, 13);
	assert_true(fake_sent_starts(12, "SIP/2.0 200 "));
	assert_true(fake_sent_has(12, "tag=s6"));
	fake_run_to(4004);
	assert_int_equal(fake_nsent, 14);
	assert_string_equal(fake_sent[13].p, ok2);
	mem_deref(st);

	/* the hold follows the loop's coalescing interval; a held final
	 * dropped with the stack is never sent */
	loop_coalesce(5000);
	st = start(sip, INV(.branch = "z9hG4bKsp7"), &e);
	assert_int_equal(reply_tag(st, 180, "s7"), 0);
	assert_int_equal(reply_tag(st, 603, "s7"), 0);
	fake_run_to(4008);
	assert_int_equal(fake_nsent, 15);
	fake_run_to(4009);
	assert_int_equal(fake_nsent, 16);
	assert_true(fake_sent_starts(15, "SIP/2.0 603 "));
	st2 = start(sip, INV(.branch = "z9hG4bKsp8"), &e);
	assert_int_equal(reply_tag(st2, 180, "s8"), 0);
	assert_int_equal(reply_tag(st2, 200, "s8"), 0);
	sip_trans_close_all(sip);
	fake_run_to(5000);
	assert_int_equal(fake_nsent, 17);
	loop_coalesce(0);
	assert_int_equal(e.n, 0);
	mem_deref(st);
	mem_deref(st2);
	fake_env_close(sip);
}


/* ---- non-INVITE ---- */

/* 17.2.2: Trying absorbs retransmissions silently, Proceeding answers
 * them with the last provisional, Completed with the final until Timer J
 * (64*T1). */
static void test_noninvite_timer_j(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(), &e);
	fake_run_to(1000);
	assert_true(feed(sip, REG()));
	assert_int_equal(fake_nsent, 0); /* no 100 Trying for non-INVITE */
	assert_int_equal(sip_strans_reply(st, 100, NULL), 0);
	assert_true(feed(sip, REG()));
	assert_int_equal(fake_nsent, 2);
	assert_string_equal(fake_sent[1].p, fake_sent[0].p);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	assert_null(sip_strans_req(st));
	assert_int_equal(sip_strans_reply(st, 200, NULL), EPROTO);
	assert_true(feed(sip, REG()));
	assert_int_equal(fake_nsent, 4);
	assert_true(fake_sent_starts(3, "SIP/2.0 200 "));
	assert_string_equal(fake_sent[3].p, fake_sent[2].p);
	fake_run_to(1000 + 31999);
	assert_int_equal(fake_nsent, 4); /* no retransmission on its own */
	assert_true(sip_strans_active(st));
	fake_run_to(1000 + 32000);
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, REG()));
	assert_int_equal(e.n, 0);
	mem_deref(st);
	fake_env_close(sip);
}


/* Timer J is zero over a reliable transport. */
static void test_noninvite_reliable(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(.tp = SIP_TRANSP_TLS), &e);
	assert_int_equal(reply_tag(st, 401, "r1"), 0);
	assert_false(sip_strans_active(st));
	assert_false(feed(sip, REG(.tp = SIP_TRANSP_TLS)));
	assert_int_equal(fake_nsent, 1);
	assert_int_equal(fake_sent[0].tp, SIP_TRANSP_TLS);
	mem_deref(st);
	fake_env_close(sip);
}


/* ---- matching (17.2.3) ---- */

/* Branch, sent-by and method; a request differing in any is new. */
static void test_match_3261(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(), &e);
	assert_true(feed(sip, REG()));
	assert_true(feed(sip, REG(.branch = "z9hG4bKST-TEST-1"))); /* 7.3.1 */
	assert_false(feed(sip, REG(.branch = "z9hG4bKst-test-2")));
	assert_false(feed(sip, REG(.sentby = "127.0.0.2:5071")));
	assert_false(feed(sip, REG(.sentby = "127.0.0.3:5070")));
	assert_false(feed(sip, ((struct rq){ .met = "OPTIONS" })));
	/* an ACK matches only an INVITE transaction */
	assert_false(feed(sip, ACK()));
	/* the other fields do not matter with a magic cookie */
	assert_true(feed(sip, REG(.callid = "other", .cseq = 99)));
	mem_deref(st);
	fake_env_close(sip);
}


/* RFC 2543 peers: Request-URI, To tag, From tag, Call-ID, CSeq, top Via;
 * the ACK carries the To tag of the response instead. */
static void test_match_2543(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st, *st2;

	(void)state;
	st = start(sip, INV(.branch = "-"), &e);
	assert_true(feed(sip, INV(.branch = "-")));
	/* 19.1.4: the host compares case-insensitively */
	assert_true(
		feed(sip, INV(.branch = "-", .ruri = "sip:bob@EXAMPLE.com")));
	assert_false(
		feed(sip, INV(.branch = "-", .ruri = "sip:carol@example.com")));
	assert_false(feed(sip, INV(.branch = "-", .callid = "c2@h")));
	assert_false(feed(sip, INV(.branch = "-", .fromtag = "a2")));
	assert_false(feed(sip, INV(.branch = "-", .totag = "x")));
	assert_false(feed(sip, INV(.branch = "-", .cseq = 8)));
	assert_false(feed(sip, INV(.branch = "-", .sentby = "127.0.0.2:5071")));
	/* a branch without the cookie is just part of the Via */
	assert_false(feed(sip, INV(.branch = "1234")));

	assert_int_equal(reply_tag(st, 486, "t2543"), 0);
	assert_true(feed(sip, INV(.branch = "-")));
	assert_int_equal(fake_nsent, 2);
	assert_false(feed(sip, ACK(.branch = "-", .totag = "other")));
	assert_false(feed(
		sip, ACK(.branch = "-", .totag = "t2543", .callid = "c2@h")));
	assert_true(feed(sip, ACK(.branch = "-", .totag = "t2543")));
	fake_run_to(100000);
	assert_int_equal(fake_nsent, 2); /* Confirmed: no more Timer G */
	assert_int_equal(e.n, 0);
	mem_deref(st);

	/* a CANCEL finds its INVITE by the same rules */
	st2 = start(sip, INV(.branch = "1234", .cseq = 20), &e);
	assert_false(feed(sip, CAN(.branch = "1234", .cseq = 21)));
	assert_true(feed(sip, CAN(.branch = "1234", .cseq = 20)));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.err[0], 0);
	assert_int_equal(e.meth[0], SIP_METHOD_CANCEL);
	/* and its retransmission is the CANCEL's own transaction */
	assert_true(feed(sip, CAN(.branch = "1234", .cseq = 20)));
	assert_int_equal(e.n, 1);
	assert_int_equal(fake_nsent, 4);
	assert_string_equal(fake_sent[3].p, fake_sent[2].p);
	mem_deref(st2);
	fake_env_close(sip);
}


/* ---- CANCEL (9.2) ---- */

static void check_cancel_200(size_t i, const char *tag)
{
	char want[64];

	assert_true(fake_sent_starts(i, "SIP/2.0 200 "));
	assert_true(fake_sent_has(i, "CSeq: 7 CANCEL\r\n"));
	(void)snprintf(want, sizeof(want),
		       "To: Bob <sip:bob@example.com>;tag=%s\r\n", tag);
	assert_true(fake_sent_has(i, want));
}


/* A CANCEL for a pending INVITE: 200 in its own transaction with the To
 * tag of the INVITE's responses, the TU told once; the 487 follows. */
static void test_cancel_pending(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 180, "s180"), 0);
	assert_false(feed(sip, CAN(.branch = "z9hG4bKnone")));
	assert_true(feed(sip, CAN()));
	assert_int_equal(fake_nsent, 2);
	check_cancel_200(1, "s180");
	assert_int_equal(e.n, 1);
	assert_int_equal(e.err[0], 0);
	assert_int_equal(e.meth[0], SIP_METHOD_CANCEL);
	assert_true(sip_strans_active(st));

	/* a retransmitted CANCEL gets its 200 again, the TU hears nothing */
	assert_true(feed(sip, CAN()));
	assert_int_equal(fake_nsent, 3);
	assert_string_equal(fake_sent[2].p, fake_sent[1].p);
	assert_int_equal(e.n, 1);

	assert_int_equal(reply_tag(st, 487, "s180"), 0);
	fake_run_to(2); /* held behind the 180 (test_final_spacing) */
	assert_true(fake_sent_starts(3, "SIP/2.0 487 "));
	assert_true(feed(sip, ACK(.totag = "s180")));
	fake_run_to(100000);
	assert_int_equal(fake_nsent, 4);
	assert_false(sip_strans_active(st));
	/* both transactions are gone: a late CANCEL matches nothing */
	assert_false(feed(sip, CAN()));
	mem_deref(st);
	fake_env_close(sip);
}


/* Before any response: the 200 carries the tag the builder will give
 * the INVITE's responses, so the 487 and the 200 agree. */
static void test_cancel_before_response(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;
	const char *p, *q;

	(void)state;
	st = start(sip, INV(), &e);
	assert_true(feed(sip, CAN()));
	assert_int_equal(e.n, 1);
	assert_int_equal(sip_strans_reply(st, 487, NULL), 0);
	assert_int_equal(fake_nsent, 2);
	p = strstr(fake_sent[0].p, "\r\nTo: ");
	q = strstr(fake_sent[1].p, "\r\nTo: ");
	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(strstr(p, ";tag="));
	assert_int_equal(strcspn(p + 2, "\r"), strcspn(q + 2, "\r"));
	assert_memory_equal(p, q, strcspn(p + 2, "\r"));
	fake_run_to(200); /* no 100 Trying after the final */
	assert_int_equal(fake_nsent, 2);
	mem_deref(st);
	fake_env_close(sip);
}


/* After the final response the CANCEL has no effect but its 200; for a
 * non-INVITE likewise (9.2). */
static void test_cancel_after_final(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st, *st2;

	(void)state;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 486, "s1"), 0);
	assert_true(feed(sip, CAN()));
	assert_int_equal(fake_nsent, 2);
	check_cancel_200(1, "s1");
	assert_int_equal(e.n, 0);
	mem_deref(st);

	st2 = start(sip,
		    ((struct rq){ .met = "OPTIONS", .branch = "z9hG4bKopt" }),
		    &e);
	assert_true(feed(sip, CAN(.branch = "z9hG4bKopt")));
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "SIP/2.0 200 "));
	assert_int_equal(e.n, 0);
	assert_true(sip_strans_active(st2));
	mem_deref(st2);
	fake_env_close(sip);
}


/* ---- the TU ---- */

/* Dropping the handle before a final abandons the request; after it,
 * the transaction lives on. */
static void test_drop_handle(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, INV(), &e);
	mem_deref(st);
	assert_int_equal(tmr_count(), 0); /* no 100 Trying pending */
	assert_false(feed(sip, INV()));

	st = start(sip, REG(), &e);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	mem_deref(st);
	assert_true(feed(sip, REG()));
	assert_int_equal(fake_nsent, 2);
	fake_env_close(sip);
}


/* The TU drops its handle, or closes everything, from its callback. */
static void test_reentrant_callbacks(void **state)
{
	struct ev e = { 0 }, e2 = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st, *st2;

	(void)state;
	st = start(sip, INV(), &e);
	e.drop = &st;
	assert_int_equal(reply_tag(st, 500, "s1"), 0);
	fake_run_to(32000); /* Timer H, the handle goes in the callback */
	assert_int_equal(e.n, 1);
	assert_null(st);

	st = start(sip, INV(), &e2);
	st2 = start(sip, INV(.branch = "z9hG4bKsecond"), &e2);
	e2.close = sip;
	assert_true(feed(sip, CAN()));
	assert_int_equal(e2.n, 1);
	assert_false(sip_strans_active(st));
	assert_false(sip_strans_active(st2));
	assert_int_equal(tmr_count(), 0);
	mem_deref(st);
	mem_deref(st2);
	fake_env_close(sip);
}


/* 17.2.4: transport errors end the transaction; the TU hears of them
 * from the return value or, for retransmissions, the callback. */
static void test_transport_error(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(), &e);
	fake_send_err = ECONNREFUSED;
	assert_int_equal(sip_strans_reply(st, 200, NULL), ECONNREFUSED);
	assert_false(sip_strans_active(st));
	mem_deref(st);

	fake_send_err = 0;
	st = start(sip, INV(), &e);
	assert_int_equal(reply_tag(st, 486, "s1"), 0);
	fake_send_err = ENETUNREACH;
	fake_run_to(500); /* Timer G */
	assert_int_equal(e.n, 1);
	assert_int_equal(e.err[0], ENETUNREACH);
	assert_false(sip_strans_active(st));
	mem_deref(st);

	st = start(sip, INV(), &e);
	fake_run_to(700); /* the 100 Trying fails */
	assert_int_equal(e.n, 2);
	assert_int_equal(e.err[1], ENETUNREACH);
	assert_false(sip_strans_active(st));
	mem_deref(st);
	fake_env_close(sip);
}


/* What sip_strans_alloc refuses. */
static void test_alloc_invalid(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st = NULL, *st2 = NULL;
	struct sip_msg *m;

	(void)state;
	m = mkreq(ACK());
	assert_int_equal(sip_strans_alloc(&st, sip, m, ev_h, &e), EINVAL);
	mem_deref(m);
	m = mkreq(REG());
	assert_int_equal(sip_strans_alloc(NULL, sip, m, ev_h, &e), EINVAL);
	assert_int_equal(sip_strans_alloc(&st, sip, m, ev_h, &e), 0);
	assert_int_equal(sip_strans_alloc(&st2, sip, m, ev_h, &e), EALREADY);
	assert_null(st2);
	assert_int_equal(sip_strans_reply(st, 99, NULL), EINVAL);
	assert_int_equal(sip_strans_reply(st, 700, NULL), EINVAL);
	assert_int_equal(sip_strans_retransmit(st), ENODATA);
	assert_int_equal(sip_strans_send_raw(st, 200, NULL, 0), EINVAL);
	mem_deref(m);
	mem_deref(st);
	assert_int_equal(fake_nsent, 0);
	fake_env_close(sip);
}


/* sip_trans_close_all(): every transaction ends, handles turn inactive. */
static void test_close_all(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *a, *b, *c;

	(void)state;
	a = start(sip, INV(), &e);
	b = start(sip, REG(.branch = "z9hG4bKb"), &e);
	c = start(sip, INV(.branch = "-"), &e);
	assert_int_equal(reply_tag(b, 200, "r1"), 0);
	assert_int_equal(reply_tag(c, 486, "r1"), 0);
	sip_trans_close_all(sip);
	assert_int_equal(tmr_count(), 0);
	assert_false(sip_strans_active(a));
	assert_false(sip_strans_active(b));
	assert_int_equal(sip_strans_reply(a, 200, NULL), ESRCH);
	assert_false(feed(sip, REG(.branch = "z9hG4bKb")));
	assert_int_equal(e.n, 0);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	fake_env_close(sip);
}


/* Through sip_recv(): the core sees a request once; retransmissions and
 * the ACK of a non-2xx stay in the transaction layer. */
static struct sip_strans *core_st;
static int core_calls;

static bool core_req_h(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct sip_msg *dup = NULL;

	(void)arg;
	core_calls++;
	if (msg->meth == SIP_METHOD_ACK)
		return true;
	assert_int_equal(sip_msg_dup(&dup, msg), 0);
	assert_int_equal(sip_strans_alloc(&core_st, sip, dup, NULL, NULL), 0);
	mem_deref(dup);
	assert_int_equal(sip_strans_reply(core_st, 404, NULL), 0);
	return true;
}

/* What a UDP transport hands sip_recv() for a built message. */
static struct sip_rx rx_of(const struct sip_msg *m)
{
	struct sip_rx rx;

	memset(&rx, 0, sizeof(rx));
	rx.p = m->p;
	rx.len = m->len;
	rx.tp = SIP_TRANSP_UDP;
	rx.dgram = true;
	rx.src = m->src;
	rx.dst = m->dst;
	return rx;
}

static void test_via_sip_recv(void **state)
{
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_msg *m = mkreq(INV());
	struct sip_rx rx;

	(void)state;
	sip->reqh = core_req_h;
	core_calls = 0;
	rx = rx_of(m);
	sip_recv(&rx, sip);
	assert_int_equal(core_calls, 1);
	assert_int_equal(fake_nsent, 1);
	assert_true(fake_sent_starts(0, "SIP/2.0 404 "));
	sip_recv(&rx, sip);
	assert_int_equal(core_calls, 1);
	assert_int_equal(fake_nsent, 2);
	mem_deref(m);
	core_st = mem_deref(core_st);
	fake_env_close(sip);
}


/* ---- the retransmission cache (rcache.c) ---- */

/* A non-INVITE answered over UDP: the transaction ends at once and its
 * Completed state is a cache entry that answers retransmissions with the
 * same bytes, to the same place, until Timer J (17.2.2); one timer for
 * the cache, none per transaction. */
static void test_cached_completed(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st, *st2 = NULL;
	struct sip_msg *m;

	(void)state;
	st = start(sip, REG(), &e);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	mem_deref(st);
	assert_int_equal(sip->strans->n, 0);
	assert_int_equal(sip->stats.rcache.entries, 1);
	assert_int_equal(tmr_count(), 1);

	fake_run_to(31999);
	assert_true(feed(sip, REG(.branch = "z9hG4bKST-TEST-1"))); /* 7.3.1 */
	assert_int_equal(fake_nsent, 2);
	assert_int_equal(fake_sent[1].len, fake_sent[0].len);
	assert_memory_equal(fake_sent[1].p, fake_sent[0].p, fake_sent[0].len);
	assert_true(sa_eq(&fake_sent[1].dst, &fake_sent[0].dst));
	assert_int_equal(fake_sent[1].tp, SIP_TRANSP_UDP);
	assert_int_equal(sip->stats.retrans_absorbed, 1);
	assert_int_equal(sip->stats.rcache.hits, 1);

	/* the request still has its transaction */
	m = mkreq(REG());
	assert_int_equal(sip_strans_alloc(&st2, sip, m, NULL, NULL), EALREADY);
	assert_int_equal(sip_strans_alloc_bare(&st2, sip, m), EALREADY);
	assert_null(st2);
	mem_deref(m);
	/* a request differing in sent-by or method is new (17.2.3) */
	assert_false(feed(sip, REG(.sentby = "127.0.0.2:5071")));
	assert_false(feed(sip, REG(.sentby = "127.0.0.3:5070")));
	assert_false(feed(sip, ((struct rq){ .met = "OPTIONS" })));
	assert_false(feed(sip, ACK()));
	assert_int_equal(fake_nsent, 2);

	/* Timer J: gone, and the cache's timer with it */
	fake_run_to(32000);
	assert_false(feed(sip, REG()));
	assert_int_equal(sip->stats.rcache.entries, 0);
	assert_int_equal(tmr_count(), 0);
	assert_int_equal(e.n, 0);
	fake_env_close(sip);
}


/* The TU's handle of a cached transaction behaves as before: active until
 * Timer J, later responses refused (EPROTO), sip_strans_retransmit sends
 * the stored bytes; sip_trans_close_all ends it; a handle may outlive the
 * stack. */
static void test_cached_handle(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(), &e);
	assert_int_equal(reply_tag(st, 404, "r1"), 0);
	assert_true(sip_strans_active(st));
	assert_null(sip_strans_req(st));
	assert_int_equal(sip_strans_reply(st, 200, NULL), EPROTO);
	assert_int_equal(sip_strans_send_raw(st, 200, "x", 1), EPROTO);
	assert_int_equal(sip_strans_retransmit(st), 0);
	assert_int_equal(fake_nsent, 2);
	assert_memory_equal(fake_sent[1].p, fake_sent[0].p, fake_sent[0].len);
	sip_trans_close_all(sip);
	assert_false(sip_strans_active(st));
	assert_int_equal(sip_strans_reply(st, 200, NULL), ESRCH);
	assert_int_equal(sip_strans_retransmit(st), ESRCH);
	assert_false(feed(sip, REG()));
	assert_int_equal(tmr_count(), 0);
	mem_deref(st);

	st = start(sip, REG(.branch = "z9hG4bKlate"), &e);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	fake_env_close(sip);
	assert_false(sip_strans_active(st));
	assert_int_equal(sip_strans_retransmit(st), ESRCH);
	assert_int_equal(e.n, 0);
	mem_deref(st);
}


/* A CANCEL naming a non-INVITE whose Completed state is cached: as before
 * the cache, 200 with the To tag of its final response and no effect
 * (9.2); the CANCEL's own retransmission is answered from the cache; past
 * Timer J it matches nothing (the core answers 481). */
static void test_cancel_cached(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip,
		   ((struct rq){ .met = "OPTIONS", .branch = "z9hG4bKopt" }),
		   &e);
	assert_int_equal(reply_tag(st, 200, "o1"), 0);
	assert_true(feed(sip, CAN(.branch = "z9hG4bKopt")));
	assert_int_equal(fake_nsent, 2);
	check_cancel_200(1, "o1");
	assert_int_equal(e.n, 0);
	assert_true(sip_strans_active(st));
	assert_int_equal(sip->stats.rcache.entries, 2);
	assert_int_equal(sip->strans->n, 0);

	assert_true(feed(sip, CAN(.branch = "z9hG4bKopt")));
	assert_int_equal(fake_nsent, 3);
	assert_memory_equal(fake_sent[2].p, fake_sent[1].p, fake_sent[1].len);
	assert_int_equal(sip->stats.rcache.hits, 1);
	/* the OPTIONS itself is still answered with its 200 */
	assert_true(feed(sip, ((struct rq){ .met = "OPTIONS",
					    .branch = "z9hG4bKopt" })));
	assert_int_equal(fake_nsent, 4);
	assert_memory_equal(fake_sent[3].p, fake_sent[0].p, fake_sent[0].len);

	fake_run_to(32000);
	assert_false(feed(sip, CAN(.branch = "z9hG4bKopt")));
	assert_int_equal(e.n, 0);
	mem_deref(st);
	fake_env_close(sip);
}


/* 17.2.4: a transport error on a retransmission from the cache ends the
 * transaction; the next copy of the request is new. */
static void test_cached_transport_error(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st;

	(void)state;
	st = start(sip, REG(), &e);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	fake_send_err = ENETUNREACH;
	assert_true(feed(sip, REG()));
	assert_int_equal(sip->stats.tx_errors, 1);
	assert_false(sip_strans_active(st));
	fake_send_err = 0;
	assert_false(feed(sip, REG()));
	assert_int_equal(e.n, 0);
	mem_deref(st);
	fake_env_close(sip);
}


/* RFC 2543 keys, INVITEs and reliable transports keep today's path: the
 * first two stay in the live table, the last ends at once. */
static void test_not_cached(void **state)
{
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_strans *st, *inv, *tls;

	(void)state;
	st = start(sip, REG(.branch = "-"), &e);
	inv = start(sip, INV(.branch = "z9hG4bKinv"), &e);
	tls = start(sip, REG(.branch = "z9hG4bKtls", .tp = SIP_TRANSP_TLS), &e);
	assert_int_equal(reply_tag(st, 200, "r1"), 0);
	assert_int_equal(reply_tag(inv, 486, "r1"), 0);
	assert_int_equal(reply_tag(tls, 200, "r1"), 0);
	assert_int_equal(sip->strans->n, 2);
	assert_int_equal(sip->stats.rcache.entries, 0);
	assert_int_equal(sip->stats.rcache.inserts, 0);
	assert_true(feed(sip, REG(.branch = "-")));
	assert_int_equal(fake_nsent, 4);
	assert_memory_equal(fake_sent[3].p, fake_sent[0].p, fake_sent[0].len);
	assert_false(
		feed(sip, REG(.branch = "z9hG4bKtls", .tp = SIP_TRANSP_TLS)));
	assert_true(feed(sip, ACK(.branch = "z9hG4bKinv")));
	fake_run_to(32000);
	assert_int_equal(sip->strans->n, 0);
	assert_false(feed(sip, REG(.branch = "-")));
	mem_deref(st);
	mem_deref(inv);
	mem_deref(tls);
	fake_env_close(sip);
}


/* Many completed transactions: far less memory each than a transaction
 * object with its response, and none in the live table. */
static void test_cached_is_small(void **state)
{
	enum {
		N = 5000
	};
	struct ev e = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	size_t before, per, resp_len = 0;
	char br[32];
	int i;

	(void)state;
	before = mem_live_bytes();
	for (i = 0; i < N; i++) {
		struct sip_strans *st;

		(void)snprintf(br, sizeof(br), "z9hG4bKreg%d", i);
		st = start(sip, REG(.branch = br), &e);
		assert_int_equal(reply_tag(st, 200, "r1"), 0);
		mem_deref(st);
		resp_len = fake_sent[0].len;
		fake_nsent = 0;
	}
	per = (mem_live_bytes() - before) / N;
	print_message("cached completed transaction: %zu bytes (response "
		      "%zu), %llu chunks\n",
		      per, resp_len,
		      (unsigned long long)sip->stats.rcache.chunks);
	assert_int_equal(sip->strans->n, 0);
	assert_int_equal(sip->stats.rcache.entries, N);
	assert_true(per < resp_len + 160);
	assert_true(per < sizeof(struct sip_msg) / 8);
	for (i = 0; i < N; i += 499) {
		(void)snprintf(br, sizeof(br), "z9hG4bKreg%d", i);
		assert_true(feed(sip, REG(.branch = br)));
	}
	fake_env_close(sip);
}


/* Through sip_recv(): the core sees a REGISTER once; its retransmission
 * after the final response is answered from the cache. */
static void test_via_sip_recv_cached(void **state)
{
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_msg *m = mkreq(REG());
	struct sip_rx rx;

	(void)state;
	sip->reqh = core_req_h;
	core_calls = 0;
	rx = rx_of(m);
	sip_recv(&rx, sip);
	assert_int_equal(core_calls, 1);
	assert_int_equal(fake_nsent, 1);
	assert_true(fake_sent_starts(0, "SIP/2.0 404 "));
	core_st = mem_deref(core_st);
	sip_recv(&rx, sip);
	sip_recv(&rx, sip);
	assert_int_equal(core_calls, 1);
	assert_int_equal(fake_nsent, 3);
	assert_memory_equal(fake_sent[2].p, fake_sent[0].p, fake_sent[0].len);
	assert_int_equal(sip->stats.rcache.hits, 2);
	mem_deref(m);
	fake_env_close(sip);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, mem_mark, mem_expect_no_leaks)
		T(test_invite_100_trying),
		T(test_invite_tu_answers),
		T(test_invite_timer_g_h),
		T(test_invite_ack_timer_i),
		T(test_invite_reliable),
		T(test_invite_accepted_timer_l),
		T(test_final_spacing),
		T(test_noninvite_timer_j),
		T(test_noninvite_reliable),
		T(test_match_3261),
		T(test_match_2543),
		T(test_cancel_pending),
		T(test_cancel_before_response),
		T(test_cancel_after_final),
		T(test_drop_handle),
		T(test_reentrant_callbacks),
		T(test_transport_error),
		T(test_alloc_invalid),
		T(test_close_all),
		T(test_via_sip_recv),
		T(test_cached_completed),
		T(test_cached_handle),
		T(test_cancel_cached),
		T(test_cached_transport_error),
		T(test_not_cached),
		T(test_cached_is_small),
		T(test_via_sip_recv_cached),
#undef T
	};

	return cmocka_run_group_tests_name("sip_strans", tests, NULL, NULL);
}
