/**
 * @file test_cscf_regevent.c  The reg event package (RFC 3680, TS 24.229
 * 5.4.2.1): the reginfo codec validated against the RFC 3680 5.3 schema
 * (and RFC 5628's GRUU extension) and round-tripped; hostile documents
 * refused; the S-CSCF notifier driven by SUBSCRIBEs built as text and by
 * registrar snapshots (authorisation, 489/406/423/403/404/481/500, full
 * then partial NOTIFYs with versions and CSeqs, refresh, unsubscribe,
 * fetch, expiry on a frozen clock, every kind of deregistration, NOTIFY
 * failures, restart from the memory and the SQLite store); the
 * subscriber side fed with the notifier's own NOTIFYs (full, partial,
 * gaps, stale versions, terminated registrations and contacts).
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
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "cscf/regevent.h"
#include "cscf/reginfo.h"
#include "sip/msg.h"

#define XSD_DIR      ENTIMS_SOURCE_DIR "/tests/data/sip/"
#define XSD_REGINFO  XSD_DIR "reginfo.xsd"
#define XSD_WITHGRUU XSD_DIR "reginfo-gruu.xsd"
#define T0           5000000u

static const char alice[] = "sip:alice@home.net";
static const char alice_tel[] = "tel:+1-555-1234";
static const char instance[] =
	"\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"";

/* ---- schema validation ------------------------------------------------ */

static void schema_error(void *arg, xmlErrorPtr e)
{
	int *count = arg;

	(*count)++;
	print_message("schema: line %d: %s", e->line, e->message);
}


/* The number of schema errors of a document (0 = valid). */
static int validate(const char *xsd, const char *xml, size_t len)
{
	xmlSchemaParserCtxtPtr pc;
	xmlSchemaValidCtxtPtr vc;
	xmlSchemaPtr schema;
	xmlDocPtr doc;
	int errors = 0, rc;

	pc = xmlSchemaNewParserCtxt(xsd);
	assert_non_null(pc);
	schema = xmlSchemaParse(pc);
	assert_non_null(schema);
	vc = xmlSchemaNewValidCtxt(schema);
	assert_non_null(vc);
	xmlSchemaSetValidStructuredErrors(vc, schema_error, &errors);
	doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	rc = xmlSchemaValidateDoc(vc, doc);
	if (rc != 0 && errors == 0)
		errors = rc < 0 ? 1 : rc;
	xmlFreeDoc(doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	return errors;
}


/* ---- codec ------------------------------------------------------------ */

static struct reginfo *rich_doc(void)
{
	struct reginfo *ri = reginfo_alloc(7, REGINFO_PARTIAL);
	struct reginfo_reg *reg;
	struct reginfo_contact *ct;

	assert_non_null(ri);
	reg = reginfo_reg_add(ri, alice, "r1", REGINFO_REG_ACTIVE);
	assert_non_null(reg);
	ct = reginfo_contact_add(reg, "c1", "sip:alice@192.0.2.1:5060;ob",
				 REGINFO_CT_ACTIVE, REGINFO_EV_REGISTERED);
	assert_non_null(ct);
	ct->has_expires = true;
	ct->expires = 3600;
	ct->has_duration = true;
	ct->duration = 12;
	ct->has_q = true;
	ct->q = 500;
	ct->has_cseq = true;
	ct->cseq = 4294967296ull;
	assert_int_equal(reginfo_str_set(&ct->callid, "a84b4c76e66710@pc33"),
			 0);
	assert_int_equal(reginfo_str_set(&ct->display_name,
					 "Alice \"A&B\" <x> \xc3\xa9"),
			 0);
	assert_non_null(reginfo_param_add(ct, "+sip.instance", instance));
	assert_non_null(reginfo_param_add(ct, "+g.3gpp.smsip", NULL));
	assert_non_null(reginfo_param_add(ct, "audio", "a&b"));
	assert_int_equal(reginfo_str_set(&ct->pub_gruu,
					 "sip:alice@home.net;gr=urn:uuid:1"),
			 0);
	assert_int_equal(
		reginfo_str_set(&ct->temp_gruu, "sip:tgruu.7hs==@home.net;gr"),
		0);
	ct->temp_gruu_cseq = 9;
	ct = reginfo_contact_add(reg, "c2", "sip:alice@198.51.100.7",
				 REGINFO_CT_TERMINATED, REGINFO_EV_PROBATION);
	assert_non_null(ct);
	ct->has_retry_after = true;
	ct->retry_after = 30;
	ct->has_q = true;
	ct->q = 1000;
	reg = reginfo_reg_add(ri, "tel:+15551234", "r2", REGINFO_REG_INIT);
	assert_non_null(reg);
	reg = reginfo_reg_add(ri, "sip:old@home.net", "r3",
			      REGINFO_REG_TERMINATED);
	assert_non_null(reg);
	assert_non_null(reginfo_contact_add(reg, "c9", "sip:old@192.0.2.9",
					    REGINFO_CT_TERMINATED,
					    REGINFO_EV_REJECTED));
	return ri;
}


static void assert_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}


static void assert_same(const struct reginfo *a, const struct reginfo *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->reg_n, b->reg_n);
	for (size_t i = 0; i < a->reg_n; i++) {
		const struct reginfo_reg *x = &a->reg[i], *y = &b->reg[i];

		assert_string_equal(x->aor, y->aor);
		assert_string_equal(x->id, y->id);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->ct_n, y->ct_n);
		for (size_t j = 0; j < x->ct_n; j++) {
			const struct reginfo_contact *c = &x->ct[j],
						     *d = &y->ct[j];

			assert_string_equal(c->id, d->id);
			assert_string_equal(c->uri, d->uri);
			assert_int_equal(c->state, d->state);
			assert_int_equal(c->event, d->event);
			assert_int_equal(c->has_expires, d->has_expires);
			assert_true(c->expires == d->expires);
			assert_int_equal(c->has_duration, d->has_duration);
			assert_true(c->duration == d->duration);
			assert_int_equal(c->has_retry_after,
					 d->has_retry_after);
			assert_true(c->retry_after == d->retry_after);
			assert_int_equal(c->has_q, d->has_q);
			assert_int_equal(c->q, d->q);
			assert_int_equal(c->has_cseq, d->has_cseq);
			assert_true(c->cseq == d->cseq);
			assert_str(c->callid, d->callid);
			assert_str(c->display_name, d->display_name);
			assert_str(c->pub_gruu, d->pub_gruu);
			assert_str(c->temp_gruu, d->temp_gruu);
			assert_true(c->temp_gruu_cseq == d->temp_gruu_cseq);
			assert_int_equal(c->param_n, d->param_n);
			for (size_t k = 0; k < c->param_n; k++) {
				assert_string_equal(c->param[k].name,
						    d->param[k].name);
				assert_str(c->param[k].value,
					   d->param[k].value);
			}
		}
	}
}


static void test_codec_roundtrip(void **state)
{
	struct reginfo *ri = rich_doc(), *back = NULL;
	struct buf *mb = NULL, *mb2 = NULL;
	char err[160];

	(void)state;
	assert_int_equal(buf_alloc(&mb, 1024, 65536), 0);
	assert_int_equal(buf_alloc(&mb2, 1024, 65536), 0);
	assert_int_equal(reginfo_encode(mb, ri), 0);
	/* valid for RFC 3680 alone (GRUU elements lax) and with RFC 5628 */
	assert_int_equal(validate(XSD_REGINFO, (char *)mb->b, mb->end), 0);
	assert_int_equal(validate(XSD_WITHGRUU, (char *)mb->b, mb->end), 0);
	assert_non_null(strstr((char *)mb->b, "q=\"0.5\""));
	assert_non_null(strstr((char *)mb->b, "cseq=\"4294967296\""));
	assert_non_null(strstr((char *)mb->b, "&lt;urn:uuid:"));

	assert_int_equal(
		reginfo_decode(&back, (char *)mb->b, mb->end, err, sizeof(err)),
		0);
	assert_same(ri, back);
	assert_int_equal(reginfo_encode(mb2, back), 0);
	assert_int_equal(mb->end, mb2->end);
	assert_memory_equal(mb->b, mb2->b, mb->end);

	/* the validation is not vacuous: a wrong enumeration fails it */
	{
		char *p = strstr((char *)mb->b, "event=\"probation\"");

		assert_non_null(p);
		memcpy(p, "event=\"probatiom\"", 17);
		assert_true(validate(XSD_REGINFO, (char *)mb->b, mb->end) > 0);
	}
	mem_deref(mb);
	mem_deref(mb2);
	mem_deref(back);
	mem_deref(ri);
}


static void test_codec_encode_refused(void **state)
{
	struct reginfo *ri = reginfo_alloc(0, REGINFO_FULL);
	struct reginfo_reg *reg;
	struct reginfo_contact *ct;
	struct buf *mb = NULL;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 256, 65536), 0);
	reg = reginfo_reg_add(ri, alice, "r1", REGINFO_REG_ACTIVE);
	ct = reginfo_contact_add(reg, "c1", "sip:a@b", REGINFO_CT_ACTIVE,
				 REGINFO_EV_REGISTERED);
	assert_non_null(ct);
	ct->has_q = true;
	ct->q = 1001;
	assert_int_equal(reginfo_encode(mb, ri), EINVAL);
	ct->q = 0;
	assert_int_equal(reginfo_str_set(&ct->callid, "bad\x01id"), 0);
	assert_int_equal(reginfo_encode(mb, ri), EINVAL);
	assert_int_equal(reginfo_str_set(&ct->callid, "bad\xc3"), 0);
	assert_int_equal(reginfo_encode(mb, ri), EINVAL);
	assert_int_equal(reginfo_str_set(&ct->callid, NULL), 0);
	ct->event = REGINFO_EV_NUM;
	assert_int_equal(reginfo_encode(mb, ri), EINVAL);
	ct->event = REGINFO_EV_REJECTED;
	mb->end = 0;
	assert_int_equal(reginfo_encode(mb, ri), 0);
	assert_non_null(strstr((char *)mb->b, "q=\"0.0\""));
	assert_null(reginfo_reg_add(ri, NULL, "x", REGINFO_REG_INIT));
	mem_deref(mb);
	mem_deref(ri);
}


