/**
 * @file fs.h  File system helpers.
 */
#ifndef IMS_CORE_FS_H
#define IMS_CORE_FS_H

#include <sys/types.h>

#include "core/mem.h"

int fs_mkdir_p(const char *dir, mode_t mode) IMS_MUST_CHECK;

#endif
