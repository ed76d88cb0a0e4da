/**
 * @file test_sip_msg.c  The SIP message index (msg.c): start lines, header
 * names and ids, folding, multi-value iteration, Content-Length rules,
 * limits, stream framing, validation, typed accessors and copies.
 *
 * Every input is copied to the very end of a malloc'd block of exactly its
 * length, without a terminating NUL, so that AddressSanitizer reports any
 * read past the message (the dev preset builds with ASan).
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

#include "core/buf.h"
#include "core/mem.h"
#include "core/pl.h"
#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/transp.h"
#include "sip/uri.h"
#include "sip/via.h"

#ifndef ENTIMS_SOURCE_DIR
#error "tests/CMakeLists.txt defines ENTIMS_SOURCE_DIR"
#endif


/* ---- helpers ---- */

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


/* A decoded message and the exact-size block holding its bytes. */
struct dec {
	struct sip_msg msg;
	struct sip_msg_err err;
	char *buf;
	size_t len;
	int rc;
};


/* s at the end of a block of exactly n bytes (no NUL after it). */
static char *tail_dup(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, s, n);
	return p;
}


static struct dec *dec_new(void)
{
	struct dec *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	return d;
}


/* Decode n bytes of s (copied to a tail block); the result is in d->rc. */
static int dec_run(struct dec *d, const char *s, size_t n, bool dgram)
{
	free(d->buf);
	d->buf = tail_dup(s, n);
	d->len = n;
	d->err.scode = 999;
	d->err.reason = NULL;
	d->rc = sip_msg_decode(&d->msg, d->buf, n, dgram, &d->err);
	return d->rc;
}


static int dec_str(struct dec *d, const char *s, bool dgram)
{
	return dec_run(d, s, strlen(s), dgram);
}


static void dec_free(struct dec *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d);
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


static unsigned count_values(const struct sip_msg *msg, enum sip_hdr_id id)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	unsigned n = 0;

	while (sip_msg_hdr_value_next(msg, id, &it, &v))
		n++;
	return n;
}


/* The common header block of a well-formed request (RFC 3261 8.1.1). */
#define REQ_HDRS(meth)                                                   \
	"Via: SIP/2.0/UDP "                                              \
	"pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"           \
	"Max-Forwards: 70\r\n"                                           \
	"To: Bob <sip:bob@biloxi.example.com>\r\n"                       \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n" \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"           \
	"CSeq: 314159 " meth "\r\n"

#define RESP_HDRS                                                        \
	"Via: SIP/2.0/UDP "                                              \
	"pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"           \
	"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"           \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n" \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"           \
	"CSeq: 314159 INVITE\r\n"


/* ---- start lines ---- */

struct start_case {
	const char *line;
	int rc;
	uint16_t scode; /* on error: the answer (0: drop) */
	bool req;
	enum sip_method meth;
	const char *met; /* request: method token */
	const char *ruri;
	uint16_t code; /* response: status */
	const char *reason;
};

