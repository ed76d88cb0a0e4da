/**
 * @file proxy.h  An RFC 3261 section 16 proxy core.
 *
 * The proxy takes a request that no transaction absorbed, checks it
 * (16.3: scheme, Max-Forwards, loops, Proxy-Require), pre-processes its
 * route information (16.4: strict-route compatibility, our own Route
 * entries), determines the targets (16.5: the location service for our
 * domains, else the Request-URI) and forwards to each (16.6), statefully
 * with one client transaction per branch (parallel forking, best response
 * selection 16.7, CANCEL propagation 16.10, Timer C) or statelessly
 * (16.11).  The location service and the authentication policy are
 * callbacks, so the same core serves the plain proxy and, later, the CSCFs.
 */
#ifndef IMS_SIP_PROXY_H
#define IMS_SIP_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/transp.h"

struct sip;
struct sip_msg;
struct sip_uri;
struct sip_conn;
struct proxy;

#define PROXY_FORK_MAX        16
#define PROXY_URI_MAX         512
#define PROXY_DOMAINS_MAX     8
#define PROXY_DNS_PENDING_MAX 4096 /* next-hop lookups in flight */

/* One target of the target set (RFC 3261 16.5). */
struct proxy_target {
	char uri[PROXY_URI_MAX]; /* the new Request-URI */
	uint16_t q;              /* 0..1000 */
	/* the flow the target registered on (RFC 5626 / NAT): when set, the
	 * request goes there whatever the URI says */
	bool has_flow;
	enum sip_transp tp;
	struct sa flow;
	struct sip_conn *conn;    /* not counted: valid during the call */
	char path[PROXY_URI_MAX]; /* Path (RFC 3327) to use as Route */
};

struct proxy_targets {
	struct proxy_target v[PROXY_FORK_MAX];
	size_t n;
};

/* Location service: fill the targets for a Request-URI in our domain
 * (every field of each target added: the array is not zeroed).
 * Return 0 (n may be 0: known but not reachable -> 480), or ENOENT for
 * an address no one has (-> 404). */
typedef int(proxy_locate_h)(struct sip_msg *req, const struct sip_uri *ruri,
			    struct proxy_targets *ts, void *arg);

/* Policy: return 0 to go on, or a status code the proxy answers with (the
 * hook may have answered itself: return 1 then). */
typedef int(proxy_policy_h)(struct sip_msg *req, bool to_us, bool from_us,
			    void *arg);

struct proxy_conf {
	bool stateless;     /* forward statelessly (16.11) */
	bool record_route;  /* stay in the dialog path (default on) */
	uint32_t timer_c_s; /* INVITE Timer C, > 180 s (default 181) */
	char domains[PROXY_DOMAINS_MAX][256]; /* the domains we serve */
	size_t ndomains;
	char advertise[256]; /* host for Via/Record-Route when bound to any */
};

struct proxy_stats {
	uint64_t forwarded, forked, answered_locally;
	uint64_t loops, too_many_hops, stateless;
	uint64_t cancels, timer_c;
};

int proxy_alloc(struct proxy **pp, struct sip *sip,
		const struct proxy_conf *conf, proxy_locate_h *locateh,
		proxy_policy_h *policyh, void *arg) IMS_MUST_CHECK;

/* Handle a request (from the stack's request handler).  Always answers or
 * forwards; returns false only if the request is not for a proxy. */
bool proxy_request(struct proxy *px, struct sip_msg *msg);

/* A response no client transaction took: forward it statelessly to the
 * next Via (16.11, RFC 6026 stray 2xx). */
void proxy_response(struct proxy *px, struct sip_msg *resp);

/* Is this URI one of ours (our addresses, for Route / Record-Route)? */
bool proxy_uri_is_me(const struct proxy *px, const struct sip_uri *uri);
/* Is this host one of the domains we serve? */
bool proxy_domain_is_mine(const struct proxy *px, const struct pl *host);

void proxy_stats(const struct proxy *px, struct proxy_stats *st);

struct sip_dns;
/* Next hops given by name are located with this resolver (RFC 3263);
 * without one they are unreachable (502). */
void proxy_set_dns(struct proxy *px, struct sip_dns *dns);
/* Explicit shutdown: drop forwardings waiting for the resolver. */
void proxy_close(struct proxy *px);

#endif
