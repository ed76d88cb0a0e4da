/**
 * @file avp.c  Diameter AVPs: building, finding and reading typed values.
 *
 * A built AVP is one block: the struct, then its value bytes (no second
 * allocation, and the value's lifetime is the AVP's).  A built Grouped AVP
 * has no value of its own: its members are encoded when the message is.
 *
 * The readers check the data length against the type (RFC 6733 4.2: the
 * fixed-size types) and return EBADMSG otherwise, so a caller can never
 * read a short value; dia_msg_validate() turns the same check into
 * DIAMETER_INVALID_AVP_LENGTH for the peer.
 */
#include "diameter/avp.h"

#include <errno.h>
#include <string.h>

#include "diameter/dict.h"
#include "net/sa.h"

/* RFC 5905 6: NTP era 0 starts 1900-01-01, 2208988800 s before Unix time */
#define NTP_UNIX_OFFSET 2208988800ull
#define NTP_ERA_SECS    4294967296ull


static void avp_destructor(void *arg)
{
	struct dia_avp *avp = arg;

	dia_avp_list_flush(&avp->avps);
}


/**
 * Release the members of an AVP list.  Built AVPs are dereferenced (their
 * destructor releases their own members); decoded ones belong to their
 * message's array, so only their members' built AVPs are released.
 */
void dia_avp_list_flush(struct list *l)
{
	struct le *le;

	while ((le = l->head)) {
		struct dia_avp *avp = le->data;

		list_unlink(le);
		avp->parent = NULL;
		if (avp->heap)
			mem_deref(avp);
		else
			dia_avp_list_flush(&avp->avps);
	}
}


static struct dia_avp *avp_new(uint32_t code, uint32_t vendor, uint8_t flags,
			       const void *p, size_t len)
{
	struct dia_avp *avp;

	if (len > SIZE_MAX - sizeof(*avp))
		return NULL;
	avp = mem_zalloc(sizeof(*avp) + len, avp_destructor);
	if (!avp)
		return NULL;
	avp->code = code;
	avp->vendor = vendor;
	avp->flags = flags;
	avp->heap = true;
	avp->def = dia_dict_avp(code, vendor);
	if (len) {
		char *val = (char *)(avp + 1);

		if (p)
			memcpy(val, p, len);
		pl_set(&avp->val, val, len);
	}
	return avp;
}


static uint8_t default_flags(uint32_t code, uint32_t vendor)
{
	const struct dia_avp_def *def = dia_dict_avp(code, vendor);
	uint8_t flags = vendor ? DIA_AVP_FLAG_V : 0;

	if (def && def->m == DIA_M_MUST)
		flags |= DIA_AVP_FLAG_M;
	return flags;
}


/**
 * Allocate a detached AVP with the dictionary's flags (M when its rule is
 * "must", V when a vendor is given).  A Grouped AVP of the dictionary with
 * no data gets members (dia_avp_append); with data it stays opaque.
 *
 * @param p    value bytes, copied; NULL with a length gives zeroes
 * @param len  value length
 */
int dia_avp_alloc(struct dia_avp **avpp, uint32_t code, uint32_t vendor,
		  const void *p, size_t len)
{
	struct dia_avp *avp;

	if (!avpp)
		return EINVAL;
	avp = avp_new(code, vendor, default_flags(code, vendor), p, len);
	if (!avp)
		return ENOMEM;
	avp->grouped = !len && avp->def && avp->def->type == DIA_TYPE_GROUPED;
	*avpp = avp;
	return 0;
}


/**
 * Append a detached AVP (from dia_avp_alloc) to a message root or a
 * Grouped AVP, which then owns it.
 *
 * @return 0, or EINVAL when parent has no members (not Grouped, or opaque)
 *         or avp is attached already
 */
int dia_avp_append(struct dia_avp *parent, struct dia_avp *avp)
{
	if (!parent || !avp || !parent->grouped || avp->le.list || !avp->heap ||
	    avp == parent)
		return EINVAL;
	avp->parent = parent;
	list_append(&parent->avps, &avp->le, avp);
	return 0;
}


/**
 * Take an AVP out of its parent.  A built AVP is freed; a decoded one
 * stays in its message's array until the message goes.
 */
void dia_avp_remove(struct dia_avp *avp)
{
	if (!avp || !avp->le.list)
		return;
	list_unlink(&avp->le);
	avp->parent = NULL;
	if (avp->heap)
		mem_deref(avp);
}


