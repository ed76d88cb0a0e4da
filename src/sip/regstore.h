/**
 * @file regstore.h  Durable registrar bindings: an append-only journal
 *                    folded into an SQLite table in the background.
 *
 * A commit that returned survives the process being killed (its records
 * are in the OS page cache); with regstore_set_sync() it also survives a
 * power loss.  See regstore.c for the design and the file formats.
 *
 * The registrar writes in batches: regstore_begin(), any number of
 * regstore_put()/regstore_del(), regstore_commit().  Nothing else writes
 * the store while the registrar runs.
 */
#ifndef IMS_SIP_REGSTORE_H
#define IMS_SIP_REGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct regstore;

#define REGSTORE_SCHEMA_VERSION 1
#define REGSTORE_FILE_BASE      "registrar"
#define REGSTORE_FILE           REGSTORE_FILE_BASE ".sqlite"
#define REGSTORE_NSTR           9 /* strings in a row */
/* The journal is handed to the folder past this size. */
#define REGSTORE_JOURNAL_MAX (4u << 20)

/* One binding as stored.  Strings are NUL-terminated; optional ones may
 * be NULL (written as SQL NULL) and come back from a load as "". */
struct regstore_row {
	uint64_t id;        /* the binding's stable key */
	const char *aor;    /* canonical address-of-record */
	const char *uri;    /* Contact URI */
	const char *params; /* Contact params to echo (no expires/q) */
	const char *callid;
	uint32_t cseq;
	uint16_t q;           /* 0..1000 */
	int64_t expires_at;   /* wall clock, ms since the epoch */
	const char *path;     /* RFC 3327 Path values, comma-joined */
	const char *instance; /* RFC 5626 +sip.instance value */
	uint32_t reg_id;      /* RFC 5626 reg-id, 0 when absent */
	const char *user_agent;
	int tp;          /* enum sip_transp the REGISTER came on */
	const char *src; /* source "addr:port" of the REGISTER */
	const char *dst; /* local "addr:port" it arrived on */
};

/* Called per stored binding; a non-zero return stops the load. */
typedef int(regstore_row_h)(const struct regstore_row *row, void *arg);

/* Open (creating the directory and the schema when missing). */
int regstore_open(struct regstore **rsp, const char *dir) IMS_MUST_CHECK;

/* Delete the bindings expired at `now` (wall ms), then hand every other
 * one to rowh.  *max_id (optional) receives the largest id stored. */
int regstore_load(struct regstore *rs, int64_t now, regstore_row_h *rowh,
		  void *arg, uint64_t *max_id) IMS_MUST_CHECK;

int regstore_begin(struct regstore *rs) IMS_MUST_CHECK;
/* Insert or replace the binding with row->id. */
int regstore_put(struct regstore *rs,
		 const struct regstore_row *row) IMS_MUST_CHECK;
int regstore_del(struct regstore *rs, uint64_t id) IMS_MUST_CHECK;
int regstore_commit(struct regstore *rs) IMS_MUST_CHECK;
void regstore_rollback(struct regstore *rs);
/* fdatasync() the journal at every commit (survives a power loss). */
void regstore_set_sync(struct regstore *rs, bool fsync_each);
/* Rotation threshold (tests use a small one to exercise folding). */
void regstore_set_journal_max(struct regstore *rs, size_t bytes);
/* Fold every journal into the table now. */
int regstore_sync(struct regstore *rs) IMS_MUST_CHECK;

/* Bindings stored (a COUNT, for tests and statistics). */
int regstore_count(struct regstore *rs, uint64_t *n) IMS_MUST_CHECK;

/* The wall clock in ms since the epoch (what expires_at is measured in). */
int64_t regstore_now(void);

#endif
