/**
 * @file test_cscf_scscf_reg.c  The S-CSCF registrar (cscf/scscf_reg.h)
 *                              against the real HSS, in one process.
 *
 * The HSS (util/hsstest.h: a provisioned SQLite store) is served by an
 * in-process Diameter node "hss.ims.test"; the S-CSCF "scscf1.ims.test"
 * is a client node that the registrar uses for MAR/SAR and on which it
 * serves RTR/PPR.  The clock is frozen (tmr_test_set_now), so expiry is
 * driven by moving it.  REGISTERs are written as text and decoded; the
 * UE side of the credentials is computed here: RFC 7616 responses from
 * the provisioned passwords, and Digest-AKA with the USIM functions of
 * hss/aka.h (aka_ue_check) on alice's keys.
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
#include <unistd.h>

#include "core/loop.h"
#include "core/mem.h"
#include "cscf/ifc.h"
#include "cscf/scscf_reg.h"
#include "cscf/scscf_store.h"
#include "diameter/dict.h"
#include "diameter/node.h"
#include "diameter/userdata.h"
#include "hss/aka.h"
#include "hss/hss.h"
#include "hss/milenage.h"
#include "sip/auth.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "store/store.h"
#include "util/hsstest.h"

#define CSCF   "scscf1.ims.test"
#define T0     1000000u
#define PATH   "<sip:term@pcscf.ims.test;lr>"
#define CT1    "sip:alice@10.0.0.1:5060"
#define CT2    "sip:alice@10.0.0.2:5062"
#define SROUTE "Service-Route: <" HT_SCSCF1 ";lr;orig>\r\n"

struct fx {
	struct hsstest t;
	struct dia_node *hssn, *cscf;
	struct scscf_reg *reg;
	struct scscf_store *store;
	char sdir[64];
	bool keys;  /* conf.keys_to_pcscf */
	bool trust; /* conf.trust_integrity */
	char ev[4096];
	struct aka_ue_sqn ue;
	uint32_t cseq;
};

static struct fx F;

/* The answer to one REGISTER. */
struct got {
	unsigned n;
	int err;
	uint16_t scode;
	char reason[128];
	char hdrs[4096];
};

/* ---- loop ---- */

static void pump(void)
{
	int i;

	/* the in-process Diameter path answers from 0-delay timers */
	for (i = 0; i < 20; i++)
		assert_int_equal(loop_poll(0), 0);
}


static uint64_t now_ms;

static void advance(uint64_t ms)
{
	now_ms += ms;
	tmr_test_set_now(now_ms);
	pump();
}

/* ---- nodes, as test_cx_client.c wires them ---- */

static int hss_serve(const struct dia_msg *req, struct dia_msg **ansp,
		     struct dia_srv_req *sr, void *arg)
{
	(void)sr;
	return hss_handle(arg, req, ansp);
}


static int hss_send(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
		    void *arg)
{
	struct fx *f = arg;

	return dia_node_request(f->hssn, req, NULL, resph, resp_arg);
}


static void conf_init(struct dia_node_conf *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->identity, sizeof(c->identity), "%s", id);
	(void)snprintf(c->realm, sizeof(c->realm), "%s", HT_REALM);
	c->setup_ms = 2000;
	c->request_timeout_ms = 3000;
	c->in_process = 1;
}


static struct dia_node *node_alloc(const struct dia_node_conf *c)
{
	struct dia_node *n = NULL;
	char msg[256];

	if (dia_node_alloc(&n, c, msg, sizeof(msg)))
		fail_msg("dia_node_alloc: %s", msg);
	return n;
}


static void node_start(struct dia_node *n)
{
	char msg[256];

	if (dia_node_start(n, msg, sizeof(msg)))
		fail_msg("dia_node_start: %s", msg);
}


static void node_free(struct dia_node *n)
{
	if (!n)
		return;
	dia_node_close(n);
	mem_deref(n);
}


static const char *ev_name(enum scscf_reg_ev e)
{
	static const char *const n[] = {
		"registered", "created",      "refreshed",
		"shortened",  "expired",      "deactivated",
		"probation",  "unregistered", "rejected",
	};

	return (unsigned)e < sizeof(n) / sizeof(n[0]) ? n[e] : "?";
}


static void ev_h(const struct scscf_reg_event *e, void *arg)
{
	struct fx *f = arg;
	size_t l, i;

	/* "impu,impu state: event contact expires, ...[ as=uri ...]|" */
	for (i = 0; i < e->impu_n; i++) {
		l = strlen(f->ev);
		(void)snprintf(f->ev + l, sizeof(f->ev) - l, "%s%s",
			       i ? "," : "", e->impu[i]);
	}
	l = strlen(f->ev);
	(void)snprintf(f->ev + l, sizeof(f->ev) - l, " %s:",
		       e->state == SCSCF_REGISTERED ? "active" : "terminated");
	for (i = 0; i < e->ct_n; i++) {
		l = strlen(f->ev);
		(void)snprintf(f->ev + l, sizeof(f->ev) - l, "%s %s %s %u",
			       i ? "," : "", ev_name(e->ct[i].ev),
			       e->ct[i].contact, e->ct[i].expires);
	}
	for (i = 0; e->as_uri && e->as_uri[i]; i++) {
		l = strlen(f->ev);
		(void)snprintf(f->ev + l, sizeof(f->ev) - l, " as=%s",
			       e->as_uri[i]);
	}
	l = strlen(f->ev);
	(void)snprintf(f->ev + l, sizeof(f->ev) - l, "|");
}


/* The S-CSCF: its node and the registrar (before the node starts, so the
 * CER advertises Cx for RTR/PPR). */
static void cscf_up(void)
{
	struct dia_node_conf c;
	struct scscf_reg_conf rc;

	conf_init(&c, CSCF);
	F.cscf = node_alloc(&c);
	memset(&rc, 0, sizeof(rc));
	rc.server_name = HT_SCSCF1;
	rc.keys_to_pcscf = F.keys;
	rc.trust_integrity = F.trust;
	rc.store = F.store;
	rc.auth_timeout_s = 30;
	assert_int_equal(scscf_reg_alloc(&F.reg, F.cscf, &rc), 0);
	scscf_reg_set_eventh(F.reg, ev_h, &F);
	node_start(F.cscf);
}


