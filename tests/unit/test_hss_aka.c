/**
 * @file test_hss_aka.c  AKA on MILENAGE: vectors against TS 35.208 data,
 * SQN management (TS 33.102 annex C), resynchronisation with AUTS, the
 * USIM side, Digest-AKA nonces and passwords (RFC 3310, RFC 4169), and
 * the Cx layouts (TS 29.229 6.3.9, 6.3.10).
 *
 * Fixed Digest-AKA values: RFC 3310 and RFC 4169 publish no vectors that
 * come from real keys (the RFC 3310 section 4 nonce is illustrative), so
 * the expected nonce, AKAv2 password, HA1 and response below were
 * computed from TS 35.208 test set 1 (RAND, SQN, AMF, f1, f2, f3, f4, f5)
 * with Python 3's base64, hmac and hashlib modules, an implementation
 * independent of this code and of OpenSSL's base64:
 *
 *	AUTN = (SQN ^ AK) || AMF || MAC-A
 *	nonce = base64(RAND || AUTN)
 *	pw2 = base64(hmac.new(RES + IK + CK, b"http-digest-akav2-password",
 *			      hashlib.md5).digest())
 *	HA1 = md5(user ":" realm ":" pw), response per RFC 2617 qop=auth
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
#include "core/pl.h"
#include "hss/aka.h"
#include "hss/milenage.h"
#include "sip/auth.h"

/* TS 35.208 inputs and the outputs this file needs (f1, f2..f5, f5*) */
struct set {
	const char *k, *opc, *rand, *sqn, *amf;
	const char *f1, *f2, *f3, *f4, *f5, *f5s;
};

static const struct set sets[] = {
	/* TS 35.208 4.3.1 */
	{ "465b5ce8b199b49faa5f0a2ee238a6bc",
	  "cd63cb71954a9f4e48a5994e37a02baf",
	  "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607", "b9b9",
	  "4a9ffac354dfafb3", "a54211d5e3ba50bf",
	  "b40ba9a3c58b2a05bbf0d987b21bf8cb",
	  "f769bcd751044604127672711c6d3441", "aa689c648370", "451e8beca43b" },
	/* TS 35.208 4.3.3 */
	{ "fec86ba6eb707ed08905757b1bb44b8f",
	  "1006020f0a478bf6b699f15c062e42b3",
	  "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc", "725c",
	  "9cabc3e99baf7281", "8011c48c0c214ed2",
	  "5dbdbb2954e8f3cde665b046179a5098",
	  "59a92d3b476a0443487055cf88b2307b", "33484dc2136b", "deacdd848cc6" },
	/* TS 35.208 4.3.10 */
	{ "a0e2971b6822e8d354a18cc235624ecb",
	  "82a26f22bba9e9488f949a10d98e9cc4",
	  "08eff828b13fdb562722c65c7f30a9b2", "db5c066481e0", "716b",
	  "9485fe24621cb9f6", "4bc2212d8624910a",
	  "08cef6d004ec61471a3c3cda048137fa",
	  "ed0318ca5deb9206272f6e8fa64ba411", "a2f858aa9e5d", "74e76fbbec38" },
	/* TS 35.208 4.3.20 */
	{ "90dca4eda45b53cf0f12d7c9c3bc6a89",
	  "cb9cccc4b9258e6dca4760379fb82581",
	  "9fddc72092c6ad036b6e464789315b78", "20f813bd4141", "61df",
	  "09db94eab4f8149e", "a95100e2760952cd",
	  "b5f2da03883b69f96bf52e029ed9ac45",
	  "b4721368bc16ea67875c5598688bb0ef", "83cfd54db913", "4f2039392ddc" },
};

#define NSETS (sizeof(sets) / sizeof(sets[0]))

/* SQN = SEQ || IND */
#define SQN(seq, ind) ((((uint64_t)(seq)) << AKA_IND_BITS) | (ind))

static const uint8_t amf_ims[2] = { 0x80, 0x00 };


