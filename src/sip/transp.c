/**
 * @file transp.c  SIP transports: batched UDP, TCP and TLS streams.
 *
 * Design (see docs/internals/transport.md):
 *
 * UDP.  Each UDP socket is read with recvmmsg() into UDP_BATCH slots of
 * max_msg bytes that are allocated once per transport object (a datagram
 * is handed to the receive handler straight from its slot; nothing is
 * allocated per message).  Sending copies the bytes into the socket's
 * preallocated batch buffer and fills one mmsghdr; the batch goes out with
 * a single sendmmsg() from an end-of-batch loop hook (so all the answers
 * produced by one epoll batch leave in one syscall), or at once when the
 * batch is full, or on sip_transp_flush().
 *
 * Streams.  A struct sip_conn is a counted object; the connection table
 * (a hash on peer address and transport) holds one reference, and closing
 * drops it, so that users holding their own reference (a registration's
 * flow, a transaction) see sip_conn_alive() turn false instead of a
 * dangling pointer.  Received bytes go into a per-connection buffer whose
 * ceiling is max_msg; sip_msg_frame() cuts it into messages.  Writes go
 * straight to the socket when nothing is queued; the rest is queued (with
 * a ceiling) and written when the socket turns writable.  Outgoing
 * connections queue the message until connect() (and the TLS handshake)
 * completes.  One timer per connection covers both the connect/handshake
 * deadline and the idle timeout; activity only stores a timestamp, the
 * timer re-arms itself for the remaining time when it fires.
 *
 * The stream plumbing (socket, OpenSSL over a socket BIO that never raises
 * SIGPIPE, receive buffer and write queue) is src/net/tcp.c and
 * src/net/tls.c, shared with the Diameter peers; this file keeps SIP's
 * framing, keep-alives, counters and the connection table.
 *
 * Local handover (docs/internals/local-handover.md).  The UDP listeners
 * of every transport object on this thread's loop are in a registry; a
 * UDP send to one of them is copied once into a FIFO queue instead of the
 * socket batch, and an end-of-batch hook delivers the queue to the
 * listener's receive handler with the sender's listener address as the
 * source, exactly what recvmmsg() would have produced.  Delivery is never
 * from inside the send (no re-entry into the sender's stack).  A handed-
 * over message is never lost, so a client transaction whose first send
 * is handed over (sip_transp_send_once) treats the hop as a reliable
 * transport (RFC 3261 17.1: no Timer A/E retransmissions, Timer D/K zero)
 * and the message carries that to the receiver (sip_rx.once), whose
 * server transaction does the same (Timer G unused, Timers I/J zero).
 * Nothing else changes hands: the Via still says UDP.  Between
 * co-located CSCFs this is what keeps a completed transaction from
 * holding memory for Timer J's 32 s on every internal hop.
 *
 * ICMP errors.  UDP sockets set IP_RECVERR/IPV6_RECVERR; the error queue
 * is read when epoll reports EPOLLERR and the destination unreachable
 * errors go to the failure handler (RFC 3261 18.4), so that a request to
 * a closed port ends at once instead of at Timer B/F.
 */
#include "sip/transp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "sip/msg.h"

#define LOG_MODULE "transp"

enum {
	UDP_BATCH = 32,               /* datagrams per recvmmsg/sendmmsg */
	UDP_DRAIN_MAX = 8,            /* batches read per readiness */
	UDP_TXBUF = 256 * 1024,       /* batch bytes per UDP socket */
	UDP_MAX_PAYLOAD = 65507,      /* IPv4: 65535 - 20 - 8 */
	SOCK_BUFSZ = 4 * 1024 * 1024, /* SO_RCVBUF / SO_SNDBUF wish */
	CONN_WBUF_MAX = 1024 * 1024,  /* queued output per connection */
	CONN_SETUP_MS = 10000,        /* connect + TLS handshake deadline */
	ACCEPT_BATCH = 64,
	TCP_READS_PER_EVENT = 8,
	EMFILE_PAUSE_MS = 100,
	LH_QUEUE_MAX = 8192,              /* handed-over messages waiting */
	LH_QUEUE_BYTES = 8 * 1024 * 1024, /* ... and their bytes */
	ERRQ_PAYLOAD = 2048, /* ICMP quotes at most 576 (v4) / 1280 (v6) */
};