static void cscf_down(void)
{
	node_free(F.cscf);
	F.cscf = NULL;
	scscf_reg_close(F.reg);
	F.reg = mem_deref(F.reg);
}


static void rm_store_dir(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[160];
	size_t i;

	if (!F.sdir[0])
		return;
	for (i = 0; i < 4; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s%s", F.sdir,
			       SCSCF_STORE_FILE, sfx[i]);
		(void)unlink(path);
	}
	(void)rmdir(F.sdir);
}


static void fx_setup(bool sqlite)
{
	struct dia_node_conf c;
	size_t i;

	memset(&F, 0, sizeof(F));
	loop_close();
	now_ms = T0;
	tmr_test_set_now(now_ms);
	assert_int_equal(loop_init(0), 0);
	ht_setup(&F.t, HSS_SLF_OFF);
	hss_set_send(F.t.hss, hss_send, &F);

	conf_init(&c, HT_HSS);
	F.hssn = node_alloc(&c);
	{
		static const uint32_t cmds[] = { DIA_CMD_UA, DIA_CMD_SA,
						 DIA_CMD_LI, DIA_CMD_MA };

		for (i = 0; i < 4; i++)
			assert_int_equal(dia_node_handle(F.hssn, DIA_APP_CX,
							 cmds[i], hss_serve,
							 F.t.hss),
					 0);
	}
	node_start(F.hssn);
	if (sqlite) {
		(void)snprintf(F.sdir, sizeof(F.sdir),
			       "/tmp/entims-sreg-XXXXXX");
		assert_non_null(mkdtemp(F.sdir));
		assert_int_equal(scscf_store_sqlite_open(&F.store, F.sdir), 0);
	} else {
		assert_int_equal(scscf_store_mem_alloc(&F.store), 0);
	}
	F.keys = true;
	F.cseq = 1;
	cscf_up();
}


static int setup(void **state)
{
	int r = mem_mark(state);

	fx_setup(false);
	return r;
}


static int setup_sqlite(void **state)
{
	int r = mem_mark(state);

	fx_setup(true);
	return r;
}


static int teardown(void **state)
{
	cscf_down();
	node_free(F.hssn);
	F.store = mem_deref(F.store);
	rm_store_dir();
	ht_teardown(&F.t);
	loop_close();
	tmr_test_set_now(0);
	return mem_expect_no_leaks(state);
}

/* ---- REGISTER ---- */

struct rq {
	const char *impu;    /* To */
	const char *contact; /* full Contact values, NULL: none */
	const char *expires; /* Expires header value, or NULL */
	const char *auth;    /* Authorization value, or NULL */
	const char *callid;
};


static void reply_h(const struct scscf_reply *rep, void *arg)
{
	struct got *g = arg;

	g->n++;
	g->err = rep->err;
	g->scode = rep->scode;
	(void)snprintf(g->reason, sizeof(g->reason), "%s", rep->reason);
	(void)snprintf(g->hdrs, sizeof(g->hdrs), "%s", rep->hdrs);
}


/* Send one REGISTER, run the loop, return the answer (exactly one). */
static void reg_send(const struct rq *r, struct got *g)
{
	static char text[4096];
	struct sip_msg *msg = mem_zalloc(sizeof(*msg), NULL);
	struct sip_msg_err e;
	int n;

	assert_non_null(msg);
	n = snprintf(text, sizeof(text),
		     "REGISTER sip:" HT_REALM " SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP pcscf.ims.test;branch=z9hG4bKp%u\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKu%u\r\n"
		     "Max-Forwards: 69\r\n"
		     "From: <%s>;tag=ue%u\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "%s%s%s"
		     "%s%s%s"
		     "Path: " PATH "\r\n"
		     "Supported: path\r\n"
		     "P-Visited-Network-ID: \"" HT_REALM "\"\r\n"
		     "%s%s%s"
		     "Content-Length: 0\r\n\r\n",
		     F.cseq, F.cseq, r->impu, F.cseq, r->impu,
		     r->callid ? r->callid : "cid-1@10.0.0.1", F.cseq,
		     r->contact ? "Contact: " : "",
		     r->contact ? r->contact : "", r->contact ? "\r\n" : "",
		     r->expires ? "Expires: " : "",
		     r->expires ? r->expires : "", r->expires ? "\r\n" : "",
		     r->auth ? "Authorization: " : "", r->auth ? r->auth : "",
		     r->auth ? "\r\n" : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	F.cseq++;
	assert_int_equal(sip_msg_decode(msg, text, (size_t)n, true, &e), 0);
	memset(g, 0, sizeof(*g));
	assert_int_equal(scscf_reg_handle(F.reg, msg, reply_h, g), 0);
	/* the message may go at once: the registrar copied it */
	memset(text, 'x', sizeof(text));
	mem_deref(msg);
	pump();
	assert_int_equal(g->n, 1);
	assert_int_equal(g->err, 0);
}


/* The value of the (only) header line name in the answer. */
static bool hdr_val(const struct got *g, const char *name, char *out,
		    size_t size)
{
	const char *p = g->hdrs;
	size_t l = strlen(name);

	while (p && *p) {
		const char *e = strstr(p, "\r\n");

		if (!e)
			return false;
		if (!strncmp(p, name, l) && p[l] == ':') {
			const char *v = p + l + 1;

			while (*v == ' ')
				v++;
			(void)snprintf(out, size, "%.*s", (int)(e - v), v);
			return true;
		}
		p = e + 2;
	}
	return false;
}


struct chal {
	char realm[128];
	char nonce[AKA_NONCE_SIZE];
	char alg[32];
	char line[1024];
};


/* The 401's challenge, with every parameter checked. */
static void chal_get(const struct got *g, struct chal *c)
{
	struct sip_authhdr ah;
	struct pl pl;

	assert_int_equal(g->scode, 401);
	assert_string_equal(g->reason, "Unauthorized");
	assert_true(hdr_val(g, "WWW-Authenticate", c->line, sizeof(c->line)));
	pl_set_str(&pl, c->line);
	assert_int_equal(sip_authhdr_decode(&ah, &pl), 0);
	assert_true(pl_eq_str(&ah.scheme, "Digest"));
	assert_true(pl_eq_str(&ah.qop, "auth"));
	assert_int_equal(pl_strcpy(&ah.realm, c->realm, sizeof(c->realm)), 0);
	assert_int_equal(pl_strcpy(&ah.nonce, c->nonce, sizeof(c->nonce)), 0);
	assert_int_equal(pl_strcpy(&ah.algorithm, c->alg, sizeof(c->alg)), 0);
	assert_true(strlen(c->nonce) >= 16);
	/* nothing else in the 401 */
	assert_int_equal(strncmp(g->hdrs, "WWW-Authenticate: ", 18), 0);
	assert_non_null(strstr(g->hdrs, "\r\n"));
	assert_string_equal(strstr(g->hdrs, "\r\n"), "\r\n");
}


/* An Authorization value (RFC 7616 3.4) from an HA1. */
static void auth_make(char *out, size_t size, const char *user,
		      const struct chal *c, enum auth_algo alg, const char *ha1,
		      unsigned nc)
{
	struct pl nonce, ncp, cn = PL("0a4f113b"), qop = PL("auth"),
			      met = PL("REGISTER"), uri = PL("sip:" HT_REALM);
	char ncs[9], resp[AUTH_HA1_HEX_MAX];

	(void)snprintf(ncs, sizeof(ncs), "%08x", nc);
	pl_set_str(&nonce, c->nonce);
	pl_set_str(&ncp, ncs);
	assert_int_equal(auth_response(alg, ha1, &nonce, &ncp, &cn, &qop, &met,
				       &uri, resp, sizeof(resp)),
			 0);
	(void)snprintf(out, size,
		       "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		       "uri=\"sip:" HT_REALM "\", response=\"%s\", "
		       "algorithm=%s, qop=auth, nc=%s, cnonce=\"0a4f113b\"",
		       user, c->realm, c->nonce, resp, c->alg, ncs);
}


/* The USIM's answer to an AKA challenge (RFC 3310 3.2). */
static enum aka_ue_verdict aka_answer(char *out, size_t size,
				      const struct chal *c,
				      struct aka_ue_result *r)
{
	uint8_t rnd[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	uint8_t pw[AKA_PASSWORD_MAX];
	char ha1[AKA_HA1_HEX_LEN];
	struct pl nonce, user = PL(HT_ALICE), realm;
	size_t pwl = 0;

	pl_set_str(&nonce, c->nonce);
	pl_set_str(&realm, c->realm);
	assert_int_equal(aka_nonce_decode(&nonce, rnd, autn, NULL, 0, NULL), 0);
	assert_int_equal(aka_ue_check(F.t.mil, &F.ue, rnd, autn, r), 0);
	if (r->verdict != AKA_UE_OK)
		return r->verdict;
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5, r->res,
					     AKA_RES_LEN, r->ck, r->ik, pw,
					     &pwl),
			 0);
	assert_int_equal(aka_digest_ha1(&user, &realm, pw, pwl, ha1), 0);
	auth_make(out, size, HT_ALICE, c, AUTH_ALG_MD5, ha1, 1);
	return AKA_UE_OK;
}


