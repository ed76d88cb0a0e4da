/**
 * @file regevent.h  The reg event package (RFC 3680) as the S-CSCF's
 *                   notifier and as a subscriber's (P-CSCF, AS) state
 *                   tracker, per TS 24.229 5.4.2.1 and 5.2.3.
 *
 * Notifier (struct regevent), request/response only, no sockets:
 *
 *  - regevent_subscribe() takes a decoded SUBSCRIBE (initial, refresh or
 *    unsubscribe), authorises it (TS 24.229 5.4.2.1.1), answers through
 *    the caller's regevent_reply_h (status, reason, header lines, To tag:
 *    feed them to sip_reply_build()), then produces the NOTIFY with the
 *    full state through the regevent_notify_h given in the conf;
 *  - regevent_update() is the input from the S-CSCF registrar: a snapshot
 *    of one implicit registration set after a change, each contact marked
 *    with the RFC 3680 event that changed it.  Every subscription to an
 *    IMPU of the set gets a partial NOTIFY (its own version + 1); the
 *    subscriptions to an IMPU whose registration is terminated get the
 *    last one with Subscription-State: terminated and end;
 *  - subscriptions expire on their own timer (NOTIFY terminated;
 *    reason=timeout); regevent_notify_result() tells the notifier how a
 *    NOTIFY ended (481, 408, timeout end the subscription, RFC 6665
 *    4.2.2).
 *
 * A NOTIFY is handed to the caller as the Request-URI, the header lines
 * (Route, Max-Forwards, From, To, Call-ID, CSeq, Contact, Event,
 * Subscription-State, Content-Type) and the body; the caller adds its Via
 * and Content-Length (regevent_notify_print() does that) and sends it in a
 * client transaction.  Subscriptions survive a restart through the
 * regevent_store interface (regevent_store_mem for tests, the SQLite
 * one for a node); the registration state is the registrar's, which feeds
 * it again with regevent_update() after its own restart.
 *
 * Subscriber side (struct regevent_watch): regevent_watch_notify() checks
 * a received NOTIFY and merges its reginfo (full or partial, RFC 3680 5.2:
 * versions, gaps that need a new SUBSCRIBE) and reports every registration
 * and contact that became terminated, so the P-CSCF drops the phone.
 *
 * Everything runs on the thread's loop (loop_init): no locks.
 */
#ifndef IMS_CSCF_REGEVENT_H
#define IMS_CSCF_REGEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "cscf/reginfo.h"

struct buf;
struct regevent;
struct regevent_store;
struct regevent_watch;
struct sip_msg;

/* ---- store: subscriptions that survive a restart --------------------- */

/* One subscription as stored.  Strings are NUL-terminated ("" when
 * absent); route is the route set, one "<uri>" per entry, comma-joined. */
struct regevent_row {
	uint64_t id;
	const char *impu;       /* canonical subscribed IMPU */
	const char *subscriber; /* the P-Asserted-Identity authorised */
	const char *callid;
	const char *ltag;   /* our tag (To of the SUBSCRIBE) */
	const char *rtag;   /* theirs (From tag) */
	const char *luri;   /* our URI (the SUBSCRIBE's To URI) */
	const char *ruri;   /* theirs (From URI) */
	const char *target; /* remote target (Contact URI) */
	const char *route;
	const char *event_id; /* Event id parameter, "" when none */
	uint32_t lcseq;       /* CSeq of our last NOTIFY */
	uint32_t rcseq;       /* CSeq of their last SUBSCRIBE */
	uint32_t version;     /* reginfo version of our last NOTIFY */
	int64_t expires_at;   /* wall clock, ms since the epoch */
};

typedef int(regevent_row_h)(const struct regevent_row *row, void *arg);

/* The store's operations: put inserts or replaces by id. */
struct regevent_store_ops {
	int (*put)(struct regevent_store *st, const struct regevent_row *row);
	int (*del)(struct regevent_store *st, uint64_t id);
	int (*load)(struct regevent_store *st, regevent_row_h *rowh, void *arg);
};

struct regevent_store {
	const struct regevent_store_ops *ops;
};

/* A store in memory (tests, and a restart of the notifier object within
 * one process).  mem_deref it. */
int regevent_store_mem_alloc(struct regevent_store **stp) IMS_MUST_CHECK;
size_t regevent_store_mem_count(const struct regevent_store *st);

