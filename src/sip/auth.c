/**
 * @file auth.c  Server-side Digest authentication (RFC 3261 22, RFC 7616,
 * RFC 8760, RFC 2617).
 *
 * Design
 *
 * Nonces are stateless.  A nonce is base64url (RFC 4648 5, no padding) of
 *
 *	ts (8 octets, ms) || ctr (8 octets) || mac (16 octets)
 *
 * One challenge draws one even c and offers ctr = c in its MD5 line and
 * ctr = c + 1 in its SHA-256 line (the low bit names the algorithm);
 * mac is the first half of HMAC-SHA256(K, ts || c || realm) in the MD5
 * line and its second half in the SHA-256 line: one HMAC per challenge
 * for both lines.
 *
 * K is 32 random octets drawn at boot (or configured, for several nodes
 * sharing a realm).  ts makes the age checkable (RFC 7616 3.3 stale), ctr
 * makes every nonce unique (so that nonce-count tracking of two clients
 * challenged in the same millisecond cannot collide), the realm stops a
 * nonce of one tenant being used in another, and the half (with the low
 * bit of ctr) binds the nonce to the algorithm of the line it was offered
 * in.  The source address is
 * NOT bound: a phone behind NAT changes its public port (and with
 * carrier-grade NAT its address) between the challenge and the answer,
 * and TCP reconnects come from new ports; freshness comes from the
 * lifetime and replay protection from the nc table instead.
 *
 * Replays (RFC 7616 3.4 nc): a table keyed by nonce remembers the highest
 * nc seen; an nc that does not grow is refused with a stale challenge.
 * It holds at most nc_table_max entries in LRU order.  When an unexpired
 * entry has to be evicted, its timestamp raises a watermark: a nonce
 * issued at or before the watermark that is not in the table may have
 * been evicted, so it is treated as stale (the client simply re-answers a
 * fresh challenge) rather than accepted with its history forgotten.
 * Without qop (RFC 2069 compatibility) there is no nc, so such a nonce is
 * accepted once.
 *
 * Order of checks: the digest is checked before the nonce, so that
 * stale=true is only said to a client that knows the password (RFC 7616
 * 3.3: "only if ... the digest is valid").  Every wrong digest counts as a
 * failure whatever the nonce, otherwise forged nonces would give a
 * guessing oracle (stale=true vs false) that is never throttled.
 *
 * Brute force: failures (wrong digest, unknown user) are counted per
 * source IP address (not port) in a bounded LRU table; fail_max failures
 * within fail_window_s block that address for fail_block_s: every request
 * from it is answered 403 without touching the credentials, and one WARN
 * line names the address and the username when the block starts.
 */
#include "sip/auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "core/base64.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "net/sa.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/uri.h"

#define LOG_MODULE "auth"

#define NONCE_RAW  32 /* ts 8 + ctr 8 + mac 16 */
#define NONCE_ID   16 /* ts + ctr: identifies a nonce */
#define NONCE_MAC  16
#define NONCE_B64  43 /* base64url of 32 octets, no padding */
#define OPAQUE_RAW 12
#define OPAQUE_B64 16
#define DIGEST_MAX 32 /* SHA-256 */
#define KEY_LEN    32

struct auth {
	struct auth_conf conf;
	uint8_t key[KEY_LEN];
	size_t keylen;
	uint64_t ctr;

	struct hash *users; /* struct authuser, counted */

	struct hash *nct;      /* struct nce, counted */
	struct list nc_lru;    /* head: most recently used */
	uint64_t nc_watermark; /* newest ts of an evicted live nonce */

	struct hash *failt; /* struct fail, counted */
	struct list fail_lru;

	struct auth_stats st;

	/* HMAC-SHA256 under key, with the key's inner and outer pads
	 * absorbed once (RFC 2104): a MAC is then two context copies and two
	 * short hashes, where OpenSSL's one-shot HMAC() looks the algorithm
	 * up by name every time (most of a challenge's cost) */
	EVP_MD_CTX *hm_in, *hm_out, *hm_tmp;
	/* a digest context per algorithm for the request-digests checked
	 * here, set up once and re-initialised for each digest: a new
	 * context per digest (the provider's state allocated and freed)
	 * cost as much as hashing the digest's input */
	EVP_MD_CTX *dg[AUTH_ALG_NUM];
	/* the opaque of the last realm asked for (it never changes) */
	char op_realm[AUTH_REALM_MAX + 1];
	char op_val[OPAQUE_B64 + 1];
};

struct authuser {
	struct le he;
	char *user;
	char *realm;
	char ha1[AUTH_ALG_NUM][AUTH_HA1_HEX_MAX];
};

struct nce {
	struct le he;
	struct le lru;
	uint8_t id[NONCE_ID];
	uint64_t ts;
	uint32_t nc;
	bool once; /* used without qop: never again */
};

struct fail {
	struct le he;
	struct le lru;
	struct sa addr; /* port zeroed */
	uint32_t count;
	uint64_t win_start;
	uint64_t blocked_until;
};

static const char *const alg_names[AUTH_ALG_NUM] = { "MD5", "SHA-256" };


/* The digests, fetched once per process: EVP_md5() and EVP_sha256() are
 * looked up by name at every EVP_DigestInit_ex() in OpenSSL 3. */