/* What peers send: Kamailio's pua_reginfo layout, white space, feature
 * tags without value, an extension element of another namespace. */
static void test_codec_decode_peer(void **state)
{
	static const char doc[] =
		"<?xml version=\"1.0\"?>\n"
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		"xmlns:x=\"urn:example:ext\" version=\"3\" state=\"partial\">\n"
		"\t<registration aor=\" sip:carol@home.net \" id=\"0xb33fa860\""
		" state=\"active\">\n"
		"\t\t<contact id=\"0xb33fa994\" state=\"active\" "
		"event=\"refreshed\" expires=\" 3600 \" q=\"0.25\">\n"
		"\t\t\t<uri>\n sip:carol@10.0.0.1:43582;transport=udp\n</uri>\n"
		"\t\t\t<unknown-param "
		"name=\"+g.3gpp.cs-voice\"></unknown-param>\n"
		"\t\t\t<unknown-param "
		"name=\"+sip.instance\">&quot;&lt;urn:gsma:"
		"imei:35622410-483840-0&gt;&quot;</unknown-param>\n"
		"\t\t\t<x:thing a=\"1\"><x:deeper/></x:thing>\n"
		"\t\t</contact>\n\t\t<x:regext/>\n"
		"\t</registration>\n\t<x:docext/>\n"
		"</reginfo>\n";
	struct reginfo *ri = NULL;
	const struct reginfo_contact *ct;
	char err[160];

	(void)state;
	assert_int_equal(
		reginfo_decode(&ri, doc, sizeof(doc) - 1, err, sizeof(err)), 0);
	assert_int_equal(ri->version, 3);
	assert_int_equal(ri->state, REGINFO_PARTIAL);
	assert_int_equal(ri->reg_n, 1);
	assert_string_equal(ri->reg[0].aor, "sip:carol@home.net");
	assert_int_equal(ri->reg[0].ct_n, 1);
	ct = &ri->reg[0].ct[0];
	assert_string_equal(ct->uri, "sip:carol@10.0.0.1:43582;transport=udp");
	assert_int_equal(ct->event, REGINFO_EV_REFRESHED);
	assert_true(ct->has_expires && ct->expires == 3600);
	assert_true(ct->has_q && ct->q == 250);
	assert_int_equal(ct->param_n, 2);
	assert_null(ct->param[0].value);
	assert_string_equal(ct->param[1].value,
			    "\"<urn:gsma:imei:35622410-483840-0>\"");
	mem_deref(ri);
}


static void test_codec_hostile(void **state)
{
	static const struct {
		const char *what;
		const char *xml;
		int err;
	} tab[] = {
		{ "billion laughs",
		  "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\">"
		  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\">&b;</reginfo>",
		  EBADMSG },
		{ "external entity",
		  "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM "
		  "\"file:///etc/passwd\">]><reginfo xmlns=\"urn:ietf:params:"
		  "xml:ns:reginfo\" version=\"0\" state=\"full\">"
		  "<registration aor=\"sip:a@b\" id=\"1\" state=\"active\">"
		  "<contact id=\"1\" state=\"active\" event=\"registered\">"
		  "<uri>&x;</uri></contact></registration></reginfo>",
		  EBADMSG },
		{ "undeclared entity",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\"><uri>&x;</uri></contact>"
		  "</registration></reginfo>",
		  EBADMSG },
		{ "not XML", "registration: active", EBADMSG },
		{ "truncated",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration",
		  EBADMSG },
		{ "empty", "", EBADMSG },
		{ "no namespace", "<reginfo version=\"0\" state=\"full\"/>",
		  EBADMSG },
		{ "other namespace",
		  "<reginfo xmlns=\"urn:example\" version=\"0\" "
		  "state=\"full\"/>",
		  EBADMSG },
		{ "wrong root",
		  "<presence xmlns=\"urn:ietf:params:xml:ns:reginfo\"/>",
		  EBADMSG },
		{ "no version",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "state=\"full\"/>",
		  EBADMSG },
		{ "negative version",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"-1\" state=\"full\"/>",
		  EBADMSG },
		{ "version above 32 bits",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"4294967296\" state=\"full\"/>",
		  EBADMSG },
		{ "version above 64 bits",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"99999999999999999999999\" state=\"full\"/>",
		  EBADMSG },
		{ "bad doc state",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"half\"/>",
		  EBADMSG },
		{ "registration without aor",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration id=\"1\" "
		  "state=\"active\"/></reginfo>",
		  EBADMSG },
		{ "bad registration state",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"gone\"/></reginfo>",
		  EBADMSG },
		{ "contact without uri",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\"/></registration></reginfo>",
		  EBADMSG },
		{ "bad event",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"vanished\"><uri>sip:x@y</uri></contact>"
		  "</registration></reginfo>",
		  EBADMSG },
		{ "bad q",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\" q=\"1.5\"><uri>sip:x@y</uri></contact>"
		  "</registration></reginfo>",
		  EBADMSG },
		{ "bad expires",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\" expires=\"-5\"><uri>sip:x@y</uri>"
		  "</contact></registration></reginfo>",
		  EBADMSG },
		{ "element inside uri",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\"><uri><b/></uri></contact>"
		  "</registration></reginfo>",
		  EBADMSG },
		{ "two uris",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><registration aor=\"sip:a@b\" "
		  "id=\"1\" state=\"active\"><contact id=\"1\" state=\"active\""
		  " event=\"registered\"><uri>sip:x@y</uri><uri>sip:z@y</uri>"
		  "</contact></registration></reginfo>",
		  EBADMSG },
		{ "unknown reginfo element",
		  "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		  "version=\"0\" state=\"full\"><bogus/></reginfo>",
		  EBADMSG },
	};
	struct reginfo *ri = NULL;
	struct buf *mb = NULL;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		err[0] = '\0';
		if (reginfo_decode(&ri, tab[i].xml, strlen(tab[i].xml), err,
				   sizeof(err)) != tab[i].err)
			fail_msg("%s: not refused", tab[i].what);
		if (!err[0])
			fail_msg("%s: refused without a reason", tab[i].what);
	}

	/* too many registrations, too many contacts, too big */
	assert_int_equal(buf_alloc(&mb, 4096, 4u * REGINFO_MAX), 0);
	assert_int_equal(buf_printf(mb, "<reginfo xmlns=\"" REGINFO_NS
					"\" version=\"0\" state=\"full\">"),
			 0);
	for (unsigned i = 0; i <= REGINFO_REG_MAX; i++)
		assert_int_equal(
			buf_printf(mb,
				   "<registration aor=\"sip:u%u@b\" id=\"%u\""
				   " state=\"init\"/>",
				   i, i),
			0);
	assert_int_equal(buf_printf(mb, "</reginfo>"), 0);
	assert_int_equal(
		reginfo_decode(&ri, (char *)mb->b, mb->end, err, sizeof(err)),
		EBADMSG);
	assert_non_null(strstr(err, "more than"));

	mb->end = 0;
	assert_int_equal(buf_printf(mb, "<reginfo xmlns=\"" REGINFO_NS
					"\" version=\"0\" state=\"full\">"
					"<registration aor=\"sip:a@b\" id=\"r\""
					" state=\"active\">"),
			 0);
	for (unsigned i = 0; i <= REGINFO_CT_MAX; i++)
		assert_int_equal(
			buf_printf(mb,
				   "<contact id=\"%u\" state=\"active\" "
				   "event=\"registered\"><uri>sip:c%u@h</uri>"
				   "</contact>",
				   i, i),
			0);
	assert_int_equal(buf_printf(mb, "</registration></reginfo>"), 0);
	assert_int_equal(
		reginfo_decode(&ri, (char *)mb->b, mb->end, err, sizeof(err)),
		EBADMSG);

	assert_int_equal(reginfo_decode(&ri, (char *)mb->b, REGINFO_MAX + 1,
					err, sizeof(err)),
			 EMSGSIZE);
	assert_null(ri);
	mem_deref(mb);
}


/* ---- the notifier: fixtures ------------------------------------------ */

struct rec_reply {
	uint16_t scode;
	char reason[96];
	char hdrs[512];
	char totag[32];
	uint64_t sub_id;
};

struct rec_notify {
	uint64_t sub_id;
	char ruri[256];
	char hdrs[2048];
	char body[8192];
	size_t blen;
	char raw[12288];
	size_t rawlen;
	uint32_t cseq;
	uint32_t version;
	bool full;
	bool terminated;
	char reason[32];
};

static struct rec_reply g_rep[8];
static size_t g_nrep;
static struct rec_notify g_nt[16];
static size_t g_nn;
static struct regevent *g_re;    /* for the re-entrant result test */
static uint16_t g_answer_notify; /* when set: answer each NOTIFY so */
static char g_text[8192];
static struct sip_msg g_msg;
static struct regevent_store *g_store;
static char g_dir[64];


static void on_reply(const struct regevent_reply *rep, void *arg)
{
	struct rec_reply *r;

	(void)arg;
	assert_true(g_nrep < 8);
	r = &g_rep[g_nrep++];
	memset(r, 0, sizeof(*r));
	r->scode = rep->scode;
	(void)snprintf(r->reason, sizeof(r->reason), "%s", rep->reason);
	(void)snprintf(r->hdrs, sizeof(r->hdrs), "%s", rep->hdrs);
	(void)snprintf(r->totag, sizeof(r->totag), "%.*s", PL_FMT(&rep->totag));
	r->sub_id = rep->sub_id;
	/* every NOTIFY comes after the answer */
	assert_int_equal(g_nn, 0);
}


