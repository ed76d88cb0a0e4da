/**
 * @file pcscf_sub.h  The P-CSCF's reg event subscriptions (TS 24.229
 * 5.2.3, RFC 3680, RFC 6665).
 *
 * After a phone's first registration the P-CSCF subscribes to the reg
 * event of its IMPU at the S-CSCF (pcscf.h's subscribe hook gives what to
 * send), one subscription per IMPU.  This module keeps each subscription
 * dialog (Call-ID, tags, CSeq, remote target and route set, RFC 3261
 * 12.1.2), the granted duration (the 2xx's Expires, then each NOTIFY's
 * Subscription-State expires) and refreshes it in the dialog before it
 * runs out: 600 s before the end when it was granted for more than 1200
 * s, else at half time (TS 24.229 5.2.3).  A NOTIFY whose version leaves a
 * gap (RFC 3680 5.2, regevent_watch) triggers a refresh at once, which
 * brings full state.  When the IMPU has no registration left
 * (pcscf_sub_gone) refreshing stops; the state stays until the terminated
 * NOTIFY or the end of the granted time.
 *
 * No sockets: requests go out through the send hook as decoded messages
 * without a Via (cscf/fwd.c adds it), their outcome comes back with
 * pcscf_sub_response().  Timers run on the thread's loop.
 */
#ifndef IMS_CSCF_PCSCF_SUB_H
#define IMS_CSCF_PCSCF_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "cscf/pcscf.h"
#include "cscf/regevent.h"

struct pcscf_sub;
struct sip_msg;

/* Send req (a SUBSCRIBE, no Via); report its outcome with
 * pcscf_sub_response(id).  A non-zero return is the outcome. */
typedef int(pcscf_sub_send_h)(uint64_t id, struct sip_msg *req, void *arg);

/* contact: our Contact URI for the dialogs.  termh is told of every
 * registration and contact a NOTIFY terminates. */
int pcscf_sub_alloc(struct pcscf_sub **psp, const char *contact,
		    pcscf_sub_send_h *sendh, regevent_term_h *termh,
		    void *arg) IMS_MUST_CHECK;

/* Subscribe as the P-CSCF's subscribe hook asks.  EALREADY when the IMPU
 * has a subscription (it covers every contact; a gone one is revived). */
int pcscf_sub_start(struct pcscf_sub *ps,
		    const struct pcscf_subscribe *s) IMS_MUST_CHECK;

/* The outcome of a SUBSCRIBE sent with id: a response (provisional ones
 * are ignored) or an error with resp NULL. */
void pcscf_sub_response(struct pcscf_sub *ps, uint64_t id, int err,
			struct sip_msg *resp);

/* A NOTIFY for the P-CSCF: the status to answer (200; 481 for no
 * subscription of ours, RFC 6665 4.1.3; 489 / 400 as regevent_watch
 * says).  reason (may be NULL) gets the subscription's end reason when
 * the NOTIFY terminated it, else "". */
uint16_t pcscf_sub_notify(struct pcscf_sub *ps, struct sip_msg *notify,
			  char *reason, size_t size);

/* impu has no registration left: no more refreshes (the S-CSCF ends the
 * subscription itself, TS 24.229 5.4.2.1.2). */
void pcscf_sub_gone(struct pcscf_sub *ps, const char *impu);

/* What is known of one subscription (for tests and diagnostics). */
struct pcscf_sub_info {
	uint32_t expires;    /* granted, seconds (0 until the 2xx) */
	uint64_t refresh_at; /* tmr_jiffies() of the next refresh; 0: none */
	uint64_t end_at;     /* when the granted time runs out; 0: unknown */
	uint32_t cseq;       /* of the last SUBSCRIBE */
	bool confirmed;      /* the dialog exists (2xx or NOTIFY came) */
	bool pending;        /* a SUBSCRIBE is in flight */
	bool gone;           /* no registration left */
};
int pcscf_sub_info(const struct pcscf_sub *ps, const char *impu,
		   struct pcscf_sub_info *info) IMS_MUST_CHECK;
size_t pcscf_sub_count(const struct pcscf_sub *ps);

/* Drop every subscription, no request sent, no hook called (shutdown). */
void pcscf_sub_close(struct pcscf_sub *ps);

#endif
