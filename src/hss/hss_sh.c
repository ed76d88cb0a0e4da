/**
 * @file hss_sh.c  The Sh procedures of the HSS (TS 29.328 6.1, TS 29.329):
 *                 Sh-Pull (UDR), Sh-Update (PUR), Sh-Subs-Notif (SNR) and
 *                 Sh-Notif (PNR), with the Sh-Data XML of TS 29.328
 *                 annex D.
 *
 * Data this HSS serves (Data-Reference, TS 29.328 7.6):
 *   RepositoryData (0)        per IMPU and Service-Indication, with the
 *                             Sequence-Number of 7.6.1 (store_sh_data_*)
 *   IMSPublicIdentity (10)    the user's public identities by Identity-Set
 *   IMSUserState (11)         from the Cx registration state
 *   S-CSCFName (12)           the assigned S-CSCF
 *   InitialFilterCriteria (13) the iFCs of the identity's service profile
 * Others are refused: DIAMETER_ERROR_USER_DATA_CANNOT_BE_READ (UDR),
 * _CANNOT_BE_MODIFIED (PUR), _CANNOT_BE_NOTIFIED (SNR).  There is no
 * per-AS permission list: every AS that reaches the HSS may read all of
 * the above and update repository data.
 *
 * Sh-Data (annex D, tShData) is written with libxml2's writer through the
 * core/xml.h helpers (a string XML 1.0 cannot carry is EINVAL, answered
 * DIAMETER_UNABLE_TO_COMPLY, rather than a document the AS cannot parse)
 * in schema order: PublicIdentifiers, RepositoryData*, Sh-IMS-Data
 * {S-CSCFName, IFCs, IMSUserState}.  The InitialFilterCriteria elements
 * are those of the Cx user profile (cx_userdata_encode, the same
 * tInitialFilterCriteria type), copied from its XML.  ServiceData is
 * opaque to the HSS: the children of the PUR's ServiceData are kept as
 * XML text and written back verbatim (after checking it is a well-formed
 * fragment).
 *
 * Incoming XML is parsed by xmlu_parse() like the Cx User-Data: no
 * network, no entity substitution, no DOCTYPE, a size limit
 * (CX_USERDATA_MAX).
 */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xml.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/sh.h"
#include "diameter/userdata.h"
#include "hss/hss_int.h"

#define LOG_MODULE "hss"

#define V3 DIA_VENDOR_3GPP

/* TS 29.328 annex D tIMSUserState */
enum sh_ims_user_state {
	SH_REGISTERED = 0,
	SH_NOT_REGISTERED = 1,
	SH_AUTHENTICATION_PENDING = 2,
	SH_REGISTERED_UNREG_SERVICES = 3,
};

/* Parse untrusted XML: NULL when it is not a well-formed document
 * without a DOCTYPE. */
static xmlDocPtr xml_parse(const char *p, size_t len)
{
	static const struct xmlu_parse_opts popts = {
		.max = (size_t)CX_USERDATA_MAX
	};
	xmlDocPtr doc = NULL;

	return xmlu_parse(&doc, p, len, &popts, NULL, 0) ? NULL : doc;
}


static bool is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       !xmlStrcmp(n->name, BAD_CAST name);
}


