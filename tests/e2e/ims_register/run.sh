#!/usr/bin/env bash
# IMS registration end to end: phone -> P-CSCF -> I-CSCF (UAR) -> S-CSCF
# (MAR, 401; SAR, 200) with the HSS (TS 24.229 5.1.1.2, 5.2.2, 5.3.1.2,
# 5.4.1.2; TS 29.228 6.1, 6.3), then de-registration (Expires: 0).
#  1. standalone: [core] roles = pcscf, icscf, scscf, hss in one process
#     (data/ims-standalone.conf; Cx on the in-process path);
#  2. the same four roles as separate processes (data/ims-{hss,scscf,
#     icscf,pcscf}.conf; Cx over Diameter TCP); there also carol registers
#     with Digest-AKAv1-MD5 and the HSS then de-registers her (RTR, TS
#     29.228 6.1.3): the S-CSCF's terminated reg event NOTIFY makes the
#     P-CSCF drop her registration (TS 24.229 5.2.3, 5.4.1.5).
# In the standalone run every kind of de-registration is watched by the
# phone itself: it subscribes to its reg event through the P-CSCF (TS
# 24.229 5.1.1.3, reg_sub.xml) and must get the active NOTIFY, then the
# terminated one whose <contact> says why (RFC 3680 5.1, TS 24.229
# 5.4.1.5, 5.4.1.7): its own REGISTER with Expires 0 (unregistered), the
# end of a 60 s registration (expired), an RTR from the HSS with
# PERMANENT_TERMINATION (rejected) or NEW_SERVER_ASSIGNED (deactivated),
# an administrative change: the IMPU barred (PPR, rejected) or the
# subscription deleted (RTR, rejected).  And an AKA phone that is out of
# sequence re-synchronises (AUTS) through P-, I- and S-CSCF.
# The sample configs are used as shipped, with free ports put in place of
# 5060/5070/5080/3868.  On the 200: our binding, Service-Route naming the
# S-CSCF (RFC 3608), P-Associated-URI (RFC 3455) and the P-CSCF's Path
# (RFC 3327).  Each entims must exit 0 on SIGTERM (sanitizers, leaks).
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SAMPLES=$(cd "$E2E_SCENARIO/../../../data" && pwd)
REALM=ims.test
PP=$(free_port)
IP=$(free_port)
SP=$(free_port)
DP=$(free_port)
ASP=$(free_port) # the AS of jack's iFC (it subscribes to his reg event)
JACK_TEL=tel:+15145550199
log "ports: P-CSCF $PP, I-CSCF $IP, S-CSCF $SP, Diameter $DP"

# render <sample> <out>: the sample with our ports, without its data_dir
render() {
	sed -e "s/127\.0\.0\.1:5060/127.0.0.1:$PP/g" \
		-e "s/127\.0\.0\.1:5070/127.0.0.1:$IP/g" \
		-e "s/127\.0\.0\.1:5080/127.0.0.1:$SP/g" \
		-e "s/127\.0\.0\.1:3868/127.0.0.1:$DP/g" \
		-e '/^data_dir/d' "$SAMPLES/$1" >"$2" ||
		fail "cannot render $1"
}

# sipp takes the 16 characters of aka_K/aka_OP as the key bytes
AKA_K_ASCII=0123456789abcdef
AKA_OP_ASCII=fedcba9876543210
AKA_K_HEX=$(printf %s "$AKA_K_ASCII" | od -An -tx1 | tr -d ' \n')
AKA_OP_HEX=$(printf %s "$AKA_OP_ASCII" | od -An -tx1 | tr -d ' \n')

