/**
 * @file test_sip_addr.c  name-addr / addr-spec and Contact values (RFC 3261
 * 20.10, 25.1; RFC 4475 torture cases).
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

#include "core/mem.h"
#include "core/pl.h"
#include "sip/addr.h"

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


/* want NULL: the pl is not set */
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


struct addr_case {
	const char *in;
	const char *dname;
	const char *auri;
	const char *params;
	const char *tag;
	bool angle;
	enum sip_scheme sch;
	const char *host;     /* of the URI */
	const char *uparams;  /* URI parameters */
	const char *uheaders; /* URI headers */
};

static const struct addr_case valid[] = {
	{ "\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf", "\"Bob\"",
	  "sip:bob@biloxi.com", ";tag=a6c85cf", "a6c85cf", true, SIP_SCHEME_SIP,
	  "biloxi.com", NULL, NULL },
	{ "Bob <sip:bob@biloxi.com>", "Bob", "sip:bob@biloxi.com", NULL, NULL,
	  true, SIP_SCHEME_SIP, "biloxi.com", NULL, NULL },
	{ "Bob  Smith \t <sip:bob@biloxi.com>", "Bob  Smith",
	  "sip:bob@biloxi.com", NULL, NULL, true, SIP_SCHEME_SIP, "biloxi.com",
	  NULL, NULL },
	{ "Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", "Anonymous",
	  "sip:c8oqz84zk7z@privacy.org", ";tag=hyh8", "hyh8", true,
	  SIP_SCHEME_SIP, "privacy.org", NULL, NULL },
	/* RFC 4475 lwsdisp */
	{ "caller<sip:caller@example.com>;tag=323", "caller",
	  "sip:caller@example.com", ";tag=323", "323", true, SIP_SCHEME_SIP,
	  "example.com", NULL, NULL },
	{ "<sip:carol@chicago.com>", NULL, "sip:carol@chicago.com", NULL, NULL,
	  true, SIP_SCHEME_SIP, "chicago.com", NULL, NULL },
	{ "  <sip:carol@chicago.com>  ", NULL, "sip:carol@chicago.com", NULL,
	  NULL, true, SIP_SCHEME_SIP, "chicago.com", NULL, NULL },
	/* addr-spec: the parameters belong to the header (RFC 3261 20.10) */
	{ "sip:bob@biloxi.com;tag=1", NULL, "sip:bob@biloxi.com", ";tag=1", "1",
	  false, SIP_SCHEME_SIP, "biloxi.com", NULL, NULL },
	/* RFC 4475 wsinv To, From, Contact */
	{ "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", NULL,
	  "sip:vivekg@chair-dnrc.example.com", ";   tag    = 1918181833n",
	  "1918181833n", false, SIP_SCHEME_SIP, "chair-dnrc.example.com", NULL,
	  NULL },
	{ "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n"
	  "  tag = 98asjd8",
	  "\"J Rosenberg \\\\\\\"\"", "sip:jdrosen@example.com",
	  ";\r\n  tag = 98asjd8", "98asjd8", true, SIP_SCHEME_SIP,
	  "example.com", NULL, NULL },
	{ "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam "
	  "=\r\n"
	  "      newvalue ;\r\n  secondparam ; q = 0.33",
	  "\"Quoted string \\\"\\\"\"", "sip:jdrosen@example.com",
	  "; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33", NULL,
	  true, SIP_SCHEME_SIP, "example.com", NULL, NULL },
	/* RFC 4475 unksm2, unkscm */
	{ "isbn:2983792873", NULL, "isbn:2983792873", NULL, NULL, false,
	  SIP_SCHEME_OTHER, NULL, NULL, NULL },
	{ "<http://www.example.com>;tag=3234233", NULL,
	  "http://www.example.com", ";tag=3234233", "3234233", true,
	  SIP_SCHEME_OTHER, NULL, NULL, NULL },
	{ "<name:John_Smith>", NULL, "name:John_Smith", NULL, NULL, true,
	  SIP_SCHEME_OTHER, NULL, NULL, NULL },
	{ "<nobodyKnowsThisScheme:totallyopaquecontent>;tag=384", NULL,
	  "nobodyKnowsThisScheme:totallyopaquecontent", ";tag=384", "384", true,
	  SIP_SCHEME_OTHER, NULL, NULL, NULL },
	/* RFC 4475 esc02: % in a quoted display name is no escape */
	{ "\"%Z%45\" <sip:resource@example.com>", "\"%Z%45\"",
	  "sip:resource@example.com", NULL, NULL, true, SIP_SCHEME_SIP,
	  "example.com", NULL, NULL },
	/* RFC 4475 esc01, escnull */
	{ "<sip:I%20have%20spaces@example.net>;tag=938", NULL,
	  "sip:I%20have%20spaces@example.net", ";tag=938", "938", true,
	  SIP_SCHEME_SIP, "example.net", NULL, NULL },
	{ "sip:null-%00-null@example.com", NULL,
	  "sip:null-%00-null@example.com", NULL, NULL, false, SIP_SCHEME_SIP,
	  "example.com", NULL, NULL },
	/* RFC 4475 regescrt, and regbadct decoded for the registrar to
	 * refuse (headers in an addr-spec without <>) */
	{ "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", NULL,
	  "sip:user@example.com?Route=%3Csip:sip.example.com%3E", NULL, NULL,
	  true, SIP_SCHEME_SIP, "example.com", NULL,
	  "Route=%3Csip:sip.example.com%3E" },
	{ "sip:user@example.com?Route=%3Csip:sip.example.com%3E", NULL,
	  "sip:user@example.com?Route=%3Csip:sip.example.com%3E", NULL, NULL,
	  false, SIP_SCHEME_SIP, "example.com", NULL,
	  "Route=%3Csip:sip.example.com%3E" },
	/* RFC 4475 cparam01 / cparam02 */
	{ "sip:+19725552222@gw1.example.net;unknownparam", NULL,
	  "sip:+19725552222@gw1.example.net", ";unknownparam", NULL, false,
	  SIP_SCHEME_SIP, "gw1.example.net", NULL, NULL },
	{ "<sip:+19725552222@gw1.example.net;unknownparam>", NULL,
	  "sip:+19725552222@gw1.example.net;unknownparam", NULL, NULL, true,
	  SIP_SCHEME_SIP, "gw1.example.net", ";unknownparam", NULL },
	/* RFC 4475 intmeth */
	{ "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
	  "weird!*pas$wo~d_too.(doesn't-it)@example.com>",
	  NULL,
	  "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
	  "weird!*pas$wo~d_too.(doesn't-it)@example.com",
	  NULL, NULL, true, SIP_SCHEME_SIP, "example.com", NULL, NULL },
	{ "\"\" <sip:a@b>", "\"\"", "sip:a@b", NULL, NULL, true, SIP_SCHEME_SIP,
	  "b", NULL, NULL },
	{ "<sip:a@b>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
	  "000A95A0E128>\";expires=3600",
	  NULL, "sip:a@b",
	  ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";"
	  "expires=3600",
	  NULL, true, SIP_SCHEME_SIP, "b", NULL, NULL },
	{ "<tel:+1-201-555-0123>", NULL, "tel:+1-201-555-0123", NULL, NULL,
	  true, SIP_SCHEME_TEL, NULL, NULL, NULL },
	{ "tel:+1-201-555-0123;tag=x", NULL, "tel:+1-201-555-0123", ";tag=x",
	  "x", false, SIP_SCHEME_TEL, NULL, NULL, NULL },
	{ "\"Mr. Watson\" "
	  "<sip:watson@bell-telephone.com>;tag=1;x=[2001:db8::1]",
	  "\"Mr. Watson\"", "sip:watson@bell-telephone.com",
	  ";tag=1;x=[2001:db8::1]", "1", true, SIP_SCHEME_SIP,
	  "bell-telephone.com", NULL, NULL },
	{ "<sip:[2001:db8::10]:5070;lr>", NULL, "sip:[2001:db8::10]:5070;lr",
	  NULL, NULL, true, SIP_SCHEME_SIP, "[2001:db8::10]", ";lr", NULL },
	{ "\"J\xc3\xb6rg\" <sip:j@x.org>", "\"J\xc3\xb6rg\"", "sip:j@x.org",
	  NULL, NULL, true, SIP_SCHEME_SIP, "x.org", NULL, NULL },
	{ "Bob<sip:b@c>;TAG=Ab.9", "Bob", "sip:b@c", ";TAG=Ab.9", "Ab.9", true,
	  SIP_SCHEME_SIP, "c", NULL, NULL },
};