static void on_notify(const struct regevent_notify *n, void *arg)
{
	struct rec_notify *r;
	struct buf *mb = NULL;

	(void)arg;
	assert_true(g_nn < 16);
	r = &g_nt[g_nn++];
	memset(r, 0, sizeof(*r));
	r->sub_id = n->sub_id;
	(void)snprintf(r->ruri, sizeof(r->ruri), "%s", n->ruri);
	(void)snprintf(r->hdrs, sizeof(r->hdrs), "%s", n->hdrs);
	assert_true(n->body.l < sizeof(r->body));
	memcpy(r->body, n->body.p, n->body.l);
	r->blen = n->body.l;
	r->cseq = n->cseq;
	r->version = n->version;
	r->full = n->full;
	r->terminated = n->terminated;
	(void)snprintf(r->reason, sizeof(r->reason), "%s",
		       n->reason ? n->reason : "");
	assert_int_equal(buf_alloc(&mb, 4096, sizeof(r->raw)), 0);
	assert_int_equal(
		regevent_notify_print(mb, n,
				      "Via: SIP/2.0/UDP 10.0.0.3:6060;branch="
				      "z9hG4bKn1"),
		0);
	memcpy(r->raw, mb->b, mb->end);
	r->rawlen = mb->end;
	mem_deref(mb);
	/* every body the notifier sends is valid RFC 3680 */
	assert_int_equal(validate(XSD_REGINFO, r->body, r->blen), 0);
	if (g_answer_notify)
		regevent_notify_result(g_re, n->sub_id, n->cseq,
				       g_answer_notify);
}


static void clear(void)
{
	g_nrep = 0;
	g_nn = 0;
}


static int setup(void **state)
{
	tmr_test_set_now(T0);
	if (loop_init(64))
		return -1;
	clear();
	g_answer_notify = 0;
	g_re = NULL;
	g_store = NULL;
	g_dir[0] = '\0';
	return mem_mark(state);
}


static int teardown(void **state)
{
	int r = mem_expect_no_leaks(state);

	loop_close();
	tmr_test_set_now(0);
	if (g_dir[0]) {
		char path[128];

		(void)snprintf(path, sizeof(path), "%s/sub.sqlite", g_dir);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s/sub.sqlite-wal", g_dir);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s/sub.sqlite-shm", g_dir);
		(void)unlink(path);
		if (rmdir(g_dir) != 0)
			r = -1;
	}
	return r;
}


static struct regevent *notifier(struct regevent_store *st)
{
	struct regevent_conf conf = {
		.contact = "sip:scscf.home.net:6060",
		.min_expires = 60,
		.max_expires = 7200,
		.store = st,
		.notifyh = on_notify,
	};
	struct regevent *re = NULL;

	assert_int_equal(regevent_alloc(&re, &conf), 0);
	g_re = re;
	return re;
}


struct sreq {
	const char *ruri;
	const char *pai; /* NULL: none */
	const char *callid;
	const char *ftag;
	const char *ttag; /* NULL: initial */
	uint32_t cseq;
	const char *event;
	int expires; /* -1: no Expires */
	const char *extra;
	const char *contact; /* NULL: the UE's */
};


static void decode(const char *text)
{
	struct sip_msg_err e;
	size_t len = strlen(text);

	assert_true(len < sizeof(g_text));
	memcpy(g_text, text, len);
	if (sip_msg_decode(&g_msg, g_text, len, true, &e))
		fail_msg("decode failed: %u %s", e.scode,
			 e.reason ? e.reason : "");
}


/* Build, decode and hand a SUBSCRIBE to the notifier. */
static void subscribe(struct regevent *re, const struct sreq *q)
{
	char text[4096], exp[32] = "", pai[256] = "", to[64] = "";

	if (q->expires >= 0)
		(void)snprintf(exp, sizeof(exp), "Expires: %d\r\n", q->expires);
	if (q->pai)
		(void)snprintf(pai, sizeof(pai),
			       "P-Asserted-Identity: <%s>\r\n", q->pai);
	if (q->ttag)
		(void)snprintf(to, sizeof(to), ";tag=%s", q->ttag);
	(void)snprintf(text, sizeof(text),
		       "SUBSCRIBE %s SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s%u\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:alice@home.net>;tag=%s\r\n"
		       "To: <%s>%s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: %u SUBSCRIBE\r\n"
		       "Contact: <%s>\r\n"
		       "Record-Route: <sip:pcscf.home.net;lr>\r\n"
		       "%sEvent: %s\r\n%s%s"
		       "Content-Length: 0\r\n\r\n",
		       q->ruri, q->callid, q->cseq, q->ftag, q->ruri, to,
		       q->callid, q->cseq,
		       q->contact ? q->contact : "sip:alice@192.0.2.1:5060;ob",
		       pai, q->event ? q->event : "reg", exp,
		       q->extra ? q->extra : "");
	decode(text);
	assert_int_equal(regevent_subscribe(re, &g_msg, on_reply, NULL), 0);
}


static struct sreq ue_sub(void)
{
	struct sreq q = {
		.ruri = alice,
		.pai = alice,
		.callid = "sub-1@ue",
		.ftag = "ue1",
		.cseq = 1,
		.expires = 600000,
	};

	return q;
}


static const char *const g_as[] = { "sip:as.home.net:5070", NULL };

/* Alice's implicit set: sip:alice and tel:+15551234, with the contacts
 * given (the same binding for both IMPUs, as in TS 24.229). */
static void report(struct regevent *re, enum reginfo_reg_state st,
		   const struct regevent_contact *ct, size_t n)
{
	struct regevent_reg reg[2] = {
		{ alice, st, ct, n },
		{ alice_tel, st, ct, n },
	};
	struct regevent_set set = { reg, 2, g_as };

	assert_int_equal(regevent_update(re, &set), 0);
}


static struct regevent_contact c1(enum reginfo_event ev, bool changed)
{
	static const struct regevent_param params[] = {
		{ "+g.3gpp.icsi-ref", "\"urn%3Aurn-7%3A3gpp-service.ims.icsi."
				      "mmtel\"" },
		{ "audio", NULL },
	};
	struct regevent_contact c = {
		.id = "b1",
		.uri = "sip:alice@192.0.2.1:5060;ob",
		.state = reginfo_event_terminates(ev) ? REGINFO_CT_TERMINATED
						      : REGINFO_CT_ACTIVE,
		.event = ev,
		.changed = changed,
		.expires = 3600,
		.q = -1,
		.callid = "reg-cid-1",
		.cseq = 2,
		.instance = instance,
		.params = params,
		.param_n = 2,
		.path = "<sip:term@pcscf.home.net;lr>",
	};

	return c;
}


static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}


static struct reginfo *body_of(const struct rec_notify *n)
{
	struct reginfo *ri = NULL;
	char err[160];

	if (reginfo_decode(&ri, n->body, n->blen, err, sizeof(err)))
		fail_msg("NOTIFY body: %s", err);
	return ri;
}


/* ---- kept state: packed, shared --------------------------------------- */

static struct reginfo *pack_doc(void)
{
	struct reginfo *ri = reginfo_alloc(3, REGINFO_FULL);
	struct reginfo_reg *reg =
		reginfo_reg_add(ri, alice, "r1", REGINFO_REG_ACTIVE);
	struct reginfo_contact *ct;

	ct = reginfo_contact_add(reg, "c1", "sip:alice@192.0.2.1:5060;ob",
				 REGINFO_CT_ACTIVE, REGINFO_EV_REFRESHED);
	ct->has_expires = true;
	ct->expires = 3599;
	ct->has_duration = true;
	ct->duration = 1ull << 40;
	ct->has_q = true;
	ct->q = 500;
	ct->has_cseq = true;
	ct->cseq = 7;
	assert_int_equal(reginfo_str_set(&ct->callid, "cid-1"), 0);
	assert_int_equal(reginfo_str_set(&ct->display_name, "Alice"), 0);
	assert_int_equal(reginfo_str_set(&ct->pub_gruu, "sip:a@h;gr=x"), 0);
	assert_int_equal(reginfo_str_set(&ct->temp_gruu, "sip:t@h;gr"), 0);
	ct->temp_gruu_cseq = 9;
	assert_non_null(reginfo_param_add(ct, "+sip.instance", instance));
	assert_non_null(reginfo_param_add(ct, "audio", NULL));
	assert_non_null(reginfo_param_add(ct, "x-own", "v"));
	ct = reginfo_contact_add(reg, "c2", "sip:alice@192.0.2.2",
				 REGINFO_CT_TERMINATED, REGINFO_EV_EXPIRED);
	ct->has_expires = true;
	assert_non_null(reginfo_reg_add(ri, alice_tel, "r2", REGINFO_REG_INIT));
	return ri;
}


static void encode_to(const struct reginfo *ri, char *out, size_t size)
{
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 1024, size - 1), 0);
	assert_int_equal(reginfo_encode(mb, ri), 0);
	memcpy(out, mb->b, mb->end);
	out[mb->end] = '\0';
	mem_deref(mb);
}


/* The packed form gives back the same document (every member), the
 * flags leave out what they say, and damaged bytes are refused with the
 * document unchanged. */
