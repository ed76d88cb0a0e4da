/**
 * @file test_hss_sh.c  The HSS on Sh (TS 29.328 6.1, TS 29.329): UDR for
 * each data reference, PUR with the sequence number rule, SNR with the
 * PNRs that PUR and SAR trigger, and the error codes of TS 29.329 6.2.
 * The Sh-Data of every answer is parsed with libxml2 and checked element
 * by element.
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
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/sh.h"
#include "hss/hss.h"
#include "store/store.h"
#include "util/hsstest.h"

#define V3 DIA_VENDOR_3GPP
#define AS "as.ims.test"

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


static struct dia_msg *udr(const char *impu, const uint32_t *dref, size_t n,
			   const char *si, uint32_t idset)
{
	struct cx_route rt = ht_route(AS);
	struct dia_msg *req = NULL;
	struct sh_udr u;

	memset(&u, 0, sizeof(u));
	u.uid.impu = cx_pl(impu);
	memcpy(u.dref, dref, n * sizeof(*dref));
	u.dref_n = n;
	if (si)
		u.si[u.si_n++] = cx_pl(si);
	if (idset != 99)
		u.idset[u.idset_n++] = idset;
	assert_int_equal(sh_udr_encode(&req, &rt, &u), 0);
	return ht_handle(&T, req);
}


static struct dia_msg *pur(const char *impu, uint32_t dref, const char *xml)
{
	struct cx_route rt = ht_route(AS);
	struct dia_msg *req = NULL;
	struct sh_pur p;

	memset(&p, 0, sizeof(p));
	p.uid.impu = cx_pl(impu);
	p.dref[p.dref_n++] = dref;
	p.user_data = cx_pl(xml);
	assert_int_equal(sh_pur_encode(&req, &rt, &p), 0);
	return ht_handle(&T, req);
}


static struct dia_msg *snr(const char *impu, uint32_t dref, const char *si,
			   uint32_t type, int send_data)
{
	struct cx_route rt = ht_route(AS);
	struct dia_msg *req = NULL;
	struct sh_snr s;

	memset(&s, 0, sizeof(s));
	s.uid.impu = cx_pl(impu);
	s.dref[s.dref_n++] = dref;
	if (si)
		s.si[s.si_n++] = cx_pl(si);
	s.subs_req_type = type;
	s.send_data = send_data;
	assert_int_equal(sh_snr_encode(&req, &rt, &s), 0);
	return ht_handle(&T, req);
}


static char repo_xml[512];

static const char *repo(const char *si, unsigned seq, const char *data)
{
	(void)snprintf(repo_xml, sizeof(repo_xml),
		       "<?xml version=\"1.0\"?><Sh-Data><RepositoryData>"
		       "<ServiceIndication>%s</ServiceIndication>"
		       "<SequenceNumber>%u</SequenceNumber>%s%s%s"
		       "</RepositoryData></Sh-Data>",
		       si, seq, data ? "<ServiceData>" : "", data ? data : "",
		       data ? "</ServiceData>" : "");
	return repo_xml;
}


/* The Sh-Data of an answer or PNR, parsed. */
static xmlDocPtr shdata(const struct pl *ud)
{
	xmlDocPtr doc;

	assert_true(pl_isset(ud));
	doc = xmlReadMemory(ud->p, (int)ud->l, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	assert_string_equal((const char *)xmlDocGetRootElement(doc)->name,
			    "Sh-Data");
	return doc;
}


/* The text of the n-th element called name anywhere in the document
 * ("" when there is none). */
static void find_text(xmlNodePtr n, const char *name, unsigned *k,
		      unsigned want, char *out, size_t size)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)n->name, name) && (*k)++ == want) {
			xmlChar *t = xmlNodeGetContent(n);
			(void)snprintf(out, size, "%s", (const char *)t);
			xmlFree(t);
			return;
		}
		find_text(n->children, name, k, want, out, size);
	}
}


static const char *text(xmlDocPtr doc, const char *name, unsigned want)
{
	static char buf[1024];
	unsigned k = 0;

	buf[0] = '\0';
	find_text(xmlDocGetRootElement(doc), name, &k, want, buf, sizeof(buf));
	return buf;
}


