/**
 * @file strans.c  Server transactions (RFC 3261 17.2, RFC 6026 7.1).
 *
 * Design.  A transaction is a `struct strans` in sip->strans; the hash
 * entry is its only counted reference.  Requests whose top Via branch has
 * the magic cookie are keyed by the case-folded hash of the branch and
 * matched on branch, sent-by and method (17.2.3).  Other requests (RFC
 * 2543 peers) are keyed by Call-ID and CSeq number and matched on
 * Request-URI, To tag, From tag, Call-ID, CSeq and top Via, kept in a
 * separate small block only such transactions carry.
 *
 * Completed non-INVITE over UDP.  A registrar at 10,000 REGISTER/s keeps
 * 320,000 transactions in Completed (Timer J = 64*T1 = 32 s).  With an
 * RFC 3261 key such a transaction ends when its final response is sent,
 * as over TCP/TLS (Timer J zero), and its Completed state (key,
 * destination, response bytes) goes to the retransmission cache
 * (rcache.c): no object, timer or hash entry per transaction, and the
 * table here holds only transactions in progress.  A request that matches
 * no live transaction is looked up there; a hit is a retransmission,
 * answered with the stored response (17.2.2) and counted as absorbed.  A
 * CANCEL naming a cached transaction gets its 200 (9.2), as before.  The
 * TU's handle keeps the entry, so it stays active until Timer J.
 *
 * Memory.  Other transactions drop the parsed request (several kB) with
 * their final response and keep only what matching and retransmission
 * need: the key (branch, sent-by host, method) in a flexible array at the
 * end of the object, the response bytes in one exact-size block, and
 * where the response goes.
 *
 * Timers (two per transaction; no state needs more at once):
 *   tmr_rt   the 200 ms 100 (Trying) of an INVITE, then the hold of a
 *            final response that follows ringing too closely (hold_ms()),
 *            then Timer G;
 *   tmr_end  Timers H, I, J and L.
 *
 * The TU holds a `struct sip_strans` handle pointing weakly at the
 * transaction (and back).  Callbacks run with an extra reference held, so
 * the TU may drop its handle or close the stack from inside them.
 *
 * CANCEL (9.2): sip_strans_recv() finds the transaction the CANCEL names
 * (17.2.3 with the method taken as anything but CANCEL and ACK), gives the
 * CANCEL its own non-INVITE transaction, answers it 200 with the To tag of
 * the INVITE's responses, and tells the INVITE's TU when no final response
 * has been sent yet.
 */
#include "sip/strans.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/rcache.h"
#include "sip/sip.h"
#include "sip/transp.h"
#include "sip/uri.h"
#include "sip/via.h"

#define LOG_MODULE "strans"

/* RFC 3261 17.2.1: 100 (Trying) unless the TU answers within 200 ms */
#define SIP_TRYING_DELAY 200u

/* The least spacing of an INVITE's final response from its last ringing
 * provisional over UDP (hold_ms()), in whole ms of the loop clock: 2 of
 * them are at least 1 ms of real time. */
#define SIP_FINAL_HOLD_MS 2u

#define TOTAG_MAX 128

enum st_state {
	ST_TRYING,     /* non-INVITE, no response yet */
	ST_PROCEEDING, /* INVITE from the start; non-INVITE after a 1xx */
	ST_COMPLETED,  /* a final (non-2xx for INVITE) was sent */
	ST_CONFIRMED,  /* INVITE: the ACK came */
	ST_ACCEPTED,   /* INVITE: a 2xx was sent, RFC 6026 */
	ST_TERMINATED,
};

/* How a request's method must relate to the transaction's. */
enum match_kind {
	MATCH_SAME,   /* retransmission: the same method */
	MATCH_ACK,    /* an ACK: the INVITE transaction */
	MATCH_CANCEL, /* the target of a CANCEL: not a CANCEL (9.2) */
};

/* The TU's handle.  When a completed transaction moves to the
 * retransmission cache the handle keeps the cache entry, so that it stays
 * active (and further responses are refused) until Timer J, as before. */
struct sip_strans {
	struct strans *st; /* weak: cleared when the transaction goes */
	struct rcache *rc; /* counted: the cache holding its Completed */
	struct sip *sip;   /* weak: valid while ref is live (sip_close
			    * flushes the cache) */
	struct rcache_ref ref;
};

/* RFC 3261 17.2.3 matching for requests without the magic cookie. */
struct strans_2543 {
	struct pl ruri;
	struct pl totag;
	struct pl fromtag;
	struct pl callid;
	struct pl via;    /* the whole top Via value */
	char *resp_totag; /* INVITE: the To tag of the final response */
	uint32_t cseq;
	char data[];
};

struct strans {
	struct le he;         /* in sip->strans, the only counted ref */
	struct sip *sip;      /* weak */
	struct sip_strans *h; /* weak: the TU's handle, NULL when gone */
	sip_strans_cancel_h *cancelh;
	void *arg;
	struct sip_msg *req;   /* counted; until the final response */
	struct sip_conn *conn; /* counted, may be NULL */
	char *resp;            /* the last response sent */
	size_t resp_len;
	struct strans_2543 *rk; /* RFC 2543 key, or NULL */
	struct tmr tmr_rt;      /* 100 Trying, a final's hold, Timer G */
	struct tmr tmr_end;     /* Timers H, I, J, L */
	struct sa dst;          /* where responses go (18.2.2) */
	uint64_t prov_ms;       /* when a 101-199 last left, 0: never */
	uint32_t rtx_ms;        /* the next Timer G interval */
	uint8_t state;          /* enum st_state */
	uint8_t tp;             /* enum sip_transp */
	bool invite;
	bool reliable;
	bool cancelled; /* the TU has been told of a CANCEL */
	bool held;      /* resp is a final not sent yet (hold_ms()) */
	uint16_t port;  /* sent-by port, 0 when absent */
	uint32_t hkey;  /* the hash key: compared before the strings */
	uint16_t branch_len;
	uint16_t host_len;
	uint16_t met_len;
	char key[]; /* branch, sent-by host, method */
};


