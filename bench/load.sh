#!/usr/bin/env bash
# SIP load comparison: entims against Kamailio 5.6, same load, same cores.
#
# For each server in turn (each operation gets a fresh server process):
#   register        REGISTER -> 200, no authentication (Kamailio keeps
#                   its location in memory only)
#   register-db     the same with Kamailio writing its location through to
#                   SQLite (usrloc db_mode 1); entims always persists
#                   (journal + SQLite)
#   register-auth   REGISTER -> 401 -> REGISTER with MD5 digest -> 200
#   call            INVITE -> 180 -> 200 -> ACK -> BYE -> 200 through the
#                   stateful proxy (Record-Route) to a registered sipp UAS
# at the same fixed rate for both servers.  The server runs pinned to CPU
# 0 with one worker (Kamailio: -n 1, children=1); every sipp instance runs
# on CPU 1.  The cost of an operation is the server's CPU time (the
# scheduler's runtime from /proc/PID/task/*/schedstat, summed over all its
# processes and threads, read before and after the load) divided by the
# operations sipp completed; a run in which sipp reports any failed call
# is marked FAILED instead.  utime + stime (/proc/PID/stat) are sampled
# once per tick (4 ms at HZ=250) rather than counted; they are logged
# beside the runtime (the two agreed within 1-2 % here) and are the
# fallback when the kernel has no schedstat.
#
# Kamailio's side is bench/kamailio/kamailio.cfg (see its header); entims
# runs `entims run` (registrar and stateful proxy in one) with --no-auth
# for the register and call loads.
#
# Environment (defaults in brackets):
#   BENCH_SERVERS        servers to run ["entims kamailio"]
#   BENCH_OPS            operations ["register register-db register-auth call"]
#   BENCH_DURATION       seconds of load per operation [15]
#   BENCH_REG_RATE       REGISTER/s without auth [1000]
#   BENCH_DB_RATE        REGISTER/s for register-db [1000]
#   BENCH_AUTH_RATE      authenticated registrations/s [500]
#   BENCH_CALL_RATE      calls/s [200]
#   BENCH_SIPP_INSTANCES sipp load generators (rates are split) [2]
#   BENCH_REPEAT         rounds per operation, median reported [3]
#   BENCH_WARMUP         seconds of the same load before each measured run,
#                        not measured [0]; 35 or more measures the steady
#                        state (completed non-INVITE transactions are held
#                        for Timer J, 32 s, RFC 3261 17.2.2)
#   BENCH_USERS          users provisioned on both servers [1000]
#   BENCH_NO_BUILD       set: do not (re)build build-release
#   BENCH_ENTIMS_CONF    lines added to entims's config, printf %b syntax
#                        (e.g. "[registrar]\ncommit_delay_ms = 2\n")
#   ENTIMS, KAMAILIO     binaries [build-release/entims, /usr/sbin/kamailio]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SERVERS=${BENCH_SERVERS:-entims kamailio}
OPS=${BENCH_OPS:-register register-db register-auth call}
DURATION=${BENCH_DURATION:-15}
REG_RATE=${BENCH_REG_RATE:-1000}
DB_RATE=${BENCH_DB_RATE:-1000}
AUTH_RATE=${BENCH_AUTH_RATE:-500}
CALL_RATE=${BENCH_CALL_RATE:-200}
INSTANCES=${BENCH_SIPP_INSTANCES:-2}
REPEAT=${BENCH_REPEAT:-3}
WARMUP=${BENCH_WARMUP:-0}
USERS=${BENCH_USERS:-1000}
ENTIMS=${ENTIMS:-$ROOT/build-release/entims}
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
KAMAILIO_CFG=$ROOT/bench/kamailio/kamailio.cfg
SIPPDIR=$ROOT/bench/sipp
DOMAIN=bench.test
SERVER_CPU=0
LOAD_CPU=1
HZ=$(getconf CLK_TCK)

. "$ROOT/bench/common.sh"
bench_init entims-bench bench

