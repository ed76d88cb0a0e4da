/**
 * @file test_cscf_pcscf_sub.c  The P-CSCF's reg event subscriptions
 * (cscf/pcscf_sub.h) on a frozen clock: the initial SUBSCRIBE along the
 * Service-Route, the dialog from the 2xx (To tag, Contact target,
 * Record-Route reversed), the refresh 600 s before the end of a long
 * grant and at half time of a short one (TS 24.229 5.2.3), NOTIFY
 * Subscription-State expires moving it, a refresh at once on a version
 * gap (RFC 3680 5.2), no refresh once the registration is gone and the
 * state forgotten at the end, a terminated NOTIFY ending it with the
 * contact reported, and the failures (refused, 481 to a refresh, unknown
 * Call-ID).
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
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "cscf/pcscf_sub.h"
#include "sip/msg.h"

#define T0       1000000ull
#define IMPU     "sip:alice@ims.test"
#define SENT_MAX 8

static struct pcscf_sub *ps;
static char sent[SENT_MAX][4096];
static uint64_t sent_id[SENT_MAX];
static size_t nsent;
static int send_fail;
static int terms;
static char term_ct[256];
static bool many; /* send_h: keep the last SENT_MAX only */


static int send_h(uint64_t id, struct sip_msg *req, void *arg)
{
	(void)arg;
	size_t i = many ? nsent % SENT_MAX : nsent;

	if (send_fail)
		return send_fail;
	assert_true(i < SENT_MAX);
	assert_true(req->len < sizeof(sent[0]));
	memcpy(sent[i], req->p, req->len);
	sent[i][req->len] = '\0';
	sent_id[i] = id;
	nsent++;
	return 0;
}


static void term_h(const struct regevent_term *t, void *arg)
{
	(void)arg;
	terms++;
	if (t->ct_uri) /* the registration's own report has none */
		(void)snprintf(term_ct, sizeof(term_ct), "%s", t->ct_uri);
}


static int setup(void **state)
{
	mem_mark(state);
	tmr_test_set_now(T0);
	if (loop_init(16))
		return -1;
	nsent = 0;
	send_fail = 0;
	many = false;
	terms = 0;
	term_ct[0] = '\0';
	return pcscf_sub_alloc(&ps, "sip:pcscf.ims.test:5060", send_h, term_h,
			       NULL)
		       ? -1
		       : 0;
}


static int teardown(void **state)
{
	ps = mem_deref(ps);
	loop_close();
	tmr_test_set_now(0);
	return mem_expect_no_leaks(state);
}


static struct sip_msg *msg_of(const char *text)
{
	struct sip_msg *m = NULL;
	struct sip_msg_err e;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, strlen(text) + 1, 65535), 0);
	assert_int_equal(buf_write(mb, text, strlen(text)), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&m, mb, true, &e), 0);
	mem_deref(mb);
	return m;
}


/* A header's value in sent request i ("" when absent). */
static void hdr(size_t i, const char *name, char *out, size_t size)
{
	char key[64];
	const char *p, *e;

	(void)snprintf(key, sizeof(key), "\r\n%s: ", name);
	out[0] = '\0';
	p = strstr(sent[i], key);
	if (!p)
		return;
	p += strlen(key);
	e = strstr(p, "\r\n");
	assert_non_null(e);
	(void)snprintf(out, size, "%.*s", (int)(e - p), p);
}


static void subscribe(void)
{
	static const char *const route[] = { "<sip:scscf.ims.test:5080;lr;"
					     "orig>" };
	struct pcscf_subscribe s = { 0 };

	s.impu = IMPU;
	s.from = "sip:pcscf.ims.test:5060";
	s.event = "reg";
	s.expires = 600000;
	s.route = route;
	s.route_n = 1;
	assert_int_equal(pcscf_sub_start(ps, &s), 0);
}


/* Answer sent request i with code and extra header lines. */
static void answer(size_t i, int code, const char *extra)
{
	char buf[4096], callid[64], cseq[64], from[256], to[256];
	struct sip_msg *m;

	hdr(i, "Call-ID", callid, sizeof(callid));
	hdr(i, "CSeq", cseq, sizeof(cseq));
	hdr(i, "From", from, sizeof(from));
	hdr(i, "To", to, sizeof(to));
	(void)snprintf(buf, sizeof(buf),
		       "SIP/2.0 %d X\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
		       "From: %s\r\n"
		       "To: %s%s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: %s\r\n"
		       "%s"
		       "Content-Length: 0\r\n\r\n",
		       code, from, to, strstr(to, ";tag=") ? "" : ";tag=s1",
		       callid, cseq, extra);
	m = msg_of(buf);
	pcscf_sub_response(ps, sent_id[i], 0, m);
	mem_deref(m);
}


