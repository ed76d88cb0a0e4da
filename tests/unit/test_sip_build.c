/**
 * @file test_sip_build.c  The response builder (build.c): sip_reply_build(),
 * sip_build_vias() and sip_totag_make().
 *
 * Each response is parsed back with sip_msg_decode() and checked header by
 * header against the request: every Via in order with received/rport as
 * RFC 3261 18.2.1 and RFC 3581 4 ask, From, To with a tag (RFC 3261
 * 8.2.6.2), Call-ID, CSeq, Record-Route for dialog-creating responses
 * (12.1.1), the caller's extra lines, and Content-Length.  sip_reply() is
 * not exercised here: it sends through the stack (sip.c).
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
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/addr.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/transp.h"
#include "sip/uri.h"
#include "sip/via.h"

#ifndef ENTIMS_RFC4475_DIR
#error "tests/CMakeLists.txt defines ENTIMS_RFC4475_DIR"
#endif


#define assert_pl_eq(pl, s) pl_check((pl), (s), strlen(s), __FILE__, __LINE__)
#define assert_pl_pl(a, b)  pl_check((a), (b)->p, (b)->l, __FILE__, __LINE__)

static void pl_check(const struct pl *pl, const char *s, size_t n,
		     const char *file, int line)
{
	if (pl->l == n && (n == 0 || (pl->p && !memcmp(pl->p, s, n))))
		return;
	print_error("view \"%.*s\" (%zu) != expected \"%.*s\" (%zu)\n",
		    (int)pl->l, pl->p ? pl->p : "", pl->l, (int)n, s, n);
	_fail(file, line);
}


/* A request and its response, both decoded from exact-size blocks. */
struct pair {
	struct sip_msg req;
	struct sip_msg resp;
	char *reqbuf;
	char *respbuf;
	size_t resplen;
	struct buf *mb;
};


static char *tail_dup(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, s, n);
	return p;
}


static struct pair *pair_new(const char *req, size_t len, const char *src,
			     uint16_t port)
{
	struct pair *pr = calloc(1, sizeof(*pr));
	struct sip_msg_err err;

	assert_non_null(pr);
	pr->reqbuf = tail_dup(req, len);
	if (sip_msg_decode(&pr->req, pr->reqbuf, len, true, &err))
		fail_msg("request does not decode: %s", err.reason);
	if (sip_msg_validate(&pr->req, &err))
		fail_msg("request does not validate: %s", err.reason);
	if (src)
		assert_int_equal(sa_set_str(&pr->req.src, src, port), 0);
	pr->req.tp = SIP_TRANSP_UDP;
	return pr;
}


static struct pair *pair_str(const char *req, const char *src, uint16_t port)
{
	return pair_new(req, strlen(req), src, port);
}


/* Build the response into a fresh buffer and decode it back. */
static void pair_reply(struct pair *pr, uint16_t scode,
		       const struct sip_reply_opts *opts)
{
	struct sip_msg_err err;
	int rc;

	pr->mb = mem_deref(pr->mb);
	free(pr->respbuf);
	pr->respbuf = NULL;
	assert_int_equal(buf_alloc(&pr->mb, 512, SIP_MSG_MAX), 0);
	rc = sip_reply_build(pr->mb, &pr->req, scode, opts);
	assert_int_equal(rc, 0);
	pr->resplen = pr->mb->end;
	pr->respbuf = tail_dup((const char *)pr->mb->b, pr->mb->end);
	if (sip_msg_decode(&pr->resp, pr->respbuf, pr->resplen, true, &err))
		fail_msg("response does not decode (%s):\n%.*s", err.reason,
			 (int)pr->resplen, pr->respbuf);
	if (sip_msg_validate(&pr->resp, &err))
		fail_msg("response does not validate (%s):\n%.*s", err.reason,
			 (int)pr->resplen, pr->respbuf);
	assert_false(pr->resp.req);
	assert_int_equal(pr->resp.scode, scode);
	/* Content-Length is exact: the whole buffer is the message */
	assert_int_equal(pr->resp.len, pr->resplen);
}


