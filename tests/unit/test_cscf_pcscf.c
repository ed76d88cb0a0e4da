/**
 * @file test_cscf_pcscf.c  The P-CSCF module (cscf/pcscf.h) without
 *                          sockets: decoded messages with a flow in,
 *                          decisions out.
 *
 * A phone (192.0.2.10:5062 over UDP, NAT'd address as the source)
 * registers through the P-CSCF; the core is 127.0.0.10 (any port).
 * Tables cover: the REGISTER rewrite (Path with the flow token, Require
 * and Supported path, P-Visited-Network-ID, P-Charging-Vector, trusted
 * headers removed, next hop), what a 2xx keeps (Service-Route,
 * P-Associated-URI, expiry, reg event parameters), deregistration and
 * expiry, requests from the phone (403 unregistered, identity assertion
 * and refusal, Service-Route, in-dialog routes), requests from the core
 * (flow from the token, forged and stale tokens, privacy), responses in
 * both directions, drop by reg event, capacity, and the token itself.
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
#include "cscf/pcscf.h"
#include "net/sa.h"
#include "sip/msg.h"

#define ME      "sip:pcscf.ims.test:5060"
#define PHONE   "192.0.2.10"
#define PPORT   5062
#define CORE    "127.0.0.10"
#define T0      1000000u
#define ALICE   "sip:alice@ims.test"
#define ATEL    "tel:+15145550100"
#define CONTACT "sip:alice@192.0.2.10:5062"
#define SR1     "<sip:orig@scscf1.ims.test:6060;lr>"
#define SR2     "<sip:as.ims.test;lr>"

static const uint8_t key[16] = "0123456789abcdef";

struct fx {
	struct pcscf *p;
	struct sa core;
	unsigned subs, drops;
	char sub_impu[128], sub_from[128], sub_route[256];
	uint32_t sub_expires;
	char drop_impu[128], drop_contact[128];
	bool any_contact; /* on_sub: phones other than CONTACT */
};

static struct fx F;


static void on_sub(const struct pcscf_subscribe *s, void *arg)
{
	struct fx *f = arg;
	size_t i, l = 0;

	f->subs++;
	(void)snprintf(f->sub_impu, sizeof(f->sub_impu), "%s", s->impu);
	(void)snprintf(f->sub_from, sizeof(f->sub_from), "%s", s->from);
	assert_string_equal(s->event, "reg");
	if (!f->any_contact)
		assert_string_equal(s->contact, CONTACT);
	f->sub_expires = s->expires;
	f->sub_route[0] = '\0';
	for (i = 0; i < s->route_n; i++)
		l += (size_t)snprintf(f->sub_route + l,
				      sizeof(f->sub_route) - l, "%s%s",
				      i ? "," : "", s->route[i]);
}


static void on_drop(const char *impu, const char *contact, void *arg)
{
	struct fx *f = arg;

	f->drops++;
	(void)snprintf(f->drop_impu, sizeof(f->drop_impu), "%s", impu);
	(void)snprintf(f->drop_contact, sizeof(f->drop_contact), "%s", contact);
}


static void fx_alloc(const char *icscf, uint32_t max_phones)
{
	const struct pcscf_hooks hooks = { on_sub, on_drop };
	struct pcscf_conf c;

	memset(&c, 0, sizeof(c));
	c.uri = ME;
	c.icscf = icscf;
	c.visited_network = "ims.test";
	c.orig_ioi = "ims.test";
	c.core = &F.core;
	c.core_n = 1;
	c.key = key;
	c.key_len = sizeof(key);
	c.max_phones = max_phones;
	assert_int_equal(pcscf_alloc(&F.p, &c, &hooks, &F), 0);
}


static int setup(void **state)
{
	int r = mem_mark(state);

	memset(&F, 0, sizeof(F));
	loop_close();
	assert_int_equal(loop_init(0), 0);
	tmr_test_set_now(T0);
	assert_int_equal(sa_set_str(&F.core, CORE, 0), 0);
	fx_alloc("sip:icscf.ims.test", 0);
	return r;
}


static int teardown(void **state)
{
	pcscf_close(F.p);
	F.p = mem_deref(F.p);
	tmr_test_set_now(0);
	loop_close();
	return mem_expect_no_leaks(state);
}


/* ---- messages ---- */

static struct sip_msg *msg_make(const char *text, enum sip_transp tp,
				const char *src, uint16_t port)
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
	m->tp = tp;
	assert_int_equal(sa_set_str(&m->src, src, port), 0);
	assert_int_equal(sa_set_str(&m->dst, "192.0.2.1", 5060), 0);
	return m;
}


static struct sip_msg *from_phone(const char *text)
{
	return msg_make(text, SIP_TRANSP_UDP, PHONE, PPORT);
}


static struct sip_msg *from_core(const char *text)
{
	return msg_make(text, SIP_TRANSP_UDP, CORE, 6060);
}


/* The message text (NUL-terminated copy). */
static const char *text_of(const struct sip_msg *m)
{
	static char t[8192];

	assert_true(m->len < sizeof(t));
	memcpy(t, m->p, m->len);
	t[m->len] = '\0';
	return t;
}


static bool has(const struct sip_msg *m, const char *s)
{
	return strstr(text_of(m), s) != NULL;
}


static void expect_has(const struct sip_msg *m, const char *s, bool yes)
{
	if (has(m, s) != yes)
		fail_msg("%s \"%s\" in:\n%s", yes ? "missing" : "unexpected", s,
			 text_of(m));
}


#define REGISTER_FMT                                                 \
	"REGISTER sip:ims.test SIP/2.0\r\n"                          \
	"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr%u;rport\r\n" \
	"Max-Forwards: 70\r\n"                                       \
	"Route: <sip:pcscf.ims.test:5060;lr>\r\n"                    \
	"From: <" ALICE ">;tag=r1\r\n"                               \
	"To: <" ALICE ">\r\n"                                        \
	"Call-ID: reg-1\r\n"                                         \
	"CSeq: %u REGISTER\r\n"                                      \
	"Contact: <" CONTACT ">%s\r\n"                               \
	"P-Asserted-Identity: <sip:boss@ims.test>\r\n"               \
	"P-Preferred-Identity: <sip:boss@ims.test>\r\n"              \
	"P-Charging-Vector: icid-value=forged\r\n"                   \
	"P-Charging-Function-Addresses: ccf=evil.example\r\n"        \
	"P-Served-User: <sip:boss@ims.test>\r\n"                     \
	"Path: <sip:made-up.example;lr>\r\n"                         \
	"Supported: path, outbound\r\n"                              \
	"Content-Length: 0\r\n\r\n"

