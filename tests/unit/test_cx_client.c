/**
 * @file test_cx_client.c  The Cx and Sh client API (cx_client.h,
 *                         sh_client.h) against the real HSS, in one
 *                         process, on the event loop.
 *
 * The HSS (a provisioned SQLite store, util/hsstest.h) is served by a
 * Diameter node "hss.ims.test" the way `entims run` wires it
 * (cmd/role_hss.c); the S-CSCF "scscf1.ims.test" and the AS
 * "as.ims.test" are client nodes that also serve RTR/PPR and PNR.  Each
 * fixture runs in one of two modes: in-process (every node joined the
 * directory, no socket at all) or loopback TCP (listeners, peers
 * configured both ways).  The registration sequence (UAR, MAR with SIP
 * Digest and Digest-AKA, SAR, LIR, SAR deregistration) writes a
 * transcript of every answer; both modes must produce the same one.
 * Also: Dx through a pure SLF, RTR and PPR from the HSS (answered at
 * once, later, failed and dropped), Sh UDR/PUR/SNR with the PNR a PUR
 * triggers, and the error paths.  Every wait is bounded.
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
#include "diameter/avp.h"
#include "diameter/cx.h"
#include "diameter/cx_client.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"
#include "diameter/peer.h"
#include "diameter/sh_client.h"
#include "diameter/userdata.h"
#include "hss/hss.h"
#include "hss/milenage.h"
#include "net/sa.h"
#include "store/store.h"
#include "util/hsstest.h"

#define V3    DIA_VENDOR_3GPP
#define CSCF  "scscf1.ims.test"
#define ICSCF "icscf.ims.test"
#define AS    "as.ims.test"
#define SLF   "slf.ims.test"

enum mode {
	INPROC,
	TCP,
};

struct fx {
	struct hsstest t;
	enum mode mode;
	struct dia_node *hssn, *cscf, *as;
	struct cx_serve *rtr, *ppr, *pnr;
	/* the S-CSCF's and the AS's servers */
	unsigned served;
	int srv_ret;       /* what they return: 0, EINPROGRESS, EIO */
	uint32_t srv_code; /* the result they set (0: leave 2001) */
	bool hold;         /* keep sr in held */
	struct cx_srv_req *held;
	char seen[1024]; /* what the last served request carried */
};

static struct fx F;


/* ---- loop ---- */

typedef bool(cond_h)(void *arg);

static bool poll_until(cond_h *cond, void *arg, int ms)
{
	uint64_t end = tmr_jiffies() + (uint64_t)ms;

	while (!cond(arg)) {
		if (tmr_jiffies() > end)
			return false;
		assert_int_equal(loop_poll(5), 0);
	}
	return true;
}


static void poll_ms(int ms)
{
	uint64_t end = tmr_jiffies() + (uint64_t)ms;

	while (tmr_jiffies() <= end)
		assert_int_equal(loop_poll(5), 0);
}


static bool peer_open(void *arg)
{
	return dia_peer_is_open(arg);
}


static bool hss_idle(void *arg)
{
	return hss_pending(((struct fx *)arg)->t.hss) == 0;
}


static void addf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void addf(char *buf, size_t size, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	assert_true(l < size);
	va_start(ap, fmt);
	/* clang-analyzer 14 loses ap across the format attribute */
	(void)vsnprintf(buf + l, size - l, fmt, ap); // NOLINT
	va_end(ap);
}


/* ---- the HSS node, as cmd/role_hss.c wires it ---- */

static int hss_serve(const struct dia_msg *req, struct dia_msg **ansp,
		     struct dia_srv_req *sr, void *arg)
{
	struct hss *hss = arg;

	(void)sr;
	return hss_handle(hss, req, ansp);
}


static int hss_send(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
		    void *arg)
{
	struct fx *f = arg;

	return dia_node_request(f->hssn, req, NULL, resph, resp_arg);
}


static void conf_init(struct dia_node_conf *c, const char *id, enum mode m)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->identity, sizeof(c->identity), "%s", id);
	(void)snprintf(c->realm, sizeof(c->realm), "%s", HT_REALM);
	c->reconnect_ms = 200;
	c->setup_ms = 2000;
	c->request_timeout_ms = 3000;
	c->in_process = m == INPROC;
}


static void conf_add(struct conf_list *l, const char *v)
{
	assert_true(l->n < CONF_LIST_MAX);
	(void)snprintf(l->v[l->n++], CONF_STR_MAX, "%s", v);
}