static const struct start_case start_cases[] = {
	{ "INVITE sip:bob@biloxi.example.com SIP/2.0", 0, 0, true,
	  SIP_METHOD_INVITE, "INVITE", "sip:bob@biloxi.example.com", 0, NULL },
	{ "REGISTER sip:example.com SIP/2.0", 0, 0, true, SIP_METHOD_REGISTER,
	  "REGISTER", "sip:example.com", 0, NULL },
	/* RFC 3261 7.1: the version is case-insensitive */
	{ "OPTIONS sip:example.com sip/2.0", 0, 0, true, SIP_METHOD_OPTIONS,
	  "OPTIONS", "sip:example.com", 0, NULL },
	{ "ACK tel:+15145550100 Sip/2.0", 0, 0, true, SIP_METHOD_ACK, "ACK",
	  "tel:+15145550100", 0, NULL },
	/* method names are case-sensitive: "invite" is an extension */
	{ "invite sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_OTHER,
	  "invite", "sip:x@example.com", 0, NULL },
	{ "NEWMETHOD sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_OTHER,
	  "NEWMETHOD", "sip:x@example.com", 0, NULL },
	{ "PRACK sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_PRACK,
	  "PRACK", "sip:x@example.com", 0, NULL },
	{ "SUBSCRIBE sip:x@example.com SIP/2.0", 0, 0, true,
	  SIP_METHOD_SUBSCRIBE, "SUBSCRIBE", "sip:x@example.com", 0, NULL },
	{ "NOTIFY sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_NOTIFY,
	  "NOTIFY", "sip:x@example.com", 0, NULL },
	{ "PUBLISH sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_PUBLISH,
	  "PUBLISH", "sip:x@example.com", 0, NULL },
	{ "MESSAGE sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_MESSAGE,
	  "MESSAGE", "sip:x@example.com", 0, NULL },
	{ "REFER sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_REFER,
	  "REFER", "sip:x@example.com", 0, NULL },
	{ "UPDATE sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_UPDATE,
	  "UPDATE", "sip:x@example.com", 0, NULL },
	{ "INFO sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_INFO, "INFO",
	  "sip:x@example.com", 0, NULL },
	{ "BYE sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_BYE, "BYE",
	  "sip:x@example.com", 0, NULL },
	{ "CANCEL sip:x@example.com SIP/2.0", 0, 0, true, SIP_METHOD_CANCEL,
	  "CANCEL", "sip:x@example.com", 0, NULL },
	/* RFC 3261 8.2.2 / RFC 4475 3.1.2.16: other versions get 505 */
	{ "OPTIONS sip:x@example.com SIP/7.0", EBADMSG, 505, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com SIP/2.1", EBADMSG, 505, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com SIP/20.0", EBADMSG, 505, false, 0, NULL,
	  NULL, 0, NULL },
	/* not a SIP-Version at all */
	{ "OPTIONS sip:x@example.com SIP/2", EBADMSG, 400, false, 0, NULL, NULL,
	  0, NULL },
	{ "OPTIONS sip:x@example.com SIP/2.", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com SIP/.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com HTTP/1.1", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com SIP/2.0x", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	/* RFC 4475 3.1.2.9 / 3.1.2.10: exactly one SP between elements */
	{ "OPTIONS  sip:x@example.com SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com  SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com SIP/2.0 ", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com;a b SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPTIONS sip:x@example.com", EBADMSG, 400, false, 0, NULL, NULL, 0,
	  NULL },
	{ "OPTIONS", EBADMSG, 400, false, 0, NULL, NULL, 0, NULL },
	{ "", EBADMSG, 400, false, 0, NULL, NULL, 0, NULL },
	{ " OPTIONS sip:x@example.com SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	/* RFC 3261 25.1: Method is a token */
	{ "OPT@ONS sip:x@example.com SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	{ "OPT\"ONS sip:x@example.com SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },
	/* RFC 4475 3.1.2.7 */
	{ "INVITE <sip:x@example.com> SIP/2.0", EBADMSG, 400, false, 0, NULL,
	  NULL, 0, NULL },

	/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
	{ "SIP/2.0 200 OK", 0, 0, false, 0, NULL, NULL, 200, "OK" },
	{ "SIP/2.0 180 Ringing", 0, 0, false, 0, NULL, NULL, 180, "Ringing" },
	{ "SIP/2.0 486 Busy Here, try later", 0, 0, false, 0, NULL, NULL, 486,
	  "Busy Here, try later" },
	{ "sip/2.0 200 OK", 0, 0, false, 0, NULL, NULL, 200, "OK" },
	{ "SIP/2.0 699 Whatever", 0, 0, false, 0, NULL, NULL, 699, "Whatever" },
	{ "SIP/2.0 100 Trying ", 0, 0, false, 0, NULL, NULL, 100, "Trying " },
	/* RFC 4475 3.1.1.13: an empty reason phrase, with and without SP */
	{ "SIP/2.0 100 ", 0, 0, false, 0, NULL, NULL, 100, "" },
	{ "SIP/2.0 100", 0, 0, false, 0, NULL, NULL, 100, "" },
	/* bad responses are dropped, never answered (scode 0) */
	{ "SIP/2.0 1000 Too Many Digits", EBADMSG, 0, false, 0, NULL, NULL, 0,
	  NULL },
	{ "SIP/2.0 4294967301 better not break the receiver", EBADMSG, 0, false,
	  0, NULL, NULL, 0, NULL },
	{ "SIP/2.0 20 OK", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/2.0 099 Low", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/2.0 700 High", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/2.0 2x0 OK", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/2.0 200OK", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/7.0 200 OK", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
	{ "SIP/2.0x 200 OK", EBADMSG, 0, false, 0, NULL, NULL, 0, NULL },
};


static void test_start_line(void **state)
{
	struct dec *d = dec_new();
	static char text[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(start_cases) / sizeof(start_cases[0]); i++) {
		const struct start_case *c = &start_cases[i];
		bool resp = !strncasecmp(c->line, "SIP/", 4);
		int n;

		n = snprintf(text, sizeof(text),
			     "%s\r\n%sContent-Length: 0\r\n\r\n", c->line,
			     resp ? RESP_HDRS : REQ_HDRS("INVITE"));
		assert_true(n > 0 && (size_t)n < sizeof(text));
		dec_str(d, text, true);
		if (d->rc != c->rc || (c->rc && d->err.scode != c->scode))
			fail_msg("\"%s\": rc %d scode %u (%s), expected rc %d "
				 "scode %u",
				 c->line, d->rc, d->err.scode,
				 d->err.reason ? d->err.reason : "-", c->rc,
				 c->scode);
		if (c->rc) {
			/* every refusal names its reason */
			assert_non_null(d->err.reason);
			continue;
		}
		assert_int_equal(d->err.scode, 0);
		assert_null(d->err.reason);
		assert_int_equal(d->msg.req, c->req);
		assert_pl_eq(&d->msg.start, c->line);
		if (c->req) {
			assert_int_equal(d->msg.meth, c->meth);
			assert_pl_eq(&d->msg.met, c->met);
			assert_pl_eq(&d->msg.ruri, c->ruri);
			assert_int_equal(d->msg.ver.l, 7);
		} else {
			assert_int_equal(d->msg.scode, c->code);
			assert_pl_eq(&d->msg.reason, c->reason);
		}
	}
	dec_free(d);
}


/* RFC 3261 7.5: CRLFs before the start line are ignored; a message with
 * no line end at all is dropped. */
static void test_start_line_edges(void **state)
{
	struct dec *d = dec_new();
	const char *s;

	(void)state;
	s = "\r\n\r\nOPTIONS sip:x@example.com SIP/2.0\r\n" REQ_HDRS(
		"OPTIONS") "Content-Length: 0\r\n\r\n";
	assert_int_equal(dec_str(d, s, true), 0);
	assert_pl_eq(&d->msg.start, "OPTIONS sip:x@example.com SIP/2.0");
	assert_int_equal(d->msg.meth, SIP_METHOD_OPTIONS);

	/* bare LF line ends are accepted (RFC 3261 7.5 recommends CRLF) */
	s = "OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP "
	    "h;branch=z9hG4bK1\n"
	    "CSeq: 1 OPTIONS\nContent-Length: 0\n\n";
	assert_int_equal(dec_str(d, s, true), 0);
	assert_int_equal(d->msg.hdrc, 3);
	assert_pl_eq(&d->msg.hdrv[1].val, "1 OPTIONS");

	assert_int_equal(dec_str(d, "OPTIONS sip:x@example.com SIP/2.0", true),
			 EBADMSG);
	assert_int_equal(d->err.scode, 0);
	assert_int_equal(dec_str(d, "\r\n\r\n", true), EBADMSG);
	assert_int_equal(d->err.scode, 0);
	assert_int_equal(dec_run(d, "", 0, true), EBADMSG);
	assert_int_equal(d->err.scode, 0);

	/* a start line and no empty line after the headers */
	assert_int_equal(
		dec_str(d, "OPTIONS sip:x SIP/2.0\r\nVia: x\r\n", true),
		EBADMSG);
	assert_int_equal(d->err.scode, 400);
	assert_non_null(d->err.reason);
	/* the same for a response: dropped, a response is never answered */
	assert_int_equal(dec_str(d, "SIP/2.0 200 OK\r\nVia: x\r\n", true),
			 EBADMSG);
	assert_int_equal(d->err.scode, 0);
	dec_free(d);
}


/* ---- header names ---- */

static const struct {
	const char *name;
	enum sip_hdr_id id;
} hdr_name_cases[] = {
	{ "Accept", SIP_HDR_ACCEPT },
	{ "Accept-Contact", SIP_HDR_ACCEPT_CONTACT },
	{ "Allow", SIP_HDR_ALLOW },
	{ "Allow-Events", SIP_HDR_ALLOW_EVENTS },
	{ "Authorization", SIP_HDR_AUTHORIZATION },
	{ "Call-ID", SIP_HDR_CALL_ID },
	{ "Contact", SIP_HDR_CONTACT },
	{ "Content-Disposition", SIP_HDR_CONTENT_DISPOSITION },
	{ "Content-Encoding", SIP_HDR_CONTENT_ENCODING },
	{ "Content-Length", SIP_HDR_CONTENT_LENGTH },
	{ "Content-Type", SIP_HDR_CONTENT_TYPE },
	{ "CSeq", SIP_HDR_CSEQ },
	{ "Date", SIP_HDR_DATE },
	{ "Event", SIP_HDR_EVENT },
	{ "Expires", SIP_HDR_EXPIRES },
	{ "From", SIP_HDR_FROM },
	{ "Max-Forwards", SIP_HDR_MAX_FORWARDS },
	{ "Min-Expires", SIP_HDR_MIN_EXPIRES },
	{ "P-Asserted-Identity", SIP_HDR_P_ASSERTED_IDENTITY },
	{ "P-Associated-URI", SIP_HDR_P_ASSOCIATED_URI },
	{ "P-Charging-Vector", SIP_HDR_P_CHARGING_VECTOR },
	{ "P-Preferred-Identity", SIP_HDR_P_PREFERRED_IDENTITY },
	{ "P-Served-User", SIP_HDR_P_SERVED_USER },
	{ "P-Visited-Network-ID", SIP_HDR_P_VISITED_NETWORK_ID },
	{ "Path", SIP_HDR_PATH },
	{ "Proxy-Authenticate", SIP_HDR_PROXY_AUTHENTICATE },
	{ "Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION },
	{ "Proxy-Require", SIP_HDR_PROXY_REQUIRE },
	{ "Record-Route", SIP_HDR_RECORD_ROUTE },
	{ "Refer-To", SIP_HDR_REFER_TO },
	{ "Require", SIP_HDR_REQUIRE },
	{ "Route", SIP_HDR_ROUTE },
	{ "Service-Route", SIP_HDR_SERVICE_ROUTE },
	{ "Session-Expires", SIP_HDR_SESSION_EXPIRES },
	{ "Subject", SIP_HDR_SUBJECT },
	{ "Subscription-State", SIP_HDR_SUBSCRIPTION_STATE },
	{ "Supported", SIP_HDR_SUPPORTED },
	{ "Timestamp", SIP_HDR_TIMESTAMP },
	{ "To", SIP_HDR_TO },
	{ "Unsupported", SIP_HDR_UNSUPPORTED },
	{ "User-Agent", SIP_HDR_USER_AGENT },
	{ "Via", SIP_HDR_VIA },
	{ "WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE },
	/* compact forms: RFC 3261 7.3.3 and 20, RFC 3265 (o, u), RFC 3515
	 * (r), RFC 3841 (a), RFC 4028 (x) */
	{ "a", SIP_HDR_ACCEPT_CONTACT },
	{ "c", SIP_HDR_CONTENT_TYPE },
	{ "e", SIP_HDR_CONTENT_ENCODING },
	{ "f", SIP_HDR_FROM },
	{ "i", SIP_HDR_CALL_ID },
	{ "k", SIP_HDR_SUPPORTED },
	{ "l", SIP_HDR_CONTENT_LENGTH },
	{ "m", SIP_HDR_CONTACT },
	{ "o", SIP_HDR_EVENT },
	{ "r", SIP_HDR_REFER_TO },
	{ "s", SIP_HDR_SUBJECT },
	{ "t", SIP_HDR_TO },
	{ "u", SIP_HDR_ALLOW_EVENTS },
	{ "v", SIP_HDR_VIA },
	{ "x", SIP_HDR_SESSION_EXPIRES },
	/* near misses and headers without an id */
	{ "Vias", SIP_HDR_OTHER },
	{ "Vi", SIP_HDR_OTHER },
	{ "Tox", SIP_HDR_OTHER },
	{ "Content-Lengt", SIP_HDR_OTHER },
	{ "Content-Lengths", SIP_HDR_OTHER },
	{ "P-Asserted-Identit", SIP_HDR_OTHER },
	{ "Call_ID", SIP_HDR_OTHER },
	{ "CallID", SIP_HDR_OTHER },
	{ "X-Custom", SIP_HDR_OTHER },
	{ "Security-Client", SIP_HDR_OTHER },
	{ "P-Access-Network-Info", SIP_HDR_OTHER },
	{ "b", SIP_HDR_OTHER },
	{ "z", SIP_HDR_OTHER },
	{ "C%6Fntact", SIP_HDR_OTHER },
};


/* The same name in another case: 0 lower, 1 upper, 2 alternating. */
static void case_variant(char *out, const char *in, int mode)
{
	size_t i;

	for (i = 0; in[i]; i++) {
		char c = in[i];
		bool up = mode == 1 || (mode == 2 && (i % 2) == 0);

		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		else if (!up && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		out[i] = c;
	}
	out[i] = '\0';
}


static void test_hdr_names(void **state)
{
	struct dec *d = dec_new();
	bool seen[SIP_HDR_NUM] = { false };
	char name[64], val[32], text[512];
	size_t i;
	int mode, id;

	(void)state;
	for (i = 0; i < sizeof(hdr_name_cases) / sizeof(hdr_name_cases[0]);
	     i++) {
		enum sip_hdr_id want = hdr_name_cases[i].id;

		seen[want] = true;
		for (mode = -1; mode < 3; mode++) {
			const struct sip_hdr *h;
			struct pl pl;
			int n;

			if (mode < 0)
				(void)snprintf(name, sizeof(name), "%s",
					       hdr_name_cases[i].name);
			else
				case_variant(name, hdr_name_cases[i].name,
					     mode);
			pl_set_str(&pl, name);
			if (sip_hdr_id_of(&pl) != want)
				fail_msg("sip_hdr_id_of(\"%s\") = %d, want %d",
					 name, sip_hdr_id_of(&pl), want);

			/* the same through the one-pass index, with and
			 * without whitespace before the colon (a length
			 * must be a number) */
			(void)snprintf(
				val, sizeof(val), "%zu%s", i,
				want == SIP_HDR_CONTENT_LENGTH ? "" : " value");
			n = snprintf(text, sizeof(text),
				     "OPTIONS sip:x SIP/2.0\r\n%s%s:  %s  "
				     "\r\nX-After: 1\r\n\r\n%*s",
				     name, mode == 2 ? " \t " : "", val,
				     want == SIP_HDR_CONTENT_LENGTH ? (int)i
								    : 0,
				     "");
			assert_true(n > 0 && (size_t)n < sizeof(text));
			if (dec_str(d, text, true))
				fail_msg("%s: %s", name, d->err.reason);
			assert_int_equal(d->msg.hdrc, 2);
			h = &d->msg.hdrv[0];
			assert_int_equal(h->id, want);
			assert_pl_eq(&h->name, name);
			assert_pl_eq(&h->val, val);
			if (want != SIP_HDR_OTHER) {
				assert_ptr_equal(sip_msg_hdr(&d->msg, want), h);
				assert_null(sip_msg_hdr_next(&d->msg, h));
				assert_int_equal(d->msg.nlines[want], 1);
				assert_ptr_equal(
					sip_msg_hdr_name(&d->msg, name), h);
			} else {
				assert_ptr_equal(
					sip_msg_hdr_name(&d->msg, name), h);
			}
		}
	}

	/* every id has a test row, and its canonical name maps back */
	for (id = SIP_HDR_OTHER + 1; id < SIP_HDR_NUM; id++) {
		struct pl pl;

		if (!seen[id])
			fail_msg("header id %d (%s) has no test row", id,
				 sip_hdr_name((enum sip_hdr_id)id));
		pl_set_str(&pl, sip_hdr_name((enum sip_hdr_id)id));
		assert_int_equal(sip_hdr_id_of(&pl), id);
	}
	/* names are compared a word at a time with OR 0x20, which maps CR
	 * onto '-': a name holding a CR (from configuration or iFC data,
	 * never from the index, where names are tokens) is no known name */
	{
		static const char *const cr_names[] = {
			"Call\rID",
			"Content\rLength",
			"P\rAsserted-Identity",
			"Max\rForwards",
			"\r",
		};

		for (i = 0; i < sizeof(cr_names) / sizeof(cr_names[0]); i++) {
			struct pl pl;

			pl_set_str(&pl, cr_names[i]);
			assert_int_equal(sip_hdr_id_of(&pl), SIP_HDR_OTHER);
		}
	}
	/* other octets that OR 0x20 would fold are not letters' cases */
	{
		static const char *const near[] = { "Vi\x01", "T\x0f",
						    "Fro\x0d", "CSe\x11" };

		for (i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
			struct pl pl;

			pl_set_str(&pl, near[i]);
			assert_int_equal(sip_hdr_id_of(&pl), SIP_HDR_OTHER);
		}
	}
	assert_string_equal(sip_hdr_name(SIP_HDR_OTHER), "");
	assert_string_equal(sip_hdr_name(SIP_HDR_NUM), "");
	assert_string_equal(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
	assert_string_equal(sip_hdr_name(SIP_HDR_WWW_AUTHENTICATE),
			    "WWW-Authenticate");
	dec_free(d);
}


static void test_method_names(void **state)
{
	static const char *const names[] = {
		"INVITE",  "ACK",     "BYE",     "CANCEL", "REGISTER",
		"OPTIONS", "INFO",    "UPDATE",  "PRACK",  "SUBSCRIBE",
		"NOTIFY",  "PUBLISH", "MESSAGE", "REFER",
	};
	struct pl pl;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pl_set_str(&pl, names[i]);
		assert_int_equal(sip_method_id(&pl), (int)i + 1);
		assert_string_equal(sip_method_name((enum sip_method)(i + 1)),
				    names[i]);
	}
	pl_set_str(&pl, "Invite");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set_str(&pl, "INVITEX");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set_str(&pl, "INVIT");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	/* RFC 3261 7.1: case-sensitive, at every length */
	pl_set_str(&pl, "REGISTEr");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set_str(&pl, "bye");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set_str(&pl, "SUBSCRIBe");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set_str(&pl, "CANCEl");
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	pl_set(&pl, "", 0);
	assert_int_equal(sip_method_id(&pl), SIP_METHOD_OTHER);
	assert_string_equal(sip_method_name(SIP_METHOD_OTHER), "");
	assert_string_equal(sip_method_name((enum sip_method)1000), "");

	assert_string_equal(sip_reason(200), "OK");
	assert_string_equal(sip_reason(404), "Not Found");
	assert_string_equal(sip_reason(505), "Version Not Supported");
	assert_string_equal(sip_reason(513), "Message Too Large");
	assert_non_null(sip_reason(499));
	assert_true(strlen(sip_reason(499)) > 0);
}


/* ---- the header index ---- */

static void test_hdr_index(void **state)
{
	struct dec *d = dec_new();
	const struct sip_hdr *h;
	const char *s;

	(void)state;
	s = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
	    "Max-Forwards: 70\r\n"
	    "v: SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n"
	    "Subject:\r\n"
	    "VIA  :   SIP/2.0/UDP c.example.com;branch=z9hG4bK3   \r\n"
	    "X-Foo: one\r\n"
	    "x-foo:two\r\n"
	    "X-Bar: three\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n";
	assert_int_equal(dec_str(d, s, true), 0);
	assert_int_equal(d->msg.hdrc, 9);
	assert_int_equal(d->msg.nlines[SIP_HDR_VIA], 3);
	assert_int_equal(d->msg.nlines[SIP_HDR_SUBJECT], 1);
	assert_int_equal(d->msg.nlines[SIP_HDR_CALL_ID], 0);
	assert_null(sip_msg_hdr(&d->msg, SIP_HDR_CALL_ID));

	/* the chain of Via lines, in order, across the other lines */
	h = sip_msg_hdr(&d->msg, SIP_HDR_VIA);
	assert_ptr_equal(h, &d->msg.hdrv[0]);
	assert_pl_eq(&h->name, "Via");
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[2]);
	assert_pl_eq(&h->name, "v");
	assert_pl_eq(&h->val, "SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[4]);
	assert_pl_eq(&h->name, "VIA");
	/* HCOLON = *( SP / HTAB ) ":" SWS; the value is trimmed */
	assert_pl_eq(&h->val, "SIP/2.0/UDP c.example.com;branch=z9hG4bK3");
	assert_null(sip_msg_hdr_next(&d->msg, h));

	/* an empty value */
	h = sip_msg_hdr(&d->msg, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->val.l, 0);

	/* unknown headers: by name, any case, then the next with that name */
	h = sip_msg_hdr_name(&d->msg, "X-FOO");
	assert_ptr_equal(h, &d->msg.hdrv[5]);
	assert_int_equal(h->id, SIP_HDR_OTHER);
	assert_pl_eq(&h->val, "one");
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[6]);
	assert_pl_eq(&h->name, "x-foo");
	assert_pl_eq(&h->val, "two");
	assert_null(sip_msg_hdr_next(&d->msg, h));
	h = sip_msg_hdr_name(&d->msg, "x-bar");
	assert_non_null(h);
	assert_pl_eq(&h->val, "three");
	assert_null(sip_msg_hdr_next(&d->msg, h));
	assert_null(sip_msg_hdr_name(&d->msg, "X-Baz"));
	assert_null(sip_msg_hdr_name(&d->msg, "X-Fo"));
	/* known names through sip_msg_hdr_name, long and compact */
	assert_ptr_equal(sip_msg_hdr_name(&d->msg, "via"), &d->msg.hdrv[0]);
	assert_ptr_equal(sip_msg_hdr_name(&d->msg, "V"), &d->msg.hdrv[0]);
	assert_ptr_equal(sip_msg_hdr_name(&d->msg, "max-forwards"),
			 &d->msg.hdrv[1]);
	assert_null(sip_msg_hdr_name(&d->msg, "Call-ID"));

	/* the raw header block spans from the end of the start line to the
	 * empty line */
	assert_ptr_equal(d->msg.hdrs.p, d->msg.start.p + d->msg.start.l);
	assert_ptr_equal(d->msg.hdrs.p + d->msg.hdrs.l, d->msg.body.p);
	assert_ptr_equal(d->msg.body.p, d->buf + strlen(s));
	dec_free(d);
}


/* RFC 3261 7.3.3: compact forms of headers without an id are found by
 * their long name and the other way round */
static void test_hdr_compact_other(void **state)
{
	struct dec *d = dec_new();
	const struct sip_hdr *h;

	(void)state;
	assert_int_equal(dec_str(d,
				 "MESSAGE sip:x SIP/2.0\r\n"
				 "Identity: one\r\n"
				 "b: <sip:a@example.com>\r\n"
				 "Y: two\r\n"
				 "X-Other: x\r\n"
				 "Referred-By: <sip:b@example.com>\r\n"
				 "identity: three\r\n"
				 "\r\n",
				 true),
			 0);
	h = sip_msg_hdr_name(&d->msg, "Identity");
	assert_ptr_equal(h, &d->msg.hdrv[0]);
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[2]);
	assert_pl_eq(&h->val, "two");
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[5]);
	assert_null(sip_msg_hdr_next(&d->msg, h));
	assert_ptr_equal(sip_msg_hdr_name(&d->msg, "y"), &d->msg.hdrv[0]);

	h = sip_msg_hdr_name(&d->msg, "referred-by");
	assert_ptr_equal(h, &d->msg.hdrv[1]);
	h = sip_msg_hdr_next(&d->msg, h);
	assert_ptr_equal(h, &d->msg.hdrv[4]);
	assert_null(sip_msg_hdr_next(&d->msg, h));
	assert_ptr_equal(sip_msg_hdr_name(&d->msg, "B"), &d->msg.hdrv[1]);

	/* no confusion with other unknown headers */
	assert_null(sip_msg_hdr_name(&d->msg, "Identity-Info"));
	assert_null(sip_msg_hdr_name(&d->msg, "n"));
	assert_null(sip_msg_hdr_name(&d->msg, "Reject-Contact"));
	h = sip_msg_hdr_name(&d->msg, "x-other");
	assert_ptr_equal(h, &d->msg.hdrv[3]);
	assert_null(sip_msg_hdr_next(&d->msg, h));
	dec_free(d);
}


static const struct {
	const char *text; /* everything after the start line */
	uint16_t scode;
} bad_hdr_cases[] = {
	{ "Via SIP/2.0/UDP h\r\n\r\n", 400 },   /* no colon */
	{ ": value\r\n\r\n", 400 },             /* empty name */
	{ "  : value\r\n\r\n", 400 },           /* LWS before any header */
	{ " Via: SIP/2.0/UDP h\r\n\r\n", 400 }, /* continuation first */
	{ "Bad Name: x\r\n\r\n", 400 },         /* SP inside the name */
	{ "Bad(Name): x\r\n\r\n", 400 },        /* not a token */
	{ "Via: x\r\nTo\r\n\r\n", 400 },        /* second line, no colon */
	{ "Via: x\r\n", 400 },                  /* no empty line */
	{ "Via: x\r\n\r", 400 },                /* CR without LF */
	{ "Via: x", 400 },                      /* no line end */
};


static void test_hdr_bad(void **state)
{
	struct dec *d = dec_new();
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_hdr_cases) / sizeof(bad_hdr_cases[0]); i++) {
		int n = snprintf(text, sizeof(text),
				 "OPTIONS sip:x SIP/2.0\r\n%s",
				 bad_hdr_cases[i].text);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		if (dec_str(d, text, true) != EBADMSG ||
		    d->err.scode != bad_hdr_cases[i].scode)
			fail_msg("case %zu: rc %d scode %u", i, d->rc,
				 d->err.scode);
		assert_non_null(d->err.reason);
	}
	dec_free(d);
}


/* ---- folding (RFC 3261 7.3.1) ---- */

static const struct {
	const char *hdrs;
	enum sip_hdr_id id;
	const char *val; /* the raw value: folded line ends stay inside */
	uint16_t hdrc;
} fold_cases[] = {
	{ "Subject: one\r\n two\r\n", SIP_HDR_SUBJECT, "one\r\n two", 1 },
	{ "Subject: one\r\n\ttwo\r\n", SIP_HDR_SUBJECT, "one\r\n\ttwo", 1 },
	{ "Subject: one  \r\n   two  \r\n", SIP_HDR_SUBJECT, "one  \r\n   two",
	  1 },
	{ "Subject:\r\n two\r\n", SIP_HDR_SUBJECT, "two", 1 },
	{ "Subject:   \r\n   \t two\r\n", SIP_HDR_SUBJECT, "two", 1 },
	{ "Subject: a\r\n b\r\n c\r\nX-Next: n\r\n", SIP_HDR_SUBJECT,
	  "a\r\n b\r\n c", 2 },
	{ "Subject: a\n b\n", SIP_HDR_SUBJECT, "a\n b", 1 },
	{ "Route: <sip:a@example.com;lr>,\r\n <sip:b@example.com;lr>\r\n",
	  SIP_HDR_ROUTE, "<sip:a@example.com;lr>,\r\n <sip:b@example.com;lr>",
	  1 },
	{ "X-New: newfangled value\r\n continued newfangled value\r\n",
	  SIP_HDR_OTHER, "newfangled value\r\n continued newfangled value", 1 },
	{ "Max-Forwards:\r\n 70\r\n", SIP_HDR_MAX_FORWARDS, "70", 1 },
};


static void test_folding(void **state)
{
	struct dec *d = dec_new();
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++) {
		const struct sip_hdr *h;
		int n = snprintf(text, sizeof(text),
				 "OPTIONS sip:x SIP/2.0\r\n%s\r\n",
				 fold_cases[i].hdrs);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		if (dec_str(d, text, true))
			fail_msg("case %zu: %s", i, d->err.reason);
		assert_int_equal(d->msg.hdrc, fold_cases[i].hdrc);
		h = &d->msg.hdrv[0];
		assert_int_equal(h->id, fold_cases[i].id);
		assert_pl_eq(&h->val, fold_cases[i].val);
	}

	/* a folded CSeq and Max-Forwards decode (RFC 4475 3.1.1.1) */
	assert_int_equal(dec_str(d,
				 "INVITE sip:x@example.com SIP/2.0\r\n"
				 "cseq: 0009\r\n  INVITE\r\n"
				 "MaX-fOrWaRdS:\r\n 0068\r\n\r\n",
				 true),
			 0);
	{
		const struct sip_cseq *cseq;
		uint32_t mf;

		assert_int_equal(sip_msg_cseq(&d->msg, &cseq), 0);
		assert_int_equal(cseq->num, 9);
		assert_int_equal(cseq->meth, SIP_METHOD_INVITE);
		assert_pl_eq(&cseq->met, "INVITE");
		assert_int_equal(sip_msg_maxfwd(&d->msg, &mf), 0);
		assert_int_equal(mf, 68);
	}
	dec_free(d);
}


/* ---- several values ---- */

static void expect_values(const struct sip_msg *msg, enum sip_hdr_id id,
			  const char *const *want, size_t n)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;
	size_t i = 0;

	while (sip_msg_hdr_value_next(msg, id, &it, &v)) {
		if (i >= n)
			fail_msg("extra value \"%.*s\"", PL_FMT(&v));
		assert_pl_eq(&v, want[i]);
		i++;
	}
	assert_int_equal(i, n);
	/* the iterator stays ended */
	assert_false(sip_msg_hdr_value_next(msg, id, &it, &v));
}


