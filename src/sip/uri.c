/**
 * @file uri.c  SIP, SIPS, tel and other URIs (RFC 3261 19.1, 25.1;
 * RFC 3966; RFC 2396 absoluteURI).
 *
 * Design: decoding is one left-to-right pass over the bytes, driven by a
 * 256-entry table of character classes (sip_cc); nothing is copied,
 * unescaped or allocated.  The only look-ahead is one memchr() for '@':
 * in a SIP URI '@' may appear nowhere but at the end of the userinfo
 * (user, password, host, params and headers all exclude it), so the first
 * '@' splits the userinfo off, which is exactly what the grammar says even
 * for users holding ';', '?' or '=' (RFC 4475 semiuri,
 * esc01).  The input is never read past pl->l: it is not NUL-terminated.
 *
 * Comparison (RFC 3261 19.1.4) unescapes on the fly, two octets at a time,
 * treating an escaped reserved character as different from the literal
 * one (RFC 2396 2.2).
 *
 * The helpers at the end (host, port, generic-param lists, quoted strings)
 * are shared with the header decoders in addr.c, via.c and authhdr.c.
 */
#include "sip/uri.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Classes, see enum sip_cc.  Every unreserved octet is also a user,
 * password, param, header and uric octet, and qdtext. */
#define UNR_                                                         \
	(SIP_CC_UNRES | SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_PARAM | \
	 SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT)
#define ALN_ (UNR_ | SIP_CC_TOKEN | SIP_CC_SCHEME | SIP_CC_HOST)

const uint16_t sip_cc[256] = {
	['0' ... '9'] = ALN_ | SIP_CC_DIGIT | SIP_CC_HEX,
	['A' ... 'F'] = ALN_ | SIP_CC_ALPHA | SIP_CC_HEX,
	['G' ... 'Z'] = ALN_ | SIP_CC_ALPHA,
	['a' ... 'f'] = ALN_ | SIP_CC_ALPHA | SIP_CC_HEX,
	['g' ... 'z'] = ALN_ | SIP_CC_ALPHA,
	['-'] = UNR_ | SIP_CC_TOKEN | SIP_CC_SCHEME | SIP_CC_HOST,
	['.'] = UNR_ | SIP_CC_TOKEN | SIP_CC_SCHEME | SIP_CC_HOST,
	['_'] = UNR_ | SIP_CC_TOKEN,
	['!'] = UNR_ | SIP_CC_TOKEN,
	['~'] = UNR_ | SIP_CC_TOKEN,
	['*'] = UNR_ | SIP_CC_TOKEN,
	['\''] = UNR_ | SIP_CC_TOKEN,
	['('] = UNR_,
	[')'] = UNR_,
	['%'] = SIP_CC_TOKEN | SIP_CC_QDTEXT,
	['`'] = SIP_CC_TOKEN | SIP_CC_QDTEXT,
	['+'] = SIP_CC_TOKEN | SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_PARAM |
		SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT | SIP_CC_SCHEME,
	['&'] = SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_PARAM | SIP_CC_URIC |
		SIP_CC_QDTEXT,
	['='] = SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_URIC | SIP_CC_QDTEXT,
	['$'] = SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_PARAM | SIP_CC_HNV |
		SIP_CC_URIC | SIP_CC_QDTEXT,
	[','] = SIP_CC_USER | SIP_CC_PASSWD | SIP_CC_URIC | SIP_CC_QDTEXT,
	[';'] = SIP_CC_USER | SIP_CC_URIC | SIP_CC_QDTEXT,
	['?'] = SIP_CC_USER | SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT,
	['/'] = SIP_CC_USER | SIP_CC_PARAM | SIP_CC_HNV | SIP_CC_URIC |
		SIP_CC_QDTEXT,
	[':'] = SIP_CC_PARAM | SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT,
	['['] = SIP_CC_PARAM | SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT,
	[']'] = SIP_CC_PARAM | SIP_CC_HNV | SIP_CC_URIC | SIP_CC_QDTEXT,
	['@'] = SIP_CC_URIC | SIP_CC_QDTEXT,
	['#'] = SIP_CC_URIC | SIP_CC_QDTEXT,
	['<'] = SIP_CC_QDTEXT,
	['>'] = SIP_CC_QDTEXT,
	['^'] = SIP_CC_QDTEXT,
	['{'] = SIP_CC_QDTEXT,
	['|'] = SIP_CC_QDTEXT,
	['}'] = SIP_CC_QDTEXT,
	[' '] = SIP_CC_LWS,
	['\t'] = SIP_CC_LWS,
	['\r'] = SIP_CC_LWS,
	['\n'] = SIP_CC_LWS,
	[0x80 ... 0xff] = SIP_CC_QDTEXT,
};

#define IS(c, cls) sip_cc_is((c), (cls))


static inline int hexval(char c)
{
	unsigned char u = (unsigned char)c;

	if (u >= '0' && u <= '9')
		return u - '0';
	u |= 0x20;
	if (u >= 'a' && u <= 'f')
		return u - 'a' + 10;
	return -1;
}


static inline unsigned lower(unsigned c)
{
	return (c >= 'A' && c <= 'Z') ? c | 0x20 : c;
}


static inline const char *skip_lws(const char *p, const char *e)
{
	while (p < e && IS(*p, SIP_CC_LWS))
		p++;
	return p;
}


/*
 * Scan octets of class `cls` or escapes ("%" HEXDIG HEXDIG) from p.
 * Returns where the run stops, or NULL on a malformed escape.
 */
static const char *scan_esc(const char *p, const char *e, unsigned cls)
{
	while (p < e) {
		if (IS(*p, cls)) {
			p++;
			continue;
		}
		if (*p != '%')
			break;
		if (e - p < 3 || !IS(p[1], SIP_CC_HEX) || !IS(p[2], SIP_CC_HEX))
			return NULL;
		p += 3;
	}
	return p;
}


static inline const char *scan(const char *p, const char *e, unsigned cls)
{
	while (p < e && IS(*p, cls))
		p++;
	return p;
}


