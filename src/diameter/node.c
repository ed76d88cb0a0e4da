/**
 * @file node.c  The Diameter node: handlers, routing, pending requests,
 *               failover, redirects, duplicate detection, the in-process
 *               path and the [diameter] configuration.
 *
 * Design (see docs/internals/diameter-peer.md):
 *
 * Server side.  A request (from a peer, already decoded and validated by
 * peer.c, or from the in-process path, validated here) becomes a
 * `struct dia_srv_req`.  Validation errors, a Destination-Host or -Realm
 * that is not ours, and (application, command) pairs without a handler
 * are answered by the node.  A request with the T flag whose
 * (End-to-End id, Origin-Host) is in the duplicate cache gets the cached
 * answer again (RFC 6733 5.5.4); every answer sent to a peer is cached
 * for dup_ttl_ms, at most DIA_DUP_MAX of them, oldest out first (an
 * in-process request is never retransmitted: not cached).
 *
 * Client side.  A request becomes a `struct pend`, in a list (counted)
 * and, while on a peer, in a hash by Hop-by-Hop id.  Routing, in order:
 * a fixed host (a redirect or a redirect cache entry); Destination-Host
 * when it is this node, an in-process node or an open peer; the realm,
 * when this node or an in-process node serves it, then the realm routing
 * table (lowest priority value first, smooth weighted round robin within
 * a priority), then the default route "*", then any open peer of that
 * realm.  When the chosen peers are not open yet, the request waits
 * (they are connected on demand) until one opens or its timer fires.  A
 * peer that turns SUSPECT or DOWN has its requests sent again elsewhere
 * with the T flag (RFC 6733 5.5.4, RFC 3539 Failover()).
 *
 * Answers to in-process requests, and every error, reach the response
 * handler from a zero-delay timer: never from inside dia_node_request or
 * another API call.
 */
#include "diameter/node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "net/sa.h"

#define LOG_MODULE "diameter"

#define ROUTE_PEERS_MAX 8

/* RFC 6733 6.13 */
enum redirect_usage {
	RH_DONT_CACHE = 0,
	RH_ALL_SESSION = 1,
	RH_ALL_REALM = 2,
	RH_REALM_AND_APPLICATION = 3,
	RH_ALL_APPLICATION = 4,
	RH_ALL_HOST = 5,
	RH_ALL_USER = 6,
};

struct handler {
	struct le le;
	uint32_t app;
	uint32_t code;
	dia_req_h *h;
	void *arg;
};

struct route_peer {
	char id[DIA_IDENTITY_MAX + 1];
	unsigned prio;
	unsigned weight;
	long cw; /* smooth weighted round robin (nginx) */
};

struct route {
	struct le le;
	char realm[DIA_IDENTITY_MAX + 1]; /* "*": the default */
	struct route_peer rp[ROUTE_PEERS_MAX];
	size_t n;
};

struct pend {
	struct le le;            /* node->pends (counted) */
	struct le hle;           /* node->by_hbh while on a peer */
	struct dia_node *node;   /* weak */
	struct dia_msg *req;     /* counted */
	struct dia_peer *peer;   /* weak: the peer it is on */
	struct dia_peer *avoid;  /* weak: the peer it failed over from */
	struct dia_node *target; /* weak: in-process destination */
	dia_resp_h *resph;
	void *arg;
	struct tmr tmr;      /* request timeout */
	struct tmr defer;    /* deliveries from the loop */
	struct dia_msg *ans; /* in-process answer to deliver */
	int err;             /* error to deliver */
	bool done;
	bool waiting;
	bool inproc;
	bool sent; /* has left once towards this destination */
	unsigned redirects;
	uint32_t hbh;
	char dest_host[DIA_IDENTITY_MAX + 1];
	char dest_realm[DIA_IDENTITY_MAX + 1];
	char fixed[DIA_IDENTITY_MAX + 1]; /* after a redirect */
	struct dia_peer *fixed_peer;      /* weak: the redirect's peer */
	char user[256];
	char session[256];
};

struct dup {
	struct le hle; /* node->dups (no reference) */
	struct le lle; /* node->dup_lru (counted), oldest first */
	uint32_t e2e;
	char origin[DIA_IDENTITY_MAX + 1];
	struct dia_msg *ans; /* NULL while the request is served */
	uint64_t expires;
};

struct rcache {
	struct le hle; /* node->rcache (counted) */
	char key[300];
	char host[DIA_IDENTITY_MAX + 1];
	uint64_t expires;
};

struct dia_srv_req {
	struct dia_node *node; /* counted */
	struct dia_msg *req;   /* counted */
	struct dia_peer *peer; /* weak: where it came from */
	struct pend *lp;       /* counted: the in-process client */
	struct dup *dup;       /* counted */
	bool answered;
};

struct dia_node {
	struct le dle; /* the in-process directory */
	struct dia_node_conf conf;
	struct dia_peers *ps;
	struct list handlers;
	struct list routes;
	struct list pends;
	struct hash *by_hbh;
	struct hash *dups;
	struct list dup_lru;
	struct hash *rcache;
	size_t nrcache;
	struct dia_app apps[DIA_APPS_MAX];
	size_t napps;
	uint32_t timeout_ms;
	uint32_t sid_hi, sid_lo;
	uint32_t hbh; /* in-process requests */
	bool started, closed;
	struct dia_node_stats st;
};

/* Nodes of this thread that joined the in-process path (the loop, and so
 * every node, belongs to one thread). */
static _Thread_local struct list node_dir;

static int pend_route_send(struct pend *p, bool first);
static void node_close(struct dia_node *node);
static void pend_answer(struct pend *p, const struct dia_msg *ans,
			const struct dia_err *verr);
static void srv_send(struct dia_srv_req *sr, struct dia_msg *ans);


struct conf_wrap {
	struct dia_node_conf c;
};

const struct conf_item dia_node_conf_items[] = {
	DIA_NODE_CONF_ITEMS(struct conf_wrap, c),
	{ NULL, 0, 0, 0 },
};


/* ---- small helpers ---- */

static int errf(char *errmsg, size_t errsize, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *errmsg, size_t errsize, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* ap is started above: clang-analyzer 14 loses track of it across
	 * the format attribute's forward declaration */
	if (errmsg && errsize)
		(void)vsnprintf(errmsg, errsize, fmt, // NOLINT
				ap);
	va_end(ap);
	return err;
}


static void copy_pl(char *dst, size_t size, const struct pl *pl)
{
	if (pl_strcpy(pl, dst, size))
		dst[0] = '\0';
}


static bool str_eq_ci(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}


static const struct handler *handler_find(const struct dia_node *node,
					  uint32_t app, uint32_t code)
{
	struct le *le;

	LIST_FOREACH (&node->handlers, le) {
		const struct handler *h = le->data;
		if (h->app == app && h->code == code)
			return h;
	}
	return NULL;
}


static bool serves_app(const struct dia_node *node, uint32_t app)
{
	struct le *le;

	LIST_FOREACH (&node->handlers, le) {
		const struct handler *h = le->data;
		if (h->app == app)
			return true;
	}
	return false;
}


static uint32_t app_vendor(uint32_t app)
{
	/* TS 29.229 6.1 and TS 29.329 6.1: Vendor-Specific-Application-Id */
	return app == DIA_APP_CX || app == DIA_APP_SH ? DIA_VENDOR_3GPP : 0;
}


static int apps_add(struct dia_node *node, uint32_t app, uint32_t vendor)
{
	size_t i;

	for (i = 0; i < node->napps; i++)
		if (node->apps[i].id == app)
			return 0;
	if (node->napps >= DIA_APPS_MAX)
		return E2BIG;
	node->apps[node->napps].id = app;
	node->apps[node->napps].vendor = vendor;
	node->napps++;
	return node->ps ? dia_peers_set_apps(node->ps, node->apps, node->napps)
			: 0;
}


/* ---- the in-process directory ---- */

static struct dia_node *dir_find_host(const char *host, uint32_t app,
				      uint32_t code)
{
	struct le *le;

	LIST_FOREACH (&node_dir, le) {
		struct dia_node *n = le->data;
		if (!n->closed && str_eq_ci(n->conf.identity, host) &&
		    handler_find(n, app, code))
			return n;
	}
	return NULL;
}


static struct dia_node *dir_find_realm(const char *realm, uint32_t app,
				       uint32_t code)
{
	struct le *le;

	LIST_FOREACH (&node_dir, le) {
		struct dia_node *n = le->data;
		if (!n->closed && str_eq_ci(n->conf.realm, realm) &&
		    handler_find(n, app, code))
			return n;
	}
	return NULL;
}


