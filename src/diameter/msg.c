/**
 * @file msg.c  Diameter message codec (RFC 6733 3, 4.1, 4.4, 6.2, 7.2).
 *
 * Decode is two passes of one recursive walker over the bytes.  The first
 * (no AVP array yet) checks every length and counts the AVPs: message
 * length against the bytes and a multiple of 4, each AVP length at least
 * its header and within its message or Grouped parent, Grouped members
 * tiling their parent's data, nesting at most DIA_DEPTH_MAX.  The second
 * fills an array of exactly that many AVPs and links them into the tree.
 * The walker reads nothing it has not bounds-checked, and both passes take
 * the same decisions from the same bytes, so the counts agree.
 *
 * Failed-AVP is the one Grouped AVP whose members may be broken on purpose
 * (RFC 6733 7.1.5 asks for the offending AVP header padded with zeroes):
 * when its members do not decode it stays opaque instead of sinking the
 * whole answer.
 *
 * Encode computes the length first (refusing past DIA_MSG_MAX and nesting
 * past DIA_DEPTH_MAX), grows the buffer once, then writes.
 */
#include "diameter/msg.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "diameter/dict.h"

struct dec {
	struct dia_avp *avpv; /* NULL in the counting pass */
	size_t n;             /* AVPs counted or filled */
	size_t cap;           /* slots in avpv (fill pass) */
	size_t peak; /* slots used at most: a broken Failed-AVP's members
			are counted, then given back (n drops) */
	struct dia_err *err;
	unsigned quiet; /* inside a Failed-AVP: errors are not reported */
};


static void msg_destructor(void *arg)
{
	struct dia_msg *msg = arg;

	dia_avp_list_flush(&msg->root.avps);
	mem_deref(msg->avpv);
	mem_deref(msg->mb);
}


static struct dia_msg *msg_new(size_t extra)
{
	struct dia_msg *msg;

	if (extra > SIZE_MAX - sizeof(*msg))
		return NULL;
	msg = mem_zalloc(sizeof(*msg) + extra, msg_destructor);
	if (!msg)
		return NULL;
	msg->version = DIA_VERSION;
	msg->root.grouped = true;
	return msg;
}


/**
 * Allocate an empty message.
 *
 * @param code   command code (24 bits)
 * @param app    Application-Id
 * @param flags  DIA_FLAG_R, DIA_FLAG_P, ...
 */
int dia_msg_alloc(struct dia_msg **msgp, uint32_t code, uint32_t app,
		  uint8_t flags)
{
	struct dia_msg *msg;

	if (!msgp || code > 0xffffffu)
		return EINVAL;
	msg = msg_new(0);
	if (!msg)
		return ENOMEM;
	msg->code = code;
	msg->app = app;
	msg->flags = flags;
	*msgp = msg;
	return 0;
}


static int avp_fail(struct dec *d, const uint8_t *a, size_t left,
		    uint32_t rcode, const char *reason)
{
	struct dia_err *e = d->err;
	uint8_t h[DIA_AVP_HDR_VLEN];

	if (!e || d->quiet)
		return EBADMSG;

	/* RFC 6733 7.1.5: a header cut short is padded with zeroes */
	memset(h, 0, sizeof(h));
	memcpy(h, a, left < sizeof(h) ? left : sizeof(h));
	e->rcode = rcode;
	e->reason = reason;
	e->failed = true;
	e->avp = NULL;
	e->avp_code = dia_rd32(h);
	e->avp_flags = h[4];
	e->avp_vendor = (h[4] & DIA_AVP_FLAG_V) ? dia_rd32(h + 8) : 0;
	return EBADMSG;
}


/* Walk the AVPs in [p, p+len), members of parent, at a nesting depth. */
static int dec_avps(struct dec *d, const uint8_t *p, size_t len, unsigned depth,
		    struct dia_avp *parent)
{
	size_t off = 0;