# provision <data dir>: alice (SIP Digest MD5) and carol (AKAv1-MD5, AMF
# 8000) in that HSS's store
provision() {
	mkdir -p "$1"
	"$ENTIMS" subscriber add alice --data-dir "$1" --impi "alice@$REALM" \
		--impu "sip:alice@$REALM" --password alice-secret \
		--scheme digest-md5 >>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add alice (see subscriber.log)"
	"$ENTIMS" subscriber add carol --data-dir "$1" --impi "carol@$REALM" \
		--impu "sip:carol@$REALM" --scheme aka-v1-md5 \
		--k "$AKA_K_HEX" --op "$AKA_OP_HEX" --amf 8000 \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add carol (see subscriber.log)"
	# the phones that watch their own de-registration, and ivy (AKA,
	# re-synchronised)
	for u in bob dave erin frank gina hank; do
		"$ENTIMS" subscriber add "$u" --data-dir "$1" \
			--impi "$u@$REALM" --impu "sip:$u@$REALM" \
			--password "$u-secret" --scheme digest-md5 \
			>>"$E2E_TMP/subscriber.log" 2>&1 ||
			fail "subscriber add $u (see subscriber.log)"
	done
	# jack: two IMPUs in one implicit set, an iFC naming an AS
	"$ENTIMS" ifc add jack-as --data-dir "$1" --priority 1 \
		--as "sip:127.0.0.1:$ASP" --method INVITE \
		--session-case originating >>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "ifc add jack-as (see subscriber.log)"
	"$ENTIMS" profile add sp-jack --data-dir "$1" --ifc jack-as \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "profile add sp-jack (see subscriber.log)"
	"$ENTIMS" subscriber add jack --data-dir "$1" --impi "jack@$REALM" \
		--impu "sip:jack@$REALM" --impu "$JACK_TEL" \
		--password jack-secret --scheme digest-md5 --profile sp-jack \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add jack (see subscriber.log)"
	"$ENTIMS" subscriber add ivy --data-dir "$1" --impi "ivy@$REALM" \
		--impu "sip:ivy@$REALM" --scheme aka-v1-md5 \
		--k "$AKA_K_HEX" --op "$AKA_OP_HEX" --amf 8000 \
		>>"$E2E_TMP/subscriber.log" 2>&1 ||
		fail "subscriber add ivy (see subscriber.log)"
}

# register <name> <P-CSCF log>: the sipp scenario against the P-CSCF, then the exact
# values of the 200 to the authenticated REGISTER (CSeq 2)
register() {
	local name=$1 rc=0 port ok
	port=$(free_port)
	sipp_run "$name" 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/register.xml" \
		-key user alice -key domain "$REALM" -au "alice@$REALM" \
		-ap alice-secret -auth_uri "$REALM" -i 127.0.0.1 -p "$port" \
		-m 1 -recv_timeout 5000 || rc=$?
	expect_rc "$name: 401, 200, then de-registration 200" "$rc" 0
	ok=$E2E_TMP/$name.200
	awk '/^-+ /{m=""} {m=m $0 "\n"} /^CSeq: 2 REGISTER/{c=1}
	     /^-+ / && p {print p; p=""} {if (c && m ~ /SIP\/2.0 200/) p=m}
	     END {if (p) print p}' "$E2E_TMP/$name.msg.log" >"$ok"
	grep -q 'SIP/2.0 200' "$ok" || fail "$name: no 200 to CSeq 2 in the message log"
	grep -qiE "^Contact: *<sip:alice@127\.0\.0\.1:$port>;expires=[1-9]" "$ok" ||
		fail "$name: the 200 does not list sip:alice@127.0.0.1:$port"
	grep -qiE "^Service-Route: *<sip:127\.0\.0\.1:$SP;lr;orig>" "$ok" ||
		fail "$name: no Service-Route naming the S-CSCF (127.0.0.1:$SP)"
	grep -qiE "^P-Associated-URI: *<sip:alice@$REALM>" "$ok" ||
		fail "$name: no P-Associated-URI sip:alice@$REALM"
	grep -qiE "^Path: *<sip:[0-9a-f]+@127\.0\.0\.1:$PP;lr>" "$ok" ||
		fail "$name: no Path with the P-CSCF's flow token (127.0.0.1:$PP)"
	log "ok: $name: 200 with binding, Service-Route, P-Associated-URI, Path"
	# the P-CSCF subscribed to the reg event (TS 24.229 5.2.3) and the
	# de-registration ended it with a terminated NOTIFY (RFC 3680)
	wait_log "$2" "reg event subscription to sip:alice@$REALM accepted" 5 ||
		fail "$name: the P-CSCF's reg event SUBSCRIBE was not accepted"
	wait_log "$2" "reg event subscription to sip:alice@$REALM terminated" 5 ||
		fail "$name: no terminated reg event NOTIFY after de-registration"
	log "ok: $name: reg event subscribed, terminated on de-registration"
}

