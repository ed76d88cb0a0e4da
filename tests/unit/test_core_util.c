/**
 * @file test_core_util.c  Generic helpers: base64 and base64url (RFC 4648
 * 10 test vectors, the decoder's refusals), mkdir -p, and the libxml2
 * helpers (XML 1.0 Char check, writer output, the safe parse's refusals
 * and silence, simple-content text).
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/xml.h"

/* RFC 4648 10 */
static const struct {
	const char *in, *std, *url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};


static void test_base64_vectors(void **state)
{
	char out[32];
	uint8_t raw[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const uint8_t *in = (const uint8_t *)vectors[i].in;
		size_t len = strlen(vectors[i].in);

		assert_int_equal(base64_encode(out, sizeof(out), in, len, 0),
				 0);
		assert_string_equal(out, vectors[i].std);
		assert_int_equal(base64_len(len, 0), strlen(vectors[i].std));
		assert_int_equal(
			base64_encode(out, sizeof(out), in, len, BASE64_URL),
			0);
		assert_string_equal(out, vectors[i].url);
		assert_int_equal(base64_len(len, BASE64_URL),
				 strlen(vectors[i].url));

		assert_int_equal(base64_decode(vectors[i].std,
					       strlen(vectors[i].std), raw,
					       sizeof(raw), &n, 0),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(raw, in, len);
		assert_int_equal(base64_decode(vectors[i].url,
					       strlen(vectors[i].url), raw,
					       sizeof(raw), &n,
					       BASE64_URL | BASE64_CANONICAL),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(raw, in, len);
	}
}


static void test_base64_alphabets(void **state)
{
	static const uint8_t bin[3] = { 0xfb, 0xef, 0xff };
	char out[8];
	uint8_t raw[8];
	size_t n;

	(void)state;
	assert_int_equal(base64_encode(out, sizeof(out), bin, 3, 0), 0);
	assert_string_equal(out, "++//");
	assert_int_equal(base64_encode(out, sizeof(out), bin, 3, BASE64_URL),
			 0);
	assert_string_equal(out, "--__");
	/* each alphabet refuses the other's two characters */
	assert_int_equal(base64_decode("--__", 4, raw, sizeof(raw), &n, 0),
			 EBADMSG);
	assert_int_equal(
		base64_decode("++//", 4, raw, sizeof(raw), &n, BASE64_URL),
		EBADMSG);
	/* base64url is read without padding */
	assert_int_equal(
		base64_decode("Zg==", 4, raw, sizeof(raw), &n, BASE64_URL),
		EBADMSG);
}


static void test_base64_refusals(void **state)
{
	uint8_t raw[4];
	char out[5];
	size_t n = 99;

	(void)state;
	/* padding only on whole groups, at most two, 4k+1 is not base64 */
	assert_int_equal(base64_decode("Zg=", 3, raw, sizeof(raw), &n, 0),
			 EBADMSG);
	assert_int_equal(base64_decode("Z===", 4, raw, sizeof(raw), &n, 0),
			 EBADMSG);
	assert_int_equal(base64_decode("Zm9vY", 5, raw, sizeof(raw), &n, 0),
			 EBADMSG);
	assert_int_equal(base64_decode("Zm 9", 4, raw, sizeof(raw), &n, 0),
			 EBADMSG);
	/* no room */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, raw, sizeof(raw), &n, 0),
			 EMSGSIZE);
	/* canonical: "Zh" has low bits set where "Zg" has none */
	assert_int_equal(
		base64_decode("Zh", 2, raw, sizeof(raw), &n, BASE64_URL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(raw[0], 'f');
	assert_int_equal(base64_decode("Zh", 2, raw, sizeof(raw), &n,
				       BASE64_URL | BASE64_CANONICAL),
			 EBADMSG);
	/* the encoder never writes past size */
	assert_int_equal(
		base64_encode(out, sizeof(out), (const uint8_t *)"foob", 4, 0),
		ENOSPC);
	assert_int_equal(base64_encode(out, 4, (const uint8_t *)"foo", 3, 0),
			 ENOSPC);
	assert_int_equal(base64_encode(out, sizeof(out), NULL, 1, 0), EINVAL);
	assert_int_equal(base64_decode(NULL, 1, raw, sizeof(raw), &n, 0),
			 EINVAL);
}


static void test_mkdir_p(void **state)
{
	char base[] = "/tmp/entims-fs-XXXXXX";
	char path[128], file[160];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(base));
	(void)snprintf(path, sizeof(path), "%s/a/b/c", base);
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0700, 0700);
	/* existing directories are fine, a trailing slash too */
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	(void)snprintf(path, sizeof(path), "%s/a/b/", base);
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	/* a file in the way */
	(void)snprintf(file, sizeof(file), "%s/a/file", base);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	(void)snprintf(path, sizeof(path), "%s/a/file/d", base);
	assert_int_equal(fs_mkdir_p(path, 0750), ENOTDIR);
	assert_int_equal(fs_mkdir_p("", 0750), EINVAL);
	assert_int_equal(fs_mkdir_p(NULL, 0750), EINVAL);

	assert_int_equal(unlink(file), 0);
	(void)snprintf(path, sizeof(path), "%s/a/b/c", base);
	assert_int_equal(rmdir(path), 0);
	(void)snprintf(path, sizeof(path), "%s/a/b", base);
	assert_int_equal(rmdir(path), 0);
	(void)snprintf(path, sizeof(path), "%s/a", base);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(base), 0);
}


