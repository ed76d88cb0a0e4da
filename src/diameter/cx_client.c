/**
 * @file cx_client.c  The Cx client of the CSCFs (cx_client.h), and the
 *                    typed call and server machinery Sh shares
 *                    (cx_client_int.h).
 *
 * Design.  The client is thin on purpose: all transport semantics
 * (routing, Dx redirects, failover, duplicate detection, timeouts, the
 * in-process path) belong to the node, so the socket path and the
 * in-process path cannot drift apart here.  A call is three steps:
 * build the common head from the node's identity and the options
 * (cxc_route), encode the typed request (cx.h), and hand it to
 * dia_node_request() with a small context that remembers the typed
 * handler.  The node answers from its loop, never inside the call; the
 * context checks that the answer is the command's answer, decodes it
 * into the typed struct on the stack and calls the handler once.  The
 * decoded views point into the answer, which lives for the duration of
 * the call, as dia_resp_h promises.
 *
 * The server side wraps one dia_node_handle() per command.  Its request
 * object (struct cx_srv_req) holds the node's dia_srv_req, so a handler
 * may answer later; the answer is owed exactly once, so the object
 * records whether it went out and, when its last reference goes without
 * one, answers 5012 UNABLE_TO_COMPLY itself: a request dropped silently
 * would leave the HSS waiting for its timeout, and an RTR without RTA
 * leaves the user registered in the HSS (only a 2001 RTA changes the
 * state, TS 29.228 6.1.3).
 */
#include "diameter/cx_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "diameter/avp.h"
#include "diameter/cx_client_int.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"

#define LOG_MODULE "cx"

#define SID_MAX (DIA_IDENTITY_MAX + 64)

#define V3 DIA_VENDOR_3GPP


static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}


/* ---- calls ---- */

struct call {
	cxc_deliver_h *deliver;
	cxc_fn *h;
	void *arg;
	uint32_t app;
	uint32_t code;
};


/**
 * The head of a request: Origin-Host/Realm the node's, Destination-Realm
 * opts' or the node's (the home network), Destination-Host opts', a
 * Session-Id opts' or a new one (RFC 6733 8.8).
 *
 * @return 0, EINVAL, ENOSPC (an identity too long for a Session-Id)
 */
int cxc_route(struct dia_node *node, const struct cx_client_opts *opts,
	      struct cx_route *rt, char *sid, size_t sidsize)
{
	int err;

	if (!node || !rt || !sid)
		return EINVAL;
	memset(rt, 0, sizeof(*rt));
	rt->origin_host = cx_pl(dia_node_identity(node));
	rt->origin_realm = cx_pl(dia_node_realm(node));
	rt->dest_realm =
		cx_pl(opts && nz(opts->dest_realm) ? opts->dest_realm
						   : dia_node_realm(node));
	rt->dest_host = cx_pl(opts ? nz(opts->dest_host) : NULL);
	if (opts && nz(opts->session_id)) {
		rt->session_id = cx_pl(opts->session_id);
		return 0;
	}
	err = dia_node_session_id(node, NULL, sid, sidsize);
	if (!err)
		rt->session_id = cx_pl(sid);
	return err;
}


static void call_resp(int err, const struct dia_msg *ans, void *arg)
{
	struct call *c = arg;
	struct cx_origin from;

	memset(&from, 0, sizeof(from));
	if (!err) {
		/* the node matched it by Hop-by-Hop id (or handed it over
		 * in-process): still, only the command's answer decodes */
		if (ans->app != c->app || ans->code != c->code ||
		    dia_msg_is_request(ans) ||
		    dia_get_pl(&ans->root, DIA_AVP_ORIGIN_HOST, 0,
			       &from.host) ||
		    dia_get_pl(&ans->root, DIA_AVP_ORIGIN_REALM, 0,
			       &from.realm)) {
			LOG_WARN(NULL, "answer %u/%u is not the answer to %u",
				 ans->app, ans->code, c->code);
			err = EBADMSG;
		}
	} else {
		LOG_DEBUG(NULL, "request %u: %s", c->code, log_strerror(err));
	}
	c->deliver(err, err ? NULL : ans, err ? NULL : &from, c->h, c->arg);
	mem_deref(c);
}


