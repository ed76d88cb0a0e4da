/**
 * @file test_sip_uri.c  URI decoding and comparison (RFC 3261 19.1, 25.1;
 * RFC 3966; RFC 4475 and RFC 5118 torture cases), parameter lists and
 * escapes.
 *
 * Every input is copied to the very end of a malloc'd block of exactly its
 * length, so that ASan reports any read past pl->l.
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

#include "core/mem.h"
#include "core/pl.h"
#include "sip/uri.h"

/* input at the end of an exact-size heap block: over-reads hit the
 * redzone */
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


static void assert_pl(const struct pl *pl, const char *want)
{
	if (!want) {
		assert_null(pl->p);
		return;
	}
	assert_non_null(pl->p);
	if (pl->l != strlen(want) || memcmp(pl->p, want, pl->l) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)pl->l,
			 pl->p ? pl->p : "", want);
}


static int decode_str(struct sip_uri *u, const char *s, char **blk)
{
	struct pl pl;

	*blk = tail_copy(s, strlen(s), &pl);
	return sip_uri_decode(u, &pl);
}


/* field order follows the URI; padding does not matter in a test table */
struct uri_case { // NOLINT(clang-analyzer-optin.performance.Padding)
	const char *in;
	enum sip_scheme sch;
	const char *user; /* NULL: absent */
	const char *password;
	const char *host;
	enum sip_host_type ht;
	const char *port_pl;
	uint16_t port;
	const char *params;
	const char *headers;
};

static const struct uri_case valid_uris[] = {
	/* RFC 3261 19.1.3 examples */
	{ "sip:alice@atlanta.com", SIP_SCHEME_SIP, "alice", NULL, "atlanta.com",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:alice:secretword@atlanta.com;transport=tcp", SIP_SCHEME_SIP,
	  "alice", "secretword", "atlanta.com", SIP_HOST_NAME, NULL, 0,
	  ";transport=tcp", NULL },
	{ "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
	  SIP_SCHEME_SIPS, "alice", NULL, "atlanta.com", SIP_HOST_NAME, NULL, 0,
	  NULL, "subject=project%20x&priority=urgent" },
	{ "sip:+1-212-555-1212:1234@gateway.com;user=phone", SIP_SCHEME_SIP,
	  "+1-212-555-1212", "1234", "gateway.com", SIP_HOST_NAME, NULL, 0,
	  ";user=phone", NULL },
	{ "sips:1212@gateway.com", SIP_SCHEME_SIPS, "1212", NULL, "gateway.com",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:alice@192.0.2.4", SIP_SCHEME_SIP, "alice", NULL, "192.0.2.4",
	  SIP_HOST_IPV4, NULL, 0, NULL, NULL },
	{ "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
	  SIP_SCHEME_SIP, NULL, NULL, "atlanta.com", SIP_HOST_NAME, NULL, 0,
	  ";method=REGISTER", "to=alice%40atlanta.com" },
	{ "sip:alice;day=tuesday@atlanta.com", SIP_SCHEME_SIP,
	  "alice;day=tuesday", NULL, "atlanta.com", SIP_HOST_NAME, NULL, 0,
	  NULL, NULL },
	/* RFC 4475 esc01, semiuri, escnull, intmeth */
	{ "sip:sips%3Auser%40example.com@example.net", SIP_SCHEME_SIP,
	  "sips%3Auser%40example.com", NULL, "example.net", SIP_HOST_NAME, NULL,
	  0, NULL, NULL },
	{ "sip:user;par=u%40example.net@example.com", SIP_SCHEME_SIP,
	  "user;par=u%40example.net", NULL, "example.com", SIP_HOST_NAME, NULL,
	  0, NULL, NULL },
	{ "sip:null-%00-null@example.com", SIP_SCHEME_SIP, "null-%00-null",
	  NULL, "example.com", SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:%00%00@host5.example.com", SIP_SCHEME_SIP, "%00%00", NULL,
	  "host5.example.com", SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
	  "weird!*pas$wo~d_too.(doesn't-it)@example.com",
	  SIP_SCHEME_SIP, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
	  "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", "example.com",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	  SIP_SCHEME_SIP, "cal%6Cer", NULL, "host5.example.net", SIP_HOST_NAME,
	  NULL, 0, ";%6C%72;n%61me=v%61lue%25%34%31", NULL },
	{ "sip:user@example.com?Route=%3Csip:example.com%3E", SIP_SCHEME_SIP,
	  "user", NULL, "example.com", SIP_HOST_NAME, NULL, 0, NULL,
	  "Route=%3Csip:example.com%3E" },
	{ "sip:services.example.com;lr;unknownwith=value;unknown-no-value",
	  SIP_SCHEME_SIP, NULL, NULL, "services.example.com", SIP_HOST_NAME,
	  NULL, 0, ";lr;unknownwith=value;unknown-no-value", NULL },
	{ "SIP:ALICE@AtLanTa.CoM;Transport=udp", SIP_SCHEME_SIP, "ALICE", NULL,
	  "AtLanTa.CoM", SIP_HOST_NAME, NULL, 0, ";Transport=udp", NULL },
	/* RFC 5118 IPv6 */
	{ "sip:[2001:db8::10]", SIP_SCHEME_SIP, NULL, NULL, "[2001:db8::10]",
	  SIP_HOST_IPV6, NULL, 0, NULL, NULL },
	{ "sip:[2001:db8::10]:5070", SIP_SCHEME_SIP, NULL, NULL,
	  "[2001:db8::10]", SIP_HOST_IPV6, "5070", 5070, NULL, NULL },
	{ "sip:[2001:db8::10:5070]", SIP_SCHEME_SIP, NULL, NULL,
	  "[2001:db8::10:5070]", SIP_HOST_IPV6, NULL, 0, NULL, NULL },
	{ "sip:user@[::ffff:192.0.2.1]", SIP_SCHEME_SIP, "user", NULL,
	  "[::ffff:192.0.2.1]", SIP_HOST_IPV6, NULL, 0, NULL, NULL },
	{ "sip:user@[2001:db8::192.0.2.1]", SIP_SCHEME_SIP, "user", NULL,
	  "[2001:db8::192.0.2.1]", SIP_HOST_IPV6, NULL, 0, NULL, NULL },
	{ "sip:[::1]:5060;transport=tcp", SIP_SCHEME_SIP, NULL, NULL, "[::1]",
	  SIP_HOST_IPV6, "5060", 5060, ";transport=tcp", NULL },
	{ "sip:[1:2:3:4:5:6:7:8]", SIP_SCHEME_SIP, NULL, NULL,
	  "[1:2:3:4:5:6:7:8]", SIP_HOST_IPV6, NULL, 0, NULL, NULL },
	{ "sip:[::]", SIP_SCHEME_SIP, NULL, NULL, "[::]", SIP_HOST_IPV6, NULL,
	  0, NULL, NULL },
	/* ports, hosts, empty password, odd but valid parts */
	{ "sip:host:0", SIP_SCHEME_SIP, NULL, NULL, "host", SIP_HOST_NAME, "0",
	  0, NULL, NULL },
	{ "sip:host:65535", SIP_SCHEME_SIP, NULL, NULL, "host", SIP_HOST_NAME,
	  "65535", 65535, NULL, NULL },
	{ "sip:host:05060", SIP_SCHEME_SIP, NULL, NULL, "host", SIP_HOST_NAME,
	  "05060", 5060, NULL, NULL },
	{ "sip:example.com.", SIP_SCHEME_SIP, NULL, NULL, "example.com.",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:a-b.3com.com", SIP_SCHEME_SIP, NULL, NULL, "a-b.3com.com",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	{ "sip:user:@host", SIP_SCHEME_SIP, "user", "", "host", SIP_HOST_NAME,
	  NULL, 0, NULL, NULL },
	{ "sip:host?h=", SIP_SCHEME_SIP, NULL, NULL, "host", SIP_HOST_NAME,
	  NULL, 0, NULL, "h=" },
	{ "sip:host;maddr=[2001:db8::1];x=a/b:c&d+$", SIP_SCHEME_SIP, NULL,
	  NULL, "host", SIP_HOST_NAME, NULL, 0,
	  ";maddr=[2001:db8::1];x=a/b:c&d+$", NULL },
	{ "sip:host?a=[x]/?:+$&b=1", SIP_SCHEME_SIP, NULL, NULL, "host",
	  SIP_HOST_NAME, NULL, 0, NULL, "a=[x]/?:+$&b=1" },
	{ "sip:host?to=a@b", SIP_SCHEME_SIP, "host?to=a", NULL, "b",
	  SIP_HOST_NAME, NULL, 0, NULL, NULL },
	/* RFC 3966 */
	{ "tel:+1-201-555-0123", SIP_SCHEME_TEL, "+1-201-555-0123", NULL, NULL,
	  0, NULL, 0, NULL, NULL },
	{ "tel:7042;phone-context=example.com", SIP_SCHEME_TEL, "7042", NULL,
	  NULL, 0, NULL, 0, ";phone-context=example.com", NULL },
	{ "tel:863-1234;phone-context=+1-914-555", SIP_SCHEME_TEL, "863-1234",
	  NULL, NULL, 0, NULL, 0, ";phone-context=+1-914-555", NULL },
	{ "tel:+358-555-1234567;postd=pp22", SIP_SCHEME_TEL, "+358-555-1234567",
	  NULL, NULL, 0, NULL, 0, ";postd=pp22", NULL },
	{ "tel:+1-201-555-0123;ext=1234;isub=ab:c%20d", SIP_SCHEME_TEL,
	  "+1-201-555-0123", NULL, NULL, 0, NULL, 0, ";ext=1234;isub=ab:c%20d",
	  NULL },
	{ "tel:*123#;phone-context=+1", SIP_SCHEME_TEL, "*123#", NULL, NULL, 0,
	  NULL, 0, ";phone-context=+1", NULL },
	{ "TEL:+(1)2;Flag", SIP_SCHEME_TEL, "+(1)2", NULL, NULL, 0, NULL, 0,
	  ";Flag", NULL },
};

