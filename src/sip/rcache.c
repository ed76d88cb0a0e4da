/**
 * @file rcache.c  The retransmission cache: the Completed state of
 * non-INVITE server transactions over UDP (RFC 3261 17.2.2, 17.2.3).
 *
 * Why.  RFC 3261 17.2.2 keeps a non-INVITE server transaction on an
 * unreliable transport in Completed for Timer J (64*T1 = 32 s) so that
 * retransmissions of its request get the final response again ("the
 * server transaction MUST pass the final response to the transport layer
 * for retransmission") and never reach the TU twice.  A registrar at
 * 10,000 REGISTER/s therefore holds 320,000 completed transactions.  As a
 * `struct strans` each was a malloc'd object (~400 B with a struct sa and
 * two timers) plus a malloc'd response, hashed with the running ones and
 * on a timer: the lookup of every new request walked chains of cold
 * objects, the heap grew, and each expiry 32 s later touched cold memory
 * (timer, unlink, two frees).  Nothing in Completed needs an object: the
 * state is read-only until it ends, and it always ends at its horizon.
 * So strans.c ends the transaction when the final response is sent (as
 * over a reliable transport) and leaves here the key, the destination and
 * the response bytes.  The live table keeps only transactions in progress.
 *
 * Layout.  Entries are appended, in the order their responses were sent,
 * into a FIFO of chunks; each entry gets a sequence number (one more than
 * the last) and carries its horizon (the time Timer J would fire).  A
 * power-of-two array of bucket heads holds, per bucket, the address and
 * sequence number of the newest entry that hashed there (the 17.2.3 key:
 * branch, case-insensitively); each entry carries the same pair for the
 * next older entry of its bucket.  Nothing is ever unlinked: a chunk that
 * goes raises the oldest live sequence number past its entries, and a
 * lookup walks its bucket newest to oldest and stops at the first pair
 * older than that, so a freed (or reused) chunk is never dereferenced and
 * an entry costs no deletion at all.  Sequence numbers are 64 bits: they
 * do not wrap.
 *
 * Expiry is the FIFO horizon.  A chunk goes when the horizon of its newest
 * entry has passed: checked on every insert and by one timer, armed for
 * the horizon of the oldest chunk (a timer per chunk at most, not per
 * entry).  A matching entry is also compared with its own horizon, so
 * none is returned after Timer J even while its chunk lives on.
 *
 * Memory.  An entry is a 64-byte header (the next pair, the horizon, the
 * key lengths and hash, the destination packed as scscf_reg.c packs a
 * source: family, address, port, scope) followed by the branch, host,
 * method and response, 8-byte aligned: for a REGISTER's 200 about a
 * hundred bytes beside the response.  Chunks start at 4 KiB and grow with
 * the bytes held (a quarter of them) to RCACHE_CHUNK_MAX, so a quiet
 * stack holds little; full-size chunks that go are kept in a pool of
 * RC_POOL_MAX and reused, so the steady state allocates nothing and takes
 * no page faults.  The bucket array doubles when the entries outnumber its
 * buckets (load at most one), rebuilt by walking the live chunks oldest to
 * newest; it does not shrink.  Past the cap (RCACHE_CAP_DEFAULT, or
 * rcache_set_cap) the oldest chunk is recycled before its time, counted
 * and logged at most every RC_LOG_MS: retransmissions of those requests
 * then reach the TU, as after Timer J.
 *
 * Threads: the cache belongs to its loop, like the transactions.
 */
#include "sip/rcache.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"

#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif
#ifdef RC_ASAN
#include <sanitizer/asan_interface.h>
#define RC_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define RC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RC_POISON(p, n)   ((void)(p), (void)(n))
#define RC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define LOG_MODULE "rcache"

#define RC_CHUNK_MIN   4096u
#define RC_POOL_MAX    4u
#define RC_BUCKETS_MIN 64u
#define RC_BUCKETS_MAX (1u << 21)
#define RC_LOG_MS      10000u