static xmlNodePtr child(const xmlNode *n, const char *name)
{
	xmlNodePtr c;

	for (c = n ? n->children : NULL; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}


/* ---- the Sh-Data writer ---- */

struct shd {
	struct hss *hss;
	const struct store_impu *u; /* the user's identity (resolved) */
	xmlTextWriterPtr w;         /* xw->w */
	struct xmlu_writer *xw;
};


/* TS 29.328 7.6.2 / D: PublicIdentifiers by Identity-Set. */
static bool in_set(const struct store_impu *me, const struct store_impu *o,
		   uint32_t set)
{
	switch (set) {
	case DIA_REGISTERED_IDENTITIES:
		return o->reg_state == STORE_REG_REGISTERED;
	case DIA_IMPLICIT_IDENTITIES:
		return !strcmp(o->identity, me->identity) ||
		       (me->irs && o->irs == me->irs);
	case DIA_ALIAS_IDENTITIES:
		return !strcmp(o->identity, me->identity) ||
		       (me->alias_group && o->alias_group &&
			!strcmp(me->alias_group, o->alias_group));
	default:
		return true; /* ALL_IDENTITIES */
	}
}


static int w_public(struct shd *d, const uint32_t *idset, size_t idset_n)
{
	struct list l = LIST_INIT;
	struct le *le;
	size_t k;
	int err;

	err = store_impu_list(d->hss->st, d->u->subscription, &l);
	if (!err)
		err = xmlu_start(d->w, "PublicIdentifiers");
	LIST_FOREACH (&l, le) {
		const struct store_impu *o = le->data;
		bool want = idset_n == 0;

		for (k = 0; k < idset_n; k++)
			if (in_set(d->u, o, idset[k]))
				want = true;
		if (!err && want)
			err = xmlu_elem(d->w, "IMSPublicIdentity", o->identity);
	}
	if (!err)
		err = xmlu_end(d->w);
	list_flush(&l);
	return err;
}


/* Stored ServiceData is written back as XML when it is a well-formed
 * fragment (it came from a PUR), else as text. */
static int w_service_data(xmlTextWriterPtr w, const char *data)
{
	xmlNodePtr list = NULL;
	int rc, err;

	err = xmlu_start(w, "ServiceData");
	if (err)
		return err;
	rc = xmlParseBalancedChunkMemory(NULL, NULL, NULL, 0, BAD_CAST data,
					 &list);
	if (list)
		xmlFreeNodeList(list);
	if (rc == 0)
		err = xmlu_raw(w, data);
	else
		err = xmlu_text(w, data);
	if (!err)
		err = xmlu_end(w);
	return err;
}


static int w_repository(struct shd *d, const char *si)
{
	char *data = NULL;
	uint32_t seq = 0;
	int err;

	err = store_sh_data_get(d->hss->st, d->u->identity, si, &seq, &data);
	if (err == ENOENT)
		return 0; /* no data for this Service-Indication */
	if (err)
		return err;
	err = xmlu_start(d->w, "RepositoryData");
	if (!err)
		err = xmlu_elem(d->w, "ServiceIndication", si);
	if (!err)
		err = xmlu_elem_u64(d->w, "SequenceNumber", seq);
	if (!err)
		err = w_service_data(d->w, data);
	if (!err)
		err = xmlu_end(d->w);
	mem_deref(data);
	return err;
}


/* The iFCs of the service profile holding the identity, copied from the
 * Cx User-Data XML. */
static int w_ifcs(struct shd *d)
{
	struct cx_subscription *cx = NULL;
	struct buf *mb = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr sp, n, pub;
	xmlBufferPtr nb = NULL;
	int err;

	err = xmlu_start(d->w, "IFCs");
	if (err)
		return err;
	err = store_cx_build(d->hss->st, NULL, d->u->identity, &cx);
	if (err == ENOENT)
		goto end;
	if (!err)
		err = buf_alloc(&mb, 4096, (size_t)CX_USERDATA_MAX);
	if (!err)
		err = cx_userdata_encode(mb, cx);
	if (err)
		goto out;
	doc = xml_parse((const char *)mb->b, mb->end);
	nb = xmlBufferCreate();
	if (!doc || !nb) {
		err = ENOMEM;
		goto out;
	}
	for (sp = xmlDocGetRootElement(doc)->children; sp; sp = sp->next) {
		bool mine = false;

		if (!is_elem(sp, "ServiceProfile"))
			continue;
		for (pub = sp->children; pub; pub = pub->next) {
			xmlNodePtr id = child(pub, "Identity");
			xmlChar *t;

			if (!is_elem(pub, "PublicIdentity") || !id)
				continue;
			t = xmlNodeGetContent(id);
			if (t && !xmlStrcmp(t, BAD_CAST d->u->identity))
				mine = true;
			xmlFree(t);
		}
		if (!mine)
			continue;
		for (n = sp->children; !err && n; n = n->next) {
			if (!is_elem(n, "InitialFilterCriteria"))
				continue;
			xmlBufferEmpty(nb);
			if (xmlNodeDump(nb, doc, n, 0, 0) < 0)
				err = ENOMEM;
			else
				err = xmlu_raw(
					d->w,
					(const char *)xmlBufferContent(nb));
		}
	}
out:
	if (nb)
		xmlBufferFree(nb);
	if (doc)
		xmlFreeDoc(doc);
	mem_deref(mb);
	mem_deref(cx);
	if (err)
		return err;
end:
	return xmlu_end(d->w);
}


static int w_ims_data(struct shd *d, bool scscf, bool ifcs, bool state)
{
	struct store_subscription *sub = NULL;
	enum sh_ims_user_state s;
	int err;

	err = xmlu_start(d->w, "Sh-IMS-Data");
	if (!err && scscf) {
		err = store_sub_get(d->hss->st, d->u->subscription, &sub);
		if (!err && sub->scscf_assigned)
			err = xmlu_elem(d->w, "S-CSCFName",
					sub->scscf_assigned);
		mem_deref(sub);
	}
	if (!err && ifcs)
		err = w_ifcs(d);
	if (!err && state) {
		switch (d->u->reg_state) {
		case STORE_REG_REGISTERED:
			s = SH_REGISTERED;
			break;
		case STORE_REG_UNREGISTERED:
			s = SH_REGISTERED_UNREG_SERVICES;
			break;
		default:
			s = SH_NOT_REGISTERED;
			break;
		}
		err = xmlu_elem_long(d->w, "IMSUserState", (long)s);
	}
	if (!err)
		err = xmlu_end(d->w);
	return err;
}


static bool has_ref(const uint32_t *v, size_t n, uint32_t r)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (v[k] == r)
			return true;
	return false;
}


