/**
 * @file events.h  What the HSS application keeps in the store beyond the
 * subscriber model (migration 002_hss_events.sql):
 *
 * - the outbox of HSS-initiated requests: provisioning, in another
 *   process, writes "profile changed for subscription X" or "deregister
 *   identity Y" and the HSS process (hss_poll_events) sends the PPR or
 *   RTR (TS 29.228 6.1.3, 6.2.2);
 * - the S-CSCF bookkeeping of TS 29.228 6.3 that store.h does not model:
 *   the "pending" S-CSCF named by a MAR while the user is registered
 *   elsewhere, and the Diameter identity (Origin-Host/Realm of its SAR)
 *   of the assigned S-CSCF, where RTR and PPR are sent.
 *
 * Same conventions as store.h (0 or errno; ENOENT unknown entity).
 */
#ifndef IMS_STORE_EVENTS_H
#define IMS_STORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"

struct store;

enum store_event_kind {
	STORE_EV_PROFILE = 1, /* subject: subscription name -> PPR */
	STORE_EV_DEREG = 2,   /* subject: IMPU or IMPI -> RTR */
};

struct store_event {
	struct le le;
	int64_t id;
	enum store_event_kind kind;
	char *subject;
	uint32_t reason; /* RTR Reason-Code */
	int64_t created; /* Unix time */
};

/* Queue an event (any process).  EINVAL for an unknown kind or no
 * subject. */
int store_event_add(struct store *st, enum store_event_kind kind,
		    const char *subject, uint32_t reason) IMS_MUST_CHECK;
/* The oldest events, at most max, appended to out (counted refs). */
int store_event_list(struct store *st, size_t max,
		     struct list *out) IMS_MUST_CHECK;
/* Remove a handled event (ENOENT when already gone). */
int store_event_delete(struct store *st, int64_t id) IMS_MUST_CHECK;

/* The S-CSCF a MAR named while another is assigned (NULL clears). */
int store_scscf_pending_set(struct store *st, const char *sub,
			    const char *scscf) IMS_MUST_CHECK;
/* The Diameter identity of the assigned S-CSCF (NULLs clear). */
int store_scscf_peer_set(struct store *st, const char *sub, const char *host,
			 const char *realm) IMS_MUST_CHECK;
/* Read them: each output is a mem string or NULL (mem_deref them). */
int store_scscf_peer_get(struct store *st, const char *sub, char **pendingp,
			 char **hostp, char **realmp) IMS_MUST_CHECK;

#endif
