/**
 * @file events.h  What the HSS application keeps in the store beyond the
 * subscriber model (migration 002_hss_events.sql):
 *
 * - the outbox of HSS-initiated requests: provisioning, in another
 *   process, writes "profile changed for subscription X" or "deregister
 *   identity Y" and the HSS process (hss_poll_events) sends the PPR or
 *   RTR (TS 29.228 6.1.3, 6.2.2).  A deregistration is a snapshot of the
 *   RTR taken when it is queued (migration 003): destination, User-Name,
 *   public identities, Reason-Code and Reason-Info, so that it can still
 *   be sent when the subscription has been deleted in the meantime;
 * - which private identity registered each implicit registration set
 *   (the User-Name of the SAR REGISTRATION), which RTR and PPR name;
 * - the S-CSCF bookkeeping of TS 29.228 6.3 that store.h does not model:
 *   the "pending" S-CSCF named by a MAR while the user is registered
 *   elsewhere, and the Diameter identity (Origin-Host/Realm of its SAR)
 *   of the assigned S-CSCF, where RTR and PPR are sent.
 *
 * Same conventions as store.h (0 or errno; ENOENT unknown entity).
 */
#ifndef IMS_STORE_EVENTS_H
#define IMS_STORE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"
#include "store/store.h"

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
	/* STORE_EV_DEREG snapshot (store_event_dereg_snapshot); host NULL:
	 * an event without one (queued before migration 003), which the
	 * HSS builds from the store when it handles it */
	char *info;  /* Reason-Info, or NULL */
	char *sub;   /* subscription name: where the RTA applies */
	char *host;  /* Destination-Host: the assigned S-CSCF's */
	char *realm; /* Destination-Realm, or NULL (the home realm) */
	char *impi;  /* User-Name: the IMPI that registered */
	/* whole_impi: no Public-Identity in the RTR (all of impi's
	 * registrations), impus only the ones the RTA sets NOT_REGISTERED;
	 * else impus are the Public-Identity AVPs (each its implicit set) */
	struct store_strv impus;
	bool whole_impi;
};

/* The longest Reason-Info taken (TS 29.229 6.3.18 sets no limit; one
 * line for an operator to read). */
#define STORE_REASON_INFO_MAX 256

/* Queue an event (any process).  EINVAL for an unknown kind or no
 * subject. */
int store_event_add(struct store *st, enum store_event_kind kind,
		    const char *subject, uint32_t reason) IMS_MUST_CHECK;
/* The oldest events, at most max, appended to out (counted refs). */
int store_event_list(struct store *st, size_t max,
		     struct list *out) IMS_MUST_CHECK;
/* The RTR that deregistering identity would send now (TS 29.228
 * 6.1.3): an IMPI (whole_impi: the sets it registered, and the served
 * ones whose registering IMPI is not known) or an IMPU (its implicit set,
 * named by the IMPI that registered it).  *evp is a new event of kind
 * STORE_EV_DEREG, not queued.  ENOENT unknown identity, EALREADY nothing
 * served (no RTR to send), EINVAL a Reason-Info of more than one line or
 * STORE_REASON_INFO_MAX characters. */
int store_event_dereg_snapshot(struct store *st, const char *identity,
			       uint32_t reason, const char *info,
			       struct store_event **evp) IMS_MUST_CHECK;
/* Queue a snapshot (one INSERT, so it lands whole).  EINVAL without
 * subject, host, User-Name or identities. */
int store_event_dereg_add(struct store *st,
			  const struct store_event *ev) IMS_MUST_CHECK;
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

/* The IMPI that registered the implicit set of impu (every IMPU of the
 * set); NULL clears it.  ENOENT unknown impu or impi. */
int store_reg_impi_set(struct store *st, const char *impu,
		       const char *impi) IMS_MUST_CHECK;
/* Read it: *impip a mem string, or NULL when not known.  ENOENT unknown
 * impu. */
int store_reg_impi_get(struct store *st, const char *impu,
		       char **impip) IMS_MUST_CHECK;

#endif
