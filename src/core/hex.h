/**
 * @file hex.h  Octets as hexadecimal text and back (lowercase out, either
 *              case in).
 */
#ifndef IMS_CORE_HEX_H
#define IMS_CORE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

/* n octets into 2n lowercase digits and a NUL: out holds 2n + 1. */
void hex_encode(char *out, const uint8_t *p, size_t n);
/* Exactly 2n hex digits (len of them at s) into n octets; EINVAL when
 * the length is not 2n or a character is not a hex digit. */
int hex_decode(uint8_t *out, size_t n, const char *s,
	       size_t len) IMS_MUST_CHECK;

#endif
