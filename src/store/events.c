/**
 * @file events.c  The HSS outbox and S-CSCF bookkeeping (events.h).
 *
 * Written like store.c, over the same driver vtable and the same SQL
 * for both backends, but in a file of its own so that the subscriber
 * model and the HSS application's tables can change independently.
 *
 * Statement numbers: the drivers cache prepared statements by number
 * below STORE_QID_MAX; store.c numbers its own from 0 up, these take the
 * top of the range (EVQ_BASE and up), so the two never collide while
 * store.c stays below EVQ_BASE statements (it has about 75).
 */
#include "store/events.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"

enum evq {
	EVQ_ADD,
	EVQ_LIST,
	EVQ_DEL,
	EVQ_PENDING,
	EVQ_PEER,
	EVQ_PEER_GET,
	EVQ_MAX
};

#define EVQ_BASE STORE_QID_EVENTS
_Static_assert(EVQ_BASE + EVQ_MAX <= STORE_QID_MAX, "EVQ range");

static const char *const evsql[EVQ_MAX] = {
	[EVQ_ADD] = "INSERT INTO hss_event (kind, subject, reason, created) "
		    "VALUES ($1, $2, $3, $4)",
	[EVQ_LIST] = "SELECT id, kind, subject, reason, created FROM "
		     "hss_event ORDER BY id LIMIT $1",
	[EVQ_DEL] = "DELETE FROM hss_event WHERE id = $1",
	[EVQ_PENDING] = "UPDATE subscription SET scscf_pending = $2 WHERE "
			"name = $1",
	[EVQ_PEER] = "UPDATE subscription SET scscf_host = $2, scscf_realm = "
		     "$3 WHERE name = $1",
	[EVQ_PEER_GET] = "SELECT scscf_pending, scscf_host, scscf_realm FROM "
			 "subscription WHERE name = $1",
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
}


/**
 * Queue an HSS-initiated request for the HSS process.
 *
 * @param st       the store
 * @param kind     STORE_EV_PROFILE or STORE_EV_DEREG
 * @param subject  the subscription (PROFILE) or the identity (DEREG)
 * @param reason   the RTR Reason-Code (DEREG)
 * @return 0, EINVAL, EIO
 */
int store_event_add(struct store *st, enum store_event_kind kind,
		    const char *subject, uint32_t reason)
{
	struct sarg a[4];

	if (!st || !subject || !*subject ||
	    (kind != STORE_EV_PROFILE && kind != STORE_EV_DEREG))
		return EINVAL;
	a[0] = s_int(kind);
	a[1] = s_str(subject);
	a[2] = s_int(reason);
	a[3] = s_int((int64_t)time(NULL));
	return run(st, EVQ_ADD, a, 4, NULL);
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
		ev->id = sres_i64(r, i, 0);
		ev->kind = (enum store_event_kind)sres_i64(r, i, 1);
		ev->reason = (uint32_t)sres_i64(r, i, 3);
		ev->created = sres_i64(r, i, 4);
		list_append(out, &ev->le, ev);
		err = store_strset(&ev->subject, sres_str(r, i, 2));
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
