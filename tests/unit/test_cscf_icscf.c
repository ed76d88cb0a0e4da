/**
 * @file test_cscf_icscf.c  The I-CSCF module (cscf/icscf.h) against the
 *                          real HSS, in one process, on the event loop.
 *
 * The HSS (util/hsstest.h: alice with capabilities mandatory {1} and
 * optional {2}, the HSS naming sip:scscf1.ims.test:6060; bob with
 * services for the unregistered state) is served by the node
 * "hss.ims.test"; the I-CSCF's node "icscf.ims.test" reaches it
 * in-process, as `entims run` does when both roles share a process.
 * Tables cover: REGISTER to the HSS's Server-Name or by capabilities,
 * the Cx refusals mapped to SIP (403), an untrusted source, S-CSCF
 * reselection (names first, then the configured S-CSCFs by mandatory and
 * optional capabilities, 600 when none is left, no retry on 401/403),
 * terminating requests (LIR: assigned S-CSCF, unregistered services,
 * 404, 480), a Route to follow, an unreachable HSS, cancelling, and the
 * same registration through a redirecting SLF over loopback TCP.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "cscf/icscf.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"
#include "diameter/peer.h"
#include "hss/hss.h"
#include "net/sa.h"
#include "sip/msg.h"
#include "store/store.h"
#include "util/hsstest.h"

#define ICSCF "icscf.ims.test"
#define SLF   "slf.ims.test"
#define ME    "sip:icscf.ims.test"
#define S2    "sip:scscf2.ims.test"
#define S3    "sip:scscf3.ims.test:5070"
#define S4    "sip:scscf4.ims.test"
#define PCSCF "127.0.0.20"

static const uint32_t caps2[] = { 1 };
static const uint32_t caps3[] = { 1, 2 };
static const uint32_t caps4[] = { 2 };
static const struct icscf_scscf scscfs[] = {
	{ S4, caps4, 1 }, /* lacks the mandatory 1 */
	{ S2, caps2, 1 },
	{ S3, caps3, 2 }, /* has the optional 2 too: first */
};

struct got {
	unsigned n;
	enum icscf_act act;
	uint16_t scode;
	char reason[64];
	char scscf[128];
	char text[4096];
};

struct fx {
	struct hsstest t;
	struct dia_node *hssn, *node;
	struct icscf *ic;
	struct icscf_tx *tx;
	struct got g;
};

static struct fx F;


/* ---- nodes (as test_cx_client.c) ---- */

static int hss_serve(const struct dia_msg *req, struct dia_msg **ansp,
		     struct dia_srv_req *sr, void *arg)
{
	(void)sr;
	return hss_handle(arg, req, ansp);
}


static void conf_init(struct dia_node_conf *c, const char *id, bool inproc)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->identity, sizeof(c->identity), "%s", id);
	(void)snprintf(c->realm, sizeof(c->realm), "%s", HT_REALM);
	c->reconnect_ms = 200;
	c->setup_ms = 2000;
	c->request_timeout_ms = 3000;
	c->in_process = inproc;
}


static void conf_add(struct conf_list *l, const char *v)
{
	assert_true(l->n < CONF_LIST_MAX);
	(void)snprintf(l->v[l->n++], CONF_STR_MAX, "%s", v);
}


static void conf_peer_at(struct dia_node_conf *c, const char *id,
			 const struct dia_node *n)
{
	const struct sa *la = dia_peers_laddr(dia_node_peers(n), false);
	char v[CONF_STR_MAX];

	assert_non_null(la);
	(void)snprintf(v, sizeof(v), "%s@127.0.0.1:%u", id, sa_port(la));
	conf_add(&c->peers, v);
}


static struct dia_node *node_alloc(const struct dia_node_conf *c)
{
	struct dia_node *n = NULL;
	char msg[256];

	if (dia_node_alloc(&n, c, msg, sizeof(msg)))
		fail_msg("dia_node_alloc: %s", msg);
	if (dia_node_start(n, msg, sizeof(msg)))
		fail_msg("dia_node_start: %s", msg);
	return n;
}


static struct dia_node *node_alloc_hss(const struct dia_node_conf *c,
				       struct hss *hss)
{
	static const uint32_t cmds[] = { DIA_CMD_UA, DIA_CMD_SA, DIA_CMD_LI,
					 DIA_CMD_MA };
	struct dia_node *n = NULL;
	char msg[256];
	size_t i;

