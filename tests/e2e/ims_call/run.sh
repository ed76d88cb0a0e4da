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
# S-CSCF; the S-CSCF's call records (one line per session case at the end
# of the call) show both cases, answered, ended by the caller's BYE; the
# I-CSCF its LIR.
# Then through application servers: carol's originating iFC (a proxy AS
# and back), dave's REGISTER iFC (a third-party REGISTER with his REGISTER
# and its 200, TS 24.229 5.4.1.7) and terminating iFC (alice calls dave
# through his AS and back), DefaultHandling with the AS down:
# SESSION_CONTINUED (carol), SESSION_TERMINATED for a call (frank: 408,
# the callee never sees it) and for a registration (erin: de-registered
# after her third-party REGISTER went unanswered).
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

# dave: a REGISTER iFC to the AS at RASP (ServiceInfo, both Include
# flags) and a terminating INVITE iFC to the AS at TASP; frank: an
# originating INVITE iFC to an AS that is down, SESSION_TERMINATED; erin: a
# REGISTER iFC to that AS, SESSION_TERMINATED.  Nothing listens on DEADP.
RASP=$(free_port)
TASP=$(free_port)
DEADP=$(free_port)
cat >"$E2E_TMP/ifc-reg.json" <<EOF
[ { "name": "reg-as", "priority": 0, "as_uri": "sip:127.0.0.1:$RASP",
    "default_handling": "session_continued", "service_info": "dave-svc",
    "include_register_request": true, "include_register_response": true,
    "trigger": { "cnf": true, "spt": [ { "group": 0, "method": "REGISTER" } ] } },
  { "name": "reg-as-down", "priority": 0, "as_uri": "sip:127.0.0.1:$DEADP",
    "default_handling": "session_terminated",
    "trigger": { "cnf": true, "spt": [ { "group": 0, "method": "REGISTER" } ] } } ]
EOF
"$ENTIMS" ifc add "$E2E_TMP/ifc-reg.json" --data-dir "$DATA" \
	>>"$E2E_TMP/subscriber.log" 2>&1 || fail "ifc add reg-as (see subscriber.log)"
"$ENTIMS" ifc add term-as --data-dir "$DATA" --priority 1 \
	--as "sip:127.0.0.1:$TASP" --method INVITE \
	--session-case terminating_registered \
	--default-handling session_continued >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "ifc add term-as (see subscriber.log)"
"$ENTIMS" ifc add orig-as-down --data-dir "$DATA" --priority 1 \
	--as "sip:127.0.0.1:$DEADP" --method INVITE --session-case originating \
	--default-handling session_terminated >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "ifc add orig-as-down (see subscriber.log)"
for sp in "sp-dave --ifc reg-as --ifc term-as" "sp-frank --ifc orig-as-down" \
	"sp-erin --ifc reg-as-down"; do
	# shellcheck disable=SC2086
	"$ENTIMS" profile add $sp --data-dir "$DATA" \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "profile add $sp (see subscriber.log)"
done
for u in dave frank erin; do
	"$ENTIMS" subscriber add "$u" --data-dir "$DATA" --impi "$u@$REALM" \
		--impu "sip:$u@$REALM" --password "$u-secret" \
		--scheme digest-md5 --profile "sp-$u" \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
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
# the call records: one line per session case, same Call-ID and icid
# (P-CSCF's P-Charging-Vector), answered, ended by alice's BYE
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z'
orig=$(grep -E "call-record call-id=[^ ]+ icid=[^ -][^ ]* user=sip:alice@$REALM case=orig from=sip:alice@$REALM to=sip:bob@$REALM start=$ts answer=$ts end=$ts duration=[0-9]+ end-cause=bye-caller scode=0\$" \
	"$E2E_TMP/ims.log" | head -n 1)
[ -n "$orig" ] ||
	fail "S-CSCF: no complete call record for alice's call (orig, answered, bye-caller)"
cid=$(sed -E 's/.*call-id=([^ ]+) .*/\1/' <<<"$orig")
icid=$(sed -E 's/.* icid=([^ ]+) .*/\1/' <<<"$orig")
grep -F "call-record call-id=$cid icid=$icid user=sip:bob@$REALM case=term from=sip:alice@$REALM to=sip:bob@$REALM start=" \
	"$E2E_TMP/ims.log" | grep -qE "answer=$ts .* end-cause=bye-caller scode=0\$" ||
	fail "S-CSCF: no terminating call record for bob with alice's Call-ID $cid, answered, ended by the caller's BYE"
