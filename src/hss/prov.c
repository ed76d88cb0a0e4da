/**
 * @file prov.c  HSS provisioning over the store, in JSON (see prov.h and
 * docs/internals/provisioning.md).
 *
 * Every entry point parses its JSON into the store's model objects,
 * checks everything it can before writing (identity syntax, duplicates,
 * references, missing secrets, scheme names), then writes.  A new
 * subscription is written as several store calls; if one fails after
 * the first, the subscription is deleted again (the schema cascades), so
 * an import either lands whole or leaves nothing.
 *
 * Secrets: a password is turned into the digest HA1 values at once
 * (RFC 7616 3.4.2, username = the IMPI as TS 24.229 5.1.1.2 and TS 33.203
 * 6.1 use it) and is never stored; an OP is turned into OPc (TS 35.206
 * 4.1) and only OPc is stored.  Exports therefore give "ha1" and "opc",
 * which import takes back unchanged.
 */
#include "hss/prov.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/list.h"
#include "core/pl.h"
#include "diameter/dict.h"
#include "hss/milenage.h"
#include "sip/auth.h"
#include "sip/uri.h"
#include "store/events.h"
#include "store/store.h"

__attribute__((format(printf, 4, 5))) static int
say(char *msg, size_t sz, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sz, fmt, ap);
	va_end(ap);
	return err;
}


/* Refuse members not in allowed (a typo would otherwise be lost). */
static int keys_check(const json_t *o, const char *const *allowed,
		      const char *what, char *msg, size_t sz)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v)
	{
		(void)v;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				break;
		if (!allowed[i])
			return say(msg, sz, EINVAL,
				   "unknown member \"%s\" in %s: check the "
				   "spelling against "
				   "docs/internals/provisioning.md",
				   k, what);
	}
	return 0;
}


/* A string member: *out NULL when absent or null. */
static int jstr(const json_t *o, const char *key, const char **out,
		const char *what, char *msg, size_t sz)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return say(msg, sz, EINVAL, "\"%s\" of %s must be a string",
			   key, what);
	*out = json_string_value(v);
	return 0;
}


static int jbool(const json_t *o, const char *key, bool *out, const char *what,
		 char *msg, size_t sz)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return say(msg, sz, EINVAL,
			   "\"%s\" of %s must be true or false", key, what);
	*out = json_is_true(v);
	return 0;
}


static int jint(const json_t *o, const char *key, int64_t min, int64_t max,
		int64_t *out, const char *what, char *msg, size_t sz)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return say(msg, sz, EINVAL,
			   "\"%s\" of %s must be an integer from %" PRId64
			   " to %" PRId64,
			   key, what, min, max);
	*out = json_integer_value(v);
	return 0;
}


static int set_str(char **dst, const char *s)
{
	return store_strset(dst, s) ? ENOMEM : 0;
}


static int hexbytes(uint8_t *out, size_t n, const char *s, const char *key,
		    const char *who, char *msg, size_t sz)
{
	if (!hex_decode(out, n, s, strlen(s)))
		return 0;
	return say(msg, sz, EINVAL,
		   "\"%s\" of private identity '%s' must be %zu hex digits "
		   "(%zu bytes)",
		   key, who, 2 * n, n);
}


/* ---- identity syntax ---- */

static const char *const type_names[] = {
	"public_user",
	"distinct_psi",
	"wildcarded_psi",
	"wildcarded_impu",
};

static int type_of(const char *s, enum cx_identity_type *t)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, type_names[i])) {
			*t = (enum cx_identity_type)i;
			return 0;
		}
	}
	return EINVAL;
}


static int uri_check(const char *text, const char *id, char *msg, size_t sz)
{
	struct sip_uri u;
	struct pl pl;
	const char *p, *host;
	bool sip =
		!strncasecmp(text, "sip:", 4) || !strncasecmp(text, "sips:", 5);
	bool tel = !strncasecmp(text, "tel:", 4);

	if (!sip && !tel)
		return say(msg, sz, EINVAL,
			   "public identity '%s' is not a SIP or tel URI: "
			   "write it as sip:user@domain or tel:+15145550100",
			   id);
	if (strpbrk(text, " \t\r\n"))
		return say(msg, sz, EINVAL,
			   "public identity '%s' is not a valid URI: it "
			   "contains white space; remove it",
			   id);
	if (sip) {
		p = strchr(text, ':') + 1;
		host = strchr(p, '@');
		host = host ? host + 1 : p;
		if (!*host || *host == ';' || *host == ':' || *host == '?')
			return say(msg, sz, EINVAL,
				   "public identity '%s' is not a valid SIP "
				   "URI: the host is missing; write it as "
				   "sip:user@domain",
				   id);
	}
	pl_set_str(&pl, text);
	if (tel && sip_uri_decode(&u, &pl))
		goto badtel;
	if (sip_uri_decode(&u, &pl) || (sip && !u.host.l))
		return say(msg, sz, EINVAL,
			   "public identity '%s' is not a valid SIP URI "
			   "(RFC 3261 19.1): check the characters after the "
			   "scheme",
			   id);
	if (tel && (!u.user.l || (u.user.p[0] != '+' &&
				  !pl_find_ci(&u.params, "phone-context"))))
		goto badtel;
	return 0;
badtel:
	return say(msg, sz, EINVAL,
		   "public identity '%s' is not a valid tel URI: "
		   "write a global number such as tel:+15145550100 "
		   "(RFC 3966 5.1.4), or add ;phone-context= to a "
		   "local one",
		   id);
}


/**
 * Check the syntax of a public identity of a type.
 *
 * @param identity  the URI (a wildcarded one holds !regex! parts)
 * @param type      "public_user", "distinct_psi", "wildcarded_psi",
 *                  "wildcarded_impu", or NULL for public_user
 * @param msg       the sentence on EINVAL
 * @return 0 or EINVAL
 */
int prov_check_impu(const char *identity, const char *type, char *msg,
		    size_t msgsz)
{
	enum cx_identity_type t = CX_ID_PUBLIC_USER;
	char lit[1024];
	size_t o = 0;
	bool in = false, m;
	const char *p;

	if (type && type_of(type, &t))
		return say(msg, msgsz, EINVAL,
			   "identity type '%s' of '%s' is unknown: use "
			   "public_user, distinct_psi, wildcarded_psi or "
			   "wildcarded_impu",
			   type, identity);
	if (t != CX_ID_WILDCARDED_PSI && t != CX_ID_WILDCARDED_IMPU) {
		if (strchr(identity, '!'))
			return say(msg, msgsz, EINVAL,
				   "public identity '%s' contains '!', which "
				   "only a wildcarded identity may hold: give "
				   "\"type\": \"wildcarded_psi\" (or "
				   "wildcarded_impu)",
				   identity);
		return uri_check(identity, identity, msg, msgsz);
	}
	if (store_wildcard_match(identity, "", &m))
		return say(msg, msgsz, EINVAL,
			   "wildcarded identity '%s' must hold a valid "
			   "regular expression between two '!' (TS 23.003 "
			   "13.5), e.g. sip:ivr-!.*!@acme.example",
			   identity);
	/* the literal parts, with each expression as one character */
	for (p = identity; *p && o + 2 < sizeof(lit); p++) {
		if (*p == '!') {
			if (!in)
				lit[o++] = 'x';
			in = !in;
		} else if (!in) {
			lit[o++] = *p;
		}
	}
	lit[o] = '\0';
	return uri_check(lit, identity, msg, msgsz);
}


/**
 * Check a private identity: an NAI, user@realm (TS 23.003 13.3).
 */
int prov_check_impi(const char *identity, char *msg, size_t msgsz)
{
	const char *at = strrchr(identity, '@');

	if (!strncasecmp(identity, "sip:", 4) ||
	    !strncasecmp(identity, "tel:", 4) || !at || at == identity ||
	    !at[1] || strpbrk(identity, " \t\r\n<>\";:"))
		return say(msg, msgsz, EINVAL,
			   "private identity '%s' is not an NAI: write it as "
			   "user@realm (TS 23.003 13.3), without a scheme",
			   identity);
	return 0;
}


/* ---- subscription members ---- */

static int caps_apply(uint32_t *v, size_t *n, const json_t *a, const char *key,
		      char *msg, size_t sz)
{
	json_t *e;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > STORE_CAP_MAX)
		return say(msg, sz, EINVAL,
			   "\"scscf\".\"%s\" must be a list of at most %d "
			   "capability numbers",
			   key, STORE_CAP_MAX);
	*n = 0;
	json_array_foreach(a, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > UINT32_MAX)
			return say(msg, sz, EINVAL,
				   "\"scscf\".\"%s\" must hold unsigned "
				   "integers (TS 29.229 6.3.6)",
				   key);
		v[(*n)++] = (uint32_t)json_integer_value(e);
	}
	return 0;
}


static int sub_apply(struct store_subscription *s, const json_t *o, char *msg,
		     size_t sz)
{
	static const char *const sk[] = { "preferred", "mandatory", "optional",
					  NULL };
	static const char *const ck[] = { "ccf_primary", "ccf_secondary",
					  "ecf_primary", "ecf_secondary",
					  NULL };
	json_t *scscf = json_object_get(o, "scscf");
	json_t *chg = json_object_get(o, "charging");
	char **cf[4] = { &s->ccf_primary, &s->ccf_secondary, &s->ecf_primary,
			 &s->ecf_secondary };
	const char *v;
	size_t i;
	int err = 0;

	if (scscf) {
		if (!json_is_object(scscf))
			return say(msg, sz, EINVAL,
				   "\"scscf\" must be an object");
		err = keys_check(scscf, sk, "\"scscf\"", msg, sz);
		if (!err)
			err = jstr(scscf, "preferred", &v, "\"scscf\"", msg,
				   sz);
		if (!err)
			err = set_str(&s->scscf_preferred, v);
		if (!err)
			err = caps_apply(s->cap_mand, &s->cap_mand_n,
					 json_object_get(scscf, "mandatory"),
					 "mandatory", msg, sz);
		if (!err)
			err = caps_apply(s->cap_opt, &s->cap_opt_n,
					 json_object_get(scscf, "optional"),
					 "optional", msg, sz);
		if (err)
			return err;
	}
	if (chg) {
		if (!json_is_object(chg))
			return say(msg, sz, EINVAL,
				   "\"charging\" must be an object");
		err = keys_check(chg, ck, "\"charging\"", msg, sz);
		for (i = 0; !err && i < 4; i++) {
			err = jstr(chg, ck[i], &v, "\"charging\"", msg, sz);
			if (!err)
				err = set_str(cf[i], v);
		}
	}
	return err;
}


/* ---- private identities ---- */

static const char *const impi_keys[] = {
	"identity", "schemes", "default_scheme",
	"password", "realms",  "ha1",
	"k",        "op",      "opc",
	"amf",      "sqn",     "line_id",
	"impu",     NULL,
};

