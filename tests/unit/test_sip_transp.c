/**
 * @file test_sip_transp.c  SIP transports over real loopback sockets.
 *
 * Every test runs its own event loop; peers are plain sockets (or an
 * OpenSSL client) driven in between loop_poll() calls, or a second
 * transport object.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* clang-format off: cmocka needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "net/tls.h"
#include "sip/msg.h"
#include "sip/transp.h"

#define MAXREC 64

/* What a transport's receive handler saw. */
struct rec {
	size_t n;
	char msg[MAXREC][512];
	size_t len[MAXREC];
	struct sa src[MAXREC];
	struct sa dst[MAXREC];
	enum sip_transp tp[MAXREC];
	bool dgram[MAXREC];
	struct sip_conn *conn; /* counted: the last stream connection */
	struct sip_transports *tps;
	bool echo;        /* send every message back where it came from */
	bool echo_noconn; /* ... by address only (connection lookup) */
	bool close_in_handler;
	int echo_err;
	int inject_fd; /* >= 0: on the first message, send inject_n */
	int inject_n;  /* ... datagrams to inject_to from inject_fd */
	const struct sa *inject_to;
};

static void rec_h(const struct sip_rx *rx, void *arg)
{
	struct rec *r = arg;
	size_t i = r->n;

	if (i < MAXREC) {
		size_t l = rx->len < sizeof(r->msg[0]) - 1
				   ? rx->len
				   : sizeof(r->msg[0]) - 1;
		memcpy(r->msg[i], rx->p, l);
		r->msg[i][l] = '\0';
		r->len[i] = rx->len;
		r->src[i] = rx->src;
		r->dst[i] = rx->dst;
		r->tp[i] = rx->tp;
		r->dgram[i] = rx->dgram;
		r->n++;
	}
	if (rx->conn) {
		mem_deref(r->conn);
		r->conn = mem_ref(rx->conn);
	}
	if (r->echo)
		r->echo_err = sip_transp_send(r->tps, rx->tp, &rx->src,
					      r->echo_noconn ? NULL : rx->conn,
					      rx->p, rx->len);
	if (r->close_in_handler)
		sip_transp_close(r->tps);
	if (r->inject_n > 0 && r->n == 1) {
		/* more arrive while the batch is handled (loopback delivers
		 * synchronously) */
		for (int k = 0; k < r->inject_n; k++)
			assert_int_equal(sendto(r->inject_fd, rx->p, rx->len, 0,
						&r->inject_to->u.sa,
						r->inject_to->len),
					 (ssize_t)rx->len);
	}
}


static void rec_reset(struct rec *r)
{
	r->conn = mem_deref(r->conn);
}


