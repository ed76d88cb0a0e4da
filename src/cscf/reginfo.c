/**
 * @file reginfo.c  application/reginfo+xml (RFC 3680 section 5, RFC 5628
 *                  section 5): model, encoder, decoder.
 *
 * Model: like diameter/userdata.c, one reginfo owns plain arrays grown one
 * element at a time with mem_realloc and mem_strdup strings; its
 * destructor walks the tree.
 *
 * Encoding uses libxml2's xmlTextWriter (every attribute and text node
 * escaped) in the element order of the RFC 3680 5.3 schema, which the
 * unit tests validate against (tests/data/sip/reginfo.xsd): <reginfo
 * version state> holds <registration aor id state> elements, each holding
 * <contact state event [duration-registered] [expires] [retry-after] id
 * [q] [callid] [cseq]> with <uri>, [<display-name>], <unknown-param
 * name>*, then the RFC 5628 <gr:pub-gruu uri> and <gr:temp-gruu uri
 * first-cseq> in the xs:any slot.  Strings are checked first: control
 * characters or invalid UTF-8 cannot be carried by XML 1.0, so they are
 * EINVAL rather than a broken NOTIFY.
 *
 * Decoding parses into a libxml2 tree and walks it.  Elements must be in
 * the reginfo namespace (RFC 3680 5.3: elementFormDefault qualified);
 * elements of other namespaces are the schema's xs:any extension points
 * and are skipped, except the two GRUU elements.  What a subscriber acts
 * on is strict: a missing or invalid version, state, aor, id, event or
 * uri is EBADMSG with a sentence naming it, and so is an enumeration value
 * outside the schema.  The counts are capped (REGINFO_REG_MAX, ...).
 *
 * Untrusted input goes through xmlu_parse() (core/xml.c), as User-Data
 * does: no network, no entity substitution, no DTD loading, and a
 * document with a DOCTYPE at all is refused when the parser sees it, so
 * no entity is ever declared; the size is capped at REGINFO_MAX.
 */
#include "cscf/reginfo.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/xml.h"

/* ---- model ------------------------------------------------------------ */

static void contact_release(struct reginfo_contact *ct)
{
	for (size_t i = 0; i < ct->param_n; i++) {
		mem_deref(ct->param[i].name);
		mem_deref(ct->param[i].value);
	}
	mem_deref(ct->param);
	mem_deref(ct->id);
	mem_deref(ct->uri);
	mem_deref(ct->display_name);
	mem_deref(ct->callid);
	mem_deref(ct->pub_gruu);
	mem_deref(ct->temp_gruu);
	memset(ct, 0, sizeof(*ct));
}


static void reg_release(struct reginfo_reg *reg)
{
	for (size_t i = 0; i < reg->ct_n; i++)
		contact_release(&reg->ct[i]);
	mem_deref(reg->ct);
	mem_deref(reg->aor);
	mem_deref(reg->id);
	memset(reg, 0, sizeof(*reg));
}


static void destructor(void *data)
{
	struct reginfo *ri = data;

	for (size_t i = 0; i < ri->reg_n; i++)
		reg_release(&ri->reg[i]);
	mem_deref(ri->reg);
}


/* One more zeroed element at the end of arr (n elements of elsz bytes);
 * the new array, or NULL with arr untouched. */
static void *grow(void *arr, size_t n, size_t elsz)
{
	uint8_t *p;

	if (n >= SIZE_MAX / elsz - 1)
		return NULL;
	p = mem_realloc(arr, (n + 1) * elsz);
	if (!p)
		return NULL;
	memset(p + n * elsz, 0, elsz);
	return p;
}


static char *dup(const char *s)
{
	return s ? mem_strdup(s, strlen(s)) : NULL;
}


/**
 * Allocate an empty document.
 *
 * @param version  the version attribute (RFC 3680 5.2)
 * @param state    full or partial
 * @return the document (mem_deref it), or NULL when out of memory
 */
struct reginfo *reginfo_alloc(uint32_t version, enum reginfo_doc_state state)
{
	struct reginfo *ri = mem_zalloc(sizeof(*ri), destructor);

	if (!ri)
		return NULL;
	ri->version = version;
	ri->state = state;
	return ri;
}


/**
 * Append a registration element.
 *
 * @param aor    the address-of-record, copied
 * @param id     its id attribute, copied
 * @return the registration, valid until the next add on ri, or NULL
 */
struct reginfo_reg *reginfo_reg_add(struct reginfo *ri, const char *aor,
				    const char *id,
				    enum reginfo_reg_state state)
{
	struct reginfo_reg *arr, *reg;
	char *a, *i;

	if (!ri || !aor || !id)
		return NULL;
	a = dup(aor);
	i = dup(id);
	arr = (a && i) ? grow(ri->reg, ri->reg_n, sizeof(*ri->reg)) : NULL;
	if (!arr) {
		mem_deref(a);
		mem_deref(i);
		return NULL;
	}
	ri->reg = arr;
	reg = &ri->reg[ri->reg_n++];
	reg->aor = a;
	reg->id = i;
	reg->state = state;
	return reg;
}


/**
 * Append a contact element to a registration.
 *
 * @param id     its id attribute, copied
 * @param uri    the contact URI, copied
 * @return the contact, valid until the next add on reg, or NULL
 */
struct reginfo_contact *reginfo_contact_add(struct reginfo_reg *reg,
					    const char *id, const char *uri,
					    enum reginfo_ct_state state,
					    enum reginfo_event event)
{
	struct reginfo_contact *arr, *ct;
	char *i, *u;

