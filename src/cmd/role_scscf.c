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
 * Every other request goes to session routing (cscf/scscf_route.h, TS
 * 24.229 5.4.3): a server transaction, the decision, and one client
 * transaction per forwarded copy (cscf/fwd.h).  Copies of one decision
 * (a terminating user's contacts) run in parallel and their answers are
 * merged as RFC 3261 16.7 says: provisionals and every 2xx are relayed at
 * once, a 2xx or 6xx CANCELs the other branches, otherwise the best final
 * (cscf/merge.c: step 6, and step 7's challenges of every 401/407) is
 * sent when all are in; a user none of whose contacts could be reached
 * gets 480.  An
 * application server that is silent, answers 408 or 5xx goes to
 * DefaultHandling (TS 29.228 B.2.2) on the same server transaction.
 * Dialog-creating requests get our Record-Route (5.4.3.2 step 7, 5.4.3.3
 * step 6) so in-dialog requests come back here; ACKs for a 2xx have no
 * transaction and are sent on statelessly (RFC 3261 16.11).
 * Third-party registration (TS 24.229 5.4.1.7): each registration change
 * the registrar reports goes to cscf/scscf_thirdparty.h, whose REGISTERs
 * to the ASs are sent here with one client transaction each and their
 * final status fed back; DefaultHandling SESSION_TERMINATED comes back as
 * scscf_reg_deregister().  Call records: the routing's call hooks feed a
 * cscf/callrec.h table (correlated by Call-ID), whose default subscriber
 * logs one line per call and session case at its end; the role's own
 * error answers to an INVITE end its records too.
 */
#include "cmd/role_scscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "cscf/callrec.h"
#include "cscf/fwd.h"
#include "cscf/merge.h"
#include "cscf/regevent.h"
#include "cscf/scscf_reg.h"
#include "cscf/scscf_route.h"
#include "cscf/scscf_store.h"
#include "cscf/scscf_thirdparty.h"
#include "sip/addr.h"
#include "sip/build.h"
#include "sip/ctrans.h"
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
	struct scscf_route *route;
	struct scscf_tp *tp;       /* third-party registration */
	struct list tptxs;         /* struct tptx: its REGISTERs */
	struct callrec_tab *calls; /* call records */
	struct list rtxs;          /* struct rtx: routed requests in flight */
	struct sip_dns *dns;       /* next hops by name (RFC 3263) */
	char uri[CONF_STR_MAX];
	char rr[CONF_STR_MAX + 8]; /* our Record-Route value */
	char icscf[CONF_STR_MAX];
	char breakout[CONF_STR_MAX];
	const char *domv[CONF_LIST_MAX];
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
	list_flush(&r->rtxs);
	list_flush(&r->tptxs);
	mem_deref(r->tp);
	mem_deref(r->calls);
	mem_deref(r->route);
	mem_deref(r->reg);
	mem_deref(r->re);
	mem_deref(r->re_store);
	mem_deref(r->store);
	mem_deref(r->dns);
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
	struct cscf_fwd *ct;
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
	if (!err) {
		struct cscf_hop hop = { .dns = r->dns };

		err = cscf_fwd_request(&x->ct, r->sip, msg, &hop, notify_resp,
				       x);
	}
	mem_deref(msg);
	mem_deref(mb);
	if (err) {
		LOG_WARN(NULL, "NOTIFY for %s not sent: %s", n->impu,
			 log_strerror(err));
		mem_deref(x);
		regevent_notify_result(r->re, n->sub_id, n->cseq, 408);
	}
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

static bool changed_in(const struct scscf_reg_event *e, const char *uri)
{
	for (size_t j = 0; j < e->ct_n; j++)
		if (!strcmp(e->ct[j].contact, uri))
			return true;
	return false;
}


/* One IMPU of the change: its unchanged contacts (from the registrar, of
 * every set that registers it), then the changed ones. */
static size_t snap_reg(const struct scscf_role *r,
		       const struct scscf_reg_event *e, const char *impu,
		       struct regevent_contact *ct, struct regevent_reg *reg)
{
	struct scscf_contact cv[SNAP_MAX];
	size_t n = 0, k = 0;
	bool active = false;

	if (scscf_reg_lookup(r->reg, impu, cv, SNAP_MAX, &n))
		n = 0;
	for (size_t i = 0; i < n && i < SNAP_MAX; i++) {
		if (changed_in(e, cv[i].uri))
			continue;
		ct[k] = (struct regevent_contact){
			.uri = cv[i].uri,
			.state = REGINFO_CT_ACTIVE,
			.event = REGINFO_EV_REGISTERED,
			.expires = cv[i].expires,
			.q = (int16_t)cv[i].q,
			.callid = cv[i].call_id,
			.cseq = cv[i].cseq,
			.instance = *cv[i].instance ? cv[i].instance : NULL,
			.path = *cv[i].path ? cv[i].path : NULL,
		};
		active = true;
		k++;
	}
	for (size_t j = 0; j < e->ct_n; j++) {
		const struct scscf_reg_event_ct *c = &e->ct[j];

		ct[k] = (struct regevent_contact){
			.uri = c->contact,
			.state = c->active ? REGINFO_CT_ACTIVE
					   : REGINFO_CT_TERMINATED,
			.event = ev_map(c->ev),
			.changed = true,
			.expires = c->expires,
			.q = c->q,
			.callid = c->call_id,
			.cseq = c->cseq,
			.instance = *c->instance ? c->instance : NULL,
			/* its Path authorises the P-CSCF's SUBSCRIBE
			 * (TS 24.229 5.4.2.1.1) */
			.path = *c->path ? c->path : NULL,
		};
		active |= c->active;
		k++;
	}
	*reg = (struct regevent_reg){
		.aor = impu,
		.state = active ? REGINFO_REG_ACTIVE : REGINFO_REG_TERMINATED,
		.ct = ct,
		.ct_n = k,
	};
	return k;
}


/* Registrar event -> notifier: a snapshot of every IMPU of the set
 * (TS 24.229 5.4.2.1.2), each with all its contacts, the changed ones
 * marked, and the ASs of the iFCs that may subscribe (5.4.2.1.1). */
static void reg_event_h(const struct scscf_reg_event *e, void *arg)
{
	struct scscf_role *r = arg;
	struct regevent_contact *ct;
	struct regevent_reg *regs;
	struct regevent_set set = { 0 };
	size_t per = SNAP_MAX + e->ct_n;
	int err = ENOMEM;

	if (!r->re || !e->impu_n)
		return;
	regs = mem_zalloc(e->impu_n * sizeof(*regs), NULL);
	ct = mem_zalloc(e->impu_n * per * sizeof(*ct), NULL);
	if (regs && ct) {
		for (size_t i = 0; i < e->impu_n; i++)
			(void)snap_reg(r, e, e->impu[i], ct + i * per,
				       &regs[i]);
		set.reg = regs;
		set.reg_n = e->impu_n;
		set.as_uri = e->as_uri;
		err = regevent_update(r->re, &set);
	}
	if (err)
		LOG_WARN(NULL, "reg event for %s not notified: %s", e->impu[0],
			 log_strerror(err));
	mem_deref(ct);
	mem_deref(regs);
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


/* ---- third-party registration (TS 24.229 5.4.1.7) ---- */

/* A third-party REGISTER on its way to an AS. */
struct tptx {
	struct le le;
	struct cscf_fwd *ct;
	struct scscf_role *r;
	uint64_t id;
};

static void tptx_destructor(void *arg)
{
	struct tptx *x = arg;

	list_unlink(&x->le);
	mem_deref(x->ct);
}


static void tp_resp(int err, struct sip_msg *msg, void *arg)
{
	struct tptx *x = arg;

	if (!err && msg && msg->scode < 200)
		return;
	scscf_tp_result(x->r->tp, x->id, err || !msg ? 0 : msg->scode);
	mem_deref(x);
}


static int tp_send(struct sip_msg *req, uint64_t id, void *arg)
{
	struct scscf_role *r = arg;
	struct tptx *x;
	int err;

	x = mem_zalloc(sizeof(*x), tptx_destructor);
	if (!x)
		return ENOMEM;
	x->r = r;
	x->id = id;
	list_append(&r->tptxs, &x->le, x);
	/* our Via and Max-Forwards decrement come from cscf/fwd.c; the AS
	 * is reached by its Request-URI (a name through RFC 3263) */
	{
		struct cscf_hop hop = { .dns = r->dns };

		err = cscf_fwd_request(&x->ct, r->sip, req, &hop, tp_resp, x);
	}
	if (err)
		mem_deref(x);
	return err;
}


/* DefaultHandling SESSION_TERMINATED: network-initiated de-registration
 * (5.4.1.7, 5.4.1.5). */
static void tp_dereg(const char *impu, void *arg)
{
	struct scscf_role *r = arg;
	int err = scscf_reg_deregister(r->reg, impu);

	if (err && err != ENOENT)
		LOG_WARN(NULL, "de-registration of %s: %s", impu,
			 log_strerror(err));
}


static void reg_change_h(const struct scscf_reg_change *c, void *arg)
{
	struct scscf_role *r = arg;
	size_t n = 0;
	int err;

	err = scscf_tp_change(r->tp, c, &n);
	if (err)
		LOG_WARN(NULL, "third-party registration of %s: %s", c->impu,
			 log_strerror(err));
	else if (n)
		LOG_DEBUG(NULL, "third-party REGISTER of %s to %zu AS(s)",
			  c->impu, n);
}


static int tp_start(struct scscf_role *r, char *msg, size_t size)
{
	struct scscf_tp_conf tc = { 0 };
	int err;

	tc.uri = r->uri;
	tc.sendh = tp_send;
	tc.deregh = tp_dereg;
	tc.arg = r;
	err = scscf_tp_alloc(&r->tp, &tc);
	if (!err)
		err = callrec_alloc(&r->calls, NULL);
	if (!err)
		err = callrec_subscribe(r->calls, callrec_log_h, NULL);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot create third-party registration and "
			       "call records: %s",
			       log_strerror(err));
		return err;
	}
	scscf_reg_set_changeh(r->reg, reg_change_h, r);
	return 0;
}

/* ---- session routing (TS 24.229 5.4.3) ---- */

struct rtx;

/* One forwarded copy and its client transaction. */
struct rfork {
	struct cscf_fwd *ct;
	struct rtx *t;
	bool final; /* a final response or an error came */
	bool ended; /* the client transaction is over */
};

/* A routed request: its server transaction and the branches. */
struct rtx {
	struct le le;
	struct scscf_role *r;
	struct sip_strans *st;
	struct sip_msg *req;     /* as received */
	struct sip_msg *as_sent; /* the copy an AS got (DefaultHandling) */
	struct cscf_merge merge; /* the finals so far (RFC 3261 16.7 6, 7) */
	struct rfork fv[SCSCF_ROUTE_TARGETS_MAX];
	size_t fc;
	bool final_sent;
	bool fetching;
	bool to_contacts; /* the branches go to the user's contacts */
};

static void route_act(struct rtx *t, struct scscf_route_out *out);

static void forks_reset(struct rtx *t)
{
	size_t i;

	for (i = 0; i < t->fc; i++)
		t->fv[i].ct = mem_deref(t->fv[i].ct);
	memset(t->fv, 0, sizeof(t->fv));
	t->fc = 0;
	cscf_merge_reset(&t->merge);
	t->as_sent = mem_deref(t->as_sent);
}


static void rtx_destructor(void *arg)
{
	struct rtx *t = arg;

	list_unlink(&t->le);
	forks_reset(t);
	mem_deref(t->st);
	mem_deref(t->req);
}


static void rtx_reply(struct rtx *t, uint16_t scode, const char *reason)
{
	if (t->final_sent)
		return;
	t->final_sent = true;
	role_reply(t->st, scode, reason);
	if (t->req->meth == SIP_METHOD_INVITE && scode >= 300) {
		/* an answer of ours, not relayed: no hook ran for it */
		const struct scscf_call c = { SCSCF_SC_ORIG, "", t->req,
					      scode };

		callrec_call_end(&c, t->r->calls);
	}
}


static void cancel_others(struct rtx *t, const struct rfork *keep)
{
	size_t i;
	int err;

	for (i = 0; i < t->fc; i++) {
		struct rfork *f = &t->fv[i];

		if (f == keep || f->final || !f->ct ||
		    t->req->meth != SIP_METHOD_INVITE)
			continue;
		err = cscf_fwd_cancel(f->ct); /* 16.7 step 10 */
		if (err)
			LOG_DEBUG(NULL, "CANCEL not sent: %s",
				  log_strerror(err));
	}
}


/* Answers that say a contact was not reached at all. */
static bool contact_unreachable(uint16_t scode)
{
	return scode == 408 || scode == 430 || scode == 502 || scode == 503 ||
	       scode == 504;
}


/* Everything in: send the best final, release when all branches ended. */
static void rtx_check(struct rtx *t)
{
	size_t i, finals = 0, ended = 0;
	int err;

	for (i = 0; i < t->fc; i++) {
		finals += t->fv[i].final;
		ended += t->fv[i].ended;
	}
	if (finals == t->fc && !t->final_sent) {
		if (t->to_contacts &&
		    (!t->merge.best ||
		     contact_unreachable(t->merge.best->scode))) {
			/* none of the registered contacts could be reached
			 * (a dead flow: 430 or 502 from the P-CSCF, RFC 5626
			 * 5.3; no answer: 408): the user is registered but
			 * not available, 480 (TS 24.229 5.4.3.3, RFC 3261
			 * 21.4.18) */
			rtx_reply(t, 480, NULL);
		} else if (t->merge.best) {
			struct sip_msg *resp = NULL;

			t->final_sent = true;
			err = cscf_merge_result(&t->merge, &resp);
			if (!err)
				err = cscf_fwd_response(t->st, resp);
			if (err)
				LOG_WARN(NULL, "response %u not relayed: %s",
					 t->merge.best->scode,
					 log_strerror(err));
			mem_deref(resp);
		} else {
			rtx_reply(t, 408, NULL);
		}
	}
	if (ended == t->fc)
		mem_deref(t);
}


/* DefaultHandling for the AS copy: SESSION_CONTINUED goes on, TERMINATED
 * answers (TS 29.228 B.2.2). */
static void as_failed(struct rtx *t, uint16_t scode)
{
	struct scscf_route_out out;
	struct sip_msg *sent = t->as_sent;
	int err;

	t->as_sent = NULL;
	forks_reset(t); /* the AS's transaction goes, without callbacks */
	LOG_INFO(NULL, "application server failed (%u): default handling",
		 scode);
	err = scscf_route_as_failed(t->r->route, sent, scode, &out);
	mem_deref(sent);
	if (err) {
		rtx_reply(t, 500, NULL);
		mem_deref(t);
		return;
	}
	route_act(t, &out);
	scscf_route_out_reset(&out);
}


/* A branch ended without a final response (timeout, transport error). */
static void fork_ended(struct rtx *t, struct rfork *f, int err)
{
	f->ended = true;
	if (!f->final) {
		f->final = true;
		if (t->as_sent && !t->final_sent) {
			as_failed(t, 0);
			return;
		}
		LOG_INFO(NULL, "branch ended without answer: %s",
			 log_strerror(err ? err : ETIMEDOUT));
	}
	rtx_check(t);
}


/* A branch's final response (16.7 steps 5, 6, 10). */
static void fork_final(struct rtx *t, struct rfork *f, struct sip_msg *msg)
{
	int err;

	f->final = true;
	if (t->req->meth != SIP_METHOD_INVITE)
		f->ended = true;
	if (t->as_sent && !t->final_sent &&
	    (msg->scode == 408 || msg->scode >= 500) && msg->scode < 600) {
		as_failed(t, msg->scode);
		return;
	}
	if (msg->scode < 300) {
		/* every 2xx goes up (16.7 step 5), the others are cancelled */
		t->final_sent = true;
		err = cscf_fwd_response(t->st, msg);
		if (err)
			LOG_DEBUG(NULL, "2xx not relayed: %s",
				  log_strerror(err));
		cancel_others(t, f);
	} else if (!t->final_sent) {
		/* kept for the merge (16.7 steps 6, 7: every challenge) */
		err = cscf_merge_add(&t->merge, msg);
		if (err)
			LOG_WARN(NULL, "%u not kept: %s", msg->scode,
				 log_strerror(err));
		if (msg->scode >= 600)
			cancel_others(t, f);
	}
	rtx_check(t);
}


static void fork_resp(int err, struct sip_msg *msg, void *arg)
{
	struct rfork *f = arg;
	struct rtx *t = f->t;

	if (err || !msg) {
		fork_ended(t, f, err);
		return;
	}
	if (msg->scode == 100)
		return; /* hop by hop */
	if (f->final && msg->scode >= 200 && msg->scode < 300 &&
	    t->req->meth == SIP_METHOD_INVITE) {
		/* a 2xx retransmission reaches us only when the client
		 * transaction passes it up: relay it (16.7 step 5) */
		if (cscf_fwd_response(t->st, msg))
			LOG_DEBUG(NULL, "2xx retransmission not relayed");
		return;
	}
	scscf_route_response(t->r->route, t->req, msg);
	if (msg->scode < 200) {
		if (!t->final_sent &&
		    (err = cscf_fwd_response(t->st, msg)) != 0)
			LOG_DEBUG(NULL, "%u not relayed: %s", msg->scode,
				  log_strerror(err));
		return;
	}
	fork_final(t, f, msg);
}


static bool dialog_creating(struct sip_msg *req)
{
	const struct sip_addr *to;

	if (!sip_msg_to(req, &to) && pl_isset(&to->tag))
		return false;
	return req->meth == SIP_METHOD_INVITE ||
	       req->meth == SIP_METHOD_SUBSCRIBE ||
	       req->meth == SIP_METHOD_REFER;
}


static const char *hop_name(enum scscf_hop h)
{
	switch (h) {
	case SCSCF_HOP_AS:
		return "AS";
	case SCSCF_HOP_ICSCF:
		return "I-CSCF";
	case SCSCF_HOP_DNS:
		return "DNS";
	case SCSCF_HOP_BREAKOUT:
		return "breakout";
	case SCSCF_HOP_CONTACT:
		return "contact";
	case SCSCF_HOP_ROUTE:
	default:
		return "route";
	}
}


static void route_forward(struct rtx *t, struct scscf_route_out *out)
{
	struct cscf_hop hop = { .dns = t->r->dns };
	size_t i;
	int err = 0;

	if (dialog_creating(t->req))
		hop.rr = t->r->rr;
	forks_reset(t);
	t->to_contacts = out->hop == SCSCF_HOP_CONTACT;
	if (out->hop == SCSCF_HOP_AS && out->msgc)
		t->as_sent = mem_ref(out->msgv[0]);
	for (i = 0; i < out->msgc && i < SCSCF_ROUTE_TARGETS_MAX; i++) {
		struct rfork *f = &t->fv[t->fc];

		f->t = t;
		err = cscf_fwd_request(&f->ct, t->r->sip, out->msgv[i], &hop,
				       fork_resp, f);
		if (err) {
			LOG_INFO(NULL, "%.*s to %s not forwarded: %s",
				 (int)t->req->met.l, t->req->met.p,
				 hop_name(out->hop), log_strerror(err));
			continue;
		}
		t->fc++;
	}
	LOG_DEBUG(NULL, "%.*s to %s, %zu branch(es)", (int)t->req->met.l,
		  t->req->met.p, hop_name(out->hop), t->fc);
	if (t->fc)
		return;
	if (t->as_sent) {
		as_failed(t, 0); /* the AS is unreachable */
		return;
	}
	rtx_reply(t, t->to_contacts ? 480 : cscf_fwd_scode(err ? err : EINVAL),
		  NULL);
	mem_deref(t);
}


static void fetched(int err, const struct scscf_impu_info *info, void *arg)
{
	struct rtx *t = arg;
	struct scscf_route_out out;

	(void)info;
	t->fetching = false;
	if (scscf_route_fetched(t->r->route, t->req, err, &out)) {
		rtx_reply(t, 500, NULL);
		mem_deref(t);
		return;
	}
	if (out.act == SCSCF_ROUTE_FETCH) {
		/* the profile came but is still not enough: do not loop */
		rtx_reply(t, 480, NULL);
		mem_deref(t);
	} else {
		route_act(t, &out);
	}
	scscf_route_out_reset(&out);
}


static void route_act(struct rtx *t, struct scscf_route_out *out)
{
	int err;

	switch (out->act) {
	case SCSCF_ROUTE_FORWARD:
		route_forward(t, out);
		break;
	case SCSCF_ROUTE_FETCH:
		t->fetching = true;
		err = scscf_reg_unregistered_profile(t->r->reg, out->impu,
						     fetched, t);
		if (err) {
			t->fetching = false;
			rtx_reply(t, 480, NULL);
			mem_deref(t);
		}
		break;
	case SCSCF_ROUTE_REPLY:
	default:
		rtx_reply(t, out->scode ? out->scode : 500, out->reason);
		mem_deref(t);
		break;
	}
}


/* CANCEL of the INVITE we route (RFC 3261 16.10): every branch. */
static void rtx_cancel(int err, struct sip_msg *msg, void *arg)
{
	struct rtx *t = arg;

	if (err)
		return;
	/* the transaction layer absorbed the CANCEL (RFC 3261 9.2): session
	 * routing never sees it, so its records end here, as cancelled
	 * rather than by the 487 that follows */
	if (msg) {
		const struct scscf_call c = { SCSCF_SC_ORIG, "", msg, 0 };

		callrec_call_end(&c, t->r->calls);
	}
	cancel_others(t, NULL);
}


/* An ACK for a 2xx: no transaction, sent on by its Route. */
static void route_ack(struct scscf_role *r, struct sip_msg *msg)
{
	struct scscf_route_out out;
	struct cscf_hop hop = { .dns = r->dns };
	int err;

	if (scscf_route_request(r->route, msg, &out))
		return;
	if (out.act == SCSCF_ROUTE_FORWARD && out.msgc) {
		err = cscf_fwd_stateless(r->sip, out.msgv[0], &hop);
		if (err)
			LOG_INFO(NULL, "ACK not forwarded: %s",
				 log_strerror(err));
	}
	scscf_route_out_reset(&out);
}


static void route_request(struct scscf_role *r, struct sip_msg *msg)
{
	struct scscf_route_out out;
	struct rtx *t;
	int err;

	t = mem_zalloc(sizeof(*t), rtx_destructor);
	if (!t)
		goto oom;
	t->r = r;
	list_append(&r->rtxs, &t->le, t);
	err = sip_msg_dup(&t->req, msg);
	if (!err)
		err = sip_strans_alloc(
			&t->st, r->sip, t->req,
			msg->meth == SIP_METHOD_INVITE ? rtx_cancel : NULL, t);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	err = scscf_route_request(r->route, t->req, &out);
	if (err) {
		rtx_reply(t, 500, NULL);
		mem_deref(t);
		return;
	}
	route_act(t, &out);
	scscf_route_out_reset(&out);
	return;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
}


/* The call hooks feed the call records (cscf/callrec.h). */
static void call_start(const struct scscf_call *c, void *arg)
{
	struct scscf_role *r = arg;

	callrec_call_start(c, r->calls);
}

static void call_answer(const struct scscf_call *c, void *arg)
{
	struct scscf_role *r = arg;

	callrec_call_answer(c, r->calls);
}

static void call_end(const struct scscf_call *c, void *arg)
{
	struct scscf_role *r = arg;

	callrec_call_end(c, r->calls);
}


static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct scscf_role *r = arg;
	struct sip_msg *req = NULL;
	struct stx *t;
	int err;

	(void)sip;
	if (msg->meth == SIP_METHOD_ACK) {
		route_ack(r, msg); /* an ACK for a 2xx */
		return true;
	}
	if (msg->meth != SIP_METHOD_REGISTER &&
	    !(msg->meth == SIP_METHOD_SUBSCRIBE && is_reg_event(msg))) {
		route_request(r, msg);
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


static int route_start(struct scscf_role *r, const struct scscf_role_conf *c,
		       char *msg, size_t size)
{
	static const struct scscf_route_hooks hooks = {
		.call_start = call_start,
		.call_answer = call_answer,
		.call_end = call_end,
	};
	struct scscf_route_conf rc = { 0 };
	struct scscf_route_db db;
	size_t i, n = 0;
	int err;

	if (!c->icscf || strncmp(c->icscf, "sip", 3) != 0) {
		(void)snprintf(msg, size,
			       "the scscf role needs [scscf] icscf (the "
			       "I-CSCF for calls to our domains, e.g. "
			       "sip:127.0.0.1:5070)");
		return EINVAL;
	}
	if (c->breakout && strncmp(c->breakout, "sip", 3) != 0) {
		(void)snprintf(msg, size,
			       "[scscf] breakout '%s' is not a SIP URI",
			       c->breakout);
		return EINVAL;
	}
	(void)snprintf(r->icscf, sizeof(r->icscf), "%s", c->icscf);
	(void)snprintf(r->breakout, sizeof(r->breakout), "%s",
		       c->breakout ? c->breakout : "");
	/* our Record-Route: the Service-Route URI without "orig", so
	 * in-dialog requests are told from initial ones (5.4.3.1) */
	(void)snprintf(r->rr, sizeof(r->rr), "<%s;lr>", r->uri);
	for (i = 0; c->domains && i < c->domains->n; i++)
		r->domv[n++] = c->domains->v[i];
	if (!n && c->home && *c->home)
		r->domv[n++] = c->home;
	if (!n) {
		(void)snprintf(msg, size,
			       "the scscf role needs [scscf] domains (or "
			       "[diameter] realm): the home domains");
		return EINVAL;
	}
	rc.uri = r->uri;
	rc.icscf = r->icscf;
	rc.breakout = r->breakout[0] ? r->breakout : NULL;
	rc.domains = r->domv;
	rc.domains_n = n;
	scscf_route_db_from_reg(&db, r->reg);
	err = scscf_route_alloc(&r->route, &rc, &db, &hooks, r);
	if (err)
		(void)snprintf(msg, size, "cannot create session routing: %s",
			       log_strerror(err));
	return err;
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
	list_init(&r->rtxs);
	list_init(&r->tptxs);
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	(void)snprintf(r->realm, sizeof(r->realm), "%s",
		       c->realm ? c->realm : "");
	(void)snprintf(dir, sizeof(dir), "%s/scscf", c->data_dir);
	if (c->db_file) {
		(void)snprintf(dir, sizeof(dir), "%s", c->db_file);
		err = scscf_store_sqlite_open_file(&r->store, c->db_file);
	} else {
		err = scscf_store_sqlite_open(&r->store, dir);
	}
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the S-CSCF store in '%s': %s", dir,
			       log_strerror(err));
		goto out;
	}
	if (c->db_file)
		(void)snprintf(path, sizeof(path), "%s", c->db_file);
	else
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
	err = tp_start(r, msg, size);
	if (err)
		goto out;
	err = cscf_fwd_dns_alloc(&r->dns, c->dns, msg, size);
	if (err)
		goto out;
	err = route_start(r, c, msg, size);
	if (err)
		goto out;
	err = role_sip_open(&r->sip, &c->sip, on_request, role_stray_response,
			    r, msg, size);
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


struct callrec_tab *scscf_role_calls(const struct scscf_role *r)
{
	return r ? r->calls : NULL;
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
	list_flush(&r->rtxs);
	list_flush(&r->tptxs);
	callrec_close(r->calls); /* open calls end as "closed" */
}
