/**
 * @file fwd.c  Stateful forwarding for the CSCF roles.
 *
 * One client transaction at a time per forwarded request, no forking: the
 * CSCFs choose one next hop themselves (TS 24.229 5.2.2, 5.3.1.2).  The
 * request is rebuilt with our Via on top (RFC 3261 16.6 step 8, branch
 * from the stack's generator, rport RFC 3581) and Max-Forwards
 * decremented (step 3); everything else is copied as the role's rewrite
 * left it.  Responses lose their top Via (16.7 step 3) and go back through
 * the server transaction, which knows where the request came from
 * (18.2.2).
 *
 * Next hops (16.6 step 6): a flow, else the hop's URI, else the top
 * Route, else the Request-URI.  A numeric host is sent to at once (RFC
 * 3263 4.1/4.2 give transport and port from the URI alone).  A name goes
 * to the resolver (sip/dns.c: NAPTR, SRV, A/AAAA, cached); the request is
 * copied and sent from the resolver's callback.  The targets are kept in
 * the order RFC 3263 4.3 says to try them: a transport error, a timeout
 * or a 503 before any provisional response sends the request again, with
 * a new branch (our Via is rebuilt for the target's transport), to the
 * next one; the role sees only the last outcome.  A cancelled request
 * tries no further target.
 */
#include "cscf/fwd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/pl.h"
#include "sip/ctrans.h"
#include "sip/dns.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "sip/uri.h"

#define LOG_MODULE  "fwd"
#define FWD_MSG_MAX 65535

struct cscf_fwd {
	struct sip *sip;         /* the role's: outlives its requests */
	struct sip_msg *req;     /* counted copy, when a lookup was needed */
	struct sip_ctrans *ct;   /* the transaction to the current target */
	struct sip_dns_query *q; /* the lookup, while it runs */
	char *rr;                /* our Record-Route value, or NULL */
	/* RFC 3263 4.3: the targets, tried in this order */
	struct sip_dns_target tv[SIP_DNS_TARGETS_MAX];
	size_t tc, next;
	uint32_t maxfwd;
	cscf_fwd_h *h;
	void *arg;
	bool stateless;   /* an ACK: released after its one send */
	bool provisional; /* a 1xx came: no failover (RFC 3263 4.3) */
	bool cancelled;
};


static void fwd_destructor(void *arg)
{
	struct cscf_fwd *f = arg;

	mem_deref(f->q); /* a lookup still running: dropped */
	mem_deref(f->ct);
	mem_deref(f->req);
	mem_deref(f->rr);
}


/* The URI a request goes to (16.6 step 6), as text. */
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


/*
 * Where req goes: 0 with *t filled (a flow, or a numeric host), EAGAIN
 * with *uri decoded for a name (it points into req or hop->uri), or the
 * error (EPROTONOSUPPORT for tel: or an unknown transport, EBADMSG).
 */
static int hop_target(const struct sip_msg *req, const struct cscf_hop *hop,
		      struct sip_dns_target *t, struct sip_uri *uri)
{
	struct pl text;
	int err;

	if (hop && hop->has_flow) {
		t->tp = hop->tp;
		t->addr = hop->dst;
		return 0;
	}
	if (hop && hop->uri && *hop->uri) {
		pl_set_str(&text, hop->uri);
	} else {
		err = top_route(req, &text);
		if (err == ENOENT)
			text = req->ruri;
		else if (err)
			return err;
	}
	if (sip_uri_decode(uri, &text))
		return EBADMSG;
	if (uri->sch != SIP_SCHEME_SIP && uri->sch != SIP_SCHEME_SIPS)
		return EPROTONOSUPPORT;
	/* RFC 3263 4.1/4.2: a numeric host (or maddr) needs no lookup */
	return sip_dns_numeric(uri, t);
}


static int write_maxfwd(struct buf *mb, uint32_t v)
{
	int err = buf_write_str(mb, "Max-Forwards: ");

	if (!err)
		err = buf_write_u32(mb, v);
	if (!err)
		err = buf_write_str(mb, "\r\n");
	return err;
}


static int build(struct buf *mb, struct sip *sip, const struct sip_msg *req,
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
				err = write_maxfwd(mb, maxfwd - 1);
			mf = true;
			continue;
		}
		err = buf_write_hdr(mb, &h->name, &h->val);
	}
	if (!err && !mf)
		err = write_maxfwd(mb, maxfwd - 1);
	if (!err)
		err = buf_printf(mb, "Content-Length: %zu\r\n\r\n",
				 req->body.l);
	if (!err)
		err = buf_write_pl(mb, &req->body);
	return err;
}


