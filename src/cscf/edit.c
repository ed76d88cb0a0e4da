/**
 * @file edit.c  Rewriting a decoded SIP message (see edit.h).
 *
 * Design: one pass over the indexed header lines (msg->hdrv, in message
 * order) writes the start line, every kept line as "name: value", the
 * added lines right after the last Via line (or above the first line of
 * their name when that one comes before the Vias), the empty line and the body
 * into a buffer with a ceiling of SIP_MSG_MAX, which is then decoded as a
 * new message.  Decoding the result again costs one more pass but gives
 * the caller the same typed views (and the same validation) as a received
 * message, so the proxy core cannot tell an edited request from one read
 * off the wire.  Route values skipped (our own entries, RFC 3261 16.4)
 * are removed value by value: a line "Route: <a>, <b>" with one to skip
 * becomes "Route: <b>".
 */
#include "cscf/edit.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "sip/addr.h"
#include "sip/uri.h"

_Static_assert(SIP_HDR_NUM <= 64, "cscf_edit.drop is a 64-bit mask");


static bool name_dropped(const struct sip_hdr *h, const struct cscf_edit *e)
{
	size_t i;

	if (h->id != SIP_HDR_OTHER)
		return (e->drop & CSCF_DROP(h->id)) != 0;
	if (!e->drop_names)
		return false;
	for (i = 0; e->drop_names[i]; i++) {
		if (pl_eq_str_ci(&h->name, e->drop_names[i]))
			return true;
	}
	return false;
}


/* A Route line with its first *skip values left out. */
static int write_route(struct buf *mb, const struct sip_hdr *h, size_t *skip)
{
	struct pl rest = h->val, v;
	bool first = true;
	int err = 0;

	while (!err && sip_value_split(&rest, &v)) {
		if (*skip) {
			(*skip)--;
			continue;
		}
		if (first)
			err = buf_printf(mb, "%.*s: ", PL_FMT(&h->name));
		else
			err = buf_write_str(mb, ", ");
		if (!err)
			err = buf_write_pl(mb, &v);
		first = false;
	}
	if (!err && !first)
		err = buf_write_str(mb, "\r\n");
	return err;
}


static int write_start(struct buf *mb, const struct sip_msg *msg,
		       const struct cscf_edit *e)
{
	if (!msg->req || !e->ruri)
		return buf_printf(mb, "%.*s\r\n", PL_FMT(&msg->start));
	return buf_printf(mb, "%.*s %s %.*s\r\n", PL_FMT(&msg->met), e->ruri,
			  PL_FMT(&msg->ver));
}


/* The index of the header line an added line goes above: the first line
 * of the same name when it sits above the last Via, else the one after
 * the last Via.  RFC 3261 7.3.1 fixes only the order of lines of one name,
 * so a Record-Route (or Route, Path) may come before the Vias (Kamailio
 * writes its Record-Route at the very top); the added value must still be
 * the top one of its name (16.6 step 4, RFC 3327 4). */
static uint16_t add_pos(const struct sip_msg *msg, const struct pl *line)
{
	uint16_t after = msg->last[SIP_HDR_VIA]; /* index+1, 0: at the top */
	struct pl name = *line;
	const char *colon;
	uint16_t i;

	colon = memchr(line->p, ':', line->l);
	if (!colon)
		return after; /* not a header line: the decode refuses it */
	name.l = (size_t)(colon - line->p);
	pl_trim(&name);
	for (i = 0; i < after; i++) {
		const struct sip_hdr *h = &msg->hdrv[i];

		if (h->id != SIP_HDR_OTHER ? h->id == sip_hdr_id_of(&name)
					   : pl_eq_ci(&h->name, &name))
			return i;
	}
	return after;
}


/* The added lines, each with the index of the header line it goes above
 * (msg->hdrc: the end), worked out once per message. */
struct added {
	struct pl line;
	uint16_t at;
};

enum {
	ADDED_MAX = 32
};

static int added_split(const struct sip_msg *msg, const char *add,
		       struct added *v, size_t *np)
{
	const char *p = add;
	size_t n = 0;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");

		if (n == ADDED_MAX)
			return E2BIG;
		v[n].line.p = p;
		v[n].line.l = eol ? (size_t)(eol - p) + 2 : strlen(p);
		v[n].at = add_pos(msg, &v[n].line);
		p += v[n].line.l;
		n++;
	}
	*np = n;
	return 0;
}


