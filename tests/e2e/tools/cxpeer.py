#!/usr/bin/env python3
"""A scripted Cx peer (an I-/S-CSCF as the HSS sees it) for the e2e tests.

Connects to the HSS on 127.0.0.1:<port> as <origin-host> of <realm>,
exchanges CER/CEA (RFC 6733 5.3), then runs each STEP in order, checking
the answer's Result-Code or Experimental-Result-Code (TS 29.229 6.2):

  uar IMPI IMPU CODE          User-Authorization-Request (REGISTRATION)
  sar TYPE IMPI IMPU CODE     Server-Assignment-Request, Server-Name
                              sip:<origin-host>, TYPE a number (TS 29.229
                              6.3.15: 1 REGISTRATION, 5 USER_DEREGISTRATION)
  lir IMPU CODE [SERVER]      Location-Info-Request; with SERVER the
                              answer must name that S-CSCF
  mar IMPI IMPU SCHEME CODE   Multimedia-Auth-Request for one item

Every answer is printed; exit 0 when every step got what it expected,
1 otherwise.  Test tooling, not part of entims."""
import os
import socket
import sys

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


class Peer:
    def __init__(self, port, me, realm):
        self.me, self.realm, self.hbh = me, realm, 1000
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.vsai = Avp.make("Vendor-Specific-Application-Id", [
            Avp.make("Vendor-Id", diam.VENDOR_3GPP),
            Avp.make("Auth-Application-Id", diam.APP_CX)])
        cea = self.request(257, 0, [
            Avp.make("Origin-Host", me), Avp.make("Origin-Realm", realm),
            Avp.make("Host-IP-Address", "127.0.0.1"),
            Avp.make("Vendor-Id", diam.VENDOR_3GPP),
            Avp.make("Product-Name", "entims-e2e-cxpeer", mandatory=False),
            Avp.make("Supported-Vendor-Id", diam.VENDOR_3GPP), self.vsai],
            session=False)
        if result_code(cea) != 2001:
            raise SystemExit(f"CER refused: {result_code(cea)}")

    def request(self, code, app, avps, session=True):
        self.hbh += 1
        head = [Avp.make("Session-Id", f"{self.me};1;{self.hbh}")] if session else []
        req = diam.Message(code, app, diam.FLAG_R | (diam.FLAG_P if app else 0),
                           self.hbh, self.hbh, head + avps)
        self.s.sendall(req.encode())
        while True:
            msg = diam.Message.decode(diam.read_message(self.s))
            if msg.is_request:  # DWR: answer and go on
                self.s.sendall(msg.answer([
                    Avp.make("Result-Code", 2001),
                    Avp.make("Origin-Host", self.me),
                    Avp.make("Origin-Realm", self.realm)]).encode())
                continue
            if msg.hbh == self.hbh:
                print(msg.dump(), flush=True)
                return msg

    def cx(self, code, avps):
        return self.request(code, diam.APP_CX, [
            self.vsai, Avp.make("Auth-Session-State", 1),
            Avp.make("Origin-Host", self.me), Avp.make("Origin-Realm", self.realm),
            Avp.make("Destination-Realm", self.realm)] + avps)


def main():
    port, me, realm, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    peer = Peer(port, me, realm)
    ok = True
    while steps:
        op = steps.pop(0)
        if op == "uar":
            impi, impu, want = steps.pop(0), steps.pop(0), int(steps.pop(0))
            ans = peer.cx(300, [Avp.make("User-Name", impi),
                                Avp.make("Public-Identity", impu),
                                Avp.make("Visited-Network-Identifier", realm)])
            extra = True
        elif op == "sar":
            typ, impi, impu, want = (int(steps.pop(0)), steps.pop(0),
                                     steps.pop(0), int(steps.pop(0)))
            ans = peer.cx(301, [Avp.make("User-Name", impi),
                                Avp.make("Public-Identity", impu),
                                Avp.make("Server-Name", f"sip:{me}"),
                                Avp.make("Server-Assignment-Type", typ),
                                Avp.make("User-Data-Already-Available", 0)])
            extra = typ != 1 or ans.find("User-Data") is not None
        elif op == "lir":
            impu, want = steps.pop(0), int(steps.pop(0))
            server = steps.pop(0) if steps and not steps[0] in (
                "uar", "sar", "lir", "mar") else None
            ans = peer.cx(302, [Avp.make("Public-Identity", impu)])
            sn = ans.find("Server-Name")
            extra = server is None or (sn is not None and sn.text() == server)
        elif op == "mar":
            impi, impu, scheme, want = (steps.pop(0), steps.pop(0), steps.pop(0),
                                        int(steps.pop(0)))
            ans = peer.cx(303, [Avp.make("User-Name", impi),
                                Avp.make("Public-Identity", impu),
                                Avp.make("SIP-Number-Auth-Items", 1),
                                Avp.make("SIP-Auth-Data-Item", [
                                    Avp.make("SIP-Authentication-Scheme", scheme)]),
                                Avp.make("Server-Name", f"sip:{me}")])
            extra = want != 2001 or ans.find("SIP-Auth-Data-Item") is not None
        else:
            raise SystemExit(f"unknown step {op}")
        got = result_code(ans)
        good = got == want and extra
        print(f"{'ok' if good else 'WRONG'}: {op} -> {got} (wanted {want})", flush=True)
        ok = ok and good
    peer.s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