/* A store in an SQLite file (created with its table when missing). */
int regevent_store_sqlite_open(struct regevent_store **stp,
			       const char *path) IMS_MUST_CHECK;

/* ---- notifier -------------------------------------------------------- */

/* The answer to one SUBSCRIBE, valid during the callback only.  Build it
 * with sip_reply_build(mb, req, scode, {reason, totag, hdrs}). */
struct regevent_reply {
	uint16_t scode;
	const char *reason;
	const char *hdrs; /* extra header lines, each CRLF-ended, or "" */
	struct pl totag;  /* To tag for a new dialog, or empty */
	uint64_t sub_id;  /* the subscription, 0 when none */
};

typedef void(regevent_reply_h)(const struct regevent_reply *rep, void *arg);

/* A NOTIFY to send in a subscription's dialog, valid during the callback
 * only (regevent_notify_print() makes the request of it). */
struct regevent_notify {
	uint64_t sub_id;
	const char *impu; /* the subscribed IMPU */
	const char *ruri; /* Request-URI (RFC 3261 12.2.1.1) */
	const char *hdrs; /* header lines, CRLF-ended, no Via/Content-Length */
	struct pl body;   /* application/reginfo+xml */
	uint32_t cseq;
	uint32_t version;   /* reginfo version in the body */
	bool full;          /* full state (else partial) */
	bool terminated;    /* Subscription-State: terminated */
	const char *reason; /* its reason, or NULL */
};

typedef void(regevent_notify_h)(const struct regevent_notify *n, void *arg);

struct regevent_conf {
	const char *contact;          /* our Contact URI in the dialogs */
	uint32_t min_expires;         /* default 60; below (not 0): 423 */
	uint32_t max_expires;         /* default 600000 (TS 24.229 5.1.1.3) */
	uint32_t default_expires;     /* Expires absent: 3761 (RFC 3680 4.4) */
	uint32_t max_subs;            /* in all, default 100000 */
	uint32_t max_subs_per_impu;   /* default 16 */
	struct regevent_store *store; /* NULL: memory only */
	regevent_notify_h *notifyh;
	void *arg;
};

/* A Contact parameter to show as <unknown-param> (value NULL: a flag). */
struct regevent_param {
	const char *name;
	const char *value;
};

/* A contact as the registrar reports it (strings are copied). */
struct regevent_contact {
	const char *id;  /* stable binding id; NULL: derived from uri */
	const char *uri; /* the Contact URI */
	enum reginfo_ct_state state;
	enum reginfo_event event; /* what the change was */
	bool changed;             /* false: unchanged, in full state only */
	uint32_t expires;         /* seconds left (active contacts) */
	uint32_t retry_after;     /* probation: seconds, 0 none */
	int16_t q;                /* 0..1000, -1 when the Contact had none */
	const char *callid;       /* of the REGISTER, NULL when unknown */
	uint32_t cseq;
	const char *instance; /* +sip.instance value ("<urn:...>"), NULL */
	const struct regevent_param *params; /* further unknown-params
						(feature tags) */
	size_t param_n;
	const char *path;      /* Path of the REGISTER (comma-separated
				  values), NULL; authorises the P-CSCF */
	const char *pub_gruu;  /* RFC 5628, NULL */
	const char *temp_gruu; /* RFC 5628, NULL */
	uint32_t temp_gruu_cseq;
	const char *display_name;
};

/* One IMPU of the set. */
struct regevent_reg {
	const char *aor; /* the IMPU (sip:, sips: or tel: URI) */
	enum reginfo_reg_state state;
	const struct regevent_contact *ct;
	size_t ct_n;
};

/* A snapshot of an implicit registration set after a change. */
struct regevent_set {
	const struct regevent_reg *reg; /* every IMPU of the set */
	size_t reg_n;
	const char *const *as_uri; /* ASes of the iFCs (may subscribe),
				      NULL-ended, or NULL */
};

int regevent_alloc(struct regevent **rep,
		   const struct regevent_conf *conf) IMS_MUST_CHECK;
/* Stop the timers without sending anything (the store keeps the
 * subscriptions for the next start); then mem_deref. */
void regevent_close(struct regevent *re);

