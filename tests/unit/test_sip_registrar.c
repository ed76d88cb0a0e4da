/**
 * @file test_sip_registrar.c  The RFC 3261 10.3 registrar: bindings,
 * refresh, q order, removal, wildcard, Min-Expires, the Call-ID/CSeq rule,
 * expiry by timer, authentication and authorisation, RFC 4475 REGISTER
 * cases, and durability (reopen, and a child killed with SIGKILL right
 * after its 200 was released).
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
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/auth.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/regstore.h"
#include "sip/transp.h"

#define T0 5000000u

static const char *const domains[] = { "example.com", "Example.ORG", NULL };

static struct sip_msg g_msg;
static char g_text[8192];
static unsigned g_branch;
static char g_dir[64];

struct rx {
	int n;
	uint16_t scode;
	char reason[256];
	char hdrs[16384];
	bool stateless;
};

static void on_reply(const struct reg_reply *rep, void *arg)
{
	struct rx *r = arg;

	assert_int_equal(rep->err, 0);
	r->n++;
	r->scode = rep->scode;
	r->stateless = rep->stateless;
	(void)snprintf(r->reason, sizeof(r->reason), "%s", rep->reason);
	(void)snprintf(r->hdrs, sizeof(r->hdrs), "%s", rep->hdrs);
}


static int setup(void **state)
{
	tmr_test_set_now(T0);
	if (loop_init(64))
		return -1;
	g_dir[0] = '\0';
	return mem_mark(state);
}


static int teardown(void **state)
{
	int r = mem_expect_no_leaks(state);

	loop_close();
	tmr_test_set_now(0);
	if (g_dir[0]) {
		static const char *const files[] = { ".sqlite", ".sqlite-wal",
						     ".sqlite-shm", ".journal",
						     ".journal.1" };
		char path[128];
		size_t i;

		for (i = 0; i < 5; i++) {
			(void)snprintf(path, sizeof(path), "%s/%s%s", g_dir,
				       REGSTORE_FILE_BASE, files[i]);
			(void)unlink(path);
		}
		if (rmdir(g_dir) != 0)
			r = -1;
		g_dir[0] = '\0';
	}
	return r;
}


/* Decode a request into g_msg (from 192.0.2.1:5060 over UDP). */
static void decode_text(const char *text, size_t len)
{
	struct sip_msg_err e;

	assert_true(len < sizeof(g_text));
	memcpy(g_text, text, len);
	if (sip_msg_decode(&g_msg, g_text, len, true, &e))
		fail_msg("decode failed: %u %s", e.scode,
			 e.reason ? e.reason : "");
	assert_int_equal(sa_set_str(&g_msg.src, "192.0.2.1", 5060), 0);
	assert_int_equal(sa_set_str(&g_msg.dst, "127.0.0.1", 5060), 0);
	g_msg.tp = SIP_TRANSP_UDP;
	g_msg.conn = NULL;
}


/* A REGISTER for `to` (also From) with the given extra header lines. */
static void mkreg(const char *to, const char *callid, uint32_t cseq,
		  const char *extra)
{
	char buf[8192];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "REGISTER sip:example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%u\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <%s>;tag=f1\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "User-Agent: test-ua/1.0\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     ++g_branch, to, to, callid, cseq, extra);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	decode_text(buf, (size_t)n);
}


/* Run the current g_msg through the registrar; with a store, run one
 * loop batch so the commit hook releases the answer. */
static uint16_t run(struct registrar *reg, struct rx *rx)
{
	int n0 = rx->n, i;

	memset(rx->reason, 0, sizeof(rx->reason));
	rx->scode = 0;

	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, rx), 0);
	/* with a store: the hook commits, the answer follows from a
	 * zero-delay timer in the next iteration */
	for (i = 0; i < 2 && rx->n == n0; i++)
		assert_int_equal(loop_poll(0), 0);
	assert_int_equal(rx->n, n0 + 1);
	return rx->scode;
}


static uint16_t reg1(struct registrar *reg, struct rx *rx, const char *to,
		     const char *callid, uint32_t cseq, const char *extra)
{
	mkreg(to, callid, cseq, extra);
	return run(reg, rx);
}


static struct registrar *mkreg_obj(struct regstore *store, struct auth *auth)
{
	struct registrar_conf conf = { 0 };
	struct registrar *reg = NULL;

	conf.domains = domains;
	conf.store = store;
	conf.auth = auth;
	conf.max_contacts = 5;
	assert_int_equal(registrar_alloc(&reg, &conf), 0);
	return reg;
}


static size_t lookup(struct registrar *reg, const char *aor,
		     struct reg_contact *v, size_t max)
{
	struct pl pl;
	size_t n = 0;
	int err;

	pl_set_str(&pl, aor);
	err = registrar_lookup(reg, &pl, v, max, &n);
	if (err == ENOENT)
		return 0;
	assert_int_equal(err, 0);
	return n;
}


