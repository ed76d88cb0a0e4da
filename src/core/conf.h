/**
 * @file conf.h  A small ini file read once into typed structs through a
 * directive table (nginx style).
 *
 *   static const struct conf_item items[] = {
 *	{ "sip.domain", CONF_STR, offsetof(struct cfg, domain), 0 },
 *	{ "sip.max_expires", CONF_U32, offsetof(struct cfg, max_exp), 0 },
 *	{ NULL, 0, 0, 0 }
 *   };
 *
 * Unknown keys, bad numbers and bad booleans are refused with the file,
 * line and what to fix; nothing is silently ignored.
 */
#ifndef IMS_CORE_CONF_H
#define IMS_CORE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

enum conf_type {
	CONF_STR, /* char[CONF_STR_MAX] field */
	CONF_U32,
	CONF_BOOL, /* yes/no, true/false, on/off, 1/0 */
	CONF_LIST, /* repeated or comma-separated: struct conf_list */
};

#define CONF_STR_MAX  256
#define CONF_LIST_MAX 16

struct conf_list {
	char v[CONF_LIST_MAX][CONF_STR_MAX];
	size_t n;
};

struct conf_item {
	const char *key; /* "section.name" */
	enum conf_type type;
	size_t off;
	uint32_t max; /* CONF_U32: upper bound (0: none) */
};

/* Parse a file into base.  On error, *errmsg (static storage) says where
 * and what. ENOENT when the file does not exist. */
int conf_load(const char *path, const struct conf_item *items, void *base,
	      char *errmsg, size_t errsize) IMS_MUST_CHECK;
/* Apply one "section.name=value" (used for command-line overrides). */
int conf_set(const struct conf_item *items, void *base, const char *key,
	     const char *val, char *errmsg, size_t errsize) IMS_MUST_CHECK;

#endif
