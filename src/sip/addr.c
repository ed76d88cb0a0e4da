/**
 * @file addr.c  name-addr / addr-spec header values (RFC 3261 20.10, 25.1)
 * and Contact values (RFC 3261 20.10, 10.2.1.2).
 *
 * Design: one pass.  The value is one of
 *   "*"                                         (Contact only: star)
 *   [ display-name ] LAQUOT addr-spec RAQUOT *( SEMI generic-param )
 *   addr-spec *( SEMI generic-param )
 * with display-name = *(token LWS) / quoted-string.  Which form it is
 * shows from the first octet that is neither token nor LWS: a '<' ends a
 * token display name, anything else means the value starts with an
 * addr-spec (whose scheme is a token followed by ':').  RFC 3261 20.10:
 * without angle brackets the URI ends at the first ';' (or LWS), and the
 * parameters after it belong to the header, not to the URI.
 *
 * The URI itself goes through sip_uri_decode(), so spaces inside the
 * brackets (RFC 4475 badaspec) and unknown schemes (unksm2)
 * are handled there.  Nothing is copied or allocated.
 */
#include "sip/addr.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define IS(c, cls) sip_cc_is((c), (cls))
#define NAME_IS(n, lit)               \
	((n)->l == sizeof(lit) - 1 && \
	 !strncasecmp((n)->p, lit, sizeof(lit) - 1))


static inline const char *skip_lws(const char *p, const char *e)
{
	while (p < e && IS(*p, SIP_CC_LWS))
		p++;
	return p;
}


/* the parameters after the URI: [ SWS ] *( SEMI generic-param ) */
static int addr_params(struct sip_addr *a, const char *p, const char *e)
{
	struct pl tag;
	int err;

	p = skip_lws(p, e);
	if (p == e)
		return 0;
	if (*p != ';')
		return EBADMSG;
	pl_set(&a->params, p, (size_t)(e - p));
	if (sip_params_check(&a->params))
		return EBADMSG;

	/* tag-param = "tag" EQUAL token (RFC 3261 25.1) */
	err = sip_param_get(&a->params, "tag", &tag);
	if (!err) {
		size_t i;

		if (!tag.l)
			return EBADMSG;
		for (i = 0; i < tag.l; i++)
			if (!IS(tag.p[i], SIP_CC_TOKEN))
				return EBADMSG;
		a->tag = tag;
	}
	return 0;
}


/* addr-spec *( SEMI generic-param ): the URI ends at ';' or LWS */
static int addr_spec(struct sip_addr *a, const char *p, const char *e)
{
	const char *q = p;

	while (q < e && *q != ';' && !IS(*q, SIP_CC_LWS))
		q++;
	pl_set(&a->auri, p, (size_t)(q - p));
	if (sip_uri_decode(&a->uri, &a->auri))
		return EBADMSG;
	return addr_params(a, q, e);
}


/* LAQUOT addr-spec RAQUOT *( SEMI generic-param ), p at '<' */
static int angle_addr(struct sip_addr *a, const char *p, const char *e)
{
	const char *q;

	p++;
	q = memchr(p, '>', (size_t)(e - p));
	if (!q)
		return EBADMSG;
	pl_set(&a->auri, p, (size_t)(q - p));
	a->angle = true;
	if (sip_uri_decode(&a->uri, &a->auri))
		return EBADMSG;
	return addr_params(a, q + 1, e);
}


