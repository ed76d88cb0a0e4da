/**
 * @file test_hss_prov.c  HSS provisioning (hss/prov.c) over a SQLite
 * store: the sentences that refuse bad input (table-driven), the JSON
 * round trip import -> export -> import -> export, subscription
 * changes, iFCs and service profiles.
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
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "hss/prov.h"
#include "sip/auth.h"
#include "store/store.h"

static char dir[64];
static int ndb;

static struct store *fresh_store(void)
{
	struct store *st = NULL;
	char url[128];

	(void)snprintf(url, sizeof(url), "sqlite:%s/p%d.db", dir, ndb++);
	assert_int_equal(store_open(&st, url), 0);
	return st;
}


static int group_setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/entims-prov-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}


static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}


static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		fail_msg("test JSON: %s: %s", je.text, text);
	return j;
}


static void must(int err, const char *msg)
{
	if (err)
		fail_msg("refused (%d): %s", err, msg);
}


/* An iFC and a profile "gold" the documents can refer to. */
static void base_profiles(struct store *st)
{
	char msg[PROV_MSG_MAX];
	json_t *d;

	d = J("[{\"name\": \"vm\", \"priority\": 10, \"as_uri\": "
	      "\"sip:vm.acme.example\", \"default_handling\": "
	      "\"session_terminated\", \"service_info\": \"<x a='1'>&</x>\", "
	      "\"include_register_request\": true, "
	      "\"include_register_response\": false, \"profile_part\": "
	      "\"registered\", \"trigger\": {\"cnf\": false, \"spt\": ["
	      "{\"group\": 0, \"method\": \"REGISTER\", \"reg_type\": "
	      "[\"initial\", \"de\"]}, {\"group\": 1, \"negated\": true, "
	      "\"request_uri\": \"^sip:vm-[0-9]+@\"}, {\"group\": 1, "
	      "\"header\": \"P-Served-User\", \"content\": \"sescase=term\"}, "
	      "{\"group\": 2, \"session_case\": \"originating_cdiv\"}, "
	      "{\"group\": 3, \"sdp_line\": \"m\", \"content\": "
	      "\"audio\"}]}}, {\"name\": \"fwd\", \"priority\": 1, \"as_uri\": "
	      "\"sip:fwd.acme.example\"}]");
	must(prov_ifc_add(st, d, msg, sizeof(msg)), msg);
	json_decref(d);
	d = J("{\"id\": 7, \"name\": \"operator\", \"ifc\": [\"fwd\"]}");
	must(prov_ifc_set_add(st, d, msg, sizeof(msg)), msg);
	json_decref(d);
	d = J("{\"name\": \"gold\", \"ifc\": [\"vm\", \"fwd\"], "
	      "\"shared_ifc_sets\": [7], \"media_profile\": 3}");
	must(prov_sp_add(st, d, 0, msg, sizeof(msg)), msg);
	json_decref(d);
}


/* ---- refusals ---- */

struct bad {
	const char *doc;
	int err;
	const char *says;
};

#define SUB(impi, impu) \
	"{\"name\": \"s\", \"impi\": [" impi "], \"impu\": [" impu "]}"
#define IMPI_PW  "{\"identity\": \"alice@acme.example\", \"password\": \"pw\"}"
#define IMPU(id) "{\"identity\": \"" id "\"}"

