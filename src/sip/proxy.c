/**
 * @file proxy.c  RFC 3261 section 16 proxy core.
 *
 * Flow of a request (the numbers are RFC 3261 sections):
 *
 *   proxy_request
 *     16.3  check: scheme (416), Max-Forwards (483), loop (482),
 *           Proxy-Require (420)
 *     16.4  route pre-processing: our Record-Route URI in the Request-URI
 *           (a strict router before us) and our own Route entries
 *     policy hook (authentication, relaying)
 *     16.5  targets: the location service for our domains, else the
 *           Request-URI itself
 *     16.6  forward each target: copy, new Request-URI, Max-Forwards - 1,
 *           Record-Route (two entries when the transport changes, RFC
 *           5658), Route for a strict next hop, our Via with a branch that
 *           carries the loop-detection hash (16.6 step 8)
 *   responses (one client transaction per branch)
 *     16.7  1xx forwarded at once (not 100), 2xx forwarded at once (all of
 *           them), other finals kept; when every branch is done the best
 *           one goes up (6xx first, then the lowest class; 503 becomes
 *           500; 401/407 challenges of all branches merged)
 *     16.10 CANCEL: the server transaction answers it, we cancel every
 *           pending branch; Timer C (16.6 step 11) does the same
 *
 * A forwarded request is written in a single pass over the header index:
 * no header is decoded that the proxy does not need.
 */
#include "sip/proxy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/dns.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define LOG_MODULE "proxy"

struct proxy {
	struct sip *sip;
	struct proxy_conf conf;
	proxy_locate_h *locateh;
	proxy_policy_h *policyh;
	void *arg;
	struct proxy_stats stats;
	uint32_t seq;
	struct sip_dns *dns; /* RFC 3263 resolver, or NULL */
	struct list pending; /* struct pfwd waiting for the resolver */
	struct list ctxs;    /* live response contexts, for shutdown */
};

struct pctx;

/* One client transaction of a response context. */
struct pfwd;

struct pbranch {
	struct pctx *ctx;      /* weak */
	struct sip_ctrans *ct; /* handle; NULL once done */
	struct sip_msg *final; /* its final response, kept for 16.7 */
	struct pfwd *pf;       /* resolved next hops left to try, or NULL */
	uint16_t scode;        /* final status (408/503 for errors) */
	bool provisional;      /* a 1xx came: no failover any more */
	bool done;
};

/* The response context of one proxied request (16.2). */
struct pctx {
	struct le le;     /* in proxy.ctxs (not counted) */
	struct proxy *px; /* weak */
	struct sip_strans *st;
	struct sip_msg *req; /* counted copy */
	struct pbranch b[PROXY_FORK_MAX];
	size_t nb;
	size_t pending;
	bool released;   /* the branches' reference is gone */
	bool final_sent; /* a final response (or 2xx) went upstream */
	bool cancelling;
	struct tmr tmr_c;
	struct log_ctx lctx;
};

/* What changes between the received and the forwarded request. */
struct fwd {
	struct pl ruri;
	unsigned pop_routes;   /* Route values dropped from the top */
	bool drop_last_route;  /* 16.4: strict router before us */
	const char *route_pre; /* Route values inserted at the top */
	struct pl route_app;   /* Route value appended (strict next hop) */
	const char *branch;
	enum sip_transp tp;
	char via_host[sizeof(((struct proxy_conf *)0)->advertise)];
	uint16_t via_port;
	bool rr;
	char rr_top[SA_STRLEN + 64]; /* towards the target */
	char rr_in[SA_STRLEN + 64];  /* towards the sender; "" when same */
};


/* ---- who we are ---- */

bool proxy_domain_is_mine(const struct proxy *px, const struct pl *host)
{
	size_t i;

	for (i = 0; i < px->conf.ndomains; i++)
		if (pl_eq_str_ci(host, px->conf.domains[i]))
			return true;
	return false;
}


static bool host_port_is_me(const struct proxy *px, const struct pl *host,
			    uint16_t port, enum sip_transp tp)
{
	const struct sa *la;
	struct sa a;
	int t;

	if (px->conf.advertise[0] && pl_eq_str_ci(host, px->conf.advertise))
		return true;
	if (sa_set_pl(&a, host, 0))
		return false;
	if (!px->sip->transp)
		return false;
	for (t = SIP_TRANSP_UDP; t < SIP_TRANSP_NUM; t++) {
		if (tp && t != (int)tp)
			continue;
		la = sip_transp_laddr(px->sip->transp, (enum sip_transp)t,
				      sa_af(&a));
		if (!la || !sa_eq_addr(la, &a))
			continue;
		if (!port || port == sa_port(la))
			return true;
	}
	return false;
}


bool proxy_uri_is_me(const struct proxy *px, const struct sip_uri *uri)
{
	uint16_t port = uri->port;

	if (uri->sch != SIP_SCHEME_SIP && uri->sch != SIP_SCHEME_SIPS)
		return false;
	if (!port)
		port = uri->sch == SIP_SCHEME_SIPS ? 5061 : 5060;
	if (host_port_is_me(px, &uri->host, port, SIP_TRANSP_NONE))
		return true;
	/* a Route to one of our domains without a user part is us too */
	return !uri->user.l && proxy_domain_is_mine(px, &uri->host);
}


/* The local address used towards dst (for Via and Record-Route). */
static void local_hostport(struct proxy *px, enum sip_transp tp,
			   const struct sa *dst, char *host, size_t size,
			   uint16_t *port)
{
	const struct sa *la = NULL;

	if (px->sip->transp)
		la = sip_transp_laddr(px->sip->transp, tp,
				      dst ? sa_af(dst) : AF_INET);
	if (la && !sa_is_any(la) && !px->conf.advertise[0])
		sa_host_fmt(la, host, size);
	else
		(void)snprintf(host, size, "%s",
			       px->conf.advertise[0] ? px->conf.advertise
						     : "127.0.0.1");
	*port = la ? sa_port(la) : 5060;
}


/* ---- 16.3 step 4 and 16.6 step 8: loop detection ---- */

/* Hash of what identifies the request at this hop, excluding the Via
 * (which changes every hop): a spiral (the Request-URI changed) hashes
 * differently, a loop identically. */
