#!/usr/bin/env bash
# The IMS core with every CSCF named, not numbered (RFC 3263 next hops,
# TS 24.229 5.2.2.1, 5.4.3.2): data/ims-standalone.conf rendered with
#   [pcscf] uri   sip:pcscf.ims.test:PP   (Path: terminating requests
#                                          come back to it by name)
#   [pcscf] icscf sip:ims.test            (NAPTR/SRV of the home domain)
#   [icscf] uri/scscf, [hss] scscf, [scscf] uri/icscf: icscf.ims.test,
#                                          scscf.ims.test (A records)
#   [sip] dns     a dnsmasq on loopback this script starts, the only DNS
#                 server the roles ask (no resolver outside the machine)
# and the zone
#   ims.test            NAPTR SIP+D2U -> _sip._udp.ims.test
#   _sip._udp.ims.test  SRV 10 nothing.ims.test:<dead port>,
#                       SRV 20 icscf.ims.test:<I-CSCF port>
#   foreign.test        NAPTR SIP+D2U -> SRV -> uas.foreign.test:<UAS port>
#   *.ims.test, uas.foreign.test  A 127.0.0.1
# The first SRV target of the home domain is a port where nothing listens:
# the REGISTER must move on to the I-CSCF (RFC 3263 4.3: the ICMP refusal
# or the timeout).  alice and bob register through the P-CSCF, alice
# calls bob (Service-Route, LIR, Path, Record-Route all by name), then
# alice calls sip:carol@foreign.test: the S-CSCF finds no home domain
# there and sends it by DNS to a sipp UAS only the SRV record names.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

DNSMASQ=$(command -v dnsmasq || true)
[ -n "$DNSMASQ" ] || [ ! -x /usr/sbin/dnsmasq ] || DNSMASQ=/usr/sbin/dnsmasq
[ -n "$DNSMASQ" ] || skip "dnsmasq not installed (dnsmasq-base)"

SAMPLES=$(cd "$E2E_SCENARIO/../../../data" && pwd)
CALLS=$E2E_SCENARIO/../ims_call
SIPPDIR=$E2E_SCENARIO/../sipp
REALM=ims.test
FOREIGN=foreign.test

# distinct free ports
PORTS=()
pick() {
	local p
	while :; do
		p=$(free_port)
		[[ " ${PORTS[*]} " == *" $p "* ]] || break
	done
	PORTS+=("$p")
	printf '%s' "$p"
}
PP=$(pick)
IP=$(pick)
SP=$(pick)
DP=$(pick)
NSP=$(pick)
DEADP=$(pick)
UASP=$(pick)
AP=$(pick)
BP=$(pick)
log "ports: P $PP, I $IP, S $SP, Diameter $DP, DNS $NSP, dead $DEADP, UAS $UASP"

"$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts \
	--conf-file=/dev/null --pid-file="$E2E_TMP/dnsmasq.pid" \
	--user="$(id -un)" \
	--port="$NSP" --listen-address=127.0.0.1 --bind-interfaces \
	--local=/test/ --log-queries --log-facility="$E2E_TMP/dnsmasq.log" \
	--naptr-record="$REALM,10,10,S,SIP+D2U,,_sip._udp.$REALM" \
	--srv-host="_sip._udp.$REALM,nothing.$REALM,$DEADP,10,0" \
	--srv-host="_sip._udp.$REALM,icscf.$REALM,$IP,20,0" \
	--host-record="nothing.$REALM,127.0.0.1" \
	--host-record="icscf.$REALM,127.0.0.1" \
	--host-record="scscf.$REALM,127.0.0.1" \
	--host-record="pcscf.$REALM,127.0.0.1" \
	--naptr-record="$FOREIGN,10,10,S,SIP+D2U,,_sip._udp.$FOREIGN" \
	--srv-host="_sip._udp.$FOREIGN,uas.$FOREIGN,$UASP,0,0" \
	--host-record="uas.$FOREIGN,127.0.0.1" \
	>"$E2E_TMP/dnsmasq.out" 2>&1 </dev/null &
E2E_PIDS+=("$!")
wait_udp_bound "$NSP"
log "dnsmasq on 127.0.0.1:$NSP"

