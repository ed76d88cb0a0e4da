/**
 * @file ctrans.c  Client transactions (RFC 3261 17.1, RFC 6026 8.4).
 *
 * Design.  A transaction is a `struct ctrans` in sip->ctrans, keyed by
 * the case-folded hash of its branch; the hash entry is its only counted
 * reference.  It matches a response when the top Via branch is equal and
 * the CSeq method is the request's (17.1.3), so an INVITE and its CANCEL,
 * which share the branch (9.1), are told apart by method.
 *
 * Two timers per transaction are enough, because no state runs more than
 * a retransmission timer and an end timer at once:
 *   tmr_rt   Timer A (INVITE Calling) or E (non-INVITE Trying/Proceeding),
 *            unreliable transports only;
 *   tmr_end  Timer B, F (timeouts), D, K (Completed), M (Accepted), or the
 *            64*T1 wait for a final response after a CANCEL (9.1).
 *
 * The TU holds a `struct sip_ctrans` handle that points weakly at the
 * transaction (and back).  When the handle goes the transaction forgets
 * its callback and, for an INVITE without a final response, sends a
 * CANCEL (at once or on the first provisional response).  Every callback
 * runs with an extra reference on the transaction, so the TU may drop the
 * handle or close the whole stack from inside it; after a callback the
 * code touches nothing but that reference.
 *
 * The request is kept as bytes.  An INVITE decodes them again (onto the
 * stack) on the rare occasions it builds an ACK or a CANCEL.
 */
#include "sip/ctrans.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/transp.h"
#include "sip/via.h"

#define LOG_MODULE "ctrans"

/* RFC 3261 17.1.1.2: Timer D is at least 32 s for unreliable transports. */
#define SIP_TIMER_D_MIN 32000ull

enum ct_state {
	CT_CALLING,    /* INVITE, no response yet */
	CT_TRYING,     /* non-INVITE, no response yet */
	CT_PROCEEDING, /* a provisional response came */
	CT_COMPLETED,  /* non-2xx final (INVITE) or any final (non-INVITE) */
	CT_ACCEPTED,   /* INVITE 2xx, RFC 6026 */
	CT_TERMINATED,
};

/* The TU's handle. */
struct sip_ctrans {
	struct ctrans *ct; /* weak: cleared when the transaction goes */
};

struct ctrans {
	struct le he;         /* in sip->ctrans, the only counted ref */
	struct sip *sip;      /* weak */
	struct sip_ctrans *h; /* weak: the TU's handle, NULL when gone */
	sip_ctrans_resp_h *resph;
	void *arg;
	char *req; /* the request bytes */
	size_t reqlen;
	char *ack; /* INVITE: the ACK of a non-2xx final */
	size_t acklen;
	struct sip_conn *conn; /* counted, may be NULL */
	struct tmr tmr_rt;     /* A or E */
	struct tmr tmr_end;    /* B, D, F, K, M, CANCEL wait */
	struct sa dst;
	uint32_t rtx_ms; /* the next retransmission interval */
	enum sip_transp tp;
	enum ct_state state;
	bool invite;
	bool reliable;
	bool cancel_pending; /* CANCEL asked for before a provisional */
	bool cancel_sent;
	uint16_t branch_len;
	uint16_t met_len;
	char key[]; /* branch, then method */
};


static void ct_branch(const struct ctrans *ct, struct pl *pl)
{
	pl_set(pl, ct->key, ct->branch_len);
}


static void ct_met(const struct ctrans *ct, struct pl *pl)
{
	pl_set(pl, ct->key + ct->branch_len, ct->met_len);
}


static void ct_lctx(const struct ctrans *ct, struct log_ctx *lctx)
{
	memset(lctx, 0, sizeof(*lctx));
	lctx->tx = ct->key;
	lctx->tx_len = ct->branch_len;
}


static void destructor(void *arg)
{
	struct ctrans *ct = arg;

	tmr_cancel(&ct->tmr_rt);
	tmr_cancel(&ct->tmr_end);
	if (ct->he.list)
		hash_unlink(ct->sip->ctrans, &ct->he);
	if (ct->h)
		ct->h->ct = NULL;
	mem_deref(ct->req);
	mem_deref(ct->ack);
	mem_deref(ct->conn);
}


