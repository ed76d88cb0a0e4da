/**
 * @file via.h  Via header values (RFC 3261 20.42, RFC 3581 rport).
 */
#ifndef IMS_SIP_VIA_H
#define IMS_SIP_VIA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct sip_via {
	struct pl val;     /* the whole value */
	struct pl proto;   /* "SIP/2.0" */
	struct pl transp;  /* "UDP", "TCP", "TLS", or any other token */
	int tp;            /* enum sip_transp, SIP_TRANSP_NONE if unknown */
	struct pl host;    /* sent-by host (IPv6 keeps its brackets) */
	uint16_t port;     /* sent-by port, 0 when absent */
	uint8_t host_type; /* enum sip_host_type of the sent-by host */
	uint8_t ip4[4];    /* the address of an IPv4 sent-by host */
	struct pl params;  /* with the leading ';' */
	struct pl branch;
	struct pl received;
	struct pl rport; /* value of rport, empty when a bare flag */
	bool has_rport;
	/* hash_fast_ci() of the branch, 0 without one: both transaction
	 * layers look a message up by it (RFC 3261 17.1.3, 17.2.3), so it is
	 * taken once, here */
	uint32_t branch_hash;
	struct pl maddr;
};

int sip_via_decode(struct sip_via *via, const struct pl *pl) IMS_MUST_CHECK;
/* The same, straight into *via, which holds no meaning after a failure
 * (for a destination valid only after a success: no copy made aside). */
int sip_via_decode_into(struct sip_via *via,
			const struct pl *pl) IMS_MUST_CHECK;

/* RFC 3261 8.1.1.7: a branch starting with the magic cookie. */
bool sip_via_branch_3261(const struct sip_via *via);

/* The sent-protocol is SIP/2.0 (case-insensitive, LWS around '/' allowed:
 * via->proto then spans "SIP  /  2.0"). */
bool sip_via_proto_sip2(const struct sip_via *via);

#endif
