/**
 * @file sh.h  Typed Sh messages (TS 29.329 6.1): UDR/UDA, PUR/PUA,
 *             SNR/SNA, PNR/PNA, builders and readers for the AS and HSS.
 *
 * Same conventions as cx.h (one struct per command used both ways, pl
 * views, the common head of cx_request_alloc/cx_answer_alloc with the Sh
 * application 16777217).  The User-Data AVP of Sh is code 702 (TS 29.329
 * 6.3.3), carrying the Sh-Data XML of TS 29.328 annex D; the XML itself
 * is built and read by the HSS (src/hss/hss_sh.c) and the AS.
 */
#ifndef IMS_DIAMETER_SH_H
#define IMS_DIAMETER_SH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/pl.h"
#include "diameter/cx.h"

#define SH_DREF_MAX  16 /* Data-Reference AVPs read from one request */
#define SH_SI_MAX    16 /* Service-Indication AVPs */
#define SH_IDSET_MAX 4  /* Identity-Set AVPs */

/* TS 29.329 7.3.1: Sh feature list 1 (none used by this HSS yet) */

/* TS 29.329 6.3.1 User-Identity: one of the two */
struct sh_user_identity {
	struct pl impu;   /* Public-Identity */
	struct pl msisdn; /* MSISDN (TBCD octets) */
};

struct sh_udr {
	struct sh_user_identity uid;
	struct pl wildcarded; /* Wildcarded-Public-Identity */
	struct pl server_name;
	struct pl si[SH_SI_MAX]; /* Service-Indication */
	size_t si_n;
	uint32_t dref[SH_DREF_MAX]; /* Data-Reference */
	size_t dref_n;
	uint32_t idset[SH_IDSET_MAX]; /* Identity-Set */
	size_t idset_n;
	struct pl impi; /* User-Name */
	struct cx_features feat;
};

struct sh_uda {
	struct cx_result res;
	struct pl wildcarded;
	struct pl user_data; /* Sh-Data XML */
	struct cx_features feat;
};

struct sh_pur {
	struct sh_user_identity uid;
	struct pl wildcarded;
	struct pl impi;
	uint32_t dref[SH_DREF_MAX];
	size_t dref_n;
	struct pl user_data;
	struct cx_features feat;
};

struct sh_pua {
	struct cx_result res;
	struct pl wildcarded;
	struct cx_features feat;
};

struct sh_snr {
	struct sh_user_identity uid;
	struct pl wildcarded;
	struct pl si[SH_SI_MAX];
	size_t si_n;
	int send_data; /* Send-Data-Indication, -1 absent */
	struct pl server_name;
	uint32_t subs_req_type;
	uint32_t dref[SH_DREF_MAX];
	size_t dref_n;
	uint32_t idset[SH_IDSET_MAX];
	size_t idset_n;
	bool has_expiry;
	uint64_t expiry; /* Expiry-Time, Unix seconds */
	struct pl impi;
	struct cx_features feat;
};

struct sh_sna {
	struct cx_result res;
	struct pl wildcarded;
	struct pl user_data;
	bool has_expiry;
	uint64_t expiry;
	struct cx_features feat;
};

struct sh_pnr {
	struct sh_user_identity uid;
	struct pl wildcarded;
	struct pl impi;
	struct pl user_data;
	struct cx_features feat;
};

struct sh_pna {
	struct cx_result res;
	struct cx_features feat;
};

int sh_udr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_udr *udr) IMS_MUST_CHECK;
int sh_udr_decode(const struct dia_msg *req, struct sh_udr *udr) IMS_MUST_CHECK;
int sh_uda_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct sh_uda *uda) IMS_MUST_CHECK;
int sh_uda_decode(const struct dia_msg *ans, struct sh_uda *uda) IMS_MUST_CHECK;

int sh_pur_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_pur *pur) IMS_MUST_CHECK;
int sh_pur_decode(const struct dia_msg *req, struct sh_pur *pur) IMS_MUST_CHECK;
int sh_pua_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct sh_pua *pua) IMS_MUST_CHECK;
int sh_pua_decode(const struct dia_msg *ans, struct sh_pua *pua) IMS_MUST_CHECK;

int sh_snr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_snr *snr) IMS_MUST_CHECK;
int sh_snr_decode(const struct dia_msg *req, struct sh_snr *snr) IMS_MUST_CHECK;
int sh_sna_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct sh_sna *sna) IMS_MUST_CHECK;
int sh_sna_decode(const struct dia_msg *ans, struct sh_sna *sna) IMS_MUST_CHECK;

int sh_pnr_encode(struct dia_msg **reqp, const struct cx_route *rt,
		  const struct sh_pnr *pnr) IMS_MUST_CHECK;
int sh_pnr_decode(const struct dia_msg *req, struct sh_pnr *pnr) IMS_MUST_CHECK;
int sh_pna_encode(struct dia_msg **ansp, const struct dia_msg *req,
		  const struct cx_origin *o,
		  const struct sh_pna *pna) IMS_MUST_CHECK;
int sh_pna_decode(const struct dia_msg *ans, struct sh_pna *pna) IMS_MUST_CHECK;

#endif
