/**
 * @file role_scscf.c  The S-CSCF role of `entims run`.
 *
 * Wiring only: the S-CSCF registrar (cscf/scscf_reg.c, TS 24.229 5.4.1)
 * authenticates and registers; this file owns the role's SIP stack and
 * its store.  A REGISTER gets a server transaction (retransmissions are
 * absorbed while MAR/SAR run) and scscf_reg_handle() answers it through
 * the reply callback.  Bindings survive a restart in an SQLite store in
 * the data directory (scscf_store.h).
 * The reg event package (TS 24.229 5.4.2.1, RFC 3680): a SUBSCRIBE with
 * Event: reg goes to the notifier (cscf/regevent.h), whose subscriptions
 * are kept in an SQLite file next to the bindings; its NOTIFYs are
 * in-dialog requests sent with one client transaction each (cscf/fwd.h),
 * their outcome fed back (regevent_notify_result: 481 or a timeout ends
 * the subscription, RFC 6665 4.2.2).  The registrar reports each contact
 * change of each IMPU; the adapter below turns it into the snapshot the
 * notifier wants: the IMPU's contacts as the registrar now has them, the
 * changed one marked with its RFC 3680 event.
 * Other requests get 501 until the session routing module is wired
 * (TS 24.229 5.4.3).
 */
#include "cmd/role_scscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "cscf/fwd.h"
#include "cscf/regevent.h"
#include "cscf/scscf_reg.h"
#include "cscf/scscf_store.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define LOG_MODULE "scscf"

struct scscf_role {
	struct sip *sip;
	struct scscf_reg *reg;
	struct scscf_store *store;
	struct regevent *re;
	struct regevent_store *re_store;
	struct list ntxs; /* struct ntx: NOTIFYs on their way */
	char uri[CONF_STR_MAX];
	char realm[CONF_STR_MAX];
};

struct stx {
	struct sip_strans *st;
};

static void destructor(void *arg)
{
	struct scscf_role *r = arg;

	if (r->reg)
		scscf_reg_close(r->reg);
	if (r->re)
		regevent_close(r->re);
	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->ntxs);
	mem_deref(r->reg);
	mem_deref(r->re);
	mem_deref(r->re_store);
	mem_deref(r->store);
	mem_deref(r->sip);
}


static void stx_destructor(void *arg)
{
	struct stx *t = arg;

	mem_deref(t->st);
}


static void replied(const struct scscf_reply *rep, void *arg)
{
	struct stx *t = arg;
	struct sip_reply_opts o = { 0 };
	int err;

	if (!rep->err) {
		o.reason = rep->reason;
		o.hdrs = rep->hdrs;
		err = sip_strans_reply(t->st, rep->scode, &o);
		if (err)
			LOG_WARN(NULL, "REGISTER answer %u not sent: %s",
				 rep->scode, log_strerror(err));
	}
	mem_deref(t);
}


/* ---- reg event: SUBSCRIBE in, NOTIFY out ---- */

static void sub_replied(const struct regevent_reply *rep, void *arg)
{
	struct stx *t = arg;
	struct sip_reply_opts o = { 0 };
	int err;

	o.reason = rep->reason;
	o.hdrs = rep->hdrs;
	o.totag = rep->totag;
	err = sip_strans_reply(t->st, rep->scode, &o);
	if (err)
		LOG_WARN(NULL, "SUBSCRIBE answer %u not sent: %s", rep->scode,
			 log_strerror(err));
	mem_deref(t);
}


/* A NOTIFY in flight: which subscription and CSeq to report on. */
struct ntx {
	struct le le;
	struct sip_ctrans *ct;
	struct scscf_role *r;
	uint64_t sub_id;
	uint32_t cseq;
};

static void ntx_destructor(void *arg)
{
	struct ntx *n = arg;

	list_unlink(&n->le);
	mem_deref(n->ct);
}


static void notify_resp(int err, struct sip_msg *msg, void *arg)
{
	struct ntx *n = arg;

	if (!err && (!msg || msg->scode < 200))
		return;
	regevent_notify_result(n->r->re, n->sub_id, n->cseq,
			       err || !msg ? 408 : msg->scode);
	mem_deref(n);
}


