/**
 * @file avp.h  Diameter AVPs (RFC 6733 4): header, padding, base types,
 *              a tree of AVPs shared by decoded and built messages.
 *
 * An AVP is a `struct dia_avp`.  Its value is a pl view: into the received
 * bytes for a decoded AVP (the message keeps them by a counted reference),
 * or into the AVP's own block for one built here.  A Grouped AVP keeps its
 * members in `avps`; the message's top level is a Grouped pseudo-AVP
 * (`msg->root`), so that every add and find function takes one parent,
 * whether that is the message or a Grouped AVP:
 *
 *   dia_add_u32(&msg->root, DIA_AVP_RESULT_CODE, 0, DIA_SUCCESS);
 *   err = dia_add_group(&msg->root, DIA_AVP_EXPERIMENTAL_RESULT, 0, &grp);
 *   err = dia_add_u32(grp, DIA_AVP_VENDOR_ID, 0, DIA_VENDOR_3GPP);
 *   avp = dia_avp_find(&ans->root, DIA_AVP_SESSION_ID, 0);
 *
 * The flags of a built AVP come from the dictionary (dict.h): the M bit
 * when its rule is "must", the V bit whenever a vendor is given.
 *
 * Ownership: a built AVP is one counted block (header and value) held by
 * its parent's list; a decoded AVP lives in its message's AVP array.
 * Neither is freed on its own: dia_avp_remove() takes one out of its
 * parent, and the message frees the rest.
 */
#ifndef IMS_DIAMETER_AVP_H
#define IMS_DIAMETER_AVP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"
#include "core/pl.h"

struct sa;
struct dia_avp_def;

/* RFC 6733 4.1: AVP flags */
#define DIA_AVP_FLAG_V   0x80u /* Vendor-Specific: the Vendor-ID is present */
#define DIA_AVP_FLAG_M   0x40u /* Mandatory */
#define DIA_AVP_FLAG_P   0x20u /* end-to-end security (deprecated) */
#define DIA_AVP_FLAG_RSV 0x1fu /* reserved, must be zero */

#define DIA_AVP_HDR_LEN  8u  /* code, flags, length */
#define DIA_AVP_HDR_VLEN 12u /* ... and Vendor-ID */

/* Grouped AVPs nest at most this deep (the top level is depth 0); deeper
 * input is refused, so a "Failed-AVP in a Failed-AVP in ..." bomb costs
 * nothing and recursion stays bounded. */
#define DIA_DEPTH_MAX 8

#define DIA_VENDOR_3GPP 10415u /* TS 29.230 */

/* RFC 6733 4.2 basic and 4.3 derived AVP data formats */
enum dia_type {
	DIA_TYPE_OCTETS = 0,
	DIA_TYPE_I32,
	DIA_TYPE_I64,
	DIA_TYPE_U32,
	DIA_TYPE_U64,
	DIA_TYPE_F32,
	DIA_TYPE_F64,
	DIA_TYPE_GROUPED,
	DIA_TYPE_ADDRESS,
	DIA_TYPE_TIME,
	DIA_TYPE_UTF8,
	DIA_TYPE_IDENTITY,
	DIA_TYPE_URI,
	DIA_TYPE_ENUM,
};

/* RFC 6733 4.3.1 Address: IANA address family numbers */
#define DIA_ADDR_IPV4 1u
#define DIA_ADDR_IPV6 2u

struct dia_avp {
	struct le le;                  /* in the parent's avps */
	struct list avps;              /* Grouped: the members, in order */
	struct dia_avp *parent;        /* weak; NULL for a message root */
	const struct dia_avp_def *def; /* dictionary entry, NULL if unknown */
	uint32_t code;
	uint32_t vendor; /* 0 when the V bit is clear */
	uint8_t flags;
	bool grouped;  /* the members are in avps (else val is opaque) */
	bool heap;     /* a block of its own (built), else in a message array */
	struct pl val; /* the data, without padding (not set when built
			  grouped: the members are the truth) */
};

/* Bytes the AVP takes on the wire, with its padding (and its members'). */
size_t dia_avp_wire_len(const struct dia_avp *avp);

/* Building: a detached AVP (flags from the dictionary), then appended. */
int dia_avp_alloc(struct dia_avp **avpp, uint32_t code, uint32_t vendor,
		  const void *p, size_t len) IMS_MUST_CHECK;
