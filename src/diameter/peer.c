/**
 * @file peer.c  Diameter peers: connections, the RFC 6733 5.6 state
 *               machine, CER/CEA, DWR/DWA (RFC 3539), DPR/DPA.
 *
 * Design (see docs/internals/diameter-peer.md):
 *
 * Connections.  A `struct conn` is a TCP or TLS/TCP stream on the event
 * loop: the struct tcp_stream of src/net/tcp.c that src/sip/transp.c uses
 * too (non-blocking sockets, OpenSSL over a socket BIO that sends with
 * MSG_NOSIGNAL, a write queue with a ceiling), with a receive buffer of
 * at most DIA_MSG_MAX framed here by dia_msg_frame().  The table `ps->conns`
 * holds one reference per connection; a peer holds its own references to its
 * initiator (icon) and responder (rcon) connections, the two of RFC 6733 5.6.
 * One timer per connection covers the setup: connect, TLS handshake and, for
 * accepted connections, the wait for the first CER.
 *
 * Peers.  A `struct dia_peer` is an entry of the allow-list with the state
 * machine of RFC 6733 5.6; its events are functions named after the
 * table's (psm_start, psm_conn_ack, psm_r_conn_cer, psm_rcv_cea, ...).
 * The actions that drop one of the two connections detach it from the
 * peer first, so that only unexpected losses come back as Peer-Disc
 * events.  The peer timer serves the state timeouts and, when closed, the
 * reconnection with back-off (from 1 s, doubling to Tc); a second timer is
 * the RFC 3539 watchdog of an open peer.
 *
 * Every received message is decoded (a copy, so the receive buffer can be
 * reused at once) and validated against the dictionary.  A message that
 * does not frame or decode, or whose header or AVP flags are wrong (3008,
 * 3009), is answered when it is a request whose header could be read and
 * the connection is closed after the answer: a peer that sends such bytes
 * cannot be trusted to stay in step.  Other validation errors go to the
 * node with the message, which answers them.
 */
#include "diameter/peer.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "net/tcp.h"
#include "net/tls.h"

#define LOG_MODULE "diameter"

enum {
	CONN_WBUF_MAX = 4 * DIA_MSG_MAX, /* queued output per connection */
	READS_PER_EVENT = 8,
	BACKOFF_START_MS = 1000,
	VENDOR_ID = 0, /* Vendor-Id of entims: none assigned (RFC 6733 5.3.3) */
};

struct conn {
	struct le le;          /* ps->conns (counted) */
	struct dia_peers *ps;  /* weak; NULL once closed */
	struct dia_peer *peer; /* weak: the peer it serves, or NULL */
	struct tcp_stream ts;  /* socket, TLS, receive and write buffers */
	bool outgoing;
	bool tls;
	bool close_after_flush;
	struct sa paddr;
	struct sa laddr;
	struct tmr tmr; /* setup deadline */
	uint32_t hbh;
};

struct dia_peer {
	struct le le;         /* ps->peers (counted) */
	struct dia_peers *ps; /* weak */
	char identity[DIA_IDENTITY_MAX + 1];
	char realm[DIA_IDENTITY_MAX + 1];
	struct sa addr;
	bool has_addr;
	unsigned flags;
	enum dia_peer_state state;
	struct conn *icon;    /* initiator connection (counted) */
	struct conn *rcon;    /* responder connection (counted) */
	struct dia_msg *rcer; /* the CER on rcon, held for the election */
	struct tmr tmr;       /* state timeout, or reconnect when closed */
	struct tmr wdt;       /* RFC 3539 watchdog */
	enum dia_wd_state wd;
	bool wd_pending; /* a DWR is unanswered */
	uint32_t tw_ms;  /* 0: the table's */
	uint32_t backoff_ms;
	bool stopped; /* no reconnection (Stop, DO_NOT_WANT_TO_TALK_TO_YOU) */
	int last_cause;
	struct dia_app apps[DIA_APPS_MAX];
	size_t napps;
	bool relay;
	size_t pending;
};

struct listener {
	struct le le;
	int fd;
	bool tls;
	struct sa laddr;
	struct dia_peers *ps; /* weak */
};

struct dia_peers {
	struct dia_peers_conf conf; /* strings point to the copies below */
	char *host, *realm, *product, *tls_cert, *tls_key, *tls_ca;
	struct dia_app apps[DIA_APPS_MAX];
	size_t napps;
	dia_peer_recv_h *recvh;
	dia_peer_event_h *evh;
	void *arg;
	struct list listeners;
	struct list conns;
	struct list peers;
	SSL_CTX *ssl_srv, *ssl_cli;
	uint32_t e2e;
	bool closed;
	struct dia_peers_stats st;
};

static void conn_fd_h(int flags, void *arg);
static void conn_read(struct conn *c);
static void conn_close(struct conn *c);
static void conn_msg(struct conn *c, struct dia_msg *msg);
static void psm_conn_ack(struct dia_peer *p);
static void psm_conn_down(struct dia_peer *p, struct conn *c);
static int conn_send(struct conn *c, const struct dia_msg *msg);
static void peers_close(struct dia_peers *ps);


/* ---- small helpers ---- */

static int errno_nz(void)
{
	int e = errno;

	return e > 0 ? e : EIO;
}


static uint32_t rand32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^
		    (uint32_t)getpid() << 16;
	}
	return v;
}


static socklen_t sa_socklen(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? sizeof(struct sockaddr_in6)
				     : sizeof(struct sockaddr_in);
}


/* Trace one message (log.trace = diameter). */
static void trace_msg(const char *dir, const struct dia_peer *p,
		      const struct conn *c, const struct dia_msg *msg)
{
	char pbuf[SA_STRLEN];
	struct buf *mb = NULL;

	if (!log_trace_enabled(LOG_MODULE))
		return;
	sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
	if (buf_alloc(&mb, 1024, 16384))
		return;
	if (dia_msg_print(mb, msg) && mb->end == 0) {
		mem_deref(mb);
		return;
	}
	LOG_DEBUG(NULL, "%s %s (%s):\n%.*s", dir, p ? p->identity : "?", pbuf,
		  (int)mb->end, (const char *)mb->b);
	mem_deref(mb);
}


/* ---- TLS contexts (RFC 6733 13: TLS 1.2 at least, mutual auth) ---- */

static int tls_ctx_new(SSL_CTX **ctxp, const struct dia_peers *ps, bool server)
{
	SSL_CTX *ctx = NULL;
	int err;

	err = tls_ctx_alloc(&ctx, server);
	if (err)
		return err;
	/* RFC 6733 13.1: both sides present a certificate, so the client
	 * loads ours too when configured */
	if (ps->tls_cert && ps->tls_key) {
		err = tls_ctx_use_cert(ctx, ps->tls_cert, ps->tls_key);
		if (err)
			goto out;
	} else if (server) {
		LOG_ERR(NULL, "a Diameter TLS listener needs tls_cert and "
			      "tls_key");
		err = EINVAL;
		goto out;
	}
	err = tls_ctx_use_ca(ctx, ps->tls_ca, server);
out:
	if (err)
		SSL_CTX_free(ctx);
	else
		*ctxp = ctx;
	return err;
}


static int tls_init(struct dia_peers *ps, bool server)
{
	SSL_CTX **ctxp = server ? &ps->ssl_srv : &ps->ssl_cli;

	if (*ctxp)
		return 0;
	if (tls_ctx_new(ctxp, ps, server))
		return EINVAL;
	if (!ps->tls_ca)
		LOG_WARN(NULL, "diameter: no tls_ca, TLS peers are NOT "
			       "verified");
	return 0;
}


/* RFC 6733 13: with a CA, the peer's certificate must name its
 * DiameterIdentity. */
static bool conn_cert_names(const struct conn *c, const char *identity)
{
	if (!c->ts.ssl || !c->ps || !c->ps->tls_ca)
		return true;
	return tls_ssl_names(c->ts.ssl, identity);
}


/* ---- connections ---- */

