/**
 * @file test_sip_rcache.c  The retransmission cache (rcache.c): the
 * Completed state of non-INVITE server transactions over UDP, RFC 3261
 * 17.2.2 and 17.2.3.
 *
 * Insert and lookup, the 17.2.3 key compared field by field (branch and
 * host case-insensitively, 7.3.1), the horizon (Timer J) to the
 * millisecond, chunks recycled in FIFO order by the one timer and reused
 * from the pool, the bucket array growing with the entries, the cap, and
 * refs to recycled memory that are never taken for live entries.  The
 * clock is frozen and moved by hand.
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
#include <string.h>

#include "core/hash.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/rcache.h"

#define T0      1000000u
#define HORIZON 32000u /* 64*T1 */

struct env {
	struct rcache *rc;
	struct rcache_stats st;
	struct sa dst;
};

static struct env g;

static int setup(void **state)
{
	int err = mem_mark(state);

	if (err)
		return err;
	tmr_test_set_now(T0);
	if (loop_init(64))
		return -1;
	memset(&g, 0, sizeof(g));
	if (rcache_alloc(&g.rc, &g.st))
		return -1;
	if (sa_set_str(&g.dst, "127.0.0.2", 5070))
		return -1;
	return 0;
}


static int teardown(void **state)
{
	rcache_detach(g.rc);
	g.rc = mem_deref(g.rc);
	assert_int_equal(tmr_count(), 0);
	loop_close();
	tmr_test_set_now(0);
	return mem_expect_no_leaks(state);
}


static void set_now(uint64_t t)
{
	tmr_test_set_now(T0 + t);
}


/* Move the clock to t, firing each timer at its own time. */
static void run_to(uint64_t t)
{
	for (;;) {
		uint64_t d = tmr_next_delay();

		if (d == UINT64_MAX || tmr_jiffies() + d > T0 + t)
			break;
		tmr_test_set_now(tmr_jiffies() + d);
		tmr_poll();
	}
	set_now(t);
	tmr_poll();
}


static struct rcache_key key(const char *branch, const char *host,
			     uint16_t port, const char *met)
{
	struct rcache_key k;

	memset(&k, 0, sizeof(k));
	pl_set_str(&k.branch, branch);
	pl_set_str(&k.host, host);
	pl_set_str(&k.met, met);
	k.hkey = hash_fast_ci(branch, strlen(branch));
	k.port = port;
	return k;
}


/* rcache_add() now, for a horizon of HORIZON. */
static int put(struct rcache *rc, const struct rcache_key *k,
	       const struct sa *dst, const void *resp, size_t len,
	       struct rcache_ref *refp)
{
	struct rcache_add_opts o;

	memset(&o, 0, sizeof(o));
	if (k)
		o.key = *k;
	o.tp = SIP_TRANSP_UDP;
	o.dst = dst;
	o.resp = resp;
	o.len = len;
	o.now = tmr_jiffies();
	o.exp_ms = o.now + HORIZON;
	return rcache_add(rc, &o, refp);
}


/* A response naming its branch, padded to at least len bytes. */
static size_t resp_of(char *out, size_t size, const char *branch, size_t len)
{
	int n = snprintf(out, size, "SIP/2.0 200 OK\r\nX-Branch: %s\r\n",
			 branch);

	assert_true(n > 0 && (size_t)n < size && len < size);
	while ((size_t)n < len)
		out[n++] = 'x';
	out[n] = '\0';
	return (size_t)n;
}


/* Insert an entry for branch (REGISTER from 127.0.0.2:5070) expiring at
 * now + HORIZON. */
static struct rcache_ref add(const char *branch, size_t len)
{
	struct rcache_key k = key(branch, "127.0.0.2", 5070, "REGISTER");
	struct rcache_ref ref;
	char resp[70000];
	size_t n = resp_of(resp, sizeof(resp), branch, len);

	assert_int_equal(put(g.rc, &k, &g.dst, resp, n, &ref), 0);
	return ref;
}


static bool has(const char *branch)
{
	struct rcache_key k = key(branch, "127.0.0.2", 5070, "REGISTER");
	struct rcache_ref ref;
	struct rcache_resp r;
	char want[128];

	if (!rcache_find(g.rc, &k, RCACHE_SAME, &ref))
		return false;
	/* the entry found is the one of this branch */
	rcache_resp(g.rc, &ref, &r);
	(void)snprintf(want, sizeof(want), "X-Branch: %s\r\n", branch);
	assert_non_null(r.p);
	assert_true(r.len > strlen(want));
	assert_non_null(memmem(r.p, r.len, want, strlen(want)));
	return true;
}