static uint32_t loop_hash(struct sip_msg *req)
{
	const struct sip_addr *a;
	const struct sip_cseq *cs;
	const struct sip_hdr *h;
	struct pl cid;
	uint32_t x = hash_fast(req->ruri.p, req->ruri.l);

	if (!sip_msg_from(req, &a))
		x = x * 31u + hash_fast(a->tag.p, a->tag.l);
	if (!sip_msg_to(req, &a))
		x = x * 31u + hash_fast(a->tag.p, a->tag.l);
	if (!sip_msg_callid(req, &cid))
		x = x * 31u + hash_fast(cid.p, cid.l);
	if (!sip_msg_cseq(req, &cs))
		x = x * 31u + cs->num;
	for (h = sip_msg_hdr(req, SIP_HDR_PROXY_REQUIRE); h;
	     h = sip_msg_hdr_next(req, h))
		x = x * 31u + hash_fast(h->val.p, h->val.l);
	for (h = sip_msg_hdr(req, SIP_HDR_PROXY_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(req, h))
		x = x * 31u + hash_fast(h->val.p, h->val.l);
	return x;
}


/* Our branches look like z9hG4bK-P<8 hex loop hash>-<kind><8 hex>: 'x' and
 * a counter for stateful branches, 's' and a hash of the request for
 * stateless ones (16.11: a retransmission gets the same branch).  Hex by
 * hand: this runs for every forwarded request. */
static void branch_make(char *out, uint32_t lh, char kind, uint32_t v)
{
	static const char hx[] = "0123456789abcdef";
	char *p = out;
	int i;

	memcpy(p, "z9hG4bK-P", 9);
	p += 9;
	for (i = 28; i >= 0; i -= 4)
		*p++ = hx[(lh >> i) & 0xf];
	*p++ = '-';
	*p++ = kind;
	for (i = 28; i >= 0; i -= 4)
		*p++ = hx[(v >> i) & 0xf];
	*p = '\0';
}


/* Our branches look like z9hG4bK-P<8 hex loop hash>-<kind><8 hex>. */
static bool is_loop(struct proxy *px, struct sip_msg *req, uint32_t lh)
{
	struct sip_hdr_iter it = { 0 };
	char want[16];
	struct pl v;

	(void)snprintf(want, sizeof(want), "-P%08x-", lh);
	while (sip_msg_hdr_value_next(req, SIP_HDR_VIA, &it, &v)) {
		struct sip_via via;
		uint16_t port;

		/* only a Via carrying this hash can make a loop: look for it
		 * in the text before decoding anything (most requests have
		 * none, and this runs for every one) */
		if (!memmem(v.p, v.l, want, 11) || sip_via_decode(&via, &v))
			continue;
		port = via.port ? via.port
				: (via.tp == SIP_TRANSP_TLS ? 5061 : 5060);
		if (!host_port_is_me(px, &via.host, port, SIP_TRANSP_NONE))
			continue;
		if (via.branch.l >= 7 + 11 &&
		    !memcmp(via.branch.p + 7, want, 11))
			return true;
	}
	return false;
}


/* ---- building the forwarded request ---- */

static int write_hdr(struct buf *mb, const struct pl *name,
		     const struct pl *val)
{
	int err = buf_write_pl(mb, name);

	err |= buf_write(mb, ": ", 2);
	err |= buf_write_pl(mb, val);
	err |= buf_write(mb, "\r\n", 2);
	return err;
}


static int write_rr(struct buf *mb, const struct fwd *f)
{
	int err;

	err = buf_write(mb, "Record-Route: ", 14) |
	      buf_write_str(mb, f->rr_top) | buf_write(mb, "\r\n", 2);
	if (f->rr_in[0])
		err |= buf_write(mb, "Record-Route: ", 14) |
		       buf_write_str(mb, f->rr_in) | buf_write(mb, "\r\n", 2);
	return err;
}


/* Route lines with the first `pop` values removed, and the last one too
 * when drop_last is set. */
static int write_routes(struct buf *mb, struct sip_msg *req,
			const struct fwd *f)
{
	struct sip_hdr_iter it = { 0 };
	unsigned total = 0, i = 0;
	struct pl v;
	int err = 0;

	if (f->route_pre && f->route_pre[0])
		err |= buf_write(mb, "Route: ", 7) |
		       buf_write_str(mb, f->route_pre) |
		       buf_write(mb, "\r\n", 2);
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v))
		total++;
	memset(&it, 0, sizeof(it));
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v)) {
		i++;
		if (i <= f->pop_routes)
			continue;
		if (f->drop_last_route && i == total)
			continue;
		if (!v.l)
			continue;
		err |= buf_write(mb, "Route: ", 7);
		err |= buf_write_pl(mb, &v);
		err |= buf_write(mb, "\r\n", 2);
	}
	if (f->route_app.l) {
		err |= buf_write(mb, "Route: ", 7);
		err |= buf_write_pl(mb, &f->route_app);
		err |= buf_write(mb, "\r\n", 2);
	}
	return err;
}


static int fwd_build(struct buf *mb, struct sip_msg *req, const struct fwd *f)
{
	bool vias = false, routes = false, rr = false, mf = false;
	uint32_t maxfwd = 70;
	uint16_t i;
	int err;

	err = buf_write_pl(mb, &req->met);
	err |= buf_write(mb, " ", 1);
	err |= buf_write_pl(mb, &f->ruri);
	err |= buf_write_str(mb, " SIP/2.0\r\n");
	/* written piece by piece: printf would cost more than the copy of
	 * every other header together */
	err |= buf_write(mb, "Via: SIP/2.0/", 13);
	err |= buf_write_str(mb, sip_transp_name(f->tp));
	err |= buf_write(mb, " ", 1);
	err |= buf_write_str(mb, f->via_host);
	err |= buf_write(mb, ":", 1);
	err |= buf_write_u32(mb, f->via_port);
	err |= buf_write(mb, ";branch=", 8);
	err |= buf_write_str(mb, f->branch);
	err |= buf_write(mb, ";rport\r\n", 8);
	if (err)
		return ENOMEM;

	for (i = 0; i < req->hdrc && !err; i++) {
		const struct sip_hdr *h = &req->hdrv[i];

		switch (h->id) {
		case SIP_HDR_VIA:
			if (!vias)
				err |= sip_build_vias(mb, req);
			vias = true;
			break;
		case SIP_HDR_ROUTE:
			if (!routes)
				err |= write_routes(mb, req, f);
			routes = true;
			break;
		case SIP_HDR_RECORD_ROUTE:
			if (f->rr && !rr)
				err |= write_rr(mb, f);
			rr = true;
			err |= write_hdr(mb, &h->name, &h->val);
			break;
		case SIP_HDR_MAX_FORWARDS:
			(void)sip_msg_maxfwd(req, &maxfwd);
			err |= buf_write(mb, "Max-Forwards: ", 14);
			err |= buf_write_u32(mb, maxfwd ? maxfwd - 1 : 0);
			err |= buf_write(mb, "\r\n", 2);
			mf = true;
			break;
		case SIP_HDR_CONTENT_LENGTH:
			break; /* written once, below */
		default:
			err |= write_hdr(mb, &h->name, &h->val);
			break;
		}
	}
	if (!routes)
		err |= write_routes(mb, req, f);
	if (f->rr && !rr)
		err |= write_rr(mb, f);
	if (!mf) /* 16.6 step 3: add one when absent */
		err |= buf_write_str(mb, "Max-Forwards: 69\r\n");
	err |= buf_write(mb, "Content-Length: ", 16);
	err |= buf_write_u32(mb, (uint32_t)req->body.l);
	err |= buf_write(mb, "\r\n\r\n", 4);
	err |= buf_write_pl(mb, &req->body);
	return err ? ENOMEM : 0;
}