static void conn_destructor(void *arg)
{
	struct conn *c = arg;

	tmr_cancel(&c->tmr);
	tcp_stream_reset(&c->ts);
}


/* Close the socket and leave the table.  An unexpected loss is reported
 * to the peer as a Peer-Disc event; the state machine's own disconnects
 * detach the connection from the peer first. */
static void conn_close(struct conn *c)
{
	struct dia_peers *ps = c->ps;
	struct dia_peer *p = c->peer;

	if (c->ts.state == TCP_CLOSED || !ps)
		return;
	mem_ref(c);
	tmr_cancel(&c->tmr);
	tcp_stream_close(&c->ts); /* best effort close_notify */
	c->ps = NULL;
	list_unlink(&c->le);
	mem_deref(c); /* the table's reference */
	if (p) {
		c->peer = NULL;
		psm_conn_down(p, c);
	}
	mem_deref(c);
}


static void conn_tmr_h(void *arg)
{
	struct conn *c = arg;
	char pbuf[SA_STRLEN];

	sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
	LOG_INFO(NULL, "diameter connection %s: setup timed out", pbuf);
	conn_close(c);
}


static int conn_update_fd(struct conn *c)
{
	int err;

	err = tcp_stream_listen(&c->ts, conn_fd_h, c);
	if (err)
		conn_close(c);
	return err;
}


static int conn_alloc(struct conn **cp, struct dia_peers *ps, int fd,
		      const struct sa *paddr, bool tls)
{
	struct conn *c;
	int err;

	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c) {
		(void)close(fd);
		return ENOMEM;
	}
	err = tcp_stream_init(&c->ts, fd, DIA_MSG_MAX, CONN_WBUF_MAX);
	c->ps = ps;
	c->tls = tls;
	c->paddr = *paddr;
	c->paddr.len = sa_socklen(paddr);
	c->hbh = rand32();
	tmr_init(&c->tmr);
	if (err) {
		mem_deref(c);
		return err;
	}
	list_append(&ps->conns, &c->le, c);
	tmr_start(&c->tmr, ps->conf.setup_ms, conn_tmr_h, c);
	*cp = c;
	return 0;
}


static void conn_flush(struct conn *c)
{
	size_t sent;

	if (tcp_stream_flush(&c->ts, &sent)) {
		conn_close(c);
		return;
	}
	if (!tcp_stream_pending(&c->ts) && c->close_after_flush &&
	    c->ts.state == TCP_OPEN) {
		conn_close(c);
		return;
	}
	(void)conn_update_fd(c);
}


/* Queue the bytes (any state but closed) and write what can be. */
static int conn_write(struct conn *c, const uint8_t *p, size_t len)
{
	size_t sent;
	bool broken;
	int err;

	err = tcp_stream_send(&c->ts, p, len, &sent, &broken);
	if (broken) {
		conn_close(c);
		return err;
	}
	if (err)
		return err;
	return conn_update_fd(c);
}


/* Close once every queued byte has left (after an answer). */
static void conn_close_flushed(struct conn *c)
{
	if (c->ts.state == TCP_CLOSED)
		return;
	if (c->ts.state == TCP_OPEN && !tcp_stream_pending(&c->ts)) {
		conn_close(c);
		return;
	}
	c->close_after_flush = true;
	(void)conn_update_fd(c);
}


static int conn_send(struct conn *c, const struct dia_msg *msg)
{
	struct buf *mb = NULL;
	int err;

	if (!c || c->ts.state == TCP_CLOSED || c->close_after_flush)
		return ENOTCONN;
	err = buf_alloc(&mb, dia_msg_wire_len(msg), DIA_MSG_MAX);
	if (err)
		return err;
	err = dia_msg_encode(mb, msg);
	if (!err) {
		trace_msg("send to", c->peer, c, msg);
		err = conn_write(c, mb->b, mb->end);
		if (!err && c->ps)
			c->ps->st.tx_msgs++;
	}
	mem_deref(mb);
	return err;
}


/* ---- building base messages ---- */

static int add_origin(struct dia_peers *ps, struct dia_msg *msg)
{
	int err;

	err = dia_add_str(&msg->root, DIA_AVP_ORIGIN_HOST, 0, ps->host);
	if (!err)
		err = dia_add_str(&msg->root, DIA_AVP_ORIGIN_REALM, 0,
				  ps->realm);
	return err;
}


/* RFC 6733 5.3.1/5.3.2: the capabilities part of CER and CEA. */
static int add_caps(struct dia_peers *ps, struct conn *c, struct dia_msg *msg)
{
	uint32_t vendors[DIA_APPS_MAX];
	size_t nv = 0, i, j;
	struct sa la;
	int err;

	err = add_origin(ps, msg);
	if (err)
		return err;
	la = c->laddr;
	if (!sa_isset(&la)) {
		la.len = sizeof(la.u);
		if (getsockname(c->ts.fd, &la.u.sa, &la.len) != 0)
			return errno_nz();
		c->laddr = la;
	}
	err = dia_add_sa(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0, &la);
	if (!err)
		err = dia_add_u32(&msg->root, DIA_AVP_VENDOR_ID, 0, VENDOR_ID);
	if (!err)
		err = dia_add_str(&msg->root, DIA_AVP_PRODUCT_NAME, 0,
				  ps->product);
	for (i = 0; !err && i < ps->napps; i++) {
		uint32_t v = ps->apps[i].vendor;
		bool seen = false;

		for (j = 0; j < nv; j++)
			seen = seen || vendors[j] == v;
		if (v && !seen) {
			vendors[nv++] = v;
			err = dia_add_u32(&msg->root,
					  DIA_AVP_SUPPORTED_VENDOR_ID, 0, v);
		}
	}
	for (i = 0; !err && i < ps->napps; i++) {
		struct dia_avp *g;

		if (!ps->apps[i].vendor) {
			err = dia_add_u32(&msg->root,
					  DIA_AVP_AUTH_APPLICATION_ID, 0,
					  ps->apps[i].id);
			continue;
		}
		err = dia_add_group(&msg->root,
				    DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0,
				    &g);
		if (!err)
			err = dia_add_u32(g, DIA_AVP_VENDOR_ID, 0,
					  ps->apps[i].vendor);
		if (!err)
			err = dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0,
					  ps->apps[i].id);
	}
	if (!err && ps->conf.firmware)
		err = dia_add_u32(&msg->root, DIA_AVP_FIRMWARE_REVISION, 0,
				  ps->conf.firmware);
	return err;
}


static int req_alloc(struct dia_msg **mp, struct conn *c, uint32_t code)
{
	struct dia_msg *m = NULL;
	int err;

	err = dia_msg_alloc(&m, code, DIA_APP_COMMON, DIA_FLAG_R);
	if (err)
		return err;
	m->hbh = c->hbh++;
	m->e2e = dia_peers_e2e(c->ps);
	*mp = m;
	return 0;
}


static int send_cer(struct conn *c)
{
	struct dia_msg *m = NULL;
	int err;

	err = req_alloc(&m, c, DIA_CMD_CE);
	if (!err)
		err = add_caps(c->ps, c, m);
	if (!err)
		err = conn_send(c, m);
	mem_deref(m);
	return err;
}


/* An answer to req with a Result-Code; the capabilities too for a CEA.
 * Protocol errors (3xxx) get the E bit (RFC 6733 7.1.3). */
static int send_answer(struct conn *c, const struct dia_msg *req,
		       uint32_t rcode, const char *reason)
{
	struct dia_msg *a = NULL;
	struct dia_err de;
	int err;

	err = dia_msg_answer_alloc(&a, req);
	if (err)
		return err;
	memset(&de, 0, sizeof(de));
	de.rcode = rcode;
	de.reason = reason;
	if (rcode == DIA_SUCCESS)
		err = dia_add_u32(&a->root, DIA_AVP_RESULT_CODE, 0, rcode);
	else
		err = dia_msg_add_error(a, &de);
	if (!err)
		err = req->code == DIA_CMD_CE ? add_caps(c->ps, c, a)
					      : add_origin(c->ps, a);
	if (!err)
		err = conn_send(c, a);
	mem_deref(a);
	return err;
}


