/**
 * @file scscf_route.c  S-CSCF session routing (see scscf_route.h).
 *
 * One decision per call, no per-session state: what must survive the trip
 * through an application server travels in the original-dialog identifier
 * (TS 24.229 5.4.3.2 step 4 / 5.4.3.3 step 3: "a value that identifies
 * the dialog"), which we put as the odi parameter of our own Route entry
 * below the AS's.  Its bytes are
 *
 *   version(1) sescase(1) next(2) issued(4, s) ulen(2) user(ulen)
 *   HMAC-SHA256(key, above)[0..11]
 *
 * in base64url (RFC 4648 5), so it is a valid URI parameter value.  next
 * is the rank (priority order, ties by profile order) of the first iFC
 * not yet tried, so the request that comes back is matched again (the AS
 * may have changed it, 5.4.3.2 step 4) and only later iFCs are used.  The
 * HMAC stops anyone outside from choosing a session case or a served user
 * by crafting a Route; the age limit stops an old one being replayed.
 * The clock is the loop's (tmr_jiffies): an ODI does not outlive the
 * process, like the transactions it belongs to.
 *
 * The served user (5.4.3.2 step 1, 5.4.3.3 step 1): originating, the
 * P-Asserted-Identity the P-CSCF put (the first SIP URI, else the first
 * value); terminating, the Request-URI.  Both are reduced to scheme, user
 * and host (tel: to the number) before the registrar is asked.
 */
#include "cscf/scscf_route.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "cscf/edit.h"
#include "cscf/ifc.h"
#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/uri.h"

#define LOG_MODULE "scscf"

#define ODI_VERSION 1
#define ODI_MAC     12
#define ODI_USER    255 /* longest served user in an ODI */
#define ODI_RAW     (10 + ODI_USER + ODI_MAC)
#define ODI_TEXT    400 /* base64url of ODI_RAW, NUL included */
#define KEY_MAX     64
#define ADD_MAX     4096 /* header lines added to one copy */

struct scscf_route {
	char *uri; /* owns the text me points into */
	struct sip_uri me;
	char *icscf_rt;    /* "Route: <icscf;lr>\r\n" */
	char *breakout_rt; /* the same for the breakout, or NULL */
	char **domains;
	size_t domains_n;
	uint8_t key[KEY_MAX];
	size_t key_len;
	uint32_t odi_life_s;
	struct scscf_route_db db;
	struct scscf_route_hooks hooks;
	void *arg;
};

/* What one request is, once looked at. */
struct rq {
	struct sip_msg *req;
	size_t own;    /* leading Route values that are ours */
	size_t routes; /* all Route values */
	bool has_odi;  /* our top Route carries odi= */
	bool fresh;    /* not an ODI return: a session case starts here */
	enum scscf_sescase sc;
	char user[SCSCF_ROUTE_URI_MAX];
	uint32_t next; /* rank of the first iFC not tried */
};


static void destructor(void *data)
{
	struct scscf_route *r = data;

	for (size_t i = 0; i < r->domains_n; i++)
		mem_deref(r->domains[i]);
	mem_deref(r->domains);
	mem_deref(r->uri);
	mem_deref(r->icscf_rt);
	mem_deref(r->breakout_rt);
	OPENSSL_cleanse(r->key, sizeof(r->key));
}


static char *dup_str(const char *s)
{
	return s ? mem_strdup(s, strlen(s)) : NULL;
}


/* The Route line for a next hop (a loose router, RFC 3261 16.12). */
static char *route_line(const char *uri)
{
	size_t size;
	char *l;
	int n;

	if (!uri)
		return NULL;
	size = strlen(uri) + 16;
	l = mem_zalloc(size, NULL);
	if (!l)
		return NULL;
	n = snprintf(l, size, "Route: <%s;lr>\r\n", uri);
	if (n < 0 || (size_t)n >= size)
		return mem_deref(l);
	return l;
}


/**
 * Make the routing module.
 *
 * @param rp     set to the new module on success
 * @param conf   our URI, the I-CSCF, the breakout, our domains, ODI key
 * @param db     the registrar's lookups (copied)
 * @param hooks  call hooks (copied; members may be NULL), or NULL
 * @param arg    passed to the hooks
 * @return 0, EINVAL (a required member missing or not a SIP URI), ENOMEM
 */
