/**
 * @file aka.c  3GPP AKA on MILENAGE: HSS vectors, SQN management and
 * resynchronisation, the USIM side, Digest-AKA and the Cx layouts.
 *
 * Design
 *
 * Vectors (TS 33.102 6.3.2): for a fresh RAND and the next SQN,
 *
 *	AUTN = SQN xor AK || AMF || MAC-A,  MAC-A = f1(SQN || RAND || AMF)
 *	XRES = f2(RAND), CK = f3(RAND), IK = f4(RAND), AK = f5(RAND)
 *
 * SQN scheme (TS 33.102 annex C, profile 2 of C.3.2, sequence numbers
 * that are not time-based): SQN = SEQ || IND with IND 5 bits.  The HSS
 * keeps one 48-bit value per IMPI, SQN_HE = SEQ_HE || IND_HE, the last
 * SQN it handed out.  The next one is SEQ_HE + 1 || (IND_HE + 1) mod 32:
 * SEQ grows per vector (C.1.1.2 allows per vector or per batch) and IND
 * cycles (C.1.2).  Growing SEQ per vector keeps SQN strictly increasing,
 * so any USIM accepts the vectors in the order they were made, whether or
 * not it keeps the annex C array of SEQ_MS per IND (software clients and
 * test UEs often keep only the highest value); the cycling IND still lets
 * an array-keeping USIM accept vectors used out of order, e.g. a batch
 * held by a second S-CSCF.  43 bits of SEQ do not run out (2^43 vectors);
 * at the end we refuse (ERANGE) rather than wrap.
 *
 * Resynchronisation (TS 33.102 6.3.5, C.3.4): from RAND and AUTS,
 * SQN_MS = (SQN_MS xor AK*) xor f5*(RAND), and MAC-S must equal
 * f1*(SQN_MS || RAND || AMF) with the dummy AMF 0x0000 of 6.3.3.  If the
 * next SQN the HSS would generate is acceptable to the USIM (SEQ above
 * SEQ_MS, within DELTA of it), SQN_HE is kept; otherwise SEQ_HE is set to
 * SEQ_MS, so that the next vector carries SEQ_MS + 1.  IND_HE keeps
 * cycling.  A wrong MAC-S is EACCES and leaves the state alone.
 *
 * USIM side (TS 33.102 6.3.3, C.2): verify MAC-A (EACCES when wrong, no
 * state change), then accept SEQ if it is above SEQ_MS[IND], at most
 * DELTA above the highest accepted SEQ, and less than L below it.  A
 * refusal is a synchronisation failure: AUTS is built from the highest
 * accepted SQN.
 *
 * Digest AKA: RFC 3310 3.2 nonce = base64(RAND || AUTN || server data);
 * the password is RES as raw octets (RFC 3310 3.3), or for AKAv2
 * base64(HMAC-MD5(RES || IK || CK, "http-digest-akav2-password"))
 * (RFC 4169 3, PRF(key, data) with the key first: RES || IK || CK is the
 * HMAC key, the string the data, as pjsip, doubango and Clearwater do).
 * The base64 of RFC 3310 is RFC 4648 4 with padding; the decoder also
 * takes unpadded input but refuses any other character.
 */
#include "hss/aka.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/base64.h"
#include "hss/milenage.h"

static const uint8_t amf_resync[AKA_AMF_LEN] = { 0x00, 0x00 };

/**
 * Write a 48-bit SQN as 6 octets, most significant first.
 *
 * @param sqn  Sequence number (the low 48 bits are used)
 * @param b    Receives 6 octets
 */
void aka_sqn_to_bytes(uint64_t sqn, uint8_t b[AKA_SQN_LEN])
{
	for (int i = AKA_SQN_LEN - 1; i >= 0; i--) {
		b[i] = (uint8_t)(sqn & 0xff);
		sqn >>= 8;
	}
}


/**
 * Read a 48-bit SQN from 6 octets, most significant first.
 *
 * @param b  6 octets
 *
 * @return The sequence number
 */