/* Answer a request that did not decode or validate, then close. */
static void conn_refuse(struct conn *c, const struct dia_msg *req,
			const struct dia_err *de)
{
	struct dia_msg *a = NULL;
	int err;

	if (!c->ps)
		return;
	c->ps->st.rx_malformed++;
	if (req && dia_msg_is_request(req))
		err = dia_msg_answer_alloc(&a, req);
	else
		err = dia_msg_answer_err_alloc(&a, de);
	if (!err)
		err = dia_msg_add_error(a, de);
	if (!err)
		err = add_origin(c->ps, a);
	if (!err)
		(void)conn_send(c, a);
	mem_deref(a);
	conn_close_flushed(c);
}


/* ---- framing and decoding ---- */

/* @return false when the connection went away */
static bool conn_process(struct conn *c)
{
	while (c->ts.state == TCP_OPEN && !c->close_after_flush) {
		const uint8_t *p = c->ts.rb.b + c->ts.roff;
		size_t len = c->ts.rb.end - c->ts.roff, msglen = 0;
		struct dia_msg *msg = NULL;
		struct dia_err de;
		char pbuf[SA_STRLEN];
		int err;

		if (!len)
			break;
		err = dia_msg_frame(p, len, &msglen);
		if (err == ENODATA)
			break;
		if (err) {
			sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
			LOG_WARN(NULL,
				 "diameter %s: not a Diameter stream "
				 "(%s), closing",
				 pbuf, log_strerror(err));
			c->ps->st.rx_malformed++;
			conn_close(c);
			return false;
		}
		memset(&de, 0, sizeof(de));
		err = dia_msg_decode(&msg, p, msglen, &de);
		c->ts.roff += msglen;
		if (err) {
			sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
			LOG_WARN(NULL,
				 "diameter %s: malformed message (%u %s), "
				 "closing",
				 pbuf, de.rcode,
				 de.reason ? de.reason : log_strerror(err));
			conn_refuse(c, NULL, &de);
			return false;
		}
		c->ps->st.rx_msgs++;
		conn_msg(c, msg);
		mem_deref(msg);
	}
	if (c->ts.state == TCP_CLOSED)
		return false;
	if (c->ts.roff == c->ts.rb.end)
		c->ts.roff = c->ts.rb.end = c->ts.rb.pos = 0;
	return true;
}


static void conn_read(struct conn *c)
{
	int reads = 0;

	while (c->ts.state == TCP_OPEN) {
		ssize_t n;

		if (c->close_after_flush) {
			/* nothing more is read from a connection we are
			 * closing; its bytes are dropped */
			uint8_t junk[4096];
			n = tcp_stream_read(&c->ts, junk, sizeof(junk));
			if (n > 0)
				continue;
			if (n == -1)
				break;
			conn_close(c);
			return;
		}
		if (tcp_stream_rbuf_room(&c->ts)) {
			c->ps->st.rx_malformed++;
			conn_close(c);
			return;
		}
		n = tcp_stream_read(&c->ts, c->ts.rb.b + c->ts.rb.end,
				    c->ts.rb.size - c->ts.rb.end);
		if (n > 0) {
			c->ts.rb.end += (size_t)n;
			if (!conn_process(c))
				return;
			if (!c->ts.ssl && ++reads >= READS_PER_EVENT)
				break;
			continue;
		}
		if (n == -1)
			break;
		conn_close(c); /* EOF or error */
		return;
	}
	(void)conn_update_fd(c);
}


/* Transport (and TLS) up. */
static void conn_opened(struct conn *c)
{
	c->ts.state = TCP_OPEN;
	c->ts.want_write = false;
	tcp_local_addr(c->ts.fd, &c->laddr);
	if (c->outgoing) {
		/* the peer's state timer takes over the deadline */
		tmr_cancel(&c->tmr);
		if (c->peer && c->peer->icon == c) {
			struct dia_peer *p = c->peer;
			mem_ref(c);
			psm_conn_ack(p);
			if (c->ts.state == TCP_OPEN)
				conn_flush(c);
			mem_deref(c);
		}
		return;
	}
	conn_flush(c);
}


static void tls_handshake(struct conn *c)
{
	int err;

	err = tcp_stream_handshake(&c->ts);
	if (!err) {
		mem_ref(c);
		conn_opened(c);
		if (c->ts.state == TCP_OPEN)
			conn_read(c); /* data may be buffered in OpenSSL */
		(void)conn_update_fd(c);
		mem_deref(c);
		return;
	}
	if (err == EAGAIN) {
		(void)conn_update_fd(c);
		return;
	}
	c->ps->st.tls_failed++;
	tls_log_handshake_failure(c->ts.ssl,
				  "diameter TLS handshake failed with",
				  &c->paddr, true);
	conn_close(c);
}


static void conn_connected(struct conn *c)
{
	if (c->ts.ssl) {
		c->ts.state = TCP_HANDSHAKE;
		tls_handshake(c);
		return;
	}
	conn_opened(c);
}


static void conn_fd_h(int flags, void *arg)
{
	struct conn *c = mem_ref(arg);

	switch (c->ts.state) {
	case TCP_CONNECTING: {
		int soerr = tcp_stream_soerror(&c->ts);

		if (soerr) {
			char pbuf[SA_STRLEN];
			sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
			LOG_INFO(NULL, "diameter connect to %s: %s", pbuf,
				 log_strerror(soerr));
			conn_close(c);
		} else {
			conn_connected(c);
		}
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
			if (c->ts.state == TCP_OPEN)
				conn_flush(c);
		}
		if ((flags & (FD_READ | FD_EXCEPT)) &&
		    c->ts.state == TCP_OPEN) {
			conn_read(c);
			if (c->ts.state == TCP_OPEN && c->ts.ssl &&
			    tcp_stream_pending(&c->ts))
				conn_flush(c);
		}
		break;
	case TCP_CLOSED:
		break;
	}
	mem_deref(c);
}


static int conn_connect(struct conn **cp, struct dia_peer *p)
{
	struct dia_peers *ps = p->ps;
	bool tls = (p->flags & DIA_PEER_TLS) != 0;
	struct conn *c = NULL;
	bool done;
	int fd, err;

	if (list_count(&ps->conns) >= ps->conf.max_conns)
		return EMFILE;
	if (tls) {
		err = tls_init(ps, false);
		if (err)
			return err;
	}
	err = tcp_connect(&fd, &p->addr, NULL, &done);
	if (err)
		return err;
	err = conn_alloc(&c, ps, fd, &p->addr, tls);
	if (err)
		return err;
	mem_ref(c);
	c->outgoing = true;
	c->peer = p;
	if (tls) {
		err = tls_ssl_alloc(&c->ts.ssl, ps->ssl_cli, fd);
		if (!err)
			err = tls_ssl_set_host(c->ts.ssl, p->identity, NULL,
					       ps->tls_ca != NULL);
		if (err)
			goto fail;
		SSL_set_connect_state(c->ts.ssl);
	}
	*cp = c; /* the caller's reference */
	if (done) {
		/* loopback may connect at once: report it from the loop,
		 * as for EINPROGRESS, never from inside the caller */
		c->ts.fdflags = 0;
		err = fd_listen(fd, FD_WRITE, conn_fd_h, c);
		c->ts.fdflags = FD_WRITE;
	} else {
		err = conn_update_fd(c);
	}
	if (err) {
		*cp = NULL;
		goto fail;
	}
	return 0;
fail:
	c->peer = NULL;
	conn_close(c);
	mem_deref(c);
	return err;
}


/* ---- listeners ---- */

static void listener_destructor(void *arg)
{
	struct listener *l = arg;

	if (l->fd >= 0) {
		fd_close(l->fd);
		(void)close(l->fd);
	}
}