static void test_pack_roundtrip(void **state)
{
	struct reginfo *ri = pack_doc(), *back = reginfo_alloc(3, REGINFO_FULL);
	static char x1[4096], x2[4096];
	uint8_t *pk;
	size_t n, m;

	(void)state;
	n = reginfo_pack(NULL, 0, ri, 0);
	pk = mem_alloc(n, NULL);
	assert_int_equal(reginfo_pack(pk, n, ri, 0), n);
	/* a short buffer gets nothing past its end */
	assert_int_equal(reginfo_pack(pk, 3, ri, 0), n);
	assert_int_equal(reginfo_pack(pk, n, ri, 0), n);
	assert_int_equal(reginfo_unpack(back, pk, n), 0);
	encode_to(ri, x1, sizeof(x1));
	encode_to(back, x2, sizeof(x2));
	assert_string_equal(x1, x2);
	assert_true(has(x1, "x-own"));
	assert_true(has(x1, "temp-gruu"));

	/* every truncation and a bad enumeration are EBADMSG, nothing added */
	for (m = 0; m < n; m++) {
		int err = reginfo_unpack(back, pk, m);

		assert_true(m == 0 ? err == 0 : err == EBADMSG);
		assert_int_equal(back->reg_n, 2);
	}
	pk[1] = 9; /* the first registration's state (after reg_n) */
	assert_int_equal(reginfo_unpack(back, pk, n), EBADMSG);
	assert_int_equal(back->reg_n, 2);
	mem_deref(pk);

	/* one registration without its key, active contacts, slim */
	n = reginfo_reg_pack(NULL, 0, &ri->reg[0],
			     REGINFO_PACK_NOKEY | REGINFO_PACK_ACTIVE |
				     REGINFO_PACK_SLIM);
	pk = mem_alloc(n, NULL);
	(void)reginfo_reg_pack(pk, n, &ri->reg[0],
			       REGINFO_PACK_NOKEY | REGINFO_PACK_ACTIVE |
				       REGINFO_PACK_SLIM);
	assert_int_equal(reginfo_reg_unpack(back, pk, n, "sip:b@h", "rb"), 0);
	assert_int_equal(back->reg_n, 3);
	assert_string_equal(back->reg[2].aor, "sip:b@h");
	assert_string_equal(back->reg[2].id, "rb");
	assert_int_equal(back->reg[2].ct_n, 1);
	assert_string_equal(back->reg[2].ct[0].uri,
			    "sip:alice@192.0.2.1:5060;ob");
	assert_int_equal(back->reg[2].ct[0].event, REGINFO_EV_REFRESHED);
	assert_true(back->reg[2].ct[0].expires == 3599);
	assert_null(back->reg[2].ct[0].callid);
	assert_int_equal(back->reg[2].ct[0].param_n, 0);
	/* packed without key, read as with one: refused */
	assert_int_equal(reginfo_reg_unpack(back, pk, n, NULL, NULL), EBADMSG);
	assert_int_equal(back->reg_n, 3);
	mem_deref(pk);
	mem_deref(back);
	mem_deref(ri);
}


/* Set B: bob's IMPU alone, behind the same P-CSCF and AS as alice. */
static void report_bob(struct regevent *re, enum reginfo_reg_state st)
{
	struct regevent_contact c = c1(REGINFO_EV_REGISTERED, true);
	struct regevent_reg reg = { "sip:bob@home.net", st, &c, 1 };
	struct regevent_set set = { &reg, 1, g_as };

	c.id = "bb";
	c.uri = "sip:bob@192.0.2.9";
	if (st == REGINFO_REG_TERMINATED) {
		c.state = REGINFO_CT_TERMINATED;
		c.event = REGINFO_EV_UNREGISTERED;
	}
	assert_int_equal(regevent_update(re, &set), 0);
}


/* What is the same for many users is kept once: the hosts allowed to
 * subscribe, and the P-CSCF's side of its dialogs; a refresh with a new
 * Contact moves that one dialog only. */
static void test_shared_state(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct regevent_stats st;
	struct sreq q = ue_sub(), qb;
	char ttag[2][64];

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	report_bob(re, REGINFO_REG_ACTIVE);
	regevent_stats(re, &st);
	assert_int_equal(st.aors, 3);
	assert_int_equal(st.hosts, 1);

	/* the P-CSCF subscribes to both users; bob's tel set is his own */
	q.pai = "sip:pcscf.home.net";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	(void)snprintf(ttag[0], sizeof(ttag[0]), "%s", g_rep[0].totag);
	qb = q;
	qb.ruri = "sip:bob@home.net";
	qb.callid = "sub-2@pcscf";
	qb.ftag = "p2";
	clear();
	subscribe(re, &qb);
	assert_int_equal(g_rep[0].scode, 200);
	(void)snprintf(ttag[1], sizeof(ttag[1]), "%s", g_rep[0].totag);
	regevent_stats(re, &st);
	assert_int_equal(st.subs, 2);
	assert_int_equal(st.peers, 1);
	/* a user of bob's set may subscribe to it, alice may not */
	clear();
	q = ue_sub();
	q.ruri = "sip:bob@home.net";
	q.callid = "sub-3@ue";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 403);

	/* bob's dialog gets a new target */
	clear();
	qb.ttag = ttag[1];
	qb.cseq = 2;
	qb.contact = "sip:pcscf.home.net:5099";
	subscribe(re, &qb);
	assert_int_equal(g_rep[0].scode, 200);
	assert_string_equal(g_nt[0].ruri, "sip:pcscf.home.net:5099");
	regevent_stats(re, &st);
	assert_int_equal(st.peers, 2);
	clear();
	ct = c1(REGINFO_EV_REFRESHED, true);
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	assert_int_equal(g_nn, 1);
	assert_string_equal(g_nt[0].ruri, "sip:alice@192.0.2.1:5060;ob");
	assert_true(has(g_nt[0].hdrs, "Route: <sip:pcscf.home.net;lr>\r\n"));

	/* both registrations end: so do the subscriptions and what they
	 * shared */
	clear();
	ct = c1(REGINFO_EV_UNREGISTERED, true);
	report(re, REGINFO_REG_TERMINATED, &ct, 1);
	report_bob(re, REGINFO_REG_TERMINATED);
	assert_int_equal(g_nn, 2);
	assert_string_equal(g_nt[1].ruri, "sip:pcscf.home.net:5099");
	regevent_stats(re, &st);
	assert_int_equal(st.subs, 0);
	assert_int_equal(st.aors, 0);
	assert_int_equal(st.peers, 0);
	assert_int_equal(st.hosts, 0);
	regevent_close(re);
	mem_deref(re);
}


#define MANY 300

static uint64_t g_cnt_id[MANY * 2];
static bool g_cnt_term[MANY * 2];
static size_t g_cnt;


static void count_notify(const struct regevent_notify *n, void *arg)
{
	(void)arg;
	assert_true(g_cnt < MANY * 2);
	g_cnt_id[g_cnt] = n->sub_id;
	g_cnt_term[g_cnt++] = n->terminated;
}


/* Hundreds of users: the tables grow and still find every subscription
 * (by dialog, by id, by IMPU), and each one expires at its own deadline,
 * to the millisecond, through the one expiry timer. */
static void test_many_subscriptions(void **state)
{
	struct regevent_conf conf = {
		.contact = "sip:scscf.home.net:6060",
		.min_expires = 60,
		.max_expires = 7200,
		.notifyh = count_notify,
	};
	static uint64_t id[MANY];
	static uint32_t expires[MANY];
	struct regevent *re = NULL;
	struct regevent_stats st;
	size_t left = MANY, ended = 0;

	(void)state;
	assert_int_equal(regevent_alloc(&re, &conf), 0);
	for (size_t i = 0; i < MANY; i++) {
		char impu[64], uri[64], cid[32], ftag[16];
		struct regevent_contact c = c1(REGINFO_EV_REGISTERED, true);
		struct regevent_reg reg = { impu, REGINFO_REG_ACTIVE, &c, 1 };
		struct regevent_set set = { &reg, 1, g_as };
		struct sreq q = ue_sub();

		(void)snprintf(impu, sizeof(impu), "sip:u%zu@home.net", i);
		(void)snprintf(uri, sizeof(uri), "sip:u%zu@192.0.2.1", i);
		(void)snprintf(cid, sizeof(cid), "c%zu@pcscf", i);
		(void)snprintf(ftag, sizeof(ftag), "f%zu", i);
		c.id = NULL;
		c.uri = uri;
		assert_int_equal(regevent_update(re, &set), 0);
		q.ruri = impu;
		q.pai = "sip:pcscf.home.net";
		q.callid = cid;
		q.ftag = ftag;
		expires[i] = 600 + (uint32_t)((i * 7919) % 1000);
		q.expires = (int)expires[i];
		clear();
		subscribe(re, &q);
		assert_int_equal(g_rep[0].scode, 200);
		id[i] = g_rep[0].sub_id;
		/* every third one is refreshed down to a minute */
		if (i % 3 == 0) {
			char ttag[32];

			(void)snprintf(ttag, sizeof(ttag), "%s",
				       g_rep[0].totag);
			q.ttag = ttag;
			q.cseq = 2;
			q.expires = 60;
			expires[i] = 60;
			clear();
			subscribe(re, &q);
			assert_int_equal(g_rep[0].scode, 200);
			assert_int_equal(g_rep[0].sub_id, id[i]);
		}
	}
	regevent_stats(re, &st);
	assert_int_equal(st.subs, MANY);
	assert_int_equal(st.aors, MANY);
	assert_int_equal(st.peers, 1);
	assert_int_equal(st.hosts, 1);
	assert_int_equal(regevent_count_impu(re, "sip:u7@home.net"), 1);

	/* a NOTIFY answered 481 ends subscription 1, found by its id */
	regevent_notify_result(re, id[1], 1, 481);
	expires[1] = 0;
	left--;
	assert_int_equal(regevent_count(re), left);

	/* second by second, exactly the subscriptions due end */
	for (uint32_t t = 1; t <= 1600; t++) {
		size_t due = 0;

		g_cnt = 0;
		tmr_test_set_now(T0 + (uint64_t)t * 1000 - 1);
		tmr_poll();
		assert_int_equal(g_cnt, 0);
		tmr_test_set_now(T0 + (uint64_t)t * 1000);
		tmr_poll();
		for (size_t i = 0; i < MANY; i++)
			due += expires[i] == t;
		assert_int_equal(g_cnt, due);
		for (size_t k = 0; k < g_cnt; k++) {
			size_t i = 0;

			while (i < MANY && id[i] != g_cnt_id[k])
				i++;
			assert_true(i < MANY);
			assert_int_equal(expires[i], t);
			assert_true(g_cnt_term[k]);
		}
		ended += due;
		assert_int_equal(regevent_count(re), left - ended);
		assert_int_equal(tmr_count(), left - ended ? 1 : 0);
	}
	assert_int_equal(regevent_count(re), 0);
	regevent_close(re);
	mem_deref(re);
}


