/**
 * @file regstore.c  SQLite persistence of registrar bindings.
 *
 * Durability (https://www.sqlite.org/wal.html, pragma synchronous): with
 * journal_mode=WAL and synchronous=NORMAL a transaction is durable against
 * an application crash or kill -9 as soon as COMMIT returns, because its
 * frames have been written (not fsync'ed) to the -wal file; the WAL is
 * fsync'ed before each checkpoint, so an operating-system crash or power
 * loss can roll back the most recent commits but never corrupts the file.
 * synchronous=FULL would fsync at every commit (one disk flush per loop
 * batch); the registrar's clients re-register anyway, so NORMAL is chosen.
 *
 * Schema history (PRAGMA user_version):
 *   1  table binding, keyed by the registrar's binding id.  No secondary
 *      index: the registrar keeps every binding in memory and reads the
 *      table only at start (a full scan), so an index on aor or expiry
 *      would only double the cost of every write.
 * A database written by a newer version (user_version above ours) is
 * refused rather than misread.
 */
#include "sip/regstore.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "core/log.h"

#define LOG_MODULE "regstore"

struct regstore {
	sqlite3 *db;
	sqlite3_stmt *st_begin;
	sqlite3_stmt *st_commit;
	sqlite3_stmt *st_rollback;
	sqlite3_stmt *st_put;
	sqlite3_stmt *st_del;
	bool in_txn;
};

static const char schema_v1[] = "CREATE TABLE binding ("
				" id INTEGER PRIMARY KEY,"
				" aor TEXT NOT NULL,"
				" uri TEXT NOT NULL,"
				" params TEXT,"
				" callid TEXT NOT NULL,"
				" cseq INTEGER NOT NULL,"
				" q INTEGER NOT NULL,"
				" expires_at INTEGER NOT NULL,"
				" path TEXT,"
				" instance TEXT,"
				" reg_id INTEGER NOT NULL DEFAULT 0,"
				" user_agent TEXT,"
				" tp INTEGER NOT NULL DEFAULT 0,"
				" src TEXT,"
				" dst TEXT);"
				"PRAGMA user_version = 1;";

static const char sql_put[] =
	"INSERT OR REPLACE INTO binding (id, aor, uri, params, callid, cseq,"
	" q, expires_at, path, instance, reg_id, user_agent, tp, src, dst)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14, ?15)";

static const char sql_load[] =
	"SELECT id, aor, uri, params, callid, cseq, q, expires_at, path,"
	" instance, reg_id, user_agent, tp, src, dst FROM binding"
	" ORDER BY id";

