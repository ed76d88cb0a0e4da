#!/usr/bin/env bash
# An IMS call end to end (TS 24.229 5.2.6, 5.3.2, 5.4.3): the P-, I- and
# S-CSCF and the HSS in one process (data/ims-standalone.conf on free
# ports, Cx in-process).  alice and bob register through the P-CSCF
# (Digest MD5); bob's phone waits; alice calls sip:bob@ims.test:
#   alice -> P-CSCF -> S-CSCF (originating, Service-Route) -> I-CSCF (LIR)
#         -> S-CSCF (terminating: bob's contact via its Path) -> P-CSCF
#         -> bob over his flow
# INVITE/100/180/200, ACK and BYE by the Record-Route set, 200.  Checked on
# bob's side: P-Asserted-Identity is alice (asserted by the P-CSCF, RFC
# 3325), the Record-Route has the P-CSCF (with its flow token) and the
# S-CSCF; the S-CSCF log shows both session cases, the I-CSCF its LIR.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SAMPLES=$(cd "$E2E_SCENARIO/../../../data" && pwd)
REALM=ims.test
PP=$(free_port)
IP=$(free_port)
SP=$(free_port)
DP=$(free_port)
log "ports: P-CSCF $PP, I-CSCF $IP, S-CSCF $SP, Diameter $DP"

sed -e "s/127\.0\.0\.1:5060/127.0.0.1:$PP/g" \
	-e "s/127\.0\.0\.1:5070/127.0.0.1:$IP/g" \
	-e "s/127\.0\.0\.1:5080/127.0.0.1:$SP/g" \
	-e "s/127\.0\.0\.1:3868/127.0.0.1:$DP/g" \
	-e '/^data_dir/d' "$SAMPLES/ims-standalone.conf" >"$E2E_TMP/ims.conf" ||
	fail "cannot render ims-standalone.conf"

DATA=$E2E_TMP/data
mkdir -p "$DATA"
for u in alice bob; do
	"$ENTIMS" subscriber add "$u" --data-dir "$DATA" --impi "$u@$REALM" \
		--impu "sip:$u@$REALM" --password "$u-secret" \
		--scheme digest-md5 >>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add $u (see subscriber.log)"
done

# carol: an originating iFC sending INVITEs to the AS
ASP=$(free_port)
"$ENTIMS" ifc add orig-as --data-dir "$DATA" --priority 1 \
	--as "sip:127.0.0.1:$ASP" --method INVITE --session-case originating \
	--default-handling session_continued >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "ifc add (see subscriber.log)"
"$ENTIMS" profile add sp-as --data-dir "$DATA" --ifc orig-as \
	>>"$E2E_TMP/subscriber.log" 2>&1 || fail "profile add (see subscriber.log)"
"$ENTIMS" subscriber add carol --data-dir "$DATA" --impi "carol@$REALM" \
	--impu "sip:carol@$REALM" --password carol-secret --scheme digest-md5 \
	--profile sp-as >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber add carol (see subscriber.log)"

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

# register <user> <port>: kept registration from that port (its flow)
register() {
	local rc=0
	sipp_run "reg-$1" 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/register.xml" \
		-key user "$1" -key domain "$REALM" -au "$1@$REALM" \
		-ap "$1-secret" -auth_uri "$REALM" -i 127.0.0.1 -p "$2" \
		-m 1 -recv_timeout 5000 || rc=$?
	expect_rc "$1 registers through the P-CSCF" "$rc" 0
}

AP=$(free_port)
BP=$(free_port)
while [ "$BP" = "$AP" ]; do BP=$(free_port); done
register alice "$AP"
register bob "$BP"

sipp_bg bob "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$BP" -m 1 -recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"

rc=0
sipp_run alice 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user alice -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice calls bob: INVITE/180/200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob answers, gets the ACK and the BYE" "$rc" 0

# bob's INVITE, as received
inv=$E2E_TMP/bob.invite
awk '/^INVITE sip:/ {f=1} f && /^\r?$/ {exit} f {print}' \
	"$E2E_TMP/bob.msg.log" >"$inv"
grep -q '^INVITE sip:bob@127\.0\.0\.1:'"$BP" "$inv" ||
	fail "bob: the INVITE's Request-URI is not his contact (see bob.invite)"
grep -qiE "^P-Asserted-Identity: *<?sip:alice@$REALM>?" "$inv" ||
	fail "bob: no P-Asserted-Identity sip:alice@$REALM"