	if (!reg || !id || !uri)
		return NULL;
	i = dup(id);
	u = dup(uri);
	arr = (i && u) ? grow(reg->ct, reg->ct_n, sizeof(*reg->ct)) : NULL;
	if (!arr) {
		mem_deref(i);
		mem_deref(u);
		return NULL;
	}
	reg->ct = arr;
	ct = &reg->ct[reg->ct_n++];
	ct->id = i;
	ct->uri = u;
	ct->state = state;
	ct->event = event;
	return ct;
}


/**
 * Append an unknown-param to a contact.
 *
 * @param name   the parameter name, copied
 * @param value  its value, copied; NULL for a parameter without value
 * @return the parameter, or NULL when out of memory
 */
struct reginfo_param *reginfo_param_add(struct reginfo_contact *ct,
					const char *name, const char *value)
{
	struct reginfo_param *arr, *p;
	char *n, *v = NULL;

	if (!ct || !name)
		return NULL;
	n = dup(name);
	if (value)
		v = dup(value);
	arr = (n && (v || !value))
		      ? grow(ct->param, ct->param_n, sizeof(*ct->param))
		      : NULL;
	if (!arr) {
		mem_deref(n);
		mem_deref(v);
		return NULL;
	}
	ct->param = arr;
	p = &ct->param[ct->param_n++];
	p->name = n;
	p->value = v;
	return p;
}


/**
 * Replace an optional string member with a copy of s.
 *
 * @param member  e.g. &ct->callid
 * @param s       the new value, NULL to clear
 * @return 0 or ENOMEM (the member is then unchanged)
 */
int reginfo_str_set(char **member, const char *s)
{
	char *c = NULL;

	if (!member)
		return EINVAL;
	if (s) {
		c = dup(s);
		if (!c)
			return ENOMEM;
	}
	mem_deref(*member);
	*member = c;
	return 0;
}


/**
 * Append a deep copy of a contact (from another document).
 *
 * @return the copy, valid until the next add on dst, or NULL (ENOMEM;
 *         dst is then left as it was)
 */
struct reginfo_contact *reginfo_contact_copy(struct reginfo_reg *dst,
					     const struct reginfo_contact *s)
{
	struct reginfo_contact *ct;
	int err = 0;

	if (!dst || !s)
		return NULL;
	ct = reginfo_contact_add(dst, s->id, s->uri, s->state, s->event);
	if (!ct)
		return NULL;
	ct->has_expires = s->has_expires;
	ct->expires = s->expires;
	ct->has_duration = s->has_duration;
	ct->duration = s->duration;
	ct->has_retry_after = s->has_retry_after;
	ct->retry_after = s->retry_after;
	ct->has_q = s->has_q;
	ct->q = s->q;
	ct->has_cseq = s->has_cseq;
	ct->cseq = s->cseq;
	ct->temp_gruu_cseq = s->temp_gruu_cseq;
	err |= reginfo_str_set(&ct->display_name, s->display_name);
	err |= reginfo_str_set(&ct->callid, s->callid);
	err |= reginfo_str_set(&ct->pub_gruu, s->pub_gruu);
	err |= reginfo_str_set(&ct->temp_gruu, s->temp_gruu);
	for (size_t i = 0; !err && i < s->param_n; i++) {
		if (!reginfo_param_add(ct, s->param[i].name, s->param[i].value))
			err = ENOMEM;
	}
	if (err) {
		reginfo_contact_remove(dst, dst->ct_n - 1);
		return NULL;
	}
	return ct;
}


/**
 * Append a deep copy of a registration (from another document).
 *
 * @param active_only  leave the terminated contacts out
 * @return the copy, valid until the next add on ri, or NULL (ENOMEM; ri
 *         is then left without the partial copy)
 */
struct reginfo_reg *reginfo_reg_copy(struct reginfo *ri,
				     const struct reginfo_reg *src,
				     bool active_only)
{
	struct reginfo_reg *reg;

	if (!ri || !src)
		return NULL;
	reg = reginfo_reg_add(ri, src->aor, src->id, src->state);
	if (!reg)
		return NULL;
	for (size_t i = 0; i < src->ct_n; i++) {
		if (active_only && src->ct[i].state != REGINFO_CT_ACTIVE)
			continue;
		if (!reginfo_contact_copy(reg, &src->ct[i])) {
			reginfo_reg_remove(ri, ri->reg_n - 1);
			return NULL;
		}
	}
	return reg;
}


/**
 * Remove registration i from a document (the later ones move down).
 */
void reginfo_reg_remove(struct reginfo *ri, size_t i)
{
	if (!ri || i >= ri->reg_n)
		return;
	reg_release(&ri->reg[i]);
	memmove(&ri->reg[i], &ri->reg[i + 1],
		(ri->reg_n - i - 1) * sizeof(*ri->reg));
	ri->reg_n--;
}


/**
 * Remove contact i from a registration (the later ones move down).
 */
void reginfo_contact_remove(struct reginfo_reg *reg, size_t i)
{
	if (!reg || i >= reg->ct_n)
		return;
	contact_release(&reg->ct[i]);
	memmove(&reg->ct[i], &reg->ct[i + 1],
		(reg->ct_n - i - 1) * sizeof(*reg->ct));
	reg->ct_n--;
}


/* ---- packed form ------------------------------------------------------ */

