/**
 * @file addr.h  name-addr / addr-spec header values (From, To, Contact,
 * Route, Record-Route, Path, Service-Route, P-Asserted-Identity, ...).
 *
 * RFC 3261 20.10: in an addr-spec without angle brackets, everything after
 * the first ';' belongs to the header, not to the URI.
 */
#ifndef IMS_SIP_ADDR_H
#define IMS_SIP_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/uri.h"

struct sip_addr {
	struct pl val;   /* the whole value */
	struct pl dname; /* display name, quotes included when quoted */
	struct pl auri;  /* the URI text (inside <> when angled) */
	struct sip_uri uri;
	struct pl params; /* header params after the URI, with leading ';' */
	struct pl tag;    /* the tag param, when present */
	bool angle;
	bool star; /* Contact: * */
};

int sip_addr_decode(struct sip_addr *addr, const struct pl *pl) IMS_MUST_CHECK;
/* The same, straight into *addr, which holds no meaning after a failure
 * (for a destination valid only after a success: no copy made aside). */
int sip_addr_decode_into(struct sip_addr *addr,
			 const struct pl *pl) IMS_MUST_CHECK;
/* The same; a URI with the text of like's URI is not decoded again (its
 * views are moved): a REGISTER's To and From name one AOR. */
int sip_addr_decode_like(struct sip_addr *addr, const struct pl *pl,
			 const struct sip_addr *like) IMS_MUST_CHECK;

/* Contact values: expires and q (q scaled to 0..1000, default 1000). */
struct sip_contact {
	struct sip_addr addr;
	bool has_expires;
	uint32_t expires;
	uint16_t q;
};

int sip_contact_decode(struct sip_contact *c,
		       const struct pl *pl) IMS_MUST_CHECK;
int sip_contact_decode_into(struct sip_contact *c,
			    const struct pl *pl) IMS_MUST_CHECK;

#endif