static void accept_one(struct listener *l, int fd, const struct sa *paddr)
{
	struct dia_peers *ps = l->ps;
	struct conn *c;

	if (list_count(&ps->conns) >= ps->conf.max_conns) {
		(void)close(fd);
		ps->st.conn_refused++;
		LOG_WARN(NULL, "diameter: over %zu connections, refusing one",
			 ps->conf.max_conns);
		return;
	}
	if (conn_alloc(&c, ps, fd, paddr, l->tls))
		return;
	ps->st.conn_accepted++;
	if (l->tls) {
		if (tls_ssl_alloc(&c->ts.ssl, ps->ssl_srv, fd)) {
			conn_close(c);
			return;
		}
		SSL_set_accept_state(c->ts.ssl);
		c->ts.state = TCP_HANDSHAKE;
	} else {
		c->ts.state = TCP_OPEN;
	}
	(void)conn_update_fd(c);
}


static void listen_h(int flags, void *arg)
{
	struct listener *l = arg;
	int i;

	(void)flags;
	for (i = 0; i < 64 && l->fd >= 0; i++) {
		struct sa peer;
		int fd, err;

		err = tcp_accept(l->fd, &fd, &peer);
		if (!err) {
			accept_one(l, fd, &peer);
			continue;
		}
		if (err == EINTR || err == ECONNABORTED)
			continue;
		if (err != EAGAIN)
			LOG_WARN(NULL, "diameter accept: %s",
				 log_strerror(err));
		break;
	}
}


/* ---- capabilities ---- */

/* Read the applications a CER or CEA advertises into the peer.
 * @return the number in common with ours */
static size_t caps_read(struct dia_peer *p, const struct dia_msg *m)
{
	const struct dia_peers *ps = p->ps;
	const struct dia_avp *a;
	size_t common = 0, i;
	uint32_t id;

	p->napps = 0;
	p->relay = false;
	for (a = dia_avp_first(&m->root); a; a = dia_avp_sibling(a)) {
		const struct dia_avp *g = a;
		uint32_t vendor = 0;

		if (a->vendor)
			continue;
		if (a->code == DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID) {
			if (dia_get_u32(g, DIA_AVP_VENDOR_ID, 0, &vendor) ||
			    (dia_get_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0,
					 &id) &&
			     dia_get_u32(g, DIA_AVP_ACCT_APPLICATION_ID, 0,
					 &id)))
				continue;
		} else if (a->code == DIA_AVP_AUTH_APPLICATION_ID ||
			   a->code == DIA_AVP_ACCT_APPLICATION_ID) {
			if (dia_avp_u32(a, &id))
				continue;
		} else {
			continue;
		}
		if (id == DIA_APP_RELAY)
			p->relay = true;
		else if (p->napps < DIA_APPS_MAX) {
			p->apps[p->napps].id = id;
			p->apps[p->napps].vendor = vendor;
			p->napps++;
		}
	}
	for (i = 0; i < ps->napps; i++)
		if (p->relay || dia_peer_has_app(p, ps->apps[i].id))
			common++;
	return common;
}


static void peer_set_realm(struct dia_peer *p, const struct dia_msg *m)
{
	struct pl r;

	if (!dia_get_pl(&m->root, DIA_AVP_ORIGIN_REALM, 0, &r) &&
	    pl_strcpy(&r, p->realm, sizeof(p->realm)))
		p->realm[0] = '\0';
}


/* ---- the peer state machine, RFC 6733 5.6 ---- */

const char *dia_peer_state_name(enum dia_peer_state st)
{
	switch (st) {
	case DIA_PEER_CLOSED:
		return "Closed";
	case DIA_PEER_WAIT_CONN_ACK:
		return "Wait-Conn-Ack";
	case DIA_PEER_WAIT_I_CEA:
		return "Wait-I-CEA";
	case DIA_PEER_WAIT_CONN_ACK_ELECT:
		return "Wait-Conn-Ack/Elect";
	case DIA_PEER_WAIT_RETURNS:
		return "Wait-Returns";
	case DIA_PEER_R_OPEN:
		return "R-Open";
	case DIA_PEER_I_OPEN:
		return "I-Open";
	case DIA_PEER_CLOSING:
		return "Closing";
	}
	return "?";
}


const char *dia_wd_state_name(enum dia_wd_state st)
{
	switch (st) {
	case DIA_WD_OKAY:
		return "OKAY";
	case DIA_WD_SUSPECT:
		return "SUSPECT";
	case DIA_WD_DOWN:
		return "DOWN";
	}
	return "?";
}


static bool state_open(enum dia_peer_state st)
{
	return st == DIA_PEER_R_OPEN || st == DIA_PEER_I_OPEN;
}


static struct conn *peer_conn(const struct dia_peer *p)
{
	switch (p->state) {
	case DIA_PEER_R_OPEN:
		return p->rcon;
	case DIA_PEER_I_OPEN:
		return p->icon;
	case DIA_PEER_CLOSING:
		return p->icon ? p->icon : p->rcon;
	default:
		return NULL;
	}
}


static void peer_event(struct dia_peer *p, enum dia_peer_event ev)
{
	struct dia_peers *ps = p->ps;

	if (ps && ps->evh && !ps->closed)
		ps->evh(p, ev, ps->arg);
}


static void wd_tmr_h(void *arg);
static void peer_tmr_h(void *arg);

static uint32_t peer_tw(const struct dia_peer *p)
{
	return p->tw_ms ? p->tw_ms : p->ps->conf.tw_ms;
}


/* RFC 3539 3.4.1 SetWatchdog: Tw plus a jitter of up to 2 s either way
 * (scaled down for short test values, so Tw stays positive). */
static void wd_set(struct dia_peer *p)
{
	uint32_t tw = peer_tw(p), span = tw / 8 < 2000 ? tw / 8 : 2000;
	uint64_t d = tw;

	if (span)
		d = tw - span + rand32() % (2 * span + 1);
	tmr_start(&p->wdt, d, wd_tmr_h, p);
}


static void set_state(struct dia_peer *p, enum dia_peer_state st)
{
	enum dia_peer_state old = p->state;

	if (old == st)
		return;
	p->state = st;
	LOG_DEBUG(NULL, "peer %s: %s -> %s", p->identity,
		  dia_peer_state_name(old), dia_peer_state_name(st));
	if (state_open(st) && !state_open(old)) {
		p->wd = DIA_WD_OKAY;
		p->wd_pending = false;
		p->backoff_ms = 0;
		tmr_cancel(&p->tmr);
		wd_set(p);
		LOG_INFO(NULL, "diameter peer %s (%s) open", p->identity,
			 p->realm);
		peer_event(p, DIA_PEER_EV_OPEN);
	} else if (!state_open(st) && state_open(old)) {
		tmr_cancel(&p->wdt);
		p->wd = DIA_WD_DOWN;
		LOG_INFO(NULL, "diameter peer %s down", p->identity);
		peer_event(p, DIA_PEER_EV_DOWN);
	}
}


/* Detach and close one of the peer's connections (I-Disc, R-Disc,
 * R-Reject): no Peer-Disc event comes back. */
static void peer_disc(struct conn **cpp, bool flushed)
{
	struct conn *c = *cpp;

	if (!c)
		return;
	*cpp = NULL;
	c->peer = NULL;
	if (flushed)
		conn_close_flushed(c);
	else
		conn_close(c);
	mem_deref(c);
}


static bool can_connect(const struct dia_peer *p)
{
	return p->has_addr && !(p->flags & DIA_PEER_NO_CONNECT);
}


static void reconnect_arm(struct dia_peer *p)
{
	uint32_t tc = p->ps->conf.tc_ms;

	if (!can_connect(p) || p->stopped || p->ps->closed)
		return;
	if (!p->backoff_ms)
		p->backoff_ms = tc < BACKOFF_START_MS ? tc : BACKOFF_START_MS;
	else if (p->backoff_ms < tc)
		p->backoff_ms = p->backoff_ms * 2 > tc ? tc : p->backoff_ms * 2;
	tmr_start(&p->tmr, p->backoff_ms, peer_tmr_h, p);
}


