/**
 * @file callrec.c  Call records from the S-CSCF's call hooks.
 *
 * Design
 *
 * A hash by Call-ID of open records (struct cr_ent, counted by the
 * hash).  Session routing runs its hooks once per session case (the
 * passes that come back from an AS run none), so one call through an
 * S-CSCF that serves both ends has two records with the same Call-ID:
 * orig and term, each with its served user.  The events find their
 * record as follows:
 *   start   a new record unless (Call-ID, case, user) is open already;
 *   answer  the first 2xx of that record sets the answer time;
 *   end     a BYE (no session case: in-dialog requests are not
 *           classified) ends every record of the Call-ID; a CANCEL every
 *           unanswered one; an error final the record of its case and
 *           user (every unanswered one of the Call-ID when no user is
 *           given, the role's own answers).
 * A BYE passes the S-CSCF once per Record-Route entry of ours; the first
 * pass ends the records and the others find none.  Each record has one
 * timer: setup_s until an answer, then max_s; when it fires the record
 * ends as TIMEOUT (a BYE that took another path, a lost CANCEL).  The
 * table is bounded by max_calls: a call beyond it is not recorded rather
 * than an older one dropped, and the refusal is logged.
 * Wall-clock times come from conf.now (tests freeze it); lifetimes run
 * on the loop's timers (tmr_test_set_now freezes them).
 */
#include "cscf/callrec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "cscf/scscf_route.h"
#include "sip/addr.h"
#include "sip/msg.h"

#define LOG_MODULE "callrec"

#define CR_LINE_MAX 2048

struct sub {
	callrec_h *h;
	void *arg;
};

struct callrec_tab {
	struct callrec_conf conf;
	struct hash *ht; /* struct cr_ent by Call-ID, counted */
	size_t n;
	struct sub subs[CALLREC_SUBS_MAX];
	size_t subs_n;
	bool closed;
};

struct cr_ent {
	struct le he;
	struct callrec_tab *t; /* weak */
	char *call_id, *icid, *user, *from, *to, *from_tag;
	enum callrec_case sc;
	bool unreg;
	int64_t start_ms, answer_ms;
	struct tmr tmr;
};

static int64_t real_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int64_t now_ms(const struct callrec_tab *t)
{
	return t->conf.now ? t->conf.now() : real_now();
}


static void ent_destructor(void *arg)
{
	struct cr_ent *e = arg;

	tmr_cancel(&e->tmr);
	mem_deref(e->call_id);
	mem_deref(e->icid);
	mem_deref(e->user);
	mem_deref(e->from);
	mem_deref(e->to);
	mem_deref(e->from_tag);
}


static void destructor(void *arg)
{
	struct callrec_tab *t = arg;

	callrec_close(t);
	mem_deref(t->ht);
}


/**
 * Create a call record table.
 *
 * @param tp    receives it
 * @param conf  lifetimes, bound, clock (NULL: the defaults)
 * @return 0, EINVAL, ENOMEM
 */
int callrec_alloc(struct callrec_tab **tp, const struct callrec_conf *conf)
{
	struct callrec_tab *t;
	int err;

	if (!tp)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), destructor);
	if (!t)
		return ENOMEM;
	if (conf)
		t->conf = *conf;
	if (!t->conf.setup_s)
		t->conf.setup_s = 300;
	if (!t->conf.max_s)
		t->conf.max_s = 14400;
	if (!t->conf.max_calls)
		t->conf.max_calls = 10000;
	err = hash_alloc(&t->ht, 256);
	if (err) {
		mem_deref(t);
		return err;
	}
	*tp = t;
	return 0;
}


int callrec_subscribe(struct callrec_tab *t, callrec_h *h, void *arg)
{
	size_t i;

	if (!t || !h)
		return EINVAL;
	for (i = 0; i < t->subs_n; i++)
		if (t->subs[i].h == h && t->subs[i].arg == arg)
			return EALREADY;
	if (t->subs_n >= CALLREC_SUBS_MAX)
		return ENOSPC;
	t->subs[t->subs_n].h = h;
	t->subs[t->subs_n].arg = arg;
	t->subs_n++;
	return 0;
}


void callrec_unsubscribe(struct callrec_tab *t, callrec_h *h, void *arg)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->subs_n; i++) {
		if (t->subs[i].h != h || t->subs[i].arg != arg)
			continue;
		memmove(&t->subs[i], &t->subs[i + 1],
			(t->subs_n - i - 1) * sizeof(t->subs[0]));
		t->subs_n--;
		return;
	}
}


