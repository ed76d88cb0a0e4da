#!/usr/bin/env python3
"""A fake S-CSCF on Cx for the hss_push scenario: it registers a user at
the HSS and then waits for what the HSS pushes.  Test tooling, not part of
entims; the Diameter codec is tests/e2e/tools/diam.py.

usage: scscf.py <hss port> <origin-host> <realm> <impi> <impu> <seconds>

1. Connects to 127.0.0.1:<hss port>, CER/CEA (RFC 6733 5.3) advertising
   Cx (Vendor-Specific-Application-Id 10415/16777216).
2. Registers as an S-CSCF does (TS 29.228 6.3, 6.1.2): MAR for one SIP
   Digest item, then SAR REGISTRATION with User-Data-Already-Available 0;
   both must answer 2001 and the SAA must carry User-Data.  Prints
   "REGISTERED".
3. Stays connected for at most <seconds>, answering DWR with DWA, and
   - a PPR (TS 29.229 6.1.13) with PPA 2001, printing one line
     "PPR user=<User-Name> pub=<identity>:<barred 0|1>,... as=<AS URIs>"
     from the IMSSubscription XML of its User-Data (TS 29.228 annex E);
   - an RTR (6.1.9) with RTA 2001, printing
     "RTR user=<User-Name> reason=<Reason-Code> impu=<Public-Identity,...>
     info=<Reason-Info or ->"
     and then stops (exit 0).
Exit 1 when registration fails, the connection closes, or the time runs
out before an RTR.
"""
import os
import socket
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import diam  # noqa: E402
from diam import Avp  # noqa: E402

CMD_CE, CMD_DW, CMD_DP, CMD_SA, CMD_MA, CMD_RT, CMD_PP = (
    257, 280, 282, 301, 303, 304, 305)


def result_code(msg):
    rc = msg.find("Result-Code")
    if rc:
        return rc.u32()
    er = msg.find("Experimental-Result")
    if er and er.find("Experimental-Result-Code"):
        return er.find("Experimental-Result-Code").u32()
    return None


class Reader:
    """Whole Diameter messages from a stream, partial data kept across
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
                    return diam.Message.decode(raw)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ValueError("the HSS closed the connection")
            self.buf += chunk


class Scscf:
    def __init__(self, port, me, realm):
        self.me, self.realm, self.hbh = me, realm, 5000
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.rd = Reader(self.s)
        self.vsai = Avp.make("Vendor-Specific-Application-Id", [
            Avp.make("Vendor-Id", diam.VENDOR_3GPP),
            Avp.make("Auth-Application-Id", diam.APP_CX)])
        cea = self.request(CMD_CE, 0, [
            Avp.make("Origin-Host", me), Avp.make("Origin-Realm", realm),
            Avp.make("Host-IP-Address", "127.0.0.1"),
            Avp.make("Vendor-Id", diam.VENDOR_3GPP),
            Avp.make("Product-Name", "entims-e2e-scscf", mandatory=False),
            Avp.make("Supported-Vendor-Id", diam.VENDOR_3GPP), self.vsai],
            session=False)
        if result_code(cea) != 2001:
            raise SystemExit(f"CER refused: {result_code(cea)}")

    def base(self):
        return [Avp.make("Origin-Host", self.me),
                Avp.make("Origin-Realm", self.realm)]

    def request(self, code, app, avps, session=True):
        self.hbh += 1
        head = ([Avp.make("Session-Id", f"{self.me};1;{self.hbh}")]
                if session else [])
        req = diam.Message(code, app,
                           diam.FLAG_R | (diam.FLAG_P if app else 0),
                           self.hbh, self.hbh, head + avps)
        self.s.sendall(req.encode())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = self.rd.message(1)
            if msg is None:
                continue
            if msg.is_request:
                self.serve(msg)
            elif msg.hbh == self.hbh:
                return msg
        raise SystemExit(f"no answer to command {code} within 10 s")

    def cx(self, code, avps):
        return self.request(code, diam.APP_CX, [
            self.vsai, Avp.make("Auth-Session-State", 1)] + self.base() +
            [Avp.make("Destination-Realm", self.realm)] + avps)

    def answer(self, req, avps):
        """RFC 6733 6.2 and TS 29.229 6.1: Session-Id first, then the
        application's AVPs."""
        head = []
        sid = req.find("Session-Id")
        if sid is not None:
            head.append(Avp.make("Session-Id", sid.text()))
        if req.app == diam.APP_CX:
            head += [self.vsai, Avp.make("Auth-Session-State", 1)]
        self.s.sendall(req.answer(
            head + [Avp.make("Result-Code", 2001)] + self.base() + avps)
            .encode())

    def serve(self, req):
        """Answer a request from the HSS; its printable line or None."""
        if req.code == CMD_DW:
            self.answer(req, [])
            return None
        if req.code == CMD_PP:
            self.answer(req, [])
            return "PPR " + describe_ppr(req)
        if req.code == CMD_RT:
            self.answer(req, [])
            return "RTR " + describe_rtr(req)
        raise SystemExit(f"unexpected request {req.code}:\n{req.dump()}")


