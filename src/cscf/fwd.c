/**
 * @file fwd.c  Stateful forwarding for the CSCF roles.
 *
 * One client transaction per forwarded request, no forking: the CSCFs
 * choose one next hop themselves (TS 24.229 5.2.2, 5.3.1.2).  The request
 * is rebuilt with our Via on top (RFC 3261 16.6 step 8, branch from the
 * stack's generator, rport RFC 3581) and Max-Forwards decremented (step
 * 3); everything else is copied as the role's rewrite left it.  Responses
 * lose their top Via (16.7 step 3) and go back through the server
 * transaction, which knows where the request came from (18.2.2).
 */
#include "cscf/fwd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/pl.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "sip/uri.h"

#define FWD_MSG_MAX 65535


/* Destination of a sip/sips URI with a numeric host (RFC 3263 4.1/4.2
 * for the transport and port). */
static int uri_dest(const struct pl *text, enum sip_transp *tp, struct sa *dst)
{
	struct sip_uri u;
	struct pl t, host;

	if (sip_uri_decode(&u, text))
		return EBADMSG;
	if (u.sch != SIP_SCHEME_SIP && u.sch != SIP_SCHEME_SIPS)
		return EPROTONOSUPPORT;
	*tp = u.sch == SIP_SCHEME_SIPS ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	if (!sip_param_get(&u.params, "transport", &t)) {
		if (pl_eq_str_ci(&t, "tcp"))
			*tp = u.sch == SIP_SCHEME_SIPS ? SIP_TRANSP_TLS
						       : SIP_TRANSP_TCP;
		else if (pl_eq_str_ci(&t, "tls"))
			*tp = SIP_TRANSP_TLS;
		else if (!pl_eq_str_ci(&t, "udp"))
			return EPROTONOSUPPORT;
	}
	host = u.host;
	if (host.l > 2 && host.p[0] == '[') {
		host.p++;
		host.l -= 2;
	}
	if (sa_set_pl(dst, &host, sip_uri_port(&u)))
		return EHOSTUNREACH;
	if (*tp == SIP_TRANSP_TLS && !u.port)
		sa_set_port(dst, 5061);
	return 0;
}


/* The URI of the first Route value (loose routing, RFC 3261 16.12). */
static int top_route(const struct sip_msg *req, struct pl *uri)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_ROUTE);
	struct pl rest, v;
	const char *lt, *gt;

	if (!h)
		return ENOENT;
	rest = h->val;
	if (!sip_value_split(&rest, &v))
		return EBADMSG;
	lt = memchr(v.p, '<', v.l);
	gt = lt ? memchr(lt, '>', (size_t)(v.p + v.l - lt)) : NULL;
	if (!lt || !gt)
		return EBADMSG;
	pl_set(uri, lt + 1, (size_t)(gt - lt - 1));
	return 0;
}


static int hop_dest(const struct sip_msg *req, const struct cscf_hop *hop,
		    enum sip_transp *tp, struct sa *dst)
{
	struct pl uri;
	int err;

	if (hop && hop->has_flow) {
		*tp = hop->tp;
		*dst = hop->dst;
		return 0;
	}
	if (hop && hop->uri && *hop->uri) {
		pl_set_str(&uri, hop->uri);
		return uri_dest(&uri, tp, dst);
	}
	err = top_route(req, &uri);
	if (err == ENOENT)
		uri = req->ruri;
	else if (err)
		return err;
	return uri_dest(&uri, tp, dst);
}


static int build(struct buf *mb, struct sip *sip, struct sip_msg *req,
		 enum sip_transp tp, const struct sa *dst, uint32_t maxfwd,
		 const char *rr)
{
	const struct sa *la =
		sip->transp ? sip_transp_laddr(sip->transp, tp, sa_af(dst))
			    : NULL;
	char host[64] = "127.0.0.1", branch[SIP_BRANCH_LEN];
	bool mf = false;
	uint16_t i, rr_at;
	int err;

	if (la && !sa_is_any(la))
		(void)sa_host_fmt(la, host, sizeof(host));
	sip_branch_new(sip, branch, sizeof(branch));
	err = buf_printf(mb,
			 "%.*s %.*s SIP/2.0\r\nVia: SIP/2.0/%s %s%s%s:%u"
			 ";branch=%s;rport\r\n",
			 (int)req->met.l, req->met.p, (int)req->ruri.l,
			 req->ruri.p, sip_transp_name(tp),
			 sa_af(dst) == AF_INET6 ? "[" : "", host,
			 sa_af(dst) == AF_INET6 ? "]" : "",
			 la ? sa_port(la) : 5060, branch);
	/* our Record-Route goes above every other one (RFC 3261 16.6 step
	 * 4): before the first Record-Route line, else after the Vias */
	rr_at = req->last[SIP_HDR_VIA];
	for (i = 0; i < req->hdrc; i++) {
		if (req->hdrv[i].id == SIP_HDR_RECORD_ROUTE) {
			rr_at = i;
			break;
		}
	}
	for (i = 0; i <= req->hdrc && !err; i++) {
		const struct sip_hdr *h;

		if (i == rr_at && rr && *rr)
			err = buf_printf(mb, "Record-Route: %s\r\n", rr);
		if (err || i == req->hdrc)
			break;
		h = &req->hdrv[i];

		if (h->id == SIP_HDR_CONTENT_LENGTH)
			continue; /* written once, below */
		if (h->id == SIP_HDR_MAX_FORWARDS) {
			if (!mf)
				err = buf_printf(mb, "Max-Forwards: %u\r\n",
						 maxfwd - 1);
			mf = true;
			continue;
		}
		err = buf_printf(mb, "%.*s: %.*s\r\n", (int)h->name.l,
				 h->name.p, (int)h->val.l, h->val.p);
	}
	if (!err && !mf)
		err = buf_printf(mb, "Max-Forwards: %u\r\n", maxfwd - 1);
	if (!err)
		err = buf_printf(mb, "Content-Length: %zu\r\n\r\n",
				 req->body.l);
	if (!err)
		err = buf_write_pl(mb, &req->body);
	return err;
}


