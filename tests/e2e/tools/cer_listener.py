#!/usr/bin/env python3
"""Accept one Diameter connection on 127.0.0.1:<port>, read the first
message (RFC 6733 3: version 1, 24-bit length), check it is a CER
(request bit, command 257), print a decoded summary and write the raw bytes
as hex to <out> and the decoded form to <out without .hex>.txt.  No answer is sent: the peer's CER is all we want.

usage: cer_listener.py <port> <out.hex> [timeout s]
exit 0: a CER was captured; 1: something else or nothing came."""
import socket
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import diam  # noqa: E402


def main():
    port = int(sys.argv[1])
    out = sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(timeout)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        conn, peer = srv.accept()
    except socket.timeout:
        print("no connection", file=sys.stderr)
        return 1
    conn.settimeout(timeout)
    print(f"connection from {peer[0]}:{peer[1]}", flush=True)
    try:
        raw = diam.read_message(conn)
    except (OSError, ValueError) as e:
        print(f"no complete Diameter message: {e}", file=sys.stderr)
        return 1
    finally:
        conn.close()
        srv.close()
    with open(out, "w") as f:
        f.write(raw.hex() + "\n")
    msg = diam.Message.decode(raw)
    print(msg.dump(), flush=True)
    with open(out.rsplit(".", 1)[0] + ".txt", "w") as f:
        f.write(msg.dump() + "\n")
    ver = raw[0]
    if ver != 1 or not msg.is_request or msg.code != 257:
        print(f"not a CER: version {ver} command {msg.code}", file=sys.stderr)
        return 1
    print(f"CER ok: version 1, command 257, {len(raw)} bytes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
