/**
 * @file ifc.c  Initial Filter Criteria evaluation (see ifc.h).
 *
 * Compilation: ifc_cache_alloc() walks the subscription once and compiles
 * every regular expression with regcomp(REG_EXTENDED | REG_NOSUB) into a
 * flat array, one slot per SPT in subscription order; it also records the
 * priority order of each profile's iFCs, so a profile built through the
 * API (not sorted) is evaluated in the right order too.
 *
 * Evaluation (TS 29.228 annex C): an SPT is true or false, ConditionNegated
 * inverts it; SPTs with the same Group form a clause.  In CNF a clause is
 * the OR of its SPTs and the trigger the AND of its clauses; in DNF a
 * clause is the AND and the trigger the OR.  An iFC without TriggerPoint
 * always matches (B.2.2).  ProfilePartIndicator restricts an iFC to the
 * served user's registered or unregistered state.
 *
 * SPT kinds (annex B.2.2, annex F):
 *  - RequestURI: the regex against the Request-URI text;
 *  - Method: the method token, compared case-sensitively (RFC 3261 7.1);
 *    on REGISTER, RegistrationType (if any) must contain the request's;
 *  - SIPHeader: any line of the named header (long or compact name, any
 *    case) whose value matches Content, or its presence without Content;
 *  - SessionCase: equal to the case being served;
 *  - SessionDescription: any SDP line (only in an application/sdp body)
 *    whose type matches Line and value matches Content.
 * Sharing: the users of one enterprise service profile have the same
 * iFCs, so an ifc_pool interns caches by the content of the service part
 * of their subscription (cx_services_hash, cx_services_eq: the identities
 * are not part of it).  A pool entry is a counted cache with a weak link
 * back; its destructor unlinks it, so a service part nobody uses any more
 * leaves the pool.  The regular expressions of a profile are compiled
 * once per distinct content, not once per registered user.
 *
 * Header values are matched with their line folding replaced by one space
 * (RFC 3261 7.3.1: folded LWS is equivalent to a single SP).  regexec()
 * searches, it does not anchor: "^...$" anchors, as in Kamailio's S-CSCF.
 */
#include "cscf/ifc.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/mem.h"
#include "core/pl.h"
#include "sip/msg.h"

struct ifc_re {
	regex_t a; /* RequestURI, SDP Line */
	regex_t b; /* header Content, SDP Content */
	bool has_a;
	bool has_b;
};

struct ifc_cache {
	struct le he;                /* in pool->tab while interned */
	struct ifc_pool *pool;       /* weak: the pool cuts it when it goes */
	uint32_t key;                /* cx_services_hash(sub) */
	struct cx_subscription *sub; /* counted */
	struct ifc_re *rev;          /* one per SPT, subscription order */
	size_t rec;
	size_t *spt_base; /* per iFC (all profiles): its first slot in rev */
	size_t *order;    /* per iFC: index within its profile, by priority */
	size_t *ifc_base; /* per profile: its first iFC in spt_base/order */
};

/* Compiled caches by the content of their service part, not counted:
 * a cache leaves the table when its last user lets it go. */
struct ifc_pool {
	struct hash *tab;
};

static void destructor(void *data)
{
	struct ifc_cache *c = data;

	if (c->pool)
		hash_unlink(c->pool->tab, &c->he);

	for (size_t i = 0; i < c->rec; i++) {
		if (c->rev[i].has_a)
			regfree(&c->rev[i].a);
		if (c->rev[i].has_b)
			regfree(&c->rev[i].b);
	}
	mem_deref(c->rev);
	mem_deref(c->spt_base);
	mem_deref(c->order);
	mem_deref(c->ifc_base);
	mem_deref(c->sub);
}


static int compile(regex_t *re, bool *has, const char *pattern,
		   const struct cx_ifc *ifc, char *err, size_t errsz)
{
	char why[96];
	int rc;

	rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	if (!rc) {
		*has = true;
		return 0;
	}
	(void)regerror(rc, re, why, sizeof(why));
	if (err && errsz)
		(void)snprintf(err, errsz,
			       "iFC priority %d (%s): regular expression "
			       "\"%.60s\" does not compile: %s",
			       ifc->priority, ifc->as_uri ? ifc->as_uri : "?",
			       pattern, why);
	return EBADMSG;
}