static struct sip_msg *register_req(unsigned cseq, const char *cparams)
{
	char t[4096];

	(void)snprintf(t, sizeof(t), REGISTER_FMT, cseq, cseq, cparams);
	return from_phone(t);
}


static struct sip_msg *register_ok(unsigned cseq, const char *contact_line)
{
	char t[4096];

	(void)snprintf(t, sizeof(t),
		       "SIP/2.0 200 OK\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr%u\r\n"
		       "From: <" ALICE ">;tag=r1\r\n"
		       "To: <" ALICE ">;tag=s1\r\n"
		       "Call-ID: reg-1\r\n"
		       "CSeq: %u REGISTER\r\n"
		       "%s"
		       "Service-Route: " SR1 "\r\n"
		       "Service-Route: " SR2 "\r\n"
		       "P-Associated-URI: <" ALICE ">, <" ATEL ">\r\n"
		       "P-Charging-Vector: icid-value=abc;term-ioi=x\r\n"
		       "Content-Length: 0\r\n\r\n",
		       cseq, cseq, contact_line);
	return msg_make(t, SIP_TRANSP_UDP, CORE, 6060);
}


/* REGISTER, then its 200 with the contact for `expires` s. */
static void do_register(unsigned cseq, uint32_t expires)
{
	struct sip_msg *req = register_req(cseq, "");
	struct sip_msg *resp;
	struct pcscf_out out;
	char cl[256];

	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	pcscf_out_reset(&out);
	(void)snprintf(cl, sizeof(cl), "Contact: <" CONTACT ">;expires=%u\r\n",
		       expires);
	resp = register_ok(cseq, cl);
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	assert_true(out.to_phone);
	pcscf_out_reset(&out);
	mem_deref(resp);
	mem_deref(req);
}


/* ---- REGISTER ---- */

static void test_register_rewrite(void **state)
{
	static const struct {
		const char *s;
		bool yes;
	} want[] = {
		/* the I-CSCF as a loose route on top */
		{ "Route: <sip:icscf.ims.test;lr>\r\n", true },
		{ "Route: <sip:pcscf.ims.test:5060;lr>", false },
		{ "Path: <sip:", true },
		{ "@pcscf.ims.test:5060;lr>\r\n", true },
		{ "made-up.example", false },
		{ "Require: path\r\n", true },
		/* the phone said it supports path: no second line */
		{ "Supported: path\r\n", false },
		{ "P-Visited-Network-ID: ims.test\r\n", true },
		{ "P-Charging-Vector: icid-value=", true },
		{ ";icid-generated-at=pcscf.ims.test;orig-ioi=ims.test\r\n",
		  true },
		{ "icid-value=forged", false },
		{ "P-Asserted-Identity", false },
		{ "P-Preferred-Identity", false },
		{ "P-Charging-Function-Addresses", false },
		{ "P-Served-User", false },
		{ "sip:boss@ims.test", false },
		{ "Contact: <" CONTACT ">\r\n", true },
	};
	struct sip_msg *req = register_req(1, "");
	struct sip_hdr_iter it = { 0 };
	struct pcscf_out out;
	enum sip_transp tp;
	struct sa src, want_src;
	struct pl v, tok;
	size_t i;

	(void)state;
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	assert_false(out.to_phone);
	assert_string_equal(out.next_hop, "sip:icscf.ims.test");
	assert_false(out.locate);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_has(out.msg, want[i].s, want[i].yes);

	/* the Path token names the phone's flow, HMAC and all */
	assert_true(sip_msg_hdr_value_next(out.msg, SIP_HDR_PATH, &it, &v));
	assert_false(sip_msg_hdr_value_next(out.msg, SIP_HDR_PATH, &it, &v));
	tok.p = strstr(text_of(out.msg), "Path: <sip:") + 11;
	tok.l = (size_t)(strchr(tok.p, '@') - tok.p);
	tok.p = out.msg->p + (tok.p - text_of(out.msg));
	assert_int_equal(pcscf_token_check(F.p, &tok, &tp, &src), 0);
	assert_int_equal(tp, SIP_TRANSP_UDP);
	assert_int_equal(sa_set_str(&want_src, PHONE, PPORT), 0);
	assert_true(sa_eq(&src, &want_src));
	/* the original is untouched, so it can still be answered */
	assert_non_null(strstr(req->p, "P-Served-User"));
	/* two REGISTERs, two icid-values */
	{
		char icid[64];
		struct pcscf_out out2;
		const char *a = strstr(text_of(out.msg), "icid-value=");

		(void)snprintf(icid, sizeof(icid), "%.*s",
			       (int)(strchr(a, ';') - a), a);
		assert_int_equal(pcscf_request(F.p, req, &out2), 0);
		expect_has(out2.msg, "icid-value=", true);
		expect_has(out2.msg, icid, false);
		pcscf_out_reset(&out2);
	}
	assert_int_equal(pcscf_count(F.p), 0); /* nothing kept before a 2xx */
	pcscf_out_reset(&out);
	mem_deref(req);
}


static void test_register_by_dns(void **state)
{
	struct sip_msg *req;
	struct pcscf_out out;

	(void)state;
	F.p = mem_deref(F.p);
	fx_alloc(NULL, 0);
	req = register_req(1, "");
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	/* RFC 3263 on the home domain of the Request-URI */
	assert_string_equal(out.next_hop, "sip:ims.test");
	assert_true(out.locate);
	expect_has(out.msg, "Route:", false);
	pcscf_out_reset(&out);
	mem_deref(req);
}


