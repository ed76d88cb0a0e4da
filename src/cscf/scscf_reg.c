/**
 * @file scscf_reg.c  The S-CSCF registrar (TS 24.229 5.4.1).
 *
 * Design
 *
 * State, all owned by one event loop:
 *   - implicit registration sets (struct sreg_set): the IMPI that
 *     registered them, the HSS that serves them, the user profile from
 *     the SAA, the state, and the contact bindings.  TS 23.228 5.3.2.1:
 *     a registration of one IMPU registers every IMPU of its set with the
 *     same contacts, so the bindings live on the set and every IMPU of
 *     the set is indexed (hash by canonical IMPU) to it;
 *   - pending challenges (struct sreg_vec), per IMPI, keyed by our nonce,
 *     each with the vector the HSS gave and a timer;
 *   - REGISTERs waiting for a Cx answer (struct sreg_tx).
 *
 * One REGISTER: Require and Contact checks (answered at once), then the
 * credentials (TS 24.229 5.4.1.2.1):
 *   no usable credentials, or a nonce we do not hold -> MAR -> 401
 *   auts (AKA synchronisation failure)               -> MAR with
 *                                   RAND||AUTS -> 401 with a fresh vector
 *   a wrong response                      -> 403 (+ SAR AUTHENTICATION_
 *                                            FAILURE when not registered)
 *   right                                 -> SAR REGISTRATION, or
 *        RE_REGISTRATION (profile already here), or USER_DEREGISTRATION
 *        when no contact remains -> bindings, store, events, 200 OK.
 * A vector is used once: a later REGISTER with its nonce is challenged
 * again, unless a trusted P-CSCF marked it integrity-protected and the
 * IMPU is registered by that IMPI (TS 24.229 5.4.1.2.1).
 *
 * Memory per registered user (the S-CSCF holds 100,000 of them): a set
 * is one block with its IMPI and IMPU; the HSS host and realm are one
 * shared record per HSS; the profile's identities are indexed (one block
 * of entries and canonical IMPUs) and then dropped, and what remains, the
 * service part with its compiled iFCs, is shared by every set of the
 * same service profile (ifc_pool: interned by content, counted).  The
 * User-Data XML is kept only until the store has it (a re-registration
 * writes the set without it; a restart decodes the stored copy).  A
 * binding is one block with its six strings; a change builds a new
 * block in its place.
 *
 * Cx answers come through struct sreg_tx, which holds only a weak
 * pointer to the registrar: scscf_reg_close() answers every waiting
 * REGISTER with ECANCELED and cuts the pointer, so an answer that comes
 * after is dropped.
 */
#include "cscf/scscf_reg.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "cscf/ifc.h"
#include "cscf/reginfo.h"
#include "cscf/scscf_store.h"
#include "diameter/avp.h"
#include "diameter/cx.h"
#include "diameter/cx_client.h"
#include "diameter/dict.h"
#include "diameter/userdata.h"
#include "hss/aka.h"
#include "sip/addr.h"
#include "sip/auth.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/uri.h"

#define LOG_MODULE "scscf"

#define IMPU_MAX       512  /* canonical IMPU */
#define IMPI_MAX       256  /* private identity */
#define PATH_MAX_LEN   2048 /* Path values of one REGISTER */
#define UA_MAX         256
#define URI_MAX        1024 /* Contact URI */
#define REQ_CONTACTS   32   /* Contact values in one REGISTER */
#define EV_AS_MAX      16   /* ASs named in a reg event (distinct) */
#define REPLY_MAX      32768
#define NONCE_RAND_LEN 18 /* digest nonce: 24 base64url characters */
#define SET_IMPU_MAX   64 /* IMPUs of one implicit set indexed */

struct scscf_reg {
	struct scscf_reg_conf conf;
	char *server_name;
	char *realm;
	struct dia_node *node; /* weak: the caller's */
	struct cx_serve *rtr, *ppr;
	struct list sets; /* struct sreg_set, counted */
	struct hash *idx; /* struct sreg_idx (inside a set), not counted */
	struct list hsss; /* struct sreg_hss, weak (each held by its sets) */
	struct ifc_pool *ifcs;    /* compiled iFCs, shared by content */
	struct tmr load_tmr;      /* loaded sets without a binding left */
	struct sreg_set **load_v; /* while loading: the sets by id */
	size_t load_n;
	struct hash *au; /* struct sreg_au, counted */
	struct list txs; /* struct sreg_tx, weak (each held by its call) */
	uint64_t next_id;
	size_t nbindings;
	scscf_reg_event_h *evh;
	void *evarg;
	scscf_reg_change_h *chh; /* third-party registration (5.4.1.7) */
	void *charg;
	bool closed;
};

/* One IMPU of a set, in reg->idx. */
struct sreg_idx {
	struct le he;
	const char *impu;     /* canonical, in the block of the array */
	struct sreg_set *set; /* weak: the set owns the array */
	uint32_t sp_idx;
	bool barred;
	bool listed; /* for P-Associated-URI: a distinct public identity */
};

/* The HSS that serves sets (TS 29.228 6.1.2: later requests go to the
 * Origin-Host that answered), one block per distinct host and realm: an
 * enterprise has one or two HSSes for all its users. */
struct sreg_hss {
	struct le le;      /* in reg->hsss, weak */
	const char *realm; /* after host in the block */
	char host[];
};

struct sreg_set {
	struct le le; /* in reg->sets */
	struct scscf_reg *reg;
	uint64_t id;
	const char *impi;     /* in this block */
	const char *impu;     /* registered with (canonical), in this block */
	struct sreg_hss *hss; /* counted */
	/* the User-Data as received, until the store has it (then NULL: a
	 * restart decodes the stored copy) */
	char *xml;
	/* the service part of the profile (identities dropped, counted):
	 * the subscription of ifc when the iFCs compiled, shared with every
	 * set of the same service profile */
	struct cx_subscription *prof;
	struct ifc_cache *ifc; /* counted, from reg->ifcs */
	struct sreg_idx *idxv; /* idx_n entries, linked in reg->idx */
	uint32_t idx_n;
	enum scscf_reg_state state;
	bool removed;
	struct list bindings; /* struct sreg_binding, counted, q desc */
	char str[];           /* impi, impu */
};

/* Where a REGISTER came from, packed (a struct sa is 132 octets). */
struct sreg_src {
	uint32_t scope; /* IPv6 scope id */
	uint16_t port;
	uint8_t af; /* 0 (none), 4 or 6 */
	uint8_t addr[16];
};

/* A binding: the record and its strings in one block.  A change builds a
 * new block (binding_alloc) that takes the old one's place. */
struct sreg_binding {
	struct le le;
	struct sreg_set *set; /* weak */
	uint64_t id;
	uint64_t exp_ms; /* monotonic */
	struct tmr tmr;
	uint32_t cseq;
	uint32_t reg_id;
	uint16_t q;
	uint8_t tp;
	struct sreg_src src;
	/* offsets in str of params, Call-ID, Path, +sip.instance ("" when
	 * none) and User-Agent; the Contact URI is at 0 */
	uint16_t o_params, o_callid, o_path, o_inst, o_ua;
	char str[];
};

/* Pending challenges of one IMPI. */
struct sreg_au {
	struct le he;
	struct scscf_reg *reg;
	char *impi;
	struct list vecs; /* struct sreg_vec, counted, oldest first */
};

enum vec_kind {
	VEC_DIGEST,
	VEC_AKA
};

struct sreg_vec {
	struct le le;
	struct sreg_au *au; /* weak */
	enum vec_kind kind;
	enum auth_algo alg;     /* VEC_DIGEST */
	enum aka_digest_alg ak; /* VEC_AKA */
	char nonce[AKA_NONCE_SIZE];
	char realm[AUTH_REALM_MAX];
	char ha1[AUTH_HA1_HEX_MAX];
	uint8_t rand[AKA_RAND_LEN], autn[AKA_AUTN_LEN];
	uint8_t xres[16];
	size_t xres_len;
	uint8_t ck[AKA_KEY_LEN], ik[AKA_KEY_LEN];
	uint32_t nc; /* highest nonce-count seen */
	char *impu;
	char *hss_host, *hss_realm;
	struct tmr tmr;
};

enum tx_kind {
	TX_MAR,   /* challenge */
	TX_SAR,   /* registration, re-registration, de-registration */
	TX_PROF,  /* unregistered user's profile */
	TX_QUIET, /* nobody waits: timeouts, failures */
};

struct sreg_tx {
	struct le le; /* in reg->txs */
	struct scscf_reg *reg;
	enum tx_kind kind;
	struct sip_msg *msg;
	scscf_reply_h *replyh;
	scscf_profile_h *profh;
	void *arg;
	char *impi, *impu;
	uint32_t sat;
	struct tmr later; /* an answer known at once, delivered from the
			     loop; holds a reference while running */
};

/* A parsed REGISTER, views into msg. */
struct req_ctx {
	struct sip_msg *msg;
	char impu[IMPU_MAX];
	char impi[IMPI_MAX];
	struct sip_authhdr ah;
	bool has_ah;
	uint32_t hexp; /* Expires header, or the default */
	bool star;
	size_t nct;
	struct sip_contact ct[REQ_CONTACTS];
	uint32_t cexp[REQ_CONTACTS];
};

/* A string of a binding's block. */
#define BSTR(b, f) ((b)->str + (b)->o_##f)

static void set_remove(struct scscf_reg *reg, struct sreg_set *s,
		       enum scscf_reg_ev ev);
static void binding_expire(void *arg);
static struct sreg_idx *set_has(const struct sreg_set *s, const char *impu);

/* ---- small helpers ---- */

static int dupstr(char **dst, const char *s)
{
	*dst = mem_strdup(s ? s : "", s ? strlen(s) : 0);
	return *dst ? 0 : ENOMEM;
}


static int64_t wall_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static const char *hdrs_of(struct buf *b)
{
	if (!b || !b->end)
		return "";
	if (buf_write(b, "", 1))
		return "";
	b->end--;
	return (const char *)b->b;
}


/*
 * The canonical form of a public identity, so that the To of a REGISTER,
 * the profile's identities and a lookup meet: sip/sips as RFC 3261 10.3
 * step 5 (registrar_aor), tel as "tel:" and the number (RFC 3966 5:
 * visual separators are not part of the comparison, the HSS gives the
 * global form), anything else as given.
 */
static int impu_canon(const struct pl *in, char *buf, size_t size)
{
	struct sip_uri u;
	size_t n = 0, i;
	int k;

	if (sip_uri_decode(&u, in) == 0) {
		if (u.sch == SIP_SCHEME_SIP || u.sch == SIP_SCHEME_SIPS)
			return registrar_aor(&u, buf, size, &n);
		if (u.sch == SIP_SCHEME_TEL) {
			if (size < 5 + u.user.l)
				return ENOSPC;
			memcpy(buf, "tel:", 4);
			n = 4;
			for (i = 0; i < u.user.l; i++) {
				char c = u.user.p[i];

				if (c == '-' || c == '.' || c == '(' ||
				    c == ')')
					continue;
				buf[n++] = c;
			}
			buf[n] = '\0';
			return 0;
		}
	}
	k = snprintf(buf, size, "%.*s", PL_FMT(in));
	return k < 0 || (size_t)k >= size ? ENOSPC : 0;
}


static int impu_canon_str(const char *in, char *buf, size_t size)
{
	struct pl pl = cx_pl(in);

	return impu_canon(&pl, buf, size);
}


/* TS 23.003 13.3 / TS 24.229 5.1.1.2.1: without an ISIM the private
 * identity is derived; from a SIP URI that is user@domain. */
static int impi_derive(const char *impu, char *buf, size_t size)
{
	const char *p;
	int k;

	if (!strncasecmp(impu, "sip:", 4))
		p = impu + 4;
	else if (!strncasecmp(impu, "sips:", 5))
		p = impu + 5;
	else
		return EPROTO;
	if (!strchr(p, '@'))
		return EPROTO;
	k = snprintf(buf, size, "%s", p);
	return k < 0 || (size_t)k >= size ? ENOSPC : 0;
}


/* A pl into a fixed buffer, "" when it does not fit. */
static void plcpy(const struct pl *pl, char *buf, size_t size)
{
	if (pl_strcpy(pl, buf, size))
		buf[0] = '\0';
}


static uint32_t key_of(const char *s)
{
	return hash_fast_ci(s, strlen(s));
}


static uint32_t idx_key(const void *data)
{
	const struct sreg_idx *x = data;

	return key_of(x->impu);
}

/* ---- events ---- */

/* A changed binding and what happened to it. */
struct ev_chg {
	const struct sreg_binding *b;
	enum scscf_reg_ev ev;
};

static bool ev_active(enum scscf_reg_ev ev)
{
	return ev == SCSCF_EV_REGISTERED || ev == SCSCF_EV_CREATED ||
	       ev == SCSCF_EV_REFRESHED || ev == SCSCF_EV_SHORTENED;
}


/* TS 24.229 5.4.2.1.1: the application servers named in the iFCs of the
 * set's profile may subscribe to its reg event; each once, NULL-ended. */
static void event_as(const struct cx_subscription *prof, const char **v,
		     size_t max)
{
	size_t n = 0;

	for (size_t k = 0; prof && k < prof->sp_n; k++) {
		for (size_t j = 0; j < prof->sp[k].ifc_n; j++) {
			const char *as = prof->sp[k].ifc[j].as_uri;
			bool dup = false;

			if (!as || !*as)
				continue;
			for (size_t i = 0; i < n && !dup; i++)
				dup = !strcmp(v[i], as);
			if (!dup && n + 1 < max)
				v[n++] = as;
		}
	}
	v[n] = NULL;
}


