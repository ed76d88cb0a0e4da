#!/usr/bin/env bash
# RFC 4475 torture messages over UDP (torture.py): each answer is checked
# against the test-data manifest (400 for the malformed, 505 badvers, 416
# unkscm, 483 zeromf, silence for responses, ...).  Afterwards entims must
# still be running, still answer a well-formed REGISTER, and exit cleanly.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

MSGDIR=$E2E_SCENARIO/../../fuzz/corpus/sip_msg   # byte copies of the archive
MANIFEST=
for m in "$E2E_SCENARIO/../../data/sip/rfc4475/manifest.tsv" \
	"$E2E_SCENARIO/../../../../shared/testdata/rfc4475/manifest.tsv"; do
	if [ -f "$m" ]; then
		MANIFEST=$m
		break
	fi
done

# example.com is our domain here, so most Request-URIs of the archive are
# local; the users its REGISTERs name exist.
for u in j.user watson user; do
	entims_user_add "sip:$u@example.com" "torture-$u"
done
entims_start --domain example.com --mode proxy

rc=0
python3 "$E2E_SCENARIO/torture.py" --port "$ENTIMS_PORT" --dir "$MSGDIR" \
	${MANIFEST:+--manifest "$MANIFEST"} >"$E2E_TMP/torture.out" 2>&1 || rc=$?
cat "$E2E_TMP/torture.out" >&2
entims_alive || fail "entims died during the torture messages"
expect_rc "every torture message answered as RFC 4475 expects" "$rc" 0

# still serving: a plain REGISTER gets its challenge
python3 - "$ENTIMS_PORT" <<'PY' || fail "entims no longer answers a well-formed REGISTER"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
msg = ("REGISTER sip:example.com SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-alive-1;rport\r\n"
       "Max-Forwards: 70\r\n"
       "From: <sip:watson@example.com>;tag=alive1\r\n"
       "To: <sip:watson@example.com>\r\n"
       "Call-ID: alive-1@127.0.0.1\r\n"
       "CSeq: 1 REGISTER\r\n"
       "Contact: <sip:watson@127.0.0.1:%d>\r\n"
       "Content-Length: 0\r\n\r\n") % (port, port)
s.settimeout(5)
s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[1])))
data, _ = s.recvfrom(65535)
print(data.split(b"\r\n", 1)[0].decode(), file=sys.stderr)
sys.exit(0 if data.startswith(b"SIP/2.0 401 ") else 1)
PY
log "ok: a well-formed REGISTER still gets 401"

entims_stop
pass
