/**
 * @file merge.h  The final response of a forked request (RFC 3261 16.7
 * steps 6 and 7), for the S-CSCF's forking to a user's contacts.
 *
 * Each branch's final non-2xx answer goes in with cscf_merge_add(); when
 * every branch has answered, cscf_merge_result() gives the one to send:
 * a 6xx if any came, else the lowest class, and within 4xx one of 401,
 * 407, 415, 420, 484 first (16.7 step 6: they tell the caller how to
 * retry).  When that is a 401 or 407, every WWW-Authenticate and
 * Proxy-Authenticate value of every 401/407 is in it, unmodified (step
 * 7), so the caller can answer all the challenges at once.
 */
#ifndef IMS_CSCF_MERGE_H
#define IMS_CSCF_MERGE_H

#include <stdbool.h>

#include "core/mem.h"

struct buf;
struct sip_msg;

struct cscf_merge {
	struct sip_msg *best; /* counted copy, NULL until one came */
	struct buf *auth;     /* the challenge lines of every 401/407 */
};

/* Is a better than b (b may be NULL) by 16.7 step 6? */
bool cscf_merge_better(const struct sip_msg *a, const struct sip_msg *b);

/* A branch's final response (>= 300).  ENOMEM, EINVAL. */
int cscf_merge_add(struct cscf_merge *m,
		   const struct sip_msg *resp) IMS_MUST_CHECK;

/* The response to send (a counted reference, *respp); ENOENT when no
 * branch answered. */
int cscf_merge_result(const struct cscf_merge *m,
		      struct sip_msg **respp) IMS_MUST_CHECK;

/* Forget everything (the struct may be zeroed or reset before use). */
void cscf_merge_reset(struct cscf_merge *m);

#endif
