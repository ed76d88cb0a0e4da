/**
 * @file pgtest.c  A private PostgreSQL server for the tests (pgtest.h).
 *
 * Everything the server writes stays in one mkdtemp() directory: the
 * data directory, the Unix socket and the log.  The server listens on no
 * TCP address, so the port number only names the socket file and any
 * fixed number is free.  It runs with fsync off: the tests want speed,
 * not durability.
 */
#include "util/pgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG_BINDIR_DEFAULT "/usr/lib/postgresql/15/bin"
#define PG_READY_MS       30000

struct pgtest {
	char dir[128];
	char conninfo[256];
	pid_t pid;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}


static const char *bindir(void)
{
	/* NOLINTNEXTLINE(concurrency-mt-unsafe): tests, one thread here */
	const char *d = getenv("ENTIMS_PG_BINDIR");

	return d && *d ? d : PG_BINDIR_DEFAULT;
}


int pgtest_required(void)
{
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	const char *ci = getenv("CI");

	return ci && *ci;
}


/* Fork and exec argv as the postgres user when we are root; output to
 * log.  The child's PID in *pidp. */
static int spawn(char *const argv[], const char *log, pid_t *pidp)
{
	struct passwd *pw = NULL;
	pid_t pid;

	if (getuid() == 0) {
		pw = getpwnam("postgres"); /* NOLINT(concurrency-mt-unsafe) */
		if (!pw)
			return ESRCH;
	}
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
			(void)close(fd);
		}
		if (pw && (setgroups(0, NULL) || setgid(pw->pw_gid) ||
			   setuid(pw->pw_uid)))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	*pidp = pid;
	return 0;
}


static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}


static void tail_log(const char *dir, const char *name, char *why, size_t whysz)
{
	char path[256], line[256], last[256] = "";
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			memcpy(last, line, sizeof(last));
	(void)fclose(f);
	last[strcspn(last, "\n")] = '\0';
	if (last[0]) {
		size_t n = strlen(why);
		(void)snprintf(why + n, whysz - n, " (%s: %s)", name, last);
	}
}


static int pg_wait_ready(struct pgtest *pg, char *why, size_t whysz)
{
	long waited;
	int st;

	for (waited = 0; waited < PG_READY_MS; waited += 100) {
		if (PQping(pg->conninfo) == PQPING_OK)
			return 0;
		if (waitpid(pg->pid, &st, WNOHANG) == pg->pid) {
			pg->pid = 0;
			(void)snprintf(why, whysz, "postgres exited at start");
			tail_log(pg->dir, "postgres.log", why, whysz);
			return ECHILD;
		}
		sleep_ms(100);
	}
	(void)snprintf(why, whysz, "postgres not ready after %d ms",
		       PG_READY_MS);
	return ETIMEDOUT;
}


/**
 * Create a cluster in a temporary directory and start a server on it.
 *
 * @param pgp    the server
 * @param why    a sentence when it fails
 * @param whysz  its size
 * @return 0 or an errno
 */
int pgtest_start(struct pgtest **pgp, char *why, size_t whysz)
{
	char initdb[200], postgres[200], data[160], log[160];
	struct passwd *pw;
	struct pgtest *pg;
	pid_t pid;
	int err, st;

	why[0] = '\0';
	(void)snprintf(initdb, sizeof(initdb), "%s/initdb", bindir());
	(void)snprintf(postgres, sizeof(postgres), "%s/postgres", bindir());
	if (access(initdb, X_OK) || access(postgres, X_OK)) {
		(void)snprintf(why, whysz,
			       "no PostgreSQL server binaries in %s (Debian: "
			       "postgresql-15; or set ENTIMS_PG_BINDIR)",
			       bindir());
		return ENOENT;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return ENOMEM;
	(void)snprintf(pg->dir, sizeof(pg->dir), "/tmp/entims-pg-XXXXXX");
	if (!mkdtemp(pg->dir)) {
		err = errno;
		free(pg);
		(void)snprintf(why, whysz, "mkdtemp: %s", strerror(err));
		return err;
	}
	if (getuid() == 0) {
		pw = getpwnam("postgres"); /* NOLINT(concurrency-mt-unsafe) */
		if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid)) {
			(void)snprintf(why, whysz,
				       "running as root, but there is no "
				       "'postgres' user to run the server");
			err = ESRCH;
			goto fail;
		}
	}
	(void)snprintf(data, sizeof(data), "%s/data", pg->dir);
	(void)snprintf(log, sizeof(log), "%s/initdb.log", pg->dir);
	{
		char *const argv[] = {
			initdb,   "-D", data,   "-A",         "trust",     "-U",
			"entims", "-E", "UTF8", "--locale=C", "--no-sync", NULL
		};
		err = spawn(argv, log, &pid);
	}
	if (err || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		(void)snprintf(why, whysz, "initdb failed");
		tail_log(pg->dir, "initdb.log", why, whysz);
		err = err ? err : EIO;
		goto fail;
	}
	(void)snprintf(log, sizeof(log), "%s/postgres.log", pg->dir);
	{
		char *const argv[] = { postgres, "-D",
				       data,     "-k",
				       pg->dir,  "-p",
				       "5432",   "-F",
				       "-c",     "listen_addresses=",
				       "-c",     "max_connections=20",
				       NULL };
		err = spawn(argv, log, &pg->pid);
	}
	if (err) {
		(void)snprintf(why, whysz, "cannot start postgres: %s",
			       strerror(err));
		goto fail;
	}
	(void)snprintf(pg->conninfo, sizeof(pg->conninfo),
		       "host=%s port=5432 user=entims dbname=postgres "
		       "connect_timeout=5",
		       pg->dir);
	err = pg_wait_ready(pg, why, whysz);
	if (err)
		goto fail;
	*pgp = pg;
	return 0;
fail:
	pgtest_stop(pg);
	return err;
}


const char *pgtest_conninfo(const struct pgtest *pg)
{
	return pg->conninfo;
}


int pgtest_reset(const struct pgtest *pg)
{
	PGconn *c = PQconnectdb(pg->conninfo);
	PGresult *r;
	int err = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return ECONNREFUSED;
	}
	r = PQexec(c, "SET client_min_messages = warning;"
		      "DROP SCHEMA IF EXISTS public CASCADE;"
		      "CREATE SCHEMA public;");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		err = EIO;
	PQclear(r);
	PQfinish(c);
	return err;
}


/**
 * Stop the server (fast shutdown, SIGKILL after 10 s) and remove its
 * directory.
 *
 * @param pg  the server, or NULL
 */
void pgtest_stop(struct pgtest *pg)
{
	int st, i;

	if (!pg)
		return;
	if (pg->pid > 0) {
		(void)kill(pg->pid, SIGINT);
		for (i = 0; i < 100; i++) {
			if (waitpid(pg->pid, &st, WNOHANG) == pg->pid)
				break;
			sleep_ms(100);
		}
		if (i == 100) {
			(void)kill(pg->pid, SIGKILL);
			(void)waitpid(pg->pid, &st, 0);
		}
	}
	if (pg->dir[0])
		(void)nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(pg);
}
