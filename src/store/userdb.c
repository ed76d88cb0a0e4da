/**
 * @file userdb.c  SQLite table of digest users (see userdb.h).
 *
 * Lookups use a statement prepared once, an index probe on the primary
 * key.  Found HA1s are then kept in memory: in WAL mode every SQLite read
 * transaction costs three system calls (two fcntl() locks on the -shm
 * file and an fstat() of the -wal), more than the datagrams of the
 * REGISTER being authenticated.  Users are edited by another process
 * (`entims user ...`), whose commits move SQLite's data_version: it is
 * read at most every USERDB_CHECK_MS and the cache is emptied when it
 * moved, so a changed password or a deleted user is seen within that
 * time.  A user not in the cache is always looked up, so a user just
 * added can register at once; unknown users are not cached (a flood of
 * them costs what it cost before, and cannot fill the memory).
 */
#include "store/userdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/list.h"
#include "sip/auth.h"

enum {
	USERDB_CHECK_MS = 100,      /* how stale a cached HA1 may be */
	USERDB_CACHE_MAX = 1 << 20, /* entries; emptied when reached */
	USERDB_CACHE_BUCKETS = 1 << 14,
};

struct userdb {
	sqlite3 *db;
	sqlite3_stmt *get;
	sqlite3_stmt *version; /* PRAGMA data_version */
	struct hash *cache;    /* struct ha1ent */
	uint32_t ncached;
	int64_t data_version;
	uint64_t checked_ms; /* when data_version was last read */
};

/* One user's HA1s, as the users table holds them. */
struct ha1ent {
	struct le he;
	char ha1[2][AUTH_HA1_HEX_MAX]; /* MD5, SHA-256 */
	uint16_t ulen, rlen;
	char key[]; /* user, then realm */
};

static void destructor(void *arg)
{
	struct userdb *u = arg;

	hash_flush(u->cache);
	mem_deref(u->cache);
	sqlite3_finalize(u->version);
	sqlite3_finalize(u->get);
	sqlite3_close(u->db);
}


static uint64_t coarse_ms(void)
{
	struct timespec ts;

	/* the vDSO's coarse clock: no system call, tick resolution */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}


static void cache_clear(struct userdb *u)
{
	hash_flush(u->cache);
	u->ncached = 0;
}


/* Empty the cache when another connection committed since the last look
 * (SQLite's data_version moves only for other connections' commits; our
 * own writes clear the cache themselves). */
static void cache_check(struct userdb *u)
{
	uint64_t now = coarse_ms();
	int64_t v;

	if (now - u->checked_ms < USERDB_CHECK_MS)
		return;
	u->checked_ms = now;
	if (sqlite3_step(u->version) != SQLITE_ROW) {
		sqlite3_reset(u->version);
		cache_clear(u); /* cannot tell: trust nothing */
		return;
	}
	v = sqlite3_column_int64(u->version, 0);
	sqlite3_reset(u->version);
	if (v != u->data_version) {
		u->data_version = v;
		cache_clear(u);
	}
}


static uint32_t ent_key(const struct pl *user, const struct pl *realm)
{
	return hash_fast(user->p, user->l) * 31u +
	       hash_fast(realm->p, realm->l);
}


static struct ha1ent *cache_find(const struct userdb *u, uint32_t key,
				 const struct pl *user, const struct pl *realm)
{
	struct le *le;

	LIST_FOREACH (hash_list(u->cache, key), le) {
		struct ha1ent *e = le->data;

		if (e->ulen == user->l && e->rlen == realm->l &&
		    !memcmp(e->key, user->p, user->l) &&
		    !memcmp(e->key + e->ulen, realm->p, realm->l))
			return e;
	}
	return NULL;
}


/* Remember a found row; a failure only means the next lookup asks
 * SQLite again. */
static void cache_add(struct userdb *u, uint32_t key, const struct pl *user,
		      const struct pl *realm, const unsigned char *md5,
		      const unsigned char *sha)
{
	struct ha1ent *e;

	if (!md5 || !sha || user->l > UINT16_MAX || realm->l > UINT16_MAX ||
	    strlen((const char *)md5) >= AUTH_HA1_HEX_MAX ||
	    strlen((const char *)sha) >= AUTH_HA1_HEX_MAX)
		return;
	if (u->ncached >= USERDB_CACHE_MAX)
		cache_clear(u);
	e = mem_zalloc(sizeof(*e) + user->l + realm->l, NULL);
	if (!e)
		return;
	(void)snprintf(e->ha1[0], sizeof(e->ha1[0]), "%s", md5);
	(void)snprintf(e->ha1[1], sizeof(e->ha1[1]), "%s", sha);
	e->ulen = (uint16_t)user->l;
	e->rlen = (uint16_t)realm->l;
	memcpy(e->key, user->p, user->l);
	memcpy(e->key + user->l, realm->p, realm->l);
	hash_append(u->cache, key, &e->he, e);
	u->ncached++;
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
			       -1, &u->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(u->db, "PRAGMA data_version", -1, &u->version,
			       NULL) != SQLITE_OK ||
	    hash_alloc(&u->cache, USERDB_CACHE_BUCKETS)) {
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
	cache_clear(db);
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
	cache_clear(db);
	if (rc != SQLITE_DONE)
		return EIO;
	return sqlite3_changes(db->db) ? 0 : ENOENT;
}


int userdb_ha1(struct userdb *db, const struct pl *user, const struct pl *realm,
	       int alg, char *ha1, size_t size)
{
	const unsigned char *v;
	struct ha1ent *e;
	uint32_t key;
	int rc, err = ENOENT;

	cache_check(db);
	key = ent_key(user, realm);
	e = cache_find(db, key, user, realm);
	if (e)
		return snprintf(ha1, size, "%s", e->ha1[alg ? 1 : 0]) <
				       (int)size
			       ? 0
			       : ENOSPC;

	sqlite3_bind_text(db->get, 1, user->p, (int)user->l, SQLITE_STATIC);
	sqlite3_bind_text(db->get, 2, realm->p, (int)realm->l, SQLITE_STATIC);
	rc = sqlite3_step(db->get);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(db->get, alg ? 1 : 0);
		err = (v && snprintf(ha1, size, "%s", v) < (int)size) ? 0
								      : ENOSPC;
		cache_add(db, key, user, realm, sqlite3_column_text(db->get, 0),
			  sqlite3_column_text(db->get, 1));
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