struct rcache_ent {
	struct rcache_ref next; /* the next older entry of the bucket */
	uint64_t exp_ms;        /* the horizon: Timer J */
	uint32_t hkey;
	uint32_t scope; /* destination: IPv6 scope id */
	uint16_t port;  /* sent-by port */
	uint16_t dport; /* destination port */
	uint16_t branch_len;
	uint16_t host_len;
	uint16_t met_len;
	uint16_t resp_len;
	uint8_t af; /* destination: 4 or 6 */
	uint8_t tp; /* enum sip_transp */
	uint8_t dead;
	uint8_t addr[16];
	char data[]; /* branch, host, method, response */
};

/* A bucket head: the newest entry that hashed here, its sequence number,
 * and a signature of the chain.  The signature has one bit per entry put
 * in since the chain was last empty (its head gone), bit (hash >> 28), so
 * it holds the bits of every live entry of the chain (they go oldest
 * first, so an empty chain has none left).  A lookup whose bit is clear
 * misses without reading the chain: without it, a new request's lookup
 * (nearly every one is new) read the head entry, a cache miss into memory
 * written half a minute ago, half of the time (load 0.5 to 1).  Sequence
 * numbers keep 48 bits here: 8.9 years at a million a second. */
struct rc_head {
	struct rcache_ent *e;
	uint64_t seqsig; /* sequence number << RC_SIG_BITS | signature */
};

#define RC_SIG_BITS 16u
#define RC_SIG_MASK ((1u << RC_SIG_BITS) - 1u)

static inline uint64_t head_seq(const struct rc_head *h)
{
	return h->seqsig >> RC_SIG_BITS;
}

static inline uint64_t sig_bit(uint32_t hkey)
{
	return (uint64_t)1u << (hkey >> 28);
}

struct rc_chunk {
	struct rc_chunk *next; /* the next newer chunk */
	uint64_t first_seq;    /* of its first entry */
	uint64_t max_exp;      /* the latest horizon of its entries */
	uint32_t n;            /* entries */
	uint32_t used;         /* bytes of data taken */
	uint32_t size;         /* bytes of data */
	uint32_t pad;
	char data[];
};

struct rcache {
	struct rc_head *bucket;
	uint32_t mask; /* buckets - 1 */
	struct rc_chunk *oldest, *newest;
	struct rc_chunk *pool; /* free full-size chunks */
	uint32_t npool;
	uint64_t next_seq;   /* of the next entry; starts at 1 */
	uint64_t oldest_seq; /* refs below it are gone */
	size_t live_bytes;   /* chunk bytes in the FIFO */
	size_t cap;
	struct tmr tmr;
	uint64_t log_ms; /* the last cap log line */
	uint64_t log_early;
	struct rcache_stats *st; /* the owner's, or own */
	struct rcache_stats own;
};


static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}


static size_t ent_size_of(size_t klen, size_t len)
{
	return align8(offsetof(struct rcache_ent, data) + klen + len);
}


static size_t ent_size(const struct rcache_ent *e)
{
	return ent_size_of((size_t)e->branch_len + e->host_len + e->met_len,
			   e->resp_len);
}


static size_t chunk_bytes(uint32_t size)
{
	return sizeof(struct rc_chunk) + size;
}


static void stats_bytes(struct rcache *rc)
{
	rc->st->bytes =
		rc->live_bytes +
		(size_t)rc->npool * chunk_bytes(RCACHE_CHUNK_MAX) +
		(rc->bucket ? ((size_t)rc->mask + 1) * sizeof(*rc->bucket) : 0);
	rc->st->pooled = rc->npool;
	rc->st->buckets = rc->bucket ? rc->mask + 1 : 0;
}


static void chunk_release(struct rcache *rc, struct rc_chunk *c)
{
	if (c->size == RCACHE_CHUNK_MAX && rc->npool < RC_POOL_MAX) {
		c->next = rc->pool;
		rc->pool = c;
		rc->npool++;
		RC_POISON(c->data, c->size);
		return;
	}
	mem_deref(c);
}


/* The oldest chunk goes: its entries become unreachable by their
 * sequence numbers, without being touched. */
static void recycle_oldest(struct rcache *rc)
{
	struct rc_chunk *c = rc->oldest;

	rc->oldest = c->next;
	if (!rc->oldest)
		rc->newest = NULL;
	rc->oldest_seq = c->first_seq + c->n;
	rc->st->entries -= c->n;
	rc->st->chunks--;
	rc->live_bytes -= chunk_bytes(c->size);
	chunk_release(rc, c);
}