/**
 * Report one change of a set to the reg-event notifier: every contact it
 * changed at once, for every registered IMPU of the set (TS 24.229
 * 5.4.2.1.2: a NOTIFY has a <registration> per IMPU of the implicit set),
 * so that a subscription sees the whole change in one NOTIFY and a
 * de-registration of several contacts ends the registration once.
 *
 * @param st    the IMPUs' state after the change
 * @param only  NULL, or the one IMPU a new profile barred or un-barred
 *              (a barred IMPU has no registration to report but that)
 */
static void event_emit(struct scscf_reg *reg, const struct sreg_set *s,
		       const struct ev_chg *chg, size_t n,
		       enum scscf_reg_state st, const char *only)
{
	struct scscf_reg_event_ct ct[REQ_CONTACTS];
	const char *impu[REGINFO_REG_MAX];
	const char *as[EV_AS_MAX + 1];
	struct scscf_reg_event e;
	uint64_t now = tmr_jiffies();
	size_t i, k = 0;

	if (!reg->evh || !n)
		return;
	for (i = 0; i < s->idx_n && k < REGINFO_REG_MAX; i++) {
		const struct sreg_idx *x = &s->idxv[i];

		if (only ? strcmp(only, x->impu) != 0
			 : (x->barred || !x->listed))
			continue;
		impu[k++] = x->impu;
	}
	if (!k)
		return;
	if (n > REQ_CONTACTS)
		n = REQ_CONTACTS;
	for (i = 0; i < n; i++) {
		const struct sreg_binding *b = chg[i].b;
		bool active = st == SCSCF_REGISTERED && ev_active(chg[i].ev);

		ct[i] = (struct scscf_reg_event_ct){
			.contact = b->str,
			.instance = BSTR(b, inst),
			.path = BSTR(b, path),
			.call_id = BSTR(b, callid),
			.cseq = b->cseq,
			.expires =
				active && b->exp_ms > now
					? (uint32_t)((b->exp_ms - now + 999) /
						     1000)
					: 0,
			.q = (int16_t)b->q,
			.ev = chg[i].ev,
			.active = active,
		};
	}
	event_as(s->prof, as, sizeof(as) / sizeof(as[0]));
	memset(&e, 0, sizeof(e));
	e.impi = s->impi;
	e.impu = impu;
	e.impu_n = k;
	e.state = st;
	e.ct = ct;
	e.ct_n = n;
	e.as_uri = as[0] ? as : NULL;
	reg->evh(&e, reg->evarg);
}


static void event_one(struct scscf_reg *reg, const struct sreg_set *s,
		      const struct sreg_binding *b, enum scscf_reg_ev ev,
		      enum scscf_reg_state st, const char *only)
{
	struct ev_chg c = { b, ev };

	event_emit(reg, s, &c, 1, st, only);
}

/* TS 24.229 5.4.1.7: a registered set changed (registration,
 * re-registration, de-registration of any kind); the caller notifies the
 * application servers.  Runs before a removed set is released, so the
 * profile is still there. */
static void change_notify(struct scscf_reg *reg, const struct sreg_set *s,
			  enum scscf_reg_change_kind kind, struct sip_msg *req,
			  const struct scscf_reply *rep)
{
	struct scscf_reg_change c;
	const struct sreg_idx *x;
	uint64_t now = tmr_jiffies(), left = 0;
	struct le *le;

	if (!reg->chh || !s || !s->prof || !s->ifc ||
	    s->state != SCSCF_REGISTERED)
		return;
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.impi = s->impi;
	c.impu = s->impu;
	if (kind == SCSCF_RC_INITIAL || kind == SCSCF_RC_RE) {
		LIST_FOREACH (&s->bindings, le) {
			const struct sreg_binding *b = le->data;

			if (b->exp_ms > now && b->exp_ms - now > left)
				left = b->exp_ms - now;
		}
		c.expires = (uint32_t)((left + 999) / 1000);
	}
	c.req = req;
	c.rep = rep;
	c.prof = s->prof;
	x = set_has(s, s->impu);
	c.sp_idx = x ? x->sp_idx : 0;
	c.ifc = s->ifc;
	reg->chh(&c, reg->charg);
}

/* ---- sets and the index ---- */

static void binding_destructor(void *arg)
{
	struct sreg_binding *b = arg;

	tmr_cancel(&b->tmr);
}


static void idx_unlink(struct scscf_reg *reg, struct sreg_set *s)
{
	size_t i;

	for (i = 0; i < s->idx_n; i++)
		hash_unlink(reg->idx, &s->idxv[i].he);
	s->idxv = mem_deref(s->idxv);
	s->idx_n = 0;
}


static void set_destructor(void *arg)
{
	struct sreg_set *s = arg;
	struct le *le;

	LIST_FOREACH (&s->bindings, le) {
		struct sreg_binding *b = le->data;

		tmr_cancel(&b->tmr);
	}
	list_flush(&s->bindings);
	if (s->idxv && s->reg)
		idx_unlink(s->reg, s);
	mem_deref(s->idxv);
	mem_deref(s->hss);
	mem_deref(s->xml);
	mem_deref(s->ifc);
	mem_deref(s->prof);
}


static void hss_destructor(void *arg)
{
	struct sreg_hss *h = arg;

	list_unlink(&h->le);
}


/* The shared record of an HSS (counted), made on first use. */
static struct sreg_hss *hss_get(struct scscf_reg *reg, const char *host,
				const char *realm)
{
	size_t hl = strlen(host), rl = strlen(realm);
	struct sreg_hss *h;
	struct le *le;

	LIST_FOREACH (&reg->hsss, le) {
		h = le->data;
		if (!strcmp(h->host, host) && !strcmp(h->realm, realm))
			return mem_ref(h);
	}
	h = mem_zalloc(sizeof(*h) + hl + rl + 2, hss_destructor);
	if (!h)
		return NULL;
	memcpy(h->host, host, hl + 1);
	memcpy(h->host + hl + 1, realm, rl + 1);
	h->realm = h->host + hl + 1;
	list_append(&reg->hsss, &h->le, h);
	return h;
}


/* Index every identity of the profile (TS 29.228 6.1.2: the SAA's
 * User-Data is the implicit set of the registered IMPU). */
static int set_index(struct scscf_reg *reg, struct sreg_set *s,
		     const struct cx_subscription *sub)
{
	char canon[IMPU_MAX];
	struct sreg_idx *v;
	size_t k, i, n = 0, total = 0;
	char *str;

	/* one block: the entries, then their canonical IMPUs (a registered
	 * user costs its strings, not IMPU_MAX octets per identity) */
	for (k = 0; k < sub->sp_n; k++) {
		for (i = 0; i < sub->sp[k].pub_n && n < SET_IMPU_MAX; i++) {
			if (impu_canon_str(sub->sp[k].pub[i].identity, canon,
					   sizeof(canon)))
				continue;
			total += strlen(canon) + 1;
			n++;
		}
	}
	v = mem_zalloc((n ? n : 1) * sizeof(*v) + total, NULL);
	if (!v)
		return ENOMEM;
	str = (char *)(v + (n ? n : 1));
	n = 0;
	for (k = 0; k < sub->sp_n; k++) {
		for (i = 0; i < sub->sp[k].pub_n && n < SET_IMPU_MAX; i++) {
			const struct cx_public_id *p = &sub->sp[k].pub[i];
			struct sreg_idx *x = &v[n];
			size_t l;

			if (impu_canon_str(p->identity, canon, sizeof(canon)))
				continue;
			l = strlen(canon) + 1;
			memcpy(str, canon, l);
			x->impu = str;
			str += l;
			x->set = s;
			x->sp_idx = (uint32_t)k;
			x->barred = p->barred;
			/* TS 24.229 5.4.1.2.2: P-Associated-URI lists the
			 * distinct public user identities, not wildcards */
			x->listed = p->type == CX_ID_PUBLIC_USER;
			n++;
		}
	}
	if (s->idxv)
		idx_unlink(reg, s);
	s->idxv = v;
	s->idx_n = (uint32_t)n;
	for (i = 0; i < n; i++)
		hash_append(reg->idx, key_of(v[i].impu), &v[i].he, &v[i]);
	return 0;
}


static struct sreg_idx *set_has(const struct sreg_set *s, const char *impu)
{
	size_t i;

	for (i = 0; i < s->idx_n; i++)
		if (!strcmp(s->idxv[i].impu, impu))
			return &s->idxv[i];
	return NULL;
}


/* The set holding impu: registered by impi when impi is given, the
 * registered one before an unregistered-user profile otherwise. */
static struct sreg_idx *idx_find(const struct scscf_reg *reg, const char *impu,
				 const char *impi)
{
	struct sreg_idx *best = NULL;
	struct le *le;

	LIST_FOREACH (hash_list(reg->idx, key_of(impu)), le) {
		struct sreg_idx *x = le->data;

		if (strcmp(x->impu, impu) != 0 || x->set->removed)
			continue;
		if (impi && strcasecmp(x->set->impi, impi) != 0)
			continue;
		if (!best || (x->set->state == SCSCF_REGISTERED &&
			      best->set->state != SCSCF_REGISTERED))
			best = x;
	}
	return best;
}


/*
 * A profile from its XML: decoded, every identity indexed (set_index),
 * then only the service part kept, shared with the sets of the same
 * service profile (reg->ifcs: the iFCs compiled once per distinct
 * content).  stored: the store has this XML already (a restart); else a
 * copy waits for the next write (persist) when there is a store.
 */
static int set_profile(struct scscf_reg *reg, struct sreg_set *s,
		       const char *xml, size_t len, bool stored)
{
	struct cx_subscription *sub = NULL;
	struct ifc_cache *ifc = NULL;
	char why[160];
	char *copy = NULL;
	int err;

	err = cx_userdata_decode(&sub, xml, len, why, sizeof(why));
	if (err) {
		LOG_WARN(NULL, "User-Data of %s: %s", s->impi ? s->impi : "?",
			 err == EBADMSG ? why : "");
		return err;
	}
	if (!sub->sp_n) {
		mem_deref(sub);
		return EBADMSG;
	}
	if (!stored && reg->conf.store) {
		copy = mem_strdup(xml, len);
		if (!copy) {
			mem_deref(sub);
			return ENOMEM;
		}
	}
	err = set_index(reg, s, sub);
	if (err) {
		mem_deref(copy);
		mem_deref(sub);
		return err;
	}
	/* nothing reads the identities after set_index() */
	cx_subscription_drop_ids(sub);
	err = ifc_pool_get(reg->ifcs, &ifc, sub, why, sizeof(why));
	if (err == EBADMSG) {
		/* the profile is still usable for routing; iFCs are not */
		LOG_WARN(NULL, "iFCs of %s not usable: %s", s->impi, why);
		err = 0;
	}
	if (err) {
		mem_deref(copy);
		mem_deref(sub);
		return err;
	}
	if (ifc) {
		/* the shared copy (maybe another set's), not ours */
		mem_deref(sub);
		sub = mem_ref((void *)ifc_cache_sub(ifc));
	}
	mem_deref(s->xml);
	mem_deref(s->ifc);
	mem_deref(s->prof);
	s->xml = copy;
	s->prof = sub;
	s->ifc = ifc;
	return 0;
}


/* A set: the record with its IMPI and IMPU in one block. */
static int set_alloc(struct scscf_reg *reg, struct sreg_set **sp, uint64_t id,
		     const char *impi, const char *impu, const char *hss_host,
		     const char *hss_realm, const char *xml, size_t xml_len,
		     enum scscf_reg_state st, bool stored)
{
	size_t il = strlen(impi), ul = strlen(impu);
	struct sreg_set *s;
	int err;

	s = mem_zalloc(sizeof(*s) + il + ul + 2, set_destructor);
	if (!s)
		return ENOMEM;
	memcpy(s->str, impi, il + 1);
	memcpy(s->str + il + 1, impu, ul + 1);
	s->impi = s->str;
	s->impu = s->str + il + 1;
	s->id = id;
	s->state = st;
	s->reg = reg;
	s->hss = hss_get(reg, hss_host ? hss_host : "",
			 hss_realm ? hss_realm : "");
	err = s->hss ? set_profile(reg, s, xml, xml_len, stored) : ENOMEM;
	if (err) {
		mem_deref(s);
		return err;
	}
	list_append(&reg->sets, &s->le, s);
	*sp = s;
	return 0;
}

/* ---- the store ---- */

static void src_pack(struct sreg_src *d, const struct sa *sa)
{
	memset(d, 0, sizeof(*d));
	if (!sa_isset(sa))
		return;
	if (sa_af(sa) == AF_INET) {
		d->af = 4;
		memcpy(d->addr, &sa->u.in.sin_addr, 4);
	} else if (sa_af(sa) == AF_INET6) {
		d->af = 6;
		memcpy(d->addr, &sa->u.in6.sin6_addr, 16);
		d->scope = sa->u.in6.sin6_scope_id;
	} else {
		return;
	}
	d->port = sa_port(sa);
}


static void src_unpack(struct sa *sa, const struct sreg_src *d)
{
	memset(sa, 0, sizeof(*sa));
	if (d->af == 4) {
		sa_init(sa, AF_INET);
		memcpy(&sa->u.in.sin_addr, d->addr, 4);
	} else if (d->af == 6) {
		sa_init(sa, AF_INET6);
		memcpy(&sa->u.in6.sin6_addr, d->addr, 16);
		sa->u.in6.sin6_scope_id = d->scope;
	} else {
		return;
	}
	sa_set_port(sa, d->port);
}


