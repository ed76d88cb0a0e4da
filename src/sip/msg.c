/**
 * @file msg.c  One-pass SIP message indexing and lazy typed decoding.
 *
 * sip_msg_decode() makes a single pass over the bytes:
 *
 *   start line  ->  method / Request-URI / version, or version / code / reason
 *   header line ->  name and value views, the id of a known name (long or
 *                   compact form, any case), chained to the previous line
 *                   with the same id; continuation lines (RFC 3261 7.3.1
 *                   folding) extend the value of the line before them
 *   empty line  ->  the body, framed by Content-Length
 *
 * No allocation, no copy, no NUL termination: the bytes are only read.
 * What is decoded later (Via, From, CSeq, ...) is cached in the message.
 * Error outcomes carry the status code and a reason phrase that names the
 * problem, so that the stack can answer a malformed request with a 400 the
 * sender can act on (RFC 3261 21.4.1), or drop what cannot be answered.
 */
#include "sip/msg.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "sip/transp.h"

/* RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*"
 *                          / "_" / "+" / "`" / "'" / "~" ) */
static const uint8_t tokch[256] = {
	['!'] = 1, ['%'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
	['.'] = 1, ['_'] = 1, ['`'] = 1,  ['~'] = 1, ['0'] = 1, ['1'] = 1,
	['2'] = 1, ['3'] = 1, ['4'] = 1,  ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['A'] = 1,  ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 1,  ['H'] = 1, ['I'] = 1, ['J'] = 1,
	['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1,  ['T'] = 1, ['U'] = 1, ['V'] = 1,
	['W'] = 1, ['X'] = 1, ['Y'] = 1,  ['Z'] = 1, ['a'] = 1, ['b'] = 1,
	['c'] = 1, ['d'] = 1, ['e'] = 1,  ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1,  ['r'] = 1, ['s'] = 1, ['t'] = 1,
	['u'] = 1, ['v'] = 1, ['w'] = 1,  ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static inline bool is_token(char c)
{
	return tokch[(unsigned char)c] != 0;
}


static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}


/* LWS as pl_trim() knows it: SP HTAB CR LF */
static inline bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static inline int lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}


/* Compare n bytes of s, case-insensitively, with the lowercase literal k. */
static inline bool eq_ci(const char *s, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lc((unsigned char)s[i]) != k[i])
			return false;
	return true;
}


/* 1*DIGIT up to UINT32_MAX (what pl_u32() accepts), inline: CSeq,
 * Max-Forwards, Expires and Content-Length are read for every message,
 * and the generic parser's per-digit overflow division cost more than
 * the digits. */
static inline int dec_u32(const struct pl *pl, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!pl->p || !pl->l)
		return EBADMSG;
	for (i = 0; i < pl->l; i++) {
		unsigned d = (unsigned char)pl->p[i] - (unsigned)'0';

		if (d > 9)
			return EBADMSG;
		x = x * 10 + d;
		if (x > UINT32_MAX)
			return EBADMSG;
	}
	*v = (uint32_t)x;
	return 0;
}


/* Load 8 or 4 octets from anywhere (memcpy compiles to one load). */
static inline uint64_t ld64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}


static inline uint32_t ld32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}


/*
 * Compare the token s with the literal k (lowercase letters and '-'), n
 * octets, case-insensitively, a word at a time.  OR 0x20 turns an
 * uppercase letter into its lowercase and leaves '-' and the other token
 * octets alone; the only other octet it maps onto a letter or '-' is CR
 * (0x0d -> '-'), which no token holds.  The last word overlaps the one
 * before it when n is not a multiple of the word.
 */
static inline bool eq_tok(const char *s, const char *k, size_t n)
{
	const uint64_t m8 = 0x2020202020202020ull;
	const uint32_t m4 = 0x20202020u;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8)
			if ((ld64(s + i) | m8) != ld64(k + i))
				return false;
		return (ld64(s + n - 8) | m8) == ld64(k + n - 8);
	}
	if (n >= 4)
		return (ld32(s) | m4) == ld32(k) &&
		       (ld32(s + n - 4) | m4) == ld32(k + n - 4);
	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != k[i])
			return false;
	return true;
}


/* ---- names ---- */

static const char *const hdr_names[SIP_HDR_NUM] = {
	[SIP_HDR_OTHER] = "",
	[SIP_HDR_ACCEPT] = "Accept",
	[SIP_HDR_ACCEPT_CONTACT] = "Accept-Contact",
	[SIP_HDR_ALLOW] = "Allow",
	[SIP_HDR_ALLOW_EVENTS] = "Allow-Events",
	[SIP_HDR_AUTHORIZATION] = "Authorization",
	[SIP_HDR_CALL_ID] = "Call-ID",
	[SIP_HDR_CONTACT] = "Contact",
	[SIP_HDR_CONTENT_DISPOSITION] = "Content-Disposition",
	[SIP_HDR_CONTENT_ENCODING] = "Content-Encoding",
	[SIP_HDR_CONTENT_LENGTH] = "Content-Length",
	[SIP_HDR_CONTENT_TYPE] = "Content-Type",
	[SIP_HDR_CSEQ] = "CSeq",
	[SIP_HDR_DATE] = "Date",
	[SIP_HDR_EVENT] = "Event",
	[SIP_HDR_EXPIRES] = "Expires",
	[SIP_HDR_FROM] = "From",
	[SIP_HDR_MAX_FORWARDS] = "Max-Forwards",
	[SIP_HDR_MIN_EXPIRES] = "Min-Expires",
	[SIP_HDR_P_ASSERTED_IDENTITY] = "P-Asserted-Identity",
	[SIP_HDR_P_ASSOCIATED_URI] = "P-Associated-URI",
	[SIP_HDR_P_CHARGING_VECTOR] = "P-Charging-Vector",
	[SIP_HDR_P_PREFERRED_IDENTITY] = "P-Preferred-Identity",
	[SIP_HDR_P_SERVED_USER] = "P-Served-User",
	[SIP_HDR_P_VISITED_NETWORK_ID] = "P-Visited-Network-ID",
	[SIP_HDR_PATH] = "Path",
	[SIP_HDR_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
	[SIP_HDR_PROXY_AUTHORIZATION] = "Proxy-Authorization",
	[SIP_HDR_PROXY_REQUIRE] = "Proxy-Require",
	[SIP_HDR_RECORD_ROUTE] = "Record-Route",
	[SIP_HDR_REFER_TO] = "Refer-To",
	[SIP_HDR_REQUIRE] = "Require",
	[SIP_HDR_ROUTE] = "Route",
	[SIP_HDR_SERVICE_ROUTE] = "Service-Route",
	[SIP_HDR_SESSION_EXPIRES] = "Session-Expires",
	[SIP_HDR_SUBJECT] = "Subject",
	[SIP_HDR_SUBSCRIPTION_STATE] = "Subscription-State",
	[SIP_HDR_SUPPORTED] = "Supported",
	[SIP_HDR_TIMESTAMP] = "Timestamp",
	[SIP_HDR_TO] = "To",
	[SIP_HDR_UNSUPPORTED] = "Unsupported",
	[SIP_HDR_USER_AGENT] = "User-Agent",
	[SIP_HDR_VIA] = "Via",
	[SIP_HDR_WWW_AUTHENTICATE] = "WWW-Authenticate",
};


const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_NUM ? hdr_names[id] : "";
}


