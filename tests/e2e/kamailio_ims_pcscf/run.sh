#!/usr/bin/env bash
# shellcheck disable=SC2034 # many variables are read by render() through ${!name}
# Interop: Kamailio's IMS P-CSCF in front of our I- and S-CSCF, and our
# P-CSCF in front of Kamailio's I- and S-CSCF (with our HSS).
#
#   kamailio_ims_pcscf/run.sh <entims> <sipp> <temp dir>
#
# Run as root (CI): re-executes itself in private mount and network
# namespaces (INTEROP_NETNS, its own loopback) for
# its own /etc/hosts (Kamailio's cdp resolves hss.ims.test by name), as
# kamailio_ims_cx/run.sh; see interop-lib.sh.  Loopback only.
#
# A. Kamailio P-CSCF (interop/kamailio/pcscf.cfg.in) -> entims with the
#    roles icscf, scscf and hss in one process (Cx in-process).
#    1. alice and bob (SIP Digest MD5) register through Kamailio: the 200
#       carries our S-CSCF's Service-Route, P-Associated-URI and echoes
#       the Path Kamailio added (RFC 3327 5.3), so the Path reached our
#       S-CSCF; Kamailio stored the registration (pcscf_save).
#    2. alice calls bob: Kamailio P (Service-Route) -> our S (orig) ->
#       our I (LIR) -> our S (term, Path) -> Kamailio P -> bob; bob sees
#       the P-Asserted-Identity Kamailio asserted; 180, 200, ACK, BYE;
#       our S-CSCF's call records (orig, term) carry the icid-value of
#       Kamailio's P-Charging-Vector.
#    3. alice de-registers through Kamailio (Expires 0): 401, 200; our 200
#       lists no Contact and Kamailio 5.6 keeps her contact (recorded);
#       her next INVITE gets 403 from our S-CSCF.
# B. Our P-CSCF (entims role pcscf) -> Kamailio I-CSCF and S-CSCF
#    (interop/kamailio/{icscf,scscf}.cfg.in) -> our HSS (entims role hss,
#    Cx over TCP).
#    1. alice and bob register through our P-CSCF: the 200 carries
#       Kamailio's Service-Route and P-Associated-URI and our Path.
#    2. alice calls bob: the INVITE leaves our P-CSCF with Route =
#       Kamailio's Service-Route; bob sees P-Asserted-Identity alice; the
#       call completes.
#    3. Before the call, our P-CSCF's reg event SUBSCRIBEs (TS 24.229
#       5.2.3) get 200 from Kamailio's S-CSCF (scscf.cfg.in handles reg
#       SUBSCRIBEs with subscribe_to_reg()) and its full reginfo NOTIFYs
#       get 200 from us.  After the call the HSS de-registers bob (RTR):
#       Kamailio's terminated reginfo makes our P-CSCF drop him, and his
#       next INVITE gets 403 there.
LIB=$(dirname "$0")/../lib.sh

. "$LIB"
. "$(dirname "$0")/../interop/interop-lib.sh"
# Kamailio's P-CSCF needs ims_ipsec_pcscf loaded, which flushes the IPsec
# state of its network namespace at start: give it a private one.
INTEROP_NETNS=1
interop_isolate_hosts "$@"
interop_init "$@"

KAMCFG=$INTEROP_DIR/kamailio
DIR=$E2E_TMP
SIPPDIR=$INTEROP_DIR/sipp

# ---- prerequisites --------------------------------------------------------
command -v kamailio >/dev/null || skip "kamailio not installed"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
KAMMOD=/usr/lib/x86_64-linux-gnu/kamailio/modules
for m in cdp ims_icscf ims_auth ims_registrar_scscf ims_usrloc_scscf \
	ims_registrar_pcscf ims_usrloc_pcscf db_sqlite presence; do
	[ -f "$KAMMOD/$m.so" ] ||
		skip "kamailio module $m missing (Debian: kamailio-ims-modules, kamailio-sqlite-modules, kamailio-presence-modules)"
done

command -v ip >/dev/null || skip "ip not installed (Debian: iproute2)"
interop_hosts "hss.$SIP_DOMAIN"

