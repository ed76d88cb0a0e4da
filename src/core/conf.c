/**
 * @file conf.c  ini parsing into typed structs.
 *
 * Format: `[section]` lines, `name = value` lines, `#` or `;` comments at
 * the start of a line.  A key is looked up as "section.name" in the table.
 * For CONF_LIST, a value may hold several comma-separated entries and the
 * key may repeat; the first occurrence in the file replaces the defaults.
 */
#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}


static const struct conf_item *find(const struct conf_item *items,
				    const char *key)
{
	for (; items->key; items++)
		if (!strcasecmp(items->key, key))
			return items;
	return NULL;
}


static int set_item(const struct conf_item *it, void *base, const char *val,
		    bool append, char *errmsg, size_t errsize)
{
	char *field = (char *)base + it->off;
	unsigned long long n;
	char *end;

	switch (it->type) {
	case CONF_STR:
		if (strlen(val) >= CONF_STR_MAX) {
			(void)snprintf(errmsg, errsize,
				       "%s: value longer than %d characters",
				       it->key, CONF_STR_MAX - 1);
			return EINVAL;
		}
		(void)snprintf(field, CONF_STR_MAX, "%s", val);
		return 0;
	case CONF_U32:
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || end == val || *end || val[0] == '-' ||
		    n > UINT32_MAX || (it->max && n > it->max)) {
			(void)snprintf(errmsg, errsize,
				       "%s: '%s' is not a whole number from 0 "
				       "to %u",
				       it->key, val,
				       it->max ? it->max : UINT32_MAX);
			return EINVAL;
		}
		*(uint32_t *)(void *)field = (uint32_t)n;
		return 0;
	case CONF_BOOL:
		if (!strcasecmp(val, "yes") || !strcasecmp(val, "true") ||
		    !strcasecmp(val, "on") || !strcmp(val, "1"))
			*(int *)(void *)field = 1;
		else if (!strcasecmp(val, "no") || !strcasecmp(val, "false") ||
			 !strcasecmp(val, "off") || !strcmp(val, "0"))
			*(int *)(void *)field = 0;
		else {
			(void)snprintf(errmsg, errsize,
				       "%s: '%s' is not yes or no", it->key,
				       val);
			return EINVAL;
		}
		return 0;
	case CONF_LIST: {
		struct conf_list *l = (struct conf_list *)(void *)field;
		char tmp[1024], *save = NULL, *tok;

		if (!append)
			l->n = 0;
		(void)snprintf(tmp, sizeof(tmp), "%s", val);
		for (tok = strtok_r(tmp, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			tok = trim(tok);
			if (!*tok)
				continue;
			if (l->n >= CONF_LIST_MAX ||
			    strlen(tok) >= CONF_STR_MAX) {
				(void)snprintf(errmsg, errsize,
					       "%s: at most %d entries of "
					       "%d characters",
					       it->key, CONF_LIST_MAX,
					       CONF_STR_MAX - 1);
				return EINVAL;
			}
			(void)snprintf(l->v[l->n++], CONF_STR_MAX, "%s", tok);
		}
		return 0;
	}
	}
	return EINVAL;
}


int conf_set(const struct conf_item *items, void *base, const char *key,
	     const char *val, char *errmsg, size_t errsize)
{
	const struct conf_item *it = find(items, key);

	if (!it) {
		(void)snprintf(errmsg, errsize, "unknown setting '%s'", key);
		return EINVAL;
	}
	return set_item(it, base, val, false, errmsg, errsize);
}


/**
 * Load an ini file.
 *
 * @return 0, ENOENT when the file is missing, EINVAL with errmsg set
 */
int conf_load(const char *path, const struct conf_item *items, void *base,
	      char *errmsg, size_t errsize)
{
	char line[1024], section[64] = "", key[160], msg[200];
	bool seen[256] = { false };
	unsigned lineno = 0;
	FILE *f;
	int err = 0;

	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? ENOENT : errno;
	while (fgets(line, sizeof(line), f)) {
		const struct conf_item *it;
		char *s, *eq;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			(void)snprintf(errmsg, errsize,
				       "%s:%u: line longer than %zu characters",
				       path, lineno, sizeof(line) - 2);
			err = EINVAL;
			break;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] || e - s - 1 >= (long)sizeof(section)) {
				(void)snprintf(errmsg, errsize,
					       "%s:%u: a section line looks "
					       "like [name]",
					       path, lineno);
				err = EINVAL;
				break;
			}
			*e = '\0';
			(void)snprintf(section, sizeof(section), "%s",
				       trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			(void)snprintf(
				errmsg, errsize,
				"%s:%u: expected 'name = value', got '%s'",
				path, lineno, s);
			err = EINVAL;
			break;
		}
		*eq = '\0';
		(void)snprintf(key, sizeof(key), "%s%s%s", section,
			       *section ? "." : "", trim(s));
		it = find(items, key);
		if (!it) {
			(void)snprintf(errmsg, errsize,
				       "%s:%u: unknown setting '%s' (check the "
				       "spelling and the [section])",
				       path, lineno, key);
			err = EINVAL;
			break;
		}
		{
			size_t idx = (size_t)(it - items) % 256;
			err = set_item(it, base, trim(eq + 1), seen[idx], msg,
				       sizeof(msg));
			seen[idx] = true;
		}
		if (err) {
			(void)snprintf(errmsg, errsize, "%s:%u: %s", path,
				       lineno, msg);
			break;
		}
	}
	(void)fclose(f);
	return err;
}
