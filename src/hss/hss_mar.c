/**
 * @file hss_mar.c  Multimedia-Auth (TS 29.228 6.3, TS 29.229 6.1.7/6.1.8):
 *                  authentication data for the S-CSCF.
 *
 * Schemes (TS 29.229 6.3.8 SIP-Authentication-Scheme):
 *
 * - "SIP Digest" (TS 29.229 6.3.36): one SIP-Auth-Data-Item with
 *   SIP-Digest-Authenticate {Digest-Realm, Digest-Algorithm, Digest-QoP
 *   "auth", Digest-HA1}, the HA1 of the IMPI for the realm (MD5, or
 *   SHA-256 when the S-CSCF asked for it or the IMPI has only that).
 *   Kamailio's ims_auth asks with "Digest-MD5" or "Digest" and reads the
 *   answer by its scheme, so those names get the same "SIP Digest" item.
 * - "Digest-AKAv1-MD5", "Digest-AKAv2-MD5" (TS 33.203, RFC 3310/4169):
 *   up to SIP-Number-Auth-Items vectors (capped by conf.vectors_max),
 *   each SIP-Authenticate = RAND || AUTN, SIP-Authorization = XRES,
 *   Confidentiality-Key, Integrity-Key (TS 29.229 6.3.9-6.3.10).
 * - "Unknown": the IMPI's default scheme (TS 29.228 6.3.1).
 *
 * SQN: vectors are made from the stored SQN_HE and the new one is
 * written with a compare-and-set (store_sqn_cas); if another HSS process
 * used the IMPI meanwhile the vectors are thrown away and made again from
 * the SQN it left (bounded retries).  Resynchronisation (TS 33.102 6.3.5):
 * a MAR whose item carries SIP-Authorization = RAND || AUTS resets SQN_HE
 * from AUTS (aka_resync) before the fresh vectors are made; an AUTS whose
 * MAC-S is wrong changes nothing and fresh vectors are sent anyway.
 *
 * S-CSCF (TS 29.228 6.3.1): the requesting S-CSCF is stored as assigned
 * when the user is not registered; when another one serves the user it is
 * kept as pending until its SAR makes the change.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "hss/aka.h"
#include "hss/hss_int.h"
#include "hss/milenage.h"
#include "store/events.h"

#define LOG_MODULE "hss"

#define SQN_TRIES 8 /* compare-and-set rounds against concurrent HSSs */

/* One vector in its wire form. */
struct mar_vec {
	uint8_t authenticate[AKA_CX_AUTHENTICATE_LEN];
	uint8_t xres[AKA_RES_LEN];
	uint8_t ck[AKA_KEY_LEN];
	uint8_t ik[AKA_KEY_LEN];
};

struct mar_ctx {
	struct hss *hss;
	struct cx_mar mar;
	struct cx_maa maa;
	struct store_impi *i;
	struct store_impu *u;
	struct cx_auth_item *items;
	struct mar_vec *vec;
	size_t vec_n;
	unsigned scheme; /* STORE_AUTH_* bit */
};


/* TS 29.229 6.3.8 scheme names (and those Kamailio's ims_auth sends) to
 * a scheme bit; the SIP Digest family returns both digest bits. */
static unsigned scheme_of(const struct pl *name)
{
	static const char *const digest[] = { "SIP Digest", "Digest-MD5",
					      "Digest", "HTTP_DIGEST_MD5" };
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(digest) / sizeof(digest[0]); i++)
		if (pl_eq_str_ci(name, digest[i]))
			return STORE_AUTH_DIGEST_MD5 | STORE_AUTH_DIGEST_SHA256;
	if (pl_strcpy(name, buf, sizeof(buf)))
		return 0;
	return store_auth_from_name(buf);
}


