/**
 * @file test_sip_ctrans.c  Client transactions (RFC 3261 17.1, 9.1, RFC
 * 6026): every state and timer of the INVITE and non-INVITE machines,
 * the ACK the transaction builds, CANCEL, and dropping the handle.
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

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "util/fakesip.h"

#define BRANCH   "z9hG4bKct-test-1"
#define BRANCH_2 "z9hG4bKct-test-2"

/* What the TU saw. */
struct rec {
	int n;
	int err[32];
	uint16_t scode[32];
	struct sip_ctrans **drop; /* drop this handle on a final response */
	struct sip *close;        /* close all transactions on any call */
};

static void resp_h(int err, struct sip_msg *msg, void *arg)
{
	struct rec *r = arg;

	assert_true(r->n < 32);
	r->err[r->n] = err;
	r->scode[r->n] = msg ? msg->scode : 0;
	r->n++;
	if (r->drop && (err || (msg && msg->scode >= 200)))
		*r->drop = mem_deref(*r->drop);
	if (r->close)
		sip_trans_close_all(r->close);
}


static char reqbuf[2048];

static const char *mkreq(const char *met, const char *branch)
{
	int n = snprintf(reqbuf, sizeof(reqbuf),
			 "%s sip:bob@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s;rport\r\n"
			 "Route: <sip:p1.example.com;lr>\r\n"
			 "Route: <sip:p2.example.com;lr>, "
			 "<sip:p3.example.com;lr>\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: Alice <sip:alice@example.com>;tag=a1\r\n"
			 "To: Bob <sip:bob@example.com>\r\n"
			 "Call-ID: c1@127.0.0.1\r\n"
			 "CSeq: 7 %s\r\n"
			 "Contact: <sip:alice@127.0.0.1>\r\n"
			 "Content-Length: 0\r\n\r\n",
			 met, branch, met);
	assert_true(n > 0 && (size_t)n < sizeof(reqbuf));
	return reqbuf;
}


static struct sip_ctrans *start(struct sip *sip, const char *met,
				enum sip_transp tp, struct rec *r)
{
	struct sip_ctrans_opts o;
	struct sip_ctrans *ct = NULL;

	memset(&o, 0, sizeof(o));
	o.req = mkreq(met, BRANCH);
	o.len = strlen(o.req);
	pl_set_str(&o.met, met);
	pl_set_str(&o.branch, BRANCH);
	o.tp = tp;
	assert_int_equal(sa_set_str(&o.dst, "127.0.0.1", 5070), 0);
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, r), 0);
	assert_non_null(ct);
	return ct;
}


static char respbuf[2048];
static struct sip_msg resp;

/* Feed a response to the transaction layer; returns sip_ctrans_recv(). */
static bool feed(struct sip *sip, uint16_t scode, const char *met,
		 const char *branch, const char *totag)
{
	struct sip_msg_err merr;
	int n = snprintf(respbuf, sizeof(respbuf),
			 "SIP/2.0 %u Whatever\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s;rport\r\n"
			 "From: Alice <sip:alice@example.com>;tag=a1\r\n"
			 "To: Bob <sip:bob@example.com>%s%s\r\n"
			 "Call-ID: c1@127.0.0.1\r\n"
			 "CSeq: 7 %s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 scode, branch, totag ? ";tag=" : "",
			 totag ? totag : "", met);

	assert_true(n > 0 && (size_t)n < sizeof(respbuf));
	assert_int_equal(sip_msg_decode(&resp, respbuf, (size_t)n, true, &merr),
			 0);
	return sip_ctrans_recv(sip, &resp);
}


/* ---- INVITE ---- */

/* 17.1.1.2: Timer A doubles from T1 with no ceiling; Timer B ends
 * Calling at 64*T1 with a timeout for the TU. */
