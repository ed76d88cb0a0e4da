/**
 * @file hss_push.c  Requests the HSS originates: Registration-Termination
 *                   (TS 29.228 6.1.3), Push-Profile (6.2.2), and the
 *                   outbox that lets other processes ask for them.
 *
 * Every request goes through the node's send callback (hss_set_send);
 * a small context, which holds the HSS by a counted reference, carries
 * what the answer handler needs (the identities an RTR deregisters).
 * An RTR changes nothing until its RTA says DIAMETER_SUCCESS: only then
 * are the identities NOT_REGISTERED and, when no identity of the
 * subscription is served any more, the S-CSCF forgotten.  A PPA changes
 * nothing either way (TS 29.228 6.2.2.1: the S-CSCF keeps what it had
 * if it could not take the new profile); failures are logged.
 *
 * The outbox (store/events.h) is read by hss_poll_events(), which the
 * integrator calls every second: at-least-once delivery (an event is
 * deleted after its requests were handed to the node).  A deregistration
 * event is a snapshot of its RTR, taken when it was queued (destination,
 * User-Name, public identities, Reason-Code and Reason-Info), so it is
 * sent as it is even if the subscription was deleted since; its RTA then
 * changes state only if the rows are still there and the same S-CSCF
 * still serves them.  hss_rtr() takes the same snapshot and sends it at
 * once, so the two paths build one RTR.
 *
 * User-Name (TS 29.228 6.1.3, 6.2.2): the private identity that
 * registered the implicit set (recorded from the SAR, store_reg_impi_*),
 * which matters when several private identities share a public one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "diameter/cx.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/userdata.h"
#include "hss/hss_int.h"
#include "store/events.h"

#define LOG_MODULE "hss"

#define EVENTS_PER_POLL 32


/* ---- sending ---- */

struct send_ctx {
	struct hss *hss;
	hss_done_h *doneh;
	void *arg;
};


static void send_ctx_destructor(void *arg)
{
	struct send_ctx *x = arg;

	mem_deref(x->arg);
	mem_deref(x->hss);
}


static void send_resp(int err, const struct dia_msg *ans, void *arg)
{
	struct send_ctx *x = arg;

	if (x->hss->pending)
		x->hss->pending--;
	if (x->doneh)
		x->doneh(x->hss, err, ans, x->arg);
	mem_deref(x);
}


/**
 * Hand a request to the node.  The answer, or the reason there is none,
 * goes to doneh with arg (referenced until then).
 *
 * @return 0, ENOTCONN without a send callback, the callback's error
 */
int hss_send(struct hss *hss, struct dia_msg *req, hss_done_h *doneh, void *arg)
{
	struct send_ctx *x;
	int err;

	if (!hss->sendh)
		return ENOTCONN;
	x = mem_zalloc(sizeof(*x), send_ctx_destructor);
	if (!x)
		return ENOMEM;
	x->hss = mem_ref(hss);
	x->doneh = doneh;
	x->arg = mem_ref(arg);
	hss->pending++;
	err = hss->sendh(req, send_resp, x, hss->send_arg);
	if (err) {
		hss->pending--;
		mem_deref(x);
	}
	return err;
}


/* Where requests to the user's S-CSCF go: its Diameter identity, from
 * the SAR that assigned it. */
struct peer {
	char *pending;
	char *host;
	char *realm;
};


static void peer_reset(struct peer *p)
{
	p->pending = mem_deref(p->pending);
	p->host = mem_deref(p->host);
	p->realm = mem_deref(p->realm);
}


static void route_to(const struct hss *hss, const struct peer *p,
		     struct cx_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->origin_host = hss->o.host;
	rt->origin_realm = hss->o.realm;
	rt->dest_host = cx_pl(p->host);
	rt->dest_realm = cx_pl(p->realm ? p->realm : hss->conf.realm);
}


/* ---- RTR: TS 29.228 6.1.3 ---- */

struct rtr_ctx {
	char *sub;
	char *host;              /* where the RTR went */
	struct store_strv impus; /* to set NOT_REGISTERED on success */
};


static void rtr_ctx_destructor(void *arg)
{
	struct rtr_ctx *r = arg;

	mem_deref(r->sub);
	mem_deref(r->host);
	store_strv_reset(&r->impus);
}