static unsigned first_bit(unsigned allowed)
{
	/* AKA first: where the IMPI has a K, it is the stronger choice */
	static const unsigned order[] = { STORE_AUTH_AKAV1_MD5,
					  STORE_AUTH_AKAV2_MD5,
					  STORE_AUTH_DIGEST_MD5,
					  STORE_AUTH_DIGEST_SHA256 };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (allowed & order[i])
			return order[i];
	return 0;
}


/*
 * The scheme to answer with: "Unknown" (or none) is the IMPI's default,
 * else the configured default when the IMPI allows it, else the first it
 * allows; a named scheme must be allowed for the IMPI (TS 29.228 6.3.1:
 * DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED).
 */
static unsigned pick_scheme(const struct mar_ctx *c)
{
	const struct store_impi *i = c->i;
	const struct cx_auth_item *it = &c->mar.item;
	unsigned want;

	if (!pl_isset(&it->scheme) || pl_eq_str_ci(&it->scheme, "Unknown")) {
		if (i->default_scheme & i->schemes)
			return i->default_scheme & i->schemes;
		if (c->hss->conf.default_scheme & i->schemes)
			return first_bit(c->hss->conf.default_scheme &
					 i->schemes);
		return first_bit(i->schemes);
	}
	want = scheme_of(&it->scheme) & i->schemes;
	if ((want & STORE_AUTH_DIGEST_MD5) &&
	    (want & STORE_AUTH_DIGEST_SHA256)) {
		/* the S-CSCF may say which algorithm it challenges with */
		if (it->has_digest &&
		    pl_eq_str_ci(&it->digest.algorithm, "SHA-256"))
			return STORE_AUTH_DIGEST_SHA256;
		return STORE_AUTH_DIGEST_MD5;
	}
	return want;
}


/* The S-CSCF bookkeeping of TS 29.228 6.3.1. */
static int mar_scscf(struct mar_ctx *c, const char *server)
{
	struct store_subscription *sub = NULL;
	int err;

	err = store_sub_get(c->hss->st, c->i->subscription, &sub);
	if (err)
		return err;
	if (!sub->scscf_assigned || c->u->reg_state == STORE_REG_NOT_REGISTERED)
		err = store_scscf_set(c->hss->st, sub->name, server);
	else if (strcmp(sub->scscf_assigned, server) != 0)
		err = store_scscf_pending_set(c->hss->st, sub->name, server);
	mem_deref(sub);
	return err;
}


/* SIP Digest: one item with the HA1 of a realm (the home realm's when the
 * IMPI has it, else the first it has). */
static int mar_digest(struct mar_ctx *c, struct cx_result *res)
{
	const struct store_ha1 *h = NULL;
	const char *ha1;
	size_t k;

	for (k = 0; k < c->i->ha1_n; k++) {
		if (!h)
			h = &c->i->ha1[k];
		if (c->i->ha1[k].realm &&
		    !strcasecmp(c->i->ha1[k].realm, c->hss->conf.realm)) {
			h = &c->i->ha1[k];
			break;
		}
	}
	ha1 = !h                                      ? NULL
	      : c->scheme == STORE_AUTH_DIGEST_SHA256 ? h->sha256
						      : h->md5;
	if (!ha1 || !*ha1) {
		LOG_WARN(NULL, "MAR: %s has no %s HA1", c->i->identity,
			 c->scheme == STORE_AUTH_DIGEST_SHA256 ? "SHA-256"
							       : "MD5");
		*res = hss_base(DIA_UNABLE_TO_COMPLY);
		return 0;
	}
	c->items = mem_zalloc(sizeof(*c->items), NULL);
	if (!c->items)
		return ENOMEM;
	c->items[0].item_number = 1;
	c->items[0].scheme = cx_pl("SIP Digest");
	c->items[0].has_digest = true;
	c->items[0].digest.realm = cx_pl(h->realm);
	c->items[0].digest.algorithm = cx_pl(
		c->scheme == STORE_AUTH_DIGEST_SHA256 ? "SHA-256" : "MD5");
	c->items[0].digest.qop = cx_pl("auth");
	c->items[0].digest.ha1 = cx_pl(ha1);
	c->maa.item = c->items;
	c->maa.item_n = 1;
	*res = hss_ok();
	return 0;
}


