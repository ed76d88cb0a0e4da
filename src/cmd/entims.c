/**
 * @file entims.c  The entims command: one binary, subcommands.
 *
 *   entims run      the roles of [core] roles in the foreground; by
 *                   default the standalone enterprise IMS (P-, I-,
 *                   S-CSCF and HSS in one process, a demo enterprise on
 *                   first start: docs/internals/standalone.md)
 *   entims user     add, list and delete digest users
 *   entims config   check a configuration file and print what it means
 *   entims version
 *
 * The sip role wires the layers: transports -> stack (sip.c) -> REGISTER
 * to the registrar through a server transaction, everything else to the
 * proxy core with the registrar as its location service and digest
 * authentication as its policy.  The IMS roles are in role_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/ims_demo.h"
#include "cmd/prov_cli.h"
#include "cmd/role_hss.h"
#include "cmd/role_icscf.h"
#include "cmd/role_pcscf.h"
#include "cmd/role_scscf.h"
#include "core/conf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "diameter/node.h"
#include "net/sa.h"
#include "net/tls.h"
#include "sip/auth.h"
#include "sip/build.h"
#include "sip/dns.h"
#include "sip/msg.h"
#include "sip/proxy.h"
#include "sip/registrar.h"
#include "sip/regsrv.h"
#include "sip/regstore.h"
#include "sip/sip.h"
#include "sip/transp.h"
#include "store/store.h"
#include "store/userdb.h"

#define LOG_MODULE "main"

#define DEMO_DOMAIN "demo.entims.test"

/* The functions one process runs ([core] roles). */
enum role {
	ROLE_SIP = 1 << 0,   /* the plain RFC 3261 registrar and proxy */
	ROLE_HSS = 1 << 1,   /* HSS: Cx, Sh (and Dx with [hss] slf) */
	ROLE_SLF = 1 << 2,   /* a pure SLF (Dx redirects) */
	ROLE_PCSCF = 1 << 3, /* IMS P-CSCF (TS 24.229 5.2) */
	ROLE_ICSCF = 1 << 4, /* IMS I-CSCF (5.3) */
	ROLE_SCSCF = 1 << 5, /* IMS S-CSCF registrar (5.4) */
};

struct econf {
	struct conf_list roles;
	struct conf_list listen;
	struct conf_list domains;
	struct conf_list dns;
	char data_dir[CONF_STR_MAX];
	char store_url[CONF_STR_MAX];
	char advertise[CONF_STR_MAX];
	char log_level[CONF_STR_MAX];
	char log_trace[CONF_STR_MAX];
	char tls_cert[CONF_STR_MAX];
	char tls_key[CONF_STR_MAX];
	char tls_ca[CONF_STR_MAX];
	struct conf_list auth_algs;
	int auth;
	int demo;
	int stateless;
	int record_route;
	uint32_t min_expires;
	uint32_t max_expires;
	uint32_t commit_delay_ms;
	uint32_t coalesce_us;
	int reg_fsync;
	int local_handover;
	uint32_t max_conns;
	struct dia_node_conf diameter;
	struct conf_list hss_scscf;
	struct conf_list hss_networks;
	char hss_slf[CONF_STR_MAX];
	uint32_t hss_vectors_max;
	struct conf_list pcscf_listen, pcscf_core;
	char pcscf_uri[CONF_STR_MAX], pcscf_icscf[CONF_STR_MAX];
	char pcscf_vnet[CONF_STR_MAX];
	struct conf_list icscf_listen, icscf_scscf, icscf_trusted;
	char icscf_uri[CONF_STR_MAX];
	struct conf_list scscf_listen;
	char scscf_uri[CONF_STR_MAX], scscf_realm[CONF_STR_MAX];
	char scscf_data_dir[CONF_STR_MAX];
	char scscf_icscf[CONF_STR_MAX], scscf_breakout[CONF_STR_MAX];
	struct conf_list scscf_domains;
};

static const struct conf_item conf_items[] = {
	{ "core.roles", CONF_LIST, offsetof(struct econf, roles), 0 },
	{ "sip.listen", CONF_LIST, offsetof(struct econf, listen), 0 },
	{ "sip.domain", CONF_LIST, offsetof(struct econf, domains), 0 },
	{ "sip.dns", CONF_LIST, offsetof(struct econf, dns), 0 },
	{ "sip.advertise", CONF_STR, offsetof(struct econf, advertise), 0 },
	{ "sip.local_handover", CONF_BOOL,
	  offsetof(struct econf, local_handover), 0 },
	{ "sip.max_connections", CONF_U32, offsetof(struct econf, max_conns),
	  1000000 },
	{ "sip.tls_cert", CONF_STR, offsetof(struct econf, tls_cert), 0 },
	{ "sip.tls_key", CONF_STR, offsetof(struct econf, tls_key), 0 },
	{ "sip.tls_ca", CONF_STR, offsetof(struct econf, tls_ca), 0 },
	{ "core.data_dir", CONF_STR, offsetof(struct econf, data_dir), 0 },
	{ "core.demo", CONF_BOOL, offsetof(struct econf, demo), 0 },
	{ "core.coalesce_us", CONF_U32, offsetof(struct econf, coalesce_us),
	  100000 },
	{ "store.url", CONF_STR, offsetof(struct econf, store_url), 0 },
	{ "log.level", CONF_STR, offsetof(struct econf, log_level), 0 },
	{ "log.trace", CONF_STR, offsetof(struct econf, log_trace), 0 },
	{ "auth.enabled", CONF_BOOL, offsetof(struct econf, auth), 0 },
	{ "auth.algorithms", CONF_LIST, offsetof(struct econf, auth_algs), 0 },
	{ "registrar.min_expires", CONF_U32,
	  offsetof(struct econf, min_expires), 86400 },
	{ "registrar.max_expires", CONF_U32,
	  offsetof(struct econf, max_expires), 86400 * 7 },
	{ "registrar.commit_delay_ms", CONF_U32,
	  offsetof(struct econf, commit_delay_ms), 100 },
	{ "registrar.fsync", CONF_BOOL, offsetof(struct econf, reg_fsync), 0 },
	{ "proxy.stateless", CONF_BOOL, offsetof(struct econf, stateless), 0 },
	{ "proxy.record_route", CONF_BOOL, offsetof(struct econf, record_route),
	  0 },
	DIA_NODE_CONF_ITEMS(struct econf, diameter),
	{ "hss.scscf", CONF_LIST, offsetof(struct econf, hss_scscf), 0 },
	{ "hss.networks", CONF_LIST, offsetof(struct econf, hss_networks), 0 },
	{ "hss.slf", CONF_STR, offsetof(struct econf, hss_slf), 0 },
	{ "pcscf.listen", CONF_LIST, offsetof(struct econf, pcscf_listen), 0 },
	{ "pcscf.uri", CONF_STR, offsetof(struct econf, pcscf_uri), 0 },
	{ "pcscf.icscf", CONF_STR, offsetof(struct econf, pcscf_icscf), 0 },
	{ "pcscf.visited_network", CONF_STR, offsetof(struct econf, pcscf_vnet),
	  0 },
	{ "pcscf.core", CONF_LIST, offsetof(struct econf, pcscf_core), 0 },
	{ "icscf.listen", CONF_LIST, offsetof(struct econf, icscf_listen), 0 },
	{ "icscf.uri", CONF_STR, offsetof(struct econf, icscf_uri), 0 },
	{ "icscf.scscf", CONF_LIST, offsetof(struct econf, icscf_scscf), 0 },
	{ "icscf.trusted", CONF_LIST, offsetof(struct econf, icscf_trusted),
	  0 },
	{ "scscf.listen", CONF_LIST, offsetof(struct econf, scscf_listen), 0 },
	{ "scscf.uri", CONF_STR, offsetof(struct econf, scscf_uri), 0 },
	{ "scscf.realm", CONF_STR, offsetof(struct econf, scscf_realm), 0 },
	{ "scscf.icscf", CONF_STR, offsetof(struct econf, scscf_icscf), 0 },
	{ "scscf.breakout", CONF_STR, offsetof(struct econf, scscf_breakout),
	  0 },
	{ "scscf.domains", CONF_LIST, offsetof(struct econf, scscf_domains),
	  0 },
	{ "scscf.data_dir", CONF_STR, offsetof(struct econf, scscf_data_dir),
	  0 },
	{ "hss.vectors_max", CONF_U32, offsetof(struct econf, hss_vectors_max),
	  32 },
	{ NULL, 0, 0, 0 },
};