/* other schemes: { input, scheme, opaque } */
static const char *const valid_other[][3] = {
	{ "nobodyKnowsThisScheme:totallyopaquecontent", "nobodyKnowsThisScheme",
	  "totallyopaquecontent" },
	{ "soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002" },
	{ "isbn:2983792873", "isbn", "2983792873" },
	{ "http://www.example.com", "http", "//www.example.com" },
	{ "name:John_Smith", "name", "John_Smith" },
	{ "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "urn",
	  "uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6" },
	{ "mailto:a@b.c?subject=hi%20there", "mailto",
	  "a@b.c?subject=hi%20there" },
	{ "x+y-z.1:[::1]#frag", "x+y-z.1", "[::1]#frag" },
};

static const char *const invalid_uris[] = {
	"",
	"sip",
	"sip:",
	":foo",
	"1sip:a@b",
	"s_p:a@b",
	"sip:user@",
	"sip:@host",
	"sip:user@host:",
	"sip:user@host:65536",
	"sip:user@host:99999999999999999999",
	"sip:user@host:5o60",
	"sip:user@host:-1",
	"sip:us er@host",
	"sip:user@ho st",
	" sip:user@host",
	"sip:user@host ",
	"sip:user@host\r\n",
	"sip:user@host\t",
	"<sip:user@host>",
	"sip:user@host>",
	"sip:us<er@host",
	"sip:user@host;lr ",
	"sip:a%2@host",
	"sip:a%zz@host",
	"sip:a%@host",
	"sip:a:p%4@host",
	"sip:a@host;x=%4",
	"sip:a@host;x%=1",
	"sip:a@host?x=%g0",
	"sip:user@host%41",
	"sip:[2001:db8::10",
	"sip:2001:db8::10",
	"sip:[2001:db8:::192.0.2.1]",
	"sip:[1:2:3:4:5:6:7:8:9]",
	"sip:[1:2:3:4:5:6:7]",
	"sip:[1::2::3]",
	"sip:[:1]",
	"sip:[1:]",
	"sip:[12345::1]",
	"sip:[::1]]",
	"sip:[]",
	"sip:[g::1]",
	"sip:[::256.1.1.1]",
	"sip:[::1.2.3]",
	"sip:[1:2:3:4:5:6:7:1.2.3.4]",
	"sip:[fe80::1%25eth0]",
	"sip:host;",
	"sip:host;=x",
	"sip:host;a=",
	"sip:host;a=b=c",
	"sip:host;a;;b",
	"sip:host?",
	"sip:host?a",
	"sip:host?=b",
	"sip:host?a=b&",
	"sip:host?a=b&&c=d",
	"sip:host?a=b;c",
	"sip:a@b@c",
	"sip:user@-host.com",
	"sip:user@host-.com",
	"sip:user@host..com",
	"sip:user@.host.com",
	"sip:user@1.2.3",
	"sip:user@256.1.1.1",
	"sip:user@1.2.3.4.5",
	"sip:user@1234.1.1.1",
	"sip:user@host_name.com",
	"sip:user@example.123",
	"sip:user:pa:ss@host",
	"sip:us\"er@host",
	"sip:user@h\xc3\xa9llo.com",
	"sip:\xc3\xa9@host",
	"sip:user@host#frag",
	"sip:user@host:5060:5060",
	"sips:user@host;transport=tls\t",
	"tel:",
	"tel:1234",
	"tel:+",
	"tel:+-",
	"tel:+1a",
	"tel:12g4;phone-context=example.com",
	"tel:;phone-context=+1",
	"tel:+1;ext=",
	"tel:+1;ext=abc",
	"tel:+1;ext",
	"tel:+1;isub",
	"tel:12;phone-context",
	"tel:12;phone-context=",
	"tel:12;phone-context=-bad",
	"tel:12;phone-context=+",
	"tel:+1 234",
	"tel:+1;=x",
	"tel:+1;a_b=x",
	"tel:+1;a=b c",
	"tel:+1;a=%4",
	"tel:+1;",
	"tel:+1?x=y",
	"tel:+1@host",
	"x:",
	"x:a b",
	"x:<a>",
	"x:a>",
	"x:%zz",
	"x:a\"b",
	"x:a{b}",
	"x:a\\b",
	"x:\x01",
	"x\x7f:a",
};


