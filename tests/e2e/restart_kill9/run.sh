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

DOMAIN=example.test

entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_user_add "sip:bob@$DOMAIN" bob-secret
entims_start --domain "$DOMAIN"
first_log=$ENTIMS_LOG
grep -q ' 0 bindings loaded' "$first_log" ||
	fail "a fresh data directory should load 0 bindings (see ${first_log##*/})"

bob_port=$(free_port)
register_bob "$DOMAIN" "$bob_port"

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

call_bob "$DOMAIN" "$bob_port" uas_call.xml uac_call.xml \
	"sip:bob@$DOMAIN after the restart: INVITE, 180, 200, ACK, BYE, 200" \
	"the UAS on 127.0.0.1:$bob_port answered INVITE, 180, 200, ACK, BYE"

# The restored binding is bob's contact: the INVITE went to it as
# Request-URI (RFC 3261 16.5, 16.6 step 2).
grep -aqE "^INVITE sip:bob@127\.0\.0\.1:${bob_port}[; ]" \
	"$E2E_TMP/uas-bob.msg.log" ||
	fail "the UAS did not get INVITE sip:bob@127.0.0.1:$bob_port (see uas-bob.msg.log)"
log "ok: the INVITE was retargeted to the restored contact"

entims_alive || fail "entims died"
entims_stop
pass
