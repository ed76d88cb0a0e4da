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

struct registrar {
	struct registrar_conf conf;
	char **domains; /* lowercase copies */
	char *realm;    /* copy of conf.realm, or NULL */
	size_t ndomains;
	struct hash *aors; /* struct reg_aor, counted */
	size_t nbindings;
	uint64_t next_id;
	struct list dirty;   /* struct reg_binding, counted */
	struct list pending; /* struct reg_pending, counted */
	struct loop_hook hook;
	bool closed;
};

struct reg_aor {
	struct le he;
	char *aor;
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

struct reg_pending {
	struct le le;
	reg_reply_h *h;
	void *arg;
	uint16_t scode;
	char reason[REG_REASON_MAX];
	char *hdrs;
};

/* The answer being put together for one request. */
struct reply {
	uint16_t scode;
	char reason[REG_REASON_MAX];
	struct buf *hdrs;
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
	mem_deref(a->aor);
}


static void pending_destructor(void *arg)
{
	struct reg_pending *p = arg;

	mem_deref(p->hdrs);
}


static void release(struct registrar *reg)
{
	struct le *le;

	loop_hook_remove(&reg->hook);
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
	list_flush(&reg->pending); /* callbacks are the caller's: not run */
	if (reg->aors)
		hash_flush(reg->aors);
	mem_deref(reg->aors);
	for (i = 0; i < reg->ndomains; i++)
		mem_deref(reg->domains[i]);
	mem_deref(reg->domains);
	mem_deref(reg->realm);
	mem_deref(reg->conf.auth);
	mem_deref(reg->conf.store);
}


/* ---- canonical AOR ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}


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
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
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
int registrar_aor(const struct sip_uri *uri, char *buf, size_t size,
		  size_t *lenp)
{
	size_t n = 0, i;
	int k;

	if (!uri || !buf || !size)
		return EINVAL;
	if (uri->sch != SIP_SCHEME_SIP && uri->sch != SIP_SCHEME_SIPS)
		return EPROTO;
	if (!uri->host.l)
		return EBADMSG;

#define PUT(c)                         \
	do {                           \
		if (n + 1 >= size)     \
			return ENOSPC; \
		buf[n++] = (char)(c);  \
	} while (0)

	k = snprintf(buf, size,
		     "%s:", uri->sch == SIP_SCHEME_SIPS ? "sips" : "sip");
	if (k < 0 || (size_t)k >= size)
		return ENOSPC;
	n = (size_t)k;
	if (uri->user.l) {
		const char *p = uri->user.p;
		for (i = 0; i < uri->user.l; i++) {
			int h, l;
			unsigned char c;

			if (p[i] != '%') {
				PUT(p[i]);
				continue;
			}
			if (i + 2 >= uri->user.l ||
			    (h = hexval(p[i + 1])) < 0 ||
			    (l = hexval(p[i + 2])) < 0)
				return EBADMSG;
			c = (unsigned char)(h << 4 | l);
			if (is_unreserved(c)) {
				PUT(c);
			} else {
				PUT('%');
				PUT("0123456789ABCDEF"[c >> 4]);
				PUT("0123456789ABCDEF"[c & 15]);
			}
			i += 2;
		}
		PUT('@');
	}
	for (i = 0; i < uri->host.l; i++)
		PUT(lower(uri->host.p[i]));
	if (uri->port_pl.l) {
		PUT(':');
		for (i = 0; i < uri->port_pl.l; i++)
			PUT(uri->port_pl.p[i]);
	}
#undef PUT
	buf[n] = '\0';
	if (lenp)
		*lenp = n;
	return 0;
}


/* ---- allocation and the store ---- */

static char *strdup_pl(const struct pl *pl)
{
	return mem_strdup(pl->p ? pl->p : "", pl->p ? pl->l : 0);
}


static struct reg_aor *aor_find(const struct registrar *reg, const char *aor,
				size_t len)
{
	struct le *le;

	LIST_FOREACH (hash_list(reg->aors, hash_fast(aor, len)), le) {
		struct reg_aor *a = le->data;
		if (a->aor_len == len && !memcmp(a->aor, aor, len))
			return a;
	}
	return NULL;
}


static int aor_get(struct registrar *reg, const char *aor, size_t len,
		   struct reg_aor **ap)
{
	struct reg_aor *a = aor_find(reg, aor, len);