static void test_values(void **state)
{
	static const char *const routes[] = {
		"<sip:p1.example.com;lr>",
		"<sip:p2.example.com;lr>",
		"<sip:p3.example.com;lr>",
		"<sip:p4.example.com;lr;x=\"a,b\">",
	};
	static const char *const contacts[] = {
		"\"Doe, John\" <sip:john@example.com>;q=0.5",
		"<sip:a@example.com;x=1,2>;expires=60",
		"\"say \\\"hi, there\\\"\" <sip:b@example.com>",
		"sip:c@example.com",
	};
	static const char *const accepts[] = {
		"application/sdp", "application/pkcs7-mime",
		"multipart/mixed", "multipart/signed",
		"message/sip",     "message/sipfrag",
	};
	static const char *const empties[] = { "a", "", "b", "", "", "c", "" };
	struct dec *d = dec_new();

	(void)state;
	assert_int_equal(
		dec_str(d,
			"OPTIONS sip:x SIP/2.0\r\n"
			"Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>"
			"\r\n"
			"To: <sip:x@example.com>\r\n"
			"Route:   <sip:p3.example.com;lr>  ,\r\n"
			"  <sip:p4.example.com;lr;x=\"a,b\">\r\n"
			"Contact: \"Doe, John\" <sip:john@example.com>;q=0.5, "
			"<sip:a@example.com;x=1,2>;expires=60\r\n"
			"m: \"say \\\"hi, there\\\"\" <sip:b@example.com>,"
			"sip:c@example.com\r\n"
			"Accept: application/sdp, application/pkcs7-mime,\r\n"
			"        multipart/mixed, multipart/signed,\r\n"
			"        message/sip, message/sipfrag\r\n"
			"Require: a,,b,\r\n"
			"Require:\r\n"
			"Require: c,\r\n"
			"\r\n",
			true),
		0);
	expect_values(&d->msg, SIP_HDR_ROUTE, routes, 4);
	expect_values(&d->msg, SIP_HDR_CONTACT, contacts, 4);
	expect_values(&d->msg, SIP_HDR_ACCEPT, accepts, 6);
	/* empty values are returned so the caller can refuse them */
	expect_values(&d->msg, SIP_HDR_REQUIRE, empties, 7);
	expect_values(&d->msg, SIP_HDR_VIA, NULL, 0);
	dec_free(d);
}


