/**
 * @file ctrans.h  SIP client transactions (RFC 3261 17.1, RFC 6026).
 *
 * A client transaction sends one request and delivers its responses to the
 * transaction user (TU).  It retransmits over unreliable transports, times
 * out, absorbs response retransmissions, generates the ACK for a non-2xx
 * final response to INVITE, and builds and sends the CANCEL for an INVITE.
 *
 *   INVITE:     Calling --1xx--> Proceeding --300-699--> Completed (ACK, D)
 *               Calling/Proceeding --2xx--> Accepted (M)   (RFC 6026)
 *               Calling: Timer A retransmits, Timer B times out
 *   non-INVITE: Trying --1xx--> Proceeding --200-699--> Completed (K)
 *               Timer E retransmits, Timer F times out
 *
 * Ownership: the transaction lives in sip->ctrans, which holds its only
 * reference.  The TU gets a small handle (struct sip_ctrans); the handle
 * and the transaction point at each other weakly.  Dropping the handle
 * (mem_deref) at any time is safe: no callback fires afterwards, and the
 * transaction finishes on its own.  An INVITE that has no final response
 * yet is cancelled (RFC 3261 9.1) when its handle is dropped; a
 * non-INVITE runs on until its final response or Timer F, absorbing the
 * answer.  See docs/internals/transactions.md.
 */
#ifndef IMS_SIP_CTRANS_H
#define IMS_SIP_CTRANS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/transp.h"

struct sip;
struct sip_msg;
struct sip_conn;
struct sip_ctrans;

/**
 * A response, or the end of the transaction without one.
 *
 * @param err  0 with a response in msg; 0 with msg NULL when an INVITE
 *             transaction leaves Accepted (Timer M, RFC 6026: no more 2xx
 *             will come, the TU may drop its handle); ETIMEDOUT (Timer B
 *             or F fired, or 64*T1 passed after a CANCEL without a final
 *             response, RFC 3261 9.1); or the transport's error (17.1.4),
 *             msg NULL
 * @param msg  the response (provisional, final, or for an INVITE every
 *             2xx while Accepted); valid during the call only
 */
typedef void(sip_ctrans_resp_h)(int err, struct sip_msg *msg, void *arg);

struct sip_ctrans_opts {
	const void *req; /* the encoded request (copied) */
	size_t len;
	struct pl met;    /* its method, PL_INIT: from the request line */
	struct pl branch; /* its top Via branch, PL_INIT: from the Via */
	/* With both met and branch set the request is not parsed again: the
	 * caller, which built it, vouches that they are its method and its
	 * top Via branch (only the cookie and "not ACK" are checked). */
	enum sip_transp tp; /* where the request goes (RFC 3263) */
	struct sa dst;
	struct sip_conn *conn; /* optional: this connection (referenced) */
};

/* Create the transaction and send the request.  *ctp may be NULL when the
 * caller wants no handle (fire and forget; resph still runs). */
int sip_ctrans_alloc(struct sip_ctrans **ctp, struct sip *sip,
		     const struct sip_ctrans_opts *opts,
		     sip_ctrans_resp_h *resph, void *arg) IMS_MUST_CHECK;

/* Cancel an INVITE (RFC 3261 9.1): sends the CANCEL now if a provisional
 * response came, or on the first one; does nothing once a final came. */
int sip_ctrans_cancel(struct sip_ctrans *ct) IMS_MUST_CHECK;

/* Entry from sip_recv(): true when a client transaction took the
 * response (RFC 3261 17.1.3). */
bool sip_ctrans_recv(struct sip *sip, struct sip_msg *msg);

/* The transport could not deliver a request we sent (RFC 3261 17.1.4):
 * end the client transaction with this branch and method, telling its TU
 * err.  Called by the stack for connections that failed asynchronously. */
void sip_ctrans_transport_error(struct sip *sip, const struct pl *branch,
				const struct pl *met, int err);

/* For the TU and tests: is the transaction still running? */
bool sip_ctrans_active(const struct sip_ctrans *ct);

/* Drop every client transaction without callbacks (from
 * sip_trans_close_all(); handles stay valid and become inactive). */
void sip_ctrans_close_all(struct sip *sip);

/* The key of an entry of sip->ctrans (the table grows). */
uint32_t sip_ctrans_hash_key(const void *data);

#endif
