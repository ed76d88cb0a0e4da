/**
 * @file rcache.h  The Completed state of non-INVITE server transactions
 * over UDP, held compactly (RFC 3261 17.2.2, 17.2.3).
 *
 * A non-INVITE server transaction on an unreliable transport stays in
 * Completed for Timer J (64*T1) only to answer retransmissions of its
 * request with its final response.  strans.c ends such a transaction at
 * once and keeps, here, what that takes: the key (branch, sent-by host and
 * port, method), where the response goes, and the response bytes.  The
 * design is in rcache.c.
 *
 * Liveness.  An entry is named by a struct rcache_ref (its address and its
 * sequence number); the cache recycles memory without telling anyone, so
 * a ref is only dereferenced after rcache_live() (or rcache_find()) says
 * that it still is.  Views into an entry (struct rcache_resp) are valid
 * until the next rcache_add(), rcache_expire() or rcache_flush().
 */
#ifndef IMS_SIP_RCACHE_H
#define IMS_SIP_RCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/transp.h"

struct rcache;
struct rcache_ent;

/* Entries are appended into chunks of at most this many bytes. */
#define RCACHE_CHUNK_MAX ((size_t)256u * 1024u)
/* Past this many bytes of chunks the oldest is recycled before its time. */
#define RCACHE_CAP_DEFAULT ((size_t)256u * 1024u * 1024u)

/* RFC 3261 17.2.3 key of a request whose branch has the magic cookie. */
struct rcache_key {
	struct pl branch; /* compared case-insensitively (7.3.1) */
	struct pl host;   /* sent-by host, case-insensitively */
	struct pl met;    /* the method, case-sensitively */
	uint32_t hkey;    /* hash_fast_ci() of the branch */
	uint16_t port;    /* sent-by port, 0 when absent */
};

/* How the request's method relates to the entry's. */
enum rcache_match {
	RCACHE_SAME,   /* a retransmission: the same method */
	RCACHE_CANCEL, /* the target of a CANCEL: any method but CANCEL */
};

struct rcache_ref {
	struct rcache_ent *e;
	uint64_t seq; /* 0: none */
};

/* What rcache_add() keeps, and when. */
struct rcache_add_opts {
	struct rcache_key key;
	enum sip_transp tp;   /* of the response */
	const struct sa *dst; /* where the response goes (18.2.2) */
	const void *resp;     /* the response bytes (copied) */
	size_t len;           /* 1..65535 */
	uint64_t now;         /* tmr_jiffies() */
	uint64_t exp_ms;      /* the horizon: when Timer J would fire */
};

/* What a live entry holds; the bytes point into the cache. */
struct rcache_resp {
	const char *p;
	size_t len;
	enum sip_transp tp;
	struct sa dst;
	struct pl branch; /* for log lines */
};

struct rcache_stats {
	uint64_t entries; /* held in live chunks (the oldest may be past
			   * their horizon until the chunk goes) */
	uint64_t chunks;  /* live chunks */
	uint64_t bytes;   /* memory held: chunks live and pooled, buckets */
	uint64_t hits;    /* retransmissions answered from the cache */
	uint64_t inserts;
	uint64_t early;    /* entries dropped before their horizon (cap) */
	uint64_t oversize; /* entries larger than a chunk: not cached */
	uint64_t allocs;   /* chunks allocated (the others were reused) */
	uint32_t buckets;  /* size of the bucket array */
	uint32_t pooled;   /* free chunks kept for reuse */
};

int rcache_alloc(struct rcache **rcp,
		 struct rcache_stats *stats) IMS_MUST_CHECK;
void rcache_set_cap(struct rcache *rc, size_t bytes);
/* The owner of the stats goes: flush, and keep counting in the cache. */
void rcache_detach(struct rcache *rc);

int rcache_add(struct rcache *rc, const struct rcache_add_opts *o,
	       struct rcache_ref *refp) IMS_MUST_CHECK;
void rcache_prefetch(const struct rcache *rc, uint32_t hkey);
bool rcache_find(const struct rcache *rc, const struct rcache_key *key,
		 enum rcache_match kind, struct rcache_ref *refp);
bool rcache_live(const struct rcache *rc, const struct rcache_ref *ref);
void rcache_resp(const struct rcache *rc, const struct rcache_ref *ref,
		 struct rcache_resp *out);
void rcache_end(struct rcache *rc, const struct rcache_ref *ref);
void rcache_expire(struct rcache *rc, uint64_t now);
void rcache_flush(struct rcache *rc);

#endif
