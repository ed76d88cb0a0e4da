#!/usr/bin/env bash
# A call to a domain entims does not serve, whose next hop only DNS knows
# (RFC 3263 4.1, 4.2): a dnsmasq on loopback holds
#   far.test            NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp.far.test
#   _sip._udp.far.test  SRV   0 0 <uas port> target.far.test
#   target.far.test     A     127.0.0.1
# and is authoritative for .test (anything else there is NXDOMAIN).
# entims uses it as its only DNS server ([sip] dns).  alice, a user of
# entims' domain, calls sip:bob@far.test (no port in the URI): the INVITE
# must reach the sipp UAS on <uas port>, a port only the SRV record names,
# with the Request-URI unchanged, and the call must complete on both sides.
# RFC 3263 4.3 failover: far2.test says SIP over TCP (NAPTR SIP+D2T) and
# lists two SRV targets, the first on a port where nothing listens (the
# TCP connect is refused) and the second a sipp UAS over TCP: the call
# must reach the second.
# Then the caller must get a final error (4xx/5xx) within a bounded time,
# not silence, for sip:bob@nowhere.test (NXDOMAIN) and for
# sip:bob@far.test once the DNS server is gone.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SIPPDIR=$E2E_SCENARIO/../sipp
DOMAIN=example.test
FAR=far.test

DNSMASQ=$(command -v dnsmasq || true)
[ -n "$DNSMASQ" ] || [ ! -x /usr/sbin/dnsmasq ] || DNSMASQ=/usr/sbin/dnsmasq
[ -n "$DNSMASQ" ] || skip "dnsmasq not installed (dnsmasq-base)"

dns_port=$(free_port)
uas_port=$(free_port)
while [ "$uas_port" -eq "$dns_port" ] || [ "$uas_port" -eq 5060 ]; do
	uas_port=$(free_port)
done
FAR2=far2.test
dead_port=$(free_port) # nothing will listen there
uas2_port=$(free_port)
while [ "$uas2_port" -eq "$dead_port" ] || [ "$uas2_port" -eq "$uas_port" ]; do
	uas2_port=$(free_port)
done

# dnsmasq in the foreground of a background job (its PID is ours), only on
# 127.0.0.1:<dns port>, no upstream servers, no /etc/hosts, no config file.
"$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts \
	--conf-file=/dev/null --pid-file="$E2E_TMP/dnsmasq.pid" \
	--user="$(id -un)" \
	--port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces \
	--local=/test/ --log-queries --log-facility="$E2E_TMP/dnsmasq.log" \
	--naptr-record="$FAR,10,10,S,SIP+D2U,,_sip._udp.$FAR" \
	--srv-host="_sip._udp.$FAR,target.$FAR,$uas_port,0,0" \
	--host-record="target.$FAR,127.0.0.1" \
	--naptr-record="$FAR2,10,10,S,SIP+D2T,,_sip._tcp.$FAR2" \
	--srv-host="_sip._tcp.$FAR2,target.$FAR,$dead_port,0,0" \
	--srv-host="_sip._tcp.$FAR2,target.$FAR,$uas2_port,10,0" \
	>"$E2E_TMP/dnsmasq.out" 2>&1 </dev/null &
dns_pid=$!
E2E_PIDS+=("$dns_pid")
wait_udp_bound "$dns_port"
kill -0 "$dns_pid" 2>/dev/null || fail "dnsmasq exited at start"
log "dnsmasq pid $dns_pid on 127.0.0.1:$dns_port"

conf=$E2E_TMP/entims-dns.conf
printf '[core]\nroles = sip\n[sip]\ndns = 127.0.0.1:%s\n' "$dns_port" >"$conf"
entims_user_add "sip:alice@$DOMAIN" alice-secret
port=$(free_port) # the UAS has not bound its port yet: keep clear of it
while [ "$port" -eq "$uas_port" ]; do
	port=$(free_port)
done
entims_launch "$port" "$conf" --domain "$DOMAIN"

# ---- 1. the call: located through NAPTR/SRV ----
sipp_bg uas-bob -sf "$SIPPDIR/uas_call.xml" -i 127.0.0.1 -p "$uas_port" \
	-m 1 -timeout 30 -timeout_error
uas_pid=$SIPP_PID
wait_udp_bound "$uas_port"

rc=0
sipp_run uac-alice 35 "127.0.0.1:$ENTIMS_PORT" \
	-sf "$SIPPDIR/dns_uac_call.xml" \
	-s bob -key user alice -key domain "$DOMAIN" -key target "$FAR" \
	-au alice -ap alice-secret -auth_uri "bob@$FAR" \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 10000 \
	-timeout 30 -timeout_error || rc=$?
expect_rc "alice -> sip:bob@$FAR: INVITE, 180, 200, ACK, BYE, 200" "$rc" 0

