/**
 * @file events.c  The HSS outbox, its RTR snapshots, and the S-CSCF and
 *                  registering-IMPI bookkeeping (events.h).
 *
 * Written like store.c, over the same driver vtable and the same SQL
 * for both backends, but in a file of its own so that the subscriber
 * model and the HSS application's tables can change independently.
 *
 * A deregistration event is the RTR written down (migration 003): the
 * snapshot is built from the subscriber rows here, in the store layer,
 * so that provisioning (which queues it) and the HSS (which sends it at
 * once in hss_rtr) decide the same destination and identities.  Its
 * public identities go into one column, one per line, so the event is
 * one INSERT and lands whole without a transaction.
 *
 * Statement numbers: the drivers cache prepared statements by number
 * below STORE_QID_MAX; store.c numbers its own from 0 up, these take the
 * top of the range (EVQ_BASE and up), so the two never collide while
 * store.c stays below EVQ_BASE statements (it has about 75).
 */
#include "store/events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pl.h"
#include "store/store.h"

enum evq {
	EVQ_ADD,
	EVQ_LIST,
	EVQ_DEL,
	EVQ_PENDING,
	EVQ_PEER,
	EVQ_PEER_GET,
	EVQ_REG_IMPI_SET,
	EVQ_REG_IMPI_GET,
	EVQ_MAX
};

#define EVQ_BASE STORE_QID_EVENTS
_Static_assert(EVQ_BASE + EVQ_MAX <= STORE_QID_MAX, "EVQ range");

static const char *const evsql[EVQ_MAX] = {
	[EVQ_ADD] = "INSERT INTO hss_event (kind, subject, reason, created, "
		    "reason_info, sub_name, dest_host, dest_realm, user_name, "
		    "impus, whole_impi) VALUES ($1, $2, $3, $4, $5, $6, $7, "
		    "$8, $9, $10, $11)",
	[EVQ_LIST] = "SELECT id, kind, subject, reason, created, reason_info, "
		     "sub_name, dest_host, dest_realm, user_name, impus, "
		     "whole_impi FROM hss_event ORDER BY id LIMIT $1",
	[EVQ_DEL] = "DELETE FROM hss_event WHERE id = $1",
	[EVQ_PENDING] = "UPDATE subscription SET scscf_pending = $2 WHERE "
			"name = $1",
	[EVQ_PEER] = "UPDATE subscription SET scscf_host = $2, scscf_realm = "
		     "$3 WHERE name = $1",
	[EVQ_PEER_GET] = "SELECT scscf_pending, scscf_host, scscf_realm FROM "
			 "subscription WHERE name = $1",
	/* the whole implicit set, as store.c's registration state; an
	 * unknown IMPI changes no row rather than clearing silently */
	[EVQ_REG_IMPI_SET] =
		"UPDATE impu SET reg_impi_id = (SELECT id FROM impi WHERE "
		"identity = CAST($2 AS TEXT)) WHERE (CAST($2 AS TEXT) IS NULL "
		"OR EXISTS (SELECT 1 FROM impi WHERE identity = CAST($2 AS "
		"TEXT))) AND (identity = $1 OR (irs <> 0 AND "
		"(subscription_id, irs) = (SELECT subscription_id, irs FROM "
		"impu WHERE identity = $1)))",
	[EVQ_REG_IMPI_GET] = "SELECT i.identity FROM impu u LEFT JOIN impi i "
			     "ON i.id = u.reg_impi_id WHERE u.identity = $1",
};


static int run(struct store *st, enum evq id, const struct sarg *a, size_t n,
	       struct sres **resp)
{
	struct sres *r = NULL;
	int err;

	err = st->ops->query(st, EVQ_BASE + (unsigned)id, evsql[id], a, n, &r);
	if (err)
		return err;
	if (resp)
		*resp = r;
	else
		mem_deref(r);
	return 0;
}


static struct sarg s_str(const char *s)
{
	struct sarg a = { s ? SARG_STR : SARG_NULL, s, 0 };

	return a;
}


static struct sarg s_int(int64_t i)
{
	struct sarg a = { SARG_INT, NULL, i };

	return a;
}


/* An UPDATE that must hit a row: ENOENT otherwise. */
static int changed(int err, struct sres *r)
{
	if (!err && !r->changes)
		err = ENOENT;
	mem_deref(r);
	return err;
}


static void event_destructor(void *arg)
{
	struct store_event *ev = arg;

	mem_deref(ev->subject);
	mem_deref(ev->info);
	mem_deref(ev->sub);
	mem_deref(ev->host);
	mem_deref(ev->realm);
	mem_deref(ev->impi);
	store_strv_reset(&ev->impus);
}