/**
 * Send a request built by the caller and have deliver decode its answer.
 *
 * @return 0 (deliver runs once, later), or EINVAL, EHOSTUNREACH, ENOMEM
 *         (it will not)
 */
int cxc_send(struct dia_node *node, struct dia_msg *req,
	     const struct cx_client_opts *opts, cxc_deliver_h *deliver,
	     cxc_fn *h, void *arg)
{
	struct dia_req_opts o;
	struct call *c;
	int err;

	if (!node || !req || !deliver || !h)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return ENOMEM;
	c->deliver = deliver;
	c->h = h;
	c->arg = arg;
	c->app = req->app;
	c->code = req->code;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = opts ? opts->timeout_ms : 0;
	err = dia_node_request(node, req, &o, call_resp, c);
	if (err) {
		LOG_INFO(NULL, "request %u refused: %s", req->code,
			 log_strerror(err));
		mem_deref(c);
	}
	return err;
}


/**
 * The answer did not decode as its command's: EBADMSG to the handler.
 *
 * @param derr  the decoder's error
 * @param code  the command, for the log
 * @return 0 or EBADMSG
 */
int cxc_decoded(int derr, uint32_t code)
{
	if (!derr)
		return 0;
	LOG_WARN(NULL, "answer %u does not decode: %s", code,
		 log_strerror(derr));
	return EBADMSG;
}


/**
 * Route, encode and send one request of a command (cxc_route, the
 * command's encoder, cxc_send).
 *
 * @param node  the client's node
 * @param cmd   the command's encoder and deliver function
 * @param body  the typed request
 * @param opts  destination, Session-Id, timeout (may be NULL)
 * @param h     the typed handler, called once and later on success
 * @param arg   for h
 * @return 0, or EINVAL, EHOSTUNREACH, ENOMEM (h will not be called)
 */
int cxc_call(struct dia_node *node, const struct cxc_cmd *cmd, const void *body,
	     const struct cx_client_opts *opts, cxc_fn *h, void *arg)
{
	struct dia_msg *req = NULL;
	struct cx_route rt;
	char sid[SID_MAX];
	int err;

	if (!cmd || !body || !h)
		return EINVAL;
	err = cxc_route(node, opts, &rt, sid, sizeof(sid));
	if (!err)
		err = cmd->encode(&req, &rt, body);
	if (!err)
		err = cxc_send(node, req, opts, cmd->deliver, h, arg);
	mem_deref(req);
	return err;
}


static void uaa_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	cx_uaa_h *h = (cx_uaa_h *)fn;
	struct cx_uaa uaa;

	if (!err)
		err = cxc_decoded(cx_uaa_decode(ans, &uaa), DIA_CMD_UA);
	h(err, err ? NULL : &uaa, err ? NULL : from, arg);
}


static void saa_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	cx_saa_h *h = (cx_saa_h *)fn;
	struct cx_saa saa;

	if (!err)
		err = cxc_decoded(cx_saa_decode(ans, &saa), DIA_CMD_SA);
	h(err, err ? NULL : &saa, err ? NULL : from, arg);
}


static void lia_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	cx_lia_h *h = (cx_lia_h *)fn;
	struct cx_lia lia;

	if (!err)
		err = cxc_decoded(cx_lia_decode(ans, &lia), DIA_CMD_LI);
	h(err, err ? NULL : &lia, err ? NULL : from, arg);
}


static void maa_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	cx_maa_h *h = (cx_maa_h *)fn;
	struct cx_auth_item *items = NULL;
	const struct dia_avp *g;
	struct cx_maa maa;
	size_t n = 0;

	memset(&maa, 0, sizeof(maa));
	if (!err) {
		/* room for every item the answer has (bounded by its size,
		 * DIA_MSG_MAX): the HSS decides how many, TS 29.228 6.3 */
		for (g = dia_avp_find(&ans->root, DIA_AVP_SIP_AUTH_DATA_ITEM,
				      V3);
		     g; g = dia_avp_next(g))
			n++;
		if (n && !(items = mem_zalloc(n * sizeof(*items), NULL)))
			err = ENOMEM;
	}
	if (!err) {
		maa.item = items;
		maa.item_max = n;
		err = cxc_decoded(cx_maa_decode(ans, &maa), DIA_CMD_MA);
	}
	h(err, err ? NULL : &maa, err ? NULL : from, arg);
	mem_deref(items);
}


