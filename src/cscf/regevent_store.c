/**
 * @file regevent_store.c  Where the reg event notifier's subscriptions
 *                         survive a restart: in memory and in SQLite.
 *
 * The notifier writes one row per subscription: put after each NOTIFY
 * that leaves it active (the local CSeq and the reginfo version move on
 * with every NOTIFY, and a restarted notifier must continue both, RFC 3261
 * 12.2.1.1 and RFC 3680 5.2), del when it ends, load once at start.
 *
 * The memory store keeps copies of the rows in a list: it serves the
 * tests, and a notifier re-created within one process.
 *
 * The SQLite store is one table keyed by the subscription id, in WAL mode
 * with synchronous=NORMAL: a put is a single-row upsert (a few tens of
 * microseconds), small next to sending the NOTIFY it follows, so it is
 * written synchronously on the loop rather than through a journal like
 * the registrar's bindings (src/sip/regstore.c), whose write rate is a
 * REGISTER per user per hour for every user; subscriptions change only
 * with registrations.  A crash loses at most the last writes of the OS
 * page cache on power loss (synchronous=NORMAL), never the file.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"
#include "cscf/regevent.h"

#define LOG_MODULE "regevent"

/* ---- memory ---------------------------------------------------------- */

#define NSTR 11

struct mem_row {
	struct le le;
	uint64_t id;
	char *s[NSTR];
	uint32_t lcseq, rcseq, version;
	int64_t expires_at;
};

struct mem_store {
	struct regevent_store st; /* first: the interface */
	struct list rows;
};


static void mem_row_destructor(void *data)
{
	struct mem_row *r = data;

	for (size_t i = 0; i < NSTR; i++)
		mem_deref(r->s[i]);
}


static void mem_store_destructor(void *data)
{
	struct mem_store *ms = data;

	list_flush(&ms->rows);
}


static void row_strs(const struct regevent_row *row, const char *v[NSTR])
{
	v[0] = row->impu;
	v[1] = row->subscriber;
	v[2] = row->callid;
	v[3] = row->ltag;
	v[4] = row->rtag;
	v[5] = row->luri;
	v[6] = row->ruri;
	v[7] = row->target;
	v[8] = row->route;
	v[9] = row->event_id;
	v[10] = "";
}


static struct mem_row *mem_find(struct mem_store *ms, uint64_t id)
{
	struct le *le;

	LIST_FOREACH (&ms->rows, le) {
		struct mem_row *r = le->data;

		if (r->id == id)
			return r;
	}
	return NULL;
}


static int mem_put(struct regevent_store *st, const struct regevent_row *row)
{
	struct mem_store *ms = (struct mem_store *)st;
	struct mem_row *r, *old;
	const char *v[NSTR];

	r = mem_zalloc(sizeof(*r), mem_row_destructor);
	if (!r)
		return ENOMEM;
	row_strs(row, v);
	for (size_t i = 0; i < NSTR; i++) {
		const char *s = v[i] ? v[i] : "";

		r->s[i] = mem_strdup(s, strlen(s));
		if (!r->s[i]) {
			mem_deref(r);
			return ENOMEM;
		}
	}
	r->id = row->id;
	r->lcseq = row->lcseq;
	r->rcseq = row->rcseq;
	r->version = row->version;
	r->expires_at = row->expires_at;
	old = mem_find(ms, row->id);
	if (old) {
		list_unlink(&old->le);
		mem_deref(old);
	}
	list_append(&ms->rows, &r->le, r);
	return 0;
}


static int mem_del(struct regevent_store *st, uint64_t id)
{
	struct mem_store *ms = (struct mem_store *)st;
	struct mem_row *r = mem_find(ms, id);

	if (r) {
		list_unlink(&r->le);
		mem_deref(r);
	}
	return 0;
}


static void row_view(struct regevent_row *row, uint64_t id,
		     const char *const s[NSTR], uint32_t lcseq, uint32_t rcseq,
		     uint32_t version, int64_t expires_at)
{
	memset(row, 0, sizeof(*row));
	row->id = id;
	row->impu = s[0];
	row->subscriber = s[1];
	row->callid = s[2];
	row->ltag = s[3];
	row->rtag = s[4];
	row->luri = s[5];
	row->ruri = s[6];
	row->target = s[7];
	row->route = s[8];
	row->event_id = s[9];
	row->lcseq = lcseq;
	row->rcseq = rcseq;
	row->version = version;
	row->expires_at = expires_at;
}


