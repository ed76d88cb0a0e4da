/**
 * @file pgsql.c  The PostgreSQL driver of the store (see store.h).
 *
 * libpq, one connection per store, the extended query protocol: each
 * numbered statement is prepared once per connection (named "eN") and
 * then executed with text parameters, so PostgreSQL infers every
 * parameter's type from the column it meets.  Results come back as text,
 * the form the shared row readers of store.c expect from both drivers.
 *
 * SQLSTATE classes map onto the store's errors: 23505 unique -> EEXIST,
 * 23503 foreign key and 23502 not null -> ENOENT (a reference to a
 * missing row), 40001/40P01 -> EAGAIN; the rest is logged as EIO.
 *
 * Read transactions are REPEATABLE READ (one snapshot for a multi-part
 * read such as the Cx profile); write transactions keep the default
 * READ COMMITTED and make their checks in the statements themselves
 * (conditional UPDATEs), so they need no retry loop.  Migrations hold a
 * transaction-scoped advisory lock, so that nodes starting together
 * apply them once.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

#define LOG_MODULE "store"

struct pg_be {
	PGconn *conn;
	bool prepared[STORE_QID_MAX];
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs ("relation exists, skipping") are not news */
}


static int pg_err(struct pg_be *be, const PGresult *res, const char *what)
{
	const char *state =
		res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state && !strcmp(state, "23505"))
		return EEXIST;
	if (state && (!strcmp(state, "23503") || !strcmp(state, "23502")))
		return ENOENT;
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
		return EAGAIN;
	LOG_ERR(NULL, "postgresql: %s: %s", what,
		res ? PQresultErrorMessage(res) : PQerrorMessage(be->conn));
	if (PQstatus(be->conn) != CONNECTION_OK)
		return ECONNRESET;
	return EIO;
}


static void pg_close(struct store *st)
{
	struct pg_be *be = st->be;

	if (!be)
		return;
	PQfinish(be->conn);
	st->be = mem_deref(be);
}


static int pg_open(struct store *st, const char *conninfo)
{
	struct pg_be *be;

	be = mem_zalloc(sizeof(*be), NULL);
	if (!be)
		return ENOMEM;
	st->be = be;
	be->conn = PQconnectdb(conninfo);
	if (!be->conn || PQstatus(be->conn) != CONNECTION_OK) {
		LOG_ERR(NULL, "postgresql: cannot connect: %s",
			be->conn ? PQerrorMessage(be->conn) : "no memory");
		pg_close(st);
		return EIO;
	}
	PQsetNoticeProcessor(be->conn, quiet, NULL);
	return 0;
}


static int pg_result(struct pg_be *be, PGresult *res, const char *what,
		     struct sres **resp)
{
	ExecStatusType s = PQresultStatus(res);
	struct sres *r = NULL;
	size_t rows, cols, i, c;
	const char *ct;
	int err;

	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK)
		return pg_err(be, res, what);
	rows = s == PGRES_TUPLES_OK ? (size_t)PQntuples(res) : 0;
	cols = s == PGRES_TUPLES_OK ? (size_t)PQnfields(res) : 0;
	err = sres_alloc(&r, rows, cols);
	if (err)
		return err;
	for (i = 0; i < rows; i++) {
		for (c = 0; c < cols; c++) {
			if (PQgetisnull(res, (int)i, (int)c))
				continue;
			r->v[i * cols + c] = mem_strdup(
				PQgetvalue(res, (int)i, (int)c),
				(size_t)PQgetlength(res, (int)i, (int)c));
			if (!r->v[i * cols + c]) {
				mem_deref(r);
				return ENOMEM;
			}
		}
	}
	ct = PQcmdTuples(res);
	r->changes = ct && *ct ? strtoull(ct, NULL, 10) : 0;
	if (resp)
		*resp = r;
	else
		mem_deref(r);
	return 0;
}


static int pg_query(struct store *st, unsigned qid, const char *sql,
		    const struct sarg *argv, size_t argc, struct sres **resp)
{
	struct pg_be *be = st->be;
	const char *vals[16];
	char ibuf[16][24], name[16];
	PGresult *res;
	size_t i;
	int err;

	if (qid >= STORE_QID_MAX || argc > 16)
		return EINVAL;
	(void)snprintf(name, sizeof(name), "e%u", qid);
	if (!be->prepared[qid]) {
		res = PQprepare(be->conn, name, sql, (int)argc, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			err = pg_err(be, res, sql);
			PQclear(res);
			return err;
		}
		PQclear(res);
		be->prepared[qid] = true;
	}
	for (i = 0; i < argc; i++) {
		switch (argv[i].t) {
		case SARG_NULL:
			vals[i] = NULL;
			break;
		case SARG_STR:
			vals[i] = argv[i].s;
			break;
		case SARG_INT:
			(void)snprintf(ibuf[i], sizeof(ibuf[i]), "%" PRId64,
				       argv[i].i);
			vals[i] = ibuf[i];
			break;
		}
	}
	res = PQexecPrepared(be->conn, name, (int)argc, vals, NULL, NULL, 0);
	err = pg_result(be, res, sql, resp);
	PQclear(res);
	return err;
}


static int pg_exec(struct store *st, const char *sql)
{
	struct pg_be *be = st->be;
	PGresult *res;
	int err;

	res = PQexec(be->conn, sql);
	err = pg_result(be, res, "script", NULL);
	PQclear(res);
	return err;
}


static int pg_begin(struct store *st, bool write)
{
	return pg_exec(st, write ? "BEGIN"
				 : "BEGIN ISOLATION LEVEL REPEATABLE READ");
}


static int pg_commit(struct store *st)
{
	return pg_exec(st, "COMMIT");
}


static void pg_rollback(struct store *st)
{
	struct pg_be *be = st->be;
	PGresult *res;

	if (PQtransactionStatus(be->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(be->conn, "ROLLBACK");
	PQclear(res);
}


const struct store_ops store_pgsql_ops = {
	.name = "postgresql",
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	/* "entims" in ASCII: one lock id for every entims node */
	.migrate_lock = "SELECT pg_advisory_xact_lock(111110116105109)",
};