/* ---- the notifier: tests --------------------------------------------- */

static void test_subscribe_ue(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct sreq q = ue_sub();
	struct reginfo *ri;
	const struct reginfo_contact *c;
	char line[128];

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	assert_int_equal(g_nn, 0); /* nobody subscribed yet */

	subscribe(re, &q);
	assert_int_equal(g_nrep, 1);
	assert_int_equal(g_rep[0].scode, 200);
	assert_true(has(g_rep[0].hdrs, "Expires: 7200\r\n")); /* max */
	assert_true(
		has(g_rep[0].hdrs, "Contact: <sip:scscf.home.net:6060>\r\n"));
	assert_true(strlen(g_rep[0].totag) >= 8);
	assert_int_equal(regevent_count(re), 1);
	assert_int_equal(
		regevent_count_impu(re, "sip:alice@HOME.net;transport=udp"), 1);

	assert_int_equal(g_nn, 1);
	assert_string_equal(g_nt[0].ruri, "sip:alice@192.0.2.1:5060;ob");
	assert_int_equal(g_nt[0].cseq, 1);
	assert_int_equal(g_nt[0].version, 0);
	assert_true(g_nt[0].full);
	assert_false(g_nt[0].terminated);
	assert_true(has(g_nt[0].hdrs, "Route: <sip:pcscf.home.net;lr>\r\n"));
	(void)snprintf(line, sizeof(line), "From: <%s>;tag=%s\r\n", alice,
		       g_rep[0].totag);
	assert_true(has(g_nt[0].hdrs, line));
	assert_true(has(g_nt[0].hdrs, "To: <sip:alice@home.net>;tag=ue1\r\n"));
	assert_true(has(g_nt[0].hdrs, "Call-ID: sub-1@ue\r\n"));
	assert_true(has(g_nt[0].hdrs, "CSeq: 1 NOTIFY\r\n"));
	assert_true(has(g_nt[0].hdrs, "Event: reg\r\n"));
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: active;expires=7200\r\n"));
	assert_true(
		has(g_nt[0].hdrs, "Content-Type: application/reginfo+xml\r\n"));
	assert_true(has(g_nt[0].raw, "NOTIFY sip:alice@192.0.2.1:5060;ob "
				     "SIP/2.0\r\nVia: "));

	/* full state: both IMPUs of the set, the subscribed one first */
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->version, 0);
	assert_int_equal(ri->state, REGINFO_FULL);
	assert_int_equal(ri->reg_n, 2);
	assert_string_equal(ri->reg[0].aor, alice);
	assert_string_equal(ri->reg[1].aor, alice_tel);
	assert_int_equal(ri->reg[0].state, REGINFO_REG_ACTIVE);
	assert_int_equal(ri->reg[0].ct_n, 1);
	c = &ri->reg[0].ct[0];
	assert_string_equal(c->id, "b1");
	assert_string_equal(c->uri, "sip:alice@192.0.2.1:5060;ob");
	assert_int_equal(c->state, REGINFO_CT_ACTIVE);
	assert_int_equal(c->event, REGINFO_EV_REGISTERED);
	assert_true(c->has_expires && c->expires == 3600);
	assert_string_equal(c->callid, "reg-cid-1");
	assert_true(c->has_cseq && c->cseq == 2);
	assert_int_equal(c->param_n, 3);
	assert_string_equal(c->param[0].name, "+sip.instance");
	assert_string_equal(c->param[0].value, instance);
	assert_string_equal(c->param[2].name, "audio");
	assert_null(c->param[2].value);
	mem_deref(ri);

	/* a full state later counts the expires down */
	tmr_test_set_now(T0 + 100 * 1000);
	clear();
	assert_int_equal(regevent_terminate(re, g_rep[0].sub_id, "rejected"),
			 0);
	assert_int_equal(g_nn, 1);
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: terminated;reason=rejected\r\n"));
	ri = body_of(&g_nt[0]);
	assert_true(ri->reg[0].ct[0].expires == 3500);
	mem_deref(ri);
	assert_int_equal(regevent_count(re), 0);
	assert_int_equal(regevent_terminate(re, 99, "rejected"), ENOENT);

	regevent_close(re);
	mem_deref(re);
}


/* TS 24.229 5.4.2.1.1 and the RFC 6665 refusals. */
static void test_subscribe_refusals(void **state)
{
	static const struct {
		const char *what;
		const char *ruri;
		const char *pai;
		const char *event;
		int expires;
		const char *extra;
		uint16_t scode;
		const char *hdr;
	} tab[] = {
		{ "UE by its tel IMPU", alice, "tel:+15551234", NULL, 3600,
		  NULL, 200, "Expires: 3600" },
		{ "the P-CSCF in the Path", alice, "sip:pcscf.home.net", NULL,
		  3600, NULL, 200, NULL },
		{ "an AS of the iFCs", alice, "sip:as.home.net:5070", NULL,
		  3600, NULL, 200, NULL },
		{ "subscribing to the tel IMPU", "tel:+15551234", alice, NULL,
		  -1, NULL, 200, "Expires: 3761" },
		{ "a stranger", alice, "sip:mallory@home.net", NULL, 3600, NULL,
		  403, NULL },
		{ "a P-CSCF not in the Path", alice, "sip:pcscf.evil.net", NULL,
		  3600, NULL, 403, NULL },
		{ "an AS on another port", alice, "sip:as.home.net", NULL, 3600,
		  NULL, 403, NULL },
		{ "no P-Asserted-Identity", alice, NULL, NULL, 3600, NULL, 403,
		  NULL },
		{ "an IMPU not registered", "sip:bob@home.net", alice, NULL,
		  3600, NULL, 404, NULL },
		{ "another event package", alice, alice, "presence", 3600, NULL,
		  489, "Allow-Events: reg" },
		{ "reg as a prefix", alice, alice, "registration", 3600, NULL,
		  489, NULL },
		{ "a body it cannot take", alice, alice, NULL, 3600,
		  "Accept: application/pidf+xml\r\n", 406,
		  "Accept: application/reginfo+xml" },
		{ "Accept with reginfo", alice, alice, NULL, 3600,
		  "Accept: application/pidf+xml, application/reginfo+xml\r\n",
		  200, NULL },
		{ "too brief", alice, alice, NULL, 59, NULL, 423,
		  "Min-Expires: 60" },
		{ "bad Expires", alice, alice, NULL, -1, "Expires: soon\r\n",
		  400, NULL },
		{ "other scheme", "mailto:alice@home.net", alice, NULL, 3600,
		  NULL, 416, NULL },
	};
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char cid[32];
		struct sreq q = {
			.ruri = tab[i].ruri,
			.pai = tab[i].pai,
			.callid = cid,
			.ftag = "t",
			.cseq = 1,
			.event = tab[i].event,
			.expires = tab[i].expires,
			.extra = tab[i].extra,
		};

		(void)snprintf(cid, sizeof(cid), "call-%zu", i);
		clear();
		subscribe(re, &q);
		if (g_rep[0].scode != tab[i].scode)
			fail_msg("%s: %u %s", tab[i].what, g_rep[0].scode,
				 g_rep[0].reason);
		if (tab[i].hdr && !has(g_rep[0].hdrs, tab[i].hdr))
			fail_msg("%s: no %s in %s", tab[i].what, tab[i].hdr,
				 g_rep[0].hdrs);
		assert_int_equal(g_nn, tab[i].scode == 200 ? 1 : 0);
		if (tab[i].scode != 200)
			assert_string_equal(g_rep[0].totag, "");
	}
	assert_int_equal(regevent_count(re), 5);
	assert_int_equal(regevent_count_impu(re, "tel:+15551234"), 1);

	/* a method other than SUBSCRIBE is the caller's mistake */
	decode("NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch="
	       "z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
	       "Call-ID: 1\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(regevent_subscribe(re, &g_msg, on_reply, NULL),
			 EINVAL);
	regevent_close(re);
	mem_deref(re);
}


/* Register, refresh, a second contact, expiry, deregistration: partial
 * NOTIFYs with the versions and CSeqs of the subscription. */
