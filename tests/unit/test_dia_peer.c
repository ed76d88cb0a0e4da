/**
 * @file test_dia_peer.c  Diameter peers and nodes over real loopback TCP
 *                        and TLS, driven by the event loop.
 *
 * Every test runs its own loop; two or three nodes live in this process
 * and talk over 127.0.0.1, or a plain socket plays a peer byte by byte
 * (a silent peer, a malformed one, an unknown one).  Every wait is
 * bounded (poll_until gives up after a deadline and the test fails).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* clang-format off: cmocka needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"
#include "diameter/peer.h"
#include "net/sa.h"
#include "net/tls.h"

#define REALM "ims.test"

/* ---- loop helpers ---- */

static void start(void)
{
	loop_close();
	tmr_test_set_now(0);
	assert_int_equal(loop_init(0), 0);
}


static void stop(void)
{
	loop_close();
}


static void poll_ms(int ms)
{
	int i;

	for (i = 0; i < ms / 5 + 1; i++)
		assert_int_equal(loop_poll(5), 0);
}


typedef bool(cond_h)(void *arg);

/* Poll until cond holds; false after ~ms. */
static bool poll_until(cond_h *cond, void *arg, int ms)
{
	uint64_t end = tmr_jiffies() + (uint64_t)ms;

	while (!cond(arg)) {
		if (tmr_jiffies() > end)
			return false;
		assert_int_equal(loop_poll(5), 0);
	}
	return true;
}


struct pair {
	struct dia_peer *a, *b;
};

static bool both_open(void *arg)
{
	const struct pair *p = arg;

	return dia_peer_is_open(p->a) && dia_peer_is_open(p->b);
}


static bool peer_open(void *arg)
{
	return dia_peer_is_open(arg);
}


static bool peer_closed(void *arg)
{
	return dia_peer_state(arg) == DIA_PEER_CLOSED;
}


/* ---- nodes ---- */

struct srv {
	unsigned calls;
	uint8_t last_flags;
	char last_dest_host[64];
	uint32_t rcode; /* what to answer */
	bool redirect;  /* answer 3006 to redirect_uri */
	char redirect_uri[128];
	uint32_t redirect_usage;
	bool async; /* keep sr, answer from the test */
	struct dia_srv_req *sr;
};

static int uar_h(const struct dia_msg *req, struct dia_msg **ansp,
		 struct dia_srv_req *sr, void *arg)
{
	struct srv *s = arg;
	struct dia_msg *ans = NULL;
	const struct dia_avp *a;
	struct pl v;
	int err;

	s->calls++;
	s->last_flags = req->flags;
	s->last_dest_host[0] = '\0';
	if (!dia_get_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0, &v))
		assert_int_equal(pl_strcpy(&v, s->last_dest_host,
					   sizeof(s->last_dest_host)),
				 0);
	if (s->async) {
		s->sr = mem_ref(sr);
		return EINPROGRESS;
	}
	err = dia_msg_answer_alloc(&ans, req);
	if (err)
		return err;
	if (s->redirect) {
		struct dia_err de = { 0 };
		de.rcode = DIA_REDIRECT_INDICATION;
		err = dia_msg_add_error(ans, &de);
		if (!err)
			err = dia_add_str(&ans->root, DIA_AVP_REDIRECT_HOST, 0,
					  s->redirect_uri);
		if (!err && s->redirect_usage)
			err = dia_add_u32(&ans->root,
					  DIA_AVP_REDIRECT_HOST_USAGE, 0,
					  s->redirect_usage);
		if (!err && s->redirect_usage)
			err = dia_add_u32(&ans->root,
					  DIA_AVP_REDIRECT_MAX_CACHE_TIME, 0,
					  60);
	} else {
		err = dia_add_u32(&ans->root, DIA_AVP_RESULT_CODE, 0,
				  s->rcode ? s->rcode : DIA_SUCCESS);
	}
	a = dia_avp_find(&req->root, DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0);
	if (!err && a)
		err = dia_add_copy(&ans->root, a);
	if (!err)
		err = dia_add_u32(&ans->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				  DIA_NO_STATE_MAINTAINED);
	if (err) {
		mem_deref(ans);
		return err;
	}
	*ansp = ans;
	return 0;
}


static void conf_init(struct dia_node_conf *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->identity, sizeof(c->identity), "%s", id);
	(void)snprintf(c->realm, sizeof(c->realm), "%s", REALM);
	c->reconnect_ms = 200;
	c->setup_ms = 2000;
	c->request_timeout_ms = 3000;
	/* clients advertise Cx too (servers get it from their handler) */
	(void)snprintf(c->applications.v[c->applications.n++], CONF_STR_MAX,
		       "cx");
}


static void conf_listen(struct dia_node_conf *c, const char *v)
{
	(void)snprintf(c->listen.v[c->listen.n++], CONF_STR_MAX, "%s", v);
}


static void conf_peer(struct dia_node_conf *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void conf_peer(struct dia_node_conf *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* clang-analyzer 14 loses ap across the format attribute */
	(void)vsnprintf(c->peers.v[c->peers.n++], CONF_STR_MAX, fmt, // NOLINT
			ap);
	va_end(ap);
}


static void conf_route(struct dia_node_conf *c, const char *v)
{
	(void)snprintf(c->routes.v[c->routes.n++], CONF_STR_MAX, "%s", v);
}


static struct dia_node *node_new(const struct dia_node_conf *c, struct srv *s)
{
	struct dia_node *n = NULL;
	char msg[256];

	if (dia_node_alloc(&n, c, msg, sizeof(msg)))
		fail_msg("dia_node_alloc: %s", msg);
	if (s)
		assert_int_equal(
			dia_node_handle(n, DIA_APP_CX, DIA_CMD_UA, uar_h, s),
			0);
	assert_int_equal(dia_node_start(n, msg, sizeof(msg)), 0);
	return n;
}


static uint16_t node_port(const struct dia_node *n, bool tls)
{
	const struct sa *la = dia_peers_laddr(dia_node_peers(n), tls);

	assert_non_null(la);
	return sa_port(la);
}


/* A server node listening on an ephemeral port. */
static struct dia_node *server_new(const char *id, struct srv *s,
				   const char *peer1, const char *peer2)
{
	struct dia_node_conf c;

	conf_init(&c, id);
	conf_listen(&c, "tcp:127.0.0.1:0");
	if (peer1)
		conf_peer(&c, "%s", peer1);
	if (peer2)
		conf_peer(&c, "%s", peer2);
	return node_new(&c, s);
}


static void node_free(struct dia_node *n)
{
	dia_node_close(n);
	mem_deref(n);
}


/* ---- messages ---- */

static struct dia_msg *uar_new(struct dia_node *n, const char *impi)
{
	struct dia_msg *m = NULL;
	struct dia_avp *g;
	char impu[128];

	(void)snprintf(impu, sizeof(impu), "sip:%s", impi);
	assert_int_equal(dia_msg_alloc(&m, DIA_CMD_UA, DIA_APP_CX,
				       DIA_FLAG_R | DIA_FLAG_P),
			 0);
	assert_int_equal(dia_node_add_session_id(n, m, "uar"), 0);
	assert_int_equal(dia_add_group(&m->root,
				       DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
				       0, &g),
			 0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, DIA_VENDOR_3GPP),
			 0);
	assert_int_equal(
		dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0, DIA_APP_CX), 0);
	assert_int_equal(dia_add_u32(&m->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				     DIA_NO_STATE_MAINTAINED),
			 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_USER_NAME, 0, impi), 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_PUBLIC_IDENTITY,
				     DIA_VENDOR_3GPP, impu),
			 0);
	assert_int_equal(dia_add_str(&m->root,
				     DIA_AVP_VISITED_NETWORK_IDENTIFIER,
				     DIA_VENDOR_3GPP, REALM),
			 0);
	return m;
}