uint32_t sip_strans_hash_key(const void *data)
{
	return ((const struct strans *)data)->hkey;
}


static void st_branch(const struct strans *st, struct pl *pl)
{
	pl_set(pl, st->key, st->branch_len);
}


static void st_host(const struct strans *st, struct pl *pl)
{
	pl_set(pl, st->key + st->branch_len, st->host_len);
}


static void st_met(const struct strans *st, struct pl *pl)
{
	pl_set(pl, st->key + st->branch_len + st->host_len, st->met_len);
}


static void st_lctx(const struct strans *st, struct log_ctx *lctx)
{
	memset(lctx, 0, sizeof(*lctx));
	if (st->rk) {
		lctx->cid = st->rk->callid.p;
		lctx->cid_len = (int)st->rk->callid.l;
	} else {
		lctx->tx = st->key;
		lctx->tx_len = st->branch_len;
	}
}


static void rk_destructor(void *arg)
{
	struct strans_2543 *rk = arg;

	mem_deref(rk->resp_totag);
}


static void destructor(void *arg)
{
	struct strans *st = arg;

	tmr_cancel(&st->tmr_rt);
	tmr_cancel(&st->tmr_end);
	if (st->he.list)
		hash_unlink(st->sip->strans, &st->he);
	if (st->h)
		st->h->st = NULL;
	mem_deref(st->req);
	mem_deref(st->conn);
	mem_deref(st->resp);
	mem_deref(st->rk);
}


/* Leave the hash, dropping its reference: a caller that touches st
 * afterwards must hold its own. */
static void terminate(struct strans *st)
{
	st->state = ST_TERMINATED;
	st->held = false;
	tmr_cancel(&st->tmr_rt);
	tmr_cancel(&st->tmr_end);
	st->req = mem_deref(st->req);
	if (st->he.list) {
		hash_unlink(st->sip->strans, &st->he);
		mem_deref(st);
	}
}


static void report(struct strans *st, int err, struct sip_msg *msg)
{
	if (st->cancelh)
		st->cancelh(err, msg, st->arg);
}


/* The transaction ends and the TU hears why (Timer H, 17.2.4). */
static void fail(struct strans *st, int err)
{
	mem_ref(st);
	terminate(st);
	report(st, err, NULL);
	mem_deref(st);
}


static int send_bytes(struct strans *st, const char *p, size_t len)
{
	int err = sip_send(st->sip, (enum sip_transp)st->tp, &st->dst, st->conn,
			   p, len);

	if (err)
		st->sip->stats.tx_errors++;
	else
		st->sip->stats.tx_responses++;
	return err;
}


static void tmr_rt_h(void *arg);


/*
 * Spacing an INVITE's final response from its ringing (UDP only).
 *
 * A peer that reads one UDP socket with several workers (Kamailio's
 * children, each blocked in recvfrom) takes a 180 and the 200 that left
 * right behind it at the same moment, and the 200 can win.  Its client
 * transaction is then Accepted and drops the late 180 (RFC 3261 17.1.1.2,
 * Kamailio's tm relays no 1xx after a final): the caller never hears the
 * ringing.  UDP never promised order, but our sends make the race likely:
 * the answers of one loop pass leave in one sendmmsg, and under load,
 * with the loop coalescing, a pass takes an interval's worth of arrivals,
 * so a UAS's 180 and 200 arriving together leave microseconds apart.
 *
 * So a final response that comes within hold_ms() of a 101-199 of the
 * same transaction waits for the rest of it; it is the response the
 * state machine holds (retransmissions of the INVITE are answered with
 * it at once, and Timer G of a non-2xx starts when it leaves).  This
 * costs up to hold_ms() of answer delay (2 ms by default), and only when
 * a UAS answered within that time of ringing (an automated one).  100 Trying
 * is hop by hop and its loss harmless: it starts no hold.  Handed-over
 * and stream transports keep their order: no hold.
 */
static uint64_t hold_ms(void)
{
	uint64_t ms = ((uint64_t)loop_coalesce_us() + 999u) / 1000u;

	/* one coalescing interval, so that the held final is meant to leave
	 * with the next interval's sends; the timer counts whole ms, so it
	 * may still cut a sleep short (the cost measured per call is in
	 * docs/internals/transactions.md) */
	return ms > SIP_FINAL_HOLD_MS ? ms : SIP_FINAL_HOLD_MS;
}


/* How long a final response must wait (0: send it now). */
static uint64_t hold_due(const struct strans *st)
{
	uint64_t now, due;

	if (!st->invite || st->reliable || !st->prov_ms)
		return 0;
	now = tmr_jiffies();
	due = st->prov_ms + hold_ms();
	return due > now ? due - now : 0;
}


/* The held final leaves now: the timer that held it becomes Timer G for a
 * non-2xx (17.2.1, T1 from its first sending). */