/* ---- next hop (16.6 steps 6-7, RFC 3263 for numeric hosts) ---- */

static int uri_dest(const struct sip_uri *u, enum sip_transp *tp,
		    struct sa *dst)
{
	struct pl t;

	if (u->sch != SIP_SCHEME_SIP && u->sch != SIP_SCHEME_SIPS)
		return EPROTONOSUPPORT;
	*tp = u->sch == SIP_SCHEME_SIPS ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	if (!sip_param_get(&u->params, "transport", &t)) {
		if (pl_eq_str_ci(&t, "tcp"))
			*tp = u->sch == SIP_SCHEME_SIPS ? SIP_TRANSP_TLS
							: SIP_TRANSP_TCP;
		else if (pl_eq_str_ci(&t, "tls"))
			*tp = SIP_TRANSP_TLS;
		else if (!pl_eq_str_ci(&t, "udp"))
			return EPROTONOSUPPORT;
	}
	{
		struct pl host = u->host;
		if (host.l > 2 && host.p[0] == '[') {
			host.p++;
			host.l -= 2;
		}
		/* hostnames need RFC 3263 resolution (sip/dns.c); the
		 * caller handles EHOSTUNREACH */
		if (sa_set_pl(dst, &host, sip_uri_port(u)))
			return EHOSTUNREACH;
	}
	if (*tp == SIP_TRANSP_TLS && !u->port)
		sa_set_port(dst, 5061);
	return 0;
}


/* ---- responses ---- */

/* Copy a response without its top Via value (16.7 step 3). */
static int strip_top_via(struct buf *mb, struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_VIA);
	const char *cut_from, *cut_to, *end = resp->p + resp->len;
	struct pl rest, v;

	if (!h)
		return EBADMSG;
	rest = h->val;
	if (!sip_value_split(&rest, &v))
		return EBADMSG;
	if (!rest.p || !rest.l) {
		/* the line held one value: drop the whole line */
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
	if (buf_write(mb, resp->p, (size_t)(cut_from - resp->p)) ||
	    buf_write(mb, cut_to, (size_t)(end - cut_to)))
		return ENOMEM;
	return 0;
}


/* Answer on the server transaction; a failure is logged (the client will
 * retransmit or time out: there is nothing more to do). */
static void st_reply(struct pctx *ctx, uint16_t scode)
{
	int err = sip_strans_reply(ctx->st, scode, NULL);

	if (err)
		LOG_WARN(&ctx->lctx, "sending %u failed: %s", scode,
			 log_strerror(err));
}


static void ctx_destructor(void *arg)
{
	struct pctx *ctx = arg;
	size_t i;

	list_unlink(&ctx->le);
	tmr_cancel(&ctx->tmr_c);
	for (i = 0; i < ctx->nb; i++) {
		mem_deref(ctx->b[i].ct);
		mem_deref(ctx->b[i].final);
		mem_deref(ctx->b[i].pf);
	}
	mem_deref(ctx->st);
	mem_deref(ctx->req);
}


static void send_up(struct pctx *ctx, struct sip_msg *resp)
{
	uint8_t storage[4096];
	struct buf mb = {
		storage, sizeof(storage), 0, 0, sizeof(storage), true
	};
	int err;

	err = strip_top_via(&mb, resp);
	if (!err)
		err = sip_strans_send_raw(ctx->st, resp->scode, mb.b, mb.end);
	if (err)
		LOG_WARN(&ctx->lctx, "forwarding %u upstream failed: %s",
			 resp->scode, log_strerror(err));
}


static void cancel_pending(struct pctx *ctx)
{
	size_t i;

	if (ctx->cancelling)
		return;
	ctx->cancelling = true;
	for (i = 0; i < ctx->nb; i++)
		if (!ctx->b[i].done && ctx->b[i].ct) {
			ctx->px->stats.cancels++;
			int err = sip_ctrans_cancel(ctx->b[i].ct);
			if (err)
				LOG_WARN(&ctx->lctx, "CANCEL failed: %s",
					 log_strerror(err));
		}
}


/* 16.7 step 6: 6xx first, then the lowest class; within 4xx prefer the
 * responses that tell the client what to do. */
static int rank(uint16_t sc)
{
	if (sc >= 600)
		return 0;
	if (sc == 401 || sc == 407 || sc == 415 || sc == 420 || sc == 484)
		return 1 + (sc / 100 - 3) * 2;
	return 2 + (sc / 100 - 3) * 2;
}


/*
 * 16.7 step 7: a 401 or 407 going up carries the challenges of every
 * branch that answered with the same code.  Returns true when the merged
 * response was sent; false to send the best one as it is (no other
 * challenge, or no memory to merge).
 */
static bool send_merged_challenges(struct pctx *ctx, struct pbranch *best)
{
	enum sip_hdr_id id = best->scode == 401 ? SIP_HDR_WWW_AUTHENTICATE
						: SIP_HDR_PROXY_AUTHENTICATE;
	const struct sip_msg *bf = best->final;
	struct buf *mb = NULL, *extra = NULL;
	struct sip_msg *m = NULL;
	const char *sl;
	bool sent;
	size_t i, n;
	int err;

	err = buf_alloc(&extra, 512, SIP_MSG_MAX);
	for (i = 0; !err && i < ctx->nb; i++) {
		const struct sip_hdr *h;
		struct pbranch *b = &ctx->b[i];

		if (b == best || !b->final || b->scode != best->scode)
			continue;
		for (h = sip_msg_hdr(b->final, id); h && !err;
		     h = sip_msg_hdr_next(b->final, h))
			err = write_hdr(extra, &h->name, &h->val);
	}
	sl = memchr(bf->p, '\n', bf->len);
	if (err || !extra->end || !sl)
		goto out;
	/* splice the other challenges in after the status line */
	err = buf_alloc(&mb, bf->len + extra->end, SIP_MSG_MAX);
	if (err)
		goto out;
	n = (size_t)(sl + 1 - bf->p);
	err = buf_write(mb, bf->p, n);
	err |= buf_write(mb, extra->b, extra->end);
	err |= buf_write(mb, sl + 1, bf->len - n);
	mb->pos = 0;
	if (!err)
		err = sip_msg_alloc(&m, mb, false, NULL);
	if (!err)
		send_up(ctx, m);
out:
	sent = !err && m;
	mem_deref(m);
	mem_deref(mb);
	mem_deref(extra);
	return sent;
}