static void conf_defaults(struct econf *c)
{
	memset(c, 0, sizeof(*c));
	/* the standalone enterprise IMS (TS 23.228 4.0 roles in one
	 * process); [core] roles = sip is the plain registrar and proxy */
	(void)snprintf(c->roles.v[0], CONF_STR_MAX, "pcscf");
	(void)snprintf(c->roles.v[1], CONF_STR_MAX, "icscf");
	(void)snprintf(c->roles.v[2], CONF_STR_MAX, "scscf");
	(void)snprintf(c->roles.v[3], CONF_STR_MAX, "hss");
	c->roles.n = 4;
	(void)snprintf(c->listen.v[0], CONF_STR_MAX, "udp:127.0.0.1:5060");
	(void)snprintf(c->listen.v[1], CONF_STR_MAX, "tcp:127.0.0.1:5060");
	(void)snprintf(c->listen.v[2], CONF_STR_MAX, "tls:127.0.0.1:5061");
	c->listen.n = 3;
	(void)snprintf(c->domains.v[0], CONF_STR_MAX, "%s", DEMO_DOMAIN);
	c->domains.n = 1;
	(void)snprintf(c->data_dir, CONF_STR_MAX, "data");
	(void)snprintf(c->log_level, CONF_STR_MAX, "info");
	c->auth = 1;
	(void)snprintf(c->auth_algs.v[0], CONF_STR_MAX, "md5");
	(void)snprintf(c->auth_algs.v[1], CONF_STR_MAX, "sha-256");
	c->auth_algs.n = 2;
	c->demo = 1;
	c->local_handover = 1;
	c->record_route = 1;
	c->min_expires = 60;
	c->max_expires = 3600;
	c->commit_delay_ms = 10;
	c->coalesce_us = 2000; /* docs/internals/transport.md */
	c->max_conns = 4096;
}


/* ---- the running server ---- */

struct app {
	struct econf conf;
	unsigned roles; /* enum role bits */
	struct hss_role *hss;
	struct dia_node *node; /* shared by the I-CSCF, S-CSCF and HSS */
	struct pcscf_role *pcscf;
	struct icscf_role *icscf;
	struct scscf_role *scscf;
	struct sip *sip;
	struct registrar *reg;
	struct regstore *store;
	struct proxy *px;
	struct sip_dns *dns;
	struct auth *auth;
	struct userdb *users;
	const char *domains[PROXY_DOMAINS_MAX + 1];
	int sigfd;
};

static bool on_request(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct app *app = arg;
	const struct sip_uri *ruri;

	(void)sip;
	if (msg->meth == SIP_METHOD_REGISTER && !sip_msg_ruri(msg, &ruri) &&
	    (proxy_domain_is_mine(app->px, &ruri->host) ||
	     proxy_uri_is_me(app->px, ruri))) {
		regsrv_handle(app->reg, app->sip, msg);
		return true;
	}
	return proxy_request(app->px, msg);
}


static void on_response(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	(void)sip;
	proxy_response(app->px, msg);
}


/* Location service: the registrar's bindings, each reached over the flow
 * its REGISTER came on (NAT traversal, RFC 5626 in spirit). */
static int locate(struct sip_msg *req, const struct sip_uri *ruri,
		  struct proxy_targets *ts, void *arg)
{
	struct app *app = arg;
	struct reg_contact c[PROXY_FORK_MAX];
	size_t n = 0, i;
	struct pl user = ruri->user;
	int err;

	(void)req;
	err = registrar_lookup_uri(app->reg, ruri, c, PROXY_FORK_MAX, &n);
	if (err == ENOENT) {
		/* a user we know who is not registered: 480; else 404.
		 * Users are kept per domain, the domain being the realm. */
		if (user.l && !userdb_has_user(app->users, &user, &ruri->host))
			return 0;
		return ENOENT;
	}
	if (err)
		return err;
	if (n > PROXY_FORK_MAX)
		n = PROXY_FORK_MAX;
	for (i = 0; i < n; i++) {
		struct proxy_target *t = &ts->v[ts->n];
		size_t ul = strlen(c[i].uri);
		size_t pl = c[i].path ? strlen(c[i].path) : 0;

		if (ul >= sizeof(t->uri) || pl >= sizeof(t->path))
			continue;
		memcpy(t->uri, c[i].uri, ul + 1);
		if (pl)
			memcpy(t->path, c[i].path, pl + 1);
		else
			t->path[0] = '\0';
		t->q = c[i].q;
		t->has_flow = true;
		t->tp = (enum sip_transp)c[i].tp;
		t->flow = c[i].src;
		t->conn = c[i].conn;
		ts->n++;
	}
	return 0;
}


/* Proxy policy: our users authenticate (407), and we relay only for them
 * or to them (no open relay). */
static int policy(struct sip_msg *req, bool to_us, bool from_us, void *arg)
{
	struct app *app = arg;
	struct auth_result res;
	struct sip_reply_opts o = { 0 };
	int err;

	if (!from_us)
		return to_us ? 0 : 403;
	if (!app->auth)
		return 0;
	err = auth_check(app->auth, req, app->conf.domains.v[0],
			 AUTH_MODE_PROXY, &res);
	if (err)
		return 500;
	if (res.verdict == AUTH_OK)
		return 0;
	o.reason = res.reason;
	o.hdrs = res.hdrs;
	(void)sip_reply(app->sip, req, res.scode, &o);
	return 1;
}


static int cred(const struct pl *username, const struct pl *realm,
		enum auth_algo alg, char *ha1, void *arg)
{
	struct app *app = arg;

	return userdb_ha1(app->users, username, realm,
			  alg == AUTH_ALG_SHA256 ? 1 : 0, ha1,
			  AUTH_HA1_HEX_MAX);
}