struct udp_tx {
	struct mmsghdr m[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sa dst[UDP_BATCH];
	size_t used;
	unsigned n;
	uint8_t buf[UDP_TXBUF];
};

struct udp_rx {
	struct mmsghdr m[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sa src[UDP_BATCH];
	size_t slot;
	uint8_t *buf; /* UDP_BATCH * slot bytes */
};

/* A UDP socket or a stream listener. */
struct sock {
	struct le le;               /* tps->socks (counted) */
	struct sip_transports *tps; /* weak */
	enum sip_transp tp;
	int fd;
	struct sa laddr;
	struct udp_tx *tx; /* UDP only */
	struct tmr tmr;    /* listener paused after EMFILE */
	struct le lh_le;   /* in the local handover registry (UDP) */
	bool drain_hit;    /* UDP: the last read after a batch found more */
};

struct sip_conn {
	struct le le;               /* tps->conns (counted) */
	struct sip_transports *tps; /* weak; NULL once closed */
	enum sip_transp tp;
	struct tcp_stream ts; /* socket, TLS, receive and write buffers */
	bool outgoing;
	struct sa peer;
	struct sa laddr;
	struct tmr tmr; /* setup deadline, then idle timeout */
	uint64_t last_ms;
};

struct sip_transports {
	struct sip_transp_conf conf; /* strings point to the copies below */
	char *tls_cert, *tls_key, *tls_ca;
	sip_transp_recv_h *recvh;
	void *arg;
	struct list socks;
	struct sock *udp4, *udp6; /* first UDP socket of each family */
	struct udp_rx *rx;
	struct hash *conns;
	struct loop_hook hook;
	struct tmr flush_tmr; /* fallback when queued from inside a hook */
	SSL_CTX *ssl_srv, *ssl_cli;
	bool warned_noverify;
	bool closed;
	struct sip_transp_stats st;
	struct sip_transp_io_stats io;
	sip_transp_fail_h *failh;
	void *fail_arg;
};

static void conn_fd_h(int flags, void *arg);
static void conn_read(struct sip_conn *c);
static void conn_flush(struct sip_conn *c);


/* ---- small helpers ---- */

/* errno of the failed call, never 0 (a failure must not read as success) */
static int errno_nz(void)
{
	int e = errno;

	return e > 0 ? e : EIO;
}


static void sock_bufsize(int fd)
{
	int sz = SOCK_BUFSZ;

	/* Best effort: the FORCE variants pass rmem_max/wmem_max when we
	 * have CAP_NET_ADMIN; otherwise the kernel clamps the plain ones. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}


static uint32_t conn_key(enum sip_transp tp, const struct sa *peer)
{
	return sa_hash(peer) * 31u + (uint32_t)tp;
}


static socklen_t sa_socklen(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? sizeof(struct sockaddr_in6)
				     : sizeof(struct sockaddr_in);
}


/* ---- TLS contexts ---- */

static int tls_srv_init(struct sip_transports *tps)
{
	SSL_CTX *ctx = NULL;
	int err;

	if (tps->ssl_srv)
		return 0;
	if (!tps->tls_cert || !tps->tls_key) {
		LOG_ERR(NULL, "a TLS listener needs tls_cert and tls_key");
		return EINVAL;
	}
	err = tls_ctx_alloc(&ctx, true);
	if (err)
		return err;
	err = tls_ctx_use_cert(ctx, tps->tls_cert, tps->tls_key);
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	tps->ssl_srv = ctx;
	return 0;
}


static int tls_cli_init(struct sip_transports *tps)
{
	SSL_CTX *ctx = NULL;
	int err;

	if (tps->ssl_cli)
		return 0;
	err = tls_ctx_alloc(&ctx, false);
	if (err)
		return err;
	err = tls_ctx_use_ca(ctx, tps->tls_ca, false);
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	if (!tps->tls_ca && !tps->warned_noverify) {
		LOG_WARN(NULL, "no tls_ca: TLS servers are NOT verified");
		tps->warned_noverify = true;
	}
	tps->ssl_cli = ctx;
	return 0;
}


/* ---- connections ---- */

static void conn_destructor(void *arg)
{
	struct sip_conn *c = arg;

	tmr_cancel(&c->tmr);
	tcp_stream_reset(&c->ts);
}


/* Close now; drops the table's reference (the caller keeps its own). */
static void conn_close(struct sip_conn *c)
{
	struct sip_transports *tps = c->tps;

	if (c->ts.state == TCP_CLOSED || !tps)
		return;
	tmr_cancel(&c->tmr);
	tcp_stream_close(&c->ts); /* best effort close_notify */
	c->tps = NULL;
	tps->io.conn_closed++;
	hash_unlink(tps->conns, &c->le);
	mem_deref(c);
}


static void conn_fail(struct sip_conn *c, const char *what, int err)
{
	char pbuf[SA_STRLEN];

	if (log_level_cur >= LOG_LVL_DEBUG || log_trace_enabled(LOG_MODULE)) {
		sa_fmt(&c->peer, pbuf, sizeof(pbuf));
		LOG_DEBUG(NULL, "%s %s: %s", sip_transp_name(c->tp), pbuf,
			  err ? log_strerror(err) : what);
	}
	if (c->outgoing && c->ts.state != TCP_OPEN && c->tps)
		c->tps->st.tx_errors++;
	if (c->outgoing && c->ts.state != TCP_OPEN && c->tps && c->tps->failh &&
	    tcp_stream_pending(&c->ts)) {
		/* what never left: tell the sender once the connection is
		 * gone (the handler may send elsewhere at once) */
		struct sip_transports *tps = c->tps;
		size_t n = c->ts.wb.end - c->ts.woff;
		char *copy = mem_alloc(n, NULL);
		enum sip_transp tp = c->tp;
		struct sa dst = c->peer;

		if (copy)
			memcpy(copy, c->ts.wb.b + c->ts.woff, n);
		mem_ref(tps);
		conn_close(c);
		if (copy && tps->failh)
			tps->failh(err ? err : ECONNREFUSED, tp, &dst, copy, n,
				   tps->fail_arg);
		mem_deref(copy);
		mem_deref(tps);
		return;
	}
	conn_close(c);
}


void sip_transp_set_failh(struct sip_transports *tps, sip_transp_fail_h *h,
			  void *arg)
{
	if (!tps)
		return;
	tps->failh = h;
	tps->fail_arg = arg;
}


static int conn_update_fd(struct sip_conn *c)
{
	int err;

	err = tcp_stream_listen(&c->ts, conn_fd_h, c);
	if (err)
		conn_fail(c, "fd_listen", err);
	return err;
}


static void conn_tmr_h(void *arg)
{
	struct sip_conn *c = arg;
	uint64_t idle, now, elapsed;

	if (c->ts.state != TCP_OPEN) {
		conn_fail(c, "connection setup timed out", ETIMEDOUT);
		return;
	}
	idle = (uint64_t)c->tps->conf.idle_timeout_s * 1000u;
	now = tmr_jiffies();
	elapsed = now > c->last_ms ? now - c->last_ms : 0;
	if (elapsed >= idle) {
		c->tps->io.conn_idle_closed++;
		conn_close(c);
		return;
	}
	tmr_start(&c->tmr, idle - elapsed, conn_tmr_h, c);
}


static void conn_opened(struct sip_conn *c)
{
	c->ts.state = TCP_OPEN;
	c->ts.want_write = false;
	c->last_ms = tmr_jiffies();
	tmr_start(&c->tmr, (uint64_t)c->tps->conf.idle_timeout_s * 1000u,
		  conn_tmr_h, c);
}


static int conn_alloc(struct sip_conn **cp, struct sip_transports *tps,
		      enum sip_transp tp, int fd, const struct sa *peer)
{
	struct sip_conn *c;
	int err;

	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c) {
		(void)close(fd);
		return ENOMEM;
	}
	err = tcp_stream_init(&c->ts, fd, tps->conf.max_msg, CONN_WBUF_MAX);
	c->tp = tp;
	c->peer = *peer;
	c->peer.len = sa_socklen(peer);
	c->tps = tps;
	tmr_init(&c->tmr);
	if (err) {
		mem_deref(c);
		return err;
	}
	hash_append(tps->conns, conn_key(tp, &c->peer), &c->le, c);
	tmr_start(&c->tmr, CONN_SETUP_MS, conn_tmr_h, c);
	*cp = c;
	return 0;
}


/* Queue or write bytes on a connection (any state but closed). */
static int conn_write(struct sip_conn *c, const uint8_t *p, size_t len)
{
	size_t sent;
	bool broken;
	int err;

	err = tcp_stream_send(&c->ts, p, len, &sent, &broken);
	if (sent) {
		c->tps->st.tx_bytes += sent;
		c->last_ms = tmr_jiffies();
	}
	if (broken) {
		c->tps->st.tx_errors++;
		conn_fail(c, "write", err);
		return err;
	}
	if (err)
		return err;
	return conn_update_fd(c);
}


static void conn_flush(struct sip_conn *c)
{
	size_t sent;
	int err;

	err = tcp_stream_flush(&c->ts, &sent);
	if (sent) {
		c->tps->st.tx_bytes += sent;
		c->last_ms = tmr_jiffies();
	}
	if (err) {
		c->tps->st.tx_errors++;
		conn_fail(c, "write", err);
		return;
	}
	(void)conn_update_fd(c);
}


static void tls_handshake(struct sip_conn *c)
{
	int err;

	err = tcp_stream_handshake(&c->ts);
	if (!err) {
		conn_opened(c);
		conn_flush(c);
		if (c->ts.state == TCP_OPEN)
			conn_read(c); /* application data may be buffered */
		(void)conn_update_fd(c);
		return;
	}
	if (err == EAGAIN) {
		(void)conn_update_fd(c);
		return;
	}
	c->tps->io.tls_failed++;
	tls_log_handshake_failure(c->ts.ssl, "TLS handshake failed with",
				  &c->peer, c->outgoing);
	conn_fail(c, "TLS handshake", EPROTO);
}


static void conn_pong(struct sip_conn *c)
{
	static const uint8_t crlf[2] = { '\r', '\n' };

	/* RFC 5626 4.4.1: a double-CRLF ping gets a single-CRLF pong */
	c->tps->io.keepalive_pongs++;
	(void)conn_write(c, crlf, sizeof(crlf));
}


/* Frame and deliver every complete message in the receive buffer.
 * @return false when the connection went away */
static bool conn_process(struct sip_conn *c)
{
	struct sip_transports *tps = c->tps;

	for (;;) {
		const char *p = (const char *)c->ts.rb.b + c->ts.roff;
		size_t len = c->ts.rb.end - c->ts.roff, msglen = 0, skip = 0;
		struct sip_rx rx;
		int err;

		/* RFC 5626 4.4.1 / RFC 3261 7.5: CRLFs between messages are
		 * keep-alives: CRLFCRLF is a ping, a lone CRLF a pong. */
		while (len >= 2 && p[0] == '\r' && p[1] == '\n') {
			if (len < 4)
				return true; /* wait: maybe a ping */
			if (p[2] == '\r' && p[3] == '\n') {
				conn_pong(c);
				if (c->ts.state == TCP_CLOSED)
					return false;
				p += 4;
				len -= 4;
				c->ts.roff += 4;
				continue;
			}
			p += 2;
			len -= 2;
			c->ts.roff += 2;
		}
		if (!len)
			break;
		err = sip_msg_frame(p, len, &msglen, &skip);
		if (err == ENODATA)
			break;
		if (!err && (skip + msglen > len || !msglen))
			err = EBADMSG;
		if (!err && msglen > tps->conf.max_msg)
			err = EMSGSIZE;
		if (err) {
			tps->st.rx_dropped++;
			conn_fail(c, "framing", err);
			return false;
		}
		memset(&rx, 0, sizeof(rx));
		rx.p = p + skip;
		rx.len = msglen;
		rx.tp = c->tp;
		rx.src = c->peer;
		rx.dst = c->laddr;
		rx.conn = c;
		rx.dgram = false;
		c->ts.roff += skip + msglen;
		tps->st.rx_msgs++;
		tps->st.rx_bytes += msglen;
		tps->recvh(&rx, tps->arg);
		if (c->ts.state == TCP_CLOSED)
			return false;
	}
	if (c->ts.roff == c->ts.rb.end)
		c->ts.roff = c->ts.rb.end = c->ts.rb.pos = 0;
	return true;
}


static void conn_read(struct sip_conn *c)
{
	int reads = 0, err;

	while (c->ts.state == TCP_OPEN) {
		ssize_t n;

		err = tcp_stream_rbuf_room(&c->ts);
		if (err) {
			if (err == EMSGSIZE)
				c->tps->st.rx_dropped++;
			conn_fail(c, "receive buffer", err);
			return;
		}
		n = tcp_stream_read(&c->ts, c->ts.rb.b + c->ts.rb.end,
				    c->ts.rb.size - c->ts.rb.end);
		if (n > 0) {
			c->ts.rb.end += (size_t)n;
			c->last_ms = tmr_jiffies();
			if (!conn_process(c))
				return;
			/* TLS must be drained: epoll cannot see the bytes
			 * OpenSSL already holds.  TCP is level-triggered. */
			if (!c->ts.ssl && ++reads >= TCP_READS_PER_EVENT)
				break;
			continue;
		}
		if (n == 0) {
			conn_close(c); /* peer closed */
			return;
		}
		if (n == -1)
			break;
		conn_fail(c, "read", errno);
		return;
	}
	(void)conn_update_fd(c);
}


static void conn_connected(struct sip_conn *c)
{
	tcp_local_addr(c->ts.fd, &c->laddr);
	c->tps->io.conn_connected++;
	if (c->ts.ssl) {
		c->ts.state = TCP_HANDSHAKE;
		tls_handshake(c);
		return;
	}
	conn_opened(c);
	conn_flush(c);
}


static void conn_fd_h(int flags, void *arg)
{
	struct sip_conn *c = mem_ref(arg);

	switch (c->ts.state) {
	case TCP_CONNECTING: {
		int soerr = tcp_stream_soerror(&c->ts);

		if (soerr)
			conn_fail(c, "connect", soerr);
		else
			conn_connected(c);
		break;
	}
	case TCP_HANDSHAKE:
		tls_handshake(c);
		break;
	case TCP_OPEN:
		if (flags & FD_WRITE) {
			if (c->ts.want_write) {
				c->ts.want_write = false;
				conn_read(c);
			}
			conn_flush(c);
		}
		if (flags & (FD_READ | FD_EXCEPT)) {
			conn_read(c);
			/* a TLS read may have unblocked a queued write */
			if (c->ts.ssl && tcp_stream_pending(&c->ts))
				conn_flush(c);
		}
		break;
	case TCP_CLOSED:
		break;
	}
	mem_deref(c);
}


static struct sip_conn *conn_find(const struct sip_transports *tps,
				  enum sip_transp tp, const struct sa *dst)
{
	struct le *le;

