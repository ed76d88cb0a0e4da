/**
 * @file test_dia_codec.c  The Diameter codec and dictionary: round trips of
 * every base type, grouped and vendor AVPs, padding; a CER, a Cx MAR and
 * MAA decoded from and rebuilt byte for byte against hand-assembled
 * vectors (tests/data/diameter/, .hex files); every malformed case refused; the
 * stream framer fed one byte at a time; validation results with their
 * Failed-AVP; answers and error answers; the printer.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <arpa/inet.h>
#include <errno.h>
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

#define V3  DIA_VENDOR_3GPP
#define CX  DIA_APP_CX
#define SID "scscf.ims.example.com;1700000000;1"

struct vec {
	uint8_t b[2048];
	size_t len;
};


/* Read a .hex vector: hex octets, '#' to end of line is a comment. */
static void load_hex(const char *name, struct vec *v)
{
	char path[512];
	FILE *f;
	int c, hi = -1;

	(void)snprintf(path, sizeof(path), "%s/tests/data/diameter/%s",
		       ENTIMS_SOURCE_DIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	v->len = 0;
	while ((c = fgetc(f)) != EOF) {
		int d;

		if (c == '#') {
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		d = pl_hexval((char)c);
		if (d < 0)
			continue;
		if (hi < 0) {
			hi = d;
		} else {
			assert_true(v->len < sizeof(v->b));
			v->b[v->len++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	(void)fclose(f);
	assert_int_equal(hi, -1);
}


static struct buf *encode(const struct dia_msg *msg)
{
	struct buf *mb = NULL;

	assert_int_equal(buf_alloc(&mb, 256, DIA_MSG_MAX), 0);
	assert_int_equal(dia_msg_encode(mb, msg), 0);
	assert_int_equal(mb->end, dia_msg_wire_len(msg));
	return mb;
}


static void assert_bytes(const struct buf *mb, const struct vec *v)
{
	assert_int_equal(mb->end, v->len);
	assert_memory_equal(mb->b, v->b, v->len);
}


static struct dia_msg *decode_ok(const uint8_t *p, size_t len)
{
	struct dia_msg *msg = NULL;
	struct dia_err e;

	assert_int_equal(dia_msg_decode(&msg, p, len, &e), 0);
	assert_non_null(msg);
	return msg;
}


static bool pl_is(const struct pl *pl, const char *s)
{
	return pl_eq_str(pl, s);
}


static void test_dict(void **state)
{
	const struct dia_avp_def *d;
	const struct dia_cmd_def *c;

	(void)state;
	assert_int_equal(dia_dict_check(), 0);

	d = dia_dict_avp(DIA_AVP_PUBLIC_IDENTITY, V3);
	assert_non_null(d);
	assert_string_equal(d->name, "Public-Identity");
	assert_int_equal(d->type, DIA_TYPE_UTF8);
	assert_int_equal(d->m, DIA_M_MUST);
	assert_null(dia_dict_avp(DIA_AVP_PUBLIC_IDENTITY, 0));

	d = dia_dict_avp(DIA_AVP_FAILED_AVP, 0);
	assert_non_null(d);
	assert_int_equal(d->type, DIA_TYPE_GROUPED);
	d = dia_dict_avp(DIA_AVP_DIGEST_HA1, 0);
	assert_non_null(d);
	assert_string_equal(d->name, "Digest-HA1");
	assert_ptr_equal(dia_dict_avp_by_name("Server-Assignment-Type"),
			 dia_dict_avp(DIA_AVP_SERVER_ASSIGNMENT_TYPE, V3));
	/* same code, different vendor: RFC 7683 vs TS 29.229 */
	assert_string_equal(dia_dict_avp(621, 0)->name,
			    "OC-Supported-Features");
	assert_string_equal(dia_dict_avp(621, V3)->name,
			    "Primary-Charging-Collection-Function-Name");

	c = dia_dict_cmd(DIA_CMD_MA, CX);
	assert_non_null(c);
	assert_string_equal(c->req_abbr, "MAR");
	assert_true(c->pxy);
	assert_null(dia_dict_cmd(DIA_CMD_MA, DIA_APP_SH));
	c = dia_dict_cmd(DIA_CMD_PN, DIA_APP_SH);
	assert_non_null(c);
	assert_string_equal(c->ans_abbr, "PNA");
	assert_false(dia_dict_cmd(DIA_CMD_CE, 0)->pxy);

	assert_string_equal(dia_dict_rcode_name(2001, V3),
			    "DIAMETER_FIRST_REGISTRATION");
	assert_string_equal(dia_dict_rcode_name(2001, 0), "DIAMETER_SUCCESS");
	assert_string_equal(dia_dict_rcode_name(5001, V3),
			    "DIAMETER_ERROR_USER_UNKNOWN");
	assert_string_equal(dia_dict_rcode_name(5108, V3),
			    "DIAMETER_ERROR_DSAI_NOT_AVAILABLE");
	assert_null(dia_dict_rcode_name(2999, 0));
	assert_string_equal(dia_dict_enum_name(DIA_AVP_SERVER_ASSIGNMENT_TYPE,
					       V3, DIA_SAT_RE_REGISTRATION),
			    "RE_REGISTRATION");
	assert_string_equal(dia_dict_enum_name(DIA_AVP_DATA_REFERENCE, V3,
					       DIA_DR_IMS_USER_STATE),
			    "IMSUserState");
	assert_null(dia_dict_enum_name(DIA_AVP_REASON_CODE, V3, 9));
	assert_int_equal(dia_type_min_len(DIA_TYPE_U64), 8);
}


/* Every base type through encode and decode; padding is zero and counted
 * outside the AVP length. */
static void test_base_types(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dia_msg *msg = NULL, *dec;
	const struct dia_avp *avp;
	struct buf *mb;
	struct sa sa, sa2;
	struct pl pl;
	uint16_t fam;
	uint32_t u32;
	int32_t i32;
	uint64_t u64;
	int64_t i64;
	float f32;
	double f64;

	(void)state;
	assert_int_equal(dia_msg_alloc(&msg, 999, 0, DIA_FLAG_R), 0);
	assert_int_equal(dia_add_octets(&msg->root, 9001, 0,
					"\x01\x02\x03"
					"\x04\x05",
					5),
			 0);
	assert_int_equal(dia_add_u32(&msg->root, 9002, 0, 0xdeadbeef), 0);
	assert_int_equal(dia_add_i32(&msg->root, 9003, 0, -42), 0);
	assert_int_equal(
		dia_add_u64(&msg->root, 9004, 0, 0x0102030405060708ull), 0);
	assert_int_equal(dia_add_i64(&msg->root, 9005, 0, -1234567890123ll), 0);
	assert_int_equal(dia_add_f32(&msg->root, 9006, 0, 1.5f), 0);
	assert_int_equal(dia_add_f64(&msg->root, 9007, 0, -2.25), 0);
	/* before and after the NTP era rollover of 2036-02-07 */
	assert_int_equal(dia_add_time(&msg->root, 9008, 0, 1700000000), 0);
	assert_int_equal(dia_add_time(&msg->root, 9009, 0, 2200000000ull), 0);
	assert_int_equal(dia_add_time(&msg->root, 9009, 0, 5000000000ull),
			 ERANGE);
	assert_int_equal(sa_set_str(&sa, "192.0.2.7", 0), 0);
	assert_int_equal(
		dia_add_sa(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0, &sa), 0);
	assert_int_equal(dia_add_addr(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0,
				      DIA_ADDR_IPV6, v6, sizeof(v6)),
			 0);
	assert_int_equal(dia_add_addr(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0,
				      DIA_ADDR_IPV4, v6, 16),
			 EINVAL);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_HOST, 0,
				     "h\xc3\xa9.example"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, 9010, V3, ""), 0);

	mb = encode(msg);
	/* the first AVP: 8 header + 5 data + 3 padding, length field 13 */
	assert_int_equal(mb->b[DIA_HDR_LEN + 7], 13);
	assert_memory_equal(mb->b + DIA_HDR_LEN + 13, "\0\0\0", 3);
	assert_int_equal(mb->b[DIA_HDR_LEN + 16 + 3], 9002 & 0xff);

	dec = decode_ok(mb->b, mb->end);
	assert_int_equal(dec->code, 999);
	assert_int_equal(dec->flags, DIA_FLAG_R);

	assert_int_equal(dia_get_pl(&dec->root, 9001, 0, &pl), 0);
	assert_int_equal(pl.l, 5);
	assert_memory_equal(pl.p, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(dia_get_u32(&dec->root, 9002, 0, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(dia_get_i32(&dec->root, 9003, 0, &i32), 0);
	assert_int_equal(i32, -42);
	assert_int_equal(dia_get_u64(&dec->root, 9004, 0, &u64), 0);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(dia_avp_i64(dia_avp_find(&dec->root, 9005, 0), &i64),
			 0);
	assert_true(i64 == -1234567890123ll);
	assert_int_equal(dia_avp_f32(dia_avp_find(&dec->root, 9006, 0), &f32),
			 0);
	assert_true(f32 == 1.5f);
	assert_int_equal(dia_avp_f64(dia_avp_find(&dec->root, 9007, 0), &f64),
			 0);
	assert_true(f64 == -2.25);
	assert_int_equal(dia_avp_time(dia_avp_find(&dec->root, 9008, 0), &u64),
			 0);
	assert_true(u64 == 1700000000);
	avp = dia_avp_find(&dec->root, 9009, 0);
	assert_int_equal(dia_avp_u32(avp, &u32), 0);
	assert_true(u32 < 0x80000000u); /* second era: top bit clear */
	assert_int_equal(dia_avp_time(avp, &u64), 0);
	assert_true(u64 == 2200000000ull);

	avp = dia_avp_find(&dec->root, DIA_AVP_HOST_IP_ADDRESS, 0);
	assert_int_equal(dia_avp_sa(avp, &sa2), 0);
	assert_true(sa_eq_addr(&sa, &sa2));
	avp = dia_avp_next(avp);
	assert_int_equal(dia_avp_addr(avp, &fam, &pl), 0);
	assert_int_equal(fam, DIA_ADDR_IPV6);
	assert_int_equal(pl.l, 16);
	assert_memory_equal(pl.p, v6, 16);
	assert_null(dia_avp_next(avp));

	assert_int_equal(dia_get_pl(&dec->root, DIA_AVP_ORIGIN_HOST, 0, &pl),
			 0);
	assert_true(pl_is(&pl, "h\xc3\xa9.example"));
	avp = dia_avp_find(&dec->root, 9010, V3);
	assert_non_null(avp);
	assert_int_equal(avp->flags, DIA_AVP_FLAG_V);
	assert_int_equal(avp->val.l, 0);

	/* wrong lengths are refused by the typed readers */
	assert_int_equal(dia_avp_u32(dia_avp_find(&dec->root, 9004, 0), &u32),
			 EBADMSG);
	assert_int_equal(dia_avp_u64(dia_avp_find(&dec->root, 9002, 0), &u64),
			 EBADMSG);
	assert_int_equal(dia_get_u32(&dec->root, 4242, 0, &u32), ENOENT);

	/* the decoded message encodes to the same bytes */
	{
		struct buf *mb2 = encode(dec);

		assert_int_equal(mb2->end, mb->end);
		assert_memory_equal(mb2->b, mb->b, mb->end);
		mem_deref(mb2);
	}

	mem_deref(dec);
	mem_deref(msg);
	mem_deref(mb);
}


/* Grouped AVPs, vendor AVPs, find inside a group, removal, copies. */
static void test_grouped_vendor(void **state)
{
	struct dia_msg *msg = NULL, *dec;
	struct dia_avp *sadi = NULL, *dig = NULL;
	const struct dia_avp *g, *avp;
	struct buf *mb;
	struct pl pl;
	uint32_t u;

	(void)state;
	assert_int_equal(
		dia_msg_alloc(&msg, DIA_CMD_MA, CX, DIA_FLAG_R | DIA_FLAG_P),
		0);
	for (unsigned i = 1; i <= 3; i++) {
		assert_int_equal(dia_add_group(&msg->root,
					       DIA_AVP_SIP_AUTH_DATA_ITEM, V3,
					       &sadi),
				 0);
		assert_int_equal(sadi->flags, DIA_AVP_FLAG_V | DIA_AVP_FLAG_M);
		assert_int_equal(
			dia_add_u32(sadi, DIA_AVP_SIP_ITEM_NUMBER, V3, i), 0);
		assert_int_equal(dia_add_group(sadi,
					       DIA_AVP_SIP_DIGEST_AUTHENTICATE,
					       V3, &dig),
				 0);
		/* added after Rel-5: V only (TS 29.229 7.1.1) */
		assert_int_equal(dig->flags, DIA_AVP_FLAG_V);
		assert_int_equal(dia_add_str(dig, DIA_AVP_DIGEST_REALM, 0,
					     "ims.example.com"),
				 0);
	}
	/* a value AVP has no members */
	assert_int_equal(dia_add_u32((struct dia_avp *)dia_avp_find(
					     sadi, DIA_AVP_SIP_ITEM_NUMBER, V3),
				     1, 0, 1),
			 EINVAL);

	mb = encode(msg);
	dec = decode_ok(mb->b, mb->end);
	assert_int_equal(
		dia_avp_count(&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3), 3);
	assert_int_equal(
		dia_avp_count(&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, 0), 0);
	u = 0;
	for (g = dia_avp_find(&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3); g;
	     g = dia_avp_next(g)) {
		uint32_t n;

		assert_true(g->grouped);
		assert_int_equal(
			dia_get_u32(g, DIA_AVP_SIP_ITEM_NUMBER, V3, &n), 0);
		assert_int_equal(n, ++u);
		avp = dia_avp_find(g, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3);
		assert_non_null(avp);
		assert_ptr_equal(avp->parent, g);
		assert_int_equal(dia_get_pl(avp, DIA_AVP_DIGEST_REALM, 0, &pl),
				 0);
		assert_true(pl_is(&pl, "ims.example.com"));
		/* a grouped AVP has no flat value to read */
		assert_int_equal(
			dia_get_pl(g, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3, &pl),
			EBADMSG);
	}
	assert_int_equal(u, 3);

	/* relay: a decoded message grows, loses an AVP and re-encodes */
	assert_int_equal(dia_add_str(&dec->root, DIA_AVP_ROUTE_RECORD, 0,
				     "icscf.ims.example.com"),
			 0);
	dia_avp_remove((struct dia_avp *)dia_avp_find(
		&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3));
	assert_int_equal(
		dia_avp_count(&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3), 2);
	/* a member added to a decoded Grouped AVP */
	g = dia_avp_find(&dec->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
	assert_int_equal(dia_add_str((struct dia_avp *)g,
				     DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3,
				     "SIP Digest"),
			 0);
	{
		struct buf *mb2 = encode(dec);
		struct dia_msg *d2 = decode_ok(mb2->b, mb2->end);

		assert_int_equal(
			dia_get_pl(&d2->root, DIA_AVP_ROUTE_RECORD, 0, &pl), 0);
		assert_true(pl_is(&pl, "icscf.ims.example.com"));
		g = dia_avp_find(&d2->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
		assert_int_equal(
			dia_get_u32(g, DIA_AVP_SIP_ITEM_NUMBER, V3, &u), 0);
		assert_int_equal(u, 2);
		assert_int_equal(dia_get_pl(g,
					    DIA_AVP_SIP_AUTHENTICATION_SCHEME,
					    V3, &pl),
				 0);
		assert_true(pl_is(&pl, "SIP Digest"));
		/* the deep copy is independent of its source */
		{
			struct dia_msg *c = NULL;

			assert_int_equal(dia_msg_alloc(&c, 1, 0, 0), 0);
			assert_int_equal(dia_add_copy(&c->root, g), 0);
			mem_deref(d2);
			mem_deref(mb2);
			g = dia_avp_find(&c->root, DIA_AVP_SIP_AUTH_DATA_ITEM,
					 V3);
			assert_non_null(g);
			assert_true(g->heap);
			assert_int_equal(
				dia_get_pl(
					dia_avp_find(
						g,
						DIA_AVP_SIP_DIGEST_AUTHENTICATE,
						V3),
					DIA_AVP_DIGEST_REALM, 0, &pl),
				0);
			assert_true(pl_is(&pl, "ims.example.com"));
			mem_deref(c);
		}
	}

	mem_deref(dec);
	mem_deref(msg);
	mem_deref(mb);
}


static void add_vsai(struct dia_avp *root)
{
	struct dia_avp *g = NULL;

	assert_int_equal(dia_add_group(root,
				       DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
				       0, &g),
			 0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_VENDOR_ID, 0, V3), 0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_AUTH_APPLICATION_ID, 0, CX), 0);
}


static void test_cer_vector(void **state)
{
	struct dia_msg *dec, *msg = NULL;
	struct dia_err e;
	struct sa sa;
	struct vec v;
	struct buf *mb;
	struct pl pl;
	uint32_t u;
	size_t n;

	(void)state;
	load_hex("cer.hex", &v);
	assert_int_equal(dia_msg_frame(v.b, v.len, &n), 0);
	assert_int_equal(n, v.len);

	dec = decode_ok(v.b, v.len);
	assert_int_equal(dec->code, DIA_CMD_CE);
	assert_int_equal(dec->flags, DIA_FLAG_R);
	assert_int_equal(dec->app, 0);
	assert_int_equal(dec->hbh, 0x12345678);
	assert_int_equal(dec->e2e, 0x9abcdef0);
	assert_int_equal(dec->avpc, 12);
	assert_int_equal(dia_get_pl(&dec->root, DIA_AVP_ORIGIN_HOST, 0, &pl),
			 0);
	assert_true(pl_is(&pl, "hss.ims.example.com"));
	assert_int_equal(
		dia_avp_sa(dia_avp_find(&dec->root, DIA_AVP_HOST_IP_ADDRESS, 0),
			   &sa),
		0);
	assert_int_equal(
		dia_get_u32(dia_avp_find(&dec->root,
					 DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID,
					 0),
			    DIA_AVP_AUTH_APPLICATION_ID, 0, &u),
		0);
	assert_int_equal(u, CX);
	assert_int_equal(dia_msg_validate(dec, &e), 0);

	mb = encode(dec);
	assert_bytes(mb, &v);
	mem_deref(mb);

	/* built with the API: the same octets */
	assert_int_equal(dia_msg_alloc(&msg, DIA_CMD_CE, 0, DIA_FLAG_R), 0);
	msg->hbh = 0x12345678;
	msg->e2e = 0x9abcdef0;
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_HOST, 0,
				     "hss.ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_REALM, 0,
				     "ims.example.com"),
			 0);
	assert_int_equal(sa_set_str(&sa, "127.0.0.1", 0), 0);
	assert_int_equal(
		dia_add_sa(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0, &sa), 0);
	assert_int_equal(dia_add_u32(&msg->root, DIA_AVP_VENDOR_ID, 0, V3), 0);
	assert_int_equal(
		dia_add_str(&msg->root, DIA_AVP_PRODUCT_NAME, 0, "entims"), 0);
	assert_int_equal(dia_add_u32(&msg->root, DIA_AVP_ORIGIN_STATE_ID, 0, 1),
			 0);
	assert_int_equal(
		dia_add_u32(&msg->root, DIA_AVP_SUPPORTED_VENDOR_ID, 0, V3), 0);
	assert_int_equal(
		dia_add_u32(&msg->root, DIA_AVP_AUTH_APPLICATION_ID, 0, CX), 0);
	add_vsai(&msg->root);
	assert_int_equal(
		dia_add_u32(&msg->root, DIA_AVP_FIRMWARE_REVISION, 0, 1), 0);
	mb = encode(msg);
	assert_bytes(mb, &v);
	mem_deref(mb);

	mem_deref(msg);
	mem_deref(dec);
}


static void build_mar(struct dia_msg **msgp)
{
	struct dia_msg *msg = NULL;
	struct dia_avp *g = NULL;

	assert_int_equal(
		dia_msg_alloc(&msg, DIA_CMD_MA, CX, DIA_FLAG_R | DIA_FLAG_P),
		0);
	msg->hbh = 0x101;
	msg->e2e = 0x5eed0001;
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_SESSION_ID, 0, SID),
			 0);
	add_vsai(&msg->root);
	assert_int_equal(dia_add_i32(&msg->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				     DIA_NO_STATE_MAINTAINED),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_HOST, 0,
				     "scscf.ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_REALM, 0,
				     "ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_DESTINATION_REALM, 0,
				     "ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_USER_NAME, 0,
				     "alice@ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_PUBLIC_IDENTITY, V3,
				     "sip:alice@ims.example.com"),
			 0);
	assert_int_equal(
		dia_add_group(&msg->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3, &g),
		0);
	assert_int_equal(dia_add_str(g, DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3,
				     "SIP Digest"),
			 0);
	assert_int_equal(
		dia_add_u32(&msg->root, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3, 1),
		0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_SERVER_NAME, V3,
				     "sip:scscf.ims.example.com:6060"),
			 0);
	*msgp = msg;
}


