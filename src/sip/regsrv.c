/**
 * @file regsrv.c  The registrar behind the transaction layer.
 *
 * Design
 *
 * A REGISTER reaches the core only when no server transaction absorbed
 * it (sip_recv()), as the stack's per-thread receive message, valid for
 * the call.  registrar_handle_now() decides on it as it is and gives the
 * answer before it returns, also a 200 that must wait for the commit of
 * the bindings it reports; so every answer is built here, once, from the
 * received message.  What the answer needs then decides how it is sent:
 *
 *   challenge, blocked source   stateless (RFC 3261 8.2.7): sip_reply()
 *                               from the received message, nothing kept
 *   other answers now           built and sent through a server
 *                               transaction
 *   200 after the commit        built whole now and kept, with a server
 *                               transaction made now, in one block that
 *                               waits in the registrar's queue; the
 *                               transaction absorbs retransmissions
 *                               meanwhile and repeats the 200 after (RFC
 *                               3261 17.2.2), so a retransmitted REGISTER
 *                               never meets the Call-ID/CSeq rule
 *
 * No transaction keeps a copy of the request (sip_strans_alloc_bare()),
 * and the registrar keeps no copy of the answer's lines: the waiting 200
 * is the response's bytes (a few hundred octets; a parsed request is
 * several kB).  Should the commit fail, the 500 of RFC 3261 10.3 step 7
 * is the waiting 200's head (Via with received/rport, From, To with our
 * tag, Call-ID, CSeq: RFC 3261 8.2.6) under another status line.
 *
 * Most REGISTERs of a digest registration are the first,
 * unauthenticated one: answering it statelessly saves the transaction
 * and its 32 s in Completed (Timer J over UDP), which at 10,000
 * REGISTER/s is 320,000 transactions held for nothing, and an
 * unauthenticated flood leaves no state behind.  A retransmitted first
 * REGISTER gets a fresh challenge; the nonces are stateless, so either
 * answers it.
 *
 * Limit: a 200 waiting for the commit whose transaction cannot be made
 * (out of memory) is still applied but cannot be answered; the UA's
 * retransmission then meets the Call-ID/CSeq rule (500).  Logged.
 */
#include "sip/regsrv.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/strans.h"

#define LOG_MODULE "registrar"

/* What sip_reply_build() ends a response without a body with. */
static const char cl_tail[] = "Content-Length: 0\r\n\r\n";
#define CL_TAIL_LEN (sizeof(cl_tail) - 1)

/* Stack storage for building an answer (larger ones go to the heap). */
#define ANSWER_STACK 2048

/* The block a 200 that waits is built in: it and the response (an
 * answer to a REGISTER is a few hundred octets). */
#define WAIT_BLOCK 1024

/* One REGISTER being answered, for the call of regsrv_handle(). */
struct regctx {
	struct registrar *reg;
	struct sip *sip;
	struct sip_msg *rx; /* the received request */
};

/* A 200 waiting for the commit: one block, the response after it. */
struct regwait {
	struct reg_wait wt;
	struct sip *sip;
	struct sip_strans *st;
	size_t head_off, head_len; /* its Via .. CSeq lines, for a 500 */
	size_t len;
	char resp[];
};

static void destructor(void *arg)
{
	struct regwait *w = arg;

	mem_deref(w->st);
}


/*
 * Build into mb: in stack storage first (an answer to a REGISTER is a
 * few hundred octets), in a heap buffer when it does not fit.  The caller
 * releases mb with buf_reset() when !mb->inl.
 */
static void stack_buf(struct buf *mb, uint8_t *stack, size_t size)
{
	mb->b = stack;
	mb->size = mb->max = size;
	mb->pos = mb->end = 0;
	mb->inl = true; /* never reallocated */
}


static int reply_build(struct buf *mb, uint8_t *stack, size_t size,
		       struct sip_msg *rx, uint16_t scode,
		       const struct sip_reply_opts *o)
{
	int err;

	stack_buf(mb, stack, size);
	err = sip_reply_build(mb, rx, scode, o);
	if (err != ENOMEM)
		return err;
	err = buf_init(mb, 8192, SIP_MSG_MAX);
	if (err)
		return err;
	return sip_reply_build(mb, rx, scode, o);
}


/* Answer now, through a server transaction. */
static int answer_now(struct regctx *c, uint16_t scode,
		      const struct sip_reply_opts *o)
{
	struct sip_strans *st = NULL;
	uint8_t stack[ANSWER_STACK];
	struct buf mb;
	int err;

	err = sip_strans_alloc_bare(&st, c->sip, c->rx);
	if (err)
		return err;
	err = reply_build(&mb, stack, sizeof(stack), c->rx, scode, o);
	if (!err)
		err = sip_strans_send_raw(st, scode, mb.b, mb.end);
	if (!mb.inl)
		buf_reset(&mb);
	mem_deref(st);
	return err;
}