static void test_register_keeps(void **state)
{
	struct pcscf_phone ph;
	struct sa src;
	struct pl pl;

	(void)state;
	do_register(1, 600);
	assert_int_equal(pcscf_count(F.p), 1);
	assert_int_equal(sa_set_str(&src, PHONE, PPORT), 0);
	assert_true(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &src));
	assert_false(pcscf_flow_registered(F.p, SIP_TRANSP_TCP, &src));
	pl_set_str(&pl, ATEL);
	assert_true(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "sip:ALICE@IMS.TEST");
	assert_false(pcscf_impu_registered(F.p, &pl)); /* user is case-exact */
	pl_set_str(&pl, "sip:alice@IMS.test");
	assert_true(pcscf_impu_registered(F.p, &pl));
	/* the indexes follow URI equality: escapes (RFC 3261 19.1.4) and
	 * tel: visual separators (RFC 3966 4) do not hide a phone */
	pl_set_str(&pl, "sip:%61lice@ims.test");
	assert_true(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "tel:+1-514-555-0100");
	assert_true(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "tel:+15145550101");
	assert_false(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, CONTACT);
	assert_true(pcscf_contact_registered(F.p, &pl));
	pl_set_str(&pl, "sip:%61lice@192.0.2.10:5062");
	assert_true(pcscf_contact_registered(F.p, &pl));
	pl_set_str(&pl, "sip:alice@192.0.2.10:5063");
	assert_false(pcscf_contact_registered(F.p, &pl));
	pl_set_str(&pl, ATEL);
	assert_int_equal(pcscf_phone_get(F.p, &pl, &ph), 0);
	assert_string_equal(ph.impu, ALICE);
	assert_int_equal(ph.ids_n, 2);
	assert_string_equal(ph.ids[0], ALICE);
	assert_string_equal(ph.ids[1], ATEL);
	assert_int_equal(ph.route_n, 2);
	assert_string_equal(ph.route[0], SR1);
	assert_string_equal(ph.route[1], SR2);
	assert_int_equal(ph.expires, 600);

	/* TS 24.229 5.2.3: subscribe to the reg event once */
	assert_int_equal(F.subs, 1);
	assert_string_equal(F.sub_impu, ALICE);
	assert_string_equal(F.sub_from, ME);
	assert_string_equal(F.sub_route, SR1 "," SR2);
	assert_int_equal(F.sub_expires, 600000);

	/* a re-registration refreshes, no new subscription */
	tmr_test_set_now(T0 + 300000);
	do_register(2, 600);
	assert_int_equal(F.subs, 1);
	assert_int_equal(pcscf_count(F.p), 1);
	pl_set_str(&pl, ALICE);
	assert_int_equal(pcscf_phone_get(F.p, &pl, &ph), 0);
	assert_int_equal(ph.expires, 600);

	/* expiry drops it and tells the wiring */
	tmr_test_set_now(T0 + 300000 + 600001);
	tmr_poll();
	assert_int_equal(pcscf_count(F.p), 0);
	assert_int_equal(F.drops, 1);
	assert_string_equal(F.drop_impu, ALICE);
	assert_string_equal(F.drop_contact, CONTACT);
	assert_false(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &src));
}


static void test_deregister(void **state)
{
	static const struct {
		const char *cparams;    /* the REGISTER's Contact params */
		const char *contact_ok; /* the 200's Contact lines */
		bool star;
	} cases[] = {
		/* expires=0: the 200 lists no binding */
		{ ";expires=0", "", false },
		/* the 200 lists someone else's binding only */
		{ ";expires=0",
		  "Contact: <sip:alice@198.51.100.7>;expires=99\r\n", false },
		/* the 200 grants 0 */
		{ ";expires=0", "Contact: <" CONTACT ">;expires=0\r\n", false },
		/* Contact: * */
		{ NULL, "", true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *req, *resp;
		struct pcscf_out out;

		do_register(1, 600);
		assert_int_equal(pcscf_count(F.p), 1);
		F.drops = 0;
		if (cases[i].star) {
			char t[1024];

			(void)snprintf(t, sizeof(t),
				       "REGISTER sip:ims.test SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP "
				       "10.0.0.5:5062;branch=z9hG4bKd\r\n"
				       "From: <" ALICE ">;tag=r1\r\n"
				       "To: <" ALICE ">\r\n"
				       "Call-ID: reg-1\r\nCSeq: 9 REGISTER\r\n"
				       "Contact: *\r\nExpires: 0\r\n"
				       "Content-Length: 0\r\n\r\n");
			req = from_phone(t);
		} else {
			req = register_req(2, cases[i].cparams);
		}
		resp = register_ok(2, cases[i].contact_ok);
		assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
		pcscf_out_reset(&out);
		assert_int_equal(pcscf_count(F.p), 0);
		assert_int_equal(F.drops, 1);
		mem_deref(resp);
		mem_deref(req);
	}
}


/* A 4xx keeps nothing; a REGISTER from another port moves the flow. */
static void test_register_flow_moves(void **state)
{
	struct sip_msg *req, *resp;
	struct pcscf_out out;
	struct sa a, b;

	(void)state;
	req = register_req(1, "");
	resp = msg_make("SIP/2.0 401 Unauthorized\r\n"
			"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr1\r\n"
			"From: <" ALICE ">;tag=r1\r\nTo: <" ALICE ">;tag=x\r\n"
			"Call-ID: reg-1\r\nCSeq: 1 REGISTER\r\n"
			"Content-Length: 0\r\n\r\n",
			SIP_TRANSP_UDP, CORE, 6060);
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	pcscf_out_reset(&out);
	assert_int_equal(pcscf_count(F.p), 0);
	mem_deref(resp);
	mem_deref(req);

	do_register(2, 600);
	req = register_req(3, "");
	assert_int_equal(sa_set_str(&req->src, PHONE, 40000), 0);
	resp = register_ok(3, "Contact: <" CONTACT ">;expires=600\r\n");
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	pcscf_out_reset(&out);
	assert_int_equal(pcscf_count(F.p), 1);
	assert_int_equal(F.subs, 1);
	assert_int_equal(sa_set_str(&a, PHONE, PPORT), 0);
	assert_int_equal(sa_set_str(&b, PHONE, 40000), 0);
	assert_false(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &a));
	assert_true(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &b));
	mem_deref(resp);
	mem_deref(req);
}


static void test_capacity(void **state)
{
	struct sip_msg *req;
	struct pcscf_out out;

	(void)state;
	F.p = mem_deref(F.p);
	fx_alloc("sip:icscf.ims.test", 1);
	do_register(1, 600);
	/* the same phone may register again */
	req = register_req(2, "");
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	pcscf_out_reset(&out);
	/* another one may not */
	assert_int_equal(sa_set_str(&req->src, "192.0.2.11", PPORT), 0);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_REPLY);
	assert_int_equal(out.scode, 503);
	mem_deref(req);
}


/* ---- requests from the phone ---- */

