/**
 * @file role_pcscf.h  The P-CSCF role of `entims run`: its own SIP stack
 *                     (listeners, transactions) around cscf/pcscf.h.
 */
#ifndef IMS_CMD_ROLE_PCSCF_H
#define IMS_CMD_ROLE_PCSCF_H

#include <stddef.h>

#include "cmd/role_sip.h"
#include "core/conf.h"
#include "core/mem.h"

struct pcscf_role;

/* The [pcscf] section. */
struct pcscf_role_conf {
	struct role_sip_conf sip; /* [pcscf] listen, TLS files of [sip] */
	const char *uri;          /* ours: Path, Record-Route */
	/* the home I-CSCF URI; NULL or "": the Request-URI's domain by
	 * NAPTR/SRV (RFC 3263, TS 24.229 5.2.2.1) */
	const char *icscf;
	const char *visited_network;
	/* the trust domain: "IP" (any port) or "IP:PORT"; none: the
	 * I-CSCF's address */
	const struct conf_list *core;
	/* DNS servers for next hops given by name ([sip] dns); NULL or
	 * none: /etc/resolv.conf */
	const struct conf_list *dns;
};

int pcscf_role_start(struct pcscf_role **rp, const struct pcscf_role_conf *c,
		     char *msg, size_t size) IMS_MUST_CHECK;
/* Stop the listeners and transactions; then mem_deref. */
void pcscf_role_stop(struct pcscf_role *r);

#endif
