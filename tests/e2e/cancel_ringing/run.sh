#!/usr/bin/env bash
# CANCEL of a ringing call (RFC 3261 9, 16.10): bob's sipp UAS rings,
# alice cancels; alice must get 200 for the CANCEL and 487 for the INVITE;
# bob must see the CANCEL, answer it and get the ACK for his 487.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

DOMAIN=example.test
entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_user_add "sip:bob@$DOMAIN" bob-secret
entims_start --domain "$DOMAIN"

bob_port=$(free_port)
register_bob "$DOMAIN" "$bob_port"
call_bob "$DOMAIN" "$bob_port" uas_cancel.xml uac_cancel.xml \
	"INVITE, 180, CANCEL, 200, 487, ACK" "INVITE, 180, CANCEL, 200, 487, ACK"

entims_alive || fail "entims died"
entims_stop
pass
