/**
 * @file test_sip_regsrv.c  The registrar behind the transaction layer
 * (src/sip/regsrv.c): a challenge goes out statelessly (RFC 3261 8.2.7:
 * no transaction, no timer left), a retransmitted first REGISTER gets a
 * fresh challenge that works, a 200 waits for the commit inside a server
 * transaction that absorbs retransmissions and repeats the same 200
 * (RFC 3261 10.3, 17.2.2), and answers that depend on state (a wrong
 * digest, 423) keep their transaction.
 *
 * The whole stack runs: requests enter through sip_recv() as the
 * transport delivers them, and every send lands in fake_sent[]
 * (tests/unit/util/fakesip.c).
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "net/sa.h"
#include "sip/auth.h"
#include "sip/authhdr.h"
#include "sip/registrar.h"
#include "sip/regsrv.h"
#include "sip/regstore.h"
#include "sip/sip.h"
#include "sip/transp.h"
#include "util/fakesip.h"

static const char *const domains[] = { "example.com", NULL };

struct env {
	struct sip *sip;
	struct registrar *reg;
	struct regstore *rs;
	struct auth *auth;
	char dir[64];
};

static struct env g_env;

/* Server transactions held: running ones, and the Completed non-INVITE
 * ones over UDP kept in the retransmission cache until Timer J. */
static size_t ntrans(void)
{
	return g_env.sip->strans->n + g_env.sip->stats.rcache.entries;
}

static bool on_req(struct sip *sip, struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	regsrv_handle(e->reg, sip, msg);
	return true;
}


static int setup(void **state)
{
	struct registrar_conf conf = { 0 };
	struct env *e = &g_env;
	int r = mem_mark(state);

	memset(e, 0, sizeof(*e));
	e->sip = fake_env_open(on_req, NULL, e);
	(void)snprintf(e->dir, sizeof(e->dir), "/tmp/entims-regsrv.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(regstore_open(&e->rs, e->dir), 0);
	assert_int_equal(auth_alloc(&e->auth, NULL), 0);
	assert_int_equal(auth_user_set(e->auth, "alice", "example.com", "pw1"),
			 0);
	conf.domains = domains;
	conf.store = e->rs;
	conf.auth = e->auth;
	assert_int_equal(registrar_alloc(&e->reg, &conf), 0);
	return r;
}


static int teardown(void **state)
{
	static const char *const files[] = { ".sqlite", ".sqlite-wal",
					     ".sqlite-shm", ".journal",
					     ".journal.1" };
	struct env *e = &g_env;
	char path[128];
	size_t i;

	registrar_close(e->reg);
	e->reg = mem_deref(e->reg);
	e->rs = mem_deref(e->rs);
	e->auth = mem_deref(e->auth);
	fake_env_close(e->sip);
	for (i = 0; i < 5; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s%s", e->dir,
			       REGSTORE_FILE_BASE, files[i]);
		(void)unlink(path);
	}
	if (rmdir(e->dir) != 0)
		return -1;
	return mem_expect_no_leaks(state);
}


/* Deliver a REGISTER for alice from 192.0.2.1:5060 over UDP, as the
 * transport does; then run the loop batch that commits and answers. */
static void deliver(const char *branch, uint32_t cseq, const char *extra)
{
	char text[16384];
	struct sip_rx rx;
	int n, i;

	n = snprintf(text, sizeof(text),
		     "REGISTER sip:example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@example.com>;tag=f1\r\n"
		     "To: <sip:alice@example.com>\r\n"
		     "Call-ID: regsrv-1@192.0.2.1\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "Contact: <sip:alice@192.0.2.1:5060>\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     branch, cseq, extra);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	memset(&rx, 0, sizeof(rx));
	rx.p = text;
	rx.len = (size_t)n;
	rx.tp = SIP_TRANSP_UDP;
	rx.dgram = true;
	assert_int_equal(sa_set_str(&rx.src, "192.0.2.1", 5060), 0);
	assert_int_equal(sa_set_str(&rx.dst, "127.0.0.1", 5060), 0);
	sip_recv(&rx, g_env.sip);
	/* the commit hook, then the zero-delay timer that answers */
	for (i = 0; i < 2; i++)
		assert_int_equal(loop_poll(0), 0);
}


/* The nonce of the SHA-256 line of a challenge, and the Authorization
 * line a UA answers it with. */