static const char *const invalid[] = {
	"",
	"   ",
	/* RFC 4475 quotbal, baddn, badaspec, badinv01 */
	"\"Mr. J. User <sip:j.user@example.com>",
	"Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43",
	"\"Watson, Thomas\" < sip:t.watson@example.org >",
	"\"Joe\" <sip:joe@example.org>;;;;",
	/* RFC 4475 ltgtruri-like and other breakage */
	"<sip:a@b",
	"sip:a@b>",
	"<sip:a@b>junk",
	"<sip:a@b> junk",
	"<sip:a@b>;",
	"<sip:a@b>;tag",
	"<sip:a@b>;tag=",
	"<sip:a@b>;tag=\"x\"",
	"<sip:a@b>;tag=a b",
	"<sip:a@b>;tag=x;=y",
	"<sip:a@b>;p=\"unterminated",
	"<sip:a@b>;p=",
	"<sip:a@b>,<sip:c@d>",
	"\"x\"<>",
	"<>",
	"\"x\"",
	"\"x\" sip:a@b",
	"Bob",
	"Bob sip:a@b",
	"Bob \"x\" <sip:a@b>",
	"Bob <sip:a@b> <sip:c@d>",
	"J\xc3\xb6rg <sip:j@x.org>",
	"Bob@home <sip:a@b>",
	"\"a\\\n\" <sip:a@b>",
	"\"a\x01\" <sip:a@b>",
	"<sip:a@b c>",
	"< sip:a@b>",
	"<sip:a@b >",
	"<sip:a@>",
	"<sip:a@b:99999>",
	"<sip:a%zz@b>",
	"<<sip:a@b>>",
	"sip:a@b c",
	"sip:a@b;tag=1 x",
	"sip:a@",
	"**",
	"*;tag=1",
	"<sip:a@b>;tag=1\"",
};