int scscf_route_alloc(struct scscf_route **rp,
		      const struct scscf_route_conf *conf,
		      const struct scscf_route_db *db,
		      const struct scscf_route_hooks *hooks, void *arg)
{
	struct scscf_route *r = NULL;
	struct pl pl;
	int err = 0;

	if (!rp || !conf || !db || !db->info || !db->lookup || !conf->uri ||
	    !conf->icscf || !conf->domains || !conf->domains_n ||
	    (conf->key && (!conf->key_len || conf->key_len > KEY_MAX)))
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;
	r->uri = dup_str(conf->uri);
	r->icscf_rt = route_line(conf->icscf);
	r->breakout_rt = route_line(conf->breakout);
	r->domains = mem_zalloc(conf->domains_n * sizeof(*r->domains), NULL);
	if (!r->uri || !r->icscf_rt || (conf->breakout && !r->breakout_rt) ||
	    !r->domains) {
		err = ENOMEM;
		goto out;
	}
	for (; r->domains_n < conf->domains_n; r->domains_n++) {
		const char *d = conf->domains[r->domains_n];

		if (!d || !*d) {
			err = EINVAL;
			goto out;
		}
		r->domains[r->domains_n] = dup_str(d);
		if (!r->domains[r->domains_n]) {
			err = ENOMEM;
			goto out;
		}
	}
	pl_set_str(&pl, r->uri);
	err = sip_uri_decode(&r->me, &pl);
	if (err ||
	    (r->me.sch != SIP_SCHEME_SIP && r->me.sch != SIP_SCHEME_SIPS)) {
		LOG_WARN(NULL, "S-CSCF URI \"%s\" is not a SIP URI", conf->uri);
		err = EINVAL;
		goto out;
	}
	if (conf->key) {
		memcpy(r->key, conf->key, conf->key_len);
		r->key_len = conf->key_len;
	} else {
		r->key_len = 32;
		if (RAND_bytes(r->key, (int)r->key_len) != 1) {
			err = EIO;
			goto out;
		}
	}
	r->odi_life_s = conf->odi_life_s ? conf->odi_life_s : 120;
	r->db = *db;
	if (hooks)
		r->hooks = *hooks;
	r->arg = arg;
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}


static int reg_info(void *arg, const char *impu, struct scscf_impu_info *info)
{
	return scscf_reg_info(arg, impu, info);
}


static int reg_lookup(void *arg, const char *impu, struct scscf_contact *v,
		      size_t max, size_t *np)
{
	return scscf_reg_lookup(arg, impu, v, max, np);
}


/**
 * The registrar as the routing module's lookups.
 *
 * @param db   filled
 * @param reg  the S-CSCF registrar (not counted: it must outlive the
 *             routing module)
 */
void scscf_route_db_from_reg(struct scscf_route_db *db,
			     const struct scscf_reg *reg)
{
	if (!db)
		return;
	memset(db, 0, sizeof(*db));
	db->info = reg_info;
	db->lookup = reg_lookup;
	/* the callbacks take the registrar back as const */
	db->arg = (void *)(uintptr_t)reg;
}


/* ---- the original-dialog identifier ---- */

static int odi_mac(const struct scscf_route *r, const uint8_t *raw, size_t n,
		   uint8_t mac[ODI_MAC])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!HMAC(EVP_sha256(), r->key, (int)r->key_len, raw, n, md, &mdlen) ||
	    mdlen < ODI_MAC)
		return EINVAL;
	memcpy(mac, md, ODI_MAC);
	return 0;
}


static uint32_t now_s(void)
{
	return (uint32_t)(tmr_jiffies() / 1000);
}


/**
 * Make an original-dialog identifier.
 *
 * @param r            the module (its key)
 * @param sc           the session case being served
 * @param served_user  the served user (at most 255 octets)
 * @param next         rank of the first iFC not yet tried
 * @param buf          the base64url text
 * @param size         its size
 * @return 0, EINVAL (user too long, next over 65535), ENOSPC
 */
int scscf_route_odi_make(const struct scscf_route *r, enum scscf_sescase sc,
			 const char *served_user, uint32_t next, char *buf,
			 size_t size)
{
	uint8_t raw[ODI_RAW];
	size_t ulen, n;
	uint32_t t;
	int err;

	if (!r || !served_user || !buf || next > 0xffff ||
	    sc > SCSCF_SC_TERM_UNREG)
		return EINVAL;
	ulen = strlen(served_user);
	if (!ulen || ulen > ODI_USER)
		return EINVAL;
	t = now_s();
	raw[0] = ODI_VERSION;
	raw[1] = (uint8_t)sc;
	raw[2] = (uint8_t)(next >> 8);
	raw[3] = (uint8_t)next;
	raw[4] = (uint8_t)(t >> 24);
	raw[5] = (uint8_t)(t >> 16);
	raw[6] = (uint8_t)(t >> 8);
	raw[7] = (uint8_t)t;
	raw[8] = (uint8_t)(ulen >> 8);
	raw[9] = (uint8_t)ulen;
	memcpy(raw + 10, served_user, ulen);
	n = 10 + ulen;
	err = odi_mac(r, raw, n, raw + n);
	if (err)
		return err;
	n += ODI_MAC;
	if (size < base64_len(n, BASE64_URL) + 1)
		return ENOSPC;
	return base64_encode(buf, size, raw, n, BASE64_URL);
}


