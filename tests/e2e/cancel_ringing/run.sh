#!/usr/bin/env bash
# CANCEL of a ringing call (RFC 3261 9, 16.10): bob's sipp UAS rings,
# alice cancels; alice must get 200 for the CANCEL and 487 for the INVITE;
# bob must see the CANCEL, answer it and get the ACK for his 487.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SIPPDIR=$E2E_SCENARIO/../sipp
DOMAIN=example.test

entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_user_add "sip:bob@$DOMAIN" bob-secret
entims_start --domain "$DOMAIN"

bob_port=$(free_port)
rc=0
sipp_run reg-bob 30 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/register.xml" \
	-key user bob -key domain "$DOMAIN" -au bob -ap bob-secret \
	-auth_uri "$DOMAIN" \
	-i 127.0.0.1 -p "$bob_port" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "bob registers" "$rc" 0

sipp_bg uas-bob -sf "$SIPPDIR/uas_cancel.xml" -i 127.0.0.1 -p "$bob_port" \
	-m 1 -timeout 40 -timeout_error
uas_pid=$SIPP_PID
wait_udp_bound "$bob_port"

rc=0
sipp_run uac-alice 45 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/uac_cancel.xml" \
	-s bob -key user alice -key domain "$DOMAIN" -au alice -ap alice-secret \
	-auth_uri "bob@$DOMAIN" \
	-i 127.0.0.1 -p "$(free_port)" -m 1 -recv_timeout 10000 \
	-timeout 40 -timeout_error || rc=$?
expect_rc "alice: INVITE, 180, CANCEL, 200, 487, ACK" "$rc" 0

rc=0
wait_pid "$uas_pid" 20 || rc=$?
expect_rc "bob: INVITE, 180, CANCEL, 200, 487, ACK" "$rc" 0

entims_alive || fail "entims died"
entims_stop
pass
