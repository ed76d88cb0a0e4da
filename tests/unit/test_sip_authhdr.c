/**
 * @file test_sip_authhdr.c  Authorization / WWW-Authenticate values (RFC
 * 3261 20.7, 20.44, 25.1; RFC 7616; RFC 3310; RFC 4475 regaut01).
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
#include "sip/authhdr.h"

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


/* want NULL: absent (p == NULL); "" : present and empty */
static void assert_pl(const struct pl *pl, const char *want, const char *in)
{
	if (!want) {
		if (pl->p)
			fail_msg("%s: got \"%.*s\", want absent", in,
				 (int)pl->l, pl->p);
		return;
	}
	if (!pl->p || pl->l != strlen(want) || memcmp(pl->p, want, pl->l) != 0)
		fail_msg("%s: got \"%.*s\", want \"%s\"", in, (int)pl->l,
			 pl->p ? pl->p : "", want);
}


/* field order: scheme realm nonce username uri response algorithm cnonce
 * opaque qop nc auts stale */
#define NF 13

struct ah_case {
	const char *in;
	const char *f[NF];
	bool userhash;
};

static const struct ah_case valid[] = {
	/* RFC 3261 22.4 / 20.7 example */
	{ "Digest username=\"Alice\", realm=\"atlanta.com\",\r\n"
	  " nonce=\"84a4cc6f3082121f32b42a2187831a9e\",\r\n"
	  " response=\"7587245234b3434cc3412213e5f113a5432\"",
	  { "Digest", "atlanta.com", "84a4cc6f3082121f32b42a2187831a9e",
	    "Alice", NULL, "7587245234b3434cc3412213e5f113a5432", NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL },
	  false },
	/* RFC 3261 20.44 example challenge */
	{ "Digest realm=\"atlanta.com\", domain=\"sip:boxesbybob.com\", "
	  "qop=\"auth\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", "
	  "stale=FALSE, algorithm=MD5",
	  { "Digest", "atlanta.com", "f84f1cec41e6cbe5aea9c8e88d359", NULL,
	    NULL, NULL, "MD5", NULL, "", "auth", NULL, NULL, "FALSE" },
	  false },
	/* RFC 4475 regaut01: unknown scheme, unknown params */
	{ "NoOneKnowsThisScheme opaque-data=here",
	  { "NoOneKnowsThisScheme", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL },
	  false },
	/* TS 33.203 / RFC 3310 AKA */
	{ "Digest username=\"user@ims.example.com\", "
	  "realm=\"ims.example.com\", "
	  "nonce=\"CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==\", "
	  "uri=\"sip:ims.example.com\", "
	  "response=\"6629fae49393a05397450978507c4ef1\", "
	  "algorithm=AKAv1-MD5, cnonce=\"0a4f113b\", nc=00000001, qop=auth, "
	  "auts=\"CjPk9mRqNuT25eRkajM09uTl\"",
	  { "Digest", "ims.example.com",
	    "CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==",
	    "user@ims.example.com", "sip:ims.example.com",
	    "6629fae49393a05397450978507c4ef1", "AKAv1-MD5", "0a4f113b", NULL,
	    "auth", "00000001", "CjPk9mRqNuT25eRkajM09uTl", NULL },
	  false },
	/* RFC 7616 3.9.2 userhash */
	{ "Digest username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b2"
	  "98c79e62dcea254ec\", realm=\"api@example.org\", uri=\"/doe.json\", "
	  "algorithm=SHA-512-256, nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAb"
	  "C/RVvkK\", nc=00000001, cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jU"
	  "Mp2wds69v\", qop=auth, response=\"ae66e67d6b427bd3f120414a82e4acff3"
	  "8e8ecd9101d6c861229025f607a79dd\", opaque=\"HRPCssKJSGjCrkzDg8OhwpzC"
	  "iGPChXYjwrI2QmXDnsOS\", userhash=true",
	  { "Digest", "api@example.org",
	    "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
	    "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec",
	    "/doe.json",
	    "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd",
	    "SHA-512-256", "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
	    "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", "auth", "00000001",
	    NULL, NULL },
	  true },
	/* LWS around '=' and ',' and folding */
	{ "  Digest   realm = \"a\" ,\r\n  nonce=\"b\"\t,nc = 00000002  ",
	  { "Digest", "a", "b", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    "00000002", NULL, NULL },
	  false },
	/* quoted-pair stays raw; a comma inside quotes does not split */
	{ "Digest realm=\"a\\\"b\", nonce=\"n,1\", qop=\"auth,auth-int\"",
	  { "Digest", "a\\\"b", "n,1", NULL, NULL, NULL, NULL, NULL, NULL,
	    "auth,auth-int", NULL, NULL, NULL },
	  false },
	/* names and scheme in any case */
	{ "digest REALM=\"x\", Nonce=y, USERHASH=TRUE",
	  { "digest", "x", "y", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL },
	  true },
	{ "Digest realm=\"x\", userhash=false",
	  { "Digest", "x", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL },
	  false },
	{ "Digest userhash=\"true\"",
	  { "Digest", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL },
	  true },
	/* an empty quoted value is present */
	{ "Digest realm=\"\"",
	  { "Digest", "", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL },
	  false },
	{ "Digest realm=\"J\xc3\xb6rg\", x-unknown=\"a\\\\\"",
	  { "Digest", "J\xc3\xb6rg", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL },
	  false },
};