static int compile_spt(struct ifc_re *re, const struct cx_spt *spt,
		       const struct cx_ifc *ifc, char *err, size_t errsz)
{
	int e = 0;

	switch (spt->kind) {
	case CX_SPT_REQUEST_URI:
		if (spt->a)
			e = compile(&re->a, &re->has_a, spt->a, ifc, err,
				    errsz);
		break;
	case CX_SPT_SIP_HEADER:
		if (spt->b)
			e = compile(&re->b, &re->has_b, spt->b, ifc, err,
				    errsz);
		break;
	case CX_SPT_SESSION_DESCRIPTION:
		if (spt->a)
			e = compile(&re->a, &re->has_a, spt->a, ifc, err,
				    errsz);
		if (!e && spt->b)
			e = compile(&re->b, &re->has_b, spt->b, ifc, err,
				    errsz);
		break;
	default:
		break;
	}
	return e;
}


static int prio_cmp(const void *a, const void *b, void *arg)
{
	const struct cx_ifc *ifc = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (ifc[x].priority != ifc[y].priority)
		return ifc[x].priority < ifc[y].priority ? -1 : 1;
	return (x > y) - (x < y);
}


/**
 * Build the evaluation cache of a subscription.
 *
 * @param cachep  the cache on success (mem_deref it)
 * @param sub     the subscription; the cache keeps a reference
 * @param err     a sentence naming the iFC whose expression is bad, or NULL
 * @param errsz   size of err
 * @return 0, EINVAL, EBADMSG or ENOMEM
 */
int ifc_cache_alloc(struct ifc_cache **cachep, struct cx_subscription *sub,
		    char *err, size_t errsz)
{
	struct ifc_cache *c;
	size_t nspt = 0, nifc = 0, s = 0, f = 0;
	int e = 0;

	if (!cachep || !sub)
		return EINVAL;
	if (err && errsz)
		err[0] = '\0';
	for (size_t i = 0; i < sub->sp_n; i++) {
		nifc += sub->sp[i].ifc_n;
		for (size_t j = 0; j < sub->sp[i].ifc_n; j++) {
			if (sub->sp[i].ifc[j].tp)
				nspt += sub->sp[i].ifc[j].tp->spt_n;
		}
	}

	c = mem_zalloc(sizeof(*c), destructor);
	if (!c)
		return ENOMEM;
	c->sub = mem_ref(sub);
	c->rev = mem_zalloc((nspt ? nspt : 1) * sizeof(*c->rev), NULL);
	c->spt_base = mem_zalloc((nifc ? nifc : 1) * sizeof(size_t), NULL);
	c->order = mem_zalloc((nifc ? nifc : 1) * sizeof(size_t), NULL);
	c->ifc_base = mem_zalloc((sub->sp_n + 1) * sizeof(size_t), NULL);
	if (!c->rev || !c->spt_base || !c->order || !c->ifc_base) {
		e = ENOMEM;
		goto out;
	}

	for (size_t i = 0; !e && i < sub->sp_n; i++) {
		const struct cx_service_profile *sp = &sub->sp[i];

		c->ifc_base[i] = f;
		for (size_t j = 0; j < sp->ifc_n; j++)
			c->order[f + j] = j;
		qsort_r(&c->order[f], sp->ifc_n, sizeof(size_t), prio_cmp,
			sp->ifc);
		for (size_t j = 0; !e && j < sp->ifc_n; j++, f++) {
			const struct cx_ifc *ifc = &sp->ifc[j];

			c->spt_base[f] = s;
			for (size_t k = 0; !e && ifc->tp && k < ifc->tp->spt_n;
			     k++, s++) {
				e = compile_spt(&c->rev[s], &ifc->tp->spt[k],
						ifc, err, errsz);
				c->rec = s +
					 1; /* compiled so far, for regfree */
			}
		}
	}
	c->ifc_base[sub->sp_n] = f;
out:
	if (e) {
		mem_deref(c);
		return e;
	}
	*cachep = c;
	return 0;
}


/**
 * The subscription a cache was built from (the iFCs ifc_match() returns
 * point into it).
 *
 * @return the subscription, NULL for a NULL cache
 */
const struct cx_subscription *ifc_cache_sub(const struct ifc_cache *cache)
{
	return cache ? cache->sub : NULL;
}


static uint32_t pool_key(const void *data)
{
	const struct ifc_cache *c = data;

	return c->key;
}


static void pool_destructor(void *data)
{
	struct ifc_pool *pool = data;

	/* caches still held elsewhere outlive the pool: cut their links */
	for (uint32_t i = 0; pool->tab && i <= pool->tab->mask; i++) {
		struct le *le;

		while ((le = pool->tab->bucket[i].head)) {
			struct ifc_cache *c = le->data;

			hash_unlink(pool->tab, le);
			c->pool = NULL;
		}
	}
	mem_deref(pool->tab);
}


/**
 * Allocate an empty pool of compiled caches, shared by content.
 *
 * @param poolp  receives the pool (mem_deref it; caches still held stay
 *               valid, they only stop being shared)
 * @return 0, EINVAL or ENOMEM
 */