static void test_uri_decode_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_uris) / sizeof(*valid_uris); i++) {
		const struct uri_case *c = &valid_uris[i];
		struct sip_uri u;
		char *blk;
		int err;

		err = decode_str(&u, c->in, &blk);
		if (err)
			fail_msg("%s: err %d", c->in, err);
		assert_int_equal(u.sch, c->sch);
		assert_ptr_equal(u.text.p, blk);
		assert_int_equal(u.text.l, strlen(c->in));
		assert_pl(&u.user, c->user);
		assert_pl(&u.password, c->password);
		if (c->sch == SIP_SCHEME_TEL) {
			assert_false(pl_isset(&u.host));
		} else {
			assert_pl(&u.host, c->host);
			assert_int_equal(u.host_type, c->ht);
		}
		assert_pl(&u.port_pl, c->port_pl);
		assert_int_equal(u.port, c->port);
		assert_pl(&u.params, c->params);
		assert_pl(&u.headers, c->headers);
		assert_false(pl_isset(&u.opaque));
		/* every URI equals itself */
		assert_true(sip_uri_eq(&u, &u));
		free(blk);
	}
}


static void test_uri_decode_other(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_other) / sizeof(*valid_other); i++) {
		struct sip_uri u;
		char *blk;
		int err;

		err = decode_str(&u, valid_other[i][0], &blk);
		if (err)
			fail_msg("%s: err %d", valid_other[i][0], err);
		assert_int_equal(u.sch, SIP_SCHEME_OTHER);
		assert_pl(&u.scheme, valid_other[i][1]);
		assert_pl(&u.opaque, valid_other[i][2]);
		assert_false(pl_isset(&u.host));
		assert_false(pl_isset(&u.user));
		assert_true(sip_uri_eq(&u, &u));
		free(blk);
	}
}


static void test_uri_decode_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid_uris) / sizeof(*invalid_uris); i++) {
		struct sip_uri u;
		char *blk;
		int err;

		memset(&u, 0xa5, sizeof(u));
		err = decode_str(&u, invalid_uris[i], &blk);
		if (err != EBADMSG)
			fail_msg("\"%s\": err %d, want EBADMSG",
				 invalid_uris[i], err);
		/* untouched on failure */
		assert_int_equal(((unsigned char *)&u)[0], 0xa5);
		free(blk);
	}
}


