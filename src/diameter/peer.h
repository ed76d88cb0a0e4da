/**
 * @file peer.h  Diameter peers (RFC 6733 5): transport connections over
 *               TCP and TLS/TCP, the peer state machine with election,
 *               capabilities exchange, the watchdog (RFC 3539) and
 *               disconnection.
 *
 * A `struct dia_peers` is the peer table of one Diameter node: its
 * listeners, its connections and the peers it knows.  Only the peers added
 * with dia_peer_add() may complete a capabilities exchange (an allow-list
 * by Origin-Host, optionally by source address too); a peer added with an
 * address is one we connect to (and reconnect to, with back-off), one
 * without is one we only accept.
 *
 * The base protocol messages (CER/CEA, DWR/DWA, DPR/DPA) are handled here;
 * every other message received on an open peer goes to the receive
 * handler, decoded but not validated (the node validates).  Peer events
 * (open, suspect, okay again, down) go to the event handler so that the
 * node can route and fail over.
 *
 * See docs/internals/diameter-peer.md.
 */
#ifndef IMS_DIAMETER_PEER_H
#define IMS_DIAMETER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"

struct dia_err;
struct dia_msg;
struct dia_peers;
struct dia_peer;

/* Default limits (each overridable in struct dia_peers_conf). */
#define DIA_CONN_MAX         256   /* open connections per node */
#define DIA_PEER_PENDING_MAX 1024  /* requests in flight per peer */
#define DIA_TW_DEFAULT_MS    30000 /* RFC 3539 3.4.1 Twinit */
#define DIA_TC_DEFAULT_MS    30000 /* RFC 6733 12 Tc */
#define DIA_SETUP_DEFAULT_MS 10000 /* connect + TLS + CER/CEA */
#define DIA_IDENTITY_MAX     255   /* DiameterIdentity is an FQDN */

/* RFC 6733 5.6 */
enum dia_peer_state {
	DIA_PEER_CLOSED = 0,
	DIA_PEER_WAIT_CONN_ACK,
	DIA_PEER_WAIT_I_CEA,
	DIA_PEER_WAIT_CONN_ACK_ELECT,
	DIA_PEER_WAIT_RETURNS,
	DIA_PEER_R_OPEN,
	DIA_PEER_I_OPEN,
	DIA_PEER_CLOSING,
};

/* RFC 3539 3.4.1 watchdog status of an open peer */
enum dia_wd_state {
	DIA_WD_OKAY = 0,
	DIA_WD_SUSPECT,
	DIA_WD_DOWN,
};

enum dia_peer_event {
	DIA_PEER_EV_OPEN,    /* capabilities exchanged: requests may go */
	DIA_PEER_EV_SUSPECT, /* a DWA is overdue: fail requests over */
	DIA_PEER_EV_OKAY,    /* traffic again after SUSPECT */
	DIA_PEER_EV_DOWN,    /* the connection is gone */
};

/* dia_peer_add() flags */
enum {
	DIA_PEER_TLS = 1,        /* connect with TLS (direct, RFC 6733 13) */
	DIA_PEER_CHECK_ADDR = 2, /* accept its CER only from its address */
	DIA_PEER_DYNAMIC = 4,    /* learnt (redirect), not configured */
	DIA_PEER_NO_CONNECT = 8, /* the address is for check_addr only */
};

/* An application advertised in CER/CEA: vendor 0 as Auth-Application-Id,
 * else as Vendor-Specific-Application-Id (Vendor-Id + Auth-Application-
 * Id) with Supported-Vendor-Id (TS 29.229 6.1 for Cx). */
struct dia_app {
	uint32_t id;
	uint32_t vendor;
};

#define DIA_APPS_MAX 8

struct dia_peers_conf {
	const char *host;     /* Origin-Host, required */
	const char *realm;    /* Origin-Realm, required */
	const char *product;  /* Product-Name (default "entims") */
	uint32_t firmware;    /* Firmware-Revision (0: not sent) */
	uint32_t tw_ms;       /* watchdog Tw (default 30 s, jitter added) */
	uint32_t tc_ms;       /* reconnect Tc (default 30 s, back-off to it) */
	uint32_t setup_ms;    /* connect, TLS and CER/CEA deadline */
	size_t max_conns;     /* default DIA_CONN_MAX */
	size_t max_pending;   /* per peer, default DIA_PEER_PENDING_MAX */
	const char *tls_cert; /* PEM; required for a TLS listener */
	const char *tls_key;
	const char *tls_ca; /* verify peers (both directions) when set */
};

struct dia_peers_stats {
	uint64_t rx_msgs, tx_msgs;
	uint64_t rx_malformed;  /* connections closed for a bad message */
	uint64_t conn_accepted; /* incoming connections */
	uint64_t conn_refused;  /* over max_conns */
	uint64_t cer_unknown;   /* CEA 3010 */
	uint64_t cer_noapp;     /* CEA 5010 */
	uint64_t elections;     /* held (RFC 6733 5.6.4) */
	uint64_t tls_failed;
	size_t conns;
};

/* Any message received on an open peer that is not CER/DWR/DPR or their
 * answers.  verr: NULL when the message validated (dict.h), else what to
 * answer (the peer layer has already answered and closed the connection
 * for header and AVP flag errors, 3008 and 3009).  The handler may keep
 * msg with mem_ref. */