static void test_bind_query_refresh(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-1", 1,
			      "Contact: <sip:alice@192.0.2.1:5060>\r\n"),
			 200);
	/* RFC 3261 10.3 step 8: the binding with its expires, and Date */
	assert_non_null(strstr(rx.hdrs, "Contact: <sip:alice@192.0.2.1:5060>"
					";expires=3600\r\n"));
	assert_non_null(strstr(rx.hdrs, "Date: "));
	assert_int_equal(lookup(reg, "sip:alice@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:alice@192.0.2.1:5060");
	assert_int_equal(c[0].expires, 3600);
	assert_int_equal(c[0].tp, SIP_TRANSP_UDP);
	assert_int_equal(sa_port(&c[0].src), 5060);
	assert_string_equal(c[0].user_agent, "test-ua/1.0");

	/* a query (no Contact) lists the bindings and changes nothing */
	tmr_test_set_now(T0 + 100 * 1000);
	assert_int_equal(
		reg1(reg, &rx, "sip:alice@example.com", "cid-q", 1, ""), 200);
	assert_non_null(strstr(rx.hdrs, ";expires=3500\r\n"));

	/* refresh with the Expires header: same binding, new lifetime */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-1", 2,
			      "Contact: <sip:alice@192.0.2.1:5060>\r\n"
			      "Expires: 120\r\n"),
			 200);
	assert_non_null(strstr(rx.hdrs, ";expires=120\r\n"));
	assert_int_equal(registrar_count(reg), 1);

	/* the AOR is canonical: case of the host, escapes, parameters */
	assert_int_equal(lookup(reg, "sip:alice@EXAMPLE.com", c, 4), 0);
	assert_int_equal(reg1(reg, &rx, "sip:%61lice@EXAMPLE.COM;user=ip",
			      "cid-1", 3,
			      "Contact: <sip:alice@192.0.2.1:5060>;expires=90"
			      "\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 1);
	assert_int_equal(lookup(reg, "sip:alice@example.com", c, 4), 1);
	assert_int_equal(c[0].expires, 90);

	/* a URI that compares equal (RFC 3261 19.1.4) is the same binding */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-1", 4,
			      "Contact: <sip:alice@192.0.2.1:5060;"
			      "transport=udp>;expires=80\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 2); /* transport differs */
	registrar_close(reg);
	mem_deref(reg);
}


static void test_multiple_contacts_q_order(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };
	const char *p1, *p2, *p3;

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:bob@example.com", "cid-b", 1,
			      "Contact: <sip:bob@192.0.2.10>;q=0.1, "
			      "<sip:bob@192.0.2.11>;q=1.0\r\n"
			      "Contact: \"Desk\" <sip:bob@192.0.2.12>;q=0.5;"
			      "expires=600\r\n"),
			 200);
	assert_int_equal(lookup(reg, "sip:bob@example.com", c, 4), 3);
	assert_string_equal(c[0].uri, "sip:bob@192.0.2.11");
	assert_int_equal(c[0].q, 1000);
	assert_string_equal(c[1].uri, "sip:bob@192.0.2.12");
	assert_int_equal(c[1].q, 500);
	assert_int_equal(c[1].expires, 600);
	assert_string_equal(c[2].uri, "sip:bob@192.0.2.10");
	assert_int_equal(c[2].q, 100);

	/* the 200 lists all three, q kept */
	p1 = strstr(rx.hdrs, "<sip:bob@192.0.2.11>;expires=3600\r\n");
	p2 = strstr(rx.hdrs, "<sip:bob@192.0.2.12>;expires=600;q=0.5\r\n");
	p3 = strstr(rx.hdrs, "<sip:bob@192.0.2.10>;expires=3600;q=0.1\r\n");
	assert_true(p1 && p2 && p3 && p1 < p2 && p2 < p3);

	/* the lookup reports how many there are even past max */
	assert_int_equal(lookup(reg, "sip:bob@example.com", c, 1), 3);

	/* a q change moves the binding */
	assert_int_equal(reg1(reg, &rx, "sip:bob@example.com", "cid-b", 2,
			      "Contact: <sip:bob@192.0.2.10>;q=0.9\r\n"),
			 200);
	assert_int_equal(lookup(reg, "sip:bob@example.com", c, 4), 3);
	assert_string_equal(c[1].uri, "sip:bob@192.0.2.10");

	/* expires=0 removes exactly one */
	assert_int_equal(reg1(reg, &rx, "sip:bob@example.com", "cid-b", 3,
			      "Contact: <sip:bob@192.0.2.11>;expires=0\r\n"),
			 200);
	assert_int_equal(lookup(reg, "sip:bob@example.com", c, 4), 2);
	assert_null(strstr(rx.hdrs, "192.0.2.11"));
	/* removing an unknown contact is harmless */
	assert_int_equal(reg1(reg, &rx, "sip:bob@example.com", "cid-b", 4,
			      "Contact: <sip:bob@192.0.2.99>\r\n"
			      "Expires: 0\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 2);

	/* more than max_contacts (5) bindings for one AOR: 403 */
	assert_int_equal(
		reg1(reg, &rx, "sip:bob@example.com", "cid-b", 5,
		     "Contact: <sip:bob@192.0.2.20>, <sip:bob@192.0.2.21>, "
		     "<sip:bob@192.0.2.22>, <sip:bob@192.0.2.23>\r\n"),
		403);
	assert_int_equal(registrar_count(reg), 2);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_wildcard(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 1,
			      "Contact: <sip:c1@192.0.2.1>, "
			      "<sip:c2@192.0.2.1>\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 2);

	/* RFC 3261 10.3 step 6: * needs Expires: 0 and nothing else */
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 2,
			      "Contact: *\r\n"),
			 400);
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 3,
			      "Contact: *\r\nExpires: 60\r\n"),
			 400);
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 4,
			      "Contact: *, <sip:c3@192.0.2.1>\r\n"
			      "Expires: 0\r\n"),
			 400);
	assert_int_equal(registrar_count(reg), 2);

	/* same Call-ID with a CSeq not above the bindings': refused */
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 1,
			      "Contact: *\r\nExpires: 0\r\n"),
			 500);
	assert_int_equal(registrar_count(reg), 2);

	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-c", 5,
			      "Contact: *\r\nExpires: 0\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 0);
	assert_null(strstr(rx.hdrs, "Contact:"));
	/* with nothing registered, * still succeeds */
	assert_int_equal(reg1(reg, &rx, "sip:carol@example.com", "cid-x", 1,
			      "Contact: *\r\nExpires: 0\r\n"),
			 200);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_min_max_expires(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[2];
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:dave@example.com", "cid-d", 1,
			      "Contact: <sip:d@192.0.2.1>;expires=30\r\n"),
			 423);
	assert_string_equal(rx.reason, "Interval Too Brief");
	assert_non_null(strstr(rx.hdrs, "Min-Expires: 60\r\n"));
	assert_int_equal(reg1(reg, &rx, "sip:dave@example.com", "cid-d", 2,
			      "Contact: <sip:d@192.0.2.1>\r\nExpires: 59\r\n"),
			 423);
	assert_int_equal(registrar_count(reg), 0);

	/* above the maximum: shortened to it */
	assert_int_equal(reg1(reg, &rx, "sip:dave@example.com", "cid-d", 3,
			      "Contact: <sip:d@192.0.2.1>;expires=86400\r\n"),
			 200);
	assert_non_null(strstr(rx.hdrs, ";expires=3600\r\n"));
	assert_int_equal(lookup(reg, "sip:dave@example.com", c, 2), 1);
	assert_int_equal(c[0].expires, 3600);

	/* exactly the minimum is fine */
	assert_int_equal(reg1(reg, &rx, "sip:dave@example.com", "cid-d", 4,
			      "Contact: <sip:d@192.0.2.1>;expires=60\r\n"),
			 200);
	/* a malformed Expires: 400 */
	assert_int_equal(reg1(reg, &rx, "sip:dave@example.com", "cid-d", 5,
			      "Contact: <sip:d@192.0.2.1>\r\n"
			      "Expires: soon\r\n"),
			 400);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_callid_cseq_rule(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-e", 10,
			      "Contact: <sip:e1@192.0.2.1>;expires=300\r\n"),
			 200);
	/* RFC 3261 10.3 step 7: same Call-ID, CSeq equal or lower: the
	 * request fails and nothing changes */
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-e", 10,
			      "Contact: <sip:e1@192.0.2.1>;expires=900\r\n"),
			 500);
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-e", 9,
			      "Contact: <sip:e1@192.0.2.1>;expires=0\r\n"),
			 500);
	assert_int_equal(lookup(reg, "sip:erin@example.com", c, 4), 1);
	assert_int_equal(c[0].expires, 300);

	/* all-or-nothing: a new contact next to an out-of-order one */
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-e", 8,
			      "Contact: <sip:e2@192.0.2.1>, "
			      "<sip:e1@192.0.2.1>\r\n"),
			 500);
	assert_int_equal(registrar_count(reg), 1);

	/* another Call-ID (another UA, or a rebooted one) updates
	 * whatever its CSeq */
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-other", 1,
			      "Contact: <sip:e1@192.0.2.1>;expires=900\r\n"),
			 200);
	assert_int_equal(lookup(reg, "sip:erin@example.com", c, 4), 1);
	assert_int_equal(c[0].expires, 900);
	/* and the binding now carries the new Call-ID and CSeq */
	assert_int_equal(reg1(reg, &rx, "sip:erin@example.com", "cid-e", 11,
			      "Contact: <sip:e1@192.0.2.1>;expires=0\r\n"),
			 200);
	assert_int_equal(registrar_count(reg), 0);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_expiry_by_timer(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:fred@example.com", "cid-f", 1,
			      "Contact: <sip:f1@192.0.2.1>;expires=60, "
			      "<sip:f2@192.0.2.1>;expires=120\r\n"),
			 200);
	assert_int_equal(tmr_count(), 2);

	tmr_test_set_now(T0 + 59999);
	tmr_poll();
	assert_int_equal(lookup(reg, "sip:fred@example.com", c, 4), 2);
	tmr_test_set_now(T0 + 60000);
	tmr_poll();
	assert_int_equal(lookup(reg, "sip:fred@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:f2@192.0.2.1");
	assert_int_equal(c[0].expires, 60);

	/* a refresh pushes the expiry out */
	assert_int_equal(reg1(reg, &rx, "sip:fred@example.com", "cid-f", 2,
			      "Contact: <sip:f2@192.0.2.1>;expires=600\r\n"),
			 200);
	tmr_test_set_now(T0 + 130000);
	tmr_poll();
	assert_int_equal(registrar_count(reg), 1);
	/* the timer set for the first expiry fired and was set again for
	 * the rest; one timer per binding all along */
	assert_int_equal(tmr_count(), 1);
	tmr_test_set_now(T0 + 659999);
	tmr_poll();
	assert_int_equal(registrar_count(reg), 1);
	tmr_test_set_now(T0 + 660000);
	tmr_poll();
	assert_int_equal(registrar_count(reg), 0);
	assert_int_equal(tmr_count(), 0);

	/* a refresh that brings the expiry nearer sets the timer nearer */
	assert_int_equal(reg1(reg, &rx, "sip:fred@example.com", "cid-f", 3,
			      "Contact: <sip:f3@192.0.2.1>;expires=600\r\n"),
			 200);
	assert_int_equal(reg1(reg, &rx, "sip:fred@example.com", "cid-f", 4,
			      "Contact: <sip:f3@192.0.2.1>;expires=70\r\n"),
			 200);
	assert_int_equal(tmr_count(), 1);
	tmr_test_set_now(T0 + 660000 + 69999);
	tmr_poll();
	assert_int_equal(registrar_count(reg), 1);
	tmr_test_set_now(T0 + 660000 + 70000);
	tmr_poll();
	assert_int_equal(registrar_count(reg), 0);
	assert_int_equal(tmr_count(), 0);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_domain_require_path(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[2];
	struct rx rx = { 0 };

	(void)state;
	/* RFC 3261 10.3 step 1: not our domain */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.net", "cid-1", 1,
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 404);
	assert_non_null(strstr(rx.reason, "example.net"));
	/* the second domain, configured in mixed case */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.org", "cid-1", 1,
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 200);

	/* step 2: Require with an unknown option tag: 420 + Unsupported */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-2", 1,
			      "Require: path, foo\r\n"
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 420);
	assert_non_null(strstr(rx.hdrs, "Unsupported: foo\r\n"));
	assert_null(strstr(rx.hdrs, "Unsupported: path"));

	/* RFC 3327: Path stored, echoed when supported */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-3", 1,
			      "Supported: path\r\n"
			      "Path: <sip:p1.example.com;lr>\r\n"
			      "Path: <sip:p2.example.com;lr>\r\n"
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 200);
	assert_non_null(strstr(rx.hdrs, "Path: <sip:p1.example.com;lr>, "
					"<sip:p2.example.com;lr>\r\n"));
	assert_int_equal(lookup(reg, "sip:alice@example.com", c, 2), 1);
	assert_string_equal(c[0].path,
			    "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>");
	registrar_close(reg);
	mem_deref(reg);
}


