#!/usr/bin/env bash
# IMS load comparison: entims as the standalone IMS (P-, I-, S-CSCF and
# HSS in one process) against Kamailio's IMS (three processes: P-, I- and
# S-CSCF) with an entims HSS process (`roles = hss`) behind it over
# Diameter Cx, same subscribers, same load, same cores.
#
#   ims-register  REGISTER -> 401 -> REGISTER (MD5 digest) -> 200 through
#                 P, I (UAR), S (MAR, SAR) with the HSS, each registration
#                 a different user (TS 24.229 5.1.1.2, 5.2.2, 5.3.1.2,
#                 5.4.1.2; TS 29.228 6.1.1, 6.1.2, 6.3)
#   ims-call      INVITE -> 180 -> 200 -> ACK -> BYE -> 200 from a
#                 registered caller through P, S (originating iFCs), I
#                 (LIR), S (terminating iFCs), P to a registered callee
#                 (TS 24.229 5.2.6, 5.3.2, 5.4.3); the service profile of
#                 every user has an originating and a terminating iFC that
#                 trigger on MESSAGE only, so both evaluations run and no
#                 AS is invoked
#
# Each operation and system gets fresh server processes and a fresh store
# (the subscribers are imported in bulk with `entims subscriber import`).
# The cost of an operation is the CPU time (utime + stime from
# /proc/PID/stat, every process and thread of each server) over the
# measured window divided by the operations sipp completed.  A run with
# any failed call (sipp's FailedCall counter, an unexpected response, a
# retransmission timeout, a server that died) is reported as FAILED.
#
# Pinning (2 CPUs): every server process -- entims, or Kamailio's three
# instances and the HSS -- on CPU 0, every sipp on CPU 1, so that the load
# generator never takes CPU from the servers and both systems get the
# same single core.  Kamailio: one SIP worker per instance (children=1),
# two cdp workers, -x tlsf; entims: its one event loop (plus its SQLite
# writer thread).
#
# Kamailio's configs: bench/kamailio/ims/*.in (see their headers).  Its
# Diameter stack (cdp) resolves the HSS by name, so the script re-executes
# itself in a private mount namespace (root: unshare -m) with its own
# /etc/hosts naming hss.<domain> 127.0.0.1.
#
# Environment (defaults in brackets):
#   BENCH_SERVERS        systems ["entims kamailio"]
#   BENCH_OPS            operations ["ims-register ims-call"]
#   BENCH_DURATION       seconds of measured load per operation [15]
#   BENCH_REG_RATE       registrations/s [100]; rate x (warm-up +
#                        duration) must stay below 1959 for Kamailio
#                        (see bench/kamailio/ims/scscf.cfg.in)
#   BENCH_CALL_RATE      calls/s [100]
#   BENCH_SIPP_INSTANCES sipp load generators (rates are split) [1]
#   BENCH_REPEAT         rounds per operation, median reported [3]
#   BENCH_WARMUP         seconds of the same load before the measured
#                        window, not measured (other users) [0]
#   BENCH_KAM_SHM        Kamailio shared memory per instance, MB [256]
#   BENCH_KAM_PKG        Kamailio private memory per process, MB [16]
#   BENCH_LOG_LEVEL      entims log level [warn]; BENCH_KAM_DEBUG:
#                        Kamailio's (3: debug) -- for finding a failure,
#                        they slow the servers down
#   BENCH_NO_BUILD       set: do not (re)build build-release
#   BENCH_KEEP_TMP       set: keep the logs
#   ENTIMS, KAMAILIO     binaries [build-release/entims, /usr/sbin/kamailio]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF=$ROOT/bench/ims.sh
SERVERS=${BENCH_SERVERS:-entims kamailio}