static void on_signal(int flags, void *arg)
{
	struct app *app = arg;
	struct signalfd_siginfo si;

	(void)flags;
	while (read(app->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		LOG_INFO(NULL, "signal %u: shutting down", si.ssi_signo);
		loop_stop();
	}
}


/* "udp:127.0.0.1:5060", "tls:[::1]:5061" */
static int parse_listen(const char *spec, enum sip_transp *tp, struct sa *sa)
{
	const char *colon = strchr(spec, ':');
	struct pl t;

	if (!colon)
		return EINVAL;
	pl_set(&t, spec, (size_t)(colon - spec));
	*tp = sip_transp_from_pl(&t);
	if (*tp == SIP_TRANSP_NONE)
		return EINVAL;
	return sa_decode(sa, colon + 1);
}


static void random_password(char *out, size_t len)
{
	static const char set[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char r[32];
	size_t i;

	if (len > sizeof(r))
		len = sizeof(r);
	if (RAND_bytes(r, (int)len) != 1)
		abort();
	for (i = 0; i + 1 < len; i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[len - 1] = '\0';
}


/*
 * The demo enterprise: users 1001..1004 in the first domain.  Their
 * passwords are random, set once, and kept in demo-credentials.txt (0600)
 * so that they can be shown at every start; only the HA1 values are in
 * the user database.
 */
static int demo_provision(struct app *app)
{
	char path[600], line[256];
	size_t n = 0;
	FILE *f;
	int err, i;

	(void)snprintf(path, sizeof(path), "%s/demo-credentials.txt",
		       app->conf.data_dir);
	err = userdb_count(app->users, &n);
	if (err)
		return err;
	if (n == 0) {
		f = fopen(path, "w");
		if (!f)
			return errno;
		(void)fchmod(fileno(f), 0600);
		for (i = 1001; i <= 1004; i++) {
			char user[16], pw[11];
			(void)snprintf(user, sizeof(user), "%d", i);
			random_password(pw, sizeof(pw));
			err = userdb_add(app->users, user,
					 app->conf.domains.v[0], pw, 1);
			if (err)
				break;
			(void)fprintf(f, "sip:%s@%s  password %s\n", user,
				      app->conf.domains.v[0], pw);
		}
		if (fclose(f) && !err)
			err = errno;
		if (err)
			return err;
	}
	f = fopen(path, "r");
	if (!f)
		return 0; /* users were provisioned by hand */
	printf("Demo users (digest realm %s):\n", app->conf.domains.v[0]);
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	(void)fclose(f);
	return 0;
}


/* host: one more name or address for the certificate (NULL: none) */
static int tls_files(struct app *app, struct sip_transp_conf *tc,
		     const char *host)
{
	static char cert[600], key[600];
	char dir[560];
	int err;

	if (app->conf.tls_cert[0]) {
		tc->tls_cert = app->conf.tls_cert;
		tc->tls_key = app->conf.tls_key[0] ? app->conf.tls_key
						   : app->conf.tls_cert;
		return 0;
	}
	(void)snprintf(dir, sizeof(dir), "%s/tls", app->conf.data_dir);
	err = fs_mkdir_p(dir, 0750);
	if (err)
		return err;
	(void)snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	(void)snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (access(cert, R_OK) || access(key, R_OK)) {
		char cn[900];
		(void)snprintf(cn, sizeof(cn), "%s,127.0.0.1,::1,localhost%s%s",
			       app->conf.domains.v[0], host ? "," : "",
			       host ? host : "");
		err = tls_selfsigned(cert, key, cn);
		if (err) {
			(void)fprintf(stderr,
				      "entims: cannot create a TLS "
				      "certificate in %s: %s\n",
				      dir, log_strerror(err));
			return err;
		}
		LOG_INFO(NULL, "generated a self-signed TLS certificate: %s",
			 cert);
	}
	tc->tls_cert = cert;
	tc->tls_key = key;
	return 0;
}


/* Open every [sip] listen address (or --listen). */
static int listen_all(struct app *app)
{
	size_t i;
	int err;

	for (i = 0; i < app->conf.listen.n; i++) {
		enum sip_transp tp;
		struct sa sa;

		if (parse_listen(app->conf.listen.v[i], &tp, &sa)) {
			(void)fprintf(stderr,
				      "entims: bad listen address '%s': write "
				      "it as udp:IP:PORT, tcp:IP:PORT or "
				      "tls:IP:PORT ([IPv6] in brackets)\n",
				      app->conf.listen.v[i]);
			return EINVAL;
		}
		err = sip_transp_listen(app->sip->transp, tp, &sa);
		if (err) {
			(void)fprintf(stderr,
				      "entims: cannot listen on %s: %s\n",
				      app->conf.listen.v[i], log_strerror(err));
			return err;
		}
		LOG_INFO(NULL, "listening on %s", app->conf.listen.v[i]);
	}
	return 0;
}


/* RFC 3263 resolution for the proxy: the servers of [sip] dns, else
 * resolv.conf.  Without a resolver, names are unreachable (not fatal). */
static int dns_setup(struct app *app)
{
	struct sa srv[CONF_LIST_MAX];
	size_t i;
	int err;

	for (i = 0; i < app->conf.dns.n; i++) {
		if (sa_decode(&srv[i], app->conf.dns.v[i]) &&
		    sa_set_str(&srv[i], app->conf.dns.v[i], 53)) {
			(void)fprintf(stderr,
				      "entims: bad DNS server '%s': "
				      "write IP or IP:PORT\n",
				      app->conf.dns.v[i]);
			return EINVAL;
		}
	}
	err = sip_dns_alloc(&app->dns, app->conf.dns.n ? srv : NULL,
			    app->conf.dns.n, NULL);
	if (err)
		LOG_WARN(NULL,
			 "no DNS resolver (%s): next hops given "
			 "by name are unreachable",
			 log_strerror(err));
	else
		proxy_set_dns(app->px, app->dns);
	return 0;
}


/* The plain SIP registrar and proxy (role "sip"). */
static int sip_role_start(struct app *app)
{
	struct sip_transp_conf tc = { 0 };
	struct registrar_conf rc = { 0 };
	struct proxy_conf pc = { 0 };
	struct auth_conf ac = { 0 };
	bool need_tls = false;
	size_t i;
	int err;

	err = userdb_open(&app->users, app->conf.data_dir);
	if (err)
		return err;
	if (app->conf.demo) {
		err = demo_provision(app);
		if (err) {
			(void)fprintf(stderr,
				      "entims: demo users not provisioned: "
				      "%s\n",
				      log_strerror(err));
			return err;
		}
	}

	for (i = 0; i < app->conf.domains.n && i < PROXY_DOMAINS_MAX; i++) {
		app->domains[i] = app->conf.domains.v[i];
		(void)snprintf(pc.domains[i], sizeof(pc.domains[i]), "%s",
			       app->conf.domains.v[i]);
	}
	pc.ndomains = i;

	tc.max_conns = app->conf.max_conns;
	tc.tls_ca = app->conf.tls_ca[0] ? app->conf.tls_ca : NULL;
	for (i = 0; i < app->conf.listen.n; i++)
		if (!strncasecmp(app->conf.listen.v[i], "tls:", 4))
			need_tls = true;
	if (need_tls) {
		err = tls_files(app, &tc, NULL);
		if (err)
			return err;
	}

	err = sip_alloc(&app->sip, &tc, on_request, on_response, app);
	if (err)
		return err;
	err = listen_all(app);
	if (err)
		return err;

	if (app->conf.auth) {
		bool md5 = false, sha = false;
		for (i = 0; i < app->conf.auth_algs.n; i++) {
			if (!strcasecmp(app->conf.auth_algs.v[i], "md5"))
				md5 = true;
			else
				sha = true;
		}
		/* the order written is the order offered (RFC 7616 3.7) */
		ac.no_md5 = !md5;
		ac.no_sha256 = !sha;
		ac.sha256_first =
			!strcasecmp(app->conf.auth_algs.v[0], "sha-256");
		ac.credh = cred;
		ac.cred_arg = app;
		err = auth_alloc(&app->auth, &ac);
		if (err)
			return err;
	}
	err = regstore_open(&app->store, app->conf.data_dir);
	if (err) {
		(void)fprintf(stderr,
			      "entims: cannot open the registration store in "
			      "'%s': %s\n",
			      app->conf.data_dir, log_strerror(err));
		return err;
	}
	regstore_set_sync(app->store, app->conf.reg_fsync);
	rc.domains = app->domains;
	rc.min_expires = app->conf.min_expires;
	rc.max_expires = app->conf.max_expires;
	rc.auth = app->auth;
	rc.realm = app->conf.domains.v[0];
	rc.store = app->store;
	rc.commit_delay_ms = app->conf.commit_delay_ms;
	err = registrar_alloc(&app->reg, &rc);
	if (err)
		return err;

	pc.stateless = app->conf.stateless;
	pc.record_route = app->conf.record_route;
	(void)snprintf(pc.advertise, sizeof(pc.advertise), "%s",
		       app->conf.advertise);
	err = proxy_alloc(&app->px, app->sip, &pc, locate, policy, app);
	if (err)
		return err;
	err = dns_setup(app);
	if (err)
		return err;
	return 0;
}


static int hss_start(struct app *app)
{
	struct hss_role_conf hc = { 0 };
	char msg[512] = "";
	int err;

	hc.data_dir = app->conf.data_dir;
	hc.store_url = app->conf.store_url;
	hc.node = &app->conf.diameter;
	hc.scscf = &app->conf.hss_scscf;
	hc.networks = &app->conf.hss_networks;
	hc.slf = app->conf.hss_slf[0]    ? app->conf.hss_slf
		 : app->roles & ROLE_HSS ? "off"
					 : "only";
	hc.vectors_max = app->conf.hss_vectors_max;
	hc.shared_node = app->node;
	err = hss_role_start(&app->hss, &hc, msg, sizeof(msg));
	if (err && msg[0])
		(void)fprintf(stderr, "entims: %s\n", msg);
	return err;
}


static void role_sip_conf_of(const struct app *app, struct role_sip_conf *c,
			     const char *section, const struct conf_list *l)
{
	c->section = section;
	c->listen = l;
	c->tls_cert = app->conf.tls_cert;
	c->tls_key = app->conf.tls_key;
	c->tls_ca = app->conf.tls_ca;
}


/* The phones' TLS listener of the P-CSCF without [sip] tls_cert: the
 * self-signed certificate of the data directory, as the sip role. */
static int pcscf_tls(struct app *app, struct role_sip_conf *c)
{
	struct sip_transp_conf tc = { 0 };
	char host[CONF_STR_MAX];
	const char *h = host;
	size_t i, l;
	int err;

	if (app->conf.tls_cert[0])
		return 0;
	for (i = 0; i < c->listen->n; i++)
		if (!strncasecmp(c->listen->v[i], "tls:", 4))
			break;
	if (i == c->listen->n)
		return 0;
	/* the host phones reach: "sip:HOST:PORT", "sip:[V6]:PORT" */
	(void)snprintf(host, sizeof(host), "%s",
		       strncasecmp(app->conf.pcscf_uri, "sip:", 4) != 0
			       ? ""
			       : app->conf.pcscf_uri + 4);
	l = strcspn(host, host[0] == '[' ? "]" : ":;>");
	host[l] = '\0';
	if (host[0] == '[')
		h++;
	if (!strcmp(h, "127.0.0.1") || !strcmp(h, "::1") ||
	    !strcmp(h, "localhost"))
		h = ""; /* in the certificate anyway */
	err = tls_files(app, &tc, *h ? h : NULL);
	if (err)
		return err;
	c->tls_cert = tc.tls_cert;
	c->tls_key = tc.tls_key;
	return 0;
}


/* The IMS roles; the I-CSCF, S-CSCF and an HSS in the same process share
 * one Diameter node, so Cx between them takes the in-process path. */
static int ims_start(struct app *app)
{
	/* datagrams between this process's own listeners are handed over
	 * in memory (local-handover.md), unless a capture must see them */
	sip_transp_local_handover(app->conf.local_handover != 0);
	struct pcscf_role_conf pc = { 0 };
	struct icscf_role_conf ic = { 0 };
	struct scscf_role_conf sc = { 0 };
	char msg[512] = "";
	char db_url[CONF_STR_MAX + 32];
	int err = 0;

	if (app->roles & (ROLE_ICSCF | ROLE_SCSCF)) {
		struct conf_list *apps = &app->conf.diameter.applications;
		size_t i;

		/* the I-CSCF only sends Cx requests (no handler to advertise
		 * it), yet its CER must name Cx (RFC 6733 5.3) */
		for (i = 0; i < apps->n && strcasecmp(apps->v[i], "cx") != 0;
		     i++)
			;
		if (i == apps->n && apps->n < CONF_LIST_MAX)
			(void)snprintf(apps->v[apps->n++], CONF_STR_MAX, "cx");
		err = dia_node_alloc(&app->node, &app->conf.diameter, msg,
				     sizeof(msg));
		if (!err && (app->roles & (ROLE_HSS | ROLE_SLF)))
			err = hss_start(app);
		if (!err && (app->roles & ROLE_SCSCF)) {
			role_sip_conf_of(app, &sc.sip, "scscf",
					 &app->conf.scscf_listen);
			sc.uri = app->conf.scscf_uri;
			sc.realm = app->conf.scscf_realm[0]
					   ? app->conf.scscf_realm
					   : NULL;
			sc.data_dir = app->conf.scscf_data_dir[0]
					      ? app->conf.scscf_data_dir
					      : app->conf.data_dir;
			/* standalone: the S-CSCF's registrations and reg
			 * event subscriptions live in the HSS's SQLite file,
			 * one file for the whole system */
			if ((app->roles & ROLE_HSS) &&
			    !app->conf.scscf_data_dir[0] &&
			    !store_url_resolve(db_url, sizeof(db_url),
					       app->conf.store_url,
					       app->conf.data_dir))
				sc.db_file = store_sqlite_file(db_url);
			sc.node = app->node;
			sc.icscf = app->conf.scscf_icscf;
			sc.breakout = app->conf.scscf_breakout[0]
					      ? app->conf.scscf_breakout
					      : NULL;
			sc.domains = &app->conf.scscf_domains;
			sc.home = app->conf.diameter.realm;
			sc.dns = &app->conf.dns;
			err = scscf_role_start(&app->scscf, &sc, msg,
					       sizeof(msg));
		}
		if (!err && (app->roles & ROLE_ICSCF)) {
			role_sip_conf_of(app, &ic.sip, "icscf",
					 &app->conf.icscf_listen);
			ic.uri = app->conf.icscf_uri;
			ic.scscf = &app->conf.icscf_scscf;
			ic.trusted = &app->conf.icscf_trusted;
			ic.node = app->node;
			ic.dns = &app->conf.dns;
			err = icscf_role_start(&app->icscf, &ic, msg,
					       sizeof(msg));
		}
		if (!err)
			err = dia_node_start(app->node, msg, sizeof(msg));
	} else if (app->roles & (ROLE_HSS | ROLE_SLF)) {
		err = hss_start(app);
	}
	if (!err && (app->roles & ROLE_PCSCF)) {
		role_sip_conf_of(app, &pc.sip, "pcscf",
				 &app->conf.pcscf_listen);
		err = pcscf_tls(app, &pc.sip);
	}
	if (!err && (app->roles & ROLE_PCSCF)) {
		pc.uri = app->conf.pcscf_uri;
		pc.icscf = app->conf.pcscf_icscf;
		pc.visited_network = app->conf.pcscf_vnet;
		pc.core = &app->conf.pcscf_core;
		pc.dns = &app->conf.dns;
		err = pcscf_role_start(&app->pcscf, &pc, msg, sizeof(msg));
	}
	if (err && msg[0])
		(void)fprintf(stderr, "entims: %s\n", msg);
	return err;
}


static int app_start(struct app *app)
{
	sigset_t mask;
	int err;

	err = fs_mkdir_p(app->conf.data_dir, 0750);
	if (err) {
		(void)fprintf(stderr,
			      "entims: cannot create the data directory "
			      "'%s': %s\n",
			      app->conf.data_dir, log_strerror(err));
		return err;
	}
	err = loop_init(0);
	if (err)
		return err;
	loop_coalesce(app->conf.coalesce_us);
	if (app->roles & ROLE_SIP) {
		err = sip_role_start(app);
		if (err)
			return err;
	}
	err = ims_start(app);
	if (err)
		return err;

	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL))
		return errno;
	/* writes to a closed stream give EPIPE, not a signal (set once,
	 * before any thread) */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return errno;
	app->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (app->sigfd < 0)
		return errno;
	return fd_listen(app->sigfd, FD_READ, on_signal, app);
}


static void log_totals(const struct app *app)
{
	struct sip_transp_io_stats io;
	struct sip_transp_stats ts;

	if (!app->sip || !app->sip->transp)
		return;
	sip_transp_stats(app->sip->transp, &ts);
	sip_transp_io_stats(app->sip->transp, &io);
	LOG_INFO(NULL,
		 "totals: %llu messages in (%llu receive calls), %llu out "
		 "(%llu send calls); %llu malformed answered, %llu dropped",
		 (unsigned long long)ts.rx_msgs,
		 (unsigned long long)io.rx_syscalls,
		 (unsigned long long)ts.tx_msgs,
		 (unsigned long long)io.tx_syscalls,
		 (unsigned long long)app->sip->stats.rx_malformed,
		 (unsigned long long)app->sip->stats.rx_dropped);
}


static void app_stop(struct app *app)
{
	log_totals(app);
	if (app->sigfd > 0) {
		fd_close(app->sigfd);
		close(app->sigfd);
	}
	pcscf_role_stop(app->pcscf);
	icscf_role_stop(app->icscf);
	scscf_role_stop(app->scscf);
	hss_role_stop(app->hss);
	if (app->node) {
		dia_node_shutdown(app->node, 0 /* REBOOTING */);
		dia_node_close(app->node);
	}
	if (app->reg)
		registrar_close(app->reg);
	if (app->px)
		proxy_close(app->px);
	if (app->sip)
		sip_close(app->sip);
	app->px = mem_deref(app->px);
	app->dns = mem_deref(app->dns);
	app->reg = mem_deref(app->reg);
	app->store = mem_deref(app->store);
	app->sip = mem_deref(app->sip);
	app->auth = mem_deref(app->auth);
	app->users = mem_deref(app->users);
	app->hss = mem_deref(app->hss);
	app->pcscf = mem_deref(app->pcscf);
	app->icscf = mem_deref(app->icscf);
	app->scscf = mem_deref(app->scscf);
	app->node = mem_deref(app->node);
	loop_close();
}


/* ---- command line ---- */

static void usage(FILE *f)
{
	(void)fprintf(
		f,
		"usage: entims COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  run                 run in the foreground: by default the "
		"standalone IMS\n"
		"                      (P-, I-, S-CSCF and HSS, a demo "
		"enterprise on first\n"
		"                      start); [core] roles = sip: the plain "
		"registrar and proxy\n"
		"  user add URI --password PW   add (or with --replace, "
		"change) a user\n"
		"  user list           list the users\n"
		"  user delete URI     delete a user\n"
		"  subscriber ...      HSS subscriptions: add, list, show, "
		"set, "
		"delete,\n"
		"                      import, export (entims subscriber "
		"--help)\n"
		"  ifc ...             initial filter criteria (entims ifc "
		"--help)\n"
		"  profile ...         service profiles (entims profile "
		"--help)\n"
		"  slf ...             the SLF table: which HSS holds an "
		"identity (entims slf --help)\n"
		"  config check        read the configuration and print it\n"
		"  version             print the version\n"
		"  help                this text\n"
		"\n"
		"Options (every command):\n"
		"  -c, --config FILE   configuration file (default: "
		"entims.conf if present)\n"
		"  -d, --data-dir DIR  data directory (default: ./data): "
		"users, bindings, TLS keys\n"
		"\n"
		"Options of run (each overrides the file):\n"
		"  -l, --listen SPEC   where phones connect (the P-CSCF, or "
		"the sip role):\n"
		"                      udp:IP:PORT, tcp:IP:PORT or "
		"tls:IP:PORT; repeat for\n"
		"                      several (default: udp and tcp "
		"127.0.0.1:5060, tls\n"
		"                      127.0.0.1:5061; a LAN address lets "
		"real phones in)\n"
		"  --domain D          the SIP domain served (repeat for "
		"several; default %s)\n"
		"  --advertise HOST    host name or address put in Via and "
		"Record-Route\n"
		"                      (standalone IMS: the P-CSCF's URI, "
		"Path, Record-Route)\n"
		"  --no-auth           (roles = sip) accept REGISTER and "
		"calls without digest\n"
		"                      authentication\n"
		"  --no-demo           do not provision or show the demo "
		"users\n"
		"  --stateless         forward requests statelessly (RFC "
		"3261 16.11)\n"
		"  --log-level L       error, warn, info or debug\n"
		"  --trace MODULES     debug output for these modules "
		"(sip,proxy,registrar,...)\n"
		"\n"
		"Configuration file (ini):\n"
		"  [sip]       listen, domain, advertise, dns, "
		"max_connections, "
		"tls_cert, tls_key, tls_ca,\n"
		"              local_handover (yes: roles of one process "
		"hand SIP to each other\n"
		"              without the loopback socket; no: for packet "
		"captures)\n"
		"  [core]      roles (default pcscf, icscf, scscf, hss: the "
		"standalone IMS;\n"
		"              sip: the registrar and proxy; slf),\n"
		"              data_dir, demo, coalesce_us (under load, "
		"wake at most every N\n"
		"              microseconds and take what arrived; default "
		"2000; 0: wake for\n"
		"              every event, for the least latency)\n"
		"  [store]     url (sqlite, the default: DATA_DIR/entims.db; "
		"or a "
		"PostgreSQL\n"
		"              URL or conninfo) for the HSS subscribers\n"
		"  [diameter]  identity, realm, listen (tcp:ADDR:PORT, "
		"tls:ADDR:PORT),\n"
		"              peers (identity[@addr:port[;tls]]: only these "
		"may "
		"connect),\n"
		"              routes (realm=peer), applications, tls_cert, "
		"tls_key, tls_ca,\n"
		"              watchdog_s, reconnect_s, request_timeout_ms, "
		"in_process\n"
		"  [hss]       scscf (sip:host:port;cap=N...: offered to the "
		"I-CSCF),\n"
		"              networks (visited networks allowed), slf (off, "
		"only, with-hss),\n"
		"              vectors_max\n"
		"  [pcscf]     listen, uri, icscf (next hop URI), "
		"visited_network, core\n"
		"  [icscf]     listen, uri, scscf (sip:host:port;cap=N...), "
		"trusted\n"
		"  [scscf]     listen, uri (Server-Name), realm, data_dir, "
		"icscf (I-CSCF\n"
		"              URI for our domains), breakout (BGCF/gateway "
		"for tel:),\n"
		"              domains (home domains; default [diameter] "
		"realm)\n"
		"  [store]     url (sqlite, the default: DATA_DIR/entims.db; "
		"or "
		"a\n"
		"              PostgreSQL URL/conninfo)\n"
		"  [auth]      enabled, algorithms (md5, sha-256: offered in "
		"this order)\n"
		"  [registrar] min_expires, max_expires, commit_delay_ms "
		"(ms between journal writes under load, default 10),\n"
		"              fsync (flush each commit to disk: survives a "
		"power loss; default no)\n"
		"  [proxy]     stateless, record_route\n"
		"  [log]       level, trace\n",
		DEMO_DOMAIN);
}


enum {
	OPT_DOMAIN = 256,
	OPT_ADVERTISE,
	OPT_NO_AUTH,
	OPT_NO_DEMO,
	OPT_STATELESS,
	OPT_LOG_LEVEL,
	OPT_TRACE,
	OPT_PASSWORD,
	OPT_REPLACE,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "data-dir", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "advertise", required_argument, NULL, OPT_ADVERTISE },
	{ "no-auth", no_argument, NULL, OPT_NO_AUTH },
	{ "no-demo", no_argument, NULL, OPT_NO_DEMO },
	{ "stateless", no_argument, NULL, OPT_STATELESS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *config;
	const char *password;
	int replace;
	/* overrides, applied after the file */
	struct conf_list listen, domains;
	const char *data_dir, *advertise, *log_level, *trace;
	int no_auth, no_demo, stateless;
};

static int load_conf(struct econf *c, const struct cli *cl)
{
	const char *path = cl->config ? cl->config : "entims.conf";
	char msg[512];
	int err;

	conf_defaults(c);
	err = conf_load(path, conf_items, c, msg, sizeof(msg));
	if (err == ENOENT && !cl->config)
		err = 0; /* no file: the defaults */
	else if (err == ENOENT)
		(void)fprintf(stderr,
			      "entims: configuration file '%s' not found\n",
			      path);
	else if (err == EINVAL)
		(void)fprintf(stderr, "entims: %s\n", msg);
	else if (err)
		(void)fprintf(stderr, "entims: cannot read '%s': %s\n", path,
			      log_strerror(err));
	if (err)
		return err;
	if (cl->listen.n)
		c->listen = cl->listen;
	if (cl->domains.n)
		c->domains = cl->domains;
	if (cl->data_dir)
		(void)snprintf(c->data_dir, CONF_STR_MAX, "%s", cl->data_dir);
	if (cl->advertise)
		(void)snprintf(c->advertise, CONF_STR_MAX, "%s", cl->advertise);
	if (cl->log_level)
		(void)snprintf(c->log_level, CONF_STR_MAX, "%s", cl->log_level);
	if (cl->trace)
		(void)snprintf(c->log_trace, CONF_STR_MAX, "%s", cl->trace);
	if (cl->no_auth)
		c->auth = 0;
	if (cl->no_demo)
		c->demo = 0;
	if (cl->stateless)
		c->stateless = 1;
	if (!c->domains.n) {
		(void)fprintf(stderr, "entims: no SIP domain configured: set "
				      "[sip] domain = example.com\n");
		return EINVAL;
	}
	if (log_set_level_str(c->log_level)) {
		(void)fprintf(stderr,
			      "entims: log level '%s' is not one of error, "
			      "warn, info, debug\n",
			      c->log_level);
		return EINVAL;
	}
	log_set_trace(c->log_trace);
	{
		size_t i;
		for (i = 0; i < c->auth_algs.n; i++) {
			if (strcasecmp(c->auth_algs.v[i], "md5") != 0 &&
			    strcasecmp(c->auth_algs.v[i], "sha-256") != 0) {
				(void)fprintf(stderr,
					      "entims: [auth] algorithms: '%s' "
					      "is not md5 or sha-256\n",
					      c->auth_algs.v[i]);
				return EINVAL;
			}
		}
		if (!c->auth_algs.n) {
			(void)fprintf(stderr, "entims: [auth] algorithms is "
					      "empty: list md5, sha-256 or "
					      "both\n");
			return EINVAL;
		}
	}
	if (c->min_expires > c->max_expires) {
		(void)fprintf(stderr,
			      "entims: registrar.min_expires (%u) is above "
			      "max_expires (%u)\n",
			      c->min_expires, c->max_expires);
		return EINVAL;
	}
	return 0;
}


/* The configuration the provisioning commands need (cmd/prov_cli.c). */
static int prov_conf(const char *config, const char *data_dir,
		     struct prov_cli_conf *out)
{
	struct econf c;
	struct cli cl;

	memset(&cl, 0, sizeof(cl));
	cl.config = config;
	cl.data_dir = data_dir;
	if (load_conf(&c, &cl))
		return 2;
	(void)snprintf(out->data_dir, sizeof(out->data_dir), "%s", c.data_dir);
	(void)snprintf(out->store_url, sizeof(out->store_url), "%s",
		       c.store_url);
	return 0;
}


/* [core] roles -> enum role bits */
static int parse_roles(const struct conf_list *l, unsigned *roles)
{
	size_t i;

	*roles = 0;
	for (i = 0; i < l->n; i++) {
		if (!strcasecmp(l->v[i], "sip")) {
			*roles |= ROLE_SIP;
		} else if (!strcasecmp(l->v[i], "hss")) {
			*roles |= ROLE_HSS;
		} else if (!strcasecmp(l->v[i], "slf")) {
			*roles |= ROLE_SLF;
		} else if (!strcasecmp(l->v[i], "pcscf")) {
			*roles |= ROLE_PCSCF;
		} else if (!strcasecmp(l->v[i], "icscf")) {
			*roles |= ROLE_ICSCF;
		} else if (!strcasecmp(l->v[i], "scscf")) {
			*roles |= ROLE_SCSCF;
		} else {
			(void)fprintf(stderr,
				      "entims: [core] roles: '%s' is not a "
				      "role; list sip (the registrar and "
				      "proxy), hss, slf, pcscf, icscf, "
				      "scscf\n",
				      l->v[i]);
			return EINVAL;
		}
	}
	if (!*roles) {
		(void)fprintf(stderr,
			      "entims: [core] roles is empty: list sip, "
			      "hss, slf, pcscf, icscf or scscf\n");
		return EINVAL;
	}
	return 0;
}


/* The four IMS roles of the standalone enterprise IMS in this process. */
#define ROLES_STANDALONE (ROLE_PCSCF | ROLE_ICSCF | ROLE_SCSCF | ROLE_HSS)

static void list_add(struct conf_list *l, const char *a)
{
	size_t i;

	if (l->n == CONF_LIST_MAX)
		return;
	(void)snprintf(l->v[l->n], CONF_STR_MAX, "%s", a);
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], l->v[l->n]))
			return; /* once is enough */
	l->n++;
}


