/**
 * @file sh_client.c  The Sh client of the application server
 *                    (sh_client.h).
 *
 * Design: the Cx client's machinery (cx_client_int.h) with the Sh codec.
 * Calls build the head from the node and the options, encode with sh.h
 * and go through dia_node_request(), so Dh redirects by an SLF (the
 * same 3006 REDIRECT_INDICATION as Dx, TS 29.228 6.6), failover,
 * timeouts and the in-process path are the node's.  The answer is checked to be
 * the command's Sh answer, decoded on the stack and handed to the typed handler
 * once.
 */
#include "diameter/sh_client.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "diameter/cx_client_int.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "diameter/node.h"

#define LOG_MODULE "sh"

static void uda_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	sh_uda_h *h = (sh_uda_h *)fn;
	struct sh_uda uda;

	if (!err)
		err = cxc_decoded(sh_uda_decode(ans, &uda), DIA_CMD_UD);
	h(err, err ? NULL : &uda, err ? NULL : from, arg);
}


static void pua_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	sh_pua_h *h = (sh_pua_h *)fn;
	struct sh_pua pua;

	if (!err)
		err = cxc_decoded(sh_pua_decode(ans, &pua), DIA_CMD_PU);
	h(err, err ? NULL : &pua, err ? NULL : from, arg);
}


static void sna_deliver(int err, const struct dia_msg *ans,
			const struct cx_origin *from, cxc_fn *fn, void *arg)
{
	sh_sna_h *h = (sh_sna_h *)fn;
	struct sh_sna sna;

	if (!err)
		err = cxc_decoded(sh_sna_decode(ans, &sna), DIA_CMD_SN);
	h(err, err ? NULL : &sna, err ? NULL : from, arg);
}


static int udr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return sh_udr_encode(reqp, rt, body);
}

static const struct cxc_cmd udr_cmd = { udr_encode, uda_deliver };


/**
 * User-Data-Request (TS 29.328 6.1.1).
 *
 * @param node  the AS's node
 * @param udr   the request (an identity and a Data-Reference at least)
 * @param opts  destination, Session-Id, timeout (may be NULL)
 * @param h     gets the UDA, or why there is none, once and later
 * @param arg   for h
 * @return 0, or EINVAL, EHOSTUNREACH, ENOMEM (h will not be called)
 */
int sh_client_udr(struct dia_node *node, const struct sh_udr *udr,
		  const struct cx_client_opts *opts, sh_uda_h *h, void *arg)
{
	return cxc_call(node, &udr_cmd, udr, opts, (cxc_fn *)h, arg);
}


static int pur_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return sh_pur_encode(reqp, rt, body);
}

static const struct cxc_cmd pur_cmd = { pur_encode, pua_deliver };


/**
 * Profile-Update-Request (TS 29.328 6.1.2): repository data with its
 * Sequence-Number; the HSS notifies the other subscribers (PNR).
 *
 * @return as sh_client_udr
 */
int sh_client_pur(struct dia_node *node, const struct sh_pur *pur,
		  const struct cx_client_opts *opts, sh_pua_h *h, void *arg)
{
	return cxc_call(node, &pur_cmd, pur, opts, (cxc_fn *)h, arg);
}


static int snr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		      const void *body)
{
	return sh_snr_encode(reqp, rt, body);
}

static const struct cxc_cmd snr_cmd = { snr_encode, sna_deliver };


/**
 * Subscribe-Notifications-Request (TS 29.328 6.1.3).  The HSS sends its
 * PNRs to this node's Origin-Host: serve them with sh_client_serve_pnr.
 *
 * @return as sh_client_udr
 */
int sh_client_snr(struct dia_node *node, const struct sh_snr *snr,
		  const struct cx_client_opts *opts, sh_sna_h *h, void *arg)
{
	return cxc_call(node, &snr_cmd, snr, opts, (cxc_fn *)h, arg);
}


static int pna_encode(struct dia_msg **ansp, const struct dia_msg *req,
		      const struct cx_origin *o, const void *body)
{
	return sh_pna_encode(ansp, req, o, body);
}


static int pnr_call(const struct cx_serve *s, const struct dia_msg *req,
		    struct cx_srv_req *sr, struct dia_msg **ansp)
{
	sh_pnr_h *h = (sh_pnr_h *)s->h;
	struct sh_pnr pnr;
	struct sh_pna pna;
	int err;

	if (sh_pnr_decode(req, &pnr))
		return EBADMSG;
	memset(&pna, 0, sizeof(pna));
	pna.res.code = DIA_SUCCESS;
	err = h(&pnr, &pna, sr, s->arg);
	return err ? err : cxs_encode(sr, req, pna_encode, &pna, ansp);
}


/**
 * Serve Push-Notification-Requests (TS 29.328 6.1.4) on node.
 *
 * @param sp    receives the registration (mem_deref after the node closed)
 * @param node  the AS's node
 * @param h     decoded PNR in, PNA out
 * @param arg   for h
 * @return 0, EINVAL, EEXIST, ENOMEM
 */
int sh_client_serve_pnr(struct cx_serve **sp, struct dia_node *node,
			sh_pnr_h *h, void *arg)
{
	return cxs_register(sp, node, DIA_APP_SH, DIA_CMD_PN, pnr_call,
			    (cxc_fn *)h, arg);
}


/**
 * Answer a PNR later (its handler returned EINPROGRESS).
 *
 * @return 0, EINVAL (sr is not a PNR), EALREADY, ENOMEM
 */
int sh_srv_pna(struct cx_srv_req *sr, const struct sh_pna *pna)
{
	return cxs_answer_later(sr, DIA_APP_SH, DIA_CMD_PN, pna_encode, pna);
}