struct resp {
	unsigned n;
	int err;
	uint32_t rcode;
	uint32_t e2e;
	char origin[64];
};

static void resp_h(int err, const struct dia_msg *ans, void *arg)
{
	struct resp *r = arg;
	uint32_t vendor;
	struct pl v;

	r->n++;
	r->err = err;
	r->rcode = 0;
	r->origin[0] = '\0';
	if (ans) {
		r->e2e = ans->e2e;
		if (dia_msg_result(ans, &r->rcode, &vendor))
			r->rcode = 0;
		if (!dia_get_pl(&ans->root, DIA_AVP_ORIGIN_HOST, 0, &v))
			assert_int_equal(
				pl_strcpy(&v, r->origin, sizeof(r->origin)), 0);
	}
}


static bool resp_done(void *arg)
{
	return ((struct resp *)arg)->n > 0;
}


static void send_uar(struct dia_node *n, const char *impi,
		     const struct dia_req_opts *o, struct resp *r)
{
	struct dia_msg *m = uar_new(n, impi);

	memset(r, 0, sizeof(*r));
	assert_int_equal(dia_node_request(n, m, o, resp_h, r), 0);
	mem_deref(m);
	/* never answered from inside the call */
	assert_int_equal(r->n, 0);
}


/* ---- raw socket peers ---- */

static int raw_connect(uint16_t port)
{
	struct sa sa;
	int fd;

	assert_int_equal(sa_set_str(&sa, "127.0.0.1", port), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &sa.u.sa, sizeof(sa.u.in)), 0);
	return fd;
}


static void raw_send(int fd, const struct dia_msg *m)
{
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 256, DIA_MSG_MAX), 0);
	assert_int_equal(dia_msg_encode(mb, m), 0);
	assert_int_equal(send(fd, mb->b, mb->end, MSG_NOSIGNAL),
			 (ssize_t)mb->end);
	mem_deref(mb);
}


/* Read one message while the loop runs: 0, or -1 at EOF/reset, -2 when
 * nothing came in ~2 s. */
static int raw_recv(int fd, struct dia_msg **mp)
{
	uint8_t b[8192];
	size_t have = 0, need = 0;
	int i;

	for (i = 0; i < 400; i++) {
		ssize_t r = recv(fd, b + have, sizeof(b) - have, MSG_DONTWAIT);
		if (r == 0 ||
		    (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if (r > 0) {
			have += (size_t)r;
			if (dia_msg_frame(b, have, &need) == 0) {
				struct dia_err de;
				assert_int_equal(need, have);
				assert_int_equal(
					dia_msg_decode(mp, b, need, &de), 0);
				return 0;
			}
			continue;
		}
		assert_int_equal(loop_poll(5), 0);
	}
	return -2;
}


/* The node closed the socket (EOF or reset) within ~2 s. */
static void raw_assert_closed(int fd)
{
	struct dia_msg *m = NULL;
	int r = raw_recv(fd, &m);

	mem_deref(m);
	assert_int_equal(r, -1);
}


static struct dia_msg *raw_cer(const char *origin, uint32_t app)
{
	struct dia_msg *m = NULL;
	struct dia_avp *g;
	struct sa sa;

	assert_int_equal(dia_msg_alloc(&m, DIA_CMD_CE, 0, DIA_FLAG_R), 0);
	m->hbh = 0x100;
	m->e2e = 0x200;
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_ORIGIN_HOST, 0, origin),
			 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_ORIGIN_REALM, 0, REALM),
			 0);
	assert_int_equal(sa_set_str(&sa, "127.0.0.1", 0), 0);
	assert_int_equal(dia_add_sa(&m->root, DIA_AVP_HOST_IP_ADDRESS, 0, &sa),
			 0);
	assert_int_equal(dia_add_u32(&m->root, DIA_AVP_VENDOR_ID, 0, 0), 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_PRODUCT_NAME, 0, "raw"),
			 0);
	assert_int_equal(dia_add_group(&m->root,
				       DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
				       0, &g),
			 0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, DIA_VENDOR_3GPP),
			 0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0, app),
			 0);
	return m;
}


/* Connect, send a CER as origin, return the CEA's Result-Code. */
static uint32_t raw_cer_exchange(int fd, const char *origin, uint32_t app)
{
	struct dia_msg *cer = raw_cer(origin, app), *cea = NULL;
	uint32_t rcode = 0, vendor = 0;
	struct dia_err de;

	raw_send(fd, cer);
	mem_deref(cer);
	assert_int_equal(raw_recv(fd, &cea), 0);
	if (!cea)
		return 0;
	assert_int_equal(cea->code, DIA_CMD_CE);
	assert_false(dia_msg_is_request(cea));
	assert_int_equal(dia_msg_validate(cea, &de), 0);
	assert_int_equal(dia_msg_result(cea, &rcode, &vendor), 0);
	if (rcode >= 3000 && rcode < 4000)
		assert_true(cea->flags & DIA_FLAG_E); /* RFC 6733 7.1.3 */
	mem_deref(cea);
	return rcode;
}


/* ---- tests ---- */

static void test_cer_cea(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	struct pair pr;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "icscf." REALM, NULL);
	conf_init(&c, "icscf." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	cli = node_new(&c, NULL);

	pr.a = dia_node_peer(cli, "hss." REALM);
	pr.b = dia_node_peer(hss, "icscf." REALM);
	assert_true(poll_until(both_open, &pr, 2000));
	assert_int_equal(dia_peer_state(pr.a), DIA_PEER_I_OPEN);
	assert_int_equal(dia_peer_state(pr.b), DIA_PEER_R_OPEN);
	assert_string_equal(dia_peer_realm(pr.a), REALM);
	assert_true(dia_peer_has_app(pr.a, DIA_APP_CX));
	assert_true(dia_peer_has_app(pr.b, DIA_APP_CX));
	assert_false(dia_peer_has_app(pr.a, DIA_APP_SH));
	assert_int_equal(dia_peer_wd(pr.a), DIA_WD_OKAY);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(cli)), 1);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(hss)), 1);

	node_free(cli);
	node_free(hss);
	stop();
}


