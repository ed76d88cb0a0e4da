/**
 * @file store.c  The typed subscriber store over the SQL drivers.
 *
 * Every operation is written once here, as SQL both PostgreSQL and
 * SQLite (3.35 or later: RETURNING, ON CONFLICT, row values) accept,
 * and is sent through the driver vtable (store.h).  Statements are
 * numbered (enum q) so that a driver prepares each one once per
 * connection and keeps it.
 *
 * Most operations are one statement.  Those that touch several tables
 * (an IMPI with its HA1 rows, a service profile with its iFC list) or
 * that read several (a whole IMPI, the Cx user profile) run in one
 * transaction; writers take the write lock when they begin, so a
 * read-then-write cannot deadlock on SQLite.
 *
 * References between rows go by name in the API and by id in the
 * schema: an INSERT looks the name up in a sub-select, and a missing
 * name becomes a NULL in a NOT NULL column, which the drivers report as
 * ENOENT (a foreign key failure is ENOENT too).
 *
 * Migrations: src/store/migrations/NNN_name.sql, embedded at build time
 * (cmake/embed.cmake), applied in order inside one transaction and
 * recorded in schema_version; on PostgreSQL an advisory lock serialises
 * nodes that start at the same time.
 */
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/hex.h"
#include "core/log.h"
#include "core/pl.h"

#define LOG_MODULE "store"

struct store_migration {
	unsigned version;
	const char *name;
	const char *sql;
};

#include "store_migrations.h"

#define SQN_MOD "281474976710656" /* 2^48 */

enum q {
	Q_MIG_MAX,
	Q_MIG_ADD,
	Q_SUB_ADD,
	Q_SUB_UPD,
	Q_SUB_GET,
	Q_SUB_BY_IMPI,
	Q_SUB_BY_ID,
	Q_SUB_LIST,
	Q_SUB_DEL,
	Q_SUB_SCSCF,
	Q_IMPI_ADD,
	Q_IMPI_UPD,
	Q_IMPI_GET,
	Q_IMPI_LIST,
	Q_IMPI_DEL,
	Q_HA1_CLEAR,
	Q_HA1_ADD,
	Q_HA1_LIST,
	Q_HA1_ONE,
	Q_IMPI_IMPUS,
	Q_SQN_ADV,
	Q_SQN_CAS,
	Q_SQN_GET,
	Q_IMPU_ADD,
	Q_IMPU_UPD,
	Q_IMPU_GET,
	Q_IMPU_LIST,
	Q_IMPU_DEL,
	Q_IMPU_WILD,
	Q_IMPU_IMPIS,
	Q_IMPU_IRS,
	Q_LINK,
	Q_UNLINK,
	Q_REG_SET,
	Q_SP_ID,
	Q_SP_ADD,
	Q_SP_UPD,
	Q_SP_GET,
	Q_SP_MEDIA,
	Q_SP_LIST,
	Q_SP_DEL,
	Q_SP_IFC_CLEAR,
	Q_SP_IFC_ADD,
	Q_SP_IFC_NAMES,
	Q_SP_IFC_FULL,
	Q_SP_SET_CLEAR,
	Q_SP_SET_ADD,
	Q_SP_SETS,
	Q_IFC_ADD,
	Q_IFC_UPD,
	Q_IFC_GET,
	Q_IFC_LIST,
	Q_IFC_DEL,
	Q_SET_ADD,
	Q_SET_IFC_ADD,
	Q_SET_GET,
	Q_SET_LIST,
	Q_SET_DEL,
	Q_SET_IFCS,
	Q_SHD_GET,
	Q_SHD_INS,
	Q_SHD_UPD,
	Q_SHD_DEL,
	Q_SHS_ADD,
	Q_SHS_DEL,
	Q_SHS_LIST,
	Q_SHS_EXPIRE,
	Q_SHS_WATCHED,
	Q_SLF_SET,
	Q_SLF_GET,
	Q_SLF_DEL,
	Q_SLF_LIST,
	Q_MAX
};
_Static_assert(Q_MAX <= STORE_QID_EVENTS,
	       "raise STORE_QID_EVENTS and STORE_QID_MAX in store.h");

#define SUB_COLS                                                             \
	"s.id, s.name, s.cap_mandatory, s.cap_optional, s.scscf_preferred, " \
	"s.ccf_primary, s.ccf_secondary, s.ecf_primary, s.ecf_secondary, "   \
	"s.scscf_assigned"
#define IMPI_COLS                                                           \
	"i.id, s.name, i.identity, i.auth_schemes, i.default_scheme, "      \
	"i.aka_k, i.aka_opc, i.aka_amf, i.sqn, i.line_id FROM impi i JOIN " \
	"subscription s ON s.id = i.subscription_id"
#define IMPU_COLS                                                          \
	"u.id, s.name, u.identity, u.identity_type, u.barred, "            \
	"u.display_name, u.irs, u.alias_group, p.name, u.can_register, "   \
	"u.reg_state, u.service_profile_id FROM impu u JOIN subscription " \
	"s ON s.id = u.subscription_id LEFT JOIN service_profile p ON "    \
	"p.id = u.service_profile_id"
#define IFC_COLS                                                   \
	"f.id, f.name, f.priority, f.as_uri, f.default_handling, " \
	"f.service_info, f.include_register_request, "             \
	"f.include_register_response, f.profile_part, f.trigger_point"
#define SHS_COLS                                                         \
	"h.id, u.identity, h.data_reference, h.service_indication, "     \
	"h.origin_host, h.expiry FROM sh_subscription h JOIN impu u ON " \
	"u.id = h.impu_id"
#define IMPU_ID(n) "(SELECT id FROM impu WHERE identity = $" #n ")"

