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

struct hash {
	struct list *bucket;
	uint32_t mask;
	size_t n;
};

int hash_alloc(struct hash **hp, uint32_t size) IMS_MUST_CHECK;
void hash_append(struct hash *h, uint32_t key, struct le *le, void *data);
void hash_unlink(struct hash *h, struct le *le);
struct list *hash_list(const struct hash *h, uint32_t key);
void hash_flush(struct hash *h); /* mem_deref every entry */

uint32_t hash_fast(const char *p, size_t l);    /* FNV-1a */
uint32_t hash_fast_ci(const char *p, size_t l); /* FNV-1a, ASCII folded */
uint32_t hash_pl(const struct pl *pl);

#endif
