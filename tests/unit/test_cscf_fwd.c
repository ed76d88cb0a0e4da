/**
 * @file test_cscf_fwd.c  Stateful forwarding for the CSCF roles
 * (cscf/fwd.h), through the stack (sip_recv) with a recording send hook:
 * the forwarded request (our Via on top, Max-Forwards decremented, the
 * rest unchanged), where it goes (flow, URI, Route, Request-URI), the
 * errors and their status codes, and the relayed response without our
 * Via, back to where the request came from.
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
#include "cscf/fwd.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define MAXSENT 16

struct sent {
	char data[4096];
	size_t len;
	struct sa dst;
	enum sip_transp tp;
};

static struct sent sent[MAXSENT];
static size_t nsent;
static struct sip *sip;
static struct sip_strans *st;
static struct cscf_fwd *ct;
static struct cscf_hop hop;
static int fwd_err;  /* what cscf_fwd_request returned */
static int resp_err; /* what the response handler got */
static int resp_code;
static int resp_n;
static bool relay = true;

static int rec_send(struct sip *s, enum sip_transp tp, const struct sa *dst,
		    struct sip_conn *conn, const void *p, size_t len)
{
	(void)s;
	(void)conn;
	assert_true(nsent < MAXSENT);
	assert_true(len < sizeof(sent[0].data));
	memcpy(sent[nsent].data, p, len);
	sent[nsent].data[len] = '\0';
	sent[nsent].len = len;
	sent[nsent].dst = *dst;
	sent[nsent].tp = tp;
	nsent++;
	return 0;
}


static void resp_h(int err, struct sip_msg *msg, void *arg)
{
	(void)arg;
	resp_n++;
	resp_err = err;
	resp_code = msg ? msg->scode : 0;
	if (msg && relay)
		assert_int_equal(cscf_fwd_response(st, msg), 0);
}


/* The role: a server transaction, then forward to `hop`. */
static bool on_req(struct sip *s, struct sip_msg *msg, void *arg)
{
	struct sip_msg *req = NULL;

	(void)s;
	(void)arg;
	assert_int_equal(sip_msg_dup(&req, msg), 0);
	assert_int_equal(sip_strans_alloc(&st, sip, req, NULL, NULL), 0);
	mem_deref(req);
	fwd_err = cscf_fwd_request(&ct, sip, sip_strans_req(st), &hop, resp_h,
				   NULL);
	return true;
}


static void on_resp(struct sip *s, struct sip_msg *msg, void *arg)
{
	(void)s;
	(void)msg;
	(void)arg;
	fail_msg("a response matched no client transaction");
}


static int setup(void **state)
{
	mem_mark(state);
	tmr_test_set_now(100000);
	if (loop_init(64))
		return -1;
	if (sip_alloc(&sip, NULL, on_req, on_resp, NULL))
		return -1;
	sip->sendh = rec_send;
	nsent = 0;
	memset(&hop, 0, sizeof(hop));
	fwd_err = resp_err = resp_code = resp_n = 0;
	relay = true;
	return 0;
}


static int teardown(void **state)
{
	ct = mem_deref(ct);
	st = mem_deref(st);
	sip_close(sip);
	sip = mem_deref(sip);
	loop_close();
	tmr_test_set_now(0);
	return mem_expect_no_leaks(state);
}


static void feed(const char *text, const char *src)
{
	struct sip_rx rx;

	memset(&rx, 0, sizeof(rx));
	rx.p = text;
	rx.len = strlen(text);
	rx.tp = SIP_TRANSP_UDP;
	rx.dgram = true;
	assert_int_equal(sa_decode(&rx.src, src), 0);
	assert_int_equal(sa_decode(&rx.dst, "127.0.0.1:5060"), 0);
	sip_recv(&rx, sip);
}


static bool dst_is(const struct sent *s, const char *addr)
{
	struct sa a;

	return !sa_decode(&a, addr) && sa_eq(&a, &s->dst);
}


