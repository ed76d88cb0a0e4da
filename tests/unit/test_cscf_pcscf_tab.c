/**
 * @file test_cscf_pcscf_tab.c  The P-CSCF's compact tables
 * (cscf/pcscf_tab.h): an index that keeps every node through doubling,
 * in insertion order within a key, deletes only the node it is given and
 * walks while nodes go; string lists shared by content, counted, gone
 * with their last holder, and outliving the table.
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
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "cscf/pcscf_tab.h"

#define NODES 3000

static struct pcscf_inode nodes[NODES];
static size_t walked;
static struct pcscf_idx walk_idx;


static size_t count_key(const struct pcscf_idx *x, uint32_t key)
{
	struct pcscf_inode *nd;
	size_t n = 0;

	for (nd = pcscf_idx_head(x, key); nd; nd = nd->next)
		n += nd->key == key;
	return n;
}


static void test_idx(void **state)
{
	struct pcscf_idx x;
	struct pcscf_inode *nd;
	size_t i;

	(void)state;
	memset(nodes, 0, sizeof(nodes));
	assert_int_equal(pcscf_idx_init(&x, 16), 0);
	assert_int_equal(x.mask, 255); /* the floor */
	for (i = 0; i < NODES; i++) {
		nodes[i].pos = (uint32_t)i;
		/* keys 0..999, three nodes each */
		pcscf_idx_add(&x, &nodes[i],
			      (uint32_t)(i % 1000) * 2654435761u);
	}
	assert_int_equal(x.n, NODES);
	assert_int_equal(x.mask, 2047); /* doubled past two nodes a bucket */
	for (i = 0; i < 1000; i++) {
		uint32_t key = (uint32_t)i * 2654435761u;
		uint32_t want = (uint32_t)i;

		assert_int_equal(count_key(&x, key), 3);
		/* oldest first, whatever the doublings did */
		for (nd = pcscf_idx_head(&x, key); nd; nd = nd->next) {
			if (nd->key != key)
				continue;
			assert_int_equal(nd->pos, want);
			want += 1000;
		}
	}
	/* delete the middle one of key 7: the two others stay */
	pcscf_idx_del(&x, &nodes[1007]);
	assert_int_equal(x.n, NODES - 1);
	assert_int_equal(count_key(&x, 7u * 2654435761u), 2);
	/* a node not in the index: nothing happens */
	pcscf_idx_del(&x, &nodes[1007]);
	assert_int_equal(x.n, NODES - 1);
	pcscf_idx_free(&x);
	assert_null(x.b);
	pcscf_idx_add(&x, &nodes[0], 1); /* freed: ignored */
	assert_int_equal(x.n, 0);
}


/* Many nodes of one key (phones sharing a flow): each is added at the
 * end and removed in O(1) (pprev), from the head, the middle and the
 * tail, and what is added after the tail went still goes last. */
static void test_idx_one_key(void **state)
{
	struct pcscf_idx x;
	struct pcscf_inode *nd;
	size_t i, n;
	uint32_t prev;

	(void)state;
	memset(nodes, 0, sizeof(nodes));
	assert_int_equal(pcscf_idx_init(&x, 4), 0);
	for (i = 0; i < NODES; i++) {
		nodes[i].pos = (uint32_t)i;
		pcscf_idx_add(&x, &nodes[i], 7);
	}
	assert_int_equal(count_key(&x, 7), NODES);
	pcscf_idx_del(&x, &nodes[0]);         /* head */
	pcscf_idx_del(&x, &nodes[NODES / 2]); /* middle */
	pcscf_idx_del(&x, &nodes[NODES - 1]); /* tail */
	pcscf_idx_del(&x, &nodes[NODES - 1]); /* not in: nothing */
	assert_int_equal(x.n, NODES - 3);
	pcscf_idx_add(&x, &nodes[0], 7);
	/* oldest first: 1, 2, ... without the two removed, then 0 */
	n = 0;
	prev = 0;
	for (nd = pcscf_idx_head(&x, 7); nd; nd = nd->next) {
		if (nd->key != 7)
			continue;
		if (nd->next)
			assert_true(nd->pos > prev);
		else
			assert_ptr_equal(nd, &nodes[0]);
		prev = nd->pos;
		n++;
	}
	assert_int_equal(n, NODES - 2);
	assert_ptr_equal(x.b[7 & x.mask].tail, &nodes[0]);
	for (i = 0; i < NODES; i++)
		pcscf_idx_del(&x, &nodes[i]);
	assert_int_equal(x.n, 0);
	assert_null(pcscf_idx_head(&x, 7));
	assert_null(x.b[7 & x.mask].tail);
	pcscf_idx_free(&x);
}


