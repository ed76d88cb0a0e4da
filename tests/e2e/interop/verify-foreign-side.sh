#!/usr/bin/env bash
# shellcheck disable=SC2034 # many variables are read by render() through ${!name}
# Checks of the foreign side that need no entims HSS (what README.md calls
# "verified"):
#   1. each Kamailio (I-CSCF, S-CSCF) and freeDiameter opens a Diameter
#      connection to the configured HSS port and sends a CER (version 1,
#      command 257): recorded in captures/cer-*.hex and .txt;
#   2. the I-CSCF against tools/fake_hss.py, with a stand-in S-CSCF (sipp):
#      REGISTER -> UAR/UAA -> relayed to the S-CSCF named by the UAA,
#      401, REGISTER again on the same list -> 200; INVITE -> LIR/LIA ->
#      relayed to the S-CSCF named by the LIA; unknown callee -> 604;
#   3. sipp 3.6's Digest-AKAv1-MD5: the nonce built by fake_hss.py's
#      Milenage (K, OP = bytes of ASCII strings, AMF 8000) is accepted and
#      the response is the MD5 digest with our RES; a wrong AMF aborts sipp.
#
#   verify-foreign-side.sh [temp dir]    (default /tmp/interop-verify)
LIB=$(dirname "$0")/../lib.sh

. "$LIB"
. "$(dirname "$0")/interop-lib.sh"
interop_isolate_hosts "$@"
HSS_IMPL=fake
interop_init "$E2E_TOOLS/fake_hss.py" sipp "${1:-/tmp/interop-verify}"
interop_hosts "hss.$SIP_DOMAIN"
CAP=$INTEROP_DIR/captures
mkdir -p "$CAP"
KAMCFG=$INTEROP_DIR/kamailio
SIPPDIR=$INTEROP_DIR/sipp

DIR=$E2E_TMP
ICSCF_PORT=$(free_port)
SCSCF_PORT=$(free_port)
ICSCF_DIAM_PORT=$(free_port)
SCSCF_DIAM_PORT=$(free_port)
SCSCF_URI=sip:127.0.0.1:$SCSCF_PORT
AUTH_ALG=HSS-Selected
USER_DATA_XSD=
CLIENT_PORT=$(free_port)
for f in icscf.cfg icscf.xml scscf.cfg scscf.xml icscf.sql; do
	render "$KAMCFG/$f.in" "$E2E_TMP/$f"
done
sqlite3 "$E2E_TMP/icscf.sqlite" <"$E2E_TMP/icscf.sql" || fail "I-CSCF database"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=fd.$SIP_DOMAIN" \
	-keyout "$E2E_TMP/fd.key.pem" -out "$E2E_TMP/fd.cert.pem" >/dev/null 2>&1
render "$INTEROP_DIR/freediameter/freeDiameter.conf.in" "$E2E_TMP/freeDiameter.conf"

# ---- 1. CERs --------------------------------------------------------------
# capture <name> <command...>: a listener on HSS_PORT records the first
# message; the peer is stopped once it is there.
capture() {
	local name=$1 lp pp rc=0
	shift
	python3 "$E2E_TOOLS/cer_listener.py" "$HSS_PORT" "$CAP/cer-$name.hex" 20 \
		>"$E2E_TMP/cer-$name.out" 2>&1 &
	lp=$!
	E2E_PIDS+=("$lp")
	wait_tcp_listen "$HSS_PORT" 5 || fail "listener for $name"
	"$@" >"$E2E_TMP/$name.log" 2>&1 </dev/null &
	pp=$!
	E2E_PIDS+=("$pp")
	wait_pid "$lp" 25 || rc=$?
	kill -TERM "$pp" 2>/dev/null || true
	wait_pid "$pp" 20 || true
	expect_rc "$name sends a CER to 127.0.0.1:$HSS_PORT (captures/cer-$name.hex)" "$rc" 0
}
SIP_PORT=$(free_port) CDP_XML=$E2E_TMP/scscf.xml \
	render "$KAMCFG/cdp-only.cfg.in" "$E2E_TMP/cdp-scscf.cfg"