static void pair_free(struct pair *pr)
{
	if (!pr)
		return;
	mem_deref(pr->mb);
	free(pr->respbuf);
	free(pr->reqbuf);
	free(pr);
}


static unsigned count_values(const struct sip_msg *msg, enum sip_hdr_id id)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	unsigned n = 0;

	while (sip_msg_hdr_value_next(msg, id, &it, &v))
		n++;
	return n;
}


/* Every value of id in b equals the one in a, from value `from` on. */
static void same_values(const struct sip_msg *a, const struct sip_msg *b,
			enum sip_hdr_id id, unsigned from)
{
	struct sip_hdr_iter ia = { 0 }, ib = { 0 };
	struct pl va, vb;
	unsigned i = 0;

	for (;;) {
		bool ha = sip_msg_hdr_value_next(a, id, &ia, &va);
		bool hb = sip_msg_hdr_value_next(b, id, &ib, &vb);

		assert_int_equal(ha, hb);
		if (!ha)
			break;
		if (i++ >= from)
			assert_pl_pl(&vb, &va);
	}
}


static void same_raw(const struct sip_msg *a, const struct sip_msg *b,
		     enum sip_hdr_id id)
{
	const struct sip_hdr *ha = sip_msg_hdr(a, id), *hb = sip_msg_hdr(b, id);

	assert_non_null(ha);
	assert_non_null(hb);
	assert_pl_pl(&hb->val, &ha->val);
	assert_int_equal(b->nlines[id], 1);
}


static const struct sip_via *top_via(struct sip_msg *msg)
{
	const struct sip_via *via;

	assert_int_equal(sip_msg_via(msg, &via), 0);
	return via;
}


/* How many times a parameter appears in a Via value (case-insensitive). */
static unsigned param_count(const struct pl *params, const char *name)
{
	struct pl rest = *params, n, v;
	unsigned c = 0;

	while (sip_param_next(&rest, &n, &v))
		if (pl_eq_str_ci(&n, name))
			c++;
	return c;
}


/* RFC 3581 4 example, with Vias on several lines and Record-Route */
static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff\r\n"
	"Via: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK111, "
	"SIP/2.0/TCP proxy2.example.com:5070;branch=z9hG4bK222\r\n"
	"Max-Forwards: 70\r\n"
	"Record-Route: <sip:p1.example.com;lr>\r\n"
	"Record-Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"v=0\r\n";


static void test_reply_rfc3581(void **state)
{
	struct pair *pr = pair_str(invite, "192.0.2.1", 9988);
	const struct sip_addr *from, *to, *rto;
	const struct sip_via *via;
	const struct sip_hdr *h;
	char tag[24];

	(void)state;
	pair_reply(pr, 180, NULL);

	/* the status line */
	assert_pl_eq(&pr->resp.start, "SIP/2.0 180 Ringing");

	/* RFC 3581 4: rport filled with the source port, received added */
	via = top_via(&pr->resp);
	assert_pl_eq(&via->host, "10.1.1.1");
	assert_int_equal(via->port, 4540);
	assert_pl_eq(&via->received, "192.0.2.1");
	assert_true(via->has_rport);
	assert_pl_eq(&via->rport, "9988");
	assert_pl_eq(&via->branch, "z9hG4bKkjshdyff");
	assert_int_equal(param_count(&via->params, "rport"), 1);
	assert_int_equal(param_count(&via->params, "received"), 1);
	/* every other Via value unchanged and in order, on its own line */
	assert_int_equal(count_values(&pr->resp, SIP_HDR_VIA), 3);
	assert_int_equal(pr->resp.nlines[SIP_HDR_VIA], 2);
	same_values(&pr->req, &pr->resp, SIP_HDR_VIA, 1);

	same_raw(&pr->req, &pr->resp, SIP_HDR_FROM);
	assert_int_equal(sip_msg_from(&pr->resp, &from), 0);
	assert_pl_eq(&from->tag, "1928301774");
	same_raw(&pr->req, &pr->resp, SIP_HDR_CALL_ID);
	same_raw(&pr->req, &pr->resp, SIP_HDR_CSEQ);

	/* To gets our tag, the derived one by default */
	assert_int_equal(sip_msg_to(&pr->resp, &to), 0);
	assert_int_equal(sip_msg_to(&pr->req, &rto), 0);
	assert_pl_pl(&to->auri, &rto->auri);
	assert_pl_eq(&to->dname, "Bob");
	sip_totag_make(&pr->req, tag, sizeof(tag));
	assert_true(strlen(tag) > 0);
	assert_pl_eq(&to->tag, tag);

	/* RFC 3261 12.1.1: Record-Route copied, all values in order */
	assert_int_equal(count_values(&pr->resp, SIP_HDR_RECORD_ROUTE), 3);
	same_values(&pr->req, &pr->resp, SIP_HDR_RECORD_ROUTE, 0);

	/* nothing else of the request: no Contact, Max-Forwards, body */
	assert_null(sip_msg_hdr(&pr->resp, SIP_HDR_CONTACT));
	assert_null(sip_msg_hdr(&pr->resp, SIP_HDR_MAX_FORWARDS));
	assert_null(sip_msg_hdr(&pr->resp, SIP_HDR_CONTENT_TYPE));
	h = sip_msg_hdr(&pr->resp, SIP_HDR_CONTENT_LENGTH);
	assert_non_null(h);
	assert_pl_eq(&h->val, "0");
	assert_int_equal(pr->resp.body.l, 0);
	pair_free(pr);
}