static void test_value_split(void **state)
{
	struct pl rest, v;
	char *buf;

	(void)state;
	/* the input ends exactly at the end of its block */
	buf = tail_dup("a , \"b,\\\"c\" <d,e> , f", 21);
	pl_set(&rest, buf, 21);
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "a");
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "\"b,\\\"c\" <d,e>");
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "f");
	assert_false(sip_value_split(&rest, &v));
	free(buf);

	/* an unterminated quote swallows the rest, without over-reading */
	buf = tail_dup("\"a,b\\", 5);
	pl_set(&rest, buf, 5);
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "\"a,b\\");
	assert_false(sip_value_split(&rest, &v));
	free(buf);

	/* '>' without '<' does not unbalance anything */
	buf = tail_dup("a>,b", 4);
	pl_set(&rest, buf, 4);
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "a>");
	assert_true(sip_value_split(&rest, &v));
	assert_pl_eq(&v, "b");
	assert_false(sip_value_split(&rest, &v));
	free(buf);

	pl_set(&rest, NULL, 0);
	assert_false(sip_value_split(&rest, &v));
}


/* ---- Content-Length ---- */

static const struct {
	const char *text;
	bool dgram;
	int rc;
	uint16_t scode;
	const char *body; /* on success */
	size_t ignored;   /* trailing octets left out of msg->len */
} clen_cases[] = {
	/* datagram without Content-Length: the body is the rest (RFC 3261
	 * 18.3, RFC 4475 3.4.1) */
	{ "MESSAGE sip:x SIP/2.0\r\nVia: x\r\n\r\nhello\r\n", true, 0, 0,
	  "hello\r\n", 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nVia: x\r\n\r\n", true, 0, 0, "", 0 },
	/* exact */
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 5\r\n\r\nhello", true, 0, 0,
	  "hello", 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nl:5\r\n\r\nhello", false, 0, 0, "hello",
	  0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length:   00005   \r\n\r\nhello",
	  true, 0, 0, "hello", 0 },
	/* trailing octets in a datagram are ignored (RFC 3261 18.3, RFC 4475
	 * 3.1.1.8) */
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\nhello", true, 0, 0,
	  "", 5 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 3\r\n\r\nhello", true, 0, 0,
	  "hel", 2 },
	/* two equal values agree */
	{ "MESSAGE sip:x SIP/2.0\r\nl: 5\r\nContent-Length: 5\r\n\r\nhello",
	  true, 0, 0, "hello", 0 },
	/* larger than the message: 400 (RFC 4475 3.1.2.2) */
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 6\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 4294967295\r\n\r\nhello",
	  true, EBADMSG, 400, NULL, 0 },
	/* conflicting values (RFC 4475 3.3.9) */
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 5\r\nl: 3\r\n\r\nhello",
	  true, EBADMSG, 400, NULL, 0 },
	/* negative (RFC 4475 3.1.2.3), not a number, overflowing */
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: -0\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: five\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 5 5\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length:\r\n\r\nhello", true,
	  EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: 4294967296\r\n\r\nhello",
	  true, EBADMSG, 400, NULL, 0 },
	{ "MESSAGE sip:x SIP/2.0\r\nContent-Length: "
	  "36893488147419103232\r\n\r\nhello",
	  true, EBADMSG, 400, NULL, 0 },
	/* responses with a bad length are dropped */
	{ "SIP/2.0 200 OK\r\nContent-Length: 6\r\n\r\nhello", true, EBADMSG, 0,
	  NULL, 0 },
	{ "SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\nhello", true, EBADMSG, 0,
	  NULL, 0 },
	{ "SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\nhello", true,
	  EBADMSG, 0, NULL, 0 },
};


static void test_clen(void **state)
{
	struct dec *d = dec_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(clen_cases) / sizeof(clen_cases[0]); i++) {
		size_t n = strlen(clen_cases[i].text);
		uint32_t cl;

		dec_run(d, clen_cases[i].text, n, clen_cases[i].dgram);
		if (d->rc != clen_cases[i].rc ||
		    (d->rc && d->err.scode != clen_cases[i].scode))
			fail_msg("case %zu: rc %d scode %u (%s)", i, d->rc,
				 d->err.scode,
				 d->err.reason ? d->err.reason : "-");
		if (d->rc) {
			assert_non_null(d->err.reason);
			continue;
		}
		assert_pl_eq(&d->msg.body, clen_cases[i].body);
		assert_int_equal(d->msg.len, n - clen_cases[i].ignored);
		assert_ptr_equal(d->msg.body.p + d->msg.body.l,
				 d->msg.p + d->msg.len);
		assert_int_equal(sip_msg_clen(&d->msg, &cl), 0);
		assert_int_equal(cl, strlen(clen_cases[i].body));
	}
	dec_free(d);
}


/* ---- limits ---- */

static char *big_msg(unsigned nhdrs, bool fold, size_t *lenp)
{
	struct buf *mb;
	char *p;
	unsigned i;

	assert_int_equal(buf_alloc(&mb, 4096, 1 << 20), 0);
	assert_int_equal(buf_write_str(mb, "OPTIONS sip:x SIP/2.0\r\n"), 0);
	for (i = 0; i < nhdrs; i++) {
		assert_int_equal(buf_printf(mb, "X-H%u: %u\r\n", i, i), 0);
		if (fold)
			assert_int_equal(buf_write_str(mb, " folded\r\n"), 0);
	}
	assert_int_equal(buf_write_str(mb, "\r\n"), 0);
	p = tail_dup((const char *)mb->b, mb->end);
	*lenp = mb->end;
	mem_deref(mb);
	return p;
}


static void test_hdr_max(void **state)
{
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	struct sip_msg_err err;
	size_t len;
	char *p;

	(void)state;
	assert_non_null(msg);
	p = big_msg(SIP_HDR_MAX, false, &len);
	assert_int_equal(sip_msg_decode(msg, p, len, true, &err), 0);
	assert_int_equal(msg->hdrc, SIP_HDR_MAX);
	assert_non_null(sip_msg_hdr_name(msg, "X-H127"));
	free(p);

	/* folded lines are part of their header, not new ones */
	p = big_msg(SIP_HDR_MAX, true, &len);
	assert_int_equal(sip_msg_decode(msg, p, len, true, &err), 0);
	assert_int_equal(msg->hdrc, SIP_HDR_MAX);
	assert_pl_eq(&msg->hdrv[3].val, "3\r\n folded");
	free(p);

	p = big_msg(SIP_HDR_MAX + 1, false, &len);
	assert_int_equal(sip_msg_decode(msg, p, len, true, &err), EBADMSG);
	assert_int_equal(err.scode, 513);
	assert_non_null(err.reason);
	free(p);

	p = big_msg(1000, true, &len);
	assert_int_equal(sip_msg_decode(msg, p, len, true, &err), EBADMSG);
	assert_int_equal(err.scode, 513);
	free(p);
	free(msg);
}


static char *sized_msg(size_t total, size_t *lenp)
{
	static const char head[] = "MESSAGE sip:x SIP/2.0\r\nContent-Length: ";
	char hdr[128];
	size_t hl, body, i;
	char *p;
	int n;

	/* the length of the digits changes the header size: iterate */
	body = total - sizeof(head) - 10;
	for (i = 0; i < 3; i++) {
		n = snprintf(hdr, sizeof(hdr), "%s%zu\r\n\r\n", head, body);
		assert_true(n > 0);
		hl = (size_t)n;
		body = total - hl;
	}
	n = snprintf(hdr, sizeof(hdr), "%s%zu\r\n\r\n", head, body);
	hl = (size_t)n;
	assert_int_equal(hl + body, total);
	p = malloc(total);
	assert_non_null(p);
	memcpy(p, hdr, hl);
	memset(p + hl, 'b', body);
	*lenp = total;
	return p;
}


