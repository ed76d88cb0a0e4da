/**
 * @file test_sip_proxy.c  The RFC 3261 section 16 proxy core, driven
 * through the stack (sip_recv) with a recording send hook instead of
 * sockets: what goes out, to where, and with which headers.
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
#include "sip/msg.h"
#include "sip/proxy.h"
#include "sip/sip.h"

#define MAXSENT 32

struct sent {
	char data[4096];
	size_t len;
	struct sa dst;
	enum sip_transp tp;
};

static struct sent sent[MAXSENT];
static size_t nsent;
static struct sip *sip;
static struct proxy *px;
static struct proxy_targets targets;
static int locate_err;

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


static int locate(struct sip_msg *req, const struct sip_uri *ruri,
		  struct proxy_targets *ts, void *arg)
{
	(void)req;
	(void)ruri;
	(void)arg;
	if (locate_err)
		return locate_err;
	*ts = targets;
	return 0;
}


static bool on_req(struct sip *s, struct sip_msg *msg, void *arg)
{
	(void)s;
	(void)arg;
	return proxy_request(px, msg);
}


static void on_resp(struct sip *s, struct sip_msg *msg, void *arg)
{
	(void)s;
	(void)arg;
	proxy_response(px, msg);
}


static void add_target(const char *uri, const char *flow)
{
	struct proxy_target *t = &targets.v[targets.n++];

	memset(t, 0, sizeof(*t));
	(void)snprintf(t->uri, sizeof(t->uri), "%s", uri);
	t->q = 1000;
	if (flow) {
		t->has_flow = true;
		t->tp = SIP_TRANSP_UDP;
		assert_int_equal(sa_decode(&t->flow, flow), 0);
	}
}


static int setup(void **state)
{
	struct proxy_conf pc;

	mem_mark(state);
	tmr_test_set_now(100000);
	if (loop_init(64))
		return -1;
	if (sip_alloc(&sip, NULL, on_req, on_resp, NULL))
		return -1;
	sip->sendh = rec_send;
	memset(&pc, 0, sizeof(pc));
	pc.record_route = true;
	(void)snprintf(pc.domains[0], sizeof(pc.domains[0]), "example.com");
	pc.ndomains = 1;
	(void)snprintf(pc.advertise, sizeof(pc.advertise), "proxy.example.com");
	if (proxy_alloc(&px, sip, &pc, locate, NULL, NULL))
		return -1;
	nsent = 0;
	memset(&targets, 0, sizeof(targets));
	locate_err = 0;
	return 0;
}


static int teardown(void **state)
{
	sip_close(sip);
	px = mem_deref(px);
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


static void advance(uint64_t ms)
{
	tmr_test_set_now(tmr_jiffies() + ms);
	tmr_poll();
}


/* The status code of a sent response, or 0 for a request. */
static int code_of(const struct sent *s)
{
	int c = 0;

	if (sscanf(s->data, "SIP/2.0 %d", &c) != 1)
		return 0;
	return c;
}


static bool dst_is(const struct sent *s, const char *addr)
{
	struct sa a;

	return !sa_decode(&a, addr) && sa_eq(&a, &s->dst);
}


/* A response to a sent request, as the next hop would send it back. */
static void answer_x(const struct sent *req, int code, const char *totag,
		     const char *extra);

static void answer(const struct sent *req, int code, const char *totag)
{
	answer_x(req, code, totag, "");
}


