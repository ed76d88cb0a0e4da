#!/usr/bin/env bash
# Instructions the standalone IMS (P-, I-, S-CSCF and HSS in one process)
# spends per full IMS registration and per call, counted by callgrind, with
# the functions that cost the most: a repeatable figure and a profile,
# where bench/ims.sh's CPU times vary with the machine's load.
#
#   bench/ims_callgrind.sh [ims-register|ims-call]...   (default: both)
#
# entims (release build, data/ims-standalone.conf on free ports) runs
# under valgrind; the counters are dumped and zeroed (callgrind_control -d) once it is
# ready -- and for ims-call once the two phones registered -- so start-up,
# provisioning and the set-up registrations are left out; sipp then sends
# N operations at a low rate (valgrind runs the server some 50 times
# slower).  Collected: the event loop (--toggle-collect=loop_poll, as
# bench/callgrind.sh), so the SQLite writer thread's batched commits are
# not in the figure.  Printed: inclusive instructions of loop_poll per
# operation and the top functions by their own (exclusive) instructions
# per operation.  Loops are bounded: N operations, every wait has a limit.
#
# Environment: CG_REG [200] registrations, CG_CALLS [100] calls, CG_RATE
# [5] operations/s, CG_TOP [15] functions listed, BENCH_NO_BUILD,
# BENCH_KEEP_TMP (keeps the callgrind.out files for callgrind_annotate),
# ENTIMS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. "$ROOT/bench/ims-lib.sh"

OPS=${*:-ims-register ims-call}
NREG=${CG_REG:-200}
NCALLS=${CG_CALLS:-100}
RATE=${CG_RATE:-5}
TOP=${CG_TOP:-15}
INSTANCES=1
in_range CG_REG "$NREG" 1 100000
in_range CG_CALLS "$NCALLS" 1 100000
in_range CG_RATE "$RATE" 1 1000
in_range CG_TOP "$TOP" 1 100
for op in $OPS; do
	case $op in
	ims-register | ims-call) ;;
	*) die "unknown operation $op" ;;
	esac
done
for t in valgrind callgrind_annotate callgrind_control; do
	command -v "$t" >/dev/null || die "$t not found (Debian: valgrind)"
done
bench_prereq entims
gen_subscribers "$TMP/subscribers.json" "$NREG" 1

# cg_start <op>: entims under callgrind; sets CG_PID, P_PORT, CG_OUT
cg_start() {
	local d=$TMP/cg-$1 i
	P_PORT=$(free_port)
	I_PORT=$(free_port)
	S_PORT=$(free_port)
	mkdir -p "$d"
	sed -e "s/127\.0\.0\.1:5060/127.0.0.1:$P_PORT/g" \
		-e "s/127\.0\.0\.1:5070/127.0.0.1:$I_PORT/g" \
		-e "s/127\.0\.0\.1:5080/127.0.0.1:$S_PORT/g" \
		-e '/^data_dir/d' "$ROOT/data/ims-standalone.conf" >"$d/ims.conf" ||
		die "cannot render data/ims-standalone.conf"
	provision "$d/data" "$TMP/subscribers.json"
	CG_OUT=$d/callgrind.out
	(cd "$d" && exec valgrind --tool=callgrind --toggle-collect=loop_poll \
		--callgrind-out-file="$CG_OUT" "$ENTIMS" run -c "$d/ims.conf" \
		--data-dir "$d/data" --log-level warn) >"$d/entims.log" 2>&1 </dev/null &
	CG_PID=$!
	PIDS+=("$CG_PID")
	for ((i = 0; i < 1200; i++)); do
		grep -q '^entims ready' "$d/entims.log" 2>/dev/null && return 0
		kill -0 "$CG_PID" 2>/dev/null || die "entims under valgrind exited: $(tail -5 "$d/entims.log")"
		sleep 0.1
	done
	die "entims under valgrind not ready after 120 s"
}

# cg_zero: dump what was counted so far (start-up, set-up) to a file of
# its own; callgrind zeroes its counters after a dump, so the profile
# written at exit holds only what follows.  (callgrind_control -z leaves
# the exclusive costs attributed to the outermost frame.)
cg_zero() {
	callgrind_control -d "$CG_PID" >/dev/null 2>&1 || die "callgrind_control -d $CG_PID failed"
}

