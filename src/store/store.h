/**
 * @file store.h  The HSS subscriber store: one interface, two backends.
 *
 * The model is the IMS subscriber master data of TS 23.228 4.3 and
 * TS 29.228 annex B: subscriptions, private identities (IMPI) with their
 * authentication secrets, public identities (IMPU, PSI) with their
 * service profiles, Initial Filter Criteria and shared iFC sets, the
 * registration state and assigned S-CSCF, the Sh repository data and
 * subscriptions (TS 29.328), and the SLF table (Dx).
 *
 * Layering.  The typed operations below are written once (store.c) over
 * a small SQL driver vtable, struct store_ops, that sqlite.c and pgsql.c
 * implement: prepare-once-and-cache by query number, bind, fetch,
 * transactions.  Both backends run the same SQL text (placeholders are
 * written $1, $2 ...; the SQLite driver rewrites them to ?1, ?2) and the
 * same migrations (src/store/migrations/), so the two can never drift
 * apart in behaviour: the test suite runs every case on both.
 *
 * Calls are synchronous (a few index probes each; the HSS will move them
 * off the event loop with async_run() later).  One store is one
 * connection and is used by one thread at a time.
 *
 * Ownership.  Every model object is a mem object: store_*_alloc() makes
 * an empty one, getters return new ones, mem_deref() frees them with all
 * their strings.  Inputs of add/update are only read.  Lists are filled
 * with counted references (list_flush() empties them).
 *
 * Errors: ENOENT unknown entity (or a reference to one), EEXIST duplicate
 * identity or name, EBUSY still referenced (a service profile in use),
 * EXDEV an IMPI and an IMPU of different subscriptions, EAGAIN a
 * compare-and-set or Sh sequence number that lost, EINVAL bad input,
 * EIO the database failed (the driver logs why).
 */
#ifndef IMS_STORE_STORE_H
#define IMS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"
#include "diameter/userdata.h"

struct store;
struct sres;

/* ---- the driver vtable (sqlite.c, pgsql.c) ---- */

enum sarg_type {
	SARG_NULL,
	SARG_STR,
	SARG_INT,
};

/* Statements are numbered below this; drivers cache by it.  store.c takes
 * 0 .. STORE_QID_EVENTS - 1, events.c the numbers from STORE_QID_EVENTS. */
#define STORE_QID_MAX    96
#define STORE_QID_EVENTS 88

/* One statement parameter. */
struct sarg {
	enum sarg_type t;
	const char *s;
	int64_t i;
};

struct store_ops {
	const char *name;
	/* The text that replaces @ID@ in the migrations: an integer
	 * primary key the database assigns. */
	const char *id_type;
	int (*open)(struct store *st, const char *conninfo);
	void (*close)(struct store *st);
	/* Run statement qid (prepared on first use, then cached) with its
	 * parameters; *resp gets the rows (and the changed-row count). */
	int (*query)(struct store *st, unsigned qid, const char *sql,
		     const struct sarg *argv, size_t argc, struct sres **resp);
	/* A script without parameters (migrations). */
	int (*exec)(struct store *st, const char *sql);
	/* write: take the write lock at once (SQLite BEGIN IMMEDIATE), so
	 * that a read-then-write transaction cannot deadlock. */
	int (*begin)(struct store *st, bool write);
	int (*commit)(struct store *st);
	void (*rollback)(struct store *st);
	/* Serialise concurrent migrations (inside the transaction); NULL
	 * when begin(write) already does. */
	const char *migrate_lock;
};

struct store {
	const struct store_ops *ops;
	void *be; /* the backend's connection state */
};

/* A result: rows x cols text values (NULL for SQL NULL). */
struct sres {
	size_t rows;
	size_t cols;
	char **v;
	uint64_t changes; /* rows changed by INSERT/UPDATE/DELETE */
};

int sres_alloc(struct sres **resp, size_t rows, size_t cols) IMS_MUST_CHECK;
const char *sres_str(const struct sres *r, size_t row, size_t col);
int64_t sres_i64(const struct sres *r, size_t row, size_t col);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pgsql_ops;