# cdp resolves hss.<domain>: our own /etc/hosts in a mount namespace
if [[ " $SERVERS " == *" kamailio "* ]] && [ -z "${BENCH_IN_NS:-}" ]; then
	export BENCH_IN_NS=1
	if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
		exec unshare -m bash "$SELF" "$@"
	elif unshare -rm true 2>/dev/null; then
		exec unshare -rm bash "$SELF" "$@"
	fi
	echo "ims.sh: cannot create a mount namespace for /etc/hosts (Kamailio's cdp resolves the HSS by name); BENCH_SERVERS=entims runs without" >&2
	exit 1
fi
cd "$ROOT"

. "$ROOT/bench/ims-lib.sh"

OPS=${BENCH_OPS:-ims-register ims-call}
DURATION=${BENCH_DURATION:-15}
REG_RATE=${BENCH_REG_RATE:-100}
CALL_RATE=${BENCH_CALL_RATE:-100}
INSTANCES=${BENCH_SIPP_INSTANCES:-1}
REPEAT=${BENCH_REPEAT:-3}
WARMUP=${BENCH_WARMUP:-0}

for op in $OPS; do
	case $op in
	ims-register | ims-call) ;;
	*) die "unknown operation $op" ;;
	esac
done
for s in $SERVERS; do
	case $s in
	entims | kamailio) ;;
	*) die "unknown server $s" ;;
	esac
done
in_range BENCH_DURATION "$DURATION" 1 600
in_range BENCH_WARMUP "$WARMUP" 0 600
in_range BENCH_SIPP_INSTANCES "$INSTANCES" 1 8
in_range BENCH_REPEAT "$REPEAT" 1 9
in_range BENCH_REG_RATE "$REG_RATE" 1 5000
in_range BENCH_CALL_RATE "$CALL_RATE" 1 5000

bench_prereq "$SERVERS"
if [[ " $SERVERS " == *" kamailio "* ]]; then
	interop_hosts "hss.$DOMAIN"
fi

# The registration users: enough for the warm-up and the measured window,
# each registration a different one.
REG_USERS=$(((WARMUP + DURATION) * REG_RATE))
gen_subscribers "$TMP/subscribers.json" "$REG_USERS" "$INSTANCES"

# op_register <server> <round>: sets OP_OK, OP_FAILED, OP_TICKS (per
# server process, "name=ticks ...")
op_register() {
	local server=$1 round=$2 n per count first uac=() rc
	per=$((REG_RATE / INSTANCES))
	[ "$per" -ge 1 ] || die "BENCH_REG_RATE below BENCH_SIPP_INSTANCES"
	if [ "$WARMUP" -gt 0 ]; then
		count=$((per * WARMUP))
		for ((n = 0; n < INSTANCES; n++)); do
			reg_csv "$TMP/warm.$n.csv" 0 $((REG_RATE * WARMUP)) "$n"
			sipp_load "$server-reg-warm-$round-$n" "127.0.0.1:$P_PORT" \
				-sf "$SIPPDIR/ims_reg.xml" -inf "$TMP/warm.$n.csv" \
				-key domain "$DOMAIN" -auth_uri "$DOMAIN" -p "$(free_port)" \
				-r "$per" -m "$count" -l $((per * 4 + 10)) \
				-timeout $((WARMUP * 3 + 30)) -timeout_error
			uac[n]=$SIPP_PID
		done
		for ((n = 0; n < INSTANCES; n++)); do
			wait_pid "${uac[n]}" $((WARMUP * 3 + 60)) || true
		done
		OK=0 FAILED=0
		for ((n = 0; n < INSTANCES; n++)); do
			sipp_check "$server-reg-warm-$round-$n" "$count"
		done
		log "$server ims-register: warm-up $WARMUP s, $OK ok, $FAILED failed"
	fi
	first=$((REG_RATE * WARMUP))
	count=$((per * DURATION))
	for ((n = 0; n < INSTANCES; n++)); do
		reg_csv "$TMP/reg.$n.csv" "$first" $((REG_RATE * DURATION)) "$n"
	done
	cpu_snapshot T0
	for ((n = 0; n < INSTANCES; n++)); do
		sipp_load "$server-reg-$round-$n" "127.0.0.1:$P_PORT" \
			-sf "$SIPPDIR/ims_reg.xml" -inf "$TMP/reg.$n.csv" \
			-key domain "$DOMAIN" -auth_uri "$DOMAIN" -p "$(free_port)" \
			-r "$per" -m "$count" -l $((per * 4 + 10)) \
			-timeout $((DURATION * 3 + 30)) -timeout_error
		uac[n]=$SIPP_PID
	done
	for ((n = 0; n < INSTANCES; n++)); do
		rc=0
		wait_pid "${uac[n]}" $((DURATION * 3 + 60)) || rc=$?
		[ "$rc" -eq 0 ] || log "$server ims-register: sipp instance $n exited $rc"
	done
	cpu_snapshot T1
	OK=0 FAILED=0
	for ((n = 0; n < INSTANCES; n++)); do
		sipp_check "$server-reg-$round-$n" "$count"
	done
	OP_OK=$OK OP_FAILED=$FAILED
}