static int add(struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       const void *p, size_t len)
{
	struct dia_avp *avp;
	int err;

	if (!parent || !parent->grouped)
		return EINVAL;
	avp = avp_new(code, vendor, default_flags(code, vendor), p, len);
	if (!avp)
		return ENOMEM;
	err = dia_avp_append(parent, avp);
	if (err)
		mem_deref(avp);
	return err;
}


int dia_add_octets(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		   const void *p, size_t len)
{
	if (!p && len)
		return EINVAL;
	return add(parent, code, vendor, p, len);
}


int dia_add_pl(struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       const struct pl *pl)
{
	if (!pl)
		return EINVAL;
	return dia_add_octets(parent, code, vendor, pl->p, pl->l);
}


int dia_add_str(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		const char *s)
{
	if (!s)
		return EINVAL;
	return add(parent, code, vendor, s, strlen(s));
}


int dia_add_u32(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint32_t v)
{
	uint8_t b[4];

	dia_wr32(b, v);
	return add(parent, code, vendor, b, sizeof(b));
}


int dia_add_i32(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int32_t v)
{
	/* RFC 6733 4.2: two's complement, network order */
	return dia_add_u32(parent, code, vendor, (uint32_t)v);
}


int dia_add_u64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint64_t v)
{
	uint8_t b[8];

	dia_wr32(b, (uint32_t)(v >> 32));
	dia_wr32(b + 4, (uint32_t)v);
	return add(parent, code, vendor, b, sizeof(b));
}


int dia_add_i64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int64_t v)
{
	return dia_add_u64(parent, code, vendor, (uint64_t)v);
}


int dia_add_f32(struct dia_avp *parent, uint32_t code, uint32_t vendor, float v)
{
	uint32_t u;

	/* RFC 6733 4.2 Float32: IEEE 754-1985 single, network order */
	memcpy(&u, &v, sizeof(u));
	return dia_add_u32(parent, code, vendor, u);
}


int dia_add_f64(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return dia_add_u64(parent, code, vendor, u);
}


/**
 * Add a Time AVP (RFC 6733 4.3.1): NTP seconds, with the RFC 4330 3 rule
 * that values with the top bit clear are in the era starting 2036, so the
 * 32 bits reach 2104.
 *
 * @return 0, or ERANGE past 2104-02-26
 */
int dia_add_time(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		 uint64_t unix_secs)
{
	uint64_t ntp = unix_secs + NTP_UNIX_OFFSET;

	if (unix_secs > NTP_ERA_SECS * 2)
		return ERANGE;
	if (ntp >= NTP_ERA_SECS) {
		ntp -= NTP_ERA_SECS;
		if (ntp >= 0x80000000ull)
			return ERANGE;
	}
	return dia_add_u32(parent, code, vendor, (uint32_t)ntp);
}


int dia_add_addr(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		 uint16_t family, const void *addr, size_t len)
{
	struct dia_avp *avp;
	uint8_t *v;
	int err;

	if ((family == DIA_ADDR_IPV4 && len != 4) ||
	    (family == DIA_ADDR_IPV6 && len != 16) || (!addr && len))
		return EINVAL;
	if (!parent || !parent->grouped)
		return EINVAL;
	avp = avp_new(code, vendor, default_flags(code, vendor), NULL, 2 + len);
	if (!avp)
		return ENOMEM;
	/* RFC 6733 4.3.1: two octets of address family, then the address */
	v = (uint8_t *)(avp + 1);
	v[0] = (uint8_t)(family >> 8);
	v[1] = (uint8_t)family;
	if (len)
		memcpy(v + 2, addr, len);
	err = dia_avp_append(parent, avp);
	if (err)
		mem_deref(avp);
	return err;
}


int dia_add_sa(struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       const struct sa *sa)
{
	if (!sa)
		return EINVAL;
	switch (sa_af(sa)) {

	case AF_INET:
		return dia_add_addr(parent, code, vendor, DIA_ADDR_IPV4,
				    &sa->u.in.sin_addr, 4);
	case AF_INET6:
		return dia_add_addr(parent, code, vendor, DIA_ADDR_IPV6,
				    &sa->u.in6.sin6_addr, 16);
	default:
		return EAFNOSUPPORT;
	}
}


