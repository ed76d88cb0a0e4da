/**
 * @file prov_cli.c  The provisioning commands (see prov_cli.h).
 *
 * A thin shell: options become the JSON document that hss/prov.c takes
 * (the same one the REST API will take), and its sentence is printed as
 * the error.  Documents go out as JSON on stdout, so that
 * `entims subscriber export > f` and `entims subscriber import f` are a
 * round trip.
 *
 *   entims subscriber add NAME --impi ID --password PW --impu URI ...
 *   entims subscriber list | show KEY | export [KEY] | import FILE|-
 *   entims subscriber set KEY [--impi ID ...] [--impu URI ...]
 *   entims subscriber delete KEY
 *   entims subscriber deregister IDENTITY [--reason R] [--info TEXT]
 *   entims ifc add FILE|- | add NAME --priority N --as URI [--method M]
 *   entims ifc list | show NAME | delete NAME
 *   entims profile add NAME [--ifc NAME]... | list | show | delete
 *   entims slf set IDENTITY --hss HOST [--hss-realm R] | list | show | delete
 *
 * KEY is a subscription name, a private identity or a public identity.
 */
#include "cmd/prov_cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "hss/prov.h"
#include "store/store.h"

#define MULTI_MAX 16

struct opts {
	const char *config, *data_dir, *store;
	const char *impi, *password, *k, *op, *opc, *amf, *line_id;
	const char *profile, *display_name, *barred, *type, *scscf;
	const char *priority, *as, *default_handling, *service_info;
	const char *profile_part, *session_case, *ruri, *irs, *media_profile;
	const char *default_scheme, *reason, *info, *hss, *hss_realm;
	const char *impu[MULTI_MAX], *realm[MULTI_MAX], *scheme[MULTI_MAX];
	const char *ifc[MULTI_MAX], *method[MULTI_MAX], *header[MULTI_MAX];
	const char *shared[MULTI_MAX];
	size_t impu_n, realm_n, scheme_n, ifc_n, method_n, header_n, shared_n;
	int replace, help;
};

enum {
	O_STORE = 256,
	O_IMPI,
	O_PASSWORD,
	O_REALM,
	O_SCHEME,
	O_DEFAULT_SCHEME,
	O_IMPU,
	O_K,
	O_OP,
	O_OPC,
	O_AMF,
	O_LINE_ID,
	O_PROFILE,
	O_DISPLAY_NAME,
	O_BARRED,
	O_TYPE,
	O_IRS,
	O_SCSCF,
	O_PRIORITY,
	O_AS,
	O_METHOD,
	O_HEADER,
	O_RURI,
	O_SESSION_CASE,
	O_DEFAULT_HANDLING,
	O_SERVICE_INFO,
	O_PROFILE_PART,
	O_IFC,
	O_SHARED_SET,
	O_MEDIA_PROFILE,
	O_REPLACE,
	O_REASON,
	O_INFO,
	O_HSS,
	O_HSS_REALM,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "data-dir", required_argument, NULL, 'd' },
	{ "store", required_argument, NULL, O_STORE },
	{ "help", no_argument, NULL, 'h' },
	{ "impi", required_argument, NULL, O_IMPI },
	{ "password", required_argument, NULL, O_PASSWORD },
	{ "realm", required_argument, NULL, O_REALM },
	{ "scheme", required_argument, NULL, O_SCHEME },
	{ "default-scheme", required_argument, NULL, O_DEFAULT_SCHEME },
	{ "impu", required_argument, NULL, O_IMPU },
	{ "k", required_argument, NULL, O_K },
	{ "op", required_argument, NULL, O_OP },
	{ "opc", required_argument, NULL, O_OPC },
	{ "amf", required_argument, NULL, O_AMF },
	{ "line-id", required_argument, NULL, O_LINE_ID },
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "display-name", required_argument, NULL, O_DISPLAY_NAME },
	{ "barred", required_argument, NULL, O_BARRED },
	{ "type", required_argument, NULL, O_TYPE },
	{ "irs", required_argument, NULL, O_IRS },
	{ "scscf", required_argument, NULL, O_SCSCF },
	{ "priority", required_argument, NULL, O_PRIORITY },
	{ "as", required_argument, NULL, O_AS },
	{ "method", required_argument, NULL, O_METHOD },
	{ "header", required_argument, NULL, O_HEADER },
	{ "ruri", required_argument, NULL, O_RURI },
	{ "session-case", required_argument, NULL, O_SESSION_CASE },
	{ "default-handling", required_argument, NULL, O_DEFAULT_HANDLING },
	{ "service-info", required_argument, NULL, O_SERVICE_INFO },
	{ "profile-part", required_argument, NULL, O_PROFILE_PART },
	{ "ifc", required_argument, NULL, O_IFC },
	{ "shared-set", required_argument, NULL, O_SHARED_SET },
	{ "media-profile", required_argument, NULL, O_MEDIA_PROFILE },
	{ "replace", no_argument, NULL, O_REPLACE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "info", required_argument, NULL, O_INFO },
	{ "hss", required_argument, NULL, O_HSS },
	{ "hss-realm", required_argument, NULL, O_HSS_REALM },
	{ NULL, 0, NULL, 0 },
};

