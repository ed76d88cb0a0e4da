#!/usr/bin/env bash
# Two real softphones call each other through the standalone IMS: the P-,
# I- and S-CSCF and the HSS in one entims (data/ims-standalone.conf on free
# ports).  alice is Debian's baresip on UDP, bob is linphonec
# (linphone-cli) on TCP only; both register through the P-CSCF with
# Digest MD5 (TS 24.229 5.1.1.2, 5.4.1.2.2), then
#   1. alice calls bob; bob answers; RTP flows both ways (each phone's
#      own RTP counters, and what one sent is what the other received);
#      alice sends RFC 4733 telephone-events 1 5 9 # that bob receives,
#      bob sends * back; alice hangs up (BYE through P, S, P).
#   2. bob calls alice the other way round; alice answers; bob sends
#      0 7 #, alice sends 3; bob hangs up.
#   3. both unregister (the HSS records them not registered); entims
#      exits 0 on SIGTERM.
# Media goes straight from phone to phone (no media gateway here): the
# IMS only carries the SDP.
#
# Headless: baresip plays into ALSA's `null` device with the `ausine`
# source; linphonec runs in its file mode (`soundcard use files`): it
# sends a WAV file made here and records what it receives to another.
# linphonec is driven through its standard input in `--pipe` mode (in its
# readline mode it did not run its SIP stack between input lines, not even
# on a pseudo-terminal: it never registered),
# and is told to quit through its unix socket (a `quit` typed on stdin in
# pipe mode hangs in its own shutdown); baresip is driven through its
# `cons` UDP console.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

# need <binary> <package>: skip without it, but in CI it must be there
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -z "${CI:-}" ] || fail "$1 not installed ($2), required in CI"
	skip "$1 not installed ($2)"
}
need baresip baresip
need linphonec linphone-cli

SAMPLES=$(cd "$E2E_SCENARIO/../../../data" && pwd)
REALM=ims.test
MIN_PACKETS=100 # 20 ms packets: 2 s of audio in each direction
MEDIA_SECS=4    # each call keeps its media this long before the DTMF

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
# any name lookup stays on loopback: a DNS server port where nothing listens
printf '\n[sip]\ndns = 127.0.0.1:%s\n' "$(free_port)" >>"$E2E_TMP/ims.conf"

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

# wait_for <file> <extended regex> <secs>
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -aqE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# count <file> <extended regex>: matching lines (0 when none)
count() {
	grep -acE "$2" "$1" 2>/dev/null || true
}

# ---- alice: baresip --------------------------------------------------------
A=$E2E_TMP/alice
A_CONS=$(free_port)
a_sip=$(free_port)
a_rtp=$(free_port)
mkdir -p "$A"
cat >"$A/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$a_sip
net_interface		127.0.0.1
dns_server		127.0.0.1:9
call_local_timeout	30
audio_player		alsa,null
audio_alert		alsa,null
audio_source		ausine,440
rtp_stats		yes
rtp_ports		$a_rtp-$((a_rtp + 99))
statmode_default	off
cons_listen		127.0.0.1:$A_CONS
module_path		/usr/lib/baresip/modules
module			opus.so
module			g711.so
module			alsa.so
module			ausine.so
module			cons.so
module_tmp		account.so
module_app		menu.so
CFG
# The P-CSCF is the outbound proxy (every request goes there, RFC 3261
# 8.1.2); the digest user name is the private identity (TS 24.229
# 5.1.1.2.1: user@realm, which baresip would not derive from the AoR).
printf '<sip:alice@%s>;auth_user=alice@%s;auth_pass=alice-secret;outbound="sip:127.0.0.1:%s";regint=600;mwi=no;pubint=0\n' \
	"$REALM" "$REALM" "$PP" >"$A/accounts"

# alice_cmd <command>: one line to baresip's UDP console
alice_cmd() {
	python3 - "$A_CONS" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto((sys.argv[2] + "\n").encode(), ("127.0.0.1", int(sys.argv[1])))
PY
}

