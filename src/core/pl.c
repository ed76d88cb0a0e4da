/**
 * @file pl.c  Pointer-length string helpers.
 *
 * Numeric conversion is strict: digits only, and a value that does not fit
 * is ERANGE rather than wrapped (RFC 4475 3.1.2.4 sends 2^32+5 for CSeq).
 */
#include "core/pl.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

void pl_set_str(struct pl *pl, const char *str)
{
	pl->p = str;
	pl->l = str ? strlen(str) : 0;
}


bool pl_eq(const struct pl *a, const struct pl *b)
{
	return a->l == b->l && (a->l == 0 || !memcmp(a->p, b->p, a->l));
}


static inline int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}


bool pl_eq_ci(const struct pl *a, const struct pl *b)
{
	size_t i;

	if (a->l != b->l)
		return false;
	for (i = 0; i < a->l; i++)
		if (lower((unsigned char)a->p[i]) !=
		    lower((unsigned char)b->p[i]))
			return false;
	return true;
}


bool pl_eq_str(const struct pl *pl, const char *s)
{
	size_t n = strlen(s);

	return pl->l == n && (n == 0 || !memcmp(pl->p, s, n));
}


bool pl_eq_str_ci(const struct pl *pl, const char *s)
{
	struct pl b;

	pl_set_str(&b, s);
	return pl_eq_ci(pl, &b);
}


int pl_cmp_ci(const struct pl *a, const struct pl *b)
{
	size_t i, n = a->l < b->l ? a->l : b->l;

	for (i = 0; i < n; i++) {
		int d = lower((unsigned char)a->p[i]) -
			lower((unsigned char)b->p[i]);
		if (d)
			return d;
	}
	return (a->l > b->l) - (a->l < b->l);
}


/**
 * Decode an unsigned decimal number.
 *
 * @return 0, EINVAL when empty or not all digits, ERANGE on overflow
 */
int pl_u64(const struct pl *pl, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (!pl || !pl->l)
		return EINVAL;
	for (i = 0; i < pl->l; i++) {
		unsigned d = (unsigned char)pl->p[i] - '0';
		if (d > 9)
			return EINVAL;
		if (n > (UINT64_MAX - d) / 10)
			return ERANGE;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}


int pl_u32(const struct pl *pl, uint32_t *v)
{
	uint64_t n;
	int err = pl_u64(pl, &n);

	if (err)
		return err;
	if (n > UINT32_MAX)
		return ERANGE;
	*v = (uint32_t)n;
	return 0;
}


static inline bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


void pl_trim(struct pl *pl)
{
	while (pl->l && is_lws(pl->p[0])) {
		pl->p++;
		pl->l--;
	}
	while (pl->l && is_lws(pl->p[pl->l - 1]))
		pl->l--;
}


const char *pl_chr(const struct pl *pl, char c)
{
	return pl->l ? memchr(pl->p, c, pl->l) : NULL;
}


const char *pl_find_ci(const struct pl *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n == 0 || n > hay->l)
		return NULL;
	for (i = 0; i + n <= hay->l; i++)
		if (!strncasecmp(hay->p + i, needle, n))
			return hay->p + i;
	return NULL;
}


int pl_strdup(char **dst, const struct pl *src)
{
	char *s = mem_strdup(src->p, src->l);

	if (!s)
		return ENOMEM;
	*dst = s;
	return 0;
}


int pl_strcpy(const struct pl *pl, char *buf, size_t size)
{
	if (!size || pl->l >= size)
		return ENOSPC;
	if (pl->l)
		memcpy(buf, pl->p, pl->l);
	buf[pl->l] = '\0';
	return 0;
}
