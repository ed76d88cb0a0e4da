/**
 * @file registrar.h  The RFC 3261 10.3 registrar (plain SIP, not IMS).
 *
 * registrar_handle() takes a decoded REGISTER and decides: it
 * authenticates (when an auth object is configured), checks the domain,
 * the authorisation of the user for the address-of-record, applies the
 * binding changes all-or-nothing, and produces the response (status,
 * reason, extra header lines).  It sends nothing itself: the answer goes
 * to the caller's reg_reply_h, which builds it with sip_reply_build()
 * (opts.reason, opts.hdrs) or hands it to its server transaction.
 *
 * With a store, a 200 OK is delivered only after the batch's changes are
 * committed (so a 200 means durable): the registrar's end-of-batch loop
 * hook writes all changes of one loop iteration in one transaction, and
 * the queued callbacks run from a zero-delay timer early in the next
 * iteration.  Answers that change nothing (errors, challenges, and
 * queries when nothing is pending) are delivered before
 * registrar_handle() returns.  The registrar needs the thread's loop
 * (loop_init): its timers and hook live there.
 *
 * registrar_handle() keeps nothing of the request once it returns (the
 * answers that wait for a commit are put together before it returns), so
 * it may be given the stack's receive buffer rather than a copy: the
 * caller copies the request only for an answer that needs a server
 * transaction.  registrar_handle_now() gives even a 200 that waits for
 * the commit before it returns (rep->wait), for a caller that builds the
 * answer from the request at once and queues itself (registrar_wait())
 * to be told when it may go.
 *
 * Bindings expire on their own timer.  registrar_lookup() lists an AOR's
 * contacts by q, with the flow (transport, source address, connection)
 * each REGISTER came over, for a proxy to reach a UA behind NAT.
 */
#ifndef IMS_SIP_REGISTRAR_H
#define IMS_SIP_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"

struct auth;
struct regstore;
struct registrar;
struct sip_conn;
struct sip_msg;
struct sip_uri;

struct registrar_conf {
	/* Domains served, NULL-terminated (RFC 3261 10.3 step 1). */
	const char *const *domains;
	uint32_t min_expires;     /* default 60; below it: 423 */
	uint32_t max_expires;     /* default 3600; above it: shortened */
	uint32_t default_expires; /* default 3600 */
	uint32_t max_contacts;    /* bindings per AOR, default 16 */
	uint32_t max_bindings;    /* bindings in all, default 100000 */
	uint32_t commit_delay_ms; /* group commit: wait up to this long for
				     more changes before a COMMIT (0: at the
				     end of each loop batch) */
	struct auth *auth;        /* NULL: no authentication (tests, trusted) */
	const char *realm;        /* NULL: the AOR's domain is the realm */
	struct regstore *store;   /* NULL: memory only */
};

/* The answer to one REGISTER.  Valid only during the callback. */
struct reg_reply {
	int err; /* 0; ECANCELED when the registrar closed first */
	uint16_t scode;
	const char *reason; /* reason phrase */
	const char *hdrs;   /* extra header lines, each CRLF-ended, or "" */
	size_t hdrs_len;    /* strlen(hdrs) */
	/* registrar_handle_now() only: the answer (a 200) is what will be
	 * sent once the changes it reports are committed.  The callback
	 * queues a struct reg_wait with registrar_wait() to be told when;
	 * if it does not, nobody is (the bindings are applied anyway). */
	bool wait;
	/* true for a challenge (401 without credentials for the realm, or
	 * with a stale nonce) and the 403 of a source blocked for too many
	 * failures: delivered before registrar_handle() returns, it changed
	 * nothing and may be sent without a server transaction (RFC 3261
	 * 8.2.7); a retransmission is then simply challenged again.  Every
	 * other answer goes through the request's server transaction, so a
	 * retransmission gets the same answer (RFC 3261 10.3, 17.2.2). */
	bool stateless;
};

typedef void(reg_reply_h)(const struct reg_reply *rep, void *arg);

/* After the commit an answer waited for: err 0, the answer given with
 * rep->wait may go; otherwise storing failed and the request gets 500
 * REG_FAIL_REASON with the lines REG_FAIL_HDRS instead (RFC 3261 10.3
 * step 7: the tentative updates were removed). */