/* The identities of a snapshot as one column: one per line. */
static int impus_join(const struct store_strv *sv, char **outp)
{
	size_t k, len = 0, o = 0;
	char *s;

	for (k = 0; k < sv->n; k++) {
		if (!*sv->v[k] || strpbrk(sv->v[k], "\r\n"))
			return EINVAL;
		len += strlen(sv->v[k]) + 1;
	}
	s = mem_zalloc(len + 1, NULL);
	if (!s)
		return ENOMEM;
	for (k = 0; k < sv->n; k++) {
		size_t l = strlen(sv->v[k]);

		if (k)
			s[o++] = '\n';
		memcpy(s + o, sv->v[k], l);
		o += l;
	}
	s[o] = '\0';
	*outp = s;
	return 0;
}


static int impus_split(struct store_strv *sv, const char *col)
{
	const char *p = col, *e;
	struct pl one;
	char *id = NULL;
	int err = 0;

	while (!err && p && *p) {
		e = strchr(p, '\n');
		pl_set(&one, p, e ? (size_t)(e - p) : strlen(p));
		if (one.l) {
			err = pl_strdup(&id, &one);
			if (!err)
				err = store_strv_add(sv, id);
			id = mem_deref(id);
		}
		p = e ? e + 1 : NULL;
	}
	return err;
}


static int event_insert(struct store *st, enum store_event_kind kind,
			const char *subject, uint32_t reason,
			const struct store_event *snap)
{
	struct sarg a[11];
	char *impus = NULL;
	int err = 0;

	if (snap)
		err = impus_join(&snap->impus, &impus);
	if (err)
		return err;
	a[0] = s_int(kind);
	a[1] = s_str(subject);
	a[2] = s_int(reason);
	a[3] = s_int((int64_t)time(NULL));
	a[4] = s_str(snap ? snap->info : NULL);
	a[5] = s_str(snap ? snap->sub : NULL);
	a[6] = s_str(snap ? snap->host : NULL);
	a[7] = s_str(snap ? snap->realm : NULL);
	a[8] = s_str(snap ? snap->impi : NULL);
	a[9] = s_str(impus);
	a[10] = s_int(snap && snap->whole_impi ? 1 : 0);
	err = run(st, EVQ_ADD, a, 11, NULL);
	mem_deref(impus);
	return err;
}


/**
 * Queue an HSS-initiated request for the HSS process.
 *
 * @param st       the store
 * @param kind     STORE_EV_PROFILE or STORE_EV_DEREG
 * @param subject  the subscription (PROFILE) or the identity (DEREG)
 * @param reason   the RTR Reason-Code (DEREG)
 * @return 0, EINVAL, EIO
 *
 * A DEREG queued here carries no snapshot: the HSS builds the RTR from
 * the store when it handles it, so it is lost if the identity is
 * deleted first.  Provisioning queues store_event_dereg_snapshot() +
 * store_event_dereg_add() instead.
 */
int store_event_add(struct store *st, enum store_event_kind kind,
		    const char *subject, uint32_t reason)
{
	if (!st || !subject || !*subject ||
	    (kind != STORE_EV_PROFILE && kind != STORE_EV_DEREG))
		return EINVAL;
	return event_insert(st, kind, subject, reason, NULL);
}


/**
 * Queue the RTR snapshot ev (STORE_EV_DEREG) in one INSERT.
 *
 * @param st  the store
 * @param ev  from store_event_dereg_snapshot(), or filled by the caller
 * @return 0, EINVAL (no subject, host, User-Name or identities; an
 *         identity with a line break), EIO
 */
int store_event_dereg_add(struct store *st, const struct store_event *ev)
{
	if (!st || !ev || !ev->subject || !*ev->subject || !ev->host ||
	    !*ev->host || !ev->impi || !*ev->impi || !ev->impus.n ||
	    (ev->info && strlen(ev->info) > STORE_REASON_INFO_MAX))
		return EINVAL;
	return event_insert(st, STORE_EV_DEREG, ev->subject, ev->reason, ev);
}