static void hex2bin(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		const int hi = pl_hexval(hex[2 * i]);
		const int lo = pl_hexval(hex[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(((unsigned)hi << 4) | (unsigned)lo);
	}
}


static void expect_hex(const uint8_t *got, const char *hex, size_t n)
{
	uint8_t want[16];

	hex2bin(hex, want, n);
	assert_memory_equal(got, want, n);
}


static struct pl P(const char *s) {
	struct pl pl;

	pl_set_str(&pl, s);
	return pl;
}


/* A context keyed with set i's K and OPc. */
static struct milenage *
keyed(size_t i)
{
	struct milenage *m = NULL;
	uint8_t k[16], opc[16];

	hex2bin(sets[i].k, k, 16);
	hex2bin(sets[i].opc, opc, 16);
	assert_int_equal(milenage_alloc(&m), 0);
	assert_int_equal(milenage_key(m, k, opc), 0);
	return m;
}


/* USIM state whose highest accepted SQN is sqn. */
static void ue_at(struct aka_ue_sqn *st, uint64_t sqn)
{
	memset(st, 0, sizeof(*st));
	st->seq[aka_sqn_ind(sqn)] = aka_sqn_seq(sqn);
	assert_int_equal(aka_ue_sqn_ms(st), sqn);
}


/* TS 33.102 6.3.2 vector from the TS 35.208 data: every part of AUTN,
 * XRES, CK, IK; then the USIM side accepts it and derives the same RES,
 * CK, IK and SQN. */
static void test_vector_ts35208(void **state)
{
	(void)state;

	for (size_t i = 0; i < NSETS; i++) {
		struct milenage *m = keyed(i);
		uint8_t rand[16], sqnb[6], amf[2], ak[6], conc[6];
		struct aka_vector av;
		struct aka_ue_sqn st;
		struct aka_ue_result r;
		uint64_t sqn;

		hex2bin(sets[i].rand, rand, 16);
		hex2bin(sets[i].sqn, sqnb, 6);
		hex2bin(sets[i].amf, amf, 2);
		hex2bin(sets[i].f5, ak, 6);
		sqn = aka_sqn_from_bytes(sqnb);

		assert_int_equal(aka_vector_make(m, amf, rand, sqn, &av), 0);
		for (size_t j = 0; j < 6; j++)
			conc[j] = sqnb[j] ^ ak[j];
		assert_memory_equal(av.autn, conc, 6);
		assert_memory_equal(av.autn + 6, amf, 2);
		expect_hex(av.autn + 8, sets[i].f1, 8);
		expect_hex(av.xres, sets[i].f2, 8);
		expect_hex(av.ck, sets[i].f3, 16);
		expect_hex(av.ik, sets[i].f4, 16);
		assert_memory_equal(av.rand, rand, 16);
		assert_true(av.sqn == sqn);

		/* a USIM one step behind accepts it */
		ue_at(&st, ((aka_sqn_seq(sqn) - 1) << AKA_IND_BITS) |
				   ((aka_sqn_ind(sqn) + 1) % AKA_IND_NUM));
		assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
		assert_int_equal(r.verdict, AKA_UE_OK);
		assert_true(r.sqn == sqn);
		assert_memory_equal(r.amf, amf, 2);
		assert_memory_equal(r.res, av.xres, 8);
		assert_memory_equal(r.ck, av.ck, 16);
		assert_memory_equal(r.ik, av.ik, 16);
		assert_true(st.seq[aka_sqn_ind(sqn)] == aka_sqn_seq(sqn));

		mem_deref(m);
	}
}


/* A forged or corrupted AUTN (any bit of SQN^AK, AMF or MAC-A) fails
 * MAC-A at the USIM: EACCES and no state change. */
static void test_ue_mac_failure(void **state)
{
	struct milenage *m = keyed(0);
	struct aka_vector av;
	struct aka_ue_sqn st, before;
	struct aka_ue_result r;
	uint8_t rand[16];

	(void)state;
	hex2bin(sets[0].rand, rand, 16);
	assert_int_equal(aka_vector_make(m, amf_ims, rand, 0x21, &av), 0);
	memset(&st, 0, sizeof(st));
	before = st;

	for (size_t bit = 0; bit < 8 * (size_t)AKA_AUTN_LEN; bit++) {
		uint8_t autn[16];

		memcpy(autn, av.autn, sizeof(autn));
		autn[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		assert_int_equal(aka_ue_check(m, &st, av.rand, autn, &r),
				 EACCES);
		assert_memory_equal(&st, &before, sizeof(st));
	}

	/* the right AUTN with another RAND fails too */
	rand[0] ^= 1;
	assert_int_equal(aka_ue_check(m, &st, rand, av.autn, &r), EACCES);

	/* and the genuine one passes */
	assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);
	mem_deref(m);
}


/* TS 33.102 C.1.1.2 / C.1.2 as chosen here: SEQ + 1, IND cycles. */
static void test_sqn_next(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(aka_sqn_next(0, &n), 0);
	assert_true(n == ((1u << AKA_IND_BITS) | 1));

	/* IND wraps from 31 to 0 while SEQ keeps growing */
	assert_int_equal(aka_sqn_next((7u << AKA_IND_BITS) | 31, &n), 0);
	assert_true(aka_sqn_seq(n) == 8 && aka_sqn_ind(n) == 0);

	/* 32 steps: every IND once, SEQ + 32 */
	n = (100u << AKA_IND_BITS) | 5;
	for (int i = 0; i < 32; i++)
		assert_int_equal(aka_sqn_next(n, &n), 0);
	assert_true(aka_sqn_seq(n) == 132 && aka_sqn_ind(n) == 5);

	/* the end of SEQ is refused, not wrapped */
	assert_int_equal(aka_sqn_next(AKA_SQN_MAX, &n), ERANGE);
	assert_int_equal(aka_sqn_next(((AKA_SEQ_MAX - 1) << AKA_IND_BITS), &n),
			 0);
	assert_true(aka_sqn_seq(n) == AKA_SEQ_MAX);
	assert_int_equal(aka_sqn_next(AKA_SQN_MAX + 1, &n), EINVAL);
	assert_int_equal(aka_sqn_next(0, NULL), EINVAL);

	/* byte order: most significant first */
	{
		uint8_t b[6];

		aka_sqn_to_bytes(UINT64_C(0xff9bb4d0b607), b);
		expect_hex(b, "ff9bb4d0b607", 6);
		assert_true(aka_sqn_from_bytes(b) == UINT64_C(0xff9bb4d0b607));
	}
}


/* A batch: fresh RANDs, consecutive SQNs, the state out is the last SQN,
 * and a USIM accepts the vectors in order and (within L) out of order,
 * but never the same one twice. */
static void test_generate_batch(void **state)
{
	struct milenage *m = keyed(1);
	struct aka_vector av[5];
	struct aka_ue_sqn st;
	struct aka_ue_result r;
	uint64_t sqn_he = (41u << AKA_IND_BITS) | 30, out = 0, sqn;

	(void)state;
	assert_int_equal(aka_vectors_generate(m, amf_ims, sqn_he, av, 5, &out),
			 0);

	sqn = sqn_he;
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(aka_sqn_next(sqn, &sqn), 0);
		assert_true(av[i].sqn == sqn);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(av[i].rand, av[j].rand, 16);
	}
	assert_true(out == av[4].sqn);
	assert_true(aka_sqn_ind(av[1].sqn) == 0); /* 31, 0, 1, 2, 3 */

	/* a USIM that last saw sqn_he: vector 2 first, then 0, 1, 3, 4 */
	ue_at(&st, sqn_he);
	assert_int_equal(aka_ue_check(m, &st, av[2].rand, av[2].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);
	assert_memory_equal(r.res, av[2].xres, 8);
	assert_int_equal(aka_ue_check(m, &st, av[0].rand, av[0].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);
	assert_int_equal(aka_ue_check(m, &st, av[1].rand, av[1].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);

	/* a replay is a synchronisation failure with AUTS of the highest */
	assert_int_equal(aka_ue_check(m, &st, av[0].rand, av[0].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_SYNC_FAILURE);
	assert_true(aka_ue_sqn_ms(&st) == av[2].sqn);

	assert_int_equal(aka_ue_check(m, &st, av[3].rand, av[3].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);
	assert_int_equal(aka_ue_check(m, &st, av[4].rand, av[4].autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);

	/* bounds: no vectors, too many, exhausted SEQ (state untouched) */
	out = 77;
	assert_int_equal(aka_vectors_generate(m, amf_ims, 0, av, 0, &out),
			 EINVAL);
	{
		struct aka_vector big[AKA_VECTORS_MAX + 1];

		assert_int_equal(aka_vectors_generate(m, amf_ims, 0, big,
						      AKA_VECTORS_MAX + 1,
						      &out),
				 EINVAL);
	}
	assert_int_equal(
		aka_vectors_generate(m, amf_ims,
				     ((AKA_SEQ_MAX - 1) << AKA_IND_BITS), av, 2,
				     &out),
		ERANGE);
	assert_true(out == 77);
	mem_deref(m);
}


/* The USIM's window (TS 33.102 C.2.2): at most DELTA ahead, less than L
 * behind the highest accepted SEQ. */
static void test_ue_window(void **state)
{
	struct milenage *m = keyed(2);
	struct aka_vector av;
	struct aka_ue_sqn st;
	struct aka_ue_result r;
	uint8_t rand[16];
	const uint64_t base = 5000;

	(void)state;
	hex2bin(sets[2].rand, rand, 16);

	/* DELTA ahead: accepted; DELTA + 1 ahead: refused */
	ue_at(&st, base << AKA_IND_BITS);
	assert_int_equal(aka_vector_make(m, amf_ims, rand,
					 SQN(base + AKA_UE_DELTA, 3), &av),
			 0);
	assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);

	ue_at(&st, base << AKA_IND_BITS);
	assert_int_equal(aka_vector_make(m, amf_ims, rand,
					 SQN(base + AKA_UE_DELTA + 1, 3), &av),
			 0);
	assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_SYNC_FAILURE);
	assert_true(aka_ue_sqn_ms(&st) == base << AKA_IND_BITS);

	/* L - 1 behind on a fresh IND: accepted; L behind: refused */
	ue_at(&st, base << AKA_IND_BITS);
	assert_int_equal(aka_vector_make(m, amf_ims, rand,
					 SQN(base - AKA_UE_L + 1, 9), &av),
			 0);
	assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_OK);

	ue_at(&st, base << AKA_IND_BITS);
	assert_int_equal(
		aka_vector_make(m, amf_ims, rand, SQN(base - AKA_UE_L, 9), &av),
		0);
	assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
	assert_int_equal(r.verdict, AKA_UE_SYNC_FAILURE);
	mem_deref(m);
}


/* The whole resynchronisation (TS 33.102 6.3.3, 6.3.5): the USIM is
 * ahead of the HSS, refuses, sends AUTS; the HSS opens it, restarts from
 * SQN_MS, and the next vector is accepted.  AUTS's concealed SQN is
 * checked against f5* of the TS 35.208 set. */
static void test_resync_flow(void **state)
{
	(void)state;

	for (size_t i = 0; i < NSETS; i++) {
		struct milenage *m = keyed(i);
		uint8_t rand[16], sqnb[6], aks[6], cx[AKA_CX_RESYNC_LEN];
		uint8_t rand2[16], auts2[14], mac_s[8];
		static const uint8_t amf0[2] = { 0, 0 };
		uint64_t sqn_ms_ue, sqn_he = (3u << AKA_IND_BITS) | 7;
		uint64_t sqn_he_new = 0, sqn_ms = 0;
		struct aka_vector av, av2;
		struct aka_ue_sqn st;
		struct aka_ue_result r;

		hex2bin(sets[i].rand, rand, 16);
		hex2bin(sets[i].sqn, sqnb, 6);
		hex2bin(sets[i].f5s, aks, 6);
		sqn_ms_ue = aka_sqn_from_bytes(sqnb);

		/* the USIM last accepted the set's SQN; the HSS is far behind
		 */
		ue_at(&st, sqn_ms_ue);
		assert_int_equal(aka_vector_make(m, amf_ims, rand,
						 (4u << AKA_IND_BITS) | 8, &av),
				 0);
		assert_int_equal(aka_ue_check(m, &st, av.rand, av.autn, &r), 0);
		assert_int_equal(r.verdict, AKA_UE_SYNC_FAILURE);
		for (size_t j = 0; j < 6; j++)
			assert_int_equal(r.auts[j], sqnb[j] ^ aks[j]);
		/* MAC-S = f1*(SQN_MS || RAND || AMF) with the dummy AMF 0x0000
		 * of TS 33.102 6.3.3, from the f1* checked against the specs */
		assert_int_equal(
			milenage_f1(m, av.rand, sqnb, amf0, NULL, mac_s), 0);
		assert_memory_equal(r.auts + 6, mac_s, 8);

		/* through Cx: SIP-Authorization = RAND || AUTS */
		aka_cx_resync_encode(cx, av.rand, r.auts);
		assert_int_equal(
			aka_cx_resync_decode(cx, sizeof(cx), rand2, auts2), 0);

		assert_int_equal(aka_resync(m, rand2, auts2, sqn_he,
					    &sqn_he_new, &sqn_ms),
				 0);
		assert_true(sqn_ms == sqn_ms_ue);
		assert_true(aka_sqn_seq(sqn_he_new) == aka_sqn_seq(sqn_ms_ue));
		assert_true(aka_sqn_ind(sqn_he_new) == aka_sqn_ind(sqn_he));

		/* the next vector from the new state is accepted */
		assert_int_equal(aka_vectors_generate(m, amf_ims, sqn_he_new,
						      &av2, 1, &sqn_he),
				 0);
		assert_int_equal(aka_ue_check(m, &st, av2.rand, av2.autn, &r),
				 0);
		assert_int_equal(r.verdict, AKA_UE_OK);
		assert_memory_equal(r.res, av2.xres, 8);
		mem_deref(m);
	}
}


/* MAC-S protects the resynchronisation: a flipped bit anywhere in AUTS,
 * another RAND or another key is EACCES and the state is not written. */
static void test_resync_bad_mac(void **state)
{
	struct milenage *m = keyed(0), *other = keyed(1);
	uint8_t rand[16], auts[14];
	uint64_t out = 12345, ms = 0;

	(void)state;
	hex2bin(sets[0].rand, rand, 16);
	assert_int_equal(aka_ue_auts(m, rand, (900u << AKA_IND_BITS) | 4, auts),
			 0);

	for (size_t bit = 0; bit < 8 * (size_t)AKA_AUTS_LEN; bit++) {
		uint8_t bad[14];

		memcpy(bad, auts, sizeof(bad));
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(aka_resync(m, rand, bad, 0, &out, &ms),
				 EACCES);
		assert_true(out == 12345);
	}

	assert_int_equal(aka_resync(other, rand, auts, 0, &out, &ms), EACCES);
	rand[15] ^= 0x40;
	assert_int_equal(aka_resync(m, rand, auts, 0, &out, &ms), EACCES);
	rand[15] ^= 0x40;
	assert_true(out == 12345);

	assert_int_equal(aka_resync(m, rand, auts, 0, &out, &ms), 0);
	assert_true(ms == ((900u << AKA_IND_BITS) | 4));
	assert_int_equal(aka_resync(m, rand, auts, AKA_SQN_MAX + 1, &out, &ms),
			 EINVAL);
	mem_deref(other);
	mem_deref(m);
}


/* SQN_HE is kept when its next vector would already be accepted, and
 * reset to SEQ_MS when it is behind or further ahead than DELTA. */
static void test_resync_decisions(void **state)
{
	struct milenage *m = keyed(3);
	uint8_t rand[16], auts[14];
	const uint64_t sqn_ms = (1000u << AKA_IND_BITS) | 2;
	uint64_t out = 0;

	(void)state;
	hex2bin(sets[3].rand, rand, 16);
	assert_int_equal(aka_ue_auts(m, rand, sqn_ms, auts), 0);

	/* HSS ahead within DELTA: unchanged */
	assert_int_equal(aka_resync(m, rand, auts, (1005u << AKA_IND_BITS) | 9,
				    &out, NULL),
			 0);
	assert_true(out == ((1005u << AKA_IND_BITS) | 9));

	/* HSS equal: SEQ_HE + 1 > SEQ_MS, unchanged */
	assert_int_equal(aka_resync(m, rand, auts, (1000u << AKA_IND_BITS) | 9,
				    &out, NULL),
			 0);
	assert_true(out == ((1000u << AKA_IND_BITS) | 9));

	/* HSS behind: SEQ_HE = SEQ_MS, IND_HE kept */
	assert_int_equal(aka_resync(m, rand, auts, (10u << AKA_IND_BITS) | 9,
				    &out, NULL),
			 0);
	assert_true(out == ((1000u << AKA_IND_BITS) | 9));

	/* HSS ahead so far that its next SEQ would lead SEQ_MS by more than
	 * DELTA (a runaway counter): back to SEQ_MS */
	assert_int_equal(
		aka_resync(m, rand, auts,
			   ((1000u + AKA_UE_DELTA - 1) << AKA_IND_BITS), &out,
			   NULL),
		0);
	assert_true(out == ((1000u + AKA_UE_DELTA - 1) << AKA_IND_BITS));
	assert_int_equal(aka_resync(m, rand, auts,
				    ((1000u + AKA_UE_DELTA) << AKA_IND_BITS),
				    &out, NULL),
			 0);
	assert_true(out == (1000u << AKA_IND_BITS));
	mem_deref(m);
}


/* Fixed Digest-AKA values from TS 35.208 set 1 (see the file comment for
 * how they were computed). */
static void test_digest_fixed(void **state)
{
	static const char nonce_want[] =
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
	static const char nonce_sd_want[] =
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7NlbnRpbXMtc2Q=";
	struct milenage *m = keyed(0);
	struct pl user = P("alice@ims.example.org");
	struct pl realm = P("ims.example.org");
	struct pl nc = P("00000001"), cnonce = P("0a4f113b"), qop = P("auth");
	struct pl met = P("REGISTER"), uri = P("sip:ims.example.org");
	struct pl nonce;
	char buf[AKA_NONCE_SIZE], ha1[AKA_HA1_HEX_LEN], resp[65];
	uint8_t rand[16], sqnb[6], amf[2], pw[AKA_PASSWORD_MAX];
	struct aka_vector av;
	size_t pwlen = 0;

	(void)state;
	hex2bin(sets[0].rand, rand, 16);
	hex2bin(sets[0].sqn, sqnb, 6);
	hex2bin(sets[0].amf, amf, 2);
	assert_int_equal(
		aka_vector_make(m, amf, rand, aka_sqn_from_bytes(sqnb), &av),
		0);
	expect_hex(av.autn, "55f328b43577b9b94a9ffac354dfafb3", 16);

	assert_int_equal(
		aka_nonce_encode(buf, sizeof(buf), av.rand, av.autn, NULL, 0),
		0);
	assert_string_equal(buf, nonce_want);
	assert_int_equal(aka_nonce_encode(buf, sizeof(buf), av.rand, av.autn,
					  (const uint8_t *)"entims-sd", 9),
			 0);
	assert_string_equal(buf, nonce_sd_want);

	/* AKAv1: password = XRES, raw */
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5, av.xres, 8,
					     NULL, NULL, pw, &pwlen),
			 0);
	assert_int_equal(pwlen, 8);
	expect_hex(pw, "a54211d5e3ba50bf", 8);
	assert_int_equal(aka_digest_ha1(&user, &realm, pw, pwlen, ha1), 0);
	assert_string_equal(ha1, "56052326b612997df8036a26c4f9bfd3");
	nonce = P(nonce_want);
	assert_int_equal(auth_response(AUTH_ALG_MD5, ha1, &nonce, &nc, &cnonce,
				       &qop, &met, &uri, resp, sizeof(resp)),
			 0);
	assert_string_equal(resp, "0d3075ebcd81e6c41100fdb8a166a40e");

	/* AKAv2: password = base64(HMAC-MD5(XRES || IK || CK, label)) */
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV2_MD5, av.xres, 8,
					     av.ck, av.ik, pw, &pwlen),
			 0);
	assert_int_equal(pwlen, 24);
	assert_memory_equal(pw, "shzt3q8CWaZnCAWqs3WmEQ==", 24);
	assert_int_equal(aka_digest_ha1(&user, &realm, pw, pwlen, ha1), 0);
	assert_string_equal(ha1, "7ac0c2976629189ea930a8289f0a1420");
	assert_int_equal(auth_response(AUTH_ALG_MD5, ha1, &nonce, &nc, &cnonce,
				       &qop, &met, &uri, resp, sizeof(resp)),
			 0);
	assert_string_equal(resp, "32d5e44c1b4d64029dc7a34f17f6f692");

	/* CK and IK swapped give another password: the order matters */
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV2_MD5, av.xres, 8,
					     av.ik, av.ck, pw, &pwlen),
			 0);
	assert_memory_not_equal(pw, "shzt3q8CWaZnCAWqs3WmEQ==", 24);
	mem_deref(m);
}