/* RFC 3261 7.3.3 and 20, RFC 3265, RFC 3515, RFC 4028: compact forms. */
static enum sip_hdr_id compact_id(int c)
{
	switch (lc(c)) {
	case 'a':
		return SIP_HDR_ACCEPT_CONTACT;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'f':
		return SIP_HDR_FROM;
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'o':
		return SIP_HDR_EVENT;
	case 'r':
		return SIP_HDR_REFER_TO;
	case 's':
		return SIP_HDR_SUBJECT;
	case 't':
		return SIP_HDR_TO;
	case 'u':
		return SIP_HDR_ALLOW_EVENTS;
	case 'v':
		return SIP_HDR_VIA;
	case 'x':
		return SIP_HDR_SESSION_EXPIRES;
	default:
		return SIP_HDR_OTHER;
	}
}


/*
 * Identify a header name.  A switch on the length narrows the candidates
 * to one or two, then one case-insensitive compare decides: this costs a
 * handful of instructions per header, which matters at 10-20 headers a
 * message and hundreds of thousands of messages a second.
 */
/* A dispatch table written as a switch: its "complexity" is its size.
 * The name is a token (decode_headers() checked it). */
/* NOLINTNEXTLINE(readability-function-cognitive-complexity) */
static enum sip_hdr_id hdr_id(const struct pl *name)
{
	const char *s = name->p;

#define M(lit, id)                                   \
	do {                                         \
		if (eq_tok(s, lit, sizeof(lit) - 1)) \
			return id;                   \
	} while (0)

	switch (name->l) {
	case 1:
		return compact_id((unsigned char)s[0]);
	case 2:
		M("to", SIP_HDR_TO);
		break;
	case 3:
		M("via", SIP_HDR_VIA);
		break;
	case 4:
		M("cseq", SIP_HDR_CSEQ);
		M("from", SIP_HDR_FROM);
		M("path", SIP_HDR_PATH);
		M("date", SIP_HDR_DATE);
		break;
	case 5:
		M("route", SIP_HDR_ROUTE);
		M("allow", SIP_HDR_ALLOW);
		M("event", SIP_HDR_EVENT);
		break;
	case 6:
		M("accept", SIP_HDR_ACCEPT);
		break;
	case 7:
		M("call-id", SIP_HDR_CALL_ID);
		M("contact", SIP_HDR_CONTACT);
		M("expires", SIP_HDR_EXPIRES);
		M("require", SIP_HDR_REQUIRE);
		M("subject", SIP_HDR_SUBJECT);
		break;
	case 8:
		M("refer-to", SIP_HDR_REFER_TO);
		break;
	case 9:
		M("supported", SIP_HDR_SUPPORTED);
		M("timestamp", SIP_HDR_TIMESTAMP);
		break;
	case 10:
		M("user-agent", SIP_HDR_USER_AGENT);
		break;
	case 11:
		M("min-expires", SIP_HDR_MIN_EXPIRES);
		M("unsupported", SIP_HDR_UNSUPPORTED);
		break;
	case 12:
		M("max-forwards", SIP_HDR_MAX_FORWARDS);
		M("record-route", SIP_HDR_RECORD_ROUTE);
		M("content-type", SIP_HDR_CONTENT_TYPE);
		M("allow-events", SIP_HDR_ALLOW_EVENTS);
		break;
	case 13:
		M("authorization", SIP_HDR_AUTHORIZATION);
		M("p-served-user", SIP_HDR_P_SERVED_USER);
		M("service-route", SIP_HDR_SERVICE_ROUTE);
		M("proxy-require", SIP_HDR_PROXY_REQUIRE);
		break;
	case 14:
		M("content-length", SIP_HDR_CONTENT_LENGTH);
		M("accept-contact", SIP_HDR_ACCEPT_CONTACT);
		break;
	case 15:
		M("session-expires", SIP_HDR_SESSION_EXPIRES);
		break;
	case 16:
		M("content-encoding", SIP_HDR_CONTENT_ENCODING);
		M("www-authenticate", SIP_HDR_WWW_AUTHENTICATE);
		M("p-associated-uri", SIP_HDR_P_ASSOCIATED_URI);
		break;
	case 17:
		M("p-charging-vector", SIP_HDR_P_CHARGING_VECTOR);
		break;
	case 18:
		M("proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE);
		M("subscription-state", SIP_HDR_SUBSCRIPTION_STATE);
		break;
	case 19:
		M("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION);
		M("p-asserted-identity", SIP_HDR_P_ASSERTED_IDENTITY);
		M("content-disposition", SIP_HDR_CONTENT_DISPOSITION);
		break;
	case 20:
		M("p-preferred-identity", SIP_HDR_P_PREFERRED_IDENTITY);
		M("p-visited-network-id", SIP_HDR_P_VISITED_NETWORK_ID);
		break;
	default:
		break;
	}
#undef M
	return SIP_HDR_OTHER;
}


enum sip_hdr_id sip_hdr_id_of(const struct pl *name)
{
	/* a name from elsewhere (configuration, iFC data) may hold a CR,
	 * which eq_tok() would take for '-'; no known name holds one */
	if (!name->l || memchr(name->p, '\r', name->l))
		return SIP_HDR_OTHER;
	return hdr_id(name);
}


static const char *const method_names[] = {
	[SIP_METHOD_OTHER] = "",
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_REFER] = "REFER",
};


const char *sip_method_name(enum sip_method m)
{
	return (unsigned)m < sizeof(method_names) / sizeof(method_names[0])
		       ? method_names[m]
		       : "";
}


/* RFC 3261 7.1: method names are case-sensitive.  A switch on the length
 * leaves one to three candidates (this runs for the Request-Line, and for
 * a CSeq that does not name the request's method).  A dispatch table
 * written as a switch: its "complexity" is its size. */
/* NOLINTNEXTLINE(readability-function-cognitive-complexity) */
enum sip_method sip_method_id(const struct pl *met)
{
	const char *s = met->p;

#define M(lit, id)                                    \
	do {                                          \
		if (!memcmp(s, lit, sizeof(lit) - 1)) \
			return id;                    \
	} while (0)

