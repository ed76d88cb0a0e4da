/**
 * @file cx.c  Typed Cx/Dx messages (TS 29.229 6.1).
 *
 * Builders write the AVPs in the order of the command's ABNF (TS 29.229
 * 6.1.x), Session-Id first; the order is not significant to a receiver
 * (RFC 6733 3: only the fixed-position AVPs are), but it makes traces
 * read like the specification.  Readers take pl views of the message and
 * check only what makes the message usable: a mandatory AVP missing or of
 * the wrong size is EBADMSG, an optional one is left unset.  Limits on
 * repeated AVPs (CX_IMPU_MAX ...) are not silently truncated: more is
 * EBADMSG too, since acting on a part of a request is worse than
 * refusing it.
 *
 * The common head and tail (cx_request_alloc, cx_answer_alloc and the
 * helpers) are shared with Sh (sh.c), whose messages have the same shape
 * (TS 29.329 6.1).
 */
#include "diameter/cx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"

#define V3 DIA_VENDOR_3GPP


/* ---- small helpers (shared with sh.c through cx.h) ---- */

/**
 * Add an optional AVP: nothing when pl is unset.
 *
 * @return 0 or ENOMEM
 */
int cx_add_opt_pl(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  const struct pl *pl)
{
	if (!pl_isset(pl))
		return 0;
	return dia_add_pl(parent, code, vendor, pl);
}


/**
 * An optional AVP as a pl: unset when absent.
 *
 * @return 0, or EBADMSG when present but unusable
 */
int cx_get_opt_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct pl *pl)
{
	int err = dia_get_pl(parent, code, vendor, pl);

	if (err == ENOENT) {
		pl->p = NULL;
		pl->l = 0;
		return 0;
	}
	return err;
}


/**
 * Every AVP of that code into v (at most max).
 *
 * @return 0, or EBADMSG past max or for a grouped AVP
 */
int cx_get_all_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct pl *v, size_t max, size_t *np)
{
	const struct dia_avp *a;
	size_t n = 0;

	for (a = dia_avp_find(parent, code, vendor); a; a = dia_avp_next(a)) {
		if (n == max || a->grouped)
			return EBADMSG;
		v[n++] = a->val;
	}
	*np = n;
	return 0;
}


/**
 * Whether m is the request (req true) or the answer of (app, cmd).
 *
 * @return 0 or EINVAL
 */
int cx_msg_check(const struct dia_msg *m, uint32_t app, uint32_t cmd, bool req)
{
	if (!m || m->code != cmd || m->app != app ||
	    dia_msg_is_request(m) != req)
		return EINVAL;
	return 0;
}


/**
 * The end of a builder: msg goes out through msgp, or is freed on err.
 *
 * @return err
 */
int cx_msg_finish(struct dia_msg **msgp, struct dia_msg *msg, int err)
{
	if (err)
		mem_deref(msg);
	else
		*msgp = msg;
	return err;
}


/* A mandatory AVP as a pl: EBADMSG when absent or empty. */
static int need_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		   struct pl *pl)
{
	int err = dia_get_pl(parent, code, vendor, pl);

	if (err)
		return EBADMSG;
	return pl->l ? 0 : EBADMSG;
}


static int need_u32(const struct dia_avp *parent, uint32_t code,
		    uint32_t vendor, uint32_t *v)
{
	return dia_get_u32(parent, code, vendor, v) ? EBADMSG : 0;
}


/* An optional Unsigned32/Enumerated: -1 when absent. */
static int get_opt(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		   int *v)
{
	uint32_t u;
	int err = dia_get_u32(parent, code, vendor, &u);

	if (err == ENOENT) {
		*v = -1;
		return 0;
	}
	if (err)
		return EBADMSG;
	*v = u > 0x7fffffffu ? 0x7fffffff : (int)u;
	return 0;
}


/* ---- the common head ---- */

/**
 * A Session-Id for a new session: DiameterIdentity;high;low (RFC 6733
 * 8.8).  The high part is the start time, the low part a per-thread
 * counter, so ids stay unique across restarts and threads.
 *
 * @param buf   where to write it
 * @param size  its size
 * @param host  the sender's Origin-Host
 * @return 0 or ENOSPC
 */
int cx_session_id(char *buf, size_t size, const struct pl *host)
{
	static _Thread_local uint32_t low;
	static _Thread_local uint32_t high;
	int n;

	if (!high)
		high = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)&low;
	n = snprintf(buf, size, "%.*s;%u;%u", PL_FMT(host), high, ++low);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}


