/**
 * @file pcscf_sub.c  The P-CSCF's reg event subscriptions (TS 24.229
 * 5.2.3, RFC 3680, RFC 6665).
 *
 * One struct psub per IMPU, one block each, found through two compact
 * indexes (pcscf_tab.h: by IMPU, by Call-ID; a SUBSCRIBE's id names its
 * Call-ID's key, so its response is found there too).  The dialog is the
 * subscriber side of RFC 6665 4.1: our random Call-ID and From tag (kept
 * as octets, written in hex), the To tag and the remote target (Contact)
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
#include "core/log.h"
#include "core/loop.h"
#include "core/pl.h"
#include "cscf/pcscf_tab.h"
#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/uri.h"

#define LOG_MODULE "pcscf"

#define SUB_REQ_MAX   8192
#define SUB_SHORT     1200 /* s: up to this, refresh at half time */
#define SUB_MARGIN    600  /* s: before the end of a longer one */
#define SUB_ROUTE_MAX 16   /* route set entries kept */
#define SUB_RTAG_MAX  128  /* octets of the remote tag, NUL included */

/* Subscriptions are found by IMPU (a registration) and by Call-ID (a
 * NOTIFY, and the response to a SUBSCRIBE: its id carries the Call-ID's
 * key): one index each (pcscf_tab.h), so that a P-CSCF with 100,000
 * registered users does not scan them all on every REGISTER and NOTIFY. */
#define SUB_BUCKETS 1024

#define CID_LEN  12 /* random octets: the Call-ID is their hex */
#define LTAG_LEN 8  /* random octets: our tag is their hex */

struct pcscf_sub {
	struct pcscf_idx by_impu; /* holds the counted reference */
	struct pcscf_idx by_cid;
	struct pcscf_strtab *strs;
	char *contact;
	pcscf_sub_send_h *sendh;
	regevent_term_h *termh;
	void *arg;
	uint32_t seq; /* request ids: the high half */
};

enum {
	S_IMPU,
	S_CID,
	S_NODES
};

/* One subscription, one block: the record, its index nodes and its
 * strings (the IMPU, then the remote tag once known: setting it makes a
 * new block).  What is the same for every dialog with one S-CSCF (our
 * URI, its remote target, the route set) is a shared list, and the
 * random Call-ID and tag are kept as octets. */
struct psub {
	struct pcscf_inode node[S_NODES];
	struct pcscf_sub *ps;
	struct regevent_watch *w;
	struct pcscf_strs *from;   /* our URI */
	struct pcscf_strs *target; /* remote target, NULL until known */
	struct pcscf_strs *route;  /* "<uri>" values, in sending order */
	struct tmr tmr;            /* the refresh, or the end when gone */
	uint64_t end_at;           /* ms, 0 unknown */
	uint64_t pending; /* the id of the SUBSCRIBE in flight, 0: none */
	uint32_t cseq;
	uint32_t asked;   /* the Expires we ask for */
	uint32_t expires; /* granted */
	uint8_t cid[CID_LEN];
	uint8_t ltag[LTAG_LEN];
	bool confirmed;
	bool gone;
	bool refreshing; /* tmr is the refresh */
	bool has_rtag;
	char s[]; /* impu NUL [rtag NUL] */
};


static struct psub *psub_of(struct pcscf_inode *nd)
{
	return (struct psub *)(void *)((char *)(nd - nd->pos) -
				       offsetof(struct psub, node));
}


static const char *psub_impu(const struct psub *s)
{
	return s->s;
}


static const char *psub_rtag(const struct psub *s)
{
	return s->has_rtag ? s->s + strlen(s->s) + 1 : "";
}


static void hex_of(char *out, const uint8_t *v, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[v[i] >> 4];
		out[2 * i + 1] = hx[v[i] & 15];
	}
	out[2 * n] = '\0';
}


static void psub_unlink(struct psub *s)
{
	pcscf_idx_del(&s->ps->by_impu, &s->node[S_IMPU]);
	pcscf_idx_del(&s->ps->by_cid, &s->node[S_CID]);
}


static void psub_destructor(void *arg)
{
	struct psub *s = arg;

	tmr_cancel(&s->tmr);
	psub_unlink(s);
	mem_deref(s->w);
	mem_deref(s->from);
	mem_deref(s->target);
	mem_deref(s->route);
}


static void walk_deref(struct pcscf_inode *nd)
{
	mem_deref(psub_of(nd));
}