#define INVITE_FMT                                                  \
	"%s sip:bob@ims.test SIP/2.0\r\n"                           \
	"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKi1;rport\r\n" \
	"Max-Forwards: 70\r\n"                                      \
	"%s"                                                        \
	"From: \"Alice\" <" ALICE ">;tag=a1\r\n"                    \
	"To: <sip:bob@ims.test>%s\r\n"                              \
	"Call-ID: call-1\r\n"                                       \
	"CSeq: 1 %s\r\n"                                            \
	"Contact: <" CONTACT ">\r\n"                                \
	"%s"                                                        \
	"Content-Length: 0\r\n\r\n"

static void test_phone_requests(void **state)
{
	static const struct {
		const char *name;
		const char *method;
		const char *route; /* Route lines the phone sent */
		const char *totag;
		const char *extra; /* other header lines */
		uint16_t scode;    /* 0: forwarded */
		const char *want[6];
		const char * not [6];
	} cases[] = {
		{ "no preference: the default identity",
		  "INVITE",
		  "Route: <sip:pcscf.ims.test:5060;lr>, <sip:elsewhere;lr>\r\n",
		  "",
		  "P-Asserted-Identity: <sip:boss@ims.test>\r\n",
		  0,
		  { "P-Asserted-Identity: <" ALICE ">\r\n",
		    "Route: " SR1 ", " SR2 "\r\n", "P-Charging-Vector: icid",
		    "Record-Route: <sip:", NULL },
		  { "boss", "elsewhere", "Route: <sip:pcscf", NULL } },
		{ "a preferred identity of theirs",
		  "INVITE",
		  "",
		  "",
		  "P-Preferred-Identity: \"Desk\" <" ATEL ">\r\n",
		  0,
		  { "P-Asserted-Identity: \"Desk\" <" ATEL ">\r\n", NULL },
		  { "P-Preferred-Identity", NULL } },
		{ "a preferred identity not theirs",
		  "MESSAGE",
		  "",
		  "",
		  "P-Preferred-Identity: <sip:bob@ims.test>\r\n",
		  403,
		  { NULL },
		  { NULL } },
		{ "no dialog: no Record-Route",
		  "MESSAGE",
		  "",
		  "",
		  "P-Served-User: <sip:bob@ims.test>\r\n"
		  "P-Charging-Function-Addresses: ccf=x\r\n",
		  0,
		  { "P-Charging-Vector: icid", "Route: " SR1, NULL },
		  { "Record-Route", "P-Served-User", "Charging-Function",
		    NULL } },
		{ "in dialog: our own Route goes, the rest stays",
		  "BYE",
		  "Route: <sip:tok@pcscf.ims.test:5060;lr>\r\n"
		  "Route: <sip:scscf1.ims.test:6060;lr>\r\n",
		  ";tag=b1",
		  "",
		  0,
		  { "Route: <sip:scscf1.ims.test:6060;lr>\r\n",
		    "P-Asserted-Identity: <" ALICE ">", NULL },
		  { "pcscf.ims.test", "P-Charging-Vector", "Record-Route", SR2,
		    NULL } },
	};
	size_t i, k;

	(void)state;
	do_register(1, 600);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pcscf_out out;
		struct sip_msg *req;
		char t[4096];

		(void)snprintf(t, sizeof(t), INVITE_FMT, cases[i].method,
			       cases[i].route, cases[i].totag, cases[i].method,
			       cases[i].extra);
		req = from_phone(t);
		assert_int_equal(pcscf_request(F.p, req, &out), 0);
		if (cases[i].scode) {
			if (out.act != PCSCF_REPLY ||
			    out.scode != cases[i].scode)
				fail_msg("%s: act %d scode %u", cases[i].name,
					 out.act, out.scode);
			assert_null(out.msg);
		} else {
			if (out.act != PCSCF_FORWARD)
				fail_msg("%s: act %d scode %u", cases[i].name,
					 out.act, out.scode);
			assert_false(out.to_phone);
			assert_string_equal(out.next_hop, "");
			for (k = 0; cases[i].want[k]; k++)
				expect_has(out.msg, cases[i].want[k], true);
			for (k = 0; cases[i].not [k]; k++)
				expect_has(out.msg, cases[i].not [k], false);
		}
		pcscf_out_reset(&out);
		mem_deref(req);
	}

	/* another flow of the same address is not registered */
	{
		struct pcscf_out out;
		struct sip_msg *req;
		char t[4096];

		(void)snprintf(t, sizeof(t), INVITE_FMT, "INVITE", "", "",
			       "INVITE", "");
		req = msg_make(t, SIP_TRANSP_TCP, PHONE, PPORT);
		assert_int_equal(pcscf_request(F.p, req, &out), 0);
		assert_int_equal(out.act, PCSCF_REPLY);
		assert_int_equal(out.scode, 403);
		assert_string_equal(out.reason, "Not registered");
		mem_deref(req);
	}
}


static void test_phone_unregistered(void **state)
{
	struct pcscf_out out;
	struct sip_msg *req;
	char t[4096];

	(void)state;
	(void)snprintf(t, sizeof(t), INVITE_FMT, "INVITE", "", "", "INVITE",
		       "");
	req = from_phone(t);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_REPLY);
	assert_int_equal(out.scode, 403);
	mem_deref(req);
}


/* ---- requests from the core ---- */

static void path_token(char *tok, size_t size, enum sip_transp tp,
		       const char *addr, uint16_t port)
{
	struct pcscf_flow f;

	memset(&f, 0, sizeof(f));
	f.tp = tp;
	assert_int_equal(sa_set_str(&f.src, addr, port), 0);
	assert_int_equal(pcscf_token_make(F.p, &f, tok, size), 0);
}