# provision <data dir>: alice and bob, SIP Digest (HA1 MD5, realm ims.test)
provision() {
	local u
	for u in alice bob; do
		"$ENTIMS" subscriber add "$u" --data-dir "$1" --impi "$u@$SIP_DOMAIN" \
			--impu "sip:$u@$SIP_DOMAIN" --password "$u-secret" \
			--scheme digest-md5 >>"$E2E_TMP/subscriber.log" 2>&1 ||
			fail "subscriber add $u (see subscriber.log)"
	done
}

# register <part> <user> <port> <P-CSCF port>: REGISTER 401/200 through the
# P-CSCF, from <port> (the contact the calls use later).
register() {
	local rc=0
	sipp_run "$1-reg-$2" 30 "127.0.0.1:$4" -sf "$SIPPDIR/pcscf_register.xml" \
		-key user "$2" -key domain "$SIP_DOMAIN" -au "$2@$SIP_DOMAIN" \
		-ap "$2-secret" -auth_uri "$SIP_DOMAIN" -i 127.0.0.1 -p "$3" \
		-m 1 -recv_timeout 10000 || rc=$?
	expect_rc "$1: $2 registers through the P-CSCF (401, 200)" "$rc" 0
}

# last_200 <msg.log>: the header lines of the last 200 in a sipp trace
last_200() {
	awk '/^SIP\/2.0 200 / {buf=""; f=1} f && /^\r?$/ {f=0; last=buf} f {buf=buf $0 "\n"} END {printf "%s", last}' "$1" | tr -d '\r'
}

# first_request <msg.log> <method>: the first such request received, headers
first_request() {
	awk -v m="$2" '$1 == m && $3 ~ /^SIP\/2.0/ {f=1} f && /^\r?$/ {exit} f {print}' "$1" | tr -d '\r'
}

# call <part> <P-CSCF port> <alice port> <bob port>: bob waits, alice calls
# sip:bob@ims.test through the P-CSCF; 180, 200, ACK, BYE 200.
call() {
	local rc=0 uas
	sipp_bg "$1-bob" "127.0.0.1:$2" -sf "$SIPPDIR/pcscf_uas.xml" -i 127.0.0.1 \
		-p "$4" -m 1 -recv_timeout 15000
	uas=$SIPP_PID
	wait_udp_bound "$4"
	sipp_run "$1-alice" 30 "127.0.0.1:$2" -sf "$SIPPDIR/pcscf_uac.xml" \
		-key user alice -key callee bob -key domain "$SIP_DOMAIN" -i 127.0.0.1 \
		-p "$3" -m 1 -recv_timeout 10000 || rc=$?
	expect_rc "$1: alice calls bob: INVITE/180/200, ACK, BYE/200" "$rc" 0
	rc=0
	wait_pid "$uas" 10 || rc=$?
	expect_rc "$1: bob answers, gets the ACK and the BYE" "$rc" 0
	grep -aq '^SIP/2.0 180 ' "$E2E_TMP/$1-alice.msg.log" || fail "$1: alice never saw bob's 180"
	first_request "$E2E_TMP/$1-bob.msg.log" INVITE >"$E2E_TMP/$1-bob.invite"
	grep -qiE "^P-Asserted-Identity: *<?sip:alice@$SIP_DOMAIN>?\$" "$E2E_TMP/$1-bob.invite" ||
		fail "$1: bob's INVITE has no P-Asserted-Identity sip:alice@$SIP_DOMAIN (see $1-bob.invite)"
	log "ok: $1: bob sees P-Asserted-Identity sip:alice@$SIP_DOMAIN"
}

# ============================================================================
# A. Kamailio P-CSCF -> our I-CSCF and S-CSCF (+ HSS)
# ============================================================================
PCSCF_PORT=$(free_port)
ICSCF_PORT=$(free_port)
SCSCF_PORT=$(free_port)
KP=$PCSCF_PORT
OI=$ICSCF_PORT
OS=$SCSCF_PORT
DATA_A=$E2E_TMP/data-a
mkdir -p "$DATA_A"
provision "$DATA_A"
cat >"$E2E_TMP/ims-a.conf" <<EOF
[core]
roles = icscf, scscf, hss
data_dir = $DATA_A

[diameter]
identity = ims.$SIP_DOMAIN
realm = $SIP_DOMAIN