static const struct bad bads[] = {
	{ SUB(IMPI_PW, IMPU("sip:bob@")), EINVAL,
	  "public identity 'sip:bob@' is not a valid SIP URI: the host is "
	  "missing; write it as sip:user@domain" },
	{ SUB(IMPI_PW, IMPU("bob@acme.example")), EINVAL,
	  "is not a SIP or tel URI: write it as sip:user@domain" },
	{ SUB(IMPI_PW, IMPU("tel:5551234")), EINVAL,
	  "is not a valid tel URI: write a global number" },
	{ SUB(IMPI_PW, IMPU("sip:a b@acme.example")), EINVAL,
	  "contains white space" },
	{ SUB(IMPI_PW, IMPU("sip:bob@acme..example:99999")), EINVAL,
	  "is not a valid SIP URI (RFC 3261 19.1)" },
	{ SUB(IMPI_PW, IMPU("sip:ivr-!.*!@acme.example")), EINVAL,
	  "contains '!', which only a wildcarded identity may hold" },
	{ SUB(IMPI_PW, "{\"identity\": \"sip:ivr-!.*@acme.example\", "
		       "\"type\": \"wildcarded_psi\"}"),
	  EINVAL, "between two '!'" },
	{ SUB(IMPI_PW, "{\"identity\": \"sip:ivr@acme.example\", \"type\": "
		       "\"distinct_psi\", \"can_register\": true}"),
	  EINVAL, "is a PSI and cannot register" },
	{ SUB(IMPI_PW, "{\"identity\": \"sip:x@acme.example\", \"type\": "
		       "\"psi\"}"),
	  EINVAL, "identity type 'psi' of 'sip:x@acme.example' is unknown" },
	{ SUB("{\"identity\": \"sip:alice@acme.example\", \"password\": "
	      "\"pw\"}",
	      ""),
	  EINVAL, "is not an NAI: write it as user@realm" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"schemes\": "
	      "[\"digest-md5\"]}",
	      ""),
	  EINVAL,
	  "private identity 'alice@acme.example' allows digest-md5 but has "
	  "no password: give \"password\"" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"schemes\": "
	      "[\"aka-v1-md5\"]}",
	      ""),
	  EINVAL, "allows aka-v1-md5 but has no K: give \"k\" and \"op\"" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"schemes\": "
	      "[\"aka-v2-md5\"], \"k\": \"000102030405060708090a0b0c0d0e0f\"}",
	      ""),
	  EINVAL, "allows aka-v2-md5 but has no OP or OPc" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"op\": "
	      "\"000102030405060708090a0b0c0d0e0f\"}",
	      ""),
	  EINVAL, "gives \"op\" without \"k\"" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"k\": \"00\"}", ""),
	  EINVAL,
	  "\"k\" of private identity 'alice@acme.example' must be 32 "
	  "hex digits" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"password\": \"pw\", "
	      "\"schemes\": [\"md4\"]}",
	      ""),
	  EINVAL,
	  "authentication scheme 'md4' of 'alice@acme.example' is unknown: "
	  "use digest-md5, digest-sha256, aka-v1-md5 or aka-v2-md5" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"password\": \"pw\", "
	      "\"default_scheme\": \"aka-v1-md5\"}",
	      ""),
	  EINVAL,
	  "default scheme aka-v1-md5 of 'alice@acme.example' is not "
	  "one of its \"schemes\"" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"passwrd\": \"pw\"}",
	      ""),
	  EINVAL, "unknown member \"passwrd\" in a private identity" },
	{ SUB(IMPI_PW, "{\"identity\": \"sip:alice@acme.example\", "
		       "\"service_profile\": \"platinum\"}"),
	  ENOENT,
	  "refers to service profile 'platinum', which does not exist: "
	  "create it with 'entims profile add platinum'" },
	{ SUB(IMPI_PW "," IMPI_PW, ""), EEXIST,
	  "private identity 'alice@acme.example' is listed twice" },
	{ SUB("{\"identity\": \"alice@acme.example\", \"password\": \"pw\", "
	      "\"impu\": [\"sip:eve@acme.example\"]}",
	      ""),
	  EINVAL,
	  "lists public identity 'sip:eve@acme.example', which subscription "
	  "'s' does not have: add it to \"impu\"" },
	{ "{\"impi\": []}", EINVAL, "a subscription needs a \"name\"" },
	{ "[1]", EINVAL, "a subscription must be a JSON object" },
	/* against what the store holds (see test_refusals) */
	{ SUB("{\"identity\": \"taken@acme.example\", \"password\": \"pw\"}",
	      ""),
	  EEXIST,
	  "private identity 'taken@acme.example' already exists (in "
	  "subscription 'first')" },
	{ SUB(IMPI_PW, IMPU("sip:taken@acme.example")), EEXIST,
	  "public identity 'sip:taken@acme.example' already exists (in "
	  "subscription 'first')" },
	{ "{\"name\": \"first\"}", EEXIST,
	  "subscription 'first' already exists" },
};

