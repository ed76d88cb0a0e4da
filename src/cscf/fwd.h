/**
 * @file fwd.h  Stateful forwarding for the CSCF roles.
 *
 * The CSCF modules (cscf/pcscf.h, cscf/icscf.h) decide and rewrite; this
 * sends the rewritten request on with one client transaction (RFC 3261
 * 16.6: our Via on top, Max-Forwards decremented) and relays each
 * response back on the server transaction without our Via (16.7 step 3).
 * Unlike the general proxy core (sip/proxy.h) it does not fork and hands
 * every response to the role first: the P-CSCF must see the 2xx of a
 * REGISTER (TS 24.229 5.2.2.2) and the I-CSCF must be able to pick
 * another S-CSCF on 3xx/480/408 (5.3.1.3).
 */
#ifndef IMS_CSCF_FWD_H
#define IMS_CSCF_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "net/sa.h"
#include "sip/transp.h"

struct sip;
struct sip_msg;
struct sip_ctrans;
struct sip_strans;
struct sip_conn;

/* Where the request goes: a flow (a phone's connection or NAT binding),
 * else the URI, else the top Route, else the Request-URI.  Hosts must be
 * numeric: RFC 3263 resolution of names is not wired yet (EHOSTUNREACH). */
struct cscf_hop {
	const char *uri;
	bool has_flow;
	enum sip_transp tp;
	struct sa dst;
	struct sip_conn *conn; /* not counted */
	/* a Record-Route value put on top (RFC 3261 16.6 step 4), e.g.
	 * "<sip:host:port;lr>"; NULL: none */
	const char *rr;
};

/* A response (err 0) or the end without one (ETIMEDOUT, transport
 * error; msg NULL). */
typedef void(cscf_fwd_h)(int err, struct sip_msg *msg, void *arg);

/* Send req on.  ELOOP: Max-Forwards is 0 (answer 483); EHOSTUNREACH: no
 * numeric next hop (answer 502); EPROTONOSUPPORT: not a sip/sips URI. */
int cscf_fwd_request(struct sip_ctrans **ctp, struct sip *sip,
		     struct sip_msg *req, const struct cscf_hop *hop,
		     cscf_fwd_h *h, void *arg) IMS_MUST_CHECK;

/* Send req on without a transaction (an ACK for a 2xx, RFC 3261 16.11
 * and 17.1: it has none): our Via, Max-Forwards - 1, one send. */
int cscf_fwd_stateless(struct sip *sip, struct sip_msg *req,
		       const struct cscf_hop *hop) IMS_MUST_CHECK;

/* Relay a response on the server transaction, without its top Via. */
int cscf_fwd_response(struct sip_strans *st,
		      struct sip_msg *resp) IMS_MUST_CHECK;

/* The status code a forwarding error is answered with. */
uint16_t cscf_fwd_scode(int err);

#endif
