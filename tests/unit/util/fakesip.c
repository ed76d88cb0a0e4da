/**
 * @file fakesip.c  A SIP stack without sockets (see fakesip.h).
 */
#include "fakesip.h"

/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <string.h>

#include "core/loop.h"
#include "core/mem.h"

struct fake_sent fake_sent[FAKE_SENT_MAX];
size_t fake_nsent;
int fake_send_err;

int fake_send(struct sip *sip, enum sip_transp tp, const struct sa *dst,
	      struct sip_conn *conn, const void *p, size_t len)
{
	struct fake_sent *s;

	(void)sip;
	(void)conn;
	if (fake_send_err)
		return fake_send_err;
	assert_true(fake_nsent < FAKE_SENT_MAX);
	assert_true(len < sizeof(fake_sent[0].p));
	s = &fake_sent[fake_nsent++];
	memcpy(s->p, p, len);
	s->p[len] = '\0';
	s->len = len;
	s->t = tmr_jiffies() - FAKE_T0;
	s->tp = tp;
	s->dst = *dst;
	return 0;
}


struct sip *fake_env_open(sip_req_h *reqh, sip_resp_h *resph, void *arg)
{
	struct sip *sip = NULL;

	loop_close(); /* left over by a failed test, else nothing */
	tmr_test_set_now(FAKE_T0);
	assert_int_equal(loop_init(1024), 0);
	assert_int_equal(sip_alloc(&sip, NULL, reqh, resph, arg), 0);
	sip->sendh = fake_send;
	fake_nsent = 0;
	fake_send_err = 0;
	return sip;
}


void fake_env_close(struct sip *sip)
{
	sip_close(sip);
	mem_deref(sip);
	assert_int_equal(tmr_count(), 0);
	loop_close();
	tmr_test_set_now(0);
}


uint64_t fake_now(void)
{
	return tmr_jiffies() - FAKE_T0;
}


void fake_run_to(uint64_t t)
{
	for (;;) {
		uint64_t d = tmr_next_delay();

		if (d == UINT64_MAX || fake_now() + d > t)
			break;
		tmr_test_set_now(tmr_jiffies() + d);
		tmr_poll();
	}
	tmr_test_set_now(FAKE_T0 + t);
	tmr_poll();
}


bool fake_sent_starts(size_t i, const char *prefix)
{
	return i < fake_nsent &&
	       !strncmp(fake_sent[i].p, prefix, strlen(prefix));
}


bool fake_sent_has(size_t i, const char *s)
{
	return i < fake_nsent && strstr(fake_sent[i].p, s) != NULL;
}