/* NUL octets are not URI characters: they must not end the input early */
static void test_uri_decode_nul(void **state)
{
	static const char in1[] = "sip:user\0@host";
	static const char in2[] = "sip:user@host\0";
	static const char in3[] = "sip:user@host;a=\0";
	static const char in4[] = "x:ab\0c";
	const struct {
		const char *p;
		size_t n;
	} cases[] = {
		{ in1, sizeof(in1) - 1 },
		{ in2, sizeof(in2) - 1 },
		{ in3, sizeof(in3) - 1 },
		{ in4, sizeof(in4) - 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sip_uri u;
		struct pl pl;
		char *blk = tail_copy(cases[i].p, cases[i].n, &pl);

		assert_int_equal(sip_uri_decode(&u, &pl), EBADMSG);
		free(blk);
	}
}


/* Every prefix of a long URI decodes or fails without reading past its
 * end (ASan watches), and the prefixes that must fail do. */
static void test_uri_decode_prefixes(void **state)
{
	static const char *const full[] = {
		"sips:a%41:pw@[2001:db8::1.2.3.4]:5061;transport=tls;lr"
		"?h=%41&x=y",
		"sip:user;par=u%40example.net@example.com:5060;maddr=1.2.3.4",
		"tel:863-1234;phone-context=+1-914-555;ext=12;isub=a%20",
		"soap.beep://192.0.2.103:3002/%41",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(full) / sizeof(*full); i++) {
		size_t len = strlen(full[i]);

		for (n = 0; n <= len; n++) {
			struct sip_uri u;
			struct pl pl;
			char *blk = tail_copy(full[i], n, &pl);
			int err = sip_uri_decode(&u, &pl);

			assert_true(err == 0 || err == EBADMSG);
			if (n == len)
				assert_int_equal(err, 0);
			if (!err)
				assert_true(sip_uri_eq(&u, &u));
			free(blk);
		}
	}
}


static void test_uri_decode_args(void **state)
{
	struct sip_uri u;
	struct pl pl = { NULL, 3 };

	(void)state;
	assert_int_equal(sip_uri_decode(NULL, &pl), EINVAL);
	assert_int_equal(sip_uri_decode(&u, NULL), EINVAL);
	assert_int_equal(sip_uri_decode(&u, &pl), EINVAL);
	pl.l = 0;
	assert_int_equal(sip_uri_decode(&u, &pl), EBADMSG);
}


struct eq_case {
	const char *a;
	const char *b;
	bool eq;
};

static const struct eq_case eq_cases[] = {
	/* RFC 3261 19.1.4: equivalent */
	{ "sip:%61lice@atlanta.com;transport=TCP",
	  "sip:alice@AtLanTa.CoM;Transport=tcp", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true },
	{ "sip:carol@chicago.com;newparam=5",
	  "sip:carol@chicago.com;security=on", true },
	{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi."
	  "com",
	  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi."
	  "com",
	  true },
	{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	  "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true },
	/* RFC 3261 19.1.4: not equivalent */
	{ "SIP:ALICE@AtLanTa.CoM;Transport=udp",
	  "sip:alice@AtLanTa.CoM;Transport=UDP", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp",
	  false },
	{ "sip:carol@chicago.com",
	  "sip:carol@chicago.com?Subject=next%20meeting", false },
	{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false },
	/* the rules one by one */
	{ "sip:alice@atlanta.com", "sips:alice@atlanta.com", false },
	{ "sip:atlanta.com", "sip:alice@atlanta.com", false },
	{ "sip:alice@atlanta.com", "sip:alice:pw@atlanta.com", false },
	{ "sip:alice:@atlanta.com", "sip:alice@atlanta.com", false },
	{ "sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com", false },
	{ "sip:alice:p%77@atlanta.com", "sip:alice:pw@atlanta.com", true },
	{ "sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com", false },
	{ "sip:alice@atlanta.com;ttl=1", "sip:alice@atlanta.com", false },
	{ "sip:alice@atlanta.com;method=INVITE", "sip:alice@atlanta.com",
	  false },
	{ "sip:alice@atlanta.com;maddr=1.2.3.4", "sip:alice@atlanta.com",
	  false },
	{ "sip:alice@atlanta.com;maddr=1.2.3.4",
	  "sip:alice@atlanta.com;MADDR=1.2.3.4", true },
	{ "sip:alice@atlanta.com;user=ip", "sip:alice@atlanta.com;user=phone",
	  false },
	{ "sip:alice@atlanta.com;lr", "sip:alice@atlanta.com", true },
	{ "sip:alice@atlanta.com;lr", "sip:alice@atlanta.com;lr=on", false },
	{ "sip:alice@atlanta.com;foo=1", "sip:alice@atlanta.com;foo=2", false },
	{ "sip:alice@atlanta.com;foo=ABC", "sip:alice@atlanta.com;FOO=abc",
	  true },
	{ "sip:alice@atlanta.com;foo=%41", "sip:alice@atlanta.com;foo=a",
	  true },
	{ "sip:a;b@h", "sip:a%3Bb@h", false },
	{ "sip:a%41@h", "sip:aA@h", true },
	{ "sip:a%41@h", "sip:aa@h", false },
	{ "sip:null-%00-null@h", "sip:null-%00-nulL@h", false },
	{ "sip:null-%00-null@h", "sip:null-%00-null@h", true },
	{ "sip:%00@h", "sip:%00%00@h", false },
	{ "sip:[2001:db8::1]", "sip:[2001:DB8:0::1]", true },
	{ "sip:[2001:db8::1]", "sip:[2001:db8::2]", false },
	{ "sip:[::ffff:192.0.2.1]", "sip:[::FFFF:c000:201]", true },
	{ "sip:[::1]", "sip:127.0.0.1", false },
	{ "sip:a@h:5060", "sip:a@h:05060", true },
	{ "sip:a@h:5060", "sip:a@h:5061", false },
	{ "sip:a@h?x=1", "sip:a@h?x=1&y=2", false },
	{ "sip:a@h?x=1&x=1", "sip:a@h?x=1", true },
	{ "sip:a@h?X=abc", "sip:a@h?x=ABC", true },
	{ "sip:a@h?x=%2F", "sip:a@h?x=/", false },
	{ "sip:a@h;transport=tcp;transport=udp",
	  "sip:a@h;transport=tcp;transport=udp", true },
	{ "sip:a@h;x=1;x=2", "sip:a@h;x=1;x=2", true },
	{ "sip:a@h", "tel:+1", false },
	/* RFC 3966 4 */
	{ "tel:+1-201-555-0123", "tel:+12015550123", true },
	{ "tel:+1-201-555-0123", "tel:+1-201-555-0124", false },
	{ "tel:+1-201-555-0123", "tel:+1-201-555-012", false },
	{ "tel:7042;phone-context=example.com",
	  "tel:7042;phone-context=EXAMPLE.com", true },
	{ "tel:7042;phone-context=example.com", "tel:+7042", false },
	{ "tel:7042;phone-context=example.com",
	  "tel:7042;phone-context=example.net", false },
	{ "tel:863-1234;phone-context=+1-914-555",
	  "tel:8631234;phone-context=+1914555", true },
	{ "tel:ab;phone-context=+1", "tel:AB;phone-context=+1", true },
	{ "tel:+1234;ext=12", "tel:+1234", false },
	{ "tel:+1234;ext=1-2", "tel:+1234;ext=12", true },
	{ "tel:+1234;a=b;c=d", "tel:+1234;c=d;a=B", true },
	{ "tel:+1234;a=b", "tel:+1234;a=c", false },
	{ "tel:+1;ext=1;ext=2", "tel:+1;ext=1;ext=2", true },
	{ "tel:+1;ext=1;ext=2", "tel:+1;ext=2;ext=1", false },
	/* other schemes */
	{ "x:abc", "X:abc", true },
	{ "x:abc", "x:abd", false },
	{ "x:abc", "y:abc", false },
	{ "urn:a%41", "urn:aA", true },
};


static void test_uri_eq(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eq_cases) / sizeof(*eq_cases); i++) {
		const struct eq_case *c = &eq_cases[i];
		struct sip_uri a, b;
		char *ba, *bb;

		if (decode_str(&a, c->a, &ba))
			fail_msg("decode %s", c->a);
		if (decode_str(&b, c->b, &bb))
			fail_msg("decode %s", c->b);
		if (sip_uri_eq(&a, &b) != c->eq || sip_uri_eq(&b, &a) != c->eq)
			fail_msg("%s vs %s: want %s", c->a, c->b,
				 c->eq ? "equal" : "different");
		assert_true(sip_uri_eq(&a, &a));
		assert_true(sip_uri_eq(&b, &b));
		free(ba);
		free(bb);
	}
	assert_false(sip_uri_eq(NULL, NULL));
}


