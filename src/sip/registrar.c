/**
 * @file registrar.c  RFC 3261 10.3 registrar with durable bindings.
 *
 * Design
 *
 * State: a hash of address-of-record entries (struct reg_aor, keyed by the
 * canonical AOR string), each with its bindings in a list kept in
 * descending q order, so a lookup is a walk.  Every binding has its own
 * timer in the loop's min-heap and removes itself when it fires.
 *
 * One REGISTER runs RFC 3261 10.3 in order: Require (step 2), domain
 * (step 1, on the To domain: phones often put an IP address in the
 * Request-URI), authentication (step 3, RFC 3261 22), authorisation
 * (step 4), AOR (step 5), then the Contacts (steps 6-7) in two phases:
 * the first checks every contact and prepares new binding objects (the
 * only step that may fail), the second applies them and cannot fail.  So
 * the bindings change all-or-nothing, as step 7 requires.
 *
 * Durability: applied changes mark bindings dirty.  A loop hook (run once
 * after every batch of events) writes all dirty bindings of the batch in
 * one SQLite transaction, then delivers the 200 OKs queued in that batch:
 * a 200 is sent only once its binding is on disk.  If the COMMIT fails the
 * in-memory state goes back to what is stored (reloaded), which removes
 * every tentative update of the batch, and the queued requests get 500
 * (step 7: "If any one of them fails ... the request MUST fail with a 500
 * ... and all tentative binding updates MUST be removed").  No SQL runs
 * on the loop outside that hook.
 */
#include "sip/registrar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "sip/addr.h"
#include "sip/auth.h"
#include "sip/msg.h"
#include "sip/regstore.h"
#include "sip/transp.h"
#include "sip/uri.h"

#define LOG_MODULE "registrar"

#define REG_AOR_MAX          512  /* canonical AOR length */
#define REG_URI_MAX          1024 /* stored Contact URI */
#define REG_PARAMS_MAX       512  /* stored Contact params */
#define REG_PATH_MAX         2048 /* stored Path */
#define REG_UA_MAX           256  /* stored User-Agent (truncated) */
#define REG_REQ_CONTACTS_MAX 32   /* Contact values in one REGISTER */
#define REG_REPLY_MAX        32768
#define REG_REASON_MAX       192

/* A COMMIT is not delayed once this many bindings wait for it. */
#define REG_COMMIT_BATCH 256

struct registrar {
	struct registrar_conf conf;
	char **domains; /* lowercase copies */
	size_t *dlen;   /* their lengths */
	char *realm;    /* copy of conf.realm, or NULL */
	size_t ndomains;
	struct hash *aors; /* struct reg_aor, counted */
	size_t nbindings;
	uint64_t next_id;
	struct list dirty;     /* struct reg_binding, counted */
	struct list pending;   /* struct reg_wait, its object counted:
				  await COMMIT */
	struct list ready;     /* the same, to deliver */
	struct tmr commit_tmr; /* group commit delay */
	uint64_t last_commit;  /* tmr_jiffies() of the last journal write */
	struct loop_hook hook;
	bool closed;
	/* kept for the next REGISTER (allocating and freeing them cost
	 * more than most steps of a refresh); NULL while one is in use */
	struct regctx *x_spare;
	struct buf *hdrs_spare;
	/* the last addresses written as text into a stored row, with
	 * their text: the local address is nearly always the same, and a
	 * UA's refresh comes from where its last one came */
	struct sa fmt_sa[2];
	char fmt_str[2][SA_STRLEN];
};

struct reg_aor {
	struct le he;
	char *aor; /* in the same block */
	size_t aor_len;
	struct list bindings; /* struct reg_binding, counted, q descending */
};

struct reg_binding {
	struct le le;          /* in aor->bindings */
	struct le dle;         /* in reg->dirty */
	struct reg_aor *aor;   /* weak; NULL once removed */
	struct registrar *reg; /* weak */
	uint64_t id;
	char *uri;
	struct sip_uri curi; /* views into uri */
	char *params;
	char *callid;
	uint32_t cseq;
	uint16_t q;
	uint64_t exp_ms;  /* monotonic */
	int64_t exp_wall; /* wall clock ms, stored */
	char *path;
	char *instance;
	uint32_t reg_id;
	char *ua;
	int tp;
	struct sa src;
	struct sa dst;
	struct sip_conn *conn; /* counted, may be NULL */
	struct tmr tmr;
	bool removed;
};

/* An answer of registrar_handle() that waits for a commit: one block,
 * its header lines after it. */
struct reg_pending {
	struct reg_wait wt;
	reg_reply_h *h;
	void *arg;
	uint16_t scode;
	char reason[REG_REASON_MAX];
	size_t hdrs_len;
	char hdrs[];
};

/* The answer being put together for one request.  The reason is a
 * literal or rbuf (a reason naming something from the request). */
struct reply {
	uint16_t scode;
	const char *reason;
	char rbuf[REG_REASON_MAX];
	struct buf *hdrs;
	bool stateless; /* see struct reg_reply */
};

static void binding_remove(struct registrar *reg, struct reg_binding *b);


static void binding_destructor(void *arg)
{
	struct reg_binding *b = arg;

	tmr_cancel(&b->tmr);
	mem_deref(b->uri);
	mem_deref(b->params);
	mem_deref(b->callid);
	mem_deref(b->path);
	mem_deref(b->instance);
	mem_deref(b->ua);
	mem_deref(b->conn);
}


static void aor_destructor(void *arg)
{
	struct reg_aor *a = arg;

	list_flush(&a->bindings);
}


static void release(struct registrar *reg)
{
	struct le *le;

	loop_hook_remove(&reg->hook);
	tmr_cancel(&reg->commit_tmr);
	/* the timers live in the loop's heap: stop them all */
	if (reg->aors) {
		uint32_t i;
		for (i = 0; i <= reg->aors->mask; i++) {
			LIST_FOREACH (&reg->aors->bucket[i], le) {
				struct reg_aor *a = le->data;
				struct le *ble;
				LIST_FOREACH (&a->bindings, ble) {
					struct reg_binding *b = ble->data;
					tmr_cancel(&b->tmr);
				}
			}
		}
	}
	while ((le = reg->dirty.head)) {
		struct reg_binding *b = le->data;
		list_unlink(le);
		tmr_cancel(&b->tmr);
		mem_deref(b);
	}
}


static void destructor(void *arg)
{
	struct registrar *reg = arg;
	size_t i;

	release(reg);
	/* callbacks are the caller's: not run from a destructor */
	list_flush(&reg->pending);
	list_flush(&reg->ready);
	if (reg->aors)
		hash_flush(reg->aors);
	mem_deref(reg->aors);
	for (i = 0; i < reg->ndomains; i++)
		mem_deref(reg->domains[i]);
	mem_deref(reg->domains);
	mem_deref(reg->dlen);
	mem_deref(reg->realm);
	mem_deref(reg->conf.auth);
	mem_deref(reg->conf.store);
	mem_deref(reg->x_spare);
	mem_deref(reg->hdrs_spare);
}


/* ---- canonical AOR ---- */

/* RFC 3261 25.1 unreserved = alphanum / mark */
static bool is_unreserved(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-_.!~*'()", c) != NULL;
}


static char lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}


/**
 * Canonical address-of-record (RFC 3261 10.3 step 5): "all URI parameters
 * MUST be removed (including the user-param), and any escaped characters
 * MUST be converted to their unescaped form".  An escape of an unreserved
 * character becomes the character; an escape of anything else stays an
 * escape (uppercase hex), since RFC 3261 19.1.4 holds an escaped reserved
 * character distinct from the literal one and %00 must not cut a C string
 * (RFC 4475 3.1.1.4).  The host is lowercased; a port stays.
 *
 * @param lenp  receives the length (may be NULL)
 */
struct wr {
	char *p;
	size_t size;
	size_t n;
	bool full;
};

static void wr_put(struct wr *w, char c)
{
	if (w->n + 1 >= w->size) {
		w->full = true;
		return;
	}
	w->p[w->n++] = c;
}


static void wr_pl_lower(struct wr *w, const struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->l; i++)
		wr_put(w, lower(pl->p[i]));
}


/* The user part: escapes of unreserved characters are undone, the other
 * escapes are kept (in uppercase hex); EBADMSG on a broken escape. */
static int wr_user(struct wr *w, const struct pl *user)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < user->l; i++) {
		const char *p = user->p + i;
		int h, l;
		unsigned char c;

		if (*p != '%') {
			wr_put(w, *p);
			continue;
		}
		if (i + 2 >= user->l)
			return EBADMSG;
		h = pl_hexval(p[1]);
		l = pl_hexval(p[2]);
		if (h < 0 || l < 0)
			return EBADMSG;
		c = (unsigned char)(h << 4 | l);
		if (is_unreserved(c)) {
			wr_put(w, (char)c);
		} else {
			wr_put(w, '%');
			wr_put(w, hex[c >> 4]);
			wr_put(w, hex[c & 15]);
		}
		i += 2;
	}
	return 0;
}


