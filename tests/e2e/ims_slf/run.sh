#!/usr/bin/env bash
# Two HSSs behind an SLF (TS 23.228 5.8.1, TS 29.228 6.6): the I-CSCF and
# the S-CSCF ask the SLF (Dx) which HSS holds a user and follow its
# redirect (DIAMETER_REDIRECT_INDICATION 3006, Redirect-Host, RFC 6733
# 6.13) to that HSS.
#
#   slf   roles = slf: `entims slf set` maps alice to hss1, bob to hss2
#   hss1  roles = hss: alice
#   hss2  roles = hss: bob
#   ims   roles = pcscf, icscf, scscf, Cx routed to the SLF
#
# alice and bob register (401, 200) through the P-, I- and S-CSCF: each
# HSS must hold its own user as registered with our S-CSCF (UAR from the
# I-CSCF, MAR and SAR from the S-CSCF reached it), and the CSCFs must have
# been redirected to both HSSs.  An identity the SLF does not know is refused (403 at the I-CSCF,
# UAA 5001 from the pure SLF).
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

REALM=ims.test
PP=$(free_port)
IP=$(free_port)
SP=$(free_port)
DS=$(free_port)
D1=$(free_port)
D2=$(free_port)
log "ports: P $PP, I $IP, S $SP; Diameter SLF $DS, hss1 $D1, hss2 $D2"

# add_user <data dir> <name>
add_user() {
	"$ENTIMS" subscriber add "$2" --data-dir "$1" --impi "$2@$REALM" \
		--impu "sip:$2@$REALM" --password "$2-secret" \
		--scheme digest-md5 >>"$E2E_TMP/prov.log" 2>&1 ||
		fail "subscriber add $2 (see prov.log)"
}

# slf_map <identity> <hss>
slf_map() {
	"$ENTIMS" slf set "$1" --hss "$2" --data-dir "$E2E_TMP/slf" \
		>>"$E2E_TMP/prov.log" 2>&1 || fail "slf set $1 (see prov.log)"
}

mkdir -p "$E2E_TMP/slf" "$E2E_TMP/hss1" "$E2E_TMP/hss2"
add_user "$E2E_TMP/hss1" alice
add_user "$E2E_TMP/hss2" bob
# the public identity (UAR, SAR) and the private one (MAR)
slf_map "sip:alice@$REALM" "hss1.$REALM"
slf_map "alice@$REALM" "hss1.$REALM"
slf_map "sip:bob@$REALM" "hss2.$REALM"
slf_map "bob@$REALM" "hss2.$REALM"
"$ENTIMS" slf list --data-dir "$E2E_TMP/slf" >"$E2E_TMP/slf.list" 2>>"$E2E_TMP/prov.log"
[ "$(wc -l <"$E2E_TMP/slf.list")" -eq 4 ] || fail "entims slf list: $(cat "$E2E_TMP/slf.list")"

cat >"$E2E_TMP/slf.conf" <<CONF
[core]
roles = slf
[diameter]
identity = slf.$REALM
realm = $REALM
listen = tcp:127.0.0.1:$DS
peers = ims.$REALM
CONF
for n in 1 2; do
	port=$D1
	[ "$n" = 2 ] && port=$D2
	cat >"$E2E_TMP/hss$n.conf" <<CONF
