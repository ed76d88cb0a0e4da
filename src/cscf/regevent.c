/**
 * @file regevent.c  The S-CSCF's reg event notifier (RFC 3680, RFC 6665,
 *                   TS 24.229 5.4.2.1).
 *
 * State, all on the loop's thread.  The S-CSCF keeps it for every
 * registered user, so each record is one heap block and what many users
 * have in common is kept once (docs/internals/regevent.md: the bytes):
 *
 *  - one `aor` record per IMPU the registrar reported (re->aors, keyed by
 *    the canonical IMPU): its registration's active contacts packed
 *    (reginfo_reg_pack: the expires as reported, with the time of the
 *    report, so later documents carry the seconds left), the canonical
 *    IMPUs of its implicit set when the set has more than one (a block
 *    shared by the set's records), and a counted reference to the
 *    interned `hosts` list: the P-CSCFs in the Path of its contacts and
 *    its application servers.  A NOTIFY for a subscription to IMPU X
 *    carries one <registration> per IMPU of X's set (TS 24.229
 *    5.4.2.1.2); the set and the hosts say who may subscribe.
 *  - one `sub` per subscription: the dialog (RFC 3261 12.1.1 UAS side):
 *    its own strings (IMPU, Call-ID, both tags, our URI, Event id) in the
 *    block, and a counted reference to the interned `peer`, the
 *    subscriber's side that is the same for all the subscriptions of one
 *    P-CSCF (its identity, URI, remote target, route set); both CSeqs,
 *    the next reginfo version, the deadline.  Subscriptions are in three
 *    tables: by subscribed IMPU (holding the notifier's one reference),
 *    by Call-ID (for in-dialog requests) and by id (for NOTIFY results),
 *    and in a heap by deadline under one timer.  A subscription outlives
 *    the aor record it watches: a restart restores subscriptions from the
 *    store before the registrar reports its registrations again.
 *
 * Versions (RFC 3680 5.2): every document sent in a subscription carries
 * the next version of that subscription, starting at 0, so a partial
 * notification built once for a change is encoded per subscription with
 * its own version.
 *
 * Callbacks into the caller (reply, notify) may re-enter the notifier
 * (a transport that fails at once reports 408 through
 * regevent_notify_result()): subscriptions are taken with mem_ref and
 * marked `gone` when removed, and loops work on a snapshot array.
 */
#include "cscf/regevent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "sip/addr.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/uri.h"

#define LOG_MODULE "regevent"

#define IMPU_MAX    256 /* canonical IMPU, NUL included */
#define HOSTP_MAX   280 /* "host:port" */
#define NOTIFY_MAXF "70"

/*
 * The per-user records are in tables of their own kind: chains through a
 * pointer in the record (8 bytes a table, where a `struct le` takes 32),
 * buckets of one pointer, doubled past two entries a bucket (4 to 8 bytes
 * of buckets an entry, chains of one or two).  A chain keeps the order of
 * insertion: subscriptions to an IMPU are notified in the order they were
 * made.
 */
typedef uint32_t(stab_key_h)(const void *e);

struct stab {
	void **b;
	uint32_t mask;
	size_t n;
	size_t link; /* offset of the chain pointer in an entry */
	stab_key_h *keyh;
};

#define STAB_LINK(t, e) ((void **)(void *)((char *)(e) + (t)->link))
#define STAB_MIN        64u
#define STAB_MAX        (1u << 20)

/* Who may subscribe besides the users (TS 24.229 5.4.2.1.1): the
 * "host:port" of the P-CSCFs in the Path of a set's contacts and of its
 * application servers.  The same for every user behind one P-CSCF, so
 * interned: one block per distinct list, shared by counted references. */
struct hosts {
	struct le he;     /* re->hosts: not counted */
	struct hash *tab; /* weak: where it is interned */
	uint32_t key;
	uint16_t pcscf_n;
	uint16_t as_n;
	size_t len; /* of s */
	char s[];   /* the pcscf strings then the as ones, NUL-ended */
};

/* The canonical IMPUs of an implicit registration set reported with more
 * than one IMPU, shared by the set's aor records.  A set of one IMPU has
 * none: the IMPU is the aor's key. */
struct impus {
	size_t n;
	char s[]; /* NUL-ended strings */
};

/* One IMPU's registration, in one block: the record, its canonical IMPU
 * (the key), the AOR as reported when it differs, and the registration's
 * active contacts packed (reginfo_reg_pack, NOKEY).  A report replaces
 * the block. */
struct aor {
	struct aor *nx;      /* re->aors chain */
	uint64_t updated_ms; /* tmr_jiffies() when reported */
	struct hosts *hosts; /* counted, interned; NULL: none */
	struct impus *set;   /* counted; NULL: this IMPU alone */
	uint16_t aor_off;    /* in s: the AOR as reported */
	uint16_t pk_off;     /* in s: the packed registration */
	uint32_t pk_len;
	uint8_t state; /* enum reginfo_reg_state */
	char s[];      /* impu (offset 0), ... */
};

/* The subscriber's side of a dialog, the same for every subscription of
 * one P-CSCF: its identity, URI, remote target and route set.  Interned
 * like hosts. */
struct peer {
	struct le he;     /* re->peers: not counted */
	struct hash *tab; /* weak */
	uint32_t key;
	uint16_t route_n;
	size_t len; /* of s */
	char s[];   /* subscriber, ruri, target, route_n routes; NUL-ended */
};

/* One subscription in one block: the record and its own dialog strings
 * (an offset each; equal strings share one copy). */
struct sub {
	struct sub *nx_impu; /* re->subs_impu: the notifier's reference */
	struct sub *nx_cid;  /* re->subs_cid: not counted */
	struct sub *nx_id;   /* re->subs_id: not counted */
	struct regevent *re; /* weak */
	struct peer *peer;   /* counted */
	uint64_t id;
	uint64_t deadline; /* tmr_jiffies() at expiry */
	uint32_t exp_idx;  /* in re->exp + 1, 0: not there */
	uint32_t lcseq;
	uint32_t rcseq;
	uint32_t version; /* of the next document */
	uint16_t o_callid, o_ltag, o_rtag, o_luri, o_evid; /* impu at 0 */
	bool gone;
	char s[];
};

#define SUB_IMPU(s)   ((s)->s)
#define SUB_STR(s, f) ((s)->s + (s)->f)

struct regevent {
	struct regevent_conf conf;
	char *contact;
	struct stab aors;
	struct stab subs_impu;
	struct stab subs_cid;
	struct stab subs_id;
	struct sub **exp; /* binary heap by deadline */
	size_t exp_n;
	size_t exp_size;
	struct tmr exp_tmr; /* at the earliest deadline */
	struct hash *hosts;
	struct hash *peers;
	size_t nsubs;
	uint64_t next_id;
	bool closed;
};

/* ---- small helpers ---------------------------------------------------- */

/* The i-th of the NUL-ended strings in s. */
static const char *nth(const char *s, size_t i)
{
	while (i--)
		s += strlen(s) + 1;
	return s;
}


static bool strs_has(const char *s, size_t n, const char *x)
{
	for (size_t i = 0; i < n; i++, s += strlen(s) + 1)
		if (strcmp(s, x) == 0)
			return true;
	return false;
}


/* Strings being packed into one block: an array of pointers and lengths
 * (NUL-ended text, pl, duplicates removed) while they are collected. */
#define PACK_MAX 32

struct strpack {
	const char *p[PACK_MAX];
	size_t l[PACK_MAX];
	size_t n;
	size_t len; /* bytes with the NULs */
	bool full;
};


/* Add s[0..l) unless in the list with `dedup`; its index, or -1 when
 * the list is full. */
static int sp_add(struct strpack *sp, const char *s, size_t l, bool dedup)
{
	if (!s) {
		s = "";
		l = 0;
	}
	for (size_t i = 0; dedup && i < sp->n; i++)
		if (sp->l[i] == l && !memcmp(sp->p[i], s, l))
			return (int)i;
	if (sp->n >= PACK_MAX) {
		sp->full = true;
		return -1;
	}
	sp->p[sp->n] = s;
	sp->l[sp->n] = l;
	sp->len += l + 1;
	return (int)sp->n++;
}


/* Write the strings to dst; offs[i] is string i's offset from dst. */
static void sp_write(const struct strpack *sp, char *dst, uint16_t *offs)
{
	size_t off = 0;

	for (size_t i = 0; i < sp->n; i++) {
		memcpy(dst + off, sp->p[i], sp->l[i]);
		dst[off + sp->l[i]] = '\0';
		if (offs)
			offs[i] = (uint16_t)off;
		off += sp->l[i] + 1;
	}
}


static int64_t wall_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Stable ids: a registration's from its IMPU (the same across restarts),
 * a contact's from its URI when the registrar gave none. */
static void hash_id(char *out, size_t size, char pfx, const char *s)
{
	(void)snprintf(out, size, "%c%08x", pfx, hash_fast(s, strlen(s)));
}


static char lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}


