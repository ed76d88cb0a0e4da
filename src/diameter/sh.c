/**
 * @file sh.c  Typed Sh messages (TS 29.329 6.1).
 *
 * The same scheme as cx.c, with its helpers (cx.h): the common head from
 * cx_request_alloc() and cx_answer_alloc() (application 16777217), AVPs
 * in the ABNF order of TS 29.329 6.1.x, readers returning pl views and
 * EBADMSG when a mandatory AVP is missing or a repeated one exceeds the
 * limits of sh.h.
 */
#include "diameter/sh.h"

#include <errno.h>
#include <string.h>

#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"

#define V3 DIA_VENDOR_3GPP


static int get_all_u32(const struct dia_avp *parent, uint32_t code, uint32_t *v,
		       size_t max, size_t *np)
{
	const struct dia_avp *a;
	size_t n = 0;

	for (a = dia_avp_find(parent, code, V3); a; a = dia_avp_next(a)) {
		if (n == max || dia_avp_u32(a, &v[n]))
			return EBADMSG;
		n++;
	}
	*np = n;
	return 0;
}


static int add_all_pl(struct dia_avp *parent, uint32_t code, const struct pl *v,
		      size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < n; i++)
		err = dia_add_pl(parent, code, V3, &v[i]);
	return err;
}


static int add_all_u32(struct dia_avp *parent, uint32_t code, const uint32_t *v,
		       size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < n; i++)
		err = dia_add_u32(parent, code, V3, v[i]);
	return err;
}


/* TS 29.329 6.3.1 User-Identity ::= [Public-Identity] [MSISDN] */
static int add_uid(struct dia_avp *parent, const struct sh_user_identity *u)
{
	struct dia_avp *g;
	int err;

	err = dia_add_group(parent, DIA_AVP_USER_IDENTITY, V3, &g);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_PUBLIC_IDENTITY, V3, &u->impu);
	if (!err)
		err = cx_add_opt_pl(g, DIA_AVP_MSISDN, V3, &u->msisdn);
	return err;
}


static int uid_get(const struct dia_avp *parent, struct sh_user_identity *u)
{
	const struct dia_avp *g;
	int err;

	g = dia_avp_find(parent, DIA_AVP_USER_IDENTITY, V3);
	if (!g || !g->grouped)
		return EBADMSG;
	err = cx_get_opt_pl(g, DIA_AVP_PUBLIC_IDENTITY, V3, &u->impu);
	if (!err)
		err = cx_get_opt_pl(g, DIA_AVP_MSISDN, V3, &u->msisdn);
	if (err)
		return EBADMSG;
	/* one of the two must name the user */
	return pl_isset(&u->impu) || pl_isset(&u->msisdn) ? 0 : EBADMSG;
}


static bool uid_ok(const struct sh_user_identity *u)
{
	return pl_isset(&u->impu) || pl_isset(&u->msisdn);
}


/* ---- UDR / UDA: TS 29.329 6.1.1, 6.1.2 ---- */

int sh_udr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_udr *udr)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!udr || !uid_ok(&udr->uid) || !udr->dref_n ||
	    udr->dref_n > SH_DREF_MAX || udr->si_n > SH_SI_MAX ||
	    udr->idset_n > SH_IDSET_MAX)
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_SH, DIA_CMD_UD, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &udr->feat);
	if (!err)
		err = add_uid(r, &udr->uid);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &udr->wildcarded);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_SERVER_NAME, V3,
				    &udr->server_name);
	if (!err)
		err = add_all_pl(r, DIA_AVP_SERVICE_INDICATION, udr->si,
				 udr->si_n);
	if (!err)
		err = add_all_u32(r, DIA_AVP_DATA_REFERENCE, udr->dref,
				  udr->dref_n);
	if (!err)
		err = add_all_u32(r, DIA_AVP_IDENTITY_SET, udr->idset,
				  udr->idset_n);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &udr->impi);
	return cx_msg_finish(reqp, req, err);
}