static int encode(struct buf **mbp, struct cscf_fwd *f,
		  const struct sip_msg *req, const struct sip_dns_target *t)
{
	int err;

	err = buf_alloc(mbp, req->len + 256, FWD_MSG_MAX);
	if (err)
		return err;
	err = build(*mbp, f->sip, req, t->tp, &t->addr, f->maxfwd, f->rr);
	if (err)
		*mbp = mem_deref(*mbp);
	return err;
}


static void ct_resp(int err, struct sip_msg *msg, void *arg);

/* One transaction to target t (a new branch each time). */
static int send_to(struct cscf_fwd *f, const struct sip_msg *req,
		   const struct sip_dns_target *t, struct sip_conn *conn)
{
	struct sip_ctrans_opts o = { 0 };
	struct buf *mb = NULL;
	int err;

	err = encode(&mb, f, req, t);
	if (err)
		return err;
	if (f->stateless) {
		err = sip_send(f->sip, t->tp, &t->addr, conn, mb->b, mb->end);
		mem_deref(mb);
		return err;
	}
	o.req = mb->b;
	o.len = mb->end;
	o.tp = t->tp;
	o.dst = t->addr;
	o.conn = conn;
	f->ct = mem_deref(f->ct);
	err = sip_ctrans_alloc(&f->ct, f->sip, &o, ct_resp, f);
	mem_deref(mb);
	return err;
}


/* RFC 3263 4.3: the next target that takes the request; the last error
 * when none does. */
static int try_next(struct cscf_fwd *f)
{
	int err = EHOSTUNREACH;

	while (f->next < f->tc) {
		const struct sip_dns_target *t = &f->tv[f->next++];
		char a[SA_STRLEN] = "";

		err = send_to(f, f->req, t, NULL);
		if (!err)
			return 0;
		(void)sa_fmt(&t->addr, a, sizeof(a));
		LOG_INFO(NULL, "%.*s to %s %s failed: %s", (int)f->req->met.l,
			 f->req->met.p, sip_transp_name(t->tp), a,
			 log_strerror(err));
	}
	return err;
}


static void ct_resp(int err, struct sip_msg *msg, void *arg)
{
	struct cscf_fwd *f = arg;
	bool failed = err || (msg && msg->scode == 503);

	if (!err && msg && msg->scode < 200)
		f->provisional = true;
	if (failed && err != ECANCELED && !f->provisional && !f->cancelled &&
	    f->req && f->next < f->tc) {
		LOG_INFO(NULL, "next hop failed (%s), trying target %zu of %zu",
			 err ? log_strerror(err) : "503", f->next + 1, f->tc);
		f->ct = mem_deref(f->ct); /* no more callbacks from it */
		if (!try_next(f))
			return;
		/* every other target failed too: this outcome goes up */
	}
	f->h(err, msg, f->arg); /* may release f */
}


static void resolved(int err, const struct sip_dns_target *tv, size_t tc,
		     void *arg)
{
	struct cscf_fwd *f = arg;

	f->q = NULL; /* the query has ended */
	if (!err && !tc)
		err = ENOENT;
	if (err) {
		LOG_INFO(NULL, "%.*s %.*s: no next hop: %s", (int)f->req->met.l,
			 f->req->met.p, (int)f->req->ruri.l, f->req->ruri.p,
			 log_strerror(err));
		err = err == ENOMEM ? ENOMEM : EHOSTUNREACH;
	} else if (f->cancelled) {
		err = ECANCELED;
	} else {
		f->tc = tc < SIP_DNS_TARGETS_MAX ? tc : SIP_DNS_TARGETS_MAX;
		memcpy(f->tv, tv, f->tc * sizeof(*tv));
		f->next = 0;
		err = try_next(f);
		if (f->stateless || !err) {
			if (f->stateless)
				mem_deref(f); /* its own reference */
			return;
		}
	}
	if (f->stateless) {
		mem_deref(f);
		return;
	}
	f->h(err, NULL, f->arg); /* may release f */
}