static int add_vsai(struct dia_avp *root, uint32_t app)
{
	struct dia_avp *g;
	int err;

	/* TS 29.229 6.1 / TS 29.329 6.1: Vendor-Specific-Application-Id
	 * with Vendor-Id 10415 and the Auth-Application-Id */
	err = dia_add_group(root, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0,
			    &g);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, DIA_VENDOR_3GPP);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0, app);
	return err;
}


/**
 * A new request with the head every Cx/Dx and Sh request starts with.
 *
 * @param reqp  the request
 * @param app   DIA_APP_CX or DIA_APP_SH
 * @param cmd   the command code
 * @param rt    origin, destination and (optionally) the Session-Id
 * @return 0, EINVAL without origin or destination realm, ENOMEM
 */
int cx_request_alloc(struct dia_msg **reqp, uint32_t app, uint32_t cmd,
		     const struct cx_route *rt)
{
	struct dia_msg *req = NULL;
	char sid[320];
	int err;

	if (!reqp || !rt || !pl_isset(&rt->origin_host) ||
	    !pl_isset(&rt->origin_realm) || !pl_isset(&rt->dest_realm))
		return EINVAL;
	err = dia_msg_alloc(&req, cmd, app, DIA_FLAG_R | DIA_FLAG_P);
	if (err)
		return err;
	/* RFC 6733 8.8: Session-Id first */
	if (pl_isset(&rt->session_id)) {
		err = dia_add_pl(&req->root, DIA_AVP_SESSION_ID, 0,
				 &rt->session_id);
	} else {
		err = cx_session_id(sid, sizeof(sid), &rt->origin_host);
		if (!err)
			err = dia_add_str(&req->root, DIA_AVP_SESSION_ID, 0,
					  sid);
	}
	if (!err)
		err = add_vsai(&req->root, app);
	/* TS 29.229 5.3: Cx keeps no session state */
	if (!err)
		err = dia_add_u32(&req->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				  DIA_NO_STATE_MAINTAINED);
	if (!err)
		err = dia_add_pl(&req->root, DIA_AVP_ORIGIN_HOST, 0,
				 &rt->origin_host);
	if (!err)
		err = dia_add_pl(&req->root, DIA_AVP_ORIGIN_REALM, 0,
				 &rt->origin_realm);
	if (!err)
		err = cx_add_opt_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0,
				    &rt->dest_host);
	if (!err)
		err = dia_add_pl(&req->root, DIA_AVP_DESTINATION_REALM, 0,
				 &rt->dest_realm);
	if (err)
		mem_deref(req);
	else
		*reqp = req;
	return err;
}


int cx_add_result(struct dia_avp *parent, const struct cx_result *res)
{
	struct dia_avp *g;
	int err;

	if (!res->vendor)
		return dia_add_u32(parent, DIA_AVP_RESULT_CODE, 0, res->code);
	/* TS 29.229 6.2: Experimental-Result {Vendor-Id, code} */
	err = dia_add_group(parent, DIA_AVP_EXPERIMENTAL_RESULT, 0, &g);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, res->vendor);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0,
				  res->code);
	return err;
}


int cx_result_get(const struct dia_msg *ans, struct cx_result *res)
{
	int err = dia_msg_result(ans, &res->code, &res->vendor);

	return err ? EBADMSG : 0;
}


/**
 * An answer to req with the head of every Cx/Dx and Sh answer.
 *
 * @param ansp  the answer
 * @param req   the request
 * @param o     Origin-Host and Origin-Realm
 * @param res   the result (vendor 0: Result-Code; 3xxx sets the E bit)
 * @return 0, EINVAL, ENOMEM
 */
int cx_answer_alloc(struct dia_msg **ansp, const struct dia_msg *req,
		    const struct cx_origin *o, const struct cx_result *res)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!ansp || !req || !o || !res || !pl_isset(&o->host) ||
	    !pl_isset(&o->realm))
		return EINVAL;
	err = dia_msg_answer_alloc(&ans, req);
	if (err)
		return err;
	/* RFC 6733 7.1.3: protocol errors come with the E bit */
	if (!res->vendor && res->code >= 3000 && res->code < 4000)
		ans->flags |= DIA_FLAG_E;
	err = add_vsai(&ans->root, req->app);
	if (!err)
		err = cx_add_result(&ans->root, res);
	if (!err)
		err = dia_add_u32(&ans->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				  DIA_NO_STATE_MAINTAINED);
	if (!err)
		err = dia_add_pl(&ans->root, DIA_AVP_ORIGIN_HOST, 0, &o->host);
	if (!err)
		err = dia_add_pl(&ans->root, DIA_AVP_ORIGIN_REALM, 0,
				 &o->realm);
	if (err)
		mem_deref(ans);
	else
		*ansp = ans;
	return err;
}