[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, load on CPU 1)"
for t in sipp taskset python3; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (scripts/install-deps)"
done
for op in $OPS; do
	case $op in
	register | register-db | register-auth | call) ;;
	*) die "unknown operation $op" ;;
	esac
done

# Users b1000.. with password pw-b1000.., split over the sipp instances.
make_users() {
	local i n
	for ((n = 0; n < INSTANCES; n++)); do
		echo SEQUENTIAL >"$TMP/users.$n.csv"
	done
	for ((i = 0; i < USERS; i++)); do
		echo "b$((1000 + i));pw-b$((1000 + i))" >>"$TMP/users.$((i % INSTANCES)).csv"
	done
}

SERVER_PID=
SERVER_PORT=

start_entims() {
	local op=$1 i
	local data=$TMP/entims-data-$op
	local args=(--domain "$DOMAIN" --log-level warn --no-demo)
	rm -rf "$data"
	mkdir -p "$data"
	case $op in
	register | register-db) args+=(--no-auth) ;;
	register-auth)
		log "entims: adding $USERS users"
		for ((i = 0; i < USERS; i++)); do
			"$ENTIMS" user add --data-dir "$data" \
				"sip:b$((1000 + i))@$DOMAIN" --password "pw-b$((1000 + i))" \
				>>"$TMP/entims-users.log" 2>&1 ||
				die "entims user add failed (see $TMP/entims-users.log)"
		done
		;;
	call) args+=(--no-auth) ;;
	esac
	SERVER_PORT=$(free_port)
	# the plain registrar and proxy (`entims run` alone is the IMS)
	printf '[core]\nroles = sip\n' >"$TMP/entims-sip.conf"
	# Kamailio's bench config challenges with MD5 alone (one
	# WWW-Authenticate); entims offers MD5 and SHA-256 by default (two
	# lines, two nonces): configured the same for the same work
	printf '[auth]\nalgorithms = md5\n' >>"$TMP/entims-sip.conf"
	printf '%b' "${BENCH_ENTIMS_CONF:-}" >>"$TMP/entims-sip.conf"
	(cd "$TMP" && exec taskset -c "$SERVER_CPU" "$ENTIMS" run \
		-c "$TMP/entims-sip.conf" --data-dir "$data" \
		--listen "udp:127.0.0.1:$SERVER_PORT" "${args[@]}") \
		>"$TMP/entims-$op.log" 2>&1 </dev/null &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for ((i = 0; i < 300; i++)); do
		grep -q '^entims ready' "$TMP/entims-$op.log" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null ||
			die "entims exited: $(tail -5 "$TMP/entims-$op.log")"
		sleep 0.1
	done
	die "entims not ready after 30 s"
}

start_kamailio() {
	local op=$1 args=()
	case $op in
	register) ;;
	register-db)
		# usrloc write-through into SQLite, as entims persists
		rm -f "$TMP/kamailio-location.db"
		sqlite3 "$TMP/kamailio-location.db" \
			</usr/share/kamailio/db_sqlite/standard-create.sql &&
			sqlite3 "$TMP/kamailio-location.db" \
				</usr/share/kamailio/db_sqlite/usrloc-create.sql &&
			# WAL, as entims uses (the mode is kept in the file);
			# synchronous stays SQLite's default (FULL) in Kamailio
			sqlite3 "$TMP/kamailio-location.db" \
				'PRAGMA journal_mode=WAL;' >/dev/null ||
			die "cannot create Kamailio's location database (kamailio-sqlite-modules, sqlite3)"
		args+=(-A WITH_DB -A "DBURL=\"sqlite://$TMP/kamailio-location.db\"") ;;
	register-auth) args+=(-A WITH_AUTH) ;;
	call) args+=(-A WITH_PROXY) ;;
	esac
	mkdir -p "$TMP/kamailio-run"
	SERVER_PORT=$(free_port)
	taskset -c "$SERVER_CPU" "$KAMAILIO" -DD -E -m 512 -M 16 -x tlsf -n 1 \
		-Y "$TMP/kamailio-run" -l "udp:127.0.0.1:$SERVER_PORT" \
		-f "$KAMAILIO_CFG" -A "BENCH_USERS=$USERS" "${args[@]}" \
		>"$TMP/kamailio-$op.log" 2>&1 </dev/null &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	sip_ping "$SERVER_PORT" 30 ||
		die "kamailio does not answer: $(tail -5 "$TMP/kamailio-$op.log")"
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait_pid "$SERVER_PID" 15 || true
	SERVER_PID=
}