/* To-tag and Record-Route by status code and method */
static const struct {
	const char *method;
	const char *to; /* To value of the request */
	uint16_t scode;
	bool tag_added;
	bool rr;
} tag_cases[] = {
	{ "INVITE", "<sip:bob@example.com>", 100, false, false },
	{ "INVITE", "<sip:bob@example.com>", 180, true, true },
	{ "INVITE", "<sip:bob@example.com>", 183, true, true },
	{ "INVITE", "<sip:bob@example.com>", 200, true, true },
	{ "INVITE", "<sip:bob@example.com>", 302, true, false },
	{ "INVITE", "<sip:bob@example.com>", 486, true, false },
	{ "INVITE", "<sip:bob@example.com>", 603, true, false },
	/* already tagged (a re-INVITE): never a second tag */
	{ "INVITE", "<sip:bob@example.com>;tag=abc", 200, false, true },
	{ "INVITE", "<sip:bob@example.com>;tag=abc", 481, false, false },
	{ "INVITE", "sip:bob@example.com;TAG=abc", 200, false, true },
	/* an addr-spec To: the tag follows its parameters */
	{ "INVITE", "sip:bob@example.com;x=1", 180, true, true },
	/* only dialog-creating requests copy Record-Route */
	{ "REGISTER", "<sip:bob@example.com>", 200, true, false },
	{ "OPTIONS", "<sip:bob@example.com>", 200, true, false },
	{ "BYE", "<sip:bob@example.com>;tag=abc", 200, false, false },
	{ "MESSAGE", "<sip:bob@example.com>", 202, true, false },
	{ "SUBSCRIBE", "<sip:bob@example.com>", 200, true, true },
	{ "SUBSCRIBE", "<sip:bob@example.com>", 489, true, false },
};


