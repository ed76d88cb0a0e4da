/**
 * @file test_hss_cx.c  The HSS on Cx (TS 29.228 6.1-6.3, TS 29.229): UAR,
 * MAR (SIP Digest, Digest-AKAv1/v2, resynchronisation), SAR for every
 * Server-Assignment-Type, LIR, RTR and PPR through a fake node, the
 * outbox, validation errors, and the typed codec both ways.
 *
 * Every request goes through the wire (encode, decode) before the HSS
 * sees it, and every answer is encoded, decoded and validated against
 * the dictionary before it is checked (util/hsstest.c).
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

#include "core/mem.h"
#include "diameter/avp.h"
#include "diameter/cx.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/userdata.h"
#include "hss/aka.h"
#include "hss/hss.h"
#include "store/events.h"
#include "store/store.h"
#include "util/hsstest.h"

#define V3 DIA_VENDOR_3GPP

static struct hsstest T;


static int setup(void **state)
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


static enum store_reg_state reg_state(const char *impu)
{
	struct store_impu *u = NULL;
	enum store_reg_state s;

	assert_int_equal(store_impu_get(T.st, impu, &u), 0);
	s = u->reg_state;
	mem_deref(u);
	return s;
}


/* The assigned S-CSCF ("" when none) into buf. */
static const char *assigned(const char *sub, char *buf, size_t size)
{
	struct store_subscription *s = NULL;

	assert_int_equal(store_sub_get(T.st, sub, &s), 0);
	(void)snprintf(buf, size, "%s",
		       s->scscf_assigned ? s->scscf_assigned : "");
	mem_deref(s);
	return buf;
}


static void expect_pl(const struct pl *pl, const char *s)
{
	if (!pl_eq_str(pl, s))
		fail_msg("'%.*s', expected '%s'", PL_FMT(pl), s);
}


/* ---- UAR ---- */

static void test_uar(void **state)
{
	struct cx_uaa uaa;
	struct dia_msg *a;
	char buf[128];

	(void)state;
	/* TS 29.228 6.1.1.1 steps 1-2 */
	a = ht_uar(&T, HT_ALICE, "sip:nobody@ims.test", -1, NULL);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	a = ht_uar(&T, "nobody@ims.test", HT_AU, -1, NULL);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	a = ht_uar(&T, HT_BOB, HT_AU, -1, NULL);
	ht_expect(a, DIA_ERROR_IDENTITIES_DONT_MATCH, V3);
	mem_deref(a);
	/* step 3: barred alone, roaming */
	a = ht_uar(&T, HT_ALICE, HT_AOLD, -1, NULL);
	ht_expect(a, DIA_AUTHORIZATION_REJECTED, 0);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, -1, "evil.example");
	ht_expect(a, DIA_ERROR_ROAMING_NOT_ALLOWED, V3);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, DIA_UAT_REGISTRATION,
		   "partner.example");
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, 7, NULL);
	ht_expect(a, DIA_INVALID_AVP_VALUE, 0);
	mem_deref(a);

	/* step 4, not registered: capabilities; only scscf1 has the
	 * mandatory capability 1 */
	a = ht_uar(&T, HT_ALICE, HT_AU, -1, NULL);
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	assert_true(uaa.has_caps);
	assert_false(pl_isset(&uaa.server_name));
	assert_int_equal(uaa.caps.mand_n, 1);
	assert_int_equal(uaa.caps.mand[0], 1);
	assert_int_equal(uaa.caps.opt_n, 1);
	assert_int_equal(uaa.caps.opt[0], 2);
	assert_int_equal(uaa.caps.name_n, 1);
	expect_pl(&uaa.caps.name[0], HT_SCSCF1);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, DIA_UAT_DE_REGISTRATION, NULL);
	ht_expect(a, DIA_ERROR_IDENTITY_NOT_REGISTERED, V3);
	mem_deref(a);
	/* bob's subscription has no capabilities: every S-CSCF */
	a = ht_uar(&T, HT_BOB, HT_BU, -1, NULL);
	ht_expect(a, DIA_FIRST_REGISTRATION, V3);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	assert_int_equal(uaa.caps.mand_n, 0);
	assert_int_equal(uaa.caps.name_n, 2);
	mem_deref(a);

	/* registered: the S-CSCF, for the whole implicit set */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF1);
	a = ht_uar(&T, HT_ALICE, HT_ATEL, -1, NULL);
	ht_expect(a, DIA_SUBSEQUENT_REGISTRATION, V3);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	expect_pl(&uaa.server_name, HT_SCSCF1);
	assert_false(uaa.has_caps);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, DIA_UAT_DE_REGISTRATION, NULL);
	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	expect_pl(&uaa.server_name, HT_SCSCF1);
	mem_deref(a);
	a = ht_uar(&T, HT_ALICE, HT_AU, DIA_UAT_REGISTRATION_AND_CAPABILITIES,
		   NULL);
	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	assert_true(uaa.has_caps);
	assert_false(pl_isset(&uaa.server_name));
	mem_deref(a);
}