static const char *const sql[Q_MAX] = {
	[Q_MIG_MAX] = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
	[Q_MIG_ADD] = "INSERT INTO schema_version (version, name, applied_at) "
		      "VALUES ($1, $2, $3)",
	[Q_SUB_ADD] = "INSERT INTO subscription (name, cap_mandatory, "
		      "cap_optional, scscf_preferred, ccf_primary, "
		      "ccf_secondary, ecf_primary, ecf_secondary) VALUES ($1, "
		      "$2, $3, $4, $5, $6, $7, $8) RETURNING id",
	[Q_SUB_UPD] = "UPDATE subscription SET cap_mandatory = $2, "
		      "cap_optional = $3, scscf_preferred = $4, ccf_primary = "
		      "$5, ccf_secondary = $6, ecf_primary = $7, ecf_secondary "
		      "= $8 WHERE name = $1",
	[Q_SUB_GET] = "SELECT " SUB_COLS " FROM subscription s WHERE s.name = "
		      "$1",
	[Q_SUB_BY_IMPI] = "SELECT " SUB_COLS " FROM subscription s JOIN impi "
			  "i ON i.subscription_id = s.id WHERE i.identity = "
			  "$1",
	[Q_SUB_BY_ID] = "SELECT " SUB_COLS " FROM subscription s WHERE s.id = "
			"(SELECT subscription_id FROM impu WHERE id = $1)",
	[Q_SUB_LIST] = "SELECT " SUB_COLS " FROM subscription s ORDER BY "
		       "s.name",
	[Q_SUB_DEL] = "DELETE FROM subscription WHERE name = $1",
	[Q_SUB_SCSCF] = "UPDATE subscription SET scscf_assigned = $2 WHERE "
			"name = $1",
	[Q_IMPI_ADD] = "INSERT INTO impi (subscription_id, identity, "
		       "auth_schemes, default_scheme, aka_k, aka_opc, aka_amf, "
		       "line_id) VALUES ((SELECT id FROM subscription WHERE "
		       "name = $1), $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	[Q_IMPI_UPD] = "UPDATE impi SET auth_schemes = $2, default_scheme = "
		       "$3, aka_k = $4, aka_opc = $5, aka_amf = $6, line_id = "
		       "$7 WHERE identity = $1 RETURNING id",
	[Q_IMPI_GET] = "SELECT " IMPI_COLS " WHERE i.identity = $1",
	[Q_IMPI_LIST] = "SELECT " IMPI_COLS " WHERE s.name = $1 ORDER BY "
			"i.identity",
	[Q_IMPI_DEL] = "DELETE FROM impi WHERE identity = $1",
	[Q_HA1_CLEAR] = "DELETE FROM impi_ha1 WHERE impi_id = $1",
	[Q_HA1_ADD] = "INSERT INTO impi_ha1 (impi_id, realm, ha1_md5, "
		      "ha1_sha256) VALUES ($1, $2, $3, $4)",
	[Q_HA1_LIST] = "SELECT realm, ha1_md5, ha1_sha256 FROM impi_ha1 WHERE "
		       "impi_id = $1 ORDER BY realm",
	[Q_HA1_ONE] = "SELECT h.ha1_md5, h.ha1_sha256 FROM impi_ha1 h JOIN "
		      "impi i ON i.id = h.impi_id WHERE i.identity = $1 AND "
		      "h.realm = $2",
	[Q_IMPI_IMPUS] = "SELECT u.identity FROM impi_impu x JOIN impu u ON "
			 "u.id = x.impu_id WHERE x.impi_id = $1 ORDER BY "
			 "u.identity",
	[Q_SQN_ADV] = "UPDATE impi SET sqn = (sqn + $2) % " SQN_MOD
		      " WHERE identity = $1 RETURNING sqn",
	[Q_SQN_CAS] = "UPDATE impi SET sqn = $3 WHERE identity = $1 AND sqn = "
		      "$2",
	[Q_SQN_GET] = "SELECT sqn FROM impi WHERE identity = $1",
	[Q_IMPU_ADD] =
		"INSERT INTO impu (subscription_id, identity, "
		"identity_type, barred, display_name, irs, alias_group, "
		"service_profile_id, can_register) VALUES ((SELECT id "
		"FROM subscription WHERE name = $1), $2, $3, $4, $5, $6, "
		"$7, $8, $9) RETURNING id",
	[Q_IMPU_UPD] = "UPDATE impu SET identity_type = $2, barred = $3, "
		       "display_name = $4, irs = $5, alias_group = $6, "
		       "service_profile_id = $7, can_register = $8 WHERE "
		       "identity = $1",
	[Q_IMPU_GET] = "SELECT " IMPU_COLS " WHERE u.identity = $1",
	[Q_IMPU_LIST] = "SELECT " IMPU_COLS " WHERE s.name = $1 ORDER BY "
			"u.identity",
	[Q_IMPU_DEL] = "DELETE FROM impu WHERE identity = $1",
	/* wildcarded PSI (2) and wildcarded IMPU (3), oldest first */
	[Q_IMPU_WILD] = "SELECT " IMPU_COLS " WHERE u.identity_type IN (2, 3) "
			"ORDER BY u.id",
	[Q_IMPU_IMPIS] = "SELECT i.identity FROM impi_impu x JOIN impi i ON "
			 "i.id = x.impi_id WHERE x.impu_id = $1 ORDER BY "
			 "i.identity",
	[Q_IMPU_IRS] =
		"SELECT " IMPU_COLS " WHERE u.subscription_id = (SELECT "
		"subscription_id FROM impu WHERE id = $1) AND (u.id = $1 "
		"OR (u.irs <> 0 AND u.irs = $2)) ORDER BY u.id",
	[Q_LINK] = "INSERT INTO impi_impu (impi_id, impu_id) SELECT i.id, u.id "
		   "FROM impi i JOIN impu u ON u.subscription_id = "
		   "i.subscription_id WHERE i.identity = $1 AND u.identity = "
		   "$2",
	[Q_UNLINK] = "DELETE FROM impi_impu WHERE impi_id = (SELECT id FROM "
		     "impi WHERE identity = $1) AND impu_id = " IMPU_ID(2),
	/* TS 29.228 6.1.2: the whole implicit registration set */
	[Q_REG_SET] = "UPDATE impu SET reg_state = $2 WHERE identity = $1 OR "
		      "(irs <> 0 AND (subscription_id, irs) = (SELECT "
		      "subscription_id, irs FROM impu WHERE identity = $1))",
	[Q_SP_ID] = "SELECT id FROM service_profile WHERE name = $1",
	[Q_SP_ADD] = "INSERT INTO service_profile (name, media_profile) VALUES "
		     "($1, $2) RETURNING id",
	[Q_SP_UPD] = "UPDATE service_profile SET media_profile = $2 WHERE name "
		     "= $1 RETURNING id",
	[Q_SP_GET] = "SELECT id, name, media_profile FROM service_profile "
		     "WHERE name = $1",
	[Q_SP_MEDIA] = "SELECT media_profile FROM service_profile WHERE id = "
		       "$1",
	[Q_SP_LIST] = "SELECT id, name, media_profile FROM service_profile "
		      "ORDER BY name",
	[Q_SP_DEL] = "DELETE FROM service_profile WHERE name = $1",
	[Q_SP_IFC_CLEAR] = "DELETE FROM service_profile_ifc WHERE "
			   "service_profile_id = $1",
	[Q_SP_IFC_ADD] = "INSERT INTO service_profile_ifc (service_profile_id, "
			 "ifc_id) SELECT CAST($1 AS BIGINT), id FROM ifc WHERE "
			 "name = $2",
	[Q_SP_IFC_NAMES] = "SELECT f.name FROM service_profile_ifc x JOIN ifc "
			   "f ON f.id = x.ifc_id WHERE x.service_profile_id = "
			   "$1 ORDER BY f.priority, f.name",
	[Q_SP_IFC_FULL] = "SELECT " IFC_COLS " FROM service_profile_ifc x JOIN "
			  "ifc f ON f.id = x.ifc_id WHERE x.service_profile_id "
			  "= $1 ORDER BY f.priority, f.name",
	[Q_SP_SET_CLEAR] = "DELETE FROM service_profile_shared_ifc WHERE "
			   "service_profile_id = $1",
	[Q_SP_SET_ADD] = "INSERT INTO service_profile_shared_ifc "
			 "(service_profile_id, set_id) VALUES ($1, $2)",
	[Q_SP_SETS] = "SELECT set_id FROM service_profile_shared_ifc WHERE "
		      "service_profile_id = $1 ORDER BY set_id",
	[Q_IFC_ADD] =
		"INSERT INTO ifc (name, priority, as_uri, "
		"default_handling, service_info, "
		"include_register_request, include_register_response, "
		"profile_part, trigger_point) VALUES ($1, $2, $3, $4, $5, "
		"$6, $7, $8, $9)",
	[Q_IFC_UPD] = "UPDATE ifc SET priority = $2, as_uri = $3, "
		      "default_handling = $4, service_info = $5, "
		      "include_register_request = $6, "
		      "include_register_response = $7, profile_part = $8, "
		      "trigger_point = $9 WHERE name = $1",
	[Q_IFC_GET] = "SELECT " IFC_COLS " FROM ifc f WHERE f.name = $1",
	[Q_IFC_LIST] = "SELECT " IFC_COLS " FROM ifc f ORDER BY f.priority, "
		       "f.name",
	[Q_IFC_DEL] = "DELETE FROM ifc WHERE name = $1",
	[Q_SET_ADD] = "INSERT INTO shared_ifc_set (id, name) VALUES ($1, $2)",
	[Q_SET_IFC_ADD] = "INSERT INTO shared_ifc_set_ifc (set_id, ifc_id) "
			  "SELECT CAST($1 AS BIGINT), id FROM ifc WHERE name = "
			  "$2",
	[Q_SET_GET] = "SELECT id, name FROM shared_ifc_set WHERE id = $1",
	[Q_SET_LIST] = "SELECT id, name FROM shared_ifc_set ORDER BY id",
	[Q_SET_DEL] = "DELETE FROM shared_ifc_set WHERE id = $1",
	[Q_SET_IFCS] = "SELECT f.name FROM shared_ifc_set_ifc x JOIN ifc f ON "
		       "f.id = x.ifc_id WHERE x.set_id = $1 ORDER BY "
		       "f.priority, f.name",
	[Q_SHD_GET] = "SELECT d.seq, d.data FROM sh_data d JOIN impu u ON u.id "
		      "= d.impu_id WHERE u.identity = $1 AND "
		      "d.service_indication = $2",
	[Q_SHD_INS] = "INSERT INTO sh_data (impu_id, service_indication, seq, "
		      "data) VALUES (" IMPU_ID(1) ", $2, $3, $4)",
	/* conditional on the seq read: a concurrent writer makes it miss */
	[Q_SHD_UPD] = "UPDATE sh_data SET seq = $3, data = $4 WHERE impu_id = "
		      "" IMPU_ID(1) " AND service_indication = $2 AND seq = $5",
	[Q_SHD_DEL] = "DELETE FROM sh_data WHERE impu_id = " IMPU_ID(
		1) " AND service_indication = $2 AND seq = $3",
	[Q_SHS_ADD] = "INSERT INTO sh_subscription (impu_id, data_reference, "
		      "service_indication, origin_host, expiry) VALUES "
		      "(" IMPU_ID(1) ", $2, $3, $4, $5) ON CONFLICT (impu_id, "
				     "data_reference, service_indication, "
				     "origin_host) DO UPDATE SET expiry = "
				     "excluded.expiry",
	[Q_SHS_DEL] = "DELETE FROM sh_subscription WHERE impu_id = " IMPU_ID(
		1) " AND data_reference = $2 AND service_indication = $3 AND "
		   "origin_host = $4",
	[Q_SHS_LIST] = "SELECT " SHS_COLS " WHERE u.identity = $1 ORDER BY "
		       "h.id",
	[Q_SHS_EXPIRE] = "DELETE FROM sh_subscription WHERE expiry <> 0 AND "
			 "expiry <= $1",
	[Q_SHS_WATCHED] = "SELECT h.id FROM sh_subscription h JOIN impu u ON "
			  "u.id = h.impu_id JOIN subscription s ON s.id = "
			  "u.subscription_id WHERE s.name = $1 AND "
			  "h.data_reference IN (11, 12) LIMIT 1",
	[Q_SLF_SET] = "INSERT INTO slf (identity, hss_name, hss_realm) VALUES "
		      "($1, $2, $3) ON CONFLICT (identity) DO UPDATE SET "
		      "hss_name = excluded.hss_name, hss_realm = "
		      "excluded.hss_realm",
	[Q_SLF_GET] = "SELECT identity, hss_name, hss_realm FROM slf WHERE "
		      "identity = $1",
	[Q_SLF_DEL] = "DELETE FROM slf WHERE identity = $1",
	[Q_SLF_LIST] = "SELECT identity, hss_name, hss_realm FROM slf ORDER BY "
		       "identity",
};


