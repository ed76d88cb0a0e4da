/**
 * @file test_store.c  The subscriber store, every case on both backends:
 * SQLite (a file in a temporary directory) and PostgreSQL (a private
 * server started by tests/unit/util/pgtest.c).
 *
 * Cases: CRUD of each entity, constraints (duplicates EEXIST, unknown
 * references ENOENT, in-use EBUSY, cross-subscription links EXDEV), the
 * cascade of a subscription delete, SQN advance from two connections
 * at once, registration state across a reopen, wildcarded PSI
 * resolution, the Cx profile of an implicit registration set, Sh data
 * sequence numbers and subscriptions, the SLF table, and migrations
 * applied once.
 *
 * When PostgreSQL cannot be started, its half is skipped, or fails when
 * the environment variable CI is set.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/mem.h"
#include "diameter/userdata.h"
#include "store/events.h"
#include "store/store.h"
#include "util/pgtest.h"

struct backend {
	const char *name;
	bool ok;
	char why[512];
	char url[600];
	char dir[64];
	struct pgtest *pg;
};

static struct backend be_sqlite = { .name = "sqlite" };
static struct backend be_pg = { .name = "postgresql" };
static struct backend *cur;

#define BACKEND(b)                                                      \
	struct backend *b = cur;                                        \
	do {                                                            \
		if (!b->ok) {                                           \
			print_message("[  SKIP    ] %s: %s\n", b->name, \
				      b->why);                          \
			skip();                                         \
		}                                                       \
	} while (0)

/* ---- fixtures ---- */

static int sqlite_group_setup(void **state)
{
	(void)state;
	cur = &be_sqlite;
	(void)snprintf(be_sqlite.dir, sizeof(be_sqlite.dir),
		       "/tmp/entims-store-XXXXXX");
	if (!mkdtemp(be_sqlite.dir))
		return -1;
	(void)snprintf(be_sqlite.url, sizeof(be_sqlite.url),
		       "sqlite:%s/entims.db", be_sqlite.dir);
	be_sqlite.ok = true;
	return 0;
}


static void sqlite_wipe(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char path[128];
	size_t i;

	for (i = 0; i < 3; i++) {
		(void)snprintf(path, sizeof(path), "%s/entims.db%s",
			       be_sqlite.dir, sfx[i]);
		(void)unlink(path);
	}
}


static int sqlite_group_teardown(void **state)
{
	(void)state;
	sqlite_wipe();
	(void)rmdir(be_sqlite.dir);
	return 0;
}


static int pg_group_setup(void **state)
{
	int err;

	(void)state;
	cur = &be_pg;
	err = pgtest_start(&be_pg.pg, be_pg.why, sizeof(be_pg.why));
	if (err) {
		print_message("PostgreSQL not started: %s\n", be_pg.why);
		/* CI must run both halves */
		return pgtest_required() ? -1 : 0;
	}
	(void)snprintf(be_pg.url, sizeof(be_pg.url), "%s",
		       pgtest_conninfo(be_pg.pg));
	be_pg.ok = true;
	return 0;
}


static int pg_group_teardown(void **state)
{
	(void)state;
	pgtest_stop(be_pg.pg);
	be_pg.pg = NULL;
	return 0;
}


/* Each case starts from an empty database. */
static int setup(void **state)
{
	if (cur->ok) {
		if (cur == &be_sqlite)
			sqlite_wipe();
		else if (pgtest_reset(cur->pg))
			return -1;
	}
	return mem_mark(state);
}


static int teardown(void **state)
{
	return mem_expect_no_leaks(state);
}


static struct store *open_store(const struct backend *b)
{
	struct store *st = NULL;

	assert_int_equal(store_open(&st, b->url), 0);
	assert_non_null(st);
	return st;
}


/* ---- builders ---- */

static void add_sub(struct store *st, const char *name)
{
	struct store_subscription *s = store_subscription_alloc();

	assert_non_null(s);
	assert_int_equal(store_strset(&s->name, name), 0);
	assert_int_equal(store_sub_add(st, s), 0);
	mem_deref(s);
}


static void add_impi(struct store *st, const char *sub, const char *id)
{
	struct store_impi *i = store_impi_alloc();

	assert_int_equal(store_strset(&i->subscription, sub), 0);
	assert_int_equal(store_strset(&i->identity, id), 0);
	i->schemes = STORE_AUTH_DIGEST_MD5;
	assert_int_equal(store_impi_add(st, i), 0);
	mem_deref(i);
}


static void add_impu(struct store *st, const char *sub, const char *id,
		     enum cx_identity_type type, int64_t irs, const char *sp)
{
	struct store_impu *u = store_impu_alloc();

	assert_int_equal(store_strset(&u->subscription, sub), 0);
	assert_int_equal(store_strset(&u->identity, id), 0);
	assert_int_equal(store_strset(&u->service_profile, sp), 0);
	u->type = type;
	u->irs = irs;
	u->can_register = type == CX_ID_PUBLIC_USER;
	assert_int_equal(store_impu_add(st, u), 0);
	mem_deref(u);
}


static void add_ifc(struct store *st, const char *name, int prio,
		    const char *method)
{
	struct store_ifc *f = store_ifc_alloc();
	struct cx_spt *s;

	assert_int_equal(store_strset(&f->name, name), 0);
	assert_int_equal(store_strset(&f->ifc.as_uri, "sip:as.acme.example"),
			 0);
	f->ifc.priority = prio;
	if (method) {
		s = store_ifc_spt_add(f, true, CX_SPT_METHOD, 0);
		assert_non_null(s);
		assert_int_equal(store_strset(&s->a, method), 0);
	}
	assert_int_equal(store_ifc_add(st, f), 0);
	mem_deref(f);
}


static void add_sp(struct store *st, const char *name, const char *ifc1,
		   const char *ifc2)
{
	struct store_sp *sp = store_sp_alloc();

	assert_int_equal(store_strset(&sp->name, name), 0);
	if (ifc1)
		assert_int_equal(store_strv_add(&sp->ifc, ifc1), 0);
	if (ifc2)
		assert_int_equal(store_strv_add(&sp->ifc, ifc2), 0);
	assert_int_equal(store_sp_add(st, sp), 0);
	mem_deref(sp);
}


/* ---- cases ---- */

