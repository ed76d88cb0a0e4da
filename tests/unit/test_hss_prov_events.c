/**
 * @file test_hss_prov_events.c  Provisioning feeds the HSS outbox
 * (hss/prov.c, store/events.h): which changes queue a profile push
 * (STORE_EV_PROFILE -> PPR, TS 29.228 6.2.2) and which queue nothing (an
 * unregistered user, a change the S-CSCF does not hold), deletion and
 * administrative deregistration queueing STORE_EV_DEREG (-> RTR, 6.1.3)
 * with the Reason-Code, and the whole path through hss_poll_events to the
 * PPR's User-Data and the RTR's Reason-Code.
 *
 * Fixture: util/hsstest.c (acme-alice with alice@ and alice-tab@, its
 * implicit set sip:alice + tel:+15145550100 and the barred sip:alice-old
 * in a set of its own; acme-bob), registered through MAR + SAR.
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
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "diameter/cx.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/userdata.h"
#include "hss/hss.h"
#include "hss/prov.h"
#include "store/events.h"
#include "store/store.h"
#include "util/hsstest.h"

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


static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		fail_msg("test JSON: %s: %s", je.text, text);
	return j;
}


/*
 * The outbox as one line ("P acme-alice", "D alice@ims.test 2", joined
 * by "; "), compared with want ("" for empty); then emptied.
 */
static void expect_events(const char *want, const char *what)
{
	struct list l = LIST_INIT;
	char got[512] = "";
	struct le *le;
	size_t o = 0;

	assert_int_equal(store_event_list(T.st, 64, &l), 0);
	LIST_FOREACH (&l, le) {
		const struct store_event *ev = le->data;
		int n;

		if (ev->kind == STORE_EV_PROFILE)
			n = snprintf(got + o, sizeof(got) - o, "%sP %s",
				     o ? "; " : "", ev->subject);
		else
			n = snprintf(got + o, sizeof(got) - o, "%sD %s %u",
				     o ? "; " : "", ev->subject, ev->reason);
		assert_true(n > 0 && (size_t)n < sizeof(got) - o);
		o += (size_t)n;
		assert_int_equal(store_event_delete(T.st, ev->id), 0);
	}
	list_flush(&l);
	if (strcmp(got, want) != 0)
		fail_msg("%s: outbox '%s', expected '%s'", what, got, want);
}


static void set(const char *key, const char *changes)
{
	char msg[PROV_MSG_MAX] = "";
	json_t *ch = J(changes);
	int err = prov_sub_set(T.st, key, ch, msg, sizeof(msg));

	json_decref(ch);
	if (err)
		fail_msg("set %s %s: %s", key, changes, msg);
}


static void sp(const char *doc)
{
	char msg[PROV_MSG_MAX] = "";
	json_t *d = J(doc);
	int err = prov_sp_add(T.st, d, 1, msg, sizeof(msg));

	json_decref(d);
	if (err)
		fail_msg("profile %s: %s", doc, msg);
}


/* ---- nothing registered: nothing to push ---- */

static void test_unregistered_queues_nothing(void **state)
{
	char msg[PROV_MSG_MAX];

	(void)state;
	set("acme-alice", "{\"impu\": [{\"identity\": \"" HT_ATEL
			  "\", \"barred\": true, \"display_name\": \"A\"}]}");
	set("acme-alice", "{\"charging\": {\"ccf_primary\": \"ccf9\"}}");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-reg\", \"ifc-unreg\"]}");
	assert_int_equal(prov_sub_delete(T.st, "acme-bob", msg, sizeof(msg)),
			 0);
	expect_events("", "changes to unregistered users");
}


/* ---- one change at a time on a registered user ---- */

