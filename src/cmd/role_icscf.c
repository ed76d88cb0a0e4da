/**
 * @file role_icscf.c  The I-CSCF role of `entims run`.
 *
 * Wiring only: cscf/icscf.c decides where a request goes (UAR/LIR over
 * Cx, S-CSCF selection, TS 24.229 5.3), this file owns the role's SIP
 * stack.  Each request gets a server transaction and an icscf_request();
 * a FORWARD decision (the S-CSCF as top Route) is sent on with one
 * client transaction (cscf/fwd.h).  When the S-CSCF answers 3xx or 480, or
 * does not answer (408) or cannot be reached (503), icscf_retry() may pick
 * another one (5.3.1.3); otherwise the answer is relayed as it is.
 * The I-CSCF keeps no state past the transaction and does not
 * record-route (5.3.1.2).
 */
#include "cmd/role_icscf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "cscf/fwd.h"
#include "cscf/icscf.h"
#include "sip/build.h"
#include "sip/ctrans.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define LOG_MODULE "icscf"

#define CAPS_MAX 16

struct icscf_role {
	struct sip *sip;
	struct icscf *ic;
	struct sip_dns *dns; /* S-CSCFs by name (RFC 3263) */
	char uri[CONF_STR_MAX];
	char scscf_uri[ICSCF_SCSCF_MAX][CONF_STR_MAX];
	uint32_t caps[ICSCF_SCSCF_MAX][CAPS_MAX];
	struct icscf_scscf scscf[ICSCF_SCSCF_MAX];
	struct sa trusted[CONF_LIST_MAX];
	struct list txs; /* struct itx: released at stop */
};

struct itx {
	struct le le;
	struct icscf_role *r;
	struct sip_strans *st;
	struct cscf_fwd *ct;
	struct icscf_tx *tx;
	struct sip_msg *req;
};

static void destructor(void *arg)
{
	struct icscf_role *r = arg;

	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->txs);
	mem_deref(r->ic);
	mem_deref(r->dns);
	mem_deref(r->sip);
}


static void itx_destructor(void *arg)
{
	struct itx *t = arg;

	list_unlink(&t->le);
	mem_deref(t->tx);
	mem_deref(t->ct);
	mem_deref(t->st);
	mem_deref(t->req);
}


/* 0: a new decision will come (icscf_retry accepted) */
static int retry(struct itx *t, uint16_t scode)
{
	int err = icscf_retry(t->tx, scode);

	if (!err) {
		t->ct = mem_deref(t->ct);
		LOG_INFO(NULL, "S-CSCF answered %u: selecting another", scode);
	}
	return err;
}


static void fwd_resp(int err, struct sip_msg *msg, void *arg)
{
	struct itx *t = arg;
	uint16_t scode;

	if (err || !msg) {
		if (!err)
			return;
		scode = err == ETIMEDOUT ? 408 : 503;
		if (!retry(t, scode))
			return;
		role_reply(t->st, scode, NULL);
		mem_deref(t);
		return;
	}
	if (msg->scode == 100)
		return;
	if ((msg->scode >= 300 && msg->scode < 400) || msg->scode == 480) {
		if (!retry(t, msg->scode))
			return;
	}
	err = cscf_fwd_response(t->st, msg);
	if (err)
		LOG_WARN(NULL, "response %u not relayed: %s", msg->scode,
			 log_strerror(err));
	if (msg->scode >= 200 && t->req->meth != SIP_METHOD_INVITE)
		mem_deref(t);
}


static void decided(const struct icscf_out *out, void *arg)
{
	struct itx *t = arg;
	struct cscf_hop hop = { .dns = t->r->dns };
	int err;

	if (out->act == ICSCF_REPLY) {
		role_reply(t->st, out->scode, out->reason);
		mem_deref(t);
		return;
	}
	/* the S-CSCF is the top Route of out->msg */
	err = cscf_fwd_request(&t->ct, t->r->sip, out->msg, &hop, fwd_resp, t);
	if (err) {
		LOG_INFO(NULL, "not forwarded to %s: %s", out->scscf,
			 log_strerror(err));
		if (!retry(t, 503))
			return;
		role_reply(t->st, cscf_fwd_scode(err), NULL);
		mem_deref(t);
	}
}


static void st_event(int err, struct sip_msg *msg, void *arg)
{
	struct itx *t = arg;

	(void)msg;
	if (!err && t->ct) {
		err = cscf_fwd_cancel(t->ct); /* RFC 3261 16.10 */
		if (err)
			LOG_WARN(NULL, "CANCEL not sent: %s",
				 log_strerror(err));
	}
}


