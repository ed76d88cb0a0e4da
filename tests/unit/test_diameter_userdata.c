/**
 * @file test_diameter_userdata.c  The IMS user profile XML (TS 29.228
 * annex E): a rich subscription encoded and validated against the Rel-9
 * schema with xmlSchemaValidateDoc, decoded back field by field; documents
 * in the shapes OpenIMSCore FHoSS, PyHSS (Kamailio's ims modules' usual
 * HSS) and Clearwater produce; malformed and hostile documents refused.
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

#include "core/buf.h"
#include "core/mem.h"
#include "diameter/userdata.h"

#define XSD_PATH ENTIMS_SOURCE_DIR "/tests/data/diameter/CxDataType_Rel9.xsd"

static const char svc_info[] = "<svc a=\"1\" b='2'>x & y</svc>\n\t]]> end";
static const char disp_alice[] = "Alice \"Ally\" <A&B> \xc3\xa9";


/* ---- helpers ---------------------------------------------------------- */

static void schema_error(void *arg, xmlErrorPtr e)
{
	int *count = arg;

	(*count)++;
	print_message("schema: line %d: %s", e->line, e->message);
}


/* Validate an encoded document against the transcribed annex E schema;
 * the number of schema errors (0 = valid). */
static int validate(const uint8_t *xml, size_t len)
{
	xmlSchemaParserCtxtPtr pc;
	xmlSchemaValidCtxtPtr vc;
	xmlSchemaPtr schema;
	xmlDocPtr doc;
	int errors = 0, rc;

	pc = xmlSchemaNewParserCtxt(XSD_PATH);
	assert_non_null(pc);
	schema = xmlSchemaParse(pc);
	assert_non_null(schema); /* the .xsd itself is a valid schema */
	vc = xmlSchemaNewValidCtxt(schema);
	assert_non_null(vc);
	xmlSchemaSetValidStructuredErrors(vc, schema_error, &errors);

	doc = xmlReadMemory((const char *)xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET);
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


static struct cx_spt *spt(struct cx_subscription *sub, struct cx_ifc *ifc,
			  bool cnf, enum cx_spt_kind kind, int group,
			  bool negated, const char *a, const char *b)
{
	struct cx_spt *s = cx_spt_add(sub, ifc, cnf, kind, group);

	assert_non_null(s);
	s->negated = negated;
	s->a = cx_strdup(sub, a);
	s->b = cx_strdup(sub, b);
	return s;
}


/*
 * The rich subscription: two service profiles; a barred identity, a
 * tel URI alias, distinct and wildcarded PSIs, a wildcarded IMPU, display
 * names and text that needs escaping; iFCs in CNF and DNF with every SPT
 * kind, negation, REGISTER types, include-register flags, a ProfilePart
 * Indicator, an iFC without trigger point; shared iFC sets; iFCs added out
 * of priority order.
 */
static struct cx_subscription *rich(void)
{
	struct cx_subscription *sub =
		cx_subscription_alloc("alice@example.com");
	struct cx_service_profile *sp;
	struct cx_public_id *pub;
	struct cx_ifc *ifc;
	struct cx_spt *s;
	unsigned *ids;

	assert_non_null(sub);
	sp = cx_sp_add(sub);
	assert_non_null(sp);
	pub = cx_pub_add(sub, sp, "sip:alice@example.com");
	assert_non_null(pub);
	pub->display_name = cx_strdup(sub, disp_alice);
	pub->alias_group = cx_strdup(sub, "1");
	pub = cx_pub_add(sub, sp, "tel:+15145550100");
	assert_non_null(pub);
	pub->alias_group = cx_strdup(sub, "1");
	pub = cx_pub_add(sub, sp, "sip:alice-old@example.com");
	assert_non_null(pub);
	pub->barred = true;
	sp->media_profile = 3;

	/* priority 20, CNF: (INVITE or MESSAGE) and originating and not
	 * Accept-Contact video */
	ifc = cx_ifc_add(sub, sp, 20, "sip:as1.example.com;transport=tcp");
	assert_non_null(ifc);
	ifc->default_handling = CX_DH_SESSION_TERMINATED;
	ifc->service_info = cx_strdup(sub, svc_info);
	ifc->ppi = CX_PPI_REGISTERED;
	spt(sub, ifc, true, CX_SPT_METHOD, 0, false, "INVITE", NULL);
	spt(sub, ifc, true, CX_SPT_METHOD, 0, false, "MESSAGE", NULL);
	s = spt(sub, ifc, true, CX_SPT_SESSION_CASE, 1, false, NULL, NULL);
	s->session_case = CX_SC_ORIGINATING;
	spt(sub, ifc, true, CX_SPT_SIP_HEADER, 2, true, "Accept-Contact",
	    ".*video.*");

	/* priority 5, DNF: (REGISTER initial/de and Request-URI) or (audio
	 * and From present and not terminating-unregistered) */
	ifc = cx_ifc_add(sub, sp, 5, "sip:reg-as.example.com");
	assert_non_null(ifc);
	ifc->include_register_request = true;
	ifc->include_register_response = true;
	s = spt(sub, ifc, false, CX_SPT_METHOD, 0, false, "REGISTER", NULL);
	s->reg_type = CX_REGTYPE_INITIAL | CX_REGTYPE_DE;
	spt(sub, ifc, false, CX_SPT_REQUEST_URI, 0, false,
	    "^sip:.*@example\\.com(;.*)?$", NULL);
	spt(sub, ifc, false, CX_SPT_SESSION_DESCRIPTION, 1, false, "m",
	    "audio .*");
	spt(sub, ifc, false, CX_SPT_SIP_HEADER, 1, false, "From", NULL);
	s = spt(sub, ifc, false, CX_SPT_SESSION_CASE, 1, true, NULL, NULL);
	s->session_case = CX_SC_TERMINATING_UNREGISTERED;

	/* priority 10: no trigger point, unregistered part */
	ifc = cx_ifc_add(sub, sp, 10, "sip:all.example.com");
	assert_non_null(ifc);
	ifc->ppi = CX_PPI_UNREGISTERED;

	ids = mem_zalloc(2 * sizeof(*ids), NULL);
	assert_non_null(ids);
	ids[0] = 7;
	ids[1] = 42;
	sp->shared_ifc = ids;
	sp->shared_ifc_n = 2;

	sp = cx_sp_add(sub);
	assert_non_null(sp);
	pub = cx_pub_add(sub, sp, "sip:conf-room@example.com");
	assert_non_null(pub);
	pub->type = CX_ID_DISTINCT_PSI;
	pub = cx_pub_add(sub, sp, "sip:chat-!.*!@example.com");
	assert_non_null(pub);
	pub->type = CX_ID_WILDCARDED_PSI;
	pub->wildcarded = cx_strdup(sub, "sip:chat-!.*!@example.com");
	pub = cx_pub_add(sub, sp, "sip:dev-!.*!@example.com");
	assert_non_null(pub);
	pub->type = CX_ID_WILDCARDED_IMPU;
	pub->wildcarded = cx_strdup(sub, "sip:dev-!.*!@example.com");
	pub->display_name = cx_strdup(sub, "Devices");

	ifc = cx_ifc_add(sub, sp, 0, "sip:psi-as.example.com");
	assert_non_null(ifc);
	s = spt(sub, ifc, true, CX_SPT_SESSION_CASE, 0, false, NULL, NULL);
	s->session_case = CX_SC_ORIGINATING_CDIV;
	s = spt(sub, ifc, true, CX_SPT_METHOD, 1, false, "REGISTER", NULL);
	s->reg_type = CX_REGTYPE_RE;
	return sub;
}


static void assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}