/* Supported-Features: the common part of the lists (TS 29.229 7.2). */
static void test_uar_features(void **state)
{
	struct cx_route rt = ht_route("icscf.ims.test");
	struct dia_msg *req = NULL, *a;
	struct cx_uar uar;
	struct cx_uaa uaa;

	(void)state;
	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(HT_ALICE);
	uar.impu = cx_pl(HT_AU);
	uar.auth_type = -1;
	uar.feat.present = true;
	uar.feat.list_id = 1;
	uar.feat.list = CX_FEAT_SIFC | (1u << 5);
	assert_int_equal(cx_uar_encode(&req, &rt, &uar), 0);
	a = ht_handle(&T, req);
	assert_int_equal(cx_uaa_decode(a, &uaa), 0);
	assert_true(uaa.feat.present);
	assert_int_equal(uaa.feat.vendor, V3);
	assert_int_equal(uaa.feat.list_id, 1);
	assert_int_equal(uaa.feat.list, CX_FEAT_SIFC);
	mem_deref(a);
}


/* ---- MAR ---- */

static void mar_items(const struct dia_msg *a, struct cx_maa *maa,
		      struct cx_auth_item *items, size_t max)
{
	memset(maa, 0, sizeof(*maa));
	maa->item = items;
	maa->item_max = max;
	assert_int_equal(cx_maa_decode(a, maa), 0);
}


static void test_mar_digest(void **state)
{
	static const char *const names[] = { "SIP Digest", "Digest-MD5",
					     "Digest" };
	struct cx_auth_item it[4];
	struct cx_route rt = ht_route("scscf1.ims.test");
	struct dia_msg *a, *req = NULL;
	struct cx_maa maa;
	struct cx_mar mar;
	char md5[33], sha[65];
	size_t k;

	(void)state;
	ht_ha1(HT_ALICE, "alice-secret", md5, sha);
	/* TS 29.229 6.3.36, and the names Kamailio's ims_auth asks with */
	for (k = 0; k < 3; k++) {
		a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, names[k], 1, NULL,
			   0);
		ht_expect(a, DIA_SUCCESS, 0);
		mar_items(a, &maa, it, 4);
		expect_pl(&maa.impi, HT_ALICE);
		expect_pl(&maa.impu, HT_AU);
		assert_int_equal(maa.n_items, 1);
		assert_int_equal(maa.item_n, 1);
		expect_pl(&it[0].scheme, "SIP Digest");
		assert_true(it[0].has_digest);
		expect_pl(&it[0].digest.realm, HT_REALM);
		expect_pl(&it[0].digest.algorithm, "MD5");
		expect_pl(&it[0].digest.qop, "auth");
		expect_pl(&it[0].digest.ha1, md5);
		assert_false(pl_isset(&it[0].authenticate));
		mem_deref(a);
	}

	/* SHA-256 when the S-CSCF asks for it */
	memset(&mar, 0, sizeof(mar));
	mar.impi = cx_pl(HT_ALICE);
	mar.impu = cx_pl(HT_AU);
	mar.server_name = cx_pl(HT_SCSCF1);
	mar.n_items = 1;
	mar.item.scheme = cx_pl("SIP Digest");
	mar.item.has_digest = true;
	mar.item.digest.realm = cx_pl(HT_REALM);
	mar.item.digest.algorithm = cx_pl("SHA-256");
	mar.item.digest.qop = cx_pl("auth");
	mar.item.digest.ha1 = cx_pl("");
	assert_int_equal(cx_mar_encode(&req, &rt, &mar), 0);
	a = ht_handle(&T, req);
	ht_expect(a, DIA_SUCCESS, 0);
	mar_items(a, &maa, it, 4);
	expect_pl(&it[0].digest.algorithm, "SHA-256");
	expect_pl(&it[0].digest.ha1, sha);
	mem_deref(a);

	/* "Unknown": bob's only scheme; a scheme bob may not use: 5006 */
	a = ht_mar(&T, HT_BOB, HT_BU, HT_SCSCF1, "Unknown", 1, NULL, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	mar_items(a, &maa, it, 4);
	expect_pl(&it[0].scheme, "SIP Digest");
	mem_deref(a);
	a = ht_mar(&T, HT_BOB, HT_BU, HT_SCSCF1, "Digest-AKAv1-MD5", 1, NULL,
		   0);
	ht_expect(a, DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED, V3);
	mem_deref(a);
	a = ht_mar(&T, HT_BOB, HT_BU, HT_SCSCF1, "NASS-Bundled", 1, NULL, 0);
	ht_expect(a, DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED, V3);
	mem_deref(a);
	/* identities */
	a = ht_mar(&T, HT_BOB, HT_AU, HT_SCSCF1, "SIP Digest", 1, NULL, 0);
	ht_expect(a, DIA_ERROR_IDENTITIES_DONT_MATCH, V3);
	mem_deref(a);
	a = ht_mar(&T, "eve@ims.test", HT_AU, HT_SCSCF1, "SIP Digest", 1, NULL,
		   0);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
}