int sh_udr_decode(const struct dia_msg *req, struct sh_udr *udr)
{
	int err = cx_msg_check(req, DIA_APP_SH, DIA_CMD_UD, true);

	if (err)
		return err;
	memset(udr, 0, sizeof(*udr));
	err = uid_get(&req->root, &udr->uid);
	if (!err)
		err = cx_get_opt_pl(&req->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &udr->wildcarded);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_SERVER_NAME, V3,
				    &udr->server_name);
	if (!err)
		err = cx_get_all_pl(&req->root, DIA_AVP_SERVICE_INDICATION, V3,
				    udr->si, SH_SI_MAX, &udr->si_n);
	if (!err)
		err = get_all_u32(&req->root, DIA_AVP_DATA_REFERENCE, udr->dref,
				  SH_DREF_MAX, &udr->dref_n);
	if (!err)
		err = get_all_u32(&req->root, DIA_AVP_IDENTITY_SET, udr->idset,
				  SH_IDSET_MAX, &udr->idset_n);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_USER_NAME, 0,
				    &udr->impi);
	if (!err)
		err = cx_features_get(&req->root, &udr->feat);
	if (!err && !udr->dref_n)
		err = EBADMSG;
	return err ? EBADMSG : 0;
}


int sh_uda_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct sh_uda *uda)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!uda)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &uda->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &uda->feat);
	if (!err)
		err = cx_add_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &uda->wildcarded);
	if (!err)
		err = cx_add_opt_pl(&ans->root, DIA_AVP_SH_USER_DATA, V3,
				    &uda->user_data);
	return cx_msg_finish(ansp, ans, err);
}


int sh_uda_decode(const struct dia_msg *ans, struct sh_uda *uda)
{
	int err = cx_msg_check(ans, DIA_APP_SH, DIA_CMD_UD, false);

	if (err)
		return err;
	memset(uda, 0, sizeof(*uda));
	err = cx_result_get(ans, &uda->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &uda->wildcarded);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_SH_USER_DATA, V3,
				    &uda->user_data);
	if (!err)
		err = cx_features_get(&ans->root, &uda->feat);
	return err ? EBADMSG : 0;
}


/* ---- PUR / PUA: TS 29.329 6.1.3, 6.1.4 ---- */

int sh_pur_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_pur *pur)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!pur || !uid_ok(&pur->uid) || !pur->dref_n ||
	    pur->dref_n > SH_DREF_MAX || !pl_isset(&pur->user_data))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_SH, DIA_CMD_PU, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &pur->feat);
	if (!err)
		err = add_uid(r, &pur->uid);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pur->wildcarded);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &pur->impi);
	if (!err)
		err = add_all_u32(r, DIA_AVP_DATA_REFERENCE, pur->dref,
				  pur->dref_n);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_SH_USER_DATA, V3, &pur->user_data);
	return cx_msg_finish(reqp, req, err);
}


int sh_pur_decode(const struct dia_msg *req, struct sh_pur *pur)
{
	int err = cx_msg_check(req, DIA_APP_SH, DIA_CMD_PU, true);

	if (err)
		return err;
	memset(pur, 0, sizeof(*pur));
	err = uid_get(&req->root, &pur->uid);
	if (!err)
		err = cx_get_opt_pl(&req->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pur->wildcarded);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_USER_NAME, 0,
				    &pur->impi);
	if (!err)
		err = get_all_u32(&req->root, DIA_AVP_DATA_REFERENCE, pur->dref,
				  SH_DREF_MAX, &pur->dref_n);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_SH_USER_DATA, V3,
				    &pur->user_data);
	if (!err)
		err = cx_features_get(&req->root, &pur->feat);
	if (!err && (!pur->dref_n || !pl_isset(&pur->user_data)))
		err = EBADMSG;
	return err ? EBADMSG : 0;
}


int sh_pua_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct sh_pua *pua)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!pua)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &pua->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &pua->feat);
	if (!err)
		err = cx_add_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pua->wildcarded);
	return cx_msg_finish(ansp, ans, err);
}