static void test_core_requests(void **state)
{
	char good[PCSCF_TOKEN_MAX], forged[PCSCF_TOKEN_MAX];
	char stale[PCSCF_TOKEN_MAX], tcp[PCSCF_TOKEN_MAX];
	struct {
		const char *name;
		const char *ruri;
		const char *method;
		const char *tok; /* NULL: no Route */
		const char *extra;
		enum pcscf_act act;
		uint16_t scode;
		const char *want[4];
		const char * not [5];
	} cases[] = {
		{ "to the phone over its flow",
		  CONTACT,
		  "INVITE",
		  good,
		  "P-Asserted-Identity: <sip:bob@ims.test>\r\n"
		  "P-Charging-Vector: icid-value=1\r\n"
		  "P-Charging-Function-Addresses: ccf=c\r\n"
		  "P-Served-User: <" ALICE ">\r\n",
		  PCSCF_FORWARD,
		  0,
		  { "P-Asserted-Identity: <sip:bob@ims.test>",
		    "Record-Route: <sip:", NULL },
		  { "\r\nRoute:", "P-Charging", "P-Served-User", NULL } },
		{ "privacy: the identity stays in the trust domain",
		  CONTACT,
		  "MESSAGE",
		  good,
		  "P-Asserted-Identity: <sip:bob@ims.test>\r\n"
		  "Privacy: id\r\n",
		  PCSCF_FORWARD,
		  0,
		  { "Privacy: id", NULL },
		  { "P-Asserted-Identity", "Record-Route", NULL } },
		{ "forged token",
		  CONTACT,
		  "INVITE",
		  forged,
		  "",
		  PCSCF_REPLY,
		  403,
		  { NULL },
		  { NULL } },
		{ "a flow no one registered",
		  CONTACT,
		  "INVITE",
		  stale,
		  "",
		  PCSCF_REPLY,
		  430,
		  { NULL },
		  { NULL } },
		{ "a stream flow with no connection",
		  CONTACT,
		  "INVITE",
		  tcp,
		  "",
		  PCSCF_REPLY,
		  430,
		  { NULL },
		  { NULL } },
		{ "the final NOTIFY of the phone's subscription, flow gone",
		  CONTACT,
		  "NOTIFY",
		  stale,
		  "Event: reg\r\n"
		  "Subscription-State: terminated;reason=noresource\r\n",
		  PCSCF_FORWARD,
		  0,
		  { "Subscription-State: terminated", NULL },
		  { "\r\nRoute:", "Record-Route", NULL } },
		{ "a NOTIFY that does not end it, flow gone",
		  CONTACT,
		  "NOTIFY",
		  stale,
		  "Event: reg\r\nSubscription-State: active\r\n",
		  PCSCF_REPLY,
		  430,
		  { NULL },
		  { NULL } },
		{ "the final NOTIFY, stream flow with no connection",
		  CONTACT,
		  "NOTIFY",
		  tcp,
		  "Event: reg\r\nSubscription-State: terminated\r\n",
		  PCSCF_REPLY,
		  430,
		  { NULL },
		  { NULL } },
		{ "no token, not for us",
		  CONTACT,
		  "INVITE",
		  NULL,
		  "",
		  PCSCF_REPLY,
		  404,
		  { NULL },
		  { NULL } },
		{ "the NOTIFY of our reg event subscription",
		  ME,
		  "NOTIFY",
		  NULL,
		  "",
		  PCSCF_LOCAL,
		  0,
		  { NULL },
		  { NULL } },
		{ "REGISTER from the core",
		  "sip:ims.test",
		  "REGISTER",
		  good,
		  "",
		  PCSCF_REPLY,
		  403,
		  { NULL },
		  { NULL } },
	};
	size_t i, k;

	(void)state;
	do_register(1, 600);
	path_token(good, sizeof(good), SIP_TRANSP_UDP, PHONE, PPORT);
	(void)snprintf(forged, sizeof(forged), "%s", good);
	forged[strlen(forged) - 1] ^= 1; /* 'a'<->'`'... stays hex? */
	if (forged[strlen(forged) - 1] < '0' ||
	    (forged[strlen(forged) - 1] > '9' &&
	     forged[strlen(forged) - 1] < 'a'))
		forged[strlen(forged) - 1] = '0';
	if (strcmp(forged, good) == 0)
		forged[strlen(forged) - 1] = '1';
	path_token(stale, sizeof(stale), SIP_TRANSP_UDP, "192.0.2.99", PPORT);
	path_token(tcp, sizeof(tcp), SIP_TRANSP_TCP, PHONE, PPORT);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pcscf_out out;
		struct sip_msg *req;
		char route[256] = "", t[4096];

		if (cases[i].tok)
			(void)snprintf(route, sizeof(route),
				       "Route: <sip:%s@pcscf.ims.test:5060;lr>"
				       "\r\n",
				       cases[i].tok);
		(void)snprintf(
			t, sizeof(t),
			"%s %s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.10:6060;branch=z9hG4bKc\r\n"
			"%s"
			"From: <sip:bob@ims.test>;tag=b1\r\n"
			"To: <" ALICE ">\r\n"
			"Call-ID: term-1\r\nCSeq: 1 %s\r\n"
			"%s"
			"Content-Length: 0\r\n\r\n",
			cases[i].method, cases[i].ruri, route, cases[i].method,
			cases[i].extra);
		req = from_core(t);
		assert_int_equal(pcscf_request(F.p, req, &out), 0);
		if (out.act != cases[i].act ||
		    (cases[i].scode && out.scode != cases[i].scode))
			fail_msg("%s: act %d scode %u", cases[i].name, out.act,
				 out.scode);
		if (out.act == PCSCF_FORWARD) {
			struct sa src;

			assert_true(out.to_phone);
			assert_int_equal(out.flow.tp, SIP_TRANSP_UDP);
			/* the gone flow: where its token says */
			assert_int_equal(sa_set_str(&src,
						    cases[i].tok == stale
							    ? "192.0.2.99"
							    : PHONE,
						    PPORT),
					 0);
			assert_true(sa_eq(&out.flow.src, &src));
			for (k = 0; cases[i].want[k]; k++)
				expect_has(out.msg, cases[i].want[k], true);
			for (k = 0; cases[i].not [k]; k++)
				expect_has(out.msg, cases[i].not [k], false);
		}
		pcscf_out_reset(&out);
		mem_deref(req);
	}
}


/*
 * A phone on TCP: two Record-Route entries (RFC 5658 4), ours towards the
 * core as for UDP on top, the phone's with transport=tcp beneath it,
 * nearest the phone (it sends its in-dialog requests there: without
 * transport= it would use UDP, RFC 3263 4.1); an in-dialog request from
 * it carries both, and both go.
 */
