#!/usr/bin/env bash
# The standalone enterprise IMS as `entims run` brings it up with no
# [core] roles (docs/internals/standalone.md): the P-, I-, S-CSCF and the
# HSS in one process, a demo enterprise provisioned on first start.  The
# configuration file only moves the ports off 5060/5070/5080.
#   1. first start: the demo table (alice, bob, carol, dave; 1001..1004;
#      passwords); carol registers over TLS (tls_register.py); bob registers through P/I/S with his printed password,
#      a sipp UAS answers as bob; alice registers and dials 1002, bob's
#      extension: the call reaches bob (implicit registration set) with
#      alice's P-Asserted-Identity; SIGTERM exits 0
#   2. restart: the same users and passwords, nothing provisioned again;
#      alice registers with the same password; kill -9
#   3. restart after the crash: four subscribers, same table; SIGTERM
#   4. the administrator deletes dave and changes bob's password: the
#      restart provisions nothing (dave stays deleted), shows bob without
#      the stale password
#   5. a first start cut short (password file written, one subscription
#      added): the next start adds the rest with the same passwords
#   6. a store the administrator filled before the first start: no demo
#   7. --listen on another address (127.0.0.2 stands in for a LAN
#      address: the tests stay on loopback): the table names it, a phone
#      registers there and the P-CSCF's Path carries it
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

D=demo.entims.test
CALL=$E2E_SCENARIO/../ims_call
PP=$(free_port)
TP=$(free_port)
IP=$(free_port)
SP=$(free_port)
log "ports: P-CSCF $PP (TLS $TP), I-CSCF $IP, S-CSCF $SP"
CONF=$E2E_TMP/ports.conf
cat >"$CONF" <<EOF
[sip]
listen = udp:127.0.0.1:$PP, tcp:127.0.0.1:$PP, tls:127.0.0.1:$TP
[icscf]
listen = udp:127.0.0.1:$IP, tcp:127.0.0.1:$IP
[scscf]
listen = udp:127.0.0.1:$SP, tcp:127.0.0.1:$SP
EOF

