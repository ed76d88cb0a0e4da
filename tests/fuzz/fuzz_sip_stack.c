/**
 * @file fuzz_sip_stack.c  libFuzzer harness for the whole receive path.
 *
 * Each input is one datagram handed to sip_recv() of a stack that has the
 * registrar (memory only, digest authentication on) and the stateful
 * proxy behind it, as `entims run` wires them; what the stack sends goes
 * to a hook that only checks it parses.  One stack lives for the whole
 * run (transactions, bindings and nonces carry over from input to input,
 * as on a real server); after each input the test clock moves on 40 s so
 * that every transaction timer fires and state stays bounded.
 *
 * The first byte chooses the transport the datagram claims to come from
 * (UDP or a TCP stream), so both framings of the decoder are exercised.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "sip/auth.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/proxy.h"
#include "sip/registrar.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sip *sip;
static struct proxy *px;
static struct registrar *reg;
static struct auth *auth;
static uint64_t now = 1000000;

static int sink(struct sip *s, enum sip_transp tp, const struct sa *dst,
		struct sip_conn *conn, const void *p, size_t len)
{
	struct sip_msg msg;
	struct sip_msg_err e;

	(void)s;
	(void)tp;
	(void)dst;
	(void)conn;
	/* everything we send must be a message we can parse ourselves */
	if (len > 4 && memcmp(p, "\r\n\r\n", 4) != 0 &&
	    sip_msg_decode(&msg, p, len, true, &e))
		abort();
	return 0;
}


static void reg_done(const struct reg_reply *rep, void *arg)
{
	struct sip_msg *req = arg;
	struct sip_reply_opts o = { 0 };

	if (!rep->err) {
		o.reason = rep->reason;
		o.hdrs = rep->hdrs;
		(void)sip_reply(sip, req, rep->scode, &o);
	}
	mem_deref(req);
}


static bool on_req(struct sip *s, struct sip_msg *msg, void *arg)
{
	const struct sip_uri *ruri;
	struct sip_msg *keep = NULL;

	(void)s;
	(void)arg;
	if (msg->meth == SIP_METHOD_REGISTER && !sip_msg_ruri(msg, &ruri) &&
	    proxy_domain_is_mine(px, &ruri->host)) {
		if (sip_msg_dup(&keep, msg))
			return true;
		if (registrar_handle(reg, keep, reg_done, keep))
			mem_deref(keep);
		return true;
	}
	return proxy_request(px, msg);
}


static void on_resp(struct sip *s, struct sip_msg *msg, void *arg)
{
	(void)s;
	(void)arg;
	proxy_response(px, msg);
}


static int locate(struct sip_msg *req, const struct sip_uri *ruri,
		  struct proxy_targets *ts, void *arg)
{
	struct reg_contact c[4];
	size_t n = 0, i;

	(void)req;
	(void)arg;
	if (registrar_lookup_uri(reg, ruri, c, 4, &n))
		return ENOENT;
	for (i = 0; i < n && i < 4; i++) {
		struct proxy_target *t = &ts->v[ts->n];
		size_t ul = strlen(c[i].uri);

		if (ul >= sizeof(t->uri))
			continue;
		memcpy(t->uri, c[i].uri, ul + 1);
		t->path[0] = '\0';
		t->q = c[i].q;
		t->has_flow = true;
		t->tp = (enum sip_transp)c[i].tp;
		t->flow = c[i].src;
		t->conn = NULL;
		ts->n++;
	}
	return 0;
}


static void setup(void)
{
	static const char *const domains[] = { "example.com", NULL };
	struct registrar_conf rc = { 0 };
	struct proxy_conf pc = { 0 };

	log_set_level(LOG_LVL_ERROR);
	tmr_test_set_now(now);
	if (loop_init(64) || sip_alloc(&sip, NULL, on_req, on_resp, NULL) ||
	    auth_alloc(&auth, NULL) ||
	    auth_user_set(auth, "alice", "example.com", "secret"))
		abort();
	sip->sendh = sink;
	rc.domains = domains;
	rc.auth = auth;
	if (registrar_alloc(&reg, &rc))
		abort();
	pc.record_route = true;
	(void)snprintf(pc.domains[0], sizeof(pc.domains[0]), "example.com");
	pc.ndomains = 1;
	(void)snprintf(pc.advertise, sizeof(pc.advertise), "127.0.0.1");
	if (proxy_alloc(&px, sip, &pc, locate, NULL, NULL))
		abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_rx rx;

	if (!sip)
		setup();
	if (size < 1)
		return 0;
	memset(&rx, 0, sizeof(rx));
	rx.tp = (data[0] & 1) ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
	rx.dgram = rx.tp == SIP_TRANSP_UDP;
	rx.p = (const char *)data + 1;
	rx.len = size - 1;
	if (sa_set_str(&rx.src, "127.0.0.9", 5060) ||
	    sa_set_str(&rx.dst, "127.0.0.1", 5060))
		abort();
	if (!rx.dgram) {
		/* a stream delivers exactly one framed message */
		size_t mlen = 0, skip = 0;
		if (sip_msg_frame(rx.p, rx.len, &mlen, &skip))
			return 0;
		rx.p += skip;
		rx.len = mlen;
	}
	sip_recv(&rx, sip);
	/* let every transaction, Timer C and the commit hook run out */
	now += 40000;
	tmr_test_set_now(now);
	(void)loop_poll(0);
	return 0;
}
