/**
 * @file test_sip_torture.c  RFC 4475 torture messages at the parser level.
 *
 * The shared test data holds the RFC 4475 Appendix A messages and a
 * manifest (testdata/rfc4475/manifest.tsv) with the behaviour a server
 * must show.  Each file must have a row in the table below saying what the
 * parser provides: decode and validate succeed, or which step refuses it
 * with which answer (a status code, or 0 to drop), what the stream framer
 * says of the same bytes, and specific assertions on the decoded message.
 * A file in the manifest without a row fails the test, so additions are
 * noticed; a row without a file fails too.
 *
 * Where the manifest expects a behaviour above the parser (416 for an
 * unknown scheme, 420 for unsupported extensions, 483 for Max-Forwards 0,
 * 415/406 for bodies), the row checks what the parser must hand the upper
 * layer to decide it (the scheme, the option tags, the Max-Forwards
 * value, the raw header values).
 *
 * Every message is read into a block of exactly its size, without a NUL
 * after it, so that AddressSanitizer reports any read past its end.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pl.h"
#include "sip/addr.h"
#include "sip/authhdr.h"
#include "sip/msg.h"
#include "sip/transp.h"
#include "sip/uri.h"
#include "sip/via.h"

#ifndef ENTIMS_RFC4475_DIR
#error "tests/CMakeLists.txt defines ENTIMS_RFC4475_DIR"
#endif

#define TORTURE_DIR ENTIMS_RFC4475_DIR


#define assert_pl_eq(pl, s)     pl_check((pl), (s), strlen(s), __FILE__, __LINE__)
#define assert_pl_eqn(pl, s, n) pl_check((pl), (s), (n), __FILE__, __LINE__)

static void pl_check(const struct pl *pl, const char *s, size_t n,
		     const char *file, int line)
{
	if (pl->l == n && (n == 0 || (pl->p && !memcmp(pl->p, s, n))))
		return;
	print_error("view \"%.*s\" (%zu) != expected \"%.*s\" (%zu)\n",
		    (int)pl->l, pl->p ? pl->p : "", pl->l, (int)n, s, n);
	_fail(file, line);
}


static char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	assert_int_equal(fclose(f), 0);
	*lenp = (size_t)n;
	return p;
}


/* The n-th (0-based) value of a header, across lines. */
static bool nth_value(const struct sip_msg *msg, enum sip_hdr_id id, unsigned n,
		      struct pl *v)
{
	struct sip_hdr_iter it = { 0 };
	unsigned i = 0;

	while (sip_msg_hdr_value_next(msg, id, &it, v))
		if (i++ == n)
			return true;
	return false;
}


static unsigned count_values(const struct sip_msg *msg, enum sip_hdr_id id)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	unsigned n = 0;

	while (sip_msg_hdr_value_next(msg, id, &it, &v))
		n++;
	return n;
}


static void nth_via(const struct sip_msg *msg, unsigned n, struct sip_via *via)
{
	struct pl v;

	assert_true(nth_value(msg, SIP_HDR_VIA, n, &v));
	if (sip_via_decode(via, &v))
		fail_msg("Via value %u does not decode: %.*s", n, PL_FMT(&v));
}


static void nth_contact(const struct sip_msg *msg, unsigned n,
			struct sip_contact *c)
{
	struct pl v;

	assert_true(nth_value(msg, SIP_HDR_CONTACT, n, &v));
	if (sip_contact_decode(c, &v))
		fail_msg("Contact value %u does not decode: %.*s", n,
			 PL_FMT(&v));
}