log "ok: call records orig (alice) and term (bob): one Call-ID and icid, answered, bye-caller"
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
# Nothing listens on the AS port: the UDP transport reads the ICMP port
# unreachable and ends the S-CSCF's client transaction at once (RFC 3261
# 18.4, instead of Timer B's 32 s), then the request goes on (TS 29.228
# B.2.2).
sipp_bg bob3 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$BP" -m 1 -recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run carol2 20 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user carol -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$CP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "carol calls bob with her AS down (session_continued)" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob answers carol's call without the AS" "$rc" 0
grep -q 'application server failed' "$E2E_TMP/ims.log" ||
	fail "S-CSCF: no DefaultHandling in the log"
log "ok: DefaultHandling SESSION_CONTINUED skipped the AS that is down"

# ---- dave: third-party REGISTER (TS 24.229 5.4.1.7) --------------------------
sipp_bg regas "127.0.0.1:$SP" -sf "$E2E_SCENARIO/reg_as.xml" -i 127.0.0.1 \
	-p "$RASP" -m 1 -recv_timeout 15000
RAS=$SIPP_PID
wait_udp_bound "$RASP"
DVP=$(free_port)
while [ "$DVP" = "$AP" ] || [ "$DVP" = "$BP" ] || [ "$DVP" = "$CP" ]; do
	DVP=$(free_port)
done
register dave "$DVP"
rc=0
wait_pid "$RAS" 10 || rc=$?
expect_rc "dave's AS got the third-party REGISTER (multipart: service-info, REGISTER, 200) and answered 200" "$rc" 0
tpr=$E2E_TMP/regas.register
awk '/^REGISTER sip:/ {f=1} f {print} f && /boundary--/ {exit}' \
	"$E2E_TMP/regas.msg.log" >"$tpr"
grep -q "^REGISTER sip:127\.0\.0\.1:$RASP SIP/2\.0" "$tpr" ||
	fail "third-party REGISTER: Request-URI is not the AS (see regas.register)"
grep -q "^From: <sip:127\.0\.0\.1:$SP>;tag=" "$tpr" ||
	fail "third-party REGISTER: From is not the S-CSCF"
grep -q "^To: <sip:dave@$REALM>" "$tpr" ||
	fail "third-party REGISTER: To is not dave"
grep -q "^Contact: <sip:127\.0\.0\.1:$SP>" "$tpr" ||
	fail "third-party REGISTER: Contact is not the S-CSCF"
grep -q "^Expires: 600" "$tpr" ||
	fail "third-party REGISTER: Expires is not the registration's 600"
grep -q "<service-info>dave-svc</service-info>" "$tpr" ||
	fail "third-party REGISTER: no service-info dave-svc"
grep -q "^REGISTER sip:$REALM SIP/2\.0" "$tpr" ||
	fail "third-party REGISTER: dave's REGISTER is not in the body"
grep -qi "^Authorization: Digest username=\"dave@$REALM\"" "$tpr" ||
	fail "third-party REGISTER: the included REGISTER is not the authenticated one"
grep -q "^SIP/2\.0 200 OK" "$tpr" ||
	fail "third-party REGISTER: the 200 OK is not in the body"
grep -q "^Service-Route: <sip:127\.0\.0\.1:$SP;lr;orig>" "$tpr" ||
	fail "third-party REGISTER: the included 200 has no Service-Route"
log "ok: third-party REGISTER to dave's AS: R-URI, From/To/Contact, Expires, service-info, REGISTER and 200 bodies"

# ---- alice -> dave through dave's terminating iFC ----------------------------
sipp_bg tas "127.0.0.1:$SP" -sf "$E2E_SCENARIO/term_as.xml" -i 127.0.0.1 \
	-p "$TASP" -m 1 -recv_timeout 15000
TAS=$SIPP_PID
wait_udp_bound "$TASP"
sipp_bg dave "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$DVP" -m 1 -recv_timeout 15000
DAVE=$SIPP_PID
wait_udp_bound "$DVP"
rc=0
sipp_run alice2 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac.xml" \
	-key user alice -key callee dave -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice calls dave through his terminating AS: INVITE/180/200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$TAS" 10 || rc=$?
