/**
 * @file role_hss.h  The HSS (and SLF) role of `entims run`: the subscriber
 *                   store, the Cx/Dx/Sh application and its Diameter node.
 */
#ifndef IMS_CMD_ROLE_HSS_H
#define IMS_CMD_ROLE_HSS_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/mem.h"

struct dia_node_conf;
struct hss_role;

/* The [hss] section and what the role takes from the others. */
struct hss_role_conf {
	const char *data_dir;
	const char *store_url; /* [store] url; "" or "sqlite": the data dir */
	const struct dia_node_conf *node; /* [diameter] */
	/* [hss] scscf: "sip:scscf.example.net:6060" with ";cap=N" for
	 * each capability it has (TS 29.228 6.7) */
	const struct conf_list *scscf;
	/* [hss] networks: visited networks allowed besides the realm */
	const struct conf_list *networks;
	const char *slf;      /* [hss] slf: off, only, with-hss */
	uint32_t vectors_max; /* [hss] vectors_max, 0: default */
	/* the process's node when other roles share it (the CSCFs' Cx
	 * then takes the in-process path): its handlers are added, the
	 * caller starts and closes it; NULL: the role makes its own */
	struct dia_node *shared_node;
};

/* Open the store, create the HSS, start its Diameter node; on error msg
 * holds a sentence for the operator. */
int hss_role_start(struct hss_role **rp, const struct hss_role_conf *c,
		   char *msg, size_t size) IMS_MUST_CHECK;
/* DPR to the peers; then mem_deref. */
void hss_role_stop(struct hss_role *r);

#endif