	switch (met->l) {
	case 3:
		M("ACK", SIP_METHOD_ACK);
		M("BYE", SIP_METHOD_BYE);
		break;
	case 4:
		M("INFO", SIP_METHOD_INFO);
		break;
	case 5:
		M("PRACK", SIP_METHOD_PRACK);
		M("REFER", SIP_METHOD_REFER);
		break;
	case 6:
		M("INVITE", SIP_METHOD_INVITE);
		M("CANCEL", SIP_METHOD_CANCEL);
		M("UPDATE", SIP_METHOD_UPDATE);
		M("NOTIFY", SIP_METHOD_NOTIFY);
		break;
	case 7:
		M("OPTIONS", SIP_METHOD_OPTIONS);
		M("PUBLISH", SIP_METHOD_PUBLISH);
		M("MESSAGE", SIP_METHOD_MESSAGE);
		break;
	case 8:
		M("REGISTER", SIP_METHOD_REGISTER);
		break;
	case 9:
		M("SUBSCRIBE", SIP_METHOD_SUBSCRIBE);
		break;
	default:
		break;
	}
#undef M
	return SIP_METHOD_OTHER;
}


const char *sip_reason(uint16_t scode)
{
	switch (scode) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Moved Temporarily";
	case 305:
		return "Use Proxy";
	case 380:
		return "Alternative Service";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 421:
		return "Extension Required";
	case 423:
		return "Interval Too Brief";
	case 429:
		return "Provide Referrer Identity";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 485:
		return "Ambiguous";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 489:
		return "Bad Event";
	case 491:
		return "Request Pending";
	case 493:
		return "Undecipherable";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	case 606:
		return "Not Acceptable";
	default:
		if (scode < 200)
			return "Session Progress";
		if (scode < 300)
			return "OK";
		if (scode < 400)
			return "Redirect";
		if (scode < 500)
			return "Client Error";
		if (scode < 600)
			return "Server Error";
		return "Global Failure";
	}
}


/* ---- decoding ---- */

static int fail(struct sip_msg_err *errp, uint16_t scode, const char *reason)
{
	if (errp) {
		errp->scode = scode;
		errp->reason = reason;
	}
	return EBADMSG;
}


/* Find the end of the line starting at p: returns the position of the LF,
 * with *eol the start of the terminator (CR of CRLF, or a bare LF). */
static const char *line_end(const char *p, const char *end, const char **eol)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf)
		return NULL;
	*eol = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
	return lf;
}


/* "SIP/" 1*DIGIT "." 1*DIGIT  (RFC 3261 7.1, 25.1), case-insensitive */
static int version_check(const struct pl *ver)
{
	size_t i = 4;
	bool dig = false;

	if (ver->l == 7 && !memcmp(ver->p, "SIP/2.0", 7))
		return 0; /* as nearly every message spells it */
	if (ver->l < 7 || !eq_ci(ver->p, "sip/", 4))
		return EBADMSG;
	while (i < ver->l && ver->p[i] >= '0' && ver->p[i] <= '9') {
		i++;
		dig = true;
	}
	if (!dig || i >= ver->l || ver->p[i] != '.')
		return EBADMSG;
	i++;
	dig = false;
	while (i < ver->l && ver->p[i] >= '0' && ver->p[i] <= '9') {
		i++;
		dig = true;
	}
	if (!dig || i != ver->l)
		return EBADMSG;
	return (ver->l == 7 && ver->p[4] == '2' && ver->p[6] == '0') ? 0
								     : ENOTSUP;
}


static int start_line(struct sip_msg *msg, const char *p, const char *eol,
		      struct sip_msg_err *errp)
{
	const char *sp1, *sp2;
	size_t i;
	int err;

	msg->start.p = p;
	msg->start.l = (size_t)(eol - p);

	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1)
		return fail(errp, 400, "Malformed Start Line");

	/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
	if (sp1 - p >= 4 && eq_ci(p, "sip/", 4)) {
		msg->req = false;
		pl_set(&msg->ver, p, (size_t)(sp1 - p));
		if (version_check(&msg->ver))
			return fail(errp, 0, "Bad Version In Status Line");
		if (eol - sp1 < 4)
			return fail(errp, 0, "Bad Status Code");
		for (i = 1; i <= 3; i++)
			if (sp1[i] < '0' || sp1[i] > '9')
				return fail(errp, 0, "Bad Status Code");
		/* exactly three digits, then SP (the phrase may be empty; a
		 * missing SP after the code is tolerated, RFC 4475 3.1.1.13) */
		if (sp1 + 4 < eol && sp1[4] != ' ')
			return fail(errp, 0, "Bad Status Code");
		msg->scode = (uint16_t)((sp1[1] - '0') * 100 +
					(sp1[2] - '0') * 10 + (sp1[3] - '0'));
		if (msg->scode < 100 || msg->scode > 699)
			return fail(errp, 0, "Bad Status Code");
		if (sp1 + 4 < eol)
			pl_set(&msg->reason, sp1 + 5, (size_t)(eol - sp1 - 5));
		else
			pl_set(&msg->reason, eol, 0);
		return 0;
	}

	/* Request-Line = Method SP Request-URI SP SIP-Version */
	msg->req = true;
	pl_set(&msg->met, p, (size_t)(sp1 - p));
	if (!msg->met.l)
		return fail(errp, 400, "Malformed Request Line");
	for (i = 0; i < msg->met.l; i++)
		if (!is_token(msg->met.p[i]))
			return fail(errp, 400, "Bad Method Token");
	msg->meth = sip_method_id(&msg->met);

	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return fail(errp, 400, "Malformed Request Line");
	pl_set(&msg->ruri, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	pl_set(&msg->ver, sp2 + 1, (size_t)(eol - sp2 - 1));
	/* RFC 4475 3.1.2.8-10: extra or trailing SP inside the line */
	if (memchr(msg->ver.p, ' ', msg->ver.l) || msg->ver.l == 0)
		return fail(errp, 400, "Malformed Request Line");
	if (msg->ruri.p[0] == '<')
		return fail(errp, 400, "Request-URI In Angle Brackets");
	err = version_check(&msg->ver);
	if (err == ENOTSUP)
		return fail(errp, 505, "Version Not Supported");
	if (err)
		return fail(errp, 400, "Malformed SIP Version");
	return 0;
}


static void hdr_link(struct sip_msg *msg, enum sip_hdr_id id)
{
	uint16_t idx = msg->hdrc; /* index+1 of the line just added */

	if (msg->last[id])
		msg->hdrv[msg->last[id] - 1].next = idx;
	else
		msg->first[id] = idx;
	msg->last[id] = idx;
	if (msg->nlines[id] < 255)
		msg->nlines[id]++;
}