static void compare_ifc(const struct cx_ifc *a, const struct cx_ifc *b)
{
	assert_int_equal(a->priority, b->priority);
	assert_string_equal(a->as_uri, b->as_uri);
	assert_int_equal(a->default_handling, b->default_handling);
	assert_str_eq_null(a->service_info, b->service_info);
	assert_int_equal(a->include_register_request,
			 b->include_register_request);
	assert_int_equal(a->include_register_response,
			 b->include_register_response);
	assert_int_equal(a->ppi, b->ppi);
	assert_int_equal(a->tp == NULL, b->tp == NULL);
	if (!a->tp)
		return;
	assert_int_equal(a->tp->cnf, b->tp->cnf);
	assert_int_equal(a->tp->spt_n, b->tp->spt_n);
	for (size_t i = 0; i < a->tp->spt_n; i++) {
		const struct cx_spt *x = &a->tp->spt[i], *y = &b->tp->spt[i];

		assert_int_equal(x->group, y->group);
		assert_int_equal(x->negated, y->negated);
		assert_int_equal(x->kind, y->kind);
		assert_str_eq_null(x->a, y->a);
		assert_str_eq_null(x->b, y->b);
		if (x->kind == CX_SPT_SESSION_CASE)
			assert_int_equal(x->session_case, y->session_case);
		assert_int_equal(x->reg_type, y->reg_type);
	}
}


/* Field by field; b's iFCs are in priority order, a's in any order (the
 * priorities of one profile are distinct here). */
static void compare(const struct cx_subscription *a,
		    const struct cx_subscription *b)
{
	assert_string_equal(a->private_id, b->private_id);
	assert_int_equal(a->sp_n, b->sp_n);
	for (size_t i = 0; i < a->sp_n; i++) {
		const struct cx_service_profile *x = &a->sp[i], *y = &b->sp[i];

		assert_int_equal(x->pub_n, y->pub_n);
		for (size_t j = 0; j < x->pub_n; j++) {
			const struct cx_public_id *p = &x->pub[j];
			const struct cx_public_id *q = &y->pub[j];

			assert_string_equal(p->identity, q->identity);
			assert_int_equal(p->barred, q->barred);
			assert_int_equal(p->type, q->type);
			assert_str_eq_null(p->wildcarded, q->wildcarded);
			assert_str_eq_null(p->display_name, q->display_name);
			assert_str_eq_null(p->alias_group, q->alias_group);
		}
		assert_int_equal(x->media_profile, y->media_profile);
		assert_int_equal(x->shared_ifc_n, y->shared_ifc_n);
		for (size_t j = 0; j < x->shared_ifc_n; j++)
			assert_int_equal(x->shared_ifc[j], y->shared_ifc[j]);
		assert_int_equal(x->ifc_n, y->ifc_n);
		for (size_t j = 0; j < y->ifc_n; j++) {
			const struct cx_ifc *match = NULL;

			if (j)
				assert_true(y->ifc[j - 1].priority <=
					    y->ifc[j].priority);
			for (size_t k = 0; k < x->ifc_n; k++) {
				if (x->ifc[k].priority == y->ifc[j].priority)
					match = &x->ifc[k];
			}
			assert_non_null(match);
			compare_ifc(match, &y->ifc[j]);
		}
	}
}


static int decode_str(struct cx_subscription **subp, const char *xml, char *err,
		      size_t errsz)
{
	return cx_userdata_decode(subp, xml, strlen(xml), err, errsz);
}


static const char *find(const struct buf *mb, const char *needle)
{
	return memmem(mb->b, mb->end, needle, strlen(needle));
}


/* ---- tests ------------------------------------------------------------ */