/* The IP:PORT of the first UDP (else TCP) entry of a listen list: where
 * the role sends from and is reached at. */
static const char *listen_addr(const struct conf_list *l)
{
	const char *tcp = NULL;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!strncasecmp(l->v[i], "udp:", 4))
			return l->v[i] + 4;
		if (!tcp && !strncasecmp(l->v[i], "tcp:", 4))
			tcp = l->v[i] + 4;
	}
	return tcp;
}


/* "sip:IP:PORT" of a role from its listeners ([x] uri unset). */
static int uri_of_listen(char *uri, const struct conf_list *l,
			 const char *section, char *msg, size_t size)
{
	const char *a = listen_addr(l);
	struct sa sa;

	if (!a || sa_decode(&sa, a)) {
		(void)snprintf(msg, size,
			       "[%s] listen needs a udp:IP:PORT or "
			       "tcp:IP:PORT entry (or set [%s] uri)",
			       section, section);
		return EINVAL;
	}
	if (sa_is_any(&sa)) {
		(void)snprintf(msg, size,
			       "[%s] listen %s is every address: say which one "
			       "phones reach it at with --advertise ADDR (or "
			       "[%s] uri)",
			       section, a, section);
		return EINVAL;
	}
	(void)snprintf(uri, CONF_STR_MAX, "sip:%s", a);
	return 0;
}


