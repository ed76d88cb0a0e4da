#!/usr/bin/env python3
"""Send every RFC 4475 torture message to entims over UDP and check the
answer against the expectations of the test-data manifest
(tests/data/sip/rfc4475/manifest.tsv, whose last column is prose;
EXPECT below is that prose made checkable).

Each message is sent from its own loopback address (127.A.B.n) and from
the port its top Via names (5060 when none), with a UDP socket and a TCP
listener on that address and port: RFC 3261 18.2.2 sends the response to
the source address and the Via port, so every answer reaches the socket
of the message it answers.  The messages of a round go out at once, then
answers are collected for WINDOW seconds.

Several archive messages share a top Via branch, sent-by and method (the
RFC 3261 17.2.3 server transaction key: cparam01/cparam02, escnull/
regescrt, ...): sent to one server within a transaction lifetime, the
second is rightly taken as a retransmission of the first.  --plan splits
the files into rounds in which no key repeats; run.sh gives each round a
fresh entims and runs it with --only.

Kinds:
  final S        a final response must come, its code in S
  final_or_drop  no response at all, or a final response in S
  final_not S    a final response must come, its code not in S
  not S          no final response with a code in S (none at all is fine)
  drop           no message at all (responses, unanswerable datagrams)
  any            whatever the answer; entims must survive (checked after)
"""
import argparse
import os
import random
import re
import select
import socket
import sys
import time

EXPECT = {
    # 3.1.1 valid messages: parse and process, never 400
    "wsinv.dat": ("not", {400}),
    "intmeth.dat": ("not", {400}),
    "esc01.dat": ("not", {400}),
    "escnull.dat": ("final_not", {400}),
    # RE%47IST%45R is an unknown method, not REGISTER: no 401/200
    "esc02.dat": ("not", {400, 200, 401}),
    "lwsdisp.dat": ("not", {400}),
    "longreq.dat": ("not", {400}),
    # only the REGISTER is processed, the trailing INVITE ignored
    "dblreq.dat": ("final_not", {400}),
    "semiuri.dat": ("not", {400}),
    "transports.dat": ("not", {400}),
    "mpart01.dat": ("not", {400}),
    "unreason.dat": ("drop",),
    "noreason.dat": ("drop",),
    # 3.1.2 invalid messages
    "badinv01.dat": ("final", {400}),
    "clerr.dat": ("final_or_drop", {400}),
    "ncl.dat": ("final_or_drop", {400}),
    "scalar02.dat": ("final", {400}),
    "scalarlg.dat": ("drop",),
    "quotbal.dat": ("final", {400}),
    "ltgtruri.dat": ("final", {400}),
    "lwsruri.dat": ("final", {400}),
    "lwsstart.dat": ("any",),
    "trws.dat": ("any",),
    "escruri.dat": ("any",),
    "baddate.dat": ("any",),
    # 10.3: authentication (401) may come before Contact processing (400)
    "regbadct.dat": ("final", {400, 401}),
    "badaspec.dat": ("any",),
    # the archive copy lacks the empty line ending the headers
    "baddn.dat": ("final_or_drop", {400}),
    "baddn.with-final-crlf.dat": ("final", {400}),
    "badvers.dat": ("final", {505}),
    "mismatch01.dat": ("final", {400}),
    "mismatch02.dat": ("final", {400, 501}),
    "bigcode.dat": ("drop",),
    # 3.2, 3.3, 3.4 semantic tests
    "badbranch.dat": ("any",),
    "insuf.dat": ("final_or_drop", {400}),
    "unkscm.dat": ("final", {416}),
    "novelsc.dat": ("final", {416, 404}),
    "unksm2.dat": ("not", {400}),
    "bext01.dat": ("final", {420}),
    "invut.dat": ("not", {400, 415}),
    "regaut01.dat": ("final", {401}),
    "multi01.dat": ("final", {400}),
    "mcl01.dat": ("final", {400}),
    "bcast.dat": ("drop",),
    "zeromf.dat": ("final", {483}),
    "cparam01.dat": ("final_not", {400}),
    "cparam02.dat": ("final_not", {400}),
    "regescrt.dat": ("final_not", {400}),
    "sdp01.dat": ("not", {400, 406}),
    "inv2543.dat": ("not", {400}),
}

STATUS_RE = re.compile(rb"^SIP/2\.0 ([0-9]{3}) ")
CSEQ_RE = re.compile(rb"^(?:CSeq|cseq|CSEQ) *: *[0-9]+ +([A-Za-z]+)", re.M)
VIA_RE = re.compile(
    rb"^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*[A-Za-z]+[ \t]+"
    rb"(\[[0-9A-Fa-f:.]+\]|[^ \t;:,\r\n]+)(?::([0-9]+))?",
    re.I | re.M)


BRANCH_RE = re.compile(rb"branch=([^;, \t\r\n]+)", re.I)
VIA_TX_RE = re.compile(
    rb"^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*[A-Za-z]+[ \t]+"
    rb"([^;,\r\n]+)([^,\r\n]*)", re.I | re.M)