/* Lowercase n octets of s at w: eight at a time, each octet gets 0x20
 * exactly when it is 'A'..'Z' (per octet with bit 7 cleared, adding 0x3f
 * sets bit 7 from 'A' on and adding 0x25 from past 'Z' on; an octet with
 * bit 7 set is never a letter), then one at a time for the rest. */
static char *put_lower(char *w, const char *s, size_t n)
{
	const uint64_t h = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, low, up;

		memcpy(&x, s + i, 8);
		low = x & ~h;
		up = (low + 0x3f3f3f3f3f3f3f3full) &
		     ~(low + 0x2525252525252525ull) & ~x & h;
		x |= up >> 2;
		memcpy(w + i, &x, 8);
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		w[i] = (char)(c | ((unsigned)(c - 'A') < 26u) << 5);
	}
	return w + n;
}


/* registrar_aor(), also telling where the host starts in buf. */
static int aor_write(const struct sip_uri *uri, char *buf, size_t size,
		     size_t *lenp, size_t *hostp)
{
	struct wr w = { buf, size, 0, false };
	const char *sch;
	size_t max;
	char *p;
	int err;

	if (!uri || !buf || !size)
		return EINVAL;
	if (uri->sch != SIP_SCHEME_SIP && uri->sch != SIP_SCHEME_SIPS)
		return EPROTO;
	if (!uri->host.l)
		return EBADMSG;

	/* the longest it can be (an escape stays or shrinks), NUL included:
	 * when that fits, written straight, a part at a time */
	max = 5 + uri->user.l + 1 + uri->host.l + 1 + uri->port_pl.l + 1;
	if (max <= size &&
	    (!uri->user.l || !memchr(uri->user.p, '%', uri->user.l))) {
		p = buf;
		if (uri->sch == SIP_SCHEME_SIPS) {
			memcpy(p, "sips:", 5);
			p += 5;
		} else {
			memcpy(p, "sip:", 4);
			p += 4;
		}
		if (uri->user.l) {
			memcpy(p, uri->user.p, uri->user.l);
			p += uri->user.l;
			*p++ = '@';
		}
		*hostp = (size_t)(p - buf);
		p = put_lower(p, uri->host.p, uri->host.l);
		if (uri->port_pl.l) {
			*p++ = ':';
			memcpy(p, uri->port_pl.p, uri->port_pl.l);
			p += uri->port_pl.l;
		}
		*p = '\0';
		if (lenp)
			*lenp = (size_t)(p - buf);
		return 0;
	}

	for (sch = uri->sch == SIP_SCHEME_SIPS ? "sips:" : "sip:"; *sch; sch++)
		wr_put(&w, *sch);
	if (uri->user.l) {
		err = wr_user(&w, &uri->user);
		if (err)
			return err;
		wr_put(&w, '@');
	}
	*hostp = w.n;
	wr_pl_lower(&w, &uri->host);
	if (uri->port_pl.l) {
		wr_put(&w, ':');
		wr_pl_lower(&w, &uri->port_pl);
	}
	if (w.full)
		return ENOSPC;
	buf[w.n] = '\0';
	if (lenp)
		*lenp = w.n;
	return 0;
}


int registrar_aor(const struct sip_uri *uri, char *buf, size_t size,
		  size_t *lenp)
{
	size_t host;

	return aor_write(uri, buf, size, lenp, &host);
}


/* ---- allocation and the store ---- */

static char *strdup_pl(const struct pl *pl)
{
	return mem_strdup(pl->p ? pl->p : "", pl->p ? pl->l : 0);
}


/* The hash of a canonical AOR, a word at a time (the inner step of
 * xxhash64; a tail shorter than a word read as an overlapping word):
 * FNV, an octet at a time, cost more than the rest of the lookup. */
static uint32_t aor_hash(const char *p, size_t n)
{
	uint64_t h = 0x27d4eb2f165667c5ull ^ (n * 0x9e3779b97f4a7c15ull), w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h ^= w * 0xc2b2ae3d27d4eb4full;
		h = ((h << 31) | (h >> 33)) * 0x9e3779b97f4a7c15ull;
	}
	if (i < n) {
		w = 0;
		if (n >= 8)
			memcpy(&w, p + n - 8, 8);
		else
			memcpy(&w, p, n);
		h ^= w * 0xc2b2ae3d27d4eb4full;
		h = ((h << 31) | (h >> 33)) * 0x9e3779b97f4a7c15ull;
	}
	h ^= h >> 29;
	h *= 0x165667b19e3779f9ull;
	return (uint32_t)(h ^ (h >> 32));
}


static struct reg_aor *aor_find_h(const struct registrar *reg, const char *aor,
				  size_t len, uint32_t hash)
{
	struct le *le;

	LIST_FOREACH (hash_list(reg->aors, hash), le) {
		struct reg_aor *a = le->data;
		if (a->aor_len == len && !memcmp(a->aor, aor, len))
			return a;
	}
	return NULL;
}


static struct reg_aor *aor_find(const struct registrar *reg, const char *aor,
				size_t len)
{
	return aor_find_h(reg, aor, len, aor_hash(aor, len));
}


static int aor_get_h(struct registrar *reg, const char *aor, size_t len,
		     uint32_t hash, struct reg_aor **ap)
{
	struct reg_aor *a = aor_find_h(reg, aor, len, hash);

	if (!a) {
		a = mem_zalloc(sizeof(*a) + len + 1, aor_destructor);
		if (!a)
			return ENOMEM;
		/* the AOR string in the same block */
		a->aor = (char *)(a + 1);
		memcpy(a->aor, aor, len);
		a->aor[len] = '\0';
		a->aor_len = len;
		list_init(&a->bindings);
		hash_append(reg->aors, hash, &a->he, a);
	}
	*ap = a;
	return 0;
}


static int aor_get(struct registrar *reg, const char *aor, size_t len,
		   struct reg_aor **ap)
{
	return aor_get_h(reg, aor, len, aor_hash(aor, len), ap);
}


static void aor_drop_if_empty(struct registrar *reg, struct reg_aor *a)
{
	if (a && !a->bindings.n) {
		hash_unlink(reg->aors, &a->he);
		mem_deref(a);
	}
}


/* Insert into the AOR's list, keeping q descending (stable). */
static void binding_link(struct reg_aor *a, struct reg_binding *b)
{
	struct le *le, *at = NULL;

	LIST_FOREACH (&a->bindings, le) {
		const struct reg_binding *o = le->data;
		if (o->q < b->q)
			break;
		at = le;
	}
	list_insert_after(&a->bindings, at, &b->le, b);
	b->aor = a;
}


static void mark_dirty(struct registrar *reg, struct reg_binding *b)
{
	if (!reg->conf.store || b->dle.list)
		return;
	list_append(&reg->dirty, &b->dle, mem_ref(b));
}


static void binding_timer(struct reg_binding *b);

static void binding_expired(void *arg)
{
	struct reg_binding *b = arg;
	struct registrar *reg = b->reg;

	if (b->exp_ms > tmr_jiffies()) {
		binding_timer(b); /* refreshed since the timer was set */
		return;
	}

	LOG_DEBUG(NULL, "binding %s of %s expired", b->uri,
		  b->aor ? b->aor->aor : "?");
	binding_remove(reg, b);
}


/* Arm the expiry timer.  A refresh moves the expiry later: the running
 * timer is then left to fire at the earlier time, and binding_expired()
 * sets it again for what is left, so a refresh costs no heap operation
 * (most REGISTERs are refreshes). */
static void binding_timer(struct reg_binding *b)
{
	uint64_t now;

	if (tmr_isrunning(&b->tmr) && b->tmr.jfs <= b->exp_ms)
		return;
	now = tmr_jiffies();

	tmr_start(&b->tmr, b->exp_ms > now ? b->exp_ms - now : 0,
		  binding_expired, b);
}


/* Remove from its AOR (drops the AOR's reference; the dirty list may
 * still hold one until the deletion is committed). */
static void binding_remove(struct registrar *reg, struct reg_binding *b)
{
	struct reg_aor *a = b->aor;

	tmr_cancel(&b->tmr);
	if (b->removed)
		return;
	b->removed = true;
	mark_dirty(reg, b);
	list_unlink(&b->le);
	b->aor = NULL;
	reg->nbindings--;
	aor_drop_if_empty(reg, a);
	mem_deref(b);
}


/* The text of an address for a stored row, through the one-entry cache
 * of slot i (0: source, 1: local address). */
