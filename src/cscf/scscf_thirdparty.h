/**
 * @file scscf_thirdparty.h  Third-party registration at the S-CSCF (TS
 *                           24.229 5.4.1.7, TS 29.228 B.2.2): application
 *                           servers learn of registrations and
 *                           de-registrations of the users they serve.
 *
 * The registrar reports each change of a registered implicit set
 * (scscf_reg_set_changeh); scscf_tp_change() evaluates the iFCs of the
 * registered IMPU's service profile against the REGISTER (the user's, or
 * for a network-initiated de-registration an equivalent one with Expires
 * 0) and builds one REGISTER per matching AS: Request-URI the AS, From and
 * Contact the S-CSCF, To the IMPU, Expires the registration's (0 when it
 * ends), P-Charging-Vector and P-Access-Network-Info from the user's
 * REGISTER, and a body from the iFC: <service-info> (ServiceInfo),
 * message/sip of the REGISTER (IncludeRegisterRequest) and of its 200
 * (IncludeRegisterResponse), in a multipart/mixed when more than one.
 *
 * The module opens no socket: the caller sends each request (its
 * transaction layer adds the Via) and reports the final status with
 * scscf_tp_result().  An error status or no answer applies the iFC's
 * DefaultHandling: SESSION_TERMINATED de-registers the user (the caller's
 * deregh, e.g. scscf_reg_deregister), SESSION_CONTINUED does nothing.
 * deregh never runs inside scscf_tp_change(): a request that cannot be
 * sent is failed from the loop.
 * See docs/internals/ims-calls.md.
 */
#ifndef IMS_CSCF_SCSCF_THIRDPARTY_H
#define IMS_CSCF_SCSCF_THIRDPARTY_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct sip_msg;
struct scscf_tp;
struct scscf_reg_change;

#define SCSCF_TP_AS_MAX 16 /* ASs notified of one change */

/* Send req (a REGISTER without Via) towards its Request-URI and later call
 * scscf_tp_result(tp, id, status).  An errno: it was not sent. */
typedef int(scscf_tp_send_h)(struct sip_msg *req, uint64_t id, void *arg);
/* DefaultHandling SESSION_TERMINATED: de-register impu (5.4.1.7). */
typedef void(scscf_tp_dereg_h)(const char *impu, void *arg);

struct scscf_tp_conf {
	const char *uri;        /* the S-CSCF's SIP URI: From, Contact */
	uint32_t max_pending;   /* requests awaiting a result; default 1024 */
	scscf_tp_send_h *sendh; /* required */
	scscf_tp_dereg_h *deregh;
	void *arg; /* for both */
};

int scscf_tp_alloc(struct scscf_tp **tpp,
		   const struct scscf_tp_conf *conf) IMS_MUST_CHECK;

/* A registration change (the registrar's change handler calls this):
 * one REGISTER to each matching AS.  *sentp (may be NULL) is the number
 * handed to sendh.  EINVAL, ENOMEM; an AS that cannot be reached is not
 * an error here (its DefaultHandling runs from the loop). */
int scscf_tp_change(struct scscf_tp *tp, const struct scscf_reg_change *c,
		    size_t *sentp) IMS_MUST_CHECK;

/* The final status of request id (0: no answer, e.g. a timeout).  An id
 * not pending (already reported, dropped) is ignored. */
void scscf_tp_result(struct scscf_tp *tp, uint64_t id, uint16_t scode);

/* Requests awaiting their result. */
size_t scscf_tp_pending(const struct scscf_tp *tp);

#endif