/* Check every vector of an AKA answer with the USIM side. */
static uint64_t check_vectors(const struct dia_msg *a, struct aka_ue_sqn *ue,
			      const char *scheme, size_t want)
{
	struct cx_auth_item it[8];
	struct aka_ue_result r;
	struct cx_maa maa;
	uint8_t rnd[16], autn[16];
	uint64_t last = 0;
	size_t k;

	ht_expect(a, DIA_SUCCESS, 0);
	mar_items(a, &maa, it, 8);
	assert_int_equal(maa.item_n, want);
	assert_int_equal(maa.n_items, want);
	for (k = 0; k < maa.item_n; k++) {
		assert_int_equal(it[k].item_number, k + 1);
		expect_pl(&it[k].scheme, scheme);
		assert_int_equal(it[k].authenticate.l, 32);
		assert_int_equal(aka_cx_authenticate_decode(
					 (const uint8_t *)it[k].authenticate.p,
					 it[k].authenticate.l, rnd, autn),
				 0);
		assert_int_equal(aka_ue_check(T.mil, ue, rnd, autn, &r), 0);
		assert_int_equal(r.verdict, AKA_UE_OK);
		/* RES == XRES, and the keys the P-CSCF will use */
		assert_int_equal(it[k].authorization.l, AKA_RES_LEN);
		assert_memory_equal(r.res, it[k].authorization.p, AKA_RES_LEN);
		assert_int_equal(it[k].ck.l, 16);
		assert_memory_equal(r.ck, it[k].ck.p, 16);
		assert_int_equal(it[k].ik.l, 16);
		assert_memory_equal(r.ik, it[k].ik.p, 16);
		last = r.sqn;
	}
	return last;
}


static uint64_t stored_sqn(const char *impi)
{
	struct store_impi *i = NULL;
	uint64_t sqn;

	assert_int_equal(store_impi_get(T.st, impi, &i), 0);
	sqn = i->sqn;
	mem_deref(i);
	return sqn;
}


static void test_mar_aka(void **state)
{
	struct aka_ue_sqn ue;
	struct dia_msg *a;
	uint64_t last;

	(void)state;
	memset(&ue, 0, sizeof(ue));
	/* five asked, three configured: three */
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv1-MD5", 5, NULL,
		   0);
	last = check_vectors(a, &ue, "Digest-AKAv1-MD5", 3);
	mem_deref(a);
	/* the SQN of the last vector is stored */
	assert_true(stored_sqn(HT_ALICE) == last);

	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv2-MD5", 1, NULL,
		   0);
	last = check_vectors(a, &ue, "Digest-AKAv2-MD5", 1);
	mem_deref(a);
	assert_true(stored_sqn(HT_ALICE) == last);

	/* "Unknown" for alice: AKA first */
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Unknown", 2, NULL, 0);
	(void)check_vectors(a, &ue, "Digest-AKAv1-MD5", 2);
	mem_deref(a);
}


/* TS 33.102 6.3.5: the UE is ahead of the HSS, refuses, sends AUTS. */
static void test_mar_resync(void **state)
{
	struct cx_auth_item it[4];
	struct aka_ue_result r;
	struct aka_ue_sqn ue;
	struct cx_maa maa;
	struct dia_msg *a;
	uint8_t rnd[16], autn[16], resync[AKA_CX_RESYNC_LEN];
	size_t k;

	(void)state;
	memset(&ue, 0, sizeof(ue));
	for (k = 0; k < AKA_IND_NUM; k++)
		ue.seq[k] = 5000;
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv1-MD5", 1, NULL,
		   0);
	ht_expect(a, DIA_SUCCESS, 0);
	mar_items(a, &maa, it, 4);
	assert_int_equal(aka_cx_authenticate_decode(
				 (const uint8_t *)it[0].authenticate.p,
				 it[0].authenticate.l, rnd, autn),
			 0);
	assert_int_equal(aka_ue_check(T.mil, &ue, rnd, autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_SYNC_FAILURE);
	mem_deref(a);
	assert_true(aka_sqn_seq(stored_sqn(HT_ALICE)) < 5000);

	/* TS 29.229 6.3.10: SIP-Authorization = RAND || AUTS */
	aka_cx_resync_encode(resync, rnd, r.auts);
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv1-MD5", 2,
		   resync, sizeof(resync));
	(void)check_vectors(a, &ue, "Digest-AKAv1-MD5", 2);
	mem_deref(a);
	assert_true(aka_sqn_seq(stored_sqn(HT_ALICE)) > 5000);

	/* a forged AUTS changes nothing, vectors still come */
	resync[AKA_CX_RESYNC_LEN - 1] ^= 1;
	k = (size_t)stored_sqn(HT_ALICE);
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv1-MD5", 1,
		   resync, sizeof(resync));
	(void)check_vectors(a, &ue, "Digest-AKAv1-MD5", 1);
	mem_deref(a);
	assert_true(aka_sqn_seq(stored_sqn(HT_ALICE)) ==
		    aka_sqn_seq((uint64_t)k) + 1);
	/* a SIP-Authorization of the wrong size */
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF1, "Digest-AKAv1-MD5", 1,
		   resync, 7);
	ht_expect(a, DIA_INVALID_AVP_VALUE, 0);
	mem_deref(a);
}


/* TS 29.228 6.3.1: a MAR from another S-CSCF while registered is kept
 * pending; that S-CSCF's SAR makes it the assigned one. */
static void test_mar_pending(void **state)
{
	char *pend = NULL, *host = NULL, *realm = NULL, buf[128];
	struct dia_msg *a;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(
		store_scscf_peer_get(T.st, "acme-alice", &pend, &host, &realm),
		0);
	assert_null(pend);
	assert_string_equal(host, "scscf1.ims.test");
	assert_string_equal(realm, HT_REALM);
	host = mem_deref(host);
	realm = mem_deref(realm);

	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF2, "SIP Digest", 1, NULL, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF1);
	assert_int_equal(
		store_scscf_peer_get(T.st, "acme-alice", &pend, &host, &realm),
		0);
	assert_string_equal(pend, HT_SCSCF2);
	pend = mem_deref(pend);
	host = mem_deref(host);
	realm = mem_deref(realm);

	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF2, DIA_SAT_REGISTRATION,
		   DIA_USER_DATA_ALREADY_AVAILABLE_IN_SCSCF);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF2);
	assert_int_equal(
		store_scscf_peer_get(T.st, "acme-alice", &pend, &host, &realm),
		0);
	assert_null(pend);
	assert_string_equal(host, "scscf2.ims.test");
	mem_deref(host);
	mem_deref(realm);
}


