/**
 * @file msg.h  SIP messages: one-pass indexing, typed decoding on first use.
 *
 * sip_msg_decode() walks the message once: it splits the start line and
 * records every header line (name and value as pl views into the bytes) in
 * a fixed array, identifying well-known names (long and compact forms, any
 * case) with a switch on length and first letter.  Nothing is allocated per
 * header.  The typed views (Via, From, To, CSeq, ...) are decoded when first
 * asked for and cached in the message (Kamailio's `parsed`).
 *
 * A header line may carry several comma-separated values (Via, Contact,
 * Route, ...), and a header name may appear on several lines: the
 * value iterator sip_msg_hdr_next() hides both.
 *
 * The message does not own its bytes unless msg->mb is set or it is a copy
 * made by sip_msg_dup() (its bytes follow it in one block): whoever keeps
 * the message keeps the buffer.
 */
#ifndef IMS_SIP_MSG_H
#define IMS_SIP_MSG_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/addr.h"
#include "sip/uri.h"
#include "sip/via.h"

struct buf;
struct sip_conn;

#define SIP_HDR_MAX 128   /* header lines in one message */
#define SIP_MSG_MAX 65535 /* bytes in one message, any transport */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ACCEPT_CONTACT,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_DATE,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_P_ASSOCIATED_URI,
	SIP_HDR_P_CHARGING_VECTOR,
	SIP_HDR_P_PREFERRED_IDENTITY,
	SIP_HDR_P_SERVED_USER,
	SIP_HDR_P_VISITED_NETWORK_ID,
	SIP_HDR_PATH,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_SERVICE_ROUTE,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_TO,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_NUM
};

enum sip_method {
	SIP_METHOD_OTHER = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_INFO,
	SIP_METHOD_UPDATE,
	SIP_METHOD_PRACK,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_REFER,
};

struct sip_hdr {
	struct pl name;
	struct pl val; /* trimmed; folded continuation lines stay inside */
	enum sip_hdr_id id;
	uint16_t next; /* index+1 of the next line with the same id, 0: none */
};

struct sip_cseq {
	struct pl met;
	enum sip_method meth;
	uint32_t num;
};

/* Typed views that have been decoded and cached (msg->parsed bits). */
enum {
	SIP_PARSED_VIA = 1 << 0,
	SIP_PARSED_FROM = 1 << 1,
	SIP_PARSED_TO = 1 << 2,
	SIP_PARSED_CSEQ = 1 << 3,
	SIP_PARSED_RURI = 1 << 4,
	SIP_PARSED_MAXFWD = 1 << 5,
	SIP_PARSED_EXPIRES = 1 << 6,
	SIP_PARSED_CLEN = 1 << 7,
};

struct sip_msg {
	/* the bytes: the whole message (start line, headers, body) */
	const char *p;
	size_t len;
	struct buf *mb; /* owning reference when set */

	/* start line */
	bool req;
	struct pl met;        /* request: method token */
	enum sip_method meth; /* request: known method, or OTHER */
	struct pl ruri;       /* request: Request-URI text */
	struct pl ver;        /* "SIP/2.0" */
	uint16_t scode;       /* response: status code */
	struct pl reason;     /* response: reason phrase, may be empty */
	struct pl start;      /* the start line without CRLF */

	/* headers */
	struct sip_hdr hdrv[SIP_HDR_MAX];
	uint16_t hdrc;
	uint16_t first[SIP_HDR_NUM]; /* index+1 of the first line, 0: none */
	uint16_t last[SIP_HDR_NUM];
	uint8_t nlines[SIP_HDR_NUM]; /* header lines seen per id (saturates) */
	struct pl hdrs;              /* all header lines, for copying */

	struct pl body;

	/* typed views, valid when the matching SIP_PARSED_ bit is set */
	unsigned parsed;
	struct sip_via via; /* top Via */
	struct sip_addr from;
	struct sip_addr to;
	struct sip_cseq cseq;
	struct sip_uri uri; /* Request-URI */
	uint32_t maxfwd;
	uint32_t expires;
	uint32_t clen;

	/* where it came from (filled by the transport layer) */
	struct sa src;
	struct sa dst;
	int tp;                /* enum sip_transp */
	struct sip_conn *conn; /* stream transports: a counted reference */
	uint64_t rx_ms;
	bool once; /* delivered exactly once (sip_rx.once): reliable */
};

/* Decoding outcome for the caller that must answer a malformed request. */
struct sip_msg_err {
	uint16_t scode;     /* 400, 505, 413, ... or 0 to drop */
	const char *reason; /* the reason phrase that names the problem */
};

/* Index a message held in [p, p+len).  With `dgram` the length is the
 * datagram and trailing octets after Content-Length are ignored (RFC 4475
 * 3.1.1.8); on a stream the caller frames first (sip_msg_frame).
 * Returns 0 or EBADMSG, with *errp telling what to answer. */
int sip_msg_decode(struct sip_msg *msg, const char *p, size_t len, bool dgram,
		   struct sip_msg_err *errp) IMS_MUST_CHECK;

/* Allocate a counted message and decode it from a counted buffer it keeps. */
int sip_msg_alloc(struct sip_msg **msgp, struct buf *mb, bool dgram,
		  struct sip_msg_err *errp) IMS_MUST_CHECK;

/* A counted copy of msg that owns its bytes (and a reference to its
 * connection), for handlers that keep a message past their return. */
