/**
 * @file role_scscf.c  The S-CSCF role of `entims run`.
 *
 * Wiring only: the S-CSCF registrar (cscf/scscf_reg.c, TS 24.229 5.4.1)
 * authenticates and registers; this file owns the role's SIP stack and
 * its store.  A REGISTER gets a server transaction (retransmissions are
 * absorbed while MAR/SAR run) and scscf_reg_handle() answers it through
 * the reply callback.  Bindings survive a restart in an SQLite store in
 * the data directory (scscf_store.h).  Other requests get 501 until the
 * session routing module is wired (TS 24.229 5.4.3), and so does the reg
 * event SUBSCRIBE (5.4.2.1: the notifier exists, cscf/regevent.h, but is
 * not wired here yet).
 */
#include "cmd/role_scscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "cscf/scscf_reg.h"
#include "cscf/scscf_store.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/sip.h"
#include "sip/strans.h"

#define LOG_MODULE "scscf"

struct scscf_role {
	struct sip *sip;
	struct scscf_reg *reg;
	struct scscf_store *store;
	char uri[CONF_STR_MAX];
	char realm[CONF_STR_MAX];
};

struct stx {
	struct sip_strans *st;
};

static void destructor(void *arg)
{
	struct scscf_role *r = arg;

	if (r->reg)
		scscf_reg_close(r->reg);
	if (r->sip)
		sip_close(r->sip);
	mem_deref(r->reg);
	mem_deref(r->store);
	mem_deref(r->sip);
}


static void stx_destructor(void *arg)
{
	struct stx *t = arg;

	mem_deref(t->st);
}


static void replied(const struct scscf_reply *rep, void *arg)
{
	struct stx *t = arg;
	struct sip_reply_opts o = { 0 };
	int err;

	if (!rep->err) {
		o.reason = rep->reason;
		o.hdrs = rep->hdrs;
		err = sip_strans_reply(t->st, rep->scode, &o);
		if (err)
			LOG_WARN(NULL, "REGISTER answer %u not sent: %s",
				 rep->scode, log_strerror(err));
	}
	mem_deref(t);
}


static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct scscf_role *r = arg;
	struct sip_msg *req = NULL;
	struct stx *t;
	int err;

	(void)sip;
	if (msg->meth == SIP_METHOD_ACK)
		return true; /* an ACK for a 2xx: no session routing yet */
	if (msg->meth != SIP_METHOD_REGISTER) {
		(void)sip_replyf(r->sip, msg, 501,
				 "Session Routing Not Wired Yet");
		return true;
	}
	t = mem_zalloc(sizeof(*t), stx_destructor);
	if (!t)
		goto oom;
	err = sip_msg_dup(&req, msg);
	if (!err)
		err = sip_strans_alloc(&t->st, r->sip, req, NULL, NULL);
	mem_deref(req);
	if (err) {
		mem_deref(t);
		goto oom;
	}
	err = scscf_reg_handle(r->reg, sip_strans_req(t->st), replied, t);
	if (err) {
		LOG_WARN(NULL, "REGISTER not handled: %s", log_strerror(err));
		err = sip_strans_reply(t->st, 500, NULL);
		(void)err;
		mem_deref(t);
	}
	return true;
oom:
	(void)sip_replyf(r->sip, msg, 500, "Out Of Memory");
	return true;
}


static void on_response(struct sip *sip, struct sip_msg *msg, void *arg)
{
	(void)sip;
	(void)arg;
	LOG_DEBUG(NULL, "stray %u dropped", msg->scode);
}


int scscf_role_start(struct scscf_role **rp, const struct scscf_role_conf *c,
		     char *msg, size_t size)
{
	struct scscf_reg_conf rc = { 0 };
	struct scscf_role *r;
	char dir[CONF_STR_MAX + 16];
	int err;

	if (!rp || !c || !c->node || !c->data_dir)
		return EINVAL;
	if (!c->uri || strncmp(c->uri, "sip", 3)) {
		(void)snprintf(msg, size,
			       "the scscf role needs [scscf] uri (its SIP URI "
			       "and Server-Name, e.g. sip:127.0.0.1:5080)");
		return EINVAL;
	}
	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	(void)snprintf(r->uri, sizeof(r->uri), "%s", c->uri);
	(void)snprintf(r->realm, sizeof(r->realm), "%s",
		       c->realm ? c->realm : "");
	(void)snprintf(dir, sizeof(dir), "%s/scscf", c->data_dir);
	err = scscf_store_sqlite_open(&r->store, dir);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the S-CSCF store in '%s': %s", dir,
			       log_strerror(err));
		goto out;
	}
	rc.server_name = r->uri;
	rc.realm = r->realm[0] ? r->realm : NULL;
	rc.store = r->store;
	err = scscf_reg_alloc(&r->reg, c->node, &rc);
	if (err) {
		(void)snprintf(msg, size, "cannot create the S-CSCF: %s",
			       log_strerror(err));
		goto out;
	}
	err = role_sip_open(&r->sip, &c->sip, on_request, on_response, r, msg,
			    size);
	if (err)
		goto out;
	LOG_INFO(NULL, "S-CSCF %s, store %s", r->uri, dir);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


void scscf_role_stop(struct scscf_role *r)
{
	if (!r)
		return;
	if (r->reg)
		scscf_reg_close(r->reg);
	if (r->sip)
		sip_close(r->sip);
}