static void test_invite_timer_a_b(void **state)
{
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;
	size_t i;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	fake_run_to(31999);
	assert_int_equal(r.n, 0);
	assert_true(sip_ctrans_active(ct));
	fake_run_to(32000);
	assert_int_equal(fake_nsent, 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(fake_sent[i].t, at[i]);
		assert_true(fake_sent_starts(i, "INVITE sip:bob@example.com"));
	}
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err[0], ETIMEDOUT);
	assert_false(sip_ctrans_active(ct));
	/* a late response matches nothing */
	assert_false(feed(sip, 180, "INVITE", BRANCH, "b1"));
	mem_deref(ct);
	fake_env_close(sip);
}


/* 17.1.1.2: no Timer A over a reliable transport; Timer B still runs */
static void test_invite_reliable_timer_b(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_TCP, &r);
	fake_run_to(32000);
	assert_int_equal(fake_nsent, 1);
	assert_int_equal(fake_sent[0].tp, SIP_TRANSP_TCP);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err[0], ETIMEDOUT);
	mem_deref(ct);
	fake_env_close(sip);
}


/* 17.1.1.2: a provisional response moves to Proceeding: no more
 * retransmissions and no Timer B (the TU's Timer C takes over). */
static void test_invite_proceeding(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	fake_run_to(600);
	assert_int_equal(fake_nsent, 2);
	assert_true(feed(sip, 100, "INVITE", BRANCH, NULL));
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.scode[0], 100);
	assert_int_equal(r.scode[1], 180);
	fake_run_to(200000);
	assert_int_equal(fake_nsent, 2);
	assert_int_equal(r.n, 2);
	assert_true(sip_ctrans_active(ct));
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_int_equal(r.n, 3);
	mem_deref(ct); /* abandons: sends the CANCEL, RFC 3261 9.1 */
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "CANCEL "));
	fake_env_close(sip);
}


static void check_ack(const char *p, const char *totag)
{
	struct sip_msg *ack;
	struct sip_msg_err merr;
	const struct sip_hdr *h;
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	const struct sip_addr *to;
	struct sip_hdr_iter it = { 0 };
	struct pl v, cid;
	int n = 0;

	ack = mem_zalloc(sizeof(*ack), NULL);
	assert_non_null(ack);
	assert_int_equal(sip_msg_decode(ack, p, strlen(p), true, &merr), 0);
	assert_int_equal(sip_msg_validate(ack, &merr), 0);
	assert_true(ack->req);
	assert_int_equal(ack->meth, SIP_METHOD_ACK);
	/* 17.1.1.3: the Request-URI of the request */
	assert_true(pl_eq_str(&ack->ruri, "sip:bob@example.com"));
	/* a single Via, the request's top Via with its branch */
	assert_int_equal(ack->nlines[SIP_HDR_VIA], 1);
	assert_int_equal(sip_msg_via(ack, &via), 0);
	assert_true(pl_eq_str(&via->branch, BRANCH));
	assert_true(pl_eq_str(&via->val,
			      "SIP/2.0/UDP 127.0.0.1:5060;branch=" BRANCH
			      ";rport"));
	/* the Route header fields of the request, in order */
	while (sip_msg_hdr_value_next(ack, SIP_HDR_ROUTE, &it, &v)) {
		static const char *const want[] = { "<sip:p1.example.com;lr>",
						    "<sip:p2.example.com;lr>",
						    "<sip:p3.example.com;lr>" };
		assert_true(n < 3 && pl_eq_str(&v, want[n]));
		n++;
	}
	assert_int_equal(n, 3);
	h = sip_msg_hdr(ack, SIP_HDR_FROM);
	assert_non_null(h);
	assert_true(pl_eq_str(&h->val, "Alice <sip:alice@example.com>;tag=a1"));
	/* To from the response, with its tag */
	assert_int_equal(sip_msg_to(ack, &to), 0);
	assert_true(pl_eq_str(&to->tag, totag));
	assert_int_equal(sip_msg_callid(ack, &cid), 0);
	assert_true(pl_eq_str(&cid, "c1@127.0.0.1"));
	/* the CSeq number of the request, method ACK */
	assert_int_equal(sip_msg_cseq(ack, &cseq), 0);
	assert_int_equal(cseq->num, 7);
	assert_true(pl_eq_str(&cseq->met, "ACK"));
	assert_null(sip_msg_hdr(ack, SIP_HDR_CONTACT));
	assert_int_equal(ack->body.l, 0);
	mem_deref(ack);
}


