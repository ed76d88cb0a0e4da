/**
 * @file edit.h  Rewriting a decoded SIP message into a new one, for the
 *               CSCF roles (P-CSCF, I-CSCF) that change headers before the
 *               proxy core forwards.
 *
 * A CSCF decides what a request or response must lose and gain (RFC 3325
 * trusted headers removed at the edge of the trust domain, Path, Route,
 * P-Charging-Vector added, TS 24.229 5.2 and 5.3); the proxy core then
 * forwards it (Via, Max-Forwards, transactions: proxy.h).  The edit makes
 * a new counted message that owns its bytes: the original is not touched,
 * so the caller may still answer it.  Header lines keep their order; an
 * added line goes right after the last Via line, or above the first line
 * of its name when that one comes before the Vias (RFC 3261 7.3.1 allows
 * it; Kamailio puts its Record-Route at the top), which puts an added
 * Route, Path or Record-Route above every existing one (the top value,
 * RFC 3261 16.6 step 4, 20.34, RFC 3327 4).  The body is copied as it is, so
 * Content-Length stays right.
 */
#ifndef IMS_CSCF_EDIT_H
#define IMS_CSCF_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/msg.h"

struct sip_uri;

/* The bit of a known header in cscf_edit.drop. */
#define CSCF_DROP(id) (UINT64_C(1) << (unsigned)(id))

struct cscf_edit {
	const char *ruri;              /* requests: new Request-URI, or NULL */
	uint64_t drop;                 /* CSCF_DROP() of each id removed */
	const char *const *drop_names; /* other header names removed (any
					  case), NULL-terminated, or NULL */
	size_t route_skip;             /* leading Route values removed */
	const char *add;               /* lines to add, each CRLF-ended */
};

/* Make *outp, a copy of msg with the edit applied.  The copy keeps msg's
 * transport data (tp, src, dst, a reference to conn, rx_ms).
 * @return 0, EBADMSG (the result does not decode: a bad added line),
 *         EMSGSIZE (over SIP_MSG_MAX), ENOMEM */
int cscf_edit_msg(struct sip_msg **outp, const struct sip_msg *msg,
		  const struct cscf_edit *e) IMS_MUST_CHECK;

/* The number of leading Route values (RFC 3261 16.4) that name `me`:
 * same host (case-insensitive) and port (the scheme's default when
 * absent).  A value that does not decode ends the count. */
size_t cscf_edit_own_routes(const struct sip_msg *msg,
			    const struct sip_uri *me);

/* Does this URI text (name-addr or addr-spec) name `me` (as above)? */
bool cscf_edit_uri_is(const struct pl *val, const struct sip_uri *me);

/* The unquoted value of a token or quoted-string (RFC 3261 25.1). */
void cscf_edit_unquote(struct pl *v);

#endif