static EVP_MD *md_fetched[AUTH_ALG_NUM];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
	md_fetched[AUTH_ALG_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	md_fetched[AUTH_ALG_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
}


static const EVP_MD *alg_md(enum auth_algo alg)
{
	(void)pthread_once(&md_once, md_fetch);
	if (md_fetched[alg])
		return md_fetched[alg];
	return alg == AUTH_ALG_SHA256 ? EVP_sha256() : EVP_md5();
}


/* HMAC-SHA256(key, msg) into out[32] with the precomputed pads. */
static int hmac256(const struct auth *auth, const uint8_t *msg, size_t len,
		   uint8_t *out)
{
	uint8_t ih[32];
	unsigned int n = 0;

	if (!EVP_MD_CTX_copy_ex(auth->hm_tmp, auth->hm_in) ||
	    !EVP_DigestUpdate(auth->hm_tmp, msg, len) ||
	    !EVP_DigestFinal_ex(auth->hm_tmp, ih, &n) || n != sizeof(ih) ||
	    !EVP_MD_CTX_copy_ex(auth->hm_tmp, auth->hm_out) ||
	    !EVP_DigestUpdate(auth->hm_tmp, ih, sizeof(ih)) ||
	    !EVP_DigestFinal_ex(auth->hm_tmp, out, &n) || n != 32)
		return EIO;
	return 0;
}


static int hmac_init(struct auth *auth)
{
	uint8_t ipad[64], opad[64];
	const EVP_MD *sha = alg_md(AUTH_ALG_SHA256);
	size_t i;

	auth->hm_in = EVP_MD_CTX_new();
	auth->hm_out = EVP_MD_CTX_new();
	auth->hm_tmp = EVP_MD_CTX_new();
	if (!auth->hm_in || !auth->hm_out || !auth->hm_tmp)
		return ENOMEM;
	for (i = 0; i < 64; i++) {
		uint8_t k = i < auth->keylen ? auth->key[i] : 0;
		ipad[i] = k ^ 0x36;
		opad[i] = k ^ 0x5c;
	}
	if (!EVP_DigestInit_ex(auth->hm_in, sha, NULL) ||
	    !EVP_DigestUpdate(auth->hm_in, ipad, sizeof(ipad)) ||
	    !EVP_DigestInit_ex(auth->hm_out, sha, NULL) ||
	    !EVP_DigestUpdate(auth->hm_out, opad, sizeof(opad)))
		return EIO;
	/* the kept digest contexts, each bound to its algorithm once */
	for (i = 0; i < AUTH_ALG_NUM; i++) {
		auth->dg[i] = EVP_MD_CTX_new();
		if (!auth->dg[i])
			return ENOMEM;
		if (!EVP_DigestInit_ex(auth->dg[i], alg_md((enum auth_algo)i),
				       NULL))
			return EIO;
	}
	return 0;
}


static size_t alg_len(enum auth_algo alg)
{
	return alg == AUTH_ALG_SHA256 ? 32 : 16;
}


static uint64_t now_ms(const struct auth *auth)
{
	return auth->conf.nowh ? auth->conf.nowh() : tmr_jiffies();
}


static void destructor(void *arg)
{
	struct auth *auth = arg;
	size_t i;

	EVP_MD_CTX_free(auth->hm_in);
	EVP_MD_CTX_free(auth->hm_out);
	EVP_MD_CTX_free(auth->hm_tmp);
	for (i = 0; i < AUTH_ALG_NUM; i++)
		EVP_MD_CTX_free(auth->dg[i]);
	if (auth->users)
		hash_flush(auth->users);
	mem_deref(auth->users);
	if (auth->nct)
		hash_flush(auth->nct);
	mem_deref(auth->nct);
	if (auth->failt)
		hash_flush(auth->failt);
	mem_deref(auth->failt);
	OPENSSL_cleanse(auth->key, sizeof(auth->key));
}


static void authuser_destructor(void *arg)
{
	struct authuser *uc = arg;

	OPENSSL_cleanse(uc->ha1, sizeof(uc->ha1));
	mem_deref(uc->user);
	mem_deref(uc->realm);
}


static void nce_destructor(void *arg)
{
	struct nce *e = arg;

	list_unlink(&e->lru);
}


static void fail_destructor(void *arg)
{
	struct fail *f = arg;

	list_unlink(&f->lru);
}


/**
 * Create an authenticator.
 *
 * @param authp  receives the object (mem_deref it)
 * @param conf   settings; zero fields take the defaults (may be NULL)
 * @return 0, EINVAL (both algorithms off, bad secret), ENOMEM, EIO (RNG)
 */
int auth_alloc(struct auth **authp, const struct auth_conf *conf)
{
	struct auth *auth;
	int err;

	if (!authp)
		return EINVAL;
	if (conf && conf->no_md5 && conf->no_sha256)
		return EINVAL;
	if (conf && conf->secret && !conf->secret_len)
		return EINVAL;

	auth = mem_zalloc(sizeof(*auth), destructor);
	if (!auth)
		return ENOMEM;
	if (conf)
		auth->conf = *conf;
	auth->conf.secret = NULL; /* not kept: copied into key below */
	if (!auth->conf.nonce_lifetime_s)
		auth->conf.nonce_lifetime_s = 300;
	if (!auth->conf.nc_table_max)
		auth->conf.nc_table_max = 8192;
	if (!auth->conf.fail_max)
		auth->conf.fail_max = 10;
	if (!auth->conf.fail_window_s)
		auth->conf.fail_window_s = 60;
	if (!auth->conf.fail_block_s)
		auth->conf.fail_block_s = 300;
	if (!auth->conf.fail_table_max)
		auth->conf.fail_table_max = 4096;

	if (conf && conf->secret) {
		/* a long configured secret is hashed down (HMAC would do the
		 * same, RFC 2104 2) */
		if (conf->secret_len > KEY_LEN) {
			unsigned int n = 0;
			if (!EVP_Digest(conf->secret, conf->secret_len,
					auth->key, &n, EVP_sha256(), NULL)) {
				err = EIO;
				goto out;
			}
			auth->keylen = n;
		} else {
			memcpy(auth->key, conf->secret, conf->secret_len);
			auth->keylen = conf->secret_len;
		}
	} else {
		if (RAND_bytes(auth->key, KEY_LEN) != 1) {
			err = EIO;
			goto out;
		}
		auth->keylen = KEY_LEN;
	}
	if (RAND_bytes((unsigned char *)&auth->ctr, sizeof(auth->ctr)) != 1) {
		err = EIO;
		goto out;
	}
	err = hmac_init(auth);
	if (err)
		goto out;

	err = hash_alloc(&auth->users, 64);
	if (err)
		goto out;
	err = hash_alloc(&auth->nct, auth->conf.nc_table_max / 2 + 1);
	if (err)
		goto out;
	err = hash_alloc(&auth->failt, auth->conf.fail_table_max / 2 + 1);
	if (err)
		goto out;
	list_init(&auth->nc_lru);
	list_init(&auth->fail_lru);

out:
	if (err)
		mem_deref(auth);
	else
		*authp = auth;
	return err;
}


/* ---- hashing helpers ---- */

/* Input of digest_hex() joined in one buffer up to this size: one
 * EVP_DigestUpdate() instead of two per part (each costs a provider
 * dispatch, more than hashing the few octets it carries). */
#define DIGEST_JOIN_MAX 1024

/* H(p0 ":" p1 ":" ... ) into md (alg_len(alg) octets); in keep (a
 * context bound to alg, re-initialised: the provider's state is kept)
 * or, without one, in a context made for it. */
static int digest_md(EVP_MD_CTX *keep, enum auth_algo alg,
		     const struct pl *parts, size_t n, uint8_t *md)
{
	char join[DIGEST_JOIN_MAX];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t i, len = 0;
	bool joined = false;
	int err = 0;

	if (alg >= AUTH_ALG_NUM)
		return EINVAL;
	for (i = 0; i < n && len <= sizeof(join); i++)
		len += parts[i].l + (i ? 1 : 0);
	ctx = keep ? keep : EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;
	if (keep ? !EVP_DigestInit_ex2(ctx, NULL, NULL)
		 : !EVP_DigestInit_ex(ctx, alg_md(alg), NULL)) {
		err = EIO;
		goto out;
	}
	if (len <= sizeof(join)) {
		joined = true;
		len = 0;
		for (i = 0; i < n; i++) {
			if (i)
				join[len++] = ':';
			if (parts[i].l)
				memcpy(join + len, parts[i].p, parts[i].l);
			len += parts[i].l;
		}
		if (!EVP_DigestUpdate(ctx, join, len)) {
			err = EIO;
			goto out;
		}
		n = 0;
	}
	for (i = 0; i < n; i++) {
		if (i && !EVP_DigestUpdate(ctx, ":", 1)) {
			err = EIO;
			goto out;
		}
		if (parts[i].l &&
		    !EVP_DigestUpdate(ctx, parts[i].p, parts[i].l)) {
			err = EIO;
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != alg_len(alg))
		err = EIO;
out:
	if (joined) /* HA1 or a password may be in it */
		OPENSSL_cleanse(join, len);
	if (!keep)
		EVP_MD_CTX_free(ctx);
	return err;
}


/* The same as lowercase hex. */
static int digest_hex(EVP_MD_CTX *keep, enum auth_algo alg,
		      const struct pl *parts, size_t n, char *hex, size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	int err;

	if (alg >= AUTH_ALG_NUM || size < 2 * alg_len(alg) + 1)
		return EINVAL;
	err = digest_md(keep, alg, parts, n, md);
	if (!err)
		hex_encode(hex, md, alg_len(alg));
	return err;
}


/**
 * HA1 = H(username ":" realm ":" password), RFC 7616 3.4.2.
 *
 * @param hex   receives lowercase hex, NUL-terminated
 * @param size  at least 2 * digest length + 1 (AUTH_HA1_HEX_MAX suffices)
 */
int auth_ha1(enum auth_algo alg, const char *user, const char *realm,
	     const char *password, char *hex, size_t size)
{
	struct pl parts[3];

	if (!user || !realm || !password || !hex)
		return EINVAL;
	pl_set_str(&parts[0], user);
	pl_set_str(&parts[1], realm);
	pl_set_str(&parts[2], password);
	return digest_hex(NULL, alg, parts, 3, hex, size);
}


/* The request-digest of auth_response() as octets (md: alg_len(alg)),
 * in the context keep (may be NULL). */
static int response_md(EVP_MD_CTX *keep, enum auth_algo alg, const char *ha1hex,
		       const struct pl *nonce, const struct pl *nc,
		       const struct pl *cnonce, const struct pl *qop,
		       const struct pl *method, const struct pl *uri,
		       uint8_t *md)
{
	char ha2[2 * DIGEST_MAX + 1];
	struct pl parts[6];
	int err;

	if (!ha1hex || !nonce || !method || !uri)
		return EINVAL;

	/* RFC 7616 3.4.3: A2 = Method ":" request-uri (qop "auth") */
	parts[0] = *method;
	parts[1] = *uri;
	err = digest_hex(keep, alg, parts, 2, ha2, sizeof(ha2));
	if (err)
		return err;

	pl_set_str(&parts[0], ha1hex);
	parts[1] = *nonce;
	if (qop && qop->l) {
		if (!nc || !cnonce)
			return EINVAL;
		parts[2] = *nc;
		parts[3] = *cnonce;
		parts[4] = *qop;
		pl_set_str(&parts[5], ha2);
		return digest_md(keep, alg, parts, 6, md);
	}
	pl_set_str(&parts[2], ha2);
	return digest_md(keep, alg, parts, 3, md);
}


/**
 * The request-digest a client must send (RFC 7616 3.4.1; RFC 2617
 * 3.2.2.1 when qop is empty).
 *
 * @param ha1hex  HA1 in lowercase hex
 * @param qop     "auth", or empty for the RFC 2069 form
 * @param hex     receives the digest as lowercase hex
 */
int auth_response(enum auth_algo alg, const char *ha1hex,
		  const struct pl *nonce, const struct pl *nc,
		  const struct pl *cnonce, const struct pl *qop,
		  const struct pl *method, const struct pl *uri, char *hex,
		  size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	int err;

	if (alg >= AUTH_ALG_NUM || !hex || size < 2 * alg_len(alg) + 1)
		return EINVAL;
	err = response_md(NULL, alg, ha1hex, nonce, nc, cnonce, qop, method,
			  uri, md);
	if (!err)
		hex_encode(hex, md, alg_len(alg));
	return err;
}


enum auth_algo auth_algo_of(const struct pl *name)
{
	/* RFC 7616 3.3: "If this is not present, it is assumed to be MD5" */
	if (!name || !name->l || pl_eq_str_ci(name, "MD5"))
		return AUTH_ALG_MD5;
	if (pl_eq_str_ci(name, "SHA-256"))
		return AUTH_ALG_SHA256;
	return AUTH_ALG_NUM;
}


const char *auth_algo_name(enum auth_algo alg)
{
	return alg < AUTH_ALG_NUM ? alg_names[alg] : "?";
}


static bool alg_enabled(const struct auth *auth, enum auth_algo alg)
{
	if (alg == AUTH_ALG_MD5)
		return !auth->conf.no_md5;
	if (alg == AUTH_ALG_SHA256)
		return !auth->conf.no_sha256;
	return false;
}


/* Decode exactly NONCE_RAW octets from NONCE_B64 characters. */
static bool nonce_decode(const struct pl *pl, uint8_t *out)
{
	size_t len;

	/* base64url (RFC 4648 5) without padding, canonical: the unused low
	 * bits of the last character must be zero, so that one nonce has
	 * one spelling */
	return pl->l == NONCE_B64 &&
	       !base64_decode(pl->p, pl->l, out, NONCE_RAW, &len,
			      BASE64_URL | BASE64_CANONICAL) &&
	       len == NONCE_RAW;
}


/* ---- nonces and opaque ---- */

static void be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}


static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}


