/**
 * @file regstore.c  Persistence of registrar bindings: an append-only
 *                   journal in front of an SQLite table.
 *
 * Why a journal.  A REGISTER changes one row, and the registrar keeps
 * every binding in memory, so the store is written on every registration
 * and read only at start.  An SQLite INSERT OR REPLACE costs about 6,000
 * instructions per row (statement VM, B-tree, page cache); appending the
 * same row as a binary record costs a few hundred, and a batch of them is
 * one write().  So a commit appends the batch's records to
 * registrar.journal, and a fold thread applies the journal to the table
 * in the background, keeping only the last record of each binding (a
 * refresh supersedes the previous one, so most records never reach
 * SQLite).
 *
 * Durability.  write() returning means the bytes are in the OS page
 * cache: they survive the process being killed (kill -9, a crash), like
 * an SQLite WAL commit with synchronous=NORMAL, which is what this store
 * used before.  An operating-system crash or power loss may lose the
 * last records unless `fsync` is set (registrar.fsync), which adds an
 * fdatasync() per batch.  Each record carries its length and a checksum,
 * so a torn tail is detected and cut off when the journal is read.
 *
 * Files in the data directory:
 *   registrar.sqlite     the table (WAL, synchronous=NORMAL)
 *   registrar.journal    records appended since the last rotation
 *   registrar.journal.1  the rotated journal being folded (at most one)
 * Rotation renames the journal to .1 when it passes REGSTORE_JOURNAL_MAX
 * and .1 is gone; the fold thread applies .1 in one SQLite transaction,
 * then unlinks it.  A crash between the COMMIT and the unlink replays .1
 * once more, which changes nothing: a record sets the whole row (or
 * deletes it), so applying it twice is applying it once.  At open, .1 and
 * then the journal are folded before anything else, so the table alone
 * is the state.  regstore_load() only reads (the table, then the journal
 * records on top), so a reload after a failed commit works even when the
 * disk is full.
 *
 * Record (little-endian):
 *   u32 len      the whole record, checksum included, multiple of 8
 *   u8  op       'P' put, 'D' delete
 *   u8  tp       enum sip_transp
 *   u16 q
 *   u64 id
 *   u32 cseq, u32 reg_id, i64 expires_at            (put only)
 *   u16 lengths of the REGSTORE_NSTR strings, then their bytes (put only)
 *   padding with zeros to a multiple of 8
 *   u64 checksum of everything before it
 * The journal starts with an 8-byte magic and a u64 format version.
 *
 * Schema history of the table (PRAGMA user_version):
 *   1  table binding, keyed by the registrar's binding id.  No secondary
 *      index: the table is read only at start (a full scan).
 * A database written by a newer version (user_version above ours) is
 * refused rather than misread.
 */
#include "sip/regstore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define LOG_MODULE "regstore"

#define JOURNAL_FILE  REGSTORE_FILE_BASE ".journal"
#define FOLD_FILE     REGSTORE_FILE_BASE ".journal.1"
#define JOURNAL_MAGIC "ENTIMSRJ"
#define JOURNAL_VER   1u
#define JOURNAL_HDR   16u
#define REC_FIXED     16u /* len, op, tp, q, id */
#define REC_PUT_FIXED (REC_FIXED + 16u + 2u * REGSTORE_NSTR)

/* The strings of a put record, in this order. */
enum {
	S_AOR,
	S_URI,
	S_PARAMS,
	S_CALLID,
	S_PATH,
	S_INSTANCE,
	S_UA,
	S_SRC,
	S_DST
};

struct regstore {
	sqlite3 *db;      /* the loop thread's connection: load, count */
	sqlite3 *fold_db; /* the folder's: applies journals */
	sqlite3_stmt *st_put;
	sqlite3_stmt *st_del;
	char path[PATH_MAX];  /* registrar.sqlite */
	char jpath[PATH_MAX]; /* registrar.journal */
	char fpath[PATH_MAX]; /* registrar.journal.1 */
	int jfd;              /* journal, O_APPEND */
	uint64_t jsize;       /* bytes in the journal */
	size_t journal_max;
	bool fsync;
	bool in_txn;
	size_t batch_start; /* rollback point in batch */
	uint8_t *batch;     /* records of the open transaction */
	size_t batch_len, batch_cap;

