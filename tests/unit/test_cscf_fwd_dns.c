/**
 * @file test_cscf_fwd_dns.c  CSCF next hops given by name (cscf/fwd.h with
 * a resolver, RFC 3263) against a real DNS server.
 *
 * The group setup starts dnsmasq (Debian package dnsmasq-base) on
 * 127.0.0.1 at a free port with
 *   ims.test              NAPTR SIP+D2U -> _sip._udp.ims.test
 *   _sip._udp.ims.test    SRV 10 icscf1.ims.test:5070, 20 icscf2:5071
 *   icscf1/icscf2         A 127.0.0.21 / 127.0.0.22
 *   scscf.ims.test        A 127.0.0.31 (no SRV: A with the URI's port)
 * and kills it by its PID at the end.  The stack's send hook records what
 * goes out and can refuse a destination (a transport error), so the tests
 * check where a request goes, that a 503 or a transport failure before
 * any provisional response moves it to the next target with a new branch
 * (RFC 3263 4.3), and that the role sees one outcome.  Without dnsmasq
 * the tests are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* clang-format off: cmocka needs the headers above */
#include <cmocka.h>
/* clang-format on */

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "cscf/fwd.h"
#include "sip/dns.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define MAXSENT 16

static pid_t dns_pid = -1;
static struct sa dns_addr;

static const char *const zone[] = {
	"--local=/test/",
	"--naptr-record=ims.test,10,10,s,SIP+D2U,,_sip._udp.ims.test",
	"--srv-host=_sip._udp.ims.test,icscf1.ims.test,5070,10,0",
	"--srv-host=_sip._udp.ims.test,icscf2.ims.test,5071,20,0",
	"--host-record=icscf1.ims.test,127.0.0.21",
	"--host-record=icscf2.ims.test,127.0.0.22",
	"--host-record=scscf.ims.test,127.0.0.31",
};

struct sent {
	char data[4096];
	size_t len;
	struct sa dst;
	enum sip_transp tp;
};

static struct sent sent[MAXSENT];
static size_t nsent;
static struct sip *sip;
static struct sip_dns *dns;
static struct sip_strans *st;
static struct cscf_fwd *fw;
static struct cscf_hop hop;
static struct sa refuse; /* sends to it fail with ECONNREFUSED */
static int fwd_err, resp_err, resp_code, resp_n;


static const char *dnsmasq_path(void)
{
	if (access("/usr/sbin/dnsmasq", X_OK) == 0)
		return "/usr/sbin/dnsmasq";
	if (access("/usr/bin/dnsmasq", X_OK) == 0)
		return "/usr/bin/dnsmasq";
	return NULL;
}


static uint16_t free_udp_port(void)
{
	struct sa a;
	uint16_t port = 0;
	int u = socket(AF_INET, SOCK_DGRAM, 0);

	if (u < 0)
		return 0;
	if (!sa_set_str(&a, "127.0.0.1", 0) && bind(u, &a.u.sa, a.len) == 0) {
		a.len = sizeof(a.u);
		if (getsockname(u, &a.u.sa, &a.len) == 0)
			port = sa_port(&a);
	}
	close(u);
	return port;
}


static bool port_taken(uint16_t port)
{
	struct sa a;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	bool taken;

	if (u < 0 || sa_set_str(&a, "127.0.0.1", port)) {
		if (u >= 0)
			close(u);
		return false;
	}
	taken = bind(u, &a.u.sa, a.len) < 0 && errno == EADDRINUSE;
	close(u);
	return taken;
}