static void test_model(void **state)
{
	struct cx_subscription *sub = cx_subscription_alloc("bob@example.com");
	struct cx_service_profile *sp;
	struct cx_ifc *ifc;
	struct cx_spt *s;

	(void)state;
	assert_non_null(sub);
	assert_string_equal(sub->private_id, "bob@example.com");
	sp = cx_sp_add(sub);
	assert_non_null(sp);
	assert_int_equal(sp->media_profile, -1);
	assert_null(cx_pub_add(sub, sp, NULL));
	assert_non_null(cx_pub_add(sub, sp, "sip:bob@example.com"));
	assert_int_equal(sp->pub[0].type, CX_ID_PUBLIC_USER);
	assert_false(sp->pub[0].barred);

	ifc = cx_ifc_add(sub, sp, 3, "sip:as.example.com");
	assert_non_null(ifc);
	assert_int_equal(ifc->ppi, CX_PPI_NONE);
	assert_int_equal(ifc->default_handling, CX_DH_SESSION_CONTINUED);
	assert_null(ifc->tp);
	s = cx_spt_add(sub, ifc, true, CX_SPT_METHOD, 4);
	assert_non_null(s);
	assert_non_null(ifc->tp);
	assert_true(ifc->tp->cnf);
	assert_int_equal(s->group, 4);
	/* the first call fixed the form */
	assert_non_null(cx_spt_add(sub, ifc, false, CX_SPT_METHOD, 5));
	assert_true(ifc->tp->cnf);
	assert_int_equal(ifc->tp->spt_n, 2);

	/* arrays grow; earlier elements survive the moves */
	for (int i = 0; i < 50; i++)
		assert_non_null(cx_sp_add(sub));
	assert_int_equal(sub->sp_n, 51);
	assert_string_equal(sub->sp[0].pub[0].identity, "sip:bob@example.com");
	assert_null(cx_strdup(sub, NULL));
	mem_deref(sub); /* the leak check proves one deref frees it all */
}


static void test_encode_schema_valid(void **state)
{
	struct cx_subscription *sub = rich();
	struct buf *mb = NULL;
	const char *p5, *p10, *p20;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 1024, 1 << 20), 0);
	assert_int_equal(cx_userdata_encode(mb, sub), 0);
	assert_int_equal(validate(mb->b, mb->end), 0);

	/* escaped, never raw */
	assert_non_null(find(mb, "&lt;svc a=&quot;1&quot; b='2'&gt;x &amp; "
				 "y&lt;/svc&gt;"));
	assert_non_null(find(mb, "]]&gt; end"));
	assert_non_null(
		find(mb, "Alice &quot;Ally&quot; &lt;A&amp;B&gt; \xc3\xa9"));
	assert_null(find(mb, "<svc"));
	/* iFCs in priority order whatever the model's order */
	p5 = find(mb, "<Priority>5</Priority>");
	p10 = find(mb, "<Priority>10</Priority>");
	p20 = find(mb, "<Priority>20</Priority>");
	assert_true(p5 && p10 && p20 && p5 < p10 && p10 < p20);
	/* Rel-9 places */
	assert_non_null(find(mb, "<Extension><IdentityType>3</IdentityType>"
				 "<Extension><DisplayName>Devices</DisplayName>"
				 "<Extension><WildcardedIMPU>sip:dev-!.*!@"
				 "example.com</WildcardedIMPU>"));
	assert_non_null(find(mb, "<IdentityType>2</IdentityType><WildcardedPSI>"
				 "sip:chat-!.*!@example.com</WildcardedPSI>"));
	assert_non_null(find(mb, "<Extension><RegistrationType>0</"
				 "RegistrationType><RegistrationType>2</"
				 "RegistrationType></Extension>"));
	assert_non_null(find(mb, "<Extension><SharedIFCSetID>7</SharedIFCSetID>"
				 "<SharedIFCSetID>42</SharedIFCSetID>"
				 "</Extension></ServiceProfile>"));
	assert_non_null(find(mb, "<BarringIndication>1</BarringIndication>"
				 "<Identity>sip:alice-old@example.com"));
	mem_deref(mb);
	mem_deref(sub);
}