/* 17.1.1.2/17.1.1.3: a non-2xx final is ACKed by the transaction, then
 * Completed absorbs retransmissions (re-sending the ACK) for Timer D. */
static void test_invite_non2xx_ack_timer_d(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	fake_run_to(100);
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	fake_run_to(200);
	assert_true(feed(sip, 486, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "ACK sip:bob@example.com SIP/2.0\r\n"));
	check_ack(fake_sent[1].p, "b1");
	assert_int_equal(r.n, 2);
	assert_int_equal(r.scode[1], 486);

	/* a retransmitted final: ACK again, nothing to the TU */
	fake_run_to(1000);
	assert_true(feed(sip, 486, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 3);
	assert_string_equal(fake_sent[2].p, fake_sent[1].p);
	assert_int_equal(r.n, 2);
	/* nor provisional responses */
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_int_equal(r.n, 2);
	assert_true(sip_ctrans_active(ct));

	/* Timer D: 32 s after the final */
	fake_run_to(200 + 31999);
	assert_true(sip_ctrans_active(ct));
	fake_run_to(200 + 32000);
	assert_false(sip_ctrans_active(ct));
	assert_false(feed(sip, 486, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 3);
	assert_int_equal(r.n, 2);
	mem_deref(ct);
	fake_env_close(sip);
}


/* Timer D is zero over a reliable transport. */
static void test_invite_non2xx_reliable(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_TLS, &r);
	assert_true(feed(sip, 603, "INVITE", BRANCH, "b9"));
	assert_int_equal(fake_nsent, 2);
	check_ack(fake_sent[1].p, "b9");
	assert_int_equal(fake_sent[1].tp, SIP_TRANSP_TLS);
	assert_false(sip_ctrans_active(ct));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode[0], 603);
	assert_false(feed(sip, 603, "INVITE", BRANCH, "b9"));
	mem_deref(ct);
	fake_env_close(sip);
}


/* RFC 6026 8.4: a 2xx moves to Accepted; the transaction sends no ACK,
 * passes every 2xx up for Timer M, and absorbs anything else. */
static void test_invite_2xx_accepted_timer_m(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	fake_run_to(700); /* one retransmission at 500 */
	assert_true(feed(sip, 200, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 2);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode[0], 200);
	fake_run_to(10000); /* no more Timer A */
	assert_int_equal(fake_nsent, 2);
	/* retransmission, and the 2xx of another fork */
	assert_true(feed(sip, 200, "INVITE", BRANCH, "b1"));
	assert_true(feed(sip, 200, "INVITE", BRANCH, "b2"));
	assert_int_equal(r.n, 3);
	/* not a 2xx: absorbed */
	assert_true(feed(sip, 486, "INVITE", BRANCH, "b3"));
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b3"));
	assert_int_equal(r.n, 3);
	assert_int_equal(fake_nsent, 2);
	/* a final came: CANCEL does nothing */
	assert_int_equal(sip_ctrans_cancel(ct), 0);
	assert_int_equal(fake_nsent, 2);

	fake_run_to(700 + 31999);
	assert_true(sip_ctrans_active(ct));
	fake_run_to(700 + 32000);
	assert_false(sip_ctrans_active(ct));
	/* the end of Accepted is reported: no response, no error */
	assert_int_equal(r.n, 4);
	assert_int_equal(r.err[3], 0);
	assert_int_equal(r.scode[3], 0);
	assert_false(feed(sip, 200, "INVITE", BRANCH, "b1"));
	assert_int_equal(r.n, 4);
	mem_deref(ct);
	fake_env_close(sip);
}


/* ---- non-INVITE ---- */