/* The forwarding object and where its request goes first. */
static int start(struct cscf_fwd **fp, struct sip *sip, struct sip_msg *req,
		 const struct cscf_hop *hop, bool stateless)
{
	struct sip_dns_target t;
	struct sip_uri uri;
	struct cscf_fwd *f;
	uint32_t maxfwd = 70;
	int err;

	if (sip_msg_hdr(req, SIP_HDR_MAX_FORWARDS)) {
		err = sip_msg_maxfwd(req, &maxfwd);
		if (err)
			return err;
		if (!maxfwd)
			return ELOOP; /* 16.3 step 3 */
	}
	memset(&t, 0, sizeof(t));
	err = hop_target(req, hop, &t, &uri);
	if (err && err != EAGAIN)
		return err;
	if (err == EAGAIN && (!hop || !hop->dns))
		return EHOSTUNREACH; /* a name, and nobody to ask */
	f = mem_zalloc(sizeof(*f), fwd_destructor);
	if (!f)
		return ENOMEM;
	f->sip = sip;
	f->maxfwd = maxfwd;
	f->stateless = stateless;
	if (hop && hop->rr && *hop->rr) {
		size_t l = strlen(hop->rr) + 1;

		f->rr = mem_alloc(l, NULL);
		if (!f->rr) {
			err = ENOMEM;
			goto out;
		}
		memcpy(f->rr, hop->rr, l);
	}
	if (!err) {
		err = send_to(f, req, &t,
			      hop && hop->has_flow ? hop->conn : NULL);
		goto out;
	}
	/* a name: the request must outlive this call */
	err = sip_msg_dup(&f->req, req);
	if (!err)
		err = sip_dns_locate(&f->q, hop->dns, &uri, resolved, f);
out:
	if (err)
		f = mem_deref(f);
	*fp = f;
	return err;
}


int cscf_fwd_request(struct cscf_fwd **fp, struct sip *sip, struct sip_msg *req,
		     const struct cscf_hop *hop, cscf_fwd_h *h, void *arg)
{
	struct cscf_fwd *f = NULL;
	int err;

	if (!fp || !sip || !req || !req->req || !h)
		return EINVAL;
	err = start(&f, sip, req, hop, false);
	if (err)
		return err;
	f->h = h;
	f->arg = arg;
	*fp = f;
	return 0;
}


int cscf_fwd_cancel(struct cscf_fwd *f)
{
	if (!f)
		return EINVAL;
	f->cancelled = true; /* 16.10: no new branch from now on */
	if (f->ct)
		return sip_ctrans_cancel(f->ct);
	return 0; /* a lookup running: it ends with ECANCELED */
}


bool cscf_fwd_active(const struct cscf_fwd *f)
{
	return f && (f->q || sip_ctrans_active(f->ct));
}


int cscf_fwd_stateless(struct sip *sip, struct sip_msg *req,
		       const struct cscf_hop *hop)
{
	struct cscf_fwd *f = NULL;
	int err;

	if (!sip || !req || !req->req)
		return EINVAL;
	err = start(&f, sip, req, hop, true);
	if (err)
		return err;
	/* sent: done; a lookup running: the object is the query's until
	 * it answers (released in resolved()) */
	if (!f->q)
		mem_deref(f);
	return 0;
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


int cscf_fwd_dns_alloc(struct sip_dns **dp, const struct conf_list *servers,
		       char *msg, size_t size)
{
	struct sa srv[CONF_LIST_MAX];
	size_t i, n = servers ? servers->n : 0;
	int err;

	if (!dp || n > CONF_LIST_MAX)
		return EINVAL;
	for (i = 0; i < n; i++) {
		const char *s = servers->v[i];

		if (sa_decode(&srv[i], s) && sa_set_str(&srv[i], s, 53)) {
			if (msg && size)
				(void)snprintf(msg, size,
					       "bad DNS server '%s': write IP "
					       "or IP:PORT",
					       s);
			return EINVAL;
		}
	}
	err = sip_dns_alloc(dp, n ? srv : NULL, n, NULL);
	if (err) {
		/* not fatal: only next hops given by name are unreachable
		 * (502), numeric ones work */
		LOG_WARN(NULL, "no DNS resolver: %s: next hops by name fail",
			 log_strerror(err));
		*dp = NULL;
	}
	return 0;
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
	case ECONNRESET:
	case ENETUNREACH:
		return 502;
	case ECANCELED:
		return 487;
	case ETIMEDOUT:
		return 408;
	default:
		return 500;
	}
}
