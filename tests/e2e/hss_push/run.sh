#!/usr/bin/env bash
# Provisioning reaches the S-CSCF: the HSS pushes a changed profile (PPR,
# TS 29.228 6.2.2) and deregisters administratively (RTR, 6.1.3).
#
# A subscriber provisioned with the CLI; entims run with [core] roles =
# hss; a fake S-CSCF (scscf.py, a Cx peer in python) registers the user
# with MAR + SAR REGISTRATION and stays connected.  Then, each checked
# within 5 s on what the S-CSCF receives:
#   - a password change: nothing for the S-CSCF, no PPR;
#   - `entims subscriber set --barred yes` on tel:: a PPR whose User-Data
#     has the tel: URI barred and sip: not, answered PPA 2001;
#   - an iFC added to the user's service profile: a PPR with its AS;
#   - `entims subscriber deregister alice@ims.test --reason server-change
#     --info TEXT`: an RTR with Reason-Code 2 (SERVER_CHANGE) and the
#     Reason-Info TEXT, answered RTA 2001, after which `entims subscriber
#     show` says not_registered and a second deregister says nothing will
#     be sent;
#   - registered again, `entims subscriber delete alice`: the rows go at
#     once (prov_sub_delete, the library path the REST API uses) and the
#     RTR with Reason-Code 0 (PERMANENT_TERMINATION) still reaches the
#     S-CSCF, sent by the HSS from the event's snapshot; the HSS logs that
#     the RTA found the subscription gone.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

REALM=ims.test
IMPI=alice@$REALM
IMPU=sip:alice@$REALM
TEL=tel:+15145550100
HSS_PORT=$(free_port)
OUT=$E2E_TMP/cli.out
ERR=$E2E_TMP/cli.err

cat >"$E2E_TMP/hss.conf" <<CONF
[core]
roles = hss
[diameter]
identity = hss.$REALM
realm = $REALM
listen = tcp:127.0.0.1:$HSS_PORT
peers = scscf.$REALM
[hss]
scscf = sip:scscf.$REALM;cap=1
CONF

# cli <expected status> <what> <entims args...>: stdout in OUT, stderr in ERR
cli() {
	local want=$1 what=$2 rc=0
	shift 2
	"$ENTIMS" "$@" -c "$E2E_TMP/hss.conf" --data-dir "$ENTIMS_DATA" \
		>"$OUT" 2>"$ERR" </dev/null || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "$what: exit status $rc, expected $want: $(cat "$OUT" "$ERR")"
	log "ok: $what"
}

says() {
	grep -qF -- "$2" "$1" || fail "expected '$2' in ${1##*/}: $(cat "$1")"
}

# wait_line <pattern> <count> <secs>: the S-CSCF printed <count> lines
# matching the extended regex, within <secs> seconds.
wait_line() {
	local pat=$1 n=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(grep -cE -- "$pat" "$SCSCF_OUT" || true)" -ge "$n" ] && return 0
		kill -0 "$SCSCF_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "the S-CSCF did not get '$pat' (x$n) within $secs s: $(cat "$SCSCF_OUT")"
}

cli 0 "ifc add" ifc add ifc-reg --priority 1 --as sip:as1.$REALM \
	--method INVITE --profile gold
cli 0 "subscriber add" subscriber add alice --impi "$IMPI" \
	--password alice-secret --impu "$IMPU" --impu "$TEL" --profile gold
cli 0 "deregister before registration" subscriber deregister "$IMPI"
says "$OUT" "is not registered"
says "$OUT" "no deregistration (RTR) will be sent"

entims_launch "$(free_port)" "$E2E_TMP/hss.conf"

SCSCF_OUT=$E2E_TMP/scscf.out
python3 "$E2E_SCENARIO/scscf.py" "$HSS_PORT" "scscf.$REALM" "$REALM" \
	"$IMPI" "$IMPU" 60 >"$SCSCF_OUT" 2>&1 </dev/null &
SCSCF_PID=$!
E2E_PIDS+=("$SCSCF_PID")
wait_line '^REGISTERED$' 1 10
cli 0 "show registered" subscriber show alice
says "$OUT" "\"$IMPU\": \"registered\""
says "$OUT" "\"scscf_host\": \"scscf.$REALM\""

