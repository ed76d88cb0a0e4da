/**
 * @file authhdr.h  Authorization / WWW-Authenticate header values
 * (RFC 3261 20.7, RFC 7616 3.3-3.4, RFC 3310).
 */
#ifndef IMS_SIP_AUTHHDR_H
#define IMS_SIP_AUTHHDR_H

#include <stdbool.h>

#include "core/mem.h"
#include "core/pl.h"

struct sip_authhdr {
	struct pl scheme; /* "Digest" or anything else */
	struct pl realm;  /* values are unquoted (quotes stripped) */
	struct pl nonce;
	struct pl username;
	struct pl uri;
	struct pl response;
	struct pl algorithm; /* MD5, SHA-256, AKAv1-MD5, ... */
	struct pl cnonce;
	struct pl opaque;
	struct pl qop;
	struct pl nc;
	struct pl auts;
	struct pl stale;
	bool userhash;
};

int sip_authhdr_decode(struct sip_authhdr *ah,
		       const struct pl *pl) IMS_MUST_CHECK;

#endif
