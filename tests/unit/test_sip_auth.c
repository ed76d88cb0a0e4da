/**
 * @file test_sip_auth.c  Server-side Digest (RFC 7616, RFC 2617, RFC 3261
 * 22): published vectors, challenge format, round trips with a client
 * computed here, nonce lifetime, nc replays, tampering, throttling, and
 * whole requests (RFC 4475 regaut01).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/auth.h"
#include "sip/authhdr.h"
#include "sip/msg.h"

#define T0 1000000u /* frozen clock, ms */

static const char realm[] = "example.com";

static int setup(void **state)
{
	tmr_test_set_now(T0);
	return mem_mark(state);
}


static int teardown(void **state)
{
	tmr_test_set_now(0);
	return mem_expect_no_leaks(state);
}


static struct pl P(const char *s) {
	struct pl pl;

	pl_set_str(&pl, s);
	return pl;
}


/* RFC 7616 3.9.1: Mufasa / Circle of Life at http-auth@example.org */
static void
test_rfc7616_vectors(void **state)
{
	struct pl nonce = P("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	struct pl cnonce = P("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	struct pl nc = P("00000001"), qop = P("auth"), met = P("GET");
	struct pl uri = P("/dir/index.html");
	char ha1[AUTH_HA1_HEX_MAX], resp[AUTH_HA1_HEX_MAX];

	(void)state;
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, "Mufasa",
				  "http-auth@example.org", "Circle of Life",
				  ha1, sizeof(ha1)),
			 0);
	assert_int_equal(auth_response(AUTH_ALG_SHA256, ha1, &nonce, &nc,
				       &cnonce, &qop, &met, &uri, resp,
				       sizeof(resp)),
			 0);
	assert_string_equal(resp, "753927fa0e85d155564e2e272a28d1802ca10daf"
				  "4496794697cf8db5856cb6c1");

	assert_int_equal(auth_ha1(AUTH_ALG_MD5, "Mufasa",
				  "http-auth@example.org", "Circle of Life",
				  ha1, sizeof(ha1)),
			 0);
	assert_int_equal(auth_response(AUTH_ALG_MD5, ha1, &nonce, &nc, &cnonce,
				       &qop, &met, &uri, resp, sizeof(resp)),
			 0);
	assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");

	/* too small an output buffer is refused, not overrun */
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, "a", "b", "c", ha1, 64),
			 EINVAL);
}


