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

enum sip_host_type { SIP_HOST_NAME, SIP_HOST_IPV4, SIP_HOST_IPV6 };

struct sip_uri {
	struct pl text; /* the whole URI */
	struct pl scheme;
	enum sip_scheme sch;
	struct pl user;	    /* sip: userinfo user (escaped); tel: the number */
	struct pl password;
	struct pl host;	    /* IPv6 references keep their brackets */
	enum sip_host_type host_type;
	struct pl port_pl;
	uint16_t port;	    /* 0 when absent */
	struct pl params;   /* ";a=b;c" including the leading ';' */
	struct pl headers;  /* "?h=v&..." without the '?' */
	struct pl opaque;   /* other schemes: everything after "scheme:" */
};

/* Decode a URI.  EBADMSG when it breaks the grammar (spaces, bad escapes,
 * bad port, brackets); other schemes must still be a valid absoluteURI. */
int sip_uri_decode(struct sip_uri *uri, const struct pl *pl) IMS_MUST_CHECK;

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

#endif