# not the S-CSCF's business: no PPR (the barring below must be the first)
cli 0 "password change" subscriber set alice --impi "$IMPI" \
	--password new-secret

cli 0 "bar tel:" subscriber set alice --impu "$TEL" --barred yes
wait_line '^PPR ' 1 5
says "$SCSCF_OUT" "PPR user=$IMPI pub=$IMPU:0,$TEL:1 as=sip:as1.$REALM"
[ "$(grep -c '^PPR ' "$SCSCF_OUT")" -eq 1 ] ||
	fail "a PPR too many (the password change?): $(cat "$SCSCF_OUT")"
log "ok: PPR with tel: barred"

cli 0 "ifc added to the profile" ifc add ifc-vm --priority 2 \
	--as sip:vm.$REALM --method MESSAGE --profile gold
wait_line '^PPR ' 2 5
says "$SCSCF_OUT" "pub=$IMPU:0,$TEL:1 as=sip:as1.$REALM,sip:vm.$REALM"
log "ok: PPR with the new iFC"

cli 1 "deregister unknown" subscriber deregister sip:nobody@$REALM
says "$ERR" "no private or public identity 'sip:nobody@$REALM'"
cli 2 "deregister bad reason" subscriber deregister "$IMPI" --reason later
says "$ERR" "deregistration reason 'later' is unknown"
INFO="moved to the Paris office"
cli 0 "deregister" subscriber deregister "$IMPI" --reason server-change \
	--info "$INFO"
says "$OUT" "RTR (Reason-Code SERVER_CHANGE) to scscf.$REALM, User-Name $IMPI"
says "$OUT" "Reason-Info \"$INFO\""
wait_line '^RTR ' 1 5
says "$SCSCF_OUT" "RTR user=$IMPI reason=2 impu= info=$INFO"
log "ok: RTR with Reason-Code SERVER_CHANGE and the Reason-Info"
rc=0
wait_pid "$SCSCF_PID" 10 || rc=$?
expect_rc "the S-CSCF answered RTA 2001 and left" "$rc" 0

# the HSS applies the RTA: poll show for at most 5 s
for ((i = 0; i < 50; i++)); do
	cli 0 "show" subscriber show alice
	grep -qF "\"$IMPU\": \"not_registered\"" "$OUT" && break
	sleep 0.1
done
says "$OUT" "\"$IMPU\": \"not_registered\""
says "$OUT" "\"$TEL\": \"not_registered\""
says "$OUT" '"scscf": null'
cli 0 "deregister again" subscriber deregister "$TEL"
says "$OUT" "public identity '$TEL' is not registered"

# registered again, then deleted: the rows go at once and the RTR
# (PERMANENT_TERMINATION) follows, built from the queued snapshot
python3 "$E2E_SCENARIO/scscf.py" "$HSS_PORT" "scscf.$REALM" "$REALM" \
	"$IMPI" "$IMPU" 60 >"$SCSCF_OUT" 2>&1 </dev/null &
SCSCF_PID=$!
E2E_PIDS+=("$SCSCF_PID")
wait_line '^REGISTERED$' 1 10
cli 0 "delete a registered subscriber" subscriber delete alice
says "$OUT" "alice was registered: the HSS sends an RTR (Reason-Code PERMANENT_TERMINATION) to scscf.$REALM for $IMPI"
says "$OUT" "deleted alice"
[ ! -s "$ERR" ] || fail "delete wrote to stderr: $(cat "$ERR")"
cli 1 "show deleted" subscriber show alice
wait_line '^RTR ' 1 5
says "$SCSCF_OUT" "RTR user=$IMPI reason=0 impu= info=-"
rc=0
wait_pid "$SCSCF_PID" 10 || rc=$?
expect_rc "the S-CSCF answered RTA 2001 and left" "$rc" 0
for ((i = 0; i < 50; i++)); do
	grep -qF "RTA for alice: the subscription is gone" "$ENTIMS_LOG" && break
	sleep 0.1
done
says "$ENTIMS_LOG" "RTA for alice: the subscription is gone"
log "ok: RTR of a deleted subscription, from the snapshot"

entims_stop
pass
