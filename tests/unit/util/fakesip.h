/**
 * @file fakesip.h  A SIP stack without sockets, for transaction-level tests.
 *
 * fake_env_open() makes an event loop with a frozen clock at FAKE_T0 and a
 * stack whose every send lands in fake_sent[] with the time it was sent;
 * fake_run_to() moves the clock, firing each timer at its own time, so a
 * test can assert retransmission intervals to the millisecond.
 */
#ifndef IMS_TEST_FAKESIP_H
#define IMS_TEST_FAKESIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/sa.h"
#include "sip/sip.h"
#include "sip/transp.h"

#define FAKE_T0       1000000u /* the frozen clock starts here */
#define FAKE_SENT_MAX 64

struct fake_sent {
	char p[2048];
	size_t len;
	uint64_t t; /* ms since FAKE_T0 */
	enum sip_transp tp;
	struct sa dst;
};

extern struct fake_sent fake_sent[FAKE_SENT_MAX];
extern size_t fake_nsent;
extern int fake_send_err; /* when set, every send fails with it */

int fake_send(struct sip *sip, enum sip_transp tp, const struct sa *dst,
	      struct sip_conn *conn, const void *p, size_t len);
/* Loop, frozen clock, stack with handlers (may be NULL), empty record. */
struct sip *fake_env_open(sip_req_h *reqh, sip_resp_h *resph, void *arg);
/* Close and free the stack; asserts that no timer is left. */
void fake_env_close(struct sip *sip);
uint64_t fake_now(void); /* ms since FAKE_T0 */
void fake_run_to(uint64_t t);
bool fake_sent_starts(size_t i, const char *prefix);
bool fake_sent_has(size_t i, const char *s);

#endif
