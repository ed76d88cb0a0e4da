/**
 * @file reginfo.h  The registration information document of the reg event
 *                  package: application/reginfo+xml (RFC 3680 section 5),
 *                  with the GRUU extension of RFC 5628 section 5.
 *
 * One model for both sides: the S-CSCF's notifier (cscf/regevent.h) builds
 * a reginfo and encodes it into the body of each NOTIFY; the P-CSCF or an
 * application server decodes the body back into the same model and merges
 * it into what it knows (regevent_watch).
 *
 * Ownership: a reginfo owns everything below it, like a cx_subscription
 * (diameter/userdata.h): plain arrays grown by the add functions, strings
 * that are NUL-terminated mem_strdup copies.  One mem_deref() of the
 * reginfo frees all; pointers returned by the add functions are valid until
 * the next add on the same array.
 */
#ifndef IMS_CSCF_REGINFO_H
#define IMS_CSCF_REGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct buf;

#define REGINFO_NS      "urn:ietf:params:xml:ns:reginfo"
#define REGINFO_GRUU_NS "urn:ietf:params:xml:ns:gruuinfo" /* RFC 5628 */
#define REGINFO_CTYPE   "application/reginfo+xml"

/* Limits of what reginfo_decode() accepts (EMSGSIZE / EBADMSG above):
 * an IMS implicit registration set rarely has more than a handful of
 * IMPUs, each with a few contacts; these bound the memory a peer's NOTIFY
 * can make us allocate. */
#define REGINFO_MAX       ((size_t)128 * 1024) /* bytes of a document */
#define REGINFO_REG_MAX   64u                  /* registrations per document */
#define REGINFO_CT_MAX    64u                  /* contacts per registration */
#define REGINFO_PARAM_MAX 32u                  /* unknown-params per contact */

/* RFC 3680 5.3: the state attribute of <reginfo>. */
enum reginfo_doc_state {
	REGINFO_FULL = 0,
	REGINFO_PARTIAL = 1,
};

/* RFC 3680 5.3: <registration state=...> (5.1.1 state machine). */
enum reginfo_reg_state {
	REGINFO_REG_INIT = 0,
	REGINFO_REG_ACTIVE = 1,
	REGINFO_REG_TERMINATED = 2,
};

/* RFC 3680 5.3: <contact state=...>. */
enum reginfo_ct_state {
	REGINFO_CT_ACTIVE = 0,
	REGINFO_CT_TERMINATED = 1,
};

/* RFC 3680 5.1.2: the event that moved a contact to its state.  The first
 * three leave it active (with "shortened" too), the others terminate it. */
enum reginfo_event {
	REGINFO_EV_REGISTERED = 0, /* initial -> active by a REGISTER */
	REGINFO_EV_CREATED,        /* administratively created */
	REGINFO_EV_REFRESHED,      /* re-REGISTER */
	REGINFO_EV_SHORTENED,      /* expiry reduced by the registrar */
	REGINFO_EV_EXPIRED,        /* not refreshed in time */
	REGINFO_EV_DEACTIVATED,    /* network: re-register now */
	REGINFO_EV_PROBATION,      /* network: re-register later */
	REGINFO_EV_UNREGISTERED,   /* REGISTER with expires 0 */
	REGINFO_EV_REJECTED,       /* administrative removal, no retry */
	REGINFO_EV_NUM
};

/* An <unknown-param>: a Contact header parameter the registrar keeps
 * (feature tags, +sip.instance).  value NULL: a parameter without value
 * (written as an empty element). */
struct reginfo_param {
	char *name;
	char *value;
};

struct reginfo_contact {
	char *id; /* unique within the registration, stable */
	enum reginfo_ct_state state;
	enum reginfo_event event;
	char *uri;          /* <uri> */
	char *display_name; /* <display-name>, NULL when absent */
	bool has_expires;
	uint64_t expires; /* seconds left */
	bool has_duration;
	uint64_t duration; /* duration-registered, seconds */
	bool has_retry_after;
	uint64_t retry_after; /* probation: seconds */
	bool has_q;
	uint16_t q;   /* 0..1000 (written "0.5") */
	char *callid; /* NULL when absent */
	bool has_cseq;
	uint64_t cseq;
	struct reginfo_param *param;
	size_t param_n;
	char *pub_gruu;  /* RFC 5628 <gr:pub-gruu uri=...>, NULL absent */
	char *temp_gruu; /* RFC 5628 <gr:temp-gruu uri=...>, NULL absent */
	uint64_t temp_gruu_cseq; /* its first-cseq */
};

