/**
 * @file uri.h  SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966).
 *
 * Decoding splits the URI into pl views without copying or unescaping;
 * comparison (RFC 3261 19.1.4) unescapes on the fly.
 */
#ifndef IMS_SIP_URI_H
#define IMS_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct buf;

enum sip_scheme {
	SIP_SCHEME_OTHER = 0, /* well-formed absoluteURI of another scheme */
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

enum sip_host_type {
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6
};

struct sip_uri {
	struct pl text; /* the whole URI */
	struct pl scheme;
	enum sip_scheme sch;
	struct pl user; /* sip: userinfo user (escaped); tel: the number */
	struct pl password;
	struct pl host; /* IPv6 references keep their brackets */
	enum sip_host_type host_type;
	struct pl port_pl;
	uint16_t port;     /* 0 when absent */
	struct pl params;  /* ";a=b;c" including the leading ';' */
	struct pl headers; /* "?h=v&..." without the '?' */
	struct pl opaque;  /* other schemes: everything after "scheme:" */
};

/* Decode a URI.  EBADMSG when it breaks the grammar (spaces, bad escapes,
 * bad port, brackets); other schemes must still be a valid absoluteURI. */
int sip_uri_decode(struct sip_uri *uri, const struct pl *pl) IMS_MUST_CHECK;
/* The same, straight into *uri, which holds no meaning after a failure
 * (for a destination valid only after a success: no copy made aside). */
int sip_uri_decode_into(struct sip_uri *uri,
			const struct pl *pl) IMS_MUST_CHECK;

/* The views of src moved onto `to`, a copy of src->text (no decoding). */
void sip_uri_move(struct sip_uri *dst, const struct sip_uri *src,
		  const char *to);

/* RFC 3261 19.1.4 equality (sip/sips), RFC 3966 5 for tel. */
bool sip_uri_eq(const struct sip_uri *a, const struct sip_uri *b);

/* Parameters in ";name=value;flag" lists (URI, Via, Contact, To, ...).
 * Names compare case-insensitively.  *val is empty for a flag. */
int sip_param_get(const struct pl *params, const char *name,
		  struct pl *val) IMS_MUST_CHECK;
bool sip_param_exists(const struct pl *params, const char *name);
/* Iterate: returns false at the end */
bool sip_param_next(struct pl *rest, struct pl *name, struct pl *val);

/* Compare two %-escaped strings as their unescaped values. */
bool sip_unescaped_eq(const struct pl *a, const struct pl *b, bool ci);
/* Unescape into buf; EBADMSG on a bad escape */
int sip_unescape(const struct pl *in, char *out, size_t size,
		 size_t *outlen) IMS_MUST_CHECK;

/* The port to use: the explicit one, else 5060 (5061 for sips). */
uint16_t sip_uri_port(const struct sip_uri *uri);

/*
 * Helpers shared by the header decoders (addr.c, via.c, authhdr.c).
 */

/* Character classes of RFC 3261 25.1 (one lookup per octet).  The URI
 * classes do not include '%': escapes are checked where they may appear. */
enum sip_cc {
	SIP_CC_DIGIT = 1 << 0,
	SIP_CC_ALPHA = 1 << 1,
	SIP_CC_HEX = 1 << 2,
	SIP_CC_TOKEN = 1 << 3,   /* token */
	SIP_CC_UNRES = 1 << 4,   /* unreserved = alphanum / mark */
	SIP_CC_USER = 1 << 5,    /* unreserved / user-unreserved */
	SIP_CC_PASSWD = 1 << 6,  /* unreserved / & = + $ , */
	SIP_CC_PARAM = 1 << 7,   /* unreserved / param-unreserved */
	SIP_CC_HNV = 1 << 8,     /* unreserved / hnv-unreserved */
	SIP_CC_URIC = 1 << 9,    /* RFC 2396 uric, "[]" (RFC 2732) and '#' */
	SIP_CC_SCHEME = 1 << 10, /* ALPHA / DIGIT / + / - / . */
	SIP_CC_HOST = 1 << 11,   /* hostname octets: alphanum / - / . */
	SIP_CC_LWS = 1 << 12, /* SP HTAB CR LF (folded lines stay in values) */
	SIP_CC_QDTEXT = 1 << 13, /* qdtext except LWS: %x21 / %x23-5B /
				  * %x5D-7E / UTF8-NONASCII */
};

extern const uint16_t sip_cc[256];

static inline bool sip_cc_is(char c, unsigned cls)
{
	return (sip_cc[(unsigned char)c] & cls) != 0;
}

/* Validate a host: hostname, IPv4address or IPv6reference ("[...]"). */
int sip_host_check(const struct pl *host,
		   enum sip_host_type *type) IMS_MUST_CHECK;
/* Scan and validate the host at p in one pass: its end, or NULL.  Without
 * brackets the host is the run of hostname octets (alphanum - .) at p;
 * ip4 (may be NULL) receives an IPv4 host's address. */
const char *sip_host_scan(const char *p, const char *e,
			  enum sip_host_type *type, uint8_t ip4[4]);
/* port = 1*DIGIT, 0..65535; EBADMSG otherwise. */
int sip_port_decode(const struct pl *pl, uint16_t *port) IMS_MUST_CHECK;
/* Validate header parameters *( SEMI generic-param ) (RFC 3261 25.1):
 * token [ EQUAL ( token / host / quoted-string ) ], LWS around ';' '='. */
int sip_params_check(const struct pl *params) IMS_MUST_CHECK;
/* The same, calling ph for each parameter as it is validated (one pass):
 * a quoted value keeps its quotes, a flag's value has no pointer.  A
 * non-zero return from ph ends the walk and is returned. */
typedef int(sip_param_h)(const struct pl *name, const struct pl *val,
			 void *arg);
int sip_params_walk(const struct pl *params, sip_param_h *ph,
		    void *arg) IMS_MUST_CHECK;
/* A gen-value that sip_params_walk() has validated is a token unless it
 * is a quoted-string, a bracketed IPv6 reference or an IPv6 address
 * (which holds ':', no token octet; its first ':' is within its first
 * five octets: a group is 1*4HEXDIG, "::" starts with one): no second
 * walk over every octet. */
static inline bool sip_param_value_is_token(const struct pl *val)
{
	size_t i, n = val->l < 5 ? val->l : 5;

	if (!val->l || val->p[0] == '"' || val->p[0] == '[')
		return false;
	for (i = 0; i < n; i++)
		if (val->p[i] == ':')
			return false;
	return true;
}
/* p at an opening DQUOTE: the end of the quoted-string (after the closing
 * DQUOTE), or NULL when unterminated or holding a forbidden octet. */
const char *sip_qstr_end(const char *p, const char *end);
/* An IPv4address / IPv6address (no brackets) into network-order bytes;
 * out may be NULL to only validate.  EBADMSG when malformed. */
int sip_ipv4_decode(const char *p, size_t n, uint8_t out[4]) IMS_MUST_CHECK;
int sip_ipv6_decode(const char *p, size_t n, uint8_t out[16]) IMS_MUST_CHECK;

#endif
