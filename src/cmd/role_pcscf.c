/**
 * @file role_pcscf.c  The P-CSCF role of `entims run`.
 *
 * Wiring only: cscf/pcscf.c decides (TS 24.229 5.2), this file owns the
 * role's SIP stack and moves messages.  Each request gets a server
 * transaction; pcscf_request() answers it, or rewrites it and cscf/fwd.c
 * sends it on with one client transaction: a REGISTER to the configured
 * I-CSCF (5.2.2.1), a request for a phone over the phone's flow (RFC 5626
 * 5.3), anything else by its Route (the Service-Route the P-CSCF
 * preloaded, 5.2.6.3.3).  Every response but 100 (hop-by-hop, RFC 3261
 * 16.7 step 3) goes through pcscf_response() with the request as we
 * received it, so a 2xx to a REGISTER stores the phone's Service-Route
 * and P-Associated-URIs (5.2.2.2), and is relayed on the server
 * transaction.
 * The reg event (5.2.3, RFC 3680): after a phone's first registration
 * the P-CSCF subscribes to its IMPU at the S-CSCF (along the Service-
 * Route, P-Asserted-Identity our URI, one subscription per IMPU); the
 * NOTIFYs come back as PCSCF_LOCAL requests matched by Call-ID, a
 * regevent_watch merges them, and every contact or registration they
 * terminate is dropped with pcscf_phone_drop() (the network ended it:
 * RTR, expiry at the S-CSCF).  A subscription ends with its terminated
 * NOTIFY or a refused SUBSCRIBE; it is not refreshed (the default expiry
 * is 600000 s, longer than any registration).
 * The P-CSCF is its own node: co-located roles are reached over their
 * loopback listeners like remote ones.
 */
#include "cmd/role_pcscf.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "cscf/fwd.h"
#include "cscf/pcscf.h"
#include "cscf/regevent.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "sip/uri.h"

#define LOG_MODULE "pcscf"

struct pcscf_role {
	struct sip *sip;
	struct pcscf *p;
	struct sa core[CONF_LIST_MAX];
	char uri[PCSCF_URI_MAX];
	char icscf[PCSCF_URI_MAX];
	char vnet[CONF_STR_MAX];
	struct list subs; /* struct psub: reg event subscriptions */
	struct list txs;  /* struct ptx: requests on their way */
};

/* A reg event subscription of ours (TS 24.229 5.2.3). */
struct psub {
	struct le le;
	struct pcscf_role *r;
	struct regevent_watch *w;
	struct sip_ctrans *ct; /* the SUBSCRIBE until its final answer */
	char impu[PCSCF_URI_MAX];
	char callid[48];
};

/* One request on its way: the server transaction, the client one. */
struct ptx {
	struct le le; /* in txs: released at stop (no callback then) */
	struct pcscf_role *r;
	struct sip_strans *st;
	struct sip_ctrans *ct;
	struct sip_msg *req; /* as received (pcscf_response needs it) */
};

static void destructor(void *arg)
{
	struct pcscf_role *r = arg;

	if (r->p)
		pcscf_close(r->p);
	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->subs);
	list_flush(&r->txs);
	mem_deref(r->p);
	mem_deref(r->sip);
}


static void ptx_destructor(void *arg)
{
	struct ptx *t = arg;

	list_unlink(&t->le);
	mem_deref(t->ct);
	mem_deref(t->st);
	mem_deref(t->req);
}


static void psub_destructor(void *arg)
{
	struct psub *ps = arg;

	list_unlink(&ps->le);
	mem_deref(ps->ct);
	mem_deref(ps->w);
}


static struct psub *psub_find(struct pcscf_role *r, const struct pl *callid,
			      const char *impu)
{
	struct le *le;

	LIST_FOREACH (&r->subs, le) {
		struct psub *ps = le->data;

		if (callid ? pl_eq_str(callid, ps->callid)
			   : !strcmp(ps->impu, impu))
			return ps;
	}
	return NULL;
}