# ---- bob: linphonec --------------------------------------------------------
B=$E2E_TMP/bob
b_sip=$(free_port)
b_rtp=$(free_port)
mkdir -p "$B/home/.local/share/linphone" # its database: startup stalls without
cat >"$B/linphonerc" <<CFG
[sip]
sip_port=0
sip_tcp_port=$b_sip
sip_tls_port=0
default_proxy=0
register_only_when_network_is_up=0
auto_net_state_mon=0
use_rfc2833=1
use_info=0
[net]
ipv6=0
[rtp]
audio_rtp_port=$b_rtp
video_rtp_port=0
[video]
enabled=0
capture=0
display=0
[sound]
echocancellation=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$PP;transport=tcp>
reg_route=<sip:127.0.0.1:$PP;transport=tcp;lr>
reg_identity=sip:bob@$REALM
reg_expires=600
reg_sendregister=1
publish=0
[auth_info_0]
username=bob
userid=bob@$REALM
passwd=bob-secret
realm=$REALM
CFG
# what bob says: 30 s of a 1 kHz tone, 8 kHz mono 16 bit
python3 - "$B/tone.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1)
w.setsampwidth(2)
w.setframerate(8000)
w.writeframes(b"".join(
    struct.pack("<h", int(8000 * math.sin(2 * math.pi * 1000 * i / 8000)))
    for i in range(8000 * 30)))
w.close()
PY

mkfifo "$B/in"
# keeps the FIFO open for writing, so linphonec never reads an EOF
(exec sleep 300 >"$B/in") &
E2E_PIDS+=("$!")
(cd "$B" && HOME=$B/home exec linphonec --pipe -c "$B/linphonerc" -d 6 \
	-l "$B-debug.log") <"$B/in" >"$B.log" 2>&1 &
BOB=$!
E2E_PIDS+=("$BOB")

# bob_cmd <command>: one line to linphonec.  Its stdin reader keeps one
# line at a time and the next overwrites it, hence the pause.
bob_cmd() {
	printf '%s\n' "$1" >"$B/in"
	sleep 0.3
}

# ---- registration through the P-CSCF --------------------------------------
(cd "$A" && exec baresip -f "$A") >"$A.log" 2>&1 </dev/null &
ALICE=$!
E2E_PIDS+=("$ALICE")
wait_for "$A.log" "alice@$REALM: .*200 OK" 15 ||
	fail "alice (baresip) did not register through the P-CSCF"
log "ok: alice (baresip) registered"

for ((i = 0; i < 30; i++)); do
	bob_cmd "status register"
	grep -aq "^.*registered, identity=sip:bob@$REALM" "$B.log" && break
	sleep 0.5
done
grep -aq "registered, identity=sip:bob@$REALM" "$B.log" ||
	fail "bob (linphonec) did not register through the P-CSCF"
grep -aq '^Via: SIP/2.0/TCP ' "$B-debug.log" ||
	fail "bob (linphonec) did not register over TCP"
log "ok: bob (linphonec) registered over TCP"
# both answered the S-CSCF's MD5 challenge (TS 24.229 5.4.1.2.1)
[ "$(count "$B-debug.log" '^SIP/2.0 401 ')" -ge 1 ] ||
	fail "bob: no 401 challenge before the 200"
grep -aq '"registered"' < <("$ENTIMS" subscriber show alice --data-dir "$DATA" 2>&1) ||
	fail "HSS: alice is not registered"
grep -aq '"registered"' < <("$ENTIMS" subscriber show bob --data-dir "$DATA" 2>&1) ||
	fail "HSS: bob is not registered"
log "ok: the HSS has both registered (SAR)"

bob_cmd "soundcard use files"
bob_cmd "play $B/tone.wav"
bob_cmd "record $B/received.wav"
wait_for "$B.log" "Using wav files instead of soundcard" 5 ||
	fail "linphonec did not switch to its file mode"