/**
 * Check an original-dialog identifier of ours.
 *
 * @param r      the module
 * @param odi    the odi parameter value
 * @param sc     its session case
 * @param user   its served user (NUL-terminated)
 * @param usize  size of user
 * @param next   rank of the first iFC not yet tried
 * @return 0, EBADMSG (not an ODI), EPERM (HMAC), ETIMEDOUT (too old),
 *         ENOSPC (user does not fit)
 */
int scscf_route_odi_check(const struct scscf_route *r, const struct pl *odi,
			  enum scscf_sescase *sc, char *user, size_t usize,
			  uint32_t *next)
{
	uint8_t raw[ODI_RAW + 4];
	uint8_t mac[ODI_MAC];
	size_t n = 0, ulen;
	uint32_t t, now;
	int err;

	if (!r || !odi || !sc || !user || !next)
		return EINVAL;
	if (!odi->l || odi->l > ODI_TEXT)
		return EBADMSG;
	err = base64_decode(odi->p, odi->l, raw, sizeof(raw), &n,
			    BASE64_URL | BASE64_CANONICAL);
	if (err || n < 10 + 1 + ODI_MAC || raw[0] != ODI_VERSION)
		return EBADMSG;
	ulen = ((size_t)raw[8] << 8) | raw[9];
	if (!ulen || 10 + ulen + ODI_MAC != n || raw[1] > SCSCF_SC_TERM_UNREG)
		return EBADMSG;
	err = odi_mac(r, raw, 10 + ulen, mac);
	if (err)
		return err;
	if (CRYPTO_memcmp(mac, raw + 10 + ulen, ODI_MAC) != 0)
		return EPERM;
	t = ((uint32_t)raw[4] << 24) | ((uint32_t)raw[5] << 16) |
	    ((uint32_t)raw[6] << 8) | raw[7];
	now = now_s();
	if (now < t || now - t > r->odi_life_s)
		return ETIMEDOUT;
	if (ulen >= usize)
		return ENOSPC;
	memcpy(user, raw + 10, ulen);
	user[ulen] = '\0';
	*sc = (enum scscf_sescase)raw[1];
	*next = ((uint32_t)raw[2] << 8) | raw[3];
	return 0;
}


/* ---- helpers ---- */

void scscf_route_out_reset(struct scscf_route_out *out)
{
	if (!out)
		return;
	for (size_t i = 0; i < out->msgc; i++)
		out->msgv[i] = mem_deref(out->msgv[i]);
	memset(out, 0, sizeof(*out));
}


static void reply(struct scscf_route_out *out, uint16_t scode,
		  const char *reason)
{
	out->act = SCSCF_ROUTE_REPLY;
	out->scode = scode;
	out->reason = reason;
}


/* A tel: number or a user=phone user part, visual separators removed
 * (RFC 3966 5.1.1: they carry no meaning).  EINVAL when not a global
 * number we can route. */
static int tel_number(const struct pl *in, char *buf, size_t size)
{
	size_t n = 0;

	if (!in->l || in->p[0] != '+')
		return EINVAL;
	for (size_t i = 0; i < in->l; i++) {
		char c = in->p[i];

		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (c == ';')
			break;
		if ((c < '0' || c > '9') && !(i == 0 && c == '+'))
			return EINVAL;
		if (n + 1 >= size)
			return ENOSPC;
		buf[n++] = c;
	}
	if (n < 2)
		return EINVAL;
	buf[n] = '\0';
	return 0;
}


/* The identity of a URI as the registrar keys it: "sip:user@host" or
 * "tel:+number" (parameters, port and headers dropped). */
static int identity_of(const struct sip_uri *u, char *buf, size_t size)
{
	char num[64];
	int n;

	switch (u->sch) {
	case SIP_SCHEME_TEL:
		if (tel_number(&u->user, num, sizeof(num)))
			return EINVAL;
		n = snprintf(buf, size, "tel:%s", num);
		break;
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		if (!u->host.l)
			return EINVAL;
		if (u->user.l)
			n = snprintf(buf, size, "%.*s:%.*s@%.*s",
				     PL_FMT(&u->scheme), PL_FMT(&u->user),
				     PL_FMT(&u->host));
		else
			n = snprintf(buf, size, "%.*s:%.*s", PL_FMT(&u->scheme),
				     PL_FMT(&u->host));
		break;
	default:
		return EINVAL;
	}
	return (n < 0 || (size_t)n >= size) ? ENOSPC : 0;
}


static bool own_domain(const struct scscf_route *r, const struct pl *host)
{
	for (size_t i = 0; i < r->domains_n; i++) {
		if (pl_eq_str_ci(host, r->domains[i]))
			return true;
	}
	return false;
}