static bool dir_has(const struct dia_node *node)
{
	struct le *le;

	LIST_FOREACH (&node_dir, le) {
		if (le->data == node)
			return true;
	}
	return false;
}


/* ---- configuration ---- */

static int parse_listen(struct dia_node *node, const char *v, bool *tls,
			struct sa *sa, char *errmsg, size_t errsize)
{
	const char *rest;

	(void)node;
	if (!strncasecmp(v, "tcp:", 4)) {
		*tls = false;
		rest = v + 4;
	} else if (!strncasecmp(v, "tls:", 4)) {
		*tls = true;
		rest = v + 4;
	} else {
		return errf(errmsg, errsize, EINVAL,
			    "diameter.listen: '%s' must start with tcp: or "
			    "tls: (e.g. tcp:127.0.0.1:3868)",
			    v);
	}
	if (sa_decode(sa, rest))
		return errf(errmsg, errsize, EINVAL,
			    "diameter.listen: '%s' is not an address:port "
			    "(e.g. tcp:127.0.0.1:3868 or tls:[::1]:5658)",
			    v);
	return 0;
}


/* "identity" or "identity@host[:port][;tls][;check_addr][;accept_only]" */
static int parse_peer(struct dia_node *node, const char *v, char *errmsg,
		      size_t errsize)
{
	char id[DIA_IDENTITY_MAX + 1], hostport[CONF_STR_MAX];
	const char *at = strchr(v, '@'), *semi;
	unsigned flags = 0;
	bool accept_only = false, has_addr = false;
	struct sa sa;
	size_t idl;
	int err;

	idl = at ? (size_t)(at - v) : strcspn(v, ";");
	if (!idl || idl > DIA_IDENTITY_MAX)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.peers: '%s' needs a Diameter identity "
			    "(an FQDN) before any '@' or ';'",
			    v);
	memcpy(id, v, idl);
	id[idl] = '\0';
	if (strpbrk(id, " \t:/"))
		return errf(errmsg, errsize, EINVAL,
			    "diameter.peers: '%s' is not a Diameter identity",
			    id);
	semi = strchr(v + idl, ';');
	if (at) {
		size_t hl = semi ? (size_t)(semi - at - 1) : strlen(at + 1);
		const char *colon;
		if (!hl || hl >= sizeof(hostport))
			return errf(errmsg, errsize, EINVAL,
				    "diameter.peers: '%s' has no address after "
				    "'@'",
				    v);
		memcpy(hostport, at + 1, hl);
		hostport[hl] = '\0';
		colon = strrchr(hostport, ':');
		if (colon && (hostport[0] != '[' || colon[-1] == ']')) {
			err = sa_decode(&sa, hostport);
		} else {
			err = sa_set_str(&sa, hostport, 0);
		}
		if (err)
			return errf(errmsg, errsize, EINVAL,
				    "diameter.peers: '%s' is not an IP address "
				    "with an optional port (DNS names are not "
				    "resolved here)",
				    hostport);
		has_addr = true;
	}
	while (semi) {
		const char *p = semi + 1;
		size_t l;
		semi = strchr(p, ';');
		l = semi ? (size_t)(semi - p) : strlen(p);
		if (l == 3 && !strncasecmp(p, "tls", 3))
			flags |= DIA_PEER_TLS;
		else if (l == 10 && !strncasecmp(p, "check_addr", 10))
			flags |= DIA_PEER_CHECK_ADDR;
		else if (l == 11 && !strncasecmp(p, "accept_only", 11))
			accept_only = true;
		else
			return errf(errmsg, errsize, EINVAL,
				    "diameter.peers: unknown parameter '%.*s' "
				    "in '%s' (tls, check_addr, accept_only)",
				    (int)l, p, v);
	}
	if (has_addr && !sa_port(&sa))
		sa_set_port(&sa,
			    flags & DIA_PEER_TLS ? DIA_PORT_TLS : DIA_PORT_TCP);
	if ((flags & DIA_PEER_CHECK_ADDR) && !has_addr)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.peers: '%s': check_addr needs an address",
			    v);
	if (accept_only)
		flags |= DIA_PEER_NO_CONNECT;
	err = dia_peer_add(node->ps, id, has_addr ? &sa : NULL, flags, NULL);
	if (err == EEXIST)
		return errf(errmsg, errsize, err,
			    "diameter.peers: '%s' is listed twice", id);
	if (err)
		return errf(errmsg, errsize, err, "diameter.peers: '%s': %s", v,
			    log_strerror(err));
	return 0;
}


/* "peer[;prio=N][;weight=N]" */
static int parse_route_peer(const char *v, struct route_peer *rp,
			    unsigned dflt_prio, char *errmsg, size_t errsize)
{
	const char *semi = strchr(v, ';');
	size_t l = semi ? (size_t)(semi - v) : strlen(v);

	if (!l || l > DIA_IDENTITY_MAX)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.routes: '%s' needs a peer identity", v);
	memcpy(rp->id, v, l);
	rp->id[l] = '\0';
	rp->prio = dflt_prio;
	rp->weight = 1;
	rp->cw = 0;
	while (semi) {
		const char *p = semi + 1;
		char *end;
		unsigned long n;
		semi = strchr(p, ';');
		if (!strncasecmp(p, "prio=", 5) ||
		    !strncasecmp(p, "weight=", 7)) {
			bool prio = p[0] == 'p' || p[0] == 'P';
			n = strtoul(p + (prio ? 5 : 7), &end, 10);
			if (end == p + (prio ? 5 : 7) ||
			    (*end && *end != ';') || n > 65535 || (!prio && !n))
				return errf(errmsg, errsize, EINVAL,
					    "diameter.routes: '%s': prio is "
					    "0-65535, weight 1-65535",
					    v);
			if (prio)
				rp->prio = (unsigned)n;
			else
				rp->weight = (unsigned)n;
		} else {
			return errf(errmsg, errsize, EINVAL,
				    "diameter.routes: '%s': unknown parameter "
				    "(prio=N, weight=N)",
				    v);
		}
	}
	return 0;
}


static struct route *route_get(struct dia_node *node, const char *realm,
			       bool create)
{
	struct route *r;
	struct le *le;

	LIST_FOREACH (&node->routes, le) {
		r = le->data;
		if (str_eq_ci(r->realm, realm))
			return r;
	}
	if (!create)
		return NULL;
	r = mem_zalloc(sizeof(*r), NULL);
	if (!r)
		return NULL;
	(void)snprintf(r->realm, sizeof(r->realm), "%s", realm);
	list_append(&node->routes, &r->le, r);
	return r;
}


static int parse_routes(struct dia_node *node, char *errmsg, size_t errsize)
{
	struct route *cur = NULL;
	size_t i;
	int err;

	for (i = 0; i < node->conf.routes.n; i++) {
		const char *v = node->conf.routes.v[i], *eq = strchr(v, '=');
		const char *semi = strchr(v, ';');
		char realm[DIA_IDENTITY_MAX + 1];

		if (eq && semi && semi < eq)
			eq = NULL; /* "peer;prio=1" continues the route */

		if (eq) {
			size_t l = (size_t)(eq - v);
			if (!l || l > DIA_IDENTITY_MAX)
				return errf(errmsg, errsize, EINVAL,
					    "diameter.routes: '%s' needs a "
					    "realm (or *) before '='",
					    v);
			memcpy(realm, v, l);
			realm[l] = '\0';
			cur = route_get(node, realm, true);
			if (!cur)
				return ENOMEM;
			v = eq + 1;
		} else if (!cur) {
			return errf(errmsg, errsize, EINVAL,
				    "diameter.routes: '%s' must start with "
				    "realm= (e.g. ims.test=hss1.ims.test)",
				    v);
		}
		if (cur->n >= ROUTE_PEERS_MAX)
			return errf(errmsg, errsize, E2BIG,
				    "diameter.routes: more than %d peers for "
				    "realm %s",
				    ROUTE_PEERS_MAX, cur->realm);
		err = parse_route_peer(v, &cur->rp[cur->n], (unsigned)cur->n,
				       errmsg, errsize);
		if (err)
			return err;
		if (!dia_node_peer(node, cur->rp[cur->n].id))
			return errf(errmsg, errsize, EINVAL,
				    "diameter.routes: peer '%s' (realm %s) is "
				    "not in diameter.peers",
				    cur->rp[cur->n].id, cur->realm);
		cur->n++;
	}
	return 0;
}


