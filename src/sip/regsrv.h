/**
 * @file regsrv.h  The registrar behind the transaction layer: how a
 * REGISTER that no transaction absorbed is answered.
 *
 * regsrv_handle() gives the received request to registrar_handle_now()
 * as it is (the registrar keeps nothing of it), builds every answer once
 * from it, and makes a server transaction (without a copy of the request)
 * only for an answer that needs one: a 200 that waits for the batch
 * commit, built whole at once and kept with its transaction until then,
 * or any answer that depends on state.  A challenge (and the 403 of a
 * source blocked for too many failures) is sent statelessly (RFC 3261
 * 8.2.7): no transaction, no Timer J.  See docs/internals/auth-registrar.md.
 */
#ifndef IMS_SIP_REGSRV_H
#define IMS_SIP_REGSRV_H

#include "core/mem.h"

struct registrar;
struct sip;
struct sip_msg;

/* Answer a REGISTER for a domain of reg: now, or once its bindings are
 * committed.  msg is the stack's received message (it need not be
 * counted); it is not kept.  Failures are answered 500 and logged. */
void regsrv_handle(struct registrar *reg, struct sip *sip, struct sip_msg *msg);

#endif
