/**
 * @file scscf_thirdparty.c  Third-party REGISTER to application servers
 *                           (TS 24.229 5.4.1.7).
 *
 * Design
 *
 * Stateless per change: scscf_tp_change() runs ifc_match() on the profile
 * the registrar hands over (valid during the call only), builds each
 * REGISTER at once and copies from the iFC only what the answer needs
 * later: the IMPU, the AS and the DefaultHandling.  Those wait in a list
 * of pending jobs keyed by a 64-bit id (bounded by max_pending: beyond
 * it a change is not sent to the AS and logged, rather than growing
 * without limit when ASs stop answering); scscf_tp_result() takes the job
 * out before acting, so a de-registration it causes (which reports a new
 * change and sends new REGISTERs) finds the list consistent.
 *
 * What the iFC is matched against (TS 29.228 B.2.2, annex C): the user's
 * REGISTER with RegistrationType INITIAL / RE_REGISTRATION /
 * DE_REGISTRATION, or, for a de-registration the network made (RTR,
 * expiry, scscf_reg_deregister), an equivalent REGISTER with Contact: *
 * and Expires: 0 (TS 24.229 5.4.1.5: "as if an equivalent REGISTER
 * request had been received").  The session case is originating: a
 * REGISTER comes from the served user.
 *
 * Bodies (5.4.1.7 g to i): ServiceInfo only on a registration or
 * re-registration (g); the REGISTER and its 200 whenever the iFC asks and
 * they exist (a network de-registration has neither).  The 200 is built
 * again with sip_reply_build() from the answer the registrar gave: the To
 * tag is derived from the request (sip_totag_make), so the bytes are
 * those the server transaction sent.
 */
#include "cscf/scscf_thirdparty.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "core/xml.h"
#include "cscf/callrec.h"
#include "cscf/ifc.h"
#include "cscf/scscf_reg.h"
#include "diameter/userdata.h"
#include "sip/build.h"
#include "sip/msg.h"

#define LOG_MODULE "scscf"

#define TP_MSG_MAX   65535 /* SIP_MSG_MAX */
#define TP_BOUNDARY  "entims-3pr-boundary"
#define TP_PARTS_MAX 3

struct scscf_tp {
	char *uri;
	uint32_t max_pending;
	scscf_tp_send_h *sendh;
	scscf_tp_dereg_h *deregh;
	void *arg;
	struct list jobs; /* struct tp_job, counted */
	uint64_t next_id;
	uint32_t cseq;
};

/* One REGISTER sent to an AS, waiting for its final status. */
struct tp_job {
	struct le le;
	struct scscf_tp *tp; /* weak */
	uint64_t id;
	char *impu;
	char *as;
	enum cx_default_handling dh;
	bool dereg;      /* a de-registration: nothing to end on failure */
	struct tmr fail; /* not sent: the failure is reported from here */
};

struct part {
	const char *ctype;
	struct pl body;
};

static void job_destructor(void *arg)
{
	struct tp_job *j = arg;

	tmr_cancel(&j->fail);
	list_unlink(&j->le);
	mem_deref(j->impu);
	mem_deref(j->as);
}


static void destructor(void *arg)
{
	struct scscf_tp *tp = arg;

	list_flush(&tp->jobs);
	mem_deref(tp->uri);
}


/**
 * Create the third-party registration module.
 *
 * @param tpp   receives it
 * @param conf  uri and sendh required
 * @return 0, EINVAL, ENOMEM
 */
int scscf_tp_alloc(struct scscf_tp **tpp, const struct scscf_tp_conf *conf)
{
	struct scscf_tp *tp;

	if (!tpp || !conf || !conf->uri || !conf->sendh ||
	    strncmp(conf->uri, "sip", 3) != 0)
		return EINVAL;
	tp = mem_zalloc(sizeof(*tp), destructor);
	if (!tp)
		return ENOMEM;
	list_init(&tp->jobs);
	tp->uri = mem_strdup(conf->uri, strlen(conf->uri));
	if (!tp->uri) {
		mem_deref(tp);
		return ENOMEM;
	}
	tp->max_pending = conf->max_pending ? conf->max_pending : 1024;
	tp->sendh = conf->sendh;
	tp->deregh = conf->deregh;
	tp->arg = conf->arg;
	tp->next_id = 1;
	*tpp = tp;
	return 0;
}


