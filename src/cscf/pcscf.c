/**
 * @file pcscf.c  The P-CSCF (TS 24.229 5.2): see pcscf.h for the rules.
 *
 * Design
 *
 * Each decision is a synchronous function of the message, its flow and
 * the registrations kept: the P-CSCF never waits for anything, so
 * pcscf_request() and pcscf_response() fill a struct pcscf_out before
 * they return, and the caller (the role wiring) sends.  Rewrites go
 * through cscf_edit_msg() (edit.h): removed header lines, added lines on
 * top (Path, Route, Record-Route, P-Asserted-Identity, P-Charging-Vector).
 *
 * Registrations: one block per (IMPU, contact) with its strings and
 * its index nodes (pcscf_tab.h), found by flow through a hash of
 * (transport, source address) (the hot path: every request from a
 * phone) and by identity (each P-Associated-URI and the registered
 * IMPU: the reg event's NOTIFY, lookups from the wiring).  The
 * Service-Route is a list shared by every phone that got the same one
 * (usually all those served by one S-CSCF).  The flow keeps the phone's
 * address in 24 octets, not a struct sa of 136.  Each entry holds a
 * counted reference to its stream connection and an expiry timer on the
 * loop.  A REGISTER of the same (IMPU, contact) from a new flow (the
 * phone reconnected, or its NAT binding changed) moves the entry to the
 * new flow: the old one can no longer reach the phone.
 *
 * Flow tokens (RFC 5626 5.2 in spirit): the user part of our Path and
 * Record-Route URIs is hex(raw || HMAC-SHA256(key, raw)[0..9]) with
 * raw = version, transport, address family, port, address.  A request
 * from the core names the flow in its top Route; the HMAC stops anyone
 * outside from steering requests to a flow of their choice (403), and
 * a flow that has no registration any more gets 430 Flow Failed (RFC
 * 5626 5.3).  The token holds no connection pointer: the connection
 * comes from the registration, so a stale token cannot reach a freed
 * object.
 *
 * icid-value (RFC 7315 4.6, TS 24.229 5.2.6.3.3): 8 random octets drawn
 * at start and a 64-bit counter, in hex: unique per node without a
 * clock, and icid-generated-at names the node.
 */
#include "cscf/pcscf.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "cscf/edit.h"
#include "cscf/pcscf_tab.h"
#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/registrar.h"
#include "sip/uri.h"

#define LOG_MODULE "pcscf"

#define TOKEN_VER   1
#define TOKEN_MAC   10 /* octets of HMAC-SHA256 kept */
#define TOKEN_RAW   21 /* version, tp, af, port (2), address (16) */
#define KEY_MAX     64
#define ADD_MAX     8192 /* bytes of header lines added to one message */
#define EXPIRES_DEF 3600 /* a 2xx without any expiry (RFC 3261 10.2.1.1) */

/* What a flow needs of a struct sa (136 octets, a sockaddr_storage). */
struct caddr {
	uint8_t a[16];  /* IPv4: the first 4 */
	uint32_t scope; /* IPv6 scope id */
	uint16_t port;
	uint8_t af; /* 4, 6, or 0: none */
};

/* Positions of a phone's index nodes; the identities follow. */
enum {
	N_FLOW,
	N_ID
};

#define IMPU_OWN 0xff /* impu_id: the IMPU is not the text of an id */

/* One registration, one block: the record, its index nodes and its
 * strings (contact, the P-Associated-URIs, the IMPU when it is not one
 * of them, each NUL-terminated).  A 2xx that changes the identities
 * makes a new block; one that changes the Service-Route swaps the shared
 * list. */
struct phone {
	struct pcscf *p;
	struct sip_conn *conn;    /* streams: counted */
	struct pcscf_strs *route; /* Service-Route, shared; NULL: none */
	struct tmr tmr;           /* the expiry (tmr.jfs: when) */
	struct caddr src;         /* the phone as seen (after any NAT) */
	uint8_t tp;
	uint8_t ids_n;
	uint8_t impu_id; /* which id is the IMPU, or IMPU_OWN */
	uint8_t nn;      /* nodes */
	bool indexed;
	struct pcscf_inode node[]; /* flow, one per identity */
};

struct pcscf {
	char *uri;
	struct sip_uri me;
	char hostport[300]; /* our host[:port] for the token URIs */
	const char *scheme; /* "sip" or "sips" */
	char *icscf;        /* the next hop of REGISTER, or NULL */
	char *icscf_route;  /* "<icscf;lr>" */
	char *vnet;         /* P-Visited-Network-ID value as written */
	char *ioi;
	struct sa *core;
	size_t core_n;
	uint8_t key[KEY_MAX];
	size_t key_len;
	uint64_t icid_salt, icid_ctr;
	uint32_t max_phones, reg_expires;
	/* Indexes, so that a P-CSCF serving 100,000 phones finds one
	 * without scanning them: by flow (one node a phone: the count), by
	 * identity (each P-Associated-URI, and the registered IMPU unless
	 * an id has its key; keys: uri_key) */
	struct pcscf_idx byflow, byid;
	struct pcscf_strtab *strs; /* Service-Route lists */
	struct pcscf_hooks hooks;
	void *arg;
};

/* RFC 3325 9.1 and TS 24.229 5.2.6.3: headers that only the trust domain
 * may set, removed from whatever a phone sends */
static const char *const trusted_names[] = {
	"P-Charging-Function-Addresses",
	"P-Profile-Key",
	"P-Asserted-Service",
	NULL,
};

static const uint64_t trusted_ids = CSCF_DROP(SIP_HDR_P_ASSERTED_IDENTITY) |
				    CSCF_DROP(SIP_HDR_P_PREFERRED_IDENTITY) |
				    CSCF_DROP(SIP_HDR_P_CHARGING_VECTOR) |
				    CSCF_DROP(SIP_HDR_P_SERVED_USER) |
				    CSCF_DROP(SIP_HDR_P_VISITED_NETWORK_ID);

/* towards a phone: the charging headers stay inside the network
 * (TS 24.229 5.2.6.4.x), and so does the served user (RFC 5502) */
static const char *const charging_names[] = {
	"P-Charging-Function-Addresses",
	NULL,
};


/* ---- small helpers ---- */

static int reply(struct pcscf_out *out, uint16_t scode, const char *reason)
{
	out->act = PCSCF_REPLY;
	out->scode = scode;
	out->reason = reason;
	return 0;
}


static bool is_core(const struct pcscf *p, const struct sa *src)
{
	size_t i;

	for (i = 0; i < p->core_n; i++) {
		if (!sa_eq_addr(&p->core[i], src))
			continue;
		if (sa_port(&p->core[i]) == 0 ||
		    sa_port(&p->core[i]) == sa_port(src))
			return true;
	}
	return false;
}


static uint32_t flow_key(enum sip_transp tp, const struct sa *src)
{
	return sa_hash(src) ^ ((uint32_t)tp * 0x9e3779b1u);
}


static void caddr_set(struct caddr *c, const struct sa *sa)
{
	memset(c, 0, sizeof(*c));
	c->port = sa_port(sa);
	if (sa_af(sa) == AF_INET) {
		c->af = 4;
		memcpy(c->a, &sa->u.in.sin_addr, 4);
	} else if (sa_af(sa) == AF_INET6) {
		c->af = 6;
		memcpy(c->a, &sa->u.in6.sin6_addr, 16);
		c->scope = sa->u.in6.sin6_scope_id;
	}
}