/*
 * What a notifier or a subscriber keeps between two documents is read
 * whole when the next document is built, never field by field, so it is
 * kept as a byte string rather than as the tree: a contact of the tree
 * costs a 150-byte struct and a heap block per string, its packed form
 * the strings and a few bytes.  Layout of a registration (all numbers
 * LEB128, strings NUL-terminated):
 *
 *   state [aor id] ct_n contact*
 *   contact: state event flags
 *            [expires] [duration] [retry-after] [q] [cseq]
 *            id uri [display-name] [callid] [pub-gruu]
 *            [temp-gruu first-cseq] [param_n param*]
 *   param:   name-code [name] has-value [value]
 *
 * Parameter names that every IMS contact carries (+sip.instance, the
 * 3GPP feature tags) are a one-byte code of pk_names; others are written
 * out after code 0.
 */

enum {
	PK_EXPIRES = 1 << 0,
	PK_DURATION = 1 << 1,
	PK_RETRY = 1 << 2,
	PK_Q = 1 << 3,
	PK_CSEQ = 1 << 4,
	PK_DISPLAY = 1 << 5,
	PK_CALLID = 1 << 6,
	PK_MORE = 1 << 7, /* GRUUs or params follow */
};

static const char *const pk_names[] = {
	NULL, /* 0: the name follows */
	"+sip.instance",
	"reg-id",
	"+g.3gpp.icsi-ref",
	"+g.3gpp.iari-ref",
	"+g.3gpp.smsip",
	"+sip.methods",
	"audio",
	"video",
	"expires",
	"q",
};

struct pkw {
	uint8_t *p;
	size_t size;
	size_t n; /* bytes needed so far (may exceed size) */
};


static void pk_byte(struct pkw *w, uint8_t b)
{
	if (w->n < w->size)
		w->p[w->n] = b;
	w->n++;
}


static void pk_num(struct pkw *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		pk_byte(w, (uint8_t)(b | (v ? 0x80 : 0)));
	} while (v);
}


static void pk_str(struct pkw *w, const char *s)
{
	size_t l = strlen(s) + 1;

	if (w->n < w->size)
		memcpy(w->p + w->n, s,
		       w->n + l <= w->size ? l : w->size - w->n);
	w->n += l;
}


static uint8_t pk_name_code(const char *name)
{
	for (uint8_t i = 1; i < sizeof(pk_names) / sizeof(pk_names[0]); i++)
		if (strcmp(pk_names[i], name) == 0)
			return i;
	return 0;
}


static void pk_contact(struct pkw *w, const struct reginfo_contact *ct,
		       unsigned flags)
{
	bool slim = flags & REGINFO_PACK_SLIM;
	uint8_t f = 0;

	if (ct->has_expires)
		f |= PK_EXPIRES;
	if (!slim) {
		f |= ct->has_duration ? PK_DURATION : 0;
		f |= ct->has_retry_after ? PK_RETRY : 0;
		f |= ct->has_q ? PK_Q : 0;
		f |= ct->has_cseq ? PK_CSEQ : 0;
		f |= ct->display_name ? PK_DISPLAY : 0;
		f |= ct->callid ? PK_CALLID : 0;
		f |= (ct->pub_gruu || ct->temp_gruu || ct->param_n) ? PK_MORE
								    : 0;
	}
	pk_byte(w, (uint8_t)ct->state);
	pk_byte(w, (uint8_t)ct->event);
	pk_byte(w, f);
	if (f & PK_EXPIRES)
		pk_num(w, ct->expires);
	if (f & PK_DURATION)
		pk_num(w, ct->duration);
	if (f & PK_RETRY)
		pk_num(w, ct->retry_after);
	if (f & PK_Q)
		pk_num(w, ct->q);
	if (f & PK_CSEQ)
		pk_num(w, ct->cseq);
	pk_str(w, ct->id);
	pk_str(w, ct->uri);
	if (f & PK_DISPLAY)
		pk_str(w, ct->display_name);
	if (f & PK_CALLID)
		pk_str(w, ct->callid);
	if (!(f & PK_MORE))
		return;
	pk_byte(w, (uint8_t)((ct->pub_gruu ? 1 : 0) | (ct->temp_gruu ? 2 : 0)));
	if (ct->pub_gruu)
		pk_str(w, ct->pub_gruu);
	if (ct->temp_gruu) {
		pk_str(w, ct->temp_gruu);
		pk_num(w, ct->temp_gruu_cseq);
	}
	pk_num(w, ct->param_n);
	for (size_t i = 0; i < ct->param_n; i++) {
		uint8_t code = pk_name_code(ct->param[i].name);

		pk_byte(w, code);
		if (!code)
			pk_str(w, ct->param[i].name);
		pk_byte(w, ct->param[i].value ? 1 : 0);
		if (ct->param[i].value)
			pk_str(w, ct->param[i].value);
	}
}


static void pk_reg(struct pkw *w, const struct reginfo_reg *reg, unsigned flags)
{
	size_t n = 0;

	pk_byte(w, (uint8_t)reg->state);
	if (!(flags & REGINFO_PACK_NOKEY)) {
		pk_str(w, reg->aor);
		pk_str(w, reg->id);
	}
	for (size_t i = 0; i < reg->ct_n; i++)
		n += !(flags & REGINFO_PACK_ACTIVE) ||
		     reg->ct[i].state == REGINFO_CT_ACTIVE;
	pk_num(w, n);
	for (size_t i = 0; i < reg->ct_n; i++)
		if (!(flags & REGINFO_PACK_ACTIVE) ||
		    reg->ct[i].state == REGINFO_CT_ACTIVE)
			pk_contact(w, &reg->ct[i], flags);
}


/**
 * Pack one registration.
 *
 * @param dst    where the bytes go (may be NULL with size 0)
 * @param size   its size
 * @param reg    the registration
 * @param flags  REGINFO_PACK_*
 * @return the bytes needed; only when not above size were they written
 */
