/**
 * @file scscf_store.c  Persistence of the S-CSCF registrar: registered
 *                      implicit sets with their profile, and bindings.
 *
 * Design
 *
 * Two implementations behind one small vtable.  The memory store keeps
 * owned copies of the rows in two lists; a batch is staged (a list of
 * operations) and applied at commit, so a rollback simply drops it.  It
 * outlives the registrar that wrote it, which is what a restart inside
 * one process (and the tests) need.
 *
 * The SQLite store is one file, SCSCF_STORE_FILE, with two tables: `sset`
 * (one row per implicit set: IMPI, IMPU, HSS, the User-Data XML as the
 * HSS sent it, state) and `sbinding` (one row per contact, keyed by the
 * registrar's id, with the set's id).  WAL with synchronous=NORMAL: a
 * COMMIT that returned survives the process being killed; a power loss
 * may lose the last transactions (the same guarantee as regstore.c).
 *
 * Why SQLite rows and not regstore.c's journal: the S-CSCF writes only
 * after a Cx round trip (SAR) and an XML decode of the profile, each far
 * dearer than an SQLite row; and a set and its bindings must change
 * together (a registration writes the profile and the contacts, a
 * deregistration deletes both), which one SQLite transaction gives
 * directly.  The profile is stored as the XML the HSS sent, so a restart
 * decodes it exactly as the SAA was decoded, whatever release wrote it.
 * It is written when it changes (registration, PPR), not with every
 * binding change: a set put without User-Data keeps the stored one (an
 * UPSERT with COALESCE; the memory store moves the old row's copy), so a
 * re-registration neither rewrites a kilobyte of XML nor makes the
 * registrar keep it in memory.
 *
 * Schema history (PRAGMA user_version):
 *   1  sset, sbinding.  No secondary index: read at start (a full scan),
 *      written by primary key, deleted by set_id (rare: deregistration).
 */
#include "cscf/scscf_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/list.h"
#include "core/log.h"

#define LOG_MODULE "scscf"

#define PATH_MAX_LEN 1024

struct store_ops {
	int (*load)(struct scscf_store *st, scscf_store_set_h *seth,
		    scscf_store_binding_h *bindh, void *arg);
	int (*begin)(struct scscf_store *st);
	int (*set_put)(struct scscf_store *st, const struct scscf_store_set *s);
	int (*set_del)(struct scscf_store *st, uint64_t id);
	int (*binding_put)(struct scscf_store *st,
			   const struct scscf_store_binding *b);
	int (*binding_del)(struct scscf_store *st, uint64_t id);
	int (*commit)(struct scscf_store *st);
	void (*rollback)(struct scscf_store *st);
	int (*count)(struct scscf_store *st, uint64_t *sets,
		     uint64_t *bindings);
};

enum {
	SQ_SET_PUT,
	SQ_SET_DEL,
	SQ_SET_DEL_B,
	SQ_B_PUT,
	SQ_B_DEL,
	SQ_NUM
};

struct scscf_store {
	const struct store_ops *ops;
	bool in_tx;
	/* memory */
	struct list sets;     /* struct mrow, counted */
	struct list bindings; /* struct mrow, counted */
	struct list staged;   /* struct mrow, counted: the open batch */
	/* sqlite */
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ_NUM];
};

/* ---- the memory store ---- */

enum mop {
	MOP_SET_PUT,
	MOP_SET_DEL,
	MOP_B_PUT,
	MOP_B_DEL
};

/* A stored row (or a staged operation on one): owned string copies. */
struct mrow {
	struct le le;
	enum mop op;
	struct scscf_store_set s;
	struct scscf_store_binding b;
	char *str[10];
};


static void mrow_destructor(void *arg)
{
	struct mrow *r = arg;
	size_t i;

	for (i = 0; i < sizeof(r->str) / sizeof(r->str[0]); i++)
		mem_deref(r->str[i]);
}