static enum store_reg_state hss_state(const char *impu)
{
	struct store_impu *u = NULL;
	enum store_reg_state s;

	assert_int_equal(store_impu_get(F.t.st, impu, &u), 0);
	s = u->reg_state;
	mem_deref(u);
	return s;
}


static void expect_200(const struct got *g, const char *contacts,
		       const char *pau)
{
	char exp[2048];

	assert_int_equal(g->scode, 200);
	(void)snprintf(exp, sizeof(exp),
		       "%s"
		       "Path: " PATH "\r\n" SROUTE "P-Associated-URI: %s\r\n",
		       contacts, pau);
	assert_string_equal(g->hdrs, exp);
}


#define ALICE_PAU "<sip:alice@ims.test>, <tel:+15145550100>"
#define CT1_600                                                          \
	"Contact: <" CT1 ">;+sip.instance=\"<urn:uuid:0001>\";reg-id=1;" \
	"expires=600\r\n"
#define CT1_REQ "<" CT1 ">;+sip.instance=\"<urn:uuid:0001>\";reg-id=1"

/* Register alice with SIP Digest MD5 (alice-tab: only MD5). */
static void register_md5(const char *contact, const char *expires,
			 struct got *g)
{
	struct rq r = { .impu = HT_AU, .contact = contact, .expires = expires };
	char md5[33], sha[65], auth[1024];
	struct chal c;

	r.auth = "Digest username=\"" HT_TAB "\", realm=\"" HT_REALM "\", "
		 "nonce=\"\", uri=\"sip:" HT_REALM "\", response=\"\", "
		 "algorithm=MD5";
	reg_send(&r, g);
	chal_get(g, &c);
	assert_string_equal(c.alg, "MD5");
	ht_ha1(HT_TAB, "tab-secret", md5, sha);
	auth_make(auth, sizeof(auth), HT_TAB, &c, AUTH_ALG_MD5, md5, 1);
	r.auth = auth;
	reg_send(&r, g);
}

/* ---- tests ---- */

/* SIP Digest MD5: 401 with the HSS's realm and our nonce, then the 200
 * with every header TS 24.229 5.4.1.2.2 asks for; the lookups. */
static void test_digest_md5(void **state)
{
	struct scscf_contact v[4];
	struct scscf_impu_info info;
	struct got g;
	size_t n = 0;

	(void)state;
	register_md5(CT1_REQ, "600", &g);
	expect_200(&g, CT1_600, ALICE_PAU);
	assert_int_equal(hss_state(HT_AU), STORE_REG_REGISTERED);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: registered " CT1
					" 600 as=sip:as.ims.test|");

	/* the implicit set: tel: has the same contact (TS 23.228 5.3.2.1) */
	assert_int_equal(scscf_reg_lookup(F.reg, HT_ATEL, v, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].uri, CT1);
	assert_string_equal(v[0].path, PATH);
	assert_string_equal(v[0].instance, "\"<urn:uuid:0001>\"");
	assert_int_equal(v[0].reg_id, 1);
	assert_int_equal(v[0].expires, 600);
	assert_int_equal(scscf_reg_info(F.reg, "tel:+1-514-555-0100", &info),
			 0);
	assert_int_equal(info.state, SCSCF_REGISTERED);
	assert_string_equal(info.impi, HT_TAB);
	assert_string_equal(info.hss_host, HT_HSS);
	assert_non_null(info.prof);
	assert_non_null(info.ifc);
	assert_string_equal(info.prof->sp[info.sp_idx].ifc[0].as_uri,
			    "sip:as.ims.test");
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AOLD, v, 4, &n), ENOENT);
	assert_int_equal(scscf_reg_sets(F.reg), 1);
	assert_int_equal(scscf_reg_bindings(F.reg), 1);
}