/* The digest HA1 of the IMPI for every realm (RFC 7616 3.4.2). */
static int impi_password(struct store_impi *i, const char *pw,
			 const json_t *realms, char *msg, size_t sz)
{
	const char *at = strrchr(i->identity, '@');
	json_t *e;
	size_t n, k;
	int err;

	for (k = 0; k < STORE_REALM_MAX; k++)
		i->ha1[k].realm = mem_deref(i->ha1[k].realm);
	i->ha1_n = 0;
	if (realms && (!json_is_array(realms) || !json_array_size(realms) ||
		       json_array_size(realms) > STORE_REALM_MAX))
		return say(msg, sz, EINVAL,
			   "\"realms\" of private identity '%s' must be a "
			   "list of 1 to %d realm names",
			   i->identity, STORE_REALM_MAX);
	n = realms ? json_array_size(realms) : 1;
	for (k = 0; k < n; k++) {
		const char *realm = at ? at + 1 : "";
		struct store_ha1 *h = &i->ha1[k];

		if (realms) {
			e = json_array_get(realms, k);
			if (!json_is_string(e) || !json_string_length(e))
				return say(msg, sz, EINVAL,
					   "\"realms\" of private identity "
					   "'%s' must hold realm names",
					   i->identity);
			realm = json_string_value(e);
		}
		err = auth_ha1(AUTH_ALG_MD5, i->identity, realm, pw, h->md5,
			       sizeof(h->md5));
		if (!err)
			err = auth_ha1(AUTH_ALG_SHA256, i->identity, realm, pw,
				       h->sha256, sizeof(h->sha256));
		if (!err)
			err = set_str(&h->realm, realm);
		if (err)
			return say(msg, sz, err,
				   "cannot compute the HA1 of '%s' for realm "
				   "'%s'",
				   i->identity, realm);
		i->ha1_n++;
	}
	return 0;
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


static int impi_ha1(struct store_impi *i, const json_t *a, char *msg, size_t sz)
{
	json_t *e;
	size_t k;

	if (!json_is_array(a) || json_array_size(a) > STORE_REALM_MAX)
		goto bad;
	for (k = 0; k < STORE_REALM_MAX; k++)
		i->ha1[k].realm = mem_deref(i->ha1[k].realm);
	i->ha1_n = 0;
	json_array_foreach(a, k, e)
	{
		json_t *r = json_object_get(e, "realm");
		json_t *m = json_object_get(e, "md5");
		json_t *s = json_object_get(e, "sha256");
		struct store_ha1 *h = &i->ha1[k];

		if (!json_is_string(r) || (m && !json_is_string(m)) ||
		    (s && !json_is_string(s)) ||
		    (m && !hex_ok(json_string_value(m), 32)) ||
		    (s && !hex_ok(json_string_value(s), 64)) || (!m && !s))
			goto bad;
		if (set_str(&h->realm, json_string_value(r)))
			return ENOMEM;
		(void)snprintf(h->md5, sizeof(h->md5), "%s",
			       m ? json_string_value(m) : "");
		(void)snprintf(h->sha256, sizeof(h->sha256), "%s",
			       s ? json_string_value(s) : "");
		i->ha1_n++;
	}
	return 0;
bad:
	return say(msg, sz, EINVAL,
		   "\"ha1\" of private identity '%s' must be a list of "
		   "{\"realm\", \"md5\": 32 hex digits, \"sha256\": 64 hex "
		   "digits}; to set a password give \"password\" instead",
		   i->identity);
}


static int impi_schemes(struct store_impi *i, const json_t *o, char *msg,
			size_t sz)
{
	json_t *a = json_object_get(o, "schemes"), *e;
	const char *d = NULL;
	size_t k;
	int err;

	if (a) {
		if (!json_is_array(a))
			return say(msg, sz, EINVAL,
				   "\"schemes\" of private identity '%s' "
				   "must be a list such as [\"digest-md5\"]",
				   i->identity);
		i->schemes = 0;
		json_array_foreach(a, k, e)
		{
			unsigned bit = json_is_string(e)
					       ? store_auth_from_name(
							 json_string_value(e))
					       : 0;
			if (!bit)
				return say(msg, sz, EINVAL,
					   "authentication scheme '%s' of "
					   "'%s' is unknown: use digest-md5, "
					   "digest-sha256, aka-v1-md5 or "
					   "aka-v2-md5",
					   json_is_string(e)
						   ? json_string_value(e)
						   : "(not a string)",
					   i->identity);
			i->schemes |= bit;
		}
	}
	err = jstr(o, "default_scheme", &d, "a private identity", msg, sz);
	if (err)
		return err;
	if (d) {
		i->default_scheme = store_auth_from_name(d);
		if (!i->default_scheme)
			return say(msg, sz, EINVAL,
				   "default authentication scheme '%s' of "
				   "'%s' is unknown: use digest-md5, "
				   "digest-sha256, aka-v1-md5 or aka-v2-md5",
				   d, i->identity);
	}
	return 0;
}


static int impi_aka(struct store_impi *i, const json_t *o, char *msg, size_t sz)
{
	const char *k = NULL, *op = NULL, *opc = NULL, *amf = NULL;
	uint8_t opb[16];
	int err;

	err = jstr(o, "k", &k, "a private identity", msg, sz);
	if (!err)
		err = jstr(o, "op", &op, "a private identity", msg, sz);
	if (!err)
		err = jstr(o, "opc", &opc, "a private identity", msg, sz);
	if (!err)
		err = jstr(o, "amf", &amf, "a private identity", msg, sz);
	if (err)
		return err;
	if (op && opc)
		return say(msg, sz, EINVAL,
			   "private identity '%s' gives both \"op\" and "
			   "\"opc\": give one (OPc is derived from OP and K)",
			   i->identity);
	if (k) {
		err = hexbytes(i->k, 16, k, "k", i->identity, msg, sz);
		if (err)
			return err;
		i->has_k = true;
	}
	if (opc) {
		err = hexbytes(i->opc, 16, opc, "opc", i->identity, msg, sz);
		if (err)
			return err;
		i->has_opc = true;
	}
	if (op) {
		if (!i->has_k)
			return say(msg, sz, EINVAL,
				   "private identity '%s' gives \"op\" "
				   "without \"k\": OPc is computed from both "
				   "(TS 35.206 4.1)",
				   i->identity);
		err = hexbytes(opb, 16, op, "op", i->identity, msg, sz);
		if (!err)
			err = milenage_opc(i->opc, i->k, opb);
		memset(opb, 0, sizeof(opb));
		if (err)
			return err == EINVAL ? err
					     : say(msg, sz, err,
						   "cannot compute OPc for "
						   "'%s'",
						   i->identity);
		i->has_opc = true;
	}
	if (amf)
		return hexbytes(i->amf, 2, amf, "amf", i->identity, msg, sz);
	return 0;
}


/* Apply the members of o onto i (a new or a stored IMPI). */
static int impi_apply(struct store_impi *i, const json_t *o, bool fresh,
		      bool *sqn_set, char *msg, size_t sz)
{
	const char *pw = NULL, *line = NULL;
	json_t *v;
	int64_t sqn = 0;
	size_t k;
	int err;

	err = keys_check(o, impi_keys, "a private identity", msg, sz);
	if (!err)
		err = impi_schemes(i, o, msg, sz);
	if (!err)
		err = impi_aka(i, o, msg, sz);
	if (!err)
		err = jstr(o, "password", &pw, "a private identity", msg, sz);
	if (err)
		return err;
	if (pw && json_object_get(o, "ha1"))
		return say(msg, sz, EINVAL,
			   "private identity '%s' gives both \"password\" "
			   "and \"ha1\": give one",
			   i->identity);
	if (pw) {
		if (!*pw)
			return say(msg, sz, EINVAL,
				   "the password of '%s' is empty",
				   i->identity);
		err = impi_password(i, pw, json_object_get(o, "realms"), msg,
				    sz);
	} else if ((v = json_object_get(o, "ha1"))) {
		err = impi_ha1(i, v, msg, sz);
	} else if (json_object_get(o, "realms")) {
		err = say(msg, sz, EINVAL,
			  "\"realms\" of '%s' goes with \"password\": give "
			  "the password too",
			  i->identity);
	}
	if (err)
		return err;
	if (json_object_get(o, "line_id")) {
		err = jstr(o, "line_id", &line, "a private identity", msg, sz);
		if (!err)
			err = set_str(&i->line_id, line);
		if (err)
			return err;
	}
	*sqn_set = json_object_get(o, "sqn") != NULL;
	err = jint(o, "sqn", 0, (int64_t)(1ull << 48) - 1, &sqn,
		   "a private identity", msg, sz);
	if (err)
		return err;
	i->sqn = (uint64_t)sqn;
	if ((v = json_object_get(o, "impu"))) {
		if (!json_is_array(v))
			return say(msg, sz, EINVAL,
				   "\"impu\" of private identity '%s' must "
				   "be a list of public identities",
				   i->identity);
		store_strv_reset(&i->impu);
		for (k = 0; k < json_array_size(v); k++) {
			json_t *e = json_array_get(v, k);
			if (!json_is_string(e))
				return say(msg, sz, EINVAL,
					   "\"impu\" of '%s' must hold "
					   "strings",
					   i->identity);
			if (store_strv_add(&i->impu, json_string_value(e)))
				return ENOMEM;
		}
	}
	/* a new identity without schemes gets those its secrets allow */
	if (fresh && !json_object_get(o, "schemes")) {
		if (i->ha1_n)
			i->schemes |= STORE_AUTH_DIGEST_MD5 |
				      STORE_AUTH_DIGEST_SHA256;
		if (i->has_k && i->has_opc)
			i->schemes |= STORE_AUTH_AKAV1_MD5;
	}
	return 0;
}


static int impi_validate(const struct store_impi *i, char *msg, size_t sz)
{
	unsigned digest = STORE_AUTH_DIGEST_MD5 | STORE_AUTH_DIGEST_SHA256;
	unsigned aka = STORE_AUTH_AKAV1_MD5 | STORE_AUTH_AKAV2_MD5;
	size_t k;

	if (!i->schemes)
		return say(msg, sz, EINVAL,
			   "private identity '%s' allows no authentication "
			   "scheme: give \"password\" (digest) or \"k\" and "
			   "\"op\" (AKA), or \"schemes\"",
			   i->identity);
	if (i->default_scheme && !(i->schemes & i->default_scheme))
		return say(msg, sz, EINVAL,
			   "default scheme %s of '%s' is not one of its "
			   "\"schemes\": add it there or choose another",
			   store_auth_name(i->default_scheme), i->identity);
	if ((i->schemes & digest) && !i->ha1_n)
		return say(msg, sz, EINVAL,
			   "private identity '%s' allows %s but has no "
			   "password: give \"password\" (only its HA1 is "
			   "stored)",
			   i->identity,
			   store_auth_name(i->schemes & STORE_AUTH_DIGEST_MD5
						   ? STORE_AUTH_DIGEST_MD5
						   : STORE_AUTH_DIGEST_SHA256));
	for (k = 0; k < i->ha1_n; k++) {
		if ((i->schemes & STORE_AUTH_DIGEST_MD5) && !i->ha1[k].md5[0])
			return say(msg, sz, EINVAL,
				   "private identity '%s' allows digest-md5 "
				   "but realm '%s' has no MD5 HA1: give "
				   "\"password\"",
				   i->identity, i->ha1[k].realm);
		if ((i->schemes & STORE_AUTH_DIGEST_SHA256) &&
		    !i->ha1[k].sha256[0])
			return say(msg, sz, EINVAL,
				   "private identity '%s' allows "
				   "digest-sha256 but realm '%s' has no "
				   "SHA-256 HA1: give \"password\"",
				   i->identity, i->ha1[k].realm);
	}
	if ((i->schemes & aka) && (!i->has_k || !i->has_opc))
		return say(msg, sz, EINVAL,
			   "private identity '%s' allows %s but has no %s: "
			   "give \"k\" and \"op\" or \"opc\" (32 hex digits "
			   "each)",
			   i->identity,
			   store_auth_name(i->schemes & STORE_AUTH_AKAV1_MD5
						   ? STORE_AUTH_AKAV1_MD5
						   : STORE_AUTH_AKAV2_MD5),
			   !i->has_k ? "K" : "OP or OPc");
	return 0;
}


/* ---- public identities ---- */

static const char *const impu_keys[] = {
	"identity",        "type",         "barred",
	"display_name",    "irs",          "alias_group",
	"service_profile", "can_register", NULL,
};

static bool is_psi(enum cx_identity_type t)
{
	return t == CX_ID_DISTINCT_PSI || t == CX_ID_WILDCARDED_PSI;
}


static int impu_apply(struct store_impu *u, const json_t *o, bool fresh,
		      char *msg, size_t sz)
{
	const char *s = NULL;
	json_t *v;
	int64_t irs = u->irs;
	int err;

	err = keys_check(o, impu_keys, "a public identity", msg, sz);
	if (!err)
		err = jstr(o, "type", &s, "a public identity", msg, sz);
	if (err)
		return err;
	if (s && type_of(s, &u->type))
		return say(msg, sz, EINVAL,
			   "identity type '%s' of '%s' is unknown: use "
			   "public_user, distinct_psi, wildcarded_psi or "
			   "wildcarded_impu",
			   s, u->identity);
	if (fresh)
		u->can_register = !is_psi(u->type);
	err = jbool(o, "barred", &u->barred, "a public identity", msg, sz);
	if (!err)
		err = jbool(o, "can_register", &u->can_register,
			    "a public identity", msg, sz);
	if (!err)
		err = jint(o, "irs", 0, INT64_MAX, &irs, "a public identity",
			   msg, sz);
	if (err)
		return err;
	u->irs = irs;
	if (json_object_get(o, "display_name")) {
		err = jstr(o, "display_name", &s, "a public identity", msg, sz);
		if (!err)
			err = set_str(&u->display_name, s);
	}
	if (!err && (v = json_object_get(o, "alias_group"))) {
		char num[24];
		if (json_is_integer(v)) {
			(void)snprintf(num, sizeof(num),
				       "%" JSON_INTEGER_FORMAT,
				       json_integer_value(v));
			err = set_str(&u->alias_group, num);
		} else {
			err = jstr(o, "alias_group", &s, "a public identity",
				   msg, sz);
			if (!err)
				err = set_str(&u->alias_group, s);
		}
	}
	if (!err && json_object_get(o, "service_profile")) {
		err = jstr(o, "service_profile", &s, "a public identity", msg,
			   sz);
		if (!err)
			err = set_str(&u->service_profile, s);
	}
	return err;
}


static int impu_validate(struct store *st, const struct store_impu *u,
			 char *msg, size_t sz)
{
	struct store_sp *sp = NULL;
	int err;

	err = prov_check_impu(u->identity, type_names[u->type], msg, sz);
	if (err)
		return err;
	if (is_psi(u->type) && u->can_register)
		return say(msg, sz, EINVAL,
			   "public identity '%s' is a PSI and cannot "
			   "register (TS 23.228 4.3.6): drop "
			   "\"can_register\" or make it a public_user",
			   u->identity);
	if (!u->service_profile)
		return 0;
	err = store_sp_get(st, u->service_profile, &sp);
	mem_deref(sp);
	if (err == ENOENT)
		return say(msg, sz, ENOENT,
			   "public identity '%s' refers to service profile "
			   "'%s', which does not exist: create it with "
			   "'entims profile add %s' or fix the name",
			   u->identity, u->service_profile, u->service_profile);
	return err ? say(msg, sz, err, "cannot read service profile '%s'",
			 u->service_profile)
		   : 0;
}


/* ---- subscriptions ---- */

struct plan {
	struct store_subscription *sub;
	struct list impi;
	struct list impu;
	bool sqn_set[64];
};

static void plan_reset(struct plan *p)
{
	p->sub = mem_deref(p->sub);
	list_flush(&p->impi);
	list_flush(&p->impu);
}


static const char *const sub_keys[] = { "name", "scscf", "charging",
					"impi", "impu",  NULL };

static bool listed(const struct list *l, size_t off, const char *id)
{
	struct le *le;

	LIST_FOREACH (l, le) {
		const char *x =
			*(char *const *)(const void *)((const char *)le->data +
						       off);
		if (!strcmp(x, id))
			return true;
	}
	return false;
}


static int plan_identities(struct plan *p, const json_t *doc, char *msg,
			   size_t sz)
{
	json_t *a, *e;
	size_t k;
	int err = 0;

	a = json_object_get(doc, "impu");
	if (a && !json_is_array(a))
		return say(msg, sz, EINVAL,
			   "\"impu\" of subscription '%s' must be a list",
			   p->sub->name);
	json_array_foreach(a, k, e)
	{
		struct store_impu *u;
		const char *id = NULL;

		if (!json_is_object(e) ||
		    jstr(e, "identity", &id, "a public identity", msg, sz) ||
		    !id)
			return say(msg, sz, EINVAL,
				   "public identity %zu of subscription '%s' "
				   "needs \"identity\" (a SIP or tel URI)",
				   k + 1, p->sub->name);
		if (listed(&p->impu, offsetof(struct store_impu, identity), id))
			return say(msg, sz, EEXIST,
				   "public identity '%s' is listed twice", id);
		u = store_impu_alloc();
		if (!u || set_str(&u->identity, id) ||
		    set_str(&u->subscription, p->sub->name)) {
			mem_deref(u);
			return ENOMEM;
		}
		list_append(&p->impu, &u->le, u);
		err = impu_apply(u, e, true, msg, sz);
		if (!err)
			err = prov_check_impu(u->identity, type_names[u->type],
					      msg, sz);
		if (err)
			return err;
	}
	a = json_object_get(doc, "impi");
	if (a && (!json_is_array(a) || json_array_size(a) > 64))
		return say(msg, sz, EINVAL,
			   "\"impi\" of subscription '%s' must be a list (at "
			   "most 64)",
			   p->sub->name);
	json_array_foreach(a, k, e)
	{
		struct store_impi *i;
		const char *id = NULL;
		size_t n;

		if (!json_is_object(e) ||
		    jstr(e, "identity", &id, "a private identity", msg, sz) ||
		    !id)
			return say(msg, sz, EINVAL,
				   "private identity %zu of subscription '%s' "
				   "needs \"identity\" (user@realm)",
				   k + 1, p->sub->name);
		err = prov_check_impi(id, msg, sz);
		if (err)
			return err;
		if (listed(&p->impi, offsetof(struct store_impi, identity), id))
			return say(msg, sz, EEXIST,
				   "private identity '%s' is listed twice", id);
		i = store_impi_alloc();
		if (!i || set_str(&i->identity, id) ||
		    set_str(&i->subscription, p->sub->name)) {
			mem_deref(i);
			return ENOMEM;
		}
		list_append(&p->impi, &i->le, i);
		err = impi_apply(i, e, true, &p->sqn_set[k], msg, sz);
		if (!err)
			err = impi_validate(i, msg, sz);
		for (n = 0; !err && n < i->impu.n; n++)
			if (!listed(&p->impu,
				    offsetof(struct store_impu, identity),
				    i->impu.v[n]))
				err = say(msg, sz, EINVAL,
					  "private identity '%s' lists public "
					  "identity '%s', which subscription "
					  "'%s' does not have: add it to "
					  "\"impu\"",
					  id, i->impu.v[n], p->sub->name);
		if (err)
			return err;
	}
	return 0;
}


/* Parse and check a subscription document against the store. */
static int plan_make(struct store *st, struct plan *p, const json_t *doc,
		     char *msg, size_t sz)
{
	struct store_subscription *old = NULL;
	const char *name = NULL;
	struct le *le;
	int err;

	if (!json_is_object(doc))
		return say(msg, sz, EINVAL,
			   "a subscription must be a JSON object with "
			   "\"name\", \"impi\" and \"impu\"");
	err = jstr(doc, "name", &name, "a subscription", msg, sz);
	if (err)
		return err;
	if (!name || !*name)
		return say(msg, sz, EINVAL,
			   "a subscription needs a \"name\" (its label, e.g. "
			   "the user's login)");
	err = keys_check(doc, sub_keys, "a subscription", msg, sz);
	if (err)
		return err;
	p->sub = store_subscription_alloc();
	if (!p->sub || set_str(&p->sub->name, name))
		return ENOMEM;
	err = sub_apply(p->sub, doc, msg, sz);
	if (!err)
		err = plan_identities(p, doc, msg, sz);
	if (err)
		return err;

	/* against the store */
	err = store_sub_get(st, name, &old);
	mem_deref(old);
	if (!err)
		return say(msg, sz, EEXIST,
			   "subscription '%s' already exists: change it "
			   "with 'set' or delete it first",
			   name);
	if (err != ENOENT)
		return say(msg, sz, err, "cannot read the store");
	LIST_FOREACH (&p->impu, le) {
		struct store_impu *u = le->data, *x = NULL;

		err = impu_validate(st, u, msg, sz);
		if (err)
			return err;
		err = store_impu_get(st, u->identity, &x);
		if (!err)
			err = say(msg, sz, EEXIST,
				  "public identity '%s' already exists (in "
				  "subscription '%s'): delete it there "
				  "first",
				  u->identity, x->subscription);
		mem_deref(x);
		if (err != ENOENT)
			return err;
	}
	LIST_FOREACH (&p->impi, le) {
		struct store_impi *i = le->data, *x = NULL;

		err = store_impi_get(st, i->identity, &x);
		if (!err)
			err = say(msg, sz, EEXIST,
				  "private identity '%s' already exists (in "
				  "subscription '%s'): delete it there "
				  "first",
				  i->identity, x->subscription);
		mem_deref(x);
		if (err != ENOENT)
			return err;
	}
	return 0;
}


static int plan_write(struct store *st, struct plan *p, char *msg, size_t sz)
{
	struct le *le;
	size_t k = 0, n;
	int err;

	err = store_sub_add(st, p->sub);
	if (err)
		return say(msg, sz, err,
			   err == EEXIST ? "subscription '%s' already exists"
					 : "cannot write subscription '%s'",
			   p->sub->name);
	LIST_FOREACH (&p->impu, le) {
		struct store_impu *u = le->data;

		err = store_impu_add(st, u);
		if (err) {
			(void)say(msg, sz, err,
				  "cannot write public identity '%s': %s",
				  u->identity, strerrordesc_np(err));
			goto undo;
		}
	}
	LIST_FOREACH (&p->impi, le) {
		struct store_impi *i = le->data;

		err = store_impi_add(st, i);
		for (n = 0; !err && n < i->impu.n; n++)
			err = store_link(st, i->identity, i->impu.v[n]);
		if (!err && p->sqn_set[k] && i->sqn)
			err = store_sqn_cas(st, i->identity, 0, i->sqn);
		k++;
		if (err) {
			(void)say(msg, sz, err,
				  "cannot write private identity '%s': %s",
				  i->identity, strerrordesc_np(err));
			goto undo;
		}
	}
	return 0;
undo:
	if (store_sub_delete(st, p->sub->name))
		(void)say(msg, sz, err,
			  "subscription '%s' was written only in part and "
			  "could not be removed: delete it",
			  p->sub->name);
	return err;
}


/**
 * Add one subscription from its JSON document.
 *
 * @param st     the store
 * @param sub    the document
 * @param msg    the sentence on failure
 * @param msgsz  its size
 * @return 0, EINVAL, EEXIST, ENOENT, or a store error
 */
int prov_sub_add(struct store *st, const json_t *sub, char *msg, size_t msgsz)
{
	struct plan p;
	int err;

	memset(&p, 0, sizeof(p));
	err = plan_make(st, &p, sub, msg, msgsz);
	if (!err)
		err = plan_write(st, &p, msg, msgsz);
	plan_reset(&p);
	return err;
}


int prov_import(struct store *st, const json_t *doc, size_t *countp, char *msg,
		size_t msgsz)
{
	json_t *e;
	size_t k;
	int err;

	*countp = 0;
	if (!json_is_array(doc)) {
		err = prov_sub_add(st, doc, msg, msgsz);
		if (!err)
			*countp = 1;
		return err;
	}
	json_array_foreach(doc, k, e)
	{
		char one[PROV_MSG_MAX];

		err = prov_sub_add(st, e, one, sizeof(one));
		if (err)
			return say(msg, msgsz, err,
				   "subscription %zu of the list: %s", k + 1,
				   one);
		(*countp)++;
	}
	return 0;
}


/* ---- what the S-CSCF holds: the HSS outbox (store/events.h) ----
 *
 * The S-CSCF that serves a user keeps the User-Data and the
 * Charging-Information the SAA gave it; when provisioning changes them
 * the HSS must push the new ones (TS 29.228 6.2.2, PPR), and when it
 * removes the user it must deregister it (6.1.3, RTR).  Provisioning
 * runs in another process than the HSS, so it leaves an event in the
 * store and the HSS process sends the request (hss_poll_events).
 *
 * Which changes matter is decided by comparing, before and after a
 * change, what the HSS would push now: for every private identity of the
 * subscription and every served (not NOT_REGISTERED) public identity it
 * may register, the IMSSubscription XML, plus the charging names.  A
 * password, K/OP, SQN or S-CSCF capability change leaves that view as it
 * was and queues nothing; a barring, display name, implicit set,
 * service profile or identity change alters it and queues one
 * STORE_EV_PROFILE for the subscription.  A service profile replaced
 * with other iFCs, shared iFC sets or media profile queues one for every
 * served subscription that has an identity on it.
 *
 * Every store call is its own transaction (store.h), so the event is
 * written right after the change, not in its transaction: a crash in
 * between loses the push (the S-CSCF gets the profile at the next
 * registration).  When the view cannot be computed the event is queued
 * anyway: a PPR too many is harmless, one too few leaves the S-CSCF
 * with a stale profile.
 */

#define VIEW_MAX ((size_t)1 << 20) /* bytes of one view */

static const char *nz(const char *s)
{
	return s ? s : "";
}


static bool reg_served(enum store_reg_state s)
{
	return s != STORE_REG_NOT_REGISTERED;
}


/* The view of subscription sub (above); *viewp NULL when no S-CSCF
 * serves it (nothing to push). */
static int sub_view(struct store *st, const char *sub, struct buf **viewp)
{
	struct store_subscription *s = NULL;
	struct cx_subscription *cx = NULL;
	struct list li = LIST_INIT;
	struct buf *mb = NULL;
	bool served = false;
	struct le *le;
	size_t k;
	int err;

	*viewp = NULL;
	err = store_sub_get(st, sub, &s);
	if (err == ENOENT)
		return 0;
	if (err || !s->scscf_assigned)
		goto out;
	err = buf_alloc(&mb, 1024, VIEW_MAX);
	if (!err)
		err = buf_printf(mb, "charging %s %s %s %s\n",
				 nz(s->ccf_primary), nz(s->ccf_secondary),
				 nz(s->ecf_primary), nz(s->ecf_secondary));
	if (!err)
		err = store_impi_list(st, sub, &li);
	LIST_FOREACH (&li, le) {
		const struct store_impi *i = le->data;

		for (k = 0; !err && k < i->impu.n; k++) {
			struct store_impu *u = NULL;

			err = store_impu_get(st, i->impu.v[k], &u);
			if (!err && reg_served(u->reg_state)) {
				served = true;
				err = buf_printf(mb, "%s %s\n", i->identity,
						 u->identity);
				if (!err)
					err = store_cx_build(st, i->identity,
							     u->identity, &cx);
				if (!err)
					err = cx_userdata_encode(mb, cx);
				cx = mem_deref(cx);
			}
			mem_deref(u);
			if (err == ENOENT)
				err = 0;
		}
		if (err)
			break;
	}
	if (!err && served) {
		*viewp = mb;
		mb = NULL;
	}
out:
	list_flush(&li);
	mem_deref(mb);
	mem_deref(s);
	return err;
}


/* A subscription watched across a change. */
struct watch {
	char *sub;
	struct buf *before;
	int err; /* the view before could not be computed */
};


static void watch_reset(struct watch *w)
{
	w->sub = mem_deref(w->sub);
	w->before = mem_deref(w->before);
	w->err = 0;
}


static int watch_begin(struct store *st, struct watch *w, const char *sub)
{
	memset(w, 0, sizeof(*w));
	if (store_strset(&w->sub, sub))
		return ENOMEM;
	w->err = sub_view(st, sub, &w->before);
	return 0;
}


static int queue_profile(struct store *st, const char *sub, char *msg,
			 size_t sz)
{
	int err = store_event_add(st, STORE_EV_PROFILE, sub, 0);

	if (err)
		return say(msg, sz, err,
			   "subscription '%s' was changed, but the profile "
			   "push to its S-CSCF could not be queued (%s): "
			   "repeat the change, or the S-CSCF keeps the old "
			   "profile until the user registers again",
			   sub, strerrordesc_np(err));
	return 0;
}


/* After the change: queue a push when the served view changed.  msg is
 * only written when queuing fails (the change itself is done). */
static int watch_end(struct store *st, struct watch *w, char *msg, size_t sz)
{
	struct buf *after = NULL;
	bool changed;
	int err;

	err = sub_view(st, w->sub, &after);
	if (!err && !after) {
		changed = false; /* nothing served (any more) */
	} else if (err || w->err || !w->before) {
		changed = true; /* unknown: push rather than miss one */
	} else {
		changed = after->end != w->before->end ||
			  memcmp(after->b, w->before->b, after->end) != 0;
	}
	mem_deref(after);
	err = changed ? queue_profile(st, w->sub, msg, sz) : 0;
	watch_reset(w);
	return err;
}


/* The Cx name of a Reason-Code (below). */
static const char *reason_name(uint32_t code);


/*
 * Before a subscription is deleted: one RTR per private identity that
 * registered a served set (TS 29.228 6.1.3: without a Public-Identity the
 * S-CSCF ends all of the IMPI's registrations), PERMANENT_TERMINATION as
 * the subscription is gone for good.  Each event is a snapshot of its RTR
 * (store_event_dereg_snapshot), so the HSS sends it after the rows are
 * deleted.  msg says what was queued ("" when nothing).
 */
static int dereg_before_delete(struct store *st,
			       const struct store_subscription *s, char *msg,
			       size_t sz)
{
	struct list li = LIST_INIT;
	struct store_event *ev = NULL;
	struct le *le;
	size_t o = 0;
	int err, n;

	if (sz)
		msg[0] = '\0';
	if (!s->scscf_assigned)
		return 0;
	err = store_impi_list(st, s->name, &li);
	LIST_FOREACH (&li, le) {
		const struct store_impi *i = le->data;

		if (err)
			break;
		err = store_event_dereg_snapshot(
			st, i->identity, DIA_REASON_PERMANENT_TERMINATION, NULL,
			&ev);
		if (err == EALREADY) {
			err = 0; /* registered nothing itself */
			continue;
		}
		if (!err)
			err = store_event_dereg_add(st, ev);
		if (!err && o + 1 < sz) {
			n = snprintf(msg + o, sz - o, "%sto %s for %s",
				     o ? " and "
				       : "the HSS sends an RTR "
					 "(Reason-Code "
					 "PERMANENT_TERMINATION) ",
				     ev->host, ev->impi);
			if (n > 0)
				o = o + (size_t)n < sz ? o + (size_t)n : sz - 1;
		}
		ev = mem_deref(ev);
	}
	list_flush(&li);
	if (err)
		return say(msg, sz, err,
			   "subscription '%s' is registered and its "
			   "deregistration could not be queued (%s): nothing "
			   "was deleted; try again",
			   s->name, strerrordesc_np(err));
	return 0;
}


static const struct {
	const char *name;
	const char *cx; /* the TS 29.229 6.3.17 name */
	uint32_t code;
} reasons[] = {
	{ "permanent", "PERMANENT_TERMINATION",
	  DIA_REASON_PERMANENT_TERMINATION },
	{ "new-server", "NEW_SERVER_ASSIGNED", DIA_REASON_NEW_SERVER_ASSIGNED },
	{ "server-change", "SERVER_CHANGE", DIA_REASON_SERVER_CHANGE },
	{ "remove-scscf", "REMOVE_S-CSCF", DIA_REASON_REMOVE_SCSCF },
};


/**
 * The Reason-Code (TS 29.229 6.3.17) of its name: permanent, new-server,
 * server-change, remove-scscf, or the Cx name (PERMANENT_TERMINATION ...).
 *
 * @return 0 or EINVAL with the sentence in msg
 */
int prov_reason_parse(const char *name, uint32_t *reasonp, char *msg,
		      size_t msgsz)
{
	size_t k;

	for (k = 0; name && k < sizeof(reasons) / sizeof(reasons[0]); k++) {
		if (!strcasecmp(name, reasons[k].name) ||
		    !strcasecmp(name, reasons[k].cx)) {
			*reasonp = reasons[k].code;
			return 0;
		}
	}
	return say(msg, msgsz, EINVAL,
		   "deregistration reason '%s' is unknown: use permanent, "
		   "new-server, server-change or remove-scscf (TS 29.229 "
		   "6.3.17)",
		   nz(name));
}


/* The Cx name of a Reason-Code. */
static const char *reason_name(uint32_t code)
{
	size_t k;

	for (k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++)
		if (reasons[k].code == code)
			return reasons[k].cx;
	return "?";
}


/**
 * Deregister a user administratively (TS 29.228 6.1.3): queue the RTR
 * that the HSS process sends to the serving S-CSCF, as a snapshot taken
 * now (store_event_dereg_snapshot), so that it is sent as asked even if
 * the subscription is deleted before the HSS polls.
 *
 * @param st        the store
 * @param identity  an IMPI (the sets it registered, and served ones
 *                  whose registering IMPI is not known) or an IMPU (its
 *                  implicit registration set; a wildcarded one matches)
 * @param reason    Reason-Code (enum dia_reason_code, 0..3)
 * @param info      Reason-Info, or NULL
 * @param msg       on 0: what was queued; on an error: why not
 * @return 0 queued, ENOENT unknown identity, EALREADY not registered
 *         (nothing will be sent), EINVAL, or a store error
 */
int prov_deregister(struct store *st, const char *identity, uint32_t reason,
		    const char *info, char *msg, size_t msgsz)
{
	struct store_event *ev = NULL;
	struct store_impi *i = NULL;
	const char *what;
	int err;

	if (!st || !identity || !*identity)
		return say(msg, msgsz, EINVAL,
			   "give the private or public identity to "
			   "deregister");
	if (reason > DIA_REASON_REMOVE_SCSCF)
		return say(msg, msgsz, EINVAL,
			   "Reason-Code %u is not one of TS 29.229 6.3.17 "
			   "(0 to 3)",
			   reason);
	if (info &&
	    (strlen(info) > STORE_REASON_INFO_MAX || strpbrk(info, "\r\n\t")))
		return say(msg, msgsz, EINVAL,
			   "the Reason-Info must be one line of at most %d "
			   "characters",
			   STORE_REASON_INFO_MAX);
	err = store_impi_get(st, identity, &i);
	what = err ? "public identity" : "private identity";
	mem_deref(i);
	if (err && err != ENOENT) {
		(void)say(msg, msgsz, err, "cannot read the store: %s",
			  strerrordesc_np(err));
		return err;
	}
	/* what the RTR needs is taken now, so the HSS can send it even if
	 * the subscription is deleted before it polls */
	err = store_event_dereg_snapshot(st, identity, reason, info, &ev);
	if (err == ENOENT)
		return say(msg, msgsz, err,
			   "no private or public identity '%s': see "
			   "'entims subscriber list'",
			   identity);
	if (err == EALREADY)
		return say(msg, msgsz, err,
			   "%s '%s' is not registered: no S-CSCF serves it, "
			   "so no deregistration (RTR) will be sent",
			   what, identity);
	if (err) {
		(void)say(msg, msgsz, err, "cannot read the store: %s",
			  strerrordesc_np(err));
		goto out;
	}
	err = store_event_dereg_add(st, ev);
	if (err) {
		(void)say(msg, msgsz, err,
			  "cannot queue the deregistration of '%s': %s",
			  identity, strerrordesc_np(err));
		goto out;
	}
	(void)say(msg, msgsz, 0,
		  "deregistration of %s '%s' queued: the HSS sends an RTR "
		  "(Reason-Code %s) to %s, User-Name %s%s%s%s",
		  what, identity, reason_name(reason), ev->host, ev->impi,
		  ev->info ? ", Reason-Info \"" : "", ev->info ? ev->info : "",
		  ev->info ? "\"" : "");
out:
	mem_deref(ev);
	return err;
}


/* ---- export ---- */

static int jset(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) ? ENOMEM : 0;
}