static int mem_load(struct regevent_store *st, regevent_row_h *rowh, void *arg)
{
	struct mem_store *ms = (struct mem_store *)st;
	struct le *le = ms->rows.head;

	while (le) {
		struct mem_row *r = le->data;
		struct regevent_row row;
		int err;

		le = le->next; /* rowh may delete this row */
		mem_ref(r);
		row_view(&row, r->id, (const char *const *)r->s, r->lcseq,
			 r->rcseq, r->version, r->expires_at);
		err = rowh(&row, arg);
		mem_deref(r);
		if (err)
			return err;
	}
	return 0;
}


static const struct regevent_store_ops mem_ops = { mem_put, mem_del, mem_load };


/**
 * A store that keeps the subscriptions in memory.
 *
 * @param stp  the store (mem_deref it)
 * @return 0, EINVAL or ENOMEM
 */
int regevent_store_mem_alloc(struct regevent_store **stp)
{
	struct mem_store *ms;

	if (!stp)
		return EINVAL;
	ms = mem_zalloc(sizeof(*ms), mem_store_destructor);
	if (!ms)
		return ENOMEM;
	ms->st.ops = &mem_ops;
	list_init(&ms->rows);
	*stp = &ms->st;
	return 0;
}


size_t regevent_store_mem_count(const struct regevent_store *st)
{
	const struct mem_store *ms = (const struct mem_store *)st;

	return (st && st->ops == &mem_ops) ? list_count(&ms->rows) : 0;
}


/* ---- SQLite ---------------------------------------------------------- */

struct sql_store {
	struct regevent_store st; /* first: the interface */
	sqlite3 *db;
	sqlite3_stmt *put;
	sqlite3_stmt *del;
};

static const char sql_schema[] =
	"CREATE TABLE IF NOT EXISTS regevent_sub ("
	" id INTEGER PRIMARY KEY, impu TEXT NOT NULL,"
	" subscriber TEXT NOT NULL, callid TEXT NOT NULL,"
	" ltag TEXT NOT NULL, rtag TEXT NOT NULL, luri TEXT NOT NULL,"
	" ruri TEXT NOT NULL, target TEXT NOT NULL, route TEXT NOT NULL,"
	" event_id TEXT NOT NULL, lcseq INTEGER NOT NULL,"
	" rcseq INTEGER NOT NULL, version INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL)";

static const char sql_put[] =
	"INSERT OR REPLACE INTO regevent_sub (id, impu, subscriber, callid,"
	" ltag, rtag, luri, ruri, target, route, event_id, lcseq, rcseq,"
	" version, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";


static void sql_store_destructor(void *data)
{
	struct sql_store *ss = data;

	(void)sqlite3_finalize(ss->put);
	(void)sqlite3_finalize(ss->del);
	(void)sqlite3_close(ss->db);
}


static int sql_err(struct sql_store *ss, int rc, const char *what)
{
	LOG_WARN(NULL, "reg event store: %s: %s", what, sqlite3_errmsg(ss->db));
	return rc == SQLITE_NOMEM ? ENOMEM : EIO;
}