static const char OPTIONS[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
			      "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\n"
			      "Call-ID: 1@test\r\n"
			      "Content-Length: 5\r\n"
			      "\r\n"
			      "hello";

static const char MSG2[] = "MESSAGE sip:b@127.0.0.1 SIP/2.0\r\n"
			   "Call-ID: 2@test\r\n"
			   "l: 3\r\n"
			   "\r\n"
			   "abc";


static void start(void)
{
	loop_close(); /* left over by a failed test */
	assert_int_equal(loop_init(0), 0);
}


static void stop(void)
{
	loop_close();
	tmr_test_set_now(0);
}


static void poll_ms(int ms)
{
	int i;

	for (i = 0; i < ms / 5 + 1; i++)
		assert_int_equal(loop_poll(5), 0);
}


/* Poll until *n reaches want (or ~2 s). */
static void poll_count(const size_t *n, size_t want)
{
	int i;

	for (i = 0; i < 400 && *n < want; i++)
		assert_int_equal(loop_poll(5), 0);
}


static struct sip_transports *transp_new(struct rec *r,
					 const struct sip_transp_conf *conf)
{
	struct sip_transports *tps = NULL;

	assert_int_equal(sip_transp_alloc(&tps, conf, rec_h, r), 0);
	r->tps = tps;
	return tps;
}


static const struct sa *listen_on(struct sip_transports *tps,
				  enum sip_transp tp, const char *ip)
{
	struct sa la;
	const struct sa *got;

	assert_int_equal(sa_set_str(&la, ip, 0), 0);
	assert_int_equal(sip_transp_listen(tps, tp, &la), 0);
	got = sip_transp_laddr(tps, tp, sa_af(&la));
	assert_non_null(got);
	assert_true(sa_port(got) != 0);
	return got;
}


static int sock_new(int type, const struct sa *connect_to)
{
	int fd = socket(sa_af(connect_to), type, 0);

	assert_true(fd >= 0);
	if (type == SOCK_STREAM)
		assert_int_equal(
			connect(fd, &connect_to->u.sa, connect_to->len), 0);
	return fd;
}


/* Read from a peer socket while the loop runs; returns bytes (0 = EOF,
 * -1 = nothing within ~2 s, -2 = error such as a reset). */
static ssize_t peer_recv(int fd, void *buf, size_t size)
{
	int i;

	for (i = 0; i < 400; i++) {
		ssize_t r = recv(fd, buf, size, MSG_DONTWAIT);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -2;
		assert_int_equal(loop_poll(5), 0);
	}
	return -1;
}


/* The transport closed the peer's connection (EOF or reset). */
static void assert_closed(int fd)
{
	char buf[256];
	ssize_t r;

	do {
		r = peer_recv(fd, buf, sizeof(buf));
	} while (r > 0);
	assert_true(r == 0 || r == -2);
}


static void send_all(int fd, const void *p, size_t len)
{
	assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}


/* ---- UDP ---- */

/* A loop, a transport object listening on UDP at ip, and a peer socket. */
static struct sip_transports *udp_open(struct rec *r,
				       const struct sip_transp_conf *conf,
				       const char *ip, const struct sa **la,
				       int *fd)
{
	struct sip_transports *tps;

	start();
	tps = transp_new(r, conf);
	*la = listen_on(tps, SIP_TRANSP_UDP, ip);
	*fd = sock_new(SOCK_DGRAM, *la);
	return tps;
}


static void send_options(int fd, const struct sa *to)
{
	assert_int_equal(
		sendto(fd, OPTIONS, sizeof(OPTIONS) - 1, 0, &to->u.sa, to->len),
		(ssize_t)sizeof(OPTIONS) - 1);
}


static void udp_echo(const char *ip)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_stats st;
	const struct sa *la;
	char buf[1024];
	struct sa me;
	int fd;

	tps = udp_open(&r, NULL, ip, &la, &fd);
	r.echo = true;
	send_options(fd, la);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)),
			 (ssize_t)sizeof(OPTIONS) - 1);
	assert_memory_equal(buf, OPTIONS, sizeof(OPTIONS) - 1);

	assert_int_equal(r.n, 1);
	assert_int_equal(r.tp[0], SIP_TRANSP_UDP);
	assert_true(r.dgram[0]);
	assert_null(r.conn);
	assert_true(sa_eq(&r.dst[0], la));
	me.len = sizeof(me.u);
	assert_int_equal(getsockname(fd, &me.u.sa, &me.len), 0);
	assert_int_equal(sa_port(&r.src[0]), sa_port(&me));
	assert_true(sa_eq_addr(&r.src[0], la));
	assert_int_equal(r.echo_err, 0);

	sip_transp_stats(tps, &st);
	assert_int_equal(st.rx_msgs, 1);
	assert_int_equal(st.tx_msgs, 1);
	assert_int_equal(st.rx_bytes, sizeof(OPTIONS) - 1);
	assert_int_equal(st.tx_bytes, sizeof(OPTIONS) - 1);
	close(fd);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_udp_echo_v4(void **state)
{
	(void)state;
	udp_echo("127.0.0.1");
}


static void test_udp_echo_v6(void **state)
{
	(void)state;
	udp_echo("::1");
}


/* Ten datagrams in, ten out: one recvmmsg and one sendmmsg.  (The
 * transport sends to itself below: the local handover, tested in
 * test_sip_transp_local.c, is off so that the socket path is measured.) */
static void test_udp_batching(void **state)
{
	struct sip_transp_conf conf = { .no_local_handover = true };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	struct sip_transp_stats st;
	const struct sa *la;
	char buf[1024];
	int fd, i;

	(void)state;
	tps = udp_open(&r, &conf, "127.0.0.1", &la, &fd);
	r.echo = true;
	for (i = 0; i < 10; i++)
		send_options(fd, la);
	/* loopback delivers synchronously: all ten wait in the socket */
	assert_int_equal(loop_poll(100), 0);
	assert_int_equal(r.n, 10);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.rx_syscalls, 1);
	assert_int_equal(io.tx_syscalls, 1);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.tx_msgs, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(peer_recv(fd, buf, sizeof(buf)),
				 (ssize_t)sizeof(OPTIONS) - 1);

	/* sends outside a handler: a full batch (32) leaves at once, the
	 * rest waits for the hook or sip_transp_flush() */
	for (i = 0; i < 40; i++)
		assert_int_equal(sip_transp_send(tps, SIP_TRANSP_UDP, la, NULL,
						 MSG2, sizeof(MSG2) - 1),
				 0);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.tx_syscalls, 2);
	sip_transp_flush(tps);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.tx_syscalls, 3);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.tx_msgs, 50);
	/* they went to the transport's own socket: received back */
	r.echo = false;
	poll_count(&r.n, 50);
	assert_int_equal(r.n, 50);
	assert_string_equal(r.msg[49], MSG2);

	close(fd);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


