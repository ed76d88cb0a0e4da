/**
 * @file fuzz_sip_msg.c  libFuzzer harness for the SIP message parser.
 *
 * Each input is decoded as a datagram and as a framed stream message
 * (sip_msg_frame() first, as the TCP/TLS transports do), then every typed
 * accessor of msg.h is called, twice (the second call must hit the cache
 * and agree with the first), sip_msg_validate() runs, and every value of
 * every header is handed to its own decoder (Via, Contact, name-addr,
 * authorization headers, URIs and their parameters).
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - every raw view (start line, header names and values, body) lies
 *    inside the input; every decoded view is read byte by byte, so a view
 *    that runs past its buffer trips AddressSanitizer;
 *  - a rejected message names a status code of 0 (drop) or 400..699 and a
 *    reason phrase whenever the code is not 0;
 *  - a framed length never exceeds the bytes given;
 *  - a decoded sip/sips/tel URI equals itself (RFC 3261 19.1.4);
 *  - no counted memory block outlives the input (mem_live_blocks()).
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/addr.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/uri.h"
#include "sip/via.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs past the message limit only test the size check; keep them short
 * enough that the fuzzer spends its time on the grammar. */
#define FUZZ_INPUT_MAX (SIP_MSG_MAX + 1024)

struct fuzz_ctx {
	const char *base;
	size_t size;
	unsigned sum; /* every byte of every view is added here */
};

static volatile unsigned fuzz_sink;


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_sip_msg: property broken: %s\n", what);
	abort();
}


/* Read every byte of a view (ASan catches a view past its buffer). */
static void touch(struct fuzz_ctx *fc, const struct pl *pl)
{
	if (!pl->l)
		return;
	if (!pl->p)
		fail("view with a length but no pointer");
	for (size_t i = 0; i < pl->l; i++)
		fc->sum += (unsigned char)pl->p[i];
}


/* A raw view must point into the input itself. */
static void inside(struct fuzz_ctx *fc, const struct pl *pl, const char *what)
{
	touch(fc, pl);
	if (!pl->l)
		return;
	if (pl->p < fc->base || pl->l > fc->size ||
	    (size_t)(pl->p - fc->base) > fc->size - pl->l)
		fail(what);
}


static void check_err(const struct sip_msg_err *me)
{
	if (me->scode != 0 && (me->scode < 400 || me->scode > 699))
		fail("error status code outside 0 and 400..699");
	if (me->scode != 0 && !me->reason)
		fail("error status code without a reason phrase");
	if (me->reason)
		fuzz_sink += (unsigned)strlen(me->reason);
}


static void check_params(struct fuzz_ctx *fc, const struct pl *params)
{
	struct pl rest = *params, name, val;
	unsigned n = 0;

	touch(fc, params);
	while (sip_param_next(&rest, &name, &val)) {
		touch(fc, &name);
		touch(fc, &val);
		if (++n > SIP_MSG_MAX)
			fail("parameter iterator does not end");
	}
	fuzz_sink += sip_param_exists(params, "lr");
	if (sip_param_get(params, "transport", &val) == 0)
		touch(fc, &val);
}


static void check_uri(struct fuzz_ctx *fc, const struct sip_uri *uri)
{
	char tmp[256];
	size_t len;

	touch(fc, &uri->text);
	touch(fc, &uri->scheme);
	touch(fc, &uri->user);
	touch(fc, &uri->password);
	touch(fc, &uri->host);
	touch(fc, &uri->port_pl);
	touch(fc, &uri->headers);
	touch(fc, &uri->opaque);
	check_params(fc, &uri->params);
	fuzz_sink += sip_uri_port(uri);

	if (sip_unescape(&uri->user, tmp, sizeof(tmp), &len) == 0) {
		if (len > sizeof(tmp))
			fail("sip_unescape length past its buffer");
		fuzz_sink += len;
	}
	fuzz_sink += sip_unescaped_eq(&uri->user, &uri->user, false);

	if (uri->sch != SIP_SCHEME_OTHER && !sip_uri_eq(uri, uri))
		fail("URI not equal to itself");
}


static void check_uri_text(struct fuzz_ctx *fc, const struct pl *text)
{
	struct sip_uri uri;

	memset(&uri, 0, sizeof(uri));
	if (sip_uri_decode(&uri, text) == 0)
		check_uri(fc, &uri);
}


static void check_addr(struct fuzz_ctx *fc, const struct sip_addr *a)
{
	touch(fc, &a->val);
	touch(fc, &a->dname);
	touch(fc, &a->auri);
	touch(fc, &a->tag);
	check_params(fc, &a->params);
	if (!a->star)
		check_uri(fc, &a->uri);
}


static void check_via(struct fuzz_ctx *fc, const struct sip_via *v)
{
	touch(fc, &v->val);
	touch(fc, &v->proto);
	touch(fc, &v->transp);
	touch(fc, &v->host);
	touch(fc, &v->branch);
	touch(fc, &v->received);
	touch(fc, &v->rport);
	touch(fc, &v->maddr);
	check_params(fc, &v->params);
	fuzz_sink += v->port + (unsigned)v->tp + v->has_rport;
	fuzz_sink += sip_via_branch_3261(v);
}