static void test_unknown_peer_3010(void **state)
{
	struct srv s = { 0 };
	struct dia_peers_stats st;
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	int fd;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "icscf." REALM, NULL);

	/* a raw peer: CEA 3010 with the E bit, then the node closes */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "stranger." REALM, DIA_APP_CX),
			 DIA_UNKNOWN_PEER);
	raw_assert_closed(fd);
	close(fd);

	/* a node that is not on the list never opens */
	conf_init(&c, "other." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	cli = node_new(&c, &s);
	poll_ms(300);
	assert_false(dia_peer_is_open(dia_node_peer(cli, "hss." REALM)));
	dia_peers_stats(dia_node_peers(hss), &st);
	assert_true(st.cer_unknown >= 2);
	assert_int_equal(dia_node_pending(cli), 0);

	/* the allowed one still gets in, also with check_addr */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "icscf." REALM, DIA_APP_CX),
			 DIA_SUCCESS);
	assert_true(dia_peer_is_open(dia_node_peer(hss, "icscf." REALM)));
	close(fd);

	node_free(cli);
	node_free(hss);
	stop();
}


static void test_check_addr(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss;
	int fd;

	(void)state;
	start();
	/* allowed only from 127.0.0.2 (and never connected to) */
	hss = server_new("hss." REALM, &s,
			 "icscf." REALM "@127.0.0.2;check_addr;accept_only",
			 NULL);
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "icscf." REALM, DIA_APP_CX),
			 DIA_UNKNOWN_PEER);
	raw_assert_closed(fd);
	close(fd);
	assert_int_equal(dia_peer_state(dia_node_peer(hss, "icscf." REALM)),
			 DIA_PEER_CLOSED);
	node_free(hss);
	stop();
}


static void test_no_common_app_5010(void **state)
{
	struct srv s = { 0 };
	struct dia_peers_stats st;
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	int fd;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "as." REALM, NULL);
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "as." REALM, DIA_APP_SH),
			 DIA_NO_COMMON_APPLICATION);
	raw_assert_closed(fd);
	close(fd);

	/* an Sh client node against a Cx-only HSS */
	conf_init(&c, "as." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	c.applications.n = 0;
	(void)snprintf(c.applications.v[c.applications.n++], CONF_STR_MAX,
		       "sh");
	cli = node_new(&c, NULL);
	poll_ms(300);
	assert_false(dia_peer_is_open(dia_node_peer(cli, "hss." REALM)));
	dia_peers_stats(dia_node_peers(hss), &st);
	assert_true(st.cer_noapp >= 2);
	node_free(cli);
	node_free(hss);
	stop();
}


static void test_election(void **state)
{
	struct srv sa = { 0 }, sb = { 0 };
	struct dia_node *a, *b;
	struct dia_node_conf ca, cb;
	struct dia_peers_stats sta, stb;
	struct dia_peer *pa, *pb;
	struct pair pr;
	char msg[256];
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		start();
		/* both listen first, then both connect at once */
		conf_init(&ca, "a." REALM);
		conf_listen(&ca, "tcp:127.0.0.1:0");
		conf_init(&cb, "b." REALM);
		conf_listen(&cb, "tcp:127.0.0.1:0");
		assert_int_equal(dia_node_alloc(&a, &ca, msg, sizeof(msg)), 0);
		assert_int_equal(dia_node_alloc(&b, &cb, msg, sizeof(msg)), 0);
		assert_int_equal(
			dia_node_handle(a, DIA_APP_CX, DIA_CMD_UA, uar_h, &sa),
			0);
		assert_int_equal(
			dia_node_handle(b, DIA_APP_CX, DIA_CMD_UA, uar_h, &sb),
			0);
		assert_int_equal(dia_node_start(a, msg, sizeof(msg)), 0);
		assert_int_equal(dia_node_start(b, msg, sizeof(msg)), 0);
		{
			struct sa la;
			assert_int_equal(sa_set_str(&la, "127.0.0.1",
						    node_port(b, false)),
					 0);
			assert_int_equal(dia_peer_add(dia_node_peers(a),
						      "b." REALM, &la, 0, &pa),
					 0);
			assert_int_equal(sa_set_str(&la, "127.0.0.1",
						    node_port(a, false)),
					 0);
			assert_int_equal(dia_peer_add(dia_node_peers(b),
						      "a." REALM, &la, 0, &pb),
					 0);
		}
		assert_int_equal(dia_peer_connect(pa), 0);
		assert_int_equal(dia_peer_connect(pb), 0);
		pr.a = pa;
		pr.b = pb;
		assert_true(poll_until(both_open, &pr, 3000));
		poll_ms(50);
		dia_peers_stats(dia_node_peers(a), &sta);
		dia_peers_stats(dia_node_peers(b), &stb);
		/* RFC 6733 5.6.4: b > a wins and keeps the connection a
		 * opened (its R-conn): a is I-Open, b R-Open, one
		 * connection left on each side */
		assert_true(sta.elections + stb.elections >= 1);
		assert_int_equal(dia_peer_state(pa), DIA_PEER_I_OPEN);
		assert_int_equal(dia_peer_state(pb), DIA_PEER_R_OPEN);
		assert_int_equal(dia_peers_conn_count(dia_node_peers(a)), 1);
		assert_int_equal(dia_peers_conn_count(dia_node_peers(b)), 1);
		node_free(a);
		node_free(b);
		stop();
	}
}


static void test_watchdog_exchange(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	struct dia_peers_stats st0, st1;
	struct pair pr;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "icscf." REALM, NULL);
	conf_init(&c, "icscf." REALM);
	c.watchdog_ms = 150;
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	cli = node_new(&c, &s);
	pr.a = dia_node_peer(cli, "hss." REALM);
	pr.b = dia_node_peer(hss, "icscf." REALM);
	assert_true(poll_until(both_open, &pr, 2000));
	dia_peers_stats(dia_node_peers(hss), &st0);
	poll_ms(800);
	dia_peers_stats(dia_node_peers(hss), &st1);
	/* DWRs every ~150 ms, each answered: at least 3 in 800 ms, the
	 * peer stays OKAY and open */
	assert_true(st1.rx_msgs - st0.rx_msgs >= 3);
	assert_true(st1.tx_msgs - st0.tx_msgs >= 3);
	assert_true(dia_peer_is_open(pr.a));
	assert_int_equal(dia_peer_wd(pr.a), DIA_WD_OKAY);
	node_free(cli);
	node_free(hss);
	stop();
}


