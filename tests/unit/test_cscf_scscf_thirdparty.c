/**
 * @file test_cscf_scscf_thirdparty.c  Third-party REGISTER (TS 24.229
 *                                     5.4.1.7, cscf/scscf_thirdparty.h).
 *
 * A profile built by hand (three iFCs: REGISTER with ServiceInfo and both
 * Include flags and DefaultHandling per test, REGISTER on
 * de-registration only, INVITE) is compiled with ifc_cache_alloc and
 * given to scscf_tp_change() with a decoded REGISTER and its answer, as
 * the registrar's change handler would.  The requests handed to sendh
 * are kept and checked header by header, the bodies byte for byte; the
 * results drive DefaultHandling.  The loop clock is frozen: a request
 * that could not be sent fails from a zero timer.
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
#include "cscf/ifc.h"
#include "cscf/scscf_reg.h"
#include "cscf/scscf_thirdparty.h"
#include "diameter/userdata.h"
#include "sip/build.h"
#include "sip/msg.h"

#define SCSCF "sip:scscf.ims.test:6060"
#define AS1   "sip:as1.ims.test:5099"
#define AS2   "sip:as2.ims.test:5099;transport=tcp"
#define ALICE "sip:alice@ims.test"

static const char reg_text[] =
	"REGISTER sip:ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKp1\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKu1\r\n"
	"Max-Forwards: 69\r\n"
	"From: <sip:alice@ims.test>;tag=rf\r\n"
	"To: <sip:alice@ims.test>\r\n"
	"Call-ID: reg1@ue\r\n"
	"CSeq: 2 REGISTER\r\n"
	"Contact: <sip:alice@10.0.0.1:5060>\r\n"
	"Path: <sip:term@pcscf.ims.test;lr>\r\n"
	"P-Charging-Vector: icid-value=c0ffee01;icid-generated-at=10.0.0.9\r\n"
	"P-Access-Network-Info: 3GPP-E-UTRAN-FDD; "
	"utran-cell-id-3gpp=0010100010019B01\r\n"
	"Expires: 600\r\n"
	"Content-Length: 0\r\n\r\n";

static const char rep_hdrs[] =
	"Contact: <sip:alice@10.0.0.1:5060>;expires=600\r\n"
	"Path: <sip:term@pcscf.ims.test;lr>\r\n"
	"Service-Route: <" SCSCF ";lr;orig>\r\n"
	"P-Associated-URI: <sip:alice@ims.test>\r\n";

static const char si_part[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<ims-3gpp version=\"1\"><service-info>"
	"&lt;tenant id=\"7\"/&gt;&amp;more</service-info></ims-3gpp>\r\n";

#define SENT_MAX 8

struct fx {
	struct scscf_tp *tp;
	struct cx_subscription *sub;
	struct ifc_cache *ifc;
	struct sip_msg *req;
	struct sip_msg *sent[SENT_MAX];
	uint64_t ids[SENT_MAX];
	size_t nsent;
	int send_err;
	char dereg[8][64];
	size_t nderegs;
};

static struct fx F;

static int send_h(struct sip_msg *req, uint64_t id, void *arg)
{
	(void)arg;
	if (F.send_err)
		return F.send_err;
	assert_true(F.nsent < SENT_MAX);
	F.sent[F.nsent] = mem_ref(req);
	F.ids[F.nsent++] = id;
	return 0;
}


static void dereg_h(const char *impu, void *arg)
{
	(void)arg;
	assert_true(F.nderegs < 8);
	(void)snprintf(F.dereg[F.nderegs++], sizeof(F.dereg[0]), "%s", impu);
}


static struct sip_msg *msg_of(const char *text)
{
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 1024, 65535), 0);
	assert_int_equal(buf_write_str(mb, text), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&msg, mb, true, &merr), 0);
	mem_deref(mb);
	return msg;
}


/* The iFCs of the profile: what the first one carries varies by test. */
struct ifc1 {
	const char *service_info;
	bool req, resp;
	enum cx_default_handling dh;
};