static int sql_put_row(struct regevent_store *st,
		       const struct regevent_row *row)
{
	struct sql_store *ss = (struct sql_store *)st;
	const char *v[NSTR];
	int rc = SQLITE_OK;

	if (row->id > INT64_MAX)
		return EINVAL;
	row_strs(row, v);
	rc |= sqlite3_bind_int64(ss->put, 1, (sqlite3_int64)row->id);
	for (int i = 0; i < 10; i++)
		rc |= sqlite3_bind_text(ss->put, i + 2, v[i] ? v[i] : "", -1,
					SQLITE_STATIC);
	rc |= sqlite3_bind_int64(ss->put, 12, row->lcseq);
	rc |= sqlite3_bind_int64(ss->put, 13, row->rcseq);
	rc |= sqlite3_bind_int64(ss->put, 14, row->version);
	rc |= sqlite3_bind_int64(ss->put, 15, row->expires_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(ss->put);
	(void)sqlite3_reset(ss->put);
	(void)sqlite3_clear_bindings(ss->put);
	return (rc == SQLITE_DONE) ? 0 : sql_err(ss, rc, "put");
}


static int sql_del_row(struct regevent_store *st, uint64_t id)
{
	struct sql_store *ss = (struct sql_store *)st;
	int rc;

	rc = sqlite3_bind_int64(ss->del, 1, (sqlite3_int64)id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(ss->del);
	(void)sqlite3_reset(ss->del);
	return (rc == SQLITE_DONE) ? 0 : sql_err(ss, rc, "delete");
}


static uint32_t col_u32(sqlite3_stmt *q, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(q, i);

	return (v < 0 || v > UINT32_MAX) ? 0 : (uint32_t)v;
}


static int sql_load(struct regevent_store *st, regevent_row_h *rowh, void *arg)
{
	struct sql_store *ss = (struct sql_store *)st;
	sqlite3_stmt *q = NULL;
	struct mem_row **rows = NULL;
	size_t n = 0;
	int rc, err = 0;

	/* rows are read first and handed over after: rowh deletes the
	 * expired ones, which must not happen under an open SELECT */
	rc = sqlite3_prepare_v2(ss->db,
				"SELECT id, impu, subscriber, callid, ltag,"
				" rtag, luri, ruri, target, route, event_id,"
				" lcseq, rcseq, version, expires_at"
				" FROM regevent_sub ORDER BY id",
				-1, &q, NULL);
	if (rc != SQLITE_OK)
		return sql_err(ss, rc, "load");
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct mem_row *r, **nv;

		r = mem_zalloc(sizeof(*r), mem_row_destructor);
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers */
		nv = r ? mem_realloc(rows, (n + 1) * sizeof(*rows)) : NULL;
		if (!nv) {
			mem_deref(r);
			err = ENOMEM;
			break;
		}
		rows = nv;
		rows[n++] = r;
		r->id = (uint64_t)sqlite3_column_int64(q, 0);
		for (int i = 0; i < 10; i++) {
			const unsigned char *t = sqlite3_column_text(q, i + 1);
			const char *s = t ? (const char *)t : "";

			r->s[i] = mem_strdup(s, strlen(s));
			if (!r->s[i])
				err = ENOMEM;
		}
		r->s[10] = mem_strdup("", 0);
		if (!r->s[10])
			err = ENOMEM;
		r->lcseq = col_u32(q, 11);
		r->rcseq = col_u32(q, 12);
		r->version = col_u32(q, 13);
		r->expires_at = sqlite3_column_int64(q, 14);
	}
	if (!err && rc != SQLITE_DONE)
		err = sql_err(ss, rc, "load");
	(void)sqlite3_finalize(q);

	for (size_t i = 0; !err && i < n; i++) {
		struct regevent_row row;

		row_view(&row, rows[i]->id, (const char *const *)rows[i]->s,
			 rows[i]->lcseq, rows[i]->rcseq, rows[i]->version,
			 rows[i]->expires_at);
		err = rowh(&row, arg);
	}
	for (size_t i = 0; i < n; i++)
		mem_deref(rows[i]);
	mem_deref(rows);
	return err;
}


static const struct regevent_store_ops sql_ops = { sql_put_row, sql_del_row,
						   sql_load };


/**
 * Open (or create) an SQLite file for the subscriptions.
 *
 * @param stp   the store (mem_deref it)
 * @param path  the file
 * @return 0, EINVAL, ENOMEM or EIO (the reason is logged)
 */
int regevent_store_sqlite_open(struct regevent_store **stp, const char *path)
{
	struct sql_store *ss;
	int rc, err = 0;

	if (!stp || !path || !*path)
		return EINVAL;
	ss = mem_zalloc(sizeof(*ss), sql_store_destructor);
	if (!ss)
		return ENOMEM;
	ss->st.ops = &sql_ops;
	rc = sqlite3_open_v2(path, &ss->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err = ss->db ? sql_err(ss, rc, "open") : ENOMEM;
		goto out;
	}
	(void)sqlite3_busy_timeout(ss->db, 2000);
	rc = sqlite3_exec(ss->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ss->db, "PRAGMA synchronous=NORMAL", NULL,
				  NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ss->db, sql_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ss->db, sql_put, -1, &ss->put, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(ss->db,
					"DELETE FROM regevent_sub WHERE id = ?",
					-1, &ss->del, NULL);
	if (rc != SQLITE_OK)
		err = sql_err(ss, rc, "schema");
out:
	if (err)
		mem_deref(ss);
	else
		*stp = &ss->st;
	return err;
}