static void test_refusals(void **state)
{
	struct store_subscription *s = NULL;
	char msg[PROV_MSG_MAX];
	struct store *st = fresh_store();
	json_t *d;
	size_t i, n;

	(void)state;
	base_profiles(st);
	d = J("{\"name\": \"first\", \"impi\": [{\"identity\": "
	      "\"taken@acme.example\", \"password\": \"x\"}], \"impu\": "
	      "[{\"identity\": \"sip:taken@acme.example\"}]}");
	must(prov_sub_add(st, d, msg, sizeof(msg)), msg);
	json_decref(d);

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		msg[0] = '\0';
		d = J(bads[i].doc);
		n = 99;
		if (prov_import(st, d, &n, msg, sizeof(msg)) != bads[i].err ||
		    !strstr(msg, bads[i].says))
			fail_msg("case %zu: %s\n  said: %s\n  want: %s", i,
				 bads[i].doc, msg, bads[i].says);
		assert_int_equal(n, 0);
		json_decref(d);
		/* nothing was written */
		assert_int_equal(store_sub_get(st, "s", &s), ENOENT);
	}
	mem_deref(st);
}


/* ---- round trip ---- */

static const char rich[] =
	"[{\"name\": \"acme-alice\","
	" \"scscf\": {\"preferred\": \"sip:scscf1.acme.example\", "
	"\"mandatory\": [1, 20], \"optional\": [3]},"
	" \"charging\": {\"ccf_primary\": \"aaa://ccf1.acme.example\", "
	"\"ecf_secondary\": \"aaa://ecf2.acme.example\"},"
	" \"impi\": [{\"identity\": \"alice@acme.example\", \"password\": "
	"\"s3cret\", \"realms\": [\"acme.example\", \"ims.acme.example\"], "
	"\"impu\": [\"sip:alice@acme.example\", \"tel:+15145550100\"]},"
	" {\"identity\": \"alice-ua@acme.example\", \"schemes\": "
	"[\"aka-v1-md5\", \"aka-v2-md5\"], \"default_scheme\": \"aka-v2-md5\", "
	"\"k\": \"465b5ce8b199b49faa5f0a2ee238a6bc\", \"op\": "
	"\"cdc202d5123e20f62b6d676ac72cb318\", \"amf\": \"b9b9\", \"sqn\": "
	"4242, \"line_id\": \"line-7\", \"impu\": [\"tel:+15145550100\"]}],"
	" \"impu\": [{\"identity\": \"sip:alice@acme.example\", "
	"\"display_name\": \"Alice \\\"A\\\" Liddell\", \"irs\": 1, "
	"\"service_profile\": \"gold\", \"alias_group\": 5},"
	" {\"identity\": \"tel:+15145550100\", \"irs\": 1, "
	"\"service_profile\": "
	"\"gold\", \"barred\": true}]},"
	" {\"name\": \"acme-ivr\", \"impu\": [{\"identity\": "
	"\"sip:ivr-!.*!@acme.example\", \"type\": \"wildcarded_psi\", "
	"\"service_profile\": \"gold\"}, {\"identity\": "
	"\"sip:conf@acme.example\", \"type\": \"distinct_psi\"}]}]";

