/**
 * @file cx_client.h  The Cx client of the I-CSCF and S-CSCF (TS 29.228 6,
 *                    TS 29.229 6.1): typed asynchronous UAR, SAR, LIR and
 *                    MAR, and the S-CSCF's server side for RTR and PPR.
 *
 * A call encodes the typed request (cx.h), sends it with
 * dia_node_request() and delivers the decoded answer to a typed handler,
 * exactly once and never from inside the call:
 *
 *   struct cx_client_opts o = { .dest_host = hss_learnt };
 *   err = cx_client_sar(node, &sar, &o, saa_h, reg);
 *   ...
 *   static void saa_h(int err, const struct cx_saa *saa,
 *                     const struct cx_origin *from, void *arg)
 *
 * err is 0 with the answer (whatever its Result-Code or Experimental-
 * Result: those are message data), or ETIMEDOUT (no answer in time),
 * EHOSTUNREACH (no peer could take it), ECONNRESET (the peer went down),
 * EBADMSG (the answer did not validate, or does not decode as the
 * command's answer), ECANCELED (the node closed); the typed answer and
 * from are NULL then.  from is the answering HSS (Origin-Host/Realm),
 * which the S-CSCF keeps for its later SAR/MAR (TS 29.228 6.1.2, 6.3:
 * Destination-Host of the HSS that answered); after a Dx redirect it is
 * the HSS, not the SLF.
 *
 * The same calls take the in-process path when the HSS is served in this
 * process (dia_node's directory): no encoding and no socket, but the same
 * validation, ids, timeout and delivery from a later loop iteration.
 *
 * The server side decodes RTR/PPR, calls the typed handler with an answer
 * prefilled with DIAMETER_SUCCESS, and sends RTA/PPA: at once when the
 * handler returns 0, later (cx_srv_rta/cx_srv_ppa) when it returns
 * EINPROGRESS after taking mem_ref(sr).  A served request is always
 * answered: another errno answers 5012 UNABLE_TO_COMPLY (3004 TOO_BUSY
 * for EBUSY), a request that does not decode 5004 INVALID_AVP_VALUE, and
 * dropping the last reference of an unanswered sr answers 5012.
 *
 * See docs/internals/cx-client.md.
 */
#ifndef IMS_DIAMETER_CX_CLIENT_H
#define IMS_DIAMETER_CX_CLIENT_H

#include <stdint.h>

#include "core/mem.h"
#include "diameter/cx.h"

struct dia_msg;
struct dia_node;
struct cx_serve;
struct cx_srv_req;

/* Where a request goes and how long it may take. */
struct cx_client_opts {
	/* Destination-Host: the HSS learnt from an earlier answer (the
	 * S-CSCF's SAR/MAR after MAA, TS 29.228 6.1.2/6.3); NULL: routed
	 * by realm (the I-CSCF's UAR/LIR, or through the SLF, 6.6) */
	const char *dest_host;
	/* Destination-Realm; NULL: the node's realm (the home network) */
	const char *dest_realm;
	/* Session-Id; NULL: a new one from the node (RFC 6733 8.8) */
	const char *session_id;
	/* 0: the node's request_timeout_ms */
	uint32_t timeout_ms;
};

typedef void(cx_uaa_h)(int err, const struct cx_uaa *uaa,
		       const struct cx_origin *from, void *arg);
typedef void(cx_saa_h)(int err, const struct cx_saa *saa,
		       const struct cx_origin *from, void *arg);
typedef void(cx_lia_h)(int err, const struct cx_lia *lia,
		       const struct cx_origin *from, void *arg);
/* maa->item holds every SIP-Auth-Data-Item of the answer (item_n). */
typedef void(cx_maa_h)(int err, const struct cx_maa *maa,
		       const struct cx_origin *from, void *arg);

/* The four Cx requests.  opts may be NULL.
 * @return 0: h will be called exactly once, later; else it will not be:
 *         EINVAL (a mandatory member is missing), EHOSTUNREACH (no route
 *         can ever take it), ENOMEM */
int cx_client_uar(struct dia_node *node, const struct cx_uar *uar,
		  const struct cx_client_opts *opts, cx_uaa_h *h,
		  void *arg) IMS_MUST_CHECK;
int cx_client_sar(struct dia_node *node, const struct cx_sar *sar,
		  const struct cx_client_opts *opts, cx_saa_h *h,
		  void *arg) IMS_MUST_CHECK;
int cx_client_lir(struct dia_node *node, const struct cx_lir *lir,
		  const struct cx_client_opts *opts, cx_lia_h *h,
		  void *arg) IMS_MUST_CHECK;
int cx_client_mar(struct dia_node *node, const struct cx_mar *mar,
		  const struct cx_client_opts *opts, cx_maa_h *h,
		  void *arg) IMS_MUST_CHECK;

/* ---- the S-CSCF's server side ---- */

/* rta/ppa come zeroed with res = DIAMETER_SUCCESS; the pl members the
 * handler sets must stay valid until it returns.  Return 0 (answer now),
 * EINPROGRESS (after mem_ref(sr): answer later) or an errno. */
typedef int(cx_rtr_h)(const struct cx_rtr *rtr, struct cx_rta *rta,
		      struct cx_srv_req *sr, void *arg);
typedef int(cx_ppr_h)(const struct cx_ppr *ppr, struct cx_ppa *ppa,
		      struct cx_srv_req *sr, void *arg);

/* Serve RTR (TS 29.228 6.1.3) / PPR (6.2.2) on node.  *sp holds the
 * handler: release it (mem_deref) only after dia_node_close(node), the
 * node calls into it until then.  EEXIST when already served. */
int cx_client_serve_rtr(struct cx_serve **sp, struct dia_node *node,
			cx_rtr_h *h, void *arg) IMS_MUST_CHECK;
int cx_client_serve_ppr(struct cx_serve **sp, struct dia_node *node,
			cx_ppr_h *h, void *arg) IMS_MUST_CHECK;

/* Answer a request whose handler returned EINPROGRESS.  EALREADY when
 * answered already; the caller still derefs sr. */
int cx_srv_rta(struct cx_srv_req *sr, const struct cx_rta *rta) IMS_MUST_CHECK;
int cx_srv_ppa(struct cx_srv_req *sr, const struct cx_ppa *ppa) IMS_MUST_CHECK;
/* The request being served (its pl views stay valid while sr lives). */
const struct dia_msg *cx_srv_req_msg(const struct cx_srv_req *sr);
/* The peer it came from ("" for the in-process path). */
const char *cx_srv_req_peer(const struct cx_srv_req *sr);

#endif