static void test_notify_sequence(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct[2];
	struct sreq q = ue_sub();
	struct reginfo *ri;
	char tag[32];

	(void)state;
	ct[0] = c1(REGINFO_EV_REGISTERED, true);
	report(re, REGINFO_REG_ACTIVE, ct, 1);
	q.pai = "sip:pcscf.home.net";
	subscribe(re, &q);
	assert_int_equal(g_nn, 1);
	(void)snprintf(tag, sizeof(tag), "%s", g_rep[0].totag);

	/* re-registration: the contact refreshed */
	clear();
	ct[0] = c1(REGINFO_EV_REFRESHED, true);
	ct[0].expires = 1800;
	report(re, REGINFO_REG_ACTIVE, ct, 1);
	assert_int_equal(g_nn, 1);
	assert_int_equal(g_nt[0].version, 1);
	assert_int_equal(g_nt[0].cseq, 2);
	assert_false(g_nt[0].full);
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->state, REGINFO_PARTIAL);
	assert_int_equal(ri->version, 1);
	assert_int_equal(ri->reg_n, 2); /* both IMPUs share the binding */
	assert_int_equal(ri->reg[0].ct[0].event, REGINFO_EV_REFRESHED);
	assert_true(ri->reg[0].ct[0].expires == 1800);
	mem_deref(ri);

	/* nothing changed: no NOTIFY */
	clear();
	ct[0].changed = false;
	report(re, REGINFO_REG_ACTIVE, ct, 1);
	assert_int_equal(g_nn, 0);

	/* a second phone registers: only it is in the partial state */
	ct[1] = c1(REGINFO_EV_REGISTERED, true);
	ct[1].id = NULL; /* derived from the URI */
	ct[1].uri = "sip:alice@198.51.100.7:5062";
	ct[1].q = 500;
	report(re, REGINFO_REG_ACTIVE, ct, 2);
	assert_int_equal(g_nn, 1);
	assert_int_equal(g_nt[0].version, 2);
	assert_int_equal(g_nt[0].cseq, 3);
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->reg[0].ct_n, 1);
	assert_string_equal(ri->reg[0].ct[0].uri,
			    "sip:alice@198.51.100.7:5062");
	assert_true(ri->reg[0].ct[0].id[0] == 'c');
	assert_true(ri->reg[0].ct[0].has_q && ri->reg[0].ct[0].q == 500);
	mem_deref(ri);

	/* the first one expires */
	clear();
	ct[0] = c1(REGINFO_EV_EXPIRED, true);
	ct[1].changed = false;
	report(re, REGINFO_REG_ACTIVE, ct, 2);
	assert_int_equal(g_nn, 1);
	assert_int_equal(g_nt[0].version, 3);
	assert_false(g_nt[0].terminated);
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->reg[0].ct_n, 1);
	assert_int_equal(ri->reg[0].ct[0].state, REGINFO_CT_TERMINATED);
	assert_int_equal(ri->reg[0].ct[0].event, REGINFO_EV_EXPIRED);
	mem_deref(ri);

	/* a refresh: the full state now has only the second one */
	clear();
	q.pai = NULL;
	q.ttag = tag;
	q.cseq = 2;
	q.expires = 3600;
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].full);
	assert_int_equal(g_nt[0].version, 4);
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->reg[0].ct_n, 1);
	assert_string_equal(ri->reg[0].ct[0].uri,
			    "sip:alice@198.51.100.7:5062");
	mem_deref(ri);

	/* the user deregisters: the last NOTIFY ends the subscription */
	clear();
	ct[0] = c1(REGINFO_EV_UNREGISTERED, true);
	ct[0].uri = "sip:alice@198.51.100.7:5062";
	ct[0].id = NULL;
	report(re, REGINFO_REG_TERMINATED, ct, 1);
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].terminated);
	assert_int_equal(g_nt[0].version, 5);
	assert_true(has(g_nt[0].hdrs, "Subscription-State: terminated;"
				      "reason=noresource\r\n"));
	ri = body_of(&g_nt[0]);
	assert_int_equal(ri->reg[0].state, REGINFO_REG_TERMINATED);
	assert_int_equal(ri->reg[0].ct[0].event, REGINFO_EV_UNREGISTERED);
	mem_deref(ri);
	assert_int_equal(regevent_count(re), 0);

	/* and the IMPU is forgotten: a new SUBSCRIBE finds nothing */
	clear();
	q = ue_sub();
	q.callid = "sub-2@ue";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 404);
	regevent_close(re);
	mem_deref(re);
}


/* Network deregistrations: deactivated, probation, rejected. */
static void test_network_deregistration(void **state)
{
	static const struct {
		enum reginfo_event ev;
		uint32_t retry;
		const char *sstate;
	} tab[] = {
		{ REGINFO_EV_DEACTIVATED, 0, "terminated;reason=noresource" },
		{ REGINFO_EV_PROBATION, 120,
		  "terminated;reason=probation;retry-after=120" },
		{ REGINFO_EV_REJECTED, 0, "terminated;reason=rejected" },
		{ REGINFO_EV_EXPIRED, 0, "terminated;reason=noresource" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct regevent *re = notifier(NULL);
		struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
		struct sreq q = ue_sub();
		struct reginfo *ri;

		report(re, REGINFO_REG_ACTIVE, &ct, 1);
		subscribe(re, &q);
		q.pai = "sip:as.home.net:5070";
		q.callid = "as-sub";
		clear();
		subscribe(re, &q);
		assert_int_equal(regevent_count(re), 2);

		clear();
		ct = c1(tab[i].ev, true);
		ct.retry_after = tab[i].retry;
		report(re, REGINFO_REG_TERMINATED, &ct, 1);
		assert_int_equal(g_nn, 2); /* the UE and the AS */
		for (size_t k = 0; k < 2; k++) {
			char line[96];

			(void)snprintf(line, sizeof(line),
				       "Subscription-State: %s\r\n",
				       tab[i].sstate);
			if (!has(g_nt[k].hdrs, line))
				fail_msg("%s: %s", reginfo_event_str(tab[i].ev),
					 g_nt[k].hdrs);
			ri = body_of(&g_nt[k]);
			assert_int_equal(ri->reg[0].ct[0].event, tab[i].ev);
			assert_int_equal(ri->reg[0].ct[0].state,
					 REGINFO_CT_TERMINATED);
			if (tab[i].retry)
				assert_true(ri->reg[0].ct[0].retry_after ==
					    tab[i].retry);
			mem_deref(ri);
		}
		assert_int_equal(regevent_count(re), 0);
		regevent_close(re);
		mem_deref(re);
		clear();
	}
}


/* Refresh, CSeq order, unknown dialog, unsubscribe, fetch. */
static void test_refresh_unsubscribe(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct sreq q = ue_sub();
	char tag[32];

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	q.extra = "Record-Route: <sip:scscf.home.net:6060;lr>\r\n";
	subscribe(re, &q);
	(void)snprintf(tag, sizeof(tag), "%s", g_rep[0].totag);
	/* the route set in order, both entries */
	assert_true(has(g_nt[0].hdrs, "Route: <sip:pcscf.home.net;lr>\r\n"
				      "Route: <sip:scscf.home.net:6060;lr>"));

	/* the same initial SUBSCRIBE again: the dialog exists already */
	clear();
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_string_equal(g_rep[0].totag, tag);
	assert_int_equal(g_nn, 0);
	assert_int_equal(regevent_count(re), 1);

	/* refresh with a new Contact (a target refresh) */
	clear();
	q.ttag = tag;
	q.cseq = 2;
	q.expires = 1200;
	q.extra = NULL;
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_true(has(g_rep[0].hdrs, "Expires: 1200\r\n"));
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].full);
	assert_int_equal(g_nt[0].version, 1);
	assert_int_equal(g_nt[0].cseq, 2);
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: active;expires=1200\r\n"));

	/* out of order, wrong dialog, too brief */
	clear();
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 500);
	clear();
	q.cseq = 3;
	q.ttag = "nosuchtag";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 481);
	clear();
	q.ttag = tag;
	q.event = "reg;id=7";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 481);
	clear();
	q.event = NULL;
	q.expires = 30;
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 423);
	assert_int_equal(g_nn, 0);

	/* unsubscribe */
	clear();
	q.cseq = 4;
	q.expires = 0;
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_true(has(g_rep[0].hdrs, "Expires: 0\r\n"));
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].terminated);
	assert_true(g_nt[0].full);
	assert_int_equal(g_nt[0].version, 2);
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: terminated;reason=timeout\r\n"));
	assert_int_equal(regevent_count(re), 0);

	/* a fetch: Expires 0 on an initial SUBSCRIBE, with an Event id */
	clear();
	q = ue_sub();
	q.callid = "fetch-1";
	q.expires = 0;
	q.event = "reg;id=42";
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].terminated);
	assert_true(has(g_nt[0].hdrs, "Event: reg;id=42\r\n"));
	assert_int_equal(regevent_count(re), 0);
	regevent_close(re);
	mem_deref(re);
}


static void test_subscription_expiry(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct sreq q = ue_sub();

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	q.expires = 600;
	subscribe(re, &q);
	clear();

	/* a change half-way: the state says how long is left */
	tmr_test_set_now(T0 + 300 * 1000);
	tmr_poll();
	ct = c1(REGINFO_EV_SHORTENED, true);
	ct.expires = 100;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: active;expires=300\r\n"));

	clear();
	tmr_test_set_now(T0 + 599999);
	tmr_poll();
	assert_int_equal(g_nn, 0);
	tmr_test_set_now(T0 + 600000);
	tmr_poll();
	assert_int_equal(g_nn, 1);
	assert_true(g_nt[0].terminated);
	assert_true(has(g_nt[0].hdrs,
			"Subscription-State: terminated;reason=timeout\r\n"));
	assert_int_equal(g_nt[0].version, 2);
	assert_int_equal(regevent_count(re), 0);
	assert_int_equal(tmr_count(), 0);
	regevent_close(re);
	mem_deref(re);
}


/* RFC 6665 4.2.2: 481 or a timeout ends the subscription; the result may
 * come back inside the notify callback. */
static void test_notify_failure(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct sreq q = ue_sub();

	(void)state;
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	subscribe(re, &q);
	regevent_notify_result(re, g_nt[0].sub_id, g_nt[0].cseq, 200);
	regevent_notify_result(re, g_nt[0].sub_id, g_nt[0].cseq, 500);
	assert_int_equal(regevent_count(re), 1);
	regevent_notify_result(re, g_nt[0].sub_id, g_nt[0].cseq, 481);
	assert_int_equal(regevent_count(re), 0);

	/* re-entrant: the transport fails while the NOTIFY is sent */
	clear();
	q.callid = "sub-2@ue";
	g_answer_notify = 408;
	subscribe(re, &q);
	assert_int_equal(g_rep[0].scode, 200);
	assert_int_equal(g_nn, 1);
	assert_int_equal(regevent_count(re), 0);
	g_answer_notify = 0;

	/* the registrar's update to subscriptions that fail on the way */
	clear();
	q.callid = "sub-3@ue";
	subscribe(re, &q);
	q.callid = "sub-4@ue";
	q.pai = "sip:pcscf.home.net";
	clear();
	subscribe(re, &q);
	assert_int_equal(regevent_count(re), 2);
	clear();
	g_answer_notify = 481;
	ct = c1(REGINFO_EV_REFRESHED, true);
	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	assert_int_equal(g_nn, 2);
	assert_int_equal(regevent_count(re), 0);
	regevent_close(re);
	mem_deref(re);
}