static void unhold(struct strans *st)
{
	st->held = false;
	tmr_cancel(&st->tmr_rt);
	if (st->state == ST_COMPLETED) {
		st->rtx_ms = sip_t1(st->sip);
		tmr_start(&st->tmr_rt, st->rtx_ms, tmr_rt_h, st);
	}
}


/* Send the stored response (again, or for the first time when held); a
 * transport error ends the transaction (17.2.4).  Returns the error after
 * the TU has been told. */
static int resend(struct strans *st)
{
	struct log_ctx lctx;
	int err;

	if (!st->resp)
		return 0;
	if (st->held)
		unhold(st);
	err = send_bytes(st, st->resp, st->resp_len);
	if (err) {
		st_lctx(st, &lctx);
		LOG_WARN(&lctx, "response retransmission failed: %s",
			 log_strerror(err));
		fail(st, err);
	}
	return err;
}


/* The To tag of a response, into out (empty if none). */
static void totag_of(const char *p, size_t len, char *out, size_t size)
{
	struct sip_msg *msg;
	struct sip_msg_err merr;
	const struct sip_addr *to;

	out[0] = '\0';
	if (!p || !len)
		return;
	msg = mem_zalloc(sizeof(*msg), NULL);
	if (!msg)
		return;
	if (!sip_msg_decode(msg, p, len, true, &merr) &&
	    !sip_msg_to(msg, &to) && pl_strcpy(&to->tag, out, size))
		out[0] = '\0'; /* a tag too long to keep matches nothing */
	mem_deref(msg);
}


/* The To tag of the last response sent, into out (empty if none). */
static void resp_totag(const struct strans *st, char *out, size_t size)
{
	totag_of(st->resp, st->resp_len, out, size);
}


static void tmr_end_h(void *arg)
{
	struct strans *st = arg;
	struct log_ctx lctx;

	if (st->state == ST_COMPLETED && st->invite) {
		/* 17.2.1 Timer H: the ACK never came */
		st_lctx(st, &lctx);
		LOG_DEBUG(&lctx, "Timer H: no ACK for the final response");
		fail(st, ETIMEDOUT);
		return;
	}

	/* Timers I, J and L */
	terminate(st);
}


static int send_resp(struct strans *st, uint16_t scode, const void *p,
		     size_t len);


static void tmr_rt_h(void *arg)
{
	struct strans *st = arg;
	struct sip_reply_opts opts;
	struct log_ctx lctx;
	struct buf mb;
	int err;

	if (st->held) {
		/* the final response's hold is over (hold_ms()) */
		(void)resend(st); /* failures end the transaction */
		return;
	}

	if (st->state == ST_COMPLETED) {
		/* 17.2.1 Timer G: T1 doubling up to T2, until the ACK */
		if (resend(st))
			return;
		st->rtx_ms = st->rtx_ms * 2 < sip_t2(st->sip) ? st->rtx_ms * 2
							      : sip_t2(st->sip);
		tmr_start(&st->tmr_rt, st->rtx_ms, tmr_rt_h, st);
		return;
	}

	if (st->state != ST_PROCEEDING || st->resp || !st->req)
		return;

	/* 17.2.1: 100 (Trying) after 200 ms without a TU response */
	mem_ref(st);
	memset(&opts, 0, sizeof(opts));
	err = buf_init(&mb, 512, SIP_MSG_MAX);
	if (!err)
		err = sip_reply_build(&mb, st->req, 100, &opts);
	if (!err)
		err = send_resp(st, 100, mb.b, mb.end);
	buf_reset(&mb);
	if (err) {
		st_lctx(st, &lctx);
		LOG_WARN(&lctx, "100 Trying not sent: %s", log_strerror(err));
		/* 17.2.4: a transport error ended the transaction */
		if (st->state == ST_TERMINATED)
			report(st, err, NULL);
	}
	mem_deref(st);
}


/* For RFC 2543 ACK matching: remember the To tag of the final response. */
static void keep_resp_totag(struct strans *st)
{
	char tag[TOTAG_MAX];

	if (!st->rk || !st->invite)
		return;
	resp_totag(st, tag, sizeof(tag));
	st->rk->resp_totag = mem_deref(st->rk->resp_totag);
	st->rk->resp_totag = mem_strdup(tag, strlen(tag));
}


/* 17.2.2: Completed, for Timer J (the transaction keeps the response). */
static void timer_j(struct strans *st)
{
	st->req = mem_deref(st->req);
	tmr_cancel(&st->tmr_rt);
	st->state = ST_COMPLETED;
	tmr_start(&st->tmr_end, sip_t1x64(st->sip), tmr_end_h, st);
}


/* Does the Completed state of this transaction go to the retransmission
 * cache?  Non-INVITE over UDP with an RFC 3261 key only: reliable
 * transports and requests handed over once need no Completed state
 * (Timer J is zero), INVITE has Timers G/H and the ACK, and RFC 2543 keys
 * match on more than the cache keeps. */
static bool cacheable(const struct strans *st)
{
	return !st->invite && !st->reliable && !st->rk && st->branch_len &&
	       st->sip->rcache;
}


static void st_key(const struct strans *st, struct rcache_key *key)
{
	st_branch(st, &key->branch);
	st_host(st, &key->host);
	st_met(st, &key->met);
	key->hkey = st->hkey;
	key->port = st->port;
}


/*
 * The final response of a non-INVITE transaction over UDP (17.2.2): sent,
 * then its Completed state goes to the retransmission cache (rcache.c) and
 * the transaction ends here, as over a reliable transport.  The TU's
 * handle keeps the cache entry (sip_strans_active until Timer J).  When
 * the cache cannot take it (larger than a chunk, no memory), the
 * transaction stays Completed itself for Timer J.
 */
