/**
 * @file transp.h  SIP transports: UDP, TCP and TLS over IPv4 and IPv6.
 *
 * The transport layer owns the listening sockets and the connections.  It
 * delivers each received message's bytes, framed (one message per call),
 * with where it came from; it does not parse SIP beyond framing.
 * Responses and in-dialog requests go back on the connection a request came
 * on (RFC 3261 18.2.2; RFC 5626 flows).  UDP sends are batched with
 * sendmmsg() at the end of each loop iteration; reads use recvmmsg().
 *
 * Limits (each refusing cleanly, and counted): message size, header count
 * (in the parser), open connections, bytes buffered per connection, idle
 * connection lifetime.  CRLF keep-alives (RFC 5626 4.4.1) are answered
 * with CRLF on streams.
 *
 * Naming: `enum sip_transp` is the transport kind; the object holding the
 * sockets is `struct sip_transports` (C puts struct and enum tags in one
 * namespace, so they cannot share a name).
 */
#ifndef IMS_SIP_TRANSP_H
#define IMS_SIP_TRANSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "net/sa.h"

enum sip_transp {
	SIP_TRANSP_NONE = 0,
	SIP_TRANSP_UDP,
	SIP_TRANSP_TCP,
	SIP_TRANSP_TLS,
	SIP_TRANSP_NUM
};

struct sip_transports;
struct sip_conn;

/* One received message (valid only during the call). */
struct sip_rx {
	const char *p;
	size_t len;
	enum sip_transp tp;
	struct sa src;
	struct sa dst;         /* the local address it arrived on */
	struct sip_conn *conn; /* streams only; take a mem_ref to keep it */
	bool dgram;
	/* Handed over in-process (local handover, below) by a client
	 * transaction that sends it once: delivered exactly once, so the
	 * server transaction runs the timers of a reliable transport. */
	bool once;
};

typedef void(sip_transp_recv_h)(const struct sip_rx *rx, void *arg);

struct sip_transp_conf {
	size_t max_conns;        /* open stream connections (default 4096) */
	size_t max_msg;          /* bytes per message (default SIP_MSG_MAX) */
	uint32_t idle_timeout_s; /* close idle streams (default 600) */
	const char *tls_cert;    /* PEM paths; required for TLS listeners */
	const char *tls_key;
	const char *tls_ca; /* verify peers against this, optional */
	/* Local handover (below) off for this object: its UDP listeners are
	 * not registered and its sends always take the socket. */
	bool no_local_handover;
};

struct sip_transp_stats {
	uint64_t rx_msgs, tx_msgs, rx_bytes, tx_bytes;
	uint64_t rx_dropped;   /* framing errors, oversized, ... */
	uint64_t conn_refused; /* over max_conns */
	uint64_t tx_errors;
	size_t conns;
};

int sip_transp_alloc(struct sip_transports **tpp,
		     const struct sip_transp_conf *conf,
		     sip_transp_recv_h *recvh, void *arg) IMS_MUST_CHECK;
/* Close all sockets and connections (explicit shutdown). */
void sip_transp_close(struct sip_transports *tps);

/* Listen on laddr (port 0 picks one; sip_transp_laddr tells which). */
int sip_transp_listen(struct sip_transports *tps, enum sip_transp tp,
		      const struct sa *laddr) IMS_MUST_CHECK;

/* Send one message.  For streams, `conn` is used when alive; otherwise a
 * connection to dst is reused or opened (the bytes are queued until it is
 * up).  UDP ignores conn. */
int sip_transp_send(struct sip_transports *tps, enum sip_transp tp,
		    const struct sa *dst, struct sip_conn *conn, const void *p,
		    size_t len) IMS_MUST_CHECK;

/* The first transmission of a client transaction's request: as
 * sip_transp_send, and *once tells whether it was handed over in-process
 * (then it is delivered exactly once and the receiver knows it, see
 * sip_rx.once: the transaction must not retransmit it). */
int sip_transp_send_once(struct sip_transports *tps, enum sip_transp tp,
			 const struct sa *dst, struct sip_conn *conn,
			 const void *p, size_t len, bool *once) IMS_MUST_CHECK;

/* The local address of the first listener of this transport and family. */
const struct sa *sip_transp_laddr(const struct sip_transports *tps,
				  enum sip_transp tp, int af);