/* A copy of s owned by r (slot i); "" for NULL so loads never see NULL. */
static int keep(struct mrow *r, size_t i, const char *s, const char **dst)
{
	if (!s)
		s = "";
	r->str[i] = mem_strdup(s, strlen(s));
	if (!r->str[i])
		return ENOMEM;
	*dst = r->str[i];
	return 0;
}


static int mrow_alloc(struct mrow **rp, enum mop op,
		      const struct scscf_store_set *s,
		      const struct scscf_store_binding *b)
{
	struct mrow *r = mem_zalloc(sizeof(*r), mrow_destructor);
	int err = 0;

	if (!r)
		return ENOMEM;
	r->op = op;
	if (s) {
		r->s = *s;
		err = keep(r, 0, s->impi, &r->s.impi);
		err = err ? err : keep(r, 1, s->impu, &r->s.impu);
		err = err ? err : keep(r, 2, s->hss_host, &r->s.hss_host);
		err = err ? err : keep(r, 3, s->hss_realm, &r->s.hss_realm);
		/* NULL stays NULL here: the commit keeps the stored one */
		if (!err && s->user_data)
			err = keep(r, 4, s->user_data, &r->s.user_data);
	}
	if (b) {
		r->b = *b;
		err = err ? err : keep(r, 0, b->uri, &r->b.uri);
		err = err ? err : keep(r, 1, b->params, &r->b.params);
		err = err ? err : keep(r, 2, b->callid, &r->b.callid);
		err = err ? err : keep(r, 3, b->path, &r->b.path);
		err = err ? err : keep(r, 4, b->instance, &r->b.instance);
		err = err ? err : keep(r, 5, b->user_agent, &r->b.user_agent);
		err = err ? err : keep(r, 6, b->src, &r->b.src);
	}
	if (err) {
		mem_deref(r);
		return err;
	}
	*rp = r;
	return 0;
}


static void mem_drop(struct list *l, bool binding, uint64_t id, bool by_set)
{
	struct le *le = l->head;

	while (le) {
		struct mrow *r = le->data;
		uint64_t k =
			binding ? (by_set ? r->b.set_id : r->b.id) : r->s.id;

		le = le->next;
		if (k != id)
			continue;
		list_unlink(&r->le);
		mem_deref(r);
	}
}


static int mem_load(struct scscf_store *st, scscf_store_set_h *seth,
		    scscf_store_binding_h *bindh, void *arg)
{
	struct le *le;
	int err;

	LIST_FOREACH (&st->sets, le) {
		const struct mrow *r = le->data;

		err = seth(&r->s, arg);
		if (err)
			return err;
	}
	LIST_FOREACH (&st->bindings, le) {
		const struct mrow *r = le->data;

		err = bindh(&r->b, arg);
		if (err)
			return err;
	}
	return 0;
}


static int mem_begin(struct scscf_store *st)
{
	list_flush(&st->staged);
	return 0;
}


static int mem_stage(struct scscf_store *st, enum mop op,
		     const struct scscf_store_set *s,
		     const struct scscf_store_binding *b)
{
	struct mrow *r = NULL;
	int err = mrow_alloc(&r, op, s, b);

	if (!err)
		list_append(&st->staged, &r->le, r);
	return err;
}


static int mem_set_put(struct scscf_store *st, const struct scscf_store_set *s)
{
	return mem_stage(st, MOP_SET_PUT, s, NULL);
}


static int mem_set_del(struct scscf_store *st, uint64_t id)
{
	struct scscf_store_set s = { .id = id };

	return mem_stage(st, MOP_SET_DEL, &s, NULL);
}


static int mem_binding_put(struct scscf_store *st,
			   const struct scscf_store_binding *b)
{
	return mem_stage(st, MOP_B_PUT, NULL, b);
}


static int mem_binding_del(struct scscf_store *st, uint64_t id)
{
	struct scscf_store_binding b = { .id = id };

	return mem_stage(st, MOP_B_DEL, NULL, &b);
}


/* A set put without User-Data takes the stored row's (moved, not
 * copied), or "" for a new row, so loads never see NULL. */
