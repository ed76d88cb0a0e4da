#!/usr/bin/env python3
"""A stand-in HSS for checking the foreign side before entims' HSS exists.

It answers what Kamailio's I-CSCF/S-CSCF and freeDiameter send, the way
README.md says our HSS must: CER/CEA (peer allow-list), DWR/DWA, DPR/DPA,
UAR/UAA, MAR/MAA (SIP Digest with HA1, Digest-AKAv1-MD5 with Milenage),
SAR/SAA (User-Data XML), LIR/LIA, AKA resynchronisation (MAR with
SIP-Authorization = RAND || AUTS, TS 33.102 6.3.5), and on SIGUSR1 the
HSS-initiated RTR/PPR listed in <users.json>.cmd (see do_commands).  It is
test tooling, deliberately small, and not a model for entims' code.

Besides the full dump of every message, each Cx exchange is logged as one
"CX ..." line the driver scripts check (e.g. "CX SAR impu=... type=1
server=... -> 2001 user-data").

usage: fake_hss.py <port> <users.json> [log file]
users.json: {"peers": ["icscf.ims.test", ...],
             "users": [{"impi": "alice@ims.test", "impu": "sip:alice@ims.test",
                        "scheme": "digest", "password": "..."} |
                       {"impi": ..., "impu": ..., "scheme": "aka",
                        "k": "<16 ASCII chars>", "op": "<16 ASCII chars>",
                        "amf": "8000", "sqn": 1}],
             optional per user: "scscf": "<Server-Name already assigned>"}"""
import hashlib
import itertools
import json
import os
import random
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diam  # noqa: E402
from diam import Avp  # noqa: E402

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

IDENTITY, REALM = "hss.ims.test", "ims.test"
LOCK = threading.Lock()
LOG = sys.stdout


def log(text):
    with LOCK:
        LOG.write(text + "\n")
        LOG.flush()


def cx_log(text):
    """The one-line summary of a Cx exchange the driver scripts grep."""
    log("CX " + text)


# ---- Milenage (TS 35.206 4.1) -------------------------------------------

def aes(k, x):
    enc = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return enc.update(x) + enc.finalize()


def xor(a, b):
    return bytes(i ^ j for i, j in zip(a, b))


def rot(x, r):
    r //= 8
    return x[r:] + x[:r]


def milenage(k, op, rand, sqn, amf):
    """f1 (MAC-A), f2 (RES), f3 (CK), f4 (IK), f5 (AK) of TS 35.206 4.1."""
    opc = xor(aes(k, op), op)
    temp = aes(k, xor(rand, opc))
    in1 = sqn + amf + sqn + amf
    c = [bytes(16), bytes(15) + b"\x01", bytes(15) + b"\x02",
         bytes(15) + b"\x04", bytes(15) + b"\x08"]
    r = [64, 0, 32, 64, 96]
    out1 = xor(aes(k, xor(xor(temp, rot(xor(in1, opc), r[0])), c[0])), opc)

    def out(i):
        return xor(aes(k, xor(rot(xor(temp, opc), r[i]), c[i])), opc)
    o2 = out(1)
    return out1[:8], o2[8:16], out(2), out(3), o2[0:6]


def milenage_star(k, op, rand, sqn, amf):
    """f1* (MAC-S) and f5* (AK for re-synchronisation), TS 35.206 4.1."""
    opc = xor(aes(k, op), op)
    temp = aes(k, xor(rand, opc))
    in1 = sqn + amf + sqn + amf
    out1 = xor(aes(k, xor(temp, rot(xor(in1, opc), 64))), opc)
    out5 = xor(aes(k, xor(rot(xor(temp, opc), 96), bytes(15) + b"\x08")), opc)
    return out1[8:16], out5[0:6]


# ---- subscriber data ------------------------------------------------------

