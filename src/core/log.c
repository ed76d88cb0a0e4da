/**
 * @file log.c  Log output: one line per event on stderr, UTC timestamps.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum log_level log_level_cur = LOG_LVL_INFO;
static char trace_mods[256];
static bool trace_any;

static const char *const lvl_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void log_set_level(enum log_level lvl)
{
	log_level_cur = lvl;
}


/** @return 0, or -1 when the name is not a level */
int log_set_level_str(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(lvl_names) / sizeof(lvl_names[0]); i++) {
		if (!strcasecmp(s, lvl_names[i])) {
			log_level_cur = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}


void log_set_trace(const char *modules)
{
	(void)snprintf(trace_mods, sizeof(trace_mods), ",%s,",
		       modules ? modules : "");
	trace_any = modules && *modules;
}


bool log_trace_enabled(const char *module)
{
	char key[64];

	if (!trace_any)
		return false;
	(void)snprintf(key, sizeof(key), ",%s,", module);
	return strstr(trace_mods, key) != NULL || strstr(trace_mods, ",all,");
}


void log_emit(enum log_level lvl, const char *module, const struct log_ctx *ctx,
	      const char *fmt, ...)
{
	char ts[32], line[2048];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n = 0;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	if (!gmtime_r(&now.tv_sec, &tm) ||
	    !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		ts[0] = '\0';

	n = snprintf(line, sizeof(line), "%s %s %s", ts, lvl_names[lvl],
		     module);
	if (ctx && ctx->cid && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " cid=%.*s",
			      ctx->cid_len, ctx->cid);
	if (ctx && ctx->tx && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " tx=%.*s",
			      ctx->tx_len, ctx->tx);
	if (n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ' ';
		va_start(ap, fmt);
		/* the analyzer misses the va_start just above */
		/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
		(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	(void)fprintf(stderr, "%s\n", line);
}
