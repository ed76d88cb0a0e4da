#!/usr/bin/env bash
# Bindings survive a crash (RFC 3261 10.3: the location service keeps what
# a 200 to REGISTER confirmed).  bob registers (sipp, digest) and gets 200;
# entims is then killed with SIGKILL at once, so nothing of its shutdown
# runs; a new entims on the same port and data directory must report the
# binding loaded from the store, and alice's call to sip:bob@domain must
# reach the sipp UAS on bob's registered contact: INVITE, 180, 200, ACK,
# BYE, 200 on both sides.  The second entims must exit cleanly on SIGTERM.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SIPPDIR=$E2E_SCENARIO/../sipp
DOMAIN=example.test

entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_user_add "sip:bob@$DOMAIN" bob-secret
entims_start --domain "$DOMAIN"
first_log=$ENTIMS_LOG
grep -q ' 0 bindings loaded' "$first_log" ||
	fail "a fresh data directory should load 0 bindings (see ${first_log##*/})"

bob_port=$(free_port)
rc=0
sipp_run reg-bob 30 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/register.xml" \
	-key user bob -key domain "$DOMAIN" -au bob -ap bob-secret \
	-auth_uri "$DOMAIN" \
	-i 127.0.0.1 -p "$bob_port" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "bob registers sip:bob@127.0.0.1:$bob_port" "$rc" 0

# The 200 has left: the binding must already be stored.  No pause, no
# SIGTERM: a crash right after the answer.
entims_kill9

# Same port, same config, same data directory.
entims_launch "$ENTIMS_PORT" "$ENTIMS_CONF" --domain "$DOMAIN"
[ "$ENTIMS_LOG" != "$first_log" ] || fail "the restart wrote into the first log"
loaded=$(grep -oE '[0-9]+ bindings loaded' "$ENTIMS_LOG" | head -n 1 || true)
[ "$loaded" = "1 bindings loaded" ] ||
	fail "after the restart entims reports '${loaded:-nothing}', expected '1 bindings loaded' (see ${ENTIMS_LOG##*/})"
log "ok: after SIGKILL and restart: $loaded"

sipp_bg uas-bob -sf "$SIPPDIR/uas_call.xml" -i 127.0.0.1 -p "$bob_port" \
	-m 1 -timeout 30 -timeout_error
uas_pid=$SIPP_PID
wait_udp_bound "$bob_port"

rc=0
sipp_run uac-alice 35 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/uac_call.xml" \
	-s bob -key user alice -key domain "$DOMAIN" -au alice -ap alice-secret \
	-auth_uri "bob@$DOMAIN" \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 10000 \
	-timeout 30 -timeout_error || rc=$?
expect_rc "alice -> sip:bob@$DOMAIN after the restart: INVITE, 180, 200, ACK, BYE, 200" \
	"$rc" 0

rc=0
wait_pid "$uas_pid" 15 || rc=$?
expect_rc "bob's UAS on 127.0.0.1:$bob_port: INVITE, 180, 200, ACK, BYE answered" \
	"$rc" 0

# The restored binding is bob's contact: the INVITE went to it as
# Request-URI (RFC 3261 16.5, 16.6 step 2).
grep -aqE "^INVITE sip:bob@127\.0\.0\.1:${bob_port}[; ]" \
	"$E2E_TMP/uas-bob.msg.log" ||
	fail "the UAS did not get INVITE sip:bob@127.0.0.1:$bob_port (see uas-bob.msg.log)"
log "ok: the INVITE was retargeted to the restored contact"

entims_alive || fail "entims died"
entims_stop
pass