static void mem_keep_user_data(struct scscf_store *st, struct mrow *r)
{
	struct le *le;

	if (r->s.user_data)
		return;
	r->s.user_data = "";
	LIST_FOREACH (&st->sets, le) {
		struct mrow *o = le->data;

		if (o->s.id != r->s.id || !o->str[4])
			continue;
		r->str[4] = o->str[4];
		r->s.user_data = r->str[4];
		o->str[4] = NULL;
		o->s.user_data = "";
		break;
	}
}


/* Apply the batch in order; it cannot fail (the copies exist). */
static int mem_commit(struct scscf_store *st)
{
	struct le *le;

	while ((le = st->staged.head)) {
		struct mrow *r = le->data;

		list_unlink(le);
		switch (r->op) {
		case MOP_SET_PUT:
			mem_keep_user_data(st, r);
			mem_drop(&st->sets, false, r->s.id, false);
			list_append(&st->sets, &r->le, r);
			break;
		case MOP_SET_DEL:
			mem_drop(&st->sets, false, r->s.id, false);
			mem_drop(&st->bindings, true, r->s.id, true);
			mem_deref(r);
			break;
		case MOP_B_PUT:
			mem_drop(&st->bindings, true, r->b.id, false);
			list_append(&st->bindings, &r->le, r);
			break;
		case MOP_B_DEL:
			mem_drop(&st->bindings, true, r->b.id, false);
			mem_deref(r);
			break;
		}
	}
	return 0;
}


static void mem_rollback(struct scscf_store *st)
{
	list_flush(&st->staged);
}


static int mem_count(struct scscf_store *st, uint64_t *sets, uint64_t *bindings)
{
	*sets = list_count(&st->sets);
	*bindings = list_count(&st->bindings);
	return 0;
}


static const struct store_ops mem_ops = {
	.load = mem_load,
	.begin = mem_begin,
	.set_put = mem_set_put,
	.set_del = mem_set_del,
	.binding_put = mem_binding_put,
	.binding_del = mem_binding_del,
	.commit = mem_commit,
	.rollback = mem_rollback,
	.count = mem_count,
};

/* ---- the SQLite store ---- */

static const char *const sql_text[SQ_NUM] = {
	/* an UPSERT: a put without User-Data keeps the stored one */
	[SQ_SET_PUT] = "INSERT INTO sset (id, impi, impu, hss_host, "
		       "hss_realm, user_data, state) VALUES (?1, ?2, ?3, "
		       "?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET "
		       "impi = excluded.impi, impu = excluded.impu, "
		       "hss_host = excluded.hss_host, hss_realm = "
		       "excluded.hss_realm, user_data = "
		       "COALESCE(excluded.user_data, sset.user_data), "
		       "state = excluded.state",
	[SQ_SET_DEL] = "DELETE FROM sset WHERE id = ?1",
	[SQ_SET_DEL_B] = "DELETE FROM sbinding WHERE set_id = ?1",
	[SQ_B_PUT] = "INSERT OR REPLACE INTO sbinding (id, set_id, uri, "
		     "params, callid, cseq, q, expires_at, path, instance, "
		     "reg_id, user_agent, tp, src) VALUES (?1, ?2, ?3, ?4, "
		     "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[SQ_B_DEL] = "DELETE FROM sbinding WHERE id = ?1",
};


static int sqlerr(struct scscf_store *st, int rc, const char *what)
{
	LOG_ERR(NULL, "S-CSCF store: %s: %s", what,
		st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return rc == SQLITE_NOMEM ? ENOMEM : EIO;
}


static int exec(struct scscf_store *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		LOG_ERR(NULL, "S-CSCF store: %s: %s", sql,
			msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc == SQLITE_NOMEM ? ENOMEM : EIO;
	}
	return 0;
}


/* Run a prepared statement to its end and reset it. */
static int run(struct scscf_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int err = rc == SQLITE_DONE ? 0 : sqlerr(st, rc, what);

	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	return err;
}


static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}


static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}