# sub_start <name> <user> <expires> <recv timeout ms>: the phone
# registers and subscribes to its reg event (reg_sub.xml) from a port of
# its own; returns once the active NOTIFY came.  Sets SUB_PID, SUB_PORT.
sub_start() {
	SUB_PORT=$(free_port)
	sipp_bg "$1" "127.0.0.1:$PP" -sf "$E2E_SCENARIO/reg_sub.xml" \
		-key user "$2" -key domain "$REALM" -key expires "$3" \
		-au "$2@$REALM" -ap "$2-secret" -auth_uri "$REALM" \
		-i 127.0.0.1 -p "$SUB_PORT" -m 1 -recv_timeout "$4"
	SUB_PID=$SIPP_PID
	wait_log "$E2E_TMP/$1.msg.log" '^Subscription-State: *active' 10 ||
		fail "$1: no active reg event NOTIFY for $2 (see $1.msg.log)"
	grep -qE "<contact [^>]*state=\"active\"" "$E2E_TMP/$1.msg.log" ||
		fail "$1: the first NOTIFY has no active contact"
}

# sub_end <name> <pid> <secs> <event> <what>: the phone saw the terminated
# NOTIFY, whose contact is terminated with that event (RFC 3680 5.1)
sub_end() {
	local rc=0 last
	wait_pid "$2" "$3" || rc=$?
	[ "$rc" -eq 0 ] || fail "$1: $5: no terminated NOTIFY (sipp $rc, see $1.msg.log)"
	last=$(awk 'BEGIN { RS = "\n-----------------------------------------------" }
		/\nNOTIFY sip:/ && /\nSubscription-State: *terminated/ { l = $0 }
		END { print l }' "$E2E_TMP/$1.msg.log")
	[ -n "$last" ] || fail "$1: no terminated NOTIFY in $1.msg.log"
	grep -qE "<contact [^>]*state=\"terminated\"[^>]*event=\"$4\"|<contact [^>]*event=\"$4\"[^>]*state=\"terminated\"" <<<"$last" ||
		fail "$1: $5: the terminated NOTIFY does not say event=\"$4\": $(grep -oE '<contact [^>]*>' <<<"$last")"
	log "ok: $5: the phone's reg event says terminated, event=\"$4\""
}

# ---- 1. one process --------------------------------------------------------
render ims-standalone.conf "$E2E_TMP/standalone.conf"
provision "$E2E_TMP/one"
start_role standalone "$E2E_TMP/standalone.conf" "$E2E_TMP/one"
ONE=$ROLE_PID
register reg-standalone "$E2E_TMP/standalone.log"
grep -q 'in-process to' "$E2E_TMP/standalone.log" ||
	fail "standalone: Cx did not take the in-process path"

# every kind of de-registration, seen by the phone's own subscription;
# the expiry runs meanwhile (the S-CSCF's minimum is 60 s)
sub_start sub-expired dave 60 90000
EXP_PID=$SUB_PID

sub_start sub-user bob 600 20000
rc=0
sipp_run dereg-bob 30 "127.0.0.1:$PP" -sf "$E2E_SCENARIO/dereg.xml" \
	-key user bob -key domain "$REALM" -key cport "$SUB_PORT" \
	-au "bob@$REALM" -ap bob-secret -auth_uri "$REALM" -i 127.0.0.1 \
	-p "$(free_port)" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "bob de-registers his contact (Expires: 0)" "$rc" 0
sub_end sub-user "$SUB_PID" 15 unregistered "user de-registration"

sub_start sub-rtr-perm erin 600 20000
"$ENTIMS" subscriber deregister "sip:erin@$REALM" --data-dir "$E2E_TMP/one" \
	--reason permanent >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber deregister erin (see subscriber.log)"
sub_end sub-rtr-perm "$SUB_PID" 15 rejected "network de-registration (RTR, permanent)"

sub_start sub-rtr-new frank 600 20000
"$ENTIMS" subscriber deregister "sip:frank@$REALM" --data-dir "$E2E_TMP/one" \
	--reason new-server >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber deregister frank (see subscriber.log)"
sub_end sub-rtr-new "$SUB_PID" 15 deactivated "network de-registration (RTR, new server)"

sub_start sub-barred gina 600 20000
"$ENTIMS" subscriber set "sip:gina@$REALM" --data-dir "$E2E_TMP/one" \
	--impu "sip:gina@$REALM" --barred yes >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber set gina --barred yes (see subscriber.log)"
sub_end sub-barred "$SUB_PID" 15 rejected "administrative: IMPU barred (PPR)"

sub_start sub-deleted hank 600 20000
"$ENTIMS" subscriber delete "sip:hank@$REALM" --data-dir "$E2E_TMP/one" \
	>>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber delete hank (see subscriber.log)"
sub_end sub-deleted "$SUB_PID" 15 rejected "administrative: subscription deleted (RTR)"

# The implicit set (TS 24.229 5.4.2.1.2): jack's own subscription sees a
# <registration> for each of his IMPUs; the AS of his iFC subscribes at
# the S-CSCF to his other IMPU (5.4.2.1.1) and gets the whole set; a
# server that is none of those is refused; the RTR ends both
# registrations in one NOTIFY.
nth_notify() { # <msg log> <awk condition>: the first NOTIFY matching it
	awk -v RS='\n-----------------------------------------------' \
		"/\nNOTIFY sip:/ && $2 { print; exit }" "$1"
}
has_reg() { # <notify> <aor> <state>
	local aor
	aor=$(sed 's/[.+]/\\&/g' <<<"$2") # literal in the expression
	grep -qE "<registration [^>]*aor=\"$aor\"[^>]*state=\"$3\"" <<<"$1"
}
sub_start sub-set jack 600 20000
SET_PID=$SUB_PID
first=$(nth_notify "$E2E_TMP/sub-set.msg.log" 1)
for a in "sip:jack@$REALM" "$JACK_TEL"; do
	has_reg "$first" "$a" active ||
		fail "jack's first NOTIFY has no active <registration> for $a"
done
log "ok: the phone's reg event NOTIFY has both IMPUs of the implicit set"
rc=0
sipp_run as-sub 30 "127.0.0.1:$SP" -sf "$E2E_SCENARIO/as_sub.xml" \
	-key target "$JACK_TEL" -key as "sip:127.0.0.1:$ASP" -i 127.0.0.1 \
	-p "$ASP" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "the AS of jack's iFC subscribes to $JACK_TEL at the S-CSCF" "$rc" 0
first=$(nth_notify "$E2E_TMP/as-sub.msg.log" 1)
for a in "sip:jack@$REALM" "$JACK_TEL"; do
	has_reg "$first" "$a" active ||
		fail "the AS's NOTIFY has no active <registration> for $a"
done
grep -qE '<contact [^>]*state="active"' <<<"$first" ||
	fail "the AS's NOTIFY has no active contact"
log "ok: the AS's full-state NOTIFY has both IMPUs and jack's contact"
rc=0
sipp_run as-sub-no 30 "127.0.0.1:$SP" -sf "$E2E_SCENARIO/as_sub_refused.xml" \
	-key target "sip:jack@$REALM" -key as "sip:127.0.0.1:$(free_port)" \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "a server named in no iFC of jack is refused (403)" "$rc" 0
"$ENTIMS" subscriber deregister "sip:jack@$REALM" --data-dir "$E2E_TMP/one" \
	--reason permanent >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber deregister jack (see subscriber.log)"
sub_end sub-set "$SET_PID" 15 rejected "network de-registration of the set"
last=$(nth_notify "$E2E_TMP/sub-set.msg.log" '/\nSubscription-State: *terminated/')
for a in "sip:jack@$REALM" "$JACK_TEL"; do
	has_reg "$last" "$a" terminated ||
		fail "the last NOTIFY does not end the <registration> of $a"
done
[ "$(grep -c '^Subscription-State: *terminated' "$E2E_TMP/sub-set.msg.log")" -eq 1 ] ||
	fail "jack's phone got more than one terminated NOTIFY"
log "ok: the RTR ended both registrations of the set in one NOTIFY"

# AKA out of sequence: the phone's SQN is ahead, it answers the first
# challenge with AUTS (RFC 3310 3.4, TS 33.203 6.1.2) and the HSS
# re-synchronises (MAR with RAND || AUTS, TS 29.228 6.3)
rc=0
python3 "$E2E_SCENARIO/../tools/sip_aka_resync.py" "127.0.0.1:$PP" \
	"$(free_port)" "ivy@$REALM" "sip:ivy@$REALM" "$REALM" \
	"$AKA_K_ASCII" "$AKA_OP_ASCII" 8000 1000 \
	>"$E2E_TMP/resync-ivy.out" 2>&1 </dev/null &
RESYNC=$!
E2E_PIDS+=("$RESYNC")
wait_pid "$RESYNC" 40 || rc=$?
expect_rc "ivy re-synchronises AKA (AUTS) through P-, I- and S-CSCF: 401, 401, 200" "$rc" 0

sub_end sub-expired "$EXP_PID" 90 expired "expiry of a 60 s registration"
stop_role standalone "$ONE"

# ---- 2. four processes, Cx over Diameter TCP -------------------------------
for r in hss scscf icscf pcscf; do
	render "ims-$r.conf" "$E2E_TMP/$r.conf"
done
provision "$E2E_TMP/hss"
start_role hss "$E2E_TMP/hss.conf" "$E2E_TMP/hss"
HSS=$ROLE_PID
start_role scscf "$E2E_TMP/scscf.conf" "$E2E_TMP/scscf"
SCSCF=$ROLE_PID
start_role icscf "$E2E_TMP/icscf.conf" "$E2E_TMP/icscf"
ICSCF=$ROLE_PID
start_role pcscf "$E2E_TMP/pcscf.conf" "$E2E_TMP/pcscf"
PCSCF=$ROLE_PID
for r in scscf icscf; do
	wait_log "$E2E_TMP/$r.log" "hss\.$REALM.*(open|OPEN|I-Open|R-Open)" 15 ||
		fail "$r: no Diameter connection to the HSS within 15 s"
done
register reg-split "$E2E_TMP/pcscf.log"
for r in icscf scscf; do
	! grep -q 'in-process to' "$E2E_TMP/$r.log" ||
		fail "$r: Cx took the in-process path in separate processes"
	grep -qE "request 30[01] .*to hss\.$REALM|hss\.$REALM.*open" "$E2E_TMP/$r.log" ||
		fail "$r: no Cx over the Diameter connection to the HSS"
done

# carol: AKA, registration kept, then ended by the HSS (RTR)
sed -e "s/@AKA_K@/$AKA_K_ASCII/" -e "s/@AKA_OP@/$AKA_OP_ASCII/" \
	-e "s/@AKA_AMF@/0x8000/" "$E2E_SCENARIO/register_aka.xml.in" \
	>"$E2E_TMP/register_aka.xml"
rc=0
sipp_aka_run reg-aka 30 "$AKA_K_ASCII" "$AKA_OP_ASCII" \
	"127.0.0.1:$PP" -sf "$E2E_TMP/register_aka.xml" \
	-key user carol -key domain "$REALM" -au "carol@$REALM" \
	-auth_uri "$REALM" -i 127.0.0.1 -p "$(free_port)" -m 1 \
	-recv_timeout 5000 || rc=$?
expect_rc "carol registers with Digest-AKAv1-MD5 through the P-CSCF" "$rc" 0
wait_log "$E2E_TMP/pcscf.log" "reg event subscription to sip:carol@$REALM accepted" 5 ||
	fail "no reg event subscription for carol"
"$ENTIMS" subscriber deregister "sip:carol@$REALM" --data-dir "$E2E_TMP/hss" \
	--reason permanent >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber deregister carol (see subscriber.log)"
wait_log "$E2E_TMP/pcscf.log" "reg event: sip:carol@$REALM sip:carol@127\.0\.0\.1:[0-9]+ terminated: phone dropped" 10 ||
	fail "the P-CSCF did not drop carol after the HSS de-registered her"
log "ok: RTR -> S-CSCF -> terminated NOTIFY -> the P-CSCF dropped carol"
stop_role pcscf "$PCSCF"
stop_role icscf "$ICSCF"
stop_role scscf "$SCSCF"
stop_role hss "$HSS"
pass
