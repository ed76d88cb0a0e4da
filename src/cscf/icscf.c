/**
 * @file icscf.c  The I-CSCF (TS 24.229 5.3): see icscf.h for the rules.
 *
 * Design
 *
 * One job per request: it keeps a copy of the request (sip_msg_dup), the
 * identities the Cx query needs, the Server-Capabilities of the last
 * answer and the S-CSCFs already tried, so that a reselection (5.3.1.3)
 * needs nothing from the caller but the failed status.  The caller holds
 * a small handle (struct icscf_tx) that points to the job; a Cx request
 * in flight holds its own reference to the job, so releasing the handle
 * while the HSS is being asked only clears the handler: the answer then
 * finds no one to tell and the job goes with it.  Decisions that need no
 * query (untrusted source, malformed request, a Route to follow) are
 * delivered from a zero-delay timer, so the handler never runs inside
 * icscf_request() whatever the path.
 *
 * S-CSCF selection (TS 29.228 6.7, TS 23.228 5.3.1.2): Server-Name AVPs
 * inside Server-Capabilities are the HSS's preference and are taken in
 * order; then every configured S-CSCF that has all the mandatory
 * capabilities, the one with the most optional capabilities first (ties:
 * configuration order).  S-CSCFs already tried for this request are
 * skipped.  Selection holds no state across requests (no round robin):
 * the same answer gives the same S-CSCF, which keeps the HSS's
 * assignment and the I-CSCF's choice aligned for a user who registers
 * again after a failure.
 */
#include "cscf/icscf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "cscf/edit.h"
#include "diameter/cx.h"
#include "diameter/cx_client.h"
#include "diameter/dict.h"
#include "sip/addr.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/uri.h"

#define LOG_MODULE "icscf"

struct scscf {
	char uri[ICSCF_URI_MAX];
	uint32_t caps[CX_CAP_MAX];
	size_t caps_n;
};

struct icscf {
	struct dia_node *node; /* not counted: outlives us (the wiring) */
	char uri[ICSCF_URI_MAX];
	struct sip_uri me;
	struct scscf scscf[ICSCF_SCSCF_MAX];
	size_t scscf_n;
	struct sa *trusted;
	size_t trusted_n;
	char *home;
	char *dest_realm;
	uint32_t cx_timeout_ms;
	unsigned attempts;
	struct icscf_stats stats;
};

struct job {
	struct icscf *ic; /* counted */
	struct icscf_tx *tx;
	icscf_out_h *h;
	void *arg;
	struct sip_msg *req; /* counted copy */
	bool reg;
	char impu[ICSCF_URI_MAX];
	char impi[ICSCF_URI_MAX];
	char vnet[ICSCF_URI_MAX];
	int uat;
	bool pending; /* a Cx query or a timer delivery */
	/* the last Server-Capabilities */
	bool has_caps;
	uint32_t mand[CX_CAP_MAX], opt[CX_CAP_MAX];
	size_t mand_n, opt_n;
	char names[CX_CAP_MAX][ICSCF_URI_MAX];
	size_t names_n;
	/* the S-CSCFs chosen so far; the last is the current one */
	char tried[ICSCF_ATTEMPTS_MAX][ICSCF_URI_MAX];
	size_t tried_n;
	bool named;    /* the current one was the HSS's Server-Name */
	bool reselect; /* may be replaced on failure */
	/* a decision delivered from the timer */
	uint16_t scode;
	const char *reason;
	struct tmr tmr;
};

struct icscf_tx {
	struct job *job;
};


/* ---- delivery ---- */

static void deliver(struct job *job, const struct icscf_out *out)
{
	if (!job->h)
		return;
	/* the handler may release the handle, and with it the job */
	mem_ref(job);
	job->h(out, job->arg);
	mem_deref(job);
}


static void deliver_reply(struct job *job, uint16_t scode, const char *reason)
{
	struct icscf_out out;

	memset(&out, 0, sizeof(out));
	out.act = ICSCF_REPLY;
	out.scode = scode;
	out.reason = reason;
	if (scode >= 400)
		job->ic->stats.refused++;
	job->reselect = false;
	deliver(job, &out);
}


