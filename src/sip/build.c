/**
 * @file build.c  Response building (RFC 3261 8.2.6, 12.1.1, 18.2.1).
 *
 * A response is written in one pass into a buffer: status line, the Via
 * lines of the request (the top one with received/rport filled in as the
 * server transport must, RFC 3261 18.2.1 and RFC 3581 4), From, To with our
 * tag, Call-ID, CSeq, Record-Route for dialog-creating requests, the
 * caller's extra lines, and Content-Length.  Header values are copied as
 * they arrived, folding included: folded values are legal on the wire and
 * rewriting them would cost a copy for nothing.
 */
#include "sip/build.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/uri.h"

/*
 * The response is written through a cursor into room reserved once: every
 * length is known before the first octet is written (the request's lines,
 * the reason, the caller's lines and body), so there is one size check and
 * one growth at most instead of one per piece, and no format parsing
 * (buf_reserve, buf_put in core/buf.h).
 */


/* Make room for n more octets at mb->pos: the whole response at once. */
static int reserve(struct buf *mb, size_t n)
{
	return buf_reserve(mb, n) ? ENOMEM : 0;
}


static void commit(struct buf *mb, const char *w)
{
	mb->pos = (size_t)((const uint8_t *)w - mb->b);
	if (mb->pos > mb->end)
		mb->end = mb->pos;
}


/* Every line of a header, written as "Name: value" CRLF: its length. */
static size_t lines_len(const struct sip_msg *msg, enum sip_hdr_id id,
			size_t namelen)
{
	const struct sip_hdr *h;
	size_t n = 0;

	for (h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h))
		n += namelen + 2 + h->val.l + 2;
	return n;
}


/* The lines themselves; name_sep is the name with ": " (a literal, so
 * that its copy is a store or two). */
static inline char *put_lines(char *w, const struct sip_msg *msg,
			      enum sip_hdr_id id, const char *name_sep,
			      size_t len)
{
	const struct sip_hdr *h;

	for (h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h)) {
		w = buf_put(w, name_sep, len);
		w = buf_put(w, h->val.p, h->val.l);
		w = BUF_PUT_LIT(w, "\r\n");
	}
	return w;
}


#define LINES_LEN(msg, id, name) lines_len(msg, id, sizeof(name) - 1)
#define PUT_LINES(w, msg, id, name) \
	put_lines(w, msg, id, name ": ", sizeof(name) + 1)


/*
 * The top Via value with received= and rport= as the server transport adds
 * them (RFC 3261 18.2.1: received when sent-by differs from the source
 * address; RFC 3581 4: rport filled with the source port when present
 * without a value).  Only the first Via value of the first line changes;
 * the rest of that line (other values) is copied unchanged.  A proxy
 * forwards the request with the same Via lines (RFC 3261 16.6 step 8 keeps
 * them below its own).  What changes is decided first (vias_plan()), so
 * that the length is known before writing.
 */
struct via_plan {
	const struct sip_hdr *h;   /* the first Via line; NULL: none */
	const struct sip_via *via; /* its top value; NULL: copy as is */
	const char *at;            /* where the rport value goes, or NULL */
	bool has_eq;               /* "rport=" already there */
	bool fill_rport;
	bool add_recv; /* write ";received=" host */
	size_t hostl;
	char host[SA_STRLEN]; /* not cleared: valid for hostl octets */
};


/* RFC 3261 18.2.1: the sent-by host is the source address when it is an
 * IP address equal to it (compared as addresses, so that any spelling of
 * the same address counts); a domain name never is.  The Via decoder kept
 * an IPv4 host as its address. */
static bool host_is_src(const struct sip_via *via, const struct sa *src)
{
	const struct pl *host = &via->host;
	uint8_t a[16];

	switch (via->host_type) {
	case SIP_HOST_IPV4:
		return sa_af(src) == AF_INET &&
		       !memcmp(via->ip4, &src->u.in.sin_addr, 4);
	case SIP_HOST_IPV6:
		return sa_af(src) == AF_INET6 && host->l > 2 &&
		       !sip_ipv6_decode(host->p + 1, host->l - 2, a) &&
		       !memcmp(a, &src->u.in6.sin6_addr, 16);
	default:
		return false;
	}
}


