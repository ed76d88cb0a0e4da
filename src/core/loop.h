/**
 * @file loop.h  The event loop: file descriptors, timers, end-of-batch hooks.
 *
 * One loop per thread (thread-local), redis ae.c in spirit: epoll for the
 * descriptors, timers (a binary min-heap, plus FIFO lanes for the delays
 * that recur: see loop.c), and hooks that
 * run once after every batch of events so that work can be grouped (one
 * sendmmsg for all replies, one SQL commit for all registrations).
 */
#ifndef IMS_CORE_LOOP_H
#define IMS_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"

enum fd_flags {
	FD_READ = 1,
	FD_WRITE = 2,
	FD_EXCEPT = 4
};

typedef void(fd_h)(int flags, void *arg);
typedef void(tmr_h)(void *arg);
typedef void(loop_hook_h)(void *arg);

struct tmr {
	uint64_t jfs;              /* expiry, ms on the monotonic clock */
	size_t idx;                /* heap position + 1, or 0 */
	struct tmr *lprev, *lnext; /* in a lane */
	unsigned lane;             /* lane + 1, or 0 */
	tmr_h *th;
	void *arg;
};

struct loop_hook {
	struct le le;
	loop_hook_h *h;
	void *arg;
};

int loop_init(size_t maxfds) IMS_MUST_CHECK;
void loop_close(void);
int loop_run(void);
void loop_stop(void);
/* Run one iteration, waiting at most timeout_ms (-1: until an event). */
int loop_poll(int timeout_ms);
/* Under load, wake at most once every `us` microseconds (0: off, the
 * loop's default; entims sets [core] coalesce_us); see loop.c. */
void loop_coalesce(uint32_t us);
uint32_t loop_coalesce_us(void); /* the interval set; 0: off */
bool loop_coalescing(void);      /* waking once an interval now */
uint64_t loop_coalesced(void);   /* intervals slept so far */

int fd_listen(int fd, int flags, fd_h *fh, void *arg) IMS_MUST_CHECK;
void fd_close(int fd);

void loop_hook_add(struct loop_hook *hk, loop_hook_h *h, void *arg);
void loop_hook_remove(struct loop_hook *hk);

uint64_t tmr_jiffies(void);
void tmr_init(struct tmr *t);
void tmr_start(struct tmr *t, uint64_t delay_ms, tmr_h *th, void *arg);
void tmr_cancel(struct tmr *t);
static inline bool tmr_isrunning(const struct tmr *t)
{
	return t->idx != 0 || t->lane != 0;
}
uint64_t tmr_next_delay(void); /* ms to the next timer, UINT64_MAX if none */
size_t tmr_count(void);
/* Fire every expired timer now (used by the loop and by tests). */
void tmr_poll(void);
/* Tests: freeze the clock at `ms` (0 returns to the real clock). */
void tmr_test_set_now(uint64_t ms);

#endif