static json_t *impi_json(const struct store_impi *i)
{
	json_t *o = json_object(), *a, *h;
	char hex[33];
	unsigned bit;
	size_t k;
	int err = 0;

	if (!o)
		return NULL;
	err |= jset(o, "identity", json_string(i->identity));
	a = json_array();
	for (bit = 1; a && bit <= STORE_AUTH_AKAV2_MD5; bit <<= 1)
		if (i->schemes & bit)
			err |= json_array_append_new(
				a, json_string(store_auth_name(bit)));
	err |= jset(o, "schemes", a);
	if (i->default_scheme)
		err |= jset(o, "default_scheme",
			    json_string(store_auth_name(i->default_scheme)));
	if (i->ha1_n) {
		a = json_array();
		for (k = 0; a && k < i->ha1_n; k++) {
			h = json_object();
			err |= jset(h, "realm", json_string(i->ha1[k].realm));
			if (i->ha1[k].md5[0])
				err |= jset(h, "md5",
					    json_string(i->ha1[k].md5));
			if (i->ha1[k].sha256[0])
				err |= jset(h, "sha256",
					    json_string(i->ha1[k].sha256));
			err |= json_array_append_new(a, h);
		}
		err |= jset(o, "ha1", a);
	}
	if (i->has_k) {
		hex_encode(hex, i->k, 16);
		err |= jset(o, "k", json_string(hex));
	}
	if (i->has_opc) {
		hex_encode(hex, i->opc, 16);
		err |= jset(o, "opc", json_string(hex));
	}
	hex_encode(hex, i->amf, 2);
	err |= jset(o, "amf", json_string(hex));
	err |= jset(o, "sqn", json_integer((json_int_t)i->sqn));
	if (i->line_id)
		err |= jset(o, "line_id", json_string(i->line_id));
	a = json_array();
	for (k = 0; a && k < i->impu.n; k++)
		err |= json_array_append_new(a, json_string(i->impu.v[k]));
	err |= jset(o, "impu", a);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}