/* RFC 2617 3.5 example (testrealm@host.com, "Circle Of Life") */
static void test_rfc2617_vector(void **state)
{
	struct pl nonce = P("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	struct pl cnonce = P("0a4f113b"), nc = P("00000001"), qop = P("auth");
	struct pl met = P("GET"), uri = P("/dir/index.html");
	char ha1[AUTH_HA1_HEX_MAX], resp[AUTH_HA1_HEX_MAX];

	(void)state;
	assert_int_equal(auth_ha1(AUTH_ALG_MD5, "Mufasa", "testrealm@host.com",
				  "Circle Of Life", ha1, sizeof(ha1)),
			 0);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
	assert_int_equal(auth_response(AUTH_ALG_MD5, ha1, &nonce, &nc, &cnonce,
				       &qop, &met, &uri, resp, sizeof(resp)),
			 0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}


/* ---- a client, for round trips ---- */

struct chal {
	char nonce[128];
	char opaque[64];
	char alg[16];
	bool stale;
};

/* Parse the n-th challenge line of hdrs (0: first). */
static int chal_parse(const char *hdrs, int n, struct chal *c)
{
	const char *p = hdrs, *colon, *eol;
	struct sip_authhdr ah;
	struct pl v;

	while (n-- > 0) {
		p = strstr(p, "\r\n");
		if (!p)
			return ENOENT;
		p += 2;
	}
	eol = strstr(p, "\r\n");
	colon = strchr(p, ':');
	if (!eol || !colon || colon > eol)
		return ENOENT;
	v.p = colon + 1;
	v.l = (size_t)(eol - v.p);
	pl_trim(&v);
	if (sip_authhdr_decode(&ah, &v))
		return EBADMSG;
	memset(c, 0, sizeof(*c));
	assert_int_equal(pl_strcpy(&ah.nonce, c->nonce, sizeof(c->nonce)), 0);
	assert_int_equal(pl_strcpy(&ah.opaque, c->opaque, sizeof(c->opaque)),
			 0);
	assert_int_equal(pl_strcpy(&ah.algorithm, c->alg, sizeof(c->alg)), 0);
	c->stale = pl_eq_str_ci(&ah.stale, "true");
	return 0;
}


struct creds {
	struct sip_authhdr ah;
	char resp[AUTH_HA1_HEX_MAX];
	char nc[9];
};

/* Fill ah the way a UA answers the challenge c. */
static void answer(struct creds *cr, const struct chal *c, const char *user,
		   const char *pass, const char *uri, uint32_t nc, bool qop)
{
	enum auth_algo alg;
	char ha1[AUTH_HA1_HEX_MAX];
	struct pl met = P("REGISTER"), qp = P(qop ? "auth" : "");
	struct pl algp;

	memset(cr, 0, sizeof(*cr));
	pl_set_str(&algp, c->alg);
	alg = auth_algo_of(&algp);
	assert_int_not_equal(alg, AUTH_ALG_NUM);
	(void)snprintf(cr->nc, sizeof(cr->nc), "%08x", nc);
	cr->ah.scheme = P("Digest");
	cr->ah.realm = P(realm);
	cr->ah.username = P(user);
	cr->ah.uri = P(uri);
	cr->ah.nonce = P(c->nonce);
	cr->ah.opaque = P(c->opaque);
	cr->ah.algorithm = P(c->alg);
	if (qop) {
		cr->ah.qop = P("auth");
		cr->ah.nc = P(cr->nc);
		cr->ah.cnonce = P("0a4f113b");
	}
	assert_int_equal(auth_ha1(alg, user, realm, pass, ha1, sizeof(ha1)), 0);
	assert_int_equal(auth_response(alg, ha1, &cr->ah.nonce, &cr->ah.nc,
				       &cr->ah.cnonce, &qp, &met, &cr->ah.uri,
				       cr->resp, sizeof(cr->resp)),
			 0);
	cr->ah.response = P(cr->resp);
}


/* The tests index challenges in RFC 8760 preference order (SHA-256 at 0,
 * MD5 at 1); the default order, MD5 first, is checked on its own. */
static struct auth *mkauth(const struct auth_conf *conf)
{
	struct auth_conf sha = { 0 };
	struct auth *auth = NULL;

	if (conf)
		sha = *conf;
	sha.sha256_first = true;
	assert_int_equal(auth_alloc(&auth, &sha), 0);
	assert_int_equal(auth_user_set(auth, "alice", realm, "secret"), 0);
	return auth;
}


static int verify(struct auth *auth, const struct creds *cr,
		  const struct sa *src, struct auth_result *res)
{
	struct pl met = P("REGISTER"), ruri = P("sip:example.com");

	return auth_verify(auth, &cr->ah, &met, &ruri, src, realm,
			   AUTH_MODE_UAS, res);
}


static void test_challenge_format(void **state)
{
	struct auth *auth = mkauth(NULL);
	char hdrs[AUTH_HDRS_MAX];
	struct chal c1, c2;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	/* RFC 8760 2.4 preference order: SHA-256, then MD5 */
	assert_int_equal(strncmp(hdrs, "WWW-Authenticate: Digest ", 25), 0);
	assert_non_null(strstr(hdrs, "realm=\"example.com\""));
	assert_non_null(strstr(hdrs, "qop=\"auth\""));
	assert_null(strstr(hdrs, "stale"));
	assert_int_equal(chal_parse(hdrs, 0, &c1), 0);
	assert_int_equal(chal_parse(hdrs, 1, &c2), 0);
	assert_int_equal(chal_parse(hdrs, 2, &c2), ENOENT);
	assert_int_equal(chal_parse(hdrs, 1, &c2), 0);
	assert_string_equal(c1.alg, "SHA-256");
	assert_string_equal(c2.alg, "MD5");
	assert_string_not_equal(c1.nonce, c2.nonce); /* unique nonces */
	{
		/* the default: MD5 first (see auth_challenge) */
		struct auth *a2 = NULL;
		struct chal d1, d2;
		char h2[AUTH_HDRS_MAX];

		assert_int_equal(auth_alloc(&a2, NULL), 0);
		assert_int_equal(auth_challenge(a2, realm, AUTH_MODE_UAS, false,
						h2, sizeof(h2)),
				 0);
		assert_int_equal(chal_parse(h2, 0, &d1), 0);
		assert_int_equal(chal_parse(h2, 1, &d2), 0);
		assert_string_equal(d1.alg, "MD5");
		assert_string_equal(d2.alg, "SHA-256");
		mem_deref(a2);
	}
	assert_string_equal(c1.opaque, c2.opaque);
	assert_int_equal(strlen(c1.nonce), 43);

	/* proxies say Proxy-Authenticate; stale=true on request */
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_PROXY, true,
					hdrs, sizeof(hdrs)),
			 0);
	assert_int_equal(strncmp(hdrs, "Proxy-Authenticate: Digest ", 27), 0);
	assert_int_equal(chal_parse(hdrs, 0, &c1), 0);
	assert_true(c1.stale);

	/* a realm that cannot be quoted, or no room: refused */
	assert_int_equal(auth_challenge(auth, "bad\"realm", AUTH_MODE_UAS,
					false, hdrs, sizeof(hdrs)),
			 EINVAL);
	assert_int_equal(
		auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs, 100),
		ENOSPC);
	mem_deref(auth);
}


