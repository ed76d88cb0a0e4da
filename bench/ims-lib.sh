# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the scripts sourcing this
# Helpers of bench/ims.sh and bench/ims_mem.sh (sourced): the two IMS
# systems under test, their subscribers, and CPU/memory accounting.
#
#   entims    `entims run` with roles pcscf, icscf, scscf, hss in one
#             process (data/ims-standalone.conf on free ports), SQLite
#             store in the run's temp dir
#   kamailio  Kamailio 5.6 P-, I- and S-CSCF (bench/kamailio/ims/*.in) and
#             an entims `roles = hss` process as their HSS (Diameter TCP)
#
# Every server is started by PID and only those PIDs are signalled; all
# listen on 127.0.0.1 only.  Servers run on SERVER_CPU, sipp on LOAD_CPU.

DOMAIN=ims.test
SERVER_CPU=0
LOAD_CPU=1
HZ=$(getconf CLK_TCK)
ENTIMS=${ENTIMS:-$ROOT/build-release/entims}
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
KAMCFG=$ROOT/bench/kamailio/ims
SIPPDIR=$ROOT/bench/sipp
KAM_SHM=${BENCH_KAM_SHM:-256}
KAM_PKG=${BENCH_KAM_PKG:-16}
# entims log level (debug slows it down: for finding a failure, not measuring)
LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}

. "$ROOT/bench/common.sh"
bench_init entims-imsbench ims-bench

# Undone at exit, after the servers are signalled (bench/common.sh).
bench_cleanup_hook() {
	if [ -n "${HOSTS_BOUND:-}" ]; then
		umount /etc/hosts 2>/dev/null || true
	fi
}