static int uar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return cx_uar_encode(reqp, rt, body);
}

static const struct cxc_cmd uar_cmd = { uar_encode, uaa_deliver };


/**
 * User-Authorization-Request (TS 29.228 6.1.1), from the I-CSCF.
 *
 * @param node  the I-CSCF's node
 * @param uar   the request (impi, impu, visited network mandatory)
 * @param opts  destination, Session-Id, timeout (may be NULL)
 * @param h     gets the UAA, or why there is none, once and later
 * @param arg   for h
 * @return 0, or EINVAL, EHOSTUNREACH, ENOMEM (h will not be called)
 */
int cx_client_uar(struct dia_node *node, const struct cx_uar *uar,
		  const struct cx_client_opts *opts, cx_uaa_h *h, void *arg)
{
	return cxc_call(node, &uar_cmd, uar, opts, (cxc_fn *)h, arg);
}


static int sar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return cx_sar_encode(reqp, rt, body);
}

static const struct cxc_cmd sar_cmd = { sar_encode, saa_deliver };


/**
 * Server-Assignment-Request (TS 29.228 6.1.2), from the S-CSCF; opts'
 * dest_host is the HSS that answered its MAR (the SLF is not asked
 * again).
 *
 * @return as cx_client_uar
 */
int cx_client_sar(struct dia_node *node, const struct cx_sar *sar,
		  const struct cx_client_opts *opts, cx_saa_h *h, void *arg)
{
	return cxc_call(node, &sar_cmd, sar, opts, (cxc_fn *)h, arg);
}


static int lir_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return cx_lir_encode(reqp, rt, body);
}

static const struct cxc_cmd lir_cmd = { lir_encode, lia_deliver };


/**
 * Location-Info-Request (TS 29.228 6.1.4), from the I-CSCF.
 *
 * @return as cx_client_uar
 */
int cx_client_lir(struct dia_node *node, const struct cx_lir *lir,
		  const struct cx_client_opts *opts, cx_lia_h *h, void *arg)
{
	return cxc_call(node, &lir_cmd, lir, opts, (cxc_fn *)h, arg);
}


static int mar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return cx_mar_encode(reqp, rt, body);
}

static const struct cxc_cmd mar_cmd = { mar_encode, maa_deliver };


/**
 * Multimedia-Auth-Request (TS 29.228 6.3), from the S-CSCF; the MAA's
 * items are decoded into an array that lives for the handler's call.
 *
 * @return as cx_client_uar
 */
int cx_client_mar(struct dia_node *node, const struct cx_mar *mar,
		  const struct cx_client_opts *opts, cx_maa_h *h, void *arg)
{
	return cxc_call(node, &mar_cmd, mar, opts, (cxc_fn *)h, arg);
}


/* ---- the server side ---- */

struct cx_srv_req {
	struct dia_srv_req *dsr; /* counted */
	struct dia_node *node;   /* counted: the answer's Origin-Host */
	bool answered;
};


static void srv_destructor(void *arg)
{
	struct cx_srv_req *sr = arg;

	/* the answer is owed (see the file comment): 5012 */
	if (!sr->answered && dia_node_answer(sr->dsr, ECANCELED, NULL))
		LOG_DEBUG(NULL, "request dropped unanswered: answered already");
	mem_deref(sr->dsr);
	mem_deref(sr->node);
}


static int serve_h(const struct dia_msg *req, struct dia_msg **ansp,
		   struct dia_srv_req *dsr, void *arg)
{
	struct cx_serve *s = arg;
	struct dia_msg *ans = NULL;
	struct cx_srv_req *sr;
	int err;