/* ---- SAR ---- */

static void check_profile(const struct dia_msg *a, const char *impi,
			  size_t pubs)
{
	struct cx_subscription *cx = NULL;
	struct cx_saa saa;
	char why[128];

	assert_int_equal(cx_saa_decode(a, &saa), 0);
	assert_true(pl_isset(&saa.user_data));
	assert_int_equal(cx_userdata_decode(&cx, saa.user_data.p,
					    saa.user_data.l, why, sizeof(why)),
			 0);
	assert_string_equal(cx->private_id, impi);
	assert_int_equal(cx->sp_n, 1);
	assert_int_equal(cx->sp[0].pub_n, pubs);
	assert_int_equal(cx->sp[0].ifc_n, 1);
	assert_string_equal(cx->sp[0].ifc[0].as_uri, "sip:as.ims.test");
	mem_deref(cx);
}


static void test_sar_register(void **state)
{
	struct cx_saa saa;
	struct dia_msg *a;
	char buf[128];

	(void)state;
	/* NO_ASSIGNMENT before any S-CSCF is assigned */
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, DIA_SAT_NO_ASSIGNMENT, 0);
	ht_expect(a, DIA_UNABLE_TO_COMPLY, 0);
	mem_deref(a);

	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, DIA_SAT_REGISTRATION,
		   DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF);
	ht_expect(a, DIA_SUCCESS, 0);
	check_profile(a, HT_ALICE, 2);
	assert_int_equal(cx_saa_decode(a, &saa), 0);
	expect_pl(&saa.impi, HT_ALICE);
	assert_true(saa.has_charging);
	expect_pl(&saa.charging.ccf_primary, "aaa://ccf.ims.test");
	assert_false(pl_isset(&saa.charging.ecf_primary));
	/* two private identities in the subscription */
	assert_int_equal(saa.assoc_n, 2);
	expect_pl(&saa.assoc[0], HT_TAB);
	expect_pl(&saa.assoc[1], HT_ALICE);
	mem_deref(a);
	/* the whole implicit set, not the barred identity's own set */
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	assert_int_equal(reg_state(HT_ATEL), STORE_REG_REGISTERED);
	assert_int_equal(reg_state(HT_AOLD), STORE_REG_NOT_REGISTERED);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF1);

	/* RE_REGISTRATION with the data already there: no User-Data */
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, DIA_SAT_RE_REGISTRATION,
		   DIA_USER_DATA_ALREADY_AVAILABLE_IN_SCSCF);
	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(cx_saa_decode(a, &saa), 0);
	assert_false(pl_isset(&saa.user_data));
	mem_deref(a);

	/* NO_ASSIGNMENT: the assigned S-CSCF only */
	a = ht_sar(&T, NULL, HT_ATEL, HT_SCSCF1, DIA_SAT_NO_ASSIGNMENT, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	check_profile(a, HT_ALICE, 2);
	mem_deref(a);
	a = ht_sar(&T, NULL, HT_ATEL, HT_SCSCF2, DIA_SAT_NO_ASSIGNMENT, 0);
	ht_expect(a, DIA_UNABLE_TO_COMPLY, 0);
	mem_deref(a);

	/* another S-CSCF: already registered (with the name), or the
	 * wrong S-CSCF for a deregistration */
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF2, DIA_SAT_UNREGISTERED_USER,
		   0);
	ht_expect(a, DIA_ERROR_IDENTITY_ALREADY_REGISTERED, V3);
	assert_int_equal(cx_saa_decode(a, &saa), 0);
	expect_pl(&saa.server_name, HT_SCSCF1);
	mem_deref(a);
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF2,
		   DIA_SAT_TIMEOUT_DEREGISTRATION, 0);
	ht_expect(a, DIA_ERROR_IN_ASSIGNMENT_TYPE, V3);
	mem_deref(a);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);

	/* a type that is not for an S-CSCF */
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1,
		   DIA_SAT_AAA_USER_DATA_REQUEST, 0);
	ht_expect(a, DIA_ERROR_IN_ASSIGNMENT_TYPE, V3);
	mem_deref(a);

	/* identities */
	a = ht_sar(&T, HT_TAB, HT_ATEL, HT_SCSCF1, DIA_SAT_REGISTRATION, 0);
	ht_expect(a, DIA_ERROR_IDENTITIES_DONT_MATCH, V3);
	mem_deref(a);
	a = ht_sar(&T, NULL, "sip:ghost@ims.test", HT_SCSCF1,
		   DIA_SAT_REGISTRATION, 0);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	/* registration needs a public identity (RFC 6733 7.1.5 example) */
	a = ht_sar(&T, HT_ALICE, NULL, HT_SCSCF1, DIA_SAT_REGISTRATION, 0);
	ht_expect(a, DIA_MISSING_AVP, 0);
	{
		const struct dia_avp *f =
			dia_avp_find(&a->root, DIA_AVP_FAILED_AVP, 0);
		assert_non_null(f);
		assert_non_null(dia_avp_find(f, DIA_AVP_PUBLIC_IDENTITY, V3));
	}
	mem_deref(a);
}