/* "host:port" of a SIP URI, host lowercased; ENOENT for other schemes. */
static int hostport(const struct sip_uri *u, char *out, size_t size)
{
	size_t n;

	if (u->sch != SIP_SCHEME_SIP && u->sch != SIP_SCHEME_SIPS)
		return ENOENT;
	if (u->host.l + 8 > size)
		return ENOSPC;
	for (n = 0; n < u->host.l; n++)
		out[n] = lower(u->host.p[n]);
	(void)snprintf(out + n, size - n, ":%u", sip_uri_port(u));
	return 0;
}


/**
 * The canonical form of an IMPU, the key of registrations and
 * subscriptions.
 *
 * @param uri   the URI text (a bare URI, no name-addr)
 * @param len   its length
 * @param out   where the canonical form is written, NUL-terminated
 * @param size  size of out
 * @return 0, EBADMSG (not a URI), EPROTO (neither sip, sips nor tel),
 *         ENOSPC
 */
int regevent_impu_canon(const char *uri, size_t len, char *out, size_t size)
{
	struct sip_uri u;
	struct pl pl;
	size_t n = 0;
	int err;

	if (!uri || !out || !size)
		return EINVAL;
	pl_set(&pl, uri, len);
	if (sip_uri_decode(&u, &pl))
		return EBADMSG;
	if (u.sch == SIP_SCHEME_SIP || u.sch == SIP_SCHEME_SIPS) {
		err = registrar_aor(&u, out, size - 1, &n);
		if (err)
			return err;
		out[n] = '\0';
		return 0;
	}
	if (u.sch != SIP_SCHEME_TEL)
		return EPROTO;
	/* RFC 3966 4: visual separators do not count; parameters dropped
	 * (an IMPU is a global number) */
	if (size < 5)
		return ENOSPC;
	memcpy(out, "tel:", 4);
	n = 4;
	for (size_t i = 0; i < u.user.l; i++) {
		char c = u.user.p[i];

		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (n + 1 >= size)
			return ENOSPC;
		out[n++] = lower(c);
	}
	out[n] = '\0';
	return 0;
}


static int canon_str(const char *s, char *out, size_t size)
{
	return regevent_impu_canon(s, strlen(s), out, size);
}


/* ---- tables and expiry ------------------------------------------------ */


static int stab_init(struct stab *t, size_t link, stab_key_h *keyh)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
	t->b = mem_zalloc(STAB_MIN * sizeof(*t->b), NULL);
	if (!t->b)
		return ENOMEM;
	t->mask = STAB_MIN - 1;
	t->n = 0;
	t->link = link;
	t->keyh = keyh;
	return 0;
}


/* The first entry of key's bucket (then *STAB_LINK(t, e)). */
static void *stab_first(const struct stab *t, uint32_t key)
{
	return t->b[key & t->mask];
}


static void stab_chain_add(struct stab *t, void **b, uint32_t mask, void *e)
{
	void **pp = &b[t->keyh(e) & mask];

	while (*pp)
		pp = STAB_LINK(t, *pp);
	*pp = e;
	*STAB_LINK(t, e) = NULL;
}


/* Double the buckets; out of memory, the chains just get longer. */
static void stab_grow(struct stab *t)
{
	uint32_t nmask = t->mask * 2 + 1;
	void **nb;

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
	nb = mem_zalloc(((size_t)nmask + 1) * sizeof(*nb), NULL);
	if (!nb)
		return;
	for (uint32_t i = 0; i <= t->mask; i++) {
		void *e = t->b[i];

		while (e) {
			void *next = *STAB_LINK(t, e);

			stab_chain_add(t, nb, nmask, e);
			e = next;
		}
	}
	mem_deref(t->b);
	t->b = nb;
	t->mask = nmask;
}


static void stab_add(struct stab *t, void *e)
{
	stab_chain_add(t, t->b, t->mask, e);
	t->n++;
	if (t->n > 2 * ((size_t)t->mask + 1) && t->mask < STAB_MAX - 1)
		stab_grow(t);
}


/* Unlink e (no-op when it is not there). */
static void stab_del(struct stab *t, void *e)
{
	void **pp = &t->b[t->keyh(e) & t->mask];

	while (*pp && *pp != e)
		pp = STAB_LINK(t, *pp);
	if (!*pp)
		return;
	*pp = *STAB_LINK(t, e);
	*STAB_LINK(t, e) = NULL;
	t->n--;
}


/*
 * Subscriptions expire through a binary heap by deadline and one loop
 * timer at the earliest: 4 bytes in the record and a heap slot, where a
 * timer of its own costs 56 bytes a subscription.
 */
static void sub_expired(struct sub *s);


static bool exp_before(const struct sub *a, const struct sub *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->id < b->id);
}


static void exp_set(struct regevent *re, size_t i, struct sub *s)
{
	re->exp[i] = s;
	s->exp_idx = (uint32_t)i + 1;
}


static void exp_up(struct regevent *re, size_t i)
{
	struct sub *s = re->exp[i];

	while (i) {
		size_t p = (i - 1) / 2;

		if (!exp_before(s, re->exp[p]))
			break;
		exp_set(re, i, re->exp[p]);
		i = p;
	}
	exp_set(re, i, s);
}


static void exp_down(struct regevent *re, size_t i)
{
	struct sub *s = re->exp[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= re->exp_n)
			break;
		if (c + 1 < re->exp_n && exp_before(re->exp[c + 1], re->exp[c]))
			c++;
		if (!exp_before(re->exp[c], s))
			break;
		exp_set(re, i, re->exp[c]);
		i = c;
	}
	exp_set(re, i, s);
}


static void exp_fire(void *arg);


/* The timer at the earliest deadline; none when no subscription waits. */
static void exp_arm(struct regevent *re)
{
	uint64_t now;

	if (!re->exp_n || re->closed) {
		tmr_cancel(&re->exp_tmr);
		return;
	}
	now = tmr_jiffies();
	tmr_start(&re->exp_tmr,
		  re->exp[0]->deadline > now ? re->exp[0]->deadline - now : 0,
		  exp_fire, re);
}


static void exp_del(struct regevent *re, struct sub *s)
{
	struct sub *last;
	size_t i;

	if (!s->exp_idx)
		return;
	i = s->exp_idx - 1;
	s->exp_idx = 0;
	last = re->exp[--re->exp_n];
	if (i < re->exp_n) {
		exp_set(re, i, last);
		exp_up(re, i);
		exp_down(re, last->exp_idx - 1);
	}
	if (i == 0)
		exp_arm(re);
}


/* Into the heap, or to its new place after a new deadline. */
static int exp_put(struct regevent *re, struct sub *s)
{
	if (!s->exp_idx) {
		if (re->exp_n == re->exp_size) {
			size_t nsz = re->exp_size ? re->exp_size * 2 : 64;
			struct sub **nv;

			if (nsz > UINT32_MAX)
				return EOVERFLOW;
			/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
			nv = mem_realloc(re->exp, nsz * sizeof(*nv));
			if (!nv)
				return ENOMEM;
			re->exp = nv;
			re->exp_size = nsz;
		}
		exp_set(re, re->exp_n++, s);
	}
	exp_up(re, s->exp_idx - 1);
	exp_down(re, s->exp_idx - 1);
	exp_arm(re);
	return 0;
}


static void exp_fire(void *arg)
{
	struct regevent *re = arg;
	uint64_t now = tmr_jiffies();

	/* each round takes the head afresh: a NOTIFY's callback may end
	 * other subscriptions */
	while (re->exp_n && re->exp[0]->deadline <= now && !re->closed) {
		struct sub *s = re->exp[0];

		exp_del(re, s);
		sub_expired(s);
	}
	exp_arm(re);
}


/* ---- records ---------------------------------------------------------- */

static void interned_unlink(struct hash *tab, struct le *he)
{
	if (tab)
		hash_unlink(tab, he);
}


static void hosts_destructor(void *data)
{
	struct hosts *h = data;

	interned_unlink(h->tab, &h->he);
}


/* The interned block with this list (pcscf_n + as_n strings in s), with
 * a reference; NULL when out of memory. */
static struct hosts *hosts_get(struct regevent *re, const char *s, size_t len,
			       uint16_t pcscf_n, uint16_t as_n)
{
	uint32_t key = hash_fast(s, len) ^ ((uint32_t)pcscf_n << 16);
	struct hosts *h;
	struct le *le;

	LIST_FOREACH (hash_list(re->hosts, key), le) {
		h = le->data;
		if (h->key == key && h->pcscf_n == pcscf_n && h->as_n == as_n &&
		    h->len == len && !memcmp(h->s, s, len))
			return mem_ref(h);
	}
	h = mem_alloc(sizeof(*h) + len, hosts_destructor);
	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->key = key;
	h->pcscf_n = pcscf_n;
	h->as_n = as_n;
	h->len = len;
	memcpy(h->s, s, len);
	h->tab = re->hosts;
	hash_append(re->hosts, key, &h->he, h);
	return h;
}


static void peer_destructor(void *data)
{
	struct peer *p = data;

	interned_unlink(p->tab, &p->he);
}


/* The interned peer with these strings (subscriber, ruri, target, then
 * route_n routes), with a reference; NULL when out of memory. */