static void test_addr_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		const struct addr_case *c = &valid[i];
		struct sip_addr a;
		struct pl pl;
		char *blk = tail_copy(c->in, strlen(c->in), &pl);
		int err = sip_addr_decode(&a, &pl);

		if (err)
			fail_msg("%s: err %d", c->in, err);
		assert_pl(&a.dname, c->dname, c->in);
		assert_pl(&a.auri, c->auri, c->in);
		assert_pl(&a.params, c->params, c->in);
		assert_pl(&a.tag, c->tag, c->in);
		assert_int_equal(a.angle, c->angle);
		assert_false(a.star);
		assert_int_equal(a.uri.sch, c->sch);
		assert_pl(&a.uri.host, c->host, c->in);
		assert_pl(&a.uri.params, c->uparams, c->in);
		assert_pl(&a.uri.headers, c->uheaders, c->in);
		/* the URI text is the auri view */
		assert_ptr_equal(a.uri.text.p, a.auri.p);
		assert_int_equal(a.uri.text.l, a.auri.l);
		/* the whole value, trimmed, lies inside the input */
		assert_true(a.val.p >= pl.p &&
			    a.val.p + a.val.l <= pl.p + pl.l);
		free(blk);
	}
}


static void test_addr_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		struct sip_addr a;
		struct pl pl;
		char *blk = tail_copy(invalid[i], strlen(invalid[i]), &pl);
		int err;

		memset(&a, 0x5a, sizeof(a));
		err = sip_addr_decode(&a, &pl);
		if (err != EBADMSG)
			fail_msg("\"%s\": err %d, want EBADMSG", invalid[i],
				 err);
		assert_int_equal(((unsigned char *)&a)[0], 0x5a);
		free(blk);
	}
}


static void test_addr_star(void **state)
{
	static const char *const stars[] = { "*", " *", "* ", "\t*\r\n " };
	struct sip_addr a;
	struct pl pl;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(stars) / sizeof(*stars); i++) {
		char *blk = tail_copy(stars[i], strlen(stars[i]), &pl);

		assert_int_equal(sip_addr_decode(&a, &pl), 0);
		assert_true(a.star);
		assert_false(a.angle);
		assert_false(pl_isset(&a.auri));
		assert_int_equal(a.val.l, 1);
		free(blk);
	}

	/* '*' is a token: as a display name it is no star */
	{
		char *blk = tail_copy("* <sip:a@b>", 11, &pl);

		assert_int_equal(sip_addr_decode(&a, &pl), 0);
		assert_false(a.star);
		assert_pl(&a.dname, "*", "* <sip:a@b>");
		free(blk);
	}
	assert_int_equal(sip_addr_decode(NULL, &pl), EINVAL);
	assert_int_equal(sip_addr_decode(&a, NULL), EINVAL);
}


/* every prefix: no over-read, and only the full value (or a prefix that
 * is itself valid) decodes */