static void test_subscription_crud(void **state)
{
	BACKEND(b);
	struct store_subscription *s, *g = NULL;
	struct list l = LIST_INIT;
	struct store *st = open_store(b);

	(void)state;
	s = store_subscription_alloc();
	assert_int_equal(store_strset(&s->name, "acme-alice"), 0);
	s->cap_mand[0] = 1;
	s->cap_mand[1] = 20;
	s->cap_mand_n = 2;
	s->cap_opt[0] = 7;
	s->cap_opt_n = 1;
	assert_int_equal(
		store_strset(&s->scscf_preferred, "sip:scscf.acme.example"), 0);
	assert_int_equal(store_strset(&s->ccf_primary, "aaa://ccf1.acme"), 0);
	assert_int_equal(store_strset(&s->ecf_secondary, "aaa://ecf2.acme"), 0);
	assert_int_equal(store_sub_add(st, s), 0);
	assert_int_equal(store_sub_add(st, s), EEXIST);

	assert_int_equal(store_sub_get(st, "acme-alice", &g), 0);
	assert_string_equal(g->name, "acme-alice");
	assert_int_equal(g->cap_mand_n, 2);
	assert_int_equal(g->cap_mand[1], 20);
	assert_int_equal(g->cap_opt_n, 1);
	assert_int_equal(g->cap_opt[0], 7);
	assert_string_equal(g->scscf_preferred, "sip:scscf.acme.example");
	assert_string_equal(g->ccf_primary, "aaa://ccf1.acme");
	assert_null(g->ccf_secondary);
	assert_string_equal(g->ecf_secondary, "aaa://ecf2.acme");
	assert_null(g->scscf_assigned);
	g = mem_deref(g);

	s->cap_opt_n = 0;
	assert_int_equal(store_strset(&s->ccf_primary, NULL), 0);
	assert_int_equal(store_sub_update(st, s), 0);
	assert_int_equal(store_sub_get(st, "acme-alice", &g), 0);
	assert_int_equal(g->cap_opt_n, 0);
	assert_null(g->ccf_primary);
	g = mem_deref(g);

	add_sub(st, "acme-bob");
	assert_int_equal(store_sub_list(st, &l), 0);
	assert_int_equal(list_count(&l), 2);
	assert_string_equal(
		((struct store_subscription *)list_head_data(&l))->name,
		"acme-alice");
	list_flush(&l);

	assert_int_equal(store_sub_delete(st, "acme-alice"), 0);
	assert_int_equal(store_sub_delete(st, "acme-alice"), ENOENT);
	assert_int_equal(store_sub_get(st, "acme-alice", &g), ENOENT);
	assert_int_equal(store_strset(&s->name, "nobody"), 0);
	assert_int_equal(store_sub_update(st, s), ENOENT);
	mem_deref(s);
	mem_deref(st);
}


static void test_impi_crud(void **state)
{
	BACKEND(b);
	struct store_impi *i, *g = NULL;
	struct store_subscription *s = NULL;
	struct list l = LIST_INIT;
	char ha1[STORE_HA1_MAX];
	struct store *st = open_store(b);
	size_t n;

	(void)state;
	i = store_impi_alloc();
	assert_int_equal(store_strset(&i->subscription, "acme-alice"), 0);
	assert_int_equal(store_strset(&i->identity, "alice@acme.example"), 0);
	i->schemes = STORE_AUTH_DIGEST_MD5 | STORE_AUTH_AKAV1_MD5;
	i->default_scheme = STORE_AUTH_AKAV1_MD5;
	assert_int_equal(store_strset(&i->ha1[0].realm, "acme.example"), 0);
	(void)snprintf(i->ha1[0].md5, STORE_HA1_MAX, "%s",
		       "0123456789abcdef0123456789abcdef");
	(void)snprintf(i->ha1[0].sha256, STORE_HA1_MAX, "%064d", 7);
	assert_int_equal(store_strset(&i->ha1[1].realm, "other.example"), 0);
	(void)snprintf(i->ha1[1].md5, STORE_HA1_MAX, "%032d", 1);
	i->ha1_n = 2;
	i->has_k = true;
	for (n = 0; n < 16; n++) {
		i->k[n] = (uint8_t)n;
		i->opc[n] = (uint8_t)(0xf0 + n);
	}
	i->has_opc = true;
	i->amf[0] = 0x80;
	assert_int_equal(store_strset(&i->line_id, "line-17"), 0);

	/* no such subscription yet */
	assert_int_equal(store_impi_add(st, i), ENOENT);
	add_sub(st, "acme-alice");
	assert_int_equal(store_impi_add(st, i), 0);
	assert_int_equal(store_impi_add(st, i), EEXIST);

	assert_int_equal(store_impi_get(st, "alice@acme.example", &g), 0);
	assert_string_equal(g->subscription, "acme-alice");
	assert_int_equal(g->schemes,
			 STORE_AUTH_DIGEST_MD5 | STORE_AUTH_AKAV1_MD5);
	assert_int_equal(g->default_scheme, STORE_AUTH_AKAV1_MD5);
	assert_int_equal(g->ha1_n, 2);
	assert_string_equal(g->ha1[0].realm, "acme.example");
	assert_string_equal(g->ha1[0].md5, i->ha1[0].md5);
	assert_string_equal(g->ha1[0].sha256, i->ha1[0].sha256);
	assert_string_equal(g->ha1[1].sha256, "");
	assert_true(g->has_k && g->has_opc);
	assert_memory_equal(g->k, i->k, 16);
	assert_memory_equal(g->opc, i->opc, 16);
	assert_int_equal(g->amf[0], 0x80);
	assert_int_equal(g->amf[1], 0);
	assert_int_equal(g->sqn, 0);
	assert_string_equal(g->line_id, "line-17");
	g = mem_deref(g);

	assert_int_equal(store_impi_ha1(st, "alice@acme.example",
					"acme.example", 0, ha1, sizeof(ha1)),
			 0);
	assert_string_equal(ha1, i->ha1[0].md5);
	assert_int_equal(store_impi_ha1(st, "alice@acme.example",
					"acme.example", 1, ha1, sizeof(ha1)),
			 0);
	assert_string_equal(ha1, i->ha1[0].sha256);
	assert_int_equal(store_impi_ha1(st, "alice@acme.example",
					"other.example", 1, ha1, sizeof(ha1)),
			 ENOENT);
	assert_int_equal(store_impi_ha1(st, "alice@acme.example", "nope", 0,
					ha1, sizeof(ha1)),
			 ENOENT);

	/* update: one realm left, no OPc */
	i->ha1_n = 1;
	i->has_opc = false;
	i->schemes = STORE_AUTH_DIGEST_SHA256;
	assert_int_equal(store_impi_update(st, i), 0);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &g), 0);
	assert_int_equal(g->ha1_n, 1);
	assert_false(g->has_opc);
	assert_true(g->has_k);
	assert_int_equal(g->schemes, STORE_AUTH_DIGEST_SHA256);
	g = mem_deref(g);

	add_impi(st, "acme-alice", "alice2@acme.example");
	assert_int_equal(store_impi_list(st, "acme-alice", &l), 0);
	assert_int_equal(list_count(&l), 2);
	list_flush(&l);
	assert_int_equal(store_sub_by_impi(st, "alice2@acme.example", &s), 0);
	assert_string_equal(s->name, "acme-alice");
	s = mem_deref(s);

	assert_int_equal(store_impi_delete(st, "alice@acme.example"), 0);
	assert_int_equal(store_impi_delete(st, "alice@acme.example"), ENOENT);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &g), ENOENT);
	assert_int_equal(store_impi_update(st, i), ENOENT);
	mem_deref(i);
	mem_deref(st);
}