static int parse_apps(struct dia_node *node, char *errmsg, size_t errsize)
{
	size_t i;
	int err;

	for (i = 0; i < node->conf.applications.n; i++) {
		const char *v = node->conf.applications.v[i];
		unsigned long vendor = 0, id;
		char *end;

		if (!strcasecmp(v, "cx") || !strcasecmp(v, "dx"))
			err = apps_add(node, DIA_APP_CX, DIA_VENDOR_3GPP);
		else if (!strcasecmp(v, "sh"))
			err = apps_add(node, DIA_APP_SH, DIA_VENDOR_3GPP);
		else {
			id = strtoul(v, &end, 10);
			if (*end == ':') {
				vendor = id;
				id = strtoul(end + 1, &end, 10);
			}
			if (end == v || *end || id > UINT32_MAX ||
			    vendor > UINT32_MAX)
				return errf(errmsg, errsize, EINVAL,
					    "diameter.applications: '%s' is "
					    "not cx, dx, sh, an application "
					    "id or vendor:id",
					    v);
			err = apps_add(node, (uint32_t)id, (uint32_t)vendor);
		}
		if (err)
			return errf(errmsg, errsize, err,
				    "diameter.applications: more than %d",
				    DIA_APPS_MAX);
	}
	return 0;
}


/* ---- the node ---- */

static void node_recv(struct dia_peer *peer, struct dia_msg *msg,
		      const struct dia_err *verr, void *arg);
static void node_peer_ev(struct dia_peer *peer, enum dia_peer_event ev,
			 void *arg);

static void dup_destructor(void *arg)
{
	struct dup *d = arg;

	mem_deref(d->ans);
}


static void node_destructor(void *arg)
{
	struct dia_node *node = arg;

	node_close(node);
	mem_deref(node->by_hbh);
	mem_deref(node->dups);
	mem_deref(node->rcache);
}


/**
 * Create a node from its configuration: peers, routes and applications
 * are parsed and set up; nothing is opened (dia_node_start does).
 *
 * @return 0 or EINVAL (errmsg says which value is wrong), ENOMEM
 */
int dia_node_alloc(struct dia_node **nodep, const struct dia_node_conf *conf,
		   char *errmsg, size_t errsize)
{
	struct dia_peers_conf pc;
	struct dia_node *node;
	struct timespec ts;
	size_t i;
	int err;

	if (errmsg && errsize)
		errmsg[0] = '\0';
	if (!nodep || !conf)
		return EINVAL;
	if (!conf->identity[0] || strlen(conf->identity) > DIA_IDENTITY_MAX)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.identity: set it to this node's FQDN "
			    "(e.g. hss.ims.example)");
	if (!conf->realm[0] || strlen(conf->realm) > DIA_IDENTITY_MAX)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.realm: set it to the Diameter realm "
			    "(e.g. ims.example)");
	if (conf->watchdog_s && conf->watchdog_s < 6)
		return errf(errmsg, errsize, EINVAL,
			    "diameter.watchdog_s: %u is below the 6 s "
			    "minimum of RFC 3539 3.4.1",
			    conf->watchdog_s);
	node = mem_zalloc(sizeof(*node), node_destructor);
	if (!node)
		return ENOMEM;
	node->conf = *conf;
	list_init(&node->handlers);
	list_init(&node->routes);
	list_init(&node->pends);
	list_init(&node->dup_lru);
	if (!node->conf.dup_ttl_ms)
		node->conf.dup_ttl_ms = DIA_DUP_TTL_DEFAULT_MS;
	node->timeout_ms = conf->request_timeout_ms
				   ? conf->request_timeout_ms
				   : DIA_REQ_TIMEOUT_DEFAULT_MS;
	clock_gettime(CLOCK_REALTIME, &ts);
	node->sid_hi = (uint32_t)ts.tv_sec;
	node->sid_lo = 0;
	node->hbh = (uint32_t)ts.tv_nsec;

	memset(&pc, 0, sizeof(pc));
	pc.host = node->conf.identity;
	pc.realm = node->conf.realm;
	pc.product = conf->product;
	pc.tw_ms = conf->watchdog_ms ? conf->watchdog_ms
				     : conf->watchdog_s * 1000u;
	pc.tc_ms = conf->reconnect_ms ? conf->reconnect_ms
				      : conf->reconnect_s * 1000u;
	pc.setup_ms = conf->setup_ms;
	pc.max_conns = conf->max_conns;
	pc.max_pending = conf->max_pending;
	pc.tls_cert = conf->tls_cert[0] ? conf->tls_cert : NULL;
	pc.tls_key = conf->tls_key[0] ? conf->tls_key : pc.tls_cert;
	pc.tls_ca = conf->tls_ca[0] ? conf->tls_ca : NULL;
	if (!node->conf.max_pending)
		node->conf.max_pending = DIA_PEER_PENDING_MAX;
	err = dia_peers_alloc(&node->ps, &pc, node_recv, node_peer_ev, node);
	if (!err)
		err = hash_alloc(&node->by_hbh, 256);
	if (!err)
		err = hash_alloc(&node->dups, 1024);
	if (!err)
		err = hash_alloc(&node->rcache, 256);
	if (err) {
		mem_deref(node);
		return errf(errmsg, errsize, err, "diameter: %s",
			    log_strerror(err));
	}
	for (i = 0; !err && i < conf->listen.n; i++) {
		bool tls = false;
		struct sa sa;

		memset(&sa, 0, sizeof(sa));
		err = parse_listen(node, conf->listen.v[i], &tls, &sa, errmsg,
				   errsize);
		if (!err && tls && !pc.tls_cert)
			err = errf(errmsg, errsize, EINVAL,
				   "diameter.listen: '%s' needs "
				   "diameter.tls_cert and tls_key",
				   conf->listen.v[i]);
	}
	for (i = 0; !err && i < conf->peers.n; i++)
		err = parse_peer(node, conf->peers.v[i], errmsg, errsize);
	if (!err)
		err = parse_routes(node, errmsg, errsize);
	if (!err)
		err = parse_apps(node, errmsg, errsize);
	if (err) {
		mem_deref(node);
		return err;
	}
	if (conf->in_process)
		list_append(&node_dir, &node->dle, node);
	*nodep = node;
	return 0;
}


/**
 * Open the listeners and connect to every peer that has an address.
 */
int dia_node_start(struct dia_node *node, char *errmsg, size_t errsize)
{
	struct dia_peer *p;
	size_t i;
	int err;

	if (!node || node->closed)
		return EINVAL;
	if (node->started)
		return 0;
	for (i = 0; i < node->conf.listen.n; i++) {
		bool tls = false;
		struct sa sa;

		memset(&sa, 0, sizeof(sa));
		err = parse_listen(node, node->conf.listen.v[i], &tls, &sa,
				   errmsg, errsize);
		if (!err)
			err = dia_peers_listen(node->ps, tls, &sa);
		if (err)
			return errf(errmsg, errsize, err,
				    "diameter.listen: cannot listen on '%s': "
				    "%s",
				    node->conf.listen.v[i], log_strerror(err));
	}
	node->started = true;
	for (i = 0; (p = dia_peer_at(node->ps, i)); i++) {
		if (dia_peer_has_addr(p) &&
		    dia_peer_state(p) == DIA_PEER_CLOSED) {
			err = dia_peer_connect(p);
			if (err)
				LOG_INFO(NULL, "diameter peer %s: %s",
					 dia_peer_identity(p),
					 log_strerror(err));
		}
	}
	LOG_INFO(NULL, "diameter node %s (realm %s) started, %zu peers",
		 node->conf.identity, node->conf.realm, i);
	return 0;
}


int dia_node_start_from_conf(struct dia_node **nodep,
			     const struct dia_node_conf *conf,
			     dia_node_setup_h *setuph, void *arg, char *errmsg,
			     size_t errsize)
{
	struct dia_node *node = NULL;
	int err;

	if (!nodep)
		return EINVAL;
	err = dia_node_alloc(&node, conf, errmsg, errsize);
	if (err)
		return err;
	if (setuph) {
		err = setuph(node, arg);
		if (err) {
			(void)errf(errmsg, errsize, err,
				   "diameter: setting up the handlers: %s",
				   log_strerror(err));
			goto out;
		}
	}
	err = dia_node_start(node, errmsg, errsize);
out:
	if (err)
		mem_deref(node);
	else
		*nodep = node;
	return err;
}