/* A REGISTER with Max-Forwards mf (none when < 0) and extra lines. */
static void feed_register(const char *ruri, int mf, const char *extra)
{
	char buf[2048], mfl[32] = "";

	if (mf >= 0)
		(void)snprintf(mfl, sizeof(mfl), "Max-Forwards: %d\r\n", mf);
	(void)snprintf(buf, sizeof(buf),
		       "REGISTER %s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKphone1\r\n"
		       "%s"
		       "From: <sip:alice@example.com>;tag=a1\r\n"
		       "To: <sip:alice@example.com>\r\n"
		       "Call-ID: fwd-test-1\r\n"
		       "CSeq: 1 REGISTER\r\n"
		       "%s"
		       "Contact: <sip:alice@10.0.0.1:5070>\r\n"
		       "Content-Length: 0\r\n\r\n",
		       ruri, mfl, extra);
	feed(buf, "10.0.0.1:5070");
}


/* The response the next hop sends back to sent request s: its Vias,
 * From, To with a tag, Call-ID, CSeq. */
static void answer(const struct sent *s, int code, const char *src)
{
	struct sip_msg m;
	struct sip_msg_err e;
	char out[4096];
	size_t n;
	uint16_t i;

	assert_int_equal(sip_msg_decode(&m, s->data, s->len, true, &e), 0);
	n = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %d X\r\n", code);
	for (i = 0; i < m.hdrc; i++) {
		const struct sip_hdr *h = &m.hdrv[i];

		if (h->id != SIP_HDR_VIA && h->id != SIP_HDR_FROM &&
		    h->id != SIP_HDR_TO && h->id != SIP_HDR_CALL_ID &&
		    h->id != SIP_HDR_CSEQ)
			continue;
		n += (size_t)snprintf(out + n, sizeof(out) - n,
				      "%.*s: %.*s%s\r\n", (int)h->name.l,
				      h->name.p, (int)h->val.l, h->val.p,
				      h->id == SIP_HDR_TO ? ";tag=nh1" : "");
	}
	(void)snprintf(out + n, sizeof(out) - n, "Content-Length: 0\r\n\r\n");
	feed(out, src);
}


/* 16.6: our Via on top, Max-Forwards - 1, the rest copied, to the URI */
static void test_forward_to_uri(void **state)
{
	const char *p;

	(void)state;
	hop.uri = "sip:10.0.0.2:5080;transport=tcp";
	feed_register("sip:example.com", 5, "Path: <sip:tok@10.0.0.9;lr>\r\n");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "10.0.0.2:5080"));
	assert_int_equal(sent[0].tp, SIP_TRANSP_TCP);
	p = sent[0].data;
	assert_true(!strncmp(p,
			     "REGISTER sip:example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/TCP ",
			     50));
	/* the phone's Via stays, below ours */
	assert_non_null(strstr(p, ";rport\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;"
				  "branch=z9hG4bKphone1\r\n"));
	assert_non_null(strstr(p, "\r\nMax-Forwards: 4\r\n"));
	assert_null(strstr(p, "Max-Forwards: 5"));
	assert_non_null(strstr(p, "\r\nPath: <sip:tok@10.0.0.9;lr>\r\n"));
	assert_non_null(strstr(p, "\r\nContent-Length: 0\r\n\r\n"));
}


/* no Max-Forwards: 69 added (16.6 step 3) */
static void test_maxfwd_added(void **state)
{
	(void)state;
	hop.uri = "sip:10.0.0.2";
	feed_register("sip:example.com", -1, "");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "10.0.0.2:5060"));
	assert_non_null(strstr(sent[0].data, "\r\nMax-Forwards: 69\r\n"));
}


