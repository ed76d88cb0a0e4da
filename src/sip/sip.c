/**
 * @file sip.c  The SIP stack: receive, validate, dispatch, send.
 *
 * Every message the transports deliver is indexed into one scratch message
 * per thread (no allocation on the receive path), validated, and passed to
 * the transaction layer; what no transaction absorbs goes to the core
 * above (proxy, registrar).  Handlers that need a message after they return
 * take a copy with sip_msg_dup().
 *
 * Malformed requests get a response whose reason phrase names the problem
 * (RFC 3261 21.4.1: 400, or 505/513/414 as the error is); what cannot be
 * answered (a malformed response, a request too broken to reply to) is
 * dropped and counted.
 */
#include "sip/sip.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/rcache.h"
#include "sip/strans.h"
#include "sip/via.h"

#define LOG_MODULE "sip"

static _Thread_local struct sip_msg rxmsg;

static void sip_destructor(void *arg)
{
	struct sip *sip = arg;

	sip_close(sip);
	mem_deref(sip->ctrans);
	mem_deref(sip->strans);
	/* handles may keep the cache past the stack: it stops counting here */
	rcache_detach(sip->rcache);
	mem_deref(sip->rcache);
}


/* Index of the first "\n" in [p, end), or NULL. */
static const char *find_lf(const char *p, const char *end)
{
	return p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
}


/*
 * The method and top Via branch of a request from the start of it that an
 * ICMP error quoted (the datagram is cut short, so the parser, which wants
 * a whole message, cannot take it).  Only complete lines are read: the
 * request line and the header lines up to the first Via (or its compact
 * form v, RFC 3261 7.3.3); a folded Via is not followed (its branch is
 * then not found and the caller falls back on the destination).
 *
 * @return 0 with met and branch set; EPROTO: a response (no client
 *         transaction of ours sent it); ENOENT: no branch in the bytes
 */
static int quoted_ids(const char *p, size_t len, struct pl *met,
		      struct pl *branch)
{
	const char *end = p + len, *lf, *sp;

	if (len >= 4 && !strncasecmp(p, "SIP/", 4))
		return EPROTO;
	lf = find_lf(p, end);
	if (!lf)
		return ENOENT;
	sp = memchr(p, ' ', (size_t)(lf - p));
	if (!sp || sp == p)
		return ENOENT;
	pl_set(met, p, (size_t)(sp - p));
	for (p = lf + 1; p < end; p = lf + 1) {
		struct sip_via via;
		const char *colon, *eol, *comma;
		struct pl name, val;

		lf = find_lf(p, end);
		if (!lf)
			return ENOENT; /* cut short before a Via */
		eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
		if (eol == p)
			return ENOENT; /* end of the headers */
		if (*p == ' ' || *p == '\t')
			continue; /* folded line */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			continue;
		pl_set(&name, p, (size_t)(colon - p));
		while (name.l && (name.p[name.l - 1] == ' ' ||
				  name.p[name.l - 1] == '\t'))
			name.l--;
		if (!pl_eq_str_ci(&name, "via") && !pl_eq_str_ci(&name, "v"))
			continue;
		/* the first value of the first Via line is the top Via */
		comma = memchr(colon + 1, ',', (size_t)(eol - colon - 1));
		pl_set(&val, colon + 1,
		       (size_t)((comma ? comma : eol) - colon - 1));
		while (val.l && (*val.p == ' ' || *val.p == '\t')) {
			val.p++;
			val.l--;
		}
		if (sip_via_decode(&via, &val) || !via.branch.l)
			return ENOENT;
		*branch = via.branch;
		return 0;
	}
	return ENOENT;
}


/*
 * A datagram we sent drew an ICMP unreachable (RFC 3261 18.4): the client
 * transaction that sent it ends with the error at once (17.1.4), so that
 * its TU answers 503 or tries the next target (RFC 3263 4.3) instead of
 * waiting for Timer B/F.  When the quoted bytes do not name the request,
 * every transaction to that destination ends: nothing listens there.
 */
static void dgram_failed(struct sip *sip, int err, enum sip_transp tp,
			 const struct sa *dst, const char *p, size_t len)
{
	struct pl met = PL_INIT, branch = PL_INIT;
	int e = quoted_ids(p, len, &met, &branch);

	if (!e)
		sip_ctrans_transport_error(sip, &branch, &met, err);
	else if (e == ENOENT)
		sip_ctrans_dest_error(sip, tp, dst, err);
}