size_t callrec_open_count(const struct callrec_tab *t)
{
	return t ? t->n : 0;
}


/* The record is complete: to every subscriber, then gone. */
static void ent_finish(struct cr_ent *e, enum callrec_end why, uint16_t scode)
{
	struct callrec_tab *t = e->t;
	struct callrec rec;
	size_t i;

	memset(&rec, 0, sizeof(rec));
	rec.call_id = e->call_id;
	rec.icid = e->icid ? e->icid : "";
	rec.served_user = e->user;
	rec.sc = e->sc;
	rec.unregistered = e->unreg;
	rec.from = e->from;
	rec.to = e->to;
	rec.start_ms = e->start_ms;
	rec.answer_ms = e->answer_ms;
	rec.end_ms = now_ms(t);
	rec.end = why;
	rec.scode = why == CALLREC_END_FAILED ? scode : 0;
	tmr_cancel(&e->tmr);
	hash_unlink(t->ht, &e->he);
	t->n--;
	for (i = 0; i < t->subs_n; i++)
		t->subs[i].h(&rec, t->subs[i].arg);
	mem_deref(e);
}


static void ent_timeout(void *arg)
{
	struct cr_ent *e = arg;

	ent_finish(e, CALLREC_END_TIMEOUT, 0);
}


/**
 * End every open record (CALLREC_END_CLOSED); the table then records
 * nothing more.  Idempotent.
 */
void callrec_close(struct callrec_tab *t)
{
	uint32_t k;

	if (!t || t->closed)
		return;
	t->closed = true;
	if (!t->ht)
		return; /* callrec_alloc failed half-way */
	/* every bucket: the hash has 256 and keys are spread over them */
	for (k = 0; k < 256; k++) {
		struct list *l = hash_list(t->ht, k);
		struct le *le;

		while (l && (le = l->head))
			ent_finish(le->data, CALLREC_END_CLOSED, 0);
	}
}


static int copy_uri(char **dst, const struct sip_addr *a)
{
	return pl_strdup(dst, &a->uri.text);
}


static bool callid_of(const struct sip_msg *msg, struct pl *cid)
{
	return !sip_msg_callid(msg, cid) && pl_isset(cid);
}


static enum callrec_case case_of(const struct scscf_call *c)
{
	return c->sc == SCSCF_SC_ORIG ? CALLREC_ORIG : CALLREC_TERM;
}


static struct cr_ent *find(const struct callrec_tab *t, const struct pl *cid,
			   enum callrec_case sc, const char *user)
{
	struct le *le;

	LIST_FOREACH (hash_list(t->ht, hash_pl(cid)), le) {
		struct cr_ent *e = le->data;

		if (pl_eq_str(cid, e->call_id) && e->sc == sc &&
		    !strcmp(e->user, user ? user : ""))
			return e;
	}
	return NULL;
}


/**
 * Session routing hook: an initial INVITE left for its target.
 */
void callrec_call_start(const struct scscf_call *c, void *arg)
{
	struct callrec_tab *t = arg;
	struct sip_msg *msg;
	const struct sip_addr *from = NULL, *to = NULL;
	char icid[CALLREC_ICID_MAX];
	struct cr_ent *e;
	struct pl cid;
	int err;

	if (!t || t->closed || !c || !c->msg || !c->msg->req)
		return;
	msg = (struct sip_msg *)c->msg; /* typed views decode on demand */
	if (!callid_of(msg, &cid) || sip_msg_from(msg, &from) ||
	    sip_msg_to(msg, &to))
		return;
	if (find(t, &cid, case_of(c), c->served_user))
		return; /* the same call and case: recorded already */
	if (t->n >= t->conf.max_calls) {
		LOG_WARN(NULL, "call %.*s not recorded: %zu calls open",
			 PL_FMT(&cid), t->n);
		return;
	}
	e = mem_zalloc(sizeof(*e), ent_destructor);
	if (!e)
		return;
	tmr_init(&e->tmr);
	e->t = t;
	e->sc = case_of(c);
	e->unreg = c->sc == SCSCF_SC_TERM_UNREG;
	e->start_ms = now_ms(t);
	err = pl_strdup(&e->call_id, &cid);
	if (!err) {
		const char *u = c->served_user ? c->served_user : "";

		e->user = mem_strdup(u, strlen(u));
		err = e->user ? 0 : ENOMEM;
	}
	if (!err)
		err = copy_uri(&e->from, from);
	if (!err)
		err = copy_uri(&e->to, to);
	if (!err)
		err = pl_strdup(&e->from_tag, &from->tag);
	if (!err && !callrec_icid(msg, icid, sizeof(icid)))
		e->icid = mem_strdup(icid, strlen(icid));
	if (err) {
		LOG_WARN(NULL, "call %.*s not recorded: %s", PL_FMT(&cid),
			 log_strerror(err));
		mem_deref(e);
		return;
	}
	hash_append(t->ht, hash_pl(&cid), &e->he, e);
	t->n++;
	tmr_start(&e->tmr, (uint64_t)t->conf.setup_s * 1000, ent_timeout, e);
}