/* The request with our Via, in *mbp, and where it goes. */
static int prepare(struct buf **mbp, struct sip *sip, struct sip_msg *req,
		   const struct cscf_hop *hop, enum sip_transp *tp,
		   struct sa *dst)
{
	uint32_t maxfwd = 70;
	int err;

	if (sip_msg_hdr(req, SIP_HDR_MAX_FORWARDS)) {
		err = sip_msg_maxfwd(req, &maxfwd);
		if (err)
			return err;
		if (!maxfwd)
			return ELOOP; /* 16.3 step 3 */
	}
	err = hop_dest(req, hop, tp, dst);
	if (err)
		return err;
	err = buf_alloc(mbp, req->len + 256, FWD_MSG_MAX);
	if (err)
		return err;
	err = build(*mbp, sip, req, *tp, dst, maxfwd, hop ? hop->rr : NULL);
	if (err)
		*mbp = mem_deref(*mbp);
	return err;
}


int cscf_fwd_request(struct sip_ctrans **ctp, struct sip *sip,
		     struct sip_msg *req, const struct cscf_hop *hop,
		     cscf_fwd_h *h, void *arg)
{
	struct sip_ctrans_opts o = { 0 };
	struct buf *mb = NULL;
	int err;

	if (!sip || !req || !req->req || !h)
		return EINVAL;
	err = prepare(&mb, sip, req, hop, &o.tp, &o.dst);
	if (err)
		return err;
	o.req = mb->b;
	o.len = mb->end;
	o.conn = hop && hop->has_flow ? hop->conn : NULL;
	err = sip_ctrans_alloc(ctp, sip, &o, h, arg);
	mem_deref(mb);
	return err;
}


int cscf_fwd_stateless(struct sip *sip, struct sip_msg *req,
		       const struct cscf_hop *hop)
{
	struct buf *mb = NULL;
	enum sip_transp tp;
	struct sa dst;
	int err;

	if (!sip || !req || !req->req)
		return EINVAL;
	err = prepare(&mb, sip, req, hop, &tp, &dst);
	if (err)
		return err;
	err = sip_send(sip, tp, &dst, hop && hop->has_flow ? hop->conn : NULL,
		       mb->b, mb->end);
	mem_deref(mb);
	return err;
}


int cscf_fwd_response(struct sip_strans *st, struct sip_msg *resp)
{
	const struct sip_hdr *h;
	const char *cut_from, *cut_to, *end;
	struct buf *mb = NULL;
	struct pl rest, v;
	int err;

	if (!st || !resp || resp->req)
		return EINVAL;
	h = sip_msg_hdr(resp, SIP_HDR_VIA);
	if (!h)
		return EBADMSG;
	end = resp->p + resp->len;
	rest = h->val;
	if (!sip_value_split(&rest, &v))
		return EBADMSG;
	if (!rest.p || !rest.l) {
		/* the line held one value: the whole line goes */
		cut_from = h->name.p;
		cut_to = memchr(h->val.p + h->val.l, '\n',
				(size_t)(end - (h->val.p + h->val.l)));
		if (!cut_to)
			return EBADMSG;
		cut_to++;
	} else {
		cut_from = h->val.p;
		cut_to = rest.p;
	}
	err = buf_alloc(&mb, resp->len, FWD_MSG_MAX);
	if (err)
		return err;
	err = buf_write(mb, resp->p, (size_t)(cut_from - resp->p));
	if (!err)
		err = buf_write(mb, cut_to, (size_t)(end - cut_to));
	if (!err)
		err = sip_strans_send_raw(st, resp->scode, mb->b, mb->end);
	mem_deref(mb);
	return err;
}


uint16_t cscf_fwd_scode(int err)
{
	switch (err) {
	case ELOOP:
		return 483;
	case EPROTONOSUPPORT:
		return 416;
	case EHOSTUNREACH:
	case ECONNREFUSED:
		return 502;
	case ETIMEDOUT:
		return 408;
	default:
		return 500;
	}
}
