/**
 * @file tcp.h  Non-blocking TCP (and TLS over TCP) streams on the event
 *              loop, shared by the SIP transports and the Diameter peers.
 */
#ifndef IMS_NET_TCP_H
#define IMS_NET_TCP_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"

struct sa;

enum tcp_state {
	TCP_CONNECTING, /* connect() in progress */
	TCP_HANDSHAKE,  /* TLS handshake in progress */
	TCP_OPEN,
	TCP_CLOSED
};

/* Embedded in a protocol's connection object; the protocol keeps the
 * framing, the timers and the counters. */
struct tcp_stream {
	enum tcp_state state;
	int fd;
	int fdflags;     /* what the loop watches now */
	bool want_write; /* OpenSSL needs the socket writable */
	SSL *ssl;        /* NULL: plain TCP */
	struct buf rb;   /* received bytes [roff, rb.end) */
	size_t roff;
	struct buf wb; /* queued output [woff, wb.end) */
	size_t woff;
};

int tcp_stream_init(struct tcp_stream *ts, int fd, size_t rmax,
		    size_t wmax) IMS_MUST_CHECK;
void tcp_stream_reset(struct tcp_stream *ts);
void tcp_stream_close(struct tcp_stream *ts);
int tcp_stream_listen(struct tcp_stream *ts, fd_h *fh,
		      void *arg) IMS_MUST_CHECK;
bool tcp_stream_pending(const struct tcp_stream *ts);
ssize_t tcp_stream_read(struct tcp_stream *ts, void *p, size_t n);
ssize_t tcp_stream_write(struct tcp_stream *ts, const void *p, size_t n);
int tcp_stream_rbuf_room(struct tcp_stream *ts) IMS_MUST_CHECK;
int tcp_stream_send(struct tcp_stream *ts, const void *p, size_t len,
		    size_t *sentp, bool *brokenp) IMS_MUST_CHECK;
int tcp_stream_flush(struct tcp_stream *ts, size_t *sentp) IMS_MUST_CHECK;
int tcp_stream_handshake(struct tcp_stream *ts) IMS_MUST_CHECK;
int tcp_stream_soerror(const struct tcp_stream *ts);

int tcp_listen(int *fdp, const struct sa *laddr,
	       struct sa *bound) IMS_MUST_CHECK;
int tcp_accept(int lfd, int *fdp, struct sa *peer) IMS_MUST_CHECK;
int tcp_connect(int *fdp, const struct sa *dst, const struct sa *src,
		bool *donep) IMS_MUST_CHECK;
void tcp_local_addr(int fd, struct sa *la);

#endif
