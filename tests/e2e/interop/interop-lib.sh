# shellcheck shell=bash
# Helpers shared by kamailio_ims_cx, kamailio_ims_pcscf and diameter_freediameter, on top of
# tests/e2e/lib.sh (sourced first).  Foreign peers: Kamailio IMS
# (I-CSCF, S-CSCF), freeDiameter; the HSS under test is entims (or, with
# HSS_IMPL=fake, tools/fake_hss.py, to check the foreign side alone).
#
#   interop_init <entims> <sipp> <tmp>   e2e_init + interop variables
#   render <template> <out>              @PLACEHOLDER@ substitution
#   hss_conf / hss_start / hss_stop      the HSS (entims or fake)
#   wait_diameter_peers <n> <secs>       n TCP connections to the HSS up
#   kam_start <name> <cfg>               a Kamailio in the foreground
#   kam_stop <pid>...                    SIGTERM, no core, exits in 10 s
#   entims_node_start <name> <conf>      an entims run (CSCF roles), ready
#   entims_node_stop <pid> <name>        SIGTERM, must exit 0
#   wait_log / count_is                  log lines appear / are counted

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOOLS=$(cd "$INTEROP_DIR/../tools" && pwd)
HSS_IMPL=${HSS_IMPL:-entims}
SIP_DOMAIN=ims.test
HSS_PID=

interop_init() {
	e2e_init "$@"
	HSS_PORT=$(free_port)
	HSS_LOG=$E2E_TMP/hss.log
}