void dia_node_shutdown(struct dia_node *node, int cause)
{
	struct dia_peer *p;
	size_t i;

	if (!node || node->closed)
		return;
	for (i = 0; (p = dia_peer_at(node->ps, i)); i++)
		if (dia_peer_disconnect(p, cause))
			LOG_DEBUG(NULL, "peer %s: no DPR",
				  dia_peer_identity(p));
}


static void pend_unhash(struct pend *p)
{
	if (p->hle.list)
		hash_unlink(p->node->by_hbh, &p->hle);
	if (p->peer) {
		dia_peer_pending_dec(p->peer);
		p->peer = NULL;
	}
}


/* Finish a request: out of every table, then the handler, once. */
static void pend_done(struct pend *p, int err, const struct dia_msg *ans)
{
	dia_resp_h *h = p->resph;

	if (p->done)
		return;
	p->done = true;
	tmr_cancel(&p->tmr);
	tmr_cancel(&p->defer);
	pend_unhash(p);
	if (err == ETIMEDOUT)
		p->node->st.timeouts++;
	if (err)
		LOG_DEBUG(NULL, "request %u/%u e2e %08x: %s", p->req->app,
			  p->req->code, p->req->e2e, log_strerror(err));
	mem_ref(p);
	if (p->le.list) {
		list_unlink(&p->le);
		mem_deref(p); /* the list's */
	}
	if (h)
		h(err, ans, p->arg);
	mem_deref(p);
}


static void node_close(struct dia_node *node)
{
	if (node->closed)
		return;
	node->closed = true;
	if (node->dle.list)
		list_unlink(&node->dle);
	while (node->pends.head)
		pend_done(node->pends.head->data, ECANCELED, NULL);
	dia_peers_close(node->ps);
	node->ps = mem_deref(node->ps);
	list_flush(&node->handlers);
	list_flush(&node->routes);
	while (node->dup_lru.head) {
		struct dup *d = node->dup_lru.head->data;
		hash_unlink(node->dups, &d->hle);
		list_unlink(&d->lle);
		mem_deref(d);
	}
	if (node->rcache)
		hash_flush(node->rcache);
	node->nrcache = 0;
}


/**
 * Close now: pending requests get ECANCELED (their handlers run from
 * here), peers are dropped without DPR (dia_node_shutdown first for a
 * graceful stop), the node leaves the in-process directory.
 */
void dia_node_close(struct dia_node *node)
{
	if (!node || node->closed)
		return;
	mem_ref(node); /* a response handler may drop the last reference */
	node_close(node);
	mem_deref(node);
}


int dia_node_handle(struct dia_node *node, uint32_t app, uint32_t code,
		    dia_req_h *h, void *arg)
{
	struct handler *hd;
	int err;

	if (!node || !h || node->closed)
		return EINVAL;
	if (handler_find(node, app, code))
		return EEXIST;
	err = apps_add(node, app, app_vendor(app));
	if (err)
		return err;
	hd = mem_zalloc(sizeof(*hd), NULL);
	if (!hd)
		return ENOMEM;
	hd->app = app;
	hd->code = code;
	hd->h = h;
	hd->arg = arg;
	list_append(&node->handlers, &hd->le, hd);
	return 0;
}


/* ---- duplicate detection (RFC 6733 5.5.4) ---- */

static uint32_t dup_key(uint32_t e2e, const char *origin)
{
	return e2e ^ hash_fast_ci(origin, strlen(origin));
}


static void dup_expire(struct dia_node *node)
{
	uint64_t now = tmr_jiffies();

	while (node->dup_lru.head) {
		struct dup *d = node->dup_lru.head->data;
		if (d->expires > now && node->dup_lru.n < DIA_DUP_MAX)
			break;
		hash_unlink(node->dups, &d->hle);
		list_unlink(&d->lle);
		mem_deref(d);
	}
}


static struct dup *dup_find(struct dia_node *node, uint32_t e2e,
			    const char *origin)
{
	struct le *le;

	dup_expire(node);
	LIST_FOREACH (hash_list(node->dups, dup_key(e2e, origin)), le) {
		struct dup *d = le->data;
		if (d->e2e == e2e && str_eq_ci(d->origin, origin))
			return d;
	}
	return NULL;
}


static struct dup *dup_add(struct dia_node *node, uint32_t e2e,
			   const char *origin)
{
	struct dup *d = dup_find(node, e2e, origin);

	if (d) {
		/* the same ids without the T flag: a new request */
		hash_unlink(node->dups, &d->hle);
		list_unlink(&d->lle);
		mem_deref(d);
	}
	d = mem_zalloc(sizeof(*d), dup_destructor);
	if (!d)
		return NULL;
	d->e2e = e2e;
	(void)snprintf(d->origin, sizeof(d->origin), "%s", origin);
	d->expires = tmr_jiffies() + node->conf.dup_ttl_ms;
	hash_append(node->dups, dup_key(e2e, origin), &d->hle, d);
	list_append(&node->dup_lru, &d->lle, d);
	return d;
}


/* ---- server side ---- */

static void srv_destructor(void *arg)
{
	struct dia_srv_req *sr = arg;

	mem_deref(sr->req);
	mem_deref(sr->lp);
	mem_deref(sr->dup);
	mem_deref(sr->node);
}


static int add_origin_if_absent(const struct dia_node *node, struct dia_msg *m)
{
	int err = 0;

	if (!dia_avp_find(&m->root, DIA_AVP_ORIGIN_HOST, 0))
		err = dia_add_str(&m->root, DIA_AVP_ORIGIN_HOST, 0,
				  node->conf.identity);
	if (!err && !dia_avp_find(&m->root, DIA_AVP_ORIGIN_REALM, 0))
		err = dia_add_str(&m->root, DIA_AVP_ORIGIN_REALM, 0,
				  node->conf.realm);
	return err;
}


/* The node's own answer: a Result-Code with Error-Message and Failed-AVP
 * as de says. */
static void srv_error(struct dia_srv_req *sr, const struct dia_err *de)
{
	static const uint32_t keep[] = {
		DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
		DIA_AVP_AUTH_SESSION_STATE,
	};
	struct dia_msg *ans = NULL;
	const struct dia_avp *a;
	size_t i;
	int err;

	err = dia_msg_answer_alloc(&ans, sr->req);
	if (!err)
		err = dia_msg_add_error(ans, de);
	/* a 5xxx answer (no E bit) follows the command's grammar: Cx and
	 * Sh answers need these two, echoed from the request */
	for (i = 0; !err && i < sizeof(keep) / sizeof(keep[0]); i++) {
		a = dia_avp_find(&sr->req->root, keep[i], 0);
		if (a)
			err = dia_add_copy(&ans->root, a);
	}
	if (!err)
		srv_send(sr, ans);
	else
		sr->answered = true;
	mem_deref(ans);
}


static void srv_error_code(struct dia_srv_req *sr, uint32_t rcode,
			   const char *reason)
{
	struct dia_err de;

	memset(&de, 0, sizeof(de));
	de.rcode = rcode;
	de.reason = reason;
	srv_error(sr, &de);
}


static void pend_defer_h(void *arg);

/* Deliver an answer to where the request came from. */
static void srv_deliver(struct dia_srv_req *sr, struct dia_msg *ans)
{
	struct dia_node *node = sr->node;
	int err;

	if (sr->lp) {
		struct pend *lp = sr->lp;
		if (lp->done)
			return;
		mem_deref(lp->ans);
		lp->ans = mem_ref(ans);
		tmr_start(&lp->defer, 0, pend_defer_h, lp);
		return;
	}
	if (node->closed || !dia_peer_is_open(sr->peer)) {
		LOG_INFO(NULL,
			 "answer %u e2e %08x: its peer is gone, dropped "
			 "(a retransmission will find it cached)",
			 ans->code, ans->e2e);
		return;
	}
	err = dia_peer_send(sr->peer, ans);
	if (err)
		LOG_WARN(NULL, "answer %u to %s: %s", ans->code,
			 dia_peer_identity(sr->peer), log_strerror(err));
}


static void srv_send(struct dia_srv_req *sr, struct dia_msg *ans)
{
	if (sr->answered)
		return;
	sr->answered = true;
	ans->flags &= (uint8_t) ~(DIA_FLAG_R | DIA_FLAG_T);
	ans->hbh = sr->req->hbh;
	ans->e2e = sr->req->e2e;
	if (add_origin_if_absent(sr->node, ans)) {
		LOG_WARN(NULL, "answer %u: out of memory", ans->code);
		return;
	}
	if (sr->dup) {
		mem_deref(sr->dup->ans);
		sr->dup->ans = mem_ref(ans);
	}
	srv_deliver(sr, ans);
}


