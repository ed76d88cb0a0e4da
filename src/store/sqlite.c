/**
 * @file sqlite.c  The SQLite driver of the store (see store.h).
 *
 * One connection per store, in WAL mode (readers never wait for the
 * writer; several processes may open the file), foreign keys on (they
 * are off by default in SQLite and the cascades depend on them), and a
 * busy timeout so that two writers queue instead of failing.
 *
 * Statements are prepared on first use and kept per query number.  The
 * shared SQL writes placeholders as $1, $2 (PostgreSQL's form); they are
 * rewritten to ?1, ?2 here, which SQLite binds by number too.
 *
 * Write transactions start with BEGIN IMMEDIATE: a deferred transaction
 * that reads first and writes later can fail with SQLITE_BUSY without
 * waiting when another connection wrote in between, so the write lock
 * is taken at the start instead.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

#define LOG_MODULE "store"

#define BUSY_TIMEOUT_MS 5000
#define SQL_MAX         4096

struct sqlite_be {
	sqlite3 *db;
	sqlite3_stmt *stmt[STORE_QID_MAX];
};

static int sq_err(struct sqlite_be *be, int rc, const char *what)
{
	int ext = sqlite3_extended_errcode(be->db);

	switch (rc) {
	case SQLITE_CONSTRAINT:
		if (ext == SQLITE_CONSTRAINT_UNIQUE ||
		    ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			return EEXIST;
		if (ext == SQLITE_CONSTRAINT_FOREIGNKEY ||
		    ext == SQLITE_CONSTRAINT_NOTNULL)
			return ENOENT; /* a reference to a missing row */
		return EINVAL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		LOG_WARN(NULL, "sqlite: %s: database busy", what);
		return ETIMEDOUT;
	case SQLITE_NOMEM:
		return ENOMEM;
	default:
		LOG_ERR(NULL, "sqlite: %s: %s", what, sqlite3_errmsg(be->db));
		return EIO;
	}
}


static void sq_close(struct store *st)
{
	struct sqlite_be *be = st->be;
	size_t i;

	if (!be)
		return;
	for (i = 0; i < STORE_QID_MAX; i++)
		sqlite3_finalize(be->stmt[i]);
	sqlite3_close(be->db);
	st->be = mem_deref(be);
}


static int sq_open(struct store *st, const char *path)
{
	struct sqlite_be *be;
	char *msg = NULL;
	int rc;

	be = mem_zalloc(sizeof(*be), NULL);
	if (!be)
		return ENOMEM;
	st->be = be;
	rc = sqlite3_open_v2(path, &be->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(be->db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(be->db,
				  "PRAGMA journal_mode=WAL;"
				  "PRAGMA synchronous=NORMAL;"
				  "PRAGMA foreign_keys=ON;",
				  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		LOG_ERR(NULL, "sqlite: cannot open %s: %s", path,
			msg ? msg
			    : (be->db ? sqlite3_errmsg(be->db) : "no memory"));
		sqlite3_free(msg);
		sq_close(st);
		return EIO;
	}
	return 0;
}


/* $N -> ?N (the shared SQL has no '$' anywhere else). */
static int sq_rewrite(char *out, size_t size, const char *in)
{
	size_t n = strlen(in);

	if (n >= size)
		return ENAMETOOLONG;
	memcpy(out, in, n + 1);
	for (char *p = out; (p = strchr(p, '$')) != NULL; p++)
		if (p[1] >= '0' && p[1] <= '9')
			*p = '?';
	return 0;
}


static int sq_bind(sqlite3_stmt *s, const struct sarg *argv, size_t argc)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < argc && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;
		switch (argv[i].t) {
		case SARG_NULL:
			rc = sqlite3_bind_null(s, idx);
			break;
		case SARG_STR:
			rc = sqlite3_bind_text(s, idx, argv[i].s, -1,
					       SQLITE_STATIC);
			break;
		case SARG_INT:
			rc = sqlite3_bind_int64(s, idx, argv[i].i);
			break;
		}
	}
	return rc;
}


/* Append the current row to r (grown by doubling; *cap in rows). */
static int sq_row(struct sres *r, size_t *cap, sqlite3_stmt *s)
{
	size_t c;

	if (r->rows == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **v = mem_realloc(r->v, ncap * r->cols * sizeof(char *));
		if (!v)
			return ENOMEM;
		memset(v + *cap * r->cols, 0,
		       (ncap - *cap) * r->cols * sizeof(char *));
		r->v = v;
		*cap = ncap;
	}
	for (c = 0; c < r->cols; c++) {
		const unsigned char *t = sqlite3_column_text(s, (int)c);
		char **cell = &r->v[r->rows * r->cols + c];

		if (!t)
			continue;
		*cell = mem_strdup((const char *)t,
				   (size_t)sqlite3_column_bytes(s, (int)c));
		if (!*cell)
			return ENOMEM;
	}
	r->rows++;
	return 0;
}


static int sq_query(struct store *st, unsigned qid, const char *sql,
		    const struct sarg *argv, size_t argc, struct sres **resp)
{
	struct sqlite_be *be = st->be;
	struct sres *r = NULL;
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc, err;

	if (qid >= STORE_QID_MAX)
		return EINVAL;
	s = be->stmt[qid];
	if (!s) {
		char text[SQL_MAX];
		err = sq_rewrite(text, sizeof(text), sql);
		if (err)
			return err;
		rc = sqlite3_prepare_v3(be->db, text, -1,
					SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK)
			return sq_err(be, rc, sql);
		be->stmt[qid] = s;
	}
	rc = sq_bind(s, argv, argc);
	if (rc != SQLITE_OK) {
		err = sq_err(be, rc, "bind");
		goto out;
	}
	err = sres_alloc(&r, 0, (size_t)sqlite3_column_count(s));
	if (err)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		err = sq_row(r, &cap, s);
		if (err)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		err = sq_err(be, rc, sql);
		goto out;
	}
	if (!sqlite3_stmt_readonly(s))
		r->changes = (uint64_t)sqlite3_changes64(be->db);
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (err)
		mem_deref(r);
	else
		*resp = r;
	return err;
}


static int sq_exec(struct store *st, const char *sql)
{
	struct sqlite_be *be = st->be;
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(be->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int err = sq_err(be, rc, "script");
		if (msg)
			LOG_ERR(NULL, "sqlite: %s", msg);
		sqlite3_free(msg);
		return err;
	}
	return 0;
}


static int sq_begin(struct store *st, bool write)
{
	return sq_exec(st, write ? "BEGIN IMMEDIATE" : "BEGIN");
}


static int sq_commit(struct store *st)
{
	return sq_exec(st, "COMMIT");
}


static void sq_rollback(struct store *st)
{
	struct sqlite_be *be = st->be;

	if (!sqlite3_get_autocommit(be->db))
		(void)sqlite3_exec(be->db, "ROLLBACK", NULL, NULL, NULL);
}


const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.migrate_lock = NULL,
};