static struct peer *peer_get(struct regevent *re, const struct strpack *sp,
			     uint16_t route_n)
{
	char *buf = mem_alloc(sp->len ? sp->len : 1, NULL);
	struct peer *p = NULL;
	struct le *le;
	uint32_t key;

	if (!buf)
		return NULL;
	sp_write(sp, buf, NULL);
	key = hash_fast(buf, sp->len);
	LIST_FOREACH (hash_list(re->peers, key), le) {
		struct peer *q = le->data;

		if (q->key == key && q->route_n == route_n &&
		    q->len == sp->len && !memcmp(q->s, buf, sp->len)) {
			p = mem_ref(q);
			goto out;
		}
	}
	p = mem_alloc(sizeof(*p) + sp->len, peer_destructor);
	if (!p)
		goto out;
	memset(p, 0, sizeof(*p));
	p->key = key;
	p->route_n = route_n;
	p->len = sp->len;
	memcpy(p->s, buf, sp->len);
	p->tab = re->peers;
	hash_append(re->peers, key, &p->he, p);
out:
	mem_deref(buf);
	return p;
}


#define PEER_SUBSCRIBER(p) ((p)->s)
#define PEER_RURI(p)       nth((p)->s, 1)
#define PEER_TARGET(p)     nth((p)->s, 2)
#define PEER_ROUTE(p, i)   nth((p)->s, 3 + (i))


static void aor_destructor(void *data)
{
	struct aor *a = data;

	mem_deref(a->hosts);
	mem_deref(a->set);
}


static uint32_t aor_key(const void *data)
{
	const struct aor *a = data;

	return hash_fast(a->s, strlen(a->s));
}


static struct aor *aor_find(const struct regevent *re, const char *impu)
{
	struct aor *a = stab_first(&re->aors, hash_fast(impu, strlen(impu)));

	for (; a; a = a->nx)
		if (strcmp(a->s, impu) == 0)
			return a;
	return NULL;
}


static void aor_remove(struct regevent *re, struct aor *a)
{
	stab_del(&re->aors, a);
	mem_deref(a);
}


/* May s subscribe to a's registration (canonical IMPU, or host:port)? */
static bool aor_impu_in_set(const struct aor *a, const char *canon)
{
	if (a->set)
		return strs_has(a->set->s, a->set->n, canon);
	return strcmp(a->s, canon) == 0;
}


static bool aor_host_allowed(const struct aor *a, const char *hp)
{
	return a->hosts &&
	       strs_has(a->hosts->s, (size_t)a->hosts->pcscf_n + a->hosts->as_n,
			hp);
}


static void sub_destructor(void *data)
{
	struct sub *s = data;

	mem_deref(s->peer);
}


static uint32_t sub_key_impu(const void *data)
{
	const struct sub *s = data;

	return hash_fast(SUB_IMPU(s), strlen(SUB_IMPU(s)));
}


static uint32_t sub_key_cid(const void *data)
{
	const struct sub *s = data;
	const char *cid = SUB_STR(s, o_callid);

	return hash_fast(cid, strlen(cid));
}


static uint32_t id_key(uint64_t id)
{
	return (uint32_t)(id ^ (id >> 32));
}


static uint32_t sub_key_id(const void *data)
{
	const struct sub *s = data;

	return id_key(s->id);
}


static struct sub *sub_find_dlg(const struct regevent *re,
				const struct pl *callid, const struct pl *ltag,
				const struct pl *rtag)
{
	struct sub *s = stab_first(&re->subs_cid, hash_pl(callid));

	for (; s; s = s->nx_cid) {
		if (pl_eq_str(callid, SUB_STR(s, o_callid)) &&
		    pl_eq_str(ltag, SUB_STR(s, o_ltag)) &&
		    pl_eq_str(rtag, SUB_STR(s, o_rtag)))
			return s;
	}
	return NULL;
}


static struct sub *sub_find_id(const struct regevent *re, uint64_t id)
{
	struct sub *s = stab_first(&re->subs_id, id_key(id));

	for (; s; s = s->nx_id)
		if (s->id == id)
			return s;
	return NULL;
}


/* The dialog's own strings, in one block with the record. */
struct sub_strs {
	struct pl impu, callid, ltag, rtag, luri, evid;
};


/* A new subscription record (not inserted), the peer interned from its
 * strings; NULL when out of memory or with strings too long to pack. */
static struct sub *sub_new(struct regevent *re, const struct sub_strs *ss,
			   const char *subscriber, const struct pl *ruri,
			   const struct pl *target, const struct pl *route,
			   size_t route_n)
{
	struct strpack sp = { 0 }, pp = { 0 };
	int idx[6];
	uint16_t offs[PACK_MAX];
	struct sub *s;

	idx[0] = sp_add(&sp, ss->impu.p, ss->impu.l, false);
	idx[1] = sp_add(&sp, ss->callid.p, ss->callid.l, true);
	idx[2] = sp_add(&sp, ss->ltag.p, ss->ltag.l, true);
	idx[3] = sp_add(&sp, ss->rtag.p, ss->rtag.l, true);
	idx[4] = sp_add(&sp, ss->luri.p, ss->luri.l, true);
	idx[5] = sp_add(&sp, ss->evid.p, ss->evid.l, true);
	(void)sp_add(&pp, subscriber, strlen(subscriber), false);
	(void)sp_add(&pp, ruri->p, ruri->l, false);
	(void)sp_add(&pp, target->p, target->l, false);
	for (size_t i = 0; i < route_n; i++)
		(void)sp_add(&pp, route[i].p, route[i].l, false);
	if (sp.full || pp.full || sp.len > UINT16_MAX)
		return NULL;
	s = mem_alloc(sizeof(*s) + sp.len, sub_destructor);
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->re = re;
	sp_write(&sp, s->s, offs);
	s->o_callid = offs[idx[1]];
	s->o_ltag = offs[idx[2]];
	s->o_rtag = offs[idx[3]];
	s->o_luri = offs[idx[4]];
	s->o_evid = offs[idx[5]];
	s->peer = peer_get(re, &pp, (uint16_t)route_n);
	if (!s->peer)
		return mem_deref(s);
	return s;
}


/* A new remote target (a refresh, RFC 6665 4.1.2.2): the peer with it. */
static int sub_retarget(struct regevent *re, struct sub *s,
			const struct pl *target)
{
	const struct peer *op = s->peer;
	struct strpack pp = { 0 };
	struct peer *np;

	if (pl_eq_str(target, PEER_TARGET(op)))
		return 0;
	(void)sp_add(&pp, PEER_SUBSCRIBER(op), strlen(PEER_SUBSCRIBER(op)),
		     false);
	(void)sp_add(&pp, PEER_RURI(op), strlen(PEER_RURI(op)), false);
	(void)sp_add(&pp, target->p, target->l, false);
	for (size_t i = 0; i < op->route_n; i++) {
		const char *r = PEER_ROUTE(op, i);

		(void)sp_add(&pp, r, strlen(r), false);
	}
	np = pp.full ? NULL : peer_get(re, &pp, op->route_n);
	if (!np)
		return ENOMEM;
	mem_deref(s->peer);
	s->peer = np;
	return 0;
}


static void sub_row(const struct sub *s, struct regevent_row *row, char *route,
		    size_t routesz)
{
	size_t off = 0;

	route[0] = '\0';
	for (size_t i = 0; i < s->peer->route_n; i++) {
		int n = snprintf(route + off, routesz - off, "%s%s",
				 i ? ", " : "", PEER_ROUTE(s->peer, i));

		if (n < 0 || (size_t)n >= routesz - off)
			break;
		off += (size_t)n;
	}
	memset(row, 0, sizeof(*row));
	row->id = s->id;
	row->impu = SUB_IMPU(s);
	row->subscriber = PEER_SUBSCRIBER(s->peer);
	row->callid = SUB_STR(s, o_callid);
	row->ltag = SUB_STR(s, o_ltag);
	row->rtag = SUB_STR(s, o_rtag);
	row->luri = SUB_STR(s, o_luri);
	row->ruri = PEER_RURI(s->peer);
	row->target = PEER_TARGET(s->peer);
	row->route = route;
	row->event_id = SUB_STR(s, o_evid);
	row->lcseq = s->lcseq;
	row->rcseq = s->rcseq;
	row->version = s->version;
	{
		uint64_t now = tmr_jiffies();
		uint64_t left = s->deadline > now ? s->deadline - now : 0;

		row->expires_at = wall_ms() + (int64_t)left;
	}
}


static void sub_save(struct regevent *re, const struct sub *s)
{
	struct regevent_row row;
	char route[2048];
	int err;

	if (!re->conf.store)
		return;
	sub_row(s, &row, route, sizeof(route));
	err = re->conf.store->ops->put(re->conf.store, &row);
	if (err)
		LOG_WARN(NULL, "subscription %llu to %s not stored: %s",
			 (unsigned long long)s->id, SUB_IMPU(s),
			 log_strerror(err));
}