/**
 * Session routing hook: a 2xx to the INVITE.
 */
void callrec_call_answer(const struct scscf_call *c, void *arg)
{
	struct callrec_tab *t = arg;
	struct cr_ent *e;
	struct pl cid;

	if (!t || t->closed || !c || !c->msg || !callid_of(c->msg, &cid))
		return;
	e = find(t, &cid, case_of(c), c->served_user);
	if (!e || e->answer_ms)
		return; /* another fork's 2xx: the call was answered once */
	e->answer_ms = now_ms(t);
	tmr_start(&e->tmr, (uint64_t)t->conf.max_s * 1000, ent_timeout, e);
}


/* Every record of the Call-ID (answered ones too when all). */
static void end_all(struct callrec_tab *t, const struct pl *cid, bool all,
		    const struct pl *bye_tag, enum callrec_end why,
		    uint16_t scode)
{
	struct list *l = hash_list(t->ht, hash_pl(cid));
	struct le *le = l ? l->head : NULL;

	while (le) {
		struct cr_ent *e = le->data;
		enum callrec_end w = why;

		le = le->next;
		if (!pl_eq_str(cid, e->call_id) || (!all && e->answer_ms))
			continue;
		if (bye_tag)
			w = pl_eq_str(bye_tag, e->from_tag)
				    ? CALLREC_END_BYE_CALLER
				    : CALLREC_END_BYE_CALLEE;
		ent_finish(e, w, scode);
	}
}


/**
 * Session routing hook: BYE, CANCEL, or an error final response.
 */
void callrec_call_end(const struct scscf_call *c, void *arg)
{
	struct callrec_tab *t = arg;
	struct sip_msg *msg;
	const struct sip_addr *from = NULL;
	struct cr_ent *e;
	struct pl cid;

	if (!t || t->closed || !c || !c->msg || !callid_of(c->msg, &cid))
		return;
	msg = (struct sip_msg *)c->msg;
	if (msg->req && msg->meth == SIP_METHOD_BYE) {
		if (sip_msg_from(msg, &from))
			return;
		end_all(t, &cid, true, &from->tag, CALLREC_END_BYE_CALLER, 0);
		return;
	}
	if (msg->req && msg->meth == SIP_METHOD_CANCEL) {
		end_all(t, &cid, false, NULL, CALLREC_END_CANCEL, 0);
		return;
	}
	if (c->scode < 300)
		return;
	if (c->served_user && *c->served_user) {
		e = find(t, &cid, case_of(c), c->served_user);
		if (e && !e->answer_ms)
			ent_finish(e, CALLREC_END_FAILED, c->scode);
		return;
	}
	end_all(t, &cid, false, NULL, CALLREC_END_FAILED, c->scode);
}


static const char *end_name(enum callrec_end e)
{
	switch (e) {
	case CALLREC_END_BYE_CALLER:
		return "bye-caller";
	case CALLREC_END_BYE_CALLEE:
		return "bye-callee";
	case CALLREC_END_CANCEL:
		return "cancel";
	case CALLREC_END_FAILED:
		return "failed";
	case CALLREC_END_TIMEOUT:
		return "timeout";
	case CALLREC_END_CLOSED:
	default:
		return "closed";
	}
}


static void iso(char *buf, size_t size, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&s, &tm)) {
		(void)snprintf(buf, size, "-");
		return;
	}
	(void)snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		       tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}


