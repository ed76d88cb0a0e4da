/**
 * @file dns.h  Locating SIP servers (RFC 3263) with c-ares on our loop.
 *
 * sip_dns_locate() turns a SIP or SIPS URI into an ordered list of
 * (transport, address:port) targets to try in turn (RFC 3263 4.3):
 *
 *   numeric host (or maddr)  -> that address, no lookup
 *   explicit port            -> A/AAAA of the host
 *   transport parameter      -> SRV for that transport, else A/AAAA
 *   otherwise                -> NAPTR (SIP+D2U, SIP+D2T, SIPS+D2T by order
 *                               and preference), else SRV _sip._udp,
 *                               _sip._tcp, _sips._tcp, else A/AAAA
 *   sips:                    -> TLS only
 *
 * SRV records are ordered by priority and, within one, by the weighted
 * random selection of RFC 2782.  Answers are cached for their TTL
 * (negative answers for the SOA minimum, RFC 2308).
 *
 * The result always arrives through the handler, from the event loop,
 * never from inside sip_dns_locate().
 *
 * The handle (libre's request-handle pattern): *qp is the only reference
 * to a running query and must stay valid while it runs (a field of the
 * requester).  mem_deref(*qp) cancels: the handler is not called.  When
 * the query ends, the resolver sets *qp to NULL, calls the handler, and
 * frees the query itself; releasing the resolver cancels every running
 * query the same way (handles set to NULL, handlers not called).  So a
 * requester's destructor may always mem_deref() its handle.
 */
#ifndef IMS_SIP_DNS_H
#define IMS_SIP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "net/sa.h"
#include "sip/transp.h"

struct sip_uri;
struct sip_dns;
struct sip_dns_query;

#define SIP_DNS_TARGETS_MAX 16

struct sip_dns_target {
	enum sip_transp tp;
	struct sa addr;
};

/* err: 0 with tc >= 1 targets; ENOENT (no usable records for the name),
 * ETIMEDOUT (no server answered), ECONNREFUSED / EPROTO (server errors),
 * ENOMEM. */
typedef void(sip_dns_h)(int err, const struct sip_dns_target *tv, size_t tc,
			void *arg);

struct sip_dns_conf {
	uint32_t timeout_ms; /* per try (default 2000) */
	uint32_t tries;      /* per server (default 2) */
	size_t cache_max;    /* cached answers (default 4096) */
	bool no_ipv4;        /* skip A lookups */
	bool no_ipv6;        /* skip AAAA lookups */
};

struct sip_dns_stats {
	uint64_t queries;    /* sent to a server */
	uint64_t cache_hits; /* answered from the cache */
	uint64_t failures;   /* timeouts and server errors */
	size_t cached;       /* answers in the cache now */
};

/* servers: n addresses (port 0 means 53); NULL uses /etc/resolv.conf.
 * conf may be NULL for the defaults. */
int sip_dns_alloc(struct sip_dns **dp, const struct sa *servers, size_t n,
		  const struct sip_dns_conf *conf) IMS_MUST_CHECK;

/* Start locating uri (sip: or sips:).  *qp receives the query handle.
 * EPROTONOSUPPORT for other schemes or transports (sctp, ws, sips over
 * udp), EINVAL for a URI without a usable host. */
int sip_dns_locate(struct sip_dns_query **qp, struct sip_dns *d,
		   const struct sip_uri *uri, sip_dns_h *h,
		   void *arg) IMS_MUST_CHECK;

/* The fast path for numeric hosts: 0 and *t filled when uri needs no DNS,
 * EAGAIN when it does, or the errors of sip_dns_locate. */
int sip_dns_numeric(const struct sip_uri *uri,
		    struct sip_dns_target *t) IMS_MUST_CHECK;

void sip_dns_cache_flush(struct sip_dns *d);
void sip_dns_stats(const struct sip_dns *d, struct sip_dns_stats *st);

/* RFC 2782 ordering of one SRV answer, exposed for tests: sorts by
 * priority, then orders each priority by weighted random selection
 * (rng: the state of a xorshift generator, never 0). */
struct sip_dns_srv {
	uint16_t prio;
	uint16_t weight;
	uint16_t port;
	const char *host;
};
void sip_dns_srv_order(struct sip_dns_srv *v, size_t n, uint64_t *rng);

#endif