static void test_impu_crud_and_links(void **state)
{
	BACKEND(b);
	struct store_impu *u, *g = NULL;
	struct store_impi *i = NULL;
	struct list l = LIST_INIT;
	struct store *st = open_store(b);

	(void)state;
	add_sub(st, "acme-alice");
	add_sub(st, "acme-bob");
	add_impi(st, "acme-alice", "alice@acme.example");
	add_impi(st, "acme-alice", "alice-tablet@acme.example");
	add_impi(st, "acme-bob", "bob@acme.example");

	u = store_impu_alloc();
	assert_int_equal(store_strset(&u->subscription, "acme-alice"), 0);
	assert_int_equal(store_strset(&u->identity, "sip:alice@acme.example"),
			 0);
	assert_int_equal(store_strset(&u->display_name, "Alice Liddell"), 0);
	assert_int_equal(store_strset(&u->alias_group, "ag1"), 0);
	assert_int_equal(store_strset(&u->service_profile, "basic"), 0);
	u->irs = 1;
	u->barred = true;
	/* unknown service profile */
	assert_int_equal(store_impu_add(st, u), ENOENT);
	add_sp(st, "basic", NULL, NULL);
	assert_int_equal(store_impu_add(st, u), 0);
	assert_int_equal(store_impu_add(st, u), EEXIST);
	assert_int_equal(store_strset(&u->subscription, "nobody"), 0);
	assert_int_equal(store_strset(&u->identity, "sip:x@acme.example"), 0);
	assert_int_equal(store_impu_add(st, u), ENOENT);

	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &g), 0);
	assert_string_equal(g->subscription, "acme-alice");
	assert_string_equal(g->display_name, "Alice Liddell");
	assert_string_equal(g->alias_group, "ag1");
	assert_string_equal(g->service_profile, "basic");
	assert_int_equal(g->irs, 1);
	assert_true(g->barred);
	assert_true(g->can_register);
	assert_int_equal(g->type, CX_ID_PUBLIC_USER);
	assert_int_equal(g->reg_state, STORE_REG_NOT_REGISTERED);
	assert_int_equal(g->impi.n, 0);
	g = mem_deref(g);

	/* update: unbarred, no profile, new name */
	assert_int_equal(store_strset(&u->identity, "sip:alice@acme.example"),
			 0);
	u->barred = false;
	assert_int_equal(store_strset(&u->service_profile, NULL), 0);
	assert_int_equal(store_strset(&u->display_name, "Alice"), 0);
	assert_int_equal(store_impu_update(st, u), 0);
	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &g), 0);
	assert_false(g->barred);
	assert_null(g->service_profile);
	assert_string_equal(g->display_name, "Alice");
	g = mem_deref(g);

	/* many-to-many: the IMPU shared by two IMPIs of one subscription */
	assert_int_equal(
		store_link(st, "alice@acme.example", "sip:alice@acme.example"),
		0);
	assert_int_equal(store_link(st, "alice-tablet@acme.example",
				    "sip:alice@acme.example"),
			 0);
	assert_int_equal(
		store_link(st, "alice@acme.example", "sip:alice@acme.example"),
		EEXIST);
	assert_int_equal(
		store_link(st, "bob@acme.example", "sip:alice@acme.example"),
		EXDEV);
	assert_int_equal(
		store_link(st, "eve@acme.example", "sip:alice@acme.example"),
		ENOENT);
	assert_int_equal(
		store_link(st, "alice@acme.example", "sip:eve@acme.example"),
		ENOENT);
	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &g), 0);
	assert_int_equal(g->impi.n, 2);
	assert_string_equal(g->impi.v[0], "alice-tablet@acme.example");
	g = mem_deref(g);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &i), 0);
	assert_int_equal(i->impu.n, 1);
	assert_string_equal(i->impu.v[0], "sip:alice@acme.example");
	i = mem_deref(i);
	assert_int_equal(store_unlink(st, "alice-tablet@acme.example",
				      "sip:alice@acme.example"),
			 0);
	assert_int_equal(store_unlink(st, "alice-tablet@acme.example",
				      "sip:alice@acme.example"),
			 ENOENT);

	add_impu(st, "acme-alice", "tel:+15145550100", CX_ID_PUBLIC_USER, 1,
		 NULL);
	assert_int_equal(store_impu_list(st, "acme-alice", &l), 0);
	assert_int_equal(list_count(&l), 2);
	list_flush(&l);

	/* a profile in use cannot go */
	assert_int_equal(store_strset(&u->service_profile, "basic"), 0);
	assert_int_equal(store_impu_update(st, u), 0);
	assert_int_equal(store_sp_delete(st, "basic"), EBUSY);

	assert_int_equal(store_impu_delete(st, "sip:alice@acme.example"), 0);
	assert_int_equal(store_impu_delete(st, "sip:alice@acme.example"),
			 ENOENT);
	assert_int_equal(store_impu_update(st, u), ENOENT);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &i), 0);
	assert_int_equal(i->impu.n, 0); /* the association went too */
	i = mem_deref(i);
	assert_int_equal(store_sp_delete(st, "basic"), 0);
	mem_deref(u);
	mem_deref(st);
}


