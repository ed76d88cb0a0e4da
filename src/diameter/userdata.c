/**
 * @file userdata.c  The IMS user profile (TS 29.228 annex B) and its XML
 *                   form, the IMSSubscription document of annex E.
 *
 * Model: one cx_subscription owns plain arrays (grown one element at a
 * time with mem_realloc) and NUL-terminated strings; its destructor walks
 * the tree, so a single mem_deref() frees everything.
 *
 * Encoding uses libxml2's xmlTextWriter, which escapes every text node, in
 * the element order of the Rel-9 schema (CxDataType_Rel9.xsd, kept in
 * tests/data/diameter/ and validated against in the unit tests).  Strings
 * are checked first: an XML 1.0 document cannot carry control characters
 * or invalid UTF-8, so such a member is EINVAL rather than a broken SAA.
 *
 * Decoding parses into a libxml2 tree and walks it by element name, in any
 * order, skipping elements it does not know (the schema's xs:any and
 * Extension points, and HSSes that order siblings differently: OpenIMSCore
 * FHoSS writes CoreNetworkServicesAuthorization after the iFCs).  The
 * extension chains (PublicIdentity/Extension/Extension/...) are searched at
 * any depth for the same reason.  What would change the routing of a call
 * is strict: a missing Identity or ServerName, a non-numeric Priority, an
 * enumeration value outside the schema, an SPT without a condition.
 *
 * Untrusted input goes through xmlu_parse() (core/xml.c): no network, no
 * entity substitution, no DTD loading, and a document that has a DOCTYPE
 * at all is refused the moment the parser sees it, so no entity is ever
 * declared, let alone expanded: billion laughs and external entities
 * never get a start.  The size is capped at CX_USERDATA_MAX.
 */
#include "diameter/userdata.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/xml.h"

/* ---- model ------------------------------------------------------------ */

static void spt_release(struct cx_spt *spt)
{
	mem_deref(spt->a);
	mem_deref(spt->b);
}


static void ifc_release(struct cx_ifc *ifc)
{
	if (ifc->tp) {
		for (size_t i = 0; i < ifc->tp->spt_n; i++)
			spt_release(&ifc->tp->spt[i]);
		mem_deref(ifc->tp->spt);
		mem_deref(ifc->tp);
	}
	mem_deref(ifc->as_uri);
	mem_deref(ifc->service_info);
}


static void pub_release(struct cx_public_id *pub)
{
	mem_deref(pub->identity);
	mem_deref(pub->wildcarded);
	mem_deref(pub->display_name);
	mem_deref(pub->alias_group);
}


static void sp_release(struct cx_service_profile *sp)
{
	for (size_t i = 0; i < sp->pub_n; i++)
		pub_release(&sp->pub[i]);
	for (size_t i = 0; i < sp->ifc_n; i++)
		ifc_release(&sp->ifc[i]);
	mem_deref(sp->pub);
	mem_deref(sp->ifc);
	mem_deref(sp->shared_ifc);
}


