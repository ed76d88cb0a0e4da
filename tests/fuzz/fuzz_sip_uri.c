/**
 * @file fuzz_sip_uri.c  libFuzzer harness for the URI codec (uri.h).
 *
 * Each input is decoded with sip_uri_decode().  Properties checked, beyond
 * "no crash, no sanitizer report":
 *  - the result is 0 or EBADMSG;
 *  - every decoded view lies inside the input, and is read byte by byte;
 *  - a decoded URI equals itself (sip_uri_eq, RFC 3261 19.1.4 / RFC 3966),
 *    and equals the URI decoded from a copy of the same bytes, both ways;
 *  - the escaped parts of a sip/sips URI (user, password, parameters,
 *    headers) unescape without error, since the decoder validated them;
 *  - every parameter found by sip_param_next() is found again by
 *    sip_param_get() and sip_param_exists().
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pl.h"
#include "sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX 4096 /* URIs longer than this add nothing */

static volatile unsigned fuzz_sink;


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_sip_uri: property broken: %s\n", what);
	abort();
}


static void check_view(const struct pl *pl, const char *base, size_t size)
{
	unsigned sum = 0;
	size_t i;

	if (!pl->p) {
		if (pl->l)
			fail("view without pointer has a length");
		return;
	}
	if (pl->p < base || pl->l > size ||
	    (size_t)(pl->p - base) > size - pl->l)
		fail("view outside the input");
	for (i = 0; i < pl->l; i++)
		sum += (unsigned char)pl->p[i];
	fuzz_sink += sum;
}


static void check_unescape(const struct pl *pl)
{
	char *out;
	size_t n;

	if (!pl->p)
		return;
	out = malloc(pl->l + 1);
	if (!out)
		return;
	if (sip_unescape(pl, out, pl->l + 1, &n) || n > pl->l)
		fail("a validated part does not unescape");
	free(out);
}


static void check_params(const struct pl *params)
{
	struct pl rest = *params, name, val, v2;
	char nm[64];

	while (sip_param_next(&rest, &name, &val)) {
		if (!name.l)
			fail("empty parameter name");
		if (pl_strcpy(&name, nm, sizeof(nm)))
			continue;
		if (memchr(name.p, '\0', name.l))
			continue; /* not expressible as a C string */
		if (!sip_param_exists(params, nm) ||
		    sip_param_get(params, nm, &v2))
			fail("parameter iterated but not found");
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_uri u, c;
	struct pl pl, pc;
	char *copy;
	int err;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	pl_set(&pl, (const char *)data, size);
	err = sip_uri_decode(&u, &pl);
	if (err != 0 && err != EBADMSG)
		fail("unexpected error code");
	if (err)
		return 0;

	check_view(&u.text, pl.p, size);
	check_view(&u.scheme, pl.p, size);
	check_view(&u.user, pl.p, size);
	check_view(&u.password, pl.p, size);
	check_view(&u.host, pl.p, size);
	check_view(&u.port_pl, pl.p, size);
	check_view(&u.params, pl.p, size);
	check_view(&u.headers, pl.p, size);
	check_view(&u.opaque, pl.p, size);

	if (!sip_uri_eq(&u, &u))
		fail("URI differs from itself");

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	pl_set(&pc, copy, size);
	if (sip_uri_decode(&c, &pc))
		fail("the same bytes decode differently");
	if (!sip_uri_eq(&u, &c) || !sip_uri_eq(&c, &u))
		fail("URI differs from its copy");
	free(copy);

	if (u.sch == SIP_SCHEME_SIP || u.sch == SIP_SCHEME_SIPS) {
		check_unescape(&u.user);
		check_unescape(&u.password);
		check_unescape(&u.params);
		check_unescape(&u.headers);
		if (!u.port_pl.p && sip_uri_port(&u) == 0)
			fail("no default port");
	}
	check_params(&u.params);
	return 0;
}