/* without a hop URI: the top Route (loose routing), else the R-URI */
static void test_route_then_ruri(void **state)
{
	(void)state;
	feed_register("sip:10.0.0.4", 70,
		      "Route: <sip:10.0.0.3:5090;lr>, <sip:10.0.0.5;lr>\r\n");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "10.0.0.3:5090"));
	assert_int_equal(sent[0].tp, SIP_TRANSP_UDP);
	/* the Route set is the role's business: sent as it was */
	assert_non_null(strstr(sent[0].data, "Route: <sip:10.0.0.3:5090;lr>"));

	ct = mem_deref(ct);
	st = mem_deref(st);
	nsent = 0;
	feed_register("sips:10.0.0.4", 70, "");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "10.0.0.4:5061"));
	assert_int_equal(sent[0].tp, SIP_TRANSP_TLS);
}


/* a flow wins over every URI (RFC 5626 5.3) */
static void test_flow(void **state)
{
	(void)state;
	hop.uri = "sip:10.0.0.2";
	hop.has_flow = true;
	hop.tp = SIP_TRANSP_UDP;
	assert_int_equal(sa_decode(&hop.dst, "192.0.2.7:6000"), 0);
	feed_register("sip:example.com", 70, "");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "192.0.2.7:6000"));
}


/* errors: nothing sent, and the code the role answers with */
static void test_errors(void **state)
{
	(void)state;
	feed_register("sip:example.com", 0, "");
	assert_int_equal(fwd_err, ELOOP);
	assert_int_equal(cscf_fwd_scode(fwd_err), 483);
	st = mem_deref(st);

	feed_register("sip:host.example.com", 70, "");
	assert_int_equal(fwd_err, EHOSTUNREACH);
	assert_int_equal(cscf_fwd_scode(fwd_err), 502);
	st = mem_deref(st);

	hop.uri = "tel:+15551234";
	feed_register("sip:example.com", 70, "");
	assert_int_equal(fwd_err, EPROTONOSUPPORT);
	assert_int_equal(cscf_fwd_scode(fwd_err), 416);
	st = mem_deref(st);

	hop.uri = "sip:10.0.0.2;transport=sctp";
	feed_register("sip:example.com", 70, "");
	assert_int_equal(fwd_err, EPROTONOSUPPORT);
	assert_int_equal(nsent, 0);
	assert_int_equal(cscf_fwd_scode(ETIMEDOUT), 408);
	assert_int_equal(cscf_fwd_scode(ENOMEM), 500);
	assert_int_equal(cscf_fwd_request(NULL, sip, NULL, NULL, resp_h, NULL),
			 EINVAL);
}


/* 16.7 step 3: the response goes back without our Via, to the phone */
static void test_response_relayed(void **state)
{
	const char *p;

	(void)state;
	hop.uri = "sip:10.0.0.2:5080";
	feed_register("sip:example.com", 70, "");
	assert_int_equal(nsent, 1);
	answer(&sent[0], 401, "10.0.0.2:5080");
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, 0);
	assert_int_equal(resp_code, 401);
	assert_int_equal(nsent, 2);
	assert_true(dst_is(&sent[1], "10.0.0.1:5070"));
	p = sent[1].data;
	assert_true(!strncmp(p, "SIP/2.0 401 X\r\n", 15));
	assert_non_null(strstr(p, "Via: SIP/2.0/UDP 10.0.0.1:5070;"
				  "branch=z9hG4bKphone1"));
	/* exactly one Via left: the phone's */
	assert_null(strstr(strstr(p, "Via:") + 4, "Via:"));
	assert_non_null(strstr(p, "To: <sip:alice@example.com>;tag=nh1"));
	/* a retransmission of the REGISTER is absorbed by the server
	 * transaction, which repeats the relayed answer */
	feed_register("sip:example.com", 70, "");
	assert_int_equal(nsent, 3);
	assert_true(!strncmp(sent[2].data, "SIP/2.0 401 X\r\n", 15));
}


/* no answer: Timer F ends it with ETIMEDOUT (the role answers 408) */
static void test_timeout(void **state)
{
	(void)state;
	relay = false;
	hop.uri = "sip:10.0.0.2:5080";
	feed_register("sip:example.com", 70, "");
	assert_int_equal(fwd_err, 0);
	tmr_test_set_now(tmr_jiffies() + 64ull * 500 + 1000);
	tmr_poll();
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, ETIMEDOUT);
	assert_int_equal(resp_code, 0);
}


