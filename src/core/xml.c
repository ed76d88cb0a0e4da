/**
 * @file xml.c  libxml2 helpers: the writer and the safe parse that the Cx
 *              User-Data (diameter/userdata.c), the HSS's Sh-Data
 *              (hss/hss_sh.c) and reginfo (cscf/reginfo.c) share.
 *
 * Writing goes through libxml2's xmlTextWriter into an xmlBuffer, which
 * escapes every text node and attribute value.  Escaping is not enough:
 * XML 1.0 (section 2.2, Char) cannot carry most control characters or
 * invalid UTF-8 at all, and the writer would put them out raw, making a
 * document no peer can parse.  So every string goes through
 * xmlu_text_ok() first and such a value is EINVAL: the caller's message
 * fails, not the peer's parser.  A libxml2 writer call that fails is
 * ENOMEM (its only failure is an allocation).
 *
 * Reading a peer's document: no network (XML_PARSE_NONET), no entity
 * substitution (no XML_PARSE_NOENT), no DTD loading or validation; a
 * document with a DOCTYPE at all is refused the moment the parser sees it
 * (the SAX internalSubset callback stops the parser), so no entity is
 * ever declared, let alone expanded: billion laughs and external
 * entities never get a start, and an undeclared entity reference is a
 * well-formedness error.  CDATA sections are folded into text.  libxml2
 * reports encoding errors to the thread's generic error handler (stderr)
 * even with XML_PARSE_NOERROR; a silent handler is swapped in for the
 * call and the caller's restored, and the reason goes into a sentence
 * instead.  The size limit is the caller's.
 *
 * xmlInitParser() runs once per process (pthread_once): libxml2 has
 * global tables, and an async SQL worker must not race the loop thread
 * to build them.
 */
#include "core/xml.h"

#include <errno.h>
#include <libxml/chvalid.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/pl.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
	xmlInitParser();
}


/**
 * Initialise libxml2 once per process; every user of libxml2 calls this
 * before its first libxml2 call.
 */
void xmlu_init(void)
{
	(void)pthread_once(&xml_once, xml_init_once);
}


/* ---- writer ----------------------------------------------------------- */

static void writer_destructor(void *data)
{
	struct xmlu_writer *xw = data;

	if (xw->w)
		xmlFreeTextWriter(xw->w);
	if (xw->xb)
		xmlBufferFree(xw->xb);
}


/**
 * Start a UTF-8 XML 1.0 document in memory.
 *
 * @param xwp  receives the writer (mem_deref it); (*xwp)->w is for the
 *             element helpers
 * @return 0, EINVAL or ENOMEM
 */
int xmlu_writer_alloc(struct xmlu_writer **xwp)
{
	struct xmlu_writer *xw;
	int err = 0;

	if (!xwp)
		return EINVAL;
	xmlu_init();
	xw = mem_zalloc(sizeof(*xw), writer_destructor);
	if (!xw)
		return ENOMEM;
	xw->xb = xmlBufferCreate();
	if (xw->xb)
		xw->w = xmlNewTextWriterMemory(xw->xb, 0);
	if (!xw->w ||
	    xmlTextWriterStartDocument(xw->w, "1.0", "UTF-8", NULL) < 0) {
		err = ENOMEM;
		goto out;
	}
	*xwp = xw;
	xw = NULL;
out:
	mem_deref(xw);
	return err;
}


/**
 * End the document (closing the elements still open) and append it to mb.
 * The writer takes no more elements afterwards.
 *
 * @param xw  the writer
 * @param mb  the buffer
 * @return 0, EINVAL, ENOMEM, or EMSGSIZE at mb's ceiling
 */
int xmlu_writer_finish(struct xmlu_writer *xw, struct buf *mb)
{
	int err;

	if (!xw || !xw->w || !mb)
		return EINVAL;
	err = xmlTextWriterEndDocument(xw->w) < 0 ? ENOMEM : 0;
	xmlFreeTextWriter(xw->w); /* flushes into xb */
	xw->w = NULL;
	if (!err)
		err = buf_write(mb, xmlBufferContent(xw->xb),
				(size_t)xmlBufferLength(xw->xb));
	return err;
}


/**
 * Whether an XML 1.0 document can carry s (section 2.2, Char): valid
 * UTF-8 (no overlong forms, no surrogates) without the control characters
 * outside tab, CR and LF, nor U+FFFE and U+FFFF.
 *
 * @param s  a NUL-terminated string
 * @return true if it can; false for NULL
 */
bool xmlu_text_ok(const char *s)
{
	const xmlChar *p = (const xmlChar *)s;

	if (!s)
		return false;
	while (*p) {
		int len = 4;
		int c = xmlGetUTF8Char(p, &len);

		if (c < 0 || len <= 0 || !xmlIsCharQ(c))
			return false;
		/* RFC 3629 3: an overlong form is not UTF-8.  libxml2 2.9's
		 * xmlGetUTF8Char() decodes C0 AF as '/', yet its parser
		 * refuses the document the writer would make of it. */
		if (len != (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4))
			return false;
		p += len;
	}
	return true;
}