static void timer_reply(void *arg)
{
	struct job *job = arg;

	job->pending = false;
	deliver_reply(job, job->scode, job->reason);
}


/* A decision that needs no query, from the next loop iteration. */
static void later_reply(struct job *job, uint16_t scode, const char *reason)
{
	job->scode = scode;
	job->reason = reason;
	job->pending = true;
	tmr_start(&job->tmr, 0, timer_reply, job);
}


/* The request with `scscf` as its top Route (RFC 3261 16.12.1.1: a
 * loose route, so the Request-URI stays), our own entries removed. */
static void deliver_forward(struct job *job, const char *scscf)
{
	struct icscf *ic = job->ic;
	struct icscf_out out;
	struct cscf_edit e;
	char route[ICSCF_URI_MAX + 32];
	int err;

	memset(&e, 0, sizeof(e));
	e.route_skip = cscf_edit_own_routes(job->req, &ic->me);
	if (scscf[0]) {
		struct sip_uri u;
		struct pl pl;

		pl_set_str(&pl, scscf);
		if (sip_uri_decode(&u, &pl)) {
			LOG_WARN(NULL, "S-CSCF name \"%s\" is not a SIP URI",
				 scscf);
			deliver_reply(job, 500, "Bad S-CSCF name");
			return;
		}
		(void)snprintf(route, sizeof(route), "Route: <%s%s>\r\n", scscf,
			       sip_param_exists(&u.params, "lr") ? "" : ";lr");
		e.add = route;
	}
	memset(&out, 0, sizeof(out));
	err = cscf_edit_msg(&out.msg, job->req, &e);
	if (err) {
		deliver_reply(job, 500, "Cannot rewrite request");
		return;
	}
	out.act = ICSCF_FORWARD;
	out.scscf = scscf;
	deliver(job, &out);
	mem_deref(out.msg);
}


/* ---- S-CSCF selection (TS 29.228 6.7) ---- */

static bool tried(const struct job *job, const char *uri)
{
	size_t i;

	for (i = 0; i < job->tried_n; i++) {
		if (strcmp(job->tried[i], uri) == 0)
			return true;
	}
	return false;
}


static bool has_cap(const struct scscf *s, uint32_t c)
{
	size_t i;

	for (i = 0; i < s->caps_n; i++) {
		if (s->caps[i] == c)
			return true;
	}
	return false;
}


/* -1: lacks a mandatory capability; else the optional ones it has */
static int score(const struct job *job, const struct scscf *s)
{
	int n = 0;
	size_t i;

	for (i = 0; i < job->mand_n; i++) {
		if (!has_cap(s, job->mand[i]))
			return -1;
	}
	for (i = 0; i < job->opt_n; i++)
		n += has_cap(s, job->opt[i]);
	return n;
}


static const char *select_scscf(const struct job *job)
{
	const struct icscf *ic = job->ic;
	const char *best = NULL;
	int best_score = -1;
	size_t i;

	for (i = 0; i < job->names_n; i++) {
		if (!tried(job, job->names[i]))
			return job->names[i];
	}
	for (i = 0; i < ic->scscf_n; i++) {
		int sc = score(job, &ic->scscf[i]);

		if (sc > best_score && !tried(job, ic->scscf[i].uri)) {
			best = ic->scscf[i].uri;
			best_score = sc;
		}
	}
	return best;
}


static void choose(struct job *job, const char *uri, bool named)
{
	if (job->tried_n < ICSCF_ATTEMPTS_MAX) {
		(void)snprintf(job->tried[job->tried_n], sizeof(job->tried[0]),
			       "%s", uri);
		job->tried_n++;
	}
	job->named = named;
}