static void destructor(void *data)
{
	struct cx_subscription *sub = data;

	for (size_t i = 0; i < sub->sp_n; i++)
		sp_release(&sub->sp[i]);
	mem_deref(sub->sp);
	mem_deref(sub->private_id);
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


/**
 * Allocate an empty subscription.
 *
 * @param private_id  the IMPI (PrivateID), copied; NULL to set it later
 * @return the subscription (mem_deref it), or NULL when out of memory
 */
struct cx_subscription *cx_subscription_alloc(const char *private_id)
{
	struct cx_subscription *sub;

	sub = mem_zalloc(sizeof(*sub), destructor);
	if (!sub)
		return NULL;
	if (private_id) {
		sub->private_id = mem_strdup(private_id, strlen(private_id));
		if (!sub->private_id)
			return mem_deref(sub);
	}
	return sub;
}


/**
 * Append a service profile (no SubscribedMediaProfileId yet).
 *
 * @return the new profile, valid until the next cx_sp_add(), or NULL
 */
struct cx_service_profile *cx_sp_add(struct cx_subscription *sub)
{
	struct cx_service_profile *sp;

	if (!sub)
		return NULL;
	sp = grow(sub->sp, sub->sp_n, sizeof(*sub->sp));
	if (!sp)
		return NULL;
	sub->sp = sp;
	sp = &sub->sp[sub->sp_n++];
	sp->media_profile = -1;
	return sp;
}


/**
 * Append a public identity (a distinct IMPU, not barred) to a profile.
 *
 * @param identity  the SIP or tel URI, copied
 * @return the new identity, valid until the next add on sp, or NULL
 */
struct cx_public_id *cx_pub_add(struct cx_subscription *sub,
				struct cx_service_profile *sp,
				const char *identity)
{
	struct cx_public_id *pub;
	char *id;

	if (!sub || !sp || !identity)
		return NULL;
	id = mem_strdup(identity, strlen(identity));
	if (!id)
		return NULL;
	pub = grow(sp->pub, sp->pub_n, sizeof(*sp->pub));
	if (!pub) {
		mem_deref(id);
		return NULL;
	}
	sp->pub = pub;
	pub = &sp->pub[sp->pub_n++];
	pub->identity = id;
	pub->type = CX_ID_PUBLIC_USER;
	return pub;
}


/**
 * Append an Initial Filter Criteria (no trigger point: always matches;
 * SESSION_CONTINUED; no ProfilePartIndicator).
 *
 * @param as_uri  ApplicationServer/ServerName, copied; NULL to set later
 * @return the new iFC, valid until the next add on sp, or NULL
 */
struct cx_ifc *cx_ifc_add(struct cx_subscription *sub,
			  struct cx_service_profile *sp, int priority,
			  const char *as_uri)
{
	struct cx_ifc *ifc;
	char *uri = NULL;

	if (!sub || !sp)
		return NULL;
	if (as_uri) {
		uri = mem_strdup(as_uri, strlen(as_uri));
		if (!uri)
			return NULL;
	}
	ifc = grow(sp->ifc, sp->ifc_n, sizeof(*sp->ifc));
	if (!ifc) {
		mem_deref(uri);
		return NULL;
	}
	sp->ifc = ifc;
	ifc = &sp->ifc[sp->ifc_n++];
	ifc->priority = priority;
	ifc->as_uri = uri;
	ifc->default_handling = CX_DH_SESSION_CONTINUED;
	ifc->ppi = CX_PPI_NONE;
	return ifc;
}


static struct cx_trigger_point *tp_ensure(struct cx_ifc *ifc, bool cnf)
{
	if (!ifc->tp) {
		ifc->tp = mem_zalloc(sizeof(*ifc->tp), NULL);
		if (!ifc->tp)
			return NULL;
		ifc->tp->cnf = cnf;
	}
	return ifc->tp;
}


/**
 * Append a Service Point Trigger to an iFC, creating its trigger point on
 * the first call (whose cnf sets ConditionTypeCNF; later cnf are ignored).
 * The caller fills a/b (with cx_strdup), session_case, negated, reg_type.
 *
 * @return the new SPT, valid until the next cx_spt_add() on ifc, or NULL
 */
struct cx_spt *cx_spt_add(struct cx_subscription *sub, struct cx_ifc *ifc,
			  bool cnf, enum cx_spt_kind kind, int group)
{
	struct cx_trigger_point *tp;
	struct cx_spt *spt;

	if (!sub || !ifc)
		return NULL;
	tp = tp_ensure(ifc, cnf);
	if (!tp)
		return NULL;
	spt = grow(tp->spt, tp->spt_n, sizeof(*tp->spt));
	if (!spt)
		return NULL;
	tp->spt = spt;
	spt = &tp->spt[tp->spt_n++];
	spt->kind = kind;
	spt->group = group;
	return spt;
}


/**
 * Copy a string for a member of sub (freed with sub once stored there).
 *
 * @return the copy, or NULL when s is NULL or memory is exhausted
 */
char *cx_strdup(struct cx_subscription *sub, const char *s)
{
	(void)sub;
	return s ? mem_strdup(s, strlen(s)) : NULL;
}


/* ---- the service part: what many subscriptions share ----------------- */

/**
 * Drop the identities of a subscription (PrivateID, every PublicIdentity),
 * keeping its service part: the service profiles with their iFCs, shared
 * iFC set ids and media profile, in the same order (an index into sp stays
 * valid).  What an S-CSCF keeps per user once it has indexed the
 * identities; many users then share one copy (cx_services_hash/_eq).
 *
 * @param sub  the subscription (may be NULL)
 */
void cx_subscription_drop_ids(struct cx_subscription *sub)
{
	if (!sub)
		return;
	for (size_t i = 0; i < sub->sp_n; i++) {
		struct cx_service_profile *sp = &sub->sp[i];

		for (size_t j = 0; j < sp->pub_n; j++)
			pub_release(&sp->pub[j]);
		sp->pub = mem_deref(sp->pub);
		sp->pub_n = 0;
	}
	sub->private_id = mem_deref(sub->private_id);
}


/* FNV-1a, continued over the bytes of v. */
static uint32_t fnv(uint32_t h, const void *v, size_t n)
{
	const uint8_t *p = v;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}


static uint32_t fnv_int(uint32_t h, long long v)
{
	return fnv(h, &v, sizeof(v));
}


/* A string with its terminator, NULL as a byte 0xff no string holds. */
static uint32_t fnv_str(uint32_t h, const char *s)
{
	static const uint8_t none = 0xff;

	return s ? fnv(h, s, strlen(s) + 1) : fnv(h, &none, 1);
}


static uint32_t spt_hash(uint32_t h, const struct cx_spt *t)
{
	h = fnv_int(h, t->group);
	h = fnv_int(h, t->negated);
	h = fnv_int(h, t->kind);
	h = fnv_str(h, t->a);
	h = fnv_str(h, t->b);
	h = fnv_int(h, t->session_case);
	return fnv_int(h, t->reg_type);
}


static uint32_t ifc_hash(uint32_t h, const struct cx_ifc *f)
{
	h = fnv_int(h, f->priority);
	h = fnv_str(h, f->as_uri);
	h = fnv_int(h, f->default_handling);
	h = fnv_str(h, f->service_info);
	h = fnv_int(h, f->include_register_request);
	h = fnv_int(h, f->include_register_response);
	h = fnv_int(h, f->ppi);
	h = fnv_int(h, f->tp ? (long long)f->tp->spt_n : -1);
	if (f->tp) {
		h = fnv_int(h, f->tp->cnf);
		for (size_t k = 0; k < f->tp->spt_n; k++)
			h = spt_hash(h, &f->tp->spt[k]);
	}
	return h;
}


/**
 * Hash of the service part of a subscription (everything
 * cx_services_eq() compares; the identities are not part of it).
 *
 * @param sub  the subscription
 * @return the hash (0 for NULL)
 */
uint32_t cx_services_hash(const struct cx_subscription *sub)
{
	uint32_t h = 2166136261u;

	if (!sub)
		return 0;
	h = fnv_int(h, (long long)sub->sp_n);
	for (size_t i = 0; i < sub->sp_n; i++) {
		const struct cx_service_profile *sp = &sub->sp[i];

		h = fnv_int(h, sp->media_profile);
		h = fnv_int(h, (long long)sp->shared_ifc_n);
		for (size_t j = 0; j < sp->shared_ifc_n; j++)
			h = fnv_int(h, sp->shared_ifc[j]);
		h = fnv_int(h, (long long)sp->ifc_n);
		for (size_t j = 0; j < sp->ifc_n; j++)
			h = ifc_hash(h, &sp->ifc[j]);
	}
	return h;
}


static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}