static void caddr_get(const struct caddr *c, struct sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (c->af == 4) {
		sa_init(sa, AF_INET);
		memcpy(&sa->u.in.sin_addr, c->a, 4);
	} else if (c->af == 6) {
		sa_init(sa, AF_INET6);
		memcpy(&sa->u.in6.sin6_addr, c->a, 16);
		sa->u.in6.sin6_scope_id = c->scope;
	} else {
		return;
	}
	sa_set_port(sa, c->port);
}


/* sa_eq(): address and port, an address of no family equals nothing */
static bool caddr_eq(const struct caddr *a, const struct caddr *b)
{
	return a->af && a->af == b->af && a->port == b->port &&
	       !memcmp(a->a, b->a, a->af == 4 ? 4 : 16);
}


static struct phone *phone_of(struct pcscf_inode *nd)
{
	return (struct phone *)(void *)((char *)(nd - nd->pos) -
					offsetof(struct phone, node));
}


static const char *phone_contact(const struct phone *ph)
{
	return (const char *)(ph->node + ph->nn);
}


/* Identity i (i == ids_n: the IMPU's own copy, when it has one). */
static const char *phone_id(const struct phone *ph, size_t i)
{
	const char *s = phone_contact(ph);

	s += strlen(s) + 1;
	while (i--)
		s += strlen(s) + 1;
	return s;
}


static const char *phone_impu(const struct phone *ph)
{
	return phone_id(ph, ph->impu_id == IMPU_OWN ? ph->ids_n : ph->impu_id);
}


static void phone_flow(const struct phone *ph, struct pcscf_flow *f)
{
	f->tp = (enum sip_transp)ph->tp;
	caddr_get(&ph->src, &f->src);
	f->conn = ph->conn;
}


static bool flow_eq(const struct phone *ph, enum sip_transp tp,
		    const struct caddr *src)
{
	return ph->tp == tp && caddr_eq(&ph->src, src);
}


static struct phone *flow_first(const struct pcscf *p, enum sip_transp tp,
				const struct sa *src)
{
	uint32_t key = flow_key(tp, src);
	struct pcscf_inode *nd;
	struct caddr c;

	caddr_set(&c, src);
	for (nd = pcscf_idx_head(&p->byflow, key); nd; nd = nd->next) {
		struct phone *ph = phone_of(nd);

		if (nd->key == key && flow_eq(ph, tp, &c))
			return ph;
	}
	return NULL;
}


/* The AOR of a URI as the registrar keys it (RFC 3261 10.3 step 5); tel
 * URIs as "tel:" and the number. */
static int aor_of(const struct sip_uri *u, char *buf, size_t size)
{
	size_t n;

	if (u->sch == SIP_SCHEME_TEL) {
		if (u->user.l + 5 > size)
			return ENOSPC;
		(void)snprintf(buf, size, "tel:%.*s", PL_FMT(&u->user));
		return 0;
	}
	return registrar_aor(u, buf, size, &n);
}


static bool uri_text_eq(const char *a, const struct sip_uri *b)
{
	struct sip_uri ua;
	struct pl pa;

	pl_set_str(&pa, a);
	if (sip_uri_decode(&ua, &pa))
		return false;
	return sip_uri_eq(&ua, b);
}


static bool uri_texts_eq(const char *a, const struct pl *b)
{
	struct sip_uri ub;

	if (sip_uri_decode(&ub, b))
		return false;
	return uri_text_eq(a, &ub);
}


/* A key consistent with sip_uri_eq(): equal URIs have equal keys.
 * sip/sips: the user unescaped and folded to lower case (case variants
 * share a bucket; sip_uri_eq tells them apart, RFC 3261 19.1.4) and the
 * host; tel: the digits without visual separators (RFC 3966 4); other
 * schemes: one bucket. */
static uint32_t uri_key(const struct sip_uri *u)
{
	uint32_t x = 2166136261u;
	size_t i;

	for (i = 0; i < u->user.l; i++) {
		unsigned char c = (unsigned char)u->user.p[i];

		if (c == '%' && i + 2 < u->user.l &&
		    isxdigit((unsigned char)u->user.p[i + 1]) &&
		    isxdigit((unsigned char)u->user.p[i + 2])) {
			char hx[3] = { u->user.p[i + 1], u->user.p[i + 2], 0 };

			c = (unsigned char)strtoul(hx, NULL, 16);
			i += 2;
		}
		if (u->sch == SIP_SCHEME_TEL && !isxdigit(c) && c != '+' &&
		    c != '*' && c != '#')
			continue; /* a visual separator */
		x ^= (uint32_t)tolower(c);
		x *= 16777619u;
	}
	if (u->sch == SIP_SCHEME_SIP || u->sch == SIP_SCHEME_SIPS)
		x = x * 31u + hash_fast_ci(u->host.p, u->host.l);
	return x;
}


static uint32_t text_key_pl(const struct pl *text)
{
	struct sip_uri u;

	if (sip_uri_decode(&u, text))
		return hash_fast(text->p, text->l);
	return uri_key(&u);
}


static uint32_t text_key(const char *text)
{
	return text_key_pl(&(struct pl){ text, strlen(text) });
}


static void phone_index(struct phone *ph)
{
	struct pcscf *p = ph->p;
	struct sa src;
	size_t i;

	caddr_get(&ph->src, &src);
	pcscf_idx_add(&p->byflow, &ph->node[N_FLOW],
		      flow_key((enum sip_transp)ph->tp, &src));
	for (i = N_ID; i < ph->nn; i++)
		pcscf_idx_add(&p->byid, &ph->node[i],
			      text_key(phone_id(ph, i - N_ID)));
	ph->indexed = true;
}


static void phone_unindex(struct phone *ph)
{
	struct pcscf *p = ph->p;
	size_t i;

	if (!ph->indexed)
		return;
	pcscf_idx_del(&p->byflow, &ph->node[N_FLOW]);
	for (i = N_ID; i < ph->nn; i++)
		pcscf_idx_del(&p->byid, &ph->node[i]);
	ph->indexed = false;
}


static bool phone_has_id(const struct phone *ph, const struct sip_uri *u)
{
	const char *id;
	size_t i;

	if (ph->ids_n == 0)
		return uri_text_eq(phone_impu(ph), u);
	for (id = phone_id(ph, 0), i = 0; i < ph->ids_n; i++) {
		if (uri_text_eq(id, u))
			return true;
		id += strlen(id) + 1;
	}
	return false;
}


static const char *phone_default_id(const struct phone *ph)
{
	return ph->ids_n ? phone_id(ph, 0) : phone_impu(ph);
}


/* "Privacy: id" (RFC 3323 4.2, RFC 3325 7) on any line. */
static bool privacy_id(const struct sip_msg *msg)
{
	uint16_t i;

	for (i = 0; i < msg->hdrc; i++) {
		const struct sip_hdr *h = &msg->hdrv[i];
		struct pl rest, v;

		if (h->id != SIP_HDR_OTHER ||
		    !pl_eq_str_ci(&h->name, "Privacy"))
			continue;
		rest = h->val;
		while (rest.l) {
			const char *sep = rest.p;
			const char *end = rest.p + rest.l;

			while (sep < end && *sep != ';' && *sep != ',')
				sep++;
			pl_set(&v, rest.p, (size_t)(sep - rest.p));
			pl_trim(&v);
			if (pl_eq_str_ci(&v, "id"))
				return true;
			if (sep == end)
				break;
			pl_set(&rest, sep + 1, (size_t)(end - sep - 1));
		}
	}
	return false;
}


