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
 *   other answers now           a server transaction, made in the reply
 *                               callback from a copy of the request
 *   200 after the commit        a server transaction made when
 *                               registrar_handle() returns, answered from
 *                               the commit; it absorbs retransmissions
 *                               meanwhile and repeats the 200 after
 *                               (RFC 3261 17.2.2), so a retransmitted
 *                               REGISTER never meets the Call-ID/CSeq rule
 *
 * Most REGISTERs of a digest registration are the first, unauthenticated
 * one: answering it statelessly saves the copy, the transaction and its
 * 32 s in Completed (Timer J over UDP), which at 10,000 REGISTER/s is
 * 320,000 transactions held for nothing, and an unauthenticated flood
 * leaves no state behind.  A retransmitted first REGISTER gets a fresh
 * challenge; the nonces are stateless, so either answers it.
 *
 * Limit: a 200 waiting for the commit whose transaction cannot be made
 * (out of memory) is still applied but cannot be answered; the UA's
 * retransmission then meets the Call-ID/CSeq rule (500).  Logged.
 */
#include "sip/regsrv.h"

#include <errno.h>
#include <stdbool.h>

#include "core/log.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/strans.h"

#define LOG_MODULE "registrar"

/* One REGISTER being answered. */
struct regwait {
	struct sip *sip;
	struct sip_msg *rx; /* the received request; only during the call */
	struct sip_strans *st;
	bool answered;
};

static void destructor(void *arg)
{
	struct regwait *w = arg;

	mem_deref(w->st);
}


/* The server transaction, from a copy of the received request. */
static int trans_make(struct regwait *w)
{
	struct sip_msg *req = NULL;
	int err;

	if (!w->rx)
		return ENOENT;
	err = sip_msg_dup(&req, w->rx);
	if (!err)
		err = sip_strans_alloc(&w->st, w->sip, req, NULL, NULL);
	mem_deref(req);
	return err;
}


static void replied(const struct reg_reply *rep, void *arg)
{
	struct regwait *w = arg;
	struct sip_reply_opts o = { 0 };
	int err = 0;

	w->answered = true;
	if (rep->err)
		goto out;
	o.reason = rep->reason;
	o.hdrs = rep->hdrs;
	if (!w->st && rep->stateless && w->rx) {
		err = sip_reply(w->sip, w->rx, rep->scode, &o);
		goto out;
	}
	if (!w->st)
		err = trans_make(w);
	if (!err)
		err = sip_strans_reply(w->st, rep->scode, &o);
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
		err = trans_make(w);
		if (err)
			LOG_WARN(NULL,
				 "REGISTER without a transaction (%s): its "
				 "retransmissions are not absorbed",
				 log_strerror(err));
	}
	w->rx = NULL;
	mem_deref(w);
}
