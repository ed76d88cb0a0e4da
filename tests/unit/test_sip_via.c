/**
 * @file test_sip_via.c  Via values (RFC 3261 20.42, 25.1; RFC 3581; RFC
 * 4475 and RFC 5118 torture cases).
 *
 * Inputs sit at the very end of an exact-size heap block so that ASan
 * reports any read past pl->l.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"
#include "core/pl.h"
#include "sip/transp.h"
#include "sip/uri.h"
#include "sip/via.h"

static char *tail_copy(const char *s, size_t n, struct pl *pl)
{
	char *b = malloc(n ? n : 1);

	assert_non_null(b);
	if (n)
		memcpy(b, s, n);
	pl->p = b;
	pl->l = n;
	return b;
}


static void assert_pl(const struct pl *pl, const char *want, const char *in)
{
	if (!want) {
		if (pl_isset(pl))
			fail_msg("%s: got \"%.*s\", want nothing", in,
				 (int)pl->l, pl->p);
		return;
	}
	if (!pl->p || pl->l != strlen(want) || memcmp(pl->p, want, pl->l) != 0)
		fail_msg("%s: got \"%.*s\", want \"%s\"", in, (int)pl->l,
			 pl->p ? pl->p : "", want);
}


/* field order follows the Via; padding does not matter in a test table */
struct via_case { // NOLINT(clang-analyzer-optin.performance.Padding)
	const char *in;
	const char *proto;
	const char *transp;
	int tp;
	const char *host;
	uint16_t port;
	const char *branch;
	const char *received;
	bool has_rport;
	const char *rport;
	const char *maddr;
	bool b3261;
	bool sip2;
};

