#!/usr/bin/env python3
"""A Digest-AKAv1-MD5 phone that forces an AKA re-synchronisation, for
the interop test: sipp 3.6 cannot (its auth.cpp checks the MAC but always
accepts the SQN and never sends `auts`).

Over UDP from 127.0.0.1:<local port> to the I-CSCF, one Call-ID:
  1. REGISTER                 -> 401, nonce = base64(RAND || AUTN) (RFC 3310 3.1)
     check MAC-A and AMF of AUTN with our K/OP (TS 33.102 6.3.3); then act
     as a USIM whose SQN_MS is ahead of the HSS: SQN_MS = SQN_HE + <ahead>
  2. REGISTER with auts="base64(SQN_MS ^ AK* || MAC-S)" (RFC 3310 3.4,
     TS 33.102 6.3.3, MAC-S over the dummy AMF 0000) and a response made
     with an empty password
                              -> the S-CSCF sends MAR with SIP-Authorization
                                 RAND || AUTS; the HSS re-synchronises
                              -> 401 with a new nonce whose SQN must be
                                 greater than SQN_MS
  3. REGISTER with RES as the digest password -> 200 with Service-Route
     and P-Associated-URI.
Exit 0 on that exact sequence; 1 with a message on anything else.
Every wait is bounded (UDP retransmission every 0.5 s, 8 s per answer).

usage: sip_aka_resync.py <host:port> <local port> <impi> <impu> <domain>
                         <K 16 chars> <OP 16 chars> <AMF hex> <ahead>"""
import base64
import hashlib
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_hss import milenage, milenage_star, xor  # noqa: E402


def die(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def md5(b):
    return hashlib.md5(b).hexdigest()


class Phone:
    def __init__(self, dest, lport, impi, impu, domain):
        host, port = dest.rsplit(":", 1)
        self.dest = (host, int(port))
        self.lport, self.impi, self.impu, self.domain = lport, impi, impu, domain
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", lport))
        self.callid = f"resync-{os.getpid()}-{int(time.time())}@127.0.0.1"
        self.tag = os.urandom(4).hex()
        self.cseq = 0

    def register(self, authorization=None):
        self.cseq += 1
        branch = "z9hG4bK" + os.urandom(6).hex()
        lines = [
            f"REGISTER sip:{self.domain} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.lport};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <{self.impu}>;tag={self.tag}",
            f"To: <{self.impu}>",
            f"Call-ID: {self.callid}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{self.impi.split('@')[0]}@127.0.0.1:{self.lport}>",
            # what a P-CSCF would add; ims_icscf answers 400 without it
            f"P-Visited-Network-ID: {self.domain}",
            "Expires: 600",
        ]
        if authorization:
            lines.append("Authorization: " + authorization)
        lines += ["User-Agent: entims-interop-resync", "Content-Length: 0", "", ""]
        data = "\r\n".join(lines).encode()
        print(f">>> REGISTER CSeq {self.cseq}" + (f"\n    Authorization: {authorization}"
                                                 if authorization else ""), flush=True)
        deadline = time.monotonic() + 8
        next_send = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_send:
                self.sock.sendto(data, self.dest)
                next_send = time.monotonic() + 0.5
            self.sock.settimeout(0.1)
            try:
                msg = self.sock.recv(65535).decode("utf-8", "replace")
            except socket.timeout:
                continue
            first = msg.split("\r\n", 1)[0]
            m = re.match(r"SIP/2\.0 (\d{3}) ", first)
            if not m or f"CSeq: {self.cseq} REGISTER" not in msg:
                continue
            code = int(m.group(1))
            print(f"<<< {first}", flush=True)
            if code >= 200:
                return code, msg
        die(f"no final answer to REGISTER CSeq {self.cseq} within 8 s")


def header(msg, name):
    m = re.search(r"^" + name + r":\s*(.*?)\r$", msg, re.I | re.M)
    return m.group(1) if m else None


def challenge(msg):
    www = header(msg, "WWW-Authenticate") or die("401 without WWW-Authenticate")
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', www))
    if params.get("algorithm") != "AKAv1-MD5":
        die(f"401 algorithm {params.get('algorithm')}, expected AKAv1-MD5")
    return params


def digest(phone, params, password, extra=""):
    """RFC 2617 / RFC 3310 Authorization value (qop=auth when offered)."""
    uri = f"sip:{phone.domain}"
    realm, nonce = params["realm"], params["nonce"]
    ha1 = md5(phone.impi.encode() + f":{realm}:".encode() + password)
    ha2 = md5(f"REGISTER:{uri}".encode())
    value = (f'Digest username="{phone.impi}", realm="{realm}", nonce="{nonce}", '
             f'uri="{uri}", algorithm=AKAv1-MD5')
    if "auth" in params.get("qop", "").split(","):
        cnonce = os.urandom(4).hex()
        resp = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode())
        value += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        resp = md5(f"{ha1}:{nonce}:{ha2}".encode())
    return value + f', response="{resp}"' + extra