static void row_of(const struct sreg_binding *b, struct scscf_store_binding *r,
		   char *src, size_t srcsz, uint64_t now, int64_t wall)
{
	struct sa sa;

	memset(r, 0, sizeof(*r));
	r->id = b->id;
	r->set_id = b->set->id;
	r->uri = b->str;
	r->params = BSTR(b, params);
	r->callid = BSTR(b, callid);
	r->cseq = b->cseq;
	r->q = b->q;
	/* the wall clock time of the monotonic expiry (a restart counts
	 * the time left from it) */
	r->expires_at = wall + (b->exp_ms > now ? (int64_t)(b->exp_ms - now)
						: -(int64_t)(now - b->exp_ms));
	r->path = BSTR(b, path);
	r->instance = BSTR(b, inst);
	r->reg_id = b->reg_id;
	r->user_agent = BSTR(b, ua);
	r->tp = b->tp;
	src[0] = '\0';
	src_unpack(&sa, &b->src);
	if (sa_isset(&sa) && sa_fmt(&sa, src, srcsz))
		src[0] = '\0';
	r->src = src;
}


/* Write a set with all its bindings and the deletions of dropped ones
 * (or delete the set).  A failure is logged and returned: memory is the
 * truth while the process runs; the store is what a restart gets. */
static int persist(struct scscf_reg *reg, struct sreg_set *s, bool del,
		   const uint64_t *gone, size_t gone_n)
{
	struct scscf_store *st = reg->conf.store;
	uint64_t now = tmr_jiffies();
	int64_t wall = wall_ms();
	struct scscf_store_set r;
	struct le *le;
	char src[64];
	size_t i;
	int err;

	if (!st)
		return 0;
	err = scscf_store_begin(st);
	if (err)
		goto out;
	if (del) {
		err = scscf_store_set_del(st, s->id);
	} else {
		memset(&r, 0, sizeof(r));
		r.id = s->id;
		r.impi = s->impi;
		r.impu = s->impu;
		r.hss_host = s->hss->host;
		r.hss_realm = s->hss->realm;
		/* NULL: the stored profile stays (it did not change) */
		r.user_data = s->xml;
		r.state = (int)s->state;
		err = scscf_store_set_put(st, &r);
		for (i = 0; !err && i < gone_n; i++)
			err = scscf_store_binding_del(st, gone[i]);
		LIST_FOREACH (&s->bindings, le) {
			struct scscf_store_binding br;

			if (err)
				break;
			row_of(le->data, &br, src, sizeof(src), now, wall);
			err = scscf_store_binding_put(st, &br);
		}
	}
	if (err) {
		scscf_store_rollback(st);
		goto out;
	}
	err = scscf_store_commit(st);
	if (!err)
		s->xml = mem_deref(s->xml); /* the store has it now */
out:
	if (err)
		LOG_ERR(NULL, "store: set of %s not written: %s", s->impi,
			log_strerror(err));
	return err;
}

/* ---- Cx transactions ---- */

static void tx_destructor(void *arg)
{
	struct sreg_tx *tx = arg;

	tmr_cancel(&tx->later);
	if (tx->reg)
		list_unlink(&tx->le);
	mem_deref(tx->msg);
	mem_deref(tx->impi);
	mem_deref(tx->impu);
}


static int tx_alloc(struct scscf_reg *reg, struct sreg_tx **txp,
		    enum tx_kind kind, const char *impi, const char *impu)
{
	struct sreg_tx *tx = mem_zalloc(sizeof(*tx), tx_destructor);
	int err;

	if (!tx)
		return ENOMEM;
	tmr_init(&tx->later);
	tx->kind = kind;
	err = dupstr(&tx->impi, impi);
	if (!err)
		err = dupstr(&tx->impu, impu);
	if (err) {
		mem_deref(tx);
		return err;
	}
	tx->reg = reg;
	list_append(&reg->txs, &tx->le, tx);
	*txp = tx;
	return 0;
}


/* Answer the REGISTER of tx (once). */
static void tx_reply(struct sreg_tx *tx, uint16_t scode, const char *reason,
		     const char *hdrs)
{
	struct scscf_reply r;
	scscf_reply_h *h = tx->replyh;

	tx->replyh = NULL;
	if (!h)
		return;
	memset(&r, 0, sizeof(r));
	r.scode = scode;
	r.reason = reason ? reason : sip_reason(scode);
	r.hdrs = hdrs ? hdrs : "";
	h(&r, tx->arg);
}


/* The Cx call failed or the answer is an error: what the UE gets. */
static void tx_reply_cx(struct sreg_tx *tx, int err,
			const struct cx_result *res, const char *what)
{
	if (err == ETIMEDOUT) {
		tx_reply(tx, 504, "Server Time-out (HSS did not answer)", NULL);
		return;
	}
	if (err || !res) {
		tx_reply(tx, 500, "Server Internal Error (HSS unreachable)",
			 "Retry-After: 30\r\n");
		return;
	}
	LOG_INFO(NULL, "%s for %s/%s: result %u/%u", what, tx->impi, tx->impu,
		 res->code, res->vendor);
	if (res->vendor == DIA_VENDOR_3GPP || res->code >= 5000) {
		/* TS 24.229 5.4.1.2.1: unknown user, identities that do
		 * not match, a scheme refused: the UE is not let in */
		tx_reply(tx, 403, "Forbidden", NULL);
		return;
	}
	tx_reply(tx, 500, "Server Internal Error (HSS busy)",
		 "Retry-After: 30\r\n");
}


static bool cx_ok(const struct cx_result *r)
{
	return r->code == DIA_SUCCESS ||
	       (r->vendor == DIA_VENDOR_3GPP &&
		(r->code == DIA_FIRST_REGISTRATION ||
		 r->code == DIA_SUBSEQUENT_REGISTRATION ||
		 r->code == DIA_UNREGISTERED_SERVICE ||
		 r->code == DIA_SUCCESS_SERVER_NAME_NOT_STORED));
}


/* The HSS known for impi (TS 29.228 6.1.2, 6.3: later requests go to
 * the HSS that answered). */
static const char *hss_of(const struct scscf_reg *reg, const char *impi,
			  const char *impu)
{
	struct sreg_idx *x = idx_find(reg, impu, impi);

	if (x && x->set->hss->host[0])
		return x->set->hss->host;
	return NULL;
}


static void quiet_saa(int err, const struct cx_saa *saa,
		      const struct cx_origin *from, void *arg)
{
	struct sreg_tx *tx = arg;

	(void)from;
	if (err)
		LOG_WARN(NULL, "SAR %u for %s: %s", tx->sat, tx->impi,
			 log_strerror(err));
	else if (!cx_ok(&saa->res))
		LOG_INFO(NULL, "SAR %u for %s: result %u/%u", tx->sat, tx->impi,
			 saa->res.code, saa->res.vendor);
	mem_deref(tx);
}


static int sar_send(struct scscf_reg *reg, struct sreg_tx *tx, uint32_t sat,
		    bool have_profile, const char *hss, cx_saa_h *h)
{
	struct cx_client_opts o;
	struct cx_sar sar;
	int err;

	memset(&sar, 0, sizeof(sar));
	memset(&o, 0, sizeof(o));
	sar.impi = cx_pl(tx->impi[0] ? tx->impi : NULL);
	sar.impu[0] = cx_pl(tx->impu);
	sar.impu_n = 1;
	sar.server_name = cx_pl(reg->server_name);
	sar.sat = sat;
	sar.udaa = have_profile ? DIA_USER_DATA_ALREADY_AVAILABLE_IN_SCSCF
				: DIA_USER_DATA_NOT_AVAILABLE_IN_SCSCF;
	sar.multiple_reg = -1;
	o.dest_host = hss && *hss ? hss : NULL;
	tx->sat = sat;
	err = cx_client_sar(reg->node, &sar, &o, h, tx);
	if (err)
		LOG_WARN(NULL, "SAR %u for %s not sent: %s", sat, tx->impi,
			 log_strerror(err));
	return err;
}


/* A SAR nobody waits for (timeouts, failures). */
static void sar_quiet(struct scscf_reg *reg, const char *impi, const char *impu,
		      uint32_t sat, const char *hss)
{
	struct sreg_tx *tx = NULL;

	if (reg->closed || tx_alloc(reg, &tx, TX_QUIET, impi, impu))
		return;
	if (sar_send(reg, tx, sat, true, hss, quiet_saa))
		mem_deref(tx);
}

/* ---- challenges ---- */

static void vec_destructor(void *arg)
{
	struct sreg_vec *v = arg;

	tmr_cancel(&v->tmr);
	OPENSSL_cleanse(v->ha1, sizeof(v->ha1));
	OPENSSL_cleanse(v->xres, sizeof(v->xres));
	OPENSSL_cleanse(v->ck, sizeof(v->ck));
	OPENSSL_cleanse(v->ik, sizeof(v->ik));
	mem_deref(v->impu);
	mem_deref(v->hss_host);
	mem_deref(v->hss_realm);
}


static void au_destructor(void *arg)
{
	struct sreg_au *a = arg;

	list_flush(&a->vecs);
	mem_deref(a->impi);
}


static struct sreg_au *au_find(const struct scscf_reg *reg, const char *impi)
{
	struct le *le;

	LIST_FOREACH (hash_list(reg->au, key_of(impi)), le) {
		struct sreg_au *a = le->data;

		if (!strcasecmp(a->impi, impi))
			return a;
	}
	return NULL;
}


static void vec_drop(struct sreg_vec *v)
{
	struct sreg_au *a = v->au;

	list_unlink(&v->le);
	mem_deref(v);
	if (a && !a->vecs.n) {
		hash_unlink(a->reg->au, &a->he);
		mem_deref(a);
	}
}


static struct sreg_vec *vec_find(const struct scscf_reg *reg,
				 const struct pl *impi, const struct pl *nonce)
{
	char id[IMPI_MAX];
	struct sreg_au *a;
	struct le *le;

	if (pl_strcpy(impi, id, sizeof(id)))
		return NULL;
	a = au_find(reg, id);
	if (!a)
		return NULL;
	LIST_FOREACH (&a->vecs, le) {
		struct sreg_vec *v = le->data;

		if (pl_eq_str(nonce, v->nonce))
			return v;
	}
	return NULL;
}


/* A challenge nobody answered (TS 29.228 6.1.2 AUTHENTICATION_TIMEOUT:
 * the HSS forgets the S-CSCF the MAR stored for a user that is not
 * registered). */
static void vec_timeout(void *arg)
{
	struct sreg_vec *v = arg;
	struct sreg_au *a = v->au;
	struct scscf_reg *reg = a->reg;
	char impi[IMPI_MAX], impu[IMPU_MAX], hss[256];
	bool last = a->vecs.n == 1;

	(void)snprintf(impi, sizeof(impi), "%s", a->impi);
	(void)snprintf(impu, sizeof(impu), "%s", v->impu);
	(void)snprintf(hss, sizeof(hss), "%s", v->hss_host);
	vec_drop(v);
	if (last && !idx_find(reg, impu, impi))
		sar_quiet(reg, impi, impu, DIA_SAT_AUTHENTICATION_TIMEOUT, hss);
}


static int nonce_digest(char *out, size_t size)
{
	uint8_t r[NONCE_RAND_LEN];

	if (size < NONCE_RAND_LEN / 3 * 4 + 1)
		return ENOSPC;
	if (RAND_bytes(r, sizeof(r)) != 1)
		return EIO;
	return base64_encode(out, size, r, sizeof(r), BASE64_URL);
}


/* The realm of an AKA challenge: configured, else the IMPU's domain. */
static void aka_realm(const struct scscf_reg *reg, const char *impu, char *buf,
		      size_t size)
{
	const char *at;

	if (reg->realm) {
		(void)snprintf(buf, size, "%s", reg->realm);
		return;
	}
	at = strchr(impu, '@');
	(void)snprintf(buf, size, "%s", at ? at + 1 : impu);
	/* drop a port */
	if ((at = strchr(buf, ':')) != NULL)
		*(char *)at = '\0';
}