def tx_key(name, data):
    """(sent-by, branch, method) of a request; unique for anything else."""
    head = data.split(b"\r\n\r\n", 1)[0]
    method = head.split(b" ", 1)[0]
    m = VIA_TX_RE.search(head)
    if method.startswith(b"SIP/") or not m:
        return name
    b = BRANCH_RE.search(m.group(2))
    return (m.group(1).strip().lower(), b.group(1) if b else None, method)


def plan(msgdir):
    rounds = []  # [(keys, names)]
    for name in sorted(EXPECT):
        with open(os.path.join(msgdir, name), "rb") as f:
            key = tx_key(name, f.read())
        for keys, names in rounds:
            if key not in keys:
                keys.add(key)
                names.append(name)
                break
        else:
            rounds.append(({key}, [name]))
    return [names for _, names in rounds]


def via_port(data):
    head = data.split(b"\r\n\r\n", 1)[0]
    m = VIA_RE.search(head)
    if m and m.group(2):
        return int(m.group(2))
    return 5060


class Probe:
    def __init__(self, name, data, ip):
        self.name = name
        self.data = data
        self.ip = ip
        self.port = via_port(data)
        self.msgs = []  # (code or None, cseq method or None, transport)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.udp.bind((ip, self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ip, self.port))
        self.tcp.listen(4)
        self.conns = []

    def record(self, payload, transport):
        # a stream may carry several messages; a datagram carries one
        parts = re.split(rb"(?=^SIP/2\.0 )", payload, flags=re.M) \
            if transport == "tcp" else [payload]
        for p in parts:
            if not p.strip():
                continue
            m = STATUS_RE.match(p)
            c = CSEQ_RE.search(p)
            self.msgs.append((int(m.group(1)) if m else None,
                              c.group(1).decode("ascii", "replace").upper()
                              if c else None, transport))

    def finals(self):
        return [code for code, _, _ in self.msgs if code and code >= 200]

    def verdict(self):
        kind = EXPECT[self.name][0]
        codes = EXPECT[self.name][1] if len(EXPECT[self.name]) > 1 else set()
        finals = self.finals()
        got = " ".join(str(c) if c else "non-response" for c, _, _ in
                       self.msgs) or "nothing"
        ok = True
        if kind == "final":
            ok = bool(finals) and finals[0] in codes
        elif kind == "final_or_drop":
            ok = not self.msgs or (bool(finals) and finals[0] in codes)
        elif kind == "final_not":
            ok = bool(finals) and finals[0] not in codes
        elif kind == "not":
            ok = not any(c in codes for c in finals)
        elif kind == "drop":
            ok = not self.msgs
        if self.name == "dblreq.dat" and any(
                m == "INVITE" for _, m, _ in self.msgs):
            ok = False
            got += " (answered the trailing INVITE)"
        want = kind + (" " + "/".join(str(c) for c in sorted(codes))
                       if codes else "")
        return ok, want, got

    def close(self):
        for s in [self.udp, self.tcp] + self.conns:
            s.close()


def check_manifest(path):
    if not path or not os.path.exists(path):
        return
    listed = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            listed.append(line.split("\t", 1)[0])
    missing = [n for n in listed if n not in EXPECT]
    if missing:
        sys.exit("torture: manifest lists files with no expectation: "
                 + " ".join(missing))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--dir", required=True, help="RFC 4475 messages")
    ap.add_argument("--manifest")
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--plan", action="store_true",
                    help="print the rounds, one comma-separated line each")
    ap.add_argument("--only", help="comma-separated files of one round")
    args = ap.parse_args()

    check_manifest(args.manifest)
    if args.plan:
        for names in plan(args.dir):
            print(",".join(names))
        return 0
    if not args.port:
        ap.error("--port is required")
    names = args.only.split(",") if args.only else sorted(EXPECT)
    unknown = [n for n in names if n not in EXPECT]
    if unknown:
        ap.error("no expectation for " + " ".join(unknown))

    net = (127, random.randint(100, 250), random.randint(1, 250))
    probes = []
    for i, name in enumerate(names):
        with open(os.path.join(args.dir, name), "rb") as f:
            data = f.read()
        ip = "%d.%d.%d.%d" % (net + (i + 1,))
        probes.append(Probe(name, data, ip))

    server = ("127.0.0.1", args.port)
    for p in probes:
        p.udp.sendto(p.data, server)
        time.sleep(0.01)

    deadline = time.monotonic() + args.window
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        rmap = {}
        for p in probes:
            rmap[p.udp] = (p, "udp")
            rmap[p.tcp] = (p, "listen")
            for c in p.conns:
                rmap[c] = (p, "tcp")
        ready, _, _ = select.select(list(rmap), [], [], left)
        for s in ready:
            p, what = rmap[s]
            if what == "udp":
                payload, _ = s.recvfrom(65535)
                p.record(payload, "udp")
            elif what == "listen":
                c, _ = s.accept()
                p.conns.append(c)
            else:
                payload = s.recv(65535)
                if not payload:
                    p.conns.remove(s)
                    s.close()
                else:
                    p.record(payload, "tcp")

    failed = 0
    for p in probes:
        ok, want, got = p.verdict()
        print("%-4s %-27s want %-22s got %s" %
              ("ok" if ok else "FAIL", p.name, want, got))
        failed += not ok
        p.close()
    print("torture: %d of %d messages answered as expected" %
          (len(probes) - failed, len(probes)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