static const char *const invalid[] = {
	"",
	"   ",
	"Digest",
	"Digest ",
	"Digest realm",
	"Digest realm=",
	"Digest realm= ",
	"Digest realm=\"x",
	"Digest realm=\"x\",",
	"Digest realm=\"x\" ,",
	"Digest ,realm=\"x\"",
	"Digest realm=\"x\" nonce=\"y\"",
	"Digest realm=\"x\",,nonce=\"y\"",
	"Digest realm=\"x\", realm=\"y\"",
	"Digest nonce=a, NONCE=b",
	"Digest userhash=true, userhash=true",
	"Digest realm=x y",
	"Digest=realm",
	"\"Digest\" realm=x",
	"Digest realm=a@b",
	"Digest realm=\"a\x01\"",
	"Digest realm=\"a\"b",
	"Digest realm==x",
	"Digest =x",
	"Digest realm=\"x\"; nonce=y",
	"Digest realm=<x>",
	"Dig,est realm=x",
	"Digest\x01 realm=x",
};


static void test_authhdr_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		const struct ah_case *c = &valid[i];
		const struct pl *f[NF];
		struct sip_authhdr ah;
		struct pl pl;
		char *blk = tail_copy(c->in, strlen(c->in), &pl);
		int err, k;

		err = sip_authhdr_decode(&ah, &pl);
		if (err)
			fail_msg("%s: err %d", c->in, err);
		f[0] = &ah.scheme;
		f[1] = &ah.realm;
		f[2] = &ah.nonce;
		f[3] = &ah.username;
		f[4] = &ah.uri;
		f[5] = &ah.response;
		f[6] = &ah.algorithm;
		f[7] = &ah.cnonce;
		f[8] = &ah.opaque;
		f[9] = &ah.qop;
		f[10] = &ah.nc;
		f[11] = &ah.auts;
		f[12] = &ah.stale;
		for (k = 0; k < NF; k++)
			assert_pl(f[k], c->f[k], c->in);
		assert_int_equal(ah.userhash, c->userhash);
		/* views into the input */
		assert_true(ah.scheme.p >= pl.p &&
			    ah.scheme.p + ah.scheme.l <= pl.p + pl.l);
		free(blk);
	}
}


static void test_authhdr_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		struct sip_authhdr ah;
		struct pl pl;
		char *blk = tail_copy(invalid[i], strlen(invalid[i]), &pl);
		int err;

		memset(&ah, 0x5a, sizeof(ah));
		err = sip_authhdr_decode(&ah, &pl);
		if (err != EBADMSG)
			fail_msg("\"%s\": err %d, want EBADMSG", invalid[i],
				 err);
		assert_int_equal(((unsigned char *)&ah)[0], 0x5a);
		free(blk);
	}
	assert_int_equal(sip_authhdr_decode(NULL, NULL), EINVAL);
}


static void test_authhdr_prefixes(void **state)
{
	static const char full[] =
		"Digest username=\"alice\", realm=\"r\\\"x\", nonce=\"n,1\", "
		"uri=\"sip:a@b\", response=\"00ff\", algorithm=MD5, "
		"nc=00000001";
	size_t n, len = sizeof(full) - 1;

	(void)state;
	for (n = 0; n <= len; n++) {
		struct sip_authhdr ah;
		struct pl pl;
		char *blk = tail_copy(full, n, &pl);
		int err = sip_authhdr_decode(&ah, &pl);

		assert_true(err == 0 || err == EBADMSG);
		if (n == len)
			assert_int_equal(err, 0);
		free(blk);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_authhdr_valid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_authhdr_invalid, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_authhdr_prefixes, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_authhdr", tests, NULL, NULL);
}