int regevent_subscribe(struct regevent *re, struct sip_msg *req,
		       regevent_reply_h *replyh, void *arg) IMS_MUST_CHECK;
int regevent_update(struct regevent *re,
		    const struct regevent_set *set) IMS_MUST_CHECK;
/* How the NOTIFY with this CSeq ended: its final status, or 408 when the
 * transaction timed out or the transport failed. */
void regevent_notify_result(struct regevent *re, uint64_t sub_id, uint32_t cseq,
			    uint16_t scode);
/* End a subscription (administrative): NOTIFY terminated;reason=... */
int regevent_terminate(struct regevent *re, uint64_t sub_id,
		       const char *reason) IMS_MUST_CHECK;

size_t regevent_count(const struct regevent *re); /* subscriptions */

/* What the notifier keeps: records and the blocks they share. */
struct regevent_stats {
	size_t subs;  /* subscriptions */
	size_t aors;  /* IMPUs with a registration */
	size_t peers; /* subscriber sides of dialogs (interned) */
	size_t hosts; /* lists of hosts that may subscribe (interned) */
};

void regevent_stats(const struct regevent *re, struct regevent_stats *st);
size_t regevent_count_impu(const struct regevent *re, const char *impu);

/* The whole request: "NOTIFY ruri SIP/2.0", the Via line given (without
 * CRLF), the header lines, Content-Length and the body. */
int regevent_notify_print(struct buf *mb, const struct regevent_notify *n,
			  const char *via) IMS_MUST_CHECK;

/* The canonical form of an IMPU used as a key: a SIP/SIPS URI as
 * registrar_aor() makes it, a tel URI as written without parameters.
 * EBADMSG when it is not a URI, ENOSPC when it does not fit. */
int regevent_impu_canon(const char *uri, size_t len, char *out,
			size_t size) IMS_MUST_CHECK;

/* ---- subscriber ------------------------------------------------------ */

/* A registration or a contact that the NOTIFY terminated. */
struct regevent_term {
	const char *aor;
	const char *reg_id;
	const char *ct_id;        /* NULL: the whole registration ended */
	const char *ct_uri;       /* NULL with ct_id */
	enum reginfo_event event; /* the contact's (UNREGISTERED when a
				     full state left it out) */
};

typedef void(regevent_term_h)(const struct regevent_term *t, void *arg);

struct regevent_watch_result {
	bool applied;     /* the body changed the state */
	bool stale;       /* version not above the last: ignored */
	bool resubscribe; /* a gap, or partial before full: SUBSCRIBE again
			     to get full state (RFC 3680 5.2) */
	bool terminated;  /* Subscription-State: terminated */
	char reason[24];  /* its reason, "" when none */
	uint32_t expires; /* Subscription-State expires, 0 none */
	uint32_t retry_after;
	uint32_t version; /* of the body, when there was one */
};

int regevent_watch_alloc(struct regevent_watch **wp) IMS_MUST_CHECK;
/* Forget the state (a new subscription dialog starts over). */
void regevent_watch_reset(struct regevent_watch *w);

/* Apply a reginfo body. */
int regevent_watch_body(struct regevent_watch *w, const char *xml, size_t len,
			regevent_term_h *termh, void *arg,
			struct regevent_watch_result *res, char *err,
			size_t errsz) IMS_MUST_CHECK;

/* Check a NOTIFY (Event: reg, Subscription-State, Content-Type) and apply
 * its body when it has one.  EPROTO for a NOTIFY of another package or
 * without Subscription-State (answer 489 / 400), EBADMSG for a body that
 * is not reginfo (answer 400); otherwise answer 200. */
int regevent_watch_notify(struct regevent_watch *w, struct sip_msg *notify,
			  regevent_term_h *termh, void *arg,
			  struct regevent_watch_result *res, char *err,
			  size_t errsz) IMS_MUST_CHECK;

/* The known state of an AOR, or NULL.  The state is kept packed (what
 * a P-CSCF keeps per user): of each contact its id, URI, state, event and
 * expires; the view is unpacked and valid until the next call on w. */
const struct reginfo_reg *regevent_watch_reg(const struct regevent_watch *w,
					     const char *aor);
/* The whole state (registrations that are not terminated), a view as
 * above; NULL when out of memory. */
const struct reginfo *regevent_watch_state(const struct regevent_watch *w);

#endif