/* HSS and UE meet through the nonce: the UE decodes RAND and AUTN from
 * it, runs the USIM side, and both ends derive the same password and
 * HA1 for both algorithms. */
static void test_digest_roundtrip(void **state)
{
	struct milenage *hss = keyed(2), *ue = keyed(2);
	struct pl user = P("sip:bob@ims.example.org"), realm = P("ims");
	struct aka_vector av[3];
	struct aka_ue_sqn st;
	struct aka_ue_result r;
	uint64_t sqn_he = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(aka_vectors_generate(hss, amf_ims, 0, av, 3, &sqn_he),
			 0);

	for (size_t i = 0; i < 3; i++) {
		char nonce[AKA_NONCE_SIZE];
		uint8_t rand[16], autn[16], sd[AKA_NONCE_SDATA_MAX];
		size_t sdlen = 99;
		struct pl npl;

		assert_int_equal(aka_nonce_encode(nonce, sizeof(nonce),
						  av[i].rand, av[i].autn,
						  (const uint8_t *)"x", 1),
				 0);
		npl = P(nonce);
		assert_int_equal(aka_nonce_decode(&npl, rand, autn, sd,
						  sizeof(sd), &sdlen),
				 0);
		assert_int_equal(sdlen, 1);
		assert_int_equal(sd[0], 'x');
		assert_int_equal(aka_ue_check(ue, &st, rand, autn, &r), 0);
		assert_int_equal(r.verdict, AKA_UE_OK);

		for (int v = AKA_DIGEST_AKAV1_MD5; v <= AKA_DIGEST_AKAV2_MD5;
		     v++) {
			uint8_t pw_s[AKA_PASSWORD_MAX], pw_c[AKA_PASSWORD_MAX];
			size_t ls = 0, lc = 0;
			char h_s[AKA_HA1_HEX_LEN], h_c[AKA_HA1_HEX_LEN];

			assert_int_equal(
				aka_digest_password((enum aka_digest_alg)v,
						    av[i].xres, 8, av[i].ck,
						    av[i].ik, pw_s, &ls),
				0);
			assert_int_equal(aka_digest_password(
						 (enum aka_digest_alg)v, r.res,
						 8, r.ck, r.ik, pw_c, &lc),
					 0);
			assert_int_equal(ls, lc);
			assert_memory_equal(pw_s, pw_c, ls);
			assert_int_equal(
				aka_digest_ha1(&user, &realm, pw_s, ls, h_s),
				0);
			assert_int_equal(
				aka_digest_ha1(&user, &realm, pw_c, lc, h_c),
				0);
			assert_string_equal(h_s, h_c);
		}
	}

	/* a wrong RES (another subscriber's) gives another HA1 */
	{
		struct milenage *mallory = keyed(3);
		uint8_t pw[AKA_PASSWORD_MAX];
		size_t l = 0;
		char h1[AKA_HA1_HEX_LEN], h2[AKA_HA1_HEX_LEN];
		struct aka_vector mv;

		assert_int_equal(aka_vector_make(mallory, amf_ims, av[0].rand,
						 av[0].sqn, &mv),
				 0);
		assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5,
						     mv.xres, 8, NULL, NULL, pw,
						     &l),
				 0);
		assert_int_equal(aka_digest_ha1(&user, &realm, pw, l, h1), 0);
		assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5,
						     av[0].xres, 8, NULL, NULL,
						     pw, &l),
				 0);
		assert_int_equal(aka_digest_ha1(&user, &realm, pw, l, h2), 0);
		assert_string_not_equal(h1, h2);
		mem_deref(mallory);
	}

	mem_deref(ue);
	mem_deref(hss);
}