/*
 * The Sh-Data document for the data references asked for (TS 29.328
 * annex D), appended to a new buffer.
 */
static int shdata_build(struct hss *hss, const struct store_impu *u,
			const uint32_t *dref, size_t dref_n, char **si,
			size_t si_n, const uint32_t *idset, size_t idset_n,
			struct buf **mbp)
{
	struct shd d;
	struct buf *mb = NULL;
	size_t k;
	int err;

	memset(&d, 0, sizeof(d));
	d.hss = hss;
	d.u = u;
	err = xmlu_writer_alloc(&d.xw);
	if (err)
		return err;
	d.w = d.xw->w;
	err = xmlu_start(d.w, "Sh-Data");
	if (!err && has_ref(dref, dref_n, DIA_DR_IMS_PUBLIC_IDENTITY))
		err = w_public(&d, idset, idset_n);
	for (k = 0;
	     !err && has_ref(dref, dref_n, DIA_DR_REPOSITORY_DATA) && k < si_n;
	     k++)
		err = w_repository(&d, si[k]);
	if (!err && (has_ref(dref, dref_n, DIA_DR_SCSCF_NAME) ||
		     has_ref(dref, dref_n, DIA_DR_INITIAL_FILTER_CRITERIA) ||
		     has_ref(dref, dref_n, DIA_DR_IMS_USER_STATE)))
		err = w_ims_data(
			&d, has_ref(dref, dref_n, DIA_DR_SCSCF_NAME),
			has_ref(dref, dref_n, DIA_DR_INITIAL_FILTER_CRITERIA),
			has_ref(dref, dref_n, DIA_DR_IMS_USER_STATE));
	/* the document travels in one Diameter message */
	if (!err)
		err = buf_alloc(&mb, 4096, DIA_MSG_MAX);
	if (!err)
		err = xmlu_writer_finish(d.xw, mb);
	mem_deref(d.xw);
	if (err)
		mem_deref(mb);
	else
		*mbp = mb;
	return err;
}