class Db:
    def __init__(self, path):
        with open(path) as f:
            data = json.load(f)
        self.peers = set(data["peers"])
        self.users = {u["impu"]: u for u in data["users"]}
        # impu -> Server-Name (TS 29.228 6.1.2); "scscf" in users.json
        # pre-assigns one (to test LIR without a registration)
        self.assigned = {u["impu"]: u["scscf"] for u in data["users"] if "scscf" in u}

    def by_impu(self, impu):
        return self.users.get(impu)


def user_data_xml(user):
    # TS 29.228 annex D/E: IMSSubscription with PrivateID and one
    # ServiceProfile holding the IMPU.  Validated by Kamailio against
    # CxDataType_Rel7.xsd when ims_registrar_scscf's user_data_xsd is set.
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<IMSSubscription><PrivateID>%s</PrivateID><ServiceProfile>'
            '<PublicIdentity><BarringIndication>0</BarringIndication>'
            '<Identity>%s</Identity></PublicIdentity>'
            '</ServiceProfile></IMSSubscription>' % (user["impi"], user["impu"]))


# ---- answers ---------------------------------------------------------------

def origin():
    return [Avp.make("Origin-Host", IDENTITY), Avp.make("Origin-Realm", REALM)]


def cx_common(req):
    out = []
    sid = req.find("Session-Id")
    if sid:
        out.append(sid)
    out.append(Avp.make("Vendor-Specific-Application-Id", [
        Avp.make("Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Auth-Application-Id", diam.APP_CX)]))
    out.append(Avp.make("Auth-Session-State", 1))
    return out + origin()


def experimental(code):
    return Avp.make("Experimental-Result", [
        Avp.make("Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Experimental-Result-Code", code)])


def cea(req, db):
    host = req.find("Origin-Host").text() if req.find("Origin-Host") else ""
    rc = 2001 if host in db.peers else 3010  # DIAMETER_UNKNOWN_PEER
    avps = [Avp.make("Result-Code", rc)] + origin() + [
        Avp.make("Host-IP-Address", "127.0.0.1"),
        Avp.make("Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Product-Name", "fake-hss", mandatory=False),
        Avp.make("Supported-Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Vendor-Specific-Application-Id", [
            Avp.make("Vendor-Id", diam.VENDOR_3GPP),
            Avp.make("Auth-Application-Id", diam.APP_CX)])]
    return req.answer(avps), rc == 2001


def uaa(req, db):
    impu = req.find("Public-Identity").text()
    impi = req.find("User-Name").text()
    vni = req.find("Visited-Network-Identifier")
    uat = req.find("User-Authorization-Type")
    what = (f"UAR impu={impu} impi={impi} vni={vni.text() if vni else '-'}"
            f" type={uat.u32() if uat else '-'}")
    user = db.by_impu(impu)
    if not user:
        cx_log(what + " -> exp 5001")
        return req.answer(cx_common(req) + [experimental(5001)])
    if impi != user["impi"]:
        cx_log(what + " -> exp 5002")
        return req.answer(cx_common(req) + [experimental(5002)])
    server = db.assigned.get(impu)
    if server:
        # DIAMETER_SUBSEQUENT_REGISTRATION with the assigned S-CSCF
        cx_log(what + f" -> exp 2002 server={server}")
        return req.answer(cx_common(req) + [experimental(2002),
                                            Avp.make("Server-Name", server)])
    # DIAMETER_FIRST_REGISTRATION: no S-CSCF yet, let the I-CSCF choose by
    # capabilities (mandatory capability 0, see kamailio/icscf.sql.in).
    cx_log(what + " -> exp 2001 capabilities")
    return req.answer(cx_common(req) + [
        experimental(2001),
        Avp.make("Server-Capabilities", [Avp.make("Mandatory-Capability", 0)])])