static void test_roundtrip(void **state)
{
	struct cx_subscription *sub = rich(), *back = NULL;
	struct buf *mb = NULL, *mb2 = NULL;
	char err[160];

	(void)state;
	assert_int_equal(buf_alloc(&mb, 1024, 1 << 20), 0);
	assert_int_equal(cx_userdata_encode(mb, sub), 0);
	assert_int_equal(cx_userdata_decode(&back, (const char *)mb->b, mb->end,
					    err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	compare(sub, back);
	assert_string_equal(back->sp[0].ifc[2].service_info, svc_info);
	assert_string_equal(back->sp[0].pub[0].display_name, disp_alice);

	/* the decoded model encodes to the same bytes */
	assert_int_equal(buf_alloc(&mb2, 1024, 1 << 20), 0);
	assert_int_equal(cx_userdata_encode(mb2, back), 0);
	assert_int_equal(mb->end, mb2->end);
	assert_memory_equal(mb->b, mb2->b, mb->end);

	mem_deref(mb2);
	mem_deref(mb);
	mem_deref(back);
	mem_deref(sub);
}


static void test_encode_edge(void **state)
{
	struct cx_subscription *sub = cx_subscription_alloc("c@example.com");
	struct cx_service_profile *sp;
	struct cx_ifc *ifc;
	struct cx_spt *s;
	struct buf *mb = NULL, *tiny = NULL;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 256, 1 << 16), 0);
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL); /* no SP */
	sp = cx_sp_add(sub);
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL); /* no IMPU */
	assert_non_null(cx_pub_add(sub, sp, "sip:c@example.com"));

	/* all three registration types = any REGISTER: no Extension, as
	 * the schema allows only two RegistrationType elements */
	ifc = cx_ifc_add(sub, sp, 1, "sip:as.example.com");
	s = cx_spt_add(sub, ifc, false, CX_SPT_METHOD, 0);
	s->a = cx_strdup(sub, "REGISTER");
	s->reg_type = CX_REGTYPE_INITIAL | CX_REGTYPE_RE | CX_REGTYPE_DE;
	mb->end = mb->pos = 0;
	assert_int_equal(cx_userdata_encode(mb, sub), 0);
	assert_null(find(mb, "RegistrationType"));
	assert_int_equal(validate(mb->b, mb->end), 0);

	/* a control character cannot be carried by XML 1.0 */
	s->a = mem_deref(s->a);
	s->a = cx_strdup(sub, "REGI\x01STER");
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL);
	s->a = mem_deref(s->a);
	s->a = cx_strdup(sub, "\xff\xfe");
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL);
	s->a = mem_deref(s->a); /* a Method SPT without a method */
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL);
	s->a = cx_strdup(sub, "REGISTER");
	s->kind = (enum cx_spt_kind)9;
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL);
	s->kind = CX_SPT_METHOD;
	ifc->ppi = (enum cx_profile_part)2;
	assert_int_equal(cx_userdata_encode(mb, sub), EINVAL);
	ifc->ppi = CX_PPI_NONE;

	/* the buffer's ceiling holds */
	assert_int_equal(buf_alloc(&tiny, 64, 64), 0);
	assert_int_equal(cx_userdata_encode(tiny, sub), EMSGSIZE);

	mem_deref(tiny);
	mem_deref(mb);
	mem_deref(sub);
}


/* OpenIMSCore FHoSS (the HSS of Kamailio's IMS set-ups): pretty-printed,
 * CoreNetworkServicesAuthorization after the iFCs, empty SPT Extension,
 * 0/1 booleans, iFCs out of order. */
static const char fhoss_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<IMSSubscription>\n"
	"  <PrivateID>alice@open-ims.test</PrivateID>\n"
	"  <ServiceProfile>\n"
	"    <PublicIdentity>\n"
	"      <BarringIndication>0</BarringIndication>\n"
	"      <Identity> sip:alice@open-ims.test </Identity>\n"
	"      <Extension>\n"
	"        <IdentityType>0</IdentityType>\n"
	"        <Extension><DisplayName>Alice</DisplayName></Extension>\n"
	"      </Extension>\n"
	"    </PublicIdentity>\n"
	"    <PublicIdentity>\n"
	"      <Identity>tel:+1-555-0100</Identity>\n"
	"    </PublicIdentity>\n"
	"    <InitialFilterCriteria>\n"
	"      <Priority>1</Priority>\n"
	"      <TriggerPoint>\n"
	"        <ConditionTypeCNF>1</ConditionTypeCNF>\n"
	"        <SPT>\n"
	"          <ConditionNegated>0</ConditionNegated>\n"
	"          <Group>0</Group>\n"
	"          <Method>PUBLISH</Method>\n"
	"          <Extension></Extension>\n"
	"        </SPT>\n"
	"        <SPT>\n"
	"          <ConditionNegated>0</ConditionNegated>\n"
	"          <Group>0</Group>\n"
	"          <Group>1</Group>\n"
	"          <SIPHeader>\n"
	"            <Header>Event</Header>\n"
	"            <Content>.*presence.*</Content>\n"
	"          </SIPHeader>\n"
	"          <Extension></Extension>\n"
	"        </SPT>\n"
	"        <SPT>\n"
	"          <ConditionNegated>1</ConditionNegated>\n"
	"          <Group>1</Group>\n"
	"          <SessionCase>1</SessionCase>\n"
	"        </SPT>\n"
	"      </TriggerPoint>\n"
	"      <ApplicationServer>\n"
	"        <ServerName>sip:presence.open-ims.test:5065</ServerName>\n"
	"        <DefaultHandling>0</DefaultHandling>\n"
	"      </ApplicationServer>\n"
	"    </InitialFilterCriteria>\n"
	"    <InitialFilterCriteria>\n"
	"      <Priority>0</Priority>\n"
	"      <ApplicationServer>\n"
	"        <ServerName>sip:as.open-ims.test</ServerName>\n"
	"        <DefaultHandling>1</DefaultHandling>\n"
	"        <ServiceInfo><![CDATA[a<b>&c]]></ServiceInfo>\n"
	"      </ApplicationServer>\n"
	"      <ProfilePartIndicator>1</ProfilePartIndicator>\n"
	"    </InitialFilterCriteria>\n"
	"    <CoreNetworkServicesAuthorization>\n"
	"      <SubscribedMediaProfileId>0</SubscribedMediaProfileId>\n"
	"    </CoreNetworkServicesAuthorization>\n"
	"  </ServiceProfile>\n"
	"</IMSSubscription>\n";