static bool spt_eq(const struct cx_spt *a, const struct cx_spt *b)
{
	return a->group == b->group && a->negated == b->negated &&
	       a->kind == b->kind && str_eq(a->a, b->a) && str_eq(a->b, b->b) &&
	       a->session_case == b->session_case && a->reg_type == b->reg_type;
}


static bool ifc_eq(const struct cx_ifc *a, const struct cx_ifc *b)
{
	if (a->priority != b->priority || !str_eq(a->as_uri, b->as_uri) ||
	    a->default_handling != b->default_handling ||
	    !str_eq(a->service_info, b->service_info) ||
	    a->include_register_request != b->include_register_request ||
	    a->include_register_response != b->include_register_response ||
	    a->ppi != b->ppi || !a->tp != !b->tp)
		return false;
	if (!a->tp)
		return true;
	if (a->tp->cnf != b->tp->cnf || a->tp->spt_n != b->tp->spt_n)
		return false;
	for (size_t k = 0; k < a->tp->spt_n; k++)
		if (!spt_eq(&a->tp->spt[k], &b->tp->spt[k]))
			return false;
	return true;
}


/**
 * Whether two subscriptions have the same service part: the same service
 * profiles in the same order, each with the same iFCs (in the same order,
 * every member compared), shared iFC set ids and media profile.  The
 * identities are not compared.  Two such subscriptions route and invoke
 * services alike for the same service profile index.
 *
 * @return true when equal (two NULLs are equal)
 */
bool cx_services_eq(const struct cx_subscription *a,
		    const struct cx_subscription *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->sp_n != b->sp_n)
		return false;
	for (size_t i = 0; i < a->sp_n; i++) {
		const struct cx_service_profile *x = &a->sp[i], *y = &b->sp[i];

		if (x->media_profile != y->media_profile ||
		    x->shared_ifc_n != y->shared_ifc_n || x->ifc_n != y->ifc_n)
			return false;
		for (size_t j = 0; j < x->shared_ifc_n; j++)
			if (x->shared_ifc[j] != y->shared_ifc[j])
				return false;
		for (size_t j = 0; j < x->ifc_n; j++)
			if (!ifc_eq(&x->ifc[j], &y->ifc[j]))
				return false;
	}
	return true;
}


/* ---- encoder ---------------------------------------------------------- */

/* Booleans as 0/1, as FHoSS writes them: every parser seen accepts them. */
static int w_bool(xmlTextWriterPtr w, const char *name, bool v)
{
	return xmlu_elem(w, name, v ? "1" : "0");
}


/* annex E tPublicIdentity: BarringIndication?, Identity, Extension?
 * (IdentityType, WildcardedPSI?, Extension? (DisplayName?,
 * AliasIdentityGroupID?, Extension? (WildcardedIMPU?))) */
static int enc_pub(xmlTextWriterPtr w, const struct cx_public_id *pub)
{
	bool impu_wc = pub->type == CX_ID_WILDCARDED_IMPU && pub->wildcarded;
	bool ext2 = pub->display_name || pub->alias_group || impu_wc;
	int err;

	if (!pub->identity || (unsigned)pub->type > CX_ID_WILDCARDED_IMPU)
		return EINVAL;
	err = xmlu_start(w, "PublicIdentity");
	if (!err && pub->barred)
		err = w_bool(w, "BarringIndication", true);
	if (!err)
		err = xmlu_elem(w, "Identity", pub->identity);
	if (!err)
		err = xmlu_start(w, "Extension");
	if (!err)
		err = xmlu_elem_long(w, "IdentityType", pub->type);
	if (!err && pub->wildcarded && !impu_wc)
		err = xmlu_elem(w, "WildcardedPSI", pub->wildcarded);
	if (!err && ext2) {
		err = xmlu_start(w, "Extension");
		if (!err && pub->display_name)
			err = xmlu_elem(w, "DisplayName", pub->display_name);
		if (!err && pub->alias_group)
			err = xmlu_elem(w, "AliasIdentityGroupID",
					pub->alias_group);
		if (!err && impu_wc) {
			err = xmlu_start(w, "Extension");
			if (!err)
				err = xmlu_elem(w, "WildcardedIMPU",
						pub->wildcarded);
			if (!err)
				err = xmlu_end(w);
		}
		if (!err)
			err = xmlu_end(w);
	}
	if (!err)
		err = xmlu_end(w); /* Extension */
	if (!err)
		err = xmlu_end(w); /* PublicIdentity */
	return err;
}


/* The condition of an SPT: the xs:choice of tSePoTri. */
static int enc_spt_condition(xmlTextWriterPtr w, const struct cx_spt *spt)
{
	int err;

	switch (spt->kind) {
	case CX_SPT_REQUEST_URI:
		return spt->a ? xmlu_elem(w, "RequestURI", spt->a) : EINVAL;
	case CX_SPT_METHOD:
		return spt->a ? xmlu_elem(w, "Method", spt->a) : EINVAL;
	case CX_SPT_SESSION_CASE:
		if ((unsigned)spt->session_case > CX_SC_ORIGINATING_CDIV)
			return EINVAL;
		return xmlu_elem_long(w, "SessionCase", spt->session_case);
	case CX_SPT_SIP_HEADER:
	case CX_SPT_SESSION_DESCRIPTION:
		break;
	default:
		return EINVAL;
	}

	if (!spt->a)
		return EINVAL;
	if (spt->kind == CX_SPT_SIP_HEADER) {
		err = xmlu_start(w, "SIPHeader");
		if (!err)
			err = xmlu_elem(w, "Header", spt->a);
	} else {
		err = xmlu_start(w, "SessionDescription");
		if (!err)
			err = xmlu_elem(w, "Line", spt->a);
	}
	if (!err && spt->b)
		err = xmlu_elem(w, "Content", spt->b);
	if (!err)
		err = xmlu_end(w);
	return err;
}