static void rc_tmr_h(void *arg);

static void arm(struct rcache *rc, uint64_t now)
{
	if (!rc->oldest) {
		tmr_cancel(&rc->tmr);
		return;
	}
	tmr_start(&rc->tmr,
		  rc->oldest->max_exp > now ? rc->oldest->max_exp - now : 0,
		  rc_tmr_h, rc);
}


/**
 * Recycle every chunk whose newest entry is past its horizon.
 *
 * @param rc   the cache
 * @param now  the monotonic clock (tmr_jiffies())
 */
void rcache_expire(struct rcache *rc, uint64_t now)
{
	if (!rc)
		return;
	while (rc->oldest && rc->oldest->max_exp <= now)
		recycle_oldest(rc);
	stats_bytes(rc);
}


static void rc_tmr_h(void *arg)
{
	struct rcache *rc = arg;
	uint64_t now = tmr_jiffies();

	rcache_expire(rc, now);
	arm(rc, now);
}


/**
 * Drop every entry (sip_trans_close_all); the chunks go to the pool.
 */
void rcache_flush(struct rcache *rc)
{
	if (!rc)
		return;
	tmr_cancel(&rc->tmr);
	while (rc->oldest)
		recycle_oldest(rc);
	rc->oldest_seq = rc->next_seq;
	stats_bytes(rc);
}


static void free_pool(struct rcache *rc)
{
	while (rc->pool) {
		struct rc_chunk *c = rc->pool;

		rc->pool = c->next;
		RC_UNPOISON(c->data, c->size);
		mem_deref(c);
	}
	rc->npool = 0;
}


static void destructor(void *arg)
{
	struct rcache *rc = arg;

	rcache_flush(rc);
	free_pool(rc);
	rc->bucket = mem_deref(rc->bucket);
	stats_bytes(rc);
}


/**
 * Create an empty cache.
 *
 * @param rcp    the cache (mem_deref it)
 * @param stats  where its figures are kept (the stack's, sip.h), or NULL
 * @return 0 or ENOMEM
 */
int rcache_alloc(struct rcache **rcp, struct rcache_stats *stats)
{
	struct rcache *rc;

	if (!rcp)
		return EINVAL;
	rc = mem_zalloc(sizeof(*rc), destructor);
	if (!rc)
		return ENOMEM;
	rc->st = stats ? stats : &rc->own;
	memset(rc->st, 0, sizeof(*rc->st));
	rc->next_seq = 1; /* the zeroed buckets hold seq 0: gone */
	rc->oldest_seq = 1;
	rc->cap = RCACHE_CAP_DEFAULT;
	rc->bucket = mem_zalloc(RC_BUCKETS_MIN * sizeof(*rc->bucket), NULL);
	if (!rc->bucket) {
		mem_deref(rc);
		return ENOMEM;
	}
	rc->mask = RC_BUCKETS_MIN - 1;
	stats_bytes(rc);
	*rcp = rc;
	return 0;
}


/** Bytes of chunks past which the oldest goes before its time. */
void rcache_set_cap(struct rcache *rc, size_t bytes)
{
	if (rc)
		rc->cap = bytes;
}


/**
 * The stats' owner (the stack) goes: every entry is dropped, the pool and
 * the buckets are freed, and the figures are kept in the cache itself
 * (handles may keep the cache, not the stack, alive).
 */
void rcache_detach(struct rcache *rc)
{
	if (!rc)
		return;
	rcache_flush(rc);
	free_pool(rc);
	rc->bucket = mem_deref(rc->bucket);
	rc->mask = 0;
	stats_bytes(rc);
	rc->own = *rc->st;
	rc->st = &rc->own;
}


/* Double the buckets until they are at least the entries, and relink
 * every live entry, oldest first so that each bucket is again newest to
 * oldest.  A failed allocation keeps the old array (longer chains). */