	/* fold thread: `folding` while it works on FOLD_FILE */
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool thread_started, folding, stop;
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


/* Fold of one journal file. */
static int fold_file(struct regstore *rs, const char *path);


/* The checksum guards against torn writes, not against an adversary: a
 * word-at-a-time multiply-rotate mix (the inner step of xxhash64), about
 * 1 instruction per byte where a table CRC costs 5-8. */
static uint64_t rec_sum(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h ^= w * 0xc2b2ae3d27d4eb4full;
		h = ((h << 31) | (h >> 33)) * 0x9e3779b97f4a7c15ull;
	}
	h ^= h >> 29;
	h *= 0x165667b19e3779f9ull;
	return h ^ (h >> 32);
}


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | ((uint32_t)get16(p + 2) << 16);
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | ((uint64_t)get32(p + 4) << 32);
}


static void destructor(void *arg)
{
	struct regstore *rs = arg;

	if (rs->thread_started) {
		pthread_mutex_lock(&rs->mtx);
		rs->stop = true;
		pthread_cond_signal(&rs->cond);
		pthread_mutex_unlock(&rs->mtx);
		pthread_join(rs->thread, NULL);
	}
	/* a clean stop folds what is left, so the next start is quick */
	if (rs->jfd >= 0 && rs->fold_db && rs->jsize > JOURNAL_HDR &&
	    !fold_file(rs, rs->fpath) && !fold_file(rs, rs->jpath))
		(void)unlink(rs->jpath);
	if (rs->jfd >= 0)
		close(rs->jfd);
	sqlite3_finalize(rs->st_put);
	sqlite3_finalize(rs->st_del);
	if (rs->fold_db)
		sqlite3_close(rs->fold_db);
	if (rs->db)
		sqlite3_close(rs->db);
	free(rs->batch);
	pthread_mutex_destroy(&rs->mtx);
	pthread_cond_destroy(&rs->cond);
}


static int exec_db(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

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

	err = exec_db(rs->db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	if (v < 1)
		err = exec_db(rs->db, schema_v1);
	/* later versions: if (!err && v < 2) err = exec_db(rs->db, schema_v2);
	 */
	if (err) {
		(void)exec_db(rs->db, "ROLLBACK");
		return err;
	}
	return exec_db(rs->db, "COMMIT");
}


static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
				    NULL);

	if (rc != SQLITE_OK) {
		LOG_ERR(NULL, "%s: %s", sql, sqlite3_errmsg(db));
		return EIO;
	}
	return 0;
}


static int db_open(const char *path, sqlite3 **dbp)
{
	int rc = sqlite3_open_v2(path, dbp,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK)
		return sqlerr(NULL, rc, path);
	(void)sqlite3_busy_timeout(*dbp, 2000);
	return 0;
}


/* ---- the journal ---- */

/* A fresh, empty journal (truncating any old one). */
static int journal_create(struct regstore *rs)
{
	uint8_t hdr[JOURNAL_HDR];
	int fd;

	fd = open(rs->jpath,
		  O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		LOG_ERR(NULL, "%s: %s", rs->jpath, strerror(errno));
		return errno;
	}
	memcpy(hdr, JOURNAL_MAGIC, 8);
	put64(hdr + 8, JOURNAL_VER);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		int err = errno ? errno : EIO;

		LOG_ERR(NULL, "%s: %s", rs->jpath, strerror(err));
		close(fd);
		return err;
	}
	if (rs->jfd >= 0)
		close(rs->jfd);
	rs->jfd = fd;
	rs->jsize = JOURNAL_HDR;
	return 0;
}


/* Read a whole journal file into memory; ENOENT when there is none. */
static int journal_read(const char *path, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t *data;
	size_t off = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out;
	}
	data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!data) {
		err = ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, data + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			free(data);
			goto out;
		}
		off += (size_t)n;
	}
	*datap = data;
	*lenp = off;
out:
	close(fd);
	return err;
}


/* Walk the valid records of a journal image: on return *end is where the
 * valid part stops (a torn or corrupt tail is logged and ignored). */
typedef int(rec_h)(const uint8_t *rec, size_t len, void *arg);