	sr = mem_zalloc(sizeof(*sr), srv_destructor);
	if (!sr)
		return ENOMEM;
	sr->dsr = mem_ref(dsr);
	sr->node = mem_ref(s->node);
	err = s->call(s, req, sr, &ans);
	if (err == EBADMSG && !sr->answered) {
		/* The node checked the grammar (RFC 6733 7.1.5 5005 and
		 * friends); what is left is a value this side cannot use
		 * (an empty identity, too many of them): 5004. */
		struct cx_result res = { DIA_INVALID_AVP_VALUE, 0 };
		struct cx_origin o;

		LOG_INFO(NULL, "request %u from %s does not decode", req->code,
			 dia_srv_req_peer(dsr)[0] ? dia_srv_req_peer(dsr)
						  : "(in-process)");
		cxs_origin(sr, &o);
		mem_deref(ans);
		ans = NULL;
		err = cx_answer_alloc(&ans, req, &o, &res);
	}
	if (!err && ans && !sr->answered) {
		sr->answered = true;
		*ansp = ans;
		ans = NULL;
	} else if (!err || err == EINPROGRESS) {
		/* answered through sr already, or will be (the handler
		 * holds sr; if not, the destructor answers) */
		err = EINPROGRESS;
	} else {
		sr->answered = true; /* the node answers err */
	}
	mem_deref(ans);
	mem_deref(sr);
	return err;
}


/**
 * Serve (app, code) on node with a typed call function (cx_client_int.h).
 *
 * @return 0, EINVAL, EEXIST (served already), ENOMEM
 */
int cxs_register(struct cx_serve **sp, struct dia_node *node, uint32_t app,
		 uint32_t code, cxs_call_h *call, cxc_fn *h, void *arg)
{
	struct cx_serve *s;
	int err;

	if (!sp || !node || !call || !h)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return ENOMEM;
	s->node = node;
	s->app = app;
	s->code = code;
	s->call = call;
	s->h = h;
	s->arg = arg;
	err = dia_node_handle(node, app, code, serve_h, s);
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}


void cxs_origin(const struct cx_srv_req *sr, struct cx_origin *o)
{
	o->host = cx_pl(dia_node_identity(sr->node));
	o->realm = cx_pl(dia_node_realm(sr->node));
}


int cxs_answer(struct cx_srv_req *sr, struct dia_msg *ans)
{
	int err;

	if (!sr || !ans)
		return EINVAL;
	if (sr->answered)
		return EALREADY;
	err = dia_node_answer(sr->dsr, 0, ans);
	if (!err || err == EALREADY)
		sr->answered = true;
	return err;
}


bool cxs_answered(const struct cx_srv_req *sr)
{
	return sr->answered;
}


const struct dia_msg *cxs_req(const struct cx_srv_req *sr, uint32_t app,
			      uint32_t code)
{
	const struct dia_msg *req = sr ? dia_srv_req_msg(sr->dsr) : NULL;

	return req && req->app == app && req->code == code ? req : NULL;
}


/**
 * Encode the answer of a handler that returned 0 (nothing when it answered
 * through sr already), from this node's Origin-Host/Realm.
 *
 * @return 0, or the encoder's error
 */
int cxs_encode(const struct cx_srv_req *sr, const struct dia_msg *req,
	       cxs_encode_h *enc, const void *body, struct dia_msg **ansp)
{
	struct cx_origin o;

	if (cxs_answered(sr))
		return 0;
	cxs_origin(sr, &o);
	return enc(ansp, req, &o, body);
}


/**
 * Answer sr later (its handler returned EINPROGRESS).
 *
 * @param sr    the request, still referenced by the caller
 * @param app   the application it must be
 * @param code  the command it must be
 * @param enc   the answer's encoder
 * @param body  the typed answer
 * @return 0, EINVAL (sr is not that command), EALREADY, ENOMEM
 */
int cxs_answer_later(struct cx_srv_req *sr, uint32_t app, uint32_t code,
		     cxs_encode_h *enc, const void *body)
{
	const struct dia_msg *req = cxs_req(sr, app, code);
	struct dia_msg *ans = NULL;
	int err;

	if (!req || !body)
		return EINVAL;
	if (sr->answered)
		return EALREADY;
	err = cxs_encode(sr, req, enc, body, &ans);
	if (!err)
		err = cxs_answer(sr, ans);
	mem_deref(ans);
	return err;
}