	while (off < len) {
		const uint8_t *a = p + off;
		size_t left = len - off, hlen, alen, next;
		const struct dia_avp_def *def;
		struct dia_avp *avp = NULL;
		uint32_t code, vendor = 0;
		uint8_t flags;

		if (left < DIA_AVP_HDR_LEN)
			return avp_fail(d, a, left, DIA_INVALID_AVP_LENGTH,
					"AVP header truncated");
		code = dia_rd32(a);
		flags = a[4];
		alen = dia_rd24(a + 5);
		hlen = (flags & DIA_AVP_FLAG_V) ? DIA_AVP_HDR_VLEN
						: DIA_AVP_HDR_LEN;
		if (left < hlen)
			return avp_fail(d, a, left, DIA_INVALID_AVP_LENGTH,
					"AVP header truncated");
		if (flags & DIA_AVP_FLAG_V)
			vendor = dia_rd32(a + 8);
		if (alen < hlen)
			return avp_fail(d, a, left, DIA_INVALID_AVP_LENGTH,
					"AVP length shorter than its header");
		if (alen > left)
			return avp_fail(d, a, left, DIA_INVALID_AVP_LENGTH,
					"AVP length past its container");

		/* the padding of the last member of a Grouped AVP may lie
		 * outside the Grouped length: be liberal in what we accept */
		next = off + dia_pad4(alen);
		if (next > len)
			next = len;

		def = dia_dict_avp(code, vendor);
		if (d->avpv) {
			if (d->n >= d->cap)
				return EBADMSG; /* cannot happen: pass one
						   counted every slot */
			avp = &d->avpv[d->n];
			/* a slot may be reused after a broken Failed-AVP */
			memset(avp, 0, sizeof(*avp));
			avp->code = code;
			avp->vendor = vendor;
			avp->flags = flags;
			avp->def = def;
			avp->parent = parent;
			pl_set(&avp->val, (const char *)a + hlen, alen - hlen);
			list_append(&parent->avps, &avp->le, avp);
		}
		if (++d->n > d->peak)
			d->peak = d->n;

		if (def && def->type == DIA_TYPE_GROUPED) {
			bool lax = def->code == DIA_AVP_FAILED_AVP &&
				   def->vendor == 0;
			size_t n0 = d->n;
			int err;

			if (alen > hlen && depth + 1 > DIA_DEPTH_MAX) {
				/* reported even inside a Failed-AVP: fatal */
				unsigned quiet = d->quiet;

				d->quiet = 0;
				(void)avp_fail(d, a, left, DIA_UNABLE_TO_COMPLY,
					       "Grouped AVPs nested too deep");
				d->quiet = quiet;
				return ELOOP;
			}
			d->quiet += lax;
			err = dec_avps(d, a + hlen, alen - hlen, depth + 1,
				       avp);
			d->quiet -= lax;
			if (err == EBADMSG && lax) {
				/* keep the Failed-AVP opaque */
				d->n = n0;
				if (avp)
					list_init(&avp->avps);
			} else if (err) {
				return err;
			} else if (avp) {
				avp->grouped = true;
			}
		}
		off = next;
	}
	return 0;
}


/* The fixed header; fills err's header fields for an answer. */
static int dec_hdr(const uint8_t *p, size_t len, struct dia_err *err)
{
	uint32_t mlen;

	if (len > DIA_MSG_MAX) {
		if (err) {
			err->rcode = DIA_INVALID_MESSAGE_LENGTH;
			err->reason = "message too large";
		}
		return EMSGSIZE;
	}
	if (len < DIA_HDR_LEN) {
		if (err) {
			err->rcode = DIA_INVALID_MESSAGE_LENGTH;
			err->reason = "message header truncated";
		}
		return EBADMSG;
	}
	if (err) {
		err->hdr = true;
		err->flags = p[4];
		err->code = dia_rd24(p + 5);
		err->app = dia_rd32(p + 8);
		err->hbh = dia_rd32(p + 12);
		err->e2e = dia_rd32(p + 16);
	}
	if (p[0] != DIA_VERSION) {
		if (err) {
			err->rcode = DIA_UNSUPPORTED_VERSION;
			err->reason = "unsupported Diameter version";
		}
		return EBADMSG;
	}
	mlen = dia_rd24(p + 1);
	if (mlen != len || mlen % 4) {
		if (err) {
			err->rcode = DIA_INVALID_MESSAGE_LENGTH;
			err->reason = mlen % 4 ? "message length not a "
						 "multiple of 4"
					       : "message length does not "
						 "match the bytes";
		}
		return EBADMSG;
	}
	return 0;
}


/* A first AVP that is a whole Session-Id, for answering a broken request. */
static void peek_session_id(const uint8_t *p, size_t len, struct dia_err *err)
{
	size_t alen;

	if (!err || len < DIA_HDR_LEN + DIA_AVP_HDR_LEN)
		return;
	p += DIA_HDR_LEN;
	len -= DIA_HDR_LEN;
	alen = dia_rd24(p + 5);
	if (dia_rd32(p) != DIA_AVP_SESSION_ID || (p[4] & DIA_AVP_FLAG_V) ||
	    alen <= DIA_AVP_HDR_LEN || alen > len)
		return;
	pl_set(&err->session_id, (const char *)p + DIA_AVP_HDR_LEN,
	       alen - DIA_AVP_HDR_LEN);
}