int cx_add_features(struct dia_avp *parent, const struct cx_features *f)
{
	struct dia_avp *g;
	int err;

	if (!f->present)
		return 0;
	err = dia_add_group(parent, DIA_AVP_SUPPORTED_FEATURES, V3, &g);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_VENDOR_ID, 0,
				  f->vendor ? f->vendor : DIA_VENDOR_3GPP);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_FEATURE_LIST_ID, V3, f->list_id);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_FEATURE_LIST, V3, f->list);
	return err;
}


int cx_features_get(const struct dia_avp *parent, struct cx_features *f)
{
	const struct dia_avp *g;

	memset(f, 0, sizeof(*f));
	g = dia_avp_find(parent, DIA_AVP_SUPPORTED_FEATURES, V3);
	if (!g)
		return 0;
	if (!g->grouped || need_u32(g, DIA_AVP_VENDOR_ID, 0, &f->vendor) ||
	    need_u32(g, DIA_AVP_FEATURE_LIST_ID, V3, &f->list_id) ||
	    need_u32(g, DIA_AVP_FEATURE_LIST, V3, &f->list))
		return EBADMSG;
	f->present = true;
	return 0;
}


bool cx_caps_empty(const struct cx_caps *caps)
{
	return !caps->mand_n && !caps->opt_n && !caps->name_n;
}


int cx_add_caps(struct dia_avp *parent, const struct cx_caps *caps)
{
	struct dia_avp *g;
	size_t i;
	int err;

	err = dia_add_group(parent, DIA_AVP_SERVER_CAPABILITIES, V3, &g);
	for (i = 0; !err && i < caps->mand_n && i < CX_CAP_MAX; i++)
		err = dia_add_u32(g, DIA_AVP_MANDATORY_CAPABILITY, V3,
				  caps->mand[i]);
	for (i = 0; !err && i < caps->opt_n && i < CX_CAP_MAX; i++)
		err = dia_add_u32(g, DIA_AVP_OPTIONAL_CAPABILITY, V3,
				  caps->opt[i]);
	for (i = 0; !err && i < caps->name_n && i < CX_CAP_MAX; i++)
		err = dia_add_pl(g, DIA_AVP_SERVER_NAME, V3, &caps->name[i]);
	return err;
}


static int caps_u32(const struct dia_avp *g, uint32_t code, uint32_t *v,
		    size_t *np)
{
	const struct dia_avp *a;
	size_t n = 0;

	for (a = dia_avp_find(g, code, V3); a; a = dia_avp_next(a)) {
		if (n == CX_CAP_MAX || dia_avp_u32(a, &v[n]))
			return EBADMSG;
		n++;
	}
	*np = n;
	return 0;
}


static int caps_get(const struct dia_avp *parent, bool *has,
		    struct cx_caps *caps)
{
	const struct dia_avp *g;

	memset(caps, 0, sizeof(*caps));
	g = dia_avp_find(parent, DIA_AVP_SERVER_CAPABILITIES, V3);
	*has = g != NULL;
	if (!g)
		return 0;
	if (!g->grouped ||
	    caps_u32(g, DIA_AVP_MANDATORY_CAPABILITY, caps->mand,
		     &caps->mand_n) ||
	    caps_u32(g, DIA_AVP_OPTIONAL_CAPABILITY, caps->opt, &caps->opt_n) ||
	    cx_get_all_pl(g, DIA_AVP_SERVER_NAME, V3, caps->name, CX_CAP_MAX,
			  &caps->name_n))
		return EBADMSG;
	return 0;
}


int cx_add_charging(struct dia_avp *parent, const struct cx_charging *c)
{
	struct dia_avp *g;
	int err;

	err = dia_add_group(parent, DIA_AVP_CHARGING_INFORMATION, V3, &g);
	if (!err)
		err = cx_add_opt_pl(
			g, DIA_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3,
			&c->ecf_primary);
	if (!err)
		err = cx_add_opt_pl(
			g, DIA_AVP_SECONDARY_EVENT_CHARGING_FUNCTION_NAME, V3,
			&c->ecf_secondary);
	if (!err)
		err = cx_add_opt_pl(
			g, DIA_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME,
			V3, &c->ccf_primary);
	if (!err)
		err = cx_add_opt_pl(
			g, DIA_AVP_SECONDARY_CHARGING_COLLECTION_FUNCTION_NAME,
			V3, &c->ccf_secondary);
	return err;
}


