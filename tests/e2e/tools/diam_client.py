#!/usr/bin/env python3
"""Send one Cx request through freeDiameter (a Diameter relay) to the HSS.

freeDiameter 1.2.1 will not listen on loopback only (it drops ListenOn
127.0.0.1 and binds every interface), so it runs with no listening port
and *connects* to this client as a configured peer (client.<realm>).
The client listens on 127.0.0.1:<port>, answers freeDiameter's CER with a
CEA, then sends a User-Authorization-Request (TS 29.229 6.1.1) for
<impu>/<impi> with Destination-Realm <realm> and Destination-Host
hss.<realm>; freeDiameter relays it to the HSS over its own connection
and relays the answer back.  While freeDiameter's HSS connection is not
up yet it answers 3002 (DIAMETER_UNABLE_TO_DELIVER): the request is sent
again, for at most 25 s (and after 3 s without an answer: freeDiameter
ignores requests on a connection it is still re-opening).  Both messages are printed.

usage: diam_client.py <port> <realm> <impi> <impu> [expected code]
The expected code (default 2001) is matched against Result-Code or the
Experimental-Result-Code of the answer; Origin-Host must be hss.<realm>.
exit 0 on the expected answer, 1 otherwise."""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diam  # noqa: E402
from diam import Avp  # noqa: E402


def result_code(msg):
    rc = msg.find("Result-Code")
    if rc:
        return rc.u32()
    er = msg.find("Experimental-Result")
    if er and er.find("Experimental-Result-Code"):
        return er.find("Experimental-Result-Code").u32()
    return None


class Reader:
    """Diameter messages from a stream socket, keeping partial data across
    read timeouts."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def message(self, timeout):
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                length = int.from_bytes(self.buf[1:4], "big")
                if self.buf[0] != 1 or length < 20:
                    raise ValueError("not a Diameter stream")
                if len(self.buf) >= length:
                    raw, self.buf = self.buf[:length], self.buf[length:]
                    return raw
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ValueError("connection closed")
            self.buf += chunk


def send_answer(s, req, me, realm):
    s.sendall(req.answer([Avp.make("Result-Code", 2001),
                          Avp.make("Origin-Host", me),
                          Avp.make("Origin-Realm", realm)]).encode())


def main():
    port, realm, impi, impu = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    want = int(sys.argv[5]) if len(sys.argv) > 5 else 2001
    me = f"client.{realm}"
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(30)
    print(f"client.{realm} waiting on 127.0.0.1:{port}", flush=True)
    s, _ = srv.accept()
    srv.close()
    s.settimeout(10)
    vsai = Avp.make("Vendor-Specific-Application-Id", [
        Avp.make("Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Auth-Application-Id", diam.APP_CX)])
    cer = diam.Message.decode(diam.read_message(s))
    print(cer.dump(), flush=True)
    if cer.code != 257 or not cer.is_request:
        print("expected a CER first", file=sys.stderr)
        return 1
    s.sendall(cer.answer([
        Avp.make("Result-Code", 2001),
        Avp.make("Origin-Host", me), Avp.make("Origin-Realm", realm),
        Avp.make("Host-IP-Address", "127.0.0.1"), Avp.make("Vendor-Id", 0),
        Avp.make("Product-Name", "entims-interop-client", mandatory=False),
        Avp.make("Supported-Vendor-Id", diam.VENDOR_3GPP), vsai]).encode())
    # freeDiameter may hold the connection in REOPEN (RFC 3539 3.4.1:
    # three DWR/DWA before it is used again) and then ignores what we send:
    # without an answer in 3 s the request goes again with a new
    # hop-by-hop identifier; older answers are ignored.
    reader = Reader(s)
    hbh = random.getrandbits(31)
    deadline = time.monotonic() + 25
    next_send = time.monotonic()
    ans = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            hbh += 1
            uar = diam.Message(300, diam.APP_CX, diam.FLAG_R | diam.FLAG_P, hbh, hbh, [
                Avp.make("Session-Id", f"{me};{hbh};1"), vsai,
                Avp.make("Auth-Session-State", 1),
                Avp.make("Origin-Host", me), Avp.make("Origin-Realm", realm),
                Avp.make("Destination-Host", f"hss.{realm}"),
                Avp.make("Destination-Realm", realm),
                Avp.make("User-Name", impi), Avp.make("Public-Identity", impu),
                Avp.make("Visited-Network-Identifier", realm)])
            print(uar.dump(), flush=True)
            s.sendall(uar.encode())
            next_send = now + 3
        raw = reader.message(max(0.05, next_send - time.monotonic()))
        if raw is None:
            continue
        msg = diam.Message.decode(raw)
        print(msg.dump(), flush=True)
        if msg.is_request:
            if msg.code == 280:  # DWR from freeDiameter
                send_answer(s, msg, me, realm)
                continue
            print("unexpected request", file=sys.stderr)
            return 1
        if msg.code != 300 or msg.hbh != hbh:
            continue
        if result_code(msg) == 3002 and msg.flags & diam.FLAG_E:
            # freeDiameter has no route to the HSS yet
            next_send = time.monotonic() + 1
            continue
        ans = msg
        break
    ok = (ans is not None and ans.code == 300 and ans.hbh == hbh and
          ans.find("Origin-Host") is not None and
          ans.find("Origin-Host").text() == f"hss.{realm}" and
          result_code(ans) == want)
    s.close()
    print("UAA as expected" if ok else f"unexpected UAA (wanted {want})", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
