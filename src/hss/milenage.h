/**
 * @file milenage.h  The MILENAGE algorithm set (3GPP TS 35.206): the
 * authentication and key generation functions f1, f1*, f2, f3, f4, f5 and
 * f5* of 3GPP AKA (TS 33.102 6.3), and OPc from OP.
 *
 * One struct milenage holds one AES-128 context (OpenSSL EVP, ECB on
 * single blocks) and the key material of one subscriber at a time: the HSS
 * keeps one object per event loop and re-keys it per request with
 * milenage_key(), instead of creating a cipher context per AES block.
 * Key material is wiped when the object is re-keyed or freed.
 *
 * The constants are the defaults of TS 35.206 4.1 (r1 = 64, r2 = 0,
 * r3 = 32, r4 = 64, r5 = 96; c1..c5 = 0, 1, 2, 4, 8 in the last bit
 * positions), which the test data of TS 35.207 and TS 35.208 use.
 * See docs/internals/aka.md.
 */
#ifndef IMS_HSS_MILENAGE_H
#define IMS_HSS_MILENAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

#define MILENAGE_KEY_LEN  16 /* K, OP, OPc, CK, IK: 128 bits */
#define MILENAGE_RAND_LEN 16
#define MILENAGE_SQN_LEN  6 /* 48 bits */
#define MILENAGE_AMF_LEN  2
#define MILENAGE_MAC_LEN  8 /* f1, f1*: 64 bits */
#define MILENAGE_RES_LEN  8 /* f2: 64 bits */
#define MILENAGE_AK_LEN   6 /* f5, f5*: 48 bits */

struct milenage;

/* The outputs of one f2345 computation for one RAND. */
struct milenage_keys {
	uint8_t res[MILENAGE_RES_LEN]; /* f2 */
	uint8_t ck[MILENAGE_KEY_LEN];  /* f3 */
	uint8_t ik[MILENAGE_KEY_LEN];  /* f4 */
	uint8_t ak[MILENAGE_AK_LEN];   /* f5 */
};

int milenage_alloc(struct milenage **mp) IMS_MUST_CHECK;
int milenage_key(struct milenage *m, const uint8_t k[MILENAGE_KEY_LEN],
		 const uint8_t opc[MILENAGE_KEY_LEN]) IMS_MUST_CHECK;
int milenage_key_op(struct milenage *m, const uint8_t k[MILENAGE_KEY_LEN],
		    const uint8_t op[MILENAGE_KEY_LEN]) IMS_MUST_CHECK;
void milenage_opc_get(const struct milenage *m, uint8_t opc[MILENAGE_KEY_LEN]);
int milenage_opc(uint8_t opc[MILENAGE_KEY_LEN],
		 const uint8_t k[MILENAGE_KEY_LEN],
		 const uint8_t op[MILENAGE_KEY_LEN]) IMS_MUST_CHECK;

int milenage_f1(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		const uint8_t sqn[MILENAGE_SQN_LEN],
		const uint8_t amf[MILENAGE_AMF_LEN],
		uint8_t mac_a[MILENAGE_MAC_LEN],
		uint8_t mac_s[MILENAGE_MAC_LEN]) IMS_MUST_CHECK;
int milenage_f2345(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		   struct milenage_keys *out) IMS_MUST_CHECK;
int milenage_f5star(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		    uint8_t ak_s[MILENAGE_AK_LEN]) IMS_MUST_CHECK;

bool milenage_ct_eq(const void *a, const void *b, size_t n);

#endif