struct hook_send {
	struct loop_hook hk;
	struct sip_transports *tps;
	const struct sa *dst;
	int sends;
};

static void hook_send_h(void *arg)
{
	struct hook_send *hs = arg;

	if (hs->sends++ == 0)
		assert_int_equal(sip_transp_send(hs->tps, SIP_TRANSP_UDP,
						 hs->dst, NULL, MSG2,
						 sizeof(MSG2) - 1),
				 0);
}


/* Datagrams that arrive while a batch is handled are read in the same
 * readiness when there is a sign of load (a batch of more than one);
 * a lone datagram is not followed by a read that would find nothing. */
static void test_udp_drain(void **state)
{
	struct sip_transp_conf conf = { .no_local_handover = true };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	const struct sa *la;
	int fd;

	(void)state;
	tps = udp_open(&r, &conf, "127.0.0.1", &la, &fd);

	/* a lone datagram: handled, and the one it brings waits for the
	 * next readiness */
	r.inject_fd = fd;
	r.inject_to = la;
	r.inject_n = 1;
	send_options(fd, la);
	assert_int_equal(loop_poll(100), 0);
	assert_int_equal(r.n, 1);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.rx_syscalls, 1);
	assert_int_equal(io.rx_empty, 0);
	assert_int_equal(loop_poll(100), 0);
	assert_int_equal(r.n, 2);

	/* two at once, three more arrive meanwhile: one readiness reads
	 * them all, and one read finds the socket empty */
	r.n = 0;
	r.inject_n = 3;
	for (int i = 0; i < 2; i++)
		send_options(fd, la);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(loop_poll(100), 0);
	assert_int_equal(r.n, 5);
	{
		struct sip_transp_io_stats io2;

		sip_transp_io_stats(tps, &io2);
		assert_int_equal(io2.rx_syscalls - io.rx_syscalls, 2);
		assert_int_equal(io2.rx_empty - io.rx_empty, 1);
	}
	close(fd);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


/* A datagram queued by another end-of-batch hook still leaves within
 * one more loop iteration, without waiting for some other event. */
static void test_udp_send_from_hook(void **state)
{
	struct sip_transp_conf conf = { .no_local_handover = true };
	struct hook_send hs = { 0 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	const struct sa *la;
	struct timespec t0, t1;
	int fd;

	(void)state;
	tps = udp_open(&r, &conf, "127.0.0.1", &la, &fd);
	assert_int_equal(sendto(fd, "x", 1, 0, &la->u.sa, la->len), 1);
	hs.tps = tps;
	hs.dst = la;
	loop_hook_add(&hs.hk, hook_send_h, &hs);
	assert_int_equal(loop_poll(0), 0); /* the hook queues a datagram */
	assert_true(hs.sends >= 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(loop_poll(2000), 0); /* must not block */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 1);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.tx_syscalls, 1);
	loop_hook_remove(&hs.hk);
	/* it went to the transport's own socket */
	poll_count(&r.n, 2);
	assert_string_equal(r.msg[r.n - 1], MSG2);
	close(fd);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_udp_errors(void **state)
{
	struct sip_transp_conf conf = { .max_msg = 600 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_stats st;
	const struct sa *la;
	static char big[1200];
	struct sa v6;
	int fd;

	(void)state;
	start();
	tps = transp_new(&r, &conf);
	la = listen_on(tps, SIP_TRANSP_UDP, "127.0.0.1");
	assert_int_equal(sa_set_str(&v6, "::1", 5060), 0);
	assert_int_equal(sip_transp_send(tps, SIP_TRANSP_UDP, &v6, NULL, MSG2,
					 sizeof(MSG2) - 1),
			 EAFNOSUPPORT);
	memset(big, 'x', sizeof(big));
	assert_int_equal(sip_transp_send(tps, SIP_TRANSP_UDP, la, NULL, big,
					 sizeof(big)),
			 EMSGSIZE);
	assert_int_equal(
		sip_transp_send(tps, SIP_TRANSP_NONE, la, NULL, big, 10),
		EPROTONOSUPPORT);
	assert_int_equal(
		sip_transp_send(tps, SIP_TRANSP_UDP, NULL, NULL, big, 10),
		EINVAL);

	/* an oversized datagram is dropped and counted; CRLF keep-alives
	 * are ignored; the next message still arrives */
	fd = sock_new(SOCK_DGRAM, la);
	assert_true(sendto(fd, big, sizeof(big), 0, &la->u.sa, la->len) > 0);
	assert_true(sendto(fd, "\r\n\r\n", 4, 0, &la->u.sa, la->len) > 0);
	assert_true(sendto(fd, MSG2, sizeof(MSG2) - 1, 0, &la->u.sa, la->len) >
		    0);
	poll_count(&r.n, 1);
	poll_ms(20);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.msg[0], MSG2);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.rx_dropped, 1);

	/* closing from inside the handler is safe */
	r.close_in_handler = true;
	assert_true(sendto(fd, MSG2, sizeof(MSG2) - 1, 0, &la->u.sa, la->len) >
		    0);
	assert_true(sendto(fd, MSG2, sizeof(MSG2) - 1, 0, &la->u.sa, la->len) >
		    0);
	poll_count(&r.n, 2);
	poll_ms(10);
	assert_int_equal(r.n, 2);
	assert_int_equal(
		sip_transp_send(tps, SIP_TRANSP_UDP, la, NULL, MSG2, 4),
		EINVAL);
	close(fd);
	mem_deref(tps);
	stop();
}