static bool dialog_creating(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_REFER;
}


static bool in_dialog(struct sip_msg *msg)
{
	const struct sip_addr *to;

	return sip_msg_to(msg, &to) == 0 && pl_isset(&to->tag);
}


/* A NOTIFY that ends its subscription (RFC 6665 4.1.3, 8.2.3). */
static bool final_notify(const struct sip_msg *msg)
{
	const struct sip_hdr *h;

	if (msg->meth != SIP_METHOD_NOTIFY)
		return false;
	h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	return h && h->val.l >= 10 && !strncasecmp(h->val.p, "terminated", 10);
}


/* ---- flow tokens ---- */

static int token_mac(const struct pcscf *p, const uint8_t *raw, size_t n,
		     uint8_t mac[TOKEN_MAC])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!HMAC(EVP_sha256(), p->key, (int)p->key_len, raw, n, md, &mdlen) ||
	    mdlen < TOKEN_MAC)
		return EINVAL;
	memcpy(mac, md, TOKEN_MAC);
	return 0;
}


static size_t token_raw(const struct pcscf_flow *flow, uint8_t *raw)
{
	uint16_t port = sa_port(&flow->src);
	size_t n = 5;

	raw[0] = TOKEN_VER;
	raw[1] = (uint8_t)flow->tp;
	raw[3] = (uint8_t)(port >> 8);
	raw[4] = (uint8_t)port;
	if (sa_af(&flow->src) == AF_INET6) {
		raw[2] = 6;
		memcpy(raw + n, &flow->src.u.in6.sin6_addr, 16);
		n += 16;
	} else {
		raw[2] = 4;
		memcpy(raw + n, &flow->src.u.in.sin_addr, 4);
		n += 4;
	}
	return n;
}


/**
 * The flow token of a flow.
 *
 * @param p     the P-CSCF (its key)
 * @param flow  the phone's flow
 * @param buf   receives the token text
 * @param size  of buf (PCSCF_TOKEN_MAX is enough)
 * @return 0, EINVAL (no address) or ENOSPC
 */
int pcscf_token_make(const struct pcscf *p, const struct pcscf_flow *flow,
		     char *buf, size_t size)
{
	uint8_t raw[TOKEN_RAW + TOKEN_MAC];
	size_t n;
	int err;

	if (!p || !flow || !buf || !sa_isset(&flow->src))
		return EINVAL;
	n = token_raw(flow, raw);
	if (size < 2 * (n + TOKEN_MAC) + 1)
		return ENOSPC;
	err = token_mac(p, raw, n, raw + n);
	if (err)
		return err;
	hex_encode(buf, raw, n + TOKEN_MAC);
	return 0;
}


/**
 * Check a flow token and recover the flow it names.
 *
 * @param p      the P-CSCF
 * @param token  the token text (user part of our URI)
 * @param tp     receives the transport
 * @param src    receives the phone's address
 * @return 0, EBADMSG (not a token of ours) or EPERM (HMAC mismatch)
 */
int pcscf_token_check(const struct pcscf *p, const struct pl *token,
		      enum sip_transp *tp, struct sa *src)
{
	uint8_t raw[TOKEN_RAW + TOKEN_MAC], mac[TOKEN_MAC];
	size_t n, i, alen;
	uint16_t port;
	int err;