static void sub_resp(int err, struct sip_msg *msg, void *arg)
{
	struct psub *ps = arg;

	if (!err && msg && msg->scode < 200)
		return;
	ps->ct = mem_deref(ps->ct); /* done: no more callbacks */
	if (!err && msg && msg->scode < 300) {
		LOG_INFO(NULL, "reg event subscription to %s accepted (%u)",
			 ps->impu, msg->scode);
		return;
	}
	LOG_WARN(NULL, "reg event subscription to %s refused: %u", ps->impu,
		 msg ? msg->scode : cscf_fwd_scode(err));
	mem_deref(ps); /* the list's reference: unlinks */
}


/* pcscf subscribe hook: SUBSCRIBE to the phone's IMPU at the S-CSCF */
static void subscribe_h(const struct pcscf_subscribe *s, void *arg)
{
	struct pcscf_role *r = arg;
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb = NULL;
	uint8_t rnd[12];
	struct psub *ps;
	size_t i;
	int err;

	if (psub_find(r, NULL, s->impu))
		return; /* one per IMPU: it covers every contact */
	ps = mem_zalloc(sizeof(*ps), psub_destructor);
	if (!ps)
		return;
	ps->r = r;
	list_append(&r->subs, &ps->le, ps);
	(void)snprintf(ps->impu, sizeof(ps->impu), "%s", s->impu);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		mem_deref(ps);
		return;
	}
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(ps->callid + 2 * i, 3, "%02x", rnd[i]);
	err = regevent_watch_alloc(&ps->w);
	if (!err)
		err = buf_alloc(&mb, 2048, 65535);
	if (!err)
		err = buf_printf(mb, "SUBSCRIBE %s SIP/2.0\r\n", s->impu);
	for (i = 0; !err && i < s->route_n; i++)
		err = buf_printf(mb, "Route: %s\r\n", s->route[i]);
	if (!err)
		err = buf_printf(mb,
				 "Max-Forwards: 70\r\n"
				 "From: <%s>;tag=%.16s\r\n"
				 "To: <%s>\r\n"
				 "Call-ID: %s\r\n"
				 "CSeq: 1 SUBSCRIBE\r\n"
				 "Contact: <%s>\r\n"
				 "P-Asserted-Identity: <%s>\r\n"
				 "Event: %s\r\n"
				 "Expires: %u\r\n"
				 "Accept: application/reginfo+xml\r\n"
				 "Content-Length: 0\r\n\r\n",
				 s->from, ps->callid + 8, s->impu, ps->callid,
				 r->uri, s->from, s->event, s->expires);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(&msg, mb, true, &merr);
	}
	if (!err)
		err = cscf_fwd_request(&ps->ct, r->sip, msg, NULL, sub_resp,
				       ps);
	mem_deref(msg);
	mem_deref(mb);
	if (err) {
		LOG_WARN(NULL, "reg event SUBSCRIBE for %s not sent: %s",
			 s->impu, log_strerror(err));
		mem_deref(ps); /* unlinks */
	}
}


static void term_h(const struct regevent_term *t, void *arg)
{
	struct pcscf_role *r = arg;
	struct pl impu, ct;
	int err;

	pl_set_str(&impu, t->aor);
	if (t->ct_uri)
		pl_set_str(&ct, t->ct_uri);
	err = pcscf_phone_drop(r->p, &impu, t->ct_uri ? &ct : NULL);
	LOG_INFO(NULL, "reg event: %s %s terminated%s", t->aor,
		 t->ct_uri ? t->ct_uri : "(every contact)",
		 err ? " (nothing kept for it)" : ": phone dropped");
}


/* A request for the P-CSCF itself: the NOTIFY of a subscription. */
static void local_request(struct ptx *t)
{
	struct pcscf_role *r = t->r;
	struct regevent_watch_result res;
	struct pl callid;
	struct psub *ps;
	char ebuf[128] = "";
	int err;

	if (t->req->meth != SIP_METHOD_NOTIFY) {
		role_reply(t->st, 405, NULL);
		return;
	}
	if (sip_msg_callid(t->req, &callid) ||
	    !(ps = psub_find(r, &callid, NULL))) {
		role_reply(t->st, 481, NULL); /* RFC 6665 4.1.3 */
		return;
	}
	err = regevent_watch_notify(ps->w, t->req, term_h, r, &res, ebuf,
				    sizeof(ebuf));
	if (err == EPROTO) {
		role_reply(t->st, 489, NULL);
		return;
	}
	if (err) {
		LOG_WARN(NULL, "reg event NOTIFY for %s: %s", ps->impu, ebuf);
		role_reply(t->st, 400, NULL);
		return;
	}
	role_reply(t->st, 200, NULL);
	if (res.terminated) {
		LOG_INFO(NULL, "reg event subscription to %s terminated (%s)",
			 ps->impu, res.reason);
		mem_deref(ps); /* unlinks; drops a SUBSCRIBE still running */
	}
}