static void test_reply_tags(void **state)
{
	char req[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tag_cases) / sizeof(tag_cases[0]); i++) {
		const struct sip_addr *rto, *to;
		struct pair *pr;
		int n;

		n = snprintf(req, sizeof(req),
			     "%s sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt%zu\r\n"
			     "Record-Route: <sip:rr.example.com;lr>\r\n"
			     "From: <sip:alice@example.com>;tag=f%zu\r\n"
			     "To: %s\r\n"
			     "Call-ID: tags%zu@example.com\r\n"
			     "CSeq: 7 %s\r\n"
			     "Content-Length: 0\r\n\r\n",
			     tag_cases[i].method, i, i, tag_cases[i].to, i,
			     tag_cases[i].method);
		assert_true(n > 0 && (size_t)n < sizeof(req));
		pr = pair_str(req, "192.0.2.1", 5060);
		pair_reply(pr, tag_cases[i].scode, NULL);

		assert_int_equal(sip_msg_to(&pr->req, &rto), 0);
		assert_int_equal(sip_msg_to(&pr->resp, &to), 0);
		if (tag_cases[i].tag_added) {
			char tag[24];

			assert_int_equal(rto->tag.l, 0);
			sip_totag_make(&pr->req, tag, sizeof(tag));
			assert_pl_eq(&to->tag, tag);
			assert_pl_pl(&to->uri.params, &rto->uri.params);
		} else {
			/* the To line is the request's, byte for byte */
			same_raw(&pr->req, &pr->resp, SIP_HDR_TO);
			assert_pl_pl(&to->tag, &rto->tag);
		}
		if (tag_cases[i].rr)
			same_raw(&pr->req, &pr->resp, SIP_HDR_RECORD_ROUTE);
		else
			assert_null(
				sip_msg_hdr(&pr->resp, SIP_HDR_RECORD_ROUTE));
		/* the Via sent-by is the source: nothing added */
		same_raw(&pr->req, &pr->resp, SIP_HDR_VIA);
		pair_free(pr);
	}

	/* a caller-chosen tag wins over the derived one */
	{
		struct sip_reply_opts opts = { 0 };
		const struct sip_addr *to;
		struct pair *pr = pair_str(invite, "192.0.2.1", 9988);

		pl_set_str(&opts.totag, "my-own-tag.1");
		pair_reply(pr, 200, &opts);
		assert_int_equal(sip_msg_to(&pr->resp, &to), 0);
		assert_pl_eq(&to->tag, "my-own-tag.1");
		pair_free(pr);
	}
}


/* received / rport on the top Via (RFC 3261 18.2.1, RFC 3581 4) */
static const struct {
	const char *via; /* the request's Via line value(s) */
	const char *src; /* packet source; NULL: unknown */
	uint16_t port;
	bool unchanged;       /* the Via line is copied byte for byte */
	const char *received; /* expected received= ("" none) */
	const char *rport;    /* expected rport= (NULL: no rport param) */
} via_cases[] = {
	/* sent-by is the source address: nothing to add */
	{ "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa", "192.0.2.1", 5060, true,
	  "", NULL },
	{ "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa", "192.0.2.1", 40000, true, "",
	  NULL },
	/* sent-by differs: received, but no rport unless asked */
	{ "SIP/2.0/UDP pc33.example.com;branch=z9hG4bKa", "192.0.2.1", 5060,
	  false, "192.0.2.1", NULL },
	{ "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa", "192.0.2.1", 5060, false,
	  "192.0.2.1", NULL },
	/* rport asked: filled, and received always added (RFC 3581 4) */
	{ "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport", "192.0.2.1", 5062,
	  false, "192.0.2.1", "5062" },
	{ "SIP/2.0/UDP 10.0.0.1;RPORT;branch=z9hG4bKa", "192.0.2.1", 1024,
	  false, "192.0.2.1", "1024" },
	/* SEMI = SWS ";" SWS: LWS around the ';' of a bare rport */
	{ "SIP/2.0/UDP 10.0.0.1 ; rport ;branch=z9hG4bKa", "192.0.2.1", 1024,
	  false, "192.0.2.1", "1024" },
	{ "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa; rport", "192.0.2.1", 1024,
	  false, "192.0.2.1", "1024" },
	/* a parameter that only starts with "rport" is not rport */
	{ "SIP/2.0/UDP 10.0.0.1;rportx=1;branch=z9hG4bKa;rport", "192.0.2.1", 7,
	  false, "192.0.2.1", "7" },
	/* rport with a value already: left alone */
	{ "SIP/2.0/UDP 192.0.2.1;rport=5060;branch=z9hG4bKa", "192.0.2.1", 5060,
	  true, "", "5060" },
	/* received already there: not added twice */
	{ "SIP/2.0/UDP 10.0.0.1;received=192.0.2.1;rport;branch=z9hG4bKa",
	  "192.0.2.1", 5555, false, "192.0.2.1", "5555" },
	/* IPv6: the sent-by in brackets equals the source */
	{ "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa", "2001:db8::1", 5060,
	  true, "", NULL },
	{ "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa", "2001:db8::2", 5060,
	  false, "2001:db8::2", NULL },
	{ "SIP/2.0/TCP [2001:db8::1];rport;branch=z9hG4bKa", "2001:db8::1",
	  6000, false, "2001:db8::1", "6000" },
	/* the same address in another spelling is the same address (RFC
	 * 3261 18.2.1 compares addresses, not text) */
	{ "SIP/2.0/UDP [2001:DB8:0::1]:5060;branch=z9hG4bKa", "2001:db8::1",
	  5060, true, "", NULL },
	{ "SIP/2.0/UDP 192.0.2.001;branch=z9hG4bKa", "192.0.2.1", 5060, true,
	  "", NULL },
	/* an IPv4 sent-by and an IPv4-mapped IPv6 source are not the same */
	{ "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa", "::ffff:192.0.2.1", 5060,
	  false, "::ffff:192.0.2.1", NULL },
	{ "SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKa", "192.0.2.1", 5060, false,
	  "192.0.2.1", NULL },
	/* the source is unknown: copied as is */
	{ "SIP/2.0/UDP pc33.example.com;rport;branch=z9hG4bKa", NULL, 0, true,
	  "", "" },
	/* several values on the top line, and a folded top line */
	{ "SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP "
	  "b.example.com;branch=z9hG4bKb",
	  "192.0.2.9", 5060, false, "192.0.2.9", NULL },
	{ "SIP/2.0/UDP a.example.com\r\n ;branch=z9hG4bKa ;rport,\r\n"
	  " SIP/2.0/UDP b.example.com;branch=z9hG4bKb",
	  "192.0.2.9", 5099, false, "192.0.2.9", "5099" },
};