# op_call <server> <round>: caller ca<n> and callee cb<n> per sipp
# instance register first (kept), then ca<n> calls cb<n> at the rate.
op_call() {
	local server=$1 round=$2 n per count uac=() uas=() ap=() bp=() rc
	per=$((CALL_RATE / INSTANCES))
	[ "$per" -ge 1 ] || die "BENCH_CALL_RATE below BENCH_SIPP_INSTANCES"
	for ((n = 0; n < INSTANCES; n++)); do
		ap[n]=$(free_port)
		bp[n]=$(free_port)
		while [ "${bp[n]}" = "${ap[n]}" ]; do bp[n]=$(free_port); done
		register_one "$server-call-reg-ca$n-$round" "ca$n" "${ap[n]}"
		register_one "$server-call-reg-cb$n-$round" "cb$n" "${bp[n]}"
		sipp_load "$server-call-uas-$round-$n" -sf "$SIPPDIR/call_uas.xml" \
			-p "${bp[n]}"
		uas[n]=$SIPP_PID
	done
	sleep 1
	run_calls() { # <tag> <seconds>
		local tag=$1 secs=$2 k
		count=$((per * secs))
		for ((k = 0; k < INSTANCES; k++)); do
			sipp_load "$server-call-$tag-$round-$k" "127.0.0.1:$P_PORT" \
				-sf "$SIPPDIR/ims_call_uac.xml" -s "cb$k" -key user "ca$k" \
				-key domain "$DOMAIN" -p "${ap[k]}" -r "$per" -m "$count" \
				-l $((per * 4 + 10)) -timeout $((secs * 3 + 30)) -timeout_error
			uac[k]=$SIPP_PID
		done
		for ((k = 0; k < INSTANCES; k++)); do
			rc=0
			wait_pid "${uac[k]}" $((secs * 3 + 60)) || rc=$?
			[ "$rc" -eq 0 ] || log "$server ims-call: sipp caller $k exited $rc"
		done
	}
	if [ "$WARMUP" -gt 0 ]; then
		run_calls warm "$WARMUP"
		OK=0 FAILED=0
		for ((n = 0; n < INSTANCES; n++)); do
			sipp_check "$server-call-warm-$round-$n" "$count"
		done
		log "$server ims-call: warm-up $WARMUP s, $OK ok, $FAILED failed"
	fi
	cpu_snapshot T0
	run_calls uac "$DURATION"
	cpu_snapshot T1
	OK=0 FAILED=0
	for ((n = 0; n < INSTANCES; n++)); do
		sipp_check "$server-call-uac-$round-$n" "$count"
	done
	for ((n = 0; n < INSTANCES; n++)); do
		kill -USR1 "${uas[n]}" 2>/dev/null || true
		wait_pid "${uas[n]}" 10 || true
		local f
		f=$(sipp_stat "$TMP/$server-call-uas-$round-$n.csv" 'FailedCall(C)')
		[ "$f" -eq 0 ] || FAILED=$((FAILED + (f < 0 ? 1 : f)))
	done
	OP_OK=$OK OP_FAILED=$FAILED
}