static int decode(struct dia_msg **msgp, const uint8_t *p, size_t len,
		  struct buf *mb, struct dia_err *errp)
{
	struct dec d = { NULL, 0, 0, 0, errp, 0 };
	struct dia_msg *msg = NULL;
	const uint8_t *bytes;
	int err;

	if (!msgp || (!p && len))
		return EINVAL;
	if (errp)
		memset(errp, 0, sizeof(*errp));

	err = dec_hdr(p, len, errp);
	if (err)
		return err;

	/* pass 1: check and count */
	err = dec_avps(&d, p + DIA_HDR_LEN, len - DIA_HDR_LEN, 0, NULL);
	if (err) {
		peek_session_id(p, len, errp);
		return EBADMSG;
	}

	msg = msg_new(mb ? 0 : len);
	if (!msg)
		return ENOMEM;
	if (mb) {
		msg->mb = mem_ref(mb);
		bytes = p;
	} else {
		uint8_t *copy = (uint8_t *)(msg + 1);

		memcpy(copy, p, len);
		bytes = copy;
	}
	pl_set(&msg->raw, (const char *)bytes, len);
	msg->version = bytes[0];
	msg->flags = bytes[4];
	msg->code = dia_rd24(bytes + 5);
	msg->app = dia_rd32(bytes + 8);
	msg->hbh = dia_rd32(bytes + 12);
	msg->e2e = dia_rd32(bytes + 16);

	if (d.peak) {
		msg->avpv = mem_zalloc(d.peak * sizeof(*msg->avpv), NULL);
		if (!msg->avpv) {
			mem_deref(msg);
			return ENOMEM;
		}
		msg->avpc = d.n;
	}

	/* pass 2: fill (the same walk over the same bytes cannot fail) */
	d.avpv = msg->avpv;
	d.cap = d.peak;
	d.n = 0;
	d.err = NULL;
	err = dec_avps(&d, bytes + DIA_HDR_LEN, len - DIA_HDR_LEN, 0,
		       &msg->root);
	if (err || d.n != msg->avpc) {
		mem_deref(msg);
		return EBADMSG;
	}

	*msgp = msg;
	return 0;
}


/**
 * Decode one whole message, copying its bytes into the message.
 *
 * @param msgp  the message, set on success
 * @param p     the bytes of exactly one message (see dia_msg_frame)
 * @param len   their length
 * @param errp  what to answer when refused, or NULL
 * @return 0, EBADMSG (malformed), EMSGSIZE (over DIA_MSG_MAX), ENOMEM
 */
int dia_msg_decode(struct dia_msg **msgp, const uint8_t *p, size_t len,
		   struct dia_err *errp)
{
	return decode(msgp, p, len, NULL, errp);
}


/**
 * Decode the bytes [mb->pos, mb->end) of a counted buffer without copying;
 * the message holds a reference to mb.
 */
int dia_msg_decode_buf(struct dia_msg **msgp, struct buf *mb,
		       struct dia_err *errp)
{
	if (!mb)
		return EINVAL;
	return decode(msgp, buf_cur(mb), buf_left(mb), mb, errp);
}


/* Deepest nesting below avp (0 for a leaf). */
static unsigned avp_height(const struct dia_avp *avp, unsigned limit)
{
	const struct dia_avp *m;
	unsigned h = 0;

	if (!avp->grouped || limit == 0)
		return 0;
	for (m = dia_avp_first(avp); m; m = dia_avp_sibling(m)) {
		unsigned mh = 1 + avp_height(m, limit - 1);

		if (mh > h)
			h = mh;
	}
	return h;
}


size_t dia_msg_wire_len(const struct dia_msg *msg)
{
	const struct dia_avp *avp;
	size_t len = DIA_HDR_LEN;

	for (avp = dia_avp_first(&msg->root); avp; avp = dia_avp_sibling(avp))
		len += dia_avp_wire_len(avp);
	return len;
}