/* Leave the hash (dropping its reference): the caller must hold its own
 * reference if it touches ct afterwards. */
static void terminate(struct ctrans *ct)
{
	ct->state = CT_TERMINATED;
	tmr_cancel(&ct->tmr_rt);
	tmr_cancel(&ct->tmr_end);
	if (ct->he.list) {
		hash_unlink(ct->sip->ctrans, &ct->he);
		mem_deref(ct);
	}
}


static void report(struct ctrans *ct, int err, struct sip_msg *msg)
{
	if (ct->resph)
		ct->resph(err, msg, ct->arg);
}


static int send_bytes(struct ctrans *ct, const char *p, size_t len)
{
	int err = sip_send(ct->sip, ct->tp, &ct->dst, ct->conn, p, len);

	if (!err)
		ct->sip->stats.tx_requests++;
	return err;
}


uint32_t sip_ctrans_hash_key(const void *data)
{
	const struct ctrans *ct = data;

	return hash_fast_ci(ct->key, ct->branch_len);
}


/* RFC 3261 17.1.4: a transport error ends the transaction and the TU is
 * told; the same for the timeouts (17.1.1.2 Timer B, 17.1.2.2 Timer F). */
static void fail(struct ctrans *ct, int err)
{
	mem_ref(ct);
	terminate(ct);
	report(ct, err, NULL);
	mem_deref(ct);
}


/**
 * The transport could not deliver a request this stack sent (17.1.4): the
 * client transaction with that branch and method ends with err.
 */
void sip_ctrans_transport_error(struct sip *sip, const struct pl *branch,
				const struct pl *met, int err)
{
	struct list *lst;
	struct le *le;

	if (!sip || !sip->ctrans || !branch || !met)
		return;
	lst = hash_list(sip->ctrans, hash_fast_ci(branch->p, branch->l));
	LIST_FOREACH (lst, le) {
		struct ctrans *c = le->data;
		struct pl b, m;

		ct_branch(c, &b);
		ct_met(c, &m);
		if (pl_eq_ci(&b, branch) && pl_eq(&m, met)) {
			if (c->state == CT_CALLING || c->state == CT_TRYING ||
			    c->state == CT_PROCEEDING)
				fail(c, err);
			return;
		}
	}
}


/**
 * Every running client transaction that sends over tp to dst without a
 * connection of its own ends with err: an ICMP unreachable for dst whose
 * quoted datagram was too short to name the branch (RFC 3261 18.4).
 * Collected first, then failed, because each TU callback may start or end
 * transactions (or close the stack).
 */
void sip_ctrans_dest_error(struct sip *sip, enum sip_transp tp,
			   const struct sa *dst, int err)
{
	enum {
		BATCH = 64,
		PASSES = 64
	};
	struct ctrans *v[BATCH];
	unsigned pass;

	if (!sip || !dst)
		return;
	mem_ref(sip);
	for (pass = 0; pass < PASSES && sip->ctrans; pass++) {
		size_t n = 0, k;
		uint32_t i;

		for (i = 0; i <= sip->ctrans->mask && n < BATCH; i++) {
			struct le *le;

			LIST_FOREACH (&sip->ctrans->bucket[i], le) {
				struct ctrans *c = le->data;

				if (n == BATCH)
					break;
				if (c->tp == tp && !c->conn &&
				    (c->state == CT_CALLING ||
				     c->state == CT_TRYING ||
				     c->state == CT_PROCEEDING) &&
				    sa_eq(&c->dst, dst))
					v[n++] = mem_ref(c);
			}
		}
		for (k = 0; k < n; k++) {
			if (v[k]->he.list && v[k]->state != CT_TERMINATED)
				fail(v[k], err);
			mem_deref(v[k]);
		}
		if (n < BATCH)
			break;
	}
	mem_deref(sip);
}


