/**
 * @file pcscf_tab.c  Compact tables for the P-CSCF: see pcscf_tab.h.
 *
 * Index: a power-of-two array of chain heads.  A node carries its full
 * 32-bit key, so that doubling needs nothing from the record and a
 * lookup skips the nodes of other keys without touching their records
 * (comparing URIs means decoding them).  Past two nodes a bucket the
 * array doubles (8 octets a bucket: 4 a node at most, a chain of one
 * to two nodes).  Out of memory while doubling,
 * the table keeps its size: longer chains, still correct.
 *
 * Interned lists: one block each (header and the strings, NUL-separated)
 * in a small hash by content.  The table does not own them: each record
 * holding one owns a reference, and the last one to go unlinks it.  The
 * table, freed first (shutdown order is not ours to choose), detaches
 * the lists that are still held.
 */
#include "cscf/pcscf_tab.h"

#include <errno.h>
#include <string.h>

#include "core/hash.h"
#include "core/list.h"
#include "core/pl.h"

#define IDX_MIN  256
#define IDX_MAX  (1u << 24)
#define STRS_MAX 65535

int pcscf_idx_init(struct pcscf_idx *x, uint32_t size)
{
	uint32_t n = IDX_MIN;

	if (!x)
		return EINVAL;
	while (n < size && n < IDX_MAX)
		n <<= 1;
	memset(x, 0, sizeof(*x));
	x->b = mem_zalloc(n * sizeof(*x->b), NULL);
	if (!x->b)
		return ENOMEM;
	x->mask = n - 1;
	return 0;
}


void pcscf_idx_free(struct pcscf_idx *x)
{
	if (!x)
		return;
	x->b = mem_deref(x->b);
	x->n = 0;
}


/* Double: bucket i splits into i and i + old size, each keeping the
 * order of its nodes (lookups see the oldest first). */
static void grow(struct pcscf_idx *x)
{
	uint32_t nmask = x->mask * 2 + 1, i;
	struct pcscf_bucket *nb;

	nb = mem_zalloc(((size_t)nmask + 1) * sizeof(*nb), NULL);
	if (!nb)
		return;
	for (i = 0; i <= x->mask; i++) {
		struct pcscf_bucket *to[2] = { &nb[i], &nb[i + x->mask + 1] };
		struct pcscf_inode *nd = x->b[i].head, *next;

		for (; nd; nd = next) {
			struct pcscf_bucket *b = to[(nd->key & nmask) != i];

			next = nd->next;
			nd->next = NULL;
			nd->pprev = b->tail ? &b->tail->next : &b->head;
			*nd->pprev = nd;
			b->tail = nd;
		}
	}
	mem_deref(x->b);
	x->b = nb;
	x->mask = nmask;
}


/* At the end of its chain: lookups see the oldest node first. */
_Static_assert(offsetof(struct pcscf_inode, next) == 0,
	       "idx_del finds the tail by its next");

void pcscf_idx_add(struct pcscf_idx *x, struct pcscf_inode *nd, uint32_t key)
{
	struct pcscf_bucket *b;

	if (!x || !x->b || !nd)
		return;
	if (x->n > 2 * ((size_t)x->mask + 1) && x->mask < IDX_MAX - 1)
		grow(x);
	b = &x->b[key & x->mask];
	nd->key = key;
	nd->next = NULL;
	nd->pprev = b->tail ? &b->tail->next : &b->head;
	*nd->pprev = nd;
	b->tail = nd;
	x->n++;
}


/* A node not in the index (pprev NULL: never added, or removed) is left
 * alone.  `next` is a node's first member, so the pointer to the last
 * node's `next` is that node. */
void pcscf_idx_del(struct pcscf_idx *x, struct pcscf_inode *nd)
{
	struct pcscf_bucket *b;

	if (!x || !x->b || !nd || !nd->pprev)
		return;
	b = &x->b[nd->key & x->mask];
	*nd->pprev = nd->next;
	if (nd->next)
		nd->next->pprev = nd->pprev;
	else
		b->tail = nd->pprev == &b->head
				  ? NULL
				  : (struct pcscf_inode *)(void *)nd->pprev;
	nd->next = NULL;
	nd->pprev = NULL;
	x->n--;
}