static void unescape_eq(const struct pl *in, const char *want, size_t n)
{
	char out[256];
	size_t len = 0;

	assert_int_equal(sip_unescape(in, out, sizeof(out), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
}


/* ---- per-message assertions ---- */

static void check_wsinv(struct sip_msg *msg)
{
	const struct sip_addr *a;
	const struct sip_cseq *cseq;
	const struct sip_via *top;
	const struct sip_uri *uri;
	const struct sip_hdr *h;
	struct sip_via via;
	struct sip_contact c;
	struct sip_addr r;
	struct pl v, rest;
	uint32_t u;

	assert_int_equal(msg->meth, SIP_METHOD_INVITE);
	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_pl_eq(&uri->user, "vivekg");
	assert_pl_eq(&uri->host, "chair-dnrc.example.com");
	assert_pl_eq(&uri->params, ";unknownparam");

	/* "TO :" folded onto the next line, LWS around ';' and '=' */
	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_pl_eq(&a->tag, "1918181833n");
	assert_pl_eq(&a->uri.user, "vivekg");
	assert_false(a->angle);
	/* "from   :" with an escaped-quote display name and a folded tag */
	assert_int_equal(sip_msg_from(msg, &a), 0);
	assert_pl_eq(&a->tag, "98asjd8");
	assert_pl_eq(&a->dname, "\"J Rosenberg \\\\\\\"\"");
	assert_pl_eq(&a->uri.user, "jdrosen");

	assert_int_equal(sip_msg_maxfwd(msg, &u), 0);
	assert_int_equal(u, 68);
	assert_int_equal(sip_msg_cseq(msg, &cseq), 0);
	assert_int_equal(cseq->num, 9);
	assert_int_equal(cseq->meth, SIP_METHOD_INVITE);

	/* two Via lines, the first folded across three lines, the second
	 * (compact "v:") holding two folded values */
	assert_int_equal(msg->nlines[SIP_HDR_VIA], 2);
	assert_int_equal(count_values(msg, SIP_HDR_VIA), 3);
	assert_int_equal(sip_msg_via(msg, &top), 0);
	assert_pl_eq(&top->transp, "UDP");
	assert_pl_eq(&top->host, "192.0.2.2");
	assert_pl_eq(&top->branch, "390skdjuw");
	assert_true(sip_via_proto_sip2(top));
	assert_false(sip_via_branch_3261(top));
	h = sip_msg_hdr_next(msg, sip_msg_hdr(msg, SIP_HDR_VIA));
	assert_non_null(h);
	assert_pl_eq(&h->name, "v");
	rest = h->val;
	assert_true(sip_value_split(&rest, &v));
	assert_int_equal(sip_via_decode(&via, &v), 0);
	assert_pl_eq(&via.transp, "TCP");
	assert_int_equal(via.tp, SIP_TRANSP_TCP);
	assert_pl_eq(&via.host, "spindle.example.com");
	assert_pl_eq(&via.branch, "z9hG4bK9ikj8");
	assert_true(sip_value_split(&rest, &v));
	assert_int_equal(sip_via_decode(&via, &v), 0);
	assert_pl_eq(&via.transp, "UDP");
	assert_pl_eq(&via.host, "192.168.255.111");
	assert_pl_eq(&via.branch, "z9hG4bK30239");
	assert_true(sip_via_branch_3261(&via));
	assert_false(sip_value_split(&rest, &v));

	/* "s :" is an empty Subject */
	h = sip_msg_hdr(msg, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->val.l, 0);
	h = sip_msg_hdr_name(msg, "newfangledheader");
	assert_non_null(h);
	assert_pl_eq(&h->val,
		     "newfangled value\r\n continued newfangled value");
	h = sip_msg_hdr_name(msg, "UnknownHeaderWithUnusualValue");
	assert_non_null(h);
	assert_pl_eq(&h->val, ";;,,;;,;");

	assert_true(nth_value(msg, SIP_HDR_ROUTE, 0, &v));
	assert_int_equal(sip_addr_decode(&r, &v), 0);
	assert_pl_eq(&r.uri.host, "services.example.com");
	assert_true(sip_param_exists(&r.uri.params, "lr"));
	assert_true(sip_param_exists(&r.uri.params, "unknown-no-value"));

	nth_contact(msg, 0, &c);
	assert_pl_eq(&c.addr.dname, "\"Quoted string \\\"\\\"\"");
	assert_pl_eq(&c.addr.uri.user, "jdrosen");
	assert_int_equal(c.q, 330);
	assert_true(sip_param_exists(&c.addr.params, "newparam"));
	assert_true(sip_param_exists(&c.addr.params, "secondparam"));

	assert_int_equal(sip_msg_clen(msg, &u), 0);
	assert_int_equal(u, 150);
	assert_int_equal(msg->body.l, 150);
}


static void check_intmeth(struct sip_msg *msg)
{
	static const char met[] = "!interesting-Method0123456789_*+`.%indeed'~";
	static const char dname[] = "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\"";
	const struct sip_cseq *cseq;
	const struct sip_uri *uri;
	const struct sip_addr *a;
	const struct sip_hdr *h;
	struct pl cid;
	uint32_t u;

	assert_int_equal(msg->meth, SIP_METHOD_OTHER);
	assert_pl_eq(&msg->met, met);
	assert_int_equal(sip_msg_cseq(msg, &cseq), 0);
	assert_pl_eq(&cseq->met, met);
	assert_int_equal(cseq->num, 139122385);
	assert_int_equal(sip_msg_maxfwd(msg, &u), 0);
	assert_int_equal(u, 255);

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_int_equal(uri->sch, SIP_SCHEME_SIP);
	assert_pl_eq(&uri->user,
		     "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_pl_eq(&uri->password,
		     "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_pl_eq(&uri->host, "example.com");

	/* control characters escaped inside a quoted display name */
	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_pl_eqn(&a->dname, dname, sizeof(dname) - 1);
	assert_int_equal(sip_msg_from(msg, &a), 0);
	assert_pl_eq(&a->dname, "token1~` token2'+_ token3*%!.-");
	assert_pl_eq(&a->tag, "_token~1'+`*%!-.");
	assert_int_equal(sip_msg_callid(msg, &cid), 0);
	assert_pl_eq(&cid, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	h = sip_msg_hdr_name(msg, "extensionHeader-!.%*+_`'~");
	assert_non_null(h);
	assert_int_equal(h->id, SIP_HDR_OTHER);
	assert_pl_eq(&h->val,
		     "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb");
}


static void check_esc01(struct sip_msg *msg)
{
	const struct sip_uri *uri;
	const struct sip_addr *a;
	struct sip_contact c;
	struct pl user = PL("user");

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_pl_eq(&uri->user, "sips%3Auser%40example.com");
	assert_pl_eq(&uri->host, "example.net");
	unescape_eq(&uri->user, "sips:user@example.com", 21);

	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_pl_eq(&a->uri.user, "%75se%72");
	assert_true(sip_unescaped_eq(&a->uri.user, &user, false));
	assert_int_equal(sip_msg_from(msg, &a), 0);
	unescape_eq(&a->uri.user, "I have spaces", 13);

	nth_contact(msg, 0, &c);
	assert_pl_eq(&c.addr.uri.user, "cal%6Cer");
	assert_pl_eq(&c.addr.uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_CALL_ID));      /* "i:" */
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE)); /* "C:" */
}


static void check_escnull(struct sip_msg *msg)
{
	struct sip_contact c1, c2;
	const struct sip_addr *a;

	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_pl_eq(&a->uri.user, "null-%00-null");
	/* the NUL stays inside: no C-string truncation */
	unescape_eq(&a->uri.user, "null-\0-null", 11);
	assert_int_equal(msg->nlines[SIP_HDR_CONTACT], 2);
	nth_contact(msg, 0, &c1);
	nth_contact(msg, 1, &c2);
	unescape_eq(&c1.addr.uri.user, "\0", 1);
	unescape_eq(&c2.addr.uri.user, "\0\0", 2);
	assert_false(
		sip_unescaped_eq(&c1.addr.uri.user, &c2.addr.uri.user, false));
	assert_false(sip_uri_eq(&c1.addr.uri, &c2.addr.uri));
}


static void check_esc02(struct sip_msg *msg)
{
	const struct sip_cseq *cseq;
	const struct sip_addr *a;
	const struct sip_via *via;
	const struct sip_hdr *h;

	/* RE%47IST%45R is not REGISTER: methods are not unescaped */
	assert_int_equal(msg->meth, SIP_METHOD_OTHER);
	assert_pl_eq(&msg->met, "RE%47IST%45R");
	assert_int_equal(sip_msg_cseq(msg, &cseq), 0);
	assert_int_equal(cseq->meth, SIP_METHOD_OTHER);
	assert_pl_eq(&cseq->met, "RE%47IST%45R");
	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_pl_eq(&a->dname, "\"%Z%45\"");
	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_pl_eq(&via->branch, "z9hG4bK209%fzsnel234");
	/* C%6Fntact is an unknown header, not a Contact */
	assert_int_equal(msg->nlines[SIP_HDR_CONTACT], 2);
	assert_int_equal(count_values(msg, SIP_HDR_CONTACT), 2);
	h = sip_msg_hdr_name(msg, "C%6Fntact");
	assert_non_null(h);
	assert_int_equal(h->id, SIP_HDR_OTHER);
	assert_pl_eq(&h->val, "<sip:alias2@host2.example.com>");
}


static void check_lwsdisp(struct sip_msg *msg)
{
	const struct sip_addr *a;

	assert_int_equal(sip_msg_from(msg, &a), 0);
	assert_pl_eq(&a->dname, "caller");
	assert_true(a->angle);
	assert_pl_eq(&a->uri.user, "caller");
	assert_pl_eq(&a->tag, "323");
}


static void check_longreq(struct sip_msg *msg)
{
	const struct sip_addr *a;
	const struct sip_via *top;
	struct sip_via last;
	struct sip_contact c;
	const struct sip_hdr *h;

	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_true(a->dname.l > 90);
	assert_true(sip_param_exists(&a->uri.params, "unknownparam1"));
	assert_int_equal(a->uri.port, 6000);
	assert_int_equal(sip_msg_from(msg, &a), 0); /* "F:" */
	assert_int_equal(a->tag.l, 155);
	/* 34 Via lines in every case and spacing of the name */
	assert_int_equal(msg->nlines[SIP_HDR_VIA], 34);
	assert_int_equal(count_values(msg, SIP_HDR_VIA), 34);
	assert_int_equal(sip_msg_via(msg, &top), 0);
	assert_pl_eq(&top->host, "sip33.example.com");
	nth_via(msg, 33, &last);
	assert_pl_eq(&last.host, "host.example.com");
	assert_pl_eq(&last.received, "192.0.2.5");
	assert_true(last.branch.l > 200);
	h = sip_msg_hdr_name(
		msg, "Unknown-LongLongLongLongLongLongLongLongLongLongLongLong"
		     "LongLongLongLongLongLongLongLong-Name");
	assert_non_null(h);
	assert_true(h->val.l > 250);
	nth_contact(msg, 0, &c);
	assert_true(c.addr.uri.user.l > 100);
	assert_int_equal(msg->body.l, 150);
}


static const char *after_first_msg(const struct sip_msg *msg)
{
	const char *s = msg->p;
	size_t i;

	for (i = 0; i + 4 <= msg->len; i++)
		if (!memcmp(s + i, "\r\n\r\n", 4))
			return s + i + 4;
	return NULL;
}


static void check_dblreq(struct sip_msg *msg)
{
	/* only the REGISTER: msg->len ends after its empty body, and the
	 * INVITE in the same datagram is left out */
	assert_int_equal(msg->meth, SIP_METHOD_REGISTER);
	assert_ptr_equal(msg->p + msg->len, after_first_msg(msg));
	assert_int_equal(msg->body.l, 0);
	assert_int_equal(msg->nlines[SIP_HDR_VIA], 1);
}


static void check_semiuri(struct sip_msg *msg)
{
	const struct sip_uri *uri;

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_pl_eq(&uri->user, "user;par=u%40example.net");
	assert_pl_eq(&uri->host, "example.com");
	assert_int_equal(uri->params.l, 0);
	assert_int_equal(count_values(msg, SIP_HDR_ACCEPT), 6);
}


static void check_transports(struct sip_msg *msg)
{
	static const struct {
		const char *transp;
		enum sip_transp tp;
		const char *host;
	} want[] = {
		{ "UDP", SIP_TRANSP_UDP, "t1.example.com" },
		{ "SCTP", SIP_TRANSP_NONE, "t2.example.com" },
		{ "TLS", SIP_TRANSP_TLS, "t3.example.com" },
		{ "UNKNOWN", SIP_TRANSP_NONE, "t4.example.com" },
		{ "TCP", SIP_TRANSP_TCP, "t5.example.com" },
	};
	struct sip_via via;
	unsigned i;

	assert_int_equal(count_values(msg, SIP_HDR_VIA), 5);
	for (i = 0; i < 5; i++) {
		nth_via(msg, i, &via);
		assert_pl_eq(&via.transp, want[i].transp);
		assert_int_equal(via.tp, want[i].tp);
		assert_pl_eq(&via.host, want[i].host);
		assert_true(sip_via_branch_3261(&via));
	}
}


static void check_mpart01(struct sip_msg *msg)
{
	static const char first[] = "--7a9cbec02ceef655\r\n";
	static const char last[] = "--7a9cbec02ceef655--\r\n";
	const struct sip_via *via;
	uint32_t cl;

	assert_int_equal(sip_msg_clen(msg, &cl), 0);
	assert_int_equal(cl, 553);
	assert_int_equal(msg->body.l, cl);
	assert_memory_equal(msg->body.p, first, sizeof(first) - 1);
	assert_memory_equal(msg->body.p + msg->body.l - (sizeof(last) - 1),
			    last, sizeof(last) - 1);
	assert_ptr_equal(msg->body.p + msg->body.l, msg->p + msg->len);
	assert_int_equal(msg->meth, SIP_METHOD_MESSAGE);
	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_true(via->has_rport);
	assert_int_equal(via->port, 5070);
	assert_non_null(sip_msg_hdr_name(msg, "Identity"));
}


static void check_unreason(struct sip_msg *msg)
{
	const char *eol = memchr(msg->p, '\r', msg->len);
	static const char head[] = "SIP/2.0 200 ";

	assert_false(msg->req);
	assert_int_equal(msg->scode, 200);
	assert_non_null(eol);
	/* the reason phrase is everything after the code, UTF-8 included */
	assert_ptr_equal(msg->reason.p, msg->p + sizeof(head) - 1);
	assert_ptr_equal(msg->reason.p + msg->reason.l, eol);
	assert_memory_equal(msg->reason.p, "= 2**3 * 5**2 \xd0\xbd", 16);
	assert_int_equal(msg->body.l, 154);
}


static void check_noreason(struct sip_msg *msg)
{
	assert_false(msg->req);
	assert_int_equal(msg->scode, 100);
	assert_int_equal(msg->reason.l, 0);
	assert_pl_eq(&msg->start, "SIP/2.0 100 ");
}


static void check_badinv01(struct sip_msg *msg)
{
	struct sip_contact c;
	struct pl v;

	/* the Contact ";;;;" is as broken as the Via */
	assert_true(nth_value(msg, SIP_HDR_CONTACT, 0, &v));
	assert_int_equal(sip_contact_decode(&c, &v), EBADMSG);
}


static void check_scalar02(struct sip_msg *msg)
{
	const struct sip_cseq *cseq;
	struct sip_contact c;
	struct pl v;
	uint32_t u;
	int err;

	/* every overlarge scalar is refused, none wraps to a small number */
	assert_int_equal(sip_msg_cseq(msg, &cseq), EBADMSG);
	assert_int_equal(sip_msg_maxfwd(msg, &u), EBADMSG);
	assert_int_equal(sip_msg_expires(msg, &u), EBADMSG);
	assert_true(nth_value(msg, SIP_HDR_CONTACT, 0, &v));
	memset(&c, 0, sizeof(c));
	err = sip_contact_decode(&c, &v);
	/* RFC 4475 3.1.2.4: refuse, or treat the expiry as absent */
	assert_true(err == EBADMSG || (err == 0 && !c.has_expires));
}


static void check_scalarlg(struct sip_msg *msg)
{
	const struct sip_cseq *cseq;

	assert_false(msg->req);
	assert_int_equal(msg->scode, 503);
	assert_int_equal(sip_msg_cseq(msg, &cseq), EBADMSG);
}


static void check_escruri(struct sip_msg *msg)
{
	const struct sip_uri *uri;

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_pl_eq(&uri->headers, "Route=%3Csip:example.com%3E");
}


static void check_baddate(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_DATE);

	/* the parser does not judge Date; the upper layer sees it raw */
	assert_non_null(h);
	assert_pl_eq(&h->val, "Fri, 01 Jan 2010 16:00:00 EST");
}