size_t reginfo_reg_pack(uint8_t *dst, size_t size,
			const struct reginfo_reg *reg, unsigned flags)
{
	struct pkw w = { dst, dst ? size : 0, 0 };

	if (!reg)
		return 0;
	pk_reg(&w, reg, flags);
	return w.n;
}


/**
 * Pack every registration of a document (not its version and state).
 *
 * @return the bytes needed; only when not above size were they written
 */
size_t reginfo_pack(uint8_t *dst, size_t size, const struct reginfo *ri,
		    unsigned flags)
{
	struct pkw w = { dst, dst ? size : 0, 0 };

	if (!ri)
		return 0;
	pk_num(&w, ri->reg_n);
	for (size_t i = 0; i < ri->reg_n; i++)
		pk_reg(&w, &ri->reg[i], flags & ~(unsigned)REGINFO_PACK_NOKEY);
	return w.n;
}


struct pkr {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};


static uint8_t rd_byte(struct pkr *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}


static uint64_t rd_num(struct pkr *r)
{
	uint64_t v = 0;

	for (unsigned sh = 0; sh < 64; sh += 7) {
		uint8_t b = rd_byte(r);

		v |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}


static const char *rd_str(struct pkr *r)
{
	const uint8_t *nul;
	const char *s;

	if (r->bad || r->p >= r->end)
		goto bad;
	nul = memchr(r->p, '\0', (size_t)(r->end - r->p));
	if (!nul)
		goto bad;
	s = (const char *)r->p;
	r->p = nul + 1;
	return s;
bad:
	r->bad = true;
	return NULL;
}


static int rd_contact(struct pkr *r, struct reginfo_reg *reg)
{
	struct reginfo_contact *ct;
	uint8_t st, ev, f, more = 0;
	uint64_t expires = 0, duration = 0, retry = 0, q = 0, cseq = 0;
	const char *id, *uri, *disp = NULL, *callid = NULL;
	int err = 0;

	st = rd_byte(r);
	ev = rd_byte(r);
	f = rd_byte(r);
	if (f & PK_EXPIRES)
		expires = rd_num(r);
	if (f & PK_DURATION)
		duration = rd_num(r);
	if (f & PK_RETRY)
		retry = rd_num(r);
	if (f & PK_Q)
		q = rd_num(r);
	if (f & PK_CSEQ)
		cseq = rd_num(r);
	id = rd_str(r);
	uri = rd_str(r);
	if (f & PK_DISPLAY)
		disp = rd_str(r);
	if (f & PK_CALLID)
		callid = rd_str(r);
	if (r->bad || st > REGINFO_CT_TERMINATED || ev >= REGINFO_EV_NUM ||
	    q > 1000)
		return EBADMSG;
	ct = reginfo_contact_add(reg, id, uri, (enum reginfo_ct_state)st,
				 (enum reginfo_event)ev);
	if (!ct)
		return ENOMEM;
	ct->has_expires = f & PK_EXPIRES;
	ct->expires = expires;
	ct->has_duration = f & PK_DURATION;
	ct->duration = duration;
	ct->has_retry_after = f & PK_RETRY;
	ct->retry_after = retry;
	ct->has_q = f & PK_Q;
	ct->q = (uint16_t)q;
	ct->has_cseq = f & PK_CSEQ;
	ct->cseq = cseq;
	err |= reginfo_str_set(&ct->display_name, disp);
	err |= reginfo_str_set(&ct->callid, callid);
	if (err)
		return ENOMEM;
	if (f & PK_MORE)
		more = rd_byte(r);
	if ((f & PK_MORE) && (more & 1))
		err |= reginfo_str_set(&ct->pub_gruu, rd_str(r));
	if ((f & PK_MORE) && (more & 2)) {
		err |= reginfo_str_set(&ct->temp_gruu, rd_str(r));
		ct->temp_gruu_cseq = rd_num(r);
	}
	if (err)
		return ENOMEM;
	if (!(f & PK_MORE))
		return r->bad ? EBADMSG : 0;
	for (uint64_t i = 0, n = rd_num(r); !r->bad && i < n; i++) {
		uint8_t code = rd_byte(r);
		const char *name, *value = NULL;

		if (code >= sizeof(pk_names) / sizeof(pk_names[0]))
			return EBADMSG;
		name = code ? pk_names[code] : rd_str(r);
		if (rd_byte(r))
			value = rd_str(r);
		if (r->bad)
			break;
		if (!reginfo_param_add(ct, name, value))
			return ENOMEM;
	}
	return r->bad ? EBADMSG : 0;
}


static int rd_reg(struct pkr *r, struct reginfo *ri, const char *aor,
		  const char *id)
{
	struct reginfo_reg *reg;
	uint8_t st = rd_byte(r);
	uint64_t n;
	int err = 0;

	if (!aor) {
		aor = rd_str(r);
		id = rd_str(r);
	}
	n = rd_num(r);
	if (r->bad || st > REGINFO_REG_TERMINATED || !aor || !id ||
	    n > REGINFO_CT_MAX)
		return EBADMSG;
	reg = reginfo_reg_add(ri, aor, id, (enum reginfo_reg_state)st);
	if (!reg)
		return ENOMEM;
	for (uint64_t i = 0; !err && i < n; i++)
		err = rd_contact(r, reg);
	return err;
}


/**
 * Append a packed registration to a document.
 *
 * @param aor, id  the registration's, when it was packed with
 *                 REGINFO_PACK_NOKEY; else NULL
 * @return 0, ENOMEM, EBADMSG (not what reginfo_reg_pack wrote); on error
 *         ri is left as it was
 */
int reginfo_reg_unpack(struct reginfo *ri, const uint8_t *p, size_t len,
		       const char *aor, const char *id)
{
	struct pkr r;
	size_t n0;
	int err;

	if (!ri || !p || (aor && !id))
		return EINVAL;
	r = (struct pkr){ p, p + len, false };
	n0 = ri->reg_n;
	err = rd_reg(&r, ri, aor, id);
	if (!err && r.p != r.end)
		err = EBADMSG;
	while (err && ri->reg_n > n0)
		reginfo_reg_remove(ri, ri->reg_n - 1);
	return err;
}


/**
 * Append every registration of a reginfo_pack() string to a document.
 *
 * @return 0, ENOMEM, EBADMSG; on error ri is left as it was
 */
int reginfo_unpack(struct reginfo *ri, const uint8_t *p, size_t len)
{
	struct pkr r;
	size_t n0;
	uint64_t n;
	int err = 0;

	if (!ri || (!p && len))
		return EINVAL;
	if (!len)
		return 0; /* p may be NULL: no p + len (C11 6.5.6) */
	r = (struct pkr){ p, p + len, false };
	n0 = ri->reg_n;
	n = rd_num(&r);
	if (r.bad || n > REGINFO_REG_MAX)
		err = EBADMSG;
	for (uint64_t i = 0; !err && i < n; i++)
		err = rd_reg(&r, ri, NULL, NULL);
	if (!err && r.p != r.end)
		err = EBADMSG;
	while (err && ri->reg_n > n0)
		reginfo_reg_remove(ri, ri->reg_n - 1);
	return err;
}


/* ---- enumerations ----------------------------------------------------- */

static const char *const reg_states[] = { "init", "active", "terminated" };
static const char *const ct_states[] = { "active", "terminated" };
static const char *const events[REGINFO_EV_NUM] = {
	"registered",  "created",   "refreshed",    "shortened", "expired",
	"deactivated", "probation", "unregistered", "rejected",
};


const char *reginfo_reg_state_str(enum reginfo_reg_state s)
{
	return (unsigned)s < 3 ? reg_states[s] : "?";
}


const char *reginfo_ct_state_str(enum reginfo_ct_state s)
{
	return (unsigned)s < 2 ? ct_states[s] : "?";
}


const char *reginfo_event_str(enum reginfo_event ev)
{
	return (unsigned)ev < REGINFO_EV_NUM ? events[ev] : "?";
}


/* ---- encoder ---------------------------------------------------------- */

/* A qvalue (RFC 3261 25.1) for q in 0..1000: "1.0", "0.5", "0.125". */
static void q_print(char *out, size_t size, uint16_t q)
{
	unsigned frac = q % 1000u;
	size_t n;

	if (q >= 1000) {
		(void)snprintf(out, size, "1.0");
		return;
	}
	(void)snprintf(out, size, "0.%03u", frac);
	n = strlen(out);
	while (n > 3 && out[n - 1] == '0')
		out[--n] = '\0';
}


/* The attributes of <contact>, in the schema's order. */
static int enc_contact_attrs(xmlTextWriterPtr w,
			     const struct reginfo_contact *ct)
{
	char q[8];
	int err;

	err = xmlu_attr(w, "state", ct_states[ct->state]);
	if (!err)
		err = xmlu_attr(w, "event", events[ct->event]);
	if (!err && ct->has_duration)
		err = xmlu_attr_u64(w, "duration-registered", ct->duration);
	if (!err && ct->has_expires)
		err = xmlu_attr_u64(w, "expires", ct->expires);
	if (!err && ct->has_retry_after)
		err = xmlu_attr_u64(w, "retry-after", ct->retry_after);
	if (!err)
		err = xmlu_attr(w, "id", ct->id);
	if (!err && ct->has_q) {
		q_print(q, sizeof(q), ct->q);
		err = xmlu_attr(w, "q", q);
	}
	if (!err && ct->callid)
		err = xmlu_attr(w, "callid", ct->callid);
	if (!err && ct->has_cseq)
		err = xmlu_attr_u64(w, "cseq", ct->cseq);
	return err;
}


static int enc_param(xmlTextWriterPtr w, const struct reginfo_param *p)
{
	int err;

	if (!p->name || !*p->name || (p->value && !xmlu_text_ok(p->value)))
		return EINVAL;
	err = xmlu_start(w, "unknown-param");
	if (!err)
		err = xmlu_attr(w, "name", p->name);
	if (!err && p->value && *p->value)
		err = xmlu_text(w, p->value);
	if (!err)
		err = xmlu_end(w);
	return err;
}


/* RFC 5628 5: the GRUU elements sit in the xs:any slot of <contact>; the
 * prefix gr is declared on the root. */
static int enc_gruu(xmlTextWriterPtr w, const struct reginfo_contact *ct)
{
	int err = 0;

	if (ct->pub_gruu) {
		err = xmlu_start(w, "gr:pub-gruu");
		if (!err)
			err = xmlu_attr(w, "uri", ct->pub_gruu);
		if (!err)
			err = xmlu_end(w);
	}
	if (!err && ct->temp_gruu) {
		err = xmlu_start(w, "gr:temp-gruu");
		if (!err)
			err = xmlu_attr(w, "uri", ct->temp_gruu);
		if (!err)
			err = xmlu_attr_u64(w, "first-cseq",
					    ct->temp_gruu_cseq);
		if (!err)
			err = xmlu_end(w);
	}
	return err;
}


static int enc_contact(xmlTextWriterPtr w, const struct reginfo_contact *ct)
{
	int err;

	if ((unsigned)ct->state > REGINFO_CT_TERMINATED ||
	    (unsigned)ct->event >= REGINFO_EV_NUM || !ct->id || !ct->uri ||
	    (ct->has_q && ct->q > 1000))
		return EINVAL;
	err = xmlu_start(w, "contact");
	if (!err)
		err = enc_contact_attrs(w, ct);
	if (!err)
		err = xmlu_elem(w, "uri", ct->uri);
	if (!err && ct->display_name)
		err = xmlu_elem(w, "display-name", ct->display_name);
	for (size_t i = 0; !err && i < ct->param_n; i++)
		err = enc_param(w, &ct->param[i]);
	if (!err)
		err = enc_gruu(w, ct);
	if (!err)
		err = xmlu_end(w);
	return err;
}


static int enc_reg(xmlTextWriterPtr w, const struct reginfo_reg *reg)
{
	int err;

	if ((unsigned)reg->state > REGINFO_REG_TERMINATED || !reg->aor ||
	    !reg->id)
		return EINVAL;
	err = xmlu_start(w, "registration");
	if (!err)
		err = xmlu_attr(w, "aor", reg->aor);
	if (!err)
		err = xmlu_attr(w, "id", reg->id);
	if (!err)
		err = xmlu_attr(w, "state", reg_states[reg->state]);
	for (size_t i = 0; !err && i < reg->ct_n; i++)
		err = enc_contact(w, &reg->ct[i]);
	if (!err)
		err = xmlu_end(w);
	return err;
}


static bool has_gruu(const struct reginfo *ri)
{
	for (size_t i = 0; i < ri->reg_n; i++)
		for (size_t j = 0; j < ri->reg[i].ct_n; j++)
			if (ri->reg[i].ct[j].pub_gruu ||
			    ri->reg[i].ct[j].temp_gruu)
				return true;
	return false;
}


/**
 * Encode a reginfo document (RFC 3680 5.3) and append it to mb.
 *
 * @param mb  buffer the document is appended to
 * @param ri  the document
 * @return 0, EINVAL (a missing mandatory member, a value out of range, a
 *         string XML cannot carry), ENOMEM, or EMSGSIZE at mb's ceiling
 */
int reginfo_encode(struct buf *mb, const struct reginfo *ri)
{
	struct xmlu_writer *xw = NULL;
	xmlTextWriterPtr w;
	int err;

	if (!mb || !ri || (unsigned)ri->state > REGINFO_PARTIAL)
		return EINVAL;
	err = xmlu_writer_alloc(&xw);
	if (err)
		return err;
	w = xw->w;
	err = xmlu_start(w, "reginfo");
	if (!err)
		err = xmlu_attr(w, "xmlns", REGINFO_NS);
	if (!err && has_gruu(ri))
		err = xmlu_attr(w, "xmlns:gr", REGINFO_GRUU_NS);
	if (!err)
		err = xmlu_attr_u64(w, "version", ri->version);
	if (!err)
		err = xmlu_attr(w, "state",
				ri->state == REGINFO_FULL ? "full" : "partial");
	for (size_t i = 0; !err && i < ri->reg_n; i++)
		err = enc_reg(w, &ri->reg[i]);
	if (!err)
		err = xmlu_writer_finish(xw, mb);
	mem_deref(xw);
	return err;
}


/* ---- decoder ---------------------------------------------------------- */

struct dec {
	char *err;
	size_t errsz;
};

static int bad(struct dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record why the document is refused; always EBADMSG. */
static int bad(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->err && d->errsz) {
		va_start(ap, fmt);
		(void)vsnprintf(d->err, d->errsz, fmt, ap);
		va_end(ap);
	}
	return EBADMSG;
}


/* An element of namespace ns with this local name. */
static bool is_ns(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       xmlStrEqual(n->ns->href, BAD_CAST ns) &&
	       xmlStrEqual(n->name, BAD_CAST name);
}


static bool is(const xmlNode *n, const char *name)
{
	return is_ns(n, REGINFO_NS, name);
}


/* An attribute without namespace, or NULL (free with xmlFree). */
static xmlChar *attr(const xmlNode *n, const char *name)
{
	return xmlGetNoNsProp(n, BAD_CAST name);
}


/* A copy of an attribute's value; trim removes XML white space around it
 * (xs:anyURI and numbers are whitespace-collapsed by the schema). */
static int attr_str(struct dec *d, const xmlNode *n, const char *name,
		    bool required, bool trim, char **outp)
{
	xmlChar *v = attr(n, name);
	struct pl pl;
	int err = 0;

	*outp = NULL;
	if (!v) {
		if (required)
			return bad(d, "<%s> has no %s attribute",
				   (const char *)n->name, name);
		return 0;
	}
	pl.p = (const char *)v;
	pl.l = strlen(pl.p);
	if (trim)
		pl_trim(&pl); /* space, tab, CR, LF: XML's S */
	if (required && !pl.l) {
		err = bad(d, "<%s> has an empty %s attribute",
			  (const char *)n->name, name);
	} else {
		*outp = mem_strdup(pl.p, pl.l);
		if (!*outp)
			err = ENOMEM;
	}
	xmlFree(v);
	return err;
}


/* xs:unsignedLong: digits only, at most UINT64_MAX. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned dgt;

		if (*s < '0' || *s > '9')
			return false;
		dgt = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return false;
		v = v * 10 + dgt;
	}
	*out = v;
	return true;
}


static int attr_u64(struct dec *d, const xmlNode *n, const char *name,
		    bool required, bool *has, uint64_t *out)
{
	char *s = NULL;
	int err = attr_str(d, n, name, required, true, &s);

	if (err || !s)
		return err;
	if (!parse_u64(s, out))
		err = bad(d, "<%s %s=\"%.32s\"> is not an unsigned number",
			  (const char *)n->name, name, s);
	else if (has)
		*has = true;
	mem_deref(s);
	return err;
}


/* RFC 3261 25.1 qvalue: ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ),
 * scaled to 0..1000. */
static bool parse_q(const char *s, uint16_t *q)
{
	unsigned v, scale = 100;

	if (s[0] != '0' && s[0] != '1')
		return false;
	v = (unsigned)(s[0] - '0') * 1000u;
	s++;
	if (*s == '.') {
		int n = 0;

		for (s++; *s && n < 3; s++, n++) {
			if (*s < '0' || *s > '9')
				return false;
			v += (unsigned)(*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s || v > 1000)
		return false;
	*q = (uint16_t)v;
	return true;
}


/* Index of s in tab[n], or -1. */
static int lookup(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i], s) == 0)
			return (int)i;
	return -1;
}