static int write_added(struct buf *mb, const struct added *v, size_t n,
		       uint16_t at)
{
	size_t k;
	int err = 0;

	for (k = 0; !err && k < n; k++)
		if (v[k].at == at)
			err = buf_write_pl(mb, &v[k].line);
	return err;
}


static int write_all(struct buf *mb, const struct sip_msg *msg,
		     const struct cscf_edit *e)
{
	struct added add[ADDED_MAX];
	size_t skip = e->route_skip, nadd = 0;
	uint16_t i;
	int err;

	err = e->add ? added_split(msg, e->add, add, &nadd) : 0;
	if (!err)
		err = write_start(mb, msg, e);
	for (i = 0; !err && i < msg->hdrc; i++) {
		const struct sip_hdr *h = &msg->hdrv[i];

		if (nadd)
			err = write_added(mb, add, nadd, i);
		if (err) {
			/* out of room */
		} else if (name_dropped(h, e)) {
			/* removed */
		} else if (h->id == SIP_HDR_ROUTE && skip) {
			err = write_route(mb, h, &skip);
		} else {
			err = buf_write_hdr(mb, &h->name, &h->val);
		}
	}
	if (!err && nadd)
		err = write_added(mb, add, nadd, msg->hdrc);
	if (!err)
		err = buf_write_str(mb, "\r\n");
	if (!err && msg->body.l)
		err = buf_write_pl(mb, &msg->body);
	return err;
}


/**
 * Copy a message with headers removed and added (see edit.h).
 *
 * @param outp  receives the new message (counted)
 * @param msg   the message to copy
 * @param e     what to change
 * @return 0, EBADMSG, EMSGSIZE or ENOMEM
 */
int cscf_edit_msg(struct sip_msg **outp, const struct sip_msg *msg,
		  const struct cscf_edit *e)
{
	struct sip_msg_err merr;
	struct sip_msg *out = NULL;
	struct buf *mb = NULL;
	int err;

	if (!outp || !msg || !e)
		return EINVAL;
	err = buf_alloc(&mb, msg->len + (e->add ? strlen(e->add) : 0) + 256,
			SIP_MSG_MAX);
	if (err)
		goto out;
	err = write_all(mb, msg, e);
	if (err)
		goto out;
	mb->pos = 0;
	/* as a datagram: the bytes are exactly one message, and a body
	 * without Content-Length (allowed on UDP) stays a body */
	err = sip_msg_alloc(&out, mb, true, &merr);
	if (err)
		goto out;
	out->tp = msg->tp;
	out->src = msg->src;
	out->dst = msg->dst;
	out->conn = msg->conn ? mem_ref(msg->conn) : NULL;
	out->rx_ms = msg->rx_ms;
	*outp = out;
out:
	mem_deref(mb);
	return err;
}


static uint16_t port_of(const struct sip_uri *u)
{
	return sip_uri_port(u);
}


/**
 * Does a URI (name-addr or addr-spec text) name us?
 *
 * @param val  the header value or URI text
 * @param me   our URI
 * @return true when host and port match
 */
bool cscf_edit_uri_is(const struct pl *val, const struct sip_uri *me)
{
	struct sip_addr a;

	if (!val || !me || sip_addr_decode(&a, val))
		return false;
	if (a.uri.sch != SIP_SCHEME_SIP && a.uri.sch != SIP_SCHEME_SIPS)
		return false;
	return pl_eq_ci(&a.uri.host, &me->host) &&
	       port_of(&a.uri) == port_of(me);
}


/**
 * Count the leading Route values that name us.
 *
 * @param msg  the request
 * @param me   our URI
 * @return the number of values (0 when the top one is not ours)
 */
size_t cscf_edit_own_routes(const struct sip_msg *msg, const struct sip_uri *me)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	size_t n = 0;

	while (sip_msg_hdr_value_next(msg, SIP_HDR_ROUTE, &it, &v)) {
		if (!cscf_edit_uri_is(&v, me))
			break;
		n++;
	}
	return n;
}


/**
 * Strip the quotes of a quoted-string (backslash escapes stay).
 *
 * @param v  the value, changed in place
 */
void cscf_edit_unquote(struct pl *v)
{
	pl_trim(v);
	if (v->l >= 2 && v->p[0] == '"' && v->p[v->l - 1] == '"') {
		v->p++;
		v->l -= 2;
	}
}
