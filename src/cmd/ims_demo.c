/**
 * @file ims_demo.c  The demo enterprise of the standalone IMS.
 *
 * On the first start of `entims run` with the four IMS roles in one
 * process, an empty subscriber store gets a demo enterprise so that a
 * softphone can register at once: alice, bob, carol and dave, each a
 * subscription with one IMPI (user@domain, SIP Digest MD5 and SHA-256
 * HA1s of a random password, TS 24.229 5.1.1.2 / RFC 7616 3.4.2) and two
 * IMPUs, sip:NAME@domain and sip:EXT@domain, in one implicit registration
 * set (TS 23.228 4.3.3.3): registering the name registers the extension
 * too, so dialling 1001 reaches alice.  They share the service profile
 * "default" (no iFCs: an administrator adds them to all demo users at
 * once with `entims profile add default --replace --ifc ...`).
 *
 * Provisioning goes through hss/prov.h, the code `entims subscriber add`
 * runs, so the users are ordinary subscribers the admin manages with the
 * CLI.  The HSS keeps only HA1s; the passwords are kept in
 * DATA/demo-enterprise.txt (0600) so that they can be shown at every
 * start, as the sip role does with its demo-credentials.txt.
 *
 * Crash safety: the password file is first written (and fsynced) as
 * demo-enterprise.txt.new, then each subscription missing from the store
 * is added, then the file is renamed to its final name.  A start that
 * finds the .new file finishes that provisioning (a kill -9 halfway
 * loses no user and no password); a start that finds the final file
 * provisions nothing, ever, whatever the administrator did since.  A
 * store that already has subscribers and no demo file is the admin's:
 * nothing is provisioned.
 *
 * What is shown is checked against the store: a user deleted since is
 * left out, a user whose password the admin changed is shown without it
 * (the file's password no longer matches the stored MD5 HA1).
 */
#include "cmd/ims_demo.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "hss/prov.h"
#include "sip/auth.h"
#include "store/store.h"

#define DEMO_USERS   4
#define DEMO_PW_LEN  12
#define DEMO_NAMEMAX 32
#define DEMO_DOMMAX  256

struct demo_user {
	char name[DEMO_NAMEMAX];
	char ext[DEMO_NAMEMAX];
	char pw[DEMO_NAMEMAX];
};

struct demo {
	char domain[DEMO_DOMMAX];
	struct demo_user u[DEMO_USERS];
	size_t n;
};

static const char *const demo_names[DEMO_USERS] = { "alice", "bob", "carol",
						    "dave" };


/* An unambiguous alphabet of 32 characters: r % 32 has no bias. */
static int random_password(char *out, size_t len)
{
	static const char set[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char r[DEMO_PW_LEN];
	size_t i;

	if (len < DEMO_PW_LEN + 1)
		return EINVAL;
	if (RAND_bytes(r, (int)sizeof(r)) != 1)
		return EIO;
	for (i = 0; i < DEMO_PW_LEN; i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[DEMO_PW_LEN] = '\0';
	return 0;
}


static int file_write(const char *path, const struct demo *d)
{
	FILE *f;
	size_t i;
	int err = 0;

	f = fopen(path, "w");
	if (!f)
		return errno;
	if (fchmod(fileno(f), 0600))
		err = errno;
	(void)fprintf(f,
		      "# entims demo enterprise: the passwords of the demo "
		      "users (the HSS keeps only\n# their HA1).  Written "
		      "once; delete the users with `entims subscriber "
		      "delete`.\ndomain %s\n",
		      d->domain);
	for (i = 0; i < d->n; i++)
		(void)fprintf(f, "user %s %s %s\n", d->u[i].name, d->u[i].ext,
			      d->u[i].pw);
	if (fflush(f) && !err)
		err = errno;
	if (fsync(fileno(f)) && !err)
		err = errno;
	if (fclose(f) && !err)
		err = errno;
	return err;
}


/* Parse what file_write wrote; EBADMSG on anything else. */
static int file_read(const char *path, struct demo *d)
{
	char line[512];
	FILE *f;
	int err = 0;

	memset(d, 0, sizeof(*d));
	f = fopen(path, "r");
	if (!f)
		return errno;
	while (fgets(line, sizeof(line), f)) {
		struct demo_user *u;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "domain ", 7)) {
			if (sscanf(line + 7, "%255s", d->domain) != 1)
				err = EBADMSG;
			continue;
		}
		if (strncmp(line, "user ", 5) != 0 || d->n == DEMO_USERS) {
			err = EBADMSG;
			break;
		}
		u = &d->u[d->n];
		if (sscanf(line + 5, "%31s %31s %31s", u->name, u->ext,
			   u->pw) != 3) {
			err = EBADMSG;
			break;
		}
		d->n++;
	}
	(void)fclose(f);
	if (!err && (!d->domain[0] || !d->n))
		err = EBADMSG;
	return err;
}


