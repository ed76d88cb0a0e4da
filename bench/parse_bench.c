/**
 * @file parse_bench.c  SIP parser micro-benchmark.
 *
 * Decodes a typical INVITE (with SDP) and a typical REGISTER many times
 * and prints, per message kind, messages per second on one core and
 * nanoseconds per message, measured as CPU time of this process
 * (CLOCK_PROCESS_CPUTIME_ID), so other load on the machine inflates the
 * numbers less than wall time would.  Two workloads per message:
 *
 *   index   sip_msg_decode() alone: start line and header index
 *   proxy   the index plus the typed views a proxy reads for every
 *           request: top Via, From, To, CSeq, Call-ID, Max-Forwards,
 *           Request-URI, and sip_msg_validate()
 *
 * Timing varies with the machine; instruction counts do not.  With
 * --callgrind the program runs itself under valgrind's callgrind twice per
 * case, with 1 and with 1001 iterations, collecting only inside
 * bench_loop(); the difference divided by 1000 is the instruction count
 * of one message without the fixed costs (first-touch, setup).
 *
 * Usage: parse_bench [-n ITERATIONS] [--callgrind]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sip/msg.h"

#define DEFAULT_ITERATIONS 1000000UL

static const char invite_msg[] =
	"INVITE sip:bob@demo.entims.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Route: <sip:127.0.0.1:5060;lr>\r\n"
	"From: \"Alice\" <sip:alice@demo.entims.test>;tag=1928301774\r\n"
	"To: <sip:bob@demo.entims.test>\r\n"
	"Call-ID: a84b4c76e66710@127.0.0.1\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@127.0.0.1:5070>\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, "
	"REFER, NOTIFY\r\n"
	"Supported: 100rel, timer, replaces\r\n"
	"User-Agent: entims-bench\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 216\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"a=sendrecv\r\n";

static const char register_msg[] =
	"REGISTER sip:demo.entims.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-reg-2;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@demo.entims.test>;tag=a73kszlfl\r\n"
	"To: <sip:alice@demo.entims.test>\r\n"
	"Call-ID: 1j9FpLxk3uxtm8tn@127.0.0.1\r\n"
	"CSeq: 2 REGISTER\r\n"
	"Contact: <sip:alice@127.0.0.1:5070;transport=udp>;expires=3600\r\n"
	"Authorization: Digest username=\"alice\", "
	"realm=\"demo.entims.test\", "
	"nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", "
	"uri=\"sip:demo.entims.test\", "
	"response=\"dfe56131d1958046689d83306477ecc0\", algorithm=MD5, "
	"cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n"
	"Expires: 3600\r\n"
	"User-Agent: entims-bench\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

struct bench_case {
	const char *name;
	const char *p;
	size_t len;
	bool proxy; /* also read the typed views */
};