static int sqlerr(const struct regstore *rs, int rc, const char *what)
{
	LOG_ERR(NULL, "%s: %s", what,
		rs && rs->db ? sqlite3_errmsg(rs->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EILSEQ;
	default:
		return EIO;
	}
}


static void destructor(void *arg)
{
	struct regstore *rs = arg;

	if (rs->in_txn)
		regstore_rollback(rs);
	sqlite3_finalize(rs->st_begin);
	sqlite3_finalize(rs->st_commit);
	sqlite3_finalize(rs->st_rollback);
	sqlite3_finalize(rs->st_put);
	sqlite3_finalize(rs->st_del);
	if (rs->db)
		sqlite3_close(rs->db);
}


static int exec(struct regstore *rs, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(rs->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		LOG_ERR(NULL, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sqlerr(NULL, rc, "exec");
	}
	return 0;
}


static int user_version(struct regstore *rs, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(rs->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(rs, rc, "user_version");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else
		err = sqlerr(rs, rc, "user_version");
	sqlite3_finalize(st);
	return err;
}


/* Bring the schema to REGSTORE_SCHEMA_VERSION, one step per version. */
static int migrate(struct regstore *rs)
{
	int v = 0, err;

	err = user_version(rs, &v);
	if (err)
		return err;
	if (v > REGSTORE_SCHEMA_VERSION) {
		LOG_ERR(NULL,
			"database schema version %d is newer than this "
			"program's %d",
			v, REGSTORE_SCHEMA_VERSION);
		return EPROTO;
	}
	if (v == REGSTORE_SCHEMA_VERSION)
		return 0;

	err = exec(rs, "BEGIN IMMEDIATE");
	if (err)
		return err;
	if (v < 1)
		err = exec(rs, schema_v1);
	/* later versions: if (!err && v < 2) err = exec(rs, schema_v2); */
	if (err) {
		(void)exec(rs, "ROLLBACK");
		return err;
	}
	return exec(rs, "COMMIT");
}


static int prepare(struct regstore *rs, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(rs->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    st, NULL);

	return rc == SQLITE_OK ? 0 : sqlerr(rs, rc, sql);
}


/**
 * Open the binding store in `dir` (created with mode 0700 when missing).
 *
 * @return 0, EACCES, ENOENT, EPROTO (newer schema), EIO, ENOMEM
 */
int regstore_open(struct regstore **rsp, const char *dir)
{
	struct regstore *rs;
	char path[PATH_MAX];
	int rc, err;

	if (!rsp || !dir || !*dir)
		return EINVAL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return errno;
	rc = snprintf(path, sizeof(path), "%s/%s", dir, REGSTORE_FILE);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return ENAMETOOLONG;

	rs = mem_zalloc(sizeof(*rs), destructor);
	if (!rs)
		return ENOMEM;
	rc = sqlite3_open_v2(path, &rs->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err = sqlerr(rs, rc, path);
		goto out;
	}
	(void)sqlite3_busy_timeout(rs->db, 2000);
	err = exec(rs, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec(rs, "PRAGMA synchronous=NORMAL");
	if (!err)
		err = migrate(rs);
	if (!err)
		err = prepare(rs, "BEGIN", &rs->st_begin);
	if (!err)
		err = prepare(rs, "COMMIT", &rs->st_commit);
	if (!err)
		err = prepare(rs, "ROLLBACK", &rs->st_rollback);
	if (!err)
		err = prepare(rs, sql_put, &rs->st_put);
	if (!err)
		err = prepare(rs, "DELETE FROM binding WHERE id = ?1",
			      &rs->st_del);
out:
	if (err)
		mem_deref(rs);
	else
		*rsp = rs;
	return err;
}


static int step_done(struct regstore *rs, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(rs, rc, what);
}


int regstore_begin(struct regstore *rs)
{
	int err;

	if (!rs || rs->in_txn)
		return EINVAL;
	err = step_done(rs, rs->st_begin, "BEGIN");
	if (!err)
		rs->in_txn = true;
	return err;
}


int regstore_commit(struct regstore *rs)
{
	int err;

	if (!rs || !rs->in_txn)
		return EINVAL;
	err = step_done(rs, rs->st_commit, "COMMIT");
	if (!err)
		rs->in_txn = false;
	return err;
}


void regstore_rollback(struct regstore *rs)
{
	if (!rs || !rs->in_txn)
		return;
	(void)step_done(rs, rs->st_rollback, "ROLLBACK");
	/* a failed COMMIT may have rolled back already */
	rs->in_txn = !sqlite3_get_autocommit(rs->db);
}


static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}


int regstore_put(struct regstore *rs, const struct regstore_row *row)
{
	sqlite3_stmt *st;
	int rc;

	if (!rs || !row || !row->aor || !row->uri || !row->callid ||
	    row->id > INT64_MAX)
		return EINVAL;
	st = rs->st_put;
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)row->id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, row->aor);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, row->uri);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 4, row->params);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 5, row->callid);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, row->cseq);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 7, row->q);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, row->expires_at);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 9, row->path);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 10, row->instance);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 11, row->reg_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 12, row->user_agent);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 13, row->tp);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 14, row->src);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 15, row->dst);
	if (rc != SQLITE_OK) {
		(void)sqlite3_reset(st);
		(void)sqlite3_clear_bindings(st);
		return sqlerr(rs, rc, "bind");
	}
	return step_done(rs, st, "INSERT binding");
}