rc=0
wait_pid "$uas_pid" 15 || rc=$?
expect_rc "UAS on the SRV port $uas_port: INVITE, 180, 200, ACK, BYE answered" \
	"$rc" 0

# RFC 3263 picks where to send; the Request-URI stays what alice wrote.
grep -aqE "^INVITE sip:bob@${FAR//./\\.} SIP/2\.0" "$E2E_TMP/uas-bob.msg.log" ||
	fail "the UAS did not get INVITE sip:bob@$FAR (see uas-bob.msg.log)"
log "ok: the UAS got INVITE sip:bob@$FAR, Request-URI unchanged"

# entims asked our server for the SRV (or NAPTR) of far.test; give
# dnsmasq's log writer a moment.
for ((i = 0; i < 20; i++)); do
	grep -qE "query\[(SRV\] _sip\._udp|NAPTR\] )${FAR//./\\.} from 127\.0\.0\.1" \
		"$E2E_TMP/dnsmasq.log" 2>/dev/null && break
	sleep 0.1
done
grep -qE "query\[(SRV\] _sip\._udp|NAPTR\] )${FAR//./\\.} from 127\.0\.0\.1" \
	"$E2E_TMP/dnsmasq.log" ||
	fail "dnsmasq saw no NAPTR/SRV query for $FAR (see dnsmasq.log)"
log "ok: dnsmasq answered $(grep -cE 'query\[' "$E2E_TMP/dnsmasq.log") queries:" \
	"$(grep -oE 'query\[[A-Z]+\] [^ ]+' "$E2E_TMP/dnsmasq.log" | sort -u |
		tr '\n' ' ')"

# ---- 1b. RFC 3263 4.3: the first SRV target refuses, the second answers ----
sipp_bg uas2-bob -sf "$SIPPDIR/uas_call.xml" -t t1 -i 127.0.0.1 \
	-p "$uas2_port" -m 1 -timeout 30 -timeout_error
uas2_pid=$SIPP_PID
for ((i = 0; i < 50; i++)); do
	ss -ltnH "sport = :$uas2_port" 2>/dev/null | grep -q . && break
	sleep 0.1
done
rc=0
sipp_run uac-alice2 35 "127.0.0.1:$ENTIMS_PORT" \
	-sf "$SIPPDIR/dns_uac_call.xml" \
	-s bob -key user alice -key domain "$DOMAIN" -key target "$FAR2" \
	-au alice -ap alice-secret -auth_uri "bob@$FAR2" \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 10000 \
	-timeout 30 -timeout_error || rc=$?
expect_rc "alice -> sip:bob@$FAR2 (first SRV target dead): call completes" \
	"$rc" 0
rc=0
wait_pid "$uas2_pid" 15 || rc=$?
expect_rc "UAS on the second SRV target (TCP $uas2_port) answered" "$rc" 0
grep -q "trying the next one" "$ENTIMS_LOG" ||
	fail "entims did not log the failover (see ${ENTIMS_LOG##*/})"
log "ok: failover from the refused target to the second SRV target"

# call_fails <name> <target domain> <max seconds>: alice calls
# sip:bob@<target>; a final 4xx/5xx must come back within <max seconds>.
call_fails() {
	local name=$1 target=$2 secs=$3 rc=0 t0 t1 final
	t0=$(date +%s%N)
	sipp_run "$name" $((secs + 5)) "127.0.0.1:$ENTIMS_PORT" \
		-sf "$SIPPDIR/dns_uac_fail.xml" \
		-s bob -key user alice -key domain "$DOMAIN" -key target "$target" \
		-au alice -ap alice-secret -auth_uri "bob@$target" \
		-i 127.0.0.1 -p "$(free_port)" -m 1 \
		-recv_timeout $((secs * 1000)) -timeout "$secs" -timeout_error ||
		rc=$?
	t1=$(date +%s%N)
	final=$(tr -d '\r' <"$E2E_TMP/$name.msg.log" |
		grep -aE '^SIP/2\.0 [2-6][0-9][0-9]' |
		grep -vE '^SIP/2\.0 40[17] ' | tail -n 1 || true)
	expect_rc "sip:bob@$target: final error '${final:-none}' after $(((t1 - t0) / 1000000)) ms" \
		"$rc" 0
}

# ---- 2. a name with no records (NXDOMAIN) ----
call_fails uac-nowhere nowhere.test 20

# ---- 3. the DNS server is gone ----
kill -TERM "$dns_pid"
rc=0
wait_pid "$dns_pid" 5 || rc=$?
[ "$rc" -ne 124 ] || fail "dnsmasq did not stop on SIGTERM"
log "dnsmasq stopped"
call_fails uac-nodns "$FAR" 30

entims_alive || fail "entims died"
entims_stop
pass