static void test_changes_of_a_registered_user(void **state)
{
	/* in order: each row sees the rows before it */
	static const struct {
		const char *key, *changes, *want;
	} v[] = {
		/* what the S-CSCF holds: User-Data of a served set */
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"" HT_ATEL
		  "\", \"barred\": true}]}",
		  "P acme-alice" },
		/* the same value again changes nothing */
		{ HT_ATEL,
		  "{\"impu\": [{\"identity\": \"" HT_ATEL
		  "\", \"barred\": true}]}",
		  "" },
		{ HT_ALICE,
		  "{\"impu\": [{\"identity\": \"" HT_AU
		  "\", \"display_name\": \"Alice L.\"}]}",
		  "P acme-alice" },
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"" HT_AU
		  "\", \"alias_group\": \"7\"}]}",
		  "P acme-alice" },
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"" HT_ATEL
		  "\", \"service_profile\": \"sp-bob\"}]}",
		  "P acme-alice" },
		/* TS 29.228 6.2.2: a PPR carries Charging-Information too */
		{ "acme-alice",
		  "{\"charging\": {\"ccf_primary\": \"ccf2.ims.test\"}}",
		  "P acme-alice" },
		/* secrets and S-CSCF selection data: not the S-CSCF's */
		{ "acme-alice",
		  "{\"impi\": [{\"identity\": \"" HT_ALICE
		  "\", \"password\": \"new-secret\"}]}",
		  "" },
		{ "acme-alice",
		  "{\"impi\": [{\"identity\": \"" HT_ALICE
		  "\", \"sqn\": 4242, \"line_id\": \"l-1\"}]}",
		  "" },
		{ "acme-alice",
		  "{\"scscf\": {\"preferred\": \"sip:scscf2.ims.test\", "
		  "\"mandatory\": [5]}}",
		  "" },
		/* a change to an identity in no served set */
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"" HT_AOLD
		  "\", \"display_name\": \"Old\"}]}",
		  "" },
		/* a new identity in a set of its own, then associated with
		 * the registered IMPI: still in no served set */
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"sip:alice2@ims.test\"}]}", "" },
		{ "acme-alice",
		  "{\"impi\": [{\"identity\": \"" HT_ALICE
		  "\", \"impu\": [\"" HT_AU "\", \"" HT_ATEL "\", \"" HT_AOLD
		  "\", \"sip:alice2@ims.test\"]}]}",
		  "" },
		/* ... until it joins the registered implicit set */
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"sip:alice2@ims.test\", "
		  "\"irs\": 1}]}",
		  "P acme-alice" },
		/* and leaves it again */
		{ "acme-alice",
		  "{\"impu\": [{\"identity\": \"sip:alice2@ims.test\", "
		  "\"irs\": 0}]}",
		  "P acme-alice" },
		/* bob is not registered */
		{ "acme-bob",
		  "{\"impu\": [{\"identity\": \"" HT_BU
		  "\", \"barred\": true}]}",
		  "" },
	};
	char what[64];
	size_t k;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	expect_events("", "registration");
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		(void)snprintf(what, sizeof(what), "change %zu", k + 1);
		set(v[k].key, v[k].changes);
		expect_events(v[k].want, what);
	}
}


/* A refused change still pushes what it wrote before the refusal. */
static void test_partial_set_pushes(void **state)
{
	char msg[PROV_MSG_MAX] = "";
	json_t *ch;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	ch = J("{\"impu\": [{\"identity\": \"" HT_ATEL
	       "\", \"barred\": true}, {\"identity\": \"" HT_AU
	       "\", \"service_profile\": \"nope\"}]}");
	assert_int_equal(prov_sub_set(T.st, "acme-alice", ch, msg, sizeof(msg)),
			 ENOENT);
	json_decref(ch);
	assert_non_null(strstr(msg, "service profile 'nope'"));
	expect_events("P acme-alice", "partly written change");
}


/* ---- service profiles (iFCs, shared iFC sets, media profile) ---- */

