/**
 * @file fuzz_aka.c  libFuzzer harness for the AKA parsers (hss/aka.h):
 * the Digest-AKA nonce (RFC 3310 3.2), the "auts" parameter (RFC 3310
 * 3.4), the Cx SIP-Authenticate / SIP-Authorization layouts (TS 29.229
 * 6.3.9, 6.3.10), and the USIM and resynchronisation checks on whatever
 * octets the input supplies as RAND, AUTN and AUTS.
 *
 * Each input is parsed as every one of these.  Properties checked, beyond
 * "no crash, no sanitizer report" (the input is a view without a NUL, so
 * an over-read is caught):
 *  - only the documented error codes come back;
 *  - a nonce that decodes re-encodes (with its server data) into a nonce
 *    that decodes to the same RAND, AUTN and server data;
 *  - an AUTS that decodes re-encodes to 20 characters that decode to the
 *    same 14 octets;
 *  - the Cx layouts accept exactly 32 and 30 octets;
 *  - aka_ue_check() is 0 or EACCES, and on 0 the verdict is a known one;
 *    aka_resync() is 0 or EACCES, and on 0 SQN_HE stays within 48 bits.
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "hss/aka.h"
#include "hss/milenage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX 1024 /* longer nonces are refused by length */

/* TS 35.208 test set 1 K and OPc: any fixed key will do. */
static const uint8_t k[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
			       0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc };
static const uint8_t opc[16] = {
	0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
	0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf
};


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_aka: property broken: %s\n", what);
	abort();
}


static void check_nonce(const struct pl *pl)
{
	uint8_t rand[16], autn[16], sd[AKA_NONCE_SDATA_MAX];
	uint8_t rand2[16], autn2[16], sd2[AKA_NONCE_SDATA_MAX];
	size_t sdlen = 0, sdlen2 = 0;
	char enc[AKA_NONCE_SIZE];
	struct pl epl;
	int err;

	err = aka_nonce_decode(pl, rand, autn, sd, sizeof(sd), &sdlen);
	if (err != 0 && err != EBADMSG)
		fail("nonce: unexpected error code");
	if (err)
		return;
	if (sdlen > AKA_NONCE_SDATA_MAX)
		fail("nonce: server data longer than the limit");

	if (aka_nonce_encode(enc, sizeof(enc), rand, autn, sd, sdlen))
		fail("nonce: decoded values do not re-encode");
	pl_set_str(&epl, enc);
	if (aka_nonce_decode(&epl, rand2, autn2, sd2, sizeof(sd2), &sdlen2))
		fail("nonce: re-encoded nonce does not decode");
	if (memcmp(rand, rand2, 16) != 0 || memcmp(autn, autn2, 16) != 0 ||
	    sdlen != sdlen2 || memcmp(sd, sd2, sdlen) != 0)
		fail("nonce: round trip changed the values");
}


static void check_auts(const struct pl *pl)
{
	uint8_t auts[14], auts2[14];
	char enc[AKA_AUTS_B64_SIZE];
	struct pl epl;
	int err;

	err = aka_auts_decode(pl, auts);
	if (err != 0 && err != EBADMSG)
		fail("auts: unexpected error code");
	if (err)
		return;

	if (aka_auts_encode(enc, sizeof(enc), auts) || strlen(enc) != 20)
		fail("auts: does not re-encode to 20 characters");
	pl_set_str(&epl, enc);
	if (aka_auts_decode(&epl, auts2) || memcmp(auts, auts2, 14) != 0)
		fail("auts: round trip changed the value");
}


static void check_cx(const uint8_t *p, size_t size)
{
	uint8_t rand[16], autn[16], auts[14];
	int err;

	err = aka_cx_authenticate_decode(p, size, rand, autn);
	if ((size == AKA_CX_AUTHENTICATE_LEN) != (err == 0) ||
	    (err && err != EBADMSG))
		fail("cx: SIP-Authenticate length check");

	err = aka_cx_resync_decode(p, size, rand, auts);
	if ((size == AKA_CX_RESYNC_LEN) != (err == 0) ||
	    (err && err != EBADMSG))
		fail("cx: resync SIP-Authorization length check");
}


static void check_crypto(const uint8_t *p, size_t size)
{
	struct milenage *m = NULL;
	struct aka_ue_sqn st;
	struct aka_ue_result r;
	uint64_t out = 0, ms = 0;
	int err;

	if (size < AKA_RAND_LEN + AKA_AUTN_LEN)
		return;
	if (milenage_alloc(&m) || milenage_key(m, k, opc))
		goto out;

	memset(&st, 0, sizeof(st));
	err = aka_ue_check(m, &st, p, p + AKA_RAND_LEN, &r);
	if (err != 0 && err != EACCES)
		fail("ue: unexpected error code");
	if (!err && r.verdict != AKA_UE_OK && r.verdict != AKA_UE_SYNC_FAILURE)
		fail("ue: unknown verdict");

	err = aka_resync(m, p, p + AKA_RAND_LEN, AKA_SQN_MAX, &out, &ms);
	if (err != 0 && err != EACCES)
		fail("resync: unexpected error code");
	if (!err && (out > AKA_SQN_MAX || ms > AKA_SQN_MAX))
		fail("resync: SQN out of range");
out:
	mem_deref(m);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl pl;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	if (!data)
		data = (const uint8_t *)""; /* an empty input is still parsed */

	pl_set(&pl, (const char *)data, size);
	check_nonce(&pl);
	check_auts(&pl);
	check_cx(data, size);
	check_crypto(data, size);
	return 0;
}