static void test_ifc_profile_sets(void **state)
{
	BACKEND(b);
	struct store_ifc *f, *g = NULL;
	struct store_sp *sp, *gs = NULL;
	struct store_ifc_set *set, *gset = NULL;
	struct list l = LIST_INIT;
	struct cx_spt *s;
	struct store *st = open_store(b);
	size_t n;

	(void)state;
	f = store_ifc_alloc();
	assert_int_equal(store_strset(&f->name, "voicemail"), 0);
	assert_int_equal(store_strset(&f->ifc.as_uri, "sip:vm.acme.example;lr"),
			 0);
	assert_int_equal(store_strset(&f->ifc.service_info, "<vm a=\"1\"/>&"),
			 0);
	f->ifc.priority = 10;
	f->ifc.default_handling = CX_DH_SESSION_TERMINATED;
	f->ifc.include_register_request = true;
	f->ifc.include_register_response = true;
	f->ifc.ppi = CX_PPI_UNREGISTERED;
	/* every SPT kind, DNF, groups, negation, register types */
	s = store_ifc_spt_add(f, false, CX_SPT_METHOD, 0);
	assert_int_equal(store_strset(&s->a, "REGISTER"), 0);
	s->reg_type = CX_REGTYPE_INITIAL | CX_REGTYPE_DE;
	s = store_ifc_spt_add(f, false, CX_SPT_REQUEST_URI, 0);
	assert_int_equal(store_strset(&s->a, "^sip:vm-[0-9]+@"), 0);
	s->negated = true;
	s = store_ifc_spt_add(f, false, CX_SPT_SIP_HEADER, 1);
	assert_int_equal(store_strset(&s->a, "P-Served-User"), 0);
	assert_int_equal(store_strset(&s->b, "sescase=term"), 0);
	s = store_ifc_spt_add(f, false, CX_SPT_SIP_HEADER, 1);
	assert_int_equal(store_strset(&s->a, "Priority"), 0);
	s = store_ifc_spt_add(f, false, CX_SPT_SESSION_CASE, 2);
	s->session_case = CX_SC_TERMINATING_UNREGISTERED;
	s = store_ifc_spt_add(f, false, CX_SPT_SESSION_DESCRIPTION, 3);
	assert_int_equal(store_strset(&s->a, "m"), 0);
	assert_int_equal(store_strset(&s->b, "audio"), 0);
	assert_int_equal(store_ifc_add(st, f), 0);
	assert_int_equal(store_ifc_add(st, f), EEXIST);

	assert_int_equal(store_ifc_get(st, "voicemail", &g), 0);
	assert_int_equal(g->ifc.priority, 10);
	assert_string_equal(g->ifc.as_uri, "sip:vm.acme.example;lr");
	assert_string_equal(g->ifc.service_info, "<vm a=\"1\"/>&");
	assert_int_equal(g->ifc.default_handling, CX_DH_SESSION_TERMINATED);
	assert_true(g->ifc.include_register_request);
	assert_true(g->ifc.include_register_response);
	assert_int_equal(g->ifc.ppi, CX_PPI_UNREGISTERED);
	assert_non_null(g->ifc.tp);
	assert_false(g->ifc.tp->cnf);
	assert_int_equal(g->ifc.tp->spt_n, f->ifc.tp->spt_n);
	for (n = 0; n < f->ifc.tp->spt_n; n++) {
		const struct cx_spt *x = &f->ifc.tp->spt[n];
		const struct cx_spt *y = &g->ifc.tp->spt[n];
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->group, y->group);
		assert_int_equal(x->negated, y->negated);
		assert_int_equal(x->reg_type, y->reg_type);
		if (x->kind == CX_SPT_SESSION_CASE)
			assert_int_equal(x->session_case, y->session_case);
		else
			assert_string_equal(x->a, y->a);
		if (x->b)
			assert_string_equal(x->b, y->b);
		else
			assert_null(y->b);
	}
	g = mem_deref(g);

	/* update: no trigger point, priority moves */
	f->ifc.tp = mem_deref(f->ifc.tp);
	f->ifc.priority = 1;
	assert_int_equal(store_ifc_update(st, f), 0);
	assert_int_equal(store_ifc_get(st, "voicemail", &g), 0);
	assert_null(g->ifc.tp);
	assert_int_equal(g->ifc.priority, 1);
	g = mem_deref(g);
	add_ifc(st, "forward", 5, "INVITE");
	assert_int_equal(store_ifc_list(st, &l), 0);
	assert_int_equal(list_count(&l), 2);
	list_flush(&l);

	/* a shared set, then a profile using both iFCs and the set */
	set = store_ifc_set_alloc();
	set->id = 42;
	assert_int_equal(store_strset(&set->name, "common"), 0);
	assert_int_equal(store_strv_add(&set->ifc, "forward"), 0);
	assert_int_equal(store_ifc_set_add(st, set), 0);
	assert_int_equal(store_ifc_set_add(st, set), EEXIST);
	set->id = 43;
	assert_int_equal(store_strset(&set->name, "broken"), 0);
	assert_int_equal(store_strv_add(&set->ifc, "no-such-ifc"), 0);
	assert_int_equal(store_ifc_set_add(st, set), ENOENT);
	assert_int_equal(store_ifc_set_get(st, 43, &gset), ENOENT);
	assert_int_equal(store_ifc_set_get(st, 42, &gset), 0);
	assert_string_equal(gset->name, "common");
	assert_int_equal(gset->ifc.n, 1);
	assert_string_equal(gset->ifc.v[0], "forward");
	gset = mem_deref(gset);

	sp = store_sp_alloc();
	assert_int_equal(store_strset(&sp->name, "gold"), 0);
	assert_int_equal(store_strv_add(&sp->ifc, "forward"), 0);
	assert_int_equal(store_strv_add(&sp->ifc, "voicemail"), 0);
	sp->shared[0] = 42;
	sp->shared_n = 1;
	sp->media_profile = 3;
	assert_int_equal(store_sp_add(st, sp), 0);
	assert_int_equal(store_sp_get(st, "gold", &gs), 0);
	assert_int_equal(gs->media_profile, 3);
	assert_int_equal(gs->ifc.n, 2);
	assert_string_equal(gs->ifc.v[0], "voicemail"); /* priority 1 */
	assert_string_equal(gs->ifc.v[1], "forward");
	assert_int_equal(gs->shared_n, 1);
	assert_int_equal(gs->shared[0], 42);
	gs = mem_deref(gs);

	/* an unknown iFC or set leaves the profile as it was */
	assert_int_equal(store_strv_add(&sp->ifc, "no-such-ifc"), 0);
	assert_int_equal(store_sp_update(st, sp), ENOENT);
	store_strv_reset(&sp->ifc);
	sp->shared[0] = 99;
	assert_int_equal(store_sp_update(st, sp), ENOENT);
	assert_int_equal(store_sp_get(st, "gold", &gs), 0);
	assert_int_equal(gs->ifc.n, 2);
	gs = mem_deref(gs);
	sp->shared_n = 0;
	sp->media_profile = -1;
	assert_int_equal(store_sp_update(st, sp), 0);
	assert_int_equal(store_sp_get(st, "gold", &gs), 0);
	assert_int_equal(gs->ifc.n, 0);
	assert_int_equal(gs->media_profile, -1);
	gs = mem_deref(gs);

	assert_int_equal(store_ifc_delete(st, "forward"), EBUSY); /* set */
	assert_int_equal(store_ifc_set_delete(st, 42), 0);
	assert_int_equal(store_ifc_delete(st, "forward"), 0);
	assert_int_equal(store_ifc_delete(st, "forward"), ENOENT);
	assert_int_equal(store_sp_list(st, &l), 0);
	assert_int_equal(list_count(&l), 1);
	list_flush(&l);
	assert_int_equal(store_sp_delete(st, "gold"), 0);
	assert_int_equal(store_sp_get(st, "gold", &gs), ENOENT);
	mem_deref(set);
	mem_deref(sp);
	mem_deref(f);
	mem_deref(st);
}


static void test_subscription_delete_cascades(void **state)
{
	BACKEND(b);
	struct store_impi *i = NULL;
	struct store_impu *u = NULL;
	struct list l = LIST_INIT;
	uint32_t seq;
	char *data = NULL;
	struct store *st = open_store(b);
	struct store_sh_sub sh = { .impu = "sip:alice@acme.example",
				   .data_ref = 17,
				   .origin_host = "as.acme.example" };

	(void)state;
	add_sub(st, "acme-alice");
	add_impi(st, "acme-alice", "alice@acme.example");
	add_impu(st, "acme-alice", "sip:alice@acme.example", CX_ID_PUBLIC_USER,
		 0, NULL);
	assert_int_equal(
		store_link(st, "alice@acme.example", "sip:alice@acme.example"),
		0);
	assert_int_equal(store_sh_data_put(st, "sip:alice@acme.example",
					   "vm-settings", 0, "<x/>"),
			 0);
	assert_int_equal(store_sh_sub_add(st, &sh), 0);

	assert_int_equal(store_sub_delete(st, "acme-alice"), 0);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &i), ENOENT);
	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &u),
			 ENOENT);
	assert_int_equal(store_sh_data_get(st, "sip:alice@acme.example",
					   "vm-settings", &seq, &data),
			 ENOENT);
	assert_int_equal(store_sh_sub_list(st, "sip:alice@acme.example", &l),
			 0);
	assert_int_equal(list_count(&l), 0);
	/* the identities are free again */
	add_sub(st, "acme-alice");
	add_impi(st, "acme-alice", "alice@acme.example");
	mem_deref(st);
}