/* ---- common ---- */

static bool dref_readable(uint32_t r)
{
	return r == DIA_DR_REPOSITORY_DATA || r == DIA_DR_IMS_PUBLIC_IDENTITY ||
	       r == DIA_DR_IMS_USER_STATE || r == DIA_DR_SCSCF_NAME ||
	       r == DIA_DR_INITIAL_FILTER_CRITERIA;
}


/* The Service-Indications as C strings (mem_deref each). */
static int si_dup(const struct pl *v, size_t n, char **out)
{
	size_t k;
	int err = 0;

	for (k = 0; !err && k < n; k++)
		err = pl_strdup(&out[k], &v[k]);
	return err;
}


static void si_free(char **v, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		v[k] = mem_deref(v[k]);
}


/* TS 29.328 6.1.x step 1: the identity must be known (MSISDN is not
 * stored here: an MSISDN-only request names an unknown user). */
static int sh_user(struct hss *hss, const struct sh_user_identity *uid,
		   struct store_impu **up, struct cx_result *res)
{
	char *s = NULL;
	int err;

	res->code = 0;
	if (!pl_isset(&uid->impu)) {
		*res = hss_exp(DIA_ERROR_USER_UNKNOWN);
		return 0;
	}
	err = pl_strdup(&s, &uid->impu);
	if (err)
		return err;
	err = store_impu_resolve(hss->st, s, up);
	mem_deref(s);
	if (err == ENOENT)
		*res = hss_exp(DIA_ERROR_USER_UNKNOWN);
	else if (err)
		*res = hss_store_failed("Sh", err);
	return 0;
}


/* ---- UDR: TS 29.328 6.1.1 ---- */

int hss_udr(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp)
{
	struct store_impu *u = NULL;
	struct buf *mb = NULL;
	char *si[SH_SI_MAX] = { NULL };
	struct sh_udr udr;
	struct sh_uda uda;
	size_t k;
	int err;

	memset(&uda, 0, sizeof(uda));
	if (sh_udr_decode(req, &udr)) {
		uda.res = hss_base(DIA_INVALID_AVP_VALUE);
		return sh_uda_encode(ansp, req, &hss->o, &uda);
	}
	err = sh_user(hss, &udr.uid, &u, &uda.res);
	if (err || uda.res.code)
		goto out;
	for (k = 0; k < udr.dref_n; k++) {
		if (!dref_readable(udr.dref[k])) {
			uda.res = hss_exp(DIA_ERROR_USER_DATA_CANNOT_BE_READ);
			goto out;
		}
	}
	if (has_ref(udr.dref, udr.dref_n, DIA_DR_REPOSITORY_DATA) &&
	    !udr.si_n) {
		/* TS 29.328 7.6.1: repository data is addressed by
		 * Service-Indication */
		uda.res = hss_base(DIA_MISSING_AVP);
		goto out;
	}
	if (!pl_eq_str(&udr.uid.impu, u->identity))
		uda.wildcarded = cx_pl(u->identity);
	err = si_dup(udr.si, udr.si_n, si);
	if (!err)
		err = shdata_build(hss, u, udr.dref, udr.dref_n, si, udr.si_n,
				   udr.idset, udr.idset_n, &mb);
	if (err == ENOMEM)
		goto out;
	if (err) {
		uda.res = hss_store_failed("UDR", err);
		err = 0;
		goto out;
	}
	uda.res = hss_ok();
	pl_set(&uda.user_data, (const char *)mb->b, mb->end);
out:
	if (!err)
		err = sh_uda_encode(ansp, req, &hss->o, &uda);
	si_free(si, SH_SI_MAX);
	mem_deref(mb);
	mem_deref(u);
	return err;
}