/*
 * The standalone layout, for what the configuration leaves unset (an
 * explicit setting always wins; data/ims-standalone.conf spells the same
 * layout out):
 *   P-CSCF  the phones' listeners, [sip] listen / --listen (default UDP
 *           and TCP 127.0.0.1:5060, TLS 127.0.0.1:5061); its URI (Path,
 *           Record-Route) from the first UDP/TCP one or --advertise
 *   I-CSCF  UDP+TCP 127.0.0.1:5070, S-CSCF UDP+TCP 127.0.0.1:5080: the
 *           CSCFs talk SIP over loopback, Cx takes the in-process path
 *   Diameter realm the first [sip] domain, identity ims.REALM; the
 *           S-CSCF's home domains the [sip] domains (an explicit
 *           [diameter] realm: that realm, the S-CSCF's own default)
 * The trust domain of each CSCF (RFC 3325) is the other CSCFs' UDP
 * addresses, so that a phone on 127.0.0.1 is never taken for the core.
 */
static int standalone_defaults(struct econf *c, char *msg, size_t size)
{
	const char *pa, *ia, *sa_s;
	bool trusted = c->icscf_trusted.n > 0;
	bool realm_set = c->diameter.realm[0] != '\0';
	size_t i;
	int err;

	if (!c->pcscf_listen.n)
		c->pcscf_listen = c->listen;
	if (!c->icscf_listen.n) {
		list_add(&c->icscf_listen, "udp:127.0.0.1:5070");
		list_add(&c->icscf_listen, "tcp:127.0.0.1:5070");
	}
	if (!c->scscf_listen.n) {
		list_add(&c->scscf_listen, "udp:127.0.0.1:5080");
		list_add(&c->scscf_listen, "tcp:127.0.0.1:5080");
	}
	if (!c->diameter.realm[0])
		(void)snprintf(c->diameter.realm, CONF_STR_MAX, "%s",
			       c->domains.v[0]);
	if (!c->diameter.identity[0]) {
		if (strlen(c->diameter.realm) + 4 >= CONF_STR_MAX) {
			(void)snprintf(msg, size,
				       "[diameter] realm is too long for "
				       "the identity ims.REALM: set "
				       "[diameter] identity");
			return EINVAL;
		}
		(void)snprintf(c->diameter.identity, CONF_STR_MAX, "ims.%.*s",
			       CONF_STR_MAX - 5, c->diameter.realm);
	}
	err = c->icscf_uri[0] ? 0
			      : uri_of_listen(c->icscf_uri, &c->icscf_listen,
					      "icscf", msg, size);
	if (!err && !c->scscf_uri[0])
		err = uri_of_listen(c->scscf_uri, &c->scscf_listen, "scscf",
				    msg, size);
	if (!err && !c->pcscf_uri[0] && c->advertise[0]) {
		const char *a = listen_addr(&c->pcscf_listen);
		const char *port = a ? strrchr(a, ':') : NULL;

		(void)snprintf(c->pcscf_uri, CONF_STR_MAX, "sip:%.*s%s",
			       CONF_STR_MAX - 16, c->advertise,
			       port ? port : "");
	}
	if (!err && !c->pcscf_uri[0])
		err = uri_of_listen(c->pcscf_uri, &c->pcscf_listen, "pcscf",
				    msg, size);
	if (err)
		return err;
	if (!c->pcscf_icscf[0])
		(void)snprintf(c->pcscf_icscf, CONF_STR_MAX, "%s",
			       c->icscf_uri);
	if (!c->scscf_icscf[0])
		(void)snprintf(c->scscf_icscf, CONF_STR_MAX, "%s",
			       c->icscf_uri);
	if (!c->hss_scscf.n)
		list_add(&c->hss_scscf, c->scscf_uri);
	if (!c->icscf_scscf.n)
		list_add(&c->icscf_scscf, c->scscf_uri);
	if (!c->pcscf_vnet[0])
		(void)snprintf(c->pcscf_vnet, CONF_STR_MAX, "%s",
			       c->diameter.realm);
	/* an explicit realm is the home domain (the S-CSCF's default);
	 * else the [sip] domains are */
	if (!c->scscf_domains.n && !realm_set)
		c->scscf_domains = c->domains;
	ia = listen_addr(&c->icscf_listen);
	sa_s = listen_addr(&c->scscf_listen);
	if (!c->pcscf_core.n) {
		if (ia)
			list_add(&c->pcscf_core, ia);
		if (sa_s)
			list_add(&c->pcscf_core, sa_s);
	}
	/* REGISTERs reach the I-CSCF from the P-CSCF's UDP listeners; one
	 * on every address sends to loopback from 127.0.0.1 or ::1 */
	for (i = 0; !trusted && i < c->pcscf_listen.n; i++) {
		const char *spec = c->pcscf_listen.v[i];
		struct sa a;
		char buf[64];

		if (strncasecmp(spec, "udp:", 4) != 0)
			continue;
		pa = spec + 4;
		if (sa_decode(&a, pa))
			continue;
		if (!sa_is_any(&a)) {
			list_add(&c->icscf_trusted, pa);
			continue;
		}
		if (sa_af(&a) == AF_INET6)
			(void)snprintf(buf, sizeof(buf), "[::1]:%u",
				       sa_port(&a));
		else
			(void)snprintf(buf, sizeof(buf), "127.0.0.1:%u",
				       sa_port(&a));
		list_add(&c->icscf_trusted, buf);
	}
	return 0;
}