static int event_row(const struct sres *r, size_t i, struct store_event *ev)
{
	int err;

	ev->id = sres_i64(r, i, 0);
	ev->kind = (enum store_event_kind)sres_i64(r, i, 1);
	ev->reason = (uint32_t)sres_i64(r, i, 3);
	ev->created = sres_i64(r, i, 4);
	ev->whole_impi = sres_i64(r, i, 11) != 0;
	err = store_strset(&ev->subject, sres_str(r, i, 2));
	if (!err)
		err = store_strset(&ev->info, sres_str(r, i, 5));
	if (!err)
		err = store_strset(&ev->sub, sres_str(r, i, 6));
	if (!err)
		err = store_strset(&ev->host, sres_str(r, i, 7));
	if (!err)
		err = store_strset(&ev->realm, sres_str(r, i, 8));
	if (!err)
		err = store_strset(&ev->impi, sres_str(r, i, 9));
	if (!err)
		err = impus_split(&ev->impus, sres_str(r, i, 10));
	return err;
}


int store_event_list(struct store *st, size_t max, struct list *out)
{
	struct store_event *ev;
	struct sres *r = NULL;
	struct sarg a[1];
	size_t i;
	int err;

	if (!st || !out)
		return EINVAL;
	a[0] = s_int((int64_t)max);
	err = run(st, EVQ_LIST, a, 1, &r);
	for (i = 0; !err && i < r->rows; i++) {
		ev = mem_zalloc(sizeof(*ev), event_destructor);
		if (!ev) {
			err = ENOMEM;
			break;
		}
		list_append(out, &ev->le, ev);
		err = event_row(r, i, ev);
	}
	mem_deref(r);
	return err;
}


int store_event_delete(struct store *st, int64_t id)
{
	struct sres *r = NULL;
	struct sarg a[1];
	int err;

	a[0] = s_int(id);
	err = run(st, EVQ_DEL, a, 1, &r);
	return changed(err, r);
}


int store_scscf_pending_set(struct store *st, const char *sub,
			    const char *scscf)
{
	struct sres *r = NULL;
	struct sarg a[2];
	int err;

	a[0] = s_str(sub);
	a[1] = s_str(scscf);
	err = run(st, EVQ_PENDING, a, 2, &r);
	return changed(err, r);
}


int store_scscf_peer_set(struct store *st, const char *sub, const char *host,
			 const char *realm)
{
	struct sres *r = NULL;
	struct sarg a[3];
	int err;

	a[0] = s_str(sub);
	a[1] = s_str(host);
	a[2] = s_str(realm);
	err = run(st, EVQ_PEER, a, 3, &r);
	return changed(err, r);
}


int store_scscf_peer_get(struct store *st, const char *sub, char **pendingp,
			 char **hostp, char **realmp)
{
	struct sres *r = NULL;
	char *v[3] = { NULL, NULL, NULL };
	struct sarg a[1];
	size_t i;
	int err;

	a[0] = s_str(sub);
	err = run(st, EVQ_PEER_GET, a, 1, &r);
	if (!err && !r->rows)
		err = ENOENT;
	for (i = 0; !err && i < 3; i++)
		err = store_strset(&v[i], sres_str(r, 0, i));
	mem_deref(r);
	if (err) {
		for (i = 0; i < 3; i++)
			mem_deref(v[i]);
		return err;
	}
	*pendingp = v[0];
	*hostp = v[1];
	*realmp = v[2];
	return 0;
}


/**
 * Record which private identity registered the implicit set of impu
 * (TS 29.228 6.1.2: the User-Name of the SAR REGISTRATION), for the
 * User-Name of later RTRs and PPRs (6.1.3, 6.2.2).
 *
 * @param st    the store
 * @param impu  any IMPU of the set
 * @param impi  the IMPI, or NULL to clear (deregistered)
 * @return 0, ENOENT (unknown impu or impi), EIO
 */
int store_reg_impi_set(struct store *st, const char *impu, const char *impi)
{
	struct sres *r = NULL;
	struct sarg a[2];
	int err;

	if (!st || !impu)
		return EINVAL;
	a[0] = s_str(impu);
	a[1] = s_str(impi);
	err = run(st, EVQ_REG_IMPI_SET, a, 2, &r);
	return changed(err, r);
}


int store_reg_impi_get(struct store *st, const char *impu, char **impip)
{
	struct sres *r = NULL;
	char *v = NULL;
	struct sarg a[1];
	int err;

	if (!st || !impu || !impip)
		return EINVAL;
	a[0] = s_str(impu);
	err = run(st, EVQ_REG_IMPI_GET, a, 1, &r);
	if (!err && !r->rows)
		err = ENOENT;
	if (!err)
		err = store_strset(&v, sres_str(r, 0, 0));
	mem_deref(r);
	if (!err)
		*impip = v;
	return err;
}


/* ---- the RTR snapshot ---- */