/* A NOTIFY in the dialog of sent request 0. */
static uint16_t notify(const char *state, unsigned version,
		       const char *docstate, const char *ct_state,
		       const char *event, char *reason, size_t size)
{
	char buf[4096], body[1024], callid[64];
	struct sip_msg *m;
	uint16_t sc;

	hdr(0, "Call-ID", callid, sizeof(callid));
	(void)snprintf(body, sizeof(body),
		       "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		       "version=\"%u\" state=\"%s\">"
		       "<registration aor=\"" IMPU "\" id=\"r1\" "
		       "state=\"%s\"><contact id=\"c1\" state=\"%s\" "
		       "event=\"%s\"><uri>sip:alice@10.0.0.1:5070</uri>"
		       "</contact></registration></reginfo>",
		       version, docstate,
		       !strcmp(ct_state, "active") ? "active" : "terminated",
		       ct_state, event);
	(void)snprintf(buf, sizeof(buf),
		       "NOTIFY sip:pcscf.ims.test:5060 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKn%u\r\n"
		       "From: <" IMPU ">;tag=s1\r\n"
		       "To: <sip:pcscf.ims.test:5060>;tag=x\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: %u NOTIFY\r\n"
		       "Contact: <sip:scscf.ims.test:5080>\r\n"
		       "Event: reg\r\n"
		       "Subscription-State: %s\r\n"
		       "Content-Type: application/reginfo+xml\r\n"
		       "Content-Length: %zu\r\n\r\n%s",
		       version, callid, version + 1, state, strlen(body), body);
	m = msg_of(buf);
	sc = pcscf_sub_notify(ps, m, reason, size);
	mem_deref(m);
	return sc;
}


static void advance_to(uint64_t ms)
{
	tmr_test_set_now(ms);
	tmr_poll();
}


static struct pcscf_sub_info info_of(void)
{
	struct pcscf_sub_info in;

	assert_int_equal(pcscf_sub_info(ps, IMPU, &in), 0);
	return in;
}