int sh_pua_decode(const struct dia_msg *ans, struct sh_pua *pua)
{
	int err = cx_msg_check(ans, DIA_APP_SH, DIA_CMD_PU, false);

	if (err)
		return err;
	memset(pua, 0, sizeof(*pua));
	err = cx_result_get(ans, &pua->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pua->wildcarded);
	if (!err)
		err = cx_features_get(&ans->root, &pua->feat);
	return err ? EBADMSG : 0;
}


/* ---- SNR / SNA: TS 29.329 6.1.5, 6.1.6 ---- */

int sh_snr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_snr *snr)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	if (!snr || !uid_ok(&snr->uid) || !snr->dref_n ||
	    snr->dref_n > SH_DREF_MAX || snr->si_n > SH_SI_MAX ||
	    snr->idset_n > SH_IDSET_MAX)
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_SH, DIA_CMD_SN, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &snr->feat);
	if (!err)
		err = add_uid(r, &snr->uid);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &snr->wildcarded);
	if (!err)
		err = add_all_pl(r, DIA_AVP_SERVICE_INDICATION, snr->si,
				 snr->si_n);
	if (!err && snr->send_data >= 0)
		err = dia_add_u32(r, DIA_AVP_SEND_DATA_INDICATION, V3,
				  (uint32_t)snr->send_data);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_SERVER_NAME, V3,
				    &snr->server_name);
	if (!err)
		err = dia_add_u32(r, DIA_AVP_SUBS_REQ_TYPE, V3,
				  snr->subs_req_type);
	if (!err)
		err = add_all_u32(r, DIA_AVP_DATA_REFERENCE, snr->dref,
				  snr->dref_n);
	if (!err)
		err = add_all_u32(r, DIA_AVP_IDENTITY_SET, snr->idset,
				  snr->idset_n);
	if (!err && snr->has_expiry)
		err = dia_add_time(r, DIA_AVP_EXPIRY_TIME, V3, snr->expiry);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &snr->impi);
	return cx_msg_finish(reqp, req, err);
}


int sh_snr_decode(const struct dia_msg *req, struct sh_snr *snr)
{
	const struct dia_avp *a;
	uint32_t u;
	int err = cx_msg_check(req, DIA_APP_SH, DIA_CMD_SN, true);

	if (err)
		return err;
	memset(snr, 0, sizeof(*snr));
	snr->send_data = -1;
	err = uid_get(&req->root, &snr->uid);
	if (!err)
		err = cx_get_opt_pl(&req->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &snr->wildcarded);
	if (!err)
		err = cx_get_all_pl(&req->root, DIA_AVP_SERVICE_INDICATION, V3,
				    snr->si, SH_SI_MAX, &snr->si_n);
	if (!err) {
		err = dia_get_u32(&req->root, DIA_AVP_SEND_DATA_INDICATION, V3,
				  &u);
		if (!err)
			snr->send_data = u ? 1 : 0;
		else if (err == ENOENT)
			err = 0;
	}
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_SERVER_NAME, V3,
				    &snr->server_name);
	if (!err)
		err = dia_get_u32(&req->root, DIA_AVP_SUBS_REQ_TYPE, V3,
				  &snr->subs_req_type);
	if (!err)
		err = get_all_u32(&req->root, DIA_AVP_DATA_REFERENCE, snr->dref,
				  SH_DREF_MAX, &snr->dref_n);
	if (!err)
		err = get_all_u32(&req->root, DIA_AVP_IDENTITY_SET, snr->idset,
				  SH_IDSET_MAX, &snr->idset_n);
	a = dia_avp_find(&req->root, DIA_AVP_EXPIRY_TIME, V3);
	if (!err && a) {
		err = dia_avp_time(a, &snr->expiry);
		snr->has_expiry = !err;
	}
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_USER_NAME, 0,
				    &snr->impi);
	if (!err)
		err = cx_features_get(&req->root, &snr->feat);
	if (!err && !snr->dref_n)
		err = EBADMSG;
	return err ? EBADMSG : 0;
}


