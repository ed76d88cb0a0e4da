/**
 * @file hash.h  Hash tables of intrusive lists (a list per bucket).
 */
#ifndef IMS_CORE_HASH_H
#define IMS_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"

struct pl;

/* The key an entry was appended with, from its data: lets a table grow. */
typedef uint32_t(hash_key_h)(const void *data);

struct hash {
	struct list *bucket;
	uint32_t mask;
	size_t n;
	hash_key_h *keyh; /* set: the table grows, up to max_mask + 1 */
	uint32_t max_mask;
};

int hash_alloc(struct hash **hp, uint32_t size) IMS_MUST_CHECK;
/* Let the table double (rehashing every entry with keyh) when it holds
 * more than two entries a bucket, up to max_size buckets; it never
 * shrinks.  hash_append() may then move entries between buckets, so no
 * bucket may be walked across an append to the same table. */
void hash_grow_with(struct hash *h, hash_key_h *keyh, uint32_t max_size);
void hash_append(struct hash *h, uint32_t key, struct le *le, void *data);
void hash_unlink(struct hash *h, struct le *le);
struct list *hash_list(const struct hash *h, uint32_t key);
void hash_flush(struct hash *h); /* mem_deref every entry */

uint32_t hash_fast(const char *p, size_t l);    /* FNV-1a */
uint32_t hash_fast_ci(const char *p, size_t l); /* FNV-1a, ASCII folded */
uint32_t hash_pl(const struct pl *pl);

#endif