/* Timer A (17.1.1.2) or E (17.1.2.2) */
static void tmr_rt_h(void *arg)
{
	struct ctrans *ct = arg;
	struct log_ctx lctx;
	int err;

	err = send_bytes(ct, ct->req, ct->reqlen);
	if (err) {
		ct_lctx(ct, &lctx);
		LOG_WARN(&lctx, "retransmission failed: %s", log_strerror(err));
		fail(ct, err);
		return;
	}

	if (ct->invite) {
		/* Timer A doubles with no ceiling: B ends it */
		ct->rtx_ms *= 2;
	} else if (ct->state == CT_PROCEEDING) {
		/* 17.1.2.2: in Proceeding, E is reset to T2 */
		ct->rtx_ms = sip_t2(ct->sip);
	} else {
		ct->rtx_ms = ct->rtx_ms * 2 < sip_t2(ct->sip) ? ct->rtx_ms * 2
							      : sip_t2(ct->sip);
	}
	tmr_start(&ct->tmr_rt, ct->rtx_ms, tmr_rt_h, ct);
}


static void tmr_end_h(void *arg)
{
	struct ctrans *ct = arg;
	struct log_ctx lctx;

	switch (ct->state) {

	case CT_CALLING:    /* Timer B */
	case CT_TRYING:     /* Timer F */
	case CT_PROCEEDING: /* Timer F, or 64*T1 after CANCEL (9.1) */
		ct_lctx(ct, &lctx);
		LOG_DEBUG(&lctx, "no final response: timed out");
		fail(ct, ETIMEDOUT);
		break;

	case CT_ACCEPTED: /* Timer M: no more 2xx; the TU may let go */
		mem_ref(ct);
		terminate(ct);
		report(ct, 0, NULL);
		mem_deref(ct);
		break;

	default: /* Timers D, K */
		terminate(ct);
		break;
	}
}


/* Copy a header line's value under its full name, every line of it. */
static int put_hdrs(struct buf *mb, const struct sip_msg *msg,
		    enum sip_hdr_id id, const char *name)
{
	const struct sip_hdr *h;
	int err = 0;

	for (h = sip_msg_hdr(msg, id); h && !err; h = sip_msg_hdr_next(msg, h))
		err = buf_printf(mb, "%s: %.*s\r\n", name, PL_FMT(&h->val));
	return err;
}


/*
 * The request that ACK (17.1.1.3) and CANCEL (9.1) share: the Request-URI,
 * a single Via equal to the request's top Via (same branch), its Route
 * header fields, From, Call-ID and the CSeq number.  `to` is the To header
 * value of the response for an ACK, NULL for a CANCEL (the request's To).
 */
static int build_peer_req(char **outp, size_t *lenp, const struct ctrans *ct,
			  const char *met, const struct pl *to)
{
	struct sip_msg *req;
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	const struct sip_hdr *from, *rto;
	struct pl cid;
	struct buf mb;
	struct sip_msg_err merr;
	char *out = NULL;
	int err;

	memset(&mb, 0, sizeof(mb));
	req = mem_alloc(sizeof(*req), NULL); /* decode clears the index */
	if (!req)
		return ENOMEM;

	err = sip_msg_decode(req, ct->req, ct->reqlen, true, &merr);
	if (err)
		goto out;
	err = sip_msg_via(req, &via);
	if (err)
		goto out;
	err = sip_msg_cseq(req, &cseq);
	if (err)
		goto out;
	err = sip_msg_callid(req, &cid);
	if (err)
		goto out;
	from = sip_msg_hdr(req, SIP_HDR_FROM);
	rto = sip_msg_hdr(req, SIP_HDR_TO);
	if (!from || !rto) {
		err = EBADMSG;
		goto out;
	}
	if (!to)
		to = &rto->val;

	err = buf_init(&mb, 512, SIP_MSG_MAX);
	if (err)
		goto out;
	err = buf_printf(&mb, "%s %.*s SIP/2.0\r\nVia: %.*s\r\n", met,
			 PL_FMT(&req->ruri), PL_FMT(&via->val));
	if (err)
		goto out;
	err = put_hdrs(&mb, req, SIP_HDR_ROUTE, "Route");
	if (err)
		goto out;
	err = buf_printf(&mb,
			 "Max-Forwards: 70\r\n"
			 "From: %.*s\r\n"
			 "To: %.*s\r\n"
			 "Call-ID: %.*s\r\n"
			 "CSeq: %u %s\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 PL_FMT(&from->val), PL_FMT(to), PL_FMT(&cid),
			 cseq->num, met);
	if (err)
		goto out;

	out = mem_alloc(mb.end, NULL);
	if (!out) {
		err = ENOMEM;
		goto out;
	}
	memcpy(out, mb.b, mb.end);
	*outp = out;
	*lenp = mb.end;
out:
	buf_reset(&mb);
	mem_deref(req);
	return err;
}