static void test_addr_prefixes(void **state)
{
	static const char *const full[] = {
		"\"J Rosenberg \\\\\\\"\"  "
		"<sip:jdrosen@example.com>;tag=98a;x=\"y\"",
		"Bob Smith<sips:bob@[2001:db8::1]:5061;lr?h=v>;tag=a;p=[::1]",
		"sip:user@host.example.com;tag=1;q=0.5",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(full) / sizeof(*full); i++) {
		size_t len = strlen(full[i]);

		for (n = 0; n <= len; n++) {
			struct sip_addr a;
			struct pl pl;
			char *blk = tail_copy(full[i], n, &pl);
			int err = sip_addr_decode(&a, &pl);

			assert_true(err == 0 || err == EBADMSG);
			if (n == len)
				assert_int_equal(err, 0);
			free(blk);
		}
	}
}


struct contact_case {
	const char *in;
	int err;
	bool star;
	bool has_expires;
	uint32_t expires;
	uint16_t q;
};

static const struct contact_case contacts[] = {
	{ "<sip:a@b>;expires=3600;q=0.7", 0, false, true, 3600, 700 },
	{ "<sip:a@b>", 0, false, false, 0, 1000 },
	{ "*", 0, true, false, 0, 1000 },
	/* regbadct-style: outside <> the params are the header's */
	{ "sip:a@b;expires=60", 0, false, true, 60, 1000 },
	{ "<sip:a@b;expires=60>", 0, false, false, 0, 1000 },
	{ "<sip:a@b;q=0.5>;q=0.25", 0, false, false, 0, 250 },
	{ "<sip:a@b>;q=1", 0, false, false, 0, 1000 },
	{ "<sip:a@b>;q=1.", 0, false, false, 0, 1000 },
	{ "<sip:a@b>;q=1.000", 0, false, false, 0, 1000 },
	{ "<sip:a@b>;q=0", 0, false, false, 0, 0 },
	{ "<sip:a@b>;q=0.", 0, false, false, 0, 0 },
	{ "<sip:a@b>;q=0.001", 0, false, false, 0, 1 },
	{ "<sip:a@b>;q=0.5", 0, false, false, 0, 500 },
	{ "<sip:a@b>;q=0.999", 0, false, false, 0, 999 },
	{ "<sip:a@b>;Q=0.1", 0, false, false, 0, 100 },
	{ "<sip:a@b>;expires=0", 0, false, true, 0, 1000 },
	{ "<sip:a@b>;EXPIRES=4294967295", 0, false, true, 4294967295u, 1000 },
	{ "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam "
	  "=\r\n"
	  "      newvalue ;\r\n  secondparam ; q = 0.33",
	  0, false, false, 0, 330 },
	{ "<sip:a@b>;+sip.instance=\"<urn:uuid:1;q=0.1>\";q=0.9", 0, false,
	  false, 0, 900 },
	/* the first of a repeated parameter counts; all must be valid */
	{ "<sip:a@b>;expires=10;EXPIRES=20;q=0.5;q=0.7", 0, false, true, 10,
	  500 },
	{ "<sip:a@b>;expires=10;expires=x", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=0.5;q=5", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;tag=1;tag=\"2\"", EBADMSG, false, false, 0, 0 },
	/* RFC 4475 scalar02 */
	{ "<sip:user@host129.example.com>;expires=280297596632815", EBADMSG,
	  false, false, 0, 0 },
	{ "<sip:a@b>;expires=4294967296", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;expires=-1", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;expires=1h", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;expires", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;expires=\"60\"", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=1.001", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=1.1", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=2", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=0.1234", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=-1", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=.5", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=0,5", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=0.5a", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=00.5", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b>;q=\"0.5\"", EBADMSG, false, false, 0, 0 },
	{ "<sip:a@b", EBADMSG, false, false, 0, 0 },
};


static void test_contact(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(contacts) / sizeof(*contacts); i++) {
		const struct contact_case *c = &contacts[i];
		struct sip_contact ct;
		struct pl pl;
		char *blk = tail_copy(c->in, strlen(c->in), &pl);
		int err;

		memset(&ct, 0x33, sizeof(ct));
		err = sip_contact_decode(&ct, &pl);
		if (err != c->err)
			fail_msg("%s: err %d, want %d", c->in, err, c->err);
		if (!err) {
			assert_int_equal(ct.addr.star, c->star);
			assert_int_equal(ct.has_expires, c->has_expires);
			assert_int_equal(ct.expires, c->expires);
			if (ct.q != c->q)
				fail_msg("%s: q %u, want %u", c->in, ct.q,
					 c->q);
		} else {
			assert_int_equal(ct.q, 0x3333);
		}
		free(blk);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_addr_valid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_addr_invalid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_addr_star, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_addr_prefixes, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_contact, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_addr", tests, NULL, NULL);
}