/* Remove a subscription (idempotent). */
static void sub_remove(struct regevent *re, struct sub *s)
{
	if (s->gone)
		return;
	s->gone = true;
	exp_del(re, s);
	stab_del(&re->subs_cid, s);
	stab_del(&re->subs_id, s);
	stab_del(&re->subs_impu, s);
	re->nsubs--;
	if (re->conf.store) {
		int err = re->conf.store->ops->del(re->conf.store, s->id);

		if (err)
			LOG_WARN(NULL, "subscription %llu not deleted: %s",
				 (unsigned long long)s->id, log_strerror(err));
	}
	mem_deref(s);
}


static void sub_insert(struct regevent *re, struct sub *s)
{
	stab_add(&re->subs_impu, s);
	stab_add(&re->subs_cid, s);
	stab_add(&re->subs_id, s);
	re->nsubs++;
}


/* The subscriptions to an IMPU, each with a reference (a snapshot that
 * callbacks cannot invalidate).  *vp NULL when there are none. */
static int subs_of(const struct regevent *re, const char *impu,
		   struct sub ***vp, size_t *np)
{
	struct sub *first =
		stab_first(&re->subs_impu, hash_fast(impu, strlen(impu)));
	struct sub **v;
	size_t n = 0, cnt = 0;

	*vp = NULL;
	*np = 0;
	for (struct sub *s = first; s; s = s->nx_impu)
		cnt++;
	if (!cnt)
		return 0;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
	v = mem_zalloc(cnt * sizeof(*v), NULL);
	if (!v)
		return ENOMEM;
	for (struct sub *s = first; s; s = s->nx_impu)
		if (strcmp(SUB_IMPU(s), impu) == 0)
			v[n++] = mem_ref(s);
	*vp = v;
	*np = n;
	return 0;
}


static void subv_free(struct sub **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mem_deref(v[i]);
	mem_deref(v);
}


/* ---- documents -------------------------------------------------------- */

/* Append the current registration of impu (or an "init" one when the
 * registrar reported nothing) to doc, expires counted down. */
static int doc_add_current(const struct regevent *re, struct reginfo *doc,
			   const char *impu)
{
	const struct aor *a = aor_find(re, impu);
	struct reginfo_reg *reg;
	uint64_t elapsed;
	char id[16];
	int err;

	hash_id(id, sizeof(id), 'r', impu);
	if (!a)
		return reginfo_reg_add(doc, impu, id, REGINFO_REG_INIT)
			       ? 0
			       : ENOMEM;
	err = reginfo_reg_unpack(doc, (const uint8_t *)a->s + a->pk_off,
				 a->pk_len, a->s + a->aor_off, id);
	if (err)
		return err;
	reg = &doc->reg[doc->reg_n - 1];
	elapsed = (tmr_jiffies() - a->updated_ms) / 1000;
	for (size_t i = 0; i < reg->ct_n; i++) {
		struct reginfo_contact *ct = &reg->ct[i];

		if (ct->has_expires)
			ct->expires = ct->expires > elapsed
					      ? ct->expires - elapsed
					      : 0;
	}
	return 0;
}


/* Full state for a subscription to impu: every IMPU of its set. */
static int doc_full(const struct regevent *re, const char *impu,
		    struct reginfo **docp)
{
	const struct aor *a = aor_find(re, impu);
	struct reginfo *doc = reginfo_alloc(0, REGINFO_FULL);
	int err = 0;

	if (!doc)
		return ENOMEM;
	/* the subscribed IMPU first, then the rest of its set */
	err = doc_add_current(re, doc, impu);
	if (a && a->set) {
		const char *x = a->set->s;

		for (size_t i = 0; !err && i < a->set->n;
		     i++, x += strlen(x) + 1) {
			if (strcmp(x, impu) != 0)
				err = doc_add_current(re, doc, x);
		}
	}
	if (err) {
		mem_deref(doc);
		return err;
	}
	*docp = doc;
	return 0;
}


/* ---- NOTIFY ----------------------------------------------------------- */

/* RFC 3261 12.2.1.1: with a strict router first in the route set, it
 * becomes the Request-URI and the remote target goes last. */
static bool loose(const char *route)
{
	struct sip_addr a;
	struct pl pl;

	pl_set_str(&pl, route);
	if (sip_addr_decode(&a, &pl))
		return true; /* not ours to judge: treat as loose */
	return sip_param_exists(&a.uri.params, "lr");
}


static int route_uri(const char *route, char *out, size_t size)
{
	struct sip_addr a;
	struct pl pl;

	pl_set_str(&pl, route);
	if (sip_addr_decode(&a, &pl))
		return EBADMSG;
	return pl_strcpy(&a.auri, out, size);
}


/**
 * Send one NOTIFY in a subscription's dialog.
 *
 * @param doc     the document (its version is set here), or NULL for
 *                the subscription's full state
 * @param reason  NULL: Subscription-State active; else terminated with
 *                this reason
 */
static int send_notify(struct regevent *re, struct sub *s, struct reginfo *doc,
		       const char *reason, uint32_t retry_after)
{
	const struct peer *p = s->peer;
	struct regevent_notify n;
	struct reginfo *full = NULL;
	struct buf *hb = NULL, *bb = NULL;
	char ruri[1024];
	uint64_t now = tmr_jiffies();
	size_t first = 0;
	int err;

	if (!doc) {
		err = doc_full(re, SUB_IMPU(s), &full);
		if (err)
			return err;
		doc = full;
	}
	doc->version = s->version;

	err = buf_alloc(&hb, 1024, SIP_MSG_MAX);
	if (!err)
		err = buf_alloc(&bb, 2048, SIP_MSG_MAX);
	if (!err)
		err = reginfo_encode(bb, doc);
	if (err)
		goto out;

	/* Request-URI and Route (RFC 3261 12.2.1.1) */
	if (p->route_n && !loose(PEER_ROUTE(p, 0))) {
		err = route_uri(PEER_ROUTE(p, 0), ruri, sizeof(ruri));
		first = 1;
	} else {
		err = snprintf(ruri, sizeof(ruri), "%s", PEER_TARGET(p)) >=
				      (int)sizeof(ruri)
			      ? ENOSPC
			      : 0;
	}
	for (size_t i = first; !err && i < p->route_n; i++)
		err = buf_printf(hb, "Route: %s\r\n", PEER_ROUTE(p, i));
	if (!err && first)
		err = buf_printf(hb, "Route: <%s>\r\n", PEER_TARGET(p));
	if (err)
		goto out;

	s->lcseq++;
	err = buf_printf(hb,
			 "Max-Forwards: " NOTIFY_MAXF "\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: <%s>;tag=%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u NOTIFY\r\n"
			 "Contact: <%s>\r\n"
			 "Event: reg%s%s\r\n",
			 SUB_STR(s, o_luri), SUB_STR(s, o_ltag), PEER_RURI(p),
			 SUB_STR(s, o_rtag), SUB_STR(s, o_callid), s->lcseq,
			 re->contact, *SUB_STR(s, o_evid) ? ";id=" : "",
			 SUB_STR(s, o_evid));
	if (!err && !reason)
		err = buf_printf(
			hb, "Subscription-State: active;expires=%llu\r\n",
			(unsigned long long)((s->deadline > now
						      ? s->deadline - now
						      : 0) /
					     1000));
	else if (!err && retry_after)
		err = buf_printf(hb,
				 "Subscription-State: terminated;reason=%s;"
				 "retry-after=%u\r\n",
				 reason, retry_after);
	else if (!err)
		err = buf_printf(hb,
				 "Subscription-State: terminated;reason=%s\r\n",
				 reason);
	if (!err)
		err = buf_write_str(hb, "Content-Type: " REGINFO_CTYPE "\r\n");
	if (!err)
		err = buf_write(hb, "", 1); /* NUL: hdrs is a C string */
	if (err)
		goto out;

	memset(&n, 0, sizeof(n));
	n.sub_id = s->id;
	n.impu = SUB_IMPU(s);
	n.ruri = ruri;
	n.hdrs = (const char *)hb->b;
	pl_set(&n.body, (const char *)bb->b, bb->end);
	n.cseq = s->lcseq;
	n.version = s->version;
	n.full = doc->state == REGINFO_FULL;
	n.terminated = reason != NULL;
	n.reason = reason;
	s->version++;
	if (!reason)
		sub_save(re, s);
	if (re->conf.notifyh)
		re->conf.notifyh(&n, re->conf.arg);
out:
	if (err)
		LOG_WARN(NULL,
			 "NOTIFY for subscription %llu to %s not built: %s",
			 (unsigned long long)s->id, SUB_IMPU(s),
			 log_strerror(err));
	mem_deref(hb);
	mem_deref(bb);
	mem_deref(full);
	return err;
}


static void sub_expired(struct sub *s)
{
	struct regevent *re = s->re;

	/* RFC 6665 4.2.2: the subscription is over, say so with its state */
	mem_ref(s);
	(void)send_notify(re, s, NULL, "timeout", 0);
	sub_remove(re, s);
	mem_deref(s);
}


static void sub_timer(struct sub *s)
{
	if (exp_put(s->re, s))
		LOG_WARN(NULL, "subscription %llu: no memory for its expiry",
			 (unsigned long long)s->id);
}


/* ---- allocation and restore ------------------------------------------- */