static int group_setup(void **state)
{
	const char *path = dnsmasq_path();
	const char *argv[32];
	char portarg[32];
	size_t i, n = 0;
	uint16_t port;
	int tries;

	(void)state;
	if (!path) {
		(void)fprintf(stderr, "dnsmasq not installed (dnsmasq-base): "
				      "DNS next hop tests skipped\n");
		return 0;
	}
	port = free_udp_port();
	if (!port)
		return -1;
	(void)snprintf(portarg, sizeof(portarg), "--port=%u", port);
	argv[n++] = path;
	argv[n++] = "--keep-in-foreground";
	argv[n++] = "--no-resolv";
	argv[n++] = "--no-hosts";
	argv[n++] = "--conf-file=/dev/null";
	argv[n++] = "--listen-address=127.0.0.1";
	argv[n++] = "--bind-interfaces";
	argv[n++] = "--pid-file=";
	argv[n++] = "--log-facility=/dev/null";
	argv[n++] = portarg;
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		argv[n++] = zone[i];
	argv[n] = NULL;
	dns_pid = fork();
	if (dns_pid < 0)
		return -1;
	if (dns_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execv(path, (char *const *)argv);
		_exit(127);
	}
	for (tries = 0; tries < 200 && !port_taken(port); tries++) {
		struct timespec ts = { 0, 10L * 1000 * 1000 };
		int status;

		if (waitpid(dns_pid, &status, WNOHANG) == dns_pid) {
			dns_pid = -1;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	if (!port_taken(port))
		return -1;
	return sa_set_str(&dns_addr, "127.0.0.1", port) ? -1 : 0;
}


static int group_teardown(void **state)
{
	(void)state;
	if (dns_pid > 0) {
		kill(dns_pid, SIGTERM);
		waitpid(dns_pid, NULL, 0);
		dns_pid = -1;
	}
	return 0;
}


static int rec_send(struct sip *s, enum sip_transp tp, const struct sa *dst,
		    struct sip_conn *conn, const void *p, size_t len)
{
	(void)s;
	(void)conn;
	if (sa_port(&refuse) && sa_eq(dst, &refuse))
		return ECONNREFUSED;
	assert_true(nsent < MAXSENT);
	assert_true(len < sizeof(sent[0].data));
	memcpy(sent[nsent].data, p, len);
	sent[nsent].data[len] = '\0';
	sent[nsent].len = len;
	sent[nsent].dst = *dst;
	sent[nsent].tp = tp;
	nsent++;
	return 0;
}


static void resp_h(int err, struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (msg && msg->scode < 200)
		return;
	resp_n++;
	resp_err = err;
	resp_code = msg ? msg->scode : 0;
}


static bool on_req(struct sip *s, struct sip_msg *msg, void *arg)
{
	struct sip_msg *req = NULL;

	(void)s;
	(void)arg;
	assert_int_equal(sip_msg_dup(&req, msg), 0);
	assert_int_equal(sip_strans_alloc(&st, sip, req, NULL, NULL), 0);
	mem_deref(req);
	fwd_err = cscf_fwd_request(&fw, sip, sip_strans_req(st), &hop, resp_h,
				   NULL);
	return true;
}


static void on_resp(struct sip *s, struct sip_msg *msg, void *arg)
{
	(void)s;
	(void)msg;
	(void)arg;
}


static int setup(void **state)
{
	mem_mark(state);
	if (dns_pid <= 0)
		return 0;
	if (loop_init(64))
		return -1;
	if (sip_alloc(&sip, NULL, on_req, on_resp, NULL))
		return -1;
	sip->sendh = rec_send;
	if (sip_dns_alloc(&dns, &dns_addr, 1, NULL))
		return -1;
	nsent = 0;
	memset(&hop, 0, sizeof(hop));
	memset(&refuse, 0, sizeof(refuse));
	hop.dns = dns;
	fwd_err = resp_err = resp_code = resp_n = 0;
	return 0;
}


static int teardown(void **state)
{
	if (dns_pid > 0) {
		fw = mem_deref(fw);
		st = mem_deref(st);
		sip_close(sip);
		sip = mem_deref(sip);
		dns = mem_deref(dns);
		loop_close();
	}
	return mem_expect_no_leaks(state);
}


static void need_server(void)
{
	if (dns_pid <= 0)
		skip();
}


static void feed(const char *text, const char *src)
{
	struct sip_rx rx;

	memset(&rx, 0, sizeof(rx));
	rx.p = text;
	rx.len = strlen(text);
	rx.tp = SIP_TRANSP_UDP;
	rx.dgram = true;
	assert_int_equal(sa_decode(&rx.src, src), 0);
	assert_int_equal(sa_decode(&rx.dst, "127.0.0.1:5060"), 0);
	sip_recv(&rx, sip);
}


static void feed_request(const char *met, const char *ruri)
{
	static unsigned seq; /* a new transaction each time */
	char buf[2048];

	(void)snprintf(buf, sizeof(buf),
		       "%s %s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKph%u\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:alice@ims.test>;tag=a1\r\n"
		       "To: <sip:alice@ims.test>\r\n"
		       "Call-ID: fwd-dns-1\r\n"
		       "CSeq: 1 %s\r\n"
		       "Contact: <sip:alice@10.0.0.1:5070>\r\n"
		       "Content-Length: 0\r\n\r\n",
		       met, ruri, ++seq, met);
	feed(buf, "10.0.0.1:5070");
}


/* Poll the loop until n requests went out or resp_n reaches r. */
static void wait_for(size_t n, int r)
{
	int i;

	for (i = 0; i < 600 && nsent < n && resp_n < r; i++)
		assert_int_equal(loop_poll(5), 0);
}


static bool dst_is(const struct sent *s, const char *addr)
{
	struct sa a;

	return !sa_decode(&a, addr) && sa_eq(&a, &s->dst);
}


/* The top Via branch of a sent request. */
static void branch_of(const struct sent *s, char *out, size_t size)
{
	const char *b = strstr(s->data, ";branch=");
	size_t l;

	assert_non_null(b);
	b += 8;
	l = strcspn(b, ";\r");
	assert_true(l < size);
	memcpy(out, b, l);
	out[l] = '\0';
}


/* The answer of the next hop to sent request s. */
static void answer(const struct sent *s, int code)
{
	struct sip_msg m;
	struct sip_msg_err e;
	char out[4096], src[SA_STRLEN];
	size_t n;
	uint16_t i;

	assert_int_equal(sip_msg_decode(&m, s->data, s->len, true, &e), 0);
	n = (size_t)snprintf(out, sizeof(out), "SIP/2.0 %d X\r\n", code);
	for (i = 0; i < m.hdrc; i++) {
		const struct sip_hdr *h = &m.hdrv[i];

		if (h->id != SIP_HDR_VIA && h->id != SIP_HDR_FROM &&
		    h->id != SIP_HDR_TO && h->id != SIP_HDR_CALL_ID &&
		    h->id != SIP_HDR_CSEQ)
			continue;
		n += (size_t)snprintf(out + n, sizeof(out) - n,
				      "%.*s: %.*s%s\r\n", (int)h->name.l,
				      h->name.p, (int)h->val.l, h->val.p,
				      h->id == SIP_HDR_TO ? ";tag=nh1" : "");
	}
	(void)snprintf(out + n, sizeof(out) - n, "Content-Length: 0\r\n\r\n");
	(void)sa_fmt(&s->dst, src, sizeof(src));
	feed(out, src);
}


/* NAPTR -> SRV -> A: the request leaves from the loop, to the first SRV
 * target, Request-URI unchanged */
static void test_naptr_srv(void **state)
{
	(void)state;
	need_server();
	hop.uri = "sip:ims.test";
	feed_request("REGISTER", "sip:ims.test");
	assert_int_equal(fwd_err, 0);
	assert_int_equal(nsent, 0); /* never from inside the call */
	assert_true(cscf_fwd_active(fw));
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.21:5070"));
	assert_int_equal(sent[0].tp, SIP_TRANSP_UDP);
	assert_true(!strncmp(sent[0].data,
			     "REGISTER sip:ims.test SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP ",
			     47));
	assert_non_null(strstr(sent[0].data, "\r\nMax-Forwards: 69\r\n"));
	answer(&sent[0], 200);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_code, 200);
}


/* RFC 3263 4.3: a 503 moves the request to the next target with a new
 * branch; the role sees only the final answer of that one */
static void test_503_next_target(void **state)
{
	char b0[64], b1[64];

	(void)state;
	need_server();
	/* no hop URI, no Route: the Request-URI's domain */
	hop.uri = NULL;
	feed_request("MESSAGE", "sip:bob@ims.test");
	assert_int_equal(fwd_err, 0);
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.21:5070"));
	answer(&sent[0], 503);
	assert_int_equal(resp_n, 0);
	assert_int_equal(nsent, 2);
	assert_true(dst_is(&sent[1], "127.0.0.22:5071"));
	branch_of(&sent[0], b0, sizeof(b0));
	branch_of(&sent[1], b1, sizeof(b1));
	assert_string_not_equal(b0, b1);
	answer(&sent[1], 202);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, 0);
	assert_int_equal(resp_code, 202);
}


