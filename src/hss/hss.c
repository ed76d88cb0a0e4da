/**
 * @file hss.c  The HSS application: dispatch, validation, the SLF (Dx)
 *              and the Cx location management procedures.
 *
 * hss_handle() is a pure request -> answer function over the store.  Its
 * steps, in order:
 *
 * 1. dia_msg_validate(): a request that breaks its command's grammar
 *    (RFC 6733 7.1: missing AVP 5005 with a Failed-AVP example, bad
 *    value 5004, ...) is answered here, so the handlers only ever see
 *    requests that have their mandatory AVPs.  The node may validate too;
 *    doing it twice costs one walk over the AVPs.
 * 2. SLF (TS 29.228 6.6, TS 29.229 6.5 redirect): when the node is an SLF,
 *    a request whose identity the SLF table maps to another HSS gets
 *    DIAMETER_REDIRECT_INDICATION 3006 with Redirect-Host; a pure SLF
 *    answers DIAMETER_ERROR_USER_UNKNOWN for identities it does not map.
 * 3. The procedure: UAR (TS 29.228 6.1.1), SAR (6.1.2), LIR (6.1.4) here,
 *    MAR (6.3) in hss_mar.c, UDR/PUR/SNR (TS 29.328 6.1) in hss_sh.c.
 *
 * Result codes follow TS 29.228 6.x / TS 29.229 6.2: the 3GPP ones go in
 * Experimental-Result with Vendor-Id 10415 and no Result-Code.  Choices
 * where the specification leaves room are said where they are made and
 * collected in docs/internals/hss.md.
 *
 * State.  The registration state lives per IMPU (store_reg_set() moves a
 * whole implicit registration set), the assigned S-CSCF per subscription
 * (TS 29.228 6.1.2: one S-CSCF per user), and the "pending" S-CSCF and
 * the assigned S-CSCF's Diameter identity in store/events.h.  Every store
 * call is its own transaction: a procedure is a few of them in sequence,
 * which is safe because one HSS process serialises the Cx procedures of
 * a user on its loop (concurrent HSS processes on one PostgreSQL could
 * interleave two procedures of the same user; the last writer wins).
 */
#include "hss/hss.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/userdata.h"
#include "hss/aka.h"
#include "hss/hss_int.h"
#include "hss/milenage.h"
#include "store/events.h"

#define LOG_MODULE "hss"

#define V3 DIA_VENDOR_3GPP

/* Features of Cx feature list 1 this HSS supports (TS 29.229 7.2.1). */
#define HSS_CX_FEATURES (CX_FEAT_SIFC | CX_FEAT_ALIASIND)


/* ---- allocation ---- */

void hss_conf_default(struct hss_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->vectors_max = 4;
	conf->redirect_usage = 0; /* DONT_CACHE */
	conf->redirect_cache = 0;
	conf->sh_expiry_max = 86400;
	conf->sh_data_max = 16384;
}


static void hss_destructor(void *arg)
{
	struct hss *hss = arg;

	mem_deref(hss->mil);
	mem_deref(hss->st);
}


/**
 * Create an HSS over a store.
 *
 * @param hssp  the HSS (mem_deref frees it)
 * @param st    the subscriber store (referenced)
 * @param conf  identity, realm and policy (copied)
 * @return 0, EINVAL without identity or realm, ENOMEM, EIO (crypto)
 */
int hss_alloc(struct hss **hssp, struct store *st, const struct hss_conf *conf)
{
	struct hss *hss;
	int err;

	if (!hssp || !st || !conf || !conf->identity[0] || !conf->realm[0] ||
	    conf->scscf_n > HSS_SCSCF_MAX || conf->networks_n > HSS_NET_MAX)
		return EINVAL;
	hss = mem_zalloc(sizeof(*hss), hss_destructor);
	if (!hss)
		return ENOMEM;
	hss->conf = *conf;
	hss->conf.identity[HSS_NAME_MAX - 1] = '\0';
	hss->conf.realm[HSS_NAME_MAX - 1] = '\0';
	if (!hss->conf.vectors_max)
		hss->conf.vectors_max = 1;
	if (hss->conf.vectors_max > AKA_VECTORS_MAX)
		hss->conf.vectors_max = AKA_VECTORS_MAX;
	hss->o.host = cx_pl(hss->conf.identity);
	hss->o.realm = cx_pl(hss->conf.realm);
	hss->st = mem_ref(st);
	err = milenage_alloc(&hss->mil);
	if (err)
		mem_deref(hss);
	else
		*hssp = hss;
	return err;
}


void hss_set_send(struct hss *hss, hss_send_h *sendh, void *arg)
{
	if (!hss)
		return;
	hss->sendh = sendh;
	hss->send_arg = arg;
}


unsigned hss_pending(const struct hss *hss)
{
	return hss ? hss->pending : 0;
}


/* ---- shared helpers ---- */

int hss_pldup(char **dst, const struct pl *pl)
{
	*dst = NULL;
	if (!pl_isset(pl))
		return 0;
	return pl_strdup(dst, pl);
}


struct cx_result hss_store_failed(const char *what, int err)
{
	LOG_ERR(NULL, "%s: store failed: %s", what, log_strerror(err));
	return hss_base(DIA_UNABLE_TO_COMPLY);
}


static bool str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}


static bool impu_has_impi(const struct store_impu *u, const char *impi)
{
	size_t i;

	for (i = 0; i < u->impi.n; i++)
		if (!strcmp(u->impi.v[i], impi))
			return true;
	return false;
}


/* The answer's Supported-Features: the common part of the request's Cx
 * feature list 1 and ours (TS 29.229 7.2), only when the request had
 * one. */
