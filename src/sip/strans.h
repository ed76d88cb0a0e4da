/**
 * @file strans.h  SIP server transactions (RFC 3261 17.2, RFC 6026).
 *
 * A server transaction receives one request, absorbs its retransmissions
 * (answering them with the last response), sends the TU's responses and
 * retransmits a final response to INVITE until the ACK comes.
 *
 *   INVITE:     Proceeding --300-699--> Completed (G, H) --ACK--> Confirmed
 *               (I); Proceeding --2xx--> Accepted (L)  (RFC 6026)
 *               100 Trying is sent after 200 ms without a TU response.
 *   non-INVITE: Trying --1xx--> Proceeding --final--> Completed (J)
 *               (over UDP with an RFC 3261 key, Completed is an entry of
 *               the retransmission cache, rcache.h, not a transaction)
 *
 * Matching (17.2.3): a request whose top Via branch has the magic cookie
 * matches on branch, sent-by and method (an ACK matches its INVITE; a
 * CANCEL is its own transaction, and is also matched to the INVITE it
 * cancels, 9.2).  Other requests (RFC 2543 peers) match on Request-URI,
 * To tag, From tag, Call-ID, CSeq and top Via.
 *
 * Ownership: the transaction lives in sip->strans, which holds its only
 * reference.  The TU gets a handle (struct sip_strans) that points weakly
 * at it; once the final response is sent the transaction keeps only its
 * matching key and the response bytes.  Dropping the handle before a
 * final response abandons the request (the transaction ends silently);
 * dropping it afterwards just ends the callbacks.
 */
#ifndef IMS_SIP_STRANS_H
#define IMS_SIP_STRANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct sip;
struct sip_msg;
struct sip_reply_opts;
struct sip_strans;

/**
 * Events of a server transaction for its TU.
 *
 * @param err  0: a CANCEL matched this INVITE before its final response
 *             (msg is the CANCEL, already answered 200, RFC 3261 9.2; the
 *             TU answers the INVITE with 487 or a proxy cancels its
 *             branches); ETIMEDOUT: Timer H fired, no ACK came for the
 *             non-2xx final response (17.2.1); another errno: the
 *             transport failed on a retransmission (17.2.4).  For any
 *             err but 0 the transaction has ended and msg is NULL.
 */
typedef void(sip_strans_cancel_h)(int err, struct sip_msg *msg, void *arg);

/* Create the server transaction for a request that sip_strans_recv() did
 * not absorb.  req must be a counted message (sip_msg_alloc): it is kept
 * until the final response.  EALREADY if it already has one. */
int sip_strans_alloc(struct sip_strans **stp, struct sip *sip,
		     struct sip_msg *req, sip_strans_cancel_h *cancelh,
		     void *arg) IMS_MUST_CHECK;

/* The same for a non-INVITE request that the transaction does not keep
 * (req is read only during the call): answer with sip_strans_send_raw(). */
int sip_strans_alloc_bare(struct sip_strans **stp, struct sip *sip,
			  struct sip_msg *req) IMS_MUST_CHECK;

/* Build a response with sip_reply_build() and send it (before the final
 * response only: the request is gone afterwards). */
int sip_strans_reply(struct sip_strans *st, uint16_t scode,
		     const struct sip_reply_opts *opts) IMS_MUST_CHECK;

/* Send a response built by the caller (a proxy forwarding one, 16.7).
 * In Accepted, further 2xx responses may be sent (RFC 6026 7.1). */
int sip_strans_send_raw(struct sip_strans *st, uint16_t scode, const void *p,
			size_t len) IMS_MUST_CHECK;

/* Send the last response again (a UAS retransmitting its 2xx, 13.3.1.4). */
int sip_strans_retransmit(struct sip_strans *st) IMS_MUST_CHECK;

/* The request, until the final response; NULL afterwards. */
struct sip_msg *sip_strans_req(const struct sip_strans *st);

/* Is the transaction still running? */
bool sip_strans_active(const struct sip_strans *st);

/* Entry from sip_recv(): true when the request was absorbed (a
 * retransmission, an ACK for a non-2xx final response) or was a CANCEL
 * matching a server transaction (answered here). */
/* Start loading what sip_strans_recv() looks up for a parsed request
 * (from sip_recv(), before the request is validated). */
void sip_strans_prefetch(struct sip *sip, struct sip_msg *msg);
bool sip_strans_recv(struct sip *sip, struct sip_msg *msg);

/* Drop every client and server transaction, without callbacks
 * (sip_close()).  Handles stay valid and become inactive. */
void sip_trans_close_all(struct sip *sip);

/* The key of an entry of sip->strans (the table grows). */
uint32_t sip_strans_hash_key(const void *data);

#endif