static int charging_get(const struct dia_avp *parent, bool *has,
			struct cx_charging *c)
{
	const struct dia_avp *g;

	memset(c, 0, sizeof(*c));
	g = dia_avp_find(parent, DIA_AVP_CHARGING_INFORMATION, V3);
	*has = g != NULL;
	if (!g)
		return 0;
	if (!g->grouped ||
	    cx_get_opt_pl(g, DIA_AVP_PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3,
			  &c->ecf_primary) ||
	    cx_get_opt_pl(g, DIA_AVP_SECONDARY_EVENT_CHARGING_FUNCTION_NAME, V3,
			  &c->ecf_secondary) ||
	    cx_get_opt_pl(g, DIA_AVP_PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME,
			  V3, &c->ccf_primary) ||
	    cx_get_opt_pl(g,
			  DIA_AVP_SECONDARY_CHARGING_COLLECTION_FUNCTION_NAME,
			  V3, &c->ccf_secondary))
		return EBADMSG;
	return 0;
}


/* Associated-Identities {*User-Name} (TS 29.229 6.3.33) */
static int add_assoc(struct dia_avp *parent, const struct pl *v, size_t n)
{
	struct dia_avp *g;
	size_t i;
	int err;

	if (!n)
		return 0;
	err = dia_add_group(parent, DIA_AVP_ASSOCIATED_IDENTITIES, V3, &g);
	for (i = 0; !err && i < n && i < CX_ASSOC_MAX; i++)
		err = dia_add_pl(g, DIA_AVP_USER_NAME, 0, &v[i]);
	return err;
}


static int assoc_get(const struct dia_avp *parent, struct pl *v, size_t *np)
{
	const struct dia_avp *g;

	*np = 0;
	g = dia_avp_find(parent, DIA_AVP_ASSOCIATED_IDENTITIES, V3);
	if (!g)
		return 0;
	if (!g->grouped)
		return EBADMSG;
	return cx_get_all_pl(g, DIA_AVP_USER_NAME, 0, v, CX_ASSOC_MAX, np);
}


/* ---- UAR / UAA ---- */

int cx_uar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_uar *uar)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!uar || !pl_isset(&uar->impi) || !pl_isset(&uar->impu))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_UA, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &uar->feat);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_USER_NAME, 0, &uar->impi);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &uar->impu);
	/* the home network's own name when the UE is at home */
	if (!err)
		err = dia_add_pl(r, DIA_AVP_VISITED_NETWORK_IDENTIFIER, V3,
				 pl_isset(&uar->visited) ? &uar->visited
							 : &rt->origin_realm);
	if (!err && uar->auth_type >= 0)
		err = dia_add_u32(r, DIA_AVP_USER_AUTHORIZATION_TYPE, V3,
				  (uint32_t)uar->auth_type);
	if (!err && uar->flags)
		err = dia_add_u32(r, DIA_AVP_UAR_FLAGS, V3, uar->flags);
	return cx_msg_finish(reqp, req, err);
}


int cx_uar_decode(const struct dia_msg *req, struct cx_uar *uar)
{
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_UA, true);

	if (err)
		return err;
	memset(uar, 0, sizeof(*uar));
	err = need_pl(&req->root, DIA_AVP_USER_NAME, 0, &uar->impi);
	if (!err)
		err = need_pl(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3,
			      &uar->impu);
	if (!err)
		err = need_pl(&req->root, DIA_AVP_VISITED_NETWORK_IDENTIFIER,
			      V3, &uar->visited);
	if (!err)
		err = get_opt(&req->root, DIA_AVP_USER_AUTHORIZATION_TYPE, V3,
			      &uar->auth_type);
	if (!err && dia_get_u32(&req->root, DIA_AVP_UAR_FLAGS, V3,
				&uar->flags) == EBADMSG)
		err = EBADMSG;
	if (!err)
		err = cx_features_get(&req->root, &uar->feat);
	return err;
}