static void test_stream_phone_record_route(void **state)
{
	char tok[PCSCF_TOKEN_MAX], t[4096], want[1024];
	struct sip_msg *req, *resp;
	struct pcscf_out out;
	struct sa a;

	(void)state;
	req = register_req(1, "");
	req->tp = SIP_TRANSP_TCP;
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	pcscf_out_reset(&out);
	resp = register_ok(1, "Contact: <" CONTACT ">;expires=600\r\n");
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	pcscf_out_reset(&out);
	mem_deref(resp);
	mem_deref(req);
	assert_int_equal(sa_set_str(&a, PHONE, PPORT), 0);
	assert_true(pcscf_flow_registered(F.p, SIP_TRANSP_TCP, &a));
	path_token(tok, sizeof(tok), SIP_TRANSP_TCP, PHONE, PPORT);

	(void)snprintf(t, sizeof(t), INVITE_FMT, "INVITE", "", "", "INVITE",
		       "");
	req = msg_make(t, SIP_TRANSP_TCP, PHONE, PPORT);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	(void)snprintf(want, sizeof(want),
		       "Record-Route: <sip:%s@pcscf.ims.test:5060;lr>\r\n"
		       "Record-Route: <sip:%s@pcscf.ims.test:5060;"
		       "transport=tcp;lr>\r\n",
		       tok, tok);
	expect_has(out.msg, want, true);
	pcscf_out_reset(&out);
	mem_deref(req);

	/* the BYE of that dialog: route set = the Record-Route reversed */
	(void)snprintf(want, sizeof(want),
		       "Route: <sip:%s@pcscf.ims.test:5060;transport=tcp;lr>"
		       "\r\n"
		       "Route: <sip:%s@pcscf.ims.test:5060;lr>\r\n"
		       "Route: <sip:scscf1.ims.test:6060;lr>\r\n",
		       tok, tok);
	(void)snprintf(t, sizeof(t), INVITE_FMT, "BYE", want, ";tag=b1", "BYE",
		       "");
	req = msg_make(t, SIP_TRANSP_TCP, PHONE, PPORT);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	expect_has(out.msg, "Route: <sip:scscf1.ims.test:6060;lr>\r\n", true);
	expect_has(out.msg, "pcscf.ims.test", false);
	expect_has(out.msg, "Record-Route", false);
	pcscf_out_reset(&out);
	mem_deref(req);

	/* a phone on UDP keeps one entry, without transport= */
	do_register(2, 600);
	(void)snprintf(t, sizeof(t), INVITE_FMT, "INVITE", "", "", "INVITE",
		       "");
	req = from_phone(t);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	expect_has(out.msg, "Record-Route: <sip:", true);
	expect_has(out.msg, "transport=", false);
	assert_int_equal(strstr(strstr(text_of(out.msg), "Record-Route:") + 1,
				"Record-Route:"),
			 NULL);
	pcscf_out_reset(&out);
	mem_deref(req);
}


/* ---- responses ---- */

static void test_responses(void **state)
{
	struct sip_msg *req, *resp;
	struct pcscf_out out;
	char t[4096];

	(void)state;
	do_register(1, 600);

	/* towards the phone: charging headers stay in the network */
	(void)snprintf(t, sizeof(t), INVITE_FMT, "INVITE", "", "", "INVITE",
		       "");
	req = from_phone(t);
	resp = msg_make("SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKi1\r\n"
			"From: <" ALICE ">;tag=a1\r\n"
			"To: <sip:bob@ims.test>;tag=b1\r\n"
			"Call-ID: call-1\r\nCSeq: 1 INVITE\r\n"
			"P-Asserted-Identity: <sip:bob@ims.test>\r\n"
			"P-Charging-Vector: icid-value=1\r\n"
			"P-Charging-Function-Addresses: ccf=c\r\n"
			"Content-Length: 0\r\n\r\n",
			SIP_TRANSP_UDP, CORE, 6060);
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	assert_true(out.to_phone);
	expect_has(out.msg, "P-Asserted-Identity: <sip:bob@ims.test>", true);
	expect_has(out.msg, "P-Charging", false);
	pcscf_out_reset(&out);
	mem_deref(resp);
	mem_deref(req);

	/* from the phone towards the core: its identity asserted, a
	 * foreign preference falls back to the default */
	req = from_core("INVITE " CONTACT " SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.10:6060;branch=z9hG4bKt\r\n"
			"From: <sip:bob@ims.test>;tag=b1\r\nTo: <" ALICE ">\r\n"
			"Call-ID: term-2\r\nCSeq: 1 INVITE\r\n"
			"Content-Length: 0\r\n\r\n");
	{
		static const struct {
			const char *ppi;
			const char *pai;
		} ids[] = {
			{ "", "P-Asserted-Identity: <" ALICE ">\r\n" },
			{ "P-Preferred-Identity: <" ATEL ">\r\n",
			  "P-Asserted-Identity: <" ATEL ">\r\n" },
			{ "P-Preferred-Identity: <sip:boss@ims.test>\r\n"
			  "P-Asserted-Identity: <sip:boss@ims.test>\r\n",
			  "P-Asserted-Identity: <" ALICE ">\r\n" },
		};
		size_t i;

		for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			(void)snprintf(t, sizeof(t),
				       "SIP/2.0 180 Ringing\r\n"
				       "Via: SIP/2.0/UDP "
				       "127.0.0.10:6060;branch=z9hG4bKt\r\n"
				       "From: <sip:bob@ims.test>;tag=b1\r\n"
				       "To: <" ALICE ">;tag=a9\r\n"
				       "Call-ID: term-2\r\nCSeq: 1 INVITE\r\n"
				       "%s"
				       "Content-Length: 0\r\n\r\n",
				       ids[i].ppi);
			resp = from_phone(t);
			assert_int_equal(pcscf_response(F.p, req, resp, &out),
					 0);
			assert_int_equal(out.act, PCSCF_FORWARD);
			assert_false(out.to_phone);
			expect_has(out.msg, ids[i].pai, true);
			expect_has(out.msg, "boss", false);
			expect_has(out.msg, "P-Preferred-Identity", false);
			pcscf_out_reset(&out);
			mem_deref(resp);
		}
	}
	mem_deref(req);
}


/* ---- reg event drop, tokens, errors ---- */

static void test_phone_drop(void **state)
{
	struct pl pl;

	(void)state;
	do_register(1, 600);
	pl_set_str(&pl, "sip:carol@ims.test");
	assert_int_equal(pcscf_phone_drop(F.p, &pl, NULL), ENOENT);
	pl_set_str(&pl, "sip:alice@198.51.100.1");
	{
		struct pl impu;

		pl_set_str(&impu, ALICE);
		assert_int_equal(pcscf_phone_drop(F.p, &impu, &pl), ENOENT);
	}
	assert_int_equal(pcscf_count(F.p), 1);
	/* by an associated identity, as a NOTIFY may name it */
	pl_set_str(&pl, ATEL);
	assert_int_equal(pcscf_phone_drop(F.p, &pl, NULL), 0);
	assert_int_equal(pcscf_count(F.p), 0);
	assert_int_equal(F.drops, 1);
	assert_string_equal(F.drop_impu, ALICE);
}