/* every target answers 503: that answer goes up */
static void test_all_503(void **state)
{
	(void)state;
	need_server();
	hop.uri = "sip:ims.test";
	feed_request("OPTIONS", "sip:ims.test");
	wait_for(1, 1);
	answer(&sent[0], 503);
	assert_int_equal(nsent, 2);
	answer(&sent[1], 503);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_code, 503);
}


/* a transport error on the first target: the second, at once */
static void test_transport_error(void **state)
{
	(void)state;
	need_server();
	assert_int_equal(sa_decode(&refuse, "127.0.0.21:5070"), 0);
	hop.uri = "sip:ims.test";
	feed_request("OPTIONS", "sip:ims.test");
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.22:5071"));
	answer(&sent[0], 200);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_code, 200);

	/* both refuse: the role gets the error, answered with 502 */
	fw = mem_deref(fw);
	st = mem_deref(st);
	nsent = 0;
	resp_n = 0;
	hop.uri = "sip:icscf1.ims.test:5070";
	feed_request("OPTIONS", "sip:ims.test");
	wait_for(1, 1);
	assert_int_equal(nsent, 0);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, ECONNREFUSED);
	assert_int_equal(cscf_fwd_scode(resp_err), 502);
}


/* a provisional answer pins the target (RFC 3263 4.3): a later 503 is
 * the answer */