int ifc_pool_alloc(struct ifc_pool **poolp)
{
	struct ifc_pool *pool;
	int err;

	if (!poolp)
		return EINVAL;
	pool = mem_zalloc(sizeof(*pool), pool_destructor);
	if (!pool)
		return ENOMEM;
	err = hash_alloc(&pool->tab, 16);
	if (err) {
		mem_deref(pool);
		return err;
	}
	/* one entry per distinct service part: a few per enterprise, up to
	 * one per user where every profile differs */
	hash_grow_with(pool->tab, pool_key, 1u << 16);
	*poolp = pool;
	return 0;
}


/**
 * The compiled cache of a subscription's service part, shared: a cache
 * already in the pool for an equal service part (cx_services_eq) gets one
 * more reference, otherwise sub is compiled (ifc_cache_alloc) and the new
 * cache enters the pool until its last reference goes.  The identities
 * of sub are not looked at; drop them first (cx_subscription_drop_ids) so
 * that the shared copy holds none.  Callers use ifc_cache_sub() of the
 * result, which may not be sub.
 *
 * @param pool    the pool
 * @param cachep  receives a counted reference (mem_deref it)
 * @param sub     the subscription; a new cache keeps a reference
 * @param err     as ifc_cache_alloc()
 * @param errsz   size of err
 * @return 0, EINVAL, EBADMSG (an expression does not compile) or ENOMEM
 */
int ifc_pool_get(struct ifc_pool *pool, struct ifc_cache **cachep,
		 struct cx_subscription *sub, char *err, size_t errsz)
{
	struct ifc_cache *c = NULL;
	uint32_t key;
	struct le *le;
	int e;

	if (!pool || !cachep || !sub)
		return EINVAL;
	key = cx_services_hash(sub);
	LIST_FOREACH (hash_list(pool->tab, key), le) {
		struct ifc_cache *x = le->data;

		if (x->key == key && cx_services_eq(x->sub, sub)) {
			*cachep = mem_ref(x);
			return 0;
		}
	}
	e = ifc_cache_alloc(&c, sub, err, errsz);
	if (e)
		return e;
	c->key = key;
	c->pool = pool;
	hash_append(pool->tab, key, &c->he, c);
	*cachep = c;
	return 0;
}


/**
 * Distinct service parts in the pool (tests, statistics).
 */
size_t ifc_pool_count(const struct ifc_pool *pool)
{
	return pool ? pool->tab->n : 0;
}


/* NUL-terminated copy of pl into buf with every CRLF/LF followed by white
 * space (a folded line) and the white space around it made one SP. */