static void test_outbound_instance(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[2];
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(
		reg1(reg, &rx, "sip:gina@example.com", "cid-g", 1,
		     "Contact: <sip:g@192.0.2.1:5060>;+sip.instance=\"<urn:"
		     "uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id="
		     "1\r\n"),
		200);
	assert_non_null(strstr(rx.hdrs, ";+sip.instance=\"<urn:uuid:"));
	assert_non_null(strstr(rx.hdrs, ";reg-id=1;expires=3600"));
	/* RFC 5626 6: same instance and reg-id, new address: replaced */
	assert_int_equal(
		reg1(reg, &rx, "sip:gina@example.com", "cid-g2", 1,
		     "Contact: <sip:g@192.0.2.77:6000>;+sip.instance=\"<urn:"
		     "uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id="
		     "1\r\n"),
		200);
	assert_int_equal(lookup(reg, "sip:gina@example.com", c, 2), 1);
	assert_string_equal(c[0].uri, "sip:g@192.0.2.77:6000");
	assert_int_equal(c[0].reg_id, 1);
	assert_string_equal(
		c[0].instance,
		"\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
	/* a bad reg-id: 400 */
	assert_int_equal(reg1(reg, &rx, "sip:gina@example.com", "cid-g2", 2,
			      "Contact: <sip:g@192.0.2.77:6000>;reg-id=x\r\n"),
			 400);
	registrar_close(reg);
	mem_deref(reg);
}


/* ---- authentication through the registrar ---- */

static void authz_line(char *out, size_t size, const char *hdrs,
		       const char *user, const char *pass)
{
	struct sip_authhdr ah;
	char nonce[128], opaque[64], ha1[AUTH_HA1_HEX_MAX],
		resp[AUTH_HA1_HEX_MAX];
	const char *line = strstr(hdrs, "algorithm=SHA-256");
	const char *p, *eol;
	struct pl v, nc, cn, qop, met, uri;

	/* the SHA-256 challenge line, wherever it is in the list */
	assert_non_null(line);
	while (line > hdrs && line[-1] != '\n')
		line--;
	p = strchr(line, ':');
	eol = strstr(line, "\r\n");
	assert_non_null(p);
	assert_non_null(eol);
	v.p = p + 1;
	v.l = (size_t)(eol - v.p);
	pl_trim(&v);
	assert_int_equal(sip_authhdr_decode(&ah, &v), 0);
	assert_true(pl_eq_str(&ah.algorithm, "SHA-256"));
	assert_int_equal(pl_strcpy(&ah.nonce, nonce, sizeof(nonce)), 0);
	assert_int_equal(pl_strcpy(&ah.opaque, opaque, sizeof(opaque)), 0);
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, user, "example.com", pass,
				  ha1, sizeof(ha1)),
			 0);
	pl_set_str(&nc, "00000001");
	pl_set_str(&cn, "abcdef");
	pl_set_str(&qop, "auth");
	pl_set_str(&met, "REGISTER");
	pl_set_str(&uri, "sip:example.com");
	assert_int_equal(auth_response(AUTH_ALG_SHA256, ha1, &ah.nonce, &nc,
				       &cn, &qop, &met, &uri, resp,
				       sizeof(resp)),
			 0);
	(void)snprintf(
		out, size,
		"Authorization: Digest username=\"%s\", realm=\"example.com\","
		" nonce=\"%s\", uri=\"sip:example.com\", response=\"%s\","
		" algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"abcdef\","
		" opaque=\"%s\"\r\n",
		user, nonce, resp, opaque);
}