	if (dia_node_alloc(&n, c, msg, sizeof(msg)))
		fail_msg("dia_node_alloc: %s", msg);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_int_equal(
			dia_node_handle(n, DIA_APP_CX, cmds[i], hss_serve, hss),
			0);
	if (dia_node_start(n, msg, sizeof(msg)))
		fail_msg("dia_node_start: %s", msg);
	return n;
}


static void node_free(struct dia_node *n)
{
	if (!n)
		return;
	dia_node_close(n);
	mem_deref(n);
}


typedef bool(cond_h)(void *arg);

static bool poll_until(cond_h *cond, void *arg, int ms)
{
	uint64_t end = tmr_jiffies() + (uint64_t)ms;

	while (!cond(arg)) {
		if (tmr_jiffies() > end)
			return false;
		assert_int_equal(loop_poll(5), 0);
	}
	return true;
}


static bool peer_open(void *arg)
{
	return dia_peer_is_open(arg);
}


static void ic_alloc(const struct sa *trusted, size_t trusted_n,
		     unsigned attempts)
{
	struct icscf_conf c;

	memset(&c, 0, sizeof(c));
	c.uri = ME;
	c.scscf = scscfs;
	c.scscf_n = sizeof(scscfs) / sizeof(scscfs[0]);
	c.trusted = trusted;
	c.trusted_n = trusted_n;
	c.home_network = HT_REALM;
	c.attempts = attempts;
	assert_int_equal(icscf_alloc(&F.ic, F.node, &c), 0);
}


static int setup(void **state)
{
	struct dia_node_conf c;
	int r = mem_mark(state);

	memset(&F, 0, sizeof(F));
	loop_close();
	tmr_test_set_now(0);
	assert_int_equal(loop_init(0), 0);
	ht_setup(&F.t, HSS_SLF_OFF);
	conf_init(&c, HT_HSS, true);
	F.hssn = node_alloc_hss(&c, F.t.hss);
	conf_init(&c, ICSCF, true);
	F.node = node_alloc(&c);
	ic_alloc(NULL, 0, 4);
	return r;
}


static int teardown(void **state)
{
	F.tx = mem_deref(F.tx);
	node_free(F.node);
	node_free(F.hssn);
	F.ic = mem_deref(F.ic);
	ht_teardown(&F.t);
	loop_close();
	return mem_expect_no_leaks(state);
}


/* ---- requests and decisions ---- */

static struct sip_msg *msg_make(const char *text, const char *src)
{
	struct sip_msg_err merr;
	struct sip_msg *m = NULL;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, strlen(text), SIP_MSG_MAX), 0);
	assert_int_equal(buf_write_str(mb, text), 0);
	mb->pos = 0;
	if (sip_msg_alloc(&m, mb, true, &merr))
		fail_msg("does not decode: %s\n%s", merr.reason, text);
	mem_deref(mb);
	m->tp = 1;
	assert_int_equal(sa_set_str(&m->src, src, 5060), 0);
	return m;
}


static struct sip_msg *register_msg(const char *impu, const char *extra)
{
	char t[2048];

	(void)snprintf(t, sizeof(t),
		       "REGISTER sip:ims.test SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.20;branch=z9hG4bKp1\r\n"
		       "Route: <sip:icscf.ims.test;lr>\r\n"
		       "From: <%s>;tag=1\r\nTo: <%s>\r\n"
		       "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"
		       "Contact: <sip:ue@192.0.2.10>\r\n"
		       "Path: <sip:tok@pcscf.ims.test;lr>\r\n"
		       "%s"
		       "Content-Length: 0\r\n\r\n",
		       impu, impu, extra);
	return msg_make(t, PCSCF);
}


static struct sip_msg *invite_msg(const char *ruri, const char *extra)
{
	char t[2048];