static void features_answer(const struct cx_features *req,
			    struct cx_features *ans)
{
	memset(ans, 0, sizeof(*ans));
	if (!req->present || req->list_id != 1)
		return;
	ans->present = true;
	ans->vendor = DIA_VENDOR_3GPP;
	ans->list_id = 1;
	ans->list = req->list & HSS_CX_FEATURES;
}


/* An answer carrying only a result. */
static int answer_result(struct hss *hss, const struct dia_msg *req,
			 struct cx_result res, struct dia_msg **ansp)
{
	return cx_answer_alloc(ansp, req, &hss->o, &res);
}


/* An answer from a dia_err (validation, or a request that names no user):
 * Result-Code, E bit for 3xxx, Error-Message, Failed-AVP (RFC 6733 7.2),
 * with the head every Cx/Sh answer has. */
static int answer_error(struct hss *hss, const struct dia_msg *req,
			const struct dia_err *derr, struct dia_msg **ansp)
{
	struct dia_msg *ans = NULL;
	struct dia_avp *g;
	int err;

	err = dia_msg_answer_alloc(&ans, req);
	if (err)
		return err;
	err = dia_add_group(&ans->root, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
			    0, &g);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, DIA_VENDOR_3GPP);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0, req->app);
	if (!err)
		err = dia_msg_add_error(ans, derr);
	if (!err)
		err = dia_add_u32(&ans->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				  DIA_NO_STATE_MAINTAINED);
	if (!err)
		err = dia_add_pl(&ans->root, DIA_AVP_ORIGIN_HOST, 0,
				 &hss->o.host);
	if (!err)
		err = dia_add_pl(&ans->root, DIA_AVP_ORIGIN_REALM, 0,
				 &hss->o.realm);
	if (err)
		mem_deref(ans);
	else
		*ansp = ans;
	return err;
}


/* DIAMETER_MISSING_AVP with an example of the AVP (RFC 6733 7.1.5). */
static int answer_missing(struct hss *hss, const struct dia_msg *req,
			  uint32_t code, uint32_t vendor, const char *why,
			  struct dia_msg **ansp)
{
	struct dia_err derr;

	memset(&derr, 0, sizeof(derr));
	derr.rcode = DIA_MISSING_AVP;
	derr.reason = why;
	derr.failed = true;
	derr.avp_code = code;
	derr.avp_vendor = vendor;
	derr.avp_flags =
		(uint8_t)(DIA_AVP_FLAG_M | (vendor ? DIA_AVP_FLAG_V : 0));
	return answer_error(hss, req, &derr, ansp);
}


/* A value the typed reader refused after validation passed (an empty
 * identity ...): DIAMETER_INVALID_AVP_VALUE. */
static int answer_invalid(struct hss *hss, const struct dia_msg *req,
			  const char *why, struct dia_msg **ansp)
{
	struct dia_err derr;

	memset(&derr, 0, sizeof(derr));
	derr.rcode = DIA_INVALID_AVP_VALUE;
	derr.reason = why;
	return answer_error(hss, req, &derr, ansp);
}


/* ---- Server-Capabilities (TS 29.228 6.7, TS 29.229 6.3.4) ---- */

static bool scscf_fits(const struct hss_scscf *s, const uint32_t *mand,
		       size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < s->cap_n; j++)
			if (s->cap[j] == mand[i])
				break;
		if (j == s->cap_n)
			return false;
	}
	return true;
}


/*
 * The capabilities the I-CSCF selects an S-CSCF by: the subscription's
 * mandatory and optional capabilities, and (Rel-7 Server-Name in
 * Server-Capabilities) the S-CSCFs that can serve it: the subscription's
 * preferred one first, then every configured S-CSCF that has all the
 * mandatory capabilities.  The views point into sub and hss->conf.
 */
static void caps_fill(const struct hss *hss,
		      const struct store_subscription *sub,
		      struct cx_caps *caps)
{
	size_t i;

	memset(caps, 0, sizeof(*caps));
	for (i = 0; i < sub->cap_mand_n && i < CX_CAP_MAX; i++)
		caps->mand[caps->mand_n++] = sub->cap_mand[i];
	for (i = 0; i < sub->cap_opt_n && i < CX_CAP_MAX; i++)
		caps->opt[caps->opt_n++] = sub->cap_opt[i];
	if (sub->scscf_preferred && *sub->scscf_preferred)
		caps->name[caps->name_n++] = cx_pl(sub->scscf_preferred);
	for (i = 0; i < hss->conf.scscf_n && caps->name_n < CX_CAP_MAX; i++) {
		const struct hss_scscf *s = &hss->conf.scscf[i];

		if (!s->name[0] || str_eq(s->name, sub->scscf_preferred) ||
		    !scscf_fits(s, sub->cap_mand, sub->cap_mand_n))
			continue;
		caps->name[caps->name_n++] = cx_pl(s->name);
	}
}


/* ---- SLF (Dx, TS 29.228 6.6; Dh for Sh, TS 29.328 6.6) ---- */

enum slf_verdict {
	SLF_LOCAL,
	SLF_ANSWERED,
};

/* The identities a request names, in the order the SLF looks them up:
 * the public identity first (the SLF table holds IMPUs and IMPIs). */
