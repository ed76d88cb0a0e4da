/**
 * @file role_scscf.h  The S-CSCF role of `entims run`: its own SIP stack
 *                     around the S-CSCF registrar (cscf/scscf_reg.h).
 */
#ifndef IMS_CMD_ROLE_SCSCF_H
#define IMS_CMD_ROLE_SCSCF_H

#include <stddef.h>

#include "cmd/role_sip.h"
#include "core/conf.h"
#include "core/mem.h"

struct dia_node;
struct scscf_role;
struct callrec_tab;

/* The [scscf] section. */
struct scscf_role_conf {
	struct role_sip_conf sip; /* [scscf] listen */
	const char *uri;          /* Server-Name, Service-Route host */
	const char *realm;        /* AKA digest realm; NULL: IMPU domain */
	const char *data_dir;     /* its SQLite store goes here */
	/* NULL: the store is in data_dir/scscf; else the SQLite file that
	 * holds its tables (the standalone process: the HSS's file) */
	const char *db_file;
	struct dia_node *node; /* Cx client (the shared node) */
	const char *icscf;     /* I-CSCF URI for our domains (LIR) */
	const char *breakout;  /* BGCF / gateway for tel:; NULL: 404 */
	const struct conf_list *domains; /* home domains; empty: home */
	const char *home;                /* the default home domain ([diameter]
					    realm) */
	/* DNS servers for next hops given by name ([sip] dns) */
	const struct conf_list *dns;
};

/* Call before dia_node_start(): the registrar serves RTR/PPR. */
int scscf_role_start(struct scscf_role **rp, const struct scscf_role_conf *c,
		     char *msg, size_t size) IMS_MUST_CHECK;
/* Stop the listeners, answer pending REGISTERs; close the Diameter node
 * before the final mem_deref. */
void scscf_role_stop(struct scscf_role *r);
/* The role's call records (cscf/callrec.h): a call-record store
 * subscribes here (callrec_subscribe) after scscf_role_start().  NULL
 * when r is. */
struct callrec_tab *scscf_role_calls(const struct scscf_role *r);

#endif