static void test_msg_max(void **state)
{
	struct dec *d = dec_new();
	size_t len, msglen, skip;
	char *p;

	(void)state;
	p = sized_msg(SIP_MSG_MAX, &len);
	assert_int_equal(dec_run(d, p, len, true), 0);
	assert_int_equal(d->msg.len, SIP_MSG_MAX);
	assert_int_equal(sip_msg_frame(d->buf, len, &msglen, &skip), 0);
	assert_int_equal(msglen, SIP_MSG_MAX);
	free(p);

	p = sized_msg(SIP_MSG_MAX + 1, &len);
	assert_int_equal(dec_run(d, p, len, true), EBADMSG);
	assert_int_equal(d->err.scode, 513);
	assert_int_equal(sip_msg_frame(d->buf, len, &msglen, &skip), EMSGSIZE);
	/* the same size as a response: dropped, not answered */
	memcpy(p, "SIP/2.0 200 OK\r\nX:", 19);
	assert_int_equal(dec_run(d, p, len, true), EBADMSG);
	assert_int_equal(d->err.scode, 0);
	free(p);
	dec_free(d);
}


/* ---- stream framing ---- */

#define FRAME_MSG1                                                \
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" REQ_HDRS( \
		"INVITE") "Content-Type: text/plain\r\n"          \
			  "Content-Length: 12\r\n"                \
			  "\r\n"                                  \
			  "\r\n\r\nbody\r\n\r\n"
#define FRAME_MSG2                                             \
	"BYE sip:bob@biloxi.example.com SIP/2.0\r\n" REQ_HDRS( \
		"BYE") "l: 0\r\n"                              \
		       "\r\n"


static int frame_str(const char *s, size_t n, size_t *msglen, size_t *skip)
{
	char *p = tail_dup(s, n);
	int err;

	*msglen = 0;
	err = sip_msg_frame(p, n, msglen, skip);
	free(p);
	return err;
}


/* frame a string literal */
#define FRS(lit) frame_str(lit, sizeof(lit) - 1, &msglen, &skip)

static void test_frame(void **state)
{
	static const char two[] = FRAME_MSG1 FRAME_MSG2;
	const size_t l1 = strlen(FRAME_MSG1), l2 = strlen(FRAME_MSG2);
	struct dec *d = dec_new();
	size_t msglen, skip, i;

	(void)state;
	/* a whole message, and each of its prefixes: need more */
	assert_int_equal(frame_str(FRAME_MSG1, l1, &msglen, &skip), 0);
	assert_int_equal(msglen, l1);
	assert_int_equal(skip, 0);
	for (i = 0; i < l1; i++)
		if (frame_str(FRAME_MSG1, i, &msglen, &skip) != ENODATA)
			fail_msg("prefix %zu of %zu: not ENODATA", i, l1);

	/* two messages back to back */
	assert_int_equal(frame_str(two, sizeof(two) - 1, &msglen, &skip), 0);
	assert_int_equal(msglen, l1);
	assert_int_equal(dec_run(d, two, msglen, false), 0);
	assert_int_equal(d->msg.meth, SIP_METHOD_INVITE);
	assert_pl_eq(&d->msg.body, "\r\n\r\nbody\r\n\r\n");
	assert_int_equal(frame_str(two + l1, l2, &msglen, &skip), 0);
	assert_int_equal(msglen, l2);
	assert_int_equal(dec_run(d, two + l1, msglen, false), 0);
	assert_int_equal(d->msg.meth, SIP_METHOD_BYE);

	/* RFC 5626 4.4.1 keep-alives before a message */
	{
		static const char ka[] = "\r\n\r\n\r\n" FRAME_MSG2;

		assert_int_equal(frame_str(ka, sizeof(ka) - 1, &msglen, &skip),
				 0);
		assert_int_equal(skip, 6);
		assert_int_equal(msglen, l2);
		assert_int_equal(FRS("\r\n\r\n"), ENODATA);
		assert_int_equal(skip, 4);
		assert_int_equal(FRS("\r\n"), ENODATA);
		assert_int_equal(skip, 2);
		assert_int_equal(FRS(""), ENODATA);
		assert_int_equal(skip, 0);
	}

	/* RFC 3261 18.3: Content-Length is mandatory on streams */
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n"),
			 EBADMSG);
	/* malformed, negative, conflicting lengths lose the framing */
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nl: -1\r\n\r\n"),
			 EBADMSG);
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nl: x\r\n\r\n"), EBADMSG);
	assert_int_equal(
		FRS("OPTIONS sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 2"
		    "\r\n\r\nab"),
		EBADMSG);
	/* equal duplicates, compact and odd case, LF-only lines */
	assert_int_equal(
		FRS("OPTIONS sip:x SIP/2.0\nL:2\ncontent-LENGTH :  2 \n\nab"),
		0);
	assert_int_equal(msglen, 50);
	/* a folded Content-Length value (RFC 3261 7.3.1 allows it) */
	{
		static const char f[] = "OPTIONS sip:x SIP/2.0\r\n"
					"Content-Length:\r\n 2\r\n\r\nab";

		assert_int_equal(frame_str(f, sizeof(f) - 1, &msglen, &skip),
				 0);
		assert_int_equal(msglen, sizeof(f) - 1);
		assert_int_equal(dec_run(d, f, msglen, false), 0);
		assert_pl_eq(&d->msg.body, "ab");
	}
	/* a header named like the compact form inside a value is not one */
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nX: l: 9\r\nl: 0\r\n"
			     "\r\n"),
			 0);
	assert_int_equal(msglen, 40);

	/* limits */
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nl: 70000\r\n\r\n"),
			 EMSGSIZE);
	assert_int_equal(
		FRS("OPTIONS sip:x SIP/2.0\r\nl: 99999999999999999999999\r\n"
		    "\r\n"),
		EMSGSIZE);
	assert_int_equal(FRS("OPTIONS sip:x SIP/2.0\r\nl: 65535\r\n\r\n"),
			 EMSGSIZE);
	{
		/* no end of headers within SIP_MSG_MAX bytes */
		size_t n = SIP_MSG_MAX + 100;
		char *p = malloc(n);

		assert_non_null(p);
		memcpy(p, "OPTIONS sip:x SIP/2.0\r\nX: ", 26);
		memset(p + 26, 'a', n - 26);
		assert_int_equal(sip_msg_frame(p, n, &msglen, &skip), EMSGSIZE);
		/* below the limit it is only incomplete */
		assert_int_equal(sip_msg_frame(p, 1000, &msglen, &skip),
				 ENODATA);
		free(p);
	}
	dec_free(d);
}


/* ---- validation ---- */

struct val_case {
	const char *text;
	int rc;
	uint16_t scode;
	const char *reason; /* substring of the reason phrase */
};

#define INV "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
#define VIA "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK77\r\n"
#define MF  "Max-Forwards: 70\r\n"
#define TO  "To: Bob <sip:bob@biloxi.example.com>\r\n"
#define FR  "From: Alice <sip:alice@atlanta.example.com>;tag=19283\r\n"
#define CID "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
#define CSQ "CSeq: 314159 INVITE\r\n"
#define END "Content-Length: 0\r\n\r\n"