static void check_regbadct(struct sip_msg *msg)
{
	struct sip_contact c;
	struct pl v;
	int err;

	/* RFC 3261 20.10: an addr-spec holding '?' must be in <>; the
	 * registrar answers 400.  The decoder either refuses it or shows
	 * the headers outside angle brackets, for the registrar to refuse */
	assert_int_equal(msg->meth, SIP_METHOD_REGISTER);
	assert_true(nth_value(msg, SIP_HDR_CONTACT, 0, &v));
	memset(&c, 0, sizeof(c));
	err = sip_contact_decode(&c, &v);
	if (err != EBADMSG) {
		assert_int_equal(err, 0);
		assert_false(c.addr.angle);
		assert_pl_eq(&c.addr.uri.headers,
			     "Route=%3Csip:sip.example.com%3E");
	}
}


static void check_badbranch(struct sip_msg *msg)
{
	const struct sip_via *via;

	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_pl_eq(&via->branch, "z9hG4bK");
	/* the cookie alone is no RFC 3261 branch */
	assert_false(sip_via_branch_3261(via));
}


static void check_unkscm(struct sip_msg *msg)
{
	const struct sip_uri *uri;

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_int_equal(uri->sch, SIP_SCHEME_OTHER); /* -> 416 above */
	assert_pl_eq(&uri->scheme, "nobodyKnowsThisScheme");
	assert_pl_eq(&uri->opaque, "totallyopaquecontent");
}