/* The i-th Route value (0-based), or false. */
static bool route_at(const struct sip_msg *msg, size_t i, struct pl *v)
{
	struct sip_hdr_iter it = { 0 };

	while (sip_msg_hdr_value_next(msg, SIP_HDR_ROUTE, &it, v)) {
		if (i-- == 0)
			return true;
	}
	return false;
}


static size_t route_count(const struct sip_msg *msg)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	size_t n = 0;

	while (sip_msg_hdr_value_next(msg, SIP_HDR_ROUTE, &it, &v))
		n++;
	return n;
}


/* The served user of an originating request: the first SIP URI of the
 * P-Asserted-Identity, else its first value (RFC 3325 9.1: at most one of
 * each scheme). */
static int asserted_user(const struct sip_msg *msg, char *buf, size_t size)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_addr a, first;
	bool have = false;
	struct pl v;

	while (sip_msg_hdr_value_next(msg, SIP_HDR_P_ASSERTED_IDENTITY, &it,
				      &v)) {
		if (sip_addr_decode(&a, &v))
			continue;
		if (a.uri.sch == SIP_SCHEME_SIP || a.uri.sch == SIP_SCHEME_SIPS)
			return identity_of(&a.uri, buf, size);
		if (!have) {
			first = a;
			have = true;
		}
	}
	return have ? identity_of(&first.uri, buf, size) : ENOENT;
}


/* A request inside a dialog: its To has a tag (RFC 3261 12.2). */
static bool in_dialog(struct sip_msg *msg)
{
	const struct sip_addr *to = NULL;

	return !sip_msg_to(msg, &to) && pl_isset(&to->tag);
}


static void hook(const struct scscf_route *r, scscf_call_h *h,
		 const struct rq *q, const struct sip_msg *msg, uint16_t scode)
{
	struct scscf_call c;

	if (!h)
		return;
	c.sc = q ? q->sc : SCSCF_SC_ORIG;
	c.served_user = q ? q->user : "";
	c.msg = msg;
	c.scode = scode;
	h(&c, r->arg);
}


/* Make one rewritten copy into out->msgv. */
static int add_copy(struct scscf_route_out *out, const struct sip_msg *req,
		    const struct cscf_edit *e)
{
	int err;

	if (out->msgc >= SCSCF_ROUTE_TARGETS_MAX)
		return ENOSPC;
	err = cscf_edit_msg(&out->msgv[out->msgc], req, e);
	if (err)
		return err;
	out->msgc++;
	return 0;
}


/* Forward with our Route entries removed, the rest unchanged. */
static int forward_by_route(struct scscf_route_out *out, const struct rq *q,
			    const char *ruri, const char *add,
			    enum scscf_hop hop)
{
	struct cscf_edit e = { 0 };

	e.ruri = ruri;
	e.route_skip = q->own;
	e.drop = CSCF_DROP(SIP_HDR_P_SERVED_USER);
	e.add = add;
	out->act = SCSCF_ROUTE_FORWARD;
	out->hop = hop;
	return add_copy(out, q->req, &e);
}


/* ---- service invocation ---- */

/* Rank of the first SCSCF_ROUTE_IFC_MAX iFCs of the profile: priority
 * order, ties by position.  Returns how many were ranked. */
static size_t ifc_ranks(const struct cx_service_profile *sp, uint32_t *rank)
{
	size_t n = sp->ifc_n < SCSCF_ROUTE_IFC_MAX ? sp->ifc_n
						   : SCSCF_ROUTE_IFC_MAX;

	for (size_t i = 0; i < n; i++) {
		uint32_t k = 0;

		for (size_t j = 0; j < n; j++) {
			if (sp->ifc[j].priority < sp->ifc[i].priority ||
			    (sp->ifc[j].priority == sp->ifc[i].priority &&
			     j < i))
				k++;
		}
		rank[i] = k;
	}
	return n;
}


static const char *sescase_name(enum scscf_sescase sc)
{
	return sc == SCSCF_SC_ORIG ? "orig" : "term";
}


/* The first matching iFC of rank >= q->next: forward to its AS.  *done
 * when there is none (services are over). */
static int invoke_next(struct scscf_route *r, struct rq *q,
		       const struct scscf_impu_info *info,
		       struct scscf_route_out *out, bool *done)
{
	const struct cx_ifc *matchv[SCSCF_ROUTE_IFC_MAX];
	uint32_t rank[SCSCF_ROUTE_IFC_MAX];
	const struct cx_service_profile *sp;
	const struct cx_ifc *best = NULL;
	uint32_t best_rank = UINT32_MAX;
	char odi[ODI_TEXT];
	struct ifc_req ir = { 0 };
	struct buf *add = NULL;
	size_t n = 0, ranked;
	int err;

