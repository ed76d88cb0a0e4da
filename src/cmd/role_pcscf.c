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
 * Route, P-Asserted-Identity our URI, one subscription per IMPU);
 * cscf/pcscf_sub.c keeps the dialogs and refreshes them before they run
 * out (or at once on a version gap); this file sends its SUBSCRIBEs with
 * cscf/fwd.c and hands it the NOTIFYs (PCSCF_LOCAL requests).  Every
 * contact or registration a NOTIFY terminates is dropped with
 * pcscf_phone_drop() (the network ended it: RTR, expiry at the S-CSCF);
 * when an IMPU has no registration left its subscription is no longer
 * refreshed.
 * Next hops given by name (the I-CSCF, the home domain when no I-CSCF is
 * configured, Service-Route hops) are located by cscf/fwd.c with the
 * role's resolver (RFC 3263).
 * The P-CSCF is its own node: co-located roles are reached over their
 * loopback listeners like remote ones.
 */
#include "cmd/role_pcscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "cscf/fwd.h"
#include "cscf/pcscf.h"
#include "cscf/pcscf_sub.h"
#include "cscf/regevent.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/dns.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "sip/uri.h"

#define LOG_MODULE "pcscf"

struct pcscf_role {
	struct sip *sip;
	struct pcscf *p;
	struct sip_dns *dns; /* next hops by name (RFC 3263) */
	struct sa core[CONF_LIST_MAX];
	char uri[PCSCF_URI_MAX];
	char icscf[PCSCF_URI_MAX];
	char vnet[CONF_STR_MAX];
	struct pcscf_sub *subs; /* reg event subscriptions */
	struct list stxs;       /* struct pstx: SUBSCRIBEs on their way */
	struct list txs;        /* struct ptx: requests on their way */
};

/* A SUBSCRIBE of ours on its way (TS 24.229 5.2.3). */
struct pstx {
	struct le le; /* in stxs: released at stop */
	struct pcscf_role *r;
	struct cscf_fwd *ct;
	uint64_t id; /* pcscf_sub's */
};

/* One request on its way: the server transaction, the client one. */
struct ptx {
	struct le le; /* in txs: released at stop (no callback then) */
	struct pcscf_role *r;
	struct sip_strans *st;
	struct cscf_fwd *ct;
	struct sip_msg *req; /* as received (pcscf_response needs it) */
};

static void destructor(void *arg)
{
	struct pcscf_role *r = arg;

	if (r->p)
		pcscf_close(r->p);
	if (r->sip)
		sip_close(r->sip);
	pcscf_sub_close(r->subs);
	list_flush(&r->stxs);
	list_flush(&r->txs);
	mem_deref(r->subs);
	mem_deref(r->p);
	mem_deref(r->dns);
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


static void pstx_destructor(void *arg)
{
	struct pstx *x = arg;

	list_unlink(&x->le);
	mem_deref(x->ct);
}


static void sub_resp(int err, struct sip_msg *msg, void *arg)
{
	struct pstx *x = arg;

	if (!err && msg && msg->scode < 200)
		return;
	pcscf_sub_response(x->r->subs, x->id, err, msg);
	mem_deref(x);
}


/* pcscf_sub's send hook: the SUBSCRIBE by its Route or Request-URI */
static int sub_send(uint64_t id, struct sip_msg *req, void *arg)
{
	struct pcscf_role *r = arg;
	struct cscf_hop hop = { .dns = r->dns };
	struct pstx *x;
	int err;

	x = mem_zalloc(sizeof(*x), pstx_destructor);
	if (!x)
		return ENOMEM;
	x->r = r;
	x->id = id;
	err = cscf_fwd_request(&x->ct, r->sip, req, &hop, sub_resp, x);
	if (err) {
		LOG_WARN(NULL, "reg event SUBSCRIBE not sent: %s",
			 log_strerror(err));
		mem_deref(x);
		return err;
	}
	list_append(&r->stxs, &x->le, x);
	return 0;
}


/* pcscf subscribe hook: SUBSCRIBE to the phone's IMPU at the S-CSCF */
static void subscribe_h(const struct pcscf_subscribe *s, void *arg)
{
	struct pcscf_role *r = arg;
	int err = pcscf_sub_start(r->subs, s);

	if (err && err != EALREADY)
		LOG_WARN(NULL, "reg event subscription to %s not started: %s",
			 s->impu, log_strerror(err));
}


/* pcscf drop hook: an IMPU with no registration left is not refreshed */
static void drop_h(const char *impu, const char *contact, void *arg)
{
	struct pcscf_role *r = arg;
	struct pl pl;

	(void)contact;
	pl_set_str(&pl, impu);
	if (!pcscf_impu_registered(r->p, &pl))
		pcscf_sub_gone(r->subs, impu);
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
	char reason[32];
	uint16_t scode;

	if (t->req->meth != SIP_METHOD_NOTIFY) {
		role_reply(t->st, 405, NULL);
		return;
	}
	scode = pcscf_sub_notify(r->subs, t->req, reason, sizeof(reason));
	role_reply(t->st, scode, NULL);
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
		err = cscf_fwd_cancel(t->ct); /* RFC 3261 16.10 */
		if (err)
			LOG_WARN(NULL, "CANCEL not sent: %s",
				 log_strerror(err));
	}
}


static void hop_of(struct cscf_hop *hop, const struct pcscf_out *out,
		   struct sip_dns *dns)
{
	hop->dns = dns;
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

	hop_of(&hop, out, t->r->dns);
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
			hop_of(&hop, &out, r->dns);
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

		if (!r->icscf[0]) {
			(void)snprintf(msg, size,
				       "[pcscf] icscf is not set (found by "
				       "DNS): list the trust domain in "
				       "[pcscf] core");
			return EINVAL;
		}
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
	if (!c->uri || !*c->uri) {
		(void)snprintf(msg, size,
			       "the pcscf role needs [pcscf] uri (its SIP "
			       "URI, e.g. sip:127.0.0.1:5060)");
		return EINVAL;
	}
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	list_init(&r->stxs);
	list_init(&r->txs);
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	(void)snprintf(r->icscf, sizeof(r->icscf), "%s",
		       c->icscf ? c->icscf : "");
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
	if (r->icscf[0] && sip_uri_decode(&u, &t)) {
		(void)snprintf(msg, size, "[pcscf] icscf '%s' is not a SIP URI",
			       r->icscf);
		err = EINVAL;
		goto out;
	}
	err = cscf_fwd_dns_alloc(&r->dns, c->dns, msg, size);
	if (err)
		goto out;
	err = core_parse(r, c, &pc, msg, size);
	if (err)
		goto out;
	pc.uri = r->uri;
	pc.icscf = r->icscf[0] ? r->icscf : NULL; /* none: DNS */
	pc.visited_network = r->vnet[0] ? r->vnet : NULL;
	hooks.subh = subscribe_h;
	hooks.droph = drop_h;
	err = pcscf_sub_alloc(&r->subs, r->uri, sub_send, term_h, r);
	if (!err)
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
	LOG_INFO(NULL, "P-CSCF %s, I-CSCF %s", r->uri,
		 r->icscf[0] ? r->icscf : "by DNS (RFC 3263)");
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
	pcscf_sub_close(r->subs);
	list_flush(&r->stxs);
	list_flush(&r->txs);
}