/**
 * Add an empty Grouped AVP; members go into *grpp.
 *
 * @param grpp  the new AVP (owned by parent), or NULL
 */
int dia_add_group(struct dia_avp *parent, uint32_t code, uint32_t vendor,
		  struct dia_avp **grpp)
{
	struct dia_avp *avp;
	int err;

	if (!parent || !parent->grouped)
		return EINVAL;
	avp = avp_new(code, vendor, default_flags(code, vendor), NULL, 0);
	if (!avp)
		return ENOMEM;
	avp->grouped = true;
	err = dia_avp_append(parent, avp);
	if (err) {
		mem_deref(avp);
		return err;
	}
	if (grpp)
		*grpp = avp;
	return 0;
}


static int copy(struct dia_avp *parent, const struct dia_avp *src,
		unsigned depth)
{
	const struct dia_avp *m;
	struct dia_avp *avp;
	int err;

	if (depth > DIA_DEPTH_MAX)
		return EINVAL;
	avp = avp_new(src->code, src->vendor, src->flags,
		      src->grouped ? NULL : src->val.p,
		      src->grouped ? 0 : src->val.l);
	if (!avp)
		return ENOMEM;
	avp->grouped = src->grouped;
	err = dia_avp_append(parent, avp);
	if (err) {
		mem_deref(avp);
		return err;
	}
	for (m = dia_avp_first(src); m; m = dia_avp_sibling(m)) {
		err = copy(avp, m, depth + 1);
		if (err)
			return err; /* avp stays in parent; its owner frees */
	}
	return 0;
}


/**
 * Append a deep copy of src (flags, vendor, value or members) to parent.
 * On an error a partial copy may stay in parent.
 */
int dia_add_copy(struct dia_avp *parent, const struct dia_avp *src)
{
	if (!parent || !src || !parent->grouped)
		return EINVAL;
	return copy(parent, src, 0);
}


size_t dia_avp_wire_len(const struct dia_avp *avp)
{
	size_t len = (avp->flags & DIA_AVP_FLAG_V) ? DIA_AVP_HDR_VLEN
						   : DIA_AVP_HDR_LEN;
	const struct dia_avp *m;

	if (!avp->grouped)
		return dia_pad4(len + avp->val.l);
	for (m = dia_avp_first(avp); m; m = dia_avp_sibling(m))
		len += dia_avp_wire_len(m);
	return dia_pad4(len);
}


const struct dia_avp *dia_avp_first(const struct dia_avp *parent)
{
	if (!parent || !parent->avps.head)
		return NULL;
	return parent->avps.head->data;
}


const struct dia_avp *dia_avp_sibling(const struct dia_avp *avp)
{
	if (!avp || !avp->le.next)
		return NULL;
	return avp->le.next->data;
}


static const struct dia_avp *match_from(const struct le *le, uint32_t code,
					uint32_t vendor)
{
	for (; le; le = le->next) {
		const struct dia_avp *avp = le->data;

		if (avp->code == code && avp->vendor == vendor)
			return avp;
	}
	return NULL;
}


const struct dia_avp *dia_avp_find(const struct dia_avp *parent, uint32_t code,
				   uint32_t vendor)
{
	if (!parent)
		return NULL;
	return match_from(parent->avps.head, code, vendor);
}


const struct dia_avp *dia_avp_next(const struct dia_avp *avp)
{
	if (!avp)
		return NULL;
	return match_from(avp->le.next, avp->code, avp->vendor);
}


unsigned dia_avp_count(const struct dia_avp *parent, uint32_t code,
		       uint32_t vendor)
{
	const struct dia_avp *avp;
	unsigned n = 0;

	for (avp = dia_avp_find(parent, code, vendor); avp;
	     avp = dia_avp_next(avp))
		++n;
	return n;
}


static int fixed(const struct dia_avp *avp, size_t len, const uint8_t **pp)
{
	if (!avp || avp->grouped || avp->val.l != len)
		return EBADMSG;
	*pp = (const uint8_t *)avp->val.p;
	return 0;
}


int dia_avp_u32(const struct dia_avp *avp, uint32_t *v)
{
	const uint8_t *p;
	int err = fixed(avp, 4, &p);

	if (!err)
		*v = dia_rd32(p);
	return err;
}


