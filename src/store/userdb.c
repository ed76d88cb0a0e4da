/**
 * @file userdb.c  SQLite table of digest users (see userdb.h).
 *
 * Lookups use a statement prepared once; a lookup is an index probe on
 * the primary key, a few microseconds, so credentials are always read
 * fresh: `entims user add` takes effect on a running server at once.
 */
#include "store/userdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "sip/auth.h"

struct userdb {
	sqlite3 *db;
	sqlite3_stmt *get;
};

static void destructor(void *arg)
{
	struct userdb *u = arg;

	sqlite3_finalize(u->get);
	sqlite3_close(u->db);
}


static const char schema[] = "CREATE TABLE IF NOT EXISTS users ("
			     " user TEXT NOT NULL, realm TEXT NOT NULL,"
			     " ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL,"
			     " PRIMARY KEY (user, realm)) WITHOUT ROWID;";


int userdb_open(struct userdb **dbp, const char *dir)
{
	struct userdb *u;
	char path[512];
	int err = 0;

	if (snprintf(path, sizeof(path), "%s/users.db", dir) >=
	    (int)sizeof(path))
		return ENAMETOOLONG;
	u = mem_zalloc(sizeof(*u), destructor);
	if (!u)
		return ENOMEM;
	if (sqlite3_open(path, &u->db) != SQLITE_OK ||
	    sqlite3_exec(u->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "PRAGMA busy_timeout=2000;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(u->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(u->db,
			       "SELECT ha1_md5, ha1_sha256 FROM users "
			       "WHERE user = ?1 AND realm = ?2",
			       -1, &u->get, NULL) != SQLITE_OK) {
		(void)fprintf(stderr, "entims: cannot open %s: %s\n", path,
			      sqlite3_errmsg(u->db));
		err = EIO;
		mem_deref(u);
		return err;
	}
	*dbp = u;
	return 0;
}


int userdb_add(struct userdb *db, const char *user, const char *realm,
	       const char *password, int replace)
{
	char md5[AUTH_HA1_HEX_MAX], sha[AUTH_HA1_HEX_MAX];
	sqlite3_stmt *st = NULL;
	int rc, err;

	err = auth_ha1(AUTH_ALG_MD5, user, realm, password, md5, sizeof(md5));
	if (!err)
		err = auth_ha1(AUTH_ALG_SHA256, user, realm, password, sha,
			       sizeof(sha));
	if (err)
		return err;
	rc = sqlite3_prepare_v2(db->db,
				replace ? "INSERT OR REPLACE INTO users "
					  "VALUES (?1, ?2, ?3, ?4)"
					: "INSERT INTO users VALUES (?1, ?2, "
					  "?3, ?4)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return EIO;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, realm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, md5, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return EEXIST;
	return rc == SQLITE_DONE ? 0 : EIO;
}


int userdb_del(struct userdb *db, const char *user, const char *realm)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->db,
			       "DELETE FROM users WHERE user = ?1 AND "
			       "realm = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return EIO;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, realm, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return EIO;
	return sqlite3_changes(db->db) ? 0 : ENOENT;
}


int userdb_ha1(struct userdb *db, const struct pl *user, const struct pl *realm,
	       int alg, char *ha1, size_t size)
{
	const unsigned char *v;
	int rc, err = ENOENT;

	sqlite3_bind_text(db->get, 1, user->p, (int)user->l, SQLITE_STATIC);
	sqlite3_bind_text(db->get, 2, realm->p, (int)realm->l, SQLITE_STATIC);
	rc = sqlite3_step(db->get);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(db->get, alg ? 1 : 0);
		err = (v && snprintf(ha1, size, "%s", v) < (int)size) ? 0
								      : ENOSPC;
	} else if (rc != SQLITE_DONE) {
		err = EIO;
	}
	sqlite3_reset(db->get);
	sqlite3_clear_bindings(db->get);
	return err;
}


int userdb_has_user(struct userdb *db, const struct pl *user,
		    const struct pl *realm)
{
	char tmp[AUTH_HA1_HEX_MAX];

	return userdb_ha1(db, user, realm, 0, tmp, sizeof(tmp));
}


int userdb_list(struct userdb *db, userdb_list_h *h, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->db,
			       "SELECT user, realm FROM users ORDER BY realm, "
			       "user",
			       -1, &st, NULL) != SQLITE_OK)
		return EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		h((const char *)sqlite3_column_text(st, 0),
		  (const char *)sqlite3_column_text(st, 1), arg);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}


int userdb_count(struct userdb *db, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM users", -1, &st,
			       NULL) != SQLITE_OK)
		return EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : EIO;
}