# bench_prereq "<servers>": tools, binaries, CPUs; builds the release
# preset unless BENCH_NO_BUILD is set.
bench_prereq() {
	local t m
	[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (servers on CPU 0, load on CPU 1)"
	for t in sipp taskset python3; do
		command -v "$t" >/dev/null 2>&1 || die "$t not found (scripts/install-deps)"
	done
	if [ -z "${BENCH_NO_BUILD:-}" ]; then
		log "building the release preset"
		cmake --preset release >/dev/null
		cmake --build build-release >/dev/null
	fi
	[ -x "$ENTIMS" ] || die "no entims binary at $ENTIMS"
	if [[ " $1 " == *" kamailio "* ]]; then
		[ -x "$KAMAILIO" ] || die "no kamailio at $KAMAILIO (Debian: kamailio)"
		command -v sqlite3 >/dev/null || die "sqlite3 not found (Debian: sqlite3)"
		for m in cdp cdp_avp ims_icscf ims_auth ims_isc ims_registrar_scscf \
			ims_usrloc_scscf ims_registrar_pcscf ims_usrloc_pcscf \
			ims_dialog db_sqlite presence; do
			[ -f "/usr/lib/x86_64-linux-gnu/kamailio/modules/$m.so" ] ||
				die "kamailio module $m missing (Debian: kamailio-ims-modules, kamailio-sqlite-modules, kamailio-presence-modules)"
		done
	fi
}

# interop_hosts <name>...: this namespace's /etc/hosts names them 127.0.0.1
interop_hosts() {
	[ -n "${BENCH_IN_NS:-}" ] || die "interop_hosts outside the mount namespace"
	{
		printf '127.0.0.1\tlocalhost\n'
		printf '127.0.0.1\t%s\n' "$@"
	} >"$TMP/hosts"
	mount --bind "$TMP/hosts" /etc/hosts || die "cannot bind $TMP/hosts over /etc/hosts"
	HOSTS_BOUND=1
	[ "$(getent hosts "$1" | awk '{print $1}')" = 127.0.0.1 ] ||
		die "$1 does not resolve to 127.0.0.1 in the namespace"
}

# wait_tcp_listen <port> <secs>
wait_tcp_listen() {
	local hex i
	hex=$(printf ':%04X ' "$1")
	for ((i = 0; i < $2 * 10; i++)); do
		grep -q "^ *[0-9]*: 0100007F${hex}[0-9A-F:]* 0A " /proc/net/tcp && return 0
		sleep 0.1
	done
	return 1
}

# wait_diameter_peers <port> <n> <secs>: n established connections to it
wait_diameter_peers() {
	local hex i c=0
	hex=$(printf '0100007F:%04X 01 ' "$1")
	for ((i = 0; i < $3 * 10; i++)); do
		c=$(grep -c " $hex" /proc/net/tcp || true)
		if [ "$c" -ge "$2" ]; then
			sleep 1 # CER/CEA
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# in_range <name> <value> <min> <max>: an integer within the bounds
in_range() {
	[[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] && return 0
	die "$1 must be an integer from $3 to $4 (is '$2')"
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# ---- subscribers -------------------------------------------------------------

# gen_subscribers <out.json> <n> <pairs>: r000000.. (n users) and the call
# users ca0/cb0.. (<pairs> each); IMPI <user>@DOMAIN, IMPU
# sip:<user>@DOMAIN, SIP Digest MD5 with password pw-<user> (HA1 given,
# as an export carries it), service profile sp-bench.
gen_subscribers() {
	python3 - "$1" "$2" "$3" "$DOMAIN" <<'PY'
import hashlib, json, sys
out, n, pairs, dom = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
users = ["r%06d" % i for i in range(n)]
users += ["ca%d" % i for i in range(pairs)] + ["cb%d" % i for i in range(pairs)]
with open(out, "w") as f:
    f.write("[\n")
    for k, u in enumerate(users):
        impi, impu = "%s@%s" % (u, dom), "sip:%s@%s" % (u, dom)
        a1 = ("%s:%s:pw-%s" % (impi, dom, u)).encode()
        doc = {"name": u,
               "impi": [{"identity": impi, "schemes": ["digest-md5"],
                         "ha1": [{"realm": dom, "md5": hashlib.md5(a1).hexdigest(),
                                  "sha256": hashlib.sha256(a1).hexdigest()}],
                         "impu": [impu]}],
               "impu": [{"identity": impu, "service_profile": "sp-bench"}]}
        f.write(("," if k else "") + json.dumps(doc, separators=(",", ":")) + "\n")
    f.write("]\n")
PY
}

# provision <data dir> <subscribers.json>: the service profile sp-bench
# (an originating and a terminating iFC, both on MESSAGE only: evaluated
# for every INVITE, never matching) and the subscribers, in one store
provision() {
	local d=$1 l=$TMP/provision.log
	mkdir -p "$d"
	"$ENTIMS" ifc add bench-orig -d "$d" --priority 1 --as sip:127.0.0.1:9 \
		--method MESSAGE --session-case originating >>"$l" 2>&1 ||
		die "ifc add (see $l)"
	"$ENTIMS" ifc add bench-term -d "$d" --priority 2 --as sip:127.0.0.1:9 \
		--method MESSAGE --session-case terminating_registered >>"$l" 2>&1 ||
		die "ifc add (see $l)"
	"$ENTIMS" profile add sp-bench -d "$d" --ifc bench-orig --ifc bench-term \
		>>"$l" 2>&1 || die "profile add (see $l)"
	"$ENTIMS" subscriber import "$2" -d "$d" >>"$l" 2>&1 ||
		die "subscriber import (see $l)"
}

# ---- sipp -------------------------------------------------------------------

# reg_csv <file> <first> <count> <instance>: the users of one sipp instance
# (every INSTANCES-th from <first>) with their [authentication] keyword
# (sipp 3.6 expands a whole [authentication ...] taken from a CSV field,
# but no field inside one).
reg_csv() {
	python3 - "$@" "$INSTANCES" "$DOMAIN" <<'PY'
import sys
out, first, count, inst, n, dom = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
with open(out, "w") as f:
    f.write("SEQUENTIAL\n")
    for i in range(first + inst, first + count, n):
        u = "r%06d" % i
        f.write("%s;[authentication username=%s@%s password=pw-%s]\n" % (u, u, dom, u))
PY
}

# sipp_load <tag> <sipp args...>: one sipp instance in the background on
# the load CPU; sets SIPP_PID.  Its statistics go to $TMP/<tag>.csv.
sipp_load() {
	local tag=$1
	shift
	taskset -c "$LOAD_CPU" sipp "$@" -nostdin -i 127.0.0.1 -fd 1 \
		-trace_stat -stf "$TMP/$tag.csv" -trace_err \
		-error_file "$TMP/$tag.err" \
		>"$TMP/$tag.out" 2>&1 </dev/null &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
}

# sipp_check <tag> <expected>: the instance completed exactly <expected>
# calls and failed none; adds to OK and FAILED.
sipp_check() {
	local s f
	s=$(sipp_stat "$TMP/$1.csv" 'SuccessfulCall(C)')
	f=$(sipp_stat "$TMP/$1.csv" 'FailedCall(C)')
	[ "$s" -ge 0 ] || s=0
	[ "$f" -ge 0 ] || f=$2
	if [ "$s" -ne "$2" ] && [ "$f" -eq 0 ]; then
		f=$(($2 - s))
	fi
	OK=$((OK + s))
	FAILED=$((FAILED + f))
	[ "$f" -eq 0 ] || log "$1: $s ok, $f failed (see $1.err, $1.out)"
}

# register_one <tag> <user> <port>: one registration from that port, kept
register_one() {
	local rc=0
	printf 'SEQUENTIAL\n%s;[authentication username=%s@%s password=pw-%s]\n' \
		"$2" "$2" "$DOMAIN" "$2" >"$TMP/$1.users.csv"
	taskset -c "$LOAD_CPU" sipp "127.0.0.1:$P_PORT" -sf "$SIPPDIR/ims_reg.xml" \
		-inf "$TMP/$1.users.csv" -key domain "$DOMAIN" -auth_uri "$DOMAIN" \
		-p "$3" -m 1 -nostdin -i 127.0.0.1 -timeout 20 -timeout_error \
		-recv_timeout 10000 >"$TMP/$1.out" 2>&1 </dev/null || rc=$?
	[ "$rc" -eq 0 ] || die "$2 could not register (see $TMP/$1.out; BENCH_KEEP_TMP=1)"
}

# ---- the servers ------------------------------------------------------------
# SRV: name -> PID of every server process of the system under test

declare -A SRV=()

# entims_ready <log> <pid>
entims_ready() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q '^entims ready' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || die "entims exited: $(tail -5 "$1")"
		sleep 0.1
	done
	die "entims not ready after 60 s ($1)"
}

# start_entims <tag>: the standalone IMS; sets P_PORT
start_entims() {
	local tag=$1 d=$TMP/entims-$1 pid
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
	(cd "$d" && exec taskset -c "$SERVER_CPU" "$ENTIMS" run -c "$d/ims.conf" \
		--data-dir "$d/data" --log-level "$LOG_LEVEL") >"$d/entims.log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	SRV=([entims]=$pid)
	ENTIMS_DATA=$d/data
	entims_ready "$d/entims.log" "$pid"
	log "entims pid $pid: P-CSCF 127.0.0.1:$P_PORT, I-CSCF $I_PORT, S-CSCF $S_PORT"
}

# render <template> <out>: @NAME@ -> value of the shell variable NAME
render() {
	local name left
	cp "$1" "$2"
	for name in DIR SIP_DOMAIN HSS_PORT PCSCF_PORT ICSCF_PORT SCSCF_PORT \
		ICSCF_DIAM_PORT SCSCF_DIAM_PORT SCSCF_URI; do
		[ -n "${!name+x}" ] || continue
		sed -i "s|@${name}@|${!name}|g" "$2"
	done
	left=$(grep -o '@[A-Z_]*@' "$2" | sort -u | tr '\n' ' ' || true)
	[ -z "$left" ] || die "render ${1##*/}: no value for $left"
}

# kam_start <name> <cfg> <dir>: one Kamailio instance on the server CPU
kam_start() {
	local pid
	mkdir -p "$3/run-$1"
	taskset -c "$SERVER_CPU" "$KAMAILIO" -DD -E -x tlsf -m "$KAM_SHM" -M "$KAM_PKG" \
		-f "$2" -Y "$3/run-$1" -w "$3" >"$3/$1.log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	SRV[$1]=$pid
	sleep 0.5
	kill -0 "$pid" 2>/dev/null || die "kamailio $1 exited at start: $(tail -5 "$3/$1.log")"
}

# start_kamailio <tag>: the entims HSS, Kamailio's I-, S-, P-CSCF; sets
# P_PORT (the phones' entry point)
start_kamailio() {
	local DIR=$TMP/kamailio-$1 SIP_DOMAIN=$DOMAIN HSS_PORT PCSCF_PORT ICSCF_PORT \
		SCSCF_PORT ICSCF_DIAM_PORT SCSCF_DIAM_PORT SCSCF_URI f pid
	HSS_PORT=$(free_port)
	PCSCF_PORT=$(free_port)
	ICSCF_PORT=$(free_port)
	SCSCF_PORT=$(free_port)
	ICSCF_DIAM_PORT=$(free_port)
	SCSCF_DIAM_PORT=$(free_port)
	SCSCF_URI=sip:127.0.0.1:$SCSCF_PORT
	mkdir -p "$DIR"
	for f in pcscf.cfg icscf.cfg icscf.xml scscf.cfg scscf.xml icscf.sql; do
		render "$KAMCFG/$f.in" "$DIR/$f"
	done
	if [ -n "${BENCH_KAM_DEBUG:-}" ]; then
		# Kamailio's log level (3: debug), for finding a failure
		sed -i "s/^debug=0$/debug=$BENCH_KAM_DEBUG/" "$DIR"/*.cfg
	fi
	sqlite3 "$DIR/icscf.sqlite" <"$DIR/icscf.sql" || die "I-CSCF database"
	cat /usr/share/kamailio/db_sqlite/standard-create.sql \
		/usr/share/kamailio/db_sqlite/presence-create.sql |
		sqlite3 "$DIR/scscf-presence.sqlite" || die "S-CSCF presence database"
	cat >"$DIR/hss.conf" <<EOF
[core]
roles = hss
[diameter]
listen = tcp:127.0.0.1:$HSS_PORT
identity = hss.$DOMAIN
realm = $DOMAIN
peers = icscf.$DOMAIN, scscf.$DOMAIN
[hss]
scscf = $SCSCF_URI
EOF
	provision "$DIR/hss" "$TMP/subscribers.json"
	ENTIMS_DATA=$DIR/hss
	(cd "$DIR" && exec taskset -c "$SERVER_CPU" "$ENTIMS" run -c "$DIR/hss.conf" \
		--data-dir "$DIR/hss" --log-level "$LOG_LEVEL") >"$DIR/hss.log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	SRV=([hss]=$pid)
	entims_ready "$DIR/hss.log" "$pid"
	wait_tcp_listen "$HSS_PORT" 30 || die "the HSS does not listen on $HSS_PORT"
	kam_start icscf "$DIR/icscf.cfg" "$DIR"
	kam_start scscf "$DIR/scscf.cfg" "$DIR"
	kam_start pcscf "$DIR/pcscf.cfg" "$DIR"
	wait_diameter_peers "$HSS_PORT" 2 30 ||
		die "the I- and S-CSCF did not connect to the HSS (see $DIR/*.log)"
	for f in "$PCSCF_PORT" "$ICSCF_PORT" "$SCSCF_PORT"; do
		sip_ping "$f" 30 || die "no SIP answer on 127.0.0.1:$f (see $DIR/*.log)"
	done
	P_PORT=$PCSCF_PORT
	KAM_DIR=$DIR
	log "kamailio: P-CSCF pid ${SRV[pcscf]} :$PCSCF_PORT, I-CSCF ${SRV[icscf]} :$ICSCF_PORT, S-CSCF ${SRV[scscf]} :$SCSCF_PORT, HSS ${SRV[hss]} :$HSS_PORT"
}

# servers_alive: every server process of the run is still there
servers_alive() {
	local n ok=0
	for n in "${!SRV[@]}"; do
		kill -0 "${SRV[$n]}" 2>/dev/null || {
			log "server $n (pid ${SRV[$n]}) died"
			ok=1
		}
	done
	return "$ok"
}

stop_servers() {
	local n
	for n in "${!SRV[@]}"; do
		kill -TERM "${SRV[$n]}" 2>/dev/null || true
	done
	for n in "${!SRV[@]}"; do
		wait_pid "${SRV[$n]}" 15 || true
	done
}
stop_entims() { stop_servers; }
stop_kamailio() { stop_servers; }

# ---- accounting ---------------------------------------------------------------

# cpu_snapshot <T0|T1>: the ticks of every server now
declare -A T0=() T1=()
cpu_snapshot() {
	local n
	for n in "${!SRV[@]}"; do
		if [ "$1" = T0 ]; then
			T0[$n]=$(cpu_ticks "${SRV[$n]}")
		else
			T1[$n]=$(cpu_ticks "${SRV[$n]}")
		fi
	done
}

# cpu_us_per_op <ops> <all|cscf>: µs of CPU per operation, all servers or
# all but the HSS process
cpu_us_per_op() {
	local n t=0
	for n in "${!SRV[@]}"; do
		[ "$2" = cscf ] && [ "$n" = hss ] && continue
		t=$((t + ${T1[$n]} - ${T0[$n]}))
	done
	awk -v t="$t" -v hz="$HZ" -v n="$1" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'
}

# cpu_breakdown <ops>: "name us ..." per server process
cpu_breakdown() {
	local n out=
	for n in pcscf icscf scscf hss entims; do
		[ -n "${SRV[$n]:-}" ] || continue
		out+="$n $(awk -v t="$((${T1[$n]} - ${T0[$n]}))" -v hz="$HZ" -v n="$1" \
			'BEGIN { printf "%.1f", t * 1e6 / hz / n }') "
	done
	echo "${out% }"
}

# vm_rss_kib <pid>: resident set of a process tree, KiB (VmRSS summed;
# Kamailio's shared memory segment is counted once per process that
# touched it, so for Kamailio pss_kib is the figure to use)
vm_rss_kib() {
	local total=0 p v
	for p in $(proc_tree "$1"); do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# pss_kib <pid>: proportional set size of a process tree, KiB (shared pages
# split between the processes sharing them: Kamailio's shared memory
# segment counts once over its processes)
pss_kib() {
	local total=0 p v
	for p in $(proc_tree "$1"); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
		total=$((total + ${v:-0}))
	done
	echo "$total"
}