/*
 * The MACs of a challenge's nonces: HMAC-SHA256(K, ts || c || realm),
 * where c is ctr with its low bit (the algorithm) cleared; the first half
 * authenticates the MD5 nonce (ctr = c), the second the SHA-256 one
 * (ctr = c + 1).  The halves of one HMAC output are independent: knowing
 * one does not help forge the other, so a nonce works only with the
 * algorithm it was offered with, as when each line had its own HMAC, at
 * half the cost of a challenge.
 */
static int nonce_macs(const struct auth *auth, const uint8_t *id,
		      const char *realm, size_t realm_len,
		      uint8_t mac[AUTH_ALG_NUM][NONCE_MAC])
{
	uint8_t buf[NONCE_ID + AUTH_REALM_MAX];
	uint8_t md[32];

	if (realm_len > AUTH_REALM_MAX)
		return EINVAL;
	memcpy(buf, id, NONCE_ID);
	buf[NONCE_ID - 1] &= 0xfe;
	memcpy(buf + NONCE_ID, realm, realm_len);
	if (hmac256(auth, buf, NONCE_ID + realm_len, md))
		return EIO;
	memcpy(mac[AUTH_ALG_MD5], md, NONCE_MAC);
	memcpy(mac[AUTH_ALG_SHA256], md + NONCE_MAC, NONCE_MAC);
	return 0;
}


