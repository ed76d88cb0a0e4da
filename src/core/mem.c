/**
 * @file mem.c  Reference-counted allocator.
 *
 * A 16-byte header sits in front of each block: the count, the size (for
 * accounting and the cache class) and the destructor.  16 bytes keep the
 * payload at malloc's alignment; it is as small as that allows, because
 * long-lived state is many small blocks (a registered user is a few dozen
 * strings and records) and the header is paid on each.
 *
 * Fault injection: IMS_MEM_FAIL_AT=N makes the Nth allocation of the
 * process fail, so the OOM test loop can walk every allocation site of a
 * test (libre retest -o, curl's torture mode).
 *
 * The state here is per process and not locked: each event loop owns its
 * objects (see ../shared STYLE "Threads"); the counters are relaxed atomics
 * so that a second thread (async SQL) may still allocate safely.
 *
 * Block cache.  A SIP transaction allocates a dozen small blocks (message
 * copy, transaction, strings of a binding) and frees them within
 * seconds; glibc's malloc/free cost about 300 instructions a pair on that
 * pattern, a free list about 20.  So blocks of up to MEM_CACHE_MAX bytes
 * (header included: a message copy with its views is a few KB) are
 * rounded up to a class of 16 k + 8 bytes, the sizes for which glibc's
 * chunk (request + 8, in steps of 16) wastes nothing, and, when freed,
 * kept on a per-thread list of their class: up to MEM_CACHE_BYTES a class
 * and MEM_CACHE_TOTAL in all, so that a burst does not pin memory for
 * ever (the cache is for the churn of transactions, not a second heap).
 * A thread's lists are plain
 * thread-local storage: no lock, and a block freed by another thread than
 * its allocator simply joins that thread's list.  Under ASan a cached
 * block is poisoned, so a use after free is still caught.
 */
#include "core/mem.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mem {
	uint32_t nrefs;
	uint32_t size; /* payload bytes; mem_alloc refuses more */
	mem_destroy_h *dh;
};

_Static_assert(sizeof(struct mem) == 16,
	       "the payload keeps malloc's alignment");

#define MEM_SIZE_MAX ((size_t)UINT32_MAX - sizeof(struct mem))

/* Under ASan a cached block is poisoned: touching it is reported as a
 * use after free, as with free(). */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ASAN 1
#endif
#endif
#ifdef MEM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MEM_CLASS       16u
#define MEM_CACHE_MAX   (8192u + 8u)
#define MEM_CACHE_BYTES (256u << 10) /* per class */
#ifndef MEM_CACHE_TOTAL /* -DMEM_CACHE_TOTAL=0: heap profiles see every free \
			 */
#define MEM_CACHE_TOTAL (4u << 20) /* per thread */
#endif
#define MEM_NCLASS (MEM_CACHE_MAX / MEM_CLASS)

struct mem_free {
	struct mem_free *next;
};

struct mem_cache {
	struct mem_free *head[MEM_NCLASS];
	uint32_t n[MEM_NCLASS];
	size_t bytes; /* held in all classes */
};

static _Thread_local struct mem_cache cache;

/* Class of a block of `total` bytes (header included, so at least 16),
 * or -1 if too big.  Class c holds blocks of 16 (c + 1) + 8 bytes. */
static inline int mem_class(size_t total)
{
	if (total > MEM_CACHE_MAX)
		return -1;
	return (int)((total + 7) / MEM_CLASS) - 1;
}

static inline size_t class_size(int c)
{
	return (size_t)(c + 1) * MEM_CLASS + 8;
}

static inline size_t mem_rounded(size_t total)
{
	int c = mem_class(total);

	return c < 0 ? total : class_size(c);
}

static inline void *block_get(size_t total)
{
	int c = mem_class(total);
	struct mem_free *f;

	if (c >= 0 && (f = cache.head[c])) {
		UNPOISON(f, class_size(c));
		cache.head[c] = f->next;
		cache.n[c]--;
		cache.bytes -= class_size(c);
		return f;
	}
	return malloc(mem_rounded(total));
}

/**
 * Give the calling thread's cached blocks back to malloc.  Runs at exit
 * (so leak checkers see a clean heap of the main thread); a thread that
 * ends before the process calls it itself.
 */
void mem_cache_flush(void)
{
	unsigned c;

	for (c = 0; c < MEM_NCLASS; c++) {
		struct mem_free *f;

		while ((f = cache.head[c])) {
			UNPOISON(f, class_size((int)c));
			cache.head[c] = f->next;
			free(f);
		}
		cache.n[c] = 0;
	}
	cache.bytes = 0;
}