/* The demo enterprise's table, before "entims ready" (cmd/ims_demo.c). */
static int demo_show(const struct app *app)
{
	struct ims_demo_conf dc = { 0 };
	char proxy[1024], msg[512] = "";
	size_t i, len;
	int err;

	len = (size_t)snprintf(proxy, sizeof(proxy), "%s (listening on ",
			       app->conf.pcscf_uri);
	for (i = 0; i < app->conf.pcscf_listen.n && len < sizeof(proxy); i++)
		len += (size_t)snprintf(proxy + len, sizeof(proxy) - len,
					"%s%s", i ? ", " : "",
					app->conf.pcscf_listen.v[i]);
	if (len < sizeof(proxy))
		(void)snprintf(proxy + len, sizeof(proxy) - len, ")");
	dc.data_dir = app->conf.data_dir;
	dc.store_url = app->conf.store_url;
	/* the home domain: the S-CSCF serves the demo users there */
	dc.domain = app->conf.scscf_domains.n ? app->conf.scscf_domains.v[0]
					      : app->conf.diameter.realm;
	dc.proxy = proxy;
	err = ims_demo_run(&dc, stdout, msg, sizeof(msg));
	if (err)
		(void)fprintf(stderr, "entims: demo enterprise: %s\n",
			      msg[0] ? msg : log_strerror(err));
	return err;
}