struct sqn_worker {
	struct store *st;
	int n;
	int err;
	uint64_t seen[200];
};

static void *sqn_run(void *arg)
{
	struct sqn_worker *w = arg;
	int i;

	for (i = 0; i < w->n && !w->err; i++)
		w->err = store_sqn_advance(w->st, "alice@acme.example", 32,
					   &w->seen[i]);
	mem_cache_flush(); /* this thread's free lists die with it */
	return NULL;
}


static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}


static void test_sqn_concurrent(void **state)
{
	BACKEND(b);
	struct sqn_worker w[2];
	pthread_t th[2];
	uint64_t all[400], sqn = 0;
	struct store_impi *i = NULL;
	struct store *st = open_store(b);
	size_t k;

	(void)state;
	add_sub(st, "acme-alice");
	add_impi(st, "acme-alice", "alice@acme.example");
	memset(w, 0, sizeof(w));
	for (k = 0; k < 2; k++) {
		w[k].st = open_store(b); /* a connection each */
		w[k].n = 200;
	}
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&th[k], NULL, sqn_run, &w[k]),
				 0);
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_join(th[k], NULL), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(w[k].err, 0);
		memcpy(all + k * 200, w[k].seen, sizeof(w[k].seen));
		mem_deref(w[k].st);
	}
	/* every caller got its own value: 32, 64, ..., 400 * 32 */
	qsort(all, 400, sizeof(all[0]), u64cmp);
	for (k = 0; k < 400; k++)
		assert_int_equal(all[k], (k + 1) * 32);
	assert_int_equal(store_impi_get(st, "alice@acme.example", &i), 0);
	assert_int_equal(i->sqn, 400 * 32);
	i = mem_deref(i);

	/* 48-bit wrap, compare-and-set */
	assert_int_equal(store_sqn_cas(st, "alice@acme.example", 400 * 32,
				       (1ull << 48) - 1),
			 0);
	assert_int_equal(store_sqn_cas(st, "alice@acme.example", 400 * 32, 5),
			 EAGAIN);
	assert_int_equal(store_sqn_advance(st, "alice@acme.example", 2, &sqn),
			 0);
	assert_int_equal(sqn, 1);
	assert_int_equal(store_sqn_cas(st, "nobody@acme.example", 0, 1),
			 ENOENT);
	assert_int_equal(store_sqn_advance(st, "nobody@acme.example", 1, &sqn),
			 ENOENT);
	assert_int_equal(store_sqn_cas(st, "alice@acme.example", 1, 1ull << 48),
			 EINVAL);
	mem_deref(st);
}


static void test_reg_state_persists(void **state)
{
	BACKEND(b);
	struct store_impu *u = NULL;
	struct store_subscription *s = NULL;
	struct store *st = open_store(b);

	(void)state;
	add_sub(st, "acme-alice");
	/* set 7: sip + tel register together; the third is on its own */
	add_impu(st, "acme-alice", "sip:alice@acme.example", CX_ID_PUBLIC_USER,
		 7, NULL);
	add_impu(st, "acme-alice", "tel:+15145550101", CX_ID_PUBLIC_USER, 7,
		 NULL);
	add_impu(st, "acme-alice", "sip:alice.private@acme.example",
		 CX_ID_PUBLIC_USER, 0, NULL);
	assert_int_equal(store_reg_set(st, "sip:alice@acme.example",
				       STORE_REG_REGISTERED),
			 0);
	assert_int_equal(store_scscf_set(st, "acme-alice",
					 "sip:scscf1.acme.example:6060"),
			 0);
	assert_int_equal(store_reg_set(st, "sip:nobody@acme.example",
				       STORE_REG_REGISTERED),
			 ENOENT);
	assert_int_equal(store_scscf_set(st, "nobody", "sip:x"), ENOENT);
	st = mem_deref(st);

	st = open_store(b);
	assert_int_equal(store_impu_get(st, "tel:+15145550101", &u), 0);
	assert_int_equal(u->reg_state, STORE_REG_REGISTERED);
	u = mem_deref(u);
	assert_int_equal(
		store_impu_get(st, "sip:alice.private@acme.example", &u), 0);
	assert_int_equal(u->reg_state, STORE_REG_NOT_REGISTERED);
	u = mem_deref(u);
	assert_int_equal(store_sub_get(st, "acme-alice", &s), 0);
	assert_string_equal(s->scscf_assigned, "sip:scscf1.acme.example:6060");
	s = mem_deref(s);

	assert_int_equal(
		store_reg_set(st, "tel:+15145550101", STORE_REG_UNREGISTERED),
		0);
	assert_int_equal(store_impu_get(st, "sip:alice@acme.example", &u), 0);
	assert_int_equal(u->reg_state, STORE_REG_UNREGISTERED);
	u = mem_deref(u);
	assert_int_equal(store_scscf_set(st, "acme-alice", NULL), 0);
	assert_int_equal(store_sub_get(st, "acme-alice", &s), 0);
	assert_null(s->scscf_assigned);
	s = mem_deref(s);
	mem_deref(st);
}


static void test_wildcard_psi(void **state)
{
	BACKEND(b);
	struct store_impu *u = NULL;
	struct store_subscription *s = NULL;
	struct store *st = open_store(b);
	bool m;

	(void)state;
	assert_int_equal(store_wildcard_match("sip:ivr-!.*!@acme.example",
					      "sip:ivr-42@acme.example", &m),
			 0);
	assert_true(m);
	/* the literal part is literal: '.' matches only '.' */
	assert_int_equal(store_wildcard_match("sip:ivr-!.*!@acme.example",
					      "sip:ivr-42@acmeXexample", &m),
			 0);
	assert_false(m);
	assert_int_equal(store_wildcard_match("sip:ivr-!.*@acme.example",
					      "sip:ivr-1@acme.example", &m),
			 EINVAL);
	assert_int_equal(store_wildcard_match("sip:ivr@acme.example",
					      "sip:ivr@acme.example", &m),
			 EINVAL);

	add_sub(st, "acme-ivr");
	add_sub(st, "acme-conf");
	add_impu(st, "acme-ivr", "sip:ivr-!.*!@acme.example",
		 CX_ID_WILDCARDED_PSI, 0, NULL);
	add_impu(st, "acme-conf", "sip:conf-![0-9]+!@acme.example",
		 CX_ID_WILDCARDED_PSI, 0, NULL);
	add_impu(st, "acme-conf", "sip:conf-main@acme.example",
		 CX_ID_DISTINCT_PSI, 0, NULL);

	assert_int_equal(
		store_impu_resolve(st, "sip:ivr-sales@acme.example", &u), 0);
	assert_string_equal(u->identity, "sip:ivr-!.*!@acme.example");
	assert_int_equal(u->type, CX_ID_WILDCARDED_PSI);
	assert_false(u->can_register);
	u = mem_deref(u);
	assert_int_equal(store_impu_resolve(st, "sip:conf-17@acme.example", &u),
			 0);
	assert_string_equal(u->subscription, "acme-conf");
	u = mem_deref(u);
	/* a distinct PSI wins by being exact */
	assert_int_equal(
		store_impu_resolve(st, "sip:conf-main@acme.example", &u), 0);
	assert_int_equal(u->type, CX_ID_DISTINCT_PSI);
	u = mem_deref(u);
	assert_int_equal(store_impu_resolve(st, "sip:conf-x@acme.example", &u),
			 ENOENT);
	assert_int_equal(store_impu_get(st, "sip:conf-17@acme.example", &u),
			 ENOENT);
	assert_int_equal(store_sub_by_impu(st, "sip:ivr-9@acme.example", &s),
			 0);
	assert_string_equal(s->name, "acme-ivr");
	s = mem_deref(s);
	mem_deref(st);
}