static void test_mkdir_p_too_long(void **state)
{
	char *path = malloc(8192);

	(void)state;
	assert_non_null(path);
	memset(path, 'a', 8191);
	path[0] = '/';
	path[8191] = '\0';
	assert_int_equal(fs_mkdir_p(path, 0750), ENAMETOOLONG);
	free(path);
}


/* XML 1.0 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD]
 * | [#x10000-#x10FFFF], in valid UTF-8 */
static void test_xml_text_ok(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} tab[] = {
		{ "", true },
		{ "sip:alice@example.com", true },
		{ "\t\r\n<&>\"'", true },
		{ "\x7f", true },
		{ "caf\xc3\xa9", true },
		{ "\xf0\x9f\x98\x80", true }, /* U+1F600 */
		{ "\xef\xbf\xbd", true },     /* U+FFFD */
		{ "a\x01", false },           /* control character */
		{ "\x1f", false },
		{ "caf\xc3", false },          /* truncated sequence */
		{ "\xc0\xaf", false },         /* overlong '/' */
		{ "\xe0\x80\xaf", false },     /* overlong '/' */
		{ "\xf0\x80\x80\xaf", false }, /* overlong '/' */
		{ "\xc1\xbf", false },         /* overlong DEL */
		{ "\xc2\x80", true },          /* U+0080, shortest form */
		{ "\xe0\xa0\x80", true },      /* U+0800 */
		{ "\xf0\x90\x80\x80", true },  /* U+10000 */
		{ "\xed\xa0\x80", false },     /* surrogate U+D800 */
		{ "\xef\xbf\xbe", false },     /* U+FFFE */
		{ "\xf4\x90\x80\x80", false }, /* above U+10FFFF */
		{ "\xff", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (xmlu_text_ok(tab[i].s) != tab[i].ok)
			fail_msg("case %zu: expected %d", i, tab[i].ok);
	}
	assert_false(xmlu_text_ok(NULL));
}


