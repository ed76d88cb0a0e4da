/**
 * @file pgtest.h  A private PostgreSQL server for the tests.
 *
 * pgtest_start() runs initdb into a fresh temporary directory and starts
 * `postgres` on a Unix socket in that directory only (no TCP listener),
 * as the user `postgres` when the tests run as root (initdb refuses
 * root), waits until it accepts connections and gives a libpq conninfo
 * for it.  pgtest_stop() stops that server by its PID and removes the
 * directory.  pgtest_reset() empties the database between test cases.
 *
 * The binaries are looked up in $ENTIMS_PG_BINDIR, else
 * /usr/lib/postgresql/15/bin.
 */
#ifndef IMS_TEST_PGTEST_H
#define IMS_TEST_PGTEST_H

#include <stddef.h>

struct pgtest;

/* 0, or an errno with a sentence in why (no binaries, initdb failed,
 * server not ready within 30 s). */
int pgtest_start(struct pgtest **pgp, char *why, size_t whysz);
const char *pgtest_conninfo(const struct pgtest *pg);
/* DROP SCHEMA public CASCADE; CREATE SCHEMA public */
int pgtest_reset(const struct pgtest *pg);
void pgtest_stop(struct pgtest *pg);

/* Whether a failure to start must fail the suite: CI is set. */
int pgtest_required(void);

#endif