static void rand_hex(char *out, size_t octets)
{
	uint8_t r[16];

	if (octets > sizeof(r))
		octets = sizeof(r);
	if (RAND_bytes(r, (int)octets) != 1)
		memset(r, 0x5a, octets); /* uniqueness only, not secrecy */
	hex_encode(out, r, octets);
}


/* The equivalent REGISTER of a network de-registration (5.4.1.5), for the
 * iFCs: Request-URI the IMPU's domain, To/From the IMPU, Expires 0. */
static int equivalent_register(struct sip_msg **msgp, const char *impu)
{
	const char *at = strchr(impu, '@');
	struct sip_msg_err merr;
	struct buf *mb = NULL;
	int dl = 0;
	int err;

	if (at)
		dl = (int)strcspn(at + 1, ";>?");
	err = buf_alloc(&mb, 512, 4096);
	if (!err)
		err = buf_printf(
			mb,
			"REGISTER sip:%.*s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKentims3pr\r\n"
			"Max-Forwards: 70\r\n"
			"From: <%s>;tag=3pr\r\nTo: <%s>\r\n"
			"Call-ID: 3pr\r\nCSeq: 1 REGISTER\r\n"
			"Contact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
			at ? dl : (int)strlen("invalid"),
			at ? at + 1 : "invalid", impu, impu);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(msgp, mb, true, &merr);
	}
	mem_deref(mb);
	return err;
}


/* TS 24.229 7.6: <ims-3gpp version="1"><service-info>, text escaped. */
static int service_info(struct buf *mb, const char *text)
{
	const char *p;
	int err;

	if (!xmlu_text_ok(text))
		return EINVAL;
	err = buf_write_str(mb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
				"<ims-3gpp version=\"1\"><service-info>");
	for (p = text; !err && *p; p++) {
		switch (*p) {
		case '&':
			err = buf_write_str(mb, "&amp;");
			break;
		case '<':
			err = buf_write_str(mb, "&lt;");
			break;
		case '>':
			err = buf_write_str(mb, "&gt;");
			break;
		default:
			err = buf_write(mb, p, 1);
			break;
		}
	}
	if (!err)
		err = buf_write_str(mb, "</service-info></ims-3gpp>\r\n");
	return err;
}


static bool has_boundary(const struct part *pv, size_t pc)
{
	struct pl b = PL(TP_BOUNDARY);
	size_t i;

	for (i = 0; i < pc; i++) {
		size_t k;

		for (k = 0; k + b.l <= pv[i].body.l; k++)
			if (!memcmp(pv[i].body.p + k, b.p, b.l))
				return true;
	}
	return false;
}


/* The body: one part as it is, several in a multipart/mixed (RFC 2046
 * 5.1.3).  The fixed boundary is refused when a part contains it. */
static int body_write(struct buf *mb, const struct part *pv, size_t pc)
{
	size_t i, blen = 0;
	int err = 0;

	if (!pc)
		return buf_write_str(mb, "Content-Length: 0\r\n\r\n");
	if (pc == 1)
		return buf_printf(mb,
				  "Content-Type: %s\r\nContent-Length: "
				  "%zu\r\n\r\n%.*s",
				  pv[0].ctype, pv[0].body.l,
				  PL_FMT(&pv[0].body));
	if (has_boundary(pv, pc))
		return EPROTO;
	for (i = 0; i < pc; i++)
		blen += strlen("--" TP_BOUNDARY "\r\nContent-Type: ") +
			strlen(pv[i].ctype) + 4 + pv[i].body.l + 2;
	blen += strlen("--" TP_BOUNDARY "--\r\n");
	err = buf_printf(mb,
			 "Content-Type: multipart/mixed;boundary=" TP_BOUNDARY
			 "\r\nContent-Length: %zu\r\n\r\n",
			 blen);
	for (i = 0; !err && i < pc; i++)
		err = buf_printf(mb,
				 "--" TP_BOUNDARY "\r\nContent-Type: %s\r\n\r\n"
				 "%.*s\r\n",
				 pv[i].ctype, PL_FMT(&pv[i].body));
	if (!err)
		err = buf_write_str(mb, "--" TP_BOUNDARY "--\r\n");
	return err;
}