/* Error / Cleanup: both connections go, the peer is Closed. */
static void peer_cleanup(struct dia_peer *p, bool flushed)
{
	mem_ref(p);
	tmr_cancel(&p->tmr);
	p->rcer = mem_deref(p->rcer);
	peer_disc(&p->icon, flushed);
	peer_disc(&p->rcon, flushed);
	set_state(p, DIA_PEER_CLOSED);
	reconnect_arm(p);
	mem_deref(p);
}


static void peer_state_tmr(struct dia_peer *p)
{
	tmr_start(&p->tmr, p->ps->conf.setup_ms, peer_tmr_h, p);
}


/* I-Snd-Conn-Req */
static int psm_start(struct dia_peer *p)
{
	struct conn *c = NULL;
	int err;

	if (p->state != DIA_PEER_CLOSED)
		return 0;
	if (!can_connect(p))
		return ENOTCONN;
	tmr_cancel(&p->tmr);
	err = conn_connect(&c, p);
	if (err) {
		LOG_INFO(NULL, "diameter peer %s: cannot connect: %s",
			 p->identity, log_strerror(err));
		reconnect_arm(p);
		return err;
	}
	p->icon = c;
	set_state(p, DIA_PEER_WAIT_CONN_ACK);
	peer_state_tmr(p);
	return 0;
}


/* R-Snd-CEA on rcon (success) and R-Open. */
static void r_snd_cea_open(struct dia_peer *p)
{
	struct dia_msg *cer = p->rcer;

	p->rcer = NULL;
	if (!cer || !p->rcon ||
	    send_answer(p->rcon, cer, DIA_SUCCESS, NULL) != 0) {
		mem_deref(cer);
		peer_cleanup(p, false);
		return;
	}
	caps_read(p, cer);
	peer_set_realm(p, cer);
	mem_deref(cer);
	set_state(p, DIA_PEER_R_OPEN);
}


/* RFC 6733 5.6.4: the responder compares the Origin-Hosts, ASCII letters
 * case-folded; the local node wins when its identity succeeds. */
static void elect(struct dia_peer *p)
{
	struct pl oh;

	p->ps->st.elections++;
	if (!p->rcer ||
	    dia_get_pl(&p->rcer->root, DIA_AVP_ORIGIN_HOST, 0, &oh) != 0)
		return;
	{
		struct pl mine;
		pl_set_str(&mine, p->ps->host);
		if (pl_cmp_ci(&mine, &oh) <= 0) {
			LOG_DEBUG(NULL, "peer %s: election lost", p->identity);
			return;
		}
	}
	/* Win-Election (Wait-Returns): I-Disc, R-Snd-CEA -> R-Open */
	LOG_DEBUG(NULL, "peer %s: election won", p->identity);
	peer_disc(&p->icon, false);
	r_snd_cea_open(p);
}


/* I-Rcv-Conn-Ack */
static void psm_conn_ack(struct dia_peer *p)
{
	switch (p->state) {
	case DIA_PEER_WAIT_CONN_ACK:
		if (send_cer(p->icon)) {
			peer_cleanup(p, false);
			return;
		}
		set_state(p, DIA_PEER_WAIT_I_CEA);
		peer_state_tmr(p);
		break;
	case DIA_PEER_WAIT_CONN_ACK_ELECT:
		if (send_cer(p->icon)) {
			/* as I-Rcv-Conn-Nack: R-Snd-CEA -> R-Open */
			peer_disc(&p->icon, false);
			r_snd_cea_open(p);
			return;
		}
		set_state(p, DIA_PEER_WAIT_RETURNS);
		peer_state_tmr(p);
		elect(p);
		break;
	default:
		break;
	}
}


/* A connection of the peer went away unexpectedly: I-Rcv-Conn-Nack,
 * I-Peer-Disc or R-Peer-Disc. */
static void psm_conn_down(struct dia_peer *p, struct conn *c)
{
	bool is_i = p->icon == c, is_r = p->rcon == c;

	if (!is_i && !is_r)
		return;
	mem_ref(p);
	if (is_i)
		p->icon = NULL;
	else
		p->rcon = NULL;
	mem_deref(c);
	switch (p->state) {
	case DIA_PEER_WAIT_CONN_ACK:
	case DIA_PEER_WAIT_I_CEA:
	case DIA_PEER_I_OPEN:
	case DIA_PEER_R_OPEN:
	case DIA_PEER_CLOSING:
		peer_cleanup(p, false);
		break;
	case DIA_PEER_WAIT_CONN_ACK_ELECT:
		if (is_i) {
			r_snd_cea_open(p); /* Nack: R-Snd-CEA -> R-Open */
		} else {
			p->rcer = mem_deref(p->rcer);
			set_state(p, DIA_PEER_WAIT_CONN_ACK);
		}
		break;
	case DIA_PEER_WAIT_RETURNS:
		if (is_i) {
			r_snd_cea_open(p); /* I-Disc, R-Snd-CEA -> R-Open */
		} else {
			p->rcer = mem_deref(p->rcer);
			set_state(p, DIA_PEER_WAIT_I_CEA);
		}
		break;
	case DIA_PEER_CLOSED:
		break;
	}
	mem_deref(p);
}


/* R-Conn-CER: a sound CER from this peer on a new connection c. */
static void psm_r_conn_cer(struct dia_peer *p, struct conn *c,
			   struct dia_msg *cer)
{
	switch (p->state) {
	case DIA_PEER_CLOSED:
	case DIA_PEER_WAIT_CONN_ACK:
	case DIA_PEER_WAIT_I_CEA:
		break;
	default:
		/* R-Reject: we have (or are choosing) a connection */
		LOG_INFO(NULL,
			 "diameter peer %s: second connection refused "
			 "(%s)",
			 p->identity, dia_peer_state_name(p->state));
		conn_close(c);
		return;
	}
	/* R-Accept */
	tmr_cancel(&c->tmr);
	c->peer = p;
	p->rcon = mem_ref(c);
	p->rcer = mem_ref(cer);
	switch (p->state) {
	case DIA_PEER_CLOSED:
		tmr_cancel(&p->tmr); /* no reconnection: we are connected */
		r_snd_cea_open(p);
		break;
	case DIA_PEER_WAIT_CONN_ACK:
		set_state(p, DIA_PEER_WAIT_CONN_ACK_ELECT);
		break;
	case DIA_PEER_WAIT_I_CEA:
		set_state(p, DIA_PEER_WAIT_RETURNS);
		elect(p);
		break;
	default:
		break;
	}
}


/* I-Rcv-CEA on icon: Process-CEA. */
static void psm_rcv_cea(struct dia_peer *p, const struct dia_msg *cea)
{
	uint32_t rcode = 0, vendor = 0;
	struct pl oh;

	if (p->state != DIA_PEER_WAIT_I_CEA &&
	    p->state != DIA_PEER_WAIT_RETURNS)
		return;
	if (dia_msg_result(cea, &rcode, &vendor) || vendor ||
	    rcode != DIA_SUCCESS) {
		LOG_WARN(NULL, "diameter peer %s refused our CER: %u %s",
			 p->identity, rcode,
			 dia_dict_rcode_name(rcode, vendor)
				 ? dia_dict_rcode_name(rcode, vendor)
				 : "");
		peer_cleanup(p, false);
		return;
	}
	if (!dia_get_pl(&cea->root, DIA_AVP_ORIGIN_HOST, 0, &oh) &&
	    (p->flags & DIA_PEER_DYNAMIC) && !pl_eq_str_ci(&oh, p->identity) &&
	    !dia_peer_lookup(p->ps, &oh) && oh.l <= DIA_IDENTITY_MAX) {
		/* a peer learnt by address (a redirect to aaa://<ip>) is
		 * known by the name it gives from now on */
		LOG_INFO(NULL, "diameter peer %s is %.*s", p->identity,
			 PL_FMT(&oh));
		memcpy(p->identity, oh.p, oh.l);
		p->identity[oh.l] = '\0';
	}
	if (dia_get_pl(&cea->root, DIA_AVP_ORIGIN_HOST, 0, &oh) ||
	    !pl_eq_str_ci(&oh, p->identity)) {
		LOG_WARN(NULL, "diameter peer %s answered as %.*s: closing",
			 p->identity, PL_FMT(&oh));
		peer_cleanup(p, false);
		return;
	}
	if (!caps_read(p, cea)) {
		LOG_WARN(NULL, "diameter peer %s: no common application",
			 p->identity);
		peer_cleanup(p, false);
		return;
	}
	if (!conn_cert_names(p->icon, p->identity)) {
		LOG_WARN(NULL,
			 "diameter peer %s: certificate does not name "
			 "it",
			 p->identity);
		peer_cleanup(p, false);
		return;
	}
	peer_set_realm(p, cea);
	if (p->state == DIA_PEER_WAIT_RETURNS) {
		/* R-Disc: the CER held on rcon stays unanswered */
		p->rcer = mem_deref(p->rcer);
		peer_disc(&p->rcon, false);
	}
	set_state(p, DIA_PEER_I_OPEN);
}