static json_t *impu_json(const struct store_impu *u)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= jset(o, "identity", json_string(u->identity));
	err |= jset(o, "type", json_string(type_names[u->type & 3]));
	err |= jset(o, "barred", json_boolean(u->barred));
	if (u->display_name)
		err |= jset(o, "display_name", json_string(u->display_name));
	err |= jset(o, "irs", json_integer(u->irs));
	if (u->alias_group)
		err |= jset(o, "alias_group", json_string(u->alias_group));
	if (u->service_profile)
		err |= jset(o, "service_profile",
			    json_string(u->service_profile));
	err |= jset(o, "can_register", json_boolean(u->can_register));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}


static json_t *caps_json(const uint32_t *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}


static json_t *sub_json(const struct store_subscription *s)
{
	const char *cf[4] = { s->ccf_primary, s->ccf_secondary, s->ecf_primary,
			      s->ecf_secondary };
	static const char *const ck[] = { "ccf_primary", "ccf_secondary",
					  "ecf_primary", "ecf_secondary" };
	json_t *o = json_object(), *x;
	size_t i;
	int err = 0;

	if (!o)
		return NULL;
	err |= jset(o, "name", json_string(s->name));
	if (s->scscf_preferred || s->cap_mand_n || s->cap_opt_n) {
		x = json_object();
		if (s->scscf_preferred)
			err |= jset(x, "preferred",
				    json_string(s->scscf_preferred));
		err |= jset(x, "mandatory",
			    caps_json(s->cap_mand, s->cap_mand_n));
		err |= jset(x, "optional", caps_json(s->cap_opt, s->cap_opt_n));
		err |= jset(o, "scscf", x);
	}
	if (cf[0] || cf[1] || cf[2] || cf[3]) {
		x = json_object();
		for (i = 0; i < 4; i++)
			if (cf[i])
				err |= jset(x, ck[i], json_string(cf[i]));
		err |= jset(o, "charging", x);
	}
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}


