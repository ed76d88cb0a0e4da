/**
 * @file test_cscf_ifc.c  iFC evaluation (TS 29.228 annex B.2.2, C, F;
 * TS 24.229 5.4.3.2): each SPT kind, negation, CNF and DNF with Groups,
 * session cases, REGISTER types, SDP lines, ProfilePartIndicator, priority
 * order, the regular expression cache, and the pool that shares caches
 * by content.
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

#include "core/mem.h"
#include "cscf/ifc.h"
#include "diameter/userdata.h"
#include "sip/msg.h"

static const char invite[] =
	"INVITE sip:bob@example.com;user=phone SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.com>\r\n"
	"f: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@127.0.0.1>\r\n"
	"Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims"
	".icsi.mmtel\";video\r\n"
	"Subject: hello\r\n   world\r\n"
	"X-Tenant: acme\r\n"
	"X-Tenant: globex\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 92\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 1 1 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0\r\n";

static const char regreq[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnashds7\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:alice@example.com>\r\n"
	"From: <sip:alice@example.com>;tag=456248\r\n"
	"Call-ID: 843817637684230@998sdasdh09\r\n"
	"CSeq: 1826 REGISTER\r\n"
	"Contact: <sip:alice@127.0.0.1>\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* an SDP-looking body that is not SDP */
static const char message[] =
	"MESSAGE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmsg1\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:bob@example.com>\r\n"
	"From: <sip:alice@example.com>;tag=9\r\n"
	"Call-ID: msg1@example.com\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 24\r\n"
	"\r\n"
	"m=audio 49170 RTP/AVP 0\n";

enum {
	M_INVITE,
	M_REGISTER,
	M_MESSAGE
};

struct spt_def {
	enum cx_spt_kind kind;
	int group;
	bool negated;
	const char *a, *b;
	enum cx_session_case sc;
	unsigned reg_type;
};

#define SPT_END                                \
	{                                      \
		.kind = (enum cx_spt_kind) - 1 \
	}