[hss]
scscf = sip:127.0.0.1:$OS

[icscf]
listen = udp:127.0.0.1:$OI
uri = sip:127.0.0.1:$OI
scscf = sip:127.0.0.1:$OS
# REGISTERs only from Kamailio's P-CSCF (TS 24.229 5.3.1.2)
trusted = 127.0.0.1:$KP

[scscf]
listen = udp:127.0.0.1:$OS
uri = sip:127.0.0.1:$OS
icscf = sip:127.0.0.1:$OI
EOF
entims_node_start ims-a "$E2E_TMP/ims-a.conf"
IMS_A=$NODE_PID
render "$KAMCFG/pcscf.cfg.in" "$E2E_TMP/pcscf.cfg"
kam_start pcscf "$E2E_TMP/pcscf.cfg"
KPCSCF=$KAM_PID
log "A: Kamailio P-CSCF 127.0.0.1:$KP, our I-CSCF :$OI, S-CSCF :$OS"

A_ALICE=$(free_port)
A_BOB=$(free_port)
register A alice "$A_ALICE" "$KP"
register A bob "$A_BOB" "$KP"
for u in alice bob; do
	ok=$(last_200 "$E2E_TMP/A-reg-$u.msg.log")
	grep -qiE "^Service-Route: *<sip:127\.0\.0\.1:$OS;lr;orig>\$" <<<"$ok" ||
		fail "A: $u's 200 lacks our S-CSCF's Service-Route <sip:127.0.0.1:$OS;lr;orig>: $ok"
	grep -qiE "^P-Associated-URI: *<sip:$u@$SIP_DOMAIN>\$" <<<"$ok" ||
		fail "A: $u's 200 lacks P-Associated-URI <sip:$u@$SIP_DOMAIN>: $ok"
	# our S-CSCF stored and echoed Kamailio's Path (RFC 3327 5.3)
	grep -qiE "^Path: *<sip:term@127\.0\.0\.1:$KP;lr>\$" <<<"$ok" ||
		fail "A: $u's 200 does not echo Kamailio's Path <sip:term@127.0.0.1:$KP;lr>: $ok"
	grep -q "P-CSCF saved: Service-Route \[<sip:127.0.0.1:$OS;lr;orig>\] P-Associated-URI \[<sip:$u@$SIP_DOMAIN>\]" \
		"$E2E_TMP/pcscf.log" || fail "A: Kamailio did not save $u's registration (see pcscf.log)"
done
log "ok: A: Service-Route <sip:127.0.0.1:$OS;lr;orig>, P-Associated-URI and Path echoed; Kamailio saved both"

call A "$KP" "$A_ALICE" "$A_BOB"
inv=$E2E_TMP/A-bob.invite
grep -q "^INVITE sip:bob@127\.0\.0\.1:$A_BOB " "$inv" ||
	fail "A: bob's INVITE is not for his contact (see A-bob.invite)"
# Record-Route (RFC 3261 16.6 step 4, each on top): Kamailio (mt), our
# S-CSCF (term), our S-CSCF (orig), Kamailio (mo)
order=$(grep -iE '^Record-Route:' "$inv" | tr ',' '\n' |
	grep -oE "sip:(mt|mo)@127\.0\.0\.1:$KP|sip:127\.0\.0\.1:$OS" |
	sed -e "s/sip:mt@.*/Pmt/" -e "s/sip:mo@.*/Pmo/" -e "s/sip:127.*/S/" | tr '\n' ' ')
[ "$order" = "Pmt S S Pmo " ] ||
	fail "A: bob's Record-Route order is '$order', expected 'Pmt S S Pmo' (see A-bob.invite)"
# pcscf_force_service_routes() adds the Route as a lump (not visible to
# $hdr(Route) in the script) and sets the destination to its first URI
grep -q "P-CSCF originating INVITE from sip:alice@$SIP_DOMAIN -> .* du \[sip:127.0.0.1:$OS;lr;orig\]" \
	"$E2E_TMP/pcscf.log" || fail "A: Kamailio did not send alice's INVITE by her Service-Route"