static int journal_walk(const char *path, const uint8_t *data, size_t len,
			rec_h *h, void *arg)
{
	size_t off = JOURNAL_HDR;
	int err;

	if (len < JOURNAL_HDR || memcmp(data, JOURNAL_MAGIC, 8)) {
		LOG_ERR(NULL, "%s: not a registrar journal", path);
		return EILSEQ;
	}
	if (get64(data + 8) != JOURNAL_VER) {
		LOG_ERR(NULL, "%s: journal format %llu is not ours (%u)", path,
			(unsigned long long)get64(data + 8), JOURNAL_VER);
		return EPROTO;
	}
	while (off + 8 <= len) {
		uint32_t rl = get32(data + off);

		if (rl < REC_FIXED + 8 || rl % 8 || rl > len - off ||
		    rec_sum(data + off, rl - 8) != get64(data + off + rl - 8))
			break;
		err = h(data + off, rl - 8, arg);
		if (err)
			return err;
		off += rl;
	}
	if (off != len)
		LOG_WARN(NULL,
			 "%s: %zu bytes at the end are not a whole record "
			 "(an interrupted write); ignored",
			 path, len - off);
	return 0;
}


/* A put record's fields as views into the record. */
static bool rec_decode(const uint8_t *rec, size_t len, struct regstore_row *row,
		       char *strs, size_t strsz)
{
	const char **dst[REGSTORE_NSTR];
	size_t off = REC_PUT_FIXED, so = 0;
	int i;

	memset(row, 0, sizeof(*row));
	row->tp = rec[5];
	row->q = get16(rec + 6);
	row->id = get64(rec + 8);
	if (rec[4] != 'P')
		return true;
	if (len < REC_PUT_FIXED)
		return false;
	row->cseq = get32(rec + 16);
	row->reg_id = get32(rec + 20);
	row->expires_at = (int64_t)get64(rec + 24);
	dst[S_AOR] = &row->aor;
	dst[S_URI] = &row->uri;
	dst[S_PARAMS] = &row->params;
	dst[S_CALLID] = &row->callid;
	dst[S_PATH] = &row->path;
	dst[S_INSTANCE] = &row->instance;
	dst[S_UA] = &row->user_agent;
	dst[S_SRC] = &row->src;
	dst[S_DST] = &row->dst;
	for (i = 0; i < REGSTORE_NSTR; i++) {
		size_t l = get16(rec + 32 + 2 * i);

		if (l > len - off || so + l + 1 > strsz)
			return false;
		memcpy(strs + so, rec + off, l);
		strs[so + l] = '\0';
		*dst[i] = strs + so;
		so += l + 1;
		off += l;
	}
	return row->q <= 1000;
}


/* ---- folding: a journal into the table, last record per id ---- */

struct fold {
	const uint8_t **rec; /* every valid record, in order */
	size_t *len;
	size_t n, cap;
};

static int fold_collect(const uint8_t *rec, size_t len, void *arg)
{
	struct fold *f = arg;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		const uint8_t **r = realloc(f->rec, cap * sizeof(*r));
		size_t *l;

		if (!r)
			return ENOMEM;
		f->rec = r;
		l = realloc(f->len, cap * sizeof(*l));
		if (!l)
			return ENOMEM;
		f->len = l;
		f->cap = cap;
	}
	f->rec[f->n] = rec;
	f->len[f->n] = len;
	f->n++;
	return 0;
}


/* An open-addressing set of binding ids (never 0). */
struct idset {
	uint64_t *slot;
	size_t mask;
};

static int idset_init(struct idset *s, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	return s->slot ? 0 : ENOMEM;
}

/* Add id; false when it was there already. */
static bool idset_add(struct idset *s, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 17) & s->mask;

	while (s->slot[i]) {
		if (s->slot[i] == id)
			return false;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = id;
	return true;
}


static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}


static int fold_apply(struct regstore *rs, const uint8_t *rec, size_t len,
		      char *strs)
{
	struct regstore_row row;
	sqlite3_stmt *st;
	int rc;

	if (!rec_decode(rec, len, &row, strs, len + REGSTORE_NSTR))
		return 0; /* checksummed but not ours: skip */
	if (rec[4] == 'D') {
		st = rs->st_del;
		rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
	} else {
		st = rs->st_put;
		rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 2, row.aor, -1,
					       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 3, row.uri, -1,
					       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 4, row.params);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 5, row.callid, -1,
					       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 6, row.cseq);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(st, 7, row.q);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 8, row.expires_at);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 9, row.path);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 10, row.instance);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 11, row.reg_id);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 12, row.user_agent);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(st, 13, row.tp);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 14, row.src);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 15, row.dst);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(NULL, rc, "fold");
}


