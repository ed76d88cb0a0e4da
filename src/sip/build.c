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
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/uri.h"

static int copy_lines(struct buf *mb, const struct sip_msg *msg,
		      enum sip_hdr_id id, const char *name)
{
	const struct sip_hdr *h;
	int err = 0;

	for (h = sip_msg_hdr(msg, id); h && !err;
	     h = sip_msg_hdr_next(msg, h)) {
		err = buf_write_str(mb, name);
		err |= buf_write(mb, ": ", 2);
		err |= buf_write_pl(mb, &h->val);
		err |= buf_write(mb, "\r\n", 2);
	}
	return err ? ENOMEM : 0;
}


/*
 * The top Via value with received= and rport= as the server transport adds
 * them (RFC 3261 18.2.1: received when sent-by differs from the source
 * address; RFC 3581 4: rport filled with the source port when present
 * without a value).  Only the first Via value of the first line changes;
 * the rest of that line (other values) is copied unchanged.  A proxy
 * forwards the request with the same Via lines (RFC 3261 16.6 step 8 keeps
 * them below its own).
 */
int sip_build_vias(struct buf *mb, struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_via *via;
	char host[SA_STRLEN];
	struct pl val, rest;
	bool add_recv, fill_rport;
	int err;

	if (!h)
		return 0;
	if (sip_msg_via(req, &via) || !sa_isset(&req->src))
		return copy_lines(mb, req, SIP_HDR_VIA, "Via");

	sa_ntop(&req->src, host, sizeof(host));
	add_recv = !via->received.l && !pl_eq_str_ci(&via->host, host);
	if (add_recv && via->host.l > 2 && via->host.p[0] == '[') {
		struct pl in = { via->host.p + 1, via->host.l - 2 };
		add_recv = !pl_eq_str_ci(&in, host);
	}
	fill_rport = via->has_rport && !via->rport.l;

	if (!add_recv && !fill_rport)
		return copy_lines(mb, req, SIP_HDR_VIA, "Via");

	/* the top value ends where the decoded value ends */
	val = via->val;
	rest.p = val.p + val.l;
	rest.l = (size_t)(h->val.p + h->val.l - rest.p);

	err = buf_write(mb, "Via: ", 5);
	if (fill_rport) {
		/* RFC 3581 4: fill the bare rport with the source port.  The
		 * parameter is found by the parameter grammar, so LWS around
		 * its ';' (SEMI = SWS ";" SWS) or a parameter merely starting
		 * with "rport" does not mislead us into a second rport */
		struct pl prest = via->params, pn, pv;
		const char *at = NULL;
		bool has_eq = false;
		size_t n;

		while (sip_param_next(&prest, &pn, &pv)) {
			if (pl_eq_str_ci(&pn, "rport") && !pv.l) {
				has_eq = pv.p != NULL; /* "rport=" */
				at = has_eq ? pv.p : pn.p + pn.l;
				break;
			}
		}
		if (at && (at < val.p || at > val.p + val.l))
			at = NULL;
		if (!at) {
			err |= buf_write_pl(mb, &val);
			err |= buf_write(mb, ";rport=", 7);
			err |= buf_write_u32(mb, sa_port(&req->src));
		} else {
			n = (size_t)(at - val.p);
			err |= buf_write(mb, val.p, n);
			if (!has_eq)
				err |= buf_write(mb, "=", 1);
			err |= buf_write_u32(mb, sa_port(&req->src));
			err |= buf_write(mb, at, val.l - n);
		}
	} else {
		err |= buf_write_pl(mb, &val);
	}
	if (add_recv || fill_rport) /* RFC 3581 4: received always with rport */
		if (!via->received.l)
			err |= buf_write(mb, ";received=", 10) |
			       buf_write_str(mb, host);
	err |= buf_write_pl(mb, &rest);
	err |= buf_write(mb, "\r\n", 2);
	if (err)
		return ENOMEM;

	for (h = sip_msg_hdr_next(req, h); h && !err;
	     h = sip_msg_hdr_next(req, h)) {
		err = buf_write(mb, "Via: ", 5);
		err |= buf_write_pl(mb, &h->val);
		err |= buf_write(mb, "\r\n", 2);
	}
	return err ? ENOMEM : 0;
}