static const struct via_case valid[] = {
	{ "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds", "SIP/2.0",
	  "UDP", SIP_TRANSP_UDP, "pc33.atlanta.com", 0, "z9hG4bK776asdhds",
	  NULL, false, NULL, NULL, true, true },
	{ "SIP/2.0/UDP "
	  "192.0.2.1:5060;received=192.0.2.207;branch=z9hG4bK77asjd",
	  "SIP/2.0", "UDP", SIP_TRANSP_UDP, "192.0.2.1", 5060, "z9hG4bK77asjd",
	  "192.0.2.207", false, NULL, NULL, true, true },
	{ "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74b43",
	  "SIP/2.0", "TCP", SIP_TRANSP_TCP, "client.atlanta.example.com", 5060,
	  "z9hG4bK74b43", NULL, false, NULL, NULL, true, true },
	{ "SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bKas;rport", "SIP/2.0",
	  "TLS", SIP_TRANSP_TLS, "[2001:db8::9:1]", 5061, "z9hG4bKas", NULL,
	  true, NULL, NULL, true, true },
	/* RFC 4475 wsinv: LWS and folding around '/' and ';' and '=' */
	{ "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw",
	  "SIP  /   2.0", "UDP", SIP_TRANSP_UDP, "192.0.2.2", 0, "390skdjuw",
	  NULL, true, NULL, NULL, false, true },
	{ "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   "
	  "z9hG4bK9ikj8",
	  "SIP  / 2.0", "TCP", SIP_TRANSP_TCP, "spindle.example.com", 0,
	  "z9hG4bK9ikj8", NULL, false, NULL, NULL, true, true },
	{ "SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
	  "SIP  /    2.0", "UDP", SIP_TRANSP_UDP, "192.168.255.111", 0,
	  "z9hG4bK30239", NULL, false, NULL, NULL, true, true },
	/* RFC 4475 transports */
	{ "SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf", "SIP/2.0",
	  "SCTP", SIP_TRANSP_NONE, "t2.example.com", 0, "z9hG4bKklasjdhf", NULL,
	  false, NULL, NULL, true, true },
	{ "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", "SIP/2.0",
	  "UNKNOWN", SIP_TRANSP_NONE, "t4.example.com", 0, "z9hG4bKasd0f3en",
	  NULL, false, NULL, NULL, true, true },
	/* RFC 4475 badbranch: decodes, but is no RFC 3261 branch */
	{ "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK", "SIP/2.0", "UDP",
	  SIP_TRANSP_UDP, "192.0.2.1", 0, "z9hG4bK", NULL, false, NULL, NULL,
	  false, true },
	{ "SIP/2.0/UDP h;branch=z9hg4bKxyz", "SIP/2.0", "UDP", SIP_TRANSP_UDP,
	  "h", 0, "z9hg4bKxyz", NULL, false, NULL, NULL, false, true },
	/* RFC 4475 badvers: the Via decodes; the version check is apart */
	{ "SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw", "SIP/7.0", "UDP",
	  SIP_TRANSP_UDP, "c.example.com", 0, "z9hG4bKkdjuw", NULL, false, NULL,
	  NULL, true, false },
	/* RFC 3581 rport */
	{ "SIP/2.0/UDP host.example.com;rport=5061;branch=z9hG4bKx", "SIP/2.0",
	  "UDP", SIP_TRANSP_UDP, "host.example.com", 0, "z9hG4bKx", NULL, true,
	  "5061", NULL, true, true },
	/* RFC 5118 4.5: received with and without brackets */
	{ "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch="
	  "z9hG4bKas3-111",
	  "SIP/2.0", "UDP", SIP_TRANSP_UDP, "[2001:db8::9:1]", 0,
	  "z9hG4bKas3-111", "[2001:db8::9:255]", false, NULL, NULL, true,
	  true },
	{ "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch="
	  "z9hG4bKas3",
	  "SIP/2.0", "UDP", SIP_TRANSP_UDP, "[2001:db8::9:1]", 0, "z9hG4bKas3",
	  "2001:db8::9:255", false, NULL, NULL, true, true },
	/* COLON = SWS ":" SWS */
	{ "SIP/2.0/UDP host : 5060 ;branch=z9hG4bKx", "SIP/2.0", "UDP",
	  SIP_TRANSP_UDP, "host", 5060, "z9hG4bKx", NULL, false, NULL, NULL,
	  true, true },
	{ "SIP/2.0/UDP host;ttl=16;maddr=224.2.0.1;branch=z9hG4bKx", "SIP/2.0",
	  "UDP", SIP_TRANSP_UDP, "host", 0, "z9hG4bKx", NULL, false, NULL,
	  "224.2.0.1", true, true },
	{ "sip/2.0/udp host;BRANCH=z9hG4bKx;MADDR=[::1]", "sip/2.0", "udp",
	  SIP_TRANSP_UDP, "host", 0, "z9hG4bKx", NULL, false, NULL, "[::1]",
	  true, true },
	{ "SIP/2.0/tls host.example.com:0", "SIP/2.0", "tls", SIP_TRANSP_TLS,
	  "host.example.com", 0, NULL, NULL, false, NULL, NULL, false, true },
	{ "SIP/2.0/UDP host.example.com:65535", "SIP/2.0", "UDP",
	  SIP_TRANSP_UDP, "host.example.com", 65535, NULL, NULL, false, NULL,
	  NULL, false, true },
	{ "  SIP/2.0/UDP a.b;branch=z9hG4bKx;received=192.0.2.1;rport=1234;"
	  "maddr=example.com;x=\"quoted;value\";y  ",
	  "SIP/2.0", "UDP", SIP_TRANSP_UDP, "a.b", 0, "z9hG4bKx", "192.0.2.1",
	  true, "1234", "example.com", true, true },
	/* the first of a repeated parameter is kept */
	{ "SIP/2.0/UDP h;branch=z9hG4bKa;rport=1;branch=z9hG4bKb;rport",
	  "SIP/2.0", "UDP", SIP_TRANSP_UDP, "h", 0, "z9hG4bKa", NULL, true, "1",
	  NULL, true, true },
	{ "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKasudf", "SIP/2.0",
	  "WS", SIP_TRANSP_NONE, "df7jal23ls0d.invalid", 0, "z9hG4bKasudf",
	  NULL, false, NULL, NULL, true, true },
	{ "SIP/2.0/UDP host.;branch=z9hG4bK.!%*_+`'~-", "SIP/2.0", "UDP",
	  SIP_TRANSP_UDP, "host.", 0, "z9hG4bK.!%*_+`'~-", NULL, false, NULL,
	  NULL, true, true },
};

