/**
 * @file ifc.h  Initial Filter Criteria evaluation for the S-CSCF
 *              (TS 29.228 annex B.2.2 and C, TS 24.229 5.4.3.2/5.4.3.3).
 *
 * An ifc_cache is built once per subscription (after the SAA that carried
 * its User-Data): it keeps a reference to the cx_subscription and the
 * POSIX regular expressions of every SPT compiled.  ifc_match() then
 * evaluates the iFCs of one service profile against an initial request and
 * returns the matching ones in priority order; the S-CSCF contacts their
 * application servers in that order.  The subscription must not change
 * while a cache refers to it (a new profile gets a new cache).
 * An ifc_pool shares one cache among the subscriptions whose iFCs are the
 * same (the users of one service profile).
 */
#ifndef IMS_CSCF_IFC_H
#define IMS_CSCF_IFC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"
#include "diameter/userdata.h"

struct sip_msg;
struct ifc_cache;

/* What the S-CSCF knows about the request beyond its bytes. */
struct ifc_req {
	struct sip_msg *msg;     /* the initial request */
	enum cx_session_case sc; /* the session case being served */
	unsigned reg_type;       /* REGISTER: one CX_REGTYPE_ bit */
	bool registered;         /* served user registered (PPI) */
};

/* Compile every regular expression of sub (Request-URI, header Content,
 * SDP Line and Content).  EBADMSG with a sentence in err when one does not
 * compile. */
int ifc_cache_alloc(struct ifc_cache **cachep, struct cx_subscription *sub,
		    char *err, size_t errsz) IMS_MUST_CHECK;

/* The subscription the cache was built from; ifc_match() returns
 * pointers into its iFC arrays. */
const struct cx_subscription *ifc_cache_sub(const struct ifc_cache *cache);

/* Caches shared by content (the service part of the subscription, not its
 * identities): ifc_pool_get() returns a counted reference to the cache of
 * an equal service part when there is one, or compiles sub into a new one
 * that stays in the pool while referenced.  Callers use ifc_cache_sub()
 * of the result, which may not be sub. */
struct ifc_pool;
int ifc_pool_alloc(struct ifc_pool **poolp) IMS_MUST_CHECK;
int ifc_pool_get(struct ifc_pool *pool, struct ifc_cache **cachep,
		 struct cx_subscription *sub, char *err,
		 size_t errsz) IMS_MUST_CHECK;
size_t ifc_pool_count(const struct ifc_pool *pool);

/* The iFCs of service profile sp_idx that match req, in priority order,
 * as pointers into the cached subscription.  Writes at most matchc; *np is
 * the number written.  ENOSPC when more matched than matchc. */
int ifc_match(const struct ifc_cache *cache, size_t sp_idx,
	      const struct ifc_req *req, const struct cx_ifc **matchv,
	      size_t matchc, size_t *np) IMS_MUST_CHECK;

#endif