static int send_final_cached(struct strans *st, const void *p, size_t len)
{
	struct sip *sip = st->sip;
	struct rcache_add_opts o;
	struct rcache_ref ref;
	struct log_ctx lctx;
	char *copy;
	int err;

	err = send_bytes(st, p, len);
	if (err) {
		/* 17.2.4: the TU learns it from the return value */
		terminate(st);
		return err;
	}
	st_key(st, &o.key);
	o.tp = (enum sip_transp)st->tp;
	o.dst = &st->dst;
	o.resp = p;
	o.len = len;
	o.now = tmr_jiffies();
	o.exp_ms = o.now + sip_t1x64(sip); /* Timer J */
	err = rcache_add(sip->rcache, &o, &ref);
	if (!err) {
		if (st->h) {
			mem_deref(st->h->rc);
			st->h->rc = mem_ref(sip->rcache);
			st->h->sip = sip;
			st->h->ref = ref;
		}
		terminate(st);
		return 0;
	}

	copy = mem_alloc(len, NULL);
	if (!copy) {
		/* sent, but nothing can absorb its retransmissions */
		st_lctx(st, &lctx);
		LOG_WARN(&lctx, "final response not kept: %s",
			 log_strerror(ENOMEM));
		terminate(st);
		return 0;
	}
	memcpy(copy, p, len);
	mem_deref(st->resp);
	st->resp = copy;
	st->resp_len = len;
	timer_j(st);
	return 0;
}


/*
 * Send a response from the TU and move the state machine: 17.2.1 (figure
 * 7 with RFC 6026 figure 5) for INVITE, 17.2.2 (figure 8) otherwise.
 */
static int send_resp(struct strans *st, uint16_t scode, const void *p,
		     size_t len)
{
	uint64_t hold;
	char *copy;
	int err;

	switch (st->state) {

	case ST_TRYING:
	case ST_PROCEEDING:
		break;

	case ST_ACCEPTED:
		/* RFC 6026 7.1: every 2xx from the TU is sent */
		if (scode >= 200 && scode < 300)
			break;
		return EPROTO;

	default:
		/* 17.2.1, 17.2.2: later final responses are discarded */
		return EPROTO;
	}

	if (!p || !len || len > SIP_MSG_MAX)
		return EINVAL;
	if (scode >= 200 && cacheable(st))
		return send_final_cached(st, p, len);
	if (st->held) {
		/* a further 2xx while the first is held: the first goes now,
		 * the 2xx order kept (a late one is held in its turn) */
		err = resend(st);
		if (err)
			return err;
	}
	hold = scode >= 200 ? hold_due(st) : 0;
	copy = mem_alloc(len, NULL);
	if (!copy)
		return ENOMEM;
	memcpy(copy, p, len);

	err = hold ? 0 : send_bytes(st, copy, len);
	if (err) {
		/* 17.2.4: the TU learns it from the return value */
		mem_deref(copy);
		mem_ref(st);
		terminate(st);
		mem_deref(st);
		return err;
	}
	mem_deref(st->resp);
	st->resp = copy;
	st->resp_len = len;

	if (scode < 200) {
		tmr_cancel(&st->tmr_rt); /* no 100 Trying needed */
		if (st->state == ST_TRYING)
			st->state = ST_PROCEEDING;
		if (scode > 100 && st->invite && !st->reliable)
			st->prov_ms = tmr_jiffies();
		return 0;
	}

	if (hold) {
		/* on the retransmission timer, which a held final does not
		 * use yet (unhold() starts Timer G) */
		st->held = true;
		st->sip->stats.finals_held++;
		tmr_start(&st->tmr_rt, hold, tmr_rt_h, st);
	}
	if (st->state == ST_ACCEPTED)
		return 0; /* a further 2xx */

	/* final: keep only the key and these bytes */
	st->req = mem_deref(st->req);
	if (!hold)
		tmr_cancel(&st->tmr_rt);

	if (!st->invite) {
		if (st->reliable)
			terminate(st); /* Timer J is zero */
		else
			timer_j(st);
	} else if (scode < 300) {
		/* RFC 6026 7.1: Accepted; the TU retransmits the 2xx */
		st->state = ST_ACCEPTED;
		tmr_start(&st->tmr_end, sip_t1x64(st->sip), tmr_end_h, st);
	} else {
		st->state = ST_COMPLETED;
		keep_resp_totag(st);
		if (!st->reliable && !hold) {
			st->rtx_ms = sip_t1(st->sip); /* Timer G */
			tmr_start(&st->tmr_rt, st->rtx_ms, tmr_rt_h, st);
		}
		tmr_start(&st->tmr_end, sip_t1x64(st->sip), tmr_end_h,
			  st); /* Timer H */
	}
	return 0;
}


static bool method_ok(const struct strans *st, const struct pl *met,
		      enum match_kind kind)
{
	struct pl m;

	switch (kind) {

	case MATCH_ACK:
		return st->invite;

	case MATCH_CANCEL:
		st_met(st, &m);
		return !pl_eq_str(&m, "CANCEL");

	default:
		st_met(st, &m);
		return pl_eq(&m, met); /* methods are case-sensitive */
	}
}


static uint32_t key_2543(const struct pl *callid, uint32_t cseq)
{
	return hash_fast(callid->p, callid->l) ^ (cseq * 2654435761u);
}