uint64_t aka_sqn_from_bytes(const uint8_t b[AKA_SQN_LEN])
{
	uint64_t v = 0;

	for (size_t i = 0; i < AKA_SQN_LEN; i++)
		v = (v << 8) | b[i];
	return v;
}


/**
 * The SQN after sqn_he (TS 33.102 C.1.1.2, C.1.2): SEQ + 1, IND + 1 mod
 * 32.
 *
 * @param sqn_he  The last SQN handed out for the subscriber (0 if none)
 * @param nextp   Receives the next SQN
 *
 * @return 0, EINVAL when sqn_he has more than 48 bits, ERANGE when SEQ is
 *         exhausted
 */
int aka_sqn_next(uint64_t sqn_he, uint64_t *nextp)
{
	const uint64_t seq = aka_sqn_seq(sqn_he);
	const unsigned ind = aka_sqn_ind(sqn_he);

	if (!nextp || sqn_he > AKA_SQN_MAX)
		return EINVAL;
	if (seq >= AKA_SEQ_MAX)
		return ERANGE;

	*nextp = ((seq + 1) << AKA_IND_BITS) | ((ind + 1) % AKA_IND_NUM);
	return 0;
}


/**
 * Build one vector for a given RAND and SQN (TS 33.102 6.3.2).
 *
 * @param m     MILENAGE context keyed with the subscriber's K and OPc
 * @param amf   AMF (2 octets)
 * @param rand  RAND (16 octets)
 * @param sqn   SQN to put in AUTN (48 bits)
 * @param av    Receives the vector
 *
 * @return 0, EINVAL or EIO
 */
int aka_vector_make(struct milenage *m, const uint8_t amf[AKA_AMF_LEN],
		    const uint8_t rand[AKA_RAND_LEN], uint64_t sqn,
		    struct aka_vector *av)
{
	struct milenage_keys keys;
	uint8_t sqnb[AKA_SQN_LEN];
	int err;

	if (!m || !amf || !rand || !av || sqn > AKA_SQN_MAX)
		return EINVAL;

	aka_sqn_to_bytes(sqn, sqnb);

	err = milenage_f2345(m, rand, &keys);
	if (err)
		goto out;

	/* AUTN = SQN xor AK || AMF || MAC-A */
	err = milenage_f1(m, rand, sqnb, amf, av->autn + 8, NULL);
	if (err)
		goto out;
	for (size_t i = 0; i < AKA_SQN_LEN; i++)
		av->autn[i] = sqnb[i] ^ keys.ak[i];
	memcpy(av->autn + 6, amf, AKA_AMF_LEN);

	memcpy(av->rand, rand, AKA_RAND_LEN);
	memcpy(av->xres, keys.res, AKA_RES_LEN);
	memcpy(av->ck, keys.ck, AKA_KEY_LEN);
	memcpy(av->ik, keys.ik, AKA_KEY_LEN);
	av->sqn = sqn;
out:
	if (err)
		OPENSSL_cleanse(av, sizeof(*av));
	OPENSSL_cleanse(&keys, sizeof(keys));
	return err;
}


/**
 * Generate n vectors with fresh RANDs and consecutive SQNs.  The state is
 * passed in and out: on success *sqn_he_out is the SQN of the last
 * vector, which the caller stores for the IMPI; on failure it is not
 * written and avv holds nothing usable.
 *
 * @param m           MILENAGE context keyed for the subscriber
 * @param amf         AMF (2 octets)
 * @param sqn_he      Stored SQN_HE of the subscriber
 * @param avv         Receives n vectors
 * @param n           1..AKA_VECTORS_MAX
 * @param sqn_he_out  Receives the new SQN_HE
 *
 * @return 0, EINVAL, ERANGE (SEQ exhausted) or EIO (RAND or cipher)
 */
