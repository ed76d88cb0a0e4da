/**
 * @file test_cscf_scscf_route.c  S-CSCF session routing (cscf/scscf_route.h)
 *                                without sockets: decoded requests in,
 *                                decisions out.
 *
 * The registrar is a table of users (state, barring, a profile with
 * compiled iFCs, contacts with Path) behind struct scscf_route_db.  An
 * application server is simulated by taking the copy sent to it, removing
 * its own Route entry (what a proxying AS does) and giving it back.
 * Tables cover: originating with 0, 1 and 2 matching iFCs, the ODI round
 * trip and refusals (tampered, foreign key, stale), DefaultHandling both
 * ways, terminating registered (two contacts via Path), unregistered with
 * and without unregistered services (profile fetch), unknown 404, no
 * contact 480, routing after originating services (own domain, foreign
 * domain, tel: owned and not, breakout absent), subsequent requests, and
 * the call hooks.
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
#include "cscf/edit.h"
#include "cscf/ifc.h"
#include "cscf/scscf_route.h"
#include "diameter/dict.h"
#include "diameter/node.h"
#include "diameter/userdata.h"
#include "hss/hss.h"
#include "net/sa.h"
#include "sip/msg.h"
#include "util/hsstest.h"

#define ME      "sip:scscf.ims.test:6060"
#define ICSCF   "sip:icscf.ims.test"
#define BGCF    "sip:bgcf.ims.test"
#define ALICE   "sip:alice@ims.test"
#define BOB     "sip:bob@ims.test"
#define T0      1000000u
#define ORIG_RT "Route: <" ME ";lr;orig>\r\n"
#define PAI     "P-Asserted-Identity: <" ALICE ">\r\n"

static const uint8_t key[16] = "0123456789abcdef";
static const char *const domains[] = { "ims.test", "corp.test" };

/* One iFC: INVITE in session case sc (CNF: Method AND SessionCase). */
struct tifc {
	int prio;
	const char *as;
	enum cx_session_case sc;
	enum cx_default_handling dh;
	enum cx_profile_part ppi;
};

#define IFC_MAX 4

struct tuser {
	const char *impu;
	enum scscf_reg_state state;
	bool barred;
	bool hidden; /* ENOENT until "fetched" */
	struct tifc ifc[IFC_MAX];
	size_t ifc_n;
	struct scscf_contact cv[2];
	size_t cn;
	struct cx_subscription *sub;
	struct ifc_cache *cache;
};

#define USERS_MAX 8

struct fx {
	struct scscf_route *r;
	struct tuser u[USERS_MAX];
	size_t un;
	unsigned starts, answers, ends;
	uint16_t end_scode;
	enum scscf_sescase start_sc;
	char start_user[128];
};

static struct fx F;


/* ---- the registrar table ---- */

static struct tuser *user_find(const char *impu)
{
	for (size_t i = 0; i < F.un; i++) {
		if (!strcmp(F.u[i].impu, impu))
			return &F.u[i];
	}
	return NULL;
}


static int db_info(void *arg, const char *impu, struct scscf_impu_info *info)
{
	struct tuser *u = user_find(impu);

	(void)arg;
	if (!u || u->hidden)
		return ENOENT;
	memset(info, 0, sizeof(*info));
	info->state = u->state;
	info->impi = "alice@ims.test";
	info->barred = u->barred;
	info->prof = u->sub;
	info->sp_idx = 0;
	info->ifc = u->cache;
	return 0;
}


static int db_lookup(void *arg, const char *impu, struct scscf_contact *v,
		     size_t max, size_t *np)
{
	struct tuser *u = user_find(impu);

	(void)arg;
	if (!u || u->hidden || !u->cn)
		return ENOENT;
	for (size_t i = 0; i < u->cn && i < max; i++)
		v[i] = u->cv[i];
	*np = u->cn;
	return 0;
}


static struct tuser *user_add(const char *impu, enum scscf_reg_state st,
			      const struct tifc *ifc, size_t ifc_n)
{
	struct tuser *u = &F.u[F.un++];
	struct cx_service_profile *sp;
	char err[128];

	assert_true(F.un <= USERS_MAX && ifc_n <= IFC_MAX);
	u->impu = impu;
	u->state = st;
	u->ifc_n = ifc_n;
	if (ifc_n)
		memcpy(u->ifc, ifc, ifc_n * sizeof(*ifc));
	u->sub = cx_subscription_alloc("alice@ims.test");
	assert_non_null(u->sub);
	sp = cx_sp_add(u->sub);
	assert_non_null(sp);
	assert_non_null(cx_pub_add(u->sub, sp, impu));
	for (size_t i = 0; i < ifc_n; i++) {
		struct cx_ifc *c;
		struct cx_spt *s;

		c = cx_ifc_add(u->sub, sp, ifc[i].prio, ifc[i].as);
		assert_non_null(c);
		c->default_handling = ifc[i].dh;
		c->ppi = ifc[i].ppi;
		s = cx_spt_add(u->sub, c, true, CX_SPT_METHOD, 0);
		assert_non_null(s);
		s->a = cx_strdup(u->sub, "INVITE");
		s = cx_spt_add(u->sub, c, true, CX_SPT_SESSION_CASE, 1);
		assert_non_null(s);
		s->session_case = ifc[i].sc;
	}
	assert_int_equal(ifc_cache_alloc(&u->cache, u->sub, err, sizeof(err)),
			 0);
	return u;
}


static void contact_add(struct tuser *u, const char *uri, const char *path)
{
	struct scscf_contact *c = &u->cv[u->cn++];

	memset(c, 0, sizeof(*c));
	c->uri = uri;
	c->params = "";
	c->path = path;
	c->instance = "";
	c->q = 1000;
	c->expires = 600;
}


/* ---- hooks ---- */

static void on_start(const struct scscf_call *c, void *arg)
{
	(void)arg;
	F.starts++;
	F.start_sc = c->sc;
	(void)snprintf(F.start_user, sizeof(F.start_user), "%s",
		       c->served_user);
	assert_non_null(c->msg);
}