static const char *const invalid[] = {
	"",
	"  ",
	"SIP/2.0/UDP",
	"SIP/2.0/UDP ",
	"SIP/2.0/UDP;branch=z9hG4bKx",
	"SIP/2.0 UDP host",
	"SIP/2.0/ host",
	"SIP//UDP host",
	"/2.0/UDP host",
	"SIP/2.0/UDPhost",
	"SIP/2.0/UDP/x host",
	"SIP 2.0/UDP host",
	"SIP/2.0/U\"DP host",
	/* RFC 4475 scalar02 */
	"SIP/2.0/UDP host4.example.com:65536;branch=z9hG4bKkdju43234",
	"SIP/2.0/UDP host:",
	"SIP/2.0/UDP host:;branch=z9hG4bKx",
	"SIP/2.0/UDP host:abc",
	"SIP/2.0/UDP host:50 60",
	"SIP/2.0/UDP [2001:db8::1;branch=z9hG4bKx",
	"SIP/2.0/UDP [2001:db8:::1]",
	"SIP/2.0/UDP 2001:db8::1;branch=z9hG4bKx",
	"SIP/2.0/UDP host_name",
	"SIP/2.0/UDP -host",
	"SIP/2.0/UDP 1.2.3.256",
	/* RFC 4475 badinv01 */
	"SIP/2.0/UDP 192.0.2.15;;",
	"SIP/2.0/UDP host;",
	"SIP/2.0/UDP host;branch",
	"SIP/2.0/UDP host;branch=",
	"SIP/2.0/UDP host;branch=\"z9hG4bKx\"",
	"SIP/2.0/UDP host;branch=z9hG4bKx junk",
	"SIP/2.0/UDP host;received=host.com",
	"SIP/2.0/UDP host;received=1.2.3",
	"SIP/2.0/UDP host;received=[1.2.3.4]",
	"SIP/2.0/UDP host;received",
	"SIP/2.0/UDP host;rport=abc",
	"SIP/2.0/UDP host;rport=70000",
	"SIP/2.0/UDP host;rport=",
	"SIP/2.0/UDP host;ttl=256",
	"SIP/2.0/UDP host;ttl=1000",
	"SIP/2.0/UDP host;ttl=x",
	"SIP/2.0/UDP host;maddr=-bad",
	"SIP/2.0/UDP host;maddr",
	"SIP/2.0/UDP host (comment)",
	"SIP/2.0/UDP host, SIP/2.0/UDP host2",
	"SIP/2.0/UDP host;x=\"unterminated",
	"SIP/2.0/UDP host;x=a b",
	"SIP/2.0/UDP host junk",
	"SIP/2.0/UDP h;branch=z9hG4bKa;branch=\"b\"",
	"SIP/2.0/UDP h;ttl=1;ttl=300",
};


static void test_via_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		const struct via_case *c = &valid[i];
		struct sip_via v;
		struct pl pl;
		char *blk = tail_copy(c->in, strlen(c->in), &pl);
		int err = sip_via_decode(&v, &pl);

		if (err)
			fail_msg("%s: err %d", c->in, err);
		assert_pl(&v.proto, c->proto, c->in);
		assert_pl(&v.transp, c->transp, c->in);
		assert_int_equal(v.tp, c->tp);
		assert_pl(&v.host, c->host, c->in);
		assert_int_equal(v.port, c->port);
		assert_pl(&v.branch, c->branch, c->in);
		/* the branch's hash_fast_ci(), 0 without one */
		assert_int_equal(
			v.branch_hash,
			c->branch ? hash_fast_ci(c->branch, strlen(c->branch))
				  : 0);
		assert_pl(&v.received, c->received, c->in);
		assert_int_equal(v.has_rport, c->has_rport);
		assert_pl(&v.rport, c->rport, c->in);
		assert_pl(&v.maddr, c->maddr, c->in);
		if (sip_via_branch_3261(&v) != c->b3261)
			fail_msg("%s: branch 3261 %d", c->in, !c->b3261);
		assert_int_equal(sip_via_proto_sip2(&v), c->sip2);
		assert_true(v.val.p >= pl.p &&
			    v.val.p + v.val.l <= pl.p + pl.l);
		free(blk);
	}
}


static void test_via_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		struct sip_via v;
		struct pl pl;
		char *blk = tail_copy(invalid[i], strlen(invalid[i]), &pl);
		int err;

		memset(&v, 0x5a, sizeof(v));
		err = sip_via_decode(&v, &pl);
		if (err != EBADMSG)
			fail_msg("\"%s\": err %d, want EBADMSG", invalid[i],
				 err);
		assert_int_equal(((unsigned char *)&v)[0], 0x5a);
		free(blk);
	}
}


static void test_via_params(void **state)
{
	static const char in[] =
		"SIP/2.0/UDP h;branch=z9hG4bK1;x=1;Y;received=10.0.0.1";
	struct sip_via v;
	struct pl pl, val;
	char *blk = tail_copy(in, sizeof(in) - 1, &pl);

	(void)state;
	assert_int_equal(sip_via_decode(&v, &pl), 0);
	assert_pl(&v.params, ";branch=z9hG4bK1;x=1;Y;received=10.0.0.1", in);
	assert_int_equal(sip_param_get(&v.params, "x", &val), 0);
	assert_pl(&val, "1", in);
	assert_true(sip_param_exists(&v.params, "y"));
	assert_false(sip_param_exists(&v.params, "rport"));
	assert_false(v.has_rport);
	free(blk);
}