/* Each deregistration type: the state and the S-CSCF name after it. */
static void test_sar_deregister(void **state)
{
	static const struct {
		uint32_t sat;
		bool keeps_name;
	} v[] = {
		{ DIA_SAT_TIMEOUT_DEREGISTRATION, false },
		{ DIA_SAT_USER_DEREGISTRATION, false },
		{ DIA_SAT_ADMINISTRATIVE_DEREGISTRATION, false },
		{ DIA_SAT_DEREGISTRATION_TOO_MUCH_DATA, false },
		{ DIA_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME, true },
		{ DIA_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME, true },
	};
	struct dia_msg *a;
	char buf[128];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
		assert_int_equal(reg_state(HT_ATEL), STORE_REG_REGISTERED);
		a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, v[k].sat, 0);
		ht_expect(a, DIA_SUCCESS, 0);
		mem_deref(a);
		assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
		assert_int_equal(reg_state(HT_ATEL), STORE_REG_NOT_REGISTERED);
		assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
				    v[k].keeps_name ? HT_SCSCF1 : "");
		/* a kept name sends the next registration there */
		a = ht_uar(&T, HT_ALICE, HT_AU, -1, NULL);
		ht_expect(a,
			  v[k].keeps_name ? DIA_SUBSEQUENT_REGISTRATION
					  : DIA_FIRST_REGISTRATION,
			  V3);
		mem_deref(a);
	}

	/* deregistration by private identity only: every IMPU of it */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	a = ht_sar(&T, HT_ALICE, NULL, HT_SCSCF1, DIA_SAT_USER_DEREGISTRATION,
		   0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)), "");
}


static void test_sar_unregistered_and_auth(void **state)
{
	struct dia_msg *a;
	char buf[128];

	(void)state;
	/* a terminating request for bob, not registered */
	a = ht_sar(&T, NULL, HT_BU, HT_SCSCF2, DIA_SAT_UNREGISTERED_USER,
		   DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF);
	ht_expect(a, DIA_SUCCESS, 0);
	check_profile(a, HT_BOB, 1);
	mem_deref(a);
	assert_int_equal(reg_state(HT_BU), STORE_REG_UNREGISTERED);
	assert_string_equal(assigned("acme-bob", buf, sizeof(buf)), HT_SCSCF2);
	/* the I-CSCF then finds that S-CSCF */
	a = ht_lir(&T, HT_BU, false);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = ht_sar(&T, NULL, HT_BU, HT_SCSCF2, DIA_SAT_TIMEOUT_DEREGISTRATION,
		   0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(reg_state(HT_BU), STORE_REG_NOT_REGISTERED);

	/* a failed first authentication forgets the S-CSCF of the MAR */
	a = ht_mar(&T, HT_ALICE, HT_AU, HT_SCSCF2, "SIP Digest", 1, NULL, 0);
	mem_deref(a);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF2);
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF2,
		   DIA_SAT_AUTHENTICATION_FAILURE, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)), "");

	/* a failed re-authentication leaves the registration alone */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1,
		   DIA_SAT_AUTHENTICATION_TIMEOUT, 0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)),
			    HT_SCSCF1);
}


/* ---- LIR ---- */

static void test_lir(void **state)
{
	struct cx_lia lia;
	struct dia_msg *a;

	(void)state;
	a = ht_lir(&T, "sip:ghost@ims.test", false);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	/* alice has services for the registered state only */
	a = ht_lir(&T, HT_AU, false);
	ht_expect(a, DIA_ERROR_IDENTITY_NOT_REGISTERED, V3);
	mem_deref(a);
	/* an originating request on her behalf is served */
	a = ht_lir(&T, HT_AU, true);
	ht_expect(a, DIA_UNREGISTERED_SERVICE, V3);
	mem_deref(a);
	/* bob has unregistered services: capabilities, no S-CSCF yet */
	a = ht_lir(&T, HT_BU, false);
	ht_expect(a, DIA_UNREGISTERED_SERVICE, V3);
	assert_int_equal(cx_lia_decode(a, &lia), 0);
	assert_true(lia.has_caps);
	assert_false(pl_isset(&lia.server_name));
	mem_deref(a);
	/* a wildcarded PSI, resolved */
	a = ht_lir(&T, "sip:conf-42@ims.test", false);
	ht_expect(a, DIA_UNREGISTERED_SERVICE, V3);
	assert_int_equal(cx_lia_decode(a, &lia), 0);
	expect_pl(&lia.wildcarded, HT_PSI);
	mem_deref(a);

	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	a = ht_lir(&T, HT_ATEL, false);
	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(cx_lia_decode(a, &lia), 0);
	expect_pl(&lia.server_name, HT_SCSCF1);
	assert_false(pl_isset(&lia.wildcarded));
	mem_deref(a);
	/* bob's S-CSCF kept after a *_STORE_SERVER_NAME deregistration */
	ht_register(&T, HT_BOB, HT_BU, HT_SCSCF2);
	a = ht_sar(&T, HT_BOB, HT_BU, HT_SCSCF2,
		   DIA_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME, 0);
	mem_deref(a);
	a = ht_lir(&T, HT_BU, false);
	ht_expect(a, DIA_UNREGISTERED_SERVICE, V3);
	assert_int_equal(cx_lia_decode(a, &lia), 0);
	expect_pl(&lia.server_name, HT_SCSCF2);
	assert_false(lia.has_caps);
	mem_deref(a);
}


