#!/usr/bin/env python3
"""AKA check helper: print a Digest-AKAv1-MD5 nonce for K/OP/AMF/SQN as
the HSS would build it (base64(RAND || SQN^AK || AMF || MAC-A), RFC 3310
3.2), or verify a digest response made with RES as the password.

usage: aka_vector.py nonce <K ascii> <OP ascii> <AMF hex> <SQN int> <out.json>
       aka_vector.py check <in.json> <username> <realm> <method> <uri>
                           <nonce> <nc> <cnonce> <qop> <response>
       aka_vector.py resnul <K ascii> <OP ascii> <nonce>
           exit 0 when the RES of the nonce's RAND has a zero byte (sipp
           3.6 keeps RES as a C string and cuts it there), 1 otherwise"""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_hss import milenage, xor  # noqa: E402


def md5(s):
    return hashlib.md5(s).hexdigest()


if sys.argv[1] == "resnul":
    k, op = sys.argv[2].encode(), sys.argv[3].encode()
    rand = base64.b64decode(sys.argv[4])[:16]
    # RES (f2) does not depend on SQN or AMF
    res = milenage(k, op, rand, bytes(6), bytes(2))[1]
    print(f"RES {res.hex()}")
    sys.exit(0 if 0 in res else 1)
elif sys.argv[1] == "nonce":
    k, op = sys.argv[2].encode(), sys.argv[3].encode()
    amf = bytes.fromhex(sys.argv[4])
    sqn = int(sys.argv[5]).to_bytes(6, "big")
    rand = os.urandom(16)
    mac, res, ck, ik, ak = milenage(k, op, rand, sqn, amf)
    nonce = base64.b64encode(rand + xor(sqn, ak) + amf + mac).decode()
    json.dump({"nonce": nonce, "res": res.hex()}, open(sys.argv[6], "w"))
    print(nonce)
else:
    v = json.load(open(sys.argv[2]))
    user, realm, method, uri, nonce, nc, cnonce, qop, resp = sys.argv[3:12]
    ha1 = md5(user.encode() + b":" + realm.encode() + b":" + bytes.fromhex(v["res"]))
    ha2 = md5(f"{method}:{uri}".encode())
    if qop:
        want = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
    else:
        want = md5(f"{ha1}:{nonce}:{ha2}".encode())
    print("response ok" if want == resp else f"response {resp} != expected {want}")
    sys.exit(0 if want == resp else 1)