/* Create, hash and start a transaction; the request is sent first. */
static int ctrans_create(struct ctrans **ctp, struct sip *sip,
			 const struct sip_ctrans_opts *opts,
			 sip_ctrans_resp_h *resph, void *arg)
{
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct ctrans *ct = NULL;
	struct pl met, branch;
	bool invite, once;
	int err;

	if (!sip || !sip->ctrans || !opts || !opts->req || !opts->len ||
	    opts->len > SIP_MSG_MAX || opts->tp <= SIP_TRANSP_NONE ||
	    opts->tp >= SIP_TRANSP_NUM)
		return EINVAL;

	if (pl_isset(&opts->met) && pl_isset(&opts->branch)) {
		/* the caller built the request and says what it put in it (a
		 * proxy forwarding): parsing our own bytes again would cost
		 * as much as the rest of the transaction */
		met = opts->met;
		branch = opts->branch;
		if (branch.l <= 7 || memcmp(branch.p, "z9hG4bK", 7) != 0 ||
		    pl_eq_str(&met, "ACK") || branch.l > UINT16_MAX ||
		    met.l > UINT16_MAX)
			return EINVAL;
		invite = pl_eq_str(&met, "INVITE");
	} else {
		/* Check what we are asked to send: our own request, with
		 * our Via */
		msg = mem_alloc(sizeof(*msg), NULL);
		if (!msg)
			return ENOMEM;
		err = sip_msg_decode(msg, opts->req, opts->len, true, &merr);
		if (err)
			goto out;
		if (!msg->req || msg->meth == SIP_METHOD_ACK) {
			/* 17.1: an ACK for a 2xx has no client transaction */
			err = EINVAL;
			goto out;
		}
		err = sip_msg_via(msg, &via);
		if (err)
			goto out;
		err = sip_msg_cseq(msg, &cseq);
		if (err)
			goto out;
		met = msg->met;
		branch = via->branch;
		/* 8.1.1.7: the branch must be ours, with the magic cookie,
		 * and the CSeq method (17.1.3 matching) must be the
		 * request's */
		if (!sip_via_branch_3261(via) || !pl_eq(&cseq->met, &met) ||
		    (pl_isset(&opts->met) && !pl_eq(&opts->met, &met)) ||
		    (pl_isset(&opts->branch) &&
		     !pl_eq(&opts->branch, &branch)) ||
		    branch.l > UINT16_MAX || met.l > UINT16_MAX) {
			err = EINVAL;
			goto out;
		}
		invite = msg->meth == SIP_METHOD_INVITE;
	}

	ct = mem_zalloc(sizeof(*ct) + branch.l + met.l, destructor);
	if (!ct) {
		err = ENOMEM;
		goto out;
	}
	ct->sip = sip;
	ct->resph = resph;
	ct->arg = arg;
	ct->tp = opts->tp;
	ct->dst = opts->dst;
	ct->conn = mem_ref(opts->conn);
	ct->reliable = sip_transp_reliable(opts->tp);
	ct->invite = invite;
	ct->state = ct->invite ? CT_CALLING : CT_TRYING;
	ct->branch_len = (uint16_t)branch.l;
	ct->met_len = (uint16_t)met.l;
	memcpy(ct->key, branch.p, branch.l);
	memcpy(ct->key + branch.l, met.p, met.l);
	ct->req = mem_alloc(opts->len, NULL);
	if (!ct->req) {
		err = ENOMEM;
		goto out;
	}
	memcpy(ct->req, opts->req, opts->len);
	ct->reqlen = opts->len;

	/* handed over in-process: delivered exactly once, a reliable hop
	 * (transp.c, local handover) */
	err = sip_send_once(ct->sip, ct->tp, &ct->dst, ct->conn, ct->req,
			    ct->reqlen, &once);
	if (err)
		goto out;
	ct->sip->stats.tx_requests++;
	if (once)
		ct->reliable = true;

	hash_append(sip->ctrans, hash_fast_ci(branch.p, branch.l), &ct->he, ct);

	/* 17.1.1.2 Timers A and B; 17.1.2.2 Timers E and F */
	if (!ct->reliable) {
		ct->rtx_ms = sip_t1(sip);
		tmr_start(&ct->tmr_rt, ct->rtx_ms, tmr_rt_h, ct);
	}
	tmr_start(&ct->tmr_end, sip_t1x64(sip), tmr_end_h, ct);

	*ctp = ct;
	ct = NULL;
out:
	mem_deref(ct);
	mem_deref(msg);
	return err;
}


