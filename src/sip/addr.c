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
 * are handled there.  The header parameters are validated and typed in
 * the same pass (sip_params_walk()): tag, and for Contact expires and q.
 * Nothing is copied or allocated.
 */
#include "sip/addr.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define IS(c, cls) sip_cc_is((c), (cls))


static inline const char *skip_lws(const char *p, const char *e)
{
	while (p < e && IS(*p, SIP_CC_LWS))
		p++;
	return p;
}


/* Decoding state: the Contact is NULL for other headers. */
struct addr_ctx {
	struct sip_addr *a;
	struct sip_contact *c;
	const struct sip_addr *like; /* a decoded value whose URI may recur */
	bool q_seen;
};


/* The URI of the value: decoded, or, when its text is that of the URI of
 * ctx->like (a REGISTER's To names the address-of-record its From
 * names), that URI's views moved onto it: the same octets decode the
 * same. */
static int addr_uri(struct addr_ctx *ctx)
{
	struct sip_addr *a = ctx->a;
	const struct sip_addr *l = ctx->like;

	if (l && l->uri.text.p && l->auri.l == a->auri.l &&
	    !memcmp(l->auri.p, a->auri.p, a->auri.l)) {
		sip_uri_move(&a->uri, &l->uri, a->auri.p);
		return 0;
	}
	return sip_uri_decode_into(&a->uri, &a->auri);
}


/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 * scaled to 0..1000.
 */
