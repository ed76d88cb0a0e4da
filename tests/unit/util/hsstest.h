/**
 * @file hsstest.h  A provisioned HSS for the HSS unit tests: a SQLite
 * store in a temp directory, two subscriptions, an HSS on it with a fake
 * send callback that keeps the requests the HSS originates, and request
 * builders playing the I-CSCF, the S-CSCF and an AS.
 *
 * The subscribers (TS 35.208 set 1 keys for AKA):
 *   acme-alice  IMPI alice@ims.test (digest MD5/SHA-256, AKAv1/v2)
 *               IMPI alice-tab@ims.test (digest MD5), on sip:alice only
 *               sip:alice@ims.test, tel:+15145550100  implicit set 1,
 *                 profile sp-alice (iFC for the registered state only)
 *               sip:alice-old@ims.test  barred, a set of its own
 *               capabilities mandatory {1}, optional {2}; CCF ccf.ims.test
 *   acme-bob    IMPI bob@ims.test (digest MD5), sip:bob@ims.test with an
 *               iFC for the unregistered state (profile sp-bob);
 *               the wildcarded PSI sip:conf-!.*!@ims.test
 * Passwords: "alice-secret", "tab-secret", "bob-secret" (realm ims.test).
 */
#ifndef IMS_TEST_HSSTEST_H
#define IMS_TEST_HSSTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diameter/cx.h"

struct dia_msg;
struct store;
struct hss;
struct milenage;

#define HT_SENT_MAX 16

#define HT_REALM  "ims.test"
#define HT_HSS    "hss.ims.test"
#define HT_SCSCF1 "sip:scscf1.ims.test:6060"
#define HT_SCSCF2 "sip:scscf2.ims.test"
#define HT_ALICE  "alice@ims.test"
#define HT_TAB    "alice-tab@ims.test"
#define HT_BOB    "bob@ims.test"
#define HT_AU     "sip:alice@ims.test"
#define HT_ATEL   "tel:+15145550100"
#define HT_AOLD   "sip:alice-old@ims.test"
#define HT_BU     "sip:bob@ims.test"
#define HT_PSI    "sip:conf-!.*!@ims.test"

struct hsstest {
	char dir[64];
	struct store *st;
	struct hss *hss;
	struct milenage *mil; /* keyed with alice's K/OPc (the UE side) */
	/* what the HSS sent, with the handlers to answer it */
	struct dia_msg *sent[HT_SENT_MAX];
	void *resph[HT_SENT_MAX];
	void *resparg[HT_SENT_MAX];
	size_t sent_n;
	bool send_fails;
	bool raw; /* ht_handle: do not validate the request */
};

/* Create everything (slf: the hss_slf_mode). */
void ht_setup(struct hsstest *t, int slf);
void ht_teardown(struct hsstest *t);

/* Route of a request from the I-CSCF or S-CSCF (Origin-Host). */
struct cx_route ht_route(const char *origin);

/* Run a request through hss_handle; asserts the answer is well formed on
 * the wire (encode, dia_msg_decode, dia_msg_validate) and returns the
 * decoded copy (mem_deref it). */
struct dia_msg *ht_handle(struct hsstest *t, struct dia_msg *req);
/* Encode, decode and validate any message; the decoded copy. */
struct dia_msg *ht_wire(const struct dia_msg *msg);

/* The result of an answer. */
void ht_expect(const struct dia_msg *ans, uint32_t code, uint32_t vendor);

/* Answer the n-th request the HSS sent with a result (and free it). */
void ht_answer_sent(struct hsstest *t, size_t n, uint32_t code,
		    uint32_t vendor);
/* Fail it (the node's timeout). */
void ht_fail_sent(struct hsstest *t, size_t n, int err);

/* The Cx requests, as the CSCFs send them; each returns the answer. */
struct dia_msg *ht_uar(struct hsstest *t, const char *impi, const char *impu,
		       int type, const char *visited);
struct dia_msg *ht_sar(struct hsstest *t, const char *impi, const char *impu,
		       const char *scscf, uint32_t sat, uint32_t udaa);
struct dia_msg *ht_lir(struct hsstest *t, const char *impu, bool orig);
struct dia_msg *ht_mar(struct hsstest *t, const char *impi, const char *impu,
		       const char *scscf, const char *scheme, uint32_t n,
		       const uint8_t *authorization, size_t alen);

/* Register alice (MAR + SAR REGISTRATION) at scscf. */
void ht_register(struct hsstest *t, const char *impi, const char *impu,
		 const char *scscf);

/* The MD5 and SHA-256 HA1 of user:realm:password, lowercase hex. */
void ht_ha1(const char *user, const char *pw, char md5[33], char sha[65]);

#endif
