/**
 * @file test_store_userdb.c  The digest users table of the `sip` role
 * (store/userdb.c): lookups, and the HA1 cache's rules against a second
 * connection standing for `entims user ...` in another process: a user
 * added elsewhere is found at once; a changed password or a deleted user
 * is seen once the data_version check has run (within 100 ms).
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/auth.h"
#include "store/userdb.h"

static char g_dir[] = "/tmp/test_userdb.XXXXXX";

static void rm_dir(void)
{
	static const char *const files[] = { "users.db", "users.db-wal",
					     "users.db-shm" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", g_dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(g_dir);
}


static int setup(void **state)
{
	(void)snprintf(g_dir, sizeof(g_dir), "/tmp/test_userdb.XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	return mem_mark(state);
}


static int teardown(void **state)
{
	int rc = mem_expect_no_leaks(state);

	rm_dir();
	return rc;
}


/* past the cache's staleness bound (USERDB_CHECK_MS) */
static void wait_check(void)
{
	const struct timespec ts = { 0, 150 * 1000000L };

	(void)nanosleep(&ts, NULL);
}


/* The HA1 of user@realm as the server sees it, or "" when refused. */
static int ha1_of(struct userdb *db, const char *user, const char *realm,
		  int alg, char *out, size_t size)
{
	struct pl u, r;

	pl_set_str(&u, user);
	pl_set_str(&r, realm);
	out[0] = '\0';
	return userdb_ha1(db, &u, &r, alg, out, size);
}


static void expect_ha1(struct userdb *db, const char *user, const char *realm,
		       const char *password)
{
	char got[AUTH_HA1_HEX_MAX], want[AUTH_HA1_HEX_MAX];

	assert_int_equal(ha1_of(db, user, realm, 0, got, sizeof(got)), 0);
	assert_int_equal(auth_ha1(AUTH_ALG_MD5, user, realm, password, want,
				  sizeof(want)),
			 0);
	assert_string_equal(got, want);
	assert_int_equal(ha1_of(db, user, realm, 1, got, sizeof(got)), 0);
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, user, realm, password, want,
				  sizeof(want)),
			 0);
	assert_string_equal(got, want);
}


static void test_lookup(void **state)
{
	struct userdb *db = NULL;
	char out[AUTH_HA1_HEX_MAX];

	(void)state;
	assert_int_equal(userdb_open(&db, g_dir), 0);
	assert_int_equal(userdb_add(db, "alice", "ex.test", "pw1", 0), 0);
	assert_int_equal(userdb_add(db, "alice", "ex.test", "pw1", 0), EEXIST);
	expect_ha1(db, "alice", "ex.test", "pw1");
	expect_ha1(db, "alice", "ex.test", "pw1"); /* from the cache */
	/* the key is user AND realm, exactly */
	assert_int_equal(ha1_of(db, "alice", "other.test", 0, out, sizeof(out)),
			 ENOENT);
	assert_int_equal(ha1_of(db, "alic", "eex.test", 0, out, sizeof(out)),
			 ENOENT);
	assert_int_equal(ha1_of(db, "Alice", "ex.test", 0, out, sizeof(out)),
			 ENOENT);
	/* too small a buffer */
	assert_int_equal(ha1_of(db, "alice", "ex.test", 1, out, 8), ENOSPC);
	/* our own writes are seen at once */
	assert_int_equal(userdb_add(db, "alice", "ex.test", "pw2", 1), 0);
	expect_ha1(db, "alice", "ex.test", "pw2");
	assert_int_equal(userdb_del(db, "alice", "ex.test"), 0);
	assert_int_equal(ha1_of(db, "alice", "ex.test", 0, out, sizeof(out)),
			 ENOENT);
	assert_int_equal(userdb_del(db, "alice", "ex.test"), ENOENT);
	mem_deref(db);
}


static void test_other_connection(void **state)
{
	struct userdb *srv = NULL, *cli = NULL;
	char out[AUTH_HA1_HEX_MAX];

	(void)state;
	assert_int_equal(userdb_open(&srv, g_dir), 0);
	assert_int_equal(userdb_open(&cli, g_dir), 0);

	/* added elsewhere: found at once (a miss always asks SQLite) */
	assert_int_equal(ha1_of(srv, "bob", "ex.test", 0, out, sizeof(out)),
			 ENOENT);
	assert_int_equal(userdb_add(cli, "bob", "ex.test", "old", 0), 0);
	expect_ha1(srv, "bob", "ex.test", "old");

	/* a new password: seen after the version check */
	assert_int_equal(userdb_add(cli, "bob", "ex.test", "new", 1), 0);
	wait_check();
	expect_ha1(srv, "bob", "ex.test", "new");

	/* deleted: refused after the version check */
	assert_int_equal(userdb_del(cli, "bob", "ex.test"), 0);
	wait_check();
	assert_int_equal(ha1_of(srv, "bob", "ex.test", 0, out, sizeof(out)),
			 ENOENT);
	assert_int_equal(ha1_of(srv, "bob", "ex.test", 1, out, sizeof(out)),
			 ENOENT);

	mem_deref(cli);
	mem_deref(srv);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_connection, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