/* Index the header lines from cur up to the empty line; *bodyp is set to
 * what follows it. */
static int decode_headers(struct sip_msg *msg, const char *cur, const char *end,
			  struct sip_msg_err *errp, const char **bodyp)
{
	struct sip_hdr *prev = NULL;
	const char *lf, *eol;

	for (;;) {
		const char *colon, *v, *eol_v;
		struct sip_hdr *h;

		lf = line_end(cur, end, &eol);
		if (!lf)
			return fail(errp, 400,
				    "Missing Empty Line After Headers");
		if (eol == cur) { /* the empty line */
			cur = lf + 1;
			break;
		}
		if (is_wsp(*cur)) {
			/* RFC 3261 7.3.1: a continuation of the header before
			 */
			if (!prev)
				return fail(errp, 400,
					    "Leading Whitespace Line");
			prev->val.l = (size_t)(eol - prev->val.p);
			pl_trim(&prev->val);
			cur = lf + 1;
			continue;
		}
		if (msg->hdrc >= SIP_HDR_MAX)
			return fail(errp, 513, "Too Many Header Fields");
		h = &msg->hdrv[msg->hdrc++];
		/* HCOLON = *( SP / HTAB ) ":" SWS.  The name is scanned as a
		 * token up to the colon; when something else stops the scan,
		 * the line is looked at again to name the problem */
		v = cur;
		while (is_token(*v)) /* stops at the CR or LF at the latest */
			v++;
		colon = v;
		while (is_wsp(*colon))
			colon++;
		if (v == cur || *colon != ':') {
			colon = memchr(cur, ':', (size_t)(eol - cur));
			if (!colon)
				return fail(errp, 400,
					    "Header Line Without Colon");
			v = colon;
			while (v > cur && is_wsp(v[-1]))
				v--;
			if (v == cur)
				return fail(errp, 400, "Empty Header Name");
			return fail(errp, 400, "Bad Header Name");
		}
		pl_set(&h->name, cur, (size_t)(v - cur));
		/* the value without the LWS around it (pl_trim(), inline) */
		v = colon + 1;
		if (v < eol && *v == ' ' && v + 1 < eol && !is_lws(v[1]))
			v++; /* the one SP nearly every value starts after */
		else
			while (v < eol && is_lws(*v))
				v++;
		eol_v = eol;
		while (eol_v > v && is_lws(eol_v[-1]))
			eol_v--;
		pl_set(&h->val, v, (size_t)(eol_v - v));
		h->id = hdr_id(&h->name);
		h->next = 0;
		hdr_link(msg, h->id);
		prev = h;
		cur = lf + 1;
	}
	*bodyp = cur;
	return 0;
}


/* The Content-Length header: one value, digits only, no overflow.
 * Every line must agree (RFC 4475 3.3.9: two values lose the framing). */
static int clen_decode(struct sip_msg *msg, struct sip_msg_err *errp)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTENT_LENGTH);
	bool set = false;
	uint32_t v = 0;

	for (; h; h = sip_msg_hdr_next(msg, h)) {
		struct pl val = h->val;
		uint32_t n;

		pl_trim(&val);
		if (val.l && val.p[0] == '-')
			return fail(errp, 400, "Negative Content-Length");
		if (dec_u32(&val, &n))
			return fail(errp, 400, "Bad Content-Length");
		if (set && n != v)
			return fail(errp, 400, "Conflicting Content-Length");
		v = n;
		set = true;
	}
	msg->clen = v;
	msg->parsed |= SIP_PARSED_CLEN;
	return set ? 0 : ENOENT;
}


static int msg_index(struct sip_msg *msg, const char *p, size_t len, bool dgram,
		     struct sip_msg_err *errp)
{
	const char *end = p + len, *lf, *eol, *cur;
	size_t left;
	int err;

	/* only the index is cleared: the typed views are valid only with
	 * their parsed bit, so they need no clearing (this keeps the decode
	 * of a small message from paying for a 6 KiB memset) */
	memset(msg, 0, offsetof(struct sip_msg, hdrv));
	memset(msg->first, 0,
	       sizeof(msg->first) + sizeof(msg->last) + sizeof(msg->nlines));
	msg->hdrc = 0;
	msg->parsed = 0;
	msg->p = p;
	msg->len = len;
	if (errp) {
		errp->scode = 0;
		errp->reason = NULL;
	}

	if (len > SIP_MSG_MAX)
		return fail(errp, 513, "Message Too Large");

	/* RFC 3261 7.5: ignore CRLFs before the start line */
	cur = p;
	while (cur < end && (*cur == '\r' || *cur == '\n'))
		cur++;
	lf = line_end(cur, end, &eol);
	if (!lf)
		return fail(errp, 0, "Truncated Message");
	err = start_line(msg, cur, eol, errp);
	if (err && !(msg->req && errp && errp->scode)) {
		return err;
	} else if (err) {
		/* a request with a bad start line is still answered (400 or
		 * 505): index its headers so that the answer can carry Via,
		 * From, To, Call-ID and CSeq (RFC 4475 3.1.2.7-8) */
		struct sip_msg_err keep = *errp;

		msg->meth = SIP_METHOD_OTHER;
		(void)decode_headers(msg, lf + 1, end, NULL, &cur);
		*errp = keep;
		return EBADMSG;
	}
	cur = lf + 1;

	err = decode_headers(msg, cur, end, errp, &cur);
	if (err)
		return err;
	pl_set(&msg->hdrs, msg->start.p + msg->start.l,
	       (size_t)(cur - msg->start.p - msg->start.l));

	left = (size_t)(end - cur);
	err = clen_decode(msg, errp);
	if (err == EBADMSG)
		return err;
	if (err == ENOENT) {
		/* RFC 3261 18.3: over a stream Content-Length is mandatory
		 * (the framer has checked); in a datagram the body is the
		 * rest (RFC 2543 senders, RFC 4475 3.4.1) */
		msg->clen = (uint32_t)left;
	} else if (msg->clen > left) {
		/* RFC 4475 3.1.2.2 */
		return fail(errp, msg->req ? 400 : 0,
			    "Content-Length Larger Than Message");
	} else if (dgram || msg->clen < left) {
		/* RFC 3261 18.3: octets after the body are discarded
		 * (RFC 4475 3.1.1.8) */
		msg->len = (size_t)(cur - p) + msg->clen;
	}
	pl_set(&msg->body, cur, msg->clen);
	return 0;
}


/**
 * Index a SIP message (see the file comment).
 *
 * @param msg    the message to fill (zeroed here)
 * @param p      the bytes
 * @param len    their length
 * @param dgram  true for a datagram: the body is framed by Content-Length
 *               and trailing octets ignored; false when the caller framed
 *               the message already (streams)
 * @param errp   on EBADMSG: the answer to give (scode 0: drop); may be NULL
 * @return 0 or EBADMSG
 */