mkdir -p "$E2E_TMP/run-cap"
# Without kamailio-presence-modules the check runs on a copy without the
# two presence lines (the module is needed at start, not for the syntax).
if [ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/presence.so ]; then
	cp "$E2E_TMP/scscf.cfg" "$E2E_TMP/scscf-check.cfg"
else
	grep -v -e '^loadmodule "presence.so"' -e '^modparam("presence"' \
		"$E2E_TMP/scscf.cfg" >"$E2E_TMP/scscf-check.cfg"
fi
kamailio -c -f "$E2E_TMP/scscf-check.cfg" -Y "$E2E_TMP/run-cap" >"$E2E_TMP/scscf-check.log" 2>&1 ||
	fail "kamailio -c rejects the S-CSCF config"
log "ok: kamailio -c accepts the S-CSCF config"
capture icscf kamailio -DD -E -f "$E2E_TMP/icscf.cfg" -Y "$E2E_TMP/run-cap" -w "$E2E_TMP"
# The S-CSCF itself needs the presence module to start (see README); the
# CER is built by cdp from scscf.xml alone, so cdp runs by itself here.
capture scscf kamailio -DD -E -f "$E2E_TMP/cdp-scscf.cfg" -Y "$E2E_TMP/run-cap" -w "$E2E_TMP"
capture freediameter freeDiameterd -c "$E2E_TMP/freeDiameter.conf"

# ---- 2. the I-CSCF against the fake HSS -------------------------------------
cat >"$E2E_TMP/users.json" <<EOF
{"peers": ["icscf.$SIP_DOMAIN", "scscf.$SIP_DOMAIN", "fd.$SIP_DOMAIN"],
 "users": [
  {"impi": "alice@$SIP_DOMAIN", "impu": "sip:alice@$SIP_DOMAIN", "scheme": "digest", "password": "alice-secret"},
  {"impi": "bob@$SIP_DOMAIN", "impu": "sip:bob@$SIP_DOMAIN", "scheme": "digest", "password": "bob-secret",
   "scscf": "$SCSCF_URI"}]}
EOF
hss_start
kam_start icscf "$E2E_TMP/icscf.cfg"
wait_diameter_peers 1 20

sipp_bg stub-scscf -sf "$SIPPDIR/stub_scscf_register.xml" -i 127.0.0.1 -p "$SCSCF_PORT" \
	-m 1 -key scscf "127.0.0.1:$SCSCF_PORT" -key pau "sip:alice@$SIP_DOMAIN" \
	-timeout 20 -timeout_error
STUB=$SIPP_PID
wait_udp_bound "$SCSCF_PORT"
rc=0
sipp_run reg-alice 30 "127.0.0.1:$ICSCF_PORT" -sf "$SIPPDIR/ims_register_md5.xml" \
	-key user alice -key domain "$SIP_DOMAIN" -au "alice@$SIP_DOMAIN" -ap alice-secret \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 8000 || rc=$?
expect_rc "REGISTER via the I-CSCF (UAR) reaches the S-CSCF of the UAA, 401, 200" "$rc" 0
rc=0
wait_pid "$STUB" 10 || rc=$?
expect_rc "the stand-in S-CSCF saw both REGISTERs with its name as Request-URI" "$rc" 0
[ "$(grep -c '^UAR ' "$HSS_LOG")" -eq 1 ] ||
	fail "expected exactly one UAR (the list is kept across the 401)"

sipp_bg uas-scscf -sf $INTEROP_DIR/../sipp/uas_call.xml -i 127.0.0.1 \
	-p "$SCSCF_PORT" -m 1 -timeout 20 -timeout_error