static void forward_selected(struct job *job)
{
	const char *s = select_scscf(job);
	char uri[ICSCF_URI_MAX];

	if (!s) {
		/* TS 24.229 5.3.1.2: no S-CSCF to serve the user */
		deliver_reply(job, 600, "No S-CSCF available");
		return;
	}
	(void)snprintf(uri, sizeof(uri), "%s", s);
	choose(job, uri, false);
	job->reselect = true;
	job->ic->stats.selected++;
	deliver_forward(job, uri);
}


static void caps_keep(struct job *job, bool has, const struct cx_caps *caps)
{
	size_t i;

	job->has_caps = has;
	job->mand_n = job->opt_n = job->names_n = 0;
	if (!has)
		return;
	for (i = 0; i < caps->mand_n && i < CX_CAP_MAX; i++)
		job->mand[job->mand_n++] = caps->mand[i];
	for (i = 0; i < caps->opt_n && i < CX_CAP_MAX; i++)
		job->opt[job->opt_n++] = caps->opt[i];
	for (i = 0; i < caps->name_n && i < CX_CAP_MAX; i++) {
		if (pl_strcpy(&caps->name[i], job->names[job->names_n],
			      sizeof(job->names[0])) == 0)
			job->names_n++;
	}
}


/* ---- Cx ---- */

static bool cx_transient(const struct cx_result *r)
{
	/* no usable answer: the query "cannot be completed" (TS 24.229
	 * 5.3.1.2, 5.3.2.1) */
	return r->vendor == 0 && ((r->code >= 3000 && r->code < 4000) ||
				  r->code == DIA_UNABLE_TO_COMPLY);
}


static void cx_failed(struct job *job, int err, const char *what)
{
	LOG_WARN(NULL, "%s for %s failed: %s", what, job->impu,
		 log_strerror(err));
	if (err == ECANCELED)
		deliver_reply(job, 500, "Shutting down");
	else
		deliver_reply(job, 480, "HSS not reachable");
}


static int uar_send(struct job *job);

static void uaa_h(int err, const struct cx_uaa *uaa,
		  const struct cx_origin *from, void *arg)
{
	struct job *job = arg;
	const struct cx_result *r;
	char name[ICSCF_URI_MAX];

	(void)from;
	job->pending = false;
	if (err || !uaa) {
		cx_failed(job, err ? err : EBADMSG, "UAR");
		goto out;
	}
	r = &uaa->res;
	if ((r->vendor == DIA_VENDOR_3GPP &&
	     (r->code == DIA_FIRST_REGISTRATION ||
	      r->code == DIA_SUBSEQUENT_REGISTRATION)) ||
	    (r->vendor == 0 && r->code == DIA_SUCCESS)) {
		caps_keep(job, uaa->has_caps, &uaa->caps);
		if (pl_isset(&uaa->server_name) &&
		    job->uat != DIA_UAT_REGISTRATION_AND_CAPABILITIES &&
		    pl_strcpy(&uaa->server_name, name, sizeof(name)) == 0 &&
		    !tried(job, name)) {
			choose(job, name, true);
			/* 5.3.1.3: a named S-CSCF that fails is replaced
			 * after a capabilities query */
			job->reselect = true;
			deliver_forward(job, name);
		} else {
			forward_selected(job);
		}
		goto out;
	}
	if (cx_transient(r)) {
		LOG_WARN(NULL, "UAR for %s: HSS answered %u", job->impu,
			 r->code);
		deliver_reply(job, 480, "HSS unavailable");
		goto out;
	}
	/* TS 29.228 annex A, TS 24.229 5.3.1.2: a negative answer is 403
	 * (user unknown, identities don't match, roaming not allowed,
	 * authorization rejected, identity not registered) */
	LOG_INFO(NULL, "UAR for %s refused: %u/%u", job->impu, r->code,
		 r->vendor);
	deliver_reply(job, 403,
		      r->vendor == DIA_VENDOR_3GPP &&
				      r->code == DIA_ERROR_USER_UNKNOWN
			      ? "Unknown user"
			      : "Registration not authorized");
out:
	mem_deref(job);
}