# our S-CSCF's call records (both session cases) carry the icid-value
# Kamailio generated (P-Charging-Vector, RFC 7315 4.6)
icid=$(sed -n 's/.*P-CSCF icid-value \([^ ]*\)$/\1/p' "$E2E_TMP/pcscf.log" | head -n1)
[ -n "$icid" ] && [ "$icid" != "<null>" ] ||
	fail "A: Kamailio generated no icid-value (see pcscf.log)"
for c in "alice case=orig" "bob case=term"; do
	grep -qE "call-record call-id=[^ ]+ icid=$icid user=sip:${c% *}@$SIP_DOMAIN ${c#* } from=sip:alice@$SIP_DOMAIN to=sip:bob@$SIP_DOMAIN .* end-cause=bye-caller scode=0\$" \
		"$E2E_TMP/ims-a.log" ||
		fail "A: our S-CSCF has no call record '${c#* }' for ${c% *} with Kamailio's icid $icid (see ims-a.log)"
done
grep -qE 'request 302 .*in-process' "$E2E_TMP/ims-a.log" ||
	fail "A: our I-CSCF sent no LIR (Cx 302)"
log "ok: A: Kamailio P -> our S (orig) -> our I (LIR) -> our S (term) -> Kamailio P (Path) -> bob"

# alice de-registers through Kamailio (Expires 0, TS 24.229 5.1.4).  Our
# S-CSCF's 200 lists the bindings left (none: no Contact, RFC 3261 10.3
# step 8); Kamailio 5.6's pcscf_save() wants a Contact in it ("cannot get
# the Contact header"), so it keeps alice as registered and still
# forwards her next INVITE, which our S-CSCF refuses (403, TS 24.229
# 5.4.3.2: the served user is not registered).  Recorded, so a change on
# either side shows up here.
rc=0
sipp_run A-unreg-alice 30 "127.0.0.1:$KP" -sf "$SIPPDIR/pcscf_unregister.xml" \
	-key user alice -key domain "$SIP_DOMAIN" -au "alice@$SIP_DOMAIN" \
	-ap alice-secret -auth_uri "$SIP_DOMAIN" -i 127.0.0.1 -p "$A_ALICE" \
	-m 1 -recv_timeout 10000 || rc=$?
expect_rc "A: alice de-registers through Kamailio (401, 200)" "$rc" 0
rc=0
sipp_run A-alice-unreg-call 30 "127.0.0.1:$KP" -sf "$SIPPDIR/pcscf_uac_403.xml" -s bob \
	-key user alice -key domain "$SIP_DOMAIN" -i 127.0.0.1 -p "$A_ALICE" -m 1 \
	-recv_timeout 10000 || rc=$?
expect_rc "A: alice, de-registered, calls bob: 403" "$rc" 0
grep -q 'save(): cannot get the Contact header from the SIP message' "$E2E_TMP/pcscf.log" ||
	fail "A: Kamailio's pcscf_save() took our 200 to the de-registration (see pcscf.log): update the test and docs"
count_is "A: Kamailio still forwarded alice's INVITEs (the call, the one after de-registration)" \
	"$E2E_TMP/pcscf.log" "P-CSCF originating INVITE from sip:alice@$SIP_DOMAIN" 2
grep -aq '^SIP/2.0 403 Forbidden' "$E2E_TMP/A-alice-unreg-call.msg.log" ||
	fail "A: the 403 is not our S-CSCF's (see A-alice-unreg-call.msg.log)"

kam_stop "$KPCSCF"
entims_node_stop "$IMS_A" ims-a

# ============================================================================
# B. Our P-CSCF -> Kamailio I-CSCF and S-CSCF -> our HSS
# ============================================================================
command -v kamcmd >/dev/null || skip "kamcmd not installed (Debian: kamailio)"
PP=$(free_port)
ICSCF_PORT=$(free_port)
SCSCF_PORT=$(free_port)
ICSCF_DIAM_PORT=$(free_port)
SCSCF_DIAM_PORT=$(free_port)
SCSCF_URI=sip:127.0.0.1:$SCSCF_PORT
AUTH_ALG=HSS-Selected
USER_DATA_XSD=/usr/share/doc/kamailio/examples/ims/scscf/CxDataType_Rel7.xsd
[ -f "$USER_DATA_XSD" ] || fail "missing $USER_DATA_XSD (Debian package kamailio)"
for f in icscf.cfg icscf.xml scscf.cfg scscf.xml icscf.sql; do
	render "$KAMCFG/$f.in" "$E2E_TMP/$f"
