/**
 * @file tcp.c  Non-blocking TCP (and TLS over TCP) streams on the event
 *              loop, shared by the SIP transports and the Diameter peers.
 *
 * Design (see docs/internals/net-stream.md):
 *
 * A struct tcp_stream is the part of a connection that does not depend on
 * the protocol: the socket, the OpenSSL object, a receive buffer with a
 * ceiling (the largest message the protocol accepts) and a write queue
 * with a ceiling.  The protocol object embeds one and keeps what differs:
 * its framing (SIP by Content-Length, Diameter by its 24-bit length), its
 * timers, counters and the reaction to failures.  These functions never
 * call back into the protocol, so a stream cannot disappear under them;
 * they report and the caller decides (close, count, tell a peer).
 *
 * Reads and writes return bytes, 0 at EOF, -1 "would block" and -2 for an
 * error (errno set); the TLS cases map onto the same (SSL_ERROR_WANT_* is
 * "would block"; WANT_WRITE on a read sets want_write, so that the loop
 * watches writability and the read is retried when the socket drains).
 * Sending writes directly when nothing is queued and queues the rest; the
 * queue is compacted in place (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER makes
 * that legal for a TLS write that must be retried).
 *
 * Sockets are created with SOCK_NONBLOCK | SOCK_CLOEXEC, streams get
 * TCP_NODELAY (signalling is request/answer: Nagle would only add delay)
 * and IPv6 listeners IPV6_V6ONLY (one listener per family, as configured).
 */
#include "net/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sa.h"

enum {
	TCP_RBUF_INIT = 4096, /* first receive buffer; doubles to rb.max */
};


/* errno of the failed call, never 0 (a failure must not read as success) */
static int errno_nz(void)
{
	int e = errno;

	return e > 0 ? e : EIO;
}


static socklen_t sa_socklen(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? sizeof(struct sockaddr_in6)
				     : sizeof(struct sockaddr_in);
}


static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}


/**
 * Set up a stream on a socket (state TCP_CONNECTING, no TLS yet).  The
 * stream owns the socket from here on, even when this fails.
 *
 * @param ts    the stream, zeroed
 * @param fd    non-blocking socket
 * @param rmax  receive buffer ceiling (the largest message)
 * @param wmax  write queue ceiling
 * @return 0 or ENOMEM
 */
int tcp_stream_init(struct tcp_stream *ts, int fd, size_t rmax, size_t wmax)
{
	int err;

	ts->fd = fd;
	ts->state = TCP_CONNECTING;
	err = buf_init(&ts->rb, 0, rmax);
	if (!err)
		err = buf_init(&ts->wb, 0, wmax);
	return err;
}


/**
 * Release everything (for a destructor): no close_notify.
 */
void tcp_stream_reset(struct tcp_stream *ts)
{
	if (ts->ssl) {
		SSL_free(ts->ssl);
		ts->ssl = NULL;
	}
	if (ts->fd >= 0) {
		fd_close(ts->fd);
		(void)close(ts->fd);
		ts->fd = -1;
	}
	buf_reset(&ts->rb);
	buf_reset(&ts->wb);
}


/**
 * Close the socket now (state TCP_CLOSED); the buffers stay until
 * tcp_stream_reset().  A TLS stream sends close_notify first, best effort
 * and never blocking (RFC 8446 6.1).
 */
