/**
 * @file sa.h  Socket addresses (IPv4 and IPv6) with their text forms.
 */
#ifndef IMS_NET_SA_H
#define IMS_NET_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/mem.h"

struct pl;

struct sa {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* "1.2.3.4" or "::1" or "[::1]" with a port given separately */
int sa_set_str(struct sa *sa, const char *addr, uint16_t port) IMS_MUST_CHECK;
int sa_set_pl(struct sa *sa, const struct pl *addr,
	      uint16_t port) IMS_MUST_CHECK;
/* "1.2.3.4:5060", "[::1]:5060" */
int sa_decode(struct sa *sa, const char *str) IMS_MUST_CHECK;
void sa_init(struct sa *sa, int af);
int sa_af(const struct sa *sa);
uint16_t sa_port(const struct sa *sa);
void sa_set_port(struct sa *sa, uint16_t port);
bool sa_isset(const struct sa *sa);
bool sa_eq(const struct sa *a, const struct sa *b);      /* addr and port */
bool sa_eq_addr(const struct sa *a, const struct sa *b); /* addr only */
bool sa_is_any(const struct sa *sa);
bool sa_is_loopback(const struct sa *sa);
/* The address alone: "1.2.3.4" or "::1"; returns the length written. */
int sa_ntop(const struct sa *sa, char *buf, size_t size);
/* For URIs and Via: "1.2.3.4" or "[::1]" (no port). */
int sa_host_fmt(const struct sa *sa, char *buf, size_t size);
/* "1.2.3.4:5060" or "[::1]:5060" */
int sa_fmt(const struct sa *sa, char *buf, size_t size);
uint32_t sa_hash(const struct sa *sa);

#define SA_STRLEN 64

#endif