const struct dia_msg *cx_srv_req_msg(const struct cx_srv_req *sr)
{
	return sr ? dia_srv_req_msg(sr->dsr) : NULL;
}


const char *cx_srv_req_peer(const struct cx_srv_req *sr)
{
	return sr ? dia_srv_req_peer(sr->dsr) : "";
}


static int rta_encode(struct dia_msg **ansp, const struct dia_msg *req,
		      const struct cx_origin *o, const void *body)
{
	return cx_rta_encode(ansp, req, o, body);
}


static int rtr_call(const struct cx_serve *s, const struct dia_msg *req,
		    struct cx_srv_req *sr, struct dia_msg **ansp)
{
	cx_rtr_h *h = (cx_rtr_h *)s->h;
	struct cx_rtr rtr;
	struct cx_rta rta;
	int err;

	if (cx_rtr_decode(req, &rtr))
		return EBADMSG;
	memset(&rta, 0, sizeof(rta));
	rta.res.code = DIA_SUCCESS;
	err = h(&rtr, &rta, sr, s->arg);
	return err ? err : cxs_encode(sr, req, rta_encode, &rta, ansp);
}


static int ppa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		      const struct cx_origin *o, const void *body)
{
	return cx_ppa_encode(ansp, req, o, body);
}


static int ppr_call(const struct cx_serve *s, const struct dia_msg *req,
		    struct cx_srv_req *sr, struct dia_msg **ansp)
{
	cx_ppr_h *h = (cx_ppr_h *)s->h;
	struct cx_ppr ppr;
	struct cx_ppa ppa;
	int err;

	if (cx_ppr_decode(req, &ppr))
		return EBADMSG;
	memset(&ppa, 0, sizeof(ppa));
	ppa.res.code = DIA_SUCCESS;
	err = h(&ppr, &ppa, sr, s->arg);
	return err ? err : cxs_encode(sr, req, ppa_encode, &ppa, ansp);
}


/**
 * Serve Registration-Termination-Requests (TS 29.228 6.1.3) on node.
 *
 * @param sp    receives the registration (mem_deref after the node closed)
 * @param node  the S-CSCF's node
 * @param h     decoded RTR in, RTA out
 * @param arg   for h
 * @return 0, EINVAL, EEXIST, ENOMEM
 */
int cx_client_serve_rtr(struct cx_serve **sp, struct dia_node *node,
			cx_rtr_h *h, void *arg)
{
	return cxs_register(sp, node, DIA_APP_CX, DIA_CMD_RT, rtr_call,
			    (cxc_fn *)h, arg);
}


/**
 * Serve Push-Profile-Requests (TS 29.228 6.2.2) on node.
 *
 * @return as cx_client_serve_rtr
 */
int cx_client_serve_ppr(struct cx_serve **sp, struct dia_node *node,
			cx_ppr_h *h, void *arg)
{
	return cxs_register(sp, node, DIA_APP_CX, DIA_CMD_PP, ppr_call,
			    (cxc_fn *)h, arg);
}


/**
 * Answer an RTR later (its handler returned EINPROGRESS).
 *
 * @param sr   the request, still referenced by the caller
 * @param rta  the answer
 * @return 0, EINVAL (sr is not an RTR), EALREADY, ENOMEM
 */
int cx_srv_rta(struct cx_srv_req *sr, const struct cx_rta *rta)
{
	return cxs_answer_later(sr, DIA_APP_CX, DIA_CMD_RT, rta_encode, rta);
}


/**
 * Answer a PPR later (its handler returned EINPROGRESS).
 *
 * @return as cx_srv_rta
 */
int cx_srv_ppa(struct cx_srv_req *sr, const struct cx_ppa *ppa)
{
	return cxs_answer_later(sr, DIA_APP_CX, DIA_CMD_PP, ppa_encode, ppa);
}