static void copy_profiles(struct store *from, struct store *to)
{
	char msg[PROV_MSG_MAX];
	json_t *ifcs = NULL, *sps = NULL, *e;
	size_t k;

	must(prov_ifc_export(from, NULL, &ifcs, msg, sizeof(msg)), msg);
	must(prov_ifc_add(to, ifcs, msg, sizeof(msg)), msg);
	e = J("{\"id\": 7, \"name\": \"operator\", \"ifc\": [\"fwd\"]}");
	must(prov_ifc_set_add(to, e, msg, sizeof(msg)), msg);
	json_decref(e);
	must(prov_sp_export(from, NULL, &sps, msg, sizeof(msg)), msg);
	json_array_foreach(sps, k, e)
		must(prov_sp_add(to, e, 0, msg, sizeof(msg)), msg);
	json_decref(ifcs);
	json_decref(sps);
}


static void test_json_round_trip(void **state)
{
	char msg[PROV_MSG_MAX], ha1[STORE_HA1_MAX], want[STORE_HA1_MAX];
	struct store *a = fresh_store(), *b = fresh_store();
	json_t *in = J(rich), *out1 = NULL, *out2 = NULL, *x;
	struct store_impi *i = NULL;
	size_t n = 0;
	char *t1, *t2;

	(void)state;
	base_profiles(a);
	must(prov_import(a, in, &n, msg, sizeof(msg)), msg);
	assert_int_equal(n, 2);
	must(prov_export_all(a, &out1, msg, sizeof(msg)), msg);

	/* secrets went in as HA1 and OPc only */
	t1 = json_dumps(out1, JSON_COMPACT);
	assert_null(strstr(t1, "s3cret"));
	assert_null(strstr(t1, "\"password\""));
	assert_null(strstr(t1, "cdc202d5123e20f62b6d676ac72cb318"));
	/* TS 35.208 test set 1: OPc from K and OP */
	assert_non_null(
		strstr(t1, "\"opc\":\"cd63cb71954a9f4e48a5994e37a02baf\""));
	free(t1);
	assert_int_equal(store_impi_ha1(a, "alice@acme.example",
					"ims.acme.example", 1, ha1,
					sizeof(ha1)),
			 0);
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, "alice@acme.example",
				  "ims.acme.example", "s3cret", want,
				  sizeof(want)),
			 0);
	assert_string_equal(ha1, want);
	assert_int_equal(store_impi_get(a, "alice-ua@acme.example", &i), 0);
	assert_int_equal(i->sqn, 4242);
	assert_int_equal(i->amf[0], 0xb9);
	assert_int_equal(i->default_scheme, STORE_AUTH_AKAV2_MD5);
	i = mem_deref(i);

	/* the export imports as it is, into another store, and exports
	 * the same */
	copy_profiles(a, b);
	must(prov_import(b, out1, &n, msg, sizeof(msg)), msg);
	assert_int_equal(n, 2);
	must(prov_export_all(b, &out2, msg, sizeof(msg)), msg);
	if (!json_equal(out1, out2)) {
		t1 = json_dumps(out1, JSON_INDENT(1) | JSON_SORT_KEYS);
		t2 = json_dumps(out2, JSON_INDENT(1) | JSON_SORT_KEYS);
		fail_msg("export differs:\n%s\n---\n%s", t1, t2);
	}
	/* one subscription by any of its keys */
	json_decref(out2);
	must(prov_sub_export(b, "sip:ivr-42@acme.example", &out2, msg,
			     sizeof(msg)),
	     msg);
	x = json_object_get(out2, "name");
	assert_string_equal(json_string_value(x), "acme-ivr");
	assert_true(json_equal(out2, json_array_get(out1, 1)));
	json_decref(out2);
	assert_int_equal(prov_sub_export(b, "sip:nobody@acme.example", &out2,
					 msg, sizeof(msg)),
			 ENOENT);
	assert_non_null(strstr(msg,
			       "no subscription, private identity or "
			       "public identity 'sip:nobody@acme.example'"));
	json_decref(in);
	json_decref(out1);
	mem_deref(a);
	mem_deref(b);
}


