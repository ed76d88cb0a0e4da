/**
 * @file pcscf_sub.c  The P-CSCF's reg event subscriptions (TS 24.229
 * 5.2.3, RFC 3680, RFC 6665).
 *
 * One struct psub per IMPU, in a list (a P-CSCF serves few IMPUs per
 * phone, and every lookup is by the NOTIFY's Call-ID or the IMPU of a
 * registration event: a list is enough at this size; a hash would be the
 * next step).  The dialog is the subscriber side of RFC 6665 4.1: our
 * random Call-ID and From tag, the To tag and the remote target (Contact)
 * from the 2xx or from the first NOTIFY, whichever comes first (RFC 6665
 * 4.1.2.4: a NOTIFY may overtake the 2xx), the route set from the 2xx's
 * Record-Route in reverse order (RFC 3261 12.1.2), or the Service-Route
 * we started with when there is none and no target is known.  Each NOTIFY
 * is a target refresh (RFC 6665 4.1.3) and its Subscription-State
 * expires is the new remaining time.
 *
 * Timing (TS 24.229 5.2.3): the refresh goes out 600 s before the end
 * when the subscription was granted for more than 1200 s, else at half
 * time.  A version gap (RFC 3680 5.2, regevent_watch's resubscribe) sends
 * the refresh at once: the S-CSCF answers a refresh with a full state
 * NOTIFY (RFC 6665 4.2.1.2).  A refresh that fails (481, 408, transport)
 * ends the subscription (RFC 6665 4.1.2.2); a gone subscription (no
 * registration of the IMPU left) is not refreshed and is forgotten at the
 * end of its granted time unless the terminated NOTIFY comes first.
 */
#include "cscf/pcscf_sub.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/uri.h"

#define LOG_MODULE "pcscf"

#define SUB_REQ_MAX   8192
#define SUB_SHORT     1200 /* s: up to this, refresh at half time */
#define SUB_MARGIN    600  /* s: before the end of a longer one */
#define SUB_ROUTE_MAX 16   /* route set entries kept */

/* Subscriptions are found by IMPU (a registration), by Call-ID (a
 * NOTIFY) and by the id of the SUBSCRIBE in flight (its response): one
 * hash each, so that a P-CSCF with 100,000 registered users does not scan
 * them all on every REGISTER and NOTIFY. */
#define SUB_BUCKETS (1u << 16)

struct pcscf_sub {
	struct hash *by_impu; /* struct psub, the counted reference */
	struct hash *by_cid;
	struct hash *by_id; /* those with a SUBSCRIBE in flight */
	char *contact;
	pcscf_sub_send_h *sendh;
	regevent_term_h *termh;
	void *arg;
	uint64_t seq; /* request ids */
};

struct psub {
	struct le he_impu, he_cid, he_id;
	struct pcscf_sub *ps;
	struct regevent_watch *w;
	struct tmr tmr; /* the refresh, or the end when gone */
	/* strings, not PCSCF_URI_MAX arrays: one of these per registered
	 * user, and the URIs are short */
	char *impu;
	char *from;
	char *target;               /* remote target, NULL until known */
	char *route[SUB_ROUTE_MAX]; /* "<uri>" values, in sending order */
	size_t route_n;
	char callid[48];
	char ltag[24];
	char rtag[128];
	uint32_t cseq;
	uint32_t asked;   /* the Expires we ask for */
	uint32_t expires; /* granted */
	uint64_t end_at;  /* ms, 0 unknown */
	uint64_t refresh_at;
	uint64_t pending; /* the id of the SUBSCRIBE in flight, 0: none */
	bool confirmed;
	bool gone;
};


static void route_clear(struct psub *s)
{
	size_t i;

	for (i = 0; i < s->route_n; i++)
		s->route[i] = mem_deref(s->route[i]);
	s->route_n = 0;
}


static void psub_destructor(void *arg)
{
	struct psub *s = arg;

	tmr_cancel(&s->tmr);
	hash_unlink(s->ps->by_impu, &s->he_impu);
	hash_unlink(s->ps->by_cid, &s->he_cid);
	hash_unlink(s->ps->by_id, &s->he_id);
	route_clear(s);
	mem_deref(s->w);
	mem_deref(s->impu);
	mem_deref(s->from);
	mem_deref(s->target);
}


