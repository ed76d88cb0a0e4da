/**
 * @file sa.c  Socket address helpers.
 */
#include "net/sa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/pl.h"

void sa_init(struct sa *sa, int af)
{
	memset(sa, 0, sizeof(*sa));
	sa->u.sa.sa_family = (sa_family_t)af;
	sa->len = af == AF_INET6 ? sizeof(sa->u.in6) : sizeof(sa->u.in);
}


int sa_set_str(struct sa *sa, const char *addr, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n;

	if (!addr)
		return EINVAL;
	n = strlen(addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return EINVAL;
		memcpy(tmp, addr + 1, n - 2);
		tmp[n - 2] = '\0';
		addr = tmp;
	}
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &sa->u.in.sin_addr) == 1) {
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = htons(port);
		sa->len = sizeof(sa->u.in);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sa->u.in6.sin6_addr) == 1) {
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = htons(port);
		sa->len = sizeof(sa->u.in6);
		return 0;
	}
	return EINVAL;
}


int sa_set_pl(struct sa *sa, const struct pl *addr, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	if (pl_strcpy(addr, tmp, sizeof(tmp)))
		return EINVAL;
	return sa_set_str(sa, tmp, port);
}


int sa_decode(struct sa *sa, const char *str)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port;
	char *end;
	size_t hl;

	if (!str)
		return EINVAL;
	if (str[0] == '[') {
		const char *rb = strchr(str, ']');
		if (!rb || rb[1] != ':')
			return EINVAL;
		colon = rb + 1;
	} else {
		colon = strrchr(str, ':');
		if (!colon)
			return EINVAL;
	}
	hl = (size_t)(colon - str);
	if (hl >= sizeof(host))
		return EINVAL;
	memcpy(host, str, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return EINVAL;
	return sa_set_str(sa, host, (uint16_t)port);
}


int sa_af(const struct sa *sa)
{
	return sa->u.sa.sa_family;
}


uint16_t sa_port(const struct sa *sa)
{
	switch (sa->u.sa.sa_family) {
	case AF_INET:
		return ntohs(sa->u.in.sin_port);
	case AF_INET6:
		return ntohs(sa->u.in6.sin6_port);
	default:
		return 0;
	}
}


void sa_set_port(struct sa *sa, uint16_t port)
{
	if (sa->u.sa.sa_family == AF_INET)
		sa->u.in.sin_port = htons(port);
	else if (sa->u.sa.sa_family == AF_INET6)
		sa->u.in6.sin6_port = htons(port);
}


bool sa_isset(const struct sa *sa)
{
	return sa && (sa->u.sa.sa_family == AF_INET ||
		      sa->u.sa.sa_family == AF_INET6);
}


bool sa_eq_addr(const struct sa *a, const struct sa *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
	return false;
}


bool sa_eq(const struct sa *a, const struct sa *b)
{
	return sa_eq_addr(a, b) && sa_port(a) == sa_port(b);
}


bool sa_is_any(const struct sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return sa->u.in.sin_addr.s_addr == INADDR_ANY;
	if (sa->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&sa->u.in6.sin6_addr);
	return true;
}


bool sa_is_loopback(const struct sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return (ntohl(sa->u.in.sin_addr.s_addr) >> 24) == 127;
	if (sa->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sa->u.in6.sin6_addr);
	return false;
}


/* Dotted quad by hand: inet_ntop() goes through sprintf(), and addresses
 * are formatted on every registration and every Via. */
static size_t ipv4_fmt(uint32_t a, char *out)
{
	size_t n = 0;
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned v = (a >> (i * 8)) & 0xff;
		if (v >= 100)
			out[n++] = (char)('0' + v / 100);
		if (v >= 10)
			out[n++] = (char)('0' + v / 10 % 10);
		out[n++] = (char)('0' + v % 10);
		if (i)
			out[n++] = '.';
	}
	out[n] = '\0';
	return n;
}


int sa_ntop(const struct sa *sa, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (sa->u.sa.sa_family == AF_INET) {
		n = ipv4_fmt(ntohl(sa->u.in.sin_addr.s_addr), tmp);
	} else if (sa->u.sa.sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &sa->u.in6.sin6_addr, tmp,
			       sizeof(tmp)))
			return snprintf(buf, size, "?");
		n = strlen(tmp);
	} else {
		return snprintf(buf, size, "?");
	}
	if (!size)
		return (int)n;
	if (n >= size)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}


int sa_host_fmt(const struct sa *sa, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n;

	if (sa->u.sa.sa_family == AF_INET6) {
		tmp[0] = '[';
		n = 1 + (size_t)sa_ntop(sa, tmp + 1, sizeof(tmp) - 2);
		tmp[n++] = ']';
		tmp[n] = '\0';
	} else {
		n = (size_t)sa_ntop(sa, tmp, sizeof(tmp));
	}
	if (!size)
		return (int)n;
	if (n >= size)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}


int sa_fmt(const struct sa *sa, char *buf, size_t size)
{
	char tmp[INET6_ADDRSTRLEN + 10];
	unsigned port = sa_port(sa);
	char digits[6];
	size_t n, d = 0;

	n = (size_t)sa_host_fmt(sa, tmp, sizeof(tmp));
	do {
		digits[d++] = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	tmp[n++] = ':';
	while (d)
		tmp[n++] = digits[--d];
	tmp[n] = '\0';
	if (!size)
		return (int)n;
	if (n >= size)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}


uint32_t sa_hash(const struct sa *sa)
{
	uint32_t h = sa_port(sa);

	if (sa->u.sa.sa_family == AF_INET)
		h ^= hash_fast((const char *)&sa->u.in.sin_addr, 4);
	else if (sa->u.sa.sa_family == AF_INET6)
		h ^= hash_fast((const char *)&sa->u.in6.sin6_addr, 16);
	return h;
}