/* The RTA's DIAMETER_SUCCESS applied to what the RTR named: the sets
 * NOT_REGISTERED with no registering IMPI, and the S-CSCF forgotten when
 * nothing of the subscription is served.  The RTR may have been queued
 * as a snapshot: the subscription can be gone by now (deleted), or served
 * by another S-CSCF (registered again elsewhere), and then nothing is
 * changed. */
/* The named sets NOT_REGISTERED with no registering IMPI, then the
 * S-CSCF forgotten if nothing of the subscription is served. */
static int rta_unregister(struct hss *hss, const struct rtr_ctx *r)
{
	struct list l = LIST_INIT;
	bool any = false;
	struct le *le;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < r->impus.n; i++) {
		err = store_reg_set(hss->st, r->impus.v[i],
				    STORE_REG_NOT_REGISTERED);
		if (!err)
			err = store_reg_impi_set(hss->st, r->impus.v[i], NULL);
		if (err == ENOENT)
			err = 0; /* deleted meanwhile */
	}
	if (!err)
		err = store_impu_list(hss->st, r->sub, &l);
	LIST_FOREACH (&l, le) {
		const struct store_impu *u = le->data;

		if (u->reg_state != STORE_REG_NOT_REGISTERED)
			any = true;
	}
	list_flush(&l);
	if (err || any)
		return err;
	err = store_scscf_set(hss->st, r->sub, NULL);
	if (!err)
		err = store_scscf_pending_set(hss->st, r->sub, NULL);
	if (!err)
		err = store_scscf_peer_set(hss->st, r->sub, NULL, NULL);
	return err;
}


static int rta_apply(struct hss *hss, const struct rtr_ctx *r)
{
	struct store_subscription *sub = NULL;
	char *pending = NULL, *host = NULL, *realm = NULL;
	int err;

	err = store_sub_get(hss->st, r->sub, &sub);
	if (!err)
		err = store_scscf_peer_get(hss->st, r->sub, &pending, &host,
					   &realm);
	if (err == ENOENT) {
		LOG_INFO(NULL, "RTA for %s: the subscription is gone", r->sub);
		err = 0;
	} else if (!err && (!host || strcmp(host, r->host) != 0)) {
		LOG_INFO(NULL,
			 "RTA for %s from %s: now served by %s, state kept",
			 r->sub, r->host, host ? host : "no S-CSCF");
	} else if (!err) {
		err = rta_unregister(hss, r);
	}
	mem_deref(pending);
	mem_deref(host);
	mem_deref(realm);
	mem_deref(sub);
	return err;
}


static void rta_handler(struct hss *hss, int err, const struct dia_msg *ans,
			void *arg)
{
	struct rtr_ctx *r = arg;
	struct hss_snap snap;
	struct cx_rta rta;
	bool have_snap;

	if (err || cx_rta_decode(ans, &rta)) {
		LOG_WARN(NULL, "RTR for %s: no usable RTA (%s)", r->sub,
			 log_strerror(err ? err : EBADMSG));
		return;
	}
	if (rta.res.code != DIA_SUCCESS || rta.res.vendor) {
		LOG_WARN(NULL, "RTR for %s: RTA result %u", r->sub,
			 rta.res.code);
		return;
	}
	have_snap = hss_snap_take(hss, r->sub, &snap) == 0;
	err = rta_apply(hss, r);
	if (err)
		LOG_ERR(NULL, "RTA for %s: store failed: %s", r->sub,
			log_strerror(err));
	if (have_snap) {
		hss_snap_notify(hss, r->sub, &snap);
		hss_snap_reset(&snap);
	}
}


/*
 * Send the RTR an event describes (TS 29.229 6.1.9): User-Name the IMPI
 * that registered, Public-Identity the IMPUs unless the whole IMPI ends,
 * Deregistration-Reason with the Reason-Info, to the S-CSCF's Diameter
 * identity as it was when the event was taken.
 */