static void walk_del(struct pcscf_inode *nd)
{
	walked++;
	pcscf_idx_del(&walk_idx, nd);
}


static void test_idx_walk(void **state)
{
	size_t i;

	(void)state;
	memset(nodes, 0, sizeof(nodes));
	walked = 0;
	assert_int_equal(pcscf_idx_init(&walk_idx, 256), 0);
	for (i = 0; i < 600; i++)
		pcscf_idx_add(&walk_idx, &nodes[i], (uint32_t)(i % 7));
	pcscf_idx_walk(&walk_idx, walk_del);
	assert_int_equal(walked, 600);
	assert_int_equal(walk_idx.n, 0);
	pcscf_idx_free(&walk_idx);
}


static void test_strs(void **state)
{
	struct pcscf_strs *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct pcscf_strtab *t = NULL;
	struct pl v[2], w[2];
	const char *vec[4];
	char big[70000];

	(void)state;
	assert_int_equal(pcscf_strtab_alloc(&t), 0);
	pl_set_str(&v[0], "<sip:orig@scscf.ims.test;lr>");
	pl_set_str(&v[1], "<sip:as.ims.test;lr>");
	assert_int_equal(pcscf_strs_get(t, v, 2, &a), 0);
	/* the same content, from other memory: the same list */
	w[0] = v[0];
	pl_set_str(&w[1], "<sip:as.ims.test;lr>x");
	w[1].l--;
	assert_int_equal(pcscf_strs_get(t, w, 2, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(mem_nrefs(a), 2);
	assert_int_equal(pcscf_strtab_count(t), 1);
	assert_int_equal(pcscf_strs_n(a), 2);
	assert_int_equal(pcscf_strs_vec(a, vec, 4), 2);
	assert_string_equal(vec[0], "<sip:orig@scscf.ims.test;lr>");
	assert_string_equal(vec[1], "<sip:as.ims.test;lr>");
	assert_int_equal(pcscf_strs_vec(a, vec, 1), 1);
	assert_string_equal(pcscf_strs_first(a), vec[0]);
	/* order and count matter */
	w[0] = v[1];
	w[1] = v[0];
	assert_int_equal(pcscf_strs_get(t, w, 2, &c), 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(pcscf_strs_get(t, v, 1, &d), 0);
	assert_ptr_not_equal(a, d);
	assert_int_equal(pcscf_strtab_count(t), 3);
	/* the last holder takes it out of the table */
	c = mem_deref(c);
	assert_int_equal(pcscf_strtab_count(t), 2);
	b = mem_deref(b);
	assert_int_equal(pcscf_strtab_count(t), 2);
	/* nothing, bad input, too long */
	assert_int_equal(pcscf_strs_get(t, v, 0, &c), 0);
	assert_null(c);
	pl_set(&w[0], "a\0b", 3);
	assert_int_equal(pcscf_strs_get(t, w, 1, &c), EINVAL);
	memset(big, 'a', sizeof(big));
	pl_set(&w[0], big, sizeof(big));
	assert_int_equal(pcscf_strs_get(t, w, 1, &c), E2BIG);
	assert_null(c);
	/* the table may go first: the lists stay usable */
	t = mem_deref(t);
	assert_string_equal(pcscf_strs_first(a),
			    "<sip:orig@scscf.ims.test;lr>");
	mem_deref(a);
	mem_deref(d);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idx, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_idx_one_key, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_idx_walk, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_strs, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("cscf_pcscf_tab", tests, NULL, NULL);
}