static void notify_h(const struct regevent_notify *n, void *arg)
{
	struct scscf_role *r = arg;
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb = NULL;
	struct ntx *x;
	int err;

	x = mem_zalloc(sizeof(*x), ntx_destructor);
	if (!x) {
		regevent_notify_result(r->re, n->sub_id, n->cseq, 500);
		return;
	}
	x->r = r;
	list_append(&r->ntxs, &x->le, x);
	x->sub_id = n->sub_id;
	x->cseq = n->cseq;
	/* our Via and Max-Forwards decrement come from cscf/fwd.c */
	err = buf_alloc(&mb, n->body.l + 1024, 65535);
	if (!err)
		err = buf_printf(mb,
				 "NOTIFY %s SIP/2.0\r\n%sContent-Length: "
				 "%zu\r\n\r\n%.*s",
				 n->ruri, n->hdrs, n->body.l, (int)n->body.l,
				 n->body.p);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(&msg, mb, true, &merr);
	}
	if (!err)
		err = cscf_fwd_request(&x->ct, r->sip, msg, NULL, notify_resp,
				       x);
	mem_deref(msg);
	mem_deref(mb);
	if (err) {
		LOG_WARN(NULL, "NOTIFY for %s not sent: %s", n->impu,
			 log_strerror(err));
		mem_deref(x);
		regevent_notify_result(r->re, n->sub_id, n->cseq, 408);
	}
}


static bool ev_active(enum scscf_reg_ev ev)
{
	return ev == SCSCF_EV_REGISTERED || ev == SCSCF_EV_CREATED ||
	       ev == SCSCF_EV_REFRESHED || ev == SCSCF_EV_SHORTENED;
}


/* The registrar's event names are RFC 3680's, in the same order. */
static enum reginfo_event ev_map(enum scscf_reg_ev ev)
{
	switch (ev) {
	case SCSCF_EV_REGISTERED:
		return REGINFO_EV_REGISTERED;
	case SCSCF_EV_CREATED:
		return REGINFO_EV_CREATED;
	case SCSCF_EV_REFRESHED:
		return REGINFO_EV_REFRESHED;
	case SCSCF_EV_SHORTENED:
		return REGINFO_EV_SHORTENED;
	case SCSCF_EV_EXPIRED:
		return REGINFO_EV_EXPIRED;
	case SCSCF_EV_DEACTIVATED:
		return REGINFO_EV_DEACTIVATED;
	case SCSCF_EV_PROBATION:
		return REGINFO_EV_PROBATION;
	case SCSCF_EV_REJECTED:
		return REGINFO_EV_REJECTED;
	case SCSCF_EV_UNREGISTERED:
	default:
		return REGINFO_EV_UNREGISTERED;
	}
}


#define SNAP_MAX 16

/* Registrar event -> notifier snapshot of that IMPU. */
static void reg_event_h(const struct scscf_reg_event *e, void *arg)
{
	struct scscf_role *r = arg;
	struct scscf_contact cv[SNAP_MAX];
	struct regevent_contact ct[SNAP_MAX + 1];
	struct regevent_reg reg = { 0 };
	struct regevent_set set = { 0 };
	const char *epath = NULL;
	size_t n = 0, i, k = 0;
	bool active = false;
	int err;

	if (!r->re)
		return;
	memset(ct, 0, sizeof(ct));
	if (scscf_reg_lookup(r->reg, e->impu, cv, SNAP_MAX, &n))
		n = 0;
	for (i = 0; i < n && i < SNAP_MAX; i++) {
		if (!strcmp(cv[i].uri, e->contact)) {
			/* reported below, as changed; its Path authorises
			 * the P-CSCF's SUBSCRIBE (TS 24.229 5.4.2.1.1) */
			epath = *cv[i].path ? cv[i].path : NULL;
			continue;
		}
		ct[k].uri = cv[i].uri;
		ct[k].state = REGINFO_CT_ACTIVE;
		ct[k].event = REGINFO_EV_REGISTERED;
		ct[k].expires = cv[i].expires;
		ct[k].q = (int16_t)cv[i].q;
		ct[k].callid = cv[i].call_id;
		ct[k].cseq = cv[i].cseq;
		ct[k].instance = *cv[i].instance ? cv[i].instance : NULL;
		ct[k].path = *cv[i].path ? cv[i].path : NULL;
		active = true;
		k++;
	}
	ct[k].uri = e->contact;
	ct[k].state =
		ev_active(e->ev) ? REGINFO_CT_ACTIVE : REGINFO_CT_TERMINATED;
	ct[k].event = ev_map(e->ev);
	ct[k].changed = true;
	ct[k].expires = e->expires;
	ct[k].q = -1;
	ct[k].callid = e->call_id;
	ct[k].cseq = e->cseq;
	ct[k].instance = *e->instance ? e->instance : NULL;
	ct[k].path = epath;
	if (ev_active(e->ev))
		active = true;
	k++;
	reg.aor = e->impu;
	reg.state = active ? REGINFO_REG_ACTIVE : REGINFO_REG_TERMINATED;
	reg.ct = ct;
	reg.ct_n = k;
	set.reg = &reg;
	set.reg_n = 1;
	err = regevent_update(r->re, &set);
	if (err)
		LOG_WARN(NULL, "reg event for %s not notified: %s", e->impu,
			 log_strerror(err));
}