/* ---- RTR, PPR, the outbox ---- */

static void test_rtr(void **state)
{
	struct dia_msg *req;
	struct cx_rtr rtr;
	char buf[128];

	(void)state;
	assert_int_equal(hss_rtr(T.hss, HT_ALICE,
				 DIA_REASON_PERMANENT_TERMINATION, "bye"),
			 EALREADY);
	assert_int_equal(hss_rtr(T.hss, "nobody@ims.test", 0, NULL), ENOENT);
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);

	/* the whole private identity */
	assert_int_equal(hss_rtr(T.hss, HT_ALICE,
				 DIA_REASON_PERMANENT_TERMINATION, "bye"),
			 0);
	assert_int_equal(T.sent_n, 1);
	req = ht_wire(T.sent[0]);
	assert_int_equal(req->code, DIA_CMD_RT);
	assert_int_equal(cx_rtr_decode(req, &rtr), 0);
	expect_pl(&rtr.impi, HT_ALICE);
	assert_int_equal(rtr.impu_n, 0);
	assert_int_equal(rtr.reason, DIA_REASON_PERMANENT_TERMINATION);
	expect_pl(&rtr.reason_info, "bye");
	{
		struct pl dh;

		assert_int_equal(dia_get_pl(&req->root,
					    DIA_AVP_DESTINATION_HOST, 0, &dh),
				 0);
		expect_pl(&dh, "scscf1.ims.test");
	}
	mem_deref(req);
	/* nothing changes before the RTA */
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	assert_int_equal(hss_pending(T.hss), 1);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	assert_int_equal(hss_pending(T.hss), 0);
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(reg_state(HT_ATEL), STORE_REG_NOT_REGISTERED);
	assert_string_equal(assigned("acme-alice", buf, sizeof(buf)), "");

	/* one implicit set, refused by the S-CSCF: nothing changes */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(hss_rtr(T.hss, HT_ATEL, DIA_REASON_REMOVE_SCSCF, NULL),
			 0);
	req = ht_wire(T.sent[1]);
	assert_int_equal(cx_rtr_decode(req, &rtr), 0);
	assert_int_equal(rtr.impu_n, 1);
	expect_pl(&rtr.impu[0], HT_ATEL);
	mem_deref(req);
	ht_answer_sent(&T, 1, DIA_UNABLE_TO_COMPLY, 0);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	/* a node that times out: nothing changes either */
	assert_int_equal(hss_rtr(T.hss, HT_AU, DIA_REASON_REMOVE_SCSCF, NULL),
			 0);
	ht_fail_sent(&T, 2, ETIMEDOUT);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);
	/* a node that refuses to send */
	T.send_fails = true;
	assert_int_equal(hss_rtr(T.hss, HT_AU, DIA_REASON_REMOVE_SCSCF, NULL),
			 ECONNREFUSED);
	assert_int_equal(hss_pending(T.hss), 0);
}


static void test_ppr_and_outbox(void **state)
{
	struct cx_subscription *cx = NULL;
	struct list l = LIST_INIT;
	struct dia_msg *req;
	struct cx_ppr ppr;
	unsigned n = 0;
	char why[128];

	(void)state;
	assert_int_equal(hss_ppr(T.hss, HT_ALICE, &n), 0);
	assert_int_equal(n, 0); /* not registered: nothing to push */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(hss_ppr(T.hss, HT_ALICE, &n), 0);
	assert_int_equal(n, 1); /* one registered implicit set */
	req = ht_wire(T.sent[0]);
	assert_int_equal(cx_ppr_decode(req, &ppr), 0);
	expect_pl(&ppr.impi, HT_ALICE);
	assert_int_equal(cx_userdata_decode(&cx, ppr.user_data.p,
					    ppr.user_data.l, why, sizeof(why)),
			 0);
	assert_int_equal(cx->sp[0].pub_n, 2);
	cx = mem_deref(cx);
	assert_true(ppr.has_charging);
	expect_pl(&ppr.charging.ccf_primary, "aaa://ccf.ims.test");
	mem_deref(req);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	assert_int_equal(reg_state(HT_AU), STORE_REG_REGISTERED);

	/* the outbox: a profile change, a deregistration, and one for an
	 * identity that is gone */
	assert_int_equal(
		store_event_add(T.st, STORE_EV_PROFILE, "acme-alice", 0), 0);
	assert_int_equal(store_event_add(T.st, STORE_EV_DEREG, HT_AU,
					 DIA_REASON_PERMANENT_TERMINATION),
			 0);
	assert_int_equal(
		store_event_add(T.st, STORE_EV_DEREG, "sip:gone@ims.test", 0),
		0);
	assert_int_equal(store_event_add(T.st, 9, "x", 0), EINVAL);
	/* a node that cannot send keeps the events */
	T.send_fails = true;
	assert_int_equal(hss_poll_events(T.hss, &n), ECONNREFUSED);
	assert_int_equal(store_event_list(T.st, 10, &l), 0);
	assert_int_equal(list_count(&l), 3);
	list_flush(&l);
	T.send_fails = false;
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(T.sent_n, 3);
	assert_int_equal(T.sent[1]->code, DIA_CMD_PP);
	assert_int_equal(T.sent[2]->code, DIA_CMD_RT);
	assert_int_equal(store_event_list(T.st, 10, &l), 0);
	assert_int_equal(list_count(&l), 0);
	ht_answer_sent(&T, 1, DIA_SUCCESS, 0);
	ht_answer_sent(&T, 2, DIA_SUCCESS, 0);
	assert_int_equal(reg_state(HT_AU), STORE_REG_NOT_REGISTERED);
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 0);
}