/* A response to a sent request with extra header lines. */
static void answer_x(const struct sent *req, int code, const char *totag,
		     const char *extra)
{
	struct sip_msg m;
	struct sip_msg_err e;
	char out[4096];
	size_t n = 0;
	uint16_t i;

	assert_int_equal(sip_msg_decode(&m, req->data, req->len, true, &e), 0);
	n += (size_t)snprintf(out + n, sizeof(out) - n, "SIP/2.0 %d X\r\n",
			      code);
	for (i = 0; i < m.hdrc; i++) {
		const struct sip_hdr *h = &m.hdrv[i];
		if (h->id == SIP_HDR_VIA || h->id == SIP_HDR_FROM ||
		    h->id == SIP_HDR_CALL_ID || h->id == SIP_HDR_CSEQ ||
		    h->id == SIP_HDR_RECORD_ROUTE)
			n += (size_t)snprintf(
				out + n, sizeof(out) - n, "%.*s: %.*s\r\n",
				PL_FMT(&h->name), PL_FMT(&h->val));
		else if (h->id == SIP_HDR_TO)
			n += (size_t)snprintf(
				out + n, sizeof(out) - n, "To: %.*s%s%s\r\n",
				PL_FMT(&h->val), totag ? ";tag=" : "",
				totag ? totag : "");
	}
	n += (size_t)snprintf(out + n, sizeof(out) - n,
			      "%sContent-Length: 0\r\n\r\n", extra);
	feed(out, "127.0.0.2:5070");
}


static const char invite[] =
	"INVITE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcaller1;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@example.com>;tag=a1\r\n"
	"To: <sip:bob@example.com>\r\n"
	"Call-ID: call-1@127.0.0.1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@127.0.0.1:5060>\r\n"
	"Content-Length: 0\r\n\r\n";


static void test_forward_and_responses(void **state)
{
	const struct sent *fw;

	(void)state;
	add_target("sip:bob@127.0.0.2:5070", "127.0.0.2:5070");
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 2);
	assert_int_equal(code_of(&sent[0]), 100);
	assert_true(dst_is(&sent[0], "127.0.0.1:5060"));
	fw = &sent[1];
	assert_int_equal(code_of(fw), 0);
	assert_true(dst_is(fw, "127.0.0.2:5070"));
	assert_non_null(strstr(fw->data, "INVITE sip:bob@127.0.0.2:5070 "
					 "SIP/2.0\r\n"));
	assert_non_null(strstr(fw->data, "Via: SIP/2.0/UDP proxy.example."
					 "com:5060;branch=z9hG4bK-P"));
	/* the caller's Via below ours, rport filled in (RFC 3581) */
	assert_non_null(strstr(fw->data, "branch=z9hG4bKcaller1;rport=5060"));
	assert_non_null(strstr(fw->data, "Max-Forwards: 69\r\n"));
	assert_non_null(strstr(fw->data, "Record-Route: <sip:proxy.example."
					 "com:5060;lr>\r\n"));
	assert_non_null(strstr(fw->data, "Content-Length: 0\r\n\r\n"));
	assert_true(strstr(fw->data, "Via: SIP/2.0/UDP proxy") <
		    strstr(fw->data, "Via: SIP/2.0/UDP 127.0.0.1"));

	/* 180 goes upstream without our Via */
	answer(fw, 180, "b1");
	assert_int_equal(nsent, 3);
	assert_int_equal(code_of(&sent[2]), 180);
	assert_true(dst_is(&sent[2], "127.0.0.1:5060"));
	assert_null(strstr(sent[2].data, "proxy.example.com:5060;branch"));
	assert_non_null(strstr(sent[2].data, "z9hG4bKcaller1"));

	/* the 200 came right behind the 180: it leaves 2 ms later, so that
	 * a peer with several workers cannot take it first (strans.c) */
	answer(fw, 200, "b1");
	assert_int_equal(nsent, 3);
	advance(1);
	assert_int_equal(nsent, 3);
	advance(1);
	assert_int_equal(nsent, 4);
	assert_int_equal(code_of(&sent[3]), 200);
	assert_non_null(strstr(sent[3].data, "Record-Route: <sip:proxy"));
	/* the transactions end by themselves */
	advance(64 * 500 + 1000);
}


/* RFC 5658: when the request leaves on another transport than it came
 * on, two Record-Route entries, one for each side. */