static void test_xml_writer(void **state)
{
	static const char want[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<r xmlns=\"urn:x\" a=\"x&amp;&lt;&quot;\" "
		"n=\"18446744073709551615\"><e>t&lt;&amp;</e><l>-5</l>"
		"<u>4294967295</u><x/><p>one &gt; two<q/></p></r>\n";
	struct xmlu_writer *xw = NULL;
	struct buf *mb = NULL;

	(void)state;
	assert_int_equal(buf_alloc(&mb, 64, 4096), 0);
	assert_int_equal(xmlu_writer_alloc(&xw), 0);
	assert_int_equal(xmlu_start(xw->w, "r"), 0);
	assert_int_equal(xmlu_attr(xw->w, "xmlns", "urn:x"), 0);
	assert_int_equal(xmlu_attr(xw->w, "a", "x&<\""), 0);
	assert_int_equal(xmlu_attr_u64(xw->w, "n", UINT64_MAX), 0);
	/* a value XML cannot carry is refused and nothing is written */
	assert_int_equal(xmlu_attr(xw->w, "bad", "\x01"), EINVAL);
	assert_int_equal(xmlu_attr(xw->w, "bad", NULL), EINVAL);
	assert_int_equal(xmlu_elem(xw->w, "e", "t<&"), 0);
	assert_int_equal(xmlu_elem(xw->w, "bad", "\xc3"), EINVAL);
	assert_int_equal(xmlu_elem_long(xw->w, "l", -5), 0);
	assert_int_equal(xmlu_elem_u64(xw->w, "u", UINT32_MAX), 0);
	assert_int_equal(xmlu_empty(xw->w, "x"), 0);
	assert_int_equal(xmlu_start(xw->w, "p"), 0);
	assert_int_equal(xmlu_text(xw->w, "one > two"), 0);
	assert_int_equal(xmlu_text(xw->w, "\x02"), EINVAL);
	assert_int_equal(xmlu_raw(xw->w, "<q/>"), 0);
	assert_int_equal(xmlu_raw(xw->w, NULL), EINVAL);
	/* <p> and <r> are left open: finishing closes them */
	assert_int_equal(xmlu_writer_finish(xw, mb), 0);
	assert_int_equal(mb->end, strlen(want));
	assert_memory_equal(mb->b, want, mb->end);
	/* the writer takes nothing after the end */
	assert_int_equal(xmlu_writer_finish(xw, mb), EINVAL);
	xw = mem_deref(xw);
	mb = mem_deref(mb);

	/* the buffer's ceiling holds */
	assert_int_equal(buf_alloc(&mb, 16, 32), 0);
	assert_int_equal(xmlu_writer_alloc(&xw), 0);
	assert_int_equal(xmlu_elem(xw->w, "r", "more than the buffer holds"),
			 0);
	assert_int_equal(xmlu_writer_finish(xw, mb), EMSGSIZE);
	xw = mem_deref(xw);
	mb = mem_deref(mb);

	/* a writer dropped half-way frees what libxml2 holds (ASan) */
	assert_int_equal(xmlu_writer_alloc(&xw), 0);
	assert_int_equal(xmlu_start(xw->w, "r"), 0);
	xw = mem_deref(xw);
	assert_int_equal(xmlu_writer_alloc(NULL), EINVAL);
}


/* Parse with stderr redirected to a file; what reached stderr is
 * returned in *errlen. */
static int parse_quiet(xmlDocPtr *docp, const char *xml, size_t len,
		       const struct xmlu_parse_opts *opts, char *why,
		       size_t whysz, long *errlen)
{
	char path[] = "/tmp/entims-xml-XXXXXX";
	int fd, saved, err;
	struct stat st;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	(void)fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	err = xmlu_parse(docp, xml, len, opts, why, whysz);
	(void)fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	assert_int_equal(close(saved), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(close(fd), 0);
	*errlen = (long)st.st_size;
	return err;
}


static void test_xml_parse(void **state)
{
	static const struct xmlu_parse_opts named = { .max = 4096,
						      .what = "thing" };
	static const struct xmlu_parse_opts anon = { .max = 4096 };
	static const struct {
		const char *xml;
		const struct xmlu_parse_opts *opts;
		int err;
		const char *why; /* start of the sentence */
	} tab[] = {
		{ "<a>x</a>", &named, 0, "" },
		{ "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY e \"x\">]>"
		  "<a>&e;</a>",
		  &named, EBADMSG, "a DOCTYPE is not allowed in thing" },
		{ "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", &anon,
		  EBADMSG, "a DOCTYPE is not allowed" },
		{ "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\">"
		  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><r>&b;</r>",
		  &anon, EBADMSG, "a DOCTYPE is not allowed" },
		/* without a DTD an entity can only be undeclared */
		{ "<a>&x;</a>", &named, EBADMSG,
		  "not well-formed XML (line 1: " },
		{ "<a>\n<b></a>", &named, EBADMSG,
		  "not well-formed XML (line 2: " },
		{ "", &named, EBADMSG, "not well-formed XML (line " },
		{ "<a>\xff\xfe</a>", &named, EBADMSG, "not well-formed XML" },
		/* libxml2 2.9 reports a conversion error to stderr despite
		 * XML_PARSE_NOERROR unless the generic handler is silenced */
		{ "<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?>"
		  "<a>\x1b$B\xff\xff</a>",
		  &named, EBADMSG, "not well-formed XML" },
		/* the parser refuses what xmlu_text_ok() refuses */
		{ "<a>\xc0\xaf</a>", &named, EBADMSG, "not well-formed XML" },
	};
	xmlGenericErrorFunc gen_h = xmlGenericError;
	char why[160];
	xmlDocPtr doc;
	long errlen;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int err;

		doc = NULL;
		err = parse_quiet(&doc, tab[i].xml, strlen(tab[i].xml),
				  tab[i].opts, why, sizeof(why), &errlen);
		if (err != tab[i].err)
			fail_msg("case %zu: %d (%s)", i, err, why);
		if (strncmp(why, tab[i].why, strlen(tab[i].why)) != 0)
			fail_msg("case %zu: \"%s\"", i, why);
		if (!err && !strcmp(tab[i].why, "") && why[0])
			fail_msg("case %zu: a sentence on success", i);
		if (errlen)
			fail_msg("case %zu: %ld bytes on stderr", i, errlen);
		/* libxml2's messages end in \n; the sentence does not */
		if (err && why[strlen(why) - 1] == '\n')
			fail_msg("case %zu: newline in \"%s\"", i, why);
		assert_true((err == 0) == (doc != NULL));
		if (doc)
			xmlFreeDoc(doc);
	}
	/* the caller's generic error handler is back */
	assert_ptr_equal(xmlGenericError, gen_h);

	/* the size limit, counted in bytes, before any parsing */
	doc = NULL;
	assert_int_equal(xmlu_parse(&doc, "<a>xxxx</a>", 11,
				    &(struct xmlu_parse_opts){ .max = 10 }, why,
				    sizeof(why)),
			 EMSGSIZE);
	assert_string_equal(why, "a document of 11 bytes is larger than the 10 "
				 "accepted");
	assert_null(doc);
	assert_int_equal(xmlu_parse(&doc, "<a>xxxx</a>", 11,
				    &(struct xmlu_parse_opts){
					    .max = 10, .what = "thing" },
				    why, sizeof(why)),
			 EMSGSIZE);
	assert_string_equal(why,
			    "thing of 11 bytes is larger than the 10 accepted");
	assert_int_equal(xmlu_parse(&doc, "<a>xxxx</a>", 11,
				    &(struct xmlu_parse_opts){ .max = 11 },
				    NULL, 0),
			 0);
	assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, "a");
	xmlFreeDoc(doc);
	/* the bytes need not be NUL-terminated */
	doc = NULL;
	assert_int_equal(xmlu_parse(&doc, "<b/>trailing", 4, &anon, NULL, 0),
			 0);
	xmlFreeDoc(doc);
	assert_int_equal(xmlu_parse(&doc, NULL, 1, &anon, NULL, 0), EINVAL);
	assert_int_equal(xmlu_parse(NULL, "<a/>", 4, &anon, NULL, 0), EINVAL);
	assert_int_equal(xmlu_parse(&doc, "<a/>", 4, NULL, NULL, 0), EINVAL);
}