static void test_profile_changes(void **state)
{
	char msg[PROV_MSG_MAX];
	json_t *d;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	d = J("{\"id\": 9, \"name\": \"operator\", \"ifc\": [\"ifc-unreg\"]}");
	assert_int_equal(prov_ifc_set_add(T.st, d, msg, sizeof(msg)), 0);
	json_decref(d);
	expect_events("", "a new shared iFC set");

	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-reg\"]}");
	expect_events("", "profile written unchanged");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-reg\", \"ifc-unreg\"]}");
	expect_events("P acme-alice", "an iFC added");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-unreg\", \"ifc-reg\"]}");
	expect_events("", "iFC names reordered (Priority orders them)");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-unreg\", \"ifc-reg\"], "
	   "\"shared_ifc_sets\": [9]}");
	expect_events("P acme-alice", "a shared iFC set added");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-unreg\", \"ifc-reg\"], "
	   "\"shared_ifc_sets\": [9], \"media_profile\": 2}");
	expect_events("P acme-alice", "the media profile changed");
	/* sp-bob: only bob, who is not registered */
	sp("{\"name\": \"sp-bob\", \"ifc\": [\"ifc-reg\"]}");
	expect_events("", "profile of unregistered users only");

	/* bob registers too: a profile both use pushes both, once each */
	ht_register(&T, HT_BOB, HT_BU, HT_SCSCF2);
	set("acme-bob", "{\"impu\": [{\"identity\": \"" HT_BU
			"\", \"service_profile\": \"sp-alice\"}]}");
	expect_events("P acme-bob", "bob moved to sp-alice");
	sp("{\"name\": \"sp-alice\", \"ifc\": [\"ifc-reg\"]}");
	expect_events("P acme-alice; P acme-bob", "a profile of two users");
}


/* ---- deletion and administrative deregistration ---- */

static void test_delete_deregisters_first(void **state)
{
	struct store_subscription *s = NULL;
	char msg[PROV_MSG_MAX];

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(prov_sub_delete(T.st, HT_ATEL, msg, sizeof(msg)), 0);
	/* one RTR per IMPI that registered a served set, PERMANENT_
	 * TERMINATION; alice-tab may register sip:alice too, but alice@
	 * registered it, so alice-tab has nothing of its own to end */
	assert_non_null(strstr(msg, "to scscf1.ims.test for alice@ims.test"));
	assert_null(strstr(msg, HT_TAB));
	expect_events("D alice@ims.test 0", "registered subscription deleted");
	assert_int_equal(store_sub_get(T.st, "acme-alice", &s), ENOENT);
	assert_int_equal(prov_sub_delete(T.st, "acme-bob", msg, sizeof(msg)),
			 0);
	expect_events("", "unregistered subscription deleted");
}