static int reload_impi(struct mar_ctx *c)
{
	char *id = NULL;
	int err = pl_strdup(&id, &c->mar.impi);

	if (err)
		return err;
	c->i = mem_deref(c->i);
	err = store_impi_get(c->hss->st, id, &c->i);
	mem_deref(id);
	return err;
}


/* TS 33.102 6.3.5: SQN_HE from AUTS, written with compare-and-set. */
static int mar_resync(struct mar_ctx *c, struct cx_result *res)
{
	const struct pl *a = &c->mar.item.authorization;
	uint8_t rnd[AKA_RAND_LEN], auts[AKA_AUTS_LEN];
	uint64_t sqn_he, sqn_ms;
	unsigned t;
	int err;

	if (aka_cx_resync_decode((const uint8_t *)a->p, a->l, rnd, auts)) {
		*res = hss_base(DIA_INVALID_AVP_VALUE);
		return 0;
	}
	for (t = 0; t < SQN_TRIES; t++) {
		err = aka_resync(c->hss->mil, rnd, auts, c->i->sqn, &sqn_he,
				 &sqn_ms);
		if (err == EACCES) {
			LOG_WARN(NULL,
				 "MAR: %s sent an AUTS with a wrong MAC-S; "
				 "SQN kept",
				 c->i->identity);
			return 0;
		}
		if (err)
			return err;
		if (sqn_he == c->i->sqn)
			return 0;
		err = store_sqn_cas(c->hss->st, c->i->identity, c->i->sqn,
				    sqn_he);
		if (!err) {
			LOG_INFO(NULL, "MAR: %s resynchronised (SQN_MS %llu)",
				 c->i->identity, (unsigned long long)sqn_ms);
			c->i->sqn = sqn_he;
			return 0;
		}
		if (err != EAGAIN)
			return err;
		err = reload_impi(c);
		if (err)
			return err;
	}
	return EAGAIN;
}


static int mar_aka(struct mar_ctx *c, struct cx_result *res)
{
	struct aka_vector av[AKA_VECTORS_MAX];
	uint64_t sqn_out = 0;
	size_t n, k;
	unsigned t;
	int err;

	if (!c->i->has_k || !c->i->has_opc) {
		LOG_WARN(NULL, "MAR: %s has no K/OPc for AKA", c->i->identity);
		*res = hss_base(DIA_UNABLE_TO_COMPLY);
		return 0;
	}
	err = milenage_key(c->hss->mil, c->i->k, c->i->opc);
	if (err)
		return err;
	if (pl_isset(&c->mar.item.authorization)) {
		err = mar_resync(c, res);
		if (err || res->code)
			return err;
	}

	n = c->mar.n_items ? c->mar.n_items : 1;
	if (n > c->hss->conf.vectors_max)
		n = c->hss->conf.vectors_max;
	for (t = 0; t < SQN_TRIES; t++) {
		err = aka_vectors_generate(c->hss->mil, c->i->amf, c->i->sqn,
					   av, n, &sqn_out);
		if (!err)
			err = store_sqn_cas(c->hss->st, c->i->identity,
					    c->i->sqn, sqn_out);
		if (err != EAGAIN)
			break;
		/* another HSS process used this SQN: start from its */
		err = reload_impi(c);
		if (err)
			break;
		err = milenage_key(c->hss->mil, c->i->k, c->i->opc);
		if (err)
			break;
		err = EAGAIN;
	}
	if (err)
		goto out;

	c->vec = mem_zalloc(n * sizeof(*c->vec), NULL);
	c->items = mem_zalloc(n * sizeof(*c->items), NULL);
	if (!c->vec || !c->items) {
		err = ENOMEM;
		goto out;
	}
	c->vec_n = n;
	for (k = 0; k < n; k++) {
		struct mar_vec *v = &c->vec[k];
		struct cx_auth_item *it = &c->items[k];

		aka_cx_authenticate_encode(v->authenticate, &av[k]);
		aka_cx_authorization_encode(v->xres, &av[k]);
		memcpy(v->ck, av[k].ck, AKA_KEY_LEN);
		memcpy(v->ik, av[k].ik, AKA_KEY_LEN);
		it->item_number = (uint32_t)k + 1;
		it->scheme = cx_pl(c->scheme == STORE_AUTH_AKAV2_MD5
					   ? "Digest-AKAv2-MD5"
					   : "Digest-AKAv1-MD5");
		pl_set(&it->authenticate, (const char *)v->authenticate,
		       sizeof(v->authenticate));
		pl_set(&it->authorization, (const char *)v->xres,
		       sizeof(v->xres));
		pl_set(&it->ck, (const char *)v->ck, sizeof(v->ck));
		pl_set(&it->ik, (const char *)v->ik, sizeof(v->ik));
	}
	c->maa.item = c->items;
	c->maa.item_n = n;
	*res = hss_ok();
out:
	OPENSSL_cleanse(av, sizeof(av));
	return err;
}