# the sample, every CSCF URI a name, listeners and trust lists numeric
sed -e "s/^uri = sip:127\.0\.0\.1:5060/uri = sip:pcscf.$REALM:$PP/" \
	-e "s/^icscf = sip:127\.0\.0\.1:5070/icscf = sip:icscf.$REALM:$IP/" \
	-e "s/^uri = sip:127\.0\.0\.1:5070/uri = sip:icscf.$REALM:$IP/" \
	-e "s/^scscf = sip:127\.0\.0\.1:5080/scscf = sip:scscf.$REALM:$SP/" \
	-e "s/^uri = sip:127\.0\.0\.1:5080/uri = sip:scscf.$REALM:$SP/" \
	-e "s/127\.0\.0\.1:5060/127.0.0.1:$PP/g" \
	-e "s/127\.0\.0\.1:5070/127.0.0.1:$IP/g" \
	-e "s/127\.0\.0\.1:5080/127.0.0.1:$SP/g" \
	-e "s/127\.0\.0\.1:3868/127.0.0.1:$DP/g" \
	-e '/^data_dir/d' "$SAMPLES/ims-standalone.conf" >"$E2E_TMP/ims.conf" ||
	fail "cannot render ims-standalone.conf"
# the P-CSCF's I-CSCF: the home domain by NAPTR/SRV
awk -v d="$REALM" '
	/^\[pcscf\]/ { s = 1 } /^\[/ && !/^\[pcscf\]/ { s = 0 }
	s && /^icscf = / { print "icscf = sip:" d; next } { print }' \
	"$E2E_TMP/ims.conf" >"$E2E_TMP/ims.conf.1" &&
	mv "$E2E_TMP/ims.conf.1" "$E2E_TMP/ims.conf"
printf '\n[sip]\ndns = 127.0.0.1:%s\n' "$NSP" >>"$E2E_TMP/ims.conf"
grep -q "^icscf = sip:$REALM\$" "$E2E_TMP/ims.conf" ||
	fail "the rendered config has no [pcscf] icscf = sip:$REALM"
grep -q "^uri = sip:scscf.$REALM:$SP\$" "$E2E_TMP/ims.conf" ||
	fail "the rendered config does not name the S-CSCF"
! grep -qE '^(uri|icscf|scscf) = sip:127' "$E2E_TMP/ims.conf" ||
	fail "the rendered config still names IPs (see ims.conf)"

DATA=$E2E_TMP/data
mkdir -p "$DATA"
for u in alice bob; do
	"$ENTIMS" subscriber add "$u" --data-dir "$DATA" --impi "$u@$REALM" \
		--impu "sip:$u@$REALM" --password "$u-secret" \
		--scheme digest-md5 >>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add $u (see subscriber.log)"
done

(cd "$E2E_TMP" && exec "$ENTIMS" run -c "$E2E_TMP/ims.conf" \
	--data-dir "$DATA" --log-level debug) >"$E2E_TMP/ims.log" 2>&1 \
	</dev/null &
IMS=$!
E2E_PIDS+=("$IMS")
for ((i = 0; i < 300; i++)); do
	grep -q '^entims ready' "$E2E_TMP/ims.log" 2>/dev/null && break
	kill -0 "$IMS" 2>/dev/null || fail "entims exited before it was ready"
	sleep 0.1
done
grep -q '^entims ready' "$E2E_TMP/ims.log" || fail "entims not ready after 30 s"

register() {
	local rc=0
	sipp_run "reg-$1" 40 "127.0.0.1:$PP" -sf "$CALLS/register.xml" \
		-key user "$1" -key domain "$REALM" -au "$1@$REALM" \
		-ap "$1-secret" -auth_uri "$REALM" -i 127.0.0.1 -p "$2" \
		-m 1 -recv_timeout 35000 || rc=$?
	expect_rc "$1 registers through the P-CSCF (I-CSCF by NAPTR/SRV)" "$rc" 0
}
register alice "$AP"
register bob "$BP"

# the REGISTER went to the dead SRV target first, then to the I-CSCF
grep -qE "next hop failed .*trying target 2 of 2|REGISTER to UDP 127\.0\.0\.1:$DEADP failed" \
	"$E2E_TMP/ims.log" ||
	fail "P-CSCF: no failover from the first SRV target (see ims.log)"
grep -qE "query\[NAPTR\] $REALM from 127\.0\.0\.1" "$E2E_TMP/dnsmasq.log" ||
	fail "dnsmasq saw no NAPTR query for $REALM (see dnsmasq.log)"
grep -qE "query\[A\] scscf\.$REALM from 127\.0\.0\.1" "$E2E_TMP/dnsmasq.log" ||
	fail "dnsmasq saw no A query for scscf.$REALM (see dnsmasq.log)"
log "ok: NAPTR/SRV of $REALM, failover to the second target, S-CSCF by name"
# the Service-Route names the S-CSCF, and the P-CSCF's reg event
# SUBSCRIBE went along it (TS 24.229 5.2.3)
grep -qiE "^Service-Route: *<sip:scscf\.$REALM:$SP;lr;orig>" \
	"$E2E_TMP/reg-alice.msg.log" ||
	fail "alice's 200 has no Service-Route <sip:scscf.$REALM:$SP;lr;orig>"
for u in alice bob; do
	grep -qE "reg event subscription to sip:$u@$REALM accepted" \
		"$E2E_TMP/ims.log" ||
		fail "the P-CSCF's reg event SUBSCRIBE for $u (by name) failed"
done

# ---- alice calls bob, every hop by name ----
sipp_bg bob "127.0.0.1:$PP" -sf "$CALLS/uas.xml" -i 127.0.0.1 -p "$BP" \
	-m 1 -recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run alice 30 "127.0.0.1:$PP" -sf "$CALLS/uac.xml" \
	-key user alice -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice calls bob: INVITE/180/200, ACK, BYE/200 (hops by name)" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob answers, gets the ACK and the BYE" "$rc" 0
rr=$(awk '/^INVITE sip:/ {f=1} f && /^\r?$/ {exit} f {print}' \
	"$E2E_TMP/bob.msg.log" | grep -iE '^Record-Route:' | tr '\n' ' ')
grep -q "sip:scscf\.$REALM:$SP;lr" <<<"$rr" ||
	fail "bob: Record-Route should name the S-CSCF: $rr"
grep -qE "@pcscf\.$REALM:$PP;lr" <<<"$rr" ||
	fail "bob: Record-Route should name the P-CSCF: $rr"
log "ok: bob's INVITE came through P, S, I, S, P by name: $rr"

# ---- alice calls another domain: the S-CSCF sends it by DNS ----
sipp_bg carol -sf "$SIPPDIR/uas_call.xml" -i 127.0.0.1 -p "$UASP" -m 1 \
	-timeout 30 -timeout_error
UAS=$SIPP_PID
wait_udp_bound "$UASP"
rc=0
sipp_run alice-foreign 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user alice -key callee carol -key domain "$REALM" \
	-key cdomain "$FOREIGN" -i 127.0.0.1 -p "$AP" -m 1 \
	-recv_timeout 10000 || rc=$?
expect_rc "alice calls sip:carol@$FOREIGN: INVITE/180/200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$UAS" 15 || rc=$?
expect_rc "the UAS on the SRV port of $FOREIGN answers, gets ACK and BYE" "$rc" 0
grep -aqE "^INVITE sip:carol@${FOREIGN//./\\.} SIP/2\.0" \
	"$E2E_TMP/carol.msg.log" ||
	fail "the UAS did not get INVITE sip:carol@$FOREIGN (see carol.msg.log)"
grep -qE "INVITE to DNS, 1 branch" "$E2E_TMP/ims.log" ||
	fail "S-CSCF: the INVITE to $FOREIGN did not leave by DNS (see ims.log)"
grep -qE "query\[(NAPTR|SRV)\] (_sip\._udp\.)?${FOREIGN//./\\.} from 127\.0\.0\.1" \
	"$E2E_TMP/dnsmasq.log" ||
	fail "dnsmasq saw no NAPTR/SRV query for $FOREIGN"
log "ok: the S-CSCF sent sip:carol@$FOREIGN by NAPTR/SRV to the UAS"

pass