static int attr_enum(struct dec *d, const xmlNode *n, const char *name,
		     const char *const *tab, size_t tabn, int *out)
{
	char *s = NULL;
	int err;

	*out = -1;
	err = attr_str(d, n, name, true, true, &s);
	if (err)
		return err;
	if (!s)
		return bad(d, "<%s> has no %s attribute", (const char *)n->name,
			   name);
	*out = lookup(tab, tabn, s);
	if (*out < 0)
		err = bad(d, "<%s %s=\"%.32s\"> is not a value of RFC 3680",
			  (const char *)n->name, name, s);
	mem_deref(s);
	return err;
}


/* The text of a simple-content element as a new string; trimmed of XML
 * white space when trim is set.  An element child is refused. */
static int text(struct dec *d, const xmlNode *n, bool trim, char **outp)
{
	const xmlNode *c = NULL;
	int err = xmlu_node_text(n, trim, outp, &c);

	if (err != EBADMSG)
		return err;
	if (c->type == XML_ELEMENT_NODE)
		return bad(d, "<%s> holds an element where text belongs",
			   (const char *)n->name);
	return bad(d, "<%s> holds an entity reference", (const char *)n->name);
}


static int dec_gruu(struct dec *d, const xmlNode *n, struct reginfo_contact *ct)
{
	char *uri = NULL;
	int err;

	if (is_ns(n, REGINFO_GRUU_NS, "pub-gruu")) {
		if (ct->pub_gruu)
			return bad(d, "a contact has two <pub-gruu>");
		err = attr_str(d, n, "uri", true, true, &uri);
		if (!err)
			ct->pub_gruu = uri;
		return err;
	}
	if (ct->temp_gruu)
		return bad(d, "a contact has two <temp-gruu>");
	err = attr_str(d, n, "uri", true, true, &uri);
	if (!err)
		err = attr_u64(d, n, "first-cseq", true, NULL,
			       &ct->temp_gruu_cseq);
	if (err)
		mem_deref(uri);
	else
		ct->temp_gruu = uri;
	return err;
}