static void slf_keys(const struct dia_msg *req, struct pl *k, size_t *n)
{
	const struct dia_avp *a;

	*n = 0;
	if (req->app == DIA_APP_SH) {
		a = dia_avp_find(&req->root, DIA_AVP_USER_IDENTITY, V3);
		if (a && a->grouped)
			a = dia_avp_find(a, DIA_AVP_PUBLIC_IDENTITY, V3);
		else
			a = NULL;
	} else {
		a = dia_avp_find(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3);
	}
	if (a && !a->grouped && a->val.l)
		k[(*n)++] = a->val;
	a = dia_avp_find(&req->root, DIA_AVP_USER_NAME, 0);
	if (a && a->val.l)
		k[(*n)++] = a->val;
}


static int slf_redirect(struct hss *hss, const struct dia_msg *req,
			const struct store_slf *e, struct dia_msg **ansp)
{
	struct cx_result res = hss_base(DIA_REDIRECT_INDICATION);
	struct dia_msg *ans = NULL;
	char uri[HSS_NAME_MAX + 8];
	int err, n;

	/* RFC 6733 6.13: Redirect-Host is a DiameterURI */
	if (!strncmp(e->hss_name, "aaa://", 6) ||
	    !strncmp(e->hss_name, "aaas://", 7))
		n = snprintf(uri, sizeof(uri), "%s", e->hss_name);
	else
		n = snprintf(uri, sizeof(uri), "aaa://%s", e->hss_name);
	if (n < 0 || (size_t)n >= sizeof(uri))
		return answer_result(hss, req, hss_base(DIA_UNABLE_TO_COMPLY),
				     ansp);
	err = cx_answer_alloc(&ans, req, &hss->o, &res);
	if (err)
		return err;
	err = dia_add_str(&ans->root, DIA_AVP_REDIRECT_HOST, 0, uri);
	if (!err)
		err = dia_add_u32(&ans->root, DIA_AVP_REDIRECT_HOST_USAGE, 0,
				  hss->conf.redirect_usage);
	if (!err && hss->conf.redirect_usage)
		err = dia_add_u32(&ans->root, DIA_AVP_REDIRECT_MAX_CACHE_TIME,
				  0, hss->conf.redirect_cache);
	if (err)
		mem_deref(ans);
	else
		*ansp = ans;
	return err;
}


/*
 * TS 29.228 6.6 / TS 23.228 5.8.1: the SLF tells the I-CSCF or S-CSCF
 * (or the AS, over Dh) which HSS holds the user, as a Diameter redirect
 * (TS 29.229 6.5 names no command of its own: the Cx request itself is
 * redirected).  An identity mapped to this node is served here; one that
 * the table does not map is unknown to a pure SLF (DIAMETER_ERROR_USER_
 * UNKNOWN), and left to the local store of an SLF that is also an HSS
 * (so local users need no SLF row).
 */
static int slf_check(struct hss *hss, const struct dia_msg *req,
		     struct dia_msg **ansp, enum slf_verdict *v)
{
	struct store_slf *e = NULL;
	struct pl k[2];
	char *id = NULL;
	size_t n, i;
	int err = 0;

	*v = SLF_LOCAL;
	slf_keys(req, k, &n);
	for (i = 0; i < n; i++) {
		err = pl_strdup(&id, &k[i]);
		if (err)
			return err;
		err = store_slf_get(hss->st, id, &e);
		id = mem_deref(id);
		if (err == ENOENT)
			continue;
		if (err) {
			*v = SLF_ANSWERED;
			return answer_result(
				hss, req, hss_store_failed("SLF", err), ansp);
		}
		break;
	}
	if (e) {
		if (!str_eq(e->hss_name, hss->conf.identity)) {
			*v = SLF_ANSWERED;
			err = slf_redirect(hss, req, e, ansp);
		}
		mem_deref(e);
		return err;
	}
	if (hss->conf.slf == HSS_SLF_ONLY) {
		*v = SLF_ANSWERED;
		return answer_result(hss, req, hss_exp(DIA_ERROR_USER_UNKNOWN),
				     ansp);
	}
	return 0;
}


/* ---- identities ---- */

/* The request's user: the IMPU (resolved through wildcards) and the
 * IMPI, each optional.  res is set when the answer is an error. */
struct who {
	struct store_impu *u;
	struct store_impi *i;
	char *impu;    /* as requested */
	bool wildcard; /* u is a wildcarded identity covering impu */
};

static void who_reset(struct who *w)
{
	w->u = mem_deref(w->u);
	w->i = mem_deref(w->i);
	w->impu = mem_deref(w->impu);
}


/*
 * TS 29.228 6.1.1.1 / 6.1.2.1 / 6.3.1 step 1 and 2: both identities known
 * (else DIAMETER_ERROR_USER_UNKNOWN), and associated with each other
 * (else DIAMETER_ERROR_IDENTITIES_DONT_MATCH).
 */
static int who_get(struct hss *hss, const struct pl *impu,
		   const struct pl *impi, struct who *w, struct cx_result *res)
{
	char *s = NULL;
	int err;

	memset(w, 0, sizeof(*w));
	res->code = 0;
	if (pl_isset(impu)) {
		err = pl_strdup(&w->impu, impu);
		if (err)
			return err;
		err = store_impu_resolve(hss->st, w->impu, &w->u);
		if (err == ENOENT) {
			*res = hss_exp(DIA_ERROR_USER_UNKNOWN);
			return 0;
		}
		if (err) {
			*res = hss_store_failed("IMPU", err);
			return 0;
		}
		w->wildcard = strcmp(w->u->identity, w->impu) != 0;
	}
	if (pl_isset(impi)) {
		err = pl_strdup(&s, impi);
		if (err)
			return err;
		err = store_impi_get(hss->st, s, &w->i);
		mem_deref(s);
		if (err == ENOENT) {
			*res = hss_exp(DIA_ERROR_USER_UNKNOWN);
			return 0;
		}
		if (err) {
			*res = hss_store_failed("IMPI", err);
			return 0;
		}
	}
	if (w->u && w->i && !impu_has_impi(w->u, w->i->identity))
		*res = hss_exp(DIA_ERROR_IDENTITIES_DONT_MATCH);
	return 0;
}