/* A fake peer on a raw socket: it answers the CER and then says nothing. */
static int fake_listen(uint16_t *port)
{
	struct sa sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(sa_set_str(&sa, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &sa.u.sa, sizeof(sa.u.in)), 0);
	assert_int_equal(listen(fd, 4), 0);
	sa.len = sizeof(sa.u);
	assert_int_equal(getsockname(fd, &sa.u.sa, &sa.len), 0);
	*port = sa_port(&sa);
	return fd;
}


static int fake_accept_cea(int lfd, const char *identity)
{
	struct dia_msg *cer = NULL, *cea = NULL;
	struct sa sa;
	int fd = -1, i;

	for (i = 0; i < 400 && fd < 0; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			assert_int_equal(loop_poll(5), 0);
	}
	assert_true(fd >= 0);
	(void)fcntl(fd, F_SETFL, 0);
	assert_int_equal(raw_recv(fd, &cer), 0);
	assert_int_equal(cer->code, DIA_CMD_CE);
	assert_int_equal(dia_msg_answer_alloc(&cea, cer), 0);
	assert_int_equal(
		dia_add_u32(&cea->root, DIA_AVP_RESULT_CODE, 0, DIA_SUCCESS),
		0);
	assert_int_equal(
		dia_add_str(&cea->root, DIA_AVP_ORIGIN_HOST, 0, identity), 0);
	assert_int_equal(
		dia_add_str(&cea->root, DIA_AVP_ORIGIN_REALM, 0, REALM), 0);
	assert_int_equal(sa_set_str(&sa, "127.0.0.1", 0), 0);
	assert_int_equal(
		dia_add_sa(&cea->root, DIA_AVP_HOST_IP_ADDRESS, 0, &sa), 0);
	assert_int_equal(dia_add_u32(&cea->root, DIA_AVP_VENDOR_ID, 0, 0), 0);
	assert_int_equal(
		dia_add_str(&cea->root, DIA_AVP_PRODUCT_NAME, 0, "fake"), 0);
	assert_int_equal(dia_add_u32(&cea->root, DIA_AVP_AUTH_APPLICATION_ID, 0,
				     DIA_APP_CX),
			 0);
	raw_send(fd, cea);
	mem_deref(cer);
	mem_deref(cea);
	return fd;
}


static void test_silent_peer_failover(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss2, *cli;
	struct dia_node_conf c;
	struct dia_node_stats ns;
	struct dia_peer *p1, *p2;
	struct resp r;
	uint16_t fport;
	int lfd, ffd;

	(void)state;
	start();
	lfd = fake_listen(&fport);
	hss2 = server_new("hss2." REALM, &s, "icscf." REALM, NULL);
	conf_init(&c, "icscf." REALM);
	c.watchdog_ms = 200;
	c.request_timeout_ms = 5000;
	conf_peer(&c, "hss1." REALM "@127.0.0.1:%u", fport);
	conf_peer(&c, "hss2." REALM "@127.0.0.1:%u", node_port(hss2, false));
	conf_route(&c, REALM "=hss1." REALM ";prio=0");
	conf_route(&c, "hss2." REALM ";prio=5");
	cli = node_new(&c, NULL);
	ffd = fake_accept_cea(lfd, "hss1." REALM);
	p1 = dia_node_peer(cli, "hss1." REALM);
	p2 = dia_node_peer(cli, "hss2." REALM);
	assert_true(poll_until(peer_open, p1, 2000));
	assert_true(poll_until(peer_open, p2, 2000));

	/* priority 0 first: the silent peer gets it */
	send_uar(cli, "alice@" REALM, NULL, &r);
	poll_ms(20);
	assert_int_equal(dia_peer_pending(p1), 1);
	assert_int_equal(s.calls, 0);

	/* one DWA missed: SUSPECT, the request goes to hss2 with T */
	assert_true(poll_until(resp_done, &r, 2000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_string_equal(r.origin, "hss2." REALM);
	assert_int_equal(s.calls, 1);
	assert_true(s.last_flags & DIA_FLAG_T);
	dia_node_stats(cli, &ns);
	assert_int_equal(ns.failovers, 1);
	assert_int_equal(dia_peer_pending(p1), 0);

	/* still silent: DOWN, closed (and reconnecting later) */
	assert_true(poll_until(peer_closed, p1, 2000) ||
		    dia_peer_state(p1) == DIA_PEER_WAIT_CONN_ACK ||
		    dia_peer_state(p1) == DIA_PEER_WAIT_I_CEA);
	assert_false(dia_peer_is_open(p1));

	/* no other peer at all: the request times out */
	node_free(hss2);
	assert_true(poll_until(peer_closed, p2, 2000));
	{
		struct dia_req_opts o = { 0 };
		o.timeout_ms = 300;
		send_uar(cli, "bob@" REALM, &o, &r);
		assert_true(poll_until(resp_done, &r, 2000));
		assert_int_equal(r.err, ETIMEDOUT);
		dia_node_stats(cli, &ns);
		assert_int_equal(ns.timeouts, 1);
	}
	close(ffd);
	close(lfd);
	node_free(cli);
	stop();
}


static void test_dpr_dpa(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	struct pair pr;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "icscf." REALM, NULL);
	conf_init(&c, "icscf." REALM);
	c.reconnect_ms = 100;
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	cli = node_new(&c, &s);
	pr.a = dia_node_peer(cli, "hss." REALM);
	pr.b = dia_node_peer(hss, "icscf." REALM);
	assert_true(poll_until(both_open, &pr, 2000));

	/* the HSS reboots: the client reconnects after Tc */
	assert_int_equal(dia_peer_disconnect(pr.b, DIA_DISCONNECT_REBOOTING),
			 0);
	assert_int_equal(dia_peer_state(pr.b), DIA_PEER_CLOSING);
	assert_true(poll_until(peer_closed, pr.a, 1000));
	assert_int_equal(dia_peer_last_cause(pr.a), DIA_DISCONNECT_REBOOTING);
	assert_true(poll_until(peer_closed, pr.b, 1000));
	/* the HSS stopped its side, but the client comes back (Tc) and is
	 * accepted again */
	assert_true(poll_until(both_open, &pr, 2000));

	/* the HSS does not want to talk: no reconnection */
	assert_int_equal(
		dia_peer_disconnect(pr.b,
				    DIA_DISCONNECT_DO_NOT_WANT_TO_TALK_TO_YOU),
		0);
	assert_true(poll_until(peer_closed, pr.a, 1000));
	assert_int_equal(dia_peer_last_cause(pr.a),
			 DIA_DISCONNECT_DO_NOT_WANT_TO_TALK_TO_YOU);
	poll_ms(500); /* five Tc */
	assert_int_equal(dia_peer_state(pr.a), DIA_PEER_CLOSED);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(cli)), 0);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(hss)), 0);

	/* the client leaves with DPR: the HSS answers DPA and both close */
	assert_int_equal(dia_peer_connect(pr.a), 0);
	assert_true(poll_until(both_open, &pr, 2000));
	dia_node_shutdown(cli, DIA_DISCONNECT_BUSY);
	assert_true(poll_until(peer_closed, pr.a, 1000));
	assert_true(poll_until(peer_closed, pr.b, 1000));
	assert_int_equal(dia_peer_last_cause(pr.b), DIA_DISCONNECT_BUSY);

	node_free(cli);
	node_free(hss);
	stop();
}