# cg_report <op> <n>: stop entims, print its counts per operation
cg_report() {
	local op=$1 n=$2 total
	kill -TERM "$CG_PID"
	wait_pid "$CG_PID" 120 || true
	[ -s "$CG_OUT" ] || die "no callgrind output for $op"
	total=$(callgrind_annotate --inclusive=yes "$CG_OUT" 2>/dev/null |
		grep 'loop.c:loop_poll ' | awk 'NR==1 { gsub(",", "", $1); print $1 }')
	[ -n "$total" ] || die "$op: loop_poll not in the profile"
	printf '\n%s: %d operations, %d instructions per operation (loop_poll inclusive)\n' \
		"$op" "$n" $((total / n))
	printf '%14s %6s  %s\n' "instr/op" "%" "function (exclusive: its own instructions)"
	cg_exclusive "$CG_OUT" "$n" "$TOP"
	printf '%14s %6s  %s\n' "instr/op" "%" "entims function (inclusive: with its callees)"
	callgrind_annotate --inclusive=yes --threshold=100 "$CG_OUT" 2>/dev/null |
		awk -v n="$n" -v top="$TOP" -v t="$total" '
		$1 ~ /^[0-9,]+$/ && /\/src\// && !/:(main|loop_run|loop_poll) / && shown < top {
			v = $1; gsub(",", "", v)
			f = $0; sub(/^ *[0-9,]+ *(\([^)]*\))? */, "", f)
			sub(/ \[.*\]$/, "", f); sub(/^.*\/src\//, "src/", f)
			printf "%14d %5.1f%%  %s\n", v / n, 100 * v / t, f
			shown++
		}'
}

# cg_exclusive <callgrind.out> <n> <top>: the functions with the most
# instructions of their own, per operation.  Read from the profile itself:
# callgrind_annotate 3.19 --inclusive=no puts everything on the outermost
# frame of a --toggle-collect profile.  Format: valgrind's callgrind
# format spec (fn= blocks of "position cost" lines; the line after a
# calls= line is the call's inclusive cost, not the caller's own).
cg_exclusive() {
	python3 - "$@" <<'PY'
import collections, sys
names = {}
def name(spec):
    spec = spec.strip()
    if spec.startswith("("):
        key, rest = spec[:spec.index(")") + 1], spec[spec.index(")") + 1:].strip()
        if rest:
            names[key] = rest
        return names.get(key, key)
    return spec
excl = collections.Counter()
fn, skip = None, False
with open(sys.argv[1]) as f:
    for line in f:
        if line.startswith("fn="):
            fn = name(line[3:])
        elif line.startswith("cfn="):
            name(line[4:])
        elif line.startswith("calls="):
            skip = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip:
                skip = False
                continue
            parts = line.split()
            if fn is not None and len(parts) >= 2:
                excl[fn] += int(parts[-1])
n, top = int(sys.argv[2]), int(sys.argv[3])
total = sum(excl.values()) or 1
for fn, v in excl.most_common(top):
    print("%14d %5.1f%%  %s" % (v // n, 100.0 * v / total, fn))
PY
}

for op in $OPS; do
	log "$op under callgrind"
	cg_start "$op"
	case $op in
	ims-register)
		reg_csv "$TMP/cg-reg.csv" 0 "$NREG" 0
		cg_zero
		rc=0
		timeout $((NREG * 3 / RATE + 120)) sipp "127.0.0.1:$P_PORT" \
			-sf "$SIPPDIR/ims_reg.xml" -inf "$TMP/cg-reg.csv" -key domain "$DOMAIN" \
			-auth_uri "$DOMAIN" -i 127.0.0.1 -p "$(free_port)" -r "$RATE" \
			-m "$NREG" -nostdin -timeout_error -timeout $((NREG * 3 / RATE + 60)) \
			-trace_err -error_file "$TMP/cg-reg.err" >"$TMP/cg-reg.out" 2>&1 ||
			rc=$?
		[ "$rc" -eq 0 ] || die "$op: sipp reported failures ($rc, see $TMP/cg-reg.err)"
		sleep 2
		cg_report "$op" "$NREG"
		;;
	ims-call)
		ap=$(free_port)
		bp=$(free_port)
		register_one cg-ca0 ca0 "$ap"
		register_one cg-cb0 cb0 "$bp"
		sipp_load cg-uas -sf "$SIPPDIR/call_uas.xml" -p "$bp"
		uas=$SIPP_PID
		sleep 1
		cg_zero
		rc=0
		timeout $((NCALLS * 3 / RATE + 120)) sipp "127.0.0.1:$P_PORT" \
			-sf "$SIPPDIR/ims_call_uac.xml" -s cb0 -key user ca0 -key domain "$DOMAIN" \
			-i 127.0.0.1 -p "$ap" -r "$RATE" -m "$NCALLS" -nostdin -timeout_error \
			-timeout $((NCALLS * 3 / RATE + 60)) -trace_err \
			-error_file "$TMP/cg-call.err" >"$TMP/cg-call.out" 2>&1 || rc=$?
		kill -USR1 "$uas" 2>/dev/null || true
		wait_pid "$uas" 10 || true
		[ "$rc" -eq 0 ] || die "$op: sipp reported failures ($rc, see $TMP/cg-call.err)"
		sleep 2
		cg_report "$op" "$NCALLS"
		;;
	esac
done