# alice_sends <digit>: RFC 4733 event from baresip, linphonec reports it
alice_sends() {
	local n
	n=$(count "$B.log" "Receiving tone [$1] from sip:alice@$REALM")
	alice_cmd "/sndcode $1"
	for ((i = 0; i < 50; i++)); do
		[ "$(count "$B.log" "Receiving tone [$1] from sip:alice@$REALM")" -gt "$n" ] &&
			return 0
		sleep 0.1
	done
	fail "bob (linphonec) did not receive alice's DTMF $1"
}

# bob_sends <digit>: RFC 4733 event from linphonec, baresip reports it
bob_sends() {
	local n
	n=$(count "$A.log" "received event: '[$1]' \(end=1\)")
	bob_cmd "$1"
	for ((i = 0; i < 50; i++)); do
		[ "$(count "$A.log" "received event: '[$1]' \(end=1\)")" -gt "$n" ] &&
			return 0
		sleep 0.1
	done
	fail "alice (baresip) did not receive bob's DTMF $1"
}

# sent_received <sender> <sent> <receiver> <received> <call>
sent_received() {
	if [ "$4" -gt $(($2 + 5)) ] || [ "$4" -lt $(($2 - 25)) ]; then
		fail "call $5: $1 sent $2 RTP packets but $3 received $4"
	fi
}

# rtp_check <call number>: both phones' own counters for that call
rtp_check() {
	local a_tx a_rx b_tx b_rx
	# baresip: "packets:   <transmit>   <receive>" at the end of a call
	read -r a_tx a_rx < <(awk -v n="$1" '/^packets:/ {if (++k == n) {print $2, $3; exit}}' "$A.log")
	# linphone: oRTP's session statistics at the end of a call
	b_tx=$(grep -aoE 'ortp-message-sent +[0-9]+ packets$' "$B-debug.log" |
		sed -n "$1p" | grep -oE '[0-9]+')
	b_rx=$(grep -aoE 'ortp-message-received +[0-9]+ packets$' "$B-debug.log" |
		sed -n "$1p" | grep -oE '[0-9]+')
	if [ -z "${a_rx:-}" ] || [ -z "${b_rx:-}" ] || [ -z "${b_tx:-}" ]; then
		fail "call $1: no RTP statistics from the phones"
	fi
	log "call $1 RTP packets: alice sent $a_tx received $a_rx; bob sent $b_tx received $b_rx"
	[ "$a_tx" -ge "$MIN_PACKETS" ] || fail "call $1: alice sent only $a_tx RTP packets"
	[ "$a_rx" -ge "$MIN_PACKETS" ] || fail "call $1: alice received only $a_rx RTP packets"
	[ "$b_tx" -ge "$MIN_PACKETS" ] || fail "call $1: bob sent only $b_tx RTP packets"
	[ "$b_rx" -ge "$MIN_PACKETS" ] || fail "call $1: bob received only $b_rx RTP packets"
	# What one sent is what the other received: loopback loses nothing,
	# and the IMS forwards the BYE within a millisecond, but the phone that
	# hangs up stops counting at once while the other sends until it has
	# handled the BYE (seen: up to 5 packets), so 25 (0.5 s) at most.
	sent_received "alice" "$a_tx" "bob" "$b_rx" "$1"
	sent_received "bob" "$b_tx" "alice" "$a_rx" "$1"
	log "ok: call $1: RTP flowed both ways"
}

# ---- call 1: alice (baresip) calls bob (linphonec) -------------------------
alice_cmd "/dial sip:bob@$REALM"
wait_for "$B.log" "Receiving new incoming call from sip:alice@$REALM" 15 ||
	fail "bob did not get alice's INVITE"
bob_cmd "answer"
wait_for "$A.log" "Call established: sip:bob@$REALM" 15 ||
	fail "alice's call to bob was not established"
wait_for "$B.log" "Media streams established with sip:alice@$REALM" 10 ||
	fail "bob's media for alice's call did not start"
log "ok: call 1 established (INVITE/200/ACK through P, S, I, S, P)"
sleep "$MEDIA_SECS"
for d in 1 5 9 '#'; do
	alice_sends "$d"
