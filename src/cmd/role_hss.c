/**
 * @file role_hss.c  The HSS role of `entims run`.
 *
 * Wiring only: the store (src/store), the HSS application (src/hss) and a
 * Diameter node (src/diameter/node.c) that serves Cx/Dx (application
 * 16777216) and Sh (16777217) with it.  HSS-initiated requests (RTR, PPR,
 * PNR) leave through the same node.  Provisioning runs in other processes
 * (the CLI, later the REST API) and leaves events in the store's outbox;
 * a one-second timer hands them to hss_poll_events(), which sends the
 * PPR/RTR they ask for (TS 29.228 6.1.3, 6.2.2).
 */
#include "cmd/role_hss.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/loop.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"
#include "hss/hss.h"
#include "store/store.h"

#define LOG_MODULE "hss"

#define POLL_MS 1000

struct hss_role {
	struct store *st;
	struct hss *hss;
	struct dia_node *node;
	bool shared; /* node owned by the caller */
	struct tmr poll;
};

static void destructor(void *arg)
{
	struct hss_role *r = arg;

	tmr_cancel(&r->poll);
	if (r->node && !r->shared)
		dia_node_close(r->node);
	mem_deref(r->node);
	mem_deref(r->hss);
	mem_deref(r->st);
}


static int on_request(const struct dia_msg *req, struct dia_msg **ansp,
		      struct dia_srv_req *sr, void *arg)
{
	struct hss_role *r = arg;

	(void)sr;
	return hss_handle(r->hss, req, ansp);
}


static int send_h(struct dia_msg *req, hss_resp_h *resph, void *resp_arg,
		  void *arg)
{
	struct hss_role *r = arg;

	return dia_node_request(r->node, req, NULL, resph, resp_arg);
}


static int setup(struct dia_node *node, void *arg)
{
	static const struct {
		uint32_t app, code;
	} served[] = {
		{ DIA_APP_CX, DIA_CMD_UA }, { DIA_APP_CX, DIA_CMD_SA },
		{ DIA_APP_CX, DIA_CMD_LI }, { DIA_APP_CX, DIA_CMD_MA },
		{ DIA_APP_SH, DIA_CMD_UD }, { DIA_APP_SH, DIA_CMD_PU },
		{ DIA_APP_SH, DIA_CMD_SN },
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		err = dia_node_handle(node, served[i].app, served[i].code,
				      on_request, arg);
		if (err)
			return err;
	}
	return 0;
}


static void poll_h(void *arg)
{
	struct hss_role *r = arg;
	unsigned n = 0;
	int err;

	err = hss_poll_events(r->hss, &n);
	if (err)
		LOG_WARN(NULL, "outbox: %s", log_strerror(err));
	else if (n)
		LOG_INFO(NULL, "outbox: %u events sent", n);
	tmr_start(&r->poll, POLL_MS, poll_h, r);
}


/* "sip:scscf.example.net:6060;cap=1;cap=4" -> name and capabilities */
static int scscf_parse(const char *s, struct hss_scscf *out, char *msg,
		       size_t size)
{
	const char *p = strstr(s, ";cap=");
	size_t nl = p ? (size_t)(p - s) : strlen(s);

	memset(out, 0, sizeof(*out));
	if (!nl || nl >= sizeof(out->name) || strncmp(s, "sip", 3) != 0) {
		(void)snprintf(msg, size,
			       "[hss] scscf '%s' is not an S-CSCF SIP URI: "
			       "write it as sip:host[:port][;cap=N]...",
			       s);
		return EINVAL;
	}
	memcpy(out->name, s, nl);
	while (p) {
		char *end;
		unsigned long v = strtoul(p + 5, &end, 10);

		if (end == p + 5 || (*end && *end != ';') || v > UINT32_MAX ||
		    out->cap_n == HSS_CAP_MAX) {
			(void)snprintf(msg, size,
				       "[hss] scscf '%s': a capability is a "
				       "number (;cap=N), at most %d of them",
				       s, HSS_CAP_MAX);
			return EINVAL;
		}
		out->cap[out->cap_n++] = (uint32_t)v;
		p = strstr(end, ";cap=");
	}
	return 0;
}