/* a response that is not one, or has no Via: refused */
static void test_response_bad(void **state)
{
	struct sip_msg *m = NULL;
	struct sip_msg_err e;
	struct buf *mb = NULL;
	static const char nv[] = "SIP/2.0 200 OK\r\n"
				 "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
				 "Call-ID: x\r\nCSeq: 1 REGISTER\r\n"
				 "Content-Length: 0\r\n\r\n";

	(void)state;
	hop.uri = "sip:10.0.0.2:5080";
	feed_register("sip:example.com", 70, "");
	assert_int_equal(cscf_fwd_response(st, sip_strans_req(st)), EINVAL);
	assert_int_equal(buf_alloc(&mb, sizeof(nv), sizeof(nv)), 0);
	assert_int_equal(buf_write(mb, nv, sizeof(nv) - 1), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&m, mb, true, &e), 0);
	assert_int_equal(cscf_fwd_response(st, m), EBADMSG);
	mem_deref(m);
	mem_deref(mb);
}


/* 16.6 step 4: our Record-Route is the top value: above the ones already
 * there, wherever they are, and after the Vias when there are none */
static void test_record_route(void **state)
{
	const char *p, *ours, *theirs, *via;

	(void)state;
	hop.uri = "sip:10.0.0.2";
	hop.rr = "<sip:10.0.0.8:5080;lr>";
	feed_register("sip:example.com", 70,
		      "Record-Route: <sip:10.0.0.7;lr>\r\n");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	p = sent[0].data;
	ours = strstr(p, "\r\nRecord-Route: <sip:10.0.0.8:5080;lr>\r\n");
	theirs = strstr(p, "\r\nRecord-Route: <sip:10.0.0.7;lr>\r\n");
	assert_non_null(ours);
	assert_non_null(theirs);
	assert_true(ours < theirs);
	/* once only */
	assert_null(strstr(ours + 3, "Record-Route: <sip:10.0.0.8"));

	ct = mem_deref(ct);
	st = mem_deref(st);
	nsent = 0;
	feed_register("sip:example.com", 70, "");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 1);
	p = sent[0].data;
	ours = strstr(p, "\r\nRecord-Route: <sip:10.0.0.8:5080;lr>\r\n");
	via = strstr(p, "\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;");
	assert_non_null(ours);
	assert_non_null(via);
	assert_true(via < ours); /* below every Via, above From */
	assert_true(ours < strstr(p, "\r\nFrom: "));
}


/* An ACK for a 2xx: one send, our Via, Max-Forwards - 1, no transaction
 * (so nothing is retransmitted) */
static void test_stateless(void **state)
{
	size_t i, n6 = 0;

	(void)state;
	hop.uri = "sip:10.0.0.2";
	feed_register("sip:example.com", 5, "");
	assert_int_equal(fwd_err, 0);
	nsent = 0;
	hop.uri = "sip:10.0.0.6:5090";
	assert_int_equal(cscf_fwd_stateless(sip, sip_strans_req(st), &hop), 0);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "10.0.0.6:5090"));
	assert_true(!strncmp(sent[0].data,
			     "REGISTER sip:example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP ",
			     50));
	assert_non_null(strstr(sent[0].data, "\r\nMax-Forwards: 4\r\n"));
	/* nothing retransmits it (the REGISTER's own transaction may) */
	tmr_test_set_now(100000 + 40000);
	tmr_poll();
	for (i = 0; i < nsent; i++)
		n6 += dst_is(&sent[i], "10.0.0.6:5090");
	assert_int_equal(n6, 1);
	assert_int_equal(cscf_fwd_stateless(NULL, NULL, NULL), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_forward_to_uri),  T(test_maxfwd_added),
		T(test_route_then_ruri), T(test_flow),
		T(test_errors),          T(test_response_relayed),
		T(test_timeout),         T(test_response_bad),
		T(test_record_route),    T(test_stateless),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
