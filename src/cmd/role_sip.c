/**
 * @file role_sip.c  A CSCF role's own SIP stack: each role of `entims run`
 * has its listeners and its transactions (so one process can run several
 * roles, each on its own addresses, TS 23.228 4.0 functional split); the
 * roles of one process share the event loop.
 */
#include "cmd/role_sip.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/strans.h"
#include "sip/transp.h"

#define LOG_MODULE "cscf"


int role_sip_open(struct sip **sipp, const struct role_sip_conf *c,
		  sip_req_h *reqh, sip_resp_h *resph, void *arg, char *msg,
		  size_t size)
{
	struct sip_transp_conf tc = { 0 };
	struct sip *sip = NULL;
	size_t i;
	int err;

	if (!sipp || !c || !c->listen)
		return EINVAL;
	if (!c->listen->n) {
		(void)snprintf(msg, size,
			       "[%s] listen is empty: give udp:IP:PORT, "
			       "tcp:IP:PORT or tls:IP:PORT",
			       c->section);
		return EINVAL;
	}
	if (c->tls_cert && *c->tls_cert) {
		tc.tls_cert = c->tls_cert;
		tc.tls_key =
			c->tls_key && *c->tls_key ? c->tls_key : c->tls_cert;
	}
	tc.tls_ca = c->tls_ca && *c->tls_ca ? c->tls_ca : NULL;
	err = sip_alloc(&sip, &tc, reqh, resph, arg);
	if (err) {
		(void)snprintf(msg, size, "[%s] SIP stack: %s", c->section,
			       log_strerror(err));
		return err;
	}
	for (i = 0; i < c->listen->n; i++) {
		const char *spec = c->listen->v[i];
		const char *colon = strchr(spec, ':');
		enum sip_transp tp = SIP_TRANSP_NONE;
		struct pl t;
		struct sa sa;

		if (colon) {
			pl_set(&t, spec, (size_t)(colon - spec));
			tp = sip_transp_from_pl(&t);
		}
		if (tp == SIP_TRANSP_NONE || sa_decode(&sa, colon + 1)) {
			(void)snprintf(msg, size,
				       "[%s] listen '%s': write udp:IP:PORT, "
				       "tcp:IP:PORT or tls:IP:PORT ([IPv6] in "
				       "brackets)",
				       c->section, spec);
			err = EINVAL;
			goto out;
		}
		if (tp == SIP_TRANSP_TLS && !tc.tls_cert) {
			(void)snprintf(msg, size,
				       "[%s] listen '%s': TLS needs [sip] "
				       "tls_cert (and tls_key)",
				       c->section, spec);
			err = EINVAL;
			goto out;
		}
		err = sip_transp_listen(sip->transp, tp, &sa);
		if (err) {
			(void)snprintf(msg, size,
				       "[%s] cannot listen on %s: %s",
				       c->section, spec, log_strerror(err));
			goto out;
		}
	}
out:
	if (err) {
		sip_close(sip);
		mem_deref(sip);
	} else {
		*sipp = sip;
	}
	return err;
}


void role_reply(struct sip_strans *st, uint16_t scode, const char *reason)
{
	struct sip_reply_opts o = { 0 };
	int err;

	o.reason = reason;
	err = sip_strans_reply(st, scode, &o);
	if (err)
		LOG_WARN(NULL, "answer %u not sent: %s", scode,
			 log_strerror(err));
}


void role_stray_response(struct sip *sip, struct sip_msg *msg, void *arg)
{
	(void)sip;
	(void)arg;
	LOG_DEBUG(NULL, "stray %u dropped", msg->scode);
}