static void test_double_record_route(void **state)
{
	const struct sent *fw;
	const char *rr1, *rr2;

	(void)state;
	add_target("sip:bob@127.0.0.2:5070;transport=tcp", "127.0.0.2:5070");
	targets.v[0].tp = SIP_TRANSP_TCP;
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 2);
	fw = &sent[1];
	assert_int_equal(fw->tp, SIP_TRANSP_TCP);
	assert_non_null(strstr(fw->data, "Via: SIP/2.0/TCP proxy.example."
					 "com"));
	rr1 = strstr(fw->data, "Record-Route: <sip:proxy.example.com:5060;"
			       "transport=tcp;lr>\r\n");
	rr2 = strstr(fw->data, "Record-Route: <sip:proxy.example.com:5060;"
			       "lr>\r\n");
	assert_non_null(rr1);
	assert_non_null(rr2);
	assert_true(rr1 < rr2); /* the callee's side on top */
	advance(64 * 500 + 1000);
}


static void test_checks(void **state)
{
	static const struct {
		const char *ruri;
		const char *extra;
		int code;
	} t[] = {
		{ "nobodyknowsthisscheme:totallyopaquecontent", "", 416 },
		{ "sip:bob@example.com", "Proxy-Require: foo, bar\r\n", 420 },
		{ "sip:nobody@example.com", "", 404 },
	};
	char msg[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		nsent = 0;
		locate_err = i == 2 ? ENOENT : 0;
		(void)snprintf(msg, sizeof(msg),
			       "OPTIONS %s SIP/2.0\r\n"
			       "Via: SIP/2.0/UDP 127.0.0.1:5060;branch="
			       "z9hG4bKchk%zu\r\n"
			       "Max-Forwards: 70\r\n%s"
			       "From: <sip:alice@example.com>;tag=a1\r\n"
			       "To: <sip:bob@example.com>\r\n"
			       "Call-ID: chk%zu@127.0.0.1\r\n"
			       "CSeq: 1 OPTIONS\r\n"
			       "Content-Length: 0\r\n\r\n",
			       t[i].ruri, i, t[i].extra, i);
		feed(msg, "127.0.0.1:5060");
		assert_int_equal(nsent, 1);
		assert_int_equal(code_of(&sent[0]), t[i].code);
		if (t[i].code == 420) {
			assert_non_null(
				strstr(sent[0].data, "Unsupported: foo\r\n"));
			assert_non_null(
				strstr(sent[0].data, "Unsupported: bar\r\n"));
		}
	}
}


static void test_max_forwards_zero(void **state)
{
	static const char zeromf[] =
		"OPTIONS sip:user@example.com SIP/2.0\r\n"
		"To: sip:user@example.com\r\n"
		"From: sip:caller@example.net;tag=3ghsd41\r\n"
		"Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas\r\n"
		"CSeq: 39234321 OPTIONS\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKkdjuw2349i\r\n"
		"Max-Forwards: 0\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	add_target("sip:user@127.0.0.2:5070", NULL);
	feed(zeromf, "127.0.0.1:5060");
	assert_int_equal(nsent, 1);
	assert_int_equal(code_of(&sent[0]), 483);
}


static void test_loop_detected(void **state)
{
	static const char req[] =
		"MESSAGE sip:carol@127.0.0.9:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKloop1\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:carol@127.0.0.9>\r\n"
		"Call-ID: loop@127.0.0.1\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Content-Length: 0\r\n\r\n";
	char again[4096];

	(void)state;
	feed(req, "127.0.0.1:5060");
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.9:5080"));
	/* the same request comes back to us: a loop, not a spiral */
	(void)snprintf(again, sizeof(again), "%s", sent[0].data);
	nsent = 0;
	feed(again, "127.0.0.9:5080");
	assert_int_equal(nsent, 1);
	assert_int_equal(code_of(&sent[0]), 482);
	advance(64 * 500 + 1000);
}