static void grow(struct rcache *rc)
{
	struct rc_head *nb;
	uint32_t n = rc->mask + 1, mask;
	struct rc_chunk *c;

	while (n < rc->st->entries && n < RC_BUCKETS_MAX)
		n <<= 1;
	if (n == rc->mask + 1)
		return;
	nb = mem_zalloc((size_t)n * sizeof(*nb), NULL);
	if (!nb)
		return;
	mask = n - 1;
	for (c = rc->oldest; c; c = c->next) {
		const char *p = c->data;
		uint32_t i;

		for (i = 0; i < c->n; i++) {
			struct rcache_ent *e = (struct rcache_ent *)p;
			struct rc_head *b = &nb[e->hkey & mask];

			e->next.e = b->e;
			e->next.seq = head_seq(b);
			b->e = e;
			b->seqsig = (c->first_seq + i) << RC_SIG_BITS |
				    (b->seqsig & RC_SIG_MASK) |
				    sig_bit(e->hkey);
			p += ent_size(e);
		}
	}
	mem_deref(rc->bucket);
	rc->bucket = nb;
	rc->mask = mask;
}


/* The data size of a new chunk: a quarter of what is held, at least
 * RC_CHUNK_MIN, at most RCACHE_CHUNK_MAX, and room for `need`. */
static uint32_t chunk_size_for(const struct rcache *rc, size_t need)
{
	uint32_t size = RC_CHUNK_MIN;

	while (size < RCACHE_CHUNK_MAX &&
	       (size < rc->live_bytes / 4 || size < need))
		size <<= 1;
	return size;
}


static void log_cap(struct rcache *rc, uint64_t now)
{
	if (rc->log_ms && now - rc->log_ms < RC_LOG_MS)
		return;
	LOG_WARN(NULL,
		 "retransmission cache at its cap (%zu bytes): %llu "
		 "completed transactions dropped before Timer J since the last "
		 "report",
		 rc->cap, (unsigned long long)(rc->st->early - rc->log_early));
	rc->log_ms = now ? now : 1;
	rc->log_early = rc->st->early;
}


/* Append a chunk with room for `need` bytes, recycling the oldest ones
 * early while the new one would take the chunks past the cap. */
static int chunk_open(struct rcache *rc, size_t need, uint64_t now)
{
	uint32_t size = chunk_size_for(rc, need);
	struct rc_chunk *c;
	bool capped = false;

	while (rc->oldest && rc->live_bytes + chunk_bytes(size) > rc->cap) {
		if (rc->oldest->max_exp > now) {
			rc->st->early += rc->oldest->n;
			capped = true;
		}
		recycle_oldest(rc);
	}
	if (capped)
		log_cap(rc, now);

	if (size == RCACHE_CHUNK_MAX && rc->pool) {
		c = rc->pool;
		rc->pool = c->next;
		rc->npool--;
		RC_UNPOISON(c->data, c->size);
	} else {
		c = mem_alloc(chunk_bytes(size), NULL);
		if (!c)
			return ENOMEM;
		c->size = size;
		rc->st->allocs++;
	}
	c->next = NULL;
	c->first_seq = rc->next_seq;
	c->max_exp = 0;
	c->n = 0;
	c->used = 0;
	if (rc->newest)
		rc->newest->next = c;
	else
		rc->oldest = c;
	rc->newest = c;
	rc->live_bytes += chunk_bytes(size);
	rc->st->chunks++;
	return 0;
}


static void dst_pack(struct rcache_ent *e, const struct sa *sa)
{
	memset(e->addr, 0, sizeof(e->addr));
	e->af = 0;
	e->scope = 0;
	e->dport = 0;
	if (sa_af(sa) == AF_INET) {
		e->af = 4;
		memcpy(e->addr, &sa->u.in.sin_addr, 4);
	} else if (sa_af(sa) == AF_INET6) {
		e->af = 6;
		memcpy(e->addr, &sa->u.in6.sin6_addr, 16);
		e->scope = sa->u.in6.sin6_scope_id;
	} else {
		return;
	}
	e->dport = sa_port(sa);
}


static void dst_unpack(struct sa *sa, const struct rcache_ent *e)
{
	memset(sa, 0, sizeof(*sa));
	if (e->af == 4) {
		sa_init(sa, AF_INET);
		memcpy(&sa->u.in.sin_addr, e->addr, 4);
	} else if (e->af == 6) {
		sa_init(sa, AF_INET6);
		memcpy(&sa->u.in6.sin6_addr, e->addr, 16);
		sa->u.in6.sin6_scope_id = e->scope;
	} else {
		return;
	}
	sa_set_port(sa, e->dport);
}