static void fwd_resp(int err, struct sip_msg *msg, void *arg)
{
	struct ptx *t = arg;
	struct pcscf_out out = { 0 };
	bool final;

	if (err || !msg) {
		if (err && sip_strans_active(t->st))
			role_reply(t->st, cscf_fwd_scode(err), NULL);
		if (err || !msg)
			mem_deref(t);
		return;
	}
	final = msg->scode >= 200;
	if (msg->scode == 100)
		return; /* hop by hop; our transaction sent its own */
	err = pcscf_response(t->r->p, t->req, msg, &out);
	if (!err && out.act == PCSCF_FORWARD && out.msg)
		err = cscf_fwd_response(t->st, out.msg);
	if (err)
		LOG_WARN(NULL, "response %u not relayed: %s", msg->scode,
			 log_strerror(err));
	pcscf_out_reset(&out);
	/* an INVITE's client transaction may still deliver 2xx
	 * retransmissions (RFC 6026); they are absorbed by it */
	if (final && t->req->meth != SIP_METHOD_INVITE)
		mem_deref(t);
}


static void st_event(int err, struct sip_msg *msg, void *arg)
{
	struct ptx *t = arg;

	(void)msg;
	if (!err && t->ct) {
		err = sip_ctrans_cancel(t->ct); /* RFC 3261 16.10 */
		if (err)
			LOG_WARN(NULL, "CANCEL not sent: %s",
				 log_strerror(err));
	}
}


static void hop_of(struct cscf_hop *hop, const struct pcscf_out *out)
{
	if (out->to_phone) {
		hop->has_flow = true;
		hop->tp = out->flow.tp;
		hop->dst = out->flow.src;
		hop->conn = out->flow.conn;
	} else if (out->next_hop[0]) {
		hop->uri = out->next_hop;
	}
}


static void forward(struct ptx *t, struct pcscf_out *out)
{
	struct cscf_hop hop = { 0 };
	int err;

	hop_of(&hop, out);
	err = cscf_fwd_request(&t->ct, t->r->sip, out->msg, &hop, fwd_resp, t);
	if (err) {
		LOG_INFO(NULL, "%.*s not forwarded: %s", (int)t->req->met.l,
			 t->req->met.p, log_strerror(err));
		role_reply(t->st, cscf_fwd_scode(err), NULL);
		mem_deref(t);
	}
}


static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct pcscf_role *r = arg;
	struct pcscf_out out = { 0 };
	struct ptx *t;
	int err;

	(void)sip;
	if (msg->meth == SIP_METHOD_ACK) {
		/* an ACK for a 2xx has no transaction: sent on statelessly
		 * by its route set (RFC 3261 16.11) */
		struct cscf_hop hop = { 0 };

		if (!pcscf_request(r->p, msg, &out) &&
		    out.act == PCSCF_FORWARD && out.msg) {
			hop_of(&hop, &out);
			err = cscf_fwd_stateless(r->sip, out.msg, &hop);
			if (err)
				LOG_INFO(NULL, "ACK not forwarded: %s",
					 log_strerror(err));
		}
		pcscf_out_reset(&out);
		return true;
	}
	t = mem_zalloc(sizeof(*t), ptx_destructor);
	if (!t)
		goto oom;
	t->r = r;
	list_append(&r->txs, &t->le, t);
	err = sip_msg_dup(&t->req, msg);
	if (!err)
		err = sip_strans_alloc(&t->st, r->sip, t->req, st_event, t);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	err = pcscf_request(r->p, t->req, &out);
	if (err) {
		role_reply(t->st, 500, NULL);
		mem_deref(t);
		return true;
	}
	switch (out.act) {
	case PCSCF_REPLY:
		role_reply(t->st, out.scode, out.reason);
		mem_deref(t);
		break;
	case PCSCF_FORWARD:
		forward(t, &out);
		break;
	case PCSCF_LOCAL:
	default:
		local_request(t);
		mem_deref(t);
		break;
	}
	pcscf_out_reset(&out);
	return true;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
	return true;
}