/* tSePoTri: ConditionNegated?, Group+, condition, Extension?
 * (RegistrationType{0,2}) */
static int enc_spt(xmlTextWriterPtr w, const struct cx_spt *spt)
{
	static const unsigned all =
		CX_REGTYPE_INITIAL | CX_REGTYPE_RE | CX_REGTYPE_DE;
	unsigned rt = spt->reg_type & all;
	int err;

	if (spt->group < 0)
		return EINVAL;
	err = xmlu_start(w, "SPT");
	if (!err)
		err = w_bool(w, "ConditionNegated", spt->negated);
	if (!err)
		err = xmlu_elem_long(w, "Group", spt->group);
	if (!err)
		err = enc_spt_condition(w, spt);
	/* the schema allows two RegistrationType elements: all three types
	 * is the same as none (B.2.2: any REGISTER), so write none */
	if (!err && rt && rt != all) {
		err = xmlu_start(w, "Extension");
		if (!err && (rt & CX_REGTYPE_INITIAL))
			err = xmlu_elem_long(w, "RegistrationType", 0);
		if (!err && (rt & CX_REGTYPE_RE))
			err = xmlu_elem_long(w, "RegistrationType", 1);
		if (!err && (rt & CX_REGTYPE_DE))
			err = xmlu_elem_long(w, "RegistrationType", 2);
		if (!err)
			err = xmlu_end(w);
	}
	if (!err)
		err = xmlu_end(w);
	return err;
}


/* tApplicationServer: ServerName, DefaultHandling?, ServiceInfo?,
 * Extension? (IncludeRegisterRequest?, IncludeRegisterResponse?) */
static int enc_as(xmlTextWriterPtr w, const struct cx_ifc *ifc)
{
	int err;

	if (!ifc->as_uri ||
	    (unsigned)ifc->default_handling > CX_DH_SESSION_TERMINATED)
		return EINVAL;
	err = xmlu_start(w, "ApplicationServer");
	if (!err)
		err = xmlu_elem(w, "ServerName", ifc->as_uri);
	if (!err)
		err = xmlu_elem_long(w, "DefaultHandling",
				     ifc->default_handling);
	if (!err && ifc->service_info)
		err = xmlu_elem(w, "ServiceInfo", ifc->service_info);
	if (!err &&
	    (ifc->include_register_request || ifc->include_register_response)) {
		err = xmlu_start(w, "Extension");
		if (!err && ifc->include_register_request)
			err = xmlu_empty(w, "IncludeRegisterRequest");
		if (!err && ifc->include_register_response)
			err = xmlu_empty(w, "IncludeRegisterResponse");
		if (!err)
			err = xmlu_end(w);
	}
	if (!err)
		err = xmlu_end(w);
	return err;
}


/* tInitialFilterCriteria: Priority, TriggerPoint?, ApplicationServer,
 * ProfilePartIndicator? */
static int enc_ifc(xmlTextWriterPtr w, const struct cx_ifc *ifc)
{
	int err;

	if (ifc->ppi < CX_PPI_NONE || ifc->ppi > CX_PPI_UNREGISTERED)
		return EINVAL;
	err = xmlu_start(w, "InitialFilterCriteria");
	if (!err)
		err = xmlu_elem_long(w, "Priority", ifc->priority);
	if (!err && ifc->tp) {
		/* tTrigger needs at least one SPT */
		if (!ifc->tp->spt_n)
			err = EINVAL;
		if (!err)
			err = xmlu_start(w, "TriggerPoint");
		if (!err)
			err = w_bool(w, "ConditionTypeCNF", ifc->tp->cnf);
		for (size_t i = 0; !err && i < ifc->tp->spt_n; i++)
			err = enc_spt(w, &ifc->tp->spt[i]);
		if (!err)
			err = xmlu_end(w);
	}
	if (!err)
		err = enc_as(w, ifc);
	if (!err && ifc->ppi != CX_PPI_NONE)
		err = xmlu_elem_long(w, "ProfilePartIndicator", ifc->ppi);
	if (!err)
		err = xmlu_end(w);
	return err;
}


static int ifc_ptr_cmp(const void *a, const void *b)
{
	const struct cx_ifc *x = *(const struct cx_ifc *const *)a;
	const struct cx_ifc *y = *(const struct cx_ifc *const *)b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* same priority: keep the array order (all point into one array) */
	return (x > y) - (x < y);
}


/* tServiceProfile: PublicIdentity+, CoreNetworkServicesAuthorization?,
 * InitialFilterCriteria*, Extension? (SharedIFCSetID*) */
static int enc_sp(xmlTextWriterPtr w, const struct cx_service_profile *sp)
{
	const struct cx_ifc **order = NULL;
	int err;

	if (!sp->pub_n)
		return EINVAL;
	if (sp->ifc_n) {
		order = calloc(sp->ifc_n, sizeof(*order));
		if (!order)
			return ENOMEM;
		for (size_t i = 0; i < sp->ifc_n; i++)
			order[i] = &sp->ifc[i];
		qsort(order, sp->ifc_n, sizeof(*order), ifc_ptr_cmp);
	}

	err = xmlu_start(w, "ServiceProfile");
	for (size_t i = 0; !err && i < sp->pub_n; i++)
		err = enc_pub(w, &sp->pub[i]);
	if (!err && sp->media_profile >= 0) {
		err = xmlu_start(w, "CoreNetworkServicesAuthorization");
		if (!err)
			err = xmlu_elem_long(w, "SubscribedMediaProfileId",
					     sp->media_profile);
		if (!err)
			err = xmlu_end(w);
	}
	for (size_t i = 0; !err && i < sp->ifc_n; i++)
		err = enc_ifc(w, order[i]);
	if (!err && sp->shared_ifc_n) {
		err = xmlu_start(w, "Extension");
		for (size_t i = 0; !err && i < sp->shared_ifc_n; i++)
			err = xmlu_elem_long(w, "SharedIFCSetID",
					     sp->shared_ifc[i]);
		if (!err)
			err = xmlu_end(w);
	}
	if (!err)
		err = xmlu_end(w);
	free(order);
	return err;
}