static void test_reply_via(void **state)
{
	char req[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(via_cases) / sizeof(via_cases[0]); i++) {
		const struct sip_via *via, *rvia;
		struct pair *pr;
		int n;

		n = snprintf(
			req, sizeof(req),
			"OPTIONS sip:bob@example.com SIP/2.0\r\n"
			"Via: %s\r\n"
			"Via: SIP/2.0/UDP below.example.com;branch=z9hG4bKz\r\n"
			"From: <sip:alice@example.com>;tag=f\r\n"
			"To: <sip:bob@example.com>\r\n"
			"Call-ID: via%zu@example.com\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"Content-Length: 0\r\n\r\n",
			via_cases[i].via, i);
		assert_true(n > 0 && (size_t)n < sizeof(req));
		pr = pair_str(req, via_cases[i].src, via_cases[i].port);
		pair_reply(pr, 200, NULL);

		via = top_via(&pr->resp);
		rvia = top_via(&pr->req);
		if (via_cases[i].unchanged) {
			assert_pl_pl(&sip_msg_hdr(&pr->resp, SIP_HDR_VIA)->val,
				     &sip_msg_hdr(&pr->req, SIP_HDR_VIA)->val);
		}
		/* what identifies the transaction never changes */
		assert_pl_pl(&via->branch, &rvia->branch);
		assert_pl_pl(&via->host, &rvia->host);
		assert_int_equal(via->port, rvia->port);
		assert_pl_pl(&via->transp, &rvia->transp);
		assert_pl_eq(&via->received, via_cases[i].received);
		assert_true(param_count(&via->params, "received") <= 1);
		if (via_cases[i].rport) {
			assert_true(via->has_rport);
			assert_pl_eq(&via->rport, via_cases[i].rport);
			if (param_count(&via->params, "rport") != 1)
				fail_msg("case %zu: rport %u times in %.*s", i,
					 param_count(&via->params, "rport"),
					 PL_FMT(&via->val));
		} else {
			assert_false(via->has_rport);
		}
		/* every Via value after the top one is unchanged */
		same_values(&pr->req, &pr->resp, SIP_HDR_VIA, 1);
		assert_int_equal(pr->resp.nlines[SIP_HDR_VIA], 2);

		/* sip_build_vias() writes exactly the Via lines of the reply */
		{
			struct buf *mb;
			const struct sip_hdr *first, *last;
			const char *from, *to;

			assert_int_equal(buf_alloc(&mb, 256, SIP_MSG_MAX), 0);
			assert_int_equal(sip_build_vias(mb, &pr->req), 0);
			first = sip_msg_hdr(&pr->resp, SIP_HDR_VIA);
			last = sip_msg_hdr_next(&pr->resp, first);
			from = first->name.p;
			to = last->val.p + last->val.l + 2;
			assert_int_equal(mb->end, (size_t)(to - from));
			assert_memory_equal(mb->b, from, mb->end);
			mem_deref(mb);
		}
		pair_free(pr);
	}
}