static int schema(struct scscf_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, v = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(st, rc, "user_version");
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v > SCSCF_STORE_VERSION) {
		LOG_ERR(NULL,
			"S-CSCF store: schema version %d is newer than "
			"ours (%d)",
			v, SCSCF_STORE_VERSION);
		return EPROTO;
	}
	if (v == SCSCF_STORE_VERSION)
		return 0;
	return exec(st, "BEGIN;"
			"CREATE TABLE sset (id INTEGER PRIMARY KEY, "
			"impi TEXT NOT NULL, impu TEXT NOT NULL, hss_host "
			"TEXT, hss_realm TEXT, user_data TEXT, state "
			"INTEGER NOT NULL);"
			"CREATE TABLE sbinding (id INTEGER PRIMARY KEY, "
			"set_id INTEGER NOT NULL, uri TEXT NOT NULL, params "
			"TEXT, callid TEXT, cseq INTEGER, q INTEGER, "
			"expires_at INTEGER, path TEXT, instance TEXT, "
			"reg_id INTEGER, user_agent TEXT, tp INTEGER, "
			"src TEXT);"
			"PRAGMA user_version = 1;"
			"COMMIT;");
}


static int sq_load(struct scscf_store *st, scscf_store_set_h *seth,
		   scscf_store_binding_h *bindh, void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(st->db,
				"SELECT id, impi, impu, hss_host, hss_realm, "
				"user_data, state FROM sset ORDER BY id",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(st, rc, "load sets");
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct scscf_store_set r;

		r.id = (uint64_t)sqlite3_column_int64(s, 0);
		r.impi = col_text(s, 1);
		r.impu = col_text(s, 2);
		r.hss_host = col_text(s, 3);
		r.hss_realm = col_text(s, 4);
		r.user_data = col_text(s, 5);
		r.state = sqlite3_column_int(s, 6);
		err = seth(&r, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sqlerr(st, rc, "load sets");
	sqlite3_finalize(s);
	if (err)
		return err;

	rc = sqlite3_prepare_v2(
		st->db,
		"SELECT b.id, b.set_id, b.uri, b.params, b.callid, b.cseq, "
		"b.q, b.expires_at, b.path, b.instance, b.reg_id, "
		"b.user_agent, b.tp, b.src FROM sbinding b JOIN sset s ON "
		"s.id = b.set_id ORDER BY b.id",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(st, rc, "load bindings");
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct scscf_store_binding b;

		b.id = (uint64_t)sqlite3_column_int64(s, 0);
		b.set_id = (uint64_t)sqlite3_column_int64(s, 1);
		b.uri = col_text(s, 2);
		b.params = col_text(s, 3);
		b.callid = col_text(s, 4);
		b.cseq = (uint32_t)sqlite3_column_int64(s, 5);
		b.q = (uint16_t)sqlite3_column_int(s, 6);
		b.expires_at = sqlite3_column_int64(s, 7);
		b.path = col_text(s, 8);
		b.instance = col_text(s, 9);
		b.reg_id = (uint32_t)sqlite3_column_int64(s, 10);
		b.user_agent = col_text(s, 11);
		b.tp = sqlite3_column_int(s, 12);
		b.src = col_text(s, 13);
		err = bindh(&b, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = sqlerr(st, rc, "load bindings");
	sqlite3_finalize(s);
	return err;
}


static int sq_begin(struct scscf_store *st)
{
	return exec(st, "BEGIN IMMEDIATE");
}


static int sq_set_put(struct scscf_store *st, const struct scscf_store_set *r)
{
	sqlite3_stmt *s = st->stmt[SQ_SET_PUT];

	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)r->id) ||
	    bind_text(s, 2, r->impi) || bind_text(s, 3, r->impu) ||
	    bind_text(s, 4, r->hss_host) || bind_text(s, 5, r->hss_realm) ||
	    bind_text(s, 6, r->user_data) || sqlite3_bind_int(s, 7, r->state))
		return sqlerr(st, SQLITE_ERROR, "bind set");
	return run(st, s, "put set");
}


static int sq_set_del(struct scscf_store *st, uint64_t id)
{
	int err;

	if (sqlite3_bind_int64(st->stmt[SQ_SET_DEL_B], 1, (sqlite3_int64)id))
		return sqlerr(st, SQLITE_ERROR, "bind");
	err = run(st, st->stmt[SQ_SET_DEL_B], "delete bindings");
	if (err)
		return err;
	if (sqlite3_bind_int64(st->stmt[SQ_SET_DEL], 1, (sqlite3_int64)id))
		return sqlerr(st, SQLITE_ERROR, "bind");
	return run(st, st->stmt[SQ_SET_DEL], "delete set");
}


static int sq_binding_put(struct scscf_store *st,
			  const struct scscf_store_binding *b)
{
	sqlite3_stmt *s = st->stmt[SQ_B_PUT];

	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)b->id) ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)b->set_id) ||
	    bind_text(s, 3, b->uri) || bind_text(s, 4, b->params) ||
	    bind_text(s, 5, b->callid) || sqlite3_bind_int64(s, 6, b->cseq) ||
	    sqlite3_bind_int(s, 7, b->q) ||
	    sqlite3_bind_int64(s, 8, b->expires_at) ||
	    bind_text(s, 9, b->path) || bind_text(s, 10, b->instance) ||
	    sqlite3_bind_int64(s, 11, b->reg_id) ||
	    bind_text(s, 12, b->user_agent) || sqlite3_bind_int(s, 13, b->tp) ||
	    bind_text(s, 14, b->src))
		return sqlerr(st, SQLITE_ERROR, "bind binding");
	return run(st, s, "put binding");
}


