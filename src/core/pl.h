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
#include <string.h>

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
/* pl equals the lowercase letters lit (n octets), in any case: OR 0x20
 * lowers a letter and maps no other octet onto one, so lit must be lowercase
 * letters (and '-', '.', digits, which OR 0x20 leaves alone).  Names of 4 to
 * 8 octets compare as two words, overlapping when shorter than 8: the
 * parameter and scheme names of SIP headers. */
static inline bool pl_eq_lower(const struct pl *pl, const char *lit, size_t n)
{
	uint32_t a, b, x, y;
	size_t i;

	if (pl->l != n)
		return false;
	if (n >= 4 && n <= 8) {
		memcpy(&a, pl->p, 4);
		memcpy(&b, pl->p + n - 4, 4);
		memcpy(&x, lit, 4);
		/* cppcheck-suppress pointerOutOfBoundsCond */
		memcpy(&y, lit + n - 4, 4);
		return (a | 0x20202020u) == x && (b | 0x20202020u) == y;
	}
	for (i = 0; i < n; i++)
		if ((pl->p[i] | 0x20) != lit[i])
			return false;
	return true;
}

#define PL_EQ_LOWER(pl, lit) pl_eq_lower(pl, lit, sizeof(lit) - 1)

const char *pl_chr(const struct pl *pl, char c);
const char *pl_find_ci(const struct pl *hay, const char *needle);

/* Copy into a counted, NUL-terminated string (mem_deref it). */
int pl_strdup(char **dst, const struct pl *src) IMS_MUST_CHECK;
/* Copy into a fixed buffer; ENOSPC when it does not fit. */
int pl_strcpy(const struct pl *pl, char *buf, size_t size) IMS_MUST_CHECK;

#endif