static int dec_param(struct dec *d, const xmlNode *n,
		     struct reginfo_contact *ct)
{
	char *name = NULL, *val = NULL;
	int err;

	if (ct->param_n >= REGINFO_PARAM_MAX)
		return bad(d, "a contact has more than %u <unknown-param>",
			   REGINFO_PARAM_MAX);
	err = attr_str(d, n, "name", true, true, &name);
	if (!err)
		err = text(d, n, false, &val);
	if (!err && !reginfo_param_add(ct, name, (val && *val) ? val : NULL))
		err = ENOMEM;
	mem_deref(name);
	mem_deref(val);
	return err;
}


/* One child of <contact>. */
static int dec_contact_child(struct dec *d, const xmlNode *c,
			     struct reginfo_contact *ct, bool *have_uri)
{
	char *u = NULL;
	int err;

	if (c->type != XML_ELEMENT_NODE)
		return 0;
	if (is(c, "uri")) {
		if (*have_uri)
			return bad(d, "contact %s has two <uri>", ct->id);
		err = text(d, c, true, &u);
		if (!err && (!u || !*u))
			err = bad(d, "contact %s has an empty <uri>", ct->id);
		if (err) {
			mem_deref(u);
			return err;
		}
		mem_deref(ct->uri);
		ct->uri = u;
		*have_uri = true;
		return 0;
	}
	if (is(c, "display-name")) {
		if (ct->display_name)
			return bad(d, "contact %s has two <display-name>",
				   ct->id);
		return text(d, c, false, &ct->display_name);
	}
	if (is(c, "unknown-param"))
		return dec_param(d, c, ct);
	if (is_ns(c, REGINFO_GRUU_NS, "pub-gruu") ||
	    is_ns(c, REGINFO_GRUU_NS, "temp-gruu"))
		return dec_gruu(d, c, ct);
	if (c->ns && c->ns->href &&
	    !xmlStrEqual(c->ns->href, BAD_CAST REGINFO_NS))
		return 0; /* xs:any namespace="##other" */
	return bad(d, "contact %s has an unknown element <%s>", ct->id,
		   (const char *)c->name);
}