int cx_uaa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_uaa *uaa)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!uaa)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &uaa->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &uaa->feat);
	if (!err)
		err = cx_add_opt_pl(&ans->root, DIA_AVP_SERVER_NAME, V3,
				    &uaa->server_name);
	/* an empty Server-Capabilities is legal (TS 29.229 6.3.4: every member
	 * optional) but Kamailio's cdp drops a message with a zero-length AVP
	 * and the connection with it: leave it out, the I-CSCF then picks any
	 * S-CSCF */
	if (!err && uaa->has_caps && !cx_caps_empty(&uaa->caps))
		err = cx_add_caps(&ans->root, &uaa->caps);
	return cx_msg_finish(ansp, ans, err);
}


int cx_uaa_decode(const struct dia_msg *ans, struct cx_uaa *uaa)
{
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_UA, false);

	if (err)
		return err;
	memset(uaa, 0, sizeof(*uaa));
	err = cx_result_get(ans, &uaa->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_SERVER_NAME, V3,
				    &uaa->server_name);
	if (!err)
		err = caps_get(&ans->root, &uaa->has_caps, &uaa->caps);
	if (!err)
		err = cx_features_get(&ans->root, &uaa->feat);
	return err;
}


/* ---- SAR / SAA ---- */

int cx_sar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_sar *sar)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	size_t i;
	int err;

	if (!sar || !pl_isset(&sar->server_name) || sar->impu_n > CX_IMPU_MAX ||
	    (!sar->impu_n && !pl_isset(&sar->impi)))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_SA, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &sar->feat);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &sar->impi);
	for (i = 0; !err && i < sar->impu_n; i++)
		err = dia_add_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &sar->impu[i]);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &sar->wildcarded);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_SERVER_NAME, V3, &sar->server_name);
	if (!err)
		err = dia_add_u32(r, DIA_AVP_SERVER_ASSIGNMENT_TYPE, V3,
				  sar->sat);
	if (!err)
		err = dia_add_u32(r, DIA_AVP_USER_DATA_ALREADY_AVAILABLE, V3,
				  sar->udaa);
	if (!err && sar->multiple_reg >= 0)
		err = dia_add_u32(r, DIA_AVP_MULTIPLE_REGISTRATION_INDICATION,
				  V3, (uint32_t)sar->multiple_reg);
	return cx_msg_finish(reqp, req, err);
}


int cx_sar_decode(const struct dia_msg *req, struct cx_sar *sar)
{
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_SA, true);

	if (err)
		return err;
	memset(sar, 0, sizeof(*sar));
	err = cx_get_opt_pl(&req->root, DIA_AVP_USER_NAME, 0, &sar->impi);
	if (!err)
		err = cx_get_all_pl(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3,
				    sar->impu, CX_IMPU_MAX, &sar->impu_n);
	if (!err)
		err = cx_get_opt_pl(&req->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &sar->wildcarded);
	if (!err)
		err = need_pl(&req->root, DIA_AVP_SERVER_NAME, V3,
			      &sar->server_name);
	if (!err)
		err = need_u32(&req->root, DIA_AVP_SERVER_ASSIGNMENT_TYPE, V3,
			       &sar->sat);
	if (!err)
		err = need_u32(&req->root, DIA_AVP_USER_DATA_ALREADY_AVAILABLE,
			       V3, &sar->udaa);
	if (!err)
		err = get_opt(&req->root,
			      DIA_AVP_MULTIPLE_REGISTRATION_INDICATION, V3,
			      &sar->multiple_reg);
	if (!err)
		err = cx_features_get(&req->root, &sar->feat);
	/* TS 29.228 6.1.2: the user is named by one or the other */
	if (!err && !sar->impu_n && !pl_isset(&sar->impi))
		err = EBADMSG;
	return err;
}


int cx_saa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_saa *saa)
{
	struct dia_msg *ans = NULL;
	struct dia_avp *r;
	int err;

	if (!saa)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &saa->res);
	if (err)
		return err;
	r = &ans->root;
	err = cx_add_features(r, &saa->feat);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &saa->impi);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_DATA, V3, &saa->user_data);
	if (!err && saa->has_charging)
		err = cx_add_charging(r, &saa->charging);
	if (!err)
		err = add_assoc(r, saa->assoc, saa->assoc_n);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_SERVER_NAME, V3,
				    &saa->server_name);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &saa->wildcarded);
	return cx_msg_finish(ansp, ans, err);
}