static bool uri_eq(const struct pl *a, const struct pl *b)
{
	struct sip_uri ua, ub;

	if (pl_eq(a, b))
		return true;
	if (sip_uri_decode(&ua, a) || sip_uri_decode(&ub, b))
		return false;
	return sip_uri_eq(&ua, &ub); /* 19.1.4 */
}


/* RFC 3261 17.2.3, the RFC 2543 compatible rules. */
static bool match_2543(const struct strans *st, struct sip_msg *msg,
		       const struct sip_via *via, const struct sip_cseq *cseq,
		       enum match_kind kind)
{
	const struct strans_2543 *rk = st->rk;
	const struct sip_addr *from, *to;
	struct pl cid, rtag;

	if (rk->cseq != cseq->num || !method_ok(st, &msg->met, kind))
		return false;
	if (sip_msg_callid(msg, &cid) || !pl_eq(&cid, &rk->callid))
		return false; /* Call-IDs compare byte by byte (20.8) */
	if (sip_msg_from(msg, &from) || sip_msg_to(msg, &to))
		return false;
	if (!pl_eq_ci(&from->tag, &rk->fromtag) ||
	    !pl_eq_ci(&via->val, &rk->via))
		return false;
	if (kind == MATCH_ACK) {
		/* the ACK's To tag is the one of the response sent */
		pl_set_str(&rtag, rk->resp_totag);
		if (!pl_eq_ci(&to->tag, &rtag))
			return false;
	} else if (!pl_eq_ci(&to->tag, &rk->totag)) {
		return false;
	}
	return uri_eq(&msg->ruri, &rk->ruri);
}


/*
 * The live transaction a request matches; when none does and cref is set,
 * the completed one in the retransmission cache (cref->e set on a hit).
 */
static struct strans *find(struct sip *sip, struct sip_msg *msg,
			   const struct sip_via *via,
			   const struct sip_cseq *cseq, enum match_kind kind,
			   struct rcache_ref *cref)
{
	struct list *lst;
	struct le *le;
	struct pl cid;

	if (cref)
		cref->e = NULL;
	if (sip_via_branch_3261(via)) {
		/* 17.2.3: branch, sent-by and method; values compare
		 * case-insensitively (7.3.1) */
		uint32_t hk = via->branch_hash;

		lst = hash_list(sip->strans, hk);
		LIST_FOREACH (lst, le) {
			struct strans *st = le->data;
			struct pl b, h;

			if (st->hkey != hk || st->rk || st->port != via->port ||
			    st->branch_len != via->branch.l)
				continue;
			st_branch(st, &b);
			st_host(st, &h);
			if (pl_eq_ci(&b, &via->branch) &&
			    pl_eq_ci(&h, &via->host) &&
			    method_ok(st, &msg->met, kind))
				return st;
		}
		if (cref && kind != MATCH_ACK) {
			/* ACKs only match INVITEs, which are never cached */
			struct rcache_key key = {
				.branch = via->branch,
				.host = via->host,
				.met = msg->met,
				.hkey = hk,
				.port = via->port,
			};

			(void)rcache_find(sip->rcache, &key,
					  kind == MATCH_CANCEL ? RCACHE_CANCEL
							       : RCACHE_SAME,
					  cref);
		}
		return NULL;
	}

	if (sip_msg_callid(msg, &cid))
		return NULL;
	lst = hash_list(sip->strans, key_2543(&cid, cseq->num));
	LIST_FOREACH (lst, le) {
		struct strans *st = le->data;

		if (st->rk && match_2543(st, msg, via, cseq, kind))
			return st;
	}
	return NULL;
}


static int make_2543(struct strans *st, struct sip_msg *req,
		     const struct sip_via *via, const struct sip_cseq *cseq,
		     uint32_t *keyp)
{
	const struct sip_addr *from, *to;
	struct strans_2543 *rk;
	struct pl cid;
	char *p;
	int err;

	err = sip_msg_callid(req, &cid);
	if (!err)
		err = sip_msg_from(req, &from);
	if (!err)
		err = sip_msg_to(req, &to);
	if (err)
		return err;

	rk = mem_zalloc(sizeof(*rk) + req->ruri.l + to->tag.l + from->tag.l +
				cid.l + via->val.l,
			rk_destructor);
	if (!rk)
		return ENOMEM;
	p = rk->data;
#define RK_COPY(field, src)                          \
	do {                                         \
		if ((src).l)                         \
			memcpy(p, (src).p, (src).l); \
		pl_set(&rk->field, p, (src).l);      \
		p += (src).l;                        \
	} while (0)
	RK_COPY(ruri, req->ruri);
	RK_COPY(totag, to->tag);
	RK_COPY(fromtag, from->tag);
	RK_COPY(callid, cid);
	RK_COPY(via, via->val);
#undef RK_COPY
	rk->cseq = cseq->num;
	st->rk = rk;
	*keyp = key_2543(&rk->callid, rk->cseq);
	return 0;
}


/* Create and hash a transaction for req; the request is kept only when
 * keep_req (the TU will build responses from it). */
static int strans_create(struct strans **stp, struct sip *sip,
			 struct sip_msg *req, bool keep_req)
{
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct strans *st = NULL;
	enum sip_transp tp;
	struct sa dst;
	struct pl branch = PL_INIT;
	uint32_t key;
	size_t klen;
	int err;

	err = sip_msg_via(req, &via);
	if (err)
		return err;
	err = sip_msg_cseq(req, &cseq);
	if (err)
		return err;
	err = sip_response_dest(req, &tp, &dst);
	if (err)
		return err;