def maa(req, db):
    impu = req.find("Public-Identity").text()
    impi = req.find("User-Name").text()
    user = db.by_impu(impu)
    if not user or user["impi"] != impi:
        code = 5001 if not user else 5002
        cx_log(f"MAR impu={impu} impi={impi} -> exp {code}")
        return req.answer(cx_common(req) + [experimental(code)])
    item = req.find("SIP-Auth-Data-Item")
    scheme_avp = item.find("SIP-Authentication-Scheme") if item else None
    asked = scheme_avp.text() if scheme_avp else "unknown"
    authz = item.find("SIP-Authorization") if item else None
    server = req.find("Server-Name")
    # TS 29.228 6.3.1: an HSS with no S-CSCF assigned stores the MAR's
    # Server-Name; with a single S-CSCF here it is simply remembered.
    if server:
        db.assigned[impu] = server.text()
    what = f"MAR impu={impu} impi={impi} scheme={asked}"
    if authz:
        what += f" resync={len(authz.data)}"
    if user["scheme"] == "digest":
        if asked not in ("unknown", "SIP Digest", "Digest-MD5", "Digest") or authz:
            cx_log(what + " -> exp 5006")
            return req.answer(cx_common(req) + [experimental(5006)])
        ha1 = hashlib.md5(f"{impi}:{REALM}:{user['password']}".encode()).hexdigest()
        data = [Avp.make("SIP-Item-Number", 1),
                Avp.make("SIP-Authentication-Scheme", "SIP Digest"),
                Avp.make("SIP-Digest-Authenticate", [
                    Avp.make("Digest-Realm", REALM),
                    Avp.make("Digest-QoP", "auth"),
                    Avp.make("Digest-HA1", ha1)])]
    else:
        if asked not in ("unknown", "Digest-AKAv1-MD5"):
            cx_log(what + " -> exp 5006")
            return req.answer(cx_common(req) + [experimental(5006)])
        k, op = user["k"].encode(), user["op"].encode()
        amf = bytes.fromhex(user.get("amf", "8000"))
        if authz:
            # Re-synchronisation (TS 33.102 6.3.5, TS 29.228 6.3.1):
            # SIP-Authorization = RAND(16) || AUTS(14), AUTS = SQN_MS ^ AK*
            # || MAC-S, MAC-S = f1*(K, RAND, SQN_MS, AMF 0000).  A bad MAC-S
            # is an authentication failure (5001 here, as a real HSS
            # may not tell why).
            if len(authz.data) != 30:
                cx_log(what + " -> 5004 bad SIP-Authorization length")
                return req.answer(cx_common(req) + [Avp.make("Result-Code", 5004)])
            rand, auts = authz.data[:16], authz.data[16:]
            _, ak_s = milenage_star(k, op, rand, bytes(6), bytes(2))
            sqn_ms = xor(auts[:6], ak_s)
            mac_s, _ = milenage_star(k, op, rand, sqn_ms, bytes(2))
            if mac_s != auts[6:]:
                cx_log(what + " -> exp 5001 MAC-S mismatch")
                return req.answer(cx_common(req) + [experimental(5001)])
            with LOCK:
                user["sqn"] = int.from_bytes(sqn_ms, "big")
            what += f" sqn_ms={user['sqn']}"
        with LOCK:
            user["sqn"] = user.get("sqn", 1) + 1
            sqn = user["sqn"].to_bytes(6, "big")
        rand = os.urandom(16)
        mac, res, ck, ik, ak = milenage(k, op, rand, sqn, amf)
        autn = xor(sqn, ak) + amf + mac
        data = [Avp.make("SIP-Item-Number", 1),
                Avp.make("SIP-Authentication-Scheme", "Digest-AKAv1-MD5"),
                Avp.make("SIP-Authenticate", rand + autn),
                Avp.make("SIP-Authorization", res),
                Avp.make("Confidentiality-Key", ck),
                Avp.make("Integrity-Key", ik)]
    cx_log(f"{what} -> 2001 {data[1].text()}"
           + (f" sqn={user['sqn']}" if user["scheme"] == "aka" else ""))
    return req.answer(cx_common(req) + [
        Avp.make("Result-Code", 2001),
        Avp.make("User-Name", impi),
        Avp.make("Public-Identity", impu),
        Avp.make("SIP-Number-Auth-Items", 1),
        Avp.make("SIP-Auth-Data-Item", data)])