static void test_roundtrip_both_algorithms(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c;
	int i;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(chal_parse(hdrs, i, &c), 0);
		answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
		assert_int_equal(verify(auth, &cr, NULL, &res), 0);
		assert_int_equal(res.verdict, AUTH_OK);
		assert_int_equal(res.scode, 0);
		assert_true(pl_eq_str(&res.username, "alice"));
		assert_int_equal(res.alg,
				 i == 0 ? AUTH_ALG_SHA256 : AUTH_ALG_MD5);
	}
	/* the Request-URI compares by RFC 3261 19.1.4 (host case) */
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	answer(&cr, &c, "alice", "secret", "sip:EXAMPLE.com", 2, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);

	/* a nonce offered for SHA-256 is no good for MD5 */
	strcpy(c.alg, "MD5");
	answer(&cr, &c, "alice", "secret", "sip:example.com", 3, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);
	mem_deref(auth);
}


static void test_wrong_password_and_unknown_user(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct auth_result res;
	struct auth_stats st;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	answer(&cr, &c, "alice", "guess", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);
	assert_int_equal(res.scode, 401);
	assert_non_null(strstr(res.hdrs, "WWW-Authenticate: Digest"));
	assert_null(strstr(res.hdrs, "stale=true")); /* no password oracle */

	answer(&cr, &c, "mallory", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);

	/* a garbled response (not hex) is a failure, not a crash */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.resp[3] = 'x';
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);
	cr.ah.response.l = 10;
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);

	/* the user removed: refused */
	auth_user_del(auth, "alice", realm);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 2, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);

	auth_stats(auth, &st);
	assert_int_equal(st.failed, 5);
	assert_int_equal(st.ok, 0);
	mem_deref(auth);
}


