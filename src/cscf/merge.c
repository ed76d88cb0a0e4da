/**
 * @file merge.c  The final response of a forked request (RFC 3261 16.7
 * steps 6 and 7).
 *
 * The best response is kept as a copy (the branch's message goes away
 * with its transaction); the challenges are kept as header lines, copied
 * as they came, in arrival order.  The result for a 401/407 is the best
 * response re-encoded with its own challenge lines replaced by all of
 * them: the status line, every other header and the body stay as the
 * branch sent them.
 */
#include "cscf/merge.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "sip/msg.h"

#define MERGE_MSG_MAX  65535
#define MERGE_AUTH_MAX 16384


/* 16.7 step 6: a 6xx first, then the lowest class; within 4xx the
 * answers that say how to retry. */
static unsigned rank(uint16_t scode)
{
	if (scode >= 600)
		return 0;
	if (scode == 401 || scode == 407 || scode == 415 || scode == 420 ||
	    scode == 484)
		return 40;
	return (unsigned)(scode / 100) * 10 + 1;
}


bool cscf_merge_better(const struct sip_msg *a, const struct sip_msg *b)
{
	if (!a)
		return false;
	if (!b)
		return true;
	return rank(a->scode) < rank(b->scode);
}


static bool challenge(const struct sip_hdr *h)
{
	return h->id == SIP_HDR_WWW_AUTHENTICATE ||
	       h->id == SIP_HDR_PROXY_AUTHENTICATE;
}


int cscf_merge_add(struct cscf_merge *m, const struct sip_msg *resp)
{
	struct sip_msg *dup = NULL;
	uint16_t i;
	int err;

	if (!m || !resp || resp->req || resp->scode < 300)
		return EINVAL;
	if (resp->scode == 401 || resp->scode == 407) {
		if (!m->auth) {
			err = buf_alloc(&m->auth, 512, MERGE_AUTH_MAX);
			if (err)
				return err;
		}
		for (i = 0; i < resp->hdrc; i++) {
			const struct sip_hdr *h = &resp->hdrv[i];

			if (!challenge(h))
				continue;
			err = buf_printf(m->auth, "%.*s: %.*s\r\n",
					 (int)h->name.l, h->name.p,
					 (int)h->val.l, h->val.p);
			if (err)
				return err;
		}
	}
	if (!cscf_merge_better(resp, m->best))
		return 0;
	err = sip_msg_dup(&dup, resp);
	if (err)
		return err;
	mem_deref(m->best);
	m->best = dup;
	return 0;
}


int cscf_merge_result(const struct cscf_merge *m, struct sip_msg **respp)
{
	const struct sip_msg *b;
	struct sip_msg_err e;
	struct buf *mb = NULL;
	const char *eol;
	uint16_t i;
	int err;

	if (!m || !respp)
		return EINVAL;
	b = m->best;
	if (!b)
		return ENOENT;
	if ((b->scode != 401 && b->scode != 407) || !m->auth || !m->auth->end) {
		*respp = mem_ref(m->best);
		return 0;
	}
	eol = memchr(b->p, '\n', b->len);
	if (!eol)
		return EBADMSG;
	err = buf_alloc(&mb, b->len + m->auth->end + 64, MERGE_MSG_MAX);
	if (err)
		return err;
	err = buf_write(mb, b->p, (size_t)(eol + 1 - b->p));
	for (i = 0; !err && i < b->hdrc; i++) {
		const struct sip_hdr *h = &b->hdrv[i];

		if (challenge(h) || h->id == SIP_HDR_CONTENT_LENGTH)
			continue;
		err = buf_printf(mb, "%.*s: %.*s\r\n", (int)h->name.l,
				 h->name.p, (int)h->val.l, h->val.p);
	}
	if (!err)
		err = buf_write(mb, m->auth->b, m->auth->end);
	if (!err)
		err = buf_printf(mb, "Content-Length: %zu\r\n\r\n", b->body.l);
	if (!err)
		err = buf_write_pl(mb, &b->body);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(respp, mb, true, &e);
	}
	mem_deref(mb);
	return err;
}


void cscf_merge_reset(struct cscf_merge *m)
{
	if (!m)
		return;
	m->best = mem_deref(m->best);
	m->auth = mem_deref(m->auth);
}