static void test_cx_mar_maa_vectors(void **state)
{
	struct dia_msg *mar, *maa, *msg = NULL, *ans = NULL;
	struct dia_avp *g = NULL, *d = NULL;
	const struct dia_avp *avp;
	struct vec vr, va;
	struct dia_err e;
	struct buf *mb;
	struct pl pl;
	uint32_t rc, vid;

	(void)state;
	load_hex("cx_mar.hex", &vr);
	load_hex("cx_maa.hex", &va);

	mar = decode_ok(vr.b, vr.len);
	assert_int_equal(mar->code, DIA_CMD_MA);
	assert_int_equal(mar->app, CX);
	assert_int_equal(mar->flags, DIA_FLAG_R | DIA_FLAG_P);
	assert_int_equal(dia_msg_validate(mar, &e), 0);
	avp = dia_avp_find(&mar->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
	assert_non_null(avp);
	assert_int_equal(
		dia_get_pl(avp, DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3, &pl), 0);
	assert_true(pl_is(&pl, "SIP Digest"));
	/* zero-copy: the view lies in the message's own copy */
	assert_true(pl.p > mar->raw.p && pl.p < mar->raw.p + mar->raw.l);

	build_mar(&msg);
	mb = encode(msg);
	assert_bytes(mb, &vr);
	mem_deref(mb);
	mem_deref(msg);

	maa = decode_ok(va.b, va.len);
	assert_int_equal(dia_msg_validate(maa, &e), 0);
	assert_int_equal(dia_msg_result(maa, &rc, &vid), 0);
	assert_int_equal(rc, DIA_SUCCESS);
	assert_int_equal(vid, 0);
	avp = dia_avp_find(&maa->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3);
	avp = dia_avp_find(avp, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3);
	assert_non_null(avp);
	assert_int_equal(avp->flags, DIA_AVP_FLAG_V);
	assert_int_equal(dia_get_pl(avp, DIA_AVP_DIGEST_HA1, 0, &pl), 0);
	assert_true(pl_is(&pl, "c2f774ef59736ab117a74fec34a5a99f"));

	/* the HSS side: answer the decoded MAR, same octets as the MAA */
	assert_int_equal(dia_msg_answer_alloc(&ans, mar), 0);
	assert_int_equal(ans->flags, DIA_FLAG_P);
	assert_int_equal(ans->hbh, mar->hbh);
	assert_int_equal(ans->e2e, mar->e2e);
	avp = dia_avp_first(&ans->root);
	assert_non_null(avp);
	assert_int_equal(avp->code, DIA_AVP_SESSION_ID);
	add_vsai(&ans->root);
	assert_int_equal(
		dia_add_u32(&ans->root, DIA_AVP_RESULT_CODE, 0, DIA_SUCCESS),
		0);
	assert_int_equal(dia_add_i32(&ans->root, DIA_AVP_AUTH_SESSION_STATE, 0,
				     DIA_NO_STATE_MAINTAINED),
			 0);
	assert_int_equal(dia_add_str(&ans->root, DIA_AVP_ORIGIN_HOST, 0,
				     "hss.ims.example.com"),
			 0);
	assert_int_equal(dia_add_str(&ans->root, DIA_AVP_ORIGIN_REALM, 0,
				     "ims.example.com"),
			 0);
	assert_int_equal(dia_get_pl(&mar->root, DIA_AVP_USER_NAME, 0, &pl), 0);
	assert_int_equal(dia_add_pl(&ans->root, DIA_AVP_USER_NAME, 0, &pl), 0);
	assert_int_equal(
		dia_add_copy(
			&ans->root,
			dia_avp_find(&mar->root, DIA_AVP_PUBLIC_IDENTITY, V3)),
		0);
	assert_int_equal(
		dia_add_u32(&ans->root, DIA_AVP_SIP_NUMBER_AUTH_ITEMS, V3, 1),
		0);
	assert_int_equal(
		dia_add_group(&ans->root, DIA_AVP_SIP_AUTH_DATA_ITEM, V3, &g),
		0);
	assert_int_equal(dia_add_u32(g, DIA_AVP_SIP_ITEM_NUMBER, V3, 1), 0);
	assert_int_equal(dia_add_str(g, DIA_AVP_SIP_AUTHENTICATION_SCHEME, V3,
				     "SIP Digest"),
			 0);
	assert_int_equal(
		dia_add_group(g, DIA_AVP_SIP_DIGEST_AUTHENTICATE, V3, &d), 0);
	assert_int_equal(
		dia_add_str(d, DIA_AVP_DIGEST_REALM, 0, "ims.example.com"), 0);
	assert_int_equal(dia_add_str(d, DIA_AVP_DIGEST_QOP, 0, "auth"), 0);
	assert_int_equal(dia_add_str(d, DIA_AVP_DIGEST_HA1, 0,
				     "c2f774ef59736ab117a74fec34a5a99f"),
			 0);
	/* the answer outlives the request it copied from */
	mem_deref(mar);
	assert_int_equal(dia_msg_validate(ans, &e), 0);
	mb = encode(ans);
	assert_bytes(mb, &va);
	mem_deref(mb);

	mem_deref(ans);
	mem_deref(maa);
}


struct bad_case {
	const char *name;
	const char *hex;
	int err;
	uint32_t rcode;
	uint32_t avp_code; /* Failed-AVP code expected, 0: none */
};

/* header of a CER-like request; length filled in by the test */
#define HDR "01 LLLLLL 80 000101 00000000 00000001 00000002 "

static const struct bad_case bad_cases[] = {
	{ "truncated header", "01 000014 80 000101 00000000 0000", EBADMSG,
	  DIA_INVALID_MESSAGE_LENGTH, 0 },
	{ "bad version", "02 LLLLLL 80 000101 00000000 00000001 00000002",
	  EBADMSG, DIA_UNSUPPORTED_VERSION, 0 },
	{ "length not a multiple of 4", HDR "00 00", EBADMSG,
	  DIA_INVALID_MESSAGE_LENGTH, 0 },
	{ "length field larger than the bytes",
	  "01 000018 80 000101 00000000 00000001 00000002", EBADMSG,
	  DIA_INVALID_MESSAGE_LENGTH, 0 },
	{ "AVP length past the message", HDR "00000108 40 000030 61626364",
	  EBADMSG, DIA_INVALID_AVP_LENGTH, 264 },
	{ "AVP length below its header", HDR "00000108 40 000004 61626364",
	  EBADMSG, DIA_INVALID_AVP_LENGTH, 264 },
	{ "zero-length AVP header", HDR "00000108 40 000000", EBADMSG,
	  DIA_INVALID_AVP_LENGTH, 264 },
	{ "AVP header truncated", HDR "00000108", EBADMSG,
	  DIA_INVALID_AVP_LENGTH, 264 },
	{ "vendor AVP without room for its Vendor-ID", HDR "00000259 c0 00000c",
	  EBADMSG, DIA_INVALID_AVP_LENGTH, 601 },
	{ "vendor AVP length below 12", HDR "00000259 c0 000008 000028af",
	  EBADMSG, DIA_INVALID_AVP_LENGTH, 601 },
	{ "grouped garbage: members not whole AVPs",
	  HDR "00000104 40 000010 01020304 05060708", EBADMSG,
	  DIA_INVALID_AVP_LENGTH, 0x01020304 },
	{ "grouped member length past its group",
	  HDR "00000104 40 000014 0000010a 40 000010 00002800", EBADMSG,
	  DIA_INVALID_AVP_LENGTH, 266 },
	{ "second AVP broken after a sound one",
	  HDR "00000108 40 00000c 61626364 00000128 40 0000ff 00000000",
	  EBADMSG, DIA_INVALID_AVP_LENGTH, 296 },
};


static size_t hex_to(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int d = pl_hexval(*hex);

		if (*hex == 'L') {
			d = 0; /* length placeholder, patched below */
		} else if (d < 0) {
			continue;
		}
		if (hi < 0) {
			hi = d;
		} else {
			assert_true(n < max);
			out[n++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	return n;
}


static void test_malformed(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct dia_msg *msg = NULL;
		uint8_t b[256];
		struct dia_err e;
		size_t n;

		n = hex_to(c->hex, b, sizeof(b));
		if (strstr(c->hex, "LLLLLL"))
			dia_wr24(b + 1, (uint32_t)n);
		print_message("case: %s\n", c->name);
		assert_int_equal(dia_msg_decode(&msg, b, n, &e), c->err);
		assert_null(msg);
		assert_int_equal(e.rcode, c->rcode);
		assert_non_null(e.reason);
		assert_int_equal(e.failed, c->avp_code != 0);
		if (c->avp_code)
			assert_int_equal(e.avp_code, c->avp_code);
	}
}


/* Failed-AVP nested past DIA_DEPTH_MAX: refused, no deep recursion. */
static void test_depth_bomb(void **state)
{
	static uint8_t b[DIA_HDR_LEN + 64 * 8];
	struct dia_msg *msg = NULL;
	struct dia_err e;
	size_t len;

	(void)state;
	for (unsigned depth = 1; depth <= 64; depth *= 2) {
		len = DIA_HDR_LEN + depth * 8;
		memset(b, 0, sizeof(b));
		b[0] = 1;
		dia_wr24(b + 1, (uint32_t)len);
		b[4] = DIA_FLAG_R;
		dia_wr24(b + 5, DIA_CMD_CE);
		for (unsigned i = 0; i < depth; i++) {
			uint8_t *a = b + DIA_HDR_LEN + (size_t)i * 8;

			dia_wr32(a, DIA_AVP_FAILED_AVP);
			a[4] = DIA_AVP_FLAG_M;
			dia_wr24(a + 5, (uint32_t)((depth - i) * 8));
		}
		if (depth - 1 <= DIA_DEPTH_MAX) {
			assert_int_equal(dia_msg_decode(&msg, b, len, &e), 0);
			assert_int_equal(msg->avpc, depth);
			msg = mem_deref(msg);
		} else {
			assert_int_equal(dia_msg_decode(&msg, b, len, &e),
					 EBADMSG);
			assert_int_equal(e.rcode, DIA_UNABLE_TO_COMPLY);
			assert_int_equal(e.avp_code, DIA_AVP_FAILED_AVP);
		}
	}

	/* a Failed-AVP carrying a broken AVP (RFC 6733 7.1.5 padding)
	 * stays opaque instead of sinking the answer */
	len = DIA_HDR_LEN + 8 + 8;
	memset(b, 0, sizeof(b));
	b[0] = 1;
	dia_wr24(b + 1, (uint32_t)len);
	dia_wr24(b + 5, DIA_CMD_DW);
	dia_wr32(b + 20, DIA_AVP_FAILED_AVP);
	b[24] = DIA_AVP_FLAG_M;
	dia_wr24(b + 25, 16);
	dia_wr32(b + 28, DIA_AVP_ORIGIN_HOST); /* length 0: broken */
	assert_int_equal(dia_msg_decode(&msg, b, len, &e), 0);
	assert_int_equal(msg->avpc, 1);
	assert_false(dia_avp_first(&msg->root)->grouped);
	assert_int_equal(dia_avp_first(&msg->root)->val.l, 8);
	msg = mem_deref(msg);

	/* ... also when sound members come before the broken one: their
	 * slots are given back (found by the fuzzer: the fill pass wrote
	 * past the AVP array) */
	len = DIA_HDR_LEN + 8 + 12 + 8;
	memset(b, 0, sizeof(b));
	b[0] = 1;
	dia_wr24(b + 1, (uint32_t)len);
	dia_wr24(b + 5, DIA_CMD_DW);
	dia_wr32(b + 20, DIA_AVP_FAILED_AVP);
	b[24] = DIA_AVP_FLAG_M;
	dia_wr24(b + 25, 28);
	dia_wr32(b + 28, DIA_AVP_ORIGIN_STATE_ID);
	b[32] = DIA_AVP_FLAG_M;
	dia_wr24(b + 33, 12);
	dia_wr32(b + 40, DIA_AVP_ORIGIN_HOST); /* length 0: broken */
	assert_int_equal(dia_msg_decode(&msg, b, len, &e), 0);
	assert_int_equal(msg->avpc, 1);
	assert_false(dia_avp_first(&msg->root)->grouped);
	assert_int_equal(dia_avp_first(&msg->root)->val.l, 20);
	mem_deref(msg);
}


static void test_size_limits(void **state)
{
	struct dia_msg *msg = NULL;
	struct dia_avp *g = NULL;
	struct buf *mb = NULL;
	uint8_t *big;
	struct dia_err e;
	size_t n;

	(void)state;
	big = calloc(1, DIA_MSG_MAX + 8);
	assert_non_null(big);
	big[0] = 1;
	dia_wr24(big + 1, (DIA_MSG_MAX + 4) & ~3u);
	assert_int_equal(dia_msg_decode(&msg, big, (DIA_MSG_MAX + 4) & ~3u, &e),
			 EMSGSIZE);
	assert_int_equal(dia_msg_frame(big, 4, &n), EMSGSIZE);

	/* encode refuses what decode would refuse */
	assert_int_equal(dia_msg_alloc(&msg, DIA_CMD_PP, CX, DIA_FLAG_R), 0);
	assert_int_equal(dia_add_octets(&msg->root, DIA_AVP_USER_DATA, V3, big,
					DIA_MSG_MAX),
			 0);
	assert_int_equal(buf_alloc(&mb, 64, (size_t)4 * DIA_MSG_MAX), 0);
	assert_int_equal(dia_msg_encode(mb, msg), EMSGSIZE);
	assert_int_equal(mb->end, 0);
	msg = mem_deref(msg);

	assert_int_equal(dia_msg_alloc(&msg, DIA_CMD_DW, 0, 0), 0);
	g = &msg->root;
	for (unsigned i = 0; i <= DIA_DEPTH_MAX + 1; i++)
		assert_int_equal(dia_add_group(g, DIA_AVP_FAILED_AVP, 0, &g),
				 0);
	assert_int_equal(dia_msg_encode(mb, msg), EINVAL);
	msg = mem_deref(msg);

	/* a buffer with a small ceiling */
	mem_deref(mb);
	assert_int_equal(buf_alloc(&mb, 16, 32), 0);
	build_mar(&msg);
	assert_int_equal(dia_msg_encode(mb, msg), EMSGSIZE);

	mem_deref(msg);
	mem_deref(mb);
	free(big);
}


/* The framer on a stream delivered one byte at a time, three messages
 * back to back, each decoded from a buffer it keeps (zero-copy). */
static void test_frame_split(void **state)
{
	static const char *const names[] = { "cer.hex", "cx_mar.hex",
					     "cx_maa.hex" };
	static uint8_t stream[3 * 2048];
	struct buf *rx = NULL;
	size_t slen = 0, got = 0, n;
	struct vec v;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		load_hex(names[i], &v);
		memcpy(stream + slen, v.b, v.len);
		slen += v.len;
	}

	assert_int_equal(buf_alloc(&rx, 64, DIA_MSG_MAX), 0);
	for (size_t i = 0; i < slen; i++) {
		int err;

		assert_int_equal(buf_write(rx, stream + i, 1), 0);
		err = dia_msg_frame(rx->b, rx->end, &n);
		if (err == ENODATA) {
			if (rx->end >= 4)
				assert_true(n > rx->end);
			else
				assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(n, rx->end);
		{
			struct dia_msg *msg = NULL;
			struct dia_err e;
			struct pl pl;

			rx->pos = 0;
			assert_int_equal(dia_msg_decode_buf(&msg, rx, &e), 0);
			assert_int_equal(mem_nrefs(rx), 2);
			assert_int_equal(dia_msg_validate(msg, &e), 0);
			assert_int_equal(dia_get_pl(&msg->root,
						    DIA_AVP_ORIGIN_REALM, 0,
						    &pl),
					 0);
			/* the view points into rx itself */
			assert_true((const uint8_t *)pl.p > rx->b &&
				    (const uint8_t *)pl.p < rx->b + rx->end);
			mem_deref(msg);
			assert_int_equal(mem_nrefs(rx), 1);
		}
		got++;
		/* the next message gets a buffer of its own */
		rx = mem_deref(rx);
		assert_int_equal(buf_alloc(&rx, 64, DIA_MSG_MAX), 0);
	}
	assert_int_equal(got, 3);
	assert_int_equal(rx->end, 0);

	/* framing lost */
	assert_int_equal(dia_msg_frame((const uint8_t *)"\x02", 1, &n),
			 EBADMSG);
	assert_int_equal(
		dia_msg_frame((const uint8_t *)"\x01\x00\x00\x10", 4, &n),
		EBADMSG);
	assert_int_equal(
		dia_msg_frame((const uint8_t *)"\x01\x00\x00\x1a", 4, &n),
		EBADMSG);
	assert_int_equal(dia_msg_frame((const uint8_t *)"\x01\x00", 2, &n),
			 ENODATA);
	assert_int_equal(n, 0);
	assert_int_equal(dia_msg_frame(NULL, 0, &n), ENODATA);
	mem_deref(rx);
}


/* Encode, decode and validate a built message. */
static int validate_wire(const struct dia_msg *msg, struct dia_err *e,
			 struct dia_msg **decp)
{
	struct buf *mb = encode(msg);
	struct dia_msg *dec = decode_ok(mb->b, mb->end);
	int err = dia_msg_validate(dec, e);

	mem_deref(mb);
	*decp = dec;
	return err;
}


static void test_validate(void **state)
{
	struct dia_msg *msg = NULL, *dec = NULL;
	struct dia_avp *avp = NULL;
	struct dia_err e;

	(void)state;

	/* missing Server-Name: 5005 with an example of it */
	build_mar(&msg);
	dia_avp_remove((struct dia_avp *)dia_avp_find(&msg->root,
						      DIA_AVP_SERVER_NAME, V3));
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_MISSING_AVP);
	assert_true(e.failed);
	assert_null(e.avp);
	assert_int_equal(e.avp_code, DIA_AVP_SERVER_NAME);
	assert_int_equal(e.avp_vendor, V3);
	assert_int_equal(e.avp_flags, DIA_AVP_FLAG_V | DIA_AVP_FLAG_M);
	{
		struct dia_msg *ans = NULL, *a2;
		const struct dia_avp *fa, *m;
		struct buf *mb;
		uint32_t rc;

		assert_int_equal(dia_msg_answer_alloc(&ans, dec), 0);
		assert_int_equal(dia_msg_add_error(ans, &e), 0);
		assert_int_equal(ans->flags & DIA_FLAG_E, 0); /* 5xxx */
		mb = encode(ans);
		a2 = decode_ok(mb->b, mb->end);
		assert_int_equal(dia_msg_result(a2, &rc, NULL), 0);
		assert_int_equal(rc, DIA_MISSING_AVP);
		fa = dia_avp_find(&a2->root, DIA_AVP_FAILED_AVP, 0);
		assert_non_null(fa);
		assert_true(fa->grouped);
		m = dia_avp_first(fa);
		assert_non_null(m);
		assert_int_equal(m->code, DIA_AVP_SERVER_NAME);
		assert_int_equal(m->vendor, V3);
		assert_int_equal(m->val.l, 0);
		assert_non_null(
			dia_avp_find(&a2->root, DIA_AVP_ERROR_MESSAGE, 0));
		mem_deref(a2);
		mem_deref(mb);
		mem_deref(ans);
	}
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* unknown AVP with M: 5001 naming it; without M: ignored */
	build_mar(&msg);
	assert_int_equal(dia_add_u32(&msg->root, 77777, 0, 1), 0);
	assert_int_equal(validate_wire(msg, &e, &dec), 0);
	dec = mem_deref(dec);
	assert_int_equal(dia_avp_alloc(&avp, 77778, 99, "x", 1), 0);
	avp->flags |= DIA_AVP_FLAG_M;
	assert_int_equal(dia_avp_append(&msg->root, avp), 0);
	assert_int_equal(dia_avp_append(&msg->root, avp), EINVAL);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_AVP_UNSUPPORTED);
	assert_non_null(e.avp);
	assert_int_equal(e.avp->code, 77778);
	assert_int_equal(e.avp->vendor, 99);
	{
		/* Failed-AVP carries a copy of the offending AVP */
		struct dia_msg *ans = NULL;
		const struct dia_avp *m;

		assert_int_equal(dia_msg_answer_alloc(&ans, dec), 0);
		assert_int_equal(dia_msg_add_error(ans, &e), 0);
		m = dia_avp_first(
			dia_avp_find(&ans->root, DIA_AVP_FAILED_AVP, 0));
		assert_int_equal(m->code, 77778);
		assert_true(pl_is(&m->val, "x"));
		mem_deref(ans);
	}
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* a Result-Code of 3 octets: 5014 */
	assert_int_equal(dia_msg_alloc(&msg, DIA_CMD_DW, 0, 0), 0);
	assert_int_equal(dia_add_octets(&msg->root, DIA_AVP_RESULT_CODE, 0,
					"\x00\x07\xd1", 3),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_HOST, 0, "a"),
			 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_REALM, 0, "b"),
			 0);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_AVP_LENGTH);
	assert_int_equal(e.avp->code, DIA_AVP_RESULT_CODE);
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* DWR: Origin-Host without its M bit is 3009 */
	assert_int_equal(dia_msg_alloc(&msg, DIA_CMD_DW, 0, DIA_FLAG_R), 0);
	assert_int_equal(dia_avp_alloc(&avp, DIA_AVP_ORIGIN_HOST, 0, "a", 1),
			 0);
	avp->flags = 0;
	assert_int_equal(dia_avp_append(&msg->root, avp), 0);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_ORIGIN_REALM, 0, "b"),
			 0);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_AVP_BITS);
	dec = mem_deref(dec);
	((struct dia_avp *)dia_avp_first(&msg->root))->flags =
		DIA_AVP_FLAG_M | 0x01;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_AVP_BITS);
	dec = mem_deref(dec);
	((struct dia_avp *)dia_avp_first(&msg->root))->flags = DIA_AVP_FLAG_M;
	assert_int_equal(validate_wire(msg, &e, &dec), 0);
	dec = mem_deref(dec);

	/* header bits: E in a request, reserved bits, P on a DWR: 3008 */
	msg->flags = DIA_FLAG_R | DIA_FLAG_E;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_HDR_BITS);
	assert_false(e.failed);
	dec = mem_deref(dec);
	msg->flags = DIA_FLAG_R | 0x01;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_HDR_BITS);
	dec = mem_deref(dec);
	msg->flags = DIA_FLAG_R | DIA_FLAG_P;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_HDR_BITS);
	dec = mem_deref(dec);

	/* unknown command 3001; a Cx command in the base application 3007 */
	msg->flags = DIA_FLAG_R;
	msg->code = 999;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_COMMAND_UNSUPPORTED);
	dec = mem_deref(dec);
	msg->code = DIA_CMD_MA;
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_APPLICATION_UNSUPPORTED);
	dec = mem_deref(dec);
	{
		/* 3xxx answers carry the E bit */
		struct dia_msg *ans = NULL;

		msg->code = DIA_CMD_DW;
		assert_int_equal(dia_msg_answer_alloc(&ans, msg), 0);
		assert_int_equal(dia_msg_add_error(ans, &e), 0);
		assert_int_equal(ans->flags, DIA_FLAG_E);
		mem_deref(ans);
	}
	msg = mem_deref(msg);

	/* two User-Name in a MAR: 5009 on the second */
	build_mar(&msg);
	assert_int_equal(dia_add_str(&msg->root, DIA_AVP_USER_NAME, 0, "bob"),
			 0);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_AVP_OCCURS_TOO_MANY_TIMES);
	assert_true(pl_is(&e.avp->val, "bob"));
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* Public-Identity not UTF-8: 5004 */
	build_mar(&msg);
	dia_avp_remove((struct dia_avp *)dia_avp_find(
		&msg->root, DIA_AVP_PUBLIC_IDENTITY, V3));
	assert_int_equal(dia_add_octets(&msg->root, DIA_AVP_PUBLIC_IDENTITY, V3,
					"sip:\xc0\xaf", 6),
			 0);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_INVALID_AVP_VALUE);
	assert_int_equal(e.avp->code, DIA_AVP_PUBLIC_IDENTITY);
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* an AVP inside Vendor-Specific-Application-Id it may not hold */
	build_mar(&msg);
	assert_int_equal(
		dia_add_u32((struct dia_avp *)dia_avp_find(
				    &msg->root,
				    DIA_AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0),
			    DIA_AVP_RESULT_CODE, 0, 2001),
		0);
	assert_int_equal(validate_wire(msg, &e, &dec), EPROTO);
	assert_int_equal(e.rcode, DIA_AVP_NOT_ALLOWED);
	assert_int_equal(e.avp->code, DIA_AVP_RESULT_CODE);
	dec = mem_deref(dec);
	msg = mem_deref(msg);

	/* an answer with neither Result-Code nor Experimental-Result */
	{
		struct dia_msg *mar = NULL, *ans = NULL;
		struct dia_avp *er = NULL;
		uint32_t rc, vid;

		build_mar(&mar);
		assert_int_equal(dia_msg_answer_alloc(&ans, mar), 0);
		add_vsai(&ans->root);
		assert_int_equal(dia_add_i32(&ans->root,
					     DIA_AVP_AUTH_SESSION_STATE, 0, 1),
				 0);
		assert_int_equal(
			dia_add_str(&ans->root, DIA_AVP_ORIGIN_HOST, 0, "hss"),
			0);
		assert_int_equal(
			dia_add_str(&ans->root, DIA_AVP_ORIGIN_REALM, 0, "ims"),
			0);
		assert_int_equal(validate_wire(ans, &e, &dec), EPROTO);
		assert_int_equal(e.rcode, DIA_MISSING_AVP);
		assert_int_equal(e.avp_code, DIA_AVP_RESULT_CODE);
		dec = mem_deref(dec);
		assert_int_equal(dia_msg_result(ans, &rc, &vid), ENOENT);

		/* TS 29.229 6.2: 3GPP codes in Experimental-Result */
		assert_int_equal(dia_add_group(&ans->root,
					       DIA_AVP_EXPERIMENTAL_RESULT, 0,
					       &er),
				 0);
		assert_int_equal(dia_add_u32(er, DIA_AVP_VENDOR_ID, 0, V3), 0);
		assert_int_equal(dia_add_u32(er,
					     DIA_AVP_EXPERIMENTAL_RESULT_CODE,
					     0, DIA_ERROR_USER_UNKNOWN),
				 0);
		assert_int_equal(validate_wire(ans, &e, &dec), 0);
		assert_int_equal(dia_msg_result(dec, &rc, &vid), 0);
		assert_int_equal(rc, DIA_ERROR_USER_UNKNOWN);
		assert_int_equal(vid, V3);
		dec = mem_deref(dec);
		mem_deref(ans);
		mem_deref(mar);
	}
}