int dia_node_answer(struct dia_srv_req *sr, int err, struct dia_msg *ans)
{
	if (!sr)
		return EINVAL;
	if (sr->answered)
		return EALREADY;
	if (sr->node->closed) {
		sr->answered = true;
		return ECANCELED;
	}
	if (ans && !err)
		srv_send(sr, ans);
	else if (err == EBUSY)
		srv_error_code(sr, DIA_TOO_BUSY, "busy");
	else
		srv_error_code(sr, DIA_UNABLE_TO_COMPLY, "request failed");
	return 0;
}


const struct dia_msg *dia_srv_req_msg(const struct dia_srv_req *sr)
{
	return sr ? sr->req : NULL;
}


const char *dia_srv_req_peer(const struct dia_srv_req *sr)
{
	return sr && sr->peer ? dia_peer_identity(sr->peer) : "";
}


/* Serve one request (the node has a reference to sr for the call). */
static void serve(struct dia_node *node, struct dia_srv_req *sr,
		  const struct dia_err *verr)
{
	const struct dia_msg *req = sr->req;
	char origin[DIA_IDENTITY_MAX + 1] = "";
	const struct handler *h;
	struct dia_msg *ans = NULL;
	struct pl v;
	int err;

	node->st.req_served++;
	if (!dia_get_pl(&req->root, DIA_AVP_ORIGIN_HOST, 0, &v))
		copy_pl(origin, sizeof(origin), &v);
	if (verr) {
		LOG_INFO(NULL, "request %u from %s refused: %u %s", req->code,
			 origin, verr->rcode, verr->reason ? verr->reason : "");
		srv_error(sr, verr);
		return;
	}
	if (req->flags & DIA_FLAG_T) {
		struct dup *d = dup_find(node, req->e2e, origin);
		if (d && d->ans) {
			/* RFC 6733 5.5.4: the same answer again */
			node->st.dup_hits++;
			LOG_INFO(NULL,
				 "request %u e2e %08x from %s is a "
				 "duplicate: cached answer sent",
				 req->code, req->e2e, origin);
			sr->answered = true;
			d->ans->hbh = req->hbh;
			srv_deliver(sr, d->ans);
			return;
		}
		if (d) {
			node->st.dup_dropped++;
			sr->answered = true;
			return; /* still being served: its answer will come */
		}
	}
	if (!dia_get_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0, &v) &&
	    !pl_eq_str_ci(&v, node->conf.identity)) {
		srv_error_code(sr, DIA_UNABLE_TO_DELIVER,
			       "Destination-Host is not this node");
		return;
	}
	if (!dia_get_pl(&req->root, DIA_AVP_DESTINATION_REALM, 0, &v) &&
	    !pl_eq_str_ci(&v, node->conf.realm)) {
		srv_error_code(sr, DIA_REALM_NOT_SERVED,
			       "Destination-Realm is not served here");
		return;
	}
	h = handler_find(node, req->app, req->code);
	if (!h) {
		if (serves_app(node, req->app))
			srv_error_code(sr, DIA_COMMAND_UNSUPPORTED,
				       "command not served");
		else
			srv_error_code(sr, DIA_APPLICATION_UNSUPPORTED,
				       "application not served");
		return;
	}
	/* an in-process request is never sent again with the T flag (the
	 * client is in this process and fails over nowhere): its answer is
	 * not kept for duplicate detection */
	if (!sr->lp)
		sr->dup = mem_ref(dup_add(node, req->e2e, origin));
	err = h->h(req, &ans, sr, h->arg);
	if (err == EINPROGRESS && !ans)
		return; /* dia_node_answer later */
	if (!err && ans)
		srv_send(sr, ans);
	else if (dia_node_answer(sr, err ? err : EINVAL, NULL))
		LOG_DEBUG(NULL, "request %u: answered already", req->code);
	mem_deref(ans);
}


static int srv_alloc(struct dia_srv_req **srp, struct dia_node *node,
		     struct dia_msg *req)
{
	struct dia_srv_req *sr = mem_zalloc(sizeof(*sr), srv_destructor);

	if (!sr)
		return ENOMEM;
	sr->node = mem_ref(node);
	sr->req = mem_ref(req);
	*srp = sr;
	return 0;
}


/* ---- client side ---- */

static void pend_destructor(void *arg)
{
	struct pend *p = arg;

	tmr_cancel(&p->tmr);
	tmr_cancel(&p->defer);
	mem_deref(p->req);
	mem_deref(p->ans);
}


static void pend_fail(struct pend *p, int err)
{
	if (p->done)
		return;
	p->err = err;
	p->ans = mem_deref(p->ans);
	tmr_start(&p->defer, 0, pend_defer_h, p);
}


/* In-process dispatch, an in-process answer, or an error: always from a
 * zero-delay timer. */
static void pend_defer_h(void *arg)
{
	struct pend *p = arg;
	struct dia_node *t = p->target;
	struct dia_srv_req *sr = NULL;
	struct dia_err de;

	if (p->done)
		return;
	if (p->err) {
		pend_done(p, p->err, NULL);
		return;
	}
	if (p->ans) {
		struct dia_msg *ans = p->ans;
		bool bad;
		p->ans = NULL;
		memset(&de, 0, sizeof(de));
		bad = dia_msg_validate(ans, &de) != 0;
		pend_answer(p, ans, bad ? &de : NULL);
		mem_deref(ans);
		return;
	}
	/* dispatch to the in-process node */
	if (!t || t->closed || (t != p->node && !dir_has(t))) {
		pend_done(p, EHOSTUNREACH, NULL);
		return;
	}
	if (srv_alloc(&sr, t, p->req)) {
		pend_done(p, ENOMEM, NULL);
		return;
	}
	sr->lp = mem_ref(p);
	memset(&de, 0, sizeof(de));
	mem_ref(p);
	serve(t, sr, dia_msg_validate(p->req, &de) ? &de : NULL);
	mem_deref(sr);
	mem_deref(p);
}


static void pend_tmr_h(void *arg)
{
	struct pend *p = arg;

	LOG_INFO(NULL, "request %u e2e %08x to %s%s%s: no answer in time",
		 p->req->code, p->req->e2e, p->fixed[0] ? p->fixed : "",
		 p->fixed[0] ? "" : p->dest_host,
		 p->fixed[0] || p->dest_host[0] ? "" : p->dest_realm);
	pend_done(p, ETIMEDOUT, NULL);
}


static bool peer_usable(const struct dia_node *node, struct dia_peer *peer,
			const struct pend *p)
{
	return dia_peer_is_open(peer) && peer != p->avoid &&
	       dia_peer_wd(peer) == DIA_WD_OKAY &&
	       dia_peer_has_app(peer, p->req->app) &&
	       dia_peer_pending(peer) < node->conf.max_pending;
}


/* A peer that is not open: connect it on demand.
 * @return true when it may open (the request can wait for it) */
static bool peer_kick(struct dia_peer *peer)
{
	enum dia_peer_state st = dia_peer_state(peer);

	if (st == DIA_PEER_CLOSING)
		return false;
	if (st != DIA_PEER_CLOSED)
		return true;
	if (!dia_peer_has_addr(peer))
		return false;
	return dia_peer_connect(peer) == 0 ||
	       dia_peer_state(peer) != DIA_PEER_CLOSED;
}


/* RFC 6733 2.7 realm routing with priorities and weights. */
static struct dia_peer *route_pick(struct dia_node *node, struct route *r,
				   const struct pend *p, bool *wait)
{
	struct dia_peer *peers[ROUTE_PEERS_MAX];
	unsigned best = UINT32_MAX;
	struct route_peer *chosen = NULL;
	long total = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		peers[i] = dia_node_peer(node, r->rp[i].id);
		if (peers[i] && peer_usable(node, peers[i], p) &&
		    r->rp[i].prio < best)
			best = r->rp[i].prio;
	}
	if (best == UINT32_MAX) {
		for (i = 0; i < r->n; i++)
			if (peers[i] && peers[i] != p->avoid &&
			    peer_kick(peers[i]))
				*wait = true;
		return NULL;
	}
	for (i = 0; i < r->n; i++) {
		if (!peers[i] || r->rp[i].prio != best ||
		    !peer_usable(node, peers[i], p))
			continue;
		r->rp[i].cw += r->rp[i].weight;
		total += r->rp[i].weight;
		if (!chosen || r->rp[i].cw > chosen->cw)
			chosen = &r->rp[i];
	}
	if (!chosen)
		return NULL;
	chosen->cw -= total;
	return dia_node_peer(node, chosen->id);
}


