/**
 * @file aka.h  3GPP AKA for IMS: authentication vectors and SQN
 * management on the HSS side (TS 33.102 6.3 and annex C), the USIM/ISIM
 * side for our own clients and tests, Digest-AKA (RFC 3310 AKAv1-MD5,
 * RFC 4169 AKAv2-MD5) and the Cx byte layouts (TS 29.229 6.3.9, 6.3.10).
 *
 * Every function is pure with respect to the subscriber state: the HSS
 * passes the 48-bit SQN it stores for the IMPI in, and gets the value to
 * store back out; nothing here touches the store.  The only hidden input
 * is RAND, drawn from OpenSSL's RAND_bytes() by aka_vectors_generate();
 * aka_vector_make() takes RAND from the caller for reproducible tests.
 *
 * SQN = SEQ (43 bits) || IND (5 bits), TS 33.102 C.1.1 and C.3.2: SEQ
 * grows by one for every vector, IND cycles through 0..31.  See
 * docs/internals/aka.md for why.
 */
#ifndef IMS_HSS_AKA_H
#define IMS_HSS_AKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct milenage;

#define AKA_RAND_LEN 16
#define AKA_AUTN_LEN 16 /* SQN xor AK (6) || AMF (2) || MAC-A (8) */
#define AKA_AUTS_LEN 14 /* SQN_MS xor AK* (6) || MAC-S (8) */
#define AKA_RES_LEN  8  /* MILENAGE f2 */
#define AKA_KEY_LEN  16 /* CK, IK */
#define AKA_AMF_LEN  2
#define AKA_SQN_LEN  6

/* TS 33.102 C.1.1 / C.3.2: IND is 5 bits, SEQ the remaining 43. */
#define AKA_IND_BITS 5
#define AKA_IND_NUM  (1u << AKA_IND_BITS)
#define AKA_SQN_MAX  ((UINT64_C(1) << 48) - 1)
#define AKA_SEQ_MAX  (AKA_SQN_MAX >> AKA_IND_BITS)

/* USIM-side acceptance window (TS 33.102 C.2.2, the C.3 profile values):
 * a fresh SEQ may lead the highest accepted one by at most DELTA, and an
 * out-of-order SEQ may lag it by less than L. */
#define AKA_UE_DELTA (UINT64_C(1) << 28)
#define AKA_UE_L     32

/* At most this many vectors per request (a Cx MAR asks for
 * SIP-Number-Auth-Items; more than this is refused, not truncated). */
#define AKA_VECTORS_MAX 32

/* TS 29.229 6.3.9 / 6.3.10 layouts */
#define AKA_CX_AUTHENTICATE_LEN (AKA_RAND_LEN + AKA_AUTN_LEN) /* 32 */
#define AKA_CX_RESYNC_LEN       (AKA_RAND_LEN + AKA_AUTS_LEN) /* 30 */

/* One authentication vector, TS 33.102 6.3.2 (the quintet). */
struct aka_vector {
	uint8_t rand[AKA_RAND_LEN];
	uint8_t autn[AKA_AUTN_LEN];
	uint8_t xres[AKA_RES_LEN];
	uint8_t ck[AKA_KEY_LEN];
	uint8_t ik[AKA_KEY_LEN];
	uint64_t sqn; /* the SQN inside AUTN (for logs and tests) */
};

static inline uint64_t aka_sqn_seq(uint64_t sqn)
{
	return sqn >> AKA_IND_BITS;
}

static inline unsigned aka_sqn_ind(uint64_t sqn)
{
	return (unsigned)(sqn & (AKA_IND_NUM - 1));
}

void aka_sqn_to_bytes(uint64_t sqn, uint8_t b[AKA_SQN_LEN]);
uint64_t aka_sqn_from_bytes(const uint8_t b[AKA_SQN_LEN]);

/* HSS side (TS 33.102 6.3.2, 6.3.5, annex C) */
int aka_sqn_next(uint64_t sqn_he, uint64_t *nextp) IMS_MUST_CHECK;
int aka_vector_make(struct milenage *m, const uint8_t amf[AKA_AMF_LEN],
		    const uint8_t rand[AKA_RAND_LEN], uint64_t sqn,
		    struct aka_vector *av) IMS_MUST_CHECK;
int aka_vectors_generate(struct milenage *m, const uint8_t amf[AKA_AMF_LEN],
			 uint64_t sqn_he, struct aka_vector *avv, size_t n,
			 uint64_t *sqn_he_out) IMS_MUST_CHECK;
int aka_resync(struct milenage *m, const uint8_t rand[AKA_RAND_LEN],
	       const uint8_t auts[AKA_AUTS_LEN], uint64_t sqn_he,
	       uint64_t *sqn_he_out, uint64_t *sqn_ms_out) IMS_MUST_CHECK;