typedef void(dia_peer_recv_h)(struct dia_peer *peer, struct dia_msg *msg,
			      const struct dia_err *verr, void *arg);
typedef void(dia_peer_event_h)(struct dia_peer *peer, enum dia_peer_event ev,
			       void *arg);

int dia_peers_alloc(struct dia_peers **psp, const struct dia_peers_conf *conf,
		    dia_peer_recv_h *recvh, dia_peer_event_h *evh,
		    void *arg) IMS_MUST_CHECK;
/* Close every listener and connection at once (no DPR: see
 * dia_peer_disconnect for the graceful way).  Idempotent. */
void dia_peers_close(struct dia_peers *ps);
/* The applications advertised in CER/CEA from now on. */
int dia_peers_set_apps(struct dia_peers *ps, const struct dia_app *apps,
		       size_t n) IMS_MUST_CHECK;
/* Listen (port 0 picks one: dia_peers_laddr says which). */
int dia_peers_listen(struct dia_peers *ps, bool tls,
		     const struct sa *laddr) IMS_MUST_CHECK;
const struct sa *dia_peers_laddr(const struct dia_peers *ps, bool tls);
void dia_peers_stats(const struct dia_peers *ps, struct dia_peers_stats *st);
/* Connections open at the transport level (accepted or connected). */
size_t dia_peers_conn_count(const struct dia_peers *ps);
/* The next End-to-End id of this node (RFC 6733 3: the high 12 bits from
 * the start time, the low 20 bits random then counting). */
uint32_t dia_peers_e2e(struct dia_peers *ps);
const char *dia_peers_host(const struct dia_peers *ps);
const char *dia_peers_realm(const struct dia_peers *ps);

/* Add a peer to the allow-list.  addr: where to connect to it (NULL:
 * accept only).  *peerp (optional) is a weak pointer: the table owns it.
 * EEXIST when the identity is known already. */
int dia_peer_add(struct dia_peers *ps, const char *identity,
		 const struct sa *addr, unsigned flags,
		 struct dia_peer **peerp) IMS_MUST_CHECK;
/* Case-insensitive (RFC 6733 5.6.4 compares identities that way). */
struct dia_peer *dia_peer_lookup(const struct dia_peers *ps,
				 const struct pl *identity);
/* The peer we connect to at this address (and port), or NULL. */
struct dia_peer *dia_peer_lookup_addr(const struct dia_peers *ps,
				      const struct sa *addr);
/* Any peer, to iterate: index 0.. until NULL. */
struct dia_peer *dia_peer_at(const struct dia_peers *ps, size_t i);

/* Start: connect now if closed (resets the back-off and the "do not
 * reconnect" of a DO_NOT_WANT_TO_TALK_TO_YOU).  ENOTCONN for a peer
 * without address. */
int dia_peer_connect(struct dia_peer *peer) IMS_MUST_CHECK;
/* Stop: DPR with the cause, then close on DPA (or after setup_ms).  The
 * peer is not reconnected until dia_peer_connect(). */
int dia_peer_disconnect(struct dia_peer *peer, int cause) IMS_MUST_CHECK;

/* Send on an open peer.  A request must have its Hop-by-Hop id from
 * dia_peer_hbh().  ENOTCONN when not open, EMSGSIZE, ENOBUFS. */
int dia_peer_send(struct dia_peer *peer,
		  const struct dia_msg *msg) IMS_MUST_CHECK;
/* A Hop-by-Hop id for a request on this peer's connection (RFC 6733 3:
 * unique per connection, starting at a random value). */
uint32_t dia_peer_hbh(struct dia_peer *peer);

enum dia_peer_state dia_peer_state(const struct dia_peer *peer);
bool dia_peer_is_open(const struct dia_peer *peer);
enum dia_wd_state dia_peer_wd(const struct dia_peer *peer);
const char *dia_peer_identity(const struct dia_peer *peer);
/* Its Origin-Realm from CER/CEA ("" before the first exchange). */
const char *dia_peer_realm(const struct dia_peer *peer);
/* The peer advertised this application (or the relay application). */
bool dia_peer_has_app(const struct dia_peer *peer, uint32_t app);
bool dia_peer_has_addr(const struct dia_peer *peer);
unsigned dia_peer_flags(const struct dia_peer *peer);
/* Last Disconnect-Cause received in a DPR, or -1. */
int dia_peer_last_cause(const struct dia_peer *peer);
const char *dia_peer_state_name(enum dia_peer_state st);
const char *dia_wd_state_name(enum dia_wd_state st);

/* Requests in flight on a peer: the node counts them here so that the
 * per-peer limit holds whoever sends.  inc returns EBUSY at the limit. */
int dia_peer_pending_inc(struct dia_peer *peer) IMS_MUST_CHECK;
void dia_peer_pending_dec(struct dia_peer *peer);
size_t dia_peer_pending(const struct dia_peer *peer);

/* Close the peer's connection after what is queued is written (a peer
 * that sent something malformed).  Reconnection follows the usual rules. */
void dia_peer_abort(struct dia_peer *peer);

/* Tests: tune the watchdog of one peer (0 = the table's Tw). */
void dia_peer_set_tw(struct dia_peer *peer, uint32_t tw_ms);

#endif