int sip_msg_dup(struct sip_msg **dupp,
		const struct sip_msg *msg) IMS_MUST_CHECK;

/* Stream framing: given the bytes received so far, find the length of the
 * first complete message.  ENODATA: need more; EBADMSG: framing lost (the
 * connection must be closed); EMSGSIZE: over the limit. Leading CRLFs
 * (keep-alives, RFC 5626 4.4.1) are reported in *skip. */
int sip_msg_frame(const char *p, size_t len, size_t *msglen,
		  size_t *skip) IMS_MUST_CHECK;

/* Validate what RFC 3261 8.2 / 16.3 require of every request (and Via,
 * From, To, Call-ID, CSeq of a response): mandatory headers present and
 * single, CSeq method matching, scalars in range.  Fills *errp. */
int sip_msg_validate(struct sip_msg *msg, struct sip_msg_err *errp);

/* The first line of a header, then the next line of the same header
 * (NULL: none).  Inline: a known header is one index lookup, and every
 * decoder and builder walks these chains; an unknown one (SIP_HDR_OTHER,
 * matched by name) is looked for in msg.c. */
const struct sip_hdr *sip_msg_hdr_next_other(const struct sip_msg *msg,
					     const struct sip_hdr *h);

static inline const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
						enum sip_hdr_id id)
{
	uint16_t i = msg->first[id];

	return i ? &msg->hdrv[i - 1] : NULL;
}

static inline const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
						     const struct sip_hdr *h)
{
	if (h->id == SIP_HDR_OTHER)
		return sip_msg_hdr_next_other(msg, h);
	return h->next ? &msg->hdrv[h->next - 1] : NULL;
}
/* Find an unknown header by name (case-insensitive); NULL when absent. */
const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg,
				       const char *name);

/* Iterate comma-separated values of every line with this id:
 *   struct sip_hdr_iter it = {0}; struct pl v;
 *   while (sip_msg_hdr_value_next(msg, SIP_HDR_ROUTE, &it, &v)) ...
 * Commas inside quotes and <> do not split. */
struct sip_hdr_iter {
	const struct sip_hdr *h;
	struct pl rest;
	bool started;
};
bool sip_msg_hdr_value_next(const struct sip_msg *msg, enum sip_hdr_id id,
			    struct sip_hdr_iter *it, struct pl *val);
/* Split the next comma-separated value off `rest` (LWS trimmed). */
bool sip_value_split(struct pl *rest, struct pl *val);

/* Typed accessors; the first call decodes (sip_msg_decode_*()), later
 * calls return the cache, inline: the stack, the transaction layer, the
 * builder and the handlers each ask for the same views of a message.
 * EBADMSG when malformed, ENOENT when absent. */
int sip_msg_decode_via(struct sip_msg *msg);
int sip_msg_decode_from(struct sip_msg *msg);
int sip_msg_decode_to(struct sip_msg *msg);
int sip_msg_decode_cseq(struct sip_msg *msg);
int sip_msg_decode_ruri(struct sip_msg *msg);

#define SIP_MSG_VIEW(msg, bit, dec, view, out)                     \
	do {                                                       \
		int err_ = ((msg)->parsed & (bit)) ? 0 : dec(msg); \
		if (!err_)                                         \
			*(out) = (view);                           \
		return err_;                                       \
	} while (0)

static inline int sip_msg_via(struct sip_msg *msg, const struct sip_via **viap)
{
	SIP_MSG_VIEW(msg, SIP_PARSED_VIA, sip_msg_decode_via, &msg->via, viap);
}

static inline int sip_msg_from(struct sip_msg *msg, const struct sip_addr **ap)
{
	SIP_MSG_VIEW(msg, SIP_PARSED_FROM, sip_msg_decode_from, &msg->from, ap);
}

static inline int sip_msg_to(struct sip_msg *msg, const struct sip_addr **ap)
{
	SIP_MSG_VIEW(msg, SIP_PARSED_TO, sip_msg_decode_to, &msg->to, ap);
}

static inline int sip_msg_cseq(struct sip_msg *msg, const struct sip_cseq **cp)
{
	SIP_MSG_VIEW(msg, SIP_PARSED_CSEQ, sip_msg_decode_cseq, &msg->cseq, cp);
}

static inline int sip_msg_ruri(struct sip_msg *msg, const struct sip_uri **up)
{
	SIP_MSG_VIEW(msg, SIP_PARSED_RURI, sip_msg_decode_ruri, &msg->uri, up);
}

#undef SIP_MSG_VIEW

static inline int sip_msg_callid(const struct sip_msg *msg, struct pl *cid)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CALL_ID);

	if (!h)
		return ENOENT;
	*cid = h->val;
	return 0;
}

int sip_msg_maxfwd(struct sip_msg *msg, uint32_t *mf);
int sip_msg_expires(struct sip_msg *msg, uint32_t *exp);
int sip_msg_clen(struct sip_msg *msg, uint32_t *clen);

/* Option tags of Require/Proxy-Require/Supported: true if `tag` listed. */
bool sip_msg_has_tag(const struct sip_msg *msg, enum sip_hdr_id id,
		     const char *tag);

enum sip_method sip_method_id(const struct pl *met);
const char *sip_method_name(enum sip_method m);
const char *sip_hdr_name(enum sip_hdr_id id);
enum sip_hdr_id sip_hdr_id_of(const struct pl *name);
const char *sip_reason(uint16_t scode); /* default reason phrase */

#endif