static int sq_binding_del(struct scscf_store *st, uint64_t id)
{
	if (sqlite3_bind_int64(st->stmt[SQ_B_DEL], 1, (sqlite3_int64)id))
		return sqlerr(st, SQLITE_ERROR, "bind");
	return run(st, st->stmt[SQ_B_DEL], "delete binding");
}


static int sq_commit(struct scscf_store *st)
{
	return exec(st, "COMMIT");
}


static void sq_rollback(struct scscf_store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return;
	(void)exec(st, "ROLLBACK");
}


static int count_of(struct scscf_store *st, const char *sql, uint64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	int err = 0;

	if (rc != SQLITE_OK)
		return sqlerr(st, rc, "count");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	else
		err = sqlerr(st, rc, "count");
	sqlite3_finalize(s);
	return err;
}


static int sq_count(struct scscf_store *st, uint64_t *sets, uint64_t *bindings)
{
	int err = count_of(st, "SELECT COUNT(*) FROM sset", sets);

	return err ? err
		   : count_of(st, "SELECT COUNT(*) FROM sbinding", bindings);
}


static const struct store_ops sq_ops = {
	.load = sq_load,
	.begin = sq_begin,
	.set_put = sq_set_put,
	.set_del = sq_set_del,
	.binding_put = sq_binding_put,
	.binding_del = sq_binding_del,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.count = sq_count,
};

/* ---- common ---- */

static void destructor(void *arg)
{
	struct scscf_store *st = arg;
	size_t i;

	list_flush(&st->staged);
	list_flush(&st->sets);
	list_flush(&st->bindings);
	for (i = 0; i < SQ_NUM; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db)
		sqlite3_close(st->db);
}


/**
 * A store in process memory (tests; a role restarted inside a process).
 *
 * @param stp  receives the store (mem_deref it)
 * @return 0 or ENOMEM
 */
int scscf_store_mem_alloc(struct scscf_store **stp)
{
	struct scscf_store *st;

	if (!stp)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return ENOMEM;
	st->ops = &mem_ops;
	*stp = st;
	return 0;
}


/**
 * Open (or create) the SQLite store in a data directory.
 *
 * @param stp  receives the store (mem_deref it)
 * @param dir  the directory (created with mode 0700 when missing)
 * @return 0, EPROTO (newer schema), EIO, ENOMEM, ENAMETOOLONG
 */
int scscf_store_sqlite_open(struct scscf_store **stp, const char *dir)
{
	char path[PATH_MAX_LEN];
	int n;

	if (!stp || !dir)
		return EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, SCSCF_STORE_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errno;
	return scscf_store_sqlite_open_file(stp, path);
}


