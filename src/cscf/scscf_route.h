/**
 * @file scscf_route.h  S-CSCF session routing (TS 24.229 5.4.3): service
 *                      invocation over ISC and routing after services.
 *
 * A pure decision module on top of the SIP stack, like pcscf.h: it is given
 * a decoded request that reached the S-CSCF and decides, without sockets,
 * where it goes.  The registrar is reached through a small interface
 * (struct scscf_route_db: scscf_reg_info / scscf_reg_lookup, or a test
 * table), so the module assumes no process layout.
 *
 *  - Session case (5.4.3.2, 5.4.3.3): originating when the top Route is
 *    ours with the "orig" parameter (the Service-Route the registrar gave
 *    out) or when it comes back from an AS with our original-dialog
 *    identifier (odi=) saying so; terminating otherwise (registered or
 *    unregistered, from the served user's state).
 *  - Services: the served user's iFCs (ifc_match) in priority order; each
 *    matching AS gets the request with Route: <AS>, <ours;lr;odi=TOKEN>
 *    and P-Served-User (RFC 5502).  TOKEN is opaque and HMAC-protected: it
 *    carries the session case, the served user and the rank of the next
 *    iFC, so the request that comes back continues after the AS.
 *  - DefaultHandling (TS 29.228 B.2.2): an AS that does not answer (no
 *    response, 408, 5xx) is skipped (SESSION_CONTINUED) or the session
 *    ends (SESSION_TERMINATED: 408 when it was silent, 500 after a 5xx):
 *    scscf_route_as_failed().
 *  - After services, originating: our domains go to the I-CSCF (LIR),
 *    other domains to the caller's DNS (RFC 3263), tel: numbers nobody in
 *    the domain owns to the breakout (BGCF / gateway), else 404.
 *  - After services, terminating: every registered contact in parallel
 *    via its Path; 480 when none; 404 for an unknown user; an unknown
 *    user first needs its profile (SCSCF_ROUTE_FETCH, then
 *    scscf_route_fetched()).
 *  - Call hooks: start (an initial INVITE forwarded), answer (its 2xx),
 *    end (BYE, CANCEL, an error final response), for call records.
 *
 * Subsequent (in-dialog) requests, CANCEL and ACK are forwarded unchanged
 * except for our Route entries; an initial request with a Route left below
 * ours follows it once services are over.
 * See docs/internals/scscf-routing.md.
 */
#ifndef IMS_CSCF_SCSCF_ROUTE_H
#define IMS_CSCF_SCSCF_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "cscf/scscf_reg.h"

struct scscf_route;
struct sip_msg;

#define SCSCF_ROUTE_TARGETS_MAX 16 /* parallel forks of one decision */
#define SCSCF_ROUTE_URI_MAX     512
#define SCSCF_ROUTE_IFC_MAX     64 /* iFCs evaluated per profile */

/* The registrar seen from routing (scscf_reg_info / scscf_reg_lookup with
 * the registrar as arg, or a test table).  Views valid during the call
 * into scscf_route only. */
struct scscf_route_db {
	int (*info)(void *arg, const char *impu, struct scscf_impu_info *info);
	int (*lookup)(void *arg, const char *impu, struct scscf_contact *v,
		      size_t max, size_t *np);
	/* Does anyone in our domains own this tel: number (the E.164 digits
	 * with '+', visual separators removed)?  NULL: only the identities
	 * info() knows. */
	bool (*tel_owned)(void *arg, const char *number);
	void *arg;
};

/* Fill db with the registrar's own lookups (scscf_reg_info and
 * scscf_reg_lookup on reg; tel_owned NULL).  reg must outlive the module. */
void scscf_route_db_from_reg(struct scscf_route_db *db,
			     const struct scscf_reg *reg);

/* The session case being served (TS 24.229 5.4.3.2 / 5.4.3.3). */
enum scscf_sescase {
	SCSCF_SC_ORIG = 0,
	SCSCF_SC_TERM_REG,
	SCSCF_SC_TERM_UNREG,
};

/* A call, for the hooks (views valid during the hook). */
struct scscf_call {
	enum scscf_sescase sc;
	const char *served_user;
	const struct sip_msg *msg; /* INVITE, 2xx, BYE, CANCEL or error */
	uint16_t scode;            /* end: the final status, 0 for BYE */
};

typedef void(scscf_call_h)(const struct scscf_call *c, void *arg);

struct scscf_route_hooks {
	scscf_call_h *call_start;  /* initial INVITE leaves for its target */
	scscf_call_h *call_answer; /* a 2xx to it */
	scscf_call_h *call_end;    /* BYE, CANCEL, or an error final */
};