static void send_best(struct pctx *ctx)
{
	struct pbranch *best = NULL;
	size_t i;

	for (i = 0; i < ctx->nb; i++) {
		struct pbranch *b = &ctx->b[i];
		if (!best || rank(b->scode) < rank(best->scode))
			best = b;
	}
	ctx->final_sent = true;
	if (!best || !best->final) {
		/* no response at all: every branch timed out or failed */
		uint16_t sc = best ? best->scode : 408;
		st_reply(ctx, sc == 503 ? 500 : sc);
		return;
	}
	if (best->scode == 503) {
		/* 16.7 step 6: 503 becomes 500 */
		st_reply(ctx, 500);
		return;
	}
	if ((best->scode == 401 || best->scode == 407) &&
	    send_merged_challenges(ctx, best))
		return;
	send_up(ctx, best->final);
}


/* The branches hold one reference to the context: it goes when no branch
 * waits for a final response and no branch handle is left (an INVITE
 * branch keeps its handle after a 2xx, to forward 2xx retransmissions
 * until Timer M ends it, RFC 6026). */
static void ctx_maybe_release(struct pctx *ctx)
{
	size_t i;

	if (ctx->released || ctx->pending)
		return;
	for (i = 0; i < ctx->nb; i++)
		if (ctx->b[i].ct)
			return;
	ctx->released = true;
	mem_deref(ctx);
}


static bool branch_failover(struct pbranch *b);

/* 16.7 step 5: every 2xx goes up at once, even after the first (RFC 6026:
 * the branch stays Accepted and passes retransmissions). */
static void branch_2xx(struct pctx *ctx, struct pbranch *b, struct sip_msg *msg)
{
	send_up(ctx, msg);
	if (!ctx->final_sent) {
		ctx->final_sent = true;
		/* 16.7 step 10: cancel the other branches */
		if (ctx->req->meth == SIP_METHOD_INVITE)
			cancel_pending(ctx);
	}
	b->scode = msg->scode;
	b->done = true;
	ctx->pending--;
	/* an INVITE branch keeps its handle: later 2xx arrive here */
	if (ctx->req->meth != SIP_METHOD_INVITE)
		b->ct = mem_deref(b->ct);
	if (!ctx->pending)
		tmr_cancel(&ctx->tmr_c);
	ctx_maybe_release(ctx);
}


static void branch_resp(int err, struct sip_msg *msg, void *arg)
{
	struct pbranch *b = arg;
	struct pctx *ctx = b->ctx;

	if (!err && !msg) {
		/* the transaction is over (Accepted ended by Timer M) */
		b->ct = mem_deref(b->ct);
		ctx_maybe_release(ctx);
		return;
	}
	if (b->done) {
		/* a 2xx retransmission, or another 2xx, while Accepted */
		if (!err && msg && msg->scode >= 200 && msg->scode < 300)
			send_up(ctx, msg);
		return;
	}
	if ((err || (msg && msg->scode == 503)) && branch_failover(b))
		return;
	if (err || !msg) {
		/* a name with no records is a domain that does not exist
		 * (404); a timeout 408; a transport or resolver failure 503,
		 * which goes up as 500 (16.7 step 6) */
		b->scode = err == ETIMEDOUT   ? 408
			   : err == ECANCELED ? 487
			   : err == ENOENT    ? 404
					      : 503;
		goto final;
	}
	if (msg->scode < 200) {
		b->provisional = true;
		if (msg->scode > 100 && !ctx->final_sent)
			send_up(ctx, msg);
		return;
	}
	if (msg->scode < 300) {
		branch_2xx(ctx, b, msg);
		return;
	}
	b->scode = msg->scode;
	if (sip_msg_dup(&b->final, msg))
		b->scode = 500; /* no memory to keep it: a 500 stands in */
	if (msg->scode >= 600 && ctx->req->meth == SIP_METHOD_INVITE)
		cancel_pending(ctx);
final:
	b->done = true;
	b->ct = mem_deref(b->ct);
	ctx->pending--;
	if (!ctx->pending) {
		tmr_cancel(&ctx->tmr_c);
		if (!ctx->final_sent)
			send_best(ctx);
	}
	ctx_maybe_release(ctx);
}


static void timer_c(void *arg)
{
	struct pctx *ctx = arg;

	/* 16.6 step 11 / 16.8: behave as if a 408 came on every branch
	 * still without a final response; CANCEL them */
	ctx->px->stats.timer_c++;
	LOG_INFO(&ctx->lctx, "Timer C fired, cancelling %zu branch(es)",
		 ctx->pending);
	cancel_pending(ctx);
}


static void strans_event(int err, struct sip_msg *msg, void *arg)
{
	struct pctx *ctx = arg;

	(void)msg;
	/* 16.10: the server transaction has answered the CANCEL; the
	 * branches' 487s come back and the best goes up.  Other events
	 * (Timer H, transport errors) end the server side only. */
	if (!err)
		cancel_pending(ctx);
}


/* ---- forwarding ---- */

static void rr_value(char *out, size_t size, const char *host, uint16_t port,
		     enum sip_transp tp)
{
	struct buf b = { (uint8_t *)out, size - 1, 0, 0, size - 1, true };
	int err;

	err = buf_write(&b, "<sip:", 5) | buf_write_str(&b, host) |
	      buf_write(&b, ":", 1) | buf_write_u32(&b, port);
	if (tp != SIP_TRANSP_UDP)
		err |= buf_write_str(&b, tp == SIP_TRANSP_TLS
						 ? ";transport=tls"
						 : ";transport=tcp");
	err |= buf_write(&b, ";lr>", 4);
	out[err ? 0 : b.end] = '\0';
}


/*
 * Decide where one target goes and fill the parts of fwd that depend on it
 * (16.6 steps 6, 7, 8).
 */
static void fwd_finish(struct proxy *px, struct sip_msg *req, struct fwd *f,
		       enum sip_transp tp, const struct sa *dst, bool rr);

static int fwd_prepare(struct proxy *px, struct sip_msg *req,
		       const struct proxy_target *t, struct fwd *f,
		       enum sip_transp *tp, struct sa *dst, bool rr,
		       struct sip_uri *hop)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_uri ruri, ru;
	struct pl v;
	unsigned skipped = 0, total = 0;
	int err;

	if (!f->ruri.l)
		pl_set_str(&f->ruri, t->uri);
	if (sip_uri_decode(&ruri, &f->ruri))
		return EBADMSG;

	/* a Path (RFC 3327) put in front of Route is the next hop */
	if (f->route_pre && f->route_pre[0]) {
		struct pl rp, first;
		struct sip_addr a;

		pl_set_str(&rp, f->route_pre);
		if (!sip_value_split(&rp, &first) ||
		    sip_addr_decode(&a, &first))
			return EBADMSG;
		ru = a.uri;
		*hop = ru;
		err = uri_dest(&ru, tp, dst);
		goto have_hop;
	}
	/* the first Route value that we do not drop is the next hop */
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v))
		total++;
	memset(&it, 0, sizeof(it));
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v)) {
		struct sip_addr a;
		if (skipped++ < f->pop_routes)
			continue;
		if (f->drop_last_route && skipped == total)
			break;
		if (sip_addr_decode(&a, &v))
			return EBADMSG;
		ru = a.uri;
		if (!sip_param_exists(&ru.params, "lr")) {
			/* 16.6 step 6: strict next hop: the Request-URI
			 * goes to the end of Route, the Route URI becomes
			 * the Request-URI */
			f->route_app = f->ruri;
			f->ruri = a.auri;
			f->pop_routes++;
		}
		*hop = ru;
		err = uri_dest(&ru, tp, dst);
		goto have_hop;
	}
	*hop = ruri;
	err = uri_dest(&ruri, tp, dst);