static void test_deregister(void **state)
{
	static const struct {
		const char *name;
		int err;
		uint32_t code;
	} rv[] = {
		{ "permanent", 0, DIA_REASON_PERMANENT_TERMINATION },
		{ "new-server", 0, DIA_REASON_NEW_SERVER_ASSIGNED },
		{ "server-change", 0, DIA_REASON_SERVER_CHANGE },
		{ "remove-scscf", 0, DIA_REASON_REMOVE_SCSCF },
		{ "SERVER_CHANGE", 0, DIA_REASON_SERVER_CHANGE },
		{ "REMOVE_S-CSCF", 0, DIA_REASON_REMOVE_SCSCF },
		{ "forever", EINVAL, 0 },
		{ "", EINVAL, 0 },
	};
	char msg[PROV_MSG_MAX];
	uint32_t code;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(rv) / sizeof(rv[0]); k++) {
		code = 99;
		assert_int_equal(
			prov_reason_parse(rv[k].name, &code, msg, sizeof(msg)),
			rv[k].err);
		if (!rv[k].err)
			assert_int_equal(code, rv[k].code);
		else
			assert_non_null(strstr(msg, "use permanent"));
	}

	assert_int_equal(prov_deregister(T.st, "ghost@ims.test", 0, NULL, msg,
					 sizeof(msg)),
			 ENOENT);
	assert_non_null(strstr(msg, "no private or public identity "
				    "'ghost@ims.test'"));
	assert_int_equal(
		prov_deregister(T.st, HT_ALICE, 0, NULL, msg, sizeof(msg)),
		EALREADY);
	assert_non_null(strstr(msg, "is not registered"));
	assert_non_null(strstr(msg, "no deregistration (RTR) will be sent"));
	/* a PSI covered by a wildcard is never registered */
	assert_int_equal(prov_deregister(T.st, "sip:conf-7@ims.test", 0, NULL,
					 msg, sizeof(msg)),
			 EALREADY);
	assert_int_equal(
		prov_deregister(T.st, HT_AU, 9, NULL, msg, sizeof(msg)),
		EINVAL);
	assert_int_equal(
		prov_deregister(T.st, HT_AU, 0, "two\nlines", msg, sizeof(msg)),
		EINVAL);
	expect_events("", "nothing registered");

	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	/* an IMPU: its implicit set (tel: is in it) */
	assert_int_equal(prov_deregister(T.st, HT_ATEL,
					 DIA_REASON_SERVER_CHANGE, NULL, msg,
					 sizeof(msg)),
			 0);
	assert_non_null(strstr(msg, "SERVER_CHANGE"));
	assert_non_null(strstr(msg, "scscf1.ims.test"));
	expect_events("D tel:+15145550100 2", "IMPU deregistered");
	/* an IMPI: all of it */
	assert_int_equal(prov_deregister(T.st, HT_ALICE,
					 DIA_REASON_PERMANENT_TERMINATION,
					 "contract ended", msg, sizeof(msg)),
			 0);
	assert_non_null(strstr(msg, "Reason-Info \"contract ended\""));
	assert_non_null(strstr(msg, "User-Name alice@ims.test"));
	expect_events("D alice@ims.test 0", "IMPI deregistered");
	/* alice-tab may register sip:alice, but did not: no RTR of its own
	 * (it would end alice@'s registration) */
	assert_int_equal(
		prov_deregister(T.st, HT_TAB, 0, NULL, msg, sizeof(msg)),
		EALREADY);
	assert_non_null(strstr(msg, "private identity 'alice-tab@ims.test' "
				    "is not registered"));
	/* the barred sip:alice-old is in a set of its own, not registered */
	assert_int_equal(
		prov_deregister(T.st, HT_AOLD, 0, NULL, msg, sizeof(msg)),
		EALREADY);
	expect_events("", "unregistered set");
}


/* ---- through the HSS: PPR with the new User-Data, RTR, state ---- */

static const struct cx_public_id *pub_find(const struct cx_subscription *cx,
					   const char *id)
{
	size_t i, j;

	for (i = 0; i < cx->sp_n; i++)
		for (j = 0; j < cx->sp[i].pub_n; j++)
			if (!strcmp(cx->sp[i].pub[j].identity, id))
				return &cx->sp[i].pub[j];
	return NULL;
}