static void test_uri_port(void **state)
{
	static const struct {
		const char *in;
		uint16_t port;
	} cases[] = {
		{ "sip:a@h", 5060 },
		{ "sips:a@h", 5061 },
		{ "sip:a@h:5070", 5070 },
		{ "sips:a@h:5070", 5070 },
		{ "sip:a@h:0", 0 },
		{ "sip:a@h;transport=TLS", 5061 },
		{ "sip:a@h;transport=tcp", 5060 },
		{ "sip:[::1]:1", 1 },
		{ "tel:+1", 0 },
		{ "x:y", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sip_uri u;
		char *blk;

		assert_int_equal(decode_str(&u, cases[i].in, &blk), 0);
		assert_int_equal(sip_uri_port(&u), cases[i].port);
		free(blk);
	}
	assert_int_equal(sip_uri_port(NULL), 0);
}


struct param_case {
	const char *list;
	const char *name;
	int err;
	const char *val; /* NULL: a flag */
};

static const struct param_case param_cases[] = {
	{ ";transport=udp;lr", "transport", 0, "udp" },
	{ ";transport=udp;lr", "TRANSPORT", 0, "udp" },
	{ ";transport=udp;lr", "lr", 0, NULL },
	{ ";transport=udp;lr", "l", ENOENT, NULL },
	{ ";transport=udp;lr", "lrx", ENOENT, NULL },
	{ ";transport=udp;lr", "udp", ENOENT, NULL },
	{ ";   tag    = 1918181833n", "tag", 0, "1918181833n" },
	{ ";\r\n  tag = 98asjd8", "tag", 0, "98asjd8" },
	{ " ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33",
	  "newparam", 0, "newvalue" },
	{ " ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33",
	  "secondparam", 0, NULL },
	{ " ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33", "q",
	  0, "0.33" },
	{ ";+sip.instance=\"<urn:uuid:1;expires=2>\";expires=60", "expires", 0,
	  "60" },
	{ ";+sip.instance=\"<urn:uuid:1;expires=2>\";expires=60",
	  "+sip.instance", 0, "\"<urn:uuid:1;expires=2>\"" },
	{ ";a=\"x\\\";y=1\";y=2", "y", 0, "2" },
	{ ";a=\"x\\\\\";y=2", "y", 0, "2" },
	{ ";a=\"x\\\\\";y=2", "a", 0, "\"x\\\\\"" },
	{ ";a=\"\\\\\\\";y=1\";y=2", "y", 0, "2" },
	{ ";;a=1", "a", 0, "1" },
	{ "a=1;b=2", "a", 0, "1" },
	{ "a=1;b=2", "b", 0, "2" },
	{ ";a=1;a=2", "a", 0, "1" },
	{ ";received=[2001:db8::1];rport", "received", 0, "[2001:db8::1]" },
	{ ";received=2001:db8::1;rport", "received", 0, "2001:db8::1" },
	{ ";x=\"unterminated;y=1", "y", ENOENT, NULL },
	{ "", "a", ENOENT, NULL },
	{ ";", "a", ENOENT, NULL },
	{ ";=1;a", "a", 0, NULL },
};


static void test_param_get(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(param_cases) / sizeof(*param_cases); i++) {
		const struct param_case *c = &param_cases[i];
		struct pl pl, v;
		char *blk = tail_copy(c->list, strlen(c->list), &pl);
		int err;

		v.p = "sentinel";
		v.l = 8;
		err = sip_param_get(&pl, c->name, &v);
		if (err != c->err)
			fail_msg("%s in \"%s\": err %d want %d", c->name,
				 c->list, err, c->err);
		assert_int_equal(sip_param_exists(&pl, c->name), !c->err);
		if (!err) {
			if (c->val)
				assert_pl(&v, c->val);
			else
				assert_int_equal(v.l, 0);
		}
		free(blk);
	}
	assert_int_equal(sip_param_get(NULL, "a", NULL), EINVAL);
	assert_false(sip_param_exists(NULL, "a"));
}