static const char common_help[] =
	"  -c, --config FILE   configuration file (default entims.conf)\n"
	"  -d, --data-dir DIR  data directory (the SQLite store is "
	"DIR/entims.db)\n"
	"  --store URL         sqlite:PATH or a PostgreSQL conninfo "
	"(default: [store] url)\n";

static void help_subscriber(FILE *f)
{
	(void)fprintf(
		f,
		"Usage: entims subscriber ACTION [options]\n"
		"\n"
		"  add NAME --impi ID [--password PW] [--impu URI]...\n"
		"      a subscription with one private identity (user@realm) "
		"and its\n"
		"      public identities (registered together); options:\n"
		"        --realm R (repeatable; default: the IMPI's domain), "
		"--scheme S\n"
		"        (digest-md5, digest-sha256, aka-v1-md5, aka-v2-md5; "
		"repeatable),\n"
		"        --default-scheme S, --k HEX --op HEX | --opc HEX, "
		"--amf HEX,\n"
		"        --line-id X, --profile SP, --type T, --display-name "
		"X, --scscf URI\n"
		"  list                          one line per subscription\n"
		"  show KEY                      the subscription as JSON, "
		"with its\n"
		"                                registration state\n"
		"  set KEY [--impi ID options] [--impu URI options] [--scscf "
		"URI]\n"
		"      change fields of an identity (added when new): "
		"--password, --realm,\n"
		"      --scheme, --k/--op/--opc, --amf, --line-id; --barred "
		"yes|no,\n"
		"      --display-name, --profile, --irs N, --type\n"
		"  delete KEY                    the subscription and all its "
		"identities\n"
		"                                (a registered user gets "
		"an RTR from\n"
		"                                the HSS, sent even after "
		"the delete)\n"
		"  deregister IDENTITY [--reason R] [--info TEXT]\n"
		"      administrative deregistration: the HSS sends its "
		"S-CSCF an RTR\n"
		"      for an IMPI (the sets it registered) or an IMPU "
		"(its implicit\n"
		"      set); R: permanent (default), new-server, "
		"server-change,\n"
		"      remove-scscf (TS 29.229 6.3.17 Reason-Code); TEXT: "
		"the\n"
		"      Reason-Info (one line, at most 256 characters)\n"
		"  import FILE|-                 JSON: one subscription or a "
		"list\n"
		"  export [KEY]                  JSON to stdout (all without "
		"KEY)\n"
		"\n"
		"KEY: a subscription name, a private or a public identity.\n"
		"A change to what a registered user's S-CSCF holds (barring, "
		"identities,\n"
		"profile, iFCs, charging) is pushed to it by the HSS (PPR).\n"
		"Options:\n%s"
		"Exit status: 0 done, 1 refused (the reason on stderr), 2 "
		"bad usage.\n"
		"The JSON format: docs/internals/provisioning.md\n",
		common_help);
}


static void help_ifc(FILE *f)
{
	(void)fprintf(
		f,
		"Usage: entims ifc ACTION [options]\n"
		"\n"
		"  add FILE|-                    iFCs as JSON (one or a list)\n"
		"  add NAME --priority N --as URI [trigger options]\n"
		"      --method M (repeatable: any of them), --ruri REGEX,\n"
		"      --header NAME[=REGEX], --session-case C "
		"(originating,\n"
		"      terminating_registered, terminating_unregistered, "
		"...),\n"
		"      --default-handling session_continued|"
		"session_terminated,\n"
		"      --service-info TEXT, --profile-part registered|"
		"unregistered,\n"
		"      --profile SP (also append it to that service profile)\n"
		"  list | show NAME | delete NAME\n"
		"Options:\n%s",
		common_help);
}


static void help_profile(FILE *f)
{
	(void)fprintf(
		f,
		"Usage: entims profile ACTION [options]\n"
		"\n"
		"  add NAME [--ifc NAME]... [--shared-set ID]... "
		"[--media-profile N]\n"
		"      [--replace]               a service profile and its "
		"iFCs\n"
		"  list | show NAME | delete NAME\n"
		"Options:\n%s",
		common_help);
}