/* A fresh nonce id (ts || c, c even) and its MACs, for one challenge. */
static int nonce_new(struct auth *auth, const char *realm, uint8_t *id,
		     uint8_t mac[AUTH_ALG_NUM][NONCE_MAC])
{
	auth->ctr = (auth->ctr | 1) + 1;
	be64(id, now_ms(auth));
	be64(id + 8, auth->ctr);
	return nonce_macs(auth, id, realm, strlen(realm), mac);
}


/* The low bit of ctr is the algorithm's number. */
_Static_assert(AUTH_ALG_MD5 == 0 && AUTH_ALG_SHA256 == 1 && AUTH_ALG_NUM == 2,
	       "nonce ctr low bit");

/* The nonce text of the line of a challenge offered with alg. */
static int nonce_text(const uint8_t *id, enum auth_algo alg,
		      const uint8_t mac[AUTH_ALG_NUM][NONCE_MAC], char *out)
{
	uint8_t raw[NONCE_RAW];

	memcpy(raw, id, NONCE_ID);
	raw[NONCE_ID - 1] |= (uint8_t)alg; /* AUTH_ALG_MD5 0, SHA256 1 */
	memcpy(raw + NONCE_ID, mac[alg], NONCE_MAC);
	return base64_encode(out, NONCE_B64 + 1, raw, NONCE_RAW, BASE64_URL);
}


/* The opaque of a realm: HMAC(K, "opaque" realm), stable for the boot. */
static int opaque_make(struct auth *auth, const char *realm, size_t realm_len,
		       char *out)
{
	static const uint8_t label[6] = { 'o', 'p', 'a', 'q', 'u', 'e' };
	uint8_t buf[6 + AUTH_REALM_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];

	if (realm_len > AUTH_REALM_MAX)
		return EINVAL;
	memcpy(buf, label, sizeof(label));
	memcpy(buf + 6, realm, realm_len);
	if (realm_len < sizeof(auth->op_realm) && auth->op_val[0] &&
	    !strncmp(auth->op_realm, realm, realm_len) &&
	    !auth->op_realm[realm_len]) {
		/* the same realm as last time: the same opaque */
		memcpy(out, auth->op_val, OPAQUE_B64 + 1);
		return 0;
	}
	if (hmac256(auth, buf, 6 + realm_len, md))
		return EIO;
	if (base64_encode(out, OPAQUE_B64 + 1, md, OPAQUE_RAW, BASE64_URL))
		return EIO;
	if (realm_len < sizeof(auth->op_realm)) {
		memcpy(auth->op_realm, realm, realm_len);
		auth->op_realm[realm_len] = '\0';
		memcpy(auth->op_val, out, OPAQUE_B64 + 1);
	}
	return 0;
}


/* An empty result: everything zero but the header text, which is an
 * empty string (1 KiB of zeros per request for nothing). */
static void res_clear(struct auth_result *res)
{
	memset(res, 0, offsetof(struct auth_result, hdrs));
	res->hdrs[0] = '\0';
	memset(&res->username, 0,
	       sizeof(*res) - offsetof(struct auth_result, username));
}


/* A realm goes into a quoted-string: no quotes, backslashes or controls. */
static bool realm_ok(const char *realm)
{
	static _Thread_local char last[AUTH_REALM_MAX + 1];
	size_t i, n;

	if (!realm)
		return false;
	/* the realm checked last, again (it is the registrar's, the same
	 * for every request): one compare instead of the walk */
	if (last[0] && !strcmp(realm, last))
		return true;
	n = strlen(realm);
	if (!n || n > AUTH_REALM_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)realm[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return false;
	}
	memcpy(last, realm, n + 1);
	return true;
}


/* Append str to buf[size] at *off, keeping it NUL-terminated; ENOSPC
 * when it does not fit.  (A challenge is written for every first
 * REGISTER: snprintf's format parsing was a tenth of its cost.) */