typedef void(reg_done_h)(int err, void *arg);

#define REG_FAIL_REASON "Server Internal Error (bindings not stored)"
#define REG_FAIL_HDRS   "Retry-After: 5\r\n"

/* A place in the queue of answers waiting for a commit, inside the
 * caller's counted object (registrar_wait()). */
struct reg_wait {
	struct le le;
	reg_done_h *doneh;
	int err;
};

/* Create the registrar; with a store, load the stored bindings (dropping
 * the expired ones) and restart their timers. */
int registrar_alloc(struct registrar **regp,
		    const struct registrar_conf *conf) IMS_MUST_CHECK;

/* Explicit shutdown: commit what is pending, answer the queued requests,
 * stop the timers.  The object is then released with mem_deref. */
void registrar_close(struct registrar *reg);

/* Process a REGISTER.  Returns 0 when replyh has run or will run exactly
 * once; an errno (EINVAL, ENOMEM) when it will not (answer 500). */
int registrar_handle(struct registrar *reg, struct sip_msg *req,
		     reg_reply_h *replyh, void *arg) IMS_MUST_CHECK;

/* The same, for a caller that builds each answer when it is decided:
 * replyh runs exactly once, before this returns, also for a 200 that
 * must wait for the commit (rep->wait), so the request need not outlive
 * the call.  Returns as registrar_handle(). */
int registrar_handle_now(struct registrar *reg, struct sip_msg *req,
			 reg_reply_h *replyh, void *arg) IMS_MUST_CHECK;

/* From a callback given rep->wait: queue wt, which lives in the counted
 * object obj (a reference is held until doneh(err, obj) has run, after
 * the commit; in the order the answers were decided). */
void registrar_wait(struct registrar *reg, struct reg_wait *wt,
		    reg_done_h *doneh, void *obj);

/* Commit pending changes and deliver the queued answers now (the loop
 * hook does this at the end of every batch). */
int registrar_flush(struct registrar *reg) IMS_MUST_CHECK;

/* Helpers for any registrar (also the S-CSCF's): the Contact params to
 * keep and echo (not expires, q), and the Path values comma-joined. */
int registrar_params_keep(const struct pl *params, char **out) IMS_MUST_CHECK;
int registrar_path_join(struct sip_msg *req, char *buf,
			size_t size) IMS_MUST_CHECK;

/* A registered contact, as a view valid until the registrar next changes
 * (copy what you keep; take a mem_ref of conn to keep it). */
struct reg_contact {
	const char *uri;
	const char *params;   /* echoed Contact params (no expires/q) */
	const char *path;     /* RFC 3327, "" when none */
	const char *instance; /* RFC 5626 +sip.instance, "" when none */
	uint32_t reg_id;
	uint16_t q;            /* 0..1000 */
	uint32_t expires;      /* seconds left */
	int tp;                /* enum sip_transp of the REGISTER */
	struct sa src;         /* where the REGISTER came from (NAT flow) */
	struct sa dst;         /* the local address it arrived on */
	struct sip_conn *conn; /* stream it came on, if still known */
	const char *user_agent;
};

/* Contacts of a canonical AOR ("sip:user@host"), q descending; *np is the
 * number available (may exceed max).  ENOENT when none is registered. */
int registrar_lookup(const struct registrar *reg, const struct pl *aor,
		     struct reg_contact *v, size_t max,
		     size_t *np) IMS_MUST_CHECK;
/* Same from any SIP/SIPS URI (canonicalised first). */
int registrar_lookup_uri(const struct registrar *reg, const struct sip_uri *uri,
			 struct reg_contact *v, size_t max,
			 size_t *np) IMS_MUST_CHECK;

/* RFC 3261 10.3 step 5 canonical AOR: scheme, unescaped user (re-escaped
 * only where the grammar needs it), lowercase host, port; no parameters.
 * EPROTO for schemes other than sip/sips, ENOSPC when it does not fit. */
int registrar_aor(const struct sip_uri *uri, char *buf, size_t size,
		  size_t *lenp) IMS_MUST_CHECK;

size_t registrar_count(const struct registrar *reg); /* bindings */

#endif