static const struct cx_service_profile *
cx_sp_with(const struct cx_subscription *cx, const char *identity)
{
	size_t i, j;

	for (i = 0; i < cx->sp_n; i++)
		for (j = 0; j < cx->sp[i].pub_n; j++)
			if (!strcmp(cx->sp[i].pub[j].identity, identity))
				return &cx->sp[i];
	return NULL;
}


static void test_cx_implicit_set(void **state)
{
	BACKEND(b);
	const struct cx_service_profile *p;
	struct cx_subscription *cx = NULL;
	struct store_ifc_set *set;
	struct store_sp *sp;
	struct store_impu *u;
	struct buf *mb = NULL;
	struct store *st = open_store(b);

	(void)state;
	add_sub(st, "acme-alice");
	add_impi(st, "acme-alice", "alice@acme.example");
	add_ifc(st, "vm", 20, "INVITE");
	add_ifc(st, "reg-notify", 5, "REGISTER");
	add_ifc(st, "conf", 1, NULL);
	set = store_ifc_set_alloc();
	set->id = 7;
	assert_int_equal(store_strset(&set->name, "operator"), 0);
	assert_int_equal(store_strv_add(&set->ifc, "conf"), 0);
	assert_int_equal(store_ifc_set_add(st, set), 0);
	mem_deref(set);
	sp = store_sp_alloc();
	assert_int_equal(store_strset(&sp->name, "gold"), 0);
	assert_int_equal(store_strv_add(&sp->ifc, "vm"), 0);
	assert_int_equal(store_strv_add(&sp->ifc, "reg-notify"), 0);
	sp->shared[0] = 7;
	sp->shared_n = 1;
	sp->media_profile = 2;
	assert_int_equal(store_sp_add(st, sp), 0);
	mem_deref(sp);
	add_sp(st, "basic", "conf", NULL);

	/* set 1: two IMPUs on gold, one on basic (barred, named) */
	add_impu(st, "acme-alice", "sip:alice@acme.example", CX_ID_PUBLIC_USER,
		 1, "gold");
	add_impu(st, "acme-alice", "tel:+15145550101", CX_ID_PUBLIC_USER, 1,
		 "gold");
	u = store_impu_alloc();
	assert_int_equal(store_strset(&u->subscription, "acme-alice"), 0);
	assert_int_equal(store_strset(&u->identity, "sip:a.l@acme.example"), 0);
	assert_int_equal(store_strset(&u->service_profile, "basic"), 0);
	assert_int_equal(store_strset(&u->display_name, "A. L."), 0);
	assert_int_equal(store_strset(&u->alias_group, "2"), 0);
	u->barred = true;
	u->irs = 1;
	assert_int_equal(store_impu_add(st, u), 0);
	mem_deref(u);
	/* not in the set */
	add_impu(st, "acme-alice", "sip:alice.work@acme.example",
		 CX_ID_PUBLIC_USER, 2, "gold");
	assert_int_equal(
		store_link(st, "alice@acme.example", "tel:+15145550101"), 0);

	assert_int_equal(store_cx_build(st, NULL, "tel:+15145550101", &cx), 0);
	assert_string_equal(cx->private_id, "alice@acme.example");
	assert_int_equal(cx->sp_n, 2);
	assert_null(cx_sp_with(cx, "sip:alice.work@acme.example"));
	p = cx_sp_with(cx, "sip:alice@acme.example");
	assert_non_null(p);
	assert_ptr_equal(p, cx_sp_with(cx, "tel:+15145550101"));
	assert_int_equal(p->pub_n, 2);
	assert_int_equal(p->media_profile, 2);
	assert_int_equal(p->ifc_n, 2);
	assert_int_equal(p->ifc[0].priority, 5); /* priority order */
	assert_string_equal(p->ifc[0].tp->spt[0].a, "REGISTER");
	assert_int_equal(p->ifc[1].priority, 20);
	assert_string_equal(p->ifc[1].as_uri, "sip:as.acme.example");
	assert_true(p->ifc[1].tp->cnf);
	assert_int_equal(p->shared_ifc_n, 1);
	assert_int_equal(p->shared_ifc[0], 7);
	p = cx_sp_with(cx, "sip:a.l@acme.example");
	assert_non_null(p);
	assert_int_equal(p->pub_n, 1);
	assert_true(p->pub[0].barred);
	assert_string_equal(p->pub[0].display_name, "A. L.");
	assert_string_equal(p->pub[0].alias_group, "2");
	assert_int_equal(p->ifc_n, 1);
	assert_null(p->ifc[0].tp);
	assert_int_equal(p->media_profile, -1);
	/* and the profile encodes as the SAA User-Data */
	assert_int_equal(buf_alloc(&mb, 4096, 1 << 20), 0);
	assert_int_equal(cx_userdata_encode(mb, cx), 0);
	assert_true(mb->end > 0);
	mb = mem_deref(mb);
	cx = mem_deref(cx);

	/* an IMPU outside any set: its profile alone; a named IMPI */
	assert_int_equal(store_cx_build(st, "alice@acme.example",
					"sip:alice.work@acme.example", &cx),
			 0);
	assert_int_equal(cx->sp_n, 1);
	assert_int_equal(cx->sp[0].pub_n, 1);
	cx = mem_deref(cx);

	/* a wildcarded PSI answers for the identity it covers */
	add_impu(st, "acme-alice", "sip:alice-!.*!@acme.example",
		 CX_ID_WILDCARDED_PSI, 0, "basic");
	assert_int_equal(
		store_cx_build(st, NULL, "sip:alice-fax@acme.example", &cx), 0);
	assert_int_equal(cx->sp_n, 1);
	assert_string_equal(cx->sp[0].pub[0].identity,
			    "sip:alice-!.*!@acme.example");
	assert_string_equal(cx->sp[0].pub[0].wildcarded,
			    "sip:alice-!.*!@acme.example");
	assert_int_equal(cx->sp[0].pub[0].type, CX_ID_WILDCARDED_PSI);
	cx = mem_deref(cx);
	assert_int_equal(
		store_cx_build(st, NULL, "sip:nobody@acme.example", &cx),
		ENOENT);
	mem_deref(st);
}