	LIST_FOREACH (hash_list(tps->conns, conn_key(tp, dst)), le) {
		struct sip_conn *c = le->data;
		if (c->tp == tp && c->ts.state != TCP_CLOSED &&
		    sa_eq(&c->peer, dst))
			return c;
	}
	return NULL;
}


/* The local address to bind outgoing connections to: the first listener
 * of this transport and family, when it is bound to a specific address. */
static const struct sa *conn_src(const struct sip_transports *tps,
				 enum sip_transp tp, int af)
{
	const struct sa *la = sip_transp_laddr(tps, tp, af);

	if (!la && tp == SIP_TRANSP_TLS)
		la = sip_transp_laddr(tps, SIP_TRANSP_TCP, af);
	return la && !sa_is_any(la) ? la : NULL;
}


static int conn_connect(struct sip_conn **cp, struct sip_transports *tps,
			enum sip_transp tp, const struct sa *dst,
			const char *host)
{
	struct sip_conn *c = NULL;
	bool done;
	int fd, err;

	if (tps->conns->n >= tps->conf.max_conns)
		return EMFILE;
	if (tp == SIP_TRANSP_TLS) {
		err = tls_cli_init(tps);
		if (err)
			return err;
	}
	err = tcp_connect(&fd, dst, conn_src(tps, tp, sa_af(dst)), &done);
	if (err)
		return err;
	err = conn_alloc(&c, tps, tp, fd, dst);
	if (err)
		return err;
	mem_ref(c); /* closing below would drop the table's reference */
	c->outgoing = true;
	if (tp == SIP_TRANSP_TLS) {
		err = tls_ssl_alloc(&c->ts.ssl, tps->ssl_cli, fd);
		if (!err)
			err = tls_ssl_set_host(c->ts.ssl, host, dst,
					       tps->tls_ca != NULL);
		if (err)
			goto fail;
		SSL_set_connect_state(c->ts.ssl);
	}
	if (done) {
		conn_connected(c);
		if (c->ts.state == TCP_CLOSED) {
			err = ECONNREFUSED;
			goto fail;
		}
	} else {
		err = conn_update_fd(c);
		if (err)
			goto fail;
	}
	*cp = c; /* the table holds it */
	mem_deref(c);
	return 0;
fail:
	if (c->ts.state != TCP_CLOSED)
		conn_close(c);
	mem_deref(c);
	return err;
}


/* ---- UDP ---- */

static void udp_flush(struct sip_transports *tps, struct sock *s)
{
	struct udp_tx *tx = s->tx;
	unsigned i = 0, j;

	while (i < tx->n) {
		int r = sendmmsg(s->fd, tx->m + i, tx->n - i, MSG_DONTWAIT);
		tps->io.tx_syscalls++;
		if (r > 0) {
			for (j = i; j < i + (unsigned)r; j++)
				tps->st.tx_bytes += tx->m[j].msg_len;
			tps->st.tx_msgs += (unsigned)r;
			i += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS) {
			/* socket buffer full: UDP is lossy, the transaction
			 * layer retransmits (RFC 3261 17.1.1.2) */
			tps->st.tx_errors += tx->n - i;
			break;
		}
		/* this datagram failed (unreachable, too big): skip it */
		tps->st.tx_errors++;
		i++;
	}
	tx->n = 0;
	tx->used = 0;
}


static void flush_all(struct sip_transports *tps)
{
	struct le *le;

	LIST_FOREACH (&tps->socks, le) {
		struct sock *s = le->data;
		if (s->tx && s->tx->n)
			udp_flush(tps, s);
	}
}


static void flush_hook(void *arg)
{
	struct sip_transports *tps = arg;

	loop_hook_remove(&tps->hook);
	tmr_cancel(&tps->flush_tmr);
	flush_all(tps);
}


/* Arm the end-of-batch flush.  The hook runs after this iteration's
 * events and timers; a datagram queued by another hook, after the loop
 * has passed our place in its hook list, is caught by the zero-delay
 * timer early in the next iteration (which then does not block). */
static void flush_arm(struct sip_transports *tps, struct sock *s)
{
	if (tps->hook.le.list)
		return;
	loop_hook_add(&tps->hook, flush_hook, tps);
	if (!tps->hook.le.list) {
		udp_flush(tps, s); /* no event loop: send now */
		return;
	}
	tmr_start(&tps->flush_tmr, 0, flush_hook, tps);
}


/* RFC 5626 4.4.1 keep-alives sometimes arrive over UDP as bare CRLFs. */
static bool only_crlf(const uint8_t *p, size_t len)
{
	size_t i;

	if (len > 4)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}


/* ---- local handover ---- */

/* A message on its way to a listener on this thread's loop. */
struct lh_msg {
	struct le le;    /* in lh.q */
	struct sock *to; /* weak: closing the listener drops its messages */
	struct sa src;   /* the sender's listener address */
	size_t len;
	bool once; /* sent once by a client transaction: sip_rx.once */
	uint8_t p[];
};

/*
 * The registry and the queue.  The event loop is per thread
 * (core/loop.h), so the registry is too: a transport object on another
 * thread's loop is reached through its socket, as another process would
 * be.  Nothing here is allocated but the queued messages, so an idle
 * registry owns no memory.
 */
struct lh_state {
	struct list socks; /* struct sock by lh_le: UDP listeners */
	struct list q;     /* struct lh_msg, oldest first */
	size_t qn, qbytes;
	struct loop_hook hook; /* delivers the queue */
	struct tmr wake;       /* keeps the next epoll_wait from blocking */
	bool off;
};

static _Thread_local struct lh_state lh;


void sip_transp_local_handover(bool on)
{
	lh.off = !on;
}


size_t sip_transp_local_pending(void)
{
	return lh.qn;
}


/* Nothing waits: stop the hook and the wake-up timer. */
static void lh_idle(void)
{
	loop_hook_remove(&lh.hook);
	tmr_cancel(&lh.wake);
}


/* A listener closes: it leaves the registry and what waits for it goes,
 * as the datagrams in a closed socket's buffer would. */
static void lh_unregister(struct sock *s)
{
	struct le *le;

	if (!s->lh_le.list)
		return;
	list_unlink(&s->lh_le);
	le = lh.q.head;
	while (le) {
		struct lh_msg *m = le->data;

		le = le->next;
		if (m->to != s)
			continue;
		list_unlink(&m->le);
		lh.qn--;
		lh.qbytes -= m->len;
		mem_deref(m);
	}
	if (!lh.q.head)
		lh_idle();
}


/* The registered listener that a datagram to dst would reach.  A listener
 * on the wildcard address takes dst's port on the loopback addresses
 * only: whether another address is one of this host's is not known here,
 * and a datagram that is not ours must go to the wire. */
static struct sock *lh_find(const struct sa *dst)
{
	struct le *le;

