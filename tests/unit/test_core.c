/**
 * @file test_core.c  Core objects: refcounts, strings, buffers, lists,
 * hashes, the timer heap, the loop's coalescing and the config reader.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"

static int destroyed;

static void count_destroy(void *arg)
{
	(void)arg;
	destroyed++;
}


static void test_mem_refcount(void **state)
{
	char *p;

	(void)state;
	destroyed = 0;
	p = mem_zalloc(16, count_destroy);
	assert_non_null(p);
	assert_int_equal(mem_nrefs(p), 1);
	assert_ptr_equal(mem_ref(p), p);
	assert_int_equal(mem_nrefs(p), 2);
	assert_null(mem_deref(p));
	assert_int_equal(destroyed, 0);
	assert_null(mem_deref(p));
	assert_int_equal(destroyed, 1);
	assert_null(mem_deref(NULL));
}


static void test_mem_realloc_strdup(void **state)
{
	char *p, *s;

	(void)state;
	p = mem_alloc(4, NULL);
	assert_non_null(p);
	memcpy(p, "abc", 4);
	p = mem_realloc(p, 4096);
	assert_non_null(p);
	assert_string_equal(p, "abc");
	mem_deref(p);
	s = mem_strdup("hello\0world", 11);
	assert_non_null(s);
	assert_memory_equal(s, "hello\0world", 11);
	assert_int_equal(s[11], '\0');
	mem_deref(s);
}


static void test_pl_numbers(void **state)
{
	static const struct {
		const char *in;
		int err;
		uint32_t v;
	} t[] = {
		{ "0", 0, 0 },
		{ "0068", 0, 68 },
		{ "4294967295", 0, 4294967295u },
		{ "4294967296", ERANGE, 0 },
		{ "36893488147419103232", ERANGE, 0 },
		{ "", EINVAL, 0 },
		{ "-1", EINVAL, 0 },
		{ "12a", EINVAL, 0 },
		{ " 1", EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pl pl;
		uint32_t v = 0;
		pl_set_str(&pl, t[i].in);
		assert_int_equal(pl_u32(&pl, &v), t[i].err);
		if (!t[i].err)
			assert_int_equal(v, t[i].v);
	}
}


static void test_pl_compare(void **state)
{
	struct pl a = PL("Content-Length"), b = PL("content-length");
	struct pl c = PL("  x y \t"), e = PL_INIT;
	char buf[4];

	(void)state;
	assert_true(pl_eq_ci(&a, &b));
	assert_false(pl_eq(&a, &b));
	assert_true(pl_eq_str_ci(&a, "CONTENT-LENGTH"));
	assert_int_equal(pl_cmp_ci(&a, &b), 0);
	pl_trim(&c);
	assert_true(pl_eq_str(&c, "x y"));
	assert_ptr_equal(pl_find_ci(&a, "LENGTH"), a.p + 8);
	assert_null(pl_find_ci(&a, "nothere"));
	assert_int_equal(pl_strcpy(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x y");
	assert_int_equal(pl_strcpy(&a, buf, sizeof(buf)), ENOSPC);
	assert_false(pl_isset(&e));
}


static void test_buf_ceiling(void **state)
{
	struct buf *b;
	int i;

	(void)state;
	assert_int_equal(buf_alloc(&b, 8, 64), 0);
	assert_int_equal(buf_printf(b, "%s-%d", "abc", 42), 0);
	assert_int_equal(b->end, 6);
	assert_memory_equal(b->b, "abc-42", 6);
	assert_int_equal(buf_write_u32(b, 4294967295u), 0);
	assert_memory_equal(b->b + 6, "4294967295", 10);
	for (i = 0; i < 10; i++)
		if (buf_write(b, "0123456789", 10))
			break;
	assert_true(b->end <= 64);
	assert_int_equal(buf_write(b, "0123456789", 10), EMSGSIZE);
	mem_deref(b);
}


static void test_buf_write_hdr(void **state)
{
	struct pl name = PL("Via"), val = PL("SIP/2.0/UDP h;branch=z9hG4bK1");
	struct pl empty = PL("");
	struct buf *b;

	(void)state;
	assert_int_equal(buf_alloc(&b, 4, 43), 0); /* grows */
	assert_int_equal(buf_write_hdr(b, &name, &val), 0);
	assert_int_equal(b->end, 36);
	assert_memory_equal(b->b, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", 36);
	/* an empty value is a valid header line (RFC 3261 25.1) */
	assert_int_equal(buf_write_hdr(b, &name, &empty), 0);
	assert_memory_equal(b->b + 36, "Via: \r\n", 4 + 3);
	/* past the ceiling: refused whole, nothing half written */
	assert_int_equal(buf_write_hdr(b, &name, &val), EMSGSIZE);
	assert_int_equal(b->end, 43);
	assert_int_equal(buf_write_hdr(NULL, &name, &val), EINVAL);
	mem_deref(b);
}