/* SIP Digest SHA-256 (RFC 8760), and a wrong password: 403, the HSS's
 * S-CSCF freed by SAR AUTHENTICATION_FAILURE. */
static void test_digest_sha256(void **state)
{
	struct rq r = { .impu = HT_AU, .contact = "<" CT2 ">" };
	struct store_subscription *sub = NULL;
	char md5[33], sha[65], auth[1024];
	struct chal c;
	struct got g;

	(void)state;
	r.auth = "Digest username=\"" HT_ALICE "\", realm=\"" HT_REALM "\", "
		 "nonce=\"\", uri=\"sip:" HT_REALM "\", response=\"\", "
		 "algorithm=SHA-256";
	reg_send(&r, &g);
	chal_get(&g, &c);
	assert_string_equal(c.alg, "SHA-256");
	assert_string_equal(c.realm, HT_REALM);
	ht_ha1(HT_ALICE, "alice-secret", md5, sha);

	/* the MD5 HA1 with a SHA-256 nonce is a wrong response */
	auth_make(auth, sizeof(auth), HT_ALICE, &c, AUTH_ALG_SHA256, md5, 1);
	r.auth = auth;
	reg_send(&r, &g);
	assert_int_equal(g.scode, 403);
	assert_string_equal(g.hdrs, "");
	pump();
	assert_int_equal(store_sub_get(F.t.st, "acme-alice", &sub), 0);
	assert_null(sub->scscf_assigned);
	sub = mem_deref(sub);
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	/* the nonce was used up: the right answer now gets a challenge */
	auth_make(auth, sizeof(auth), HT_ALICE, &c, AUTH_ALG_SHA256, sha, 2);
	reg_send(&r, &g);
	chal_get(&g, &c);

	auth_make(auth, sizeof(auth), HT_ALICE, &c, AUTH_ALG_SHA256, sha, 1);
	reg_send(&r, &g);
	expect_200(&g, "Contact: <" CT2 ">;expires=600000\r\n", ALICE_PAU);
	assert_int_equal(hss_state(HT_ATEL), STORE_REG_REGISTERED);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: registered " CT2
					" 600000 as=sip:as.ims.test|");
}


/* Digest-AKAv1-MD5 without any Authorization (IMPI derived from the
 * IMPU): the 401 carries RAND||AUTN, CK and IK for the P-CSCF; the UE's
 * RES is the password. */
static void test_aka(void **state)
{
	struct rq r = { .impu = HT_AU, .contact = "<" CT1 ">;expires=300" };
	struct aka_ue_result ue;
	char auth[1024], exp[256], hx[40];
	struct chal c;
	struct got g;
	size_t i;

	(void)state;
	reg_send(&r, &g);
	chal_get(&g, &c);
	assert_string_equal(c.alg, "AKAv1-MD5");
	assert_string_equal(c.realm, HT_REALM);
	assert_int_equal(aka_answer(auth, sizeof(auth), &c, &ue), AKA_UE_OK);
	/* TS 33.203 6.1: the keys of the vector are the UE's */
	for (i = 0; i < AKA_KEY_LEN; i++)
		(void)snprintf(hx + 2 * i, 3, "%02x", ue.ck[i]);
	(void)snprintf(exp, sizeof(exp), "ck=\"%s\"", hx);
	assert_non_null(strstr(c.line, exp));
	for (i = 0; i < AKA_KEY_LEN; i++)
		(void)snprintf(hx + 2 * i, 3, "%02x", ue.ik[i]);
	(void)snprintf(exp, sizeof(exp), "ik=\"%s\"", hx);
	assert_non_null(strstr(c.line, exp));

	r.auth = auth;
	reg_send(&r, &g);
	expect_200(&g, "Contact: <" CT1 ">;expires=300\r\n", ALICE_PAU);

	/* replaying the same credentials: the vector was used once */
	reg_send(&r, &g);
	chal_get(&g, &c);
}


/* AKA synchronisation failure (RFC 3310 3.4): auts goes to the HSS with
 * the RAND of our challenge; the fresh vector is then accepted. */
static void test_aka_resync(void **state)
{
	struct rq r = { .impu = HT_AU, .contact = "<" CT1 ">" };
	struct aka_ue_result ue;
	char auth[1024], auts[AKA_AUTS_B64_SIZE];
	struct chal c;
	struct got g;
	size_t i;

	(void)state;
	F.keys = false;
	cscf_down();
	cscf_up();
	/* the USIM has seen much higher sequence numbers */
	for (i = 0; i < AKA_IND_NUM; i++)
		F.ue.seq[i] = 5000;
	r.auth = "Digest username=\"" HT_ALICE "\", realm=\"" HT_REALM "\", "
		 "nonce=\"\", uri=\"sip:" HT_REALM "\", response=\"\", "
		 "algorithm=AKAv1-MD5";
	reg_send(&r, &g);
	chal_get(&g, &c);
	/* no P-CSCF keys unless configured */
	assert_null(strstr(c.line, "ck="));
	assert_int_equal(aka_answer(auth, sizeof(auth), &c, &ue),
			 AKA_UE_SYNC_FAILURE);
	assert_int_equal(aka_auts_encode(auts, sizeof(auts), ue.auts), 0);
	(void)snprintf(auth, sizeof(auth),
		       "Digest username=\"" HT_ALICE "\", realm=\"%s\", "
		       "nonce=\"%s\", uri=\"sip:" HT_REALM "\", response=\"\", "
		       "algorithm=AKAv1-MD5, auts=\"%s\"",
		       c.realm, c.nonce, auts);
	r.auth = auth;
	reg_send(&r, &g);
	chal_get(&g, &c);
	assert_int_equal(aka_answer(auth, sizeof(auth), &c, &ue), AKA_UE_OK);
	assert_true(aka_sqn_seq(ue.sqn) > 5000);
	reg_send(&r, &g);
	assert_int_equal(g.scode, 200);
	assert_int_equal(hss_state(HT_AU), STORE_REG_REGISTERED);
}


/* Re-registration: a second contact, a refresh; with a trusted P-CSCF's
 * integrity-protected="yes" no new challenge (SAR RE_REGISTRATION); a
 * CSeq that does not grow is refused. */