static void enc_avp(uint8_t **pp, const struct dia_avp *avp)
{
	uint8_t *p = *pp;
	size_t hlen = (avp->flags & DIA_AVP_FLAG_V) ? DIA_AVP_HDR_VLEN
						    : DIA_AVP_HDR_LEN;
	size_t len = dia_avp_wire_len(avp);
	const struct dia_avp *m;

	dia_wr32(p, avp->code);
	p[4] = avp->flags;
	if (avp->flags & DIA_AVP_FLAG_V)
		dia_wr32(p + 8, avp->vendor);

	if (avp->grouped) {
		uint8_t *q = p + hlen;

		/* members are whole padded AVPs: the length includes them */
		for (m = dia_avp_first(avp); m; m = dia_avp_sibling(m))
			enc_avp(&q, m);
		dia_wr24(p + 5, (uint32_t)(q - p));
	} else {
		if (avp->val.l)
			memcpy(p + hlen, avp->val.p, avp->val.l);
		memset(p + hlen + avp->val.l, 0,
		       len - hlen - avp->val.l); /* RFC 6733 4: zero padding */
		dia_wr24(p + 5, (uint32_t)(hlen + avp->val.l));
	}
	*pp = p + len;
}


/**
 * Append the wire form of msg to mb at mb->pos.
 *
 * @return 0, EMSGSIZE (past DIA_MSG_MAX or mb's ceiling), EINVAL (Grouped
 *         AVPs nested past DIA_DEPTH_MAX: the peer would refuse it)
 */
int dia_msg_encode(struct buf *mb, const struct dia_msg *msg)
{
	const struct dia_avp *avp;
	size_t len;
	uint8_t *p;
	int err;

	if (!mb || !msg || msg->code > 0xffffffu)
		return EINVAL;

	for (avp = dia_avp_first(&msg->root); avp; avp = dia_avp_sibling(avp))
		if (avp_height(avp, DIA_DEPTH_MAX + 1) > DIA_DEPTH_MAX)
			return EINVAL;

	len = dia_msg_wire_len(msg);
	if (len > DIA_MSG_MAX)
		return EMSGSIZE;
	if (mb->pos > mb->max || len > mb->max - mb->pos)
		return EMSGSIZE;
	if (mb->pos + len > mb->size) {
		err = buf_resize(mb, mb->pos + len);
		if (err)
			return err;
	}

	p = buf_cur(mb);
	p[0] = msg->version;
	dia_wr24(p + 1, (uint32_t)len);
	p[4] = msg->flags;
	dia_wr24(p + 5, msg->code);
	dia_wr32(p + 8, msg->app);
	dia_wr32(p + 12, msg->hbh);
	dia_wr32(p + 16, msg->e2e);
	p += DIA_HDR_LEN;
	for (avp = dia_avp_first(&msg->root); avp; avp = dia_avp_sibling(avp))
		enc_avp(&p, avp);

	mb->pos += len;
	if (mb->pos > mb->end)
		mb->end = mb->pos;
	return 0;
}


/**
 * Stream framing by the 24-bit Message Length (RFC 6733 3).
 *
 * @param p       bytes received so far
 * @param len     their count
 * @param msglen  the first message's length, once known
 * @return 0 (a whole message), ENODATA (need more), EBADMSG (not a
 *         Diameter stream: close it), EMSGSIZE (over DIA_MSG_MAX)
 */
int dia_msg_frame(const uint8_t *p, size_t len, size_t *msglen)
{
	uint32_t mlen;

	if (!msglen || (!p && len))
		return EINVAL;
	*msglen = 0;
	if (len < 1)
		return ENODATA;
	if (p[0] != DIA_VERSION)
		return EBADMSG;
	if (len < 4)
		return ENODATA;
	mlen = dia_rd24(p + 1);
	if (mlen < DIA_HDR_LEN || mlen % 4)
		return EBADMSG;
	if (mlen > DIA_MSG_MAX)
		return EMSGSIZE;
	*msglen = mlen;
	return len < mlen ? ENODATA : 0;
}


/**
 * Build the answer to a request (RFC 6733 6.2): the same Command-Code,
 * Application-Id, Hop-by-Hop and End-to-End identifiers, the P bit as in
 * the request, R (and T) clear; Session-Id first (6.2 item 2, 8.8), then
 * every Proxy-Info in order (6.2 item 4).
 */
int dia_msg_answer_alloc(struct dia_msg **ansp, const struct dia_msg *req)
{
	const struct dia_avp *avp;
	struct dia_msg *ans = NULL;
	int err;

	if (!ansp || !req || !dia_msg_is_request(req))
		return EINVAL;

	err = dia_msg_alloc(&ans, req->code, req->app,
			    (uint8_t)(req->flags & DIA_FLAG_P));
	if (err)
		return err;
	ans->hbh = req->hbh;
	ans->e2e = req->e2e;

	avp = dia_avp_find(&req->root, DIA_AVP_SESSION_ID, 0);
	if (avp) {
		err = dia_add_copy(&ans->root, avp);
		if (err)
			goto out;
	}
	for (avp = dia_avp_find(&req->root, DIA_AVP_PROXY_INFO, 0); avp;
	     avp = dia_avp_next(avp)) {
		err = dia_add_copy(&ans->root, avp);
		if (err)
			goto out;
	}
out:
	if (err)
		mem_deref(ans);
	else
		*ansp = ans;
	return err;
}


