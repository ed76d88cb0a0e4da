/**
 * @file hsstest.c  A provisioned HSS for the HSS unit tests (hsstest.h).
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "util/hsstest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/sh.h"
#include "hss/hss.h"
#include "hss/milenage.h"
#include "store/store.h"

/* TS 35.208 test set 1 */
static const uint8_t k1[16] = {
	0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
	0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc
};
static const uint8_t opc1[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a,
				  0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e,
				  0x37, 0xa0, 0x2b, 0xaf };


static void hexs(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", b[i]);
}


void ht_ha1(const char *user, const char *pw, char md5[33], char sha[65])
{
	uint8_t d[32];
	char in[256];
	unsigned n = 0;

	(void)snprintf(in, sizeof(in), "%s:%s:%s", user, HT_REALM, pw);
	assert_int_equal(EVP_Digest(in, strlen(in), d, &n, EVP_md5(), NULL), 1);
	hexs(md5, d, n);
	assert_int_equal(EVP_Digest(in, strlen(in), d, &n, EVP_sha256(), NULL),
			 1);
	hexs(sha, d, n);
}


/* ---- provisioning ---- */

static void sub_add(struct store *st, const char *name, bool caps)
{
	struct store_subscription *s = store_subscription_alloc();

	assert_non_null(s);
	assert_int_equal(store_strset(&s->name, name), 0);
	if (caps) {
		s->cap_mand[s->cap_mand_n++] = 1;
		s->cap_opt[s->cap_opt_n++] = 2;
		assert_int_equal(store_strset(&s->ccf_primary, "ccf.ims.test"),
				 0);
	}
	assert_int_equal(store_sub_add(st, s), 0);
	mem_deref(s);
}


static void impi_add(struct store *st, const char *sub, const char *id,
		     unsigned schemes, const char *pw, bool aka)
{
	struct store_impi *i = store_impi_alloc();

	assert_non_null(i);
	assert_int_equal(store_strset(&i->subscription, sub), 0);
	assert_int_equal(store_strset(&i->identity, id), 0);
	i->schemes = schemes;
	assert_int_equal(store_strset(&i->ha1[0].realm, HT_REALM), 0);
	ht_ha1(id, pw, i->ha1[0].md5, i->ha1[0].sha256);
	i->ha1_n = 1;
	if (aka) {
		i->has_k = i->has_opc = true;
		memcpy(i->k, k1, 16);
		memcpy(i->opc, opc1, 16);
		i->amf[0] = 0x80;
	}
	assert_int_equal(store_impi_add(st, i), 0);
	mem_deref(i);
}


static void impu_add(struct store *st, const char *sub, const char *id,
		     enum cx_identity_type type, int64_t irs, const char *sp,
		     bool barred)
{
	struct store_impu *u = store_impu_alloc();

	assert_non_null(u);
	assert_int_equal(store_strset(&u->subscription, sub), 0);
	assert_int_equal(store_strset(&u->identity, id), 0);
	assert_int_equal(store_strset(&u->service_profile, sp), 0);
	u->type = type;
	u->irs = irs;
	u->barred = barred;
	u->can_register = type == CX_ID_PUBLIC_USER;
	assert_int_equal(store_impu_add(st, u), 0);
	mem_deref(u);
}


static void ifc_add(struct store *st, const char *name, int ppi)
{
	struct store_ifc *f = store_ifc_alloc();
	struct cx_spt *s;

	assert_non_null(f);
	assert_int_equal(store_strset(&f->name, name), 0);
	assert_int_equal(store_strset(&f->ifc.as_uri, "sip:as.ims.test"), 0);
	f->ifc.priority = 1;
	f->ifc.ppi = ppi;
	s = store_ifc_spt_add(f, true, CX_SPT_METHOD, 0);
	assert_non_null(s);
	assert_int_equal(store_strset(&s->a, "INVITE"), 0);
	assert_int_equal(store_ifc_add(st, f), 0);
	mem_deref(f);
}