static void destructor(void *arg)
{
	struct pcscf_sub *ps = arg;

	if (ps->by_impu)
		hash_flush(ps->by_impu);
	mem_deref(ps->by_impu);
	mem_deref(ps->by_cid);
	mem_deref(ps->by_id);
	mem_deref(ps->contact);
}


static int sdup(char **dst, const char *p, size_t l)
{
	*dst = mem_alloc(l + 1, NULL);
	if (!*dst)
		return ENOMEM;
	memcpy(*dst, p, l);
	(*dst)[l] = '\0';
	return 0;
}


int pcscf_sub_alloc(struct pcscf_sub **psp, const char *contact,
		    pcscf_sub_send_h *sendh, regevent_term_h *termh, void *arg)
{
	struct pcscf_sub *ps;
	int err;

	if (!psp || !contact || !*contact || !sendh)
		return EINVAL;
	ps = mem_zalloc(sizeof(*ps), destructor);
	if (!ps)
		return ENOMEM;
	ps->sendh = sendh;
	ps->termh = termh;
	ps->arg = arg;
	err = hash_alloc(&ps->by_impu, SUB_BUCKETS);
	if (!err)
		err = hash_alloc(&ps->by_cid, SUB_BUCKETS);
	if (!err)
		err = hash_alloc(&ps->by_id, SUB_BUCKETS);
	if (!err)
		err = sdup(&ps->contact, contact, strlen(contact));
	if (err)
		mem_deref(ps);
	else
		*psp = ps;
	return err;
}


static struct psub *find_impu(const struct pcscf_sub *ps, const char *impu)
{
	struct le *le;

	LIST_FOREACH (hash_list(ps->by_impu, hash_fast(impu, strlen(impu))),
		      le) {
		struct psub *s = le->data;

		if (!strcmp(s->impu, impu))
			return s;
	}
	return NULL;
}


static struct psub *find_callid(const struct pcscf_sub *ps,
				const struct pl *callid)
{
	struct le *le;

	LIST_FOREACH (hash_list(ps->by_cid, hash_fast(callid->p, callid->l)),
		      le) {
		struct psub *s = le->data;

		if (pl_eq_str(callid, s->callid))
			return s;
	}
	return NULL;
}


static struct psub *find_id(const struct pcscf_sub *ps, uint64_t id)
{
	struct le *le;

	if (!id)
		return NULL;
	LIST_FOREACH (hash_list(ps->by_id, (uint32_t)id), le) {
		struct psub *s = le->data;

		if (s->pending == id)
			return s;
	}
	return NULL;
}


/* The SUBSCRIBE in flight (0: none), indexed for its response. */
static void set_pending(struct psub *s, uint64_t id)
{
	hash_unlink(s->ps->by_id, &s->he_id);
	s->pending = id;
	if (id)
		hash_append(s->ps->by_id, (uint32_t)id, &s->he_id, s);
}


/* The remote target (RFC 6665 4.1.3 target refresh). */
static int set_target(struct psub *s, const struct pl *uri)
{
	char *t;
	int err = sdup(&t, uri->p, uri->l);

	if (err)
		return err;
	mem_deref(s->target);
	s->target = t;
	return 0;
}


static void timer_h(void *arg);

/* TS 24.229 5.2.3: 600 s before the end of a long subscription, half
 * time for one of 1200 s or less. */
static uint32_t refresh_after(uint32_t expires)
{
	return expires > SUB_SHORT ? expires - SUB_MARGIN : expires / 2;
}


/* The granted time is now `expires` seconds from now. */
static void granted(struct psub *s, uint32_t expires)
{
	uint64_t now = tmr_jiffies();

	s->expires = expires;
	s->end_at = now + (uint64_t)expires * 1000;
	if (s->gone) {
		s->refresh_at = 0;
		tmr_start(&s->tmr, (uint64_t)expires * 1000, timer_h, s);
		return;
	}
	s->refresh_at = now + (uint64_t)refresh_after(expires) * 1000;
	tmr_start(&s->tmr, s->refresh_at - now, timer_h, s);
}