/* After the commit: the 200 as built, or a 500 from its head. */
static void wait_done(int err, void *arg)
{
	static const char fail_hdrs[] = REG_FAIL_HDRS;
	struct regwait *w = arg;
	uint8_t stack[ANSWER_STACK];
	uint16_t scode = 200;
	struct buf mb;

	if (!err) {
		err = sip_strans_send_raw(w->st, 200, w->resp, w->len);
		goto out;
	}
	scode = 500;
	/* RFC 3261 10.3 step 7: the tentative updates were removed */
	stack_buf(&mb, stack, sizeof(stack));
	if (w->head_len + 64 + sizeof(REG_FAIL_REASON) > sizeof(stack) &&
	    buf_init(&mb, w->head_len + 64 + sizeof(REG_FAIL_REASON),
		     SIP_MSG_MAX)) {
		err = ENOMEM;
		goto out;
	}
	err = buf_write(&mb, "SIP/2.0 500 " REG_FAIL_REASON "\r\n",
			sizeof("SIP/2.0 500 " REG_FAIL_REASON "\r\n") - 1);
	err |= buf_write(&mb, w->resp + w->head_off, w->head_len);
	err |= buf_write(&mb, fail_hdrs, sizeof(fail_hdrs) - 1);
	err |= buf_write(&mb, cl_tail, CL_TAIL_LEN);
	if (!err)
		err = sip_strans_send_raw(w->st, 500, mb.b, mb.end);
	if (!mb.inl)
		buf_reset(&mb);
out:
	if (err)
		LOG_WARN(NULL, "REGISTER answer %u not sent: %s", scode,
			 log_strerror(err));
}


/*
 * A 200 that waits for the commit: built now, from the received
 * message, whole (the registrar's lines are final), kept with its
 * transaction in one block and sent by wait_done().  Its head (the
 * lines between the status line and the registrar's, RFC 3261 8.2.6)
 * is remembered for the 500 of a failed commit.
 */
static int answer_later(struct regctx *c, const struct reg_reply *rep,
			const struct sip_reply_opts *o)
{
	uint8_t stack[ANSWER_STACK];
	struct regwait *w, *big = NULL;
	const char *p, *eol;
	struct buf mb;
	size_t tail, len;
	int err;

	/* built straight into the block that keeps it; one that does not
	 * fit is built aside and copied into a block of its size */
	w = mem_alloc(WAIT_BLOCK, destructor);
	if (!w)
		return ENOMEM;
	w->st = NULL;
	stack_buf(&mb, (uint8_t *)w->resp, WAIT_BLOCK - sizeof(*w));
	err = sip_reply_build(&mb, c->rx, rep->scode, o);
	len = mb.end;
	if (err == ENOMEM) {
		err = reply_build(&mb, stack, sizeof(stack), c->rx, rep->scode,
				  o);
		big = err ? NULL : mem_alloc(sizeof(*w) + mb.end, destructor);
		if (!err && !big)
			err = ENOMEM;
		if (!err) {
			big->st = NULL;
			memcpy(big->resp, mb.b, mb.end);
			len = mb.end;
			mem_deref(w);
			w = big;
		}
		if (!mb.inl)
			buf_reset(&mb);
	}
	if (err)
		goto out;
	w->sip = c->sip;
	w->len = len;
	p = w->resp;
	tail = rep->hdrs_len + CL_TAIL_LEN;
	eol = memchr(p, '\n', w->len);
	if (!eol || w->len < tail || (size_t)(eol + 1 - p) > w->len - tail ||
	    memcmp(p + w->len - CL_TAIL_LEN, cl_tail, CL_TAIL_LEN) != 0) {
		err = EPROTO; /* not the layout this file builds on */
		goto out;
	}
	w->head_off = (size_t)(eol + 1 - p);
	w->head_len = w->len - tail - w->head_off;
	err = sip_strans_alloc_bare(&w->st, c->sip, c->rx);
	if (err)
		goto out;
	registrar_wait(c->reg, &w->wt, wait_done, w);
out:
	mem_deref(w); /* the queue's reference, if queued */
	return err;
}


static void replied(const struct reg_reply *rep, void *arg)
{
	struct regctx *c = arg;
	struct sip_reply_opts o = { 0 };
	int err;

	if (rep->err)
		return;
	o.reason = rep->reason;
	o.hdrs = rep->hdrs;
	if (rep->stateless)
		err = sip_reply(c->sip, c->rx, rep->scode, &o);
	else if (rep->wait)
		err = answer_later(c, rep, &o);
	else
		err = answer_now(c, rep->scode, &o);
	if (err && rep->wait)
		LOG_WARN(NULL,
			 "REGISTER without a transaction (%s): its answer "
			 "cannot be sent",
			 log_strerror(err));
	else if (err)
		LOG_WARN(NULL, "REGISTER answer %u not sent: %s", rep->scode,
			 log_strerror(err));
}


/**
 * Answer a REGISTER (see the file comment for how).
 *
 * @param reg  the registrar
 * @param sip  the stack the request came from
 * @param msg  the request as received (not kept)
 */
void regsrv_handle(struct registrar *reg, struct sip *sip, struct sip_msg *msg)
{
	struct regctx c = { reg, sip, msg };

	if (registrar_handle_now(reg, msg, replied, &c))
		(void)sip_replyf(sip, msg, 500, NULL);
}
