/**
 * @file regsrv.c  The registrar behind the transaction layer.
 *
 * Design
 *
 * A REGISTER reaches the core only when no server transaction absorbed
 * it (sip_recv()), as the stack's per-thread receive message, valid for
 * the call.  registrar_handle() decides on it as it is: it keeps nothing
 * of the request once it returns (an answer that waits for the commit is
 * put together before it returns).  What the answer needs then decides
 * how it is sent:
 *
 *   challenge, blocked source   stateless (RFC 3261 8.2.7): sip_reply()
 *                               from the received message, nothing kept
 *   other answers now           built from the received message and sent
 *                               through a server transaction
 *   200 after the commit        a server transaction made when
 *                               registrar_handle() returns; it absorbs
 *                               retransmissions meanwhile and repeats the
 *                               200 after (RFC 3261 17.2.2), so a
 *                               retransmitted REGISTER never meets the
 *                               Call-ID/CSeq rule
 *
 * No transaction keeps a copy of the request (sip_strans_alloc_bare()):
 * for an answer that waits for the commit, the lines every response to
 * the request carries (Via with received/rport, From, To with our tag,
 * Call-ID, CSeq: RFC 3261 8.2.6) are built when it arrives, and the
 * answer is that head between its status line and its own header lines.
 * A copy of the parsed request is several kB, a head a few hundred
 * octets.
 *
 * Most REGISTERs of a digest registration are the first, unauthenticated
 * one: answering it statelessly saves the transaction and its 32 s in
 * Completed (Timer J over UDP), which at 10,000 REGISTER/s is 320,000
 * transactions held for nothing, and an unauthenticated flood leaves no
 * state behind.  A retransmitted first REGISTER gets a fresh challenge;
 * the nonces are stateless, so either answers it.
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

/* One REGISTER being answered. */
struct regwait {
	struct sip *sip;
	struct sip_msg *rx; /* the received request; only during the call */
	struct sip_strans *st;
	char *head; /* Via .. CSeq lines of the answer (after the commit) */
	size_t head_len;
	bool answered;
};

static void destructor(void *arg)
{
	struct regwait *w = arg;

	mem_deref(w->st);
	mem_deref(w->head);
}


/* An answer being built: to the received message (w->rx), or from the
 * head kept for after the commit. */
struct answer {
	struct regwait *w;
	uint16_t scode;
	const struct sip_reply_opts *o;
};


/* The answer after the commit: status line, head, its lines. */
static int later_build(struct buf *mb, const struct answer *a)
{
	const struct sip_reply_opts *o = a->o;
	int err;

	err = buf_write(mb, "SIP/2.0 ", 8);
	err |= buf_write_u32(mb, a->scode);
	err |= buf_write(mb, " ", 1);
	err |= buf_write_str(mb, o->reason ? o->reason : sip_reason(a->scode));
	err |= buf_write(mb, "\r\n", 2);
	err |= buf_write(mb, a->w->head, a->w->head_len);
	err |= buf_write_str(mb, o->hdrs ? o->hdrs : "");
	err |= buf_write(mb, cl_tail, CL_TAIL_LEN);
	return err ? ENOMEM : 0;
}


static int answer_build1(struct buf *mb, const struct answer *a)
{
	if (a->w->rx)
		return sip_reply_build(mb, a->w->rx, a->scode, a->o);
	return later_build(mb, a);
}


/*
 * Build an answer into mb: in stack storage first (an answer to a
 * REGISTER is a few hundred octets), in a heap buffer when it does not
 * fit.  The caller releases mb with buf_reset() when !mb->inl.
 */
static int answer_build(struct buf *mb, uint8_t *stack, size_t size,
			const struct answer *a)
{
	int err;

	mb->b = stack;
	mb->size = mb->max = size;
	mb->pos = mb->end = 0;
	mb->inl = true; /* never reallocated */
	err = answer_build1(mb, a);
	if (err != ENOMEM)
		return err;
	err = buf_init(mb, 8192, SIP_MSG_MAX);
	if (err)
		return err;
	return answer_build1(mb, a);
}