int regstore_del(struct regstore *rs, uint64_t id)
{
	int rc;

	if (!rs || id > INT64_MAX)
		return EINVAL;
	rc = sqlite3_bind_int64(rs->st_del, 1, (sqlite3_int64)id);
	if (rc != SQLITE_OK)
		return sqlerr(rs, rc, "bind");
	return step_done(rs, rs->st_del, "DELETE binding");
}


static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}


/* The purge is housekeeping: if it cannot run now (the file is busy or
 * full), the load skips the expired rows and they go later. */
static void purge_expired(struct regstore *rs, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(rs->db,
				"DELETE FROM binding WHERE expires_at <= ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		(void)sqlite3_bind_int64(st, 1, now);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		LOG_WARN(NULL, "expired bindings not purged: %s",
			 sqlite3_errmsg(rs->db));
		return;
	}
	rc = sqlite3_changes(rs->db);
	if (rc > 0)
		LOG_INFO(NULL, "dropped %d expired bindings", rc);
}


/* One result row into *row; false when out of range (corrupt). */
static bool row_read(sqlite3_stmt *st, struct regstore_row *row)
{
	sqlite3_int64 id = sqlite3_column_int64(st, 0);
	sqlite3_int64 cseq = sqlite3_column_int64(st, 5);
	sqlite3_int64 regid = sqlite3_column_int64(st, 10);
	int q = sqlite3_column_int(st, 6);

	if (id <= 0 || cseq < 0 || cseq > UINT32_MAX || regid < 0 ||
	    regid > UINT32_MAX || q < 0 || q > 1000)
		return false;
	memset(row, 0, sizeof(*row));
	row->id = (uint64_t)id;
	row->aor = col_text(st, 1);
	row->uri = col_text(st, 2);
	row->params = col_text(st, 3);
	row->callid = col_text(st, 4);
	row->cseq = (uint32_t)cseq;
	row->q = (uint16_t)q;
	row->expires_at = sqlite3_column_int64(st, 7);
	row->path = col_text(st, 8);
	row->instance = col_text(st, 9);
	row->reg_id = (uint32_t)regid;
	row->user_agent = col_text(st, 11);
	row->tp = sqlite3_column_int(st, 12);
	row->src = col_text(st, 13);
	row->dst = col_text(st, 14);
	return true;
}


/**
 * Load the stored bindings: the expired ones are deleted first (in one
 * statement), then each remaining one is handed to rowh in id order.
 *
 * @param now     wall clock, ms since the epoch (regstore_now())
 * @param max_id  receives the largest id stored (may be NULL)
 */
int regstore_load(struct regstore *rs, int64_t now, regstore_row_h *rowh,
		  void *arg, uint64_t *max_id)
{
	sqlite3_stmt *st = NULL;
	uint64_t maxv = 0;
	int rc, err = 0;

	if (!rs || !rowh || rs->in_txn)
		return EINVAL;
	purge_expired(rs, now);

	rc = sqlite3_prepare_v2(rs->db, sql_load, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(rs, rc, "load");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct regstore_row row;
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		/* ids stay unique even over rows not loaded */
		if (id > 0 && (uint64_t)id > maxv)
			maxv = (uint64_t)id;
		if (!row_read(st, &row)) {
			LOG_WARN(NULL, "skipping malformed binding row %lld",
				 (long long)id);
			continue;
		}
		if (row.expires_at <= now)
			continue; /* expired, not purged yet */
		err = rowh(&row, arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = sqlerr(rs, rc, "load");
	sqlite3_finalize(st);
	if (!err && max_id)
		*max_id = maxv;
	return err;
}


int regstore_count(struct regstore *rs, uint64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (!rs || !n)
		return EINVAL;
	rc = sqlite3_prepare_v2(rs->db, "SELECT COUNT(*) FROM binding", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return sqlerr(rs, rc, "count");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		err = sqlerr(rs, rc, "count");
	sqlite3_finalize(st);
	return err;
}


int64_t regstore_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