	LIST_FOREACH (&lh.socks, le) {
		struct sock *s = le->data;

		if (sa_eq(&s->laddr, dst))
			return s;
		if (sa_is_any(&s->laddr) && sa_af(&s->laddr) == sa_af(dst) &&
		    sa_port(&s->laddr) == sa_port(dst) && sa_is_loopback(dst))
			return s;
	}
	return NULL;
}


/* Deliver one message as udp_recv_h() delivers a datagram. */
static void lh_deliver(const struct lh_msg *m)
{
	struct sock *s = m->to;
	struct sip_transports *tps = s->tps;
	struct sip_rx rx;

	if (s->fd < 0 || !tps || tps->closed)
		return;
	if (m->len > tps->conf.max_msg) {
		tps->st.rx_dropped++; /* what recvmmsg's MSG_TRUNC would do */
		return;
	}
	if (only_crlf(m->p, m->len))
		return;
	memset(&rx, 0, sizeof(rx));
	rx.p = (const char *)m->p;
	rx.len = m->len;
	rx.tp = SIP_TRANSP_UDP;
	rx.src = m->src;
	rx.dst = s->laddr;
	rx.dgram = true;
	rx.once = m->once;
	tps->st.rx_msgs++;
	tps->st.rx_bytes += m->len;
	tps->io.local_rx++;
	/* the handler may close (or even release) the transport */
	mem_ref(tps);
	mem_ref(s);
	tps->recvh(&rx, tps->arg);
	mem_deref(s);
	mem_deref(tps);
}


/*
 * The end-of-batch hook: deliver what was queued before it started, in
 * order.  Messages queued by these deliveries re-add the hook (the loop
 * runs it again in this iteration, a bounded number of passes) and arm
 * the zero-delay timer, so that a later iteration picks them up without
 * waiting for an event; either way no handler runs inside another's send.
 */
static void lh_drain(void *arg)
{
	size_t n = lh.qn;

	(void)arg;
	lh_idle();
	while (n-- && lh.q.head) {
		struct lh_msg *m = lh.q.head->data;

		list_unlink(&m->le);
		lh.qn--;
		lh.qbytes -= m->len;
		lh_deliver(m);
		mem_deref(m);
	}
}


static void lh_wake(void *arg)
{
	/* nothing to do: the hook, still armed, runs after the timers */
	(void)arg;
}


/*
 * Hand a UDP message over to a listener on this loop.
 *
 * @return 0 when it is queued; ENOENT when it must take the socket (off,
 *         no such listener, no event loop, queue full, out of memory)
 */
static int lh_send(struct sip_transports *tps, const struct sock *from,
		   const struct sa *dst, const void *p, size_t len, bool once)
{
	struct lh_msg *m;
	struct sock *to;

	if (!lh.socks.head || lh.off || tps->conf.no_local_handover)
		return ENOENT;
	to = lh_find(dst);
	if (!to)
		return ENOENT;
	if (lh.qn >= LH_QUEUE_MAX || len > LH_QUEUE_BYTES - lh.qbytes) {
		/* the receiver is far behind: its socket buffer would be
		 * full as well; the kernel drops (or takes) the datagram */
		tps->io.local_overflow++;
		return ENOENT;
	}
	loop_hook_add(&lh.hook, lh_drain, NULL);
	if (!lh.hook.le.list)
		return ENOENT; /* no event loop to deliver from */
	m = mem_alloc(sizeof(*m) + len, NULL);
	if (!m) {
		if (!lh.q.head)
			lh_idle();
		return ENOENT;
	}
	m->to = to;
	m->len = len;
	m->once = once;
	memcpy(m->p, p, len);
	m->src = from->laddr;
	if (sa_is_any(&m->src)) {
		/* the kernel sends to a local address from that address */
		m->src = *dst;
		sa_set_port(&m->src, sa_port(&from->laddr));
	}
	list_append(&lh.q, &m->le, m);
	lh.qn++;
	lh.qbytes += len;
	if (!tmr_isrunning(&lh.wake))
		tmr_start(&lh.wake, 0, lh_wake, NULL);
	tps->st.tx_msgs++;
	tps->st.tx_bytes += len;
	tps->io.local_tx++;
	return 0;
}


/* `once`: non-NULL for a transaction's first send, told whether the
 * message was handed over (see lh_send). */
static int udp_send(struct sip_transports *tps, const struct sa *dst,
		    const void *p, size_t len, bool *once)
{
	struct sock *s = sa_af(dst) == AF_INET6 ? tps->udp6 : tps->udp4;
	struct udp_tx *tx;
	unsigned n;

	if (!s)
		return EAFNOSUPPORT;
	if (len > UDP_MAX_PAYLOAD)
		return EMSGSIZE;
	if (!lh_send(tps, s, dst, p, len, once != NULL)) {
		if (once)
			*once = true;
		return 0;
	}
	tx = s->tx;
	if (tx->n == UDP_BATCH || len > UDP_TXBUF - tx->used)
		udp_flush(tps, s);
	n = tx->n++;
	memcpy(tx->buf + tx->used, p, len);
	tx->iov[n].iov_base = tx->buf + tx->used;
	tx->iov[n].iov_len = len;
	tx->used += len;
	memcpy(&tx->dst[n].u, &dst->u, sa_socklen(dst));
	tx->m[n].msg_hdr.msg_namelen = sa_socklen(dst);
	if (tx->n == UDP_BATCH) {
		udp_flush(tps, s);
		return 0;
	}
	flush_arm(tps, s);
	return 0;
}


/*
 * RFC 3261 18.4: host, network, port or protocol unreachable and parameter
 * problem tell the transport user that the send failed; source quench and
 * TTL exceeded are ignored, and so is "fragmentation needed" (a path MTU
 * matter the kernel handles, not a dead next hop).
 */
static bool icmp_fatal(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
		return (ee->ee_type == ICMP_DEST_UNREACH &&
			ee->ee_code != ICMP_FRAG_NEEDED) ||
		       ee->ee_type == ICMP_PARAMETERPROB;
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
		return ee->ee_type == ICMP6_DST_UNREACH ||
		       ee->ee_type == ICMP6_PARAM_PROB;
	return false;
}


/* One entry of the socket's error queue; false when it is empty. */
static bool errq_read_one(struct sip_transports *tps, struct sock *s)
{
	uint8_t payload[ERRQ_PAYLOAD];
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} ctl;
	struct sock_extended_err ee;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	struct sa dst;
	bool have = false;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	memset(&dst, 0, sizeof(dst));
	iov.iov_base = payload;
	iov.iov_len = sizeof(payload);
	mh.msg_name = &dst.u;
	mh.msg_namelen = sizeof(dst.u);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	r = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (r < 0)
		return errno == EINTR;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (!((cm->cmsg_level == SOL_IP &&
		       cm->cmsg_type == IP_RECVERR) ||
		      (cm->cmsg_level == SOL_IPV6 &&
		       cm->cmsg_type == IPV6_RECVERR)) ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		have = true;
	}
	/* msg_name: where the datagram that failed was going */
	if (!have || !icmp_fatal(&ee) || !ee.ee_errno ||
	    mh.msg_namelen < sizeof(struct sockaddr_in) ||
	    mh.msg_namelen > sizeof(dst.u))
		return true;
	dst.len = mh.msg_namelen;
	tps->io.icmp_errors++;
	tps->st.tx_errors++;
	if (log_level_cur >= LOG_LVL_DEBUG || log_trace_enabled(LOG_MODULE)) {
		char dbuf[SA_STRLEN];

		sa_fmt(&dst, dbuf, sizeof(dbuf));
		LOG_DEBUG(NULL, "UDP %s: ICMP type %u code %u: %s", dbuf,
			  ee.ee_type, ee.ee_code,
			  log_strerror((int)ee.ee_errno));
	}
	if (tps->failh)
		tps->failh((int)ee.ee_errno, SIP_TRANSP_UDP, &dst, payload,
			   (size_t)r, tps->fail_arg);
	return true;
}


/* Read the error queue (bounded); the caller holds references on tps and
 * s, since the failure handler may close the transport. */
static void errq_read(struct sip_transports *tps, struct sock *s)
{
	unsigned i;

	for (i = 0; i < UDP_BATCH && s->fd >= 0 && !tps->closed; i++)
		if (!errq_read_one(tps, s))
			break;
}


/* One recvmmsg() into the slots: the datagrams read, 0 when none waits,
 * -1 on an error.  A pending ICMP error (sk_err) fails one receive call and
 * is cleared by it; the datagrams behind it are read by a second. */
static int udp_read(struct sip_transports *tps, struct sock *s,
		    struct udp_rx *rx)
{
	int n = -1, i, tries;

