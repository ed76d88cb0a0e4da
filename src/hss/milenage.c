/**
 * @file milenage.c  MILENAGE (3GPP TS 35.206) on OpenSSL's AES-128.
 *
 * Design
 *
 * TS 35.206 4.1 builds every function from the kernel E[x]K = AES-128
 * of one block under the subscriber key K, and the operator constant OPc:
 *
 *	TEMP = E[RAND xor OPc]K
 *	IN1  = SQN || AMF || SQN || AMF
 *	OUT1 = E[TEMP xor rot(IN1 xor OPc, r1) xor c1]K xor OPc
 *	OUTi = E[rot(TEMP xor OPc, ri) xor ci]K xor OPc	(i = 2..5)
 *
 *	f1 = OUT1[0..63]    f1* = OUT1[64..127]
 *	f5 = OUT2[0..47]    f2  = OUT2[64..127]
 *	f3 = OUT3           f4  = OUT4          f5* = OUT5[0..47]
 *
 * The rotations are multiples of eight bits, so rot() is a byte rotation
 * towards the most significant end, and the constants ci only touch the
 * last octet.  The kernel is one EVP_CIPHER_CTX in ECB mode without
 * padding, keyed once per subscriber: each EVP_EncryptUpdate() of 16
 * octets is one independent block, which is what ECB promises, so the
 * context is reused for every block of every function.  No AES is written
 * here.
 *
 * The intermediate values (TEMP, OUTi) hold key-dependent material and
 * are cleansed before returning; K and OPc are cleansed on re-key and
 * free.  MACs are compared with CRYPTO_memcmp() (milenage_ct_eq()), so a
 * forger learns nothing from the time a comparison takes.
 */
#include "hss/milenage.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define BLOCK 16

struct milenage {
	EVP_CIPHER_CTX *ctx;
	uint8_t opc[MILENAGE_KEY_LEN];
	bool keyed;
};


static void destructor(void *arg)
{
	struct milenage *m = arg;

	EVP_CIPHER_CTX_free(m->ctx); /* clears the key schedule */
	OPENSSL_cleanse(m->opc, sizeof(m->opc));
}


/**
 * Allocate an unkeyed MILENAGE context (one AES-128 cipher context).
 *
 * @param mp  Set to the new object on success
 *
 * @return 0, ENOMEM, or EIO when OpenSSL cannot provide AES-128-ECB
 */