/* The subscription a key names: its name, an IMPI, or an IMPU (also one
 * a wildcarded identity covers). */
static int sub_find(struct store *st, const char *key,
		    struct store_subscription **subp, char *msg, size_t sz)
{
	int err;

	err = store_sub_get(st, key, subp);
	if (err == ENOENT)
		err = store_sub_by_impi(st, key, subp);
	if (err == ENOENT)
		err = store_sub_by_impu(st, key, subp);
	if (err == ENOENT)
		return say(msg, sz, ENOENT,
			   "no subscription, private identity or public "
			   "identity '%s': see 'entims subscriber list'",
			   key);
	if (err)
		return say(msg, sz, err, "cannot read the store: %s",
			   strerrordesc_np(err));
	return 0;
}


static int sub_export(struct store *st, const struct store_subscription *s,
		      json_t **docp, char *msg, size_t sz)
{
	struct list li = LIST_INIT, lu = LIST_INIT;
	json_t *o, *ai = NULL, *au = NULL;
	struct le *le;
	int err;

	o = sub_json(s);
	ai = json_array();
	au = json_array();
	if (!o || !ai || !au) {
		err = ENOMEM;
		goto out;
	}
	err = store_impi_list(st, s->name, &li);
	if (!err)
		err = store_impu_list(st, s->name, &lu);
	if (err) {
		(void)say(msg, sz, err, "cannot read subscription '%s': %s",
			  s->name, strerrordesc_np(err));
		goto out;
	}
	LIST_FOREACH (&li, le)
		if (json_array_append_new(ai, impi_json(le->data)))
			err = ENOMEM;
	LIST_FOREACH (&lu, le)
		if (json_array_append_new(au, impu_json(le->data)))
			err = ENOMEM;
	if (!err &&
	    (json_object_set(o, "impi", ai) || json_object_set(o, "impu", au)))
		err = ENOMEM;
out:
	list_flush(&li);
	list_flush(&lu);
	json_decref(ai);
	json_decref(au);
	if (err) {
		json_decref(o);
		if (err == ENOMEM)
			(void)say(msg, sz, err, "out of memory");
	} else {
		*docp = o;
	}
	return err;
}


int prov_sub_export(struct store *st, const char *key, json_t **docp, char *msg,
		    size_t msgsz)
{
	struct store_subscription *s = NULL;
	int err;

	err = sub_find(st, key, &s, msg, msgsz);
	if (!err)
		err = sub_export(st, s, docp, msg, msgsz);
	mem_deref(s);
	return err;
}


static const char *reg_name(enum store_reg_state s)
{
	switch (s) {
	case STORE_REG_REGISTERED:
		return "registered";
	case STORE_REG_UNREGISTERED:
		return "unregistered";
	default:
		return "not_registered";
	}
}


/* {"scscf": name|null, "scscf_host": host|null, "impu": {URI: state}} */
static int reg_json(struct store *st, const struct store_subscription *s,
		    json_t **out)
{
	struct list lu = LIST_INIT;
	char *pending = NULL, *host = NULL, *realm = NULL;
	json_t *o = json_object(), *m = json_object();
	struct le *le;
	int err;

	err = (!o || !m) ? ENOMEM : store_impu_list(st, s->name, &lu);
	if (!err)
		err = store_scscf_peer_get(st, s->name, &pending, &host,
					   &realm);
	LIST_FOREACH (&lu, le) {
		const struct store_impu *u = le->data;

		if (!err)
			err = jset(m, u->identity,
				   json_string(reg_name(u->reg_state)));
	}
	if (!err)
		err = jset(o, "scscf",
			   s->scscf_assigned ? json_string(s->scscf_assigned)
					     : json_null());
	if (!err)
		err = jset(o, "scscf_host",
			   host ? json_string(host) : json_null());
	if (!err) {
		err = jset(o, "impu", m);
		m = NULL;
	}
	list_flush(&lu);
	mem_deref(pending);
	mem_deref(host);
	mem_deref(realm);
	json_decref(m);
	if (err)
		json_decref(o);
	else
		*out = o;
	return err;
}


/**
 * The document of prov_sub_export() and, as "registration", the state
 * the HSS keeps (not part of the document: import refuses it): the
 * assigned S-CSCF, its Diameter host, and each public identity's state
 * (registered, unregistered, not_registered; TS 29.228 6.1.2).
 */
