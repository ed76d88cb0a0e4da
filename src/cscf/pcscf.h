/**
 * @file pcscf.h  The P-CSCF (TS 24.229 5.2): the phone's first hop.
 *
 * A pure request/response module on top of the SIP stack: it is given
 * decoded requests and responses with the flow they came on (msg->tp,
 * src, dst, conn) and decides, without sockets, what happens to them:
 *
 *  - REGISTER from a phone (5.2.2): trusted headers removed, Path with a
 *    flow token (RFC 3327, RFC 5626 5.2 style, HMAC-protected), Require
 *    and Supported "path", P-Visited-Network-ID, P-Charging-Vector with a
 *    new icid-value (RFC 7315 4.6); next hop the home I-CSCF (configured,
 *    or "sip:<home domain>" for the caller to locate by RFC 3263).  The
 *    2xx (pcscf_response) stores per phone (IMPU, contact, flow): the
 *    Service-Route, the P-Associated-URIs and the expiry.
 *  - other requests from a phone (5.2.6.3): 403 unless the flow is
 *    registered; P-Preferred-Identity becomes P-Asserted-Identity when it
 *    is one of the phone's P-Associated-URIs (403 when not), else the
 *    default (first) one is asserted; RFC 3325 trusted headers removed;
 *    the stored Service-Route preloaded as Route (the phone's own Route
 *    set replaced, an operator choice 5.2.6.3.3 allows); P-Charging-Vector
 *    and Record-Route (with the flow token) on initial requests.
 *  - requests from the core (5.2.6.4) carry our Path or Record-Route URI
 *    with the token as top Route: the flow is found from it and handed
 *    back (430 when it is gone, 403 for a forged token); charging headers
 *    are removed and, with "Privacy: id", the P-Asserted-Identity too (the
 *    phone is outside the trust domain, RFC 3325 7).
 *
 * The reg event (5.2.3): after a first registration the subscribe hook
 * gets the SUBSCRIBE parameters; pcscf_phone_drop() is what the wiring
 * calls on a "terminated" NOTIFY, and the drop hook tells it a phone's
 * state is gone (so it can end the subscription).
 *
 * Which requests come from the core: those whose source is one of
 * conf.core (the trust domain, RFC 3325 2.3); everything else is a phone.
 * State is in memory: it is bound to flows (TCP/TLS connections, NAT
 * bindings), which a restart loses anyway; phones register again.
 * See docs/internals/pcscf-icscf.md.
 */
#ifndef IMS_CSCF_PCSCF_H
#define IMS_CSCF_PCSCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/transp.h"

struct pcscf;
struct sip_conn;
struct sip_msg;

#define PCSCF_URI_MAX   512
#define PCSCF_IDS_MAX   16 /* P-Associated-URIs kept per phone */
#define PCSCF_ROUTE_MAX 8  /* Service-Route values kept per phone */
#define PCSCF_TOKEN_MAX 80 /* flow token text, NUL included */

/* A phone's flow: how it reached us, and so how to reach it. */
struct pcscf_flow {
	enum sip_transp tp;
	struct sa src;         /* the phone as seen (after any NAT) */
	struct sip_conn *conn; /* streams; not counted in this view */
};

struct pcscf_conf {
	const char *uri;             /* ours: Path, Record-Route, reg event */
	const char *icscf;           /* the home I-CSCF; NULL: by DNS */
	const char *visited_network; /* P-Visited-Network-ID; NULL: none */
	const char *orig_ioi;        /* P-Charging-Vector orig-ioi, or NULL */
	const struct sa *core;       /* the trust domain's peers (port 0: any
					port of that address) */
	size_t core_n;
	const uint8_t *key; /* flow token HMAC key, shared by the nodes
			       behind one name; NULL: 32 random octets */
	size_t key_len;
	uint32_t max_phones;  /* registrations kept (default 100000) */
	uint32_t reg_expires; /* reg event SUBSCRIBE (default 600000 s) */
};

/* What to do with a message. */
enum pcscf_act {
	PCSCF_REPLY = 1, /* answer scode/reason (requests only) */
	PCSCF_FORWARD,   /* send msg on */
	PCSCF_LOCAL,     /* a request for the P-CSCF itself (the NOTIFY of
			    its reg event subscription): the wiring's */
};

