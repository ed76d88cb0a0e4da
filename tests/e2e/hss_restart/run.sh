#!/usr/bin/env bash
# The HSS keeps its state in the store: a kill -9 and a restart change
# nothing (issue: "Registration state per IMPU ... so an HSS restart changes
# nothing"), on SQLite and on a PostgreSQL server the test starts itself.
#
# For each backend: a subscriber provisioned with the CLI; entims run with
# [core] roles = hss; a scripted S-CSCF peer (tests/e2e/tools/cxpeer.py)
# registers the user (UAR 2001 first registration, MAR with a SIP Digest
# item, SAR REGISTRATION with User-Data) and LIR names it; kill -9; a new
# entims on the same store: LIR still names the S-CSCF, UAR says 2002
# (subsequent registration); SAR USER_DEREGISTRATION; LIR then says 5003
# (identity not registered); entims stops cleanly.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
REALM=ims.test
IMPI=alice@$REALM
IMPU=sip:alice@$REALM
PGBIN=/usr/lib/postgresql/15/bin

cxpeer() {
	local name=$1
	shift
	python3 "$TOOLS/cxpeer.py" "$HSS_PORT" "scscf.$REALM" "$REALM" "$@" \
		>"$E2E_TMP/$name.out" 2>&1 ||
		fail "$name: the HSS answered otherwise (see $name.out)"
	log "ok: $name"
}

# pg_start: a private PostgreSQL on a unix socket in a fresh directory
# (initdb refuses root: the server runs as the postgres user).
pg_start() {
	[ -x "$PGBIN/initdb" ] || {
		[ -n "${CI:-}" ] && fail "PostgreSQL server binaries missing ($PGBIN)"
		skip "PostgreSQL server binaries missing (Debian: postgresql)"
	}
	PGDIR=$(mktemp -d /tmp/entims-e2e-pg.XXXXXX)
	chmod 755 "$PGDIR"
	local as=()
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$PGDIR"
		as=(runuser -u postgres --)
	fi
	PGPORT=$(free_port)
	"${as[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres \
		>"$E2E_TMP/initdb.log" 2>&1 || fail "initdb failed (see initdb.log)"
	"${as[@]}" "$PGBIN/postgres" -D "$PGDIR/data" -k "$PGDIR" -p "$PGPORT" \
		-c listen_addresses= -c fsync=off >"$E2E_TMP/postgres.log" 2>&1 </dev/null &
	PG_PID=$!
	E2E_PIDS+=("$PG_PID")
	for _ in $(seq 1 100); do
		[ -S "$PGDIR/.s.PGSQL.$PGPORT" ] && break
		sleep 0.1
	done
	[ -S "$PGDIR/.s.PGSQL.$PGPORT" ] || fail "PostgreSQL did not start (see postgres.log)"
	sleep 0.3
	log "PostgreSQL pid $PG_PID on $PGDIR port $PGPORT"
}

# Fast shutdown (SIGINT) of the postmaster itself: PG_PID may be runuser.
pg_stop() {
	local pm
	pm=$(head -1 "$PGDIR/data/postmaster.pid" 2>/dev/null || true)
	[ -n "$pm" ] && kill -INT "$pm" 2>/dev/null || true
	wait_pid "$PG_PID" 20 || fail "PostgreSQL did not stop"
	rm -rf "$PGDIR"
}

# one_backend <name> <store url>
one_backend() {
	local name=$1 url=$2
	HSS_PORT=$(free_port)
	cat >"$E2E_TMP/hss-$name.conf" <<CONF
[core]
roles = hss
[store]
url = $url
[diameter]
identity = hss.$REALM
realm = $REALM
listen = tcp:127.0.0.1:$HSS_PORT
peers = scscf.$REALM
[hss]
scscf = sip:scscf.$REALM;cap=1
CONF
	"$ENTIMS" subscriber add "alice-$name" --data-dir "$ENTIMS_DATA" \
		--store "$url" --impi "$IMPI" --impu "$IMPU" \
		--password alice-secret >>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "$name: subscriber add failed (see subscriber.log)"

	entims_launch "$(free_port)" "$E2E_TMP/hss-$name.conf"
	cxpeer "$name-register" uar "$IMPI" "$IMPU" 2001 \
		mar "$IMPI" "$IMPU" "SIP Digest" 2001 \
		sar 1 "$IMPI" "$IMPU" 2001 \
		lir "$IMPU" 2001 "sip:scscf.$REALM"
	entims_kill9

	entims_launch "$(free_port)" "$E2E_TMP/hss-$name.conf"
	cxpeer "$name-after-kill9" lir "$IMPU" 2001 "sip:scscf.$REALM" \
		uar "$IMPI" "$IMPU" 2002 \
		sar 5 "$IMPI" "$IMPU" 2001 \
		lir "$IMPU" 5003
	entims_stop
}

one_backend sqlite "sqlite:$ENTIMS_DATA/entims.db"
pg_start
one_backend postgresql "host=$PGDIR port=$PGPORT dbname=postgres user=postgres"
pg_stop
pass