/* Requests that the transport could not deliver (17.1.4): the bytes
 * queued on an outgoing connection that failed, or (UDP) the start of a
 * datagram that an ICMP error quoted. */
static void transp_failed(int err, enum sip_transp tp, const struct sa *dst,
			  const void *p, size_t len, void *arg)
{
	struct sip *sip = arg;
	const char *cur = p;
	size_t left = len;

	if (tp == SIP_TRANSP_UDP) {
		dgram_failed(sip, err, tp, dst, p, len);
		return;
	}
	while (left) {
		struct sip_msg *msg = &rxmsg;
		const struct sip_via *via;
		size_t mlen = 0, skip = 0;

		if (sip_msg_frame(cur, left, &mlen, &skip))
			return;
		if (!sip_msg_decode(msg, cur + skip, mlen, false, NULL) &&
		    msg->req && !sip_msg_via(msg, &via))
			sip_ctrans_transport_error(sip, &via->branch, &msg->met,
						   err);
		cur += skip + mlen;
		left -= skip + mlen;
	}
}


/**
 * Create the stack.
 *
 * @param sipp   the new stack
 * @param tconf  transport configuration, or NULL for no transports (tests
 *               that set sip->sendh, in-process use)
 * @param reqh   requests that no transaction absorbed
 * @param resph  responses that matched no client transaction
 * @param arg    handler argument
 */
int sip_alloc(struct sip **sipp, const struct sip_transp_conf *tconf,
	      sip_req_h *reqh, sip_resp_h *resph, void *arg)
{
	struct sip *sip;
	int err;

	sip = mem_zalloc(sizeof(*sip), sip_destructor);
	if (!sip)
		return ENOMEM;
	sip->timers.t1 = 500;
	sip->timers.t2 = 4000;
	sip->timers.t4 = 5000;
	sip->reqh = reqh;
	sip->resph = resph;
	sip->reqh_arg = arg;
	sip->resph_arg = arg;
	(void)snprintf(sip->software, sizeof(sip->software), "entims/0.1");
	if (RAND_bytes((unsigned char *)&sip->branch_salt,
		       sizeof(sip->branch_salt)) != 1)
		sip->branch_salt = (uint64_t)tmr_jiffies() * 2654435761u;

	/* they grow with the completed transactions that linger (Timer K
	 * keeps a client non-INVITE 5 s over UDP, Timers H/L an INVITE 32 s;
	 * a completed server non-INVITE over UDP lives in sip->rcache) */
	err = hash_alloc(&sip->ctrans, 1024);
	if (err)
		goto out;
	hash_grow_with(sip->ctrans, sip_ctrans_hash_key, 1u << 18);
	err = hash_alloc(&sip->strans, 1024);
	if (err)
		goto out;
	hash_grow_with(sip->strans, sip_strans_hash_key, 1u << 19);
	err = rcache_alloc(&sip->rcache, &sip->stats.rcache);
	if (err)
		goto out;
	if (tconf) {
		err = sip_transp_alloc(&sip->transp, tconf, sip_recv, sip);
		if (err)
			goto out;
		sip_transp_set_failh(sip->transp, transp_failed, sip);
	}
out:
	if (err)
		mem_deref(sip);
	else
		*sipp = sip;
	return err;
}


/** Drop every transaction and close the transports (explicit shutdown). */
void sip_close(struct sip *sip)
{
	if (!sip)
		return;
	if (sip->ctrans && sip->strans)
		sip_trans_close_all(sip);
	if (sip->transp) {
		sip_transp_close(sip->transp);
		sip->transp = mem_deref(sip->transp);
	}
}


/* once NULL: any message (responses, retransmissions, ACK); else a
 * client transaction's first send, which alone may mark a handed-over
 * message as delivered once (transp.c). */
static int send_msg(struct sip *sip, enum sip_transp tp, const struct sa *dst,
		    struct sip_conn *conn, const void *p, size_t len,
		    bool *once)
{
	if (sip->sendh)
		return sip->sendh(sip, tp, dst, conn, p, len);
	if (!sip->transp)
		return ENOTCONN;
	if (once)
		return sip_transp_send_once(sip->transp, tp, dst, conn, p, len,
					    once);
	return sip_transp_send(sip->transp, tp, dst, conn, p, len);
}