static void check_novelsc(struct sip_msg *msg)
{
	const struct sip_uri *uri;

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_int_equal(uri->sch, SIP_SCHEME_OTHER); /* -> 416 above */
	assert_pl_eq(&uri->scheme, "soap.beep");
}


static void check_unksm2(struct sip_msg *msg)
{
	const struct sip_addr *a;
	struct sip_contact c;

	assert_int_equal(sip_msg_to(msg, &a), 0);
	assert_int_equal(a->uri.sch, SIP_SCHEME_OTHER);
	assert_pl_eq(&a->uri.scheme, "isbn");
	assert_int_equal(sip_msg_from(msg, &a), 0);
	assert_int_equal(a->uri.sch, SIP_SCHEME_OTHER);
	assert_pl_eq(&a->uri.scheme, "http");
	assert_pl_eq(&a->tag, "3234233");
	nth_contact(msg, 0, &c);
	assert_int_equal(c.addr.uri.sch, SIP_SCHEME_OTHER);
	assert_pl_eq(&c.addr.uri.scheme, "name");
}


static void check_bext01(struct sip_msg *msg)
{
	/* the proxy answers 420 listing these; the UAS, the Require ones */
	assert_true(sip_msg_has_tag(msg, SIP_HDR_PROXY_REQUIRE,
				    "noProxiesSupportThis"));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_PROXY_REQUIRE,
				    "norDoAnyProxiesSupportThis"));
	assert_int_equal(count_values(msg, SIP_HDR_PROXY_REQUIRE), 2);
	assert_true(
		sip_msg_has_tag(msg, SIP_HDR_REQUIRE, "nothingSupportsThis"));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_REQUIRE,
				    "nothingSupportsThisEither"));
	assert_int_equal(count_values(msg, SIP_HDR_REQUIRE), 2);
	assert_false(sip_msg_has_tag(msg, SIP_HDR_REQUIRE, "nothing"));
}


