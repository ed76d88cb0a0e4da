/**
 * @file via.c  Via header values (RFC 3261 20.42, 25.1; RFC 3581 rport).
 *
 * Design: one pass over a single via-parm (the message layer splits the
 * comma-separated values):
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by = host [ COLON port ]
 * SLASH, COLON and SEMI allow LWS on both sides, so "SIP  /   2.0 / UDP"
 * is valid (RFC 4475 wsinv); values may hold folded lines (CRLF SP), which
 * count as LWS.  Via has no comments.  The parameters are validated as
 * generic-params, and then the ones the stack uses are typed: branch
 * (token), received (IPv4address / IPv6address, also seen bracketed, RFC
 * 5118 4.5), rport (RFC 3581: flag or port), maddr (host), ttl (0..255).
 * Nothing is copied or allocated.
 */
#include "sip/via.h"

#include <errno.h>
#include <string.h>

#include "core/hash.h"
#include "sip/transp.h"
#include "sip/uri.h"

#define IS(c, cls) sip_cc_is((c), (cls))

#define BRANCH_COOKIE "z9hG4bK" /* RFC 3261 8.1.1.7 */


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


/* The same mapping as sip_transp_from_pl(), kept here so that the codec
 * does not depend on the transport layer. */
static int transp_id(const struct pl *pl)
{
	if (PL_EQ_LOWER(pl, "udp"))
		return SIP_TRANSP_UDP;
	if (PL_EQ_LOWER(pl, "tcp"))
		return SIP_TRANSP_TCP;
	if (PL_EQ_LOWER(pl, "tls"))
		return SIP_TRANSP_TLS;
	return SIP_TRANSP_NONE;
}


/* via-received = "received" EQUAL ( IPv4address / IPv6address ) */
static bool received_ok(const struct pl *v)
{
	if (!v->l)
		return false;
	if (v->p[0] == '[') /* RFC 5118 4.5: seen bracketed, accept */
		return v->l > 2 && v->p[v->l - 1] == ']' &&
		       !sip_ipv6_decode(v->p + 1, v->l - 2, NULL);
	return !sip_ipv4_decode(v->p, v->l, NULL) ||
	       !sip_ipv6_decode(v->p, v->l, NULL);
}


/* Validate one known parameter and keep its first occurrence. */
static int via_param(const struct pl *name, const struct pl *val, void *arg)
{
	struct sip_via *v = arg;
	uint32_t ttl;

	if (PL_EQ_LOWER(name, "branch")) {
		/* via-branch = "branch" EQUAL token */
		if (!sip_param_value_is_token(val))
			return EBADMSG;
		if (!v->branch.p)
			v->branch = *val;
	} else if (PL_EQ_LOWER(name, "received")) {
		/* via-received = "received" EQUAL IP */
		if (!received_ok(val))
			return EBADMSG;
		if (!v->received.p)
			v->received = *val;
	} else if (PL_EQ_LOWER(name, "rport")) {
		/* RFC 3581 3: response-port = "rport" [ EQUAL 1*DIGIT ] */
		if (val->p && sip_port_decode(val, NULL))
			return EBADMSG;
		if (!v->has_rport)
			v->rport = *val;
		v->has_rport = true;
	} else if (PL_EQ_LOWER(name, "maddr")) {
		/* via-maddr = "maddr" EQUAL host */
		if (sip_host_check(val, NULL))
			return EBADMSG;
		if (!v->maddr.p)
			v->maddr = *val;
	} else if (PL_EQ_LOWER(name, "ttl")) {
		/* via-ttl = "ttl" EQUAL ttl; 1*3DIGIT, 0 to 255 */
		if (val->l > 3 || pl_u32(val, &ttl) || ttl > 255)
			return EBADMSG;
	}
	return 0;
}