/* USIM/ISIM side (TS 33.102 6.3.3, C.2): SEQ_MS per IND value. */
struct aka_ue_sqn {
	uint64_t seq[AKA_IND_NUM];
};

enum aka_ue_verdict {
	AKA_UE_OK = 0,       /* res, ck, ik are set; the state advanced */
	AKA_UE_SYNC_FAILURE, /* MAC-A right, SQN refused: auts is set */
};

struct aka_ue_result {
	enum aka_ue_verdict verdict;
	uint64_t sqn; /* SQN recovered from AUTN */
	uint8_t amf[AKA_AMF_LEN];
	uint8_t res[AKA_RES_LEN];
	uint8_t ck[AKA_KEY_LEN];
	uint8_t ik[AKA_KEY_LEN];
	uint8_t auts[AKA_AUTS_LEN];
};

uint64_t aka_ue_sqn_ms(const struct aka_ue_sqn *st);
int aka_ue_check(struct milenage *m, struct aka_ue_sqn *st,
		 const uint8_t rand[AKA_RAND_LEN],
		 const uint8_t autn[AKA_AUTN_LEN],
		 struct aka_ue_result *r) IMS_MUST_CHECK;
int aka_ue_auts(struct milenage *m, const uint8_t rand[AKA_RAND_LEN],
		uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN]) IMS_MUST_CHECK;

/* Digest AKA (RFC 3310, RFC 4169) */
enum aka_digest_alg {
	AKA_DIGEST_AKAV1_MD5 = 1, /* RFC 3310 3.1 "AKAv1-MD5" */
	AKA_DIGEST_AKAV2_MD5 = 2, /* RFC 4169 "AKAv2-MD5" */
};

#define AKA_PASSWORD_MAX    24 /* AKAv2: base64 of a 16-octet HMAC-MD5 */
#define AKA_HA1_HEX_LEN     33 /* 32 hex digits + NUL */
#define AKA_NONCE_SDATA_MAX 48 /* optional server data in the nonce */
#define AKA_NONCE_B64_MAX \
	(((AKA_RAND_LEN + AKA_AUTN_LEN + AKA_NONCE_SDATA_MAX + 2) / 3) * 4)
#define AKA_NONCE_SIZE    (AKA_NONCE_B64_MAX + 1) /* with NUL */
#define AKA_AUTS_B64_SIZE 21                      /* 20 chars + NUL */

int aka_digest_alg_of(const struct pl *name,
		      enum aka_digest_alg *algp) IMS_MUST_CHECK;
const char *aka_digest_alg_name(enum aka_digest_alg alg);
int aka_digest_password(enum aka_digest_alg alg, const uint8_t *res,
			size_t res_len, const uint8_t ck[AKA_KEY_LEN],
			const uint8_t ik[AKA_KEY_LEN], uint8_t *pw,
			size_t *pw_len) IMS_MUST_CHECK;
int aka_digest_ha1(const struct pl *user, const struct pl *realm,
		   const uint8_t *pw, size_t pw_len,
		   char ha1[AKA_HA1_HEX_LEN]) IMS_MUST_CHECK;
int aka_nonce_encode(char *buf, size_t size, const uint8_t rand[AKA_RAND_LEN],
		     const uint8_t autn[AKA_AUTN_LEN], const uint8_t *sdata,
		     size_t sdata_len) IMS_MUST_CHECK;
int aka_nonce_decode(const struct pl *nonce, uint8_t rand[AKA_RAND_LEN],
		     uint8_t autn[AKA_AUTN_LEN], uint8_t *sdata,
		     size_t sdata_size, size_t *sdata_len) IMS_MUST_CHECK;
int aka_auts_encode(char *buf, size_t size,
		    const uint8_t auts[AKA_AUTS_LEN]) IMS_MUST_CHECK;
int aka_auts_decode(const struct pl *val,
		    uint8_t auts[AKA_AUTS_LEN]) IMS_MUST_CHECK;

/* Cx (TS 29.229) octet layouts of SIP-Authenticate and SIP-Authorization */
void aka_cx_authenticate_encode(uint8_t out[AKA_CX_AUTHENTICATE_LEN],
				const struct aka_vector *av);
int aka_cx_authenticate_decode(const uint8_t *p, size_t len,
			       uint8_t rand[AKA_RAND_LEN],
			       uint8_t autn[AKA_AUTN_LEN]) IMS_MUST_CHECK;
void aka_cx_authorization_encode(uint8_t out[AKA_RES_LEN],
				 const struct aka_vector *av);
void aka_cx_resync_encode(uint8_t out[AKA_CX_RESYNC_LEN],
			  const uint8_t rand[AKA_RAND_LEN],
			  const uint8_t auts[AKA_AUTS_LEN]);
int aka_cx_resync_decode(const uint8_t *p, size_t len,
			 uint8_t rand[AKA_RAND_LEN],
			 uint8_t auts[AKA_AUTS_LEN]) IMS_MUST_CHECK;

#endif