/**
 * Encode a subscription as the User-Data XML (TS 29.228 annex E,
 * IMSSubscription, Rel-9 schema), iFCs in priority order.
 *
 * @param mb   buffer the document is appended to
 * @param sub  the subscription: PrivateID, at least one service profile
 *             each with at least one public identity
 * @return 0, EINVAL for a model the schema cannot express, ENOMEM, or
 *         EMSGSIZE when mb's ceiling is reached
 */
int cx_userdata_encode(struct buf *mb, const struct cx_subscription *sub)
{
	struct xmlu_writer *xw = NULL;
	int err;

	if (!mb || !sub || !sub->private_id || !sub->sp_n)
		return EINVAL;
	err = xmlu_writer_alloc(&xw);
	if (!err)
		err = xmlu_start(xw->w, "IMSSubscription");
	if (!err)
		err = xmlu_elem(xw->w, "PrivateID", sub->private_id);
	for (size_t i = 0; !err && i < sub->sp_n; i++)
		err = enc_sp(xw->w, &sub->sp[i]);
	if (!err)
		err = xmlu_writer_finish(xw, mb);
	mem_deref(xw);
	return err;
}


/* ---- decoder ---------------------------------------------------------- */

struct dec {
	struct cx_subscription *sub;
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


/* Element test by local name: a default namespace some HSSes declare on
 * the root changes nothing. */
static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       xmlStrEqual(n->name, BAD_CAST name);
}


/*
 * The text of a simple-content element (its text and CDATA children), as
 * a new string; surrounding XML white space removed when trim is set
 * (values from pretty-printed documents).
 */
static int text(struct dec *d, const xmlNode *n, bool trim, char **outp)
{
	const xmlNode *c = NULL;
	int err = xmlu_node_text(n, trim, outp, &c);

	if (err != EBADMSG)
		return err;
	if (c->type == XML_ELEMENT_NODE)
		return bad(d, "%s holds an element (%s) where text belongs",
			   (const char *)n->name, (const char *)c->name);
	return bad(d, "%s holds an entity reference (&%s;)",
		   (const char *)n->name, (const char *)c->name);
}


/* Trimmed, non-empty text (identities, URIs, patterns). */
static int text_req(struct dec *d, const xmlNode *n, char **outp)
{
	char *s = NULL;
	int err = text(d, n, true, &s);

	if (err)
		return err;
	if (!*s) {
		mem_deref(s);
		return bad(d, "%s is empty", (const char *)n->name);
	}
	*outp = s;
	return 0;
}


/* Replace *dst with the text of n (a repeated optional element: the last
 * one wins, as in Kamailio's parser). */
static int text_set(struct dec *d, const xmlNode *n, bool trim, char **dst)
{
	char *s = NULL;
	int err = text(d, n, trim, &s);

	if (err)
		return err;
	mem_deref(*dst);
	*dst = s;
	return 0;
}


/* A decimal integer within [min, max] (xs:int, xs:unsignedInt ...). */
static int integer(struct dec *d, const xmlNode *n, const char *what,
		   long long min, long long max, long long *v)
{
	const char *p;
	long long x = 0;
	bool neg = false;
	char *s = NULL;
	int err;

	err = text(d, n, true, &s);
	if (err)
		return err;
	p = s;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		goto nan;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto nan;
		x = x * 10 + (*p - '0');
		if (x > (long long)UINT32_MAX + 1)
			goto range;
	}
	if (neg)
		x = -x;
	if (x < min || x > max)
		goto range;
	*v = x;
	mem_deref(s);
	return 0;
nan:
	err = bad(d, "%s \"%.40s\" is not an integer", what, s);
	mem_deref(s);
	return err;
range:
	err = bad(d, "%s %.40s is out of range (%lld..%lld)", what, s, min,
		  max);
	mem_deref(s);
	return err;
}


/* An annex E enumeration: its number, or (as Kamailio also accepts) the
 * label the schema documents for it. */
static int enumeration(struct dec *d, const xmlNode *n, const char *what,
		       const char *const *labels, int nlabels, int *v)
{
	long long x;
	char *s = NULL;
	int err;

	err = text(d, n, true, &s);
	if (err)
		return err;
	for (int i = 0; i < nlabels; i++) {
		if (labels[i] && !strcmp(s, labels[i])) {
			*v = i;
			goto out;
		}
	}
	if (*s < '0' || *s > '9') {
		err = bad(d, "%s \"%.40s\" is not a valid value", what, s);
		goto out;
	}
	err = integer(d, n, what, 0, nlabels - 1, &x);
	if (!err)
		*v = (int)x;
out:
	mem_deref(s);
	return err;
}


/* xs:boolean */
static int boolean(struct dec *d, const xmlNode *n, const char *what, bool *v)
{
	char *s = NULL;
	int err;

	err = text(d, n, true, &s);
	if (err)
		return err;
	if (!strcmp(s, "1") || !strcmp(s, "true"))
		*v = true;
	else if (!strcmp(s, "0") || !strcmp(s, "false"))
		*v = false;
	else
		err = bad(d, "%s \"%.40s\" is not a boolean", what, s);
	mem_deref(s);
	return err;
}