static void test_auth_and_authz(void **state)
{
	struct auth *auth = NULL;
	struct registrar *reg;
	struct rx rx = { 0 };
	char extra[2048], az[1024];

	(void)state;
	assert_int_equal(auth_alloc(&auth, NULL), 0);
	assert_int_equal(auth_user_set(auth, "alice", "example.com", "pw1"), 0);
	assert_int_equal(auth_user_set(auth, "bob", "example.com", "pw2"), 0);
	reg = mkreg_obj(NULL, auth);

	/* no credentials: 401 with both challenges, nothing bound */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-a", 1,
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 401);
	assert_non_null(strstr(rx.hdrs, "algorithm=SHA-256"));
	assert_non_null(strstr(rx.hdrs, "algorithm=MD5"));
	assert_int_equal(registrar_count(reg), 0);
	assert_true(rx.stateless); /* a challenge: RFC 3261 8.2.7 */

	/* bob's good credentials for alice's AOR: 403 (step 4) */
	authz_line(az, sizeof(az), rx.hdrs, "bob", "pw2");
	(void)snprintf(extra, sizeof(extra), "%sContact: <sip:a@192.0.2.1>\r\n",
		       az);
	assert_int_equal(
		reg1(reg, &rx, "sip:alice@example.com", "cid-a", 2, extra),
		403);
	assert_int_equal(registrar_count(reg), 0);
	assert_false(rx.stateless);

	/* wrong password: challenged again */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-a", 3,
			      "Contact: <sip:a@192.0.2.1>\r\n"),
			 401);
	authz_line(az, sizeof(az), rx.hdrs, "alice", "wrong");
	(void)snprintf(extra, sizeof(extra), "%sContact: <sip:a@192.0.2.1>\r\n",
		       az);
	assert_int_equal(
		reg1(reg, &rx, "sip:alice@example.com", "cid-a", 4, extra),
		401);
	/* a failure: its retransmission must meet the transaction, not
	 * count twice */
	assert_false(rx.stateless);

	/* alice for alice: 200 */
	authz_line(az, sizeof(az), rx.hdrs, "alice", "pw1");
	(void)snprintf(extra, sizeof(extra), "%sContact: <sip:a@192.0.2.1>\r\n",
		       az);
	assert_int_equal(
		reg1(reg, &rx, "sip:alice@example.com", "cid-a", 5, extra),
		200);
	assert_int_equal(registrar_count(reg), 1);
	assert_false(rx.stateless);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(auth);
}