	*done = true;
	if (!info->ifc || !info->prof || info->sp_idx >= info->prof->sp_n)
		return 0;
	sp = &info->prof->sp[info->sp_idx];
	if (sp->ifc_n > SCSCF_ROUTE_IFC_MAX) {
		LOG_WARN(NULL, "%s: %zu iFCs, only %u are evaluated", q->user,
			 sp->ifc_n, SCSCF_ROUTE_IFC_MAX);
	}
	ranked = ifc_ranks(sp, rank);

	ir.msg = q->req;
	ir.registered = info->state == SCSCF_REGISTERED;
	switch (q->sc) {
	case SCSCF_SC_ORIG:
		ir.sc = ir.registered ? CX_SC_ORIGINATING
				      : CX_SC_ORIGINATING_UNREGISTERED;
		break;
	case SCSCF_SC_TERM_REG:
		ir.sc = CX_SC_TERMINATING_REGISTERED;
		break;
	default:
		ir.sc = CX_SC_TERMINATING_UNREGISTERED;
		break;
	}
	err = ifc_match(info->ifc, info->sp_idx, &ir, matchv,
			SCSCF_ROUTE_IFC_MAX, &n);
	if (err && err != ENOSPC)
		return err;
	for (size_t i = 0; i < n; i++) {
		size_t idx = (size_t)(matchv[i] - sp->ifc);

		if (idx >= ranked)
			continue;
		if (rank[idx] >= q->next && rank[idx] < best_rank) {
			best = matchv[i];
			best_rank = rank[idx];
		}
	}
	if (!best)
		return 0;
	*done = false;
	if (!best->as_uri || !*best->as_uri)
		return EINVAL;

	err = scscf_route_odi_make(r, q->sc, q->user, best_rank + 1, odi,
				   sizeof(odi));
	if (err)
		return err;
	err = buf_alloc(&add, 512, ADD_MAX);
	if (err)
		return err;
	/* 5.4.3.2 step 4 / 5.4.3.3 step 3: the AS on top, then our own URI
	 * with the ODI, so the request comes back to us; the AS is a loose
	 * router (RFC 3261 16.12: lr, or it would take the Request-URI) */
	err = buf_printf(add, "Route: <%s%s>, <%s;lr;odi=%s>\r\n", best->as_uri,
			 strstr(best->as_uri, ";lr") ? "" : ";lr", r->uri, odi);
	if (err)
		goto out;
	/* RFC 5502 6: the served user, session case and registration state */
	err = buf_printf(add, "P-Served-User: <%s>;sescase=%s;regstate=%s\r\n",
			 q->user, sescase_name(q->sc),
			 info->state == SCSCF_REGISTERED ? "reg" : "unreg");
	if (err)
		goto out;
	err = buf_write(add, "", 1);
	if (err)
		goto out;
	err = forward_by_route(out, q, NULL, (const char *)add->b,
			       SCSCF_HOP_AS);
	out->dh_terminate = best->default_handling == CX_DH_SESSION_TERMINATED;
out:
	mem_deref(add);
	return err;
}


/* ---- routing after services ---- */

/* TS 24.229 5.4.3.2 step 10ff: to the terminating network. */
static int route_out(struct scscf_route *r, struct rq *q,
		     struct scscf_route_out *out)
{
	const struct sip_uri *ru = NULL;
	struct scscf_impu_info ti;
	char num[64], id[SCSCF_ROUTE_URI_MAX];
	bool tel = false, owned;
	int err;

	/* a Route left after ours (preloaded, or added by an AS) */
	if (q->routes > q->own)
		return forward_by_route(out, q, NULL, NULL, SCSCF_HOP_ROUTE);

	err = sip_msg_ruri(q->req, &ru);
	if (err) {
		reply(out, 400, "Bad Request-URI");
		return 0;
	}
	if (ru->sch == SIP_SCHEME_TEL) {
		if (tel_number(&ru->user, num, sizeof(num))) {
			reply(out, 404, "Not a global number");
			return 0;
		}
		tel = true;
	} else if ((ru->sch == SIP_SCHEME_SIP || ru->sch == SIP_SCHEME_SIPS) &&
		   sip_param_exists(&ru->params, "user")) {
		struct pl uv;

		/* RFC 3261 19.1.1: user=phone makes the user part a number */
		if (!sip_param_get(&ru->params, "user", &uv) &&
		    pl_eq_str_ci(&uv, "phone") &&
		    !tel_number(&ru->user, num, sizeof(num)))
			tel = true;
	} else if (ru->sch != SIP_SCHEME_SIP && ru->sch != SIP_SCHEME_SIPS) {
		reply(out, 416, "Unsupported URI Scheme");
		return 0;
	}

