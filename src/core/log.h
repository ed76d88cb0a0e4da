/**
 * @file log.h  Levelled logging with a module name and a correlation id.
 *
 * The level is tested before anything is formatted.  Per-module tracing
 * (`log.trace = sip,dns`) turns on DEBUG for the named modules only.
 *
 *   #define LOG_MODULE "proxy"
 *   LOG_WARN(&tx->lctx, "no route: %s", strerror(err));
 */
#ifndef IMS_CORE_LOG_H
#define IMS_CORE_LOG_H

#include <stdbool.h>
#include <string.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

/* Correlation context: a Call-ID and a transaction branch, or empty. */
struct log_ctx {
	const char *cid;
	int cid_len;
	const char *tx;
	int tx_len;
};

extern enum log_level log_level_cur;

/* strerror() is not thread-safe (clang-tidy concurrency-mt-unsafe); the
 * glibc description table is. */
static inline const char *log_strerror(int err)
{
	const char *s = strerrordesc_np(err);

	return s ? s : "Unknown error";
}

void log_set_level(enum log_level lvl);
int log_set_level_str(const char *s);
void log_set_trace(const char *modules); /* comma-separated */
bool log_trace_enabled(const char *module);
void log_emit(enum log_level lvl, const char *module, const struct log_ctx *ctx,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, ctx, ...)                                                  \
	do {                                                                   \
		if ((lvl) <= log_level_cur ||                                  \
		    ((lvl) == LOG_LVL_DEBUG && log_trace_enabled(LOG_MODULE))) \
			log_emit((lvl), LOG_MODULE, (ctx), __VA_ARGS__);       \
	} while (0)

#define LOG_ERR(ctx, ...)   LOG_AT(LOG_LVL_ERROR, ctx, __VA_ARGS__)
#define LOG_WARN(ctx, ...)  LOG_AT(LOG_LVL_WARN, ctx, __VA_ARGS__)
#define LOG_INFO(ctx, ...)  LOG_AT(LOG_LVL_INFO, ctx, __VA_ARGS__)
#define LOG_DEBUG(ctx, ...) LOG_AT(LOG_LVL_DEBUG, ctx, __VA_ARGS__)

#endif