static void check_invut(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);

	assert_non_null(h); /* -> 415 at the UAS */
	assert_pl_eq(&h->val, "application/unknownformat");
	assert_int_equal(msg->body.l, 40);
	assert_memory_equal(msg->body.p, "<audio>", 7);
}


static void check_regaut01(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct sip_authhdr ah;
	uint32_t cl;

	assert_non_null(h);
	memset(&ah, 0, sizeof(ah));
	/* an unknown scheme is well-formed: the registrar challenges */
	assert_int_equal(sip_authhdr_decode(&ah, &h->val), 0);
	assert_pl_eq(&ah.scheme, "NoOneKnowsThisScheme");
	assert_false(pl_eq_str_ci(&ah.scheme, "Digest"));
	assert_int_equal(sip_msg_clen(msg, &cl), 0); /* "Content-Length:0" */
	assert_int_equal(cl, 0);
}


static void check_multi01(struct sip_msg *msg)
{
	assert_int_equal(msg->nlines[SIP_HDR_CALL_ID], 2);
	assert_int_equal(msg->nlines[SIP_HDR_CSEQ], 2);
	assert_int_equal(msg->nlines[SIP_HDR_FROM], 2);
	assert_int_equal(msg->nlines[SIP_HDR_TO], 2);
	assert_int_equal(msg->nlines[SIP_HDR_MAX_FORWARDS], 2);
}