static void test_reregister(void **state)
{
	struct rq r = { .impu = HT_AU,
			.contact = "<" CT2 ">;q=0.5;expires=1200",
			.auth = "Digest username=\"" HT_TAB
				"\", realm=\"" HT_REALM "\", nonce=\"x\", "
				"uri=\"sip:" HT_REALM "\", response=\"\", "
				"integrity-protected=\"yes\"" };
	struct scscf_contact v[4];
	struct got g;
	size_t n;

	(void)state;
	F.trust = true;
	cscf_down();
	cscf_up();
	register_md5(CT1_REQ, "600", &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';

	reg_send(&r, &g);
	expect_200(&g, CT1_600 "Contact: <" CT2 ">;expires=1200;q=0.500\r\n",
		   ALICE_PAU);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: created " CT2
					" 1200 as=sip:as.ims.test|");
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].uri, CT1); /* q 1.0 first */
	assert_int_equal(v[1].q, 500);

	/* a refresh, shorter */
	F.ev[0] = '\0';
	advance(10000);
	r.contact = "<" CT2 ">;q=0.5;expires=120";
	reg_send(&r, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: shortened " CT2
					" 120 as=sip:as.ims.test|");
	assert_non_null(strstr(g.hdrs, "Contact: <" CT2 ">;expires=120;"));
	assert_non_null(strstr(g.hdrs, ";reg-id=1;expires=590\r\n"));

	/* RFC 3261 10.3 step 7: same Call-ID, CSeq not higher */
	F.cseq -= 2;
	reg_send(&r, &g);
	assert_int_equal(g.scode, 500);
	F.cseq += 2;

	/* untrusted: integrity-protected is not believed */
	F.trust = false;
	cscf_down();
	cscf_up();
	reg_send(&r, &g);
	assert_int_equal(g.scode, 401);
}


/* De-registration by the user (Expires: 0): SAR USER_DEREGISTRATION,
 * no Contact in the 200; a query and a malformed request. */
static void test_deregister(void **state)
{
	struct rq r = { .impu = HT_AU };
	struct scscf_contact v[2];
	char md5[33], sha[65], auth[1024];
	struct chal c;
	struct got g;
	size_t n;

	(void)state;
	register_md5(CT1_REQ, NULL, &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';

	/* Contact: * needs Expires: 0 */
	r.contact = "*";
	reg_send(&r, &g);
	assert_int_equal(g.scode, 400);
	/* too brief */
	r.contact = "<" CT2 ">;expires=10";
	reg_send(&r, &g);
	assert_int_equal(g.scode, 423);
	assert_string_equal(g.hdrs, "Min-Expires: 60\r\n");
	/* Expires: 0 with a fresh challenge */
	r.contact = "*";
	r.expires = "0";
	r.auth = "Digest username=\"" HT_TAB "\", realm=\"" HT_REALM "\", "
		 "nonce=\"\", uri=\"sip:" HT_REALM "\", response=\"\", "
		 "algorithm=MD5";
	reg_send(&r, &g);
	chal_get(&g, &c);
	ht_ha1(HT_TAB, "tab-secret", md5, sha);
	auth_make(auth, sizeof(auth), HT_TAB, &c, AUTH_ALG_MD5, md5, 1);
	r.auth = auth;
	reg_send(&r, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(g.hdrs, "Path: " PATH "\r\n");
	pump();
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_string_equal(F.ev,
			    HT_AU "," HT_ATEL " terminated: unregistered " CT1
				  " 0 as=sip:as.ims.test|");
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), ENOENT);
	assert_int_equal(scscf_reg_sets(F.reg), 0);
}


/* Expiry on the frozen clock: the last binding ends the registration
 * with SAR TIMEOUT_DEREGISTRATION. */
static void test_expiry(void **state)
{
	struct scscf_contact v[2];
	struct got g;
	size_t n;

	(void)state;
	register_md5("<" CT1 ">;expires=120", NULL, &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';
	advance(119000);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), 0);
	assert_int_equal(v[0].expires, 1);
	advance(1000);
	pump();
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), ENOENT);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " terminated: expired " CT1
					" 0 as=sip:as.ims.test|");
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(scscf_reg_sets(F.reg), 0);
}


/* TS 24.229 5.4.2.1.2: one event per change of the set, with every
 * IMPU of the implicit set and every contact the change touched: a
 * REGISTER with two Contacts is one event; a network de-registration
 * ends both contacts in one event (never one contact "terminated" while
 * the other is still reported active); the ASs of the iFCs come along
 * (5.4.2.1.1: they may subscribe). */