/**
 * Decode a name-addr or addr-spec header value.
 *
 * @param addr  the decoded value, set only on success
 * @param pl    the value (LWS around it is ignored; not NUL-terminated)
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_addr_decode(struct sip_addr *addr, const struct pl *pl)
{
	struct sip_addr a;
	const char *p, *e, *q;
	int err;

	if (!addr || !pl)
		return EINVAL;
	if (!pl->p)
		return pl->l ? EINVAL : EBADMSG;
	memset(&a, 0, sizeof(a));
	p = pl->p;
	e = p + pl->l;
	p = skip_lws(p, e);
	while (e > p && IS(e[-1], SIP_CC_LWS))
		e--;
	if (p == e)
		return EBADMSG;
	pl_set(&a.val, p, (size_t)(e - p));

	if (e - p == 1 && *p == '*') {
		/* RFC 3261 20.10: Contact: STAR */
		a.star = true;
		err = 0;
	} else if (*p == '<') {
		err = angle_addr(&a, p, e);
	} else if (*p == '"') {
		/* quoted display name (unterminated: RFC 4475 quotbal) */
		q = sip_qstr_end(p, e);
		if (!q)
			return EBADMSG;
		pl_set(&a.dname, p, (size_t)(q - p));
		p = skip_lws(q, e);
		if (p == e || *p != '<')
			return EBADMSG;
		err = angle_addr(&a, p, e);
	} else {
		/* *(token LWS) then '<', else an addr-spec (whose scheme is a
		 * token followed by ':').  LAQUOT = SWS "<": no LWS is needed
		 * before '<' (RFC 4475 lwsdisp) */
		q = p;
		while (q < e && IS(*q, SIP_CC_TOKEN | SIP_CC_LWS))
			q++;
		if (q < e && *q == '<') {
			const char *de = q;

			while (de > p && IS(de[-1], SIP_CC_LWS))
				de--;
			pl_set(&a.dname, p, (size_t)(de - p));
			err = angle_addr(&a, q, e);
		} else {
			err = addr_spec(&a, p, e);
		}
	}
	if (err)
		return EBADMSG;
	*addr = a;
	return 0;
}


/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 * scaled to 0..1000.
 */
static int qvalue_decode(const struct pl *pl, uint16_t *q)
{
	const char *p = pl->p, *e;
	unsigned v, scale = 100, i;

	if (!p || !pl->l || (*p != '0' && *p != '1'))
		return EBADMSG;
	e = p + pl->l;
	v = (unsigned)(*p++ - '0') * 1000;
	if (p < e) {
		if (*p++ != '.')
			return EBADMSG;
		if (e - p > 3)
			return EBADMSG;
		for (i = 0; p < e; i++, p++) {
			if (!IS(*p, SIP_CC_DIGIT))
				return EBADMSG;
			v += (unsigned)(*p - '0') * scale;
			scale /= 10;
		}
		if (v > 1000)
			return EBADMSG;
	}
	*q = (uint16_t)v;
	return 0;
}


/**
 * Decode one Contact value: a name-addr or addr-spec (or "*") with its
 * expires (delta-seconds, must fit 32 bits) and q (RFC 3261 20.10)
 * parameters.
 *
 * @param c   the decoded contact, set only on success; q defaults to 1000
 * @param pl  the value
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_contact_decode(struct sip_contact *c, const struct pl *pl)
{
	struct sip_contact ct;
	struct pl rest, name, v;
	bool q_seen = false;
	int err;

	if (!c || !pl)
		return EINVAL;
	memset(&ct, 0, sizeof(ct));
	ct.q = 1000;
	err = sip_addr_decode(&ct.addr, pl);
	if (err)
		return err;
	if (ct.addr.star)
		goto out;

	/* one pass; the first of a repeated parameter counts */
	rest = ct.addr.params;
	while (sip_param_next(&rest, &name, &v)) {
		/* c-p-expires = "expires" EQUAL delta-seconds */
		if (NAME_IS(&name, "expires")) {
			if (ct.has_expires)
				continue;
			if (pl_u32(&v, &ct.expires))
				return EBADMSG;
			ct.has_expires = true;
		}
		/* c-p-q = "q" EQUAL qvalue */
		else if (NAME_IS(&name, "q")) {
			if (q_seen)
				continue;
			if (qvalue_decode(&v, &ct.q))
				return EBADMSG;
			q_seen = true;
		}
	}
out:
	*c = ct;
	return 0;
}