/* Decode into *v (zeroed here), which holds no meaning after a failure. */
static int via_decode(struct sip_via *v, const struct pl *pl)
{
	const char *p, *e, *s, *q;
	enum sip_host_type ht;
	uint32_t port;

	if (!pl->p)
		return pl->l ? EINVAL : EBADMSG;
	memset(v, 0, sizeof(*v));
	p = pl->p;
	e = p + pl->l;
	p = skip_lws(p, e);
	while (e > p && IS(e[-1], SIP_CC_LWS))
		e--;
	if (p == e)
		return EBADMSG;
	pl_set(&v->val, p, (size_t)(e - p));

	/* sent-protocol: protocol-name SLASH protocol-version SLASH transport
	 * (all three tokens); nearly every Via spells it "SIP/2.0/UDP",
	 * TCP or TLS, with one SP after it */
	if (e - p > 12 && !memcmp(p, "SIP/2.0/", 8) && p[11] == ' ') {
		pl_set(&v->proto, p, 7);
		pl_set(&v->transp, p + 8, 3);
		v->tp = transp_id(&v->transp);
		if (v->tp != SIP_TRANSP_NONE) {
			q = p + 11;
			goto sent_by;
		}
	}
	s = p;
	p = scan_token(p, e);
	if (p == s)
		return EBADMSG;
	p = skip_lws(p, e);
	if (p == e || *p != '/')
		return EBADMSG;
	p = skip_lws(p + 1, e);
	q = scan_token(p, e);
	if (q == p)
		return EBADMSG;
	pl_set(&v->proto, s, (size_t)(q - s));
	p = skip_lws(q, e);
	if (p == e || *p != '/')
		return EBADMSG;
	p = skip_lws(p + 1, e);
	q = scan_token(p, e);
	if (q == p)
		return EBADMSG;
	pl_set(&v->transp, p, (size_t)(q - p));
	v->tp = transp_id(&v->transp);

	/* LWS sent-by; the host is scanned and checked in one pass, and an
	 * IPv4 one kept as an address (a response compares it with the
	 * source, RFC 3261 18.2.1) */
sent_by:
	p = q;
	if (p == e || !IS(*p, SIP_CC_LWS))
		return EBADMSG;
	p = skip_lws(p, e);
	q = sip_host_scan(p, e, &ht, v->ip4);
	if (!q)
		return EBADMSG;
	v->host_type = (uint8_t)ht;
	pl_set(&v->host, p, (size_t)(q - p));
	p = skip_lws(q, e);

	/* COLON port: 1*DIGIT, at most 65535 */
	if (p < e && *p == ':') {
		p = skip_lws(p + 1, e);
		for (q = p, port = 0; q < e && IS(*q, SIP_CC_DIGIT); q++) {
			port = port * 10 + (uint32_t)(*q - '0');
			if (port > 65535)
				return EBADMSG;
		}
		if (q == p)
			return EBADMSG;
		v->port = (uint16_t)port;
		p = skip_lws(q, e);
	}

	if (p < e) {
		if (*p != ';')
			return EBADMSG;
		/* validated and typed in one pass */
		pl_set(&v->params, p, (size_t)(e - p));
		if (sip_params_walk(&v->params, via_param, v))
			return EBADMSG;
	}
	if (v->branch.l)
		v->branch_hash = hash_fast_ci(v->branch.p, v->branch.l);
	return 0;
}


/**
 * Decode one Via value (a single via-parm).
 *
 * @param via  the decoded Via, set only on success
 * @param pl   the value (not NUL-terminated; never read past pl->l)
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_via_decode(struct sip_via *via, const struct pl *pl)
{
	struct sip_via v;
	int err;

	if (!via || !pl)
		return EINVAL;
	err = via_decode(&v, pl);
	if (!err)
		*via = v;
	return err;
}


/**
 * Decode one Via value as sip_via_decode() does, straight into *via,
 * which holds no meaning after a failure (for a destination that counts
 * only after a success, such as a message's cache).
 *
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_via_decode_into(struct sip_via *via, const struct pl *pl)
{
	if (!via || !pl)
		return EINVAL;
	return via_decode(via, pl);
}


/**
 * Whether the branch was made by an RFC 3261 element: it starts with the
 * magic cookie "z9hG4bK" (case-sensitive, RFC 3261 8.1.1.7) and has more
 * after it to be unique (a bare cookie, RFC 4475 badbranch, is not).
 */
bool sip_via_branch_3261(const struct sip_via *via)
{
	const size_t n = sizeof(BRANCH_COOKIE) - 1;

	return via && via->branch.p && via->branch.l > n &&
	       !memcmp(via->branch.p, BRANCH_COOKIE, n);
}


/**
 * Whether the sent-protocol is SIP/2.0 (protocol-name and version compare
 * case-insensitively; LWS around the '/' is ignored).
 */
bool sip_via_proto_sip2(const struct sip_via *via)
{
	static const char want[] = "sip/2.0";
	const char *p, *e;
	size_t i = 0;

	if (!via || !via->proto.p)
		return false;
	p = via->proto.p;
	e = p + via->proto.l;
	for (; p < e; p++) {
		char c = *p;

		if (IS(c, SIP_CC_LWS))
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (i >= sizeof(want) - 1 || c != want[i++])
			return false;
	}
	return i == sizeof(want) - 1;
}