static void destructor(void *arg)
{
	struct pcscf_sub *ps = arg;

	pcscf_idx_walk(&ps->by_impu, walk_deref);
	pcscf_idx_free(&ps->by_impu);
	pcscf_idx_free(&ps->by_cid);
	mem_deref(ps->strs);
	mem_deref(ps->contact);
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
	err = pcscf_idx_init(&ps->by_impu, SUB_BUCKETS);
	if (!err)
		err = pcscf_idx_init(&ps->by_cid, SUB_BUCKETS);
	if (!err)
		err = pcscf_strtab_alloc(&ps->strs);
	if (!err) {
		ps->contact = mem_strdup(contact, strlen(contact));
		if (!ps->contact)
			err = ENOMEM;
	}
	if (err)
		mem_deref(ps);
	else
		*psp = ps;
	return err;
}


static struct psub *find_impu(const struct pcscf_sub *ps, const char *impu)
{
	uint32_t key = hash_fast(impu, strlen(impu));
	struct pcscf_inode *nd;

	for (nd = pcscf_idx_head(&ps->by_impu, key); nd; nd = nd->next) {
		struct psub *s = psub_of(nd);

		if (nd->key == key && !strcmp(psub_impu(s), impu))
			return s;
	}
	return NULL;
}


static struct psub *find_callid(const struct pcscf_sub *ps,
				const struct pl *callid)
{
	uint32_t key = hash_fast(callid->p, callid->l);
	char cid[2 * CID_LEN + 1];
	struct pcscf_inode *nd;

	if (callid->l != (size_t)2 * CID_LEN)
		return NULL;
	for (nd = pcscf_idx_head(&ps->by_cid, key); nd; nd = nd->next) {
		struct psub *s = psub_of(nd);

		if (nd->key != key)
			continue;
		hex_of(cid, s->cid, CID_LEN);
		if (pl_eq_str(callid, cid))
			return s;
	}
	return NULL;
}


static struct psub *find_id(const struct pcscf_sub *ps, uint64_t id)
{
	struct pcscf_inode *nd;

	if (!id)
		return NULL;
	for (nd = pcscf_idx_head(&ps->by_cid, (uint32_t)id); nd;
	     nd = nd->next) {
		struct psub *s = psub_of(nd);

		if (nd->key == (uint32_t)id && s->pending == id)
			return s;
	}
	return NULL;
}


/* The SUBSCRIBE in flight (0: none). */
static void set_pending(struct psub *s, uint64_t id)
{
	s->pending = id;
}


/* The remote target (RFC 6665 4.1.3 target refresh). */
static int set_target(struct psub *s, const struct pl *uri)
{
	struct pcscf_strs *t = NULL;
	int err = pcscf_strs_get(s->ps->strs, uri, 1, &t);

	if (err)
		return err;
	mem_deref(s->target);
	s->target = t;
	return 0;
}


static void timer_h(void *arg);

/* The remote tag, once (RFC 3261 12.1.2): the block is made again with
 * room for it and takes the old one's place in the indexes and on the
 * timer.  NULL when out of memory (s unchanged). */
static struct psub *set_rtag(struct psub *s, const struct pl *tag)
{
	struct pcscf_sub *ps = s->ps;
	size_t il = strlen(s->s) + 1;
	bool running = tmr_isrunning(&s->tmr);
	uint64_t at = s->tmr.jfs, now = tmr_jiffies();
	struct psub *n;

	n = mem_alloc(sizeof(*n) + il + tag->l + 1, psub_destructor);
	if (!n)
		return NULL;
	tmr_cancel(&s->tmr);
	psub_unlink(s);
	memcpy(n, s, sizeof(*n));
	memcpy(n->s, s->s, il);
	memcpy(n->s + il, tag->p, tag->l);
	n->s[il + tag->l] = '\0';
	n->has_rtag = true;
	tmr_init(&n->tmr);
	/* the references move to the new block */
	s->w = NULL;
	s->from = NULL;
	s->target = NULL;
	s->route = NULL;
	mem_deref(s);
	pcscf_idx_add(&ps->by_impu, &n->node[S_IMPU], n->node[S_IMPU].key);
	pcscf_idx_add(&ps->by_cid, &n->node[S_CID], n->node[S_CID].key);
	if (running)
		tmr_start(&n->tmr, at > now ? at - now : 0, timer_h, n);
	return n;
}


/* TS 24.229 5.2.3: 600 s before the end of a long subscription, half
 * time for one of 1200 s or less. */
static uint32_t refresh_after(uint32_t expires)
{
	return expires > SUB_SHORT ? expires - SUB_MARGIN : expires / 2;
}


