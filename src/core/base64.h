/**
 * @file base64.h  Base64 (RFC 4648 4) and base64url (RFC 4648 5).
 */
#ifndef IMS_CORE_BASE64_H
#define IMS_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

enum base64_flags {
	BASE64_URL = 1,       /* "-_" alphabet, no padding written or read */
	BASE64_CANONICAL = 2, /* decoding: the unused low bits must be 0 */
};

/* The text length of n octets (without the NUL). */
size_t base64_len(size_t n, unsigned flags);
int base64_encode(char *buf, size_t size, const uint8_t *p, size_t n,
		  unsigned flags) IMS_MUST_CHECK;
int base64_decode(const char *s, size_t n, uint8_t *out, size_t size,
		  size_t *outlen, unsigned flags) IMS_MUST_CHECK;

#endif