static int rtr_send(struct hss *hss, const struct store_event *ev)
{
	struct dia_msg *req = NULL;
	struct rtr_ctx *r = NULL;
	struct cx_route rt;
	struct cx_rtr rtr;
	size_t k;
	int err = 0;

	if (!ev->host || !ev->impi || !ev->sub || !ev->impus.n)
		return EINVAL;
	if (!ev->whole_impi && ev->impus.n > CX_IMPU_MAX)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), rtr_ctx_destructor);
	if (!r)
		return ENOMEM;
	memset(&rtr, 0, sizeof(rtr));
	rtr.impi = cx_pl(ev->impi);
	rtr.reason = ev->reason;
	rtr.reason_info = cx_pl(ev->info);
	for (k = 0; !err && k < ev->impus.n; k++) {
		if (!ev->whole_impi)
			rtr.impu[rtr.impu_n++] = cx_pl(ev->impus.v[k]);
		err = store_strv_add(&r->impus, ev->impus.v[k]);
	}
	if (!err)
		err = store_strset(&r->sub, ev->sub);
	if (!err)
		err = store_strset(&r->host, ev->host);
	if (err)
		goto out;
	memset(&rt, 0, sizeof(rt));
	rt.origin_host = hss->o.host;
	rt.origin_realm = hss->o.realm;
	rt.dest_host = cx_pl(ev->host);
	rt.dest_realm = cx_pl(ev->realm ? ev->realm : hss->conf.realm);
	err = cx_rtr_encode(&req, &rt, &rtr);
	if (!err)
		err = hss_send(hss, req, rta_handler, r);
	if (!err)
		LOG_INFO(NULL, "RTR for %s (User-Name %s) sent to %s",
			 ev->subject, ev->impi, ev->host);
out:
	mem_deref(req);
	mem_deref(r);
	return err;
}


/**
 * Deregister a user administratively (TS 29.228 6.1.3): an RTR to the
 * S-CSCF that serves the identity, naming the private identity that
 * registered it.
 *
 * @param hss          the HSS
 * @param identity     an IMPI (the sets it registered) or an IMPU (its
 *                     implicit registration set)
 * @param reason       Reason-Code (PERMANENT_TERMINATION ...)
 * @param reason_info  Reason-Info text, or NULL
 * @return 0 (sent), ENOENT, EALREADY (not registered), ENOTCONN, EINVAL,
 *         EIO
 */
int hss_rtr(struct hss *hss, const char *identity, uint32_t reason,
	    const char *reason_info)
{
	struct store_event *ev = NULL;
	int err;

	if (!hss || !identity)
		return EINVAL;
	if (!hss->sendh)
		return ENOTCONN;
	err = store_event_dereg_snapshot(hss->st, identity, reason, reason_info,
					 &ev);
	if (!err)
		err = rtr_send(hss, ev);
	mem_deref(ev);
	return err;
}


/* ---- PPR: TS 29.228 6.2.2 ---- */

static void ppa_handler(struct hss *hss, int err, const struct dia_msg *ans,
			void *arg)
{
	const char *impi = arg;
	struct cx_ppa ppa;

	(void)hss;
	if (err || cx_ppa_decode(ans, &ppa)) {
		LOG_WARN(NULL, "PPR for %s: no usable PPA (%s)", impi,
			 log_strerror(err ? err : EBADMSG));
		return;
	}
	if (ppa.res.code != DIA_SUCCESS || ppa.res.vendor)
		LOG_WARN(NULL, "PPR for %s: PPA result %u", impi, ppa.res.code);
}


