/**
 * @file cx.h  Typed Cx/Dx messages (TS 29.229 6.1, TS 29.228 6): builders
 *             and readers for both sides.
 *
 * The I-CSCF and S-CSCF build requests (UAR, SAR, LIR, MAR) and read
 * answers; the HSS reads those requests and builds the answers, and
 * builds the requests it originates (RTR, PPR) whose answers the S-CSCF
 * builds.  Each command has one plain struct used both ways: the builder
 * reads it, the reader fills it with pl views into the message (valid as
 * long as the message lives).  Identities are pl so that SIP-side callers
 * pass their parsed views without copying; PL_STR() wraps a C string.
 *
 * Every message built here has the shape TS 29.229 6.1 gives all Cx
 * commands: Session-Id first (RFC 6733 8.8), Vendor-Specific-Application-Id
 * (Vendor-Id 10415, Auth-Application-Id 16777216), Auth-Session-State
 * NO_STATE_MAINTAINED (Cx is stateless, TS 29.229 5.3), Origin-Host and
 * Origin-Realm; answers carry either Result-Code or Experimental-Result
 * (TS 29.229 6.2: the 3GPP codes go in Experimental-Result with Vendor-Id
 * 10415 and no Result-Code).  Supported-Features (TS 29.229 7.2) is sent
 * when the struct says so and read when present.
 *
 * Readers check what the command needs to be usable (its mandatory AVPs
 * and their types) and return EBADMSG otherwise; the full grammar check
 * of dia_msg_validate() is the node's (or hss_handle's) first step.
 */
#ifndef IMS_DIAMETER_CX_H
#define IMS_DIAMETER_CX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"

struct dia_msg;
struct dia_avp;

/* A pl over a NUL-terminated string (NULL gives an unset pl). */
static inline struct pl cx_pl(const char *s)
{
	struct pl pl = PL_INIT;

	if (s)
		pl_set_str(&pl, s);
	return pl;
}

#define CX_IMPU_MAX  16 /* Public-Identity AVPs read from one SAR/RTR */
#define CX_CAP_MAX   16 /* capabilities of each kind in Server-Capabilities */
#define CX_ASSOC_MAX 16 /* User-Name in Associated-Identities */

/* Who sends a request and where it goes (RFC 6733 6.1). */
struct cx_route {
	struct pl origin_host;
	struct pl origin_realm;
	struct pl dest_realm;
	struct pl dest_host;  /* unset: routed by realm */
	struct pl session_id; /* unset: a new one (RFC 6733 8.8) */
};

/* Who answers. */
struct cx_origin {
	struct pl host;
	struct pl realm;
};

/* The outcome of an answer: vendor 0 for Result-Code, 10415 for an
 * Experimental-Result-Code. */
struct cx_result {
	uint32_t code;
	uint32_t vendor;
};

/* One Supported-Features AVP (TS 29.229 6.3.29, 7.2). */
struct cx_features {
	bool present;
	uint32_t vendor; /* 10415 */
	uint32_t list_id;
	uint32_t list;
};

/* TS 29.229 7.2.1: Cx feature list 1 */
#define CX_FEAT_SIFC     (1u << 0) /* shared iFC sets */
#define CX_FEAT_ALIASIND (1u << 1) /* alias indication */

/* TS 29.229 6.3.4 Server-Capabilities */
struct cx_caps {
	uint32_t mand[CX_CAP_MAX];
	size_t mand_n;
	uint32_t opt[CX_CAP_MAX];
	size_t opt_n;
	struct pl name[CX_CAP_MAX];
	size_t name_n;
};

/* TS 29.229 6.3.19 Charging-Information */
struct cx_charging {
	struct pl ecf_primary, ecf_secondary;
	struct pl ccf_primary, ccf_secondary;
};

/* ---- UAR/UAA: TS 29.229 6.1.1, 6.1.2 ---- */

struct cx_uar {
	struct pl impi;    /* User-Name */
	struct pl impu;    /* Public-Identity */
	struct pl visited; /* Visited-Network-Identifier (OctetString) */
	int auth_type;     /* User-Authorization-Type, -1 absent */
	uint32_t flags;    /* UAR-Flags, 0 absent */
	struct cx_features feat;
};

struct cx_uaa {
	struct cx_result res;
	struct pl server_name;
	bool has_caps;
	struct cx_caps caps;
	struct cx_features feat;
};

/* ---- SAR/SAA: TS 29.229 6.1.3, 6.1.4 ---- */

