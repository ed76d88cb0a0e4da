/**
 * @file hss_int.h  Internals shared by the HSS application's files:
 *   hss.c       allocation, dispatch, validation, SLF (Dx), UAR, LIR, SAR
 *   hss_mar.c   MAR: SIP Digest and Digest-AKA vectors, resynchronisation
 *   hss_sh.c    Sh: UDR, PUR, SNR, the Sh-Data XML, PNR
 *   hss_push.c  HSS-initiated requests (RTR, PPR, PNR sending), the outbox
 */
#ifndef IMS_HSS_HSS_INT_H
#define IMS_HSS_HSS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "diameter/cx.h"
#include "hss/hss.h"
#include "store/store.h"

struct milenage;

struct hss {
	struct store *st;
	struct hss_conf conf;
	struct milenage *mil;
	struct cx_origin o; /* views of conf.identity and conf.realm */
	hss_send_h *sendh;
	void *send_arg;
	unsigned pending;
};

static inline struct cx_result hss_ok(void)
{
	struct cx_result r = { 2001, 0 }; /* DIAMETER_SUCCESS */

	return r;
}

static inline struct cx_result hss_base(uint32_t code)
{
	struct cx_result r = { code, 0 };

	return r;
}

static inline struct cx_result hss_exp(uint32_t code)
{
	struct cx_result r = { code, 10415 };

	return r;
}

/* A mem string copy of a pl (NULL when unset); ENOMEM. */
int hss_pldup(char **dst, const struct pl *pl);

/* The answer for a store failure: DIAMETER_UNABLE_TO_COMPLY, logged. */
struct cx_result hss_store_failed(const char *what, int err);

/* Snapshot of the registration state of a subscription's IMPUs, to
 * notify Sh subscribers of what a Cx procedure changed. */
struct hss_snap {
	struct list impus; /* struct store_impu */
	char *scscf;
};

int hss_snap_take(struct hss *hss, const char *sub, struct hss_snap *snap);
void hss_snap_reset(struct hss_snap *snap);
/* Compare with the state now and send PNRs (IMSUserState, S-CSCFName). */
void hss_snap_notify(struct hss *hss, const char *sub,
		     const struct hss_snap *before);

/* hss_mar.c */
int hss_mar(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp);

/* hss_sh.c */
int hss_udr(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp);
int hss_pur(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp);
int hss_snr(struct hss *hss, const struct dia_msg *req, struct dia_msg **ansp);
/* PNR to every subscriber of (impu, dref[, si]) with the current data. */
void hss_sh_notify(struct hss *hss, const char *impu, uint32_t dref,
		   const char *si);

/* hss_push.c: send a request built by the caller; the answer goes to
 * done_h with arg (which the context keeps by reference). */
typedef void(hss_done_h)(struct hss *hss, int err, const struct dia_msg *ans,
			 void *arg);
int hss_send(struct hss *hss, struct dia_msg *req, hss_done_h *doneh,
	     void *arg);

#endif