/*
 * Host, port and the shared helpers
 */

/*
 * An IPv4address (RFC 3261 25.1: 1*3DIGIT "." x4, each part at most 255)
 * at p: where it ends, or NULL.  Digits are read unrolled: (unsigned
 * char)(c - '0') > 9 for every octet but a digit.
 */
static const char *ipv4_scan(const char *p, const char *e, uint8_t out[4])
{
	unsigned i, v, d;

	for (i = 0;; i++) {
		if (p == e || (v = (unsigned char)(*p - '0')) > 9)
			return NULL;
		if (++p < e && (d = (unsigned char)(*p - '0')) <= 9) {
			v = v * 10 + d;
			if (++p < e && (d = (unsigned char)(*p - '0')) <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255)
					return NULL;
			}
		}
		if (out)
			out[i] = (uint8_t)v;
		if (i == 3)
			return p;
		if (p == e || *p != '.')
			return NULL;
		p++;
	}
}


/**
 * Decode an IPv4address (RFC 3261 25.1: 1*3DIGIT "." x4), each part at
 * most 255.
 *
 * @param p    the text
 * @param n    its length
 * @param out  the four octets, or NULL to only validate
 * @return 0 or EBADMSG
 */
int sip_ipv4_decode(const char *p, size_t n, uint8_t out[4])
{
	if (!p)
		return EBADMSG;
	return ipv4_scan(p, p + n, out) == p + n ? 0 : EBADMSG;
}


/**
 * Decode an IPv6address (RFC 3261 25.1, RFC 4291 2.2): up to eight
 * 1*4HEXDIG groups, one "::" standing for one or more zero groups, and an
 * optional IPv4address in place of the last two groups.
 *
 * @param p    the text, without brackets
 * @param n    its length
 * @param out  the 16 octets, or NULL to only validate
 * @return 0 or EBADMSG
 */
int sip_ipv6_decode(const char *p, size_t n, uint8_t out[16])
{
	const char *e;
	uint8_t b[16];
	int nb = 0, dc = -1; /* octets filled, where "::" sits */

	if (!p || n < 2)
		return EBADMSG;
	e = p + n;
	if (*p == ':') {
		if (p[1] != ':')
			return EBADMSG;
		dc = 0;
		p += 2;
	}
	while (p < e) {
		const char *s = p;
		unsigned v = 0;

		while (p < e && IS(*p, SIP_CC_HEX))
			p++;
		if (p < e && *p == '.') {
			/* trailing IPv4address (RFC 4291 2.2 form 3) */
			if (nb > 12 ||
			    sip_ipv4_decode(s, (size_t)(e - s), &b[nb]))
				return EBADMSG;
			nb += 4;
			break;
		}
		if (p == s || p - s > 4 || nb > 14)
			return EBADMSG;
		for (; s < p; s++)
			v = v << 4 | (unsigned)hexval(*s);
		b[nb++] = (uint8_t)(v >> 8);
		b[nb++] = (uint8_t)v;
		if (p == e)
			break;
		if (*p != ':')
			return EBADMSG;
		p++;
		if (p < e && *p == ':') {
			if (dc >= 0)
				return EBADMSG;
			dc = nb;
			p++;
			continue;
		}
		if (p == e) /* a single trailing ':' */
			return EBADMSG;
	}
	if (dc < 0 ? nb != 16 : nb > 14)
		return EBADMSG;
	if (out) {
		int gap = 16 - nb;

		if (dc < 0) {
			memcpy(out, b, 16);
		} else {
			memcpy(out, b, (size_t)dc);
			memset(out + dc, 0, (size_t)gap);
			memcpy(out + dc + gap, b + dc, (size_t)(nb - dc));
		}
	}
	return 0;
}


/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]
 * domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
 * toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
 *
 * The hostname at p, which starts with an alphanumeric octet: where it
 * ends (the first octet that is no hostname octet: alphanum, '-', '.'),
 * or NULL when that run of octets is not a hostname.  One pass, most
 * octets alphanumeric: a label starts with one (at the start and after
 * each '.'), and no '-' is followed by '.' or ends the run, so no label is
 * empty or ends with '-'; a '.' that ends the run is the optional
 * trailing one.
 */
static const char *hostname_end(const char *p, const char *e)
{
	const char *lab = p;

	for (p++; p < e; p++) {
		if (IS(*p, SIP_CC_DIGIT | SIP_CC_ALPHA))
			continue;
		if (*p == '.') {
			if (p + 1 < e &&
			    IS(p[1], SIP_CC_DIGIT | SIP_CC_ALPHA)) {
				lab = p + 1;
				continue;
			}
			if (p + 1 < e && IS(p[1], SIP_CC_HOST))
				return NULL; /* ".." or ".-" */
			p++;                 /* the trailing '.' */
			break;
		}
		if (*p != '-')
			break;
		if (p + 1 == e || !IS(p[1], SIP_CC_HOST) || p[1] == '.')
			return NULL; /* '-' ends a label */
	}
	return IS(*lab, SIP_CC_ALPHA) ? p : NULL;
}


static int hostname_check(const char *p, const char *e)
{
	if (p == e || !IS(*p, SIP_CC_DIGIT | SIP_CC_ALPHA))
		return EBADMSG;
	return hostname_end(p, e) == e ? 0 : EBADMSG;
}


/*
 * The last hostname and the last IPv4address sip_host_scan() validated,
 * per thread.  The hosts of one message are mostly one name and one
 * address (a REGISTER's Request-URI, From and To name the domain; its
 * Via and Contact the phone's address), and so are those of the next
 * message from the same place: a compare replaces the walk.
 */
struct host_memo {
	uint8_t len; /* 0: empty */
	uint8_t ip4[4];
	char s[64];
};

static _Thread_local struct host_memo host_memo[2]; /* name, IPv4 */