# run_op <server> <op> <rate>: sets OP_OK, OP_FAILED, OP_NS (CPU ns)
run_op() {
	local server=$1 op=$2 rate=$3 n per count t0 t1 k0 k1 ok=0 failed=0 rc
	local uac=() uas=() uas_port=()
	per=$((rate / INSTANCES))
	count=$((per * DURATION))
	local common=(-nostdin -i 127.0.0.1 -fd 1 -trace_stat)

	if [ "$op" = call ]; then
		# each callee registers, then answers on its registered port
		for ((n = 0; n < INSTANCES; n++)); do
			uas_port[n]=$(free_port)
			printf 'SEQUENTIAL\ncallee%d;x\n' "$n" >"$TMP/callee.$n.csv"
			taskset -c "$LOAD_CPU" sipp "127.0.0.1:$SERVER_PORT" \
				-sf "$SIPPDIR/reg_noauth.xml" -inf "$TMP/callee.$n.csv" \
				-key domain "$DOMAIN" -p "${uas_port[n]}" -m 1 \
				-nostdin -i 127.0.0.1 -timeout 10 -timeout_error \
				>"$TMP/$server-reg-callee$n.out" 2>&1 </dev/null ||
				die "$server: callee$n could not register"
			taskset -c "$LOAD_CPU" sipp -sf "$SIPPDIR/call_uas.xml" \
				-p "${uas_port[n]}" "${common[@]}" \
				-stf "$TMP/$server-$op-uas$n.csv" \
				>"$TMP/$server-$op-uas$n.out" 2>&1 </dev/null &
			uas[n]=$!
			PIDS+=("${uas[n]}")
		done
		sleep 1
	fi

	t0=$(cpu_ns "$SERVER_PID")
	k0=$(cpu_ticks "$SERVER_PID")
	for ((n = 0; n < INSTANCES; n++)); do
		local args=()
		case $op in
		register | register-db)
			args=(-sf "$SIPPDIR/reg_noauth.xml" -inf "$TMP/users.$n.csv") ;;
		register-auth)
			# digest-uri = Request-URI (sipp adds the "sip:")
			args=(-sf "$SIPPDIR/reg_auth.xml" -key user "b$((1000 + n))"
				-au "b$((1000 + n))" -ap "pw-b$((1000 + n))"
				-auth_uri "$DOMAIN") ;;
		call)
			args=(-sf "$SIPPDIR/call_uac.xml" -s "callee$n") ;;
		esac
		taskset -c "$LOAD_CPU" sipp "127.0.0.1:$SERVER_PORT" "${args[@]}" \
			-key domain "$DOMAIN" -p "$(free_port)" -r "$per" -m "$count" \
			-l $((per * 4 + 10)) "${common[@]}" \
			-stf "$TMP/$server-$op-uac$n.csv" \
			-timeout $((DURATION * 3 + 30)) -timeout_error \
			>"$TMP/$server-$op-uac$n.out" 2>&1 </dev/null &
		uac[n]=$!
		PIDS+=("${uac[n]}")
	done
	for ((n = 0; n < INSTANCES; n++)); do
		rc=0
		wait_pid "${uac[n]}" $((DURATION * 3 + 60)) || rc=$?
		[ "$rc" -eq 0 ] || log "$server $op: sipp instance $n exited $rc"
	done
	t1=$(cpu_ns "$SERVER_PID")
	k1=$(cpu_ticks "$SERVER_PID")

	OP_RTD=-
	local rtds=()
	for ((n = 0; n < INSTANCES; n++)); do
		local s f r
		# r: REGISTER to 200 (rtd in the scenario), hh:mm:ss:usec
		read -r s f r < <(sipp_stat "$TMP/$server-$op-uac$n.csv" \
			'SuccessfulCall(C)' 'FailedCall(C)' 'ResponseTime1(C)')
		rtds+=("$r")
		[ "$s" -ge 0 ] || s=0
		[ "$f" -ge 0 ] || f=$count
		ok=$((ok + s))
		failed=$((failed + f))
	done
	if [ "$op" = call ]; then
		for ((n = 0; n < INSTANCES; n++)); do
			kill -USR1 "${uas[n]}" 2>/dev/null || true
			wait_pid "${uas[n]}" 10 || true
			local f
			f=$(sipp_stat "$TMP/$server-$op-uas$n.csv" 'FailedCall(C)')
			[ "$f" -eq 0 ] || failed=$((failed + (f < 0 ? 1 : f)))
		done
	fi
	if [[ ${rtds[0]} == *:*:*:* ]]; then
		OP_RTD=$(printf '%s\n' "${rtds[@]}" | awk -F: \
			'{ t += (($1 * 60 + $2) * 60 + $3) * 1e3 + $4 / 1e3 }
			 END { printf "%.1f", t / NR }')
	fi
	# operations that never completed count as failures too
	[ "$ok" -eq $((count * INSTANCES)) ] || failed=$((failed > 0 ? failed : 1))
	OP_OK=$ok
	OP_FAILED=$failed
	OP_TICKS_NS=$(((k1 - k0) * 1000000000 / HZ))
	if [ -n "$t0" ] && [ -n "$t1" ]; then
		OP_NS=$((t1 - t0))
	else
		OP_NS=$OP_TICKS_NS
	fi
}

