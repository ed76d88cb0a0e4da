/**
 * @file loop.c  epoll event loop with a min-heap of timers.
 *
 * Design: descriptors are registered with a handler in a table indexed by
 * fd (O(1) dispatch).  epoll_wait() returns up to LOOP_BATCH events; they are
 * dispatched, then the expired timers fire, then the end-of-batch hooks run.
 * A handler may close any descriptor, including one later in the same
 * batch: the table entry is cleared and the stale event is skipped.
 *
 * Timers: a binary heap ordered by expiry, each timer knowing its index so
 * that cancel is O(log n) (redis keeps a list; libre moved to a heap).
 *
 * Coalescing (loop_coalesce(); off unless set, entims sets [core]
 * coalesce_us, 2000 by default): under load the loop wakes
 * at most once an interval and takes everything that arrived meanwhile, as
 * a network card moderates its interrupts (ethtool's rx-usecs).  Why: a
 * wake-up costs more than the datagram that caused it.  There is the sleep
 * in epoll_wait and the switch back, and, for every batch of answers sent,
 * the wake-up of the peer's process on the other CPU (an IPI, which a VM
 * must exit for).  Measured at 2,000 digest registrations/s (4,000
 * datagrams in and out a second, bench/load.sh), entims woke 1,335 times a
 * second, and in-guest perf saw only 36 of the 88 ms/s the scheduler
 * charged it: most of a wake-up's cost lies outside the code.
 *
 * The rule: a wake-up that came sooner than one interval after the loop
 * went to sleep starts coalescing; the loop then sleeps whole intervals
 * (a timer cuts one short) and takes what is there without waiting, and
 * goes back to waiting for events as soon as an interval brought nothing.
 * A rule that also asked for three wake-ups within an interval before
 * starting, and left when an interval brought fewer than three messages,
 * flipped in and out under a steady load and kept half the gain (the
 * figures are in docs/internals/transport.md).  The price is latency, up
 * to one interval a hop, and only under load.  Datagrams that left back to
 * back can be reordered by a peer reading with several workers: the SIP
 * server transaction spaces the one case where that shows (a final
 * response right behind its 180, sip/strans.c hold_ms()).
 */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 256

struct fde {
	fd_h *fh;
	void *arg;
	int flags;
	uint32_t gen;
};

/*
 * Timer lanes.  Most SIP timers have one of a few fixed delays (Timer J
 * and F are 64*T1 for every non-INVITE transaction, K is T4, the 100
 * Trying timer 200 ms, ...), and a timer started later with the same
 * delay expires later: a FIFO per delay is already sorted.  So a timer
 * whose delay matches a lane's goes to the tail of that lane in O(1) and
 * leaves it in O(1), where a heap of 300,000 transactions costs ~18
 * cache-missing levels per insert and per cancel.  Delays that match no
 * lane take a free lane (one with no timers) or, when all are busy, the
 * heap.  The next expiry is the minimum of the heap's root and the lane
 * heads.  If the clock seems to go back (a test setting it), a timer that
 * would break a lane's order goes to the heap.
 */
#define LOOP_LANES 16

struct tlane {
	uint64_t delay;
	struct tmr *head, *tail;
	size_t n;
};

struct loop {
	int epfd;
	struct fde *fds;
	size_t maxfds;
	bool running;
	struct tmr **heap;
	size_t nheap, heap_size;
	struct tlane lanes[LOOP_LANES];
	size_t nlane; /* timers in lanes */
	struct list hooks;
	uint64_t hook_gen; /* counts hook additions */
	uint64_t test_now;
	struct {
		uint32_t us;     /* the interval; 0: off */
		bool on;         /* sleeping whole intervals */
		uint64_t sleeps; /* intervals slept (loop_coalesced()) */
	} co;
};

static _Thread_local struct loop *cur;
static _Thread_local uint64_t test_now_nl; /* clock override w/o a loop */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


uint64_t tmr_jiffies(void)
{
	uint64_t fixed = cur ? cur->test_now : test_now_nl;

	return fixed ? fixed : mono_us() / 1000u;
}


void tmr_test_set_now(uint64_t ms)
{
	if (cur)
		cur->test_now = ms;
	test_now_nl = ms;
}


/**
 * Create this thread's loop.
 *
 * @param maxfds  size of the descriptor table (0: RLIMIT-sized default)
 */
int loop_init(size_t maxfds)
{
	struct loop *l;

	if (cur)
		return EALREADY;
	if (!maxfds)
		maxfds = 65536;
	l = mem_zalloc(sizeof(*l), NULL);
	if (!l)
		return ENOMEM;
	l->fds = calloc(maxfds, sizeof(*l->fds));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!l->fds || l->epfd < 0) {
		int err = l->fds ? errno : ENOMEM;
		free(l->fds);
		if (l->epfd >= 0)
			close(l->epfd);
		mem_deref(l);
		return err;
	}
	l->maxfds = maxfds;
	l->test_now = test_now_nl;
	list_init(&l->hooks);
	cur = l;
	return 0;
}