static void test_sh_data_and_subscriptions(void **state)
{
	BACKEND(b);
	struct store_sh_sub sh = { .impu = "sip:alice@acme.example",
				   .data_ref = 17,
				   .service_indication = "vm",
				   .origin_host = "as.acme.example",
				   .expiry = 1000 };
	struct store_sh_sub *g;
	struct list l = LIST_INIT;
	uint32_t seq = 99;
	uint64_t n = 0;
	char *data = NULL;
	struct store *st = open_store(b);

	(void)state;
	add_sub(st, "acme-alice");
	add_impu(st, "acme-alice", "sip:alice@acme.example", CX_ID_PUBLIC_USER,
		 0, NULL);
	assert_int_equal(store_sh_data_put(st, "sip:alice@acme.example", "vm",
					   1, "<a/>"),
			 EAGAIN); /* creation is seq 0 */
	assert_int_equal(store_sh_data_put(st, "sip:nobody@acme.example", "vm",
					   0, "<a/>"),
			 ENOENT);
	assert_int_equal(store_sh_data_put(st, "sip:alice@acme.example", "vm",
					   0, "<a/>"),
			 0);
	assert_int_equal(store_sh_data_put(st, "sip:alice@acme.example", "vm",
					   0, "<b/>"),
			 EAGAIN);
	assert_int_equal(store_sh_data_put(st, "sip:alice@acme.example", "vm",
					   1, "<b/>"),
			 0);
	assert_int_equal(store_sh_data_get(st, "sip:alice@acme.example", "vm",
					   &seq, &data),
			 0);
	assert_int_equal(seq, 1);
	assert_string_equal(data, "<b/>");
	data = mem_deref(data);
	assert_int_equal(
		store_sh_data_put(st, "sip:alice@acme.example", "vm", 2, NULL),
		0);
	assert_int_equal(store_sh_data_get(st, "sip:alice@acme.example", "vm",
					   &seq, &data),
			 ENOENT);

	assert_int_equal(store_sh_sub_add(st, &sh), 0);
	sh.expiry = 2000; /* the same subscription, refreshed */
	assert_int_equal(store_sh_sub_add(st, &sh), 0);
	sh.data_ref = 11;
	sh.expiry = 0;
	assert_int_equal(store_sh_sub_add(st, &sh), 0);
	assert_int_equal(store_sh_sub_list(st, "sip:alice@acme.example", &l),
			 0);
	assert_int_equal(list_count(&l), 2);
	g = list_head_data(&l);
	assert_int_equal(g->data_ref, 17);
	assert_int_equal(g->expiry, 2000);
	assert_string_equal(g->service_indication, "vm");
	assert_string_equal(g->origin_host, "as.acme.example");
	list_flush(&l);
	assert_int_equal(store_sh_sub_expire(st, 2000, &n), 0);
	assert_int_equal(n, 1); /* the one without expiry stays */
	assert_int_equal(store_sh_sub_delete(st, &sh), 0);
	assert_int_equal(store_sh_sub_delete(st, &sh), ENOENT);
	sh.impu = "sip:nobody@acme.example";
	assert_int_equal(store_sh_sub_add(st, &sh), ENOENT);
	mem_deref(st);
}


static void test_slf(void **state)
{
	BACKEND(b);
	struct store_slf *s = NULL;
	struct list l = LIST_INIT;
	struct store *st = open_store(b);

	(void)state;
	assert_int_equal(store_slf_set(st, "sip:alice@acme.example",
				       "hss1.acme.example", "acme.example"),
			 0);
	assert_int_equal(store_slf_set(st, "alice@acme.example",
				       "hss1.acme.example", "acme.example"),
			 0);
	assert_int_equal(store_slf_set(st, "sip:alice@acme.example",
				       "hss2.acme.example", "acme.example"),
			 0);
	assert_int_equal(store_slf_get(st, "sip:alice@acme.example", &s), 0);
	assert_string_equal(s->hss_name, "hss2.acme.example");
	assert_string_equal(s->hss_realm, "acme.example");
	s = mem_deref(s);
	assert_int_equal(store_slf_list(st, &l), 0);
	assert_int_equal(list_count(&l), 2);
	list_flush(&l);
	assert_int_equal(store_slf_delete(st, "alice@acme.example"), 0);
	assert_int_equal(store_slf_delete(st, "alice@acme.example"), ENOENT);
	assert_int_equal(store_slf_get(st, "alice@acme.example", &s), ENOENT);
	mem_deref(st);
}


/*
 * Migration 003 on both backends: which IMPI registered an implicit set
 * (set for the whole set, cleared, gone with the IMPI), and the RTR
 * snapshot of a deregistration event, which outlives the subscription.
 */