static void conf_peer_at(struct dia_node_conf *c, const char *id,
			 const struct dia_node *n)
{
	const struct sa *la = dia_peers_laddr(dia_node_peers(n), false);
	char v[CONF_STR_MAX];

	assert_non_null(la);
	(void)snprintf(v, sizeof(v), "%s@127.0.0.1:%u", id, sa_port(la));
	conf_add(&c->peers, v);
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


static void hss_handlers(struct dia_node *n, struct hss *hss)
{
	static const struct {
		uint32_t app, code;
	} served[] = {
		{ DIA_APP_CX, DIA_CMD_UA }, { DIA_APP_CX, DIA_CMD_SA },
		{ DIA_APP_CX, DIA_CMD_LI }, { DIA_APP_CX, DIA_CMD_MA },
		{ DIA_APP_SH, DIA_CMD_UD }, { DIA_APP_SH, DIA_CMD_PU },
		{ DIA_APP_SH, DIA_CMD_SN },
	};
	size_t i;

	for (i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		assert_int_equal(dia_node_handle(n, served[i].app,
						 served[i].code, hss_serve,
						 hss),
				 0);
}


/* ---- the S-CSCF's and the AS's servers ---- */

static int served(struct fx *f, struct cx_srv_req *sr)
{
	f->served++;
	if (f->hold) {
		mem_deref(f->held);
		f->held = mem_ref(sr);
	}
	return f->srv_ret;
}


static int rtr_h(const struct cx_rtr *rtr, struct cx_rta *rta,
		 struct cx_srv_req *sr, void *arg)
{
	struct fx *f = arg;
	size_t i;

	f->seen[0] = '\0';
	addf(f->seen, sizeof(f->seen), "RTR %.*s reason=%u info=%.*s",
	     PL_FMT(&rtr->impi), rtr->reason, PL_FMT(&rtr->reason_info));
	for (i = 0; i < rtr->impu_n; i++)
		addf(f->seen, sizeof(f->seen), " %.*s", PL_FMT(&rtr->impu[i]));
	if (f->srv_code)
		rta->res.code = f->srv_code;
	return served(f, sr);
}


static int ppr_h(const struct cx_ppr *ppr, struct cx_ppa *ppa,
		 struct cx_srv_req *sr, void *arg)
{
	struct cx_subscription *sub = NULL;
	struct fx *f = arg;
	char why[128];
	size_t i;

	f->seen[0] = '\0';
	addf(f->seen, sizeof(f->seen), "PPR %.*s", PL_FMT(&ppr->impi));
	/* the pushed profile is a user profile the S-CSCF can read */
	assert_int_equal(cx_userdata_decode(&sub, ppr->user_data.p,
					    ppr->user_data.l, why, sizeof(why)),
			 0);
	assert_string_equal(sub->private_id, HT_ALICE);
	for (i = 0; i < sub->sp[0].pub_n; i++)
		addf(f->seen, sizeof(f->seen), " %s",
		     sub->sp[0].pub[i].identity);
	if (ppr->has_charging)
		addf(f->seen, sizeof(f->seen), " ccf=%.*s",
		     PL_FMT(&ppr->charging.ccf_primary));
	mem_deref(sub);
	if (f->srv_code)
		ppa->res.code = f->srv_code;
	return served(f, sr);
}


static int pnr_h(const struct sh_pnr *pnr, struct sh_pna *pna,
		 struct cx_srv_req *sr, void *arg)
{
	struct fx *f = arg;

	f->seen[0] = '\0';
	addf(f->seen, sizeof(f->seen), "PNR %.*s %.*s", PL_FMT(&pnr->uid.impu),
	     PL_FMT(&pnr->user_data));
	if (f->srv_code) {
		pna->res.code = f->srv_code;
		pna->res.vendor = f->srv_code >= 5100 ? V3 : 0;
	}
	return served(f, sr);
}


/* ---- fixture ---- */

static void fx_setup(enum mode m)
{
	struct dia_node_conf c;

	memset(&F, 0, sizeof(F));
	F.mode = m;
	loop_close();
	tmr_test_set_now(0);
	assert_int_equal(loop_init(0), 0);
	ht_setup(&F.t, HSS_SLF_OFF);
	hss_set_send(F.t.hss, hss_send, &F);

	conf_init(&c, HT_HSS, m);
	if (m == TCP) {
		conf_add(&c.listen, "tcp:127.0.0.1:0");
		conf_add(&c.peers, CSCF);
		conf_add(&c.peers, AS);
		conf_add(&c.peers, ICSCF);
	}
	F.hssn = node_alloc(&c);
	hss_handlers(F.hssn, F.t.hss);
	node_start(F.hssn);

	conf_init(&c, CSCF, m);
	if (m == TCP) {
		conf_peer_at(&c, HT_HSS, F.hssn);
		conf_add(&c.routes, HT_REALM "=" HT_HSS);
	}
	F.cscf = node_alloc(&c);
	/* before the start: the CER advertises Cx for them */
	assert_int_equal(cx_client_serve_rtr(&F.rtr, F.cscf, rtr_h, &F), 0);
	assert_int_equal(cx_client_serve_ppr(&F.ppr, F.cscf, ppr_h, &F), 0);
	node_start(F.cscf);

	conf_init(&c, AS, m);
	if (m == TCP) {
		conf_peer_at(&c, HT_HSS, F.hssn);
		conf_add(&c.routes, HT_REALM "=" HT_HSS);
	}
	F.as = node_alloc(&c);
	assert_int_equal(sh_client_serve_pnr(&F.pnr, F.as, pnr_h, &F), 0);
	node_start(F.as);

	if (m == TCP) {
		assert_true(poll_until(peer_open, dia_node_peer(F.cscf, HT_HSS),
				       3000));
		assert_true(poll_until(peer_open, dia_node_peer(F.as, HT_HSS),
				       3000));
		assert_true(poll_until(peer_open, dia_node_peer(F.hssn, CSCF),
				       3000));
		assert_true(
			poll_until(peer_open, dia_node_peer(F.hssn, AS), 3000));
	}
}


static int setup_inproc(void **state)
{
	int r = mem_mark(state);

	fx_setup(INPROC);
	return r;
}


static int setup_tcp(void **state)
{
	int r = mem_mark(state);

	fx_setup(TCP);
	return r;
}


static int teardown(void **state)
{
	F.held = mem_deref(F.held);
	node_free(F.cscf);
	node_free(F.as);
	node_free(F.hssn);
	/* the handlers' contexts go after their nodes closed */
	F.rtr = mem_deref(F.rtr);
	F.ppr = mem_deref(F.ppr);
	F.pnr = mem_deref(F.pnr);
	ht_teardown(&F.t);
	loop_close();
	return mem_expect_no_leaks(state);
}


static enum store_reg_state reg_state(const char *impu)
{
	struct store_impu *u = NULL;
	enum store_reg_state s;

	assert_int_equal(store_impu_get(F.t.st, impu, &u), 0);
	s = u->reg_state;
	mem_deref(u);
	return s;
}


/* ---- answers ---- */

struct got {
	unsigned n;
	int err;
	struct cx_result res;
	char from[128];
	char text[1024]; /* what the answer said (deterministic parts) */
};


static bool got_done(void *arg)
{
	return ((struct got *)arg)->n > 0;
}


/* The handler ran once, later; err as expected. */
static void got_wait(struct got *g, int err)
{
	assert_true(poll_until(got_done, g, 4000));
	poll_ms(10);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->err, err);
}


static bool got_head(struct got *g, int err, const void *typed,
		     const struct cx_origin *from, const struct cx_result *res)
{
	g->n++;
	g->err = err;
	g->text[0] = '\0';
	if (err || !typed || !from || !res) {
		/* an error comes alone, an answer with all of it */
		assert_int_not_equal(err, 0);
		assert_null(typed);
		assert_null(from);
		return false;
	}
	assert_true(pl_eq_str(&from->realm, HT_REALM));
	assert_int_equal(pl_strcpy(&from->host, g->from, sizeof(g->from)), 0);
	g->res = *res;
	addf(g->text, sizeof(g->text), "%u/%u from=%s", res->code, res->vendor,
	     g->from);
	return true;
}


static void caps_text(struct got *g, const struct cx_caps *caps)
{
	size_t i;

	addf(g->text, sizeof(g->text), " caps");
	for (i = 0; i < caps->mand_n; i++)
		addf(g->text, sizeof(g->text), " m%u", caps->mand[i]);
	for (i = 0; i < caps->opt_n; i++)
		addf(g->text, sizeof(g->text), " o%u", caps->opt[i]);
	for (i = 0; i < caps->name_n; i++)
		addf(g->text, sizeof(g->text), " %.*s", PL_FMT(&caps->name[i]));
}


static void uaa_h(int err, const struct cx_uaa *uaa,
		  const struct cx_origin *from, void *arg)
{
	struct got *g = arg;

	if (!got_head(g, err, uaa, from, uaa ? &uaa->res : NULL))
		return;
	if (pl_isset(&uaa->server_name))
		addf(g->text, sizeof(g->text), " server=%.*s",
		     PL_FMT(&uaa->server_name));
	if (uaa->has_caps)
		caps_text(g, &uaa->caps);
}


static void lia_h(int err, const struct cx_lia *lia,
		  const struct cx_origin *from, void *arg)
{
	struct got *g = arg;

	if (!got_head(g, err, lia, from, lia ? &lia->res : NULL))
		return;
	if (pl_isset(&lia->server_name))
		addf(g->text, sizeof(g->text), " server=%.*s",
		     PL_FMT(&lia->server_name));
	if (lia->has_caps)
		caps_text(g, &lia->caps);
}


static void saa_h(int err, const struct cx_saa *saa,
		  const struct cx_origin *from, void *arg)
{
	struct cx_subscription *sub = NULL;
	struct got *g = arg;
	char why[128];
	size_t i, k;

	if (!got_head(g, err, saa, from, saa ? &saa->res : NULL))
		return;
	addf(g->text, sizeof(g->text), " impi=%.*s", PL_FMT(&saa->impi));
	if (saa->has_charging)
		addf(g->text, sizeof(g->text), " ccf=%.*s",
		     PL_FMT(&saa->charging.ccf_primary));
	if (!pl_isset(&saa->user_data))
		return;
	/* TS 29.228 annex E: the S-CSCF reads the profile it was given */
	if (cx_userdata_decode(&sub, saa->user_data.p, saa->user_data.l, why,
			       sizeof(why)))
		fail_msg("User-Data: %s", why);
	addf(g->text, sizeof(g->text), " profile=%s", sub->private_id);
	for (k = 0; k < sub->sp_n; k++) {
		for (i = 0; i < sub->sp[k].pub_n; i++)
			addf(g->text, sizeof(g->text), " %s%s",
			     sub->sp[k].pub[i].identity,
			     sub->sp[k].pub[i].barred ? "(barred)" : "");
		for (i = 0; i < sub->sp[k].ifc_n; i++)
			addf(g->text, sizeof(g->text), " ifc->%s",
			     sub->sp[k].ifc[i].as_uri);
	}
	mem_deref(sub);
}


struct mgot {
	struct got g;
	struct milenage *mil;
	const char *ha1; /* expected for SIP Digest */
};


static void maa_h(int err, const struct cx_maa *maa,
		  const struct cx_origin *from, void *arg)
{
	struct mgot *m = arg;
	struct got *g = &m->g;
	size_t k;

	if (!got_head(g, err, maa, from, maa ? &maa->res : NULL))
		return;
	addf(g->text, sizeof(g->text), " impi=%.*s impu=%.*s n=%u items=%zu",
	     PL_FMT(&maa->impi), PL_FMT(&maa->impu), maa->n_items, maa->item_n);
	for (k = 0; k < maa->item_n; k++) {
		const struct cx_auth_item *it = &maa->item[k];
		struct milenage_keys keys;
		uint8_t rnd[MILENAGE_RAND_LEN];

		addf(g->text, sizeof(g->text), " [%u %.*s", it->item_number,
		     PL_FMT(&it->scheme));
		if (it->has_digest) {
			addf(g->text, sizeof(g->text), " realm=%.*s ha1=%s",
			     PL_FMT(&it->digest.realm),
			     pl_eq_str(&it->digest.ha1, m->ha1) ? "ok"
								: "WRONG");
		} else {
			/* TS 33.203 6.1: the vector is the UE's: RES, CK
			 * and IK from RAND with alice's K/OPc */
			assert_int_equal(it->authenticate.l, 32);
			memcpy(rnd, it->authenticate.p, sizeof(rnd));
			assert_int_equal(milenage_f2345(m->mil, rnd, &keys), 0);
			addf(g->text, sizeof(g->text), " xres=%s ck=%s ik=%s",
			     it->authorization.l == MILENAGE_RES_LEN &&
					     !memcmp(it->authorization.p,
						     keys.res, MILENAGE_RES_LEN)
				     ? "ok"
				     : "WRONG",
			     it->ck.l == 16 && !memcmp(it->ck.p, keys.ck, 16)
				     ? "ok"
				     : "WRONG",
			     it->ik.l == 16 && !memcmp(it->ik.p, keys.ik, 16)
				     ? "ok"
				     : "WRONG");
		}
		addf(g->text, sizeof(g->text), "]");
	}
}


static void uda_h(int err, const struct sh_uda *uda,
		  const struct cx_origin *from, void *arg)
{
	struct got *g = arg;

	if (!got_head(g, err, uda, from, uda ? &uda->res : NULL))
		return;
	addf(g->text, sizeof(g->text), " %.*s", PL_FMT(&uda->user_data));
}


static void pua_h(int err, const struct sh_pua *pua,
		  const struct cx_origin *from, void *arg)
{
	struct got *g = arg;

	(void)got_head(g, err, pua, from, pua ? &pua->res : NULL);
}


static void sna_h(int err, const struct sh_sna *sna,
		  const struct cx_origin *from, void *arg)
{
	struct got *g = arg;

	if (!got_head(g, err, sna, from, sna ? &sna->res : NULL))
		return;
	addf(g->text, sizeof(g->text), " expiry=%s %.*s",
	     sna->has_expiry ? "yes" : "no", PL_FMT(&sna->user_data));
}


/* ---- the registration sequence ---- */

/* What both paths must answer, step by step (TS 29.228 6.1, 6.3). */
static const char *const expected_seq[] = {
	/* UAR: first registration, the capabilities (only scscf1 has the
	 * mandatory one) */
	"UAA 2001/10415 from=hss.ims.test caps m1 o2 sip:scscf1.ims.test:6060",
	/* MAR SIP Digest: the HA1 for the realm */
	"MAA 2001/0 from=hss.ims.test impi=alice@ims.test "
	"impu=sip:alice@ims.test n=1 items=1 [1 SIP Digest realm=ims.test "
	"ha1=ok]",
	/* MAR Digest-AKAv1: two vectors the USIM side agrees with */
	"MAA 2001/0 from=hss.ims.test impi=alice@ims.test "
	"impu=sip:alice@ims.test n=2 items=2 [1 Digest-AKAv1-MD5 xres=ok "
	"ck=ok ik=ok] [2 Digest-AKAv1-MD5 xres=ok ck=ok ik=ok]",
	/* SAR REGISTRATION: the implicit set's profile */
	"SAA 2001/0 from=hss.ims.test impi=alice@ims.test "
	"ccf=aaa://ccf.ims.test "
	"profile=alice@ims.test sip:alice@ims.test tel:+15145550100 "
	"ifc->sip:as.ims.test",
	/* LIR: the S-CSCF assigned */
	"LIA 2001/0 from=hss.ims.test server=sip:scscf1.ims.test:6060",
	/* SAR USER_DEREGISTRATION */
	"SAA 2001/0 from=hss.ims.test impi=alice@ims.test",
};

#define SEQ_N (sizeof(expected_seq) / sizeof(expected_seq[0]))


static void expect_step(char tr[][1100], size_t i, const char *what,
			const struct got *g)
{
	(void)snprintf(tr[i], 1100, "%s %s", what, g->text);
	if (strcmp(tr[i], expected_seq[i]) != 0)
		fail_msg("step %zu:\n  got      %s\n  expected %s", i, tr[i],
			 expected_seq[i]);
}


/* Run the sequence from the S-CSCF's node; every answer arrives on a
 * later loop iteration, never inside the call. */
static void sequence(struct fx *f, char tr[][1100])
{
	struct cx_client_opts o;
	char md5[33], sha[65], hss[128];
	struct mgot m;
	struct cx_uar uar;
	struct cx_mar mar;
	struct cx_sar sar;
	struct cx_lir lir;
	struct got g;

	/* UAR, routed by realm (the I-CSCF's role) */
	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(HT_ALICE);
	uar.impu = cx_pl(HT_AU);
	uar.visited = cx_pl(HT_REALM);
	uar.auth_type = DIA_UAT_REGISTRATION;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(f->cscf, &uar, NULL, uaa_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	expect_step(tr, 0, "UAA", &g);

	/* MAR SIP Digest by realm: the answer names the HSS */
	ht_ha1(HT_ALICE, "alice-secret", md5, sha);
	memset(&m, 0, sizeof(m));
	m.mil = f->t.mil;
	m.ha1 = md5;
	memset(&mar, 0, sizeof(mar));
	mar.impi = cx_pl(HT_ALICE);
	mar.impu = cx_pl(HT_AU);
	mar.server_name = cx_pl(HT_SCSCF1);
	mar.n_items = 1;
	mar.item.scheme = cx_pl("SIP Digest");
	assert_int_equal(cx_client_mar(f->cscf, &mar, NULL, maa_h, &m), 0);
	assert_int_equal(m.g.n, 0);
	got_wait(&m.g, 0);
	expect_step(tr, 1, "MAA", &m.g);
	(void)snprintf(hss, sizeof(hss), "%s", m.g.from);

	/* from now on to the HSS learnt (TS 29.228 6.1.2 / 6.3) */
	memset(&o, 0, sizeof(o));
	o.dest_host = hss;
	memset(&m.g, 0, sizeof(m.g));
	mar.n_items = 2;
	mar.item.scheme = cx_pl("Digest-AKAv1-MD5");
	assert_int_equal(cx_client_mar(f->cscf, &mar, &o, maa_h, &m), 0);
	assert_int_equal(m.g.n, 0);
	got_wait(&m.g, 0);
	expect_step(tr, 2, "MAA", &m.g);

	memset(&sar, 0, sizeof(sar));
	sar.impi = cx_pl(HT_ALICE);
	sar.impu[sar.impu_n++] = cx_pl(HT_AU);
	sar.server_name = cx_pl(HT_SCSCF1);
	sar.sat = DIA_SAT_REGISTRATION;
	sar.udaa = DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF;
	sar.multiple_reg = -1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_sar(f->cscf, &sar, &o, saa_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	expect_step(tr, 3, "SAA", &g);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	assert_int_equal(reg_state(HT_ATEL), STORE_REG_REGISTERED);

	memset(&lir, 0, sizeof(lir));
	lir.impu = cx_pl(HT_ATEL);
	lir.auth_type = -1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_lir(f->cscf, &lir, NULL, lia_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	expect_step(tr, 4, "LIA", &g);

	sar.sat = DIA_SAT_USER_DEREGISTRATION;
	sar.udaa = DIA_USER_DATA_ALREADY_AVAILABLE_IN_SCSCF;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_sar(f->cscf, &sar, &o, saa_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	expect_step(tr, 5, "SAA", &g);
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
}


/* (a) in-process: no socket, no connection, answers from the loop */
static void test_inproc_sequence(void **state)
{
	char tr[SEQ_N][1100];
	struct dia_node_stats st;

	(void)state;
	sequence(&F, tr);
	dia_node_stats(F.cscf, &st);
	assert_int_equal(st.req_sent, SEQ_N);
	assert_int_equal(st.req_inproc, SEQ_N);
	assert_int_equal(st.ans_rcvd, SEQ_N);
	dia_node_stats(F.hssn, &st);
	assert_int_equal(st.req_served, SEQ_N);
	/* never retransmitted: no answer kept for duplicate detection */
	assert_int_equal(st.dup_cached, 0);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(F.cscf)), 0);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(F.hssn)), 0);
	assert_null(dia_peers_laddr(dia_node_peers(F.hssn), false));
	assert_null(dia_peers_laddr(dia_node_peers(F.cscf), false));
}


/* (b) the same over loopback TCP: the same transcript */
static void test_tcp_sequence(void **state)
{
	char tr[SEQ_N][1100];
	struct dia_node_stats st;

	(void)state;
	sequence(&F, tr);
	dia_node_stats(F.cscf, &st);
	assert_int_equal(st.req_sent, SEQ_N);
	assert_int_equal(st.req_inproc, 0);
	assert_int_equal(st.ans_rcvd, SEQ_N);
	dia_node_stats(F.hssn, &st);
	assert_int_equal(st.req_served, SEQ_N);
	assert_int_equal(st.dup_cached, SEQ_N); /* RFC 6733 5.5.4 */
	assert_int_equal(dia_peers_conn_count(dia_node_peers(F.cscf)), 1);
}


/* ---- (c) Dx: a pure SLF redirects to the HSS ---- */

struct slf {
	char dir[64];
	struct store *st;
	struct hss *hss;
	struct dia_node *node;
};


static void slf_start(struct slf *s)
{
	struct dia_node_conf c;
	struct hss_conf hc;
	char url[128];

	memset(s, 0, sizeof(*s));
	(void)snprintf(s->dir, sizeof(s->dir), "/tmp/entims-slf-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	(void)snprintf(url, sizeof(url), "sqlite:%s/slf.db", s->dir);
	assert_int_equal(store_open(&s->st, url), 0);
	/* TS 29.228 6.6: alice's identities live in hss.ims.test */
	assert_int_equal(store_slf_set(s->st, HT_ALICE, HT_HSS, HT_REALM), 0);
	assert_int_equal(store_slf_set(s->st, HT_AU, HT_HSS, HT_REALM), 0);
	hss_conf_default(&hc);
	(void)snprintf(hc.identity, sizeof(hc.identity), "%s", SLF);
	(void)snprintf(hc.realm, sizeof(hc.realm), "%s", HT_REALM);
	hc.slf = HSS_SLF_ONLY;
	assert_int_equal(hss_alloc(&s->hss, s->st, &hc), 0);

	conf_init(&c, SLF, TCP);
	conf_add(&c.listen, "tcp:127.0.0.1:0");
	conf_add(&c.peers, ICSCF);
	s->node = node_alloc(&c);
	hss_handlers(s->node, s->hss);
	node_start(s->node);
}


static void slf_stop(struct slf *s)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[128];
	size_t i;

	node_free(s->node);
	mem_deref(s->hss);
	mem_deref(s->st);
	for (i = 0; i < 4; i++) {
		(void)snprintf(path, sizeof(path), "%s/slf.db%s", s->dir,
			       sfx[i]);
		(void)unlink(path);
	}
	(void)rmdir(s->dir);
}


static void test_dx_redirect(void **state)
{
	struct dia_node_conf c;
	struct dia_node_stats st;
	struct dia_node *icscf;
	struct cx_uar uar;
	struct slf s;
	struct got g;

	(void)state;
	slf_start(&s);
	/* the I-CSCF asks the SLF for the realm; it knows the HSS as a
	 * peer, not as a route (TS 29.228 6.6) */
	conf_init(&c, ICSCF, TCP);
	conf_add(&c.applications, "cx");
	conf_peer_at(&c, SLF, s.node);
	conf_peer_at(&c, HT_HSS, F.hssn);
	conf_add(&c.routes, HT_REALM "=" SLF);
	icscf = node_alloc(&c);
	node_start(icscf);
	assert_true(poll_until(peer_open, dia_node_peer(icscf, SLF), 3000));

	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(HT_ALICE);
	uar.impu = cx_pl(HT_AU);
	uar.visited = cx_pl(HT_REALM);
	uar.auth_type = -1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(icscf, &uar, NULL, uaa_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	/* answered by the HSS after the redirect, not by the SLF */
	assert_string_equal(g.text, "2001/10415 from=hss.ims.test caps m1 o2 "
				    "sip:scscf1.ims.test:6060");
	dia_node_stats(icscf, &st);
	assert_int_equal(st.redirects, 1);
	dia_node_stats(s.node, &st);
	assert_int_equal(st.req_served, 1);
	dia_node_stats(F.hssn, &st);
	assert_int_equal(st.req_served, 1);

	/* bob is not in the SLF table: a pure SLF answers 5001 itself */
	uar.impi = cx_pl(HT_BOB);
	uar.impu = cx_pl(HT_BU);
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(icscf, &uar, NULL, uaa_h, &g), 0);
	got_wait(&g, 0);
	assert_string_equal(g.text, "5001/10415 from=slf.ims.test");
	dia_node_stats(icscf, &st);
	assert_int_equal(st.redirects, 1);

	node_free(icscf);
	slf_stop(&s);
}


/* ---- (d) RTR and PPR from the HSS ---- */

static void register_alice(struct fx *f)
{
	struct cx_client_opts o;
	struct cx_sar sar;
	struct got g;

	memset(&o, 0, sizeof(o));
	o.dest_host = HT_HSS;
	memset(&sar, 0, sizeof(sar));
	sar.impi = cx_pl(HT_ALICE);
	sar.impu[sar.impu_n++] = cx_pl(HT_AU);
	sar.server_name = cx_pl(HT_SCSCF1);
	sar.sat = DIA_SAT_REGISTRATION;
	sar.udaa = DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF;
	sar.multiple_reg = -1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_sar(f->cscf, &sar, &o, saa_h, &g), 0);
	got_wait(&g, 0);
	assert_int_equal(g.res.code, DIA_SUCCESS);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
}