static inline void block_put(void *p, size_t total)
{
	static _Thread_local bool registered;
	int c = mem_class(total);

	if (!registered) {
		/* at exit it runs in the exiting (main) thread */
		registered = true;
		(void)atexit(mem_cache_flush);
	}

	if (c >= 0 && cache.n[c] < MEM_CACHE_BYTES / class_size(c) &&
	    cache.bytes + class_size(c) <= MEM_CACHE_TOTAL) {
		struct mem_free *f = p;

		f->next = cache.head[c];
		cache.head[c] = f;
		cache.n[c]++;
		cache.bytes += class_size(c);
		POISON(f, class_size(c));
		return;
	}
	free(p);
}

static atomic_size_t live_blocks;
static atomic_size_t live_bytes;
static atomic_long alloc_count;
static long fail_at = -1;
static int fail_init;
static size_t mark_blocks;

static int fail_now(void)
{
	if (!fail_init) {
		/* read once, at the first allocation (before any thread) */
		/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
		const char *s = getenv("IMS_MEM_FAIL_AT");
		fail_at = s ? strtol(s, NULL, 10) : -1;
		fail_init = 1;
	}
	if (fail_at < 0)
		return 0;
	return atomic_fetch_add(&alloc_count, 1) + 1 == fail_at;
}


static inline struct mem *hdr(const void *data)
{
	return (struct mem *)(void *)((uint8_t *)data - sizeof(struct mem));
}


/**
 * Allocate a block with a reference count of one.
 *
 * @param size  payload size in bytes
 * @param dh    destructor run when the last reference goes, or NULL
 * @return the payload, or NULL when memory is exhausted
 */
void *mem_alloc(size_t size, mem_destroy_h *dh)
{
	struct mem *m;

	if (size > MEM_SIZE_MAX || fail_now())
		return NULL;
	m = block_get(sizeof(*m) + size);
	if (!m)
		return NULL;
	m->nrefs = 1;
	m->dh = dh;
	m->size = (uint32_t)size;
	atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&live_bytes, size, memory_order_relaxed);
	return m + 1;
}


void *mem_zalloc(size_t size, mem_destroy_h *dh)
{
	void *p = mem_alloc(size, dh);

	if (p)
		memset(p, 0, size);
	return p;
}


/**
 * Resize a block that has a single reference (its address may change).
 */
void *mem_realloc(void *data, size_t size)
{
	struct mem *m, *n;
	size_t old;

	if (!data)
		return mem_alloc(size, NULL);
	m = hdr(data);
	if (size > MEM_SIZE_MAX || fail_now())
		return NULL;
	old = m->size;
	if (mem_class(sizeof(*m) + old) >= 0 &&
	    mem_rounded(sizeof(*m) + size) == mem_rounded(sizeof(*m) + old)) {
		n = m; /* fits the class it has */
	} else if (mem_class(sizeof(*m) + old) >= 0) {
		/* from the cache's classes: move, never realloc() */
		n = block_get(sizeof(*n) + size);
		if (!n)
			return NULL;
		memcpy(n, m, sizeof(*m) + (old < size ? old : size));
		block_put(m, sizeof(*m) + old);
	} else {
		n = realloc(m, mem_rounded(sizeof(*n) + size));
		if (!n)
			return NULL;
	}
	n->size = (uint32_t)size;
	atomic_fetch_add_explicit(&live_bytes, size - old,
				  memory_order_relaxed);
	return n + 1;
}


void *mem_ref(void *data)
{
	if (data)
		hdr(data)->nrefs++;
	return data;
}


/**
 * Drop one reference; the last one runs the destructor and frees.
 *
 * @return always NULL, so that `p = mem_deref(p);` clears the pointer
 */
void *mem_deref(void *data)
{
	struct mem *m;

	if (!data)
		return NULL;
	m = hdr(data);
	if (--m->nrefs > 0)
		return NULL;
	if (m->dh)
		m->dh(data);
	/* a destructor may not resurrect the object */
	atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&live_bytes, m->size, memory_order_relaxed);
	block_put(m, sizeof(*m) + m->size);
	return NULL;
}


unsigned mem_nrefs(const void *data)
{
	return data ? hdr(data)->nrefs : 0;
}


/** Duplicate len bytes of s as a NUL-terminated, counted string. */
char *mem_strdup(const char *s, size_t len)
{
	char *d = mem_alloc(len + 1, NULL);

	if (!d)
		return NULL;
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}


size_t mem_live_blocks(void)
{
	return atomic_load(&live_blocks);
}


size_t mem_live_bytes(void)
{
	return atomic_load(&live_bytes);
}


int mem_mark(void **state)
{
	(void)state;
	mark_blocks = mem_live_blocks();
	return 0;
}


int mem_expect_no_leaks(void **state)
{
	(void)state;
	return mem_live_blocks() == mark_blocks ? 0 : -1;
}