	if (sip_via_branch_3261(via))
		branch = via->branch;
	if (branch.l > UINT16_MAX || via->host.l > UINT16_MAX ||
	    req->met.l > UINT16_MAX)
		return EBADMSG;
	klen = branch.l + via->host.l + req->met.l;

	st = mem_zalloc(sizeof(*st) + klen, destructor);
	if (!st)
		return ENOMEM;
	st->sip = sip;
	st->tp = (uint8_t)tp;
	st->dst = dst;
	/* a request handed over once in-process is not retransmitted: the
	 * timers of a reliable transport (transp.c, local handover) */
	st->reliable = sip_transp_reliable(tp) || req->once;
	st->conn = mem_ref(req->conn);
	st->invite = req->meth == SIP_METHOD_INVITE;
	st->state = st->invite ? ST_PROCEEDING : ST_TRYING;
	st->port = via->port;
	st->branch_len = (uint16_t)branch.l;
	st->host_len = (uint16_t)via->host.l;
	st->met_len = (uint16_t)req->met.l;
	if (branch.l)
		memcpy(st->key, branch.p, branch.l);
	memcpy(st->key + branch.l, via->host.p, via->host.l);
	memcpy(st->key + branch.l + via->host.l, req->met.p, req->met.l);

	if (branch.l) {
		key = via->branch_hash;
	} else {
		err = make_2543(st, req, via, cseq, &key);
		if (err)
			goto out;
	}

	if (keep_req) {
		st->req = mem_ref(req);
		/* 17.2.1: 100 Trying if the TU is silent for 200 ms */
		if (st->invite)
			tmr_start(&st->tmr_rt, SIP_TRYING_DELAY, tmr_rt_h, st);
	}

	st->hkey = key;
	hash_append(sip->strans, key, &st->he, st);
	*stp = st;
	st = NULL;
out:
	mem_deref(st);
	return err;
}


static void handle_destructor(void *arg)
{
	struct sip_strans *h = arg;
	struct strans *st = h->st;
	struct log_ctx lctx;

	mem_deref(h->rc);
	if (!st)
		return;
	st->h = NULL;
	st->cancelh = NULL;
	st->arg = NULL;
	if (st->state == ST_TRYING || st->state == ST_PROCEEDING) {
		/* the TU abandoned the request without a final response */
		st_lctx(st, &lctx);
		LOG_DEBUG(&lctx, "abandoned before a final response");
		terminate(st);
	}
}


/* Is the handle's transaction Completed in the retransmission cache? */
static bool in_cache(const struct sip_strans *h)
{
	return h->rc && rcache_live(h->rc, &h->ref);
}


/* The final response of a cached transaction again (17.2.2); a transport
 * error ends the transaction (17.2.4): its key is then new. */
static int cache_resend(struct sip *sip, const struct rcache_ref *ref)
{
	struct rcache_resp r;
	struct log_ctx lctx;
	int err;

	rcache_resp(sip->rcache, ref, &r);
	if (!r.p)
		return ESRCH;
	err = sip_send(sip, r.tp, &r.dst, NULL, r.p, r.len);
	if (!err) {
		sip->stats.tx_responses++;
		return 0;
	}
	sip->stats.tx_errors++;
	memset(&lctx, 0, sizeof(lctx));
	lctx.tx = r.branch.p;
	lctx.tx_len = (int)r.branch.l;
	LOG_WARN(&lctx, "response retransmission failed: %s",
		 log_strerror(err));
	rcache_end(sip->rcache, ref);
	return err;
}


/* The handle and the transaction of req; keep: the transaction holds
 * the request (sip_strans_req) until its final response. */
static int alloc_handle(struct sip_strans **stp, struct sip *sip,
			struct sip_msg *req, bool keep)
{
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct rcache_ref cref;
	struct sip_strans *h;
	struct strans *st;
	int err;

	if (sip_msg_via(req, &via) || sip_msg_cseq(req, &cseq))
		return EBADMSG;
	if (find(sip, req, via, cseq, MATCH_SAME, &cref) || cref.e)
		return EALREADY;
	h = mem_zalloc(sizeof(*h), handle_destructor);
	if (!h)
		return ENOMEM;
	err = strans_create(&st, sip, req, keep);
	if (err) {
		mem_deref(h);
		return err;
	}
	st->h = h;
	h->st = st;
	*stp = h;
	return 0;
}


/**
 * Create the server transaction of a request (RFC 3261 17.2).
 *
 * @param stp      the TU's handle (mem_deref it; before a final response
 *                 that abandons the request)
 * @param sip      the stack
 * @param req      a counted request (not ACK) that sip_strans_recv() did
 *                 not absorb; referenced until the final response
 * @param cancelh  CANCEL / Timer H / transport error events (may be NULL)
 * @param arg      handler argument
 * @return 0, EINVAL, EALREADY (a transaction already matches the request),
 *         EBADMSG (no usable Via, CSeq, From, To or Call-ID), ENOMEM, or
 *         the error of sip_response_dest()
 */
int sip_strans_alloc(struct sip_strans **stp, struct sip *sip,
		     struct sip_msg *req, sip_strans_cancel_h *cancelh,
		     void *arg)
{
	int err;

	if (!stp || !sip || !sip->strans || !req || !req->req ||
	    req->meth == SIP_METHOD_ACK)
		return EINVAL;
	err = alloc_handle(stp, sip, req, true);
	if (err)
		return err;
	(*stp)->st->cancelh = cancelh;
	(*stp)->st->arg = arg;
	return 0;
}