/* Keep the vector of the first SIP-Auth-Data-Item of an MAA. */
static int vec_from_maa(struct scscf_reg *reg, struct sreg_tx *tx,
			const struct cx_auth_item *it,
			const struct cx_origin *from, struct sreg_vec **vp)
{
	struct sreg_vec *v;
	struct sreg_au *a;
	int err = 0;

	v = mem_zalloc(sizeof(*v), vec_destructor);
	if (!v)
		return ENOMEM;
	tmr_init(&v->tmr);
	if (pl_eq_str_ci(&it->scheme, "SIP Digest") && it->has_digest) {
		v->kind = VEC_DIGEST;
		v->alg = pl_isset(&it->digest.algorithm)
				 ? auth_algo_of(&it->digest.algorithm)
				 : AUTH_ALG_MD5;
		if (v->alg == AUTH_ALG_NUM ||
		    pl_strcpy(&it->digest.realm, v->realm, sizeof(v->realm)) ||
		    pl_strcpy(&it->digest.ha1, v->ha1, sizeof(v->ha1)) ||
		    !v->realm[0] || !v->ha1[0])
			err = EPROTO;
		if (!err)
			err = nonce_digest(v->nonce, sizeof(v->nonce));
	} else if (pl_eq_str_ci(&it->scheme, "Digest-AKAv1-MD5") ||
		   pl_eq_str_ci(&it->scheme, "Digest-AKAv2-MD5")) {
		v->kind = VEC_AKA;
		if (pl_eq_str_ci(&it->scheme, "Digest-AKAv2-MD5"))
			v->ak = AKA_DIGEST_AKAV2_MD5;
		else
			v->ak = AKA_DIGEST_AKAV1_MD5;
		if (aka_cx_authenticate_decode(
			    (const uint8_t *)it->authenticate.p,
			    it->authenticate.l, v->rand, v->autn) ||
		    it->authorization.l < 4 ||
		    it->authorization.l > sizeof(v->xres) ||
		    it->ck.l != AKA_KEY_LEN || it->ik.l != AKA_KEY_LEN)
			err = EPROTO;
		if (!err) {
			memcpy(v->xres, it->authorization.p,
			       it->authorization.l);
			v->xres_len = it->authorization.l;
			memcpy(v->ck, it->ck.p, AKA_KEY_LEN);
			memcpy(v->ik, it->ik.p, AKA_KEY_LEN);
			aka_realm(reg, tx->impu, v->realm, sizeof(v->realm));
			err = aka_nonce_encode(v->nonce, sizeof(v->nonce),
					       v->rand, v->autn, NULL, 0);
		}
	} else {
		err = EPROTO;
	}
	if (!err)
		err = dupstr(&v->impu, tx->impu);
	if (!err) {
		char h[256] = "", r[256] = "";

		if (from) {
			plcpy(&from->host, h, sizeof(h));
			plcpy(&from->realm, r, sizeof(r));
		}
		err = dupstr(&v->hss_host, h);
		if (!err)
			err = dupstr(&v->hss_realm, r);
	}
	if (err)
		goto fail;

	a = au_find(reg, tx->impi);
	if (!a) {
		a = mem_zalloc(sizeof(*a), au_destructor);
		if (!a || dupstr(&a->impi, tx->impi)) {
			mem_deref(a);
			err = ENOMEM;
			goto fail;
		}
		a->reg = reg;
		hash_append(reg->au, key_of(a->impi), &a->he, a);
	}
	/* bounded: the oldest challenge goes first */
	while (a->vecs.n >= reg->conf.vectors_max) {
		struct sreg_vec *old = list_head_data(&a->vecs);

		list_unlink(&old->le);
		mem_deref(old);
	}
	v->au = a;
	list_append(&a->vecs, &v->le, v);
	tmr_start(&v->tmr, (uint64_t)reg->conf.auth_timeout_s * 1000,
		  vec_timeout, v);
	*vp = v;
	return 0;
fail:
	mem_deref(v);
	return err;
}


/* The 401 (TS 24.229 5.4.1.2.1, RFC 3310 3.1, RFC 7616 3.3). */
static void reply_401(struct scscf_reg *reg, struct sreg_tx *tx,
		      const struct sreg_vec *v, bool stale)
{
	struct buf *b = NULL;
	char ck[2 * AKA_KEY_LEN + 1], ik[2 * AKA_KEY_LEN + 1];
	int err;

	err = buf_alloc(&b, 512, REPLY_MAX);
	if (!err)
		err = buf_printf(b,
				 "WWW-Authenticate: Digest realm=\"%s\", "
				 "nonce=\"%s\", algorithm=%s, qop=\"auth\"%s",
				 v->realm, v->nonce,
				 v->kind == VEC_AKA ? aka_digest_alg_name(v->ak)
						    : auth_algo_name(v->alg),
				 stale ? ", stale=true" : "");
	if (!err && v->kind == VEC_AKA && reg->conf.keys_to_pcscf) {
		/* TS 33.203 6.1 / TS 24.229 5.4.1.2.1: for the P-CSCF's
		 * security association, which removes them */
		hex_encode(ck, v->ck, AKA_KEY_LEN);
		hex_encode(ik, v->ik, AKA_KEY_LEN);
		err = buf_printf(b, ", ck=\"%s\", ik=\"%s\"", ck, ik);
		OPENSSL_cleanse(ck, sizeof(ck));
		OPENSSL_cleanse(ik, sizeof(ik));
	}
	if (!err)
		err = buf_write_str(b, "\r\n");
	if (err)
		tx_reply(tx, 500, NULL, NULL);
	else
		tx_reply(tx, 401, "Unauthorized", hdrs_of(b));
	if (b)
		OPENSSL_cleanse(b->b, b->size);
	mem_deref(b);
}


static void maa_h(int err, const struct cx_maa *maa,
		  const struct cx_origin *from, void *arg)
{
	struct sreg_tx *tx = arg;
	struct scscf_reg *reg = tx->reg;
	struct sreg_vec *v = NULL;

	if (!reg)
		goto out;
	if (err || !cx_ok(&maa->res)) {
		tx_reply_cx(tx, err, err ? NULL : &maa->res, "MAR");
		goto out;
	}
	if (!maa->item_n) {
		tx_reply(tx, 500, "Server Internal Error (no vector)", NULL);
		goto out;
	}
	err = vec_from_maa(reg, tx, &maa->item[0], from, &v);
	if (err) {
		LOG_WARN(NULL, "MAA for %s: unusable vector (%.*s): %s",
			 tx->impi, PL_FMT(&maa->item[0].scheme),
			 log_strerror(err));
		tx_reply(tx, 500, "Server Internal Error (unusable vector)",
			 NULL);
		goto out;
	}
	reply_401(reg, tx, v, false);
out:
	mem_deref(tx);
}


/* MAR (TS 29.228 6.3): one vector, the scheme the UE's algorithm names
 * (or "Unknown": the HSS picks); with auts, RAND || AUTS for the HSS to
 * resynchronise (TS 33.203 6.1.2, TS 29.229 6.3.10). */
static int mar_send(struct scscf_reg *reg, struct sreg_tx *tx,
		    const struct sip_authhdr *ah, const uint8_t *resync)
{
	struct cx_client_opts o;
	struct cx_mar mar;
	const char *scheme = "Unknown";
	char realm[AUTH_REALM_MAX];

	memset(&mar, 0, sizeof(mar));
	memset(&o, 0, sizeof(o));
	if (ah && pl_isset(&ah->algorithm)) {
		if (pl_eq_str_ci(&ah->algorithm, "AKAv1-MD5"))
			scheme = "Digest-AKAv1-MD5";
		else if (pl_eq_str_ci(&ah->algorithm, "AKAv2-MD5"))
			scheme = "Digest-AKAv2-MD5";
		else if (auth_algo_of(&ah->algorithm) != AUTH_ALG_NUM) {
			/* TS 29.229 6.3.36: the algorithm we challenge with
			 * rides in SIP-Digest-Authenticate (HA1 empty) */
			scheme = "SIP Digest";
			if (pl_isset(&ah->realm))
				mar.item.digest.realm = ah->realm;
			else {
				aka_realm(reg, tx->impu, realm, sizeof(realm));
				mar.item.digest.realm = cx_pl(realm);
			}
			mar.item.has_digest = true;
			mar.item.digest.algorithm = ah->algorithm;
			mar.item.digest.qop = cx_pl("auth");
			mar.item.digest.ha1 = cx_pl("");
		}
	}
	mar.impi = cx_pl(tx->impi);
	mar.impu = cx_pl(tx->impu);
	mar.server_name = cx_pl(reg->server_name);
	mar.n_items = 1;
	mar.item.scheme = cx_pl(scheme);
	if (resync)
		pl_set(&mar.item.authorization, (const char *)resync,
		       AKA_CX_RESYNC_LEN);
	o.dest_host = hss_of(reg, tx->impi, tx->impu);
	return cx_client_mar(reg->node, &mar, &o, maa_h, tx);
}

/* ---- verification ---- */

enum verdict {
	V_OK,
	V_CHALLENGE, /* nothing to verify: challenge */
	V_STALE,     /* right digest, replayed nonce-count */
	V_RESYNC,    /* AKA synchronisation failure */
	V_FAIL,      /* wrong credentials */
	V_BAD,       /* malformed */
};


/* RFC 7616 3.4.1 / RFC 3310 3.3: the expected response. */
static int expected(const struct sreg_vec *v, const struct sip_authhdr *ah,
		    const struct pl *method, char *out, size_t size)
{
	char ha1[AUTH_HA1_HEX_MAX];
	uint8_t pw[AKA_PASSWORD_MAX];
	size_t pwl = 0;
	struct pl realm = cx_pl(v->realm);
	int err;

	if (v->kind == VEC_DIGEST)
		return auth_response(v->alg, v->ha1, &ah->nonce, &ah->nc,
				     &ah->cnonce, &ah->qop, method, &ah->uri,
				     out, size);
	err = aka_digest_password(v->ak, v->xres, v->xres_len, v->ck, v->ik, pw,
				  &pwl);
	if (!err)
		err = aka_digest_ha1(&ah->username, &realm, pw, pwl, ha1);
	if (!err)
		err = auth_response(AUTH_ALG_MD5, ha1, &ah->nonce, &ah->nc,
				    &ah->cnonce, &ah->qop, method, &ah->uri,
				    out, size);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return err;
}


static enum verdict verify(const struct sip_authhdr *ah, struct sreg_vec *v,
			   const struct pl *method)
{
	char exp[AUTH_HA1_HEX_MAX], got[AUTH_HA1_HEX_MAX];
	uint32_t nc = 0;
	size_t i;

	if (pl_isset(&ah->auts))
		return v->kind == VEC_AKA ? V_RESYNC : V_BAD;
	if (!pl_isset(&ah->response) || !pl_isset(&ah->uri) ||
	    !pl_eq_str(&ah->realm, v->realm))
		return V_BAD;
	/* we challenge with qop="auth": RFC 7616 3.4 makes nc and cnonce
	 * mandatory then */
	if (!pl_eq_str_ci(&ah->qop, "auth") || ah->nc.l != 8 ||
	    !pl_isset(&ah->cnonce))
		return V_BAD;
	for (i = 0; i < 8; i++) {
		int d = pl_hexval(ah->nc.p[i]);

		if (d < 0)
			return V_BAD;
		nc = nc << 4 | (uint32_t)d;
	}
	if (!nc || ah->response.l >= sizeof(got))
		return V_BAD;
	if (expected(v, ah, method, exp, sizeof(exp)))
		return V_FAIL;
	for (i = 0; i < ah->response.l; i++) {
		int d = pl_hexval(ah->response.p[i]);

		/* hex digits compare case-insensitively */
		if (d < 0)
			got[i] = ah->response.p[i];
		else
			got[i] = "0123456789abcdef"[d];
	}
	got[i] = '\0';
	if (strlen(exp) != ah->response.l ||
	    CRYPTO_memcmp(exp, got, ah->response.l) != 0)
		return V_FAIL;
	/* RFC 7616 3.3: only a valid digest may be told its nonce is
	 * stale; a nonce-count that does not grow is a replay */
	if (nc <= v->nc)
		return V_STALE;
	v->nc = nc;
	return V_OK;
}

/* ---- bindings ---- */

/* RFC 5626 4.2 / TS 24.229 5.4.1.2.2: with +sip.instance and reg-id the
 * pair names the binding, otherwise the Contact URI (RFC 3261 19.1.4). */
static void contact_key(const struct sip_contact *c, struct pl *inst,
			uint32_t *reg_id)
{
	struct pl v;

	*inst = (struct pl)PL_INIT;
	*reg_id = 0;
	if (!sip_param_get(&c->addr.params, "+sip.instance", &v))
		*inst = v;
	if (!sip_param_get(&c->addr.params, "reg-id", &v) && pl_u32(&v, reg_id))
		*reg_id = 0;
}


/* RFC 3261 10.3 step 7: the binding's URI equals u (19.1.4).  The URI
 * is decoded again here rather than kept decoded in every binding (a
 * struct sip_uri is 160 octets; a set has a handful of bindings). */
static bool binding_uri_eq(const struct sreg_binding *b,
			   const struct sip_uri *u)
{
	struct sip_uri bu;
	struct pl pl;

	pl_set_str(&pl, b->str);
	return !sip_uri_decode(&bu, &pl) && sip_uri_eq(&bu, u);
}


static struct sreg_binding *binding_find(const struct sreg_set *s,
					 const struct sip_contact *c)
{
	struct pl inst;
	uint32_t rid;
	struct le *le;

	contact_key(c, &inst, &rid);
	LIST_FOREACH (&s->bindings, le) {
		struct sreg_binding *b = le->data;

		if (!b)
			continue;
		if (pl_isset(&inst) && rid) {
			if (b->reg_id == rid && pl_eq_str(&inst, BSTR(b, inst)))
				return b;
			continue;
		}
		if (binding_uri_eq(b, &c->addr.uri))
			return b;
	}
	return NULL;
}


static void binding_link(struct sreg_set *s, struct sreg_binding *b)
{
	struct le *le;

	/* q descending, equal q in registration order */
	LIST_FOREACH (&s->bindings, le) {
		struct sreg_binding *o = le->data;

		if (o->q < b->q) {
			if (le->prev)
				list_insert_after(&s->bindings, le->prev,
						  &b->le, b);
			else
				list_prepend(&s->bindings, &b->le, b);
			return;
		}
	}
	list_append(&s->bindings, &b->le, b);
}


static void binding_start(struct sreg_binding *b)
{
	uint64_t now = tmr_jiffies();

	tmr_start(&b->tmr, b->exp_ms > now ? b->exp_ms - now : 0,
		  binding_expire, b);
}


/* The strings of one binding, before they are packed. */
struct binding_strs {
	struct pl uri, params, callid, path, inst, ua;
};