/* ---- opening ---- */

/* url: "sqlite:/path/to/entims.db", "postgresql://...", or a libpq
 * conninfo ("host=/tmp dbname=hss").  Applies pending migrations. */
int store_open(struct store **stp, const char *url) IMS_MUST_CHECK;

/* The URL a [store] url setting names: empty (or "sqlite") is the default
 * file, "sqlite:DATA_DIR/entims.db".  ENAMETOOLONG when url[size] is too
 * small. */
int store_url_resolve(char *url, size_t size, const char *setting,
		      const char *data_dir) IMS_MUST_CHECK;
/* The file of an "sqlite:" URL, NULL for another kind of store. */
const char *store_sqlite_file(const char *url);
/* The latest migration applied (tests; `entims config`). */
int store_schema_version(struct store *st, unsigned *v) IMS_MUST_CHECK;
const char *store_backend(const struct store *st);

/* ---- the model ---- */

/* Authentication schemes (TS 29.229 6.3.8 SIP-Authentication-Scheme),
 * as bits of store_impi.schemes. */
enum store_auth {
	STORE_AUTH_DIGEST_MD5 = 1u << 0,
	STORE_AUTH_DIGEST_SHA256 = 1u << 1,
	STORE_AUTH_AKAV1_MD5 = 1u << 2,
	STORE_AUTH_AKAV2_MD5 = 1u << 3,
	STORE_AUTH_ALL = 0xfu,
};

/* TS 29.228 6.1.2 / 6.1.4: the HSS's registration state of an IMPU. */
enum store_reg_state {
	STORE_REG_NOT_REGISTERED = 0,
	STORE_REG_REGISTERED = 1,
	STORE_REG_UNREGISTERED = 2, /* registered for unregistered services */
};

#define STORE_CAP_MAX   16 /* S-CSCF capabilities of each kind */
#define STORE_REALM_MAX 8  /* digest realms per IMPI */
#define STORE_HA1_MAX   65 /* SHA-256 in hex + NUL */
#define STORE_NAME_MAX  256

/* An array of strings (IMPUs of an IMPI, iFC names of a profile ...). */
struct store_strv {
	char **v;
	size_t n;
};

struct store_subscription {
	struct le le;
	int64_t id;
	char *name;
	/* S-CSCF capabilities (TS 29.228 6.7, Server-Capabilities) */
	uint32_t cap_mand[STORE_CAP_MAX];
	size_t cap_mand_n;
	uint32_t cap_opt[STORE_CAP_MAX];
	size_t cap_opt_n;
	char *scscf_preferred;
	/* Charging-Information (TS 29.229 6.3.19): CCF and ECF names */
	char *ccf_primary, *ccf_secondary;
	char *ecf_primary, *ecf_secondary;
	/* read-only here (store_scscf_set): the S-CSCF serving the user */
	char *scscf_assigned;
};

struct store_ha1 {
	char *realm;
	char md5[STORE_HA1_MAX];    /* lowercase hex, "" when absent */
	char sha256[STORE_HA1_MAX]; /* lowercase hex, "" when absent */
};

struct store_impi {
	struct le le;
	int64_t id;
	char *subscription; /* the subscription's name */
	char *identity;
	unsigned schemes;        /* enum store_auth bits */
	unsigned default_scheme; /* one bit of schemes, 0 = first allowed */
	struct store_ha1 ha1[STORE_REALM_MAX];
	size_t ha1_n;
	bool has_k;
	uint8_t k[16];
	bool has_opc;
	uint8_t opc[16];
	uint8_t amf[2];
	uint64_t sqn; /* 48 bits; read-only here (store_sqn_*) */
	char *line_id;
	struct store_strv impu; /* read-only: the associated IMPUs */
};