have_hop:
	if (t->has_flow) {
		/* the flow the target registered on wins (NAT, RFC 5626) */
		*tp = t->tp;
		*dst = t->flow;
		err = 0;
	}
	if (err)
		return err;
	fwd_finish(px, req, f, *tp, dst, rr);
	return 0;
}


/* Via and Record-Route depend on the transport and address family of the
 * next hop, known only once it is resolved. */
static void fwd_finish(struct proxy *px, struct sip_msg *req, struct fwd *f,
		       enum sip_transp tp, const struct sa *dst, bool rr)
{
	local_hostport(px, tp, dst, f->via_host, sizeof(f->via_host),
		       &f->via_port);
	f->tp = tp;
	f->rr = rr;
	if (rr) {
		enum sip_transp in =
			req->tp ? (enum sip_transp)req->tp : SIP_TRANSP_UDP;
		rr_value(f->rr_top, sizeof(f->rr_top), f->via_host, f->via_port,
			 tp);
		f->rr_in[0] = '\0';
		if (in != tp) {
			/* RFC 5658: one entry per side when they differ */
			char host[sizeof(px->conf.advertise)];
			uint16_t port;
			local_hostport(px, in, &req->src, host, sizeof(host),
				       &port);
			rr_value(f->rr_in, sizeof(f->rr_in), host, port, in);
		}
	}
}


static int fwd_send(struct proxy *px, struct sip_msg *req, struct fwd *f,
		    enum sip_transp tp, const struct sa *dst,
		    struct sip_conn *conn, struct pbranch *b)
{
	struct sip_ctrans_opts o;
	struct buf *mb;
	int err;