int aka_vectors_generate(struct milenage *m, const uint8_t amf[AKA_AMF_LEN],
			 uint64_t sqn_he, struct aka_vector *avv, size_t n,
			 uint64_t *sqn_he_out)
{
	uint8_t rand[AKA_RAND_LEN];
	uint64_t sqn = sqn_he;
	size_t i;
	int err = 0;

	if (!m || !amf || !avv || !sqn_he_out || n == 0 || n > AKA_VECTORS_MAX)
		return EINVAL;

	for (i = 0; i < n; i++) {
		err = aka_sqn_next(sqn, &sqn);
		if (err)
			goto out;

		if (RAND_bytes(rand, sizeof(rand)) != 1) {
			err = EIO;
			goto out;
		}

		err = aka_vector_make(m, amf, rand, sqn, &avv[i]);
		if (err)
			goto out;
	}

	*sqn_he_out = sqn;
out:
	if (err)
		OPENSSL_cleanse(avv, n * sizeof(*avv));
	return err;
}


/* Recover SQN_MS from AUTS and check MAC-S (TS 33.102 6.3.3): EACCES when
 * MAC-S is wrong. */
static int auts_open(struct milenage *m, const uint8_t rand[AKA_RAND_LEN],
		     const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms)
{
	uint8_t ak_s[AKA_SQN_LEN], sqnb[AKA_SQN_LEN], mac_s[8];
	int err;

	err = milenage_f5star(m, rand, ak_s);
	if (err)
		goto out;

	for (size_t i = 0; i < AKA_SQN_LEN; i++)
		sqnb[i] = auts[i] ^ ak_s[i];

	/* TS 33.102 6.3.3: MAC-S uses a dummy AMF of all zeros, so that the
	 * AMF need not be sent back in AUTS. */
	err = milenage_f1(m, rand, sqnb, amf_resync, NULL, mac_s);
	if (err)
		goto out;

	if (!milenage_ct_eq(mac_s, auts + AKA_SQN_LEN, sizeof(mac_s))) {
		err = EACCES;
		goto out;
	}

	*sqn_ms = aka_sqn_from_bytes(sqnb);
out:
	OPENSSL_cleanse(ak_s, sizeof(ak_s));
	return err;
}


/**
 * Resynchronise SQN_HE from the AUTS a UE sent after refusing a
 * challenge (TS 33.102 6.3.5, annex C.3.4).
 *
 * @param m           MILENAGE context keyed for the subscriber
 * @param rand        The RAND of the refused challenge
 * @param auts        AUTS from the UE (14 octets)
 * @param sqn_he      Stored SQN_HE
 * @param sqn_he_out  Receives the SQN_HE to store (unchanged if the next
 *                    vector would already be accepted)
 * @param sqn_ms_out  Receives SQN_MS (may be NULL)
 *
 * @return 0, EINVAL, EACCES (MAC-S wrong: the AUTS is forged or for
 *         another RAND/key; the state must not change) or EIO
 */
int aka_resync(struct milenage *m, const uint8_t rand[AKA_RAND_LEN],
	       const uint8_t auts[AKA_AUTS_LEN], uint64_t sqn_he,
	       uint64_t *sqn_he_out, uint64_t *sqn_ms_out)
{
	uint64_t sqn_ms = 0, seq_he, seq_ms;
	int err;

	if (!m || !rand || !auts || !sqn_he_out || sqn_he > AKA_SQN_MAX)
		return EINVAL;

	err = auts_open(m, rand, auts, &sqn_ms);
	if (err)
		return err;

	seq_he = aka_sqn_seq(sqn_he);
	seq_ms = aka_sqn_seq(sqn_ms);

	/* The next vector carries SEQ_HE + 1: acceptable when it is above
	 * SEQ_MS and no more than DELTA above it (C.2.2).  Otherwise restart
	 * from SEQ_MS (6.3.5: "resets the value of the counter SQN_HE to
	 * SQN_MS"), keeping IND_HE's place in the cycle. */
	if (seq_he + 1 > seq_ms && seq_he + 1 - seq_ms <= AKA_UE_DELTA)
		*sqn_he_out = sqn_he;
	else
		*sqn_he_out = (seq_ms << AKA_IND_BITS) | aka_sqn_ind(sqn_he);

	if (sqn_ms_out)
		*sqn_ms_out = sqn_ms;
	return 0;
}