static void test_decode_fhoss(void **state)
{
	struct cx_subscription *sub = NULL;
	const struct cx_service_profile *sp;
	const struct cx_trigger_point *tp;
	char err[160];

	(void)state;
	/* the schema check is not vacuous: FHoSS's order is not annex E's */
	assert_true(validate((const uint8_t *)fhoss_doc,
			     sizeof(fhoss_doc) - 1) > 0);
	assert_int_equal(decode_str(&sub, fhoss_doc, err, sizeof(err)), 0);
	assert_string_equal(sub->private_id, "alice@open-ims.test");
	assert_int_equal(sub->sp_n, 1);
	sp = &sub->sp[0];
	assert_int_equal(sp->pub_n, 2);
	assert_string_equal(sp->pub[0].identity, "sip:alice@open-ims.test");
	assert_string_equal(sp->pub[0].display_name, "Alice");
	assert_false(sp->pub[0].barred);
	assert_string_equal(sp->pub[1].identity, "tel:+1-555-0100");
	assert_null(sp->pub[1].display_name);
	assert_int_equal(sp->media_profile, 0);

	assert_int_equal(sp->ifc_n, 2);
	assert_int_equal(sp->ifc[0].priority, 0); /* sorted */
	assert_null(sp->ifc[0].tp);
	assert_string_equal(sp->ifc[0].service_info, "a<b>&c");
	assert_int_equal(sp->ifc[0].default_handling, CX_DH_SESSION_TERMINATED);
	assert_int_equal(sp->ifc[0].ppi, CX_PPI_UNREGISTERED);

	assert_int_equal(sp->ifc[1].priority, 1);
	assert_int_equal(sp->ifc[1].ppi, CX_PPI_NONE);
	tp = sp->ifc[1].tp;
	assert_non_null(tp);
	assert_true(tp->cnf);
	/* the SPT in Groups 0 and 1 is one cx_spt per group */
	assert_int_equal(tp->spt_n, 4);
	assert_int_equal(tp->spt[0].kind, CX_SPT_METHOD);
	assert_string_equal(tp->spt[0].a, "PUBLISH");
	assert_int_equal(tp->spt[1].kind, CX_SPT_SIP_HEADER);
	assert_int_equal(tp->spt[1].group, 0);
	assert_int_equal(tp->spt[2].kind, CX_SPT_SIP_HEADER);
	assert_int_equal(tp->spt[2].group, 1);
	assert_string_equal(tp->spt[2].a, "Event");
	assert_string_equal(tp->spt[2].b, ".*presence.*");
	assert_int_equal(tp->spt[3].kind, CX_SPT_SESSION_CASE);
	assert_int_equal(tp->spt[3].session_case, CX_SC_TERMINATING_REGISTERED);
	assert_true(tp->spt[3].negated);
	mem_deref(sub);
}


/* PyHSS's iFC template style (used with Kamailio's ims modules): alias
 * groups, REGISTER types, <IncludeRegisterRequest/>, true/false, a
 * ServiceProfile extension and unknown extension elements (a Rel-10
 * ServiceLevelTraceInfo, a vendor namespace) that must be skipped. */
static const char pyhss_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<IMSSubscription xmlns:v=\"urn:vendor:x\">"
	"<PrivateID>001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
	"</PrivateID>"
	"<ServiceProfile>"
	"<PublicIdentity><Identity>sip:5550001@ims.example.org</Identity>"
	"<Extension><IdentityType>0</IdentityType><Extension>"
	"<AliasIdentityGroupID>1</AliasIdentityGroupID>"
	"<Extension><ServiceLevelTraceInfo>x</ServiceLevelTraceInfo>"
	"<Extension><ExtendedPriority><PriorityNamespace>a"
	"</PriorityNamespace></ExtendedPriority></Extension></Extension>"
	"</Extension></Extension></PublicIdentity>"
	"<PublicIdentity><BarringIndication>true</BarringIndication>"
	"<Identity>tel:5550001</Identity><Extension><IdentityType>0"
	"</IdentityType><Extension><AliasIdentityGroupID>1"
	"</AliasIdentityGroupID></Extension></Extension></PublicIdentity>"
	"<InitialFilterCriteria><Priority>10</Priority><TriggerPoint>"
	"<ConditionTypeCNF>false</ConditionTypeCNF>"
	"<SPT><ConditionNegated>false</ConditionNegated><Group>0</Group>"
	"<Method>REGISTER</Method><Extension>"
	"<RegistrationType>0</RegistrationType>"
	"<RegistrationType>1</RegistrationType></Extension></SPT>"
	"<v:Tag>ignored</v:Tag>"
	"</TriggerPoint><ApplicationServer>"
	"<ServerName>sip:tas.ims.example.org:5060</ServerName>"
	"<DefaultHandling>SESSION_CONTINUED</DefaultHandling>"
	"<Extension><IncludeRegisterRequest/><IncludeRegisterResponse/>"
	"</Extension></ApplicationServer></InitialFilterCriteria>"
	"<Extension><SharedIFCSetID>3</SharedIFCSetID></Extension>"
	"<v:Extra><PublicIdentity><Identity>sip:no</Identity></PublicIdentity>"
	"</v:Extra>"
	"</ServiceProfile></IMSSubscription>";

static void test_decode_pyhss(void **state)
{
	struct cx_subscription *sub = NULL;
	const struct cx_service_profile *sp;
	const struct cx_ifc *ifc;
	char err[160];

	(void)state;
	assert_int_equal(decode_str(&sub, pyhss_doc, err, sizeof(err)), 0);
	sp = &sub->sp[0];
	/* v:Extra's PublicIdentity is not in an annex E place */
	assert_int_equal(sp->pub_n, 2);
	assert_string_equal(sp->pub[0].alias_group, "1");
	assert_string_equal(sp->pub[1].alias_group, "1");
	assert_true(sp->pub[1].barred);
	assert_int_equal(sp->media_profile, -1);
	assert_int_equal(sp->shared_ifc_n, 1);
	assert_int_equal(sp->shared_ifc[0], 3);
	ifc = &sp->ifc[0];
	assert_false(ifc->tp->cnf);
	assert_int_equal(ifc->tp->spt_n, 1);
	assert_int_equal(ifc->tp->spt[0].reg_type,
			 CX_REGTYPE_INITIAL | CX_REGTYPE_RE);
	assert_true(ifc->include_register_request);
	assert_true(ifc->include_register_response);
	assert_int_equal(ifc->default_handling, CX_DH_SESSION_CONTINUED);
	assert_null(ifc->service_info);
	mem_deref(sub);
}


