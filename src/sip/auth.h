/**
 * @file auth.h  Server-side HTTP Digest authentication for SIP
 * (RFC 3261 22, RFC 7616, RFC 8760, RFC 2617 compatibility).
 *
 * The module decides; it does not send.  auth_check() looks at a decoded
 * request and fills a struct auth_result: accepted (with the authenticated
 * username), or the status code, reason and header lines of the answer
 * (401 + WWW-Authenticate, 407 + Proxy-Authenticate, 400, 403).  The
 * caller passes res.scode, res.reason and res.hdrs to sip_reply_build()
 * (opts.hdrs) or to its server transaction.
 *
 * Secrets are held as HA1 per (username, realm), one for MD5 and one for
 * SHA-256, never as plaintext.  Nonces are stateless (HMAC of a timestamp,
 * a counter and the realm under a per-boot key); only the nonce-count
 * replay table and the failure table hold state, both bounded.
 * See docs/internals/auth-registrar.md.
 */
#ifndef IMS_SIP_AUTH_H
#define IMS_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct sa;
struct sip_msg;
struct sip_authhdr;
struct auth;

enum auth_algo {
	AUTH_ALG_MD5 = 0, /* RFC 2617 / RFC 7616 "MD5" */
	AUTH_ALG_SHA256,  /* RFC 7616 / RFC 8760 "SHA-256" */
	AUTH_ALG_NUM
};

/* Who challenges: a registrar or UAS (401, WWW-Authenticate and
 * Authorization) or a proxy (407, Proxy-Authenticate and
 * Proxy-Authorization), RFC 3261 22.2 and 22.3. */
enum auth_mode {
	AUTH_MODE_UAS = 0,
	AUTH_MODE_PROXY
};

#define AUTH_HA1_HEX_MAX 65 /* 64 hex digits of SHA-256 + NUL */
#define AUTH_REALM_MAX   128
#define AUTH_USER_MAX    128
#define AUTH_HDRS_MAX    1024 /* both challenge lines, with CRLFs */

/* Credential lookup: write the lowercase-hex HA1 of (username, realm) for
 * the algorithm into ha1 (size AUTH_HA1_HEX_MAX).  Return 0, ENOENT for an
 * unknown user, or another errno.  The default (conf.credh NULL) is the
 * module's own table filled by auth_user_set(). */
typedef int(auth_cred_h)(const struct pl *username, const struct pl *realm,
			 enum auth_algo alg, char *ha1, void *arg);

/* Time source in ms; the default is tmr_jiffies() (tests freeze it). */
typedef uint64_t(auth_now_h)(void);

struct auth_conf {
	uint32_t nonce_lifetime_s; /* default 300 */
	uint32_t nc_table_max;     /* nonces tracked for nc, default 8192 */
	uint32_t fail_max;         /* failures per source IP, default 10 */
	uint32_t fail_window_s;    /* ... within this window, default 60 */
	uint32_t fail_block_s;     /* then refuse for this long, default 300 */
	uint32_t fail_table_max;   /* source IPs tracked, default 4096 */
	bool no_md5;               /* do not offer or accept MD5 */
	bool no_sha256;            /* do not offer or accept SHA-256 */
	bool sha256_first;     /* offer SHA-256 before MD5 (auth_challenge) */
	const uint8_t *secret; /* nonce key; NULL: random per boot */
	size_t secret_len;
	auth_cred_h *credh;
	void *cred_arg;
	auth_now_h *nowh;
};

enum auth_verdict {
	AUTH_OK = 0,    /* credentials verified: res.username is set */
	AUTH_CHALLENGE, /* no usable credentials: challenge (401/407) */
	AUTH_STALE,     /* right digest, old/replayed nonce: stale=true */
	AUTH_FAILED,    /* wrong digest or unknown user: challenge again */
	AUTH_BAD,       /* malformed credentials: 400 */
	AUTH_THROTTLED, /* too many failures from this source: 403 */
};

struct auth_result {
	enum auth_verdict verdict;
	uint16_t scode;           /* 0 when AUTH_OK, else the answer's code */
	const char *reason;       /* static reason phrase for the answer */
	char hdrs[AUTH_HDRS_MAX]; /* header lines for the answer, CRLF-ended */
	struct pl username;       /* AUTH_OK: points into the request */
	struct pl realm;          /* AUTH_OK: points into the request */
	enum auth_algo alg;       /* AUTH_OK: the algorithm used */
};

int auth_alloc(struct auth **authp,
	       const struct auth_conf *conf) IMS_MUST_CHECK;

/* Provision the built-in credential table (HA1 computed here; the
 * password is not kept). */
int auth_user_set(struct auth *auth, const char *user, const char *realm,
		  const char *password) IMS_MUST_CHECK;
/* Provision from stored HA1 values (lowercase hex; either may be NULL). */
int auth_user_set_ha1(struct auth *auth, const char *user, const char *realm,
		      const char *ha1_md5,
		      const char *ha1_sha256) IMS_MUST_CHECK;
void auth_user_del(struct auth *auth, const char *user, const char *realm);

/* Authenticate a request for `realm` (RFC 3261 22.1-22.3).  Returns 0
 * with the decision in *res, or ENOMEM/EIO when no decision could be made
 * (the caller answers 500). */
int auth_check(struct auth *auth, struct sip_msg *req, const char *realm,
	       enum auth_mode mode, struct auth_result *res) IMS_MUST_CHECK;

/* The core of auth_check(): one decoded credentials header.  `method` is
 * the request method, `ruri` the Request-URI text, `src` the source
 * address (for the failure table; may be NULL). */
int auth_verify(struct auth *auth, const struct sip_authhdr *ah,
		const struct pl *method, const struct pl *ruri,
		const struct sa *src, const char *realm, enum auth_mode mode,
		struct auth_result *res) IMS_MUST_CHECK;

/* Write challenge header lines (MD5 first unless conf.sha256_first)
 * with fresh nonces into hdrs. */
int auth_challenge(struct auth *auth, const char *realm, enum auth_mode mode,
		   bool stale, char *hdrs, size_t size) IMS_MUST_CHECK;

/* HA1 = H(username ":" realm ":" password) in lowercase hex
 * (RFC 7616 3.4.2).  size >= AUTH_HA1_HEX_MAX. */
int auth_ha1(enum auth_algo alg, const char *user, const char *realm,
	     const char *password, char *hex, size_t size) IMS_MUST_CHECK;

/* Request-digest (RFC 7616 3.4.1, RFC 2617 3.2.2.1): with qop "auth",
 * H(HA1:nonce:nc:cnonce:qop:H(method:uri)); with qop empty (RFC 2069
 * compatibility, MD5 only), H(HA1:nonce:H(method:uri)). */
int auth_response(enum auth_algo alg, const char *ha1hex,
		  const struct pl *nonce, const struct pl *nc,
		  const struct pl *cnonce, const struct pl *qop,
		  const struct pl *method, const struct pl *uri, char *hex,
		  size_t size) IMS_MUST_CHECK;

/* Algorithm name to id ("MD5", "SHA-256", case-insensitive; absent means
 * MD5, RFC 7616 3.3); AUTH_ALG_NUM when unsupported. */
enum auth_algo auth_algo_of(const struct pl *name);
const char *auth_algo_name(enum auth_algo alg);

struct auth_stats {
	uint64_t ok, challenged, stale, failed, bad, throttled;
	uint64_t nc_evicted;
	size_t nc_entries, fail_entries;
};
void auth_stats(const struct auth *auth, struct auth_stats *st);

#endif