static void test_event_whole_set(void **state)
{
	struct got g;

	(void)state;
	F.ev[0] = '\0';
	register_md5("<" CT1 ">;expires=300, <" CT2 ">;expires=300", NULL, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: registered " CT1
					" 300, created " CT2
					" 300 as=sip:as.ims.test|");
	F.ev[0] = '\0';
	register_md5("<" CT1 ">;expires=0, <" CT2 ">;expires=200", NULL, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " active: unregistered " CT1
					" 0, shortened " CT2
					" 200 as=sip:as.ims.test|");
	register_md5("<" CT1 ">;expires=300", NULL, &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';
	assert_int_equal(scscf_reg_deregister(F.reg, HT_AU), 0);
	pump();
	assert_string_equal(F.ev, HT_AU
			    "," HT_ATEL " terminated: deactivated " CT2
			    " 0, deactivated " CT1 " 0 as=sip:as.ims.test|");
}


/* TS 24.229 5.4.1.7: the change handler sees each registration change
 * with the REGISTER and 200 when there is one; scscf_reg_deregister() is
 * a network-initiated de-registration (SAR, "deactivated"). */
static char chg[512];

static void change_h(const struct scscf_reg_change *c, void *arg)
{
	static const char *const names[] = { "initial", "re", "user-dereg",
					     "net-dereg", "timeout" };
	size_t l = strlen(chg);

	(void)arg;
	assert_non_null(c->prof);
	assert_non_null(c->ifc);
	assert_true((c->req != NULL) == (c->rep != NULL));
	(void)snprintf(chg + l, sizeof(chg) - l, "%s %s %u %s %u|",
		       names[c->kind], c->impu, c->expires,
		       c->req ? "req" : "-", c->rep ? c->rep->scode : 0);
}

static void test_changes(void **state)
{
	struct got g;

	(void)state;
	chg[0] = '\0';
	scscf_reg_set_changeh(F.reg, change_h, NULL);
	register_md5("<" CT1 ">;expires=300", NULL, &g);
	assert_int_equal(g.scode, 200);
	register_md5("<" CT1 ">;expires=200", NULL, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(chg, "initial " HT_AU " 300 req 200|"
				 "re " HT_AU " 200 req 200|");
	chg[0] = '\0';
	F.ev[0] = '\0';
	assert_int_equal(scscf_reg_deregister(F.reg, HT_AU), 0);
	assert_int_equal(scscf_reg_deregister(F.reg, HT_AU), ENOENT);
	pump();
	assert_string_equal(chg, "net-dereg " HT_AU " 0 - 0|");
	assert_string_equal(F.ev,
			    HT_AU "," HT_ATEL " terminated: deactivated " CT1
				  " 0 as=sip:as.ims.test|");
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	/* expiry */
	chg[0] = '\0';
	register_md5("<" CT1 ">;expires=120", NULL, &g);
	assert_int_equal(g.scode, 200);
	advance(120000);
	pump();
	assert_string_equal(chg, "initial " HT_AU " 120 req 200|"
				 "timeout " HT_AU " 0 - 0|");
	/* user de-registration */
	chg[0] = '\0';
	register_md5("<" CT1 ">;expires=120", NULL, &g);
	register_md5("<" CT1 ">;expires=0", NULL, &g);
	assert_int_equal(g.scode, 200);
	assert_string_equal(chg, "initial " HT_AU " 120 req 200|"
				 "user-dereg " HT_AU " 0 req 200|");
}


/* Registering through tel: puts it first in P-Associated-URI; the
 * registrar answers for the whole set. */
static void test_implicit_set(void **state)
{
	struct rq r = { .impu = HT_ATEL, .contact = "<" CT1 ">" };
	struct scscf_contact v[2];
	struct aka_ue_result ue;
	char auth[1024];
	struct chal c;
	struct got g;
	size_t n;

	(void)state;
	/* tel: gives no private identity to derive: 403 */
	reg_send(&r, &g);
	assert_int_equal(g.scode, 403);
	r.auth = "Digest username=\"" HT_ALICE "\", realm=\"" HT_REALM "\", "
		 "nonce=\"\", uri=\"sip:" HT_REALM "\", response=\"\"";
	reg_send(&r, &g);
	chal_get(&g, &c);
	assert_int_equal(aka_answer(auth, sizeof(auth), &c, &ue), AKA_UE_OK);
	r.auth = auth;
	reg_send(&r, &g);
	expect_200(&g, "Contact: <" CT1 ">;expires=600000\r\n",
		   "<tel:+15145550100>, <sip:alice@ims.test>");
	assert_int_equal(
		scscf_reg_lookup(F.reg, "sip:alice@IMS.test", v, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hss_state(HT_AU), STORE_REG_REGISTERED);
	assert_int_equal(hss_state(HT_ATEL), STORE_REG_REGISTERED);
}


/* RTR from the HSS: bindings dropped, "rejected" for a permanent
 * termination; the HSS sees the RTA. */
static void test_rtr(void **state)
{
	struct scscf_contact v[2];
	struct got g;
	size_t n;

	(void)state;
	register_md5(CT1_REQ, NULL, &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';
	assert_int_equal(hss_rtr(F.t.hss, HT_TAB,
				 DIA_REASON_PERMANENT_TERMINATION, "gone"),
			 0);
	pump();
	assert_int_equal(hss_pending(F.t.hss), 0);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), ENOENT);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " terminated: rejected " CT1
					" 0 as=sip:as.ims.test|");
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(scscf_reg_sets(F.reg), 0);
}


/* PPR: the stored profile is replaced (tel: barred now), the events say
 * so, and lookups follow. */
static void test_ppr(void **state)
{
	struct scscf_impu_info info;
	struct store_impu *u = NULL;
	struct scscf_contact v[2];
	unsigned np = 0;
	struct got g;
	size_t n;

	(void)state;
	register_md5(CT1_REQ, NULL, &g);
	assert_int_equal(g.scode, 200);
	F.ev[0] = '\0';
	assert_int_equal(store_impu_get(F.t.st, HT_ATEL, &u), 0);
	u->barred = true;
	assert_int_equal(store_impu_update(F.t.st, u), 0);
	u = mem_deref(u);
	assert_int_equal(hss_ppr(F.t.hss, HT_TAB, &np), 0);
	assert_int_equal(np, 1);
	pump();
	assert_int_equal(hss_pending(F.t.hss), 0);
	assert_int_equal(scscf_reg_info(F.reg, HT_ATEL, &info), 0);
	assert_true(info.barred);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_ATEL, v, 2, &n), ENOENT);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), 0);
	assert_string_equal(F.ev, HT_ATEL " terminated: rejected " CT1
					  " 0 as=sip:as.ims.test|");
}


struct pgot {
	unsigned n;
	int err;
	enum scscf_reg_state st;
	char impi[64];
	bool ifc;
};


static void prof_h(int err, const struct scscf_impu_info *info, void *arg)
{
	struct pgot *p = arg;

	p->n++;
	p->err = err;
	if (!info)
		return;
	p->st = info->state;
	(void)snprintf(p->impi, sizeof(p->impi), "%s", info->impi);
	p->ifc = info->ifc != NULL;
}


/* SAR UNREGISTERED_USER for a terminating request to bob; an unknown
 * user is ENOENT. */
static void test_unregistered(void **state)
{
	struct pgot p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	assert_int_equal(p.n, 0);
	pump();
	assert_int_equal(p.n, 1);
	assert_int_equal(p.err, 0);
	assert_int_equal(p.st, SCSCF_UNREGISTERED);
	assert_string_equal(p.impi, HT_BOB);
	assert_true(p.ifc);
	assert_int_equal(hss_state(HT_BU), STORE_REG_UNREGISTERED);

	/* known now: answered from memory, still later */
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	assert_int_equal(p.n, 0);
	pump();
	assert_int_equal(p.n, 1);
	assert_int_equal(p.st, SCSCF_UNREGISTERED);

	memset(&p, 0, sizeof(p));
	assert_int_equal(scscf_reg_unregistered_profile(
				 F.reg, "sip:nobody@ims.test", prof_h, &p),
			 0);
	pump();
	assert_int_equal(p.n, 1);
	assert_int_equal(p.err, ENOENT);
}