/* 17.1.2.2: Timer E doubles from T1 up to T2; Timer F times out. */
static void test_noninvite_timer_e_f(void **state)
{
	static const uint64_t at[] = { 0,     500,   1500,  3500,  7500, 11500,
				       15500, 19500, 23500, 27500, 31500 };
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;
	size_t i;

	(void)state;
	ct = start(sip, "OPTIONS", SIP_TRANSP_UDP, &r);
	fake_run_to(31999);
	assert_int_equal(r.n, 0);
	fake_run_to(32000);
	assert_int_equal(fake_nsent, 11);
	for (i = 0; i < 11; i++) {
		assert_int_equal(fake_sent[i].t, at[i]);
		assert_true(fake_sent_starts(i, "OPTIONS "));
	}
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err[0], ETIMEDOUT);
	assert_false(sip_ctrans_active(ct));
	mem_deref(ct);
	fake_env_close(sip);
}


/* 17.1.2.2: in Proceeding, Timer E is reset to T2; F keeps running. */
static void test_noninvite_proceeding_t2(void **state)
{
	static const uint64_t at[] = { 0,     500,   1500,  5500,  9500,
				       13500, 17500, 21500, 25500, 29500 };
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;
	size_t i;

	(void)state;
	ct = start(sip, "REGISTER", SIP_TRANSP_UDP, &r);
	fake_run_to(600);
	assert_true(feed(sip, 100, "REGISTER", BRANCH, NULL));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode[0], 100);
	fake_run_to(32000);
	assert_int_equal(fake_nsent, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(fake_sent[i].t, at[i]);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.err[1], ETIMEDOUT);
	mem_deref(ct);
	fake_env_close(sip);
}


/* 17.1.2.2: a final moves to Completed, which absorbs retransmitted
 * responses for Timer K (T4). */
static void test_noninvite_completed_timer_k(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "REGISTER", SIP_TRANSP_UDP, &r);
	fake_run_to(100);
	assert_true(feed(sip, 401, "REGISTER", BRANCH, "r1"));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode[0], 401);
	assert_true(feed(sip, 401, "REGISTER", BRANCH, "r1"));
	assert_true(feed(sip, 200, "REGISTER", BRANCH, "r1"));
	assert_int_equal(r.n, 1);
	fake_run_to(100 + 4999);
	assert_true(sip_ctrans_active(ct));
	assert_int_equal(fake_nsent, 1); /* no retransmission after the final */
	fake_run_to(100 + 5000);
	assert_false(sip_ctrans_active(ct));
	assert_false(feed(sip, 401, "REGISTER", BRANCH, "r1"));
	mem_deref(ct);
	fake_env_close(sip);
}


/* Timer K is zero over a reliable transport; no Timer E either. */
static void test_noninvite_reliable(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "MESSAGE", SIP_TRANSP_TCP, &r);
	fake_run_to(20000);
	assert_int_equal(fake_nsent, 1);
	assert_true(feed(sip, 202, "MESSAGE", BRANCH, "m1"));
	assert_false(sip_ctrans_active(ct));
	assert_int_equal(r.n, 1);
	assert_false(feed(sip, 202, "MESSAGE", BRANCH, "m1"));
	mem_deref(ct);
	fake_env_close(sip);
}


/* 17.1.3: the top Via branch and the CSeq method select the transaction */
static void test_matching(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "OPTIONS", SIP_TRANSP_UDP, &r);
	assert_false(feed(sip, 200, "OPTIONS", BRANCH_2, "x"));
	assert_false(feed(sip, 200, "INFO", BRANCH, "x"));
	assert_false(feed(sip, 200, "options", BRANCH, "x"));
	assert_int_equal(r.n, 0);
	/* parameter values compare case-insensitively (7.3.1) */
	assert_true(feed(sip, 200, "OPTIONS", "z9hG4bKCT-TEST-1", "x"));
	assert_int_equal(r.n, 1);
	mem_deref(ct);
	fake_env_close(sip);
}


/* ---- CANCEL (9.1) ---- */