static bool key_ok(const struct rcache_key *key)
{
	return key->branch.l && key->branch.l <= UINT16_MAX &&
	       key->host.l <= UINT16_MAX && key->met.l <= UINT16_MAX;
}


/* The branch, host and method after one another: one copy when they
 * already are (a transaction's key is). */
static char *key_copy(char *p, const struct rcache_key *key)
{
	size_t klen = key->branch.l + key->host.l + key->met.l;

	if (key->host.p == key->branch.p + key->branch.l &&
	    key->met.p == key->host.p + key->host.l) {
		memcpy(p, key->branch.p, klen);
		return p + klen;
	}
	memcpy(p, key->branch.p, key->branch.l);
	p += key->branch.l;
	if (key->host.l)
		memcpy(p, key->host.p, key->host.l);
	p += key->host.l;
	if (key->met.l)
		memcpy(p, key->met.p, key->met.l);
	return p + key->met.l;
}


/**
 * Keep the Completed state of a non-INVITE server transaction: its key,
 * where its final response goes, and the response bytes.
 *
 * @param rc    the cache
 * @param o     the 17.2.3 key (a magic-cookie branch), the transport and
 *              destination of the response, its bytes, the time and the
 *              horizon
 * @param refp  the entry, may be NULL
 * @return 0; EINVAL; EFBIG when the entry does not fit a chunk; ENOMEM
 */
int rcache_add(struct rcache *rc, const struct rcache_add_opts *o,
	       struct rcache_ref *refp)
{
	const struct rcache_key *key;
	struct rcache_ent *e;
	struct rc_head *b;
	struct rc_chunk *c;
	uint64_t seq, sig;
	size_t need;
	int err;

	if (!rc || !rc->bucket || !o || !o->dst || !o->resp || !o->len ||
	    o->len > UINT16_MAX || !key_ok(&o->key))
		return EINVAL;
	key = &o->key;
	need = ent_size_of(key->branch.l + key->host.l + key->met.l, o->len);
	if (need > RCACHE_CHUNK_MAX) {
		rc->st->oversize++;
		return EFBIG;
	}

	/* recycle on insert: the oldest chunk past its horizon */
	if (rc->oldest && rc->oldest->max_exp <= o->now)
		rcache_expire(rc, o->now);
	c = rc->newest;
	if (!c || c->size - c->used < need) {
		err = chunk_open(rc, need, o->now);
		stats_bytes(rc);
		if (err)
			return err;
		c = rc->newest;
	}

	e = (struct rcache_ent *)(c->data + c->used);
	c->used += (uint32_t)need;
	e->exp_ms = o->exp_ms;
	e->hkey = key->hkey;
	e->port = key->port;
	e->branch_len = (uint16_t)key->branch.l;
	e->host_len = (uint16_t)key->host.l;
	e->met_len = (uint16_t)key->met.l;
	e->resp_len = (uint16_t)o->len;
	e->tp = (uint8_t)o->tp;
	e->dead = 0;
	dst_pack(e, o->dst);
	memcpy(key_copy(e->data, key), o->resp, o->len);

	b = &rc->bucket[key->hkey & rc->mask];
	e->next.e = b->e;
	e->next.seq = head_seq(b);
	/* an empty chain starts a new signature */
	sig = b->e && head_seq(b) >= rc->oldest_seq ? b->seqsig & RC_SIG_MASK
						    : 0;
	seq = rc->next_seq++;
	b->e = e;
	b->seqsig = seq << RC_SIG_BITS | sig | sig_bit(key->hkey);
	c->n++;
	if (o->exp_ms > c->max_exp)
		c->max_exp = o->exp_ms;
	if (refp) {
		refp->e = e;
		refp->seq = seq;
	}
	rc->st->entries++;
	rc->st->inserts++;

	if (rc->st->entries > (uint64_t)rc->mask + 1 &&
	    rc->mask + 1 < RC_BUCKETS_MAX) {
		grow(rc);
		stats_bytes(rc);
	}
	if (!tmr_isrunning(&rc->tmr))
		arm(rc, o->now);
	return 0;
}