/* A request that does not decode is still answered, with its ids, its
 * Session-Id and a Failed-AVP formed as RFC 6733 7.1.5 says. */
static void test_error_answer(void **state)
{
	struct dia_msg *mar = NULL, *ans = NULL, *dec;
	const struct dia_avp *fa, *m;
	struct buf *mb;
	struct dia_err e;
	uint8_t *b;
	struct pl pl;
	uint32_t rc;
	size_t len;

	(void)state;
	build_mar(&mar);
	mb = encode(mar);
	b = mb->b;
	len = mb->end;
	/* break SIP-Number-Auth-Items' length (the 10th AVP): 16 -> 0x0fff */
	{
		size_t off = DIA_HDR_LEN;
		const struct dia_avp *a = dia_avp_first(&mar->root);

		while (a->code != DIA_AVP_SIP_NUMBER_AUTH_ITEMS) {
			off += dia_avp_wire_len(a);
			a = dia_avp_sibling(a);
		}
		dia_wr24(b + off + 5, 0x0fff);
	}
	assert_int_equal(dia_msg_decode(&dec, b, len, &e), EBADMSG);
	assert_int_equal(e.rcode, DIA_INVALID_AVP_LENGTH);
	assert_true(e.hdr);
	assert_int_equal(e.code, DIA_CMD_MA);
	assert_int_equal(e.hbh, 0x101);
	assert_true(pl_is(&e.session_id, SID));
	assert_int_equal(e.avp_code, DIA_AVP_SIP_NUMBER_AUTH_ITEMS);
	assert_int_equal(e.avp_vendor, V3);

	assert_int_equal(dia_msg_answer_err_alloc(&ans, &e), 0);
	assert_int_equal(dia_msg_add_error(ans, &e), 0);
	mem_deref(mb);
	mb = encode(ans);
	dec = decode_ok(mb->b, mb->end);
	assert_int_equal(dec->flags, DIA_FLAG_P);
	assert_int_equal(dec->code, DIA_CMD_MA);
	assert_int_equal(dec->app, CX);
	assert_int_equal(dec->hbh, 0x101);
	assert_int_equal(dec->e2e, 0x5eed0001);
	assert_int_equal(dia_avp_first(&dec->root)->code, DIA_AVP_SESSION_ID);
	assert_int_equal(dia_get_pl(&dec->root, DIA_AVP_SESSION_ID, 0, &pl), 0);
	assert_true(pl_is(&pl, SID));
	assert_int_equal(dia_msg_result(dec, &rc, NULL), 0);
	assert_int_equal(rc, DIA_INVALID_AVP_LENGTH);
	fa = dia_avp_find(&dec->root, DIA_AVP_FAILED_AVP, 0);
	m = dia_avp_first(fa);
	assert_int_equal(m->code, DIA_AVP_SIP_NUMBER_AUTH_ITEMS);
	assert_int_equal(m->vendor, V3);
	assert_int_equal(m->val.l, 4); /* Unsigned32, zero-filled */
	assert_memory_equal(m->val.p, "\0\0\0\0", 4);

	/* an answer that does not decode is not answered */
	ans = mem_deref(ans);
	e.flags = 0;
	assert_int_equal(dia_msg_answer_err_alloc(&ans, &e), ENOENT);
	/* answers are made from requests only */
	assert_int_equal(dia_msg_answer_alloc(&ans, dec), EINVAL);

	mem_deref(dec);
	mem_deref(mb);
	mem_deref(mar);
}


