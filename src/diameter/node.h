/**
 * @file node.h  A Diameter node (RFC 6733 2): identity, listeners, peers,
 *               request handlers, routing, redirects, duplicate detection
 *               and the in-process path between co-located roles.
 *
 * One node per role (or one for all roles in standalone mode).  A server
 * registers a handler per (application, command code); a client sends
 * requests with dia_node_request() and gets the answer, or an errno, in
 * its response handler exactly once.
 *
 *   err = dia_node_alloc(&node, &conf, msg, sizeof(msg));
 *   err = dia_node_handle(node, DIA_APP_CX, DIA_CMD_UA, uar_h, hss);
 *   err = dia_node_start(node);            (listen, connect to peers)
 *   ...
 *   err = dia_node_request(node, uar, &opts, uaa_h, tx);
 *
 * Requests whose destination is served on the same node (or on another
 * node of this thread that joined the in-process directory) are handed to
 * that node's handler directly: no encoding, no socket, the answer comes
 * back on a later loop iteration with the same validation, ids, timeout
 * and logging as over a socket.
 *
 * See docs/internals/diameter-peer.md.
 */
#ifndef IMS_DIAMETER_NODE_H
#define IMS_DIAMETER_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/mem.h"
#include "diameter/peer.h"

struct dia_msg;
struct dia_node;
struct dia_srv_req;

#define DIA_REQ_TIMEOUT_DEFAULT_MS 5000
#define DIA_DUP_TTL_DEFAULT_MS     60000 /* duplicate detection window */
#define DIA_DUP_MAX                4096  /* cached answers */
#define DIA_REDIRECT_MAX           3     /* redirects followed per request */
#define DIA_REDIRECT_CACHE_MAX     4096
#define DIA_PORT_TCP               3868 /* RFC 6733 11.4 */
#define DIA_PORT_TLS               5658

/* Section [diameter] of the ini file; see DIA_NODE_CONF_ITEMS. */
struct dia_node_conf {
	char identity[CONF_STR_MAX]; /* Origin-Host */
	char realm[CONF_STR_MAX];    /* Origin-Realm */
	/* "tcp:127.0.0.1:3868", "tls:[::1]:5658" */
	struct conf_list listen;
	/* "identity" (accept only) or "identity@host:port[;tls]
	 * [;check_addr][;accept_only]"; host an IP address */
	struct conf_list peers;
	/* "realm=peer[;prio=N][;weight=N]" then more peers of the same route
	 * as further entries ("ims.test=hss1,hss2"); realm "*" is the
	 * default route.  Priority: lower first, by default the order. */
	struct conf_list routes;
	/* advertised applications besides those with handlers: "cx", "dx",
	 * "sh", a number (Auth-Application-Id) or "vendor:id" */
	struct conf_list applications;
	char tls_cert[CONF_STR_MAX];
	char tls_key[CONF_STR_MAX];
	char tls_ca[CONF_STR_MAX];
	uint32_t watchdog_s;         /* Tw, default 30 (6 at least) */
	uint32_t reconnect_s;        /* Tc, default 30 */
	uint32_t request_timeout_ms; /* default 5000 */
	int in_process; /* join the process-local directory of nodes */

	/* Set by code only (0: the default; the _ms values win over _s). */
	uint32_t watchdog_ms;
	uint32_t reconnect_ms;
	uint32_t setup_ms;
	uint32_t dup_ttl_ms;
	uint32_t max_conns;
	uint32_t max_pending;
	const char *product;
};

/* Directive-table entries for the caller's table: its struct has a
 * `struct dia_node_conf` member, e.g.
 *   static const struct conf_item items[] = {
 *           DIA_NODE_CONF_ITEMS(struct econf, diameter),
 *           ...
 */
#define DIA_NODE_CONF_ITEM_(type, m, name, t, max)                    \
	{                                                             \
		"diameter." #name, t,                                 \
			offsetof(type, m) +                           \
				offsetof(struct dia_node_conf, name), \
			max                                           \
	}