[core]
roles = hss
[diameter]
identity = hss$n.$REALM
realm = $REALM
listen = tcp:127.0.0.1:$port
peers = ims.$REALM
[hss]
scscf = sip:127.0.0.1:$SP
CONF
done
cat >"$E2E_TMP/ims.conf" <<CONF
[core]
roles = pcscf, icscf, scscf
[diameter]
identity = ims.$REALM
realm = $REALM
peers = slf.$REALM@127.0.0.1:$DS, hss1.$REALM@127.0.0.1:$D1, hss2.$REALM@127.0.0.1:$D2
# every Cx request goes to the SLF first; its redirect names the HSS
routes = $REALM=slf.$REALM
[pcscf]
listen = udp:127.0.0.1:$PP
uri = sip:127.0.0.1:$PP
icscf = sip:127.0.0.1:$IP
visited_network = $REALM
core = 127.0.0.1:$IP, 127.0.0.1:$SP
[icscf]
listen = udp:127.0.0.1:$IP
uri = sip:127.0.0.1:$IP
scscf = sip:127.0.0.1:$SP
trusted = 127.0.0.1:$PP
[scscf]
listen = udp:127.0.0.1:$SP
uri = sip:127.0.0.1:$SP
icscf = sip:127.0.0.1:$IP
CONF

start_role slf "$E2E_TMP/slf.conf" "$E2E_TMP/slf"
SLF=$ROLE_PID
start_role hss1 "$E2E_TMP/hss1.conf" "$E2E_TMP/hss1"
H1=$ROLE_PID
start_role hss2 "$E2E_TMP/hss2.conf" "$E2E_TMP/hss2"
H2=$ROLE_PID
start_role ims "$E2E_TMP/ims.conf" "$E2E_TMP/ims"
IMS=$ROLE_PID

# register <user>: 401, 200 through P, I, S
register() {
	local rc=0
	sipp_run "reg-$1" 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/register.xml" \
		-key user "$1" -key domain "$REALM" -au "$1@$REALM" \
		-ap "$1-secret" -auth_uri "$REALM" -i 127.0.0.1 \
		-p "$(free_port)" -m 1 -recv_timeout 8000 || rc=$?
	expect_rc "$1 registers through the SLF" "$rc" 0
}
register alice
register bob

# Each HSS holds its own user as registered, with our S-CSCF assigned
for pair in "hss1 alice" "hss2 bob"; do
	set -- $pair
	"$ENTIMS" subscriber show "$2" --data-dir "$E2E_TMP/$1" \
		>"$E2E_TMP/$2.json" 2>>"$E2E_TMP/prov.log" ||
		fail "subscriber show $2 on $1 (see prov.log)"
	python3 - "$E2E_TMP/$2.json" "sip:$2@$REALM" "sip:127.0.0.1:$SP" <<'PY' ||
import json, sys
reg = json.load(open(sys.argv[1]))["registration"]
assert reg["impu"][sys.argv[2]] == "registered", reg
assert reg["scscf"] == sys.argv[3], reg
PY
		fail "$1 does not hold $2 as registered with sip:127.0.0.1:$SP (see $2.json)"
done
log "ok: hss1 holds alice, hss2 holds bob, both registered with our S-CSCF"
# the CSCFs were sent to each HSS by the SLF's redirects
grep -q "redirected to hss1\.$REALM" "$E2E_TMP/ims.log" ||
	fail "no Cx request was redirected to hss1 (see ims.log)"
grep -q "redirected to hss2\.$REALM" "$E2E_TMP/ims.log" ||
	fail "no Cx request was redirected to hss2 (see ims.log)"
log "ok: the SLF redirected the CSCFs to both HSSs"

# an identity the SLF does not hold: 403 from the I-CSCF (UAA 5001)
rc=0
sipp_run reg-unknown 20 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/register.xml" \
	-key user mallory -key domain "$REALM" -au "mallory@$REALM" \
	-ap x -auth_uri "$REALM" -i 127.0.0.1 -p "$(free_port)" -m 1 \
	-recv_timeout 5000 || rc=$?
[ "$rc" -ne 0 ] || fail "mallory, unknown to the SLF, registered"
grep -q 'SIP/2.0 403' "$E2E_TMP/reg-unknown.msg.log" 2>/dev/null ||
	fail "mallory: no 403 (see reg-unknown.msg.log)"
log "ok: an identity the SLF does not know gets 403"

stop_role ims "$IMS"
stop_role hss2 "$H2"
stop_role hss1 "$H1"
stop_role slf "$SLF"
pass