struct store_impu {
	struct le le;
	int64_t id;
	char *subscription;
	char *identity; /* URI; wildcarded ones hold !regex! parts */
	enum cx_identity_type type;
	bool barred;
	char *display_name;
	int64_t irs; /* implicit registration set id; 0 = a set of its own */
	char *alias_group;
	char *service_profile; /* name, or NULL */
	bool can_register;
	/* read-only here (store_reg_set): */
	enum store_reg_state reg_state;
	struct store_strv impi; /* the associated IMPIs */
};

struct store_ifc {
	struct le le;
	int64_t id;
	char *name;
	/* priority, as_uri, default handling, service info, include
	 * register flags, profile part and the trigger point; the strings
	 * and tp are owned by this object. */
	struct cx_ifc ifc;
};

struct store_sp {
	struct le le;
	int64_t id;
	char *name;
	int media_profile;     /* SubscribedMediaProfileId, -1 absent */
	struct store_strv ifc; /* iFC names, in priority order */
	uint32_t shared[STORE_CAP_MAX]; /* SharedIFCSetID values */
	size_t shared_n;
};

struct store_ifc_set {
	struct le le;
	uint32_t id; /* SharedIFCSetID */
	char *name;
	struct store_strv ifc;
};

/* TS 29.328 Sh subscription to notifications (SNR). */
struct store_sh_sub {
	struct le le;
	int64_t id;
	char *impu;
	int data_ref;             /* Data-Reference AVP value */
	char *service_indication; /* "" when not given */
	char *origin_host;
	int64_t expiry; /* Unix time; 0 = no expiry */
};

struct store_slf {
	struct le le;
	char *identity;
	char *hss_name;
	char *hss_realm;
};

struct store_subscription *store_subscription_alloc(void);
struct store_impi *store_impi_alloc(void);
struct store_impu *store_impu_alloc(void);
struct store_ifc *store_ifc_alloc(void);
struct store_sp *store_sp_alloc(void);
struct store_ifc_set *store_ifc_set_alloc(void);

/* Copy s into *dst (replacing it); NULL clears.  ENOMEM. */
int store_strset(char **dst, const char *s) IMS_MUST_CHECK;
int store_strv_add(struct store_strv *sv, const char *s) IMS_MUST_CHECK;
void store_strv_reset(struct store_strv *sv);
/* Add an SPT to ifc's trigger point (made on first use with cnf). */
struct cx_spt *store_ifc_spt_add(struct store_ifc *ifc, bool cnf,
				 enum cx_spt_kind kind, int group);

/* ---- subscriptions ---- */

int store_sub_add(struct store *st,
		  const struct store_subscription *in) IMS_MUST_CHECK;
/* Update every field but the name (the key) and the assigned S-CSCF. */
int store_sub_update(struct store *st,
		     const struct store_subscription *in) IMS_MUST_CHECK;
int store_sub_get(struct store *st, const char *name,
		  struct store_subscription **subp) IMS_MUST_CHECK;
int store_sub_by_impi(struct store *st, const char *impi,
		      struct store_subscription **subp) IMS_MUST_CHECK;
/* An IMPU, or an identity that a wildcarded PSI/IMPU covers. */
int store_sub_by_impu(struct store *st, const char *impu,
		      struct store_subscription **subp) IMS_MUST_CHECK;
int store_sub_list(struct store *st, struct list *out) IMS_MUST_CHECK;
/* Deletes its IMPIs, IMPUs, associations, Sh data (cascade). */
int store_sub_delete(struct store *st, const char *name) IMS_MUST_CHECK;
/* The S-CSCF assigned to the subscription's user (TS 29.228 6.1.2:
 * one per user); NULL clears. */
int store_scscf_set(struct store *st, const char *sub,
		    const char *scscf) IMS_MUST_CHECK;

/* ---- private identities ---- */

/* in->subscription names the subscription (ENOENT if unknown). */
int store_impi_add(struct store *st,
		   const struct store_impi *in) IMS_MUST_CHECK;
/* Replaces schemes, HA1 set, K, OPc, AMF, line id (not the SQN). */
int store_impi_update(struct store *st,
		      const struct store_impi *in) IMS_MUST_CHECK;
