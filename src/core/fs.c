/**
 * @file fs.c  File system helpers.
 *
 * The data directory (SQLite files, TLS certificates, demo credentials)
 * is created by `entims run` on first start and by the provisioning
 * commands, which may run before the server ever did; both go through
 * fs_mkdir_p() so that they create it the same way.
 */
#include "core/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>


/**
 * Create a directory and its missing parents (mkdir -p); existing ones
 * are left as they are.
 *
 * @param dir   the path
 * @param mode  mode of the directories created (before the umask)
 * @return 0, EINVAL, ENAMETOOLONG, or the errno of mkdir()
 */
int fs_mkdir_p(const char *dir, mode_t mode)
{
	char tmp[PATH_MAX], *p;
	int n;

	if (!dir || !*dir)
		return EINVAL;
	n = snprintf(tmp, sizeof(tmp), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return errno;
	return 0;
}