static void sp_add(struct store *st, const char *name, const char *ifc)
{
	struct store_sp *sp = store_sp_alloc();

	assert_non_null(sp);
	assert_int_equal(store_strset(&sp->name, name), 0);
	sp->media_profile = -1;
	assert_int_equal(store_strv_add(&sp->ifc, ifc), 0);
	assert_int_equal(store_sp_add(st, sp), 0);
	mem_deref(sp);
}


static void provision(struct store *st)
{
	ifc_add(st, "ifc-reg", CX_PPI_REGISTERED);
	ifc_add(st, "ifc-unreg", CX_PPI_UNREGISTERED);
	sp_add(st, "sp-alice", "ifc-reg");
	sp_add(st, "sp-bob", "ifc-unreg");

	sub_add(st, "acme-alice", true);
	impi_add(st, "acme-alice", HT_ALICE, STORE_AUTH_ALL, "alice-secret",
		 true);
	impi_add(st, "acme-alice", HT_TAB, STORE_AUTH_DIGEST_MD5, "tab-secret",
		 false);
	impu_add(st, "acme-alice", HT_AU, CX_ID_PUBLIC_USER, 1, "sp-alice",
		 false);
	impu_add(st, "acme-alice", HT_ATEL, CX_ID_PUBLIC_USER, 1, "sp-alice",
		 false);
	impu_add(st, "acme-alice", HT_AOLD, CX_ID_PUBLIC_USER, 0, "sp-alice",
		 true);
	assert_int_equal(store_link(st, HT_ALICE, HT_AU), 0);
	assert_int_equal(store_link(st, HT_ALICE, HT_ATEL), 0);
	assert_int_equal(store_link(st, HT_ALICE, HT_AOLD), 0);
	assert_int_equal(store_link(st, HT_TAB, HT_AU), 0);

	sub_add(st, "acme-bob", false);
	impi_add(st, "acme-bob", HT_BOB, STORE_AUTH_DIGEST_MD5, "bob-secret",
		 false);
	impu_add(st, "acme-bob", HT_BU, CX_ID_PUBLIC_USER, 0, "sp-bob", false);
	impu_add(st, "acme-bob", HT_PSI, CX_ID_WILDCARDED_PSI, 0, "sp-bob",
		 false);
	assert_int_equal(store_link(st, HT_BOB, HT_BU), 0);
}


/* ---- the fake node ---- */

static int fake_send(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
		     void *arg)
{
	struct hsstest *t = arg;

	if (t->send_fails || t->sent_n == HT_SENT_MAX)
		return ECONNREFUSED;
	t->sent[t->sent_n] = mem_ref(req);
	t->resph[t->sent_n] = (void *)resph;
	t->resparg[t->sent_n] = resp_arg;
	t->sent_n++;
	return 0;
}


void ht_setup(struct hsstest *t, int slf)
{
	struct hss_conf conf;
	char url[128];

	memset(t, 0, sizeof(*t));
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/entims-hss-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	(void)snprintf(url, sizeof(url), "sqlite:%s/hss.db", t->dir);
	assert_int_equal(store_open(&t->st, url), 0);
	provision(t->st);

	hss_conf_default(&conf);
	(void)snprintf(conf.identity, sizeof(conf.identity), "%s", HT_HSS);
	(void)snprintf(conf.realm, sizeof(conf.realm), "%s", HT_REALM);
	(void)snprintf(conf.scscf[0].name, HSS_NAME_MAX, "%s", HT_SCSCF1);
	conf.scscf[0].cap[0] = 1;
	conf.scscf[0].cap[1] = 2;
	conf.scscf[0].cap_n = 2;
	(void)snprintf(conf.scscf[1].name, HSS_NAME_MAX, "%s", HT_SCSCF2);
	conf.scscf[1].cap[0] = 2;
	conf.scscf[1].cap_n = 1;
	conf.scscf_n = 2;
	(void)snprintf(conf.networks[0], HSS_NAME_MAX, "partner.example");
	conf.networks_n = 1;
	conf.vectors_max = 3;
	conf.slf = (enum hss_slf_mode)slf;
	assert_int_equal(hss_alloc(&t->hss, t->st, &conf), 0);
	hss_set_send(t->hss, fake_send, t);

	assert_int_equal(milenage_alloc(&t->mil), 0);
	assert_int_equal(milenage_key(t->mil, k1, opc1), 0);
}