static void test_reply_body(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
	struct sip_reply_opts opts = { 0 };
	struct pair *pr = pair_str(invite, "192.0.2.1", 9988);
	const struct sip_hdr *h;
	size_t msglen, skip;
	uint32_t cl;

	(void)state;
	opts.reason = "Fine Thanks";
	opts.hdrs = "Allow: INVITE, ACK, BYE\r\nSupported: path\r\n"
		    "Contact: <sip:bob@192.0.2.4>\r\n";
	opts.ctype = "application/sdp";
	pl_set(&opts.body, sdp, sizeof(sdp) - 1);
	pair_reply(pr, 200, &opts);

	assert_pl_eq(&pr->resp.start, "SIP/2.0 200 Fine Thanks");
	assert_pl_eq(&pr->resp.body, sdp);
	assert_int_equal(sip_msg_clen(&pr->resp, &cl), 0);
	assert_int_equal(cl, sizeof(sdp) - 1);
	h = sip_msg_hdr(&pr->resp, SIP_HDR_CONTENT_TYPE);
	assert_non_null(h);
	assert_pl_eq(&h->val, "application/sdp");
	assert_int_equal(pr->resp.nlines[SIP_HDR_CONTENT_LENGTH], 1);
	assert_int_equal(count_values(&pr->resp, SIP_HDR_ALLOW), 3);
	assert_true(sip_msg_has_tag(&pr->resp, SIP_HDR_SUPPORTED, "path"));
	h = sip_msg_hdr(&pr->resp, SIP_HDR_CONTACT);
	assert_non_null(h);
	assert_pl_eq(&h->val, "<sip:bob@192.0.2.4>");
	/* on a stream the framer finds the whole response */
	assert_int_equal(
		sip_msg_frame(pr->respbuf, pr->resplen, &msglen, &skip), 0);
	assert_int_equal(msglen, pr->resplen);

	/* a body without a type: the length is still right */
	opts.ctype = NULL;
	opts.reason = NULL;
	opts.hdrs = NULL;
	pair_reply(pr, 486, &opts);
	assert_pl_eq(&pr->resp.start, "SIP/2.0 486 Busy Here");
	assert_pl_eq(&pr->resp.body, sdp);
	assert_null(sip_msg_hdr(&pr->resp, SIP_HDR_CONTENT_TYPE));

	/* no body: Content-Length 0 and the message ends at the empty line */
	memset(&opts, 0, sizeof(opts));
	opts.ctype = "application/sdp"; /* no body, so no type either */
	pair_reply(pr, 404, &opts);
	assert_int_equal(pr->resp.body.l, 0);
	assert_int_equal(sip_msg_clen(&pr->resp, &cl), 0);
	assert_int_equal(cl, 0);
	assert_null(sip_msg_hdr(&pr->resp, SIP_HDR_CONTENT_TYPE));
	assert_memory_equal(pr->respbuf + pr->resplen - 4, "\r\n\r\n", 4);
	pair_free(pr);
}


