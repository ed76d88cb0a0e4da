/**
 * @file regevent_watch.c  The subscriber side of the reg event package
 *                         (RFC 3680 5.2; the P-CSCF of TS 24.229 5.2.3,
 *                         and an AS): keep the registration state that
 *                         the NOTIFYs of one subscription describe.
 *
 * The state is a reginfo of the registrations that are not terminated,
 * each with its active contacts.  A full document replaces it; a partial
 * one is merged (registrations and contacts matched by their id, RFC 3680
 * 5.2).  Version rules, per RFC 3680 5.2:
 *
 *  - a document whose version is not above the last one applied is stale
 *    and ignored (a NOTIFY overtaken by a later one);
 *  - a partial document before any full one, or one whose version skips
 *    a number, cannot be merged: the caller is told to SUBSCRIBE again
 *    (a refresh brings full state, RFC 6665 4.2.1.2), and the document is
 *    not applied (merging over a gap could resurrect a contact that the
 *    missed document removed).
 *
 * Every contact that leaves the state (terminated in a partial document,
 * or missing or terminated in a full one) and every registration that
 * ends is reported to the caller's regevent_term_h before it is dropped:
 * that is what lets the P-CSCF drop a phone's state on a NOTIFY that says
 * "terminated".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "cscf/regevent.h"
#include "cscf/reginfo.h"
#include "sip/msg.h"
#include "sip/uri.h"

/* What is kept between NOTIFYs is the state packed (reginfo_pack,
 * SLIM: per contact its id, URI, state, event and expires, all that the
 * merge and the termination reports read), one block; a NOTIFY unpacks
 * it, merges and packs the result.  A P-CSCF keeps one of these per
 * registered user. */
struct regevent_watch {
	uint8_t *pk; /* NULL: no registration known */
	size_t pk_len;
	struct reginfo *view; /* unpacked for regevent_watch_reg/state */
	bool have_full;
	uint32_t version;
};


static void destructor(void *data)
{
	struct regevent_watch *w = data;

	mem_deref(w->pk);
	mem_deref(w->view);
}


/* The state as a document (the caller's to free). */
static int state_get(const struct regevent_watch *w, struct reginfo **stp)
{
	struct reginfo *st = reginfo_alloc(0, REGINFO_FULL);
	int err;

	if (!st)
		return ENOMEM;
	err = reginfo_unpack(st, w->pk, w->pk_len);
	if (err) {
		mem_deref(st);
		return err;
	}
	*stp = st;
	return 0;
}


/* Keep st packed. */
static int state_put(struct regevent_watch *w, const struct reginfo *st)
{
	size_t n = st->reg_n ? reginfo_pack(NULL, 0, st, REGINFO_PACK_SLIM) : 0;
	uint8_t *pk = NULL;

	if (n) {
		pk = mem_alloc(n, NULL);
		if (!pk)
			return ENOMEM;
		(void)reginfo_pack(pk, n, st, REGINFO_PACK_SLIM);
	}
	mem_deref(w->pk);
	w->pk = pk;
	w->pk_len = n;
	return 0;
}


/**
 * Allocate a subscriber's state for one subscription.
 *
 * @param wp  the state (mem_deref it)
 * @return 0, EINVAL or ENOMEM
 */
int regevent_watch_alloc(struct regevent_watch **wp)
{
	struct regevent_watch *w;

	if (!wp)
		return EINVAL;
	w = mem_zalloc(sizeof(*w), destructor);
	if (!w)
		return ENOMEM;
	*wp = w;
	return 0;
}


/**
 * Forget everything: the next document must be full state (a new
 * subscription dialog has its own versions, starting at 0).
 */
void regevent_watch_reset(struct regevent_watch *w)
{
	if (!w)
		return;
	w->pk = mem_deref(w->pk);
	w->pk_len = 0;
	w->view = mem_deref(w->view);
	w->have_full = false;
	w->version = 0;
}


static int reg_find(const struct reginfo *ri, const struct reginfo_reg *r)
{
	for (size_t i = 0; i < ri->reg_n; i++)
		if (strcmp(ri->reg[i].id, r->id) == 0)
			return (int)i;
	/* a notifier that restarted may have given the AOR a new id */
	for (size_t i = 0; i < ri->reg_n; i++)
		if (strcmp(ri->reg[i].aor, r->aor) == 0)
			return (int)i;
	return -1;
}


