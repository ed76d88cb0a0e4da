#!/usr/bin/env python3
"""SIP over TLS, TCP and IPv6 UDP against entims (RFC 3261 18, RFC 5626 4.4.1).

usage: client.py <tls port> <tcp port> <udp6 port> <cert.pem> <user> <password> <domain>

TLS: the server certificate is verified against the self-signed certificate
entims generated (its subjectAltName must name 127.0.0.1); a REGISTER is
challenged (401), answered with MD5 digest credentials and accepted (200) on
the same connection; a CRLFCRLF keep-alive ping gets a CRLF pong.
TCP: two REGISTERs in one write get two answers on that connection.
UDP over IPv6 (::1): a REGISTER gets its 401.
Exits non-zero with a message on the first failure.
"""
import hashlib
import re
import socket
import ssl
import sys

TLS_PORT, PORT, V6_PORT, CERT, USER, PW, DOMAIN = sys.argv[1:8]
TLS_PORT, PORT, V6_PORT = int(TLS_PORT), int(PORT), int(V6_PORT)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def register(transport, lport, cseq, callid, extra="", host="127.0.0.1"):
    via_host = "[%s]" % host if ":" in host else host
    return ("REGISTER sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-e2e-%s-%d;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:%s@%s>;tag=e2e%d\r\n"
            "To: <sip:%s@%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d REGISTER\r\n"
            "Contact: <sip:%s@%s:%d;transport=%s>\r\n"
            "%s"
            "Expires: 600\r\n"
            "Content-Length: 0\r\n\r\n"
            % (DOMAIN, transport, via_host, lport, callid, cseq, USER, DOMAIN,
               cseq, USER, DOMAIN, callid, cseq, USER, via_host, lport,
               transport.lower(), extra)).encode()


def read_msgs(sock, n, buf=b""):
    """Read n SIP messages framed by Content-Length from a stream."""
    msgs = []
    while len(msgs) < n:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("utf-8", "replace")
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            clen = int(m.group(1)) if m else 0
            if len(buf) >= end + 4 + clen:
                msgs.append(head)
                buf = buf[end + 4 + clen:]
                continue
        chunk = sock.recv(65535)
        if not chunk:
            fail("connection closed after %d of %d messages" % (len(msgs), n))
        buf += chunk
    return msgs, buf


def status(head):
    m = re.match(r"SIP/2\.0 (\d{3})", head)
    return int(m.group(1)) if m else 0


def digest(chal, method, uri):
    def param(name):
        m = re.search(r'%s="?([^",]*)"?' % name, chal)
        return m.group(1) if m else ""
    realm, nonce, opaque = param("realm"), param("nonce"), param("opaque")
    cnonce, nc = "e2e0cafe", "00000001"
    ha1 = hashlib.md5(("%s:%s:%s" % (USER, realm, PW)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
                       .encode()).hexdigest()
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", '
            'uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, '
            'cnonce="%s", opaque="%s"\r\n'
            % (USER, realm, nonce, uri, resp, nc, cnonce, opaque))


# ---- TLS ----
ctx = ssl.create_default_context(cafile=CERT)  # verifies chain and the IP
raw = socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5)
tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
lport = tls.getsockname()[1]
tls.sendall(register("TLS", lport, 1, "tls-1"))
(r1,), rest = read_msgs(tls, 1)
if status(r1) != 401:
    fail("TLS: first REGISTER got %r, want 401" % r1.splitlines()[0])
chal = [l for l in r1.splitlines()
        if l.lower().startswith("www-authenticate:") and "MD5" in l]
if not chal:
    fail("TLS: no MD5 challenge in the 401")
uri = "sip:%s" % DOMAIN
tls.sendall(register("TLS", lport, 2, "tls-1", digest(chal[0], "REGISTER", uri)))
(r2,), rest = read_msgs(tls, 1, rest)
if status(r2) != 200:
    fail("TLS: authenticated REGISTER got %r, want 200" % r2.splitlines()[0])
if not re.search(r"(?im)^contact:.*transport=tls.*expires=", r2):
    fail("TLS: the 200 does not list the TLS binding")
tls.sendall(b"\r\n\r\n")  # RFC 5626 4.4.1 ping
pong = tls.recv(16)
if pong != b"\r\n":
    fail("TLS: keep-alive ping got %r, want CRLF" % pong)
tls.close()
print("ok: TLS certificate verified, 401 then 200 on one connection, CRLF pong")

# ---- TCP: two requests in one write ----
tcp = socket.create_connection(("127.0.0.1", PORT), timeout=5)
lport = tcp.getsockname()[1]
tcp.sendall(register("TCP", lport, 1, "tcp-1") + register("TCP", lport, 1, "tcp-2"))
msgs, _ = read_msgs(tcp, 2)
if [status(m) for m in msgs] != [401, 401]:
    fail("TCP: got %r, want two 401" % [m.splitlines()[0] for m in msgs])
if not all(re.search(r"(?im)^call-id:\s*tcp-%d" % (i + 1), m)
           for i, m in enumerate(msgs)):
    fail("TCP: answers not in order of the requests")
tcp.close()
print("ok: TCP two requests in one write, two answers in order")

# ---- UDP over IPv6 ----
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.bind(("::1", 0))
u6.settimeout(5)
u6.sendto(register("UDP", u6.getsockname()[1], 1, "udp6-1", host="::1"),
          ("::1", V6_PORT))
data, _ = u6.recvfrom(65535)
if status(data.decode("utf-8", "replace")) != 401:
    fail("UDP/IPv6: got %r, want 401" % data[:40])
print("ok: UDP over IPv6 answered")