static void peer_tmr_h(void *arg)
{
	struct dia_peer *p = arg;

	if (p->state == DIA_PEER_CLOSED) {
		(void)psm_start(p); /* reconnection (Tc) */
		return;
	}
	/* Timeout -> Error -> Closed (setup, election or DPA overdue) */
	LOG_INFO(NULL, "diameter peer %s: timeout in %s", p->identity,
		 dia_peer_state_name(p->state));
	peer_cleanup(p, false);
}


/* ---- watchdog, RFC 3539 3.4.1 ---- */

static int send_dwr(struct dia_peer *p)
{
	struct conn *c = peer_conn(p);
	struct dia_msg *m = NULL;
	int err;

	if (!c)
		return ENOTCONN;
	err = req_alloc(&m, c, DIA_CMD_DW);
	if (!err)
		err = add_origin(p->ps, m);
	if (!err)
		err = conn_send(c, m);
	mem_deref(m);
	return err;
}


static void wd_tmr_h(void *arg)
{
	struct dia_peer *p = arg;

	if (!state_open(p->state))
		return;
	if (p->wd == DIA_WD_OKAY) {
		if (!p->wd_pending) {
			p->wd_pending = true;
			wd_set(p);
			if (send_dwr(p))
				LOG_DEBUG(NULL, "peer %s: DWR not sent",
					  p->identity);
			return;
		}
		/* one DWA missed: SUSPECT, Failover() */
		LOG_WARN(NULL, "diameter peer %s suspect: no DWA in %u ms",
			 p->identity, peer_tw(p));
		p->wd = DIA_WD_SUSPECT;
		wd_set(p);
		peer_event(p, DIA_PEER_EV_SUSPECT);
		return;
	}
	/* still silent: CloseConnection(), DOWN, reconnect */
	LOG_WARN(NULL, "diameter peer %s down: silent for 3 Tw", p->identity);
	peer_cleanup(p, false);
}


/* Any message from an open peer resets the watchdog. */
static void wd_rx(struct dia_peer *p, bool dwa)
{
	if (dwa)
		p->wd_pending = false;
	if (p->wd == DIA_WD_SUSPECT) {
		p->wd = DIA_WD_OKAY;
		LOG_INFO(NULL, "diameter peer %s okay again", p->identity);
		peer_event(p, DIA_PEER_EV_OKAY);
	}
	if (state_open(p->state))
		wd_set(p);
}


/* ---- receiving ---- */

static bool is_base(const struct dia_msg *m)
{
	return m->app == DIA_APP_COMMON &&
	       (m->code == DIA_CMD_CE || m->code == DIA_CMD_DW ||
		m->code == DIA_CMD_DP);
}


/* The first message on an accepted connection: a CER, else close. */
static void conn_first_cer(struct conn *c, struct dia_msg *msg)
{
	struct dia_peers *ps = c->ps;
	struct dia_peer *p;
	char pbuf[SA_STRLEN];
	struct pl oh;

	sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
	trace_msg("recv from", NULL, c, msg);
	if (!dia_msg_is_request(msg) || msg->code != DIA_CMD_CE ||
	    msg->app != DIA_APP_COMMON) {
		LOG_WARN(NULL,
			 "diameter %s: first message is not a CER, "
			 "closing",
			 pbuf);
		conn_close(c);
		return;
	}
	if (dia_get_pl(&msg->root, DIA_AVP_ORIGIN_HOST, 0, &oh))
		pl_set_str(&oh, "");
	p = dia_peer_lookup(ps, &oh);
	if (p && (p->flags & DIA_PEER_CHECK_ADDR) && p->has_addr &&
	    !sa_eq_addr(&p->addr, &c->paddr)) {
		LOG_WARN(NULL, "diameter CER from %.*s at %s: not its address",
			 PL_FMT(&oh), pbuf);
		p = NULL;
	}
	if (p && !conn_cert_names(c, p->identity)) {
		LOG_WARN(NULL,
			 "diameter CER from %.*s at %s: certificate "
			 "does not name it",
			 PL_FMT(&oh), pbuf);
		p = NULL;
	}
	if (!p) {
		/* RFC 6733 5.3: unknown peers are refused */
		LOG_WARN(NULL, "diameter CER from unknown peer %.*s at %s",
			 PL_FMT(&oh), pbuf);
		ps->st.cer_unknown++;
		(void)send_answer(c, msg, DIA_UNKNOWN_PEER,
				  "peer not configured");
		conn_close_flushed(c);
		return;
	}
	{
		/* Process-CER: the applications in common (5.3) */
		struct dia_peer tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.ps = ps;
		if (!caps_read(&tmp, msg)) {
			LOG_WARN(NULL,
				 "diameter CER from %s: no common "
				 "application",
				 p->identity);
			ps->st.cer_noapp++;
			(void)send_answer(c, msg, DIA_NO_COMMON_APPLICATION,
					  "no common application");
			conn_close_flushed(c);
			return;
		}
	}
	psm_r_conn_cer(p, c, msg);
}


/* A message on a connection of peer p. */
static void peer_msg(struct dia_peer *p, struct conn *c, struct dia_msg *msg,
		     const struct dia_err *verr)
{
	struct conn *open = peer_conn(p);
	bool req = dia_msg_is_request(msg);
	int32_t cause;

	trace_msg("recv from", p, c, msg);
	if (c == p->icon && (p->state == DIA_PEER_WAIT_I_CEA ||
			     p->state == DIA_PEER_WAIT_RETURNS)) {
		if (!req && msg->code == DIA_CMD_CE && !verr)
			psm_rcv_cea(p, msg);
		else
			peer_cleanup(p, false); /* I-Rcv-Non-CEA: Error */
		return;
	}
	if (c != open) {
		LOG_DEBUG(NULL,
			  "peer %s: message on a connection not in use, "
			  "dropped",
			  p->identity);
		return;
	}
	wd_rx(p, !req && msg->code == DIA_CMD_DW);
	if (!is_base(msg)) {
		if (p->ps->recvh)
			p->ps->recvh(p, msg, verr, p->ps->arg);
		return;
	}
	if (verr) {
		if (req)
			conn_refuse(c, msg, verr);
		return;
	}
	switch (msg->code) {
	case DIA_CMD_DW:
		if (req)
			(void)send_answer(c, msg, DIA_SUCCESS, NULL);
		break;
	case DIA_CMD_DP:
		if (!req) {
			if (p->state == DIA_PEER_CLOSING)
				peer_cleanup(p, false); /* Rcv-DPA: Disc */
			break;
		}
		/* Rcv-DPR: Snd-DPA, Disc -> Closed */
		if (dia_get_i32(&msg->root, DIA_AVP_DISCONNECT_CAUSE, 0,
				&cause))
			cause = DIA_DISCONNECT_REBOOTING;
		p->last_cause = cause;
		LOG_INFO(NULL, "diameter peer %s disconnects (%s)", p->identity,
			 dia_dict_enum_name(DIA_AVP_DISCONNECT_CAUSE, 0, cause)
				 ? dia_dict_enum_name(DIA_AVP_DISCONNECT_CAUSE,
						      0, cause)
				 : "?");
		(void)send_answer(c, msg, DIA_SUCCESS, NULL);
		/* RFC 6733 5.4.3: after DO_NOT_WANT_TO_TALK_TO_YOU we do
		 * not reconnect (until asked to); after REBOOTING or BUSY
		 * we wait a whole Tc first */
		if (cause == DIA_DISCONNECT_DO_NOT_WANT_TO_TALK_TO_YOU)
			p->stopped = true;
		else
			p->backoff_ms = p->ps->conf.tc_ms;
		peer_cleanup(p, true);
		break;
	case DIA_CMD_CE:
		if (req) /* a CER on an open connection: RFC 6733 5.3 */
			(void)send_answer(c, msg, DIA_UNABLE_TO_COMPLY,
					  "capabilities already exchanged");
		break;
	default:
		break;
	}
}