def text(msg, name):
    a = msg.find(name)
    return a.text() if a is not None else "-"


def describe_ppr(req):
    ud = req.find("User-Data")
    pubs, ases = [], []
    if ud is not None:
        root = ET.fromstring(ud.data)
        for p in root.iter("PublicIdentity"):
            barred = p.findtext("BarringIndication", "0").strip()
            pubs.append(f"{p.findtext('Identity')}:"
                        f"{1 if barred in ('1', 'true') else 0}")
        for a in root.iter("ServerName"):
            ases.append(a.text)
    return (f"user={text(req, 'User-Name')} pub={','.join(pubs)} "
            f"as={','.join(ases)}")


def describe_rtr(req):
    dr = req.find("Deregistration-Reason")
    rc = dr.find("Reason-Code") if dr is not None else None
    ri = dr.find("Reason-Info") if dr is not None else None
    impus = [a.text() for a in req.avps
             if (a.code, a.vendor) == diam.NAMES["Public-Identity"]]
    return (f"user={text(req, 'User-Name')} "
            f"reason={rc.u32() if rc is not None else '-'} "
            f"impu={','.join(impus)} "
            f"info={ri.text() if ri is not None else '-'}")


def main():
    port, me, realm, impi, impu, secs = (int(sys.argv[1]), sys.argv[2],
                                         sys.argv[3], sys.argv[4],
                                         sys.argv[5], float(sys.argv[6]))
    peer = Scscf(port, me, realm)
    server = f"sip:{me}"
    mar = peer.cx(CMD_MA, [
        Avp.make("User-Name", impi), Avp.make("Public-Identity", impu),
        Avp.make("SIP-Number-Auth-Items", 1),
        Avp.make("SIP-Auth-Data-Item", [
            Avp.make("SIP-Authentication-Scheme", "SIP Digest")]),
        Avp.make("Server-Name", server)])
    if result_code(mar) != 2001:
        print(mar.dump())
        raise SystemExit(f"MAR answered {result_code(mar)}")
    saa = peer.cx(CMD_SA, [
        Avp.make("User-Name", impi), Avp.make("Public-Identity", impu),
        Avp.make("Server-Name", server),
        Avp.make("Server-Assignment-Type", 1),  # REGISTRATION
        Avp.make("User-Data-Already-Available", 0)])
    if result_code(saa) != 2001 or saa.find("User-Data") is None:
        print(saa.dump())
        raise SystemExit(f"SAR answered {result_code(saa)} without a profile")
    print("REGISTERED", flush=True)

    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        msg = peer.rd.message(0.5)
        if msg is None:
            continue
        if not msg.is_request:
            continue
        line = peer.serve(msg)
        if line:
            print(line, flush=True)
        if msg.code == CMD_RT:
            time.sleep(0.5)  # let the RTA reach the HSS before closing
            peer.s.close()
            return 0
    print("TIMEOUT: no RTR", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