static void test_nonce_stale_after_lifetime(void **state)
{
	struct auth_conf conf = { .nonce_lifetime_s = 300 };
	struct auth *auth = mkauth(&conf);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c, c2;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);

	/* at the end of the lifetime: still good */
	tmr_test_set_now(T0 + 300 * 1000);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);

	/* past it: stale=true with a fresh nonce (RFC 7616 3.3) */
	tmr_test_set_now(T0 + 300 * 1000 + 1);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 2, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);
	assert_int_equal(res.scode, 401);
	assert_int_equal(chal_parse(res.hdrs, 0, &c2), 0);
	assert_true(c2.stale);
	assert_string_not_equal(c2.nonce, c.nonce);

	/* the fresh nonce works */
	answer(&cr, &c2, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);

	/* a wrong password with the old nonce: no stale hint */
	answer(&cr, &c, "alice", "nope", "sip:example.com", 3, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);
	assert_null(strstr(res.hdrs, "stale"));
	mem_deref(auth);
}


static void test_nc_replay(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c;
	static const struct {
		uint32_t nc;
		enum auth_verdict want;
	} seq[] = {
		{ 1, AUTH_OK }, { 1, AUTH_STALE }, { 2, AUTH_OK },
		{ 5, AUTH_OK }, { 3, AUTH_STALE }, { 5, AUTH_STALE },
		{ 6, AUTH_OK },
	};
	size_t i;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 1, &c), 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		answer(&cr, &c, "alice", "secret", "sip:example.com", seq[i].nc,
		       true);
		assert_int_equal(verify(auth, &cr, NULL, &res), 0);
		if (res.verdict != seq[i].want)
			fail_msg("step %zu nc=%u: verdict %d, want %d", i,
				 seq[i].nc, res.verdict, seq[i].want);
	}

	/* nc must be 8 hex digits, not zero */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 7, true);
	cr.ah.nc = P("7");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_BAD);
	assert_int_equal(res.scode, 400);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 0, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_BAD);
	mem_deref(auth);
}


static void test_nc_table_bounded(void **state)
{
	struct auth_conf conf = { .nc_table_max = 4 };
	struct auth *auth = mkauth(&conf);
	struct auth_result res;
	struct auth_stats st;
	char hdrs[AUTH_HDRS_MAX];
	struct chal c[6];
	struct creds cr;
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS,
						false, hdrs, sizeof(hdrs)),
				 0);
		assert_int_equal(chal_parse(hdrs, 0, &c[i]), 0);
		tmr_test_set_now(T0 + (uint64_t)(i + 1) * 10);
	}
	for (i = 0; i < 6; i++) {
		answer(&cr, &c[i], "alice", "secret", "sip:example.com", 1,
		       true);
		assert_int_equal(verify(auth, &cr, NULL, &res), 0);
		assert_int_equal(res.verdict, AUTH_OK);
	}
	auth_stats(auth, &st);
	assert_true(st.nc_entries <= 4);
	assert_int_equal(st.nc_evicted, 2);

	/* the first nonce's history was evicted: its next use is not
	 * trusted (stale), even with a higher nc */
	answer(&cr, &c[0], "alice", "secret", "sip:example.com", 2, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);
	/* a remembered one goes on */
	answer(&cr, &c[5], "alice", "secret", "sip:example.com", 2, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);
	mem_deref(auth);
}