UAS=$SIPP_PID
wait_udp_bound "$SCSCF_PORT"
# The caller's in-dialog requests would go to the S-CSCF in a real call;
# here they reach the I-CSCF (sipp sends everything to its remote
# address), which is not on the dialog path: only the INVITE and its 2xx
# matter, so the UAC is stopped after the 200 (-m 1 with a short timeout).
sipp_run uac-bob 15 "127.0.0.1:$ICSCF_PORT" -sf $INTEROP_DIR/../sipp/uac_call.xml \
	-s bob -key user alice -key domain "$SIP_DOMAIN" -i 127.0.0.1 -p "$(free_port)" \
	-m 1 -recv_timeout 5000 || true
grep -aq '^SIP/2.0 200 OK' "$E2E_TMP/uac-bob.msg.log" ||
	fail "the INVITE routed by LIR was not answered (see uac-bob.msg.log)"
grep -q '^LIA ' "$HSS_LOG" || fail "no LIA"
grep -q 'LIA handled, lia_return_code=1' "$E2E_TMP/icscf.log" || fail "LIA not accepted"
log "ok: INVITE via the I-CSCF (LIR) answered by the S-CSCF of the LIA"
kill -TERM "$UAS" 2>/dev/null || true

sipp_run uac-nobody 15 "127.0.0.1:$ICSCF_PORT" -sf $INTEROP_DIR/../sipp/uac_call.xml \
	-s nobody -key user alice -key domain "$SIP_DOMAIN" -i 127.0.0.1 -p "$(free_port)" \
	-m 1 -recv_timeout 5000 || true
grep -aq '^SIP/2.0 604 ' "$E2E_TMP/uac-nobody.msg.log" ||
	fail "an unknown callee (LIA 5001) did not get 604"
log "ok: LIA DIAMETER_ERROR_USER_UNKNOWN -> 604"

# ---- 3. sipp's AKA against our Milenage -------------------------------------
aka_try() { # <name> <AMF for sipp> -> sipp status
	local name=$1 amf=$2 nonce port rc=0
	port=$(free_port)
	nonce=$(python3 "$E2E_TOOLS/aka_vector.py" nonce 0123456789abcdef \
		fedcba9876543210 8000 7 "$E2E_TMP/$name.json")
	AKA_K=0123456789abcdef AKA_OP=fedcba9876543210 AKA_AMF=$amf \
		render "$SIPPDIR/ims_register_aka.xml.in" "$E2E_TMP/$name.xml"
	sipp_bg "$name-stub" -sf "$SIPPDIR/stub_aka_challenge.xml" -key nonce "$nonce" \
		-i 127.0.0.1 -p "$port" -m 1 -timeout 10 -timeout_error
	wait_udp_bound "$port"
	sipp_run "$name" 20 "127.0.0.1:$port" -sf "$E2E_TMP/$name.xml" -key user carol \
		-key domain "$SIP_DOMAIN" -au "carol@$SIP_DOMAIN" -i 127.0.0.1 \
		-p "$(free_port)" -m 1 -recv_timeout 5000 || rc=$?
	return "$rc"
}
rc=0
aka_try aka-ok 0x8000 || rc=$?
expect_rc "sipp accepts our AKA nonce (K/OP ASCII bytes, AMF 0x8000)" "$rc" 0
auth=$(grep -a -m1 '^Authorization:' "$E2E_TMP/aka-ok.msg.log" | tr -d '\r')
p() { sed -n "s/.*[ ,]$1=\"\{0,1\}\([^\",]*\).*/\1/p" <<<"$auth"; }
python3 "$E2E_TOOLS/aka_vector.py" check "$E2E_TMP/aka-ok.json" \
	"$(p username)" "$(p realm)" REGISTER "$(p uri)" "$(p nonce)" "$(p nc)" \
	"$(p cnonce)" "$(p qop)" "$(p response)" >"$E2E_TMP/aka-check.out" 2>&1 ||
	fail "sipp's AKA response is not MD5 over our RES (see aka-check.out)"
log "ok: sipp's response is the digest with our Milenage RES"
rc=0
aka_try aka-badamf 0x0000 || rc=$?
[ "$rc" -ne 0 ] || fail "sipp accepted a nonce whose MAC used another AMF"
log "ok: a MAC over another AMF makes sipp fail ($rc)"

pass
