#!/usr/bin/env bash
# Forking and CANCEL through the IMS core (TS 24.229 5.4.3.3: the S-CSCF
# sends a terminating request to every registered contact of the callee
# in parallel, each via its Path; RFC 3261 16.7, 16.10): the four roles
# of data/ims-standalone.conf in one process on free ports.
#  1. bob registers two contacts (two ports, two flows at the P-CSCF);
#     alice calls him: both contacts ring (a 180 from each reaches alice),
#     the first answers 700 ms later, the S-CSCF cancels the other, whose
#     487 ends at the S-CSCF (alice's sipp fails on any unexpected
#     response); ACK and BYE reach the one that answered.
#  2. alice calls bob again and cancels while both ring: each contact gets
#     a CANCEL and answers 487, alice gets 200 for her CANCEL and one 487.
#  3. carol is registered but her phone is gone (nothing listens on her
#     contact's port): 480 Temporarily Unavailable.
#  4. dave is nobody's identity here: 404 from the I-CSCF (LIR).
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SAMPLES=$(cd "$E2E_SCENARIO/../../../data" && pwd)
CALLS=$E2E_SCENARIO/../ims_call
SIPPDIR=$E2E_SCENARIO/../sipp
REALM=ims.test

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
AP=$(pick)
B1=$(pick)
B2=$(pick)
CP=$(pick)
log "ports: P $PP, I $IP, S $SP, Diameter $DP; alice $AP, bob $B1 $B2, carol $CP"

sed -e "s/127\.0\.0\.1:5060/127.0.0.1:$PP/g" \
	-e "s/127\.0\.0\.1:5070/127.0.0.1:$IP/g" \
	-e "s/127\.0\.0\.1:5080/127.0.0.1:$SP/g" \
	-e "s/127\.0\.0\.1:3868/127.0.0.1:$DP/g" \
	-e '/^data_dir/d' "$SAMPLES/ims-standalone.conf" >"$E2E_TMP/ims.conf" ||
	fail "cannot render ims-standalone.conf"

DATA=$E2E_TMP/data
mkdir -p "$DATA"
for u in alice bob carol; do
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

# register <name> <user> <port>: a registration kept from that port
register() {
	local rc=0
	sipp_run "reg-$1" 30 "127.0.0.1:$PP" -sf "$CALLS/register.xml" \
		-key user "$2" -key domain "$REALM" -au "$2@$REALM" \
		-ap "$2-secret" -auth_uri "$REALM" -i 127.0.0.1 -p "$3" \
		-m 1 -recv_timeout 5000 || rc=$?
	expect_rc "$2 registers from port $3" "$rc" 0
}
register alice alice "$AP"
register bob1 bob "$B1"
register bob2 bob "$B2"
register carol carol "$CP"

# callee <name> <scenario> <port>: a contact's phone; sets CALLEE_PID
callee() {
	sipp_bg "$1" "127.0.0.1:$PP" -sf "$2" -i 127.0.0.1 -p "$3" -m 1 \
		-recv_timeout 15000
	CALLEE_PID=$SIPP_PID
	wait_udp_bound "$3"
}

# ---- 1. forked, one answers, the other is cancelled ----
callee bob1-answer "$E2E_SCENARIO/uas_answer.xml" "$B1"
ANS=$CALLEE_PID
callee bob2-cancelled "$SIPPDIR/uas_cancel.xml" "$B2"
CAN=$CALLEE_PID
rc=0
sipp_run alice-fork 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac_fork.xml" \
	-key user alice -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice: INVITE, 180 from each contact, 200, ACK, BYE/200" "$rc" 0
rc=0
wait_pid "$ANS" 10 || rc=$?
expect_rc "bob's first contact: INVITE, 180, 200, ACK, BYE" "$rc" 0
rc=0
wait_pid "$CAN" 10 || rc=$?
expect_rc "bob's second contact: INVITE, 180, CANCEL, 200, 487, ACK" "$rc" 0
! grep -q '^SIP/2.0 487' "$E2E_TMP/alice-fork.msg.log" ||
	fail "alice got the cancelled branch's 487 (see alice-fork.msg.log)"
grep -q '^INVITE sip:bob@127\.0\.0\.1:'"$B1" "$E2E_TMP/bob1-answer.msg.log" ||
	fail "bob's first contact did not get INVITE sip:bob@127.0.0.1:$B1"
grep -q '^INVITE sip:bob@127\.0\.0\.1:'"$B2" "$E2E_TMP/bob2-cancelled.msg.log" ||
	fail "bob's second contact did not get INVITE sip:bob@127.0.0.1:$B2"
grep -qE "INVITE to contact, 2 branch\(es\)" "$E2E_TMP/ims.log" ||
	fail "S-CSCF: the INVITE did not fork to 2 contacts (see ims.log)"
log "ok: forked to both contacts, the other one cancelled, its 487 kept at the S-CSCF"

# ---- 2. alice cancels while both ring ----
callee bob1-cancel "$SIPPDIR/uas_cancel.xml" "$B1"
C1=$CALLEE_PID
callee bob2-cancel "$SIPPDIR/uas_cancel.xml" "$B2"
C2=$CALLEE_PID
rc=0
sipp_run alice-cancel 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac_cancel.xml" \
	-key user alice -key callee bob -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice: INVITE, 180, 180, CANCEL, 200, 487, ACK" "$rc" 0
for p in "$C1" "$C2"; do
	rc=0
	wait_pid "$p" 10 || rc=$?
	expect_rc "a contact of bob: INVITE, 180, CANCEL, 200, 487, ACK" "$rc" 0
done
n=$(grep -c '^SIP/2.0 487' "$E2E_TMP/alice-cancel.msg.log")
[ "$n" -eq 1 ] || fail "alice should get one 487, got $n"
log "ok: alice's CANCEL reached both contacts, one 487 came back"

# ---- 3. carol registered, her phone gone ----
rc=0
sipp_run alice-carol 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac_480.xml" \
	-key user alice -key callee carol -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 15000 || rc=$?
expect_rc "alice calls carol, whose contact is dead: 480" "$rc" 0

# ---- 4. nobody ----
rc=0
sipp_run alice-dave 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/uac_404.xml" \
	-key user alice -key callee dave -key domain "$REALM" -i 127.0.0.1 \
	-p "$AP" -m 1 -recv_timeout 10000 || rc=$?
expect_rc "alice calls sip:dave@$REALM, unknown: 404" "$rc" 0

kill -0 "$IMS" 2>/dev/null || fail "entims died"
kill -TERM "$IMS"
rc=0
wait_pid "$IMS" 10 || rc=$?
[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM (see ims.log)"
pass