void ht_teardown(struct hsstest *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[128];
	size_t i;

	for (i = 0; i < t->sent_n; i++)
		if (t->sent[i])
			ht_fail_sent(t, i, ECANCELED);
	assert_int_equal(hss_pending(t->hss), 0);
	t->hss = mem_deref(t->hss);
	t->st = mem_deref(t->st);
	t->mil = mem_deref(t->mil);
	for (i = 0; i < 4; i++) {
		(void)snprintf(path, sizeof(path), "%s/hss.db%s", t->dir,
			       sfx[i]);
		(void)unlink(path);
	}
	(void)rmdir(t->dir);
}


struct cx_route ht_route(const char *origin)
{
	struct cx_route rt;

	memset(&rt, 0, sizeof(rt));
	rt.origin_host = cx_pl(origin);
	rt.origin_realm = cx_pl(HT_REALM);
	rt.dest_realm = cx_pl(HT_REALM);
	return rt;
}


static struct dia_msg *wire(const struct dia_msg *msg, bool check)
{
	struct dia_msg *back = NULL;
	struct dia_err derr;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 1024, DIA_MSG_MAX), 0);
	assert_int_equal(dia_msg_encode(mb, msg), 0);
	assert_int_equal(dia_msg_decode(&back, mb->b, mb->end, &derr), 0);
	memset(&derr, 0, sizeof(derr));
	if (check && dia_msg_validate(back, &derr))
		fail_msg("invalid on the wire: %u %s", derr.rcode,
			 derr.reason ? derr.reason : "");
	/* Session-Id first (RFC 6733 8.8) */
	assert_int_equal(
		((const struct dia_avp *)back->root.avps.head->data)->code,
		DIA_AVP_SESSION_ID);
	mem_deref(mb);
	return back;
}


struct dia_msg *ht_wire(const struct dia_msg *msg)
{
	return wire(msg, true);
}


struct dia_msg *ht_handle(struct hsstest *t, struct dia_msg *req)
{
	struct dia_msg *ans = NULL, *back, *wreq;

	assert_non_null(req);
	/* the request as the HSS receives it (checked unless the test
	 * sends a broken one on purpose) */
	wreq = wire(req, !t->raw);
	assert_int_equal(hss_handle(t->hss, wreq, &ans), 0);
	assert_non_null(ans);
	assert_false(dia_msg_is_request(ans));
	assert_int_equal(ans->hbh, wreq->hbh);
	assert_int_equal(ans->code, wreq->code);
	back = ht_wire(ans);
	mem_deref(ans);
	mem_deref(wreq);
	mem_deref(req);
	return back;
}


void ht_expect(const struct dia_msg *ans, uint32_t code, uint32_t vendor)
{
	struct cx_result r;

	assert_int_equal(cx_result_get(ans, &r), 0);
	if (r.code != code || r.vendor != vendor)
		fail_msg("result %u/%u, expected %u/%u", r.code, r.vendor, code,
			 vendor);
}


static void resolve_sent(struct hsstest *t, size_t n, int err,
			 const struct dia_msg *ans)
{
	hss_resp_h *h = (hss_resp_h *)t->resph[n];
	void *arg = t->resparg[n];

	t->sent[n] = mem_deref(t->sent[n]);
	t->resph[n] = NULL;
	h(err, ans, arg);
}