static void unlink_all(struct hash *h)
{
	if (!h)
		return;
	for (uint32_t b = 0; b <= h->mask; b++)
		while (h->bucket[b].head)
			hash_unlink(h, h->bucket[b].head);
}


/* Release the entries of a table holding a reference to each, then the
 * table; with counted false only the table. */
static void stab_free(struct stab *t, bool counted)
{
	for (uint32_t i = 0; counted && t->b && i <= t->mask; i++) {
		void *e = t->b[i];

		while (e) {
			void *next = *STAB_LINK(t, e);

			*STAB_LINK(t, e) = NULL;
			mem_deref(e);
			e = next;
		}
	}
	t->b = mem_deref(t->b);
	t->n = 0;
}


static void destructor(void *data)
{
	struct regevent *re = data;

	regevent_close(re);
	for (size_t i = 0; i < re->exp_n; i++)
		re->exp[i]->exp_idx = 0;
	re->exp_n = 0;
	mem_deref(re->exp);
	/* each sub is in three tables with one reference, the IMPU's */
	stab_free(&re->subs_cid, false);
	stab_free(&re->subs_id, false);
	stab_free(&re->subs_impu, true);
	stab_free(&re->aors, true);
	/* interned blocks still referenced from outside (a caller holding
	 * a subscription) are unlinked: their destructor then leaves the
	 * freed table alone */
	unlink_all(re->hosts);
	unlink_all(re->peers);
	mem_deref(re->hosts);
	mem_deref(re->peers);
	mem_deref(re->contact);
}


static int restore_row(const struct regevent_row *row, void *arg)
{
	struct regevent *re = arg;
	int64_t now = wall_ms();
	struct pl route[PACK_MAX], rest, v;
	struct sub_strs ss;
	struct pl target, ruri;
	size_t route_n = 0;
	struct sub *s;

	if (row->expires_at <= now) {
		/* expired while we were down: nothing can be sent without
		 * a registration state; forget it */
		(void)re->conf.store->ops->del(re->conf.store, row->id);
		return 0;
	}
	pl_set_str(&rest, row->route ? row->route : "");
	while (sip_value_split(&rest, &v)) {
		if (route_n >= PACK_MAX - 3)
			return EOVERFLOW;
		route[route_n++] = v;
	}
	pl_set_str(&ss.impu, row->impu ? row->impu : "");
	pl_set_str(&ss.callid, row->callid ? row->callid : "");
	pl_set_str(&ss.ltag, row->ltag ? row->ltag : "");
	pl_set_str(&ss.rtag, row->rtag ? row->rtag : "");
	pl_set_str(&ss.luri, row->luri ? row->luri : "");
	pl_set_str(&ss.evid, row->event_id ? row->event_id : "");
	pl_set_str(&target, row->target ? row->target : "");
	pl_set_str(&ruri, row->ruri ? row->ruri : "");
	s = sub_new(re, &ss, row->subscriber ? row->subscriber : "", &ruri,
		    &target, route, route_n);
	if (!s)
		return ENOMEM;
	s->id = row->id;
	s->lcseq = row->lcseq;
	s->rcseq = row->rcseq;
	s->version = row->version;
	s->deadline = tmr_jiffies() + (uint64_t)(row->expires_at - now);
	if (row->id >= re->next_id)
		re->next_id = row->id + 1;
	sub_insert(re, s);
	sub_timer(s);
	return 0;
}


/**
 * Create the notifier; with a store, restore its subscriptions (the ones
 * that expired meanwhile are deleted) and restart their timers.
 *
 * @param rep   the notifier (mem_deref it after regevent_close)
 * @param conf  settings; contact is required, zeros take the defaults
 * @return 0, EINVAL, ENOMEM, or the store's error
 */
int regevent_alloc(struct regevent **rep, const struct regevent_conf *conf)
{
	struct regevent *re;
	int err;

	if (!rep || !conf || !conf->contact || !*conf->contact)
		return EINVAL;
	re = mem_zalloc(sizeof(*re), destructor);
	if (!re)
		return ENOMEM;
	re->conf = *conf;
	if (!re->conf.min_expires)
		re->conf.min_expires = 60;
	if (!re->conf.max_expires)
		re->conf.max_expires = 600000;
	if (!re->conf.default_expires)
		re->conf.default_expires = 3761;
	if (!re->conf.max_subs)
		re->conf.max_subs = 100000;
	if (!re->conf.max_subs_per_impu)
		re->conf.max_subs_per_impu = 16;
	if (re->conf.max_expires < re->conf.min_expires) {
		err = EINVAL;
		goto out;
	}
	re->next_id = 1;
	re->contact = mem_strdup(conf->contact, strlen(conf->contact));
	if (!re->contact) {
		err = ENOMEM;
		goto out;
	}
	re->conf.contact = re->contact;
	tmr_init(&re->exp_tmr);
	/* the tables grow with the registrations */
	err = stab_init(&re->aors, offsetof(struct aor, nx), aor_key);
	if (!err)
		err = stab_init(&re->subs_impu, offsetof(struct sub, nx_impu),
				sub_key_impu);
	if (!err)
		err = stab_init(&re->subs_cid, offsetof(struct sub, nx_cid),
				sub_key_cid);
	if (!err)
		err = stab_init(&re->subs_id, offsetof(struct sub, nx_id),
				sub_key_id);
	if (!err)
		err = hash_alloc(&re->hosts, 64);
	if (!err)
		err = hash_alloc(&re->peers, 64);
	if (!err && re->conf.store)
		err = re->conf.store->ops->load(re->conf.store, restore_row,
						re);
out:
	if (err)
		mem_deref(re);
	else
		*rep = re;
	return err;
}


/**
 * Stop every subscription timer; nothing is sent and the store is left
 * as it is, for the next start.
 */
void regevent_close(struct regevent *re)
{
	if (!re || re->closed)
		return;
	re->closed = true;
	tmr_cancel(&re->exp_tmr);
}


size_t regevent_count(const struct regevent *re)
{
	return re ? re->nsubs : 0;
}


/**
 * Count the records and the interned blocks they share (a P-CSCF's dialog
 * side, a host list): what the sharing saves shows as peers and hosts
 * far below subs and aors.
 */
void regevent_stats(const struct regevent *re, struct regevent_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!re)
		return;
	st->subs = re->nsubs;
	st->aors = re->aors.n;
	st->peers = re->peers->n;
	st->hosts = re->hosts->n;
}


size_t regevent_count_impu(const struct regevent *re, const char *impu)
{
	char canon[IMPU_MAX];
	const struct sub *s;
	size_t n = 0;

	if (!re || !impu || canon_str(impu, canon, sizeof(canon)))
		return 0;
	s = stab_first(&re->subs_impu, hash_fast(canon, strlen(canon)));
	for (; s; s = s->nx_impu)
		n += strcmp(SUB_IMPU(s), canon) == 0;
	return n;
}


/* ---- SUBSCRIBE -------------------------------------------------------- */

struct sreq {
	struct regevent *re;
	struct sip_msg *req;
	regevent_reply_h *replyh;
	void *arg;
	char hdrs[512];
	char totag[32];
	uint64_t sub_id;
};


static void reply(struct sreq *x, uint16_t scode, const char *reason)
{
	struct regevent_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.scode = scode;
	rep.reason = reason ? reason : sip_reason(scode);
	rep.hdrs = x->hdrs;
	if (scode >= 200 && scode < 300 && x->totag[0])
		pl_set_str(&rep.totag, x->totag);
	rep.sub_id = x->sub_id;
	x->replyh(&rep, x->arg);
}


/* Event: reg[;id=...] (RFC 6665 8.2.1; event types compare exactly). */
static bool event_reg(const struct sip_msg *req, struct pl *id)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_EVENT);
	struct pl type, params;
	const char *semi;

	if (!h || sip_msg_hdr_next(req, h))
		return false;
	type = h->val;
	semi = pl_chr(&type, ';');
	pl_set(&params, NULL, 0);
	if (semi) {
		params.p = semi;
		params.l = (size_t)(type.p + type.l - semi);
		type.l = (size_t)(semi - type.p);
	}
	pl_trim(&type);
	if (!pl_eq_str(&type, "reg"))
		return false;
	pl_set(id, NULL, 0);
	if (params.l && sip_param_get(&params, "id", id))
		pl_set(id, NULL, 0);
	return true;
}


/* RFC 6665 4.2.1.1 / RFC 3680 4.3: without Accept, reginfo is assumed. */
static bool accept_ok(const struct sip_msg *req)
{
	struct sip_hdr_iter it = { 0 };
	bool any = false;
	struct pl v;

	while (sip_msg_hdr_value_next(req, SIP_HDR_ACCEPT, &it, &v)) {
		const char *semi = pl_chr(&v, ';');

		if (semi)
			v.l = (size_t)(semi - v.p);
		pl_trim(&v);
		if (!v.l)
			continue;
		any = true;
		if (pl_eq_str_ci(&v, REGINFO_CTYPE) ||
		    pl_eq_str_ci(&v, "application/*") ||
		    pl_eq_str_ci(&v, "*/*"))
			return true;
	}
	return !any;
}


