/**
 * @file hex.c  Octets as hexadecimal text and back.
 */
#include "core/hex.h"

#include <errno.h>

#include "core/pl.h"

/**
 * Encode n octets as 2n lowercase hex digits followed by a NUL.
 */
void hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}


/**
 * Decode exactly 2n hex digits (either case) into n octets.
 *
 * @return 0, or EINVAL (wrong length, not a hex digit); out may then be
 *         partly written
 */
int hex_decode(uint8_t *out, size_t n, const char *s, size_t len)
{
	size_t i;

	if (!s || len != 2 * n)
		return EINVAL;
	for (i = 0; i < n; i++) {
		int h = pl_hexval(s[2 * i]), l = pl_hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}
