/**
 * @file sip.h  The SIP stack object: transports, transactions, dispatch.
 *
 * struct sip ties the layers together (RFC 3261 figure of layers):
 *   transport  -> sip_recv(): decode; malformed requests get a 400 naming
 *                 the problem (or are dropped when no answer can be built)
 *   responses  -> client transactions (sip_ctrans_recv), else the
 *                 stateless handler (a proxy forwards stray 2xx, RFC 6026)
 *   requests   -> server transactions (sip_strans_recv: retransmissions,
 *                 ACK for non-2xx, CANCEL; the Completed non-INVITE ones
 *                 over UDP from the retransmission cache, rcache.h), else
 *                 the request handler of the core above (proxy, registrar).
 */
#ifndef IMS_SIP_SIP_H
#define IMS_SIP_SIP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/msg.h"
#include "sip/rcache.h"
#include "sip/transp.h"

struct hash;
struct buf;
struct sip;

/* RFC 3261 17.1.1.1 timer values, in ms (configurable for tests). */
struct sip_timers {
	uint32_t t1; /* 500 */
	uint32_t t2; /* 4000 */
	uint32_t t4; /* 5000 */
};

/* A request that no transaction absorbed. Return true when handled. */
typedef bool(sip_req_h)(struct sip *sip, struct sip_msg *msg, void *arg);
/* A response that matched no client transaction. */
typedef void(sip_resp_h)(struct sip *sip, struct sip_msg *msg, void *arg);

struct sip_stats {
	uint64_t rx_requests, rx_responses;
	uint64_t rx_malformed; /* answered with 400/505/... */
	uint64_t rx_dropped;   /* could not be answered */
	uint64_t tx_requests, tx_responses;
	uint64_t retrans_absorbed;
	uint64_t finals_held;       /* spaced from their 1xx (strans.c) */
	uint64_t tx_errors;         /* responses that could not be sent */
	struct rcache_stats rcache; /* Completed non-INVITE over UDP */
};

struct sip {
	struct sip_transports *transp;
	struct hash *ctrans;   /* key: branch (our own) */
	struct hash *strans;   /* key: branch + sent-by (or RFC 2543 key) */
	struct rcache *rcache; /* Completed non-INVITE transactions, UDP */
	struct sip_timers timers;
	sip_req_h *reqh;
	void *reqh_arg;
	sip_resp_h *resph;
	void *resph_arg;
	struct sip_stats stats;
	char software[64];   /* Server / User-Agent header value */
	uint32_t branch_seq; /* unique branch generator */
	uint64_t branch_salt;
	/* Tests replace the transport: every send goes here when set. */
	int (*sendh)(struct sip *sip, enum sip_transp tp, const struct sa *dst,
		     struct sip_conn *conn, const void *p, size_t len);
};

/* The timer values in force (0 in struct sip_timers: the RFC default). */
static inline uint32_t sip_t1(const struct sip *sip)
{
	return sip->timers.t1 ? sip->timers.t1 : 500;
}

static inline uint32_t sip_t2(const struct sip *sip)
{
	return sip->timers.t2 ? sip->timers.t2 : 4000;
}

static inline uint32_t sip_t4(const struct sip *sip)
{
	return sip->timers.t4 ? sip->timers.t4 : 5000;
}

/* 64*T1: Timers B, F, H, J, L, M */
static inline uint64_t sip_t1x64(const struct sip *sip)
{
	return 64ull * sip_t1(sip);
}

int sip_alloc(struct sip **sipp, const struct sip_transp_conf *tconf,
	      sip_req_h *reqh, sip_resp_h *resph, void *arg) IMS_MUST_CHECK;
void sip_close(struct sip *sip);

/* Entry point from the transport (also called directly by tests). */
void sip_recv(const struct sip_rx *rx, void *arg);

int sip_send(struct sip *sip, enum sip_transp tp, const struct sa *dst,
	     struct sip_conn *conn, const void *p, size_t len) IMS_MUST_CHECK;
/* A client transaction's first send (sip_transp_send_once): *once is true
 * when it was handed over in-process and must not be retransmitted. */
int sip_send_once(struct sip *sip, enum sip_transp tp, const struct sa *dst,
		  struct sip_conn *conn, const void *p, size_t len,
		  bool *once) IMS_MUST_CHECK;

/* Where a response to this request goes (RFC 3261 18.2.2, RFC 3581):
 * the connection it came on, else received/rport of the top Via. */
int sip_response_dest(struct sip_msg *req, enum sip_transp *tp,
		      struct sa *dst) IMS_MUST_CHECK;

/* An ICMP error for a datagram to dst that does not say which request it
 * was (RFC 3261 18.4): every running client transaction over tp to dst
 * (without a connection of its own) ends with err (in ctrans.c, next to
 * sip_ctrans_transport_error). */
void sip_ctrans_dest_error(struct sip *sip, enum sip_transp tp,
			   const struct sa *dst, int err);

/* A fresh branch with the magic cookie, written into out[SIP_BRANCH_LEN]. */
#define SIP_BRANCH_LEN 32
void sip_branch_new(struct sip *sip, char *out, size_t size);

#endif