static void test_token(void **state)
{
	static const struct {
		enum sip_transp tp;
		const char *addr;
		uint16_t port;
	} flows[] = {
		{ SIP_TRANSP_UDP, "192.0.2.10", 5062 },
		{ SIP_TRANSP_TCP, "2001:db8::1", 65535 },
		{ SIP_TRANSP_TLS, "10.1.2.3", 1 },
	};
	static const char *const bad[] = {
		"",
		"zz",
		"0",
		"01040413c4c000020a", /* short */
		"g1040413c4c000020a0a0a0a0a0a0a0a0a0a0a",
	};
	struct pcscf *other = NULL;
	struct pcscf_conf c;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.uri = ME; /* a random key */
	assert_int_equal(pcscf_alloc(&other, &c, NULL, NULL), 0);
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		char tok[PCSCF_TOKEN_MAX];
		enum sip_transp tp;
		struct sa src, want;
		struct pl pl;

		path_token(tok, sizeof(tok), flows[i].tp, flows[i].addr,
			   flows[i].port);
		pl_set_str(&pl, tok);
		assert_int_equal(pcscf_token_check(F.p, &pl, &tp, &src), 0);
		assert_int_equal(tp, flows[i].tp);
		assert_int_equal(
			sa_set_str(&want, flows[i].addr, flows[i].port), 0);
		assert_true(sa_eq(&src, &want));
		/* another node with another key refuses it */
		assert_int_equal(pcscf_token_check(other, &pl, &tp, &src),
				 EPERM);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sip_transp tp;
		struct sa src;
		struct pl pl;

		pl_set_str(&pl, bad[i]);
		assert_int_equal(pcscf_token_check(F.p, &pl, &tp, &src),
				 EBADMSG);
	}
	{
		char small[10];
		struct pcscf_flow f;

		memset(&f, 0, sizeof(f));
		f.tp = SIP_TRANSP_UDP;
		assert_int_equal(
			pcscf_token_make(F.p, &f, small, sizeof(small)),
			EINVAL);
		assert_int_equal(sa_set_str(&f.src, PHONE, 1), 0);
		assert_int_equal(
			pcscf_token_make(F.p, &f, small, sizeof(small)),
			ENOSPC);
	}
	mem_deref(other);
}


static void test_conf_errors(void **state)
{
	static const char *const uris[] = { NULL, "not a uri", "tel:+1" };
	struct pcscf *p = NULL;
	struct pcscf_conf c;
	uint8_t big[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.uri = uris[i];
		assert_int_equal(pcscf_alloc(&p, &c, NULL, NULL), EINVAL);
	}
	memset(&c, 0, sizeof(c));
	c.uri = ME;
	c.icscf = "sip:bad host";
	assert_int_equal(pcscf_alloc(&p, &c, NULL, NULL), EINVAL);
	c.icscf = NULL;
	memset(big, 1, sizeof(big));
	c.key = big;
	c.key_len = sizeof(big);
	assert_int_equal(pcscf_alloc(&p, &c, NULL, NULL), EINVAL);
	assert_null(p);
	/* a visited network that is not a token is quoted (RFC 7315 4.3) */
	c.key = NULL;
	c.key_len = 0;
	c.visited_network = "Visited Network";
	assert_int_equal(pcscf_alloc(&p, &c, NULL, NULL), 0);
	{
		struct sip_msg *req = register_req(1, "");
		struct pcscf_out out;

		assert_int_equal(pcscf_request(p, req, &out), 0);
		expect_has(out.msg,
			   "P-Visited-Network-ID: \"Visited Network\"\r\n",
			   true);
		pcscf_out_reset(&out);
		/* a response is not a request */
		assert_int_equal(pcscf_request(p, NULL, &out), EINVAL);
		assert_int_equal(pcscf_response(p, req, req, &out), EINVAL);
		mem_deref(req);
	}
	mem_deref(p);
}


/* REGISTER of user i from its own port, and its 200 with the given
 * Service-Route and P-Associated-URI lines (%s: the user's IMPU). */
static void register_user(unsigned i, unsigned cseq, const char *sr,
			  const char *pau_fmt)
{
	char t[4096], impu[64], contact[64], pau[256];
	struct sip_msg *req, *resp;
	struct pcscf_out out;
	uint16_t port = (uint16_t)(10000 + i);

	(void)snprintf(impu, sizeof(impu), "sip:user%u@ims.test", i);
	(void)snprintf(contact, sizeof(contact), "sip:user%u@" PHONE ":%u", i,
		       port);
	{
		/* pau_fmt's "%s" is the IMPU */
		const char *at = strstr(pau_fmt, "%s");

		if (at)
			(void)snprintf(pau, sizeof(pau), "%.*s%s%s",
				       (int)(at - pau_fmt), pau_fmt, impu,
				       at + 2);
		else
			(void)snprintf(pau, sizeof(pau), "%s", pau_fmt);
	}
	(void)snprintf(t, sizeof(t),
		       "REGISTER sip:ims.test SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.5:%u;branch=z9hG4bKu%u\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <%s>;tag=u%u\r\n"
		       "To: <%s>\r\n"
		       "Call-ID: reg-u%u\r\n"
		       "CSeq: %u REGISTER\r\n"
		       "Contact: <%s>\r\n"
		       "Content-Length: 0\r\n\r\n",
		       port, i, impu, i, impu, i, cseq, contact);
	req = msg_make(t, SIP_TRANSP_UDP, PHONE, port);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	pcscf_out_reset(&out);
	(void)snprintf(t, sizeof(t),
		       "SIP/2.0 200 OK\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.5:%u;branch=z9hG4bKu%u\r\n"
		       "From: <%s>;tag=u%u\r\n"
		       "To: <%s>;tag=s\r\n"
		       "Call-ID: reg-u%u\r\n"
		       "CSeq: %u REGISTER\r\n"
		       "Contact: <%s>;expires=600\r\n"
		       "%s"
		       "%s"
		       "Content-Length: 0\r\n\r\n",
		       port, i, impu, i, impu, i, cseq, contact, sr, pau);
	resp = msg_make(t, SIP_TRANSP_UDP, CORE, 6060);
	assert_int_equal(pcscf_response(F.p, req, resp, &out), 0);
	pcscf_out_reset(&out);
	mem_deref(resp);
	mem_deref(req);
}


/* A re-registration whose 2xx names other identities and another
 * Service-Route: the registration goes on (no drop, no new reg event
 * subscription) with what the network says now. */