static int ct_find(const struct reginfo_reg *reg, const char *id)
{
	if (!reg)
		return -1;
	for (size_t i = 0; i < reg->ct_n; i++)
		if (strcmp(reg->ct[i].id, id) == 0)
			return (int)i;
	return -1;
}


static void report(regevent_term_h *termh, void *arg,
		   const struct reginfo_reg *reg,
		   const struct reginfo_contact *ct, enum reginfo_event ev)
{
	struct regevent_term t;

	if (!termh)
		return;
	memset(&t, 0, sizeof(t));
	t.aor = reg->aor;
	t.reg_id = reg->id;
	if (ct) {
		t.ct_id = ct->id;
		t.ct_uri = ct->uri;
	}
	t.event = ev;
	termh(&t, arg);
}


/* Every contact of old (the state) ends, then the registration itself;
 * nreg is the document's registration (NULL when a full state left it
 * out), giving each contact's event when it lists it. */
static void report_reg_end(regevent_term_h *termh, void *arg,
			   const struct reginfo_reg *old,
			   const struct reginfo_reg *nreg)
{
	enum reginfo_event last = REGINFO_EV_UNREGISTERED;

	for (size_t i = 0; i < old->ct_n; i++) {
		int j = ct_find(nreg, old->ct[i].id);
		enum reginfo_event ev = (nreg && j >= 0)
						? nreg->ct[j].event
						: REGINFO_EV_UNREGISTERED;

		report(termh, arg, old, &old->ct[i], ev);
		last = ev;
	}
	/* a registration that ends on its own lists its contacts' events */
	if (nreg) {
		for (size_t i = 0; i < nreg->ct_n; i++)
			if (nreg->ct[i].state == REGINFO_CT_TERMINATED)
				last = nreg->ct[i].event;
	}
	report(termh, arg, old, NULL, last);
}


static int apply_full(struct reginfo **statep, const struct reginfo *doc,
		      regevent_term_h *termh, void *arg)
{
	const struct reginfo *state = *statep;
	struct reginfo *ns = reginfo_alloc(0, REGINFO_FULL);

	if (!ns)
		return ENOMEM;
	for (size_t i = 0; i < doc->reg_n; i++) {
		if (doc->reg[i].state == REGINFO_REG_TERMINATED)
			continue;
		if (!reginfo_reg_copy(ns, &doc->reg[i], true)) {
			mem_deref(ns);
			return ENOMEM;
		}
	}

	/* what the old state had and the new one has not ended */
	for (size_t i = 0; i < state->reg_n; i++) {
		const struct reginfo_reg *old = &state->reg[i];
		int j = reg_find(doc, old);
		const struct reginfo_reg *nreg = j >= 0 ? &doc->reg[j] : NULL;

		if (!nreg || nreg->state == REGINFO_REG_TERMINATED) {
			report_reg_end(termh, arg, old, nreg);
			continue;
		}
		for (size_t k = 0; k < old->ct_n; k++) {
			int c = ct_find(nreg, old->ct[k].id);

			if (c < 0)
				report(termh, arg, old, &old->ct[k],
				       REGINFO_EV_UNREGISTERED);
			else if (nreg->ct[c].state == REGINFO_CT_TERMINATED)
				report(termh, arg, old, &old->ct[k],
				       nreg->ct[c].event);
		}
	}
	mem_deref(*statep);
	*statep = ns;
	return 0;
}


static int merge_reg(struct reginfo *state, const struct reginfo_reg *nreg,
		     regevent_term_h *termh, void *arg)
{
	int i = reg_find(state, nreg);
	struct reginfo_reg *reg;

	if (nreg->state == REGINFO_REG_TERMINATED) {
		if (i >= 0) {
			report_reg_end(termh, arg, &state->reg[i], nreg);
			reginfo_reg_remove(state, (size_t)i);
		} else {
			report(termh, arg, nreg, NULL, REGINFO_EV_UNREGISTERED);
		}
		return 0;
	}
	if (i < 0) {
		if (state->reg_n >= REGINFO_REG_MAX)
			return EPROTO;
		return reginfo_reg_copy(state, nreg, true) ? 0 : ENOMEM;
	}

	reg = &state->reg[i];
	reg->state = nreg->state;
	for (size_t k = 0; k < nreg->ct_n; k++) {
		const struct reginfo_contact *nc = &nreg->ct[k];
		int c = ct_find(reg, nc->id);

		if (nc->state == REGINFO_CT_TERMINATED) {
			if (c >= 0) {
				report(termh, arg, reg, &reg->ct[c], nc->event);
				reginfo_contact_remove(reg, (size_t)c);
			}
			continue;
		}
		if (c < 0 && reg->ct_n >= REGINFO_CT_MAX)
			return EPROTO;
		if (!reginfo_contact_copy(reg, nc))
			return ENOMEM;
		if (c >= 0)
			reginfo_contact_remove(reg, (size_t)c);
	}
	return 0;
}