int prov_sub_show(struct store *st, const char *key, json_t **docp, char *msg,
		  size_t msgsz)
{
	struct store_subscription *s = NULL;
	json_t *doc = NULL, *reg = NULL;
	int err;

	err = sub_find(st, key, &s, msg, msgsz);
	if (!err)
		err = sub_export(st, s, &doc, msg, msgsz);
	if (!err) {
		err = reg_json(st, s, &reg);
		if (!err)
			err = jset(doc, "registration", reg);
		if (err)
			(void)say(msg, msgsz, err,
				  "cannot read the registration state of "
				  "'%s': %s",
				  s->name, strerrordesc_np(err));
	}
	mem_deref(s);
	if (err)
		json_decref(doc);
	else
		*docp = doc;
	return err;
}


int prov_export_all(struct store *st, json_t **docp, char *msg, size_t msgsz)
{
	struct list l = LIST_INIT;
	json_t *a = json_array(), *o = NULL;
	struct le *le;
	int err;

	if (!a)
		return ENOMEM;
	err = store_sub_list(st, &l);
	if (err)
		(void)say(msg, msgsz, err, "cannot read the store: %s",
			  strerrordesc_np(err));
	LIST_FOREACH (&l, le) {
		if (err)
			break;
		err = sub_export(st, le->data, &o, msg, msgsz);
		if (!err && json_array_append_new(a, o))
			err = ENOMEM;
	}
	list_flush(&l);
	if (err)
		json_decref(a);
	else
		*docp = a;
	return err;
}


int prov_sub_list(struct store *st, json_t **docp, char *msg, size_t msgsz)
{
	json_t *all = NULL, *a, *e, *x;
	size_t k, n;
	int err;

	err = prov_export_all(st, &all, msg, msgsz);
	if (err)
		return err;
	a = json_array();
	json_array_foreach(all, k, e)
	{
		json_t *o = json_object(), *ids;
		const char *part[2] = { "impi", "impu" };
		size_t p;

		if (!o ||
		    json_object_set(o, "name", json_object_get(e, "name"))) {
			json_decref(o);
			err = ENOMEM;
			break;
		}
		for (p = 0; p < 2; p++) {
			ids = json_array();
			json_array_foreach(json_object_get(e, part[p]), n,
					   x)(void)
				json_array_append(
					ids, json_object_get(x, "identity"));
			(void)json_object_set_new(o, part[p], ids);
		}
		(void)json_array_append_new(a, o);
	}
	json_decref(all);
	if (err || !a) {
		json_decref(a);
		return ENOMEM;
	}
	*docp = a;
	return 0;
}


int prov_sub_delete(struct store *st, const char *key, char *msg, size_t msgsz)
{
	struct store_subscription *s = NULL;
	int err;

	err = sub_find(st, key, &s, msg, msgsz);
	/* the RTR is queued first: the S-CSCF must not go on serving a
	 * user the HSS no longer has.  The event carries the whole RTR, so
	 * the HSS sends it after the rows below are gone. */
	if (!err)
		err = dereg_before_delete(st, s, msg, msgsz);
	if (!err) {
		err = store_sub_delete(st, s->name);
		if (err)
			(void)say(msg, msgsz, err,
				  "cannot delete subscription '%s': %s",
				  s->name, strerrordesc_np(err));
	}
	mem_deref(s);
	return err;
}


/* ---- set ---- */

static int set_impu(struct store *st, const struct store_subscription *s,
		    const json_t *e, char *msg, size_t sz)
{
	struct store_impu *u = NULL;
	const char *id = NULL;
	bool fresh = false;
	int err;

	if (!json_is_object(e) ||
	    jstr(e, "identity", &id, "a public identity", msg, sz) || !id)
		return say(msg, sz, EINVAL,
			   "each entry of \"impu\" needs \"identity\"");
	err = store_impu_get(st, id, &u);
	if (err == ENOENT) {
		fresh = true;
		u = store_impu_alloc();
		if (!u || set_str(&u->identity, id) ||
		    set_str(&u->subscription, s->name))
			err = ENOMEM;
		else
			err = 0;
	} else if (!err && strcmp(u->subscription, s->name)) {
		err = say(msg, sz, EXDEV,
			  "public identity '%s' belongs to subscription "
			  "'%s', not '%s'",
			  id, u->subscription, s->name);
	}
	if (!err)
		err = impu_apply(u, e, fresh, msg, sz);
	if (!err)
		err = impu_validate(st, u, msg, sz);
	if (!err) {
		err = fresh ? store_impu_add(st, u) : store_impu_update(st, u);
		if (err)
			(void)say(msg, sz, err,
				  "cannot write public identity '%s': %s", id,
				  strerrordesc_np(err));
	}
	mem_deref(u);
	return err;
}


static int relink(struct store *st, const struct store_impi *old,
		  const struct store_impi *i, char *msg, size_t sz)
{
	size_t a, b;
	int err = 0;

	for (a = 0; !err && a < old->impu.n; a++) {
		for (b = 0; b < i->impu.n; b++)
			if (!strcmp(old->impu.v[a], i->impu.v[b]))
				break;
		if (b == i->impu.n)
			err = store_unlink(st, i->identity, old->impu.v[a]);
	}
	for (b = 0; !err && b < i->impu.n; b++) {
		for (a = 0; a < old->impu.n; a++)
			if (!strcmp(old->impu.v[a], i->impu.v[b]))
				break;
		if (a < old->impu.n)
			continue;
		err = store_link(st, i->identity, i->impu.v[b]);
		if (err == ENOENT || err == EXDEV)
			return say(msg, sz, err,
				   "private identity '%s' cannot be associated "
				   "with '%s': %s",
				   i->identity, i->impu.v[b],
				   err == ENOENT
					   ? "no such public identity; add it "
					     "to \"impu\" first"
					   : "it belongs to another "
					     "subscription");
	}
	return err;
}


static int set_impi(struct store *st, const struct store_subscription *s,
		    const json_t *e, char *msg, size_t sz)
{
	struct store_impi *i = NULL, *old = NULL;
	const char *id = NULL;
	bool fresh = false, sqn_set = false;
	uint64_t cur = 0;
	int err;

	if (!json_is_object(e) ||
	    jstr(e, "identity", &id, "a private identity", msg, sz) || !id)
		return say(msg, sz, EINVAL,
			   "each entry of \"impi\" needs \"identity\"");
	err = prov_check_impi(id, msg, sz);
	if (err)
		return err;
	err = store_impi_get(st, id, &i);
	if (err == ENOENT) {
		fresh = true;
		i = store_impi_alloc();
		old = store_impi_alloc();
		if (!i || !old || set_str(&i->identity, id) ||
		    set_str(&i->subscription, s->name))
			err = ENOMEM;
		else
			err = 0;
	} else if (!err && strcmp(i->subscription, s->name)) {
		err = say(msg, sz, EXDEV,
			  "private identity '%s' belongs to subscription "
			  "'%s', not '%s'",
			  id, i->subscription, s->name);
	} else if (!err) {
		err = store_impi_get(st, id, &old);
		cur = i->sqn;
	}
	if (!err)
		err = impi_apply(i, e, fresh, &sqn_set, msg, sz);
	if (!err)
		err = impi_validate(i, msg, sz);
	if (err)
		goto out;
	err = fresh ? store_impi_add(st, i) : store_impi_update(st, i);
	if (!err)
		err = relink(st, old, i, msg, sz);
	if (!err && sqn_set && i->sqn != cur)
		err = store_sqn_cas(st, id, cur, i->sqn);
	if (err && !msg[0])
		(void)say(msg, sz, err,
			  "cannot write private identity '%s': %s", id,
			  strerrordesc_np(err));
out:
	mem_deref(old);
	mem_deref(i);
	return err;
}


/**
 * Change a subscription (see prov.h).
 *
 * @param st       the store
 * @param key      the subscription's name, an IMPI or an IMPU
 * @param changes  {"scscf", "charging", "impu": [...], "impi": [...]}
 * @return 0 or an errno with msg; identities are written one by one
 *         and the first refusal stops the rest
 */
int prov_sub_set(struct store *st, const char *key, const json_t *changes,
		 char *msg, size_t msgsz)
{
	static const char *const keys[] = { "scscf", "charging", "impi", "impu",
					    NULL };
	struct store_subscription *s = NULL;
	struct watch w;
	json_t *a, *e;
	size_t k;
	int err, qerr;

	memset(&w, 0, sizeof(w));
	msg[0] = '\0';
	if (!json_is_object(changes))
		return say(msg, msgsz, EINVAL, "the changes must be an object");
	if (json_object_get(changes, "name"))
		return say(msg, msgsz, EINVAL,
			   "a subscription cannot be renamed: export it, "
			   "change the name, delete and import it");
	err = keys_check(changes, keys, "the changes", msg, msgsz);
	if (!err)
		err = sub_find(st, key, &s, msg, msgsz);
	if (!err)
		err = watch_begin(st, &w, s->name);
	if (err)
		goto out;
	if (json_object_get(changes, "scscf") ||
	    json_object_get(changes, "charging")) {
		err = sub_apply(s, changes, msg, msgsz);
		if (!err && (err = store_sub_update(st, s)))
			(void)say(msg, msgsz, err,
				  "cannot write subscription '%s': %s", s->name,
				  strerrordesc_np(err));
		if (err)
			goto out;
	}
	a = json_object_get(changes, "impu");
	if (a && !json_is_array(a)) {
		err = say(msg, msgsz, EINVAL, "\"impu\" must be a list");
		goto out;
	}
	json_array_foreach(a, k, e)
	{
		err = set_impu(st, s, e, msg, msgsz);
		if (err)
			goto out;
	}
	a = json_object_get(changes, "impi");
	if (a && !json_is_array(a)) {
		err = say(msg, msgsz, EINVAL, "\"impi\" must be a list");
		goto out;
	}
	json_array_foreach(a, k, e)
	{
		err = set_impi(st, s, e, msg, msgsz);
		if (err)
			goto out;
	}
out:
	/* what was written before a refusal stays, and is pushed too */
	if (w.sub) {
		qerr = watch_end(st, &w, err ? NULL : msg, err ? 0 : msgsz);
		if (!err)
			err = qerr;
	}
	mem_deref(s);
	return err;
}


/* ---- iFCs ---- */

static const char *const ifc_keys[] = { "name",
					"priority",
					"as_uri",
					"default_handling",
					"service_info",
					"include_register_request",
					"include_register_response",
					"profile_part",
					"trigger",
					NULL };

static int regex_check(const char *re, const char *name, size_t n, char *msg,
		       size_t sz)
{
	regex_t rx;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return say(msg, sz, EINVAL,
			   "iFC '%s', SPT %zu: '%s' is not a valid regular "
			   "expression (POSIX extended, TS 29.228 B.2.2)",
			   name, n + 1, re);
	regfree(&rx);
	return 0;
}