/* RFC 3261 9.1: CANCEL in its own non-INVITE client transaction, and the
 * INVITE gives up 64*T1 later if no final response came. */
static int send_cancel(struct ctrans *ct)
{
	struct sip_ctrans_opts opts;
	struct ctrans *cct = NULL;
	struct log_ctx lctx;
	char *cancel = NULL;
	size_t len = 0;
	int err;

	err = build_peer_req(&cancel, &len, ct, "CANCEL", NULL);
	if (err)
		goto out;

	memset(&opts, 0, sizeof(opts));
	opts.req = cancel;
	opts.len = len;
	pl_set_str(&opts.met, "CANCEL");
	ct_branch(ct, &opts.branch);
	opts.tp = ct->tp;
	opts.dst = ct->dst;
	opts.conn = ct->conn;
	err = ctrans_create(&cct, ct->sip, &opts, NULL, NULL);
	if (err)
		goto out;

	ct->cancel_sent = true;
	tmr_start(&ct->tmr_end, sip_t1x64(ct->sip), tmr_end_h, ct);
out:
	if (err) {
		ct_lctx(ct, &lctx);
		LOG_WARN(&lctx, "CANCEL not sent: %s", log_strerror(err));
	}
	mem_deref(cancel);
	return err;
}


static int ctrans_cancel(struct ctrans *ct)
{
	switch (ct->state) {

	case CT_CALLING:
		/* 9.1: wait for a provisional response */
		ct->cancel_pending = true;
		return 0;

	case CT_PROCEEDING:
		return ct->cancel_sent ? 0 : send_cancel(ct);

	default:
		/* a final response came: nothing left to cancel */
		return 0;
	}
}


static void handle_destructor(void *arg)
{
	struct sip_ctrans *h = arg;
	struct ctrans *ct = h->ct;

	if (!ct)
		return;
	ct->h = NULL;
	ct->resph = NULL;
	ct->arg = NULL;
	if (ct->invite)
		(void)ctrans_cancel(ct); /* failures are logged */
}


/**
 * Create a client transaction and send its request.
 *
 * @param ctp    the TU's handle, or NULL for none (mem_deref the handle
 *               when done; doing so early abandons the request, which for
 *               an INVITE means a CANCEL)
 * @param sip    the stack
 * @param opts   the encoded request (its top Via carrying a fresh branch
 *               from sip_branch_new()), where to send it; met and branch
 *               are checked against the request when set
 * @param resph  receives the responses and the end (may be NULL)
 * @param arg    handler argument
 * @return 0, EINVAL (not a request, an ACK, no RFC 3261 branch, CSeq method
 *         mismatch), EBADMSG (undecodable), ENOMEM, or the send error
 */