/* Apply one journal file to the table in one transaction, then unlink
 * it.  A missing file is nothing to do.  Callers make sure one fold at
 * a time runs per store (the folder thread, or a caller holding it). */
static int fold_file(struct regstore *rs, const char *path)
{
	struct fold f = { 0 };
	struct idset ids = { 0 };
	uint8_t *data = NULL;
	char *strs = NULL;
	size_t len = 0, i, applied = 0;
	int err;

	err = journal_read(path, &data, &len);
	if (err == ENOENT)
		return 0;
	if (err) {
		LOG_ERR(NULL, "%s: %s", path, strerror(err));
		return err;
	}
	err = journal_walk(path, data, len, fold_collect, &f);
	if (err)
		goto out;
	err = idset_init(&ids, f.n);
	if (err)
		goto out;
	strs = malloc(len + REGSTORE_NSTR); /* no record is longer */
	if (!strs) {
		err = ENOMEM;
		goto out;
	}
	err = exec_db(rs->fold_db, "BEGIN IMMEDIATE");
	if (err)
		goto out;
	/* newest first: only the last record of each binding counts */
	for (i = f.n; i-- > 0;) {
		if (!idset_add(&ids, get64(f.rec[i] + 8)))
			continue;
		err = fold_apply(rs, f.rec[i], f.len[i], strs);
		if (err)
			break;
		applied++;
	}
	if (err) {
		(void)exec_db(rs->fold_db, "ROLLBACK");
		goto out;
	}
	err = exec_db(rs->fold_db, "COMMIT");
	if (err)
		goto out;
	if (path == rs->fpath && unlink(path) < 0 && errno != ENOENT)
		err = errno;
	LOG_DEBUG(NULL, "%s: %zu records folded into %zu rows", path, f.n,
		  applied);
out:
	free(f.rec);
	free(f.len);
	free(ids.slot);
	free(strs);
	free(data);
	return err;
}


static void *fold_thread(void *arg)
{
	struct regstore *rs = arg;
	sigset_t all;

	/* the loop thread takes SIGINT/SIGTERM through a signalfd: no
	 * signal may be delivered here instead */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&rs->mtx);
	for (;;) {
		while (!rs->stop && !rs->folding)
			pthread_cond_wait(&rs->cond, &rs->mtx);
		if (rs->stop)
			break;
		pthread_mutex_unlock(&rs->mtx);
		/* on failure the file stays: the next open folds it */
		if (fold_file(rs, rs->fpath))
			LOG_WARN(NULL, "%s not folded; kept for the next start",
				 rs->fpath);
		pthread_mutex_lock(&rs->mtx);
		rs->folding = false;
		pthread_cond_broadcast(&rs->cond);
	}
	pthread_mutex_unlock(&rs->mtx);
	return NULL;
}


/* Wait until the folder is idle and keep it so: returns with mtx held. */
static void folder_hold(struct regstore *rs)
{
	pthread_mutex_lock(&rs->mtx);
	while (rs->folding)
		pthread_cond_wait(&rs->cond, &rs->mtx);
}


/* Hand the journal to the folder when it is large and the folder idle.
 * Called after a commit; a failure here costs nothing but a larger
 * journal (the records are safe where they are). */
static void maybe_rotate(struct regstore *rs)
{
	bool busy;

	if (rs->jsize < rs->journal_max)
		return;
	pthread_mutex_lock(&rs->mtx);
	busy = rs->folding;
	pthread_mutex_unlock(&rs->mtx);
	if (busy)
		return;
	if (access(rs->fpath, F_OK) == 0)
		return; /* a fold failed earlier: let the next start have it */
	if (rename(rs->jpath, rs->fpath) < 0) {
		LOG_WARN(NULL, "rotating %s: %s", rs->jpath, strerror(errno));
		return;
	}
	if (journal_create(rs)) {
		/* keep appending to the renamed file; no fold */
		(void)rename(rs->fpath, rs->jpath);
		return;
	}
	pthread_mutex_lock(&rs->mtx);
	rs->folding = true;
	pthread_cond_signal(&rs->cond);
	pthread_mutex_unlock(&rs->mtx);
}