/* ---- TCP ---- */

static void test_tcp_split_message(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	const struct sa *la;
	size_t len = sizeof(OPTIONS) - 1;
	int fd;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = sock_new(SOCK_STREAM, la);
	/* in the start line, inside the CRLFCRLF, inside the body */
	send_all(fd, OPTIONS, 10);
	poll_ms(10);
	send_all(fd, OPTIONS + 10, len - 7 - 10);
	poll_ms(10);
	send_all(fd, OPTIONS + len - 7, 4);
	poll_ms(10);
	assert_int_equal(r.n, 0);
	send_all(fd, OPTIONS + len - 3, 3);
	poll_count(&r.n, 1);
	poll_ms(10);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.len[0], len);
	assert_string_equal(r.msg[0], OPTIONS);
	assert_int_equal(r.tp[0], SIP_TRANSP_TCP);
	assert_false(r.dgram[0]);
	assert_non_null(r.conn);
	assert_true(sip_conn_alive(r.conn));
	assert_int_equal(sip_conn_transp(r.conn), SIP_TRANSP_TCP);
	assert_true(sa_eq(sip_conn_peer(r.conn), &r.src[0]));
	assert_true(sa_eq(sip_conn_laddr(r.conn), la));

	close(fd);
	sip_transp_close(tps);
	assert_false(sip_conn_alive(r.conn)); /* our reference outlives it */
	rec_reset(&r);
	mem_deref(tps);
	stop();
}


static void test_tcp_two_in_one_write(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	const struct sa *la;
	char both[1024];
	int fd, n;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = sock_new(SOCK_STREAM, la);
	/* a stray CRLF (RFC 3261 7.5) between the two is ignored */
	n = snprintf(both, sizeof(both), "%s\r\n%s", OPTIONS, MSG2);
	send_all(fd, both, (size_t)n);
	poll_count(&r.n, 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.msg[0], OPTIONS);
	assert_string_equal(r.msg[1], MSG2);
	close(fd);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_tcp_keepalive(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	const struct sa *la;
	char buf[16];
	int fd;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = sock_new(SOCK_STREAM, la);
	send_all(fd, "\r\n\r\n", 4);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\r\n", 2);
	/* a ping split over two writes */
	send_all(fd, "\r\n", 2);
	poll_ms(10);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	send_all(fd, "\r\n", 2);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)), 2);
	/* and a message right after a ping */
	send_all(fd, "\r\n\r\n", 4);
	send_all(fd, MSG2, sizeof(MSG2) - 1);
	poll_count(&r.n, 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.msg[0], MSG2);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)), 2);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.keepalive_pongs, 3);
	close(fd);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_tcp_bad_and_oversize(void **state)
{
	struct sip_transp_conf conf = { .max_msg = 1000 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_stats st;
	const struct sa *la;
	char buf[2048];
	int fd, n;

	(void)state;
	start();
	tps = transp_new(&r, &conf);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");

	/* Content-Length over max_msg: closed when max_msg bytes are in */
	fd = sock_new(SOCK_STREAM, la);
	n = snprintf(buf, sizeof(buf),
		     "MESSAGE sip:x SIP/2.0\r\nContent-Length: 1500\r\n\r\n");
	send_all(fd, buf, (size_t)n);
	poll_ms(10);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 1); /* not yet: it may be a small one */
	memset(buf, 'b', 1500);
	send_all(fd, buf, 1500);
	assert_closed(fd);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.rx_dropped, 1);
	assert_int_equal(st.conns, 0);
	close(fd);

	/* headers that never end: closed when max_msg bytes are buffered */
	fd = sock_new(SOCK_STREAM, la);
	n = snprintf(buf, sizeof(buf), "MESSAGE sip:x SIP/2.0\r\n");
	send_all(fd, buf, (size_t)n);
	memset(buf, 'a', sizeof(buf));
	buf[0] = 'X';
	buf[1] = ':';
	send_all(fd, buf, 1500);
	assert_closed(fd);
	close(fd);

	/* a stream message without Content-Length: framing lost */
	fd = sock_new(SOCK_STREAM, la);
	n = snprintf(buf, sizeof(buf), "MESSAGE sip:x SIP/2.0\r\n\r\n");
	send_all(fd, buf, (size_t)n);
	assert_closed(fd);
	close(fd);

	poll_ms(10);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.rx_dropped, 3);
	assert_int_equal(st.conns, 0);
	assert_int_equal(r.n, 0);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_tcp_max_conns(void **state)
{
	struct sip_transp_conf conf = { .max_conns = 2 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_stats st;
	const struct sa *la;
	int fd[3], i;

	(void)state;
	start();
	tps = transp_new(&r, &conf);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	for (i = 0; i < 3; i++) {
		fd[i] = sock_new(SOCK_STREAM, la);
		poll_ms(10);
	}
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 2);
	assert_int_equal(st.conn_refused, 1);
	assert_closed(fd[2]);
	/* the first two still work */
	send_all(fd[1], MSG2, sizeof(MSG2) - 1);
	poll_count(&r.n, 1);
	assert_int_equal(r.n, 1);
	/* outgoing connections count against the limit too */
	assert_int_equal(sip_transp_send(tps, SIP_TRANSP_TCP, la, NULL, MSG2,
					 sizeof(MSG2) - 1),
			 EMFILE);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


static void test_tcp_idle_timeout(void **state)
{
	struct sip_transp_conf conf = { .idle_timeout_s = 10 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	struct sip_transp_stats st;
	const struct sa *la;
	uint64_t t0 = 1000000;
	int fd;

	(void)state;
	tmr_test_set_now(t0);
	start();
	tps = transp_new(&r, &conf);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = sock_new(SOCK_STREAM, la);
	poll_ms(10);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 1);

	/* traffic at 5 s pushes the deadline to 15 s */
	tmr_test_set_now(t0 + 5000);
	send_all(fd, MSG2, sizeof(MSG2) - 1);
	poll_count(&r.n, 1);
	tmr_test_set_now(t0 + 11000);
	poll_ms(10);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 1);
	assert_true(sip_conn_alive(r.conn));

	tmr_test_set_now(t0 + 15001);
	poll_ms(10);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 0);
	assert_false(sip_conn_alive(r.conn));
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.conn_idle_closed, 1);
	assert_closed(fd);
	close(fd);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