static void check_bcast(struct sip_msg *msg)
{
	struct sip_via via;

	/* the element must not send to the broadcast address in Via 2 */
	assert_false(msg->req);
	assert_int_equal(count_values(msg, SIP_HDR_VIA), 2);
	nth_via(msg, 1, &via);
	assert_pl_eq(&via.host, "255.255.255.255");
}


static void check_zeromf(struct sip_msg *msg)
{
	uint32_t mf = 99;

	assert_int_equal(sip_msg_maxfwd(msg, &mf), 0);
	assert_int_equal(mf, 0); /* -> 483 at a proxy */
}


static void check_cparam01(struct sip_msg *msg)
{
	struct sip_contact c;

	/* without <>, the parameter belongs to the header (RFC 3261 20.10) */
	nth_contact(msg, 0, &c);
	assert_false(c.addr.angle);
	assert_pl_eq(&c.addr.uri.user, "+19725552222");
	assert_int_equal(c.addr.uri.params.l, 0);
	assert_pl_eq(&c.addr.params, ";unknownparam");
}


static void check_cparam02(struct sip_msg *msg)
{
	struct sip_contact c;

	nth_contact(msg, 0, &c);
	assert_true(c.addr.angle);
	assert_pl_eq(&c.addr.uri.params, ";unknownparam");
	assert_int_equal(c.addr.params.l, 0);
}


static void check_regescrt(struct sip_msg *msg)
{
	struct sip_contact c;
	uint32_t cl;

	assert_int_equal(msg->nlines[SIP_HDR_CONTACT], 1); /* "M:" */
	nth_contact(msg, 0, &c);
	assert_pl_eq(&c.addr.uri.headers, "Route=%3Csip:sip.example.com%3E");
	assert_int_equal(sip_msg_clen(msg, &cl), 0); /* "L:0" */
	assert_int_equal(cl, 0);
}


static void check_sdp01(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ACCEPT);

	assert_non_null(h); /* -> 406 at the UAS */
	assert_pl_eq(&h->val, "text/nobodyKnowsThis");
	h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	assert_non_null(h);
	assert_pl_eq(&h->val, "application/sdp");
	assert_int_equal(msg->body.l, 150);
}


static void check_inv2543(struct sip_msg *msg)
{
	const struct sip_addr *a;
	const struct sip_via *via;
	uint32_t u;

	/* no Content-Length in a datagram: the body is the rest */
	assert_ptr_equal(msg->body.p + msg->body.l, msg->p + msg->len);
	assert_ptr_equal(msg->body.p, after_first_msg(msg));
	assert_true(msg->body.l > 100);
	assert_int_equal(sip_msg_clen(msg, &u), 0);
	assert_int_equal(u, msg->body.l);
	/* RFC 2543: no branch, no From tag, no Max-Forwards */
	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_int_equal(via->branch.l, 0);
	assert_false(sip_via_branch_3261(via));
	assert_int_equal(sip_msg_from(msg, &a), 0);
	assert_int_equal(a->tag.l, 0);
	assert_int_equal(sip_msg_maxfwd(msg, &u), ENOENT);
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE));
}


/* ---- the table ---- */

enum outcome {
	T_OK,       /* decode and validate succeed */
	T_DECODE,   /* sip_msg_decode() refuses */
	T_VALIDATE, /* sip_msg_validate() refuses */
};

struct row {
	const char *file;
	enum outcome out;
	uint16_t scode;     /* the answer on refusal; 0: drop */
	const char *reason; /* a word the reason phrase must hold */
	int frame;          /* sip_msg_frame() on the same bytes */
	void (*check)(struct sip_msg *msg);
};