struct reginfo_reg {
	char *aor; /* the address-of-record (IMPU) */
	char *id;  /* unique within the document, stable */
	enum reginfo_reg_state state;
	struct reginfo_contact *ct;
	size_t ct_n;
};

struct reginfo {
	uint32_t version; /* RFC 3680 5.2: per subscription, +1 per doc */
	enum reginfo_doc_state state;
	struct reginfo_reg *reg;
	size_t reg_n;
};

/* Construction.  The strings are copied; NULL is returned when out of
 * memory or when a mandatory string is NULL. */
struct reginfo *reginfo_alloc(uint32_t version, enum reginfo_doc_state state);
struct reginfo_reg *reginfo_reg_add(struct reginfo *ri, const char *aor,
				    const char *id,
				    enum reginfo_reg_state state);
struct reginfo_contact *reginfo_contact_add(struct reginfo_reg *reg,
					    const char *id, const char *uri,
					    enum reginfo_ct_state state,
					    enum reginfo_event event);
struct reginfo_param *reginfo_param_add(struct reginfo_contact *ct,
					const char *name, const char *value);
/* Set an optional string member of a contact (display_name, callid,
 * pub_gruu, temp_gruu): *member is replaced by a copy of s (NULL clears). */
int reginfo_str_set(char **member, const char *s) IMS_MUST_CHECK;
/* Append a deep copy of src to ri; with active_only, terminated contacts
 * are left out.  NULL when out of memory. */
struct reginfo_reg *reginfo_reg_copy(struct reginfo *ri,
				     const struct reginfo_reg *src,
				     bool active_only);
/* Append a deep copy of a contact; NULL when out of memory. */
struct reginfo_contact *reginfo_contact_copy(struct reginfo_reg *dst,
					     const struct reginfo_contact *src);
/* Remove registration i (or contact i of reg), releasing what it owns. */
void reginfo_reg_remove(struct reginfo *ri, size_t i);
void reginfo_contact_remove(struct reginfo_reg *reg, size_t i);

/* Packed form: a registration (or every registration of a document) as
 * one byte string, for state kept between documents (the notifier's
 * registrations, a subscriber's known state): a few bytes besides the
 * strings, one heap block where the tree has one per string. */
enum {
	REGINFO_PACK_NOKEY = 1 << 0,  /* leave aor and id out (the keeper
					 knows them; reginfo_reg_pack) */
	REGINFO_PACK_ACTIVE = 1 << 1, /* leave terminated contacts out */
	REGINFO_PACK_SLIM = 1 << 2,   /* of a contact keep only state, event,
					 expires, id and uri */
};

/* Both return the bytes needed, written only when not above size (dst
 * NULL with size 0 asks the size). */
size_t reginfo_reg_pack(uint8_t *dst, size_t size,
			const struct reginfo_reg *reg, unsigned flags);
size_t reginfo_pack(uint8_t *dst, size_t size, const struct reginfo *ri,
		    unsigned flags);
/* Append what was packed to ri (deep copies); aor and id are given for
 * a registration packed with REGINFO_PACK_NOKEY, else NULL.  EBADMSG when
 * the bytes are not a packed form; ri is unchanged on error. */
int reginfo_reg_unpack(struct reginfo *ri, const uint8_t *p, size_t len,
		       const char *aor, const char *id) IMS_MUST_CHECK;
int reginfo_unpack(struct reginfo *ri, const uint8_t *p,
		   size_t len) IMS_MUST_CHECK;

const char *reginfo_reg_state_str(enum reginfo_reg_state s);
const char *reginfo_ct_state_str(enum reginfo_ct_state s);
const char *reginfo_event_str(enum reginfo_event ev);
/* The terminating events (expired ... rejected). */
static inline bool reginfo_event_terminates(enum reginfo_event ev)
{
	return ev >= REGINFO_EV_EXPIRED;
}

/* Encode as XML (UTF-8, the element order of the RFC 3680 5.3 schema),
 * appended to mb.  EINVAL when a string is not XML text or a mandatory
 * member is missing; EMSGSIZE at mb's ceiling. */
int reginfo_encode(struct buf *mb, const struct reginfo *ri) IMS_MUST_CHECK;

/* Decode a document.  EBADMSG with a sentence in err (when err is set)
 * for anything that is not a reginfo document of RFC 3680 (not
 * well-formed, a DOCTYPE, a wrong namespace, a missing or invalid
 * attribute, more elements than the limits); EMSGSIZE above REGINFO_MAX. */
int reginfo_decode(struct reginfo **rip, const char *xml, size_t len, char *err,
		   size_t errsz) IMS_MUST_CHECK;

#endif