/* What the store holds for the set of impi: its User-Data and state. */
struct stored {
	const char *impi;
	char xml[4096];
	int state;
	unsigned n;
};


static int stored_set_h(const struct scscf_store_set *r, void *arg)
{
	struct stored *x = arg;

	if (x->impi && strcmp(r->impi, x->impi) != 0)
		return 0;
	x->n++;
	x->state = r->state;
	(void)snprintf(x->xml, sizeof(x->xml), "%s", r->user_data);
	return 0;
}


static int stored_binding_h(const struct scscf_store_binding *b, void *arg)
{
	(void)b;
	(void)arg;
	return 0;
}


static void stored_get(struct scscf_store *st, const char *impi,
		       struct stored *x)
{
	memset(x, 0, sizeof(*x));
	x->impi = impi;
	assert_int_equal(
		scscf_store_load(st, stored_set_h, stored_binding_h, x), 0);
}


/* Registration state survives a restart (SQLite store): contacts,
 * profile, IMPI, HSS; the restarted registrar re-registers without a
 * new profile and still expires on time. */
static void test_restart(void **state)
{
	struct scscf_impu_info info;
	struct scscf_contact v[2];
	uint64_t sets = 0, bindings = 0;
	struct got g;
	size_t n;

	struct stored x1, x2;
	struct pgot p;

	(void)state;
	/* bob's profile first: alice's binding must find its own set among
	 * several at the load */
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	pump();
	assert_int_equal(p.err, 0);
	register_md5(CT1_REQ, "600", &g);
	assert_int_equal(g.scode, 200);
	stored_get(F.store, HT_TAB, &x1);
	assert_int_equal(x1.n, 1);
	assert_non_null(strstr(x1.xml, "<IMSSubscription"));
	/* a re-registration writes the set without its profile: the stored
	 * one stays (and the restart below decodes it) */
	register_md5(CT1_REQ, "300", &g);
	assert_int_equal(g.scode, 200);
	stored_get(F.store, HT_TAB, &x2);
	assert_int_equal(x2.n, 1);
	assert_string_equal(x2.xml, x1.xml);
	assert_int_equal(scscf_store_count(F.store, &sets, &bindings), 0);
	assert_int_equal(sets, 2);
	assert_int_equal(bindings, 1);

	cscf_down();
	F.store = mem_deref(F.store);
	assert_int_equal(scscf_store_sqlite_open(&F.store, F.sdir), 0);
	cscf_up();
	pump();
	assert_int_equal(scscf_reg_lookup(F.reg, HT_ATEL, v, 2, &n), 0);
	assert_string_equal(v[0].uri, CT1);
	assert_string_equal(v[0].path, PATH);
	assert_string_equal(v[0].instance, "\"<urn:uuid:0001>\"");
	assert_int_equal(scscf_reg_info(F.reg, HT_AU, &info), 0);
	assert_string_equal(info.impi, HT_TAB);
	assert_string_equal(info.hss_host, HT_HSS);
	assert_non_null(info.ifc);
	assert_int_equal(scscf_reg_info(F.reg, HT_BU, &info), 0);
	assert_int_equal(info.state, SCSCF_UNREGISTERED);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_BU, v, 2, &n), ENOENT);

	F.ev[0] = '\0';
	advance(301000);
	assert_int_equal(scscf_reg_lookup(F.reg, HT_AU, v, 2, &n), ENOENT);
	assert_string_equal(F.ev, HT_AU "," HT_ATEL " terminated: expired " CT1
					" 0 as=sip:as.ims.test|");
	assert_int_equal(hss_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(scscf_store_count(F.store, &sets, &bindings), 0);
	assert_int_equal(sets, 1); /* bob's unregistered profile */
	assert_int_equal(bindings, 0);
}


/* Closing with a REGISTER waiting for its MAA and a profile answer
 * waiting for the loop: both get ECANCELED, once; nothing leaks. */
static void test_close_pending(void **state)
{
	static const char text[] =
		"REGISTER sip:" HT_REALM " SIP/2.0\r\n"
		"Via: SIP/2.0/UDP pcscf.ims.test;branch=z9hG4bKclose\r\n"
		"From: <" HT_AU ">;tag=c1\r\n"
		"To: <" HT_AU ">\r\n"
		"Call-ID: close@ue\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <" CT1 ">\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_msg *msg = mem_zalloc(sizeof(*msg), NULL);
	struct sip_msg_err e;
	struct pgot p;
	struct got g;

	(void)state;
	assert_non_null(msg);
	assert_int_equal(sip_msg_decode(msg, text, sizeof(text) - 1, true, &e),
			 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(scscf_reg_handle(F.reg, msg, reply_h, &g), 0);
	mem_deref(msg);
	assert_int_equal(g.n, 0);

	memset(&p, 0, sizeof(p));
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	pump();
	assert_int_equal(p.n, 1);
	memset(&p, 0, sizeof(p));
	/* the second is answered from memory, from a 0-delay timer */
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	assert_int_equal(g.n, 1); /* the 401 came meanwhile */
	memset(&g, 0, sizeof(g));
	msg = mem_zalloc(sizeof(*msg), NULL);
	assert_non_null(msg);
	assert_int_equal(sip_msg_decode(msg, text, sizeof(text) - 1, true, &e),
			 0);
	assert_int_equal(scscf_reg_handle(F.reg, msg, reply_h, &g), 0);

	scscf_reg_close(F.reg);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.err, ECANCELED);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.err, ECANCELED);
	assert_int_equal(scscf_reg_handle(F.reg, msg, reply_h, &g), EINVAL);
	mem_deref(msg);
	pump();
	assert_int_equal(g.n, 1);
	assert_int_equal(p.n, 1);
}


/* A set put without User-Data keeps the stored one, in both stores; a put
 * with one replaces it; a new set put without one loads as "". */