static int ifc_from_json(struct store_ifc *f, const json_t *o, char *msg,
			 size_t sz)
{
	const char *name = NULL, *s = NULL;
	json_t *v;
	int64_t prio = -1;
	char *text = NULL, tmsg[256];
	size_t n;
	int err;

	if (!json_is_object(o))
		return say(msg, sz, EINVAL, "an iFC must be a JSON object");
	err = jstr(o, "name", &name, "an iFC", msg, sz);
	if (err)
		return err;
	if (!name || !*name)
		return say(msg, sz, EINVAL, "an iFC needs a \"name\"");
	if (set_str(&f->name, name))
		return ENOMEM;
	err = keys_check(o, ifc_keys, "an iFC", msg, sz);
	if (!err)
		err = jint(o, "priority", 0, INT32_MAX, &prio, "an iFC", msg,
			   sz);
	if (err)
		return err;
	if (prio < 0)
		return say(msg, sz, EINVAL,
			   "iFC '%s' needs a \"priority\" (0 is the highest, "
			   "TS 29.228 B.2.2)",
			   name);
	f->ifc.priority = (int)prio;
	err = jstr(o, "as_uri", &s, "an iFC", msg, sz);
	if (err)
		return err;
	if (!s || uri_check(s, s, tmsg, sizeof(tmsg)) ||
	    strncasecmp(s, "sip", 3))
		return say(msg, sz, EINVAL,
			   "iFC '%s' needs \"as_uri\", the application "
			   "server's SIP URI (e.g. sip:as.acme.example)",
			   name);
	if (set_str(&f->ifc.as_uri, s))
		return ENOMEM;
	err = jstr(o, "default_handling", &s, "an iFC", msg, sz);
	if (err)
		return err;
	if (s && (!strcmp(s, "session_continued") || !strcmp(s, "continue")))
		f->ifc.default_handling = CX_DH_SESSION_CONTINUED;
	else if (s &&
		 (!strcmp(s, "session_terminated") || !strcmp(s, "terminate")))
		f->ifc.default_handling = CX_DH_SESSION_TERMINATED;
	else if (s)
		return say(msg, sz, EINVAL,
			   "\"default_handling\" of iFC '%s' must be "
			   "session_continued or session_terminated",
			   name);
	err = jstr(o, "service_info", &s, "an iFC", msg, sz);
	if (!err)
		err = set_str(&f->ifc.service_info, s);
	if (!err)
		err = jbool(o, "include_register_request",
			    &f->ifc.include_register_request, "an iFC", msg,
			    sz);
	if (!err)
		err = jbool(o, "include_register_response",
			    &f->ifc.include_register_response, "an iFC", msg,
			    sz);
	if (!err)
		err = jstr(o, "profile_part", &s, "an iFC", msg, sz);
	if (err)
		return err;
	if (s && !strcmp(s, "registered"))
		f->ifc.ppi = CX_PPI_REGISTERED;
	else if (s && !strcmp(s, "unregistered"))
		f->ifc.ppi = CX_PPI_UNREGISTERED;
	else if (s)
		return say(msg, sz, EINVAL,
			   "\"profile_part\" of iFC '%s' must be registered "
			   "or unregistered (or absent: both)",
			   name);
	v = json_object_get(o, "trigger");
	if (v && !json_is_null(v)) {
		text = json_dumps(v, JSON_COMPACT);
		if (!text)
			return ENOMEM;
		err = store_tp_decode(&f->ifc.tp, text, tmsg, sizeof(tmsg));
		free(text);
		if (err)
			return say(msg, sz, err, "iFC '%s': %s", name, tmsg);
		for (n = 0; f->ifc.tp && n < f->ifc.tp->spt_n; n++) {
			const struct cx_spt *p = &f->ifc.tp->spt[n];
			if (p->kind == CX_SPT_REQUEST_URI)
				err = regex_check(p->a, name, n, msg, sz);
			else if (p->b)
				err = regex_check(p->b, name, n, msg, sz);
			if (err)
				return err;
		}
	}
	return 0;
}


static json_t *ifc_json(const struct store_ifc *f)
{
	json_t *o = json_object(), *tp = NULL;
	char *text = NULL;
	int err = 0;

	if (!o)
		return NULL;
	err |= jset(o, "name", json_string(f->name));
	err |= jset(o, "priority", json_integer(f->ifc.priority));
	err |= jset(o, "as_uri", json_string(f->ifc.as_uri));
	err |= jset(
		o, "default_handling",
		json_string(f->ifc.default_handling == CX_DH_SESSION_TERMINATED
				    ? "session_terminated"
				    : "session_continued"));
	if (f->ifc.service_info)
		err |= jset(o, "service_info",
			    json_string(f->ifc.service_info));
	err |= jset(o, "include_register_request",
		    json_boolean(f->ifc.include_register_request));
	err |= jset(o, "include_register_response",
		    json_boolean(f->ifc.include_register_response));
	if (f->ifc.ppi != CX_PPI_NONE)
		err |= jset(o, "profile_part",
			    json_string(f->ifc.ppi == CX_PPI_REGISTERED
						? "registered"
						: "unregistered"));
	if (f->ifc.tp) {
		err |= store_tp_encode(f->ifc.tp, &text);
		tp = text ? json_loads(text, 0, NULL) : NULL;
		mem_deref(text);
		err |= tp ? jset(o, "trigger", tp) : ENOMEM;
	}
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}


static int ifc_add_one(struct store *st, const json_t *o, char *msg, size_t sz)
{
	struct store_ifc *f = store_ifc_alloc();
	int err;

	if (!f)
		return ENOMEM;
	err = ifc_from_json(f, o, msg, sz);
	if (!err) {
		err = store_ifc_add(st, f);
		if (err == EEXIST)
			(void)say(msg, sz, err,
				  "iFC '%s' already exists: delete it first "
				  "or choose another name",
				  f->name);
		else if (err)
			(void)say(msg, sz, err, "cannot write iFC '%s': %s",
				  f->name, strerrordesc_np(err));
	}
	mem_deref(f);
	return err;
}


int prov_ifc_add(struct store *st, const json_t *doc, char *msg, size_t msgsz)
{
	json_t *e;
	size_t k;
	int err;

	if (!json_is_array(doc))
		return ifc_add_one(st, doc, msg, msgsz);
	json_array_foreach(doc, k, e)
	{
		err = ifc_add_one(st, e, msg, msgsz);
		if (err)
			return err;
	}
	return 0;
}


int prov_ifc_export(struct store *st, const char *name, json_t **docp,
		    char *msg, size_t msgsz)
{
	struct store_ifc *f = NULL;
	struct list l = LIST_INIT;
	struct le *le;
	json_t *a;
	int err;

	if (name) {
		err = store_ifc_get(st, name, &f);
		if (err)
			return say(msg, msgsz, err,
				   err == ENOENT ? "no iFC '%s': see 'entims "
						   "ifc list'"
						 : "cannot read iFC '%s'",
				   name);
		*docp = ifc_json(f);
		mem_deref(f);
		return *docp ? 0 : ENOMEM;
	}
	err = store_ifc_list(st, &l);
	a = json_array();
	LIST_FOREACH (&l, le)
		if (a && json_array_append_new(a, ifc_json(le->data)))
			err = ENOMEM;
	list_flush(&l);
	if (err || !a) {
		json_decref(a);
		return say(msg, msgsz, err ? err : ENOMEM,
			   "cannot read the iFCs");
	}
	*docp = a;
	return 0;
}


int prov_ifc_delete(struct store *st, const char *name, char *msg, size_t msgsz)
{
	int err = store_ifc_delete(st, name);

	if (err == ENOENT)
		return say(msg, msgsz, err,
			   "no iFC '%s': see 'entims ifc list'", name);
	if (err == EBUSY)
		return say(msg, msgsz, err,
			   "iFC '%s' is used by a service profile or a "
			   "shared iFC set: remove it there first",
			   name);
	if (err)
		return say(msg, msgsz, err, "cannot delete iFC '%s': %s", name,
			   strerrordesc_np(err));
	return 0;
}


/* ---- service profiles and shared iFC sets ---- */

static int names_apply(struct store_strv *sv, const json_t *a, const char *what,
		       const char *name, char *msg, size_t sz)
{
	json_t *e;
	size_t k;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return say(msg, sz, EINVAL,
			   "\"ifc\" of %s '%s' must be a list of iFC names",
			   what, name);
	json_array_foreach(a, k, e)
	{
		if (!json_is_string(e))
			return say(msg, sz, EINVAL,
				   "\"ifc\" of %s '%s' must hold iFC names",
				   what, name);
		if (store_strv_add(sv, json_string_value(e)))
			return ENOMEM;
	}
	return 0;
}


static int ifcs_exist(struct store *st, const struct store_strv *sv,
		      const char *what, const char *name, char *msg, size_t sz)
{
	struct store_ifc *f = NULL;
	size_t k;
	int err;

	for (k = 0; k < sv->n; k++) {
		err = store_ifc_get(st, sv->v[k], &f);
		f = mem_deref(f);
		if (err == ENOENT)
			return say(msg, sz, err,
				   "%s '%s' lists iFC '%s', which does not "
				   "exist: add it with 'entims ifc add' first",
				   what, name, sv->v[k]);
		if (err)
			return err;
	}
	return 0;
}


static bool names_same(const struct store_strv *a, const struct store_strv *b)
{
	size_t i, j;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (!strcmp(a->v[i], b->v[j]))
				break;
		if (j == b->n)
			return false;
	}
	return true;
}


/* Would the S-CSCF see the same profile?  The order of the iFC names
 * does not matter (the XML orders iFCs by priority, TS 29.228 B.2.2),
 * nor does that of the shared iFC set ids. */
static bool sp_same(const struct store_sp *a, const struct store_sp *b)
{
	size_t i, j;

	if (a->media_profile != b->media_profile ||
	    a->shared_n != b->shared_n || !names_same(&a->ifc, &b->ifc))
		return false;
	for (i = 0; i < a->shared_n; i++) {
		for (j = 0; j < b->shared_n; j++)
			if (a->shared[i] == b->shared[j])
				break;
		if (j == b->shared_n)
			return false;
	}
	return true;
}


/* A profile changed: one push for every subscription served by an
 * S-CSCF with a served public identity on it.  Walks every subscription
 * (the store has no index by profile; fine for provisioning, which is
 * rare next to registrations). */
static int sp_push(struct store *st, const char *name, char *msg, size_t sz)
{
	struct list ls = LIST_INIT, lu = LIST_INIT;
	struct le *le, *ue;
	int err;

	if (!name)
		return EINVAL;
	err = store_sub_list(st, &ls);
	LIST_FOREACH (&ls, le) {
		const struct store_subscription *s = le->data;
		bool hit = false;

		if (err)
			break;
		if (!s->scscf_assigned)
			continue;
		err = store_impu_list(st, s->name, &lu);
		LIST_FOREACH (&lu, ue) {
			const struct store_impu *u = ue->data;

			if (u->service_profile &&
			    !strcmp(u->service_profile, name) &&
			    reg_served(u->reg_state) && u->impi.n)
				hit = true;
		}
		list_flush(&lu);
		if (!err && hit)
			err = store_event_add(st, STORE_EV_PROFILE, s->name, 0);
	}
	list_flush(&ls);
	if (err)
		return say(msg, sz, err,
			   "service profile '%s' was written, but the profile "
			   "push to the S-CSCFs of its users could not be "
			   "queued (%s): write it again",
			   name, strerrordesc_np(err));
	return 0;
}