static const char *row_addr(struct registrar *reg, int i, const struct sa *sa)
{
	if (!sa_isset(sa))
		return NULL;
	if (reg->fmt_str[i][0] && sa_eq(sa, &reg->fmt_sa[i]))
		return reg->fmt_str[i];
	reg->fmt_str[i][0] = '\0';
	if (sa_fmt(sa, reg->fmt_str[i], SA_STRLEN) <= 0) {
		reg->fmt_str[i][0] = '\0';
		return NULL;
	}
	reg->fmt_sa[i] = *sa;
	return reg->fmt_str[i];
}


/* The stored row of a binding; its address strings stay valid until the
 * next call. */
static void row_of(struct registrar *reg, const struct reg_binding *b,
		   struct regstore_row *row)
{
	memset(row, 0, sizeof(*row));
	row->id = b->id;
	row->aor = b->aor ? b->aor->aor : "";
	row->uri = b->uri;
	row->params = b->params;
	row->callid = b->callid;
	row->cseq = b->cseq;
	row->q = b->q;
	row->expires_at = b->exp_wall;
	row->path = b->path;
	row->instance = b->instance;
	row->reg_id = b->reg_id;
	row->user_agent = b->ua;
	row->tp = b->tp;
	row->src = row_addr(reg, 0, &b->src);
	row->dst = row_addr(reg, 1, &b->dst);
}


static struct reg_binding *binding_new(struct registrar *reg)
{
	struct reg_binding *b = mem_zalloc(sizeof(*b), binding_destructor);

	if (b) {
		b->reg = reg;
		tmr_init(&b->tmr);
	}
	return b;
}


static int binding_set_uri(struct reg_binding *b, const char *s, size_t len)
{
	struct pl pl;

	b->uri = mem_strdup(s, len);
	if (!b->uri)
		return ENOMEM;
	pl_set(&pl, b->uri, len);
	return sip_uri_decode(&b->curi, &pl);
}


struct load_ctx {
	struct registrar *reg;
	uint64_t now;
	int64_t wall;
	size_t n;
};


static char *dup_opt(const char *s)
{
	return (s && *s) ? mem_strdup(s, strlen(s)) : NULL;
}


static int load_row(const struct regstore_row *row, void *arg)
{
	struct load_ctx *lc = arg;
	struct registrar *reg = lc->reg;
	struct reg_binding *b;
	struct reg_aor *a;
	int err;

	if (!*row->aor || row->expires_at <= lc->wall)
		return 0;
	b = binding_new(reg);
	if (!b)
		return ENOMEM;
	err = binding_set_uri(b, row->uri, strlen(row->uri));
	if (err) {
		LOG_WARN(NULL, "stored binding %llu: bad URI, dropped",
			 (unsigned long long)row->id);
		mem_deref(b);
		return err == ENOMEM ? err : 0;
	}
	b->id = row->id;
	b->params = mem_strdup(row->params, strlen(row->params));
	b->callid = mem_strdup(row->callid, strlen(row->callid));
	b->path = dup_opt(row->path);
	b->instance = dup_opt(row->instance);
	b->ua = dup_opt(row->user_agent);
	if (!b->params || !b->callid || (*row->path && !b->path) ||
	    (*row->instance && !b->instance) || (*row->user_agent && !b->ua)) {
		mem_deref(b);
		return ENOMEM;
	}
	b->cseq = row->cseq;
	b->q = row->q;
	b->reg_id = row->reg_id;
	b->tp = row->tp;
	if (*row->src && sa_decode(&b->src, row->src))
		sa_init(&b->src, AF_UNSPEC);
	if (*row->dst && sa_decode(&b->dst, row->dst))
		sa_init(&b->dst, AF_UNSPEC);
	b->exp_wall = row->expires_at;
	b->exp_ms = lc->now + (uint64_t)(row->expires_at - lc->wall);

	err = aor_get(reg, row->aor, strlen(row->aor), &a);
	if (err) {
		mem_deref(b);
		return err;
	}
	binding_link(a, b);
	reg->nbindings++;
	binding_timer(b);
	lc->n++;
	return 0;
}


/* Drop every binding in memory and load what the store holds. */
static int reload(struct registrar *reg)
{
	struct load_ctx lc;
	uint64_t max_id = 0;
	struct le *le;
	uint32_t i;
	int err;

	while ((le = reg->dirty.head)) {
		list_unlink(le);
		mem_deref(le->data);
	}
	for (i = 0; i <= reg->aors->mask; i++) {
		LIST_FOREACH (&reg->aors->bucket[i], le) {
			struct reg_aor *a = le->data;
			struct le *ble;
			LIST_FOREACH (&a->bindings, ble) {
				struct reg_binding *b = ble->data;
				tmr_cancel(&b->tmr);
				b->aor = NULL;
				b->removed = true;
			}
		}
	}
	hash_flush(reg->aors);
	reg->nbindings = 0;

	lc.reg = reg;
	lc.now = tmr_jiffies();
	lc.wall = regstore_now();
	lc.n = 0;
	err = regstore_load(reg->conf.store, lc.wall, load_row, &lc, &max_id);
	if (max_id >= reg->next_id)
		reg->next_id = max_id + 1;
	if (!err)
		LOG_INFO(NULL, "%zu bindings loaded", lc.n);
	return err;
}


/* ---- group commit ---- */

static void deliver(reg_reply_h *h, void *arg, uint16_t scode,
		    const char *reason, const char *hdrs, size_t hdrs_len,
		    bool stateless, bool wait)
{
	struct reg_reply rep;

	rep.err = 0;
	rep.stateless = stateless;
	rep.wait = wait;
	rep.scode = scode;
	rep.reason = reason;
	rep.hdrs = hdrs;
	rep.hdrs_len = hdrs_len;
	h(&rep, arg);
}


static int store_commit(struct registrar *reg)
{
	struct regstore *rs = reg->conf.store;
	struct regstore_row row;
	struct le *le;
	int err;

	err = regstore_begin(rs);
	if (err)
		return err;
	LIST_FOREACH (&reg->dirty, le) {
		const struct reg_binding *b = le->data;

		if (b->removed) {
			err = regstore_del(rs, b->id);
		} else {
			row_of(reg, b, &row);
			err = regstore_put(rs, &row);
		}
		if (err)
			break;
	}
	if (!err)
		err = regstore_commit(rs);
	if (err) {
		regstore_rollback(rs);
		return err;
	}
	while ((le = reg->dirty.head)) {
		list_unlink(le);
		mem_deref(le->data);
	}
	return 0;
}


/* Commit the batch; the answers that waited for it (now final: sent as
 * decided, or 500 when err) move to reg->ready. */
static int commit_batch(struct registrar *reg)
{
	struct le *le;
	int err = 0;

	if (reg->dirty.head && reg->conf.store) {
		size_t n = reg->dirty.n;

		reg->last_commit = tmr_jiffies();
		err = store_commit(reg);
		if (err) {
			int e2;

			LOG_ERR(NULL,
				"storing %zu binding changes failed (%s): "
				"back to the stored state",
				n, log_strerror(err));
			e2 = reload(reg);
			if (e2)
				LOG_ERR(NULL, "reloading bindings failed: %s",
					log_strerror(e2));
		}
	}
	while ((le = reg->pending.head)) {
		struct reg_wait *wt = (struct reg_wait *)le;
		void *obj = le->data;

		list_unlink(le);
		if (err)
			wt->err = err;
		list_append(&reg->ready, le, obj);
	}
	return err;
}


static void deliver_ready(struct registrar *reg)
{
	struct list ready;
	struct le *le;

	/* detach first: a callback may handle the next request, whose
	 * answer belongs to the next commit */
	ready = reg->ready;
	for (le = ready.head; le; le = le->next)
		le->list = &ready;
	list_init(&reg->ready);

	while ((le = ready.head)) {
		struct reg_wait *wt = (struct reg_wait *)le;
		void *obj = le->data;

		list_unlink(le);
		wt->doneh(wt->err, obj);
		mem_deref(obj);
	}
}


/**
 * Queue an answer that waits for the commit (see registrar.h): from a
 * callback of registrar_handle_now() given rep->wait.
 *
 * @param wt     the queue entry, inside obj
 * @param doneh  called after the commit with 0 or the store's error
 * @param obj    the counted object holding wt (referenced until then)
 */
void registrar_wait(struct registrar *reg, struct reg_wait *wt,
		    reg_done_h *doneh, void *obj)
{
	if (!reg || !wt || !doneh || !obj)
		return;
	wt->doneh = doneh;
	wt->err = 0;
	list_append(&reg->pending, &wt->le, mem_ref(obj));
}


/**
 * Commit pending changes and deliver the answers that waited for them,
 * now.  On a failed commit the bindings in memory are reloaded from the
 * store (dropping this batch's tentative changes) and the waiting
 * requests are answered 500 (RFC 3261 10.3 step 7).
 *
 * @return 0, or the store's error
 */