/* Clearwater's Homestead: a default namespace on the root, a wildcarded
 * IMPU with a later release's IdentityType 4, and no trigger Group
 * surprises; also ISO-8859-1 (converted to UTF-8). */
static void test_decode_other_shapes(void **state)
{
	static const char cw[] =
		"<?xml version=\"1.0\"?>"
		"<IMSSubscription xmlns=\"urn:example:cx\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
		"<PrivateID>6505550001@example.com</PrivateID>"
		"<ServiceProfile><PublicIdentity>"
		"<Identity>sip:650555!.*!@example.com</Identity>"
		"<Extension><IdentityType>4</IdentityType><Extension>"
		"<Extension><WildcardedIMPU>sip:650555!.*!@example.com"
		"</WildcardedIMPU></Extension></Extension></Extension>"
		"</PublicIdentity></ServiceProfile></IMSSubscription>";
	static const char latin1[] =
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		"<IMSSubscription><PrivateID>z@example.com</PrivateID>"
		"<ServiceProfile><PublicIdentity><Identity>sip:z@example.com"
		"</Identity><Extension><Extension><DisplayName>Z\xe9"
		"</DisplayName></Extension></Extension></PublicIdentity>"
		"</ServiceProfile></IMSSubscription>";
	struct cx_subscription *sub = NULL;
	char err[160];

	(void)state;
	assert_int_equal(decode_str(&sub, cw, err, sizeof(err)), 0);
	assert_int_equal(sub->sp[0].pub[0].type, CX_ID_WILDCARDED_IMPU);
	assert_string_equal(sub->sp[0].pub[0].wildcarded,
			    "sip:650555!.*!@example.com");
	sub = mem_deref(sub);

	assert_int_equal(decode_str(&sub, latin1, err, sizeof(err)), 0);
	assert_string_equal(sub->sp[0].pub[0].display_name, "Z\xc3\xa9");
	mem_deref(sub);
}