int sip_msg_decode(struct sip_msg *msg, const char *p, size_t len, bool dgram,
		   struct sip_msg_err *errp)
{
	const char *s = p, *end = p + len;
	int err = msg_index(msg, p, len, dgram, errp);

	if (!err || !errp)
		return err;
	/* A malformed response is discarded, never answered: there is no
	 * response to a response (RFC 3261 18.1.2 passes only well-formed
	 * ones up).  A start line beginning with "SIP/" is a Status-Line
	 * attempt, as a Method is a token and holds no '/'. */
	while (s < end && (*s == '\r' || *s == '\n'))
		s++;
	if (end - s >= 4 && eq_ci(s, "sip/", 4))
		errp->scode = 0;
	return err;
}


static void msg_destructor(void *arg)
{
	struct sip_msg *msg = arg;

	mem_deref(msg->conn);
	mem_deref(msg->mb);
}


/**
 * Allocate a counted message that keeps (a reference to) its buffer.
 * The bytes are those of mb from mb->pos to mb->end.
 */
int sip_msg_alloc(struct sip_msg **msgp, struct buf *mb, bool dgram,
		  struct sip_msg_err *errp)
{
	struct sip_msg *msg;
	int err;

	msg = mem_alloc(sizeof(*msg), msg_destructor);
	if (!msg)
		return ENOMEM;
	/* sip_msg_decode() leaves alone what the transport fills in, so a
	 * fresh block must not carry garbage there (the destructor drops
	 * conn) */
	memset(&msg->src, 0, sizeof(msg->src));
	memset(&msg->dst, 0, sizeof(msg->dst));
	msg->tp = 0;
	msg->conn = NULL;
	msg->rx_ms = 0;
	err = sip_msg_decode(msg, (const char *)mb->b + mb->pos, buf_left(mb),
			     dgram, errp);
	if (err) {
		msg->mb = NULL;
		msg->conn = NULL;
		mem_deref(msg);
		return err;
	}
	msg->mb = mem_ref(mb);
	memset(&msg->src, 0, sizeof(msg->src));
	memset(&msg->dst, 0, sizeof(msg->dst));
	msg->tp = 0;
	msg->conn = NULL;
	msg->rx_ms = 0;
	*msgp = msg;
	return 0;
}


/*
 * Relocation of the views of a copied message.  Every pl in the index and
 * in the decoded views points into the bytes; in the copy it must point
 * into the copied bytes, at the same offset.  The static assertions below
 * fail the build when a view gains a field, so that its relocation cannot
 * be forgotten.
 */
struct reloc {
	const char *lo, *hi; /* the old bytes */
	ptrdiff_t delta;
};

static void rl(const struct reloc *r, struct pl *pl)
{
	if (pl->p >= r->lo && pl->p <= r->hi)
		pl->p += r->delta;
}


/* The sizes below are those of the structs as rl_*() know them (x86_64);
 * a new field changes the size: relocate it, then update the number. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct sip_uri) == 168,
	       "struct sip_uri changed: update rl_uri()");
static void rl_uri(const struct reloc *r, struct sip_uri *u)
{
	rl(r, &u->text);
	rl(r, &u->scheme);
	rl(r, &u->user);
	rl(r, &u->password);
	rl(r, &u->host);
	rl(r, &u->port_pl);
	rl(r, &u->params);
	rl(r, &u->headers);
	rl(r, &u->opaque);
}


_Static_assert(sizeof(void *) != 8 || sizeof(struct sip_addr) == 256,
	       "struct sip_addr changed: update rl_addr()");
static void rl_addr(const struct reloc *r, struct sip_addr *a)
{
	rl(r, &a->val);
	rl(r, &a->dname);
	rl(r, &a->auri);
	rl_uri(r, &a->uri);
	rl(r, &a->params);
	rl(r, &a->tag);
}


_Static_assert(sizeof(void *) != 8 || sizeof(struct sip_via) == 168,
	       "struct sip_via changed: update rl_via()");
_Static_assert(sizeof(void *) != 8 || sizeof(struct sip_cseq) == 24,
	       "struct sip_cseq changed: update sip_msg_dup()");
static void rl_via(const struct reloc *r, struct sip_via *v)
{
	rl(r, &v->val);
	rl(r, &v->proto);
	rl(r, &v->transp);
	rl(r, &v->host);
	rl(r, &v->params);
	rl(r, &v->branch);
	rl(r, &v->received);
	rl(r, &v->rport);
	rl(r, &v->maddr);
}


/**
 * Copy a message so that it outlives the receive buffer: the bytes are
 * copied and every view (the index and what has been decoded) moved to
 * the copy, so nothing is parsed twice.
 */
int sip_msg_dup(struct sip_msg **dupp, const struct sip_msg *msg)
{
	struct sip_msg *dup;
	struct reloc r;
	char *bytes;
	size_t hsz;
	uint16_t i;

	/* one block: the message, then its bytes */
	dup = mem_alloc(sizeof(*dup) + msg->len, msg_destructor);
	if (!dup)
		return ENOMEM;
	bytes = (char *)(dup + 1);
	if (msg->len)
		memcpy(bytes, msg->p, msg->len);
	/* everything up to the header array, the used part of it, and
	 * everything after it */
	hsz = offsetof(struct sip_msg, hdrv);
	memcpy(dup, msg, hsz);
	memcpy(dup->hdrv, msg->hdrv, msg->hdrc * sizeof(msg->hdrv[0]));
	memcpy((char *)dup + offsetof(struct sip_msg, hdrc),
	       (const char *)msg + offsetof(struct sip_msg, hdrc),
	       sizeof(*dup) - offsetof(struct sip_msg, hdrc));

	r.lo = msg->p;
	r.hi = msg->p + msg->len;
	r.delta = bytes - msg->p;
	dup->p = bytes;
	dup->mb = NULL;
	rl(&r, &dup->met);
	rl(&r, &dup->ruri);
	rl(&r, &dup->ver);
	rl(&r, &dup->reason);
	rl(&r, &dup->start);
	for (i = 0; i < dup->hdrc; i++) {
		rl(&r, &dup->hdrv[i].name);
		rl(&r, &dup->hdrv[i].val);
	}
	rl(&r, &dup->hdrs);
	rl(&r, &dup->body);
	if (dup->parsed & SIP_PARSED_VIA)
		rl_via(&r, &dup->via);
	if (dup->parsed & SIP_PARSED_FROM)
		rl_addr(&r, &dup->from);
	if (dup->parsed & SIP_PARSED_TO)
		rl_addr(&r, &dup->to);
	if (dup->parsed & SIP_PARSED_CSEQ)
		rl(&r, &dup->cseq.met);
	if (dup->parsed & SIP_PARSED_RURI)
		rl_uri(&r, &dup->uri);
	dup->conn = mem_ref(msg->conn);
	*dupp = dup;
	return 0;
}