	if (!a) {
		a = mem_zalloc(sizeof(*a), aor_destructor);
		if (!a)
			return ENOMEM;
		a->aor = mem_strdup(aor, len);
		if (!a->aor) {
			mem_deref(a);
			return ENOMEM;
		}
		a->aor_len = len;
		list_init(&a->bindings);
		hash_append(reg->aors, hash_fast(aor, len), &a->he, a);
	}
	*ap = a;
	return 0;
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


static void binding_expired(void *arg)
{
	struct reg_binding *b = arg;
	struct registrar *reg = b->reg;

	LOG_DEBUG(NULL, "binding %s of %s expired", b->uri,
		  b->aor ? b->aor->aor : "?");
	binding_remove(reg, b);
}


static void binding_timer(struct reg_binding *b)
{
	uint64_t now = tmr_jiffies();

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


static void row_of(const struct reg_binding *b, struct regstore_row *row,
		   char *src, char *dst)
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
	src[0] = dst[0] = '\0';
	if (sa_isset(&b->src) && sa_fmt(&b->src, src, SA_STRLEN) > 0)
		row->src = src;
	if (sa_isset(&b->dst) && sa_fmt(&b->dst, dst, SA_STRLEN) > 0)
		row->dst = dst;
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

static void deliver(reg_reply_h *h, void *arg, int err, uint16_t scode,
		    const char *reason, const char *hdrs)
{
	struct reg_reply rep;

	rep.err = err;
	rep.scode = scode;
	rep.reason = reason;
	rep.hdrs = hdrs ? hdrs : "";
	h(&rep, arg);
}


static int store_commit(struct registrar *reg)
{
	struct regstore *rs = reg->conf.store;
	char src[SA_STRLEN], dst[SA_STRLEN];
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
			row_of(b, &row, src, dst);
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


/**
 * Commit the changes of this batch in one transaction, then deliver the
 * answers that waited for it.  On a failed commit the bindings in memory
 * are reloaded from the store (dropping this batch's tentative changes)
 * and the waiting requests are answered 500 (RFC 3261 10.3 step 7).
 *
 * @return 0, or the store's error
 */
int registrar_flush(struct registrar *reg)
{
	struct list ready;
	struct le *le;
	int err = 0;

	if (!reg)
		return EINVAL;
	if (reg->dirty.head && reg->conf.store) {
		size_t n = reg->dirty.n;

		err = store_commit(reg);
		if (err) {
			int e2;

			LOG_ERR(NULL,
				"storing %zu binding changes failed (%s): "
				"back to the stored state",
				n, strerror(err));
			e2 = reload(reg);
			if (e2)
				LOG_ERR(NULL, "reloading bindings failed: %s",
					strerror(e2));
		}
	}

	/* detach first: a callback may handle the next request, whose
	 * answer belongs to the next commit */
	ready = reg->pending;
	for (le = ready.head; le; le = le->next)
		le->list = &ready;
	list_init(&reg->pending);

	while ((le = ready.head)) {
		struct reg_pending *p = le->data;

		list_unlink(le);
		if (err)
			deliver(p->h, p->arg, 0, 500,
				"Server Internal Error (bindings not stored)",
				"Retry-After: 5\r\n");
		else
			deliver(p->h, p->arg, 0, p->scode, p->reason, p->hdrs);
		mem_deref(p);
	}
	return err;
}


static void commit_hook(void *arg)
{
	struct registrar *reg = arg;

	int err;

	if (!reg->dirty.head && !reg->pending.head)
		return;
	err = registrar_flush(reg); /* logged there; retried next batch */
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

static void set_status(struct reply *rp, uint16_t scode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct reply *rp, uint16_t scode, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	rp->scode = scode;
	va_start(ap, fmt);
	(void)vsnprintf(rp->reason, sizeof(rp->reason), fmt, ap);
	va_end(ap);
	/* a reason phrase is one line of text (RFC 3261 25.1) */
	for (i = 0; rp->reason[i]; i++)
		if ((unsigned char)rp->reason[i] < 0x20)
			rp->reason[i] = ' ';
}


/* Printable excerpt of a pl for a reason phrase. */
#define EXCERPT(pl) (int)((pl)->l > 64 ? 64 : (pl)->l), (pl)->p

static const char *domain_served(const struct registrar *reg,
				 const struct pl *host)
{
	size_t i;

	for (i = 0; i < reg->ndomains; i++)
		if (pl_eq_str_ci(host, reg->domains[i]))
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


/* Contact params kept with the binding and echoed: all but expires and q,
 * which the registrar writes itself (RFC 3261 10.3 step 8). */
static int params_keep(const struct pl *params, char **out)
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


/* Path values (RFC 3327), comma-joined; NULL when there are none. */
static int path_collect(struct sip_msg *req, char **out)
{
	struct sip_hdr_iter it = { 0 };
	char buf[REG_PATH_MAX + 1];
	struct pl v;
	size_t n = 0;

	*out = NULL;
	while (sip_msg_hdr_value_next(req, SIP_HDR_PATH, &it, &v)) {
		int k = snprintf(buf + n, sizeof(buf) - n, "%s%.*s",
				 n ? ", " : "", PL_FMT(&v));
		if (k < 0 || (size_t)k >= sizeof(buf) - n)
			return ENOSPC;
		n += (size_t)k;
	}
	if (!n)
		return 0;
	*out = mem_strdup(buf, n);
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


static void fmt_q(uint16_t q, char *out, size_t size)
{
	char frac[4];
	int i;

	if (q >= 1000) {
		snprintf(out, size, "1");
		return;
	}
	snprintf(frac, sizeof(frac), "%03u", q);
	for (i = 2; i > 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	if (q == 0)
		snprintf(out, size, "0");
	else
		snprintf(out, size, "0.%s", frac);
}


/* RFC 3261 10.3 step 8: the current bindings, each with its expires. */
static int build_ok(const struct registrar *reg, struct sip_msg *req,
		    const char *aor, size_t aorlen, const char *path,
		    struct buf *mb)
{
	const struct reg_aor *a = aor_find(reg, aor, aorlen);
	uint64_t now = tmr_jiffies();
	char date[64];
	struct tm tm;
	time_t t;
	int err = 0;

	if (a) {
		struct le *le;
		LIST_FOREACH (&a->bindings, le) {
			const struct reg_binding *b = le->data;
			uint64_t left;
			char q[8];

			if (b->exp_ms <= now)
				continue;
			left = (b->exp_ms - now + 999) / 1000;
			err = buf_printf(mb, "Contact: <%s>%s;expires=%u",
					 b->uri, b->params ? b->params : "",
					 (unsigned)left);
			if (!err && b->q != 1000) {
				fmt_q(b->q, q, sizeof(q));
				err = buf_printf(mb, ";q=%s", q);
			}
			if (!err)
				err = buf_write_str(mb, "\r\n");
			if (err)
				return err;
		}
	}
	/* RFC 3327 5.3: the registrar copies Path into the 200 when the UA
	 * said it supports it */
	if (path && sip_msg_has_tag(req, SIP_HDR_SUPPORTED, "path")) {
		err = buf_printf(mb, "Path: %s\r\n", path);
		if (err)
			return err;
	}
	/* RFC 3261 10.3 step 8 / 20.17: Date, for UAs without a clock */
	t = time(NULL);
	if (gmtime_r(&t, &tm) &&
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		err = buf_printf(mb, "Date: %s\r\n", date);
	return err;
}


struct cplan {
	struct reg_binding *old; /* matched binding, or NULL */
	struct reg_binding *nb;  /* new values (NULL: remove) */
	struct cand cand;
	bool remove; /* expires 0: remove the matched binding */
};


static void plan_release(struct cplan *plan, size_t np)
{
	size_t i;

	for (i = 0; i < np; i++)
		plan[i].nb = mem_deref(plan[i].nb);
}


/* Everything shared by the bindings of one request. */
struct reqvals {
	char *callid;
	char *path;
	char *ua;
	uint32_t cseq;
	uint32_t hexp;
	bool has_hexp;
	uint64_t now;
	int64_t wall;
};


static void reqvals_release(struct reqvals *rv)
{
	rv->callid = mem_deref(rv->callid);
	rv->path = mem_deref(rv->path);
	rv->ua = mem_deref(rv->ua);
}


static int prepare_binding(struct registrar *reg, struct sip_msg *req,
			   const struct sip_contact *c, const struct cand *cd,
			   uint32_t exp, const struct reqvals *rv,
			   struct reg_binding **nbp)
{
	struct reg_binding *nb = binding_new(reg);
	int err;

	if (!nb)
		return ENOMEM;
	err = binding_set_uri(nb, c->addr.auri.p, c->addr.auri.l);
	if (!err)
		err = params_keep(&c->addr.params, &nb->params);
	if (!err && cd->instance.l) {
		nb->instance = strdup_pl(&cd->instance);
		if (!nb->instance)
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
	nb->tp = req->tp;
	nb->src = req->src;
	nb->dst = req->dst;
	nb->conn = mem_ref(req->conn);
	nb->exp_ms = rv->now + (uint64_t)exp * 1000;
	nb->exp_wall = rv->wall + (int64_t)exp * 1000;
	*nbp = nb;
	return 0;
}


/* RFC 3261 10.3 step 6: "Contact: *" with "Expires: 0" removes all. */
static int do_wildcard(struct registrar *reg, const struct reqvals *rv,
		       const char *aor, size_t aorlen, struct reply *rp,
		       bool *changed)
{
	struct reg_aor *a = aor_find(reg, aor, aorlen);
	struct le *le;

	if (!a)
		goto ok;
	LIST_FOREACH (&a->bindings, le) {
		const struct reg_binding *b = le->data;
		if (!strcmp(b->callid, rv->callid) && rv->cseq <= b->cseq) {
			set_status(rp, 500,
				   "Server Internal Error (out-of-order "
				   "REGISTER: CSeq not above the binding's)");
			return 0;
		}
	}
	while ((le = a->bindings.head)) {
		struct reg_binding *b = le->data;
		bool last = a->bindings.n == 1;

		binding_remove(reg, b); /* the last one frees the AOR */
		*changed = true;
		if (last)
			break;
	}
ok:
	set_status(rp, 200, "OK");
	return 0;
}


static int process(struct registrar *reg, struct sip_msg *req, struct reply *rp,
		   bool *changed)
{
	struct sip_contact cv[REG_REQ_CONTACTS_MAX];
	struct cplan plan[REG_REQ_CONTACTS_MAX];
	struct reqvals rv;
	const struct sip_addr *to;
	const struct sip_cseq *cseq;
	struct sip_hdr_iter it = { 0 };
	struct reg_aor *a;
	char aor[REG_AOR_MAX];
	const char *domain;
	size_t aorlen = 0, nc = 0, np = 0, i, nnew = 0, ngone = 0;
	struct pl v, callid;
	bool star = false, unsupported = false;
	int err;

	memset(&rv, 0, sizeof(rv));
	memset(plan, 0, sizeof(plan));

	/* step 1: the domain must be ours (RFC 3261 10.3; on the To
	 * domain, the AOR's, since UAs often put an address in the
	 * Request-URI).  A stateful proxy in front would forward the
	 * others; a stand-alone registrar answers 404 naming it. */
	err = sip_msg_to(req, &to);
	if (err) {
		set_status(rp, 400, "Bad Request (malformed To)");
		return 0;
	}
	err = registrar_aor(&to->uri, aor, sizeof(aor), &aorlen);
	if (err == EPROTO) {
		/* RFC 4475 3.3.4: a policy refusal, not a parse error */
		set_status(rp, 404,
			   "Not Found (%.*s: addresses are not registered "
			   "here)",
			   EXCERPT(&to->uri.scheme));
		return 0;
	}
	if (err) {
		set_status(rp, 400, "Bad Request (unusable To URI)");
		return 0;
	}
	domain = domain_served(reg, &to->uri.host);
	if (!domain) {
		set_status(rp, 404,
			   "Not Found (domain %.*s is not served here)",
			   EXCERPT(&to->uri.host));
		return 0;
	}

	/* step 2: Require (RFC 3261 8.2.2.3): we support "path" */
	while (sip_msg_hdr_value_next(req, SIP_HDR_REQUIRE, &it, &v)) {
		if (pl_eq_str_ci(&v, "path"))
			continue;
		err = buf_printf(rp->hdrs, "Unsupported: %.*s\r\n",
				 EXCERPT(&v));
		if (err)
			return err;
		unsupported = true;
	}
	if (unsupported) {
		set_status(rp, 420, "Bad Extension");
		return 0;
	}

	/* step 3: authentication (RFC 3261 22), step 4: authorisation */
	if (reg->conf.auth) {
		struct auth_result ar;
		const char *realm = reg->realm ? reg->realm : domain;

		err = auth_check(reg->conf.auth, req, realm, AUTH_MODE_UAS,
				 &ar);
		if (err)
			return err;
		if (ar.verdict != AUTH_OK) {
			set_status(rp, ar.scode, "%s", ar.reason);
			return buf_write_str(rp->hdrs, ar.hdrs);
		}
		if (!user_owns_aor(&ar.username, &to->uri)) {
			set_status(rp, 403,
				   "Forbidden (%.*s may not register %s)",
				   EXCERPT(&ar.username), aor);
			return 0;
		}
	}

	/* step 5 done above (aor).  Request-wide values. */
	if (sip_msg_callid(req, &callid) || !callid.l || callid.l > 256) {
		set_status(rp, 400,
			   "Bad Request (missing or overlong Call-ID)");
		return 0;
	}
	if (sip_msg_cseq(req, &cseq)) {
		set_status(rp, 400, "Bad Request (malformed CSeq)");
		return 0;
	}
	err = sip_msg_expires(req, &rv.hexp);
	if (err == EBADMSG) {
		set_status(rp, 400, "Bad Request (malformed Expires)");
		return 0;
	}
	rv.has_hexp = !err;
	err = 0;
	rv.cseq = cseq->num;
	rv.now = tmr_jiffies();
	rv.wall = regstore_now();

	memset(&it, 0, sizeof(it));
	while (sip_msg_hdr_value_next(req, SIP_HDR_CONTACT, &it, &v)) {
		if (nc == REG_REQ_CONTACTS_MAX) {
			set_status(rp, 403, "Forbidden (too many Contacts)");
			return 0;
		}
		if (sip_contact_decode(&cv[nc], &v)) {
			set_status(rp, 400, "Bad Request (malformed Contact)");
			return 0;
		}
		if (cv[nc].addr.star)
			star = true;
		nc++;
	}

	rv.callid = strdup_pl(&callid);
	if (!rv.callid)
		return ENOMEM;

	if (star) {
		/* step 6 */
		if (nc > 1 || !rv.has_hexp || rv.hexp != 0) {
			set_status(rp, 400,
				   "Bad Request (Contact: * needs Expires: 0 "
				   "and no other Contact)");
			err = 0;
			goto out;
		}
		err = do_wildcard(reg, &rv, aor, aorlen, rp, changed);
		if (!err && rp->scode == 200)
			err = build_ok(reg, req, aor, aorlen, NULL, rp->hdrs);
		goto out;
	}

	/* step 7, first phase: check every contact, prepare the changes */
	for (i = 0; i < nc; i++) {
		const struct sip_contact *c = &cv[i];
		const struct sip_uri *u = &c->addr.uri;
		uint32_t exp;
		struct pl rid;
		struct cplan *p;
		size_t j;

		/* RFC 3261 20 / RFC 4475 3.1.2.13: a URI with headers (or
		 * params) outside <> is ambiguous */
		if (!c->addr.angle &&
		    (u->headers.l || pl_chr(&c->addr.auri, '?'))) {
			set_status(rp, 400,
				   "Bad Request (Contact URI with headers "
				   "must be enclosed in <>)");
			goto fail;
		}
		if (u->sch != SIP_SCHEME_SIP && u->sch != SIP_SCHEME_SIPS) {
			/* RFC 4475 3.3.4: well-formed, but not usable by a
			 * SIP proxy: refused by policy */
			set_status(rp, 403,
				   "Forbidden (Contact URI scheme %.*s not "
				   "supported)",
				   EXCERPT(&u->scheme));
			goto fail;
		}
		if (c->addr.auri.l > REG_URI_MAX) {
			set_status(rp, 400,
				   "Bad Request (Contact URI too long)");
			goto fail;
		}
		exp = c->has_expires ? c->expires
		      : rv.has_hexp  ? rv.hexp
				     : reg->conf.default_expires;
		if (exp && exp < reg->conf.min_expires) {
			/* RFC 3261 10.3 step 7, 21.4.17 */
			set_status(rp, 423, "Interval Too Brief");
			err = buf_printf(rp->hdrs, "Min-Expires: %u\r\n",
					 reg->conf.min_expires);
			goto fail;
		}
		if (exp > reg->conf.max_expires)
			exp = reg->conf.max_expires; /* "MAY shorten" */

		p = &plan[np];
		memset(p, 0, sizeof(*p));
		p->cand.uri = u;
		if (sip_param_get(&c->addr.params, "+sip.instance",
				  &p->cand.instance))
			p->cand.instance.l = 0;
		if (!sip_param_get(&c->addr.params, "reg-id", &rid) &&
		    (pl_u32(&rid, &p->cand.reg_id) || !p->cand.reg_id)) {
			/* RFC 5626 4.2: reg-id = 1*DIGIT, 1..2^31-1 */
			set_status(rp, 400, "Bad Request (malformed reg-id)");
			goto fail;
		}
		if (p->cand.instance.l > 256) {
			set_status(rp, 400,
				   "Bad Request (+sip.instance too long)");
			goto fail;
		}
		p->old = binding_match(aor_find(reg, aor, aorlen), &p->cand);

		if (p->old && !strcmp(p->old->callid, rv.callid) &&
		    rv.cseq <= p->old->cseq) {
			/* step 7: same Call-ID, CSeq not higher: "the update
			 * MUST be aborted and the request fails" */
			set_status(rp, 500,
				   "Server Internal Error (out-of-order "
				   "REGISTER: CSeq not above the binding's)");
			goto fail;
		}

		if (exp) {
			if (!rv.path) {
				err = path_collect(req, &rv.path);
				if (err == ENOSPC) {
					set_status(rp, 400,
						   "Bad Request (Path too "
						   "long)");
					err = 0;
					goto fail;
				}
				if (err)
					goto fail;
			}
			if (!rv.ua) {
				const struct sip_hdr *h =
					sip_msg_hdr(req, SIP_HDR_USER_AGENT);
				if (h) {
					struct pl ua = h->val;
					if (ua.l > REG_UA_MAX)
						ua.l = REG_UA_MAX;
					rv.ua = strdup_pl(&ua);
					if (!rv.ua) {
						err = ENOMEM;
						goto fail;
					}
				}
			}
			err = prepare_binding(reg, req, c, &p->cand, exp, &rv,
					      &p->nb);
			if (err == ENOSPC) {
				set_status(rp, 400,
					   "Bad Request (Contact parameters "
					   "too long)");
				err = 0;
				goto fail;
			}
			if (err == EBADMSG) {
				set_status(rp, 400,
					   "Bad Request (malformed Contact "
					   "URI)");
				err = 0;
				goto fail;
			}
			if (err)
				goto fail;
		}

		p->remove = !p->nb;
		/* the same binding twice in one request: the later wins */
		for (j = 0; j < np; j++) {
			struct cplan *q = &plan[j];
			bool same = p->old ? q->old == p->old
					   : (!q->old && q->nb &&
					      binding_is(q->nb, &p->cand));
			if (same) {
				mem_deref(q->nb);
				*q = *p;
				break;
			}
		}
		if (j == np)
			np++;
		else
			p->nb = NULL; /* moved */
	}

	for (i = 0; i < np; i++) {
		if (!plan[i].old && plan[i].nb)
			nnew++;
		if (plan[i].old && plan[i].remove)
			ngone++;
	}
	a = aor_find(reg, aor, aorlen);
	if (nnew > ngone &&
	    (a ? a->bindings.n : 0) + nnew - ngone > reg->conf.max_contacts) {
		set_status(rp, 403,
			   "Forbidden (more than %u bindings for this "
			   "address-of-record)",
			   reg->conf.max_contacts);
		goto fail;
	}
	if (nnew > ngone &&
	    reg->nbindings + nnew - ngone > reg->conf.max_bindings) {
		set_status(rp, 503, "Service Unavailable (registrar full)");
		err = buf_write_str(rp->hdrs, "Retry-After: 60\r\n");
		goto fail;
	}
	if (nnew) {
		err = aor_get(reg, aor, aorlen, &a);
		if (err)
			goto fail;
	}

	/* second phase: apply (cannot fail); additions and updates before
	 * removals, so that the AOR stays while it is needed */
	for (i = 0; i < np; i++) {
		struct cplan *p = &plan[i];

		if (p->old && p->nb) {
			binding_update(reg, p->old, p->nb);
			p->nb = mem_deref(p->nb);
			*changed = true;
		} else if (p->nb) {
			p->nb->id = reg->next_id++;
			binding_link(a, p->nb);
			reg->nbindings++;
			binding_timer(p->nb);
			mark_dirty(reg, p->nb);
			p->nb = NULL; /* the AOR's reference now */
			*changed = true;
		}
	}
	for (i = 0; i < np; i++) {
		if (plan[i].old && plan[i].remove) {
			binding_remove(reg, plan[i].old);
			*changed = true;
		}
	}

	set_status(rp, 200, "OK");
	err = build_ok(reg, req, aor, aorlen, rv.path, rp->hdrs);
	if (err) {
		/* applied already: answer 200, without the listing */
		LOG_WARN(NULL, "200 for %s without its Contact list: %s", aor,
			 strerror(err));
		rp->hdrs->pos = rp->hdrs->end = 0;
		err = 0;
	}
	goto out;

fail:
	plan_release(plan, np);
	if (np < REG_REQ_CONTACTS_MAX)
		plan_release(&plan[np], 1);
out:
	reqvals_release(&rv);
	return err;
}


static int pending_add(struct registrar *reg, reg_reply_h *h, void *arg,
		       const struct reply *rp, const char *hdrs)
{
	struct reg_pending *p = mem_zalloc(sizeof(*p), pending_destructor);

	if (!p)
		return ENOMEM;
	p->h = h;
	p->arg = arg;
	p->scode = rp->scode;
	memcpy(p->reason, rp->reason, sizeof(p->reason));
	p->hdrs = mem_strdup(hdrs, strlen(hdrs));
	if (!p->hdrs) {
		mem_deref(p);
		return ENOMEM;
	}
	list_append(&reg->pending, &p->le, p);
	return 0;
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
	struct reply rp;
	bool changed = false;
	const char *hdrs;
	int err;

	if (!reg || !req || !replyh || reg->closed || !req->req ||
	    req->meth != SIP_METHOD_REGISTER)
		return EINVAL;
	memset(&rp, 0, sizeof(rp));
	err = buf_alloc(&rp.hdrs, 512, REG_REPLY_MAX);
	if (err)
		return err;

	err = process(reg, req, &rp, &changed);
	if (!err)
		err = buf_write(rp.hdrs, "", 1); /* NUL-terminate */
	if (err) {
		if (changed) {
			/* the bindings changed: an answer must follow */
			rp.hdrs->pos = rp.hdrs->end = 0;
			err = buf_write(rp.hdrs, "", 1);
		}
		if (err)
			goto out;
	}
	hdrs = (const char *)rp.hdrs->b;

	/* a 200 waits for its bindings, and any 200 for whatever is not
	 * yet committed before it, to be durable */
	if (reg->conf.store &&
	    (changed ||
	     (rp.scode == 200 && (reg->dirty.head || reg->pending.head)))) {
		err = pending_add(reg, replyh, arg, &rp, hdrs);
		if (err && changed) {
			/* cannot queue: commit now and answer */
			err = registrar_flush(reg);
			if (err)
				deliver(replyh, arg, 0, 500,
					"Server Internal Error (bindings not "
					"stored)",
					"Retry-After: 5\r\n");
			else
				deliver(replyh, arg, 0, rp.scode, rp.reason,
					hdrs);
			err = 0;
		}
		goto out;
	}
	deliver(replyh, arg, 0, rp.scode, rp.reason, hdrs);
out:
	mem_deref(rp.hdrs);
	return err;
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
	reg->next_id = 1;

	reg->domains = mem_zalloc(n * sizeof(*reg->domains), NULL);
	if (!reg->domains) {
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
