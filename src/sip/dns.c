/**
 * @file dns.c  RFC 3263 server location over c-ares, on our event loop.
 *
 * Loop integration: c-ares tells us which sockets it wants watched
 * (ARES_OPT_SOCK_STATE_CB); each becomes an fd_listen() entry whose
 * handler calls ares_process_fd().  c-ares' next deadline
 * (ares_timeout()) is one struct tmr, re-armed after every call into
 * c-ares.
 *
 * A query walks up to three stages, each a set of DNS lookups issued in
 * parallel: NAPTR -> SRV -> A/AAAA (RFC 3263 4.1, 4.2).  A stage ends when
 * its last lookup has answered; the next stage is built from the answers
 * in the order RFC 3263 gives them (NAPTR order and preference, SRV
 * priority and RFC 2782 weights), so the result does not depend on which
 * answer came first.  The `pending` count carries one extra "guard" while
 * a stage is being issued, because c-ares and cache hits may answer
 * before the issuing loop has finished.
 *
 * Every answer is kept as its raw DNS message (struct dns_ans) and parsed
 * with c-ares' parsers when used; the same object sits in the cache, keyed
 * by name and type, until its TTL runs out.  A TTL is the smallest of the
 * answer records (RFC 2181 5.2); NXDOMAIN/NODATA answers are cached for
 * the SOA minimum (RFC 2308 5) and not at all without an SOA.
 *
 * Ownership (libre's request-handle pattern): while a query runs, the
 * only reference is the requester's handle (*qp); mem_deref() on it
 * cancels, and the destructor detaches the in-flight lookups (struct
 * dns_op), whose answers still go to the cache when they arrive.  When
 * the query ends, the resolver clears *qp and drops that reference itself
 * after the handler has run, so "pf->q = NULL" in the handler and
 * "mem_deref(pf->q)" in the requester's destructor are both safe.
 */
#include "sip/dns.h"

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "sip/uri.h"

#define LOG_MODULE "dns"

enum {
	DNS_C_IN = 1,
	DNS_T_A = 1,
	DNS_T_SOA = 6,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
};

enum {
	SRVSET_MAX = 6,   /* SRV names asked by one query */
	HOST_MAX = 12,    /* host names resolved by one query */
	SRV_RR_MAX = 16,  /* records used from one SRV answer */
	ADDR_RR_MAX = 16, /* records used from one A/AAAA answer */
	NAME_LEN = 256,   /* a domain name is at most 253 characters */
	TTL_MAX = 86400,
	NEG_TTL_MAX = 3600,
};

enum q_stage {
	Q_START,
	Q_NAPTR,
	Q_SRV,
	Q_ADDR,
	Q_DONE
};

/* One DNS answer, shared by the cache and the queries that use it. */
struct dns_ans {
	struct le hle; /* d->cache (counted) */
	struct le lle; /* d->lru, oldest first (same reference) */
	uint16_t type;
	int status; /* ARES_SUCCESS, ARES_ENODATA or ARES_ENOTFOUND */
	uint64_t expires;
	int alen;
	unsigned char *abuf; /* points behind name[] */
	char name[];
};

struct dns_fd {
	struct le le; /* d->fds (counted) */
	struct sip_dns *d;
	int fd;
};

struct sip_dns {
	ares_channel chan;
	bool chan_ok;
	bool lib_init;
	struct sip_dns_conf conf;
	struct list fds;
	struct list queries; /* weak */
	struct hash *cache;
	struct list lru;
	struct tmr tmr;
	uint64_t rng;
	struct sip_dns_stats st;
};

struct dns_srvset {
	enum sip_transp tp;
	char name[NAME_LEN];
	struct dns_ans *ans;
};

struct dns_host {
	enum sip_transp tp;
	uint16_t port;
	char name[NAME_LEN];
	struct dns_ans *a, *aaaa;
};

struct sip_dns_query {
	struct le le;              /* d->queries (weak) */
	struct sip_dns *d;         /* weak; NULL once the resolver is gone */
	struct sip_dns_query **qp; /* the requester's handle, weak */
	sip_dns_h *h;
	void *arg;
	struct list ops; /* in-flight lookups (weak) */
	struct tmr tmr;  /* asynchronous start */
	enum q_stage stage;
	unsigned pending;
	int err; /* the first lookup failure */
	bool sips;
	enum sip_transp tp;          /* transport parameter, or NONE */
	enum sip_transp fallback_tp; /* for A/AAAA when SRV finds nothing */
	uint16_t port;               /* explicit port, or 0 */
	char target[NAME_LEN];
	struct dns_ans *naptr;
	size_t nsrv;
	struct dns_srvset srv[SRVSET_MAX];
	size_t nhost;
	struct dns_host host[HOST_MAX];
	size_t tc;
	struct sip_dns_target tv[SIP_DNS_TARGETS_MAX];
};