static void check_authhdr(struct fuzz_ctx *fc, const struct pl *val)
{
	struct sip_authhdr ah;

	memset(&ah, 0, sizeof(ah));
	if (sip_authhdr_decode(&ah, val))
		return;
	touch(fc, &ah.scheme);
	touch(fc, &ah.realm);
	touch(fc, &ah.nonce);
	touch(fc, &ah.username);
	touch(fc, &ah.uri);
	touch(fc, &ah.response);
	touch(fc, &ah.algorithm);
	touch(fc, &ah.cnonce);
	touch(fc, &ah.opaque);
	touch(fc, &ah.qop);
	touch(fc, &ah.nc);
	touch(fc, &ah.auts);
	touch(fc, &ah.stale);
	fuzz_sink += ah.userhash;
	if (pl_isset(&ah.uri))
		check_uri_text(fc, &ah.uri);
}


/* Hand one header value to the decoder its header id calls for. */
static void check_value(struct fuzz_ctx *fc, enum sip_hdr_id id,
			const struct pl *val)
{
	struct sip_contact c;
	struct sip_addr a;
	struct sip_via v;

	inside(fc, val, "header value outside the input");

	switch (id) {

	case SIP_HDR_VIA:
		memset(&v, 0, sizeof(v));
		if (sip_via_decode(&v, val) == 0)
			check_via(fc, &v);
		break;

	case SIP_HDR_CONTACT:
		memset(&c, 0, sizeof(c));
		if (sip_contact_decode(&c, val) == 0) {
			check_addr(fc, &c.addr);
			if (c.q > 1000)
				fail("Contact q above 1000");
			fuzz_sink += c.has_expires + c.expires;
		}
		break;

	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH:
	case SIP_HDR_SERVICE_ROUTE:
	case SIP_HDR_P_ASSERTED_IDENTITY:
	case SIP_HDR_P_PREFERRED_IDENTITY:
	case SIP_HDR_P_ASSOCIATED_URI:
	case SIP_HDR_P_SERVED_USER:
	case SIP_HDR_REFER_TO:
		memset(&a, 0, sizeof(a));
		if (sip_addr_decode(&a, val) == 0)
			check_addr(fc, &a);
		break;

	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHORIZATION:
	case SIP_HDR_WWW_AUTHENTICATE:
	case SIP_HDR_PROXY_AUTHENTICATE:
		check_authhdr(fc, val);
		break;

	default:
		break;
	}
}


static void check_headers(struct fuzz_ctx *fc, const struct sip_msg *msg)
{
	if (msg->hdrc > SIP_HDR_MAX)
		fail("more header lines than SIP_HDR_MAX");

	for (uint16_t i = 0; i < msg->hdrc; i++) {
		const struct sip_hdr *h = &msg->hdrv[i];
		struct pl name = h->name;

		inside(fc, &h->name, "header name outside the input");
		inside(fc, &h->val, "header line value outside the input");
		if (h->id >= SIP_HDR_NUM)
			fail("header id out of range");
		if (h->id != SIP_HDR_OTHER && sip_hdr_id_of(&name) != h->id)
			fail("header id differs from sip_hdr_id_of(name)");
		if (h->next > msg->hdrc)
			fail("header chain index out of range");
		fuzz_sink += (unsigned)strlen(sip_hdr_name(h->id));
	}

	for (int id = SIP_HDR_OTHER + 1; id < SIP_HDR_NUM; id++) {
		const struct sip_hdr *h = sip_msg_hdr(msg, (enum sip_hdr_id)id);
		struct sip_hdr_iter it;
		struct pl val;
		unsigned n = 0;

		for (; h; h = sip_msg_hdr_next(msg, h)) {
			if (h->id != (enum sip_hdr_id)id)
				fail("header chain mixes ids");
			if (++n > msg->hdrc)
				fail("header chain longer than the header "
				     "count");
		}

		memset(&it, 0, sizeof(it));
		n = 0;
		while (sip_msg_hdr_value_next(msg, (enum sip_hdr_id)id, &it,
					      &val)) {
			check_value(fc, (enum sip_hdr_id)id, &val);
			if (++n > SIP_MSG_MAX)
				fail("value iterator does not end");
		}
	}

	if (sip_msg_hdr_name(msg, "X-Fuzz"))
		++fuzz_sink;
	fuzz_sink += sip_msg_has_tag(msg, SIP_HDR_REQUIRE, "100rel");
	fuzz_sink += sip_msg_has_tag(msg, SIP_HDR_PROXY_REQUIRE, "sec-agree");
	fuzz_sink += sip_msg_has_tag(msg, SIP_HDR_SUPPORTED, "path");
}


/* Each typed accessor twice: the second answer comes from the cache and
 * must be the same. */