static unsigned count(xmlDocPtr doc, const char *name)
{
	unsigned n = 0;
	char buf[8];

	while (n < 100) {
		unsigned k = 0;

		buf[0] = '\0';
		find_text(xmlDocGetRootElement(doc), name, &k, n, buf,
			  sizeof(buf));
		if (k <= n)
			break;
		n++;
	}
	return n;
}


static xmlDocPtr uda_doc(const struct dia_msg *a)
{
	struct sh_uda uda;

	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(sh_uda_decode(a, &uda), 0);
	return shdata(&uda.user_data);
}


/* ---- UDR ---- */

static void test_udr(void **state)
{
	static const uint32_t pub = DIA_DR_IMS_PUBLIC_IDENTITY,
			      st = DIA_DR_IMS_USER_STATE,
			      sc = DIA_DR_SCSCF_NAME,
			      ifc = DIA_DR_INITIAL_FILTER_CRITERIA,
			      rd = DIA_DR_REPOSITORY_DATA,
			      loc = DIA_DR_LOCATION_INFORMATION;
	const uint32_t three[3] = { st, sc, ifc };
	struct dia_msg *a;
	xmlDocPtr d;

	(void)state;
	/* IMSPublicIdentity (10) by Identity-Set */
	a = udr(HT_AU, &pub, 1, NULL, 99);
	d = uda_doc(a);
	assert_int_equal(count(d, "IMSPublicIdentity"), 3);
	xmlFreeDoc(d);
	mem_deref(a);
	a = udr(HT_AU, &pub, 1, NULL, DIA_IMPLICIT_IDENTITIES);
	d = uda_doc(a);
	assert_int_equal(count(d, "IMSPublicIdentity"), 2);
	assert_string_equal(text(d, "IMSPublicIdentity", 0), HT_AU);
	assert_string_equal(text(d, "IMSPublicIdentity", 1), HT_ATEL);
	xmlFreeDoc(d);
	mem_deref(a);
	a = udr(HT_AU, &pub, 1, NULL, DIA_REGISTERED_IDENTITIES);
	d = uda_doc(a);
	assert_int_equal(count(d, "IMSPublicIdentity"), 0);
	xmlFreeDoc(d);
	mem_deref(a);

	/* IMSUserState (11), S-CSCFName (12), iFCs (13) */
	a = udr(HT_AU, three, 3, NULL, 99);
	d = uda_doc(a);
	assert_string_equal(text(d, "IMSUserState", 0), "1");
	assert_int_equal(count(d, "S-CSCFName"), 0);
	assert_int_equal(count(d, "InitialFilterCriteria"), 1);
	assert_string_equal(text(d, "ServerName", 0), "sip:as.ims.test");
	xmlFreeDoc(d);
	mem_deref(a);
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	a = udr(HT_ATEL, three, 3, NULL, 99);
	d = uda_doc(a);
	assert_string_equal(text(d, "IMSUserState", 0), "0");
	assert_string_equal(text(d, "S-CSCFName", 0), HT_SCSCF1);
	xmlFreeDoc(d);
	mem_deref(a);
	a = udr(HT_AU, &pub, 1, NULL, DIA_REGISTERED_IDENTITIES);
	d = uda_doc(a);
	assert_int_equal(count(d, "IMSPublicIdentity"), 2);
	xmlFreeDoc(d);
	mem_deref(a);

	/* RepositoryData (0): none yet, then what PUR stored */
	a = udr(HT_AU, &rd, 1, "call-fwd", 99);
	d = uda_doc(a);
	assert_int_equal(count(d, "RepositoryData"), 0);
	xmlFreeDoc(d);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("call-fwd", 0, "<fwd to=\"sip:x@y\"/>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = udr(HT_AU, &rd, 1, "call-fwd", 99);
	d = uda_doc(a);
	assert_string_equal(text(d, "ServiceIndication", 0), "call-fwd");
	assert_string_equal(text(d, "SequenceNumber", 0), "0");
	assert_int_equal(count(d, "fwd"), 1);
	xmlFreeDoc(d);
	mem_deref(a);

	/* a wildcarded PSI answers with the wildcard */
	a = udr("sip:conf-1@ims.test", &pub, 1, NULL, 99);
	{
		struct sh_uda uda;

		assert_int_equal(sh_uda_decode(a, &uda), 0);
		assert_true(pl_eq_str(&uda.wildcarded, HT_PSI));
	}
	mem_deref(a);

	/* errors: TS 29.329 6.2 */
	a = udr("sip:ghost@ims.test", &pub, 1, NULL, 99);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
	a = udr(HT_AU, &loc, 1, NULL, 99);
	ht_expect(a, DIA_ERROR_USER_DATA_CANNOT_BE_READ, V3);
	mem_deref(a);
	a = udr(HT_AU, &rd, 1, NULL, 99);
	ht_expect(a, DIA_MISSING_AVP, 0);
	mem_deref(a);
}


/* ---- PUR ---- */

static void test_pur(void **state)
{
	static const uint32_t rd = DIA_DR_REPOSITORY_DATA;
	struct dia_msg *a;
	xmlDocPtr d;

	(void)state;
	/* TS 29.328 6.1.2.1: created with 0, then stored + 1 */
	a = pur(HT_AU, rd, repo("vm", 1, "<a/>"));
	ht_expect(a, DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC, V3);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("vm", 0, "<a/>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("vm", 1, "<b>two</b>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("vm", 1, "<c/>")); /* a stale copy */
	ht_expect(a, DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC, V3);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("vm", 5, "<c/>"));
	ht_expect(a, DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC, V3);
	mem_deref(a);
	a = udr(HT_AU, &rd, 1, "vm", 99);
	d = uda_doc(a);
	assert_string_equal(text(d, "SequenceNumber", 0), "1");
	assert_string_equal(text(d, "b", 0), "two");
	xmlFreeDoc(d);
	mem_deref(a);
	/* no ServiceData: delete */
	a = pur(HT_AU, rd, repo("vm", 2, NULL));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = udr(HT_AU, &rd, 1, "vm", 99);
	d = uda_doc(a);
	assert_int_equal(count(d, "RepositoryData"), 0);
	xmlFreeDoc(d);
	mem_deref(a);

	/* what may not be updated, what is not Sh-Data, too much */
	a = pur(HT_AU, DIA_DR_IMS_USER_STATE, repo("vm", 0, "<a/>"));
	ht_expect(a, DIA_ERROR_USER_DATA_CANNOT_BE_MODIFIED, V3);
	mem_deref(a);
	a = pur(HT_AU, rd, "<Sh-Data><RepositoryData>");
	ht_expect(a, DIA_ERROR_USER_DATA_NOT_RECOGNIZED, V3);
	mem_deref(a);
	a = pur(HT_AU, rd, "<!DOCTYPE x [<!ENTITY e \"x\">]><Sh-Data/>");
	ht_expect(a, DIA_ERROR_USER_DATA_NOT_RECOGNIZED, V3);
	mem_deref(a);
	a = pur(HT_AU, rd,
		"<Sh-Data><RepositoryData><ServiceIndication>x"
		"</ServiceIndication></RepositoryData></Sh-Data>");
	ht_expect(a, DIA_ERROR_USER_DATA_NOT_RECOGNIZED, V3);
	mem_deref(a);
	{
		static char big[20000], xml[21000];

		memset(big, 'x', sizeof(big) - 1);
		(void)snprintf(xml, sizeof(xml),
			       "<Sh-Data><RepositoryData><ServiceIndication>"
			       "big</ServiceIndication><SequenceNumber>0"
			       "</SequenceNumber><ServiceData><d>%s</d>"
			       "</ServiceData></RepositoryData></Sh-Data>",
			       big);
		a = pur(HT_AU, rd, xml);
		ht_expect(a, DIA_ERROR_TOO_MUCH_DATA, V3);
		mem_deref(a);
	}
	a = pur("sip:ghost@ims.test", rd, repo("vm", 0, "<a/>"));
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);
}