/**
 * Create the server transaction of a non-INVITE request without keeping
 * the request: the TU answers with sip_strans_send_raw() only.  A
 * registrar whose answer waits for a commit builds it from the received
 * message, so its transaction never holds a copy (several kB) of it.
 *
 * @param stp  the TU's handle
 * @param sip  the stack
 * @param req  the request (not INVITE or ACK), read only during the call
 * @return as sip_strans_alloc()
 */
int sip_strans_alloc_bare(struct sip_strans **stp, struct sip *sip,
			  struct sip_msg *req)
{
	if (!stp || !sip || !sip->strans || !req || !req->req ||
	    req->meth == SIP_METHOD_ACK || req->meth == SIP_METHOD_INVITE)
		return EINVAL;
	return alloc_handle(stp, sip, req, false);
}


/**
 * Build a response to the request and send it (RFC 3261 8.2.6).
 *
 * @param st     the handle
 * @param scode  100..699
 * @param opts   reason, To tag, extra headers, body (may be NULL)
 * @return 0; ESRCH when the transaction has ended; EPROTO when a final
 *         response was already sent (17.2.1: discarded); EINVAL; the
 *         builder's or the transport's error (17.2.4: the transaction
 *         then ends)
 */
int sip_strans_reply(struct sip_strans *st, uint16_t scode,
		     const struct sip_reply_opts *opts)
{
	struct sip_reply_opts dflt;
	struct strans *s;
	struct buf mb;
	int err;

	if (!st || scode < 100 || scode > 699)
		return EINVAL;
	s = st->st;
	if (!s)
		return in_cache(st) ? EPROTO : ESRCH;
	if (!s->req)
		return EPROTO;
	if (!opts) {
		memset(&dflt, 0, sizeof(dflt));
		opts = &dflt;
	}

	err = buf_init(&mb, 1024, SIP_MSG_MAX);
	if (err)
		return err;
	err = sip_reply_build(&mb, s->req, scode, opts);
	if (!err)
		err = send_resp(s, scode, mb.b, mb.end);
	buf_reset(&mb);
	return err;
}


/**
 * Send a response the caller built (a proxy forwarding one, RFC 3261
 * 16.7 step 9), moving the state machine as sip_strans_reply() does.
 *
 * @return as sip_strans_reply()
 */
int sip_strans_send_raw(struct sip_strans *st, uint16_t scode, const void *p,
			size_t len)
{
	if (!st || !p || !len || scode < 100 || scode > 699)
		return EINVAL;
	if (!st->st)
		return in_cache(st) ? EPROTO : ESRCH;
	return send_resp(st->st, scode, p, len);
}


/**
 * Send the last response again, e.g. the 2xx a UAS retransmits while the
 * transaction is Accepted (RFC 3261 13.3.1.4, RFC 6026 7.1).
 *
 * @return 0, ESRCH when ended, ENODATA when nothing was sent yet, or the
 *         transport's error (the transaction then ends)
 */
int sip_strans_retransmit(struct sip_strans *st)
{
	if (!st)
		return EINVAL;
	if (!st->st)
		return in_cache(st) ? cache_resend(st->sip, &st->ref) : ESRCH;
	if (!st->st->resp)
		return ENODATA;
	return resend(st->st);
}


struct sip_msg *sip_strans_req(const struct sip_strans *st)
{
	return st && st->st ? st->st->req : NULL;
}


bool sip_strans_active(const struct sip_strans *st)
{
	if (!st)
		return false;
	if (!st->st)
		return in_cache(st); /* Completed, until Timer J */
	return st->st->state != ST_TERMINATED;
}


/* A retransmitted request (17.2.1, 17.2.2): answer with the last response
 * in Proceeding and Completed, absorb it otherwise. */
static void retransmission(struct strans *st)
{
	st->sip->stats.retrans_absorbed++;
	if (st->state == ST_PROCEEDING || st->state == ST_COMPLETED)
		(void)resend(st); /* failures end the transaction */
}


/* An ACK matching an INVITE transaction: false when it goes to the TU. */
static bool ack_received(struct strans *st)
{
	switch (st->state) {

	case ST_ACCEPTED:
		/* RFC 6026 7.1: the ACK for a 2xx is the TU's */
		return false;

	case ST_COMPLETED:
		/* 17.2.1: Confirmed; Timer I absorbs further ACKs */
		tmr_cancel(&st->tmr_rt);
		tmr_cancel(&st->tmr_end);
		if (st->reliable) {
			terminate(st); /* Timer I is zero */
		} else {
			st->state = ST_CONFIRMED;
			tmr_start(&st->tmr_end, sip_t4(st->sip), tmr_end_h, st);
		}
		return true;

	default:
		st->sip->stats.retrans_absorbed++;
		return true;
	}
}


/* RFC 3261 9.2: answer the CANCEL in its own transaction, 200 with the To
 * tag of the responses of the transaction it names. */
static void cancel_answer(struct sip *sip, struct sip_msg *cancel,
			  const char *tag, const struct sip_via *via)
{
	struct sip_reply_opts opts;
	struct strans *cst = NULL;
	struct log_ctx lctx;
	struct buf mb;
	int err;

	memset(&opts, 0, sizeof(opts));
	pl_set_str(&opts.totag, tag);
	memset(&mb, 0, sizeof(mb));
	err = buf_init(&mb, 512, SIP_MSG_MAX);
	if (!err)
		err = sip_reply_build(&mb, cancel, 200, &opts);
	if (!err)
		err = strans_create(&cst, sip, cancel, false);
	if (!err)
		err = send_resp(cst, 200, mb.b, mb.end);
	buf_reset(&mb);
	if (err) {
		memset(&lctx, 0, sizeof(lctx));
		lctx.tx = via->branch.p;
		lctx.tx_len = (int)via->branch.l;
		LOG_WARN(&lctx, "200 for CANCEL not sent: %s",
			 log_strerror(err));
	}
}