/* The parts the iFC asks for; their bytes in si and rsp. */
static int parts_of(const struct scscf_reg_change *c, const struct cx_ifc *ifc,
		    struct buf *si, struct buf *rsp, struct part *pv,
		    size_t *pcp)
{
	size_t pc = 0;
	int err = 0;

	if (ifc->service_info &&
	    (c->kind == SCSCF_RC_INITIAL || c->kind == SCSCF_RC_RE)) {
		err = service_info(si, ifc->service_info);
		if (err)
			return err;
		pv[pc].ctype = "application/3gpp-ims+xml";
		pl_set(&pv[pc++].body, (const char *)si->b, si->end);
	}
	if (ifc->include_register_request && c->req) {
		pv[pc].ctype = "message/sip";
		pl_set(&pv[pc++].body, c->req->p, c->req->len);
	}
	if (ifc->include_register_response && c->req && c->rep) {
		struct sip_reply_opts o = { 0 };

		o.reason = c->rep->reason;
		o.hdrs = c->rep->hdrs;
		err = sip_reply_build(rsp, c->req, c->rep->scode, &o);
		if (err)
			return err;
		pv[pc].ctype = "message/sip";
		pl_set(&pv[pc++].body, (const char *)rsp->b, rsp->end);
	}
	*pcp = pc;
	return 0;
}


/* One third-party REGISTER (5.4.1.7 a to i). */
static int build(struct scscf_tp *tp, const struct scscf_reg_change *c,
		 const struct cx_ifc *ifc, struct sip_msg **msgp)
{
	struct part pv[TP_PARTS_MAX];
	struct buf *mb = NULL, *si = NULL, *rsp = NULL;
	const struct sip_hdr *pani = NULL;
	struct sip_msg_err merr;
	char tag[17], cid[33], icid[CALLREC_ICID_MAX];
	size_t pc = 0;
	int err;

	err = buf_alloc(&mb, 2048, TP_MSG_MAX);
	if (!err)
		err = buf_alloc(&si, 256, 8192);
	if (!err)
		err = buf_alloc(&rsp, 1024, TP_MSG_MAX);
	if (!err)
		err = parts_of(c, ifc, si, rsp, pv, &pc);
	if (err)
		goto out;
	rand_hex(tag, 8);
	rand_hex(cid, 16);
	/* RFC 7315 4.6: the icid of the REGISTER, else a fresh one */
	if (!c->req || callrec_icid(c->req, icid, sizeof(icid)))
		rand_hex(icid, 16);
	if (c->req)
		pani = sip_msg_hdr_name(c->req, "P-Access-Network-Info");
	err = buf_printf(mb,
			 "REGISTER %s SIP/2.0\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: <%s>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Contact: <%s>\r\n"
			 "Expires: %u\r\n"
			 "P-Charging-Vector: icid-value=%s\r\n",
			 ifc->as_uri, tp->uri, tag, c->impu, cid, ++tp->cseq,
			 tp->uri, c->expires, icid);
	if (!err && pani)
		err = buf_printf(mb, "P-Access-Network-Info: %.*s\r\n",
				 PL_FMT(&pani->val));
	if (!err)
		err = body_write(mb, pv, pc);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(msgp, mb, true, &merr);
	}
out:
	mem_deref(rsp);
	mem_deref(si);
	mem_deref(mb);
	return err;
}


static void job_result(struct scscf_tp *tp, struct tp_job *j, uint16_t scode)
{
	if (scode >= 200 && scode < 300) {
		LOG_DEBUG(NULL, "third-party REGISTER of %s to %s: %u", j->impu,
			  j->as, scode);
		mem_deref(j);
		return;
	}
	list_unlink(&j->le); /* out before the de-registration reports */
	LOG_INFO(NULL,
		 "third-party REGISTER of %s to %s failed (%u): "
		 "DefaultHandling %s",
		 j->impu, j->as, scode,
		 j->dh == CX_DH_SESSION_TERMINATED ? "SESSION_TERMINATED"
						   : "SESSION_CONTINUED");
	/* TS 24.229 5.4.1.7: SESSION_TERMINATED de-registers the user
	 * (5.4.1.5); a de-registration has nothing left to end */
	if (j->dh == CX_DH_SESSION_TERMINATED && !j->dereg && tp->deregh)
		tp->deregh(j->impu, tp->arg);
	mem_deref(j);
}


static void fail_later(void *arg)
{
	struct tp_job *j = arg;

	job_result(j->tp, j, 0);
}