static void lane_unlink(struct loop *l, struct tmr *t);

void loop_close(void)
{
	struct loop *l = cur;

	if (!l)
		return;
	close(l->epfd);
	free(l->fds);
	/* timers still set are stopped: none may point into a dead loop */
	while (l->nheap)
		l->heap[--l->nheap]->idx = 0;
	for (unsigned i = 0; i < LOOP_LANES; i++)
		while (l->lanes[i].head)
			lane_unlink(l, l->lanes[i].head);
	free(l->heap);
	cur = NULL;
	mem_deref(l);
}


int fd_listen(int fd, int flags, fd_h *fh, void *arg)
{
	struct epoll_event ev;
	struct fde *e;
	int op;

	if (!cur)
		return EINVAL;
	if (fd < 0 || (size_t)fd >= cur->maxfds)
		return EBADF;
	if (!flags) {
		fd_close(fd);
		return 0;
	}
	e = &cur->fds[fd];
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (flags & FD_READ)
		ev.events |= EPOLLIN;
	if (flags & FD_WRITE)
		ev.events |= EPOLLOUT;
	op = e->flags ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(cur->epfd, op, fd, &ev) < 0)
		return errno;
	e->fh = fh;
	e->arg = arg;
	e->flags = flags;
	return 0;
}


void fd_close(int fd)
{
	struct fde *e;

	if (!cur || fd < 0 || (size_t)fd >= cur->maxfds)
		return;
	e = &cur->fds[fd];
	if (e->flags)
		(void)epoll_ctl(cur->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->fh = NULL;
	e->arg = NULL;
	e->flags = 0;
	e->gen++;
}


void loop_hook_add(struct loop_hook *hk, loop_hook_h *h, void *arg)
{
	if (!cur || hk->le.list)
		return;
	hk->h = h;
	hk->arg = arg;
	list_append(&cur->hooks, &hk->le, hk);
	cur->hook_gen++;
}


void loop_hook_remove(struct loop_hook *hk)
{
	list_unlink(&hk->le);
}


/* ---- timer heap ---- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct tmr *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a + 1;
	l->heap[b]->idx = b + 1;
}


static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->jfs <= l->heap[i]->jfs)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}


static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->jfs < l->heap[m]->jfs)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->jfs < l->heap[m]->jfs)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}


void tmr_init(struct tmr *t)
{
	memset(t, 0, sizeof(*t));
}


static void lane_unlink(struct loop *l, struct tmr *t)
{
	struct tlane *ln = &l->lanes[t->lane - 1];

	if (t->lprev)
		t->lprev->lnext = t->lnext;
	else
		ln->head = t->lnext;
	if (t->lnext)
		t->lnext->lprev = t->lprev;
	else
		ln->tail = t->lprev;
	t->lprev = t->lnext = NULL;
	t->lane = 0;
	ln->n--;
	l->nlane--;
}


/* Append to the lane of this delay; false when the heap must take it. */
static bool lane_add(struct loop *l, struct tmr *t, uint64_t delay)
{
	struct tlane *ln = NULL, *free_ln = NULL;
	unsigned i;

	for (i = 0; i < LOOP_LANES; i++) {
		if (l->lanes[i].n && l->lanes[i].delay == delay) {
			ln = &l->lanes[i];
			break;
		}
		if (!l->lanes[i].n && !free_ln)
			free_ln = &l->lanes[i];
	}
	if (!ln) {
		if (!free_ln)
			return false;
		ln = free_ln;
		ln->delay = delay;
	}
	if (ln->tail && ln->tail->jfs > t->jfs)
		return false;
	t->lprev = ln->tail;
	t->lnext = NULL;
	if (ln->tail)
		ln->tail->lnext = t;
	else
		ln->head = t;
	ln->tail = t;
	ln->n++;
	l->nlane++;
	t->lane = (unsigned)(ln - l->lanes) + 1;
	return true;
}


/* The running timer that expires first, or NULL. */
static struct tmr *tmr_first(const struct loop *l)
{
	struct tmr *best = l->nheap ? l->heap[0] : NULL;
	unsigned i;

	if (!l->nlane)
		return best;
	for (i = 0; i < LOOP_LANES; i++) {
		struct tmr *h = l->lanes[i].head;

		if (h && (!best || h->jfs < best->jfs))
			best = h;
	}
	return best;
}


void tmr_cancel(struct tmr *t)
{
	struct loop *l = cur;
	size_t i;

	if (!t || !l)
		return;
	if (t->lane) {
		lane_unlink(l, t);
		return;
	}
	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	l->nheap--;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->idx = i + 1;
		heap_down(l, i);
		heap_up(l, i);
	}
}


/**
 * (Re)start a timer.  It fires once, from the loop, after delay_ms.
 * Running out of memory for the heap is treated as fatal (abort): a timer
 * that silently never fires would leak a transaction forever.
 */