/**
 * The highest SQN the USIM has accepted (SQN_MS of TS 33.102 6.3.3): the
 * largest SEQ_MS with its IND.
 *
 * @param st  USIM SQN state
 *
 * @return SQN_MS (0 when nothing was accepted yet)
 */
uint64_t aka_ue_sqn_ms(const struct aka_ue_sqn *st)
{
	uint64_t best = 0;
	unsigned ind = 0;

	if (!st)
		return 0;

	for (unsigned i = 0; i < AKA_IND_NUM; i++) {
		if (st->seq[i] > best) {
			best = st->seq[i];
			ind = i;
		}
	}

	return (best << AKA_IND_BITS) | ind;
}


/**
 * Build AUTS = SQN_MS xor f5*(RAND) || f1*(SQN_MS || RAND || 0x0000)
 * (TS 33.102 6.3.3).
 *
 * @param m       MILENAGE context keyed with K and OPc
 * @param rand    RAND of the refused challenge
 * @param sqn_ms  SQN_MS (48 bits)
 * @param auts    Receives AUTS (14 octets)
 *
 * @return 0, EINVAL or EIO
 */
int aka_ue_auts(struct milenage *m, const uint8_t rand[AKA_RAND_LEN],
		uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN])
{
	uint8_t ak_s[AKA_SQN_LEN], sqnb[AKA_SQN_LEN];
	int err;

	if (!m || !rand || !auts || sqn_ms > AKA_SQN_MAX)
		return EINVAL;

	aka_sqn_to_bytes(sqn_ms, sqnb);

	err = milenage_f5star(m, rand, ak_s);
	if (err)
		goto out;

	err = milenage_f1(m, rand, sqnb, amf_resync, NULL, auts + AKA_SQN_LEN);
	if (err)
		goto out;

	for (size_t i = 0; i < AKA_SQN_LEN; i++)
		auts[i] = sqnb[i] ^ ak_s[i];
out:
	OPENSSL_cleanse(ak_s, sizeof(ak_s));
	return err;
}


/* TS 33.102 C.2.2: is SEQ acceptable for IND given the array? */
static bool ue_sqn_ok(const struct aka_ue_sqn *st, uint64_t sqn)
{
	const uint64_t seq = aka_sqn_seq(sqn);
	const uint64_t seq_ms = aka_sqn_seq(aka_ue_sqn_ms(st));

	if (seq <= st->seq[aka_sqn_ind(sqn)])
		return false; /* replayed, or older than this IND's last */
	if (seq > seq_ms && seq - seq_ms > AKA_UE_DELTA)
		return false; /* too far ahead: HE counter runaway */
	if (seq_ms > seq && seq_ms - seq >= AKA_UE_L)
		return false; /* limit on the age of a vector */
	return true;
}


/**
 * The USIM/ISIM side of a challenge (TS 33.102 6.3.3): check AUTN,
 * compute RES, CK, IK, or build AUTS on a synchronisation failure.
 *
 * @param m     MILENAGE context keyed with K and OPc
 * @param st    USIM SQN state; updated only when the verdict is AKA_UE_OK
 * @param rand  RAND from the challenge
 * @param autn  AUTN from the challenge
 * @param r     Receives the verdict and its values
 *
 * @return 0 (see r->verdict), EACCES when MAC-A is wrong (the network is
 *         not authentic; nothing is set), EINVAL or EIO
 */