log "ok: bob sees P-Asserted-Identity sip:alice@$REALM"
rr=$(grep -iE '^Record-Route:' "$inv" | tr '\n' ' ')
pn=$(grep -oE "sip:[0-9a-zA-Z_-]+@127\.0\.0\.1:$PP;lr" <<<"$rr" | wc -l)
sn=$(grep -oE "sip:127\.0\.0\.1:$SP;lr" <<<"$rr" | wc -l)
[ "$pn" -eq 2 ] ||
	fail "bob: Record-Route should name the P-CSCF twice (caller's and callee's flow): $rr"
[ "$sn" -eq 2 ] ||
	fail "bob: Record-Route should name the S-CSCF (originating and terminating): $rr"
# order (RFC 3261 16.6 step 4, each on top): P(bob), S, S, P(alice)
order=$(grep -oE "@127\.0\.0\.1:$PP;lr|sip:127\.0\.0\.1:$SP;lr" <<<"$rr" |
	sed -e "s/.*:$PP;lr/P/" -e "s/.*:$SP;lr/S/" | tr -d '\n')
[ "$order" = PSSP ] || fail "bob: Record-Route order $order, expected PSSP: $rr"
log "ok: Record-Route P-CSCF, S-CSCF (term), S-CSCF (orig), P-CSCF"
grep -q 'call start: orig sip:alice@ims.test' "$E2E_TMP/ims.log" ||
	fail "S-CSCF: no originating call start for alice"
grep -q 'call start: term sip:bob@ims.test' "$E2E_TMP/ims.log" ||
	fail "S-CSCF: no terminating call start for bob"
grep -q 'call answer: orig sip:alice@ims.test' "$E2E_TMP/ims.log" ||
	fail "S-CSCF: no answer seen for alice's call"
# Cx command 302 is the Location-Info-Request (TS 29.229 6.1.5)
grep -qE 'request 302 .*in-process' "$E2E_TMP/ims.log" ||
	fail "I-CSCF: no LIR (Cx 302) to the HSS in the log"
log "ok: S-CSCF session cases orig and term, I-CSCF LIR"

# ---- carol -> AS -> bob ------------------------------------------------------
CP=$(free_port)
while [ "$CP" = "$AP" ] || [ "$CP" = "$BP" ]; do CP=$(free_port); done
register carol "$CP"
sipp_bg as "127.0.0.1:$SP" -sf "$E2E_SCENARIO/as.xml" -i 127.0.0.1 \
	-p "$ASP" -m 1 -recv_timeout 15000
AS=$SIPP_PID
wait_udp_bound "$ASP"
sipp_bg bob2 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$BP" -m 1 -recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run carol 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user carol -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$CP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "carol calls bob through her AS: INVITE/180/200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$AS" 10 || rc=$?
expect_rc "the AS got the INVITE with the ODI Route and P-Served-User, sent it back" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob answers carol's call" "$rc" 0
inv=$E2E_TMP/bob2.invite
awk '/^INVITE sip:/ {f=1} f && /^\r?$/ {exit} f {print}' \
	"$E2E_TMP/bob2.msg.log" >"$inv"
grep -qiE "^P-Asserted-Identity: *<?sip:carol@$REALM>?" "$inv" ||
	fail "bob: no P-Asserted-Identity sip:carol@$REALM on the AS's call"
grep -qiE "^Via: SIP/2.0/UDP 127\.0\.0\.1:$ASP;" "$inv" ||
	fail "bob: the INVITE did not pass the AS (no Via of 127.0.0.1:$ASP)"
log "ok: carol's INVITE went through the AS and reached bob as carol"

# ---- DefaultHandling: the AS is down, SESSION_CONTINUED -----------------------
# Nothing listens on the AS port and an ICMP port unreachable is not
# reported by the UDP transport: the S-CSCF's client transaction ends
# with Timer B (64*T1 = 32 s, RFC 3261 17.1.1.2), then the request goes on
# (TS 29.228 B.2.2).  The caller's side is in Proceeding (100) meanwhile.
sipp_bg bob3 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$BP" -m 1 -recv_timeout 50000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run carol2 60 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user carol -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$CP" -m 1 -recv_timeout 45000 || rc=$?
expect_rc "carol calls bob with her AS down (session_continued)" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob answers carol's call without the AS" "$rc" 0
grep -q 'application server failed' "$E2E_TMP/ims.log" ||
	fail "S-CSCF: no DefaultHandling in the log"
log "ok: DefaultHandling SESSION_CONTINUED skipped the AS that is down"

kill -TERM "$IMS"
rc=0
wait_pid "$IMS" 10 || rc=$?
[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM"
pass