/* A registration state that has an S-CSCF serving it. */
static bool served(enum store_reg_state s)
{
	return s == STORE_REG_REGISTERED || s == STORE_REG_UNREGISTERED;
}


/* ---- UAR: TS 29.228 6.1.1, TS 29.229 6.1.1/6.1.2 ---- */

/* TS 29.228 6.1.1.1 step 3 and TS 23.228 4.3.3.2: a barred IMPU may only
 * register as part of an implicit set that has a non-barred member. */
static int barred_alone(struct hss *hss, const struct store_impu *u,
			bool *alone)
{
	struct list l = LIST_INIT;
	struct le *le;
	int err;

	*alone = u->barred;
	if (!u->barred || !u->irs)
		return 0;
	err = store_impu_list(hss->st, u->subscription, &l);
	LIST_FOREACH (&l, le) {
		const struct store_impu *m = le->data;

		if (m->irs == u->irs && !m->barred)
			*alone = false;
	}
	list_flush(&l);
	return err;
}


/* TS 29.228 6.1.1.1 step 3: is the user allowed to roam there?  The home
 * realm always is, then the configured list ("*": any). */
static bool network_allowed(const struct hss *hss, const struct pl *vn)
{
	size_t i;

	if (pl_eq_str_ci(vn, hss->conf.realm))
		return true;
	for (i = 0; i < hss->conf.networks_n; i++)
		if (!strcmp(hss->conf.networks[i], "*") ||
		    pl_eq_str_ci(vn, hss->conf.networks[i]))
			return true;
	return false;
}


static int uar(struct hss *hss, const struct dia_msg *req,
	       struct dia_msg **ansp)
{
	struct store_subscription *sub = NULL;
	struct cx_uar uar;
	struct cx_uaa uaa;
	struct who w;
	bool alone;
	int type, err;

	memset(&uaa, 0, sizeof(uaa));
	if (cx_uar_decode(req, &uar))
		return answer_invalid(hss, req, "UAR identities are empty",
				      ansp);
	features_answer(&uar.feat, &uaa.feat);
	err = who_get(hss, &uar.impu, &uar.impi, &w, &uaa.res);
	if (!err && !uaa.res.code && !w.u)
		uaa.res = hss_base(DIA_UNABLE_TO_COMPLY); /* cannot happen */
	if (err || uaa.res.code)
		goto out;
	type = uar.auth_type < 0 ? DIA_UAT_REGISTRATION : uar.auth_type;
	if (type > DIA_UAT_REGISTRATION_AND_CAPABILITIES) {
		uaa.res = hss_base(DIA_INVALID_AVP_VALUE);
		goto out;
	}

	if (type != DIA_UAT_DE_REGISTRATION) {
		/* step 3: barred, not registrable (a PSI), roaming */
		err = barred_alone(hss, w.u, &alone);
		if (err) {
			uaa.res = hss_store_failed("UAR", err);
			err = 0;
			goto out;
		}
		if (alone || !w.u->can_register ||
		    w.u->type != CX_ID_PUBLIC_USER) {
			uaa.res = hss_base(DIA_AUTHORIZATION_REJECTED);
			goto out;
		}
		if (!network_allowed(hss, &uar.visited)) {
			uaa.res = hss_exp(DIA_ERROR_ROAMING_NOT_ALLOWED);
			goto out;
		}
	}

	err = store_sub_get(hss->st, w.u->subscription, &sub);
	if (err) {
		uaa.res = hss_store_failed("UAR", err);
		err = 0;
		goto out;
	}

	/* step 4: the registration state decides */
	switch (type) {
	case DIA_UAT_DE_REGISTRATION:
		if (served(w.u->reg_state) && sub->scscf_assigned) {
			uaa.res = hss_ok();
			uaa.server_name = cx_pl(sub->scscf_assigned);
		} else {
			uaa.res = hss_exp(DIA_ERROR_IDENTITY_NOT_REGISTERED);
		}
		break;
	case DIA_UAT_REGISTRATION_AND_CAPABILITIES:
		/* the I-CSCF wants to select a new S-CSCF */
		uaa.res = served(w.u->reg_state)
				  ? hss_ok()
				  : hss_exp(DIA_FIRST_REGISTRATION);
		uaa.has_caps = true;
		caps_fill(hss, sub, &uaa.caps);
		break;
	default:
		/* registered, unregistered, or not registered with a name
		 * kept (*_STORE_SERVER_NAME, or a MAR of a registration in
		 * progress): that S-CSCF */
		if (sub->scscf_assigned) {
			uaa.res = hss_exp(DIA_SUBSEQUENT_REGISTRATION);
			uaa.server_name = cx_pl(sub->scscf_assigned);
		} else {
			uaa.res = hss_exp(DIA_FIRST_REGISTRATION);
			uaa.has_caps = true;
			caps_fill(hss, sub, &uaa.caps);
		}
		break;
	}
out:
	if (!err)
		err = cx_uaa_encode(ansp, req, &hss->o, &uaa);
	mem_deref(sub);
	who_reset(&w);
	return err;
}


/* ---- LIR: TS 29.228 6.1.4, TS 29.229 6.1.5/6.1.6 ---- */