static bool creates_dialog(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER || m == SIP_METHOD_NOTIFY;
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
	uint32_t h1 = 0, h2 = 0x9e3779b9u;

	(void)sip_msg_callid(req, &cid);
	if (cid.l)
		h1 = hash_fast(cid.p, cid.l);
	if (!sip_msg_from(req, &from) && from->tag.l)
		h2 ^= hash_fast(from->tag.p, from->tag.l);
	if (!sip_msg_via(req, &via) && via->branch.l)
		h2 ^= hash_fast(via->branch.p, via->branch.l) * 31u;
	{
		/* hex by hand: this runs for every answered request */
		static const char hx[] = "0123456789abcdef";
		uint64_t v = ((uint64_t)h1 << 32) | h2;
		size_t i;

		if (!size)
			return;
		for (i = 0; i < 16 && i + 1 < size; i++)
			out[i] = hx[(v >> (60 - 4 * i)) & 0xf];
		out[i] = '\0';
	}
}


/**
 * Build a response to req into mb (appended at mb->pos).
 *
 * @param mb     destination buffer
 * @param req    the request
 * @param scode  100..699
 * @param opts   reason, to-tag, extra headers, body (may be NULL)
 * @return 0, EINVAL for a bad code, ENOMEM when it does not fit
 */
int sip_reply_build(struct buf *mb, struct sip_msg *req, uint16_t scode,
		    const struct sip_reply_opts *opts)
{
	static const struct sip_reply_opts none;
	const struct sip_hdr *to;
	const struct sip_addr *toa;
	char tag[24];
	int err;

	if (!opts)
		opts = &none;
	if (scode < 100 || scode > 699 || !req->req)
		return EINVAL;

	err = buf_write(mb, "SIP/2.0 ", 8);
	err |= buf_write_u32(mb, scode);
	err |= buf_write(mb, " ", 1);
	err |= buf_write_str(mb,
			     opts->reason ? opts->reason : sip_reason(scode));
	err |= buf_write(mb, "\r\n", 2);
	err |= sip_build_vias(mb, req);
	err |= copy_lines(mb, req, SIP_HDR_FROM, "From");

	to = sip_msg_hdr(req, SIP_HDR_TO);
	if (to) {
		err |= buf_write(mb, "To: ", 4);
		err |= buf_write_pl(mb, &to->val);
		/* RFC 3261 8.2.6.2: add a tag unless the request had one */
		if (scode > 100 && !sip_msg_to(req, &toa) && !toa->tag.l) {
			if (opts->totag.l) {
				err |= buf_write(mb, ";tag=", 5);
				err |= buf_write_pl(mb, &opts->totag);
			} else {
				sip_totag_make(req, tag, sizeof(tag));
				err |= buf_write(mb, ";tag=", 5);
				err |= buf_write_str(mb, tag);
			}
		}
		err |= buf_write(mb, "\r\n", 2);
	}
	err |= copy_lines(mb, req, SIP_HDR_CALL_ID, "Call-ID");
	err |= copy_lines(mb, req, SIP_HDR_CSEQ, "CSeq");
	/* RFC 3261 12.1.1: the UAS copies Record-Route into responses that
	 * establish a dialog */
	if (scode > 100 && scode < 300 && creates_dialog(req->meth))
		err |= copy_lines(mb, req, SIP_HDR_RECORD_ROUTE,
				  "Record-Route");
	if (opts->hdrs)
		err |= buf_write_str(mb, opts->hdrs);
	if (opts->body.l && opts->ctype)
		err |= buf_printf(mb, "Content-Type: %s\r\n", opts->ctype);
	err |= buf_write(mb, "Content-Length: ", 16);
	err |= buf_write_u32(mb, (uint32_t)opts->body.l);
	err |= buf_write(mb, "\r\n\r\n", 4);
	if (opts->body.l)
		err |= buf_write_pl(mb, &opts->body);
	return err ? ENOMEM : 0;
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