	(void)snprintf(t, sizeof(t),
		       "INVITE %s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKx\r\n"
		       "%s"
		       "From: <sip:carl@other.example>;tag=1\r\nTo: <%s>\r\n"
		       "Call-ID: i1\r\nCSeq: 1 INVITE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       ruri, extra, ruri);
	return msg_make(t, "198.51.100.1");
}


static void out_h(const struct icscf_out *out, void *arg)
{
	struct got *g = arg;

	g->n++;
	g->act = out->act;
	g->scode = out->scode;
	(void)snprintf(g->reason, sizeof(g->reason), "%s",
		       out->reason ? out->reason : "");
	g->scscf[0] = g->text[0] = '\0';
	if (out->act == ICSCF_FORWARD) {
		assert_non_null(out->msg);
		(void)snprintf(g->scscf, sizeof(g->scscf), "%s", out->scscf);
		(void)snprintf(g->text, sizeof(g->text), "%.*s",
			       (int)out->msg->len, out->msg->p);
	} else {
		assert_null(out->msg);
	}
}


static bool got_n(void *arg)
{
	return F.g.n >= *(unsigned *)arg;
}


/* Wait for the n-th decision; none may come before the call returned. */
static void wait_n(unsigned n)
{
	assert_true(poll_until(got_n, &n, 4000));
	assert_int_equal(F.g.n, n);
}


static void run(struct sip_msg *req)
{
	F.tx = mem_deref(F.tx);
	memset(&F.g, 0, sizeof(F.g));
	assert_int_equal(icscf_request(&F.tx, F.ic, req, out_h, &F.g), 0);
	assert_int_equal(F.g.n, 0); /* never from inside */
	wait_n(1);
	mem_deref(req);
}


static void expect_forward(const char *scscf)
{
	char route[256];

	if (F.g.act != ICSCF_FORWARD)
		fail_msg("expected FORWARD to %s, got %u %s", scscf, F.g.scode,
			 F.g.reason);
	assert_string_equal(F.g.scscf, scscf);
	(void)snprintf(route, sizeof(route), "Route: <%s;lr>\r\n", scscf);
	assert_non_null(strstr(F.g.text, route));
	/* our own entry is gone */
	assert_null(strstr(F.g.text, "icscf.ims.test"));
}


static void expect_reply(uint16_t scode)
{
	if (F.g.act != ICSCF_REPLY || F.g.scode != scode)
		fail_msg("expected %u, got act %d %u %s to %s", scode, F.g.act,
			 F.g.scode, F.g.reason, F.g.scscf);
}


/* ---- REGISTER ---- */

static void test_register_first(void **state)
{
	struct icscf_stats st;

	(void)state;
	run(register_msg(HT_AU, "Authorization: Digest username=\"" HT_ALICE
				"\", realm=\"ims.test\", nonce=\"\", "
				"uri=\"sip:ims.test\", response=\"\"\r\n"));
	/* 2001 FIRST_REGISTRATION with capabilities: the HSS's name first */
	expect_forward(HT_SCSCF1);
	assert_non_null(strstr(F.g.text, "Path: <sip:tok@pcscf.ims.test;lr>"));

	/* TS 24.229 5.3.1.3: it fails, the next by capabilities (S3 has
	 * the optional one), then the other with the mandatory one */
	assert_int_equal(icscf_retry(F.tx, 480), 0);
	assert_int_equal(icscf_retry(F.tx, 480), EALREADY);
	wait_n(2);
	expect_forward(S3);
	assert_int_equal(icscf_retry(F.tx, 302), 0);
	wait_n(3);
	expect_forward(S2);
	/* S4 lacks the mandatory capability: none left */
	assert_int_equal(icscf_retry(F.tx, 408), 0);
	wait_n(4);
	expect_reply(600);
	assert_int_equal(icscf_retry(F.tx, 408), EPERM);

	icscf_stats(F.ic, &st);
	assert_int_equal(st.uar, 1);
	assert_int_equal(st.retried, 3);
}


static void test_register_no_retry(void **state)
{
	static const uint16_t codes[] = { 401, 403, 404, 500, 200 };
	size_t i;

	(void)state;
	run(register_msg(HT_AU, ""));
	expect_forward(HT_SCSCF1);
	/* the challenge and the S-CSCF's refusals go back as they are */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_int_equal(icscf_retry(F.tx, codes[i]), EPERM);
	/* the attempts are counted: 3 by default */
	F.tx = mem_deref(F.tx);
	F.ic = mem_deref(F.ic);
	ic_alloc(NULL, 0, 0);
	run(register_msg(HT_AU, ""));
	assert_int_equal(icscf_retry(F.tx, 503), 0);
	wait_n(2);
	assert_int_equal(icscf_retry(F.tx, 503), 0);
	wait_n(3);
	expect_forward(S2);
	assert_int_equal(icscf_retry(F.tx, 503), EPERM);
}


static void test_register_subsequent(void **state)
{
	struct icscf_stats st;

	(void)state;
	ht_register(&F.t, HT_ALICE, HT_AU, HT_SCSCF1);
	/* the IMPI derived from the To URI (no Authorization) */
	run(register_msg(HT_AU, ""));
	expect_forward(HT_SCSCF1);
	/* the named S-CSCF fails: ask again with capabilities */
	assert_int_equal(icscf_retry(F.tx, 480), 0);
	wait_n(2);
	expect_forward(S3);
	icscf_stats(F.ic, &st);
	assert_int_equal(st.uar, 2);
}


static void test_register_refused(void **state)
{
	static const struct {
		const char *name;
		const char *impu;
		const char *extra;
		uint16_t scode;
	} cases[] = {
		{ "unknown user", "sip:carol@ims.test", "", 403 },
		{ "identities don't match", HT_AU,
		  "Authorization: Digest username=\"" HT_BOB "\", "
		  "realm=\"ims.test\", nonce=\"\", uri=\"sip:ims.test\", "
		  "response=\"\"\r\n",
		  403 },
		{ "roaming not allowed", HT_AU,
		  "P-Visited-Network-ID: \"other.example\"\r\n", 403 },
		{ "barred (authorization rejected)", HT_AOLD,
		  "Authorization: Digest username=\"" HT_ALICE "\", "
		  "realm=\"ims.test\", nonce=\"\", uri=\"sip:ims.test\", "
		  "response=\"\"\r\n",
		  403 },
		{ "deregistering someone not registered", HT_AU,
		  "Expires: 0\r\n", 403 },
		{ "bad visited network", HT_AU,
		  "P-Visited-Network-ID: \"\"\r\n", 400 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(register_msg(cases[i].impu, cases[i].extra));
		if (F.g.act != ICSCF_REPLY || F.g.scode != cases[i].scode)
			fail_msg("%s: act %d %u %s", cases[i].name, F.g.act,
				 F.g.scode, F.g.scscf);
		assert_int_equal(icscf_retry(F.tx, 480), EPERM);
	}
}


static void test_register_untrusted(void **state)
{
	struct icscf_stats st;
	struct sa core;

	(void)state;
	F.ic = mem_deref(F.ic);
	assert_int_equal(sa_set_str(&core, PCSCF, 0), 0);
	ic_alloc(&core, 1, 0);
	run(register_msg(HT_AU, ""));
	expect_forward(HT_SCSCF1);
	{
		struct sip_msg *req = register_msg(HT_AU, "");

		assert_int_equal(sa_set_str(&req->src, "203.0.113.5", 5060), 0);
		run(req);
	}
	expect_reply(403);
	icscf_stats(F.ic, &st);
	assert_int_equal(st.uar, 1); /* the HSS was not asked */
}


/* ---- terminating requests ---- */

static void test_terminating(void **state)
{
	static const struct {
		const char *name;
		const char *ruri;
		bool registered; /* alice registered at scscf1 first */
		enum icscf_act act;
		uint16_t scode;
		const char *scscf;
		int retry; /* icscf_retry(480) result */
	} cases[] = {
		{ "not registered, no unregistered services", HT_AU, false,
		  ICSCF_REPLY, 480, NULL, EPERM },
		{ "unknown user", "sip:carol@ims.test", false, ICSCF_REPLY, 404,
		  NULL, EPERM },
		{ "unregistered services: one is selected", HT_BU, false,
		  ICSCF_FORWARD, 0, NULL, 0 },
		/* from here on alice is registered */
		{ "registered: the assigned S-CSCF", HT_AU, true, ICSCF_FORWARD,
		  0, HT_SCSCF1, EPERM },
		{ "registered, by tel URI", HT_ATEL, true, ICSCF_FORWARD, 0,
		  HT_SCSCF1, EPERM },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].registered)
			ht_register(&F.t, HT_ALICE, HT_AU, HT_SCSCF1);
		run(invite_msg(cases[i].ruri, ""));
		if (F.g.act != cases[i].act ||
		    (cases[i].scode && F.g.scode != cases[i].scode))
			fail_msg("%s: act %d %u %s %s", cases[i].name, F.g.act,
				 F.g.scode, F.g.reason, F.g.scscf);
		if (cases[i].scscf)
			expect_forward(cases[i].scscf);
		if (F.g.act == ICSCF_FORWARD) {
			/* a loose route: the Request-URI stays */
			char line[128];

			(void)snprintf(line, sizeof(line), "INVITE %s SIP/2.0",
				       cases[i].ruri);
			assert_non_null(strstr(F.g.text, line));
			assert_true(F.g.scscf[0] != '\0');
		}
		assert_int_equal(icscf_retry(F.tx, 480), cases[i].retry);
		if (cases[i].retry == 0) {
			char first[128];

			(void)snprintf(first, sizeof(first), "%s", F.g.scscf);
			wait_n(2);
			assert_int_equal(F.g.act, ICSCF_FORWARD);
			assert_string_not_equal(F.g.scscf, first);
		}
	}
}