/* The memo of type t holds the run of host octets at p. */
static inline bool memo_hit(const struct host_memo *m, const char *p,
			    const char *e)
{
	return m->len && (size_t)(e - p) >= m->len &&
	       !memcmp(p, m->s, m->len) &&
	       (p + m->len == e || !IS(p[m->len], SIP_CC_HOST));
}


/**
 * Scan a host of RFC 3261 25.1 (hostname / IPv4address / IPv6reference)
 * at p and validate it in the same pass.  Without brackets the host is
 * the run of hostname octets (alphanum, '-', '.') at p, as the grammar
 * reads it: an IPv4address when the whole run is one, else a hostname.
 *
 * @param p     where the host starts
 * @param e     the end of the input
 * @param type  set to the kind of host
 * @param ip4   the address of an IPv4 host (may be NULL)
 * @return where the host ends, or NULL when there is none or it is
 *         malformed
 */
const char *sip_host_scan(const char *p, const char *e,
			  enum sip_host_type *type, uint8_t ip4[4])
{
	struct host_memo *m;
	enum sip_host_type t;
	uint8_t a[4] = { 0 };
	const char *q;

	if (!p || p >= e)
		return NULL;
	if (*p == '[') {
		q = memchr(p, ']', (size_t)(e - p));
		if (!q || sip_ipv6_decode(p + 1, (size_t)(q - p - 1), NULL))
			return NULL;
		*type = SIP_HOST_IPV6;
		return q + 1;
	}
	/* a host validated last, again: whether a run of host octets is a
	 * host depends on its octets only */
	if (IS(*p, SIP_CC_DIGIT) && memo_hit(&host_memo[1], p, e)) {
		m = &host_memo[1];
		*type = SIP_HOST_IPV4;
		if (ip4)
			memcpy(ip4, m->ip4, 4);
		return p + m->len;
	}
	if (memo_hit(&host_memo[0], p, e)) {
		*type = SIP_HOST_NAME;
		return p + host_memo[0].len;
	}
	q = NULL;
	if (IS(*p, SIP_CC_DIGIT)) {
		/* an IPv4address only when the run of host octets ends
		 * with it ("1.2.3.4.example" is a hostname) */
		q = ipv4_scan(p, e, a);
		if (q && q != e && IS(*q, SIP_CC_HOST))
			q = NULL;
	} else if (!IS(*p, SIP_CC_ALPHA)) {
		return NULL;
	}
	if (q) {
		t = SIP_HOST_IPV4;
		if (ip4)
			memcpy(ip4, a, 4);
	} else {
		t = SIP_HOST_NAME;
		q = hostname_end(p, e);
		if (!q)
			return NULL;
	}
	*type = t;
	m = &host_memo[t == SIP_HOST_IPV4];
	if ((size_t)(q - p) <= sizeof(m->s)) {
		m->len = (uint8_t)(q - p);
		memcpy(m->s, p, m->len);
		memcpy(m->ip4, a, 4);
	}
	return q;
}


/**
 * Validate a host of RFC 3261 25.1: hostname / IPv4address /
 * IPv6reference.  The brackets of an IPv6reference are part of the host.
 *
 * @param host  the host text
 * @param type  set to the kind of host (may be NULL)
 * @return 0 or EBADMSG
 */
int sip_host_check(const struct pl *host, enum sip_host_type *type)
{
	enum sip_host_type t;

	if (!host || !host->p || !host->l ||
	    sip_host_scan(host->p, host->p + host->l, &t, NULL) !=
		    host->p + host->l)
		return EBADMSG;
	if (type)
		*type = t;
	return 0;
}


/**
 * Decode a port: 1*DIGIT (RFC 3261 25.1), at most 65535.
 *
 * @return 0 or EBADMSG
 */
int sip_port_decode(const struct pl *pl, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (!pl || !pl->p || !pl->l)
		return EBADMSG;
	for (i = 0; i < pl->l; i++) {
		if (!IS(pl->p[i], SIP_CC_DIGIT))
			return EBADMSG;
		v = v * 10 + (uint32_t)(pl->p[i] - '0');
		if (v > 65535)
			return EBADMSG;
	}
	if (port)
		*port = (uint16_t)v;
	return 0;
}


/**
 * Find the end of a quoted-string (RFC 3261 25.1):
 *   DQUOTE *(qdtext / quoted-pair) DQUOTE
 *   qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
 *   quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 *
 * @param p    the opening DQUOTE
 * @param end  the end of the input
 * @return just past the closing DQUOTE, or NULL
 */
const char *sip_qstr_end(const char *p, const char *end)
{
	if (!p || p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		unsigned char c;

		/* four qdtext octets at a time (neither '"' nor '\\' is
		 * one): nonces and digests are long runs of them */
		while (end - p >= 4 &&
		       (sip_cc[(unsigned char)p[0]] &
			sip_cc[(unsigned char)p[1]] &
			sip_cc[(unsigned char)p[2]] &
			sip_cc[(unsigned char)p[3]] & SIP_CC_QDTEXT))
			p += 4;
		if (p == end)
			break;
		c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (++p == end)
				return NULL;
			c = (unsigned char)*p;
			if (c == '\n' || c == '\r' || c > 0x7f)
				return NULL;
			continue;
		}
		if (!IS(*p, SIP_CC_QDTEXT | SIP_CC_LWS))
			return NULL;
	}
	return NULL;
}


/*
 * gen-value = token / host / quoted-string.  Returns the end, or NULL.
 */