int store_impi_get(struct store *st, const char *identity,
		   struct store_impi **impip) IMS_MUST_CHECK;
int store_impi_list(struct store *st, const char *sub,
		    struct list *out) IMS_MUST_CHECK;
int store_impi_delete(struct store *st, const char *identity) IMS_MUST_CHECK;
/* The HA1 for a digest challenge (one indexed probe): alg 0 = MD5,
 * 1 = SHA-256; ENOENT when the IMPI has none for the realm. */
int store_impi_ha1(struct store *st, const char *identity, const char *realm,
		   int alg, char *ha1, size_t size) IMS_MUST_CHECK;

/* SQN (TS 33.102 C.3): *sqnp = (sqn + delta) mod 2^48, atomically. */
int store_sqn_advance(struct store *st, const char *impi, uint64_t delta,
		      uint64_t *sqnp) IMS_MUST_CHECK;
/* Set to new only if still expected; EAGAIN if another caller moved it
 * (read it again and retry), ENOENT for an unknown IMPI. */
int store_sqn_cas(struct store *st, const char *impi, uint64_t expected,
		  uint64_t new_sqn) IMS_MUST_CHECK;

/* ---- public identities ---- */

int store_impu_add(struct store *st,
		   const struct store_impu *in) IMS_MUST_CHECK;
int store_impu_update(struct store *st,
		      const struct store_impu *in) IMS_MUST_CHECK;
/* Exact identity only. */
int store_impu_get(struct store *st, const char *identity,
		   struct store_impu **impup) IMS_MUST_CHECK;
/* Exact identity, else the first wildcarded PSI/IMPU that covers it
 * (TS 23.003 13.5: the part between '!' is a regular expression). */
int store_impu_resolve(struct store *st, const char *identity,
		       struct store_impu **impup) IMS_MUST_CHECK;
int store_impu_list(struct store *st, const char *sub,
		    struct list *out) IMS_MUST_CHECK;
int store_impu_delete(struct store *st, const char *identity) IMS_MUST_CHECK;
/* The many-to-many IMPI <-> IMPU association (same subscription). */
int store_link(struct store *st, const char *impi,
	       const char *impu) IMS_MUST_CHECK;
int store_unlink(struct store *st, const char *impi,
		 const char *impu) IMS_MUST_CHECK;
/* The state of impu and of its whole implicit registration set
 * (TS 29.228 6.1.2: the set registers together). */
int store_reg_set(struct store *st, const char *impu,
		  enum store_reg_state state) IMS_MUST_CHECK;

/* Does identity match a wildcarded one ("sip:ivr-!.*!@acme.example")?
 * EINVAL when the pattern is malformed (odd '!' count, bad regex). */
int store_wildcard_match(const char *pattern, const char *identity,
			 bool *match) IMS_MUST_CHECK;

/* ---- service profiles, iFCs, shared iFC sets ---- */

int store_ifc_add(struct store *st, const struct store_ifc *in) IMS_MUST_CHECK;
int store_ifc_update(struct store *st,
		     const struct store_ifc *in) IMS_MUST_CHECK;
int store_ifc_get(struct store *st, const char *name,
		  struct store_ifc **ifcp) IMS_MUST_CHECK;
int store_ifc_list(struct store *st, struct list *out) IMS_MUST_CHECK;
/* EBUSY while a profile or shared set uses it. */
int store_ifc_delete(struct store *st, const char *name) IMS_MUST_CHECK;

/* in->ifc names and in->shared ids must exist (ENOENT). */
int store_sp_add(struct store *st, const struct store_sp *in) IMS_MUST_CHECK;
int store_sp_update(struct store *st, const struct store_sp *in) IMS_MUST_CHECK;
int store_sp_get(struct store *st, const char *name,
		 struct store_sp **spp) IMS_MUST_CHECK;