static void test_route_and_methods(void **state)
{
	struct icscf_stats st;
	struct sip_msg *req;
	struct icscf_tx *tx = NULL;

	(void)state;
	/* a Route past ours: followed, no query */
	run(invite_msg(HT_AU, "Route: <sip:icscf.ims.test;lr>, "
			      "<sip:scscf9.ims.test;lr>\r\n"));
	assert_int_equal(F.g.act, ICSCF_FORWARD);
	assert_string_equal(F.g.scscf, "");
	assert_non_null(strstr(F.g.text, "Route: <sip:scscf9.ims.test;lr>"));
	assert_null(strstr(F.g.text, "icscf.ims.test"));
	assert_int_equal(icscf_retry(F.tx, 480), EPERM);
	icscf_stats(F.ic, &st);
	assert_int_equal(st.lir, 0);

	/* hop-by-hop requests are the transaction layer's */
	req = msg_make("CANCEL sip:alice@ims.test SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKx\r\n"
		       "From: <sip:c@o.example>;tag=1\r\nTo: <" HT_AU ">\r\n"
		       "Call-ID: i1\r\nCSeq: 1 CANCEL\r\n"
		       "Content-Length: 0\r\n\r\n",
		       "198.51.100.1");
	assert_int_equal(icscf_request(&tx, F.ic, req, out_h, &F.g), ENOTSUP);
	assert_null(tx);
	mem_deref(req);
	/* a Request-URI of another scheme */
	run(invite_msg("mailto:alice@ims.test", ""));
	expect_reply(416);
}


