#!/usr/bin/env bash
# Instructions the server spends per operation, counted by callgrind: a
# repeatable figure (the same binary and inputs give the same count), where
# bench/load.sh's CPU times vary 10-20 % from run to run on a shared VM.
#
#   bench/callgrind.sh [register|register-auth|call]...   (default: all)
#
# entims (release build) runs under valgrind on a loopback port; sipp sends
# N operations at a low rate; the inclusive count of loop_poll (the event
# loop, so start-up and shutdown are left out) is divided by N.  The
# group-commit window is set to 100 ms so that bindings are committed in
# batches as they are under load.  Loops are bounded: N operations, and
# every wait has a limit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENTIMS=${ENTIMS:-$ROOT/build-release/entims}
SIPPDIR=$ROOT/bench/sipp
OPS=${*:-register register-auth call}
TMP=$(mktemp -d /tmp/entims-cg.XXXXXX)
PIDS=()
# KEEP=1 leaves the callgrind files in $TMP for callgrind_annotate.
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"' EXIT

command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }
command -v sipp >/dev/null || { echo "sipp not found" >&2; exit 1; }
[ -x "$ENTIMS" ] || { echo "no $ENTIMS: make release" >&2; exit 1; }

. "$ROOT/bench/common.sh" # free_port

printf '[core]\nroles = sip\n[registrar]\ncommit_delay_ms = 100\n' >"$TMP/cg.conf"
{ echo SEQUENTIAL; for i in $(seq 0 999); do echo "u$i;"; done; } >"$TMP/users.csv"
printf 'SEQUENTIAL\ncallee0;\n' >"$TMP/callee.csv"

run() {
	local op=$1 n port data pid rc=0 total
	port=$(free_port)
	data=$TMP/data-$op
	local args=(--no-auth)
	if [ "$op" = register-auth ]; then
		args=()
		"$ENTIMS" user add --data-dir "$data" sip:u0@bench.test \
			--password pw0 >/dev/null
	fi
	valgrind --tool=callgrind --toggle-collect=loop_poll \
		--callgrind-out-file="$TMP/$op.out" \
		"$ENTIMS" run -c "$TMP/cg.conf" -d "$data" \
		-l "udp:127.0.0.1:$port" --domain bench.test --no-demo \
		--log-level warn "${args[@]}" >"$TMP/$op.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 1 300); do
		grep -q '^entims ready' "$TMP/$op.log" && break
		sleep 0.1
	done
	case $op in
	register)
		n=2000
		timeout 120 sipp "127.0.0.1:$port" -sf "$SIPPDIR/reg_noauth.xml" \
			-inf "$TMP/users.csv" -key domain bench.test -i 127.0.0.1 \
			-p "$(free_port)" -r 200 -m $n -nostdin >/dev/null 2>&1 || rc=$? ;;
	register-auth)
		n=1000
		timeout 120 sipp "127.0.0.1:$port" -sf "$SIPPDIR/reg_auth.xml" \
			-key user u0 -key domain bench.test -au u0 -ap pw0 \
			-auth_uri bench.test -i 127.0.0.1 -p "$(free_port)" \
			-r 100 -m $n -nostdin >/dev/null 2>&1 || rc=$? ;;
	call)
		n=500
		local uport
		uport=$(free_port)
		timeout 60 sipp "127.0.0.1:$port" -sf "$SIPPDIR/reg_noauth.xml" \
			-inf "$TMP/callee.csv" -key domain bench.test -i 127.0.0.1 \
			-p "$uport" -m 1 -nostdin >/dev/null 2>&1 || rc=$?
		timeout 120 sipp -sf "$SIPPDIR/call_uas.xml" -i 127.0.0.1 \
			-p "$uport" -nostdin >/dev/null 2>&1 &
		PIDS+=($!)
		sleep 1
		timeout 120 sipp "127.0.0.1:$port" -sf "$SIPPDIR/call_uac.xml" \
			-s callee0 -key domain bench.test -i 127.0.0.1 \
			-p "$(free_port)" -r 50 -m $n -nostdin >/dev/null 2>&1 || rc=$? ;;
	esac
	sleep 2
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	[ "$rc" -eq 0 ] || { echo "$op: sipp reported failures ($rc)" >&2; return 1; }
	total=$(callgrind_annotate --inclusive=yes "$TMP/$op.out" 2>/dev/null |
		grep 'loop.c:loop_poll ' | awk 'NR==1 { gsub(",", "", $1); print $1 }')
	printf '%-15s %6d ops  %8d instructions/op\n' "$op" "$n" $((total / n))
}

for op in $OPS; do
	run "$op"
done