static int w_ok(int rc)
{
	return rc < 0 ? ENOMEM : 0;
}


/**
 * Open an element.
 *
 * @return 0 or ENOMEM
 */
int xmlu_start(struct _xmlTextWriter *w, const char *name)
{
	return w_ok(xmlTextWriterStartElement(w, BAD_CAST name));
}


/**
 * Close the innermost open element.
 *
 * @return 0 or ENOMEM
 */
int xmlu_end(struct _xmlTextWriter *w)
{
	return w_ok(xmlTextWriterEndElement(w));
}


/**
 * Write an element without content.
 *
 * @return 0 or ENOMEM
 */
int xmlu_empty(struct _xmlTextWriter *w, const char *name)
{
	int err = xmlu_start(w, name);

	return err ? err : xmlu_end(w);
}


/**
 * Write an element holding text.
 *
 * @param w     the writer
 * @param name  the element
 * @param text  its content, escaped
 * @return 0, EINVAL (text NULL or not XML 1.0 Char) or ENOMEM
 */
int xmlu_elem(struct _xmlTextWriter *w, const char *name, const char *text)
{
	if (!xmlu_text_ok(text))
		return EINVAL;
	return w_ok(xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text));
}


/**
 * Write an element holding a decimal integer (xs:int, xs:long).
 *
 * @return 0 or ENOMEM
 */
int xmlu_elem_long(struct _xmlTextWriter *w, const char *name, long v)
{
	char num[24];

	(void)snprintf(num, sizeof(num), "%ld", v);
	return xmlu_elem(w, name, num);
}


static const char *u64_str(char *num, size_t size, uint64_t v)
{
	(void)snprintf(num, size, "%llu", (unsigned long long)v);
	return num;
}


/**
 * Write an element holding a decimal unsigned integer (xs:unsignedInt,
 * xs:unsignedLong).
 *
 * @return 0 or ENOMEM
 */
int xmlu_elem_u64(struct _xmlTextWriter *w, const char *name, uint64_t v)
{
	char num[24];

	return xmlu_elem(w, name, u64_str(num, sizeof(num), v));
}


/**
 * Write an attribute of the element just opened.
 *
 * @param w     the writer
 * @param name  the attribute (a prefix:name for xmlns declarations)
 * @param v     its value, escaped
 * @return 0, EINVAL (v NULL or not XML 1.0 Char) or ENOMEM
 */
int xmlu_attr(struct _xmlTextWriter *w, const char *name, const char *v)
{
	if (!xmlu_text_ok(v))
		return EINVAL;
	return w_ok(xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v));
}


/**
 * Write an attribute holding a decimal unsigned integer.
 *
 * @return 0 or ENOMEM
 */
int xmlu_attr_u64(struct _xmlTextWriter *w, const char *name, uint64_t v)
{
	char num[24];

	return xmlu_attr(w, name, u64_str(num, sizeof(num), v));
}


/**
 * Write text into the open element.
 *
 * @return 0, EINVAL (text NULL or not XML 1.0 Char) or ENOMEM
 */
int xmlu_text(struct _xmlTextWriter *w, const char *text)
{
	if (!xmlu_text_ok(text))
		return EINVAL;
	return w_ok(xmlTextWriterWriteString(w, BAD_CAST text));
}


/**
 * Write markup as it is: only for what libxml2 serialised itself or what
 * was checked to be a well-formed fragment.
 *
 * @return 0, EINVAL (xml NULL) or ENOMEM
 */
int xmlu_raw(struct _xmlTextWriter *w, const char *xml)
{
	if (!xml)
		return EINVAL;
	return w_ok(xmlTextWriterWriteRaw(w, BAD_CAST xml));
}


/* ---- reader ----------------------------------------------------------- */

static void xml_silent(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}


/* SAX internalSubset: a DOCTYPE.  No document entims reads needs one, and
 * without it no entity can be declared; stop before the subset is read. */
static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *eid,
		       const xmlChar *sid)
{
	xmlParserCtxtPtr ctxt = ctx;

	(void)name;
	(void)eid;
	(void)sid;
	ctxt->wellFormed = 0;
	xmlStopParser(ctxt);
}


static void say(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whysz)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}