/*
 * A binding block: the record and its six strings (the URI first), each
 * NUL-terminated, so a binding costs one allocation.  EBADMSG when the URI
 * does not decode; ENOSPC when the strings do not fit the 16-bit offsets
 * (one REGISTER cannot give that much: SIP_MSG_MAX).
 */
static int binding_alloc(struct sreg_binding **bp, const struct binding_strs *v)
{
	const struct pl *f[6] = { &v->uri,  &v->params, &v->callid,
				  &v->path, &v->inst,   &v->ua };
	uint16_t *o[6];
	struct sreg_binding *b;
	struct sip_uri u;
	size_t total = 0, i, at = 0;

	if (sip_uri_decode(&u, &v->uri))
		return EBADMSG;
	for (i = 0; i < 6; i++)
		total += (f[i]->p ? f[i]->l : 0) + 1;
	if (total > UINT16_MAX)
		return ENOSPC;
	b = mem_zalloc(sizeof(*b) + total, binding_destructor);
	if (!b)
		return ENOMEM;
	tmr_init(&b->tmr);
	o[0] = NULL;
	o[1] = &b->o_params;
	o[2] = &b->o_callid;
	o[3] = &b->o_path;
	o[4] = &b->o_inst;
	o[5] = &b->o_ua;
	for (i = 0; i < 6; i++) {
		size_t l = f[i]->p ? f[i]->l : 0;

		if (o[i])
			*o[i] = (uint16_t)at;
		if (l)
			memcpy(b->str + at, f[i]->p, l);
		b->str[at + l] = '\0';
		at += l + 1;
	}
	*bp = b;
	return 0;
}


static struct pl pl_of(const char *s)
{
	struct pl pl = PL_INIT;

	if (s)
		pl_set_str(&pl, s);
	return pl;
}


static void binding_drop(struct scscf_reg *reg, struct sreg_binding *b)
{
	tmr_cancel(&b->tmr);
	list_unlink(&b->le);
	if (reg->nbindings)
		reg->nbindings--;
	mem_deref(b);
}


/* A binding's time is up (RFC 3261 10.2.1.1); the last one of a set
 * ends the registration: SAR TIMEOUT_DEREGISTRATION (TS 24.229
 * 5.4.1.7). */
static void binding_expire(void *arg)
{
	struct sreg_binding *b = arg;
	struct sreg_set *s = b->set;
	struct scscf_reg *reg = s->reg;
	uint64_t gone = b->id;

	if (s->bindings.n > 1) {
		event_one(reg, s, b, SCSCF_EV_EXPIRED, SCSCF_REGISTERED, NULL);
		binding_drop(reg, b);
		(void)persist(reg, s, false, &gone, 1);
		return;
	}
	sar_quiet(reg, s->impi, s->impu, DIA_SAT_TIMEOUT_DEREGISTRATION,
		  s->hss->host);
	change_notify(reg, s, SCSCF_RC_TIMEOUT, NULL, NULL);
	set_remove(reg, s, SCSCF_EV_EXPIRED);
}


/* After a load: every registered set without a binding (all expired or
 * unreadable) ends as a timeout (TS 24.229 5.4.1.7). */
static void load_timeout(void *arg)
{
	struct scscf_reg *reg = arg;
	struct le *le = reg->sets.head;

	while (le) {
		struct sreg_set *s = le->data;

		le = le->next; /* set_remove() unlinks s */
		if (s->bindings.n || s->state != SCSCF_REGISTERED)
			continue;
		sar_quiet(reg, s->impi, s->impu, DIA_SAT_TIMEOUT_DEREGISTRATION,
			  s->hss->host);
		change_notify(reg, s, SCSCF_RC_TIMEOUT, NULL, NULL);
		set_remove(reg, s, SCSCF_EV_EXPIRED);
	}
}


/* Remove a set: events for every contact, the store, memory. */
static void set_remove(struct scscf_reg *reg, struct sreg_set *s,
		       enum scscf_reg_ev ev)
{
	struct ev_chg chg[REQ_CONTACTS];
	size_t n = 0;
	struct le *le;

	LIST_FOREACH (&s->bindings, le) {
		if (n < REQ_CONTACTS)
			chg[n++] = (struct ev_chg){ le->data, ev };
	}
	event_emit(reg, s, chg, n, SCSCF_NOT_REGISTERED, NULL);
	(void)persist(reg, s, true, NULL, 0);
	while ((le = s->bindings.head))
		binding_drop(reg, le->data);
	s->removed = true;
	idx_unlink(reg, s);
	list_unlink(&s->le);
	mem_deref(s);
}

/* ---- the REGISTER ---- */

/* Require (RFC 3261 8.2.2.3): only path (RFC 3327) and sec-agree
 * (RFC 3329, which the P-CSCF handles) are understood. */
static bool require_ok(struct sip_msg *msg, struct buf *b)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	bool ok = true;

	while (sip_msg_hdr_value_next(msg, SIP_HDR_REQUIRE, &it, &v)) {
		if (pl_eq_str_ci(&v, "path") || pl_eq_str_ci(&v, "sec-agree"))
			continue;
		ok = false;
		if (buf_printf(b, "Unsupported: %.*s\r\n", PL_FMT(&v)))
			break;
	}
	return ok;
}


/* Parse what the REGISTER says; *scode non-zero when it must be refused
 * now (with *reason and header lines in b). */
