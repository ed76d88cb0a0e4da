/**
 * @file mem.c  Reference-counted allocator.
 *
 * A small header sits in front of each block: the count, the destructor and
 * the size (for accounting).  The header is 16-byte sized so the payload
 * keeps malloc's alignment.
 *
 * Fault injection: IMS_MEM_FAIL_AT=N makes the Nth allocation of the
 * process fail, so the OOM test loop can walk every allocation site of a
 * test (libre retest -o, curl's torture mode).
 *
 * The state here is per process and not locked: each event loop owns its
 * objects (see ../shared STYLE "Threads"); the counters are relaxed atomics
 * so that a second thread (async SQL) may still allocate safely.
 */
#include "core/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mem {
	uint32_t nrefs;
	uint32_t magic;
	mem_destroy_h *dh;
	size_t size;
	size_t pad; /* keep the payload 16-byte aligned */
};

#define MEM_MAGIC 0x1e5a11c0u

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

	if (size > SIZE_MAX - sizeof(*m) || fail_now())
		return NULL;
	m = malloc(sizeof(*m) + size);
	if (!m)
		return NULL;
	m->nrefs = 1;
	m->magic = MEM_MAGIC;
	m->dh = dh;
	m->size = size;
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
	if (size > SIZE_MAX - sizeof(*m) || fail_now())
		return NULL;
	old = m->size;
	n = realloc(m, sizeof(*n) + size);
	if (!n)
		return NULL;
	n->size = size;
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
	m->magic = 0;
	free(m);
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