/* Answer now (from the received message) or after the commit (from the
 * head), through the transaction. */
static int answer_send(struct regwait *w, uint16_t scode,
		       const struct sip_reply_opts *o)
{
	const struct answer a = { w, scode, o };
	uint8_t stack[ANSWER_STACK];
	struct buf mb;
	int err;

	if (!w->rx && (!w->head || !w->st))
		return ENOENT;
	if (w->rx) {
		err = sip_strans_alloc_bare(&w->st, w->sip, w->rx);
		if (err)
			return err;
	}
	err = answer_build(&mb, stack, sizeof(stack), &a);
	if (!err)
		err = sip_strans_send_raw(w->st, scode, mb.b, mb.end);
	if (!mb.inl)
		buf_reset(&mb);
	return err;
}


/*
 * For an answer that waits for the commit: the lines sip_reply_build()
 * writes between the status line and the caller's header lines, and the
 * transaction.  The head is the same for every final code (the To tag
 * comes from the request; REGISTER copies no Record-Route).
 */
static int wait_prepare(struct regwait *w)
{
	static const struct sip_reply_opts ok = { .reason = "OK" };
	const struct answer a = { w, 200, &ok };
	uint8_t stack[ANSWER_STACK];
	const char *p, *eol;
	struct buf mb;
	int err;

	err = answer_build(&mb, stack, sizeof(stack), &a);
	if (err)
		goto out;
	p = (const char *)mb.b;
	eol = memchr(p, '\n', mb.end);
	if (!eol || mb.end < CL_TAIL_LEN ||
	    memcmp(p + mb.end - CL_TAIL_LEN, cl_tail, CL_TAIL_LEN)) {
		err = EPROTO; /* not the layout this file builds on */
		goto out;
	}
	eol++;
	w->head_len = (size_t)(p + mb.end - CL_TAIL_LEN - eol);
	w->head = mem_alloc(w->head_len + 1, NULL);
	if (!w->head) {
		err = ENOMEM;
		goto out;
	}
	memcpy(w->head, eol, w->head_len);
	w->head[w->head_len] = '\0';
	err = sip_strans_alloc_bare(&w->st, w->sip, w->rx);
out:
	if (!mb.inl)
		buf_reset(&mb);
	return err;
}


static void replied(const struct reg_reply *rep, void *arg)
{
	struct regwait *w = arg;
	struct sip_reply_opts o = { 0 };
	int err;

	w->answered = true;
	if (rep->err) {
		err = 0;
		goto out;
	}
	o.reason = rep->reason;
	o.hdrs = rep->hdrs;
	if (w->rx && rep->stateless)
		err = sip_reply(w->sip, w->rx, rep->scode, &o);
	else
		err = answer_send(w, rep->scode, &o);
out:
	if (err)
		LOG_WARN(NULL, "REGISTER answer %u not sent: %s", rep->scode,
			 log_strerror(err));
	mem_deref(w);
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
	struct regwait *w;
	int err;

	w = mem_zalloc(sizeof(*w), destructor);
	if (!w) {
		(void)sip_replyf(sip, msg, 500, "Out Of Memory");
		return;
	}
	w->sip = sip;
	w->rx = msg;
	mem_ref(w); /* ours for this call; the other is replied()'s */
	err = registrar_handle(reg, msg, replied, w);
	if (err) {
		mem_deref(w); /* replied() will not run */
		(void)sip_replyf(sip, msg, 500, NULL);
	} else if (!w->answered) {
		/* the answer waits for the commit */
		err = wait_prepare(w);
		if (err)
			LOG_WARN(NULL,
				 "REGISTER without a transaction (%s): its "
				 "answer cannot be sent",
				 log_strerror(err));
	}
	w->rx = NULL;
	mem_deref(w);
}