static int req_parse(struct scscf_reg *reg, struct req_ctx *c, uint16_t *scode,
		     const char **reason, struct buf *b)
{
	struct sip_msg *msg = c->msg;
	const struct sip_addr *to;
	const struct sip_hdr *h;
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	size_t i;

	*scode = 0;
	if (sip_msg_to(msg, &to)) {
		*scode = 400;
		*reason = "Bad Request (To)";
		return 0;
	}
	if (to->uri.sch != SIP_SCHEME_SIP && to->uri.sch != SIP_SCHEME_SIPS &&
	    to->uri.sch != SIP_SCHEME_TEL) {
		*scode = 404;
		*reason = "Not Found (not a public user identity)";
		return 0;
	}
	if (impu_canon(&to->uri.text, c->impu, sizeof(c->impu))) {
		*scode = 400;
		*reason = "Bad Request (To too long)";
		return 0;
	}
	if (!require_ok(msg, b)) {
		*scode = 420;
		*reason = "Bad Extension";
		return 0;
	}

	/* credentials: the first Digest Authorization */
	for (h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(msg, h)) {
		struct sip_authhdr ah;

		if (sip_authhdr_decode(&ah, &h->val)) {
			*scode = 400;
			*reason = "Bad Request (Authorization)";
			return 0;
		}
		if (pl_eq_str_ci(&ah.scheme, "Digest")) {
			c->ah = ah;
			c->has_ah = true;
			break;
		}
	}
	if (c->has_ah && pl_isset(&c->ah.username)) {
		if (pl_strcpy(&c->ah.username, c->impi, sizeof(c->impi))) {
			*scode = 400;
			*reason = "Bad Request (username too long)";
			return 0;
		}
	} else if (impi_derive(c->impu, c->impi, sizeof(c->impi))) {
		*scode = 403;
		*reason = "Forbidden (no private user identity)";
		return 0;
	}

	/* Expires and the Contacts (RFC 3261 10.3 steps 6-7) */
	if (sip_msg_expires(msg, &c->hexp))
		c->hexp = reg->conf.default_expires;
	while (sip_msg_hdr_value_next(msg, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_contact *ct;

		if (c->nct == REQ_CONTACTS) {
			*scode = 403;
			*reason = "Forbidden (too many contacts)";
			return 0;
		}
		ct = &c->ct[c->nct];
		if (sip_contact_decode(ct, &v)) {
			*scode = 400;
			*reason = "Bad Request (Contact)";
			return 0;
		}
		if (ct->addr.star) {
			c->star = true;
		} else if (ct->addr.uri.sch != SIP_SCHEME_SIP &&
			   ct->addr.uri.sch != SIP_SCHEME_SIPS) {
			*scode = 400;
			*reason = "Bad Request (Contact is not a SIP URI)";
			return 0;
		}
		c->cexp[c->nct] = ct->has_expires ? ct->expires : c->hexp;
		c->nct++;
	}
	if (c->star && (c->nct != 1 || c->hexp != 0)) {
		*scode = 400;
		*reason = "Bad Request (Contact: * needs Expires: 0 alone)";
		return 0;
	}
	for (i = 0; i < c->nct && !c->star; i++) {
		if (c->cexp[i] && c->cexp[i] < reg->conf.min_expires) {
			*scode = 423;
			*reason = "Interval Too Brief";
			return buf_printf(b, "Min-Expires: %u\r\n",
					  reg->conf.min_expires);
		}
		if (c->cexp[i] > reg->conf.max_expires)
			c->cexp[i] = reg->conf.max_expires;
	}
	return 0;
}


/* RFC 3261 10.3 step 7: for the same Call-ID a CSeq must grow.  Checked
 * before the SAR, so a refused update costs no Cx round trip. */
static bool cseq_ok(const struct sreg_set *s, const struct req_ctx *c)
{
	const struct sip_cseq *cs;
	struct pl cid;
	size_t i;

	if (!s || sip_msg_cseq(c->msg, &cs) || sip_msg_callid(c->msg, &cid))
		return true;
	for (i = 0; i < c->nct && !c->star; i++) {
		const struct sreg_binding *b = binding_find(s, &c->ct[i]);

		if (b && pl_eq_str(&cid, BSTR(b, callid)) && cs->num <= b->cseq)
			return false;
	}
	return true;
}


/* Would the set keep a binding after this request? */
static bool keeps_any(const struct sreg_set *s, const struct req_ctx *c)
{
	struct le *le;
	size_t i;

	if (c->star)
		return false;
	for (i = 0; i < c->nct; i++)
		if (c->cexp[i])
			return true;
	if (!s)
		return false;
	/* every existing binding not removed by this request stays */
	LIST_FOREACH (&s->bindings, le) {
		bool named = false;

		for (i = 0; i < c->nct; i++)
			if (binding_find(s, &c->ct[i]) == le->data)
				named = true;
		if (!named)
			return true;
	}
	return false;
}


/* What every binding of one REGISTER shares. */
struct apply_ctx {
	struct sip_msg *msg;
	const struct sip_cseq *cs;
	struct pl cid;
	const struct sip_hdr *uah;
	char path[PATH_MAX_LEN];
	uint64_t now;
	uint64_t *gone; /* ids of removed bindings */
	size_t gone_n;
	/* what changed, reported at once after the last Contact (each
	 * binding referenced until then) */
	struct ev_chg chg[REQ_CONTACTS];
	size_t chg_n;
};


static void apply_note(struct apply_ctx *a, struct sreg_binding *b,
		       enum scscf_reg_ev ev)
{
	if (a->chg_n < REQ_CONTACTS)
		a->chg[a->chg_n++] = (struct ev_chg){ mem_ref(b), ev };
}


static void apply_drop(struct scscf_reg *reg, struct sreg_binding *b,
		       struct apply_ctx *a)
{
	apply_note(a, b, SCSCF_EV_UNREGISTERED);
	if (a->gone_n < REQ_CONTACTS) /* max_contacts is capped to it */
		a->gone[a->gone_n++] = b->id;
	binding_drop(reg, b);
}


/* A binding block with what the REGISTER says about one Contact. */
static int binding_make(struct sreg_binding **bp, const struct sip_contact *ct,
			uint32_t expires, const struct apply_ctx *a)
{
	struct binding_strs v;
	struct sreg_binding *b = NULL;
	char *params = NULL;
	uint32_t rid;
	int err;

	memset(&v, 0, sizeof(v));
	if (ct->addr.uri.text.l >= URI_MAX)
		return ENOSPC;
	v.uri = ct->addr.uri.text;
	contact_key(ct, &v.inst, &rid);
	err = registrar_params_keep(&ct->addr.params, &params);
	if (err)
		return err;
	v.params = pl_of(params);
	v.callid = a->cid;
	v.path = pl_of(a->path);
	if (a->uah) {
		v.ua = a->uah->val;
		if (v.ua.l > UA_MAX)
			v.ua.l = UA_MAX;
	}
	err = binding_alloc(&b, &v);
	mem_deref(params);
	if (err)
		return err;
	b->reg_id = pl_isset(&v.inst) ? rid : 0;
	b->cseq = a->cs ? a->cs->num : 0;
	b->q = ct->q;
	b->exp_ms = a->now + (uint64_t)expires * 1000;
	b->tp = (uint8_t)a->msg->tp;
	src_pack(&b->src, &a->msg->src);
	*bp = b;
	return 0;
}


/* One Contact with a non-zero expiry: a new binding or an update (a new
 * block in place of the old one). */
static int apply_one(struct scscf_reg *reg, struct sreg_set *s,
		     const struct sip_contact *ct, uint32_t expires,
		     struct apply_ctx *a)
{
	struct sreg_binding *old = binding_find(s, ct), *b = NULL;
	bool first = s->bindings.n == 0;
	enum scscf_reg_ev ev;
	int err;

	if (!old && s->bindings.n >= reg->conf.max_contacts)
		return 0; /* refused before: cannot happen */
	err = binding_make(&b, ct, expires, a);
	if (err)
		return err;
	b->set = s;
	if (old) {
		b->id = old->id;
		ev = b->exp_ms < old->exp_ms ? SCSCF_EV_SHORTENED
					     : SCSCF_EV_REFRESHED;
		tmr_cancel(&old->tmr);
		list_unlink(&old->le);
		mem_deref(old);
	} else {
		b->id = reg->next_id++;
		reg->nbindings++;
		ev = first ? SCSCF_EV_REGISTERED : SCSCF_EV_CREATED;
	}
	binding_link(s, b);
	binding_start(b);
	apply_note(a, b, ev);
	return 0;
}


/* Apply the Contacts to the set (cannot refuse: checked before); the ids
 * of removed bindings go to gone[]. */
static int apply(struct scscf_reg *reg, struct sreg_set *s, struct req_ctx *c,
		 uint64_t *gone, size_t *gone_n)
{
	struct apply_ctx *a = mem_zalloc(sizeof(*a), NULL);
	struct le *le;
	size_t i;
	int err;

	*gone_n = 0;
	if (!a)
		return ENOMEM;
	a->msg = c->msg;
	a->now = tmr_jiffies();
	a->gone = gone;
	(void)sip_msg_cseq(c->msg, &a->cs);
	(void)sip_msg_callid(c->msg, &a->cid);
	a->uah = sip_msg_hdr(c->msg, SIP_HDR_USER_AGENT);
	err = registrar_path_join(c->msg, a->path, sizeof(a->path));

	while (!err && c->star && (le = s->bindings.head))
		apply_drop(reg, le->data, a);
	for (i = 0; !err && !c->star && i < c->nct; i++) {
		struct sreg_binding *b;

		if (c->cexp[i]) {
			err = apply_one(reg, s, &c->ct[i], c->cexp[i], a);
			continue;
		}
		b = binding_find(s, &c->ct[i]);
		if (b)
			apply_drop(reg, b, a);
	}
	event_emit(reg, s, a->chg, a->chg_n,
		   s->bindings.n ? SCSCF_REGISTERED : SCSCF_NOT_REGISTERED,
		   NULL);
	for (i = 0; i < a->chg_n; i++)
		mem_deref((void *)a->chg[i].b);
	*gone_n = a->gone_n;
	mem_deref(a);
	return err;
}


/* TS 24.229 5.4.1.2.2: the 200 OK of a registration. */
static int reply_200(struct scscf_reg *reg, struct sreg_tx *tx,
		     struct sreg_set *s, bool registered,
		     const struct sreg_set *hs)
{
	struct sip_hdr_iter it = { 0 };
	uint64_t now = tmr_jiffies();
	struct buf *b = NULL;
	struct le *le;
	struct pl v;
	size_t i;
	int err;

	err = buf_alloc(&b, 1024, REPLY_MAX);
	if (!s || !registered)
		s = NULL;
	/* every current binding with its time left (RFC 3261 10.3 step 8) */
	for (le = s ? s->bindings.head : NULL; le; le = le->next) {
		const struct sreg_binding *bd = le->data;
		uint64_t left = bd->exp_ms > now ? bd->exp_ms - now : 0;

		if (err)
			break;
		err = buf_printf(b, "Contact: <%s>%s;expires=%llu", bd->str,
				 BSTR(bd, params),
				 (unsigned long long)((left + 999) / 1000));
		if (!err && bd->q != 1000)
			err = buf_printf(b, ";q=%u.%03u", bd->q / 1000,
					 bd->q % 1000);
		if (!err)
			err = buf_write_str(b, "\r\n");
	}
	/* RFC 3327 5.3: the Path, echoed */
	while (!err && sip_msg_hdr_value_next(tx->msg, SIP_HDR_PATH, &it, &v))
		err = buf_printf(b, "Path: %.*s\r\n", PL_FMT(&v));
	if (!err && s) {
		/* RFC 3608, TS 24.229 5.4.1.2.2: our URI, marked so that
		 * requests coming back by it are originating */
		err = buf_printf(b, "Service-Route: <%s;lr;orig>\r\n",
				 reg->server_name);
		/* RFC 7315 4.1: the registered IMPU first, then the other
		 * non-barred ones of the implicit set */
		if (!err)
			err = buf_printf(b, "P-Associated-URI: <%s>", tx->impu);
		for (i = 0; !err && i < s->idx_n; i++) {
			const struct sreg_idx *x = &s->idxv[i];

			if (x->barred || !x->listed ||
			    !strcmp(x->impu, tx->impu))
				continue;
			err = buf_printf(b, ", <%s>", x->impu);
		}
		if (!err)
			err = buf_write_str(b, "\r\n");
	}
	if (err) {
		tx_reply(tx, 500, NULL, NULL);
	} else {
		/* hs: the set the change was made to (5.4.1.7) */
		const struct scscf_reply rep = { 0, 200, "OK", hdrs_of(b) };

		tx_reply(tx, 200, "OK", rep.hdrs);
		change_notify(reg, hs,
			      !registered ? SCSCF_RC_USER_DEREG
			      : tx->sat == DIA_SAT_REGISTRATION
				      ? SCSCF_RC_INITIAL
				      : SCSCF_RC_RE,
			      tx->msg, &rep);
	}
	mem_deref(b);
	return err;
}


/* Re-parse the REGISTER kept in tx (the views of the first parse lived in
 * the caller's message). */
static int tx_ctx(struct scscf_reg *reg, struct sreg_tx *tx, struct req_ctx *c)
{
	const char *reason = NULL;
	uint16_t scode = 0;
	struct buf *b = NULL;
	int err;

	memset(c, 0, sizeof(*c));
	c->msg = tx->msg;
	err = buf_alloc(&b, 256, 4096);
	if (!err)
		err = req_parse(reg, c, &scode, &reason, b);
	mem_deref(b);
	if (!err && scode)
		err = EBADMSG; /* it parsed the first time */
	return err;
}


/* The set of a first registration, from the SAA's profile; NULL when
 * refused (answered). */
static struct sreg_set *saa_new_set(struct scscf_reg *reg, struct sreg_tx *tx,
				    const struct cx_saa *saa,
				    const struct cx_origin *from,
				    struct sreg_set *old)
{
	char h[256] = "", r[256] = "";
	struct sreg_set *s = NULL;
	int err;

	if (!pl_isset(&saa->user_data)) {
		LOG_WARN(NULL, "SAA for %s carries no User-Data", tx->impu);
		tx_reply(tx, 500, "Server Internal Error (no profile)", NULL);
		return NULL;
	}
	if (from) {
		plcpy(&from->host, h, sizeof(h));
		plcpy(&from->realm, r, sizeof(r));
	}
	err = set_alloc(reg, &s, reg->next_id++, tx->impi, tx->impu, h, r,
			saa->user_data.p, saa->user_data.l, SCSCF_REGISTERED,
			false);
	if (err) {
		if (err == ENOMEM)
			tx_reply(tx, 500, NULL, NULL);
		else
			tx_reply(tx, 403, "Forbidden (unusable profile)", NULL);
		sar_quiet(reg, tx->impi, tx->impu, DIA_SAT_USER_DEREGISTRATION,
			  h);
		return NULL;
	}
	/* an unregistered-user profile is superseded by the registration */
	if (old && old != s && old->state == SCSCF_UNREGISTERED)
		set_remove(reg, old, SCSCF_EV_REGISTERED);
	return s;
}


/* Bindings, store and the 200 of a registration or re-registration. */
static void saa_register(struct scscf_reg *reg, struct sreg_tx *tx,
			 struct sreg_set *s, struct req_ctx *c)
{
	uint64_t gone[REQ_CONTACTS];
	size_t gone_n = 0;
	struct sreg_idx *x;
	int err;

	/* TS 24.229 5.4.1.2.2: a barred IMPU is not registered */
	x = set_has(s, tx->impu);
	if (!x || x->barred) {
		tx_reply(tx, 403, "Forbidden (public identity barred)", NULL);
		if (!s->bindings.n) {
			sar_quiet(reg, tx->impi, tx->impu,
				  DIA_SAT_USER_DEREGISTRATION, s->hss->host);
			set_remove(reg, s, SCSCF_EV_REJECTED);
		}
		return;
	}
	err = apply(reg, s, c, gone, &gone_n);
	if (err) {
		LOG_WARN(NULL, "bindings of %s: %s", tx->impu,
			 log_strerror(err));
		tx_reply(tx, 500, NULL, NULL);
		return;
	}
	if (!s->bindings.n) {
		/* nothing left (every contact expires 0 on a first
		 * registration): not registered */
		sar_quiet(reg, tx->impi, tx->impu, DIA_SAT_USER_DEREGISTRATION,
			  s->hss->host);
		(void)reply_200(reg, tx, NULL, false, NULL);
		set_remove(reg, s, SCSCF_EV_UNREGISTERED);
		return;
	}
	if (persist(reg, s, false, gone, gone_n)) {
		tx_reply(tx, 500, "Server Internal Error (store)",
			 "Retry-After: 5\r\n");
		return;
	}
	(void)reply_200(reg, tx, s, true, s);
}


/* The SAA of a registration, re-registration or de-registration. */
static void saa_h(int err, const struct cx_saa *saa,
		  const struct cx_origin *from, void *arg)
{
	struct sreg_tx *tx = arg;
	struct scscf_reg *reg = tx->reg;
	struct req_ctx *c = NULL;
	struct sreg_idx *x;
	struct sreg_set *s;
	uint64_t gone[REQ_CONTACTS];
	size_t gone_n = 0;

	if (!reg)
		goto out;
	if (err || !cx_ok(&saa->res)) {
		tx_reply_cx(tx, err, saa ? &saa->res : NULL, "SAR");
		goto out;
	}
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c || tx_ctx(reg, tx, c)) {
		tx_reply(tx, 500, NULL, NULL);
		goto out;
	}
	x = idx_find(reg, tx->impu, tx->impi);
	s = x && x->set->state == SCSCF_REGISTERED ? x->set : NULL;

	if (tx->sat == DIA_SAT_USER_DEREGISTRATION) {
		/* TS 24.229 5.4.1.4: every binding goes; the 200 lists
		 * none */
		if (s)
			(void)apply(reg, s, c, gone, &gone_n);
		(void)reply_200(reg, tx, NULL, false, s);
		if (s)
			set_remove(reg, s, SCSCF_EV_UNREGISTERED);
		goto out;
	}
	if (!s)
		s = saa_new_set(reg, tx, saa, from, x ? x->set : NULL);
	if (s)
		saa_register(reg, tx, s, c);
out:
	mem_deref(c);
	mem_deref(tx);
}


/* Authenticated (or trusted): SAR, then bindings in saa_h. */
static int do_register(struct scscf_reg *reg, struct sreg_tx *tx,
		       struct req_ctx *c, const char *hss)
{
	struct sreg_idx *x = idx_find(reg, c->impu, c->impi);
	struct sreg_set *s =
		x && x->set->state == SCSCF_REGISTERED ? x->set : NULL;
	uint32_t sat;

	if (!cseq_ok(s, c)) {
		tx_reply(tx, 500,
			 "Server Internal Error (CSeq out of order for this "
			 "Call-ID)",
			 NULL);
		return 0;
	}
	if (s && !c->star && s->bindings.n >= reg->conf.max_contacts) {
		size_t i;

		for (i = 0; i < c->nct; i++)
			if (c->cexp[i] && !binding_find(s, &c->ct[i])) {
				tx_reply(tx, 403,
					 "Forbidden (too many contacts)", NULL);
				return 0;
			}
	}
	if (!keeps_any(s, c)) {
		if (!s) {
			/* a query, or a removal, from an unregistered user:
			 * nothing registered, nothing to tell the HSS */
			(void)reply_200(reg, tx, NULL, false, NULL);
			return 0;
		}
		sat = DIA_SAT_USER_DEREGISTRATION;
	} else {
		sat = s ? DIA_SAT_RE_REGISTRATION : DIA_SAT_REGISTRATION;
	}
	if (s && s->hss->host[0])
		hss = s->hss->host;
	tx->kind = TX_SAR;
	return sar_send(reg, tx, sat, s != NULL, hss, saa_h);
}


/* TS 24.229 5.4.1.2.1: integrity-protected set by a trusted P-CSCF on a
 * REGISTER of an IMPU this IMPI has registered: no new challenge. */
static bool integrity_ok(const struct scscf_reg *reg, const struct req_ctx *c)
{
	const struct sip_hdr *h;
	const char *p;
	struct pl v;

	if (!reg->conf.trust_integrity || !c->has_ah)
		return false;
	h = sip_msg_hdr(c->msg, SIP_HDR_AUTHORIZATION);
	if (!h)
		return false;
	p = pl_find_ci(&h->val, "integrity-protected");
	if (!p)
		return false;
	pl_set(&v, p, (size_t)(h->val.p + h->val.l - p));
	if (!pl_find_ci(&v, "\"yes\"") && !pl_find_ci(&v, "\"tls-yes\"") &&
	    !pl_find_ci(&v, "\"ip-assoc-yes\"") && !pl_find_ci(&v, "=yes"))
		return false;
	{
		struct sreg_idx *x = idx_find(reg, c->impu, c->impi);

		return x && x->set->state == SCSCF_REGISTERED;
	}
}


/**
 * Process a REGISTER routed to this S-CSCF.
 *
 * @param reg     the registrar
 * @param req     the decoded REGISTER (copied where needed)
 * @param replyh  receives the answer exactly once (when 0 is returned)
 * @param arg     for replyh
 * @return 0, EINVAL (not a REGISTER, closed), ENOMEM
 */