static bool served_once(void *arg)
{
	return ((struct fx *)arg)->served > 0;
}


static void rtr_pass(void)
{
	/* by the IMPI: User-Name alone means all its IMPUs (TS 29.228
	 * 6.1.3); by an IMPU: that one */
	static const char by_impi[] =
		"RTR alice@ims.test reason=0 info=moved away";
	static const char by_impu[] =
		"RTR alice@ims.test reason=2 info=moved away tel:+15145550100";

	/* answered at once with 2001: the HSS deregisters (TS 29.228
	 * 6.1.3) */
	register_alice(&F);
	F.served = 0;
	assert_int_equal(hss_rtr(F.t.hss, HT_ALICE,
				 DIA_REASON_PERMANENT_TERMINATION,
				 "moved away"),
			 0);
	assert_int_equal(F.served, 0);
	assert_true(poll_until(hss_idle, &F, 3000));
	assert_int_equal(F.served, 1);
	assert_string_equal(F.seen, by_impi);
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(reg_state(HT_ATEL), STORE_REG_NOT_REGISTERED);

	/* the S-CSCF fails (5012): the user stays registered */
	register_alice(&F);
	F.served = 0;
	F.srv_ret = EIO;
	assert_int_equal(hss_rtr(F.t.hss, HT_ATEL, DIA_REASON_SERVER_CHANGE,
				 "moved away"),
			 0);
	assert_true(poll_until(hss_idle, &F, 1000));
	assert_int_equal(F.served, 1);
	assert_string_equal(F.seen, by_impu);
	assert_int_equal(reg_state(HT_ATEL), STORE_REG_REGISTERED);

	/* answered later (EINPROGRESS): nothing happens until the RTA */
	F.served = 0;
	F.srv_ret = EINPROGRESS;
	F.hold = true;
	assert_int_equal(hss_rtr(F.t.hss, HT_ALICE,
				 DIA_REASON_PERMANENT_TERMINATION,
				 "moved away"),
			 0);
	assert_true(poll_until(served_once, &F, 3000));
	poll_ms(50);
	assert_int_equal(hss_pending(F.t.hss), 1);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	assert_non_null(F.held);
	{
		struct cx_rta rta;
		struct cx_ppa ppa;

		memset(&rta, 0, sizeof(rta));
		memset(&ppa, 0, sizeof(ppa));
		rta.res.code = DIA_SUCCESS;
		/* not a PPR */
		assert_int_equal(cx_srv_ppa(F.held, &ppa), EINVAL);
		assert_int_equal(cx_srv_rta(F.held, &rta), 0);
		assert_int_equal(cx_srv_rta(F.held, &rta), EALREADY);
	}
	F.held = mem_deref(F.held);
	assert_true(poll_until(hss_idle, &F, 1000));
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
	F.hold = false;
	F.srv_ret = 0;
}