int registrar_flush(struct registrar *reg)
{
	int err;

	if (!reg)
		return EINVAL;
	tmr_cancel(&reg->commit_tmr);
	err = commit_batch(reg);
	deliver_ready(reg);
	return err;
}


static void commit_timeout(void *arg)
{
	int err = registrar_flush(arg); /* logged there */

	(void)err;
}


/*
 * End of a loop batch: one COMMIT for everything the batch changed, then
 * the answers (the loop runs the transport's send hook, added when the
 * first answer is queued, in the same iteration).
 *
 * With commit_delay_ms the COMMITs are at least that far apart (group
 * commit, as PostgreSQL's commit_delay): the first change after a quiet
 * spell is written at once, and under load the changes that arrive
 * within commit_delay_ms of the last write wait for the next one.  So a
 * lone REGISTER is not delayed, and under load every write carries a
 * batch.  Each write costs more than its size (a write() that updates
 * the file's mtime through the filesystem journal, a wake-up of the loop
 * when it rides on a timer, one sendmmsg() of the answers, which wakes
 * their receivers), so fewer, larger batches use less CPU: at 2,000
 * digest registrations/s, 10 ms apart cost some 15 % less CPU per
 * registration than 2 ms apart (bench/load.sh; docs/internals/
 * auth-registrar.md).  An answer waits at most commit_delay_ms.
 */
static void commit_hook(void *arg)
{
	struct registrar *reg = arg;
	uint64_t now, next;
	int err;

	if (!reg->dirty.head && !reg->pending.head)
		return;
	if (reg->conf.commit_delay_ms && reg->conf.store && reg->dirty.head &&
	    reg->dirty.n < REG_COMMIT_BATCH) {
		now = tmr_jiffies();
		next = reg->last_commit + reg->conf.commit_delay_ms;
		if (reg->last_commit && now < next) {
			if (!tmr_isrunning(&reg->commit_tmr))
				tmr_start(&reg->commit_tmr, next - now,
					  commit_timeout, reg);
			return;
		}
	}
	err = registrar_flush(reg); /* logged there */
	(void)err;
}


/**
 * Shut down: commit and answer what is pending, stop the timers and the
 * hook.  Lookups still work on what is in memory; REGISTERs are refused.
 */
void registrar_close(struct registrar *reg)
{
	int err;

	if (!reg || reg->closed)
		return;
	err = registrar_flush(reg); /* logged there */
	(void)err;
	release(reg);
	reg->closed = true;
}


/* ---- one REGISTER ---- */

/* A reason phrase is one line of text (RFC 3261 25.1). */
static void reason_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}


/* A status with a static reason phrase (a literal, or auth's). */
static void set_status(struct reply *rp, uint16_t scode, const char *reason)
{
	rp->scode = scode;
	rp->reason = reason;
}


/* A reason naming something from the request (excerpted, cleaned). */
#define set_reasonf(rp, code, ...)                                           \
	do {                                                                 \
		(rp)->scode = (code);                                        \
		(void)snprintf((rp)->rbuf, sizeof((rp)->rbuf), __VA_ARGS__); \
		reason_clean((rp)->rbuf);                                    \
		(rp)->reason = (rp)->rbuf;                                   \
	} while (0)


/* Printable excerpt of a pl for a reason phrase. */
#define EXCERPT(pl) (int)((pl)->l > 64 ? 64 : (pl)->l), (pl)->p

/* The domain a lowercase host names, or NULL when not ours. */
static const char *domain_served(const struct registrar *reg, const char *host,
				 size_t len)
{
	size_t i;

	for (i = 0; i < reg->ndomains; i++)
		if (reg->dlen[i] == len && !memcmp(host, reg->domains[i], len))
			return reg->domains[i];
	return NULL;
}


/* RFC 3261 10.3 step 4: here the digest username owns the AOR with the
 * same (unescaped) user part in any domain of this registrar. */
static bool user_owns_aor(const struct pl *username, const struct sip_uri *to)
{
	char user[AUTH_USER_MAX + 1];
	size_t n = 0;

	if (!to->user.l)
		return false;
	if (sip_unescape(&to->user, user, sizeof(user), &n))
		return false;
	return n == username->l && !memcmp(user, username->p, n);
}


/**
 * The Contact params a registrar keeps with a binding and echoes: all but
 * expires and q, which it writes itself (RFC 3261 10.3 step 8).  Shared
 * with the S-CSCF registrar.
 *
 * @param out  a new mem string (possibly "")
 * @return 0, ENOSPC (over REG_PARAMS_MAX), ENOMEM
 */
int registrar_params_keep(const struct pl *params, char **out)
{
	struct pl rest = *params, name, val;
	char buf[REG_PARAMS_MAX + 1];
	size_t n = 0;

	while (rest.p && sip_param_next(&rest, &name, &val)) {
		int k;

		if (pl_eq_str_ci(&name, "expires") || pl_eq_str_ci(&name, "q"))
			continue;
		if (val.l)
			k = snprintf(buf + n, sizeof(buf) - n, ";%.*s=%.*s",
				     PL_FMT(&name), PL_FMT(&val));
		else
			k = snprintf(buf + n, sizeof(buf) - n, ";%.*s",
				     PL_FMT(&name));
		if (k < 0 || (size_t)k >= sizeof(buf) - n)
			return ENOSPC;
		n += (size_t)k;
	}
	*out = mem_strdup(buf, n);
	return *out ? 0 : ENOMEM;
}


/**
 * The request's Path values (RFC 3327), comma-joined into buf ("" when
 * there are none).  Shared with the S-CSCF registrar.
 *
 * @return 0, ENOSPC
 */
int registrar_path_join(struct sip_msg *req, char *buf, size_t size)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	size_t n = 0;

	if (!size)
		return ENOSPC;
	buf[0] = '\0';
	while (sip_msg_hdr_value_next(req, SIP_HDR_PATH, &it, &v)) {
		int k = snprintf(buf + n, size - n, "%s%.*s", n ? ", " : "",
				 PL_FMT(&v));
		if (k < 0 || (size_t)k >= size - n)
			return ENOSPC;
		n += (size_t)k;
	}
	return 0;
}


/* Path values, comma-joined; NULL when there are none. */
static int path_collect(struct sip_msg *req, char **out)
{
	char buf[REG_PATH_MAX + 1];
	int err;

	*out = NULL;
	if (!sip_msg_hdr(req, SIP_HDR_PATH))
		return 0; /* most REGISTERs: no proxy in front */
	err = registrar_path_join(req, buf, sizeof(buf));
	if (err || !buf[0])
		return err;
	*out = mem_strdup(buf, strlen(buf));
	return *out ? 0 : ENOMEM;
}


struct cand {
	const struct sip_uri *uri;
	struct pl instance;
	uint32_t reg_id;
};


/* RFC 5626 6: with +sip.instance and reg-id the pair names the binding;
 * otherwise RFC 3261 10.3 step 7: the Contact URI (19.1.4 comparison). */
static bool binding_is(const struct reg_binding *b, const struct cand *c)
{
	if (c->instance.l && c->reg_id)
		return b->instance && b->reg_id == c->reg_id &&
		       pl_eq_str(&c->instance, b->instance);
	/* the same text is the same URI (a refresh, mostly): the 19.1.4
	 * comparison only for texts that differ */
	if (b->curi.text.l == c->uri->text.l &&
	    !memcmp(b->curi.text.p, c->uri->text.p, c->uri->text.l))
		return true;
	return sip_uri_eq(&b->curi, c->uri);
}


static struct reg_binding *binding_match(const struct reg_aor *a,
					 const struct cand *c)
{
	struct le *le;

	if (!a)
		return NULL;
	LIST_FOREACH (&a->bindings, le) {
		struct reg_binding *b = le->data;
		if (binding_is(b, c))
			return b;
	}
	return NULL;
}


#define SWAP(a, b)                        \
	do {                              \
		__typeof__(a) tmp_ = (a); \
		(a) = (b);                \
		(b) = tmp_;               \
	} while (0)

/* Take nb's values into b (nb gets the old ones and is released). */
static void binding_update(struct registrar *reg, struct reg_binding *b,
			   struct reg_binding *nb)
{
	bool requeue = b->q != nb->q;

	SWAP(b->uri, nb->uri);
	SWAP(b->curi, nb->curi);
	SWAP(b->params, nb->params);
	SWAP(b->callid, nb->callid);
	SWAP(b->path, nb->path);
	SWAP(b->instance, nb->instance);
	SWAP(b->ua, nb->ua);
	SWAP(b->conn, nb->conn);
	b->cseq = nb->cseq;
	b->q = nb->q;
	b->reg_id = nb->reg_id;
	b->tp = nb->tp;
	b->src = nb->src;
	b->dst = nb->dst;
	b->exp_ms = nb->exp_ms;
	b->exp_wall = nb->exp_wall;
	if (requeue) {
		struct reg_aor *a = b->aor;
		list_unlink(&b->le);
		binding_link(a, b);
	}
	binding_timer(b);
	mark_dirty(reg, b);
}