static void answer(const char *resp, const char *pass, char *nonce,
		   size_t nsize, char *out, size_t size)
{
	char opaque[64], ha1[AUTH_HA1_HEX_MAX], digest[AUTH_HA1_HEX_MAX];
	const char *line = strstr(resp, "algorithm=SHA-256");
	struct pl v, nc, cn, qop, met, uri;
	struct sip_authhdr ah;
	const char *p, *eol;

	assert_non_null(line);
	while (line > resp && line[-1] != '\n')
		line--;
	p = strchr(line, ':');
	eol = strstr(line, "\r\n");
	assert_non_null(p);
	assert_non_null(eol);
	v.p = p + 1;
	v.l = (size_t)(eol - v.p);
	pl_trim(&v);
	assert_int_equal(sip_authhdr_decode(&ah, &v), 0);
	assert_int_equal(pl_strcpy(&ah.nonce, nonce, nsize), 0);
	assert_int_equal(pl_strcpy(&ah.opaque, opaque, sizeof(opaque)), 0);
	assert_int_equal(auth_ha1(AUTH_ALG_SHA256, "alice", "example.com", pass,
				  ha1, sizeof(ha1)),
			 0);
	pl_set_str(&nc, "00000001");
	pl_set_str(&cn, "c0ffee");
	pl_set_str(&qop, "auth");
	pl_set_str(&met, "REGISTER");
	pl_set_str(&uri, "sip:example.com");
	assert_int_equal(auth_response(AUTH_ALG_SHA256, ha1, &ah.nonce, &nc,
				       &cn, &qop, &met, &uri, digest,
				       sizeof(digest)),
			 0);
	(void)snprintf(out, size,
		       "Authorization: Digest username=\"alice\", "
		       "realm=\"example.com\", nonce=\"%s\", "
		       "uri=\"sip:example.com\", response=\"%s\", "
		       "algorithm=SHA-256, qop=auth, nc=00000001, "
		       "cnonce=\"c0ffee\", opaque=\"%s\"\r\n",
		       nonce, digest, opaque);
}


/* fake_sent[i] as a string. */
static void sent_str(size_t i, char *out, size_t size)
{
	assert_true(i < fake_nsent);
	assert_true(fake_sent[i].len < size);
	memcpy(out, fake_sent[i].p, fake_sent[i].len);
	out[fake_sent[i].len] = '\0';
}


static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}


static size_t nbindings(void)
{
	struct reg_contact v[4];
	struct pl aor;
	size_t n = 0;

	pl_set_str(&aor, "sip:alice@example.com");
	if (registrar_lookup(g_env.reg, &aor, v, 4, &n))
		return 0;
	return n;
}


static void test_challenge_is_stateless(void **state)
{
	char nonce1[128], nonce2[128], az[1024], sent[2048];

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	assert_int_equal(fake_nsent, 1);
	assert_true(fake_sent_starts(0, "SIP/2.0 401 "));
	/* RFC 3261 8.2.6: Via, From, To with our tag, Call-ID, CSeq */
	assert_true(fake_sent_has(
		0, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrs-1\r\n"));
	assert_true(fake_sent_has(0, "From: <sip:alice@example.com>;tag=f1"));
	assert_true(fake_sent_has(0, "To: <sip:alice@example.com>;tag="));
	assert_true(fake_sent_has(0, "Call-ID: regsrv-1@192.0.2.1\r\n"));
	assert_true(fake_sent_has(0, "CSeq: 1 REGISTER\r\n"));
	assert_true(fake_sent_has(0, "Content-Length: 0\r\n\r\n"));
	/* RFC 7616 / RFC 8760: one line per algorithm, realm, qop */
	sent_str(0, sent, sizeof(sent));
	assert_int_equal(count(sent, "WWW-Authenticate: Digest "), 2);
	assert_int_equal(count(sent, "realm=\"example.com\""), 2);
	assert_int_equal(count(sent, "qop=\"auth\""), 2);
	assert_non_null(strstr(sent, "algorithm=MD5"));
	assert_null(strstr(sent, "stale"));
	assert_int_equal(fake_sent[0].tp, SIP_TRANSP_UDP);
	assert_int_equal(sa_port(&fake_sent[0].dst), 5060);
	/* no transaction, no Timer J: nothing is left */
	assert_int_equal(ntrans(), 0);
	assert_int_equal(tmr_count(), 0);
	answer(sent, "pw1", nonce1, sizeof(nonce1), az, sizeof(az));

	/* the retransmission is not absorbed: a fresh challenge */
	deliver("z9hG4bKrs-1", 1, "");
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "SIP/2.0 401 "));
	assert_int_equal(g_env.sip->stats.retrans_absorbed, 0);
	assert_int_equal(ntrans(), 0);
	sent_str(1, sent, sizeof(sent));
	answer(sent, "pw1", nonce2, sizeof(nonce2), az, sizeof(az));
	assert_string_not_equal(nonce1, nonce2);

	/* and the fresh challenge is a valid one */
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "SIP/2.0 200 "));
	assert_int_equal(nbindings(), 1);
}