/* Where the request goes: *peerp or *targetp.
 * @return 0, EAGAIN (wait for a peer to open) or EHOSTUNREACH */
static int route_select(struct dia_node *node, struct pend *p,
			struct dia_peer **peerp, struct dia_node **targetp)
{
	uint32_t app = p->req->app, code = p->req->code;
	struct dia_peer *peer;
	struct route *r;
	struct pl pl;
	bool wait = false;
	size_t i;

	*peerp = NULL;
	*targetp = NULL;
	if (p->fixed[0]) {
		if (str_eq_ci(p->fixed, node->conf.identity) &&
		    handler_find(node, app, code)) {
			*targetp = node;
			return 0;
		}
		if (node->conf.in_process &&
		    (*targetp = dir_find_host(p->fixed, app, code)))
			return 0;
		pl_set_str(&pl, p->fixed);
		peer = p->fixed_peer ? p->fixed_peer
				     : dia_peer_lookup(node->ps, &pl);
		if (!peer)
			return EHOSTUNREACH;
		if (dia_peer_is_open(peer) && peer != p->avoid &&
		    dia_peer_pending(peer) < node->conf.max_pending) {
			*peerp = peer;
			return 0;
		}
		return peer != p->avoid && peer_kick(peer) ? EAGAIN
							   : EHOSTUNREACH;
	}
	if (p->dest_host[0]) {
		if (str_eq_ci(p->dest_host, node->conf.identity) &&
		    handler_find(node, app, code)) {
			*targetp = node;
			return 0;
		}
		if (node->conf.in_process &&
		    (*targetp = dir_find_host(p->dest_host, app, code)))
			return 0;
		pl_set_str(&pl, p->dest_host);
		peer = dia_peer_lookup(node->ps, &pl);
		if (peer && peer_usable(node, peer, p)) {
			*peerp = peer;
			return 0;
		}
		if (peer && peer != p->avoid && peer_kick(peer))
			wait = true;
	}
	if (str_eq_ci(p->dest_realm, node->conf.realm) &&
	    (!p->dest_host[0] ||
	     str_eq_ci(p->dest_host, node->conf.identity)) &&
	    handler_find(node, app, code)) {
		*targetp = node;
		return 0;
	}
	if (node->conf.in_process && !p->dest_host[0] &&
	    (*targetp = dir_find_realm(p->dest_realm, app, code)))
		return 0;
	r = route_get(node, p->dest_realm, false);
	if (r && (peer = route_pick(node, r, p, &wait))) {
		*peerp = peer;
		return 0;
	}
	/* any open peer of that realm serving the application */
	for (i = 0; (peer = dia_peer_at(node->ps, i)); i++) {
		if (str_eq_ci(dia_peer_realm(peer), p->dest_realm) &&
		    peer_usable(node, peer, p)) {
			*peerp = peer;
			return 0;
		}
	}
	r = route_get(node, "*", false);
	if (r && (peer = route_pick(node, r, p, &wait))) {
		*peerp = peer;
		return 0;
	}
	return wait ? EAGAIN : EHOSTUNREACH;
}


static int set_dest_host(struct dia_msg *req, const char *host)
{
	const struct dia_avp *a;

	while ((a = dia_avp_find(&req->root, DIA_AVP_DESTINATION_HOST, 0)))
		dia_avp_remove((struct dia_avp *)(uintptr_t)a);
	return host ? dia_add_str(&req->root, DIA_AVP_DESTINATION_HOST, 0, host)
		    : 0;
}


/* Send (or hand over) where route_select says; wait or fail else.
 * @return EHOSTUNREACH on the first try when there is no route at all
 *         (the caller refuses the request), else 0 */
static int pend_route_send(struct pend *p, bool first)
{
	struct dia_node *node = p->node;
	struct dia_peer *peer;
	struct dia_node *target;
	int err;

	if (p->done)
		return 0;
	err = route_select(node, p, &peer, &target);
	if (err == EAGAIN) {
		p->waiting = true;
		return 0;
	}
	if (err) {
		LOG_INFO(NULL, "request %u e2e %08x: no route to %s%s",
			 p->req->code, p->req->e2e,
			 p->fixed[0] ? p->fixed : p->dest_host,
			 p->fixed[0] || p->dest_host[0] ? "" : p->dest_realm);
		if (first)
			return err;
		pend_fail(p, err);
		return 0;
	}
	p->waiting = false;
	if (target) {
		p->inproc = true;
		p->target = target;
		p->req->hbh = node->hbh++;
		node->st.req_sent++;
		node->st.req_inproc++;
		LOG_DEBUG(NULL, "request %u e2e %08x in-process to %s",
			  p->req->code, p->req->e2e, target->conf.identity);
		tmr_start(&p->defer, 0, pend_defer_h, p);
		return 0;
	}
	if (dia_peer_pending_inc(peer)) {
		p->waiting = true;
		return 0;
	}
	p->peer = peer;
	p->inproc = false;
	/* RFC 6733 5.5.4: sent again (failover, or the same peer after a
	 * reconnection), it may be a duplicate: T flag */
	if (p->sent)
		p->req->flags |= DIA_FLAG_T;
	p->sent = true;
	p->hbh = dia_peer_hbh(peer);
	p->req->hbh = p->hbh;
	hash_append(node->by_hbh, p->hbh, &p->hle, p);
	err = dia_peer_send(peer, p->req);
	if (err) {
		LOG_WARN(NULL, "request %u to %s: %s", p->req->code,
			 dia_peer_identity(peer), log_strerror(err));
		pend_unhash(p);
		if (err == EMSGSIZE || err == EINVAL) {
			pend_fail(p, err);
			return 0;
		}
		p->waiting = true; /* the peer's events will re-route it */
		return 0;
	}
	node->st.req_sent++;
	return 0;
}


/* RFC 6733 5.5.4 / RFC 3539 Failover(): the request goes again, with the
 * T flag, to another peer when there is one. */
static void pend_failover(struct pend *p, struct dia_peer *from, bool down)
{
	struct dia_peer *peer;
	struct dia_node *target;

	p->avoid = from;
	if (route_select(p->node, p, &peer, &target) != 0) {
		p->avoid = NULL;
		if (down) {
			pend_unhash(p);
			p->waiting = true;
		}
		return;
	}
	pend_unhash(p);
	p->node->st.failovers++;
	LOG_INFO(NULL, "request %u e2e %08x: failover from %s", p->req->code,
		 p->req->e2e, dia_peer_identity(from));
	(void)pend_route_send(p, false);
	p->avoid = NULL;
}


static void node_peer_ev(struct dia_peer *peer, enum dia_peer_event ev,
			 void *arg)
{
	struct dia_node *node = arg;
	struct le *le, *next;

	if (node->closed)
		return;
	mem_ref(node);
	/* the actions below never finish a request synchronously (errors
	 * are deferred), so the list keeps its shape while we walk it */
	for (le = node->pends.head; le && !node->closed; le = next) {
		struct pend *p = le->data;
		next = le->next;
		switch (ev) {
		case DIA_PEER_EV_OPEN:
			if (p->waiting && !p->done)
				(void)pend_route_send(p, false);
			break;
		case DIA_PEER_EV_SUSPECT:
		case DIA_PEER_EV_DOWN:
			if (p->peer == peer && !p->done)
				pend_failover(p, peer, ev == DIA_PEER_EV_DOWN);
			break;
		case DIA_PEER_EV_OKAY:
			break;
		}
	}
	mem_deref(node);
}


/* ---- redirects (RFC 6733 6.13, TS 29.228 6.6 for Dx) ---- */

static void user_key(const struct pend *p, char *buf, size_t size)
{
	const struct dia_avp *g;
	struct pl v;

	buf[0] = '\0';
	if (p->user[0]) {
		(void)snprintf(buf, size, "%s", p->user);
		return;
	}
	if (!dia_get_pl(&p->req->root, DIA_AVP_USER_NAME, 0, &v) ||
	    !dia_get_pl(&p->req->root, DIA_AVP_PUBLIC_IDENTITY, DIA_VENDOR_3GPP,
			&v)) {
		copy_pl(buf, size, &v);
		return;
	}
	g = dia_avp_find(&p->req->root, DIA_AVP_USER_IDENTITY, DIA_VENDOR_3GPP);
	if (g && !dia_get_pl(g, DIA_AVP_PUBLIC_IDENTITY, DIA_VENDOR_3GPP, &v))
		copy_pl(buf, size, &v);
}