done
log "ok: bob received alice's telephone-events 1 5 9 #"
bob_sends '*'
log "ok: alice received bob's telephone-event *"
# linphonec's loop stays busy for about a second after it sent a digit: a
# BYE now would wait there (0.6 s seen) while bob's RTP goes on
sleep 1.5
alice_cmd "/hangup"
wait_for "$B.log" "Call 1 with sip:alice@$REALM ended" 10 ||
	fail "bob did not see alice's BYE"
wait_for "$A.log" "Call with sip:bob@$REALM terminated" 10 ||
	fail "alice did not see the call end"
wait_for "$A.log" "^packets:" 5 || fail "alice printed no RTP statistics"
wait_for "$B-debug.log" "ortp-message-sent +[0-9]+ packets$" 5 ||
	fail "bob printed no RTP statistics"
log "ok: call 1 hung up by alice"
rtp_check 1

# ---- call 2: bob (linphonec) calls alice (baresip) -------------------------
bob_cmd "call sip:alice@$REALM"
wait_for "$A.log" "Incoming call from: +sip:bob@$REALM" 15 ||
	fail "alice did not get bob's INVITE"
alice_cmd "/accept"
wait_for "$B.log" "Media streams established with sip:alice@$REALM for call 2" 15 ||
	fail "bob's call to alice was not established"
for ((i = 0; i < 50; i++)); do
	[ "$(count "$A.log" "Call established: sip:bob@$REALM")" -ge 2 ] && break
	sleep 0.1
done
[ "$(count "$A.log" "Call established: sip:bob@$REALM")" -ge 2 ] ||
	fail "alice did not see bob's call established"
log "ok: call 2 established"
sleep "$MEDIA_SECS"
for d in 0 7 '#'; do
	bob_sends "$d"
done
log "ok: alice received bob's telephone-events 0 7 #"
alice_sends 3
log "ok: bob received alice's telephone-event 3"
bob_cmd "terminate"
wait_for "$B.log" "Call 2 with sip:alice@$REALM ended" 10 ||
	fail "bob's call did not end"
for ((i = 0; i < 100; i++)); do
	[ "$(count "$A.log" "Call with sip:bob@$REALM terminated")" -ge 2 ] && break
	sleep 0.1
done
[ "$(count "$A.log" "Call with sip:bob@$REALM terminated")" -ge 2 ] ||
	fail "alice did not see bob's BYE"
for ((i = 0; i < 50; i++)); do
	[ "$(count "$A.log" '^packets:')" -ge 2 ] &&
		[ "$(count "$B-debug.log" 'ortp-message-sent +[0-9]+ packets$')" -ge 2 ] && break
	sleep 0.1
done
log "ok: call 2 hung up by bob"
rtp_check 2

# bob decoded audio into his recording (8 kHz 16 bit: 16 kB a second)
rec=$(stat -c %s "$B/received.wav" 2>/dev/null || echo 0)
[ "$rec" -ge 32000 ] || fail "bob recorded only $rec bytes of alice's audio"
log "ok: bob recorded $rec bytes of alice's audio"

# ---- what crossed the IMS ---------------------------------------------------
# bob's side of alice's INVITE and BYE (the first of each in linphone's
# log: its own come later), headers and body, up to the next log line
msg_at_bob() {
	awk -v m="$1" '$0 ~ "^" m " sip:" {f = 1; print; next}
		f && /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / {exit} f {print}' \
		"$B-debug.log" | tr -d '\r'
}
# vias <message> <port>: how many Vias of 127.0.0.1:<port>
vias() {
	grep -cE "^Via: SIP/2.0/(UDP|TCP) 127\.0\.0\.1:$2;" <<<"$1" || true
}
inv=$(msg_at_bob INVITE)
# alice, P-CSCF, S-CSCF (orig), I-CSCF, S-CSCF (term), P-CSCF
if [ "$(vias "$inv" "$PP")" -ne 2 ] || [ "$(vias "$inv" "$SP")" -ne 2 ] ||
	[ "$(vias "$inv" "$IP")" -ne 1 ]; then
	fail "bob: alice's INVITE did not pass P, S, I, S, P: $inv"