int cx_saa_decode(const struct dia_msg *ans, struct cx_saa *saa)
{
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_SA, false);

	if (err)
		return err;
	memset(saa, 0, sizeof(*saa));
	err = cx_result_get(ans, &saa->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_USER_NAME, 0,
				    &saa->impi);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_USER_DATA, V3,
				    &saa->user_data);
	if (!err)
		err = charging_get(&ans->root, &saa->has_charging,
				   &saa->charging);
	if (!err)
		err = assoc_get(&ans->root, saa->assoc, &saa->assoc_n);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_SERVER_NAME, V3,
				    &saa->server_name);
	if (!err)
		err = cx_get_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &saa->wildcarded);
	if (!err)
		err = cx_features_get(&ans->root, &saa->feat);
	return err;
}


/* ---- LIR / LIA ---- */

int cx_lir_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_lir *lir)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!lir || !pl_isset(&lir->impu))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_LI, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &lir->feat);
	if (!err && lir->originating)
		err = dia_add_u32(r, DIA_AVP_ORIGINATING_REQUEST, V3,
				  DIA_ORIGINATING);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &lir->impu);
	if (!err && lir->auth_type >= 0)
		err = dia_add_u32(r, DIA_AVP_USER_AUTHORIZATION_TYPE, V3,
				  (uint32_t)lir->auth_type);
	return cx_msg_finish(reqp, req, err);
}


int cx_lir_decode(const struct dia_msg *req, struct cx_lir *lir)
{
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_LI, true);

	if (err)
		return err;
	memset(lir, 0, sizeof(*lir));
	err = need_pl(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3, &lir->impu);
	lir->originating = dia_avp_find(&req->root, DIA_AVP_ORIGINATING_REQUEST,
					V3) != NULL;
	if (!err)
		err = get_opt(&req->root, DIA_AVP_USER_AUTHORIZATION_TYPE, V3,
			      &lir->auth_type);
	if (!err)
		err = cx_features_get(&req->root, &lir->feat);
	return err;
}


int cx_lia_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_lia *lia)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!lia)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &lia->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &lia->feat);
	if (!err)
		err = cx_add_opt_pl(&ans->root, DIA_AVP_SERVER_NAME, V3,
				    &lia->server_name);
	if (!err && lia->has_caps && !cx_caps_empty(&lia->caps))
		err = cx_add_caps(&ans->root, &lia->caps);
	if (!err)
		err = cx_add_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &lia->wildcarded);
	return cx_msg_finish(ansp, ans, err);
}


int cx_lia_decode(const struct dia_msg *ans, struct cx_lia *lia)
{
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_LI, false);

	if (err)
		return err;
	memset(lia, 0, sizeof(*lia));
	err = cx_result_get(ans, &lia->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_SERVER_NAME, V3,
				    &lia->server_name);
	if (!err)
		err = caps_get(&ans->root, &lia->has_caps, &lia->caps);
	if (!err)
		err = cx_get_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &lia->wildcarded);
	if (!err)
		err = cx_features_get(&ans->root, &lia->feat);
	return err;
}


/* ---- MAR / MAA ---- */

static int add_item(struct dia_avp *parent, const struct cx_auth_item *it)
{
	struct dia_avp *g, *d;
	int err;

	err = dia_add_group(parent, DIA_AVP_SIP_AUTH_DATA_ITEM, V3, &g);
	if (!err && it->item_number)
		err = dia_add_u32(g, DIA_AVP_SIP_ITEM_NUMBER, V3,
				  it->item_number);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3,
				    &it->scheme);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_SIP_AUTHENTICATE, V3,
				    &it->authenticate);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_SIP_AUTHORIZATION, V3,
				    &it->authorization);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_CONFIDENTIALITY_KEY, V3,
				    &it->ck);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_INTEGRITY_KEY, V3, &it->ik);
	if (err || !it->has_digest)
		return err;
	/* TS 29.229 6.3.36: the RFC 4740 Digest AVPs, vendor 0 */
	err = dia_add_group(g, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3, &d);
	if (!err)
		err = dia_add_pl(d, DIA_AVP_DIGEST_REALM, 0, &it->digest.realm);
	if (!err)
		err = cx_add_opt_pl(d, DIA_AVP_DIGEST_ALGORITHM, 0,
				    &it->digest.algorithm);
	if (!err)
		err = dia_add_pl(d, DIA_AVP_DIGEST_QOP, 0, &it->digest.qop);
	if (!err)
		err = dia_add_pl(d, DIA_AVP_DIGEST_HA1, 0, &it->digest.ha1);
	return err;
}