/* The cache key of a request for one usage, "" when it has none. */
static void rcache_key(const struct pend *p, uint32_t usage, char *buf,
		       size_t size)
{
	char user[256];

	buf[0] = '\0';
	switch (usage) {
	case RH_ALL_SESSION:
		if (p->session[0])
			(void)snprintf(buf, size, "s:%s", p->session);
		break;
	case RH_ALL_REALM:
		(void)snprintf(buf, size, "r:%s", p->dest_realm);
		break;
	case RH_REALM_AND_APPLICATION:
		(void)snprintf(buf, size, "ra:%s:%u", p->dest_realm,
			       p->req->app);
		break;
	case RH_ALL_APPLICATION:
		(void)snprintf(buf, size, "a:%u", p->req->app);
		break;
	case RH_ALL_HOST:
		if (p->dest_host[0])
			(void)snprintf(buf, size, "h:%s", p->dest_host);
		break;
	case RH_ALL_USER:
		user_key(p, user, sizeof(user));
		if (user[0])
			(void)snprintf(buf, size, "u:%s:%u", user, p->req->app);
		break;
	default:
		break;
	}
}


static struct rcache *rcache_find(struct dia_node *node, const char *key)
{
	uint64_t now = tmr_jiffies();
	struct le *le, *next;

	for (le = hash_list(node->rcache, hash_fast(key, strlen(key)))->head;
	     le; le = next) {
		struct rcache *e = le->data;
		next = le->next;
		if (e->expires <= now) {
			hash_unlink(node->rcache, &e->hle);
			node->nrcache--;
			mem_deref(e);
			continue;
		}
		if (!strcmp(e->key, key))
			return e;
	}
	return NULL;
}


/* The most specific cached redirect for a new request (6.13's order). */
static bool rcache_lookup(struct dia_node *node, struct pend *p)
{
	static const uint32_t order[] = {
		RH_ALL_SESSION,           RH_ALL_USER,  RH_ALL_HOST,
		RH_REALM_AND_APPLICATION, RH_ALL_REALM, RH_ALL_APPLICATION
	};
	char key[300];
	size_t i;

	if (!node->nrcache)
		return false;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct rcache *e;
		rcache_key(p, order[i], key, sizeof(key));
		if (!key[0] || !(e = rcache_find(node, key)))
			continue;
		(void)snprintf(p->fixed, sizeof(p->fixed), "%s", e->host);
		node->st.redirect_cache_hits++;
		return true;
	}
	return false;
}


static void rcache_put(struct dia_node *node, const struct pend *p,
		       uint32_t usage, uint32_t secs, const char *host)
{
	struct rcache *e;
	char key[300];

	rcache_key(p, usage, key, sizeof(key));
	if (!key[0] || !secs)
		return;
	e = rcache_find(node, key);
	if (!e) {
		if (node->nrcache >= DIA_REDIRECT_CACHE_MAX)
			return;
		e = mem_zalloc(sizeof(*e), NULL);
		if (!e)
			return;
		(void)snprintf(e->key, sizeof(e->key), "%s", key);
		hash_append(node->rcache, hash_fast(key, strlen(key)), &e->hle,
			    e);
		node->nrcache++;
	}
	(void)snprintf(e->host, sizeof(e->host), "%s", host);
	e->expires = tmr_jiffies() + (uint64_t)secs * 1000u;
}


/* A Redirect-Host we can use: a node of ours, a known peer, or a new
 * peer at the URI's IP address.  host receives the identity to use. */
static bool redirect_target(struct dia_node *node, const struct pend *p,
			    const struct dia_avp *rh, char *host, size_t size)
{
	struct dia_peer *peer;
	struct pl h, uri = rh->val;
	uint16_t port = 0;
	bool tls = false;
	struct sa sa;

	if (dia_uri_decode(&uri, &h, &port, &tls))
		return false;
	copy_pl(host, size, &h);
	if (!host[0])
		return false;
	if (str_eq_ci(host, node->conf.identity))
		return handler_find(node, p->req->app, p->req->code) != NULL;
	if (node->conf.in_process &&
	    dir_find_host(host, p->req->app, p->req->code))
		return true;
	peer = dia_peer_lookup(node->ps, &h);
	if (peer)
		return true;
	if (sa_set_pl(&sa, &h, port ? port : tls ? DIA_PORT_TLS : DIA_PORT_TCP))
		return false; /* an FQDN we know nothing of: no DNS here */
	peer = dia_peer_lookup_addr(node->ps, &sa);
	if (!peer &&
	    dia_peer_add(node->ps, host, &sa,
			 DIA_PEER_DYNAMIC | (tls ? DIA_PEER_TLS : 0), &peer))
		return false;
	(void)snprintf(host, size, "%s", dia_peer_identity(peer));
	return true;
}


/* @return true when the request was sent on (or waits) elsewhere */
static bool redirect_follow(struct pend *p, const struct dia_msg *ans)
{
	struct dia_node *node = p->node;
	const struct dia_avp *rh;
	char host[DIA_IDENTITY_MAX + 1];
	uint32_t usage = RH_DONT_CACHE, secs = 0;
	struct dia_peer *peer;
	struct pl pl;

	if (p->redirects >= DIA_REDIRECT_MAX) {
		LOG_WARN(NULL, "request %u e2e %08x: more than %d redirects",
			 p->req->code, p->req->e2e, DIA_REDIRECT_MAX);
		return false;
	}
	for (rh = dia_avp_find(&ans->root, DIA_AVP_REDIRECT_HOST, 0); rh;
	     rh = dia_avp_next(rh)) {
		if (redirect_target(node, p, rh, host, sizeof(host)))
			break;
	}
	if (!rh)
		return false;
	/* RFC 6733 6.13: without Redirect-Host-Usage, DONT_CACHE */
	if (dia_get_u32(&ans->root, DIA_AVP_REDIRECT_HOST_USAGE, 0, &usage))
		usage = RH_DONT_CACHE;
	if (dia_get_u32(&ans->root, DIA_AVP_REDIRECT_MAX_CACHE_TIME, 0, &secs))
		secs = 0;
	rcache_put(node, p, usage, secs, host);
	p->redirects++;
	node->st.redirects++;
	LOG_INFO(NULL, "request %u e2e %08x redirected to %s", p->req->code,
		 p->req->e2e, host);
	pend_unhash(p);
	(void)snprintf(p->fixed, sizeof(p->fixed), "%s", host);
	/* TS 29.228 6.6: sent again to the HSS named, as Destination-Host
	 * (a peer known only by its address gets none: it is reached by
	 * the connection, and checks the realm) */
	pl_set_str(&pl, host);
	peer = dia_peer_lookup(node->ps, &pl);
	p->fixed_peer = peer;
	if (set_dest_host(p->req,
			  peer && (dia_peer_flags(peer) & DIA_PEER_DYNAMIC) &&
					  !dia_peer_is_open(peer)
				  ? NULL
				  : host)) {
		pend_fail(p, ENOMEM);
		return true;
	}
	/* a new destination: not a retransmission */
	p->req->flags &= (uint8_t)~DIA_FLAG_T;
	p->sent = false;
	(void)pend_route_send(p, false);
	return true;
}


static void pend_answer(struct pend *p, const struct dia_msg *ans,
			const struct dia_err *verr)
{
	uint32_t rcode = 0, vendor = 0;

	if (p->done)
		return;
	p->node->st.ans_rcvd++;
	if (verr) {
		LOG_WARN(NULL, "answer %u e2e %08x does not validate: %u %s",
			 ans->code, ans->e2e, verr->rcode,
			 verr->reason ? verr->reason : "");
		pend_done(p, EBADMSG, NULL);
		return;
	}
	if (!dia_msg_result(ans, &rcode, &vendor) && !vendor &&
	    rcode == DIA_REDIRECT_INDICATION && redirect_follow(p, ans))
		return;
	pend_done(p, 0, ans);
}