static void on_answer(const struct scscf_call *c, void *arg)
{
	(void)arg;
	F.answers++;
	assert_true(c->scode >= 200 && c->scode < 300);
}


static void on_end(const struct scscf_call *c, void *arg)
{
	(void)arg;
	F.ends++;
	F.end_scode = c->scode;
	assert_non_null(c->msg);
}


static void fx_alloc(const char *breakout)
{
	struct scscf_route_conf c = { 0 };
	struct scscf_route_db db = { 0 };
	struct scscf_route_hooks h = { on_start, on_answer, on_end };

	c.uri = ME;
	c.icscf = ICSCF;
	c.breakout = breakout;
	c.domains = domains;
	c.domains_n = 2;
	c.key = key;
	c.key_len = sizeof(key);
	db.info = db_info;
	db.lookup = db_lookup;
	F.r = mem_deref(F.r);
	assert_int_equal(scscf_route_alloc(&F.r, &c, &db, &h, &F), 0);
}


static int setup(void **state)
{
	int r = mem_mark(state);

	memset(&F, 0, sizeof(F));
	loop_close();
	assert_int_equal(loop_init(0), 0);
	tmr_test_set_now(T0);
	fx_alloc(BGCF);
	return r;
}


static int teardown(void **state)
{
	F.r = mem_deref(F.r);
	for (size_t i = 0; i < F.un; i++) {
		mem_deref(F.u[i].cache);
		mem_deref(F.u[i].sub);
	}
	tmr_test_set_now(0);
	loop_close();
	return mem_expect_no_leaks(state);
}


/* ---- messages ---- */

static struct sip_msg *msg_make(const char *text)
{
	struct sip_msg_err merr = { 0, "" };
	struct sip_msg *m = NULL;
	struct buf *mb = NULL;
	int err;

	assert_int_equal(buf_alloc(&mb, strlen(text), SIP_MSG_MAX), 0);
	assert_int_equal(buf_write_str(mb, text), 0);
	mb->pos = 0;
	err = sip_msg_alloc(&m, mb, true, &merr);
	if (err)
		fail_msg("does not decode (%d): %s\n%s", err, merr.reason,
			 text);
	mem_deref(mb);
	m->tp = 1;
	assert_int_equal(sa_set_str(&m->src, "127.0.0.20", 5060), 0);
	return m;
}


/* An initial request: method, Request-URI, extra header lines. */
static struct sip_msg *req_make(const char *meth, const char *ruri,
				const char *hdrs, const char *to_tag)
{
	char t[4096];

	(void)snprintf(t, sizeof(t),
		       "%s %s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.20:5060;branch=z9hG4bK1\r\n"
		       "Max-Forwards: 69\r\n"
		       "%s"
		       "From: <" ALICE ">;tag=a1\r\n"
		       "To: <%s>%s%s\r\n"
		       "Call-ID: call-1\r\n"
		       "CSeq: 1 %s\r\n"
		       "Contact: <sip:alice@10.0.0.5:5062>\r\n"
		       "Content-Length: 0\r\n\r\n",
		       meth, ruri, hdrs, ruri, to_tag ? ";tag=" : "",
		       to_tag ? to_tag : "", meth);
	return msg_make(t);
}


static struct sip_msg *resp_make(uint16_t scode)
{
	char t[1024];

	(void)snprintf(t, sizeof(t),
		       "SIP/2.0 %u X\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.20:5060;branch=z9hG4bK1\r\n"
		       "From: <" ALICE ">;tag=a1\r\n"
		       "To: <" BOB ">;tag=b1\r\n"
		       "Call-ID: call-1\r\n"
		       "CSeq: 1 INVITE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       scode);
	return msg_make(t);
}


static const char *text_of(const struct sip_msg *m)
{
	static char t[8192];

	assert_true(m->len < sizeof(t));
	memcpy(t, m->p, m->len);
	t[m->len] = '\0';
	return t;
}


static void expect_has(const struct sip_msg *m, const char *s, bool yes)
{
	if ((strstr(text_of(m), s) != NULL) != yes)
		fail_msg("%s \"%s\" in:\n%s", yes ? "missing" : "unexpected", s,
			 text_of(m));
}


/* What a proxying AS sends back: the copy without its own Route entry. */
static struct sip_msg *as_returns(const struct sip_msg *sent)
{
	struct cscf_edit e = { 0 };
	struct sip_msg *m = NULL;

