/**
 * @file cx_client_int.h  What cx_client.c shares with sh_client.c: the
 *                        typed call on top of dia_node_request() and the
 *                        typed server on top of dia_node_handle().
 *
 * A call keeps the typed handler as a plain function pointer and a
 * deliver function (one per command) that decodes the answer and calls
 * the handler with the right type.  A server keeps the typed handler the
 * same way and a call function (one per command) that decodes the
 * request, calls it and encodes the answer.  Not for other users.
 */
#ifndef IMS_DIAMETER_CX_CLIENT_INT_H
#define IMS_DIAMETER_CX_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "diameter/cx.h"
#include "diameter/cx_client.h"

struct dia_msg;
struct dia_node;

/* Any typed handler (void (*)(void) converts to and from every function
 * pointer type; the deliver or call function converts it back). */
typedef void(cxc_fn)(void);

/* Decode ans (NULL when err) and call the typed handler once. */
typedef void(cxc_deliver_h)(int err, const struct dia_msg *ans,
			    const struct cx_origin *from, cxc_fn *h, void *arg);

/* The head of a request from node as opts say (sid is the Session-Id's
 * storage). */
int cxc_route(struct dia_node *node, const struct cx_client_opts *opts,
	      struct cx_route *rt, char *sid, size_t sidsize) IMS_MUST_CHECK;
/* Send req; deliver runs exactly once, later, when 0 is returned. */
int cxc_send(struct dia_node *node, struct dia_msg *req,
	     const struct cx_client_opts *opts, cxc_deliver_h *deliver,
	     cxc_fn *h, void *arg) IMS_MUST_CHECK;
/* EBADMSG (logged) when an answer did not decode as its command's. */
int cxc_decoded(int derr, uint32_t code);

/* Encode the typed request body (a struct cx_uar, sh_udr, ...). */
typedef int(cxc_encode_h)(struct dia_msg **reqp, const struct cx_route *rt,
			  const void *body);

/* One command of a client: how its request is encoded and its answer
 * delivered. */
struct cxc_cmd {
	cxc_encode_h *encode;
	cxc_deliver_h *deliver;
};

/* Route, encode and send body as cmd says (cxc_route + cxc_send). */
int cxc_call(struct dia_node *node, const struct cxc_cmd *cmd, const void *body,
	     const struct cx_client_opts *opts, cxc_fn *h,
	     void *arg) IMS_MUST_CHECK;

/* Decode req, call s->h, encode the answer into *ansp (left NULL when the
 * handler answered or will answer through sr).  EBADMSG when req does
 * not decode; the handler's errno else. */
typedef int(cxs_call_h)(const struct cx_serve *s, const struct dia_msg *req,
			struct cx_srv_req *sr, struct dia_msg **ansp);

struct cx_serve {
	struct dia_node *node; /* weak: the node outlives it in use */
	uint32_t app, code;
	cxs_call_h *call;
	cxc_fn *h;
	void *arg;
};

int cxs_register(struct cx_serve **sp, struct dia_node *node, uint32_t app,
		 uint32_t code, cxs_call_h *call, cxc_fn *h,
		 void *arg) IMS_MUST_CHECK;
/* Origin-Host/Realm of the node serving sr. */
void cxs_origin(const struct cx_srv_req *sr, struct cx_origin *o);
/* Send ans for sr (once: EALREADY after); the caller derefs ans. */
int cxs_answer(struct cx_srv_req *sr, struct dia_msg *ans) IMS_MUST_CHECK;
bool cxs_answered(const struct cx_srv_req *sr);
/* The request of sr when it is (app, code), else NULL. */
const struct dia_msg *cxs_req(const struct cx_srv_req *sr, uint32_t app,
			      uint32_t code);

/* Encode the typed answer body (a struct cx_rta, sh_pna, ...) to req. */
typedef int(cxs_encode_h)(struct dia_msg **ansp, const struct dia_msg *req,
			  const struct cx_origin *o, const void *body);
/* Encode the answer of a handler that returned 0: nothing when it
 * answered through sr already. */
int cxs_encode(const struct cx_srv_req *sr, const struct dia_msg *req,
	       cxs_encode_h *enc, const void *body,
	       struct dia_msg **ansp) IMS_MUST_CHECK;
/* Answer sr later (after EINPROGRESS) with body when sr is (app, code):
 * EINVAL when it is not, EALREADY when answered. */
int cxs_answer_later(struct cx_srv_req *sr, uint32_t app, uint32_t code,
		     cxs_encode_h *enc, const void *body) IMS_MUST_CHECK;

#endif
