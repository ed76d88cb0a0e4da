/**
 * @file test_sip_dns.c  RFC 3263 server location against a real DNS server.
 *
 * The group setup starts dnsmasq (Debian package dnsmasq-base) on
 * 127.0.0.1 at a free port, authoritative for the zone "test." (so that
 * negative answers carry an SOA, RFC 2308), with the NAPTR, SRV and
 * address records below; the teardown kills it by its PID.  Without
 * dnsmasq the tests that need it are skipped.
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

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/dns.h"
#include "sip/transp.h"
#include "sip/uri.h"

static pid_t dns_pid = -1;
static struct sa dns_addr;

static const char *const zone[] = {
	"--auth-server=ns.test,127.0.0.1",
	"--auth-zone=test",
	/* auth mode: every record, and the SOA minimum, get auth-ttl */
	"--auth-soa=1,hostmaster.test,1200,120,1209600",
	"--auth-ttl=300",
	"--local-ttl=300",
	"--local=/test/",
	/* NAPTR -> SRV -> A/AAAA (an unsupported service and a non-"s"
	 * record must be skipped) */
	"--naptr-record=naptr.test,20,50,s,SIP+D2U,,_sip._udp.naptr.test",
	"--naptr-record=naptr.test,10,50,s,SIP+D2T,,_sip._tcp.naptr.test",
	"--naptr-record=naptr.test,10,10,s,SIPS+D2T,,_sips._tcp.naptr.test",
	"--naptr-record=naptr.test,5,50,s,SIP+D2S,,_sip._sctp.naptr.test",
	"--naptr-record=naptr.test,1,1,u,E2U+sip,!^.*$!sip:x@y.test!,",
	"--srv-host=_sips._tcp.naptr.test,tls1.naptr.test,5061,10,0",
	"--srv-host=_sip._tcp.naptr.test,tcp2.naptr.test,5071,20,0",
	"--srv-host=_sip._tcp.naptr.test,tcp1.naptr.test,5070,10,0",
	"--srv-host=_sip._udp.naptr.test,udp1.naptr.test,5080,10,0",
	"--srv-host=_sip._sctp.naptr.test,sctp.naptr.test,5090,10,0",
	"--host-record=tls1.naptr.test,127.0.0.11",
	"--host-record=tcp1.naptr.test,127.0.0.12,::12",
	"--host-record=tcp2.naptr.test,127.0.0.13",
	"--host-record=udp1.naptr.test,127.0.0.14",
	"--host-record=sctp.naptr.test,127.0.0.15",
	"--host-record=naptr.test,127.0.0.40",
	/* SRV without NAPTR */
	"--srv-host=_sip._udp.srv.test,a.srv.test,5090,10,0",
	"--srv-host=_sip._tcp.srv.test,b.srv.test,5091,10,0",
	"--host-record=a.srv.test,127.0.0.21",
	"--host-record=b.srv.test,127.0.0.22",
	"--host-record=srv.test,127.0.0.20",
	"--srv-host=_sips._tcp.secure.test,s.secure.test,5063,10,0",
	"--host-record=s.secure.test,127.0.0.23",
	/* addresses only */
	"--host-record=aonly.test,127.0.0.30,::30",
	/* SRV target "." : the service is decidedly not offered */
	"--srv-host=_sip._udp.nosvc.test",
	"--host-record=nosvc.test,127.0.0.50",
};


static const char *dnsmasq_path(void)
{
	if (access("/usr/sbin/dnsmasq", X_OK) == 0)
		return "/usr/sbin/dnsmasq";
	if (access("/usr/bin/dnsmasq", X_OK) == 0)
		return "/usr/bin/dnsmasq";
	return NULL;
}


/* A port free for both UDP and TCP on 127.0.0.1. */
static uint16_t free_port(void)
{
	int i;

	for (i = 0; i < 50; i++) {
		struct sa a;
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		int t = socket(AF_INET, SOCK_STREAM, 0);
		uint16_t port = 0;

		if (sa_set_str(&a, "127.0.0.1", 0) ||
		    bind(u, &a.u.sa, a.len) < 0)
			goto next;
		a.len = sizeof(a.u);
		if (getsockname(u, &a.u.sa, &a.len) < 0)
			goto next;
		if (bind(t, &a.u.sa, a.len) == 0)
			port = sa_port(&a);
	next:
		close(u);
		close(t);
		if (port)
			return port;
	}
	return 0;
}


