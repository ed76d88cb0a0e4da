# shellcheck shell=bash
# Process and port helpers shared by the end-to-end tests
# (tests/e2e/lib.sh) and the benchmarks (bench/common.sh); sourced.

# wait_pid <pid> <seconds>: wait for a PID the script started; past the
# limit it is sent TERM, then KILL, and 124 is returned.  Otherwise its
# exit status.  Prints nothing.
wait_pid() {
	local pid=$1 secs=$2 i rc
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	set +e
	wait "$pid"
	rc=$?
	set -e
	return "$rc"
}

# free_port: a loopback port free for both TCP and UDP right now (SIP
# listens on both): the kernel's pick, bound, read and released.  Two calls
# may, rarely, give the same port: a caller that needs two distinct ones
# compares them.  Fails after 100 tries.
free_port() {
	python3 - <<'PY'
import socket, sys
host = "127.0.0.1"
for _ in range(100):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind((host, 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind((host, port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")
PY
}
