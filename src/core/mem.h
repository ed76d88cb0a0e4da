/**
 * @file mem.h  Reference-counted memory (the libre object model).
 *
 * Every object is allocated with an optional destructor and a reference
 * count of one.  mem_ref() adds a reference, mem_deref() drops one and, at
 * zero, runs the destructor and frees the block.  Stored pointers are
 * counted references; back-pointers are weak.
 */
#ifndef IMS_CORE_MEM_H
#define IMS_CORE_MEM_H

#include <stddef.h>

#define IMS_MUST_CHECK __attribute__((warn_unused_result))

typedef void(mem_destroy_h)(void *data);

void *mem_alloc(size_t size, mem_destroy_h *dh);
void *mem_zalloc(size_t size, mem_destroy_h *dh);
void *mem_realloc(void *data, size_t size);
void *mem_ref(void *data);
void *mem_deref(void *data);
unsigned mem_nrefs(const void *data);
char *mem_strdup(const char *s, size_t len);

/* Free the calling thread's cache of freed blocks (see mem.c). */
void mem_cache_flush(void);

/* Accounting, used by the tests' leak checks and the memory benchmarks. */
size_t mem_live_blocks(void);
size_t mem_live_bytes(void);

/* cmocka setup/teardown pair: every test ends with no block it started. */
int mem_mark(void **state);
int mem_expect_no_leaks(void **state);

#endif