static const struct val_case val_cases[] = {
	{ INV VIA MF TO FR CID CSQ END, 0, 0, NULL },
	/* Max-Forwards is not mandatory for the parser (RFC 2543 senders) */
	{ INV VIA TO FR CID CSQ END, 0, 0, NULL },
	/* missing mandatory headers (RFC 3261 8.1.1) */
	{ INV MF TO FR CID CSQ END, EBADMSG, 0, "Via" },
	{ INV VIA MF TO CID CSQ END, EBADMSG, 400, "From" },
	{ INV VIA MF FR CID CSQ END, EBADMSG, 400, "To" },
	{ INV VIA MF TO FR CSQ END, EBADMSG, 400, "Call-ID" },
	{ INV VIA MF TO FR CID END, EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR "Call-ID:\r\n" CSQ END, EBADMSG, 400, "Call-ID" },
	/* a single header twice (RFC 3261 7.3.1, RFC 4475 3.3.8) */
	{ INV VIA MF TO FR CID CID CSQ END, EBADMSG, 400, "Call-ID" },
	{ INV VIA MF TO FR CID CSQ CSQ END, EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR FR CID CSQ END, EBADMSG, 400, "From" },
	{ INV VIA MF TO "t: <sip:x@example.com>\r\n" FR CID CSQ END, EBADMSG,
	  400, "To" },
	{ INV VIA MF MF TO FR CID CSQ END, EBADMSG, 400, "Max-Forwards" },
	{ INV VIA MF TO FR CID CSQ "Expires: 1\r\nExpires: 1\r\n" END, EBADMSG,
	  400, "Expires" },
	{ INV VIA MF TO FR CID CSQ "c: text/plain\r\nContent-Type: a/b\r\n" END,
	  EBADMSG, 400, "Content-Type" },
	/* multi-valued headers may repeat */
	{ INV VIA VIA MF TO FR CID CSQ "Route: <sip:a;lr>\r\nRoute: <sip:b;lr>"
				       "\r\n" END,
	  0, 0, NULL },
	/* CSeq method (RFC 3261 8.2.2... / RFC 4475 3.1.2.17-18) */
	{ "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n" VIA MF TO FR CID CSQ
		  END,
	  EBADMSG, 400, "CSeq" },
	{ "NEWMETHOD sip:bob@biloxi.example.com SIP/2.0\r\n" VIA MF TO FR CID
		  CSQ END,
	  EBADMSG, 501, NULL },
	{ "NEWMETHOD sip:bob@biloxi.example.com SIP/2.0\r\n" VIA MF TO FR CID
	  "CSeq: 1 NEWMETHOD\r\n" END,
	  0, 0, NULL },
	{ "NEWMETHOD sip:bob@biloxi.example.com SIP/2.0\r\n" VIA MF TO FR CID
	  "CSeq: 1 OTHERMETHOD\r\n" END,
	  EBADMSG, 400, "CSeq" },
	/* method names are case-sensitive: "invite" does not match */
	{ INV VIA MF TO FR CID "CSeq: 1 invite\r\n" END, EBADMSG, 400, "CSeq" },
	/* CSeq syntax and range (RFC 3261 8.1.1.5: below 2^31) */
	{ INV VIA MF TO FR CID "CSeq: 2147483647 INVITE\r\n" END, 0, 0, NULL },
	{ INV VIA MF TO FR CID "CSeq: 0 INVITE\r\n" END, 0, 0, NULL },
	{ INV VIA MF TO FR CID "CSeq: 2147483648 INVITE\r\n" END, EBADMSG, 400,
	  "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: 4294967296 INVITE\r\n" END, EBADMSG, 400,
	  "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: 36893488147419103232 INVITE\r\n" END,
	  EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: -1 INVITE\r\n" END, EBADMSG, 400,
	  "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: INVITE\r\n" END, EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: 1\r\n" END, EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: 1INVITE\r\n" END, EBADMSG, 400, "CSeq" },
	{ INV VIA MF TO FR CID "CSeq: 1 INVITE x\r\n" END, EBADMSG, 400,
	  "CSeq" },
	/* Max-Forwards 0..255 (RFC 3261 20.22) */
	{ INV VIA "Max-Forwards: 0\r\n" TO FR CID CSQ END, 0, 0, NULL },
	{ INV VIA "Max-Forwards: 255\r\n" TO FR CID CSQ END, 0, 0, NULL },
	{ INV VIA "Max-Forwards: 256\r\n" TO FR CID CSQ END, EBADMSG, 400,
	  "Max-Forwards" },
	{ INV VIA "Max-Forwards: 4294967296\r\n" TO FR CID CSQ END, EBADMSG,
	  400, "Max-Forwards" },
	{ INV VIA "Max-Forwards: seventy\r\n" TO FR CID CSQ END, EBADMSG, 400,
	  "Max-Forwards" },
	{ INV VIA "Max-Forwards:\r\n" TO FR CID CSQ END, EBADMSG, 400,
	  "Max-Forwards" },
	/* Expires: delta-seconds, 32 bits (RFC 3261 20.19, RFC 4475 3.1.2.4)
	 */
	{ INV VIA MF TO FR CID CSQ "Expires: 4294967295\r\n" END, 0, 0, NULL },
	{ INV VIA MF TO FR CID CSQ "Expires: 4294967296\r\n" END, EBADMSG, 400,
	  "Expires" },
	{ INV VIA MF TO FR CID CSQ "Expires: 1000000000000000000000000\r\n" END,
	  EBADMSG, 400, "Expires" },
	{ INV VIA MF TO FR CID CSQ "Expires: -1\r\n" END, EBADMSG, 400,
	  "Expires" },
	/* Via values (RFC 4475 3.1.2.1) */
	{ INV "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,,\r\n" MF TO FR
		  CID CSQ END,
	  EBADMSG, 400, "Via" },
	{ INV "Via:\r\n" MF TO FR CID CSQ END, EBADMSG, 400, "Via" },
	{ INV "Via: not a via\r\n" MF TO FR CID CSQ END, EBADMSG, 400, "Via" },
	/* an empty value on a line below a good one, at the start of a line,
	 * between two values; a comma inside a quoted parameter value splits
	 * nothing; several good values and lines */
	{ INV VIA "Via:\r\n" MF TO FR CID CSQ END, EBADMSG, 400,
	  "Empty Via Value" },
	{ INV VIA "Via: , SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n" MF TO
		  FR CID CSQ END,
	  EBADMSG, 400, "Empty Via Value" },
	{ INV "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , , SIP/2.0/UDP "
	      "b.example.com;branch=z9hG4bK2\r\n" MF TO FR CID CSQ END,
	  EBADMSG, 400, "Empty Via Value" },
	{ INV
	  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;x=\"p,q\"\r\n" MF TO
		  FR CID CSQ END,
	  0, 0, NULL },
	{ INV "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP "
	      "b.example.com;branch=z9hG4bK2\r\n" VIA MF TO FR CID CSQ END,
	  0, 0, NULL },
	/* malformed From / To / Request-URI */
	{ INV VIA MF
	  "To: \"unterminated <sip:x@example.com>\r\n" FR CID CSQ END,
	  EBADMSG, 400, "To" },
	{ INV VIA MF TO "From: <sip:alice@atlanta.example.com\r\n" CID CSQ END,
	  EBADMSG, 400, "From" },
	{ "INVITE sip:bob@[::1 SIP/2.0\r\n" VIA MF TO FR CID CSQ END, EBADMSG,
	  400, "Request-URI" },
	/* RFC 3261 19.1.1: headers are not allowed in a Request-URI
	 * (RFC 4475 3.1.2.11) */
	{ "INVITE sip:bob@biloxi.example.com?Route=%3Csip:x%3E SIP/2.0\r\n" VIA
		  MF TO FR CID CSQ END,
	  EBADMSG, 400, "Request-URI" },

	/* responses: malformed ones are dropped, never answered */
	{ "SIP/2.0 200 OK\r\n" VIA TO FR CID CSQ END, 0, 0, NULL },
	{ "SIP/2.0 200 OK\r\n" TO FR CID CSQ END, EBADMSG, 0, "Via" },
	{ "SIP/2.0 200 OK\r\n" VIA TO CID CSQ END, EBADMSG, 0, "From" },
	{ "SIP/2.0 200 OK\r\n" VIA TO FR CSQ END, EBADMSG, 0, "Call-ID" },
	{ "SIP/2.0 200 OK\r\n" VIA TO FR CID CSQ CSQ END, EBADMSG, 0, "CSeq" },
	{ "SIP/2.0 200 OK\r\n" VIA TO FR CID
	  "CSeq: 9292394834772304023312 OPTIONS\r\n" END,
	  EBADMSG, 0, "CSeq" },
	/* a response's CSeq method is not compared with anything */
	{ "SIP/2.0 200 OK\r\n" VIA TO FR CID "CSeq: 1 BYE\r\n" END, 0, 0,
	  NULL },
};


/* RFC 3261 21.4.15: an over-long Request-URI gets 414 */
static void test_validate_long_ruri(void **state)
{
	static const char tail[] = " SIP/2.0\r\n" VIA MF TO FR CID CSQ END;
	struct dec *d = dec_new();
	size_t n = 7 + 5000 + sizeof(tail) - 1;
	char *text = malloc(n);

	(void)state;
	assert_non_null(text);
	memcpy(text, "INVITE sip:", 11);
	memset(text + 11, 'a', 5000 - 4 - 12);
	memcpy(text + 7 + 5000 - 12, "@example.com", 12);
	memcpy(text + 7 + 5000, tail, sizeof(tail) - 1);
	assert_int_equal(dec_run(d, text, n, true), 0);
	assert_int_equal(d->msg.ruri.l, 5000);
	assert_int_equal(sip_msg_validate(&d->msg, &d->err), EBADMSG);
	assert_int_equal(d->err.scode, 414);
	free(text);
	dec_free(d);
}


static void test_validate(void **state)
{
	struct dec *d = dec_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(val_cases) / sizeof(val_cases[0]); i++) {
		const struct val_case *c = &val_cases[i];

		if (dec_str(d, c->text, true))
			fail_msg("case %zu does not decode: %s", i,
				 d->err.reason);
		d->err.scode = 999;
		d->err.reason = NULL;
		d->rc = sip_msg_validate(&d->msg, &d->err);
		if (d->rc != c->rc || (c->rc && d->err.scode != c->scode))
			fail_msg("case %zu: rc %d scode %u (%s), want rc %d "
				 "scode %u",
				 i, d->rc, d->err.scode,
				 d->err.reason ? d->err.reason : "-", c->rc,
				 c->scode);
		if (!c->rc)
			continue;
		assert_non_null(d->err.reason);
		if (c->reason && !strstr(d->err.reason, c->reason))
			fail_msg("case %zu: reason \"%s\" does not name \"%s\"",
				 i, d->err.reason, c->reason);
		/* a second run gives the same verdict (cached views) */
		{
			struct sip_msg_err e2 = { 0 };

			assert_int_equal(sip_msg_validate(&d->msg, &e2), c->rc);
			assert_int_equal(e2.scode, d->err.scode);
		}
	}
	dec_free(d);
}


/* ---- typed accessors ---- */

