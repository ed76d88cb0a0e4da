#!/usr/bin/env python3
"""A demo user registers over TLS with the P-CSCF of the standalone IMS.

usage: tls_register.py <tls port> <cert.pem> <user> <password> <domain>

The server certificate is verified against the self-signed certificate
entims generated in the data directory (its subjectAltName must name
127.0.0.1).  REGISTER (RFC 3261 10.2) -> 401 from the S-CSCF with a SIP
Digest challenge -> REGISTER with the MD5 credentials of the IMPI
user@domain (TS 24.229 5.1.1.2.1, RFC 2617 3.2.2) on the same connection
-> 200 with the P-CSCF's Path (RFC 3327).  Exits non-zero with a message
on the first failure.
"""
import hashlib
import re
import socket
import ssl
import sys

PORT, CERT, USER, PW, DOMAIN = sys.argv[1:6]
PORT = int(PORT)
IMPI = "%s@%s" % (USER, DOMAIN)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def register(lport, cseq, auth=""):
    return ("REGISTER sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tls-%d;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:%s@%s>;tag=tls%d\r\n"
            "To: <sip:%s@%s>\r\n"
            "Call-ID: tls-register-%s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:%s@127.0.0.1:%d;transport=tls>\r\n"
            "%s"
            "Expires: 600\r\n"
            "Content-Length: 0\r\n\r\n"
            % (DOMAIN, lport, cseq, USER, DOMAIN, cseq, USER, DOMAIN, USER,
               cseq, USER, lport, auth)).encode()


def read_final(sock, buf):
    """The next final response on the stream (100 Trying skipped)."""
    for _ in range(10):
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65535)
            if not chunk:
                fail("connection closed before a response")
            buf += chunk
        end = buf.find(b"\r\n\r\n")
        head = buf[:end].decode("utf-8", "replace")
        m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        clen = int(m.group(1)) if m else 0
        while len(buf) < end + 4 + clen:
            buf += sock.recv(65535)
        buf = buf[end + 4 + clen:]
        m = re.match(r"SIP/2\.0 (\d{3})", head)
        if not m:
            fail("not a response: " + head.splitlines()[0])
        if int(m.group(1)) >= 200:
            return int(m.group(1)), head, buf
    fail("no final response")


ctx = ssl.create_default_context(cafile=CERT)
raw = socket.create_connection(("127.0.0.1", PORT), timeout=10)
try:
    tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
except ssl.SSLError as e:
    fail("TLS handshake / certificate check: %s" % e)
lport = tls.getsockname()[1]
tls.sendall(register(lport, 1))
code, head, buf = read_final(tls, b"")
if code != 401:
    fail("first REGISTER: %d, expected 401" % code)
chal = None
for m in re.finditer(r"(?im)^WWW-Authenticate:\s*Digest\s+(.*)$", head):
    params = dict((k.lower(), v.strip('"')) for k, v in re.findall(
        r'([A-Za-z-]+)="?([^",]*)"?', m.group(1)))
    if params.get("algorithm", "MD5").upper() == "MD5":
        chal = params
        break
if not chal:
    fail("401 without an MD5 Digest challenge")
realm, nonce = chal.get("realm", ""), chal.get("nonce", "")
uri = "sip:%s" % DOMAIN
ha1 = md5("%s:%s:%s" % (IMPI, realm, PW))
ha2 = md5("REGISTER:%s" % uri)
if "auth" in chal.get("qop", "").split(","):
    nc, cnonce = "00000001", "0a4f113b"
    resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    extra = ', qop=auth, nc=%s, cnonce="%s"' % (nc, cnonce)
else:
    resp = md5("%s:%s:%s" % (ha1, nonce, ha2))
    extra = ""
auth = ('Authorization: Digest username="%s", realm="%s", nonce="%s", '
        'uri="%s", response="%s", algorithm=MD5%s\r\n'
        % (IMPI, realm, nonce, uri, resp, extra))
if "opaque" in chal:
    auth = auth[:-2] + ', opaque="%s"\r\n' % chal["opaque"]
tls.sendall(register(lport, 2, auth))
code, head, buf = read_final(tls, buf)
if code != 200:
    fail("REGISTER with credentials: %d, expected 200" % code)
if not re.search(r"(?im)^Path:\s*<sip:[^>]*@127\.0\.0\.1:\d+;lr", head):
    fail("200 without the P-CSCF's Path:\n" + head)
print("ok: %s registered over TLS (certificate verified)" % IMPI)
tls.close()