static const struct row rows[] = {
	/* 3.1.1 valid messages */
	{ "wsinv.dat", T_OK, 0, NULL, 0, check_wsinv },
	{ "intmeth.dat", T_OK, 0, NULL, 0, check_intmeth },
	{ "esc01.dat", T_OK, 0, NULL, 0, check_esc01 },
	{ "escnull.dat", T_OK, 0, NULL, 0, check_escnull },
	{ "esc02.dat", T_OK, 0, NULL, 0, check_esc02 },
	{ "lwsdisp.dat", T_OK, 0, NULL, 0, check_lwsdisp },
	{ "longreq.dat", T_OK, 0, NULL, 0, check_longreq },
	{ "dblreq.dat", T_OK, 0, NULL, 0, check_dblreq },
	{ "semiuri.dat", T_OK, 0, NULL, 0, check_semiuri },
	{ "transports.dat", T_OK, 0, NULL, 0, check_transports },
	{ "mpart01.dat", T_OK, 0, NULL, 0, check_mpart01 },
	{ "unreason.dat", T_OK, 0, NULL, 0, check_unreason },
	{ "noreason.dat", T_OK, 0, NULL, 0, check_noreason },
	/* 3.1.2 invalid messages */
	{ "badinv01.dat", T_VALIDATE, 400, "Via", 0, check_badinv01 },
	{ "clerr.dat", T_DECODE, 400, "Content-Length", ENODATA, NULL },
	{ "ncl.dat", T_DECODE, 400, "Content-Length", EBADMSG, NULL },
	{ "scalar02.dat", T_VALIDATE, 400, "CSeq", 0, check_scalar02 },
	{ "scalarlg.dat", T_VALIDATE, 0, "CSeq", 0, check_scalarlg },
	{ "quotbal.dat", T_VALIDATE, 400, "To", 0, NULL },
	{ "ltgtruri.dat", T_DECODE, 400, "Request-URI", 0, NULL },
	{ "lwsruri.dat", T_DECODE, 400, "Request Line", 0, NULL },
	{ "lwsstart.dat", T_DECODE, 400, "Request Line", 0, NULL },
	{ "trws.dat", T_DECODE, 400, "Request Line", 0, NULL },
	{ "escruri.dat", T_VALIDATE, 400, "Request-URI", 0, check_escruri },
	{ "baddate.dat", T_OK, 0, NULL, 0, check_baddate },
	{ "regbadct.dat", T_OK, 0, NULL, 0, check_regbadct },
	{ "badaspec.dat", T_VALIDATE, 400, "To", 0, NULL },
	/* the RFC bytes lack the empty line after the headers */
	{ "baddn.dat", T_DECODE, 400, "Empty Line", ENODATA, NULL },
	{ "baddn.with-final-crlf.dat", T_VALIDATE, 400, "From", 0, NULL },
	{ "badvers.dat", T_DECODE, 505, "Version", 0, NULL },
	{ "mismatch01.dat", T_VALIDATE, 400, "CSeq", 0, NULL },
	{ "mismatch02.dat", T_VALIDATE, 501, NULL, 0, NULL },
	{ "bigcode.dat", T_DECODE, 0, "Status Code", 0, NULL },
	/* 3.2 transaction layer */
	{ "badbranch.dat", T_OK, 0, NULL, 0, check_badbranch },
	/* 3.3 application layer */
	{ "insuf.dat", T_VALIDATE, 400, "From", 0, NULL },
	{ "unkscm.dat", T_OK, 0, NULL, 0, check_unkscm },
	{ "novelsc.dat", T_OK, 0, NULL, 0, check_novelsc },
	{ "unksm2.dat", T_OK, 0, NULL, 0, check_unksm2 },
	{ "bext01.dat", T_OK, 0, NULL, 0, check_bext01 },
	{ "invut.dat", T_OK, 0, NULL, 0, check_invut },
	{ "regaut01.dat", T_OK, 0, NULL, 0, check_regaut01 },
	{ "multi01.dat", T_VALIDATE, 400, "Multiple", 0, check_multi01 },
	{ "mcl01.dat", T_DECODE, 400, "Content-Length", EBADMSG, NULL },
	{ "bcast.dat", T_OK, 0, NULL, 0, check_bcast },
	{ "zeromf.dat", T_OK, 0, NULL, 0, check_zeromf },
	{ "cparam01.dat", T_OK, 0, NULL, 0, check_cparam01 },
	{ "cparam02.dat", T_OK, 0, NULL, 0, check_cparam02 },
	{ "regescrt.dat", T_OK, 0, NULL, 0, check_regescrt },
	{ "sdp01.dat", T_OK, 0, NULL, 0, check_sdp01 },
	/* 3.4 backward compatibility: no Content-Length, so no framing */
	{ "inv2543.dat", T_OK, 0, NULL, EBADMSG, check_inv2543 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))


static const struct row *row_find(const char *file)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (!strcmp(rows[i].file, file))
			return &rows[i];
	return NULL;
}


static const char *outcome_name(enum outcome o)
{
	switch (o) {
	case T_OK:
		return "ok";
	case T_DECODE:
		return "decode error";
	default:
		return "validate error";
	}
}