def open_autn(k, op, amf, nonce):
    raw = base64.b64decode(nonce)
    if len(raw) < 32:
        die(f"nonce has {len(raw)} bytes, expected RAND(16) || AUTN(16)")
    rand, autn = raw[:16], raw[16:32]
    ak = milenage(k, op, rand, bytes(6), bytes(2))[4]  # f5 needs no SQN
    sqn = xor(autn[:6], ak)
    if autn[6:8] != amf:
        die(f"AUTN AMF {autn[6:8].hex()}, expected {amf.hex()}")
    mac, res, _, _, _ = milenage(k, op, rand, sqn, autn[6:8])
    if mac != autn[8:16]:
        die("AUTN MAC-A does not verify with our K/OP (HSS keys differ)")
    return rand, int.from_bytes(sqn, "big"), res


def main():
    if len(sys.argv) != 10:
        die(__doc__.split("usage:")[1])
    dest, lport, impi, impu, domain, k, op, amf, ahead = sys.argv[1:]
    k, op, amf = k.encode(), op.encode(), bytes.fromhex(amf)
    if len(k) != 16 or len(op) != 16:
        die("K and OP must be 16 characters")
    phone = Phone(dest, int(lport), impi, impu, domain)

    code, msg = phone.register()
    if code != 401:
        die(f"first REGISTER: {code}, expected 401")
    params = challenge(msg)
    rand, sqn_he, _ = open_autn(k, op, amf, params["nonce"])
    sqn_ms = sqn_he + int(ahead)
    print(f"--- AUTN ok, SQN_HE {sqn_he}; the USIM claims SQN_MS {sqn_ms}: re-synchronise")
    _, ak_s = milenage_star(k, op, rand, bytes(6), bytes(2))
    mac_s, _ = milenage_star(k, op, rand, sqn_ms.to_bytes(6, "big"), bytes(2))
    auts = xor(sqn_ms.to_bytes(6, "big"), ak_s) + mac_s
    auth = digest(phone, params, b"",
                  f', auts="{base64.b64encode(auts).decode()}"')

    code, msg = phone.register(auth)
    if code != 401:
        die(f"REGISTER with auts: {code}, expected 401 with a fresh vector")
    params2 = challenge(msg)
    if params2["nonce"] == params["nonce"]:
        die("the 401 after auts repeats the old nonce")
    _, sqn_new, res = open_autn(k, op, amf, params2["nonce"])
    if sqn_new <= sqn_ms:
        die(f"new vector SQN {sqn_new} is not above SQN_MS {sqn_ms}: no re-synchronisation")
    print(f"--- new AUTN ok, SQN {sqn_new} > SQN_MS {sqn_ms}")

    code, msg = phone.register(digest(phone, params2, res))
    if code != 200:
        die(f"REGISTER with RES: {code}, expected 200")
    for h in ("Service-Route", "P-Associated-URI"):
        if not header(msg, h):
            die(f"200 without {h}")
    print(f"--- registered: Service-Route {header(msg, 'Service-Route')}, "
          f"P-Associated-URI {header(msg, 'P-Associated-URI')}")
    print("PASS")


if __name__ == "__main__":
    main()