struct scscf_route_conf {
	const char *uri;      /* ours, as in the Service-Route: required */
	const char *icscf;    /* the I-CSCF for our domains: required */
	const char *breakout; /* BGCF / gateway for foreign tel:, or NULL */
	const char *const *domains; /* our home domains: at least one */
	size_t domains_n;
	const uint8_t *key; /* ODI HMAC key shared by the S-CSCFs behind one
			       name; NULL: 32 random octets */
	size_t key_len;
	uint32_t odi_life_s; /* an ODI is taken back this long (default 120) */
};

enum scscf_route_act {
	SCSCF_ROUTE_REPLY = 1, /* answer scode/reason */
	SCSCF_ROUTE_FORWARD,   /* send each msgv[i] (in parallel) */
	SCSCF_ROUTE_FETCH,     /* terminating user unknown here: fetch its
				  profile (scscf_reg_unregistered_profile
				  on impu), then scscf_route_fetched() */
};

/* Where one forwarded copy goes. */
enum scscf_hop {
	SCSCF_HOP_ROUTE = 1, /* by its Route (in-dialog, preloaded) */
	SCSCF_HOP_AS,        /* an application server (ISC) */
	SCSCF_HOP_ICSCF,     /* our I-CSCF (LIR) */
	SCSCF_HOP_DNS,       /* another domain: RFC 3263 on the R-URI */
	SCSCF_HOP_BREAKOUT,  /* BGCF / gateway for a tel: number */
	SCSCF_HOP_CONTACT,   /* a registered contact, via its Path */
};

struct scscf_route_out {
	enum scscf_route_act act;
	uint16_t scode;
	const char *reason;
	enum scscf_sescase sc;
	char impu[SCSCF_ROUTE_URI_MAX]; /* served user (FETCH: to fetch) */
	enum scscf_hop hop;
	/* FORWARD: rewritten copies (counted), one per target */
	struct sip_msg *msgv[SCSCF_ROUTE_TARGETS_MAX];
	size_t msgc;
	/* FORWARD to an AS: its DefaultHandling (scscf_route_as_failed) */
	bool dh_terminate;
};

int scscf_route_alloc(struct scscf_route **rp,
		      const struct scscf_route_conf *conf,
		      const struct scscf_route_db *db,
		      const struct scscf_route_hooks *hooks,
		      void *arg) IMS_MUST_CHECK;

/* Decide on a request that reached the S-CSCF (out is overwritten; call
 * scscf_route_out_reset after).  0 with out filled, or EINVAL / ENOMEM
 * (answer 500). */
int scscf_route_request(struct scscf_route *r, struct sip_msg *req,
			struct scscf_route_out *out) IMS_MUST_CHECK;

/* After SCSCF_ROUTE_FETCH: err is the profile fetch's (0, ENOENT, ...).
 * 0: decide again with the profile now known; ENOENT: 404; else 480. */
int scscf_route_fetched(struct scscf_route *r, struct sip_msg *req, int err,
			struct scscf_route_out *out) IMS_MUST_CHECK;

/* An AS did not answer the copy `sent` (a msgv[] of an AS forward):
 * scode 0 (no response), 408 or 5xx.  DefaultHandling decides: SESSION_
 * CONTINUED: the request continues after that iFC (out as for a request);
 * SESSION_TERMINATED: REPLY 408 (silent AS) or 500 (5xx).  EINVAL when
 * sent carries no ODI of ours or scode is not such a failure. */
int scscf_route_as_failed(struct scscf_route *r, struct sip_msg *sent,
			  uint16_t scode,
			  struct scscf_route_out *out) IMS_MUST_CHECK;

/* A response to a request forwarded by us (req as received): runs the
 * answer / end hooks for INVITE; no decision to make. */
void scscf_route_response(struct scscf_route *r, struct sip_msg *req,
			  const struct sip_msg *resp);

void scscf_route_out_reset(struct scscf_route_out *out);

/* The original-dialog identifier (opaque, base64url).  Check: EBADMSG
 * (not one of ours), EPERM (HMAC fails), ETIMEDOUT (too old). */
int scscf_route_odi_make(const struct scscf_route *r, enum scscf_sescase sc,
			 const char *served_user, uint32_t next, char *buf,
			 size_t size) IMS_MUST_CHECK;
int scscf_route_odi_check(const struct scscf_route *r, const struct pl *odi,
			  enum scscf_sescase *sc, char *user, size_t usize,
			  uint32_t *next) IMS_MUST_CHECK;

#endif
