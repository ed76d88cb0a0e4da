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

# Rounds in which no two messages share a server transaction key (see
# torture.py), each against a fresh entims that must exit cleanly.
mapfile -t rounds < <(python3 "$E2E_SCENARIO/torture.py" --dir "$MSGDIR" \
	${MANIFEST:+--manifest "$MANIFEST"} --plan) ||
	fail "torture.py --plan failed"
[ "${#rounds[@]}" -gt 0 ] || fail "no torture rounds planned"

# still serving: a well-formed REGISTER gets its challenge
still_serving() {
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
}

failed=0
for ((r = 0; r < ${#rounds[@]}; r++)); do
	entims_start --domain example.com
	rc=0
	python3 "$E2E_SCENARIO/torture.py" --port "$ENTIMS_PORT" --dir "$MSGDIR" \
		--only "${rounds[r]}" >"$E2E_TMP/torture.$r.out" 2>&1 || rc=$?
	cat "$E2E_TMP/torture.$r.out" >&2
	entims_alive || fail "entims died during torture round $((r + 1))"
	still_serving
	[ "$rc" -eq 0 ] || failed=1
	entims_stop
done

[ "$failed" -eq 0 ] || fail "some torture messages were not answered as RFC 4475 expects"
log "ok: every torture message answered as RFC 4475 expects"
pass