static int item_get(const struct dia_avp *g, struct cx_auth_item *it)
{
	const struct dia_avp *d;
	int err;

	memset(it, 0, sizeof(*it));
	if (!g->grouped)
		return EBADMSG;
	if (dia_get_u32(g, DIA_AVP_SIP_ITEM_NUMBER, V3, &it->item_number) ==
	    EBADMSG)
		return EBADMSG;
	err = cx_get_opt_pl(g, DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3,
			    &it->scheme);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_SIP_AUTHENTICATE, V3,
				    &it->authenticate);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_SIP_AUTHORIZATION, V3,
				    &it->authorization);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_CONFIDENTIALITY_KEY, V3,
				    &it->ck);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_INTEGRITY_KEY, V3, &it->ik);
	if (err)
		return err;
	d = dia_avp_find(g, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3);
	if (!d)
		return 0;
	if (!d->grouped)
		return EBADMSG;
	it->has_digest = true;
	err = cx_get_opt_pl(d, DIA_AVP_DIGEST_REALM, 0, &it->digest.realm);
	if (!err)
		err = cx_get_opt_pl(d, DIA_AVP_DIGEST_ALGORITHM, 0,
				    &it->digest.algorithm);
	if (!err)
		err = cx_get_opt_pl(d, DIA_AVP_DIGEST_QOP, 0, &it->digest.qop);
	if (!err)
		err = cx_get_opt_pl(d, DIA_AVP_DIGEST_HA1, 0, &it->digest.ha1);
	return err;
}


int cx_mar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_mar *mar)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!mar || !pl_isset(&mar->impi) || !pl_isset(&mar->impu) ||
	    !pl_isset(&mar->server_name))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_MA, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &mar->feat);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_USER_NAME, 0, &mar->impi);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &mar->impu);
	if (!err)
		err = add_item(r, &mar->item);
	if (!err)
		err = dia_add_u32(r, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3,
				  mar->n_items ? mar->n_items : 1);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_SERVER_NAME, V3, &mar->server_name);
	return cx_msg_finish(reqp, req, err);
}


int cx_mar_decode(const struct dia_msg *req, struct cx_mar *mar)
{
	const struct dia_avp *g;
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_MA, true);

	if (err)
		return err;
	memset(mar, 0, sizeof(*mar));
	err = need_pl(&req->root, DIA_AVP_USER_NAME, 0, &mar->impi);
	if (!err)
		err = need_pl(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3,
			      &mar->impu);
	if (!err)
		err = need_pl(&req->root, DIA_AVP_SERVER_NAME, V3,
			      &mar->server_name);
	if (!err)
		err = need_u32(&req->root, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3,
			       &mar->n_items);
	if (err)
		return err;
	g = dia_avp_find(&req->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
	if (!g)
		return EBADMSG;
	err = item_get(g, &mar->item);
	if (!err)
		err = cx_features_get(&req->root, &mar->feat);
	return err;
}


int cx_maa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_maa *maa)
{
	struct dia_msg *ans = NULL;
	struct dia_avp *r;
	size_t i;
	int err;

	if (!maa || (maa->item_n && !maa->item))
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &maa->res);
	if (err)
		return err;
	r = &ans->root;
	err = cx_add_features(r, &maa->feat);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &maa->impi);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &maa->impu);
	if (!err && maa->item_n)
		err = dia_add_u32(r, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3,
				  (uint32_t)maa->item_n);
	for (i = 0; !err && i < maa->item_n; i++)
		err = add_item(r, &maa->item[i]);
	return cx_msg_finish(ansp, ans, err);
}


int cx_maa_decode(const struct dia_msg *ans, struct cx_maa *maa)
{
	const struct dia_avp *g;
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_MA, false);
	size_t n = 0;

	if (err)
		return err;
	if (!maa || (maa->item_max && !maa->item))
		return EINVAL;
	maa->res.code = maa->res.vendor = 0;
	maa->n_items = 0;
	maa->item_n = 0;
	err = cx_result_get(ans, &maa->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_USER_NAME, 0,
				    &maa->impi);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_PUBLIC_IDENTITY, V3,
				    &maa->impu);
	if (!err && dia_get_u32(&ans->root, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3,
				&maa->n_items) == EBADMSG)
		err = EBADMSG;
	if (!err)
		err = cx_features_get(&ans->root, &maa->feat);
	for (g = dia_avp_find(&ans->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
	     !err && g; g = dia_avp_next(g)) {
		if (n == maa->item_max)
			return ENOSPC;
		err = item_get(g, &maa->item[n++]);
	}
	maa->item_n = n;
	return err;
}


/* ---- RTR / RTA ---- */

