/**
 * @file test_core_util.c  Generic helpers: base64 and base64url (RFC 4648
 * 10 test vectors, the decoder's refusals) and mkdir -p.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/fs.h"
#include "core/mem.h"

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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_base64_vectors, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_base64_alphabets, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_base64_refusals, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_mkdir_p, mem_mark,
						mem_expect_no_leaks),
		cmocka_unit_test_setup_teardown(test_mkdir_p_too_long, mem_mark,
						mem_expect_no_leaks),
	};

	return cmocka_run_group_tests_name("core_util", tests, NULL, NULL);
}
