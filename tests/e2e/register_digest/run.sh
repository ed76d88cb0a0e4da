#!/usr/bin/env bash
# REGISTER with MD5 digest (RFC 3261 10, 22.4; sipp's [authentication]):
#  - right password: 401, then 200 whose Contact lists our binding;
#  - wrong password: 401, then 401 or 403, never 200.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

SIPPDIR=$E2E_SCENARIO/../sipp
DOMAIN=example.test

entims_user_add "sip:alice@$DOMAIN" alice-secret
entims_start --domain "$DOMAIN"

port=$(free_port)
rc=0
sipp_run reg-ok 30 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/register.xml" \
	-key user alice -key domain "$DOMAIN" -au alice -ap alice-secret \
	-auth_uri "$DOMAIN" \
	-i 127.0.0.1 -p "$port" -m 1 -recv_timeout 5000 || rc=$?
expect_rc "REGISTER with the right password gets 200" "$rc" 0

# The 200 must carry exactly our binding (10.3 step 8), with expires.
grep -aiqE "^(Contact|m) *:.*<?sip:alice@127\.0\.0\.1:${port}[;>].*expires=[1-9]" \
	"$E2E_TMP/reg-ok.msg.log" ||
	fail "the 200 OK does not return Contact sip:alice@127.0.0.1:$port with expires"
log "ok: 200 OK lists sip:alice@127.0.0.1:$port"

rc=0
sipp_run reg-badpw 30 "127.0.0.1:$ENTIMS_PORT" -sf "$SIPPDIR/register_badpw.xml" \
	-key user alice -key domain "$DOMAIN" -au alice -ap not-the-password \
	-auth_uri "$DOMAIN" \
	-i 127.0.0.1 -m 1 -recv_timeout 5000 || rc=$?
expect_rc "REGISTER with a wrong password gets 401/403" "$rc" 0

entims_alive || fail "entims died"
entims_stop
pass