static bool reg_served(enum store_reg_state s)
{
	return s != STORE_REG_NOT_REGISTERED;
}


static bool strv_has(const struct store_strv *sv, const char *s)
{
	size_t k;

	for (k = 0; s && k < sv->n; k++)
		if (strcmp(sv->v[k], s) == 0)
			return true;
	return false;
}


/* An IMPI: its served IMPUs that it registered, or whose registering
 * IMPI is not known (registered before migration 003; UNREGISTERED
 * state, which the S-CSCF holds for terminating services).  A set that
 * another IMPI registered is that IMPI's to end. */
static int snap_impi(struct store *st, const struct store_impi *i,
		     struct store_event *ev)
{
	struct store_impu *u = NULL;
	char *reg = NULL;
	size_t k;
	int err = 0;

	ev->whole_impi = true;
	err = store_strset(&ev->impi, i->identity);
	if (!err)
		err = store_strset(&ev->sub, i->subscription);
	for (k = 0; !err && k < i->impu.n; k++) {
		err = store_impu_get(st, i->impu.v[k], &u);
		if (!err && reg_served(u->reg_state))
			err = store_reg_impi_get(st, u->identity, &reg);
		if (!err && reg_served(u->reg_state) &&
		    (!reg || !strcmp(reg, i->identity)))
			err = store_strv_add(&ev->impus, u->identity);
		if (err == ENOENT)
			err = 0; /* unlinked meanwhile */
		u = mem_deref(u);
		reg = mem_deref(reg);
	}
	return err;
}


/* An IMPU: its implicit set, named by the IMPI that registered it; the
 * first linked IMPI when that is not known or no longer linked. */
static int snap_impu(struct store *st, const struct store_impu *u,
		     struct store_event *ev)
{
	char *reg = NULL;
	int err;

	if (!u->impi.n || !reg_served(u->reg_state))
		return EALREADY; /* a PSI is never registered */
	err = store_reg_impi_get(st, u->identity, &reg);
	if (!err)
		err = store_strset(&ev->impi, strv_has(&u->impi, reg)
						      ? reg
						      : u->impi.v[0]);
	if (!err)
		err = store_strset(&ev->sub, u->subscription);
	if (!err)
		err = store_strv_add(&ev->impus, u->identity);
	mem_deref(reg);
	return err;
}


/**
 * The RTR that deregistering identity sends now (TS 29.228 6.1.3),
 * taken from the store so that it can be queued and sent even after the
 * rows are deleted.
 *
 * @param st        the store
 * @param identity  an IMPI or an IMPU (a wildcarded one covers)
 * @param reason    Reason-Code (TS 29.229 6.3.17)
 * @param info      Reason-Info, or NULL
 * @param evp       the event (kind STORE_EV_DEREG, not queued)
 * @return 0, ENOENT unknown identity, EALREADY nothing served, EINVAL,
 *         EIO
 */
int store_event_dereg_snapshot(struct store *st, const char *identity,
			       uint32_t reason, const char *info,
			       struct store_event **evp)
{
	struct store_subscription *s = NULL;
	struct store_impi *i = NULL;
	struct store_impu *u = NULL;
	struct store_event *ev;
	char *pending = NULL;
	int err;

	if (!st || !identity || !*identity || !evp)
		return EINVAL;
	if (info &&
	    (strlen(info) > STORE_REASON_INFO_MAX || strpbrk(info, "\r\n")))
		return EINVAL;
	ev = mem_zalloc(sizeof(*ev), event_destructor);
	if (!ev)
		return ENOMEM;
	ev->kind = STORE_EV_DEREG;
	ev->reason = reason;
	ev->created = (int64_t)time(NULL);
	err = store_strset(&ev->subject, identity);
	if (!err && info && *info)
		err = store_strset(&ev->info, info);
	if (!err)
		err = store_impi_get(st, identity, &i);
	if (!err) {
		err = snap_impi(st, i, ev);
	} else if (err == ENOENT) {
		err = store_impu_resolve(st, identity, &u);
		if (!err)
			err = snap_impu(st, u, ev);
	}
	if (!err)
		err = store_sub_get(st, ev->sub, &s);
	if (!err)
		err = store_scscf_peer_get(st, ev->sub, &pending, &ev->host,
					   &ev->realm);
	if (!err && (!ev->impus.n || !s->scscf_assigned || !ev->host))
		err = EALREADY;
	if (!err) {
		*evp = ev;
		ev = NULL;
	}
	mem_deref(ev);
	mem_deref(pending);
	mem_deref(s);
	mem_deref(i);
	mem_deref(u);
	return err;
}
