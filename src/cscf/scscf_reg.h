/**
 * @file scscf_reg.h  The S-CSCF registrar (TS 24.229 5.4.1, TS 29.228
 *                    6.1/6.3, TS 33.203 6.1): authentication with vectors
 *                    from the HSS (MAR), the 401 challenge, SAR, implicit
 *                    registration sets, bindings, RTR/PPR, reg events.
 *
 * scscf_reg_handle() takes a decoded REGISTER that was routed to this
 * S-CSCF (Path from the P-CSCF, P-Visited-Network-ID, maybe credentials)
 * and produces the answer through the caller's scscf_reply_h: status,
 * reason and the header lines for sip_reply_build()'s opts.hdrs.  Most
 * answers need a Cx round trip (MAR, SAR) and come from a later loop
 * iteration; answers that need none (400, 423, ...) come before
 * scscf_reg_handle() returns.  The module opens no socket: Cx goes
 * through the caller's dia_node (cx_client.h), in-process or not.
 *
 * Allocate the registrar before dia_node_start() (it serves RTR and PPR on
 * the node, which the CER must advertise); close the node before
 * releasing the registrar (the node calls into it until then).
 *
 * See docs/internals/scscf-registrar.md.
 */
#ifndef IMS_CSCF_SCSCF_REG_H
#define IMS_CSCF_SCSCF_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "net/sa.h"

struct dia_node;
struct sip_msg;
struct scscf_reg;
struct scscf_store;
struct cx_subscription;
struct ifc_cache;

/* State of a public identity at this S-CSCF (TS 23.228 5.3.2.1). */
enum scscf_reg_state {
	SCSCF_NOT_REGISTERED = 0,
	SCSCF_REGISTERED = 1,
	SCSCF_UNREGISTERED = 2, /* profile kept for unregistered services */
};

/* What happened to a contact (RFC 3680 5.1 event names). */
enum scscf_reg_ev {
	SCSCF_EV_REGISTERED = 0, /* the first contact of the IMPU */
	SCSCF_EV_CREATED,        /* another contact added */
	SCSCF_EV_REFRESHED,
	SCSCF_EV_SHORTENED,
	SCSCF_EV_EXPIRED,
	SCSCF_EV_DEACTIVATED, /* removed by the network, re-register */
	SCSCF_EV_PROBATION,
	SCSCF_EV_UNREGISTERED, /* removed by the user */
	SCSCF_EV_REJECTED,     /* removed by the network, do not retry */
};

struct scscf_reg_conf {
	/* our SIP URI: Server-Name in MAR/SAR, Service-Route host
	 * (e.g. "sip:scscf1.ims.test:6060"); required */
	const char *server_name;
	/* digest realm of the AKA challenges (SIP Digest uses the realm
	 * the HSS gives); NULL: the domain of the IMPU */
	const char *realm;
	uint32_t min_expires;     /* default 60; below: 423 */
	uint32_t max_expires;     /* default 600000 (TS 24.229 5.1.1.2) */
	uint32_t default_expires; /* default 600000 */
	uint32_t max_contacts;    /* per set, default 16 */
	uint32_t auth_timeout_s;  /* a challenge's life, default 60 */
	uint32_t vectors_max;     /* pending challenges per IMPI, default 4 */
	/* TS 33.203 6.1: add ck= and ik= to the 401 for the P-CSCF; only
	 * where the P-CSCF is in our trust domain (it strips them) */
	bool keys_to_pcscf;
	/* TS 24.229 5.4.1.2.1: trust integrity-protected="yes" /
	 * "tls-yes" / "ip-assoc-yes" on a re-registration (only when the
	 * P-CSCF is trusted to set it) */
	bool trust_integrity;
	struct scscf_store *store; /* NULL: memory only */
};

/* A contact that changed, in a registration event. */
struct scscf_reg_event_ct {
	const char *contact;  /* Contact URI */
	const char *instance; /* +sip.instance, or "" */
	const char *path;     /* Path of its REGISTER, comma-joined, or "" */
	const char *call_id;
	uint32_t cseq;
	uint32_t expires;     /* seconds left (0 when gone) */
	int16_t q;            /* 0..1000 */
	enum scscf_reg_ev ev; /* what happened to it */
	bool active;          /* still bound after the change */
};

/* One change of an implicit registration set for the reg-event notifier
 * (RFC 3680, TS 24.229 5.4.2.1.2): the IMPUs it concerns (every
 * registered, non-barred IMPU of the set; or the one IMPU a new profile
 * barred or un-barred) and the contacts that changed, all at once, so
 * that one NOTIFY per subscription carries the whole change.  The other
 * contacts of the IMPUs are unchanged (scscf_reg_lookup() has them, the
 * changed ones included until the callback returns).  Views valid during
 * the callback only. */
struct scscf_reg_event {
	const char *impi;
	const char *const *impu; /* impu_n canonical IMPUs */
	size_t impu_n;
	enum scscf_reg_state state; /* the IMPUs' state after the change */
	const struct scscf_reg_event_ct *ct; /* ct_n changed contacts */
	size_t ct_n;
	/* TS 24.229 5.4.2.1.1: the application servers of the set's iFCs,
	 * which may subscribe; NULL-ended, or NULL */
	const char *const *as_uri;
};

typedef void(scscf_reg_event_h)(const struct scscf_reg_event *ev, void *arg);

/* The answer to one REGISTER (valid during the callback). */
struct scscf_reply {
	int err; /* 0, or ECANCELED when the registrar closed first */
	uint16_t scode;
	const char *reason;
	const char *hdrs; /* extra header lines, each CRLF-ended, or "" */
};

