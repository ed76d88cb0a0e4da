/**
 * @file fuzz_dia_msg.c  libFuzzer harness for the Diameter codec.
 *
 * Each input is framed (dia_msg_frame), decoded twice (copying, and
 * zero-copy from a counted buffer), every AVP is walked recursively and
 * read through its typed reader, the message is validated, printed and
 * re-encoded; a request is answered (with the validation error when there
 * is one), and a refused request gets its error answer.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a framed length never exceeds the bytes given and decode agrees with
 *    the framer on what is a whole message;
 *  - every decoded value view lies inside the message's bytes, and the
 *    tree holds exactly msg->avpc decoded AVPs, none deeper than
 *    DIA_DEPTH_MAX;
 *  - re-encoding succeeds, decodes again, and encoding that is a fixed
 *    point (same bytes);
 *  - the two decodes agree;
 *  - refusals name a Result-Code; an answer (or error answer) always
 *    encodes and decodes;
 *  - no counted memory block outlives the input (mem_live_blocks()).
 * A broken property aborts, which libFuzzer and the replay driver report.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pl.h"
#include "diameter/avp.h"
#include "diameter/dict.h"
#include "diameter/msg.h"
#include "net/sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX (DIA_MSG_MAX + 64)

static volatile unsigned fuzz_sink;


static void fail(const char *what)
{
	(void)fprintf(stderr, "fuzz_dia_msg: property broken: %s\n", what);
	abort();
}


static void read_typed(const struct dia_avp *avp)
{
	struct pl pl;
	struct sa sa;
	uint64_t u64;
	int64_t i64;
	uint32_t u32;
	int32_t i32;
	uint16_t fam;
	double f64;
	float f32;

	fuzz_sink += !dia_avp_u32(avp, &u32) + !dia_avp_i32(avp, &i32);
	fuzz_sink += !dia_avp_u64(avp, &u64) + !dia_avp_i64(avp, &i64);
	fuzz_sink += !dia_avp_f32(avp, &f32) + !dia_avp_f64(avp, &f64);
	fuzz_sink += !dia_avp_time(avp, &u64);
	if (!dia_avp_addr(avp, &fam, &pl)) {
		if (pl.l + 2 != avp->val.l)
			fail("Address view length");
		fuzz_sink += fam;
	}
	fuzz_sink += !dia_avp_sa(avp, &sa);
}


static size_t walk(const struct dia_msg *msg, const struct dia_avp *parent,
		   unsigned depth)
{
	const struct dia_avp *avp;
	size_t n = 0;

	if (depth > DIA_DEPTH_MAX + 1)
		fail("AVP tree deeper than DIA_DEPTH_MAX");
	for (avp = dia_avp_first(parent); avp; avp = dia_avp_sibling(avp)) {
		const char *base = msg->raw.p;

		if (avp->parent != parent)
			fail("parent link");
		if (avp->heap)
			fail("decoded AVP marked as built");
		if (avp->val.l &&
		    (avp->val.p < base || avp->val.l > msg->raw.l ||
		     (size_t)(avp->val.p - base) > msg->raw.l - avp->val.l))
			fail("AVP value outside the message");
		for (size_t i = 0; i < avp->val.l; i++)
			fuzz_sink += (unsigned char)avp->val.p[i];
		if (avp->def != dia_dict_avp(avp->code, avp->vendor))
			fail("dictionary entry differs");
		if (avp->grouped &&
		    (!avp->def || avp->def->type != DIA_TYPE_GROUPED))
			fail("members in an AVP that is not Grouped");
		read_typed(avp);
		if (dia_avp_find(parent, avp->code, avp->vendor) == NULL)
			fail("find misses a member");
		++n;
		if (avp->grouped)
			n += walk(msg, avp, depth + 1);
	}
	return n;
}


static void roundtrip(const struct dia_msg *msg)
{
	struct buf *mb = NULL, *mb2 = NULL;
	struct dia_msg *dec = NULL;
	struct dia_err e;
	int err;

	if (buf_alloc(&mb, 256, DIA_MSG_MAX))
		return;
	err = dia_msg_encode(mb, msg);
	if (err == EMSGSIZE && dia_msg_wire_len(msg) > DIA_MSG_MAX)
		goto out; /* liberal decode, strict encode: padding grew */
	if (err)
		fail("re-encode failed");
	err = dia_msg_decode(&dec, mb->b, mb->end, &e);
	if (err == ENOMEM)
		goto out;
	if (err)
		fail("re-encoded message does not decode");
	if (dec->avpc != msg->avpc)
		fail("AVP count changed through re-encode");
	if (buf_alloc(&mb2, 256, DIA_MSG_MAX))
		goto out;
	if (dia_msg_encode(mb2, dec))
		fail("second encode failed");
	if (mb2->end != mb->end || memcmp(mb2->b, mb->b, mb->end) != 0)
		fail("encode is not a fixed point");
out:
	mem_deref(dec);
	mem_deref(mb2);
	mem_deref(mb);
}