#define DIA_NODE_CONF_ITEMS(type, m)                                       \
	DIA_NODE_CONF_ITEM_(type, m, identity, CONF_STR, 0),               \
		DIA_NODE_CONF_ITEM_(type, m, realm, CONF_STR, 0),          \
		DIA_NODE_CONF_ITEM_(type, m, listen, CONF_LIST, 0),        \
		DIA_NODE_CONF_ITEM_(type, m, peers, CONF_LIST, 0),         \
		DIA_NODE_CONF_ITEM_(type, m, routes, CONF_LIST, 0),        \
		DIA_NODE_CONF_ITEM_(type, m, applications, CONF_LIST, 0),  \
		DIA_NODE_CONF_ITEM_(type, m, tls_cert, CONF_STR, 0),       \
		DIA_NODE_CONF_ITEM_(type, m, tls_key, CONF_STR, 0),        \
		DIA_NODE_CONF_ITEM_(type, m, tls_ca, CONF_STR, 0),         \
		DIA_NODE_CONF_ITEM_(type, m, watchdog_s, CONF_U32, 3600),  \
		DIA_NODE_CONF_ITEM_(type, m, reconnect_s, CONF_U32, 3600), \
		DIA_NODE_CONF_ITEM_(type, m, request_timeout_ms, CONF_U32, \
				    600000),                               \
		DIA_NODE_CONF_ITEM_(type, m, in_process, CONF_BOOL, 0)

/* The directive table for a struct dia_node_conf on its own (base 0). */
extern const struct conf_item dia_node_conf_items[];

/* A request being served.  The handler's answer (or an error) must come
 * exactly once: by return, or later through dia_node_answer(). */
typedef int(dia_req_h)(const struct dia_msg *req, struct dia_msg **ansp,
		       struct dia_srv_req *sr, void *arg);

/* The answer (err 0, ans set) or why there is none (ETIMEDOUT: no answer
 * in time; EHOSTUNREACH: no route, or no peer came up; ECONNRESET: the
 * peer went down and no other could take the request; EBADMSG: the answer
 * did not validate; ECANCELED: the node closed).  ans is valid during the
 * call (mem_ref to keep it). */
typedef void(dia_resp_h)(int err, const struct dia_msg *ans, void *arg);

struct dia_req_opts {
	const char *dest_host;  /* Destination-Host when the request has none */
	const char *dest_realm; /* Destination-Realm when none (default ours) */
	uint32_t timeout_ms;    /* 0: request_timeout_ms */
	const char *user;       /* redirect cache key for ALL_USER (default:
				   User-Name, else Public-Identity, else
				   User-Identity's) */
};

struct dia_node_stats {
	uint64_t req_sent;   /* requests that left (socket or in-process) */
	uint64_t req_inproc; /* of which in-process */
	uint64_t ans_rcvd;
	uint64_t timeouts;
	uint64_t failovers; /* requests sent again (T flag) */
	uint64_t redirects; /* 3006 followed */
	uint64_t redirect_cache_hits;
	uint64_t req_served;  /* requests received */
	uint64_t dup_hits;    /* answered from the duplicate cache */
	uint64_t dup_dropped; /* duplicates of requests still in progress */
	uint64_t unmatched;   /* answers for no pending request */
	uint64_t dup_cached;  /* answers kept for duplicate detection now */
};

/* Parse the [diameter] values and create the node (nothing opened yet).
 * On error, errmsg says which value is wrong and why. */
int dia_node_alloc(struct dia_node **nodep, const struct dia_node_conf *conf,
		   char *errmsg, size_t errsize) IMS_MUST_CHECK;
/* Open the listeners and connect to the peers that have an address. */
int dia_node_start(struct dia_node *node, char *errmsg,
		   size_t errsize) IMS_MUST_CHECK;
/* dia_node_alloc + dia_node_start, for `entims run`: the handlers are
 * registered by the caller in between with the callback (may be NULL). */