static void test_accessors(void **state)
{
	struct dec *d = dec_new();
	const struct sip_cseq *cseq, *cseq2;
	const struct sip_addr *a, *a2;
	const struct sip_via *via, *via2;
	const struct sip_uri *uri;
	struct pl cid;
	uint32_t u;

	(void)state;
	assert_int_equal(
		dec_str(d,
			"INVITE sip:bob@biloxi.example.com;transport=tcp "
			"SIP/2.0\r\n"
			"Via: SIP/2.0/TCP client.atlanta.example.com:5060;"
			"branch=z9hG4bK74bf9;rport, SIP/2.0/UDP other\r\n"
			"Max-Forwards: 70\r\n"
			"From: Alice "
			"<sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
			"To: \"Bob\" <sip:bob@biloxi.example.com>\r\n"
			"Call-ID: 3848276298220188511@atlanta.example.com\r\n"
			"CSeq: 2 INVITE\r\n"
			"Expires: 120\r\n"
			"Require: 100rel, Timer\r\n"
			"Supported: path\r\n"
			"k: gruu,outbound\r\n"
			"Content-Length: 0\r\n\r\n",
			true),
		0);
	assert_int_equal(d->msg.parsed & ~SIP_PARSED_CLEN, 0);

	assert_int_equal(sip_msg_via(&d->msg, &via), 0);
	assert_true(d->msg.parsed & SIP_PARSED_VIA);
	assert_pl_eq(&via->transp, "TCP");
	assert_int_equal(via->tp, SIP_TRANSP_TCP);
	assert_pl_eq(&via->host, "client.atlanta.example.com");
	assert_int_equal(via->port, 5060);
	assert_pl_eq(&via->branch, "z9hG4bK74bf9");
	assert_true(via->has_rport);
	assert_int_equal(via->rport.l, 0);
	assert_true(sip_via_branch_3261(via));
	assert_int_equal(sip_msg_via(&d->msg, &via2), 0);
	assert_ptr_equal(via, via2);

	assert_int_equal(sip_msg_from(&d->msg, &a), 0);
	assert_pl_eq(&a->tag, "9fxced76sl");
	assert_pl_eq(&a->uri.user, "alice");
	assert_int_equal(sip_msg_from(&d->msg, &a2), 0);
	assert_ptr_equal(a, a2);
	assert_int_equal(sip_msg_to(&d->msg, &a), 0);
	assert_int_equal(a->tag.l, 0);
	assert_pl_eq(&a->dname, "\"Bob\"");

	assert_int_equal(sip_msg_cseq(&d->msg, &cseq), 0);
	assert_int_equal(cseq->num, 2);
	assert_int_equal(cseq->meth, SIP_METHOD_INVITE);
	assert_int_equal(sip_msg_cseq(&d->msg, &cseq2), 0);
	assert_ptr_equal(cseq, cseq2);

	assert_int_equal(sip_msg_ruri(&d->msg, &uri), 0);
	assert_int_equal(uri->sch, SIP_SCHEME_SIP);
	assert_pl_eq(&uri->user, "bob");
	assert_pl_eq(&uri->host, "biloxi.example.com");
	assert_pl_eq(&uri->params, ";transport=tcp");

	assert_int_equal(sip_msg_callid(&d->msg, &cid), 0);
	assert_pl_eq(&cid, "3848276298220188511@atlanta.example.com");
	assert_int_equal(sip_msg_maxfwd(&d->msg, &u), 0);
	assert_int_equal(u, 70);
	assert_int_equal(sip_msg_expires(&d->msg, &u), 0);
	assert_int_equal(u, 120);
	assert_int_equal(sip_msg_clen(&d->msg, &u), 0);
	assert_int_equal(u, 0);

	/* option tags compare case-insensitively (RFC 3261 19.2), across
	 * lines and compact forms */
	assert_true(sip_msg_has_tag(&d->msg, SIP_HDR_REQUIRE, "100rel"));
	assert_true(sip_msg_has_tag(&d->msg, SIP_HDR_REQUIRE, "timer"));
	assert_false(sip_msg_has_tag(&d->msg, SIP_HDR_REQUIRE, "path"));
	assert_true(sip_msg_has_tag(&d->msg, SIP_HDR_SUPPORTED, "path"));
	assert_true(sip_msg_has_tag(&d->msg, SIP_HDR_SUPPORTED, "outbound"));
	assert_false(sip_msg_has_tag(&d->msg, SIP_HDR_SUPPORTED, "out"));
	assert_false(sip_msg_has_tag(&d->msg, SIP_HDR_PROXY_REQUIRE, "path"));

	assert_int_equal(d->msg.parsed & (SIP_PARSED_VIA | SIP_PARSED_FROM |
					  SIP_PARSED_TO | SIP_PARSED_CSEQ |
					  SIP_PARSED_RURI | SIP_PARSED_MAXFWD |
					  SIP_PARSED_EXPIRES),
			 SIP_PARSED_VIA | SIP_PARSED_FROM | SIP_PARSED_TO |
				 SIP_PARSED_CSEQ | SIP_PARSED_RURI |
				 SIP_PARSED_MAXFWD | SIP_PARSED_EXPIRES);

	/* absent headers, and a response has no Request-URI */
	assert_int_equal(
		dec_str(d, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", true),
		0);
	assert_int_equal(sip_msg_via(&d->msg, &via), ENOENT);
	assert_int_equal(sip_msg_from(&d->msg, &a), ENOENT);
	assert_int_equal(sip_msg_to(&d->msg, &a), ENOENT);
	assert_int_equal(sip_msg_cseq(&d->msg, &cseq), ENOENT);
	assert_int_equal(sip_msg_callid(&d->msg, &cid), ENOENT);
	assert_int_equal(sip_msg_maxfwd(&d->msg, &u), ENOENT);
	assert_int_equal(sip_msg_expires(&d->msg, &u), ENOENT);
	assert_int_equal(sip_msg_ruri(&d->msg, &uri), ENOENT);
	assert_false(sip_msg_has_tag(&d->msg, SIP_HDR_REQUIRE, "100rel"));

	/* malformed: EBADMSG, and again on the second call */
	assert_int_equal(dec_str(d,
				 "OPTIONS sip:x@example.com SIP/2.0\r\n"
				 "Via: garbage\r\nFrom: <sip:x\r\n"
				 "Max-Forwards: 300\r\nExpires: soon\r\n"
				 "CSeq: x OPTIONS\r\n\r\n",
				 true),
			 0);
	assert_int_equal(sip_msg_via(&d->msg, &via), EBADMSG);
	assert_int_equal(sip_msg_via(&d->msg, &via), EBADMSG);
	assert_int_equal(sip_msg_from(&d->msg, &a), EBADMSG);
	assert_int_equal(sip_msg_maxfwd(&d->msg, &u), EBADMSG);
	assert_int_equal(sip_msg_maxfwd(&d->msg, &u), EBADMSG);
	assert_int_equal(sip_msg_expires(&d->msg, &u), EBADMSG);
	assert_int_equal(sip_msg_cseq(&d->msg, &cseq), EBADMSG);
	dec_free(d);
}


/* ---- copies ---- */

static void test_dup(void **state)
{
	static const char text[] =
		"MESSAGE sip:bob@biloxi.example.com SIP/2.0\r\n" REQ_HDRS(
			"MESSAGE") "Content-Type: text/plain\r\n"
				   "Content-Length: 5\r\n\r\nhellotrailing";
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	struct sip_msg *dup = NULL, *dup2 = NULL;
	const struct sip_via *via;
	const struct sip_cseq *cseq;
	struct sip_msg_err err;
	struct pl cid;
	char *p;

	(void)state;
	assert_non_null(msg);
	p = tail_dup(text, sizeof(text) - 1);
	assert_int_equal(sip_msg_decode(msg, p, sizeof(text) - 1, true, &err),
			 0);
	assert_int_equal(sa_set_str(&msg->src, "192.0.2.7", 5070), 0);
	assert_int_equal(sa_set_str(&msg->dst, "192.0.2.1", 5060), 0);
	msg->tp = SIP_TRANSP_UDP;
	msg->rx_ms = 12345;
	assert_int_equal(sip_msg_via(msg, &via), 0);
	/* decode every cached view: the copy must carry them, moved */
	assert_int_equal(sip_msg_validate(msg, &err), 0);

	assert_int_equal(sip_msg_dup(&dup, msg), 0);
	assert_non_null(dup);
	/* the original bytes are gone */
	memset(p, 'X', sizeof(text) - 1);
	free(p);
	memset(msg, 0xa5, sizeof(*msg));
	free(msg);

	assert_true(dup->req);
	assert_int_equal(dup->meth, SIP_METHOD_MESSAGE);
	assert_pl_eq(&dup->ruri, "sip:bob@biloxi.example.com");
	assert_pl_eq(&dup->body, "hello");
	/* the trailing octets were not copied */
	assert_int_equal(dup->len, sizeof(text) - 1 - 8);
	assert_int_equal(sip_msg_callid(dup, &cid), 0);
	assert_pl_eq(&cid, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_int_equal(sip_msg_via(dup, &via), 0);
	assert_pl_eq(&via->branch, "z9hG4bK776asdhds");
	assert_int_equal(sip_msg_cseq(dup, &cseq), 0);
	assert_int_equal(cseq->num, 314159);
	assert_pl_eq(&cseq->met, "MESSAGE");
	{
		const struct sip_addr *from, *to;
		const struct sip_uri *ruri;

		assert_true(dup->parsed & SIP_PARSED_FROM);
		assert_int_equal(sip_msg_from(dup, &from), 0);
		assert_int_equal(sip_msg_to(dup, &to), 0);
		assert_int_equal(sip_msg_ruri(dup, &ruri), 0);
		assert_true(from->tag.l > 0);
		assert_true(from->tag.p >= dup->p &&
			    from->tag.p < dup->p + dup->len);
		assert_true(to->uri.host.p >= dup->p &&
			    to->uri.host.p < dup->p + dup->len);
		assert_pl_eq(&ruri->user, "bob");
		assert_pl_eq(&ruri->host, "biloxi.example.com");
	}
	assert_int_equal(sa_port(&dup->src), 5070);
	assert_int_equal(sa_port(&dup->dst), 5060);
	assert_int_equal(dup->tp, SIP_TRANSP_UDP);
	assert_int_equal(dup->rx_ms, 12345);
	assert_null(dup->conn);
	/* the copy owns its bytes: they follow it in the same block */
	assert_null(dup->mb);
	assert_ptr_equal(dup->p, (const char *)(dup + 1));
	assert_int_equal(sip_msg_validate(dup, &err), 0);

	/* a copy of a copy */
	assert_int_equal(sip_msg_dup(&dup2, dup), 0);
	dup = mem_deref(dup);
	assert_pl_eq(&dup2->body, "hello");
	assert_int_equal(sa_port(&dup2->src), 5070);
	dup2 = mem_deref(dup2);
}


/* sip_msg_alloc: the message keeps its buffer, and the fields the
 * transport fills start cleared */
static void test_alloc(void **state)
{
	static const char text[] =
		"OPTIONS sip:x@example.com SIP/2.0\r\n" REQ_HDRS(
			"OPTIONS") "Content-Length: 0\r\n\r\n";
	struct sip_msg *msg = NULL;
	struct sip_msg_err err;
	struct buf *mb;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 64, SIP_MSG_MAX), 0);
	assert_int_equal(buf_write(mb, text, sizeof(text) - 1), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&msg, mb, true, &err), 0);
	assert_int_equal(mem_nrefs(mb), 2);
	assert_ptr_equal(msg->mb, mb);
	assert_null(msg->conn);
	assert_false(sa_isset(&msg->src));
	assert_int_equal(msg->tp, SIP_TRANSP_NONE);
	assert_int_equal(msg->rx_ms, 0);
	assert_int_equal(msg->meth, SIP_METHOD_OPTIONS);
	mb = mem_deref(mb);
	/* the message still reads its bytes through its own reference */
	assert_pl_eq(&msg->ruri, "sip:x@example.com");
	msg = mem_deref(msg);

	/* a refused message allocates nothing that outlives the call */
	assert_int_equal(buf_alloc(&mb, 64, SIP_MSG_MAX), 0);
	assert_int_equal(buf_write_str(mb, "OPTIONS sip:x SIP/7.0\r\n\r\n"), 0);
	mb->pos = 0;
	assert_int_equal(sip_msg_alloc(&msg, mb, true, &err), EBADMSG);
	assert_null(msg);
	assert_int_equal(err.scode, 505);
	assert_int_equal(mem_nrefs(mb), 1);
	mem_deref(mb);

	/* decoding and validating without an error report */
	{
		struct dec *d = dec_new();
		static const char bad[] =
			"SIP/2.0 200 OK\r\nContent-Length: 9\r\n\r\nab";

		free(d->buf);
		d->buf = tail_dup(bad, sizeof(bad) - 1);
		assert_int_equal(sip_msg_decode(&d->msg, d->buf,
						sizeof(bad) - 1, true, NULL),
				 EBADMSG);
		assert_int_equal(dec_str(d,
					 "OPTIONS sip:x SIP/2.0\r\n"
					 "CSeq: 1 OPTIONS\r\n\r\n",
					 true),
				 0);
		assert_int_equal(sip_msg_validate(&d->msg, NULL), EBADMSG);
		dec_free(d);
	}
}


/* ---- over-reads: every prefix of real messages ---- */

static void prefixes(const char *text, size_t len)
{
	struct sip_msg *msg = calloc(1, sizeof(*msg));
	struct sip_msg_err err;
	size_t i, msglen, skip;

	assert_non_null(msg);
	for (i = 0; i <= len; i++) {
		char *p = tail_dup(text, i);
		const struct sip_via *via;
		const struct sip_addr *a;
		const struct sip_cseq *cseq;
		const struct sip_uri *uri;
		uint32_t u;
		int fr, rc;

		fr = sip_msg_frame(p, i, &msglen, &skip);
		if (fr == 0)
			assert_true(skip + msglen <= i);
		else
			assert_true(fr == ENODATA || fr == EBADMSG);
		rc = sip_msg_decode(msg, p, i, true, &err);
		if (rc == 0) {
			assert_true(msg->len <= i);
			(void)sip_msg_validate(msg, &err);
			(void)sip_msg_via(msg, &via);
			(void)sip_msg_from(msg, &a);
			(void)sip_msg_to(msg, &a);
			(void)sip_msg_cseq(msg, &cseq);
			(void)sip_msg_ruri(msg, &uri);
			(void)sip_msg_maxfwd(msg, &u);
			(void)sip_msg_expires(msg, &u);
			(void)count_values(msg, SIP_HDR_CONTACT);
		} else {
			assert_int_equal(rc, EBADMSG);
			assert_true(err.scode == 0 ||
				    (err.scode >= 400 && err.scode < 700));
		}
		/* as a stream: a framed message decodes */
		if (fr == 0)
			assert_int_equal(sip_msg_decode(msg, p + skip, msglen,
							false, &err),
					 0);
		free(p);
	}
	free(msg);
}