static int profile_ensure(struct store *st, char *msg, size_t size)
{
	json_t *sp;
	int err;

	sp = json_pack("{s:s, s:[]}", "name", "default", "ifc");
	if (!sp)
		return ENOMEM;
	err = prov_sp_add(st, sp, 0, msg, size);
	json_decref(sp);
	return err == EEXIST ? 0 : err;
}


static int sub_add(struct store *st, const struct demo *d,
		   const struct demo_user *u, char *msg, size_t size)
{
	char impi[300], aor[300], ext[300], disp[DEMO_NAMEMAX];
	json_t *doc;
	int err;

	(void)snprintf(impi, sizeof(impi), "%s@%s", u->name, d->domain);
	(void)snprintf(aor, sizeof(aor), "sip:%s@%s", u->name, d->domain);
	(void)snprintf(ext, sizeof(ext), "sip:%s@%s", u->ext, d->domain);
	(void)snprintf(disp, sizeof(disp), "%s", u->name);
	if (disp[0] >= 'a' && disp[0] <= 'z')
		disp[0] = (char)(disp[0] - 'a' + 'A');
	/* one implicit registration set (irs 1): a REGISTER of either
	 * registers both (TS 29.228 B.2.1) */
	doc = json_pack("{s:s, s:[{s:s, s:s, s:[s, s]}], "
			"s:[{s:s, s:s, s:i, s:s}, {s:s, s:s, s:i, s:s}]}",
			"name", u->name, "impi", "identity", impi, "password",
			u->pw, "impu", aor, ext, "impu", "identity", aor,
			"display_name", disp, "irs", 1, "service_profile",
			"default", "identity", ext, "display_name", disp, "irs",
			1, "service_profile", "default");
	if (!doc)
		return ENOMEM;
	err = prov_sub_add(st, doc, msg, size);
	json_decref(doc);
	return err;
}


static int sub_count(struct store *st, size_t *np, char *msg, size_t size)
{
	json_t *a = NULL;
	int err;

	err = prov_sub_list(st, &a, msg, size);
	if (!err)
		*np = json_array_size(a);
	json_decref(a);
	return err;
}


static bool sub_exists(struct store *st, const char *name, int *errp, char *msg,
		       size_t size)
{
	json_t *doc = NULL;
	int err;

	err = prov_sub_export(st, name, &doc, msg, size);
	json_decref(doc);
	*errp = err == ENOENT ? 0 : err;
	return !err;
}


/* First start, or the rest of one that was cut short. */
static int provision(struct store *st, const struct ims_demo_conf *c,
		     const char *path, const char *tmp, char *msg, size_t size)
{
	struct demo d;
	size_t i, n = 0;
	int err;

	if (access(tmp, F_OK) == 0) {
		err = file_read(tmp, &d);
		if (err) {
			(void)snprintf(msg, size,
				       "%s is unreadable (%s): delete it to "
				       "provision the demo users afresh",
				       tmp, log_strerror(err));
			return err;
		}
	} else {
		err = sub_count(st, &n, msg, size);
		if (err || n)
			return err; /* the admin's store: leave it */
		memset(&d, 0, sizeof(d));
		if (strlen(c->domain) >= sizeof(d.domain))
			return EINVAL;
		(void)snprintf(d.domain, sizeof(d.domain), "%s", c->domain);
		for (i = 0; i < DEMO_USERS; i++) {
			struct demo_user *u = &d.u[i];

			(void)snprintf(u->name, sizeof(u->name), "%s",
				       demo_names[i]);
			(void)snprintf(u->ext, sizeof(u->ext), "%zu", 1001 + i);
			err = random_password(u->pw, sizeof(u->pw));
			if (err)
				return err;
		}
		d.n = DEMO_USERS;
		err = file_write(tmp, &d);
		if (err) {
			(void)snprintf(msg, size, "cannot write %s: %s", tmp,
				       log_strerror(err));
			return err;
		}
	}
	err = profile_ensure(st, msg, size);
	for (i = 0; !err && i < d.n; i++) {
		if (!sub_exists(st, d.u[i].name, &err, msg, size) && !err)
			err = sub_add(st, &d, &d.u[i], msg, size);
	}
	if (err)
		return err;
	if (rename(tmp, path)) {
		err = errno;
		(void)snprintf(msg, size, "cannot rename %s to %s: %s", tmp,
			       path, log_strerror(err));
	}
	return err;
}


