/**
 * @file hss.h  The HSS and SLF application: Cx (TS 29.228/29.229), Sh
 *              (TS 29.328/29.329) and Dx (TS 29.228 6.6) request handling.
 *
 * The HSS is a function from request to answer over the subscriber store
 * (store.h): hss_handle() takes any Cx/Dx or Sh request and returns the
 * answer to send, whatever the request's fate (an unknown user, a
 * malformed request and a database failure all become answers).  It
 * knows nothing of connections: the Diameter node calls it for requests
 * that arrive over the network, co-located roles call it directly.
 *
 * Requests the HSS originates (RTR, PPR on Cx; PNR on Sh) go through a
 * send callback the node sets with hss_set_send().  Their answers come
 * back through the response handler given with each request.
 *
 * Provisioning runs in other processes; it asks for PPR/RTR by writing
 * events into the store (store/events.h), which hss_poll_events() turns
 * into requests (the integrator calls it from a one-second timer).
 *
 * One struct hss is used by one thread (its event loop) at a time: it
 * holds one store connection and one MILENAGE context.
 */
#ifndef IMS_HSS_HSS_H
#define IMS_HSS_HSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct dia_msg;
struct store;
struct hss;

#define HSS_NAME_MAX  256 /* a Diameter identity, realm or SIP URI */
#define HSS_SCSCF_MAX 8   /* S-CSCFs offered in Server-Capabilities */
#define HSS_CAP_MAX   16
#define HSS_NET_MAX   8 /* visited networks allowed besides the realm */

/* One S-CSCF the I-CSCF may choose (TS 29.228 6.7). */
struct hss_scscf {
	char name[HSS_NAME_MAX];   /* its SIP URI (Server-Name) */
	uint32_t cap[HSS_CAP_MAX]; /* capabilities it has */
	size_t cap_n;
};

enum hss_slf_mode {
	HSS_SLF_OFF = 0, /* an HSS only */
	HSS_SLF_ONLY,    /* a pure SLF: every known identity is redirected */
	HSS_SLF_AND_HSS, /* SLF in front of this HSS (TS 29.228 6.6) */
};

struct hss_conf {
	char identity[HSS_NAME_MAX]; /* Origin-Host */
	char realm[HSS_NAME_MAX];    /* Origin-Realm, the home network */
	/* S-CSCFs for Server-Capabilities when none is assigned */
	struct hss_scscf scscf[HSS_SCSCF_MAX];
	size_t scscf_n;
	/* Visited-Network-Identifier values allowed besides the realm;
	 * "*" allows every network (TS 29.228 6.1.1 roaming check) */
	char networks[HSS_NET_MAX][HSS_NAME_MAX];
	size_t networks_n;
	/* scheme (STORE_AUTH_* bit) for "Unknown" when the IMPI has no
	 * default of its own; 0: the first the IMPI allows */
	unsigned default_scheme;
	unsigned vectors_max; /* AKA vectors per MAR, 1..AKA_VECTORS_MAX */
	enum hss_slf_mode slf;
	uint32_t redirect_usage; /* Redirect-Host-Usage (RFC 6733 6.13) */
	uint32_t redirect_cache; /* Redirect-Max-Cache-Time, seconds */
	uint32_t sh_expiry_max;  /* Sh subscriptions, seconds; 0: none */
	size_t sh_data_max;      /* ServiceData bytes per repository item */
};

/* The answer to an HSS-initiated request: err 0 and the answer, or an
 * error (ETIMEDOUT, ECONNRESET ...) and NULL. */
typedef void(hss_resp_h)(int err, const struct dia_msg *ans, void *arg);

/* Send req (the node sets Hop-by-Hop and End-to-End ids and routes it by
 * Destination-Host/Realm).  0: resph will be called exactly once, later
 * (the node keeps its own reference to req if it needs one); an error:
 * it will not be called. */
typedef int(hss_send_h)(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
			void *arg);

/* Defaults: 4 vectors max, DONT_CACHE redirects, Sh subscriptions for at
 * most a day, 16 KiB of ServiceData. */
void hss_conf_default(struct hss_conf *conf);

/* conf is copied; st is referenced (mem_ref) and must stay one thread's. */
int hss_alloc(struct hss **hssp, struct store *st,
	      const struct hss_conf *conf) IMS_MUST_CHECK;
void hss_set_send(struct hss *hss, hss_send_h *sendh, void *arg);

/* Answer a Cx/Dx or Sh request.  *ansp is always an answer unless the
 * return is an error (ENOMEM, EINVAL: not a request of Cx or Sh), in
 * which case the node answers DIAMETER_UNABLE_TO_COMPLY itself. */
int hss_handle(struct hss *hss, const struct dia_msg *req,
	       struct dia_msg **ansp) IMS_MUST_CHECK;

/* Network-initiated deregistration (TS 29.228 6.1.3): an RTR to the
 * S-CSCF serving identity (an IMPI: the sets it registered; an IMPU: its
 * implicit set, User-Name the IMPI that registered it) with the
 * Reason-Code (enum dia_reason_code) and Reason-Info.  ENOENT unknown
 * identity, EALREADY not registered (nothing to send), ENOTCONN no send
 * callback. */
int hss_rtr(struct hss *hss, const char *identity, uint32_t reason,
	    const char *reason_info) IMS_MUST_CHECK;
/* Push the current profile (TS 29.228 6.2.2) of every registered
 * implicit set of the IMPI to its S-CSCF, each PPR naming the IMPI that
 * registered the set; *np: PPRs sent. */
int hss_ppr(struct hss *hss, const char *impi, unsigned *np) IMS_MUST_CHECK;
/* The same for every IMPI of a subscription. */
int hss_ppr_subscription(struct hss *hss, const char *sub,
			 unsigned *np) IMS_MUST_CHECK;

/* Handle the outbox (store_event_*): send the PPR/RTR each event asks
 * for (an RTR from the event's snapshot, even when the subscription is
 * gone), delete it, and expire Sh subscriptions.  *np: events handled. */
int hss_poll_events(struct hss *hss, unsigned *np) IMS_MUST_CHECK;

/* Requests sent and not yet answered (tests, shutdown). */
unsigned hss_pending(const struct hss *hss);

#endif