done
# ims_registrar_scscf logs the answer to each of its reg event NOTIFYs at
# debug level only ("received NOTIFY reply type [1024] and code [200]"):
# the debugger module raises that one module's level here.
sed -i -e '/^loadmodule "ctl.so"/a loadmodule "debugger.so"\nmodparam("debugger", "mod_hash_size", 5)\nmodparam("debugger", "mod_level_mode", 1)\nmodparam("debugger", "mod_level", "ims_registrar_scscf=3")' \
	"$E2E_TMP/scscf.cfg"
grep -q '^loadmodule "debugger.so"' "$E2E_TMP/scscf.cfg" || fail "scscf.cfg: no ctl.so line to add the debugger after"
sqlite3 "$E2E_TMP/icscf.sqlite" <"$E2E_TMP/icscf.sql" || fail "I-CSCF database"
cat /usr/share/kamailio/db_sqlite/standard-create.sql \
	/usr/share/kamailio/db_sqlite/presence-create.sql |
	sqlite3 "$E2E_TMP/scscf-presence.sqlite" || fail "S-CSCF presence database"

provision "$ENTIMS_DATA"
hss_conf "icscf.$SIP_DOMAIN," "scscf.$SIP_DOMAIN"
hss_start
kam_start icscf "$E2E_TMP/icscf.cfg"
KICSCF=$KAM_PID
kam_start scscf "$E2E_TMP/scscf.cfg"
KSCSCF=$KAM_PID
wait_diameter_peers 2 20

mkdir -p "$E2E_TMP/data-p"
cat >"$E2E_TMP/pcscf-b.conf" <<EOF
[core]
roles = pcscf
data_dir = $E2E_TMP/data-p

[pcscf]
listen = udp:127.0.0.1:$PP
uri = sip:127.0.0.1:$PP
icscf = sip:127.0.0.1:$ICSCF_PORT
visited_network = $SIP_DOMAIN
# the trust domain (RFC 3325): Kamailio's I- and S-CSCF
core = 127.0.0.1:$ICSCF_PORT, 127.0.0.1:$SCSCF_PORT
EOF
entims_node_start pcscf-b "$E2E_TMP/pcscf-b.conf"
PCSCF_B=$NODE_PID
log "B: our P-CSCF 127.0.0.1:$PP, Kamailio I-CSCF :$ICSCF_PORT, S-CSCF :$SCSCF_PORT, our HSS :$HSS_PORT"

B_ALICE=$(free_port)
B_BOB=$(free_port)
register B alice "$B_ALICE" "$PP"
register B bob "$B_BOB" "$PP"
for u in alice bob; do
	ok=$(last_200 "$E2E_TMP/B-reg-$u.msg.log")
	grep -qiE "^Service-Route: *<sip:orig@127\.0\.0\.1:$SCSCF_PORT;lr>\$" <<<"$ok" ||
		fail "B: $u's 200 lacks Kamailio's Service-Route <sip:orig@127.0.0.1:$SCSCF_PORT;lr>: $ok"
	grep -qiE "^P-Associated-URI: *<sip:$u@$SIP_DOMAIN>\$" <<<"$ok" ||
		fail "B: $u's 200 lacks P-Associated-URI <sip:$u@$SIP_DOMAIN>: $ok"
	grep -qiE "^Path: *<sip:[^@>]+@127\.0\.0\.1:$PP;lr" <<<"$ok" ||
		fail "B: $u's 200 does not echo our P-CSCF's Path: $ok"
done
log "ok: B: Kamailio's Service-Route and P-Associated-URI, our Path echoed"

# B.3 the reg event (TS 24.229 5.2.3): our P-CSCF subscribes to each
# phone's IMPU along the Service-Route; Kamailio's S-CSCF accepts (200,
# subscribe_to_reg) and sends a full reginfo NOTIFY, which our P-CSCF
# takes (200: it answers 400 to a document it cannot read, 489 to a
# wrong Event).
for u in alice bob; do
	wait_log "$E2E_TMP/pcscf-b.log" "reg event subscription to sip:$u@$SIP_DOMAIN accepted \\(200\\)" 10 ||
		fail "B: Kamailio's S-CSCF did not accept our reg event SUBSCRIBE for $u (see pcscf-b.log, scscf.log)"
	grep -q "S-CSCF reg SUBSCRIBE for sip:$u@$SIP_DOMAIN from sip:127.0.0.1:$PP, subscribe_to_reg=1" "$E2E_TMP/scscf.log" ||
		fail "B: Kamailio's S-CSCF did not store the reg subscription for $u"