static void ppr_pass(void)
{
	static const char ppr_seen[] =
		"PPR alice@ims.test sip:alice@ims.test tel:+15145550100 "
		"ccf=aaa://ccf.ims.test";
	unsigned n = 0;

	register_alice(&F);
	/* answered later with cx_srv_ppa */
	F.served = 0;
	F.srv_ret = EINPROGRESS;
	F.hold = true;
	assert_int_equal(hss_ppr(F.t.hss, HT_ALICE, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(F.served, 0);
	assert_true(poll_until(served_once, &F, 3000));
	assert_string_equal(F.seen, ppr_seen);
	poll_ms(30);
	assert_int_equal(hss_pending(F.t.hss), 1);
	{
		struct cx_ppa ppa;

		memset(&ppa, 0, sizeof(ppa));
		ppa.res.code = DIA_SUCCESS;
		assert_int_equal(cx_srv_ppa(F.held, &ppa), 0);
	}
	F.held = mem_deref(F.held);
	assert_true(poll_until(hss_idle, &F, 1000));

	/* a request dropped without an answer is still answered (5012):
	 * the HSS is not left waiting for its timeout */
	F.served = 0;
	assert_int_equal(hss_ppr(F.t.hss, HT_ALICE, &n), 0);
	assert_true(poll_until(served_once, &F, 3000));
	poll_ms(30);
	assert_int_equal(hss_pending(F.t.hss), 1);
	F.held = mem_deref(F.held);
	assert_true(poll_until(hss_idle, &F, 1000));

	/* an EINPROGRESS without keeping sr: answered (5012) at once */
	F.hold = false;
	F.served = 0;
	assert_int_equal(hss_ppr(F.t.hss, HT_ALICE, &n), 0);
	assert_true(poll_until(served_once, &F, 3000));
	assert_true(poll_until(hss_idle, &F, 1000));
	F.srv_ret = 0;
}


static void test_rtr_ppr(void **state)
{
	(void)state;
	rtr_pass();
	ppr_pass();
}


/* ---- (e) Sh: UDR, PUR, SNR, and the PNR of a PUR ---- */

static const char *repo(char *buf, size_t size, unsigned seq, const char *text)
{
	(void)snprintf(buf, size,
		       "<?xml version=\"1.0\"?><Sh-Data><RepositoryData>"
		       "<ServiceIndication>vm</ServiceIndication>"
		       "<SequenceNumber>%u</SequenceNumber><ServiceData>"
		       "<greeting>%s</greeting></ServiceData>"
		       "</RepositoryData></Sh-Data>",
		       seq, text);
	return buf;
}


static void pur_send(unsigned seq, const char *text, uint32_t code)
{
	struct sh_pur pur;
	char xml[512];
	struct got g;

	memset(&pur, 0, sizeof(pur));
	pur.uid.impu = cx_pl(HT_AU);
	pur.dref[pur.dref_n++] = DIA_DR_REPOSITORY_DATA;
	pur.user_data = cx_pl(repo(xml, sizeof(xml), seq, text));
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh_client_pur(F.as, &pur, NULL, pua_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	assert_int_equal(g.res.code, code);
	assert_string_equal(g.from, HT_HSS);
}


static void test_sh(void **state)
{
	struct sh_udr udr;
	struct sh_snr snr;
	struct got g;

	(void)state;
	/* UDR IMSUserState (TS 29.328 7.6.4) */
	memset(&udr, 0, sizeof(udr));
	udr.uid.impu = cx_pl(HT_AU);
	udr.dref[udr.dref_n++] = DIA_DR_IMS_USER_STATE;
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh_client_udr(F.as, &udr, NULL, uda_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	assert_int_equal(g.res.code, DIA_SUCCESS);
	assert_non_null(strstr(g.text, "<IMSUserState>1</IMSUserState>"));
	/* an unknown user is an answer, not an error */
	udr.uid.impu = cx_pl("sip:ghost@ims.test");
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh_client_udr(F.as, &udr, NULL, uda_h, &g), 0);
	got_wait(&g, 0);
	assert_int_equal(g.res.code, DIA_ERROR_USER_UNKNOWN);
	assert_int_equal(g.res.vendor, V3);

	/* PUR, then SNR on that data with the data in the answer */
	pur_send(0, "hi", DIA_SUCCESS);
	assert_int_equal(F.served, 0); /* nobody subscribed */
	memset(&snr, 0, sizeof(snr));
	snr.uid.impu = cx_pl(HT_AU);
	snr.dref[snr.dref_n++] = DIA_DR_REPOSITORY_DATA;
	snr.si[snr.si_n++] = cx_pl("vm");
	snr.subs_req_type = DIA_SUBS_SUBSCRIBE;
	snr.send_data = 1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh_client_snr(F.as, &snr, NULL, sna_h, &g), 0);
	assert_int_equal(g.n, 0);
	got_wait(&g, 0);
	assert_int_equal(g.res.code, DIA_SUCCESS);
	assert_non_null(strstr(g.text, "expiry=yes"));
	assert_non_null(strstr(g.text, "<greeting>hi</greeting>"));

	/* the next PUR is pushed to the subscriber (TS 29.328 6.1.4) */
	pur_send(1, "bye", DIA_SUCCESS);
	assert_true(poll_until(served_once, &F, 3000));
	assert_true(poll_until(hss_idle, &F, 1000));
	assert_int_equal(F.served, 1);
	assert_non_null(strstr(F.seen, "PNR sip:alice@ims.test "));
	assert_non_null(strstr(F.seen, "<greeting>bye</greeting>"));
	assert_non_null(strstr(F.seen, "<SequenceNumber>1</SequenceNumber>"));

	/* a PNA 5107 NO_SUBSCRIPTION_TO_DATA ends the subscription */
	F.served = 0;
	F.srv_code = DIA_ERROR_NO_SUBSCRIPTION_TO_DATA;
	pur_send(2, "again", DIA_SUCCESS);
	assert_true(poll_until(served_once, &F, 3000));
	assert_true(poll_until(hss_idle, &F, 1000));
	F.served = 0;
	F.srv_code = 0;
	pur_send(3, "silence", DIA_SUCCESS);
	poll_ms(100);
	assert_int_equal(F.served, 0);
	/* and a stale sequence number is the HSS's answer */
	pur_send(3, "stale", DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC);
}


/* ---- errors ---- */

struct mute {
	struct dia_srv_req *sr;
	bool bad; /* answer a UAA that does not decode */
};


static int mute_uar(const struct dia_msg *req, struct dia_msg **ansp,
		    struct dia_srv_req *sr, void *arg)
{
	struct cx_origin o = { cx_pl("mute.mute.test"), cx_pl("mute.test") };
	struct mute *m = arg;
	struct cx_uaa uaa;
	unsigned i;
	int err;

	if (!m->bad) {
		m->sr = mem_ref(sr);
		return EINPROGRESS;
	}
	/* valid for the dictionary, but more capabilities than a
	 * struct cx_caps holds (CX_CAP_MAX) */
	memset(&uaa, 0, sizeof(uaa));
	uaa.res.code = DIA_FIRST_REGISTRATION;
	uaa.res.vendor = V3;
	uaa.has_caps = true;
	for (i = 0; i < CX_CAP_MAX; i++)
		uaa.caps.mand[uaa.caps.mand_n++] = i;
	err = cx_uaa_encode(ansp, req, &o, &uaa);
	if (!err) {
		struct dia_avp *g = (struct dia_avp *)(uintptr_t)dia_avp_find(
			&(*ansp)->root, DIA_AVP_SERVER_CAPABILITIES, V3);
		assert_non_null(g);
		err = dia_add_u32(g, DIA_AVP_MANDATORY_CAPABILITY, V3, 99);
	}
	return err;
}


struct raw {
	unsigned n;
	int err;
	uint32_t rcode;
};

static void raw_h(int err, const struct dia_msg *ans, void *arg)
{
	struct raw *r = arg;
	uint32_t vendor = 0;

	r->n++;
	r->err = err;
	if (ans && dia_msg_result(ans, &r->rcode, &vendor))
		r->rcode = 0;
}


static bool raw_done(void *arg)
{
	return ((struct raw *)arg)->n > 0;
}


static void test_errors(void **state)
{
	struct cx_client_opts o;
	struct dia_node_conf c;
	struct dia_node *mn;
	struct mute m = { 0 };
	struct cx_uar uar;
	struct got g;

	(void)state;
	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(HT_ALICE);
	uar.impu = cx_pl(HT_AU);
	uar.visited = cx_pl(HT_REALM);
	uar.auth_type = -1;

	/* refused at once, no handler call: bad arguments, no route */
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(NULL, &uar, NULL, uaa_h, &g), EINVAL);
	assert_int_equal(cx_client_uar(F.cscf, NULL, NULL, uaa_h, &g), EINVAL);
	assert_int_equal(cx_client_uar(F.cscf, &uar, NULL, NULL, &g), EINVAL);
	{
		struct cx_sar sar;

		memset(&sar, 0, sizeof(sar)); /* no Server-Name */
		assert_int_equal(cx_client_sar(F.cscf, &sar, NULL, saa_h, &g),
				 EINVAL);
	}
	memset(&o, 0, sizeof(o));
	o.dest_realm = "elsewhere.test";
	assert_int_equal(cx_client_uar(F.cscf, &uar, &o, uaa_h, &g),
			 EHOSTUNREACH);
	poll_ms(20);
	assert_int_equal(g.n, 0);

	/* a server that never answers: ETIMEDOUT; one whose answer does not
	 * decode: EBADMSG */
	conf_init(&c, "mute.mute.test", INPROC);
	(void)snprintf(c.realm, sizeof(c.realm), "mute.test");
	mn = node_alloc(&c);
	assert_int_equal(
		dia_node_handle(mn, DIA_APP_CX, DIA_CMD_UA, mute_uar, &m), 0);
	node_start(mn);
	o.dest_realm = "mute.test";
	o.timeout_ms = 100;
	assert_int_equal(cx_client_uar(F.cscf, &uar, &o, uaa_h, &g), 0);
	got_wait(&g, ETIMEDOUT);
	m.sr = mem_deref(m.sr);
	m.bad = true;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(F.cscf, &uar, &o, uaa_h, &g), 0);
	got_wait(&g, EBADMSG);

	/* a node closing cancels what is pending: ECANCELED */
	m.bad = false;
	o.timeout_ms = 0;
	memset(&g, 0, sizeof(g));
	assert_int_equal(cx_client_uar(F.cscf, &uar, &o, uaa_h, &g), 0);
	poll_ms(20);
	assert_non_null(m.sr);
	node_free(F.cscf);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.err, ECANCELED);
	F.cscf = NULL;
	m.sr = mem_deref(m.sr);
	node_free(mn);
}


