/**
 * @file msg.h  Diameter messages (RFC 6733 3): decode, encode, stream
 *              framing, answers and error answers.
 *
 * Decoding is zero-copy: AVP values are pl views into the received bytes,
 * which the message keeps by a counted reference (dia_msg_decode_buf) or
 * copies once into its own block (dia_msg_decode).  Two passes over the
 * bytes: the first checks every length (message, AVPs, Grouped members,
 * nesting depth) and counts the AVPs, the second fills one array of that
 * many AVPs, so a message costs two allocations whatever its size, and
 * no malformed input ever produces a half-built message.
 *
 * Whether an AVP is Grouped (and so decoded into members) comes from the
 * dictionary; an unknown AVP stays opaque, as RFC 6733 6.1.8 wants relays
 * to forward it untouched.
 *
 * Decoding checks only what framing needs (structure); the protocol rules
 * (flags, required AVPs, values) are checked by dia_msg_validate() in
 * dict.h, which says which Result-Code to answer with.
 *
 * Stream framing (dia_msg_frame) needs only the first four octets: it is
 * resumable by nature, callers just call it again with more bytes.
 */
#ifndef IMS_DIAMETER_MSG_H
#define IMS_DIAMETER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "diameter/avp.h"

struct buf;

/* Largest message accepted or sent, in bytes.  A Cx SAA with a large
 * user profile is the biggest message entims handles; build with
 * -DDIA_MSG_MAX=... to change it (must stay below 2^24). */
#ifndef DIA_MSG_MAX
#define DIA_MSG_MAX 65535u
#endif

#define DIA_HDR_LEN  20u /* RFC 6733 3 */
#define DIA_VERSION  1u
#define DIA_FLAG_R   0x80u /* Request */
#define DIA_FLAG_P   0x40u /* Proxiable */
#define DIA_FLAG_E   0x20u /* Error */
#define DIA_FLAG_T   0x10u /* potentially reTransmitted */
#define DIA_FLAG_RSV 0x0fu /* reserved, must be zero */

struct dia_msg {
	uint8_t version;
	uint8_t flags;
	uint32_t code; /* 24 bits */
	uint32_t app;
	uint32_t hbh;
	uint32_t e2e;
	struct dia_avp root; /* Grouped pseudo-AVP: the message's AVPs */

	/* decoded messages */
	struct buf *mb;       /* the received bytes, when kept by reference */
	struct pl raw;        /* the received message */
	struct dia_avp *avpv; /* every decoded AVP, one block */
	size_t avpc;
};

/* Why a message was refused and what to answer (decode and validation).
 * The views point into the input bytes (decode) or the message
 * (validation): they live as long as those. */
struct dia_err {
	uint32_t rcode;     /* the Result-Code to answer with */
	const char *reason; /* static text, for Error-Message and logs */

	/* the Failed-AVP (RFC 6733 7.5), when `failed` is set: a copy of
	 * `avp` when it decoded, else the header fields below with a zero
	 * payload of the minimum length of the AVP's type (RFC 6733 7.1.5) */
	bool failed;
	const struct dia_avp *avp;
	uint32_t avp_code;
	uint32_t avp_vendor;
	uint8_t avp_flags;

	/* decode: the header of a refused message, to answer it */
	bool hdr;
	uint8_t flags;
	uint32_t code;
	uint32_t app;
	uint32_t hbh;
	uint32_t e2e;
	struct pl session_id; /* when the first AVP was a sound Session-Id */
};

/* A new empty message (ids 0: the peer layer sets hbh and e2e). */
int dia_msg_alloc(struct dia_msg **msgp, uint32_t code, uint32_t app,
		  uint8_t flags) IMS_MUST_CHECK;

/* Decode exactly one message from [p, p+len), copying the bytes.
 * EBADMSG: malformed (errp says what to answer); EMSGSIZE: over
 * DIA_MSG_MAX. */
int dia_msg_decode(struct dia_msg **msgp, const uint8_t *p, size_t len,
		   struct dia_err *errp) IMS_MUST_CHECK;
/* Decode the bytes between mb->pos and mb->end without copying; the
 * message keeps a reference to mb, whose bytes must then not change. */
int dia_msg_decode_buf(struct dia_msg **msgp, struct buf *mb,
		       struct dia_err *errp) IMS_MUST_CHECK;

/* Append the wire form at mb->pos.  EMSGSIZE past DIA_MSG_MAX or the
 * buffer's ceiling, EINVAL for Grouped AVPs nested past DIA_DEPTH_MAX. */
int dia_msg_encode(struct buf *mb, const struct dia_msg *msg) IMS_MUST_CHECK;
/* Length on the wire. */
size_t dia_msg_wire_len(const struct dia_msg *msg);

/* Stream framing: the length of the first message in the bytes received
 * so far.  0: *msglen bytes hold a whole message; ENODATA: need more
 * (*msglen is set once the length is known, else 0); EBADMSG: not a
 * Diameter message (version, length below the header or not a multiple
 * of 4): the connection must be closed; EMSGSIZE: over DIA_MSG_MAX. */
int dia_msg_frame(const uint8_t *p, size_t len, size_t *msglen) IMS_MUST_CHECK;

/* An answer to req (RFC 6733 6.2): same code, application, Hop-by-Hop and
 * End-to-End ids, P bit copied, R and T clear; Session-Id copied first and
 * Proxy-Info AVPs copied in order.  Origin-Host/Realm are the caller's. */
int dia_msg_answer_alloc(struct dia_msg **ansp,
			 const struct dia_msg *req) IMS_MUST_CHECK;
/* The same for a request that did not decode, from err's header fields;
 * ENOENT when the header itself was not readable or was no request. */
int dia_msg_answer_err_alloc(struct dia_msg **ansp,
			     const struct dia_err *err) IMS_MUST_CHECK;
/* Result-Code (and E bit for 3xxx, RFC 6733 7.1.3), Error-Message and
 * Failed-AVP from err into an answer. */
int dia_msg_add_error(struct dia_msg *ans,
		      const struct dia_err *err) IMS_MUST_CHECK;

/* The outcome of an answer: Result-Code (vendor 0) or the
 * Experimental-Result-Code and its Vendor-Id.  ENOENT when neither. */
int dia_msg_result(const struct dia_msg *ans, uint32_t *rcode,
		   uint32_t *vendor) IMS_MUST_CHECK;

static inline bool dia_msg_is_request(const struct dia_msg *msg)
{
	return (msg->flags & DIA_FLAG_R) != 0;
}

#endif