/**
 * Frame a message on a stream (RFC 3261 18.3): the headers end at the
 * first empty line; Content-Length, which is mandatory on streams, gives
 * the body.  The scan for the end of the headers restarts from the start on
 * each call; messages are small and mostly arrive whole, so keeping a
 * resume offset would save little.
 */
/* The value of a Content-Length line on a stream: digits between LWS. */
static int frame_clen(const char *d, const char *lf, uint64_t *vp)
{
	uint64_t v = 0;
	bool dig = false;

	while (d < lf && (is_wsp(*d) || *d == '\r' || *d == '\n'))
		d++;
	while (d < lf && *d >= '0' && *d <= '9') {
		v = v * 10 + (uint64_t)(*d - '0');
		dig = true;
		if (v > SIP_MSG_MAX)
			return EMSGSIZE;
		d++;
	}
	while (d < lf && (is_wsp(*d) || *d == '\r' || *d == '\n'))
		d++;
	if (!dig || d != lf)
		return EBADMSG;
	*vp = v;
	return 0;
}


/* RFC 3261 7.3.1: continuation lines belong to the header (the decoder
 * accepts a folded Content-Length, so must the framer): the LF that ends
 * the header that the line ending at lf begins. */
static const char *frame_unfold(const char *lf, const char *hend)
{
	while (lf + 1 < hend && is_wsp(lf[1])) {
		const char *next =
			memchr(lf + 1, '\n', (size_t)(hend - lf - 1));
		if (!next)
			break;
		lf = next;
	}
	return lf;
}


/* The end of the header section (after CRLFCRLF or LFLF), or NULL. */
static const char *frame_hend(const char *s, const char *end)
{
	for (; s < end; s++) {
		s = memchr(s, '\n', (size_t)(end - s));
		if (!s)
			return NULL;
		if (s + 1 < end && s[1] == '\n')
			return s + 2;
		if (s + 2 < end && s[1] == '\r' && s[2] == '\n')
			return s + 3;
	}
	return NULL;
}


int sip_msg_frame(const char *p, size_t len, size_t *msglen, size_t *skip)
{
	const char *cur = p, *end = p + len, *hend = NULL, *s;
	bool have_cl = false;
	uint64_t cl = 0;
	size_t hl;

	*skip = 0;
	while (cur < end && (*cur == '\r' || *cur == '\n'))
		cur++;
	*skip = (size_t)(cur - p);
	if (cur == end)
		return ENODATA;

	hend = frame_hend(cur, end);
	if (!hend)
		return (size_t)(end - cur) > SIP_MSG_MAX ? EMSGSIZE : ENODATA;
	hl = (size_t)(hend - cur);
	if (hl > SIP_MSG_MAX)
		return EMSGSIZE;

	/* find Content-Length or l at the start of a line */
	for (s = cur; s < hend;) {
		const char *lf = memchr(s, '\n', (size_t)(hend - s));
		const char *c, *nend;
		size_t nl;

		if (!lf)
			break;
		lf = frame_unfold(lf, hend);
		c = memchr(s, ':', (size_t)(lf - s));
		if (c && !is_wsp(*s)) {
			nend = c;
			while (nend > s && is_wsp(nend[-1]))
				nend--;
			nl = (size_t)(nend - s);
			if ((nl == 14 && eq_ci(s, "content-length", 14)) ||
			    (nl == 1 && lc((unsigned char)*s) == 'l')) {
				uint64_t v = 0;
				int err = frame_clen(c + 1, lf, &v);

				if (err)
					return err;
				if (have_cl && v != cl)
					return EBADMSG;
				have_cl = true;
				cl = v;
			}
		}
		s = lf + 1;
	}
	if (!have_cl)
		return EBADMSG; /* RFC 3261 18.3: MUST on streams */
	if (hl + cl > SIP_MSG_MAX)
		return EMSGSIZE;
	if ((size_t)(end - hend) < cl)
		return ENODATA;
	*msglen = hl + (size_t)cl;
	return 0;
}


/* ---- header access ---- */

/* Compact forms of headers that have no id here (RFC 3261 7.3.3: the
 * compact and long forms are the same header; letters from the IANA SIP
 * header registry).  0 when the name has none. */
static char other_compact(const struct pl *name)
{
	static const struct {
		const char *name;
		char c;
	} tab[] = {
		{ "referred-by", 'b' },         /* RFC 3892 */
		{ "request-disposition", 'd' }, /* RFC 3841 */
		{ "reject-contact", 'j' },      /* RFC 3841 */
		{ "identity-info", 'n' },       /* RFC 4474 */
		{ "identity", 'y' },            /* RFC 8224 */
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (name->l == 1 && lc((unsigned char)name->p[0]) == tab[i].c)
			return tab[i].c;
		if (name->l == strlen(tab[i].name) &&
		    eq_ci(name->p, tab[i].name, name->l))
			return tab[i].c;
	}
	return 0;
}


/* Two names of unknown headers name the same header. */
static bool other_name_eq(const struct pl *a, const struct pl *b)
{
	char c;

	if (pl_eq_ci(a, b))
		return true;
	c = other_compact(a);
	return c && c == other_compact(b);
}


/* Unknown headers: the next line with the same name. */
const struct sip_hdr *sip_msg_hdr_next_other(const struct sip_msg *msg,
					     const struct sip_hdr *h)
{
	size_t i;

	for (i = (size_t)(h - msg->hdrv) + 1; i < msg->hdrc; i++)
		if (msg->hdrv[i].id == SIP_HDR_OTHER &&
		    other_name_eq(&msg->hdrv[i].name, &h->name))
			return &msg->hdrv[i];
	return NULL;
}


const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg,
				       const char *name)
{
	struct pl n;
	enum sip_hdr_id id;
	uint16_t i;

	pl_set_str(&n, name);
	id = sip_hdr_id_of(&n);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (i = 0; i < msg->hdrc; i++)
		if (msg->hdrv[i].id == SIP_HDR_OTHER &&
		    other_name_eq(&msg->hdrv[i].name, &n))
			return &msg->hdrv[i];
	return NULL;
}


/* The octets that matter when splitting a header line at commas. */
static const uint8_t split_ch[256] = {
	['"'] = 1, ['<'] = 1, ['>'] = 1, [','] = 1, ['\\'] = 1,
};


/* Where the value starting at s ends: the first comma outside a quoted
 * string and outside <>, or end. */