/**
 * Build the answer to a request that did not decode, from the header that
 * dia_msg_decode() reported (RFC 6733 7.2: the Session-Id is sent back when
 * it could be read).
 */
int dia_msg_answer_err_alloc(struct dia_msg **ansp, const struct dia_err *err)
{
	struct dia_msg *ans = NULL;
	int e;

	if (!ansp || !err)
		return EINVAL;
	if (!err->hdr || !(err->flags & DIA_FLAG_R))
		return ENOENT;

	e = dia_msg_alloc(&ans, err->code, err->app,
			  (uint8_t)(err->flags & DIA_FLAG_P));
	if (e)
		return e;
	ans->hbh = err->hbh;
	ans->e2e = err->e2e;
	if (pl_isset(&err->session_id)) {
		e = dia_add_pl(&ans->root, DIA_AVP_SESSION_ID, 0,
			       &err->session_id);
		if (e) {
			mem_deref(ans);
			return e;
		}
	}
	*ansp = ans;
	return 0;
}


/* RFC 6733 7.5: Failed-AVP with the offending AVP, or (7.1.5) its header
 * and a zero-filled payload of the minimum length for its type. */
static int add_failed_avp(struct dia_msg *ans, const struct dia_err *err)
{
	const struct dia_avp_def *def;
	struct dia_avp *fa = NULL, *avp = NULL;
	size_t minlen = 0;
	int e;

	e = dia_add_group(&ans->root, DIA_AVP_FAILED_AVP, 0, &fa);
	if (e)
		return e;
	if (err->avp)
		return dia_add_copy(fa, err->avp);

	def = dia_dict_avp(err->avp_code, err->avp_vendor);
	if (def && def->type != DIA_TYPE_GROUPED)
		minlen = dia_type_min_len(def->type);
	e = dia_avp_alloc(&avp, err->avp_code, err->avp_vendor, NULL, minlen);
	if (e)
		return e;
	avp->flags = (uint8_t)((err->avp_flags & ~DIA_AVP_FLAG_V) |
			       (err->avp_vendor ? DIA_AVP_FLAG_V : 0));
	e = dia_avp_append(fa, avp);
	if (e)
		mem_deref(avp);
	return e;
}


/**
 * Put an error into an answer: Result-Code, the E bit for protocol errors
 * (3xxx, RFC 6733 7.1.3 and 7.2), Error-Message, Failed-AVP.
 */
int dia_msg_add_error(struct dia_msg *ans, const struct dia_err *err)
{
	int e;

	if (!ans || !err || !err->rcode)
		return EINVAL;
	if (err->rcode >= 3000 && err->rcode < 4000)
		ans->flags |= DIA_FLAG_E;
	e = dia_add_u32(&ans->root, DIA_AVP_RESULT_CODE, 0, err->rcode);
	if (!e && err->reason)
		e = dia_add_str(&ans->root, DIA_AVP_ERROR_MESSAGE, 0,
				err->reason);
	if (!e && err->failed)
		e = add_failed_avp(ans, err);
	return e;
}


/**
 * The result of an answer: Result-Code, else Experimental-Result (TS
 * 29.229 6.2: the 3GPP codes come there, with Vendor-Id 10415).
 */
int dia_msg_result(const struct dia_msg *ans, uint32_t *rcode, uint32_t *vendor)
{
	const struct dia_avp *er;
	uint32_t v = 0;
	int err;

	if (!ans || !rcode)
		return EINVAL;
	err = dia_get_u32(&ans->root, DIA_AVP_RESULT_CODE, 0, rcode);
	if (err != ENOENT) {
		if (!err && vendor)
			*vendor = 0;
		return err;
	}
	er = dia_avp_find(&ans->root, DIA_AVP_EXPERIMENTAL_RESULT, 0);
	if (!er)
		return ENOENT;
	if (!er->grouped)
		return EBADMSG;
	err = dia_get_u32(er, DIA_AVP_EXPERIMENTAL_RESULT_CODE, 0, rcode);
	if (err)
		return err == ENOENT ? EBADMSG : err;
	err = dia_get_u32(er, DIA_AVP_VENDOR_ID, 0, &v);
	if (err && err != ENOENT)
		return err;
	if (vendor)
		*vendor = v;
	return 0;
}