int dia_avp_i32(const struct dia_avp *avp, int32_t *v)
{
	uint32_t u;
	int err = dia_avp_u32(avp, &u);

	if (!err)
		*v = (int32_t)u;
	return err;
}


int dia_avp_u64(const struct dia_avp *avp, uint64_t *v)
{
	const uint8_t *p;
	int err = fixed(avp, 8, &p);

	if (!err)
		*v = (uint64_t)dia_rd32(p) << 32 | dia_rd32(p + 4);
	return err;
}


int dia_avp_i64(const struct dia_avp *avp, int64_t *v)
{
	uint64_t u;
	int err = dia_avp_u64(avp, &u);

	if (!err)
		*v = (int64_t)u;
	return err;
}


int dia_avp_f32(const struct dia_avp *avp, float *v)
{
	uint32_t u;
	int err = dia_avp_u32(avp, &u);

	if (!err)
		memcpy(v, &u, sizeof(*v));
	return err;
}


int dia_avp_f64(const struct dia_avp *avp, double *v)
{
	uint64_t u;
	int err = dia_avp_u64(avp, &u);

	if (!err)
		memcpy(v, &u, sizeof(*v));
	return err;
}


/**
 * Read a Time AVP as Unix seconds (RFC 4330 3 era rule: top bit clear
 * means the era from 2036-02-07).
 *
 * @return 0, EBADMSG (not 4 octets) or ERANGE (before 1970)
 */
int dia_avp_time(const struct dia_avp *avp, uint64_t *unix_secs)
{
	uint32_t ntp;
	int err = dia_avp_u32(avp, &ntp);

	if (err)
		return err;
	if (ntp & 0x80000000u) {
		if (ntp < NTP_UNIX_OFFSET)
			return ERANGE;
		*unix_secs = ntp - NTP_UNIX_OFFSET;
	} else {
		*unix_secs = ntp + NTP_ERA_SECS - NTP_UNIX_OFFSET;
	}
	return 0;
}


int dia_avp_addr(const struct dia_avp *avp, uint16_t *family, struct pl *addr)
{
	const uint8_t *p;
	uint16_t fam;

	if (!avp || avp->grouped || avp->val.l < 2)
		return EBADMSG;
	p = (const uint8_t *)avp->val.p;
	fam = (uint16_t)(p[0] << 8 | p[1]);
	if ((fam == DIA_ADDR_IPV4 && avp->val.l != 2 + 4) ||
	    (fam == DIA_ADDR_IPV6 && avp->val.l != 2 + 16))
		return EBADMSG;
	*family = fam;
	pl_set(addr, avp->val.p + 2, avp->val.l - 2);
	return 0;
}


int dia_avp_sa(const struct dia_avp *avp, struct sa *sa)
{
	struct pl a;
	uint16_t fam;
	int err = dia_avp_addr(avp, &fam, &a);

	if (err)
		return err;
	if (fam == DIA_ADDR_IPV4) {
		sa_init(sa, AF_INET);
		memcpy(&sa->u.in.sin_addr, a.p, 4);
	} else if (fam == DIA_ADDR_IPV6) {
		sa_init(sa, AF_INET6);
		memcpy(&sa->u.in6.sin6_addr, a.p, 16);
	} else {
		return EAFNOSUPPORT;
	}
	return 0;
}


int dia_get_u32(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint32_t *v)
{
	const struct dia_avp *avp = dia_avp_find(parent, code, vendor);

	return avp ? dia_avp_u32(avp, v) : ENOENT;
}


int dia_get_i32(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		int32_t *v)
{
	const struct dia_avp *avp = dia_avp_find(parent, code, vendor);

	return avp ? dia_avp_i32(avp, v) : ENOENT;
}


int dia_get_u64(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
		uint64_t *v)
{
	const struct dia_avp *avp = dia_avp_find(parent, code, vendor);

	return avp ? dia_avp_u64(avp, v) : ENOENT;
}


/**
 * The value of the first such AVP as a view (octets of any non-Grouped
 * type).  EBADMSG for a Grouped AVP with members.
 */
int dia_get_pl(const struct dia_avp *parent, uint32_t code, uint32_t vendor,
	       struct pl *pl)
{
	const struct dia_avp *avp = dia_avp_find(parent, code, vendor);

	if (!avp)
		return ENOENT;
	if (avp->grouped)
		return EBADMSG;
	*pl = avp->val;
	return 0;
}