/*
 * Does the identity have services while not registered (TS 29.228
 * 6.1.4.1)?  A PSI always has (it is never registered); a public user
 * identity when its service profile has an iFC that applies in the
 * unregistered state (ProfilePartIndicator absent or UNREGISTERED, annex
 * B.2.2) or uses shared iFC sets (which may hold such iFCs).
 */
static int unreg_services(struct hss *hss, const struct store_impu *u,
			  bool *has)
{
	struct cx_subscription *cx = NULL;
	size_t i, j, k;
	int err;

	*has = u->type != CX_ID_PUBLIC_USER;
	if (*has || !u->service_profile)
		return 0;
	err = store_cx_build(hss->st, NULL, u->identity, &cx);
	if (err)
		return err;
	for (i = 0; i < cx->sp_n && !*has; i++) {
		const struct cx_service_profile *sp = &cx->sp[i];
		bool mine = false;

		for (j = 0; j < sp->pub_n; j++)
			if (str_eq(sp->pub[j].identity, u->identity))
				mine = true;
		if (!mine)
			continue;
		if (sp->shared_ifc_n)
			*has = true;
		for (k = 0; k < sp->ifc_n; k++)
			if (sp->ifc[k].ppi != CX_PPI_REGISTERED)
				*has = true;
	}
	mem_deref(cx);
	return 0;
}


static int lir(struct hss *hss, const struct dia_msg *req,
	       struct dia_msg **ansp)
{
	struct store_subscription *sub = NULL;
	struct cx_lir lir;
	struct cx_lia lia;
	struct who w;
	bool has;
	int err;

	memset(&lia, 0, sizeof(lia));
	if (cx_lir_decode(req, &lir))
		return answer_invalid(hss, req, "LIR Public-Identity is empty",
				      ansp);
	features_answer(&lir.feat, &lia.feat);
	err = who_get(hss, &lir.impu, NULL, &w, &lia.res);
	if (!err && !lia.res.code && !w.u)
		lia.res = hss_base(DIA_UNABLE_TO_COMPLY); /* cannot happen */
	if (err || lia.res.code)
		goto out;
	/* TS 29.229 6.1.6: the wildcarded identity that matched */
	if (w.wildcard)
		lia.wildcarded = cx_pl(w.u->identity);
	err = store_sub_get(hss->st, w.u->subscription, &sub);
	if (err) {
		lia.res = hss_store_failed("LIR", err);
		err = 0;
		goto out;
	}
	if (lir.auth_type == DIA_UAT_REGISTRATION_AND_CAPABILITIES) {
		/* the I-CSCF re-selects (the assigned S-CSCF failed) */
		lia.res = hss_ok();
		lia.has_caps = true;
		caps_fill(hss, sub, &lia.caps);
		goto out;
	}
	if (served(w.u->reg_state) && sub->scscf_assigned) {
		lia.res = hss_ok();
		lia.server_name = cx_pl(sub->scscf_assigned);
		goto out;
	}
	/* not registered: served only for unregistered services, or for an
	 * originating request on the user's behalf (Originating-Request) */
	err = unreg_services(hss, w.u, &has);
	if (err) {
		lia.res = hss_store_failed("LIR", err);
		err = 0;
		goto out;
	}
	if (!has && !lir.originating) {
		lia.res = hss_exp(DIA_ERROR_IDENTITY_NOT_REGISTERED);
		goto out;
	}
	lia.res = hss_exp(DIA_UNREGISTERED_SERVICE);
	if (sub->scscf_assigned) {
		lia.server_name = cx_pl(sub->scscf_assigned);
	} else {
		lia.has_caps = true;
		caps_fill(hss, sub, &lia.caps);
	}
out:
	if (!err)
		err = cx_lia_encode(ansp, req, &hss->o, &lia);
	mem_deref(sub);
	who_reset(&w);
	return err;
}


/* ---- SAR: TS 29.228 6.1.2, TS 29.229 6.1.3/6.1.4 ---- */

struct sar_ctx {
	struct hss *hss;
	const struct dia_msg *req;
	struct cx_sar sar;
	struct cx_saa saa;
	struct who w;
	struct store_subscription *sub;
	struct list impus; /* struct store_impu: the request's identities */
	char *server;
	struct buf *ud;
	struct list impis; /* Associated-Identities */
	char chg[4][HSS_NAME_MAX + 8];
};


/* The IMPUs a SAR acts on: the Public-Identity AVPs (resolved through
 * wildcards), else every IMPU of the IMPI (TS 29.228 6.1.2: a
 * deregistration may name only the private identity). */
static int sar_impus(struct sar_ctx *c)
{
	struct store_impu *u;
	char *s = NULL;
	size_t i;
	int err = 0;

	if (!c->sar.impu_n) {
		for (i = 0; !err && i < c->w.i->impu.n; i++) {
			err = store_impu_get(c->hss->st, c->w.i->impu.v[i], &u);
			if (!err)
				list_append(&c->impus, &u->le, u);
		}
		return err;
	}
	for (i = 0; !err && i < c->sar.impu_n; i++) {
		err = pl_strdup(&s, &c->sar.impu[i]);
		if (!err)
			err = store_impu_resolve(c->hss->st, s, &u);
		s = mem_deref(s);
		if (!err && c->w.i && !impu_has_impi(u, c->w.i->identity)) {
			mem_deref(u);
			err = EXDEV;
		}
		if (!err)
			list_append(&c->impus, &u->le, u);
	}
	return err;
}


/* The state of the request's implicit sets, and which private identity
 * registered them: the SAR's User-Name on REGISTERED, none otherwise.
 * RTR and PPR name that IMPI (TS 29.228 6.1.3, 6.2.2), which matters
 * when several IMPIs share a public identity. */