static void conn_msg(struct conn *c, struct dia_msg *msg)
{
	struct dia_err verr;
	bool bad;

	memset(&verr, 0, sizeof(verr));
	bad = dia_msg_validate(msg, &verr) != 0;
	if (bad && (verr.rcode == DIA_INVALID_HDR_BITS ||
		    verr.rcode == DIA_INVALID_AVP_BITS ||
		    (is_base(msg) && !c->peer))) {
		char pbuf[SA_STRLEN];
		sa_fmt(&c->paddr, pbuf, sizeof(pbuf));
		LOG_WARN(NULL, "diameter %s: invalid message (%u %s), closing",
			 pbuf, verr.rcode, verr.reason ? verr.reason : "");
		if (dia_msg_is_request(msg))
			conn_refuse(c, msg, &verr);
		else
			conn_close(c);
		return;
	}
	mem_ref(c);
	if (!c->peer)
		conn_first_cer(c, msg);
	else
		peer_msg(c->peer, c, msg, bad ? &verr : NULL);
	mem_deref(c);
}


/* ---- public API ---- */

static void peer_destructor(void *arg)
{
	struct dia_peer *p = arg;

	tmr_cancel(&p->tmr);
	tmr_cancel(&p->wdt);
	mem_deref(p->rcer);
	mem_deref(p->icon);
	mem_deref(p->rcon);
}


static void peers_destructor(void *arg)
{
	struct dia_peers *ps = arg;

	peers_close(ps);
	mem_deref(ps->host);
	mem_deref(ps->realm);
	mem_deref(ps->product);
	mem_deref(ps->tls_cert);
	mem_deref(ps->tls_key);
	mem_deref(ps->tls_ca);
}


static int strdup_opt(char **dst, const char *src)
{
	if (!src || !*src)
		return 0;
	*dst = mem_strdup(src, strlen(src));
	return *dst ? 0 : ENOMEM;
}


/**
 * Create a peer table.
 *
 * @param psp    receives the table
 * @param conf   identity, timers, limits and TLS files
 * @param recvh  application messages from open peers
 * @param evh    peer events (open, suspect, okay, down), may be NULL
 * @param arg    handler argument
 * @return 0, EINVAL (no host or realm, an identity too long) or ENOMEM
 */
int dia_peers_alloc(struct dia_peers **psp, const struct dia_peers_conf *conf,
		    dia_peer_recv_h *recvh, dia_peer_event_h *evh, void *arg)
{
	struct dia_peers *ps;
	struct timespec ts;
	int err;

	if (!psp || !conf || !conf->host || !*conf->host || !conf->realm ||
	    !*conf->realm || strlen(conf->host) > DIA_IDENTITY_MAX ||
	    strlen(conf->realm) > DIA_IDENTITY_MAX)
		return EINVAL;
	ps = mem_zalloc(sizeof(*ps), peers_destructor);
	if (!ps)
		return ENOMEM;
	ps->conf = *conf;
	if (!ps->conf.tw_ms)
		ps->conf.tw_ms = DIA_TW_DEFAULT_MS;
	if (!ps->conf.tc_ms)
		ps->conf.tc_ms = DIA_TC_DEFAULT_MS;
	if (!ps->conf.setup_ms)
		ps->conf.setup_ms = DIA_SETUP_DEFAULT_MS;
	if (!ps->conf.max_conns)
		ps->conf.max_conns = DIA_CONN_MAX;
	if (!ps->conf.max_pending)
		ps->conf.max_pending = DIA_PEER_PENDING_MAX;
	ps->recvh = recvh;
	ps->evh = evh;
	ps->arg = arg;
	list_init(&ps->listeners);
	list_init(&ps->conns);
	list_init(&ps->peers);
	err = strdup_opt(&ps->host, conf->host);
	if (!err)
		err = strdup_opt(&ps->realm, conf->realm);
	if (!err)
		err = strdup_opt(&ps->product, conf->product && *conf->product
						       ? conf->product
						       : "entims");
	if (!err)
		err = strdup_opt(&ps->tls_cert, conf->tls_cert);
	if (!err)
		err = strdup_opt(&ps->tls_key, conf->tls_key);
	if (!err)
		err = strdup_opt(&ps->tls_ca, conf->tls_ca);
	if (err) {
		mem_deref(ps);
		return err;
	}
	ps->conf.host = ps->host;
	ps->conf.realm = ps->realm;
	ps->conf.product = ps->product;
	ps->conf.tls_cert = ps->tls_cert;
	ps->conf.tls_key = ps->tls_key;
	ps->conf.tls_ca = ps->tls_ca;
	/* RFC 6733 3: End-to-End ids start with the low 12 bits of the
	 * time in the high 12 bits, the rest random */
	clock_gettime(CLOCK_REALTIME, &ts);
	ps->e2e = (uint32_t)(ts.tv_sec & 0xfff) << 20 | (rand32() & 0xfffff);
	*psp = ps;
	return 0;
}


static void peers_close(struct dia_peers *ps)
{
	struct le *le;

	if (ps->closed)
		return;
	ps->closed = true;
	LIST_FOREACH (&ps->peers, le) {
		struct dia_peer *p = le->data;
		p->stopped = true;
		tmr_cancel(&p->tmr);
		tmr_cancel(&p->wdt);
		p->rcer = mem_deref(p->rcer);
		peer_disc(&p->icon, false);
		peer_disc(&p->rcon, false);
		p->state = DIA_PEER_CLOSED;
	}
	while (ps->conns.head)
		conn_close(ps->conns.head->data);
	while (ps->listeners.head) {
		struct listener *l = ps->listeners.head->data;
		list_unlink(&l->le);
		mem_deref(l);
	}
	list_flush(&ps->peers);
	SSL_CTX_free(ps->ssl_srv);
	SSL_CTX_free(ps->ssl_cli);
	ps->ssl_srv = ps->ssl_cli = NULL;
}


void dia_peers_close(struct dia_peers *ps)
{
	if (!ps || ps->closed)
		return;
	mem_ref(ps);
	peers_close(ps);
	mem_deref(ps);
}


int dia_peers_set_apps(struct dia_peers *ps, const struct dia_app *apps,
		       size_t n)
{
	if (!ps || (n && !apps))
		return EINVAL;
	if (n > DIA_APPS_MAX)
		return E2BIG;
	memcpy(ps->apps, apps, n * sizeof(*apps));
	ps->napps = n;
	return 0;
}


/**
 * Listen for peers on TCP, or TLS/TCP (RFC 6733 13: TLS from the first
 * byte, on a port of its own).
 *
 * @return 0, EINVAL (TLS without certificate), or the socket's errno
 */
int dia_peers_listen(struct dia_peers *ps, bool tls, const struct sa *laddr)
{
	struct listener *l;
	int err;

	if (!ps || !laddr || !sa_isset(laddr) || ps->closed)
		return EINVAL;
	if (tls) {
		err = tls_init(ps, true);
		if (err)
			return err;
	}
	l = mem_zalloc(sizeof(*l), listener_destructor);
	if (!l)
		return ENOMEM;
	l->ps = ps;
	l->tls = tls;
	l->fd = -1;
	err = tcp_listen(&l->fd, laddr, &l->laddr);
	if (err)
		goto out;
	err = fd_listen(l->fd, FD_READ, listen_h, l);
	if (err)
		goto out;
	list_append(&ps->listeners, &l->le, l);
	l = NULL;
out:
	mem_deref(l);
	return err;
}