static void test_outbox_to_the_scscf(void **state)
{
	struct cx_subscription *cx = NULL;
	const struct cx_public_id *p;
	struct store_impu *u = NULL;
	json_t *doc = NULL, *reg;
	struct dia_msg *req;
	char msg[PROV_MSG_MAX], why[128];
	struct cx_ppr ppr;
	struct cx_rtr rtr;
	unsigned n = 0;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	set(HT_ATEL,
	    "{\"impu\": [{\"identity\": \"" HT_ATEL "\", \"barred\": true}]}");
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(T.sent_n, 1);
	req = ht_wire(T.sent[0]);
	assert_int_equal(req->code, DIA_CMD_PP);
	assert_int_equal(cx_ppr_decode(req, &ppr), 0);
	assert_int_equal(cx_userdata_decode(&cx, ppr.user_data.p,
					    ppr.user_data.l, why, sizeof(why)),
			 0);
	p = pub_find(cx, HT_ATEL);
	assert_non_null(p);
	assert_true(p->barred);
	p = pub_find(cx, HT_AU);
	assert_non_null(p);
	assert_false(p->barred);
	mem_deref(cx);
	mem_deref(req);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	expect_events("", "PPR sent");

	assert_int_equal(prov_deregister(T.st, HT_ALICE,
					 DIA_REASON_NEW_SERVER_ASSIGNED, NULL,
					 msg, sizeof(msg)),
			 0);
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(T.sent_n, 2);
	req = ht_wire(T.sent[1]);
	assert_int_equal(req->code, DIA_CMD_RT);
	assert_int_equal(cx_rtr_decode(req, &rtr), 0);
	assert_int_equal(rtr.reason, DIA_REASON_NEW_SERVER_ASSIGNED);
	assert_true(pl_eq_str(&rtr.impi, HT_ALICE));
	mem_deref(req);
	ht_answer_sent(&T, 1, DIA_SUCCESS, 0);
	assert_int_equal(store_impu_get(T.st, HT_AU, &u), 0);
	assert_int_equal(u->reg_state, STORE_REG_NOT_REGISTERED);
	mem_deref(u);

	/* show gives the state; export (the round-trip document) not */
	assert_int_equal(prov_sub_show(T.st, HT_ALICE, &doc, msg, sizeof(msg)),
			 0);
	reg = json_object_get(doc, "registration");
	assert_non_null(reg);
	assert_true(json_is_null(json_object_get(reg, "scscf")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(reg, "impu"), HT_AU)),
			    "not_registered");
	json_decref(doc);
	assert_int_equal(
		prov_sub_export(T.st, HT_ALICE, &doc, msg, sizeof(msg)), 0);
	assert_null(json_object_get(doc, "registration"));
	json_decref(doc);
	assert_int_equal(
		prov_deregister(T.st, HT_ALICE, 0, NULL, msg, sizeof(msg)),
		EALREADY);
}


/* The n-th request the HSS sent, as an RTR off the wire (its views
 * point into *reqp, which the caller frees). */
static void sent_rtr(size_t n, struct dia_msg **reqp, struct cx_rtr *rtr)
{
	assert_true(n < T.sent_n);
	*reqp = ht_wire(T.sent[n]);
	assert_int_equal((*reqp)->code, DIA_CMD_RT);
	assert_int_equal(cx_rtr_decode(*reqp, rtr), 0);
}


/* `entims subscriber deregister --info`: the Reason-Info is carried by
 * the outbox to the RTR's Deregistration-Reason (TS 29.229 6.3.16). */
static void test_rtr_carries_reason_info(void **state)
{
	struct dia_msg *req = NULL;
	char msg[PROV_MSG_MAX];
	struct cx_rtr rtr;
	unsigned n = 0;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(prov_deregister(T.st, HT_AU, DIA_REASON_SERVER_CHANGE,
					 "moved to the Paris office", msg,
					 sizeof(msg)),
			 0);
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 1);
	sent_rtr(0, &req, &rtr);
	assert_int_equal(rtr.reason, DIA_REASON_SERVER_CHANGE);
	assert_true(pl_eq_str(&rtr.reason_info, "moved to the Paris office"));
	assert_true(pl_eq_str(&rtr.impi, HT_ALICE));
	assert_int_equal(rtr.impu_n, 1);
	assert_true(pl_eq_str(&rtr.impu[0], HT_AU));
	mem_deref(req);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	expect_events("", "RTR sent");

	/* without --info: no Reason-Info AVP at all */
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(
		prov_deregister(T.st, HT_ALICE, 0, NULL, msg, sizeof(msg)), 0);
	assert_null(strstr(msg, "Reason-Info"));
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	sent_rtr(1, &req, &rtr);
	assert_false(pl_isset(&rtr.reason_info));
	mem_deref(req);
	ht_answer_sent(&T, 1, DIA_SUCCESS, 0);
}