static const char *value_end(const char *s, const char *end)
{
	while (s < end) {
		const char *q;

		/* most octets are none of " < > , \ : skip them by table */
		while (s < end && !split_ch[(unsigned char)*s])
			s++;
		if (s >= end || *s == ',')
			break;
		if (*s == '"') {
			/* a quoted string ends at an unescaped quote */
			for (s++; s < end && *s != '"'; s++)
				if (*s == '\\' && s + 1 < end)
					s++;
			if (s < end)
				s++;
		} else if (*s == '<') {
			/* a URI in <> holds no quote and no '>': the first
			 * '>' closes it (RFC 3261 25.1, name-addr) */
			q = memchr(s, '>', (size_t)(end - s));
			s = q ? q + 1 : end;
		} else {
			s++; /* a stray '>' or '\\' */
		}
	}
	return s;
}


/**
 * Split the next comma-separated value from rest.  Commas inside a quoted
 * string or inside <> do not split (RFC 3261 7.3.1).  Empty values are
 * returned as empty so that the caller can refuse them.
 *
 * @return false when rest is exhausted
 */
bool sip_value_split(struct pl *rest, struct pl *val)
{
	const char *p, *end, *s;

	if (!rest->p || rest->l == 0)
		return false;
	p = rest->p;
	end = p + rest->l;
	/* without a comma the rest is one value whatever it holds (most
	 * lines): one memchr instead of a walk octet by octet */
	s = memchr(p, ',', rest->l) ? value_end(p, end) : end;
	pl_set(val, p, (size_t)(s - p));
	pl_trim(val);
	if (s < end) {
		rest->p = s + 1;
		rest->l = (size_t)(end - s - 1);
		if (rest->l == 0)
			rest->p = end; /* trailing comma: one empty value */
	} else {
		rest->p = NULL;
		rest->l = 0;
	}
	return true;
}


bool sip_msg_hdr_value_next(const struct sip_msg *msg, enum sip_hdr_id id,
			    struct sip_hdr_iter *it, struct pl *val)
{
	for (;;) {
		if (!it->started) {
			it->started = true;
			it->h = sip_msg_hdr(msg, id);
			if (!it->h)
				return false;
			it->rest = it->h->val;
			if (!it->rest.l) {
				/* an empty header line is one empty value */
				pl_set(val, it->h->val.p, 0);
				it->rest.p = NULL;
				return true;
			}
		}
		if (it->rest.p && it->rest.l == 0) {
			/* after a trailing comma */
			pl_set(val, it->rest.p, 0);
			it->rest.p = NULL;
			return true;
		}
		if (sip_value_split(&it->rest, val))
			return true;
		it->h = it->h ? sip_msg_hdr_next(msg, it->h) : NULL;
		if (!it->h)
			return false;
		it->rest = it->h->val;
		if (!it->rest.l) {
			pl_set(val, it->h->val.p, 0);
			it->rest.p = NULL;
			return true;
		}
	}
}


/* ---- typed accessors ---- */

static int first_value(const struct sip_msg *msg, enum sip_hdr_id id,
		       struct pl *val)
{
	struct sip_hdr_iter it = { 0 };

	if (!sip_msg_hdr_value_next(msg, id, &it, val))
		return ENOENT;
	return 0;
}


/* The typed views below are decoded on first use (sip_msg_via() and the
 * other accessors in msg.h return the cache inline afterwards). */
int sip_msg_decode_via(struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_VIA);
	struct pl v;
	int err;

	/* a line without a comma is one value, trimmed already */
	if (h && h->val.l && !memchr(h->val.p, ',', h->val.l)) {
		v = h->val;
	} else {
		err = first_value(msg, SIP_HDR_VIA, &v);
		if (err)
			return err;
	}
	if (sip_via_decode_into(&msg->via, &v))
		return EBADMSG;
	msg->parsed |= SIP_PARSED_VIA;
	return 0;
}


static int addr_hdr(struct sip_msg *msg, enum sip_hdr_id id,
		    struct sip_addr *addr, unsigned bit)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, id);
	const struct sip_addr *like = NULL;

	if (!h)
		return ENOENT;
	/* From and To take a single value: a comma outside quotes and <> is
	 * part of it only in an addr-spec's escaped form, so the whole line
	 * is decoded.  To after From: the same URI is moved, not decoded */
	if (id == SIP_HDR_TO && (msg->parsed & SIP_PARSED_FROM))
		like = &msg->from;
	if (sip_addr_decode_like(addr, &h->val, like))
		return EBADMSG;
	msg->parsed |= bit;
	return 0;
}


int sip_msg_decode_from(struct sip_msg *msg)
{
	return addr_hdr(msg, SIP_HDR_FROM, &msg->from, SIP_PARSED_FROM);
}


int sip_msg_decode_to(struct sip_msg *msg)
{
	return addr_hdr(msg, SIP_HDR_TO, &msg->to, SIP_PARSED_TO);
}


/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16); the number is below 2^31
 * (8.1.1.5). */
int sip_msg_decode_cseq(struct sip_msg *msg)
{
	const struct sip_hdr *h;
	struct pl num, met;
	const char *s, *end;

	h = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	if (!h)
		return ENOENT;
	s = h->val.p;
	end = s + h->val.l;
	num.p = s;
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	num.l = (size_t)(s - num.p);
	if (!num.l || s == end || !(is_wsp(*s) || *s == '\r' || *s == '\n'))
		return EBADMSG;
	while (s < end && (is_wsp(*s) || *s == '\r' || *s == '\n'))
		s++;
	met.p = s;
	if (msg->req && msg->meth != SIP_METHOD_OTHER &&
	    (size_t)(end - s) == msg->met.l &&
	    !memcmp(s, msg->met.p, msg->met.l)) {
		/* the request's method, a known token: nearly always */
		s = end;
		msg->cseq.meth = msg->meth;
	} else {
		while (s < end && is_token(*s))
			s++;
		msg->cseq.meth = SIP_METHOD_OTHER;
	}
	met.l = (size_t)(s - met.p);
	if (!met.l || s != end)
		return EBADMSG;
	if (dec_u32(&num, &msg->cseq.num) || msg->cseq.num > 0x7fffffff)
		return EBADMSG;
	msg->cseq.met = met;
	if (msg->cseq.meth == SIP_METHOD_OTHER)
		msg->cseq.meth = sip_method_id(&met);
	msg->parsed |= SIP_PARSED_CSEQ;
	return 0;
}


int sip_msg_decode_ruri(struct sip_msg *msg)
{
	if (!msg->req)
		return ENOENT;
	if (sip_uri_decode_into(&msg->uri, &msg->ruri))
		return EBADMSG;
	msg->parsed |= SIP_PARSED_RURI;
	return 0;
}


