#!/usr/bin/env bash
# Memory per registered user of the standalone IMS: N subscribers (100,000
# by default) provisioned in bulk, all N registered through the P-CSCF
# (REGISTER -> 401 -> REGISTER with MD5 digest -> 200, each a different
# user, at a bounded rate), then
#
#   KiB per registered user = (VmRSS after - VmRSS before) / N
#
# with "before" the process started with the N subscribers in its store
# and none registered, "after" once the last registration completed, and
# "settled" after BENCH_MEM_SETTLE more seconds (completed transactions
# are held for Timer J, 32 s, RFC 3261 17.2.2, and freed by then).  VmRSS
# comes from /proc/<pid>/status.  What a registered user costs in entims:
# the P-CSCF's registration and its reg event subscription (TS 24.229
# 5.2.3), the S-CSCF's binding and the user's profile with its iFCs, the
# HSS's registration state (kept in SQLite, whose page cache is part of
# the process).
#
# The load is bounded twice: at most BENCH_MEM_RATE registrations/s and
# at most BENCH_MEM_INFLIGHT registrations in progress at a time (sipp -l),
# so that a server slower than the rate is fed as fast as it answers
# instead of being flooded with retransmissions; the achieved rate is
# printed.  The whole run is bounded by BENCH_MEM_TIMEOUT.
#
# The run is valid only if sipp completed all N registrations without a
# failure and the HSS's store holds N public identities in state
# REGISTERED (TS 29.228 6.1.2); `entims subscriber show` on a few users
# must say so too.
#
# With BENCH_SERVERS="entims kamailio" Kamailio's P-, I- and S-CSCF (and
# the entims HSS process behind them) take the same N registrations; their
# memory is the proportional set size (Pss, /proc/<pid>/smaps_rollup)
# summed over every process of each instance, since VmRSS would count
# the shared memory segment once per process.  Kamailio reserves its
# shared memory up front (-m), so only the pages it touched count.
#
# Environment (defaults in brackets):
#   BENCH_SERVERS        ["entims"]; "entims kamailio" adds Kamailio
#   BENCH_MEM_USERS      registered users [100000]
#   BENCH_MEM_PROVISIONED subscribers in the store [BENCH_MEM_USERS]; more
#                        than registered: the per-user figure at the
#                        store size of a larger deployment
#   BENCH_MEM_RATE       registrations/s at most [400]
#   BENCH_MEM_INFLIGHT   registrations in progress at most [16]
#   BENCH_MEM_TIMEOUT    seconds the registrations may take [3600]
#   BENCH_MEM_SETTLE     seconds to wait before the settled figure [40]
#   BENCH_SIPP_INSTANCES sipp load generators (the rate is split) [2]
#   BENCH_KAM_SHM        Kamailio shared memory per instance, MB [256]
#   BENCH_NO_BUILD, BENCH_KEEP_TMP, ENTIMS, KAMAILIO: as bench/ims.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SELF=$ROOT/bench/ims_mem.sh
SERVERS=${BENCH_SERVERS:-entims}

if [[ " $SERVERS " == *" kamailio "* ]] && [ -z "${BENCH_IN_NS:-}" ]; then
	export BENCH_IN_NS=1
	if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
		exec unshare -m bash "$SELF" "$@"
	elif unshare -rm true 2>/dev/null; then
		exec unshare -rm bash "$SELF" "$@"
	fi
	echo "ims_mem.sh: cannot create a mount namespace for /etc/hosts (Kamailio's cdp resolves the HSS by name)" >&2
	exit 1
fi
cd "$ROOT"

. "$ROOT/bench/ims-lib.sh"

N=${BENCH_MEM_USERS:-100000}
NPROV=${BENCH_MEM_PROVISIONED:-$N}
RATE=${BENCH_MEM_RATE:-400}
SETTLE=${BENCH_MEM_SETTLE:-40}
INFLIGHT=${BENCH_MEM_INFLIGHT:-16}
TIMEOUT=${BENCH_MEM_TIMEOUT:-3600}
INSTANCES=${BENCH_SIPP_INSTANCES:-2}
in_range BENCH_MEM_USERS "$N" 1 1000000
in_range BENCH_MEM_PROVISIONED "$NPROV" "$N" 1000000
in_range BENCH_MEM_RATE "$RATE" 1 5000
in_range BENCH_MEM_SETTLE "$SETTLE" 0 600
in_range BENCH_SIPP_INSTANCES "$INSTANCES" 1 8
in_range BENCH_MEM_INFLIGHT "$INFLIGHT" "$INSTANCES" 10000
in_range BENCH_MEM_TIMEOUT "$TIMEOUT" 10 86400
[ $((N % INSTANCES)) -eq 0 ] || die "BENCH_MEM_USERS must be a multiple of BENCH_SIPP_INSTANCES"
[ $((RATE % INSTANCES)) -eq 0 ] || die "BENCH_MEM_RATE must be a multiple of BENCH_SIPP_INSTANCES"
for s in $SERVERS; do
	case $s in
	entims | kamailio) ;;
	*) die "unknown server $s" ;;
	esac
done