/* Nonce parsing never reads past its input and says why it refuses. */
static void test_nonce_decode(void **state)
{
	static const char good[] =
		"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=";
	uint8_t rand[16], autn[16], sd[4];
	size_t sdlen = 7;
	struct pl pl;
	char quoted[80], longer[200];

	(void)state;
	pl = P(good);
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, &sdlen), 0);
	assert_int_equal(sdlen, 0);
	expect_hex(rand, sets[0].rand, 16);
	expect_hex(autn, "55f328b43577b9b94a9ffac354dfafb3", 16);

	/* quoted, as the header carries it */
	(void)snprintf(quoted, sizeof(quoted), "\"%s\"", good);
	pl = P(quoted);
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL), 0);
	expect_hex(rand, sets[0].rand, 16);

	/* without padding */
	pl.p = good;
	pl.l = sizeof(good) - 2;
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL), 0);
	expect_hex(autn, "55f328b43577b9b94a9ffac354dfafb3", 16);

	/* a view that stops early is not read beyond: 31 octets */
	pl.l = 40;
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);

	/* not base64 */
	pl = P("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M!");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);
	pl = P("I1U8vpY3qJ0hiuZN rke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);
	/* padding in the middle or a lone last character */
	pl = P("I1U8=pY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);
	pl = P("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7MA");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL), 0);
	pl = P("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7MAAAAAB");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);
	/* RFC 3310 section 4's illustrative nonce is not valid base64 */
	pl = P("CjPk9mRqNuT25eRkajM09uTl9nM09uTl9nMz5OX25PZz==");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);

	/* too short for RAND || AUTN; empty */
	pl = P("AAAA");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);
	pl = P("");
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);

	/* server data larger than the caller's buffer */
	pl = P("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7NlbnRpbXMtc2Q=");
	assert_int_equal(
		aka_nonce_decode(&pl, rand, autn, sd, sizeof(sd), &sdlen),
		ENOSPC);

	/* more server data than any nonce of ours carries */
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	pl = P(longer);
	assert_int_equal(aka_nonce_decode(&pl, rand, autn, NULL, 0, NULL),
			 EBADMSG);

	/* encoding limits */
	assert_int_equal(aka_nonce_encode(quoted, 44, rand, autn, NULL, 0),
			 ENOSPC);
	assert_int_equal(aka_nonce_encode(quoted, 45, rand, autn, NULL, 0), 0);
	assert_int_equal(aka_nonce_encode(longer, sizeof(longer), rand, autn,
					  sd, AKA_NONCE_SDATA_MAX + 1),
			 EINVAL);
}