int sip_send(struct sip *sip, enum sip_transp tp, const struct sa *dst,
	     struct sip_conn *conn, const void *p, size_t len)
{
	return send_msg(sip, tp, dst, conn, p, len, NULL);
}


int sip_send_once(struct sip *sip, enum sip_transp tp, const struct sa *dst,
		  struct sip_conn *conn, const void *p, size_t len, bool *once)
{
	*once = false;
	return send_msg(sip, tp, dst, conn, p, len, once);
}


/**
 * Where the response to a request goes (RFC 3261 18.2.2, RFC 3581 4):
 * back on the connection it came on while that is open; otherwise to the
 * source address, at the source port when the client asked for rport, at
 * the sent-by port (default 5060/5061) when it did not.
 */
int sip_response_dest(struct sip_msg *req, enum sip_transp *tp, struct sa *dst)
{
	const struct sip_via *via;

	if (req->conn && sip_conn_alive(req->conn)) {
		*tp = sip_conn_transp(req->conn);
		*dst = *sip_conn_peer(req->conn);
		return 0;
	}
	if (!sa_isset(&req->src))
		return EDESTADDRREQ;
	*tp = req->tp ? (enum sip_transp)req->tp : SIP_TRANSP_UDP;
	*dst = req->src;
	if (!sip_msg_via(req, &via) && !via->has_rport)
		sa_set_port(dst,
			    via->port ? via->port
				      : (*tp == SIP_TRANSP_TLS ? 5061 : 5060));
	return 0;
}


void sip_branch_new(struct sip *sip, char *out, size_t size)
{
	(void)snprintf(out, size, "z9hG4bK%016llx%08x",
		       (unsigned long long)sip->branch_salt, ++sip->branch_seq);
}


static void log_bad(const struct sip_rx *rx, const struct sip_msg_err *perr,
		    bool answered)
{
	char src[SA_STRLEN];

	if (!log_trace_enabled(LOG_MODULE) && log_level_cur < LOG_LVL_DEBUG)
		return;
	sa_fmt(&rx->src, src, sizeof(src));
	LOG_DEBUG(NULL, "%s message from %s/%s: %s",
		  answered ? "rejected" : "dropped", src,
		  sip_transp_name(rx->tp),
		  perr->reason ? perr->reason : "malformed");
}


/**
 * Receive one message from a transport.
 */
void sip_recv(const struct sip_rx *rx, void *arg)
{
	struct sip *sip = arg;
	struct sip_msg *msg = &rxmsg;
	struct sip_msg_err perr;
	int err;

	err = sip_msg_decode(msg, rx->p, rx->len, rx->dgram, &perr);
	msg->src = rx->src;
	msg->dst = rx->dst;
	msg->tp = rx->tp;
	msg->once = rx->once;
	msg->conn = rx->conn; /* not a reference: valid during this call */
	msg->rx_ms = tmr_jiffies();
	if (!err && msg->req)
		sip_strans_prefetch(sip, msg); /* validating hides the miss */
	if (!err)
		err = sip_msg_validate(msg, &perr);
	if (err) {
		bool answered = false;

		if (msg->req && perr.scode && msg->hdrc)
			answered =
				!sip_replyf(sip, msg, perr.scode, perr.reason);
		if (answered)
			sip->stats.rx_malformed++;
		else
			sip->stats.rx_dropped++;
		log_bad(rx, &perr, answered);
		msg->conn = NULL;
		return;
	}

	if (!msg->req) {
		sip->stats.rx_responses++;
		if (!sip_ctrans_recv(sip, msg) && sip->resph)
			sip->resph(sip, msg, sip->resph_arg);
	} else {
		sip->stats.rx_requests++;
		if (!sip_strans_recv(sip, msg)) {
			if (!sip->reqh || !sip->reqh(sip, msg, sip->reqh_arg)) {
				if (msg->meth != SIP_METHOD_ACK)
					(void)sip_replyf(sip, msg, 501, NULL);
			}
		}
	}
	msg->conn = NULL;
}