int sh_sna_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct sh_sna *sna)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!sna)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &sna->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &sna->feat);
	if (!err)
		err = cx_add_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &sna->wildcarded);
	if (!err)
		err = cx_add_opt_pl(&ans->root, DIA_AVP_SH_USER_DATA, V3,
				    &sna->user_data);
	if (!err && sna->has_expiry)
		err = dia_add_time(&ans->root, DIA_AVP_EXPIRY_TIME, V3,
				   sna->expiry);
	return cx_msg_finish(ansp, ans, err);
}


int sh_sna_decode(const struct dia_msg *ans, struct sh_sna *sna)
{
	const struct dia_avp *a;
	int err = cx_msg_check(ans, DIA_APP_SH, DIA_CMD_SN, false);

	if (err)
		return err;
	memset(sna, 0, sizeof(*sna));
	err = cx_result_get(ans, &sna->res);
	if (!err)
		err = cx_get_opt_pl(&ans->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &sna->wildcarded);
	if (!err)
		err = cx_get_opt_pl(&ans->root, DIA_AVP_SH_USER_DATA, V3,
				    &sna->user_data);
	a = dia_avp_find(&ans->root, DIA_AVP_EXPIRY_TIME, V3);
	if (!err && a) {
		err = dia_avp_time(a, &sna->expiry);
		sna->has_expiry = !err;
	}
	if (!err)
		err = cx_features_get(&ans->root, &sna->feat);
	return err ? EBADMSG : 0;
}


/* ---- PNR / PNA: TS 29.329 6.1.7, 6.1.8 ---- */

int sh_pnr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_pnr *pnr)
{
	struct dia_msg *req = NULL;
	struct dia_avp *r;
	int err;

	/* Destination-Host is mandatory in a PNR: it goes to the AS that
	 * subscribed */
	if (!pnr || !rt || !pl_isset(&rt->dest_host) || !uid_ok(&pnr->uid) ||
	    !pl_isset(&pnr->user_data))
		return EINVAL;
	err = cx_request_alloc(&req, DIA_APP_SH, DIA_CMD_PN, rt);
	if (err)
		return err;
	r = &req->root;
	err = cx_add_features(r, &pnr->feat);
	if (!err)
		err = add_uid(r, &pnr->uid);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pnr->wildcarded);
	if (!err)
		err = cx_add_opt_pl(r, DIA_AVP_USER_NAME, 0, &pnr->impi);
	if (!err)
		err = dia_add_pl(r, DIA_AVP_SH_USER_DATA, V3, &pnr->user_data);
	return cx_msg_finish(reqp, req, err);
}


int sh_pnr_decode(const struct dia_msg *req, struct sh_pnr *pnr)
{
	int err = cx_msg_check(req, DIA_APP_SH, DIA_CMD_PN, true);

	if (err)
		return err;
	memset(pnr, 0, sizeof(*pnr));
	err = uid_get(&req->root, &pnr->uid);
	if (!err)
		err = cx_get_opt_pl(&req->root,
				    DIA_AVP_WILDCARDED_PUBLIC_IDENTITY, V3,
				    &pnr->wildcarded);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_USER_NAME, 0,
				    &pnr->impi);
	if (!err)
		err = cx_get_opt_pl(&req->root, DIA_AVP_SH_USER_DATA, V3,
				    &pnr->user_data);
	if (!err)
		err = cx_features_get(&req->root, &pnr->feat);
	if (!err && !pl_isset(&pnr->user_data))
		err = EBADMSG;
	return err ? EBADMSG : 0;
}


int sh_pna_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o, const struct sh_pna *pna)
{
	struct dia_msg *ans = NULL;
	int err;

	if (!pna)
		return EINVAL;
	err = cx_answer_alloc(&ans, req, o, &pna->res);
	if (err)
		return err;
	err = cx_add_features(&ans->root, &pna->feat);
	return cx_msg_finish(ansp, ans, err);
}


int sh_pna_decode(const struct dia_msg *ans, struct sh_pna *pna)
{
	int err = cx_msg_check(ans, DIA_APP_SH, DIA_CMD_PN, false);

	if (err)
		return err;
	memset(pna, 0, sizeof(*pna));
	err = cx_result_get(ans, &pna->res);
	if (!err)
		err = cx_features_get(&ans->root, &pna->feat);
	return err ? EBADMSG : 0;
}
