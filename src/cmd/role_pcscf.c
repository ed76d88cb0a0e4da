/**
 * @file role_pcscf.c  The P-CSCF role of `entims run`.
 *
 * Wiring only: cscf/pcscf.c decides (TS 24.229 5.2), this file owns the
 * role's SIP stack and moves messages.  Each request gets a server
 * transaction; pcscf_request() answers it, or rewrites it and role_fwd
 * sends it on with one client transaction: a REGISTER to the configured
 * I-CSCF (5.2.2.1), a request for a phone over the phone's flow (RFC 5626
 * 5.3), anything else by its Route (the Service-Route the P-CSCF
 * preloaded, 5.2.6.3.3).  Every response but 100 (hop-by-hop, RFC 3261
 * 16.7 step 3) goes through pcscf_response() with the request as we
 * received it, so a 2xx to a REGISTER stores the phone's Service-Route
 * and P-Associated-URIs (5.2.2.2), and is relayed on the server
 * transaction.
 * The P-CSCF is its own node: co-located roles are reached over their
 * loopback listeners like remote ones.
 */
#include "cmd/role_pcscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "cscf/pcscf.h"
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
};

/* One request on its way: the server transaction, the client one. */
struct ptx {
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
	mem_deref(r->p);
	mem_deref(r->sip);
}


static void ptx_destructor(void *arg)
{
	struct ptx *t = arg;

	mem_deref(t->ct);
	mem_deref(t->st);
	mem_deref(t->req);
}


static void reply(struct ptx *t, uint16_t scode, const char *reason)
{
	struct sip_reply_opts o = { 0 };
	int err;

	o.reason = reason;
	err = sip_strans_reply(t->st, scode, &o);
	if (err)
		LOG_WARN(NULL, "answer %u not sent: %s", scode,
			 log_strerror(err));
}


static void fwd_resp(int err, struct sip_msg *msg, void *arg)
{
	struct ptx *t = arg;
	struct pcscf_out out = { 0 };
	bool final;

	if (err || !msg) {
		if (err && sip_strans_active(t->st))
			reply(t, role_fwd_scode(err), NULL);
		if (err || !msg)
			mem_deref(t);
		return;
	}
	final = msg->scode >= 200;
	if (msg->scode == 100)
		return; /* hop by hop; our transaction sent its own */
	err = pcscf_response(t->r->p, t->req, msg, &out);
	if (!err && out.act == PCSCF_FORWARD && out.msg)
		err = role_fwd_response(t->st, out.msg);
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


static void forward(struct ptx *t, struct pcscf_out *out)
{
	struct role_hop hop = { 0 };
	int err;

	if (out->to_phone) {
		hop.has_flow = true;
		hop.tp = out->flow.tp;
		hop.dst = out->flow.src;
		hop.conn = out->flow.conn;
	} else if (out->next_hop[0]) {
		hop.uri = out->next_hop;
	}
	err = role_fwd_request(&t->ct, t->r->sip, out->msg, &hop, fwd_resp, t);
	if (err) {
		LOG_INFO(NULL, "%.*s not forwarded: %s", (int)t->req->met.l,
			 t->req->met.p, log_strerror(err));
		reply(t, role_fwd_scode(err), NULL);
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
		/* an ACK for a 2xx has no transaction; stateless forwarding
		 * of in-dialog ACKs comes with session routing */
		LOG_DEBUG(NULL, "ACK dropped (no session routing yet)");
		return true;
	}
	t = mem_zalloc(sizeof(*t), ptx_destructor);
	if (!t)
		goto oom;
	t->r = r;
	err = sip_msg_dup(&t->req, msg);
	if (!err)
		err = sip_strans_alloc(&t->st, r->sip, t->req, st_event, t);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	err = pcscf_request(r->p, t->req, &out);
	if (err) {
		reply(t, 500, NULL);
		mem_deref(t);
		return true;
	}
	switch (out.act) {
	case PCSCF_REPLY:
		reply(t, out.scode, out.reason);
		mem_deref(t);
		break;
	case PCSCF_FORWARD:
		forward(t, &out);
		break;
	case PCSCF_LOCAL:
	default:
		/* the reg event NOTIFY (TS 24.229 5.2.3): the subscription
		 * is not wired yet, so there is nothing to match it */
		reply(t, 481, NULL);
		mem_deref(t);
		break;
	}
	pcscf_out_reset(&out);
	return true;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
	return true;
}


static void on_response(struct sip *sip, struct sip_msg *msg, void *arg)
{
	(void)sip;
	(void)arg;
	/* a stray response (its transaction is gone): nothing to relay
	 * it to, RFC 3261 16.7 would send it on statelessly; a REGISTER
	 * or its 2xx is never stray */
	LOG_DEBUG(NULL, "stray %u dropped", msg->scode);
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
	err = pcscf_alloc(&r->p, &pc, NULL, r);
	if (err) {
		(void)snprintf(msg, size, "cannot create the P-CSCF: %s",
			       log_strerror(err));
		goto out;
	}
	err = role_sip_open(&r->sip, &c->sip, on_request, on_response, r, msg,
			    size);
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
}