static int ppr_one(struct hss *hss, const char *impi, const char *impu,
		   const struct store_subscription *sub, const struct peer *p)
{
	struct cx_subscription *cx = NULL;
	struct dia_msg *req = NULL;
	struct buf *ud = NULL;
	char *arg = NULL;
	char chg[4][HSS_NAME_MAX + 8];
	const char *names[4];
	struct cx_route rt;
	struct cx_ppr ppr;
	size_t k;
	int err, n;

	memset(&ppr, 0, sizeof(ppr));
	err = store_cx_build(hss->st, impi, impu, &cx);
	if (!err)
		err = buf_alloc(&ud, 4096, DIA_MSG_MAX);
	if (!err)
		err = cx_userdata_encode(ud, cx);
	if (err)
		goto out;
	ppr.impi = cx_pl(impi);
	pl_set(&ppr.user_data, (const char *)ud->b, ud->end);

	/* TS 29.229 6.3.19: the names are DiameterURIs */
	names[0] = sub->ecf_primary;
	names[1] = sub->ecf_secondary;
	names[2] = sub->ccf_primary;
	names[3] = sub->ccf_secondary;
	for (k = 0; k < 4; k++) {
		struct pl v = PL_INIT;

		if (names[k] && *names[k]) {
			n = snprintf(chg[k], sizeof(chg[k]), "%s%s",
				     strstr(names[k], "://") ? "" : "aaa://",
				     names[k]);
			if (n > 0 && (size_t)n < sizeof(chg[k])) {
				v = cx_pl(chg[k]);
				ppr.has_charging = true;
			}
		}
		if (k == 0)
			ppr.charging.ecf_primary = v;
		else if (k == 1)
			ppr.charging.ecf_secondary = v;
		else if (k == 2)
			ppr.charging.ccf_primary = v;
		else
			ppr.charging.ccf_secondary = v;
	}

	route_to(hss, p, &rt);
	err = cx_ppr_encode(&req, &rt, &ppr);
	if (!err)
		err = store_strset(&arg, impi);
	if (!err)
		err = hss_send(hss, req, ppa_handler, arg);
out:
	mem_deref(arg);
	mem_deref(req);
	mem_deref(ud);
	mem_deref(cx);
	return err;
}


/* The implicit sets already pushed (irs 0 sets are keyed by IMPU). */
struct pushed {
	int64_t irs[64];
	const char *own[64];
	size_t n;
};


static bool pushed_has(const struct pushed *d, const struct store_impu *u)
{
	size_t j;

	for (j = 0; j < d->n; j++)
		if (u->irs ? d->irs[j] == u->irs
			   : (d->own[j] && !strcmp(d->own[j], u->identity)))
			return true;
	return false;
}


/* Is s one of the IMPIs linked to u? */
static bool impu_links(const struct store_impu *u, const char *s)
{
	size_t k;

	for (k = 0; s && k < u->impi.n; k++)
		if (strcmp(u->impi.v[k], s) == 0)
			return true;
	return false;
}


/*
 * One PPR per registered implicit set of the IMPI not pushed yet.  The
 * S-CSCF keeps the profile per implicit set, so a set that several
 * private identities share is pushed once (TS 29.228 6.2.2, 6.5.2.1),
 * and its User-Name is the private identity that registered the set (the
 * S-CSCF finds the registration by it), not the IMPI the push started
 * from; impi itself when that is not known.
 */
static int ppr_impi(struct hss *hss, const char *impi, struct pushed *d,
		    struct list *keep, unsigned *np)
{
	struct store_subscription *sub = NULL;
	struct store_impi *i = NULL;
	struct peer p = { NULL, NULL, NULL };
	unsigned n = 0;
	size_t k;
	int err;

	err = store_impi_get(hss->st, impi, &i);
	if (!err)
		err = store_sub_get(hss->st, i->subscription, &sub);
	if (!err)
		err = store_scscf_peer_get(hss->st, sub->name, &p.pending,
					   &p.host, &p.realm);
	if (err || !sub->scscf_assigned || !p.host)
		goto out;
	for (k = 0; !err && k < i->impu.n; k++) {
		struct store_impu *u = NULL;

		err = store_impu_get(hss->st, i->impu.v[k], &u);
		if (err == ENOENT) {
			err = 0;
			continue;
		}
		if (err)
			break;
		if (u->reg_state != STORE_REG_NOT_REGISTERED &&
		    !pushed_has(d, u) && d->n < 64) {
			char *reg = NULL;

			d->irs[d->n] = u->irs;
			d->own[d->n] = u->identity;
			d->n++;
			list_append(keep, &u->le, mem_ref(u));
			err = store_reg_impi_get(hss->st, u->identity, &reg);
			if (!err)
				err = ppr_one(hss,
					      impu_links(u, reg) ? reg
								 : i->identity,
					      u->identity, sub, &p);
			if (!err)
				n++;
			mem_deref(reg);
		}
		mem_deref(u);
	}
	if (!err && n)
		LOG_INFO(NULL, "PPR for %s: %u sent to %s", impi, n, p.host);
out:
	*np += n;
	peer_reset(&p);
	mem_deref(sub);
	mem_deref(i);
	return err;
}