rate_of() {
	case $1 in
	register) echo "$REG_RATE" ;;
	register-db) echo "$DB_RATE" ;;
	register-auth) echo "$AUTH_RATE" ;;
	call) echo "$CALL_RATE" ;;
	esac
}

if [[ " $SERVERS " == *" entims "* ]]; then
	if [ -z "${BENCH_NO_BUILD:-}" ]; then
		log "building the release preset"
		cmake --preset release >/dev/null
		cmake --build build-release >/dev/null
	fi
	[ -x "$ENTIMS" ] || die "no entims binary at $ENTIMS"
fi
if [[ " $SERVERS " == *" kamailio "* ]]; then
	[ -x "$KAMAILIO" ] || die "no kamailio at $KAMAILIO (apt-get install kamailio)"
fi

make_users
declare -A RESULT PAIRED
# Each operation runs REPEAT rounds, the servers alternating within a round
# (so that a slow minute of the machine hits both), and the median of the
# rounds is reported: one sample varies by 10-20 % on a shared VM.
for op in $OPS; do
	rate=$(rate_of "$op")
	declare -A SAMPLES=() RTD=()
	for round in $(seq 1 "$REPEAT"); do
		for server in $SERVERS; do
			log "$server: $op at $rate/s for $DURATION s (round $round/$REPEAT)"
			"start_$server" "$op"
			if [ "$WARMUP" -gt 0 ]; then
				# the same load, not measured: the measured run
				# starts in the steady state (transactions held
				# for Timer J, caches and heap at their size)
				local_d=$DURATION
				DURATION=$WARMUP
				run_op "$server" "$op" "$rate"
				DURATION=$local_d
				log "$server $op: warm-up $WARMUP s, $OP_OK ok, $OP_FAILED failed"
			fi
			run_op "$server" "$op" "$rate"
			ok=$OP_OK failed=$OP_FAILED ns=$OP_NS
			kill -0 "$SERVER_PID" 2>/dev/null || failed=$((failed + 1))
			stop_server
			if [ "$failed" -eq 0 ] && [ "$ok" -gt 0 ]; then
				v=$(awk -v t="$ns" -v n="$ok" \
					'BEGIN { printf "%.1f", t / 1e3 / n }')
				SAMPLES[$server]+="$v "
				rtd=
				if [ "$OP_RTD" != - ]; then
					RTD[$server]+="$OP_RTD "
					rtd=", mean response time $OP_RTD ms"
				fi
				log "$server $op: $ok ok, $((ns / 1000000)) ms CPU" \
					"($((OP_TICKS_NS / 1000000)) ms by ticks), $v us/op$rtd"
			else
				SAMPLES[$server]+="FAILED "
				log "$server $op: $ok ok, $failed FAILED (logs: BENCH_KEEP_TMP=1)"
			fi
		done
	done
	for server in $SERVERS; do
		# any failed round fails the operation; else the median
		if [[ ${SAMPLES[$server]} == *FAILED* ]]; then
			RESULT[$server,$op]=FAILED
		else
			RESULT[$server,$op]=$(printf '%s\n' ${SAMPLES[$server]} | sort -n |
				awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
		fi
		log "$server $op rounds: ${SAMPLES[$server]}-> ${RESULT[$server,$op]}"
		[ -z "${RTD[$server]:-}" ] ||
			log "$server $op mean response time per round (ms): ${RTD[$server]}"
	done
	# Paired: each round's entims/Kamailio ratio (the two runs of a round
	# are next to each other in time, so a slow minute of the VM hits
	# both), their median, and in how many rounds entims used less.
	PAIRED[$op]=-
	if [[ " $SERVERS " == *" entims "* && " $SERVERS " == *" kamailio "* &&
		${SAMPLES[entims]} != *FAILED* && ${SAMPLES[kamailio]} != *FAILED* ]]; then
		PAIRED[$op]=$(paste <(printf '%s\n' ${SAMPLES[entims]}) \
			<(printf '%s\n' ${SAMPLES[kamailio]}) |
			awk '$2 > 0 { r[++n] = $1 / $2; if ($1 < $2) w++ }
			     END { if (!n) { print "-"; exit }
				   for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
					   if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
				   m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
				   printf "%.2f %d/%d", m, w + 0, n }')
		log "$op paired ratios (entims/kamailio per round): ${PAIRED[$op]}"
	fi
	unset SAMPLES RTD
done

printf '\n%-15s %8s %14s %16s %8s %13s\n' operation rate/s "entims us/op" "kamailio us/op" ratio "paired (won)"
for op in $OPS; do
	e=${RESULT[entims,$op]:--}
	k=${RESULT[kamailio,$op]:--}
	ratio=-
	if [[ $e =~ ^[0-9.]+$ && $k =~ ^[0-9.]+$ ]]; then
		ratio=$(awk -v e="$e" -v k="$k" 'BEGIN { if (k > 0) printf "%.2f", e / k; else print "-" }')
	fi
	printf '%-15s %8s %14s %16s %8s %13s\n' "$op" "$(rate_of "$op")" "$e" "$k" "$ratio" "${PAIRED[$op]:--}"
done
printf '\nus/op: server CPU time (scheduler runtime, all processes and threads) per completed operation,\n'
printf 'median of %s rounds, after %s s of unmeasured warm-up load;\n' "$REPEAT" "$WARMUP"
printf 'ratio < 1: entims used less CPU.  paired: median of the rounds'"'"' own ratios (the two runs\n'
printf 'of a round are next to each other in time), and the rounds in which entims used less.\n'
printf 'Server on CPU %s, sipp on CPU %s.\n' "$SERVER_CPU" "$LOAD_CPU"
printf 'entims appends bindings to its journal (under load one write() per 10 ms batch, folded into SQLite by a thread);\n'
printf 'Kamailio keeps them in memory, except in register-db (write-through, WAL,\n'
printf 'synchronous=FULL: a COMMIT and an fsync per REGISTER).\n'
printf 'The log has each round'"'"'s mean REGISTER-to-200 time as sipp measures it (whole ms).\n'