bench_prereq "$SERVERS"
if [[ " $SERVERS " == *" kamailio "* ]]; then
	interop_hosts "hss.$DOMAIN"
	# contacts of 100,000 users in each instance's shared memory
	KAM_SHM=${BENCH_KAM_SHM:-512}
fi
log "generating $NPROV subscribers"
gen_subscribers "$TMP/subscribers.json" "$NPROV" 0
for ((n = 0; n < INSTANCES; n++)); do
	reg_csv "$TMP/mem.$n.csv" 0 "$N" "$n"
done

# mem_of <server name> <pid>: KiB, VmRSS for entims, Pss for Kamailio
mem_of() {
	case $1 in
	entims) vm_rss_kib "$2" ;;
	*) pss_kib "$2" ;;
	esac
}

# snapshot <label>: memory of every server process into MEM[<label>,name]
declare -A MEM=()
snapshot() {
	local n
	for n in "${!SRV[@]}"; do
		MEM[$1,$n]=$(mem_of "$n" "${SRV[$n]}")
	done
}

# registered_count <data dir>: IMPUs in state REGISTERED in the HSS store
registered_count() {
	python3 - "$1/entims.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(db.execute("SELECT COUNT(*) FROM impu WHERE reg_state = 1").fetchone()[0])
PY
}

declare -A REPORT=() TOOK=()
for server in $SERVERS; do
	log "$server: $NPROV subscribers, registering $N of them"
	"start_$server" mem
	sleep 2
	snapshot before
	per=$((RATE / INSTANCES))
	count=$((N / INSTANCES))
	uac=()
	t0=$(date +%s.%N)
	for ((n = 0; n < INSTANCES; n++)); do
		sipp_load "$server-mem-$n" "127.0.0.1:$P_PORT" -sf "$SIPPDIR/ims_reg.xml" \
			-inf "$TMP/mem.$n.csv" -key domain "$DOMAIN" -auth_uri "$DOMAIN" \
			-p "$(free_port)" -r "$per" -m "$count" -l $((INFLIGHT / INSTANCES)) \
			-timeout "$TIMEOUT" -timeout_error
		uac[n]=$SIPP_PID
	done
	for ((n = 0; n < INSTANCES; n++)); do
		rc=0
		wait_pid "${uac[n]}" $((TIMEOUT + 60)) || rc=$?
		[ "$rc" -eq 0 ] || log "$server: sipp instance $n exited $rc"
	done
	t1=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	log "$server: registrations took $t1 s ($(awk -v n="$N" -v t="$t1" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')/s)"
	TOOK[$server]=$t1
	snapshot after
	OK=0 FAILED=0
	for ((n = 0; n < INSTANCES; n++)); do
		sipp_check "$server-mem-$n" "$count"
	done
	servers_alive || FAILED=$((FAILED + 1))
	reg=$(registered_count "$ENTIMS_DATA")
	[ "$reg" -eq "$N" ] || {
		log "$server: the HSS has $reg users REGISTERED, expected $N"
		FAILED=$((FAILED + 1))
	}
	# a few users by the provisioning CLI: the first, the last, the middle
	for u in r000000 "$(printf 'r%06d' $((N / 2)))" "$(printf 'r%06d' $((N - 1)))"; do
		"$ENTIMS" subscriber show "$u" -d "$ENTIMS_DATA" 2>/dev/null |
			grep -q '"registered"' || {
			log "$server: subscriber show $u does not say registered"
			FAILED=$((FAILED + 1))
		}
	done
	log "$server: $OK registrations ok, $FAILED failures, HSS: $reg REGISTERED; settling $SETTLE s"
	sleep "$SETTLE"
	snapshot settled
	servers_alive || FAILED=$((FAILED + 1))
	for n in "${!SRV[@]}"; do
		REPORT[$server]+="$(printf '%-7s %-6s %10s %10s %10s %8s %8s\n' "$server" "$n" \
			"${MEM[before,$n]}" "${MEM[after,$n]}" "${MEM[settled,$n]}" \
			"$(awk -v a="${MEM[after,$n]}" -v b="${MEM[before,$n]}" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')" \
			"$(awk -v a="${MEM[settled,$n]}" -v b="${MEM[before,$n]}" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')")
"
	done
	if [ "$FAILED" -ne 0 ]; then
		REPORT[$server]+="$server: INVALID ($FAILED failures; BENCH_KEEP_TMP=1 keeps the logs)
"
	fi
	"stop_$server"
done

printf '\n%d users registered of %d provisioned (at most %d/s, %d in progress);\n' \
	"$N" "$NPROV" "$RATE" "$INFLIGHT"
printf 'memory in KiB (entims: VmRSS; Kamailio: Pss).  Registration time:'
for server in $SERVERS; do
	printf ' %s %s s' "$server" "${TOOK[$server]:--}"
done
printf '\n'
printf '%-7s %-6s %10s %10s %10s %8s %8s\n' system proc before after settled "KiB/u" "KiB/u s"
for server in $SERVERS; do
	printf '%s' "${REPORT[$server]}"
done
printf '\nKiB/u: (after - before) / users; "s": after %d s more (Timer J, 32 s, freed\n' "$SETTLE"
printf 'the completed transactions).  The target: under 2 KiB per registered user.\n'