/* ---- results ---- */

static void sres_destructor(void *arg)
{
	struct sres *r = arg;
	size_t i;

	for (i = 0; r->v && i < r->rows * r->cols; i++)
		mem_deref(r->v[i]);
	mem_deref(r->v);
}


/**
 * A result for the drivers to fill (every cell NULL).
 *
 * @param resp  the result
 * @param rows  row count
 * @param cols  column count
 * @return 0 or ENOMEM
 */
int sres_alloc(struct sres **resp, size_t rows, size_t cols)
{
	struct sres *r;

	r = mem_zalloc(sizeof(*r), sres_destructor);
	if (!r)
		return ENOMEM;
	r->rows = rows;
	r->cols = cols;
	if (rows && cols) {
		if (rows > SIZE_MAX / cols / sizeof(char *)) {
			mem_deref(r);
			return ENOMEM;
		}
		r->v = mem_zalloc(rows * cols * sizeof(char *), NULL);
		if (!r->v) {
			mem_deref(r);
			return ENOMEM;
		}
	}
	*resp = r;
	return 0;
}


const char *sres_str(const struct sres *r, size_t row, size_t col)
{
	if (!r || row >= r->rows || col >= r->cols)
		return NULL;
	return r->v[row * r->cols + col];
}


int64_t sres_i64(const struct sres *r, size_t row, size_t col)
{
	const char *s = sres_str(r, row, col);

	return s ? strtoll(s, NULL, 10) : 0;
}


static bool sres_null(const struct sres *r, size_t row, size_t col)
{
	return sres_str(r, row, col) == NULL;
}


/*
 * Run a statement.  fmt has one letter per parameter: s (const char *,
 * NULL for SQL NULL), i (int64_t).  resp may be NULL.
 */
static int q(struct store *st, enum q id, struct sres **resp, const char *fmt,
	     ...)
{
	struct sarg a[12];
	struct sres *r = NULL;
	size_t n = 0;
	va_list ap;
	int err;

	va_start(ap, fmt);
	for (; *fmt && n < 12; fmt++, n++) {
		memset(&a[n], 0, sizeof(a[n]));
		if (*fmt == 's') {
			a[n].s = va_arg(ap, const char *);
			a[n].t = a[n].s ? SARG_STR : SARG_NULL;
		} else {
			a[n].i = va_arg(ap, int64_t);
			a[n].t = SARG_INT;
		}
	}
	va_end(ap);
	err = st->ops->query(st, id, sql[id], a, n, &r);
	if (err)
		return err;
	if (resp)
		*resp = r;
	else
		mem_deref(r);
	return 0;
}


static int tx_end(struct store *st, int err)
{
	if (err) {
		st->ops->rollback(st);
		return err;
	}
	return st->ops->commit(st);
}


/* A read transaction only gives the reads one snapshot: end it without
 * keeping anything, whatever happened. */
static int tx_end_read(struct store *st, int err)
{
	st->ops->rollback(st);
	return err;
}


static int sdup(char **dst, const struct sres *r, size_t row, size_t col)
{
	return store_strset(dst, sres_str(r, row, col));
}


/* ---- hex and capability lists ---- */

/* A column's hex (NULL: absent) into n octets. */
static int hex_decode_str(uint8_t *b, size_t n, const char *s)
{
	return s ? hex_decode(b, n, s, strlen(s)) : EINVAL;
}