static int put(char *buf, size_t size, size_t *off, const char *str)
{
	size_t n = strlen(str);

	if (n >= size - *off)
		return ENOSPC;
	memcpy(buf + *off, str, n + 1);
	*off += n;
	return 0;
}


/**
 * Write the challenge header lines, one per algorithm, each with its own
 * nonce, qop="auth" and the realm's opaque.  RFC 7616 3.7 and RFC 8760
 * 2.4 have the server list them in its order of preference and the client
 * use the first it supports.  MD5 comes first unless conf.sha256_first:
 * many deployed clients (sipp 3.6, older phones) answer only the first
 * challenge and fail on a SHA-256 one, which RFC 8760 section 2.4
 * acknowledges as the reason for keeping MD5 offered.
 *
 * @param stale  add stale=true (RFC 7616 3.3)
 * @return 0, EINVAL (bad realm), ENOSPC (hdrs too small), EIO
 */
int auth_challenge(struct auth *auth, const char *realm, enum auth_mode mode,
		   bool stale, char *hdrs, size_t size)
{
	static const enum auth_algo md5_first[] = { AUTH_ALG_MD5,
						    AUTH_ALG_SHA256 };
	static const enum auth_algo sha_first[] = { AUTH_ALG_SHA256,
						    AUTH_ALG_MD5 };
	const enum auth_algo *order;
	const char *hname = mode == AUTH_MODE_PROXY ? "Proxy-Authenticate"
						    : "WWW-Authenticate";
	char nonce[NONCE_B64 + 1], opaque[OPAQUE_B64 + 1];
	uint8_t id[NONCE_ID], mac[AUTH_ALG_NUM][NONCE_MAC];
	size_t i, off = 0;
	int err;

	if (!auth || !hdrs || !size || !realm_ok(realm))
		return EINVAL;
	order = auth->conf.sha256_first ? sha_first : md5_first;
	hdrs[0] = '\0';
	err = opaque_make(auth, realm, strlen(realm), opaque);
	if (!err)
		err = nonce_new(auth, realm, id, mac);
	if (err)
		return err;
	for (i = 0; i < AUTH_ALG_NUM; i++) {
		if (!alg_enabled(auth, order[i]))
			continue;
		err = nonce_text(id, order[i], mac, nonce);
		if (err)
			return err;
		if (put(hdrs, size, &off, hname) ||
		    put(hdrs, size, &off, ": Digest realm=\"") ||
		    put(hdrs, size, &off, realm) ||
		    put(hdrs, size, &off, "\", nonce=\"") ||
		    put(hdrs, size, &off, nonce) ||
		    put(hdrs, size, &off, "\", opaque=\"") ||
		    put(hdrs, size, &off, opaque) ||
		    put(hdrs, size, &off, "\", algorithm=") ||
		    put(hdrs, size, &off, alg_names[order[i]]) ||
		    put(hdrs, size, &off, ", qop=\"auth\"") ||
		    (stale && put(hdrs, size, &off, ", stale=true")) ||
		    put(hdrs, size, &off, "\r\n")) {
			hdrs[0] = '\0';
			return ENOSPC;
		}
	}
	return 0;
}


/* ---- the credential table ---- */

static uint32_t authuser_key(const struct pl *user, const struct pl *realm)
{
	return hash_fast(user->p, user->l) * 31u ^
	       hash_fast(realm->p, realm->l);
}


static struct authuser *authuser_find(const struct auth *auth,
				      const struct pl *user,
				      const struct pl *realm)
{
	struct le *le;

	LIST_FOREACH (hash_list(auth->users, authuser_key(user, realm)), le) {
		struct authuser *uc = le->data;
		if (pl_eq_str(user, uc->user) && pl_eq_str(realm, uc->realm))
			return uc;
	}
	return NULL;
}


static bool hex_ok(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (pl_hexval(s[i]) < 0)
			return false;
	return true;
}


int auth_user_set_ha1(struct auth *auth, const char *user, const char *realm,
		      const char *ha1_md5, const char *ha1_sha256)
{
	struct pl u, r;
	struct authuser *uc;
	size_t i;
	bool fresh = false;

	if (!auth || !user || !*user || !realm_ok(realm) ||
	    strlen(user) > AUTH_USER_MAX || (!ha1_md5 && !ha1_sha256))
		return EINVAL;
	if ((ha1_md5 && !hex_ok(ha1_md5, 32)) ||
	    (ha1_sha256 && !hex_ok(ha1_sha256, 64)))
		return EINVAL;

	pl_set_str(&u, user);
	pl_set_str(&r, realm);
	uc = authuser_find(auth, &u, &r);
	if (!uc) {
		uc = mem_zalloc(sizeof(*uc), authuser_destructor);
		if (!uc)
			return ENOMEM;
		uc->user = mem_strdup(user, strlen(user));
		uc->realm = mem_strdup(realm, strlen(realm));
		if (!uc->user || !uc->realm) {
			mem_deref(uc);
			return ENOMEM;
		}
		fresh = true;
	}
	memset(uc->ha1, 0, sizeof(uc->ha1));
	if (ha1_md5)
		memcpy(uc->ha1[AUTH_ALG_MD5], ha1_md5, 33);
	if (ha1_sha256)
		memcpy(uc->ha1[AUTH_ALG_SHA256], ha1_sha256, 65);
	/* hex compares case-insensitively, HA1 enters H() as lowercase */
	for (i = 0; i < AUTH_ALG_NUM; i++) {
		char *p;
		for (p = uc->ha1[i]; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p + 32);
	}
	if (fresh)
		hash_append(auth->users, authuser_key(&u, &r), &uc->he, uc);
	return 0;
}


/**
 * Provision a user: both HA1s are computed now and the password dropped.
 */
int auth_user_set(struct auth *auth, const char *user, const char *realm,
		  const char *password)
{
	char md5[AUTH_HA1_HEX_MAX], sha[AUTH_HA1_HEX_MAX];
	int err;

	if (!password)
		return EINVAL;
	err = auth_ha1(AUTH_ALG_MD5, user, realm, password, md5, sizeof(md5));
	if (!err)
		err = auth_ha1(AUTH_ALG_SHA256, user, realm, password, sha,
			       sizeof(sha));
	if (!err)
		err = auth_user_set_ha1(auth, user, realm, md5, sha);
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return err;
}