static void test_tampered_nonce(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct auth *other = mkauth(NULL); /* another boot: other key */
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c, t;
	size_t i;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);

	/* every single-character change of the nonce is refused, even with
	 * a digest computed over the tampered nonce */
	for (i = 0; i < strlen(c.nonce); i++) {
		t = c;
		t.nonce[i] = t.nonce[i] == 'A' ? 'B' : 'A';
		answer(&cr, &t, "alice", "secret", "sip:example.com", 1, true);
		assert_int_equal(verify(auth, &cr, NULL, &res), 0);
		assert_int_not_equal(res.verdict, AUTH_OK);
	}
	/* shortened, lengthened, and not base64url */
	t = c;
	t.nonce[20] = '\0';
	answer(&cr, &t, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_not_equal(res.verdict, AUTH_OK);
	t = c;
	memcpy(t.nonce + strlen(t.nonce), "AA", 3);
	answer(&cr, &t, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_not_equal(res.verdict, AUTH_OK);
	t = c;
	t.nonce[5] = '+';
	answer(&cr, &t, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_not_equal(res.verdict, AUTH_OK);

	/* a nonce of another boot (key) is not ours */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(other, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);
	/* a changed opaque is refused too */
	t = c;
	t.opaque[0] = t.opaque[0] == 'A' ? 'B' : 'A';
	answer(&cr, &t, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_not_equal(res.verdict, AUTH_OK);
	/* and the genuine one still works */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);
	mem_deref(other);
	mem_deref(auth);
}


static void test_throttling(void **state)
{
	struct auth_conf conf = { .fail_max = 3,
				  .fail_window_s = 60,
				  .fail_block_s = 120 };
	struct auth *auth = mkauth(&conf);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct sa src, src2;
	struct creds cr;
	struct chal c;
	uint32_t nc = 1;
	int i;

	(void)state;
	assert_int_equal(sa_set_str(&src, "192.0.2.7", 5060), 0);
	assert_int_equal(sa_set_str(&src2, "192.0.2.8", 5060), 0);
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);

	for (i = 0; i < 2; i++) {
		answer(&cr, &c, "alice", "guess", "sip:example.com", nc++,
		       true);
		assert_int_equal(verify(auth, &cr, &src, &res), 0);
		assert_int_equal(res.verdict, AUTH_FAILED);
	}
	/* the third failure (from another port: same address) blocks */
	sa_set_port(&src, 5070);
	answer(&cr, &c, "alice", "guess", "sip:example.com", nc++, true);
	assert_int_equal(verify(auth, &cr, &src, &res), 0);
	assert_int_equal(res.verdict, AUTH_THROTTLED);
	assert_int_equal(res.scode, 403);
	assert_string_equal(res.hdrs, "");

	/* while blocked, even the right password is refused */
	answer(&cr, &c, "alice", "secret", "sip:example.com", nc++, true);
	assert_int_equal(verify(auth, &cr, &src, &res), 0);
	assert_int_equal(res.verdict, AUTH_THROTTLED);
	/* another address is not affected */
	assert_int_equal(verify(auth, &cr, &src2, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);

	/* after the cooling period the address may try again */
	tmr_test_set_now(T0 + 121 * 1000);
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, &src, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);

	/* failures spread wider than the window do not add up */
	for (i = 0; i < 4; i++) {
		tmr_test_set_now(T0 + 121 * 1000 + (uint64_t)i * 61 * 1000);
		assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS,
						false, hdrs, sizeof(hdrs)),
				 0);
		assert_int_equal(chal_parse(hdrs, 0, &c), 0);
		answer(&cr, &c, "alice", "guess", "sip:example.com", 1, true);
		assert_int_equal(verify(auth, &cr, &src, &res), 0);
		assert_int_equal(res.verdict, AUTH_FAILED);
	}
	mem_deref(auth);
}


static void test_fail_table_bounded(void **state)
{
	struct auth_conf conf = { .fail_table_max = 8 };
	struct auth *auth = mkauth(&conf);
	struct auth_result res;
	struct auth_stats st;
	char hdrs[AUTH_HDRS_MAX], ip[32];
	struct creds cr;
	struct chal c;
	struct sa src;
	int i;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	for (i = 0; i < 100; i++) {
		(void)snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		assert_int_equal(sa_set_str(&src, ip, 5060), 0);
		answer(&cr, &c, "alice", "guess", "sip:example.com", 1, true);
		assert_int_equal(verify(auth, &cr, &src, &res), 0);
		assert_int_equal(res.verdict, AUTH_FAILED);
	}
	auth_stats(auth, &st);
	assert_int_equal(st.fail_entries, 8);
	mem_deref(auth);
}