static void test_print(void **state)
{
	struct dia_msg *maa;
	struct buf *mb = NULL;
	struct vec v;
	char *s;

	(void)state;
	load_hex("cx_maa.hex", &v);
	maa = decode_ok(v.b, v.len);
	assert_int_equal(buf_alloc(&mb, 256, 65536), 0);
	assert_int_equal(dia_msg_print(mb, maa), 0);
	assert_int_equal(buf_write(mb, "", 1), 0);
	s = (char *)mb->b;
	print_message("%s", s);
	assert_non_null(strstr(s, "MAA PXY app=16777216 (Cx/Dx) "
				  "hbh=0x00000101 e2e=0x5eed0001 len=400\n"));
	assert_non_null(strstr(s, "  Session-Id(263) M = \"" SID "\"\n"));
	assert_non_null(strstr(s, "  Result-Code(268) M = 2001 "
				  "(DIAMETER_SUCCESS)\n"));
	assert_non_null(strstr(s, "  Auth-Session-State(277) M = 1 "
				  "(NO_STATE_MAINTAINED)\n"));
	assert_non_null(strstr(s, "  Public-Identity(601,10415) VM = "
				  "\"sip:alice@ims.example.com\"\n"));
	assert_non_null(strstr(s, "  SIP-Auth-Data-Item(612,10415) VM:\n"
				  "    SIP-Item-Number(613,10415) VM = 1\n"));
	assert_non_null(strstr(s, "    SIP-Digest-Authenticate(635,10415) V:\n"
				  "      Digest-Realm(104) M = "
				  "\"ims.example.com\"\n"));
	assert_non_null(strstr(s, "  Vendor-Specific-Application-Id(260) M:\n"
				  "    Vendor-Id(266) M = 10415\n"));
	mem_deref(maa);

	/* binary, unknown, typed values, and a ceiling */
	{
		struct dia_msg *msg = NULL;
		struct dia_avp *er = NULL;
		struct sa sa;

		assert_int_equal(dia_msg_alloc(&msg, 4444, 7, 0), 0);
		assert_int_equal(
			dia_add_octets(&msg->root, 5555, V3, "\x00\xff\x10", 3),
			0);
		assert_int_equal(dia_add_time(&msg->root,
					      DIA_AVP_EVENT_TIMESTAMP, 0,
					      1700000000),
				 0);
		assert_int_equal(sa_set_str(&sa, "::1", 0), 0);
		assert_int_equal(
			dia_add_sa(&msg->root, DIA_AVP_HOST_IP_ADDRESS, 0, &sa),
			0);
		assert_int_equal(dia_add_group(&msg->root,
					       DIA_AVP_EXPERIMENTAL_RESULT, 0,
					       &er),
				 0);
		assert_int_equal(dia_add_u32(er, DIA_AVP_VENDOR_ID, 0, V3), 0);
		assert_int_equal(dia_add_u32(er,
					     DIA_AVP_EXPERIMENTAL_RESULT_CODE,
					     0, DIA_FIRST_REGISTRATION),
				 0);
		assert_int_equal(dia_add_octets(&msg->root,
						DIA_AVP_ORIGIN_STATE_ID, 0,
						"\x01", 1),
				 0);
		mb->pos = mb->end = 0;
		assert_int_equal(dia_msg_print(mb, msg), 0);
		assert_int_equal(buf_write(mb, "", 1), 0);
		s = (char *)mb->b;
		print_message("%s", s);
		assert_non_null(strstr(s, "command 4444 answer app=7 "));
		assert_non_null(strstr(s, "  AVP(5555,10415) V = 0x00ff10\n"));
		assert_non_null(strstr(s, "  Event-Timestamp(55) M = "
					  "2023-11-14T22:13:20Z\n"));
		assert_non_null(strstr(s, "  Host-IP-Address(257) M = ::1\n"));
		assert_non_null(strstr(s, "    Experimental-Result-Code(298) M "
					  "= 2001 "
					  "(DIAMETER_FIRST_REGISTRATION)\n"));
		assert_non_null(strstr(s, "  Origin-State-Id(278) M = <bad "
					  "length 1> 0x01\n"));
		mem_deref(mb);
		assert_int_equal(buf_alloc(&mb, 16, 40), 0);
		assert_int_equal(dia_msg_print(mb, msg), EMSGSIZE);
		mem_deref(msg);
	}
	mem_deref(mb);
}