static void help_slf(FILE *f)
{
	(void)fprintf(
		f,
		"Usage: entims slf ACTION [options]\n"
		"\n"
		"The subscription locator (Dx, TS 29.228 6.6): which HSS holds "
		"an identity,\nfor an SLF ([core] roles = slf, or [hss] slf = "
		"with-hss) in front of\nseveral HSSs.\n"
		"\n"
		"  set IDENTITY --hss HOST [--hss-realm R]\n"
		"      IDENTITY is a public (sip:alice@acme.example) or "
		"private "
		"(alice@acme.example)\n"
		"      identity; HOST the HSS's Diameter identity; R its realm "
		"(default: HOST\n"
		"      without its first label)\n"
		"  list | show IDENTITY | delete IDENTITY\n"
		"Options:\n%s",
		common_help);
}


bool prov_cli_is_command(const char *cmd)
{
	return !strcmp(cmd, "subscriber") || !strcmp(cmd, "ifc") ||
	       !strcmp(cmd, "profile") || !strcmp(cmd, "slf");
}


static int add_multi(const char **v, size_t *n, const char *s)
{
	if (*n >= MULTI_MAX) {
		(void)fprintf(stderr, "entims: at most %d of one option\n",
			      MULTI_MAX);
		return 2;
	}
	v[(*n)++] = s;
	return 0;
}


static int parse(int argc, char **argv, struct opts *o)
{
	int ch;

	optind = 2;
	/* getopt's state is global: fine here, before any thread */
	while ((ch = getopt_long(argc, argv, "c:d:h", longopts, /* NOLINT */
				 NULL)) != -1) {
		int rc = 0;
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->data_dir = optarg;
			break;
		case 'h':
			o->help = 1;
			break;
		case O_STORE:
			o->store = optarg;
			break;
		case O_IMPI:
			o->impi = optarg;
			break;
		case O_PASSWORD:
			o->password = optarg;
			break;
		case O_REALM:
			rc = add_multi(o->realm, &o->realm_n, optarg);
			break;
		case O_SCHEME:
			rc = add_multi(o->scheme, &o->scheme_n, optarg);
			break;
		case O_DEFAULT_SCHEME:
			o->default_scheme = optarg;
			break;
		case O_IMPU:
			rc = add_multi(o->impu, &o->impu_n, optarg);
			break;
		case O_K:
			o->k = optarg;
			break;
		case O_OP:
			o->op = optarg;
			break;
		case O_OPC:
			o->opc = optarg;
			break;
		case O_AMF:
			o->amf = optarg;
			break;
		case O_LINE_ID:
			o->line_id = optarg;
			break;
		case O_PROFILE:
			o->profile = optarg;
			break;
		case O_DISPLAY_NAME:
			o->display_name = optarg;
			break;
		case O_BARRED:
			o->barred = optarg;
			break;
		case O_TYPE:
			o->type = optarg;
			break;
		case O_IRS:
			o->irs = optarg;
			break;
		case O_SCSCF:
			o->scscf = optarg;
			break;
		case O_PRIORITY:
			o->priority = optarg;
			break;
		case O_AS:
			o->as = optarg;
			break;
		case O_METHOD:
			rc = add_multi(o->method, &o->method_n, optarg);
			break;
		case O_HEADER:
			rc = add_multi(o->header, &o->header_n, optarg);
			break;
		case O_RURI:
			o->ruri = optarg;
			break;
		case O_SESSION_CASE:
			o->session_case = optarg;
			break;
		case O_DEFAULT_HANDLING:
			o->default_handling = optarg;
			break;
		case O_SERVICE_INFO:
			o->service_info = optarg;
			break;
		case O_PROFILE_PART:
			o->profile_part = optarg;
			break;
		case O_IFC:
			rc = add_multi(o->ifc, &o->ifc_n, optarg);
			break;
		case O_SHARED_SET:
			rc = add_multi(o->shared, &o->shared_n, optarg);
			break;
		case O_MEDIA_PROFILE:
			o->media_profile = optarg;
			break;
		case O_REPLACE:
			o->replace = 1;
			break;
		case O_REASON:
			o->reason = optarg;
			break;
		case O_INFO:
			o->info = optarg;
			break;
		case O_HSS:
			o->hss = optarg;
			break;
		case O_HSS_REALM:
			o->hss_realm = optarg;
			break;
		default:
			(void)fprintf(stderr,
				      "entims %s: see 'entims %s "
				      "--help'\n",
				      argv[1], argv[1]);
			return 2;
		}
		if (rc)
			return rc;
	}
	return 0;
}


static int open_store(const struct opts *o, prov_cli_conf_h *confh,
		      struct store **stp)
{
	struct prov_cli_conf c;
	char url[CONF_STR_MAX + 32];
	const char *u;
	int err;