static bool ref_held(const struct rcache *rc, const struct rcache_ref *ref)
{
	return ref->e && ref->seq >= rc->oldest_seq && ref->seq < rc->next_seq;
}


static bool met_ok(const struct rcache_ent *e, const struct rcache_key *key,
		   enum rcache_match kind)
{
	const char *m = e->data + e->branch_len + e->host_len;

	if (kind == RCACHE_CANCEL)
		return !(e->met_len == 6 && !memcmp(m, "CANCEL", 6));
	/* methods are case-sensitive (RFC 3261 7.1) */
	return e->met_len == key->met.l && !memcmp(m, key->met.p, e->met_len);
}


static bool key_eq(const struct rcache_ent *e, const struct rcache_key *key,
		   enum rcache_match kind)
{
	struct pl b, h;

	if (e->hkey != key->hkey || e->port != key->port ||
	    e->branch_len != key->branch.l || e->host_len != key->host.l)
		return false;
	if (!met_ok(e, key, kind))
		return false;
	/* RFC 3261 17.2.3 with 7.3.1: branch and host case-insensitively */
	pl_set(&b, e->data, e->branch_len);
	pl_set(&h, e->data + e->branch_len, e->host_len);
	return pl_eq_ci(&b, &key->branch) && pl_eq_ci(&h, &key->host);
}


/**
 * Find the Completed transaction a request matches (RFC 3261 17.2.3).
 *
 * @param rc    the cache
 * @param key   the request's key
 * @param kind  RCACHE_SAME for a retransmission, RCACHE_CANCEL for the
 *              transaction a CANCEL names
 * @param refp  the entry, on a hit
 * @return true on a hit: the newest entry with the key, before its
 *         horizon and not ended
 */
bool rcache_find(const struct rcache *rc, const struct rcache_key *key,
		 enum rcache_match kind, struct rcache_ref *refp)
{
	const struct rc_head *h;
	struct rcache_ref r;

	if (!rc || !rc->bucket || !key)
		return false;
	h = &rc->bucket[key->hkey & rc->mask];
	if (!(h->seqsig & sig_bit(key->hkey)))
		return false;
	r.e = h->e;
	r.seq = head_seq(h);
	/* newest to oldest; every step lowers seq, so this ends */
	while (r.seq >= rc->oldest_seq && r.e) {
		const struct rcache_ent *e = r.e;

		if (key_eq(e, key, kind)) {
			if (e->dead || e->exp_ms <= tmr_jiffies())
				return false;
			if (refp)
				*refp = r;
			return true;
		}
		r = e->next;
	}
	return false;
}


/**
 * Start loading the bucket a key hashes to (a cache miss, the bucket array
 * being several MB under load), so that the work done before
 * rcache_find() hides it.
 */
void rcache_prefetch(const struct rcache *rc, uint32_t hkey)
{
	if (rc && rc->bucket)
		__builtin_prefetch(&rc->bucket[hkey & rc->mask]);
}


/**
 * Is the entry still held, not ended and before its horizon?
 */
bool rcache_live(const struct rcache *rc, const struct rcache_ref *ref)
{
	if (!rc || !ref || !ref_held(rc, ref))
		return false;
	return !ref->e->dead && ref->e->exp_ms > tmr_jiffies();
}


/**
 * What a held entry (rcache_find, rcache_live) keeps.  The bytes are valid
 * until the cache next changes (rcache_add, rcache_expire, its timer).
 */
void rcache_resp(const struct rcache *rc, const struct rcache_ref *ref,
		 struct rcache_resp *out)
{
	const struct rcache_ent *e;

	memset(out, 0, sizeof(*out));
	if (!rc || !ref || !ref_held(rc, ref))
		return;
	e = ref->e;
	out->p = e->data + e->branch_len + e->host_len + e->met_len;
	out->len = e->resp_len;
	out->tp = (enum sip_transp)e->tp;
	dst_unpack(&out->dst, e);
	pl_set(&out->branch, e->data, e->branch_len);
}


/**
 * The transaction ends before its horizon (RFC 3261 17.2.4: a transport
 * error on a retransmission): later requests with its key are new.
 */
void rcache_end(struct rcache *rc, const struct rcache_ref *ref)
{
	if (rc && ref && ref_held(rc, ref))
		ref->e->dead = 1;
}