static void test_via_branch_proto(void **state)
{
	struct sip_via v;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_false(sip_via_branch_3261(NULL));
	assert_false(sip_via_branch_3261(&v));
	pl_set_str(&v.branch, "z9hG4bK");
	assert_false(sip_via_branch_3261(&v));
	pl_set_str(&v.branch, "z9hG4bK1");
	assert_true(sip_via_branch_3261(&v));
	pl_set_str(&v.branch, "Z9hG4bK1");
	assert_false(sip_via_branch_3261(&v));
	pl_set_str(&v.branch, "z9hG4b");
	assert_false(sip_via_branch_3261(&v));

	assert_false(sip_via_proto_sip2(NULL));
	assert_false(sip_via_proto_sip2(&v));
	pl_set_str(&v.proto, "SIP/2.0");
	assert_true(sip_via_proto_sip2(&v));
	pl_set_str(&v.proto, "Sip \r\n /\t2.0");
	assert_true(sip_via_proto_sip2(&v));
	pl_set_str(&v.proto, "SIP/2.00");
	assert_false(sip_via_proto_sip2(&v));
	pl_set_str(&v.proto, "SIP/2.");
	assert_false(sip_via_proto_sip2(&v));
	pl_set_str(&v.proto, "SIPS/2.0");
	assert_false(sip_via_proto_sip2(&v));

	assert_int_equal(sip_via_decode(NULL, &v.proto), EINVAL);
	assert_int_equal(sip_via_decode(&v, NULL), EINVAL);
}


/* The sent-by host's kind, and an IPv4 host as its address (what a
 * response compares with the source, RFC 3261 18.2.1); the in-place
 * decoder gives what the copying one gives. */
static void test_via_host_address(void **state)
{
	static const struct {
		const char *in;
		enum sip_host_type t;
		uint8_t ip4[4];
	} cases[] = {
		{ "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKx",
		  SIP_HOST_IPV4,
		  { 192, 0, 2, 7 } },
		{ "SIP/2.0/UDP 010.000.002.255 ;rport",
		  SIP_HOST_IPV4,
		  { 10, 0, 2, 255 } },
		{ "SIP/2.0/TCP 192.0.2.7.example.net", SIP_HOST_NAME, { 0 } },
		{ "SIP/2.0/TLS [2001:db8::1]:5061", SIP_HOST_IPV6, { 0 } },
		{ "SIP/2.0/UDP h.example", SIP_HOST_NAME, { 0 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sip_via v, w;
		struct pl pl;
		char *blk = tail_copy(cases[i].in, strlen(cases[i].in), &pl);

		memset(&w, 0x5a, sizeof(w));
		assert_int_equal(sip_via_decode(&v, &pl), 0);
		assert_int_equal(sip_via_decode_into(&w, &pl), 0);
		assert_memory_equal(&v, &w, sizeof(v));
		if (v.host_type != cases[i].t)
			fail_msg("%s: host type %u", cases[i].in, v.host_type);
		if (cases[i].t == SIP_HOST_IPV4)
			assert_memory_equal(v.ip4, cases[i].ip4, 4);
		free(blk);
	}
	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		struct sip_via v;
		struct pl pl;
		char *blk = tail_copy(invalid[i], strlen(invalid[i]), &pl);

		assert_int_equal(sip_via_decode_into(&v, &pl), EBADMSG);
		free(blk);
	}
}


static void test_via_prefixes(void **state)
{
	static const char *const full[] = {
		"SIP / 2.0 / TLS [2001:db8::9:1] : 5061 ;branch=z9hG4bKas;"
		"rport=5;received=2001:db8::2;x=\"a;b\"",
		"SIP/2.0/UDP 192.0.2.1:5060;ttl=1;maddr=h.example;received="
		"192.0.2.9",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(full) / sizeof(*full); i++) {
		size_t len = strlen(full[i]);

		for (n = 0; n <= len; n++) {
			struct sip_via v;
			struct pl pl;
			char *blk = tail_copy(full[i], n, &pl);
			int err = sip_via_decode(&v, &pl);

			assert_true(err == 0 || err == EBADMSG);
			if (n == len)
				assert_int_equal(err, 0);
			free(blk);
		}
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_via_valid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_via_invalid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_via_params, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_via_branch_proto, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_via_host_address, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_via_prefixes, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_via", tests, NULL, NULL);
}