/* An RTR the S-CSCF cannot use (more identities than a struct cx_rtr
 * holds) is answered 5004 without the handler. */
static void test_rtr_undecodable(void **state)
{
	struct cx_route rt;
	struct dia_msg *req = NULL;
	struct cx_rtr rtr;
	struct raw r = { 0 };
	char id[64];
	size_t i;

	(void)state;
	memset(&rt, 0, sizeof(rt));
	rt.origin_host = cx_pl(HT_HSS);
	rt.origin_realm = cx_pl(HT_REALM);
	rt.dest_realm = cx_pl(HT_REALM);
	rt.dest_host = cx_pl(CSCF);
	memset(&rtr, 0, sizeof(rtr));
	rtr.impi = cx_pl(HT_ALICE);
	rtr.reason = DIA_REASON_PERMANENT_TERMINATION;
	assert_int_equal(cx_rtr_encode(&req, &rt, &rtr), 0);
	for (i = 0; i <= CX_IMPU_MAX; i++) {
		(void)snprintf(id, sizeof(id), "sip:u%zu@ims.test", i);
		assert_int_equal(dia_add_str(&req->root,
					     DIA_AVP_PUBLIC_IDENTITY, V3, id),
				 0);
	}
	assert_int_equal(dia_node_request(F.hssn, req, NULL, raw_h, &r), 0);
	mem_deref(req);
	assert_true(poll_until(raw_done, &r, 3000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_INVALID_AVP_VALUE);
	assert_int_equal(F.served, 0);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inproc_sequence,
						setup_inproc, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_sequence, setup_tcp,
						teardown),
		cmocka_unit_test_setup_teardown(test_dx_redirect, setup_tcp,
						teardown),
		cmocka_unit_test_setup_teardown(test_rtr_ppr, setup_inproc,
						teardown),
		cmocka_unit_test_setup_teardown(test_rtr_ppr, setup_tcp,
						teardown),
		cmocka_unit_test_setup_teardown(test_sh, setup_inproc,
						teardown),
		cmocka_unit_test_setup_teardown(test_sh, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup_inproc,
						teardown),
		cmocka_unit_test_setup_teardown(test_rtr_undecodable,
						setup_inproc, teardown),
		cmocka_unit_test_setup_teardown(test_rtr_undecodable, setup_tcp,
						teardown),
	};

	return cmocka_run_group_tests_name("cx_client", tests, NULL, NULL);
}