static void reset_result(struct regevent_watch_result *res)
{
	memset(res, 0, sizeof(*res));
}


/**
 * Apply a reginfo document received in a NOTIFY of this subscription.
 *
 * @param w      the subscriber's state
 * @param xml    the body
 * @param len    its length
 * @param termh  told of every registration and contact that ended, or NULL
 * @param arg    its argument
 * @param res    what happened (applied, stale, resubscribe)
 * @param err    where a refused document's reason goes, or NULL
 * @param errsz  its size
 * @return 0 (see res), EBADMSG or EMSGSIZE (not a reginfo document: the
 *         state is unchanged), EPROTO (more registrations or contacts than
 *         the limits: SUBSCRIBE again), ENOMEM
 */
int regevent_watch_body(struct regevent_watch *w, const char *xml, size_t len,
			regevent_term_h *termh, void *arg,
			struct regevent_watch_result *res, char *err,
			size_t errsz)
{
	struct regevent_watch_result dummy;
	struct reginfo *doc = NULL, *state = NULL;
	int e;

	if (!res)
		res = &dummy;
	reset_result(res);
	if (!w)
		return EINVAL;
	e = reginfo_decode(&doc, xml, len, err, errsz);
	if (e)
		return e;
	res->version = doc->version;

	if (w->have_full && doc->version <= w->version) {
		res->stale = true;
		goto out;
	}
	if (doc->state == REGINFO_PARTIAL &&
	    (!w->have_full || doc->version - w->version != 1)) {
		res->resubscribe = true;
		goto out;
	}
	w->view = mem_deref(w->view);
	e = state_get(w, &state);
	if (e)
		goto out;
	if (doc->state == REGINFO_FULL) {
		e = apply_full(&state, doc, termh, arg);
	} else {
		for (size_t i = 0; !e && i < doc->reg_n; i++)
			e = merge_reg(state, &doc->reg[i], termh, arg);
	}
	/* what was merged was reported: keep it, even partly merged */
	if (!e || e == EPROTO) {
		int pe = state_put(w, state);

		e = e ? e : pe;
	}
	if (e == EPROTO) {
		/* the state is only partly merged: start over from full */
		if (err && errsz)
			(void)snprintf(err, errsz,
				       "the state would exceed the limits");
		res->resubscribe = true;
		w->have_full = false;
		goto out;
	}
	if (e)
		goto out;
	w->have_full = true;
	w->version = doc->version;
	res->applied = true;
out:
	mem_deref(state);
	mem_deref(doc);
	return e;
}


/* Subscription-State: substate-value *( ";" subexp-params )
 * (RFC 6665 8.2.3). */
static int sub_state(const struct sip_msg *msg,
		     struct regevent_watch_result *res)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	struct pl v, params = PL_INIT, p;
	const char *semi;
	uint32_t u;

	if (!h)
		return EPROTO;
	v = h->val;
	semi = pl_chr(&v, ';');
	if (semi) {
		params.p = semi;
		params.l = (size_t)(v.p + v.l - semi);
		v.l = (size_t)(semi - v.p);
	}
	pl_trim(&v);
	if (pl_eq_str_ci(&v, "terminated"))
		res->terminated = true;
	else if (!pl_eq_str_ci(&v, "active") && !pl_eq_str_ci(&v, "pending"))
		return EPROTO;
	if (!params.l)
		return 0;
	if (!sip_param_get(&params, "reason", &p))
		(void)snprintf(res->reason, sizeof(res->reason), "%.*s",
			       PL_FMT(&p));
	if (!sip_param_get(&params, "expires", &p) && !pl_u32(&p, &u))
		res->expires = u;
	if (!sip_param_get(&params, "retry-after", &p) && !pl_u32(&p, &u))
		res->retry_after = u;
	return 0;
}


