/**
 * @file hash.c  Power-of-two bucket arrays of intrusive lists.
 *
 * A table either keeps the size it was made with or, given the entries'
 * key function (hash_grow_with), doubles when it holds more than two
 * entries a bucket.  Tables that hold one entry per registered user or
 * per transaction start small and grow with the load: a fixed table
 * sized for 100,000 users costs megabytes in a process that serves
 * fifty, and one sized for fifty turns every lookup into a long scan at
 * 100,000.  Doubling moves each entry once (amortised O(1) per append)
 * and keeps the order of entries that land in the same bucket.
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


void hash_grow_with(struct hash *h, hash_key_h *keyh, uint32_t max_size)
{
	uint32_t m = 1;

	while (m < max_size && m < (1u << 30))
		m <<= 1;
	h->keyh = keyh;
	h->max_mask = m - 1;
}


/* Double the bucket array; out of memory, the table stays as it is
 * (longer chains, still correct). */
static void grow(struct hash *h)
{
	uint32_t nmask = h->mask * 2 + 1, i;
	struct list *nb, *ob = h->bucket;

	nb = mem_zalloc(((size_t)nmask + 1) * sizeof(*nb), NULL);
	if (!nb)
		return;
	for (i = 0; i <= h->mask; i++) {
		struct le *le;

		while ((le = ob[i].head)) {
			void *data = le->data;

			list_unlink(le);
			list_append(&nb[h->keyh(data) & nmask], le, data);
		}
	}
	h->bucket = nb;
	h->mask = nmask;
	mem_deref(ob);
}


void hash_append(struct hash *h, uint32_t key, struct le *le, void *data)
{
	list_append(&h->bucket[key & h->mask], le, data);
	h->n++;
	if (h->keyh && h->mask < h->max_mask &&
	    h->n > 2 * ((size_t)h->mask + 1))
		grow(h);
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