/* ---- RFC 4475 REGISTER cases ---- */

static bool load_vector(const char *name)
{
	char path[512], buf[8192];
	size_t n;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/messages/%s", ENTIMS_RFC4475_DIR,
		       name);
	f = fopen(path, "rb");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	decode_text(buf, n);
	return true;
}


static void run_vector(struct registrar *reg, struct rx *rx, const char *file,
		       uint16_t want)
{
	if (!load_vector(file))
		fail_msg("%s: RFC 4475 vector missing", file);
	if (run(reg, rx) != want)
		fail_msg("%s: %u %s, want %u", file, rx->scode, rx->reason,
			 want);
}


static void test_rfc4475_register_cases(void **state)
{
	struct registrar *reg = mkreg_obj(NULL, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };

	(void)state;
	/* 3.3.12: ";unknownparam" outside <> belongs to the Contact, not
	 * to the URI; it is echoed, the URI is stored without it */
	run_vector(reg, &rx, "cparam01.dat", 200);
	assert_int_equal(lookup(reg, "sip:watson@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:+19725552222@gw1.example.net");
	assert_string_equal(c[0].params, ";unknownparam");
	assert_non_null(strstr(rx.hdrs, "Contact: <sip:+19725552222@gw1."
					"example.net>;unknownparam;expires="));

	/* 3.3.13: inside <> it is part of the URI.  An unknown URI param in
	 * one URI only is ignored by RFC 3261 19.1.4, so this is the same
	 * binding, updated (another Call-ID) to the new URI */
	run_vector(reg, &rx, "cparam02.dat", 200);
	assert_int_equal(lookup(reg, "sip:watson@example.com", c, 4), 1);
	assert_string_equal(c[0].uri,
			    "sip:+19725552222@gw1.example.net;unknownparam");
	assert_string_equal(c[0].params, "");

	/* 3.3.14: the URI is kept whole, escaped header included */
	run_vector(reg, &rx, "regescrt.dat", 200);
	assert_int_equal(lookup(reg, "sip:user@example.com", c, 4), 1);
	assert_string_equal(c[0].uri,
			    "sip:user@example.com?Route=%3Csip:sip.example.com"
			    "%3E");

	/* 3.1.2.13: the same outside <> is ambiguous: 400, nothing bound */
	run_vector(reg, &rx, "regbadct.dat", 400);
	assert_int_equal(lookup(reg, "sip:user@example.com", c, 4), 1);

	/* 3.3.4: To isbn:, Contact name: -- refused by policy */
	run_vector(reg, &rx, "unksm2.dat", 404);

	/* 3.1.1.4: %00 does not cut the AOR; two distinct contacts */
	run_vector(reg, &rx, "escnull.dat", 200);
	assert_int_equal(lookup(reg, "sip:null-%00-null@example.com", c, 4), 2);
	assert_int_equal(lookup(reg, "sip:null-@example.com", c, 4), 0);

	/* 3.1.1.8: the REGISTER only, not the trailing INVITE */
	run_vector(reg, &rx, "dblreq.dat", 200);
	assert_int_equal(lookup(reg, "sip:j.user@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:j.user@host.example.com");

	/* 3.3.7 without authentication configured: a query, 200 */
	run_vector(reg, &rx, "regaut01.dat", 200);
	assert_int_equal(registrar_count(reg), 5);

	/* a non-SIP Contact for one of our AORs: refused by policy */
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-n", 1,
			      "Contact: <name:John_Smith>\r\n"),
			 403);
	assert_int_equal(reg1(reg, &rx, "sip:alice@example.com", "cid-n", 2,
			      "Contact: <sip:a@[::1]:5070;transport=tcp>\r\n"),
			 200);
	registrar_close(reg);
	mem_deref(reg);
}