static void test_no_failover_after_1xx(void **state)
{
	(void)state;
	need_server();
	hop.uri = "sip:ims.test";
	feed_request("INVITE", "sip:bob@ims.test");
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	answer(&sent[0], 180);
	answer(&sent[0], 503);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_code, 503);
	/* only the ACK for the 503 went to the same target (17.1.1.3) */
	assert_int_equal(nsent, 2);
	assert_true(!strncmp(sent[1].data, "ACK ", 4));
	assert_true(dst_is(&sent[1], "127.0.0.21:5070"));
}


/* A with the URI's port; unknown names end with EHOSTUNREACH (502) */
static void test_a_record_and_nxdomain(void **state)
{
	(void)state;
	need_server();
	hop.uri = "sip:scscf.ims.test:5080;transport=tcp";
	feed_request("OPTIONS", "sip:ims.test");
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.31:5080"));
	assert_int_equal(sent[0].tp, SIP_TRANSP_TCP);
	assert_non_null(strstr(sent[0].data, "Via: SIP/2.0/TCP "));

	fw = mem_deref(fw);
	st = mem_deref(st);
	nsent = 0;
	hop.uri = "sip:nowhere.test";
	feed_request("OPTIONS", "sip:ims.test");
	assert_int_equal(fwd_err, 0);
	wait_for(1, 1);
	assert_int_equal(nsent, 0);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, EHOSTUNREACH);
	assert_int_equal(cscf_fwd_scode(resp_err), 502);
}


/* cancelled while the name is looked up: nothing is sent, the role gets
 * ECANCELED (487); released early: no callback at all */