/* Subscriptions survive a restart: CSeq and version go on. */
static void restart(struct regevent_store *st)
{
	struct regevent *re = notifier(st);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct sreq q = ue_sub();
	char tag[32];

	report(re, REGINFO_REG_ACTIVE, &ct, 1);
	q.event = "reg;id=5";
	subscribe(re, &q);
	(void)snprintf(tag, sizeof(tag), "%s", g_rep[0].totag);
	q.callid = "second";
	q.event = NULL;
	q.expires = 60;
	clear();
	subscribe(re, &q);
	regevent_close(re);
	mem_deref(re);
	assert_int_equal(tmr_count(), 0);

	/* a new notifier on the same store (the monotonic clock moved) */
	tmr_test_set_now(T0 + 1000);
	{
		struct regevent *re2;

		clear();
		re2 = notifier(st);
		assert_int_equal(regevent_count(re2), 2);
		/* the registrar reports its state again: nothing changed */
		ct.changed = false;
		report(re2, REGINFO_REG_ACTIVE, &ct, 1);
		assert_int_equal(g_nn, 0);
		ct = c1(REGINFO_EV_REFRESHED, true);
		report(re2, REGINFO_REG_ACTIVE, &ct, 1);
		assert_int_equal(g_nn, 2);
		for (size_t i = 0; i < 2; i++) {
			if (!has(g_nt[i].hdrs, "Event: reg;id=5\r\n")) {
				assert_true(has(g_nt[i].hdrs,
						"Call-ID: second\r\n"));
				/* the wall clock moved a few ms meanwhile */
				assert_true(
					has(g_nt[i].hdrs,
					    "active;expires=60") ||
					has(g_nt[i].hdrs, "active;expires=59"));
				continue;
			}
			assert_int_equal(g_nt[i].cseq, 2);
			assert_int_equal(g_nt[i].version, 1);
			assert_true(has(g_nt[i].hdrs, tag));
			assert_string_equal(g_nt[i].ruri,
					    "sip:alice@192.0.2.1:5060;ob");
			assert_true(has(g_nt[i].hdrs,
					"Route: <sip:pcscf.home.net;lr>\r\n"));
		}
		/* an in-dialog refresh is recognised after the restart */
		clear();
		q = ue_sub();
		q.ttag = tag;
		q.cseq = 2;
		q.event = "reg;id=5";
		subscribe(re2, &q);
		assert_int_equal(g_rep[0].scode, 200);
		assert_int_equal(g_nt[0].cseq, 3);
		regevent_close(re2);
		mem_deref(re2);
	}
}


static void test_restart_mem(void **state)
{
	struct regevent_store *st = NULL;

	(void)state;
	assert_int_equal(regevent_store_mem_alloc(&st), 0);
	restart(st);
	assert_int_equal(regevent_store_mem_count(st), 2);
	mem_deref(st);
}


static void test_restart_sqlite(void **state)
{
	struct regevent_store *st = NULL;
	char path[128];

	(void)state;
	(void)snprintf(g_dir, sizeof(g_dir), "/tmp/regevent-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	(void)snprintf(path, sizeof(path), "%s/sub.sqlite", g_dir);
	assert_int_equal(regevent_store_sqlite_open(&st, path), 0);
	restart(st);
	mem_deref(st);
	/* and once more from the file alone */
	assert_int_equal(regevent_store_sqlite_open(&st, path), 0);
	{
		struct regevent *re = notifier(st);

		assert_int_equal(regevent_count(re), 2);
		regevent_close(re);
		mem_deref(re);
	}
	mem_deref(st);
	assert_int_equal(regevent_store_sqlite_open(&st, "/nonexistent/x/y"),
			 EIO);
}


/* The expired rows are dropped at load. */
static void test_restart_expired(void **state)
{
	struct regevent_store *st = NULL;
	struct regevent_row row = {
		.id = 9,
		.impu = alice,
		.subscriber = alice,
		.callid = "c",
		.ltag = "l",
		.rtag = "r",
		.luri = alice,
		.ruri = alice,
		.target = "sip:alice@192.0.2.1",
		.route = "<sip:p1;lr>, <sip:p2;lr>",
		.event_id = "",
		.expires_at = 1000, /* 1970 */
	};
	struct regevent *re;

	(void)state;
	assert_int_equal(regevent_store_mem_alloc(&st), 0);
	assert_int_equal(st->ops->put(st, &row), 0);
	row.id = 10;
	row.expires_at = INT64_MAX / 2;
	assert_int_equal(st->ops->put(st, &row), 0);
	re = notifier(st);
	assert_int_equal(regevent_count(re), 1);
	assert_int_equal(regevent_store_mem_count(st), 1);
	/* its NOTIFY uses the stored route set, split again */
	assert_int_equal(regevent_terminate(re, 10, "deactivated"), 0);
	assert_true(has(g_nt[0].hdrs,
			"Route: <sip:p1;lr>\r\nRoute: <sip:p2;lr>\r\n"));
	assert_int_equal(regevent_store_mem_count(st), 0);
	/* the next id is past the restored ones */
	regevent_close(re);
	mem_deref(re);
	mem_deref(st);
}


static void test_update_refused(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct = c1(REGINFO_EV_REGISTERED, true);
	struct regevent_reg reg = { "mailto:x@y", REGINFO_REG_ACTIVE, &ct, 1 };
	struct regevent_set set = { &reg, 1, NULL };
	char out[64];

	(void)state;
	assert_int_equal(regevent_update(re, &set), EINVAL);
	reg.aor = alice;
	ct.uri = NULL;
	assert_int_equal(regevent_update(re, &set), EINVAL);
	ct = c1(REGINFO_EV_NUM, true);
	assert_int_equal(regevent_update(re, &set), EINVAL);
	set.reg_n = 0;
	assert_int_equal(regevent_update(re, &set), EINVAL);
	assert_int_equal(regevent_update(re, NULL), EINVAL);

	assert_int_equal(regevent_impu_canon("tel:+1-555-(12)34;phone-"
					     "context=x",
					     33, out, sizeof(out)),
			 0);
	assert_string_equal(out, "tel:+15551234");
	assert_int_equal(regevent_impu_canon("sip:Alice@HOME.net;user=phone",
					     29, out, sizeof(out)),
			 0);
	assert_string_equal(out, "sip:Alice@home.net");
	assert_int_equal(regevent_impu_canon("not a uri", 9, out, sizeof(out)),
			 EBADMSG);
	regevent_close(re);
	mem_deref(re);
}


/* ---- the subscriber side -------------------------------------------- */

struct terms {
	char aor[8][64];
	char ct[8][64];
	enum reginfo_event ev[8];
	size_t n;
};


static void on_term(const struct regevent_term *t, void *arg)
{
	struct terms *x = arg;

	assert_true(x->n < 8);
	(void)snprintf(x->aor[x->n], 64, "%s", t->aor);
	(void)snprintf(x->ct[x->n], 64, "%s", t->ct_uri ? t->ct_uri : "");
	x->ev[x->n] = t->event;
	x->n++;
}


/* Feed a recorded NOTIFY (as the wire has it) to the watcher. */
static int feed(struct regevent_watch *w, const struct rec_notify *n,
		struct terms *t, struct regevent_watch_result *res)
{
	struct sip_msg msg;
	struct sip_msg_err e;
	char err[160];
	int rc;

	memcpy(g_text, n->raw, n->rawlen);
	assert_int_equal(sip_msg_decode(&msg, g_text, n->rawlen, true, &e), 0);
	rc = regevent_watch_notify(w, &msg, on_term, t, res, err, sizeof(err));
	return rc;
}


static void test_watch_end_to_end(void **state)
{
	struct regevent *re = notifier(NULL);
	struct regevent_contact ct[2];
	struct regevent_watch *w = NULL;
	struct regevent_watch_result res;
	struct rec_notify saved[4];
	struct terms t = { 0 };
	struct sreq q = ue_sub();
	const struct reginfo_reg *reg;

	(void)state;
	assert_int_equal(regevent_watch_alloc(&w), 0);
	ct[0] = c1(REGINFO_EV_REGISTERED, true);
	ct[1] = c1(REGINFO_EV_REGISTERED, true);
	ct[1].id = "b2";
	ct[1].uri = "sip:alice@198.51.100.7:5062";
	report(re, REGINFO_REG_ACTIVE, ct, 2);
	q.pai = "sip:pcscf.home.net";
	subscribe(re, &q);
	saved[0] = g_nt[0];

	assert_int_equal(feed(w, &saved[0], &t, &res), 0);
	assert_true(res.applied);
	assert_false(res.terminated);
	assert_true(res.expires == 7200);
	reg = regevent_watch_reg(w, alice);
	assert_non_null(reg);
	assert_int_equal(reg->ct_n, 2);
	assert_non_null(regevent_watch_reg(w, "tel:+15551234"));
	assert_non_null(regevent_watch_reg(w, "sip:alice@HOME.NET"));
	assert_null(regevent_watch_reg(w, "sip:bob@home.net"));

	/* the same NOTIFY again is stale */
	assert_int_equal(feed(w, &saved[0], &t, &res), 0);
	assert_true(res.stale);
	assert_false(res.applied);

	/* phone 1 is deactivated: reported for both IMPUs */
	clear();
	ct[0] = c1(REGINFO_EV_DEACTIVATED, true);
	ct[1].changed = false;
	report(re, REGINFO_REG_ACTIVE, ct, 2);
	saved[1] = g_nt[0];
	assert_int_equal(feed(w, &saved[1], &t, &res), 0);
	assert_true(res.applied);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.aor[0], alice);
	assert_string_equal(t.ct[0], "sip:alice@192.0.2.1:5060;ob");
	assert_int_equal(t.ev[0], REGINFO_EV_DEACTIVATED);
	assert_string_equal(t.aor[1], alice_tel);
	reg = regevent_watch_reg(w, alice);
	assert_int_equal(reg->ct_n, 1);
	assert_string_equal(reg->ct[0].uri, "sip:alice@198.51.100.7:5062");

	/* phone 2 refreshes (version 2) and then the user deregisters
	 * (version 3): applied in order */
	clear();
	ct[0] = ct[1];
	ct[0].event = REGINFO_EV_REFRESHED;
	ct[0].changed = true;
	report(re, REGINFO_REG_ACTIVE, ct, 1);
	saved[2] = g_nt[0];
	clear();
	ct[0].event = REGINFO_EV_UNREGISTERED;
	ct[0].state = REGINFO_CT_TERMINATED;
	report(re, REGINFO_REG_TERMINATED, ct, 1);
	saved[3] = g_nt[0];

	/* version 3 before 2: a gap, SUBSCRIBE again, nothing applied */
	t.n = 0;
	assert_int_equal(feed(w, &saved[3], &t, &res), 0);
	assert_true(res.resubscribe);
	assert_false(res.applied);
	assert_true(res.terminated); /* the Subscription-State still tells */
	assert_string_equal(res.reason, "noresource");
	assert_int_equal(t.n, 0);

	assert_int_equal(feed(w, &saved[2], &t, &res), 0);
	assert_true(res.applied);
	assert_int_equal(t.n, 0);
	assert_int_equal(feed(w, &saved[3], &t, &res), 0);
	assert_true(res.applied);
	assert_true(res.terminated);
	/* contact and registration, for both IMPUs */
	assert_int_equal(t.n, 4);
	assert_string_equal(t.ct[0], "sip:alice@198.51.100.7:5062");
	assert_int_equal(t.ev[0], REGINFO_EV_UNREGISTERED);
	assert_string_equal(t.ct[1], "");
	assert_string_equal(t.aor[1], alice);
	assert_string_equal(t.aor[3], alice_tel);
	assert_null(regevent_watch_reg(w, alice));
	assert_int_equal(regevent_watch_state(w)->reg_n, 0);

	mem_deref(w);
	regevent_close(re);
	mem_deref(re);
}