static void test_first_challenge_still_answers(void **state)
{
	char nonce[128], az[1024], sent[2048];

	(void)state;
	/* a UA that answers the first of two challenges (the second one
	 * crossed its answer) is accepted: nothing rides on the answer */
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));
	deliver("z9hG4bKrs-1", 1, "");
	assert_int_equal(fake_nsent, 2);
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 3);
	assert_true(fake_sent_starts(2, "SIP/2.0 200 "));
}


static void test_ok_waits_in_a_transaction(void **state)
{
	char nonce[128], az[1024], sent[2048];
	size_t n0;

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));

	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "SIP/2.0 200 "));
	assert_true(fake_sent_has(1, "Contact: <sip:alice@192.0.2.1:5060>"));
	/* built at arrival, sent after the commit: the lines of RFC 3261
	 * 8.2.6, the registrar's, one Content-Length last */
	assert_true(fake_sent_has(
		1, "\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrs-2\r\n"
		   "From: <sip:alice@example.com>;tag=f1\r\n"
		   "To: <sip:alice@example.com>;tag="));
	assert_true(fake_sent_has(1, "\r\nCall-ID: regsrv-1@192.0.2.1\r\n"
				     "CSeq: 2 REGISTER\r\n"));
	sent_str(1, sent, sizeof(sent));
	assert_int_equal(count(sent, "Content-Length:"), 1);
	assert_int_equal(strcmp(sent + strlen(sent) - 23,
				"\r\nContent-Length: 0\r\n\r\n"),
			 0);
	assert_int_equal(ntrans(), 1); /* Completed, Timer J */

	/* RFC 3261 17.2.2: the retransmission is absorbed and answered with
	 * the same 200, octet for octet; it never reaches the registrar,
	 * whose Call-ID/CSeq rule would refuse it with a 500 */
	n0 = fake_nsent;
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, n0 + 1);
	assert_int_equal(g_env.sip->stats.retrans_absorbed, 1);
	assert_int_equal(fake_sent[n0].len, fake_sent[1].len);
	assert_memory_equal(fake_sent[n0].p, fake_sent[1].p, fake_sent[1].len);
	assert_int_equal(nbindings(), 1);

	/* Timer J (64*T1 over UDP) ends it */
	fake_run_to(fake_now() + 64 * 500 + 1);
	assert_int_equal(ntrans(), 0);
}


/* Sends too large for fake_sent[] (2 KiB each), kept whole. */
static struct {
	char p[16384];
	size_t len;
} big_sent[4];
static size_t big_nsent;

static int big_send(struct sip *sip, enum sip_transp tp, const struct sa *dst,
		    struct sip_conn *conn, const void *p, size_t len)
{
	(void)sip;
	(void)tp;
	(void)dst;
	(void)conn;
	assert_true(big_nsent < sizeof(big_sent) / sizeof(big_sent[0]));
	assert_true(len < sizeof(big_sent[0].p));
	memcpy(big_sent[big_nsent].p, p, len);
	big_sent[big_nsent].p[len] = '\0';
	big_sent[big_nsent++].len = len;
	return 0;
}


/* Answers larger than the stack storage they are built in first (2 KiB):
 * a 200 that lists 16 long Contacts, after a head of 25 Via lines; it is
 * built in a heap buffer instead, whole, and repeated octet for octet. */
static void test_large_answers(void **state)
{
	static char extra[12288];
	char nonce[128], az[1024], sent[2048];
	const char *ok;
	size_t i, len = 0;
	int n;

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));
	big_nsent = 0;
	g_env.sip->sendh = big_send;

	n = snprintf(extra, sizeof(extra), "%s", az);
	assert_true(n > 0);
	len = (size_t)n;
	for (i = 0; i < 15; i++) {
		n = snprintf(extra + len, sizeof(extra) - len,
			     "Contact: <sip:alice-with-a-rather-long-user-part-"
			     "%02zu@192.0.2.1:%zu;transport=udp;ob>\r\n",
			     i, 6000 + i);
		assert_true(n > 0 && (size_t)n < sizeof(extra) - len);
		len += (size_t)n;
	}
	for (i = 0; i < 24; i++) {
		n = snprintf(extra + len, sizeof(extra) - len,
			     "Via: SIP/2.0/UDP proxy-%02zu.example.com:5060;"
			     "branch=z9hG4bK-a-long-branch-of-hop-%02zu\r\n",
			     i, i);
		assert_true(n > 0 && (size_t)n < sizeof(extra) - len);
		len += (size_t)n;
	}
	deliver("z9hG4bKrs-2", 2, extra);
	assert_int_equal(big_nsent, 1);
	ok = big_sent[0].p;
	assert_int_equal(strncmp(ok, "SIP/2.0 200 ", 12), 0);
	assert_true(big_sent[0].len > 3072); /* over ANSWER_STACK */
	assert_int_equal(count(ok, "\r\nContact: <sip:alice"), 16);
	assert_int_equal(count(ok, "\r\nVia: "), 25);
	assert_non_null(strstr(ok, "branch=z9hG4bK-a-long-branch-of-hop-23"
				   "\r\nFrom: "));
	assert_int_equal(count(ok, "Content-Length:"), 1);
	assert_int_equal(strcmp(ok + big_sent[0].len - 23,
				"\r\nContent-Length: 0\r\n\r\n"),
			 0);
	assert_int_equal(nbindings(), 16);

	/* the retransmission gets the same octets from the transaction */
	deliver("z9hG4bKrs-2", 2, extra);
	assert_int_equal(big_nsent, 2);
	assert_int_equal(big_sent[1].len, big_sent[0].len);
	assert_memory_equal(big_sent[1].p, big_sent[0].p, big_sent[0].len);
}


