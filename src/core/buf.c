/**
 * @file buf.c  Growable buffers with a hard ceiling.
 */
#include "core/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pl.h"

static void buf_destructor(void *arg)
{
	struct buf *b = arg;

	if (!b->inl)
		free(b->b);
}


/**
 * Allocate a counted buffer.
 *
 * @param size  initial capacity
 * @param max   capacity that writes may never exceed
 */
int buf_alloc(struct buf **bp, size_t size, size_t max)
{
	struct buf *b;
	int err;

	if (size && size == max) {
		/* a buffer that can never grow: one block for both */
		b = mem_alloc(sizeof(*b) + size, buf_destructor);
		if (!b)
			return ENOMEM;
		memset(b, 0, sizeof(*b));
		b->b = (uint8_t *)(b + 1);
		b->size = b->max = size;
		b->inl = true;
		*bp = b;
		return 0;
	}
	b = mem_zalloc(sizeof(*b), buf_destructor);
	if (!b)
		return ENOMEM;
	err = buf_init(b, size, max);
	if (err) {
		mem_deref(b);
		return err;
	}
	*bp = b;
	return 0;
}


int buf_init(struct buf *b, size_t size, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : size;
	if (size > b->max)
		return EINVAL;
	if (size) {
		b->b = malloc(size);
		if (!b->b)
			return ENOMEM;
	}
	b->size = size;
	return 0;
}


void buf_reset(struct buf *b)
{
	if (!b->inl)
		free(b->b);
	b->b = NULL;
	b->size = b->pos = b->end = 0;
}


int buf_resize(struct buf *b, size_t size)
{
	uint8_t *n;

	if (size > b->max || b->inl)
		return EMSGSIZE;
	n = realloc(b->b, size ? size : 1);
	if (!n)
		return ENOMEM;
	b->b = n;
	b->size = size;
	if (b->end > size)
		b->end = size;
	if (b->pos > size)
		b->pos = size;
	return 0;
}


/**
 * Room for n more octets at b->pos: one check, one growth at most (to
 * the next power of two, capped at max), so that a writer through a
 * cursor (buf_put) checks the size once for a whole message.
 *
 * @return 0, EMSGSIZE past max (or for a buffer that cannot grow),
 *         ENOMEM
 */
int buf_reserve(struct buf *b, size_t n)
{
	size_t need = b->pos + n, sz;

	if (need < b->pos)
		return EMSGSIZE;
	if (need <= b->size)
		return 0;
	if (need > b->max)
		return EMSGSIZE;
	sz = b->size ? b->size : 256;
	while (sz < need)
		sz *= 2;
	if (sz > b->max)
		sz = b->max;
	return buf_resize(b, sz);
}


int buf_write(struct buf *b, const void *p, size_t n)
{
	int err = buf_reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->b + b->pos, p, n);
	b->pos += n;
	if (b->pos > b->end)
		b->end = b->pos;
	return 0;
}


int buf_write_str(struct buf *b, const char *s)
{
	return buf_write(b, s, strlen(s));
}


int buf_write_pl(struct buf *b, const struct pl *pl)
{
	return pl ? buf_write(b, pl->p, pl->l) : 0;
}


int buf_write_hdr(struct buf *b, const struct pl *name, const struct pl *val)
{
	uint8_t *w;
	int err;

	if (!b || !name || !val)
		return EINVAL;
	err = buf_reserve(b, name->l + 2 + val->l + 2);
	if (err)
		return err;
	w = b->b + b->pos;
	if (name->l)
		memcpy(w, name->p, name->l);
	w += name->l;
	*w++ = ':';
	*w++ = ' ';
	if (val->l)
		memcpy(w, val->p, val->l);
	w += val->l;
	*w++ = '\r';
	*w++ = '\n';
	b->pos = (size_t)(w - b->b);
	if (b->pos > b->end)
		b->end = b->pos;
	return 0;
}


int buf_write_u32(struct buf *b, uint32_t v)
{
	char tmp[10];

	return buf_write(b, tmp, (size_t)(buf_put_u32(tmp, v) - tmp));
}


int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	size_t room;
	int n, err;

	va_copy(aq, ap);
	room = b->size - b->pos;
	/* the analyzer misses the va_copy just above */
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	n = vsnprintf(room ? (char *)b->b + b->pos : NULL, room, fmt, aq);
	va_end(aq);
	if (n < 0)
		return EINVAL;
	if ((size_t)n >= room) {
		err = buf_reserve(b, (size_t)n + 1);
		if (err)
			return err;
		n = vsnprintf((char *)b->b + b->pos, (size_t)n + 1, fmt, ap);
		if (n < 0)
			return EINVAL;
	}
	b->pos += (size_t)n;
	if (b->pos > b->end)
		b->end = b->pos;
	return 0;
}


int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}
