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
 *
 * A next hop given by name is located with RFC 3263 (sip/dns.h: NAPTR,
 * SRV, A/AAAA) when the hop carries a resolver; the request then leaves
 * from the event loop once the answer is in, and a transport failure, a
 * timeout or a 503 before any provisional response sends it again (new
 * branch) to the next target the resolver gave (RFC 3263 4.3).
 *
 * The handle (struct cscf_fwd) is the caller's only reference, like a
 * client transaction's: releasing it at any time stops the callbacks (an
 * INVITE without a final answer is then cancelled by its transaction, a
 * lookup still running is dropped).
 */
#ifndef IMS_CSCF_FWD_H
#define IMS_CSCF_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/mem.h"
#include "net/sa.h"
#include "sip/transp.h"

struct sip;
struct sip_dns;
struct sip_msg;
struct sip_ctrans;
struct sip_strans;
struct sip_conn;
struct cscf_fwd;

/* Where the request goes: a flow (a phone's connection or NAT binding),
 * else the URI, else the top Route, else the Request-URI.  A numeric
 * host is used as it is (RFC 3263 4.1, 4.2); a name needs dns
 * (EHOSTUNREACH without it). */
struct cscf_hop {
	const char *uri;
	bool has_flow;
	enum sip_transp tp;
	struct sa dst;
	struct sip_conn *conn; /* not counted */
	/* a Record-Route value put on top (RFC 3261 16.6 step 4), e.g.
	 * "<sip:host:port;lr>"; NULL: none */
	const char *rr;
	/* RFC 3263 resolver for names (not counted); NULL: names are
	 * unreachable */
	struct sip_dns *dns;
};

/* A response (err 0) or the end without one (msg NULL): ETIMEDOUT, a
 * transport error, EHOSTUNREACH or the resolver's error (the name did
 * not resolve), ECANCELED (cancelled while the name was looked up); err 0
 * with msg NULL: an INVITE's transaction left Accepted (RFC 6026). */
typedef void(cscf_fwd_h)(int err, struct sip_msg *msg, void *arg);

/* Send req on; *fp receives the handle (mem_deref it when done).  The
 * request is copied when a lookup is needed.  ELOOP: Max-Forwards is 0
 * (answer 483); EHOSTUNREACH: a name and no resolver (answer 502);
 * EPROTONOSUPPORT: not a sip/sips URI (416).  Errors found later (the
 * lookup, every target failing) arrive through h, from the loop. */
int cscf_fwd_request(struct cscf_fwd **fp, struct sip *sip, struct sip_msg *req,
		     const struct cscf_hop *hop, cscf_fwd_h *h,
		     void *arg) IMS_MUST_CHECK;

/* Cancel a forwarded INVITE (RFC 3261 9.1, 16.10): the transaction sends
 * CANCEL once a provisional came; no further target is tried; a lookup
 * still running ends with ECANCELED through h. */
int cscf_fwd_cancel(struct cscf_fwd *f) IMS_MUST_CHECK;

/* Is it still waiting for a lookup or a response? */
bool cscf_fwd_active(const struct cscf_fwd *f);

/* Send req on without a transaction (an ACK for a 2xx, RFC 3261 16.11
 * and 17.1: it has none): our Via, Max-Forwards - 1, one send.  A name
 * is looked up first and the copy sent from the loop to the first target
 * (nothing retries an ACK). */
int cscf_fwd_stateless(struct sip *sip, struct sip_msg *req,
		       const struct cscf_hop *hop) IMS_MUST_CHECK;

/* Relay a response on the server transaction, without its top Via. */
int cscf_fwd_response(struct sip_strans *st,
		      struct sip_msg *resp) IMS_MUST_CHECK;

/* A role's resolver for names: servers "IP" or "IP:PORT" (port 53 by
 * default; none: /etc/resolv.conf).  EINVAL for a bad server, msg says
 * which; a resolver that cannot be created is logged, *dp stays NULL and
 * 0 is returned (numeric next hops still work). */
int cscf_fwd_dns_alloc(struct sip_dns **dp, const struct conf_list *servers,
		       char *msg, size_t size) IMS_MUST_CHECK;

/* The status code a forwarding error is answered with. */
uint16_t cscf_fwd_scode(int err);

#endif