typedef int(dia_node_setup_h)(struct dia_node *node, void *arg);
int dia_node_start_from_conf(struct dia_node **nodep,
			     const struct dia_node_conf *conf,
			     dia_node_setup_h *setuph, void *arg, char *errmsg,
			     size_t errsize) IMS_MUST_CHECK;
/* Graceful stop: DPR (cause) to every open peer; the caller runs the loop
 * a little, then calls dia_node_close. */
void dia_node_shutdown(struct dia_node *node, int cause);
/* Close everything now: pending requests get ECANCELED.  Idempotent;
 * mem_deref frees. */
void dia_node_close(struct dia_node *node);

/* Serve (app, code).  Registering advertises app in CER/CEA (vendor 10415
 * for Cx/Dx and Sh).  EEXIST when taken. */
int dia_node_handle(struct dia_node *node, uint32_t app, uint32_t code,
		    dia_req_h *h, void *arg) IMS_MUST_CHECK;
/* Answer a request later (handler returned EINPROGRESS after taking a
 * reference to sr).  ans NULL: answer 5012 UNABLE_TO_COMPLY (3004
 * TOO_BUSY when err is EBUSY).  Consumes nothing: the caller derefs ans
 * and sr.  EALREADY when answered already. */
int dia_node_answer(struct dia_srv_req *sr, int err,
		    struct dia_msg *ans) IMS_MUST_CHECK;
const struct dia_msg *dia_srv_req_msg(const struct dia_srv_req *sr);
/* The peer it came from ("" for the in-process path). */
const char *dia_srv_req_peer(const struct dia_srv_req *sr);

/* Send a request.  The node takes a reference to req and sets its ids, R
 * flag, Origin-Host/Realm and (from opts, when absent) Destination-Host
 * and -Realm; it may change it again (T flag, Destination-Host after a
 * redirect), so the caller must not change it while it is pending.
 * @return 0: resph will be called exactly once, later; else no call:
 *         EINVAL, EHOSTUNREACH (no route at all), ENOMEM */
int dia_node_request(struct dia_node *node, struct dia_msg *req,
		     const struct dia_req_opts *opts, dia_resp_h *resph,
		     void *arg) IMS_MUST_CHECK;

/* RFC 6733 8.8: "<identity>;<high 32>;<low 32>[;<optional>]", the high
 * part the start time, the low part counting.  ENOSPC when short. */
int dia_node_session_id(struct dia_node *node, const char *opt, char *buf,
			size_t size) IMS_MUST_CHECK;
/* Add a new Session-Id AVP to msg (call first: it goes where it is). */
int dia_node_add_session_id(struct dia_node *node, struct dia_msg *msg,
			    const char *opt) IMS_MUST_CHECK;

/* A realm route added by code (conf "routes" does the same). */
int dia_node_route_add(struct dia_node *node, const char *realm,
		       const char *peer, unsigned prio,
		       unsigned weight) IMS_MUST_CHECK;

const char *dia_node_identity(const struct dia_node *node);
const char *dia_node_realm(const struct dia_node *node);
struct dia_peers *dia_node_peers(const struct dia_node *node);
struct dia_peer *dia_node_peer(const struct dia_node *node,
			       const char *identity);
void dia_node_stats(const struct dia_node *node, struct dia_node_stats *st);
size_t dia_node_pending(const struct dia_node *node);
/* Entries in the redirect cache that are still valid. */
size_t dia_node_redirect_cached(const struct dia_node *node);

/* Parse a DiameterURI (RFC 6733 4.3.1): "aaa://" or "aaas://" FQDN
 * [":" port] [";transport=tcp"] [";protocol=diameter"].  host receives
 * the FQDN (or address); tls is set for aaas; port 0 when absent.
 * EBADMSG when malformed, EPROTONOSUPPORT for a transport other than
 * tcp or a protocol other than diameter. */
int dia_uri_decode(const struct pl *uri, struct pl *host, uint16_t *port,
		   bool *tls) IMS_MUST_CHECK;

#endif