/* ---- validation and the commands the HSS does not take ---- */

static void test_malformed(void **state)
{
	struct cx_route rt = ht_route("icscf.ims.test");
	struct dia_msg *req = NULL, *a;
	const struct dia_avp *f;
	struct cx_rtr rtr;

	(void)state;
	T.raw = true;
	/* a UAR without User-Name: 5005 with an example of it */
	assert_int_equal(cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_UA, &rt),
			 0);
	assert_int_equal(
		dia_add_str(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3, HT_AU), 0);
	assert_int_equal(dia_add_str(&req->root,
				     DIA_AVP_VISITED_NETWORK_IDENTIFIER, V3,
				     HT_REALM),
			 0);
	a = ht_handle(&T, req);
	ht_expect(a, DIA_MISSING_AVP, 0);
	f = dia_avp_find(&a->root, DIA_AVP_FAILED_AVP, 0);
	assert_non_null(f);
	assert_non_null(dia_avp_find(f, DIA_AVP_USER_NAME, 0));
	mem_deref(a);

	/* an empty User-Name passes the grammar, not the HSS */
	assert_int_equal(cx_request_alloc(&req, DIA_APP_CX, DIA_CMD_UA, &rt),
			 0);
	assert_int_equal(dia_add_str(&req->root, DIA_AVP_USER_NAME, 0, ""), 0);
	assert_int_equal(
		dia_add_str(&req->root, DIA_AVP_PUBLIC_IDENTITY, V3, HT_AU), 0);
	assert_int_equal(dia_add_str(&req->root,
				     DIA_AVP_VISITED_NETWORK_IDENTIFIER, V3,
				     HT_REALM),
			 0);
	a = ht_handle(&T, req);
	ht_expect(a, DIA_INVALID_AVP_VALUE, 0);
	mem_deref(a);

	/* an RTR sent to the HSS: 3001 with the E bit */
	memset(&rtr, 0, sizeof(rtr));
	rtr.impi = cx_pl(HT_ALICE);
	rt.dest_host = cx_pl(HT_HSS);
	assert_int_equal(cx_rtr_encode(&req, &rt, &rtr), 0);
	a = ht_handle(&T, req);
	ht_expect(a, DIA_COMMAND_UNSUPPORTED, 0);
	assert_true(a->flags & DIA_FLAG_E);
	mem_deref(a);

	/* not a Cx/Sh request at all: the node's business */
	assert_int_equal(
		dia_msg_alloc(&req, DIA_CMD_DW, DIA_APP_COMMON, DIA_FLAG_R), 0);
	assert_int_equal(hss_handle(T.hss, req, &a), EINVAL);
	mem_deref(req);
}


/* ---- the codec both ways (the CSCF side of every command) ---- */