static const char *gen_value_end(const char *p, const char *e)
{
	const char *q;

	if (p == e)
		return NULL;
	if (*p == '"')
		return sip_qstr_end(p, e);
	if (*p == '[') {
		q = memchr(p, ']', (size_t)(e - p));
		if (!q || sip_ipv6_decode(p + 1, (size_t)(q - p - 1), NULL))
			return NULL;
		return q + 1;
	}
	/* a token, four octets at a time first (branches and tags are
	 * long) */
	q = p;
	while (e - q >= 4 &&
	       (sip_cc[(unsigned char)q[0]] & sip_cc[(unsigned char)q[1]] &
		sip_cc[(unsigned char)q[2]] & sip_cc[(unsigned char)q[3]] &
		SIP_CC_TOKEN))
		q += 4;
	q = scan(q, e, SIP_CC_TOKEN);
	if (q < e && *q == ':') {
		/* via-received = "received" EQUAL ( IPv4address /
		 * IPv6address ): an unbracketed IPv6 address (RFC 5118 4.5) */
		const char *r = q;

		while (r < e && (IS(*r, SIP_CC_HEX) || *r == ':' || *r == '.'))
			r++;
		if (sip_ipv6_decode(p, (size_t)(r - p), NULL))
			return NULL;
		return r;
	}
	return q == p ? NULL : q;
}


/**
 * Walk header parameters *( SEMI generic-param ), validating them in the
 * same pass: SEMI = SWS ";" SWS, generic-param = token [ EQUAL gen-value ],
 * EQUAL = SWS "=" SWS, gen-value = token / host / quoted-string (RFC 3261
 * 25.1).  Leading and trailing LWS are allowed; anything else (an empty
 * parameter, a stray octet) is not.
 *
 * @param params  the list, starting at (or before) the first ';'
 * @param ph      called for each parameter (may be NULL); a quoted value
 *                keeps its quotes, a flag has a value without pointer;
 *                its non-zero return ends the walk and is returned
 * @param arg     handler argument
 * @return 0, EBADMSG when malformed, or the handler's error
 */
int sip_params_walk(const struct pl *params, sip_param_h *ph, void *arg)
{
	const char *p, *e, *q;
	struct pl name, val;
	int err;

	if (!params)
		return EINVAL;
	if (!params->p)
		return 0;
	p = params->p;
	e = p + params->l;
	for (;;) {
		p = skip_lws(p, e);
		if (p == e)
			return 0;
		if (*p != ';')
			return EBADMSG;
		p = skip_lws(p + 1, e);
		q = scan(p, e, SIP_CC_TOKEN);
		if (q == p)
			return EBADMSG;
		pl_set(&name, p, (size_t)(q - p));
		pl_set(&val, NULL, 0);
		p = skip_lws(q, e);
		if (p < e && *p == '=') {
			p = skip_lws(p + 1, e);
			q = gen_value_end(p, e);
			if (!q)
				return EBADMSG;
			pl_set(&val, p, (size_t)(q - p));
			p = q;
		}
		if (ph) {
			err = ph(&name, &val, arg);
			if (err)
				return err;
		}
	}
}


/**
 * Validate header parameters (see sip_params_walk()).
 *
 * @return 0 or EBADMSG
 */
int sip_params_check(const struct pl *params)
{
	return params ? sip_params_walk(params, NULL, NULL) : EBADMSG;
}


/*
 * Parameters
 */

/*
 * One parameter off `rest`; also returns where its name starts.  Tolerates
 * LWS around ';' and '=', a missing leading ';', empty parameters (";;")
 * and quoted-string values (';' inside quotes does not split).
 */
/* Octets that end a parameter name, and an unquoted value (one lookup per
 * octet on the hot path of every header decoder). */