static bool port_taken(uint16_t port)
{
	struct sa a;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	bool taken;

	if (sa_set_str(&a, "127.0.0.1", port)) {
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
	char portarg[32];
	const char *argv[64];
	size_t i, n = 0;
	uint16_t port;
	int tries;

	(void)state;
	if (!path) {
		(void)fprintf(stderr,
			      "dnsmasq not installed (apt-get install "
			      "dnsmasq-base): DNS server tests skipped\n");
		return 0;
	}
	port = free_port();
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
		int status;
		struct timespec ts = { 0, 10L * 1000 * 1000 };

		if (waitpid(dns_pid, &status, WNOHANG) == dns_pid) {
			dns_pid = -1;
			(void)fprintf(stderr, "dnsmasq exited at start\n");
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


/* ---- helpers ---- */

struct result {
	int calls;
	int err;
	char text[1024];
};

static void result_h(int err, const struct sip_dns_target *tv, size_t tc,
		     void *arg)
{
	struct result *r = arg;
	size_t i, n = 0;

	r->calls++;
	r->err = err;
	r->text[0] = '\0';
	for (i = 0; i < tc; i++) {
		char a[SA_STRLEN];
		sa_fmt(&tv[i].addr, a, sizeof(a));
		n += (size_t)snprintf(r->text + n, sizeof(r->text) - n,
				      "%s%s %s", i ? "," : "",
				      sip_transp_name(tv[i].tp), a);
	}
}


static void need_server(void)
{
	if (dns_pid <= 0)
		skip();
}


static struct sip_dns *resolver(const struct sip_dns_conf *conf)
{
	struct sip_dns *d = NULL;

	assert_int_equal(sip_dns_alloc(&d, &dns_addr, 1, conf), 0);
	return d;
}


static void uri_of(struct sip_uri *uri, const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);
	assert_int_equal(sip_uri_decode(uri, &pl), 0);
}


/* Locate and wait for the answer (at most ~3 s). */
static int locate(struct sip_dns *d, const char *s, struct result *r)
{
	struct sip_dns_query *q = NULL;
	struct sip_uri uri;
	int i, err;

	memset(r, 0, sizeof(*r));
	uri_of(&uri, s);
	err = sip_dns_locate(&q, d, &uri, result_h, r);
	if (err)
		return err;
	assert_int_equal(r->calls, 0); /* never from inside the call */
	assert_non_null(q);
	for (i = 0; i < 600 && !r->calls; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(r->calls, 1);
	assert_null(q); /* ended: the resolver cleared the handle */
	mem_deref(q);   /* what a requester's destructor does: harmless */
	return 0;
}


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


/* ---- tests ---- */

static void test_naptr_srv_a(void **state)
{
	struct sip_dns *d;
	struct result r;

	(void)state;
	need_server();
	start();
	d = resolver(NULL);
	assert_int_equal(locate(d, "sip:alice@naptr.test", &r), 0);
	assert_int_equal(r.err, 0);
	/* NAPTR order 10 pref 10 (SIPS+D2T), 10/50 (SIP+D2T: SRV priority
	 * 10 then 20, A then AAAA), then 20/50 (SIP+D2U); SCTP and the
	 * "u" record are skipped */
	assert_string_equal(r.text, "TLS 127.0.0.11:5061,"
				    "TCP 127.0.0.12:5070,"
				    "TCP [::12]:5070,"
				    "TCP 127.0.0.13:5071,"
				    "UDP 127.0.0.14:5080");

	/* sips: only SIPS+D2T */
	assert_int_equal(locate(d, "sips:alice@naptr.test", &r), 0);
	assert_string_equal(r.text, "TLS 127.0.0.11:5061");
	mem_deref(d);
	stop();
}


static void test_srv_only(void **state)
{
	struct sip_dns_conf conf = { .no_ipv6 = true };
	struct sip_dns *d;
	struct result r;

	(void)state;
	need_server();
	start();
	d = resolver(&conf);
	/* no NAPTR: _sip._udp, _sip._tcp, _sips._tcp in that order */
	assert_int_equal(locate(d, "sip:srv.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.21:5090,TCP 127.0.0.22:5091");
	/* a transport parameter: SRV for that transport only */
	assert_int_equal(locate(d, "sip:srv.test;transport=TCP", &r), 0);
	assert_string_equal(r.text, "TCP 127.0.0.22:5091");
	/* sips: _sips._tcp only */
	assert_int_equal(locate(d, "sips:bob@secure.test", &r), 0);
	assert_string_equal(r.text, "TLS 127.0.0.23:5063");
	/* sips: without _sips._tcp: the A record with port 5061 */
	assert_int_equal(locate(d, "sips:srv.test", &r), 0);
	assert_string_equal(r.text, "TLS 127.0.0.20:5061");
	/* sips with transport=tcp is TLS (RFC 3261 26.2.2) */
	assert_int_equal(locate(d, "sips:bob@secure.test;transport=tcp", &r),
			 0);
	assert_string_equal(r.text, "TLS 127.0.0.23:5063");
	mem_deref(d);
	stop();
}


static void test_a_only(void **state)
{
	struct sip_dns *d;
	struct result r;

	(void)state;
	need_server();
	start();
	d = resolver(NULL);
	assert_int_equal(locate(d, "sip:aonly.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.30:5060,UDP [::30]:5060");
	assert_int_equal(locate(d, "sip:aonly.test;transport=tcp", &r), 0);
	assert_string_equal(r.text, "TCP 127.0.0.30:5060,TCP [::30]:5060");
	assert_int_equal(locate(d, "sips:aonly.test", &r), 0);
	assert_string_equal(r.text, "TLS 127.0.0.30:5061,TLS [::30]:5061");
	/* maddr overrides the host (RFC 3263 4) */
	assert_int_equal(locate(d, "sip:x@naptr.test;maddr=aonly.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.30:5060,UDP [::30]:5060");
	mem_deref(d);
	stop();
}


static void test_explicit_port(void **state)
{
	struct sip_dns_stats st;
	struct sip_dns *d;
	struct result r;

	(void)state;
	need_server();
	start();
	d = resolver(NULL);
	/* a port: no NAPTR, no SRV, just A and AAAA */
	assert_int_equal(locate(d, "sip:alice@naptr.test:5099", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.40:5099");
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 2);
	assert_int_equal(locate(d, "sip:naptr.test:5099;transport=tcp", &r), 0);
	assert_string_equal(r.text, "TCP 127.0.0.40:5099");
	assert_int_equal(locate(d, "sips:aonly.test:5999", &r), 0);
	assert_string_equal(r.text, "TLS 127.0.0.30:5999,TLS [::30]:5999");
	mem_deref(d);
	stop();
}


static void test_numeric(void **state)
{
	static const struct {
		const char *uri;
		const char *want;
	} v[] = {
		{ "sip:127.0.0.5", "UDP 127.0.0.5:5060" },
		{ "sip:bob@127.0.0.5:5070", "UDP 127.0.0.5:5070" },
		{ "sip:127.0.0.5;transport=tcp", "TCP 127.0.0.5:5060" },
		{ "sip:127.0.0.5;transport=tls", "TLS 127.0.0.5:5061" },
		{ "sips:[::1]", "TLS [::1]:5061" },
		{ "sip:[::1]:5080;transport=udp", "UDP [::1]:5080" },
		{ "sip:x@host.invalid;maddr=127.0.0.7", "UDP 127.0.0.7:5060" },
	};
	struct sip_dns_stats st;
	struct sip_dns_target t;
	struct sip_dns *d = NULL;
	struct sip_uri uri;
	struct result r;
	struct sa none;
	size_t i;

	(void)state;
	start();
	/* a server that does not exist: numeric URIs never ask it */
	assert_int_equal(sa_set_str(&none, "127.0.0.1", 9), 0);
	assert_int_equal(sip_dns_alloc(&d, &none, 1, NULL), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(locate(d, v[i].uri, &r), 0);
		assert_int_equal(r.err, 0);
		assert_string_equal(r.text, v[i].want);
	}
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 0);

	uri_of(&uri, "sip:10.1.2.3:5070;transport=tcp");
	assert_int_equal(sip_dns_numeric(&uri, &t), 0);
	assert_int_equal(t.tp, SIP_TRANSP_TCP);
	assert_int_equal(sa_port(&t.addr), 5070);
	uri_of(&uri, "sip:example.test");
	assert_int_equal(sip_dns_numeric(&uri, &t), EAGAIN);
	mem_deref(d);
	stop();
}


static void test_errors(void **state)
{
	static const struct {
		const char *uri;
		int err;
	} v[] = {
		{ "tel:+15551234567", EPROTONOSUPPORT },
		{ "mailto:a@b.test", EPROTONOSUPPORT },
		{ "sips:a@b.test;transport=udp", EPROTONOSUPPORT },
		{ "sip:a@b.test;transport=sctp", EPROTONOSUPPORT },
		{ "sip:a@b.test;transport=ws", EPROTONOSUPPORT },
	};
	struct sip_dns_query *q = NULL;
	struct sip_dns *d = NULL;
	struct sip_uri uri;
	struct result r;
	struct sa none;
	size_t i;

	(void)state;
	start();
	assert_int_equal(sa_set_str(&none, "127.0.0.1", 9), 0);
	assert_int_equal(sip_dns_alloc(&d, &none, 0, NULL), EINVAL);
	assert_int_equal(sip_dns_alloc(&d, &none, 1, NULL), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uri_of(&uri, v[i].uri);
		assert_int_equal(sip_dns_locate(&q, d, &uri, result_h, &r),
				 v[i].err);
		assert_null(q);
	}
	assert_int_equal(sip_dns_locate(&q, d, NULL, result_h, &r), EINVAL);
	mem_deref(d);
	stop();
}


static void test_not_found(void **state)
{
	struct sip_dns_stats st;
	struct sip_dns *d;
	struct result r;
	uint64_t q1;

	(void)state;
	need_server();
	start();
	d = resolver(NULL);
	assert_int_equal(locate(d, "sip:nothere.test", &r), 0);
	assert_int_equal(r.err, ENOENT);
	assert_string_equal(r.text, "");
	/* SRV "." : not offered, and no fallback to the A record */
	assert_int_equal(locate(d, "sip:nosvc.test;transport=udp", &r), 0);
	assert_int_equal(r.err, ENOENT);
	/* negative answers carry an SOA: cached (RFC 2308) */
	sip_dns_stats(d, &st);
	q1 = st.queries;
	assert_int_equal(locate(d, "sip:nothere.test", &r), 0);
	assert_int_equal(r.err, ENOENT);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, q1);
	mem_deref(d);
	stop();
}


static void test_cache_ttl(void **state)
{
	struct sip_dns_stats st;
	struct sip_dns *d;
	struct result r;
	uint64_t t0 = 5000000, q1;

	(void)state;
	need_server();
	tmr_test_set_now(t0);
	start();
	d = resolver(NULL);
	assert_int_equal(locate(d, "sip:srv.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.21:5090,TCP 127.0.0.22:5091");
	sip_dns_stats(d, &st);
	q1 = st.queries;
	/* NAPTR (negative), 3 SRV, A+AAAA for two hosts */
	assert_int_equal(q1, 8);
	assert_int_equal(st.cached, 8);
	assert_int_equal(st.cache_hits, 0);

	/* within the TTL (300 s): nothing is asked again */
	tmr_test_set_now(t0 + 299000);
	assert_int_equal(locate(d, "sip:srv.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.21:5090,TCP 127.0.0.22:5091");
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, q1);
	assert_int_equal(st.cache_hits, 8);

	/* all expired: asked again */
	tmr_test_set_now(t0 + 301000);
	assert_int_equal(locate(d, "sip:srv.test", &r), 0);
	assert_string_equal(r.text, "UDP 127.0.0.21:5090,TCP 127.0.0.22:5091");
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 2 * q1);

	sip_dns_cache_flush(d);
	sip_dns_stats(d, &st);
	assert_int_equal(st.cached, 0);
	mem_deref(d);
	stop();
}


static void test_negative_ttl(void **state)
{
	struct sip_dns_stats st;
	struct sip_dns *d;
	struct result r;
	uint64_t t0 = 7000000, q1;

	(void)state;
	need_server();
	tmr_test_set_now(t0);
	start();
	d = resolver(NULL);
	assert_int_equal(locate(d, "sip:nothere.test;transport=tcp", &r), 0);
	sip_dns_stats(d, &st);
	q1 = st.queries;
	assert_int_equal(q1, 3); /* SRV, A, AAAA */
	/* RFC 2308 5: for the SOA's TTL and MINIMUM (both 300 here) */
	tmr_test_set_now(t0 + 299000);
	assert_int_equal(locate(d, "sip:nothere.test;transport=tcp", &r), 0);
	assert_int_equal(r.err, ENOENT);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, q1);
	tmr_test_set_now(t0 + 301000);
	assert_int_equal(locate(d, "sip:nothere.test;transport=tcp", &r), 0);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 2 * q1);
	mem_deref(d);
	stop();
}


static void test_cancel(void **state)
{
	struct sip_dns_query *q = NULL;
	struct sip_dns_stats st;
	struct sip_dns *d;
	struct sip_uri uri;
	struct result r = { 0 };
	int i;

	(void)state;
	need_server();
	start();
	d = resolver(NULL);
	uri_of(&uri, "sip:naptr.test");

	/* cancelled before it started */
	assert_int_equal(sip_dns_locate(&q, d, &uri, result_h, &r), 0);
	q = mem_deref(q);
	for (i = 0; i < 20; i++)
		assert_int_equal(loop_poll(5), 0);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 0);

	/* cancelled with the NAPTR query in flight: no callback, but the
	 * answer still fills the cache */
	assert_int_equal(sip_dns_locate(&q, d, &uri, result_h, &r), 0);
	assert_int_equal(loop_poll(0), 0);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 1);
	q = mem_deref(q);
	for (i = 0; i < 40; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(r.calls, 0);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 1);
	assert_int_equal(st.cached, 1);

	/* the resolver released under a running query: one poll runs the
	 * start (NAPTR from the cache, SRV queries sent), since loop_poll
	 * reads descriptors before it fires timers */
	assert_int_equal(sip_dns_locate(&q, d, &uri, result_h, &r), 0);
	assert_int_equal(loop_poll(0), 0);
	sip_dns_stats(d, &st);
	assert_int_equal(st.queries, 4);
	assert_int_equal(r.calls, 0);
	mem_deref(d);
	assert_null(q); /* cancelled with the resolver */
	for (i = 0; i < 20; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(r.calls, 0);
	stop();
}


static void test_server_down(void **state)
{
	struct sip_dns_conf conf = { .timeout_ms = 100, .tries = 1 };
	struct sip_dns_stats st;
	struct sip_dns *d = NULL;
	struct result r;
	struct sa silent;
	int fd;

	(void)state;
	start();
	/* a socket that receives but never answers: c-ares times out */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(sa_set_str(&silent, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &silent.u.sa, silent.len), 0);
	silent.len = sizeof(silent.u);
	assert_int_equal(getsockname(fd, &silent.u.sa, &silent.len), 0);
	assert_int_equal(sip_dns_alloc(&d, &silent, 1, &conf), 0);
	assert_int_equal(locate(d, "sip:a.test:5060;transport=tcp", &r), 0);
	assert_int_equal(r.err, ETIMEDOUT);
	sip_dns_stats(d, &st);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.cached, 0);
	mem_deref(d);
	close(fd);
	stop();
}


static void test_srv_order(void **state)
{
	struct sip_dns_srv v[4];
	uint64_t rng = 12345;
	int first_a = 0, zero_first = 0, i;

	(void)state;
	/* priorities first, whatever the weights */
	v[0] = (struct sip_dns_srv){ 20, 100, 1, "c" };
	v[1] = (struct sip_dns_srv){ 10, 0, 1, "a" };
	v[2] = (struct sip_dns_srv){ 30, 5, 1, "d" };
	v[3] = (struct sip_dns_srv){ 10, 0, 1, "b" };
	sip_dns_srv_order(v, 4, &rng);
	assert_int_equal(v[0].prio, 10);
	assert_int_equal(v[1].prio, 10);
	assert_string_equal(v[2].host, "c");
	assert_string_equal(v[3].host, "d");

	/* weights 90:10 within one priority: "a" first about 90 % */
	for (i = 0; i < 2000; i++) {
		v[0] = (struct sip_dns_srv){ 10, 10, 1, "b" };
		v[1] = (struct sip_dns_srv){ 10, 90, 1, "a" };
		v[2] = (struct sip_dns_srv){ 10, 0, 1, "z" };
		sip_dns_srv_order(v, 3, &rng);
		if (!strcmp(v[0].host, "a"))
			first_a++;
		if (!strcmp(v[0].host, "z"))
			zero_first++;
	}
	assert_true(first_a > 1650 && first_a < 1950);
	/* weight 0: first with probability 1/(sum+1) = 1/101, not never */
	assert_true(zero_first > 0 && zero_first < 80);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_naptr_srv_a, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_srv_only, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_a_only, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_explicit_port, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_numeric, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_errors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_not_found, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cache_ttl, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_negative_ttl, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cancel, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_server_down, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_srv_order, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_dns", tests, group_setup,
					   group_teardown);
}