/**
 * Push the current profile of an IMPI to its S-CSCF (TS 29.228 6.2.2):
 * one PPR per registered implicit registration set of the IMPI, each
 * with the IMSSubscription of that set and the Charging-Information.
 *
 * @param hss   the HSS
 * @param impi  the private identity
 * @param np    PPRs sent (may be NULL)
 * @return 0 (possibly none sent: nothing registered), ENOENT, ENOTCONN,
 *         EIO
 */
int hss_ppr(struct hss *hss, const char *impi, unsigned *np)
{
	struct pushed d;
	struct list keep = LIST_INIT;
	unsigned n = 0;
	int err;

	if (np)
		*np = 0;
	if (!hss || !impi)
		return EINVAL;
	if (!hss->sendh)
		return ENOTCONN;
	memset(&d, 0, sizeof(d));
	err = ppr_impi(hss, impi, &d, &keep, &n);
	list_flush(&keep);
	if (np)
		*np = n;
	return err;
}


/* Every IMPI of a subscription, each implicit set once. */
int hss_ppr_subscription(struct hss *hss, const char *sub, unsigned *np)
{
	struct list l = LIST_INIT, keep = LIST_INIT;
	struct pushed d;
	struct le *le;
	unsigned n = 0;
	int err;

	if (np)
		*np = 0;
	if (!hss || !sub)
		return EINVAL;
	if (!hss->sendh)
		return ENOTCONN;
	memset(&d, 0, sizeof(d));
	err = store_impi_list(hss->st, sub, &l);
	if (!err && !list_count(&l)) {
		struct store_subscription *s = NULL;

		err = store_sub_get(hss->st, sub, &s); /* ENOENT if gone */
		mem_deref(s);
	}
	LIST_FOREACH (&l, le) {
		const struct store_impi *i = le->data;

		if (err)
			break;
		err = ppr_impi(hss, i->identity, &d, &keep, &n);
	}
	list_flush(&l);
	list_flush(&keep);
	if (np)
		*np = n;
	return err;
}


/* ---- the outbox ---- */

/**
 * Send what the outbox asks for and expire Sh subscriptions.  A
 * deregistration with a snapshot is sent from it; the other events
 * (profile pushes, and deregistrations queued without a snapshot) are
 * built from the store, and dropped when their subject is gone or not
 * registered.  With no send callback, or when the store fails, events
 * stay for the next poll.
 *
 * @param hss  the HSS
 * @param np   events handled (may be NULL)
 * @return 0, ENOTCONN, EIO
 */
int hss_poll_events(struct hss *hss, unsigned *np)
{
	struct list l = LIST_INIT;
	struct le *le;
	unsigned n = 0, sent;
	uint64_t expired = 0;
	int err;

	if (np)
		*np = 0;
	if (!hss)
		return EINVAL;
	err = store_sh_sub_expire(hss->st, (int64_t)time(NULL), &expired);
	if (err)
		return err;
	if (!hss->sendh)
		return ENOTCONN;
	err = store_event_list(hss->st, EVENTS_PER_POLL, &l);
	LIST_FOREACH (&l, le) {
		const struct store_event *ev = le->data;

		if (err)
			break;
		if (ev->kind == STORE_EV_PROFILE)
			err = hss_ppr_subscription(hss, ev->subject, &sent);
		else if (ev->kind == STORE_EV_DEREG && ev->host)
			err = rtr_send(hss, ev); /* the snapshot */
		else if (ev->kind == STORE_EV_DEREG)
			err = hss_rtr(hss, ev->subject, ev->reason, ev->info);
		else
			err = EINVAL;
		if (err == ENOENT || err == EALREADY || err == EINVAL) {
			LOG_INFO(NULL,
				 "event %lld for %s: nothing to send (%s)",
				 (long long)ev->id, ev->subject,
				 log_strerror(err));
			err = 0;
		}
		if (err)
			break;
		err = store_event_delete(hss->st, ev->id);
		if (err == ENOENT)
			err = 0; /* another HSS process took it */
		n++;
	}
	list_flush(&l);
	if (np)
		*np = n;
	return err;
}