static void check_cancel(const char *p)
{
	struct sip_msg *c;
	struct sip_msg_err merr;
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	const struct sip_addr *to;

	c = mem_zalloc(sizeof(*c), NULL);
	assert_non_null(c);
	assert_int_equal(sip_msg_decode(c, p, strlen(p), true, &merr), 0);
	assert_int_equal(sip_msg_validate(c, &merr), 0);
	assert_int_equal(c->meth, SIP_METHOD_CANCEL);
	assert_true(pl_eq_str(&c->ruri, "sip:bob@example.com"));
	assert_int_equal(c->nlines[SIP_HDR_VIA], 1);
	assert_int_equal(sip_msg_via(c, &via), 0);
	assert_true(pl_eq_str(&via->branch, BRANCH));
	assert_int_equal(c->nlines[SIP_HDR_ROUTE], 2);
	/* the request's To, without the tag of any response */
	assert_int_equal(sip_msg_to(c, &to), 0);
	assert_int_equal(to->tag.l, 0);
	assert_int_equal(sip_msg_cseq(c, &cseq), 0);
	assert_int_equal(cseq->num, 7);
	assert_true(pl_eq_str(&cseq->met, "CANCEL"));
	mem_deref(c);
}


/* Asked before any provisional response: sent on the first one. */
static void test_cancel_before_provisional(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	assert_int_equal(sip_ctrans_cancel(ct), 0);
	fake_run_to(600);
	assert_int_equal(fake_nsent, 2); /* INVITE twice, no CANCEL yet */
	assert_true(fake_sent_starts(1, "INVITE "));
	assert_true(feed(sip, 100, "INVITE", BRANCH, NULL));
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "CANCEL sip:bob@example.com SIP/2.0"));
	check_cancel(fake_sent[2].p);
	/* asking again sends nothing */
	assert_int_equal(sip_ctrans_cancel(ct), 0);
	assert_int_equal(fake_nsent, 3);

	/* the CANCEL has its own non-INVITE transaction (Timer E) */
	fake_run_to(600 + 500);
	assert_int_equal(fake_nsent, 4);
	assert_true(fake_sent_starts(3, "CANCEL "));
	assert_true(feed(sip, 200, "CANCEL", BRANCH, "b1"));
	assert_int_equal(r.n, 1); /* the 100 only */
	/* the INVITE ends with its 487, ACKed */
	assert_true(feed(sip, 487, "INVITE", BRANCH, "b1"));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.scode[1], 487);
	assert_int_equal(fake_nsent, 5);
	assert_true(fake_sent_starts(4, "ACK "));
	fake_run_to(100000);
	assert_int_equal(fake_nsent, 5);
	assert_false(sip_ctrans_active(ct));
	mem_deref(ct);
	fake_env_close(sip);
}


/* After a provisional: at once.  No final within 64*T1: the INVITE
 * transaction ends with a timeout (9.1). */
static void test_cancel_after_provisional(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	assert_true(feed(sip, 183, "INVITE", BRANCH, "b1"));
	fake_run_to(5000);
	assert_int_equal(sip_ctrans_cancel(ct), 0);
	assert_int_equal(fake_nsent, 2);
	check_cancel(fake_sent[1].p);
	fake_run_to(5000 + 31999);
	assert_int_equal(r.n, 1);
	assert_true(sip_ctrans_active(ct));
	fake_run_to(5000 + 32000);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.err[1], ETIMEDOUT);
	assert_false(sip_ctrans_active(ct));
	mem_deref(ct);
	fake_env_close(sip);
}


/* After a final response: nothing; a non-INVITE: refused. */
static void test_cancel_after_final(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct, *ct2;
	struct sip_ctrans_opts o;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_true(feed(sip, 404, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 2); /* INVITE, ACK */
	assert_int_equal(sip_ctrans_cancel(ct), 0);
	assert_int_equal(fake_nsent, 2);
	mem_deref(ct);
	assert_int_equal(fake_nsent, 2);

	memset(&o, 0, sizeof(o));
	o.req = mkreq("OPTIONS", BRANCH_2);
	o.len = strlen(o.req);
	o.tp = SIP_TRANSP_UDP;
	assert_int_equal(sa_set_str(&o.dst, "127.0.0.1", 5070), 0);
	assert_int_equal(sip_ctrans_alloc(&ct2, sip, &o, resp_h, &r), 0);
	assert_int_equal(sip_ctrans_cancel(ct2), EINVAL);
	mem_deref(ct2);
	fake_env_close(sip);
}


/* ---- the TU lets go ---- */

/* Dropping an INVITE handle cancels it; no callback runs afterwards, and
 * the transaction still ACKs the 487. */
static void test_drop_invite_handle(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	mem_deref(ct); /* Calling: the CANCEL waits for a provisional */
	assert_int_equal(fake_nsent, 1);
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "CANCEL "));
	assert_true(feed(sip, 200, "CANCEL", BRANCH, "b1"));
	assert_true(feed(sip, 487, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "ACK "));
	assert_int_equal(r.n, 0);
	fake_run_to(100000);
	fake_env_close(sip);
}