int sip_ctrans_alloc(struct sip_ctrans **ctp, struct sip *sip,
		     const struct sip_ctrans_opts *opts,
		     sip_ctrans_resp_h *resph, void *arg)
{
	struct sip_ctrans *h = NULL;
	struct ctrans *ct;
	int err;

	if (ctp) {
		h = mem_zalloc(sizeof(*h), handle_destructor);
		if (!h)
			return ENOMEM;
	}

	err = ctrans_create(&ct, sip, opts, resph, arg);
	if (err) {
		mem_deref(h);
		return err;
	}

	if (h) {
		h->ct = ct;
		ct->h = h;
		*ctp = h;
	}
	return 0;
}


/**
 * Cancel an INVITE client transaction (RFC 3261 9.1).
 *
 * The CANCEL is sent in its own client transaction once a provisional
 * response has arrived (at once if one has).  If no final response comes
 * within 64*T1 of the CANCEL, the INVITE transaction ends with ETIMEDOUT.
 * After a final response this does nothing.
 *
 * @param ct  the handle
 * @return 0, EINVAL for a non-INVITE (9.1: SHOULD NOT be cancelled), or
 *         the error building or sending the CANCEL
 */
int sip_ctrans_cancel(struct sip_ctrans *ct)
{
	if (!ct)
		return EINVAL;
	if (!ct->ct)
		return 0; /* ended: a final response or a timeout came */
	if (!ct->ct->invite)
		return EINVAL;
	return ctrans_cancel(ct->ct);
}


bool sip_ctrans_active(const struct sip_ctrans *ct)
{
	return ct && ct->ct && ct->ct->state != CT_TERMINATED;
}


static void send_ack(struct ctrans *ct)
{
	struct log_ctx lctx;
	int err;

	err = send_bytes(ct, ct->ack, ct->acklen);
	if (err) {
		ct_lctx(ct, &lctx);
		LOG_WARN(&lctx, "ACK not sent: %s", log_strerror(err));
	}
}


/* 17.1.1.2: Calling or Proceeding, a provisional response. */
static void invite_provisional(struct ctrans *ct, struct sip_msg *msg)
{
	if (ct->state == CT_CALLING) {
		/* no more retransmissions; Timer B is for Calling only (the
		 * TU runs Timer C) */
		ct->state = CT_PROCEEDING;
		tmr_cancel(&ct->tmr_rt);
		tmr_cancel(&ct->tmr_end);
	}
	if (ct->cancel_pending && !ct->cancel_sent) {
		ct->cancel_pending = false;
		(void)send_cancel(ct); /* logged */
	}
	report(ct, 0, msg);
}


/* RFC 6026 8.4: a 2xx moves to Accepted, Timer M. */
static void invite_accepted(struct ctrans *ct, struct sip_msg *msg)
{
	struct log_ctx lctx;

	ct->state = CT_ACCEPTED;
	tmr_cancel(&ct->tmr_rt);
	tmr_start(&ct->tmr_end, sip_t1x64(ct->sip), tmr_end_h, ct);
	if (!ct->h) {
		ct_lctx(ct, &lctx);
		LOG_WARN(&lctx, "2xx for an abandoned INVITE");
	}
	report(ct, 0, msg);
}


/* 17.1.1.2, 17.1.1.3: a non-2xx final is ACKed by the transaction, which
 * stays Completed for Timer D. */
static void invite_completed(struct ctrans *ct, struct sip_msg *msg)
{
	const struct sip_hdr *to = sip_msg_hdr(msg, SIP_HDR_TO);
	struct log_ctx lctx;
	uint64_t d;
	int err;

	err = to ? build_peer_req(&ct->ack, &ct->acklen, ct, "ACK", &to->val)
		 : EBADMSG;
	if (err) {
		ct_lctx(ct, &lctx);
		LOG_WARN(&lctx, "cannot build ACK: %s", log_strerror(err));
	} else {
		send_ack(ct);
	}
	tmr_cancel(&ct->tmr_rt);
	if (ct->reliable) {
		terminate(ct); /* Timer D is zero */
	} else {
		ct->state = CT_COMPLETED;
		d = sip_t1x64(ct->sip);
		tmr_start(&ct->tmr_end,
			  d > SIP_TIMER_D_MIN ? d : SIP_TIMER_D_MIN, tmr_end_h,
			  ct);
	}
	report(ct, 0, msg);
}