/* A request over a raw socket; the reply goes back on its connection,
 * both through `conn` and through the lookup by address. */
static void test_tcp_response_same_conn(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_io_stats io;
	struct sip_transp_stats st;
	const struct sa *la;
	char buf[1024];
	int fd;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	r.echo = true;
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = sock_new(SOCK_STREAM, la);
	send_all(fd, OPTIONS, sizeof(OPTIONS) - 1);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)),
			 (ssize_t)sizeof(OPTIONS) - 1);
	assert_memory_equal(buf, OPTIONS, sizeof(OPTIONS) - 1);

	r.echo_noconn = true;
	send_all(fd, MSG2, sizeof(MSG2) - 1);
	assert_int_equal(peer_recv(fd, buf, sizeof(buf)),
			 (ssize_t)sizeof(MSG2) - 1);
	assert_memory_equal(buf, MSG2, sizeof(MSG2) - 1);
	sip_transp_io_stats(tps, &io);
	assert_int_equal(io.conn_accepted, 1);
	assert_int_equal(io.conn_connected, 0);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.tx_msgs, 2);

	/* the peer goes away: the connection is closed and forgotten */
	close(fd);
	poll_ms(20);
	assert_false(sip_conn_alive(r.conn));
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 0);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


/* Transport A opens a connection to B (message queued until connected);
 * B answers on the connection it came on; A receives it on the same. */
static void stream_a_to_b(enum sip_transp tp, const char *ip,
			  const struct sip_transp_conf *conf)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct sip_transp_io_stats io;
	struct sip_transp_stats st;
	const struct sa *lb;

	start();
	a = transp_new(&ra, conf);
	b = transp_new(&rb, conf);
	rb.echo = true;
	lb = listen_on(b, tp, ip);
	assert_int_equal(
		sip_transp_send(a, tp, lb, NULL, OPTIONS, sizeof(OPTIONS) - 1),
		0);
	/* a second message before the connection is up reuses it */
	assert_int_equal(
		sip_transp_send(a, tp, lb, NULL, MSG2, sizeof(MSG2) - 1), 0);
	poll_count(&ra.n, 2);
	assert_int_equal(rb.n, 2);
	assert_int_equal(ra.n, 2);
	assert_string_equal(rb.msg[0], OPTIONS);
	assert_string_equal(ra.msg[0], OPTIONS);
	assert_string_equal(ra.msg[1], MSG2);
	assert_int_equal(ra.tp[0], tp);
	assert_true(sa_eq(&ra.src[0], lb));
	assert_true(sa_eq(sip_conn_peer(ra.conn), lb));
	sip_transp_stats(a, &st);
	assert_int_equal(st.conns, 1);
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.conn_connected, 1);
	sip_transp_stats(b, &st);
	assert_int_equal(st.conns, 1);
	assert_int_equal(rb.echo_err, 0);

	/* a third message from A goes on the connection A received on */
	assert_int_equal(
		sip_transp_send(a, tp, NULL, ra.conn, MSG2, sizeof(MSG2) - 1),
		0);
	poll_count(&rb.n, 3);
	assert_int_equal(rb.n, 3);
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.conn_connected, 1);

	rec_reset(&ra);
	rec_reset(&rb);
	sip_transp_close(a);
	sip_transp_close(b);
	mem_deref(a);
	mem_deref(b);
	stop();
}