static void test_regaut01_challenged(void **state)
{
	struct auth *auth = NULL;
	struct registrar *reg;
	struct rx rx = { 0 };

	(void)state;
	assert_int_equal(auth_alloc(&auth, NULL), 0);
	reg = mkreg_obj(NULL, auth);
	/* RFC 4475 3.3.7: an unknown scheme gets a Digest challenge */
	run_vector(reg, &rx, "regaut01.dat", 401);
	assert_non_null(strstr(rx.hdrs, "WWW-Authenticate: Digest "));
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(auth);
}


static void test_aor_canonical(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "sip:Alice@EXAMPLE.com", "sip:Alice@example.com" },
		{ "sips:bob@Example.COM:5061;transport=tcp",
		  "sips:bob@example.com:5061" },
		{ "sip:%61%6c%69ce@example.com", "sip:alice@example.com" },
		{ "sip:a%40b@example.com", "sip:a%40b@example.com" },
		{ "sip:a%3bb@example.com", "sip:a%3Bb@example.com" },
		{ "sip:user;par=u%40example.net@example.com",
		  "sip:user;par=u%40example.net@example.com" },
		{ "sip:example.com", "sip:example.com" },
		{ "sip:x@[2001:DB8::1]", "sip:x@[2001:db8::1]" },
	};
	char buf[256];
	struct sip_uri u;
	struct pl pl;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pl_set_str(&pl, cases[i].in);
		assert_int_equal(sip_uri_decode(&u, &pl), 0);
		assert_int_equal(registrar_aor(&u, buf, sizeof(buf), &n), 0);
		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("%s: got %s, want %s", cases[i].in, buf,
				 cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	pl_set_str(&pl, "tel:+15145550100");
	assert_int_equal(sip_uri_decode(&u, &pl), 0);
	assert_int_equal(registrar_aor(&u, buf, sizeof(buf), &n), EPROTO);
	pl_set_str(&pl, "sip:averyveryverylongusername@example.com");
	assert_int_equal(sip_uri_decode(&u, &pl), 0);
	assert_int_equal(registrar_aor(&u, buf, 16, &n), ENOSPC);
}


/* ---- durability ---- */

static struct regstore *mkstore(void)
{
	struct regstore *rs = NULL;

	if (!g_dir[0]) {
		(void)snprintf(g_dir, sizeof(g_dir),
			       "/tmp/entims-regtest-XXXXXX");
		assert_non_null(mkdtemp(g_dir));
	}
	assert_int_equal(regstore_open(&rs, g_dir), 0);
	return rs;
}


/* test_group_commit_delay: at time T0 + at, REGISTER user gc<i> (its own
 * AOR, a new binding) and run one loop iteration. */
static void gc_register(struct registrar *reg, struct rx *rx, uint64_t at,
			int i)
{
	char aor[64], cid[32], contact[64];

	(void)snprintf(aor, sizeof(aor), "sip:gc%d@example.com", i);
	(void)snprintf(cid, sizeof(cid), "cid-gc%d", i);
	(void)snprintf(contact, sizeof(contact),
		       "Contact: <sip:gc%d@192.0.2.%d>\r\n", i, i);
	tmr_test_set_now(T0 + at);
	mkreg(aor, cid, 1, contact);
	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, rx), 0);
	assert_int_equal(loop_poll(0), 0);
}


static uint64_t stored(struct regstore *rs)
{
	uint64_t n = 0;

	assert_int_equal(regstore_count(rs, &n), 0);
	return n;
}


/* Group commit: with commit_delay_ms the journal writes are at least that
 * far apart.  The first change after a quiet spell is written (and
 * answered) at once; the changes that follow within the delay wait for
 * one write at last write + delay. */
static void test_group_commit_delay(void **state)
{
	struct registrar_conf conf = { 0 };
	struct regstore *rs = mkstore();
	struct registrar *reg = NULL;
	struct rx rx = { 0 };

	(void)state;
	conf.domains = domains;
	conf.store = rs;
	conf.commit_delay_ms = 5;
	assert_int_equal(registrar_alloc(&reg, &conf), 0);

	gc_register(reg, &rx, 0, 1); /* quiet: at once */
	assert_int_equal(rx.n, 1);
	assert_int_equal(stored(rs), 1);

	/* within the delay of that write: both wait for T0 + 5 */
	gc_register(reg, &rx, 1, 2);
	gc_register(reg, &rx, 3, 3);
	tmr_test_set_now(T0 + 4);
	assert_int_equal(loop_poll(0), 0);
	assert_int_equal(rx.n, 1);
	assert_int_equal(stored(rs), 1);
	tmr_test_set_now(T0 + 5);
	assert_int_equal(loop_poll(0), 0);
	assert_int_equal(rx.n, 3); /* both answered after one write */
	assert_int_equal(rx.scode, 200);
	assert_int_equal(stored(rs), 3);

	/* quiet again (more than the delay since that write): at once */
	gc_register(reg, &rx, 11, 4);
	assert_int_equal(rx.n, 4);
	assert_int_equal(stored(rs), 4);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);
}