static void check_accessors(struct fuzz_ctx *fc, struct sip_msg *msg)
{
	const struct sip_via *via, *via2;
	const struct sip_addr *a, *a2;
	const struct sip_cseq *cs, *cs2;
	const struct sip_uri *u, *u2;
	struct pl cid, cid2;
	uint32_t v, v2;
	int e1, e2;

	e1 = sip_msg_via(msg, &via);
	e2 = sip_msg_via(msg, &via2);
	if (e1 != e2 || (!e1 && via != via2))
		fail("sip_msg_via not stable");
	if (!e1)
		check_via(fc, via);

	e1 = sip_msg_from(msg, &a);
	e2 = sip_msg_from(msg, &a2);
	if (e1 != e2 || (!e1 && a != a2))
		fail("sip_msg_from not stable");
	if (!e1)
		check_addr(fc, a);

	e1 = sip_msg_to(msg, &a);
	e2 = sip_msg_to(msg, &a2);
	if (e1 != e2 || (!e1 && a != a2))
		fail("sip_msg_to not stable");
	if (!e1)
		check_addr(fc, a);

	e1 = sip_msg_cseq(msg, &cs);
	e2 = sip_msg_cseq(msg, &cs2);
	if (e1 != e2 || (!e1 && cs != cs2))
		fail("sip_msg_cseq not stable");
	if (!e1) {
		touch(fc, &cs->met);
		fuzz_sink += cs->num + (unsigned)cs->meth;
	}

	if (msg->req) {
		e1 = sip_msg_ruri(msg, &u);
		e2 = sip_msg_ruri(msg, &u2);
		if (e1 != e2 || (!e1 && u != u2))
			fail("sip_msg_ruri not stable");
		if (!e1)
			check_uri(fc, u);
	}

	memset(&cid, 0, sizeof(cid));
	memset(&cid2, 0, sizeof(cid2));
	e1 = sip_msg_callid(msg, &cid);
	e2 = sip_msg_callid(msg, &cid2);
	if (e1 != e2 || (!e1 && (cid.p != cid2.p || cid.l != cid2.l)))
		fail("sip_msg_callid not stable");
	if (!e1)
		inside(fc, &cid, "Call-ID outside the input");

	e1 = sip_msg_maxfwd(msg, &v);
	e2 = sip_msg_maxfwd(msg, &v2);
	if (e1 != e2 || (!e1 && v != v2))
		fail("sip_msg_maxfwd not stable");

	e1 = sip_msg_expires(msg, &v);
	e2 = sip_msg_expires(msg, &v2);
	if (e1 != e2 || (!e1 && v != v2))
		fail("sip_msg_expires not stable");

	e1 = sip_msg_clen(msg, &v);
	e2 = sip_msg_clen(msg, &v2);
	if (e1 != e2 || (!e1 && v != v2))
		fail("sip_msg_clen not stable");
}


static void check_msg(struct fuzz_ctx *fc, const char *p, size_t len,
		      bool dgram)
{
	static struct sip_msg msg; /* ~10 KB: keep it off the stack */
	struct sip_msg_err me;
	int err;

	memset(&msg, 0, sizeof(msg));
	memset(&me, 0, sizeof(me));

	err = sip_msg_decode(&msg, p, len, dgram, &me);
	if (err) {
		check_err(&me);
		return;
	}

	inside(fc, &msg.start, "start line outside the input");
	inside(fc, &msg.ver, "version outside the input");
	inside(fc, &msg.hdrs, "header block outside the input");
	inside(fc, &msg.body, "body outside the input");
	if (msg.req) {
		struct pl met = msg.met;

		inside(fc, &msg.met, "method outside the input");
		inside(fc, &msg.ruri, "Request-URI outside the input");
		if (sip_method_id(&met) != msg.meth)
			fail("method id differs from sip_method_id()");
		fuzz_sink += (unsigned)strlen(sip_method_name(msg.meth));
	} else {
		inside(fc, &msg.reason, "reason phrase outside the input");
		if (sip_reason(msg.scode))
			++fuzz_sink;
	}

	check_headers(fc, &msg);
	check_accessors(fc, &msg);

	memset(&me, 0, sizeof(me));
	if (sip_msg_validate(&msg, &me))
		check_err(&me);

	/* validation may decode more views: they still read the same bytes */
	check_accessors(fc, &msg);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx fc = { (const char *)data, size, 0 };
	size_t blocks = mem_live_blocks();
	size_t msglen = 0, skip = 0;

	if (size > FUZZ_INPUT_MAX)
		return 0;

	check_msg(&fc, fc.base, size, true);

	/* stream: frame first, then decode exactly the framed message */
	if (sip_msg_frame(fc.base, size, &msglen, &skip) == 0) {
		if (skip > size || msglen > size - skip)
			fail("sip_msg_frame reports more bytes than given");
		check_msg(&fc, fc.base + skip, msglen, false);
	}

	if (mem_live_blocks() != blocks)
		fail("memory blocks leaked");

	fuzz_sink += fc.sum;
	return 0;
}