static void test_codec_roundtrip(void **state)
{
	struct cx_route rt = ht_route("scscf1.ims.test");
	struct cx_origin o = { cx_pl(HT_HSS), cx_pl(HT_REALM) };
	struct dia_msg *req = NULL, *ans = NULL, *w1, *w2;
	struct cx_auth_item items[2], got[2];
	struct cx_sar sar, sar2;
	struct cx_saa saa, saa2;
	struct cx_maa maa, maa2;
	struct cx_mar mar, mar2;
	struct cx_lia lia, lia2;
	struct cx_lir lir, lir2;
	static const uint8_t bytes[32] = { 1, 2, 3, 0, 5 };

	(void)state;
	rt.session_id = cx_pl("scscf1.ims.test;1;2");

	memset(&sar, 0, sizeof(sar));
	sar.impi = cx_pl(HT_ALICE);
	sar.impu[0] = cx_pl(HT_AU);
	sar.impu[1] = cx_pl(HT_ATEL);
	sar.impu_n = 2;
	sar.server_name = cx_pl(HT_SCSCF1);
	sar.sat = DIA_SAT_RE_REGISTRATION;
	sar.udaa = 1;
	sar.multiple_reg = 1;
	assert_int_equal(cx_sar_encode(&req, &rt, &sar), 0);
	w1 = ht_wire(req);
	assert_int_equal(cx_sar_decode(w1, &sar2), 0);
	assert_int_equal(sar2.impu_n, 2);
	expect_pl(&sar2.impu[1], HT_ATEL);
	assert_int_equal(sar2.sat, DIA_SAT_RE_REGISTRATION);
	assert_int_equal(sar2.udaa, 1);
	assert_int_equal(sar2.multiple_reg, 1);
	{
		struct pl sid;

		assert_int_equal(
			dia_get_pl(&w1->root, DIA_AVP_SESSION_ID, 0, &sid), 0);
		expect_pl(&sid, "scscf1.ims.test;1;2");
	}
	memset(&saa, 0, sizeof(saa));
	saa.res.code = DIA_SUCCESS;
	saa.impi = cx_pl(HT_ALICE);
	saa.user_data = cx_pl("<x/>");
	saa.has_charging = true;
	saa.charging.ecf_primary = cx_pl("aaa://ecf.ims.test");
	saa.assoc[0] = cx_pl(HT_TAB);
	saa.assoc_n = 1;
	assert_int_equal(cx_saa_encode(&ans, w1, &o, &saa), 0);
	w2 = ht_wire(ans);
	assert_int_equal(cx_saa_decode(w2, &saa2), 0);
	assert_int_equal(saa2.res.code, DIA_SUCCESS);
	expect_pl(&saa2.user_data, "<x/>");
	expect_pl(&saa2.charging.ecf_primary, "aaa://ecf.ims.test");
	expect_pl(&saa2.assoc[0], HT_TAB);
	assert_int_equal(w2->hbh, w1->hbh);
	mem_deref(w1);
	mem_deref(w2);
	req = mem_deref(req);
	ans = mem_deref(ans);

	memset(&lir, 0, sizeof(lir));
	lir.impu = cx_pl(HT_AU);
	lir.originating = true;
	lir.auth_type = DIA_UAT_REGISTRATION_AND_CAPABILITIES;
	assert_int_equal(cx_lir_encode(&req, &rt, &lir), 0);
	w1 = ht_wire(req);
	assert_int_equal(cx_lir_decode(w1, &lir2), 0);
	assert_true(lir2.originating);
	assert_int_equal(lir2.auth_type, DIA_UAT_REGISTRATION_AND_CAPABILITIES);
	memset(&lia, 0, sizeof(lia));
	lia.res.code = DIA_UNREGISTERED_SERVICE;
	lia.res.vendor = V3;
	lia.has_caps = true;
	lia.caps.mand[0] = 7;
	lia.caps.mand_n = 1;
	lia.caps.name[0] = cx_pl(HT_SCSCF2);
	lia.caps.name_n = 1;
	assert_int_equal(cx_lia_encode(&ans, w1, &o, &lia), 0);
	w2 = ht_wire(ans);
	assert_int_equal(cx_lia_decode(w2, &lia2), 0);
	assert_int_equal(lia2.res.code, DIA_UNREGISTERED_SERVICE);
	assert_int_equal(lia2.res.vendor, V3);
	assert_int_equal(lia2.caps.mand[0], 7);
	expect_pl(&lia2.caps.name[0], HT_SCSCF2);
	mem_deref(w1);
	mem_deref(w2);
	req = mem_deref(req);
	ans = mem_deref(ans);

	memset(&mar, 0, sizeof(mar));
	mar.impi = cx_pl(HT_ALICE);
	mar.impu = cx_pl(HT_AU);
	mar.server_name = cx_pl(HT_SCSCF1);
	mar.n_items = 2;
	mar.item.scheme = cx_pl("Digest-AKAv1-MD5");
	pl_set(&mar.item.authorization, (const char *)bytes, 30);
	assert_int_equal(cx_mar_encode(&req, &rt, &mar), 0);
	w1 = ht_wire(req);
	assert_int_equal(cx_mar_decode(w1, &mar2), 0);
	assert_int_equal(mar2.n_items, 2);
	assert_int_equal(mar2.item.authorization.l, 30);
	assert_memory_equal(mar2.item.authorization.p, bytes, 30);
	memset(items, 0, sizeof(items));
	memset(&maa, 0, sizeof(maa));
	maa.res.code = DIA_SUCCESS;
	items[0].item_number = 1;
	items[0].scheme = cx_pl("Digest-AKAv1-MD5");
	pl_set(&items[0].authenticate, (const char *)bytes, 32);
	items[1].item_number = 2;
	items[1].scheme = cx_pl("SIP Digest");
	items[1].has_digest = true;
	items[1].digest.realm = cx_pl(HT_REALM);
	items[1].digest.qop = cx_pl("auth");
	items[1].digest.ha1 = cx_pl("00");
	maa.item = items;
	maa.item_n = 2;
	assert_int_equal(cx_maa_encode(&ans, w1, &o, &maa), 0);
	w2 = ht_wire(ans);
	memset(&maa2, 0, sizeof(maa2));
	maa2.item = got;
	maa2.item_max = 1;
	assert_int_equal(cx_maa_decode(w2, &maa2), ENOSPC);
	maa2.item_max = 2;
	assert_int_equal(cx_maa_decode(w2, &maa2), 0);
	assert_int_equal(maa2.item_n, 2);
	assert_int_equal(got[0].authenticate.l, 32);
	assert_true(got[1].has_digest);
	expect_pl(&got[1].digest.ha1, "00");
	assert_false(pl_isset(&got[1].digest.algorithm));
	mem_deref(w1);
	mem_deref(w2);
	mem_deref(req);
	mem_deref(ans);

	/* builders refuse what the spec makes impossible */
	memset(&lir, 0, sizeof(lir));
	assert_int_equal(cx_lir_encode(&req, &rt, &lir), EINVAL);
	memset(&sar, 0, sizeof(sar));
	sar.server_name = cx_pl(HT_SCSCF1);
	assert_int_equal(cx_sar_encode(&req, &rt, &sar), EINVAL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uar_features, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mar_digest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mar_aka, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mar_resync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mar_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sar_register, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sar_deregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sar_unregistered_and_auth,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ppr_and_outbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec_roundtrip, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("hss_cx", tests, NULL, NULL);
}