static void test_reply_errors(void **state)
{
	struct pair *pr = pair_str(invite, "192.0.2.1", 9988);
	struct sip_msg resp;
	struct sip_msg_err err;
	struct buf *mb;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 64, SIP_MSG_MAX), 0);
	assert_int_equal(sip_reply_build(mb, &pr->req, 99, NULL), EINVAL);
	assert_int_equal(sip_reply_build(mb, &pr->req, 700, NULL), EINVAL);
	assert_int_equal(sip_reply_build(mb, &pr->req, 0, NULL), EINVAL);
	assert_int_equal(mb->end, 0);

	/* a response is not answered */
	pair_reply(pr, 200, NULL);
	memcpy(&resp, &pr->resp, sizeof(resp));
	assert_int_equal(sip_reply_build(mb, &resp, 200, NULL), EINVAL);
	mem_deref(mb);

	/* the buffer ceiling is honoured, and a response that does not fit
	 * leaves nothing behind (the room is reserved before writing) */
	assert_int_equal(buf_alloc(&mb, 16, 100), 0);
	assert_int_equal(sip_reply_build(mb, &pr->req, 200, NULL), ENOMEM);
	assert_int_equal(mb->end, 0);
	assert_int_equal(mb->pos, 0);
	mem_deref(mb);
	{
		/* storage that cannot grow (a caller's stack): too small,
		 * then large enough, appended after what is there */
		uint8_t st[1024];
		struct buf sb = { st, 64, 0, 0, 64, true };

		assert_int_equal(sip_reply_build(&sb, &pr->req, 200, NULL),
				 ENOMEM);
		assert_int_equal(sb.end, 0);
		sb.size = sb.max = sizeof(st);
		memcpy(st, "XY", 2);
		sb.pos = sb.end = 2;
		assert_int_equal(sip_reply_build(&sb, &pr->req, 200, NULL), 0);
		assert_int_equal(sb.pos, sb.end);
		assert_memory_equal(st, "XYSIP/2.0 200 OK\r\n", 18);
		assert_memory_equal(st + sb.end - 4, "\r\n\r\n", 4);
	}

	/* a request that decodes but lacks the headers to copy still gives
	 * a well-formed status line and Content-Length */
	{
		static const char bare[] = "OPTIONS sip:x SIP/2.0\r\n\r\n";
		struct sip_msg req;
		char *p = tail_dup(bare, sizeof(bare) - 1);

		assert_int_equal(
			sip_msg_decode(&req, p, sizeof(bare) - 1, true, &err),
			0);
		assert_int_equal(buf_alloc(&mb, 64, SIP_MSG_MAX), 0);
		assert_int_equal(sip_reply_build(mb, &req, 400, NULL), 0);
		assert_int_equal(sip_msg_decode(&resp, (const char *)mb->b,
						mb->end, true, &err),
				 0);
		assert_int_equal(resp.scode, 400);
		assert_int_equal(resp.body.l, 0);
		mem_deref(mb);
		free(p);
	}
	pair_free(pr);
}


/* RFC 3261 8.2.6.2: the same request (a retransmission) gets the same
 * to-tag; another request gets another one */