static void test_rtr_snapshot(void **state)
{
	BACKEND(b);
	struct store_event *ev = NULL;
	struct list l = LIST_INIT;
	struct store *st = open_store(b);
	const struct store_event *g;
	char long_info[STORE_REASON_INFO_MAX + 2];
	char *reg = NULL;

	(void)state;
	add_sub(st, "acme-alice");
	add_impi(st, "acme-alice", "alice@acme.example");
	add_impi(st, "acme-alice", "alice-tab@acme.example");
	add_impu(st, "acme-alice", "sip:alice@acme.example", CX_ID_PUBLIC_USER,
		 7, NULL);
	add_impu(st, "acme-alice", "tel:+15145550101", CX_ID_PUBLIC_USER, 7,
		 NULL);
	add_impu(st, "acme-alice", "sip:alice.private@acme.example",
		 CX_ID_PUBLIC_USER, 0, NULL);
	assert_int_equal(
		store_link(st, "alice@acme.example", "sip:alice@acme.example"),
		0);
	assert_int_equal(
		store_link(st, "alice@acme.example", "tel:+15145550101"), 0);
	assert_int_equal(store_link(st, "alice-tab@acme.example",
				    "sip:alice@acme.example"),
			 0);

	/* the registering IMPI: the whole set, not the other set */
	assert_int_equal(store_reg_impi_get(st, "sip:alice@acme.example", &reg),
			 0);
	assert_null(reg);
	assert_int_equal(store_reg_impi_set(st, "sip:alice@acme.example",
					    "alice-tab@acme.example"),
			 0);
	assert_int_equal(store_reg_impi_get(st, "tel:+15145550101", &reg), 0);
	assert_string_equal(reg, "alice-tab@acme.example");
	reg = mem_deref(reg);
	assert_int_equal(
		store_reg_impi_get(st, "sip:alice.private@acme.example", &reg),
		0);
	assert_null(reg);
	assert_int_equal(store_reg_impi_set(st, "sip:alice@acme.example",
					    "ghost@acme.example"),
			 ENOENT);
	assert_int_equal(store_reg_impi_set(st, "sip:nobody@acme.example",
					    "alice@acme.example"),
			 ENOENT);
	assert_int_equal(
		store_reg_impi_get(st, "sip:nobody@acme.example", &reg),
		ENOENT);
	/* an unknown IMPI changed nothing */
	assert_int_equal(store_reg_impi_get(st, "sip:alice@acme.example", &reg),
			 0);
	assert_string_equal(reg, "alice-tab@acme.example");
	reg = mem_deref(reg);
	/* deleting the IMPI forgets it (ON DELETE SET NULL) */
	assert_int_equal(store_impi_delete(st, "alice-tab@acme.example"), 0);
	assert_int_equal(store_reg_impi_get(st, "tel:+15145550101", &reg), 0);
	assert_null(reg);
	assert_int_equal(store_reg_impi_set(st, "tel:+15145550101",
					    "alice@acme.example"),
			 0);
	assert_int_equal(store_reg_impi_set(st, "sip:alice@acme.example", NULL),
			 0);
	assert_int_equal(store_reg_impi_get(st, "tel:+15145550101", &reg), 0);
	assert_null(reg);

	/* nothing served: no snapshot */
	assert_int_equal(store_event_dereg_snapshot(st, "alice@acme.example", 0,
						    NULL, &ev),
			 EALREADY);
	assert_int_equal(store_event_dereg_snapshot(st, "nobody@acme.example",
						    0, NULL, &ev),
			 ENOENT);
	/* registered by alice@ at scscf1 */
	assert_int_equal(store_reg_set(st, "sip:alice@acme.example",
				       STORE_REG_REGISTERED),
			 0);
	assert_int_equal(store_reg_impi_set(st, "sip:alice@acme.example",
					    "alice@acme.example"),
			 0);
	assert_int_equal(
		store_scscf_set(st, "acme-alice", "sip:scscf1.acme.example"),
		0);
	assert_int_equal(store_event_dereg_snapshot(st, "alice@acme.example", 0,
						    NULL, &ev),
			 EALREADY); /* no Diameter host to send it to */
	assert_int_equal(store_scscf_peer_set(st, "acme-alice",
					      "scscf1.acme.example",
					      "acme.example"),
			 0);
	memset(long_info, 'x', sizeof(long_info) - 1);
	long_info[sizeof(long_info) - 1] = '\0';
	assert_int_equal(store_event_dereg_snapshot(st, "alice@acme.example", 0,
						    long_info, &ev),
			 EINVAL);
	assert_int_equal(store_event_dereg_snapshot(st, "alice@acme.example", 0,
						    "a\nb", &ev),
			 EINVAL);
	assert_int_equal(store_event_dereg_snapshot(st, "tel:+15145550101", 2,
						    "moved to the Paris office",
						    &ev),
			 0);
	assert_int_equal(ev->kind, STORE_EV_DEREG);
	assert_string_equal(ev->impi, "alice@acme.example");
	assert_false(ev->whole_impi);
	assert_int_equal(ev->impus.n, 1);
	assert_int_equal(store_event_dereg_add(st, ev), 0);
	ev = mem_deref(ev);
	assert_int_equal(store_event_dereg_snapshot(st, "alice@acme.example", 0,
						    NULL, &ev),
			 0);
	assert_true(ev->whole_impi);
	assert_int_equal(ev->impus.n, 2); /* sip: and tel:, set 7 */
	assert_int_equal(store_event_dereg_add(st, ev), 0);
	ev = mem_deref(ev);
	assert_int_equal(store_event_add(st, STORE_EV_PROFILE, "acme-alice", 0),
			 0);

	/* the snapshots outlive the subscription */
	assert_int_equal(store_sub_delete(st, "acme-alice"), 0);
	st = mem_deref(st);
	st = open_store(b);
	assert_int_equal(store_event_list(st, 10, &l), 0);
	assert_int_equal(list_count(&l), 3);
	g = list_head_data(&l);
	assert_string_equal(g->subject, "tel:+15145550101");
	assert_int_equal(g->reason, 2);
	assert_string_equal(g->info, "moved to the Paris office");
	assert_string_equal(g->sub, "acme-alice");
	assert_string_equal(g->host, "scscf1.acme.example");
	assert_string_equal(g->realm, "acme.example");
	assert_string_equal(g->impi, "alice@acme.example");
	assert_false(g->whole_impi);
	assert_int_equal(g->impus.n, 1);
	assert_string_equal(g->impus.v[0], "tel:+15145550101");
	g = l.head->next->data;
	assert_true(g->whole_impi);
	assert_null(g->info);
	assert_int_equal(g->impus.n, 2);
	assert_string_equal(g->impus.v[0], "sip:alice@acme.example");
	assert_string_equal(g->impus.v[1], "tel:+15145550101");
	g = l.head->next->next->data;
	assert_int_equal(g->kind, STORE_EV_PROFILE);
	assert_null(g->host); /* no snapshot */
	assert_int_equal(g->impus.n, 0);
	list_flush(&l);
	mem_deref(st);
}


static void test_migrations_once(void **state)
{
	BACKEND(b);
	struct store_subscription *s = NULL;
	unsigned v1 = 0, v2 = 0;
	struct store *st = open_store(b);

	(void)state;
	assert_int_equal(store_schema_version(st, &v1), 0);
	assert_true(v1 >= 1);
	add_sub(st, "acme-alice");
	st = mem_deref(st);
	/* reopening applies nothing again (a second CREATE TABLE would
	 * fail) and keeps the data */
	st = open_store(b);
	assert_int_equal(store_schema_version(st, &v2), 0);
	assert_int_equal(v1, v2);
	assert_int_equal(store_sub_get(st, "acme-alice", &s), 0);
	s = mem_deref(s);
	st = mem_deref(st);
	st = open_store(b);
	assert_string_equal(store_backend(st), b->name);
	mem_deref(st);
}


static void test_open_bad_url(void **state)
{
	BACKEND(b);
	struct store *st = NULL;

	(void)state;
	(void)b;
	assert_int_equal(store_open(&st, "mysql://x"), EINVAL);
	assert_int_equal(store_open(&st, "sqlite:/nonexistent-dir/x/entims.db"),
			 EIO);
	assert_null(st);
}


/* [store] url as the roles read it: empty and "sqlite" are the default
 * file of the data directory; anything else is used as given. */
static void test_url_resolve(void **state)
{
	char url[64];

	(void)state;
	assert_int_equal(store_url_resolve(url, sizeof(url), NULL, "/d"), 0);
	assert_string_equal(url, "sqlite:/d/entims.db");
	assert_string_equal(store_sqlite_file(url), "/d/entims.db");
	assert_int_equal(store_url_resolve(url, sizeof(url), "sqlite", "/d"),
			 0);
	assert_string_equal(url, "sqlite:/d/entims.db");
	assert_int_equal(
		store_url_resolve(url, sizeof(url), "sqlite:/var/x.db", "/d"),
		0);
	assert_string_equal(store_sqlite_file(url), "/var/x.db");
	assert_int_equal(
		store_url_resolve(url, sizeof(url), "postgresql://h/hss", "/d"),
		0);
	assert_null(store_sqlite_file(url));
	assert_int_equal(store_url_resolve(url, 10, NULL, "/d"), ENAMETOOLONG);
}


#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_subscription_crud),
		T(test_impi_crud),
		T(test_impu_crud_and_links),
		T(test_ifc_profile_sets),
		T(test_subscription_delete_cascades),
		T(test_sqn_concurrent),
		T(test_reg_state_persists),
		T(test_wildcard_psi),
		T(test_cx_implicit_set),
		T(test_sh_data_and_subscriptions),
		T(test_slf),
		T(test_rtr_snapshot),
		T(test_migrations_once),
		T(test_open_bad_url),
	};
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_url_resolve),
	};
	int fails;

	fails = cmocka_run_group_tests_name("store/url", plain, NULL, NULL);
	fails += cmocka_run_group_tests_name("store/sqlite", tests,
					     sqlite_group_setup,
					     sqlite_group_teardown);
	fails += cmocka_run_group_tests_name("store/postgresql", tests,
					     pg_group_setup, pg_group_teardown);
	return fails;
}