static void test_odd_credentials(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 1, &c), 0); /* MD5 */

	/* RFC 2069 style (no qop, MD5): accepted once */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 0, false);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);

	/* SHA-256 without qop: RFC 7616 requires qop, challenge */
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 0, false);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);

	/* qop=auth-int was not offered */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.qop = P("auth-int");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);

	/* digest uri for another resource: 400 (RFC 2617 3.2.2.5) */
	answer(&cr, &c, "alice", "secret", "sip:other.example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_BAD);
	assert_int_equal(res.scode, 400);

	/* missing cnonce with qop: 400 */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.cnonce = P("");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_BAD);

	/* TS 24.229: empty nonce and response ask for a challenge */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.nonce = P("");
	cr.ah.response = P("");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	assert_int_equal(res.scode, 401);

	/* another realm, an unknown algorithm, another scheme: challenge */
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.realm = P("example.net");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.algorithm = P("SHA-512-256");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	cr.ah.scheme = P("Basic");
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	mem_deref(auth);
}


static void test_md5_disabled(void **state)
{
	struct auth_conf conf = { .no_md5 = true };
	struct auth *auth = mkauth(&conf);
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX];
	struct creds cr;
	struct chal c;

	(void)state;
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_null(strstr(hdrs, "MD5"));
	assert_int_equal(chal_parse(hdrs, 1, &c), ENOENT);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	strcpy(c.alg, "MD5");
	answer(&cr, &c, "alice", "secret", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);

	conf.no_sha256 = true;
	assert_int_equal(auth_alloc(&auth, &conf), EINVAL);
	mem_deref(auth);
}


/* ---- whole requests ---- */

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *b;
	long n;

	(void)snprintf(path, sizeof(path), "%s/messages/%s", ENTIMS_RFC4475_DIR,
		       name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	(void)fseek(f, 0, SEEK_END);
	n = ftell(f);
	(void)fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	(void)fclose(f);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}