	memset(&c, 0, sizeof(c));
	if (confh(o->config, o->data_dir, &c))
		return 2;
	u = o->store ? o->store : c.store_url;
	if (!u[0] || !strcmp(u, "sqlite")) {
		err = fs_mkdir_p(c.data_dir, 0750);
		if (err) {
			(void)fprintf(stderr,
				      "entims: cannot create the data "
				      "directory '%s': %s (give another with "
				      "--data-dir)\n",
				      c.data_dir, log_strerror(err));
			return 1;
		}
		if (store_url_resolve(url, sizeof(url), NULL, c.data_dir)) {
			(void)fprintf(
				stderr,
				"entims: data directory '%s' is too long\n",
				c.data_dir);
			return 1;
		}
		u = url;
	}
	err = store_open(stp, u);
	if (err == EINVAL) {
		(void)fprintf(stderr,
			      "entims: store '%s' is neither sqlite:PATH nor a "
			      "PostgreSQL URL or conninfo\n",
			      u);
		return 2;
	}
	if (err) {
		(void)fprintf(stderr, "entims: cannot open the store: %s\n",
			      log_strerror(err));
		return 1;
	}
	return 0;
}


static int print_json(const json_t *doc)
{
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		return 1;
	(void)putchar('\n');
	return fflush(stdout) ? 1 : 0;
}


static int refused(const char *cmd, const char *act, const char *msg)
{
	(void)fprintf(stderr, "entims %s %s: %s\n", cmd, act, msg);
	return 1;
}


static json_t *load_doc(const char *cmd, const char *act, const char *path)
{
	json_error_t je;
	json_t *doc;
	FILE *f;

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		(void)fprintf(stderr, "entims %s %s: cannot open '%s': %s\n",
			      cmd, act, path, log_strerror(errno));
		return NULL;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	if (f != stdin)
		(void)fclose(f);
	if (!doc)
		(void)fprintf(stderr,
			      "entims %s %s: '%s' is not valid JSON: line %d "
			      "column %d: %s\n",
			      cmd, act, path, je.line, je.column, je.text);
	return doc;
}


static int jadd(json_t *o, const char *k, const char *v)
{
	return v ? json_object_set_new(o, k, json_string(v)) : 0;
}


static json_t *strs(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		(void)json_array_append_new(a, json_string(v[i]));
	return a;
}


static int jint_opt(json_t *o, const char *k, const char *v)
{
	char *end;
	long long x;

	if (!v)
		return 0;
	x = strtoll(v, &end, 10);
	if (end == v || *end) {
		(void)fprintf(stderr, "entims: '%s' is not a number (for %s)\n",
			      v, k);
		return 2;
	}
	return json_object_set_new(o, k, json_integer(x));
}


/* The private identity members the options give (only those given). */
static json_t *impi_doc(const struct opts *o)
{
	json_t *i = json_object();

	if (!i)
		return NULL;
	(void)jadd(i, "identity", o->impi);
	(void)jadd(i, "password", o->password);
	if (o->realm_n)
		(void)json_object_set_new(i, "realms",
					  strs(o->realm, o->realm_n));
	if (o->scheme_n)
		(void)json_object_set_new(i, "schemes",
					  strs(o->scheme, o->scheme_n));
	(void)jadd(i, "default_scheme", o->default_scheme);
	(void)jadd(i, "k", o->k);
	(void)jadd(i, "op", o->op);
	(void)jadd(i, "opc", o->opc);
	(void)jadd(i, "amf", o->amf);
	(void)jadd(i, "line_id", o->line_id);
	return i;
}


static int impu_doc(const struct opts *o, const char *uri, json_t **out)
{
	json_t *u = json_object();

	if (!u)
		return 1;
	(void)jadd(u, "identity", uri);
	(void)jadd(u, "type", o->type);
	(void)jadd(u, "display_name", o->display_name);
	(void)jadd(u, "service_profile", o->profile);
	if (o->barred) {
		if (strcmp(o->barred, "yes") && strcmp(o->barred, "no")) {
			(void)fprintf(stderr,
				      "entims: --barred takes yes or no\n");
			json_decref(u);
			return 2;
		}
		(void)json_object_set_new(
			u, "barred", json_boolean(!strcmp(o->barred, "yes")));
	}
	if (jint_opt(u, "irs", o->irs)) {
		json_decref(u);
		return 2;
	}
	*out = u;
	return 0;
}