static void caps_enc(char *out, size_t size, const uint32_t *v, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		int w = snprintf(out + o, size - o, "%s%" PRIu32, i ? "," : "",
				 v[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}


static void caps_dec(uint32_t *v, size_t *n, const char *s)
{
	char *end;

	*n = 0;
	while (s && *s && *n < STORE_CAP_MAX) {
		unsigned long x = strtoul(s, &end, 10);
		if (end == s)
			break;
		v[(*n)++] = (uint32_t)x;
		s = *end == ',' ? end + 1 : end;
	}
}


/* ---- opening and migrations ---- */

/* The migration text with @ID@ replaced by the backend's key type. */
static int mig_text(char **out, const char *text, const char *idt)
{
	size_t n = 0, il = strlen(idt), o = 0;
	const char *p;
	char *s;

	for (p = strstr(text, "@ID@"); p; p = strstr(p + 4, "@ID@"))
		n++;
	s = mem_alloc(strlen(text) + n * il + 1, NULL);
	if (!s)
		return ENOMEM;
	for (p = text; *p;) {
		if (!strncmp(p, "@ID@", 4)) {
			memcpy(s + o, idt, il);
			o += il;
			p += 4;
		} else {
			s[o++] = *p++;
		}
	}
	s[o] = '\0';
	*out = s;
	return 0;
}


static int migrate(struct store *st)
{
	struct sres *r = NULL;
	char *text = NULL, when[32];
	unsigned cur;
	size_t i;
	time_t now = time(NULL);
	struct tm tm;
	int err;

	err = st->ops->begin(st, true);
	if (err)
		return err;
	if (st->ops->migrate_lock)
		err = st->ops->exec(st, st->ops->migrate_lock);
	if (!err)
		err = st->ops->exec(st, "CREATE TABLE IF NOT EXISTS "
					"schema_version (version INTEGER "
					"PRIMARY KEY, name TEXT NOT NULL, "
					"applied_at TEXT NOT NULL)");
	if (!err)
		err = q(st, Q_MIG_MAX, &r, "");
	if (err)
		goto out;
	cur = (unsigned)sres_i64(r, 0, 0);
	gmtime_r(&now, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (i = 0; i < sizeof(store_migrations) / sizeof(store_migrations[0]);
	     i++) {
		const struct store_migration *m = &store_migrations[i];
		if (m->version <= cur)
			continue;
		err = mig_text(&text, m->sql, st->ops->id_type);
		if (!err)
			err = st->ops->exec(st, text);
		text = mem_deref(text);
		if (!err)
			err = q(st, Q_MIG_ADD, NULL, "iss", (int64_t)m->version,
				m->name, when);
		if (err) {
			LOG_ERR(NULL, "migration %s failed", m->name);
			goto out;
		}
		LOG_INFO(NULL, "%s: applied migration %s", st->ops->name,
			 m->name);
	}
out:
	mem_deref(r);
	return tx_end(st, err);
}


static void store_destructor(void *arg)
{
	struct store *st = arg;

	if (st->ops)
		st->ops->close(st);
}


/**
 * Open a store and bring its schema up to date.
 *
 * @param stp  the store (mem_deref closes it)
 * @param url  "sqlite:PATH", "postgresql://...", "postgres://..." or a
 *             libpq key=value conninfo
 * @return 0, EINVAL for an unknown URL form, EIO when the database
 *         cannot be opened or migrated (logged)
 */
int store_url_resolve(char *url, size_t size, const char *setting,
		      const char *data_dir)
{
	int n;

	if (!url || !size || !data_dir)
		return EINVAL;
	if (!setting || !setting[0] || !strcmp(setting, "sqlite"))
		n = snprintf(url, size, "sqlite:%s/entims.db", data_dir);
	else
		n = snprintf(url, size, "%s", setting);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}


const char *store_sqlite_file(const char *url)
{
	return url && !strncmp(url, "sqlite:", 7) ? url + 7 : NULL;
}


int store_open(struct store **stp, const char *url)
{
	struct store *st;
	const char *ci = url;
	int err;

	st = mem_zalloc(sizeof(*st), store_destructor);
	if (!st)
		return ENOMEM;
	if (store_sqlite_file(url)) {
		st->ops = &store_sqlite_ops;
		ci = store_sqlite_file(url);
	} else if (!strncmp(url, "postgresql://", 13) ||
		   !strncmp(url, "postgres://", 11) || strchr(url, '=')) {
		st->ops = &store_pgsql_ops;
	} else {
		mem_deref(st);
		return EINVAL;
	}
	err = st->ops->open(st, ci);
	if (err) {
		st->ops = NULL;
		goto out;
	}
	err = migrate(st);
out:
	if (err)
		mem_deref(st);
	else
		*stp = st;
	return err;
}


int store_schema_version(struct store *st, unsigned *v)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_MIG_MAX, &r, "");
	if (!err)
		*v = (unsigned)sres_i64(r, 0, 0);
	mem_deref(r);
	return err;
}


const char *store_backend(const struct store *st)
{
	return st->ops->name;
}


/* ---- subscriptions ---- */

static int sub_row(struct store_subscription **subp, const struct sres *r,
		   size_t i)
{
	struct store_subscription *s;
	int err;

	s = store_subscription_alloc();
	if (!s)
		return ENOMEM;
	s->id = sres_i64(r, i, 0);
	caps_dec(s->cap_mand, &s->cap_mand_n, sres_str(r, i, 2));
	caps_dec(s->cap_opt, &s->cap_opt_n, sres_str(r, i, 3));
	err = sdup(&s->name, r, i, 1);
	err |= sdup(&s->scscf_preferred, r, i, 4);
	err |= sdup(&s->ccf_primary, r, i, 5);
	err |= sdup(&s->ccf_secondary, r, i, 6);
	err |= sdup(&s->ecf_primary, r, i, 7);
	err |= sdup(&s->ecf_secondary, r, i, 8);
	err |= sdup(&s->scscf_assigned, r, i, 9);
	if (err) {
		mem_deref(s);
		return ENOMEM;
	}
	*subp = s;
	return 0;
}


static int sub_one(struct store *st, enum q id, const char *key,
		   struct store_subscription **subp)
{
	struct sres *r = NULL;
	int err;

	err = q(st, id, &r, "s", key);
	if (!err)
		err = r->rows ? sub_row(subp, r, 0) : ENOENT;
	mem_deref(r);
	return err;
}


/**
 * Add a subscription.
 *
 * @param st  the store
 * @param in  its fields (name required; the assigned S-CSCF is ignored)
 * @return 0, EEXIST for a name in use, EINVAL without a name
 */
int store_sub_add(struct store *st, const struct store_subscription *in)
{
	char mand[STORE_CAP_MAX * 12], opt[STORE_CAP_MAX * 12];

	if (!in->name || !in->name[0])
		return EINVAL;
	caps_enc(mand, sizeof(mand), in->cap_mand, in->cap_mand_n);
	caps_enc(opt, sizeof(opt), in->cap_opt, in->cap_opt_n);
	return q(st, Q_SUB_ADD, NULL, "ssssssss", in->name, mand, opt,
		 in->scscf_preferred, in->ccf_primary, in->ccf_secondary,
		 in->ecf_primary, in->ecf_secondary);
}


int store_sub_update(struct store *st, const struct store_subscription *in)
{
	char mand[STORE_CAP_MAX * 12], opt[STORE_CAP_MAX * 12];
	struct sres *r = NULL;
	int err;

	if (!in->name)
		return EINVAL;
	caps_enc(mand, sizeof(mand), in->cap_mand, in->cap_mand_n);
	caps_enc(opt, sizeof(opt), in->cap_opt, in->cap_opt_n);
	err = q(st, Q_SUB_UPD, &r, "ssssssss", in->name, mand, opt,
		in->scscf_preferred, in->ccf_primary, in->ccf_secondary,
		in->ecf_primary, in->ecf_secondary);
	if (!err && !r->changes)
		err = ENOENT;
	mem_deref(r);
	return err;
}


int store_sub_get(struct store *st, const char *name,
		  struct store_subscription **subp)
{
	return sub_one(st, Q_SUB_GET, name, subp);
}


int store_sub_by_impi(struct store *st, const char *impi,
		      struct store_subscription **subp)
{
	return sub_one(st, Q_SUB_BY_IMPI, impi, subp);
}


static int impu_resolve(struct store *st, const char *identity,
			struct store_impu **impup);

int store_sub_by_impu(struct store *st, const char *impu,
		      struct store_subscription **subp)
{
	struct store_impu *u = NULL;
	struct sres *r = NULL;
	int err;

	err = impu_resolve(st, impu, &u);
	if (!err)
		err = q(st, Q_SUB_BY_ID, &r, "i", u->id);
	if (!err)
		err = r->rows ? sub_row(subp, r, 0) : ENOENT;
	mem_deref(r);
	mem_deref(u);
	return err;
}


int store_sub_list(struct store *st, struct list *out)
{
	struct store_subscription *s;
	struct sres *r = NULL;
	size_t i;
	int err;

	err = q(st, Q_SUB_LIST, &r, "");
	for (i = 0; !err && i < r->rows; i++) {
		err = sub_row(&s, r, i);
		if (!err)
			list_append(out, &s->le, s);
	}
	mem_deref(r);
	return err;
}


static int changed(int err, struct sres *r)
{
	if (!err && !r->changes)
		err = ENOENT;
	mem_deref(r);
	return err;
}


int store_sub_delete(struct store *st, const char *name)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SUB_DEL, &r, "s", name);
	return changed(err, r);
}


int store_scscf_set(struct store *st, const char *sub, const char *scscf)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SUB_SCSCF, &r, "ss", sub, scscf);
	return changed(err, r);
}


/* ---- private identities ---- */

static int impi_write_ha1(struct store *st, int64_t id,
			  const struct store_impi *in)
{
	size_t i;
	int err;

	err = q(st, Q_HA1_CLEAR, NULL, "i", id);
	for (i = 0; !err && i < in->ha1_n; i++)
		err = q(st, Q_HA1_ADD, NULL, "isss", id, in->ha1[i].realm,
			in->ha1[i].md5, in->ha1[i].sha256);
	return err;
}


static int impi_check(const struct store_impi *in)
{
	size_t i;

	if (!in->identity || !in->identity[0] || in->ha1_n > STORE_REALM_MAX)
		return EINVAL;
	for (i = 0; i < in->ha1_n; i++)
		if (!in->ha1[i].realm)
			return EINVAL;
	return 0;
}


/**
 * Add a private identity with its secrets (in one transaction).
 *
 * @param st  the store
 * @param in  the IMPI; in->subscription names its subscription
 * @return 0, EEXIST, ENOENT for an unknown subscription, EINVAL
 */
int store_impi_add(struct store *st, const struct store_impi *in)
{
	char k[33], opc[33], amf[5];
	struct sres *r = NULL;
	int err;

	err = impi_check(in);
	if (err)
		return err;
	hex_encode(k, in->k, 16);
	hex_encode(opc, in->opc, 16);
	hex_encode(amf, in->amf, 2);
	err = st->ops->begin(st, true);
	if (err)
		return err;
	err = q(st, Q_IMPI_ADD, &r, "ssiissss", in->subscription, in->identity,
		(int64_t)in->schemes, (int64_t)in->default_scheme,
		in->has_k ? k : NULL, in->has_opc ? opc : NULL, amf,
		in->line_id);
	if (!err)
		err = impi_write_ha1(st, sres_i64(r, 0, 0), in);
	mem_deref(r);
	return tx_end(st, err);
}


int store_impi_update(struct store *st, const struct store_impi *in)
{
	char k[33], opc[33], amf[5];
	struct sres *r = NULL;
	int err;

	err = impi_check(in);
	if (err)
		return err;
	hex_encode(k, in->k, 16);
	hex_encode(opc, in->opc, 16);
	hex_encode(amf, in->amf, 2);
	err = st->ops->begin(st, true);
	if (err)
		return err;
	err = q(st, Q_IMPI_UPD, &r, "siissss", in->identity,
		(int64_t)in->schemes, (int64_t)in->default_scheme,
		in->has_k ? k : NULL, in->has_opc ? opc : NULL, amf,
		in->line_id);
	if (!err && !r->rows)
		err = ENOENT;
	if (!err)
		err = impi_write_ha1(st, sres_i64(r, 0, 0), in);
	mem_deref(r);
	return tx_end(st, err);
}