int store_sp_list(struct store *st, struct list *out) IMS_MUST_CHECK;
/* EBUSY while an IMPU uses it. */
int store_sp_delete(struct store *st, const char *name) IMS_MUST_CHECK;

int store_ifc_set_add(struct store *st,
		      const struct store_ifc_set *in) IMS_MUST_CHECK;
int store_ifc_set_get(struct store *st, uint32_t id,
		      struct store_ifc_set **setp) IMS_MUST_CHECK;
int store_ifc_set_list(struct store *st, struct list *out) IMS_MUST_CHECK;
int store_ifc_set_delete(struct store *st, uint32_t id) IMS_MUST_CHECK;

/* ---- the Cx user profile ---- */

/* The IMSSubscription for the implicit registration set of impu (or of
 * the wildcarded identity covering it), as the SAA User-Data carries it
 * (TS 29.228 6.1.2, 6.5.2.1): one service profile per distinct profile
 * of the set's IMPUs, each with those IMPUs, its iFCs in priority order
 * and its shared iFC set ids.  private_id is the IMPI to name (NULL: the
 * first IMPI associated with impu). */
int store_cx_build(struct store *st, const char *private_id, const char *impu,
		   struct cx_subscription **subp) IMS_MUST_CHECK;

/* ---- Sh (TS 29.328) ---- */

/* Repository data of impu for one service indication: ENOENT if none.
 * *datap is a mem string. */
int store_sh_data_get(struct store *st, const char *impu, const char *si,
		      uint32_t *seqp, char **datap) IMS_MUST_CHECK;
/* TS 29.328 6.1.3: create with seq 0, then each update carries the
 * stored seq + 1 (65535 wraps to 1); data NULL deletes.  EAGAIN when
 * seq is out of sync (DIAMETER_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC). */
int store_sh_data_put(struct store *st, const char *impu, const char *si,
		      uint32_t seq, const char *data) IMS_MUST_CHECK;
/* Adds, or refreshes the expiry of the same subscription. */
int store_sh_sub_add(struct store *st,
		     const struct store_sh_sub *in) IMS_MUST_CHECK;
int store_sh_sub_delete(struct store *st,
			const struct store_sh_sub *key) IMS_MUST_CHECK;
int store_sh_sub_list(struct store *st, const char *impu,
		      struct list *out) IMS_MUST_CHECK;
/* Drop the subscriptions expired at now (Unix time). */
int store_sh_sub_expire(struct store *st, int64_t now,
			uint64_t *np) IMS_MUST_CHECK;
/* An Sh subscription to IMSUserState or S-CSCFName on any identity of
 * subscription sub (the name)? */
int store_sh_watched(struct store *st, const char *sub,
		     bool *yes) IMS_MUST_CHECK;

/* ---- SLF (Dx, TS 29.228 6.6) ---- */

int store_slf_set(struct store *st, const char *identity, const char *hss_name,
		  const char *hss_realm) IMS_MUST_CHECK;
int store_slf_get(struct store *st, const char *identity,
		  struct store_slf **slfp) IMS_MUST_CHECK;
int store_slf_delete(struct store *st, const char *identity) IMS_MUST_CHECK;
int store_slf_list(struct store *st, struct list *out) IMS_MUST_CHECK;

/* ---- helpers shared with provisioning ---- */

/* The JSON text of a trigger point (NULL tp: "null") and back; the
 * format is the provisioning format (docs/internals/provisioning.md). */
int store_tp_encode(const struct cx_trigger_point *tp,
		    char **jsonp) IMS_MUST_CHECK;
int store_tp_decode(struct cx_trigger_point **tpp, const char *json, char *err,
		    size_t errsz) IMS_MUST_CHECK;
struct cx_trigger_point *store_tp_alloc(bool cnf);
/* The name of a scheme bit ("SIP Digest", "Digest-AKAv1-MD5" ...) and
 * back (case-insensitive, also short names "md5", "akav1"); 0 unknown. */
const char *store_auth_name(unsigned bit);
unsigned store_auth_from_name(const char *name);

#endif