static int sar_set_state(struct sar_ctx *c, enum store_reg_state st)
{
	const char *impi = NULL;
	struct le *le;
	int err = 0;

	if (st == STORE_REG_REGISTERED && c->w.i)
		impi = c->w.i->identity;
	LIST_FOREACH (&c->impus, le) {
		const struct store_impu *u = le->data;

		if (!err)
			err = store_reg_set(c->hss->st, u->identity, st);
		if (!err)
			err = store_reg_impi_set(c->hss->st, u->identity, impi);
	}
	return err;
}


/* Is any IMPU of the subscription still served by an S-CSCF? */
static int sub_served(struct sar_ctx *c, bool *any)
{
	struct list l = LIST_INIT;
	struct le *le;
	int err;

	*any = false;
	err = store_impu_list(c->hss->st, c->sub->name, &l);
	LIST_FOREACH (&l, le) {
		const struct store_impu *u = le->data;

		if (served(u->reg_state))
			*any = true;
	}
	list_flush(&l);
	return err;
}


/* Assign the requesting S-CSCF (TS 29.228 6.1.2.1): its Server-Name, and
 * its Diameter identity, where RTR and PPR will go. */
static int sar_assign(struct sar_ctx *c)
{
	struct pl oh = PL_INIT, orl = PL_INIT;
	char *h = NULL, *r = NULL;
	int err;

	err = store_scscf_set(c->hss->st, c->sub->name, c->server);
	if (!err)
		err = store_scscf_pending_set(c->hss->st, c->sub->name, NULL);
	if (err)
		return err;
	if (dia_get_pl(&c->req->root, DIA_AVP_ORIGIN_HOST, 0, &oh))
		oh.l = 0;
	if (dia_get_pl(&c->req->root, DIA_AVP_ORIGIN_REALM, 0, &orl))
		orl.l = 0;
	err = hss_pldup(&h, &oh);
	if (!err)
		err = hss_pldup(&r, &orl);
	if (!err)
		err = store_scscf_peer_set(c->hss->st, c->sub->name, h, r);
	mem_deref(h);
	mem_deref(r);
	return err;
}


static int sar_unassign(struct sar_ctx *c)
{
	int err = store_scscf_set(c->hss->st, c->sub->name, NULL);

	if (!err)
		err = store_scscf_pending_set(c->hss->st, c->sub->name, NULL);
	if (!err)
		err = store_scscf_peer_set(c->hss->st, c->sub->name, NULL,
					   NULL);
	return err;
}


/* A charging function name as a DiameterURI (TS 29.229 6.3.19). */
static struct pl chg_uri(char *buf, size_t size, const char *name)
{
	int n;

	if (!name || !*name)
		return cx_pl(NULL);
	if (!strncmp(name, "aaa://", 6) || !strncmp(name, "aaas://", 7))
		n = snprintf(buf, size, "%s", name);
	else
		n = snprintf(buf, size, "aaa://%s", name);
	if (n < 0 || (size_t)n >= size)
		return cx_pl(NULL);
	return cx_pl(buf);
}


/*
 * The user profile of the implicit set (TS 29.228 6.1.2: User-Data with
 * the IMSSubscription, annex E), Charging-Information and, when the
 * subscription has several private identities, Associated-Identities
 * (TS 29.229 6.3.33).
 */
static int sar_profile(struct sar_ctx *c)
{
	const struct store_impu *u = list_head_data(&c->impus);
	const struct store_subscription *s = c->sub;
	struct cx_subscription *cx = NULL;
	struct le *le;
	int err;

	err = store_cx_build(c->hss->st, c->w.i ? c->w.i->identity : NULL,
			     u->identity, &cx);
	if (!err)
		err = buf_alloc(&c->ud, 4096, DIA_MSG_MAX);
	if (!err)
		err = cx_userdata_encode(c->ud, cx);
	mem_deref(cx);
	if (err)
		return err;
	pl_set(&c->saa.user_data, (const char *)c->ud->b, c->ud->end);

	if (s->ecf_primary || s->ecf_secondary || s->ccf_primary ||
	    s->ccf_secondary) {
		c->saa.has_charging = true;
		c->saa.charging.ecf_primary =
			chg_uri(c->chg[0], sizeof(c->chg[0]), s->ecf_primary);
		c->saa.charging.ecf_secondary =
			chg_uri(c->chg[1], sizeof(c->chg[1]), s->ecf_secondary);
		c->saa.charging.ccf_primary =
			chg_uri(c->chg[2], sizeof(c->chg[2]), s->ccf_primary);
		c->saa.charging.ccf_secondary =
			chg_uri(c->chg[3], sizeof(c->chg[3]), s->ccf_secondary);
	}

	err = store_impi_list(c->hss->st, s->name, &c->impis);
	if (err || list_count(&c->impis) < 2)
		return err;
	LIST_FOREACH (&c->impis, le) {
		const struct store_impi *i = le->data;

		if (c->saa.assoc_n < CX_ASSOC_MAX)
			c->saa.assoc[c->saa.assoc_n++] = cx_pl(i->identity);
	}
	return 0;
}


