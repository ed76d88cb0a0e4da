/**
 * @file scscf_store.h  What the S-CSCF registrar keeps across a restart:
 *                      registered implicit sets (IMPI, the IMPU they were
 *                      registered with, the serving HSS, the user profile
 *                      as received) and their contact bindings.
 *
 * One interface, two implementations: scscf_store_mem_alloc() (process
 * memory; survives a scscf_reg being closed and allocated again, which is
 * what the tests and a role restart inside one process need) and
 * scscf_store_sqlite_open() (a file in a data directory; survives the
 * process).  The registrar writes in batches: scscf_store_begin(), puts
 * and deletes, scscf_store_commit(); it reads only at start
 * (scscf_store_load()).  See docs/internals/scscf-registrar.md.
 */
#ifndef IMS_CSCF_SCSCF_STORE_H
#define IMS_CSCF_SCSCF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct scscf_store;

#define SCSCF_STORE_FILE    "scscf_reg.sqlite"
#define SCSCF_STORE_VERSION 1 /* PRAGMA user_version of the file */

/* One implicit registration set as stored.  Strings are NUL-terminated;
 * optional ones may be NULL on put and come back as "" from a load. */
struct scscf_store_set {
	uint64_t id;
	const char *impi;
	const char *impu;      /* the IMPU it was registered with */
	const char *hss_host;  /* Origin-Host of the HSS that answered */
	const char *hss_realm; /* its Origin-Realm */
	/* the SAA/PPR User-Data (TS 29.228 annex E); NULL on put: unchanged */
	const char *user_data;
	int state; /* enum scscf_reg_state */
};

/* One contact binding of a set. */
struct scscf_store_binding {
	uint64_t id;
	uint64_t set_id;
	const char *uri;    /* Contact URI */
	const char *params; /* Contact params to echo (no expires/q) */
	const char *callid;
	uint32_t cseq;
	uint16_t q;         /* 0..1000 */
	int64_t expires_at; /* wall clock, ms since the epoch */
	const char *path;   /* RFC 3327 Path values, comma-joined */
	const char *instance;
	uint32_t reg_id;
	const char *user_agent;
	int tp;          /* enum sip_transp the REGISTER came on */
	const char *src; /* "addr:port" the REGISTER came from */
};

/* A non-zero return stops the load and is returned. */
typedef int(scscf_store_set_h)(const struct scscf_store_set *s, void *arg);
typedef int(scscf_store_binding_h)(const struct scscf_store_binding *b,
				   void *arg);

int scscf_store_mem_alloc(struct scscf_store **stp) IMS_MUST_CHECK;
/* Open dir/SCSCF_STORE_FILE (creating dir and schema when missing).
 * EPROTO when the file was written by a newer schema. */
int scscf_store_sqlite_open(struct scscf_store **stp,
			    const char *dir) IMS_MUST_CHECK;
/* The same tables in the SQLite file path, which may hold others. */
int scscf_store_sqlite_open_file(struct scscf_store **stp,
				 const char *path) IMS_MUST_CHECK;

/* Every set, then every binding (of sets that exist). */
int scscf_store_load(struct scscf_store *st, scscf_store_set_h *seth,
		     scscf_store_binding_h *bindh, void *arg) IMS_MUST_CHECK;

int scscf_store_begin(struct scscf_store *st) IMS_MUST_CHECK;
/* Insert or replace by id; a NULL user_data keeps the stored one (the
 * registrar writes the profile once, not with every binding change). */
int scscf_store_set_put(struct scscf_store *st,
			const struct scscf_store_set *s) IMS_MUST_CHECK;
/* Delete a set and its bindings. */
int scscf_store_set_del(struct scscf_store *st, uint64_t id) IMS_MUST_CHECK;
int scscf_store_binding_put(struct scscf_store *st,
			    const struct scscf_store_binding *b) IMS_MUST_CHECK;
int scscf_store_binding_del(struct scscf_store *st, uint64_t id) IMS_MUST_CHECK;
int scscf_store_commit(struct scscf_store *st) IMS_MUST_CHECK;
void scscf_store_rollback(struct scscf_store *st);

/* Sets and bindings stored (tests, statistics). */
int scscf_store_count(struct scscf_store *st, uint64_t *sets,
		      uint64_t *bindings) IMS_MUST_CHECK;

#endif
