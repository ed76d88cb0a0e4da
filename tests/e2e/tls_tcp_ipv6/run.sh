#!/usr/bin/env bash
# SIP over TLS (the self-signed certificate entims makes on first start,
# verified by the client against its subjectAltName), digest over TLS on
# one connection, a CRLF keep-alive, TCP framing of two requests in one
# write, and UDP over IPv6: a python3 client (client.py; Debian's sipp is
# built without TLS) against one entims listening on all of them.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

command -v python3 >/dev/null || skip "python3 not found"
DOMAIN=example.test
entims_user_add "sip:carol@$DOMAIN" carol-secret

TLS_PORT=$(free_port)
V6_PORT=$(free_port)
entims_start --domain "$DOMAIN" --listen "tls:127.0.0.1:$TLS_PORT" \
	--listen "udp:[::1]:$V6_PORT"

CERT=$ENTIMS_DATA/tls/cert.pem
[ -s "$CERT" ] || fail "entims made no certificate in $CERT"
rc=0
timeout 30 python3 "$E2E_SCENARIO/client.py" "$TLS_PORT" "$ENTIMS_PORT" \
	"$V6_PORT" "$CERT" carol carol-secret "$DOMAIN" \
	>"$E2E_TMP/client.out" 2>&1 || rc=$?
cat "$E2E_TMP/client.out" >&2
expect_rc "TLS, TCP and IPv6 client" "$rc" 0

entims_alive || fail "entims died"
entims_stop
pass