struct item {
	struct le le;
	int v;
};

static void test_list_hash(void **state)
{
	struct item it[5];
	struct list l = LIST_INIT;
	struct hash *h;
	struct le *le;
	int i, sum = 0;

	(void)state;
	for (i = 0; i < 5; i++) {
		memset(&it[i], 0, sizeof(it[i]));
		it[i].v = i;
		list_append(&l, &it[i].le, &it[i]);
	}
	assert_int_equal(list_count(&l), 5);
	list_unlink(&it[2].le);
	list_unlink(&it[0].le);
	list_unlink(&it[4].le);
	assert_int_equal(list_count(&l), 2);
	LIST_FOREACH (&l, le)
		sum += ((struct item *)le->data)->v;
	assert_int_equal(sum, 1 + 3);
	list_prepend(&l, &it[0].le, &it[0]);
	assert_ptr_equal(list_head_data(&l), &it[0]);
	list_insert_after(&l, &it[0].le, &it[2].le, &it[2]);
	assert_ptr_equal(l.head->next->data, &it[2]);
	while (l.head)
		list_unlink(l.head);

	assert_int_equal(hash_alloc(&h, 3), 0);
	assert_int_equal(h->mask, 3);
	for (i = 0; i < 5; i++)
		hash_append(h, (uint32_t)i, &it[i].le, &it[i]);
	assert_int_equal(h->n, 5);
	assert_int_equal(list_count(hash_list(h, 4)), 2); /* keys 0 and 4 */
	hash_unlink(h, &it[1].le);
	assert_int_equal(h->n, 4);
	for (i = 0; i < 5; i++)
		hash_unlink(h, &it[i].le);
	assert_int_equal(h->n, 0);
	assert_int_equal(hash_fast_ci("ABC", 3), hash_fast("abc", 3));
	mem_deref(h);
}


static uint32_t item_key(const void *data)
{
	return (uint32_t)((const struct item *)data)->v * 2654435761u;
}


/* A growing table: it doubles past two entries a bucket up to its
 * limit, every entry stays in the bucket of its key, same-key entries
 * keep their order, and unlinking after a growth works. */
static void test_hash_grow(void **state)
{
	enum {
		N = 3000
	};
	struct item *it = calloc(N, sizeof(*it));
	struct hash *h;
	struct le *le;
	int i, prev;

	(void)state;
	assert_non_null(it);
	assert_int_equal(hash_alloc(&h, 4), 0);
	hash_grow_with(h, item_key, 1000); /* 1024 buckets at most */
	for (i = 0; i < N; i++) {
		it[i].v = i % 1500; /* two entries a key */
		hash_append(h, item_key(&it[i]), &it[i].le, &it[i]);
	}
	assert_int_equal(h->n, N);
	assert_int_equal(h->mask, 1023); /* grew, and stopped at the limit */
	for (i = 0; i < N; i++) {
		bool found = false;

		LIST_FOREACH (hash_list(h, item_key(&it[i])), le)
			found = found || le->data == &it[i];
		assert_true(found);
	}
	/* the two entries of key 7: appended first, still first */
	prev = -1;
	LIST_FOREACH (hash_list(h, item_key(&it[7])), le) {
		const struct item *x = le->data;

		if (x->v != 7)
			continue;
		assert_true(x - it > prev);
		prev = (int)(x - it);
	}
	assert_int_equal(prev, 1507);
	for (i = 0; i < N; i += 2)
		hash_unlink(h, &it[i].le);
	assert_int_equal(h->n, N / 2);
	for (i = 1; i < N; i += 2)
		hash_unlink(h, &it[i].le);
	assert_int_equal(h->n, 0);
	for (i = 0; i <= (int)h->mask; i++)
		assert_null(h->bucket[i].head);
	mem_deref(h);
	free(it);
}