/* ---- SNR and PNR ---- */

static struct dia_msg *sent_pnr(size_t n, struct sh_pnr *pnr)
{
	struct dia_msg *req;
	struct pl dh;

	assert_true(n < T.sent_n);
	req = ht_wire(T.sent[n]);
	assert_int_equal(req->code, DIA_CMD_PN);
	assert_int_equal(sh_pnr_decode(req, pnr), 0);
	assert_int_equal(
		dia_get_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0, &dh), 0);
	assert_true(pl_eq_str(&dh, AS));
	return req;
}


static void test_snr_pnr(void **state)
{
	static const uint32_t rd = DIA_DR_REPOSITORY_DATA;
	struct dia_msg *a, *req;
	struct sh_pnr pnr;
	struct sh_sna sna;
	xmlDocPtr d;
	time_t now = time(NULL);

	(void)state;
	/* TS 29.329 6.2.2.6: data that is not there cannot be subscribed */
	a = snr(HT_AU, rd, "vm", DIA_SUBS_SUBSCRIBE, -1);
	ht_expect(a, DIA_ERROR_SUBS_DATA_ABSENT, V3);
	mem_deref(a);
	a = snr(HT_AU, DIA_DR_LOCATION_INFORMATION, NULL, DIA_SUBS_SUBSCRIBE,
		-1);
	ht_expect(a, DIA_ERROR_USER_DATA_CANNOT_BE_NOTIFIED, V3);
	mem_deref(a);
	a = snr("sip:ghost@ims.test", rd, "vm", DIA_SUBS_SUBSCRIBE, -1);
	ht_expect(a, DIA_ERROR_USER_UNKNOWN, V3);
	mem_deref(a);

	a = pur(HT_AU, rd, repo("vm", 0, "<greeting>hi</greeting>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(T.sent_n, 0); /* nobody subscribed yet */

	/* subscribe, with the current data in the answer */
	a = snr(HT_AU, rd, "vm", DIA_SUBS_SUBSCRIBE, 1);
	ht_expect(a, DIA_SUCCESS, 0);
	assert_int_equal(sh_sna_decode(a, &sna), 0);
	assert_true(sna.has_expiry);
	assert_true(sna.expiry > (uint64_t)now &&
		    sna.expiry <= (uint64_t)now + 86400 + 1);
	d = shdata(&sna.user_data);
	assert_string_equal(text(d, "greeting", 0), "hi");
	xmlFreeDoc(d);
	mem_deref(a);

	/* an update is pushed to the subscriber */
	a = pur(HT_AU, rd, repo("vm", 1, "<greeting>bye</greeting>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(T.sent_n, 1);
	req = sent_pnr(0, &pnr);
	assert_true(pl_eq_str(&pnr.uid.impu, HT_AU));
	d = shdata(&pnr.user_data);
	assert_string_equal(text(d, "greeting", 0), "bye");
	assert_string_equal(text(d, "SequenceNumber", 0), "1");
	xmlFreeDoc(d);
	mem_deref(req);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);

	/* IMSUserState and S-CSCFName subscribers hear of a SAR */
	a = snr(HT_AU, DIA_DR_IMS_USER_STATE, NULL, DIA_SUBS_SUBSCRIBE, -1);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(T.sent_n, 2);
	req = sent_pnr(1, &pnr);
	d = shdata(&pnr.user_data);
	assert_string_equal(text(d, "IMSUserState", 0), "0");
	xmlFreeDoc(d);
	mem_deref(req);
	/* an AS that no longer wants it: the subscription goes */
	ht_answer_sent(&T, 1, DIA_ERROR_NO_SUBSCRIPTION_TO_DATA, V3);
	a = ht_sar(&T, HT_ALICE, HT_AU, HT_SCSCF1, DIA_SAT_USER_DEREGISTRATION,
		   0);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(T.sent_n, 2);

	/* unsubscribe: no more PNR */
	a = snr(HT_AU, rd, "vm", DIA_SUBS_UNSUBSCRIBE, -1);
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	a = pur(HT_AU, rd, repo("vm", 2, "<greeting>again</greeting>"));
	ht_expect(a, DIA_SUCCESS, 0);
	mem_deref(a);
	assert_int_equal(T.sent_n, 2);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pur, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snr_pnr, setup, teardown),
	};
	int r;

	r = cmocka_run_group_tests_name("hss_sh", tests, NULL, NULL);
	xmlCleanupParser();
	return r;
}
