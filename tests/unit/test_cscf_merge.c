/**
 * @file test_cscf_merge.c  The final response of a forked request
 * (cscf/merge.h, RFC 3261 16.7 steps 6 and 7): which branch's answer is
 * chosen, and a chosen 401/407 carrying every branch's challenges.
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
#include "core/mem.h"
#include "cscf/merge.h"
#include "sip/msg.h"


static struct sip_msg *resp(int code, const char *extra, const char *body)
{
	char text[2048];
	struct sip_msg *m = NULL;
	struct sip_msg_err e;
	struct buf *mb = NULL;
	int n;

	n = snprintf(text, sizeof(text),
		     "SIP/2.0 %d Reason %d\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKs\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp\r\n"
		     "From: <sip:alice@ims.test>;tag=a\r\n"
		     "To: <sip:bob@ims.test>;tag=b%d\r\n"
		     "Call-ID: merge-1\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     code, code, code, extra, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(buf_alloc(&mb, (size_t)n, 65535), 0);
	assert_int_equal(buf_write(mb, text, (size_t)n), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&m, mb, true, &e), 0);
	mem_deref(mb);
	return m;
}


static void add(struct cscf_merge *mg, int code, const char *extra)
{
	struct sip_msg *m = resp(code, extra, "");

	assert_int_equal(cscf_merge_add(mg, m), 0);
	mem_deref(m);
}


static int count(const char *hay, size_t len, const char *needle)
{
	int n = 0;
	const char *p = hay, *end = hay + len;
	size_t l = strlen(needle);

	while (p + l <= end && (p = memmem(p, (size_t)(end - p), needle, l))) {
		n++;
		p += l;
	}
	return n;
}


/* 16.7 step 6: a 6xx wins, then the lowest class, then in 4xx the
 * answers that tell how to retry */
static void test_choice(void **state)
{
	struct cscf_merge mg = { 0 };
	struct sip_msg *r = NULL;

	(void)state;
	assert_int_equal(cscf_merge_result(&mg, &r), ENOENT);
	add(&mg, 503, "");
	add(&mg, 486, "");
	add(&mg, 500, "");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 486);
	r = mem_deref(r);
	add(&mg, 484, "");
	add(&mg, 404, "");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 484);
	r = mem_deref(r);
	add(&mg, 603, "");
	add(&mg, 401, "");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 603);
	r = mem_deref(r);
	cscf_merge_reset(&mg);

	/* the first of equals stays */
	add(&mg, 480, "X-Branch: one\r\n");
	add(&mg, 486, "X-Branch: two\r\n");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 480);
	r = mem_deref(r);
	cscf_merge_reset(&mg);

	assert_false(cscf_merge_better(NULL, NULL));
	assert_int_equal(cscf_merge_add(&mg, NULL), EINVAL);
}


/* 16.7 step 7: the chosen 401 carries the challenges of every 401/407,
 * unmodified, once each; the rest of it as its branch sent it */
static void test_challenges(void **state)
{
	struct cscf_merge mg = { 0 };
	struct sip_msg *r = NULL, *m;
	const struct sip_hdr *h;
	int www = 0, prx = 0;

	(void)state;
	add(&mg, 404, "");
	m = resp(401,
		 "WWW-Authenticate: Digest realm=\"a.test\", nonce=\"n1\"\r\n"
		 "X-Keep: yes\r\n",
		 "body!");
	assert_int_equal(cscf_merge_add(&mg, m), 0);
	mem_deref(m);
	add(&mg, 407,
	    "Proxy-Authenticate: Digest realm=\"b.test\", nonce=\"n2\"\r\n"
	    "WWW-Authenticate: Digest realm=\"c.test\", nonce=\"n3\"\r\n");
	add(&mg, 500, "");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 401);
	for (h = sip_msg_hdr(r, SIP_HDR_WWW_AUTHENTICATE); h;
	     h = sip_msg_hdr_next(r, h))
		www++;
	for (h = sip_msg_hdr(r, SIP_HDR_PROXY_AUTHENTICATE); h;
	     h = sip_msg_hdr_next(r, h))
		prx++;
	assert_int_equal(www, 2);
	assert_int_equal(prx, 1);
	assert_int_equal(count(r->p, r->len, "realm=\"a.test\", nonce=\"n1\""),
			 1);
	assert_int_equal(count(r->p, r->len, "realm=\"b.test\", nonce=\"n2\""),
			 1);
	assert_int_equal(count(r->p, r->len, "realm=\"c.test\", nonce=\"n3\""),
			 1);
	assert_true(!strncmp(r->p, "SIP/2.0 401 Reason 401\r\n", 24));
	assert_int_equal(count(r->p, r->len, "Via: "), 2);
	assert_int_equal(count(r->p, r->len, "X-Keep: yes\r\n"), 1);
	assert_int_equal(count(r->p, r->len, "To: <sip:bob@ims.test>;tag=b401"),
			 1);
	assert_int_equal(r->body.l, 5);
	assert_true(!memcmp(r->body.p, "body!", 5));
	r = mem_deref(r);

	/* a chosen response that is not a challenge is sent as it came */
	add(&mg, 600, "");
	assert_int_equal(cscf_merge_result(&mg, &r), 0);
	assert_int_equal(r->scode, 600);
	assert_int_equal(count(r->p, r->len, "Authenticate"), 0);
	r = mem_deref(r);
	cscf_merge_reset(&mg);
	cscf_merge_reset(&mg); /* twice: harmless */
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_choice, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_challenges, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("cscf_merge", tests, NULL, NULL);
}