int aka_ue_check(struct milenage *m, struct aka_ue_sqn *st,
		 const uint8_t rand[AKA_RAND_LEN],
		 const uint8_t autn[AKA_AUTN_LEN], struct aka_ue_result *r)
{
	struct milenage_keys keys;
	uint8_t sqnb[AKA_SQN_LEN], xmac[8];
	uint64_t sqn;
	int err;

	if (!m || !st || !rand || !autn || !r)
		return EINVAL;

	memset(r, 0, sizeof(*r));

	err = milenage_f2345(m, rand, &keys);
	if (err)
		goto out;

	for (size_t i = 0; i < AKA_SQN_LEN; i++)
		sqnb[i] = autn[i] ^ keys.ak[i];

	err = milenage_f1(m, rand, sqnb, autn + 6, xmac, NULL);
	if (err)
		goto out;

	if (!milenage_ct_eq(xmac, autn + 8, sizeof(xmac))) {
		err = EACCES;
		goto out;
	}

	sqn = aka_sqn_from_bytes(sqnb);
	r->sqn = sqn;
	memcpy(r->amf, autn + 6, AKA_AMF_LEN);

	if (!ue_sqn_ok(st, sqn)) {
		r->verdict = AKA_UE_SYNC_FAILURE;
		err = aka_ue_auts(m, rand, aka_ue_sqn_ms(st), r->auts);
		goto out;
	}

	st->seq[aka_sqn_ind(sqn)] = aka_sqn_seq(sqn);
	r->verdict = AKA_UE_OK;
	memcpy(r->res, keys.res, AKA_RES_LEN);
	memcpy(r->ck, keys.ck, AKA_KEY_LEN);
	memcpy(r->ik, keys.ik, AKA_KEY_LEN);
out:
	if (err)
		OPENSSL_cleanse(r, sizeof(*r));
	OPENSSL_cleanse(&keys, sizeof(keys));
	return err;
}


/* A parameter value without its surrounding quotes, if it has them. */
static void unquote(const struct pl *in, const char **p, size_t *n)
{
	*p = in->p;
	*n = in->l;
	if (*n >= 2 && (*p)[0] == '"' && (*p)[*n - 1] == '"') {
		(*p)++;
		*n -= 2;
	}
}


/**
 * The Digest-AKA algorithm named by an "algorithm" parameter value
 * (case-insensitive, RFC 3310 3.1, RFC 4169 4).
 *
 * @param name  "AKAv1-MD5" or "AKAv2-MD5"
 * @param algp  Receives the algorithm
 *
 * @return 0, EINVAL, or ENOTSUP for any other algorithm
 */
int aka_digest_alg_of(const struct pl *name, enum aka_digest_alg *algp)
{
	if (!name || !algp)
		return EINVAL;

	if (pl_eq_str_ci(name, "AKAv1-MD5"))
		*algp = AKA_DIGEST_AKAV1_MD5;
	else if (pl_eq_str_ci(name, "AKAv2-MD5"))
		*algp = AKA_DIGEST_AKAV2_MD5;
	else
		return ENOTSUP;
	return 0;
}


/**
 * The algorithm parameter value of a Digest-AKA algorithm.
 *
 * @param alg  Algorithm
 *
 * @return "AKAv1-MD5", "AKAv2-MD5" or "?"
 */
const char *aka_digest_alg_name(enum aka_digest_alg alg)
{
	switch (alg) {
	case AKA_DIGEST_AKAV1_MD5:
		return "AKAv1-MD5";
	case AKA_DIGEST_AKAV2_MD5:
		return "AKAv2-MD5";
	}
	return "?";
}


/**
 * The Digest password for a vector or a UE response.  AKAv1 (RFC 3310
 * 3.3): RES itself, raw octets.  AKAv2 (RFC 4169 3): the base64 text of
 * HMAC-MD5 keyed with RES || IK || CK over "http-digest-akav2-password".
 * The server passes XRES, the client RES.
 *
 * @param alg     AKAv1-MD5 or AKAv2-MD5
 * @param res     RES or XRES (4..16 octets, TS 33.102 6.3.7)
 * @param res_len Its length
 * @param ck      CK (AKAv2 only, may be NULL for AKAv1)
 * @param ik      IK (AKAv2 only, may be NULL for AKAv1)
 * @param pw      Receives the password (room for AKA_PASSWORD_MAX)
 * @param pw_len  Receives its length
 *
 * @return 0, EINVAL or EIO
 */