/* EBADMSG with libxml2's reason, or ENOMEM when that is what failed. */
static int parse_error(xmlParserCtxtPtr ctxt, char *why, size_t whysz)
{
	const xmlError *xe = xmlCtxtGetLastError(ctxt);
	char msg[96] = "no document";
	size_t n;

	if (xe && xe->code == XML_ERR_NO_MEMORY)
		return ENOMEM;
	if (xe && xe->message)
		(void)snprintf(msg, sizeof(msg), "%s", xe->message);
	n = strlen(msg);
	while (n && (msg[n - 1] == ' ' || msg[n - 1] == '\t' ||
		     msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0'; /* libxml2 ends messages with \n */
	say(why, whysz, "not well-formed XML (line %d: %s)", xe ? xe->line : 0,
	    msg);
	return EBADMSG;
}


/**
 * Parse an untrusted XML document (a peer's User-Data, Sh-Data,
 * reginfo): no DOCTYPE, no network, CDATA folded into text, and nothing
 * written to stderr.
 *
 * @param docp   receives the document (xmlFreeDoc)
 * @param p      the bytes (need not be NUL-terminated)
 * @param len    their number
 * @param opts   max: the largest len accepted (at most INT_MAX, libxml2's
 *               limit); what: the document's name in the sentences
 *               ("reginfo of 200000 bytes is larger than the 131072
 *               accepted", "a DOCTYPE is not allowed in reginfo"), or NULL
 * @param why    receives a sentence on EBADMSG and EMSGSIZE, or NULL
 * @param whysz  its size
 * @return 0 (the document has a root element), EBADMSG (not well-formed,
 *         or a DOCTYPE), EMSGSIZE, EINVAL or ENOMEM
 */
int xmlu_parse(struct _xmlDoc **docp, const char *p, size_t len,
	       const struct xmlu_parse_opts *opts, char *why, size_t whysz)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlGenericErrorFunc gen_h;
	xmlDocPtr doc = NULL;
	void *gen_ctx;
	int err = 0;

	if (why && whysz)
		why[0] = '\0';
	if (!docp || !opts || (!p && len))
		return EINVAL;
	if (len > opts->max || len > (size_t)INT_MAX) {
		say(why, whysz,
		    "%s of %zu bytes is larger than the %zu accepted",
		    opts->what ? opts->what : "a document", len,
		    opts->max < (size_t)INT_MAX ? opts->max : (size_t)INT_MAX);
		return EMSGSIZE;
	}
	xmlu_init();

	gen_h = xmlGenericError;
	gen_ctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, xml_silent);

	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		err = ENOMEM;
		goto out;
	}
	ctxt->sax->internalSubset = refuse_dtd;
	/* no NOENT (entities stay references), no DTDLOAD/DTDATTR/DTDVALID,
	 * no network; NOCDATA folds CDATA sections into text */
	doc = xmlCtxtReadMemory(ctxt, p ? p : "", (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING |
					XML_PARSE_NOCDATA);
	if (ctxt->errNo == XML_ERR_USER_STOP ||
	    (doc && (doc->intSubset || doc->extSubset))) {
		if (opts->what)
			say(why, whysz, "a DOCTYPE is not allowed in %s",
			    opts->what);
		else
			say(why, whysz, "a DOCTYPE is not allowed");
		err = EBADMSG;
		goto out;
	}
	if (!doc) {
		err = parse_error(ctxt, why, whysz);
		goto out;
	}
	if (!xmlDocGetRootElement(doc)) {
		say(why, whysz, "the document has no root element");
		err = EBADMSG;
		goto out;
	}
	*docp = doc;
	doc = NULL;
out:
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	xmlSetGenericErrorFunc(gen_ctx, gen_h);
	return err;
}


/**
 * The text of a simple-content element: its text and CDATA children, in
 * order, as one string.
 *
 * @param n     the element
 * @param trim  remove XML white space (XML 1.0 2.3 S) around it, for
 *              values of pretty-printed documents
 * @param outp  receives the string (mem_deref it)
 * @param badp  receives the child element or entity reference that makes
 *              it not simple content, or NULL
 * @return 0, EINVAL, EBADMSG or ENOMEM
 */
int xmlu_node_text(const struct _xmlNode *n, bool trim, char **outp,
		   const struct _xmlNode **badp)
{
	const xmlNode *c;
	size_t len = 0, off = 0;
	struct pl v;
	char *s;

	if (!n || !outp)
		return EINVAL;
	for (c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) {
			len += (size_t)xmlStrlen(c->content);
		} else if (c->type == XML_ELEMENT_NODE ||
			   c->type == XML_ENTITY_REF_NODE) {
			if (badp)
				*badp = c;
			return EBADMSG;
		}
	}
	s = mem_alloc(len + 1, NULL);
	if (!s)
		return ENOMEM;
	for (c = n->children; c; c = c->next) {
		size_t l;

		if (c->type != XML_TEXT_NODE &&
		    c->type != XML_CDATA_SECTION_NODE)
			continue;
		l = (size_t)xmlStrlen(c->content);
		memcpy(s + off, c->content, l);
		off += l;
	}
	v.p = s;
	v.l = off;
	if (trim)
		pl_trim(&v); /* space, tab, CR, LF: XML's S */
	memmove(s, v.p, v.l);
	s[v.l] = '\0';
	*outp = s;
	return 0;
}