/* qvalue (RFC 3261 25.1) from 0..1000: "1", "0", "0.5", "0.05", "0.125" */
static void fmt_q(uint16_t q, char *out)
{
	size_t n = 0;

	if (q >= 1000) {
		out[n++] = '1';
		out[n] = '\0';
		return;
	}
	out[n++] = '0';
	if (q) {
		out[n++] = '.';
		out[n++] = (char)('0' + q / 100);
		q %= 100;
		if (q) {
			out[n++] = (char)('0' + q / 10);
			q %= 10;
			if (q)
				out[n++] = (char)('0' + q);
		}
	}
	out[n] = '\0';
}


struct cplan {
	struct reg_binding *old; /* matched binding, or NULL */
	struct reg_binding *nb;  /* new values (NULL: remove) */
	struct cand cand;
	bool remove; /* expires 0: remove the matched binding */
};


/* Everything shared by the bindings of one request. */
struct reqvals {
	struct pl cid; /* the Call-ID, in the request */
	char *callid;  /* its copy, made for the first new values */
	char *path;
	char *ua;
	uint32_t cseq;
	uint32_t hexp;
	bool has_hexp;
	uint64_t now;
	int64_t wall;
};


/* One REGISTER being processed. */
struct regctx {
	struct registrar *reg;
	struct sip_msg *req;
	struct reply *rp;
	const struct sip_addr *to;
	const char *domain;
	size_t aorlen;
	uint32_t aorhash;
	struct reqvals rv;
	char aor[REG_AOR_MAX]; /* written by step_target() before any use */
	struct sip_contact cv[REG_REQ_CONTACTS_MAX];
	size_t nc;
	bool star;
	struct cplan plan[REG_REQ_CONTACTS_MAX];
	size_t np;
	const struct reg_aor *a; /* the AOR's entry while planning, or NULL */
	bool changed;
};


static void regctx_release(struct regctx *x)
{
	size_t i;

	/* only the first np entries are used: plan_contact() leaves no
	 * binding in the one it did not keep */
	for (i = 0; i < x->np; i++)
		x->plan[i].nb = mem_deref(x->plan[i].nb);
	x->np = 0;
	x->rv.callid = mem_deref(x->rv.callid);
	x->rv.path = mem_deref(x->rv.path);
	x->rv.ua = mem_deref(x->rv.ua);
}


static int prepare_binding(struct regctx *x, const struct sip_contact *c,
			   const struct cand *cd, uint32_t exp,
			   const struct reg_binding *old,
			   struct reg_binding **nbp)
{
	struct reg_binding *nb = binding_new(x->reg);
	struct reqvals *rv = &x->rv;
	const struct pl *auri = &c->addr.auri;
	int err = 0;

	if (!nb)
		return ENOMEM;
	if (old && old->curi.text.l == auri->l &&
	    !memcmp(old->curi.text.p, auri->p, auri->l)) {
		/* a refresh: the same URI text, shared with its views */
		nb->uri = mem_ref(old->uri);
		nb->curi = old->curi;
	} else {
		/* a copy of the text, and the views of the decoded Contact
		 * moved onto it: no second decode */
		nb->uri = mem_strdup(auri->p, auri->l);
		if (!nb->uri)
			err = ENOMEM;
		else
			sip_uri_move(&nb->curi, &c->addr.uri, nb->uri);
	}
	/* the params to echo: none is NULL; the same as before is shared */
	if (!err && c->addr.params.l) {
		err = registrar_params_keep(&c->addr.params, &nb->params);
		if (!err && !nb->params[0]) {
			nb->params = mem_deref(nb->params);
		} else if (!err && old && old->params &&
			   !strcmp(old->params, nb->params)) {
			mem_deref(nb->params);
			nb->params = mem_ref(old->params);
		}
	}
	if (!err && cd->instance.l) {
		nb->instance = strdup_pl(&cd->instance);
		if (!nb->instance)
			err = ENOMEM;
	}
	/* the Call-ID, once per request: a refresh from the same UA keeps
	 * its Call-ID (RFC 3261 10.2.4), whose string is then shared */
	if (!err && !rv->callid) {
		if (old && pl_eq_str(&rv->cid, old->callid))
			rv->callid = mem_ref(old->callid);
		else if (!(rv->callid = strdup_pl(&rv->cid)))
			err = ENOMEM;
	}
	if (err) {
		mem_deref(nb);
		return err;
	}
	nb->callid = mem_ref(rv->callid);
	nb->path = mem_ref(rv->path);
	nb->ua = mem_ref(rv->ua);
	nb->cseq = rv->cseq;
	nb->q = c->q;
	nb->reg_id = cd->reg_id;
	nb->tp = x->req->tp;
	nb->src = x->req->src;
	nb->dst = x->req->dst;
	nb->conn = mem_ref(x->req->conn);
	nb->exp_ms = rv->now + (uint64_t)exp * 1000;
	nb->exp_wall = rv->wall + (int64_t)exp * 1000;
	*nbp = nb;
	return 0;
}


/* Steps 1 and 5: the AOR from To, in a domain we serve (RFC 3261 10.3 step
 * 1 names the Request-URI; the To domain is used because UAs often put
 * an address in the Request-URI.  A stateful proxy in front would forward
 * other domains; a stand-alone registrar answers 404 naming it). */
static void step_target(struct regctx *x)
{
	size_t host = 0;
	int err;

	if (sip_msg_to(x->req, &x->to)) {
		set_status(x->rp, 400, "Bad Request (malformed To)");
		return;
	}
	err = aor_write(&x->to->uri, x->aor, sizeof(x->aor), &x->aorlen, &host);
	if (err == EPROTO) {
		/* RFC 4475 3.3.4: a policy refusal, not a parse error */
		set_reasonf(x->rp, 404,
			    "Not Found (%.*s: addresses are not registered "
			    "here)",
			    EXCERPT(&x->to->uri.scheme));
		return;
	}
	if (err) {
		set_status(x->rp, 400, "Bad Request (unusable To URI)");
		return;
	}
	/* the host as the AOR has it: lowercase */
	x->domain = domain_served(x->reg, x->aor + host, x->to->uri.host.l);
	x->aorhash = aor_hash(x->aor, x->aorlen);
	if (!x->domain)
		set_reasonf(x->rp, 404,
			    "Not Found (domain %.*s is not served here)",
			    EXCERPT(&x->to->uri.host));
}


/* Step 2: Require (RFC 3261 8.2.2.3); "path" is supported. */
static int step_require(struct regctx *x)
{
	struct sip_hdr_iter it = { 0 };
	bool unsupported = false;
	struct pl v;
	int err;

	if (!sip_msg_hdr(x->req, SIP_HDR_REQUIRE))
		return 0;
	while (sip_msg_hdr_value_next(x->req, SIP_HDR_REQUIRE, &it, &v)) {
		if (pl_eq_str_ci(&v, "path"))
			continue;
		err = buf_printf(x->rp->hdrs, "Unsupported: %.*s\r\n",
				 EXCERPT(&v));
		if (err)
			return err;
		unsupported = true;
	}
	if (unsupported)
		set_status(x->rp, 420, "Bad Extension");
	return 0;
}


/* Steps 3 and 4: authentication (RFC 3261 22) and authorisation. */
static int step_auth(struct regctx *x)
{
	const char *realm = x->reg->realm ? x->reg->realm : x->domain;
	struct auth_result ar;
	int err;

	if (!x->reg->conf.auth)
		return 0;
	err = auth_check(x->reg->conf.auth, x->req, realm, AUTH_MODE_UAS, &ar);
	if (err)
		return err;
	if (ar.verdict != AUTH_OK) {
		set_status(x->rp, ar.scode, ar.reason);
		/* RFC 3261 8.2.7: a challenge (no credentials for us, or a
		 * stale nonce) and the refusal of a blocked source change
		 * nothing and rest on no state: they may be sent without a
		 * server transaction, so an unauthenticated flood costs no
		 * memory and no Timer J.  A retransmission gets a fresh
		 * challenge, which answers it as well (the nonces are
		 * stateless).  A wrong digest stays stateful: its
		 * retransmissions must not count as more failures. */
		x->rp->stateless = ar.verdict == AUTH_CHALLENGE ||
				   ar.verdict == AUTH_STALE ||
				   ar.verdict == AUTH_THROTTLED;
		return buf_write_str(x->rp->hdrs, ar.hdrs);
	}
	if (!user_owns_aor(&ar.username, &x->to->uri))
		set_reasonf(x->rp, 403,
			    "Forbidden (%.*s may not register %.96s)",
			    EXCERPT(&ar.username), x->aor);
	return 0;
}