bool sip_transp_reliable(enum sip_transp tp);
const char *sip_transp_name(enum sip_transp tp); /* "UDP", "TCP", "TLS" */
enum sip_transp sip_transp_from_pl(const struct pl *pl);
void sip_transp_stats(const struct sip_transports *tps,
		      struct sip_transp_stats *st);

/* Connections */
bool sip_conn_alive(const struct sip_conn *conn);
const struct sa *sip_conn_peer(const struct sip_conn *conn);
enum sip_transp sip_conn_transp(const struct sip_conn *conn);
/* Flush all queued UDP datagrams now (otherwise done by a loop hook). */
void sip_transp_flush(struct sip_transports *tps);

/* ---- Additions by the transport layer (declarations above unchanged) ---- */

/* Syscall-level and connection counters (what the batching achieves). */
struct sip_transp_io_stats {
	uint64_t rx_syscalls;      /* recvmmsg() calls that returned data */
	uint64_t rx_empty;         /* ... that found none (a drain's end) */
	uint64_t tx_syscalls;      /* sendmmsg() calls */
	uint64_t conn_accepted;    /* stream connections accepted */
	uint64_t conn_connected;   /* outgoing connections opened */
	uint64_t conn_closed;      /* every close, for any reason */
	uint64_t conn_idle_closed; /* closed by the idle timeout */
	uint64_t keepalive_pongs;  /* CRLF answers to CRLFCRLF pings */
	uint64_t tls_failed;       /* TLS handshakes that failed */
	uint64_t local_tx;         /* UDP messages handed over in-process */
	uint64_t local_rx;         /* ... and received that way */
	uint64_t local_overflow;   /* queue full: sent on the socket instead */
	uint64_t icmp_errors;      /* ICMP errors reported (RFC 3261 18.4) */
};
void sip_transp_io_stats(const struct sip_transports *tps,
			 struct sip_transp_io_stats *st);

/* Open (or reuse) a stream connection to dst.  For TLS, `host` (may be
 * NULL) is sent as SNI and, when tls_ca is set, the server certificate
 * must match it (RFC 5922 7.2); without a host the certificate must name
 * dst's IP address.  *connp is a counted reference (mem_deref it). */
int sip_transp_connect(struct sip_transports *tps, enum sip_transp tp,
		       const struct sa *dst, const char *host,
		       struct sip_conn **connp) IMS_MUST_CHECK;
/* Close one connection now (queued bytes are dropped). */
void sip_conn_close(struct sip_conn *conn);
/* The local address of a connection. */
const struct sa *sip_conn_laddr(const struct sip_conn *conn);

/* Bytes queued on an outgoing stream connection that failed before they
 * could be written (connect refused, handshake failed, setup timed out):
 * RFC 3261 17.1.4 wants the transaction that sent them told.  `p` holds
 * one or more framed messages; valid during the call only. */
typedef void(sip_transp_fail_h)(int err, enum sip_transp tp,
				const struct sa *dst, const void *p, size_t len,
				void *arg);
void sip_transp_set_failh(struct sip_transports *tps, sip_transp_fail_h *h,
			  void *arg);


/*
 * Local handover (docs/internals/local-handover.md).  A UDP message sent
 * to the address of a UDP listener of another (or the same) transport
 * object on this thread's event loop does not go through the kernel: the
 * bytes are copied once into a queue and delivered from the loop, on a
 * later step, to that listener's receive handler as if they had arrived on
 * it from the sender's UDP listener address.  The counters above show it;
 * sip_transp_stats() counts these messages as sent and received.
 */

/* On (the default) or off for every transport object of this thread;
 * objects can also opt out one by one (conf.no_local_handover). */
void sip_transp_local_handover(bool on);
/* Messages waiting in this thread's handover queue (tests, statistics). */
size_t sip_transp_local_pending(void);

/*
 * ICMP errors.  UDP sockets ask for the kernel's error queue (IP_RECVERR,
 * IPV6_RECVERR).  A destination, host, network or protocol unreachable or
 * a parameter problem for a datagram we sent (RFC 3261 18.4) is reported
 * through the failure handler with tp SIP_TRANSP_UDP, dst the datagram's
 * destination, err the kernel's (ECONNREFUSED for a closed port), and
 * p/len the start of the datagram as the ICMP message quoted it (often
 * cut short: a few hundred bytes).
 */

#endif