static void test_routes(void **state)
{
	static const char loose[] =
		"BYE sip:bob@127.0.0.2:5070 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbye1\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:proxy.example.com;lr>,<sip:127.0.0.3:5090;lr>\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b1\r\n"
		"Call-ID: r1@127.0.0.1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char strict[] =
		"BYE sip:proxy.example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbye2\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:bob@127.0.0.2:5070>\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b1\r\n"
		"Call-ID: r2@127.0.0.1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	feed(loose, "127.0.0.1:5060");
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.3:5090"));
	assert_non_null(strstr(sent[0].data, "BYE sip:bob@127.0.0.2:5070 "));
	assert_non_null(
		strstr(sent[0].data, "Route: <sip:127.0.0.3:5090;lr>\r\n"));
	assert_null(strstr(sent[0].data, "proxy.example.com;lr"));

	/* RFC 3261 16.4: a strict router put our URI in the Request-URI */
	nsent = 0;
	feed(strict, "127.0.0.1:5060");
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.2:5070"));
	assert_non_null(strstr(sent[0].data, "BYE sip:bob@127.0.0.2:5070 "));
	assert_null(strstr(sent[0].data, "Route:"));
	advance(64 * 500 + 1000);
}


static void test_fork_best_response(void **state)
{
	const struct sent *a, *b;
	size_t i, finals = 0;

	(void)state;
	add_target("sip:bob@127.0.0.2:5070", "127.0.0.2:5070");
	add_target("sip:bob@127.0.0.4:5070", "127.0.0.4:5070");
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 3); /* 100 + two branches */
	a = &sent[1];
	b = &sent[2];
	assert_true(dst_is(a, "127.0.0.2:5070"));
	assert_true(dst_is(b, "127.0.0.4:5070"));
	answer(a, 500, "x1");
	/* no final goes up while a branch is pending (16.7 step 2) */
	for (i = 3; i < nsent; i++)
		assert_false(code_of(&sent[i]) >= 200 &&
			     dst_is(&sent[i], "127.0.0.1:5060"));
	answer(b, 486, "x2");
	for (i = 3; i < nsent; i++)
		if (dst_is(&sent[i], "127.0.0.1:5060") &&
		    code_of(&sent[i]) >= 200) {
			finals++;
			/* 16.7 step 6: the lowest class wins */
			assert_int_equal(code_of(&sent[i]), 486);
		}
	assert_int_equal(finals, 1);
	/* the client transactions ACKed both finals downstream */
	{
		size_t acks = 0;
		for (i = 3; i < nsent; i++)
			if (!strncmp(sent[i].data, "ACK ", 4))
				acks++;
		assert_int_equal(acks, 2);
	}
	advance(64 * 500 + 40000);
}


/* 16.7 step 7: when a 407 goes up, it carries the challenges of every
 * branch that answered 407. */
static void test_fork_merged_challenges(void **state)
{
	const struct sent *a, *b;
	size_t i;
	int found = 0;

	(void)state;
	add_target("sip:bob@127.0.0.2:5070", "127.0.0.2:5070");
	add_target("sip:bob@127.0.0.4:5070", "127.0.0.4:5070");
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 3);
	a = &sent[1];
	b = &sent[2];
	answer_x(a, 407, "x1",
		 "Proxy-Authenticate: Digest realm=\"one.example\", "
		 "nonce=\"n1\"\r\n");
	answer_x(b, 407, "x2",
		 "Proxy-Authenticate: Digest realm=\"two.example\", "
		 "nonce=\"n2\"\r\n");
	for (i = 3; i < nsent; i++) {
		if (code_of(&sent[i]) != 407 ||
		    !dst_is(&sent[i], "127.0.0.1:5060"))
			continue;
		found++;
		assert_non_null(strstr(sent[i].data, "realm=\"one.example\""));
		assert_non_null(strstr(sent[i].data, "realm=\"two.example\""));
	}
	assert_int_equal(found, 1);
	advance(64 * 500 + 40000);
}