static int fired[8], nfired;

static void on_tmr(void *arg)
{
	fired[nfired++] = (int)(intptr_t)arg;
}


static void test_timer_heap(void **state)
{
	struct tmr t[6];
	static const uint64_t delay[6] = { 50, 10, 30, 10, 70, 20 };
	int i;

	(void)state;
	tmr_test_set_now(1000);
	assert_int_equal(loop_init(64), 0);
	nfired = 0;
	for (i = 0; i < 6; i++) {
		tmr_init(&t[i]);
		tmr_start(&t[i], delay[i], on_tmr, (void *)(intptr_t)i);
	}
	assert_int_equal(tmr_count(), 6);
	tmr_cancel(&t[4]);
	assert_false(tmr_isrunning(&t[4]));
	assert_int_equal(tmr_next_delay(), 10);
	tmr_test_set_now(1025);
	tmr_poll();
	assert_int_equal(nfired, 3);
	/* 10, 10, 20: both 10 ms timers then the 20 ms one */
	assert_true((fired[0] == 1 && fired[1] == 3) ||
		    (fired[0] == 3 && fired[1] == 1));
	assert_int_equal(fired[2], 5);
	/* restart moves it */
	tmr_start(&t[0], 100, on_tmr, (void *)(intptr_t)0);
	tmr_test_set_now(1100);
	tmr_poll();
	assert_int_equal(nfired, 4);
	assert_int_equal(fired[3], 2);
	tmr_test_set_now(1125);
	tmr_poll();
	assert_int_equal(nfired, 5);
	assert_int_equal(fired[4], 0);
	assert_int_equal(tmr_count(), 0);
	loop_close();
	tmr_test_set_now(0);
}


/* ---- coalescing: real time, a datagram socket pair ---- */

static int co_rx; /* datagrams read */

static void co_read_h(int flags, void *arg)
{
	int fd = *(int *)arg;
	char b[16];

	(void)flags;
	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		co_rx++;
}


static void co_send(int fd, int n)
{
	while (n-- > 0)
		assert_int_equal(send(fd, "x", 1, 0), 1);
}


static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


static void *co_late_sender(void *arg)
{
	const struct timespec ts = { 0, 60 * 1000 * 1000 };

	(void)nanosleep(&ts, NULL);
	(void)send(*(int *)arg, "x", 1, 0);
	return NULL;
}


static void on_co_tmr(void *arg)
{
	(*(int *)arg)++;
}