static void test_totag_stable(void **state)
{
	struct pair *a = pair_str(invite, "192.0.2.1", 9988);
	struct pair *b = pair_str(invite, "192.0.2.1", 9988);
	struct pair *c;
	char t1[24], t2[24], t3[24], t4[24];
	char *other;
	size_t n;

	(void)state;
	sip_totag_make(&a->req, t1, sizeof(t1));
	sip_totag_make(&a->req, t2, sizeof(t2));
	sip_totag_make(&b->req, t3, sizeof(t3));
	assert_string_equal(t1, t2);
	assert_string_equal(t1, t3);
	/* 16 lowercase hex digits: a token (RFC 3261 25.1 tag-param) */
	assert_int_equal(strlen(t1), 16);
	assert_int_equal(strspn(t1, "0123456789abcdef"), 16);

	/* two replies to the retransmission are the same bytes */
	pair_reply(a, 486, NULL);
	pair_reply(b, 486, NULL);
	assert_int_equal(a->resplen, b->resplen);
	assert_memory_equal(a->respbuf, b->respbuf, a->resplen);

	/* another branch (a new transaction) gives another tag */
	other = tail_dup(invite, sizeof(invite) - 1);
	n = sizeof(invite) - 1;
	memcpy(strstr(other, "z9hG4bKkjshdyff"), "z9hG4bKkjshdyfg", 15);
	c = pair_new(other, n, "192.0.2.1", 9988);
	sip_totag_make(&c->req, t4, sizeof(t4));
	assert_string_not_equal(t1, t4);
	pair_free(c);

	/* so does another From tag, and another Call-ID */
	memcpy(strstr(other, "z9hG4bKkjshdyfg"), "z9hG4bKkjshdyff", 15);
	memcpy(strstr(other, "tag=1928301774"), "tag=1928301775", 14);
	c = pair_new(other, n, "192.0.2.1", 9988);
	sip_totag_make(&c->req, t4, sizeof(t4));
	assert_string_not_equal(t1, t4);
	pair_free(c);
	memcpy(strstr(other, "tag=1928301775"), "tag=1928301774", 14);
	memcpy(strstr(other, "a84b4c76e66710"), "a84b4c76e66711", 14);
	c = pair_new(other, n, "192.0.2.1", 9988);
	sip_totag_make(&c->req, t4, sizeof(t4));
	assert_string_not_equal(t1, t4);

	/* a short buffer is NUL-terminated */
	sip_totag_make(&a->req, t4, 5);
	assert_int_equal(strlen(t4), 4);
	assert_memory_equal(t4, t1, 4);

	free(other);
	pair_free(a);
	pair_free(b);
	pair_free(c);
}


/* Answers to the well-formed RFC 4475 requests parse back and keep what
 * they must (folding, odd case, compact forms and all). */
static void test_reply_torture(void **state)
{
	static const char *const files[] = {
		"wsinv.dat",      "intmeth.dat",   "esc01.dat",
		"escnull.dat",    "esc02.dat",     "lwsdisp.dat",
		"longreq.dat",    "dblreq.dat",    "semiuri.dat",
		"transports.dat", "mpart01.dat",   "baddate.dat",
		"regbadct.dat",   "badbranch.dat", "unkscm.dat",
		"novelsc.dat",    "unksm2.dat",    "bext01.dat",
		"invut.dat",      "regaut01.dat",  "zeromf.dat",
		"cparam01.dat",   "cparam02.dat",  "regescrt.dat",
		"sdp01.dat",      "inv2543.dat",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct sip_addr *to, *rto;
		const struct sip_via *via;
		char path[512], *text;
		struct pair *pr;
		FILE *f;
		long n;

		(void)snprintf(path, sizeof(path), "%s/messages/%s",
			       ENTIMS_RFC4475_DIR, files[i]);
		f = fopen(path, "rb");
		if (!f)
			fail_msg("cannot open %s", path);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		n = ftell(f);
		assert_true(n > 0);
		assert_int_equal(fseek(f, 0, SEEK_SET), 0);
		text = malloc((size_t)n);
		assert_non_null(text);
		assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
		assert_int_equal(fclose(f), 0);

		pr = pair_new(text, (size_t)n, "198.51.100.7", 5999);
		pair_reply(pr, 400, NULL);
		assert_int_equal(count_values(&pr->resp, SIP_HDR_VIA),
				 count_values(&pr->req, SIP_HDR_VIA));
		same_values(&pr->req, &pr->resp, SIP_HDR_VIA, 1);
		via = top_via(&pr->resp);
		assert_pl_eq(&via->received, "198.51.100.7");
		same_raw(&pr->req, &pr->resp, SIP_HDR_FROM);
		same_raw(&pr->req, &pr->resp, SIP_HDR_CALL_ID);
		same_raw(&pr->req, &pr->resp, SIP_HDR_CSEQ);
		assert_int_equal(sip_msg_to(&pr->req, &rto), 0);
		assert_int_equal(sip_msg_to(&pr->resp, &to), 0);
		assert_true(to->tag.l > 0);
		if (rto->tag.l)
			assert_pl_pl(&to->tag, &rto->tag);
		pair_free(pr);
		free(text);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reply_rfc3581, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_reply_tags, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_reply_via, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_reply_body, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_reply_errors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_totag_stable, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_reply_torture, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_build", tests, NULL, NULL);
}