static void test_tcp_outgoing(void **state)
{
	(void)state;
	stream_a_to_b(SIP_TRANSP_TCP, "127.0.0.1", NULL);
	stream_a_to_b(SIP_TRANSP_TCP, "::1", NULL);
}


/* What a refused connection could not deliver goes to the fail handler
 * (RFC 3261 17.1.4: the transaction must learn of it). */
struct failrec {
	int calls;
	int err;
	size_t len;
	char data[256];
};

static void on_fail(int err, enum sip_transp tp, const struct sa *dst,
		    const void *p, size_t len, void *arg)
{
	struct failrec *f = arg;

	(void)tp;
	(void)dst;
	f->calls++;
	f->err = err;
	f->len = len < sizeof(f->data) ? len : sizeof(f->data);
	memcpy(f->data, p, f->len);
}


static void test_tcp_connect_refused(void **state)
{
	struct rec r = { 0 };
	struct failrec fr = { 0 };
	struct sip_transports *tps;
	struct sip_transp_stats st;
	struct sa dst;
	int fd;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	sip_transp_set_failh(tps, on_fail, &fr);
	/* a port nobody listens on: take one, then close it */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(sa_set_str(&dst, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &dst.u.sa, dst.len), 0);
	dst.len = sizeof(dst.u);
	assert_int_equal(getsockname(fd, &dst.u.sa, &dst.len), 0);
	close(fd);
	assert_int_equal(sip_transp_send(tps, SIP_TRANSP_TCP, &dst, NULL, MSG2,
					 sizeof(MSG2) - 1),
			 0);
	poll_ms(30);
	sip_transp_stats(tps, &st);
	assert_int_equal(st.conns, 0);
	assert_int_equal(st.tx_errors, 1);
	assert_int_equal(fr.calls, 1);
	assert_int_equal(fr.err, ECONNREFUSED);
	assert_int_equal(fr.len, sizeof(MSG2) - 1);
	assert_memory_equal(fr.data, MSG2, fr.len);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


/* A peer that does not read: partial writes are queued up to the
 * ceiling (ENOBUFS after that), then everything accepted arrives. */
static void test_tcp_backpressure(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	const struct sa *la;
	static char msg[60000], rbuf[65536];
	size_t accepted = 0, got = 0;
	int fd, i, small = 4096, err = 0, n;

	(void)state;
	start();
	tps = transp_new(&r, NULL);
	la = listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
		0);
	assert_int_equal(connect(fd, &la->u.sa, la->len), 0);
	send_all(fd, MSG2, sizeof(MSG2) - 1);
	poll_count(&r.n, 1);
	assert_non_null(r.conn);

	n = snprintf(msg, sizeof(msg),
		     "MESSAGE sip:x SIP/2.0\r\nContent-Length: %zu\r\n\r\n",
		     sizeof(msg) - 48);
	assert_int_equal(n, 48);
	memset(msg + n, 'z', sizeof(msg) - (size_t)n);
	for (i = 0; i < 400; i++) {
		err = sip_transp_send(tps, SIP_TRANSP_TCP, NULL, r.conn, msg,
				      sizeof(msg));
		if (err)
			break;
		accepted += sizeof(msg);
	}
	assert_int_equal(err, ENOBUFS);
	assert_true(sip_conn_alive(r.conn));
	while (got < accepted) {
		ssize_t k = peer_recv(fd, rbuf, sizeof(rbuf));
		assert_true(k > 0);
		got += (size_t)k;
	}
	assert_int_equal(got, accepted);
	assert_int_equal(sip_transp_send(tps, SIP_TRANSP_TCP, NULL, r.conn, msg,
					 sizeof(msg)),
			 0);
	close(fd);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
}


/* ---- TLS ---- */

static char tls_dir[64];
static char cert_path[128];
static char key_path[128];

static void tls_files(void)
{
	struct stat stt;

	(void)snprintf(tls_dir, sizeof(tls_dir), "/tmp/entims-tls-XXXXXX");
	assert_non_null(mkdtemp(tls_dir));
	(void)snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tls_dir);
	(void)snprintf(key_path, sizeof(key_path), "%s/key.pem", tls_dir);
	assert_int_equal(tls_selfsigned(cert_path, key_path,
					"entims.test,127.0.0.1,::1"),
			 0);
	assert_int_equal(stat(key_path, &stt), 0);
	assert_int_equal(stt.st_mode & 0777, 0600);
}


