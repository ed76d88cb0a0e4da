/**
 * @file role_icscf.h  The I-CSCF role of `entims run`: its own SIP stack
 *                     around cscf/icscf.h, Cx through the process's
 *                     Diameter node.
 */
#ifndef IMS_CMD_ROLE_ICSCF_H
#define IMS_CMD_ROLE_ICSCF_H

#include <stddef.h>

#include "cmd/role_sip.h"
#include "core/conf.h"
#include "core/mem.h"

struct dia_node;
struct icscf_role;

/* The [icscf] section. */
struct icscf_role_conf {
	struct role_sip_conf sip; /* [icscf] listen */
	const char *uri;          /* ours */
	/* the S-CSCFs: "sip:127.0.0.1:5080;cap=1;cap=4" */
	const struct conf_list *scscf;
	/* REGISTER only from these ("IP" or "IP:PORT"); none: anyone */
	const struct conf_list *trusted;
	struct dia_node *node; /* Cx client (the shared node) */
	/* DNS servers for S-CSCFs given by name ([sip] dns) */
	const struct conf_list *dns;
};

int icscf_role_start(struct icscf_role **rp, const struct icscf_role_conf *c,
		     char *msg, size_t size) IMS_MUST_CHECK;
void icscf_role_stop(struct icscf_role *r);

#endif