/* ---- insert and lookup ---- */

static void test_insert_lookup(void **state)
{
	struct rcache_ref a, b;
	struct rcache_resp r;
	char resp[512];
	size_t n;

	(void)state;
	a = add("z9hG4bKa", 300);
	b = add("z9hG4bKb", 400);
	assert_true(has("z9hG4bKa"));
	assert_true(has("z9hG4bKb"));
	assert_false(has("z9hG4bKc"));
	assert_int_equal(g.st.entries, 2);
	assert_int_equal(g.st.inserts, 2);
	assert_int_equal(g.st.chunks, 1);
	assert_true(rcache_live(g.rc, &a));
	assert_true(rcache_live(g.rc, &b));

	/* the bytes, the transport and the destination come back whole */
	rcache_resp(g.rc, &b, &r);
	n = resp_of(resp, sizeof(resp), "z9hG4bKb", 400);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.p, resp, n);
	assert_int_equal(r.tp, SIP_TRANSP_UDP);
	assert_true(sa_eq(&r.dst, &g.dst));
	assert_int_equal(r.branch.l, 8);
	assert_memory_equal(r.branch.p, "z9hG4bKb", 8);
	/* one timer for the cache, none per entry */
	assert_int_equal(tmr_count(), 1);
}


/* A key whose parts lie one after another (a transaction's) is kept as
 * well as one in three places. */
static void test_key_contiguous(void **state)
{
	static const char kb[] = "z9hG4bKc1example.comOPTIONS";
	struct rcache_key k, q;
	struct rcache_ref ref;

	(void)state;
	memset(&k, 0, sizeof(k));
	pl_set(&k.branch, kb, 9);
	pl_set(&k.host, kb + 9, 11);
	pl_set(&k.met, kb + 20, 7);
	k.hkey = hash_fast_ci(kb, 9);
	k.port = 5060;
	assert_int_equal(put(g.rc, &k, &g.dst, "r", 1, NULL), 0);
	q = key("z9hG4bKc1", "EXAMPLE.com", 5060, "OPTIONS");
	assert_true(rcache_find(g.rc, &q, RCACHE_SAME, &ref));
	q = key("z9hG4bKc1", "example.com", 5060, "OPTION");
	assert_false(rcache_find(g.rc, &q, RCACHE_SAME, &ref));
}