static int uar_send(struct job *job)
{
	struct icscf *ic = job->ic;
	struct cx_client_opts o;
	struct cx_uar uar;
	int err;

	memset(&uar, 0, sizeof(uar));
	uar.impi = cx_pl(job->impi);
	uar.impu = cx_pl(job->impu);
	uar.visited = cx_pl(job->vnet);
	uar.auth_type = job->uat;
	memset(&o, 0, sizeof(o));
	o.dest_realm = ic->dest_realm;
	o.timeout_ms = ic->cx_timeout_ms;
	err = cx_client_uar(ic->node, &uar, &o, uaa_h, mem_ref(job));
	if (err) {
		mem_deref(job);
		return err;
	}
	job->pending = true;
	ic->stats.uar++;
	return 0;
}


static void lia_h(int err, const struct cx_lia *lia,
		  const struct cx_origin *from, void *arg)
{
	struct job *job = arg;
	const struct cx_result *r;
	char name[ICSCF_URI_MAX];

	(void)from;
	job->pending = false;
	if (err || !lia) {
		cx_failed(job, err ? err : EBADMSG, "LIR");
		goto out;
	}
	r = &lia->res;
	if ((r->vendor == 0 && r->code == DIA_SUCCESS) ||
	    (r->vendor == DIA_VENDOR_3GPP &&
	     r->code == DIA_UNREGISTERED_SERVICE)) {
		caps_keep(job, lia->has_caps, &lia->caps);
		if (pl_isset(&lia->server_name) &&
		    pl_strcpy(&lia->server_name, name, sizeof(name)) == 0) {
			/* the S-CSCF that holds the user: no other would
			 * know it */
			choose(job, name, true);
			job->reselect = false;
			deliver_forward(job, name);
		} else {
			/* 2003 without a name: one that runs the services
			 * for unregistered users */
			forward_selected(job);
		}
		goto out;
	}
	if (r->vendor == DIA_VENDOR_3GPP && r->code == DIA_ERROR_USER_UNKNOWN)
		deliver_reply(job, 404, "Not Found");
	else if (r->vendor == DIA_VENDOR_3GPP &&
		 r->code == DIA_ERROR_IDENTITY_NOT_REGISTERED)
		deliver_reply(job, 480, "Not registered");
	else if (cx_transient(r))
		deliver_reply(job, 480, "HSS unavailable");
	else
		deliver_reply(job, 403, "Location query refused");
out:
	mem_deref(job);
}


static int lir_send(struct job *job)
{
	struct icscf *ic = job->ic;
	struct cx_client_opts o;
	struct cx_lir lir;
	int err;

	memset(&lir, 0, sizeof(lir));
	lir.impu = cx_pl(job->impu);
	lir.auth_type = -1;
	memset(&o, 0, sizeof(o));
	o.dest_realm = ic->dest_realm;
	o.timeout_ms = ic->cx_timeout_ms;
	err = cx_client_lir(ic->node, &lir, &o, lia_h, mem_ref(job));
	if (err) {
		mem_deref(job);
		return err;
	}
	job->pending = true;
	ic->stats.lir++;
	return 0;
}


/* A query that could not even be sent: no peer can take it (480, as an
 * HSS that does not answer), or the identities do not make a request
 * (500); only ENOMEM is the caller's. */
static int query_sent(struct job *job, int err)
{
	if (err == EHOSTUNREACH) {
		LOG_WARN(NULL, "Cx for %s: no route to the HSS", job->impu);
		later_reply(job, 480, "HSS not reachable");
		return 0;
	}
	if (err && err != ENOMEM) {
		later_reply(job, 500, "Cx request failed");
		return 0;
	}
	return err;
}


/* ---- requests ---- */

static bool is_trusted(const struct icscf *ic, const struct sa *src)
{
	size_t i;

	if (!ic->trusted_n)
		return true;
	for (i = 0; i < ic->trusted_n; i++) {
		if (sa_eq_addr(&ic->trusted[i], src) &&
		    (sa_port(&ic->trusted[i]) == 0 ||
		     sa_port(&ic->trusted[i]) == sa_port(src)))
			return true;
	}
	return false;
}