static int build(struct buf *mb, const struct psub *s)
{
	const char *ruri = s->confirmed && s->target ? s->target : s->impu;
	size_t i;
	int err;

	err = buf_printf(mb, "SUBSCRIBE %s SIP/2.0\r\n", ruri);
	for (i = 0; !err && i < s->route_n; i++)
		err = buf_printf(mb, "Route: %s\r\n", s->route[i]);
	if (!err)
		err = buf_printf(mb,
				 "Max-Forwards: 70\r\n"
				 "From: <%s>;tag=%s\r\n"
				 "To: <%s>%s%s\r\n"
				 "Call-ID: %s\r\n"
				 "CSeq: %u SUBSCRIBE\r\n"
				 "Contact: <%s>\r\n"
				 "P-Asserted-Identity: <%s>\r\n"
				 "Event: reg\r\n"
				 "Expires: %u\r\n"
				 "Accept: application/reginfo+xml\r\n"
				 "Content-Length: 0\r\n\r\n",
				 s->from, s->ltag, s->impu,
				 s->confirmed ? ";tag=" : "",
				 s->confirmed ? s->rtag : "", s->callid,
				 s->cseq, s->ps->contact, s->from, s->asked);
	return err;
}


/* Send the next SUBSCRIBE of s (initial or refresh).  On a send failure
 * the caller decides what remains. */
static int send_sub(struct psub *s)
{
	struct pcscf_sub *ps = s->ps;
	struct sip_msg *msg = NULL;
	struct sip_msg_err merr;
	struct buf *mb = NULL;
	uint64_t id;
	int err;

	s->cseq++;
	err = buf_alloc(&mb, 2048, SUB_REQ_MAX);
	if (!err)
		err = build(mb, s);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_alloc(&msg, mb, true, &merr);
	}
	if (err)
		goto out;
	id = ++ps->seq;
	set_pending(s, id);
	err = ps->sendh(id, msg, ps->arg);
	if (err)
		set_pending(s, 0);
out:
	mem_deref(msg);
	mem_deref(mb);
	return err;
}


static void refresh(struct psub *s, const char *why)
{
	int err;

	if (s->pending || s->gone)
		return; /* its answer sets the next time; gone: none */
	tmr_cancel(&s->tmr);
	s->refresh_at = 0;
	err = send_sub(s);
	if (err) {
		LOG_WARN(NULL, "reg event refresh for %s not sent: %s", s->impu,
			 log_strerror(err));
		mem_deref(s); /* the list's reference: unlinks */
		return;
	}
	LOG_INFO(NULL, "reg event subscription to %s refreshed (%s)", s->impu,
		 why);
}


static void timer_h(void *arg)
{
	struct psub *s = arg;

	if (s->gone) {
		LOG_INFO(NULL, "reg event subscription to %s ended (expired)",
			 s->impu);
		mem_deref(s);
		return;
	}
	refresh(s, "before expiry");
}