static void test_xml_node_text(void **state)
{
	static const struct xmlu_parse_opts opts = { .max = 4096 };
	static const char xml[] =
		"<r><t> x&lt;<![CDATA[<y>]]>\n z \t</t><e>a<b/>c</e><n/>"
		"<s>  </s></r>";
	const xmlNode *badn = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr t, e, n, s;
	char *out = NULL;

	(void)state;
	assert_int_equal(xmlu_parse(&doc, xml, sizeof(xml) - 1, &opts, NULL, 0),
			 0);
	t = xmlDocGetRootElement(doc)->children;
	e = t->next;
	n = e->next;
	s = n->next;

	/* text and CDATA joined in order; trimmed of S around, not inside */
	assert_int_equal(xmlu_node_text(t, true, &out, NULL), 0);
	assert_string_equal(out, "x<<y>\n z");
	out = mem_deref(out);
	assert_int_equal(xmlu_node_text(t, false, &out, NULL), 0);
	assert_string_equal(out, " x<<y>\n z \t");
	out = mem_deref(out);
	/* an element where text belongs: the child is named */
	assert_int_equal(xmlu_node_text(e, true, &out, &badn), EBADMSG);
	assert_null(out);
	assert_non_null(badn);
	assert_string_equal((const char *)badn->name, "b");
	assert_int_equal(xmlu_node_text(e, true, &out, NULL), EBADMSG);
	/* empty, and all white space */
	assert_int_equal(xmlu_node_text(n, true, &out, NULL), 0);
	assert_string_equal(out, "");
	out = mem_deref(out);
	assert_int_equal(xmlu_node_text(s, true, &out, NULL), 0);
	assert_string_equal(out, "");
	out = mem_deref(out);
	assert_int_equal(xmlu_node_text(NULL, true, &out, NULL), EINVAL);
	xmlFreeDoc(doc);
}


static void test_hex(void **state)
{
	static const uint8_t v[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[2 * sizeof(v) + 1];
	uint8_t b[4];

	(void)state;
	hex_encode(out, v, sizeof(v));
	assert_string_equal(out, "000fa5ff");
	assert_int_equal(hex_decode(b, 4, "000FA5ff", 8), 0);
	assert_memory_equal(b, v, 4);
	assert_int_equal(hex_decode(b, 4, "000fa5f", 7), EINVAL);
	assert_int_equal(hex_decode(b, 4, "000fa5fg", 8), EINVAL);
	assert_int_equal(hex_decode(b, 4, NULL, 8), EINVAL);
	hex_encode(out, v, 0);
	assert_string_equal(out, "");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_base64_vectors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_base64_alphabets, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_base64_refusals, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_hex, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_mkdir_p, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_mkdir_p_too_long, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_xml_text_ok, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_xml_writer, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_xml_parse, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_xml_node_text, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("core_util", tests, NULL, NULL);
}