int dia_avp_append(struct dia_avp *parent, struct dia_avp *avp) IMS_MUST_CHECK;
void dia_avp_remove(struct dia_avp *avp);

int dia_add_octets(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		   const void *p, size_t len) IMS_MUST_CHECK;
int dia_add_pl(struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       const struct pl *pl) IMS_MUST_CHECK;
int dia_add_str(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		const char *s) IMS_MUST_CHECK;
int dia_add_u32(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint32_t v) IMS_MUST_CHECK;
int dia_add_i32(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int32_t v) IMS_MUST_CHECK;
int dia_add_u64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint64_t v) IMS_MUST_CHECK;
int dia_add_i64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int64_t v) IMS_MUST_CHECK;
int dia_add_f32(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		float v) IMS_MUST_CHECK;
int dia_add_f64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		double v) IMS_MUST_CHECK;
/* Time: seconds since the Unix epoch, sent as NTP seconds (RFC 5905). */
int dia_add_time(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		 uint64_t unix_secs) IMS_MUST_CHECK;
/* Address: an IANA family and its raw address bytes ... */
int dia_add_addr(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		 uint16_t family, const void *addr, size_t len) IMS_MUST_CHECK;
/* ... or the address of a socket address (IPv4 or IPv6). */
int dia_add_sa(struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       const struct sa *sa) IMS_MUST_CHECK;
int dia_add_group(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct dia_avp **grpp) IMS_MUST_CHECK;
/* A deep copy of src (any AVP, from any message) appended to parent. */
int dia_add_copy(struct dia_avp *parent,
		 const struct dia_avp *src) IMS_MUST_CHECK;

/* Finding: the first member of parent with that code and vendor, the next
 * sibling with the same code and vendor as avp, or NULL. */
const struct dia_avp *dia_avp_find(const struct dia_avp *parent, uint32_t code,
				   uint32_t vendor);
const struct dia_avp *dia_avp_next(const struct dia_avp *avp);
/* Any member in order (iteration): first and next, NULL at the end. */
const struct dia_avp *dia_avp_first(const struct dia_avp *parent);
const struct dia_avp *dia_avp_sibling(const struct dia_avp *avp);
/* Members of parent with that code and vendor. */
unsigned dia_avp_count(const struct dia_avp *parent, uint32_t code,
		       uint32_t vendor);

/* Typed values: EBADMSG when the data length does not fit the type. */
int dia_avp_u32(const struct dia_avp *avp, uint32_t *v) IMS_MUST_CHECK;
int dia_avp_i32(const struct dia_avp *avp, int32_t *v) IMS_MUST_CHECK;
int dia_avp_u64(const struct dia_avp *avp, uint64_t *v) IMS_MUST_CHECK;
int dia_avp_i64(const struct dia_avp *avp, int64_t *v) IMS_MUST_CHECK;
int dia_avp_f32(const struct dia_avp *avp, float *v) IMS_MUST_CHECK;
int dia_avp_f64(const struct dia_avp *avp, double *v) IMS_MUST_CHECK;
int dia_avp_time(const struct dia_avp *avp, uint64_t *unix_secs) IMS_MUST_CHECK;
/* Address: family and a view of the address bytes; IPv4 must be 4 bytes
 * and IPv6 16, other families any length. */
int dia_avp_addr(const struct dia_avp *avp, uint16_t *family,
		 struct pl *addr) IMS_MUST_CHECK;
/* IPv4 or IPv6 Address into a socket address (port 0); EAFNOSUPPORT for
 * other families. */
int dia_avp_sa(const struct dia_avp *avp, struct sa *sa) IMS_MUST_CHECK;

/* Find and read in one step: ENOENT when absent, EBADMSG when malformed. */
int dia_get_u32(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint32_t *v) IMS_MUST_CHECK;
int dia_get_i32(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int32_t *v) IMS_MUST_CHECK;
int dia_get_u64(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint64_t *v) IMS_MUST_CHECK;
int dia_get_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       struct pl *pl) IMS_MUST_CHECK;

/* Internal to the codec (msg.c): wire helpers. */
static inline size_t dia_pad4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

static inline uint32_t dia_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint32_t dia_rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[2];
}

static inline void dia_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void dia_wr24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Free the members of a list of AVPs (built ones are dereferenced). */
void dia_avp_list_flush(struct list *l);

#endif