def saa(req, db):
    impu = req.find("Public-Identity").text()
    user = db.by_impu(impu)
    sat = req.find("Server-Assignment-Type").u32()
    server = req.find("Server-Name").text()
    una = req.find("User-Name")
    udaa = req.find("User-Data-Already-Available")
    what = (f"SAR impu={impu} impi={una.text() if una else '-'} type={sat}"
            f" server={server} udaa={udaa.u32() if udaa else '-'}")
    if not user:
        cx_log(what + " -> exp 5001")
        return req.answer(cx_common(req) + [experimental(5001)])
    out = cx_common(req) + [Avp.make("Result-Code", 2001),
                            Avp.make("User-Name", user["impi"])]
    if sat in (1, 2, 3):  # REGISTRATION, RE_REGISTRATION, UNREGISTERED_USER
        db.assigned[impu] = server
        out.append(Avp.make("User-Data", user_data_xml(user)))
        cx_log(what + " -> 2001 user-data")
    else:
        if sat in (4, 5, 8, 9, 10, 11):  # de-registrations: forget the S-CSCF
            db.assigned.pop(impu, None)
        cx_log(what + " -> 2001")
    return req.answer(out)


def lia(req, db):
    impu = req.find("Public-Identity").text()
    what = f"LIR impu={impu} user-name={'yes' if req.find('User-Name') else 'no'}"
    user = db.by_impu(impu)
    if not user:
        cx_log(what + " -> exp 5001")
        return req.answer(cx_common(req) + [experimental(5001)])
    server = db.assigned.get(impu)
    if not server:
        cx_log(what + " -> exp 5003")
        return req.answer(cx_common(req) + [experimental(5003)])  # IDENTITY_NOT_REGISTERED
    cx_log(what + f" -> 2001 server={server}")
    return req.answer(cx_common(req) + [Avp.make("Result-Code", 2001),
                                        Avp.make("Server-Name", server)])


HANDLERS = {300: uaa, 301: saa, 302: lia, 303: maa}

# ---- HSS-initiated requests (RTR 304, PPR 305) ----------------------------
# Peers by Origin-Host (after a successful CER) and the requests we sent,
# by hop-by-hop id, waiting for their answer.
PEERS = {}
PENDING = {}
HBH = itertools.count(random.getrandbits(31))
SESSION = itertools.count(1)
CMD_FILE = None


class Peer:
    def __init__(self, conn):
        self.conn, self.lock = conn, threading.Lock()

    def send(self, msg):
        with self.lock:
            self.conn.sendall(msg.encode())


def hss_request(code, host, avps):
    hbh = next(HBH) & 0xFFFFFFFF
    sid = f"{IDENTITY};{int(time.time())};{next(SESSION)}"
    head = [Avp.make("Session-Id", sid),
            Avp.make("Vendor-Specific-Application-Id", [
                Avp.make("Vendor-Id", diam.VENDOR_3GPP),
                Avp.make("Auth-Application-Id", diam.APP_CX)]),
            Avp.make("Auth-Session-State", 1)] + origin() + [
            Avp.make("Destination-Host", host),
            Avp.make("Destination-Realm", REALM)]
    return diam.Message(code, diam.APP_CX, diam.FLAG_R | diam.FLAG_P, hbh, hbh, head + avps)