static int u32_hdr(struct sip_msg *msg, enum sip_hdr_id id, unsigned bit,
		   uint32_t *cache, uint32_t *out)
{
	const struct sip_hdr *h;

	if (!(msg->parsed & bit)) {
		h = sip_msg_hdr(msg, id);
		if (!h)
			return ENOENT;
		if (dec_u32(&h->val, cache))
			return EBADMSG;
		msg->parsed |= bit;
	}
	*out = *cache;
	return 0;
}


int sip_msg_maxfwd(struct sip_msg *msg, uint32_t *mf)
{
	int err = u32_hdr(msg, SIP_HDR_MAX_FORWARDS, SIP_PARSED_MAXFWD,
			  &msg->maxfwd, mf);

	/* RFC 3261 20.22: 0-255 */
	if (!err && *mf > 255)
		return EBADMSG;
	return err;
}


int sip_msg_expires(struct sip_msg *msg, uint32_t *exp)
{
	return u32_hdr(msg, SIP_HDR_EXPIRES, SIP_PARSED_EXPIRES, &msg->expires,
		       exp);
}


int sip_msg_clen(struct sip_msg *msg, uint32_t *clen)
{
	if (!(msg->parsed & SIP_PARSED_CLEN))
		return ENOENT;
	*clen = msg->clen;
	return 0;
}


bool sip_msg_has_tag(const struct sip_msg *msg, enum sip_hdr_id id,
		     const char *tag)
{
	struct sip_hdr_iter it = { 0 };
	struct pl v;

	while (sip_msg_hdr_value_next(msg, id, &it, &v))
		if (pl_eq_str_ci(&v, tag))
			return true;
	return false;
}


/* Headers that RFC 3261 allows once only (7.3.1: only headers defined as a
 * comma-separated list may appear several times). */
static const struct {
	enum sip_hdr_id id;
	const char *reason;
} single_hdrs[] = {
	{ SIP_HDR_CALL_ID, "Multiple Call-ID Header Fields" },
	{ SIP_HDR_CSEQ, "Multiple CSeq Header Fields" },
	{ SIP_HDR_FROM, "Multiple From Header Fields" },
	{ SIP_HDR_TO, "Multiple To Header Fields" },
	{ SIP_HDR_MAX_FORWARDS, "Multiple Max-Forwards Header Fields" },
	{ SIP_HDR_CONTENT_TYPE, "Multiple Content-Type Header Fields" },
	{ SIP_HDR_EXPIRES, "Multiple Expires Header Fields" },
};


/**
 * Check what every request (and, for the fields a proxy relies on, every
 * response) must carry: RFC 3261 8.1.1 mandatory headers, each once, a
 * CSeq whose method is the request's, scalars in range, a decodable top
 * Via, From, To and Request-URI.  The reason phrase names what is wrong.
 */
int sip_msg_validate(struct sip_msg *msg, struct sip_msg_err *errp)
{
	const struct sip_hdr *h;
	const struct sip_cseq *cseq;
	const struct sip_addr *a;
	const struct sip_via *via;
	const struct sip_uri *uri;
	struct sip_hdr_iter it = { 0 };
	uint16_t bad = msg->req ? 400 : 0;
	struct pl v;
	uint32_t u;
	size_t i;
	int err;

	for (i = 0; i < sizeof(single_hdrs) / sizeof(single_hdrs[0]); i++)
		if (msg->nlines[single_hdrs[i].id] > 1)
			return fail(errp, bad, single_hdrs[i].reason);

	if (!sip_msg_hdr(msg, SIP_HDR_VIA))
		return fail(errp, 0, "Missing Via");
	err = sip_msg_via(msg, &via);
	if (err)
		return fail(errp, bad, "Malformed Via");
	/* every Via value must at least be present (RFC 4475 3.1.2.1): a
	 * value can only be empty on an empty line or next to a comma, so
	 * the values are walked only when a line is empty or holds one */
	for (h = sip_msg_hdr(msg, SIP_HDR_VIA); h; h = sip_msg_hdr_next(msg, h))
		if (!h->val.l || memchr(h->val.p, ',', h->val.l))
			break;
	while (h && sip_msg_hdr_value_next(msg, SIP_HDR_VIA, &it, &v))
		if (!v.l)
			return fail(errp, bad, "Empty Via Value");
	if (!sip_msg_hdr(msg, SIP_HDR_FROM))
		return fail(errp, bad, "Missing From");
	if (!sip_msg_hdr(msg, SIP_HDR_TO))
		return fail(errp, bad, "Missing To");
	if (!sip_msg_hdr(msg, SIP_HDR_CALL_ID))
		return fail(errp, bad, "Missing Call-ID");
	if (!sip_msg_hdr(msg, SIP_HDR_CSEQ))
		return fail(errp, bad, "Missing CSeq");
	/* a response is matched by its top Via and CSeq (17.1.3); From
	 * and To are decoded when someone reads them, not here (a proxy
	 * forwards responses without looking at them) */
	if (msg->req && sip_msg_from(msg, &a))
		return fail(errp, bad, "Malformed From");
	if (msg->req && sip_msg_to(msg, &a))
		return fail(errp, bad, "Malformed To");
	if (!sip_msg_hdr(msg, SIP_HDR_CALL_ID)->val.l)
		return fail(errp, bad, "Empty Call-ID");
	if (sip_msg_cseq(msg, &cseq))
		return fail(errp, bad, "Malformed CSeq");
	err = sip_msg_maxfwd(msg, &u);
	if (err == EBADMSG)
		return fail(errp, bad, "Bad Max-Forwards");
	err = sip_msg_expires(msg, &u);
	if (err == EBADMSG)
		return fail(errp, bad, "Bad Expires");

	if (!msg->req)
		return 0;

	if (cseq->meth != msg->meth || !pl_eq(&cseq->met, &msg->met)) {
		/* RFC 4475 3.1.2.18: an unknown method with a mismatching
		 * CSeq gets 501 (we do not implement it either way) */
		if (msg->meth == SIP_METHOD_OTHER &&
		    cseq->meth != SIP_METHOD_OTHER)
			return fail(errp, 501, "Not Implemented");
		return fail(errp, 400, "CSeq Method Does Not Match");
	}
	if (msg->ruri.l > 4096)
		return fail(errp, 414, "Request-URI Too Long");
	if (sip_msg_ruri(msg, &uri))
		return fail(errp, 400, "Malformed Request-URI");
	/* RFC 3261 19.1.1 (table: headers not allowed in the Request-URI);
	 * RFC 4475 3.1.2.11 allows rejecting them, which is safer than
	 * forwarding headers nobody may apply */
	if (uri->headers.l)
		return fail(errp, 400, "Headers In Request-URI");
	return 0;
}