/* A non-INVITE runs on without its TU until the final response. */
static void test_drop_noninvite_handle(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "OPTIONS", SIP_TRANSP_UDP, &r);
	mem_deref(ct);
	fake_run_to(1600);
	assert_int_equal(fake_nsent, 3);
	assert_true(feed(sip, 200, "OPTIONS", BRANCH, "o1"));
	assert_true(feed(sip, 200, "OPTIONS", BRANCH, "o1"));
	assert_int_equal(r.n, 0);
	fake_run_to(100000);
	assert_int_equal(fake_nsent, 3);
	fake_env_close(sip);
}


/* The TU drops the handle, or closes everything, inside its callback. */
static void test_drop_in_callback(void **state)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	r.drop = &ct;
	assert_true(feed(sip, 500, "INVITE", BRANCH, "b1"));
	assert_null(ct);
	assert_int_equal(r.n, 1);
	assert_true(fake_sent_starts(1, "ACK "));
	/* Completed goes on without the handle */
	assert_true(feed(sip, 500, "INVITE", BRANCH, "b1"));
	assert_int_equal(fake_nsent, 3);
	fake_run_to(40000);

	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r2);
	r2.close = sip;
	assert_true(feed(sip, 180, "INVITE", BRANCH, "b1"));
	assert_int_equal(r2.n, 1);
	assert_false(sip_ctrans_active(ct));
	assert_int_equal(tmr_count(), 0);
	mem_deref(ct);
	fake_env_close(sip);
}


/* sip_trans_close_all() ends running transactions without callbacks. */
static void test_close_all(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *a, *b;
	struct sip_ctrans_opts o;

	(void)state;
	a = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	memset(&o, 0, sizeof(o));
	o.req = mkreq("SUBSCRIBE", BRANCH_2);
	o.len = strlen(o.req);
	o.tp = SIP_TRANSP_UDP;
	assert_int_equal(sa_set_str(&o.dst, "127.0.0.1", 5070), 0);
	assert_int_equal(sip_ctrans_alloc(&b, sip, &o, resp_h, &r), 0);
	assert_int_equal(sip_ctrans_alloc(NULL, sip, &o, resp_h, &r), 0);
	assert_true(tmr_count() > 0);
	sip_trans_close_all(sip);
	assert_int_equal(tmr_count(), 0);
	assert_false(sip_ctrans_active(a));
	assert_false(sip_ctrans_active(b));
	assert_int_equal(sip_ctrans_cancel(a), 0);
	assert_int_equal(r.n, 0);
	mem_deref(a);
	mem_deref(b);
	fake_env_close(sip);
}


/* 17.1.4: a transport error ends the transaction and tells the TU; on
 * the first send, the transaction is not created. */
static void test_transport_error(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct = NULL;
	struct sip_ctrans_opts o;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	fake_send_err = EHOSTUNREACH;
	fake_run_to(500);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err[0], EHOSTUNREACH);
	assert_false(sip_ctrans_active(ct));
	assert_int_equal(tmr_count(), 0);
	ct = mem_deref(ct);

	memset(&o, 0, sizeof(o));
	o.req = mkreq("OPTIONS", BRANCH_2);
	o.len = strlen(o.req);
	o.tp = SIP_TRANSP_UDP;
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r),
			 EHOSTUNREACH);
	assert_null(ct);
	assert_int_equal(r.n, 1);
	fake_env_close(sip);
}