static void handle_subscribe(struct scscf_role *r, struct stx *t)
{
	int err;

	err = regevent_subscribe(r->re, sip_strans_req(t->st), sub_replied, t);
	if (err) {
		LOG_WARN(NULL, "SUBSCRIBE not handled: %s", log_strerror(err));
		err = sip_strans_reply(t->st, 500, NULL);
		(void)err;
		mem_deref(t);
	}
}


static bool is_reg_event(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct pl v;

	if (!h)
		return false;
	v = h->val;
	/* "reg" or "reg;id=..." (RFC 6665 8.2.1) */
	return v.l >= 3 && !strncasecmp(v.p, "reg", 3) &&
	       (v.l == 3 || v.p[3] == ';' || v.p[3] == ' ');
}


static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct scscf_role *r = arg;
	struct sip_msg *req = NULL;
	struct stx *t;
	int err;

	(void)sip;
	if (msg->meth == SIP_METHOD_ACK)
		return true; /* an ACK for a 2xx: no session routing yet */
	if (msg->meth != SIP_METHOD_REGISTER &&
	    !(msg->meth == SIP_METHOD_SUBSCRIBE && is_reg_event(msg))) {
		(void)sip_replyf(r->sip, msg, 501,
				 "Session Routing Not Wired Yet");
		return true;
	}
	t = mem_zalloc(sizeof(*t), stx_destructor);
	if (!t)
		goto oom;
	err = sip_msg_dup(&req, msg);
	if (!err)
		err = sip_strans_alloc(&t->st, r->sip, req, NULL, NULL);
	mem_deref(req);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	if (msg->meth == SIP_METHOD_SUBSCRIBE) {
		handle_subscribe(r, t);
		return true;
	}
	err = scscf_reg_handle(r->reg, sip_strans_req(t->st), replied, t);
	if (err) {
		LOG_WARN(NULL, "REGISTER not handled: %s", log_strerror(err));
		err = sip_strans_reply(t->st, 500, NULL);
		(void)err;
		mem_deref(t);
	}
	return true;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
	return true;
}


static void on_response(struct sip *sip, struct sip_msg *msg, void *arg)
{
	(void)sip;
	(void)arg;
	LOG_DEBUG(NULL, "stray %u dropped", msg->scode);
}


int scscf_role_start(struct scscf_role **rp, const struct scscf_role_conf *c,
		     char *msg, size_t size)
{
	struct scscf_reg_conf rc = { 0 };
	struct scscf_role *r;
	struct regevent_conf ec = { 0 };
	char dir[CONF_STR_MAX + 16], path[CONF_STR_MAX + 32];
	int err;

	if (!rp || !c || !c->node || !c->data_dir)
		return EINVAL;
	if (!c->uri || strncmp(c->uri, "sip", 3) != 0) {
		(void)snprintf(msg, size,
			       "the scscf role needs [scscf] uri (its SIP URI "
			       "and Server-Name, e.g. sip:127.0.0.1:5080)");
		return EINVAL;
	}
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	list_init(&r->ntxs);
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	(void)snprintf(r->realm, sizeof(r->realm), "%s",
		       c->realm ? c->realm : "");
	(void)snprintf(dir, sizeof(dir), "%s/scscf", c->data_dir);
	err = scscf_store_sqlite_open(&r->store, dir);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the S-CSCF store in '%s': %s", dir,
			       log_strerror(err));
		goto out;
	}
	(void)snprintf(path, sizeof(path), "%s/regevent.db", dir);
	err = regevent_store_sqlite_open(&r->re_store, path);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the reg event store '%s': %s", path,
			       log_strerror(err));
		goto out;
	}
	ec.contact = r->uri;
	ec.store = r->re_store;
	ec.notifyh = notify_h;
	ec.arg = r;
	err = regevent_alloc(&r->re, &ec);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot create the reg event notifier: %s",
			       log_strerror(err));
		goto out;
	}
	rc.server_name = r->uri;
	rc.realm = r->realm[0] ? r->realm : NULL;
	rc.store = r->store;
	err = scscf_reg_alloc(&r->reg, c->node, &rc);
	if (err) {
		(void)snprintf(msg, size, "cannot create the S-CSCF: %s",
			       log_strerror(err));
		goto out;
	}
	scscf_reg_set_eventh(r->reg, reg_event_h, r);
	err = role_sip_open(&r->sip, &c->sip, on_request, on_response, r, msg,
			    size);
	if (err)
		goto out;
	LOG_INFO(NULL, "S-CSCF %s, store %s", r->uri, dir);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


void scscf_role_stop(struct scscf_role *r)
{
	if (!r)
		return;
	if (r->reg)
		scscf_reg_close(r->reg);
	if (r->re)
		regevent_close(r->re);
	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->ntxs);
}