expect_rc "dave's AS got the terminating INVITE (ODI Route, P-Served-User sescase=term) and sent it back" "$rc" 0
rc=0
wait_pid "$DAVE" 10 || rc=$?
expect_rc "dave answers alice's call" "$rc" 0
inv=$E2E_TMP/dave.invite
awk '/^INVITE sip:/ {f=1} f && /^\r?$/ {exit} f {print}' \
	"$E2E_TMP/dave.msg.log" >"$inv"
grep -qiE "^Via: SIP/2.0/UDP 127\.0\.0\.1:$TASP;" "$inv" ||
	fail "dave: the INVITE did not pass his AS (no Via of 127.0.0.1:$TASP)"
grep -qiE "^P-Asserted-Identity: *<?sip:alice@$REALM>?" "$inv" ||
	fail "dave: no P-Asserted-Identity sip:alice@$REALM"
log "ok: alice's call went through dave's terminating AS and reached dave"

# ---- a cancelled call: alice cancels while bob's phone rings ----------------
sipp_bg bob5 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/../sipp/uas_cancel.xml" \
	-i 127.0.0.1 -p "$BP" -m 1 -recv_timeout 15000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run alice3 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/../sipp/uac_cancel.xml" \
	-key user alice -key domain "$REALM" -s bob -i 127.0.0.1 -p "$AP" \
	-m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice cancels her ringing call to bob: 200 for the CANCEL, 487, ACK" "$rc" 0
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob gets the CANCEL, answers 487, gets the ACK" "$rc" 0
for who in "alice@$REALM case=orig" "bob@$REALM case=term"; do
	grep -qE "call-record call-id=[^ ]+ icid=[^ ]+ user=sip:$who from=sip:alice@$REALM to=sip:bob@$REALM start=$ts answer=- end=$ts duration=0 end-cause=cancel scode=0\$" \
		"$E2E_TMP/ims.log" ||
		fail "S-CSCF: no cancelled call record for $who"
done
log "ok: the cancelled call's records (orig and term) end as cancel"

# ---- DefaultHandling SESSION_TERMINATED with the AS down ---------------------
# erin's registration: 200, then her third-party REGISTER fails (ICMP
# port unreachable, like a silent AS) and she is de-registered (5.4.1.7).
# frank calls bob: his AS fails the same way and the session ends with
# 408 (TS 29.228 B.2.2, scscf_route_as_failed); bob must not get the
# INVITE.
EP=$(free_port)
FP=$(free_port)
while [ "$FP" = "$EP" ]; do FP=$(free_port); done
register erin "$EP"
register frank "$FP"
sipp_bg bob4 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uas.xml" -i 127.0.0.1 \
	-p "$BP" -m 1 -recv_timeout 20000
BOB=$SIPP_PID
wait_udp_bound "$BP"
rc=0
sipp_run frank 20 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac_fail.xml" \
	-key user frank -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$FP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "frank's call with his AS down (session_terminated) fails with 408" "$rc" 0
if grep -q '^INVITE sip:' "$E2E_TMP/bob4.msg.log" 2>/dev/null; then
	fail "bob got frank's INVITE: the session was continued"
fi
kill "$BOB" 2>/dev/null || true
log "ok: DefaultHandling SESSION_TERMINATED ended frank's call, bob never saw it"
grep -qE "call-record call-id=[^ ]+ icid=[^ ]+ user=sip:frank@$REALM case=orig from=sip:frank@$REALM to=sip:bob@$REALM start=$ts answer=- end=$ts duration=0 end-cause=failed scode=408\$" \
	"$E2E_TMP/ims.log" ||
	fail "S-CSCF: no failed (408) call record for frank's call"
log "ok: frank's call record: not answered, failed 408"
for ((i = 0; i < 100; i++)); do
	grep -q "network-initiated de-registration of sip:erin@$REALM" \
		"$E2E_TMP/ims.log" && break
	sleep 0.1
done
grep -q "network-initiated de-registration of sip:erin@$REALM" \
	"$E2E_TMP/ims.log" ||
	fail "S-CSCF: erin not de-registered after her AS (session_terminated) did not answer"
log "ok: DefaultHandling SESSION_TERMINATED de-registered erin"

kill -TERM "$IMS"
rc=0
wait_pid "$IMS" 10 || rc=$?
[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM"
pass