static const char *const id_type_labels[] = {
	"PUBLIC_USER_IDENTITY", "DISTINCT_PSI", "WILDCARDED_PSI",
	"WILDCARDED_IMPU",      NULL, /* 4: WILDCARDED_IMPU of later releases,
					 mapped below */
};

/* The PublicIdentity extension chain, at any depth. */
static int dec_pub_ext(struct dec *d, const xmlNode *ext,
		       struct cx_public_id *pub, bool *psi)
{
	int err = 0;

	for (const xmlNode *c = ext->children; !err && c; c = c->next) {
		int v;

		if (is(c, "IdentityType")) {
			err = enumeration(d, c, "PublicIdentity IdentityType",
					  id_type_labels, 5, &v);
			if (!err)
				pub->type = v == 4 ? CX_ID_WILDCARDED_IMPU
						   : (enum cx_identity_type)v;
		} else if (is(c, "WildcardedPSI")) {
			err = text_set(d, c, true, &pub->wildcarded);
			*psi = true;
		} else if (is(c, "WildcardedIMPU")) {
			/* WildcardedPSI wins if both are present */
			if (!*psi)
				err = text_set(d, c, true, &pub->wildcarded);
		} else if (is(c, "DisplayName")) {
			err = text_set(d, c, false, &pub->display_name);
		} else if (is(c, "AliasIdentityGroupID")) {
			err = text_set(d, c, true, &pub->alias_group);
		} else if (is(c, "Extension")) {
			err = dec_pub_ext(d, c, pub, psi);
		}
	}
	return err;
}


static int dec_pub(struct dec *d, const xmlNode *n,
		   struct cx_service_profile *sp)
{
	struct cx_public_id *pub;
	bool psi = false;
	int err = 0;

	pub = cx_pub_add(d->sub, sp, "");
	if (!pub)
		return ENOMEM;
	pub->identity = mem_deref(pub->identity);

	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (is(c, "Identity")) {
			if (pub->identity)
				return bad(d, "PublicIdentity has more than "
					      "one Identity");
			err = text_req(d, c, &pub->identity);
		} else if (is(c, "BarringIndication")) {
			err = boolean(d, c, "PublicIdentity BarringIndication",
				      &pub->barred);
		} else if (is(c, "Extension")) {
			err = dec_pub_ext(d, c, pub, &psi);
		}
	}
	if (!err && !pub->identity)
		err = bad(d, "PublicIdentity without an Identity element");
	return err;
}


static const char *const session_case_labels[] = {
	"ORIGINATING_REGISTERED",   "TERMINATING_REGISTERED",
	"TERMINATING_UNREGISTERED", "ORIGINATING_UNREGISTERED",
	"ORIGINATING_CDIV",
};

/* SIPHeader (Header, Content?) or SessionDescription (Line, Content?). */
static int dec_pair(struct dec *d, const xmlNode *n, const char *first,
		    struct cx_spt *t)
{
	int err = 0;

	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (is(c, first))
			err = t->a ? bad(d, "%s has more than one %s",
					 (const char *)n->name, first)
				   : text_req(d, c, &t->a);
		else if (is(c, "Content"))
			err = text_set(d, c, true, &t->b);
	}
	if (!err && !t->a)
		err = bad(d, "%s without a %s element", (const char *)n->name,
			  first);
	return err;
}


/* The condition of an SPT into t (kind, a, b, session_case). */
static int dec_spt_condition(struct dec *d, const xmlNode *c, struct cx_spt *t,
			     bool *found)
{
	static const char *const kinds[] = { "RequestURI", "Method",
					     "SIPHeader", "SessionCase",
					     "SessionDescription" };
	int v, k = -1;

	for (int i = 0; i < 5; i++) {
		if (is(c, kinds[i]))
			k = i;
	}
	if (k < 0)
		return 0;
	if (*found)
		return bad(d, "SPT has more than one condition (%s)",
			   (const char *)c->name);
	*found = true;
	switch (k) {
	case 0:
		t->kind = CX_SPT_REQUEST_URI;
		return text_req(d, c, &t->a);
	case 1:
		t->kind = CX_SPT_METHOD;
		return text_req(d, c, &t->a);
	case 2:
		t->kind = CX_SPT_SIP_HEADER;
		return dec_pair(d, c, "Header", t);
	case 3:
		t->kind = CX_SPT_SESSION_CASE;
		if (enumeration(d, c, "SPT SessionCase", session_case_labels, 5,
				&v))
			return EBADMSG;
		t->session_case = (enum cx_session_case)v;
		return 0;
	default:
		t->kind = CX_SPT_SESSION_DESCRIPTION;
		return dec_pair(d, c, "Line", t);
	}
}


static const char *const reg_type_labels[] = {
	"INITIAL_REGISTRATION",
	"RE_REGISTRATION",
	"DE_REGISTRATION",
};

static int dec_spt_ext(struct dec *d, const xmlNode *ext, struct cx_spt *t)
{
	int err = 0;

	for (const xmlNode *c = ext->children; !err && c; c = c->next) {
		int v;

		if (is(c, "RegistrationType")) {
			err = enumeration(d, c, "SPT RegistrationType",
					  reg_type_labels, 3, &v);
			if (!err)
				t->reg_type |= 1u << v;
		} else if (is(c, "Extension")) {
			err = dec_spt_ext(d, c, t);
		}
	}
	return err;
}


/*
 * tSePoTri.  An SPT in several Groups takes part in each of them with the
 * same truth value, so it becomes one cx_spt per Group (as in Kamailio).
 */