static int dec_contact(struct dec *d, const xmlNode *n, struct reginfo_reg *reg)
{
	struct reginfo_contact *ct;
	char *id = NULL, *q = NULL;
	const xmlNode *c;
	int state = 0, event = 0, err;
	bool have_uri = false;

	if (reg->ct_n >= REGINFO_CT_MAX)
		return bad(d, "registration %s has more than %u contacts",
			   reg->aor, REGINFO_CT_MAX);
	err = attr_enum(d, n, "state", ct_states, 2, &state);
	if (!err)
		err = attr_enum(d, n, "event", events, REGINFO_EV_NUM, &event);
	if (!err)
		err = attr_str(d, n, "id", true, false, &id);
	if (err)
		return err;
	/* the uri comes later; a placeholder keeps the add all-or-nothing */
	ct = reginfo_contact_add(reg, id, "", (enum reginfo_ct_state)state,
				 (enum reginfo_event)event);
	mem_deref(id);
	if (!ct)
		return ENOMEM;

	err = attr_u64(d, n, "duration-registered", false, &ct->has_duration,
		       &ct->duration);
	if (!err)
		err = attr_u64(d, n, "expires", false, &ct->has_expires,
			       &ct->expires);
	if (!err)
		err = attr_u64(d, n, "retry-after", false, &ct->has_retry_after,
			       &ct->retry_after);
	if (!err)
		err = attr_u64(d, n, "cseq", false, &ct->has_cseq, &ct->cseq);
	if (!err)
		err = attr_str(d, n, "callid", false, false, &ct->callid);
	if (!err)
		err = attr_str(d, n, "q", false, true, &q);
	if (!err && q) {
		if (!parse_q(q, &ct->q))
			err = bad(d, "contact %s: q=\"%.16s\" is not a qvalue",
				  ct->id, q);
		ct->has_q = true;
	}
	mem_deref(q);

	for (c = n->children; !err && c; c = c->next)
		err = dec_contact_child(d, c, ct, &have_uri);
	if (!err && !have_uri)
		err = bad(d, "contact %s has no <uri>", ct->id);
	return err;
}