static bool ctype_reginfo(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	struct pl v;
	const char *semi;

	if (!h)
		return false;
	v = h->val;
	semi = pl_chr(&v, ';');
	if (semi)
		v.l = (size_t)(semi - v.p);
	pl_trim(&v);
	return pl_eq_str_ci(&v, REGINFO_CTYPE);
}


/**
 * Check a NOTIFY of the reg event package and apply its body.
 *
 * @param w       the subscriber's state for this subscription
 * @param notify  the decoded NOTIFY
 * @param termh   told of every registration and contact that ended
 * @param arg     its argument
 * @param res     what happened, with the Subscription-State
 * @param err     where the reason of a refusal goes, or NULL
 * @param errsz   its size
 * @return 0 (answer 200), EPROTO (not Event: reg, no or bad
 *         Subscription-State: answer 489 or 400), EBADMSG (a body that is
 *         not reginfo: answer 400, or 415 for its Content-Type), ENOMEM
 */
int regevent_watch_notify(struct regevent_watch *w, struct sip_msg *notify,
			  regevent_term_h *termh, void *arg,
			  struct regevent_watch_result *res, char *err,
			  size_t errsz)
{
	struct regevent_watch_result dummy, st;
	const struct sip_hdr *ev;
	struct pl type;
	const char *semi;
	int e;

	if (!res)
		res = &dummy;
	reset_result(res);
	if (err && errsz)
		err[0] = '\0';
	if (!w || !notify || !notify->req || notify->meth != SIP_METHOD_NOTIFY)
		return EINVAL;
	ev = sip_msg_hdr(notify, SIP_HDR_EVENT);
	if (ev) {
		type = ev->val;
		semi = pl_chr(&type, ';');
		if (semi)
			type.l = (size_t)(semi - type.p);
		pl_trim(&type);
	}
	if (!ev || !pl_eq_str(&type, "reg")) {
		if (err && errsz)
			(void)snprintf(err, errsz, "not a reg event NOTIFY");
		return EPROTO;
	}
	reset_result(&st);
	if (sub_state(notify, &st)) {
		if (err && errsz)
			(void)snprintf(err, errsz,
				       "no valid Subscription-State");
		return EPROTO;
	}
	if (notify->body.l) {
		if (!ctype_reginfo(notify)) {
			if (err && errsz)
				(void)snprintf(
					err, errsz,
					"the body is not " REGINFO_CTYPE);
			return EBADMSG;
		}
		e = regevent_watch_body(w, notify->body.p, notify->body.l,
					termh, arg, res, err, errsz);
		if (e)
			return e;
	}
	res->terminated = st.terminated;
	memcpy(res->reason, st.reason, sizeof(res->reason));
	res->expires = st.expires;
	res->retry_after = st.retry_after;
	return 0;
}


/* Unpack the state for a caller that reads it.  The view is a cache, not
 * part of the state: reading the state through a const watch fills it
 * (a watch is always on the heap, never a const object). */
static const struct reginfo *view(const struct regevent_watch *cw)
{
	struct regevent_watch *w = (struct regevent_watch *)(uintptr_t)cw;

	w->view = mem_deref(w->view);
	if (state_get(w, &w->view))
		return NULL;
	return w->view;
}


/**
 * The known registration of an AOR (matched as written in the document).
 * Of its contacts the state keeps id, URI, state, event and expires.
 *
 * @return a view valid until the next call on w, or NULL
 */
const struct reginfo_reg *regevent_watch_reg(const struct regevent_watch *w,
					     const char *aor)
{
	const struct reginfo *st;
	char a[256], b[256];

	if (!w || !aor)
		return NULL;
	st = view(w);
	if (!st)
		return NULL;
	for (size_t i = 0; i < st->reg_n; i++)
		if (strcmp(st->reg[i].aor, aor) == 0)
			return &st->reg[i];
	/* the notifier may write the AOR in another form */
	if (regevent_impu_canon(aor, strlen(aor), a, sizeof(a)))
		return NULL;
	for (size_t i = 0; i < st->reg_n; i++) {
		const char *r = st->reg[i].aor;

		if (!regevent_impu_canon(r, strlen(r), b, sizeof(b)) &&
		    strcmp(a, b) == 0)
			return &st->reg[i];
	}
	return NULL;
}


/**
 * The whole known state (a view valid until the next call on w), or NULL
 * when out of memory.
 */
const struct reginfo *regevent_watch_state(const struct regevent_watch *w)
{
	return w ? view(w) : NULL;
}