const struct sa *dia_peers_laddr(const struct dia_peers *ps, bool tls)
{
	struct le *le;

	if (!ps)
		return NULL;
	LIST_FOREACH (&ps->listeners, le) {
		const struct listener *l = le->data;
		if (l->tls == tls)
			return &l->laddr;
	}
	return NULL;
}


void dia_peers_stats(const struct dia_peers *ps, struct dia_peers_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!ps)
		return;
	*st = ps->st;
	st->conns = list_count(&ps->conns);
}


size_t dia_peers_conn_count(const struct dia_peers *ps)
{
	return ps ? list_count(&ps->conns) : 0;
}


uint32_t dia_peers_e2e(struct dia_peers *ps)
{
	uint32_t v;

	if (!ps)
		return 0;
	v = ps->e2e;
	/* the low 20 bits count, the time stamp in the high 12 stays */
	ps->e2e = (v & 0xfff00000u) | ((v + 1) & 0xfffffu);
	return v;
}


const char *dia_peers_host(const struct dia_peers *ps)
{
	return ps ? ps->host : NULL;
}


const char *dia_peers_realm(const struct dia_peers *ps)
{
	return ps ? ps->realm : NULL;
}


/**
 * Add a peer to the allow-list (and, with an address, to the peers we
 * connect to: call dia_peer_connect to start).
 *
 * @return 0, EINVAL, EEXIST or ENOMEM
 */
int dia_peer_add(struct dia_peers *ps, const char *identity,
		 const struct sa *addr, unsigned flags, struct dia_peer **peerp)
{
	struct dia_peer *p;
	struct pl id;

	if (!ps || !identity || !*identity ||
	    strlen(identity) > DIA_IDENTITY_MAX || ps->closed)
		return EINVAL;
	pl_set_str(&id, identity);
	if (dia_peer_lookup(ps, &id))
		return EEXIST;
	p = mem_zalloc(sizeof(*p), peer_destructor);
	if (!p)
		return ENOMEM;
	p->ps = ps;
	(void)snprintf(p->identity, sizeof(p->identity), "%s", identity);
	if (addr && sa_isset(addr)) {
		p->addr = *addr;
		p->has_addr = true;
	}
	p->flags = flags;
	p->last_cause = -1;
	p->wd = DIA_WD_DOWN;
	tmr_init(&p->tmr);
	tmr_init(&p->wdt);
	list_append(&ps->peers, &p->le, p);
	if (peerp)
		*peerp = p;
	return 0;
}


struct dia_peer *dia_peer_lookup(const struct dia_peers *ps,
				 const struct pl *identity)
{
	struct le *le;

	if (!ps || !identity)
		return NULL;
	LIST_FOREACH (&ps->peers, le) {
		struct dia_peer *p = le->data;
		if (pl_eq_str_ci(identity, p->identity))
			return p;
	}
	return NULL;
}


struct dia_peer *dia_peer_lookup_addr(const struct dia_peers *ps,
				      const struct sa *addr)
{
	struct le *le;

	if (!ps || !addr)
		return NULL;
	LIST_FOREACH (&ps->peers, le) {
		struct dia_peer *p = le->data;
		if (p->has_addr && sa_eq(&p->addr, addr))
			return p;
	}
	return NULL;
}


struct dia_peer *dia_peer_at(const struct dia_peers *ps, size_t i)
{
	struct le *le;

	if (!ps)
		return NULL;
	LIST_FOREACH (&ps->peers, le) {
		if (!i--)
			return le->data;
	}
	return NULL;
}


int dia_peer_connect(struct dia_peer *peer)
{
	if (!peer || !peer->ps || peer->ps->closed)
		return EINVAL;
	if (!can_connect(peer))
		return ENOTCONN;
	peer->stopped = false;
	if (peer->state != DIA_PEER_CLOSED)
		return 0;
	peer->backoff_ms = 0;
	return psm_start(peer);
}


/**
 * Stop: DPR (RFC 6733 5.4) with a Disconnect-Cause on an open peer, then
 * Closing until the DPA; any other state is closed at once.
 */
int dia_peer_disconnect(struct dia_peer *peer, int cause)
{
	struct dia_msg *m = NULL;
	struct conn *c;
	int err;

	if (!peer || !peer->ps)
		return EINVAL;
	peer->stopped = true;
	tmr_cancel(&peer->tmr);
	if (!state_open(peer->state)) {
		if (peer->state != DIA_PEER_CLOSED &&
		    peer->state != DIA_PEER_CLOSING)
			peer_cleanup(peer, false);
		return 0;
	}
	c = peer_conn(peer);
	err = req_alloc(&m, c, DIA_CMD_DP);
	if (!err)
		err = add_origin(peer->ps, m);
	if (!err)
		err = dia_add_i32(&m->root, DIA_AVP_DISCONNECT_CAUSE, 0, cause);
	if (!err)
		err = conn_send(c, m);
	mem_deref(m);
	if (err) {
		peer_cleanup(peer, false);
		return 0;
	}
	set_state(peer, DIA_PEER_CLOSING);
	peer_state_tmr(peer);
	return 0;
}


int dia_peer_send(struct dia_peer *peer, const struct dia_msg *msg)
{
	if (!peer || !msg)
		return EINVAL;
	if (!state_open(peer->state))
		return ENOTCONN;
	return conn_send(peer_conn(peer), msg);
}


uint32_t dia_peer_hbh(struct dia_peer *peer)
{
	struct conn *c = peer ? peer_conn(peer) : NULL;

	return c ? c->hbh++ : 0;
}


enum dia_peer_state dia_peer_state(const struct dia_peer *peer)
{
	return peer ? peer->state : DIA_PEER_CLOSED;
}


bool dia_peer_is_open(const struct dia_peer *peer)
{
	return peer && state_open(peer->state);
}


enum dia_wd_state dia_peer_wd(const struct dia_peer *peer)
{
	return peer && state_open(peer->state) ? peer->wd : DIA_WD_DOWN;
}


const char *dia_peer_identity(const struct dia_peer *peer)
{
	return peer ? peer->identity : NULL;
}


const char *dia_peer_realm(const struct dia_peer *peer)
{
	return peer ? peer->realm : NULL;
}


bool dia_peer_has_app(const struct dia_peer *peer, uint32_t app)
{
	size_t i;

	if (!peer)
		return false;
	if (peer->relay)
		return true;
	for (i = 0; i < peer->napps; i++)
		if (peer->apps[i].id == app)
			return true;
	return false;
}


bool dia_peer_has_addr(const struct dia_peer *peer)
{
	return peer && can_connect(peer);
}


unsigned dia_peer_flags(const struct dia_peer *peer)
{
	return peer ? peer->flags : 0;
}


int dia_peer_last_cause(const struct dia_peer *peer)
{
	return peer ? peer->last_cause : -1;
}


int dia_peer_pending_inc(struct dia_peer *peer)
{
	if (!peer || !peer->ps)
		return EINVAL;
	if (peer->pending >= peer->ps->conf.max_pending)
		return EBUSY;
	peer->pending++;
	return 0;
}


void dia_peer_pending_dec(struct dia_peer *peer)
{
	if (peer && peer->pending)
		peer->pending--;
}


size_t dia_peer_pending(const struct dia_peer *peer)
{
	return peer ? peer->pending : 0;
}


void dia_peer_abort(struct dia_peer *peer)
{
	struct conn *c;

	if (!peer)
		return;
	c = peer_conn(peer);
	if (c)
		conn_close_flushed(c);
}


void dia_peer_set_tw(struct dia_peer *peer, uint32_t tw_ms)
{
	if (!peer)
		return;
	peer->tw_ms = tw_ms;
	if (state_open(peer->state) && tmr_isrunning(&peer->wdt))
		wd_set(peer);
}