/* Decode and validate one file; check it against its row. */
static void run_row(const struct row *r, struct sip_msg *msg)
{
	struct sip_msg_err err = { 999, NULL };
	enum outcome got = T_OK;
	size_t len, msglen = 0, skip = 0;
	char path[512];
	char *p;
	int rc, fr;

	(void)snprintf(path, sizeof(path), "%s/messages/%s", TORTURE_DIR,
		       r->file);
	p = read_file(path, &len);

	rc = sip_msg_decode(msg, p, len, true, &err);
	if (rc)
		got = T_DECODE;
	else {
		rc = sip_msg_validate(msg, &err);
		if (rc)
			got = T_VALIDATE;
	}
	if (got != r->out || (got != T_OK && err.scode != r->scode))
		fail_msg("%s: %s (rc %d, scode %u, \"%s\"), want %s scode %u",
			 r->file, outcome_name(got), rc, err.scode,
			 err.reason ? err.reason : "-", outcome_name(r->out),
			 r->scode);
	if (got != T_OK) {
		assert_int_equal(rc, EBADMSG);
		assert_non_null(err.reason);
		if (r->reason && !strstr(err.reason, r->reason))
			fail_msg("%s: reason \"%s\" does not name \"%s\"",
				 r->file, err.reason, r->reason);
	} else {
		assert_int_equal(err.scode, 0);
		assert_true(msg->len <= len);
	}
	if (r->check && got != T_DECODE)
		r->check(msg);

	/* the same bytes on a stream */
	fr = sip_msg_frame(p, len, &msglen, &skip);
	if (fr != r->frame)
		fail_msg("%s: sip_msg_frame %d, want %d", r->file, fr,
			 r->frame);
	if (fr == 0) {
		struct sip_msg_err e2 = { 999, NULL };
		int rc2;

		assert_true(skip + msglen <= len);
		/* framed, the message decodes as it did as a datagram */
		rc2 = sip_msg_decode(msg, p + skip, msglen, false, &e2);
		assert_int_equal(rc2 != 0, got == T_DECODE);
		if (!rc2) {
			assert_int_equal(msg->len, msglen);
			rc2 = sip_msg_validate(msg, &e2);
			assert_int_equal(rc2 != 0, got == T_VALIDATE);
		}
		if (rc2)
			assert_int_equal(e2.scode, r->scode);
		if (!rc2 && r->check)
			r->check(msg);
	}
	free(p);
}


static void test_torture(void **state)
{
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	bool used[NROWS] = { false };
	char path[512], line[2048];
	unsigned files = 0;
	size_t i;
	FILE *f;

	(void)state;
	assert_non_null(msg);
	(void)snprintf(path, sizeof(path), "%s/manifest.tsv", TORTURE_DIR);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);

	while (fgets(line, sizeof(line), f)) {
		const struct row *r;
		char *tab;

		if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
			continue;
		tab = strchr(line, '\t');
		if (!tab)
			fail_msg("manifest line without a tab: %s", line);
		*tab = '\0';
		r = row_find(line);
		if (!r)
			fail_msg("%s is in the manifest but has no row in "
				 "test_sip_torture.c",
				 line);
		if (used[r - rows])
			fail_msg("%s twice in the manifest", line);
		used[r - rows] = true;
		files++;
		run_row(r, msg);
	}
	assert_int_equal(fclose(f), 0);

	for (i = 0; i < NROWS; i++)
		if (!used[i])
			fail_msg("row %s is not in the manifest", rows[i].file);
	assert_int_equal(files, NROWS);
	free(msg);
}


/* Every prefix of every message (as a datagram and framed), read from an
 * exact-size block: no view and no scan may pass the end of the bytes. */
static void test_torture_prefixes(void **state)
{
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	size_t i, n;

	(void)state;
	assert_non_null(msg);
	for (i = 0; i < NROWS; i++) {
		char path[512];
		size_t len, msglen, skip;
		char *text;

		(void)snprintf(path, sizeof(path), "%s/messages/%s",
			       TORTURE_DIR, rows[i].file);
		text = read_file(path, &len);
		for (n = 0; n < len; n++) {
			char *p = malloc(n ? n : 1);
			struct sip_msg_err err;
			const struct sip_via *via;
			const struct sip_addr *a;

			assert_non_null(p);
			memcpy(p, text, n);
			if (!sip_msg_decode(msg, p, n, true, &err)) {
				(void)sip_msg_validate(msg, &err);
				(void)sip_msg_via(msg, &via);
				(void)sip_msg_from(msg, &a);
				(void)sip_msg_to(msg, &a);
				(void)count_values(msg, SIP_HDR_CONTACT);
			} else {
				assert_true(
					err.scode == 0 ||
					(err.scode >= 400 && err.scode <= 699));
			}
			if (!sip_msg_frame(p, n, &msglen, &skip))
				assert_true(skip + msglen <= n);
			free(p);
		}
		free(text);
	}
	free(msg);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_torture, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_torture_prefixes, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_torture", tests, NULL, NULL);
}