static void profile(const struct ifc1 *o)
{
	struct cx_service_profile *sp;
	struct cx_ifc *ifc;
	struct cx_spt *spt;
	char why[128];

	F.sub = cx_subscription_alloc("alice@ims.test");
	assert_non_null(F.sub);
	sp = cx_sp_add(F.sub);
	assert_non_null(sp);
	assert_non_null(cx_pub_add(F.sub, sp, ALICE));
	/* 1: every REGISTER */
	ifc = cx_ifc_add(F.sub, sp, 1, AS1);
	assert_non_null(ifc);
	ifc->default_handling = o->dh;
	ifc->service_info = cx_strdup(F.sub, o->service_info);
	ifc->include_register_request = o->req;
	ifc->include_register_response = o->resp;
	spt = cx_spt_add(F.sub, ifc, true, CX_SPT_METHOD, 0);
	assert_non_null(spt);
	spt->a = cx_strdup(F.sub, "REGISTER");
	/* 2: de-registrations only, SESSION_TERMINATED (nothing to end) */
	ifc = cx_ifc_add(F.sub, &F.sub->sp[0], 2, AS2);
	assert_non_null(ifc);
	ifc->default_handling = CX_DH_SESSION_TERMINATED;
	spt = cx_spt_add(F.sub, ifc, true, CX_SPT_METHOD, 0);
	assert_non_null(spt);
	spt->a = cx_strdup(F.sub, "REGISTER");
	spt->reg_type = CX_REGTYPE_DE;
	/* 3: INVITE: never for a REGISTER */
	ifc = cx_ifc_add(F.sub, &F.sub->sp[0], 3, "sip:as3.ims.test");
	assert_non_null(ifc);
	spt = cx_spt_add(F.sub, ifc, true, CX_SPT_METHOD, 0);
	assert_non_null(spt);
	spt->a = cx_strdup(F.sub, "INVITE");
	assert_int_equal(ifc_cache_alloc(&F.ifc, F.sub, why, sizeof(why)), 0);
}


static void fx_up(const struct ifc1 *o)
{
	struct scscf_tp_conf c = { 0 };

	memset(&F, 0, sizeof(F));
	tmr_test_set_now(1000000);
	assert_int_equal(loop_init(16), 0);
	c.uri = SCSCF;
	c.sendh = send_h;
	c.deregh = dereg_h;
	assert_int_equal(scscf_tp_alloc(&F.tp, &c), 0);
	profile(o);
	F.req = msg_of(reg_text);
}


static void fx_down(void)
{
	size_t i;

	for (i = 0; i < F.nsent; i++)
		mem_deref(F.sent[i]);
	mem_deref(F.tp);
	mem_deref(F.req);
	mem_deref(F.ifc);
	mem_deref(F.sub);
	loop_close();
}


static int change(enum scscf_reg_change_kind kind, bool with_req)
{
	static const struct scscf_reply rep = { 0, 200, "OK", rep_hdrs };
	struct scscf_reg_change c = { 0 };
	size_t n = 0;

	c.kind = kind;
	c.impi = "alice@ims.test";
	c.impu = ALICE;
	c.expires = kind == SCSCF_RC_INITIAL || kind == SCSCF_RC_RE ? 600 : 0;
	c.req = with_req ? F.req : NULL;
	c.rep = with_req ? &rep : NULL;
	c.prof = F.sub;
	c.sp_idx = 0;
	c.ifc = F.ifc;
	assert_int_equal(scscf_tp_change(F.tp, &c, &n), 0);
	return (int)n;
}


static char *hdr(const struct sip_msg *m, const char *name, char *buf,
		 size_t size)
{
	const struct sip_hdr *h = sip_msg_hdr_name(m, name);

	if (!h)
		return NULL;
	assert_int_equal(pl_strcpy(&h->val, buf, size), 0);
	return buf;
}


static void check_headers(const struct sip_msg *m, const char *as,
			  const char *expires)
{
	char b[256], start[300];

	(void)snprintf(start, sizeof(start), "REGISTER %s SIP/2.0", as);
	assert_int_equal(pl_strcpy(&m->start, b, sizeof(b)), 0);
	assert_string_equal(b, start);
	assert_non_null(hdr(m, "From", b, sizeof(b)));
	assert_memory_equal(b, "<" SCSCF ">;tag=", strlen(SCSCF) + 7);
	assert_string_equal(hdr(m, "To", b, sizeof(b)), "<" ALICE ">");
	assert_string_equal(hdr(m, "Contact", b, sizeof(b)), "<" SCSCF ">");
	assert_string_equal(hdr(m, "Expires", b, sizeof(b)), expires);
	assert_string_equal(hdr(m, "Max-Forwards", b, sizeof(b)), "70");
	assert_non_null(hdr(m, "CSeq", b, sizeof(b)));
	assert_non_null(strstr(b, " REGISTER"));
	assert_non_null(hdr(m, "Call-ID", b, sizeof(b)));
	assert_null(sip_msg_hdr_name(m, "Via")); /* the transaction's */
}