/* prov_sub_delete on its own (the REST path): the HSS polls after the
 * rows are gone and still sends the RTR, from the event's snapshot. */
static void test_rtr_after_delete(void **state)
{
	struct store_subscription *s = NULL;
	struct dia_msg *req = NULL;
	char msg[PROV_MSG_MAX];
	struct cx_rtr rtr;
	struct pl dh;
	unsigned n = 0;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(prov_sub_delete(T.st, "acme-alice", msg, sizeof(msg)),
			 0);
	assert_int_equal(store_sub_get(T.st, "acme-alice", &s), ENOENT);
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(T.sent_n, 1);
	sent_rtr(0, &req, &rtr);
	assert_true(pl_eq_str(&rtr.impi, HT_ALICE));
	assert_int_equal(rtr.impu_n, 0); /* all of alice@ */
	assert_int_equal(rtr.reason, DIA_REASON_PERMANENT_TERMINATION);
	/* to the S-CSCF's Diameter identity, from the SAR */
	assert_int_equal(
		dia_get_pl(&req->root, DIA_AVP_DESTINATION_HOST, 0, &dh), 0);
	assert_true(pl_eq_str(&dh, "scscf1.ims.test"));
	mem_deref(req);
	expect_events("", "the snapshot was sent and removed");
	/* the RTA finds nothing to update: no error, nothing recreated */
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	assert_int_equal(store_sub_get(T.st, "acme-alice", &s), ENOENT);
	assert_int_equal(hss_pending(T.hss), 0);
}


/*
 * An IMPU shared by two IMPIs (sip:alice: alice@ and alice-tab@): the
 * RTR and the PPR name the IMPI whose SAR REGISTRATION registered the set
 * (TS 29.228 6.1.3, 6.2.2), whichever it is; a deregistration clears it.
 */
static void test_shared_impu_names_the_registered_impi(void **state)
{
	static const char *const who[] = { HT_TAB, HT_ALICE };
	static const char *const change[] = {
		"{\"impu\": [{\"identity\": \"" HT_AU
		"\", \"display_name\": \"Alice T\"}]}",
		"{\"impu\": [{\"identity\": \"" HT_AU
		"\", \"display_name\": \"Alice A\"}]}",
	};
	struct dia_msg *req = NULL;
	struct store_impu *u = NULL;
	char msg[PROV_MSG_MAX];
	char *reg = NULL;
	struct cx_rtr rtr;
	struct cx_ppr ppr;
	size_t k, sent;
	unsigned n = 0;

	(void)state;
	for (k = 0; k < 2; k++) {
		ht_register(&T, who[k], HT_AU, HT_SCSCF1);
		assert_int_equal(store_reg_impi_get(T.st, HT_ATEL, &reg), 0);
		assert_string_equal(reg, who[k]); /* the whole set */
		reg = mem_deref(reg);

		/* a profile change: one PPR for the set, User-Name who[k] */
		sent = T.sent_n;
		set(HT_AU, change[k]);
		assert_int_equal(hss_poll_events(T.hss, &n), 0);
		assert_int_equal(T.sent_n, sent + 1);
		req = ht_wire(T.sent[sent]);
		assert_int_equal(req->code, DIA_CMD_PP);
		assert_int_equal(cx_ppr_decode(req, &ppr), 0);
		if (!pl_eq_str(&ppr.impi, who[k]))
			fail_msg("PPR User-Name %.*s, registered by %s",
				 PL_FMT(&ppr.impi), who[k]);
		mem_deref(req);
		ht_answer_sent(&T, sent, DIA_SUCCESS, 0);

		/* deregister the IMPU: the RTR names who[k] */
		assert_int_equal(
			prov_deregister(T.st, HT_AU, 0, NULL, msg, sizeof(msg)),
			0);
		assert_int_equal(hss_poll_events(T.hss, &n), 0);
		sent_rtr(sent + 1, &req, &rtr);
		if (!pl_eq_str(&rtr.impi, who[k]))
			fail_msg("RTR User-Name %.*s, registered by %s",
				 PL_FMT(&rtr.impi), who[k]);
		mem_deref(req);
		ht_answer_sent(&T, sent + 1, DIA_SUCCESS, 0);
		assert_int_equal(store_impu_get(T.st, HT_AU, &u), 0);
		assert_int_equal(u->reg_state, STORE_REG_NOT_REGISTERED);
		u = mem_deref(u);
		assert_int_equal(store_reg_impi_get(T.st, HT_AU, &reg), 0);
		assert_null(reg); /* cleared with the registration */
	}

	/* the S-CSCF's own deregistration (SAR) clears it too */
	ht_register(&T, HT_TAB, HT_AU, HT_SCSCF1);
	req = ht_sar(&T, HT_TAB, HT_AU, HT_SCSCF1, DIA_SAT_USER_DEREGISTRATION,
		     DIA_USER_DATA_ALREADY_AVAILABLE_IN_SCSCF);
	ht_expect(req, DIA_SUCCESS, 0);
	mem_deref(req);
	assert_int_equal(store_reg_impi_get(T.st, HT_ATEL, &reg), 0);
	assert_null(reg);
}


