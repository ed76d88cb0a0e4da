/**
 * @file role_sip.h  A CSCF role's own SIP stack for `entims run`.
 */
#ifndef IMS_CMD_ROLE_SIP_H
#define IMS_CMD_ROLE_SIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/mem.h"
#include "sip/sip.h"

struct sip_strans;

/* A role's own SIP stack: its listeners ("udp:IP:PORT", "tcp:...",
 * "tls:..." which needs tls_cert) and transactions; msg names the
 * setting on error. */
struct role_sip_conf {
	const char *section; /* "pcscf", for the messages */
	const struct conf_list *listen;
	const char *tls_cert, *tls_key, *tls_ca; /* "" or NULL: none */
};
int role_sip_open(struct sip **sipp, const struct role_sip_conf *c,
		  sip_req_h *reqh, sip_resp_h *resph, void *arg, char *msg,
		  size_t size) IMS_MUST_CHECK;

/* Send a final answer on a server transaction; a failure is logged
 * (the client retransmits or gives up: nothing else to do). */
void role_reply(struct sip_strans *st, uint16_t scode, const char *reason);

/* A role's sip_resp_h: a response whose client transaction is gone has
 * nowhere to go (every role forwards statefully), so it is dropped. */
void role_stray_response(struct sip *sip, struct sip_msg *msg, void *arg);

#endif
