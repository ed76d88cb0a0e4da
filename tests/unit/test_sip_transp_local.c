/**
 * @file test_sip_transp_local.c  Local handover between transport objects
 * of one loop, and ICMP errors on UDP.
 *
 * Two transport objects (or two SIP stacks) in this process play two
 * co-located roles: what one sends to the other's UDP listener must arrive
 * from the sender's listener address, in order, from the loop (never from
 * inside the send), with no datagram on the wire (io stats).  A datagram to
 * a closed loopback port must come back as a transport error within a
 * second (ICMP port unreachable, RFC 3261 18.4), not after Timer F.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "core/hash.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"
#include "sip/transp.h"

#define MAXREC 64

/* What a transport's receive handler saw. */
struct rec {
	size_t n;
	char msg[MAXREC][256];
	struct sa src[MAXREC];
	struct sa dst[MAXREC];
	bool dgram[MAXREC];
	enum sip_transp tp[MAXREC];
	struct sip_transports *tps;
	struct sip_transports *peer; /* echo target object, for ping-pong */
	unsigned echo_left;          /* send each message back, this often */
	bool close_in_handler;
	bool in_send; /* set around our own sends: a delivery then re-enters */
	bool reentered;
	int send_err;
	/* order check: messages "X: n" with n < x_limit come as 0, 1, ... */
	int x_limit, x_next;
	bool x_disorder;
};

static bool sending; /* any transport of the test is inside a send */

static void rec_h(const struct sip_rx *rx, void *arg)
{
	struct rec *r = arg;
	size_t i = r->n;

	if (sending)
		r->reentered = true;
	if (i < MAXREC) {
		size_t l = rx->len < sizeof(r->msg[0]) - 1
				   ? rx->len
				   : sizeof(r->msg[0]) - 1;
		memcpy(r->msg[i], rx->p, l);
		r->msg[i][l] = '\0';
		r->src[i] = rx->src;
		r->dst[i] = rx->dst;
		r->dgram[i] = rx->dgram;
		r->tp[i] = rx->tp;
	}
	r->n++;
	if (r->x_limit) {
		const char *x = memmem(rx->p, rx->len, "\r\nX: ", 5);
		const char *end = rx->p + rx->len;
		int v = -1;

		/* the bytes are not NUL-terminated: read the digits by hand */
		for (x = x ? x + 5 : end; x < end && *x >= '0' && *x <= '9';
		     x++)
			v = (v < 0 ? 0 : v * 10) + (*x - '0');

		if (v >= 0 && v < r->x_limit && v != r->x_next++)
			r->x_disorder = true;
	}
	if (r->echo_left) {
		r->echo_left--;
		sending = true;
		r->send_err = sip_transp_send(r->tps, SIP_TRANSP_UDP, &rx->src,
					      NULL, rx->p, rx->len);
		sending = false;
	}
	if (r->close_in_handler)
		sip_transp_close(r->tps);
}


static void start(void)
{
	loop_close(); /* left over by a failed test */
	assert_int_equal(loop_init(0), 0);
	sip_transp_local_handover(true);
}


static void stop(void)
{
	assert_int_equal(sip_transp_local_pending(), 0);
	sip_transp_local_handover(true);
	loop_close();
}


/* Poll until *n reaches want (at most ~2 s). */
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


static struct sa listen_on(struct sip_transports *tps, const char *ip,
			   uint16_t port)
{
	struct sa la;
	const struct sa *got;

	assert_int_equal(sa_set_str(&la, ip, port), 0);
	assert_int_equal(sip_transp_listen(tps, SIP_TRANSP_UDP, &la), 0);
	got = sip_transp_laddr(tps, SIP_TRANSP_UDP, sa_af(&la));
	assert_non_null(got);
	assert_true(sa_port(got) != 0);
	return *got;
}


static int send_msg(struct sip_transports *tps, const struct sa *dst,
		    const char *s)
{
	int err;

	sending = true;
	err = sip_transp_send(tps, SIP_TRANSP_UDP, dst, NULL, s, strlen(s));
	sending = false;
	return err;
}