/* A snapshot whose S-CSCF no longer serves the user when the RTA comes
 * (registered again at another one): the RTA changes nothing. */
static void test_rta_from_a_former_scscf(void **state)
{
	struct store_impu *u = NULL;
	char msg[PROV_MSG_MAX];
	unsigned n = 0;

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(
		prov_deregister(T.st, HT_AU, 0, NULL, msg, sizeof(msg)), 0);
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF2);
	assert_int_equal(hss_poll_events(T.hss, &n), 0);
	assert_int_equal(T.sent_n, 1);
	ht_answer_sent(&T, 0, DIA_SUCCESS, 0);
	assert_int_equal(store_impu_get(T.st, HT_AU, &u), 0);
	assert_int_equal(u->reg_state, STORE_REG_REGISTERED);
	mem_deref(u);
	assert_int_equal(
		prov_deregister(T.st, HT_AU, 0, NULL, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "to scscf2.ims.test"));
}


static void test_show_registered(void **state)
{
	json_t *doc = NULL, *reg, *m;
	char msg[PROV_MSG_MAX];

	(void)state;
	ht_register(&T, HT_ALICE, HT_AU, HT_SCSCF1);
	assert_int_equal(
		prov_sub_show(T.st, "acme-alice", &doc, msg, sizeof(msg)), 0);
	reg = json_object_get(doc, "registration");
	assert_string_equal(json_string_value(json_object_get(reg, "scscf")),
			    HT_SCSCF1);
	assert_string_equal(
		json_string_value(json_object_get(reg, "scscf_host")),
		"scscf1.ims.test");
	m = json_object_get(reg, "impu");
	assert_string_equal(json_string_value(json_object_get(m, HT_AU)),
			    "registered");
	assert_string_equal(json_string_value(json_object_get(m, HT_ATEL)),
			    "registered");
	assert_string_equal(json_string_value(json_object_get(m, HT_AOLD)),
			    "not_registered");
	json_decref(doc);
	assert_int_equal(prov_sub_show(T.st, "nobody", &doc, msg, sizeof(msg)),
			 ENOENT);
}


int main(void)
{
#define TT(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TT(test_unregistered_queues_nothing),
		TT(test_changes_of_a_registered_user),
		TT(test_partial_set_pushes),
		TT(test_profile_changes),
		TT(test_delete_deregisters_first),
		TT(test_deregister),
		TT(test_outbox_to_the_scscf),
		TT(test_rtr_carries_reason_info),
		TT(test_rtr_after_delete),
		TT(test_shared_impu_names_the_registered_impi),
		TT(test_rta_from_a_former_scscf),
		TT(test_show_registered),
	};

	return cmocka_run_group_tests_name("hss_prov_events", tests, NULL,
					   NULL);
}