/**
 * Open the store's tables in an SQLite file that may hold other tables
 * too (the standalone process keeps them in the HSS's file: one file to
 * back up).  The tables' names (sset, sbinding) and PRAGMA user_version
 * are the S-CSCF's own in that file: the HSS store versions its schema
 * in its schema_version table.
 */
int scscf_store_sqlite_open_file(struct scscf_store **stp, const char *path)
{
	struct scscf_store *st;
	size_t i;
	int rc, err;

	if (!stp || !path)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return ENOMEM;
	st->ops = &sq_ops;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err = sqlerr(st, rc, path);
		goto out;
	}
	(void)sqlite3_busy_timeout(st->db, 2000);
	err = exec(st, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec(st, "PRAGMA synchronous=NORMAL");
	if (!err)
		err = schema(st);
	for (i = 0; !err && i < SQ_NUM; i++) {
		rc = sqlite3_prepare_v3(st->db, sql_text[i], -1,
					SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
					NULL);
		if (rc != SQLITE_OK)
			err = sqlerr(st, rc, sql_text[i]);
	}
out:
	if (err)
		mem_deref(st);
	else
		*stp = st;
	return err;
}


/**
 * Read the store: every set, then every binding whose set exists.
 *
 * @return 0, the first non-zero return of a handler, or EIO/ENOMEM
 */
int scscf_store_load(struct scscf_store *st, scscf_store_set_h *seth,
		     scscf_store_binding_h *bindh, void *arg)
{
	if (!st || !seth || !bindh)
		return EINVAL;
	return st->ops->load(st, seth, bindh, arg);
}


/** Open a batch (one transaction). */
int scscf_store_begin(struct scscf_store *st)
{
	int err;

	if (!st)
		return EINVAL;
	if (st->in_tx)
		return EALREADY;
	err = st->ops->begin(st);
	if (!err)
		st->in_tx = true;
	return err;
}


/** Insert or replace a set (inside a batch). */
int scscf_store_set_put(struct scscf_store *st, const struct scscf_store_set *s)
{
	if (!st || !s || !s->impi || !s->impu)
		return EINVAL;
	return st->in_tx ? st->ops->set_put(st, s) : EPROTO;
}


/** Delete a set and its bindings (inside a batch). */
int scscf_store_set_del(struct scscf_store *st, uint64_t id)
{
	if (!st)
		return EINVAL;
	return st->in_tx ? st->ops->set_del(st, id) : EPROTO;
}


/** Insert or replace a binding (inside a batch). */
int scscf_store_binding_put(struct scscf_store *st,
			    const struct scscf_store_binding *b)
{
	if (!st || !b || !b->uri)
		return EINVAL;
	return st->in_tx ? st->ops->binding_put(st, b) : EPROTO;
}


/** Delete a binding (inside a batch). */
int scscf_store_binding_del(struct scscf_store *st, uint64_t id)
{
	if (!st)
		return EINVAL;
	return st->in_tx ? st->ops->binding_del(st, id) : EPROTO;
}


/**
 * Commit the batch.  On failure the batch is rolled back.
 *
 * @return 0, EPROTO (no batch), EIO, ENOMEM
 */
int scscf_store_commit(struct scscf_store *st)
{
	int err;

	if (!st)
		return EINVAL;
	if (!st->in_tx)
		return EPROTO;
	err = st->ops->commit(st);
	if (err)
		st->ops->rollback(st);
	st->in_tx = false;
	return err;
}


/** Drop the open batch. */
void scscf_store_rollback(struct scscf_store *st)
{
	if (!st || !st->in_tx)
		return;
	st->ops->rollback(st);
	st->in_tx = false;
}


/** Sets and bindings stored. */
int scscf_store_count(struct scscf_store *st, uint64_t *sets,
		      uint64_t *bindings)
{
	uint64_t a = 0, b = 0;
	int err;

	if (!st)
		return EINVAL;
	err = st->ops->count(st, &a, &b);
	if (sets)
		*sets = a;
	if (bindings)
		*bindings = b;
	return err;
}
