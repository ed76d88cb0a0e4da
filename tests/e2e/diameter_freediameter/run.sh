#!/usr/bin/env bash
# shellcheck disable=SC2034 # many variables are read by render() through ${!name}
# Interop: freeDiameter (a second, independent Diameter implementation)
# against our HSS.
#
#   diameter_freediameter/run.sh <entims> <sipp> <temp dir>
#   HSS_IMPL=fake diameter_freediameter/run.sh ../tools/fake_hss.py <sipp> <temp dir>
#
# freeDiameter (identity fd.ims.test) connects to the HSS over TCP on
# 127.0.0.1: CER/CEA must succeed (RFC 6733 5.3), then DWR/DWA (5.5, Tw 6 s).
# A Cx User-Authorization-Request (TS 29.229 6.1.1) from tools/
# diam_client.py (client.ims.test) is relayed by freeDiameter to the HSS
# (freeDiameter ships no extension that originates requests; see
# freediameter/freeDiameter.conf.in): the UAA must come back from
# hss.ims.test with DIAMETER_FIRST_REGISTRATION (2001) for a provisioned
# user and DIAMETER_ERROR_USER_UNKNOWN (5001) for an unknown one.
# freeDiameter's log (dbg_msg_dumps) shows every message it sent and got.
LIB=$(dirname "$0")/../lib.sh

. "$LIB"
. "$(dirname "$0")/../interop/interop-lib.sh"
interop_init "$@"

# ---- subscribers (the CLI is not final: adapt here) ----------------------
provision_users() {
	if [ "$HSS_IMPL" = fake ]; then
		cat >"$E2E_TMP/users.json" <<EOF
{"peers": ["icscf.$SIP_DOMAIN", "scscf.$SIP_DOMAIN", "fd.$SIP_DOMAIN"],
 "users": [{"impi": "alice@$SIP_DOMAIN", "impu": "sip:alice@$SIP_DOMAIN",
            "scheme": "digest", "password": "alice-secret"}]}
EOF
		return 0
	fi
	"$ENTIMS" subscriber add alice --data-dir "$ENTIMS_DATA" --impi "alice@$SIP_DOMAIN" \
		--impu "sip:alice@$SIP_DOMAIN" --password alice-secret \
		>>"$E2E_TMP/entims-subscriber.log" 2>&1 || fail "subscriber add alice"
}

command -v freeDiameterd >/dev/null || skip "freeDiameterd not installed (Debian: freediameter)"
[ -f /usr/lib/freeDiameter/dbg_msg_dumps.fdx ] ||
	skip "freeDiameter extensions missing (Debian: freediameter-extensions)"
command -v openssl >/dev/null || skip "openssl not installed"

DIR=$E2E_TMP
CLIENT_PORT=$(free_port)
# freeDiameter will not start without TLS credentials, even with No_TLS:
# a throwaway self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=fd.$SIP_DOMAIN" \
	-keyout "$E2E_TMP/fd.key.pem" -out "$E2E_TMP/fd.cert.pem" \
	>"$E2E_TMP/openssl.log" 2>&1 || fail "openssl could not make a certificate"
render "$INTEROP_DIR/freediameter/freeDiameter.conf.in" "$E2E_TMP/freeDiameter.conf"

provision_users
hss_conf "icscf.$SIP_DOMAIN," "scscf.$SIP_DOMAIN," "fd.$SIP_DOMAIN"
hss_start

# The allow-list: a peer the HSS does not know is refused at CER.
rc=0
python3 "$E2E_TOOLS/cer_probe.py" "$HSS_PORT" "intruder.$SIP_DOMAIN" \
	"$SIP_DOMAIN" refuse >"$E2E_TMP/cer-intruder.out" 2>&1 || rc=$?
expect_rc "CER from intruder.$SIP_DOMAIN (not in peers) is refused" "$rc" 0

# client_run <name> <impi> <impu> <expected code>: diam_client.py waits for
# freeDiameter's connection on CLIENT_PORT; freeDiameter (re)connects to
# it every TcTimer (5 s).
client_bg() {
	python3 "$E2E_TOOLS/diam_client.py" "$CLIENT_PORT" "$SIP_DOMAIN" \
		"$2" "$3" "$4" >"$E2E_TMP/$1.out" 2>&1 </dev/null &
	CLIENT_PID=$!
	E2E_PIDS+=("$CLIENT_PID")
}

client_bg client-alice "alice@$SIP_DOMAIN" "sip:alice@$SIP_DOMAIN" 2001
sleep 0.3
freeDiameterd -c "$E2E_TMP/freeDiameter.conf" >"$E2E_TMP/freediameter.log" 2>&1 </dev/null &
FD_PID=$!
E2E_PIDS+=("$FD_PID")

rc=0
wait_pid "$CLIENT_PID" 40 || rc=$?
expect_rc "Cx UAR relayed by freeDiameter is answered 2001 by hss.$SIP_DOMAIN" "$rc" 0

# CER/CEA between freeDiameter and the HSS: the state machine reached OPEN.
grep -q "RCV from 'hss.$SIP_DOMAIN'" "$E2E_TMP/freediameter.log" ||
	fail "freeDiameter received nothing from the HSS (see freediameter.log)"
grep -A2 "RCV from 'hss.$SIP_DOMAIN'" "$E2E_TMP/freediameter.log" |
	grep -q "'Capabilities-Exchange-Answer'" || fail "no CEA from the HSS"
grep -qE "'STATE_OPEN'[[:space:]]+'hss\.$SIP_DOMAIN'" "$E2E_TMP/freediameter.log" ||
	fail "freeDiameter never reached STATE_OPEN with the HSS"
log "ok: CER/CEA with freeDiameter, connection open"

# DWR/DWA: freeDiameter sends DWR after Tw (6 s) of silence.
for ((i = 0; i < 150; i++)); do
	grep -A2 "RCV from 'hss.$SIP_DOMAIN'" "$E2E_TMP/freediameter.log" |
		grep -q "'Device-Watchdog-Answer'" && break
	sleep 0.1
done
[ "$i" -lt 150 ] || fail "no DWA from the HSS within 15 s (see freediameter.log)"
log "ok: DWR/DWA with freeDiameter"

# An unknown user: the HSS answers DIAMETER_ERROR_USER_UNKNOWN.
client_bg client-unknown "nobody@$SIP_DOMAIN" "sip:nobody@$SIP_DOMAIN" 5001
rc=0
wait_pid "$CLIENT_PID" 40 || rc=$?
expect_rc "Cx UAR for an unknown user is answered 5001" "$rc" 0

kill -0 "$FD_PID" 2>/dev/null || fail "freeDiameter died"
kill -TERM "$FD_PID"
wait_pid "$FD_PID" 20 || true
# freeDiameter says goodbye with DPR (RFC 6733 5.4); the HSS must answer.
grep -A2 "RCV from 'hss.$SIP_DOMAIN'" "$E2E_TMP/freediameter.log" |
	grep -q "'Disconnect-Peer-Answer'" || fail "no DPA from the HSS on freeDiameter's DPR"
log "ok: DPR/DPA with freeDiameter"
hss_stop
pass