static void test_stateful_answers(void **state)
{
	char nonce[128], az[1024], sent[2048];
	struct auth_stats st;

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));

	/* a wrong password: 401 again, but through a transaction, so the
	 * retransmission is absorbed and counts as one failure only */
	answer(sent, "wrong", nonce, sizeof(nonce), az, sizeof(az));
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "SIP/2.0 401 "));
	assert_int_equal(ntrans(), 1);
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 3);
	assert_memory_equal(fake_sent[2].p, fake_sent[1].p, fake_sent[1].len);
	auth_stats(g_env.auth, &st);
	assert_int_equal(st.failed, 1);

	/* 423 (RFC 3261 10.3 step 7) keeps its transaction as well */
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));
	(void)strcat(az, "Expires: 5\r\n");
	deliver("z9hG4bKrs-3", 3, az);
	assert_int_equal(fake_nsent, 4);
	assert_true(fake_sent_starts(3, "SIP/2.0 423 "));
	assert_true(fake_sent_has(3, "Min-Expires: 60\r\n"));
	assert_int_equal(ntrans(), 2);
	assert_int_equal(nbindings(), 0);
}


/* RFC 3261 10.3 step 7: a commit that fails turns the waiting 200 into
 * a 500 with the same head (Via .. CSeq, our To tag) and Retry-After,
 * through the same transaction, which repeats it to a retransmission.
 * The journal write fails for real: the file-size limit is its size. */
static void test_commit_failure_answers_500(void **state)
{
	char nonce[128], az[1024], sent[2048], path[128];
	struct rlimit old, lim;
	struct stat st;
	size_t n0;

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));

	(void)snprintf(path, sizeof(path), "%s/%s.journal", g_env.dir,
		       REGSTORE_FILE_BASE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);

	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(
		1, "SIP/2.0 500 Server Internal Error (bindings not stored)"
		   "\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrs-2\r\n"
		   "From: <sip:alice@example.com>;tag=f1\r\n"
		   "To: <sip:alice@example.com>;tag="));
	assert_true(fake_sent_has(1, "\r\nCall-ID: regsrv-1@192.0.2.1\r\n"
				     "CSeq: 2 REGISTER\r\n"
				     "Retry-After: 5\r\n"
				     "Content-Length: 0\r\n\r\n"));
	sent_str(1, sent, sizeof(sent));
	assert_null(strstr(sent, "Contact:"));
	assert_int_equal(strcmp(sent + strlen(sent) - 23,
				"\r\nContent-Length: 0\r\n\r\n"),
			 0);
	assert_int_equal(nbindings(), 0); /* the tentative binding is gone */

	/* the transaction repeats the 500 to the retransmission */
	n0 = fake_nsent;
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, n0 + 1);
	assert_int_equal(fake_sent[n0].len, fake_sent[1].len);
	assert_memory_equal(fake_sent[n0].p, fake_sent[1].p, fake_sent[1].len);
	assert_int_equal(nbindings(), 0);
}


static void test_stale_nonce_is_stateless(void **state)
{
	char nonce[128], az[1024], sent[2048];

	(void)state;
	deliver("z9hG4bKrs-1", 1, "");
	sent_str(0, sent, sizeof(sent));
	answer(sent, "pw1", nonce, sizeof(nonce), az, sizeof(az));

	/* past the nonce lifetime (300 s): stale=true, statelessly */
	tmr_test_set_now(tmr_jiffies() + 301 * 1000);
	deliver("z9hG4bKrs-2", 2, az);
	assert_int_equal(fake_nsent, 2);
	assert_true(fake_sent_starts(1, "SIP/2.0 401 "));
	assert_true(fake_sent_has(1, "stale=true"));
	assert_int_equal(ntrans(), 0);
	assert_int_equal(tmr_count(), 0);
	assert_int_equal(nbindings(), 0);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_challenge_is_stateless,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_first_challenge_still_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ok_waits_in_a_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stateful_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_nonce_is_stateless,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure_answers_500,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