static const char *unfold(const struct pl *pl, char *buf)
{
	size_t o = 0;

	for (size_t i = 0; i < pl->l; i++) {
		char ch = pl->p[i];

		if (ch == '\r' || ch == '\n') {
			while (o && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
				o--;
			while (i + 1 < pl->l &&
			       (pl->p[i + 1] == '\r' || pl->p[i + 1] == '\n' ||
				pl->p[i + 1] == ' ' || pl->p[i + 1] == '\t'))
				i++;
			buf[o++] = ' ';
			continue;
		}
		buf[o++] = ch;
	}
	buf[o] = '\0';
	return buf;
}


static bool spt_regex(const regex_t *re, const struct pl *pl, char *scratch)
{
	return regexec(re, unfold(pl, scratch), 0, NULL, 0) == 0;
}


static bool is_sdp(const struct sip_msg *msg)
{
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	static const char sdp[] = "application/sdp";
	const size_t n = sizeof(sdp) - 1;

	if (!ct || !msg->body.l || ct->val.l < n ||
	    strncasecmp(ct->val.p, sdp, n))
		return false;
	/* "application/sdp" alone or followed by parameters */
	return ct->val.l == n || ct->val.p[n] == ';' || ct->val.p[n] == ' ' ||
	       ct->val.p[n] == '\t';
}


static bool sdp_match(const struct ifc_re *re, const struct sip_msg *msg,
		      char *scratch)
{
	struct pl rest = msg->body;

	if (!is_sdp(msg))
		return false;
	while (rest.l) {
		const char *nl = memchr(rest.p, '\n', rest.l);
		size_t len = nl ? (size_t)(nl - rest.p) : rest.l;
		struct pl line, type, val;

		pl_set(&line, rest.p, len);
		rest.p += nl ? len + 1 : len;
		rest.l -= nl ? len + 1 : len;
		if (line.l && line.p[line.l - 1] == '\r')
			line.l--;
		/* RFC 4566 5: <type>=<value>, type one character */
		if (line.l < 2 || line.p[1] != '=')
			continue;
		pl_set(&type, line.p, 1);
		pl_set(&val, line.p + 2, line.l - 2);
		if (re->has_a && !spt_regex(&re->a, &type, scratch))
			continue;
		if (re->has_b && !spt_regex(&re->b, &val, scratch))
			continue;
		return true;
	}
	return false;
}


static bool header_match(const struct cx_spt *spt, const struct ifc_re *re,
			 const struct sip_msg *msg, char *scratch)
{
	const struct sip_hdr *h = sip_msg_hdr_name(msg, spt->a);

	if (!re->has_b)
		return h != NULL;
	for (; h; h = sip_msg_hdr_next(msg, h)) {
		if (spt_regex(&re->b, &h->val, scratch))
			return true;
	}
	return false;
}


static bool spt_true(const struct cx_spt *spt, const struct ifc_re *re,
		     const struct ifc_req *req, char *scratch)
{
	const struct sip_msg *msg = req->msg;
	bool v = false;

	switch (spt->kind) {
	case CX_SPT_REQUEST_URI:
		v = re->has_a && spt_regex(&re->a, &msg->ruri, scratch);
		break;
	case CX_SPT_METHOD:
		v = spt->a && pl_eq_str(&msg->met, spt->a);
		/* B.2.2: RegistrationType narrows a REGISTER trigger */
		if (v && spt->reg_type && msg->meth == SIP_METHOD_REGISTER)
			v = (spt->reg_type & req->reg_type) != 0;
		break;
	case CX_SPT_SIP_HEADER:
		v = spt->a && header_match(spt, re, msg, scratch);
		break;
	case CX_SPT_SESSION_CASE:
		v = spt->session_case == req->sc;
		break;
	case CX_SPT_SESSION_DESCRIPTION:
		v = sdp_match(re, msg, scratch);
		break;
	}
	return spt->negated ? !v : v;
}


/* Annex C: CNF = AND of (OR within a Group), DNF = OR of (AND within). */
static bool trigger_true(const struct cx_trigger_point *tp,
			 const struct ifc_re *rev, const struct ifc_req *req,
			 char *scratch)
{
	const bool cnf = tp->cnf;

	for (size_t i = 0; i < tp->spt_n; i++) {
		bool seen = false, clause;

		for (size_t j = 0; j < i && !seen; j++)
			seen = tp->spt[j].group == tp->spt[i].group;
		if (seen)
			continue; /* that Group was evaluated already */
		/* an OR clause is decided by its first true SPT, an AND
		 * clause by its first false one */
		clause = !cnf;
		for (size_t k = i; k < tp->spt_n; k++) {
			if (tp->spt[k].group == tp->spt[i].group &&
			    spt_true(&tp->spt[k], &rev[k], req, scratch) ==
				    cnf) {
				clause = cnf;
				break;
			}
		}
		if (cnf && !clause)
			return false;
		if (!cnf && clause)
			return true;
	}
	return cnf;
}


/**
 * Evaluate the iFCs of one service profile against an initial request.
 *
 * @param cache   built by ifc_cache_alloc()
 * @param sp_idx  the service profile (index in the subscription)
 * @param req     the request, session case, registration type and state
 * @param matchv  receives the matching iFCs in priority order
 * @param matchc  room in matchv
 * @param np      number written
 * @return 0, EINVAL, ENOMEM, or ENOSPC when matchv was too short
 */
int ifc_match(const struct ifc_cache *cache, size_t sp_idx,
	      const struct ifc_req *req, const struct cx_ifc **matchv,
	      size_t matchc, size_t *np)
{
	const struct cx_service_profile *sp;
	char *scratch = NULL;
	size_t n = 0, f;
	int e = 0;

	if (!cache || !req || !req->msg || !np || (!matchv && matchc) ||
	    sp_idx >= cache->sub->sp_n)
		return EINVAL;
	*np = 0;
	if (!req->msg->req)
		return EINVAL;
	sp = &cache->sub->sp[sp_idx];
	f = cache->ifc_base[sp_idx];
	scratch = malloc(req->msg->len + 1);
	if (!scratch)
		return ENOMEM;

	for (size_t j = 0; j < sp->ifc_n; j++) {
		size_t idx = cache->order[f + j];
		const struct cx_ifc *ifc = &sp->ifc[idx];

		if ((ifc->ppi == CX_PPI_REGISTERED && !req->registered) ||
		    (ifc->ppi == CX_PPI_UNREGISTERED && req->registered))
			continue;
		if (ifc->tp &&
		    !trigger_true(ifc->tp,
				  &cache->rev[cache->spt_base[f + idx]], req,
				  scratch))
			continue;
		if (n == matchc) {
			e = ENOSPC;
			break;
		}
		matchv[n++] = ifc;
	}
	*np = n;
	free(scratch);
	return e;
}