static void free_transp(struct sip_transports *tps)
{
	sip_transp_close(tps);
	mem_deref(tps);
}


/* A free UDP port on 127.0.0.1 with nothing bound to it any more. */
static struct sa closed_port(void)
{
	struct sa sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(sa_set_str(&sa, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &sa.u.sa, sa.len), 0);
	sa.len = sizeof(sa.u);
	assert_int_equal(getsockname(fd, &sa.u.sa, &sa.len), 0);
	close(fd);
	return sa;
}


/* ---- local handover ---- */

/* A to B and back: queued, delivered from the loop in order, from the
 * sender's listener address, and no datagram leaves either socket. */
static void test_local_two_stacks(void **state)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct sip_transp_io_stats ioa, iob;
	struct sip_transp_stats sta, stb;
	struct sa la, lb;
	char m[64];
	int i;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	la = listen_on(a, "127.0.0.1", 0);
	lb = listen_on(b, "127.0.0.1", 0);

	for (i = 0; i < 5; i++) {
		(void)snprintf(m, sizeof(m),
			       "MESSAGE sip:b SIP/2.0\r\nX: %d\r\n\r\n", i);
		assert_int_equal(send_msg(a, &lb, m), 0);
	}
	/* nothing is delivered from inside the send */
	assert_int_equal(rb.n, 0);
	assert_int_equal(sip_transp_local_pending(), 5);

	rb.echo_left = 5; /* answer each: goes back to A the same way */
	poll_count(&ra.n, 5);
	assert_int_equal(rb.n, 5);
	assert_int_equal(ra.n, 5);
	assert_false(ra.reentered);
	assert_false(rb.reentered);
	assert_int_equal(rb.send_err, 0);
	for (i = 0; i < 5; i++) {
		(void)snprintf(m, sizeof(m),
			       "MESSAGE sip:b SIP/2.0\r\nX: %d\r\n\r\n", i);
		assert_string_equal(rb.msg[i], m); /* FIFO */
		assert_string_equal(ra.msg[i], m);
		assert_true(sa_eq(&rb.src[i], &la));
		assert_true(sa_eq(&rb.dst[i], &lb));
		assert_true(sa_eq(&ra.src[i], &lb));
		assert_true(sa_eq(&ra.dst[i], &la));
		assert_true(rb.dgram[i]);
		assert_int_equal(rb.tp[i], SIP_TRANSP_UDP);
	}

	sip_transp_io_stats(a, &ioa);
	sip_transp_io_stats(b, &iob);
	assert_int_equal(ioa.tx_syscalls, 0);
	assert_int_equal(ioa.rx_syscalls, 0);
	assert_int_equal(iob.tx_syscalls, 0);
	assert_int_equal(iob.rx_syscalls, 0);
	assert_int_equal(ioa.local_tx, 5);
	assert_int_equal(ioa.local_rx, 5);
	assert_int_equal(iob.local_tx, 5);
	assert_int_equal(iob.local_rx, 5);
	sip_transp_stats(a, &sta);
	sip_transp_stats(b, &stb);
	assert_int_equal(sta.tx_msgs, 5);
	assert_int_equal(stb.rx_msgs, 5);
	assert_int_equal(stb.rx_bytes, sta.tx_bytes);

	free_transp(a);
	free_transp(b);
	stop();
}


/* A listener on the wildcard address takes loopback destinations of its
 * port; a sender on the wildcard address appears with the address it
 * sent to (what the kernel would choose), and its own port. */
static void test_local_wildcard(void **state)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct sip_transp_io_stats iob;
	struct sa la, lb, to;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	la = listen_on(a, "0.0.0.0", 0);
	lb = listen_on(b, "0.0.0.0", 0);
	assert_int_equal(sa_set_str(&to, "127.0.0.2", sa_port(&lb)), 0);
	assert_int_equal(send_msg(a, &to, "OPTIONS sip:x SIP/2.0\r\n\r\n"), 0);
	poll_count(&rb.n, 1);
	assert_int_equal(rb.n, 1);
	assert_true(sa_eq_addr(&rb.src[0], &to));
	assert_int_equal(sa_port(&rb.src[0]), sa_port(&la));
	assert_true(sa_eq(&rb.dst[0], &lb)); /* as recvmmsg reports it */
	sip_transp_io_stats(b, &iob);
	assert_int_equal(iob.local_rx, 1);
	assert_int_equal(iob.rx_syscalls, 0);
	free_transp(a);
	free_transp(b);
	stop();
}