# render <template> <output>: replace the @NAME@ placeholders the
# templates use with the values of the shell variables of the same name
# (DIR, SIP_DOMAIN, HSS_PORT, ...); an unknown placeholder is an error.
render() {
	local in=$1 out=$2 name left
	cp "$in" "$out"
	for name in DIR SIP_DOMAIN HSS_PORT ICSCF_PORT SCSCF_PORT ICSCF_DIAM_PORT \
		SCSCF_DIAM_PORT SCSCF_URI AUTH_ALG USER_DATA_XSD CLIENT_PORT \
		CDP_XML SIP_PORT AKA_K AKA_OP AKA_AMF PCSCF_PORT; do
		[ -n "${!name+x}" ] || continue
		sed -i "s|@${name}@|${!name}|g" "$out"
	done
	left=$(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ' || true)
	[ -z "$left" ] || fail "render ${in##*/}: no value for $left"
}

# Kamailio's cdp connects to a peer by resolving its FQDN (there is no
# address attribute in the cdp XML), so hss.ims.test must resolve to
# 127.0.0.1.  Rather than touching the machine's /etc/hosts, the scenario
# runs in a private mount namespace with its own /etc/hosts bound over
# it.  Call first thing in run.sh: re-executes the script in the
# namespace (as root: unshare -m; otherwise a user namespace, unshare -rm).
interop_isolate_hosts() {
	if [ -n "${INTEROP_IN_NS:-}" ]; then
		return 0
	fi
	export INTEROP_IN_NS=1
	# INTEROP_NETNS=1: a private network namespace too (its own loopback,
	# brought up by interop_hosts), for peers that touch per-namespace
	# kernel state (Kamailio's ims_ipsec_pcscf flushes IPsec SAs and
	# policies at start).
	local o=m
	[ "${INTEROP_NETNS:-0}" != 1 ] || o=mn
	if [ "$(id -u)" -eq 0 ] && unshare -$o true 2>/dev/null; then
		exec unshare -$o bash "$0" "$@"
	elif unshare -r$o true 2>/dev/null; then
		exec unshare -r$o bash "$0" "$@"
	fi
	echo "SKIP: cannot create a namespace (unshare -$o / -r$o) for /etc/hosts" >&2
	exit 77
}

# interop_hosts <name>...: /etc/hosts of the namespace: the names on 127.0.0.1.
interop_hosts() {
	if [ "${INTEROP_NETNS:-0}" = 1 ]; then
		ip link set lo up || fail "cannot bring up lo in the network namespace"
	fi
	{
		printf '127.0.0.1\tlocalhost\n'
		printf '127.0.0.1\t%s\n' "$@"
	} >"$E2E_TMP/hosts"
	mount --bind "$E2E_TMP/hosts" /etc/hosts ||
		fail "cannot bind $E2E_TMP/hosts over /etc/hosts"
	[ "$(getent hosts "$1" | awk '{print $1}')" = 127.0.0.1 ] ||
		fail "$1 does not resolve to 127.0.0.1 in the namespace"
}

# The HSS configuration of the issue, for entims.
hss_conf() {
	cat >"$E2E_TMP/hss.conf" <<EOF
[core]
roles = hss
data_dir = $ENTIMS_DATA
[diameter]
listen = tcp:127.0.0.1:$HSS_PORT
identity = hss.$SIP_DOMAIN
realm = $SIP_DOMAIN
peers = $*
EOF
	# the S-CSCF the I-CSCF may choose (UAA Server-Capabilities/Server-Name)
	if [ -n "${SCSCF_URI:-}" ]; then
		printf '[hss]\nscscf = %s\n' "$SCSCF_URI" >>"$E2E_TMP/hss.conf"
	fi
}

# A TCP port on 127.0.0.1 is listening; wait up to <secs>.
wait_tcp_listen() {
	local port=$1 secs=$2 hex i
	hex=$(printf ':%04X ' "$port")
	for ((i = 0; i < secs * 10; i++)); do
		if grep -q "^ *[0-9]*: 0100007F${hex}[0-9A-F:]* 0A " /proc/net/tcp; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# hss_start: the HSS on 127.0.0.1:$HSS_PORT, after provision_users.
hss_start() {
	if [ "$HSS_IMPL" = fake ]; then
		python3 "$E2E_TOOLS/fake_hss.py" "$HSS_PORT" \
			"$E2E_TMP/users.json" "$HSS_LOG" >"$E2E_TMP/hss.out" 2>&1 </dev/null &
	else
		(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$E2E_TMP/hss.conf" \
			--log-level debug) >"$HSS_LOG" 2>&1 </dev/null &
	fi
	HSS_PID=$!
	E2E_PIDS+=("$HSS_PID")
	wait_tcp_listen "$HSS_PORT" 30 ||
		fail "the HSS ($HSS_IMPL) does not listen on 127.0.0.1:$HSS_PORT (see hss.log)"
	log "HSS ($HSS_IMPL) pid $HSS_PID on 127.0.0.1:$HSS_PORT"
}

# hss_stop: SIGTERM; entims must exit 0 (sanitizers, leaks), as entims_stop.
hss_stop() {
	local rc=0
	kill -0 "$HSS_PID" 2>/dev/null || fail "the HSS (pid $HSS_PID) is no longer running"
	kill -TERM "$HSS_PID"
	wait_pid "$HSS_PID" 10 || rc=$?
	if [ "$HSS_IMPL" = fake ]; then
		return 0
	fi
	[ "$rc" -ne 124 ] || fail "the HSS did not exit within 10 s of SIGTERM"
	[ "$rc" -eq 0 ] || fail "the HSS exited with status $rc after SIGTERM"
	log "HSS stopped cleanly"
}

# wait_diameter_peers <n> <secs>: n established TCP connections towards
# 127.0.0.1:$HSS_PORT (the peers connected; CER/CEA is checked by the
# peers' own logs, a refused CER closes the connection again).
wait_diameter_peers() {
	local n=$1 secs=$2 hex i c
	hex=$(printf '0100007F:%04X 01 ' "$HSS_PORT")
	for ((i = 0; i < secs * 10; i++)); do
		c=$(grep -c " $hex" /proc/net/tcp || true)
		if [ "$c" -ge "$n" ]; then
			sleep 1 # let CER/CEA finish
			c=$(grep -c " $hex" /proc/net/tcp || true)
			[ "$c" -ge "$n" ] && return 0
		fi
		sleep 0.1
	done
	fail "only $c of $n Diameter peers connected to the HSS within $secs s"
}

# kam_start <name> <cfg>: Kamailio in the foreground (-DD -E), its own
# runtime dir and pid file; sets KAM_PID.
kam_start() {
	local name=$1 cfg=$2
	mkdir -p "$E2E_TMP/run-$name"
	kamailio -c -f "$cfg" -Y "$E2E_TMP/run-$name" >"$E2E_TMP/$name-check.log" 2>&1 ||
		fail "kamailio -c rejects $name config (see $name-check.log)"
	kamailio -DD -E -f "$cfg" -Y "$E2E_TMP/run-$name" \
		-P "$E2E_TMP/run-$name/kamailio.pid" -w "$E2E_TMP" -m 64 -M 8 \
		>"$E2E_TMP/$name.log" 2>&1 </dev/null &
	KAM_PID=$!
	E2E_PIDS+=("$KAM_PID")
	sleep 1
	kill -0 "$KAM_PID" 2>/dev/null || fail "kamailio $name exited at start (see $name.log)"
	log "kamailio $name pid $KAM_PID"
}

# kam_stop <pid>...: each Kamailio is still alive, left no core in the
# temp dir (its working dir) and stops within 10 s of SIGTERM.
kam_stop() {
	local pid rc
	for pid in "$@"; do
		kill -0 "$pid" 2>/dev/null || fail "a Kamailio (pid $pid) died during the test"
	done
	if compgen -G "$E2E_TMP/core*" >/dev/null; then
		fail "a Kamailio process dumped core in $E2E_TMP"
	fi
	for pid in "$@"; do
		kill -TERM "$pid"
		rc=0
		wait_pid "$pid" 10 || rc=$?
		[ "$rc" -ne 124 ] || fail "kamailio pid $pid did not stop within 10 s of SIGTERM"
	done
}

# entims_node_start <name> <conf> [entims run options...]: `entims run -c
# <conf>` logging to <name>.log until it prints "entims ready" (30 s);
# sets NODE_PID.
entims_node_start() {
	local name=$1 conf=$2 i
	shift 2
	(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$conf" --log-level debug "$@") \
		>"$E2E_TMP/$name.log" 2>&1 </dev/null &
	NODE_PID=$!
	E2E_PIDS+=("$NODE_PID")
	for ((i = 0; i < 300; i++)); do
		if grep -q '^entims ready' "$E2E_TMP/$name.log" 2>/dev/null; then
			log "entims $name pid $NODE_PID ready"
			return 0
		fi
		kill -0 "$NODE_PID" 2>/dev/null ||
			fail "entims $name exited before it was ready (see $name.log)"
		sleep 0.1
	done
	fail "entims $name not ready after 30 s (see $name.log)"
}

# entims_node_stop <pid> <name>: SIGTERM; must exit 0 within 10 s (the
# sanitizers' leak check runs at exit).
entims_node_stop() {
	local rc=0
	kill -0 "$1" 2>/dev/null || fail "entims $2 (pid $1) is no longer running"
	kill -TERM "$1"
	wait_pid "$1" 10 || rc=$?
	[ "$rc" -ne 124 ] || fail "entims $2 did not exit within 10 s of SIGTERM"
	[ "$rc" -eq 0 ] || fail "entims $2 exited with status $rc after SIGTERM (see $2.log)"
	log "entims $2 stopped cleanly"
}

# wait_log <file> <ERE> <secs>: a line matching appears within <secs>.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# count_is <what> <file> <ERE> <n>: exactly n lines match.
count_is() {
	local c
	c=$(grep -cE -- "$3" "$2" || true)
	[ "$c" -eq "$4" ] || fail "$1: $c lines match '$3' in ${2##*/}, expected $4"
	log "ok: $1 ($c)"
}