static const uint8_t name_stop[256] = {
	['='] = 1, [';'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
};
static const uint8_t value_stop[256] = {
	[';'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
};


/* The end of a quoted-string already known to be well-formed (or the end
 * of the input): memchr() to each DQUOTE, odd backslashes escape it. */
static const char *qstr_skip(const char *p, const char *e)
{
	for (p++; p < e;) {
		const char *q = memchr(p, '"', (size_t)(e - p));
		const char *b;

		if (!q)
			return e;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (!((q - b) & 1))
			return q + 1;
		p = q + 1;
	}
	return e;
}


static bool param_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *p, *e, *q;

	if (!rest || !rest->p)
		return false;
	p = rest->p;
	e = p + rest->l;
	for (;;) {
		p = skip_lws(p, e);
		while (p < e && *p == ';')
			p = skip_lws(p + 1, e);
		if (p == e) {
			rest->p = e;
			rest->l = 0;
			return false;
		}
		q = p;
		while (q < e && !name_stop[(unsigned char)*q])
			q++;
		name->p = p;
		name->l = (size_t)(q - p);
		val->p = NULL;
		val->l = 0;
		p = skip_lws(q, e);
		if (p < e && *p == '=') {
			p = skip_lws(p + 1, e);
			q = p;
			if (q < e && *q == '"') {
				q = qstr_skip(q,
					      e); /* unterminated: the rest */
			} else {
				while (q < e && !value_stop[(unsigned char)*q])
					q++;
			}
			val->p = p;
			val->l = (size_t)(q - p);
			p = q;
		}
		/* skip junk up to the next ';' (only in unchecked lists) */
		while (p < e && *p != ';')
			p++;
		rest->p = p;
		rest->l = (size_t)(e - p);
		if (name->l)
			return true;
	}
}


/**
 * Iterate over a ";name=value;flag" list.  A quoted value keeps its
 * quotes; a flag has an empty value.
 *
 * @param rest  the list; advanced past the parameter returned
 * @param name  the parameter name
 * @param val   the value, empty for a flag
 * @return true when a parameter was returned, false at the end
 */
bool sip_param_next(struct pl *rest, struct pl *name, struct pl *val)
{
	struct pl n, v;

	if (!param_next(rest, &n, &v))
		return false;
	if (name)
		*name = n;
	if (val)
		*val = v;
	return true;
}


static bool param_find(const struct pl *params, const char *name, size_t nl,
		       struct pl *pname, struct pl *val)
{
	struct pl rest, n, v;

	if (!params || !params->p)
		return false;
	rest = *params;
	while (param_next(&rest, &n, &v)) {
		size_t i;

		if (n.l != nl)
			continue;
		for (i = 0; i < nl; i++)
			if (lower((unsigned char)n.p[i]) !=
			    lower((unsigned char)name[i]))
				break;
		if (i < nl)
			continue;
		if (pname)
			*pname = n;
		if (val)
			*val = v;
		return true;
	}
	return false;
}


/**
 * Get the value of a parameter (the first of that name).
 *
 * @param params  the ";..." list
 * @param name    parameter name, compared case-insensitively
 * @param val     the value (empty for a flag); may be NULL
 * @return 0, ENOENT when absent, EINVAL on bad arguments
 */
int sip_param_get(const struct pl *params, const char *name, struct pl *val)
{
	if (!params || !name)
		return EINVAL;
	return param_find(params, name, strlen(name), NULL, val) ? 0 : ENOENT;
}


bool sip_param_exists(const struct pl *params, const char *name)
{
	if (!params || !name)
		return false;
	return param_find(params, name, strlen(name), NULL, NULL);
}


/*
 * Escapes
 */

/* RFC 2396 2.2 reserved: an escaped one differs from the literal one. */
static inline bool is_reserved(unsigned char c)
{
	switch (c) {
	case ';':
	case '/':
	case '?':
	case ':':
	case '@':
	case '&':
	case '=':
	case '+':
	case '$':
	case ',':
		return true;
	default:
		return false;
	}
}


/*
 * Next unescaped octet at *pp, as the octet plus 0x100 when it was an
 * escaped reserved character.  A malformed escape reads as a literal '%'.
 */
static inline unsigned next_octet(const char **pp, const char *e, bool ci)
{
	const char *p = *pp;
	unsigned c = (unsigned char)*p;

	if (c == '%' && e - p >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
		c = (unsigned)(hexval(p[1]) << 4 | hexval(p[2]));
		*pp = p + 3;
		if (ci)
			c = lower(c);
		return is_reserved((unsigned char)c) ? c | 0x100 : c;
	}
	*pp = p + 1;
	return ci ? lower(c) : c;
}


/**
 * Compare two %-escaped strings as their unescaped values (RFC 3261
 * 19.1.4: "characters other than those in the reserved set are equivalent
 * to their %HH encoding").
 *
 * @param a   first string
 * @param b   second string
 * @param ci  compare case-insensitively
 * @return true when equal
 */
bool sip_unescaped_eq(const struct pl *a, const struct pl *b, bool ci)
{
	const char *pa, *ea, *pb, *eb;

	if (!a || !b)
		return false;
	pa = a->p;
	ea = pa ? pa + a->l : pa;
	pb = b->p;
	eb = pb ? pb + b->l : pb;
	while (pa < ea && pb < eb)
		if (next_octet(&pa, ea, ci) != next_octet(&pb, eb, ci))
			return false;
	return pa == ea && pb == eb;
}


/**
 * Unescape into a buffer, NUL-terminated.
 *
 * @param in      the escaped text
 * @param out     destination buffer
 * @param size    its size (room for the NUL included)
 * @param outlen  the unescaped length without the NUL (may be NULL)
 * @return 0, EBADMSG on a malformed escape, ENOSPC when it does not fit
 */
int sip_unescape(const struct pl *in, char *out, size_t size, size_t *outlen)
{
	const char *p, *e;
	size_t n = 0;

	if (!in || !out || !size)
		return EINVAL;
	p = in->p;
	e = p ? p + in->l : p;
	while (p < e) {
		char c = *p;

		if (c == '%') {
			if (e - p < 3 || hexval(p[1]) < 0 || hexval(p[2]) < 0)
				return EBADMSG;
			c = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			p += 3;
		} else {
			p++;
		}
		if (n + 1 >= size)
			return ENOSPC;
		out[n++] = c;
	}
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return 0;
}


/*
 * Decoding
 */

/* uri-parameters = *( ";" pname [ "=" pvalue ] ), both 1*paramchar */
static const char *sip_params_end(const char *p, const char *e)
{
	while (p < e && *p == ';') {
		const char *q = scan_esc(p + 1, e, SIP_CC_PARAM);

		if (!q || q == p + 1)
			return NULL;
		p = q;
		if (p < e && *p == '=') {
			q = scan_esc(p + 1, e, SIP_CC_PARAM);
			if (!q || q == p + 1)
				return NULL;
			p = q;
		}
	}
	return p;
}


/* headers = "?" header *( "&" header ); header = hname "=" hvalue */
static const char *sip_headers_end(const char *p, const char *e)
{
	for (;;) {
		const char *q = scan_esc(p, e, SIP_CC_HNV);

		if (!q || q == p || q == e || *q != '=')
			return NULL;
		p = scan_esc(q + 1, e, SIP_CC_HNV);
		if (!p)
			return NULL;
		if (p < e && *p == '&') {
			p++;
			continue;
		}
		return p;
	}
}


/*
 * RFC 3261 25.1:
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 */
static int sip_decode(struct sip_uri *u, const char *p, const char *e)
{
	const char *at, *q;

	at = memchr(p, '@', (size_t)(e - p));
	if (at) {
		/* the user runs up to '@' or to the ':' of a password (no
		 * user octet is ':', so the scan stops at the first one) */
		q = scan_esc(p, at, SIP_CC_USER);
		if (!q || q == p || (q != at && *q != ':'))
			return EBADMSG;
		pl_set(&u->user, p, (size_t)(q - p));
		if (q != at) {
			const char *pw = q + 1;

			q = scan_esc(pw, at, SIP_CC_PASSWD);
			if (q != at)
				return EBADMSG;
			pl_set(&u->password, pw, (size_t)(at - pw));
		}
		p = at + 1;
	}

	/* host, scanned and checked in one pass */
	q = sip_host_scan(p, e, &u->host_type, NULL);
	if (!q)
		return EBADMSG;
	pl_set(&u->host, p, (size_t)(q - p));
	p = q;

	/* port = 1*DIGIT, at most 65535 */
	if (p < e && *p == ':') {
		uint32_t v = 0;

		for (q = ++p; q < e && IS(*q, SIP_CC_DIGIT); q++) {
			v = v * 10 + (uint32_t)(*q - '0');
			if (v > 65535)
				return EBADMSG;
		}
		if (q == p)
			return EBADMSG;
		pl_set(&u->port_pl, p, (size_t)(q - p));
		u->port = (uint16_t)v;
		p = q;
	}

	if (p < e && *p == ';') {
		q = sip_params_end(p, e);
		if (!q)
			return EBADMSG;
		pl_set(&u->params, p, (size_t)(q - p));
		p = q;
	}

	if (p < e && *p == '?') {
		q = sip_headers_end(++p, e);
		if (!q)
			return EBADMSG;
		pl_set(&u->headers, p, (size_t)(q - p));
		p = q;
	}

	return p == e ? 0 : EBADMSG;
}


static inline bool is_visual_sep(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}


/* 1*phonedigit with at least one DIGIT (phonedigit = DIGIT /
 * visual-separator) */
static bool phonedigits_ok(const char *p, const char *e)
{
	bool digit = false;

	for (; p < e; p++) {
		if (IS(*p, SIP_CC_DIGIT))
			digit = true;
		else if (!is_visual_sep(*p))
			return false;
	}
	return digit;
}


/* global-number-digits = "+" *phonedigit DIGIT *phonedigit */
static bool tel_global_ok(const char *p, const char *e)
{
	return p < e && *p == '+' && phonedigits_ok(p + 1, e);
}


/* local-number-digits =
 *   *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex */
static bool tel_local_ok(const char *p, const char *e)
{
	bool digit = false;

	for (; p < e; p++) {
		if (IS(*p, SIP_CC_HEX) || *p == '*' || *p == '#')
			digit = true;
		else if (!is_visual_sep(*p))
			return false;
	}
	return digit;
}


/* isdn-subaddress = ";isub=" 1*uric (RFC 3966 3; ';' still separates) */
static const char *isub_end(const char *p, const char *e)
{
	while (p < e && *p != ';') {
		if (*p == '%') {
			if (e - p < 3 || !IS(p[1], SIP_CC_HEX) ||
			    !IS(p[2], SIP_CC_HEX))
				return NULL;
			p += 3;
			continue;
		}
		if (!IS(*p, SIP_CC_URIC) || *p == '[' || *p == ']' || *p == '#')
			break;
		p++;
	}
	return p;
}


/* One parameter at p (a ';'): its end, or NULL when malformed. */
static const char *tel_param(const char *p, const char *e, bool *ctx)
{
	const char *q = p + 1, *v;
	bool ext, isub, pctx;
	struct pl name;

	while (q < e && (IS(*q, SIP_CC_DIGIT | SIP_CC_ALPHA) || *q == '-'))
		q++;
	if (q == p + 1)
		return NULL;
	pl_set(&name, p + 1, (size_t)(q - p - 1));
	ext = pl_eq_str_ci(&name, "ext");
	isub = pl_eq_str_ci(&name, "isub");
	pctx = pl_eq_str_ci(&name, "phone-context");
	if (q == e || *q == ';') /* a flag: these three need a value */
		return (ext || isub || pctx) ? NULL : q;
	if (*q != '=')
		return NULL;
	v = q + 1;
	q = isub ? isub_end(v, e) : scan_esc(v, e, SIP_CC_PARAM);
	if (!q || q == v || (q < e && *q != ';'))
		return NULL;
	/* extension = ";ext=" 1*phonedigit */
	if (ext && !phonedigits_ok(v, q))
		return NULL;
	/* descriptor = domainname / global-number-digits */
	if (pctx) {
		if (*v == '+' ? !tel_global_ok(v, q) : hostname_check(v, q))
			return NULL;
		*ctx = true;
	}
	return q;
}


/*
 * RFC 3966 3:
 *   telephone-subscriber = global-number / local-number
 *   global-number = global-number-digits *par
 *   local-number = local-number-digits *par context *par
 *   par = parameter / extension / isdn-subaddress
 *   parameter = ";" pname ["=" pvalue ]; pname = 1*( alphanum / "-" )
 *   context = ";phone-context=" ( domainname / global-number-digits )
 */
static int tel_decode(struct sip_uri *u, const char *p, const char *e)
{
	const char *ne = p;
	bool global, ctx = false;

	while (ne < e && *ne != ';')
		ne++;
	global = p < ne && *p == '+';
	if (global ? !tel_global_ok(p, ne) : !tel_local_ok(p, ne))
		return EBADMSG;
	pl_set(&u->user, p, (size_t)(ne - p));
	p = ne;
	if (p < e)
		pl_set(&u->params, p, (size_t)(e - p));
	while (p < e) {
		p = tel_param(p, e, &ctx);
		if (!p)
			return EBADMSG;
	}

	/* RFC 3966 5.1.5: a local number MUST carry a phone-context */
	if (!global && !ctx)
		return EBADMSG;
	return 0;
}


/* RFC 2396 3: absoluteURI = scheme ":" ( hier_part / opaque_part ) */
static int other_decode(struct sip_uri *u, const char *p, const char *e)
{
	const char *q = scan_esc(p, e, SIP_CC_URIC);

	if (q == p || q != e)
		return EBADMSG;
	pl_set(&u->opaque, p, (size_t)(e - p));
	return 0;
}


/* Decode into *u (zeroed here), which holds no meaning after a failure. */
static int uri_decode(struct sip_uri *u, const struct pl *pl)
{
	const char *p, *e, *s;

	if (!pl->p)
		return pl->l ? EINVAL : EBADMSG;
	memset(u, 0, sizeof(*u));
	p = pl->p;
	e = p + pl->l;

	u->text = *pl;
	/* nearly every URI here is sip: (OR 0x20 lowers a letter and maps
	 * no other octet onto one) */
	if (e - p > 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p' && p[3] == ':') {
		pl_set(&u->scheme, p, 3);
		u->sch = SIP_SCHEME_SIP;
		return sip_decode(u, p + 4, e);
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (p == e || !IS(*p, SIP_CC_ALPHA))
		return EBADMSG;
	s = scan(p + 1, e, SIP_CC_SCHEME);
	if (s == e || *s != ':')
		return EBADMSG;
	pl_set(&u->scheme, p, (size_t)(s - p));

	/* schemes compare case-insensitively (RFC 3261 19.1.4); the octets
	 * are scheme characters, so OR 0x20 lowers letters and leaves no
	 * other octet equal to a letter */
	u->sch = SIP_SCHEME_OTHER;
	if (u->scheme.l == 3 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p')
		u->sch = SIP_SCHEME_SIP;
	else if (u->scheme.l == 4 && (p[0] | 0x20) == 's' &&
		 (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
		 (p[3] | 0x20) == 's')
		u->sch = SIP_SCHEME_SIPS;
	else if (u->scheme.l == 3 && (p[0] | 0x20) == 't' &&
		 (p[1] | 0x20) == 'e' && (p[2] | 0x20) == 'l')
		u->sch = SIP_SCHEME_TEL;

	switch (u->sch) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		return sip_decode(u, s + 1, e);
	case SIP_SCHEME_TEL:
		return tel_decode(u, s + 1, e);
	default:
		return other_decode(u, s + 1, e);
	}
}


/**
 * Decode a URI into pl views of its parts (nothing is copied).
 *
 * sip: and sips: follow RFC 3261 25.1, tel: RFC 3966 3; any other scheme
 * must be a well-formed absoluteURI and is kept as SIP_SCHEME_OTHER with
 * its opaque part.
 *
 * @param uri  the decoded URI, set only on success
 * @param pl   the URI text (not NUL-terminated; never read past pl->l)
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_uri_decode(struct sip_uri *uri, const struct pl *pl)
{
	struct sip_uri u;
	int err;

	if (!uri || !pl)
		return EINVAL;
	err = uri_decode(&u, pl);
	if (err)
		return err;
	*uri = u;
	return 0;
}


/**
 * Decode a URI as sip_uri_decode() does, but straight into *uri, which
 * holds no meaning after a failure: for a destination that counts only
 * after a success (a message's cache, a header value being decoded), so
 * that the URI is not built aside and copied.
 *
 * @return 0, EBADMSG when malformed, EINVAL on bad arguments
 */
int sip_uri_decode_into(struct sip_uri *uri, const struct pl *pl)
{
	if (!uri || !pl)
		return EINVAL;
	return uri_decode(uri, pl);
}


/**
 * Move the views of a decoded URI onto a copy of its text (the same
 * octets elsewhere), so that a copy need not be decoded again.
 *
 * @param dst  the moved views
 * @param src  the URI as decoded from src->text
 * @param to   the copy of src->text (src->text.l octets)
 */
_Static_assert(sizeof(void *) != 8 || sizeof(struct sip_uri) == 168,
	       "struct sip_uri changed: update sip_uri_move()");
void sip_uri_move(struct sip_uri *dst, const struct sip_uri *src,
		  const char *to)
{
	const char *from = src->text.p;

#define MV(f) (dst->f.p = src->f.p ? to + (src->f.p - from) : NULL)
	*dst = *src;
	MV(text);
	MV(scheme);
	MV(user);
	MV(password);
	MV(host);
	MV(port_pl);
	MV(params);
	MV(headers);
	MV(opaque);
#undef MV
}


/*
 * Comparison
 */

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	uint8_t x[16], y[16];

	if (a->host_type != b->host_type)
		return false;
	switch (a->host_type) {
	case SIP_HOST_IPV6:
		if (a->host.l < 2 || b->host.l < 2 ||
		    sip_ipv6_decode(a->host.p + 1, a->host.l - 2, x) ||
		    sip_ipv6_decode(b->host.p + 1, b->host.l - 2, y))
			return false;
		return !memcmp(x, y, 16);
	case SIP_HOST_IPV4:
		if (sip_ipv4_decode(a->host.p, a->host.l, x) ||
		    sip_ipv4_decode(b->host.p, b->host.l, y))
			return false;
		return !memcmp(x, y, 4);
	default:
		return pl_eq_ci(&a->host, &b->host);
	}
}


/* Present in one URI only, these make a mismatch (RFC 3261 19.1.4):
 * user, ttl, method, maddr, and transport (19.1.4 examples).  Returns the
 * slot of such a name, or -1. */
enum {
	STRICT_NUM = 5
};

static int strict_slot(const struct pl *n)
{
	static const char *const names[STRICT_NUM] = {
		"user", "ttl", "method", "maddr", "transport",
	};
	int i;

	switch (n->l) {
	case 4:
		i = 0;
		break;
	case 3:
		i = 1;
		break;
	case 6:
		i = 2;
		break;
	case 5:
		i = 3;
		break;
	case 9:
		i = 4;
		break;
	default:
		return -1;
	}
	return strncasecmp(n->p, names[i], n->l) ? -1 : i;
}


/* The first value of each strict parameter (one pass). */
static void strict_collect(const struct pl *params, struct pl *vals, bool *has)
{
	struct pl rest, n, v;
	int i;

	memset(has, 0, STRICT_NUM * sizeof(*has));
	if (!params->p)
		return;
	rest = *params;
	while (param_next(&rest, &n, &v)) {
		i = strict_slot(&n);
		if (i >= 0 && !has[i]) {
			has[i] = true;
			vals[i] = v;
		}
	}
}


static bool sip_params_eq(const struct pl *pa, const struct pl *pb)
{
	struct pl va[STRICT_NUM], vb[STRICT_NUM], rest, n, v, v2, first;
	bool ha[STRICT_NUM], hb[STRICT_NUM];
	int i;

	strict_collect(pa, va, ha);
	strict_collect(pb, vb, hb);
	for (i = 0; i < STRICT_NUM; i++) {
		if (ha[i] != hb[i])
			return false;
		if (ha[i] && !sip_unescaped_eq(&va[i], &vb[i], true))
			return false;
	}

	/* any other parameter appearing in both must match; the first of a
	 * repeated name stands for it, as sip_param_get() reads it */
	if (!pa->p || !pb->p)
		return true;
	rest = *pa;
	while (param_next(&rest, &n, &v)) {
		if (strict_slot(&n) >= 0)
			continue;
		if (!param_find(pb, n.p, n.l, NULL, &v2))
			continue;
		if (!param_find(pa, n.p, n.l, &first, NULL) || first.p != n.p)
			continue;
		if (!sip_unescaped_eq(&v, &v2, true))
			return false;
	}
	return true;
}


static bool header_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *p = rest->p, *e, *amp, *eq;

	if (!p || !rest->l)
		return false;
	e = p + rest->l;
	amp = memchr(p, '&', (size_t)(e - p));
	if (!amp)
		amp = e;
	eq = memchr(p, '=', (size_t)(amp - p));
	if (!eq)
		eq = amp;
	pl_set(name, p, (size_t)(eq - p));
	if (eq < amp)
		eq++;
	pl_set(val, eq, (size_t)(amp - eq));
	rest->p = amp < e ? amp + 1 : e;
	rest->l = (size_t)(e - rest->p);
	return true;
}


/* every header of `a` has an equal one in `b` (names and values compared
 * unescaped and case-insensitively) */
static bool headers_subset(const struct pl *a, const struct pl *b)
{
	struct pl ra = *a, na, va;

	while (header_next(&ra, &na, &va)) {
		struct pl rb = *b, nb, vb;
		bool found = false;

		while (!found && header_next(&rb, &nb, &vb))
			found = sip_unescaped_eq(&na, &nb, true) &&
				sip_unescaped_eq(&va, &vb, true);
		if (!found)
			return false;
	}
	return true;
}


/* RFC 3261 19.1.4 */
static bool sip_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	/* userinfo: present in both or neither, then case-sensitive */
	if (!a->user.p != !b->user.p || !a->password.p != !b->password.p)
		return false;
	if (!sip_unescaped_eq(&a->user, &b->user, false) ||
	    !sip_unescaped_eq(&a->password, &b->password, false))
		return false;
	if (!host_eq(a, b))
		return false;
	/* an omitted port never matches an explicit default one */
	if (!a->port_pl.p != !b->port_pl.p || a->port != b->port)
		return false;
	if (!sip_params_eq(&a->params, &b->params))
		return false;
	/* headers are never ignored */
	return headers_subset(&a->headers, &b->headers) &&
	       headers_subset(&b->headers, &a->headers);
}