/* The "auts" parameter (RFC 3310 3.4): base64 of exactly 14 octets. */
static void test_auts_param(void **state)
{
	struct milenage *m = keyed(0);
	uint8_t rand[16], auts[14], back[14];
	char txt[AKA_AUTS_B64_SIZE], quoted[32];
	struct pl pl;

	(void)state;
	hex2bin(sets[0].rand, rand, 16);
	assert_int_equal(aka_ue_auts(m, rand, 0x1234567, auts), 0);
	assert_int_equal(aka_auts_encode(txt, sizeof(txt), auts), 0);
	assert_int_equal(strlen(txt), 20);

	pl = P(txt);
	assert_int_equal(aka_auts_decode(&pl, back), 0);
	assert_memory_equal(auts, back, 14);

	(void)snprintf(quoted, sizeof(quoted), "\"%s\"", txt);
	pl = P(quoted);
	memset(back, 0, sizeof(back));
	assert_int_equal(aka_auts_decode(&pl, back), 0);
	assert_memory_equal(auts, back, 14);

	/* 13 or 15 octets, garbage, a lone quote */
	pl = P("AAAAAAAAAAAAAAAAAA==");
	assert_int_equal(aka_auts_decode(&pl, back), EBADMSG);
	pl = P("AAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(aka_auts_decode(&pl, back), EBADMSG);
	pl = P("AAAAAAAAAAAAAAAAAA*=");
	assert_int_equal(aka_auts_decode(&pl, back), EBADMSG);
	pl = P("\"");
	assert_int_equal(aka_auts_decode(&pl, back), EBADMSG);
	assert_int_equal(aka_auts_encode(txt, 20, auts), ENOSPC);
	mem_deref(m);
}


/* TS 29.229 6.3.9 / 6.3.10 octet layouts. */
static void test_cx_layouts(void **state)
{
	struct milenage *m = keyed(1);
	uint8_t rand[16], autn[16], xres[8], auts[14], buf[40];
	struct aka_vector av;

	(void)state;
	hex2bin(sets[1].rand, rand, 16);
	assert_int_equal(aka_vector_make(m, amf_ims, rand, 0x41, &av), 0);

	aka_cx_authenticate_encode(buf, &av);
	assert_memory_equal(buf, av.rand, 16);
	assert_memory_equal(buf + 16, av.autn, 16);
	assert_int_equal(aka_cx_authenticate_decode(buf, 32, rand, autn), 0);
	assert_memory_equal(rand, av.rand, 16);
	assert_memory_equal(autn, av.autn, 16);
	assert_int_equal(aka_cx_authenticate_decode(buf, 31, rand, autn),
			 EBADMSG);
	assert_int_equal(aka_cx_authenticate_decode(buf, 33, rand, autn),
			 EBADMSG);

	aka_cx_authorization_encode(xres, &av);
	expect_hex(xres, sets[1].f2, 8);

	memset(auts, 0xa5, sizeof(auts));
	aka_cx_resync_encode(buf, av.rand, auts);
	assert_int_equal(aka_cx_resync_decode(buf, 30, rand, autn), 0);
	assert_memory_equal(rand, av.rand, 16);
	assert_memory_equal(autn, auts, 14);
	assert_int_equal(aka_cx_resync_decode(buf, 29, rand, autn), EBADMSG);
	assert_int_equal(aka_cx_resync_decode(buf, 32, rand, autn), EBADMSG);
	assert_int_equal(aka_cx_resync_decode(NULL, 30, rand, autn), EINVAL);
	mem_deref(m);
}


static void test_alg_names(void **state)
{
	enum aka_digest_alg alg = 0;
	struct pl pl;
	uint8_t pw[AKA_PASSWORD_MAX], res[8] = { 0 };
	size_t l;

	(void)state;
	pl = P("AKAv1-MD5");
	assert_int_equal(aka_digest_alg_of(&pl, &alg), 0);
	assert_int_equal(alg, AKA_DIGEST_AKAV1_MD5);
	pl = P("akav2-md5");
	assert_int_equal(aka_digest_alg_of(&pl, &alg), 0);
	assert_int_equal(alg, AKA_DIGEST_AKAV2_MD5);
	pl = P("MD5");
	assert_int_equal(aka_digest_alg_of(&pl, &alg), ENOTSUP);
	pl = P("AKAv1-MD5-sess");
	assert_int_equal(aka_digest_alg_of(&pl, &alg), ENOTSUP);
	assert_string_equal(aka_digest_alg_name(AKA_DIGEST_AKAV1_MD5),
			    "AKAv1-MD5");
	assert_string_equal(aka_digest_alg_name(AKA_DIGEST_AKAV2_MD5),
			    "AKAv2-MD5");

	/* RES length bounds (TS 33.102 6.3.7: 32..128 bits), AKAv2 keys */
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5, res, 3, NULL,
					     NULL, pw, &l),
			 EINVAL);
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV1_MD5, res, 17,
					     NULL, NULL, pw, &l),
			 EINVAL);
	assert_int_equal(aka_digest_password(AKA_DIGEST_AKAV2_MD5, res, 8, NULL,
					     NULL, pw, &l),
			 EINVAL);
	assert_int_equal(aka_digest_password((enum aka_digest_alg)9, res, 8,
					     NULL, NULL, pw, &l),
			 EINVAL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vector_ts35208, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_ue_mac_failure, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_sqn_next, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_generate_batch, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_ue_window, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_resync_flow, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_resync_bad_mac, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_resync_decisions, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_digest_fixed, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_digest_roundtrip, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_nonce_decode, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_auts_param, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cx_layouts, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_alg_names, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("hss_aka", tests, NULL, NULL);
}