static void store_user_data(struct scscf_store *st)
{
	struct scscf_store_set s = { .id = 7,
				     .impi = "i@x",
				     .impu = "sip:u@x",
				     .hss_host = "hss",
				     .user_data = "<x/>",
				     .state = 1 };
	struct stored x;

	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	s.user_data = NULL;
	s.state = 2;
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	stored_get(st, "i@x", &x);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.xml, "<x/>");
	assert_int_equal(x.state, 2);

	/* twice in one batch, then a rollback: still the committed one */
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	s.user_data = "<y/>";
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	scscf_store_rollback(st);
	stored_get(st, "i@x", &x);
	assert_string_equal(x.xml, "<x/>");

	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	stored_get(st, "i@x", &x);
	assert_string_equal(x.xml, "<y/>");

	s.id = 8;
	s.impi = "j@x";
	s.user_data = NULL;
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	stored_get(st, "j@x", &x);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.xml, "");
	stored_get(st, NULL, &x);
	assert_int_equal(x.n, 2);
}


static void test_store_user_data(void **state)
{
	struct scscf_store *st = NULL;
	char dir[64], path[160];

	(void)state;
	assert_int_equal(scscf_store_mem_alloc(&st), 0);
	store_user_data(st);
	st = mem_deref(st);

	(void)snprintf(dir, sizeof(dir), "/tmp/entims-sreg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(scscf_store_sqlite_open(&st, dir), 0);
	store_user_data(st);
	st = mem_deref(st);
	/* and after reopening the file */
	assert_int_equal(scscf_store_sqlite_open(&st, dir), 0);
	{
		struct stored x;

		stored_get(st, "i@x", &x);
		assert_string_equal(x.xml, "<y/>");
	}
	mem_deref(st);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, SCSCF_STORE_FILE);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/%s-wal", dir, SCSCF_STORE_FILE);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/%s-shm", dir, SCSCF_STORE_FILE);
	(void)unlink(path);
	(void)rmdir(dir);
}


/* Sets of the same service profile share one compiled profile (iFCs,
 * identities dropped); a PPR that moves bob to alice's service profile
 * moves his set to the shared one and writes his new User-Data; the
 * shared profile outlives the set that brought it. */
static void test_profile_shared(void **state)
{
	struct scscf_impu_info ia, ib;
	struct store_impu *u = NULL;
	struct stored x1, x2;
	unsigned np = 0;
	struct pgot p;
	struct got g;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		scscf_reg_unregistered_profile(F.reg, HT_BU, prof_h, &p), 0);
	pump();
	assert_int_equal(p.err, 0);
	register_md5(CT1_REQ, NULL, &g);
	assert_int_equal(g.scode, 200);
	assert_int_equal(scscf_reg_info(F.reg, HT_AU, &ia), 0);
	assert_int_equal(scscf_reg_info(F.reg, HT_BU, &ib), 0);
	assert_non_null(ia.ifc);
	assert_non_null(ib.ifc);
	assert_ptr_not_equal(ia.ifc, ib.ifc); /* sp-alice, sp-bob */
	assert_ptr_equal(ia.prof, ifc_cache_sub(ia.ifc));
	assert_int_equal(ia.prof->sp_n, 1);
	assert_int_equal(ia.prof->sp[0].pub_n, 0);
	assert_null(ia.prof->private_id);
	assert_int_equal(ia.prof->sp[0].ifc_n, 1);
	/* alice's other IMPU is in the same set: the same profile */
	assert_int_equal(scscf_reg_info(F.reg, HT_ATEL, &ib), 0);
	assert_ptr_equal(ib.ifc, ia.ifc);
	stored_get(F.store, HT_BOB, &x1);
	assert_int_equal(x1.n, 1);

	assert_int_equal(store_impu_get(F.t.st, HT_BU, &u), 0);
	assert_int_equal(store_strset(&u->service_profile, "sp-alice"), 0);
	assert_int_equal(store_impu_update(F.t.st, u), 0);
	u = mem_deref(u);
	assert_int_equal(hss_ppr(F.t.hss, HT_BOB, &np), 0);
	assert_int_equal(np, 1);
	pump();
	assert_int_equal(scscf_reg_info(F.reg, HT_BU, &ib), 0);
	assert_ptr_equal(ib.ifc, ia.ifc);
	assert_ptr_equal(ib.prof, ia.prof);
	assert_int_equal(ib.state, SCSCF_UNREGISTERED);
	stored_get(F.store, HT_BOB, &x2);
	assert_string_not_equal(x2.xml, x1.xml);
	assert_non_null(strstr(x2.xml, HT_BU));

	/* alice goes; bob keeps the profile alice's set compiled */
	assert_int_equal(scscf_reg_deregister(F.reg, HT_AU), 0);
	pump();
	assert_int_equal(scscf_reg_info(F.reg, HT_AU, &ia), ENOENT);
	assert_int_equal(scscf_reg_info(F.reg, HT_BU, &ib), 0);
	assert_non_null(ib.ifc);
	assert_ptr_equal(ib.prof, ifc_cache_sub(ib.ifc));
	assert_string_equal(ib.prof->sp[0].ifc[0].as_uri, "sip:as.ims.test");
}


/* The store on its own: batches, rollback, reload. */
static void test_store_mem(void **state)
{
	struct scscf_store *st = NULL;
	struct scscf_store_set s = { .id = 7,
				     .impi = "i@x",
				     .impu = "sip:u@x",
				     .user_data = "<x/>",
				     .state = 1 };
	struct scscf_store_binding b = { .id = 9, .set_id = 7, .uri = "sip:c" };
	uint64_t ns = 0, nb = 0;

	(void)state;
	assert_int_equal(scscf_store_mem_alloc(&st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), EPROTO);
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_binding_put(st, &b), 0);
	scscf_store_rollback(st);
	assert_int_equal(scscf_store_count(st, &ns, &nb), 0);
	assert_int_equal(ns + nb, 0);
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_put(st, &s), 0);
	assert_int_equal(scscf_store_binding_put(st, &b), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	assert_int_equal(scscf_store_count(st, &ns, &nb), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(nb, 1);
	assert_int_equal(scscf_store_begin(st), 0);
	assert_int_equal(scscf_store_set_del(st, 7), 0);
	assert_int_equal(scscf_store_commit(st), 0);
	assert_int_equal(scscf_store_count(st, &ns, &nb), 0);
	assert_int_equal(ns + nb, 0);
	mem_deref(st);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_digest_md5, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_sha256, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_aka, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aka_resync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_whole_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_implicit_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rtr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ppr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregistered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup_sqlite,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_user_data, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_profile_shared, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_mem, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("cscf_scscf_reg", tests, NULL, NULL);
}