/* Compare ignoring visual separators (RFC 3966 4), case-insensitively. */
static bool phone_eq(const struct pl *a, const struct pl *b)
{
	const char *pa = a->p, *ea = pa ? pa + a->l : pa;
	const char *pb = b->p, *eb = pb ? pb + b->l : pb;

	for (;;) {
		while (pa < ea && is_visual_sep(*pa))
			pa++;
		while (pb < eb && is_visual_sep(*pb))
			pb++;
		if (pa == ea || pb == eb)
			return pa == ea && pb == eb;
		if (lower((unsigned char)*pa++) != lower((unsigned char)*pb++))
			return false;
	}
}


static bool tel_param_eq(const struct pl *name, const struct pl *a,
			 const struct pl *b)
{
	if (pl_eq_str_ci(name, "ext") ||
	    (pl_eq_str_ci(name, "phone-context") && a->l && a->p[0] == '+'))
		return phone_eq(a, b);
	return sip_unescaped_eq(a, b, true);
}


static bool tel_params_subset(const struct pl *pa, const struct pl *pb)
{
	struct pl rest, n, v, v2, first;

	if (!pa->p)
		return true;
	rest = *pa;
	while (param_next(&rest, &n, &v)) {
		if (!param_find(pb, n.p, n.l, NULL, &v2))
			return false;
		/* a repeated name: its first value stands for it */
		if (!param_find(pa, n.p, n.l, &first, NULL) || first.p != n.p)
			continue;
		if (!tel_param_eq(&n, &v, &v2))
			return false;
	}
	return true;
}