/* The Server-Assignment-Type decides (TS 29.228 6.1.2.1 step 4). */
static int sar_assignment(struct sar_ctx *c, bool *want_profile)
{
	const struct store_impu *u0 = list_head_data(&c->impus);
	const char *assigned = c->sub->scscf_assigned;
	bool same = str_eq(assigned, c->server), any;
	int err = 0;

	*want_profile = false;
	c->saa.res = hss_ok();
	switch (c->sar.sat) {
	case DIA_SAT_NO_ASSIGNMENT:
		/* only the assigned S-CSCF may download the profile */
		if (!same)
			c->saa.res = hss_base(DIA_UNABLE_TO_COMPLY);
		else
			*want_profile = true;
		break;
	case DIA_SAT_REGISTRATION:
	case DIA_SAT_RE_REGISTRATION:
		/* a new S-CSCF overwrites the old one (the old one learns of
		 * it when its own registration expires); RE_REGISTRATION of
		 * an identity this HSS has as not registered (an HSS restored
		 * from backup) registers it again rather than fail the user */
		err = sar_set_state(c, STORE_REG_REGISTERED);
		if (!err)
			err = sar_assign(c);
		*want_profile = true;
		break;
	case DIA_SAT_UNREGISTERED_USER:
		/* TS 29.229 6.2.2.5: another S-CSCF already serves it */
		if (assigned && !same && u0 && served(u0->reg_state)) {
			c->saa.res =
				hss_exp(DIA_ERROR_IDENTITY_ALREADY_REGISTERED);
			c->saa.server_name = cx_pl(assigned);
			break;
		}
		if (u0 && !served(u0->reg_state))
			err = sar_set_state(c, STORE_REG_UNREGISTERED);
		if (!err)
			err = sar_assign(c);
		*want_profile = true;
		break;
	case DIA_SAT_TIMEOUT_DEREGISTRATION:
	case DIA_SAT_USER_DEREGISTRATION:
	case DIA_SAT_DEREGISTRATION_TOO_MUCH_DATA:
	case DIA_SAT_ADMINISTRATIVE_DEREGISTRATION:
	case DIA_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
	case DIA_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME:
		/* a stale S-CSCF must not deregister the user from the one
		 * that serves it now */
		if (assigned && !same) {
			c->saa.res = hss_exp(DIA_ERROR_IN_ASSIGNMENT_TYPE);
			break;
		}
		err = sar_set_state(c, STORE_REG_NOT_REGISTERED);
		if (!err)
			err = sub_served(c, &any);
		/* *_STORE_SERVER_NAME: the HSS keeps the name (so it answers
		 * DIAMETER_SUCCESS, not SUCCESS_SERVER_NAME_NOT_STORED) */
		if (!err && !any &&
		    c->sar.sat !=
			    DIA_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME &&
		    c->sar.sat != DIA_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME)
			err = sar_unassign(c);
		break;
	case DIA_SAT_AUTHENTICATION_FAILURE:
	case DIA_SAT_AUTHENTICATION_TIMEOUT:
		/* the registration did not happen: forget the S-CSCF the MAR
		 * stored, unless the user is registered (a failed
		 * re-authentication leaves the registration alone) */
		if (assigned && !same) {
			err = store_scscf_pending_set(c->hss->st, c->sub->name,
						      NULL);
			break;
		}
		err = sub_served(c, &any);
		if (!err && !any)
			err = sar_unassign(c);
		else if (!err)
			err = store_scscf_pending_set(c->hss->st, c->sub->name,
						      NULL);
		break;
	default:
		/* values 12.. are not for an S-CSCF (AAA, PGW, restoration) */
		c->saa.res = hss_exp(DIA_ERROR_IN_ASSIGNMENT_TYPE);
		break;
	}
	return err;
}


static int sar(struct hss *hss, const struct dia_msg *req,
	       struct dia_msg **ansp)
{
	struct sar_ctx c;
	struct hss_snap snap;
	bool want_profile = false, have_snap = false;
	int err;

	memset(&c, 0, sizeof(c));
	memset(&snap, 0, sizeof(snap));
	c.hss = hss;
	c.req = req;
	if (cx_sar_decode(req, &c.sar)) {
		if (!dia_avp_find(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3) &&
		    !dia_avp_find(&req->root, DIA_AVP_USER_NAME, 0))
			return answer_missing(hss, req, DIA_AVP_PUBLIC_IDENTITY,
					      V3,
					      "SAR names neither a public "
					      "nor a private identity",
					      ansp);
		return answer_invalid(hss, req, "SAR identities are empty",
				      ansp);
	}
	features_answer(&c.sar.feat, &c.saa.feat);
	err = who_get(hss, c.sar.impu_n ? &c.sar.impu[0] : NULL, &c.sar.impi,
		      &c.w, &c.saa.res);
	if (!err && !c.saa.res.code && !c.w.u && !c.w.i)
		c.saa.res = hss_base(DIA_UNABLE_TO_COMPLY); /* cannot happen */
	if (err || c.saa.res.code)
		goto out;
	/* profile download and (un)registration need a public identity */
	if (!c.sar.impu_n && c.sar.sat <= DIA_SAT_UNREGISTERED_USER) {
		err = answer_missing(hss, req, DIA_AVP_PUBLIC_IDENTITY, V3,
				     "this Server-Assignment-Type needs a "
				     "Public-Identity",
				     ansp);
		goto done;
	}
	err = sar_impus(&c);
	if (err == ENOENT || err == EXDEV) {
		c.saa.res = hss_exp(err == ENOENT
					    ? DIA_ERROR_USER_UNKNOWN
					    : DIA_ERROR_IDENTITIES_DONT_MATCH);
		err = 0;
		goto out;
	}
	if (!err)
		err = hss_pldup(&c.server, &c.sar.server_name);
	if (!err)
		err = store_sub_get(hss->st,
				    c.w.u ? c.w.u->subscription
					  : c.w.i->subscription,
				    &c.sub);
	if (err == ENOMEM)
		goto out;
	if (!err && !list_count(&c.impus))
		err = ENOENT;
	if (err) {
		c.saa.res = hss_store_failed("SAR", err);
		err = 0;
		goto out;
	}
	have_snap = hss_snap_take(hss, c.sub->name, &snap) == 0;