static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct icscf_role *r = arg;
	struct itx *t;
	int err;

	(void)sip;
	if (msg->meth == SIP_METHOD_ACK) {
		LOG_DEBUG(NULL, "ACK dropped (no session routing yet)");
		return true;
	}
	t = mem_zalloc(sizeof(*t), itx_destructor);
	if (!t)
		goto oom;
	t->r = r;
	list_append(&r->txs, &t->le, t);
	err = sip_msg_dup(&t->req, msg);
	if (!err)
		err = sip_strans_alloc(&t->st, r->sip, t->req, st_event, t);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	err = icscf_request(&t->tx, r->ic, t->req, decided, t);
	if (err) {
		role_reply(t->st, err == EINVAL ? 400 : 500, NULL);
		mem_deref(t);
	}
	return true;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
	return true;
}


/* "sip:127.0.0.1:5080;cap=1;cap=4" -> URI and capabilities */
static int scscf_parse(struct icscf_role *r, size_t i, const char *s, char *msg,
		       size_t size)
{
	const char *p = strstr(s, ";cap=");
	size_t nl = p ? (size_t)(p - s) : strlen(s);
	struct icscf_scscf *sc = &r->scscf[i];

	if (!nl || nl >= sizeof(r->scscf_uri[i]) || strncmp(s, "sip", 3) != 0) {
		(void)snprintf(msg, size,
			       "[icscf] scscf '%s' is not an S-CSCF SIP URI: "
			       "write it as sip:host[:port][;cap=N]...",
			       s);
		return EINVAL;
	}
	memcpy(r->scscf_uri[i], s, nl);
	r->scscf_uri[i][nl] = '\0';
	sc->uri = r->scscf_uri[i];
	sc->caps = r->caps[i];
	while (p) {
		char *end;
		unsigned long v = strtoul(p + 5, &end, 10);

		if (end == p + 5 || (*end && *end != ';') || v > UINT32_MAX ||
		    sc->caps_n == CAPS_MAX) {
			(void)snprintf(msg, size,
				       "[icscf] scscf '%s': a capability is a "
				       "number (;cap=N), at most %d of them",
				       s, CAPS_MAX);
			return EINVAL;
		}
		r->caps[i][sc->caps_n++] = (uint32_t)v;
		p = strstr(end, ";cap=");
	}
	return 0;
}


int icscf_role_start(struct icscf_role **rp, const struct icscf_role_conf *c,
		     char *msg, size_t size)
{
	struct icscf_conf ic = { 0 };
	struct icscf_role *r;
	size_t i;
	int err = 0;

	if (!rp || !c || !c->node)
		return EINVAL;
	if (!c->uri || !*c->uri) {
		(void)snprintf(msg, size,
			       "the icscf role needs [icscf] uri (its SIP "
			       "URI, e.g. sip:127.0.0.1:5070)");
		return EINVAL;
	}
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	list_init(&r->txs);
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	for (i = 0; c->scscf && i < c->scscf->n && !err; i++) {
		if (i == ICSCF_SCSCF_MAX) {
			(void)snprintf(msg, size,
				       "[icscf] scscf: at most %d S-CSCFs",
				       ICSCF_SCSCF_MAX);
			err = EINVAL;
			break;
		}
		err = scscf_parse(r, i, c->scscf->v[i], msg, size);
	}
	if (err)
		goto out;
	ic.scscf = r->scscf;
	ic.scscf_n = i;
	for (i = 0; c->trusted && i < c->trusted->n; i++) {
		const char *s = c->trusted->v[i];

		if (sa_decode(&r->trusted[i], s) &&
		    sa_set_str(&r->trusted[i], s, 0)) {
			(void)snprintf(msg, size,
				       "[icscf] trusted '%s': write IP (any "
				       "port) or IP:PORT",
				       s);
			err = EINVAL;
			goto out;
		}
	}
	ic.trusted = i ? r->trusted : NULL;
	ic.trusted_n = i;
	ic.uri = r->uri;
	err = cscf_fwd_dns_alloc(&r->dns, c->dns, msg, size);
	if (err)
		goto out;
	err = icscf_alloc(&r->ic, c->node, &ic);
	if (err) {
		(void)snprintf(msg, size, "cannot create the I-CSCF: %s",
			       log_strerror(err));
		goto out;
	}
	err = role_sip_open(&r->sip, &c->sip, on_request, role_stray_response,
			    r, msg, size);
	if (err)
		goto out;
	LOG_INFO(NULL, "I-CSCF %s, %zu S-CSCFs configured", r->uri, ic.scscf_n);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


void icscf_role_stop(struct icscf_role *r)
{
	if (!r)
		return;
	if (r->sip)
		sip_close(r->sip);
	list_flush(&r->txs);
}