def do_commands():
    """Run the lines of <users.json>.cmd (written by the driver before it
    sends SIGUSR1):
      RTR <peer host> <impi> <impu> [reason code]   TS 29.228 6.1.3
      PPR <peer host> <impi> <impu>                 TS 29.228 6.1.4
    Each request is logged as "CX RTR ..." and its answer as "CX RTA ...";
    a request still unanswered after 5 s as "CX RTR ... -> no answer"."""
    with open(CMD_FILE) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    for words in lines:
        cmd, host, impi, impu = words[:4]
        peer = PEERS.get(host)
        if not peer:
            cx_log(f"{cmd} host={host} -> not connected")
            continue
        if cmd == "RTR":
            reason = int(words[4]) if len(words) > 4 else 0  # PERMANENT_TERMINATION
            req = hss_request(304, host, [
                Avp.make("User-Name", impi),
                Avp.make("Public-Identity", impu),
                Avp.make("Deregistration-Reason", [
                    Avp.make("Reason-Code", reason),
                    Avp.make("Reason-Info", "entims interop test")])])
            what = f"RTR host={host} impi={impi} impu={impu} reason={reason}"
        elif cmd == "PPR":
            user = next((u for u in DB.users.values() if u["impi"] == impi), None)
            req = hss_request(305, host, [
                Avp.make("User-Name", impi),
                Avp.make("User-Data", user_data_xml(user))])
            what = f"PPR host={host} impi={impi}"
        else:
            cx_log(f"{cmd}: unknown command")
            continue
        PENDING[req.hbh] = what
        log(f">>> to {host}\n{req.dump()}")
        cx_log(what)
        peer.send(req)
        threading.Timer(5.0, lambda h=req.hbh, w=what: PENDING.pop(h, None) and
                        cx_log(f"{w} -> no answer")).start()


def on_answer(ans):
    what = PENDING.pop(ans.hbh, None)
    if what is None:
        return
    rc = ans.find("Result-Code")
    er = ans.find("Experimental-Result")
    code = rc.u32() if rc else (er.find("Experimental-Result-Code").u32() if er else None)
    cx_log(f"{what[:2]}A {what[4:]} -> {code}")
    if what.startswith("RTR") and code == 2001:
        # TS 29.228 6.1.3: the identities are no longer registered: the
        # HSS clears the S-CSCF name (so LIR now answers 5003).
        impu = what.split("impu=")[1].split()[0]
        DB.assigned.pop(impu, None)


def serve(conn, peer, db):
    name = f"{peer[0]}:{peer[1]}"
    host = None
    try:
        while True:
            raw = diam.read_message(conn)
            req = diam.Message.decode(raw)
            log(f"<<< from {name}\n{req.dump()}")
            if not req.is_request:
                on_answer(req)
                continue
            close = False
            if req.code == 257:
                ans, ok = cea(req, db)
                close = not ok
                if ok:
                    host = req.find("Origin-Host").text()
            elif req.code == 280:
                ans = req.answer([Avp.make("Result-Code", 2001)] + origin())
            elif req.code == 282:
                ans = req.answer([Avp.make("Result-Code", 2001)] + origin())
                close = True
            elif req.code in HANDLERS and req.app == diam.APP_CX:
                ans = HANDLERS[req.code](req, db)
            else:
                ans = req.answer([Avp.make("Result-Code", 3001)] + origin())  # COMMAND_UNSUPPORTED
                ans.flags |= diam.FLAG_E
            log(f">>> to {name}\n{ans.dump()}")
            if host and host not in PEERS:
                PEERS[host] = Peer(conn)
            if host:
                PEERS[host].send(ans)
            else:
                conn.sendall(ans.encode())
            if close:
                break
    except (OSError, ValueError) as e:
        log(f"--- {name} closed: {e}")
    finally:
        if host and host in PEERS and PEERS[host].conn is conn:
            del PEERS[host]
        conn.close()


def main():
    global LOG
    global DB, CMD_FILE
    port = int(sys.argv[1])
    db = DB = Db(sys.argv[2])
    CMD_FILE = sys.argv[2] + ".cmd"
    # SIGUSR1: run the commands of <users.json>.cmd in a thread (the
    # handler itself only starts it; the main thread sits in accept()).
    signal.signal(signal.SIGUSR1,
                  lambda *_: threading.Thread(target=do_commands, daemon=True).start())
    if len(sys.argv) > 3:
        LOG = open(sys.argv[3], "a")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    log(f"fake HSS {IDENTITY} listening on 127.0.0.1:{port}")
    print("fake-hss ready", flush=True)
    while True:
        conn, peer = srv.accept()
        threading.Thread(target=serve, args=(conn, peer, db), daemon=True).start()


if __name__ == "__main__":
    main()