static const struct bench_case cases[] = {
	{ "INVITE index", invite_msg, sizeof(invite_msg) - 1, false },
	{ "INVITE proxy", invite_msg, sizeof(invite_msg) - 1, true },
	{ "REGISTER index", register_msg, sizeof(register_msg) - 1, false },
	{ "REGISTER proxy", register_msg, sizeof(register_msg) - 1, true },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct sip_msg bench_msg;
static volatile uintptr_t bench_sink;


/* Read what a proxy reads of every request (RFC 3261 16.3, 16.6). */
static int proxy_views(struct sip_msg *msg)
{
	const struct sip_via *via;
	const struct sip_addr *from, *to;
	const struct sip_cseq *cseq;
	const struct sip_uri *ruri;
	struct sip_msg_err me;
	struct pl cid;
	uint32_t mf;
	int err;

	err = sip_msg_via(msg, &via);
	err = err ? err : sip_msg_from(msg, &from);
	err = err ? err : sip_msg_to(msg, &to);
	err = err ? err : sip_msg_cseq(msg, &cseq);
	err = err ? err : sip_msg_callid(msg, &cid);
	err = err ? err : sip_msg_maxfwd(msg, &mf);
	err = err ? err : sip_msg_ruri(msg, &ruri);
	err = err ? err : sip_msg_validate(msg, &me);
	if (!err)
		bench_sink += (uintptr_t)via->branch.l + cseq->num + mf;
	return err;
}


/* The measured loop; callgrind collects inside this function only. */
__attribute__((noinline)) int bench_loop(const struct bench_case *bc,
					 unsigned long n);
__attribute__((noinline)) int bench_loop(const struct bench_case *bc,
					 unsigned long n)
{
	struct sip_msg_err me;
	int err = 0;

	for (unsigned long i = 0; i < n && !err; i++) {
		err = sip_msg_decode(&bench_msg, bc->p, bc->len, true, &me);
		if (!err && bc->proxy)
			err = proxy_views(&bench_msg);
		bench_sink += bench_msg.hdrc;
	}
	return err;
}


static double cpu_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static int run_timed(unsigned long n)
{
	(void)printf("%-16s %12s %14s %10s\n", "message", "iterations",
		     "msg/s per core", "ns/msg");
	for (size_t i = 0; i < NCASES; i++) {
		double t0, t1, secs;
		int err;

		/* warm up caches and branch predictors */
		err = bench_loop(&cases[i], n / 100 + 1);
		if (err) {
			(void)fprintf(stderr, "%s: decode failed: %s\n",
				      cases[i].name, log_strerror(err));
			return err;
		}
		t0 = cpu_seconds();
		err = bench_loop(&cases[i], n);
		t1 = cpu_seconds();
		if (err) {
			(void)fprintf(stderr, "%s: decode failed: %s\n",
				      cases[i].name, log_strerror(err));
			return err;
		}
		secs = t1 - t0;
		if (secs <= 0) {
			(void)fprintf(stderr,
				      "%s: too few iterations to time\n",
				      cases[i].name);
			return EINVAL;
		}
		(void)printf("%-16s %12lu %14.0f %10.1f\n", cases[i].name, n,
			     (double)n / secs, secs * 1e9 / (double)n);
	}
	return 0;
}


/* Run this program under callgrind with `n` iterations of case `idx` and
 * return the instructions collected inside bench_loop(). */
static int callgrind_count(size_t idx, unsigned long n, unsigned long long *ir)
{
	char out[64], nbuf[32], cbuf[32], line[512];
	char self[4096];
	ssize_t sl;
	pid_t pid;
	FILE *f;
	int status, err = EIO;

	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return errno ? errno : EIO;
	self[sl] = '\0';

	(void)snprintf(out, sizeof(out), "/tmp/parse_bench.%d.%zu.%lu.cg",
		       (int)getpid(), idx, n);
	(void)snprintf(nbuf, sizeof(nbuf), "%lu", n);
	(void)snprintf(cbuf, sizeof(cbuf), "%zu", idx);

	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		char of[128];

		(void)snprintf(of, sizeof(of), "--callgrind-out-file=%s", out);
		if (!freopen("/dev/null", "w", stderr))
			_exit(126);
		execlp("valgrind", "valgrind", "--tool=callgrind", of,
		       "--toggle-collect=bench_loop", self, "--case", cbuf,
		       "-n", nbuf, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		(void)fprintf(stderr,
			      "valgrind failed (status %d); is it installed?\n",
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return EIO;
	}

	f = fopen(out, "r");
	if (!f)
		return errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "totals:", 7) == 0 ||
		    strncmp(line, "summary:", 8) == 0) {
			*ir = strtoull(strchr(line, ':') + 1, NULL, 10);
			err = 0;
		}
	}
	(void)fclose(f);
	(void)unlink(out);
	return err;
}


static int run_callgrind(void)
{
	(void)printf("%-16s %14s\n", "message", "instr/msg");
	for (size_t i = 0; i < NCASES; i++) {
		unsigned long long one = 0, many = 0;
		int err;

		err = callgrind_count(i, 1, &one);
		if (!err)
			err = callgrind_count(i, 1001, &many);
		if (err) {
			(void)fprintf(stderr, "%s: callgrind: %s\n",
				      cases[i].name, log_strerror(err));
			return err;
		}
		(void)printf("%-16s %14.0f\n", cases[i].name,
			     (double)(many - one) / 1000.0);
	}
	return 0;
}


int main(int argc, char **argv)
{
	unsigned long n = DEFAULT_ITERATIONS;
	bool callgrind = false;
	long one_case = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
			one_case = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--callgrind")) {
			callgrind = true;
		} else {
			(void)fprintf(
				stderr,
				"usage: %s [-n ITERATIONS] [--callgrind]\n",
				argv[0]);
			return 2;
		}
	}
	if (n == 0) {
		(void)fprintf(stderr, "-n must be at least 1\n");
		return 2;
	}

	/* one case, n iterations, no output: what callgrind measures */
	if (one_case >= 0) {
		if ((size_t)one_case >= NCASES)
			return 2;
		return bench_loop(&cases[one_case], n) ? 1 : 0;
	}

	if (callgrind)
		return run_callgrind() ? 1 : 0;
	return run_timed(n) ? 1 : 0;
}