static int core_parse(struct pcscf_role *r, const struct pcscf_role_conf *c,
		      struct pcscf_conf *pc, char *msg, size_t size)
{
	size_t i;

	for (i = 0; c->core && i < c->core->n; i++) {
		const char *s = c->core->v[i];

		if (sa_decode(&r->core[i], s) &&
		    sa_set_str(&r->core[i], s, 0)) {
			(void)snprintf(msg, size,
				       "[pcscf] core '%s': write IP (any "
				       "port) or IP:PORT",
				       s);
			return EINVAL;
		}
	}
	if (!i) {
		/* default trust domain: the I-CSCF we send to */
		struct sip_uri u;
		struct pl t, host;

		pl_set_str(&t, r->icscf);
		if (sip_uri_decode(&u, &t))
			return EINVAL;
		host = u.host;
		if (host.l > 2 && host.p[0] == '[') {
			host.p++;
			host.l -= 2;
		}
		if (sa_set_pl(&r->core[0], &host, 0)) {
			(void)snprintf(msg, size,
				       "[pcscf] icscf '%s' has no numeric "
				       "host: list the trust domain in "
				       "[pcscf] core",
				       r->icscf);
			return EINVAL;
		}
		i = 1;
	}
	pc->core = r->core;
	pc->core_n = i;
	return 0;
}


int pcscf_role_start(struct pcscf_role **rp, const struct pcscf_role_conf *c,
		     char *msg, size_t size)
{
	struct pcscf_hooks hooks = { 0 };
	struct pcscf_conf pc = { 0 };
	struct pcscf_role *r;
	struct sip_uri u;
	struct pl t;
	int err;

	if (!rp || !c)
		return EINVAL;
	if (!c->uri || !*c->uri || !c->icscf || !*c->icscf) {
		(void)snprintf(msg, size,
			       "the pcscf role needs [pcscf] uri (its SIP "
			       "URI, e.g. sip:127.0.0.1:5060) and icscf "
			       "(the home I-CSCF, e.g. sip:127.0.0.1:5070)");
		return EINVAL;
	}
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	list_init(&r->subs);
	list_init(&r->txs);
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	(void)snprintf(r->icscf, sizeof(r->icscf), "%s", c->icscf);
	(void)snprintf(r->vnet, sizeof(r->vnet), "%s",
		       c->visited_network ? c->visited_network : "");
	pl_set_str(&t, r->uri);
	if (sip_uri_decode(&u, &t)) {
		(void)snprintf(msg, size, "[pcscf] uri '%s' is not a SIP URI",
			       r->uri);
		err = EINVAL;
		goto out;
	}
	pl_set_str(&t, r->icscf);
	if (sip_uri_decode(&u, &t)) {
		(void)snprintf(msg, size, "[pcscf] icscf '%s' is not a SIP URI",
			       r->icscf);
		err = EINVAL;
		goto out;
	}
	err = core_parse(r, c, &pc, msg, size);
	if (err)
		goto out;
	pc.uri = r->uri;
	pc.icscf = r->icscf;
	pc.visited_network = r->vnet[0] ? r->vnet : NULL;
	hooks.subh = subscribe_h;
	err = pcscf_alloc(&r->p, &pc, &hooks, r);
	if (err) {
		(void)snprintf(msg, size, "cannot create the P-CSCF: %s",
			       log_strerror(err));
		goto out;
	}
	err = role_sip_open(&r->sip, &c->sip, on_request, role_stray_response,
			    r, msg, size);
	if (err)
		goto out;
	LOG_INFO(NULL, "P-CSCF %s, I-CSCF %s", r->uri, r->icscf);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


void pcscf_role_stop(struct pcscf_role *r)
{
	if (!r)
		return;
	if (r->p)
		pcscf_close(r->p);
	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->subs);
	list_flush(&r->txs);
}