/* The granted time is now `expires` seconds from now. */
static void granted(struct psub *s, uint32_t expires)
{
	s->expires = expires;
	s->end_at = tmr_jiffies() + (uint64_t)expires * 1000;
	s->refreshing = !s->gone;
	if (s->gone) {
		tmr_start(&s->tmr, (uint64_t)expires * 1000, timer_h, s);
		return;
	}
	tmr_start(&s->tmr, (uint64_t)refresh_after(expires) * 1000, timer_h, s);
}


static int build(struct buf *mb, const struct psub *s)
{
	const char *ruri = s->confirmed && s->target
				   ? pcscf_strs_first(s->target)
				   : psub_impu(s);
	const char *from = pcscf_strs_first(s->from);
	const char *r = pcscf_strs_first(s->route);
	char cid[2 * CID_LEN + 1], ltag[2 * LTAG_LEN + 1];
	size_t i;
	int err;

	hex_of(cid, s->cid, CID_LEN);
	hex_of(ltag, s->ltag, LTAG_LEN);
	err = buf_printf(mb, "SUBSCRIBE %s SIP/2.0\r\n", ruri);
	for (i = 0; !err && i < pcscf_strs_n(s->route); i++) {
		err = buf_printf(mb, "Route: %s\r\n", r);
		r += strlen(r) + 1;
	}
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
				 from, ltag, psub_impu(s),
				 s->confirmed ? ";tag=" : "",
				 s->confirmed ? psub_rtag(s) : "", cid, s->cseq,
				 s->ps->contact, from, s->asked);
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
	/* the request (high half) in the dialog (the Call-ID's key, low
	 * half): find_id() looks it up in the Call-ID index */
	if (!++ps->seq)
		++ps->seq;
	id = (uint64_t)ps->seq << 32 | s->node[S_CID].key;
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
	s->refreshing = false;
	err = send_sub(s);
	if (err) {
		LOG_WARN(NULL, "reg event refresh for %s not sent: %s",
			 psub_impu(s), log_strerror(err));
		mem_deref(s); /* the index's reference: unlinks */
		return;
	}
	LOG_INFO(NULL, "reg event subscription to %s refreshed (%s)",
		 psub_impu(s), why);
}


static void timer_h(void *arg)
{
	struct psub *s = arg;

	if (s->gone) {
		LOG_INFO(NULL, "reg event subscription to %s ended (expired)",
			 psub_impu(s));
		mem_deref(s);
		return;
	}
	refresh(s, "before expiry");
}


int pcscf_sub_start(struct pcscf_sub *ps, const struct pcscf_subscribe *s)
{
	struct pl from, route[SUB_ROUTE_MAX];
	char cid[2 * CID_LEN + 1];
	struct psub *x;
	size_t il, i;
	int err;

	if (!ps || !s || !s->impu || !s->from || (s->route_n && !s->route))
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
	il = strlen(s->impu) + 1;
	if (il > PCSCF_URI_MAX || strlen(s->from) >= PCSCF_URI_MAX ||
	    s->route_n > SUB_ROUTE_MAX)
		return E2BIG;
	x = mem_zalloc(sizeof(*x) + il, psub_destructor);
	if (!x)
		return ENOMEM;
	x->ps = ps;
	tmr_init(&x->tmr);
	for (i = 0; i < S_NODES; i++)
		x->node[i].pos = (uint32_t)i;
	x->asked = s->expires ? s->expires : 600000;
	memcpy(x->s, s->impu, il);
	pl_set_str(&from, s->from);
	for (i = 0; i < s->route_n; i++)
		pl_set_str(&route[i], s->route[i]);
	err = pcscf_strs_get(ps->strs, &from, 1, &x->from);
	if (!err)
		err = pcscf_strs_get(ps->strs, route, s->route_n, &x->route);
	if (!err && (RAND_bytes(x->cid, CID_LEN) != 1 ||
		     RAND_bytes(x->ltag, LTAG_LEN) != 1))
		err = EIO;
	if (!err)
		err = regevent_watch_alloc(&x->w);
	if (err) {
		mem_deref(x);
		return err;
	}
	hex_of(cid, x->cid, CID_LEN);
	pcscf_idx_add(&ps->by_impu, &x->node[S_IMPU], hash_fast(x->s, il - 1));
	pcscf_idx_add(&ps->by_cid, &x->node[S_CID],
		      hash_fast(cid, strlen(cid)));
	err = send_sub(x);
	if (err)
		mem_deref(x); /* unlinks */
	return err;
}


