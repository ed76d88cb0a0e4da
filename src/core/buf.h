/**
 * @file buf.h  Growable byte buffers with a ceiling.
 *
 * `pos` is the read/write cursor, `end` the end of valid data.  Every
 * buffer has a maximum size: growth past it fails with EMSGSIZE, so no
 * peer can make us allocate without bound.
 */
#ifndef IMS_CORE_BUF_H
#define IMS_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"

struct pl;

struct buf {
	uint8_t *b;
	size_t size;
	size_t pos;
	size_t end;
	size_t max;
	bool inl; /* storage allocated with the struct (size == max) */
};

int buf_alloc(struct buf **bp, size_t size, size_t max) IMS_MUST_CHECK;
int buf_init(struct buf *b, size_t size, size_t max) IMS_MUST_CHECK;
void buf_reset(struct buf *b); /* free storage of an embedded buf */
int buf_resize(struct buf *b, size_t size) IMS_MUST_CHECK;
int buf_reserve(struct buf *b, size_t n) IMS_MUST_CHECK;
int buf_write(struct buf *b, const void *p, size_t n) IMS_MUST_CHECK;
int buf_write_str(struct buf *b, const char *s) IMS_MUST_CHECK;
int buf_write_pl(struct buf *b, const struct pl *pl) IMS_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...) IMS_MUST_CHECK
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) IMS_MUST_CHECK
	__attribute__((format(printf, 2, 0)));
int buf_write_u32(struct buf *b, uint32_t v) IMS_MUST_CHECK; /* decimal */
/* A header line: name ": " value CRLF (what SIP proxies write for every
 * line they relay: no format parsing) */
int buf_write_hdr(struct buf *b, const struct pl *name,
		  const struct pl *val) IMS_MUST_CHECK;

static inline size_t buf_left(const struct buf *b)
{
	return b->end > b->pos ? b->end - b->pos : 0;
}

static inline uint8_t *buf_cur(const struct buf *b)
{
	return b->b + b->pos;
}

/* Writing through a cursor into room reserved before (the caller has
 * checked the size once): each returns the cursor after what it wrote. */
static inline char *buf_put(char *w, const void *s, size_t n)
{
	if (n)
		memcpy(w, s, n);
	return w + n;
}

#define BUF_PUT_LIT(w, lit) buf_put(w, lit, sizeof(lit) - 1)

/* The decimal digits of v (at most 10 octets). */
static inline char *buf_put_u32(char *w, uint32_t v)
{
	char tmp[10];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_put(w, tmp + i, sizeof(tmp) - i);
}

#endif