/**
 * Fold every journal into the table now (tests, statistics, shutdown).
 */
int regstore_sync(struct regstore *rs)
{
	int err;

	if (!rs || rs->in_txn)
		return EINVAL;
	folder_hold(rs);
	err = fold_file(rs, rs->fpath);
	if (!err && rs->jsize > JOURNAL_HDR) {
		err = fold_file(rs, rs->jpath);
		if (!err)
			err = journal_create(rs);
	}
	pthread_mutex_unlock(&rs->mtx);
	return err;
}


/**
 * Open the binding store in `dir` (created with mode 0700 when missing):
 * the table is brought to the current schema and any journal left by the
 * previous run is folded into it.
 *
 * @return 0, EACCES, ENOENT, EPROTO (newer schema or journal format),
 *         EIO, ENOMEM
 */
int regstore_open(struct regstore **rsp, const char *dir)
{
	struct regstore *rs;
	int rc, err;

	if (!rsp || !dir || !*dir)
		return EINVAL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return errno;

	rs = mem_zalloc(sizeof(*rs), destructor);
	if (!rs)
		return ENOMEM;
	rs->jfd = -1;
	rs->journal_max = REGSTORE_JOURNAL_MAX;
	pthread_mutex_init(&rs->mtx, NULL);
	pthread_cond_init(&rs->cond, NULL);
	rc = snprintf(rs->path, sizeof(rs->path), "%s/%s", dir, REGSTORE_FILE);
	if (rc > 0 && (size_t)rc < sizeof(rs->path))
		rc = snprintf(rs->jpath, sizeof(rs->jpath), "%s/%s", dir,
			      JOURNAL_FILE);
	if (rc > 0 && (size_t)rc < sizeof(rs->jpath))
		rc = snprintf(rs->fpath, sizeof(rs->fpath), "%s/%s", dir,
			      FOLD_FILE);
	if (rc < 0 || (size_t)rc >= sizeof(rs->fpath)) {
		err = ENAMETOOLONG;
		goto out;
	}

	err = db_open(rs->path, &rs->db);
	if (!err)
		err = exec_db(rs->db, "PRAGMA journal_mode=WAL");
	if (!err)
		err = exec_db(rs->db, "PRAGMA synchronous=NORMAL");
	if (!err)
		err = migrate(rs);
	if (!err)
		err = db_open(rs->path, &rs->fold_db);
	if (!err)
		err = exec_db(rs->fold_db, "PRAGMA synchronous=NORMAL");
	if (!err)
		err = prepare(rs->fold_db, sql_put, &rs->st_put);
	if (!err)
		err = prepare(rs->fold_db, "DELETE FROM binding WHERE id = ?1",
			      &rs->st_del);
	/* the previous run's records, oldest first */
	if (!err)
		err = fold_file(rs, rs->fpath);
	if (!err)
		err = fold_file(rs, rs->jpath);
	if (!err)
		err = journal_create(rs);
	if (err)
		goto out;
	if (pthread_create(&rs->thread, NULL, fold_thread, rs)) {
		err = EAGAIN;
		goto out;
	}
	rs->thread_started = true;
out:
	if (err)
		mem_deref(rs);
	else
		*rsp = rs;
	return err;
}


void regstore_set_sync(struct regstore *rs, bool fsync_each)
{
	if (rs)
		rs->fsync = fsync_each;
}


void regstore_set_journal_max(struct regstore *rs, size_t bytes)
{
	if (rs)
		rs->journal_max = bytes < 4096 ? 4096 : bytes;
}


int regstore_begin(struct regstore *rs)
{
	if (!rs || rs->in_txn)
		return EINVAL;
	rs->in_txn = true;
	rs->batch_len = 0;
	return 0;
}


/* Room for n more bytes in the batch. */
static int batch_room(struct regstore *rs, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (rs->batch_len + n <= rs->batch_cap)
		return 0;
	cap = rs->batch_cap ? rs->batch_cap : 16384;
	while (cap < rs->batch_len + n)
		cap *= 2;
	b = realloc(rs->batch, cap);
	if (!b)
		return ENOMEM;
	rs->batch = b;
	rs->batch_cap = cap;
	return 0;
}