static void test_persistence_reopen(void **state)
{
	struct regstore *rs = mkstore();
	struct registrar *reg = mkreg_obj(rs, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };
	struct regstore_row row;
	uint64_t n = 0;

	(void)state;
	/* the 200 waits for the batch commit */
	mkreg("sip:hank@example.com", "cid-h", 7,
	      "Supported: path\r\nPath: <sip:edge.example.com;lr>\r\n"
	      "Contact: <sip:h1@192.0.2.5:5062>;q=0.7;expires=1800, "
	      "<sip:h2@192.0.2.6>;+sip.instance=\"<urn:uuid:1>\";reg-id=2\r\n");
	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, &rx), 0);
	assert_int_equal(rx.n, 0);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(loop_poll(0), 0); /* the hook commits, then */
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rx.n, 1); /* the 200 goes out */
	assert_int_equal(rx.scode, 200);

	/* a query with nothing pending is answered at once */
	mkreg("sip:hank@example.com", "cid-h", 8, "");
	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, &rx), 0);
	assert_int_equal(rx.n, 2);

	/* a refresh (another Call-ID, CSeq and lifetime, all else the
	 * same) is stored too: the reopened binding has the new lifetime */
	mkreg("sip:hank@example.com", "cid-h2", 1,
	      "Supported: path\r\nPath: <sip:edge.example.com;lr>\r\n"
	      "Contact: <sip:h1@192.0.2.5:5062>;q=0.7;expires=900\r\n");
	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, &rx), 0);
	assert_int_equal(loop_poll(0), 0);
	assert_int_equal(rx.n, 3);
	assert_int_equal(rx.scode, 200);

	/* a removal and an addition in one batch */
	assert_int_equal(reg1(reg, &rx, "sip:ivy@example.com", "cid-i", 1,
			      "Contact: <sip:i@192.0.2.9>\r\n"),
			 200);
	assert_int_equal(reg1(reg, &rx, "sip:ivy@example.com", "cid-i", 2,
			      "Contact: <sip:i@192.0.2.9>;expires=0\r\n"),
			 200);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 2);

	/* an expired row is dropped when loading */
	assert_int_equal(regstore_begin(rs), 0);
	memset(&row, 0, sizeof(row));
	row.id = 999;
	row.aor = "sip:old@example.com";
	row.uri = "sip:old@192.0.2.1";
	row.params = "";
	row.callid = "x";
	row.q = 1000;
	row.expires_at = regstore_now() - 1000;
	assert_int_equal(regstore_put(rs, &row), 0);
	assert_int_equal(regstore_commit(rs), 0);

	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);

	/* reopen: same bindings, timers restarted with the time left */
	rs = mkstore();
	tmr_test_set_now(T0 + 10 * 1000); /* monotonic clock has moved */
	reg = mkreg_obj(rs, NULL);
	assert_int_equal(registrar_count(reg), 2);
	assert_int_equal(tmr_count(), 2);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lookup(reg, "sip:old@example.com", c, 4), 0);
	assert_int_equal(lookup(reg, "sip:hank@example.com", c, 4), 2);
	assert_string_equal(c[0].uri, "sip:h2@192.0.2.6");
	assert_int_equal(c[0].q, 1000);
	assert_int_equal(c[0].reg_id, 2);
	assert_string_equal(c[0].instance, "\"<urn:uuid:1>\"");
	assert_true(c[0].expires > 3590 && c[0].expires <= 3600);
	assert_string_equal(c[1].uri, "sip:h1@192.0.2.5:5062");
	assert_int_equal(c[1].q, 700);
	assert_true(c[1].expires > 890 && c[1].expires <= 900);
	assert_string_equal(c[1].path, "<sip:edge.example.com;lr>");
	assert_string_equal(c[1].user_agent, "test-ua/1.0");
	assert_int_equal(c[1].tp, SIP_TRANSP_UDP);
	assert_int_equal(sa_port(&c[1].src), 5060);

	/* the Call-ID/CSeq history came back too (h1's from its refresh) */
	assert_int_equal(reg1(reg, &rx, "sip:hank@example.com", "cid-h2", 1,
			      "Contact: <sip:h1@192.0.2.5:5062>\r\n"),
			 500);
	/* new ids do not collide with stored ones */
	assert_int_equal(reg1(reg, &rx, "sip:hank@example.com", "cid-h", 9,
			      "Contact: <sip:h3@192.0.2.7>\r\n"),
			 200);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 3);

	/* expiry by timer is stored too */
	tmr_test_set_now(T0 + 10 * 1000 + 1801 * 1000);
	assert_int_equal(loop_poll(0), 0);
	assert_int_equal(registrar_count(reg), 2);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 2);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);
}


/* RFC 3261 10.3 step 7: when the store cannot commit, the requests of the
 * batch get 500 and their tentative changes are gone.  The journal write
 * is made to fail for real: the file-size limit is set to its size. */