/*
 * RFC 3966 4: both global or both local, digits equal without visual
 * separators, the same parameter names with matching values (any order),
 * case-insensitive.
 */
static bool tel_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	bool ga = a->user.l && a->user.p[0] == '+';
	bool gb = b->user.l && b->user.p[0] == '+';

	if (ga != gb || !phone_eq(&a->user, &b->user))
		return false;
	return tel_params_subset(&a->params, &b->params) &&
	       tel_params_subset(&b->params, &a->params);
}


/**
 * URI equality: RFC 3261 19.1.4 for sip and sips, RFC 3966 4 for tel;
 * other schemes compare the scheme case-insensitively and the rest as
 * unescaped octets.
 *
 * @return true when equivalent
 */
bool sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	if (!a || !b || a->sch != b->sch)
		return false;
	switch (a->sch) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		return sip_eq(a, b);
	case SIP_SCHEME_TEL:
		return tel_eq(a, b);
	default:
		return pl_eq_ci(&a->scheme, &b->scheme) &&
		       sip_unescaped_eq(&a->opaque, &b->opaque, false);
	}
}


/**
 * The port to send to: the explicit one; otherwise 5061 for sips: or a
 * sip: URI with transport=tls, else 5060 (RFC 3261 19.1.2, RFC 3263 4.2).
 *
 * @return the port, or 0 for tel: and other schemes (no port)
 */
uint16_t sip_uri_port(const struct sip_uri *uri)
{
	struct pl tp;

	if (!uri)
		return 0;
	if (uri->sch != SIP_SCHEME_SIP && uri->sch != SIP_SCHEME_SIPS)
		return 0;
	if (uri->port_pl.p)
		return uri->port;
	if (uri->sch == SIP_SCHEME_SIPS)
		return 5061;
	if (!sip_param_get(&uri->params, "transport", &tp) &&
	    pl_eq_str_ci(&tp, "tls"))
		return 5061;
	return 5060;
}