int prov_sp_add(struct store *st, const json_t *doc, int replace, char *msg,
		size_t msgsz)
{
	static const char *const keys[] = { "name", "ifc", "shared_ifc_sets",
					    "media_profile", NULL };
	struct store_sp *sp = NULL, *old = NULL;
	struct store_ifc_set *set = NULL;
	const char *name = NULL;
	int64_t media = -1;
	json_t *a, *e;
	size_t k;
	int err;

	if (!json_is_object(doc))
		return say(msg, msgsz, EINVAL,
			   "a service profile must be a JSON object");
	err = jstr(doc, "name", &name, "a service profile", msg, msgsz);
	if (!err && (!name || !*name))
		err = say(msg, msgsz, EINVAL,
			  "a service profile needs a \"name\"");
	if (!err)
		err = keys_check(doc, keys, "a service profile", msg, msgsz);
	if (!err)
		err = jint(doc, "media_profile", 0, INT32_MAX, &media,
			   "a service profile", msg, msgsz);
	if (err)
		return err;
	sp = store_sp_alloc();
	if (!sp || set_str(&sp->name, name)) {
		err = ENOMEM;
		goto out;
	}
	sp->media_profile = (int)media;
	err = names_apply(&sp->ifc, json_object_get(doc, "ifc"),
			  "service profile", name, msg, msgsz);
	if (!err)
		err = ifcs_exist(st, &sp->ifc, "service profile", name, msg,
				 msgsz);
	if (err)
		goto out;
	a = json_object_get(doc, "shared_ifc_sets");
	if (a && (!json_is_array(a) || json_array_size(a) > STORE_CAP_MAX)) {
		err = say(msg, msgsz, EINVAL,
			  "\"shared_ifc_sets\" of service profile '%s' must "
			  "be a list of set ids",
			  name);
		goto out;
	}
	json_array_foreach(a, k, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > UINT32_MAX) {
			err = say(msg, msgsz, EINVAL,
				  "\"shared_ifc_sets\" of service profile "
				  "'%s' must hold set ids (integers)",
				  name);
			goto out;
		}
		sp->shared[sp->shared_n] = (uint32_t)json_integer_value(e);
		err = store_ifc_set_get(st, sp->shared[sp->shared_n], &set);
		set = mem_deref(set);
		if (err) {
			(void)say(msg, msgsz, err,
				  "service profile '%s' lists shared iFC set "
				  "%u, which does not exist",
				  name, sp->shared[sp->shared_n]);
			goto out;
		}
		sp->shared_n++;
	}
	err = store_sp_get(st, name, &old);
	if (!err && !replace) {
		err = say(msg, msgsz, EEXIST,
			  "service profile '%s' already exists: use "
			  "--replace to change it",
			  name);
		goto out;
	}
	err = err == ENOENT ? store_sp_add(st, sp)
			    : (err ? err : store_sp_update(st, sp));
	if (err)
		(void)say(msg, msgsz, err,
			  "cannot write service profile '%s': %s", name,
			  strerrordesc_np(err));
	else if (old && !sp_same(old, sp))
		err = sp_push(st, name, msg, msgsz);
out:
	mem_deref(old);
	mem_deref(sp);
	return err;
}


static json_t *sp_json(const struct store_sp *sp)
{
	json_t *o = json_object(), *a, *s;
	size_t k;
	int err = 0;

	if (!o)
		return NULL;
	err |= jset(o, "name", json_string(sp->name));
	a = json_array();
	for (k = 0; a && k < sp->ifc.n; k++)
		err |= json_array_append_new(a, json_string(sp->ifc.v[k]));
	err |= jset(o, "ifc", a);
	s = json_array();
	for (k = 0; s && k < sp->shared_n; k++)
		err |= json_array_append_new(s, json_integer(sp->shared[k]));
	err |= jset(o, "shared_ifc_sets", s);
	if (sp->media_profile >= 0)
		err |= jset(o, "media_profile",
			    json_integer(sp->media_profile));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}


int prov_sp_export(struct store *st, const char *name, json_t **docp, char *msg,
		   size_t msgsz)
{
	struct store_sp *sp = NULL;
	struct list l = LIST_INIT;
	struct le *le;
	json_t *a;
	int err;

	if (name) {
		err = store_sp_get(st, name, &sp);
		if (err)
			return say(msg, msgsz, err,
				   err == ENOENT ? "no service profile '%s': "
						   "see 'entims profile list'"
						 : "cannot read service "
						   "profile '%s'",
				   name);
		*docp = sp_json(sp);
		mem_deref(sp);
		return *docp ? 0 : ENOMEM;
	}
	err = store_sp_list(st, &l);
	a = json_array();
	LIST_FOREACH (&l, le)
		if (a && json_array_append_new(a, sp_json(le->data)))
			err = ENOMEM;
	list_flush(&l);
	if (err || !a) {
		json_decref(a);
		return say(msg, msgsz, err ? err : ENOMEM,
			   "cannot read the service profiles");
	}
	*docp = a;
	return 0;
}


int prov_sp_delete(struct store *st, const char *name, char *msg, size_t msgsz)
{
	int err = store_sp_delete(st, name);

	if (err == ENOENT)
		return say(msg, msgsz, err,
			   "no service profile '%s': see 'entims profile "
			   "list'",
			   name);
	if (err == EBUSY)
		return say(msg, msgsz, err,
			   "service profile '%s' is used by public "
			   "identities: move them to another profile first",
			   name);
	if (err)
		return say(msg, msgsz, err,
			   "cannot delete service profile '%s': %s", name,
			   strerrordesc_np(err));
	return 0;
}


int prov_ifc_set_add(struct store *st, const json_t *doc, char *msg,
		     size_t msgsz)
{
	static const char *const keys[] = { "id", "name", "ifc", NULL };
	struct store_ifc_set *set;
	const char *name = NULL;
	int64_t id = -1;
	int err;

	if (!json_is_object(doc))
		return say(msg, msgsz, EINVAL,
			   "a shared iFC set must be a JSON object");
	err = keys_check(doc, keys, "a shared iFC set", msg, msgsz);
	if (!err)
		err = jint(doc, "id", 0, UINT32_MAX, &id, "a shared iFC set",
			   msg, msgsz);
	if (!err)
		err = jstr(doc, "name", &name, "a shared iFC set", msg, msgsz);
	if (!err && (id < 0 || !name))
		err = say(msg, msgsz, EINVAL,
			  "a shared iFC set needs \"id\" (its SharedIFCSetID) "
			  "and \"name\"");
	if (err)
		return err;
	set = store_ifc_set_alloc();
	if (!set || set_str(&set->name, name)) {
		mem_deref(set);
		return ENOMEM;
	}
	set->id = (uint32_t)id;
	err = names_apply(&set->ifc, json_object_get(doc, "ifc"),
			  "shared iFC set", name, msg, msgsz);
	if (!err)
		err = ifcs_exist(st, &set->ifc, "shared iFC set", name, msg,
				 msgsz);
	if (!err) {
		err = store_ifc_set_add(st, set);
		if (err)
			(void)say(msg, msgsz, err,
				  err == EEXIST ? "shared iFC set %u or its "
						  "name already exists"
						: "cannot write shared iFC "
						  "set %u",
				  set->id);
	}
	mem_deref(set);
	return err;
}


/* ---- the SLF table (Dx, TS 29.228 6.6) ---- */

/* A DiameterIdentity is an FQDN (RFC 6733 4.3.1): letters, digits,
 * hyphens and dots, no empty label. */
static bool fqdn_ok(const char *s)
{
	size_t label = 0;

	if (!*s || strlen(s) > 255)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}


int prov_slf_set(struct store *st, const char *identity, const char *hss_name,
		 const char *hss_realm, char *msg, size_t msgsz)
{
	const char *realm = hss_realm && *hss_realm ? hss_realm : NULL;
	int err;

	if (!identity || !*identity)
		return say(msg, msgsz, EINVAL,
			   "give the identity the SLF maps: a public identity "
			   "(sip:alice@acme.example, tel:+15551234) or a "
			   "private one (alice@acme.example)");
	if (!strncasecmp(identity, "sip:", 4) ||
	    !strncasecmp(identity, "sips:", 5) ||
	    !strncasecmp(identity, "tel:", 4)) {
		err = prov_check_impu(identity, NULL, msg, msgsz);
	} else {
		err = prov_check_impi(identity, msg, msgsz);
	}
	if (err)
		return err;
	if (!hss_name || !fqdn_ok(hss_name))
		return say(msg, msgsz, EINVAL,
			   "HSS '%s' is not a Diameter identity: give the "
			   "HSS's [diameter] identity, an FQDN such as "
			   "hss1.acme.example",
			   hss_name ? hss_name : "");
	if (!realm) {
		realm = strchr(hss_name, '.');
		if (!realm || !realm[1])
			return say(msg, msgsz, EINVAL,
				   "HSS '%s' has no domain to take its realm "
				   "from: give the realm too (--hss-realm)",
				   hss_name);
		realm++;
	}
	if (!fqdn_ok(realm))
		return say(msg, msgsz, EINVAL,
			   "realm '%s' of HSS '%s' is not a domain name", realm,
			   hss_name);
	err = store_slf_set(st, identity, hss_name, realm);
	if (err)
		return say(msg, msgsz, err,
			   "cannot write the SLF entry of '%s': %s", identity,
			   strerrordesc_np(err));
	return 0;
}


static json_t *slf_doc(const struct store_slf *e)
{
	return json_pack("{s:s, s:s, s:s}", "identity", e->identity, "hss",
			 e->hss_name, "realm", e->hss_realm);
}


int prov_slf_export(struct store *st, const char *identity, json_t **docp,
		    char *msg, size_t msgsz)
{
	struct store_slf *one = NULL;
	struct list l = LIST_INIT;
	struct le *le;
	json_t *doc;
	int err;

	if (!docp)
		return EINVAL;
	if (identity) {
		err = store_slf_get(st, identity, &one);
		if (err == ENOENT)
			return say(msg, msgsz, err,
				   "the SLF has no entry for '%s': see "
				   "'entims slf list'",
				   identity);
		if (err)
			return say(msg, msgsz, err,
				   "cannot read the SLF entry of '%s': %s",
				   identity, strerrordesc_np(err));
		doc = slf_doc(one);
		mem_deref(one);
		if (!doc)
			return say(msg, msgsz, ENOMEM, "out of memory");
		*docp = doc;
		return 0;
	}
	err = store_slf_list(st, &l);
	if (err)
		return say(msg, msgsz, err, "cannot read the SLF table: %s",
			   strerrordesc_np(err));
	doc = json_array();
	LIST_FOREACH (&l, le) {
		if (!doc || json_array_append_new(doc, slf_doc(le->data))) {
			json_decref(doc);
			doc = NULL;
			break;
		}
	}
	list_flush(&l);
	if (!doc)
		return say(msg, msgsz, ENOMEM, "out of memory");
	*docp = doc;
	return 0;
}


int prov_slf_delete(struct store *st, const char *identity, char *msg,
		    size_t msgsz)
{
	int err = store_slf_delete(st, identity);

	if (err == ENOENT)
		return say(msg, msgsz, err,
			   "the SLF has no entry for '%s': see 'entims slf "
			   "list'",
			   identity);
	if (err)
		return say(msg, msgsz, err,
			   "cannot delete the SLF entry of '%s': %s", identity,
			   strerrordesc_np(err));
	return 0;
}