static void rec_seal(uint8_t *rec, size_t len)
{
	put32(rec, (uint32_t)len);
	put64(rec + len - 8, rec_sum(rec, len - 8));
}


int regstore_put(struct regstore *rs, const struct regstore_row *row)
{
	const char *str[REGSTORE_NSTR];
	size_t sl[REGSTORE_NSTR], len = REC_PUT_FIXED;
	uint8_t *rec, *p;
	int i, err;

	if (!rs || !rs->in_txn || !row || !row->aor || !row->uri ||
	    !row->callid || !row->id || row->id > INT64_MAX || row->q > 1000)
		return EINVAL;
	str[S_AOR] = row->aor;
	str[S_URI] = row->uri;
	str[S_PARAMS] = row->params;
	str[S_CALLID] = row->callid;
	str[S_PATH] = row->path;
	str[S_INSTANCE] = row->instance;
	str[S_UA] = row->user_agent;
	str[S_SRC] = row->src;
	str[S_DST] = row->dst;
	for (i = 0; i < REGSTORE_NSTR; i++) {
		sl[i] = str[i] ? strlen(str[i]) : 0;
		if (sl[i] > 65535)
			return EMSGSIZE;
		len += sl[i];
	}
	len = (len + 8 + 7) & ~(size_t)7; /* checksum, padding */
	err = batch_room(rs, len);
	if (err)
		return err;
	rec = rs->batch + rs->batch_len;
	rec[4] = 'P';
	rec[5] = (uint8_t)row->tp;
	put16(rec + 6, row->q);
	put64(rec + 8, row->id);
	put32(rec + 16, row->cseq);
	put32(rec + 20, row->reg_id);
	put64(rec + 24, (uint64_t)row->expires_at);
	p = rec + REC_PUT_FIXED;
	for (i = 0; i < REGSTORE_NSTR; i++) {
		put16(rec + 32 + 2 * i, (uint16_t)sl[i]);
		if (sl[i])
			memcpy(p, str[i], sl[i]);
		p += sl[i];
	}
	memset(p, 0, (size_t)(rec + len - 8 - p));
	rec_seal(rec, len);
	rs->batch_len += len;
	return 0;
}


int regstore_del(struct regstore *rs, uint64_t id)
{
	uint8_t *rec;
	int err;

	if (!rs || !rs->in_txn || !id || id > INT64_MAX)
		return EINVAL;
	err = batch_room(rs, REC_FIXED + 8);
	if (err)
		return err;
	rec = rs->batch + rs->batch_len;
	memset(rec, 0, REC_FIXED);
	rec[4] = 'D';
	put64(rec + 8, id);
	rec_seal(rec, REC_FIXED + 8);
	rs->batch_len += REC_FIXED + 8;
	return 0;
}


/**
 * Append the batch to the journal: one write() (more only if the kernel
 * takes part of it), and with fsync set one fdatasync().  On failure the
 * journal is cut back to where it was, so a later commit never follows a
 * half-written record.
 */