static void test_cancel_and_release(void **state)
{
	int i;

	(void)state;
	need_server();
	hop.uri = "sip:ims.test";
	feed_request("INVITE", "sip:bob@ims.test");
	assert_int_equal(cscf_fwd_cancel(fw), 0);
	wait_for(1, 1);
	assert_int_equal(nsent, 0);
	assert_int_equal(resp_n, 1);
	assert_int_equal(resp_err, ECANCELED);
	assert_int_equal(cscf_fwd_scode(resp_err), 487);
	assert_false(cscf_fwd_active(fw));

	fw = mem_deref(fw);
	st = mem_deref(st);
	resp_n = 0;
	feed_request("INVITE", "sip:bob@ims.test");
	fw = mem_deref(fw);
	for (i = 0; i < 100; i++)
		assert_int_equal(loop_poll(5), 0);
	/* the server transaction's 100 Trying (17.2.1) may go out: no
	 * request does */
	for (i = 0; i < (int)nsent; i++)
		assert_true(!strncmp(sent[i].data, "SIP/2.0 100 ", 12));
	assert_int_equal(resp_n, 0);
}


/* an ACK to a name: looked up, one send to the first target */
static void test_stateless_name(void **state)
{
	char buf[1024];
	struct sip_msg m;
	struct sip_msg_err e;
	struct sip_msg *ack = NULL;
	struct buf *mb = NULL;

	(void)state;
	need_server();
	(void)snprintf(buf, sizeof(buf),
		       "ACK sip:bob@10.0.0.9 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKack1\r\n"
		       "Route: <sip:ims.test;lr>\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:alice@ims.test>;tag=a1\r\n"
		       "To: <sip:bob@ims.test>;tag=b1\r\n"
		       "Call-ID: fwd-dns-ack\r\n"
		       "CSeq: 1 ACK\r\n"
		       "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_decode(&m, buf, strlen(buf), true, &e), 0);
	assert_int_equal(buf_alloc(&mb, sizeof(buf), sizeof(buf)), 0);
	assert_int_equal(buf_write(mb, buf, strlen(buf)), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&ack, mb, true, &e), 0);
	assert_int_equal(cscf_fwd_stateless(sip, ack, &hop), 0);
	mem_deref(ack);
	mem_deref(mb);
	assert_int_equal(nsent, 0);
	wait_for(1, 1);
	assert_int_equal(nsent, 1);
	assert_true(dst_is(&sent[0], "127.0.0.21:5070"));
	assert_true(
		!strncmp(sent[0].data, "ACK sip:bob@10.0.0.9 SIP/2.0\r\n", 30));

	/* without a resolver a name is unreachable at once */
	hop.dns = NULL;
	assert_int_equal(buf_alloc(&mb, sizeof(buf), sizeof(buf)), 0);
	assert_int_equal(buf_write(mb, buf, strlen(buf)), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&ack, mb, true, &e), 0);
	assert_int_equal(cscf_fwd_stateless(sip, ack, &hop), EHOSTUNREACH);
	mem_deref(ack);
	mem_deref(mb);
}


/* the servers list of a role */
static void test_dns_alloc(void **state)
{
	struct conf_list l;
	struct sip_dns *d = NULL;
	char msg[128] = "";

	(void)state;
	memset(&l, 0, sizeof(l));
	l.n = 1;
	(void)snprintf(l.v[0], sizeof(l.v[0]), "127.0.0.1:5353");
	assert_int_equal(cscf_fwd_dns_alloc(&d, &l, msg, sizeof(msg)), 0);
	assert_non_null(d);
	d = mem_deref(d);
	(void)snprintf(l.v[0], sizeof(l.v[0]), "dns.example");
	assert_int_equal(cscf_fwd_dns_alloc(&d, &l, msg, sizeof(msg)), EINVAL);
	assert_null(d);
	assert_non_null(strstr(msg, "dns.example"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_naptr_srv),
		T(test_503_next_target),
		T(test_all_503),
		T(test_transport_error),
		T(test_no_failover_after_1xx),
		T(test_a_record_and_nxdomain),
		T(test_cancel_and_release),
		T(test_stateless_name),
		T(test_dns_alloc),
#undef T
	};

	return cmocka_run_group_tests_name("cscf_fwd_dns", tests, group_setup,
					   group_teardown);
}