/* A public identity from a URI: the registrar's AOR for sip/sips, the
 * number for tel (TS 23.003 13.4). */
static int impu_of(const struct sip_uri *u, char *buf, size_t size)
{
	size_t n;

	if (u->sch == SIP_SCHEME_TEL) {
		int l = snprintf(buf, size, "tel:%.*s", PL_FMT(&u->user));

		return l < 0 || (size_t)l >= size ? ENOSPC : 0;
	}
	return registrar_aor(u, buf, size, &n);
}


/* TS 24.229 5.3.1.2: the IMPI from the Authorization header, else the
 * public identity without scheme, port and parameters */
static int impi_of(struct sip_msg *req, const struct sip_uri *to, char *buf,
		   size_t size)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);
	struct sip_authhdr ah;
	int l;

	if (h && sip_authhdr_decode(&ah, &h->val) == 0 &&
	    pl_isset(&ah.username))
		return pl_strcpy(&ah.username, buf, size);
	if (pl_isset(&to->user))
		l = snprintf(buf, size, "%.*s@%.*s", PL_FMT(&to->user),
			     PL_FMT(&to->host));
	else
		l = snprintf(buf, size, "%.*s", PL_FMT(&to->host));
	return l < 0 || (size_t)l >= size ? ENOSPC : 0;
}


/* RFC 3261 10.2.2: a REGISTER that removes its bindings */
static bool deregistering(struct sip_msg *req)
{
	struct sip_hdr_iter it = { 0 };
	bool any = false, all_zero = true;
	uint32_t exp;
	bool hdr0 = sip_msg_expires(req, &exp) == 0 && exp == 0;
	struct pl v;

	while (sip_msg_hdr_value_next(req, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_contact c;

		if (sip_contact_decode(&c, &v))
			continue;
		if (c.addr.star)
			return true;
		any = true;
		if (c.has_expires ? c.expires != 0 : !hdr0)
			all_zero = false;
	}
	return any && all_zero;
}


static int start_register(struct job *job)
{
	struct icscf *ic = job->ic;
	struct sip_msg *req = job->req;
	struct sip_hdr_iter it = { 0 };
	const struct sip_addr *to;
	struct pl v;
	int l;

	if (!is_trusted(ic, &req->src)) {
		/* TS 24.229 5.3.1.2 */
		later_reply(job, 403, "Not from a trusted domain");
		return 0;
	}
	if (sip_msg_to(req, &to) ||
	    impu_of(&to->uri, job->impu, sizeof(job->impu)) ||
	    impi_of(req, &to->uri, job->impi, sizeof(job->impi))) {
		later_reply(job, 400, "Bad To");
		return 0;
	}
	if (sip_msg_hdr_value_next(req, SIP_HDR_P_VISITED_NETWORK_ID, &it,
				   &v)) {
		cscf_edit_unquote(&v);
		if (pl_strcpy(&v, job->vnet, sizeof(job->vnet)) || !v.l) {
			later_reply(job, 400, "Bad P-Visited-Network-ID");
			return 0;
		}
	} else {
		l = ic->home ? snprintf(job->vnet, sizeof(job->vnet), "%s",
					ic->home)
			     : snprintf(job->vnet, sizeof(job->vnet), "%.*s",
					PL_FMT(&to->uri.host));
		if (l < 0 || (size_t)l >= sizeof(job->vnet)) {
			later_reply(job, 400, "Bad To");
			return 0;
		}
	}
	job->uat = deregistering(req) ? DIA_UAT_DE_REGISTRATION
				      : DIA_UAT_REGISTRATION;
	return query_sent(job, uar_send(job));
}


static int start_other(struct job *job)
{
	struct icscf *ic = job->ic;
	struct sip_msg *req = job->req;
	struct sip_hdr_iter it = { 0 };
	const struct sip_uri *ru;
	size_t own = cscf_edit_own_routes(req, &ic->me), n = 0;
	struct pl v;

	while (sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v))
		n++;
	if (n > own) {
		/* someone upstream chose the way (RFC 3261 16.4): 1 asks
		 * the caller to forward it as it is */
		return 1;
	}
	if (sip_msg_ruri(req, &ru) ||
	    (ru->sch != SIP_SCHEME_SIP && ru->sch != SIP_SCHEME_SIPS &&
	     ru->sch != SIP_SCHEME_TEL)) {
		later_reply(job, 416, NULL);
		return 0;
	}
	if (impu_of(ru, job->impu, sizeof(job->impu))) {
		later_reply(job, 400, "Bad Request-URI");
		return 0;
	}
	return query_sent(job, lir_send(job));
}