static void test_tail_overread(void **state)
{
	static const char *const texts[] = {
		FRAME_MSG1,
		"SIP/2.0 180 Ringing\r\n" RESP_HDRS "Content-Length: 0\r\n\r\n",
		"\r\nREGISTER sip:x SIP/2.0\r\nv: SIP/2.0/UDP h\r\n "
		";branch=x\r\n"
		"To: \"a\\\"\" <sip:x>\r\nf:<sip:y>;tag=1\r\ni:c\r\nCSeq: "
		"1\r\n "
		"REGISTER\r\nm: *\r\nExpires:0\r\nl:0\r\n\r\n",
		"OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/TCP [::1]:5060;rport\n\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		prefixes(texts[i], strlen(texts[i]));
}


/* ---- vectors in tests/data/sip ---- */

struct vec_case {
	const char *file;
	bool req;
	enum sip_method meth; /* request, or the CSeq method of a response */
	uint16_t scode;
	uint16_t hdrc;
	unsigned nvia;
	size_t body; /* Content-Length */
	void (*check)(struct sip_msg *msg);
};


static void check_register(struct sip_msg *msg)
{
	struct sip_hdr_iter it = { 0 };
	struct sip_contact c;
	const struct sip_via *via;
	struct pl v;

	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_true(via->has_rport);
	assert_true(sip_msg_hdr_value_next(msg, SIP_HDR_CONTACT, &it, &v));
	assert_int_equal(sip_contact_decode(&c, &v), 0);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 3600);
	assert_int_equal(c.q, 700);
	assert_pl_eq(&c.addr.uri.host, "192.0.2.201");
	assert_true(sip_msg_hdr_value_next(msg, SIP_HDR_CONTACT, &it, &v));
	assert_int_equal(sip_contact_decode(&c, &v), 0);
	assert_int_equal(c.expires, 60);
	assert_int_equal(c.q, 1000);
	assert_int_equal(c.addr.uri.host_type, SIP_HOST_IPV6);
	assert_int_equal(c.addr.uri.port, 5070);
	assert_false(sip_msg_hdr_value_next(msg, SIP_HDR_CONTACT, &it, &v));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_SUPPORTED, "gruu"));
	assert_int_equal(count_values(msg, SIP_HDR_ALLOW), 8);
}


static void check_invite(struct sip_msg *msg)
{
	const struct sip_via *via;
	const struct sip_hdr *h;

	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_pl_eq(&via->received, "192.0.2.111");
	assert_int_equal(via->tp, SIP_TRANSP_TCP);
	h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	assert_non_null(h);
	assert_pl_eq(&h->val, "application/sdp");
	assert_true(msg->body.l > 3 && !memcmp(msg->body.p, "v=0", 3));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_SUPPORTED, "100rel"));
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES));
}


static void check_ims_register_ue(struct sip_msg *msg)
{
	const struct sip_via *via;
	const struct sip_hdr *h;
	struct sip_contact c;
	uint32_t u;

	assert_int_equal(sip_msg_via(msg, &via), 0);
	assert_pl_eq(&via->host, "[5555::aaa:bbb:ccc:ddd]");
	assert_int_equal(via->port, 1357);
	assert_true(sip_msg_has_tag(msg, SIP_HDR_REQUIRE, "sec-agree"));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_PROXY_REQUIRE, "sec-agree"));
	assert_true(sip_msg_has_tag(msg, SIP_HDR_SUPPORTED, "path"));
	assert_int_equal(sip_msg_expires(msg, &u), 0);
	assert_int_equal(u, 600000);
	h = sip_msg_hdr_name(msg, "security-client");
	assert_non_null(h);
	assert_true(pl_find_ci(&h->val, "spi-c=23456789") != NULL);
	assert_non_null(sip_msg_hdr_name(msg, "P-Access-Network-Info"));
	h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_contact_decode(&c, &h->val), 0);
	assert_int_equal(c.expires, 600000);
	assert_true(sip_param_exists(&c.addr.params, "+sip.instance"));
	assert_true(sip_param_exists(&c.addr.uri.params, "comp"));
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION));
}


static void check_ims_register_pcscf(struct sip_msg *msg)
{
	const struct sip_hdr *h;
	struct sip_addr a;

	h = sip_msg_hdr(msg, SIP_HDR_PATH);
	assert_non_null(h);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl_eq(&a.uri.user, "term");
	assert_true(sip_param_exists(&a.uri.params, "lr"));
	h = sip_msg_hdr(msg, SIP_HDR_P_VISITED_NETWORK_ID);
	assert_non_null(h);
	assert_pl_eq(&h->val, "\"Visited Network Number 1\"");
	h = sip_msg_hdr(msg, SIP_HDR_P_CHARGING_VECTOR);
	assert_non_null(h);
	assert_true(sip_msg_has_tag(msg, SIP_HDR_REQUIRE, "path"));
}


static void check_ims_401(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_WWW_AUTHENTICATE);
	const struct sip_addr *to;

	assert_non_null(h);
	/* the folded value is one line */
	assert_non_null(pl_find_ci(&h->val, "algorithm=AKAv1-MD5"));
	assert_int_equal(msg->nlines[SIP_HDR_WWW_AUTHENTICATE], 1);
	assert_int_equal(sip_msg_to(msg, &to), 0);
	assert_pl_eq(&to->tag, "5ef4");
}


static void check_ims_200(struct sip_msg *msg)
{
	static const char *const impus[] = {
		"<sip:user1_public2@home1.net>",
		"<sip:user1_public3@home1.net>",
		"<sip:+1-212-555-1111@home1.net;user=phone>",
	};
	struct sip_addr a;
	const struct sip_hdr *h;

	expect_values(msg, SIP_HDR_P_ASSOCIATED_URI, impus, 3);
	h = sip_msg_hdr(msg, SIP_HDR_SERVICE_ROUTE);
	assert_non_null(h);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl_eq(&a.uri.user, "orig");
	assert_pl_eq(&a.uri.host, "scscf1.home1.net");
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_DATE));
}


static void check_ims_invite(struct sip_msg *msg)
{
	const struct sip_uri *uri;
	const struct sip_addr *to;
	struct sip_hdr_iter it = { 0 };
	struct sip_addr a;
	struct pl v;

	assert_int_equal(sip_msg_ruri(msg, &uri), 0);
	assert_int_equal(uri->sch, SIP_SCHEME_TEL);
	assert_pl_eq(&uri->user, "+1-212-555-2222");
	assert_int_equal(sip_msg_to(msg, &to), 0);
	assert_int_equal(to->uri.sch, SIP_SCHEME_TEL);
	assert_int_equal(count_values(msg, SIP_HDR_ROUTE), 2);
	assert_true(sip_msg_hdr_value_next(msg, SIP_HDR_ROUTE, &it, &v));
	assert_int_equal(sip_addr_decode(&a, &v), 0);
	assert_int_equal(a.uri.port, 7531);
	memset(&it, 0, sizeof(it));
	assert_true(sip_msg_hdr_value_next(msg, SIP_HDR_P_PREFERRED_IDENTITY,
					   &it, &v));
	assert_int_equal(sip_addr_decode(&a, &v), 0);
	assert_pl_eq(&a.dname, "\"John Doe\"");
	assert_true(sip_msg_has_tag(msg, SIP_HDR_SUPPORTED, "precondition"));
	assert_non_null(sip_msg_hdr(msg, SIP_HDR_ACCEPT_CONTACT));
	assert_non_null(sip_msg_hdr_name(msg, "Security-Verify"));
}


static const struct vec_case vec_cases[] = {
	{ "register.sip", true, SIP_METHOD_REGISTER, 0, 11, 1, 0,
	  check_register },
	{ "invite.sip", true, SIP_METHOD_INVITE, 0, 14, 2, 194, check_invite },
	{ "resp_180.sip", false, SIP_METHOD_INVITE, 180, 9, 2, 0, NULL },
	{ "resp_200_invite.sip", false, SIP_METHOD_INVITE, 200, 11, 2, 192,
	  NULL },
	{ "ims_register_ue.sip", true, SIP_METHOD_REGISTER, 0, 15, 1, 0,
	  check_ims_register_ue },
	{ "ims_register_pcscf.sip", true, SIP_METHOD_REGISTER, 0, 16, 2, 0,
	  check_ims_register_pcscf },
	{ "ims_401.sip", false, SIP_METHOD_REGISTER, 401, 8, 3, 0,
	  check_ims_401 },
	{ "ims_200_register.sip", false, SIP_METHOD_REGISTER, 200, 13, 2, 0,
	  check_ims_200 },
	{ "ims_invite_mo.sip", true, SIP_METHOD_INVITE, 0, 20, 1, 356,
	  check_ims_invite },
};


static void test_vectors(void **state)
{
	struct dec *d = dec_new();
	char path[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec_cases) / sizeof(vec_cases[0]); i++) {
		const struct vec_case *c = &vec_cases[i];
		const struct sip_cseq *cseq;
		size_t len, msglen, skip;
		uint32_t cl;
		char *text;

		(void)snprintf(path, sizeof(path), "%s/tests/data/sip/%s",
			       ENTIMS_SOURCE_DIR, c->file);
		text = read_file(path, &len);
		if (dec_run(d, text, len, true))
			fail_msg("%s: decode: %s", c->file, d->err.reason);
		if (sip_msg_validate(&d->msg, &d->err))
			fail_msg("%s: validate: %s", c->file, d->err.reason);
		if (d->msg.hdrc != c->hdrc)
			fail_msg("%s: %u header lines, want %u", c->file,
				 d->msg.hdrc, c->hdrc);
		assert_int_equal(d->msg.req, c->req);
		assert_int_equal(sip_msg_cseq(&d->msg, &cseq), 0);
		assert_int_equal(cseq->meth, c->meth);
		if (c->req)
			assert_int_equal(d->msg.meth, c->meth);
		else
			assert_int_equal(d->msg.scode, c->scode);
		assert_int_equal(count_values(&d->msg, SIP_HDR_VIA), c->nvia);
		assert_int_equal(sip_msg_clen(&d->msg, &cl), 0);
		assert_int_equal(cl, c->body);
		assert_int_equal(d->msg.body.l, cl);
		assert_int_equal(d->msg.len, len);
		/* as a stream the framer finds the same message */
		assert_int_equal(sip_msg_frame(d->buf, len, &msglen, &skip), 0);
		assert_int_equal(msglen, len);
		if (c->check)
			c->check(&d->msg);
		free(text);
	}
	dec_free(d);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_line, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_start_line_edges, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hdr_names, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_method_names, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hdr_index, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hdr_compact_other,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hdr_bad, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_folding, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_values, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_value_split, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_clen, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hdr_max, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_msg_max, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_frame, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_validate, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_validate_long_ruri,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_accessors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_dup, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_alloc, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_tail_overread, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_vectors, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("sip_msg", tests, NULL, NULL);
}