/* One lookup in flight at c-ares. */
struct dns_op {
	struct le le; /* q->ops */
	struct sip_dns *d;
	struct sip_dns_query *q; /* NULL once the query is gone */
	struct dns_ans **slot;   /* where the answer goes in q */
	uint16_t type;
	char name[];
};

static void stage_run(struct sip_dns_query *q, enum q_stage stage);
static void dns_tmr_update(struct sip_dns *d);


/* ---- helpers ---- */

static uint16_t default_port(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TLS ? 5061 : 5060; /* RFC 3261 19.1.2 */
}


static uint64_t rng_next(uint64_t *x)
{
	/* xorshift64 (Marsaglia) */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}


static int ares_to_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return ENOENT;
	case ARES_ETIMEOUT:
		return ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return ECONNREFUSED;
	case ARES_ENOMEM:
		return ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return ECANCELED;
	case ARES_EBADNAME:
		return EINVAL;
	default:
		return EPROTO; /* SERVFAIL, REFUSED, bad responses */
	}
}


static uint32_t ans_key(const char *name, uint16_t type)
{
	return hash_fast_ci(name, strlen(name)) ^ (type * 2654435761u);
}


static bool skip_name(const unsigned char *b, size_t len, size_t *pos)
{
	size_t p = *pos;

	while (p < len) {
		unsigned c = b[p];
		if (c == 0) {
			*pos = p + 1;
			return true;
		}
		if ((c & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return false;
			*pos = p + 2;
			return true;
		}
		if (c & 0xc0)
			return false;
		p += c + 1;
	}
	return false;
}


static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}


/* How long an answer may be cached, in seconds (0: not at all).
 * Positive: the smallest answer TTL (RFC 2181 5.2).  Negative: the SOA
 * record's TTL capped by its MINIMUM field (RFC 2308 5). */