/* RFC 3261 17.1.1.2 and RFC 6026 8.4 (figure 5 as updated). */
static void invite_response(struct ctrans *ct, struct sip_msg *msg)
{
	switch (ct->state) {

	case CT_CALLING:
	case CT_PROCEEDING:
		if (msg->scode < 200)
			invite_provisional(ct, msg);
		else if (msg->scode < 300)
			invite_accepted(ct, msg);
		else
			invite_completed(ct, msg);
		break;

	case CT_ACCEPTED:
		/* RFC 6026 8.4: every 2xx goes up (retransmissions and the
		 * 2xx of other forks); anything else is absorbed */
		if (msg->scode >= 200 && msg->scode < 300)
			report(ct, 0, msg);
		else
			ct->sip->stats.retrans_absorbed++;
		break;

	case CT_COMPLETED:
		/* 17.1.1.2: a retransmitted final is ACKed again, not passed
		 * to the TU */
		ct->sip->stats.retrans_absorbed++;
		if (msg->scode >= 300 && ct->ack)
			send_ack(ct);
		break;

	default:
		break;
	}
}


/* RFC 3261 17.1.2.2 (figure 6). */
static void noninvite_response(struct ctrans *ct, struct sip_msg *msg)
{
	switch (ct->state) {

	case CT_TRYING:
	case CT_PROCEEDING:
		if (msg->scode < 200) {
			/* Timer E goes on, at T2 from now on */
			ct->state = CT_PROCEEDING;
		} else {
			tmr_cancel(&ct->tmr_rt);
			if (ct->reliable) {
				terminate(ct); /* Timer K is zero */
			} else {
				ct->state = CT_COMPLETED;
				tmr_start(&ct->tmr_end, sip_t4(ct->sip),
					  tmr_end_h, ct);
			}
		}
		report(ct, 0, msg);
		break;

	default:
		/* Completed: absorb retransmitted responses */
		ct->sip->stats.retrans_absorbed++;
		break;
	}
}


/**
 * Match a response to a client transaction (RFC 3261 17.1.3) and run it.
 *
 * @param sip  the stack
 * @param msg  a decoded response
 * @return true when a transaction took the response (passed to its TU or
 *         absorbed), false when none matches (stray response)
 */
bool sip_ctrans_recv(struct sip *sip, struct sip_msg *msg)
{
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct ctrans *ct = NULL;
	struct list *lst;
	struct le *le;

	if (!sip || !sip->ctrans || !msg || msg->req)
		return false;
	if (sip_msg_via(msg, &via) || sip_msg_cseq(msg, &cseq))
		return false;
	if (!pl_isset(&via->branch))
		return false;

	/* 17.1.3: the branch of the top Via and the CSeq method; values
	 * compare case-insensitively (7.3.1), methods case-sensitively */
	lst = hash_list(sip->ctrans, via->branch_hash);
	LIST_FOREACH (lst, le) {
		struct ctrans *c = le->data;
		struct pl b, m;

		ct_branch(c, &b);
		ct_met(c, &m);
		if (pl_eq_ci(&b, &via->branch) && pl_eq(&m, &cseq->met)) {
			ct = c;
			break;
		}
	}
	if (!ct)
		return false;

	if (msg->scode < 100 || msg->scode > 699) {
		/* 8.1.3.2 knows x00 for unknown codes, but not 7xx and up */
		sip->stats.rx_dropped++;
		return true;
	}

	mem_ref(ct);
	if (ct->invite)
		invite_response(ct, msg);
	else
		noninvite_response(ct, msg);
	mem_deref(ct);
	return true;
}


void sip_ctrans_close_all(struct sip *sip)
{
	uint32_t i;

	if (!sip || !sip->ctrans)
		return;
	for (i = 0; i <= sip->ctrans->mask; i++) {
		struct list *lst = &sip->ctrans->bucket[i];

		while (lst->head)
			terminate(lst->head->data);
	}
}