static int job_alloc(struct scscf_tp *tp, struct tp_job **jp,
		     const struct scscf_reg_change *c, const struct cx_ifc *ifc)
{
	struct tp_job *j;

	j = mem_zalloc(sizeof(*j), job_destructor);
	if (!j)
		return ENOMEM;
	tmr_init(&j->fail);
	j->tp = tp;
	j->id = tp->next_id++;
	j->dh = ifc->default_handling;
	j->dereg = c->kind != SCSCF_RC_INITIAL && c->kind != SCSCF_RC_RE;
	j->impu = mem_strdup(c->impu, strlen(c->impu));
	j->as = mem_strdup(ifc->as_uri, strlen(ifc->as_uri));
	if (!j->impu || !j->as) {
		mem_deref(j);
		return ENOMEM;
	}
	list_append(&tp->jobs, &j->le, j);
	*jp = j;
	return 0;
}


static unsigned reg_type_of(enum scscf_reg_change_kind k)
{
	switch (k) {
	case SCSCF_RC_INITIAL:
		return CX_REGTYPE_INITIAL;
	case SCSCF_RC_RE:
		return CX_REGTYPE_RE;
	default:
		return CX_REGTYPE_DE;
	}
}


/* One AS: a job, the REGISTER, sendh; a failure to send is reported from
 * the loop.  Only ENOMEM for the job itself is returned. */
static int notify_one(struct scscf_tp *tp, const struct scscf_reg_change *c,
		      const struct cx_ifc *ifc, size_t *sent)
{
	struct sip_msg *msg = NULL;
	struct tp_job *j = NULL;
	int err;

	if (!ifc->as_uri || strncmp(ifc->as_uri, "sip", 3) != 0)
		return 0;
	if (tp->jobs.n >= tp->max_pending) {
		LOG_WARN(NULL,
			 "third-party REGISTER of %s to %s not sent: %u "
			 "pending",
			 c->impu, ifc->as_uri, tp->max_pending);
		return 0;
	}
	err = job_alloc(tp, &j, c, ifc);
	if (err)
		return err;
	err = build(tp, c, ifc, &msg);
	if (!err)
		err = tp->sendh(msg, j->id, tp->arg);
	mem_deref(msg);
	if (err) {
		LOG_WARN(NULL, "third-party REGISTER of %s to %s: %s", c->impu,
			 ifc->as_uri, log_strerror(err));
		tmr_start(&j->fail, 0, fail_later, j);
		return 0;
	}
	(*sent)++;
	return 0;
}


/**
 * Notify the application servers of a registration change.
 *
 * @param tp     the module
 * @param c      the change (the registrar's)
 * @param sentp  receives the number of REGISTERs sent (may be NULL)
 * @return 0, EINVAL, ENOMEM
 */
int scscf_tp_change(struct scscf_tp *tp, const struct scscf_reg_change *c,
		    size_t *sentp)
{
	const struct cx_ifc *mv[SCSCF_TP_AS_MAX];
	struct sip_msg *eq = NULL;
	struct ifc_req q;
	size_t n = 0, i, sent = 0;
	int err;

	if (sentp)
		*sentp = 0;
	if (!tp || !c || !c->impu || !c->ifc)
		return EINVAL;
	memset(&q, 0, sizeof(q));
	q.msg = c->req;
	if (!q.msg) {
		err = equivalent_register(&eq, c->impu);
		if (err)
			return err;
		q.msg = eq;
	}
	q.sc = CX_SC_ORIGINATING;
	q.reg_type = reg_type_of(c->kind);
	q.registered = true;
	err = ifc_match(c->ifc, c->sp_idx, &q, mv, SCSCF_TP_AS_MAX, &n);
	if (err == ENOSPC) {
		LOG_WARN(NULL,
			 "%s: more than %u ASs for REGISTER, the first "
			 "notified",
			 c->impu, SCSCF_TP_AS_MAX);
		err = 0;
	}
	if (err)
		goto out;
	for (i = 0; !err && i < n; i++)
		err = notify_one(tp, c, mv[i], &sent);
out:
	mem_deref(eq);
	if (sentp)
		*sentp = sent;
	return err;
}


/**
 * The final status of a third-party REGISTER.
 *
 * @param tp     the module
 * @param id     what sendh was given
 * @param scode  the final status, 0 when none came
 */
void scscf_tp_result(struct scscf_tp *tp, uint64_t id, uint16_t scode)
{
	struct le *le;

	if (!tp)
		return;
	LIST_FOREACH (&tp->jobs, le) {
		struct tp_job *j = le->data;

		if (j->id == id && !tmr_isrunning(&j->fail)) {
			job_result(tp, j, scode);
			return;
		}
	}
}


size_t scscf_tp_pending(const struct scscf_tp *tp)
{
	return tp ? tp->jobs.n : 0;
}