static void test_set_and_delete(void **state)
{
	char msg[PROV_MSG_MAX], ha1[STORE_HA1_MAX], want[STORE_HA1_MAX];
	struct store *st = fresh_store();
	struct store_impu *u = NULL;
	struct store_impi *i = NULL;
	json_t *in = J(rich), *ch;
	size_t n;

	(void)state;
	base_profiles(st);
	must(prov_import(st, in, &n, msg, sizeof(msg)), msg);
	json_decref(in);

	/* new password, a new IMPU associated, one barred */
	ch = J("{\"impu\": [{\"identity\": \"sip:alice.w@acme.example\", "
	       "\"irs\": 1}, {\"identity\": \"sip:alice@acme.example\", "
	       "\"barred\": true}], \"impi\": [{\"identity\": "
	       "\"alice@acme.example\", \"password\": \"n3w\", \"impu\": "
	       "[\"sip:alice@acme.example\", \"sip:alice.w@acme.example\"]}]}");
	must(prov_sub_set(st, "tel:+15145550100", ch, msg, sizeof(msg)), msg);
	json_decref(ch);
	assert_int_equal(store_impi_ha1(st, "alice@acme.example",
					"acme.example", 0, ha1, sizeof(ha1)),
			 0);
	assert_int_equal(auth_ha1(AUTH_ALG_MD5, "alice@acme.example",
				  "acme.example", "n3w", want, sizeof(want)),
			 0);
	assert_string_equal(ha1, want);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &i), 0);
	assert_int_equal(i->impu.n, 2);
	assert_string_equal(i->impu.v[1], "sip:alice@acme.example");
	assert_int_equal(i->ha1_n, 1); /* the realm of the IMPI */
	i = mem_deref(i);
	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &u), 0);
	assert_true(u->barred);
	assert_string_equal(u->display_name, "Alice \"A\" Liddell"); /* kept */
	u = mem_deref(u);

	/* refusals */
	ch = J("{\"impu\": [{\"identity\": \"sip:conf@acme.example\"}]}");
	assert_int_equal(prov_sub_set(st, "acme-alice", ch, msg, sizeof(msg)),
			 EXDEV);
	assert_non_null(strstr(msg, "belongs to subscription 'acme-ivr'"));
	json_decref(ch);
	ch = J("{\"name\": \"x\"}");
	assert_int_equal(prov_sub_set(st, "acme-alice", ch, msg, sizeof(msg)),
			 EINVAL);
	assert_non_null(strstr(msg, "cannot be renamed"));
	json_decref(ch);
	ch = J("{\"impi\": [{\"identity\": \"alice@acme.example\", "
	       "\"schemes\": [\"aka-v1-md5\"]}]}");
	assert_int_equal(prov_sub_set(st, "acme-alice", ch, msg, sizeof(msg)),
			 EINVAL);
	assert_non_null(strstr(msg, "has no K"));
	json_decref(ch);

	/* a profile in use and an iFC in use stay */
	assert_int_equal(prov_sp_delete(st, "gold", msg, sizeof(msg)), EBUSY);
	assert_non_null(strstr(msg, "is used by public identities"));
	assert_int_equal(prov_ifc_delete(st, "vm", msg, sizeof(msg)), EBUSY);
	assert_int_equal(prov_ifc_delete(st, "nope", msg, sizeof(msg)), ENOENT);

	/* delete by a public identity takes the whole subscription */
	must(prov_sub_delete(st, "sip:alice.w@acme.example", msg, sizeof(msg)),
	     msg);
	assert_int_equal(store_impi_get(st, "alice-ua@acme.example", &i),
			 ENOENT);
	assert_int_equal(prov_sub_delete(st, "acme-alice", msg, sizeof(msg)),
			 ENOENT);
	mem_deref(st);
}