/* The seed corpus of the fuzzer holds real messages of every command
 * entims speaks: each must decode, validate and survive a round trip. */
static void test_corpus_valid(void **state)
{
	static const char *const names[] = {
		"cer.bin", "cea.bin",        "dwr.bin",     "dpr.bin",
		"uar.bin", "uaa.bin",        "mar_aka.bin", "maa_aka.bin",
		"sar.bin", "saa.bin",        "lir.bin",     "udr.bin",
		"pnr.bin", "err_answer.bin",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		static uint8_t b[4096];
		struct dia_msg *msg;
		struct dia_err e;
		struct buf *mb;
		char path[512];
		size_t n;
		FILE *f;

		(void)snprintf(path, sizeof(path),
			       "%s/tests/fuzz/corpus/dia_msg/%s",
			       ENTIMS_SOURCE_DIR, names[i]);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(b, 1, sizeof(b), f);
		(void)fclose(f);
		print_message("seed: %s\n", names[i]);
		msg = decode_ok(b, n);
		assert_int_equal(dia_msg_validate(msg, &e), 0);
		mb = encode(msg);
		assert_int_equal(mb->end, n);
		assert_memory_equal(mb->b, b, n);
		mem_deref(mb);
		mem_deref(msg);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dict, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_base_types, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_grouped_vendor, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cer_vector, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_cx_mar_maa_vectors,
						mem_mark, mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_malformed, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_depth_bomb, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_size_limits, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_frame_split, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_validate, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_error_answer, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_print, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_corpus_valid, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("dia_codec", tests, NULL, NULL);
}