int scscf_reg_handle(struct scscf_reg *reg, struct sip_msg *req,
		     scscf_reply_h *replyh, void *arg)
{
	struct req_ctx *c = NULL;
	struct sreg_tx *tx = NULL;
	struct sreg_vec *v = NULL;
	struct buf *b = NULL;
	const char *reason = NULL;
	uint16_t scode = 0;
	struct pl met = PL("REGISTER");
	uint8_t resync[AKA_CX_RESYNC_LEN];
	uint8_t auts[AKA_AUTS_LEN];
	char hss[256] = "";
	int err;

	if (!reg || !req || !replyh || reg->closed || !req->req ||
	    req->meth != SIP_METHOD_REGISTER)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return ENOMEM;
	c->msg = req;
	err = buf_alloc(&b, 256, 4096);
	if (!err)
		err = req_parse(reg, c, &scode, &reason, b);
	if (err)
		goto out;
	err = tx_alloc(reg, &tx, TX_MAR, c->impi, c->impu);
	if (err)
		goto out;
	tx->replyh = replyh;
	tx->arg = arg;
	if (scode) {
		tx_reply(tx, scode, reason, hdrs_of(b));
		goto out;
	}
	err = sip_msg_dup(&tx->msg, req);
	if (err)
		goto out;
	c->msg = tx->msg;

	if (integrity_ok(reg, c)) {
		err = do_register(reg, tx, c, NULL);
		goto sent;
	}
	/* RFC 3310 3.4: a resync answer has auts and may have an empty
	 * response */
	if (c->has_ah && pl_isset(&c->ah.nonce) &&
	    (pl_isset(&c->ah.response) || pl_isset(&c->ah.auts)))
		v = vec_find(reg, &c->ah.username, &c->ah.nonce);
	if (!v) {
		/* TS 24.229 5.4.1.2.1: no credentials (an initial REGISTER
		 * carries an empty response), or a nonce we do not hold
		 * (used, expired, another node's): challenge */
		err = mar_send(reg, tx, c->has_ah ? &c->ah : NULL, NULL);
		goto sent;
	}
	switch (verify(&c->ah, v, &met)) {
	case V_OK:
		(void)snprintf(hss, sizeof(hss), "%s", v->hss_host);
		vec_drop(v); /* used once */
		err = do_register(reg, tx, c, hss);
		break;
	case V_STALE:
		reply_401(reg, tx, v, true);
		break;
	case V_RESYNC:
		/* RFC 3310 3.4, TS 33.203 6.1.2: RAND of our challenge and
		 * AUTS to the HSS, then a challenge with its fresh vector */
		if (aka_auts_decode(&c->ah.auts, auts)) {
			tx_reply(tx, 400, "Bad Request (auts)", NULL);
			break;
		}
		aka_cx_resync_encode(resync, v->rand, auts);
		vec_drop(v);
		err = mar_send(reg, tx, &c->ah, resync);
		break;
	case V_BAD:
		tx_reply(tx, 400, "Bad Request (credentials)", NULL);
		break;
	case V_FAIL:
	default:
		/* TS 24.229 5.4.1.2.1: a wrong response is refused; TS
		 * 29.228 6.1.2: AUTHENTICATION_FAILURE frees the S-CSCF
		 * the MAR reserved, when the user is not registered */
		LOG_INFO(NULL, "REGISTER of %s by %s: wrong credentials",
			 c->impu, c->impi);
		(void)snprintf(hss, sizeof(hss), "%s", v->hss_host);
		vec_drop(v);
		tx_reply(tx, 403, "Forbidden (authentication failed)", NULL);
		if (!idx_find(reg, c->impu, c->impi))
			sar_quiet(reg, c->impi, c->impu,
				  DIA_SAT_AUTHENTICATION_FAILURE, hss);
		break;
	}
sent:
	if (err) {
		/* the Cx request could not be sent: answer now */
		LOG_WARN(NULL, "REGISTER of %s: Cx: %s", c->impu,
			 log_strerror(err));
		tx_reply(tx, 500, "Server Internal Error (HSS unreachable)",
			 "Retry-After: 30\r\n");
		err = 0;
		goto out;
	}
	if (tx->replyh) {
		/* a Cx answer is awaited: the call holds tx */
		tx = NULL;
	}
out:
	OPENSSL_cleanse(auts, sizeof(auts));
	mem_deref(tx);
	mem_deref(b);
	mem_deref(c);
	return err;
}

/* ---- the unregistered user's profile ---- */

static void prof_deliver(struct sreg_tx *tx, int err)
{
	struct scscf_impu_info info;
	scscf_profile_h *h = tx->profh;

	tx->profh = NULL;
	if (!h)
		return;
	if (!err && (!tx->reg || scscf_reg_info(tx->reg, tx->impu, &info)))
		err = ENOENT;
	h(err, err ? NULL : &info, tx->arg);
}


static void prof_saa(int err, const struct cx_saa *saa,
		     const struct cx_origin *from, void *arg)
{
	struct sreg_tx *tx = arg;
	struct scscf_reg *reg = tx->reg;
	struct sreg_set *s = NULL;
	char impi[IMPI_MAX] = "", h[256] = "", r[256] = "";

	if (!reg)
		goto out;
	if (!err && !cx_ok(&saa->res)) {
		if (saa->res.vendor == DIA_VENDOR_3GPP &&
		    saa->res.code == DIA_ERROR_USER_UNKNOWN)
			err = ENOENT;
		else if (saa->res.vendor == DIA_VENDOR_3GPP &&
			 saa->res.code == DIA_ERROR_IDENTITY_ALREADY_REGISTERED)
			err = EACCES;
		else
			err = EPROTO;
	}
	if (!err && !pl_isset(&saa->user_data))
		err = EPROTO;
	if (!err && idx_find(reg, tx->impu, NULL)) {
		/* registered meanwhile: that profile wins */
		prof_deliver(tx, 0);
		goto out;
	}
	if (!err) {
		plcpy(&saa->impi, impi, sizeof(impi));
		if (from) {
			plcpy(&from->host, h, sizeof(h));
			plcpy(&from->realm, r, sizeof(r));
		}
		err = set_alloc(reg, &s, reg->next_id++, impi, tx->impu, h, r,
				saa->user_data.p, saa->user_data.l,
				SCSCF_UNREGISTERED, false);
	}
	if (!err)
		(void)persist(reg, s, false, NULL, 0);
	prof_deliver(tx, err);
out:
	mem_deref(tx);
}


/* An answer known at once, still delivered from the loop. */
static void later_h(void *arg)
{
	struct sreg_tx *tx = arg;

	prof_deliver(tx, tx->reg ? 0 : ECANCELED);
	mem_deref(tx); /* the timer's reference */
}


/**
 * Fetch the profile of an IMPU not registered here (TS 29.228 6.1.2
 * UNREGISTERED_USER), for a terminating request.
 *
 * @return 0 (h runs once, later), EINVAL, ENOMEM, EHOSTUNREACH
 */
int scscf_reg_unregistered_profile(struct scscf_reg *reg, const char *impu,
				   scscf_profile_h *h, void *arg)
{
	char canon[IMPU_MAX];
	struct sreg_tx *tx = NULL;
	int err;

	if (!reg || !impu || !h || reg->closed)
		return EINVAL;
	err = impu_canon_str(impu, canon, sizeof(canon));
	if (err)
		return err;
	err = tx_alloc(reg, &tx, TX_PROF, "", canon);
	if (err)
		return err;
	tx->profh = h;
	tx->arg = arg;
	if (idx_find(reg, canon, NULL)) {
		tmr_start(&tx->later, 0, later_h, tx);
		return 0;
	}
	err = sar_send(reg, tx, DIA_SAT_UNREGISTERED_USER, false, NULL,
		       prof_saa);
	if (err) {
		tx->profh = NULL;
		mem_deref(tx);
	}
	return err;
}

/* ---- RTR and PPR ---- */

static bool rtr_names(const struct cx_rtr *rtr, const struct sreg_set *s)
{
	char c[IMPU_MAX];
	size_t i;

	if (!rtr->impu_n)
		return true;
	for (i = 0; i < rtr->impu_n; i++)
		if (!impu_canon(&rtr->impu[i], c, sizeof(c)) && set_has(s, c))
			return true;
	return false;
}


/* TS 29.228 6.1.3, TS 24.229 5.4.1.5: the HSS deregisters; no SAR
 * follows.  PERMANENT_TERMINATION: the UE must not come back
 * ("rejected"); otherwise it should re-register ("deactivated"). */
static int rtr_h(const struct cx_rtr *rtr, struct cx_rta *rta,
		 struct cx_srv_req *sr, void *arg)
{
	struct scscf_reg *reg = arg;
	struct le *le;
	enum scscf_reg_ev ev = rtr->reason == DIA_REASON_PERMANENT_TERMINATION
				       ? SCSCF_EV_REJECTED
				       : SCSCF_EV_DEACTIVATED;
	unsigned n = 0;

	(void)sr;
	(void)rta;
	le = reg->sets.head;
	while (le) {
		struct sreg_set *s = le->data;
		bool match;

		le = le->next;
		match = pl_isset(&rtr->impi) ? pl_eq_str_ci(&rtr->impi, s->impi)
					     : false;
		if (!match) {
			size_t i;

			for (i = 0; i < rtr->assoc_n && !match; i++)
				match = pl_eq_str_ci(&rtr->assoc[i], s->impi);
		}
		if (!match || !rtr_names(rtr, s))
			continue;
		change_notify(reg, s, SCSCF_RC_NET_DEREG, NULL, NULL);
		set_remove(reg, s, ev);
		n++;
	}
	LOG_INFO(NULL, "RTR for %.*s (reason %u): %u set(s) removed",
		 PL_FMT(&rtr->impi), rtr->reason, n);
	return 0;
}


/* Does the profile name an IMPU of s? */
static bool ppr_overlaps(const struct sreg_set *s,
			 const struct cx_subscription *sub)
{
	char c[IMPU_MAX];
	size_t k, j;

	for (k = 0; k < sub->sp_n; k++)
		for (j = 0; j < sub->sp[k].pub_n; j++)
			if (!impu_canon_str(sub->sp[k].pub[j].identity, c,
					    sizeof(c)) &&
			    set_has(s, c))
				return true;
	return false;
}


/* RFC 3680 events for the IMPUs a new profile added or barred. */
static void ppr_events(struct scscf_reg *reg, struct sreg_set *s,
		       const struct sreg_idx *old, size_t old_n)
{
	struct ev_chg chg[REQ_CONTACTS];
	struct le *le;
	size_t i, j, n;

	if (s->state != SCSCF_REGISTERED)
		return;
	for (i = 0; i < s->idx_n; i++) {
		const struct sreg_idx *x = &s->idxv[i];
		bool was = false;

		for (j = 0; j < old_n; j++)
			if (!strcmp(old[j].impu, x->impu) && !old[j].barred)
				was = true;
		if (was == !x->barred)
			continue;
		n = 0;
		LIST_FOREACH (&s->bindings, le) {
			if (n < REQ_CONTACTS)
				chg[n++] = (struct ev_chg){
					le->data, x->barred ? SCSCF_EV_REJECTED
							    : SCSCF_EV_CREATED
				};
		}
		event_emit(reg, s, chg, n,
			   x->barred ? SCSCF_NOT_REGISTERED : SCSCF_REGISTERED,
			   x->impu);
	}
}


/* Replace the profile of one set. */
static int ppr_set(struct scscf_reg *reg, struct sreg_set *s,
		   const struct cx_ppr *ppr)
{
	/* the old list, for the events: a reference keeps its block (the
	 * entries and their IMPU strings) after set_index() replaced it */
	struct sreg_idx *old = mem_ref(s->idxv);
	size_t old_n = s->idx_n;
	int err;

	err = set_profile(reg, s, ppr->user_data.p, ppr->user_data.l, false);
	if (!err) {
		(void)persist(reg, s, false, NULL, 0);
		ppr_events(reg, s, old, old_n);
	}
	mem_deref(old);
	return err;
}


/* TS 29.228 6.2.2: a new profile for the sets of the IMPI it overlaps. */
static int ppr_h(const struct cx_ppr *ppr, struct cx_ppa *ppa,
		 struct cx_srv_req *sr, void *arg)
{
	struct scscf_reg *reg = arg;
	struct cx_subscription *sub = NULL;
	char why[160];
	unsigned n = 0;
	struct le *le;
	int err;

	(void)sr;
	if (!pl_isset(&ppr->user_data)) {
		/* charging information only: nothing kept from it here */
		return 0;
	}
	err = cx_userdata_decode(&sub, ppr->user_data.p, ppr->user_data.l, why,
				 sizeof(why));
	if (err) {
		LOG_WARN(NULL, "PPR for %.*s: %s", PL_FMT(&ppr->impi),
			 err == EBADMSG ? why : log_strerror(err));
		ppa->res.code = DIA_ERROR_NOT_SUPPORTED_USER_DATA;
		ppa->res.vendor = DIA_VENDOR_3GPP;
		return 0;
	}
	LIST_FOREACH (&reg->sets, le) {
		struct sreg_set *s = le->data;

		if (!pl_eq_str_ci(&ppr->impi, s->impi) || !ppr_overlaps(s, sub))
			continue;
		err = ppr_set(reg, s, ppr);
		if (err)
			break;
		n++;
	}
	mem_deref(sub);
	if (err) {
		ppa->res.code = DIA_UNABLE_TO_COMPLY;
		return 0;
	}
	if (!n) {
		/* TS 29.228 6.2.2.1: not a user of ours */
		ppa->res.code = DIA_ERROR_USER_UNKNOWN;
		ppa->res.vendor = DIA_VENDOR_3GPP;
	}
	LOG_INFO(NULL, "PPR for %.*s: %u set(s) updated", PL_FMT(&ppr->impi),
		 n);
	return 0;
}