	if (tel) {
		(void)snprintf(id, sizeof(id), "tel:%s", num);
		if (r->db.tel_owned)
			owned = r->db.tel_owned(r->db.arg, num);
		else
			owned = r->db.info(r->db.arg, id, &ti) == 0;
		if (owned)
			return forward_by_route(out, q, NULL, r->icscf_rt,
						SCSCF_HOP_ICSCF);
		if (!r->breakout_rt) {
			reply(out, 404, "No route to the number");
			return 0;
		}
		return forward_by_route(out, q, NULL, r->breakout_rt,
					SCSCF_HOP_BREAKOUT);
	}
	if (own_domain(r, &ru->host)) {
		/* 5.4.3.2 step 10: our own user: the I-CSCF asks the HSS
		 * (LIR) which S-CSCF serves it */
		return forward_by_route(out, q, NULL, r->icscf_rt,
					SCSCF_HOP_ICSCF);
	}
	/* another domain: the caller resolves the Request-URI (RFC 3263) */
	return forward_by_route(out, q, NULL, NULL, SCSCF_HOP_DNS);
}


/* Append the Path values as Route lines (RFC 3327 5: in order). */
static int path_routes(const char *path, char *buf, size_t size)
{
	int n;

	if (!path || !*path) {
		buf[0] = '\0';
		return 0;
	}
	n = snprintf(buf, size, "Route: %s\r\n", path);
	return (n < 0 || (size_t)n >= size) ? ENOSPC : 0;
}


/* TS 24.229 5.4.3.3 step 9ff: to every registered contact via its Path
 * (forking in parallel, RFC 3261 16.6). */
static int route_contacts(struct scscf_route *r, struct rq *q,
			  const struct scscf_impu_info *info,
			  struct scscf_route_out *out)
{
	struct scscf_contact cv[SCSCF_ROUTE_TARGETS_MAX];
	char add[2048];
	size_t n = 0;
	int err;

	if (info->state != SCSCF_REGISTERED) {
		reply(out, 480, "Temporarily Unavailable");
		return 0;
	}
	err = r->db.lookup(r->db.arg, q->user, cv, SCSCF_ROUTE_TARGETS_MAX, &n);
	if (err == ENOENT || (!err && n == 0)) {
		reply(out, 480, "Temporarily Unavailable");
		return 0;
	}
	if (err)
		return err;
	if (n > SCSCF_ROUTE_TARGETS_MAX)
		n = SCSCF_ROUTE_TARGETS_MAX;

	for (size_t i = 0; i < n; i++) {
		struct cscf_edit e = { 0 };

		err = path_routes(cv[i].path, add, sizeof(add));
		if (err) {
			LOG_WARN(NULL, "%s: Path of %s too long", q->user,
				 cv[i].uri);
			continue;
		}
		e.ruri = cv[i].uri;
		e.route_skip = q->own;
		e.drop = CSCF_DROP(SIP_HDR_P_SERVED_USER);
		e.add = add;
		err = add_copy(out, q->req, &e);
		if (err)
			return err;
	}
	if (!out->msgc) {
		reply(out, 480, "Temporarily Unavailable");
		return 0;
	}
	out->act = SCSCF_ROUTE_FORWARD;
	out->hop = SCSCF_HOP_CONTACT;
	return 0;
}


/* ---- the decision ---- */

/* Session case and served user of an initial request.  0, or a REPLY
 * already in out. */
static int classify(struct scscf_route *r, struct rq *q,
		    struct scscf_route_out *out)
{
	struct sip_addr top;
	const struct sip_uri *ru;
	struct pl v, odi;
	int err;

	q->own = cscf_edit_own_routes(q->req, &r->me);
	q->routes = route_count(q->req);
	q->fresh = true;
	if (q->own && route_at(q->req, 0, &v) && !sip_addr_decode(&top, &v)) {
		if (!sip_param_get(&top.uri.params, "odi", &odi)) {
			q->has_odi = true;
			err = scscf_route_odi_check(r, &odi, &q->sc, q->user,
						    sizeof(q->user), &q->next);
			if (err) {
				LOG_WARN(NULL, "ODI refused: %s",
					 log_strerror(err));
				reply(out, 403,
				      "Bad original dialog identifier");
				return 0;
			}
			q->fresh = false;
			return 0;
		}
		if (sip_param_exists(&top.uri.params, "orig")) {
			q->sc = SCSCF_SC_ORIG;
			if (asserted_user(q->req, q->user, sizeof(q->user))) {
				reply(out, 403, "No asserted identity");
				return 0;
			}
			return 0;
		}
	}
	q->sc = SCSCF_SC_TERM_REG; /* or UNREG, from the state */
	err = sip_msg_ruri(q->req, &ru);
	if (err || identity_of(ru, q->user, sizeof(q->user))) {
		reply(out, 404, "Not Found");
		return 0;
	}
	return 0;
}


