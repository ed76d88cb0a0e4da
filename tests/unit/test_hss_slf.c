/**
 * @file test_hss_slf.c  The SLF (Dx, TS 29.228 6.6; Dh for Sh): Cx and Sh
 * requests for users the SLF table maps to another HSS are redirected
 * (DIAMETER_REDIRECT_INDICATION 3006 with Redirect-Host and
 * Redirect-Host-Usage, RFC 6733 6.13), identities mapped to this node are
 * served, and identities it does not know are unknown users to a pure
 * SLF and left to the local store of an SLF that is also an HSS.
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
#include <string.h>

#include "core/mem.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/sh.h"
#include "hss/hss.h"
#include "store/store.h"
#include "util/hsstest.h"

#define V3 DIA_VENDOR_3GPP

static struct hsstest T;


static int setup_only(void **state)
{
	int r = mem_mark(state);

	ht_setup(&T, HSS_SLF_ONLY);
	return r;
}


static int setup_both(void **state)
{
	int r = mem_mark(state);

	ht_setup(&T, HSS_SLF_AND_HSS);
	return r;
}


static int setup_off(void **state)
{
	int r = mem_mark(state);

	ht_setup(&T, HSS_SLF_OFF);
	return r;
}


static int teardown(void **state)
{
	ht_teardown(&T);
	return mem_expect_no_leaks(state);
}


static void expect_redirect(struct dia_msg *a, const char *uri)
{
	struct pl host;
	uint32_t usage = 99;

	ht_expect(a, DIA_REDIRECT_INDICATION, 0);
	assert_true(a->flags & DIA_FLAG_E);
	assert_int_equal(dia_get_pl(&a->root, DIA_AVP_REDIRECT_HOST, 0, &host),
			 0);
	if (!pl_eq_str(&host, uri))
		fail_msg("Redirect-Host %.*s, expected %s", PL_FMT(&host), uri);
	assert_int_equal(
		dia_get_u32(&a->root, DIA_AVP_REDIRECT_HOST_USAGE, 0, &usage),
		0);
	assert_int_equal(usage, 0); /* DONT_CACHE */
	mem_deref(a);
}


static struct dia_msg *udr_pub(const char *impu)
{
	struct cx_route rt = ht_route("as.ims.test");
	struct dia_msg *req = NULL;
	struct sh_udr u;

	memset(&u, 0, sizeof(u));
	u.uid.impu = cx_pl(impu);
	u.dref[u.dref_n++] = DIA_DR_IMS_PUBLIC_IDENTITY;
	assert_int_equal(sh_udr_encode(&req, &rt, &u), 0);
	return ht_handle(&T, req);
}


static void test_slf_only(void **state)
{
	struct dia_msg *a;

	(void)state;
	assert_int_equal(store_slf_set(T.st, HT_AU, "hss2.ims.test", HT_REALM),
			 0);
	assert_int_equal(store_slf_set(T.st, HT_BOB, "aaa://hss3.ims.test:3868",
				       HT_REALM),
			 0);
	/* every Cx request of the user, and Sh over Dh */
	expect_redirect(ht_uar(&T, HT_ALICE, HT_AU, -1, NULL),
			"aaa://hss2.ims.test");
	expect_redirect(ht_lir(&T, HT_AU, false), "aaa://hss2.ims.test");
	expect_redirect(ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "SIP Digest", 1,
			       NULL, 0),
			"aaa://hss2.ims.test");
	expect_redirect(
		ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, DIA_SAT_REGISTRATION, 0),
		"aaa://hss2.ims.test");
	expect_redirect(udr_pub(HT_AU), "aaa://hss2.ims.test");
	/* mapped by the private identity only; a DiameterURI kept as is */
	expect_redirect(ht_uar(&T, HT_BOB, HT_BU, -1, NULL),
			"aaa://hss3.ims.test:3868");

	/* a pure SLF does not know the others (even if its store does) */
	a = ht_uar(&T, HT_TAB, "sip:alice-tab@ims.test", -1, NULL);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	a = ht_lir(&T, HT_ATEL, false);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	/* nothing was registered locally */
	{
		struct store_impu *u = NULL;

		assert_int_equal(store_impu_get(T.st, HT_AU, &u), 0);
		assert_int_equal(u->reg_state, STORE_REG_NOT_REGISTERED);
		mem_deref(u);
	}
}


static void test_slf_and_hss(void **state)
{
	struct dia_msg *a;

	(void)state;
	assert_int_equal(store_slf_set(T.st, HT_AU, "hss2.ims.test", HT_REALM),
			 0);
	/* mapped to this very HSS: served here */
	assert_int_equal(store_slf_set(T.st, HT_BU, HT_HSS, HT_REALM), 0);
	expect_redirect(ht_uar(&T, HT_ALICE, HT_AU, -1, NULL),
			"aaa://hss2.ims.test");
	a = ht_uar(&T, HT_BOB, HT_BU, -1, NULL);
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	mem_deref(a);
	/* not in the SLF table: the local store decides */
	a = ht_uar(&T, HT_ALICE, HT_ATEL, -1, NULL);
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	mem_deref(a);
	a = ht_uar(&T, "eve@ims.test", "sip:eve@ims.test", -1, NULL);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	a = udr_pub(HT_BU);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
}


/* Without SLF mode the table is not consulted. */
static void test_slf_off(void **state)
{
	struct dia_msg *a;

	(void)state;
	assert_int_equal(store_slf_set(T.st, HT_AU, "hss2.ims.test", HT_REALM),
			 0);
	a = ht_uar(&T, HT_ALICE, HT_AU, -1, NULL);
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	mem_deref(a);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slf_only, setup_only,
						teardown),
		cmocka_unit_test_setup_teardown(test_slf_and_hss, setup_both,
						teardown),
		cmocka_unit_test_setup_teardown(test_slf_off, setup_off,
						teardown),
	};

	return cmocka_run_group_tests_name("hss_slf", tests, NULL, NULL);
}