static void vias_plan(struct via_plan *vp, struct sip_msg *req)
{
	const struct sip_via *via;

	memset(vp, 0, offsetof(struct via_plan, host));
	vp->h = sip_msg_hdr(req, SIP_HDR_VIA);
	if (!vp->h || sip_msg_via(req, &via) || !sa_isset(&req->src))
		return;
	vp->add_recv = !via->received.l && !host_is_src(via, &req->src);
	vp->fill_rport = via->has_rport && !via->rport.l;
	if (!vp->add_recv && !vp->fill_rport)
		return;
	vp->via = via;
	if (vp->fill_rport) {
		/* RFC 3581 4: fill the bare rport with the source port.  The
		 * parameter is found by the parameter grammar, so LWS around
		 * its ';' (SEMI = SWS ";" SWS) or a parameter merely starting
		 * with "rport" does not mislead us into a second rport */
		struct pl prest = via->params, pn, pv;

		while (sip_param_next(&prest, &pn, &pv)) {
			if (pl_eq_str_ci(&pn, "rport") && !pv.l) {
				vp->has_eq = pv.p != NULL; /* "rport=" */
				vp->at = vp->has_eq ? pv.p : pn.p + pn.l;
				break;
			}
		}
		if (vp->at &&
		    (vp->at < via->val.p || vp->at > via->val.p + via->val.l))
			vp->at = NULL;
	}
	/* RFC 3581 4: received always with rport */
	vp->add_recv = !via->received.l;
	if (vp->add_recv)
		vp->hostl =
			(size_t)sa_ntop(&req->src, vp->host, sizeof(vp->host));
}


static size_t vias_len(const struct via_plan *vp, const struct sip_msg *req)
{
	size_t n;

	if (!vp->h)
		return 0;
	n = LINES_LEN(req, SIP_HDR_VIA, "Via");
	if (vp->via) /* ";rport=" 65535, ";received=" host */
		n += 7 + 5 + 10 + vp->hostl;
	return n;
}


static char *put_vias(char *w, const struct via_plan *vp, struct sip_msg *req,
		      uint16_t port)
{
	const struct sip_via *via = vp->via;
	const struct sip_hdr *h;
	const char *vend;

	if (!via)
		return PUT_LINES(w, req, SIP_HDR_VIA, "Via");

	vend = via->val.p + via->val.l;
	w = BUF_PUT_LIT(w, "Via: ");
	if (vp->fill_rport && !vp->at) {
		w = buf_put(w, via->val.p, via->val.l);
		w = BUF_PUT_LIT(w, ";rport=");
		w = buf_put_u32(w, port);
	} else if (vp->fill_rport) {
		w = buf_put(w, via->val.p, (size_t)(vp->at - via->val.p));
		if (!vp->has_eq)
			w = BUF_PUT_LIT(w, "=");
		w = buf_put_u32(w, port);
		w = buf_put(w, vp->at, (size_t)(vend - vp->at));
	} else {
		w = buf_put(w, via->val.p, via->val.l);
	}
	if (vp->add_recv) {
		w = BUF_PUT_LIT(w, ";received=");
		w = buf_put(w, vp->host, vp->hostl);
	}
	/* the rest of the line: the values after the top one */
	w = buf_put(w, vend, (size_t)(vp->h->val.p + vp->h->val.l - vend));
	w = BUF_PUT_LIT(w, "\r\n");

	for (h = sip_msg_hdr_next(req, vp->h); h;
	     h = sip_msg_hdr_next(req, h)) {
		w = BUF_PUT_LIT(w, "Via: ");
		w = buf_put(w, h->val.p, h->val.l);
		w = BUF_PUT_LIT(w, "\r\n");
	}
	return w;
}


/**
 * Write every Via line of req as a response or a forwarded request
 * carries it (see struct via_plan).
 *
 * @return 0 or ENOMEM when mb cannot hold them
 */
int sip_build_vias(struct buf *mb, struct sip_msg *req)
{
	struct via_plan vp;

	vias_plan(&vp, req);
	if (reserve(mb, vias_len(&vp, req)))
		return ENOMEM;
	commit(mb,
	       put_vias((char *)mb->b + mb->pos, &vp, req, sa_port(&req->src)));
	return 0;
}


static bool creates_dialog(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER || m == SIP_METHOD_NOTIFY;
}


static inline uint64_t ld64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}


static inline uint64_t ld32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}


static inline uint64_t mix1(uint64_t h, uint64_t w)
{
	h ^= w * 0xc2b2ae3d27d4eb4full;
	return ((h << 31) | (h >> 33)) * 0x9e3779b97f4a7c15ull;
}


/* Mix n octets into h, a word at a time (the inner step of xxhash64; a
 * tail shorter than a word is read as overlapping words, as wyhash does):
 * the to-tag is made for every answered request, and a byte-at-a-time
 * hash of its three inputs cost more than the rest of the tag. */