static void test_request_by_realm(void **state)
{
	struct srv s = { 0 }, s2 = { 0 };
	struct dia_node *hss, *hss2, *cli;
	struct dia_node_conf c;
	struct dia_node_stats ns;
	struct resp r;
	int i;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "icscf." REALM, NULL);
	hss2 = server_new("hss2." REALM, &s2, "icscf." REALM, NULL);
	conf_init(&c, "icscf." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, false));
	conf_peer(&c, "hss2." REALM "@127.0.0.1:%u", node_port(hss2, false));
	/* equal priority, weights 3:1 */
	conf_route(&c, REALM "=hss." REALM ";prio=1;weight=3");
	conf_route(&c, "hss2." REALM ";prio=1;weight=1");
	cli = node_new(&c, NULL);
	assert_true(
		poll_until(peer_open, dia_node_peer(cli, "hss." REALM), 2000));
	assert_true(
		poll_until(peer_open, dia_node_peer(cli, "hss2." REALM), 2000));
	for (i = 0; i < 8; i++) {
		send_uar(cli, "alice@" REALM, NULL, &r);
		assert_true(poll_until(resp_done, &r, 2000));
		assert_int_equal(r.err, 0);
		assert_int_equal(r.rcode, DIA_SUCCESS);
	}
	assert_int_equal(s.calls, 6);
	assert_int_equal(s2.calls, 2);

	/* by Destination-Host */
	{
		struct dia_req_opts o = { 0 };
		o.dest_host = "hss2." REALM;
		send_uar(cli, "bob@" REALM, &o, &r);
		assert_true(poll_until(resp_done, &r, 2000));
		assert_string_equal(r.origin, "hss2." REALM);
		assert_string_equal(s2.last_dest_host, "hss2." REALM);
	}
	/* a command nobody serves: 3001 from the node, and an
	 * application error keeps the answer valid */
	s.rcode = DIA_UNABLE_TO_COMPLY;
	{
		struct dia_req_opts o = { 0 };
		o.dest_host = "hss." REALM;
		send_uar(cli, "carol@" REALM, &o, &r);
		assert_true(poll_until(resp_done, &r, 2000));
		assert_int_equal(r.err, 0);
		assert_int_equal(r.rcode, DIA_UNABLE_TO_COMPLY);
	}
	/* a realm nobody routes: refused at once */
	{
		struct dia_req_opts o = { 0 };
		struct dia_msg *m = uar_new(cli, "dave@" REALM);
		o.dest_realm = "elsewhere.test";
		memset(&r, 0, sizeof(r));
		assert_int_equal(dia_node_request(cli, m, &o, resp_h, &r),
				 EHOSTUNREACH);
		mem_deref(m);
	}
	dia_node_stats(cli, &ns);
	assert_int_equal(ns.req_sent, 10);
	assert_int_equal(ns.req_inproc, 0);
	node_free(cli);
	node_free(hss2);
	node_free(hss);
	stop();
}