static int dec_spt(struct dec *d, const xmlNode *n, struct cx_ifc *ifc)
{
	struct cx_spt t;
	bool found = false;
	size_t groups = 0;
	int err = 0;

	memset(&t, 0, sizeof(t));
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (is(c, "ConditionNegated"))
			err = boolean(d, c, "SPT ConditionNegated", &t.negated);
		else if (is(c, "Group"))
			groups++;
		else if (is(c, "Extension"))
			err = dec_spt_ext(d, c, &t);
		else
			err = dec_spt_condition(d, c, &t, &found);
	}
	if (!err && !found)
		err = bad(d, "SPT without a condition (RequestURI, Method, "
			     "SIPHeader, SessionCase or SessionDescription)");
	if (!err && !groups)
		err = bad(d, "SPT without a Group element");

	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		struct cx_spt *spt;
		long long g;

		if (!is(c, "Group"))
			continue;
		err = integer(d, c, "SPT Group", 0, INT_MAX, &g);
		if (err)
			break;
		spt = cx_spt_add(d->sub, ifc, ifc->tp->cnf, t.kind, (int)g);
		if (!spt) {
			err = ENOMEM;
			break;
		}
		spt->negated = t.negated;
		spt->session_case = t.session_case;
		spt->reg_type = t.reg_type;
		spt->a = cx_strdup(d->sub, t.a);
		spt->b = cx_strdup(d->sub, t.b);
		if ((t.a && !spt->a) || (t.b && !spt->b))
			err = ENOMEM;
	}
	spt_release(&t);
	return err;
}


static int dec_tp(struct dec *d, const xmlNode *n, struct cx_ifc *ifc)
{
	bool cnf = false, seen = false;
	int err = 0;

	if (ifc->tp)
		return bad(d, "InitialFilterCriteria has more than one "
			      "TriggerPoint");
	/* ConditionTypeCNF first: the SPTs are read into its form */
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (!is(c, "ConditionTypeCNF"))
			continue;
		if (seen)
			return bad(d, "TriggerPoint has more than one "
				      "ConditionTypeCNF");
		seen = true;
		err = boolean(d, c, "TriggerPoint ConditionTypeCNF", &cnf);
	}
	if (err)
		return err;
	if (!tp_ensure(ifc, cnf))
		return ENOMEM;
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (is(c, "SPT"))
			err = dec_spt(d, c, ifc);
	}
	if (!err && !ifc->tp->spt_n)
		err = bad(d, "TriggerPoint without an SPT");
	return err;
}


static int dec_as_ext(struct dec *d, const xmlNode *ext, struct cx_ifc *ifc)
{
	int err = 0;

	for (const xmlNode *c = ext->children; !err && c; c = c->next) {
		if (is(c, "IncludeRegisterRequest"))
			ifc->include_register_request = true;
		else if (is(c, "IncludeRegisterResponse"))
			ifc->include_register_response = true;
		else if (is(c, "Extension"))
			err = dec_as_ext(d, c, ifc);
	}
	return err;
}


static const char *const dh_labels[] = {
	"SESSION_CONTINUED",
	"SESSION_TERMINATED",
};

static int dec_as(struct dec *d, const xmlNode *n, struct cx_ifc *ifc)
{
	int err = 0;

	if (ifc->as_uri)
		return bad(d, "InitialFilterCriteria has more than one "
			      "ApplicationServer");
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		int v;

		if (is(c, "ServerName")) {
			err = ifc->as_uri ? bad(d, "ApplicationServer has "
						   "more than one ServerName")
					  : text_req(d, c, &ifc->as_uri);
		} else if (is(c, "DefaultHandling")) {
			err = enumeration(d, c,
					  "ApplicationServer DefaultHandling",
					  dh_labels, 2, &v);
			if (!err)
				ifc->default_handling =
					(enum cx_default_handling)v;
		} else if (is(c, "ServiceInfo")) {
			/* opaque to the S-CSCF: passed on as it came */
			err = text_set(d, c, false, &ifc->service_info);
		} else if (is(c, "Extension")) {
			err = dec_as_ext(d, c, ifc);
		}
	}
	if (!err && !ifc->as_uri)
		err = bad(d, "ApplicationServer without a ServerName element");
	return err;
}


static const char *const ppi_labels[] = {
	"REGISTERED",
	"UNREGISTERED",
};

static int dec_ifc(struct dec *d, const xmlNode *n,
		   struct cx_service_profile *sp)
{
	struct cx_ifc *ifc;
	bool prio = false, as = false;
	int err = 0;

	ifc = cx_ifc_add(d->sub, sp, 0, NULL);
	if (!ifc)
		return ENOMEM;
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		long long v;
		int e;

		if (is(c, "Priority")) {
			if (prio)
				return bad(d, "InitialFilterCriteria has more "
					      "than one Priority");
			prio = true;
			err = integer(d, c, "InitialFilterCriteria Priority",
				      INT_MIN, INT_MAX, &v);
			if (!err)
				ifc->priority = (int)v;
		} else if (is(c, "TriggerPoint")) {
			err = dec_tp(d, c, ifc);
		} else if (is(c, "ApplicationServer")) {
			as = true;
			err = dec_as(d, c, ifc);
		} else if (is(c, "ProfilePartIndicator")) {
			err = enumeration(d, c,
					  "InitialFilterCriteria "
					  "ProfilePartIndicator",
					  ppi_labels, 2, &e);
			if (!err)
				ifc->ppi = (enum cx_profile_part)e;
		}
	}
	if (!err && !prio)
		err = bad(d,
			  "InitialFilterCriteria without a Priority element");
	if (!err && !as)
		err = bad(d, "InitialFilterCriteria without an "
			     "ApplicationServer element");
	return err;
}


static int dec_cnsa(struct dec *d, const xmlNode *n,
		    struct cx_service_profile *sp)
{
	int err = 0;

	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		long long v;