static void test_cancel_handle(void **state)
{
	struct sip_msg *req = register_msg(HT_AU, "");
	struct icscf_tx *tx = NULL;
	int i;

	(void)state;
	memset(&F.g, 0, sizeof(F.g));
	assert_int_equal(icscf_request(&tx, F.ic, req, out_h, &F.g), 0);
	mem_deref(req);
	tx = mem_deref(tx);
	/* the UAA comes and finds no one */
	for (i = 0; i < 20; i++)
		assert_int_equal(loop_poll(5), 0);
	assert_int_equal(F.g.n, 0);
}


static void test_hss_unreachable(void **state)
{
	struct dia_node_conf c;

	(void)state;
	/* an I-CSCF node alone: no HSS in the process, no peer */
	F.ic = mem_deref(F.ic);
	node_free(F.node);
	conf_init(&c, ICSCF, false);
	F.node = node_alloc(&c);
	ic_alloc(NULL, 0, 0);
	run(register_msg(HT_AU, ""));
	expect_reply(480);
	run(invite_msg(HT_AU, ""));
	expect_reply(480);
}


/* ---- Dx: the same REGISTER through a redirecting SLF ---- */

struct slf {
	char dir[64];
	struct store *st;
	struct hss *hss;
	struct dia_node *node;
};


static void slf_stop(struct slf *s)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[128];
	size_t i;

	node_free(s->node);
	mem_deref(s->hss);
	mem_deref(s->st);
	for (i = 0; i < 4; i++) {
		(void)snprintf(path, sizeof(path), "%s/slf.db%s", s->dir,
			       sfx[i]);
		(void)unlink(path);
	}
	(void)rmdir(s->dir);
}


