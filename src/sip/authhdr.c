/**
 * @file authhdr.c  Authorization, Proxy-Authorization, WWW-Authenticate
 * and Proxy-Authenticate values (RFC 3261 20.7, 20.27, 20.28, 20.44, 25.1;
 * RFC 7616 3.3-3.4 userhash; RFC 3310 3.3 auts).
 *
 * Design: one pass over
 *   auth-scheme LWS auth-param *( COMMA auth-param )
 *   auth-param = auth-param-name EQUAL ( token / quoted-string )
 * with COMMA = SWS "," SWS and EQUAL = SWS "=" SWS.  The grammar is the
 * same for credentials and challenges, whatever the scheme, so an unknown
 * scheme decodes (RFC 4475 regaut01); deciding what to do with it is the
 * caller's business.  Quoted values come back without their quotes; a
 * quoted-pair inside stays escaped ("\"" is two octets in the view).
 * Unknown parameters are checked and skipped; a known one given twice is
 * malformed (RFC 7616 3.4: "MUST NOT appear more than once").
 */
#include "sip/authhdr.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/uri.h"

#define IS(c, cls) sip_cc_is((c), (cls))


static inline const char *skip_lws(const char *p, const char *e)
{
	while (p < e && IS(*p, SIP_CC_LWS))
		p++;
	return p;
}


static inline const char *scan_token(const char *p, const char *e)
{
	while (p < e && IS(*p, SIP_CC_TOKEN))
		p++;
	return p;
}


/* The field of a known auth-param (by length first), or NULL. */
static struct pl *param_slot(struct sip_authhdr *ah, const struct pl *n)
{
	switch (n->l) {
	case 2:
		return PL_EQ_LOWER(n, "nc") ? &ah->nc : NULL;
	case 3:
		if (PL_EQ_LOWER(n, "uri"))
			return &ah->uri;
		return PL_EQ_LOWER(n, "qop") ? &ah->qop : NULL;
	case 4:
		return PL_EQ_LOWER(n, "auts") ? &ah->auts : NULL;
	case 5:
		if (PL_EQ_LOWER(n, "realm"))
			return &ah->realm;
		if (PL_EQ_LOWER(n, "nonce"))
			return &ah->nonce;
		return PL_EQ_LOWER(n, "stale") ? &ah->stale : NULL;
	case 6:
		if (PL_EQ_LOWER(n, "cnonce"))
			return &ah->cnonce;
		return PL_EQ_LOWER(n, "opaque") ? &ah->opaque : NULL;
	case 8:
		if (PL_EQ_LOWER(n, "username"))
			return &ah->username;
		return PL_EQ_LOWER(n, "response") ? &ah->response : NULL;
	case 9:
		return PL_EQ_LOWER(n, "algorithm") ? &ah->algorithm : NULL;
	default:
		return NULL;
	}
}


/**
 * Decode an auth header value: the scheme and the auth-params.
 *
 * @param ah  the decoded value, set only on success
 * @param pl  the value (not NUL-terminated; never read past pl->l)
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_authhdr_decode(struct sip_authhdr *ah, const struct pl *pl)
{
	struct sip_authhdr a;
	bool userhash_seen = false;
	const char *p, *e, *q;

	if (!ah || !pl)
		return EINVAL;
	if (!pl->p)
		return pl->l ? EINVAL : EBADMSG;
	memset(&a, 0, sizeof(a));
	p = pl->p;
	e = p + pl->l;
	p = skip_lws(p, e);
	while (e > p && IS(e[-1], SIP_CC_LWS))
		e--;

	/* auth-scheme = token, then LWS */
	q = scan_token(p, e);
	if (q == p)
		return EBADMSG;
	pl_set(&a.scheme, p, (size_t)(q - p));
	if (q == e || !IS(*q, SIP_CC_LWS))
		return EBADMSG;
	p = skip_lws(q, e);

	for (;;) {
		struct pl name, val, *slot;

		q = scan_token(p, e);
		if (q == p)
			return EBADMSG;
		pl_set(&name, p, (size_t)(q - p));
		p = skip_lws(q, e);
		if (p == e || *p != '=')
			return EBADMSG;
		p = skip_lws(p + 1, e);
		if (p < e && *p == '"') {
			q = sip_qstr_end(p, e);
			if (!q)
				return EBADMSG;
			pl_set(&val, p + 1, (size_t)(q - p - 2));
		} else {
			q = scan_token(p, e);
			if (q == p)
				return EBADMSG;
			pl_set(&val, p, (size_t)(q - p));
		}

		if (PL_EQ_LOWER(&name, "userhash")) {
			/* RFC 7616 3.4: userhash = "true" / "false" */
			if (userhash_seen)
				return EBADMSG;
			userhash_seen = true;
			a.userhash = pl_eq_str_ci(&val, "true");
		} else if ((slot = param_slot(&a, &name)) != NULL) {
			if (slot->p)
				return EBADMSG;
			*slot = val;
		}

		p = skip_lws(q, e);
		if (p == e)
			break;
		if (*p != ',')
			return EBADMSG;
		p = skip_lws(p + 1, e);
	}

	*ah = a;
	return 0;
}
