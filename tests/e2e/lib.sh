# shellcheck shell=bash
# Helpers for the end-to-end scenarios.  A scenario's run.sh does
#
#   . "$(dirname "$0")/../lib.sh"
#   e2e_init "$@"            # <entims> <sipp> <temp dir>
#   entims_user_add sip:bob@example.test secret
#   entims_start --domain example.test   # the plain registrar and proxy
#   sipp_run reg 30 -sf "$E2E_SCENARIO/register.xml" ... || fail "..."
#   entims_stop              # fails unless entims exits 0 on SIGTERM
#   pass
#
# Every process a scenario starts is recorded and, if still running at
# exit, stopped by its PID.  Logs stay in the temp dir and are printed
# when the scenario fails.  Traffic stays on 127.0.0.0/8.

# wait_pid, free_port
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/proc.sh"
E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

set -euo pipefail

E2E_PIDS=()
E2E_FAILED=1
ENTIMS_PID=
ENTIMS_N=0

log() {
	printf '[e2e %s] %s\n' "$(date +%T)" "$*" >&2
}

fail() {
	log "FAIL: $*"
	exit 1
}

skip() {
	log "SKIP: $*"
	E2E_FAILED=0
	exit 77
}

pass() {
	E2E_FAILED=0
	log "PASS: ${E2E_NAME}"
	exit 0
}

# Print the tail of every log of this scenario (on failure).
e2e_dump_logs() {
	local f
	for f in "$E2E_TMP"/*.log "$E2E_TMP"/*.err "$E2E_TMP"/*.out; do
		[ -s "$f" ] || continue
		printf '\n----- %s (last 60 lines)\n' "${f#"$E2E_TMP"/}" >&2
		tail -n 60 "$f" >&2
	done
}

e2e_cleanup() {
	local rc=$? pid
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			sleep 0.2
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$E2E_FAILED" -ne 0 ]; then
		e2e_dump_logs
	fi
	exit "$rc"
}

# e2e_init <entims> <sipp> <temp dir>
e2e_init() {
	[ $# -ge 3 ] || { echo "usage: run.sh <entims> <sipp> <tmpdir>" >&2; exit 2; }
	ENTIMS=$1
	SIPP=$2
	E2E_TMP=$3
	E2E_SCENARIO=$(cd "$(dirname "$0")" && pwd)
	E2E_NAME=$(basename "$E2E_SCENARIO")
	[ -x "$ENTIMS" ] || fail "entims binary not found: $ENTIMS"
	command -v "$SIPP" >/dev/null 2>&1 || skip "sipp not installed (sip-tester)"
	command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
	rm -rf "$E2E_TMP"
	mkdir -p "$E2E_TMP"
	ENTIMS_DATA=$E2E_TMP/data
	mkdir -p "$ENTIMS_DATA"
	# Sanitizer builds: report and fail on leaks and UB, keep the output.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	trap e2e_cleanup EXIT
	log "scenario ${E2E_NAME}, logs in ${E2E_TMP}"
}



# entims_user_add <aor> <password>: a user of the plain registrar, written
# into the data dir before entims starts.
entims_user_add() {
	"$ENTIMS" user add --data-dir "$ENTIMS_DATA" "$1" --password "$2" \
		>>"$E2E_TMP/entims-user.log" 2>&1 ||
		fail "entims user add $1 failed (see entims-user.log)"
}

# entims_start [entims run options...]: run entims with [core] roles = sip
# (the plain RFC 3261 registrar and proxy the scenarios using this drive;
# `entims run` alone is the standalone IMS, see standalone_demo) in the
# foreground of a background job on a fresh free port (UDP and TCP), wait
# for "entims ready".  Sets ENTIMS_PID, ENTIMS_PORT, ENTIMS_LOG.
entims_start() {
	local port
	port=$(free_port)
	# Name resolution stays on loopback: the DNS server is a port where
	# nothing listens, so a lookup fails at once instead of leaving.
	printf '[core]\nroles = sip\n[sip]\ndns = 127.0.0.1:%s\n' "$(free_port)" \
		>"$E2E_TMP/entims.conf"
	# a scenario may add settings (whole sections) in ENTIMS_CONF_EXTRA
	if [ -n "${ENTIMS_CONF_EXTRA:-}" ]; then
		printf '%s\n' "$ENTIMS_CONF_EXTRA" >>"$E2E_TMP/entims.conf"
	fi
	entims_launch "$port" "$E2E_TMP/entims.conf" "$@"
}

entims_alive() {
	[ -n "$ENTIMS_PID" ] && kill -0 "$ENTIMS_PID" 2>/dev/null
}

# Stop entims with SIGTERM: it must exit 0 within 10 s (a sanitizer report
# or a leak at exit makes the status non-zero).
entims_stop() {
	local rc=0
	entims_alive || fail "entims (pid $ENTIMS_PID) is no longer running"
	kill -TERM "$ENTIMS_PID"
	wait_pid "$ENTIMS_PID" 10 || rc=$?
	[ "$rc" -ne 124 ] || fail "entims did not exit within 10 s of SIGTERM"
	[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM"
	log "entims stopped cleanly"
	ENTIMS_PID=
}

# Common sipp options: no keyboard, error and message traces into the temp
# dir under <name>.
sipp_opts() {
	local name=$1
	printf '%s\n' -nostdin -trace_err -error_file "$E2E_TMP/$name.err" \
		-trace_msg -message_file "$E2E_TMP/$name.msg.log"
}

# sipp_run <name> <timeout s> <sipp args...>: run sipp in the foreground,
# return its exit status (0: every call succeeded; 1: some call failed;
# 124: killed after the timeout).
sipp_run() {
	local name=$1 secs=$2 rc=0
	shift 2
	local opts
	mapfile -t opts < <(sipp_opts "$name")
	(cd "$E2E_TMP" && exec "$SIPP" "$@" "${opts[@]}") \
		>"$E2E_TMP/$name.out" 2>&1 </dev/null &
	local pid=$!
	E2E_PIDS+=("$pid")
	wait_pid "$pid" "$secs" || rc=$?
	return "$rc"
}

# sipp_aka_run <name> <timeout s> <K> <OP> <sipp args...>: sipp_run for a
# Digest-AKAv1-MD5 registration, run again (3 attempts at most) only when
# sipp, not the server, was wrong.  sipp 3.6 keeps RES as a C string, so a
# RES with a zero byte is cut there and its digest refused, rightly: RFC
# 3310 3.2 makes all of RES the password.  That is one challenge in 33
# (1 - (255/256)^8), with a RAND the test cannot choose.  The challenge's
# RES is computed here from K/OP (tools/aka_vector.py resnul); any other
# failure stands.  The failed attempt's logs keep the suffix .tryN.  Sets
# AKA_TRIES to the attempts made.
sipp_aka_run() {
	local name=$1 secs=$2 k=$3 op=$4 rc nonce f
	shift 4
	AKA_TRIES=0
	while :; do
		AKA_TRIES=$((AKA_TRIES + 1))
		rc=0
		sipp_run "$name" "$secs" "$@" || rc=$?
		[ "$rc" -ne 0 ] && [ "$AKA_TRIES" -lt 3 ] || return "$rc"
		nonce=$(sed -n 's/^WWW-Authenticate:.*nonce="\([^"]*\)".*/\1/p' \
			"$E2E_TMP/$name.msg.log" | tail -n 1)
		[ -n "$nonce" ] && python3 "$E2E_LIB_DIR/tools/aka_vector.py" \
			resnul "$k" "$op" "$nonce" >>"$E2E_TMP/$name.resnul" ||
			return "$rc"
		log "$name: the challenge's RES has a zero byte, which sipp cuts (see $name.resnul): registering again"
		for f in out err msg.log; do
			[ ! -e "$E2E_TMP/$name.$f" ] ||
				mv -f "$E2E_TMP/$name.$f" "$E2E_TMP/$name.try$AKA_TRIES.$f"
		done
	done
}