static void tls_files_rm(void)
{
	unlink(cert_path);
	unlink(key_path);
	rmdir(tls_dir);
}


static void test_tls_selfsigned(void **state)
{
	X509 *x;
	FILE *f;
	char cn[64];

	(void)state;
	tls_files();
	f = fopen(cert_path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	assert_non_null(x);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					      NID_commonName, cn,
					      sizeof(cn)) > 0);
	assert_string_equal(cn, "entims.test");
	assert_int_equal(X509_check_host(x, "entims.test", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "other.test", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.2", 0), 0);
	X509_free(x);
	tls_files_rm();

	assert_int_equal(tls_selfsigned("/tmp/x.pem", "/tmp/y.pem", "bad name"),
			 EINVAL);
	assert_int_equal(tls_selfsigned("/nonexistent/dir/c.pem",
					"/nonexistent/dir/k.pem",
					"entims.test"),
			 ENOENT);
}


/* An OpenSSL client (verifying our self-signed certificate) sends a
 * request and gets the reply on the same connection. */
static void test_tls_client_echo(void **state)
{
	struct sip_transp_conf conf = { 0 };
	struct rec r = { 0 };
	struct sip_transports *tps;
	const struct sa *la;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[1024];
	int fd, i, ret = 0;
	size_t got = 0;

	(void)state;
	tls_files();
	conf.tls_cert = cert_path;
	conf.tls_key = key_path;
	start();
	tps = transp_new(&r, &conf);
	r.echo = true;
	la = listen_on(tps, SIP_TRANSP_TLS, "127.0.0.1");

	ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, cert_path, NULL),
			 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fd = sock_new(SOCK_STREAM, la);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	ssl = SSL_new(ctx);
	assert_int_equal(SSL_set1_host(ssl, "entims.test"), 1);
	SSL_set_tlsext_host_name(ssl, "entims.test");
	SSL_set_fd(ssl, fd);
	for (i = 0; i < 400; i++) {
		ret = SSL_connect(ssl);
		if (ret == 1)
			break;
		assert_true(SSL_get_error(ssl, ret) == SSL_ERROR_WANT_READ ||
			    SSL_get_error(ssl, ret) == SSL_ERROR_WANT_WRITE);
		assert_int_equal(loop_poll(5), 0);
	}
	assert_int_equal(ret, 1);
	assert_int_equal(SSL_get_verify_result(ssl), X509_V_OK);
	assert_true(SSL_version(ssl) >= TLS1_2_VERSION);

	/* request in two records */
	assert_int_equal(SSL_write(ssl, OPTIONS, 20), 20);
	assert_int_equal(SSL_write(ssl, OPTIONS + 20, sizeof(OPTIONS) - 21),
			 (int)sizeof(OPTIONS) - 21);
	for (i = 0; i < 400 && got < sizeof(OPTIONS) - 1; i++) {
		ret = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got));
		if (ret > 0)
			got += (size_t)ret;
		else
			assert_int_equal(loop_poll(5), 0);
	}
	assert_int_equal(got, sizeof(OPTIONS) - 1);
	assert_memory_equal(buf, OPTIONS, got);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.tp[0], SIP_TRANSP_TLS);
	assert_int_equal(sip_conn_transp(r.conn), SIP_TRANSP_TLS);

	/* CRLF keep-alive over TLS */
	assert_int_equal(SSL_write(ssl, "\r\n\r\n", 4), 4);
	got = 0;
	for (i = 0; i < 400 && got < 2; i++) {
		ret = SSL_read(ssl, buf, sizeof(buf));
		if (ret > 0)
			got += (size_t)ret;
		else
			assert_int_equal(loop_poll(5), 0);
	}
	assert_int_equal(got, 2);

	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	rec_reset(&r);
	sip_transp_close(tps);
	mem_deref(tps);
	stop();
	tls_files_rm();
}


static void test_tls_outgoing(void **state)
{
	struct sip_transp_conf conf = { 0 };

	(void)state;
	tls_files();
	conf.tls_cert = cert_path;
	conf.tls_key = key_path;
	/* no tls_ca: not verified (a warning is logged) */
	stream_a_to_b(SIP_TRANSP_TLS, "127.0.0.1", &conf);
	/* verified: the certificate names 127.0.0.1 and ::1 */
	conf.tls_ca = cert_path;
	stream_a_to_b(SIP_TRANSP_TLS, "127.0.0.1", &conf);
	stream_a_to_b(SIP_TRANSP_TLS, "::1", &conf);
	tls_files_rm();
}


