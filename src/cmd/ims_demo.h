/**
 * @file ims_demo.h  The demo enterprise of the standalone IMS: four users
 *                   provisioned in the HSS on first start, their passwords
 *                   shown at every start (docs/internals/standalone.md).
 */
#ifndef IMS_CMD_IMS_DEMO_H
#define IMS_CMD_IMS_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/mem.h"

/* The demo's password file in the data directory (0600). */
#define IMS_DEMO_FILE "demo-enterprise.txt"

struct ims_demo_conf {
	const char *data_dir;
	const char *store_url; /* [store] url; "" or "sqlite": the data dir */
	const char *domain;    /* the demo's domain (first start only) */
	/* the phones' registrar and outbound proxy, one line for humans
	 * ("udp:127.0.0.1:5060, tcp:127.0.0.1:5060, tls:127.0.0.1:5061") */
	const char *proxy;
};

/**
 * Provision the demo enterprise when the subscriber store is empty and no
 * demo was ever provisioned in this data directory (a half-done first
 * start is finished), then print the users a softphone needs to out.
 * Once provisioned, nothing is written again: users the administrator
 * deleted stay deleted, changed passwords are not shown.
 *
 * @return 0; msg says why on error (store, file)
 */
int ims_demo_run(const struct ims_demo_conf *c, FILE *out, char *msg,
		 size_t size) IMS_MUST_CHECK;

#endif