fi
grep -qiE "^P-Asserted-Identity: *<?sip:alice@$REALM>?" <<<"$inv" ||
	fail "bob: alice's INVITE has no P-Asserted-Identity sip:alice@$REALM"
grep -q 'telephone-event/' <<<"$inv" ||
	fail "bob: alice's offer has no telephone-event (RFC 4733)"
# bob is on TCP: the P-CSCF's entry nearest him says so (RFC 5658 double
# Record-Route), else his ACK and BYE as the caller of call 2 go to UDP,
# where he does not listen
grep -m1 '^Record-Route:' <<<"$inv" |
	grep -qE "@127\.0\.0\.1:$PP;transport=tcp;lr>" ||
	fail "bob: the top Record-Route is not the P-CSCF's over TCP: $inv"
bye=$(msg_at_bob BYE)
# by the Record-Route set: P-CSCF, S-CSCF, P-CSCF (no I-CSCF)
if [ "$(vias "$bye" "$PP")" -ne 2 ] || [ "$(vias "$bye" "$SP")" -lt 1 ] ||
	[ "$(vias "$bye" "$IP")" -ne 0 ]; then
	fail "bob: alice's BYE did not pass P, S, P: $bye"
fi
log "ok: bob saw the INVITE through P, S, I, S, P with PAI and telephone-event, the BYE through P, S, P"
# the S-CSCF's call records: both session cases of both calls, answered,
# ended by the caller's BYE
for c in "alice bob" "bob alice"; do
	read -r from to <<<"$c"
	for sc in "orig $from" "term $to"; do
		read -r case user <<<"$sc"
		grep -qE "call-record call-id=[^ ]+ icid=[^ ]+ user=sip:$user@$REALM case=$case from=sip:$from@$REALM to=sip:$to@$REALM start=[^ ]+ answer=[0-9][^ ]* end=[^ ]+ duration=[0-9]+ end-cause=bye-caller" \
			"$E2E_TMP/ims.log" ||
			fail "S-CSCF: no $case call record for $user ($from calls $to, answered, caller's BYE)"
	done
done
[ "$(count "$E2E_TMP/ims.log" 'scscf BYE to route')" -ge 2 ] ||
	fail "S-CSCF: the two BYEs did not pass it"
log "ok: S-CSCF call records of both calls (orig and term), both BYEs"

# ---- unregister, quit -------------------------------------------------------
bob_cmd "unregister"
for ((i = 0; i < 50; i++)); do
	grep -aq '"sip:bob@ims.test": "not_registered"' \
		< <("$ENTIMS" subscriber show bob --data-dir "$DATA" 2>&1) && break
	sleep 0.2
done
grep -aq '"sip:bob@ims.test": "not_registered"' \
	< <("$ENTIMS" subscriber show bob --data-dir "$DATA" 2>&1) ||
	fail "bob's unregistration did not reach the HSS"
log "ok: bob (linphonec) unregistered"
# linphonec quits cleanly only when told on its socket (its pipe reader
# thread waits in accept() otherwise); the socket is /tmp/linphonec-<uid>
python3 - "/tmp/linphonec-$(id -u)" <<'PY' || log "linphonec's socket did not take quit"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"quit")
try:
    s.recv(1000)
except OSError:
    pass
PY
rc=0
wait_pid "$BOB" 10 || rc=$?
expect_rc "bob (linphonec) quits" "$rc" 0

alice_cmd "/quit"
rc=0
wait_pid "$ALICE" 15 || rc=$?
expect_rc "alice (baresip) quits" "$rc" 0
grep -aq '"sip:alice@ims.test": "not_registered"' \
	< <("$ENTIMS" subscriber show alice --data-dir "$DATA" 2>&1) ||
	fail "alice's unregistration (at quit) did not reach the HSS"
log "ok: alice (baresip) unregistered"

kill -0 "$IMS" 2>/dev/null || fail "entims died"
kill -TERM "$IMS"
rc=0
wait_pid "$IMS" 10 || rc=$?
[ "$rc" -eq 0 ] || fail "entims exited with status $rc after SIGTERM"
pass