/* TS 24.229 5.4.2.1.1: the subscriber is the user (an IMPU of the
 * implicit set), a P-CSCF in the Path of the registration, or an AS of
 * the iFCs; the P-Asserted-Identity says who it is. */
static bool authorised(const struct aor *a, struct sip_msg *req, char *who,
		       size_t whosz)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;

	while (sip_msg_hdr_value_next(req, SIP_HDR_P_ASSERTED_IDENTITY, &it,
				      &v)) {
		char canon[IMPU_MAX], hp[HOSTP_MAX];
		struct sip_addr addr;

		if (sip_addr_decode(&addr, &v))
			continue;
		(void)snprintf(who, whosz, "%.*s", PL_FMT(&addr.auri));
		if (!regevent_impu_canon(addr.auri.p, addr.auri.l, canon,
					 sizeof(canon)) &&
		    aor_impu_in_set(a, canon))
			return true;
		if (!hostport(&addr.uri, hp, sizeof(hp)) &&
		    aor_host_allowed(a, hp))
			return true;
	}
	return false;
}


/* The remote target: the Contact URI (a view into req). */
static int contact_target(struct sip_msg *req, struct pl *target)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_contact c;
	struct pl v;

	if (!sip_msg_hdr_value_next(req, SIP_HDR_CONTACT, &it, &v))
		return ENOENT;
	if (sip_contact_decode(&c, &v) || c.addr.star)
		return EBADMSG;
	*target = c.addr.auri;
	return 0;
}


static void set_expires_hdrs(struct sreq *x, uint32_t exp)
{
	(void)snprintf(x->hdrs, sizeof(x->hdrs),
		       "Expires: %u\r\nContact: <%s>\r\n", exp, x->re->contact);
}


/* Answer and notify an accepted SUBSCRIBE (new, refresh or end). */
static void accept_sub(struct sreq *x, struct sub *s, uint32_t exp)
{
	struct regevent *re = x->re;

	x->sub_id = s->id;
	set_expires_hdrs(x, exp);
	mem_ref(s);
	reply(x, 200, NULL);
	if (!s->gone) {
		/* RFC 6665 4.2.1.2: a NOTIFY with the current state at once;
		 * Expires 0 ends (or fetches) the subscription with it */
		if (exp == 0) {
			(void)send_notify(re, s, NULL, "timeout", 0);
			sub_remove(re, s);
		} else {
			(void)send_notify(re, s, NULL, NULL, 0);
		}
	}
	mem_deref(s);
}


static int in_dialog(struct sreq *x, const struct pl *callid,
		     const struct sip_addr *from, const struct sip_addr *to,
		     const struct pl *evid, uint32_t cseq, bool has_exp,
		     uint32_t exp)
{
	struct regevent *re = x->re;
	struct sub *s;
	struct pl target;
	int err;

	s = sub_find_dlg(re, callid, &to->tag, &from->tag);
	if (!s || !pl_eq_str(evid, SUB_STR(s, o_evid))) {
		reply(x, 481, "Subscription Does Not Exist");
		return 0;
	}
	if (cseq <= s->rcseq) {
		/* RFC 3261 12.2.2: a lower CSeq is out of order */
		reply(x, 500, "Server Internal Error (CSeq out of order)");
		return 0;
	}
	if (!has_exp)
		exp = re->conf.default_expires;
	if (exp && exp < re->conf.min_expires) {
		(void)snprintf(x->hdrs, sizeof(x->hdrs), "Min-Expires: %u\r\n",
			       re->conf.min_expires);
		reply(x, 423, NULL);
		return 0;
	}
	if (exp > re->conf.max_expires)
		exp = re->conf.max_expires;
	s->rcseq = cseq;
	/* a refresh is a target refresh request (RFC 6665 4.1.2.2) */
	err = contact_target(x->req, &target);
	if (!err) {
		err = sub_retarget(re, s, &target);
		if (err)
			return err;
	}
	s->deadline = tmr_jiffies() + (uint64_t)exp * 1000;
	if (exp)
		sub_timer(s);
	accept_sub(x, s, exp);
	return 0;
}


static int new_sub(struct sreq *x, const struct pl *callid,
		   const struct sip_addr *from, const struct sip_addr *to,
		   const struct pl *evid, uint32_t cseq, bool has_exp,
		   uint32_t exp)
{
	struct regevent *re = x->re;
	const struct sip_uri *ruri;
	struct sip_hdr_iter it = { 0 };
	char impu[IMPU_MAX], who[IMPU_MAX] = "";
	struct pl route[PACK_MAX], target, v;
	struct sub_strs ss;
	size_t route_n = 0;
	const struct aor *a;
	struct sub *s = NULL;
	int err;

	if (!has_exp)
		exp = re->conf.default_expires;
	if (exp && exp < re->conf.min_expires) {
		(void)snprintf(x->hdrs, sizeof(x->hdrs), "Min-Expires: %u\r\n",
			       re->conf.min_expires);
		reply(x, 423, NULL);
		return 0;
	}
	if (exp > re->conf.max_expires)
		exp = re->conf.max_expires;

	if (sip_msg_ruri(x->req, &ruri)) {
		reply(x, 400, "Bad Request-URI");
		return 0;
	}
	err = regevent_impu_canon(ruri->text.p, ruri->text.l, impu,
				  sizeof(impu));
	if (err == EPROTO) {
		reply(x, 416, NULL);
		return 0;
	}
	if (err) {
		reply(x, 400, "Bad Request-URI");
		return 0;
	}
	a = aor_find(re, impu);
	if (!a) {
		reply(x, 404, "Not Found (no registration of this IMPU here)");
		return 0;
	}
	if (!authorised(a, x->req, who, sizeof(who))) {
		LOG_INFO(NULL, "reg event SUBSCRIBE to %s from '%s' refused",
			 impu, who);
		reply(x, 403,
		      who[0] ? "Forbidden (not authorised for this IMPU)"
			     : "Forbidden (no P-Asserted-Identity)");
		return 0;
	}
	if (re->nsubs >= re->conf.max_subs ||
	    regevent_count_impu(re, impu) >= re->conf.max_subs_per_impu) {
		reply(x, 503, "Service Unavailable (too many subscriptions)");
		return 0;
	}

	sip_totag_make(x->req, x->totag, sizeof(x->totag));
	if (sub_find_dlg(re, callid, &(struct pl){ x->totag, strlen(x->totag) },
			 &from->tag)) {
		/* the same initial SUBSCRIBE again (no transaction layer
		 * absorbed it): the dialog exists, answer as before */
		set_expires_hdrs(x, exp);
		reply(x, 200, NULL);
		return 0;
	}

	err = contact_target(x->req, &target);
	if (err) {
		x->totag[0] = '\0';
		reply(x, 400,
		      err == ENOENT ? "Bad Request (no Contact)"
				    : "Bad Request (bad Contact)");
		return 0;
	}
	/* RFC 3261 12.1.1: the route set is the Record-Route, in order */
	while (sip_msg_hdr_value_next(x->req, SIP_HDR_RECORD_ROUTE, &it, &v)) {
		if (route_n >= PACK_MAX - 3) {
			x->totag[0] = '\0';
			reply(x, 400, "Bad Request (too many Record-Route)");
			return 0;
		}
		route[route_n++] = v;
	}
	pl_set_str(&ss.impu, impu);
	ss.callid = *callid;
	pl_set_str(&ss.ltag, x->totag);
	ss.rtag = from->tag;
	ss.luri = to->auri;
	ss.evid = *evid;
	s = sub_new(re, &ss, who, &from->auri, &target, route, route_n);
	if (!s)
		return ENOMEM;
	s->id = re->next_id++;
	s->rcseq = cseq;
	s->deadline = tmr_jiffies() + (uint64_t)exp * 1000;
	LOG_DEBUG(NULL, "reg event subscription %llu to %s by %s, %u s",
		  (unsigned long long)s->id, impu, who, exp);
	if (exp) {
		sub_insert(re, s);
		sub_timer(s);
		accept_sub(x, s, exp);
	} else {
		/* RFC 6665 4.4.3: a fetch; one NOTIFY, no subscription */
		x->sub_id = s->id;
		set_expires_hdrs(x, 0);
		reply(x, 200, NULL);
		s->gone = true; /* never inserted */
		(void)send_notify(re, s, NULL, "timeout", 0);
		mem_deref(s);
	}
	return 0;
}


/**
 * Handle a SUBSCRIBE for the reg event package: initial (authorised per
 * TS 24.229 5.4.2.1.1), refresh, unsubscribe (Expires 0) or fetch.
 *
 * replyh runs exactly once, before any NOTIFY: 200 (Expires, Contact, the
 * To tag of a new dialog), 400, 403, 404, 406, 416, 423 (Min-Expires),
 * 481, 489 (Allow-Events), 500 (CSeq out of order), 503.  A 200 is
 * followed by the NOTIFY with full state through the conf's notifyh.
 *
 * @param re      the notifier
 * @param req     the decoded SUBSCRIBE
 * @param replyh  answer handler
 * @param arg     its argument
 * @return 0 when replyh has run; EINVAL or ENOMEM when it has not
 *         (answer 500)
 */