void tcp_stream_close(struct tcp_stream *ts)
{
	ts->state = TCP_CLOSED;
	if (ts->ssl) {
		if (SSL_is_init_finished(ts->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(ts->ssl);
		}
		ERR_clear_error();
		SSL_free(ts->ssl);
		ts->ssl = NULL;
	}
	if (ts->fd >= 0) {
		fd_close(ts->fd);
		(void)close(ts->fd);
		ts->fd = -1;
	}
}


/**
 * Watch the socket for what the stream needs now: writability while
 * connecting; then reads, and writes when bytes are queued or OpenSSL
 * waits for the socket to drain.
 *
 * @return 0, or the error of fd_listen() (the caller closes the stream)
 */
int tcp_stream_listen(struct tcp_stream *ts, fd_h *fh, void *arg)
{
	int flags, err;

	if (ts->state == TCP_CLOSED)
		return 0;
	if (ts->state == TCP_CONNECTING) {
		flags = FD_WRITE;
	} else {
		flags = FD_READ;
		if (ts->want_write ||
		    (ts->state == TCP_OPEN && tcp_stream_pending(ts)))
			flags |= FD_WRITE;
	}
	if (flags == ts->fdflags)
		return 0;
	err = fd_listen(ts->fd, flags, fh, arg);
	if (err)
		return err;
	ts->fdflags = flags;
	return 0;
}


/** Whether bytes wait in the write queue. */
bool tcp_stream_pending(const struct tcp_stream *ts)
{
	return ts->woff < ts->wb.end;
}


/**
 * Read what is there (TLS: decrypted bytes).
 *
 * @return bytes (> 0), 0 at EOF, -1 would block, -2 error
 */
ssize_t tcp_stream_read(struct tcp_stream *ts, void *p, size_t n)
{
	ssize_t r;
	int e;

	if (!ts->ssl) {
		do {
			r = recv(ts->fd, p, n, MSG_DONTWAIT);
		} while (r < 0 && errno == EINTR);
		if (r >= 0)
			return r;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	}
	ERR_clear_error();
	r = SSL_read(ts->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(ts->ssl, (int)r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return -1;
	case SSL_ERROR_WANT_WRITE:
		ts->want_write = true;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error() && errno == 0)
			return 0; /* EOF without close_notify */
		return -2;
	default:
		return -2;
	}
}


/**
 * Write what the socket takes, never raising SIGPIPE.
 *
 * @return bytes (>= 0), -1 would block, -2 error
 */
ssize_t tcp_stream_write(struct tcp_stream *ts, const void *p, size_t n)
{
	ssize_t r;
	int e;

	if (!ts->ssl) {
		do {
			r = send(ts->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (r < 0 && errno == EINTR);
		if (r >= 0)
			return r;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	}
	ERR_clear_error();
	r = SSL_write(ts->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(ts->ssl, (int)r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return -1;
	return -2;
}


/**
 * Make room at the end of the receive buffer: move the unread bytes to the
 * front, or grow the buffer (doubling, up to its ceiling).
 *
 * @return 0, EMSGSIZE when a full buffer holds no complete message, or
 *         ENOMEM
 */
int tcp_stream_rbuf_room(struct tcp_stream *ts)
{
	struct buf *rb = &ts->rb;
	size_t sz;

	if (rb->end < rb->size)
		return 0;
	if (ts->roff) {
		memmove(rb->b, rb->b + ts->roff, rb->end - ts->roff);
		rb->end -= ts->roff;
		ts->roff = 0;
		return 0;
	}
	if (rb->size >= rb->max)
		return EMSGSIZE;
	sz = rb->size ? rb->size * 2 : TCP_RBUF_INIT;
	if (sz > rb->max)
		sz = rb->max;
	return buf_resize(rb, sz);
}


/**
 * Send bytes: written at once when the stream is open and nothing is
 * queued, the rest queued (in any state but closed).  The caller then
 * updates what the loop watches (tcp_stream_listen).
 *
 * @param ts       the stream
 * @param p        bytes
 * @param len      their number
 * @param sentp    receives how many were written at once
 * @param brokenp  set when the socket failed (the caller closes it)
 * @return 0, ENOBUFS (queue ceiling), ENOMEM, or the socket's error
 */
int tcp_stream_send(struct tcp_stream *ts, const void *p, size_t len,
		    size_t *sentp, bool *brokenp)
{
	const uint8_t *b = p;
	size_t pending = ts->wb.end - ts->woff;
	int err;

	*sentp = 0;
	*brokenp = false;
	if (ts->state == TCP_OPEN && !pending) {
		ssize_t n = tcp_stream_write(ts, b, len);
		if (n == -2) {
			*brokenp = true;
			return errno ? errno : EPIPE;
		}
		if (n > 0) {
			*sentp = (size_t)n;
			b += n;
			len -= (size_t)n;
		}
		if (!len)
			return 0;
	}
	if (len > ts->wb.max - pending)
		return ENOBUFS;
	if (ts->woff && ts->wb.end + len > ts->wb.size) {
		memmove(ts->wb.b, ts->wb.b + ts->woff, pending);
		ts->wb.end = pending;
		ts->woff = 0;
	}
	ts->wb.pos = ts->wb.end;
	err = buf_write(&ts->wb, b, len);
	if (err)
		return err == EMSGSIZE ? ENOBUFS : err;
	return 0;
}


/**
 * Write the queue while the socket takes it (an open stream only).
 *
 * @param ts     the stream
 * @param sentp  receives how many bytes left
 * @return 0 (queue empty or socket full), or the socket's error (the
 *         caller closes the stream)
 */
int tcp_stream_flush(struct tcp_stream *ts, size_t *sentp)
{
	*sentp = 0;
	while (ts->state == TCP_OPEN && tcp_stream_pending(ts)) {
		ssize_t n = tcp_stream_write(ts, ts->wb.b + ts->woff,
					     ts->wb.end - ts->woff);
		if (n > 0) {
			ts->woff += (size_t)n;
			*sentp += (size_t)n;
			continue;
		}
		if (n == -2 || n == 0)
			return errno ? errno : EPIPE;
		break;
	}
	if (!tcp_stream_pending(ts)) {
		ts->woff = 0;
		ts->wb.pos = ts->wb.end = 0;
	}
	return 0;
}


/**
 * One step of the TLS handshake; on success the stream is TCP_OPEN.
 *
 * @return 0 done, EAGAIN waiting for the socket (tcp_stream_listen), or
 *         EPROTO failed (the OpenSSL error is still queued for the log)
 */
int tcp_stream_handshake(struct tcp_stream *ts)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(ts->ssl);
	if (r == 1) {
		ts->state = TCP_OPEN;
		ts->want_write = false;
		return 0;
	}
	e = SSL_get_error(ts->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ts->want_write = e == SSL_ERROR_WANT_WRITE;
		return EAGAIN;
	}
	return EPROTO;
}


/**
 * The outcome of a non-blocking connect() once the socket is writable.
 *
 * @return 0 connected, or the connect error
 */
int tcp_stream_soerror(const struct tcp_stream *ts)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(ts->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno_nz();
	return soerr;
}


/* ---- sockets ---- */

/**
 * Open a listening stream socket (IPV6_V6ONLY for IPv6, SO_REUSEADDR).
 *
 * @param fdp    receives the socket (not yet on the loop)
 * @param laddr  address to bind (port 0: any free port)
 * @param bound  receives the bound address
 * @return 0 or the errno of socket()/bind()/listen()
 */
int tcp_listen(int *fdp, const struct sa *laddr, struct sa *bound)
{
	struct sa la;
	int fd, one = 1, err;

	if (!fdp || !laddr || !bound)
		return EINVAL;
	fd = socket(sa_af(laddr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno_nz();
	if (sa_af(laddr) == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) {
		err = errno_nz();
		goto fail;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	la.len = sizeof(la.u);
	if (bind(fd, &laddr->u.sa, sa_socklen(laddr)) < 0 ||
	    getsockname(fd, &la.u.sa, &la.len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		err = errno_nz();
		goto fail;
	}
	*bound = la;
	*fdp = fd;
	return 0;
fail:
	(void)close(fd);
	return err;
}


/**
 * Accept one connection (non-blocking, TCP_NODELAY).
 *
 * @param lfd   listening socket
 * @param fdp   receives the new socket
 * @param peer  receives the peer's address
 * @return 0, or the errno of accept4() (EAGAIN: none waiting)
 */
int tcp_accept(int lfd, int *fdp, struct sa *peer)
{
	int fd;

	peer->len = sizeof(peer->u);
	fd = accept4(lfd, &peer->u.sa, &peer->len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno_nz();
	set_nodelay(fd);
	*fdp = fd;
	return 0;
}


/**
 * Start a non-blocking connect (TCP_NODELAY).
 *
 * @param fdp    receives the socket
 * @param dst    where to
 * @param src    local address to bind (its port is ignored), or NULL
 * @param donep  set when connected at once (loopback), else the socket
 *               turns writable when connect() completes
 * @return 0, or the errno of socket()/bind()/connect()
 */
int tcp_connect(int *fdp, const struct sa *dst, const struct sa *src,
		bool *donep)
{
	int fd, err;

	if (!fdp || !dst || !donep)
		return EINVAL;
	fd = socket(sa_af(dst), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno_nz();
	set_nodelay(fd);
	if (src) {
		struct sa s = *src;
		sa_set_port(&s, 0);
		if (bind(fd, &s.u.sa, sa_socklen(&s)) < 0) {
			err = errno_nz();
			goto fail;
		}
	}
	if (connect(fd, &dst->u.sa, sa_socklen(dst)) == 0) {
		*donep = true;
	} else if (errno == EINPROGRESS) {
		*donep = false;
	} else {
		err = errno_nz();
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	(void)close(fd);
	return err;
}


/**
 * The local address of a socket; la is left as it is when unknown.
 */
void tcp_local_addr(int fd, struct sa *la)
{
	struct sa tmp;

	tmp.len = sizeof(tmp.u);
	if (getsockname(fd, &tmp.u.sa, &tmp.len) == 0)
		*la = tmp;
}