int aka_digest_password(enum aka_digest_alg alg, const uint8_t *res,
			size_t res_len, const uint8_t ck[AKA_KEY_LEN],
			const uint8_t ik[AKA_KEY_LEN], uint8_t *pw,
			size_t *pw_len)
{
	static const char label[] = "http-digest-akav2-password";
	uint8_t key[16 + 2 * AKA_KEY_LEN], mac[EVP_MAX_MD_SIZE];
	char b64[AKA_PASSWORD_MAX + 1];
	unsigned maclen = 0;
	int err = 0;

	if (!res || res_len < 4 || res_len > 16 || !pw || !pw_len)
		return EINVAL;

	switch (alg) {
	case AKA_DIGEST_AKAV1_MD5:
		memcpy(pw, res, res_len);
		*pw_len = res_len;
		return 0;

	case AKA_DIGEST_AKAV2_MD5:
		break;

	default:
		return EINVAL;
	}

	if (!ck || !ik)
		return EINVAL;

	/* RFC 4169 3: PRF(RES || IK || CK, "http-digest-akav2-password"),
	 * PRF = HMAC-MD5 for AKAv2-MD5 */
	memcpy(key, res, res_len);
	memcpy(key + res_len, ik, AKA_KEY_LEN);
	memcpy(key + res_len + AKA_KEY_LEN, ck, AKA_KEY_LEN);

	if (!HMAC(EVP_md5(), key, (int)(res_len + 2 * (size_t)AKA_KEY_LEN),
		  (const unsigned char *)label, sizeof(label) - 1, mac,
		  &maclen) ||
	    maclen != 16) {
		err = EIO;
		goto out;
	}

	err = base64_encode(b64, sizeof(b64), mac, maclen, 0);
	if (err)
		goto out;

	memcpy(pw, b64, AKA_PASSWORD_MAX);
	*pw_len = AKA_PASSWORD_MAX;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(b64, sizeof(b64));
	return err;
}


/**
 * HA1 = MD5(username ":" realm ":" password) in lowercase hex (RFC 2617
 * 3.2.2.2), with a binary password: AKAv1's RES may hold any octet, NUL
 * included, so the C-string auth_ha1() of the SIP digest code cannot
 * take it.  The result plugs into auth_response() and the credential
 * callback of the S-CSCF.
 *
 * @param user    Username (the IMPI)
 * @param realm   Realm
 * @param pw      Password octets from aka_digest_password()
 * @param pw_len  Their number
 * @param ha1     Receives 32 hex digits and a NUL
 *
 * @return 0, EINVAL or EIO
 */