/* Call-ID, CSeq, Expires and the Contact values. */
static int step_values(struct regctx *x)
{
	struct sip_hdr_iter it = { 0 };
	const struct sip_cseq *cseq;
	struct pl v, callid;
	int err;

	if (sip_msg_callid(x->req, &callid) || !callid.l || callid.l > 256) {
		set_status(x->rp, 400,
			   "Bad Request (missing or overlong Call-ID)");
		return 0;
	}
	if (sip_msg_cseq(x->req, &cseq)) {
		set_status(x->rp, 400, "Bad Request (malformed CSeq)");
		return 0;
	}
	err = sip_msg_expires(x->req, &x->rv.hexp);
	if (err == EBADMSG) {
		set_status(x->rp, 400, "Bad Request (malformed Expires)");
		return 0;
	}
	x->rv.has_hexp = !err;
	x->rv.cseq = cseq->num;
	x->rv.now = tmr_jiffies();
	x->rv.wall = regstore_now();

	while (sip_msg_hdr_value_next(x->req, SIP_HDR_CONTACT, &it, &v)) {
		if (x->nc == REG_REQ_CONTACTS_MAX) {
			set_status(x->rp, 403,
				   "Forbidden (too many Contact values)");
			return 0;
		}
		if (sip_contact_decode_into(&x->cv[x->nc], &v)) {
			set_status(x->rp, 400,
				   "Bad Request (malformed Contact)");
			return 0;
		}
		if (x->cv[x->nc].addr.star)
			x->star = true;
		x->nc++;
	}
	x->rv.cid = callid;
	return 0;
}


/* Step 6: "Contact: *" with "Expires: 0" removes every binding. */
static void step_wildcard(struct regctx *x)
{
	struct reg_aor *a;
	struct le *le;

	if (x->nc > 1 || !x->rv.has_hexp || x->rv.hexp != 0) {
		set_status(x->rp, 400,
			   "Bad Request (Contact: * needs Expires: 0 and no "
			   "other Contact)");
		return;
	}
	a = aor_find_h(x->reg, x->aor, x->aorlen, x->aorhash);
	if (a) {
		LIST_FOREACH (&a->bindings, le) {
			const struct reg_binding *b = le->data;
			if (pl_eq_str(&x->rv.cid, b->callid) &&
			    x->rv.cseq <= b->cseq) {
				set_status(
					x->rp, 500,
					"Server Internal Error (out-of-order "
					"REGISTER: CSeq not above the "
					"binding's)");
				return;
			}
		}
		while (a) {
			struct reg_binding *b = list_head_data(&a->bindings);
			bool last = a->bindings.n == 1;

			binding_remove(x->reg, b); /* the last frees the AOR */
			x->changed = true;
			if (last)
				a = NULL;
		}
	}
	set_status(x->rp, 200, "OK");
}


/* Can this Contact be bound at all (before looking at bindings)? */
static bool contact_usable(struct regctx *x, const struct sip_contact *c)
{
	const struct sip_uri *u = &c->addr.uri;

	/* RFC 3261 20 / RFC 4475 3.1.2.13: a URI with headers outside <>
	 * is ambiguous */
	if (!c->addr.angle && (u->headers.l || pl_chr(&c->addr.auri, '?'))) {
		set_status(x->rp, 400,
			   "Bad Request (Contact URI with headers must be "
			   "enclosed in <>)");
		return false;
	}
	if (u->sch != SIP_SCHEME_SIP && u->sch != SIP_SCHEME_SIPS) {
		/* RFC 4475 3.3.4: well-formed, but nothing a SIP proxy can
		 * reach: refused by policy */
		set_reasonf(x->rp, 403,
			    "Forbidden (Contact URI scheme %.*s not supported)",
			    EXCERPT(&u->scheme));
		return false;
	}
	if (c->addr.auri.l > REG_URI_MAX) {
		set_status(x->rp, 400, "Bad Request (Contact URI too long)");
		return false;
	}
	return true;
}


/* RFC 3261 10.2.1.1 / 10.3 step 7: the Contact's expires param, else the
 * Expires header, else the default; 423 below the minimum, shortened
 * above the maximum.  Returns false when answered. */
static bool contact_expires(struct regctx *x, const struct sip_contact *c,
			    uint32_t *expp)
{
	const struct registrar_conf *conf = &x->reg->conf;
	uint32_t exp = c->has_expires   ? c->expires
		       : x->rv.has_hexp ? x->rv.hexp
					: conf->default_expires;

	if (exp && exp < conf->min_expires) {
		set_status(x->rp, 423, "Interval Too Brief");
		return false;
	}
	*expp = exp > conf->max_expires ? conf->max_expires : exp;
	return true;
}


/* Values every new binding of this request shares (taken once). */
static int shared_values(struct regctx *x)
{
	const struct sip_hdr *h;
	int err;

	if (x->rv.path || x->rv.ua)
		return 0;
	err = path_collect(x->req, &x->rv.path);
	if (err == ENOSPC) {
		set_status(x->rp, 400, "Bad Request (Path too long)");
		return 0;
	}
	if (err)
		return err;
	h = sip_msg_hdr(x->req, SIP_HDR_USER_AGENT);
	if (h) {
		struct pl ua = h->val;
		if (ua.l > REG_UA_MAX)
			ua.l = REG_UA_MAX;
		x->rv.ua = strdup_pl(&ua);
		if (!x->rv.ua)
			return ENOMEM;
	}
	return 0;
}


/* Step 7, first phase, for one Contact: find its binding, apply the
 * Call-ID/CSeq rule, prepare the new values. */
static int plan_contact(struct regctx *x, const struct sip_contact *c)
{
	struct cplan *p = &x->plan[x->np];
	uint32_t exp = 0;
	struct pl rid;
	size_t j;
	int err;

	if (!contact_usable(x, c) || !contact_expires(x, c, &exp))
		return 0;

	memset(p, 0, sizeof(*p));
	p->cand.uri = &c->addr.uri;
	/* RFC 5626 instance and reg-id (looked for only when the Contact
	 * has parameters: most have none) */
	if (c->addr.params.l) {
		if (sip_param_get(&c->addr.params, "+sip.instance",
				  &p->cand.instance))
			p->cand.instance.l = 0;
		if (!sip_param_get(&c->addr.params, "reg-id", &rid) &&
		    (pl_u32(&rid, &p->cand.reg_id) || !p->cand.reg_id)) {
			/* RFC 5626 4.2: reg-id is a positive integer */
			set_status(x->rp, 400,
				   "Bad Request (malformed reg-id)");
			return 0;
		}
	}
	if (p->cand.instance.l > 256) {
		set_status(x->rp, 400, "Bad Request (+sip.instance too long)");
		return 0;
	}
	p->old = binding_match(x->a, &p->cand);
	if (p->old && pl_eq_str(&x->rv.cid, p->old->callid) &&
	    x->rv.cseq <= p->old->cseq) {
		/* step 7: same Call-ID and a CSeq not higher: "the update
		 * MUST be aborted and the request fails" */
		set_status(x->rp, 500,
			   "Server Internal Error (out-of-order REGISTER: "
			   "CSeq not above the binding's)");
		return 0;
	}

	if (exp) {
		err = shared_values(x);
		if (err || x->rp->scode)
			return err;
		err = prepare_binding(x, c, &p->cand, exp, p->old, &p->nb);
		if (err == ENOSPC || err == EBADMSG) {
			set_status(x->rp, 400,
				   err == ENOSPC
					   ? "Bad Request (Contact parameters "
					     "too long)"
					   : "Bad Request (malformed Contact "
					     "URI)");
			return 0;
		}
		if (err)
			return err;
	}
	p->remove = !p->nb;

	/* the same binding twice in one request: the later one wins */
	for (j = 0; j < x->np; j++) {
		struct cplan *q = &x->plan[j];
		bool same = p->old ? q->old == p->old
				   : (!q->old && q->nb &&
				      binding_is(q->nb, &p->cand));
		if (same) {
			mem_deref(q->nb);
			*q = *p;
			p->nb = NULL; /* moved */
			return 0;
		}
	}
	x->np++;
	return 0;
}


