# shellcheck shell=bash
# Helpers every benchmark script shares (sourced): logging, its temp dir
# and the servers it started (cleaned up at exit), waiting for a PID,
# free loopback ports, a SIP liveness probe, CPU accounting of a process
# tree and sipp's statistics file.
#
#   bench_init <tmp-prefix> <log-tag>   before anything else
#
# PIDS holds the PIDs the script started: only those are signalled.  A
# script with more to undo at exit defines bench_cleanup_hook.

# wait_pid, free_port
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/proc.sh"

bench_init() {
	PIDS=()
	TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	BENCH_TAG=$2
	trap bench_cleanup EXIT
}

log() {
	printf '[%s %s] %s\n' "$BENCH_TAG" "$(date +%T)" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

bench_cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	if declare -F bench_cleanup_hook >/dev/null; then
		bench_cleanup_hook
	fi
	if [ -z "${BENCH_KEEP_TMP:-}" ]; then
		rm -rf "$TMP"
	else
		log "logs kept in $TMP"
	fi
}



# sip_ping <port> <secs>: an OPTIONS to sip:ping@$DOMAIN at 127.0.0.1:<port>
# gets a final response within <secs>.
sip_ping() {
	python3 - "$1" "$2" "$DOMAIN" <<'PY'
import socket, sys, time
port, secs, dom = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
s.settimeout(0.3)
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    n += 1
    msg = ("OPTIONS sip:ping@%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ping-%d;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:ping@%s>;tag=p%d\r\n"
           "To: <sip:ping@%s>\r\nCall-ID: ping-%d-%d@127.0.0.1\r\nCSeq: %d OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n") % (dom, me, n, dom, n, dom, me, n, n)
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        while True:
            data, _ = s.recvfrom(65535)
            if data.startswith(b"SIP/2.0 ") and not data.startswith(b"SIP/2.0 1"):
                sys.exit(0)
    except (socket.timeout, ConnectionRefusedError):
        pass
sys.exit(1)
PY
}

# The PID and every descendant.
proc_tree() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		proc_tree "$c"
	done
}

# utime + stime, in clock ticks, of a process tree (all threads included).
cpu_ticks() {
	local total=0 p t
	for p in $(proc_tree "$1"); do
		# fields after "pid (comm) ": state is $1, utime $12, stime $13
		t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

# On-CPU time in ns of a process tree (all threads), from the scheduler's
# own runtime (first field of /proc/PID/task/TID/schedstat): exact where
# utime + stime is sampled.  Prints nothing when the kernel has no
# schedstat (CONFIG_SCHED_INFO off): callers fall back to cpu_ticks.
cpu_ns() {
	local p f
	[ -r /proc/self/schedstat ] || return 0
	for p in $(proc_tree "$1"); do
		for f in /proc/"$p"/task/*/schedstat; do
			[ -r "$f" ] && cat "$f" 2>/dev/null
		done
	done | awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# sipp_stat <csv> <column>...: the columns' values at the end of the run,
# space-separated, in the order asked; -1 for a column (or a file) that
# is not there.
sipp_stat() {
	python3 - "$@" <<'PY'
import sys
cols = sys.argv[2:]
try:
    lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
    head, last = lines[0].split(";"), lines[-1].split(";")
except (OSError, IndexError):
    head, last = [], []
vals = []
for c in cols:
    try:
        vals.append(last[head.index(c)])
    except (IndexError, ValueError):
        vals.append("-1")
print(" ".join(vals))
PY
}