/* Initial registration: one REGISTER to AS1 with all three parts. */
static void test_initial_all_parts(void **state)
{
	static const struct ifc1 o = { "<tenant id=\"7\"/>&more", true, true,
				       CX_DH_SESSION_CONTINUED };
	struct buf *exp = NULL, *rsp = NULL;
	struct sip_reply_opts ro = { 0 };
	char b[512];

	(void)state;
	fx_up(&o);
	assert_int_equal(change(SCSCF_RC_INITIAL, true), 1);
	check_headers(F.sent[0], AS1, "600");
	assert_string_equal(hdr(F.sent[0], "P-Charging-Vector", b, sizeof(b)),
			    "icid-value=c0ffee01");
	assert_string_equal(
		hdr(F.sent[0], "P-Access-Network-Info", b, sizeof(b)),
		"3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0010100010019B01");
	assert_string_equal(hdr(F.sent[0], "Content-Type", b, sizeof(b)),
			    "multipart/mixed;boundary=entims-3pr-boundary");
	/* the 200 as the server transaction sent it */
	assert_int_equal(buf_alloc(&rsp, 1024, 65535), 0);
	ro.reason = "OK";
	ro.hdrs = rep_hdrs;
	assert_int_equal(sip_reply_build(rsp, F.req, 200, &ro), 0);
	assert_memory_equal(rsp->b, "SIP/2.0 200 OK\r\n", 16);
	assert_non_null(memmem(rsp->b, rsp->end,
			       "Contact: <sip:alice@10.0.0.1:5060>;expires=600",
			       46));
	assert_int_equal(buf_alloc(&exp, 4096, 65535), 0);
	assert_int_equal(
		buf_printf(exp,
			   "--entims-3pr-boundary\r\n"
			   "Content-Type: application/3gpp-ims+xml\r\n\r\n"
			   "%s\r\n"
			   "--entims-3pr-boundary\r\n"
			   "Content-Type: message/sip\r\n\r\n"
			   "%s\r\n"
			   "--entims-3pr-boundary\r\n"
			   "Content-Type: message/sip\r\n\r\n"
			   "%.*s\r\n"
			   "--entims-3pr-boundary--\r\n",
			   si_part, reg_text, (int)rsp->end, (char *)rsp->b),
		0);
	assert_int_equal(F.sent[0]->body.l, exp->end);
	assert_memory_equal(F.sent[0]->body.p, exp->b, exp->end);
	(void)snprintf(b, sizeof(b), "%zu", exp->end);
	assert_string_equal(hdr(F.sent[0], "Content-Length", b, sizeof(b)), b);
	/* answered: nothing pending, nothing de-registered */
	assert_int_equal(scscf_tp_pending(F.tp), 1);
	scscf_tp_result(F.tp, F.ids[0], 200);
	assert_int_equal(scscf_tp_pending(F.tp), 0);
	assert_int_equal(F.nderegs, 0);
	mem_deref(exp);
	mem_deref(rsp);
	fx_down();
}


/* Each iFC field alone: the body is that one part, not a multipart. */
static void test_each_field(void **state)
{
	static const struct {
		struct ifc1 o;
		const char *ctype;
		const char *body;
	} tv[] = {
		{ { "<tenant id=\"7\"/>&more", false, false,
		    CX_DH_SESSION_CONTINUED },
		  "application/3gpp-ims+xml",
		  si_part },
		{ { NULL, true, false, CX_DH_SESSION_CONTINUED },
		  "message/sip",
		  reg_text },
		{ { NULL, false, true, CX_DH_SESSION_CONTINUED },
		  "message/sip",
		  "SIP/2.0 200 OK\r\n" },
		{ { NULL, false, false, CX_DH_SESSION_CONTINUED }, NULL, "" },
	};
	char b[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		fx_up(&tv[i].o);
		assert_int_equal(change(SCSCF_RC_RE, true), 1);
		check_headers(F.sent[0], AS1, "600");
		if (!tv[i].ctype) {
			assert_null(
				sip_msg_hdr_name(F.sent[0], "Content-Type"));
			assert_int_equal(F.sent[0]->body.l, 0);
		} else {
			assert_string_equal(
				hdr(F.sent[0], "Content-Type", b, sizeof(b)),
				tv[i].ctype);
			assert_true(F.sent[0]->body.l >= strlen(tv[i].body));
			assert_memory_equal(F.sent[0]->body.p, tv[i].body,
					    strlen(tv[i].body));
			if (tv[i].o.service_info || tv[i].o.req)
				assert_int_equal(F.sent[0]->body.l,
						 strlen(tv[i].body));
		}
		fx_down();
	}
}


/* User de-registration: both REGISTER iFCs, Expires 0, no ServiceInfo
 * (5.4.1.7 g), the REGISTER still included. */