/* ---- PUR: TS 29.328 6.1.2 ---- */

/* The one RepositoryData of an Sh-Update: Service-Indication, Sequence-
 * Number, and the ServiceData children as text (NULL: delete). */
struct repo {
	char *si;
	uint32_t seq;
	char *data;
	size_t data_len;
};


static void repo_reset(struct repo *r)
{
	r->si = mem_deref(r->si);
	r->data = mem_deref(r->data);
}


static int node_text(xmlNodePtr n, char **out)
{
	xmlChar *t = xmlNodeGetContent(n);
	int err;

	if (!t)
		return EBADMSG;
	err = store_strset(out, (const char *)t);
	xmlFree(t);
	return err;
}


static int repo_parse(const struct pl *xml, struct repo *r)
{
	xmlDocPtr doc;
	xmlNodePtr root, rd, n, sd;
	xmlBufferPtr nb = NULL;
	char *seq = NULL, *end;
	unsigned long v;
	int err = 0, count = 0;

	memset(r, 0, sizeof(*r));
	doc = xml_parse(xml->p, xml->l);
	if (!doc)
		return EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (!is_elem(root, "Sh-Data")) {
		err = EBADMSG;
		goto out;
	}
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* an update carries repository data only (7.6.1) */
		if (!is_elem(n, "RepositoryData") || count++) {
			err = EBADMSG;
			goto out;
		}
	}
	rd = child(root, "RepositoryData");
	if (!rd || !child(rd, "ServiceIndication") ||
	    !child(rd, "SequenceNumber")) {
		err = EBADMSG;
		goto out;
	}
	err = node_text(child(rd, "ServiceIndication"), &r->si);
	if (!err)
		err = node_text(child(rd, "SequenceNumber"), &seq);
	if (err)
		goto out;
	v = strtoul(seq, &end, 10);
	if (!*r->si || end == seq || *end || v > 65535) {
		err = EBADMSG;
		goto out;
	}
	r->seq = (uint32_t)v;
	sd = child(rd, "ServiceData");
	if (!sd)
		goto out; /* no ServiceData: delete */
	nb = xmlBufferCreate();
	if (!nb) {
		err = ENOMEM;
		goto out;
	}
	for (n = sd->children; n && !err; n = n->next)
		if (xmlNodeDump(nb, doc, n, 0, 0) < 0)
			err = ENOMEM;
	if (!err) {
		r->data_len = (size_t)xmlBufferLength(nb);
		r->data = mem_strdup((const char *)xmlBufferContent(nb),
				     r->data_len);
		if (!r->data)
			err = ENOMEM;
	}
out:
	if (nb)
		xmlBufferFree(nb);
	mem_deref(seq);
	xmlFreeDoc(doc);
	if (err)
		repo_reset(r);
	return err;
}