static uint64_t tag_mix(uint64_t h, const char *p, size_t n)
{
	h ^= n * 0x9e3779b97f4a7c15ull;
	if (n >= 8) {
		const char *e = p + n;

		for (; e - p >= 8; p += 8)
			h = mix1(h, ld64(p));
		return p < e ? mix1(h, ld64(e - 8)) : h;
	}
	if (n >= 4)
		return mix1(h, ld32(p) | ld32(p + n - 4) << 32);
	if (n)
		return mix1(h, (uint64_t)(unsigned char)p[0] |
				       (uint64_t)(unsigned char)p[n / 2] << 8 |
				       (uint64_t)(unsigned char)p[n - 1] << 16);
	return h;
}


/* Spread the 8 nibbles of v into 8 octets, each a hex digit: no loop, no
 * table.  6 + n carries into bit 4 exactly when n > 9, and 'a' is 39 past
 * '0' + 10. */
static uint64_t hex8(uint32_t v)
{
	uint64_t x = v;

	x = ((x & 0xffff0000ull) << 16) | (x & 0xffffull);
	x = ((x & 0x0000ff000000ff00ull) << 8) | (x & 0x000000ff000000ffull);
	x = ((x & 0x00f000f000f000f0ull) << 4) | (x & 0x000f000f000f000full);
	return x + 0x3030303030303030ull +
	       (((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull) *
		       39;
}


/**
 * A to-tag that is the same for every retransmission of a request: a hash
 * of Call-ID, From tag and the top Via branch.  A stateless 4xx to a
 * retransmission then carries the same tag (RFC 3261 8.2.6.2 asks the tag
 * to be stable for the same request).
 */
void sip_totag_make(struct sip_msg *req, char *out, size_t size)
{
	const struct sip_addr *from;
	const struct sip_via *via;
	struct pl cid = PL_INIT;
	uint64_t h = 0x27d4eb2f165667c5ull, hi, lo;
	char hex[16];
	size_t n;

	(void)sip_msg_callid(req, &cid);
	h = tag_mix(h, cid.p, cid.l);
	if (!sip_msg_from(req, &from))
		h = tag_mix(h, from->tag.p, from->tag.l);
	if (!sip_msg_via(req, &via))
		h = tag_mix(h, via->branch.p, via->branch.l);
	h ^= h >> 29;
	h *= 0x165667b19e3779f9ull;
	h ^= h >> 32;
	if (!size)
		return;
	/* the digits in the machine's octet order: the tag only has to be
	 * a token, stable for the request */
	hi = hex8((uint32_t)(h >> 32));
	lo = hex8((uint32_t)h);
	if (size > sizeof(hex)) {
		memcpy(out, &hi, 8);
		memcpy(out + 8, &lo, 8);
		out[16] = '\0';
		return;
	}
	memcpy(hex, &hi, 8);
	memcpy(hex + 8, &lo, 8);
	n = size - 1;
	memcpy(out, hex, n);
	out[n] = '\0';
}


/**
 * Build a response to req into mb (appended at mb->pos).
 *
 * @param mb     destination buffer
 * @param req    the request
 * @param scode  100..699
 * @param opts   reason, to-tag, extra headers, body (may be NULL)
 * @return 0, EINVAL for a bad code, ENOMEM when it does not fit (nothing
 *         is written then)
 */
int sip_reply_build(struct buf *mb, struct sip_msg *req, uint16_t scode,
		    const struct sip_reply_opts *opts)
{
	static const struct sip_reply_opts none;
	const struct sip_hdr *to;
	const struct sip_addr *toa;
	struct via_plan vp;
	struct pl totag = PL_INIT;
	const char *reason;
	size_t reasonl, hdrsl = 0, ctypel = 0, need;
	char tag[24];
	bool rr;
	char *w;

	if (!opts)
		opts = &none;
	if (scode < 100 || scode > 699 || !req->req)
		return EINVAL;

	reason = opts->reason ? opts->reason : sip_reason(scode);
	reasonl = strlen(reason);
	vias_plan(&vp, req);
	to = sip_msg_hdr(req, SIP_HDR_TO);
	/* RFC 3261 8.2.6.2: add a tag unless the request had one */
	if (to && scode > 100 && !sip_msg_to(req, &toa) && !toa->tag.l) {
		if (opts->totag.l) {
			totag = opts->totag;
		} else {
			sip_totag_make(req, tag, sizeof(tag));
			pl_set(&totag, tag, strlen(tag));
		}
	}
	/* RFC 3261 12.1.1: the UAS copies Record-Route into responses that
	 * establish a dialog */
	rr = scode > 100 && scode < 300 && creates_dialog(req->meth);
	if (opts->hdrs)
		hdrsl = strlen(opts->hdrs);
	if (opts->body.l && opts->ctype)
		ctypel = strlen(opts->ctype);

	need = 12 + reasonl + 2 + vias_len(&vp, req) +
	       LINES_LEN(req, SIP_HDR_FROM, "From") +
	       LINES_LEN(req, SIP_HDR_CALL_ID, "Call-ID") +
	       LINES_LEN(req, SIP_HDR_CSEQ, "CSeq") + hdrsl + 16 + 10 + 4 +
	       opts->body.l;
	if (to)
		need += 4 + to->val.l + 5 + totag.l + 2;
	if (rr)
		need += LINES_LEN(req, SIP_HDR_RECORD_ROUTE, "Record-Route");
	if (ctypel)
		need += 14 + ctypel + 2;
	if (reserve(mb, need))
		return ENOMEM;

	w = (char *)mb->b + mb->pos;
	w = BUF_PUT_LIT(w, "SIP/2.0 ");
	*w++ = (char)('0' + scode / 100);
	*w++ = (char)('0' + scode / 10 % 10);
	*w++ = (char)('0' + scode % 10);
	*w++ = ' ';
	w = buf_put(w, reason, reasonl);
	w = BUF_PUT_LIT(w, "\r\n");
	w = put_vias(w, &vp, req, sa_port(&req->src));
	w = PUT_LINES(w, req, SIP_HDR_FROM, "From");
	if (to) {
		w = BUF_PUT_LIT(w, "To: ");
		w = buf_put(w, to->val.p, to->val.l);
		if (totag.l) {
			w = BUF_PUT_LIT(w, ";tag=");
			w = buf_put(w, totag.p, totag.l);
		}
		w = BUF_PUT_LIT(w, "\r\n");
	}
	w = PUT_LINES(w, req, SIP_HDR_CALL_ID, "Call-ID");
	w = PUT_LINES(w, req, SIP_HDR_CSEQ, "CSeq");
	if (rr)
		w = PUT_LINES(w, req, SIP_HDR_RECORD_ROUTE, "Record-Route");
	w = buf_put(w, opts->hdrs, hdrsl);
	if (ctypel) {
		w = BUF_PUT_LIT(w, "Content-Type: ");
		w = buf_put(w, opts->ctype, ctypel);
		w = BUF_PUT_LIT(w, "\r\n");
	}
	w = BUF_PUT_LIT(w, "Content-Length: ");
	w = buf_put_u32(w, (uint32_t)opts->body.l);
	w = BUF_PUT_LIT(w, "\r\n\r\n");
	w = buf_put(w, opts->body.p, opts->body.l);
	commit(mb, w);
	return 0;
}


/**
 * Answer a request statelessly (RFC 3261 16.11 / 8.2.7): the response goes
 * to where sip_response_dest() says.
 */
int sip_reply(struct sip *sip, struct sip_msg *req, uint16_t scode,
	      const struct sip_reply_opts *opts)
{
	uint8_t storage[4096];
	struct buf mb;
	enum sip_transp tp;
	struct sa dst;
	int err;

	err = sip_response_dest(req, &tp, &dst);
	if (err)
		return err;

	/* a stack buffer for the common case; a heap one if it grows */
	mb.b = storage;
	mb.size = sizeof(storage);
	mb.pos = mb.end = 0;
	mb.max = sizeof(storage);
	mb.inl = true; /* stack storage: never reallocated */
	err = sip_reply_build(&mb, req, scode, opts);
	if (err == ENOMEM) {
		struct buf *big;
		err = buf_alloc(&big, 8192, SIP_MSG_MAX);
		if (err)
			return err;
		err = sip_reply_build(big, req, scode, opts);
		if (!err)
			err = sip_send(sip, tp, &dst, req->conn, big->b,
				       big->end);
		mem_deref(big);
	} else if (!err) {
		err = sip_send(sip, tp, &dst, req->conn, mb.b, mb.end);
	}
	if (!err)
		sip->stats.tx_responses++;
	else
		sip->stats.tx_errors++;
	return err;
}


int sip_replyf(struct sip *sip, struct sip_msg *req, uint16_t scode,
	       const char *reason)
{
	struct sip_reply_opts opts = { 0 };

	opts.reason = reason;
	return sip_reply(sip, req, scode, &opts);
}
