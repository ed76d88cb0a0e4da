/**
 * @file sh_client.h  The Sh client of the application server (TS 29.328
 *                    6.1, TS 29.329 6.1): typed asynchronous UDR, PUR and
 *                    SNR, and the server side for PNR.
 *
 * The same contract as cx_client.h: a call encodes the typed request
 * (sh.h), sends it with dia_node_request() (socket or in-process path)
 * and calls the typed handler exactly once and later with the decoded
 * answer and the answering HSS (from), or with an errno (ETIMEDOUT,
 * EHOSTUNREACH, ECONNRESET, EBADMSG, ECANCELED) and NULLs.  Result codes
 * (5001 USER_UNKNOWN, 5105 TRANSPARENT_DATA_OUT_OF_SYNC ...) are data in
 * the answer's res.
 *
 * The PNR server decodes the request, calls the handler with a PNA
 * prefilled with DIAMETER_SUCCESS and answers it (now, or later with
 * sh_srv_pna after EINPROGRESS); see cx_client.h for the rules, which are
 * the same as for RTR/PPR.  TS 29.328 6.1.4: a PNA with 5107
 * NO_SUBSCRIPTION_TO_DATA makes the HSS drop the subscription.
 *
 * See docs/internals/cx-client.md.
 */
#ifndef IMS_DIAMETER_SH_CLIENT_H
#define IMS_DIAMETER_SH_CLIENT_H

#include "core/mem.h"
#include "diameter/cx_client.h"
#include "diameter/sh.h"

struct dia_node;
struct cx_serve;
struct cx_srv_req;

typedef void(sh_uda_h)(int err, const struct sh_uda *uda,
		       const struct cx_origin *from, void *arg);
typedef void(sh_pua_h)(int err, const struct sh_pua *pua,
		       const struct cx_origin *from, void *arg);
typedef void(sh_sna_h)(int err, const struct sh_sna *sna,
		       const struct cx_origin *from, void *arg);

/* User-Data (TS 29.328 6.1.1), Profile-Update (6.1.2) and
 * Subscribe-Notifications (6.1.3).  opts may be NULL (Destination-Realm
 * the node's).
 * @return 0: h will be called exactly once, later; else it will not be:
 *         EINVAL, EHOSTUNREACH, ENOMEM */
int sh_client_udr(struct dia_node *node, const struct sh_udr *udr,
		  const struct cx_client_opts *opts, sh_uda_h *h,
		  void *arg) IMS_MUST_CHECK;
int sh_client_pur(struct dia_node *node, const struct sh_pur *pur,
		  const struct cx_client_opts *opts, sh_pua_h *h,
		  void *arg) IMS_MUST_CHECK;
int sh_client_snr(struct dia_node *node, const struct sh_snr *snr,
		  const struct cx_client_opts *opts, sh_sna_h *h,
		  void *arg) IMS_MUST_CHECK;

/* Push-Notification (TS 29.328 6.1.4): pna comes zeroed with res =
 * DIAMETER_SUCCESS.  Return 0, EINPROGRESS (after mem_ref(sr)) or an
 * errno (5012). */
typedef int(sh_pnr_h)(const struct sh_pnr *pnr, struct sh_pna *pna,
		      struct cx_srv_req *sr, void *arg);

/* Serve PNR on node; *sp as for cx_client_serve_rtr. */
int sh_client_serve_pnr(struct cx_serve **sp, struct dia_node *node,
			sh_pnr_h *h, void *arg) IMS_MUST_CHECK;
/* Answer a PNR later.  EINVAL when sr is not a PNR, EALREADY. */
int sh_srv_pna(struct cx_srv_req *sr, const struct sh_pna *pna) IMS_MUST_CHECK;

#endif
