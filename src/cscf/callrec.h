/**
 * @file callrec.h  Call records at the S-CSCF: the call hooks of session
 *                  routing (scscf_route.h) correlated into one record per
 *                  call and session case, handed to subscribers.
 *
 * The S-CSCF keeps no dialog state (docs/internals/scscf-routing.md): it
 * sees an initial INVITE leave (start), its 2xx (answer), and a BYE,
 * CANCEL or error final (end) as unrelated messages.  This module ties
 * them together by Call-ID in a bounded table: one open record per
 * (Call-ID, session case, served user) from the start until the end
 * event, or until a lifetime runs out (setup_s before an answer, max_s
 * after), then the complete record goes to every subscriber and the
 * entry is gone.  Which side hung up: the BYE's From tag is the INVITE's
 * (the caller) or not (the callee).  A later issue's call-record store
 * subscribes here; callrec_log_h, the default subscriber, logs one line.
 */
#ifndef IMS_CSCF_CALLREC_H
#define IMS_CSCF_CALLREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct sip_msg;
struct scscf_call;
struct callrec_tab;

#define CALLREC_ICID_MAX 128 /* icid-value with its NUL */
#define CALLREC_SUBS_MAX 8

enum callrec_case {
	CALLREC_ORIG = 0,
	CALLREC_TERM,
};

/* How the call ended. */
enum callrec_end {
	CALLREC_END_BYE_CALLER = 1, /* BYE from the side that sent the INVITE */
	CALLREC_END_BYE_CALLEE,     /* BYE from the called side */
	CALLREC_END_CANCEL,         /* CANCEL before an answer */
	CALLREC_END_FAILED,         /* an error final response (scode) */
	CALLREC_END_TIMEOUT,        /* no end seen within the lifetime */
	CALLREC_END_CLOSED,         /* still open when the table closed */
};

/* A complete record (views valid during the subscriber's call). */
struct callrec {
	const char *call_id;
	const char *icid; /* P-Charging-Vector icid-value, "" when none */
	const char *served_user;
	enum callrec_case sc;
	bool unregistered; /* terminating to an unregistered user */
	const char *from;  /* the INVITE's From and To URIs */
	const char *to;
	int64_t start_ms;  /* wall clock, ms since the epoch */
	int64_t answer_ms; /* 0: not answered */
	int64_t end_ms;
	enum callrec_end end;
	uint16_t scode; /* FAILED: the final status; else 0 */
};

typedef void(callrec_h)(const struct callrec *rec, void *arg);
typedef int64_t(callrec_clock_h)(void);

struct callrec_conf {
	uint32_t setup_s;     /* unanswered record's life, default 300 */
	uint32_t max_s;       /* answered record's life, default 14400 */
	uint32_t max_calls;   /* open records, default 10000; beyond, a new
				 call is not recorded (and logged) */
	callrec_clock_h *now; /* wall clock in ms; NULL: the real one */
};

int callrec_alloc(struct callrec_tab **tp,
		  const struct callrec_conf *conf) IMS_MUST_CHECK;
/* End every open record (CALLREC_END_CLOSED) and stop the timers. */
void callrec_close(struct callrec_tab *t);

/* Subscribers get every complete record, in subscription order.
 * ENOSPC beyond CALLREC_SUBS_MAX, EALREADY when (h, arg) is there. */
int callrec_subscribe(struct callrec_tab *t, callrec_h *h,
		      void *arg) IMS_MUST_CHECK;
void callrec_unsubscribe(struct callrec_tab *t, callrec_h *h, void *arg);

/* The session routing hooks (scscf_route_hooks), arg the table.  end also
 * takes a request with a final status the caller answered itself (msg an
 * INVITE, scode >= 300, served_user "" for every open record of the
 * Call-ID). */
void callrec_call_start(const struct scscf_call *c, void *arg);
void callrec_call_answer(const struct scscf_call *c, void *arg);
void callrec_call_end(const struct scscf_call *c, void *arg);

size_t callrec_open_count(const struct callrec_tab *t);

/* One line: call-id=... icid=... user=... case=orig|term from=... to=...
 * start=ISO8601 answer=ISO8601|- end=ISO8601 duration=s end-cause=...
 * scode=N.  ENOSPC when size is too small. */
int callrec_format(const struct callrec *rec, char *buf,
		   size_t size) IMS_MUST_CHECK;
/* The default subscriber: callrec_format() at INFO (module "callrec"). */
void callrec_log_h(const struct callrec *rec, void *arg);

/* The icid-value of msg's P-Charging-Vector (RFC 7315 4.6).  ENOENT when
 * none, ENOSPC when longer than size. */
int callrec_icid(const struct sip_msg *msg, char *buf,
		 size_t size) IMS_MUST_CHECK;

#endif