int milenage_alloc(struct milenage **mp)
{
	struct milenage *m;
	int err = 0;

	if (!mp)
		return EINVAL;

	m = mem_zalloc(sizeof(*m), destructor);
	if (!m)
		return ENOMEM;

	m->ctx = EVP_CIPHER_CTX_new();
	if (!m->ctx) {
		err = ENOMEM;
		goto out;
	}

	/* The cipher is set once; milenage_key() only changes the key. */
	if (!EVP_EncryptInit_ex(m->ctx, EVP_aes_128_ecb(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(m->ctx, 0)) {
		err = EIO;
		goto out;
	}

out:
	if (err)
		mem_deref(m);
	else
		*mp = m;
	return err;
}


static int set_k(struct milenage *m, const uint8_t k[MILENAGE_KEY_LEN])
{
	m->keyed = false;
	if (!EVP_EncryptInit_ex(m->ctx, NULL, NULL, k, NULL))
		return EIO;
	return 0;
}


/* out = E[in]K: one AES-128 block with the context's key. */
static int kernel(struct milenage *m, const uint8_t in[BLOCK],
		  uint8_t out[BLOCK])
{
	int n = 0;

	if (!EVP_EncryptUpdate(m->ctx, out, &n, in, BLOCK) || n != BLOCK)
		return EIO;
	return 0;
}


/**
 * Key the context with a subscriber's K and OPc.
 *
 * @param m    MILENAGE context
 * @param k    Subscriber key K (16 octets)
 * @param opc  OPc (16 octets), TS 35.206 4.1
 *
 * @return 0, EINVAL or EIO
 */
int milenage_key(struct milenage *m, const uint8_t k[MILENAGE_KEY_LEN],
		 const uint8_t opc[MILENAGE_KEY_LEN])
{
	int err;

	if (!m || !k || !opc)
		return EINVAL;

	err = set_k(m, k);
	if (err)
		return err;

	memcpy(m->opc, opc, sizeof(m->opc));
	m->keyed = true;
	return 0;
}


/**
 * Key the context with K and the operator's OP; OPc is derived as
 * OP xor E[OP]K (TS 35.206 4.1) and can be read with milenage_opc_get().
 *
 * @param m   MILENAGE context
 * @param k   Subscriber key K (16 octets)
 * @param op  Operator variant algorithm configuration field OP
 *
 * @return 0, EINVAL or EIO
 */
int milenage_key_op(struct milenage *m, const uint8_t k[MILENAGE_KEY_LEN],
		    const uint8_t op[MILENAGE_KEY_LEN])
{
	uint8_t opc[MILENAGE_KEY_LEN];
	int err;

	if (!m || !k || !op)
		return EINVAL;

	err = set_k(m, k);
	if (err)
		return err;

	err = kernel(m, op, opc);
	if (err)
		goto out;

	for (size_t i = 0; i < sizeof(opc); i++)
		opc[i] ^= op[i];

	memcpy(m->opc, opc, sizeof(m->opc));
	m->keyed = true;
out:
	OPENSSL_cleanse(opc, sizeof(opc));
	return err;
}


/**
 * Read the OPc the context is keyed with.
 *
 * @param m    Keyed MILENAGE context
 * @param opc  Receives OPc (16 octets)
 */
void milenage_opc_get(const struct milenage *m, uint8_t opc[MILENAGE_KEY_LEN])
{
	if (!m || !opc)
		return;
	memcpy(opc, m->opc, MILENAGE_KEY_LEN);
}


/**
 * OPc = OP xor E[OP]K (TS 35.206 4.1), for provisioning: an HSS should
 * store OPc rather than OP, so that one subscriber's record does not
 * reveal the operator-wide OP.
 *
 * @param opc  Receives OPc (16 octets)
 * @param k    Subscriber key K
 * @param op   OP
 *
 * @return 0, EINVAL, ENOMEM or EIO
 */
int milenage_opc(uint8_t opc[MILENAGE_KEY_LEN],
		 const uint8_t k[MILENAGE_KEY_LEN],
		 const uint8_t op[MILENAGE_KEY_LEN])
{
	struct milenage *m = NULL;
	int err;

	if (!opc || !k || !op)
		return EINVAL;

	err = milenage_alloc(&m);
	if (err)
		return err;

	err = milenage_key_op(m, k, op);
	if (!err)
		milenage_opc_get(m, opc);

	mem_deref(m);
	return err;
}


/* TEMP = E[RAND xor OPc]K */
static int temp_of(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		   uint8_t temp[BLOCK])
{
	uint8_t in[BLOCK];
	int err;

	for (size_t i = 0; i < BLOCK; i++)
		in[i] = rand[i] ^ m->opc[i];

	err = kernel(m, in, temp);
	OPENSSL_cleanse(in, sizeof(in));
	return err;
}


/*
 * OUTi = E[rot(x xor OPc, r) xor c]K xor OPc, with x = TEMP for i = 2..5
 * (and TEMP xor its own rotated term folded in by the caller for i = 1).
 * rot(x, r) rotates x by r bits towards the most significant bit: octet i
 * of the result is octet (i + r/8) mod 16 of x.  c is the last octet of
 * the 128-bit constant ci (TS 35.206 4.1: c1 = 0, c2 = 1, c3 = 2, c4 = 4,
 * c5 = 8).
 */
static int out_of(struct milenage *m, const uint8_t temp[BLOCK],
		  const uint8_t x[BLOCK], unsigned r_bits, uint8_t c,
		  uint8_t out[BLOCK])
{
	const unsigned r = r_bits / 8;
	uint8_t in[BLOCK];
	int err;

	for (size_t i = 0; i < BLOCK; i++) {
		const size_t j = (i + r) % BLOCK;

		in[i] = (uint8_t)(x[j] ^ m->opc[j]);
		if (temp)
			in[i] ^= temp[i];
	}
	in[BLOCK - 1] ^= c;

	err = kernel(m, in, out);
	if (!err) {
		for (size_t i = 0; i < BLOCK; i++)
			out[i] ^= m->opc[i];
	}

	OPENSSL_cleanse(in, sizeof(in));
	return err;
}


/**
 * f1 and f1* (TS 35.206 4.1): the network authentication code MAC-A and
 * the resynchronisation authentication code MAC-S.
 *
 * @param m      Keyed MILENAGE context
 * @param rand   RAND (16 octets)
 * @param sqn    SQN (6 octets); for MAC-S this is SQN_MS
 * @param amf    AMF (2 octets); for MAC-S TS 33.102 6.3.3 uses 0x0000
 * @param mac_a  Receives f1 (8 octets), or NULL
 * @param mac_s  Receives f1* (8 octets), or NULL
 *
 * @return 0, EINVAL (also when the context is not keyed) or EIO
 */
int milenage_f1(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		const uint8_t sqn[MILENAGE_SQN_LEN],
		const uint8_t amf[MILENAGE_AMF_LEN],
		uint8_t mac_a[MILENAGE_MAC_LEN],
		uint8_t mac_s[MILENAGE_MAC_LEN])
{
	uint8_t temp[BLOCK], in1[BLOCK], out1[BLOCK];
	int err;

	if (!m || !m->keyed || !rand || !sqn || !amf)
		return EINVAL;

	err = temp_of(m, rand, temp);
	if (err)
		goto out;

	/* IN1 = SQN || AMF || SQN || AMF */
	memcpy(in1, sqn, MILENAGE_SQN_LEN);
	memcpy(in1 + 6, amf, MILENAGE_AMF_LEN);
	memcpy(in1 + 8, sqn, MILENAGE_SQN_LEN);
	memcpy(in1 + 14, amf, MILENAGE_AMF_LEN);

	err = out_of(m, temp, in1, 64, 0x00, out1);
	if (err)
		goto out;

	if (mac_a)
		memcpy(mac_a, out1, MILENAGE_MAC_LEN);
	if (mac_s)
		memcpy(mac_s, out1 + 8, MILENAGE_MAC_LEN);
out:
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(out1, sizeof(out1));
	return err;
}


/**
 * f2, f3, f4 and f5 for one RAND (TS 35.206 4.1): RES, CK, IK and AK.
 *
 * @param m     Keyed MILENAGE context
 * @param rand  RAND (16 octets)
 * @param out   Receives RES, CK, IK, AK
 *
 * @return 0, EINVAL or EIO
 */
int milenage_f2345(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		   struct milenage_keys *out)
{
	uint8_t temp[BLOCK], o[BLOCK];
	int err;

	if (!m || !m->keyed || !rand || !out)
		return EINVAL;

	err = temp_of(m, rand, temp);
	if (err)
		goto out;

	/* OUT2: f5 = first 48 bits, f2 = last 64 bits */
	err = out_of(m, NULL, temp, 0, 0x01, o);
	if (err)
		goto out;
	memcpy(out->ak, o, MILENAGE_AK_LEN);
	memcpy(out->res, o + 8, MILENAGE_RES_LEN);

	err = out_of(m, NULL, temp, 32, 0x02, out->ck); /* OUT3 = f3 */
	if (err)
		goto out;

	err = out_of(m, NULL, temp, 64, 0x04, out->ik); /* OUT4 = f4 */
out:
	if (err)
		OPENSSL_cleanse(out, sizeof(*out));
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(o, sizeof(o));
	return err;
}


/**
 * f5* (TS 35.206 4.1): the anonymity key that conceals SQN_MS in AUTS.
 *
 * @param m     Keyed MILENAGE context
 * @param rand  RAND (16 octets)
 * @param ak_s  Receives AK* (6 octets)
 *
 * @return 0, EINVAL or EIO
 */
int milenage_f5star(struct milenage *m, const uint8_t rand[MILENAGE_RAND_LEN],
		    uint8_t ak_s[MILENAGE_AK_LEN])
{
	uint8_t temp[BLOCK], o[BLOCK];
	int err;

	if (!m || !m->keyed || !rand || !ak_s)
		return EINVAL;

	err = temp_of(m, rand, temp);
	if (err)
		goto out;

	err = out_of(m, NULL, temp, 96, 0x08, o); /* OUT5 */
	if (!err)
		memcpy(ak_s, o, MILENAGE_AK_LEN);
out:
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(o, sizeof(o));
	return err;
}


/**
 * Compare two byte strings in time independent of their contents (for
 * MAC-A, MAC-S, RES).
 *
 * @return true when the n octets are equal
 */
bool milenage_ct_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