static int random_hex(char *out, size_t n)
{
	uint8_t rnd[32];
	size_t i;

	if (n / 2 > sizeof(rnd) || RAND_bytes(rnd, (int)(n / 2)) != 1)
		return EIO;
	for (i = 0; i < n / 2; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}


int pcscf_sub_start(struct pcscf_sub *ps, const struct pcscf_subscribe *s)
{
	struct psub *x;
	size_t i;
	int err;

	if (!ps || !s || !s->impu || !s->from)
		return EINVAL;
	x = find_impu(ps, s->impu);
	if (x) {
		if (x->gone) {
			/* registered again before the end: refresh again */
			uint64_t now = tmr_jiffies();

			x->gone = false;
			if (x->confirmed && !x->pending && x->end_at > now)
				granted(x,
					(uint32_t)((x->end_at - now) / 1000));
		}
		return EALREADY;
	}
	if (strlen(s->impu) >= PCSCF_URI_MAX ||
	    strlen(s->from) >= PCSCF_URI_MAX || s->route_n > SUB_ROUTE_MAX)
		return E2BIG;
	x = mem_zalloc(sizeof(*x), psub_destructor);
	if (!x)
		return ENOMEM;
	x->ps = ps;
	tmr_init(&x->tmr);
	x->asked = s->expires ? s->expires : 600000;
	err = sdup(&x->impu, s->impu, strlen(s->impu));
	if (!err)
		err = sdup(&x->from, s->from, strlen(s->from));
	if (!err)
		err = random_hex(x->callid, 24);
	if (!err)
		err = random_hex(x->ltag, 16);
	for (i = 0; !err && i < s->route_n; i++) {
		err = sdup(&x->route[i], s->route[i], strlen(s->route[i]));
		if (!err)
			x->route_n++;
	}
	if (!err)
		err = regevent_watch_alloc(&x->w);
	if (err) {
		mem_deref(x);
		return err;
	}
	hash_append(ps->by_impu, hash_fast(x->impu, strlen(x->impu)),
		    &x->he_impu, x);
	hash_append(ps->by_cid, hash_fast(x->callid, strlen(x->callid)),
		    &x->he_cid, x);
	err = send_sub(x);
	if (err)
		mem_deref(x); /* unlinks */
	return err;
}


/* The dialog from a 2xx (RFC 3261 12.1.2): To tag, Contact as remote
 * target, Record-Route reversed as the route set. */
static int dialog_from_2xx(struct psub *s, struct sip_msg *resp)
{
	const struct sip_addr *to;
	struct sip_hdr_iter it = { 0 };
	struct pl v, rr[SUB_ROUTE_MAX];
	const struct sip_hdr *h;
	size_t n = 0, i;
	int err;

	if (sip_msg_to(resp, &to) || !pl_isset(&to->tag) ||
	    to->tag.l >= sizeof(s->rtag))
		return EBADMSG;
	if (!s->confirmed)
		(void)snprintf(s->rtag, sizeof(s->rtag), "%.*s", (int)to->tag.l,
			       to->tag.p);
	h = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	if (h) {
		struct sip_addr a;

		if (sip_addr_decode(&a, &h->val) || a.auri.l >= PCSCF_URI_MAX)
			return EBADMSG;
		err = set_target(s, &a.auri);
		if (err)
			return err;
	}
	if (!s->confirmed) {
		while (n < SUB_ROUTE_MAX &&
		       sip_msg_hdr_value_next(resp, SIP_HDR_RECORD_ROUTE, &it,
					      &v))
			rr[n++] = v;
		if (n) {
			route_clear(s);
			for (i = 0; i < n; i++) {
				err = sdup(&s->route[i], rr[n - 1 - i].p,
					   rr[n - 1 - i].l);
				if (err)
					return err;
				s->route_n++;
			}
		} else if (s->target) {
			route_clear(s); /* straight to the remote target */
		}
	}
	s->confirmed = true;
	return 0;
}


void pcscf_sub_response(struct pcscf_sub *ps, uint64_t id, int err,
			struct sip_msg *resp)
{
	struct psub *s;
	uint32_t exp;
	bool initial;

	if (!ps)
		return;
	s = find_id(ps, id);
	if (!s)
		return; /* ended meanwhile */
	if (!err && resp && resp->scode < 200)
		return;
	set_pending(s, 0);
	initial = !s->confirmed;
	if (err || !resp || resp->scode >= 300) {
		/* RFC 6665 4.1.2.2: a failed refresh ends it as well */
		LOG_WARN(NULL, "reg event subscription to %s refused: %u",
			 s->impu, resp ? resp->scode : 0);
		mem_deref(s);
		return;
	}
	if (dialog_from_2xx(s, resp)) {
		LOG_WARN(NULL, "reg event subscription to %s: bad %u", s->impu,
			 resp->scode);
		mem_deref(s);
		return;
	}
	/* RFC 6665 4.1.2.1: the 2xx's Expires is what was granted */
	if (sip_msg_expires(resp, &exp))
		exp = s->asked;
	if (exp == 0) {
		mem_deref(s);
		return;
	}
	if (initial)
		LOG_INFO(NULL,
			 "reg event subscription to %s accepted (%u), "
			 "%u s",
			 s->impu, resp->scode, exp);
	granted(s, exp);
}


/* Subscription-State: active;expires=N (RFC 6665 8.2.3) */
static bool state_expires(struct sip_msg *msg, uint32_t *exp)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	struct pl params, v;
	const char *semi;

	if (!h)
		return false;
	semi = memchr(h->val.p, ';', h->val.l);
	if (!semi)
		return false;
	pl_set(&params, semi, (size_t)(h->val.p + h->val.l - semi));
	if (sip_param_get(&params, "expires", &v))
		return false;
	return pl_u32(&v, exp) == 0;
}