static int sub_add(struct store *st, const struct opts *o, const char *name,
		   char *msg)
{
	json_t *doc = json_object(), *ai = json_array(), *au = json_array();
	json_t *i = NULL, *u;
	size_t k;
	int rc = 0, err;

	if (!doc || !ai || !au)
		goto oom;
	(void)jadd(doc, "name", name);
	if (o->scscf) {
		json_t *s = json_object();
		(void)jadd(s, "preferred", o->scscf);
		(void)json_object_set_new(doc, "scscf", s);
	}
	for (k = 0; k < o->impu_n; k++) {
		rc = impu_doc(o, o->impu[k], &u);
		if (rc)
			goto out;
		/* identities added together register together */
		if (o->impu_n > 1 && !o->irs)
			(void)json_object_set_new(u, "irs", json_integer(1));
		(void)json_array_append_new(au, u);
	}
	if (o->impi) {
		i = impi_doc(o);
		if (!i)
			goto oom;
		(void)json_object_set_new(i, "impu", strs(o->impu, o->impu_n));
		(void)json_array_append_new(ai, i);
	}
	(void)json_object_set(doc, "impi", ai);
	(void)json_object_set(doc, "impu", au);
	err = prov_sub_add(st, doc, msg, PROV_MSG_MAX);
	if (err)
		rc = refused("subscriber", "add", msg);
	else
		printf("added subscription %s\n", name);
	goto out;
oom:
	rc = refused("subscriber", "add", "out of memory");
out:
	json_decref(doc);
	json_decref(ai);
	json_decref(au);
	return rc;
}


static int sub_set(struct store *st, const struct opts *o, const char *key,
		   char *msg)
{
	json_t *ch = json_object(), *u, *a;
	size_t k;
	int rc = 0;

	if (!ch)
		return 1;
	if (o->scscf) {
		json_t *s = json_object();
		(void)jadd(s, "preferred", o->scscf);
		(void)json_object_set_new(ch, "scscf", s);
	}
	if (o->impu_n) {
		a = json_array();
		for (k = 0; k < o->impu_n && !rc; k++) {
			rc = impu_doc(o, o->impu[k], &u);
			if (!rc)
				(void)json_array_append_new(a, u);
		}
		(void)json_object_set_new(ch, "impu", a);
	}
	if (!rc && o->impi) {
		a = json_array();
		(void)json_array_append_new(a, impi_doc(o));
		(void)json_object_set_new(ch, "impi", a);
	}
	if (!rc && !json_object_size(ch)) {
		(void)fprintf(stderr,
			      "entims subscriber set: nothing to change: give "
			      "--impi ID or --impu URI with the fields, or "
			      "--scscf\n");
		rc = 2;
	}
	if (!rc && prov_sub_set(st, key, ch, msg, PROV_MSG_MAX))
		rc = refused("subscriber", "set", msg);
	else if (!rc)
		printf("changed %s\n", key);
	json_decref(ch);
	return rc;
}


static int sub_list(struct store *st, char *msg)
{
	json_t *a = NULL, *e, *x;
	size_t k, n;

	if (prov_sub_list(st, &a, msg, PROV_MSG_MAX))
		return refused("subscriber", "list", msg);
	json_array_foreach(a, k, e)
	{
		printf("%s  impi:",
		       json_string_value(json_object_get(e, "name")));
		json_array_foreach(json_object_get(e, "impi"), n, x)
			printf("%s%s", n ? "," : " ", json_string_value(x));
		printf("  impu:");
		json_array_foreach(json_object_get(e, "impu"), n, x)
			printf("%s%s", n ? "," : " ", json_string_value(x));
		printf("\n");
	}
	json_decref(a);
	return 0;
}


/* `subscriber deregister`: not registered is no failure (the user is
 * where the operator wants it), but it says that nothing is sent. */
static int sub_dereg(struct store *st, const struct opts *o, const char *id,
		     char *msg)
{
	uint32_t reason = 0;
	int err;

	if (o->reason &&
	    prov_reason_parse(o->reason, &reason, msg, PROV_MSG_MAX)) {
		(void)fprintf(stderr, "entims subscriber deregister: %s\n",
			      msg);
		return 2;
	}
	err = prov_deregister(st, id, reason, o->info, msg, PROV_MSG_MAX);
	if (err && err != EALREADY)
		return refused("subscriber", "deregister", msg);
	printf("%s\n", msg);
	return 0;
}


/*
 * `subscriber delete`: prov_sub_delete() queues the RTR of a registered
 * user as a snapshot (destination, User-Name, Reason-Code) and deletes at
 * once; the HSS process sends the RTR at its next poll whether or not the
 * rows still exist, so there is nothing to wait for here.
 */
static int sub_delete(struct store *st, const char *key, char *msg)
{
	msg[0] = '\0';
	if (prov_sub_delete(st, key, msg, PROV_MSG_MAX))
		return refused("subscriber", "delete", msg);
	if (*msg)
		printf("%s was registered: %s\n", key, msg);
	printf("deleted %s\n", key);
	return 0;
}