void ht_answer_sent(struct hsstest *t, size_t n, uint32_t code, uint32_t vendor)
{
	struct cx_origin o = { cx_pl("peer.ims.test"), cx_pl(HT_REALM) };
	struct cx_result res = { code, vendor };
	struct dia_msg *req, *ans = NULL, *back;

	assert_true(n < t->sent_n);
	req = ht_wire(t->sent[n]);
	switch (req->code) {
	case DIA_CMD_RT: {
		struct cx_rta rta;

		memset(&rta, 0, sizeof(rta));
		rta.res = res;
		assert_int_equal(cx_rta_encode(&ans, req, &o, &rta), 0);
		break;
	}
	case DIA_CMD_PP: {
		struct cx_ppa ppa;

		memset(&ppa, 0, sizeof(ppa));
		ppa.res = res;
		assert_int_equal(cx_ppa_encode(&ans, req, &o, &ppa), 0);
		break;
	}
	case DIA_CMD_PN: {
		struct sh_pna pna;

		memset(&pna, 0, sizeof(pna));
		pna.res = res;
		assert_int_equal(sh_pna_encode(&ans, req, &o, &pna), 0);
		break;
	}
	default:
		fail_msg("the HSS sent command %u", req->code);
	}
	back = ht_wire(ans);
	resolve_sent(t, n, 0, back);
	mem_deref(back);
	mem_deref(ans);
	mem_deref(req);
}


void ht_fail_sent(struct hsstest *t, size_t n, int err)
{
	assert_true(n < t->sent_n);
	resolve_sent(t, n, err, NULL);
}


/* ---- requests ---- */

struct dia_msg *ht_uar(struct hsstest *t, const char *impi, const char *impu,
		       int type, const char *visited)
{
	struct cx_route rt = ht_route("icscf.ims.test");
	struct dia_msg *req = NULL;
	struct cx_uar uar;

	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(impi);
	uar.impu = cx_pl(impu);
	uar.visited = cx_pl(visited);
	uar.auth_type = type;
	assert_int_equal(cx_uar_encode(&req, &rt, &uar), 0);
	return ht_handle(t, req);
}


struct dia_msg *ht_sar(struct hsstest *t, const char *impi, const char *impu,
		       const char *scscf, uint32_t sat, uint32_t udaa)
{
	struct cx_route rt =
		ht_route(!strcmp(scscf, HT_SCSCF1) ? "scscf1.ims.test"
						   : "scscf2.ims.test");
	struct dia_msg *req = NULL;
	struct cx_sar sar;

	memset(&sar, 0, sizeof(sar));
	sar.impi = cx_pl(impi);
	if (impu)
		sar.impu[sar.impu_n++] = cx_pl(impu);
	sar.server_name = cx_pl(scscf);
	sar.sat = sat;
	sar.udaa = udaa;
	sar.multiple_reg = -1;
	assert_int_equal(cx_sar_encode(&req, &rt, &sar), 0);
	return ht_handle(t, req);
}


struct dia_msg *ht_lir(struct hsstest *t, const char *impu, bool orig)
{
	struct cx_route rt = ht_route("icscf.ims.test");
	struct dia_msg *req = NULL;
	struct cx_lir lir;

	memset(&lir, 0, sizeof(lir));
	lir.impu = cx_pl(impu);
	lir.originating = orig;
	lir.auth_type = -1;
	assert_int_equal(cx_lir_encode(&req, &rt, &lir), 0);
	return ht_handle(t, req);
}


struct dia_msg *ht_mar(struct hsstest *t, const char *impi, const char *impu,
		       const char *scscf, const char *scheme, uint32_t n,
		       const uint8_t *authorization, size_t alen)
{
	struct cx_route rt =
		ht_route(!strcmp(scscf, HT_SCSCF1) ? "scscf1.ims.test"
						   : "scscf2.ims.test");
	struct dia_msg *req = NULL;
	struct cx_mar mar;

	memset(&mar, 0, sizeof(mar));
	mar.impi = cx_pl(impi);
	mar.impu = cx_pl(impu);
	mar.server_name = cx_pl(scscf);
	mar.n_items = n;
	mar.item.scheme = cx_pl(scheme);
	if (authorization)
		pl_set(&mar.item.authorization, (const char *)authorization,
		       alen);
	assert_int_equal(cx_mar_encode(&req, &rt, &mar), 0);
	return ht_handle(t, req);
}


void ht_register(struct hsstest *t, const char *impi, const char *impu,
		 const char *scscf)
{
	struct dia_msg *a;

	a = ht_mar(t, impi, impu, scscf, "SIP Digest", 1, NULL, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = ht_sar(t, impi, impu, scscf, DIA_SAT_REGISTRATION,
		   DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
}