static void test_param_next(void **state)
{
	static const char list[] =
		" ; a = 1 ;\r\n b ; c=\"x;y\" ;;d=[::1];E=%41 ";
	static const char *const want[][2] = {
		{ "a", "1" },     { "b", "" },    { "c", "\"x;y\"" },
		{ "d", "[::1]" }, { "E", "%41" },
	};
	struct pl rest, n, v;
	char *blk = tail_copy(list, sizeof(list) - 1, &rest);
	size_t i = 0;

	(void)state;
	while (sip_param_next(&rest, &n, &v)) {
		assert_true(i < sizeof(want) / sizeof(*want));
		assert_pl(&n, want[i][0]);
		assert_int_equal(v.l, strlen(want[i][1]));
		if (v.l)
			assert_memory_equal(v.p, want[i][1], v.l);
		i++;
	}
	assert_int_equal(i, sizeof(want) / sizeof(*want));
	assert_false(sip_param_next(&rest, &n, &v));
	free(blk);
}


static void test_params_check(void **state)
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
		{ "", 0 },
		{ "  ", 0 },
		{ ";a", 0 },
		{ ";a=b;c", 0 },
		{ " ;  a  =  b  ;\r\n c ", 0 },
		{ ";a=\"q;\\\"\"", 0 },
		{ ";maddr=[2001:db8::1]", 0 },
		{ ";received=2001:db8::9:255", 0 },
		{ ";a=1.2.3.4", 0 },
		{ ";", EBADMSG },
		{ ";;", EBADMSG },
		{ ";a;", EBADMSG },
		{ ";=b", EBADMSG },
		{ ";a=", EBADMSG },
		{ ";a=b c", EBADMSG },
		{ "a=b", EBADMSG },
		{ ";a=\"x", EBADMSG },
		{ ";a=[::1", EBADMSG },
		{ ";a=[xyz]", EBADMSG },
		{ ";a=b:c", EBADMSG },
		{ ";a=<b>", EBADMSG },
		{ ";a@b", EBADMSG },
		{ ";a=b,c", EBADMSG },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct pl pl;
		char *blk = tail_copy(cases[i].in, strlen(cases[i].in), &pl);

		if (sip_params_check(&pl) != cases[i].err)
			fail_msg("\"%s\": want %d", cases[i].in, cases[i].err);
		free(blk);
	}
}


struct walk_state {
	unsigned n;
	unsigned stop_at; /* return ENOENT at this call (1-based), 0: never */
	char names[8][16];
	char vals[8][16];
	bool flag[8];
};


static int walk_h(const struct pl *name, const struct pl *val, void *arg)
{
	struct walk_state *ws = arg;
	unsigned i = ws->n++;

	if (ws->stop_at && ws->n == ws->stop_at)
		return ENOENT;
	if (i >= 8)
		return E2BIG;
	assert_int_equal(pl_strcpy(name, ws->names[i], 16), 0);
	ws->flag[i] = !val->p;
	if (val->p)
		assert_int_equal(pl_strcpy(val, ws->vals[i], 16), 0);
	return 0;
}


static void test_params_walk(void **state)
{
	static const char list[] = " ; a = 1 ;\r\n b;c=\"x;y\";d=[::1] ";
	struct walk_state ws;
	struct pl pl;
	char *blk = tail_copy(list, sizeof(list) - 1, &pl);

	(void)state;
	memset(&ws, 0, sizeof(ws));
	assert_int_equal(sip_params_walk(&pl, walk_h, &ws), 0);
	assert_int_equal(ws.n, 4);
	assert_string_equal(ws.names[0], "a");
	assert_string_equal(ws.vals[0], "1");
	assert_false(ws.flag[0]);
	assert_string_equal(ws.names[1], "b");
	assert_true(ws.flag[1]);
	assert_string_equal(ws.names[2], "c");
	assert_string_equal(ws.vals[2], "\"x;y\"");
	assert_string_equal(ws.names[3], "d");
	assert_string_equal(ws.vals[3], "[::1]");

	/* the handler's error ends the walk */
	memset(&ws, 0, sizeof(ws));
	ws.stop_at = 2;
	assert_int_equal(sip_params_walk(&pl, walk_h, &ws), ENOENT);
	assert_int_equal(ws.n, 2);

	/* without a handler it only validates */
	assert_int_equal(sip_params_walk(&pl, NULL, NULL), 0);
	assert_int_equal(sip_params_walk(NULL, NULL, NULL), EINVAL);
	free(blk);

	/* malformed after two good ones: the handler saw them, then EBADMSG */
	blk = tail_copy(";a;b=2;;c", 9, &pl);
	memset(&ws, 0, sizeof(ws));
	assert_int_equal(sip_params_walk(&pl, walk_h, &ws), EBADMSG);
	assert_int_equal(ws.n, 2);
	free(blk);
}


static void test_unescape(void **state)
{
	static const struct {
		const char *in;
		int err;
		const char *out;
		size_t outlen;
	} cases[] = {
		{ "a%20b", 0, "a b", 3 },
		{ "%41%6c%49", 0, "AlI", 3 },
		{ "null-%00-null", 0, "null-\0-null", 11 },
		{ "", 0, "", 0 },
		{ "100%", EBADMSG, NULL, 0 },
		{ "%4", EBADMSG, NULL, 0 },
		{ "%zz", EBADMSG, NULL, 0 },
		{ "%4g", EBADMSG, NULL, 0 },
	};
	char out[32];
	size_t i, n;
	struct pl pl;
	char *blk;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		blk = tail_copy(cases[i].in, strlen(cases[i].in), &pl);
		n = 99;
		assert_int_equal(sip_unescape(&pl, out, sizeof(out), &n),
				 cases[i].err);
		if (!cases[i].err) {
			assert_int_equal(n, cases[i].outlen);
			assert_memory_equal(out, cases[i].out, n);
			assert_int_equal(out[n], '\0');
		}
		free(blk);
	}

	/* room for the NUL is required */
	blk = tail_copy("a%41c", 5, &pl);
	assert_int_equal(sip_unescape(&pl, out, 3, &n), ENOSPC);
	assert_int_equal(sip_unescape(&pl, out, 4, &n), 0);
	assert_string_equal(out, "aAc");
	assert_int_equal(sip_unescape(&pl, NULL, 4, &n), EINVAL);
	free(blk);
}