static void test_redirect(void **state)
{
	struct srv slf = { 0 }, h = { 0 }, h3 = { 0 };
	struct dia_node *slfn, *hssn, *h3n, *cli;
	struct dia_node_conf c;
	struct dia_node_stats ns;
	struct resp r;

	(void)state;
	start();
	slfn = server_new("slf." REALM, &slf, "icscf." REALM, NULL);
	hssn = server_new("hss." REALM, &h, "icscf." REALM, NULL);
	(void)snprintf(slf.redirect_uri, sizeof(slf.redirect_uri),
		       "aaa://hss." REALM ":%u;transport=tcp",
		       node_port(hssn, false));
	slf.redirect = true;
	slf.redirect_usage = 6; /* ALL_USER */
	conf_init(&c, "icscf." REALM);
	conf_peer(&c, "slf." REALM "@127.0.0.1:%u", node_port(slfn, false));
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hssn, false));
	conf_route(&c, REALM "=slf." REALM);
	cli = node_new(&c, NULL);
	/* the HSS is connected on demand only */
	assert_int_equal(
		dia_peer_disconnect(dia_node_peer(cli, "hss." REALM), 0), 0);
	assert_true(
		poll_until(peer_open, dia_node_peer(cli, "slf." REALM), 2000));
	assert_false(dia_peer_is_open(dia_node_peer(cli, "hss." REALM)));

	send_uar(cli, "alice@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 3000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_string_equal(r.origin, "hss." REALM);
	assert_int_equal(slf.calls, 1);
	assert_int_equal(h.calls, 1);
	/* TS 29.228 6.6: sent on with the HSS as Destination-Host */
	assert_string_equal(h.last_dest_host, "hss." REALM);
	assert_int_equal(dia_node_redirect_cached(cli), 1);

	/* the same user again: straight to the HSS (Dx cache) */
	send_uar(cli, "alice@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 2000));
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_int_equal(slf.calls, 1);
	assert_int_equal(h.calls, 2);

	/* another user asks the SLF */
	send_uar(cli, "bob@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 2000));
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_int_equal(slf.calls, 2);
	assert_int_equal(h.calls, 3);
	dia_node_stats(cli, &ns);
	assert_int_equal(ns.redirects, 2);
	assert_int_equal(ns.redirect_cache_hits, 1);

	/* DONT_CACHE, and a redirect by address to a peer not configured:
	 * a dynamic peer that learns its name from the CEA */
	h3n = server_new("hss3." REALM, &h3, "icscf." REALM, NULL);
	slf.redirect_usage = 0;
	(void)snprintf(slf.redirect_uri, sizeof(slf.redirect_uri),
		       "aaa://127.0.0.1:%u", node_port(h3n, false));
	{
		struct dia_req_opts o = { 0 };
		o.dest_host = "slf." REALM;
		send_uar(cli, "carol@" REALM, &o, &r);
	}
	assert_true(poll_until(resp_done, &r, 3000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_string_equal(r.origin, "hss3." REALM);
	assert_int_equal(slf.calls, 3);
	assert_int_equal(h3.calls, 1);
	assert_string_equal(h3.last_dest_host, "");
	assert_non_null(dia_node_peer(cli, "hss3." REALM));
	assert_true(dia_peer_flags(dia_node_peer(cli, "hss3." REALM)) &
		    DIA_PEER_DYNAMIC);
	assert_int_equal(dia_node_redirect_cached(cli), 2);

	/* a redirect to nowhere we can reach: the 3006 answer itself */
	(void)snprintf(slf.redirect_uri, sizeof(slf.redirect_uri),
		       "aaa://unknown.example.net");
	send_uar(cli, "dave@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 3000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_REDIRECT_INDICATION);

	node_free(h3n);
	node_free(cli);
	node_free(hssn);
	node_free(slfn);
	stop();
}


static void test_inproc_same_node(void **state)
{
	struct srv s = { 0 };
	struct dia_node *n;
	struct dia_node_conf c;
	struct dia_node_stats ns;
	struct dia_msg *ans = NULL;
	struct resp r;

	(void)state;
	start();
	conf_init(&c, "ims." REALM);
	n = node_new(&c, &s);
	send_uar(n, "alice@" REALM, NULL, &r);
	assert_int_equal(s.calls, 0); /* not even dispatched yet */
	assert_true(poll_until(resp_done, &r, 1000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_string_equal(r.origin, "ims." REALM);
	assert_int_equal(s.calls, 1);
	dia_node_stats(n, &ns);
	assert_int_equal(ns.req_inproc, 1);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(n)), 0);
	assert_null(dia_peers_laddr(dia_node_peers(n), false));

	/* an asynchronous answer comes later, through the loop */
	s.async = true;
	send_uar(n, "bob@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 50) == false);
	assert_non_null(s.sr);
	assert_int_equal(dia_msg_answer_alloc(&ans, dia_srv_req_msg(s.sr)), 0);
	assert_int_equal(
		dia_add_u32(&ans->root, DIA_AVP_RESULT_CODE, 0, DIA_SUCCESS),
		0);
	assert_int_equal(
		dia_add_copy(
			&ans->root,
			dia_avp_find(&dia_srv_req_msg(s.sr)->root,
				     DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
				     0)),
		0);
	assert_int_equal(dia_add_u32(&ans->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				     DIA_NO_STATE_MAINTAINED),
			 0);
	assert_int_equal(dia_node_answer(s.sr, 0, ans), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(dia_node_answer(s.sr, 0, ans), EALREADY);
	assert_true(poll_until(resp_done, &r, 1000));
	assert_int_equal(r.rcode, DIA_SUCCESS);
	mem_deref(ans);
	s.sr = mem_deref(s.sr);

	/* an asynchronous handler that fails: 5012 from the node */
	send_uar(n, "carol@" REALM, NULL, &r);
	poll_ms(20);
	assert_non_null(s.sr);
	assert_int_equal(dia_node_answer(s.sr, EIO, NULL), 0);
	s.sr = mem_deref(s.sr);
	assert_true(poll_until(resp_done, &r, 1000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_UNABLE_TO_COMPLY);

	node_free(n);
	stop();
}


static void test_inproc_directory(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	struct dia_node_stats ns;
	struct resp r;

	(void)state;
	start();
	conf_init(&c, "hss." REALM);
	c.in_process = 1;
	hss = node_new(&c, &s);
	conf_init(&c, "icscf." REALM);
	c.in_process = 1;
	cli = node_new(&c, NULL);

	send_uar(cli, "alice@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 1000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	assert_string_equal(r.origin, "hss." REALM);
	dia_node_stats(cli, &ns);
	assert_int_equal(ns.req_inproc, 1);
	/* no socket anywhere */
	assert_int_equal(dia_peers_conn_count(dia_node_peers(cli)), 0);
	assert_int_equal(dia_peers_conn_count(dia_node_peers(hss)), 0);

	/* validation is the same: a UAR without User-Name gets 5005 */
	{
		struct dia_msg *m = uar_new(cli, "bob@" REALM);
		dia_avp_remove((struct dia_avp *)(uintptr_t)dia_avp_find(
			&m->root, DIA_AVP_USER_NAME, 0));
		memset(&r, 0, sizeof(r));
		assert_int_equal(dia_node_request(cli, m, NULL, resp_h, &r), 0);
		mem_deref(m);
		assert_true(poll_until(resp_done, &r, 1000));
		assert_int_equal(r.err, 0);
		assert_int_equal(r.rcode, DIA_MISSING_AVP);
		assert_int_equal(s.calls, 1);
	}
	/* the server goes away: the request finds no route */
	node_free(hss);
	{
		struct dia_msg *m = uar_new(cli, "carol@" REALM);
		assert_int_equal(dia_node_request(cli, m, NULL, resp_h, &r),
				 EHOSTUNREACH);
		mem_deref(m);
	}
	node_free(cli);
	stop();
}


static void test_duplicate_t_flag(void **state)
{
	struct srv s = { 0 };
	struct dia_node *hss;
	struct dia_msg *m, *a1 = NULL, *a2 = NULL, *a3 = NULL;
	struct dia_node_stats ns;
	int fd;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "raw." REALM, NULL);
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "raw." REALM, DIA_APP_CX),
			 DIA_SUCCESS);
	m = uar_new(hss, "alice@" REALM);
	assert_int_equal(
		dia_add_str(&m->root, DIA_AVP_ORIGIN_HOST, 0, "raw." REALM), 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_ORIGIN_REALM, 0, REALM),
			 0);
	assert_int_equal(
		dia_add_str(&m->root, DIA_AVP_DESTINATION_REALM, 0, REALM), 0);
	m->hbh = 11;
	m->e2e = 0xabc00001;
	raw_send(fd, m);
	assert_int_equal(raw_recv(fd, &a1), 0);
	assert_int_equal(a1->hbh, 11);
	assert_int_equal(s.calls, 1);

	/* retransmitted with T (another hop-by-hop id): the cached
	 * answer, the handler is not called again */
	m->flags |= DIA_FLAG_T;
	m->hbh = 12;
	raw_send(fd, m);
	assert_int_equal(raw_recv(fd, &a2), 0);
	assert_int_equal(a2->hbh, 12);
	assert_int_equal(a2->e2e, 0xabc00001);
	assert_int_equal(dia_msg_wire_len(a1), dia_msg_wire_len(a2));
	assert_int_equal(s.calls, 1);
	dia_node_stats(hss, &ns);
	assert_int_equal(ns.dup_hits, 1);

	/* a new End-to-End id is a new request */
	m->e2e = 0xabc00002;
	m->hbh = 13;
	raw_send(fd, m);
	assert_int_equal(raw_recv(fd, &a3), 0);
	assert_int_equal(s.calls, 2);

	mem_deref(m);
	mem_deref(a1);
	mem_deref(a2);
	mem_deref(a3);
	close(fd);
	node_free(hss);
	stop();
}


static void test_malformed(void **state)
{
	static const uint8_t garbage[] = "INVITE sip:x SIP/2.0\r\n\r\n";
	struct srv s = { 0 };
	struct dia_node *hss;
	struct dia_peers_stats st;
	struct dia_msg *m, *a = NULL;
	uint32_t rcode, vendor;
	struct buf *mb = NULL;
	int fd;

	(void)state;
	start();
	hss = server_new("hss." REALM, &s, "raw." REALM, NULL);

	/* not Diameter at all: closed */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(send(fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL),
			 (ssize_t)sizeof(garbage) - 1);
	raw_assert_closed(fd);
	close(fd);

	/* an AVP whose length runs past the message: 5014, closed */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "raw." REALM, DIA_APP_CX),
			 DIA_SUCCESS);
	m = uar_new(hss, "alice@" REALM);
	assert_int_equal(
		dia_add_str(&m->root, DIA_AVP_ORIGIN_HOST, 0, "raw." REALM), 0);
	assert_int_equal(dia_add_str(&m->root, DIA_AVP_ORIGIN_REALM, 0, REALM),
			 0);
	assert_int_equal(
		dia_add_str(&m->root, DIA_AVP_DESTINATION_REALM, 0, REALM), 0);
	m->hbh = 21;
	m->e2e = 22;
	assert_int_equal(buf_alloc(&mb, 512, DIA_MSG_MAX), 0);
	assert_int_equal(dia_msg_encode(mb, m), 0);
	/* the last AVP's length field (3 octets after code and flags) */
	{
		size_t off = DIA_HDR_LEN, last = 0;
		while (off < mb->end) {
			last = off;
			off += dia_pad4(dia_rd24(mb->b + off + 5));
		}
		dia_wr24(mb->b + last + 5, 4000);
	}
	assert_int_equal(send(fd, mb->b, mb->end, MSG_NOSIGNAL),
			 (ssize_t)mb->end);
	assert_int_equal(raw_recv(fd, &a), 0);
	if (!a)
		return;
	assert_int_equal(dia_msg_result(a, &rcode, &vendor), 0);
	assert_int_equal(rcode, DIA_INVALID_AVP_LENGTH);
	assert_int_equal(a->hbh, 21);
	a = mem_deref(a);
	raw_assert_closed(fd);
	close(fd);

	/* E bit in a request: 3008 with the E bit, closed */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "raw." REALM, DIA_APP_CX),
			 DIA_SUCCESS);
	m->flags |= DIA_FLAG_E;
	raw_send(fd, m);
	assert_int_equal(raw_recv(fd, &a), 0);
	assert_int_equal(dia_msg_result(a, &rcode, &vendor), 0);
	assert_int_equal(rcode, DIA_INVALID_HDR_BITS);
	assert_true(a->flags & DIA_FLAG_E);
	a = mem_deref(a);
	raw_assert_closed(fd);
	close(fd);

	/* a message before the CER: closed without answer */
	fd = raw_connect(node_port(hss, false));
	m->flags &= (uint8_t)~DIA_FLAG_E;
	raw_send(fd, m);
	raw_assert_closed(fd);
	close(fd);

	/* the node is still fine: a sound exchange works */
	fd = raw_connect(node_port(hss, false));
	assert_int_equal(raw_cer_exchange(fd, "raw." REALM, DIA_APP_CX),
			 DIA_SUCCESS);
	raw_send(fd, m);
	assert_int_equal(raw_recv(fd, &a), 0);
	assert_int_equal(dia_msg_result(a, &rcode, &vendor), 0);
	assert_int_equal(rcode, DIA_SUCCESS);
	a = mem_deref(a);
	close(fd);
	dia_peers_stats(dia_node_peers(hss), &st);
	assert_true(st.rx_malformed >= 3);

	mem_deref(mb);
	mem_deref(m);
	node_free(hss);
	stop();
}


static void test_tls(void **state)
{
	char dir[] = "/tmp/test_dia_peer_XXXXXX", cert[128], key[128];
	struct srv s = { 0 };
	struct dia_node *hss, *cli;
	struct dia_node_conf c;
	struct pair pr;
	struct resp r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	(void)snprintf(key, sizeof(key), "%s/key.pem", dir);
	assert_int_equal(tls_selfsigned(cert, key,
					"hss." REALM ",icscf." REALM
					",127.0.0.1"),
			 0);
	start();
	conf_init(&c, "hss." REALM);
	conf_listen(&c, "tls:127.0.0.1:0");
	conf_peer(&c, "icscf." REALM);
	(void)snprintf(c.tls_cert, sizeof(c.tls_cert), "%s", cert);
	(void)snprintf(c.tls_key, sizeof(c.tls_key), "%s", key);
	(void)snprintf(c.tls_ca, sizeof(c.tls_ca), "%s", cert);
	hss = node_new(&c, &s);
	assert_null(dia_peers_laddr(dia_node_peers(hss), false));

	conf_init(&c, "icscf." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u;tls", node_port(hss, true));
	(void)snprintf(c.tls_cert, sizeof(c.tls_cert), "%s", cert);
	(void)snprintf(c.tls_key, sizeof(c.tls_key), "%s", key);
	(void)snprintf(c.tls_ca, sizeof(c.tls_ca), "%s", cert);
	cli = node_new(&c, NULL);
	pr.a = dia_node_peer(cli, "hss." REALM);
	pr.b = dia_node_peer(hss, "icscf." REALM);
	assert_true(poll_until(both_open, &pr, 3000));

	send_uar(cli, "alice@" REALM, NULL, &r);
	assert_true(poll_until(resp_done, &r, 2000));
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rcode, DIA_SUCCESS);
	node_free(cli);

	/* plain TCP to the TLS port: the handshake fails, nothing opens */
	conf_init(&c, "icscf." REALM);
	conf_peer(&c, "hss." REALM "@127.0.0.1:%u", node_port(hss, true));
	cli = node_new(&c, NULL);
	poll_ms(300);
	assert_false(dia_peer_is_open(dia_node_peer(cli, "hss." REALM)));
	node_free(cli);
	node_free(hss);
	stop();
	(void)unlink(cert);
	(void)unlink(key);
	(void)rmdir(dir);
}


static void test_conf_errors(void **state)
{
	static const struct {
		const char *key;
		const char *val;
		const char *says;
	} bad[] = {
		{ "listen", "udp:127.0.0.1:3868", "tcp: or tls:" },
		{ "listen", "tcp:localhost", "not an address" },
		{ "listen", "tls:127.0.0.1:5658", "tls_cert" },
		{ "peers", "@127.0.0.1", "identity" },
		{ "peers", "hss.ims.test@hss.example.com:3868", "IP address" },
		{ "peers", "hss.ims.test@127.0.0.1;foo", "unknown parameter" },
		{ "peers", "hss.ims.test;check_addr", "needs an address" },
		{ "routes", "hss.ims.test", "realm=" },
		{ "routes", "ims.test=nobody.ims.test",
		  "not in diameter.peers" },
		{ "routes", "ims.test=hss.ims.test;weight=0", "weight" },
		{ "applications", "gx", "not cx" },
	};
	struct dia_node_conf c;
	struct dia_node *n = NULL;
	char msg[256];
	size_t i;

	(void)state;
	start();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_init(&c, "x." REALM);
		if (!strcmp(bad[i].key, "routes"))
			conf_peer(&c, "hss.ims.test");
		assert_int_equal(conf_set(dia_node_conf_items, &c,
					  !strcmp(bad[i].key, "listen")
						  ? "diameter.listen"
					  : !strcmp(bad[i].key, "peers")
						  ? "diameter.peers"
					  : !strcmp(bad[i].key, "routes")
						  ? "diameter.routes"
						  : "diameter.applications",
					  bad[i].val, msg, sizeof(msg)),
				 0);
		msg[0] = '\0';
		assert_int_not_equal(dia_node_alloc(&n, &c, msg, sizeof(msg)),
				     0);
		assert_null(n);
		if (!strstr(msg, bad[i].says))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].val,
				 msg, bad[i].says);
	}
	conf_init(&c, "");
	assert_int_equal(dia_node_alloc(&n, &c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "diameter.identity"));
	conf_init(&c, "x." REALM);
	c.watchdog_s = 2;
	assert_int_equal(dia_node_alloc(&n, &c, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "RFC 3539"));

	/* a good one through the directive table */
	conf_init(&c, "x." REALM);
	assert_int_equal(
		conf_set(dia_node_conf_items, &c, "diameter.peers",
			 "hss.ims.test@127.0.0.1:3868;tls,slf.ims.test", msg,
			 sizeof(msg)),
		0);
	assert_int_equal(conf_set(dia_node_conf_items, &c, "diameter.routes",
				  "ims.test=hss.ims.test,slf.ims.test;prio=9,"
				  "*=slf.ims.test",
				  msg, sizeof(msg)),
			 0);
	assert_int_equal(conf_set(dia_node_conf_items, &c,
				  "diameter.watchdog_s", "30", msg,
				  sizeof(msg)),
			 0);
	assert_int_equal(dia_node_alloc(&n, &c, msg, sizeof(msg)), 0);
	assert_non_null(dia_node_peer(n, "HSS.ims.test"));
	assert_true(dia_peer_flags(dia_node_peer(n, "hss.ims.test")) &
		    DIA_PEER_TLS);
	assert_false(dia_peer_has_addr(dia_node_peer(n, "slf.ims.test")));
	node_free(n);
	stop();
}