uint16_t pcscf_sub_notify(struct pcscf_sub *ps, struct sip_msg *notify,
			  char *reason, size_t size)
{
	struct regevent_watch_result res;
	const struct sip_addr *from;
	struct pl callid;
	struct psub *s;
	char ebuf[128] = "";
	uint32_t exp;
	int err;

	if (reason && size)
		reason[0] = '\0';
	if (!ps || !notify)
		return 500;
	if (sip_msg_callid(notify, &callid) || !(s = find_callid(ps, &callid)))
		return 481; /* RFC 6665 4.1.3 */
	if (sip_msg_from(notify, &from) || !pl_isset(&from->tag))
		return 400;
	if (s->confirmed && !pl_eq_str(&from->tag, s->rtag))
		return 481; /* another dialog (a fork we do not keep) */
	err = regevent_watch_notify(s->w, notify, ps->termh, ps->arg, &res,
				    ebuf, sizeof(ebuf));
	if (err == EPROTO)
		return 489;
	if (err) {
		LOG_WARN(NULL, "reg event NOTIFY for %s: %s", s->impu, ebuf);
		return 400;
	}
	/* s may have been marked gone by termh; it is still here.  Each
	 * NOTIFY is a target refresh (RFC 6665 4.1.3) */
	{
		const struct sip_hdr *h = sip_msg_hdr(notify, SIP_HDR_CONTACT);
		struct sip_addr a;

		if (h && !sip_addr_decode(&a, &h->val) &&
		    a.auri.l < PCSCF_URI_MAX)
			(void)set_target(s, &a.auri); /* ENOMEM: the old one */
	}
	if (!s->confirmed && s->target && from->tag.l < sizeof(s->rtag)) {
		/* RFC 6665 4.1.2.4: the NOTIFY came before the 2xx; with no
		 * Record-Route known, in-dialog requests go to the target */
		(void)snprintf(s->rtag, sizeof(s->rtag), "%.*s",
			       (int)from->tag.l, from->tag.p);
		route_clear(s);
		s->confirmed = true;
	}
	if (res.terminated) {
		LOG_INFO(NULL, "reg event subscription to %s terminated (%s)",
			 s->impu, res.reason);
		if (reason && size)
			(void)snprintf(reason, size, "%s",
				       res.reason[0] ? res.reason : "none");
		mem_deref(s);
		return 200;
	}
	if (!s->pending && state_expires(notify, &exp) && exp)
		granted(s, exp);
	if (res.resubscribe)
		refresh(s, "version gap, RFC 3680 5.2");
	return 200;
}


void pcscf_sub_gone(struct pcscf_sub *ps, const char *impu)
{
	struct psub *s;

	if (!ps || !impu)
		return;
	s = find_impu(ps, impu);
	if (!s || s->gone)
		return;
	s->gone = true;
	s->refresh_at = 0;
	tmr_cancel(&s->tmr);
	if (s->end_at) {
		uint64_t now = tmr_jiffies();

		tmr_start(&s->tmr, s->end_at > now ? s->end_at - now : 0,
			  timer_h, s);
	}
}


int pcscf_sub_info(const struct pcscf_sub *ps, const char *impu,
		   struct pcscf_sub_info *info)
{
	const struct psub *s;

	if (!ps || !impu || !info)
		return EINVAL;
	s = find_impu(ps, impu);
	if (!s)
		return ENOENT;
	info->expires = s->expires;
	info->refresh_at = s->refresh_at;
	info->end_at = s->end_at;
	info->cseq = s->cseq;
	info->confirmed = s->confirmed;
	info->pending = s->pending != 0;
	info->gone = s->gone;
	return 0;
}


size_t pcscf_sub_count(const struct pcscf_sub *ps)
{
	return ps ? ps->by_impu->n : 0;
}


void pcscf_sub_close(struct pcscf_sub *ps)
{
	if (ps)
		hash_flush(ps->by_impu);
}