static int cmd_subscriber(struct store *st, const struct opts *o,
			  const char *act, int argc, char **argv, char *msg)
{
	const char *arg = argc > 0 ? argv[0] : NULL;
	json_t *doc = NULL;
	size_t n = 0;
	int rc = 0;

	if (!strcmp(act, "list"))
		return sub_list(st, msg);
	if (!strcmp(act, "export")) {
		if (arg ? prov_sub_export(st, arg, &doc, msg, PROV_MSG_MAX)
			: prov_export_all(st, &doc, msg, PROV_MSG_MAX))
			return refused("subscriber", act, msg);
		rc = print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (!arg) {
		(void)fprintf(stderr,
			      "entims subscriber %s: give the %s (see entims "
			      "subscriber --help)\n",
			      act,
			      !strcmp(act, "add")      ? "subscription name"
			      : !strcmp(act, "import") ? "file, or - for stdin"
			      : !strcmp(act, "deregister")
				      ? "private or public identity"
				      : "subscription, IMPI "
					"or IMPU");
		return 2;
	}
	if (!strcmp(act, "add"))
		return sub_add(st, o, arg, msg);
	if (!strcmp(act, "set"))
		return sub_set(st, o, arg, msg);
	if (!strcmp(act, "deregister"))
		return sub_dereg(st, o, arg, msg);
	if (!strcmp(act, "show")) {
		if (prov_sub_show(st, arg, &doc, msg, PROV_MSG_MAX))
			return refused("subscriber", act, msg);
		rc = print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (!strcmp(act, "delete"))
		return sub_delete(st, arg, msg);
	if (!strcmp(act, "import")) {
		doc = load_doc("subscriber", act, arg);
		if (!doc)
			return 1;
		if (prov_import(st, doc, &n, msg, PROV_MSG_MAX))
			rc = refused("subscriber", act, msg);
		printf("imported %zu subscription(s)\n", n);
		json_decref(doc);
		return rc;
	}
	(void)fprintf(stderr,
		      "entims subscriber: unknown action '%s' (add, list, "
		      "show, set, delete, deregister, import, export)\n",
		      act);
	return 2;
}


/* The iFC document of `ifc add NAME` options. */
static int ifc_doc(const struct opts *o, const char *name, json_t **out)
{
	json_t *f = json_object(), *spt = json_array(), *s, *tp;
	int group = 0, rc = 0;
	size_t k;

	if (!f || !spt) {
		json_decref(f);
		json_decref(spt);
		return 1;
	}
	(void)jadd(f, "name", name);
	rc = jint_opt(f, "priority", o->priority);
	(void)jadd(f, "as_uri", o->as);
	(void)jadd(f, "default_handling", o->default_handling);
	(void)jadd(f, "service_info", o->service_info);
	(void)jadd(f, "profile_part", o->profile_part);
	/* CNF: the methods are one group (any of them), each other
	 * condition a group of its own (all of them) */
	for (k = 0; k < o->method_n; k++) {
		s = json_pack("{s:i, s:s}", "group", 0, "method", o->method[k]);
		(void)json_array_append_new(spt, s);
	}
	group = o->method_n ? 1 : 0;
	if (o->ruri)
		(void)json_array_append_new(
			spt, json_pack("{s:i, s:s}", "group", group++,
				       "request_uri", o->ruri));
	if (o->session_case)
		(void)json_array_append_new(
			spt, json_pack("{s:i, s:s}", "group", group++,
				       "session_case", o->session_case));
	for (k = 0; k < o->header_n; k++) {
		char h[256];
		char *eq;
		(void)snprintf(h, sizeof(h), "%s", o->header[k]);
		eq = strchr(h, '=');
		if (eq)
			*eq++ = '\0';
		s = json_pack("{s:i, s:s}", "group", group++, "header", h);
		if (eq)
			(void)json_object_set_new(s, "content",
						  json_string(eq));
		(void)json_array_append_new(spt, s);
	}
	if (json_array_size(spt)) {
		tp = json_pack("{s:b, s:O}", "cnf", 1, "spt", spt);
		(void)json_object_set_new(f, "trigger", tp);
	}
	json_decref(spt);
	if (rc) {
		json_decref(f);
		return rc;
	}
	*out = f;
	return 0;
}


/* Append an iFC to a service profile, creating the profile. */
static int ifc_to_profile(struct store *st, const char *sp, const char *ifc,
			  char *msg)
{
	json_t *doc = NULL, *a;
	int err;

	err = prov_sp_export(st, sp, &doc, msg, PROV_MSG_MAX);
	if (err == ENOENT) {
		doc = json_pack("{s:s, s:[]}", "name", sp, "ifc");
		err = doc ? 0 : ENOMEM;
	}
	if (!err) {
		a = json_object_get(doc, "ifc");
		(void)json_array_append_new(a, json_string(ifc));
		err = prov_sp_add(st, doc, 1, msg, PROV_MSG_MAX);
	}
	json_decref(doc);
	return err;
}


static int cmd_ifc(struct store *st, const struct opts *o, const char *act,
		   int argc, char **argv, char *msg)
{
	const char *arg = argc > 0 ? argv[0] : NULL;
	json_t *doc = NULL, *e;
	size_t k;
	int rc = 0;

	if (!strcmp(act, "list")) {
		if (prov_ifc_export(st, NULL, &doc, msg, PROV_MSG_MAX))
			return refused("ifc", act, msg);
		json_array_foreach(doc, k, e)
			printf("%s  priority %lld  %s\n",
			       json_string_value(json_object_get(e, "name")),
			       (long long)json_integer_value(
				       json_object_get(e, "priority")),
			       json_string_value(json_object_get(e, "as_uri")));
		json_decref(doc);
		return 0;
	}
	if (!arg) {
		(void)fprintf(stderr,
			      "entims ifc %s: give the iFC name (or a JSON "
			      "file to add; see entims ifc --help)\n",
			      act);
		return 2;
	}
	if (!strcmp(act, "show")) {
		if (prov_ifc_export(st, arg, &doc, msg, PROV_MSG_MAX))
			return refused("ifc", act, msg);
		rc = print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (!strcmp(act, "delete")) {
		if (prov_ifc_delete(st, arg, msg, PROV_MSG_MAX))
			return refused("ifc", act, msg);
		printf("deleted iFC %s\n", arg);
		return 0;
	}
	if (strcmp(act, "add")) {
		(void)fprintf(stderr,
			      "entims ifc: unknown action '%s' (add, list, "
			      "show, delete)\n",
			      act);
		return 2;
	}
	if (o->as || o->priority) {
		rc = ifc_doc(o, arg, &doc);
		if (rc)
			return rc;
	} else {
		doc = load_doc("ifc", act, arg);
		if (!doc)
			return 1;
	}
	if (prov_ifc_add(st, doc, msg, PROV_MSG_MAX))
		rc = refused("ifc", act, msg);
	else if (o->profile && json_is_object(doc) &&
		 ifc_to_profile(st, o->profile,
				json_string_value(json_object_get(doc, "name")),
				msg))
		rc = refused("ifc", act, msg);
	else
		printf("added iFC(s) from %s\n", arg);
	json_decref(doc);
	return rc;
}


static int cmd_profile(struct store *st, const struct opts *o, const char *act,
		       int argc, char **argv, char *msg)
{
	const char *arg = argc > 0 ? argv[0] : NULL;
	json_t *doc = NULL, *e, *x;
	size_t k, n;
	int rc = 0;

	if (!strcmp(act, "list")) {
		if (prov_sp_export(st, NULL, &doc, msg, PROV_MSG_MAX))
			return refused("profile", act, msg);
		json_array_foreach(doc, k, e)
		{
			printf("%s  ifc:",
			       json_string_value(json_object_get(e, "name")));
			json_array_foreach(json_object_get(e, "ifc"), n, x)
				printf("%s%s", n ? "," : " ",
				       json_string_value(x));
			printf("\n");
		}
		json_decref(doc);
		return 0;
	}
	if (!arg) {
		(void)fprintf(stderr,
			      "entims profile %s: give the profile name\n",
			      act);
		return 2;
	}
	if (!strcmp(act, "show")) {
		if (prov_sp_export(st, arg, &doc, msg, PROV_MSG_MAX))
			return refused("profile", act, msg);
		rc = print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (!strcmp(act, "delete")) {
		if (prov_sp_delete(st, arg, msg, PROV_MSG_MAX))
			return refused("profile", act, msg);
		printf("deleted service profile %s\n", arg);
		return 0;
	}
	if (strcmp(act, "add")) {
		(void)fprintf(stderr,
			      "entims profile: unknown action '%s' (add, list, "
			      "show, delete)\n",
			      act);
		return 2;
	}
	doc = json_pack("{s:s, s:o}", "name", arg, "ifc",
			strs(o->ifc, o->ifc_n));
	if (!doc)
		return 1;
	x = json_array();
	for (k = 0; k < o->shared_n && !rc; k++) {
		json_t *t = json_object();
		rc = jint_opt(t, "id", o->shared[k]);
		(void)json_array_append(x, json_object_get(t, "id"));
		json_decref(t);
	}
	(void)json_object_set_new(doc, "shared_ifc_sets", x);
	if (!rc)
		rc = jint_opt(doc, "media_profile", o->media_profile);
	if (!rc && prov_sp_add(st, doc, o->replace, msg, PROV_MSG_MAX))
		rc = refused("profile", act, msg);
	else if (!rc)
		printf("%s service profile %s\n",
		       o->replace ? "wrote" : "added", arg);
	json_decref(doc);
	return rc;
}


static int cmd_slf(struct store *st, const struct opts *o, const char *act,
		   int argc, char **argv, char *msg)
{
	const char *arg = argc > 0 ? argv[0] : NULL;
	json_t *doc = NULL, *e;
	size_t k;
	int rc;

	if (!strcmp(act, "list")) {
		if (prov_slf_export(st, NULL, &doc, msg, PROV_MSG_MAX))
			return refused("slf", act, msg);
		json_array_foreach(doc, k, e)
		{
			printf("%s  %s (%s)\n",
			       json_string_value(
				       json_object_get(e, "identity")),
			       json_string_value(json_object_get(e, "hss")),
			       json_string_value(json_object_get(e, "realm")));
		}
		json_decref(doc);
		return 0;
	}
	if (!arg) {
		(void)fprintf(stderr, "entims slf %s: give the identity\n",
			      act);
		return 2;
	}
	if (!strcmp(act, "show")) {
		if (prov_slf_export(st, arg, &doc, msg, PROV_MSG_MAX))
			return refused("slf", act, msg);
		rc = print_json(doc);
		json_decref(doc);
		return rc;
	}
	if (!strcmp(act, "delete")) {
		if (prov_slf_delete(st, arg, msg, PROV_MSG_MAX))
			return refused("slf", act, msg);
		printf("deleted the SLF entry of %s\n", arg);
		return 0;
	}
	/* set */
	if (!o->hss) {
		(void)fprintf(stderr,
			      "entims slf set %s: give the HSS that holds it "
			      "(--hss HOST, its Diameter identity)\n",
			      arg);
		return 2;
	}
	if (prov_slf_set(st, arg, o->hss, o->hss_realm, msg, PROV_MSG_MAX))
		return refused("slf", act, msg);
	printf("%s is held by %s\n", arg, o->hss);
	return 0;
}


static bool action_known(const char *cmd, const char *act)
{
	static const char *const sub[] = { "add",    "list",   "show",
					   "set",    "delete", "deregister",
					   "import", "export", NULL };
	static const char *const other[] = { "add", "list", "show", "delete",
					     NULL };
	static const char *const slf[] = { "set", "list", "show", "delete",
					   NULL };
	const char *const *v = !strcmp(cmd, "subscriber") ? sub
			       : !strcmp(cmd, "slf")      ? slf
							  : other;

	for (; *v; v++)
		if (!strcmp(*v, act))
			return true;
	return false;
}


/**
 * Run `entims subscriber|ifc|profile|slf ...`.
 *
 * @param argc   as main's
 * @param argv   as main's (argv[1] is the command)
 * @param confh  loads the configuration
 * @return the exit status
 */
int prov_cli_main(int argc, char **argv, prov_cli_conf_h *confh)
{
	const char *cmd = argv[1], *act;
	char msg[PROV_MSG_MAX] = "";
	struct store *st = NULL;
	struct opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	act = optind < argc ? argv[optind] : NULL;
	if (o.help || !act || !strcmp(act, "help")) {
		FILE *f = (o.help || act) ? stdout : stderr;
		if (!strcmp(cmd, "subscriber"))
			help_subscriber(f);
		else if (!strcmp(cmd, "ifc"))
			help_ifc(f);
		else if (!strcmp(cmd, "slf"))
			help_slf(f);
		else
			help_profile(f);
		return (o.help || act) ? 0 : 2;
	}
	if (!action_known(cmd, act)) {
		(void)fprintf(stderr,
			      "entims %s: unknown action '%s' (see entims %s "
			      "--help)\n",
			      cmd, act, cmd);
		return 2;
	}
	rc = open_store(&o, confh, &st);
	if (rc)
		return rc;
	argc -= optind + 1;
	argv += optind + 1;
	if (!strcmp(cmd, "subscriber"))
		rc = cmd_subscriber(st, &o, act, argc, argv, msg);
	else if (!strcmp(cmd, "ifc"))
		rc = cmd_ifc(st, &o, act, argc, argv, msg);
	else if (!strcmp(cmd, "slf"))
		rc = cmd_slf(st, &o, act, argc, argv, msg);
	else
		rc = cmd_profile(st, &o, act, argc, argv, msg);
	mem_deref(st);
	return rc;
}