/* What sip_ctrans_alloc refuses. */
static void test_alloc_invalid(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct = NULL;
	struct sip_ctrans_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.tp = SIP_TRANSP_UDP;
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	/* 17.1: the ACK of a 2xx has no transaction */
	o.req = mkreq("ACK", BRANCH);
	o.len = strlen(o.req);
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	/* a branch without the magic cookie is not ours */
	o.req = mkreq("OPTIONS", "abc123");
	o.len = strlen(o.req);
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	/* opts that contradict the request */
	o.req = mkreq("OPTIONS", BRANCH);
	o.len = strlen(o.req);
	pl_set_str(&o.met, "INFO");
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	/* with both method and branch given the caller vouches for the
	 * bytes (they are not parsed again); a branch without the cookie
	 * and an ACK are still refused */
	pl_set_str(&o.met, "OPTIONS");
	pl_set_str(&o.branch, "abc123");
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	pl_set_str(&o.met, "ACK");
	pl_set_str(&o.branch, BRANCH);
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	o.met.l = 0;
	o.branch.l = 0;
	o.tp = SIP_TRANSP_NONE;
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), EINVAL);
	/* not a request at all */
	o.tp = SIP_TRANSP_UDP;
	o.req = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	o.len = strlen(o.req);
	assert_int_not_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), 0);
	o.req = "\x01\x02 garbage";
	o.len = strlen(o.req);
	assert_int_not_equal(sip_ctrans_alloc(&ct, sip, &o, resp_h, &r), 0);
	assert_null(ct);
	assert_int_equal(fake_nsent, 0);
	fake_env_close(sip);
}


/* Responses arriving through sip_recv() reach the transaction. */
static void test_via_sip_recv(void **state)
{
	struct rec r = { 0 };
	struct sip *sip = fake_env_open(NULL, NULL, NULL);
	struct sip_ctrans *ct;
	struct sip_rx rx;
	int n;

	(void)state;
	ct = start(sip, "INVITE", SIP_TRANSP_UDP, &r);
	n = snprintf(respbuf, sizeof(respbuf),
		     "SIP/2.0 180 Ringing\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=" BRANCH "\r\n"
		     "From: <sip:alice@example.com>;tag=a1\r\n"
		     "To: <sip:bob@example.com>;tag=b1\r\n"
		     "Call-ID: c1@127.0.0.1\r\n"
		     "CSeq: 7 INVITE\r\n"
		     "Content-Length: 0\r\n\r\n");
	memset(&rx, 0, sizeof(rx));
	rx.p = respbuf;
	rx.len = (size_t)n;
	rx.tp = SIP_TRANSP_UDP;
	rx.dgram = true;
	assert_int_equal(sa_set_str(&rx.src, "127.0.0.1", 5070), 0);
	assert_int_equal(sa_set_str(&rx.dst, "127.0.0.1", 5060), 0);
	sip_recv(&rx, sip);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode[0], 180);
	mem_deref(ct); /* CANCEL */
	assert_true(fake_sent_starts(fake_nsent - 1, "CANCEL "));
	fake_env_close(sip);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, mem_mark, mem_expect_no_leaks)
		T(test_invite_timer_a_b),
		T(test_invite_reliable_timer_b),
		T(test_invite_proceeding),
		T(test_invite_non2xx_ack_timer_d),
		T(test_invite_non2xx_reliable),
		T(test_invite_2xx_accepted_timer_m),
		T(test_noninvite_timer_e_f),
		T(test_noninvite_proceeding_t2),
		T(test_noninvite_completed_timer_k),
		T(test_noninvite_reliable),
		T(test_matching),
		T(test_cancel_before_provisional),
		T(test_cancel_after_provisional),
		T(test_cancel_after_final),
		T(test_drop_invite_handle),
		T(test_drop_noninvite_handle),
		T(test_drop_in_callback),
		T(test_close_all),
		T(test_transport_error),
		T(test_alloc_invalid),
		T(test_via_sip_recv),
#undef T
	};

	return cmocka_run_group_tests_name("sip_ctrans", tests, NULL, NULL);
}