/* Many iFCs of equal and reversed priorities: sorted, stable. */
static void test_decode_sort_stable(void **state)
{
	struct cx_subscription *sub = NULL;
	struct buf *mb = NULL;
	char err[160];

	(void)state;
	assert_int_equal(buf_alloc(&mb, 4096, 1 << 20), 0);
	assert_int_equal(
		buf_printf(mb, "<IMSSubscription><PrivateID>a@b</PrivateID>"
			       "<ServiceProfile><PublicIdentity><Identity>"
			       "sip:a@b</Identity></PublicIdentity>"),
		0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(
			buf_printf(mb,
				   "<InitialFilterCriteria><Priority>"
				   "%d</Priority><ApplicationServer>"
				   "<ServerName>sip:as%d@b</ServerName>"
				   "</ApplicationServer>"
				   "</InitialFilterCriteria>",
				   (199 - i) / 2, i),
			0);
	assert_int_equal(buf_printf(mb, "</ServiceProfile></IMSSubscription>"),
			 0);
	assert_int_equal(cx_userdata_decode(&sub, (const char *)mb->b, mb->end,
					    err, sizeof(err)),
			 0);
	assert_int_equal(sub->sp[0].ifc_n, 200);
	for (int j = 0; j < 200; j++) {
		char want[32];
		int i = j % 2 ? 200 - j : 198 - j; /* input index */

		assert_int_equal(sub->sp[0].ifc[j].priority, j / 2);
		(void)snprintf(want, sizeof(want), "sip:as%d@b", i);
		assert_string_equal(sub->sp[0].ifc[j].as_uri, want);
	}
	mem_deref(sub);
	mem_deref(mb);
}


#define HEAD  "<IMSSubscription><PrivateID>a@example.com</PrivateID>"
#define SP(x) "<ServiceProfile>" x "</ServiceProfile></IMSSubscription>"
#define PUB                                                      \
	"<PublicIdentity><Identity>sip:a@example.com</Identity>" \
	"</PublicIdentity>"
#define IFC(prio, tp, as)                                         \
	"<InitialFilterCriteria><Priority>" prio "</Priority>" tp \
	"<ApplicationServer>" as "</ApplicationServer>"           \
	"</InitialFilterCriteria>"
#define AS "<ServerName>sip:as@example.com</ServerName>"
#define TP(spt)                                                    \
	"<TriggerPoint><ConditionTypeCNF>1</ConditionTypeCNF>" spt \
	"</TriggerPoint>"

/* The refused documents and the words their error must contain. */
static const struct {
	const char *doc;
	const char *why;
} bad_docs[] = {
	{ "this is not XML", "not well-formed" },
	{ "", "not well-formed" },
	{ HEAD "<ServiceProfile>" PUB, "not well-formed" },
	{ "<Sh-Data><PrivateID>x</PrivateID></Sh-Data>", "<Sh-Data>" },
	{ HEAD SP("<PublicIdentity><BarringIndication>1</BarringIndication>"
		  "</PublicIdentity>"),
	  "Identity" },
	{ HEAD SP("<PublicIdentity><Identity>  </Identity></PublicIdentity>"),
	  "Identity is empty" },
	{ HEAD SP("<PublicIdentity><Identity>sip:a@b</Identity><Identity>"
		  "sip:c@d</Identity></PublicIdentity>"),
	  "more than one Identity" },
	{ HEAD SP("<PublicIdentity><Identity>sip:<b>x</b></Identity>"
		  "</PublicIdentity>"),
	  "Identity holds an element" },
	{ HEAD SP(PUB IFC("abc", "", AS)), "Priority \"abc\"" },
	{ HEAD SP(PUB IFC("", "", AS)), "Priority \"\"" },
	{ HEAD SP(PUB IFC("99999999999", "", AS)), "Priority" },
	{ HEAD SP(PUB "<InitialFilterCriteria><ApplicationServer>" AS
		      "</ApplicationServer></InitialFilterCriteria>"),
	  "without a Priority" },
	{ HEAD SP(PUB IFC("1", "", "<DefaultHandling>0</DefaultHandling>")),
	  "ServerName" },
	{ HEAD SP(PUB "<InitialFilterCriteria><Priority>1</Priority>"
		      "</InitialFilterCriteria>"),
	  "ApplicationServer" },
	{ HEAD SP(PUB IFC("1", "", AS "<DefaultHandling>2</DefaultHandling>")),
	  "DefaultHandling 2" },
	{ HEAD SP(PUB IFC("1", "", AS "<DefaultHandling>x</DefaultHandling>")),
	  "DefaultHandling \"x\"" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>0</Group><SessionCase>7"
			     "</SessionCase></SPT>"),
			  AS)),
	  "SessionCase 7" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>0</Group><Method>INVITE</Method>"
			     "<Extension><RegistrationType>3</RegistrationType>"
			     "</Extension></SPT>"),
			  AS)),
	  "RegistrationType 3" },
	{ HEAD SP("<PublicIdentity><Identity>sip:a@b</Identity><Extension>"
		  "<IdentityType>9</IdentityType></Extension>"
		  "</PublicIdentity>"),
	  "IdentityType 9" },
	{ HEAD SP("<PublicIdentity><BarringIndication>yes</BarringIndication>"
		  "<Identity>sip:a@b</Identity></PublicIdentity>"),
	  "BarringIndication \"yes\"" },
	{ HEAD SP(PUB "<InitialFilterCriteria><Priority>1</Priority>"
		      "<ApplicationServer>" AS "</ApplicationServer>"
		      "<ProfilePartIndicator>2</ProfilePartIndicator>"
		      "</InitialFilterCriteria>"),
	  "ProfilePartIndicator 2" },
	{ HEAD SP(PUB IFC("1", TP("<SPT><Group>0</Group></SPT>"), AS)),
	  "SPT without a condition" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>0</Group><Method>A</Method>"
			     "<RequestURI>b</RequestURI></SPT>"),
			  AS)),
	  "more than one condition" },
	{ HEAD SP(PUB IFC("1", TP("<SPT><Method>A</Method></SPT>"), AS)),
	  "without a Group" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>-1</Group><Method>A</Method>"
			     "</SPT>"),
			  AS)),
	  "Group -1" },
	{ HEAD SP(PUB IFC("1", TP(""), AS)), "TriggerPoint without an SPT" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>0</Group><SIPHeader><Content>x"
			     "</Content></SIPHeader></SPT>"),
			  AS)),
	  "SIPHeader without a Header" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><Group>0</Group><SessionDescription>"
			     "</SessionDescription></SPT>"),
			  AS)),
	  "SessionDescription without a Line" },
	{ HEAD SP(PUB IFC("1",
			  TP("<SPT><ConditionNegated>2</ConditionNegated>"
			     "<Group>0</Group><Method>A</Method></SPT>"),
			  AS)),
	  "ConditionNegated" },
	{ HEAD SP(PUB "<CoreNetworkServicesAuthorization>"
		      "<SubscribedMediaProfileId>-4</SubscribedMediaProfileId>"
		      "</CoreNetworkServicesAuthorization>"),
	  "SubscribedMediaProfileId" },
	{ HEAD SP(PUB "<Extension><SharedIFCSetID>x</SharedIFCSetID>"
		      "</Extension>"),
	  "SharedIFCSetID" },
	{ "<IMSSubscription>" SP(PUB), "without a PrivateID" },
	{ HEAD "</IMSSubscription>", "without a ServiceProfile" },
	{ HEAD SP(""), "without a PublicIdentity" },
	/* XInclude is not processed: the element is refused as such */
	{ "<IMSSubscription><PrivateID><xi:include href=\"/etc/passwd\" "
	  "parse=\"text\" xmlns:xi=\"http://www.w3.org/2001/XInclude\"/>"
	  "</PrivateID>" SP(PUB),
	  "PrivateID holds an element" },
	/* billion laughs */
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE IMSSubscription [\n"
	  " <!ENTITY a \"aaaaaaaaaa\">\n"
	  " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	  " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	  " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	  " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	  " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	  " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
	  " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
	  " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
	  "]>\n<IMSSubscription><PrivateID>&i;</PrivateID>" SP(PUB),
	  "DOCTYPE" },
	/* external entity */
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE IMSSubscription [\n"
	  " <!ENTITY x SYSTEM \"file:///etc/passwd\">\n]>\n"
	  "<IMSSubscription><PrivateID>&x;</PrivateID>" SP(PUB),
	  "DOCTYPE" },
	/* external DTD */
	{ "<?xml version=\"1.0\"?>\n<!DOCTYPE IMSSubscription SYSTEM "
	  "\"/etc/passwd\">\n<IMSSubscription><PrivateID>a</PrivateID>" SP(PUB),
	  "DOCTYPE" },
	/* an undeclared entity */
	{ HEAD SP("<PublicIdentity><Identity>&x;</Identity></PublicIdentity>"),
	  "not well-formed" },
};

static void test_decode_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		struct cx_subscription *sub = NULL;
		char err[200];
		int rc;

		rc = decode_str(&sub, bad_docs[i].doc, err, sizeof(err));
		if (rc != EBADMSG || !strstr(err, bad_docs[i].why))
			print_error("document %zu: rc %d, \"%s\" (want \"%s\")"
				    "\n",
				    i, rc, err, bad_docs[i].why);
		assert_int_equal(rc, EBADMSG);
		assert_non_null(strstr(err, bad_docs[i].why));
		assert_null(sub);
		assert_null(strstr(err, "root:")); /* nothing of /etc/passwd */
	}
}