/* The limits on bindings (a memory ceiling per AOR and in all). */
static int check_limits(struct regctx *x)
{
	const struct registrar_conf *conf = &x->reg->conf;
	const struct reg_aor *a = x->a;
	size_t i, nnew = 0, ngone = 0, have = a ? a->bindings.n : 0;

	for (i = 0; i < x->np; i++) {
		if (!x->plan[i].old && x->plan[i].nb)
			nnew++;
		if (x->plan[i].old && x->plan[i].remove)
			ngone++;
	}
	if (nnew <= ngone)
		return 0;
	if (have + nnew - ngone > conf->max_contacts) {
		set_reasonf(x->rp, 403,
			    "Forbidden (more than %u bindings for this "
			    "address-of-record)",
			    conf->max_contacts);
		return 0;
	}
	if (x->reg->nbindings + nnew - ngone > conf->max_bindings) {
		set_status(x->rp, 503, "Service Unavailable (registrar full)");
		return buf_write_str(x->rp->hdrs, "Retry-After: 60\r\n");
	}
	return 0;
}


/* Step 7, second phase: apply.  Nothing here can fail; additions and
 * updates go before removals, so that the AOR stays while needed. */
static int apply_plan(struct regctx *x)
{
	struct reg_aor *a = NULL;
	size_t i;
	int err;

	for (i = 0; i < x->np; i++) {
		if (!x->plan[i].old && x->plan[i].nb) {
			err = aor_get_h(x->reg, x->aor, x->aorlen, x->aorhash,
					&a);
			if (err)
				return err; /* nothing applied yet */
			break;
		}
	}
	for (i = 0; i < x->np; i++) {
		struct cplan *p = &x->plan[i];

		if (p->old && p->nb) {
			binding_update(x->reg, p->old, p->nb);
			p->nb = mem_deref(p->nb);
			x->changed = true;
		} else if (p->nb) {
			p->nb->id = x->reg->next_id++;
			binding_link(a, p->nb);
			x->reg->nbindings++;
			binding_timer(p->nb);
			mark_dirty(x->reg, p->nb);
			p->nb = NULL; /* the AOR's reference now */
			x->changed = true;
		}
	}
	for (i = 0; i < x->np; i++) {
		if (x->plan[i].old && x->plan[i].remove) {
			binding_remove(x->reg, x->plan[i].old);
			x->changed = true;
		}
	}
	return 0;
}


/* Room for n more octets at mb->pos (one check, one growth at most), or
 * ENOMEM. */
static int room(struct buf *mb, size_t n)
{
	return buf_reserve(mb, n) ? ENOMEM : 0;
}


/* RFC 3261 10.3 step 8: the current bindings, each with its expires,
 * written through a cursor into room made once per line (printf, or a
 * write per piece, cost more than the rest of the 200 OK). */
static _Thread_local char date_line[64];
static _Thread_local size_t date_len;
static _Thread_local time_t date_t;