static int decide(struct scscf_route *r, struct rq *q, bool fetched,
		  struct scscf_route_out *out)
{
	struct scscf_impu_info info;
	bool done = true;
	int err;

	err = r->db.info(r->db.arg, q->user, &info);
	if (q->sc == SCSCF_SC_ORIG) {
		/* 5.4.3.2 step 1: the served user must be served here */
		if (err || info.barred) {
			reply(out, 403, "Forbidden");
			return 0;
		}
	} else {
		if ((err == ENOENT ||
		     (!err && info.state == SCSCF_NOT_REGISTERED)) &&
		    !fetched && q->fresh) {
			out->act = SCSCF_ROUTE_FETCH;
			return 0;
		}
		if (err == ENOENT) {
			reply(out, 404, "Not Found");
			return 0;
		}
		if (err)
			return err;
		/* 5.4.3.3 step 1: a barred identity is not reachable */
		if (info.barred) {
			reply(out, 404, "Not Found");
			return 0;
		}
		if (q->fresh)
			q->sc = info.state == SCSCF_REGISTERED
					? SCSCF_SC_TERM_REG
					: SCSCF_SC_TERM_UNREG;
	}
	out->sc = q->sc;

	err = invoke_next(r, q, &info, out, &done);
	if (err || !done)
		return err;

	if (q->sc == SCSCF_SC_ORIG)
		return route_out(r, q, out);

	/* 5.4.3.3 step 8: an AS retargeted the request: it goes where the
	 * new Request-URI says, as an originating request would */
	{
		const struct sip_uri *ru = NULL;
		char id[SCSCF_ROUTE_URI_MAX];

		if (!sip_msg_ruri(q->req, &ru) &&
		    !identity_of(ru, id, sizeof(id)) &&
		    strcasecmp(id, q->user) != 0)
			return route_out(r, q, out);
	}
	return route_contacts(r, q, &info, out);
}


static int handle(struct scscf_route *r, struct sip_msg *req, bool fetched,
		  int ferr, struct scscf_route_out *out)
{
	struct rq q;
	int err;

	if (!r || !req || !out || !req->req)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	q.req = req;

	/* subsequent requests (RFC 3261 12.2.1.1, TS 24.229 5.4.3.1): along
	 * the Route set; CANCEL and ACK follow the INVITE's path */
	if (in_dialog(req) || req->meth == SIP_METHOD_CANCEL ||
	    req->meth == SIP_METHOD_ACK) {
		q.own = cscf_edit_own_routes(req, &r->me);
		q.routes = route_count(req);
		if (req->meth == SIP_METHOD_BYE ||
		    req->meth == SIP_METHOD_CANCEL)
			hook(r, r->hooks.call_end, NULL, req, 0);
		return forward_by_route(out, &q, NULL, NULL, SCSCF_HOP_ROUTE);
	}

	err = classify(r, &q, out);
	if (err || out->act)
		goto out;
	(void)snprintf(out->impu, sizeof(out->impu), "%s", q.user);
	out->sc = q.sc;
	if (fetched && ferr) {
		reply(out, ferr == ENOENT ? 404 : 480,
		      ferr == ENOENT ? "Not Found" : "Temporarily Unavailable");
		goto out;
	}
	err = decide(r, &q, fetched, out);
out:
	if (err) {
		scscf_route_out_reset(out);
		return err;
	}
	/* one call per session case: the passes that come back from an AS
	 * are the same call (their final response reaches the first pass's
	 * transaction through the AS, scscf_route_response) */
	if (req->meth == SIP_METHOD_INVITE && out->act == SCSCF_ROUTE_FORWARD &&
	    q.fresh)
		hook(r, r->hooks.call_start, &q, req, 0);
	return 0;
}


/**
 * Decide where a request that reached the S-CSCF goes.
 *
 * @param r    the module
 * @param req  the request as received (not changed)
 * @param out  the decision; scscf_route_out_reset() it after use
 * @return 0, EINVAL, ENOMEM (answer 500)
 */
int scscf_route_request(struct scscf_route *r, struct sip_msg *req,
			struct scscf_route_out *out)
{
	return handle(r, req, false, 0, out);
}


/**
 * Decide again once the unregistered profile was fetched.
 *
 * @param r    the module
 * @param req  the request of the SCSCF_ROUTE_FETCH decision
 * @param err  the fetch's outcome (scscf_profile_h)
 * @param out  the decision
 * @return as scscf_route_request()
 */
int scscf_route_fetched(struct scscf_route *r, struct sip_msg *req, int err,
			struct scscf_route_out *out)
{
	return handle(r, req, true, err, out);
}