static void answer(const struct dia_msg *req, const struct dia_err *verr)
{
	struct dia_msg *ans = NULL, *dec = NULL;
	struct buf *mb = NULL;
	struct dia_err e;

	if (dia_msg_answer_alloc(&ans, req))
		return;
	if (verr && dia_msg_add_error(ans, verr))
		goto out;
	if (buf_alloc(&mb, 256, (size_t)4 * DIA_MSG_MAX))
		goto out;
	if (dia_msg_encode(mb, ans) == EMSGSIZE)
		goto out;
	if (dia_msg_decode(&dec, mb->b, mb->end, &e) == EBADMSG)
		fail("answer does not decode");
out:
	mem_deref(dec);
	mem_deref(mb);
	mem_deref(ans);
}


static void error_answer(const struct dia_err *err)
{
	struct dia_msg *ans = NULL, *dec = NULL;
	struct buf *mb = NULL;
	struct dia_err e;
	int r;

	if (!err->rcode || !err->reason)
		fail("refusal without a Result-Code or reason");
	r = dia_msg_answer_err_alloc(&ans, err);
	if (r == ENOENT && (!err->hdr || !(err->flags & DIA_FLAG_R)))
		return;
	if (r)
		return; /* ENOMEM */
	if (dia_msg_add_error(ans, err))
		goto out;
	if (buf_alloc(&mb, 256, DIA_MSG_MAX))
		goto out;
	if (dia_msg_encode(mb, ans))
		goto out;
	if (dia_msg_decode(&dec, mb->b, mb->end, &e) == EBADMSG)
		fail("error answer does not decode");
	/* Origin-Host/Realm are the peer layer's: only run the checks */
	if (dec)
		fuzz_sink += (unsigned)dia_msg_validate(dec, &e);
out:
	mem_deref(dec);
	mem_deref(mb);
	mem_deref(ans);
}


/* The zero-copy decode agrees with the copying one. */
static void same_zero_copy(const uint8_t *p, size_t len,
			   const struct dia_msg *msg, int err,
			   const struct dia_err *e)
{
	struct dia_msg *msg2 = NULL;
	struct buf *mb = NULL;
	struct dia_err e2;
	int err2;

	if (!len || buf_alloc(&mb, len, len))
		return;
	if (buf_write(mb, p, len) == 0) {
		mb->pos = 0;
		err2 = dia_msg_decode_buf(&msg2, mb, &e2);
		if (err2 != ENOMEM &&
		    (err2 != err || (err && e2.rcode != e->rcode)))
			fail("decode and decode_buf disagree");
		if (!err2 && msg && msg2->avpc != msg->avpc)
			fail("decode and decode_buf counts differ");
	}
	mem_deref(msg2);
	mem_deref(mb);
}


static void check(const uint8_t *p, size_t len)
{
	struct dia_msg *msg = NULL;
	struct dia_err e, ve;
	int err;

	err = dia_msg_decode(&msg, p, len, &e);
	if (err == ENOMEM)
		return;
	if (err) {
		if (err != EBADMSG && err != EMSGSIZE)
			fail("decode error other than EBADMSG/EMSGSIZE");
		error_answer(&e);
	}

	same_zero_copy(p, len, msg, err, &e);

	if (!err) {
		if (walk(msg, &msg->root, 0) != msg->avpc)
			fail("tree does not hold every decoded AVP");
		memset(&ve, 0, sizeof(ve));
		if (dia_msg_validate(msg, &ve) == 0) {
			if (dia_msg_is_request(msg))
				answer(msg, NULL);
		} else {
			if (!ve.rcode || !ve.reason)
				fail("validation error without a code");
			if (dia_msg_is_request(msg))
				answer(msg, &ve);
		}
		{
			struct buf *pb = NULL;

			if (!buf_alloc(&pb, 1024, 1u << 20)) {
				err = dia_msg_print(pb, msg);
				if (err && err != EMSGSIZE && err != ENOMEM)
					fail("print failed");
				mem_deref(pb);
			}
		}
		{
			uint32_t rc, vid;

			fuzz_sink += !dia_msg_result(msg, &rc, &vid);
		}
		roundtrip(msg);
	}

	mem_deref(msg);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t blocks = mem_live_blocks();
	size_t msglen = 0;
	int err;

	if (size > FUZZ_INPUT_MAX)
		return 0;

	check(data, size);

	err = dia_msg_frame(data, size, &msglen);
	if (err == 0 || (err == ENODATA && msglen)) {
		if (msglen < DIA_HDR_LEN || msglen % 4 || msglen > DIA_MSG_MAX)
			fail("framed length out of range");
	}
	if (err == 0) {
		if (msglen > size)
			fail("dia_msg_frame reports more bytes than given");
		if (msglen < size)
			check(data, msglen);
	} else if (err != ENODATA && err != EBADMSG && err != EMSGSIZE) {
		fail("dia_msg_frame error out of its set");
	}

	if (mem_live_blocks() != blocks)
		fail("memory blocks leaked");
	return 0;
}