/* The initial SUBSCRIBE, the dialog, a refresh 600 s before the end */
static void test_initial_and_refresh(void **state)
{
	char v[512], callid[64];
	struct pcscf_sub_info in;

	(void)state;
	subscribe();
	assert_int_equal(nsent, 1);
	assert_true(!strncmp(sent[0], "SUBSCRIBE " IMPU " SIP/2.0\r\n",
			     strlen("SUBSCRIBE " IMPU " SIP/2.0\r\n")));
	hdr(0, "Route", v, sizeof(v));
	assert_string_equal(v, "<sip:scscf.ims.test:5080;lr;orig>");
	hdr(0, "Expires", v, sizeof(v));
	assert_string_equal(v, "600000");
	hdr(0, "Event", v, sizeof(v));
	assert_string_equal(v, "reg");
	hdr(0, "P-Asserted-Identity", v, sizeof(v));
	assert_string_equal(v, "<sip:pcscf.ims.test:5060>");
	hdr(0, "CSeq", v, sizeof(v));
	assert_string_equal(v, "1 SUBSCRIBE");
	hdr(0, "Call-ID", callid, sizeof(callid));
	/* one per IMPU */
	{
		struct pcscf_subscribe s = { .impu = IMPU,
					     .from = "sip:p",
					     .event = "reg" };

		assert_int_equal(pcscf_sub_start(ps, &s), EALREADY);
	}
	assert_int_equal(nsent, 1);
	assert_true(info_of().pending);

	answer(0, 200,
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 3600\r\n");
	in = info_of();
	assert_true(in.confirmed);
	assert_false(in.pending);
	assert_int_equal(in.expires, 3600);
	assert_int_equal(in.refresh_at, T0 + 3000000);

	advance_to(T0 + 2999000);
	assert_int_equal(nsent, 1);
	advance_to(T0 + 3000000);
	assert_int_equal(nsent, 2);
	/* in the dialog: the target, no Route (no Record-Route came), the
	 * To tag, the next CSeq, the same Call-ID */
	assert_true(!strncmp(
		sent[1], "SUBSCRIBE sip:scscf.ims.test:5080 SIP/2.0\r\n", 43));
	hdr(1, "Route", v, sizeof(v));
	assert_string_equal(v, "");
	hdr(1, "To", v, sizeof(v));
	assert_string_equal(v, "<" IMPU ">;tag=s1");
	hdr(1, "CSeq", v, sizeof(v));
	assert_string_equal(v, "2 SUBSCRIBE");
	hdr(1, "Call-ID", v, sizeof(v));
	assert_string_equal(v, callid);

	/* a short grant: refreshed at half time */
	answer(1, 200, "Expires: 1000\r\n");
	in = info_of();
	assert_int_equal(in.expires, 1000);
	assert_int_equal(in.refresh_at, T0 + 3000000 + 500000);
	advance_to(T0 + 3500000);
	assert_int_equal(nsent, 3);
	hdr(2, "CSeq", v, sizeof(v));
	assert_string_equal(v, "3 SUBSCRIBE");
}


/* Record-Route of the 2xx, reversed, is the route set of the refresh */
static void test_record_route(void **state)
{
	char v[512];

	(void)state;
	subscribe();
	answer(0, 202,
	       "Record-Route: <sip:b.ims.test;lr>, <sip:a.ims.test;lr>\r\n"
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 100\r\n");
	advance_to(T0 + 50000);
	assert_int_equal(nsent, 2);
	hdr(1, "Route", v, sizeof(v));
	assert_string_equal(v, "<sip:a.ims.test;lr>");
	assert_non_null(strstr(sent[1], "Route: <sip:a.ims.test;lr>\r\n"
					"Route: <sip:b.ims.test;lr>\r\n"));
}


/* NOTIFY expires moves the refresh; a version gap refreshes at once */
static void test_notify_expires_and_gap(void **state)
{
	char reason[32];

	(void)state;
	subscribe();
	answer(0, 200,
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 600000\r\n");
	assert_int_equal(notify("active;expires=800", 0, "full", "active",
				"registered", reason, sizeof(reason)),
			 200);
	assert_string_equal(reason, "");
	assert_int_equal(info_of().refresh_at, T0 + 400000);
	assert_int_equal(nsent, 1);
	/* version 1 missing: 2 is a gap */
	assert_int_equal(notify("active;expires=790", 2, "partial", "active",
				"refreshed", reason, sizeof(reason)),
			 200);
	assert_int_equal(nsent, 2);
	assert_non_null(strstr(sent[1], "\r\nCSeq: 2 SUBSCRIBE\r\n"));
	assert_true(info_of().pending);
}


/* The registration is gone: no refresh, forgotten at the end */
static void test_gone(void **state)
{
	(void)state;
	subscribe();
	answer(0, 200,
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 3600\r\n");
	pcscf_sub_gone(ps, IMPU);
	assert_true(info_of().gone);
	advance_to(T0 + 3000000);
	assert_int_equal(nsent, 1);
	assert_int_equal(pcscf_sub_count(ps), 1);
	advance_to(T0 + 3600000);
	assert_int_equal(nsent, 1);
	assert_int_equal(pcscf_sub_count(ps), 0);
}


/* terminated: the contact is reported, the subscription ends */
static void test_terminated(void **state)
{
	char reason[32];

	(void)state;
	subscribe();
	answer(0, 200,
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 3600\r\n");
	assert_int_equal(notify("active;expires=3600", 0, "full", "active",
				"registered", reason, sizeof(reason)),
			 200);
	assert_int_equal(notify("terminated;reason=noresource", 1, "full",
				"terminated", "unregistered", reason,
				sizeof(reason)),
			 200);
	assert_string_equal(reason, "noresource");
	assert_true(terms >= 1);
	assert_string_equal(term_ct, "sip:alice@10.0.0.1:5070");
	assert_int_equal(pcscf_sub_count(ps), 0);
	/* later NOTIFYs of it: 481 (RFC 6665 4.1.3) */
	assert_int_equal(
		notify("active", 2, "full", "active", "registered", NULL, 0),
		481);
}


/* a NOTIFY before the 2xx makes the dialog (RFC 6665 4.1.2.4) */
static void test_notify_first(void **state)
{
	(void)state;
	subscribe();
	assert_int_equal(notify("active;expires=600", 0, "full", "active",
				"registered", NULL, 0),
			 200);
	assert_true(info_of().confirmed);
	answer(0, 200, "Expires: 600\r\n");
	assert_int_equal(info_of().refresh_at, T0 + 300000);
	advance_to(T0 + 300000);
	assert_int_equal(nsent, 2);
	assert_true(!strncmp(
		sent[1], "SUBSCRIBE sip:scscf.ims.test:5080 SIP/2.0\r\n", 43));
	assert_non_null(strstr(sent[1], "To: <" IMPU ">;tag=s1\r\n"));
}


/* refused, failed refresh, send failure: the subscription ends */
static void test_failures(void **state)
{
	(void)state;
	subscribe();
	answer(0, 403, "");
	assert_int_equal(pcscf_sub_count(ps), 0);

	nsent = 0;
	subscribe();
	answer(0, 200,
	       "Contact: <sip:scscf.ims.test:5080>\r\nExpires: 100\r\n");
	advance_to(T0 + 50000);
	assert_int_equal(nsent, 2);
	answer(1, 481, "");
	assert_int_equal(pcscf_sub_count(ps), 0);

	nsent = 0;
	subscribe();
	pcscf_sub_response(ps, sent_id[0], ETIMEDOUT, NULL);
	assert_int_equal(pcscf_sub_count(ps), 0);

	nsent = 0;
	send_fail = EHOSTUNREACH;
	{
		struct pcscf_subscribe s = { .impu = IMPU,
					     .from = "sip:p",
					     .event = "reg" };

		assert_int_equal(pcscf_sub_start(ps, &s), EHOSTUNREACH);
	}
	assert_int_equal(pcscf_sub_count(ps), 0);
	assert_int_equal(pcscf_sub_start(ps, NULL), EINVAL);
	/* a stale id: ignored */
	pcscf_sub_response(ps, 12345, 0, NULL);
}


/* 1,500 subscriptions through one S-CSCF: each dialog found by its
 * Call-ID and IMPU as the indexes grow, the remote tag kept in each
 * (the block made again for it), all refreshed in their dialogs, and a
 * refresh's outcome found by its id. */
static void test_many(void **state)
{
	static const char *const route[] = { "<sip:scscf.ims.test:5080;lr;"
					     "orig>" };
	struct pcscf_sub_info in;
	char impu[64], v[512];
	unsigned i;

	(void)state;
	many = true;
	for (i = 0; i < 1500; i++) {
		struct pcscf_subscribe s = { 0 };

		(void)snprintf(impu, sizeof(impu), "sip:user%u@ims.test", i);
		s.impu = impu;
		s.from = "sip:pcscf.ims.test:5060";
		s.event = "reg";
		s.expires = 600000;
		s.route = route;
		s.route_n = 1;
		nsent = 0;
		assert_int_equal(pcscf_sub_start(ps, &s), 0);
		assert_int_equal(nsent, 1);
		answer(0, 200,
		       "Contact: <sip:scscf.ims.test:5080>\r\n"
		       "Record-Route: <sip:scscf.ims.test:5080;lr>\r\n"
		       "Expires: 3600\r\n");
	}
	assert_int_equal(pcscf_sub_count(ps), 1500);
	for (i = 0; i < 1500; i += 3) {
		(void)snprintf(impu, sizeof(impu), "sip:user%u@ims.test", i);
		assert_int_equal(pcscf_sub_info(ps, impu, &in), 0);
		assert_true(in.confirmed);
		assert_false(in.pending);
		assert_int_equal(in.expires, 3600);
		assert_true(in.refresh_at == T0 + 3000000);
	}
	nsent = 0;
	advance_to(T0 + 3000000);
	assert_int_equal(nsent, 1500);
	i = (1500 - 1) % SENT_MAX; /* the last one sent */
	assert_true(!strncmp(sent[i],
			     "SUBSCRIBE sip:scscf.ims.test:5080 SIP/2.0\r\n",
			     strlen("SUBSCRIBE sip:scscf.ims.test:5080 "
				    "SIP/2.0\r\n")));
	hdr(i, "Route", v, sizeof(v));
	assert_string_equal(v, "<sip:scscf.ims.test:5080;lr>");
	hdr(i, "To", v, sizeof(v));
	assert_non_null(strstr(v, "@ims.test>;tag=s1"));
	hdr(i, "CSeq", v, sizeof(v));
	assert_string_equal(v, "2 SUBSCRIBE");
	hdr(i, "Call-ID", v, sizeof(v));
	assert_int_equal(strlen(v), 24);
	assert_int_equal(pcscf_sub_info(ps, "sip:user1499@ims.test", &in), 0);
	assert_true(in.pending);
	assert_int_equal(in.refresh_at, 0);
	/* the id names the dialog and the request: another request of the
	 * same dialog is not this one's outcome */
	pcscf_sub_response(ps, sent_id[i] + (1ull << 32), ETIMEDOUT, NULL);
	assert_int_equal(pcscf_sub_count(ps), 1500);
	pcscf_sub_response(ps, sent_id[i], ETIMEDOUT, NULL);
	assert_int_equal(pcscf_sub_count(ps), 1499);
	assert_int_equal(pcscf_sub_info(ps, "sip:user1499@ims.test", &in),
			 ENOENT);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_initial_and_refresh),
		T(test_record_route),
		T(test_notify_expires_and_gap),
		T(test_gone),
		T(test_terminated),
		T(test_notify_first),
		T(test_failures),
		T(test_many),
#undef T
	};

	return cmocka_run_group_tests_name("cscf_pcscf_sub", tests, NULL, NULL);
}