static int hss_conf_of(const struct hss_role_conf *c, struct hss_conf *hc,
		       char *msg, size_t size)
{
	size_t i;
	int err;

	hss_conf_default(hc);
	(void)snprintf(hc->identity, sizeof(hc->identity), "%s",
		       c->node->identity);
	(void)snprintf(hc->realm, sizeof(hc->realm), "%s", c->node->realm);
	for (i = 0; c->scscf && i < c->scscf->n; i++) {
		if (i == HSS_SCSCF_MAX) {
			(void)snprintf(msg, size,
				       "[hss] scscf: at most %d S-CSCFs",
				       HSS_SCSCF_MAX);
			return EINVAL;
		}
		err = scscf_parse(c->scscf->v[i], &hc->scscf[i], msg, size);
		if (err)
			return err;
		hc->scscf_n++;
	}
	for (i = 0; c->networks && i < c->networks->n; i++) {
		if (i == HSS_NET_MAX) {
			(void)snprintf(msg, size,
				       "[hss] networks: at most %d entries",
				       HSS_NET_MAX);
			return EINVAL;
		}
		(void)snprintf(hc->networks[i], sizeof(hc->networks[i]), "%s",
			       c->networks->v[i]);
		hc->networks_n++;
	}
	if (!c->slf || !*c->slf || !strcmp(c->slf, "off")) {
		hc->slf = HSS_SLF_OFF;
	} else if (!strcmp(c->slf, "only")) {
		hc->slf = HSS_SLF_ONLY;
	} else if (!strcmp(c->slf, "with-hss")) {
		hc->slf = HSS_SLF_AND_HSS;
	} else {
		(void)snprintf(msg, size,
			       "[hss] slf = %s: write off (an HSS only), only "
			       "(a pure SLF) or with-hss (an SLF in front of "
			       "this HSS)",
			       c->slf);
		return EINVAL;
	}
	if (c->vectors_max)
		hc->vectors_max = c->vectors_max;
	return 0;
}


/**
 * Start the HSS role.
 *
 * @return 0, EINVAL (msg says which setting), or the error of the store
 *         or the node (msg says what failed)
 */
int hss_role_start(struct hss_role **rp, const struct hss_role_conf *c,
		   char *msg, size_t size)
{
	struct hss_conf hc;
	struct hss_role *r;
	char url[CONF_STR_MAX + 32];
	int err;

	if (!rp || !c || !c->node)
		return EINVAL;
	if (!c->node->identity[0] || !c->node->realm[0]) {
		(void)snprintf(msg, size,
			       "the hss role needs [diameter] identity (the "
			       "HSS's Diameter host name) and realm");
		return EINVAL;
	}
	err = hss_conf_of(c, &hc, msg, size);
	if (err)
		return err;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	tmr_init(&r->poll);
	err = store_url_resolve(url, sizeof(url), c->store_url, c->data_dir);
	if (!err)
		err = store_open(&r->st, url);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the subscriber store '%s': %s "
			       "(check [store] url)",
			       url, log_strerror(err));
		goto out;
	}
	err = hss_alloc(&r->hss, r->st, &hc);
	if (err) {
		(void)snprintf(msg, size, "cannot create the HSS: %s",
			       log_strerror(err));
		goto out;
	}
	hss_set_send(r->hss, send_h, r);
	if (c->shared_node) {
		r->node = mem_ref(c->shared_node);
		r->shared = true;
		err = setup(r->node, r);
		if (err)
			(void)snprintf(msg, size,
				       "diameter: setting up the HSS "
				       "handlers: %s",
				       log_strerror(err));
	} else {
		err = dia_node_start_from_conf(&r->node, c->node, setup, r, msg,
					       size);
	}
	if (err)
		goto out;
	tmr_start(&r->poll, POLL_MS, poll_h, r);
	LOG_INFO(NULL, "HSS %s (realm %s) on %s", c->node->identity,
		 c->node->realm, url);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


void hss_role_stop(struct hss_role *r)
{
	if (!r)
		return;
	tmr_cancel(&r->poll);
	if (r->node && !r->shared)
		dia_node_shutdown(r->node, 0 /* REBOOTING */);
}