/**
 * Answer a MAR (TS 29.228 6.3.1).
 */
int hss_mar(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp)
{
	struct mar_ctx c;
	char *s = NULL;
	int err;

	memset(&c, 0, sizeof(c));
	c.hss = hss;
	if (cx_mar_decode(req, &c.mar)) {
		c.maa.res = hss_base(DIA_INVALID_AVP_VALUE);
		return cx_maa_encode(ansp, req, &hss->o, &c.maa);
	}
	c.maa.impi = c.mar.impi;
	c.maa.impu = c.mar.impu;
	if (c.mar.feat.present && c.mar.feat.list_id == 1) {
		c.maa.feat = c.mar.feat;
		c.maa.feat.list &= CX_FEAT_SIFC | CX_FEAT_ALIASIND;
	}

	/* steps 1-2: known, and associated */
	err = pl_strdup(&s, &c.mar.impu);
	if (!err)
		err = store_impu_resolve(hss->st, s, &c.u);
	s = mem_deref(s);
	if (!err)
		err = reload_impi(&c);
	if (err == ENOENT) {
		c.maa.res = hss_exp(DIA_ERROR_USER_UNKNOWN);
		err = 0;
		goto out;
	}
	if (err)
		goto failed;
	{
		size_t k;
		bool found = false;

		for (k = 0; k < c.u->impi.n; k++)
			if (!strcmp(c.u->impi.v[k], c.i->identity))
				found = true;
		if (!found) {
			c.maa.res = hss_exp(DIA_ERROR_IDENTITIES_DONT_MATCH);
			goto out;
		}
	}

	/* step 3: the scheme */
	c.scheme = pick_scheme(&c);
	if (!c.scheme) {
		c.maa.res = hss_exp(DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
		goto out;
	}

	/* step 4: the S-CSCF */
	err = pl_strdup(&s, &c.mar.server_name);
	if (!err)
		err = mar_scscf(&c, s);
	s = mem_deref(s);
	if (err)
		goto failed;

	if (c.scheme & (STORE_AUTH_DIGEST_MD5 | STORE_AUTH_DIGEST_SHA256))
		err = mar_digest(&c, &c.maa.res);
	else
		err = mar_aka(&c, &c.maa.res);
failed:
	if (err && err != ENOMEM) {
		c.maa.res = hss_store_failed("MAR", err);
		c.maa.item_n = 0;
		err = 0;
	}
out:
	if (!err)
		err = cx_maa_encode(ansp, req, &hss->o, &c.maa);
	if (c.vec)
		OPENSSL_cleanse(c.vec, c.vec_n * sizeof(*c.vec));
	mem_deref(c.vec);
	mem_deref(c.items);
	mem_deref(c.i);
	mem_deref(c.u);
	return err;
}