/* Row of IMPI_COLS, then its HA1 rows and IMPUs. */
static int impi_row(struct store *st, struct store_impi **impip,
		    const struct sres *r, size_t row)
{
	struct store_impi *i;
	struct sres *h = NULL, *u = NULL;
	size_t n;
	int err;

	i = store_impi_alloc();
	if (!i)
		return ENOMEM;
	i->id = sres_i64(r, row, 0);
	i->schemes = (unsigned)sres_i64(r, row, 3);
	i->default_scheme = (unsigned)sres_i64(r, row, 4);
	i->has_k = !hex_decode_str(i->k, 16, sres_str(r, row, 5));
	i->has_opc = !hex_decode_str(i->opc, 16, sres_str(r, row, 6));
	if (hex_decode_str(i->amf, 2, sres_str(r, row, 7)))
		memset(i->amf, 0, 2);
	i->sqn = (uint64_t)sres_i64(r, row, 8);
	err = sdup(&i->subscription, r, row, 1);
	err |= sdup(&i->identity, r, row, 2);
	err |= sdup(&i->line_id, r, row, 9);
	if (err) {
		err = ENOMEM;
		goto out;
	}
	err = q(st, Q_HA1_LIST, &h, "i", i->id);
	for (n = 0; !err && n < h->rows && n < STORE_REALM_MAX; n++) {
		struct store_ha1 *a = &i->ha1[i->ha1_n++];
		err = sdup(&a->realm, h, n, 0);
		(void)snprintf(a->md5, sizeof(a->md5), "%s",
			       sres_str(h, n, 1) ? sres_str(h, n, 1) : "");
		(void)snprintf(a->sha256, sizeof(a->sha256), "%s",
			       sres_str(h, n, 2) ? sres_str(h, n, 2) : "");
	}
	if (!err)
		err = q(st, Q_IMPI_IMPUS, &u, "i", i->id);
	for (n = 0; !err && n < u->rows; n++)
		err = store_strv_add(&i->impu, sres_str(u, n, 0));
out:
	mem_deref(h);
	mem_deref(u);
	if (err)
		mem_deref(i);
	else
		*impip = i;
	return err;
}


/**
 * A private identity with its HA1 set, AKA data and IMPUs.
 *
 * @param st        the store
 * @param identity  the IMPI
 * @param impip     the result
 * @return 0 or ENOENT
 */
int store_impi_get(struct store *st, const char *identity,
		   struct store_impi **impip)
{
	struct sres *r = NULL;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = q(st, Q_IMPI_GET, &r, "s", identity);
	if (!err)
		err = r->rows ? impi_row(st, impip, r, 0) : ENOENT;
	mem_deref(r);
	return tx_end_read(st, err);
}


int store_impi_list(struct store *st, const char *sub, struct list *out)
{
	struct store_impi *i;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = q(st, Q_IMPI_LIST, &r, "s", sub);
	for (n = 0; !err && n < r->rows; n++) {
		err = impi_row(st, &i, r, n);
		if (!err)
			list_append(out, &i->le, i);
	}
	mem_deref(r);
	return tx_end_read(st, err);
}


int store_impi_delete(struct store *st, const char *identity)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_IMPI_DEL, &r, "s", identity);
	return changed(err, r);
}


int store_impi_ha1(struct store *st, const char *identity, const char *realm,
		   int alg, char *ha1, size_t size)
{
	struct sres *r = NULL;
	const char *v;
	int err;

	err = q(st, Q_HA1_ONE, &r, "ss", identity, realm);
	if (!err) {
		v = sres_str(r, 0, alg ? 1 : 0);
		if (!r->rows || !v || !v[0])
			err = ENOENT;
		else if (snprintf(ha1, size, "%s", v) >= (int)size)
			err = ENOSPC;
	}
	mem_deref(r);
	return err;
}


/**
 * Advance the SQN of an IMPI atomically (one UPDATE ... RETURNING: the
 * row lock of either database orders concurrent callers).
 *
 * @param st     the store
 * @param impi   the private identity
 * @param delta  the step (TS 33.102 C.3.2: the SEQ increment)
 * @param sqnp   the new SQN
 * @return 0 or ENOENT
 */
int store_sqn_advance(struct store *st, const char *impi, uint64_t delta,
		      uint64_t *sqnp)
{
	struct sres *r = NULL;
	int err;

	if (delta >= (1ull << 48))
		return EINVAL;
	err = q(st, Q_SQN_ADV, &r, "si", impi, (int64_t)delta);
	if (!err && !r->rows)
		err = ENOENT;
	if (!err)
		*sqnp = (uint64_t)sres_i64(r, 0, 0);
	mem_deref(r);
	return err;
}


int store_sqn_cas(struct store *st, const char *impi, uint64_t expected,
		  uint64_t new_sqn)
{
	struct sres *r = NULL;
	int err;

	if (new_sqn >= (1ull << 48))
		return EINVAL;
	err = q(st, Q_SQN_CAS, &r, "sii", impi, (int64_t)expected,
		(int64_t)new_sqn);
	if (!err && !r->changes) {
		r = mem_deref(r);
		err = q(st, Q_SQN_GET, &r, "s", impi);
		if (!err)
			err = r->rows ? EAGAIN : ENOENT;
	}
	mem_deref(r);
	return err;
}


/* ---- public identities ---- */

static int impu_row(struct store *st, struct store_impu **impup,
		    const struct sres *r, size_t row)
{
	struct store_impu *u;
	struct sres *x = NULL;
	size_t n;
	int err;

	u = store_impu_alloc();
	if (!u)
		return ENOMEM;
	u->id = sres_i64(r, row, 0);
	u->type = (enum cx_identity_type)sres_i64(r, row, 3);
	u->barred = sres_i64(r, row, 4) != 0;
	u->irs = sres_i64(r, row, 6);
	u->can_register = sres_i64(r, row, 9) != 0;
	u->reg_state = (enum store_reg_state)sres_i64(r, row, 10);
	err = sdup(&u->subscription, r, row, 1);
	err |= sdup(&u->identity, r, row, 2);
	err |= sdup(&u->display_name, r, row, 5);
	err |= sdup(&u->alias_group, r, row, 7);
	err |= sdup(&u->service_profile, r, row, 8);
	if (err) {
		err = ENOMEM;
		goto out;
	}
	err = q(st, Q_IMPU_IMPIS, &x, "i", u->id);
	for (n = 0; !err && n < x->rows; n++)
		err = store_strv_add(&u->impi, sres_str(x, n, 0));
out:
	mem_deref(x);
	if (err)
		mem_deref(u);
	else
		*impup = u;
	return err;
}


/* The id of a service profile named name (NULL: none). */
static int sp_id(struct store *st, const char *name, struct sarg *a)
{
	struct sres *r = NULL;
	int err;

	a->t = SARG_NULL;
	if (!name)
		return 0;
	err = q(st, Q_SP_ID, &r, "s", name);
	if (!err && !r->rows)
		err = ENOENT;
	if (!err) {
		a->t = SARG_INT;
		a->i = sres_i64(r, 0, 0);
	}
	mem_deref(r);
	return err;
}


static int impu_write(struct store *st, const struct store_impu *in, bool add)
{
	struct sres *r = NULL;
	struct sarg sp;
	int err;

	if (!in->identity || !in->identity[0] ||
	    (unsigned)in->type > CX_ID_WILDCARDED_IMPU)
		return EINVAL;
	err = st->ops->begin(st, true);
	if (err)
		return err;
	err = sp_id(st, in->service_profile, &sp);
	if (err)
		goto out;
	/* the profile goes in by id; a NULL profile stays NULL */
	if (add) {
		struct sarg a[9] = {
			{ in->subscription ? SARG_STR : SARG_NULL,
			  in->subscription, 0 },
			{ SARG_STR, in->identity, 0 },
			{ SARG_INT, NULL, in->type },
			{ SARG_INT, NULL, in->barred },
			{ in->display_name ? SARG_STR : SARG_NULL,
			  in->display_name, 0 },
			{ SARG_INT, NULL, in->irs },
			{ in->alias_group ? SARG_STR : SARG_NULL,
			  in->alias_group, 0 },
			sp,
			{ SARG_INT, NULL, in->can_register },
		};
		err = st->ops->query(st, Q_IMPU_ADD, sql[Q_IMPU_ADD], a, 9, &r);
	} else {
		struct sarg a[8] = {
			{ SARG_STR, in->identity, 0 },
			{ SARG_INT, NULL, in->type },
			{ SARG_INT, NULL, in->barred },
			{ in->display_name ? SARG_STR : SARG_NULL,
			  in->display_name, 0 },
			{ SARG_INT, NULL, in->irs },
			{ in->alias_group ? SARG_STR : SARG_NULL,
			  in->alias_group, 0 },
			sp,
			{ SARG_INT, NULL, in->can_register },
		};
		err = st->ops->query(st, Q_IMPU_UPD, sql[Q_IMPU_UPD], a, 8, &r);
		if (!err && !r->changes)
			err = ENOENT;
	}
out:
	mem_deref(r);
	return tx_end(st, err);
}


/**
 * Add a public identity.
 *
 * @param st  the store
 * @param in  the IMPU; in->subscription and in->service_profile by name
 * @return 0, EEXIST, ENOENT (subscription or profile unknown), EINVAL
 */
