/**
 * @file pcscf_tab.h  Compact tables for the P-CSCF's per-user state.
 *
 * The P-CSCF keeps a record per registered phone and per reg event
 * subscription, up to 100,000 of each, and finds them by several keys
 * (flow, identity, contact; IMPU, Call-ID, request id).  Two helpers keep
 * that under a few hundred bytes per user:
 *
 *  - struct pcscf_idx, a hash index of 24-byte nodes embedded in the
 *    records (next pointer, the address of the pointer to the node, the
 *    key, the node's position in its record), where core/hash.h's struct
 *    le costs 32 bytes and a reference to the data.  Adding (at the end
 *    of the chain, so the oldest node of a key is found first) and
 *    removing are O(1) whatever the chain holds: many nodes share a key
 *    when many phones share a flow (behind an SBC or a NAT that keeps one
 *    port), 50,000 of them in the 100,000-user benchmark, where a walk
 *    per add made registration quadratic.  The table doubles past two
 *    nodes a bucket.
 *
 *  - struct pcscf_strs, an immutable list of strings shared by content
 *    (interned, reference counted): the Service-Route of every phone
 *    registered through one S-CSCF is the same, and so is the route set
 *    and remote target of every reg event dialog with it.
 */
#ifndef IMS_CSCF_PCSCF_TAB_H
#define IMS_CSCF_PCSCF_TAB_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct pl;

/* A node inside a record; `pos` tells the record's code which of its
 * nodes this is (records keep them in an array). */
struct pcscf_inode {
	struct pcscf_inode *next;   /* first: see the tail rule in idx_del */
	struct pcscf_inode **pprev; /* what points to this node; NULL: out */
	uint32_t key;
	uint32_t pos;
};

struct pcscf_bucket {
	struct pcscf_inode *head;
	struct pcscf_inode *tail;
};

struct pcscf_idx {
	struct pcscf_bucket *b;
	uint32_t mask;
	size_t n;
};

/* The chain of key's bucket (nodes of other keys too: compare nd->key). */
static inline struct pcscf_inode *pcscf_idx_head(const struct pcscf_idx *x,
						 uint32_t key)
{
	return x->b ? x->b[key & x->mask].head : NULL;
}

int pcscf_idx_init(struct pcscf_idx *x, uint32_t size) IMS_MUST_CHECK;
void pcscf_idx_free(struct pcscf_idx *x);
void pcscf_idx_add(struct pcscf_idx *x, struct pcscf_inode *nd, uint32_t key);
void pcscf_idx_del(struct pcscf_idx *x, struct pcscf_inode *nd);
/* Call h on every node (h may delete the node it is given). */
void pcscf_idx_walk(struct pcscf_idx *x, void (*h)(struct pcscf_inode *nd));

/* Interned string lists. */
struct pcscf_strtab;
struct pcscf_strs;

int pcscf_strtab_alloc(struct pcscf_strtab **tp) IMS_MUST_CHECK;
size_t pcscf_strtab_count(const struct pcscf_strtab *t);

/* The shared list holding v[0..n-1] (a counted reference; mem_deref it).
 * n 0 gives NULL and 0.  ENOMEM, E2BIG (over 65,535 octets). */
int pcscf_strs_get(struct pcscf_strtab *t, const struct pl *v, size_t n,
		   struct pcscf_strs **sp) IMS_MUST_CHECK;
size_t pcscf_strs_n(const struct pcscf_strs *s);
/* The strings, NUL-separated, one after the other. */
const char *pcscf_strs_first(const struct pcscf_strs *s);
/* Fill v with up to max pointers to the strings; returns how many. */
size_t pcscf_strs_vec(const struct pcscf_strs *s, const char **v, size_t max);

#endif