static void test_register_through_slf(void **state)
{
	struct dia_node_conf c;
	struct dia_node_stats st;
	struct hss_conf hc;
	struct slf s;
	char url[128];

	(void)state;
	/* the HSS over TCP */
	F.ic = mem_deref(F.ic);
	node_free(F.node);
	node_free(F.hssn);
	conf_init(&c, HT_HSS, false);
	conf_add(&c.listen, "tcp:127.0.0.1:0");
	conf_add(&c.peers, ICSCF);
	F.hssn = node_alloc_hss(&c, F.t.hss);

	/* TS 29.228 6.6: the SLF knows alice's HSS */
	memset(&s, 0, sizeof(s));
	(void)snprintf(s.dir, sizeof(s.dir), "/tmp/entims-slf-XXXXXX");
	assert_non_null(mkdtemp(s.dir));
	(void)snprintf(url, sizeof(url), "sqlite:%s/slf.db", s.dir);
	assert_int_equal(store_open(&s.st, url), 0);
	assert_int_equal(store_slf_set(s.st, HT_ALICE, HT_HSS, HT_REALM), 0);
	assert_int_equal(store_slf_set(s.st, HT_AU, HT_HSS, HT_REALM), 0);
	hss_conf_default(&hc);
	(void)snprintf(hc.identity, sizeof(hc.identity), "%s", SLF);
	(void)snprintf(hc.realm, sizeof(hc.realm), "%s", HT_REALM);
	hc.slf = HSS_SLF_ONLY;
	assert_int_equal(hss_alloc(&s.hss, s.st, &hc), 0);
	conf_init(&c, SLF, false);
	conf_add(&c.listen, "tcp:127.0.0.1:0");
	conf_add(&c.peers, ICSCF);
	s.node = node_alloc_hss(&c, s.hss);

	/* the I-CSCF routes the realm to the SLF and knows the HSS as a
	 * peer only */
	conf_init(&c, ICSCF, false);
	conf_add(&c.applications, "cx");
	conf_peer_at(&c, SLF, s.node);
	conf_peer_at(&c, HT_HSS, F.hssn);
	conf_add(&c.routes, HT_REALM "=" SLF);
	F.node = node_alloc(&c);
	assert_true(poll_until(peer_open, dia_node_peer(F.node, SLF), 3000));
	ic_alloc(NULL, 0, 0);

	run(register_msg(HT_AU, ""));
	expect_forward(HT_SCSCF1);
	dia_node_stats(F.node, &st);
	assert_int_equal(st.redirects, 1);
	/* bob is not in the SLF: unknown user, 403 */
	run(register_msg(HT_BU, ""));
	expect_reply(403);

	F.tx = mem_deref(F.tx);
	F.ic = mem_deref(F.ic);
	node_free(F.node);
	F.node = NULL;
	slf_stop(&s);
}


static void test_conf_errors(void **state)
{
	static const struct icscf_scscf bad_uri[] = { { "sip:bad host", NULL,
							0 } };
	struct icscf *ic = NULL;
	struct icscf_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(icscf_alloc(&ic, F.node, &c), EINVAL);
	c.uri = "tel:+1";
	assert_int_equal(icscf_alloc(&ic, F.node, &c), EINVAL);
	c.uri = ME;
	c.scscf = bad_uri;
	c.scscf_n = 1;
	assert_int_equal(icscf_alloc(&ic, F.node, &c), EINVAL);
	c.scscf_n = ICSCF_SCSCF_MAX + 1;
	assert_int_equal(icscf_alloc(&ic, F.node, &c), EINVAL);
	c.scscf_n = 0;
	assert_int_equal(icscf_alloc(&ic, NULL, &c), EINVAL);
	assert_null(ic);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_register_first),      T(test_register_no_retry),
		T(test_register_subsequent), T(test_register_refused),
		T(test_register_untrusted),  T(test_terminating),
		T(test_route_and_methods),   T(test_cancel_handle),
		T(test_hss_unreachable),     T(test_register_through_slf),
		T(test_conf_errors),
#undef T
	};

	return cmocka_run_group_tests_name("cscf_icscf", tests, NULL, NULL);
}