int regstore_commit(struct regstore *rs)
{
	size_t off = 0;
	int err = 0;

	if (!rs || !rs->in_txn)
		return EINVAL;
	while (off < rs->batch_len) {
		ssize_t n =
			write(rs->jfd, rs->batch + off, rs->batch_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!err && rs->fsync && fdatasync(rs->jfd) < 0)
		err = errno;
	if (err) {
		LOG_ERR(NULL, "%s: %s", rs->jpath, strerror(err));
		if (off && ftruncate(rs->jfd, (off_t)rs->jsize) < 0)
			LOG_ERR(NULL, "%s: cannot cut back a partial write: %s",
				rs->jpath, strerror(errno));
		return err; /* still in the transaction: roll back */
	}
	rs->jsize += rs->batch_len;
	rs->batch_len = 0;
	rs->in_txn = false;
	maybe_rotate(rs);
	return 0;
}


void regstore_rollback(struct regstore *rs)
{
	if (!rs || !rs->in_txn)
		return;
	rs->batch_len = 0;
	rs->in_txn = false;
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


/* ---- load: the table, then the journal on top ---- */

struct overlay {
	struct idset ids;    /* every id the journal mentions */
	const uint8_t **rec; /* the last record of each, newest first */
	size_t *len;
	size_t n;
};


static int load_journal(struct regstore *rs, uint8_t **data, size_t *len,
			struct fold *f, struct overlay *ov)
{
	size_t i;
	int err;

	*data = NULL;
	*len = 0;
	err = journal_read(rs->jpath, data, len);
	if (err == ENOENT)
		return 0;
	if (!err)
		err = journal_walk(rs->jpath, *data, *len, fold_collect, f);
	if (!err)
		err = idset_init(&ov->ids, f->n);
	if (err)
		return err;
	ov->rec = malloc((f->n ? f->n : 1) * sizeof(*ov->rec));
	ov->len = malloc((f->n ? f->n : 1) * sizeof(*ov->len));
	if (!ov->rec || !ov->len)
		return ENOMEM;
	for (i = f->n; i-- > 0;) {
		if (!idset_add(&ov->ids, get64(f->rec[i] + 8)))
			continue;
		ov->rec[ov->n] = f->rec[i];
		ov->len[ov->n] = f->len[i];
		ov->n++;
	}
	return 0;
}


static bool idset_has(const struct idset *s, uint64_t id)
{
	size_t i;

	if (!s->slot)
		return false;
	i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 17) & s->mask;
	while (s->slot[i]) {
		if (s->slot[i] == id)
			return true;
		i = (i + 1) & s->mask;
	}
	return false;
}


/**
 * Load the stored bindings: the expired rows of the table are deleted
 * first (in one statement), then each live binding is handed to rowh:
 * the table's rows that the journal does not mention, then the journal's
 * last record of each binding it does (the ones it deletes are skipped).
 * Nothing is written but the purge, so this works on a full disk.
 *
 * @param now     wall clock, ms since the epoch (regstore_now())
 * @param max_id  receives the largest id stored (may be NULL)
 */
int regstore_load(struct regstore *rs, int64_t now, regstore_row_h *rowh,
		  void *arg, uint64_t *max_id)
{
	struct fold f = { 0 };
	struct overlay ov = { 0 };
	sqlite3_stmt *st = NULL;
	uint8_t *jdata = NULL;
	char *strs = NULL;
	size_t jlen = 0, i;
	uint64_t maxv = 0;
	int rc, err = 0;

	if (!rs || !rowh || rs->in_txn)
		return EINVAL;
	/* the folder holds its file until done: the table is then whole */
	folder_hold(rs);
	pthread_mutex_unlock(&rs->mtx);
	purge_expired(rs, now);
	err = load_journal(rs, &jdata, &jlen, &f, &ov);
	if (!err && !(strs = malloc(jlen + REGSTORE_NSTR)))
		err = ENOMEM;
	if (err)
		goto out;

	rc = sqlite3_prepare_v2(rs->db, sql_load, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		err = sqlerr(rs, rc, "load");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct regstore_row row;
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		/* ids stay unique even over rows not loaded */
		if (id > 0 && (uint64_t)id > maxv)
			maxv = (uint64_t)id;
		if (id > 0 && idset_has(&ov.ids, (uint64_t)id))
			continue; /* the journal has a newer state */
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
	for (i = 0; !err && i < ov.n; i++) {
		struct regstore_row row;

		if (get64(ov.rec[i] + 8) > maxv)
			maxv = get64(ov.rec[i] + 8);
		if (ov.rec[i][4] != 'P')
			continue;
		if (!rec_decode(ov.rec[i], ov.len[i], &row, strs,
				jlen + REGSTORE_NSTR)) {
			LOG_WARN(NULL, "skipping malformed journal record %llu",
				 (unsigned long long)row.id);
			continue;
		}
		if (row.expires_at <= now)
			continue;
		err = rowh(&row, arg);
	}
	if (!err && max_id)
		*max_id = maxv;
out:
	sqlite3_finalize(st);
	free(f.rec);
	free(f.len);
	free(ov.ids.slot);
	free(ov.rec);
	free(ov.len);
	free(strs);
	free(jdata);
	return err;
}


/* Bindings in the table after folding every journal (tests, statistics):
 * a COUNT, so expired bindings not purged yet are counted. */
int regstore_count(struct regstore *rs, uint64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc, err;

	if (!rs || !n)
		return EINVAL;
	err = regstore_sync(rs);
	if (err)
		return err;
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