/* The password shown, or why not: the store is the truth. */
static const char *shown_password(struct store *st, const struct demo *d,
				  const struct demo_user *u)
{
	char impi[300], want[AUTH_HA1_HEX_MAX], have[AUTH_HA1_HEX_MAX];
	int err;

	(void)snprintf(impi, sizeof(impi), "%s@%s", u->name, d->domain);
	err = store_impi_ha1(st, impi, d->domain, 0, have, sizeof(have));
	if (err == ENOENT)
		return NULL;
	if (err)
		return "(store error)";
	if (auth_ha1(AUTH_ALG_MD5, impi, d->domain, u->pw, want,
		     sizeof(want)) ||
	    strcasecmp(want, have) != 0)
		return "(changed by the administrator)";
	return u->pw;
}


static void print_table(struct store *st, const struct ims_demo_conf *c,
			const struct demo *d, bool fresh, const char *path,
			FILE *out)
{
	size_t i;

	(void)fprintf(out,
		      "Demo enterprise %s (%s):\n"
		      "  registrar and outbound proxy: %s\n"
		      "  %-6s %-9s %-28s %-28s %s\n",
		      d->domain,
		      fresh ? "provisioned now" : "provisioned at first start",
		      c->proxy, "user", "extension", "SIP address (AOR)",
		      "auth username", "password");
	for (i = 0; i < d->n; i++) {
		const struct demo_user *u = &d->u[i];
		const char *pw = shown_password(st, d, u);
		char aor[300], impi[300];

		if (!pw)
			continue; /* deleted by the admin */
		(void)snprintf(aor, sizeof(aor), "sip:%s@%s", u->name,
			       d->domain);
		(void)snprintf(impi, sizeof(impi), "%s@%s", u->name, d->domain);
		(void)fprintf(out, "  %-6s %-9s %-28s %-28s %s\n", u->name,
			      u->ext, aor, impi, pw);
	}
	(void)fprintf(out,
		      "  passwords kept in %s; users: entims subscriber list "
		      "-d %s\n",
		      path, c->data_dir);
	if (strcmp(d->domain, c->domain) != 0)
		(void)fprintf(out,
			      "  note: the demo users are in %s, not in the "
			      "configured domain %s\n",
			      d->domain, c->domain);
	(void)fflush(out);
}


int ims_demo_run(const struct ims_demo_conf *c, FILE *out, char *msg,
		 size_t size)
{
	char path[600], tmp[610], url[CONF_STR_MAX + 32];
	struct store *st = NULL;
	struct demo d;
	bool fresh;
	int err;

	if (!c || !c->data_dir || !c->domain || !c->proxy || !out)
		return EINVAL;
	(void)snprintf(path, sizeof(path), "%s/%s", c->data_dir, IMS_DEMO_FILE);
	(void)snprintf(tmp, sizeof(tmp), "%s.new", path);
	err = store_url_resolve(url, sizeof(url), c->store_url, c->data_dir);
	if (!err)
		err = store_open(&st, url);
	if (err) {
		(void)snprintf(msg, size,
			       "cannot open the subscriber store: %s",
			       log_strerror(err));
		goto out;
	}
	fresh = access(path, F_OK) != 0;
	if (fresh) {
		err = provision(st, c, path, tmp, msg, size);
		if (err)
			goto out;
		if (access(path, F_OK) != 0)
			goto out; /* the admin's own subscribers */
	}
	err = file_read(path, &d);
	if (err) {
		(void)snprintf(msg, size,
			       "%s is unreadable (%s): the demo users are in "
			       "the HSS (entims subscriber list)",
			       path, log_strerror(err));
		goto out;
	}
	print_table(st, c, &d, fresh, path, out);
out:
	mem_deref(st);
	return err;
}