static void test_unescaped_eq(void **state)
{
	static const struct {
		const char *a, *b;
		bool ci, eq;
	} cases[] = {
		{ "alice", "%61lice", false, true },
		{ "alice", "%61LICE", false, false },
		{ "alice", "%61LICE", true, true },
		{ "%4A", "%4a", false, true },
		{ "a;b", "a%3Bb", false,
		  false }, /* reserved: escaped differs */
		{ "a%3bb", "a%3Bb", false, true },
		{ "a b", "a%20b", false, true },
		{ "a", "a%", false, false },
		{ "a%", "a%", false, true },
		{ "", "", false, true },
		{ "", "a", false, false },
		{ "%00", "", false, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct pl a, b;
		char *ba = tail_copy(cases[i].a, strlen(cases[i].a), &a);
		char *bb = tail_copy(cases[i].b, strlen(cases[i].b), &b);

		if (sip_unescaped_eq(&a, &b, cases[i].ci) != cases[i].eq ||
		    sip_unescaped_eq(&b, &a, cases[i].ci) != cases[i].eq)
			fail_msg("\"%s\" vs \"%s\"", cases[i].a, cases[i].b);
		free(ba);
		free(bb);
	}
}


static void test_host_port(void **state)
{
	static const struct {
		const char *in;
		int err;
		enum sip_host_type t;
	} hosts[] = {
		{ "example.com", 0, SIP_HOST_NAME },
		{ "a", 0, SIP_HOST_NAME },
		{ "x-1.y", 0, SIP_HOST_NAME },
		{ "0.0.0.0", 0, SIP_HOST_IPV4 },
		{ "255.255.255.255", 0, SIP_HOST_IPV4 },
		{ "[::1]", 0, SIP_HOST_IPV6 },
		{ "[2001:db8:0:0:0:0:2:1]", 0, SIP_HOST_IPV6 },
		{ "", EBADMSG, 0 },
		{ "[::1", EBADMSG, 0 },
		{ "::1", EBADMSG, 0 },
		{ "1.2.3.256", EBADMSG, 0 },
		{ "1.2.3.", EBADMSG, 0 },
		{ "-a", EBADMSG, 0 },
		{ "a b", EBADMSG, 0 },
		{ "9", EBADMSG, 0 },
		/* hostname = *( domainlabel "." ) toplabel [ "." ]: labels
		 * are not empty and neither start nor end with '-'; the
		 * toplabel starts with a letter */
		{ "a.", 0, SIP_HOST_NAME },
		{ "a.b-c.D9", 0, SIP_HOST_NAME },
		{ "x--y.example", 0, SIP_HOST_NAME },
		{ "9a.example", 0, SIP_HOST_NAME },
		{ ".", EBADMSG, 0 },
		{ "a..", EBADMSG, 0 },
		{ "a..b", EBADMSG, 0 },
		{ ".a", EBADMSG, 0 },
		{ "a-", EBADMSG, 0 },
		{ "a-.b", EBADMSG, 0 },
		{ "a.-b", EBADMSG, 0 },
		{ "a.b-", EBADMSG, 0 },
		{ "a.b-.", EBADMSG, 0 },
		{ "a.9b", EBADMSG, 0 },
		{ "a_b.example", EBADMSG, 0 },
		/* IPv4address = 1*3DIGIT "." x4, each at most 255 */
		{ "127.000.0.001", 0, SIP_HOST_IPV4 },
		{ "1.2.3.0004", EBADMSG, 0 },
		{ "1.2.3.4.5", EBADMSG, 0 },
		{ "1..2.3", EBADMSG, 0 },
		{ "1.2.3", EBADMSG, 0 },
		{ "256.1.1.1", EBADMSG, 0 },
		{ "1.2.3.4a", EBADMSG, 0 },
	};
	static const struct {
		const char *in;
		int err;
		uint16_t port;
	} ports[] = {
		{ "0", 0, 0 },           { "5060", 0, 5060 },
		{ "65535", 0, 65535 },   { "0000065535", 0, 65535 },
		{ "65536", EBADMSG, 0 }, { "", EBADMSG, 0 },
		{ "1a", EBADMSG, 0 },    { "+1", EBADMSG, 0 },
		{ " 1", EBADMSG, 0 },
	};
	uint8_t b[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(*hosts); i++) {
		struct pl pl;
		char *blk = tail_copy(hosts[i].in, strlen(hosts[i].in), &pl);
		enum sip_host_type t;

		if (sip_host_check(&pl, &t) != hosts[i].err)
			fail_msg("host \"%s\"", hosts[i].in);
		if (!hosts[i].err)
			assert_int_equal(t, hosts[i].t);
		free(blk);
	}
	for (i = 0; i < sizeof(ports) / sizeof(*ports); i++) {
		struct pl pl;
		char *blk = tail_copy(ports[i].in, strlen(ports[i].in), &pl);
		uint16_t port = 7;

		if (sip_port_decode(&pl, &port) != ports[i].err)
			fail_msg("port \"%s\"", ports[i].in);
		if (!ports[i].err)
			assert_int_equal(port, ports[i].port);
		free(blk);
	}

	assert_int_equal(sip_ipv6_decode("2001:db8::1", 11, b), 0);
	assert_int_equal(b[0], 0x20);
	assert_int_equal(b[1], 0x01);
	assert_int_equal(b[2], 0x0d);
	assert_int_equal(b[3], 0xb8);
	assert_int_equal(b[14], 0);
	assert_int_equal(b[15], 1);
	assert_int_equal(sip_ipv6_decode("::ffff:192.0.2.1", 16, b), 0);
	assert_int_equal(b[10], 0xff);
	assert_int_equal(b[12], 192);
	assert_int_equal(b[15], 1);
	assert_int_equal(sip_ipv4_decode("10.0.0.1", 8, b), 0);
	assert_int_equal(b[0], 10);
	assert_int_equal(b[3], 1);
}


/* sip_host_scan(): the host is the run of hostname octets at the start,
 * classified and checked in the same pass; what follows is not its
 * business.  The input ends exactly where the text does (tail_copy), so
 * a scan that reads past it is caught by ASan. */
static void test_host_scan(void **state)
{
	static const struct {
		const char *in;
		int end; /* -1: NULL */
		enum sip_host_type t;
	} cases[] = {
		{ "example.com", 11, SIP_HOST_NAME },
		{ "example.com:5060", 11, SIP_HOST_NAME },
		{ "example.com.;lr", 12, SIP_HOST_NAME },
		{ "a>", 1, SIP_HOST_NAME },
		{ "10.0.0.1", 8, SIP_HOST_IPV4 },
		{ "10.0.0.1:5060", 8, SIP_HOST_IPV4 },
		{ "10.0.0.1;transport=udp", 8, SIP_HOST_IPV4 },
		/* the run goes on after an address: a hostname, or nothing */
		{ "1.2.3.4.example.com", 19, SIP_HOST_NAME },
		{ "1.2.3.4.", -1, 0 },
		{ "1.2.3.4-5", -1, 0 },
		{ "1.2.3.45678", -1, 0 },
		{ "1.2.3.4x.com", 12, SIP_HOST_NAME },
		{ "[2001:db8::1]:5060", 13, SIP_HOST_IPV6 },
		{ "[2001:db8::1", -1, 0 },
		{ "[1.2.3.4]", -1, 0 },
		{ "a..b", -1, 0 },
		{ "a.-b:1", -1, 0 },
		{ "a-:1", -1, 0 },
		{ "a-", -1, 0 },
		{ "-a", -1, 0 },
		{ ".a", -1, 0 },
		{ ":5060", -1, 0 },
		{ "", -1, 0 },
		/* a host scanned before, then longer runs that start with
		 * it (the scanner remembers the last name and address) */
		{ "example.com", 11, SIP_HOST_NAME },
		{ "example.com-", -1, 0 },
		{ "example.com.", 12, SIP_HOST_NAME },
		{ "example.com..", -1, 0 },
		{ "example.comx;lr", 12, SIP_HOST_NAME },
		{ "example.com;lr", 11, SIP_HOST_NAME },
		{ "10.0.0.1", 8, SIP_HOST_IPV4 },
		{ "10.0.0.1.", -1, 0 },
		{ "10.0.0.1.5", -1, 0 },
		{ "10.0.0.10", 9, SIP_HOST_IPV4 },
		{ "10.0.0.1", 8, SIP_HOST_IPV4 },
		{ "10.0.0.1:5060", 8, SIP_HOST_IPV4 },
		{ "10.0.0", -1, 0 },
		{ "example.co", 10, SIP_HOST_NAME },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct pl pl;
		char *blk = tail_copy(cases[i].in, strlen(cases[i].in), &pl);
		enum sip_host_type t = SIP_HOST_IPV6 + 1;
		uint8_t ip4[4] = { 0 };
		const char *e = sip_host_scan(pl.p, pl.p + pl.l, &t, ip4);

		if (cases[i].end < 0
			    ? e != NULL
			    : e != pl.p + cases[i].end || t != cases[i].t)
			fail_msg("host scan \"%s\"", cases[i].in);
		if (e && t == SIP_HOST_IPV4 && !strncmp(pl.p, "10.0.0.1", 8))
			assert_memory_equal(ip4,
					    e - pl.p == 8 ? "\x0a\x00\x00\x01"
							  : "\x0a\x00\x00\x0a",
					    4);
		free(blk);
	}
}


/* sip_uri_move(): the views of a decoded URI moved onto a copy of its
 * text are what decoding the copy gives. */
static void test_uri_move(void **state)
{
	static const char *const uris[] = {
		"sip:alice:secret@[2001:db8::1]:5061;transport=tls;lr?h=v",
		"sips:bob@example.com",
		"sip:10.0.0.1",
		"tel:+1-201-555-0123;ext=1",
		"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uris) / sizeof(*uris); i++) {
		struct sip_uri u, moved, want;
		struct pl pl, cp;
		char *blk = tail_copy(uris[i], strlen(uris[i]), &pl);
		char *copy = tail_copy(uris[i], strlen(uris[i]), &cp);

		assert_int_equal(sip_uri_decode(&u, &pl), 0);
		assert_int_equal(sip_uri_decode(&want, &cp), 0);
		sip_uri_move(&moved, &u, copy);
		assert_memory_equal(&moved, &want, sizeof(want));
		assert_true(sip_uri_eq(&moved, &u));
		free(blk);
		free(copy);
	}
}


static void test_qstr_end(void **state)
{
	static const struct {
		const char *in;
		int end; /* -1: NULL */
	} cases[] = {
		{ "\"\"", 2 },
		{ "\"abc\" x", 5 },
		{ "\"a\\\"b\"", 6 },
		{ "\"a\\\\\"", 5 },
		{ "\"J\xc3\xb6rg\"", 7 },
		{ "\"a\r\n b\"", 7 },
		{ "\"abc", -1 },
		{ "\"a\\\"", -1 },
		{ "\"a\\", -1 },
		{ "\"a\x01\"", -1 },
		{ "\"a\\\n\"", -1 },
		{ "abc", -1 },
		{ "", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct pl pl;
		char *blk = tail_copy(cases[i].in, strlen(cases[i].in), &pl);
		const char *r = sip_qstr_end(pl.p, pl.p + pl.l);

		if (cases[i].end < 0)
			assert_null(r);
		else
			assert_ptr_equal(r, pl.p + cases[i].end);
		free(blk);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uri_decode_valid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_decode_other, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_decode_invalid,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_decode_nul, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_decode_prefixes,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_decode_args, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_eq, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_port, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_param_get, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_param_next, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_params_check, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_params_walk, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_unescape, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_unescaped_eq, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_host_port, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_host_scan, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_uri_move, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_qstr_end, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_uri", tests, NULL, NULL);
}