/* ---- lookups ---- */

/**
 * The contacts of a public identity, q descending.
 *
 * @return 0, ENOENT (none registered), EINVAL
 */
int scscf_reg_lookup(const struct scscf_reg *reg, const char *impu,
		     struct scscf_contact *v, size_t max, size_t *np)
{
	char canon[IMPU_MAX];
	uint64_t now = tmr_jiffies();
	size_t n = 0;
	struct le *le;

	if (!reg || !impu || !np || (max && !v))
		return EINVAL;
	if (impu_canon_str(impu, canon, sizeof(canon)))
		return ENOENT;
	/* every set registering it (several IMPIs may share an IMPU) */
	LIST_FOREACH (hash_list(reg->idx, key_of(canon)), le) {
		const struct sreg_idx *x = le->data;
		struct le *ble;

		if (strcmp(x->impu, canon) != 0 || x->barred ||
		    x->set->state != SCSCF_REGISTERED)
			continue;
		LIST_FOREACH (&x->set->bindings, ble) {
			const struct sreg_binding *b = ble->data;
			struct scscf_contact *c;

			if (b->exp_ms <= now)
				continue; /* time up, timer not yet run */
			if (n < max) {
				c = &v[n];
				memset(c, 0, sizeof(*c));
				c->uri = b->str;
				c->params = BSTR(b, params);
				c->path = BSTR(b, path);
				c->instance = BSTR(b, inst);
				c->reg_id = b->reg_id;
				c->q = b->q;
				c->expires =
					(uint32_t)((b->exp_ms - now + 999) /
						   1000);
				c->call_id = BSTR(b, callid);
				c->cseq = b->cseq;
				c->tp = b->tp;
				src_unpack(&c->src, &b->src);
			}
			n++;
		}
	}
	*np = n;
	return n ? 0 : ENOENT;
}


/**
 * State, registering IMPI and profile of a public identity.
 *
 * @return 0, ENOENT, EINVAL
 */
int scscf_reg_info(const struct scscf_reg *reg, const char *impu,
		   struct scscf_impu_info *info)
{
	char canon[IMPU_MAX];
	const struct sreg_idx *x;

	if (!reg || !impu || !info)
		return EINVAL;
	if (impu_canon_str(impu, canon, sizeof(canon)))
		return ENOENT;
	x = idx_find(reg, canon, NULL);
	if (!x)
		return ENOENT;
	memset(info, 0, sizeof(*info));
	info->state = x->set->state;
	info->impi = x->set->impi;
	info->barred = x->barred;
	info->prof = x->set->prof;
	info->sp_idx = x->sp_idx;
	info->ifc = x->set->ifc;
	info->hss_host = x->set->hss->host;
	return 0;
}


size_t scscf_reg_sets(const struct scscf_reg *reg)
{
	return reg ? list_count(&reg->sets) : 0;
}


size_t scscf_reg_bindings(const struct scscf_reg *reg)
{
	return reg ? reg->nbindings : 0;
}

/* ---- life cycle ---- */

static int load_set(const struct scscf_store_set *r, void *arg)
{
	struct scscf_reg *reg = arg;
	struct sreg_set *s = NULL;
	int err;

	err = set_alloc(reg, &s, r->id, r->impi, r->impu, r->hss_host,
			r->hss_realm, r->user_data, strlen(r->user_data),
			(enum scscf_reg_state)r->state, true);
	if (err == EBADMSG) {
		LOG_WARN(NULL, "stored profile of %s unreadable: dropped",
			 r->impi);
		return 0;
	}
	if (err)
		return err;
	if (r->id >= reg->next_id)
		reg->next_id = r->id + 1;
	/* a registered set whose bindings all went while we were down
	 * ends from the loop (load_timeout), once the caller's handlers
	 * are set */
	if (s->state == SCSCF_REGISTERED)
		tmr_start(&reg->load_tmr, 0, load_timeout, reg);
	return 0;
}


static int set_id_cmp(const void *a, const void *b)
{
	const struct sreg_set *x = *(struct sreg_set *const *)a;
	const struct sreg_set *y = *(struct sreg_set *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}


/* The loaded set of a stored binding: the sets sorted by id once (the
 * first binding), then a binary search per binding, so a restart with
 * 100,000 sets is not a scan of every set per binding. */
static struct sreg_set *load_set_find(struct scscf_reg *reg, uint64_t id)
{
	struct sreg_set key, *kp = &key, **hit;
	struct le *le;
	size_t n = 0;

	if (!reg->load_v && reg->sets.n) {
		reg->load_v =
			mem_alloc(reg->sets.n * sizeof(*reg->load_v), NULL);
		if (!reg->load_v) {
			/* out of memory: a scan still finds it */
			LIST_FOREACH (&reg->sets, le) {
				struct sreg_set *x = le->data;

				if (x->id == id)
					return x;
			}
			return NULL;
		}
		LIST_FOREACH (&reg->sets, le)
			reg->load_v[n++] = le->data;
		reg->load_n = n;
		qsort(reg->load_v, n, sizeof(*reg->load_v), set_id_cmp);
	}
	if (!reg->load_n)
		return NULL;
	key.id = id;
	hit = bsearch(&kp, reg->load_v, reg->load_n, sizeof(*reg->load_v),
		      set_id_cmp);
	return hit ? *hit : NULL;
}


static int load_binding(const struct scscf_store_binding *r, void *arg)
{
	struct scscf_reg *reg = arg;
	struct sreg_set *s = load_set_find(reg, r->set_id);
	struct sreg_binding *b = NULL;
	int64_t left = r->expires_at - wall_ms();
	struct binding_strs v;
	struct sa sa;
	int err;

	if (!s)
		return 0;
	v.uri = pl_of(r->uri);
	v.params = pl_of(r->params);
	v.callid = pl_of(r->callid);
	v.path = pl_of(r->path);
	v.inst = pl_of(r->instance);
	v.ua = pl_of(r->user_agent);
	err = binding_alloc(&b, &v);
	if (err == EBADMSG || err == ENOSPC)
		return 0;
	if (err)
		return err;
	b->id = r->id;
	b->set = s;
	b->cseq = r->cseq;
	b->q = r->q;
	b->reg_id = r->reg_id;
	b->tp = (uint8_t)r->tp;
	if (r->src[0] && !sa_decode(&sa, r->src))
		src_pack(&b->src, &sa);
	b->exp_ms = tmr_jiffies() + (left > 0 ? (uint64_t)left : 0);
	if (r->id >= reg->next_id)
		reg->next_id = r->id + 1;
	binding_link(s, b);
	reg->nbindings++;
	/* expired while we were down: the timer runs at once */
	binding_start(b);
	return 0;
}


static void destructor(void *arg)
{
	struct scscf_reg *reg = arg;

	scscf_reg_close(reg);
	mem_deref(reg->rtr);
	mem_deref(reg->ppr);
	mem_deref(reg->server_name);
	mem_deref(reg->realm);
	mem_deref(reg->conf.store);
	mem_deref(reg->au);
	mem_deref(reg->idx);
	mem_deref(reg->ifcs);
	mem_deref(reg->load_v);
	/* every set went in scscf_reg_close(); a record still held would
	 * not reach back into us */
	while (reg->hsss.head)
		list_unlink(reg->hsss.head);
}


/**
 * Create the S-CSCF registrar on a Diameter node (not started yet: RTR
 * and PPR are served on it), loading the stored registrations.
 *
 * @param regp  receives the registrar
 * @param node  the Cx client node (weak: must outlive the registrar's use)
 * @param conf  configuration (copied; conf->store is referenced)
 * @return 0, EINVAL, ENOMEM, EEXIST (RTR/PPR served already), a store
 *         error
 */
int scscf_reg_alloc(struct scscf_reg **regp, struct dia_node *node,
		    const struct scscf_reg_conf *conf)
{
	struct scscf_reg *reg;
	int err;

	if (!regp || !node || !conf || !conf->server_name ||
	    strncasecmp(conf->server_name, "sip", 3) != 0)
		return EINVAL;
	reg = mem_zalloc(sizeof(*reg), destructor);
	if (!reg)
		return ENOMEM;
	reg->conf = *conf;
	reg->conf.store = mem_ref(conf->store);
	reg->node = node;
	reg->next_id = 1;
	if (!reg->conf.min_expires)
		reg->conf.min_expires = 60;
	if (!reg->conf.max_expires)
		reg->conf.max_expires = 600000;
	if (!reg->conf.default_expires)
		reg->conf.default_expires = 600000;
	if (reg->conf.default_expires > reg->conf.max_expires)
		reg->conf.default_expires = reg->conf.max_expires;
	if (!reg->conf.max_contacts)
		reg->conf.max_contacts = 16;
	if (reg->conf.max_contacts > REQ_CONTACTS)
		reg->conf.max_contacts = REQ_CONTACTS;
	if (!reg->conf.auth_timeout_s)
		reg->conf.auth_timeout_s = 60;
	if (!reg->conf.vectors_max)
		reg->conf.vectors_max = 4;
	err = dupstr(&reg->server_name, conf->server_name);
	if (!err && conf->realm)
		err = dupstr(&reg->realm, conf->realm);
	tmr_init(&reg->load_tmr);
	if (!err)
		err = hash_alloc(&reg->idx, 1024);
	if (!err) {
		/* two or three IMPUs a user: grows with the users */
		hash_grow_with(reg->idx, idx_key, 1u << 20);
		err = hash_alloc(&reg->au, 256);
	}
	if (!err)
		err = ifc_pool_alloc(&reg->ifcs);
	reg->conf.server_name = reg->server_name;
	reg->conf.realm = reg->realm;
	if (!err && reg->conf.store)
		err = scscf_store_load(reg->conf.store, load_set, load_binding,
				       reg);
	reg->load_v = mem_deref(reg->load_v);
	reg->load_n = 0;
	if (!err)
		err = cx_client_serve_rtr(&reg->rtr, node, rtr_h, reg);
	if (!err)
		err = cx_client_serve_ppr(&reg->ppr, node, ppr_h, reg);
	if (err) {
		mem_deref(reg);
		return err;
	}
	*regp = reg;
	return 0;
}


void scscf_reg_set_eventh(struct scscf_reg *reg, scscf_reg_event_h *h,
			  void *arg)
{
	if (!reg)
		return;
	reg->evh = h;
	reg->evarg = arg;
}


void scscf_reg_set_changeh(struct scscf_reg *reg, scscf_reg_change_h *h,
			   void *arg)
{
	if (!reg)
		return;
	reg->chh = h;
	reg->charg = arg;
}


/**
 * Network-initiated de-registration (TS 24.229 5.4.1.5) of the implicit
 * set of a registered IMPU: the HSS is told (SAR ADMINISTRATIVE_
 * DEREGISTRATION, TS 29.228 6.1.2), the contacts end "deactivated" (the
 * UE may register again, RFC 3680 5.1), the change is reported.
 *
 * @param reg   the registrar
 * @param impu  a public identity of the set
 * @return 0, EINVAL, ENOENT (not registered here)
 */
int scscf_reg_deregister(struct scscf_reg *reg, const char *impu)
{
	char canon[IMPU_MAX];
	struct sreg_idx *x;
	struct sreg_set *s;

	if (!reg || !impu || reg->closed)
		return EINVAL;
	if (impu_canon_str(impu, canon, sizeof(canon)))
		return ENOENT;
	x = idx_find(reg, canon, NULL);
	if (!x || x->set->state != SCSCF_REGISTERED)
		return ENOENT;
	s = x->set;
	LOG_INFO(NULL, "network-initiated de-registration of %s (%s)", s->impu,
		 s->impi);
	sar_quiet(reg, s->impi, s->impu, DIA_SAT_ADMINISTRATIVE_DEREGISTRATION,
		  s->hss->host);
	change_notify(reg, s, SCSCF_RC_NET_DEREG, NULL, NULL);
	set_remove(reg, s, SCSCF_EV_DEACTIVATED);
	return 0;
}


/**
 * Stop: waiting REGISTERs get ECANCELED, timers stop, answers that come
 * later are dropped.  Idempotent.
 */
void scscf_reg_close(struct scscf_reg *reg)
{
	struct le *le;

	if (!reg || reg->closed)
		return;
	reg->closed = true;
	reg->evh = NULL;
	reg->chh = NULL;
	tmr_cancel(&reg->load_tmr);
	while ((le = reg->txs.head)) {
		struct sreg_tx *tx = le->data;
		scscf_reply_h *h = tx->replyh;
		scscf_profile_h *ph = tx->profh;
		bool later = tmr_isrunning(&tx->later);

		list_unlink(le);
		tx->reg = NULL;
		tx->replyh = NULL;
		tx->profh = NULL;
		tmr_cancel(&tx->later);
		if (h) {
			struct scscf_reply r = { .err = ECANCELED,
						 .scode = 500,
						 .reason = "Server Internal "
							   "Error",
						 .hdrs = "" };

			h(&r, tx->arg);
		}
		if (ph)
			ph(ECANCELED, NULL, tx->arg);
		if (later)
			mem_deref(tx); /* the timer's reference */
	}
	while ((le = reg->sets.head)) {
		struct sreg_set *s = le->data;

		list_unlink(le);
		idx_unlink(reg, s);
		s->reg = NULL;
		mem_deref(s);
	}
	reg->nbindings = 0;
	if (reg->au)
		hash_flush(reg->au);
}