static void test_user_dereg(void **state)
{
	static const struct ifc1 o = { "svc", true, false,
				       CX_DH_SESSION_TERMINATED };
	char b[128];

	(void)state;
	fx_up(&o);
	assert_int_equal(change(SCSCF_RC_USER_DEREG, true), 2);
	check_headers(F.sent[0], AS1, "0");
	check_headers(F.sent[1], AS2, "0");
	assert_string_equal(hdr(F.sent[0], "Content-Type", b, sizeof(b)),
			    "message/sip");
	assert_int_equal(F.sent[1]->body.l, 0);
	/* a failed de-registration ends nothing, even SESSION_TERMINATED */
	scscf_tp_result(F.tp, F.ids[0], 503);
	scscf_tp_result(F.tp, F.ids[1], 0);
	assert_int_equal(F.nderegs, 0);
	assert_int_equal(scscf_tp_pending(F.tp), 0);
	fx_down();
}


/* Network de-registration (RTR, expiry): the equivalent REGISTER matches
 * both iFCs; no REGISTER or 200 exists to include; a fresh icid. */
static void test_network_dereg(void **state)
{
	static const struct ifc1 o = { "svc", true, true,
				       CX_DH_SESSION_CONTINUED };
	static const enum scscf_reg_change_kind kv[] = { SCSCF_RC_NET_DEREG,
							 SCSCF_RC_TIMEOUT };
	char b[128];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fx_up(&o);
		assert_int_equal(change(kv[i], false), 2);
		check_headers(F.sent[0], AS1, "0");
		check_headers(F.sent[1], AS2, "0");
		assert_int_equal(F.sent[0]->body.l, 0);
		assert_null(
			hdr(F.sent[0], "P-Access-Network-Info", b, sizeof(b)));
		assert_non_null(
			hdr(F.sent[0], "P-Charging-Vector", b, sizeof(b)));
		assert_int_equal(strlen(b), strlen("icid-value=") + 32);
		fx_down();
	}
}


/* DefaultHandling of a registration's REGISTER: TERMINATED de-registers
 * on an error or silence, CONTINUED does nothing; a result is used once. */
static void test_default_handling(void **state)
{
	static const struct {
		enum cx_default_handling dh;
		uint16_t scode;
		size_t deregs;
	} tv[] = {
		{ CX_DH_SESSION_TERMINATED, 0, 1 },
		{ CX_DH_SESSION_TERMINATED, 408, 1 },
		{ CX_DH_SESSION_TERMINATED, 503, 1 },
		{ CX_DH_SESSION_TERMINATED, 403, 1 },
		{ CX_DH_SESSION_TERMINATED, 202, 0 },
		{ CX_DH_SESSION_CONTINUED, 0, 0 },
		{ CX_DH_SESSION_CONTINUED, 500, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		const struct ifc1 o = { NULL, false, false, tv[i].dh };

		fx_up(&o);
		assert_int_equal(change(SCSCF_RC_INITIAL, true), 1);
		scscf_tp_result(F.tp, F.ids[0] + 100, 500); /* unknown id */
		assert_int_equal(F.nderegs, 0);
		scscf_tp_result(F.tp, F.ids[0], tv[i].scode);
		scscf_tp_result(F.tp, F.ids[0], tv[i].scode); /* once */
		assert_int_equal(F.nderegs, tv[i].deregs);
		if (tv[i].deregs)
			assert_string_equal(F.dereg[0], ALICE);
		assert_int_equal(scscf_tp_pending(F.tp), 0);
		fx_down();
	}
}


/* An AS that cannot be reached: DefaultHandling from the loop, never
 * inside scscf_tp_change (the registrar is mid-change there). */
static void test_send_failure(void **state)
{
	static const struct ifc1 o = { NULL, false, false,
				       CX_DH_SESSION_TERMINATED };

	(void)state;
	fx_up(&o);
	F.send_err = ECONNREFUSED;
	assert_int_equal(change(SCSCF_RC_INITIAL, true), 0);
	assert_int_equal(F.nderegs, 0);
	assert_int_equal(scscf_tp_pending(F.tp), 1);
	tmr_poll();
	assert_int_equal(F.nderegs, 1);
	assert_int_equal(scscf_tp_pending(F.tp), 0);
	fx_down();
}


static void test_bad_args(void **state)
{
	struct scscf_tp_conf c = { 0 };
	struct scscf_tp *tp = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(scscf_tp_alloc(&tp, &c), EINVAL);
	c.uri = "mailto:x";
	c.sendh = send_h;
	assert_int_equal(scscf_tp_alloc(&tp, &c), EINVAL);
	c.uri = SCSCF;
	assert_int_equal(scscf_tp_alloc(&tp, &c), 0);
	assert_int_equal(scscf_tp_change(tp, NULL, &n), EINVAL);
	assert_int_equal(n, 0);
	scscf_tp_result(tp, 1, 200);
	mem_deref(tp);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_all_parts,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_each_field, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_user_dereg, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_network_dereg, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_default_handling, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_send_failure, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_bad_args, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