static void node_recv(struct dia_peer *peer, struct dia_msg *msg,
		      const struct dia_err *verr, void *arg)
{
	struct dia_node *node = arg;
	struct le *le;

	if (node->closed)
		return;
	if (dia_msg_is_request(msg)) {
		struct dia_srv_req *sr = NULL;
		if (srv_alloc(&sr, node, msg))
			return;
		sr->peer = peer;
		mem_ref(node);
		serve(node, sr, verr);
		mem_deref(sr);
		mem_deref(node);
		return;
	}
	LIST_FOREACH (hash_list(node->by_hbh, msg->hbh), le) {
		struct pend *p = le->data;
		if (p->hbh == msg->hbh && p->peer == peer && !p->done) {
			mem_ref(node);
			mem_ref(p);
			pend_answer(p, msg, verr);
			mem_deref(p);
			mem_deref(node);
			return;
		}
	}
	node->st.unmatched++;
	LOG_DEBUG(NULL, "answer %u hbh %08x from %s: no request waits for it",
		  msg->code, msg->hbh, dia_peer_identity(peer));
}


/**
 * Send a request (see node.h).
 */
int dia_node_request(struct dia_node *node, struct dia_msg *req,
		     const struct dia_req_opts *opts, dia_resp_h *resph,
		     void *arg)
{
	struct pend *p;
	struct pl v;
	int err;

	if (!node || !req || !resph || node->closed)
		return EINVAL;
	req->flags |= DIA_FLAG_R;
	req->flags &= (uint8_t)~DIA_FLAG_T;
	err = add_origin_if_absent(node, req);
	if (!err && !dia_avp_find(&req->root, DIA_AVP_DESTINATION_REALM, 0))
		err = dia_add_str(&req->root, DIA_AVP_DESTINATION_REALM, 0,
				  opts && opts->dest_realm ? opts->dest_realm
							   : node->conf.realm);
	if (!err && opts && opts->dest_host &&
	    !dia_avp_find(&req->root, DIA_AVP_DESTINATION_HOST, 0))
		err = dia_add_str(&req->root, DIA_AVP_DESTINATION_HOST, 0,
				  opts->dest_host);
	if (err)
		return err;
	p = mem_zalloc(sizeof(*p), pend_destructor);
	if (!p)
		return ENOMEM;
	p->node = node;
	p->req = mem_ref(req);
	p->resph = resph;
	p->arg = arg;
	tmr_init(&p->tmr);
	tmr_init(&p->defer);
	if (!dia_get_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0, &v))
		copy_pl(p->dest_host, sizeof(p->dest_host), &v);
	if (!dia_get_pl(&req->root, DIA_AVP_DESTINATION_REALM, 0, &v))
		copy_pl(p->dest_realm, sizeof(p->dest_realm), &v);
	if (!dia_get_pl(&req->root, DIA_AVP_SESSION_ID, 0, &v))
		copy_pl(p->session, sizeof(p->session), &v);
	if (opts && opts->user)
		(void)snprintf(p->user, sizeof(p->user), "%s", opts->user);
	req->e2e = dia_peers_e2e(node->ps);
	if (rcache_lookup(node, p) && set_dest_host(req, p->fixed)) {
		mem_deref(p);
		return ENOMEM;
	}
	list_append(&node->pends, &p->le, p);
	err = pend_route_send(p, true);
	if (err) {
		/* refused at once: no route can ever take it */
		p->done = true;
		list_unlink(&p->le);
		mem_deref(p);
		return err;
	}
	tmr_start(&p->tmr,
		  opts && opts->timeout_ms ? opts->timeout_ms
					   : node->timeout_ms,
		  pend_tmr_h, p);
	return 0;
}


/* ---- ids, accessors ---- */

int dia_node_session_id(struct dia_node *node, const char *opt, char *buf,
			size_t size)
{
	int n;

	if (!node || !buf || !size)
		return EINVAL;
	if (++node->sid_lo == 0)
		node->sid_hi++;
	n = snprintf(buf, size, "%s;%u;%u%s%s", node->conf.identity,
		     node->sid_hi, node->sid_lo, opt && *opt ? ";" : "",
		     opt && *opt ? opt : "");
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}


int dia_node_add_session_id(struct dia_node *node, struct dia_msg *msg,
			    const char *opt)
{
	char sid[DIA_IDENTITY_MAX + 128];
	int err;

	if (!msg)
		return EINVAL;
	err = dia_node_session_id(node, opt, sid, sizeof(sid));
	return err ? err : dia_add_str(&msg->root, DIA_AVP_SESSION_ID, 0, sid);
}


int dia_node_route_add(struct dia_node *node, const char *realm,
		       const char *peer, unsigned prio, unsigned weight)
{
	struct route *r;

	if (!node || !realm || !*realm || !peer || !*peer ||
	    strlen(peer) > DIA_IDENTITY_MAX || !weight || node->closed)
		return EINVAL;
	if (!dia_node_peer(node, peer))
		return ENOENT;
	r = route_get(node, realm, true);
	if (!r)
		return ENOMEM;
	if (r->n >= ROUTE_PEERS_MAX)
		return E2BIG;
	(void)snprintf(r->rp[r->n].id, sizeof(r->rp[r->n].id), "%s", peer);
	r->rp[r->n].prio = prio;
	r->rp[r->n].weight = weight;
	r->rp[r->n].cw = 0;
	r->n++;
	return 0;
}


const char *dia_node_identity(const struct dia_node *node)
{
	return node ? node->conf.identity : NULL;
}


const char *dia_node_realm(const struct dia_node *node)
{
	return node ? node->conf.realm : NULL;
}


struct dia_peers *dia_node_peers(const struct dia_node *node)
{
	return node ? node->ps : NULL;
}


struct dia_peer *dia_node_peer(const struct dia_node *node,
			       const char *identity)
{
	struct pl pl;

	if (!node || !identity)
		return NULL;
	pl_set_str(&pl, identity);
	return dia_peer_lookup(node->ps, &pl);
}


void dia_node_stats(const struct dia_node *node, struct dia_node_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (node) {
		*st = node->st;
		st->dup_cached = node->dup_lru.n;
	}
}


size_t dia_node_pending(const struct dia_node *node)
{
	return node ? list_count(&node->pends) : 0;
}


size_t dia_node_redirect_cached(const struct dia_node *node)
{
	return node ? node->nrcache : 0;
}


/**
 * Parse a DiameterURI, RFC 6733 4.3.1:
 *   "aaa://" FQDN [ port ] [ transport ] [ protocol ]
 *   port = ":" 1*DIGIT, transport = ";transport=" ("tcp"|"sctp"|"udp"),
 *   protocol = ";protocol=" ("diameter"|"radius"|"tacacs+")
 */
int dia_uri_decode(const struct pl *uri, struct pl *host, uint16_t *port,
		   bool *tls)
{
	const char *p, *end, *h;
	size_t skip;

	if (!uri || !uri->p || !host || !port || !tls)
		return EINVAL;
	p = uri->p;
	end = uri->p + uri->l;
	if (uri->l > 7 && strncasecmp(p, "aaas://", 7) == 0) {
		*tls = true;
		skip = 7;
	} else if (uri->l > 6 && strncasecmp(p, "aaa://", 6) == 0) {
		*tls = false;
		skip = 6;
	} else {
		return EBADMSG;
	}
	p += skip;
	h = p;
	if (*p == '[') { /* an IPv6 literal */
		while (p < end && *p != ']')
			p++;
		if (p == end)
			return EBADMSG;
		host->p = h + 1;
		host->l = (size_t)(p - h - 1);
		p++;
	} else {
		while (p < end && *p != ':' && *p != ';' && *p != '/')
			p++;
		host->p = h;
		host->l = (size_t)(p - h);
	}
	if (!host->l)
		return EBADMSG;
	*port = 0;
	if (p < end && *p == ':') {
		uint32_t n = 0;
		const char *d = ++p;
		while (p < end && *p >= '0' && *p <= '9' && n <= 65535)
			n = n * 10 + (uint32_t)(*p++ - '0');
		if (p == d || n > 65535 || n == 0)
			return EBADMSG;
		*port = (uint16_t)n;
	}
	while (p < end) {
		const char *s, *e;
		if (*p != ';')
			return EBADMSG;
		s = ++p;
		while (p < end && *p != ';')
			p++;
		e = p;
		if ((size_t)(e - s) > 10 &&
		    strncasecmp(s, "transport=", 10) == 0) {
			if ((size_t)(e - s) != 13 ||
			    strncasecmp(s + 10, "tcp", 3) != 0)
				return EPROTONOSUPPORT;
		} else if ((size_t)(e - s) > 9 &&
			   strncasecmp(s, "protocol=", 9) == 0) {
			if ((size_t)(e - s) != 17 ||
			    strncasecmp(s + 9, "diameter", 8) != 0)
				return EPROTONOSUPPORT;
		} else {
			return EBADMSG;
		}
	}
	return 0;
}