int hss_pur(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp)
{
	struct store_impu *u = NULL;
	struct repo r = { NULL, 0, NULL, 0 };
	struct sh_pur pur;
	struct sh_pua pua;
	size_t k;
	int err;

	memset(&pua, 0, sizeof(pua));
	if (sh_pur_decode(req, &pur)) {
		pua.res = hss_base(DIA_INVALID_AVP_VALUE);
		return sh_pua_encode(ansp, req, &hss->o, &pua);
	}
	err = sh_user(hss, &pur.uid, &u, &pua.res);
	if (err || pua.res.code)
		goto out;
	/* TS 29.328 6.1.2.1: only repository data may be updated here */
	for (k = 0; k < pur.dref_n; k++) {
		if (pur.dref[k] != DIA_DR_REPOSITORY_DATA) {
			pua.res =
				hss_exp(DIA_ERROR_USER_DATA_CANNOT_BE_MODIFIED);
			goto out;
		}
	}
	err = repo_parse(&pur.user_data, &r);
	if (err == EBADMSG) {
		pua.res = hss_exp(DIA_ERROR_USER_DATA_NOT_RECOGNIZED);
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	if (r.data && r.data_len > hss->conf.sh_data_max) {
		pua.res = hss_exp(DIA_ERROR_TOO_MUCH_DATA);
		goto out;
	}
	err = store_sh_data_put(hss->st, u->identity, r.si, r.seq, r.data);
	/* TS 29.328 6.1.2.1: the sequence number must follow the stored
	 * one (data that is gone cannot be deleted twice either) */
	if (err == EAGAIN || err == ENOENT || err == EINVAL) {
		pua.res = hss_exp(DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC);
		err = 0;
		goto out;
	}
	if (err) {
		pua.res = hss_store_failed("PUR", err);
		err = 0;
		goto out;
	}
	pua.res = hss_ok();
	/* TS 29.328 6.1.4: subscribers of this repository data hear of it */
	hss_sh_notify(hss, u->identity, DIA_DR_REPOSITORY_DATA, r.si);
out:
	if (!err)
		err = sh_pua_encode(ansp, req, &hss->o, &pua);
	repo_reset(&r);
	mem_deref(u);
	return err;
}


/* ---- SNR: TS 29.328 6.1.3 ---- */

static int snr_subscribe(struct hss *hss, const struct dia_msg *req,
			 const struct sh_snr *snr, const struct store_impu *u,
			 char **si, struct sh_sna *sna)
{
	struct store_sh_sub in;
	struct pl oh = PL_INIT;
	char *host = NULL, *data = NULL;
	int64_t now = (int64_t)time(NULL), exp = 0;
	uint32_t seq;
	size_t k, j;
	int err;

	/* repository data must exist to be subscribed to (5106) */
	for (k = 0; has_ref(snr->dref, snr->dref_n, DIA_DR_REPOSITORY_DATA) &&
		    k < snr->si_n;
	     k++) {
		err = store_sh_data_get(hss->st, u->identity, si[k], &seq,
					&data);
		data = mem_deref(data);
		if (err == ENOENT) {
			sna->res = hss_exp(DIA_ERROR_SUBS_DATA_ABSENT);
			return 0;
		}
		if (err)
			return err;
	}
	/* TS 29.328 6.1.3.1: the HSS may shorten the expiry it is asked
	 * for, and says which it took */
	if (hss->conf.sh_expiry_max)
		exp = now + hss->conf.sh_expiry_max;
	if (snr->has_expiry && (int64_t)snr->expiry > now &&
	    (!exp || (int64_t)snr->expiry < exp))
		exp = (int64_t)snr->expiry;

	if (dia_get_pl(&req->root, DIA_AVP_ORIGIN_HOST, 0, &oh))
		return EBADMSG; /* validation made it mandatory */
	err = pl_strdup(&host, &oh);
	if (err)
		return err;
	memset(&in, 0, sizeof(in));
	in.impu = u->identity;
	in.origin_host = host;
	in.expiry = exp;
	for (k = 0; !err && k < snr->dref_n; k++) {
		in.data_ref = (int)snr->dref[k];
		if (snr->dref[k] != DIA_DR_REPOSITORY_DATA) {
			in.service_indication = NULL;
			err = store_sh_sub_add(hss->st, &in);
			continue;
		}
		for (j = 0; !err && j < snr->si_n; j++) {
			in.service_indication = si[j];
			err = store_sh_sub_add(hss->st, &in);
		}
	}
	mem_deref(host);
	if (err)
		return err;
	sna->res = hss_ok();
	sna->has_expiry = exp != 0;
	sna->expiry = (uint64_t)exp;
	return 0;
}


static int snr_unsubscribe(struct hss *hss, const struct dia_msg *req,
			   const struct sh_snr *snr, const struct store_impu *u,
			   char **si, struct sh_sna *sna)
{
	struct store_sh_sub key;
	struct pl oh = PL_INIT;
	char *host = NULL;
	size_t k, j;
	int err;

	if (dia_get_pl(&req->root, DIA_AVP_ORIGIN_HOST, 0, &oh))
		return EBADMSG; /* validation made it mandatory */
	err = pl_strdup(&host, &oh);
	if (err)
		return err;
	memset(&key, 0, sizeof(key));
	key.impu = u->identity;
	key.origin_host = host;
	for (k = 0; !err && k < snr->dref_n; k++) {
		key.data_ref = (int)snr->dref[k];
		for (j = 0; !err && j < (snr->dref[k] == DIA_DR_REPOSITORY_DATA
						 ? snr->si_n
						 : 1);
		     j++) {
			key.service_indication =
				snr->dref[k] == DIA_DR_REPOSITORY_DATA ? si[j]
								       : NULL;
			err = store_sh_sub_delete(hss->st, &key);
			if (err == ENOENT)
				err = 0; /* nothing to remove is no error */
		}
	}
	mem_deref(host);
	if (!err)
		sna->res = hss_ok();
	return err;
}


int hss_snr(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp)
{
	struct store_impu *u = NULL;
	struct buf *mb = NULL;
	char *si[SH_SI_MAX] = { NULL };
	struct sh_snr snr;
	struct sh_sna sna;
	size_t k;
	int err;

	memset(&sna, 0, sizeof(sna));
	if (sh_snr_decode(req, &snr)) {
		sna.res = hss_base(DIA_INVALID_AVP_VALUE);
		return sh_sna_encode(ansp, req, &hss->o, &sna);
	}
	err = sh_user(hss, &snr.uid, &u, &sna.res);
	if (err || sna.res.code)
		goto out;
	for (k = 0; k < snr.dref_n; k++) {
		if (!dref_readable(snr.dref[k])) {
			sna.res =
				hss_exp(DIA_ERROR_USER_DATA_CANNOT_BE_NOTIFIED);
			goto out;
		}
	}
	if (has_ref(snr.dref, snr.dref_n, DIA_DR_REPOSITORY_DATA) &&
	    !snr.si_n) {
		sna.res = hss_base(DIA_MISSING_AVP);
		goto out;
	}
	if (!pl_eq_str(&snr.uid.impu, u->identity))
		sna.wildcarded = cx_pl(u->identity);
	err = si_dup(snr.si, snr.si_n, si);
	if (err)
		goto out;
	if (snr.subs_req_type == DIA_SUBS_SUBSCRIBE)
		err = snr_subscribe(hss, req, &snr, u, si, &sna);
	else if (snr.subs_req_type == DIA_SUBS_UNSUBSCRIBE)
		err = snr_unsubscribe(hss, req, &snr, u, si, &sna);
	else
		sna.res = hss_base(DIA_INVALID_AVP_VALUE);
	/* Send-Data-Indication: the current data with the answer */
	if (!err && sna.res.code == DIA_SUCCESS && !sna.res.vendor &&
	    snr.subs_req_type == DIA_SUBS_SUBSCRIBE && snr.send_data == 1) {
		err = shdata_build(hss, u, snr.dref, snr.dref_n, si, snr.si_n,
				   snr.idset, snr.idset_n, &mb);
		if (!err)
			pl_set(&sna.user_data, (const char *)mb->b, mb->end);
	}
	if (err && err != ENOMEM) {
		sna.res = hss_store_failed("SNR", err);
		sna.has_expiry = false;
		sna.user_data.l = 0;
		err = 0;
	}
out:
	if (!err)
		err = sh_sna_encode(ansp, req, &hss->o, &sna);
	si_free(si, SH_SI_MAX);
	mem_deref(mb);
	mem_deref(u);
	return err;
}


/* ---- PNR: TS 29.328 6.1.4 ---- */

static void pna_handler(struct hss *hss, int err, const struct dia_msg *ans,
			void *arg)
{
	struct store_sh_sub *s = arg;
	struct sh_pna pna;

	if (err || sh_pna_decode(ans, &pna)) {
		LOG_WARN(NULL, "PNR to %s for %s: no usable PNA (%s)",
			 s->origin_host, s->impu,
			 log_strerror(err ? err : EBADMSG));
		return;
	}
	if (pna.res.code == DIA_SUCCESS && !pna.res.vendor)
		return;
	LOG_WARN(NULL, "PNR to %s for %s: PNA result %u", s->origin_host,
		 s->impu, pna.res.code);
	/* TS 29.329 6.2.2.8: the AS no longer wants it */
	if (pna.res.vendor &&
	    (pna.res.code == DIA_ERROR_NO_SUBSCRIPTION_TO_DATA ||
	     pna.res.code == DIA_ERROR_USER_UNKNOWN) &&
	    store_sh_sub_delete(hss->st, s))
		LOG_WARN(NULL, "Sh subscription of %s for %s not removed",
			 s->origin_host, s->impu);
}


/* The realm of an AS's Diameter identity: what follows its first label
 * (the subscription table keeps the host only). */
static struct pl realm_of(const struct hss *hss, const char *host)
{
	const char *dot = strchr(host, '.');

	return cx_pl(dot && dot[1] ? dot + 1 : hss->conf.realm);
}


static int pnr_one(struct hss *hss, const struct store_impu *u,
		   struct store_sh_sub *s)
{
	struct dia_msg *req = NULL;
	struct buf *mb = NULL;
	uint32_t dref = (uint32_t)s->data_ref;
	char *si = s->service_indication;
	struct cx_route rt;
	struct sh_pnr pnr;
	int err;

	err = shdata_build(hss, u, &dref, 1, &si, si && *si ? 1 : 0, NULL, 0,
			   &mb);
	if (err)
		return err;
	memset(&rt, 0, sizeof(rt));
	rt.origin_host = hss->o.host;
	rt.origin_realm = hss->o.realm;
	rt.dest_host = cx_pl(s->origin_host);
	rt.dest_realm = realm_of(hss, s->origin_host);
	memset(&pnr, 0, sizeof(pnr));
	pnr.uid.impu = cx_pl(u->identity);
	pl_set(&pnr.user_data, (const char *)mb->b, mb->end);
	err = sh_pnr_encode(&req, &rt, &pnr);
	if (!err)
		err = hss_send(hss, req, pna_handler, s);
	mem_deref(req);
	mem_deref(mb);
	return err;
}


/**
 * Notify the subscribers of (impu, dref[, si]) with the data as it is now
 * (TS 29.328 6.1.4 Sh-Notif).  Best effort: failures are logged.
 */
void hss_sh_notify(struct hss *hss, const char *impu, uint32_t dref,
		   const char *si)
{
	struct store_impu *u = NULL;
	struct list l = LIST_INIT;
	struct le *le;
	int64_t now = (int64_t)time(NULL);
	int err;

	if (!hss->sendh)
		return;
	err = store_sh_sub_list(hss->st, impu, &l);
	if (!err && !list_count(&l))
		return;
	if (!err)
		err = store_impu_get(hss->st, impu, &u);
	LIST_FOREACH (&l, le) {
		struct store_sh_sub *s = le->data;

		if (err)
			break;
		if ((uint32_t)s->data_ref != dref ||
		    (s->expiry && s->expiry <= now))
			continue;
		if (dref == DIA_DR_REPOSITORY_DATA &&
		    (!si || !s->service_indication ||
		     strcmp(si, s->service_indication) != 0))
			continue;
		err = pnr_one(hss, u, s);
	}
	if (err)
		LOG_WARN(NULL, "Sh notification for %s: %s", impu,
			 log_strerror(err));
	list_flush(&l);
	mem_deref(u);
}