	err = buf_alloc(&mb, req->len + 512, SIP_MSG_MAX);
	if (err)
		return err;
	err = fwd_build(mb, req, f);
	if (err)
		goto out;
	if (!b) {
		err = sip_send(px->sip, tp, dst, conn, mb->b, mb->end);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.req = mb->b;
	o.len = mb->end;
	o.met = req->met;
	pl_set_str(&o.branch, f->branch);
	o.tp = tp;
	o.dst = *dst;
	o.conn = conn;
	err = sip_ctrans_alloc(&b->ct, px->sip, &o, branch_resp, b);
out:
	mem_deref(mb);
	if (!err)
		px->stats.forwarded++;
	return err;
}


static bool dialog_creating(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER;
}


/*
 * One forwarding whose next hop is a name (RFC 3263): the target, the
 * request and what changes in it wait here for the resolver.  The proxy's
 * list holds each one; a stateful one also holds its response context,
 * whose branch stays pending until the answer.
 */
struct pfwd {
	struct le le;
	struct proxy *px;      /* weak */
	struct pctx *ctx;      /* counted; NULL when stateless */
	struct pbranch *b;     /* in ctx */
	struct sip_msg *req;   /* counted */
	struct proxy_target t; /* copy: f points into it */
	struct fwd f;
	char branch[SIP_BRANCH_LEN + 16];
	bool rr;
	struct sip_dns_query *q;
	/* RFC 3263 4.3: the resolved targets after the one in use */
	struct sip_dns_target alt[SIP_DNS_TARGETS_MAX];
	size_t nalt, next;
	uint32_t lh; /* loop hash, for the branch of a retry */
};

static void pfwd_destructor(void *arg)
{
	struct pfwd *pf = arg;

	list_unlink(&pf->le);
	mem_deref(pf->q); /* cancels a query still running */
	mem_deref(pf->req);
	mem_deref(pf->ctx);
}


static void stateless_failed(struct proxy *px, struct sip_msg *req)
{
	if (req->meth != SIP_METHOD_ACK)
		(void)sip_replyf(px->sip, req, 502, "Next Hop Unreachable");
}


static void branch_failed(struct pbranch *b, int err)
{
	branch_resp(err ? err : EHOSTUNREACH, NULL, b);
}


/* The resolver answered (RFC 3263 4): use the first target.  Failing over
 * to the next ones on a transport error or 503 (4.3) is not done yet. */
static void pfwd_resolved(int err, const struct sip_dns_target *tv, size_t tc,
			  void *arg)
{
	struct pfwd *pf = arg;
	struct proxy *px = pf->px;

	pf->q = NULL; /* the query has ended */
	if (pf->ctx && pf->ctx->cancelling) {
		branch_failed(pf->b, ECANCELED);
		goto out;
	}
	if (err || !tc) {
		LOG_INFO(pf->ctx ? &pf->ctx->lctx : NULL,
			 "no address for %s: %s", pf->t.uri,
			 log_strerror(err ? err : ENOENT));
		if (pf->ctx)
			branch_failed(pf->b, err);
		else
			stateless_failed(px, pf->req);
		goto out;
	}
	fwd_finish(px, pf->req, &pf->f, tv[0].tp, &tv[0].addr, pf->rr);
	err = fwd_send(px, pf->req, &pf->f, tv[0].tp, &tv[0].addr, NULL, pf->b);
	if (!err && pf->ctx && tc > 1) {
		/* keep the other targets for RFC 3263 4.3 failover: the
		 * branch owns the forwarding state from now on (and it no
		 * longer holds the context, which owns the branch) */
		pf->nalt = tc - 1 < SIP_DNS_TARGETS_MAX ? tc - 1
							: SIP_DNS_TARGETS_MAX;
		memcpy(pf->alt, tv + 1, pf->nalt * sizeof(*tv));
		pf->next = 0;
		list_unlink(&pf->le);
		pf->ctx = mem_deref(pf->ctx);
		pf->b->pf = pf;
		return;
	}
	if (err) {
		if (pf->ctx)
			branch_failed(pf->b, err);
		else
			stateless_failed(px, pf->req);
	}
out:
	mem_deref(pf);
}


/*
 * RFC 3263 4.3: the branch's next hop failed (transport error, timeout or
 * 503) before any provisional response: send the same request, with a new
 * branch, to the next target the resolver gave.  Returns true when a retry
 * went out.
 */
static bool branch_failover(struct pbranch *b)
{
	struct pctx *ctx = b->ctx;
	struct pfwd *pf = b->pf;
	struct proxy *px = ctx->px;

	while (pf && pf->next < pf->nalt && !ctx->cancelling &&
	       !b->provisional) {
		const struct sip_dns_target *t = &pf->alt[pf->next++];
		int err;

		branch_make(pf->branch, pf->lh, 'x', ++px->seq);
		fwd_finish(px, pf->req, &pf->f, t->tp, &t->addr, pf->rr);
		b->ct = mem_deref(b->ct);
		err = fwd_send(px, pf->req, &pf->f, t->tp, &t->addr, NULL, b);
		if (!err) {
			LOG_INFO(&ctx->lctx,
				 "next hop failed, trying the next "
				 "one of %s (%zu/%zu)",
				 pf->t.uri, pf->next, pf->nalt);
			return true;
		}
	}
	return false;
}


/*
 * Prepare and send one target, or start resolving its next hop.
 *
 * @return 0 when sent or pending, else the error
 */
/* The forwarding state of one target, from the common base. */
static void pfwd_reset(struct pfwd *pf, const struct fwd *base)
{
	pf->f = *base;
	pf->f.branch = pf->branch;
	if (pf->t.path[0])
		pf->f.route_pre = pf->t.path;
}


static int forward_one(struct proxy *px, struct pctx *ctx, struct pbranch *b,
		       struct sip_msg *req, const struct fwd *base,
		       const struct proxy_target *t, const char *branch,
		       bool rr, uint32_t lh)
{
	struct sip_uri hop;
	struct pfwd *pf;
	enum sip_transp tp;
	struct sa dst;
	size_t bl;
	int err;

	/* the target and fwd copies are written whole: zero the rest */
	pf = mem_alloc(sizeof(*pf), pfwd_destructor);
	if (!pf)
		return ENOMEM;
	memset(&pf->le, 0, sizeof(pf->le));
	pf->ctx = NULL;
	pf->req = NULL;
	pf->q = NULL;
	pf->px = px;
	pf->t = *t;
	bl = strlen(branch);
	if (bl >= sizeof(pf->branch))
		bl = sizeof(pf->branch) - 1;
	memcpy(pf->branch, branch, bl);
	pf->branch[bl] = '\0';
	pfwd_reset(pf, base);
	pf->rr = rr;
	pf->b = b;
	pf->lh = lh;
	pf->nalt = pf->next = 0;
	err = fwd_prepare(px, req, &pf->t, &pf->f, &tp, &dst, rr, &hop);
	if (!err) {
		err = fwd_send(px, req, &pf->f, tp, &dst,
			       t->has_flow ? t->conn : NULL, b);
		mem_deref(pf);
		return err;
	}
	if (err != EHOSTUNREACH || !px->dns) {
		mem_deref(pf);
		return err;
	}
	if (list_count(&px->pending) >= PROXY_DNS_PENDING_MAX) {
		/* a bound on the lookups in flight: requests for names that
		 * never resolve must not pile up */
		mem_deref(pf);
		return EBUSY;
	}
	/* a name: RFC 3263 resolution, asynchronous, so the request must
	 * outlive this call.  A stateful branch has the context's copy; a
	 * stateless forward may have the receive buffer's message: copy it
	 * now (only now: most next hops need no lookup) and prepare again
	 * so that the forwarding state points into the copy */
	if (ctx) {
		pf->req = mem_ref(req);
	} else {
		err = sip_msg_dup(&pf->req, req);
		if (!err) {
			pfwd_reset(pf, base);
			err = fwd_prepare(px, pf->req, &pf->t, &pf->f, &tp,
					  &dst, rr, &hop);
		}
		if (err != EHOSTUNREACH) {
			mem_deref(pf);
			return err ? err : EINVAL;
		}
	}
	pf->ctx = mem_ref(ctx);
	list_append(&px->pending, &pf->le, pf);
	err = sip_dns_locate(&pf->q, px->dns, &hop, pfwd_resolved, pf);
	if (err) {
		mem_deref(pf);
		return err;
	}
	return 0;
}


/* 16.11: stateless forwarding; the branch is derived from the request so
 * that a retransmission gets the same one. */
static void forward_stateless(struct proxy *px, struct sip_msg *req,
			      struct fwd *f, const struct proxy_target *t,
			      uint32_t lh)
{
	const struct sip_via *via;
	char branch[SIP_BRANCH_LEN + 16];
	uint32_t vh = 0;
	int err;

	if (!sip_msg_via(req, &via))
		vh = hash_fast(via->branch.p, via->branch.l);
	branch_make(branch, lh, 's', vh ^ hash_fast(req->ruri.p, req->ruri.l));
	err = forward_one(px, NULL, NULL, req, f, t, branch, false, lh);
	if (err) {
		stateless_failed(px, req);
		return;
	}
	px->stats.stateless++;
}


static void forward_stateful(struct proxy *px, struct sip_msg *req,
			     struct fwd *base, struct proxy_targets *ts,
			     uint32_t lh)
{
	struct pctx *ctx;
	struct pl cid;
	size_t i;
	int err;

	ctx = mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx)
		goto fail;
	ctx->px = px;
	list_append(&px->ctxs, &ctx->le, ctx);
	err = sip_msg_dup(&ctx->req, req);
	if (err)
		goto fail;
	err = sip_strans_alloc(&ctx->st, px->sip, ctx->req, strans_event, ctx);
	if (err)
		goto fail;
	if (!sip_msg_callid(ctx->req, &cid)) {
		ctx->lctx.cid = cid.p;
		ctx->lctx.cid_len = (int)cid.l;
	}
	/* 16.2: a stateful proxy answers an INVITE with 100 at once */
	if (req->meth == SIP_METHOD_INVITE)
		st_reply(ctx, 100);

	/* every branch counts as pending before any is sent: a branch that
	 * fails at once must not finish the context under the others */
	ctx->pending = ts->n;
	ctx->nb = ts->n;
	for (i = 0; i < ts->n; i++) {
		struct pbranch *b = &ctx->b[i];
		char branch[SIP_BRANCH_LEN + 16];

		b->ctx = ctx;
		branch_make(branch, lh, 'x', ++px->seq);
		err = forward_one(px, ctx, b, ctx->req, base, &ts->v[i], branch,
				  px->conf.record_route &&
					  dialog_creating(req->meth),
				  lh);
		if (err) {
			LOG_INFO(&ctx->lctx, "target %s unreachable: %s",
				 ts->v[i].uri, log_strerror(err));
			b->done = true;
			b->scode = err == ENOMEM ? 500 : 502;
			ctx->pending--;
		}
	}
	if (ctx->nb > 1)
		px->stats.forked++;
	if (!ctx->pending) {
		/* nothing could be sent: the best of the local errors */
		send_best(ctx);
		ctx_maybe_release(ctx);
		return;
	}
	if (req->meth == SIP_METHOD_INVITE)
		tmr_start(&ctx->tmr_c, (uint64_t)px->conf.timer_c_s * 1000,
			  timer_c, ctx);
	/* the branches hold the context until the last one is done; the
	 * server transaction keeps a weak pointer for its CANCEL callback */
	return;
fail:
	if (ctx && ctx->st)
		st_reply(ctx, 500);
	else
		(void)sip_replyf(px->sip, req, 500, "Out Of Memory");
	mem_deref(ctx);
}