# sipp_bg <name> <sipp args...>: start sipp in the background; sets SIPP_PID.
sipp_bg() {
	local name=$1
	shift
	local opts
	mapfile -t opts < <(sipp_opts "$name")
	(cd "$E2E_TMP" && exec "$SIPP" "$@" "${opts[@]}") \
		>"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

# expect_rc <what> <got> <want>
expect_rc() {
	[ "$2" -eq "$3" ] || fail "$1: exit status $2, expected $3"
	log "ok: $1"
}

# A UDP port is bound by someone (sipp listening); wait up to 5 s.  Reads
# /proc/net/udp rather than trying to bind, which could race the owner.
wait_udp_bound() {
	local port hex i
	port=$1
	hex=$(printf ':%04X ' "$port")
	for ((i = 0; i < 50; i++)); do
		if grep -q "^ *[0-9]*: [0-9A-F]*$hex" /proc/net/udp; then
			return 0
		fi
		sleep 0.1
	done
	fail "nothing bound UDP port $port within 5 s"
}

# ---- a chosen port or config file, and crashes ----

# entims_launch <port> <config file> [entims run options...]: what
# entims_start does, but on the given port (UDP and TCP) and with the given
# config file used as it is: a restart on the port of an earlier run, or a
# config whose [sip] dns names a server the scenario started.  Sets
# ENTIMS_PID, ENTIMS_PORT, ENTIMS_CONF, ENTIMS_LOG.
entims_launch() {
	local i
	ENTIMS_PORT=$1
	ENTIMS_CONF=$2
	shift 2
	ENTIMS_N=$((ENTIMS_N + 1))
	ENTIMS_LOG=$E2E_TMP/entims.$ENTIMS_N.log
	(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$ENTIMS_CONF" \
		--data-dir "$ENTIMS_DATA" \
		--listen "udp:127.0.0.1:$ENTIMS_PORT" \
		--listen "tcp:127.0.0.1:$ENTIMS_PORT" \
		--log-level debug "$@") >"$ENTIMS_LOG" 2>&1 </dev/null &
	ENTIMS_PID=$!
	E2E_PIDS+=("$ENTIMS_PID")
	for ((i = 0; i < 300; i++)); do
		if grep -q '^entims ready' "$ENTIMS_LOG" 2>/dev/null; then
			log "entims pid $ENTIMS_PID ready on 127.0.0.1:$ENTIMS_PORT"
			return 0
		fi
		kill -0 "$ENTIMS_PID" 2>/dev/null ||
			fail "entims exited before it was ready (see ${ENTIMS_LOG##*/})"
		sleep 0.1
	done
	fail "entims not ready after 30 s"
}

# entims_kill9: SIGKILL the entims we started, as a crash would end it (no
# shutdown code runs), and reap it; entims_stop is not called for it.
entims_kill9() {
	entims_alive || fail "entims (pid $ENTIMS_PID) is no longer running"
	kill -KILL "$ENTIMS_PID"
	wait "$ENTIMS_PID" 2>/dev/null || true
	log "entims pid $ENTIMS_PID killed with SIGKILL"
	ENTIMS_PID=
}

# ---- a registered callee and a call to it ----

# register_bob <domain> <port>: sip:bob@<domain> (password bob-secret)
# registers with digest from 127.0.0.1:<port>; fails the scenario unless
# the 200 comes.
register_bob() {
	local domain=$1 port=$2 rc=0
	sipp_run reg-bob 30 "127.0.0.1:$ENTIMS_PORT" \
		-sf "$E2E_SCENARIO/../sipp/register.xml" \
		-key user bob -key domain "$domain" -au bob -ap bob-secret \
		-auth_uri "$domain" \
		-i 127.0.0.1 -p "$port" -m 1 -recv_timeout 5000 || rc=$?
	expect_rc "bob registers sip:bob@127.0.0.1:$port" "$rc" 0
}

# call_bob <domain> <bob port> <uas.xml> <uac.xml> <what alice sees>
#          <what bob sees>: a sipp UAS answers on bob's registered port
# with <uas.xml>; alice (password alice-secret) calls sip:bob@<domain>
# through entims with <uac.xml>; both must finish their one call.
call_bob() {
	local domain=$1 port=$2 uas=$3 uac=$4 rc=0 uas_pid
	sipp_bg uas-bob -sf "$E2E_SCENARIO/../sipp/$uas" -i 127.0.0.1 \
		-p "$port" -m 1 -timeout 40 -timeout_error
	uas_pid=$SIPP_PID
	wait_udp_bound "$port"
	sipp_run uac-alice 45 "127.0.0.1:$ENTIMS_PORT" \
		-sf "$E2E_SCENARIO/../sipp/$uac" \
		-s bob -key user alice -key domain "$domain" -au alice \
		-ap alice-secret -auth_uri "bob@$domain" \
		-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 10000 \
		-timeout 40 -timeout_error || rc=$?
	expect_rc "alice: $5" "$rc" 0
	rc=0
	wait_pid "$uas_pid" 20 || rc=$?
	expect_rc "bob: $6" "$rc" 0
}

# ---- IMS roles as their own entims processes (ims_register, ims_slf) ----

# start_role <name> <config> <data dir>: sets ROLE_PID once "entims ready"
start_role() {
	local name=$1 i
	mkdir -p "$3"
	(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$2" --data-dir "$3" \
		--log-level debug) >"$E2E_TMP/$name.log" 2>&1 </dev/null &
	ROLE_PID=$!
	E2E_PIDS+=("$ROLE_PID")
	for ((i = 0; i < 300; i++)); do
		grep -q '^entims ready' "$E2E_TMP/$name.log" 2>/dev/null && {
			log "$name pid $ROLE_PID ready"
			return 0
		}
		kill -0 "$ROLE_PID" 2>/dev/null ||
			fail "$name exited before it was ready (see $name.log)"
		sleep 0.1
	done
	fail "$name not ready after 30 s"
}

# stop_role <name> <pid>: SIGTERM, exit status 0 within 10 s
stop_role() {
	local rc=0
	kill -0 "$2" 2>/dev/null || fail "$1 (pid $2) died"
	kill -TERM "$2"
	wait_pid "$2" 10 || rc=$?
	[ "$rc" -eq 0 ] || fail "$1 exited with status $rc after SIGTERM (see $1.log)"
	log "$1 stopped cleanly"
}

# wait_log <file> <ERE> <secs>
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