/* An IPv6 destination with its scope and port survives the packing. */
static void test_dst_ipv6(void **state)
{
	struct rcache_key k = key("z9hG4bK6", "[2001:db8::1]", 0, "OPTIONS");
	struct rcache_ref ref;
	struct rcache_resp r;
	struct sa d6;

	(void)state;
	assert_int_equal(sa_set_str(&d6, "fe80::1", 5999), 0);
	d6.u.in6.sin6_scope_id = 3;
	assert_int_equal(put(g.rc, &k, &d6, "SIP/2.0", 7, &ref), 0);
	assert_true(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
	rcache_resp(g.rc, &ref, &r);
	assert_true(sa_eq(&r.dst, &d6));
	assert_int_equal(r.dst.u.in6.sin6_scope_id, 3);
	assert_int_equal(sa_port(&r.dst), 5999);
}


/* RFC 3261 17.2.3: branch, sent-by host and port, method; branch and host
 * compare case-insensitively (7.3.1), the method case-sensitively. */
static void test_key_fields(void **state)
{
	static const struct {
		const char *branch, *host, *met;
		uint16_t port;
		bool hit;
	} v[] = {
		{ "z9hG4bKAbC-1", "Host.Example.COM", "REGISTER", 5070, true },
		{ "Z9HG4BKabc-1", "host.example.com", "REGISTER", 5070, true },
		{ "z9hG4bKabc-2", "host.example.com", "REGISTER", 5070, false },
		{ "z9hG4bKabc-1", "host.example.co", "REGISTER", 5070, false },
		{ "z9hG4bKabc-1", "hosT.example.org", "REGISTER", 5070, false },
		{ "z9hG4bKabc-1", "host.example.com", "REGISTER", 5071, false },
		{ "z9hG4bKabc-1", "host.example.com", "REGISTER", 0, false },
		{ "z9hG4bKabc-1", "host.example.com", "register", 5070, false },
		{ "z9hG4bKabc-1", "host.example.com", "OPTIONS", 5070, false },
		{ "z9hG4bKabc-1x", "host.example.com", "REGISTER", 5070,
		  false },
	};
	struct rcache_key k =
		key("z9hG4bKabc-1", "host.example.com", 5070, "REGISTER");
	struct rcache_ref ref;
	size_t i;

	(void)state;
	assert_int_equal(put(g.rc, &k, &g.dst, "x", 1, NULL), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct rcache_key q =
			key(v[i].branch, v[i].host, v[i].port, v[i].met);

		if (rcache_find(g.rc, &q, RCACHE_SAME, &ref) != v[i].hit)
			fail_msg("case %zu (%s %s:%u %s)", i, v[i].branch,
				 v[i].host, v[i].port, v[i].met);
	}

	/* a CANCEL names the transaction whatever its method but CANCEL
	 * (9.2), and a CANCEL's own entry only by the same method */
	k = key("Z9HG4BKABC-1", "HOST.example.com", 5070, "CANCEL");
	assert_true(rcache_find(g.rc, &k, RCACHE_CANCEL, &ref));
	assert_false(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
	assert_int_equal(put(g.rc, &k, &g.dst, "c", 1, NULL), 0);
	assert_true(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
	k = key("z9hG4bKcan", "h", 0, "CANCEL");
	assert_int_equal(put(g.rc, &k, &g.dst, "c", 1, NULL), 0);
	assert_true(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
	assert_false(rcache_find(g.rc, &k, RCACHE_CANCEL, &ref));
}


/* Bad input is refused; an entry larger than a chunk is not cached. */
static void test_invalid_oversize(void **state)
{
	struct rcache_key k = key("z9hG4bKbig", "h", 0, "MESSAGE");
	struct rcache_key nob = key("", "h", 0, "MESSAGE");
	static char big[RCACHE_CHUNK_MAX];

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(put(g.rc, &nob, &g.dst, "x", 1, NULL), EINVAL);
	assert_int_equal(put(g.rc, &k, &g.dst, "x", 0, NULL), EINVAL);
	assert_int_equal(put(g.rc, &k, &g.dst, big, 65536, NULL), EINVAL);
	assert_int_equal(put(NULL, &k, &g.dst, "x", 1, NULL), EINVAL);
	/* a key as long as the message fits nothing else */
	pl_set(&k.host, big, 65535);
	pl_set(&k.met, big, 65535);
	pl_set(&k.branch, big, 65535);
	k.hkey = hash_fast_ci(big, 65535);
	assert_int_equal(put(g.rc, &k, &g.dst, big, 65535, NULL), EFBIG);
	assert_int_equal(g.st.oversize, 1);
	assert_int_equal(g.st.entries, 0);
	assert_false(rcache_find(NULL, &k, RCACHE_SAME, NULL));
}


/* ---- the horizon ---- */

/* An entry is answered until its Timer J and never afterwards, even
 * while its chunk is still held; older entries go first. */
static void test_horizon_order(void **state)
{
	struct rcache_ref a, b, c;

	(void)state;
	a = add("z9hG4bKh1", 100);
	set_now(10);
	b = add("z9hG4bKh2", 100);
	set_now(20);
	c = add("z9hG4bKh3", 100);

	set_now(HORIZON - 1);
	assert_true(has("z9hG4bKh1"));
	assert_true(rcache_live(g.rc, &a));
	set_now(HORIZON); /* not polled: the chunk is still there */
	assert_int_equal(g.st.chunks, 1);
	assert_false(has("z9hG4bKh1"));
	assert_false(rcache_live(g.rc, &a));
	assert_true(has("z9hG4bKh2"));
	set_now(HORIZON + 10);
	assert_false(has("z9hG4bKh2"));
	assert_false(rcache_live(g.rc, &b));
	assert_true(has("z9hG4bKh3"));
	assert_true(rcache_live(g.rc, &c));

	/* the one timer fires at the horizon of the newest entry of the
	 * oldest chunk, and the chunk goes */
	run_to(HORIZON + 19);
	assert_int_equal(g.st.chunks, 1);
	run_to(HORIZON + 20);
	assert_int_equal(g.st.chunks, 0);
	assert_int_equal(g.st.entries, 0);
	assert_false(has("z9hG4bKh3"));
	assert_false(rcache_live(g.rc, &c));
	assert_int_equal(tmr_count(), 0);

	/* and the cache starts again */
	a = add("z9hG4bKh4", 100);
	assert_true(has("z9hG4bKh4"));
	assert_int_equal(tmr_count(), 1);
}


/* rcache_end (RFC 3261 17.2.4, a transport error): the key is new. */
static void test_end(void **state)
{
	struct rcache_ref a;

	(void)state;
	a = add("z9hG4bKe", 100);
	rcache_end(g.rc, &a);
	assert_false(has("z9hG4bKe"));
	assert_false(rcache_live(g.rc, &a));
	/* a newer transaction with that key is found */
	a = add("z9hG4bKe", 120);
	assert_true(has("z9hG4bKe"));
	assert_true(rcache_live(g.rc, &a));
}


/* ---- chunks ---- */

/* Chunks go in FIFO order as their horizon passes; full-size chunks go
 * to the pool and come back, so a steady load allocates nothing. */
static void test_chunks_recycled_reused(void **state)
{
	enum {
		RATE = 50, /* entries per 100 ms */
		ROUNDS = 1200
	};
	uint64_t allocs_mid = 0, t = 0;
	char br[64];
	unsigned i, j, n = 0;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		for (j = 0; j < RATE; j++) {
			(void)snprintf(br, sizeof(br), "z9hG4bKfifo%u", n++);
			(void)add(br, 800);
		}
		t += 100;
		run_to(t);
		if (i == ROUNDS / 2)
			allocs_mid = g.st.allocs;
		/* a horizon's worth of entries, give or take a chunk */
		if (t > HORIZON + 1000) {
			assert_true(g.st.entries <= (uint64_t)RATE * 330);
			assert_true(g.st.entries >= (uint64_t)RATE * 310);
		}
	}
	print_message(
		"%llu entries, %llu chunks, %llu bytes, %llu allocs, "
		"%u pooled, %u buckets\n",
		(unsigned long long)g.st.entries,
		(unsigned long long)g.st.chunks, (unsigned long long)g.st.bytes,
		(unsigned long long)g.st.allocs, g.st.pooled, g.st.buckets);
	/* the second half reused pooled chunks only */
	assert_int_equal(g.st.allocs, allocs_mid);
	assert_true(g.st.pooled <= 4);
	/* the newest are there, a horizon ago is not */
	(void)snprintf(br, sizeof(br), "z9hG4bKfifo%u", n - 1);
	assert_true(has(br));
	(void)snprintf(br, sizeof(br), "z9hG4bKfifo%u", n - RATE * 300);
	assert_true(has(br));
	(void)snprintf(br, sizeof(br), "z9hG4bKfifo%u", n - RATE * 330);
	assert_false(has(br));
	/* bytes per entry: the 800-byte response and little else */
	assert_true(g.st.bytes / g.st.entries < 800 + 200);

	/* quiet: everything goes, the pool stays bounded */
	run_to(t + HORIZON + 1);
	assert_int_equal(g.st.entries, 0);
	assert_int_equal(g.st.chunks, 0);
	assert_true(g.st.pooled <= 4);
	assert_int_equal(tmr_count(), 0);
}


/* A ref into a chunk that went and came back from the pool, full of
 * newer entries, is never taken for live; nor is its key found. */
static void test_ref_after_reuse(void **state)
{
	struct rcache_ref old;
	char br[64];
	unsigned i;

	(void)state;
	memset(&old, 0, sizeof(old));
	/* chunks reach full size once a MiB is held (~256 entries of 4 KB):
	 * "old" lands in one of the first full-size chunks, which are the
	 * first to go to the pool */
	for (i = 0; i < 2000; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKfill%u", i);
		(void)add(br, 4000);
		if (i == 300)
			old = add("z9hG4bKold", 4000);
	}
	assert_true(rcache_live(g.rc, &old));
	assert_true(has("z9hG4bKold"));
	run_to(HORIZON + 1);
	assert_int_equal(g.st.entries, 0);
	assert_int_equal(g.st.pooled, 4);
	/* the pooled memory now holds other entries */
	for (i = 0; i < 2100; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKnew%u", i);
		(void)add(br, 4000);
	}
	assert_int_equal(g.st.pooled, 0);
	assert_false(rcache_live(g.rc, &old));
	assert_false(has("z9hG4bKold"));
	assert_false(has("z9hG4bKfill7"));
	assert_true(has("z9hG4bKnew7"));
	rcache_end(g.rc, &old); /* a no-op on memory that is not its own */
	assert_true(has("z9hG4bKnew0"));
}


/* ---- buckets ---- */

/* The bucket array doubles with the entries (load at most one) and every
 * entry is found after each rebuild. */
static void test_bucket_growth(void **state)
{
	enum {
		N = 5000
	};
	uint32_t b0;
	char br[64];
	unsigned i;

	(void)state;
	b0 = g.st.buckets;
	assert_true(b0 >= 16 && b0 < 1024);
	for (i = 0; i < N; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKgrow%u", i);
		(void)add(br, 10);
		assert_true(g.st.entries <= g.st.buckets);
	}
	assert_int_equal(g.st.buckets, 8192);
	for (i = 0; i < N; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKgrow%u", i);
		if (!has(br))
			fail_msg("%s lost", br);
	}
	assert_false(has("z9hG4bKgrow5000"));
	/* entries that share a bucket: the same branch under other hosts */
	for (i = 0; i < 8; i++) {
		char host[16];
		struct rcache_key k;
		struct rcache_ref ref;

		(void)snprintf(host, sizeof(host), "10.0.0.%u", i);
		k = key("z9hG4bKsame", host, 5060, "OPTIONS");
		assert_int_equal(
			put(g.rc, &k, &g.dst, host, strlen(host), NULL), 0);
		assert_true(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
	}
	for (i = 0; i < 8; i++) {
		char host[16];
		struct rcache_key k;
		struct rcache_ref ref;
		struct rcache_resp r;

		(void)snprintf(host, sizeof(host), "10.0.0.%u", i);
		k = key("z9hG4bKsame", host, 5060, "OPTIONS");
		assert_true(rcache_find(g.rc, &k, RCACHE_SAME, &ref));
		rcache_resp(g.rc, &ref, &r);
		assert_int_equal(r.len, strlen(host));
		assert_memory_equal(r.p, host, r.len);
	}
}


/* ---- the cap ---- */

/* Past the cap the oldest chunk goes before its horizon: counted, the
 * newest entries stay, the chunks stay under the cap. */
static void test_cap(void **state)
{
	char br[64];
	unsigned i;

	(void)state;
	rcache_set_cap(g.rc, 4 * (RCACHE_CHUNK_MAX + 64));
	for (i = 0; i < 3000; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKcap%u", i);
		(void)add(br, 1000);
		/* the chunks held stay under the cap */
		assert_true(g.st.bytes <=
			    4 * (RCACHE_CHUNK_MAX + 64) +
				    (uint64_t)g.st.buckets *
					    sizeof(struct rcache_ref) +
				    (uint64_t)g.st.pooled *
					    (RCACHE_CHUNK_MAX + 64));
	}
	print_message("cap: %llu entries held, %llu dropped early\n",
		      (unsigned long long)g.st.entries,
		      (unsigned long long)g.st.early);
	assert_true(g.st.early > 0);
	assert_int_equal(g.st.early + g.st.entries, 3000);
	assert_true(has("z9hG4bKcap2999"));
	assert_false(has("z9hG4bKcap0"));
	(void)snprintf(br, sizeof(br), "z9hG4bKcap%llu",
		       (unsigned long long)g.st.early);
	assert_true(has(br)); /* the oldest kept */
	(void)snprintf(br, sizeof(br), "z9hG4bKcap%llu",
		       (unsigned long long)g.st.early - 1);
	assert_false(has(br));

	/* a cap below one chunk: each new chunk replaces all the others */
	rcache_set_cap(g.rc, 1000);
	for (i = 0; i < 300; i++) {
		(void)snprintf(br, sizeof(br), "z9hG4bKtiny%u", i);
		(void)add(br, 1000);
	}
	assert_int_equal(g.st.chunks, 1);
	assert_true(has("z9hG4bKtiny299"));
	assert_false(has("z9hG4bKcap2999"));
}


/* ---- flush and detach ---- */

static void test_flush(void **state)
{
	struct rcache_ref a;

	(void)state;
	a = add("z9hG4bKf", 100);
	rcache_flush(g.rc);
	assert_false(has("z9hG4bKf"));
	assert_false(rcache_live(g.rc, &a));
	assert_int_equal(g.st.entries, 0);
	assert_int_equal(tmr_count(), 0);
	a = add("z9hG4bKf", 100);
	assert_true(has("z9hG4bKf"));

	/* the owner of the stats goes; the cache keeps counting alone */
	rcache_detach(g.rc);
	assert_int_equal(g.st.entries, 0);
	assert_false(rcache_live(g.rc, &a));
	assert_false(has("z9hG4bKf"));
	memset(&g.st, 0xa5, sizeof(g.st));
	rcache_flush(g.rc);
	assert_int_equal(g.st.entries, 0xa5a5a5a5a5a5a5a5ull);
}


/* Keys that share a bucket are all found whatever the bucket's signature
 * says of the newest; a key whose signature bit no entry set misses; a
 * chain that emptied starts a new signature.  The hashes are chosen: one
 * bucket (the low bits), signature bits from the top four. */
static bool find_h(const char *branch, uint32_t hkey, struct rcache_ref *r)
{
	struct rcache_key k = key(branch, "127.0.0.2", 5070, "REGISTER");

	k.hkey = hkey;
	return rcache_find(g.rc, &k, RCACHE_SAME, r);
}

static void put_h(const char *branch, uint32_t hkey)
{
	struct rcache_key k = key(branch, "127.0.0.2", 5070, "REGISTER");
	char resp[256];
	size_t n = resp_of(resp, sizeof(resp), branch, 100);

	k.hkey = hkey;
	assert_int_equal(put(g.rc, &k, &g.dst, resp, n, NULL), 0);
}

static void test_bucket_signature(void **state)
{
	struct rcache_ref r;

	(void)state;
	put_h("z9hG4bKs0", 0x00000005u);
	put_h("z9hG4bKs1", 0x10000005u);
	put_h("z9hG4bKs2", 0x20000005u);
	put_h("z9hG4bKs1b", 0x10000005u); /* the same bit as s1 */
	assert_true(find_h("z9hG4bKs0", 0x00000005u, &r));
	assert_true(find_h("z9hG4bKs1", 0x10000005u, &r));
	assert_true(find_h("z9hG4bKs2", 0x20000005u, &r));
	assert_true(find_h("z9hG4bKs1b", 0x10000005u, &r));
	/* a bit no entry set; a set bit with another branch */
	assert_false(find_h("z9hG4bKs3", 0x30000005u, &r));
	assert_false(find_h("z9hG4bKs4", 0x00000005u, &r));

	/* the chain empties (horizon), then takes a new entry: the old
	 * bits are gone with their entries */
	run_to(HORIZON + 1);
	assert_int_equal(g.st.entries, 0);
	put_h("z9hG4bKs5", 0x50000005u);
	assert_true(find_h("z9hG4bKs5", 0x50000005u, &r));
	assert_false(find_h("z9hG4bKs0", 0x00000005u, &r));
	assert_false(find_h("z9hG4bKs2", 0x20000005u, &r));

	/* a growth of the buckets keeps every entry findable */
	for (unsigned i = 0; i < 300; i++) {
		char br[32];

		(void)snprintf(br, sizeof(br), "z9hG4bKg%u", i);
		put_h(br, (uint32_t)i << 26 | 5u);
	}
	assert_true(g.st.buckets >= 300);
	assert_true(find_h("z9hG4bKs5", 0x50000005u, &r));
	for (unsigned i = 0; i < 300; i++) {
		char br[32];

		(void)snprintf(br, sizeof(br), "z9hG4bKg%u", i);
		assert_true(find_h(br, (uint32_t)i << 26 | 5u, &r));
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_insert_lookup),
		T(test_key_contiguous),
		T(test_dst_ipv6),
		T(test_key_fields),
		T(test_invalid_oversize),
		T(test_horizon_order),
		T(test_end),
		T(test_chunks_recycled_reused),
		T(test_ref_after_reuse),
		T(test_bucket_growth),
		T(test_cap),
		T(test_flush),
		T(test_bucket_signature),
#undef T
	};

	return cmocka_run_group_tests_name("sip_rcache", tests, NULL, NULL);
}