static void test_register_refresh_changes(void **state)
{
	struct pcscf_phone ph;
	struct sip_msg *req;
	struct pcscf_out out;
	struct sa src;
	struct pl pl;

	(void)state;
	F.any_contact = true;
	register_user(1, 1,
		      "Service-Route: " SR1 "\r\nService-Route: " SR2 "\r\n",
		      "P-Associated-URI: <%s>, <tel:+15145550001>\r\n");
	pl_set_str(&pl, "tel:+15145550001");
	assert_true(pcscf_impu_registered(F.p, &pl));
	assert_int_equal(F.subs, 1);

	tmr_test_set_now(T0 + 100000);
	register_user(1, 2, "Service-Route: " SR2 "\r\n",
		      "P-Associated-URI: <sip:u1.work@ims.test>, <%s>\r\n");
	assert_int_equal(F.subs, 1);
	assert_int_equal(F.drops, 0);
	assert_int_equal(pcscf_count(F.p), 1);
	assert_false(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "sip:u1.work@ims.test");
	assert_true(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "sip:user1@ims.test");
	assert_int_equal(pcscf_phone_get(F.p, &pl, &ph), 0);
	assert_string_equal(ph.impu, "sip:user1@ims.test");
	assert_string_equal(ph.contact, "sip:user1@" PHONE ":10001");
	assert_int_equal(ph.ids_n, 2);
	assert_string_equal(ph.ids[0], "sip:u1.work@ims.test");
	assert_string_equal(ph.ids[1], "sip:user1@ims.test");
	assert_int_equal(ph.route_n, 1);
	assert_string_equal(ph.route[0], SR2);
	assert_int_equal(ph.expires, 600);
	assert_int_equal(sa_set_str(&src, PHONE, 10001), 0);
	assert_true(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &src));
	pl_set_str(&pl, "sip:user1@" PHONE ":10001");
	assert_true(pcscf_contact_registered(F.p, &pl));

	/* the new default identity and Service-Route are what a request
	 * from the phone gets */
	req = msg_make("INVITE sip:bob@ims.test SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.5:10001;branch=z9hG4bKi1\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:anonymous@anonymous.invalid>;tag=a\r\n"
		       "To: <sip:bob@ims.test>\r\n"
		       "Call-ID: inv-1\r\n"
		       "CSeq: 1 INVITE\r\n"
		       "Contact: <sip:user1@" PHONE ":10001>\r\n"
		       "Content-Length: 0\r\n\r\n",
		       SIP_TRANSP_UDP, PHONE, 10001);
	assert_int_equal(pcscf_request(F.p, req, &out), 0);
	assert_int_equal(out.act, PCSCF_FORWARD);
	expect_has(out.msg, "Route: " SR2 "\r\n", true);
	expect_has(out.msg, SR1, false);
	expect_has(out.msg, "P-Asserted-Identity: <sip:u1.work@ims.test>\r\n",
		   true);
	pcscf_out_reset(&out);
	mem_deref(req);

	/* no identities at all: the IMPU is the identity */
	register_user(1, 3, "", "");
	pl_set_str(&pl, "sip:user1@ims.test");
	assert_int_equal(pcscf_phone_get(F.p, &pl, &ph), 0);
	assert_int_equal(ph.ids_n, 0);
	assert_int_equal(ph.route_n, 0);
	pl_set_str(&pl, "sip:u1.work@ims.test");
	assert_false(pcscf_impu_registered(F.p, &pl));
	assert_int_equal(F.drops, 0);
}


/* Many phones through one S-CSCF: all found by flow, identity and
 * contact as the indexes grow, the Service-Route held once. */
static void test_many_phones(void **state)
{
	struct pcscf_phone a, b;
	char impu[64];
	struct sa src;
	struct pl pl;
	unsigned i;

	(void)state;
	F.any_contact = true;
	for (i = 0; i < 3000; i++)
		register_user(i, 1, "Service-Route: " SR1 "\r\n",
			      "P-Associated-URI: <%s>\r\n");
	assert_int_equal(pcscf_count(F.p), 3000);
	assert_int_equal(F.subs, 3000);
	for (i = 0; i < 3000; i += 7) {
		(void)snprintf(impu, sizeof(impu), "sip:user%u@ims.test", i);
		pl_set_str(&pl, impu);
		assert_true(pcscf_impu_registered(F.p, &pl));
		assert_int_equal(sa_set_str(&src, PHONE, (uint16_t)(10000 + i)),
				 0);
		assert_true(pcscf_flow_registered(F.p, SIP_TRANSP_UDP, &src));
	}
	pl_set_str(&pl, "sip:user5@ims.test");
	assert_int_equal(pcscf_phone_get(F.p, &pl, &a), 0);
	pl_set_str(&pl, "sip:user2999@ims.test");
	assert_int_equal(pcscf_phone_get(F.p, &pl, &b), 0);
	assert_string_equal(a.route[0], SR1);
	assert_ptr_equal(a.route[0], b.route[0]); /* one copy */
	assert_string_equal(b.ids[0], "sip:user2999@ims.test");
	/* half of them dropped by the network */
	for (i = 0; i < 3000; i += 2) {
		(void)snprintf(impu, sizeof(impu), "sip:user%u@ims.test", i);
		pl_set_str(&pl, impu);
		assert_int_equal(pcscf_phone_drop(F.p, &pl, NULL), 0);
	}
	assert_int_equal(pcscf_count(F.p), 1500);
	assert_int_equal(F.drops, 1500);
	pl_set_str(&pl, "sip:user4@ims.test");
	assert_false(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "sip:user5@ims.test");
	assert_true(pcscf_impu_registered(F.p, &pl));
	pl_set_str(&pl, "sip:user5@" PHONE ":10005");
	assert_true(pcscf_contact_registered(F.p, &pl));
	pl_set_str(&pl, "sip:user4@" PHONE ":10004");
	assert_false(pcscf_contact_registered(F.p, &pl));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_register_rewrite),
		T(test_register_by_dns),
		T(test_register_keeps),
		T(test_deregister),
		T(test_register_flow_moves),
		T(test_capacity),
		T(test_phone_requests),
		T(test_phone_unregistered),
		T(test_core_requests),
		T(test_stream_phone_record_route),
		T(test_responses),
		T(test_phone_drop),
		T(test_token),
		T(test_conf_errors),
		T(test_register_refresh_changes),
		T(test_many_phones),
#undef T
	};

	return cmocka_run_group_tests_name("cscf_pcscf", tests, NULL, NULL);
}