static void test_tls_verify_names(void **state)
{
	struct sip_transp_conf conf = { 0 };
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct sip_transp_io_stats io;
	struct sip_transp_stats st;
	struct sip_conn *c = NULL;
	const struct sa *lb;

	(void)state;
	tls_files();
	conf.tls_cert = cert_path;
	conf.tls_key = key_path;
	conf.tls_ca = cert_path;
	start();
	a = transp_new(&ra, &conf);
	b = transp_new(&rb, &conf);
	lb = listen_on(b, SIP_TRANSP_TLS, "127.0.0.1");

	/* the name in the certificate: accepted */
	assert_int_equal(
		sip_transp_connect(a, SIP_TRANSP_TLS, lb, "entims.test", &c),
		0);
	assert_int_equal(sip_transp_send(a, SIP_TRANSP_TLS, lb, c, MSG2,
					 sizeof(MSG2) - 1),
			 0);
	poll_count(&rb.n, 1);
	assert_int_equal(rb.n, 1);
	assert_true(sip_conn_alive(c));
	sip_conn_close(c);
	assert_false(sip_conn_alive(c));
	c = mem_deref(c);

	/* another name: the handshake fails, the connection goes away */
	assert_int_equal(
		sip_transp_connect(a, SIP_TRANSP_TLS, lb, "wrong.test", &c), 0);
	assert_int_equal(sip_transp_send(a, SIP_TRANSP_TLS, NULL, c, MSG2,
					 sizeof(MSG2) - 1),
			 0);
	poll_ms(100);
	assert_false(sip_conn_alive(c));
	c = mem_deref(c);
	assert_int_equal(rb.n, 1);
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.tls_failed, 1);
	sip_transp_stats(a, &st);
	assert_int_equal(st.tx_errors, 1);
	assert_int_equal(st.conns, 0);

	rec_reset(&ra);
	rec_reset(&rb);
	sip_transp_close(a);
	sip_transp_close(b);
	mem_deref(a);
	mem_deref(b);
	stop();
	tls_files_rm();
}


static void test_misc(void **state)
{
	struct rec r = { 0 };
	struct sip_transports *tps;
	struct sip_transp_conf conf = { .max_msg = SIP_MSG_MAX + 1 };
	struct pl pl;
	struct sa la;

	(void)state;
	pl_set_str(&pl, "tcp");
	assert_int_equal(sip_transp_from_pl(&pl), SIP_TRANSP_TCP);
	pl_set_str(&pl, "UDP");
	assert_int_equal(sip_transp_from_pl(&pl), SIP_TRANSP_UDP);
	pl_set_str(&pl, "Tls");
	assert_int_equal(sip_transp_from_pl(&pl), SIP_TRANSP_TLS);
	pl_set_str(&pl, "sctp");
	assert_int_equal(sip_transp_from_pl(&pl), SIP_TRANSP_NONE);
	assert_string_equal(sip_transp_name(SIP_TRANSP_TLS), "TLS");
	assert_true(sip_transp_reliable(SIP_TRANSP_TCP));
	assert_false(sip_transp_reliable(SIP_TRANSP_UDP));
	assert_false(sip_conn_alive(NULL));

	start();
	assert_int_equal(sip_transp_alloc(&tps, &conf, rec_h, &r), EINVAL);
	assert_int_equal(sip_transp_alloc(&tps, NULL, NULL, &r), EINVAL);
	tps = transp_new(&r, NULL);
	assert_int_equal(sa_set_str(&la, "127.0.0.1", 0), 0);
	/* TLS without a certificate */
	assert_int_equal(sip_transp_listen(tps, SIP_TRANSP_TLS, &la), EINVAL);
	assert_null(sip_transp_laddr(tps, SIP_TRANSP_UDP, AF_INET));
	/* the same port twice */
	listen_on(tps, SIP_TRANSP_TCP, "127.0.0.1");
	la = *sip_transp_laddr(tps, SIP_TRANSP_TCP, AF_INET);
	assert_int_equal(sip_transp_listen(tps, SIP_TRANSP_TCP, &la),
			 EADDRINUSE);
	sip_transp_close(tps);
	sip_transp_close(tps);
	assert_int_equal(sip_transp_listen(tps, SIP_TRANSP_UDP, &la), EINVAL);
	mem_deref(tps);
	stop();
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_echo_v4, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_udp_echo_v6, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_udp_batching, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_udp_drain, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_udp_send_from_hook,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_udp_errors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_split_message,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_two_in_one_write,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_keepalive, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_bad_and_oversize,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_max_conns, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_idle_timeout, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_response_same_conn,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_outgoing, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_connect_refused,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tcp_backpressure, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tls_selfsigned, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tls_client_echo, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tls_outgoing, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tls_verify_names, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_misc, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_transp", tests, NULL, NULL);
}