int aka_digest_ha1(const struct pl *user, const struct pl *realm,
		   const uint8_t *pw, size_t pw_len, char ha1[AKA_HA1_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	int err = 0;

	if (!user || !realm || (!pw && pw_len) || !ha1)
		return EINVAL;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;

	if (!EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ||
	    !EVP_DigestUpdate(ctx, user->p, user->l) ||
	    !EVP_DigestUpdate(ctx, ":", 1) ||
	    !EVP_DigestUpdate(ctx, realm->p, realm->l) ||
	    !EVP_DigestUpdate(ctx, ":", 1) ||
	    !EVP_DigestUpdate(ctx, pw, pw_len) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 16) {
		err = EIO;
		goto out;
	}

	for (size_t i = 0; i < mdlen; i++) {
		ha1[2 * i] = hex[md[i] >> 4];
		ha1[2 * i + 1] = hex[md[i] & 0x0f];
	}
	ha1[32] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}


/**
 * The Digest-AKA nonce (RFC 3310 3.2): base64(RAND || AUTN || server
 * data).
 *
 * @param buf        Receives the NUL-terminated nonce
 * @param size       Its size (AKA_NONCE_SIZE always suffices)
 * @param rand       RAND
 * @param autn       AUTN
 * @param sdata      Optional server data (may be NULL)
 * @param sdata_len  Its length, at most AKA_NONCE_SDATA_MAX
 *
 * @return 0, EINVAL or ENOSPC
 */
int aka_nonce_encode(char *buf, size_t size, const uint8_t rand[AKA_RAND_LEN],
		     const uint8_t autn[AKA_AUTN_LEN], const uint8_t *sdata,
		     size_t sdata_len)
{
	uint8_t raw[AKA_RAND_LEN + AKA_AUTN_LEN + AKA_NONCE_SDATA_MAX];
	int err;

	if (!buf || !rand || !autn || (!sdata && sdata_len) ||
	    sdata_len > AKA_NONCE_SDATA_MAX)
		return EINVAL;

	memcpy(raw, rand, AKA_RAND_LEN);
	memcpy(raw + AKA_RAND_LEN, autn, AKA_AUTN_LEN);
	if (sdata_len)
		memcpy(raw + AKA_RAND_LEN + AKA_AUTN_LEN, sdata, sdata_len);

	err = base64_encode(buf, size, raw,
			    AKA_RAND_LEN + AKA_AUTN_LEN + sdata_len, 0);
	OPENSSL_cleanse(raw, sizeof(raw));
	return err;
}


/**
 * Split a Digest-AKA nonce back into RAND, AUTN and server data (RFC 3310
 * 3.2).  Surrounding quotes are accepted.
 *
 * @param nonce       The nonce parameter value
 * @param rand        Receives RAND
 * @param autn        Receives AUTN
 * @param sdata       Receives the server data (may be NULL to ignore it)
 * @param sdata_size  Room in sdata
 * @param sdata_len   Receives its length (may be NULL)
 *
 * @return 0, EINVAL, EBADMSG (not base64, shorter than RAND || AUTN, or
 *         more than AKA_NONCE_SDATA_MAX octets of server data) or ENOSPC
 *         (server data larger than sdata_size)
 */
int aka_nonce_decode(const struct pl *nonce, uint8_t rand[AKA_RAND_LEN],
		     uint8_t autn[AKA_AUTN_LEN], uint8_t *sdata,
		     size_t sdata_size, size_t *sdata_len)
{
	uint8_t raw[AKA_RAND_LEN + AKA_AUTN_LEN + AKA_NONCE_SDATA_MAX];
	const char *s;
	size_t n, len = 0, extra;
	int err;

	if (!nonce || !nonce->p || !rand || !autn)
		return EINVAL;

	unquote(nonce, &s, &n);

	err = base64_decode(s, n, raw, sizeof(raw), &len, 0);
	if (err == EMSGSIZE)
		err = EBADMSG;
	if (err)
		goto out;

	if (len < AKA_RAND_LEN + AKA_AUTN_LEN) {
		err = EBADMSG;
		goto out;
	}

	extra = len - AKA_RAND_LEN - AKA_AUTN_LEN;
	if (sdata) {
		if (extra > sdata_size) {
			err = ENOSPC;
			goto out;
		}
		memcpy(sdata, raw + AKA_RAND_LEN + AKA_AUTN_LEN, extra);
	}
	if (sdata_len)
		*sdata_len = extra;

	memcpy(rand, raw, AKA_RAND_LEN);
	memcpy(autn, raw + AKA_RAND_LEN, AKA_AUTN_LEN);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return err;
}


/**
 * The "auts" Authorization parameter value (RFC 3310 3.4): base64 of
 * AUTS, without quotes.
 *
 * @param buf   Receives the NUL-terminated text
 * @param size  Its size (AKA_AUTS_B64_SIZE suffices)
 * @param auts  AUTS (14 octets)
 *
 * @return 0, EINVAL or ENOSPC
 */
int aka_auts_encode(char *buf, size_t size, const uint8_t auts[AKA_AUTS_LEN])
{
	if (!auts)
		return EINVAL;
	return base64_encode(buf, size, auts, AKA_AUTS_LEN, 0);
}


/**
 * Parse the "auts" Authorization parameter (RFC 3310 3.4): base64 of
 * exactly 14 octets, quoted or not.
 *
 * @param val   Parameter value
 * @param auts  Receives AUTS
 *
 * @return 0, EINVAL or EBADMSG
 */
int aka_auts_decode(const struct pl *val, uint8_t auts[AKA_AUTS_LEN])
{
	uint8_t raw[AKA_AUTS_LEN];
	const char *s;
	size_t n, len = 0;
	int err;

	if (!val || !val->p || !auts)
		return EINVAL;

	unquote(val, &s, &n);

	err = base64_decode(s, n, raw, sizeof(raw), &len, 0);
	if (err == EMSGSIZE || (!err && len != AKA_AUTS_LEN))
		err = EBADMSG;
	if (!err)
		memcpy(auts, raw, AKA_AUTS_LEN);
	return err;
}


/**
 * SIP-Authenticate for Digest-AKAv1/v2-MD5 in a Cx MAA (TS 29.229 6.3.9):
 * RAND || AUTN.
 *
 * @param out  Receives 32 octets
 * @param av   Vector
 */
void aka_cx_authenticate_encode(uint8_t out[AKA_CX_AUTHENTICATE_LEN],
				const struct aka_vector *av)
{
	memcpy(out, av->rand, AKA_RAND_LEN);
	memcpy(out + AKA_RAND_LEN, av->autn, AKA_AUTN_LEN);
}


/**
 * Split SIP-Authenticate (TS 29.229 6.3.9) into RAND and AUTN.
 *
 * @param p     AVP data
 * @param len   Its length (must be 32)
 * @param rand  Receives RAND
 * @param autn  Receives AUTN
 *
 * @return 0, EINVAL or EBADMSG (wrong length)
 */
int aka_cx_authenticate_decode(const uint8_t *p, size_t len,
			       uint8_t rand[AKA_RAND_LEN],
			       uint8_t autn[AKA_AUTN_LEN])
{
	if (!p || !rand || !autn)
		return EINVAL;
	if (len != AKA_CX_AUTHENTICATE_LEN)
		return EBADMSG;

	memcpy(rand, p, AKA_RAND_LEN);
	memcpy(autn, p + AKA_RAND_LEN, AKA_AUTN_LEN);
	return 0;
}


/**
 * SIP-Authorization in a Cx MAA (TS 29.229 6.3.10): XRES.
 *
 * @param out  Receives AKA_RES_LEN octets
 * @param av   Vector
 */
void aka_cx_authorization_encode(uint8_t out[AKA_RES_LEN],
				 const struct aka_vector *av)
{
	memcpy(out, av->xres, AKA_RES_LEN);
}


/**
 * SIP-Authorization in a resynchronisation MAR (TS 29.229 6.3.10): the
 * RAND sent to the UE followed by the AUTS it returned.
 *
 * @param out   Receives 30 octets
 * @param rand  RAND
 * @param auts  AUTS
 */
void aka_cx_resync_encode(uint8_t out[AKA_CX_RESYNC_LEN],
			  const uint8_t rand[AKA_RAND_LEN],
			  const uint8_t auts[AKA_AUTS_LEN])
{
	memcpy(out, rand, AKA_RAND_LEN);
	memcpy(out + AKA_RAND_LEN, auts, AKA_AUTS_LEN);
}


/**
 * Split the SIP-Authorization of a resynchronisation MAR (TS 29.229
 * 6.3.10) into RAND and AUTS.
 *
 * @param p     AVP data
 * @param len   Its length (must be 30)
 * @param rand  Receives RAND
 * @param auts  Receives AUTS
 *
 * @return 0, EINVAL or EBADMSG (wrong length)
 */
int aka_cx_resync_decode(const uint8_t *p, size_t len,
			 uint8_t rand[AKA_RAND_LEN], uint8_t auts[AKA_AUTS_LEN])
{
	if (!p || !rand || !auts)
		return EINVAL;
	if (len != AKA_CX_RESYNC_LEN)
		return EBADMSG;

	memcpy(rand, p, AKA_RAND_LEN);
	memcpy(auts, p + AKA_RAND_LEN, AKA_AUTS_LEN);
	return 0;
}