done
for ((i = 0; i < 50; i++)); do
	n=$(grep -c 'received NOTIFY reply type \[1024\] and code \[200\]' "$E2E_TMP/scscf.log" || true)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
count_is "B: Kamailio's reg event NOTIFYs answered 200 by our P-CSCF" "$E2E_TMP/scscf.log" \
	'received NOTIFY reply type \[[0-9]+\] and code \[[0-9]+\]' 2
count_is "B: ... all of them 200" "$E2E_TMP/scscf.log" \
	'received NOTIFY reply type \[1024\] and code \[200\]' 2
if grep -q 'reg event NOTIFY for' "$E2E_TMP/pcscf-b.log"; then
	fail "B: our P-CSCF refused a NOTIFY of Kamailio (see pcscf-b.log)"
fi

call B "$PP" "$B_ALICE" "$B_BOB"
grep -q "S-CSCF originating INVITE from sip:alice@$SIP_DOMAIN to sip:bob@$SIP_DOMAIN" "$E2E_TMP/scscf.log" ||
	fail "B: alice's INVITE did not reach Kamailio's S-CSCF by her Service-Route (Route sip:orig@)"
grep -q "S-CSCF terminating -> contact sip:bob@127.0.0.1:$B_BOB" "$E2E_TMP/scscf.log" ||
	fail "B: Kamailio's S-CSCF did not route the INVITE to bob's contact"
# RFC 7315 4.6: the charging vector stays inside the trust domain; our
# P-CSCF removes it towards the phone
if grep -qi '^P-Charging-Vector:' "$E2E_TMP/B-bob.invite"; then
	fail "B: bob's INVITE carries a P-Charging-Vector (see B-bob.invite)"
fi
log "ok: B: our P -> Kamailio S (orig, Service-Route) -> Kamailio I (LIR) -> Kamailio S (term, Path) -> our P -> bob"

# The HSS de-registers bob (RTR, TS 29.228 6.1.3): Kamailio's S-CSCF drops
# his contact and tells the reg event subscribers; our P-CSCF drops bob,
# whose requests then get 403 there.
"$ENTIMS" subscriber deregister "sip:bob@$SIP_DOMAIN" --data-dir "$ENTIMS_DATA" \
	--reason permanent >>"$E2E_TMP/subscriber.log" 2>&1 ||
	fail "subscriber deregister bob (see subscriber.log)"
wait_log "$E2E_TMP/scscf.log" 'Received an IMS_RTR' 10 ||
	fail "B: Kamailio's S-CSCF never received the RTR for bob (see scscf.log)"
wait_log "$E2E_TMP/pcscf-b.log" "reg event: sip:bob@$SIP_DOMAIN .* terminated" 15 ||
	fail "B: no terminated reg event for bob reached our P-CSCF (see pcscf-b.log)"
log "ok: B: the RTR for bob reached our P-CSCF as Kamailio's terminated reg event"
rc=0
sipp_run B-bob-dropped 30 "127.0.0.1:$PP" -sf "$SIPPDIR/pcscf_uac_403.xml" -s alice \
	-key user bob -key domain "$SIP_DOMAIN" -i 127.0.0.1 -p "$B_BOB" -m 1 \
	-recv_timeout 10000 || rc=$?
expect_rc "B: bob, dropped by the reg event, calls alice: 403 from our P-CSCF" "$rc" 0
grep -aq '^SIP/2.0 403 Not registered' "$E2E_TMP/B-bob-dropped.msg.log" ||
	fail "B: the 403 is not our P-CSCF's 'Not registered' (see B-bob-dropped.msg.log)"

kam_stop "$KICSCF" "$KSCSCF"
entims_node_stop "$PCSCF_B" pcscf-b
hss_stop
pass