int regevent_subscribe(struct regevent *re, struct sip_msg *req,
		       regevent_reply_h *replyh, void *arg)
{
	struct sreq x;
	const struct sip_addr *from, *to;
	const struct sip_cseq *cseq;
	struct pl callid, evid;
	uint32_t exp = 0;
	bool has_exp;
	int err;

	if (!re || !req || !replyh || !req->req ||
	    req->meth != SIP_METHOD_SUBSCRIBE)
		return EINVAL;
	memset(&x, 0, sizeof(x));
	x.re = re;
	x.req = req;
	x.replyh = replyh;
	x.arg = arg;

	if (sip_msg_callid(req, &callid) || sip_msg_from(req, &from) ||
	    sip_msg_to(req, &to) || sip_msg_cseq(req, &cseq) || !from->tag.l) {
		reply(&x, 400, "Bad Request (Call-ID, From tag, To or CSeq)");
		return 0;
	}
	if (!event_reg(req, &evid)) {
		/* RFC 6665 8.3.2 */
		(void)snprintf(x.hdrs, sizeof(x.hdrs), "Allow-Events: reg\r\n");
		reply(&x, 489, NULL);
		return 0;
	}
	if (!accept_ok(req)) {
		(void)snprintf(x.hdrs, sizeof(x.hdrs),
			       "Accept: " REGINFO_CTYPE "\r\n");
		reply(&x, 406, NULL);
		return 0;
	}
	err = sip_msg_expires(req, &exp);
	if (err && err != ENOENT) {
		reply(&x, 400, "Bad Request (Expires)");
		return 0;
	}
	has_exp = !err;
	if (to->tag.l)
		return in_dialog(&x, &callid, from, to, &evid, cseq->num,
				 has_exp, exp);
	return new_sub(&x, &callid, from, to, &evid, cseq->num, has_exp, exp);
}


/* ---- input from the registrar ---------------------------------------- */

static int check_set(const struct regevent_set *set)
{
	if (!set || !set->reg || !set->reg_n || set->reg_n > REGINFO_REG_MAX)
		return EINVAL;
	for (size_t i = 0; i < set->reg_n; i++) {
		const struct regevent_reg *r = &set->reg[i];

		if (!r->aor || (unsigned)r->state > REGINFO_REG_TERMINATED ||
		    r->ct_n > REGINFO_CT_MAX || (r->ct_n && !r->ct))
			return EINVAL;
		for (size_t j = 0; j < r->ct_n; j++) {
			const struct regevent_contact *c = &r->ct[j];

			if (!c->uri ||
			    (unsigned)c->state > REGINFO_CT_TERMINATED ||
			    (unsigned)c->event >= REGINFO_EV_NUM ||
			    c->q > 1000 || (c->param_n && !c->params))
				return EINVAL;
			for (size_t k = 0; k < c->param_n; k++)
				if (!c->params[k].name)
					return EINVAL;
		}
	}
	return 0;
}


/* Add a registrar contact to a document's registration. */
static int contact_put(struct reginfo_reg *reg,
		       const struct regevent_contact *c)
{
	struct reginfo_contact *ct;
	char idbuf[16];
	const char *id = c->id;
	int err = 0;

	if (!id) {
		hash_id(idbuf, sizeof(idbuf), 'c', c->uri);
		id = idbuf;
	}
	ct = reginfo_contact_add(reg, id, c->uri, c->state, c->event);
	if (!ct)
		return ENOMEM;
	if (c->state == REGINFO_CT_ACTIVE || c->event == REGINFO_EV_SHORTENED) {
		ct->has_expires = true;
		ct->expires = c->state == REGINFO_CT_ACTIVE ? c->expires : 0;
	} else {
		ct->has_expires = true;
		ct->expires = 0;
	}
	if (c->retry_after) {
		ct->has_retry_after = true;
		ct->retry_after = c->retry_after;
	}
	if (c->q >= 0) {
		ct->has_q = true;
		ct->q = (uint16_t)c->q;
	}
	if (c->callid) {
		err |= reginfo_str_set(&ct->callid, c->callid);
		ct->has_cseq = true;
		ct->cseq = c->cseq;
	}
	err |= reginfo_str_set(&ct->display_name, c->display_name);
	err |= reginfo_str_set(&ct->pub_gruu, c->pub_gruu);
	err |= reginfo_str_set(&ct->temp_gruu, c->temp_gruu);
	ct->temp_gruu_cseq = c->temp_gruu_cseq;
	/* TS 24.229 5.4.2.1.2: the +sip.instance as an unknown-param */
	if (!err && c->instance &&
	    !reginfo_param_add(ct, "+sip.instance", c->instance))
		err = ENOMEM;
	for (size_t i = 0; !err && c->params && i < c->param_n; i++) {
		if (!reginfo_param_add(ct, c->params[i].name,
				       c->params[i].value))
			err = ENOMEM;
	}
	return err ? ENOMEM : 0;
}


/* Append hp to the NUL-ended strings of mb (n of them) unless there. */
static int host_add(struct buf *mb, size_t *n, const char *hp)
{
	int err;

	if (*n && strs_has((const char *)mb->b, *n, hp))
		return 0;
	err = buf_write(mb, hp, strlen(hp) + 1);
	if (!err)
		(*n)++;
	return err;
}


/* The P-CSCF hosts in a Path value list. */
static int path_hosts(struct buf *mb, size_t *n, const char *path)
{
	struct pl rest, v;

	pl_set_str(&rest, path);
	while (sip_value_split(&rest, &v)) {
		struct sip_addr a;
		char hp[HOSTP_MAX];
		int err;

		if (sip_addr_decode(&a, &v) || hostport(&a.uri, hp, sizeof(hp)))
			continue;
		err = host_add(mb, n, hp);
		if (err)
			return err;
	}
	return 0;
}


/* Who may subscribe to the set's IMPUs besides its users: the interned
 * host list (*hsp NULL when empty), and the set's IMPUs when it has more
 * than one (*isp, else NULL). */
static int set_build(struct regevent *re, const struct regevent_set *set,
		     char (*canon)[IMPU_MAX], struct hosts **hsp,
		     struct impus **isp)
{
	struct buf *mb = NULL;
	size_t pcscf_n = 0, n = 0, len = 0;
	struct impus *is = NULL;
	int err;

	*hsp = NULL;
	*isp = NULL;
	err = buf_alloc(&mb, 256, (size_t)64 * 1024);
	for (size_t i = 0; !err && i < set->reg_n; i++) {
		const struct regevent_reg *r = &set->reg[i];

		for (size_t j = 0; !err && j < r->ct_n; j++) {
			if (r->ct[j].path &&
			    r->ct[j].state == REGINFO_CT_ACTIVE)
				err = path_hosts(mb, &pcscf_n, r->ct[j].path);
		}
	}
	n = pcscf_n;
	for (size_t i = 0; !err && set->as_uri && set->as_uri[i]; i++) {
		struct sip_uri u;
		char hp[HOSTP_MAX];
		struct pl pl;

		pl_set_str(&pl, set->as_uri[i]);
		if (sip_uri_decode(&u, &pl) || hostport(&u, hp, sizeof(hp)))
			continue;
		/* an AS host also in the Path list is allowed already */
		if (!strs_has((const char *)mb->b, n, hp))
			err = host_add(mb, &n, hp);
	}
	if (err)
		goto out;
	if (n) {
		*hsp = hosts_get(re, (const char *)mb->b, mb->end,
				 (uint16_t)pcscf_n, (uint16_t)(n - pcscf_n));
		if (!*hsp) {
			err = ENOMEM;
			goto out;
		}
	}
	if (set->reg_n < 2)
		goto out;
	for (size_t i = 0; i < set->reg_n; i++)
		len += strlen(canon[i]) + 1;
	is = mem_alloc(sizeof(*is) + len, NULL);
	if (!is) {
		err = ENOMEM;
		goto out;
	}
	is->n = 0;
	len = 0;
	for (size_t i = 0; i < set->reg_n; i++) {
		if (strs_has(is->s, is->n, canon[i]))
			continue;
		memcpy(is->s + len, canon[i], strlen(canon[i]) + 1);
		len += strlen(canon[i]) + 1;
		is->n++;
	}
	*isp = is;
out:
	if (err)
		*hsp = mem_deref(*hsp);
	mem_deref(mb);
	return err;
}


/* Why a subscription to a registration that ended ends (RFC 6665 4.1.3):
 * "rejected" (do not retry) for an administrative removal, "probation"
 * (retry later) for probation, otherwise "noresource": the registration
 * watched is gone, a new one needs a new subscription. */
static const char *end_reason(const struct regevent_reg *r,
			      uint32_t *retry_after)
{
	const char *reason = "noresource";

	*retry_after = 0;
	for (size_t i = 0; i < r->ct_n; i++) {
		const struct regevent_contact *c = &r->ct[i];

		if (!c->changed)
			continue;
		if (c->event == REGINFO_EV_REJECTED)
			return "rejected";
		if (c->event == REGINFO_EV_PROBATION) {
			reason = "probation";
			*retry_after = c->retry_after;
		}
	}
	return reason;
}


/* The new record of one IMPU: its active contacts packed (the document
 * built of r, then packed: contact_put decides what a contact shows). */