	e.route_skip = 1;
	assert_int_equal(cscf_edit_msg(&m, sent, &e), 0);
	return m;
}


/* Run a request through the S-CSCF and every AS it is sent to; the ASs
 * visited are appended to `visited` (space-separated).  *out is the last
 * decision (not an AS forward). */
static void run_through(struct sip_msg *req, struct scscf_route_out *out,
			char *visited, size_t vsize)
{
	struct sip_msg *cur = mem_ref(req);

	visited[0] = '\0';
	for (int guard = 0; guard < 8; guard++) {
		struct sip_msg *next;

		assert_int_equal(scscf_route_request(F.r, cur, out), 0);
		if (out->act != SCSCF_ROUTE_FORWARD || out->hop != SCSCF_HOP_AS)
			break;
		assert_int_equal(out->msgc, 1);
		{
			struct sip_addr a;
			struct pl v;
			struct sip_hdr_iter it = { 0 };
			size_t l = strlen(visited);

			assert_true(sip_msg_hdr_value_next(
				out->msgv[0], SIP_HDR_ROUTE, &it, &v));
			assert_int_equal(sip_addr_decode(&a, &v), 0);
			(void)snprintf(visited + l, vsize - l, "%s%.*s",
				       l ? " " : "", PL_FMT(&a.uri.host));
			/* ours with the ODI right below the AS */
			assert_true(sip_msg_hdr_value_next(
				out->msgv[0], SIP_HDR_ROUTE, &it, &v));
			assert_non_null(pl_find_ci(&v, ME ";lr;odi="));
		}
		next = as_returns(out->msgv[0]);
		scscf_route_out_reset(out);
		mem_deref(cur);
		cur = next;
	}
	mem_deref(cur);
}


/* ---- tests ---- */

static const struct tifc ifc_orig1[] = {
	{ 10, "sip:as1.ims.test", CX_SC_ORIGINATING, CX_DH_SESSION_CONTINUED,
	  CX_PPI_NONE },
	/* a terminating one that must not match an originating request */
	{ 5, "sip:asT.ims.test", CX_SC_TERMINATING_REGISTERED,
	  CX_DH_SESSION_CONTINUED, CX_PPI_NONE },
};

static const struct tifc ifc_orig2[] = {
	/* added out of priority order on purpose */
	{ 20, "sip:as2.ims.test;lr", CX_SC_ORIGINATING, CX_DH_SESSION_CONTINUED,
	  CX_PPI_NONE },
	{ 10, "sip:as1.ims.test", CX_SC_ORIGINATING, CX_DH_SESSION_CONTINUED,
	  CX_PPI_NONE },
	{ 30, "sip:asU.ims.test", CX_SC_ORIGINATING, CX_DH_SESSION_CONTINUED,
	  CX_PPI_UNREGISTERED },
};


static void test_orig_ifcs(void **state)
{
	static const struct {
		const struct tifc *ifc;
		size_t n;
		const char *visited;
	} tab[] = {
		{ NULL, 0, "" },
		{ ifc_orig1, 2, "as1.ims.test" },
		{ ifc_orig2, 3, "as1.ims.test as2.ims.test" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct sip_msg *req;
		char visited[256];

		F.un = 0;
		user_add(ALICE, SCSCF_REGISTERED, tab[i].ifc, tab[i].n);
		req = req_make("INVITE", BOB, ORIG_RT PAI, NULL);
		run_through(req, &out, visited, sizeof(visited));
		assert_string_equal(visited, tab[i].visited);
		assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
		assert_int_equal(out.hop, SCSCF_HOP_ICSCF);
		assert_int_equal(out.sc, SCSCF_SC_ORIG);
		assert_int_equal(out.msgc, 1);
		expect_has(out.msgv[0], "Route: <" ICSCF ";lr>\r\n", true);
		expect_has(out.msgv[0], ";orig", false);
		expect_has(out.msgv[0], "odi=", false);
		expect_has(out.msgv[0], "P-Served-User", false);
		expect_has(out.msgv[0], PAI, true);
		expect_has(out.msgv[0], "INVITE " BOB " SIP/2.0", true);
		scscf_route_out_reset(&out);
		mem_deref(req);
		F.u[0].cache = mem_deref(F.u[0].cache);
		F.u[0].sub = mem_deref(F.u[0].sub);
	}
	F.un = 0;
}


static void test_as_request_headers(void **state)
{
	struct scscf_route_out out;
	struct sip_msg *req;

	(void)state;
	user_add(ALICE, SCSCF_REGISTERED, ifc_orig2, 3);
	req = req_make("INVITE", BOB,
		       ORIG_RT PAI "P-Served-User: <sip:evil@x>\r\n", NULL);
	assert_int_equal(scscf_route_request(F.r, req, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
	assert_int_equal(out.hop, SCSCF_HOP_AS);
	assert_string_equal(out.impu, ALICE);
	assert_false(out.dh_terminate);
	expect_has(out.msgv[0],
		   "Route: <sip:as1.ims.test;lr>, <" ME ";lr;odi=", true);
	expect_has(out.msgv[0],
		   "P-Served-User: <" ALICE ">;sescase=orig;regstate=reg\r\n",
		   true);
	expect_has(out.msgv[0], "sip:evil@x", false);
	expect_has(out.msgv[0], ";orig>", false);
	expect_has(out.msgv[0], PAI, true);
	scscf_route_out_reset(&out);
	mem_deref(req);
}


static void test_odi(void **state)
{
	struct scscf_route *other = NULL;
	struct scscf_route_conf c = { 0 };
	struct scscf_route_db db = { db_info, db_lookup, NULL, NULL };
	static const uint8_t key2[16] = "fedcba9876543210";
	enum scscf_sescase sc;
	char odi[512], user[256], hdrs[1024];
	struct scscf_route_out out;
	struct sip_msg *req;
	uint32_t next;
	struct pl pl;

	(void)state;
	user_add(ALICE, SCSCF_REGISTERED, ifc_orig2, 3);
	assert_int_equal(scscf_route_odi_make(F.r, SCSCF_SC_TERM_UNREG, BOB, 7,
					      odi, sizeof(odi)),
			 0);
	pl_set_str(&pl, odi);
	assert_int_equal(
		scscf_route_odi_check(F.r, &pl, &sc, user, sizeof(user), &next),
		0);
	assert_int_equal(sc, SCSCF_SC_TERM_UNREG);
	assert_string_equal(user, BOB);
	assert_int_equal(next, 7);
	/* too small a buffer for the user */
	assert_int_equal(scscf_route_odi_check(F.r, &pl, &sc, user, 4, &next),
			 ENOSPC);

	/* every single changed character is refused */
	for (size_t i = 0; i < strlen(odi); i++) {
		char t[512];
		int err;

		memcpy(t, odi, sizeof(t));
		t[i] = t[i] == 'A' ? 'B' : 'A';
		pl_set_str(&pl, t);
		err = scscf_route_odi_check(F.r, &pl, &sc, user, sizeof(user),
					    &next);
		assert_true(err == EPERM || err == EBADMSG);
	}
	pl_set_str(&pl, "not*base64");
	assert_int_equal(
		scscf_route_odi_check(F.r, &pl, &sc, user, sizeof(user), &next),
		EBADMSG);

	/* another key: not ours */
	c.uri = ME;
	c.icscf = ICSCF;
	c.domains = domains;
	c.domains_n = 1;
	c.key = key2;
	c.key_len = sizeof(key2);
	assert_int_equal(scscf_route_alloc(&other, &c, &db, NULL, NULL), 0);
	pl_set_str(&pl, odi);
	assert_int_equal(scscf_route_odi_check(other, &pl, &sc, user,
					       sizeof(user), &next),
			 EPERM);
	mem_deref(other);

	/* a request coming back with a tampered ODI: 403 */
	assert_int_equal(scscf_route_odi_make(F.r, SCSCF_SC_ORIG, ALICE, 1, odi,
					      sizeof(odi)),
			 0);
	odi[3] = odi[3] == 'x' ? 'y' : 'x';
	(void)snprintf(hdrs, sizeof(hdrs), "Route: <" ME ";lr;odi=%s>\r\n",
		       odi);
	req = req_make("INVITE", BOB, hdrs, NULL);
	assert_int_equal(scscf_route_request(F.r, req, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_REPLY);
	assert_int_equal(out.scode, 403);
	scscf_route_out_reset(&out);
	mem_deref(req);

	/* a good ODI: continues after the iFC of rank 0 (as1) with as2 */
	assert_int_equal(scscf_route_odi_make(F.r, SCSCF_SC_ORIG, ALICE, 1, odi,
					      sizeof(odi)),
			 0);
	(void)snprintf(hdrs, sizeof(hdrs), "Route: <" ME ";lr;odi=%s>\r\n",
		       odi);
	req = req_make("INVITE", BOB, hdrs, NULL);
	assert_int_equal(scscf_route_request(F.r, req, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
	assert_int_equal(out.hop, SCSCF_HOP_AS);
	expect_has(out.msgv[0], "Route: <sip:as2.ims.test;lr>", true);
	scscf_route_out_reset(&out);

	/* the same ODI after its life: 403 */
	tmr_test_set_now(T0 + 121000);
	assert_int_equal(scscf_route_request(F.r, req, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_REPLY);
	assert_int_equal(out.scode, 403);
	scscf_route_out_reset(&out);
	mem_deref(req);

	assert_int_equal(scscf_route_odi_make(F.r, SCSCF_SC_ORIG, "", 1, odi,
					      sizeof(odi)),
			 EINVAL);
	assert_int_equal(
		scscf_route_odi_make(F.r, SCSCF_SC_ORIG, ALICE, 1, odi, 8),
		ENOSPC);
}


static void test_default_handling(void **state)
{
	static const struct {
		enum cx_default_handling dh;
		uint16_t scode; /* the AS's failure */
		enum scscf_route_act act;
		uint16_t reply;
	} tab[] = {
		{ CX_DH_SESSION_CONTINUED, 0, SCSCF_ROUTE_FORWARD, 0 },
		{ CX_DH_SESSION_CONTINUED, 408, SCSCF_ROUTE_FORWARD, 0 },
		{ CX_DH_SESSION_CONTINUED, 503, SCSCF_ROUTE_FORWARD, 0 },
		{ CX_DH_SESSION_TERMINATED, 0, SCSCF_ROUTE_REPLY, 408 },
		{ CX_DH_SESSION_TERMINATED, 408, SCSCF_ROUTE_REPLY, 408 },
		{ CX_DH_SESSION_TERMINATED, 500, SCSCF_ROUTE_REPLY, 500 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct tifc ifc[2] = {
			{ 10, "sip:as1.ims.test", CX_SC_ORIGINATING, tab[i].dh,
			  CX_PPI_NONE },
			{ 20, "sip:as2.ims.test", CX_SC_ORIGINATING,
			  CX_DH_SESSION_CONTINUED, CX_PPI_NONE },
		};
		struct scscf_route_out out, out2;
		struct sip_msg *req;

		F.un = 0;
		F.ends = 0;
		user_add(ALICE, SCSCF_REGISTERED, ifc, 2);
		req = req_make("INVITE", BOB, ORIG_RT PAI, NULL);
		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.hop, SCSCF_HOP_AS);
		assert_int_equal(out.dh_terminate,
				 tab[i].dh == CX_DH_SESSION_TERMINATED);
		assert_int_equal(scscf_route_as_failed(F.r, out.msgv[0],
						       tab[i].scode, &out2),
				 0);
		assert_int_equal(out2.act, tab[i].act);
		if (tab[i].act == SCSCF_ROUTE_REPLY) {
			assert_int_equal(out2.scode, tab[i].reply);
			assert_int_equal(F.ends, 1);
			assert_int_equal(F.end_scode, tab[i].reply);
		} else {
			/* skipped to the next iFC, the ODI renewed */
			assert_int_equal(out2.hop, SCSCF_HOP_AS);
			expect_has(out2.msgv[0],
				   "Route: <sip:as2.ims.test;lr>, <" ME
				   ";lr;odi=",
				   true);
			expect_has(out2.msgv[0], "as1.ims.test", false);
			assert_int_equal(F.ends, 0);
		}
		scscf_route_out_reset(&out2);
		/* not a failure DefaultHandling is for */
		assert_int_equal(
			scscf_route_as_failed(F.r, out.msgv[0], 404, &out2),
			EINVAL);
		/* not a copy sent to an AS */
		assert_int_equal(scscf_route_as_failed(F.r, req, 0, &out2),
				 EINVAL);
		scscf_route_out_reset(&out2);
		scscf_route_out_reset(&out);
		mem_deref(req);
		F.u[0].cache = mem_deref(F.u[0].cache);
		F.u[0].sub = mem_deref(F.u[0].sub);
	}
	F.un = 0;

	/* the last AS fails with SESSION_CONTINUED: after services */
	{
		struct tifc ifc = { 10, "sip:as1.ims.test", CX_SC_ORIGINATING,
				    CX_DH_SESSION_CONTINUED, CX_PPI_NONE };
		struct scscf_route_out out, out2;
		struct sip_msg *req;

		user_add(ALICE, SCSCF_REGISTERED, &ifc, 1);
		req = req_make("INVITE", "sip:carl@other.test", ORIG_RT PAI,
			       NULL);
		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.hop, SCSCF_HOP_AS);
		assert_int_equal(
			scscf_route_as_failed(F.r, out.msgv[0], 0, &out2), 0);
		assert_int_equal(out2.act, SCSCF_ROUTE_FORWARD);
		assert_int_equal(out2.hop, SCSCF_HOP_DNS);
		expect_has(out2.msgv[0], "Route:", false);
		expect_has(out2.msgv[0], "P-Served-User", false);
		scscf_route_out_reset(&out2);
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
}


static void test_terminating(void **state)
{
	static const struct tifc ifc_term[] = {
		{ 10, "sip:asT.ims.test", CX_SC_TERMINATING_REGISTERED,
		  CX_DH_SESSION_CONTINUED, CX_PPI_NONE },
		{ 5, "sip:asO.ims.test", CX_SC_ORIGINATING,
		  CX_DH_SESSION_CONTINUED, CX_PPI_NONE },
	};
	static const struct tifc ifc_unreg[] = {
		{ 10, "sip:vm.ims.test", CX_SC_TERMINATING_UNREGISTERED,
		  CX_DH_SESSION_CONTINUED, CX_PPI_NONE },
	};
	struct tuser *u;
	static const struct {
		const char *ruri;
		bool fetch; /* FETCH first */
		int ferr;   /* the fetch's outcome */
		const char *visited;
		enum scscf_route_act act;
		uint16_t scode;
		size_t forks;
	} tab[] = {
		{ BOB, false, 0, "asT.ims.test", SCSCF_ROUTE_FORWARD, 0, 2 },
		{ "sip:dave@ims.test", false, 0, "", SCSCF_ROUTE_REPLY, 480,
		  0 },
		{ "sip:erin@ims.test", true, 0, "vm.ims.test",
		  SCSCF_ROUTE_REPLY, 480, 0 },
		{ "sip:frank@ims.test", false, 0, "", SCSCF_ROUTE_REPLY, 480,
		  0 },
		{ "sip:nobody@ims.test", true, ENOENT, "", SCSCF_ROUTE_REPLY,
		  404, 0 },
		{ "sip:gone@ims.test", true, ETIMEDOUT, "", SCSCF_ROUTE_REPLY,
		  480, 0 },
		{ "sip:barred@ims.test", false, 0, "", SCSCF_ROUTE_REPLY, 404,
		  0 },
	};

	(void)state;
	u = user_add(BOB, SCSCF_REGISTERED, ifc_term, 2);
	contact_add(u, "sip:bob@192.0.2.20:5062;transport=tcp",
		    "<sip:tok1@pcscf.ims.test:5060;lr>");
	contact_add(u, "sip:bob@192.0.2.21:5070",
		    "<sip:tok2@pcscf2.ims.test;lr>, <sip:edge.ims.test;lr>");
	/* registered without a contact left (a race with expiry) */
	user_add("sip:dave@ims.test", SCSCF_REGISTERED, NULL, 0);
	/* unknown until its profile is fetched; unregistered services */
	u = user_add("sip:erin@ims.test", SCSCF_UNREGISTERED, ifc_unreg, 1);
	u->hidden = true;
	/* unregistered, no unregistered services */
	user_add("sip:frank@ims.test", SCSCF_UNREGISTERED, ifc_term, 2);
	u = user_add("sip:barred@ims.test", SCSCF_REGISTERED, NULL, 0);
	u->barred = true;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct sip_msg *req, *cur;
		char visited[256];

		req = req_make("INVITE", tab[i].ruri, PAI, NULL);
		cur = mem_ref(req);
		if (tab[i].fetch) {
			assert_int_equal(scscf_route_request(F.r, req, &out),
					 0);
			assert_int_equal(out.act, SCSCF_ROUTE_FETCH);
			assert_string_equal(out.impu, tab[i].ruri);
			scscf_route_out_reset(&out);
			u = user_find(tab[i].ruri);
			if (u)
				u->hidden = false;
			assert_int_equal(scscf_route_fetched(F.r, req,
							     tab[i].ferr, &out),
					 0);
			if (out.act == SCSCF_ROUTE_FORWARD &&
			    out.hop == SCSCF_HOP_AS) {
				expect_has(out.msgv[0],
					   "P-Served-User: <sip:erin@ims.test>;"
					   "sescase=term;regstate=unreg",
					   true);
				mem_deref(cur);
				cur = as_returns(out.msgv[0]);
				scscf_route_out_reset(&out);
				run_through(cur, &out, visited,
					    sizeof(visited));
				(void)snprintf(visited, sizeof(visited),
					       "vm.ims.test");
			} else {
				visited[0] = '\0';
			}
		} else {
			run_through(req, &out, visited, sizeof(visited));
		}
		assert_string_equal(visited, tab[i].visited);
		assert_int_equal(out.act, tab[i].act);
		if (out.act == SCSCF_ROUTE_REPLY)
			assert_int_equal(out.scode, tab[i].scode);
		assert_int_equal(out.msgc, tab[i].forks);
		scscf_route_out_reset(&out);
		mem_deref(cur);
		mem_deref(req);
	}

	/* bob's two contacts in parallel, each via its Path */
	{
		struct scscf_route_out out;
		struct sip_msg *req;
		char visited[64];

		req = req_make("INVITE", BOB ";user=x", PAI, NULL);
		run_through(req, &out, visited, sizeof(visited));
		assert_int_equal(out.hop, SCSCF_HOP_CONTACT);
		assert_int_equal(out.sc, SCSCF_SC_TERM_REG);
		assert_int_equal(out.msgc, 2);
		expect_has(out.msgv[0],
			   "INVITE sip:bob@192.0.2.20:5062;transport=tcp "
			   "SIP/2.0",
			   true);
		expect_has(out.msgv[0],
			   "Route: <sip:tok1@pcscf.ims.test:5060;lr>\r\n",
			   true);
		expect_has(out.msgv[1],
			   "INVITE sip:bob@192.0.2.21:5070 SIP/2.0", true);
		expect_has(out.msgv[1],
			   "Route: <sip:tok2@pcscf2.ims.test;lr>, "
			   "<sip:edge.ims.test;lr>\r\n",
			   true);
		for (size_t i = 0; i < 2; i++) {
			expect_has(out.msgv[i], "odi=", false);
			expect_has(out.msgv[i], "P-Served-User", false);
			expect_has(out.msgv[i], PAI, true);
		}
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
}


/* TS 24.229 5.4.3.3: an AS retargets a terminating request (call
 * forwarding): it goes where the new Request-URI says. */
static void test_retarget(void **state)
{
	static const struct tifc ifc = { 10, "sip:cdiv.ims.test",
					 CX_SC_TERMINATING_REGISTERED,
					 CX_DH_SESSION_CONTINUED, CX_PPI_NONE };
	static const struct {
		const char *to;
		enum scscf_hop hop;
	} tab[] = {
		{ "sip:carl@other.test", SCSCF_HOP_DNS },
		{ "sip:zed@ims.test", SCSCF_HOP_ICSCF },
	};
	struct tuser *u;

	(void)state;
	u = user_add(BOB, SCSCF_REGISTERED, &ifc, 1);
	contact_add(u, "sip:bob@192.0.2.20:5062",
		    "<sip:tok1@pcscf.ims.test;lr>");
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct cscf_edit e = { 0 };
		struct sip_msg *req, *back = NULL;

		/* as the I-CSCF sends it: our plain URI on top */
		req = req_make("INVITE", BOB, "Route: <" ME ";lr>\r\n" PAI,
			       NULL);
		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.hop, SCSCF_HOP_AS);
		assert_int_equal(out.sc, SCSCF_SC_TERM_REG);
		expect_has(out.msgv[0], "Route: <" ME ";lr>\r\n", false);
		e.route_skip = 1;
		e.ruri = tab[i].to;
		assert_int_equal(cscf_edit_msg(&back, out.msgv[0], &e), 0);
		scscf_route_out_reset(&out);
		assert_int_equal(scscf_route_request(F.r, back, &out), 0);
		assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
		assert_int_equal(out.hop, tab[i].hop);
		expect_has(out.msgv[0], "INVITE ", true);
		expect_has(out.msgv[0], tab[i].to, true);
		expect_has(out.msgv[0], "odi=", false);
		scscf_route_out_reset(&out);
		mem_deref(back);
		mem_deref(req);
	}
}


static void test_after_orig_services(void **state)
{
	static const struct {
		const char *ruri;
		bool breakout;
		enum scscf_route_act act;
		enum scscf_hop hop;
		uint16_t scode;
		const char *route; /* the Route line added, or NULL */
	} tab[] = {
		{ BOB, true, SCSCF_ROUTE_FORWARD, SCSCF_HOP_ICSCF, 0,
		  "Route: <" ICSCF ";lr>\r\n" },
		{ "sip:zed@CORP.test", true, SCSCF_ROUTE_FORWARD,
		  SCSCF_HOP_ICSCF, 0, "Route: <" ICSCF ";lr>\r\n" },
		{ "sip:carl@other.test", true, SCSCF_ROUTE_FORWARD,
		  SCSCF_HOP_DNS, 0, NULL },
		{ "tel:+49-30-123", true, SCSCF_ROUTE_FORWARD, SCSCF_HOP_ICSCF,
		  0, "Route: <" ICSCF ";lr>\r\n" },
		{ "tel:+15555550100", true, SCSCF_ROUTE_FORWARD,
		  SCSCF_HOP_BREAKOUT, 0, "Route: <" BGCF ";lr>\r\n" },
		{ "sip:+15555550100@ims.test;user=phone", true,
		  SCSCF_ROUTE_FORWARD, SCSCF_HOP_BREAKOUT, 0,
		  "Route: <" BGCF ";lr>\r\n" },
		{ "tel:+15555550100", false, SCSCF_ROUTE_REPLY, 0, 404, NULL },
		{ "tel:5550100;phone-context=x", true, SCSCF_ROUTE_REPLY, 0,
		  404, NULL },
	};

	(void)state;
	user_add(ALICE, SCSCF_REGISTERED, NULL, 0);
	/* a number someone in the domain owns */
	user_add("tel:+4930123", SCSCF_REGISTERED, NULL, 0);

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct sip_msg *req;

		fx_alloc(tab[i].breakout ? BGCF : NULL);
		req = req_make("INVITE", tab[i].ruri, ORIG_RT PAI, NULL);
		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		if (out.act != tab[i].act)
			fail_msg("%s: act %d", tab[i].ruri, out.act);
		if (out.act == SCSCF_ROUTE_REPLY) {
			assert_int_equal(out.scode, tab[i].scode);
		} else {
			assert_int_equal(out.hop, tab[i].hop);
			assert_int_equal(out.msgc, 1);
			if (tab[i].route)
				expect_has(out.msgv[0], tab[i].route, true);
			else
				expect_has(out.msgv[0], "Route:", false);
			expect_has(out.msgv[0], tab[i].ruri, true);
		}
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
}


static void test_orig_refused(void **state)
{
	static const struct {
		const char *hdrs;
		uint16_t scode;
	} tab[] = {
		/* no P-Asserted-Identity */
		{ ORIG_RT, 403 },
		/* not served here */
		{ ORIG_RT "P-Asserted-Identity: <sip:mallory@ims.test>\r\n",
		  403 },
		/* barred */
		{ ORIG_RT "P-Asserted-Identity: <sip:barred@ims.test>\r\n",
		  403 },
	};
	struct tuser *u;

	(void)state;
	user_add(ALICE, SCSCF_REGISTERED, NULL, 0);
	u = user_add("sip:barred@ims.test", SCSCF_REGISTERED, NULL, 0);
	u->barred = true;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct sip_msg *req =
			req_make("INVITE", BOB, tab[i].hdrs, NULL);

		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.act, SCSCF_ROUTE_REPLY);
		assert_int_equal(out.scode, tab[i].scode);
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
	/* the tel: identity is taken when no SIP URI is asserted */
	user_add("tel:+4930123", SCSCF_REGISTERED, NULL, 0);
	{
		struct scscf_route_out out;
		struct sip_msg *req = req_make(
			"INVITE", BOB,
			ORIG_RT "P-Asserted-Identity: <tel:+49-30-123>\r\n",
			NULL);

		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
		assert_string_equal(out.impu, "tel:+4930123");
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
}


static void test_subsequent(void **state)
{
	struct scscf_route_out out;
	struct sip_msg *req;

	(void)state;
	req = req_make("BYE", "sip:bob@192.0.2.20:5062",
		       "Route: <" ME ";lr>, <sip:tok1@pcscf.ims.test;lr>\r\n",
		       "b1");
	assert_int_equal(scscf_route_request(F.r, req, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
	assert_int_equal(out.hop, SCSCF_HOP_ROUTE);
	assert_int_equal(out.msgc, 1);
	expect_has(out.msgv[0], "Route: <sip:tok1@pcscf.ims.test;lr>\r\n",
		   true);
	expect_has(out.msgv[0], ME, false);
	assert_int_equal(F.ends, 1);
	assert_int_equal(F.starts, 0);
	scscf_route_out_reset(&out);
	mem_deref(req);
}


static void test_hooks(void **state)
{
	static const struct tifc ifc = { 10, "sip:as1.ims.test",
					 CX_SC_ORIGINATING,
					 CX_DH_SESSION_CONTINUED, CX_PPI_NONE };
	struct scscf_route_out out;
	struct sip_msg *req, *resp, *cancel, *msg;
	char visited[64];

	(void)state;
	user_add(ALICE, SCSCF_REGISTERED, &ifc, 1);
	req = req_make("INVITE", BOB, ORIG_RT PAI, NULL);
	/* through the AS and out: one start, not one per pass */
	run_through(req, &out, visited, sizeof(visited));
	assert_string_equal(visited, "as1.ims.test");
	scscf_route_out_reset(&out);
	assert_int_equal(F.starts, 1);
	assert_int_equal(F.start_sc, SCSCF_SC_ORIG);
	assert_string_equal(F.start_user, ALICE);

	resp = resp_make(180);
	scscf_route_response(F.r, req, resp);
	mem_deref(resp);
	assert_int_equal(F.answers + F.ends, 0);
	resp = resp_make(200);
	scscf_route_response(F.r, req, resp);
	mem_deref(resp);
	assert_int_equal(F.answers, 1);
	resp = resp_make(486);
	scscf_route_response(F.r, req, resp);
	mem_deref(resp);
	assert_int_equal(F.ends, 1);
	assert_int_equal(F.end_scode, 486);

	/* the pass back from the AS is the same call: no second start, and
	 * its responses (relayed to the first pass) run no hook */
	{
		struct sip_msg *back;

		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.hop, SCSCF_HOP_AS);
		assert_int_equal(F.starts, 2);
		back = as_returns(out.msgv[0]);
		scscf_route_out_reset(&out);
		assert_int_equal(scscf_route_request(F.r, back, &out), 0);
		assert_int_equal(out.hop, SCSCF_HOP_ICSCF);
		assert_int_equal(F.starts, 2);
		scscf_route_out_reset(&out);
		resp = resp_make(200);
		scscf_route_response(F.r, back, resp);
		mem_deref(resp);
		resp = resp_make(603);
		scscf_route_response(F.r, back, resp);
		mem_deref(resp);
		assert_int_equal(F.answers, 1);
		assert_int_equal(F.ends, 1);
		mem_deref(back);
	}

	cancel = req_make("CANCEL", BOB, ORIG_RT PAI, NULL);
	assert_int_equal(scscf_route_request(F.r, cancel, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
	assert_int_equal(F.ends, 2);
	scscf_route_out_reset(&out);
	mem_deref(cancel);

	/* a MESSAGE is no call */
	msg = req_make("MESSAGE", BOB, ORIG_RT PAI, NULL);
	assert_int_equal(scscf_route_request(F.r, msg, &out), 0);
	assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
	assert_int_equal(out.hop, SCSCF_HOP_ICSCF);
	assert_int_equal(F.starts, 2);
	scscf_route_out_reset(&out);
	mem_deref(msg);
	mem_deref(req);
}


/* ---- against the real registrar and HSS (in-process Cx) ---- */

struct rfx {
	struct hsstest t;
	struct dia_node *hssn, *cscf;
	struct scscf_reg *reg;
};

static struct rfx R;


static int hss_serve(const struct dia_msg *req, struct dia_msg **ansp,
		     struct dia_srv_req *sr, void *arg)
{
	(void)sr;
	return hss_handle(arg, req, ansp);
}


static int hss_send(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
		    void *arg)
{
	(void)arg;
	return dia_node_request(R.hssn, req, NULL, resph, resp_arg);
}


static struct dia_node *node_up(const char *id, bool hss)
{
	static const uint32_t cmds[] = { DIA_CMD_UA, DIA_CMD_SA, DIA_CMD_LI,
					 DIA_CMD_MA };
	struct dia_node_conf c;
	struct dia_node *n = NULL;
	char msg[256];

	memset(&c, 0, sizeof(c));
	(void)snprintf(c.identity, sizeof(c.identity), "%s", id);
	(void)snprintf(c.realm, sizeof(c.realm), "%s", HT_REALM);
	c.setup_ms = 2000;
	c.request_timeout_ms = 3000;
	c.in_process = 1;
	if (dia_node_alloc(&n, &c, msg, sizeof(msg)))
		fail_msg("dia_node_alloc: %s", msg);
	if (hss) {
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(dia_node_handle(n, DIA_APP_CX, cmds[i],
							 hss_serve, R.t.hss),
					 0);
	}
	return n;
}


static void node_go(struct dia_node *n)
{
	char msg[256];

	if (dia_node_start(n, msg, sizeof(msg)))
		fail_msg("dia_node_start: %s", msg);
}


static void pump(void)
{
	/* the in-process Diameter path answers from 0-delay timers */
	for (int i = 0; i < 20; i++)
		assert_int_equal(loop_poll(0), 0);
}


static int setup_reg(void **state)
{
	struct scscf_route_conf c = { 0 };
	struct scscf_route_db db;
	struct scscf_reg_conf rc;
	int r = setup(state);

	memset(&R, 0, sizeof(R));
	ht_setup(&R.t, HSS_SLF_OFF);
	hss_set_send(R.t.hss, hss_send, &R);
	R.hssn = node_up(HT_HSS, true);
	node_go(R.hssn);
	R.cscf = node_up("scscf1.ims.test", false);
	memset(&rc, 0, sizeof(rc));
	rc.server_name = HT_SCSCF1;
	assert_int_equal(scscf_reg_alloc(&R.reg, R.cscf, &rc), 0);
	node_go(R.cscf);

	c.uri = HT_SCSCF1;
	c.icscf = ICSCF;
	c.domains = domains;
	c.domains_n = 1;
	c.key = key;
	c.key_len = sizeof(key);
	scscf_route_db_from_reg(&db, R.reg);
	F.r = mem_deref(F.r);
	assert_int_equal(scscf_route_alloc(&F.r, &c, &db, NULL, NULL), 0);
	return r;
}


static int teardown_reg(void **state)
{
	F.r = mem_deref(F.r);
	dia_node_close(R.cscf);
	R.cscf = mem_deref(R.cscf);
	scscf_reg_close(R.reg);
	R.reg = mem_deref(R.reg);
	dia_node_close(R.hssn);
	R.hssn = mem_deref(R.hssn);
	ht_teardown(&R.t);
	return teardown(state);
}


struct pgot {
	unsigned n;
	int err;
};


static void prof_h(int err, const struct scscf_impu_info *info, void *arg)
{
	struct pgot *p = arg;

	(void)info;
	p->n++;
	p->err = err;
}


/* Terminating to users that are not registered: the profile is fetched
 * from the HSS (SAR UNREGISTERED_USER), bob's unregistered-state iFC
 * sends the INVITE to the AS, then 480; an unknown user gets 404. */
static void test_real_registrar(void **state)
{
	static const struct {
		const char *ruri;
		int ferr;
		bool as;
		uint16_t scode;
	} tab[] = {
		{ HT_BU, 0, true, 480 },
		{ "sip:nobody@ims.test", ENOENT, false, 404 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct scscf_route_out out;
		struct sip_msg *req, *back;
		struct pgot p = { 0 };

		req = req_make("INVITE", tab[i].ruri,
			       "Route: <" HT_SCSCF1 ";lr>\r\n", NULL);
		assert_int_equal(scscf_route_request(F.r, req, &out), 0);
		assert_int_equal(out.act, SCSCF_ROUTE_FETCH);
		assert_string_equal(out.impu, tab[i].ruri);
		assert_int_equal(scscf_reg_unregistered_profile(R.reg, out.impu,
								prof_h, &p),
				 0);
		scscf_route_out_reset(&out);
		pump();
		assert_int_equal(p.n, 1);
		assert_int_equal(p.err, tab[i].ferr);
		assert_int_equal(scscf_route_fetched(F.r, req, p.err, &out), 0);
		if (tab[i].as) {
			assert_int_equal(out.act, SCSCF_ROUTE_FORWARD);
			assert_int_equal(out.hop, SCSCF_HOP_AS);
			assert_int_equal(out.sc, SCSCF_SC_TERM_UNREG);
			expect_has(out.msgv[0],
				   "Route: <sip:as.ims.test;lr>, "
				   "<" HT_SCSCF1 ";lr;odi=",
				   true);
			expect_has(out.msgv[0],
				   "P-Served-User: <" HT_BU
				   ">;sescase=term;regstate=unreg\r\n",
				   true);
			back = as_returns(out.msgv[0]);
			scscf_route_out_reset(&out);
			assert_int_equal(scscf_route_request(F.r, back, &out),
					 0);
			mem_deref(back);
		}
		assert_int_equal(out.act, SCSCF_ROUTE_REPLY);
		assert_int_equal(out.scode, tab[i].scode);
		scscf_route_out_reset(&out);
		mem_deref(req);
	}
}


static void test_conf_errors(void **state)
{
	struct scscf_route *r = NULL;
	struct scscf_route_conf c = { 0 };
	struct scscf_route_db db = { db_info, db_lookup, NULL, NULL };
	struct scscf_route_out out;
	const char *bad_dom[] = { "" };

	(void)state;
	assert_int_equal(scscf_route_alloc(&r, &c, &db, NULL, NULL), EINVAL);
	c.uri = "tel:+1";
	c.icscf = ICSCF;
	c.domains = domains;
	c.domains_n = 1;
	assert_int_equal(scscf_route_alloc(&r, &c, &db, NULL, NULL), EINVAL);
	c.uri = ME;
	c.domains = bad_dom;
	assert_int_equal(scscf_route_alloc(&r, &c, &db, NULL, NULL), EINVAL);
	c.domains = domains;
	db.lookup = NULL;
	assert_int_equal(scscf_route_alloc(&r, &c, &db, NULL, NULL), EINVAL);
	db.lookup = db_lookup;
	/* a random key */
	assert_int_equal(scscf_route_alloc(&r, &c, &db, NULL, NULL), 0);
	assert_int_equal(scscf_route_request(r, NULL, &out), EINVAL);
	mem_deref(r);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_orig_ifcs),
		T(test_as_request_headers),
		T(test_odi),
		T(test_default_handling),
		T(test_terminating),
		T(test_after_orig_services),
		T(test_orig_refused),
		T(test_subsequent),
		T(test_hooks),
		T(test_conf_errors),
		T(test_retarget),
#undef T
		cmocka_unit_test_setup_teardown(test_real_registrar, setup_reg,
						teardown_reg),
	};

	return cmocka_run_group_tests_name("cscf_scscf_route", tests, NULL,
					   NULL);
}