IMS_PID=
IMS_N=0
# ims_start <data dir> [entims run options]: entims run, wait for
# "entims ready"; IMS_LOG
ims_start() {
	local i d=$1
	shift
	IMS_N=$((IMS_N + 1))
	IMS_LOG=$E2E_TMP/ims.$IMS_N.log
	(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$CONF" -d "$d" \
		--log-level debug "$@") >"$IMS_LOG" 2>&1 </dev/null &
	IMS_PID=$!
	E2E_PIDS+=("$IMS_PID")
	for ((i = 0; i < 300; i++)); do
		grep -q '^entims ready' "$IMS_LOG" 2>/dev/null && break
		kill -0 "$IMS_PID" 2>/dev/null ||
			fail "entims exited before it was ready (see ${IMS_LOG##*/})"
		sleep 0.1
	done
	grep -q '^entims ready' "$IMS_LOG" || fail "entims not ready after 30 s"
	log "entims run $IMS_N (pid $IMS_PID) ready"
}

ims_term() {
	local rc=0
	kill -TERM "$IMS_PID"
	wait_pid "$IMS_PID" 10 || rc=$?
	[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM"
	log "entims stopped cleanly"
}

ims_kill9() {
	kill -KILL "$IMS_PID"
	wait "$IMS_PID" 2>/dev/null || true
	log "entims pid $IMS_PID killed with SIGKILL"
}

# table <log> <out>: the demo users' rows (user ext aor authuser password)
table() {
	awk '/^Demo enterprise /{f=1; next} f && /^  passwords kept/{exit}
		f && $1 != "registrar" && $1 != "user" {print}' "$1" >"$2"
}

# pw <table> <user>
pw() {
	awk -v u="$2" '$1 == u {print $5}' "$1"
}

subscribers() {
	"$ENTIMS" subscriber list -d "$1" 2>>"$E2E_TMP/cli.err" | grep -c '  impi:' || true
}

# register <user> <password> <port> <what> [P-CSCF address]
register() {
	local rc=0
	sipp_run "reg-$1-$IMS_N" 30 "${5:-127.0.0.1:$PP}" -sf "$CALL/register.xml" \
		-key user "$1" -key domain "$D" -au "$1@$D" -ap "$2" \
		-auth_uri "$D" -i 127.0.0.1 -p "$3" -m 1 -recv_timeout 5000 ||
		rc=$?
	expect_rc "$4" "$rc" 0
}

# ---- 1. first start ------------------------------------------------------------
DATA=$ENTIMS_DATA
ims_start "$DATA"
grep -q "^Demo enterprise $D (provisioned now):" "$IMS_LOG" ||
	fail "no demo table on first start (see ims.1.log)"
grep -q "registrar and outbound proxy: sip:127.0.0.1:$PP (listening on udp:127.0.0.1:$PP, tcp:127.0.0.1:$PP, tls:127.0.0.1:$TP)" \
	"$IMS_LOG" || fail "the table does not name the P-CSCF's address"
table "$IMS_LOG" "$E2E_TMP/table.1"
n=0
for u in alice:1001 bob:1002 carol:1003 dave:1004; do
	name=${u%:*}
	ext=${u#*:}
	grep -qE "^  $name +$ext +sip:$name@$D +$name@$D +[a-z0-9]{12}$" \
		"$E2E_TMP/table.1" || fail "table row of $name $ext missing or wrong"
	n=$((n + 1))
done
[ "$(wc -l <"$E2E_TMP/table.1")" -eq 4 ] || fail "the table has other rows"
log "ok: the demo table: alice, bob, carol, dave, 1001..1004, passwords"
[ "$(subscribers "$DATA")" -eq 4 ] || fail "the HSS does not have 4 subscribers"
[ "$(stat -c %a "$DATA/demo-enterprise.txt")" = 600 ] ||
	fail "demo-enterprise.txt is not mode 0600"
APW=$(pw "$E2E_TMP/table.1" alice)
BPW=$(pw "$E2E_TMP/table.1" bob)
[ "$APW" != "$BPW" ] || fail "alice and bob have the same password"
"$ENTIMS" subscriber show bob -d "$DATA" >"$E2E_TMP/bob.json" 2>&1 ||
	fail "subscriber show bob"
grep -q "sip:1002@$D" "$E2E_TMP/bob.json" || fail "bob has no IMPU sip:1002@$D"
grep -q '"service_profile": "default"' "$E2E_TMP/bob.json" ||
	fail "bob's IMPUs are not on the service profile default"
grep -q "\"$BPW\"" "$E2E_TMP/bob.json" && fail "the HSS stores bob's password"

AP=$(free_port)
BP=$(free_port)
while [ "$BP" = "$AP" ]; do BP=$(free_port); done
register bob "$BPW" "$BP" "bob registers with his printed password"
register alice "$APW" "$AP" "alice registers with her printed password"
rc=0
sipp_run reg-badpw 30 "127.0.0.1:$PP" -sf "$CALL/register.xml" \
	-key user carol -key domain "$D" -au "carol@$D" -ap wrong-password \
	-auth_uri "$D" -i 127.0.0.1 -p "$(free_port)" -m 1 \
	-recv_timeout 5000 || rc=$?
[ "$rc" -ne 0 ] || fail "carol registered with a wrong password"
log "ok: a wrong password is refused"
rc=0
timeout 30 python3 "$E2E_SCENARIO/tls_register.py" "$TP" "$DATA/tls/cert.pem" \
	carol "$(pw "$E2E_TMP/table.1" carol)" "$D" >"$E2E_TMP/tls.out" 2>&1 || rc=$?
expect_rc "carol registers over TLS $TP (generated certificate verified)" "$rc" 0

sipp_bg bob "127.0.0.1:$PP" -sf "$CALL/uas.xml" -i 127.0.0.1 -p "$BP" -m 1 \
	-recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run alice 30 "127.0.0.1:$PP" -sf "$CALL/uac.xml" -key user alice \
	-key callee 1002 -key domain "$D" -i 127.0.0.1 -p "$AP" -m 1 \
	-recv_timeout 10000 || rc=$?
expect_rc "alice dials 1002: INVITE/180/200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob's phone answers the call to his extension" "$rc" 0
inv=$E2E_TMP/bob.invite
awk '/^INVITE sip:/ {f=1} f && /^\r?$/ {exit} f {print}' \
	"$E2E_TMP/bob.msg.log" >"$inv"
grep -q "^INVITE sip:bob@127\.0\.0\.1:$BP" "$inv" ||
	fail "bob: the INVITE's Request-URI is not his contact (see bob.invite)"
grep -qiE "^P-Asserted-Identity: *<?sip:alice@$D>?" "$inv" ||
	fail "bob: no P-Asserted-Identity sip:alice@$D"
grep -qiE "^Record-Route: .*@127\.0\.0\.1:$PP;lr" "$inv" ||
	fail "bob: the P-CSCF is not in the Record-Route"
log "ok: the call to 1002 reached bob as alice, through the P-CSCF"
ims_term

# ---- 2. restart: same users, same passwords -----------------------------------
ims_start "$DATA"
grep -q "^Demo enterprise $D (provisioned at first start):" "$IMS_LOG" ||
	fail "restart: no demo table, or it says provisioned now"
table "$IMS_LOG" "$E2E_TMP/table.2"
cmp -s "$E2E_TMP/table.1" "$E2E_TMP/table.2" ||
	fail "restart: the table changed: $(diff "$E2E_TMP/table.1" "$E2E_TMP/table.2")"
[ "$(subscribers "$DATA")" -eq 4 ] || fail "restart: not 4 subscribers"
log "ok: restart shows the same users and passwords"
register alice "$APW" "$AP" "alice registers again after the restart"
ims_kill9

# ---- 3. after kill -9 ------------------------------------------------------------
ims_start "$DATA"
table "$IMS_LOG" "$E2E_TMP/table.3"
cmp -s "$E2E_TMP/table.1" "$E2E_TMP/table.3" ||
	fail "after kill -9: the table changed"
[ "$(subscribers "$DATA")" -eq 4 ] || fail "after kill -9: not 4 subscribers"
register carol "$(pw "$E2E_TMP/table.1" carol)" "$(free_port)" \
	"carol registers after the kill -9"
log "ok: kill -9 and restart lost no subscriber"
ims_term

# ---- 4. the administrator's changes stay -------------------------------------------
"$ENTIMS" subscriber delete dave -d "$DATA" >>"$E2E_TMP/cli.log" 2>&1 ||
	fail "subscriber delete dave"
"$ENTIMS" subscriber set bob -d "$DATA" --impi "bob@$D" \
	--password admin-chosen >>"$E2E_TMP/cli.log" 2>&1 ||
	fail "subscriber set bob --password"
ims_start "$DATA"
table "$IMS_LOG" "$E2E_TMP/table.4"
[ "$(subscribers "$DATA")" -eq 3 ] ||
	fail "restart after the admin deleted dave: dave provisioned again"
grep -q '^  dave ' "$E2E_TMP/table.4" && fail "the deleted dave is shown"
grep -qE "^  bob .*\(changed by the administrator\)$" "$E2E_TMP/table.4" ||
	fail "bob's changed password: the table does not say so"
grep -q "$BPW" "$E2E_TMP/table.4" && fail "bob's old password is shown"
grep -qE "^  alice .* $APW$" "$E2E_TMP/table.4" || fail "alice's row changed"
register bob admin-chosen "$BP" "bob registers with the admin's password"
log "ok: the admin's deletion and password change survive a restart"
ims_term

# ---- 5. a first start cut short -------------------------------------------------------
D5=$E2E_TMP/data5
mkdir -p "$D5"
printf 'domain %s\nuser alice 1001 resume-alice\nuser bob 1002 resume-bob0\n' \
	"$D" >"$D5/demo-enterprise.txt.new"
"$ENTIMS" profile add default -d "$D5" >>"$E2E_TMP/cli.log" 2>&1 ||
	fail "profile add default"
"$ENTIMS" subscriber add alice -d "$D5" --impi "alice@$D" \
	--password resume-alice --impu "sip:alice@$D" --impu "sip:1001@$D" \
	--profile default >>"$E2E_TMP/cli.log" 2>&1 || fail "subscriber add alice"
ims_start "$D5"
if [ ! -f "$D5/demo-enterprise.txt" ] || [ -e "$D5/demo-enterprise.txt.new" ]; then
	fail "the interrupted provisioning did not finish its file"
fi
table "$IMS_LOG" "$E2E_TMP/table.5"
grep -qE "^  alice .* resume-alice$" "$E2E_TMP/table.5" ||
	fail "resumed provisioning: alice's row is not her password"
grep -qE "^  bob .* resume-bob0$" "$E2E_TMP/table.5" ||
	fail "resumed provisioning: bob's row is not his password"
[ "$(subscribers "$D5")" -eq 2 ] || fail "resumed provisioning: not 2 subscribers"
register bob resume-bob0 "$BP" "bob, added when the provisioning resumed, registers"
log "ok: a first start cut short is finished by the next"
ims_term

# ---- 6. the administrator's store -----------------------------------------------------
D6=$E2E_TMP/data6
mkdir -p "$D6"
"$ENTIMS" subscriber add erin -d "$D6" --impi "erin@$D" --password erin-pw \
	--impu "sip:erin@$D" >>"$E2E_TMP/cli.log" 2>&1 || fail "subscriber add erin"
ims_start "$D6"
grep -q '^Demo enterprise' "$IMS_LOG" && fail "demo provisioned over the admin's store"
[ "$(subscribers "$D6")" -eq 1 ] || fail "the admin's store changed"
[ -e "$D6/demo-enterprise.txt" ] && fail "a demo file in the admin's data dir"
log "ok: no demo in a store the administrator filled"
ims_term

# ---- 7. phones on another address ---------------------------------------------------
LP=$(free_port)
ims_start "$DATA" --listen "udp:127.0.0.2:$LP" --listen "tcp:127.0.0.2:$LP"
grep -q "registrar and outbound proxy: sip:127.0.0.2:$LP (listening on udp:127.0.0.2:$LP, tcp:127.0.0.2:$LP)" \
	"$IMS_LOG" || fail "--listen 127.0.0.2: the table does not name it"
register alice "$APW" "$AP" "alice registers at 127.0.0.2" "127.0.0.2:$LP"
grep -qE "^Path: <sip:[0-9a-f]+@127\.0\.0\.2:$LP;lr>" \
	"$E2E_TMP/reg-alice-$IMS_N.msg.log" ||
	fail "the P-CSCF's Path does not carry 127.0.0.2:$LP"
log "ok: the P-CSCF on another address puts it in Path"
ims_term
pass
