/**
 * @file icscf.h  The I-CSCF (TS 24.229 5.3): the home network's entry
 *                point, asking the HSS (Cx, through the SLF when there is
 *                one) where each request goes.
 *
 * A request/response module on top of the SIP stack and the Cx client
 * (diameter/cx_client.h): icscf_request() takes a decoded request and
 * later calls the caller's handler with a decision, a reply or the
 * request rewritten with the chosen S-CSCF as its top Route, which the
 * caller's proxy core forwards.  No socket, no process layout.
 *
 *  - REGISTER (5.3.1.2): only from the trust domain when one is
 *    configured (else 403); UAR with User-Authorization-Type from the
 *    expiry (0: DE_REGISTRATION); Server-Name: forward there; Server-
 *    Capabilities: select an S-CSCF (TS 29.228 6.7): the HSS's names
 *    first, in its order, then the configured S-CSCFs that have every
 *    mandatory capability, most optional ones first; none: 600.  Cx
 *    errors (TS 29.228 annex A, TS 24.229 5.3.1.2): a negative answer
 *    (user unknown, identities don't match, roaming not allowed,
 *    authorization rejected, not registered) is 403; no answer or an
 *    HSS failure (timeout, unreachable, 3xxx, 5012) is 480.
 *  - other requests (5.3.2.1): LIR on the Request-URI; Server-Name:
 *    forward there; capabilities (unregistered services, 2003): select
 *    as above; 5001 user unknown: 404; 5003 not registered: 480; no
 *    answer: 480.  A request that still has a Route past our own
 *    entries is forwarded on it without a query.
 *  - S-CSCF failure (5.3.1.3): when the chosen S-CSCF answers 3xx or
 *    480, or does not answer (408, 503 from the transaction layer), the
 *    caller calls icscf_retry(): for a REGISTER, or a request whose
 *    S-CSCF was selected by capabilities, another S-CSCF is chosen (a
 *    REGISTER that was sent to the HSS's Server-Name asks again with
 *    REGISTRATION_AND_CAPABILITIES), at most conf.attempts in all.  A
 *    401 or 403 from the S-CSCF is its answer to the user (the
 *    challenge, a refusal) and goes back unchanged: no retry.
 *
 * CANCEL and ACK are hop-by-hop (the caller's transaction layer):
 * icscf_request() refuses them with ENOTSUP.
 * See docs/internals/pcscf-icscf.md.
 */
#ifndef IMS_CSCF_ICSCF_H
#define IMS_CSCF_ICSCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "net/sa.h"

struct dia_node;
struct icscf;
struct icscf_tx;
struct sip_msg;

#define ICSCF_URI_MAX      256
#define ICSCF_SCSCF_MAX    16
#define ICSCF_ATTEMPTS_MAX 8

/* A configured S-CSCF and the capabilities it has (TS 29.228 6.7: the
 * numbers the operator gives the HSS's Server-Capabilities meaning). */
struct icscf_scscf {
	const char *uri;
	const uint32_t *caps;
	size_t caps_n;
};

struct icscf_conf {
	const char *uri; /* ours: our own Route entries are removed */
	const struct icscf_scscf *scscf;
	size_t scscf_n;
	const struct sa *trusted; /* REGISTER only from these (port 0: any);
				     none: from anyone */
	size_t trusted_n;
	const char *home_network; /* Visited-Network-Identifier when the
				     REGISTER has no P-Visited-Network-ID;
				     NULL: the To domain */
	const char *dest_realm;   /* Cx Destination-Realm; NULL: the node's */
	uint32_t cx_timeout_ms;   /* 0: the node's */
	unsigned attempts;        /* S-CSCFs per request (default 3) */
};

enum icscf_act {
	ICSCF_REPLY = 1,
	ICSCF_FORWARD,
};

/* A decision, valid during the handler only (mem_ref msg to keep it). */
struct icscf_out {
	enum icscf_act act;
	uint16_t scode; /* REPLY */
	const char *reason;
	struct sip_msg *msg; /* FORWARD: the request to send on */
	const char *scscf;   /* FORWARD: the S-CSCF, "" when on a Route */
};

typedef void(icscf_out_h)(const struct icscf_out *out, void *arg);

/* The node makes the Cx requests (it follows an SLF's redirects). */
int icscf_alloc(struct icscf **icp, struct dia_node *node,
		const struct icscf_conf *conf) IMS_MUST_CHECK;

/* Handle a request.  *txp is the caller's handle: h is called once,
 * later (never from inside this call), and once more after each
 * accepted icscf_retry(); releasing *txp (mem_deref) cancels, h is not
 * called after that.
 * @return 0, EINVAL, ENOTSUP (CANCEL, ACK), ENOMEM */
int icscf_request(struct icscf_tx **txp, struct icscf *ic,
		  const struct sip_msg *req, icscf_out_h *h,
		  void *arg) IMS_MUST_CHECK;

/* The chosen S-CSCF answered scode (408/503 for no answer / not
 * reachable).  0: h will be called again with a new decision; EPERM: no
 * reselection applies (send the S-CSCF's answer on); EALREADY: a
 * decision is still pending. */
int icscf_retry(struct icscf_tx *tx, uint16_t scode) IMS_MUST_CHECK;

struct icscf_stats {
	uint64_t uar, lir, selected, retried, refused;
};
void icscf_stats(const struct icscf *ic, struct icscf_stats *st);

#endif