static void test_regaut01_unknown_scheme(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	struct auth_result res;
	struct sip_msg_err e;
	size_t len = 0;
	char *txt = slurp("regaut01.dat", &len);

	(void)state;
	if (!txt)
		fail_msg("RFC 4475 vector regaut01.dat missing");
	assert_non_null(msg);
	assert_int_equal(sip_msg_decode(msg, txt, len, true, &e), 0);
	assert_int_equal(auth_check(auth, msg, realm, AUTH_MODE_UAS, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	assert_int_equal(res.scode, 401);
	assert_non_null(strstr(res.hdrs, "WWW-Authenticate: Digest realm="));
	free(txt);
	free(msg);
	mem_deref(auth);
}


static void build_register(char *buf, size_t size, const char *authz)
{
	int n = snprintf(buf, size,
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@example.com>;tag=1\r\n"
			 "To: <sip:alice@example.com>\r\n"
			 "Call-ID: auth-test-1\r\n"
			 "CSeq: 2 REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 authz);
	assert_true(n > 0 && (size_t)n < size);
}


static void test_check_whole_request(void **state)
{
	struct auth *auth = mkauth(NULL);
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	char buf[2048], authz[1024], hdrs[AUTH_HDRS_MAX];
	struct auth_result res;
	struct sip_msg_err e;
	struct creds cr;
	struct chal c256, cmd5;

	(void)state;
	assert_non_null(msg);
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c256), 0);
	assert_int_equal(chal_parse(hdrs, 1, &cmd5), 0);

	/* no credentials: challenge */
	build_register(buf, sizeof(buf), "");
	assert_int_equal(sip_msg_decode(msg, buf, strlen(buf), true, &e), 0);
	assert_int_equal(auth_check(auth, msg, realm, AUTH_MODE_UAS, &res), 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);

	/* credentials for another realm and good ones for ours, MD5 and
	 * SHA-256: the SHA-256 ones for our realm are used */
	answer(&cr, &c256, "alice", "secret", "sip:example.com", 1, true);
	(void)snprintf(
		authz, sizeof(authz),
		"Authorization: Digest realm=\"other.org\", username=\"x\", "
		"nonce=\"n\", uri=\"sip:example.com\", response=\"00\"\r\n"
		"Authorization: Digest username=\"alice\", "
		"realm=\"example.com\", nonce=\"%s\", uri=\"sip:example.com\", "
		"response=\"%s\", algorithm=SHA-256, qop=auth, nc=00000001, "
		"cnonce=\"0a4f113b\", opaque=\"%s\"\r\n",
		c256.nonce, cr.resp, c256.opaque);
	build_register(buf, sizeof(buf), authz);
	assert_int_equal(sip_msg_decode(msg, buf, strlen(buf), true, &e), 0);
	assert_int_equal(auth_check(auth, msg, realm, AUTH_MODE_UAS, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);
	assert_int_equal(res.alg, AUTH_ALG_SHA256);
	assert_true(pl_eq_str(&res.username, "alice"));

	/* the same request again: a replay (nc not higher) */
	assert_int_equal(auth_check(auth, msg, realm, AUTH_MODE_UAS, &res), 0);
	assert_int_equal(res.verdict, AUTH_STALE);

	/* as a proxy: Proxy-Authorization is what counts, 407 */
	assert_int_equal(auth_check(auth, msg, realm, AUTH_MODE_PROXY, &res),
			 0);
	assert_int_equal(res.verdict, AUTH_CHALLENGE);
	assert_int_equal(res.scode, 407);
	assert_non_null(strstr(res.hdrs, "Proxy-Authenticate: Digest"));

	/* malformed Digest credentials: 400 */
	build_register(buf, sizeof(buf),
		       "Authorization: Digest realm=\"example.com\", "
		       "nonce=\"unterminated\r\n");
	if (!sip_msg_decode(msg, buf, strlen(buf), true, &e)) {
		assert_int_equal(
			auth_check(auth, msg, realm, AUTH_MODE_UAS, &res), 0);
		assert_int_equal(res.verdict, AUTH_BAD);
		assert_int_equal(res.scode, 400);
	}
	free(msg);
	mem_deref(auth);
}


static void test_ha1_provisioning(void **state)
{
	struct auth *auth = NULL;
	struct auth_result res;
	char hdrs[AUTH_HDRS_MAX], md5[AUTH_HA1_HEX_MAX], sha[AUTH_HA1_HEX_MAX];
	struct creds cr;
	struct chal c;
	char *p;

	(void)state;
	{
		struct auth_conf sc = { 0 };
		sc.sha256_first = true; /* challenge 0 is SHA-256 below */
		assert_int_equal(auth_alloc(&auth, &sc), 0);
	}
	assert_int_equal(
		auth_ha1(AUTH_ALG_MD5, "bob", realm, "pw", md5, sizeof(md5)),
		0);
	assert_int_equal(
		auth_ha1(AUTH_ALG_SHA256, "bob", realm, "pw", sha, sizeof(sha)),
		0);
	/* uppercase hex is accepted and normalised */
	for (p = sha; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	assert_int_equal(auth_user_set_ha1(auth, "bob", realm, NULL, sha), 0);
	assert_int_equal(auth_user_set_ha1(auth, "bob", realm, "xyz", NULL),
			 EINVAL);
	assert_int_equal(auth_challenge(auth, realm, AUTH_MODE_UAS, false, hdrs,
					sizeof(hdrs)),
			 0);
	assert_int_equal(chal_parse(hdrs, 0, &c), 0);
	answer(&cr, &c, "bob", "pw", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_OK);
	/* no MD5 HA1 stored: MD5 answers fail */
	assert_int_equal(chal_parse(hdrs, 1, &c), 0);
	answer(&cr, &c, "bob", "pw", "sip:example.com", 1, true);
	assert_int_equal(verify(auth, &cr, NULL, &res), 0);
	assert_int_equal(res.verdict, AUTH_FAILED);
	mem_deref(auth);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc7616_vectors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rfc2617_vector, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_challenge_format, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_both_algorithms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_wrong_password_and_unknown_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_stale_after_lifetime,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nc_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nc_table_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tampered_nonce, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_throttling, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fail_table_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_odd_credentials, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_md5_disabled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_regaut01_unknown_scheme,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_whole_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ha1_provisioning, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("sip_auth", tests, NULL, NULL);
}