void tmr_start(struct tmr *t, uint64_t delay_ms, tmr_h *th, void *arg)
{
	struct loop *l = cur;

	if (!l)
		abort();
	tmr_cancel(t);
	if (!th)
		return;
	t->th = th;
	t->arg = arg;
	t->jfs = tmr_jiffies() + delay_ms;
	if (lane_add(l, t, delay_ms))
		return;
	if (l->nheap == l->heap_size) {
		size_t n = l->heap_size ? l->heap_size * 2 : 256;
		struct tmr **h = realloc(l->heap, n * sizeof(struct tmr *));
		if (!h)
			abort();
		l->heap = h;
		l->heap_size = n;
	}
	l->heap[l->nheap] = t;
	t->idx = ++l->nheap;
	heap_up(l, l->nheap - 1);
}


uint64_t tmr_next_delay(void)
{
	struct tmr *t;
	uint64_t now;

	if (!cur || !(t = tmr_first(cur)))
		return UINT64_MAX;
	now = tmr_jiffies();
	return t->jfs > now ? t->jfs - now : 0;
}


size_t tmr_count(void)
{
	return cur ? cur->nheap + cur->nlane : 0;
}


void tmr_poll(void)
{
	struct loop *l = cur;
	uint64_t now;

	if (!l)
		return;
	now = tmr_jiffies();
	for (;;) {
		struct tmr *t = tmr_first(l);

		if (!t || t->jfs > now)
			break;
		tmr_cancel(t);
		t->th(t->arg);
	}
}


/*
 * Run the end-of-batch hooks.  A hook may add another one (the transport
 * adds its send hook when a hook's work queues the first datagram, as the
 * registrar's commit does with its answers): such a hook runs in this same
 * iteration, in another pass, so that nothing waits for the next wake-up.
 * Hooks are idempotent (each returns at once when it has nothing to do).
 */
static void run_hooks(struct loop *l)
{
	unsigned pass;

	for (pass = 0; pass < 4 && l->hooks.head; pass++) {
		uint64_t gen = l->hook_gen;
		struct le *le = l->hooks.head;

		while (le) {
			struct loop_hook *hk = le->data;
			le = le->next;
			hk->h(hk->arg);
		}
		if (gen == l->hook_gen)
			break;
	}
}


void loop_coalesce(uint32_t us)
{
	if (!cur)
		return;
	cur->co.us = us;
	cur->co.on = false;
}


uint32_t loop_coalesce_us(void)
{
	return cur ? cur->co.us : 0;
}


bool loop_coalescing(void)
{
	return cur && cur->co.on;
}


uint64_t loop_coalesced(void)
{
	return cur ? cur->co.sleeps : 0;
}


/* epoll_wait, or, while coalescing, a whole interval's sleep and a look at
 * what it brought (see the top of this file). */
static int loop_wait(struct loop *l, struct epoll_event *ev, int timeout_ms)
{
	struct timespec ts;
	uint64_t us, t0;
	int n;

	if (!l->co.us || timeout_ms == 0)
		return epoll_wait(l->epfd, ev, LOOP_BATCH, timeout_ms);
	if (l->co.on) {
		us = l->co.us;
		if (timeout_ms > 0 && (uint64_t)timeout_ms * 1000u < us)
			us = (uint64_t)timeout_ms * 1000u;
		ts.tv_sec = (time_t)(us / 1000000u);
		ts.tv_nsec = (long)(us % 1000000u) * 1000;
		(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		l->co.sleeps++;
		n = epoll_wait(l->epfd, ev, LOOP_BATCH, 0);
		if (n == 0)
			l->co.on = false;
		return n;
	}
	t0 = mono_us();
	n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout_ms);
	if (n > 0 && mono_us() - t0 < l->co.us)
		l->co.on = true;
	return n;
}


int loop_poll(int timeout_ms)
{
	struct epoll_event ev[LOOP_BATCH];
	struct loop *l = cur;
	uint64_t nd;
	int n, i;

	if (!l)
		return EINVAL;
	nd = tmr_next_delay();
	if (nd != UINT64_MAX && (timeout_ms < 0 || nd < (uint64_t)timeout_ms))
		timeout_ms = nd > 60000 ? 60000 : (int)nd;
	n = loop_wait(l, ev, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return errno;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		int fd = ev[i].data.fd, flags = 0;
		struct fde *e = &l->fds[fd];

		if (!e->fh)
			continue; /* closed by an earlier handler */
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
			flags |= FD_READ;
		if (ev[i].events & EPOLLOUT)
			flags |= FD_WRITE;
		if (ev[i].events & EPOLLERR)
			flags |= FD_EXCEPT;
		flags &= e->flags | FD_EXCEPT;
		if (flags)
			e->fh(flags, e->arg);
	}
	tmr_poll();
	run_hooks(l);
	return 0;
}


int loop_run(void)
{
	int err = 0;

	if (!cur)
		return EINVAL;
	cur->running = true;
	while (cur->running && !err)
		err = loop_poll(-1);
	return err;
}


void loop_stop(void)
{
	if (cur)
		cur->running = false;
}