void auth_user_del(struct auth *auth, const char *user, const char *realm)
{
	struct authuser *uc;
	struct pl u, r;

	if (!auth || !user || !realm)
		return;
	pl_set_str(&u, user);
	pl_set_str(&r, realm);
	uc = authuser_find(auth, &u, &r);
	if (uc) {
		hash_unlink(auth->users, &uc->he);
		mem_deref(uc);
	}
}


static int cred_get(struct auth *auth, const struct pl *user,
		    const struct pl *realm, enum auth_algo alg, char *ha1)
{
	const struct authuser *uc;

	if (auth->conf.credh)
		return auth->conf.credh(user, realm, alg, ha1,
					auth->conf.cred_arg);
	uc = authuser_find(auth, user, realm);
	if (!uc || !uc->ha1[alg][0])
		return ENOENT;
	memcpy(ha1, uc->ha1[alg], AUTH_HA1_HEX_MAX);
	return 0;
}


/* ---- the nonce-count table ---- */

static struct nce *nce_find(const struct auth *auth, const uint8_t *id)
{
	struct le *le;

	LIST_FOREACH (
		hash_list(auth->nct, hash_fast((const char *)id, NONCE_ID)),
		le) {
		struct nce *e = le->data;
		if (!memcmp(e->id, id, NONCE_ID))
			return e;
	}
	return NULL;
}


static void nce_remove(struct auth *auth, struct nce *e, bool evicted)
{
	uint64_t lifetime = (uint64_t)auth->conf.nonce_lifetime_s * 1000;

	/* an evicted nonce that is still alive raises the watermark */
	if (evicted && e->ts + lifetime >= now_ms(auth) &&
	    e->ts > auth->nc_watermark) {
		auth->nc_watermark = e->ts;
		auth->st.nc_evicted++;
	}
	hash_unlink(auth->nct, &e->he);
	mem_deref(e); /* unlinks lru */
}


/**
 * Check and record the nonce-count of a nonce whose MAC and age are good.
 *
 * @return true when the use is fresh (nc grew, or first use)
 */
static bool nc_accept(struct auth *auth, const uint8_t *id, uint64_t ts,
		      bool has_qop, uint32_t nc)
{
	uint64_t lifetime = (uint64_t)auth->conf.nonce_lifetime_s * 1000;
	uint64_t now = now_ms(auth);
	struct nce *e = nce_find(auth, id);

	if (e) {
		if (e->once || !has_qop || nc <= e->nc)
			return false; /* RFC 7616 3.4: replay */
		e->nc = nc;
		list_unlink(&e->lru);
		list_prepend(&auth->nc_lru, &e->lru, e);
		return true;
	}
	if (ts <= auth->nc_watermark)
		return false; /* may have been evicted: history unknown */

	/* drop expired entries from the cold end, then make room */
	while (auth->nc_lru.tail) {
		struct nce *old = auth->nc_lru.tail->data;
		if (old->ts + lifetime >= now &&
		    auth->nct->n < auth->conf.nc_table_max)
			break;
		nce_remove(auth, old, old->ts + lifetime >= now);
	}

	e = mem_zalloc(sizeof(*e), nce_destructor);
	if (!e) {
		/* cannot remember it: refuse rather than allow replays */
		return false;
	}
	memcpy(e->id, id, NONCE_ID);
	e->ts = ts;
	e->nc = has_qop ? nc : UINT32_MAX;
	e->once = !has_qop;
	hash_append(auth->nct, hash_fast((const char *)id, NONCE_ID), &e->he,
		    e);
	list_prepend(&auth->nc_lru, &e->lru, e);
	return true;
}


/* ---- the failure table ---- */

static void addr_key(struct sa *key, const struct sa *src)
{
	*key = *src;
	sa_set_port(key, 0);
}


static struct fail *fail_find(const struct auth *auth, const struct sa *key)
{
	struct le *le;

	LIST_FOREACH (hash_list(auth->failt, sa_hash(key)), le) {
		struct fail *f = le->data;
		if (sa_eq_addr(&f->addr, key))
			return f;
	}
	return NULL;
}


static bool throttled(struct auth *auth, const struct sa *src)
{
	struct sa key;
	struct fail *f;

	if (!src || !sa_isset(src))
		return false;
	addr_key(&key, src);
	f = fail_find(auth, &key);
	if (!f || !f->blocked_until)
		return false;
	if (now_ms(auth) < f->blocked_until)
		return true;
	/* the cooling period is over: start afresh */
	f->blocked_until = 0;
	f->count = 0;
	return false;
}


static void fail_note(struct auth *auth, const struct sa *src,
		      const struct pl *user)
{
	uint64_t now = now_ms(auth);
	char host[SA_STRLEN];
	struct sa key;
	struct fail *f;

	if (!src || !sa_isset(src))
		return;
	addr_key(&key, src);
	f = fail_find(auth, &key);
	if (!f) {
		while (auth->failt->n >= auth->conf.fail_table_max &&
		       auth->fail_lru.tail) {
			struct fail *old = auth->fail_lru.tail->data;
			hash_unlink(auth->failt, &old->he);
			mem_deref(old);
		}
		f = mem_zalloc(sizeof(*f), fail_destructor);
		if (!f)
			return;
		f->addr = key;
		f->win_start = now;
		hash_append(auth->failt, sa_hash(&key), &f->he, f);
	} else {
		list_unlink(&f->lru);
	}
	list_prepend(&auth->fail_lru, &f->lru, f);

	if (now - f->win_start > (uint64_t)auth->conf.fail_window_s * 1000) {
		f->win_start = now;
		f->count = 0;
	}
	if (++f->count >= auth->conf.fail_max && !f->blocked_until) {
		f->blocked_until =
			now + (uint64_t)auth->conf.fail_block_s * 1000;
		if (sa_ntop(src, host, sizeof(host)) <= 0)
			(void)snprintf(host, sizeof(host), "?");
		/* once per episode: further refusals are silent */
		LOG_WARN(NULL,
			 "%u authentication failures from %s within %us "
			 "(last username \"%.*s\"): refusing it for %us",
			 f->count, host, auth->conf.fail_window_s,
			 (user && user->p) ? (int)(user->l > 64 ? 64 : user->l)
					   : 0,
			 (user && user->p) ? user->p : "",
			 auth->conf.fail_block_s);
	}
}


