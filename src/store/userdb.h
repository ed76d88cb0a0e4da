/**
 * @file userdb.h  SIP digest users of the plain registrar/proxy.
 *
 * One SQLite table in the data directory: user, realm and the HA1 values
 * for MD5 and SHA-256 (RFC 7616 3.4.2).  Passwords are not stored.  The
 * IMS subscriber store (HSS) replaces this in a later stage; the same
 * database file is used so that a data directory stays one unit.
 */
#ifndef IMS_STORE_USERDB_H
#define IMS_STORE_USERDB_H

#include <stddef.h>

#include "core/mem.h"
#include "core/pl.h"

struct userdb;

int userdb_open(struct userdb **dbp, const char *dir) IMS_MUST_CHECK;
/* Add or replace; EEXIST when present and !replace. */
int userdb_add(struct userdb *db, const char *user, const char *realm,
	       const char *password, int replace) IMS_MUST_CHECK;
int userdb_del(struct userdb *db, const char *user,
	       const char *realm) IMS_MUST_CHECK;
/* HA1 (lowercase hex) for alg 0 = MD5, 1 = SHA-256; ENOENT if unknown. */
int userdb_ha1(struct userdb *db, const struct pl *user, const struct pl *realm,
	       int alg, char *ha1, size_t size) IMS_MUST_CHECK;
typedef void(userdb_list_h)(const char *user, const char *realm, void *arg);
int userdb_list(struct userdb *db, userdb_list_h *h, void *arg) IMS_MUST_CHECK;
int userdb_count(struct userdb *db, size_t *n) IMS_MUST_CHECK;
/* Any user of this domain/realm? */
int userdb_has_user(struct userdb *db, const struct pl *user,
		    const struct pl *realm) IMS_MUST_CHECK;

#endif
