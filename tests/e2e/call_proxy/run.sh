#!/usr/bin/env bash
# A call through the proxy (RFC 3261 16): bob registers (sipp, digest),
# then a sipp UAS answers on bob's registered contact; alice (sipp UAC)
# calls sip:bob@domain: INVITE (credentials if challenged), 100/180/200,
# ACK, BYE, 200.  Both sipp ends must finish their one call successfully.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

DOMAIN=example.test
entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_user_add "sip:bob@$DOMAIN" bob-secret
entims_start --domain "$DOMAIN"

bob_port=$(free_port)
register_bob "$DOMAIN" "$bob_port"
call_bob "$DOMAIN" "$bob_port" uas_call.xml uac_call.xml \
	"INVITE, 180, 200, ACK, BYE, 200" "INVITE, 180, 200, ACK, BYE answered"

entims_alive || fail "entims died"
entims_stop
pass