int store_impu_add(struct store *st, const struct store_impu *in)
{
	return impu_write(st, in, true);
}


int store_impu_update(struct store *st, const struct store_impu *in)
{
	return impu_write(st, in, false);
}


int store_impu_get(struct store *st, const char *identity,
		   struct store_impu **impup)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_IMPU_GET, &r, "s", identity);
	if (!err)
		err = r->rows ? impu_row(st, impup, r, 0) : ENOENT;
	mem_deref(r);
	return err;
}


static int impu_resolve(struct store *st, const char *identity,
			struct store_impu **impup)
{
	struct sres *r = NULL;
	size_t i;
	bool m;
	int err;

	err = store_impu_get(st, identity, impup);
	if (err != ENOENT)
		return err;
	err = q(st, Q_IMPU_WILD, &r, "");
	if (err)
		return err;
	err = ENOENT;
	for (i = 0; i < r->rows; i++) {
		if (store_wildcard_match(sres_str(r, i, 2), identity, &m) || !m)
			continue;
		err = impu_row(st, impup, r, i);
		break;
	}
	mem_deref(r);
	return err;
}


/**
 * The public identity for an identity: itself, or the wildcarded PSI or
 * IMPU that covers it (the oldest, when several do).
 *
 * @param st        the store
 * @param identity  a SIP or tel URI
 * @param impup     the stored identity
 * @return 0 or ENOENT
 */
int store_impu_resolve(struct store *st, const char *identity,
		       struct store_impu **impup)
{
	return impu_resolve(st, identity, impup);
}


int store_impu_list(struct store *st, const char *sub, struct list *out)
{
	struct store_impu *u;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = q(st, Q_IMPU_LIST, &r, "s", sub);
	for (n = 0; !err && n < r->rows; n++) {
		err = impu_row(st, &u, r, n);
		if (!err)
			list_append(out, &u->le, u);
	}
	mem_deref(r);
	return tx_end_read(st, err);
}


int store_impu_delete(struct store *st, const char *identity)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_IMPU_DEL, &r, "s", identity);
	return changed(err, r);
}


/**
 * Associate an IMPI with an IMPU (TS 23.228 4.3.3.4: an IMPU may be
 * shared by several IMPIs of the same subscription).
 *
 * @return 0, EEXIST if already linked, ENOENT if either is unknown,
 *         EXDEV if they belong to different subscriptions
 */
int store_link(struct store *st, const char *impi, const char *impu)
{
	struct store_impi *i = NULL;
	struct store_impu *u = NULL;
	struct sres *r = NULL;
	int err;

	err = q(st, Q_LINK, &r, "ss", impi, impu);
	if (!err && !r->changes) {
		err = store_impi_get(st, impi, &i);
		if (!err)
			err = store_impu_get(st, impu, &u);
		if (!err)
			err = EXDEV;
	}
	mem_deref(i);
	mem_deref(u);
	mem_deref(r);
	return err;
}


int store_unlink(struct store *st, const char *impi, const char *impu)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_UNLINK, &r, "ss", impi, impu);
	return changed(err, r);
}


int store_reg_set(struct store *st, const char *impu,
		  enum store_reg_state state)
{
	struct sres *r = NULL;
	int err;

	if ((unsigned)state > STORE_REG_UNREGISTERED)
		return EINVAL;
	err = q(st, Q_REG_SET, &r, "si", impu, (int64_t)state);
	return changed(err, r);
}


/* ---- iFCs ---- */

static int ifc_row(struct store_ifc **ifcp, const struct sres *r, size_t row)
{
	struct store_ifc *f;
	char msg[160];
	int err;

	f = store_ifc_alloc();
	if (!f)
		return ENOMEM;
	f->id = sres_i64(r, row, 0);
	f->ifc.priority = (int)sres_i64(r, row, 2);
	f->ifc.default_handling = (enum cx_default_handling)sres_i64(r, row, 4);
	f->ifc.include_register_request = sres_i64(r, row, 6) != 0;
	f->ifc.include_register_response = sres_i64(r, row, 7) != 0;
	f->ifc.ppi = (enum cx_profile_part)sres_i64(r, row, 8);
	err = sdup(&f->name, r, row, 1);
	err |= sdup(&f->ifc.as_uri, r, row, 3);
	err |= sdup(&f->ifc.service_info, r, row, 5);
	if (err) {
		mem_deref(f);
		return ENOMEM;
	}
	if (!sres_null(r, row, 9)) {
		err = store_tp_decode(&f->ifc.tp, sres_str(r, row, 9), msg,
				      sizeof(msg));
		if (err) {
			LOG_ERR(NULL, "iFC %s: stored trigger point: %s",
				f->name, msg);
			mem_deref(f);
			return EIO;
		}
	}
	*ifcp = f;
	return 0;
}


static int ifc_write(struct store *st, const struct store_ifc *in, bool add)
{
	struct sres *r = NULL;
	char *tp = NULL;
	int err;

	if (!in->name || !in->name[0] || !in->ifc.as_uri)
		return EINVAL;
	if (in->ifc.tp) {
		err = store_tp_encode(in->ifc.tp, &tp);
		if (err)
			return err;
	}
	err = q(st, add ? Q_IFC_ADD : Q_IFC_UPD, &r, "sisisiiis", in->name,
		(int64_t)in->ifc.priority, in->ifc.as_uri,
		(int64_t)in->ifc.default_handling, in->ifc.service_info,
		(int64_t)in->ifc.include_register_request,
		(int64_t)in->ifc.include_register_response,
		(int64_t)in->ifc.ppi, tp);
	mem_deref(tp);
	if (!err && !add && !r->changes)
		err = ENOENT;
	mem_deref(r);
	return err;
}


int store_ifc_add(struct store *st, const struct store_ifc *in)
{
	return ifc_write(st, in, true);
}


int store_ifc_update(struct store *st, const struct store_ifc *in)
{
	return ifc_write(st, in, false);
}


int store_ifc_get(struct store *st, const char *name, struct store_ifc **ifcp)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_IFC_GET, &r, "s", name);
	if (!err)
		err = r->rows ? ifc_row(ifcp, r, 0) : ENOENT;
	mem_deref(r);
	return err;
}


int store_ifc_list(struct store *st, struct list *out)
{
	struct store_ifc *f;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = q(st, Q_IFC_LIST, &r, "");
	for (n = 0; !err && n < r->rows; n++) {
		err = ifc_row(&f, r, n);
		if (!err)
			list_append(out, &f->le, f);
	}
	mem_deref(r);
	return err;
}


/* A delete refused by a foreign key (reported as ENOENT by the drivers)
 * means the row is still in use. */
static int del_in_use(struct store *st, enum q id, const char *fmt,
		      const char *s, int64_t i)
{
	struct sres *r = NULL;
	int err;

	err = *fmt == 's' ? q(st, id, &r, fmt, s) : q(st, id, &r, fmt, i);
	if (err == ENOENT)
		return EBUSY;
	return changed(err, r);
}


int store_ifc_delete(struct store *st, const char *name)
{
	return del_in_use(st, Q_IFC_DEL, "s", name, 0);
}


/* ---- service profiles ---- */

static int sp_fill(struct store *st, struct store_sp *sp)
{
	struct sres *r = NULL;
	size_t n;
	int err;

	err = q(st, Q_SP_IFC_NAMES, &r, "i", sp->id);
	for (n = 0; !err && n < r->rows; n++)
		err = store_strv_add(&sp->ifc, sres_str(r, n, 0));
	r = mem_deref(r);
	if (!err)
		err = q(st, Q_SP_SETS, &r, "i", sp->id);
	for (n = 0; !err && n < r->rows && n < STORE_CAP_MAX; n++)
		sp->shared[sp->shared_n++] = (uint32_t)sres_i64(r, n, 0);
	mem_deref(r);
	return err;
}


static int sp_row(struct store *st, struct store_sp **spp, const struct sres *r,
		  size_t row)
{
	struct store_sp *sp;
	int err;

	sp = store_sp_alloc();
	if (!sp)
		return ENOMEM;
	sp->id = sres_i64(r, row, 0);
	sp->media_profile =
		sres_null(r, row, 2) ? -1 : (int)sres_i64(r, row, 2);
	err = sdup(&sp->name, r, row, 1);
	if (!err)
		err = sp_fill(st, sp);
	if (err)
		mem_deref(sp);
	else
		*spp = sp;
	return err;
}