void pcscf_idx_walk(struct pcscf_idx *x, void (*h)(struct pcscf_inode *nd))
{
	uint32_t i;

	if (!x || !x->b || !h)
		return;
	for (i = 0; i <= x->mask; i++) {
		/* h may delete nd, and only nd: take next first */
		struct pcscf_inode *nd = x->b[i].head, *next;

		for (; nd; nd = next) {
			next = nd->next;
			h(nd);
		}
	}
}


/* ---- interned string lists ---- */

struct pcscf_strtab {
	struct hash *h;
};

struct pcscf_strs {
	struct le le;           /* in t->h, not counted */
	struct pcscf_strtab *t; /* NULL once the table is gone */
	uint32_t key;
	uint16_t n;   /* strings */
	uint16_t len; /* octets of v, the NULs included */
	char v[];
};


static void strtab_destructor(void *arg)
{
	struct pcscf_strtab *t = arg;
	uint32_t i;

	for (i = 0; t->h && i <= t->h->mask; i++) {
		struct list *l = &t->h->bucket[i];

		while (l->head) {
			struct pcscf_strs *s = l->head->data;

			list_unlink(&s->le);
			s->t = NULL;
		}
	}
	mem_deref(t->h);
}


int pcscf_strtab_alloc(struct pcscf_strtab **tp)
{
	struct pcscf_strtab *t;
	int err;

	if (!tp)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), strtab_destructor);
	if (!t)
		return ENOMEM;
	err = hash_alloc(&t->h, 64);
	if (err) {
		mem_deref(t);
		return err;
	}
	*tp = t;
	return 0;
}


size_t pcscf_strtab_count(const struct pcscf_strtab *t)
{
	return t ? t->h->n : 0;
}


static void strs_destructor(void *arg)
{
	struct pcscf_strs *s = arg;

	if (s->t)
		hash_unlink(s->t->h, &s->le);
}


static bool strs_eq(const struct pcscf_strs *s, const struct pl *v, size_t n)
{
	const char *p = s->v;
	size_t i;

	if (s->n != n)
		return false;
	for (i = 0; i < n; i++) {
		if (strlen(p) != v[i].l || memcmp(p, v[i].p, v[i].l) != 0)
			return false;
		p += v[i].l + 1;
	}
	return true;
}


/**
 * The shared list of n strings.
 *
 * @param t   the table
 * @param v   the strings (no NUL inside)
 * @param n   how many
 * @param sp  receives a counted reference (NULL for n 0)
 * @return 0, EINVAL, E2BIG or ENOMEM
 */
int pcscf_strs_get(struct pcscf_strtab *t, const struct pl *v, size_t n,
		   struct pcscf_strs **sp)
{
	struct pcscf_strs *s;
	uint32_t key = 2166136261u;
	size_t len = 0, i;
	struct le *le;
	char *p;

	if (!t || !sp || (n && !v))
		return EINVAL;
	if (!n) {
		*sp = NULL;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (memchr(v[i].p, '\0', v[i].l))
			return EINVAL;
		len += v[i].l + 1;
		key = (key ^ hash_fast(v[i].p, v[i].l)) * 16777619u;
	}
	if (len > STRS_MAX || n > UINT16_MAX)
		return E2BIG;
	LIST_FOREACH (hash_list(t->h, key), le) {
		s = le->data;
		if (s->key == key && strs_eq(s, v, n)) {
			*sp = mem_ref(s);
			return 0;
		}
	}
	s = mem_alloc(sizeof(*s) + len, strs_destructor);
	if (!s)
		return ENOMEM;
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->key = key;
	s->n = (uint16_t)n;
	s->len = (uint16_t)len;
	for (p = s->v, i = 0; i < n; i++) {
		memcpy(p, v[i].p, v[i].l);
		p[v[i].l] = '\0';
		p += v[i].l + 1;
	}
	hash_append(t->h, key, &s->le, s);
	*sp = s;
	return 0;
}


size_t pcscf_strs_n(const struct pcscf_strs *s)
{
	return s ? s->n : 0;
}


const char *pcscf_strs_first(const struct pcscf_strs *s)
{
	return s ? s->v : NULL;
}


size_t pcscf_strs_vec(const struct pcscf_strs *s, const char **v, size_t max)
{
	const char *p;
	size_t i;

	if (!s || !v)
		return 0;
	for (p = s->v, i = 0; i < s->n && i < max; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	return i;
}