static int dec_reg(struct dec *d, const xmlNode *n, struct reginfo *ri)
{
	struct reginfo_reg *reg;
	char *aor = NULL, *id = NULL;
	const xmlNode *c;
	int state = 0, err;

	if (ri->reg_n >= REGINFO_REG_MAX)
		return bad(d, "more than %u registrations", REGINFO_REG_MAX);
	err = attr_str(d, n, "aor", true, true, &aor);
	if (!err)
		err = attr_str(d, n, "id", true, false, &id);
	if (!err)
		err = attr_enum(d, n, "state", reg_states, 3, &state);
	if (!err) {
		reg = reginfo_reg_add(ri, aor, id,
				      (enum reginfo_reg_state)state);
		if (!reg)
			err = ENOMEM;
	}
	mem_deref(aor);
	mem_deref(id);
	if (err)
		return err;

	for (c = n->children; !err && c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "contact"))
			err = dec_contact(d, c, reg);
		else if (!c->ns || !c->ns->href ||
			 xmlStrEqual(c->ns->href, BAD_CAST REGINFO_NS))
			err = bad(d,
				  "registration %s has an unknown "
				  "element <%s>",
				  reg->aor, (const char *)c->name);
		/* else xs:any namespace="##other": skipped */
	}
	return err;
}


static int dec_root(struct dec *d, const xmlNode *root, struct reginfo *ri)
{
	uint64_t version = 0;
	const xmlNode *c;
	int state = 0, err;

	if (!is(root, "reginfo"))
		return bad(d, "the root element is <%s>, not <reginfo> of %s",
			   (const char *)root->name, REGINFO_NS);
	err = attr_u64(d, root, "version", true, NULL, &version);
	if (!err && version > UINT32_MAX)
		err = bad(d, "version %llu is above 2^32-1",
			  (unsigned long long)version);
	if (!err)
		err = attr_enum(d, root, "state",
				(const char *const[]){ "full", "partial" }, 2,
				&state);
	if (err)
		return err;
	ri->version = (uint32_t)version;
	ri->state = (enum reginfo_doc_state)state;

	for (c = root->children; !err && c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "registration"))
			err = dec_reg(d, c, ri);
		else if (!c->ns || !c->ns->href ||
			 xmlStrEqual(c->ns->href, BAD_CAST REGINFO_NS))
			err = bad(d, "<reginfo> has an unknown element <%s>",
				  (const char *)c->name);
	}
	return err;
}


/**
 * Decode an application/reginfo+xml document.
 *
 * @param rip    the document on success (mem_deref it)
 * @param xml    the bytes (need not be NUL-terminated)
 * @param len    their length, at most REGINFO_MAX
 * @param err    where to put a sentence saying what is wrong, or NULL
 * @param errsz  size of err
 * @return 0, EBADMSG, EMSGSIZE, EINVAL or ENOMEM
 */
int reginfo_decode(struct reginfo **rip, const char *xml, size_t len, char *err,
		   size_t errsz)
{
	static const struct xmlu_parse_opts popts = { .max = REGINFO_MAX,
						      .what = "reginfo" };
	struct dec d = { .err = err, .errsz = errsz };
	struct reginfo *ri = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int e;

	if (err && errsz)
		err[0] = '\0';
	if (!rip || (!xml && len))
		return EINVAL;
	e = xmlu_parse(&doc, xml, len, &popts, err, errsz);
	if (e)
		goto out;
	root = xmlDocGetRootElement(doc);
	ri = reginfo_alloc(0, REGINFO_FULL);
	if (!ri) {
		e = ENOMEM;
		goto out;
	}
	e = dec_root(&d, root, ri);
	if (!e) {
		*rip = ri;
		ri = NULL;
	}
out:
	mem_deref(ri);
	if (doc)
		xmlFreeDoc(doc);
	return e;
}