static int aor_build(const struct regevent_reg *r, const char *impu,
		     const char *id, struct aor **ap)
{
	struct reginfo *ri = reginfo_alloc(0, REGINFO_FULL);
	struct reginfo_reg *nreg;
	size_t ilen = strlen(impu) + 1, alen = 0, pklen;
	struct aor *a;
	int err = 0;

	nreg = ri ? reginfo_reg_add(ri, r->aor, id, r->state) : NULL;
	if (!nreg)
		err = ENOMEM;
	for (size_t j = 0; !err && j < r->ct_n; j++)
		if (r->ct[j].state == REGINFO_CT_ACTIVE)
			err = contact_put(nreg, &r->ct[j]);
	if (err)
		goto out;
	if (strcmp(r->aor, impu) != 0)
		alen = strlen(r->aor) + 1;
	pklen = reginfo_reg_pack(NULL, 0, nreg, REGINFO_PACK_NOKEY);
	if (pklen > UINT32_MAX) {
		err = EOVERFLOW;
		goto out;
	}
	a = mem_alloc(sizeof(*a) + ilen + alen + pklen, aor_destructor);
	if (!a) {
		err = ENOMEM;
		goto out;
	}
	memset(a, 0, sizeof(*a));
	memcpy(a->s, impu, ilen);
	a->aor_off = 0;
	if (alen) {
		memcpy(a->s + ilen, r->aor, alen);
		a->aor_off = (uint16_t)ilen;
	}
	a->pk_off = (uint16_t)(ilen + alen);
	a->pk_len = (uint32_t)pklen;
	(void)reginfo_reg_pack((uint8_t *)a->s + a->pk_off, pklen, nreg,
			       REGINFO_PACK_NOKEY);
	a->state = (uint8_t)r->state;
	a->updated_ms = tmr_jiffies();
	*ap = a;
out:
	mem_deref(ri);
	return err;
}


/* Build the new state of one IMPU and its part of the partial document. */
static int update_one(struct regevent *re, const struct regevent_reg *r,
		      const char *impu, struct hosts *hosts, struct impus *set,
		      struct reginfo *partial)
{
	struct aor *a = aor_find(re, impu), *na = NULL;
	struct reginfo_reg *preg = NULL;
	char id[16];
	bool changed;
	int err = 0;

	hash_id(id, sizeof(id), 'r', impu);
	/* a registration new to us is news only through its contacts: a
	 * registrar that reports its state again after a restart marks
	 * none, and no subscriber must hear of it */
	changed = a && a->state != r->state;
	for (size_t j = 0; j < r->ct_n; j++)
		changed |= r->ct[j].changed;

	if (changed) {
		preg = reginfo_reg_add(partial, r->aor, id, r->state);
		if (!preg)
			return ENOMEM;
		for (size_t j = 0; !err && j < r->ct_n; j++)
			if (r->ct[j].changed)
				err = contact_put(preg, &r->ct[j]);
		if (err)
			return err;
	}
	if (r->state == REGINFO_REG_TERMINATED)
		return 0; /* the record goes after the notifications */

	err = aor_build(r, impu, id, &na);
	if (err)
		return err;
	na->hosts = mem_ref(hosts);
	na->set = mem_ref(set);
	if (a)
		aor_remove(re, a);
	stab_add(&re->aors, na);
	return 0;
}


/* The partial NOTIFY to every subscription to one IMPU of the set; the
 * last one when its registration ended. */
static void notify_impu(struct regevent *re, const struct regevent_reg *r,
			const char *impu, struct reginfo *partial)
{
	bool ends = r->state == REGINFO_REG_TERMINATED;
	uint32_t retry = 0;
	const char *reason = ends ? end_reason(r, &retry) : NULL;
	struct sub **v;
	size_t n;

	if (subs_of(re, impu, &v, &n)) {
		LOG_WARN(NULL, "reg event for %s: out of memory", impu);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		if (v[k]->gone)
			continue;
		(void)send_notify(re, v[k], partial, reason, retry);
		if (ends)
			sub_remove(re, v[k]);
	}
	subv_free(v, n);
}


/**
 * The registrar's report of an implicit registration set after a change
 * (or, with nothing marked changed, its state after a restart).
 *
 * The notifier keeps each IMPU's registration (active contacts) and its
 * set.  When something changed (a contact marked changed, or a
 * registration state other than the last one reported), every
 * subscription to an IMPU of the set gets a partial NOTIFY with the
 * changed registrations and, in them, the changed contacts, with the
 * events given (RFC 3680 5.1.2, TS 24.229 5.4.2.1.2).  A registration
 * reported terminated is forgotten, and the subscriptions to it end with
 * that NOTIFY (Subscription-State: terminated; reason noresource,
 * rejected or probation).
 *
 * @param re   the notifier
 * @param set  the set's snapshot: every IMPU with all its contacts
 *             (active ones, and the ones that just ended with their
 *             terminating event), the ASes that may subscribe
 * @return 0, EINVAL (a NULL string, a value out of range, an IMPU that
 *         is not a sip/sips/tel URI), ENOMEM (nothing was changed)
 */
int regevent_update(struct regevent *re, const struct regevent_set *set)
{
	char(*canon)[IMPU_MAX] = NULL;
	struct reginfo *partial = NULL;
	struct hosts *hosts = NULL;
	struct impus *is = NULL;
	int err;

	if (!re)
		return EINVAL;
	err = check_set(set);
	if (err)
		return err;
	canon = mem_zalloc(set->reg_n * sizeof(*canon), NULL);
	if (!canon)
		return ENOMEM;
	for (size_t i = 0; !err && i < set->reg_n; i++)
		if (canon_str(set->reg[i].aor, canon[i], IMPU_MAX))
			err = EINVAL;
	if (!err)
		err = set_build(re, set, canon, &hosts, &is);
	if (!err) {
		partial = reginfo_alloc(0, REGINFO_PARTIAL);
		if (!partial)
			err = ENOMEM;
	}
	for (size_t i = 0; !err && i < set->reg_n; i++)
		err = update_one(re, &set->reg[i], canon[i], hosts, is,
				 partial);
	if (err)
		goto out;

	for (size_t i = 0; partial->reg_n && i < set->reg_n; i++)
		notify_impu(re, &set->reg[i], canon[i], partial);
	for (size_t i = 0; i < set->reg_n; i++) {
		struct aor *a;

		if (set->reg[i].state != REGINFO_REG_TERMINATED)
			continue;
		a = aor_find(re, canon[i]);
		if (a)
			aor_remove(re, a);
	}
out:
	mem_deref(partial);
	mem_deref(hosts);
	mem_deref(is);
	mem_deref(canon);
	return err;
}


/**
 * How a NOTIFY ended.  RFC 6665 4.2.2: a 481 (the subscriber has no such
 * subscription), 408 or a transport failure ends the subscription without
 * another NOTIFY; other failures are logged and the subscription stays.
 *
 * @param sub_id  regevent_notify.sub_id
 * @param cseq    regevent_notify.cseq
 * @param scode   the final status, or 408 for a timeout
 */
void regevent_notify_result(struct regevent *re, uint64_t sub_id, uint32_t cseq,
			    uint16_t scode)
{
	struct sub *s;

	if (!re || scode < 200)
		return;
	s = sub_find_id(re, sub_id);
	if (!s)
		return;
	if (scode < 300)
		return;
	LOG_INFO(NULL, "NOTIFY %u of subscription %llu to %s: %u", cseq,
		 (unsigned long long)sub_id, SUB_IMPU(s), scode);
	if (scode == 481 || scode == 408 || scode == 410 || scode == 404)
		sub_remove(re, s);
}


/**
 * End a subscription from our side (administrative): a last NOTIFY with
 * full state and Subscription-State: terminated;reason=<reason>.
 *
 * @param reason  an RFC 6665 reason ("rejected", "deactivated", ...)
 * @return 0, ENOENT (no such subscription), EINVAL
 */
int regevent_terminate(struct regevent *re, uint64_t sub_id, const char *reason)
{
	struct sub *s;

	if (!re || !reason || !*reason)
		return EINVAL;
	s = sub_find_id(re, sub_id);
	if (!s)
		return ENOENT;
	mem_ref(s);
	(void)send_notify(re, s, NULL, reason, 0);
	sub_remove(re, s);
	mem_deref(s);
	return 0;
}


/**
 * Print a NOTIFY as a whole request.
 *
 * @param mb   buffer the request is appended to
 * @param n    the NOTIFY the notifier gave
 * @param via  the Via header line, without CRLF ("Via: SIP/2.0/UDP ...")
 * @return 0, EINVAL, ENOMEM or EMSGSIZE
 */
int regevent_notify_print(struct buf *mb, const struct regevent_notify *n,
			  const char *via)
{
	if (!mb || !n || !n->ruri || !n->hdrs || !via)
		return EINVAL;
	return buf_printf(mb,
			  "NOTIFY %s SIP/2.0\r\n%s\r\n%s"
			  "Content-Length: %zu\r\n\r\n%.*s",
			  n->ruri, via, n->hdrs, n->body.l, PL_FMT(&n->body));
}