static void timer_forward(void *arg)
{
	struct job *job = arg;

	job->pending = false;
	deliver_forward(job, "");
}


static void job_destructor(void *arg)
{
	struct job *job = arg;

	tmr_cancel(&job->tmr);
	mem_deref(job->req);
	mem_deref(job->ic);
}


static void tx_destructor(void *arg)
{
	struct icscf_tx *tx = arg;

	if (!tx->job)
		return;
	tx->job->h = NULL;
	tx->job->tx = NULL;
	tmr_cancel(&tx->job->tmr);
	mem_deref(tx->job);
}


/**
 * Handle a request (see icscf.h).
 *
 * @param txp  receives the handle (release it to cancel)
 * @param ic   the I-CSCF
 * @param req  the request (copied)
 * @param h    the decision handler
 * @param arg  for h
 * @return 0, EINVAL, ENOTSUP (CANCEL, ACK), ENOMEM
 */
int icscf_request(struct icscf_tx **txp, struct icscf *ic,
		  const struct sip_msg *req, icscf_out_h *h, void *arg)
{
	struct icscf_tx *tx = NULL;
	struct job *job = NULL;
	int err;

	if (!txp || !ic || !req || !req->req || !h)
		return EINVAL;
	if (req->meth == SIP_METHOD_CANCEL || req->meth == SIP_METHOD_ACK)
		return ENOTSUP;
	job = mem_zalloc(sizeof(*job), job_destructor);
	tx = mem_zalloc(sizeof(*tx), tx_destructor);
	if (!job || !tx) {
		err = ENOMEM;
		goto out;
	}
	tmr_init(&job->tmr);
	job->ic = mem_ref(ic);
	job->h = h;
	job->arg = arg;
	err = sip_msg_dup(&job->req, req);
	if (err)
		goto out;
	job->reg = req->meth == SIP_METHOD_REGISTER;
	err = job->reg ? start_register(job) : start_other(job);
	if (err == 1) {
		job->pending = true;
		tmr_start(&job->tmr, 0, timer_forward, job);
		err = 0;
	}
	if (err)
		goto out;
	job->tx = tx;
	tx->job = job;
	job = NULL;
	*txp = tx;
	tx = NULL;
out:
	mem_deref(tx);
	mem_deref(job);
	return err;
}


static void timer_reselect(void *arg)
{
	struct job *job = arg;

	job->pending = false;
	forward_selected(job);
}


/**
 * The chosen S-CSCF failed: choose another (TS 24.229 5.3.1.3).
 *
 * @param tx     the request's handle
 * @param scode  the S-CSCF's final status (408/503 when none came)
 * @return 0 (a new decision follows), EPERM, EALREADY, EINVAL, ENOMEM
 */
int icscf_retry(struct icscf_tx *tx, uint16_t scode)
{
	struct job *job;
	int err;

	if (!tx || !tx->job)
		return EINVAL;
	job = tx->job;
	if (job->pending)
		return EALREADY;
	if (!((scode >= 300 && scode < 400) || scode == 408 || scode == 480 ||
	      scode == 503))
		return EPERM;
	if (!job->reselect || !job->tried_n ||
	    job->tried_n >= job->ic->attempts)
		return EPERM;
	job->ic->stats.retried++;
	LOG_INFO(NULL, "S-CSCF %s answered %u for %s: choosing another",
		 job->tried[job->tried_n - 1], scode, job->impu);
	if (job->reg && job->named) {
		/* the HSS's choice failed: ask for the capabilities */
		job->uat = DIA_UAT_REGISTRATION_AND_CAPABILITIES;
		err = query_sent(job, uar_send(job));
		return err;
	}
	job->pending = true;
	tmr_start(&job->tmr, 0, timer_reselect, job);
	return 0;
}