static int sp_write(struct store *st, const struct store_sp *in, bool add)
{
	struct sres *r = NULL;
	struct sarg a[2];
	int64_t id;
	size_t i;
	int err;

	if (!in->name || !in->name[0] || in->shared_n > STORE_CAP_MAX)
		return EINVAL;
	err = st->ops->begin(st, true);
	if (err)
		return err;
	a[0] = (struct sarg){ SARG_STR, in->name, 0 };
	a[1] = (struct sarg){ in->media_profile < 0 ? SARG_NULL : SARG_INT,
			      NULL, in->media_profile };
	err = st->ops->query(st, add ? Q_SP_ADD : Q_SP_UPD,
			     sql[add ? Q_SP_ADD : Q_SP_UPD], a, 2, &r);
	if (!err && !r->rows)
		err = ENOENT;
	if (err)
		goto out;
	id = sres_i64(r, 0, 0);
	err = q(st, Q_SP_IFC_CLEAR, NULL, "i", id);
	for (i = 0; !err && i < in->ifc.n; i++) {
		r = mem_deref(r);
		err = q(st, Q_SP_IFC_ADD, &r, "is", id, in->ifc.v[i]);
		if (!err && !r->changes)
			err = ENOENT;
	}
	if (!err)
		err = q(st, Q_SP_SET_CLEAR, NULL, "i", id);
	for (i = 0; !err && i < in->shared_n; i++)
		err = q(st, Q_SP_SET_ADD, NULL, "ii", id,
			(int64_t)in->shared[i]);
out:
	mem_deref(r);
	return tx_end(st, err);
}


/**
 * Add a service profile with its iFC list and shared iFC set ids.
 *
 * @return 0, EEXIST, ENOENT (an iFC or set unknown), EINVAL
 */
int store_sp_add(struct store *st, const struct store_sp *in)
{
	return sp_write(st, in, true);
}


int store_sp_update(struct store *st, const struct store_sp *in)
{
	return sp_write(st, in, false);
}


int store_sp_get(struct store *st, const char *name, struct store_sp **spp)
{
	struct sres *r = NULL;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = q(st, Q_SP_GET, &r, "s", name);
	if (!err)
		err = r->rows ? sp_row(st, spp, r, 0) : ENOENT;
	mem_deref(r);
	return tx_end_read(st, err);
}


int store_sp_list(struct store *st, struct list *out)
{
	struct store_sp *sp;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = q(st, Q_SP_LIST, &r, "");
	for (n = 0; !err && n < r->rows; n++) {
		err = sp_row(st, &sp, r, n);
		if (!err)
			list_append(out, &sp->le, sp);
	}
	mem_deref(r);
	return tx_end_read(st, err);
}


int store_sp_delete(struct store *st, const char *name)
{
	return del_in_use(st, Q_SP_DEL, "s", name, 0);
}


/* ---- shared iFC sets ---- */

int store_ifc_set_add(struct store *st, const struct store_ifc_set *in)
{
	struct sres *r = NULL;
	size_t i;
	int err;

	if (!in->name || !in->name[0])
		return EINVAL;
	err = st->ops->begin(st, true);
	if (err)
		return err;
	err = q(st, Q_SET_ADD, NULL, "is", (int64_t)in->id, in->name);
	for (i = 0; !err && i < in->ifc.n; i++) {
		r = mem_deref(r);
		err = q(st, Q_SET_IFC_ADD, &r, "is", (int64_t)in->id,
			in->ifc.v[i]);
		if (!err && !r->changes)
			err = ENOENT;
	}
	mem_deref(r);
	return tx_end(st, err);
}


static int set_row(struct store *st, struct store_ifc_set **setp,
		   const struct sres *r, size_t row)
{
	struct store_ifc_set *s;
	struct sres *x = NULL;
	size_t n;
	int err;

	s = store_ifc_set_alloc();
	if (!s)
		return ENOMEM;
	s->id = (uint32_t)sres_i64(r, row, 0);
	err = sdup(&s->name, r, row, 1);
	if (!err)
		err = q(st, Q_SET_IFCS, &x, "i", (int64_t)s->id);
	for (n = 0; !err && n < x->rows; n++)
		err = store_strv_add(&s->ifc, sres_str(x, n, 0));
	mem_deref(x);
	if (err)
		mem_deref(s);
	else
		*setp = s;
	return err;
}


int store_ifc_set_get(struct store *st, uint32_t id,
		      struct store_ifc_set **setp)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SET_GET, &r, "i", (int64_t)id);
	if (!err)
		err = r->rows ? set_row(st, setp, r, 0) : ENOENT;
	mem_deref(r);
	return err;
}


int store_ifc_set_list(struct store *st, struct list *out)
{
	struct store_ifc_set *s;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = q(st, Q_SET_LIST, &r, "");
	for (n = 0; !err && n < r->rows; n++) {
		err = set_row(st, &s, r, n);
		if (!err)
			list_append(out, &s->le, s);
	}
	mem_deref(r);
	return err;
}


int store_ifc_set_delete(struct store *st, uint32_t id)
{
	return del_in_use(st, Q_SET_DEL, "i", NULL, (int64_t)id);
}


/* ---- the Cx user profile ---- */

static int cx_ifc_fill(struct cx_subscription *cx,
		       struct cx_service_profile *sp, const struct store_ifc *f)
{
	const struct cx_trigger_point *tp = f->ifc.tp;
	struct cx_ifc *o;
	size_t i;

	o = cx_ifc_add(cx, sp, f->ifc.priority, f->ifc.as_uri);
	if (!o)
		return ENOMEM;
	o->default_handling = f->ifc.default_handling;
	o->include_register_request = f->ifc.include_register_request;
	o->include_register_response = f->ifc.include_register_response;
	o->ppi = f->ifc.ppi;
	if (f->ifc.service_info) {
		o->service_info = cx_strdup(cx, f->ifc.service_info);
		if (!o->service_info)
			return ENOMEM;
	}
	for (i = 0; tp && i < tp->spt_n; i++) {
		const struct cx_spt *s = &tp->spt[i];
		struct cx_spt *d;

		d = cx_spt_add(cx, o, tp->cnf, s->kind, s->group);
		if (!d)
			return ENOMEM;
		d->negated = s->negated;
		d->session_case = s->session_case;
		d->reg_type = s->reg_type;
		if (s->a && !(d->a = cx_strdup(cx, s->a)))
			return ENOMEM;
		if (s->b && !(d->b = cx_strdup(cx, s->b)))
			return ENOMEM;
	}
	return 0;
}


/* One cx_service_profile: the IRS rows whose profile id is spid. */
static int cx_sp_fill(struct store *st, struct cx_subscription *cx,
		      const struct sres *irs, const char *spid)
{
	struct cx_service_profile *sp;
	struct sres *r = NULL;
	size_t i;
	int64_t id = spid ? strtoll(spid, NULL, 10) : 0;
	int err = 0;

	sp = cx_sp_add(cx);
	if (!sp)
		return ENOMEM;
	sp->media_profile = -1;
	for (i = 0; i < irs->rows; i++) {
		const char *p = sres_str(irs, i, 11);
		struct cx_public_id *pub;

		if ((p == NULL) != (spid == NULL) || (p && strcmp(p, spid)))
			continue;
		pub = cx_pub_add(cx, sp, sres_str(irs, i, 2));
		if (!pub)
			return ENOMEM;
		pub->barred = sres_i64(irs, i, 4) != 0;
		pub->type = (enum cx_identity_type)sres_i64(irs, i, 3);
		if ((pub->type == CX_ID_WILDCARDED_PSI ||
		     pub->type == CX_ID_WILDCARDED_IMPU) &&
		    !(pub->wildcarded = cx_strdup(cx, sres_str(irs, i, 2))))
			return ENOMEM;
		if (sres_str(irs, i, 5) &&
		    !(pub->display_name = cx_strdup(cx, sres_str(irs, i, 5))))
			return ENOMEM;
		if (sres_str(irs, i, 7) &&
		    !(pub->alias_group = cx_strdup(cx, sres_str(irs, i, 7))))
			return ENOMEM;
	}
	if (!spid)
		return 0;

	err = q(st, Q_SP_MEDIA, &r, "i", id);
	if (!err && r->rows && !sres_null(r, 0, 0))
		sp->media_profile = (int)sres_i64(r, 0, 0);
	r = mem_deref(r);
	if (!err)
		err = q(st, Q_SP_IFC_FULL, &r, "i", id);
	for (i = 0; !err && i < r->rows; i++) {
		struct store_ifc *f = NULL;
		err = ifc_row(&f, r, i);
		if (!err)
			err = cx_ifc_fill(cx, sp, f);
		mem_deref(f);
	}
	r = mem_deref(r);
	if (!err)
		err = q(st, Q_SP_SETS, &r, "i", id);
	if (!err && r->rows) {
		sp->shared_ifc = mem_zalloc(r->rows * sizeof(unsigned), NULL);
		if (!sp->shared_ifc)
			err = ENOMEM;
		for (i = 0; !err && i < r->rows; i++)
			sp->shared_ifc[sp->shared_ifc_n++] =
				(unsigned)sres_i64(r, i, 0);
	}
	mem_deref(r);
	return err;
}