		if (!is(c, "SubscribedMediaProfileId"))
			continue;
		err = integer(d, c, "SubscribedMediaProfileId", 0, INT_MAX, &v);
		if (!err)
			sp->media_profile = (int)v;
	}
	return err;
}


static int dec_sp_ext(struct dec *d, const xmlNode *ext,
		      struct cx_service_profile *sp)
{
	int err = 0;

	for (const xmlNode *c = ext->children; !err && c; c = c->next) {
		unsigned *ids;
		long long v;

		if (is(c, "Extension")) {
			err = dec_sp_ext(d, c, sp);
			continue;
		}
		if (!is(c, "SharedIFCSetID"))
			continue;
		err = integer(d, c, "SharedIFCSetID", 0, UINT32_MAX, &v);
		if (err)
			break;
		ids = grow(sp->shared_ifc, sp->shared_ifc_n,
			   sizeof(*sp->shared_ifc));
		if (!ids)
			return ENOMEM;
		sp->shared_ifc = ids;
		sp->shared_ifc[sp->shared_ifc_n++] = (unsigned)v;
	}
	return err;
}


static int ifc_idx_cmp(const void *a, const void *b, void *arg)
{
	const struct cx_ifc *ifc = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (ifc[x].priority != ifc[y].priority)
		return ifc[x].priority < ifc[y].priority ? -1 : 1;
	return (x > y) - (x < y);
}


/* Stable sort of the iFCs by Priority (TS 29.228 B.2.2: the S-CSCF
 * evaluates in increasing Priority). */
static int ifc_sort(struct cx_service_profile *sp)
{
	struct cx_ifc *sorted;
	size_t *idx;

	if (sp->ifc_n < 2)
		return 0;
	idx = calloc(sp->ifc_n, sizeof(*idx));
	sorted = mem_alloc(sp->ifc_n * sizeof(*sorted), NULL);
	if (!idx || !sorted) {
		free(idx);
		mem_deref(sorted);
		return ENOMEM;
	}
	for (size_t i = 0; i < sp->ifc_n; i++)
		idx[i] = i;
	qsort_r(idx, sp->ifc_n, sizeof(*idx), ifc_idx_cmp, sp->ifc);
	for (size_t i = 0; i < sp->ifc_n; i++)
		sorted[i] = sp->ifc[idx[i]];
	mem_deref(sp->ifc);
	sp->ifc = sorted;
	free(idx);
	return 0;
}


static int dec_sp(struct dec *d, const xmlNode *n)
{
	struct cx_service_profile *sp;
	int err = 0;

	sp = cx_sp_add(d->sub);
	if (!sp)
		return ENOMEM;
	for (const xmlNode *c = n->children; !err && c; c = c->next) {
		if (is(c, "PublicIdentity"))
			err = dec_pub(d, c, sp);
		else if (is(c, "InitialFilterCriteria"))
			err = dec_ifc(d, c, sp);
		else if (is(c, "CoreNetworkServicesAuthorization"))
			err = dec_cnsa(d, c, sp);
		else if (is(c, "Extension"))
			err = dec_sp_ext(d, c, sp);
	}
	if (!err && !sp->pub_n)
		err = bad(d, "ServiceProfile without a PublicIdentity");
	if (!err)
		err = ifc_sort(sp);
	return err;
}


static int dec_root(struct dec *d, const xmlNode *root)
{
	int err = 0;

	if (!is(root, "IMSSubscription"))
		return bad(d,
			   "the root element is <%.40s>, not "
			   "<IMSSubscription>",
			   (const char *)root->name);
	for (const xmlNode *c = root->children; !err && c; c = c->next) {
		if (is(c, "PrivateID")) {
			if (d->sub->private_id)
				return bad(d, "IMSSubscription has more than "
					      "one PrivateID");
			err = text_req(d, c, &d->sub->private_id);
		} else if (is(c, "ServiceProfile")) {
			err = dec_sp(d, c);
		}
	}
	if (!err && !d->sub->private_id)
		err = bad(d, "IMSSubscription without a PrivateID element");
	if (!err && !d->sub->sp_n)
		err = bad(d, "IMSSubscription without a ServiceProfile");
	return err;
}


/**
 * Decode the User-Data XML of a Cx SAA/PPA (or Sh) into a subscription.
 *
 * @param subp   the subscription on success (mem_deref it)
 * @param xml    the document (need not be NUL-terminated)
 * @param len    its length, at most CX_USERDATA_MAX
 * @param err    where to put a sentence saying what is wrong, or NULL
 * @param errsz  size of err
 * @return 0, EBADMSG (not XML, a DOCTYPE, not an IMSSubscription, or a
 *         value the schema forbids), EMSGSIZE, EINVAL or ENOMEM
 */
int cx_userdata_decode(struct cx_subscription **subp, const char *xml,
		       size_t len, char *err, size_t errsz)
{
	static const struct xmlu_parse_opts popts = {
		.max = (size_t)CX_USERDATA_MAX, .what = "User-Data"
	};
	struct dec d = { .err = err, .errsz = errsz };
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int e;

	if (err && errsz)
		err[0] = '\0';
	if (!subp || (!xml && len))
		return EINVAL;
	e = xmlu_parse(&doc, xml, len, &popts, err, errsz);
	if (e)
		goto out;
	root = xmlDocGetRootElement(doc);

	d.sub = cx_subscription_alloc(NULL);
	if (!d.sub) {
		e = ENOMEM;
		goto out;
	}
	e = dec_root(&d, root);
	if (!e) {
		*subp = d.sub;
		d.sub = NULL;
	}
out:
	mem_deref(d.sub);
	if (doc)
		xmlFreeDoc(doc);
	return e;
}