static void test_ifc_and_profile_documents(void **state)
{
	char msg[PROV_MSG_MAX];
	struct store *st = fresh_store();
	json_t *d, *out = NULL;

	(void)state;
	base_profiles(st);
	/* what went in comes out (defaults written out) */
	must(prov_ifc_export(st, "vm", &out, msg, sizeof(msg)), msg);
	d = J("{\"name\": \"vm\", \"priority\": 10, \"as_uri\": "
	      "\"sip:vm.acme.example\", \"default_handling\": "
	      "\"session_terminated\", \"service_info\": \"<x a='1'>&</x>\", "
	      "\"include_register_request\": true, "
	      "\"include_register_response\": false, \"profile_part\": "
	      "\"registered\", \"trigger\": {\"cnf\": false, \"spt\": ["
	      "{\"group\": 0, \"method\": \"REGISTER\", \"reg_type\": "
	      "[\"initial\", \"de\"]}, {\"group\": 1, \"negated\": true, "
	      "\"request_uri\": \"^sip:vm-[0-9]+@\"}, {\"group\": 1, "
	      "\"header\": \"P-Served-User\", \"content\": \"sescase=term\"}, "
	      "{\"group\": 2, \"session_case\": \"originating_cdiv\"}, "
	      "{\"group\": 3, \"sdp_line\": \"m\", \"content\": "
	      "\"audio\"}]}}");
	assert_true(json_equal(d, out));
	json_decref(d);
	json_decref(out);

	d = J("{\"name\": \"bad\", \"priority\": 1, \"as_uri\": "
	      "\"sip:as.acme.example\", \"trigger\": {\"cnf\": true, \"spt\": "
	      "[{\"request_uri\": \"sip:(\"}]}}");
	assert_int_equal(prov_ifc_add(st, d, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "'sip:(' is not a valid regular "
				    "expression"));
	json_decref(d);
	d = J("{\"name\": \"bad\", \"priority\": 1, \"as_uri\": "
	      "\"sip:as.acme.example\", \"trigger\": {\"cnf\": true, \"spt\": "
	      "[{\"session_case\": \"sideways\"}]}}");
	assert_int_equal(prov_ifc_add(st, d, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "session_case 'sideways' is not one of"));
	json_decref(d);
	d = J("{\"name\": \"bad\", \"as_uri\": \"sip:as.acme.example\"}");
	assert_int_equal(prov_ifc_add(st, d, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "needs a \"priority\""));
	json_decref(d);
	d = J("{\"name\": \"vm\", \"priority\": 1, \"as_uri\": "
	      "\"sip:as.acme.example\"}");
	assert_int_equal(prov_ifc_add(st, d, msg, sizeof(msg)), EEXIST);
	assert_non_null(strstr(msg, "iFC 'vm' already exists"));
	json_decref(d);

	d = J("{\"name\": \"silver\", \"ifc\": [\"vm\", \"nope\"]}");
	assert_int_equal(prov_sp_add(st, d, 0, msg, sizeof(msg)), ENOENT);
	assert_non_null(strstr(msg, "service profile 'silver' lists iFC "
				    "'nope', which does not exist"));
	json_decref(d);
	d = J("{\"name\": \"gold\", \"ifc\": [\"vm\"]}");
	assert_int_equal(prov_sp_add(st, d, 0, msg, sizeof(msg)), EEXIST);
	must(prov_sp_add(st, d, 1, msg, sizeof(msg)), msg);
	json_decref(d);
	must(prov_sp_export(st, "gold", &out, msg, sizeof(msg)), msg);
	d = J("{\"name\": \"gold\", \"ifc\": [\"vm\"], \"shared_ifc_sets\": "
	      "[]}");
	assert_true(json_equal(d, out));
	json_decref(d);
	json_decref(out);
	mem_deref(st);
}


#define T(f) cmocka_unit_test_setup_teardown(f, mem_mark, mem_expect_no_leaks)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_refusals),
		T(test_json_round_trip),
		T(test_set_and_delete),
		T(test_ifc_and_profile_documents),
	};

	return cmocka_run_group_tests_name("hss_prov", tests, group_setup,
					   group_teardown);
}