static void target_init(struct proxy_target *t)
{
	t->uri[0] = '\0';
	t->q = 1000;
	t->has_flow = false;
	t->tp = SIP_TRANSP_NONE;
	memset(&t->flow, 0, sizeof(t->flow));
	t->conn = NULL;
	t->path[0] = '\0';
}


/* 16.3 step 5: the Proxy-Require tags we do not support (we support none):
 * 420 with Unsupported listing them. */
static bool check_proxy_require(struct proxy *px, struct sip_msg *req)
{
	struct sip_hdr_iter it = { 0 };
	char hdrs[512];
	size_t n = 0;
	struct pl v;
	struct sip_reply_opts o = { 0 };

	while (sip_msg_hdr_value_next(req, SIP_HDR_PROXY_REQUIRE, &it, &v)) {
		int w;
		if (!v.l)
			continue;
		w = snprintf(hdrs + n, sizeof(hdrs) - n,
			     "Unsupported: %.*s\r\n", PL_FMT(&v));
		if (w < 0 || (size_t)w >= sizeof(hdrs) - n)
			break;
		n += (size_t)w;
	}
	if (!n)
		return true;
	o.hdrs = hdrs;
	(void)sip_reply(px->sip, req, 420, &o);
	return false;
}


/* Answer a request, unless it is an ACK (which is never answered). */
static void reply_unless_ack(struct proxy *px, struct sip_msg *req,
			     uint16_t scode, const char *reason)
{
	if (req->meth != SIP_METHOD_ACK)
		(void)sip_replyf(px->sip, req, scode, reason);
}


/* 16.3: the checks before anything else.  Returns false when the request
 * has been answered. */
static bool request_checks(struct proxy *px, struct sip_msg *req,
			   const struct sip_uri **rurip, uint32_t *lhp)
{
	uint32_t mf = 70;

	/* step 2: the Request-URI scheme */
	if (sip_msg_ruri(req, rurip)) {
		(void)sip_replyf(px->sip, req, 400, "Malformed Request-URI");
		return false;
	}
	if ((*rurip)->sch == SIP_SCHEME_OTHER) {
		(void)sip_replyf(px->sip, req, 416, NULL);
		return false;
	}
	/* step 3 */
	if (!sip_msg_maxfwd(req, &mf) && mf == 0) {
		px->stats.too_many_hops++;
		reply_unless_ack(px, req, 483, NULL);
		return false;
	}
	/* step 4 */
	*lhp = loop_hash(req);
	if (is_loop(px, req, *lhp)) {
		px->stats.loops++;
		reply_unless_ack(px, req, 482, NULL);
		return false;
	}
	/* step 5 */
	if (req->meth != SIP_METHOD_ACK && req->meth != SIP_METHOD_CANCEL &&
	    !check_proxy_require(px, req))
		return false;
	return true;
}


/* 16.4: route information.  A strict router before us put our
 * Record-Route URI in the Request-URI (the real one is the last Route
 * value); our own entries at the top of Route are removed (two after a
 * double Record-Route).  Returns false when the request was answered. */
static bool route_preprocess(struct proxy *px, struct sip_msg *req,
			     const struct sip_uri *ruri, struct fwd *f)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_addr a;
	struct pl v;

	if (proxy_uri_is_me(px, ruri) && ruri->user.l == 0 &&
	    sip_msg_hdr(req, SIP_HDR_ROUTE) &&
	    !proxy_domain_is_mine(px, &ruri->host)) {
		struct pl last = PL_INIT;

		while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v))
			last = v;
		if (last.l && !sip_addr_decode(&a, &last)) {
			f->ruri = a.auri;
			f->drop_last_route = true;
		}
		memset(&it, 0, sizeof(it));
	}
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v)) {
		if (sip_addr_decode(&a, &v)) {
			(void)sip_replyf(px->sip, req, 400, "Malformed Route");
			return false;
		}
		if (!proxy_uri_is_me(px, &a.uri))
			break;
		f->pop_routes++;
	}
	return true;
}


/* Who may use us: stateless challenges' ACKs end here, in-dialog requests
 * must be on a route set through us, and the policy hook (authentication,
 * relaying) sees the rest.  Returns false when the request is done. */
static bool admit(struct proxy *px, struct sip_msg *req, const struct fwd *f,
		  bool to_us)
{
	const struct sip_addr *to, *from;
	bool routed = f->pop_routes || f->drop_last_route;
	bool in_dialog = !sip_msg_to(req, &to) && to->tag.l;
	bool from_us;
	int sc;

	/* an ACK that no transaction took and that is not routed through
	 * us acknowledges a response we sent statelessly (a challenge, an
	 * error): it ends here (RFC 3261 17.2.3, 16.11) */
	if (req->meth == SIP_METHOD_ACK && !routed && to_us)
		return false;

	/* an in-dialog request comes to us only because we are on its route
	 * set (we Record-Routed the dialog); one that names neither us in
	 * Route nor one of our domains would use us as an open relay */
	if (in_dialog && !routed && !to_us && req->meth != SIP_METHOD_CANCEL) {
		reply_unless_ack(px, req, 403, "Relaying Denied");
		return false;
	}

	/* in-dialog requests and ACK/CANCEL are routed, not authorised again
	 * (RFC 3261 22.1: CANCEL and ACK cannot be challenged) */
	if (!px->policyh || in_dialog || req->meth == SIP_METHOD_ACK ||
	    req->meth == SIP_METHOD_CANCEL)
		return true;
	from_us = !sip_msg_from(req, &from) &&
		  proxy_domain_is_mine(px, &from->uri.host);
	sc = px->policyh(req, to_us, from_us, px->arg);
	if (sc == 1)
		return false;
	if (sc) {
		(void)sip_replyf(px->sip, req, (uint16_t)sc, NULL);
		return false;
	}
	return true;
}


/* A request addressed to us rather than to a user: OPTIONS gets our
 * capabilities (RFC 3261 11.2), the rest 404. */
static void answer_locally(struct proxy *px, struct sip_msg *req)
{
	struct sip_reply_opts o = { 0 };

	px->stats.answered_locally++;
	if (req->meth == SIP_METHOD_OPTIONS) {
		o.hdrs = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, "
			 "REGISTER, INFO, UPDATE, PRACK, SUBSCRIBE, "
			 "NOTIFY, REFER, MESSAGE\r\n"
			 "Accept: application/sdp\r\n";
		(void)sip_reply(px->sip, req, 200, &o);
	} else {
		reply_unless_ack(px, req, 404, NULL);
	}
}


/* 16.5: the target set.  Returns false when the request was answered
 * (no target). */
static bool determine_targets(struct proxy *px, struct sip_msg *req,
			      const struct sip_uri *ruri, bool to_us,
			      struct fwd *f, struct proxy_targets *ts)
{
	struct sip_hdr_iter it = { 0 };
	unsigned nroutes = 0;
	struct pl v;
	int err;