struct cx_sar {
	struct pl impi; /* User-Name, may be unset */
	struct pl impu[CX_IMPU_MAX];
	size_t impu_n;
	struct pl wildcarded; /* Wildcarded-Public-Identity */
	struct pl server_name;
	uint32_t sat;     /* Server-Assignment-Type */
	uint32_t udaa;    /* User-Data-Already-Available */
	int multiple_reg; /* Multiple-Registration-Indication, -1 absent */
	struct cx_features feat;
};

struct cx_saa {
	struct cx_result res;
	struct pl impi;      /* User-Name */
	struct pl user_data; /* User-Data (XML) */
	bool has_charging;
	struct cx_charging charging;
	struct pl assoc[CX_ASSOC_MAX]; /* Associated-Identities */
	size_t assoc_n;
	struct pl server_name; /* Rel-8: the S-CSCF already assigned */
	struct pl wildcarded;
	struct cx_features feat;
};

/* ---- LIR/LIA: TS 29.229 6.1.5, 6.1.6 ---- */

struct cx_lir {
	struct pl impu;
	bool originating; /* Originating-Request present */
	int auth_type;    /* User-Authorization-Type, -1 absent */
	struct cx_features feat;
};

struct cx_lia {
	struct cx_result res;
	struct pl server_name;
	bool has_caps;
	struct cx_caps caps;
	struct pl wildcarded;
	struct cx_features feat;
};

/* ---- MAR/MAA: TS 29.229 6.1.7, 6.1.8 ---- */

/* RFC 4740 9.5 / TS 29.229 6.3.36 SIP-Digest-Authenticate */
struct cx_digest {
	struct pl realm;
	struct pl algorithm; /* unset: MD5 */
	struct pl qop;
	struct pl ha1;
};

/* TS 29.229 6.3.13 SIP-Auth-Data-Item */
struct cx_auth_item {
	uint32_t item_number; /* 0: absent */
	struct pl scheme;
	struct pl authenticate;  /* RAND || AUTN */
	struct pl authorization; /* XRES, or RAND || AUTS in a resync MAR */
	struct pl ck;
	struct pl ik;
	bool has_digest;
	struct cx_digest digest;
};

struct cx_mar {
	struct pl impi;
	struct pl impu;
	struct pl server_name;
	uint32_t n_items;         /* SIP-Number-Auth-Items */
	struct cx_auth_item item; /* the request's one item */
	struct cx_features feat;
};

struct cx_maa {
	struct cx_result res;
	struct pl impi;
	struct pl impu;
	uint32_t n_items;
	struct cx_auth_item *item; /* building: item_n items; reading: the
				      caller's array of item_max */
	size_t item_n;
	size_t item_max;
	struct cx_features feat;
};

/* ---- RTR/RTA: TS 29.229 6.1.9, 6.1.10 ---- */

struct cx_rtr {
	struct pl impi;
	struct pl impu[CX_IMPU_MAX];
	size_t impu_n;
	struct pl assoc[CX_ASSOC_MAX];
	size_t assoc_n;
	uint32_t reason; /* Deregistration-Reason/Reason-Code */
	struct pl reason_info;
};

struct cx_rta {
	struct cx_result res;
	struct pl assoc[CX_ASSOC_MAX];
	size_t assoc_n;
};

/* ---- PPR/PPA: TS 29.229 6.1.11, 6.1.12 ---- */

struct cx_ppr {
	struct pl impi;
	struct pl user_data;
	bool has_charging;
	struct cx_charging charging;
	struct cx_features feat;
};

struct cx_ppa {
	struct cx_result res;
	struct cx_features feat;
};

/* ---- common ---- */

/* A new Cx (or Sh, by app) request with the common head (Session-Id,
 * Vendor-Specific-Application-Id, Auth-Session-State, Origin-*,
 * Destination-*). */
int cx_request_alloc(struct dia_msg **reqp, uint32_t app, uint32_t cmd,
		     const struct cx_route *rt) IMS_MUST_CHECK;
/* An answer to req with the common head and the result; 3xxx answers
 * get the E bit (RFC 6733 7.1.3). */
int cx_answer_alloc(struct dia_msg **ansp, const struct dia_msg *req,
		    const struct cx_origin *o,
		    const struct cx_result *res) IMS_MUST_CHECK;
/* Result-Code (vendor 0) or Experimental-Result (vendor, code). */
int cx_add_result(struct dia_avp *parent,
		  const struct cx_result *res) IMS_MUST_CHECK;
