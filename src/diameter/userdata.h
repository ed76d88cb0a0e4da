/**
 * @file userdata.h  The IMS user profile: TS 29.228 annex B (the model) and
 *                   annex E (its XML form, the Cx User-Data AVP).
 *
 * One set of types for every role: the HSS builds a cx_subscription from
 * its store and encodes it into the User-Data of an SAA (or a PPR, or the
 * Sh IMSUserState/InitialFilterCriteria data); the S-CSCF decodes the same
 * XML back into it and evaluates the Initial Filter Criteria from it.
 *
 * Schema: TS 29.228 Rel-9 annex E (CxDataType_Rel9.xsd, transcribed in
 * tests/data/diameter/); the encoder writes exactly that, the decoder also
 * takes the shapes Kamailio/OpenIMSCore FHoSS and Clearwater produce.
 *
 * Ownership: a cx_subscription owns everything below it.  Arrays are plain
 * arrays allocated with mem_zalloc and grown by the add functions; strings
 * are NUL-terminated mem_strdup copies.  Destroy with mem_deref() on the
 * subscription only.
 */
#ifndef IMS_DIAMETER_USERDATA_H
#define IMS_DIAMETER_USERDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct buf;

/* Largest User-Data document cx_userdata_decode() parses (EMSGSIZE above).
 * A profile with a hundred iFCs is about 60 KiB. */
#define CX_USERDATA_MAX (512u * 1024u)

/* TS 29.228 annex E, tIdentityType (Rel-9 values; a later release's 4,
 * WILDCARDED_IMPU after NON_DISTINCT_IMPU took 3, is decoded as
 * CX_ID_WILDCARDED_IMPU too). */
enum cx_identity_type {
	CX_ID_PUBLIC_USER = 0,
	CX_ID_DISTINCT_PSI = 1,
	CX_ID_WILDCARDED_PSI = 2,
	CX_ID_WILDCARDED_IMPU = 3,
};

/* TS 29.228 annex E, tSessionCase. */
enum cx_session_case {
	CX_SC_ORIGINATING = 0,
	CX_SC_TERMINATING_REGISTERED = 1,
	CX_SC_TERMINATING_UNREGISTERED = 2,
	CX_SC_ORIGINATING_UNREGISTERED = 3,
	CX_SC_ORIGINATING_CDIV = 4,
};

/* TS 29.228 annex E, tDefaultHandling. */
enum cx_default_handling {
	CX_DH_SESSION_CONTINUED = 0,
	CX_DH_SESSION_TERMINATED = 1,
};

/* TS 29.228 annex E, tProfilePartIndicator; NONE when the element is
 * absent (the iFC applies in both states). */
enum cx_profile_part {
	CX_PPI_NONE = -1,
	CX_PPI_REGISTERED = 0,
	CX_PPI_UNREGISTERED = 1,
};

/* RegistrationType of an SPT on REGISTER (annex B.2.2), as bits. */
enum cx_reg_type {
	CX_REGTYPE_INITIAL = 1u << 0,
	CX_REGTYPE_RE = 1u << 1,
	CX_REGTYPE_DE = 1u << 2,
};

enum cx_spt_kind {
	CX_SPT_REQUEST_URI,
	CX_SPT_METHOD,
	CX_SPT_SIP_HEADER,
	CX_SPT_SESSION_CASE,
	CX_SPT_SESSION_DESCRIPTION,
};

/* Service Point Trigger (annex B.2.2).  Strings hold the XML's text:
 * Request-URI, header Content and SDP Content are regular expressions
 * (POSIX extended) as TS 29.228 B.2.2 defines them. */
struct cx_spt {
	int group;    /* Group; an SPT listed in several Groups is decoded
			 as one cx_spt per Group (same truth value) */
	bool negated; /* ConditionNegated */
	enum cx_spt_kind kind;
	char *a; /* RequestURI, Method, Header name, SDP Line */
	char *b; /* Header Content, SDP Content; NULL when absent */
	enum cx_session_case session_case;
	unsigned reg_type; /* cx_reg_type bits; 0 = any (Method REGISTER) */
};

struct cx_trigger_point {
	bool cnf; /* ConditionTypeCNF: true = CNF, false = DNF */
	struct cx_spt *spt;
	size_t spt_n;
};

struct cx_ifc {
	int priority;
	struct cx_trigger_point *tp; /* NULL: no TriggerPoint, always true */
	char *as_uri;                /* ApplicationServer/ServerName */
	enum cx_default_handling default_handling;
	char *service_info; /* NULL when absent */
	bool include_register_request;
	bool include_register_response;
	enum cx_profile_part ppi;
};

struct cx_public_id {
	char *identity; /* sip:, tel: URI, or a wildcarded one */
	bool barred;    /* BarringIndication */
	enum cx_identity_type type;
	char *wildcarded;   /* WildcardedPSI / WildcardedIMPU, or NULL */
	char *display_name; /* DisplayName, or NULL */
	char *alias_group;  /* AliasIdentityGroupID (Rel-9), or NULL */
};

struct cx_service_profile {
	struct cx_public_id *pub;
	size_t pub_n;
	struct cx_ifc *ifc; /* sorted by priority on encode/decode */
	size_t ifc_n;
	unsigned *shared_ifc; /* SharedIFCSetID values */
	size_t shared_ifc_n;
	int media_profile; /* SubscribedMediaProfileId, -1 absent */
};

struct cx_subscription {
	char *private_id;
	struct cx_service_profile *sp;
	size_t sp_n;
};

/* Construction; every add returns a pointer into the grown array, valid
 * until the next add on the same array, or NULL on ENOMEM. */
struct cx_subscription *cx_subscription_alloc(const char *private_id);
struct cx_service_profile *cx_sp_add(struct cx_subscription *sub);
struct cx_public_id *cx_pub_add(struct cx_subscription *sub,
				struct cx_service_profile *sp,
				const char *identity);
struct cx_ifc *cx_ifc_add(struct cx_subscription *sub,
			  struct cx_service_profile *sp, int priority,
			  const char *as_uri);
struct cx_spt *cx_spt_add(struct cx_subscription *sub, struct cx_ifc *ifc,
			  bool cnf, enum cx_spt_kind kind, int group);
/* A copy of s owned by sub (for the string members). */
char *cx_strdup(struct cx_subscription *sub, const char *s);

/* The service part of a subscription (service profiles with their iFCs,
 * shared iFC set ids, media profile; not the identities), which the
 * users of one enterprise service profile have in common: drop the
 * identities, hash and compare the rest (an S-CSCF keeps one copy per
 * distinct service part). */
void cx_subscription_drop_ids(struct cx_subscription *sub);
uint32_t cx_services_hash(const struct cx_subscription *sub);
bool cx_services_eq(const struct cx_subscription *a,
		    const struct cx_subscription *b);

/* XML (annex E, IMSSubscription), UTF-8, appended to mb.  EINVAL when a
 * mandatory member is NULL or a string is not UTF-8 XML text. */
int cx_userdata_encode(struct buf *mb,
		       const struct cx_subscription *sub) IMS_MUST_CHECK;
/* EBADMSG with a sentence in err (when err is not NULL) if the XML is not
 * an IMSSubscription this model can hold; EMSGSIZE above CX_USERDATA_MAX.
 * The iFCs of each service profile come back sorted by Priority. */
int cx_userdata_decode(struct cx_subscription **subp, const char *xml,
		       size_t len, char *err, size_t errsz) IMS_MUST_CHECK;

#endif