/* A CANCEL naming a live transaction: 200, and the TU of a pending INVITE
 * hears of it (9.2). */
static void cancel_received(struct sip *sip, struct strans *inv,
			    struct sip_msg *cancel, const struct sip_via *via)
{
	char tag[TOTAG_MAX];

	mem_ref(inv);
	resp_totag(inv, tag, sizeof(tag));
	if (!tag[0] && inv->req)
		sip_totag_make(inv->req, tag, sizeof(tag));
	cancel_answer(sip, cancel, tag, via);

	if (inv->invite && inv->state == ST_PROCEEDING && !inv->cancelled) {
		inv->cancelled = true;
		report(inv, 0, cancel);
	}
	mem_deref(inv);
}


/* A CANCEL naming a non-INVITE transaction Completed in the cache: as
 * before the cache, 200 and no effect ("the CANCEL request has no effect
 * on the processing of the original request", 9.2).  The tag is copied
 * out first: answering adds to the cache, which may recycle the entry. */
static void cancel_cached(struct sip *sip, const struct rcache_ref *ref,
			  struct sip_msg *cancel, const struct sip_via *via)
{
	struct rcache_resp r;
	char tag[TOTAG_MAX];

	rcache_resp(sip->rcache, ref, &r);
	totag_of(r.p, r.len, tag, sizeof(tag));
	cancel_answer(sip, cancel, tag, via);
}


/* A retransmission whose transaction is Completed in the cache (17.2.2):
 * the final response again, the TU hears nothing. */
static void cache_retransmission(struct sip *sip, const struct rcache_ref *ref)
{
	sip->stats.retrans_absorbed++;
	sip->stats.rcache.hits++;
	(void)cache_resend(sip, ref); /* failures end the transaction */
}


/**
 * Start loading what sip_strans_recv() will look up for a request: the
 * retransmission cache's bucket for its branch.  Called as soon as the
 * request is parsed, so that validating it hides the cache miss.
 *
 * @param sip  the stack
 * @param msg  a parsed request, not yet validated (a Via that does not
 *             decode is left to the validation to report)
 */
void sip_strans_prefetch(struct sip *sip, struct sip_msg *msg)
{
	const struct sip_via *via;

	if (!sip || !msg || !msg->req || msg->meth == SIP_METHOD_ACK)
		return;
	if (sip_msg_via(msg, &via) || !sip_via_branch_3261(via))
		return;
	rcache_prefetch(sip->rcache, via->branch_hash);
}


/* A retransmission of a request whose transaction is running or Completed
 * in the cache: answered again, the TU hears nothing (17.2.1, 17.2.2). */
static bool absorb_retransmission(struct sip *sip, struct sip_msg *msg,
				  const struct sip_via *via,
				  const struct sip_cseq *cseq)
{
	struct rcache_ref cref;
	struct strans *st = find(sip, msg, via, cseq, MATCH_SAME, &cref);

	if (st) {
		mem_ref(st);
		retransmission(st);
		mem_deref(st);
		return true;
	}
	if (cref.e) {
		cache_retransmission(sip, &cref);
		return true;
	}
	return false;
}


/**
 * Match a request to a server transaction (RFC 3261 17.2.3) and run it.
 *
 * @param sip  the stack
 * @param msg  a decoded request
 * @return true when absorbed: a retransmission (answered with the last
 *         response), an ACK for a non-2xx final, or a CANCEL that matched
 *         a transaction (answered 200 here, 9.2); false when the request
 *         goes up to the core (new requests, ACKs for 2xx, CANCELs that
 *         match nothing, which the core answers 481)
 */
bool sip_strans_recv(struct sip *sip, struct sip_msg *msg)
{
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct rcache_ref cref;
	struct strans *st;
	bool done;

	if (!sip || !sip->strans || !msg || !msg->req)
		return false;
	if (sip_msg_via(msg, &via) || sip_msg_cseq(msg, &cseq))
		return false;

	switch (msg->meth) {

	case SIP_METHOD_ACK:
		st = find(sip, msg, via, cseq, MATCH_ACK, NULL);
		if (!st)
			return false;
		mem_ref(st);
		done = ack_received(st);
		mem_deref(st);
		return done;

	case SIP_METHOD_CANCEL:
		/* a retransmitted CANCEL first, then the transaction it
		 * cancels */
		if (absorb_retransmission(sip, msg, via, cseq))
			return true;
		st = find(sip, msg, via, cseq, MATCH_CANCEL, &cref);
		if (st) {
			cancel_received(sip, st, msg, via);
			return true;
		}
		if (cref.e) {
			cancel_cached(sip, &cref, msg, via);
			return true;
		}
		return false;

	default:
		return absorb_retransmission(sip, msg, via, cseq);
	}
}


void sip_trans_close_all(struct sip *sip)
{
	uint32_t i;

	if (!sip)
		return;
	sip_ctrans_close_all(sip);
	rcache_flush(sip->rcache);
	if (!sip->strans)
		return;
	for (i = 0; i <= sip->strans->mask; i++) {
		struct list *lst = &sip->strans->bucket[i];

		while (lst->head)
			terminate(lst->head->data);
	}
}