/* A registration state change of one implicit set, for the third-party
 * registration to application servers (TS 24.229 5.4.1.7). */
enum scscf_reg_change_kind {
	SCSCF_RC_INITIAL = 0, /* 5.4.1.2: SAR REGISTRATION, 200 sent */
	SCSCF_RC_RE,          /* 5.4.1.2: a re-registration, 200 sent */
	SCSCF_RC_USER_DEREG,  /* 5.4.1.4: the last contact removed, 200 sent */
	SCSCF_RC_NET_DEREG,   /* 5.4.1.5: RTR, scscf_reg_deregister() */
	SCSCF_RC_TIMEOUT,     /* the last binding expired */
};

/* Views valid during the callback only. */
struct scscf_reg_change {
	enum scscf_reg_change_kind kind;
	const char *impi;
	const char *impu; /* the IMPU registered (a non-barred one) */
	uint32_t expires; /* the longest binding's seconds left; 0: gone */
	/* the REGISTER and the answer sent to it (INITIAL, RE, USER_DEREG);
	 * NULL for the network's changes */
	struct sip_msg *req;
	const struct scscf_reply *rep;
	const struct cx_subscription *prof; /* the set's profile */
	size_t sp_idx;                      /* impu's service profile */
	const struct ifc_cache *ifc;        /* compiled iFCs of prof */
};

typedef void(scscf_reg_change_h)(const struct scscf_reg_change *c, void *arg);

typedef void(scscf_reply_h)(const struct scscf_reply *rep, void *arg);

/* A registered (or stored) contact: a view valid until the registrar
 * next changes.  The S-CSCF reaches it through path (the P-CSCF). */
struct scscf_contact {
	const char *uri;
	const char *params;   /* echoed Contact params */
	const char *path;     /* Path of the REGISTER, comma-joined */
	const char *instance; /* RFC 5626 +sip.instance, "" when none */
	uint32_t reg_id;
	uint16_t q;
	uint32_t expires; /* seconds left */
	const char *call_id;
	uint32_t cseq;
	int tp;        /* transport the REGISTER came on (from the P-CSCF) */
	struct sa src; /* where it came from */
};

/* What the S-CSCF knows about a public identity. */
struct scscf_impu_info {
	enum scscf_reg_state state;
	const char *impi;                   /* the IMPI that registered it */
	bool barred;                        /* TS 29.228 BarringIndication */
	const struct cx_subscription *prof; /* the profile (implicit set) */
	size_t sp_idx;                      /* its service profile in prof */
	const struct ifc_cache *ifc;        /* compiled iFCs of prof */
	const char *hss_host;               /* the HSS that serves it */
};

int scscf_reg_alloc(struct scscf_reg **regp, struct dia_node *node,
		    const struct scscf_reg_conf *conf) IMS_MUST_CHECK;
void scscf_reg_set_eventh(struct scscf_reg *reg, scscf_reg_event_h *h,
			  void *arg);
/* Registration changes (after the 200 was sent, before a removed set's
 * profile is released). */
void scscf_reg_set_changeh(struct scscf_reg *reg, scscf_reg_change_h *h,
			   void *arg);
/* TS 24.229 5.4.1.5: network-initiated de-registration of the implicit
 * set of impu (e.g. DefaultHandling SESSION_TERMINATED of a third-party
 * REGISTER, 5.4.1.7): SAR ADMINISTRATIVE_DEREGISTRATION, every contact
 * "deactivated" in the reg events, a SCSCF_RC_NET_DEREG change.  ENOENT
 * when impu is not registered here. */
int scscf_reg_deregister(struct scscf_reg *reg,
			 const char *impu) IMS_MUST_CHECK;
/* Stop: pending REGISTERs are answered with err ECANCELED, timers stop,
 * Cx answers still in flight are ignored.  Then mem_deref. */
void scscf_reg_close(struct scscf_reg *reg);

/* Process a REGISTER (req may be freed after the call: what is needed is
 * copied).  0: replyh runs exactly once; an errno: it will not. */
int scscf_reg_handle(struct scscf_reg *reg, struct sip_msg *req,
		     scscf_reply_h *replyh, void *arg) IMS_MUST_CHECK;

/* Contacts of a public identity (any IMPU of a registered implicit set),
 * q descending; *np is the number available (may exceed max).  ENOENT
 * when it has none. */
int scscf_reg_lookup(const struct scscf_reg *reg, const char *impu,
		     struct scscf_contact *v, size_t max,
		     size_t *np) IMS_MUST_CHECK;
/* State, IMPI, profile of an IMPU; ENOENT when the S-CSCF has no profile
 * for it.  Views valid until the registrar next changes. */
int scscf_reg_info(const struct scscf_reg *reg, const char *impu,
		   struct scscf_impu_info *info) IMS_MUST_CHECK;

/* TS 24.229 5.4.3.3 / TS 29.228 6.1.2: fetch the profile of a public
 * identity that is not registered here (SAR UNREGISTERED_USER), for a
 * terminating request.  h runs once, later, with 0 and the info, or an
 * errno (ENOENT unknown user, EACCES served by another S-CSCF,
 * ETIMEDOUT, EPROTO ...).  An IMPU already known answers at once
 * (still from a later loop iteration). */
typedef void(scscf_profile_h)(int err, const struct scscf_impu_info *info,
			      void *arg);
int scscf_reg_unregistered_profile(struct scscf_reg *reg, const char *impu,
				   scscf_profile_h *h,
				   void *arg) IMS_MUST_CHECK;

/* Implicit sets and bindings held (tests, statistics). */
size_t scscf_reg_sets(const struct scscf_reg *reg);
size_t scscf_reg_bindings(const struct scscf_reg *reg);

#endif