	err = sar_assignment(&c, &want_profile);
	if (!err && want_profile && c.saa.res.code == DIA_SUCCESS &&
	    c.sar.udaa == DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF)
		err = sar_profile(&c);
	if (err == ENOMEM)
		goto out;
	if (err) {
		c.saa.res = hss_store_failed("SAR", err);
		err = 0;
	}
	if (have_snap)
		hss_snap_notify(hss, c.sub->name, &snap);

	/* TS 29.229 6.1.4: the private identity, and the wildcarded
	 * identity that matched */
	if (c.w.i)
		c.saa.impi = cx_pl(c.w.i->identity);
	else if (c.w.u && c.w.u->impi.n)
		c.saa.impi = cx_pl(c.w.u->impi.v[0]);
	if (c.w.wildcard && c.w.u)
		c.saa.wildcarded = cx_pl(c.w.u->identity);
out:
	if (!err)
		err = cx_saa_encode(ansp, req, &hss->o, &c.saa);
done:
	hss_snap_reset(&snap);
	list_flush(&c.impus);
	list_flush(&c.impis);
	mem_deref(c.ud);
	mem_deref(c.server);
	mem_deref(c.sub);
	who_reset(&c.w);
	return err;
}


/* ---- Sh notification of Cx state changes ---- */

int hss_snap_take(struct hss *hss, const char *sub, struct hss_snap *snap)
{
	struct store_subscription *s = NULL;
	int err;

	bool watched = false;

	memset(snap, 0, sizeof(*snap));
	if (!hss->sendh)
		return ENOTCONN; /* nobody to notify */
	/* most users have no AS watching them: no snapshots to compare */
	err = store_sh_watched(hss->st, sub, &watched);
	if (!err && !watched)
		return ENOENT;
	err = store_impu_list(hss->st, sub, &snap->impus);
	if (!err)
		err = store_sub_get(hss->st, sub, &s);
	if (!err)
		err = store_strset(&snap->scscf, s->scscf_assigned);
	mem_deref(s);
	if (err)
		hss_snap_reset(snap);
	return err;
}


void hss_snap_reset(struct hss_snap *snap)
{
	list_flush(&snap->impus);
	snap->scscf = mem_deref(snap->scscf);
}


/* TS 29.328 6.1.4: IMSUserState (11) and S-CSCFName (12) subscribers
 * hear of the changes a Cx procedure made. */
void hss_snap_notify(struct hss *hss, const char *sub,
		     const struct hss_snap *before)
{
	struct hss_snap now;
	struct le *a, *b;
	bool scscf_changed;

	if (hss_snap_take(hss, sub, &now))
		return;
	scscf_changed = !(before->scscf == now.scscf ||
			  str_eq(before->scscf, now.scscf));
	LIST_FOREACH (&now.impus, a) {
		const struct store_impu *n = a->data;
		bool changed = true;

		LIST_FOREACH (&before->impus, b) {
			const struct store_impu *o = b->data;

			if (!strcmp(o->identity, n->identity))
				changed = o->reg_state != n->reg_state;
		}
		if (changed)
			hss_sh_notify(hss, n->identity, DIA_DR_IMS_USER_STATE,
				      NULL);
		if (scscf_changed)
			hss_sh_notify(hss, n->identity, DIA_DR_SCSCF_NAME,
				      NULL);
	}
	hss_snap_reset(&now);
}


/* ---- dispatch ---- */

/**
 * Answer a Cx/Dx or Sh request.
 *
 * @param hss   the HSS
 * @param req   a request of application Cx (16777216) or Sh (16777217)
 * @param ansp  the answer to send
 * @return 0 (with an answer, whatever the result code), EINVAL for a
 *         message that is not a Cx/Sh request, ENOMEM
 */
int hss_handle(struct hss *hss, const struct dia_msg *req,
	       struct dia_msg **ansp)
{
	enum slf_verdict v = SLF_LOCAL;
	struct dia_err derr;
	int err;

	if (!hss || !req || !ansp || !dia_msg_is_request(req) ||
	    (req->app != DIA_APP_CX && req->app != DIA_APP_SH))
		return EINVAL;

	memset(&derr, 0, sizeof(derr));
	if (dia_msg_validate(req, &derr))
		return answer_error(hss, req, &derr, ansp);

	/* the HSS receives no RTR, PPR or PNR: it sends them */
	switch (req->code) {
	case DIA_CMD_UA:
	case DIA_CMD_SA:
	case DIA_CMD_LI:
	case DIA_CMD_MA:
	case DIA_CMD_UD:
	case DIA_CMD_PU:
	case DIA_CMD_SN:
		break;
	default:
		return answer_result(hss, req,
				     hss_base(DIA_COMMAND_UNSUPPORTED), ansp);
	}

	if (hss->conf.slf != HSS_SLF_OFF) {
		err = slf_check(hss, req, ansp, &v);
		if (err || v == SLF_ANSWERED)
			return err;
	}

	switch (req->code) {
	case DIA_CMD_UA:
		return uar(hss, req, ansp);
	case DIA_CMD_SA:
		return sar(hss, req, ansp);
	case DIA_CMD_LI:
		return lir(hss, req, ansp);
	case DIA_CMD_MA:
		return hss_mar(hss, req, ansp);
	case DIA_CMD_UD:
		return hss_udr(hss, req, ansp);
	case DIA_CMD_PU:
		return hss_pur(hss, req, ansp);
	default:
		return hss_snr(hss, req, ansp);
	}
}
