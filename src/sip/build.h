/**
 * @file build.h  Building SIP responses and requests.
 *
 * Responses copy Via (every value, in order), From, To (adding our tag when
 * the request had none and the status is above 100), Call-ID, CSeq and,
 * for dialog-creating requests, Record-Route, as RFC 3261 8.2.6 and 12.1.1
 * say.  Content-Length is always written by the builder, never by callers.
 */
#ifndef IMS_SIP_BUILD_H
#define IMS_SIP_BUILD_H

#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct buf;
struct sip;
struct sip_msg;

struct sip_reply_opts {
	const char *reason; /* NULL: the default phrase for the code */
	struct pl totag;    /* tag to add to To when it has none */
	const char *hdrs;   /* extra header lines, each ending in CRLF */
	const char *ctype;  /* Content-Type of body */
	struct pl body;
};

/* Append the response to mb. */
int sip_reply_build(struct buf *mb, struct sip_msg *req, uint16_t scode,
		    const struct sip_reply_opts *opts) IMS_MUST_CHECK;

/* Build and send a stateless response to where the request came from.
 * A failure is counted in the stack's stats and may be ignored: there is
 * nothing else to do with a response that could not be sent. */
int sip_reply(struct sip *sip, struct sip_msg *req, uint16_t scode,
	      const struct sip_reply_opts *opts);

/* Shorthand: a response with only a reason phrase. */
int sip_replyf(struct sip *sip, struct sip_msg *req, uint16_t scode,
	       const char *reason);

/* Every Via line of req, the top value with received/rport added as the
 * server transport does (RFC 3261 18.2.1, RFC 3581 4). */
int sip_build_vias(struct buf *mb, struct sip_msg *req) IMS_MUST_CHECK;

/* A to-tag derived from the request (stable across retransmissions, so a
 * stateless 4xx to a retransmitted request carries the same tag). */
void sip_totag_make(struct sip_msg *req, char *out, size_t size);

#endif