static int build_ok(struct regctx *x, const char *path)
{
	const struct reg_aor *a =
		aor_find_h(x->reg, x->aor, x->aorlen, x->aorhash);
	struct buf *mb = x->rp->hdrs;
	uint64_t now = x->rv.now; /* the request's time, as its bindings' */
	char date[64];
	struct tm tm;
	time_t t;
	int err = 0;

	if (a) {
		struct le *le;
		LIST_FOREACH (&a->bindings, le) {
			const struct reg_binding *b = le->data;
			size_t plen = b->params ? strlen(b->params) : 0;
			uint64_t left;
			char q[8], *w;

			if (b->exp_ms <= now)
				continue;
			left = (b->exp_ms - now + 999) / 1000;
			/* "Contact: <" uri ">" params ";expires=" n ";q=0.nnn"
			 * CRLF */
			if (room(mb, 10 + b->curi.text.l + 1 + plen + 9 + 10 +
					     8 + 2))
				return ENOMEM;
			w = (char *)mb->b + mb->pos;
			w = BUF_PUT_LIT(w, "Contact: <");
			w = buf_put(w, b->curi.text.p, b->curi.text.l);
			*w++ = '>';
			if (plen)
				w = buf_put(w, b->params, plen);
			w = BUF_PUT_LIT(w, ";expires=");
			w = buf_put_u32(w, (uint32_t)left);
			if (b->q != 1000) {
				fmt_q(b->q, q);
				w = BUF_PUT_LIT(w, ";q=");
				w = buf_put(w, q, strlen(q));
			}
			w = BUF_PUT_LIT(w, "\r\n");
			mb->pos = (size_t)((uint8_t *)w - mb->b);
			if (mb->pos > mb->end)
				mb->end = mb->pos;
		}
	}
	/* RFC 3327 5.3: the registrar copies Path into the 200 when the UA
	 * said it supports it */
	if (path && sip_msg_has_tag(x->req, SIP_HDR_SUPPORTED, "path")) {
		err = buf_printf(mb, "Path: %s\r\n", path);
		if (err)
			return err;
	}
	/* RFC 3261 10.3 step 8 / 20.17: Date, for UAs without a clock;
	 * formatted once a second */
	t = time(NULL);
	if (t != date_t) {
		date_len = 0;
		if (gmtime_r(&t, &tm))
			date_len = strftime(
				date, sizeof(date),
				"Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		if (date_len)
			memcpy(date_line, date, date_len);
		date_t = t;
	}
	if (date_len)
		err = buf_write(mb, date_line, date_len);
	return err;
}


static int process(struct regctx *x)
{
	size_t i;
	int err;

	step_target(x);
	if (x->rp->scode)
		return 0;
	err = step_require(x);
	if (!err && !x->rp->scode)
		err = step_auth(x);
	if (!err && !x->rp->scode)
		err = step_values(x);
	if (err || x->rp->scode)
		return err;

	if (x->star) {
		step_wildcard(x);
		if (x->rp->scode != 200)
			return 0;
		return build_ok(x, NULL);
	}

	/* nothing changes while planning: one lookup for all Contacts */
	x->a = aor_find_h(x->reg, x->aor, x->aorlen, x->aorhash);
	for (i = 0; i < x->nc; i++) {
		err = plan_contact(x, &x->cv[i]);
		if (err || x->rp->scode)
			break;
	}
	if (x->rp->scode == 423)
		err = buf_printf(x->rp->hdrs, "Min-Expires: %u\r\n",
				 x->reg->conf.min_expires);
	if (!err && !x->rp->scode)
		err = check_limits(x);
	if (err || x->rp->scode)
		return err;

	err = apply_plan(x);
	if (err)
		return err;
	set_status(x->rp, 200, "OK");
	err = build_ok(x, x->rv.path);
	if (err) {
		/* applied already: answer 200, without the listing */
		LOG_WARN(NULL, "200 for %s without its Contact list: %s",
			 x->aor, log_strerror(err));
		x->rp->hdrs->pos = x->rp->hdrs->end = 0;
		err = 0;
	}
	return err;
}


/* A registrar_handle() answer delivered after the commit. */
static void pending_done(int err, void *arg)
{
	struct reg_pending *p = arg;

	if (err)
		deliver(p->h, p->arg, 500, REG_FAIL_REASON, REG_FAIL_HDRS,
			sizeof(REG_FAIL_HDRS) - 1, false, false);
	else
		deliver(p->h, p->arg, p->scode, p->reason, p->hdrs, p->hdrs_len,
			false, false);
}


static int pending_add(struct registrar *reg, reg_reply_h *h, void *arg,
		       const struct reply *rp, const char *hdrs,
		       size_t hdrs_len)
{
	struct reg_pending *p = mem_alloc(sizeof(*p) + hdrs_len + 1, NULL);

	if (!p)
		return ENOMEM;
	memset(p, 0, sizeof(*p));
	p->h = h;
	p->arg = arg;
	p->scode = rp->scode;
	(void)snprintf(p->reason, sizeof(p->reason), "%s", rp->reason);
	p->hdrs_len = hdrs_len;
	memcpy(p->hdrs, hdrs, hdrs_len + 1);
	registrar_wait(reg, &p->wt, pending_done, p);
	mem_deref(p); /* the queue's reference now */
	return 0;
}


static int handle(struct registrar *reg, struct sip_msg *req,
		  reg_reply_h *replyh, void *arg, bool now)
{
	struct regctx *x;
	struct reply rp;
	const char *hdrs;
	size_t hdrs_len;
	int err;

	if (!reg || !req || !replyh || reg->closed || !req->req ||
	    req->meth != SIP_METHOD_REGISTER)
		return EINVAL;
	rp.scode = 0;
	rp.reason = "";
	rp.stateless = false;
	/* the answer's header lines and the per-request state (~10 KiB:
	 * off the stack) are the last request's when it left them (not
	 * when a callback of it started this one) */
	if (reg->hdrs_spare) {
		rp.hdrs = reg->hdrs_spare;
		reg->hdrs_spare = NULL;
		rp.hdrs->pos = rp.hdrs->end = 0;
	} else {
		err = buf_alloc(&rp.hdrs, 512, REG_REPLY_MAX);
		if (err)
			return err;
	}
	if (reg->x_spare) {
		x = reg->x_spare;
		reg->x_spare = NULL;
	} else {
		x = mem_alloc(sizeof(*x), NULL);
		if (!x) {
			mem_deref(rp.hdrs);
			return ENOMEM;
		}
	}
	/* clear only what is read before it is written: the AOR is written
	 * first, the Contact views cv[] are filled up to nc and the plans up
	 * to np (zeroing them all cost more than the rest of the request) */
	memset(x, 0, offsetof(struct regctx, aor));
	x->nc = 0;
	x->star = false;
	x->np = 0;
	x->a = NULL;
	x->changed = false;
	x->reg = reg;
	x->req = req;
	x->rp = &rp;

	err = process(x);
	if (!err)
		err = buf_write(rp.hdrs, "", 1); /* NUL-terminate */
	if (err && x->changed) {
		/* the bindings changed: an answer must follow */
		rp.hdrs->pos = rp.hdrs->end = 0;
		err = buf_write(rp.hdrs, "", 1);
	}
	if (err)
		goto out;
	hdrs = (const char *)rp.hdrs->b;
	hdrs_len = rp.hdrs->end - 1;

	/* a 200 waits for its bindings, and for whatever was changed before
	 * it, to be durable */
	if (reg->conf.store &&
	    (x->changed ||
	     (rp.scode == 200 && (reg->dirty.head || reg->pending.head)))) {
		if (now) {
			/* the caller builds it now and queues itself */
			deliver(replyh, arg, rp.scode, rp.reason, hdrs,
				hdrs_len, false, true);
			goto out;
		}
		err = pending_add(reg, replyh, arg, &rp, hdrs, hdrs_len);
		if (err && x->changed) {
			/* cannot queue: commit now and answer */
			err = registrar_flush(reg);
			if (err)
				deliver(replyh, arg, 500, REG_FAIL_REASON,
					REG_FAIL_HDRS,
					sizeof(REG_FAIL_HDRS) - 1, false,
					false);
			else
				deliver(replyh, arg, rp.scode, rp.reason, hdrs,
					hdrs_len, false, false);
			err = 0;
		}
		goto out;
	}
	deliver(replyh, arg, rp.scode, rp.reason, hdrs, hdrs_len, rp.stateless,
		false);
out:
	regctx_release(x);
	if (!reg->x_spare)
		reg->x_spare = x;
	else
		mem_deref(x);
	if (!reg->hdrs_spare)
		reg->hdrs_spare = rp.hdrs;
	else
		mem_deref(rp.hdrs);
	return err;
}


/**
 * Process a REGISTER (RFC 3261 10.3).
 *
 * @param req     the decoded request (method REGISTER)
 * @param replyh  receives the answer: now for answers that need no
 *                commit, else from the end-of-batch hook after COMMIT
 * @param arg     handed to replyh (e.g. the server transaction)
 * @return 0 when replyh has run or will run exactly once; EINVAL or
 *         ENOMEM when it will not (the caller answers 500)
 */
int registrar_handle(struct registrar *reg, struct sip_msg *req,
		     reg_reply_h *replyh, void *arg)
{
	return handle(reg, req, replyh, arg, false);
}


/**
 * Process a REGISTER (RFC 3261 10.3), the answer given before returning
 * also when it waits for the commit (rep->wait: the callback queues
 * itself with registrar_wait()).  A caller that builds the answer at once
 * needs neither the request after the call nor a copy of the answer's
 * lines in the registrar.
 *
 * @return 0 when replyh has run; EINVAL or ENOMEM when it has not (the
 *         caller answers 500)
 */
int registrar_handle_now(struct registrar *reg, struct sip_msg *req,
			 reg_reply_h *replyh, void *arg)
{
	return handle(reg, req, replyh, arg, true);
}


/* ---- lookup ---- */

int registrar_lookup(const struct registrar *reg, const struct pl *aor,
		     struct reg_contact *v, size_t max, size_t *np)
{
	const struct reg_aor *a;
	uint64_t now = tmr_jiffies();
	struct le *le;
	size_t n = 0;

	if (!reg || !aor || !np || (max && !v))
		return EINVAL;
	*np = 0;
	a = aor_find(reg, aor->p, aor->l);
	if (!a)
		return ENOENT;
	LIST_FOREACH (&a->bindings, le) {
		const struct reg_binding *b = le->data;
		struct reg_contact *c;

		if (b->exp_ms <= now)
			continue; /* its timer has not run yet */
		if (n < max) {
			c = &v[n];
			c->uri = b->uri;
			c->params = b->params ? b->params : "";
			c->path = b->path ? b->path : "";
			c->instance = b->instance ? b->instance : "";
			c->reg_id = b->reg_id;
			c->q = b->q;
			c->expires = (uint32_t)((b->exp_ms - now + 999) / 1000);
			c->tp = b->tp;
			c->src = b->src;
			c->dst = b->dst;
			c->conn = b->conn;
			c->user_agent = b->ua ? b->ua : "";
		}
		n++;
	}
	*np = n;
	return n ? 0 : ENOENT;
}


int registrar_lookup_uri(const struct registrar *reg, const struct sip_uri *uri,
			 struct reg_contact *v, size_t max, size_t *np)
{
	char aor[REG_AOR_MAX];
	struct pl pl;
	size_t len = 0;
	int err;

	if (!np)
		return EINVAL;
	*np = 0;
	err = registrar_aor(uri, aor, sizeof(aor), &len);
	if (err)
		return err;
	pl_set(&pl, aor, len);
	return registrar_lookup(reg, &pl, v, max, np);
}


size_t registrar_count(const struct registrar *reg)
{
	return reg ? reg->nbindings : 0;
}


/**
 * Create a registrar.
 *
 * @param conf  domains, limits, optional auth and store (the registrar
 *              holds references to both)
 * @return 0, EINVAL (no domain, bad limits), ENOMEM, or a store error
 */
int registrar_alloc(struct registrar **regp, const struct registrar_conf *conf)
{
	struct registrar *reg;
	size_t i, n = 0;
	int err = 0;

	if (!regp || !conf || !conf->domains || !conf->domains[0])
		return EINVAL;
	while (conf->domains[n])
		n++;

	reg = mem_zalloc(sizeof(*reg), destructor);
	if (!reg)
		return ENOMEM;
	reg->conf = *conf;
	reg->conf.domains = NULL;
	/* what we keep, we keep a reference to */
	mem_ref(reg->conf.auth);
	mem_ref(reg->conf.store);
	if (!reg->conf.min_expires)
		reg->conf.min_expires = 60;
	if (!reg->conf.max_expires)
		reg->conf.max_expires = 3600;
	if (!reg->conf.default_expires)
		reg->conf.default_expires = 3600;
	if (!reg->conf.max_contacts)
		reg->conf.max_contacts = 16;
	if (!reg->conf.max_bindings)
		reg->conf.max_bindings = 100000;
	if (reg->conf.max_expires < reg->conf.min_expires) {
		err = EINVAL;
		goto out;
	}
	if (reg->conf.default_expires > reg->conf.max_expires)
		reg->conf.default_expires = reg->conf.max_expires;
	if (reg->conf.default_expires < reg->conf.min_expires)
		reg->conf.default_expires = reg->conf.min_expires;
	/* the realm goes into a challenge: checked there, and here early */
	if (conf->realm) {
		if (!*conf->realm || strlen(conf->realm) > AUTH_REALM_MAX) {
			err = EINVAL;
			goto out;
		}
		reg->realm = mem_strdup(conf->realm, strlen(conf->realm));
		if (!reg->realm) {
			err = ENOMEM;
			goto out;
		}
	}
	reg->conf.realm = NULL;

	list_init(&reg->dirty);
	list_init(&reg->pending);
	list_init(&reg->ready);
	tmr_init(&reg->commit_tmr);
	reg->next_id = 1;

	reg->domains = mem_zalloc(n * sizeof(*reg->domains), NULL);
	reg->dlen = mem_zalloc(n * sizeof(*reg->dlen), NULL);
	if (!reg->domains || !reg->dlen) {
		err = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t j, l = strlen(conf->domains[i]);
		if (!l || l > AUTH_REALM_MAX) {
			err = EINVAL;
			goto out;
		}
		reg->domains[i] = mem_strdup(conf->domains[i], l);
		if (!reg->domains[i]) {
			err = ENOMEM;
			goto out;
		}
		reg->dlen[i] = l;
		reg->ndomains = i + 1;
		for (j = 0; j < l; j++)
			reg->domains[i][j] = lower(reg->domains[i][j]);
	}

	err = hash_alloc(&reg->aors, 1024);
	if (err)
		goto out;

	if (reg->conf.store) {
		err = reload(reg);
		if (err)
			goto out;
		/* group commit: once per loop batch */
		loop_hook_add(&reg->hook, commit_hook, reg);
	}
out:
	if (err)
		mem_deref(reg);
	else
		*regp = reg;
	return err;
}