rate_of() {
	case $1 in
	ims-register) echo "$REG_RATE" ;;
	ims-call) echo "$CALL_RATE" ;;
	esac
}

declare -A RESULT
for op in $OPS; do
	rate=$(rate_of "$op")
	declare -A SAMPLES=()
	for round in $(seq 1 "$REPEAT"); do
		for server in $SERVERS; do
			log "$server: $op at $rate/s for $DURATION s (round $round/$REPEAT)"
			"start_$server" "$op-$round"
			case $op in
			ims-register) op_register "$server" "$round" ;;
			ims-call) op_call "$server" "$round" ;;
			esac
			servers_alive || OP_FAILED=$((OP_FAILED + 1))
			"stop_$server"
			# µs per operation: all processes; for Kamailio also
			# the CSCFs alone (without the HSS process)
			if [ "$OP_FAILED" -eq 0 ] && [ "$OP_OK" -gt 0 ]; then
				all=$(cpu_us_per_op "$OP_OK" all)
				SAMPLES[$server]+="$all "
				if [ "$server" = kamailio ]; then
					cscf=$(cpu_us_per_op "$OP_OK" cscf)
					SAMPLES[kamailio-cscf]+="$cscf "
					log "kamailio $op: $OP_OK ok; us/op: $(cpu_breakdown "$OP_OK"); CSCFs $cscf, with the HSS $all"
				else
					log "entims $op: $OP_OK ok, $all us/op"
				fi
			else
				SAMPLES[$server]+="FAILED "
				[ "$server" = kamailio ] && SAMPLES[kamailio-cscf]+="FAILED "
				log "$server $op: $OP_OK ok, $OP_FAILED FAILED (logs: BENCH_KEEP_TMP=1)"
			fi
		done
	done
	for key in "${!SAMPLES[@]}"; do
		if [[ ${SAMPLES[$key]} == *FAILED* ]]; then
			RESULT[$key,$op]=FAILED
		else
			# shellcheck disable=SC2086 # one word per round
			RESULT[$key,$op]=$(median ${SAMPLES[$key]})
		fi
		log "$key $op rounds: ${SAMPLES[$key]}-> ${RESULT[$key,$op]}"
	done
	unset SAMPLES
done

ratio() {
	if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then
		awk -v e="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", e / k; else print "-" }'
	else
		echo -
	fi
}
printf '\n%-13s %7s %13s %15s %15s %9s %9s\n' operation rate/s "entims us/op" \
	"kam CSCFs us/op" "kam+HSS us/op" "e/(k+HSS)" "e/kCSCFs"
for op in $OPS; do
	e=${RESULT[entims,$op]:--}
	k=${RESULT[kamailio-cscf,$op]:--}
	kh=${RESULT[kamailio,$op]:--}
	printf '%-13s %7s %13s %15s %15s %9s %9s\n' "$op" "$(rate_of "$op")" "$e" "$k" \
		"$kh" "$(ratio "$e" "$kh")" "$(ratio "$e" "$k")"
done
printf '\nus/op: server CPU time (user+system, every process and thread) per completed\n'
printf 'operation over the measured window; median of %s round(s) after %s s of warm-up.\n' "$REPEAT" "$WARMUP"
printf 'entims: one process (P-, I-, S-CSCF and HSS, Cx in-process).  Kamailio: its\n'
printf 'P-, I- and S-CSCF ("kam CSCFs"), and with the entims HSS process they use over\n'
printf 'Diameter TCP ("kam+HSS").  Ratio < 1: entims used less CPU.  Servers on CPU %s,\n' "$SERVER_CPU"
printf 'sipp on CPU %s.  The entims P-CSCF also subscribes to each user'"'"'s reg event\n' "$LOAD_CPU"
printf '(SUBSCRIBE/NOTIFY inside the process); the Kamailio P-CSCF here does not.\n'