/* A value without white space or quotes, so the line splits on ' '. */
static int value(char *buf, size_t size, size_t *pos, const char *key,
		 const char *v)
{
	int n = snprintf(buf + *pos, size - *pos, "%s%s=", *pos ? " " : "",
			 key);

	if (n < 0 || (size_t)n >= size - *pos)
		return ENOSPC;
	*pos += (size_t)n;
	if (!v || !*v)
		v = "-";
	for (; *v; v++) {
		if (*pos + 1 >= size)
			return ENOSPC;
		char ch = *v;

		if (ch == '"' || (unsigned char)ch < 0x21)
			ch = '_'; /* space and controls too */
		buf[(*pos)++] = ch;
	}
	buf[*pos] = '\0';
	return 0;
}


/**
 * The record as one line of key=value pairs.
 *
 * @return 0, EINVAL, ENOSPC
 */
int callrec_format(const struct callrec *rec, char *buf, size_t size)
{
	char ts[3][40], num[32];
	size_t pos = 0;
	int64_t dur = 0;
	int err;

	if (!rec || !buf || !size)
		return EINVAL;
	buf[0] = '\0';
	iso(ts[0], sizeof(ts[0]), rec->start_ms);
	iso(ts[1], sizeof(ts[1]), rec->answer_ms);
	iso(ts[2], sizeof(ts[2]), rec->end_ms);
	if (rec->answer_ms && rec->end_ms > rec->answer_ms)
		dur = (rec->end_ms - rec->answer_ms + 500) / 1000;
	err = value(buf, size, &pos, "call-id", rec->call_id);
	if (!err)
		err = value(buf, size, &pos, "icid", rec->icid);
	if (!err)
		err = value(buf, size, &pos, "user", rec->served_user);
	if (!err)
		err = value(buf, size, &pos, "case",
			    rec->sc == CALLREC_ORIG ? "orig"
			    : rec->unregistered     ? "term-unreg"
						    : "term");
	if (!err)
		err = value(buf, size, &pos, "from", rec->from);
	if (!err)
		err = value(buf, size, &pos, "to", rec->to);
	if (!err)
		err = value(buf, size, &pos, "start", ts[0]);
	if (!err)
		err = value(buf, size, &pos, "answer", ts[1]);
	if (!err)
		err = value(buf, size, &pos, "end", ts[2]);
	(void)snprintf(num, sizeof(num), "%lld", (long long)dur);
	if (!err)
		err = value(buf, size, &pos, "duration", num);
	if (!err)
		err = value(buf, size, &pos, "end-cause", end_name(rec->end));
	(void)snprintf(num, sizeof(num), "%u", rec->scode);
	if (!err)
		err = value(buf, size, &pos, "scode", num);
	return err;
}


void callrec_log_h(const struct callrec *rec, void *arg)
{
	char line[CR_LINE_MAX];

	(void)arg;
	if (log_level_cur < LOG_LVL_INFO)
		return;
	if (callrec_format(rec, line, sizeof(line)))
		LOG_INFO(NULL, "call-record call-id=%s (too long)",
			 rec->call_id);
	else
		LOG_INFO(NULL, "call-record %s", line);
}


/**
 * The icid-value of a P-Charging-Vector (RFC 7315 4.6: "icid-value="
 * token or quoted string, then ";" parameters).
 *
 * @return 0, EINVAL, ENOENT, ENOSPC
 */
int callrec_icid(const struct sip_msg *msg, char *buf, size_t size)
{
	const struct sip_hdr *h;
	const char *p, *end;
	size_t n;

	if (!msg || !buf || !size)
		return EINVAL;
	h = sip_msg_hdr(msg, SIP_HDR_P_CHARGING_VECTOR);
	if (!h)
		return ENOENT;
	p = h->val.p;
	end = h->val.p + h->val.l;
	/* the first parameter, or one after a ';' */
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		if ((size_t)(end - p) > 10 && !strncasecmp(p, "icid-value", 10))
			break;
		while (p < end && *p != ';')
			p++;
	}
	if (p >= end)
		return ENOENT;
	p += 10;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '=')
		return ENOENT;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '"') {
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));

		if (!q)
			return ENOENT;
		p++;
		n = (size_t)(q - p);
	} else {
		n = 0;
		while (p + n < end && p[n] != ';' && p[n] != ' ' &&
		       p[n] != '\t')
			n++;
	}
	if (!n)
		return ENOENT;
	if (n >= size)
		return ENOSPC;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}