static void test_watch_bodies(void **state)
{
	static const char full0[] =
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		"version=\"0\" state=\"full\">"
		"<registration aor=\"sip:a@h\" id=\"r1\" state=\"active\">"
		"<contact id=\"c1\" state=\"active\" event=\"registered\">"
		"<uri>sip:a@1.1.1.1</uri></contact>"
		"<contact id=\"c2\" state=\"active\" event=\"registered\">"
		"<uri>sip:a@2.2.2.2</uri></contact></registration>"
		"<registration aor=\"sip:b@h\" id=\"r2\" state=\"active\">"
		"<contact id=\"c3\" state=\"active\" event=\"registered\">"
		"<uri>sip:b@3.3.3.3</uri></contact></registration>"
		"</reginfo>";
	/* full state 1: r2 gone, c2 gone, c1 still there */
	static const char full1[] =
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		"version=\"1\" state=\"full\">"
		"<registration aor=\"sip:a@h\" id=\"r1\" state=\"active\">"
		"<contact id=\"c1\" state=\"active\" event=\"refreshed\">"
		"<uri>sip:a@1.1.1.1</uri></contact></registration>"
		"</reginfo>";
	static const char partial2[] =
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		"version=\"2\" state=\"partial\">"
		"<registration aor=\"sip:c@h\" id=\"r3\" state=\"active\">"
		"<contact id=\"c4\" state=\"active\" event=\"created\">"
		"<uri>sip:c@4.4.4.4</uri></contact></registration>"
		"<registration aor=\"sip:a@h\" id=\"r1\" state=\"active\">"
		"<contact id=\"c1\" state=\"active\" event=\"shortened\" "
		"expires=\"10\"><uri>sip:a@1.1.1.1</uri></contact>"
		"</registration></reginfo>";
	static const char partial4[] =
		"<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" "
		"version=\"4\" state=\"partial\"/>";
	struct regevent_watch *w = NULL;
	struct regevent_watch_result res;
	struct terms t = { 0 };
	const struct reginfo_reg *reg;
	char err[160];

	(void)state;
	assert_int_equal(regevent_watch_alloc(&w), 0);
	/* partial before full */
	assert_int_equal(regevent_watch_body(w, partial2, sizeof(partial2) - 1,
					     on_term, &t, &res, err,
					     sizeof(err)),
			 0);
	assert_true(res.resubscribe);
	assert_false(res.applied);

	assert_int_equal(regevent_watch_body(w, full0, sizeof(full0) - 1,
					     on_term, &t, &res, err,
					     sizeof(err)),
			 0);
	assert_true(res.applied);
	assert_int_equal(regevent_watch_state(w)->reg_n, 2);

	assert_int_equal(regevent_watch_body(w, full1, sizeof(full1) - 1,
					     on_term, &t, &res, err,
					     sizeof(err)),
			 0);
	assert_true(res.applied);
	assert_int_equal(t.n, 3); /* c2, then c3 and r2 */
	assert_string_equal(t.ct[0], "sip:a@2.2.2.2");
	assert_int_equal(t.ev[0], REGINFO_EV_UNREGISTERED);
	assert_string_equal(t.ct[1], "sip:b@3.3.3.3");
	assert_string_equal(t.aor[2], "sip:b@h");
	assert_string_equal(t.ct[2], "");

	t.n = 0;
	assert_int_equal(regevent_watch_body(w, partial2, sizeof(partial2) - 1,
					     on_term, &t, &res, err,
					     sizeof(err)),
			 0);
	assert_true(res.applied);
	assert_int_equal(t.n, 0);
	reg = regevent_watch_reg(w, "sip:a@h");
	assert_int_equal(reg->ct_n, 1);
	assert_int_equal(reg->ct[0].event, REGINFO_EV_SHORTENED);
	assert_true(reg->ct[0].expires == 10);
	assert_non_null(regevent_watch_reg(w, "sip:c@h"));

	/* a gap (4 after 2) */
	assert_int_equal(regevent_watch_body(w, partial4, sizeof(partial4) - 1,
					     on_term, &t, &res, err,
					     sizeof(err)),
			 0);
	assert_true(res.resubscribe);

	/* garbage leaves the state as it was */
	assert_int_equal(regevent_watch_body(w, "<x/>", 4, on_term, &t, &res,
					     err, sizeof(err)),
			 EBADMSG);
	assert_int_equal(regevent_watch_state(w)->reg_n, 2);

	/* a new dialog starts over */
	regevent_watch_reset(w);
	assert_int_equal(regevent_watch_state(w)->reg_n, 0);
	assert_int_equal(regevent_watch_body(w, full0, sizeof(full0) - 1, NULL,
					     NULL, &res, err, sizeof(err)),
			 0);
	assert_true(res.applied);
	mem_deref(w);
}


static void test_watch_notify_refused(void **state)
{
	static const struct {
		const char *what;
		const char *hdrs;
		const char *body;
		int err;
	} tab[] = {
		{ "another package",
		  "Event: presence\r\nSubscription-State: active\r\n", "",
		  EPROTO },
		{ "no Event", "Subscription-State: active\r\n", "", EPROTO },
		{ "no Subscription-State", "Event: reg\r\n", "", EPROTO },
		{ "bad Subscription-State",
		  "Event: reg\r\nSubscription-State: dormant\r\n", "", EPROTO },
		{ "wrong body type",
		  "Event: reg\r\nSubscription-State: active\r\n"
		  "Content-Type: application/pidf+xml\r\n",
		  "<reginfo/>", EBADMSG },
		{ "body not reginfo",
		  "Event: reg\r\nSubscription-State: active\r\n"
		  "Content-Type: application/reginfo+xml\r\n",
		  "<reginfo/>", EBADMSG },
		{ "no body, terminated",
		  "Event: reg\r\nSubscription-State: terminated;reason="
		  "deactivated;retry-after=5\r\n",
		  "", 0 },
	};
	struct regevent_watch *w = NULL;
	struct regevent_watch_result res;
	char text[1024], err[160];

	(void)state;
	assert_int_equal(regevent_watch_alloc(&w), 0);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		(void)snprintf(
			text, sizeof(text),
			"NOTIFY sip:p@10.0.0.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK2\r\n"
			"From: <sip:a@h>;tag=1\r\nTo: <sip:p@h>;tag=2\r\n"
			"Call-ID: n1\r\nCSeq: 1 NOTIFY\r\n%s"
			"Content-Length: %zu\r\n\r\n%s",
			tab[i].hdrs, strlen(tab[i].body), tab[i].body);
		decode(text);
		err[0] = '\0';
		if (regevent_watch_notify(w, &g_msg, on_term, NULL, &res, err,
					  sizeof(err)) != tab[i].err)
			fail_msg("%s: not as expected (%s)", tab[i].what, err);
		if (tab[i].err && !err[0])
			fail_msg("%s: no reason", tab[i].what);
	}
	assert_true(res.terminated);
	assert_string_equal(res.reason, "deactivated");
	assert_true(res.retry_after == 5);
	mem_deref(w);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec_roundtrip, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_codec_encode_refused,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_codec_decode_peer,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_codec_hostile, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_pack_roundtrip, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_shared_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_subscriptions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_ue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_sequence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_network_deregistration,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_unsubscribe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subscription_expiry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_mem, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_sqlite, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_expired, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_update_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_end_to_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_bodies, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_watch_notify_refused,
						mem_mark, mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("cscf_regevent", tests, NULL, NULL);
}