static void test_cancel(void **state)
{
	static const char cancel[] =
		"CANCEL sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP "
		"127.0.0.1:5060;branch=z9hG4bKcaller1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: call-1@127.0.0.1\r\n"
		"CSeq: 1 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sent fw;
	size_t i, mark;
	bool cancel_down = false, ok_up = false, t487_up = false;

	(void)state;
	add_target("sip:bob@127.0.0.2:5070", "127.0.0.2:5070");
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 2);
	fw = sent[1];
	answer(&fw, 180, "b1");
	mark = nsent;
	feed(cancel, "127.0.0.1:5060");
	for (i = mark; i < nsent; i++) {
		if (!strncmp(sent[i].data, "CANCEL sip:bob@127.0.0.2:5070",
			     29) &&
		    dst_is(&sent[i], "127.0.0.2:5070"))
			cancel_down = true;
		if (code_of(&sent[i]) == 200 &&
		    strstr(sent[i].data, "CSeq: 1 CANCEL"))
			ok_up = true;
	}
	assert_true(ok_up);
	assert_true(cancel_down);
	answer(&fw, 487, "b1");
	advance(2); /* held behind the 180 (strans.c) */
	for (i = mark; i < nsent; i++)
		if (code_of(&sent[i]) == 487 &&
		    dst_is(&sent[i], "127.0.0.1:5060"))
			t487_up = true;
	assert_true(t487_up);
	advance(64 * 500 + 40000);
}


static void test_stray_response(void **state)
{
	static const char resp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK-Px\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKc;rport=5064;"
		"received=127.0.0.5\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b1\r\n"
		"Call-ID: stray@127.0.0.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char bcast[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK-Py\r\n"
		"Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKd\r\n"
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b1\r\n"
		"Call-ID: bcast@127.0.0.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	feed(resp, "127.0.0.2:5070");
	assert_int_equal(nsent, 1);
	/* received and rport of the next Via say where (RFC 3581) */
	assert_true(dst_is(&sent[0], "127.0.0.5:5064"));
	assert_null(strstr(sent[0].data, "proxy.example.com"));
	nsent = 0;
	feed(bcast, "127.0.0.2:5070");
	assert_int_equal(nsent, 0); /* RFC 4475 3.3.10: never broadcast */
}


/* RFC 3261 16.11: stateless forwarding: no 100 Trying, no transaction, a
 * branch derived from the request (a retransmission is forwarded with the
 * same one), responses relayed by their Via. */
static void test_stateless(void **state)
{
	struct proxy_conf pc;
	char branch1[64], branch2[64];
	const char *b;

	(void)state;
	px = mem_deref(px);
	memset(&pc, 0, sizeof(pc));
	pc.stateless = true;
	(void)snprintf(pc.domains[0], sizeof(pc.domains[0]), "example.com");
	pc.ndomains = 1;
	(void)snprintf(pc.advertise, sizeof(pc.advertise), "proxy.example.com");
	assert_int_equal(proxy_alloc(&px, sip, &pc, locate, NULL, NULL), 0);
	add_target("sip:bob@127.0.0.2:5070", "127.0.0.2:5070");

	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 1); /* no 100 Trying */
	assert_true(dst_is(&sent[0], "127.0.0.2:5070"));
	assert_null(strstr(sent[0].data, "Record-Route"));
	b = strstr(sent[0].data, "branch=");
	assert_non_null(b);
	(void)snprintf(branch1, sizeof(branch1), "%.26s", b);

	/* the retransmission goes out again, with the same branch */
	feed(invite, "127.0.0.1:5060");
	assert_int_equal(nsent, 2);
	b = strstr(sent[1].data, "branch=");
	assert_non_null(b);
	(void)snprintf(branch2, sizeof(branch2), "%.26s", b);
	assert_string_equal(branch1, branch2);

	/* the 180 is relayed by the Via below ours */
	answer(&sent[0], 180, "b1");
	assert_int_equal(nsent, 3);
	assert_int_equal(code_of(&sent[2]), 180);
	assert_true(dst_is(&sent[2], "127.0.0.1:5060"));
	assert_null(strstr(sent[2].data, "proxy.example.com:5060;branch"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_and_responses,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_record_route, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_forwards_zero, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loop_detected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_best_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fork_merged_challenges,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stateless, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("sip_proxy", tests, NULL, NULL);
}