void icscf_stats(const struct icscf *ic, struct icscf_stats *st)
{
	if (!ic || !st)
		return;
	*st = ic->stats;
}


static void icscf_destructor(void *arg)
{
	struct icscf *ic = arg;

	mem_deref(ic->trusted);
	mem_deref(ic->home);
	mem_deref(ic->dest_realm);
}


static int strdup_opt(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = mem_strdup(s, strlen(s));
	return *dst ? 0 : ENOMEM;
}


static int conf_apply(struct icscf *ic, const struct icscf_conf *conf)
{
	struct pl pl;
	size_t i, k;
	int err;

	if (!conf->uri || strlen(conf->uri) >= sizeof(ic->uri) ||
	    conf->scscf_n > ICSCF_SCSCF_MAX)
		return EINVAL;
	(void)snprintf(ic->uri, sizeof(ic->uri), "%s", conf->uri);
	pl_set_str(&pl, ic->uri);
	if (sip_uri_decode(&ic->me, &pl) ||
	    (ic->me.sch != SIP_SCHEME_SIP && ic->me.sch != SIP_SCHEME_SIPS))
		return EINVAL;
	for (i = 0; i < conf->scscf_n; i++) {
		const struct icscf_scscf *c = &conf->scscf[i];
		struct scscf *s = &ic->scscf[i];
		struct sip_uri u;

		if (!c->uri || strlen(c->uri) >= sizeof(s->uri) ||
		    c->caps_n > CX_CAP_MAX)
			return EINVAL;
		pl_set_str(&pl, c->uri);
		if (sip_uri_decode(&u, &pl))
			return EINVAL;
		(void)snprintf(s->uri, sizeof(s->uri), "%s", c->uri);
		for (k = 0; k < c->caps_n; k++)
			s->caps[k] = c->caps[k];
		s->caps_n = c->caps_n;
	}
	ic->scscf_n = conf->scscf_n;
	if (conf->trusted_n) {
		ic->trusted =
			mem_zalloc(conf->trusted_n * sizeof(struct sa), NULL);
		if (!ic->trusted)
			return ENOMEM;
		memcpy(ic->trusted, conf->trusted,
		       conf->trusted_n * sizeof(struct sa));
		ic->trusted_n = conf->trusted_n;
	}
	err = strdup_opt(&ic->home, conf->home_network);
	if (!err)
		err = strdup_opt(&ic->dest_realm, conf->dest_realm);
	ic->cx_timeout_ms = conf->cx_timeout_ms;
	ic->attempts = conf->attempts ? conf->attempts : 3;
	if (ic->attempts > ICSCF_ATTEMPTS_MAX)
		ic->attempts = ICSCF_ATTEMPTS_MAX;
	return err;
}


/**
 * Create an I-CSCF.
 *
 * @param icp   receives it
 * @param node  the Diameter node its Cx requests go through (it must
 *              outlive the I-CSCF's requests: close the node first)
 * @param conf  the configuration (copied)
 * @return 0, EINVAL (no or bad URI, too many S-CSCFs or capabilities),
 *         ENOMEM
 */
int icscf_alloc(struct icscf **icp, struct dia_node *node,
		const struct icscf_conf *conf)
{
	struct icscf *ic;
	int err;

	if (!icp || !node || !conf)
		return EINVAL;
	ic = mem_zalloc(sizeof(*ic), icscf_destructor);
	if (!ic)
		return ENOMEM;
	ic->node = node;
	err = conf_apply(ic, conf);
	if (err) {
		mem_deref(ic);
		return err;
	}
	*icp = ic;
	return 0;
}