static const struct {
	const char *what;
	bool cnf;
	struct spt_def spt[5];
	int msg;
	enum cx_session_case sc;
	unsigned reg_type;
	bool expect;
} cases[] = {
	/* Method */
	{ "method equal",
	  true,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "method other",
	  true,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_REGISTER,
	  CX_SC_ORIGINATING,
	  CX_REGTYPE_INITIAL,
	  false },
	{ "method is case-sensitive",
	  true,
	  { { CX_SPT_METHOD, 0, false, "invite", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	/* Request-URI */
	{ "ruri regex",
	  true,
	  { { CX_SPT_REQUEST_URI, 0, false, "^sip:bob@example\\.com(;.*)?$",
	      NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "ruri regex no match",
	  true,
	  { { CX_SPT_REQUEST_URI, 0, false, "^sip:alice@", NULL,
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	/* SIP header */
	{ "header content",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "Accept-Contact", ".*video.*",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "header name any case, compact form in message",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "FROM", "\"Alice\"",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "header presence",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "Subject", NULL, CX_SC_ORIGINATING,
	      0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "header absent",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "X-Missing", NULL, CX_SC_ORIGINATING,
	      0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "folded header value is one line",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "Subject", "^hello world$",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "second line of a header",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "x-tenant", "^globex$",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "header content no match",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, false, "X-Tenant", "^initech$",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	/* Session case */
	{ "session case equal",
	  true,
	  { { CX_SPT_SESSION_CASE, 0, false, NULL, NULL,
	      CX_SC_TERMINATING_UNREGISTERED, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_TERMINATING_UNREGISTERED,
	  0,
	  true },
	{ "session case differs",
	  true,
	  { { CX_SPT_SESSION_CASE, 0, false, NULL, NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING_CDIV,
	  0,
	  false },
	/* Session description */
	{ "sdp line and content",
	  true,
	  { { CX_SPT_SESSION_DESCRIPTION, 0, false, "m", "^audio [0-9]+ ",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "sdp content no match",
	  true,
	  { { CX_SPT_SESSION_DESCRIPTION, 0, false, "m", "^video",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "sdp line presence",
	  true,
	  { { CX_SPT_SESSION_DESCRIPTION, 0, false, "c", NULL,
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "sdp line absent",
	  true,
	  { { CX_SPT_SESSION_DESCRIPTION, 0, false, "b", NULL,
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "not an SDP body",
	  true,
	  { { CX_SPT_SESSION_DESCRIPTION, 0, false, "m", "audio",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_MESSAGE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	/* Negation */
	{ "negated true",
	  true,
	  { { CX_SPT_METHOD, 0, true, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "negated false",
	  true,
	  { { CX_SPT_METHOD, 0, true, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_MESSAGE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "negated absent header",
	  true,
	  { { CX_SPT_SIP_HEADER, 0, true, "X-Missing", NULL, CX_SC_ORIGINATING,
	      0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	/* REGISTER types */
	{ "register initial wanted",
	  true,
	  { { CX_SPT_METHOD, 0, false, "REGISTER", NULL, 0,
	      CX_REGTYPE_INITIAL | CX_REGTYPE_DE },
	    SPT_END },
	  M_REGISTER,
	  CX_SC_ORIGINATING,
	  CX_REGTYPE_INITIAL,
	  true },
	{ "register re not wanted",
	  true,
	  { { CX_SPT_METHOD, 0, false, "REGISTER", NULL, 0,
	      CX_REGTYPE_INITIAL | CX_REGTYPE_DE },
	    SPT_END },
	  M_REGISTER,
	  CX_SC_ORIGINATING,
	  CX_REGTYPE_RE,
	  false },
	{ "register any type",
	  true,
	  { { CX_SPT_METHOD, 0, false, "REGISTER", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_REGISTER,
	  CX_SC_ORIGINATING,
	  CX_REGTYPE_DE,
	  true },
	/* CNF: (INVITE or MESSAGE) and originating */
	{ "cnf both clauses",
	  true,
	  { { CX_SPT_METHOD, 0, false, "MESSAGE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 1, false, NULL, NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  true },
	{ "cnf one clause fails",
	  true,
	  { { CX_SPT_METHOD, 0, false, "MESSAGE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 1, false, NULL, NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_TERMINATING_REGISTERED,
	  0,
	  false },
	{ "cnf groups interleaved",
	  true,
	  { { CX_SPT_SESSION_CASE, 7, false, NULL, NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_METHOD, 3, false, "MESSAGE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 7, false, NULL, NULL, CX_SC_ORIGINATING_CDIV,
	      0 },
	    { CX_SPT_METHOD, 3, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING_CDIV,
	  0,
	  true },
	/* DNF: (INVITE and terminating) or REGISTER */
	{ "dnf first clause",
	  false,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 0, false, NULL, NULL,
	      CX_SC_TERMINATING_REGISTERED, 0 },
	    { CX_SPT_METHOD, 1, false, "REGISTER", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_TERMINATING_REGISTERED,
	  0,
	  true },
	{ "dnf no clause",
	  false,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 0, false, NULL, NULL,
	      CX_SC_TERMINATING_REGISTERED, 0 },
	    { CX_SPT_METHOD, 1, false, "REGISTER", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "dnf second clause",
	  false,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 0, false, NULL, NULL,
	      CX_SC_TERMINATING_REGISTERED, 0 },
	    { CX_SPT_METHOD, 1, false, "REGISTER", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_REGISTER,
	  CX_SC_ORIGINATING,
	  CX_REGTYPE_INITIAL,
	  true },
	/* the same SPTs in CNF mean something else */
	{ "same SPTs as cnf",
	  true,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SESSION_CASE, 0, false, NULL, NULL,
	      CX_SC_TERMINATING_REGISTERED, 0 },
	    { CX_SPT_METHOD, 1, false, "REGISTER", NULL, CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
	{ "dnf with negation",
	  false,
	  { { CX_SPT_METHOD, 0, false, "INVITE", NULL, CX_SC_ORIGINATING, 0 },
	    { CX_SPT_SIP_HEADER, 0, true, "Accept-Contact", "video",
	      CX_SC_ORIGINATING, 0 },
	    SPT_END },
	  M_INVITE,
	  CX_SC_ORIGINATING,
	  0,
	  false },
};

static const char *msg_text(int m)
{
	return m == M_INVITE ? invite : m == M_REGISTER ? regreq : message;
}


static void decode_msg(struct sip_msg *msg, int m)
{
	struct sip_msg_err merr;
	const char *t = msg_text(m);

	memset(msg, 0, sizeof(*msg));
	assert_int_equal(sip_msg_decode(msg, t, strlen(t), true, &merr), 0);
}


static void test_table(void **state)
{
	struct sip_msg *msg = calloc(1, sizeof(*msg));

	(void)state;
	assert_non_null(msg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_subscription *sub = cx_subscription_alloc("a@b");
		struct cx_service_profile *sp = cx_sp_add(sub);
		struct ifc_cache *cache = NULL;
		const struct cx_ifc *out[2];
		struct ifc_req req;
		struct cx_ifc *ifc;
		size_t n = 9;
		char err[160];

		assert_non_null(cx_pub_add(sub, sp, "sip:a@b"));
		ifc = cx_ifc_add(sub, sp, 0, "sip:as@b");
		assert_non_null(ifc);
		for (const struct spt_def *d = cases[i].spt;
		     d->kind != (enum cx_spt_kind) - 1; d++) {
			struct cx_spt *s = cx_spt_add(sub, ifc, cases[i].cnf,
						      d->kind, d->group);

			assert_non_null(s);
			s->negated = d->negated;
			s->a = cx_strdup(sub, d->a);
			s->b = cx_strdup(sub, d->b);
			s->session_case = d->sc;
			s->reg_type = d->reg_type;
		}
		assert_int_equal(ifc_cache_alloc(&cache, sub, err, sizeof(err)),
				 0);
		decode_msg(msg, cases[i].msg);
		req = (struct ifc_req){ .msg = msg,
					.sc = cases[i].sc,
					.reg_type = cases[i].reg_type,
					.registered = true };
		assert_int_equal(ifc_match(cache, 0, &req, out, 2, &n), 0);
		if (n != (cases[i].expect ? 1u : 0u))
			print_error("case \"%s\": %zu matches\n", cases[i].what,
				    n);
		assert_int_equal(n, cases[i].expect ? 1 : 0);
		if (n)
			assert_ptr_equal(out[0], &sub->sp[0].ifc[0]);
		mem_deref(cache);
		mem_deref(sub);
	}
	free(msg);
}


/* Priority order, ProfilePartIndicator, no trigger point, ENOSPC. */
static void test_order_and_ppi(void **state)
{
	struct cx_subscription *sub = cx_subscription_alloc("a@b");
	struct cx_service_profile *sp;
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	struct ifc_cache *cache = NULL;
	const struct cx_ifc *out[8];
	struct ifc_req req;
	struct cx_ifc *ifc;
	struct cx_spt *s;
	size_t n;

	(void)state;
	assert_non_null(msg);
	sp = cx_sp_add(sub);
	assert_non_null(cx_pub_add(sub, sp, "sip:a@b"));
	/* added out of order on purpose: not sorted by the API */
	assert_non_null(cx_ifc_add(sub, sp, 30, "sip:as30@b"));
	ifc = cx_ifc_add(sub, sp, 10, "sip:as10@b");
	s = cx_spt_add(sub, ifc, true, CX_SPT_METHOD, 0);
	s->a = cx_strdup(sub, "INVITE");
	ifc = cx_ifc_add(sub, sp, 20, "sip:as20-reg@b");
	ifc->ppi = CX_PPI_REGISTERED;
	ifc = cx_ifc_add(sub, sp, 20, "sip:as20-unreg@b");
	ifc->ppi = CX_PPI_UNREGISTERED;
	ifc = cx_ifc_add(sub, sp, 5, "sip:as5@b");
	s = cx_spt_add(sub, ifc, true, CX_SPT_METHOD, 0);
	s->a = cx_strdup(sub, "BYE");
	/* a second profile the first one's slots must not be mixed with */
	sp = cx_sp_add(sub);
	assert_non_null(cx_pub_add(sub, sp, "sip:psi@b"));
	ifc = cx_ifc_add(sub, sp, 1, "sip:psi-as@b");
	s = cx_spt_add(sub, ifc, true, CX_SPT_REQUEST_URI, 0);
	s->a = cx_strdup(sub, "^sip:nomatch");

	assert_int_equal(ifc_cache_alloc(&cache, sub, NULL, 0), 0);
	decode_msg(msg, M_INVITE);
	req = (struct ifc_req){ .msg = msg,
				.sc = CX_SC_ORIGINATING,
				.registered = true };
	assert_int_equal(ifc_match(cache, 0, &req, out, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0]->as_uri, "sip:as10@b");
	assert_string_equal(out[1]->as_uri, "sip:as20-reg@b");
	assert_string_equal(out[2]->as_uri, "sip:as30@b");

	req.registered = false;
	assert_int_equal(ifc_match(cache, 0, &req, out, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[1]->as_uri, "sip:as20-unreg@b");

	assert_int_equal(ifc_match(cache, 0, &req, out, 2, &n), ENOSPC);
	assert_int_equal(n, 2);
	assert_int_equal(ifc_match(cache, 1, &req, out, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ifc_match(cache, 2, &req, out, 8, &n), EINVAL);

	mem_deref(cache);
	mem_deref(sub);
	free(msg);
}


/* The cache holds the subscription and refuses a bad expression. */
static void test_cache(void **state)
{
	struct cx_subscription *sub = cx_subscription_alloc("a@b");
	struct cx_service_profile *sp = cx_sp_add(sub);
	struct ifc_cache *cache = NULL;
	struct cx_ifc *ifc;
	struct cx_spt *s;
	char err[200];

	(void)state;
	assert_non_null(cx_pub_add(sub, sp, "sip:a@b"));
	ifc = cx_ifc_add(sub, sp, 4, "sip:as@b");
	s = cx_spt_add(sub, ifc, true, CX_SPT_SIP_HEADER, 0);
	s->a = cx_strdup(sub, "Subject");
	s->b = cx_strdup(sub, "a.*");
	s = cx_spt_add(sub, ifc, true, CX_SPT_SESSION_DESCRIPTION, 1);
	s->a = cx_strdup(sub, "m");
	s->b = cx_strdup(sub, "audio(");
	assert_int_equal(ifc_cache_alloc(&cache, sub, err, sizeof(err)),
			 EBADMSG);
	assert_null(cache);
	assert_non_null(strstr(err, "priority 4"));
	assert_non_null(strstr(err, "audio("));

	s->b = mem_deref(s->b);
	s->b = cx_strdup(sub, "audio");
	assert_int_equal(ifc_cache_alloc(&cache, sub, err, sizeof(err)), 0);
	assert_int_equal(mem_nrefs(sub), 2);
	mem_deref(sub);
	assert_int_equal(mem_nrefs(cache), 1); /* sub lives on in cache */
	mem_deref(cache);
}


/* One user's subscription: identity, then the enterprise's two iFCs
 * (as_uri of the second given). */
static struct cx_subscription *user_sub(const char *impu, const char *as2)
{
	struct cx_subscription *sub = cx_subscription_alloc("u@b");
	struct cx_service_profile *sp;
	struct cx_ifc *ifc;
	struct cx_spt *s;

	assert_non_null(sub);
	sp = cx_sp_add(sub);
	assert_non_null(sp);
	assert_non_null(cx_pub_add(sub, sp, impu));
	ifc = cx_ifc_add(sub, sp, 1, "sip:mmtel@b");
	assert_non_null(ifc);
	s = cx_spt_add(sub, ifc, true, CX_SPT_METHOD, 0);
	s->a = cx_strdup(sub, "INVITE");
	s = cx_spt_add(sub, ifc, true, CX_SPT_REQUEST_URI, 1);
	s->a = cx_strdup(sub, "^sip:[^@]*@example[.]com");
	ifc = cx_ifc_add(sub, sp, 2, as2);
	assert_non_null(ifc);
	s = cx_spt_add(sub, ifc, true, CX_SPT_METHOD, 0);
	s->a = cx_strdup(sub, "MESSAGE");
	cx_subscription_drop_ids(sub);
	return sub;
}


/* The pool shares one compiled cache among subscriptions whose service
 * part is the same (identities differ), keeps different ones apart, and
 * forgets a cache when its last user lets it go; a cache held past the
 * pool stays usable. */
static void test_pool(void **state)
{
	struct ifc_cache *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct cx_subscription *sa = user_sub("sip:a@b", "sip:im@b");
	struct cx_subscription *sb = user_sub("sip:b@b", "sip:im@b");
	struct cx_subscription *sc = user_sub("sip:c@b", "sip:other@b");
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	const struct cx_ifc *out[4];
	struct ifc_pool *pool = NULL;
	struct ifc_req req;
	size_t n = 0;

	(void)state;
	assert_non_null(msg);
	assert_int_equal(ifc_pool_alloc(&pool), 0);
	assert_int_equal(ifc_pool_get(pool, &a, sa, NULL, 0), 0);
	assert_int_equal(ifc_pool_get(pool, &b, sb, NULL, 0), 0);
	assert_int_equal(ifc_pool_get(pool, &c, sc, NULL, 0), 0);
	assert_ptr_equal(a, b);
	assert_ptr_equal(ifc_cache_sub(b), sa); /* not sb: the first one */
	assert_ptr_not_equal(a, c);
	assert_int_equal(ifc_pool_count(pool), 2);
	assert_int_equal(mem_nrefs(sb), 1); /* sb is not kept */
	sa = mem_deref(sa);
	sb = mem_deref(sb);

	/* the shared cache answers for either user */
	decode_msg(msg, M_INVITE);
	req = (struct ifc_req){ .msg = msg,
				.sc = CX_SC_ORIGINATING,
				.registered = true };
	assert_int_equal(ifc_match(b, 0, &req, out, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0]->as_uri, "sip:mmtel@b");
	assert_ptr_equal(out[0], &ifc_cache_sub(b)->sp[0].ifc[0]);

	/* the last reference to a content takes it out of the pool */
	a = mem_deref(a);
	assert_int_equal(ifc_pool_count(pool), 2);
	b = mem_deref(b);
	assert_int_equal(ifc_pool_count(pool), 1);
	sa = user_sub("sip:a@b", "sip:im@b");
	assert_int_equal(ifc_pool_get(pool, &a, sa, NULL, 0), 0);
	assert_ptr_equal(ifc_cache_sub(a), sa);
	assert_int_equal(ifc_pool_count(pool), 2);
	assert_int_equal(ifc_pool_get(pool, &d, sc, NULL, 0), 0);
	assert_ptr_equal(c, d);
	d = mem_deref(d);

	/* the pool goes first: the caches still work, then free alone */
	pool = mem_deref(pool);
	assert_int_equal(ifc_pool_count(pool), 0);
	assert_int_equal(ifc_match(c, 0, &req, out, 4, &n), 0);
	assert_int_equal(n, 1);
	mem_deref(a);
	mem_deref(c);
	mem_deref(sa);
	mem_deref(sc);
	assert_int_equal(ifc_pool_get(NULL, &a, sc, NULL, 0), EINVAL);
	free(msg);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_order_and_ppi, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cache, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_pool, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("cscf_ifc", tests, NULL, NULL);
}