int cx_result_get(const struct dia_msg *ans,
		  struct cx_result *res) IMS_MUST_CHECK;
int cx_add_features(struct dia_avp *parent,
		    const struct cx_features *f) IMS_MUST_CHECK;
/* The first Supported-Features of parent (f->present false if none). */
int cx_features_get(const struct dia_avp *parent,
		    struct cx_features *f) IMS_MUST_CHECK;
/* No capability and no name: nothing for an I-CSCF to choose by. */
bool cx_caps_empty(const struct cx_caps *caps);
int cx_add_caps(struct dia_avp *parent,
		const struct cx_caps *caps) IMS_MUST_CHECK;
int cx_add_charging(struct dia_avp *parent,
		    const struct cx_charging *c) IMS_MUST_CHECK;
/* A Session-Id "host;high;low" (RFC 6733 8.8) into buf. */
int cx_session_id(char *buf, size_t size, const struct pl *host) IMS_MUST_CHECK;

/* ---- helpers of the Cx and Sh codecs (cx.c, sh.c) ---- */

/* Add pl as an AVP unless it is unset (an optional AVP). */
int cx_add_opt_pl(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  const struct pl *pl) IMS_MUST_CHECK;
/* An optional AVP as a pl: unset when absent. */
int cx_get_opt_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct pl *pl) IMS_MUST_CHECK;
/* Every AVP of that code into v (at most max): EBADMSG past max or for a
 * grouped one. */
int cx_get_all_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct pl *v, size_t max, size_t *np) IMS_MUST_CHECK;
/* EINVAL unless m is the request (req) or answer of (app, cmd). */
int cx_msg_check(const struct dia_msg *m, uint32_t app, uint32_t cmd,
		 bool req) IMS_MUST_CHECK;
/* The end of a builder: hand msg out through msgp, or free it on err. */
int cx_msg_finish(struct dia_msg **msgp, struct dia_msg *msg, int err);

/* ---- the commands ---- */

int cx_uar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_uar *uar) IMS_MUST_CHECK;
int cx_uar_decode(const struct dia_msg *req, struct cx_uar *uar) IMS_MUST_CHECK;
int cx_uaa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_uaa *uaa) IMS_MUST_CHECK;
int cx_uaa_decode(const struct dia_msg *ans, struct cx_uaa *uaa) IMS_MUST_CHECK;

int cx_sar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_sar *sar) IMS_MUST_CHECK;
int cx_sar_decode(const struct dia_msg *req, struct cx_sar *sar) IMS_MUST_CHECK;
int cx_saa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_saa *saa) IMS_MUST_CHECK;
int cx_saa_decode(const struct dia_msg *ans, struct cx_saa *saa) IMS_MUST_CHECK;

int cx_lir_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_lir *lir) IMS_MUST_CHECK;
int cx_lir_decode(const struct dia_msg *req, struct cx_lir *lir) IMS_MUST_CHECK;
int cx_lia_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_lia *lia) IMS_MUST_CHECK;
int cx_lia_decode(const struct dia_msg *ans, struct cx_lia *lia) IMS_MUST_CHECK;

int cx_mar_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_mar *mar) IMS_MUST_CHECK;
int cx_mar_decode(const struct dia_msg *req, struct cx_mar *mar) IMS_MUST_CHECK;
int cx_maa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_maa *maa) IMS_MUST_CHECK;
/* maa->item and maa->item_max name the caller's array; ENOSPC when the
 * answer has more items. */
int cx_maa_decode(const struct dia_msg *ans, struct cx_maa *maa) IMS_MUST_CHECK;

int cx_rtr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_rtr *rtr) IMS_MUST_CHECK;
int cx_rtr_decode(const struct dia_msg *req, struct cx_rtr *rtr) IMS_MUST_CHECK;
int cx_rta_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_rta *rta) IMS_MUST_CHECK;
int cx_rta_decode(const struct dia_msg *ans, struct cx_rta *rta) IMS_MUST_CHECK;

int cx_ppr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct cx_ppr *ppr) IMS_MUST_CHECK;
int cx_ppr_decode(const struct dia_msg *req, struct cx_ppr *ppr) IMS_MUST_CHECK;
int cx_ppa_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct cx_ppa *ppa) IMS_MUST_CHECK;
int cx_ppa_decode(const struct dia_msg *ans, struct cx_ppa *ppa) IMS_MUST_CHECK;

#endif