/* A listener that closes with messages waiting: they go, nothing leaks,
 * nothing is read after free (ASan); a handler that closes its own
 * transport drops the rest of its queue; the sender may go first. */
static void test_local_teardown(void **state)
{
	struct rec ra = { 0 }, rb = { 0 }, rc = { 0 };
	struct sip_transports *a, *b, *c;
	struct sa lb, lc;
	int i;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	c = transp_new(&rc, NULL);
	(void)listen_on(a, "127.0.0.1", 0);
	lb = listen_on(b, "127.0.0.1", 0);
	lc = listen_on(c, "127.0.0.1", 0);

	/* B goes while three wait for it; one for C stays */
	for (i = 0; i < 3; i++)
		assert_int_equal(
			send_msg(a, &lb, "MESSAGE sip:b SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(send_msg(a, &lc, "MESSAGE sip:c SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(sip_transp_local_pending(), 4);
	free_transp(b);
	assert_int_equal(sip_transp_local_pending(), 1);
	/* the sender goes too: what it sent still arrives */
	free_transp(a);
	poll_count(&rc.n, 1);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rb.n, 0);

	/* C closes itself on the first of three */
	a = transp_new(&ra, NULL);
	(void)listen_on(a, "127.0.0.1", 0);
	rc.n = 0;
	rc.close_in_handler = true;
	for (i = 0; i < 3; i++)
		assert_int_equal(
			send_msg(a, &lc, "MESSAGE sip:c SIP/2.0\r\n\r\n"), 0);
	poll_count(&rc.n, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(loop_poll(1), 0);
	assert_int_equal(rc.n, 1);
	assert_int_equal(sip_transp_local_pending(), 0);
	/* C's address is no longer in the registry: the socket takes it */
	assert_int_equal(send_msg(a, &lc, "MESSAGE sip:c SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(sip_transp_local_pending(), 0);
	sip_transp_flush(a);
	mem_deref(c);

	/* messages waiting when everything is released */
	b = transp_new(&rb, NULL);
	lb = listen_on(b, "127.0.0.1", 0);
	assert_int_equal(send_msg(a, &lb, "MESSAGE sip:b SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(send_msg(b, &lb, "MESSAGE sip:b SIP/2.0\r\n\r\n"), 0);
	mem_deref(b); /* no sip_transp_close: the destructor must purge */
	assert_int_equal(sip_transp_local_pending(), 0);
	free_transp(a);
	stop();
}


/* Switched off (for tshark): globally, or per object on either side; the
 * source address is the same as over the handover. */
static void test_local_off(void **state)
{
	struct sip_transp_conf off = { .no_local_handover = true };
	struct rec ra = { 0 }, rb = { 0 }, rc = { 0 };
	struct sip_transports *a, *b, *c;
	struct sip_transp_io_stats io;
	struct sa la, lb, lc;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	c = transp_new(&rc, &off);
	la = listen_on(a, "127.0.0.1", 0);
	lb = listen_on(b, "127.0.0.1", 0);
	lc = listen_on(c, "127.0.0.1", 0);

	sip_transp_local_handover(false);
	assert_int_equal(send_msg(a, &lb, "OPTIONS sip:b SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(sip_transp_local_pending(), 0);
	poll_count(&rb.n, 1);
	assert_int_equal(rb.n, 1);
	assert_true(sa_eq(&rb.src[0], &la));
	sip_transp_io_stats(b, &io);
	assert_int_equal(io.local_rx, 0);
	assert_int_equal(io.rx_syscalls, 1);
	sip_transp_local_handover(true);

	/* C opted out: not reachable by handover, and does not hand over */
	assert_int_equal(send_msg(a, &lc, "OPTIONS sip:c SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(send_msg(c, &lb, "OPTIONS sip:b SIP/2.0\r\n\r\n"), 0);
	assert_int_equal(sip_transp_local_pending(), 0);
	poll_count(&rc.n, 1);
	poll_count(&rb.n, 2);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rb.n, 2);
	assert_true(sa_eq(&rc.src[0], &la));
	assert_true(sa_eq(&rb.src[1], &lc));
	sip_transp_io_stats(c, &io);
	assert_int_equal(io.local_rx, 0);
	assert_int_equal(io.local_tx, 0);
	assert_int_equal(io.tx_syscalls, 1);

	/* a destination that is no listener of ours is not touched */
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.local_tx, 0);
	free_transp(a);
	free_transp(b);
	free_transp(c);
	stop();
}


/* Ping-pong between two objects: every loop iteration makes progress and
 * none blocks (the queue never waits for an unrelated event). */
static void test_local_pingpong(void **state)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct timespec t0, t1;
	struct sa lb;
	int i;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	(void)listen_on(a, "127.0.0.1", 0);
	lb = listen_on(b, "127.0.0.1", 0);
	ra.echo_left = 200;
	rb.echo_left = 200;
	assert_int_equal(send_msg(a, &lb, "MESSAGE sip:b SIP/2.0\r\n\r\n"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 1000 && (ra.echo_left || rb.echo_left); i++)
		assert_int_equal(loop_poll(2000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(ra.echo_left, 0);
	assert_int_equal(rb.echo_left, 0);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_false(ra.reentered);
	assert_false(rb.reentered);
	poll_count(&rb.n, 201);
	assert_int_equal(rb.n, 201);
	assert_int_equal(ra.n, 200);
	free_transp(a);
	free_transp(b);
	stop();
}


/* Past the queue limit the socket takes the messages (counted); all
 * arrive, and the order of those handed over is kept. */
static void test_local_overflow(void **state)
{
	struct rec ra = { 0 }, rb = { 0 };
	struct sip_transports *a, *b;
	struct sip_transp_io_stats io;
	struct sa lb;
	size_t pending;
	int i;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	b = transp_new(&rb, NULL);
	(void)listen_on(a, "127.0.0.1", 0);
	lb = listen_on(b, "127.0.0.1", 0);
	for (i = 0; i < 9000; i++) {
		char m[64];

		(void)snprintf(m, sizeof(m),
			       "MESSAGE sip:b SIP/2.0\r\nX: %d\r\n\r\n", i);
		assert_int_equal(send_msg(a, &lb, m), 0);
	}
	pending = sip_transp_local_pending();
	sip_transp_io_stats(a, &io);
	assert_true(pending > 0 && pending < 9000);
	assert_int_equal(io.local_tx, pending);
	assert_int_equal(io.local_overflow, 9000 - pending);
	/* the queue took the first ones; the rest went to the socket and
	 * may come first or be dropped, as UDP allows */
	rb.x_limit = (int)pending;
	sip_transp_flush(a);
	for (i = 0; i < 200 && rb.n < 9000; i++)
		assert_int_equal(loop_poll(5), 0);
	sip_transp_io_stats(b, &io);
	assert_int_equal(io.local_rx, pending);
	assert_true(rb.n >= pending);
	assert_int_equal(rb.x_next, (int)pending);
	assert_false(rb.x_disorder);
	free_transp(a);
	free_transp(b);
	stop();
}


/* ---- two SIP stacks ---- */

struct uas {
	unsigned n;
	struct sa src, dst;
	enum sip_transp tp;
};

static bool uas_req(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct uas *u = arg;

	u->n++;
	u->src = msg->src;
	u->dst = msg->dst;
	u->tp = (enum sip_transp)msg->tp;
	assert_int_equal(sip_replyf(sip, msg, 200, NULL), 0);
	return true;
}


struct ctrec {
	unsigned n;
	int err;
	bool got_msg;
	uint16_t scode;
};

static void ct_resp_h(int err, struct sip_msg *msg, void *arg)
{
	struct ctrec *r = arg;

	r->n++;
	r->err = err;
	r->got_msg = msg != NULL;
	r->scode = msg ? msg->scode : 0;
}


static bool no_req(struct sip *sip, struct sip_msg *msg, void *arg)
{
	(void)sip;
	(void)msg;
	(void)arg;
	return true;
}


static struct sip *stack_new(sip_req_h *reqh, void *arg, struct sa *laddr)
{
	struct sip_transp_conf tc = { 0 };
	struct sip *sip = NULL;
	struct sa la;

	assert_int_equal(sip_alloc(&sip, &tc, reqh, NULL, arg), 0);
	assert_int_equal(sa_set_str(&la, "127.0.0.1", 0), 0);
	assert_int_equal(sip_transp_listen(sip->transp, SIP_TRANSP_UDP, &la),
			 0);
	*laddr = *sip_transp_laddr(sip->transp, SIP_TRANSP_UDP, AF_INET);
	return sip;
}


/* A client transaction of stack A to stack B's listener: B's server side
 * sees A's listener as the source, its 200 goes back by rport, and
 * neither stack makes a system call for it. */
static void test_local_sip_stacks(void **state)
{
	struct sip_ctrans_opts o = { 0 };
	struct sip_transp_io_stats ioa, iob;
	struct uas u = { 0 };
	struct ctrec r = { 0 };
	struct sip_ctrans *ct = NULL;
	struct sip *a, *b;
	struct sa la, lb;
	char req[512];
	int len, i;

	(void)state;
	start();
	a = stack_new(no_req, NULL, &la);
	b = stack_new(uas_req, &u, &lb);
	len = snprintf(
		req, sizeof(req),
		"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKloc1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:a@t>;tag=1\r\nTo: <sip:b@t>\r\n"
		"Call-ID: local@test\r\nCSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n",
		sa_port(&la));
	assert_true(len > 0 && (size_t)len < sizeof(req));
	o.req = req;
	o.len = (size_t)len;
	o.tp = SIP_TRANSP_UDP;
	o.dst = lb;
	assert_int_equal(sip_ctrans_alloc(&ct, a, &o, ct_resp_h, &r), 0);
	assert_int_equal(u.n, 0); /* not from inside the send */
	for (i = 0; i < 100 && !r.n; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(u.n, 1);
	assert_true(sa_eq(&u.src, &la));
	assert_true(sa_eq(&u.dst, &lb));
	assert_int_equal(u.tp, SIP_TRANSP_UDP);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.scode, 200);

	sip_transp_io_stats(a->transp, &ioa);
	sip_transp_io_stats(b->transp, &iob);
	assert_int_equal(ioa.tx_syscalls + ioa.rx_syscalls, 0);
	assert_int_equal(iob.tx_syscalls + iob.rx_syscalls, 0);
	assert_int_equal(ioa.local_tx, 1);
	assert_int_equal(iob.local_rx, 1);
	assert_int_equal(iob.local_tx, 1);
	assert_int_equal(ioa.local_rx, 1);

	mem_deref(ct);
	sip_close(a);
	sip_close(b);
	mem_deref(a);
	mem_deref(b);
	stop();
}


/* A server transaction that answers 200 at once, as a proxy or registrar
 * does. */
static bool uas_st_req(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct uas *u = arg;
	struct sip_strans *st = NULL;
	struct sip_msg *req = NULL;

	u->n++;
	assert_int_equal(sip_msg_dup(&req, msg), 0);
	assert_int_equal(sip_strans_alloc(&st, sip, req, NULL, NULL), 0);
	mem_deref(req);
	assert_int_equal(sip_strans_reply(st, 200, NULL), 0);
	mem_deref(st);
	return true;
}


/* One OPTIONS transaction from A to B; *ct_left and *st_left: the client
 * and server transactions still held once the 200 has arrived. */
static void one_transaction(bool handover, size_t *ct_left, size_t *st_left,
			    struct sip_transp_io_stats *iob)
{
	struct sip_ctrans_opts o = { 0 };
	struct uas u = { 0 };
	struct ctrec r = { 0 };
	struct sip_ctrans *ct = NULL;
	struct sip *a, *b;
	struct sa la, lb;
	char req[512];
	int len, i;

	start();
	sip_transp_local_handover(handover);
	a = stack_new(no_req, NULL, &la);
	b = stack_new(uas_st_req, &u, &lb);
	len = snprintf(
		req, sizeof(req),
		"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKonce1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:a@t>;tag=1\r\nTo: <sip:b@t>\r\n"
		"Call-ID: once@test\r\nCSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n",
		sa_port(&la));
	assert_true(len > 0 && (size_t)len < sizeof(req));
	o.req = req;
	o.len = (size_t)len;
	o.tp = SIP_TRANSP_UDP;
	o.dst = lb;
	assert_int_equal(sip_ctrans_alloc(&ct, a, &o, ct_resp_h, &r), 0);
	for (i = 0; i < 200 && !r.n; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(u.n, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.scode, 200);
	for (i = 0; i < 4; i++)
		assert_int_equal(loop_poll(1), 0);
	*ct_left = a->ctrans->n;
	/* running, or Completed in the retransmission cache (Timer J) */
	*st_left = b->strans->n + b->stats.rcache.entries;
	sip_transp_io_stats(b->transp, iob);
	mem_deref(ct);
	sip_close(a);
	sip_close(b);
	mem_deref(a);
	mem_deref(b);
	stop();
}


/* A request handed over in-process by a client transaction is delivered
 * exactly once: both transactions run the timers of a reliable transport
 * (RFC 3261 17.1.2.2 Timer K and 17.2.2 Timer J are zero) and end with
 * the 200, where over the socket they wait 5 s and 32 s for
 * retransmissions. */
static void test_local_once_reliable(void **state)
{
	struct sip_transp_io_stats io;
	size_t ct_left, st_left;

	(void)state;
	one_transaction(true, &ct_left, &st_left, &io);
	assert_int_equal(io.local_rx, 1);
	assert_int_equal(ct_left, 0);
	assert_int_equal(st_left, 0);

	one_transaction(false, &ct_left, &st_left, &io);
	assert_int_equal(io.local_rx, 0);
	assert_int_equal(ct_left, 1); /* Timer K */
	assert_int_equal(st_left, 1); /* Timer J */
}


/* ---- ICMP errors ---- */

struct failrec {
	unsigned n;
	int err;
	enum sip_transp tp;
	struct sa dst;
	char start[64];
};

static void fail_h(int err, enum sip_transp tp, const struct sa *dst,
		   const void *p, size_t len, void *arg)
{
	struct failrec *f = arg;
	size_t l = len < sizeof(f->start) - 1 ? len : sizeof(f->start) - 1;

	f->n++;
	f->err = err;
	f->tp = tp;
	f->dst = *dst;
	memcpy(f->start, p, l);
	f->start[l] = '\0';
}


/* A datagram to a closed port: the failure handler hears of it. */
static void test_icmp_port_unreachable(void **state)
{
	struct rec ra = { 0 };
	struct failrec f = { 0 };
	struct sip_transports *a;
	struct sip_transp_io_stats io;
	struct sa dead;
	int i;

	(void)state;
	start();
	a = transp_new(&ra, NULL);
	sip_transp_set_failh(a, fail_h, &f);
	(void)listen_on(a, "127.0.0.1", 0);
	dead = closed_port();
	assert_int_equal(send_msg(a, &dead, "OPTIONS sip:x SIP/2.0\r\n\r\n"),
			 0);
	for (i = 0; i < 200 && !f.n; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.err, ECONNREFUSED);
	assert_int_equal(f.tp, SIP_TRANSP_UDP);
	assert_true(sa_eq(&f.dst, &dead));
	assert_string_equal(f.start, "OPTIONS sip:x SIP/2.0\r\n\r\n");
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.icmp_errors, 1);
	/* the socket still reads afterwards (the error is consumed) */
	sip_transp_local_handover(false);
	assert_int_equal(send_msg(a,
				  sip_transp_laddr(a, SIP_TRANSP_UDP, AF_INET),
				  "OPTIONS sip:y SIP/2.0\r\n\r\n"),
			 0);
	sip_transp_local_handover(true);
	poll_count(&ra.n, 1);
	assert_int_equal(ra.n, 1);
	sip_transp_io_stats(a, &io);
	assert_int_equal(io.rx_syscalls, 1);
	free_transp(a);
	stop();
}


/* One client transaction to a closed port through a real stack; `pad`
 * puts a long header before the Via so that the quoted bytes lose it. */
static void ctrans_to_dead_port(bool invite, size_t pad)
{
	struct sip_transp_conf tc = { 0 };
	struct sip_ctrans_opts o = { 0 };
	struct ctrec r = { 0 }, other = { 0 };
	struct sip_ctrans *ct = NULL, *ct2 = NULL;
	struct timespec t0, t1;
	struct sip *sip = NULL;
	static char req[4096], padding[2048];
	struct sa la, dead, alive;
	const char *met = invite ? "INVITE" : "OPTIONS";
	int len, i;

	start();
	assert_int_equal(sip_alloc(&sip, &tc, no_req, NULL, NULL), 0);
	assert_int_equal(sa_set_str(&la, "127.0.0.1", 0), 0);
	assert_int_equal(sip_transp_listen(sip->transp, SIP_TRANSP_UDP, &la),
			 0);
	dead = closed_port();
	/* a second transaction elsewhere must not be touched */
	alive = *sip_transp_laddr(sip->transp, SIP_TRANSP_UDP, AF_INET);

	assert_true(pad < sizeof(padding));
	memset(padding, 'p', pad);
	padding[pad] = '\0';
	len = snprintf(req, sizeof(req),
		       "%s sip:x@127.0.0.1 SIP/2.0\r\n"
		       "%s%s%s"
		       "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKdead1\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:a@t>;tag=1\r\nTo: <sip:x@t>\r\n"
		       "Call-ID: icmp@test\r\nCSeq: 1 %s\r\n"
		       "Content-Length: 0\r\n\r\n",
		       met, pad ? "X-Pad: " : "", padding, pad ? "\r\n" : "",
		       met);
	assert_true(len > 0 && (size_t)len < sizeof(req));
	o.req = req;
	o.len = (size_t)len;
	o.tp = SIP_TRANSP_UDP;
	o.dst = dead;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sip_ctrans_alloc(&ct, sip, &o, ct_resp_h, &r), 0);

	/* the other one: to our own listener, which answers nothing */
	(void)snprintf(req, sizeof(req),
		       "OPTIONS sip:y@127.0.0.1 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKalive\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:a@t>;tag=1\r\nTo: <sip:y@t>\r\n"
		       "Call-ID: alive@test\r\nCSeq: 1 OPTIONS\r\n"
		       "Content-Length: 0\r\n\r\n");
	o.req = req;
	o.len = strlen(req);
	o.dst = alive;
	assert_int_equal(sip_ctrans_alloc(&ct2, sip, &o, ct_resp_h, &other), 0);

	for (i = 0; i < 200 && !r.n; i++)
		assert_int_equal(loop_poll(5), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.err, ECONNREFUSED);
	assert_false(r.got_msg);
	assert_false(sip_ctrans_active(ct));
	assert_true(t1.tv_sec - t0.tv_sec < 2); /* not Timer B/F (32 s) */
	assert_int_equal(other.n, 0);
	assert_true(sip_ctrans_active(ct2));

	mem_deref(ct);
	mem_deref(ct2);
	sip_close(sip);
	mem_deref(sip);
	stop();
}


static void test_icmp_ctrans_branch(void **state)
{
	(void)state;
	ctrans_to_dead_port(false, 0);
	ctrans_to_dead_port(true, 0);
}


/* The quoted bytes end before the Via: every transaction to that
 * destination ends (the one to a live destination does not). */
static void test_icmp_ctrans_dest(void **state)
{
	(void)state;
	ctrans_to_dead_port(false, 1500);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_local_two_stacks, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_wildcard, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_teardown, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_off, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_pingpong, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_overflow, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_once_reliable,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_local_sip_stacks, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_icmp_port_unreachable,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_icmp_ctrans_branch,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_icmp_ctrans_dest, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