static void test_decode_limits(void **state)
{
	struct cx_subscription *sub = NULL;
	char err[160], *big;
	size_t n = CX_USERDATA_MAX + 1;

	(void)state;
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(cx_userdata_decode(&sub, big, n, err, sizeof(err)),
			 EMSGSIZE);
	assert_non_null(strstr(err, "larger"));
	free(big);
	assert_null(sub);

	/* NULL err is fine; not NUL-terminated input is read by length */
	assert_int_equal(cx_userdata_decode(&sub, fhoss_doc,
					    sizeof(fhoss_doc) - 1, NULL, 0),
			 0);
	sub = mem_deref(sub);
	assert_int_equal(cx_userdata_decode(&sub, fhoss_doc, 40, NULL, 0),
			 EBADMSG);
	assert_int_equal(cx_userdata_decode(NULL, fhoss_doc, 10, NULL, 0),
			 EINVAL);
	/* a tiny error buffer is truncated, not overrun */
	assert_int_equal(cx_userdata_decode(&sub, "<x/>", 4, err, 5), EBADMSG);
	assert_int_equal(strlen(err), 4);
}


/* One change to the service part of rich(). */
static void mutate(struct cx_subscription *sub, int k)
{
	struct cx_service_profile *sp = &sub->sp[0];
	struct cx_ifc *ifc = &sp->ifc[0];

	switch (k) {
	case 0:
		ifc->priority++;
		break;
	case 1:
		ifc->as_uri[4] ^= 1;
		break;
	case 2:
		ifc->service_info = mem_deref(ifc->service_info);
		break;
	case 3:
		ifc->include_register_request = !ifc->include_register_request;
		break;
	case 4:
		ifc->tp->spt[0].negated = !ifc->tp->spt[0].negated;
		break;
	case 5:
		ifc->tp->spt[1].group++;
		break;
	case 6:
		ifc->tp->cnf = !ifc->tp->cnf;
		break;
	case 7:
		sp->media_profile++;
		break;
	case 8:
		sub->sp[1].ifc[0].tp->spt[1].reg_type = CX_REGTYPE_INITIAL;
		break;
	case 9:
		ifc->tp->spt[3].b = mem_deref(ifc->tp->spt[3].b);
		break;
	case 10:
		sp->shared_ifc[1]++;
		break;
	default:
		ifc->default_handling = !ifc->default_handling;
		break;
	}
}


/* The service part: identities dropped (the profiles and their order
 * stay); equal for subscriptions that differ only in their identities,
 * the XML round trip included; any single change to an iFC, an SPT or a
 * profile makes it different. */
static void test_services(void **state)
{
	struct cx_subscription *a = rich(), *b = rich(), *x = NULL, *y = NULL;
	struct buf *mb = NULL;
	size_t sp_n = a->sp_n;

	(void)state;
	assert_true(cx_services_eq(a, b));
	mem_deref(b->sp[0].pub[0].identity);
	b->sp[0].pub[0].identity = cx_strdup(b, "sip:carol@example.com");
	assert_true(cx_services_eq(a, b));
	assert_int_equal(cx_services_hash(a), cx_services_hash(b));

	/* as an S-CSCF sees them: decoded (iFCs sorted by priority) */
	assert_int_equal(buf_alloc(&mb, 4096, CX_USERDATA_MAX), 0);
	assert_int_equal(cx_userdata_encode(mb, a), 0);
	assert_int_equal(
		cx_userdata_decode(&x, (const char *)mb->b, mb->end, NULL, 0),
		0);
	mb->pos = mb->end = 0;
	assert_int_equal(cx_userdata_encode(mb, b), 0);
	assert_int_equal(
		cx_userdata_decode(&y, (const char *)mb->b, mb->end, NULL, 0),
		0);
	assert_true(cx_services_eq(x, y));
	assert_int_equal(cx_services_hash(x), cx_services_hash(y));
	cx_subscription_drop_ids(a);
	cx_subscription_drop_ids(x);
	assert_null(a->private_id);
	assert_int_equal(a->sp_n, sp_n);
	for (size_t i = 0; i < a->sp_n; i++) {
		assert_int_equal(a->sp[i].pub_n, 0);
		assert_null(a->sp[i].pub);
	}
	assert_true(cx_services_eq(a, b));
	assert_true(cx_services_eq(x, y));
	assert_false(cx_services_eq(a, NULL));
	assert_true(cx_services_eq(NULL, NULL));
	cx_subscription_drop_ids(NULL);

	for (int k = 0; k < 11; k++) {
		struct cx_subscription *m = rich();

		mutate(m, k);
		if (cx_services_eq(a, m))
			fail_msg("change %d not seen", k);
		if (cx_services_hash(a) == cx_services_hash(m))
			fail_msg("change %d: same hash", k);
		mem_deref(m);
	}
	mem_deref(mb);
	mem_deref(y);
	mem_deref(x);
	mem_deref(b);
	mem_deref(a);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_services, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_model, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_encode_schema_valid,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_roundtrip, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_encode_edge, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_fhoss, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_pyhss, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_other_shapes,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_sort_stable,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_refused, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_decode_limits, mem_mark,
						mem_expect_no_leaks),
	};
	int rc;

	rc = cmocka_run_group_tests_name("diameter_userdata", tests, NULL,
					 NULL);
	xmlCleanupParser(); /* let LeakSanitizer see only real leaks */
	return rc;
}