static int qvalue_decode(const struct pl *pl, uint16_t *q)
{
	const char *p = pl->p, *e;
	unsigned v, scale = 100;

	if (!p || !pl->l || (*p != '0' && *p != '1'))
		return EBADMSG;
	e = p + pl->l;
	v = (unsigned)(*p++ - '0') * 1000;
	if (p < e) {
		if (*p++ != '.' || e - p > 3)
			return EBADMSG;
		for (; p < e; p++) {
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


/* One header parameter: every occurrence of a typed one is checked, the
 * first is kept. */
static int addr_param(const struct pl *name, const struct pl *val, void *arg)
{
	struct addr_ctx *ctx = arg;
	struct sip_contact *c = ctx->c;
	uint32_t exp;
	uint16_t q;

	if (PL_EQ_LOWER(name, "tag")) {
		/* tag-param = "tag" EQUAL token (RFC 3261 25.1) */
		if (!sip_param_value_is_token(val))
			return EBADMSG;
		if (!ctx->a->tag.p)
			ctx->a->tag = *val;
	} else if (c && PL_EQ_LOWER(name, "expires")) {
		/* c-p-expires = "expires" EQUAL delta-seconds; it must fit
		 * 32 bits (RFC 4475 scalar02) */
		if (!val->p || pl_u32(val, &exp))
			return EBADMSG;
		if (!c->has_expires)
			c->expires = exp;
		c->has_expires = true;
	} else if (c && PL_EQ_LOWER(name, "q")) {
		/* c-p-q = "q" EQUAL qvalue */
		if (qvalue_decode(val, &q))
			return EBADMSG;
		if (!ctx->q_seen)
			c->q = q;
		ctx->q_seen = true;
	}
	return 0;
}


/* the parameters after the URI: [ SWS ] *( SEMI generic-param ) */
static int addr_params(struct addr_ctx *ctx, const char *p, const char *e)
{
	p = skip_lws(p, e);
	if (p == e)
		return 0;
	if (*p != ';')
		return EBADMSG;
	pl_set(&ctx->a->params, p, (size_t)(e - p));
	return sip_params_walk(&ctx->a->params, addr_param, ctx) ? EBADMSG : 0;
}


/* addr-spec *( SEMI generic-param ): the URI ends at ';' or LWS */
static int addr_spec(struct addr_ctx *ctx, const char *p, const char *e)
{
	struct sip_addr *a = ctx->a;
	const char *q = p;

	while (q < e && *q != ';' && !IS(*q, SIP_CC_LWS))
		q++;
	pl_set(&a->auri, p, (size_t)(q - p));
	if (addr_uri(ctx))
		return EBADMSG;
	return addr_params(ctx, q, e);
}


/* LAQUOT addr-spec RAQUOT *( SEMI generic-param ), p at '<' */
static int angle_addr(struct addr_ctx *ctx, const char *p, const char *e)
{
	struct sip_addr *a = ctx->a;
	const char *q;

	p++;
	q = memchr(p, '>', (size_t)(e - p));
	if (!q)
		return EBADMSG;
	pl_set(&a->auri, p, (size_t)(q - p));
	a->angle = true;
	if (addr_uri(ctx))
		return EBADMSG;
	return addr_params(ctx, q + 1, e);
}


static int addr_decode(struct addr_ctx *ctx, const struct pl *pl)
{
	struct sip_addr *a = ctx->a;
	const char *p, *e, *q;

	if (!pl->p)
		return pl->l ? EINVAL : EBADMSG;
	/* the URI is cleared by its decoder; everything else here */
	memset(a, 0, offsetof(struct sip_addr, uri));
	memset(&a->params, 0, sizeof(*a) - offsetof(struct sip_addr, params));
	p = pl->p;
	e = p + pl->l;
	p = skip_lws(p, e);
	while (e > p && IS(e[-1], SIP_CC_LWS))
		e--;
	if (p == e)
		return EBADMSG;
	pl_set(&a->val, p, (size_t)(e - p));

	if (e - p == 1 && *p == '*') {
		/* RFC 3261 20.10: Contact: STAR */
		memset(&a->uri, 0, sizeof(a->uri));
		a->star = true;
		return 0;
	}
	if (*p == '<')
		return angle_addr(ctx, p, e);
	if (*p == '"') {
		/* quoted display name (unterminated: RFC 4475 quotbal) */
		q = sip_qstr_end(p, e);
		if (!q)
			return EBADMSG;
		pl_set(&a->dname, p, (size_t)(q - p));
		p = skip_lws(q, e);
		if (p == e || *p != '<')
			return EBADMSG;
		return angle_addr(ctx, p, e);
	}

	/* *(token LWS) then '<', else an addr-spec (whose scheme is a token
	 * followed by ':').  LAQUOT = SWS "<": no LWS is needed before '<'
	 * (RFC 4475 lwsdisp) */
	q = p;
	while (q < e && IS(*q, SIP_CC_TOKEN | SIP_CC_LWS))
		q++;
	if (q < e && *q == '<') {
		const char *de = q;

		while (de > p && IS(de[-1], SIP_CC_LWS))
			de--;
		pl_set(&a->dname, p, (size_t)(de - p));
		return angle_addr(ctx, q, e);
	}
	return addr_spec(ctx, p, e);
}


/* The errors of the decoders: EINVAL for bad arguments, else EBADMSG. */
static int addr_err(int err)
{
	return !err ? 0 : err == EINVAL ? EINVAL : EBADMSG;
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
	struct sip_addr a = { 0 };
	int err;

	if (!addr || !pl)
		return EINVAL;
	err = sip_addr_decode_like(&a, pl, NULL);
	if (!err)
		*addr = a;
	return err;
}


/**
 * Decode a name-addr or addr-spec header value straight into *addr,
 * which holds no meaning after a failure (for a destination that counts
 * only after a success, such as a message's cache: nothing is built
 * aside and copied).
 *
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_addr_decode_into(struct sip_addr *addr, const struct pl *pl)
{
	return sip_addr_decode_like(addr, pl, NULL);
}


/**
 * Decode a name-addr or addr-spec header value straight into *addr, as
 * sip_addr_decode_into() does; a URI whose text is that of like's URI is
 * not decoded again, its views are moved (a REGISTER's To and From name
 * the same address-of-record).
 *
 * @param like  a decoded value (may be NULL)
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_addr_decode_like(struct sip_addr *addr, const struct pl *pl,
			 const struct sip_addr *like)
{
	struct addr_ctx ctx = { addr, NULL, like, false };

	if (!addr || !pl)
		return EINVAL;
	return addr_err(addr_decode(&ctx, pl));
}


/**
 * Decode one Contact value: a name-addr or addr-spec (or "*") with its
 * expires (delta-seconds, must fit 32 bits) and q (RFC 3261 20.10)
 * parameters; the first of a repeated parameter counts.
 *
 * @param c   the decoded contact, set only on success; q defaults to 1000
 * @param pl  the value
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_contact_decode(struct sip_contact *c, const struct pl *pl)
{
	struct sip_contact ct;
	int err;

	if (!c || !pl)
		return EINVAL;
	err = sip_contact_decode_into(&ct, pl);
	if (!err)
		*c = ct;
	return err;
}


/**
 * Decode one Contact value (see sip_contact_decode()) straight into *c,
 * which holds no meaning after a failure.
 *
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_contact_decode_into(struct sip_contact *c, const struct pl *pl)
{
	struct addr_ctx ctx = { &c->addr, c, NULL, false };

	if (!c || !pl)
		return EINVAL;
	c->has_expires = false;
	c->expires = 0;
	c->q = 1000;
	return addr_err(addr_decode(&ctx, pl));
}