static int cmd_run(const struct cli *cl)
{
	struct app app;
	char msg[512] = "";
	bool standalone;
	int err;

	memset(&app, 0, sizeof(app));
	app.sigfd = -1;
	err = load_conf(&app.conf, cl);
	if (!err)
		err = parse_roles(&app.conf.roles, &app.roles);
	if (err)
		return 2;
	standalone = (app.roles & ROLES_STANDALONE) == ROLES_STANDALONE &&
		     !(app.roles & ROLE_SIP);
	if (standalone) {
		if (standalone_defaults(&app.conf, msg, sizeof(msg))) {
			(void)fprintf(stderr, "entims: %s\n", msg);
			return 2;
		}
		if (!app.conf.auth)
			(void)fprintf(stderr,
				      "entims: --no-auth / [auth] enabled = no "
				      "is for roles = sip: the S-CSCF always "
				      "authenticates (TS 24.229 5.4.1.2)\n");
	}
	err = app_start(&app);
	if (!err && standalone && app.conf.demo)
		err = demo_show(&app);
	if (!err) {
		if (standalone)
			printf("entims ready (standalone IMS, domain %s, "
			       "P-CSCF %s, data in %s)\n",
			       app.conf.domains.v[0], app.conf.pcscf_uri,
			       app.conf.data_dir);
		else if (app.roles & ROLE_SIP)
			printf("entims ready (domain %s, data in %s)\n",
			       app.conf.domains.v[0], app.conf.data_dir);
		else if (!(app.roles & (ROLE_HSS | ROLE_SLF)))
			printf("entims ready (IMS roles, data in %s)\n",
			       app.conf.data_dir);
		else
			printf("entims ready (%s %s, realm %s, data in %s)\n",
			       app.roles & ROLE_HSS ? "HSS" : "SLF",
			       app.conf.diameter.identity,
			       app.conf.diameter.realm, app.conf.data_dir);
		(void)fflush(stdout);
		err = loop_run();
	} else {
		(void)fprintf(stderr, "entims: start failed: %s\n",
			      log_strerror(err));
	}
	app_stop(&app);
	return err ? 1 : 0;
}