/**
 * Build the IMSSubscription of an implicit registration set.
 *
 * @param st          the store
 * @param private_id  the IMPI to name, or NULL
 * @param impu        any identity of the set (or covered by a wildcard)
 * @param subp        the profile (mem_deref it)
 * @return 0 or ENOENT
 */
int store_cx_build(struct store *st, const char *private_id, const char *impu,
		   struct cx_subscription **subp)
{
	struct cx_subscription *cx = NULL;
	struct store_impu *u = NULL;
	struct sres *irs = NULL;
	const char *done[64];
	size_t nd = 0, i, j;
	bool none_done = false;
	int err;

	err = st->ops->begin(st, false);
	if (err)
		return err;
	err = impu_resolve(st, impu, &u);
	if (!err)
		err = q(st, Q_IMPU_IRS, &irs, "ii", u->id, u->irs);
	if (err)
		goto out;
	if (!private_id)
		private_id = u->impi.n ? u->impi.v[0] : u->identity;
	cx = cx_subscription_alloc(private_id);
	if (!cx) {
		err = ENOMEM;
		goto out;
	}
	/* one ServiceProfile per distinct profile, in IMPU order */
	for (i = 0; !err && i < irs->rows; i++) {
		const char *p = sres_str(irs, i, 11);

		if (!p) {
			if (!none_done)
				err = cx_sp_fill(st, cx, irs, NULL);
			none_done = true;
			continue;
		}
		for (j = 0; j < nd; j++)
			if (!strcmp(done[j], p))
				break;
		if (j < nd || nd == sizeof(done) / sizeof(done[0]))
			continue;
		done[nd++] = p;
		err = cx_sp_fill(st, cx, irs, p);
	}
out:
	mem_deref(irs);
	mem_deref(u);
	err = tx_end_read(st, err);
	if (err)
		mem_deref(cx);
	else
		*subp = cx;
	return err;
}


/* ---- Sh ---- */

int store_sh_data_get(struct store *st, const char *impu, const char *si,
		      uint32_t *seqp, char **datap)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SHD_GET, &r, "ss", impu, si);
	if (!err && !r->rows)
		err = ENOENT;
	if (!err) {
		*datap = NULL;
		err = sdup(datap, r, 0, 1);
		*seqp = (uint32_t)sres_i64(r, 0, 0);
	}
	mem_deref(r);
	return err;
}


/**
 * Create, update or delete repository data (TS 29.328 6.1.2.1 and
 * 7.6.1: the Sequence-Number check of Sh-Update).
 *
 * @param st    the store
 * @param impu  the public identity
 * @param si    the service indication
 * @param seq   the AS's sequence number
 * @param data  the ServiceData, or NULL to delete
 * @return 0, EAGAIN out of sync, ENOENT unknown IMPU (or nothing to
 *         delete)
 */
int store_sh_data_put(struct store *st, const char *impu, const char *si,
		      uint32_t seq, const char *data)
{
	struct sres *r = NULL;
	uint32_t want;
	int64_t old;
	int err;

	if (seq > 65535)
		return EINVAL;
	err = st->ops->begin(st, true);
	if (err)
		return err;
	err = q(st, Q_SHD_GET, &r, "ss", impu, si);
	if (err)
		goto out;
	if (!r->rows) {
		/* new data starts at 0 */
		if (!data)
			err = ENOENT;
		else if (seq != 0)
			err = EAGAIN;
		else
			err = q(st, Q_SHD_INS, NULL, "ssis", impu, si,
				(int64_t)seq, data);
		goto out;
	}
	old = sres_i64(r, 0, 0);
	want = (uint32_t)old + 1;
	if (want > 65535)
		want = 1; /* 0 is only for creation */
	r = mem_deref(r);
	if (seq != want)
		err = EAGAIN;
	else if (!data)
		err = q(st, Q_SHD_DEL, &r, "ssi", impu, si, old);
	else
		err = q(st, Q_SHD_UPD, &r, "ssisi", impu, si, (int64_t)seq,
			data, old);
	if (!err && !r->changes)
		err = EAGAIN;
out:
	mem_deref(r);
	if (err == EEXIST)
		err = EAGAIN; /* created by another writer meanwhile */
	return tx_end(st, err);
}


int store_sh_sub_add(struct store *st, const struct store_sh_sub *in)
{
	if (!in->impu || !in->origin_host)
		return EINVAL;
	return q(st, Q_SHS_ADD, NULL, "sissi", in->impu, (int64_t)in->data_ref,
		 in->service_indication ? in->service_indication : "",
		 in->origin_host, in->expiry);
}


int store_sh_sub_delete(struct store *st, const struct store_sh_sub *key)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SHS_DEL, &r, "siss", key->impu, (int64_t)key->data_ref,
		key->service_indication ? key->service_indication : "",
		key->origin_host);
	return changed(err, r);
}


static void shs_destructor(void *arg)
{
	struct store_sh_sub *s = arg;

	mem_deref(s->impu);
	mem_deref(s->service_indication);
	mem_deref(s->origin_host);
}


int store_sh_sub_list(struct store *st, const char *impu, struct list *out)
{
	struct store_sh_sub *s;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = q(st, Q_SHS_LIST, &r, "s", impu);
	for (n = 0; !err && n < r->rows; n++) {
		s = mem_zalloc(sizeof(*s), shs_destructor);
		if (!s) {
			err = ENOMEM;
			break;
		}
		s->id = sres_i64(r, n, 0);
		s->data_ref = (int)sres_i64(r, n, 2);
		s->expiry = sres_i64(r, n, 5);
		err = sdup(&s->impu, r, n, 1);
		err |= sdup(&s->service_indication, r, n, 3);
		err |= sdup(&s->origin_host, r, n, 4);
		list_append(out, &s->le, s);
		if (err)
			err = ENOMEM;
	}
	mem_deref(r);
	return err;
}


int store_sh_sub_expire(struct store *st, int64_t now, uint64_t *np)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SHS_EXPIRE, &r, "i", now);
	if (!err && np)
		*np = r->changes;
	mem_deref(r);
	return err;
}


/* Does an AS watch the registration state or the S-CSCF name (Sh
 * Data-Reference IMSUserState 11, S-CSCFName 12, TS 29.328 7.6) of an
 * identity of subscription sub?  One indexed probe, so that a Cx
 * procedure looks for Sh changes to notify only when someone listens. */
int store_sh_watched(struct store *st, const char *sub, bool *yes)
{
	struct sres *r = NULL;
	int err;

	if (!st || !sub || !yes)
		return EINVAL;
	err = q(st, Q_SHS_WATCHED, &r, "s", sub);
	if (!err)
		*yes = r->rows > 0;
	mem_deref(r);
	return err;
}


/* ---- SLF ---- */

int store_slf_set(struct store *st, const char *identity, const char *hss_name,
		  const char *hss_realm)
{
	if (!identity || !hss_name || !hss_realm)
		return EINVAL;
	return q(st, Q_SLF_SET, NULL, "sss", identity, hss_name, hss_realm);
}


static void slf_destructor(void *arg)
{
	struct store_slf *s = arg;

	mem_deref(s->identity);
	mem_deref(s->hss_name);
	mem_deref(s->hss_realm);
}


static int slf_row(struct store_slf **slfp, const struct sres *r, size_t n)
{
	struct store_slf *s;
	int err;

	s = mem_zalloc(sizeof(*s), slf_destructor);
	if (!s)
		return ENOMEM;
	err = sdup(&s->identity, r, n, 0);
	err |= sdup(&s->hss_name, r, n, 1);
	err |= sdup(&s->hss_realm, r, n, 2);
	if (err) {
		mem_deref(s);
		return ENOMEM;
	}
	*slfp = s;
	return 0;
}


int store_slf_get(struct store *st, const char *identity,
		  struct store_slf **slfp)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SLF_GET, &r, "s", identity);
	if (!err)
		err = r->rows ? slf_row(slfp, r, 0) : ENOENT;
	mem_deref(r);
	return err;
}


int store_slf_delete(struct store *st, const char *identity)
{
	struct sres *r = NULL;
	int err;

	err = q(st, Q_SLF_DEL, &r, "s", identity);
	return changed(err, r);
}


int store_slf_list(struct store *st, struct list *out)
{
	struct store_slf *s;
	struct sres *r = NULL;
	size_t n;
	int err;

	err = q(st, Q_SLF_LIST, &r, "");
	for (n = 0; !err && n < r->rows; n++) {
		err = slf_row(&s, r, n);
		if (!err)
			list_append(out, &s->le, s);
	}
	mem_deref(r);
	return err;
}