/* The dialog from a 2xx (RFC 3261 12.1.2): To tag, Contact as remote
 * target, Record-Route reversed as the route set.  *sp may move
 * (set_rtag). */
static int dialog_from_2xx(struct psub **sp, struct sip_msg *resp)
{
	const struct sip_addr *to;
	struct sip_hdr_iter it = { 0 };
	struct pl v, rr[SUB_ROUTE_MAX], rv[SUB_ROUTE_MAX];
	struct pcscf_strs *route = NULL;
	const struct sip_hdr *h;
	struct psub *s = *sp;
	size_t n = 0, i;
	int err;

	if (sip_msg_to(resp, &to) || !pl_isset(&to->tag) ||
	    to->tag.l >= SUB_RTAG_MAX)
		return EBADMSG;
	h = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	if (h) {
		struct sip_addr a;

		if (sip_addr_decode(&a, &h->val) || a.auri.l >= PCSCF_URI_MAX)
			return EBADMSG;
		err = set_target(s, &a.auri);
		if (err)
			return err;
	}
	if (s->confirmed)
		return 0;
	while (n < SUB_ROUTE_MAX &&
	       sip_msg_hdr_value_next(resp, SIP_HDR_RECORD_ROUTE, &it, &v))
		rr[n++] = v;
	if (n) {
		for (i = 0; i < n; i++)
			rv[i] = rr[n - 1 - i];
		err = pcscf_strs_get(s->ps->strs, rv, n, &route);
		if (err)
			return err;
		mem_deref(s->route);
		s->route = route;
	} else if (s->target) {
		s->route = mem_deref(s->route); /* straight to the target */
	}
	s = set_rtag(s, &to->tag);
	if (!s)
		return ENOMEM;
	*sp = s;
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
			 psub_impu(s), resp ? resp->scode : 0);
		mem_deref(s);
		return;
	}
	if (dialog_from_2xx(&s, resp)) {
		LOG_WARN(NULL, "reg event subscription to %s: bad %u",
			 psub_impu(s), resp->scode);
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
			 psub_impu(s), resp->scode, exp);
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


/* What a NOTIFY tells of the dialog: each is a target refresh (RFC 6665
 * 4.1.3); one before the 2xx confirms the dialog (RFC 6665 4.1.2.4) with
 * no Record-Route known, so in-dialog requests go to the target.  Out of
 * memory: the old target, and the 2xx confirms.  Returns s, maybe moved
 * (set_rtag). */
static struct psub *notify_dialog(struct psub *s, struct sip_msg *notify,
				  const struct pl *tag)
{
	const struct sip_hdr *h = sip_msg_hdr(notify, SIP_HDR_CONTACT);
	struct psub *n;

	if (h) {
		struct sip_addr a;

		if (!sip_addr_decode(&a, &h->val) && a.auri.l < PCSCF_URI_MAX)
			(void)set_target(s, &a.auri);
	}
	if (s->confirmed || !s->target || tag->l >= SUB_RTAG_MAX)
		return s;
	n = set_rtag(s, tag);
	if (!n)
		return s;
	n->route = mem_deref(n->route);
	n->confirmed = true;
	return n;
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
	if (s->confirmed && !pl_eq_str(&from->tag, psub_rtag(s)))
		return 481; /* another dialog (a fork we do not keep) */
	err = regevent_watch_notify(s->w, notify, ps->termh, ps->arg, &res,
				    ebuf, sizeof(ebuf));
	if (err == EPROTO)
		return 489;
	if (err) {
		LOG_WARN(NULL, "reg event NOTIFY for %s: %s", psub_impu(s),
			 ebuf);
		return 400;
	}
	/* s may have been marked gone by termh; it is still here */
	s = notify_dialog(s, notify, &from->tag);
	if (res.terminated) {
		LOG_INFO(NULL, "reg event subscription to %s terminated (%s)",
			 psub_impu(s), res.reason);
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
	s->refreshing = false;
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
	info->refresh_at =
		s->refreshing && tmr_isrunning(&s->tmr) ? s->tmr.jfs : 0;
	info->end_at = s->end_at;
	info->cseq = s->cseq;
	info->confirmed = s->confirmed;
	info->pending = s->pending != 0;
	info->gone = s->gone;
	return 0;
}


size_t pcscf_sub_count(const struct pcscf_sub *ps)
{
	return ps ? ps->by_impu.n : 0;
}


void pcscf_sub_close(struct pcscf_sub *ps)
{
	if (ps)
		pcscf_idx_walk(&ps->by_impu, walk_deref);
}
