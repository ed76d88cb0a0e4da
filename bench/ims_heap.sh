#!/usr/bin/env bash
# Live heap per registered user of the standalone IMS, by allocation site:
# where bench/ims_mem.sh's KiB per user goes.
#
#   bench/ims_heap.sh [users]            (default 5,000)
#
# Builds a release binary with core/mem.c's block cache off
# (-DMEM_CACHE_TOTAL=0, so every free reaches malloc and heaptrack sees
# it) in build-heap/, runs bench/ims_mem.sh with it under heaptrack,
# kills the server with SIGKILL 42 s after the last registration (the
# completed transactions are gone by then, Timer J is 32 s), and prints
# heaptrack's "leaked" bytes, i.e. what was live at the kill, per
# registered user, by the first caller outside the allocator.  Fixed
# costs (tables, receive buffers) show as large per-user figures at a
# small user count.  Bounded: the registrations at ims_mem.sh's rate
# and limits, then one 42 s wait.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 100 ] && [ "$N" -le 200000 ] ||
	{ echo "ims_heap.sh: users must be 100..200000 (got '$N')" >&2; exit 2; }
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
	{ echo "ims_heap.sh: heaptrack not found (apt-get install heaptrack)" >&2; exit 1; }
BUILD=$ROOT/build-heap
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS="-DMEM_CACHE_TOTAL=0 -g" >/dev/null
ninja -C "$BUILD" entims >/dev/null
BIN=$BUILD/entims
OUT=$(mktemp -d /tmp/entims-heap.XXXXXX)
BENCH=
trap '[ -n "$BENCH" ] && kill "$BENCH" 2>/dev/null; rm -rf "$OUT"' EXIT

cat >"$OUT/wrap.sh" <<EOW
#!/bin/bash
if [ "\$1" = run ]; then exec heaptrack -o $OUT/ht $BIN "\$@"; fi
exec $BIN "\$@"
EOW
chmod +x "$OUT/wrap.sh"
ENTIMS=$OUT/wrap.sh BENCH_NO_BUILD=1 BENCH_MEM_USERS=$N BENCH_MEM_SETTLE=50 \
	"$ROOT/bench/ims_mem.sh" >"$OUT/run.log" 2>&1 &
BENCH=$!
for ((i = 0; i < 3600; i++)); do
	grep -q settling "$OUT/run.log" && break
	kill -0 "$BENCH" 2>/dev/null || break
	sleep 1
done
grep -q settling "$OUT/run.log" || { cat "$OUT/run.log" >&2; echo "ims_heap.sh: the registrations did not complete" >&2; exit 1; }
sleep 42
# the server heaptrack started for the run (a child of its wrapper)
pid=$(pgrep -f "^$BIN run -c .*/entims-mem/ims.conf" | head -1) ||
	{ echo "ims_heap.sh: the server is gone (see above)" >&2; exit 1; }
kill -KILL "$pid"
for ((i = 0; i < 120; i++)); do
	pgrep -f "heaptrack.*$OUT/ht" >/dev/null || break
	sleep 1
done
wait "$BENCH" 2>/dev/null || true
BENCH=
heaptrack_print -f "$OUT"/ht.* -F "$OUT/leak.stacks" --flamegraph-cost-type leaked >/dev/null 2>&1
python3 - "$OUT/leak.stacks" "$N" <<'PY'
import collections, re, sys
# the first frame outside the allocator and the libraries' own wrappers
skip = re.compile(r'^(block_get|mem_|malloc|calloc|realloc|buf_|0x|sqlite3Malloc|\?\?)')
by = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(' ')
    frames = [f for f in stack.split(';') if f]
    i = len(frames) - 1
    while i > 0 and skip.match(frames[i]):
        i -= 1
    by[frames[i]] += int(n)
users = int(sys.argv[2])
print("live heap %.1f MB at %d registered users" % (sum(by.values()) / 1e6, users))
for site, b in by.most_common(40):
    print("%8.0f B/user  %s" % (b / users, site))
PY