/* "sip:bob@example.com" or "bob@example.com" -> user, domain */
static int split_uri(const char *uri, char *user, size_t us, char *dom,
		     size_t ds)
{
	const char *at;

	if (!strncasecmp(uri, "sip:", 4))
		uri += 4;
	at = strchr(uri, '@');
	if (!at || at == uri || !at[1] || (size_t)(at - uri) >= us ||
	    strlen(at + 1) >= ds || strpbrk(uri, " ;<>\"?"))
		return EINVAL;
	memcpy(user, uri, (size_t)(at - uri));
	user[at - uri] = '\0';
	(void)snprintf(dom, ds, "%s", at + 1);
	return 0;
}


static void print_user(const char *user, const char *realm, void *arg)
{
	(void)arg;
	printf("sip:%s@%s\n", user, realm);
}


static int cmd_user(const struct cli *cl, int argc, char **argv)
{
	struct econf c;
	struct userdb *db = NULL;
	char user[128], dom[128];
	const char *sub = argc > 0 ? argv[0] : NULL;
	int err, rc = 0;

	if (load_conf(&c, cl))
		return 2;
	if (!sub) {
		(void)fprintf(stderr, "entims user: say add, list or delete "
				      "(see entims help)\n");
		return 2;
	}
	err = fs_mkdir_p(c.data_dir, 0750);
	if (err) {
		(void)fprintf(stderr,
			      "entims user: cannot create the data directory "
			      "'%s': %s (give another with --data-dir)\n",
			      c.data_dir, log_strerror(err));
		return 1;
	}
	if (userdb_open(&db, c.data_dir))
		return 1; /* userdb_open said why */
	if (!strcmp(sub, "list")) {
		rc = userdb_list(db, print_user, NULL) ? 1 : 0;
	} else if (!strcmp(sub, "add") || !strcmp(sub, "delete")) {
		if (argc < 2 ||
		    split_uri(argv[1], user, sizeof(user), dom, sizeof(dom))) {
			(void)fprintf(stderr,
				      "entims user %s: give the user as "
				      "sip:name@domain\n",
				      sub);
			rc = 2;
		} else if (!strcmp(sub, "add")) {
			if (!cl->password || !cl->password[0]) {
				(void)fprintf(stderr,
					      "entims user add: give the "
					      "password with --password\n");
				rc = 2;
			} else {
				err = userdb_add(db, user, dom, cl->password,
						 cl->replace);
				if (err == EEXIST) {
					(void)fprintf(stderr,
						      "entims user add: "
						      "sip:%s@%s exists; use "
						      "--replace to change "
						      "its password\n",
						      user, dom);
					rc = 1;
				} else if (err) {
					(void)fprintf(stderr,
						      "entims user add: %s\n",
						      log_strerror(err));
					rc = 1;
				}
			}
		} else {
			err = userdb_del(db, user, dom);
			if (err) {
				(void)fprintf(stderr,
					      "entims user delete: sip:%s@%s: "
					      "%s\n",
					      user, dom,
					      err == ENOENT
						      ? "no such user"
						      : log_strerror(err));
				rc = 1;
			}
		}
	} else {
		(void)fprintf(stderr,
			      "entims user: unknown action '%s' (add, list, "
			      "delete)\n",
			      sub);
		rc = 2;
	}
	mem_deref(db);
	return rc;
}


static int cmd_config(const struct cli *cl)
{
	struct econf c;
	size_t i;

	if (load_conf(&c, cl))
		return 2;
	for (i = 0; i < c.listen.n; i++) {
		enum sip_transp tp;
		struct sa sa;
		if (parse_listen(c.listen.v[i], &tp, &sa)) {
			(void)fprintf(stderr,
				      "entims: bad listen address '%s': write "
				      "it as udp:IP:PORT, tcp:IP:PORT or "
				      "tls:IP:PORT\n",
				      c.listen.v[i]);
			return 2;
		}
		printf("listen      %s\n", c.listen.v[i]);
	}
	for (i = 0; i < c.domains.n; i++)
		printf("domain      %s\n", c.domains.v[i]);
	printf("data_dir    %s\nauth        %s\ndemo        %s\n"
	       "expires     %u..%u\nproxy       %s, record-route %s\n",
	       c.data_dir, c.auth ? "on" : "off", c.demo ? "on" : "off",
	       c.min_expires, c.max_expires,
	       c.stateless ? "stateless" : "stateful",
	       c.record_route ? "on" : "off");
	return 0;
}


int main(int argc, char **argv)
{
	struct cli cl;
	const char *cmd;
	int ch;

	memset(&cl, 0, sizeof(cl));
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("entims 0.1.0\n");
		return 0;
	}

	if (prov_cli_is_command(cmd))
		return prov_cli_main(argc, argv, prov_conf);

	optind = 2;
	/* getopt's state is global: fine here, before any thread */
	while ((ch = getopt_long(argc, argv, "c:d:l:h", longopts, /* NOLINT */
				 NULL)) != -1) {
		switch (ch) {
		case 'c':
			cl.config = optarg;
			break;
		case 'd':
			cl.data_dir = optarg;
			break;
		case 'l':
			if (cl.listen.n >= CONF_LIST_MAX) {
				(void)fprintf(stderr,
					      "entims: at most %d --listen\n",
					      CONF_LIST_MAX);
				return 2;
			}
			(void)snprintf(cl.listen.v[cl.listen.n++], CONF_STR_MAX,
				       "%s", optarg);
			break;
		case OPT_DOMAIN:
			if (cl.domains.n >= CONF_LIST_MAX)
				return 2;
			(void)snprintf(cl.domains.v[cl.domains.n++],
				       CONF_STR_MAX, "%s", optarg);
			break;
		case OPT_ADVERTISE:
			cl.advertise = optarg;
			break;
		case OPT_NO_AUTH:
			cl.no_auth = 1;
			break;
		case OPT_NO_DEMO:
			cl.no_demo = 1;
			break;
		case OPT_STATELESS:
			cl.stateless = 1;
			break;
		case OPT_LOG_LEVEL:
			cl.log_level = optarg;
			break;
		case OPT_TRACE:
			cl.trace = optarg;
			break;
		case OPT_PASSWORD:
			cl.password = optarg;
			break;
		case OPT_REPLACE:
			cl.replace = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			(void)fprintf(stderr, "entims: see 'entims help'\n");
			return 2;
		}
	}

	if (!strcmp(cmd, "run"))
		return cmd_run(&cl);
	if (!strcmp(cmd, "user"))
		return cmd_user(&cl, argc - optind, argv + optind);
	if (!strcmp(cmd, "config"))
		return cmd_config(&cl);
	(void)fprintf(stderr,
		      "entims: unknown command '%s' (see 'entims help')\n",
		      cmd);
	return 2;
}