static void test_commit_failure(void **state)
{
	struct regstore *rs = mkstore();
	struct registrar *reg = mkreg_obj(rs, NULL);
	struct reg_contact c[4];
	struct rx rx = { 0 };
	struct rlimit old, lim;
	struct stat st;
	char path[256];
	uint64_t n = 0;

	(void)state;
	assert_int_equal(reg1(reg, &rx, "sip:lou@example.com", "cid-l", 1,
			      "Contact: <sip:l1@192.0.2.1>\r\n"),
			 200);

	(void)snprintf(path, sizeof(path), "%s/%s.journal", g_dir,
		       REGSTORE_FILE_BASE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	mkreg("sip:lou@example.com", "cid-l", 2,
	      "Contact: <sip:l1@192.0.2.1>;expires=0, <sip:l2@192.0.2.1>\r\n");
	assert_int_equal(registrar_handle(reg, &g_msg, on_reply, &rx), 0);
	/* applied in memory, not yet answered */
	assert_int_equal(lookup(reg, "sip:lou@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:l2@192.0.2.1");
	assert_int_equal(registrar_flush(reg), EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rx.n, 2);
	assert_int_equal(rx.scode, 500);
	assert_non_null(strstr(rx.hdrs, "Retry-After:"));
	/* back to what is stored: l1 only, and the journal is whole */
	assert_int_equal(lookup(reg, "sip:lou@example.com", c, 4), 1);
	assert_string_equal(c[0].uri, "sip:l1@192.0.2.1");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, (off_t)lim.rlim_cur);

	/* once there is room the same request goes through */
	assert_int_equal(reg1(reg, &rx, "sip:lou@example.com", "cid-l", 2,
			      "Contact: <sip:l1@192.0.2.1>;expires=0, "
			      "<sip:l2@192.0.2.1>\r\n"),
			 200);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 1);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);
}


/* The journal is folded into the table in the background past its size
 * limit; a reopen sees the same bindings whether a record was folded or
 * not, and a torn record at the end (a write cut short) is ignored. */
static void test_journal_fold(void **state)
{
	struct regstore *rs = mkstore();
	struct registrar *reg;
	struct reg_contact c[4];
	struct rx rx = { 0 };
	char path[256], aor[64], uri[64];
	uint64_t n = 0;
	int i, fd;

	(void)state;
	regstore_set_journal_max(rs, 4096);
	reg = mkreg_obj(rs, NULL);
	for (i = 0; i < 200; i++) {
		(void)snprintf(aor, sizeof(aor), "sip:f%d@example.com", i % 50);
		(void)snprintf(uri, sizeof(uri),
			       "Contact: <sip:f%d@192.0.2.%d>\r\n", i % 50,
			       1 + i / 50);
		assert_int_equal(
			reg1(reg, &rx, aor, "cid-f", (uint32_t)(i + 1), uri),
			200);
	}
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);

	/* a torn record: half a record's bytes appended */
	(void)snprintf(path, sizeof(path), "%s/%s.journal", g_dir,
		       REGSTORE_FILE_BASE);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0) { /* a clean stop folded it all: make one */
		rs = mkstore();
		mem_deref(rs);
		fd = open(path, O_WRONLY | O_APPEND);
	}
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x40\0\0\0P\0\0\0garbage", 16), 16);
	close(fd);

	rs = mkstore();
	reg = mkreg_obj(rs, NULL);
	assert_int_equal(registrar_count(reg), 4 * 50);
	assert_int_equal(lookup(reg, "sip:f7@example.com", c, 4), 4);
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 200);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);
}


static void killer(const struct reg_reply *rep, void *arg)
{
	(void)arg;
	if (rep->scode == 200)
		(void)kill(getpid(), SIGKILL);
	_exit(3);
}


static void test_crash_after_200(void **state)
{
	struct regstore *rs = mkstore();
	struct registrar *reg;
	struct reg_contact c[2];
	int status = 0;
	pid_t pid;
	uint64_t n = 0;

	(void)state;
	mem_deref(rs); /* the directory exists; the child opens it */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int i;

		rs = NULL;
		if (regstore_open(&rs, g_dir))
			_exit(2);
		reg = mkreg_obj(rs, NULL);
		mkreg("sip:kim@example.com", "cid-k", 1,
		      "Contact: <sip:k@192.0.2.44:5099>;expires=1200\r\n");
		if (registrar_handle(reg, &g_msg, killer, NULL))
			_exit(2);
		for (i = 0; i < 10; i++)
			(void)loop_poll(0);
		_exit(4); /* the 200 never came */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	/* what the 200 promised is there */
	rs = mkstore();
	assert_int_equal(regstore_count(rs, &n), 0);
	assert_int_equal(n, 1);
	reg = mkreg_obj(rs, NULL);
	assert_int_equal(lookup(reg, "sip:kim@example.com", c, 2), 1);
	assert_string_equal(c[0].uri, "sip:k@192.0.2.44:5099");
	assert_true(c[0].expires > 1100 && c[0].expires <= 1200);
	registrar_close(reg);
	mem_deref(reg);
	mem_deref(rs);
}


static void test_store_schema(void **state)
{
	struct regstore *rs = mkstore();
	char path[256];
	sqlite3 *db = NULL;

	(void)state;
	mem_deref(rs);
	/* a database from a newer version is refused, not misread */
	(void)snprintf(path, sizeof(path), "%s/%s", g_dir, REGSTORE_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	rs = NULL;
	assert_int_equal(regstore_open(&rs, g_dir), EPROTO);
	assert_null(rs);
	/* and a directory that cannot be created is reported */
	assert_int_equal(regstore_open(&rs, "/proc/no/such/dir"), ENOENT);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_query_refresh, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_multiple_contacts_q_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wildcard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_max_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_callid_cseq_rule, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry_by_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain_require_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outbound_instance, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auth_and_authz, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rfc4475_register_cases,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_regaut01_challenged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_aor_canonical, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_delay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_persistence_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_journal_fold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_200, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_schema, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("sip_registrar", tests, NULL, NULL);
}