/* ---- verification ---- */

static int set_challenge(struct auth *auth, struct auth_result *res,
			 enum auth_verdict v, const char *realm,
			 enum auth_mode mode)
{
	res->verdict = v;
	res->scode = mode == AUTH_MODE_PROXY ? 407 : 401;
	res->reason = mode == AUTH_MODE_PROXY ? "Proxy Authentication Required"
					      : "Unauthorized";
	return auth_challenge(auth, realm, mode, v == AUTH_STALE, res->hdrs,
			      sizeof(res->hdrs));
}


static void set_bad(struct auth *auth, struct auth_result *res,
		    const char *reason)
{
	res->verdict = AUTH_BAD;
	res->scode = 400;
	res->reason = reason;
	res->hdrs[0] = '\0';
	auth->st.bad++;
}


static void set_throttled(struct auth *auth, struct auth_result *res)
{
	res->verdict = AUTH_THROTTLED;
	res->scode = 403;
	res->reason = "Forbidden (too many authentication failures)";
	res->hdrs[0] = '\0';
	auth->st.throttled++;
}


/* RFC 3261 22.4 and RFC 2617 3.2.2.5: the digest-uri must name the
 * Request-URI.  SIP/SIPS URIs compare by RFC 3261 19.1.4, others as
 * text. */
static bool uri_matches(const struct pl *duri, const struct pl *ruri)
{
	struct sip_uri a, b;

	if (pl_eq(duri, ruri))
		return true;
	if (sip_uri_decode(&a, duri) || sip_uri_decode(&b, ruri))
		return false;
	if ((a.sch != SIP_SCHEME_SIP && a.sch != SIP_SCHEME_SIPS) ||
	    a.sch != b.sch)
		return false;
	return sip_uri_eq(&a, &b);
}


/* RFC 7616 3.4: nc is exactly 8 hex digits */
static bool nc_decode(const struct pl *pl, uint32_t *nc)
{
	uint8_t b[4];

	if (hex_decode(b, 4, pl->p, pl->l))
		return false;
	*nc = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	      (uint32_t)b[2] << 8 | b[3];
	return true;
}


/* MAC, age and opaque of the nonce; *id and *ts set when the MAC holds. */
static bool nonce_valid(struct auth *auth, const struct sip_authhdr *ah,
			enum auth_algo alg, const char *realm, uint8_t *id,
			uint64_t *ts)
{
	uint64_t lifetime = (uint64_t)auth->conf.nonce_lifetime_s * 1000;
	uint8_t raw[NONCE_RAW], mac[AUTH_ALG_NUM][NONCE_MAC];
	char opaque[OPAQUE_B64 + 1];
	uint64_t now = now_ms(auth);

	if (!nonce_decode(&ah->nonce, raw))
		return false;
	if ((raw[NONCE_ID - 1] & 1) != (uint8_t)alg)
		return false; /* offered with the other algorithm */
	if (nonce_macs(auth, raw, realm, strlen(realm), mac))
		return false;
	if (CRYPTO_memcmp(mac[alg], raw + NONCE_ID, NONCE_MAC))
		return false;
	memcpy(id, raw, NONCE_ID);
	*ts = rd64(raw);
	if (*ts > now || now - *ts > lifetime)
		return false; /* RFC 7616 3.3: stale */
	/* RFC 7616 3.4: opaque comes back unchanged.  Clients that leave it
	 * out are tolerated: nothing rides on it, the nonce holds the
	 * state. */
	if (ah->opaque.l) {
		if (opaque_make(auth, realm, strlen(realm), opaque))
			return false;
		if (!pl_eq_str(&ah->opaque, opaque))
			return false;
	}
	return true;
}


/**
 * Verify one set of credentials (RFC 7616 3.4, RFC 3261 22.4).
 *
 * @param ah      decoded Authorization / Proxy-Authorization value
 * @param method  the request method (A2 = method ":" uri)
 * @param ruri    the Request-URI text
 * @param src     the source address, for throttling (may be NULL)
 * @param realm   the realm the request must be authenticated in
 * @param res     receives the decision
 * @return 0 (decision made), EINVAL, ENOMEM or EIO (no decision)
 */
int auth_verify(struct auth *auth, const struct sip_authhdr *ah,
		const struct pl *method, const struct pl *ruri,
		const struct sa *src, const char *realm, enum auth_mode mode,
		struct auth_result *res)
{
	char ha1[AUTH_HA1_HEX_MAX];
	uint8_t want[DIGEST_MAX], got[DIGEST_MAX], id[NONCE_ID];
	struct pl rl, qop = PL_INIT;
	enum auth_algo alg;
	uint64_t ts = 0;
	uint32_t nc = 0;
	bool has_qop;
	int err;

	if (!auth || !ah || !method || !ruri || !res || !realm_ok(realm))
		return EINVAL;
	res_clear(res);
	pl_set_str(&rl, realm);

	if (throttled(auth, src)) {
		set_throttled(auth, res);
		return 0;
	}

	/* Not for us, or not answerable: a plain challenge (RFC 3261 22.1;
	 * RFC 4475 3.3.7 "NoOneKnowsThisScheme") */
	alg = auth_algo_of(&ah->algorithm);
	if (!pl_eq_str_ci(&ah->scheme, "Digest") || !pl_eq(&ah->realm, &rl) ||
	    alg == AUTH_ALG_NUM || !alg_enabled(auth, alg) || ah->userhash ||
	    !ah->nonce.l || !ah->response.l) {
		/* TS 24.229 5.1.1.2: a first REGISTER may carry empty nonce
		 * and response: that is a request for a challenge too */
		auth->st.challenged++;
		return set_challenge(auth, res, AUTH_CHALLENGE, realm, mode);
	}

	if (!ah->username.l || !ah->uri.l)
		goto bad_incomplete;
	if (ah->username.l > AUTH_USER_MAX) {
		set_bad(auth, res, "Bad Request (Digest username too long)");
		return 0;
	}