	/* with Route values left to follow, or a Request-URI outside our
	 * domains, the Request-URI is the single target */
	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v))
		nroutes++;
	if (f->drop_last_route && nroutes)
		nroutes--;
	if (nroutes > f->pop_routes || !to_us) {
		struct pl u = f->ruri.l ? f->ruri : req->ruri;

		target_init(&ts->v[0]);
		if (pl_strcpy(&u, ts->v[0].uri, sizeof(ts->v[0].uri))) {
			(void)sip_replyf(px->sip, req, 414, NULL);
			return false;
		}
		f->ruri.l = 0;
		ts->n = 1;
		return true;
	}
	if (proxy_uri_is_me(px, ruri) && !ruri->user.l) {
		answer_locally(px, req);
		return false;
	}
	err = px->locateh ? px->locateh(req, ruri, ts, px->arg) : ENOENT;
	if (err == ENOENT) {
		reply_unless_ack(px, req, 404, NULL);
		return false;
	}
	if (err || !ts->n) {
		reply_unless_ack(px, req, 480, NULL);
		return false;
	}
	return true;
}


/**
 * Process a request as a proxy (RFC 3261 16.3-16.6).
 */
bool proxy_request(struct proxy *px, struct sip_msg *req)
{
	struct proxy_targets *ts;
	struct sip_uri rurifix;
	const struct sip_uri *ruri;
	struct fwd f;
	uint32_t lh = 0;
	bool to_us;

	if (!request_checks(px, req, &ruri, &lh))
		return true;
	memset(&f, 0, sizeof(f));
	if (!route_preprocess(px, req, ruri, &f))
		return true;
	if (f.ruri.l) {
		/* the Request-URI restored from Route is what counts now */
		if (sip_uri_decode(&rurifix, &f.ruri)) {
			(void)sip_replyf(px->sip, req, 400, "Malformed Route");
			return true;
		}
		ruri = &rurifix;
	}
	to_us = proxy_domain_is_mine(px, &ruri->host) ||
		proxy_uri_is_me(px, ruri);
	if (!admit(px, req, &f, to_us))
		return true;

	/* 16 targets of two URIs each: not zeroed, filled as needed */
	ts = mem_alloc(sizeof(*ts), NULL);
	if (!ts) {
		(void)sip_replyf(px->sip, req, 500, "Out Of Memory");
		return true;
	}
	ts->n = 0;
	if (determine_targets(px, req, ruri, to_us, &f, ts)) {
		/* an ACK to a 2xx is its own transaction and goes statelessly
		 * (16.11); so does a CANCEL that matched no response context
		 * (16.10), to where the INVITE went; in stateless mode only
		 * the first target is used */
		if (req->meth == SIP_METHOD_ACK ||
		    req->meth == SIP_METHOD_CANCEL || px->conf.stateless)
			forward_stateless(px, req, &f, &ts->v[0], lh);
		else
			forward_stateful(px, req, &f, ts, lh);
	}
	mem_deref(ts);
	return true;
}


/**
 * Forward a response that matched no client transaction (16.11 / RFC 6026
 * 2xx retransmissions): drop our Via, send to the next one.  A next hop
 * on a broadcast or multicast address is never used (RFC 4475 3.3.10).
 */
void proxy_response(struct proxy *px, struct sip_msg *resp)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_via top, next;
	struct pl v;
	uint8_t storage[4096];
	struct buf mb = {
		storage, sizeof(storage), 0, 0, sizeof(storage), true
	};
	enum sip_transp tp;
	struct sa dst;
	struct pl host;
	uint16_t port;

	if (!sip_msg_hdr_value_next(resp, SIP_HDR_VIA, &it, &v) ||
	    sip_via_decode(&top, &v))
		return;
	port = top.port ? top.port : 5060;
	if (!host_port_is_me(px, &top.host, port, SIP_TRANSP_NONE))
		return; /* 18.1.2: not ours: discard */
	if (!sip_msg_hdr_value_next(resp, SIP_HDR_VIA, &it, &v) ||
	    sip_via_decode(&next, &v))
		return;
	host = next.received.l ? next.received : next.host;
	if (host.l > 2 && host.p[0] == '[') {
		host.p++;
		host.l -= 2;
	}
	port = next.port ? next.port : 5060;
	if (next.rport.l) {
		uint32_t rp;
		if (!pl_u32(&next.rport, &rp) && rp && rp <= 65535)
			port = (uint16_t)rp;
	}
	if (sa_set_pl(&dst, &host, port))
		return; /* a hostname in sent-by without received: drop */
	if (sa_af(&dst) == AF_INET) {
		uint32_t a = ntohl(dst.u.in.sin_addr.s_addr);
		if (a == 0xffffffffu || (a >> 28) == 0xe || (a & 0xff) == 0xff)
			return;
	} else if (IN6_IS_ADDR_MULTICAST(&dst.u.in6.sin6_addr)) {
		return;
	}
	tp = next.tp ? (enum sip_transp)next.tp : SIP_TRANSP_UDP;
	if (strip_top_via(&mb, resp))
		return;
	if (sip_send(px->sip, tp, &dst, NULL, mb.b, mb.end))
		px->sip->stats.tx_errors++;
}


static void proxy_destructor(void *arg)
{
	struct proxy *px = arg;

	proxy_close(px);
	mem_deref(px->dns);
}


/** Explicit shutdown: drop the forwardings that wait for the resolver
 * and the response contexts still waiting for answers. */
void proxy_close(struct proxy *px)
{
	struct le *le;

	while (px->pending.head)
		mem_deref(px->pending.head->data);
	/* the branches' reference of every context still waiting (its
	 * transactions will call no more) */
	for (le = px->ctxs.head; le;) {
		struct pctx *ctx = le->data;
		le = le->next;
		if (ctx->released)
			continue;
		ctx->released = true;
		mem_deref(ctx);
	}
}


/** Resolve next hops given by name with this resolver (RFC 3263). */
void proxy_set_dns(struct proxy *px, struct sip_dns *dns)
{
	mem_deref(px->dns);
	px->dns = mem_ref(dns);
}


/**
 * Create a proxy core on a stack.
 *
 * @param locateh  the location service for our domains (may be NULL)
 * @param policyh  authentication / relaying policy (may be NULL)
 */
int proxy_alloc(struct proxy **pp, struct sip *sip,
		const struct proxy_conf *conf, proxy_locate_h *locateh,
		proxy_policy_h *policyh, void *arg)
{
	struct proxy *px;

	px = mem_zalloc(sizeof(*px), proxy_destructor);
	if (!px)
		return ENOMEM;
	px->sip = sip;
	px->conf = *conf;
	if (px->conf.timer_c_s < 181)
		px->conf.timer_c_s = 181; /* 16.6 step 11: > 3 minutes */
	px->locateh = locateh;
	px->policyh = policyh;
	px->arg = arg;
	*pp = px;
	return 0;
}


void proxy_stats(const struct proxy *px, struct proxy_stats *st)
{
	*st = px->stats;
}