/**
 * DefaultHandling for an AS that did not answer (TS 24.229 5.4.3.2 step
 * 4, 5.4.3.3 step 3; TS 29.228 B.2.2).
 *
 * @param r      the module
 * @param sent   the copy that went to the AS (a msgv[] of the decision)
 * @param scode  0 (no response at all), 408 or 5xx
 * @param out    the decision
 * @return 0, EINVAL (not such a failure, or not a copy of ours), ENOMEM
 */
int scscf_route_as_failed(struct scscf_route *r, struct sip_msg *sent,
			  uint16_t scode, struct scscf_route_out *out)
{
	struct scscf_impu_info info;
	const struct cx_service_profile *sp;
	uint32_t rank[SCSCF_ROUTE_IFC_MAX];
	const struct cx_ifc *failed = NULL;
	struct sip_addr a;
	struct pl v, odi;
	struct rq q;
	bool done = true;
	size_t ranked;
	int err;

	if (!r || !sent || !out || !sent->req ||
	    (scode && scode != 408 && (scode < 500 || scode > 599)))
		return EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	q.req = sent;
	/* the copy has <AS>, <ours;odi> on top */
	if (!route_at(sent, 1, &v) || sip_addr_decode(&a, &v) ||
	    !cscf_edit_uri_is(&v, &r->me) ||
	    sip_param_get(&a.uri.params, "odi", &odi))
		return EINVAL;
	err = scscf_route_odi_check(r, &odi, &q.sc, q.user, sizeof(q.user),
				    &q.next);
	if (err)
		return EINVAL;
	(void)snprintf(out->impu, sizeof(out->impu), "%s", q.user);
	out->sc = q.sc;

	err = r->db.info(r->db.arg, q.user, &info);
	if (err || !info.prof || info.sp_idx >= info.prof->sp_n) {
		/* the profile went (deregistration) while the AS was silent */
		reply(out, 480, "Temporarily Unavailable");
		goto out;
	}
	sp = &info.prof->sp[info.sp_idx];
	ranked = ifc_ranks(sp, rank);
	for (size_t i = 0; i < ranked; i++) {
		if (rank[i] + 1 == q.next)
			failed = &sp->ifc[i];
	}
	if (!failed || failed->default_handling == CX_DH_SESSION_TERMINATED) {
		/* 408 when the AS said nothing, 500 when it failed */
		if (scode == 0 || scode == 408)
			reply(out, 408, "Request Timeout");
		else
			reply(out, 500, "Application Server Failure");
		goto out;
	}

	/* SESSION_CONTINUED: as if the AS had sent the request back; the
	 * copy is matched again with the AS's Route entry removed */
	q.own = 1;
	q.routes = route_count(sent);
	{
		struct cscf_edit e = { 0 };
		struct sip_msg *back = NULL;

		e.route_skip = 1;
		err = cscf_edit_msg(&back, sent, &e);
		if (err)
			goto out;
		q.req = back;
		q.routes = route_count(back);
		err = invoke_next(r, &q, &info, out, &done);
		if (!err && done) {
			if (q.sc == SCSCF_SC_ORIG)
				err = route_out(r, &q, out);
			else
				err = route_contacts(r, &q, &info, out);
		}
		mem_deref(back);
	}
out:
	if (err) {
		scscf_route_out_reset(out);
		return err;
	}
	if (sent->meth == SIP_METHOD_INVITE && out->act == SCSCF_ROUTE_REPLY)
		hook(r, r->hooks.call_end, &q, sent, out->scode);
	return 0;
}


/**
 * A response to a request we forwarded: the call hooks.
 *
 * @param r     the module
 * @param req   the request as we received it
 * @param resp  the response
 */
void scscf_route_response(struct scscf_route *r, struct sip_msg *req,
			  const struct sip_msg *resp)
{
	struct scscf_route_out tmp;
	struct rq q;

	if (!r || !req || !resp || resp->req ||
	    req->meth != SIP_METHOD_INVITE || resp->scode < 200 ||
	    in_dialog(req))
		return;
	memset(&q, 0, sizeof(q));
	memset(&tmp, 0, sizeof(tmp));
	q.req = req;
	(void)classify(r, &q, &tmp);
	/* only the first pass of a session case: the later ones (back from
	 * an AS, with our ODI) relay the same final response to it */
	if (q.has_odi || tmp.act == SCSCF_ROUTE_REPLY)
		return;
	if (q.sc != SCSCF_SC_ORIG) {
		struct scscf_impu_info info;

		if (!r->db.info(r->db.arg, q.user, &info) &&
		    info.state != SCSCF_REGISTERED)
			q.sc = SCSCF_SC_TERM_UNREG;
	}
	if (resp->scode < 300)
		hook(r, r->hooks.call_answer, &q, resp, resp->scode);
	else
		hook(r, r->hooks.call_end, &q, resp, resp->scode);
}