	has_qop = ah->qop.l > 0;
	if (has_qop) {
		if (!pl_eq_str_ci(&ah->qop, "auth")) {
			/* only qop="auth" is offered */
			auth->st.challenged++;
			return set_challenge(auth, res, AUTH_CHALLENGE, realm,
					     mode);
		}
		if (!ah->cnonce.l || !ah->nc.l)
			goto bad_incomplete;
		if (!nc_decode(&ah->nc, &nc) || nc == 0) {
			set_bad(auth, res, "Bad Request (malformed Digest nc)");
			return 0;
		}
		pl_set_str(&qop, "auth");
	} else if (alg != AUTH_ALG_MD5) {
		/* RFC 7616 3.4: qop is mandatory; only RFC 2069 MD5 clients
		 * may leave it out */
		auth->st.challenged++;
		return set_challenge(auth, res, AUTH_CHALLENGE, realm, mode);
	}

	if (!uri_matches(&ah->uri, ruri)) {
		/* RFC 2617 3.2.2.5: "SHOULD return a 400 Bad Request" */
		set_bad(auth, res,
			"Bad Request (Digest uri does not match Request-URI)");
		return 0;
	}

	err = cred_get(auth, &ah->username, &ah->realm, alg, ha1);
	if (err == ENOENT) {
		LOG_DEBUG(NULL, "unknown user \"%.*s\" in realm %s",
			  PL_FMT(&ah->username), realm);
		goto failed;
	}
	if (err)
		return err;

	/* the expected digest as octets, compared with the client's */
	err = response_md(auth->dg[alg], alg, ha1, &ah->nonce, &ah->nc,
			  &ah->cnonce, &qop, method, &ah->uri, want);
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (err)
		return err;
	/* constant time: no early exit on the first differing octet */
	if (hex_decode(got, alg_len(alg), ah->response.p, ah->response.l) ||
	    CRYPTO_memcmp(want, got, alg_len(alg)))
		goto failed;

	/* The client knows the password; now, is the nonce ours, young and
	 * unused at this nc?  If not: stale=true (RFC 7616 3.3), so the
	 * client retries without asking the user again. */
	if (!nonce_valid(auth, ah, alg, realm, id, &ts) ||
	    !nc_accept(auth, id, ts, has_qop, nc)) {
		auth->st.stale++;
		return set_challenge(auth, res, AUTH_STALE, realm, mode);
	}

	res->verdict = AUTH_OK;
	res->scode = 0;
	res->reason = NULL;
	res->hdrs[0] = '\0';
	res->username = ah->username;
	res->realm = ah->realm;
	res->alg = alg;
	auth->st.ok++;
	return 0;

bad_incomplete:
	set_bad(auth, res, "Bad Request (incomplete Digest credentials)");
	return 0;

failed:
	auth->st.failed++;
	fail_note(auth, src, &ah->username);
	if (throttled(auth, src)) {
		set_throttled(auth, res);
		return 0;
	}
	return set_challenge(auth, res, AUTH_FAILED, realm, mode);
}


/* The scheme token of a credentials value (for values that fail to
 * decode). */
static bool scheme_is_digest(const struct pl *val)
{
	struct pl s = *val;
	size_t i;

	pl_trim(&s);
	for (i = 0; i < s.l && s.p[i] != ' ' && s.p[i] != '\t'; i++)
		;
	s.l = i;
	return pl_eq_str_ci(&s, "Digest");
}


/**
 * Authenticate a request (RFC 3261 22.2 for registrars and UASs, 22.3 for
 * proxies).  Of several credentials (one per realm, RFC 3261 22.3), the
 * one for `realm` with a supported algorithm is used, SHA-256 preferred.
 *
 * @param req    the request (its Request-URI, method and source are used)
 * @param realm  the realm this request is authenticated in
 * @param mode   AUTH_MODE_UAS (401/Authorization) or AUTH_MODE_PROXY
 * @param res    receives the decision
 * @return 0 (decision made) or an errno (answer 500)
 */
int auth_check(struct auth *auth, struct sip_msg *req, const char *realm,
	       enum auth_mode mode, struct auth_result *res)
{
	enum sip_hdr_id id = mode == AUTH_MODE_PROXY
				     ? SIP_HDR_PROXY_AUTHORIZATION
				     : SIP_HDR_AUTHORIZATION;
	struct sip_authhdr best, ah;
	const struct sip_hdr *h;
	enum auth_algo best_alg = AUTH_ALG_NUM;
	bool malformed = false;
	struct pl rl;

	if (!auth || !req || !res || !realm_ok(realm))
		return EINVAL;
	res_clear(res);
	memset(&best, 0, sizeof(best));
	pl_set_str(&rl, realm);

	if (throttled(auth, &req->src)) {
		set_throttled(auth, res);
		return 0;
	}

	for (h = sip_msg_hdr(req, id); h; h = sip_msg_hdr_next(req, h)) {
		enum auth_algo alg;

		if (sip_authhdr_decode(&ah, &h->val)) {
			if (scheme_is_digest(&h->val))
				malformed = true;
			continue;
		}
		if (!pl_eq_str_ci(&ah.scheme, "Digest") ||
		    !pl_eq(&ah.realm, &rl))
			continue;
		alg = auth_algo_of(&ah.algorithm);
		if (alg == AUTH_ALG_NUM || !alg_enabled(auth, alg))
			continue;
		if (best_alg == AUTH_ALG_NUM ||
		    (alg == AUTH_ALG_SHA256 && best_alg != AUTH_ALG_SHA256)) {
			best = ah;
			best_alg = alg;
		}
	}

	if (best_alg == AUTH_ALG_NUM) {
		if (malformed) {
			set_bad(auth, res,
				"Bad Request (malformed Digest credentials)");
			return 0;
		}
		auth->st.challenged++;
		return set_challenge(auth, res, AUTH_CHALLENGE, realm, mode);
	}
	return auth_verify(auth, &best, &req->met, &req->ruri, &req->src, realm,
			   mode, res);
}


void auth_stats(const struct auth *auth, struct auth_stats *st)
{
	if (!auth || !st)
		return;
	*st = auth->st;
	st->nc_entries = auth->nct->n;
	st->fail_entries = auth->failt->n;
}