	for (tries = 0; tries < 2 && s->fd >= 0 && !tps->closed; tries++) {
		for (i = 0; i < UDP_BATCH; i++)
			rx->m[i].msg_hdr.msg_namelen = sizeof(rx->src[i].u);
		n = recvmmsg(s->fd, rx->m, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		errq_read(tps, s);
	}
	return -1;
}


/* Hand every datagram of a batch to the receive handler. */
static void udp_deliver(struct sip_transports *tps, struct sock *s,
			struct udp_rx *rx, int n)
{
	struct sip_rx m;
	int i;

	memset(&m, 0, sizeof(m));
	m.tp = SIP_TRANSP_UDP;
	m.dst = s->laddr;
	m.dgram = true;
	for (i = 0; i < n && s->fd >= 0; i++) {
		const uint8_t *p = rx->buf + (size_t)i * rx->slot;
		size_t len = rx->m[i].msg_len;

		if ((rx->m[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    len > tps->conf.max_msg) {
			tps->st.rx_dropped++;
			continue;
		}
		if (only_crlf(p, len))
			continue;
		m.p = (const char *)p;
		m.len = len;
		memcpy(&m.src.u, &rx->src[i].u, rx->m[i].msg_hdr.msg_namelen);
		m.src.len = rx->m[i].msg_hdr.msg_namelen;
		tps->st.rx_msgs++;
		tps->st.rx_bytes += len;
		tps->recvh(&m, tps->arg);
	}
}


/*
 * The socket is readable: read and handle batches until it is empty, at
 * most UDP_DRAIN_MAX of them (then the loop's timers, hooks and other
 * sockets get their turn).
 *
 * Why read again instead of going back to epoll_wait: under load more
 * datagrams arrive while a batch is handled, and epoll_wait would only
 * say so, a syscall for nothing.  Measured at 10,000 REGISTER/s, 4 in 5
 * epoll_wait calls returned at once, each about a microsecond of kernel
 * time in a VM: more than the recvmmsg that read the one to three
 * datagrams behind it.  A read that finds nothing costs a syscall too, so
 * one is tried only when there is a sign of load: the batch held more
 * than one datagram, or the last such read on this socket found some.  At
 * a low rate (one datagram per wake-up) nothing changes.
 */
static void udp_recv_h(int flags, void *arg)
{
	struct sock *s = arg;
	struct sip_transports *tps = s->tps;
	struct udp_rx *rx = tps->rx;
	int n, round;

	/* the handlers may close (or even release) the transport */
	mem_ref(tps);
	mem_ref(s);
	mem_ref(rx);
	if (flags & FD_EXCEPT)
		errq_read(tps, s);
	for (round = 0; round < UDP_DRAIN_MAX; round++) {
		if (s->fd < 0 || tps->closed)
			break;
		n = udp_read(tps, s, rx);
		if (round > 0) {
			s->drain_hit = n > 0;
			if (n <= 0)
				tps->io.rx_empty++;
		}
		if (n <= 0 || s->fd < 0 || tps->closed)
			break;
		tps->io.rx_syscalls++;
		udp_deliver(tps, s, rx, n);
		if (n == 1 && !s->drain_hit)
			break;
	}
	mem_deref(rx);
	mem_deref(s);
	mem_deref(tps);
}


static void udp_rx_destructor(void *arg)
{
	struct udp_rx *rx = arg;

	mem_deref(rx->buf);
}


static int udp_rx_alloc(struct sip_transports *tps)
{
	struct udp_rx *rx;
	unsigned i;

	if (tps->rx)
		return 0;
	rx = mem_zalloc(sizeof(*rx), udp_rx_destructor);
	if (!rx)
		return ENOMEM;
	rx->slot = tps->conf.max_msg;
	rx->buf = mem_alloc(UDP_BATCH * rx->slot, NULL);
	if (!rx->buf) {
		mem_deref(rx);
		return ENOMEM;
	}
	for (i = 0; i < UDP_BATCH; i++) {
		rx->iov[i].iov_base = rx->buf + (size_t)i * rx->slot;
		rx->iov[i].iov_len = rx->slot;
		rx->m[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->m[i].msg_hdr.msg_iovlen = 1;
		rx->m[i].msg_hdr.msg_name = &rx->src[i].u;
	}
	tps->rx = rx;
	return 0;
}


/* ---- listeners ---- */

static void sock_close(struct sock *s)
{
	lh_unregister(s);
	tmr_cancel(&s->tmr);
	if (s->fd >= 0) {
		fd_close(s->fd);
		(void)close(s->fd);
		s->fd = -1;
	}
}


static void sock_destructor(void *arg)
{
	struct sock *s = arg;

	sock_close(s);
	mem_deref(s->tx);
}


static void listen_h(int flags, void *arg);

static void listen_resume(void *arg)
{
	struct sock *s = arg;

	if (fd_listen(s->fd, FD_READ, listen_h, s))
		tmr_start(&s->tmr, EMFILE_PAUSE_MS, listen_resume, s);
}


static void accept_one(struct sock *s, int fd, const struct sa *peer)
{
	struct sip_transports *tps = s->tps;
	struct sip_conn *c;

	if (tps->conns->n >= tps->conf.max_conns) {
		(void)close(fd);
		tps->st.conn_refused++;
		return;
	}
	if (conn_alloc(&c, tps, s->tp, fd, peer))
		return;
	c->laddr = s->laddr;
	tcp_local_addr(fd, &c->laddr);
	tps->io.conn_accepted++;
	if (s->tp == SIP_TRANSP_TLS) {
		if (tls_ssl_alloc(&c->ts.ssl, tps->ssl_srv, fd)) {
			conn_close(c);
			return;
		}
		SSL_set_accept_state(c->ts.ssl);
		c->ts.state = TCP_HANDSHAKE;
	} else {
		conn_opened(c);
	}
	(void)conn_update_fd(c);
}


static void listen_h(int flags, void *arg)
{
	struct sock *s = arg;
	int i;

	(void)flags;
	for (i = 0; i < ACCEPT_BATCH && s->fd >= 0; i++) {
		struct sa peer;
		int fd, err;

		err = tcp_accept(s->fd, &fd, &peer);
		if (!err) {
			accept_one(s, fd, &peer);
			continue;
		}
		if (err == EINTR || err == ECONNABORTED)
			continue;
		if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
		    err == ENOMEM) {
			/* out of descriptors: pause instead of spinning */
			LOG_WARN(NULL, "accept: %s", log_strerror(err));
			fd_close(s->fd);
			tmr_start(&s->tmr, EMFILE_PAUSE_MS, listen_resume, s);
		}
		break;
	}
}


/* ---- public API ---- */

/* At shutdown: what went through the sockets and what was handed over
 * in-process (so that a run shows whether co-located roles used the
 * short path). */
static void log_totals(const struct sip_transports *tps)
{
	const struct sock *s = list_head_data(&tps->socks);
	char lbuf[SA_STRLEN];

	if (!s || (!tps->io.local_tx && !tps->io.local_rx &&
		   log_level_cur < LOG_LVL_DEBUG))
		return;
	sa_fmt(&s->laddr, lbuf, sizeof(lbuf));
	LOG_INFO(NULL,
		 "%s: %llu messages out (%llu sendmmsg calls, %llu handed over "
		 "in-process), %llu in (%llu recvmmsg calls, %llu more found "
		 "none, %llu handed over)",
		 lbuf, (unsigned long long)tps->st.tx_msgs,
		 (unsigned long long)tps->io.tx_syscalls,
		 (unsigned long long)tps->io.local_tx,
		 (unsigned long long)tps->st.rx_msgs,
		 (unsigned long long)tps->io.rx_syscalls,
		 (unsigned long long)tps->io.rx_empty,
		 (unsigned long long)tps->io.local_rx);
}

static void transp_destructor(void *arg)
{
	struct sip_transports *tps = arg;

	sip_transp_close(tps);
	mem_deref(tps->conns);
	mem_deref(tps->tls_cert);
	mem_deref(tps->tls_key);
	mem_deref(tps->tls_ca);
}


static int strdup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = mem_strdup(src, strlen(src));
	return *dst ? 0 : ENOMEM;
}


/**
 * Create a transport object (no sockets yet: see sip_transp_listen).
 *
 * @param tpp    receives the object
 * @param conf   limits and TLS files, or NULL for the defaults
 * @param recvh  called once per received message
 * @param arg    handler argument
 * @return 0, EINVAL (bad arguments) or ENOMEM
 */
int sip_transp_alloc(struct sip_transports **tpp,
		     const struct sip_transp_conf *conf,
		     sip_transp_recv_h *recvh, void *arg)
{
	struct sip_transports *tps;
	uint32_t hsize;
	int err;

	if (!tpp || !recvh)
		return EINVAL;
	if (conf && conf->max_msg > SIP_MSG_MAX)
		return EINVAL;
	tps = mem_zalloc(sizeof(*tps), transp_destructor);
	if (!tps)
		return ENOMEM;
	if (conf)
		tps->conf = *conf;
	if (!tps->conf.max_conns)
		tps->conf.max_conns = 4096;
	if (!tps->conf.max_msg)
		tps->conf.max_msg = SIP_MSG_MAX;
	if (!tps->conf.idle_timeout_s)
		tps->conf.idle_timeout_s = 600;
	tps->recvh = recvh;
	tps->arg = arg;
	list_init(&tps->socks);
	tmr_init(&tps->flush_tmr);
	err = strdup_opt(&tps->tls_cert, tps->conf.tls_cert);
	if (!err)
		err = strdup_opt(&tps->tls_key, tps->conf.tls_key);
	if (!err)
		err = strdup_opt(&tps->tls_ca, tps->conf.tls_ca);
	tps->conf.tls_cert = tps->tls_cert;
	tps->conf.tls_key = tps->tls_key;
	tps->conf.tls_ca = tps->tls_ca;
	hsize = tps->conf.max_conns > 65536 ? 65536
					    : (uint32_t)tps->conf.max_conns;
	if (!err)
		err = hash_alloc(&tps->conns, hsize);
	if (err) {
		mem_deref(tps);
		return err;
	}
	*tpp = tps;
	return 0;
}


/**
 * Close every socket and connection.  Queued UDP datagrams are sent
 * first; queued stream bytes are dropped.  Connections that others still
 * reference turn dead (sip_conn_alive() is false).  Idempotent.
 */
void sip_transp_close(struct sip_transports *tps)
{
	uint32_t i;

	if (!tps || tps->closed)
		return;
	flush_all(tps);
	log_totals(tps);
	tps->closed = true;
	loop_hook_remove(&tps->hook);
	tmr_cancel(&tps->flush_tmr);
	if (tps->conns) {
		for (i = 0; i <= tps->conns->mask; i++) {
			struct list *l = &tps->conns->bucket[i];
			while (l->head)
				conn_close(l->head->data);
		}
	}
	while (tps->socks.head) {
		struct sock *s = tps->socks.head->data;
		sock_close(s);
		list_unlink(&s->le);
		mem_deref(s);
	}
	tps->udp4 = tps->udp6 = NULL;
	tps->rx = mem_deref(tps->rx);
	SSL_CTX_free(tps->ssl_srv);
	SSL_CTX_free(tps->ssl_cli);
	tps->ssl_srv = tps->ssl_cli = NULL;
}


/* A UDP socket bound to laddr (IPV6_V6ONLY as for the listeners). */
static int udp_open(struct sock *s, const struct sa *laddr)
{
	struct sa la;
	int one = 1;

	s->fd = socket(sa_af(laddr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (s->fd < 0)
		return errno_nz();
	if (sa_af(laddr) == AF_INET6 &&
	    setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		return errno_nz();
	sock_bufsize(s->fd);
	/* RFC 3261 18.4: ICMP errors for our datagrams (see errq_read) */
	if (sa_af(laddr) == AF_INET6)
		(void)setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
				 sizeof(one));
	else
		(void)setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &one,
				 sizeof(one));
	if (bind(s->fd, &laddr->u.sa, sa_socklen(laddr)) < 0)
		return errno_nz();
	la.len = sizeof(la.u);
	if (getsockname(s->fd, &la.u.sa, &la.len) < 0)
		return errno_nz();
	s->laddr = la;
	return 0;
}


/**
 * Open a UDP socket or a TCP/TLS listener.
 *
 * @param tps    transport object
 * @param tp     SIP_TRANSP_UDP, _TCP or _TLS (TLS needs tls_cert/tls_key)
 * @param laddr  address to bind (port 0: any free port)
 * @return 0 or an errno (EADDRINUSE, EINVAL, EPROTONOSUPPORT, ...)
 */
int sip_transp_listen(struct sip_transports *tps, enum sip_transp tp,
		      const struct sa *laddr)
{
	struct sock *s;
	int err, af;

	if (!tps || !laddr || !sa_isset(laddr) || tps->closed)
		return EINVAL;
	if (tp != SIP_TRANSP_UDP && tp != SIP_TRANSP_TCP &&
	    tp != SIP_TRANSP_TLS)
		return EPROTONOSUPPORT;
	if (tp == SIP_TRANSP_TLS) {
		err = tls_srv_init(tps);
		if (err)
			return err;
	}
	if (tp == SIP_TRANSP_UDP) {
		err = udp_rx_alloc(tps);
		if (err)
			return err;
	}
	af = sa_af(laddr);
	s = mem_zalloc(sizeof(*s), sock_destructor);
	if (!s)
		return ENOMEM;
	s->tps = tps;
	s->tp = tp;
	tmr_init(&s->tmr);
	s->fd = -1;
	if (tp != SIP_TRANSP_UDP) {
		err = tcp_listen(&s->fd, laddr, &s->laddr);
		if (err)
			goto out;
	} else {
		err = udp_open(s, laddr);
		if (err)
			goto out;
	}
	if (tp == SIP_TRANSP_UDP) {
		unsigned i;
		s->tx = mem_zalloc(sizeof(*s->tx), NULL);
		if (!s->tx) {
			err = ENOMEM;
			goto out;
		}
		for (i = 0; i < UDP_BATCH; i++) {
			s->tx->m[i].msg_hdr.msg_iov = &s->tx->iov[i];
			s->tx->m[i].msg_hdr.msg_iovlen = 1;
			s->tx->m[i].msg_hdr.msg_name = &s->tx->dst[i].u;
		}
	}
	err = fd_listen(s->fd, FD_READ,
			tp == SIP_TRANSP_UDP ? udp_recv_h : listen_h, s);
	if (err)
		goto out;
	list_append(&tps->socks, &s->le, s);
	if (tp == SIP_TRANSP_UDP && af == AF_INET && !tps->udp4)
		tps->udp4 = s;
	if (tp == SIP_TRANSP_UDP && af == AF_INET6 && !tps->udp6)
		tps->udp6 = s;
	if (tp == SIP_TRANSP_UDP && !tps->conf.no_local_handover)
		list_append(&lh.socks, &s->lh_le, s);
	s = NULL;
out:
	mem_deref(s);
	return err;
}


/**
 * Send one message.
 *
 * UDP: the bytes are copied into the socket's batch (sent by the loop
 * hook, when the batch fills, or by sip_transp_flush).  Streams: on `conn`
 * when it is alive, else on a connection to dst (reused, or opened now with
 * the bytes queued until it is up, RFC 3261 18.1.1 / 18.2.2).
 *
 * @return 0, EINVAL, EMSGSIZE (over max_msg), EAFNOSUPPORT (no UDP socket
 *         of dst's family), ENOBUFS (connection queue full), EMFILE (over
 *         max_conns), or the error of socket()/connect()
 */
static int send_msg(struct sip_transports *tps, enum sip_transp tp,
		    const struct sa *dst, struct sip_conn *conn, const void *p,
		    size_t len, bool *once)
{
	struct sip_conn *c = NULL;
	int err;

	if (!tps || !p || !len || tps->closed)
		return EINVAL;
	if (len > tps->conf.max_msg)
		return EMSGSIZE;
	switch (tp) {
	case SIP_TRANSP_UDP:
		if (!sa_isset(dst))
			return EINVAL;
		return udp_send(tps, dst, p, len, once);
	case SIP_TRANSP_TCP:
	case SIP_TRANSP_TLS:
		break;
	default:
		return EPROTONOSUPPORT;
	}
	if (conn && conn->ts.state != TCP_CLOSED && conn->tps == tps)
		c = conn;
	else if (!sa_isset(dst))
		return conn ? ENOTCONN : EINVAL;
	else
		c = conn_find(tps, tp, dst);
	if (!c) {
		err = conn_connect(&c, tps, tp, dst, NULL);
		if (err) {
			tps->st.tx_errors++;
			return err;
		}
	}
	err = conn_write(c, p, len);
	if (!err)
		tps->st.tx_msgs++;
	return err;
}


int sip_transp_send(struct sip_transports *tps, enum sip_transp tp,
		    const struct sa *dst, struct sip_conn *conn, const void *p,
		    size_t len)
{
	return send_msg(tps, tp, dst, conn, p, len, NULL);
}


int sip_transp_send_once(struct sip_transports *tps, enum sip_transp tp,
			 const struct sa *dst, struct sip_conn *conn,
			 const void *p, size_t len, bool *once)
{
	*once = false;
	return send_msg(tps, tp, dst, conn, p, len, once);
}


int sip_transp_connect(struct sip_transports *tps, enum sip_transp tp,
		       const struct sa *dst, const char *host,
		       struct sip_conn **connp)
{
	struct sip_conn *c;
	int err;

	if (!tps || !sa_isset(dst) || !connp || tps->closed)
		return EINVAL;
	if (tp != SIP_TRANSP_TCP && tp != SIP_TRANSP_TLS)
		return EPROTONOSUPPORT;
	c = conn_find(tps, tp, dst);
	if (!c) {
		err = conn_connect(&c, tps, tp, dst, host);
		if (err)
			return err;
	}
	*connp = mem_ref(c);
	return 0;
}


void sip_transp_flush(struct sip_transports *tps)
{
	if (!tps)
		return;
	loop_hook_remove(&tps->hook);
	tmr_cancel(&tps->flush_tmr);
	flush_all(tps);
}


const struct sa *sip_transp_laddr(const struct sip_transports *tps,
				  enum sip_transp tp, int af)
{
	struct le *le;

	if (!tps)
		return NULL;
	LIST_FOREACH (&tps->socks, le) {
		const struct sock *s = le->data;
		if (s->tp == tp && sa_af(&s->laddr) == af)
			return &s->laddr;
	}
	return NULL;
}


bool sip_transp_reliable(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TCP || tp == SIP_TRANSP_TLS;
}


const char *sip_transp_name(enum sip_transp tp)
{
	switch (tp) {
	case SIP_TRANSP_UDP:
		return "UDP";
	case SIP_TRANSP_TCP:
		return "TCP";
	case SIP_TRANSP_TLS:
		return "TLS";
	default:
		return "?";
	}
}


/** "UDP", "tcp", "TLS" (any case, RFC 3261 25.1 transport tokens) */
enum sip_transp sip_transp_from_pl(const struct pl *pl)
{
	if (!pl)
		return SIP_TRANSP_NONE;
	if (pl_eq_str_ci(pl, "udp"))
		return SIP_TRANSP_UDP;
	if (pl_eq_str_ci(pl, "tcp"))
		return SIP_TRANSP_TCP;
	if (pl_eq_str_ci(pl, "tls"))
		return SIP_TRANSP_TLS;
	return SIP_TRANSP_NONE;
}


void sip_transp_stats(const struct sip_transports *tps,
		      struct sip_transp_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!tps)
		return;
	*st = tps->st;
	st->conns = tps->conns ? tps->conns->n : 0;
}


void sip_transp_io_stats(const struct sip_transports *tps,
			 struct sip_transp_io_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (tps)
		*st = tps->io;
}


bool sip_conn_alive(const struct sip_conn *conn)
{
	return conn && conn->ts.state != TCP_CLOSED;
}


const struct sa *sip_conn_peer(const struct sip_conn *conn)
{
	return conn ? &conn->peer : NULL;
}


const struct sa *sip_conn_laddr(const struct sip_conn *conn)
{
	return conn ? &conn->laddr : NULL;
}


enum sip_transp sip_conn_transp(const struct sip_conn *conn)
{
	return conn ? conn->tp : SIP_TRANSP_NONE;
}


void sip_conn_close(struct sip_conn *conn)
{
	if (conn && conn->ts.state != TCP_CLOSED)
		conn_close(conn);
}