static void test_loop_coalesce(void **state)
{
	pthread_t th;
	struct tmr t;
	int sv[2], i, nfire = 0;
	uint64_t t0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(loop_init(64), 0);
	assert_int_equal(fd_listen(sv[1], FD_READ, co_read_h, &sv[1]), 0);
	co_rx = 0;

	/* off (the default): every event is a wake-up of its own */
	for (i = 0; i < 5; i++) {
		co_send(sv[0], 1);
		assert_int_equal(loop_poll(100), 0);
	}
	assert_int_equal(co_rx, 5);
	assert_false(loop_coalescing());
	assert_int_equal(loop_coalesced(), 0);

	/* on, 20 ms: an event after a longer sleep than that does not
	 * start it */
	loop_coalesce(20000);
	assert_int_equal(pthread_create(&th, NULL, co_late_sender, &sv[0]), 0);
	t0 = now_us();
	assert_int_equal(loop_poll(1000), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(now_us() - t0 >= 20000);
	assert_int_equal(co_rx, 6);
	assert_false(loop_coalescing());

	/* one sooner than that does */
	co_send(sv[0], 1);
	assert_int_equal(loop_poll(1000), 0);
	assert_int_equal(co_rx, 7);
	assert_true(loop_coalescing());

	/* then the loop sleeps a whole interval, whatever arrives, and takes
	 * everything after it */
	co_send(sv[0], 3);
	t0 = now_us();
	assert_int_equal(loop_poll(-1), 0);
	assert_true(now_us() - t0 >= 19000);
	assert_int_equal(co_rx, 10);
	assert_int_equal(loop_coalesced(), 1);
	assert_true(loop_coalescing());

	/* a timer cuts the interval short and fires on time */
	co_send(sv[0], 1);
	tmr_init(&t);
	tmr_start(&t, 5, on_co_tmr, &nfire);
	t0 = now_us();
	assert_int_equal(loop_poll(-1), 0);
	assert_true(now_us() - t0 < 15000);
	assert_int_equal(loop_coalesced(), 2);
	assert_int_equal(co_rx, 11);
	while (!nfire && now_us() - t0 < 1000000)
		assert_int_equal(loop_poll(-1), 0);
	assert_int_equal(nfire, 1);

	/* an interval that brought nothing ends it: back to waiting for
	 * events, woken as soon as one comes */
	while (loop_coalescing() && now_us() - t0 < 1000000)
		assert_int_equal(loop_poll(1000), 0);
	assert_false(loop_coalescing());
	assert_int_equal(pthread_create(&th, NULL, co_late_sender, &sv[0]), 0);
	t0 = now_us();
	assert_int_equal(loop_poll(1000), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(co_rx, 12);
	assert_true(now_us() - t0 < 500000);
	assert_false(loop_coalescing());

	fd_close(sv[1]);
	loop_close();
	(void)close(sv[0]);
	(void)close(sv[1]);
}


struct cfg {
	char name[CONF_STR_MAX];
	uint32_t port;
	int on;
	struct conf_list list;
};

static const struct conf_item items[] = {
	{ "a.name", CONF_STR, offsetof(struct cfg, name), 0 },
	{ "a.port", CONF_U32, offsetof(struct cfg, port), 65535 },
	{ "b.on", CONF_BOOL, offsetof(struct cfg, on), 0 },
	{ "b.list", CONF_LIST, offsetof(struct cfg, list), 0 },
	{ NULL, 0, 0, 0 },
};

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return errno;
	(void)fputs(text, f);
	return fclose(f) ? errno : 0;
}


static void test_conf(void **state)
{
	char path[] = "/tmp/entims-conf-XXXXXX";
	char msg[256];
	struct cfg c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	memset(&c, 0, sizeof(c));
	assert_int_equal(write_file(path, "# comment\n[a]\nname = x y\n"
					  "port=5060\n[b]\non = yes\n"
					  "list = u, v\nlist = w\n"),
			 0);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), 0);
	assert_string_equal(c.name, "x y");
	assert_int_equal(c.port, 5060);
	assert_int_equal(c.on, 1);
	assert_int_equal(c.list.n, 3);
	assert_string_equal(c.list.v[2], "w");

	assert_int_equal(write_file(path, "[a]\nport = 70000\n"), 0);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, ":2:"));
	assert_non_null(strstr(msg, "a.port"));

	assert_int_equal(write_file(path, "[a]\nnmae = 1\n"), 0);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "unknown setting 'a.nmae'"));

	assert_int_equal(write_file(path, "[b]\non = perhaps\n"), 0);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "not yes or no"));

	assert_int_equal(write_file(path, "[b\n"), 0);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), EINVAL);

	assert_int_equal(conf_set(items, &c, "a.port", "-1", msg, sizeof(msg)),
			 EINVAL);
	assert_int_equal(conf_set(items, &c, "a.port", "5", msg, sizeof(msg)),
			 0);
	assert_int_equal(c.port, 5);
	unlink(path);
	assert_int_equal(conf_load(path, items, &c, msg, sizeof(msg)), ENOENT);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mem_refcount, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_mem_realloc_strdup,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_pl_numbers, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_pl_compare, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_buf_ceiling, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_buf_write_hdr, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hash_grow, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_list_hash, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_timer_heap, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_loop_coalesce, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_conf, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