/* "<prefix><hi>;<lo>[;...]" */
static int sid_parts(const char *sid, const char *prefix, uint32_t *hi,
		     uint32_t *lo)
{
	size_t pl = strlen(prefix);
	char *end;

	if (strncmp(sid, prefix, pl) != 0)
		return EINVAL;
	*hi = (uint32_t)strtoul(sid + pl, &end, 10);
	if (*end != ';')
		return EINVAL;
	*lo = (uint32_t)strtoul(end + 1, &end, 10);
	return *end == '\0' || *end == ';' ? 0 : EINVAL;
}


static void test_ids_and_uri(void **state)
{
	// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
	static const struct {
		const char *uri;
		int err;
		const char *host;
		uint16_t port;
		bool tls;
	} uris[] = {
		{ "aaa://hss.ims.test", 0, "hss.ims.test", 0, false },
		{ "aaa://hss.ims.test:3868;transport=tcp;protocol=diameter", 0,
		  "hss.ims.test", 3868, false },
		{ "aaas://10.0.0.1:5658", 0, "10.0.0.1", 5658, true },
		{ "aaa://[::1]:3868", 0, "::1", 3868, false },
		{ "aaa://hss.ims.test;transport=sctp", EPROTONOSUPPORT, NULL, 0,
		  false },
		{ "aaa://hss.ims.test;protocol=radius", EPROTONOSUPPORT, NULL,
		  0, false },
		{ "http://hss.ims.test", EBADMSG, NULL, 0, false },
		{ "aaa://", EBADMSG, NULL, 0, false },
		{ "aaa://h:99999", EBADMSG, NULL, 0, false },
		{ "aaa://h:", EBADMSG, NULL, 0, false },
		{ "aaa://h;x=y", EBADMSG, NULL, 0, false },
		{ "aaa://[::1", EBADMSG, NULL, 0, false },
	};
	struct dia_node_conf c;
	struct dia_node *n = NULL;
	char msg[256], sid[128], sid2[128];
	uint32_t hi, lo, hi2, lo2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct pl u, h;
		uint16_t port = 7;
		bool tls = false;
		pl_set_str(&u, uris[i].uri);
		assert_int_equal(dia_uri_decode(&u, &h, &port, &tls),
				 uris[i].err);
		if (uris[i].err)
			continue;
		assert_true(pl_eq_str(&h, uris[i].host));
		assert_int_equal(port, uris[i].port);
		assert_int_equal(tls, uris[i].tls);
	}

	start();
	conf_init(&c, "icscf." REALM);
	assert_int_equal(dia_node_alloc(&n, &c, msg, sizeof(msg)), 0);
	/* RFC 6733 8.8 */
	assert_int_equal(dia_node_session_id(n, NULL, sid, sizeof(sid)), 0);
	assert_int_equal(sid_parts(sid, "icscf." REALM ";", &hi, &lo), 0);
	assert_int_equal(dia_node_session_id(n, "uar", sid2, sizeof(sid2)), 0);
	assert_int_equal(sid_parts(sid2, "icscf." REALM ";", &hi2, &lo2), 0);
	assert_int_equal(hi, hi2);
	assert_int_equal(lo + 1, lo2);
	assert_non_null(strstr(sid2, ";uar"));
	assert_int_equal(dia_node_session_id(n, NULL, sid, 10), ENOSPC);
	/* RFC 6733 3: End-to-End ids keep their high 12 bits and count */
	{
		uint32_t e1 = dia_peers_e2e(dia_node_peers(n));
		uint32_t e2 = dia_peers_e2e(dia_node_peers(n));
		assert_int_equal(e1 >> 20, e2 >> 20);
		assert_int_equal((e1 + 1) & 0xfffff, e2 & 0xfffff);
	}
	node_free(n);
	stop();
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cer_cea, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_unknown_peer_3010,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_check_addr, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_no_common_app_5010,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_election, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_watchdog_exchange,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_silent_peer_failover,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_dpr_dpa, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_request_by_realm, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_redirect, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_inproc_same_node, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_inproc_directory, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_duplicate_t_flag, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_malformed, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tls, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_conf_errors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_ids_and_uri, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("dia_peer", tests, NULL, NULL);
}
