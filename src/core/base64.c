/**
 * @file base64.c  Base64 (RFC 4648 4) and base64url (RFC 4648 5).
 *
 * Digest-AKA (RFC 3310 3.2) carries RAND, AUTN and the server data in the
 * nonce as standard base64 with padding, and the AKA password as base64
 * of the RES or of HMAC-MD5 (RFC 4169); the SIP digest nonces and opaque
 * values of src/sip/auth.c are base64url without padding, decoded
 * canonically so that one nonce has exactly one spelling.  One encoder and
 * one decoder serve both; nothing is allocated, the caller's buffer is the
 * only output (AKA material is cleansed by its caller).
 *
 * Decoding: '=' padding is optional in the standard alphabet, but when
 * present the input must be whole 4-character groups; a length of 4k + 1
 * characters cannot be base64; anything outside the alphabet is EBADMSG.
 */
#include "core/base64.h"

#include <errno.h>

static const char std_set[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_set[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/**
 * The text length of n octets, without the terminating NUL.
 *
 * @param n      octets
 * @param flags  BASE64_URL: no padding
 * @return characters
 */
size_t base64_len(size_t n, unsigned flags)
{
	if (flags & BASE64_URL)
		return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
	return ((n + 2) / 3) * 4;
}


/**
 * Encode n octets, NUL-terminated.
 *
 * @param buf    output
 * @param size   its size, including the NUL
 * @param p      octets (may be NULL when n is 0)
 * @param n      their number
 * @param flags  BASE64_URL for base64url without padding
 * @return 0, EINVAL, or ENOSPC when buf is too small
 */
int base64_encode(char *buf, size_t size, const uint8_t *p, size_t n,
		  unsigned flags)
{
	const char *set = flags & BASE64_URL ? url_set : std_set;
	size_t i, o = 0;

	if (!buf || (!p && n))
		return EINVAL;
	if (n > SIZE_MAX / 2 || size < base64_len(n, flags) + 1)
		return ENOSPC;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];
		buf[o++] = set[v >> 18];
		buf[o++] = set[(v >> 12) & 63];
		buf[o++] = set[(v >> 6) & 63];
		buf[o++] = set[v & 63];
	}
	if (n - i) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (n - i == 2)
			v |= (uint32_t)p[i + 1] << 8;
		buf[o++] = set[v >> 18];
		buf[o++] = set[(v >> 12) & 63];
		if (n - i == 2)
			buf[o++] = set[(v >> 6) & 63];
		else if (!(flags & BASE64_URL))
			buf[o++] = '=';
		if (!(flags & BASE64_URL))
			buf[o++] = '=';
	}
	buf[o] = '\0';
	return 0;
}


static int val(char c, unsigned flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (flags & BASE64_URL ? '-' : '+'))
		return 62;
	if (c == (flags & BASE64_URL ? '_' : '/'))
		return 63;
	return -1;
}


/**
 * Decode base64 text.
 *
 * @param s       text (not NUL-terminated)
 * @param n       its length
 * @param out     octets
 * @param size    room in out
 * @param outlen  receives the number of octets
 * @param flags   BASE64_URL, BASE64_CANONICAL
 * @return 0, EINVAL, EBADMSG (not base64), or EMSGSIZE (out too small)
 */
int base64_decode(const char *s, size_t n, uint8_t *out, size_t size,
		  size_t *outlen, unsigned flags)
{
	size_t pad = 0, len, i, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if ((!s && n) || !outlen || (!out && size))
		return EINVAL;
	while (!(flags & BASE64_URL) && n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4)
		return EBADMSG;
	if (n % 4 == 1)
		return EBADMSG;
	len = (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (len > size)
		return EMSGSIZE;
	for (i = 0; i < n; i++) {
		const int v = val(s[i], flags);

		if (v < 0)
			return EBADMSG;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* acc holds the unused low bits of the last character */
	if ((flags & BASE64_CANONICAL) && acc)
		return EBADMSG;
	*outlen = o;
	return 0;
}