	if (!p || !token || !tp || !src)
		return EINVAL;
	n = token->l / 2;
	if (token->l % 2 || n < 9 + TOKEN_MAC || n > sizeof(raw))
		return EBADMSG;
	for (i = 0; i < n; i++) {
		int hi = pl_hexval(token->p[2 * i]);
		int lo = pl_hexval(token->p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return EBADMSG;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	if (raw[0] != TOKEN_VER || (raw[2] != 4 && raw[2] != 6) ||
	    raw[1] <= SIP_TRANSP_NONE || raw[1] >= SIP_TRANSP_NUM)
		return EBADMSG;
	alen = raw[2] == 4 ? 4 : 16;
	if (n != 5 + alen + TOKEN_MAC)
		return EBADMSG;
	err = token_mac(p, raw, 5 + alen, mac);
	if (err)
		return err;
	if (CRYPTO_memcmp(mac, raw + 5 + alen, TOKEN_MAC) != 0)
		return EPERM;
	port = (uint16_t)(raw[3] << 8 | raw[4]);
	sa_init(src, raw[2] == 4 ? AF_INET : AF_INET6);
	if (raw[2] == 4)
		memcpy(&src->u.in.sin_addr, raw + 5, 4);
	else
		memcpy(&src->u.in6.sin6_addr, raw + 5, 16);
	sa_set_port(src, port);
	*tp = (enum sip_transp)raw[1];
	return 0;
}


/* "<sip:TOKEN@host:port;lr>" */
static int token_uri(const struct pcscf *p, const struct pcscf_flow *flow,
		     char *buf, size_t size)
{
	char tok[PCSCF_TOKEN_MAX];
	int err = pcscf_token_make(p, flow, tok, sizeof(tok));
	int n;

	if (err)
		return err;
	n = snprintf(buf, size, "<%s:%s@%s;lr>", p->scheme, tok, p->hostport);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}


/*
 * Our Record-Route for a dialog of the phone on this flow (TS 24.229
 * 5.2.6.3.3, 5.2.6.4.3; RFC 3261 16.6 step 4).  A phone on TCP or TLS
 * sends its in-dialog requests to the URI it sees next to it, and a URI
 * without transport= means UDP (RFC 3263 4.1): a phone listening on a
 * stream only (linphone with UDP off) then cannot even send its ACK.
 * The core must keep reaching us over UDP, from the port our trust list
 * names, so the entry gets no transport there: two entries, as RFC 5658
 * 4 does when the two sides use different transports, the phone's one
 * nearest the phone.  `to_phone` says which way the request goes: the
 * entry nearest the UAS is on top.  Both name us and carry the token, so
 * cscf_edit_own_routes() skips both and core_request() finds the flow in
 * whichever comes first.
 */
static int record_route(const struct pcscf *p, const struct pcscf_flow *flow,
			bool to_phone, struct buf *mb)
{
	char rr[PCSCF_URI_MAX];
	const char *tp;
	int n, err;

	err = token_uri(p, flow, rr, sizeof(rr));
	if (err)
		return err;
	if (flow->tp != SIP_TRANSP_TCP && flow->tp != SIP_TRANSP_TLS)
		return buf_printf(mb, "Record-Route: %s\r\n", rr);
	tp = flow->tp == SIP_TRANSP_TLS ? "tls" : "tcp";
	n = (int)strlen(rr) - 4; /* without ";lr>" */
	if (to_phone)
		return buf_printf(mb,
				  "Record-Route: %.*s;transport=%s;lr>\r\n"
				  "Record-Route: %s\r\n",
				  n, rr, tp, rr);
	return buf_printf(mb,
			  "Record-Route: %s\r\n"
			  "Record-Route: %.*s;transport=%s;lr>\r\n",
			  rr, n, rr, tp);
}


/* RFC 7315 4.6 */
static int charging_vector(struct pcscf *p, struct buf *mb)
{
	int err;

	p->icid_ctr++;
	err = buf_printf(mb,
			 "P-Charging-Vector: icid-value=%016llx%016llx;"
			 "icid-generated-at=%.*s",
			 (unsigned long long)p->icid_salt,
			 (unsigned long long)p->icid_ctr, PL_FMT(&p->me.host));
	if (!err && p->ioi)
		err = buf_printf(mb, ";orig-ioi=%s", p->ioi);
	if (!err)
		err = buf_write_str(mb, "\r\n");
	return err;
}


/* ---- registrations ---- */

static void phone_destructor(void *arg)
{
	struct phone *ph = arg;

	tmr_cancel(&ph->tmr);
	phone_unindex(ph);
	mem_deref(ph->conn);
	mem_deref(ph->route);
}


static void phone_remove(struct phone *ph, bool notify)
{
	struct pcscf *p = ph->p;

	phone_unindex(ph);
	tmr_cancel(&ph->tmr);
	if (notify && p->hooks.droph)
		p->hooks.droph(phone_impu(ph), phone_contact(ph), p->arg);
	mem_deref(ph);
}


static void phone_expired(void *arg)
{
	struct phone *ph = arg;

	LOG_INFO(NULL, "registration of %s (%s) expired", phone_impu(ph),
		 phone_contact(ph));
	phone_remove(ph, true);
}


static void phone_set_flow(struct phone *ph, const struct sip_msg *req)
{
	struct pcscf *p = ph->p;

	if (ph->indexed)
		pcscf_idx_del(&p->byflow, &ph->node[N_FLOW]);
	mem_deref(ph->conn);
	ph->tp = (uint8_t)req->tp;
	caddr_set(&ph->src, &req->src);
	ph->conn = req->conn ? mem_ref(req->conn) : NULL;
	if (ph->indexed)
		pcscf_idx_add(&p->byflow, &ph->node[N_FLOW],
			      flow_key((enum sip_transp)req->tp, &req->src));
}


static struct phone *phone_find(const struct pcscf *p, const char *impu,
				const struct pl *contact)
{
	uint32_t key = text_key(impu);
	struct pcscf_inode *nd;

	for (nd = pcscf_idx_head(&p->byid, key); nd; nd = nd->next) {
		struct phone *ph = phone_of(nd);

		if (nd->key == key && strcmp(phone_impu(ph), impu) == 0 &&
		    uri_texts_eq(phone_contact(ph), contact))
			return ph;
	}
	return NULL;
}


/* The P-Associated-URI and Service-Route values of a 2xx, as views into
 * it. */
struct sets {
	struct pl ids[PCSCF_IDS_MAX];
	size_t ids_n;
	struct pl route[PCSCF_ROUTE_MAX];
	size_t route_n;
};


static int sets_of(struct sets *st, const struct sip_msg *resp)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;

	st->ids_n = 0;
	st->route_n = 0;
	while (sip_msg_hdr_value_next(resp, SIP_HDR_P_ASSOCIATED_URI, &it,
				      &v)) {
		struct sip_addr a;

		if (sip_addr_decode(&a, &v) || st->ids_n == PCSCF_IDS_MAX ||
		    memchr(a.auri.p, '\0', a.auri.l))
			continue;
		st->ids[st->ids_n++] = a.auri;
	}
	memset(&it, 0, sizeof(it));
	while (sip_msg_hdr_value_next(resp, SIP_HDR_SERVICE_ROUTE, &it, &v)) {
		if (st->route_n == PCSCF_ROUTE_MAX)
			return E2BIG;
		st->route[st->route_n++] = v;
	}
	return 0;
}


static bool phone_same_ids(const struct phone *ph, const struct sets *st)
{
	const char *id;
	size_t i;

	if (ph->ids_n != st->ids_n)
		return false;
	for (id = phone_id(ph, 0), i = 0; i < st->ids_n; i++) {
		if (!pl_eq_str(&st->ids[i], id))
			return false;
		id += strlen(id) + 1;
	}
	return true;
}


/* A phone's block (not indexed, no flow yet): the identity nodes, and one
 * for the IMPU unless an id has its key (then that node finds it); the
 * IMPU's text is the id's when they are the same. */
static int phone_new(struct phone **php, struct pcscf *p, const char *impu,
		     const struct pl *contact, const struct sets *st)
{
	uint32_t ikey = text_key(impu);
	uint8_t impu_id = IMPU_OWN;
	size_t len, nn = N_ID, i;
	bool ikeyed = false;
	struct phone *ph;
	char *s;

	if (memchr(contact->p, '\0', contact->l))
		return EINVAL;
	len = contact->l + 1;
	for (i = 0; i < st->ids_n; i++) {
		len += st->ids[i].l + 1;
		if (impu_id == IMPU_OWN && pl_eq_str(&st->ids[i], impu))
			impu_id = (uint8_t)i;
		if (!ikeyed && text_key_pl(&st->ids[i]) == ikey)
			ikeyed = true;
	}
	nn += st->ids_n + (ikeyed ? 0 : 1);
	if (impu_id == IMPU_OWN)
		len += strlen(impu) + 1;
	ph = mem_zalloc(sizeof(*ph) + nn * sizeof(ph->node[0]) + len,
			phone_destructor);
	if (!ph)
		return ENOMEM;
	ph->p = p;
	tmr_init(&ph->tmr);
	ph->nn = (uint8_t)nn;
	ph->ids_n = (uint8_t)st->ids_n;
	ph->impu_id = impu_id;
	for (i = 0; i < nn; i++)
		ph->node[i].pos = (uint32_t)i;
	s = (char *)(ph->node + nn);
	memcpy(s, contact->p, contact->l);
	s += contact->l + 1;
	for (i = 0; i < st->ids_n; i++) {
		memcpy(s, st->ids[i].p, st->ids[i].l);
		s += st->ids[i].l + 1;
	}
	if (impu_id == IMPU_OWN)
		memcpy(s, impu, strlen(impu) + 1);
	*php = ph;
	return 0;
}


static void subscribe(struct pcscf *p, const struct phone *ph)
{
	const char *rv[PCSCF_ROUTE_MAX];
	struct pcscf_subscribe s;

	if (!p->hooks.subh)
		return;
	memset(&s, 0, sizeof(s));
	s.impu = phone_impu(ph);
	s.from = p->uri;
	s.event = "reg";
	s.expires = p->reg_expires;
	s.route_n = pcscf_strs_vec(ph->route, rv, PCSCF_ROUTE_MAX);
	s.route = rv;
	s.contact = phone_contact(ph);
	p->hooks.subh(&s, p->arg);
}


/* Keep what a 2xx says for (impu, contact).  A refresh with the same
 * identities updates the block in place; other identities make a new
 * block that takes the old one's place (its contact text kept). */
static int phone_upsert(struct pcscf *p, const char *impu,
			const struct pl *contact, const struct sip_msg *req,
			const struct sip_msg *resp, uint32_t expires)
{
	struct phone *old = phone_find(p, impu, contact), *ph = old;
	struct pcscf_strs *route = NULL;
	bool fresh = old == NULL;
	struct caddr src;
	struct sets st;
	int err;

	err = sets_of(&st, resp);
	if (!err)
		err = pcscf_strs_get(p->strs, st.route, st.route_n, &route);
	if (!err && fresh && p->byflow.n >= p->max_phones)
		err = ENOSPC;
	if (!err && (fresh || !phone_same_ids(old, &st))) {
		struct pl oc;

		if (!fresh)
			pl_set_str(&oc, phone_contact(old));
		err = phone_new(&ph, p, impu, fresh ? contact : &oc, &st);
		if (!err && !fresh) {
			/* no drop hook: the registration goes on */
			phone_unindex(old);
			old = mem_deref(old);
		}
	}
	if (err) {
		/* as the network no longer agrees with what we keep */
		if (old)
			phone_remove(old, true);
		goto out;
	}
	mem_deref(ph->route);
	ph->route = route;
	route = NULL;
	caddr_set(&src, &req->src);
	if (!ph->indexed || !flow_eq(ph, (enum sip_transp)req->tp, &src))
		phone_set_flow(ph, req);
	if (!ph->indexed)
		phone_index(ph);
	tmr_start(&ph->tmr, (uint64_t)expires * 1000, phone_expired, ph);
	if (fresh)
		subscribe(p, ph);
out:
	mem_deref(route);
	return err;
}


/* The expiry the 2xx grants to one contact of the REGISTER: its Contact
 * value's expires, else the Expires header, else the default; 0 when
 * the 2xx does not list it (RFC 3261 10.2.4: the list is the whole set
 * of current bindings). */
static uint32_t granted(struct sip_msg *resp, const struct sip_uri *cu)
{
	struct sip_hdr_iter it = { 0 };
	uint32_t exp;
	struct pl v;

	while (sip_msg_hdr_value_next(resp, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_contact c;

		if (sip_contact_decode(&c, &v) || c.addr.star ||
		    !sip_uri_eq(&c.addr.uri, cu))
			continue;
		if (c.has_expires)
			return c.expires;
		if (sip_msg_expires(resp, &exp) == 0)
			return exp;
		return EXPIRES_DEF;
	}
	return 0;
}


static bool drop_match(const struct phone *ph, const char *impu,
		       const struct sip_uri *u, const struct pl *contact)
{
	bool match =
		strcmp(phone_impu(ph), impu) == 0 || (u && phone_has_id(ph, u));

	return match && (!contact || uri_texts_eq(phone_contact(ph), contact));
}


/* Collect the phones of impu (and contact) from the bucket its key names,
 * up to max of them, each once (a phone may have two nodes there). */
static size_t drop_collect(struct pcscf *p, uint32_t key, const char *impu,
			   const struct sip_uri *u, const struct pl *contact,
			   struct phone **v, size_t max)
{
	struct pcscf_inode *nd;
	size_t n = 0, i;

	for (nd = pcscf_idx_head(&p->byid, key); nd; nd = nd->next) {
		struct phone *ph = phone_of(nd);

		if (nd->key != key || !drop_match(ph, impu, u, contact))
			continue;
		for (i = 0; i < n && v[i] != ph; i++)
			;
		if (i < n)
			continue;
		v[n++] = ph;
		if (n == max)
			return n;
	}
	return n;
}


static void drop_matching(struct pcscf *p, const char *impu,
			  const struct pl *contact, bool notify, size_t *np)
{
	struct phone *v[32];
	struct sip_uri u;
	bool dec = !sip_uri_decode(&u, &(struct pl){ impu, strlen(impu) });
	uint32_t key = dec ? uri_key(&u) : hash_fast(impu, strlen(impu));
	size_t n, i;

	do {
		/* removing unlinks from the buckets: collect, then remove */
		n = drop_collect(p, key, impu, dec ? &u : NULL, contact, v,
				 sizeof(v) / sizeof(v[0]));
		for (i = 0; i < n; i++)
			phone_remove(v[i], notify);
		if (np)
			*np += n;
	} while (n == sizeof(v) / sizeof(v[0]));
}


/* TS 24.229 5.2.2.2 (and 5.2.2.4 deregistration): keep what the 2xx
 * says for each contact of the REGISTER. */
static void reg_update(struct pcscf *p, struct sip_msg *req,
		       struct sip_msg *resp)
{
	struct sip_hdr_iter it = { 0 };
	const struct sip_addr *to;
	char impu[PCSCF_URI_MAX];
	struct pl v;
	int err;

	if (sip_msg_to(req, &to) || aor_of(&to->uri, impu, sizeof(impu)))
		return;
	while (sip_msg_hdr_value_next(req, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_contact c;
		uint32_t exp;

		if (sip_contact_decode(&c, &v))
			continue;
		if (c.addr.star) {
			drop_matching(p, impu, NULL, true, NULL);
			return;
		}
		exp = granted(resp, &c.addr.uri);
		if (exp == 0) {
			drop_matching(p, impu, &c.addr.auri, true, NULL);
			continue;
		}
		err = phone_upsert(p, impu, &c.addr.auri, req, resp, exp);
		if (err)
			LOG_WARN(NULL, "registration of %s not kept: %s", impu,
				 log_strerror(err));
	}
}


/* ---- requests ---- */

static int forward(struct pcscf_out *out, struct sip_msg *msg,
		   const struct cscf_edit *e)
{
	int err = cscf_edit_msg(&out->msg, msg, e);

	if (err == EBADMSG || err == EMSGSIZE)
		return reply(out, 500, "Cannot rewrite request");
	if (err)
		return err;
	out->act = PCSCF_FORWARD;
	return 0;
}


/* TS 24.229 5.2.2.2: REGISTER from a phone */
static int phone_register(struct pcscf *p, struct sip_msg *req,
			  struct pcscf_out *out)
{
	const struct sip_addr *to;
	const struct sip_uri *ru;
	struct pcscf_flow flow;
	struct cscf_edit e;
	char path[PCSCF_URI_MAX];
	struct buf *mb = NULL;
	int err;

	if (sip_msg_to(req, &to) || sip_msg_ruri(req, &ru))
		return reply(out, 400, "Bad To or Request-URI");
	if (ru->sch != SIP_SCHEME_SIP && ru->sch != SIP_SCHEME_SIPS)
		return reply(out, 416, NULL);
	if (p->byflow.n >= p->max_phones &&
	    !flow_first(p, (enum sip_transp)req->tp, &req->src))
		return reply(out, 503, "Too many registrations");

	memset(&flow, 0, sizeof(flow));
	flow.tp = (enum sip_transp)req->tp;
	flow.src = req->src;
	err = token_uri(p, &flow, path, sizeof(path));
	if (err)
		return reply(out, 500, "No flow for the phone");

	err = buf_alloc(&mb, 1024, ADD_MAX);
	if (err)
		return err;
	if (p->icscf_route)
		err = buf_printf(mb, "Route: %s\r\n", p->icscf_route);
	/* RFC 3327 5.2: our Path value on top, and the registrar must
	 * support Path or refuse (420) rather than drop the way back */
	if (!err)
		err = buf_printf(mb, "Path: %s\r\n", path);
	if (!err && !sip_msg_has_tag(req, SIP_HDR_REQUIRE, "path"))
		err = buf_write_str(mb, "Require: path\r\n");
	if (!err && !sip_msg_has_tag(req, SIP_HDR_SUPPORTED, "path"))
		err = buf_write_str(mb, "Supported: path\r\n");
	if (!err && p->vnet)
		err = buf_printf(mb, "P-Visited-Network-ID: %s\r\n", p->vnet);
	if (!err)
		err = charging_vector(p, mb);
	if (!err)
		err = buf_write(mb, "", 1);
	if (err)
		goto out;

	memset(&e, 0, sizeof(e));
	/* the phone's Route is us; a Path it made up has no place (only
	 * proxies add Path, RFC 3327 5.1) */
	e.drop = trusted_ids | CSCF_DROP(SIP_HDR_ROUTE) |
		 CSCF_DROP(SIP_HDR_PATH);
	e.drop_names = trusted_names;
	e.add = (const char *)mb->b;
	err = forward(out, req, &e);
	if (err || out->act != PCSCF_FORWARD)
		goto out;
	if (p->icscf) {
		(void)snprintf(out->next_hop, sizeof(out->next_hop), "%s",
			       p->icscf);
	} else {
		/* RFC 3263 on the home domain (TS 24.229 5.2.2.2: the
		 * Request-URI names it) */
		(void)snprintf(out->next_hop, sizeof(out->next_hop), "%s:%.*s",
			       ru->sch == SIP_SCHEME_SIPS ? "sips" : "sip",
			       PL_FMT(&ru->host));
		out->locate = true;
	}
out:
	mem_deref(mb);
	return err;
}


/* The oldest registration on first's flow that holds identity u, found
 * through the identity index: a flow may carry thousands of phones (an
 * SBC in front), an identity a handful of registrations. */
static const struct phone *flow_phone_with_id(struct pcscf *p,
					      const struct phone *first,
					      const struct sip_uri *u)
{
	uint32_t key = uri_key(u);
	struct pcscf_inode *nd;

	for (nd = pcscf_idx_head(&p->byid, key); nd; nd = nd->next) {
		const struct phone *ph = phone_of(nd);

		if (nd->key == key &&
		    flow_eq(ph, (enum sip_transp)first->tp, &first->src) &&
		    phone_has_id(ph, u))
			return ph;
	}
	return NULL;
}


/* The registration a request from the phone's flow acts for, and the
 * identity to assert (TS 24.229 5.2.6.3.1, RFC 3325 9.1). */
static int pick_identity(struct pcscf *p, struct sip_msg *msg,
			 const struct phone **php, struct buf *pai, bool strict)
{
	const struct phone *ph, *first;
	struct sip_hdr_iter it = { 0 };
	const struct sip_addr *from;
	struct sip_addr a;
	struct pl v;

	first = flow_first(p, (enum sip_transp)msg->tp, &msg->src);
	if (!first)
		return ENOENT;
	if (sip_msg_hdr_value_next(msg, SIP_HDR_P_PREFERRED_IDENTITY, &it,
				   &v)) {
		if (sip_addr_decode(&a, &v))
			return strict ? EPERM : 0;
		ph = flow_phone_with_id(p, first, &a.uri);
		if (ph) {
			*php = ph;
			if (pl_isset(&a.dname))
				return buf_printf(pai, "%.*s <%.*s>",
						  PL_FMT(&a.dname),
						  PL_FMT(&a.auri));
			return buf_printf(pai, "<%.*s>", PL_FMT(&a.auri));
		}
		if (strict)
			return EPERM;
	}
	/* no (usable) preference: the registration of the From identity on
	 * this flow, else the first; its default identity */
	*php = first;
	if (sip_msg_from(msg, &from) == 0) {
		ph = flow_phone_with_id(p, first, &from->uri);
		if (ph)
			*php = ph;
	}
	return buf_printf(pai, "<%s>", phone_default_id(*php));
}


/* TS 24.229 5.2.6.3: a request from a phone */
static int phone_request(struct pcscf *p, struct sip_msg *req,
			 struct pcscf_out *out)
{
	const struct phone *ph = NULL;
	bool dlg = in_dialog(req);
	struct cscf_edit e;
	struct buf *mb = NULL, *pai = NULL;
	size_t i;
	int err;

	err = buf_alloc(&pai, 256, PCSCF_URI_MAX + 256);
	if (err)
		return err;
	err = pick_identity(p, req, &ph, pai, true);
	if (err == ENOENT) {
		err = reply(out, 403, "Not registered");
		goto out;
	}
	if (err == EPERM) {
		err = reply(out, 403, "Identity not registered");
		goto out;
	}
	if (!err)
		err = buf_write(pai, "", 1);
	if (!err)
		err = buf_alloc(&mb, 1024, ADD_MAX);
	if (err)
		goto out;

	memset(&e, 0, sizeof(e));
	e.drop = trusted_ids;
	e.drop_names = trusted_names;
	if (!dlg && ph->route) {
		const char *r = pcscf_strs_first(ph->route);

		/* TS 24.229 5.2.6.3.3: the stored Service-Route, whatever
		 * the phone preloaded */
		e.drop |= CSCF_DROP(SIP_HDR_ROUTE);
		err = buf_write_str(mb, "Route: ");
		for (i = 0; !err && i < pcscf_strs_n(ph->route); i++) {
			err = buf_printf(mb, "%s%s", i ? ", " : "", r);
			r += strlen(r) + 1;
		}
		if (!err)
			err = buf_write_str(mb, "\r\n");
	} else {
		/* a dialog's route set (RFC 3261 12.2.1.1), or no
		 * Service-Route: only our own entries on top go (16.4) */
		e.route_skip = cscf_edit_own_routes(req, &p->me);
	}
	if (!err)
		err = buf_printf(mb, "P-Asserted-Identity: %s\r\n",
				 (const char *)pai->b);
	if (!err && !dlg && req->meth != SIP_METHOD_ACK &&
	    req->meth != SIP_METHOD_CANCEL)
		err = charging_vector(p, mb);
	if (!err && !dlg && dialog_creating(req->meth)) {
		struct pcscf_flow flow;

		phone_flow(ph, &flow);
		err = record_route(p, &flow, false, mb);
	}
	if (!err)
		err = buf_write(mb, "", 1);
	if (err)
		goto out;
	e.add = (const char *)mb->b;
	err = forward(out, req, &e);
out:
	mem_deref(pai);
	mem_deref(mb);
	return err;
}


/* TS 24.229 5.2.6.4: a request from the core towards a phone, with our
 * flow token in the top Route. */
static int core_request(struct pcscf *p, struct sip_msg *req,
			struct pcscf_out *out)
{
	struct sip_hdr_iter it = { 0 };
	struct pcscf_flow flow = { 0 };
	const struct phone *ph;
	struct cscf_edit e;
	enum sip_transp tp;
	struct sip_addr a;
	struct buf *mb = NULL;
	struct sa src;
	struct pl v;
	int err;

	if (req->meth == SIP_METHOD_REGISTER)
		return reply(out, 403, "REGISTER from the core");
	if (!sip_msg_hdr_value_next(req, SIP_HDR_ROUTE, &it, &v) ||
	    !cscf_edit_uri_is(&v, &p->me) || sip_addr_decode(&a, &v) ||
	    !pl_isset(&a.uri.user)) {
		/* not through a flow: for us (the NOTIFY of our reg event
		 * subscription), or nowhere we can go */
		struct pl ru = req->ruri;

		if (cscf_edit_uri_is(&ru, &p->me)) {
			out->act = PCSCF_LOCAL;
			return 0;
		}
		return reply(out, 404, "No flow token");
	}
	err = pcscf_token_check(p, &a.uri.user, &tp, &src);
	if (err == EPERM || err == EBADMSG)
		return reply(out, 403, "Bad flow token");
	if (err)
		return err;
	ph = flow_first(p, tp, &src);
	if (!ph && final_notify(req) && !sip_transp_reliable(tp)) {
		/* the registration has just ended and the S-CSCF tells the
		 * phone's own reg event subscription so (TS 24.229
		 * 5.4.2.1.2, RFC 6665 4.4.1: the final NOTIFY): the token
		 * still names the datagram flow, deliver it there */
		flow.tp = tp;
		flow.src = src;
	} else if (!ph || (sip_transp_reliable(tp) &&
			   (!ph->conn || !sip_conn_alive(ph->conn)))) {
		/* RFC 5626 5.3: the flow is gone */
		return reply(out, 430, "Flow Failed");
	} else {
		phone_flow(ph, &flow);
	}

	err = buf_alloc(&mb, 512, ADD_MAX);
	if (err)
		return err;
	memset(&e, 0, sizeof(e));
	e.route_skip = cscf_edit_own_routes(req, &p->me);
	e.drop = CSCF_DROP(SIP_HDR_P_CHARGING_VECTOR) |
		 CSCF_DROP(SIP_HDR_P_SERVED_USER) |
		 CSCF_DROP(SIP_HDR_P_PREFERRED_IDENTITY);
	e.drop_names = charging_names;
	/* RFC 3325 7: the phone is outside the trust domain */
	if (privacy_id(req))
		e.drop |= CSCF_DROP(SIP_HDR_P_ASSERTED_IDENTITY);
	if (!in_dialog(req) && dialog_creating(req->meth))
		err = record_route(p, &flow, true, mb);
	if (!err)
		err = buf_write(mb, "", 1);
	if (err)
		goto out;
	e.add = (const char *)mb->b;
	err = forward(out, req, &e);
	if (!err && out->act == PCSCF_FORWARD) {
		out->to_phone = true;
		out->flow = flow;
	}
out:
	mem_deref(mb);
	return err;
}


/**
 * Decide on a request.
 *
 * @param p    the P-CSCF
 * @param req  the request, with its flow (tp, src, dst, conn)
 * @param out  receives the decision (pcscf_out_reset it after)
 * @return 0, EINVAL or ENOMEM
 */
int pcscf_request(struct pcscf *p, struct sip_msg *req, struct pcscf_out *out)
{
	if (!out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || !req || !req->req)
		return EINVAL;
	if (is_core(p, &req->src))
		return core_request(p, req, out);
	if (req->meth == SIP_METHOD_REGISTER)
		return phone_register(p, req, out);
	return phone_request(p, req, out);
}


/**
 * Decide on a response, and keep a registration from a REGISTER's 2xx.
 *
 * @param p     the P-CSCF
 * @param req   the request it answers, as the P-CSCF received it
 * @param resp  the response
 * @param out   receives the rewritten response (FORWARD)
 * @return 0, EINVAL or ENOMEM
 */
int pcscf_response(struct pcscf *p, const struct sip_msg *req,
		   struct sip_msg *resp, struct pcscf_out *out)
{
	struct cscf_edit e;
	struct buf *mb = NULL;
	int err = 0;

	if (!out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || !req || !resp || resp->req)
		return EINVAL;
	memset(&e, 0, sizeof(e));
	if (!is_core(p, &req->src)) {
		/* towards the phone */
		if (req->meth == SIP_METHOD_REGISTER && resp->scode >= 200 &&
		    resp->scode < 300)
			reg_update(p, (struct sip_msg *)req, resp);
		e.drop = CSCF_DROP(SIP_HDR_P_CHARGING_VECTOR) |
			 CSCF_DROP(SIP_HDR_P_SERVED_USER);
		e.drop_names = charging_names;
		if (privacy_id(resp))
			e.drop |= CSCF_DROP(SIP_HDR_P_ASSERTED_IDENTITY);
		err = forward(out, resp, &e);
		if (!err && out->act == PCSCF_FORWARD) {
			out->to_phone = true;
			out->flow.tp = (enum sip_transp)req->tp;
			out->flow.src = req->src;
			out->flow.conn = req->conn;
		}
		return err;
	}
	/* from the phone towards the core (TS 24.229 5.2.6.4.x): its
	 * identity asserted as for its requests, but a response cannot be
	 * refused, so a foreign preference falls back to the default */
	e.drop = trusted_ids;
	e.drop_names = trusted_names;
	if (flow_first(p, (enum sip_transp)resp->tp, &resp->src)) {
		const struct phone *ph = NULL;
		struct buf *pai = NULL;

		err = buf_alloc(&pai, 256, PCSCF_URI_MAX + 256);
		if (!err)
			err = pick_identity(p, resp, &ph, pai, false);
		if (!err)
			err = buf_alloc(&mb, 512, ADD_MAX);
		if (!err)
			err = buf_printf(mb, "P-Asserted-Identity: %.*s\r\n",
					 (int)pai->end, (const char *)pai->b);
		if (!err)
			err = buf_write(mb, "", 1);
		if (!err)
			e.add = (const char *)mb->b;
		mem_deref(pai);
	}
	if (!err)
		err = forward(out, resp, &e);
	mem_deref(mb);
	return err;
}


/**
 * Release what a decision holds (the rewritten message).
 *
 * @param out  the decision
 */
void pcscf_out_reset(struct pcscf_out *out)
{
	if (!out)
		return;
	out->msg = mem_deref(out->msg);
}


/* ---- lookups ---- */

bool pcscf_flow_registered(const struct pcscf *p, enum sip_transp tp,
			   const struct sa *src)
{
	return p && src && flow_first(p, tp, src) != NULL;
}


/* A registration of impu: one that has it among its identities, else
 * one registered under it. */
static const struct phone *find_impu(const struct pcscf *p,
				     const struct pl *impu)
{
	struct pcscf_inode *nd;
	struct sip_uri u;
	uint32_t key;
	int pass;

	if (!p || !impu || sip_uri_decode(&u, impu))
		return NULL;
	key = uri_key(&u);
	for (pass = 0; pass < 2; pass++) {
		for (nd = pcscf_idx_head(&p->byid, key); nd; nd = nd->next) {
			const struct phone *ph = phone_of(nd);

			if (nd->key != key)
				continue;
			if (pass == 0 ? phone_has_id(ph, &u)
				      : uri_text_eq(phone_impu(ph), &u))
				return ph;
		}
	}
	return NULL;
}


bool pcscf_impu_registered(const struct pcscf *p, const struct pl *impu)
{
	return find_impu(p, impu) != NULL;
}


/* Nothing on a request's path asks by contact (a NOTIFY names the IMPU
 * too), so no index: 16 octets a registration saved for a walk here. */
bool pcscf_contact_registered(const struct pcscf *p, const struct pl *contact)
{
	struct sip_uri u;
	uint32_t i;

	if (!p || !contact || sip_uri_decode(&u, contact) || !p->byflow.b)
		return false;
	for (i = 0; i <= p->byflow.mask; i++) {
		struct pcscf_inode *nd;

		for (nd = p->byflow.b[i].head; nd; nd = nd->next) {
			if (uri_text_eq(phone_contact(phone_of(nd)), &u))
				return true;
		}
	}
	return false;
}


/**
 * The registration of an identity.
 *
 * @param p     the P-CSCF
 * @param impu  the registered IMPU or one of its P-Associated-URIs
 * @param ph    receives a view (valid until the P-CSCF changes)
 * @return 0 or ENOENT
 */
int pcscf_phone_get(const struct pcscf *p, const struct pl *impu,
		    struct pcscf_phone *ph)
{
	const struct phone *x = find_impu(p, impu);
	uint64_t now = tmr_jiffies();
	const char *id;

	if (!x || !ph)
		return ENOENT;
	memset(ph, 0, sizeof(*ph));
	ph->impu = phone_impu(x);
	ph->contact = phone_contact(x);
	for (id = phone_id(x, 0); ph->ids_n < x->ids_n; ph->ids_n++) {
		ph->ids[ph->ids_n] = id;
		id += strlen(id) + 1;
	}
	ph->route_n = pcscf_strs_vec(x->route, ph->route, PCSCF_ROUTE_MAX);
	phone_flow(x, &ph->flow);
	ph->expires = x->tmr.jfs > now
			      ? (uint32_t)((x->tmr.jfs - now + 999) / 1000)
			      : 0;
	return 0;
}


size_t pcscf_count(const struct pcscf *p)
{
	return p ? p->byflow.n : 0;
}


/**
 * Drop a phone's registration (a "terminated" reg event NOTIFY).
 *
 * @param p        the P-CSCF
 * @param impu     the identity
 * @param contact  one contact, or NULL for all of them
 * @return 0 or ENOENT
 */
int pcscf_phone_drop(struct pcscf *p, const struct pl *impu,
		     const struct pl *contact)
{
	char id[PCSCF_URI_MAX];
	size_t n = 0;

	if (!p || !impu || pl_strcpy(impu, id, sizeof(id)))
		return ENOENT;
	drop_matching(p, id, contact, true, &n);
	return n ? 0 : ENOENT;
}


/* ---- life cycle ---- */

static void close_one(struct pcscf_inode *nd)
{
	phone_remove(phone_of(nd), false);
}


void pcscf_close(struct pcscf *p)
{
	if (!p)
		return;
	pcscf_idx_walk(&p->byflow, close_one);
}


static void pcscf_destructor(void *arg)
{
	struct pcscf *p = arg;

	pcscf_close(p);
	pcscf_idx_free(&p->byflow);
	pcscf_idx_free(&p->byid);
	mem_deref(p->strs);
	mem_deref(p->uri);
	mem_deref(p->icscf);
	mem_deref(p->icscf_route);
	mem_deref(p->vnet);
	mem_deref(p->ioi);
	mem_deref(p->core);
	OPENSSL_cleanse(p->key, sizeof(p->key));
}


static int strdup_opt(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = mem_strdup(s, strlen(s));
	return *dst ? 0 : ENOMEM;
}


static int conf_apply(struct pcscf *p, const struct pcscf_conf *conf)
{
	struct sip_uri u;
	struct pl pl;
	size_t i;
	int n, err;

	err = strdup_opt(&p->uri, conf->uri);
	if (err)
		return err;
	pl_set_str(&pl, p->uri);
	if (sip_uri_decode(&p->me, &pl) ||
	    (p->me.sch != SIP_SCHEME_SIP && p->me.sch != SIP_SCHEME_SIPS))
		return EINVAL;
	p->scheme = p->me.sch == SIP_SCHEME_SIPS ? "sips" : "sip";
	n = p->me.port ? snprintf(p->hostport, sizeof(p->hostport), "%.*s:%u",
				  PL_FMT(&p->me.host), p->me.port)
		       : snprintf(p->hostport, sizeof(p->hostport), "%.*s",
				  PL_FMT(&p->me.host));
	if (n < 0 || (size_t)n >= sizeof(p->hostport))
		return EINVAL;
	if (conf->icscf) {
		size_t l = strlen(conf->icscf) + 8;

		pl_set_str(&pl, conf->icscf);
		if (sip_uri_decode(&u, &pl))
			return EINVAL;
		err = strdup_opt(&p->icscf, conf->icscf);
		if (err)
			return err;
		p->icscf_route = mem_zalloc(l, NULL);
		if (!p->icscf_route)
			return ENOMEM;
		/* a loose route (RFC 3261 16.12.1.1), or the I-CSCF would
		 * take it as a strict one */
		(void)snprintf(p->icscf_route, l, "<%s%s>", conf->icscf,
			       sip_param_exists(&u.params, "lr") ? "" : ";lr");
	}
	if (conf->visited_network) {
		size_t l = strlen(conf->visited_network);
		bool token = l > 0;

		for (i = 0; i < l; i++)
			token = token && sip_cc_is(conf->visited_network[i],
						   SIP_CC_TOKEN);
		/* RFC 7315 4.3: token or quoted-string */
		p->vnet = mem_zalloc(l + 3, NULL);
		if (!p->vnet)
			return ENOMEM;
		(void)snprintf(p->vnet, l + 3, token ? "%s" : "\"%s\"",
			       conf->visited_network);
	}
	err = strdup_opt(&p->ioi, conf->orig_ioi);
	if (err)
		return err;
	if (conf->core_n) {
		p->core = mem_zalloc(conf->core_n * sizeof(*p->core), NULL);
		if (!p->core)
			return ENOMEM;
		memcpy(p->core, conf->core, conf->core_n * sizeof(*p->core));
		p->core_n = conf->core_n;
	}
	if (conf->key && conf->key_len) {
		if (conf->key_len > sizeof(p->key))
			return EINVAL;
		memcpy(p->key, conf->key, conf->key_len);
		p->key_len = conf->key_len;
	} else {
		p->key_len = 32;
		if (RAND_bytes(p->key, (int)p->key_len) != 1)
			return EIO;
	}
	if (RAND_bytes((unsigned char *)&p->icid_salt, sizeof(p->icid_salt)) !=
	    1)
		return EIO;
	p->max_phones = conf->max_phones ? conf->max_phones : 100000;
	p->reg_expires = conf->reg_expires ? conf->reg_expires : 600000;
	return 0;
}


/**
 * Create a P-CSCF.
 *
 * @param pp     receives it
 * @param conf   its configuration (copied); conf->uri is required
 * @param hooks  reg event hooks, or NULL
 * @param arg    for the hooks
 * @return 0, EINVAL (no or bad URI, bad I-CSCF URI, key too long),
 *         EIO (no randomness) or ENOMEM
 */
int pcscf_alloc(struct pcscf **pp, const struct pcscf_conf *conf,
		const struct pcscf_hooks *hooks, void *arg)
{
	struct pcscf *p;
	int err;

	if (!pp || !conf || !conf->uri)
		return EINVAL;
	p = mem_zalloc(sizeof(*p), pcscf_destructor);
	if (!p)
		return ENOMEM;
	err = conf_apply(p, conf);
	if (!err)
		err = pcscf_idx_init(&p->byflow, 1024);
	if (!err)
		err = pcscf_idx_init(&p->byid, 1024);
	if (!err)
		err = pcscf_strtab_alloc(&p->strs);
	if (err) {
		mem_deref(p);
		return err;
	}
	if (hooks)
		p->hooks = *hooks;
	p->arg = arg;
	*pp = p;
	return 0;
}