static uint32_t ans_ttl(const unsigned char *b, size_t len, bool negative)
{
	uint32_t ttl = UINT32_MAX;
	unsigned qd, an, ns, i;
	size_t pos = 12;

	if (len < 12)
		return 0;
	qd = get16(b + 4);
	an = get16(b + 6);
	ns = get16(b + 8);
	for (i = 0; i < qd; i++) {
		if (!skip_name(b, len, &pos) || pos + 4 > len)
			return 0;
		pos += 4;
	}
	for (i = 0; i < an + ns; i++) {
		uint16_t type, rdlen;
		uint32_t t;

		if (!skip_name(b, len, &pos) || pos + 10 > len)
			return 0;
		type = get16(b + pos);
		t = get32(b + pos + 4);
		rdlen = get16(b + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return 0;
		if (t > INT32_MAX)
			t = 0; /* RFC 2181 8 */
		if (i < an) {
			if (!negative && t < ttl)
				ttl = t;
		} else if (negative && type == DNS_T_SOA && rdlen >= 22) {
			uint32_t min = get32(b + pos + rdlen - 4);
			ttl = t < min ? t : min;
			break;
		}
		pos += rdlen;
	}
	if (ttl == UINT32_MAX)
		return 0;
	if (negative)
		return ttl > NEG_TTL_MAX ? NEG_TTL_MAX : ttl;
	return ttl > TTL_MAX ? TTL_MAX : ttl;
}


/* ---- the cache ---- */

static void cache_drop(struct sip_dns *d, struct dns_ans *a)
{
	hash_unlink(d->cache, &a->hle);
	list_unlink(&a->lle);
	mem_deref(a);
}


static struct dns_ans *cache_get(struct sip_dns *d, const char *name,
				 uint16_t type)
{
	struct le *le;

	LIST_FOREACH (hash_list(d->cache, ans_key(name, type)), le) {
		struct dns_ans *a = le->data;

		if (a->type != type || strcasecmp(a->name, name) != 0)
			continue;
		if (a->expires <= tmr_jiffies()) {
			cache_drop(d, a);
			return NULL;
		}
		list_unlink(&a->lle); /* most recently used last */
		list_append(&d->lru, &a->lle, a);
		return a;
	}
	return NULL;
}


static void cache_put(struct sip_dns *d, struct dns_ans *a, uint32_t ttl)
{
	struct dns_ans *old;

	if (!ttl || !d->conf.cache_max)
		return;
	old = cache_get(d, a->name, a->type);
	if (old)
		cache_drop(d, old);
	while (d->lru.n >= d->conf.cache_max)
		cache_drop(d, d->lru.head->data);
	a->expires = tmr_jiffies() + (uint64_t)ttl * 1000u;
	hash_append(d->cache, ans_key(a->name, a->type), &a->hle, mem_ref(a));
	list_append(&d->lru, &a->lle, a);
}


void sip_dns_cache_flush(struct sip_dns *d)
{
	if (!d)
		return;
	while (d->lru.head)
		cache_drop(d, d->lru.head->data);
}


static struct dns_ans *ans_new(const char *name, uint16_t type, int status,
			       const unsigned char *abuf, int alen)
{
	size_t nl = strlen(name);
	struct dns_ans *a;

	a = mem_zalloc(sizeof(*a) + nl + 1 + (size_t)alen, NULL);
	if (!a)
		return NULL;
	memcpy(a->name, name, nl + 1);
	a->abuf = (unsigned char *)a->name + nl + 1;
	memcpy(a->abuf, abuf, (size_t)alen);
	a->alen = alen;
	a->type = type;
	a->status = status;
	return a;
}


/* ---- c-ares on the loop ---- */

static void dns_fd_h(int flags, void *arg)
{
	struct dns_fd *df = arg;
	struct sip_dns *d = mem_ref(df->d);
	int fd = df->fd; /* df may go away inside ares_process_fd */

	ares_process_fd(d->chan,
			(flags & (FD_READ | FD_EXCEPT)) ? fd : ARES_SOCKET_BAD,
			(flags & FD_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_tmr_update(d);
	mem_deref(d);
}


static void sock_state_cb(void *data, ares_socket_t fd, int readable,
			  int writable)
{
	struct sip_dns *d = data;
	struct dns_fd *df = NULL;
	struct le *le;
	int flags = (readable ? FD_READ : 0) | (writable ? FD_WRITE : 0);
	int err;

	LIST_FOREACH (&d->fds, le) {
		struct dns_fd *x = le->data;
		if (x->fd == fd) {
			df = x;
			break;
		}
	}
	if (!flags) {
		if (df) {
			fd_close(fd);
			list_unlink(&df->le);
			mem_deref(df);
		}
		return;
	}
	if (!df) {
		df = mem_zalloc(sizeof(*df), NULL);
		if (!df) {
			LOG_ERR(NULL, "out of memory watching a DNS socket");
			return; /* the lookup will time out */
		}
		df->d = d;
		df->fd = fd;
		list_append(&d->fds, &df->le, df);
	}
	err = fd_listen(fd, flags, dns_fd_h, df);
	if (err)
		LOG_ERR(NULL, "cannot watch DNS socket %d: %s", fd,
			log_strerror(err));
}


static void dns_tmr_h(void *arg)
{
	struct sip_dns *d = mem_ref(arg);

	ares_process_fd(d->chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_tmr_update(d);
	mem_deref(d);
}


static void dns_tmr_update(struct sip_dns *d)
{
	struct timeval tv, *tvp;

	if (!d->chan_ok)
		return;
	tvp = ares_timeout(d->chan, NULL, &tv);
	if (!tvp) {
		tmr_cancel(&d->tmr);
		return;
	}
	tmr_start(&d->tmr,
		  (uint64_t)tvp->tv_sec * 1000u +
			  ((uint64_t)tvp->tv_usec + 999u) / 1000u,
		  dns_tmr_h, d);
}


/* ---- lookups ---- */

static void stage_done(struct sip_dns_query *q);

static void op_cb(void *arg, int status, int timeouts, unsigned char *abuf,
		  int alen)
{
	struct dns_op *op = arg;
	struct sip_dns_query *q = op->q;
	struct dns_ans *a = NULL;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		if (q)
			list_unlink(&op->le);
		mem_deref(op);
		return;
	}
	if (abuf && alen > 0 &&
	    (status == ARES_SUCCESS || status == ARES_ENODATA ||
	     status == ARES_ENOTFOUND)) {
		a = ans_new(op->name, op->type, status, abuf, alen);
		if (a)
			cache_put(op->d, a,
				  ans_ttl(abuf, (size_t)alen,
					  status != ARES_SUCCESS));
	} else if (status != ARES_ENODATA && status != ARES_ENOTFOUND) {
		op->d->st.failures++;
		LOG_DEBUG(NULL, "%s type %u: %s", op->name, op->type,
			  ares_strerror(status));
	}
	if (q) {
		list_unlink(&op->le);
		mem_ref(q);
		if (a)
			*op->slot = mem_ref(a);
		else if (!q->err && status != ARES_ENODATA &&
			 status != ARES_ENOTFOUND)
			q->err = ares_to_errno(status);
		if (--q->pending == 0)
			stage_done(q);
		mem_deref(q);
	}
	mem_deref(a);
	mem_deref(op);
}


static void lookup(struct sip_dns_query *q, const char *name, uint16_t type,
		   struct dns_ans **slot)
{
	struct sip_dns *d = q->d;
	struct dns_ans *a = cache_get(d, name, type);
	struct dns_op *op;
	size_t nl;

	if (a) {
		d->st.cache_hits++;
		*slot = mem_ref(a);
		return;
	}
	nl = strlen(name);
	op = mem_zalloc(sizeof(*op) + nl + 1, NULL);
	if (!op) {
		if (!q->err)
			q->err = ENOMEM;
		return;
	}
	memcpy(op->name, name, nl + 1);
	op->d = d;
	op->q = q;
	op->slot = slot;
	op->type = type;
	list_append(&q->ops, &op->le, op);
	q->pending++;
	d->st.queries++;
	/* may call op_cb before returning: the stage guard holds pending */
	ares_query(d->chan, name, DNS_C_IN, type, op_cb, op);
}


/* ---- RFC 3263 stages ---- */

static void add_target(struct sip_dns_query *q, enum sip_transp tp,
		       const struct sa *addr)
{
	size_t i;

	for (i = 0; i < q->tc; i++)
		if (q->tv[i].tp == tp && sa_eq(&q->tv[i].addr, addr))
			return;
	if (q->tc == SIP_DNS_TARGETS_MAX)
		return;
	q->tv[q->tc].tp = tp;
	q->tv[q->tc].addr = *addr;
	q->tc++;
}


static void add_srvset(struct sip_dns_query *q, enum sip_transp tp,
		       const char *prefix, const char *name)
{
	struct dns_srvset *s;
	int n;

	if (q->nsrv == SRVSET_MAX)
		return;
	s = &q->srv[q->nsrv];
	n = snprintf(s->name, sizeof(s->name), "%s%s", prefix, name);
	if (n < 0 || (size_t)n >= sizeof(s->name))
		return;
	s->tp = tp;
	q->nsrv++;
}


static void add_host(struct sip_dns_query *q, enum sip_transp tp,
		     const char *name, uint16_t port)
{
	struct dns_host *h;
	size_t nl = strlen(name);

	if (q->nhost == HOST_MAX || !nl || nl >= NAME_LEN)
		return;
	h = &q->host[q->nhost++];
	memcpy(h->name, name, nl + 1);
	h->tp = tp;
	h->port = port;
}


/* The query has ended: the requester's handle is cleared, the handler
 * called, and the requester's reference dropped.  Callers hold their own
 * reference, so q stays valid until they return. */
static void complete(struct sip_dns_query *q, int err)
{
	sip_dns_h *h = q->h;

	q->stage = Q_DONE;
	q->h = NULL;
	if (q->d) {
		list_unlink(&q->le);
		q->d = NULL;
	}
	if (q->qp) {
		*q->qp = NULL;
		q->qp = NULL;
	}
	if (!err && !q->tc)
		err = ENOENT;
	LOG_DEBUG(NULL, "%s: %zu targets (%s)", q->target, err ? 0 : q->tc,
		  err ? log_strerror(err) : "ok");
	if (h)
		h(err, q->tv, err ? 0 : q->tc, q->arg);
	mem_deref(q);
}


/* RFC 3263 4.1: the services we use, for this URI scheme */
static enum sip_transp naptr_service(const unsigned char *svc, bool sips)
{
	const char *s = (const char *)svc;

	if (!s)
		return SIP_TRANSP_NONE;
	if (!strcasecmp(s, "SIPS+D2T"))
		return SIP_TRANSP_TLS;
	if (sips)
		return SIP_TRANSP_NONE; /* a SIPS URI: TLS only */
	if (!strcasecmp(s, "SIP+D2U"))
		return SIP_TRANSP_UDP;
	if (!strcasecmp(s, "SIP+D2T"))
		return SIP_TRANSP_TCP;
	return SIP_TRANSP_NONE;
}


static void naptr_done(struct sip_dns_query *q)
{
	struct {
		unsigned short order, pref;
		enum sip_transp tp;
		const char *repl;
	} rec[SRVSET_MAX], tmp;
	struct ares_naptr_reply *nr = NULL, *it;
	size_t n = 0, i, j;

	if (q->naptr && q->naptr->status == ARES_SUCCESS &&
	    ares_parse_naptr_reply(q->naptr->abuf, q->naptr->alen, &nr) ==
		    ARES_SUCCESS) {
		for (it = nr; it && n < SRVSET_MAX; it = it->next) {
			enum sip_transp tp =
				naptr_service(it->service, q->sips);
			/* RFC 3263 4.1: flag "s", no regexp, the
			 * replacement is the SRV name */
			if (tp == SIP_TRANSP_NONE || !it->flags ||
			    strcasecmp((const char *)it->flags, "s") != 0 ||
			    (it->regexp && *it->regexp) || !it->replacement ||
			    !*it->replacement)
				continue;
			rec[n].order = it->order;
			rec[n].pref = it->preference;
			rec[n].tp = tp;
			rec[n].repl = (const char *)it->replacement;
			n++;
		}
	}
	/* by order, then preference (RFC 3403 4.1), keeping answer order */
	for (i = 1; i < n; i++) {
		tmp = rec[i];
		for (j = i; j > 0 && (rec[j - 1].order > tmp.order ||
				      (rec[j - 1].order == tmp.order &&
				       rec[j - 1].pref > tmp.pref));
		     j--)
			rec[j] = rec[j - 1];
		rec[j] = tmp;
	}
	for (i = 0; i < n; i++)
		add_srvset(q, rec[i].tp, "", rec[i].repl);
	if (q->nsrv) {
		q->fallback_tp = q->srv[0].tp;
	} else {
		/* RFC 3263 4.1: no NAPTR: SRV for every transport we
		 * support; a SIPS URI only _sips._tcp */
		if (!q->sips) {
			add_srvset(q, SIP_TRANSP_UDP, "_sip._udp.", q->target);
			add_srvset(q, SIP_TRANSP_TCP, "_sip._tcp.", q->target);
		}
		add_srvset(q, SIP_TRANSP_TLS, "_sips._tcp.", q->target);
		q->fallback_tp = q->sips ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	}
	ares_free_data(nr);
	stage_run(q, Q_SRV);
}


/**
 * RFC 2782 order: ascending priority; within a priority, repeatedly pick
 * one of the remaining records at random with probability proportional to
 * its weight (zero-weight records first in the running sum, so they are
 * picked rarely but not never).
 */
void sip_dns_srv_order(struct sip_dns_srv *v, size_t n, uint64_t *rng)
{
	struct sip_dns_srv tmp;
	size_t i, j, start, end;

	if (!v || !rng)
		return;
	if (!*rng)
		*rng = 0x9e3779b97f4a7c15ull;
	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && v[j - 1].prio > tmp.prio; j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
	for (start = 0; start < n; start = end) {
		for (end = start; end < n && v[end].prio == v[start].prio;)
			end++;
		for (i = start; i + 1 < end; i++) {
			uint64_t sum = 0, run = 0, r;
			size_t z = i;

			/* zero weights to the front of the unordered part */
			for (j = i; j < end; j++) {
				if (v[j].weight == 0) {
					tmp = v[j];
					memmove(&v[z + 1], &v[z],
						(j - z) * sizeof(*v));
					v[z++] = tmp;
				}
			}
			for (j = i; j < end; j++)
				sum += v[j].weight;
			r = rng_next(rng) % (sum + 1);
			for (j = i; j < end; j++) {
				run += v[j].weight;
				if (run >= r)
					break;
			}
			if (j == end)
				j = end - 1;
			tmp = v[i];
			v[i] = v[j];
			v[j] = tmp;
		}
	}
}


static void srv_done(struct sip_dns_query *q)
{
	bool any_srv = false;
	size_t i, j;

	for (i = 0; i < q->nsrv; i++) {
		struct dns_srvset *s = &q->srv[i];
		struct ares_srv_reply *sr = NULL, *it;
		struct sip_dns_srv v[SRV_RR_MAX];
		size_t n = 0;

		if (!s->ans || s->ans->status != ARES_SUCCESS ||
		    ares_parse_srv_reply(s->ans->abuf, s->ans->alen, &sr) !=
			    ARES_SUCCESS)
			continue;
		for (it = sr; it && n < SRV_RR_MAX; it = it->next) {
			any_srv = true;
			/* RFC 2782: target "." = service not offered */
			if (!it->host || !*it->host || !strcmp(it->host, "."))
				continue;
			v[n].prio = it->priority;
			v[n].weight = it->weight;
			v[n].port = it->port;
			v[n].host = it->host;
			n++;
		}
		sip_dns_srv_order(v, n, &q->d->rng);
		for (j = 0; j < n; j++)
			add_host(q, s->tp, v[j].host, v[j].port);
		ares_free_data(sr);
	}
	/* RFC 3263 4.2: no SRV records: A/AAAA of the target itself (but
	 * not when the only records said "." : decidedly not available) */
	if (!q->nhost && !any_srv)
		add_host(q, q->fallback_tp, q->target,
			 default_port(q->fallback_tp));
	stage_run(q, Q_ADDR);
}


static void addr_done(struct sip_dns_query *q)
{
	size_t i;
	int j;

	for (i = 0; i < q->nhost; i++) {
		const struct dns_host *h = &q->host[i];
		struct ares_addrttl a4[ADDR_RR_MAX];
		struct ares_addr6ttl a6[ADDR_RR_MAX];
		int n4 = ADDR_RR_MAX, n6 = ADDR_RR_MAX;
		struct sa sa;

		if (h->a && h->a->status == ARES_SUCCESS &&
		    ares_parse_a_reply(h->a->abuf, h->a->alen, NULL, a4, &n4) ==
			    ARES_SUCCESS) {
			for (j = 0; j < n4; j++) {
				sa_init(&sa, AF_INET);
				sa.u.in.sin_addr = a4[j].ipaddr;
				sa_set_port(&sa, h->port);
				add_target(q, h->tp, &sa);
			}
		}
		if (h->aaaa && h->aaaa->status == ARES_SUCCESS &&
		    ares_parse_aaaa_reply(h->aaaa->abuf, h->aaaa->alen, NULL,
					  a6, &n6) == ARES_SUCCESS) {
			for (j = 0; j < n6; j++) {
				sa_init(&sa, AF_INET6);
				memcpy(&sa.u.in6.sin6_addr, &a6[j].ip6addr, 16);
				sa_set_port(&sa, h->port);
				add_target(q, h->tp, &sa);
			}
		}
	}
	complete(q, q->tc ? 0 : q->err);
}


static void stage_done(struct sip_dns_query *q)
{
	switch (q->stage) {
	case Q_NAPTR:
		naptr_done(q);
		break;
	case Q_SRV:
		srv_done(q);
		break;
	case Q_ADDR:
		addr_done(q);
		break;
	default:
		break;
	}
}


static void stage_run(struct sip_dns_query *q, enum q_stage stage)
{
	struct sip_dns *d = q->d;
	size_t i;

	q->stage = stage;
	q->pending = 1; /* the guard */
	switch (stage) {
	case Q_NAPTR:
		lookup(q, q->target, DNS_T_NAPTR, &q->naptr);
		break;
	case Q_SRV:
		for (i = 0; i < q->nsrv; i++)
			lookup(q, q->srv[i].name, DNS_T_SRV, &q->srv[i].ans);
		break;
	case Q_ADDR:
		for (i = 0; i < q->nhost; i++) {
			if (!d->conf.no_ipv4)
				lookup(q, q->host[i].name, DNS_T_A,
				       &q->host[i].a);
			if (!d->conf.no_ipv6)
				lookup(q, q->host[i].name, DNS_T_AAAA,
				       &q->host[i].aaaa);
		}
		break;
	default:
		break;
	}
	dns_tmr_update(d);
	if (--q->pending == 0)
		stage_done(q);
}


static void query_start(void *arg)
{
	struct sip_dns_query *q = mem_ref(arg);
	struct sip_dns *d = mem_ref(q->d); /* the handler may release both */

	if (q->tc) {
		complete(q, 0); /* numeric */
	} else if (q->port) {
		/* RFC 3263 4.1/4.2: a port but no numeric host: A/AAAA;
		 * UDP for sip:, TLS for sips: unless a transport is given */
		enum sip_transp tp = q->tp != SIP_TRANSP_NONE ? q->tp
				     : q->sips                ? SIP_TRANSP_TLS
							      : SIP_TRANSP_UDP;
		add_host(q, tp, q->target, q->port);
		stage_run(q, Q_ADDR);
	} else if (q->tp != SIP_TRANSP_NONE) {
		/* RFC 3263 4.2: transport known: SRV for it */
		static const char *const pfx[SIP_TRANSP_NUM] = {
			[SIP_TRANSP_UDP] = "_sip._udp.",
			[SIP_TRANSP_TCP] = "_sip._tcp.",
			[SIP_TRANSP_TLS] = "_sips._tcp.",
		};
		add_srvset(q, q->tp, pfx[q->tp], q->target);
		q->fallback_tp = q->tp;
		stage_run(q, Q_SRV);
	} else {
		stage_run(q, Q_NAPTR);
	}
	mem_deref(q);
	mem_deref(d);
}


/* ---- URI -> target ---- */

static int uri_target(const struct sip_uri *uri, bool *sips,
		      enum sip_transp *tp, struct pl *host, uint16_t *port)
{
	struct pl v;

	if (!uri)
		return EINVAL;
	if (uri->sch == SIP_SCHEME_SIPS)
		*sips = true;
	else if (uri->sch == SIP_SCHEME_SIP)
		*sips = false;
	else
		return EPROTONOSUPPORT;
	*tp = SIP_TRANSP_NONE;
	if (!sip_param_get(&uri->params, "transport", &v)) {
		*tp = sip_transp_from_pl(&v);
		if (*tp == SIP_TRANSP_NONE)
			return EPROTONOSUPPORT; /* sctp, ws, ... */
		if (*sips) {
			/* RFC 3261 26.2.2: SIPS runs over TLS */
			if (*tp == SIP_TRANSP_UDP)
				return EPROTONOSUPPORT;
			*tp = SIP_TRANSP_TLS;
		}
	}
	/* RFC 3263 4: the maddr parameter, if any, is the target */
	*host = uri->host;
	if (!sip_param_get(&uri->params, "maddr", &v) && v.l)
		*host = v;
	if (host->l >= 2 && host->p[0] == '[' && host->p[host->l - 1] == ']') {
		host->p++;
		host->l -= 2;
	}
	if (!host->l || host->l >= NAME_LEN)
		return EINVAL;
	*port = uri->port_pl.p ? uri->port : 0;
	return 0;
}


int sip_dns_numeric(const struct sip_uri *uri, struct sip_dns_target *t)
{
	enum sip_transp tp;
	struct pl host;
	uint16_t port;
	bool sips;
	int err;

	if (!t)
		return EINVAL;
	err = uri_target(uri, &sips, &tp, &host, &port);
	if (err)
		return err;
	if (sa_set_pl(&t->addr, &host, 0))
		return EAGAIN;
	/* RFC 3263 4.1: numeric: UDP for sip:, TLS for sips: */
	if (tp == SIP_TRANSP_NONE)
		tp = sips ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	t->tp = tp;
	sa_set_port(&t->addr, port ? port : default_port(tp));
	return 0;
}


/* ---- objects ---- */

static void query_destructor(void *arg)
{
	struct sip_dns_query *q = arg;
	size_t i;

	tmr_cancel(&q->tmr);
	while (q->ops.head) {
		struct dns_op *op = q->ops.head->data;
		op->q = NULL; /* c-ares still answers: op_cb frees it */
		list_unlink(&op->le);
	}
	if (q->d)
		list_unlink(&q->le);
	mem_deref(q->naptr);
	for (i = 0; i < q->nsrv; i++)
		mem_deref(q->srv[i].ans);
	for (i = 0; i < q->nhost; i++) {
		mem_deref(q->host[i].a);
		mem_deref(q->host[i].aaaa);
	}
}


/**
 * Locate the servers for a URI (RFC 3263).
 *
 * @param qp   receives the query handle, which must stay valid while the
 *             query runs: mem_deref(*qp) cancels; the resolver sets *qp to
 *             NULL when the query ends (before the handler runs)
 * @param d    resolver
 * @param uri  a decoded sip: or sips: URI
 * @param h    called once from the loop with the targets, best first
 * @param arg  handler argument
 * @return 0, EINVAL, EPROTONOSUPPORT or ENOMEM
 */
int sip_dns_locate(struct sip_dns_query **qp, struct sip_dns *d,
		   const struct sip_uri *uri, sip_dns_h *h, void *arg)
{
	struct sip_dns_query *q;
	struct sip_dns_target t;
	struct pl host;
	int err;

	if (!qp || !d || !uri || !h || !d->chan_ok)
		return EINVAL;
	q = mem_zalloc(sizeof(*q), query_destructor);
	if (!q)
		return ENOMEM;
	list_init(&q->ops);
	tmr_init(&q->tmr);
	err = uri_target(uri, &q->sips, &q->tp, &host, &q->port);
	if (!err)
		err = pl_strcpy(&host, q->target, sizeof(q->target));
	if (err) {
		mem_deref(q);
		return err;
	}
	q->h = h;
	q->arg = arg;
	if (!sip_dns_numeric(uri, &t))
		add_target(q, t.tp, &t.addr);
	q->d = d;
	q->qp = qp;
	list_append(&d->queries, &q->le, q);
	/* always answer from the loop, never from inside this call */
	tmr_start(&q->tmr, 0, query_start, q);
	*qp = q;
	return 0;
}


static void dns_destructor(void *arg)
{
	struct sip_dns *d = arg;

	/* cancel the running queries: handles cleared, handlers not called
	 * (each is only referenced by its requester's handle) */
	while (d->queries.head) {
		struct sip_dns_query *q = d->queries.head->data;
		list_unlink(&q->le);
		q->d = NULL;
		q->h = NULL;
		if (q->qp) {
			*q->qp = NULL;
			q->qp = NULL;
		}
		mem_deref(q); /* detaches its lookups */
	}
	tmr_cancel(&d->tmr);
	if (d->chan_ok)
		ares_destroy(d->chan); /* op_cb(ARES_EDESTRUCTION) frees ops */
	while (d->fds.head) {
		struct dns_fd *df = d->fds.head->data;
		fd_close(df->fd);
		list_unlink(&df->le);
		mem_deref(df);
	}
	if (d->cache) {
		sip_dns_cache_flush(d);
		mem_deref(d->cache);
	}
	if (d->lib_init)
		ares_library_cleanup();
}


static int set_servers(struct sip_dns *d, const struct sa *servers, size_t n)
{
	struct ares_addr_port_node *nodes;
	size_t i;
	int st;

	if (!n)
		return EINVAL;
	nodes = mem_zalloc(n * sizeof(*nodes), NULL);
	if (!nodes)
		return ENOMEM;
	for (i = 0; i < n; i++) {
		const struct sa *s = &servers[i];
		int port = sa_port(s) ? sa_port(s) : 53;

		if (sa_af(s) == AF_INET) {
			nodes[i].family = AF_INET;
			memcpy(&nodes[i].addr.addr4, &s->u.in.sin_addr, 4);
		} else if (sa_af(s) == AF_INET6) {
			nodes[i].family = AF_INET6;
			memcpy(&nodes[i].addr.addr6, &s->u.in6.sin6_addr, 16);
		} else {
			mem_deref(nodes);
			return EINVAL;
		}
		nodes[i].udp_port = port;
		nodes[i].tcp_port = port;
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	st = ares_set_servers_ports(d->chan, nodes);
	mem_deref(nodes);
	return st == ARES_SUCCESS ? 0 : ares_to_errno(st);
}


/**
 * Create a resolver on the current thread's event loop.
 *
 * @param dp       receives the resolver
 * @param servers  name servers (port 0 = 53), or NULL for resolv.conf
 * @param n        number of servers
 * @param conf     timeouts, cache size and address families, or NULL
 * @return 0, EINVAL or ENOMEM (or the c-ares init error as an errno)
 */
int sip_dns_alloc(struct sip_dns **dp, const struct sa *servers, size_t n,
		  const struct sip_dns_conf *conf)
{
	struct ares_options opt;
	struct sip_dns *d;
	int st, err;

	if (!dp || (servers && !n))
		return EINVAL;
	if (conf && conf->no_ipv4 && conf->no_ipv6)
		return EINVAL;
	d = mem_zalloc(sizeof(*d), dns_destructor);
	if (!d)
		return ENOMEM;
	if (conf)
		d->conf = *conf;
	if (!d->conf.timeout_ms)
		d->conf.timeout_ms = 2000;
	if (!d->conf.tries)
		d->conf.tries = 2;
	if (!d->conf.cache_max)
		d->conf.cache_max = 4096;
	list_init(&d->fds);
	list_init(&d->queries);
	list_init(&d->lru);
	tmr_init(&d->tmr);
	if (getrandom(&d->rng, sizeof(d->rng), GRND_NONBLOCK) !=
		    sizeof(d->rng) ||
	    !d->rng)
		d->rng = (uint64_t)time(NULL) * 2654435761u + 1;

	err = hash_alloc(&d->cache, 256);
	if (err)
		goto out;
	st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st != ARES_SUCCESS) {
		err = ares_to_errno(st);
		goto out;
	}
	d->lib_init = true;
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = sock_state_cb;
	opt.sock_state_cb_data = d;
	opt.timeout = (int)d->conf.timeout_ms;
	opt.tries = (int)d->conf.tries;
	st = ares_init_options(&d->chan, &opt,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
				       ARES_OPT_TRIES);
	if (st != ARES_SUCCESS) {
		err = ares_to_errno(st);
		goto out;
	}
	d->chan_ok = true;
	if (servers)
		err = set_servers(d, servers, n);
out:
	if (err) {
		mem_deref(d);
		return err;
	}
	*dp = d;
	return 0;
}


void sip_dns_stats(const struct sip_dns *d, struct sip_dns_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	*st = d->st;
	st->cached = d->lru.n;
}