int cx_rtr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_rtr *rtr)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r, *g;
	size_t i;
	int err;

	/* TS 29.229 6.1.9: Destination-Host is mandatory */
	if (!rtr || !rt || !pl_isset(&rt->dest_host) || !pl_isset(&rtr->impi) ||
	    rtr->impu_n > CX_IMPU_MAX)
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_RT, rt);
	if (err)
		return err;
	r = &req->root;
	err = dia_add_pl(r, DIA_AVP_USER_NAME, 0, &rtr->impi);
	if (!err)
		err = add_assoc(r, rtr->assoc, rtr->assoc_n);
	for (i = 0; !err && i < rtr->impu_n; i++)
		err = dia_add_pl(r, DIA_AVP_PUBLIC_IDENTITY, V3, &rtr->impu[i]);
	if (!err)
		err = dia_add_group(r, DIA_AVP_DEREGISTRATION_REASON, V3, &g);
	if (!err)
		err = dia_add_u32(g, DIA_AVP_REASON_CODE, V3, rtr->reason);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_REASON_INFO, V3,
				    &rtr->reason_info);
	return cx_msg_finish(reqp, req, err);
}


int cx_rtr_decode(const struct dia_msg *req, struct cx_rtr *rtr)
{
	const struct dia_avp *g;
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_RT, true);

	if (err)
		return err;
	memset(rtr, 0, sizeof(*rtr));
	err = need_pl(&req->root, DIA_AVP_USER_NAME, 0, &rtr->impi);
	if (!err)
		err = cx_get_all_pl(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3,
				    rtr->impu, CX_IMPU_MAX, &rtr->impu_n);
	if (!err)
		err = assoc_get(&req->root, rtr->assoc, &rtr->assoc_n);
	if (err)
		return err;
	g = dia_avp_find(&req->root, DIA_AVP_DEREGISTRATION_REASON, V3);
	if (!g || !g->grouped)
		return EBADMSG;
	err = need_u32(g, DIA_AVP_REASON_CODE, V3, &rtr->reason);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_REASON_INFO, V3,
				    &rtr->reason_info);
	return err;
}


int cx_rta_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_rta *rta)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!rta)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &rta->res);
	if (err)
		return err;
	err = add_assoc(&ans->root, rta->assoc, rta->assoc_n);
	return cx_msg_finish(ansp, ans, err);
}


int cx_rta_decode(const struct dia_msg *ans, struct cx_rta *rta)
{
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_RT, false);

	if (err)
		return err;
	memset(rta, 0, sizeof(*rta));
	err = cx_result_get(ans, &rta->res);
	if (!err)
		err = assoc_get(&ans->root, rta->assoc, &rta->assoc_n);
	return err;
}


/* ---- PPR / PPA ---- */

int cx_ppr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_ppr *ppr)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	/* TS 29.229 6.1.11: Destination-Host is mandatory */
	if (!ppr || !rt || !pl_isset(&rt->dest_host) || !pl_isset(&ppr->impi))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_PP, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &ppr->feat);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_USER_NAME, 0, &ppr->impi);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_DATA, V3, &ppr->user_data);
	if (!err && ppr->has_charging)
		err = cx_add_charging(r, &ppr->charging);
	return cx_msg_finish(reqp, req, err);
}


int cx_ppr_decode(const struct dia_msg *req, struct cx_ppr *ppr)
{
	int err = cx_msg_check(req, DIA_APP_CX, DIA_CMD_PP, true);

	if (err)
		return err;
	memset(ppr, 0, sizeof(*ppr));
	err = need_pl(&req->root, DIA_AVP_USER_NAME, 0, &ppr->impi);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_USER_DATA, V3,
				    &ppr->user_data);
	if (!err)
		err = charging_get(&req->root, &ppr->has_charging,
				   &ppr->charging);
	if (!err)
		err = cx_features_get(&req->root, &ppr->feat);
	return err;
}


int cx_ppa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct cx_ppa *ppa)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!ppa)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &ppa->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &ppa->feat);
	return cx_msg_finish(ansp, ans, err);
}


int cx_ppa_decode(const struct dia_msg *ans, struct cx_ppa *ppa)
{
	int err = cx_msg_check(ans, DIA_APP_CX, DIA_CMD_PP, false);

	if (err)
		return err;
	memset(ppa, 0, sizeof(*ppa));
	err = cx_result_get(ans, &ppa->res);
	if (!err)
		err = cx_features_get(&ans->root, &ppa->feat);
	return err;
}
