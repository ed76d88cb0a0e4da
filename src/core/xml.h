/**
 * @file xml.h  libxml2 helpers shared by every XML body entims reads or
 *              writes (Cx User-Data, Sh-Data, reginfo): the writer with
 *              XML 1.0 text checks, and the one safe parse of a peer's
 *              document.
 *
 * The prefix is xmlu_ because libxml2 owns xml_ and xml*.
 */
#ifndef IMS_CORE_XML_H
#define IMS_CORE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct buf;
struct _xmlBuffer;
struct _xmlDoc;
struct _xmlNode;
struct _xmlTextWriter;

/* libxml2 initialised once per process (before any thread races to). */
void xmlu_init(void);

/* ---- writer ---- */

/* A document being written into memory; w is what the element helpers
 * take.  xmlu_writer_alloc() has written the XML declaration. */
struct xmlu_writer {
	struct _xmlTextWriter *w;
	struct _xmlBuffer *xb;
};

int xmlu_writer_alloc(struct xmlu_writer **xwp) IMS_MUST_CHECK;
/* Close every open element, end the document and append it to mb. */
int xmlu_writer_finish(struct xmlu_writer *xw, struct buf *mb) IMS_MUST_CHECK;

/* Text an XML 1.0 document can carry: valid UTF-8, Char only (XML 1.0
 * 2.2); false for NULL. */
bool xmlu_text_ok(const char *s);

/* Each is 0, EINVAL for text xmlu_text_ok() refuses, or ENOMEM. */
int xmlu_start(struct _xmlTextWriter *w, const char *name) IMS_MUST_CHECK;
int xmlu_end(struct _xmlTextWriter *w) IMS_MUST_CHECK;
int xmlu_empty(struct _xmlTextWriter *w, const char *name) IMS_MUST_CHECK;
int xmlu_elem(struct _xmlTextWriter *w, const char *name,
	      const char *text) IMS_MUST_CHECK;
int xmlu_elem_long(struct _xmlTextWriter *w, const char *name,
		   long v) IMS_MUST_CHECK;
int xmlu_elem_u64(struct _xmlTextWriter *w, const char *name,
		  uint64_t v) IMS_MUST_CHECK;
int xmlu_attr(struct _xmlTextWriter *w, const char *name,
	      const char *v) IMS_MUST_CHECK;
int xmlu_attr_u64(struct _xmlTextWriter *w, const char *name,
		  uint64_t v) IMS_MUST_CHECK;
/* Text content of the open element, escaped. */
int xmlu_text(struct _xmlTextWriter *w, const char *text) IMS_MUST_CHECK;
/* Markup already serialised by libxml2 (or checked well-formed), as is. */
int xmlu_raw(struct _xmlTextWriter *w, const char *xml) IMS_MUST_CHECK;

/* ---- reader ---- */

struct xmlu_parse_opts {
	size_t max;       /* larger documents are EMSGSIZE */
	const char *what; /* names the document in sentences, or NULL */
};

/* Parse an untrusted document: no DOCTYPE (so no entity), no network,
 * silent.  EBADMSG and EMSGSIZE with a sentence in why (when not NULL);
 * *docp has a root element and is for xmlFreeDoc(). */
int xmlu_parse(struct _xmlDoc **docp, const char *p, size_t len,
	       const struct xmlu_parse_opts *opts, char *why,
	       size_t whysz) IMS_MUST_CHECK;

/* The text of a simple-content element (its text and CDATA children) as
 * a new mem string, XML white space around it removed when trim is set.
 * EBADMSG when it holds an element or an entity reference, which *badp
 * (when not NULL) then points to. */
int xmlu_node_text(const struct _xmlNode *n, bool trim, char **outp,
		   const struct _xmlNode **badp) IMS_MUST_CHECK;

#endif