struct pcscf_out {
	enum pcscf_act act;
	uint16_t scode;
	const char *reason;
	struct sip_msg *msg; /* FORWARD: the rewritten message (counted) */
	bool to_phone;       /* FORWARD: send over flow (RFC 5626 5.3) */
	struct pcscf_flow flow;
	/* FORWARD of a REGISTER: the I-CSCF, or "sip:<home domain>" with
	 * locate set (RFC 3263 NAPTR/SRV: sip_dns_locate); otherwise ""
	 * (by Route, then Request-URI) */
	char next_hop[PCSCF_URI_MAX];
	bool locate;
};

/* The reg event subscription to make (TS 24.229 5.2.3). */
struct pcscf_subscribe {
	const char *impu; /* Request-URI and To */
	const char *from; /* our URI; also the P-Asserted-Identity */
	const char *event;
	uint32_t expires;
	const char *const *route; /* the phone's Service-Route values */
	size_t route_n;
	const char *contact; /* the phone's contact it is for */
};

typedef void(pcscf_subscribe_h)(const struct pcscf_subscribe *s, void *arg);
/* A phone's registration (impu, contact) was dropped: expiry,
 * deregistration, pcscf_phone_drop() or close. */
typedef void(pcscf_drop_h)(const char *impu, const char *contact, void *arg);

struct pcscf_hooks {
	pcscf_subscribe_h *subh; /* may be NULL */
	pcscf_drop_h *droph;     /* may be NULL */
};

/* A registration, as a view valid until the P-CSCF next changes. */
struct pcscf_phone {
	const char *impu;
	const char *contact;
	const char *ids[PCSCF_IDS_MAX]; /* P-Associated-URIs, default first */
	size_t ids_n;
	const char *route[PCSCF_ROUTE_MAX]; /* Service-Route */
	size_t route_n;
	struct pcscf_flow flow;
	uint32_t expires; /* seconds left */
};

int pcscf_alloc(struct pcscf **pp, const struct pcscf_conf *conf,
		const struct pcscf_hooks *hooks, void *arg) IMS_MUST_CHECK;
/* Explicit shutdown: drop every registration (no hook called). */
void pcscf_close(struct pcscf *p);

/* Decide on a request (out is overwritten; pcscf_out_reset it after).
 * Returns 0 with out filled, or ENOMEM / EINVAL (answer 500). */
int pcscf_request(struct pcscf *p, struct sip_msg *req,
		  struct pcscf_out *out) IMS_MUST_CHECK;
/* Decide on a response to req (the request as the P-CSCF received it);
 * a 2xx to a REGISTER updates the phone's registration.  out is a
 * FORWARD of the rewritten response. */
int pcscf_response(struct pcscf *p, const struct sip_msg *req,
		   struct sip_msg *resp, struct pcscf_out *out) IMS_MUST_CHECK;
void pcscf_out_reset(struct pcscf_out *out);

/* Is a phone registered on this flow / with this identity (any of its
 * P-Associated-URIs) / with this contact URI?  The contact is not indexed
 * (diagnostics: a walk over every registration). */
bool pcscf_flow_registered(const struct pcscf *p, enum sip_transp tp,
			   const struct sa *src);
bool pcscf_impu_registered(const struct pcscf *p, const struct pl *impu);
bool pcscf_contact_registered(const struct pcscf *p, const struct pl *contact);
/* The registration of impu (its registered IMPU or any associated one);
 * ENOENT when none. */
int pcscf_phone_get(const struct pcscf *p, const struct pl *impu,
		    struct pcscf_phone *ph) IMS_MUST_CHECK;
size_t pcscf_count(const struct pcscf *p);

/* Drop what is kept for impu (every contact when contact is NULL), as on
 * a "terminated" reg event NOTIFY.  ENOENT when nothing matched. */
int pcscf_phone_drop(struct pcscf *p, const struct pl *impu,
		     const struct pl *contact) IMS_MUST_CHECK;

/* The flow token of a flow (the user part of our Path URI), and back.
 * pcscf_token_check: EBADMSG (not a token), EPERM (the HMAC fails). */
int pcscf_token_make(const struct pcscf *p, const struct pcscf_flow *flow,
		     char *buf, size_t size) IMS_MUST_CHECK;
int pcscf_token_check(const struct pcscf *p, const struct pl *token,
		      enum sip_transp *tp, struct sa *src) IMS_MUST_CHECK;

#endif
