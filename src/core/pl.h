/**
 * @file pl.h  Pointer-length strings: views into a buffer, never owning it.
 *
 * Whoever keeps a pl keeps the buffer it points into.
 */
#ifndef IMS_CORE_PL_H
#define IMS_CORE_PL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct pl {
	const char *p;
	size_t l;
};

#define PL_FMT(pl) (int)(pl)->l, (pl)->p /* printf("%.*s", PL_FMT(&x)) */
#define PL(s)                      \
	{                          \
		(s), sizeof(s) - 1 \
	}
#define PL_INIT         \
	{               \
		NULL, 0 \
	}

static inline void pl_set(struct pl *pl, const char *p, size_t l)
{
	pl->p = p;
	pl->l = l;
}

void pl_set_str(struct pl *pl, const char *str);
static inline bool pl_isset(const struct pl *pl)
{
	return pl && pl->p && pl->l;
}

bool pl_eq(const struct pl *a, const struct pl *b);
bool pl_eq_ci(const struct pl *a, const struct pl *b);
bool pl_eq_str(const struct pl *pl, const char *s);
bool pl_eq_str_ci(const struct pl *pl, const char *s);
int pl_cmp_ci(const struct pl *a, const struct pl *b);

int pl_u32(const struct pl *pl, uint32_t *v) IMS_MUST_CHECK;
int pl_u64(const struct pl *pl, uint64_t *v) IMS_MUST_CHECK;

void pl_trim(struct pl *pl);

/* The value of a hex digit, or -1. */
static inline int pl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
const char *pl_chr(const struct pl *pl, char c);
const char *pl_find_ci(const struct pl *hay, const char *needle);

/* Copy into a counted, NUL-terminated string (mem_deref it). */
int pl_strdup(char **dst, const struct pl *src) IMS_MUST_CHECK;
/* Copy into a fixed buffer; ENOSPC when it does not fit. */
int pl_strcpy(const struct pl *pl, char *buf, size_t size) IMS_MUST_CHECK;

#endif
