/**
 * @file hash.c  Power-of-two bucket arrays of intrusive lists.
 */
#include "core/hash.h"

#include <errno.h>

#include "core/pl.h"

static void hash_destructor(void *arg)
{
	struct hash *h = arg;

	mem_deref(h->bucket);
}


/**
 * @param size  bucket count, rounded up to a power of two
 */
int hash_alloc(struct hash **hp, uint32_t size)
{
	struct hash *h;
	uint32_t n = 1;

	while (n < size && n < (1u << 30))
		n <<= 1;
	h = mem_zalloc(sizeof(*h), hash_destructor);
	if (!h)
		return ENOMEM;
	h->bucket = mem_zalloc(n * sizeof(*h->bucket), NULL);
	if (!h->bucket) {
		mem_deref(h);
		return ENOMEM;
	}
	h->mask = n - 1;
	*hp = h;
	return 0;
}


void hash_append(struct hash *h, uint32_t key, struct le *le, void *data)
{
	list_append(&h->bucket[key & h->mask], le, data);
	h->n++;
}


void hash_unlink(struct hash *h, struct le *le)
{
	if (le->list) {
		list_unlink(le);
		h->n--;
	}
}


struct list *hash_list(const struct hash *h, uint32_t key)
{
	return &h->bucket[key & h->mask];
}


void hash_flush(struct hash *h)
{
	uint32_t i;

	for (i = 0; i <= h->mask; i++)
		list_flush(&h->bucket[i]);
	h->n = 0;
}


uint32_t hash_fast(const char *p, size_t l)
{
	uint32_t x = 2166136261u;

	while (l--) {
		x ^= (unsigned char)*p++;
		x *= 16777619u;
	}
	return x;
}


uint32_t hash_fast_ci(const char *p, size_t l)
{
	uint32_t x = 2166136261u;

	while (l--) {
		unsigned c = (unsigned char)*p++;
		if (c >= 'A' && c <= 'Z')
			c += 32;
		x ^= c;
		x *= 16777619u;
	}
	return x;
}


uint32_t hash_pl(const struct pl *pl)
{
	return hash_fast(pl->p, pl->l);
}
