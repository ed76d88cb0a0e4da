/**
 * @file replay_main.c  Corpus replay driver for the libFuzzer harnesses.
 *
 * Built with any compiler (gcc in the dev preset), linked with one
 * fuzz_<target>.c, it feeds every regular file named on the command line,
 * or found directly inside a directory named there, to
 * LLVMFuzzerTestOneInput() in name order.  Each input is copied into a
 * heap block of exactly its size, so AddressSanitizer reports any read past
 * the end the way libFuzzer would.  A harness signals a failed property by
 * aborting; this driver fails when an input cannot be read or when a
 * directory holds no input at all (an empty corpus tests nothing).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_FILE (1u << 20) /* larger inputs are not corpus entries */

static int replay_file(const char *path, size_t *count)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t size;
	FILE *f = NULL;
	int err = 0;

	if (stat(path, &st) != 0) {
		err = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)REPLAY_MAX_FILE) {
		err = EINVAL;
		goto out;
	}
	size = (size_t)st.st_size;

	f = fopen(path, "rb");
	if (!f) {
		err = errno;
		goto out;
	}
	/* malloc(0) may return NULL: keep one byte so the pointer is valid */
	data = malloc(size ? size : 1);
	if (!data) {
		err = ENOMEM;
		goto out;
	}
	if (size && fread(data, 1, size, f) != size) {
		err = EIO;
		goto out;
	}

	(void)LLVMFuzzerTestOneInput(data, size);
	++*count;
out:
	if (err)
		(void)fprintf(stderr, "replay: %s: %s\n", path,
			      log_strerror(err));
	free(data);
	if (f)
		(void)fclose(f);
	return err;
}


static int no_dotfiles(const struct dirent *de)
{
	return de->d_name[0] != '.';
}


static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **names = NULL;
	size_t before = *count;
	int n, err = 0;

	/* scandir() sorts (and, unlike readdir(), is reentrant) */
	n = scandir(dir, &names, no_dotfiles, alphasort);
	if (n < 0) {
		err = errno;
		(void)fprintf(stderr, "replay: %s: %s\n", dir,
			      log_strerror(err));
		return err;
	}

	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + 1 + strlen(names[i]->d_name) + 1;
		char *path = malloc(len);
		int e;

		if (!path) {
			e = ENOMEM;
		} else {
			(void)snprintf(path, len, "%s/%s", dir,
				       names[i]->d_name);
			e = replay_file(path, count);
			free(path);
		}
		if (e && !err)
			err = e;
	}

	if (!err && *count == before) {
		(void)fprintf(stderr, "replay: %s: no inputs\n", dir);
		err = ENOENT;
	}

	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}


int main(int argc, char **argv)
{
	size_t count = 0;
	int err = 0;

	if (argc < 2) {
		(void)fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n",
			      argv[0]);
		return 2;
	}

	if (LLVMFuzzerInitialize)
		(void)LLVMFuzzerInitialize(&argc, &argv);

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int e;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			e = replay_dir(argv[i], &count);
		else
			e = replay_file(argv[i], &count);
		if (e && !err)
			err = e;
	}

	(void)printf("replay: %zu inputs ran%s\n", count,
		     err ? ", with errors" : "");
	return err ? 1 : 0;
}
