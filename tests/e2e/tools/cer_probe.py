#!/usr/bin/env python3
"""Connect to the HSS as <origin-host> and send a CER (RFC 6733 5.3.1)
with Cx in Vendor-Specific-Application-Id; print the CEA.

usage: cer_probe.py <port> <origin-host> <realm> accept|refuse
accept: exit 0 on a CEA with Result-Code 2001 and Origin-Host hss.<realm>.
refuse: exit 0 on a CEA with a Result-Code other than 2001 (e.g. 3010
DIAMETER_UNKNOWN_PEER) or the connection closed without a CEA."""
import os
import random
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diam  # noqa: E402
from diam import Avp  # noqa: E402

port, host, realm, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
hbh = random.getrandbits(32)
s.sendall(diam.Message(257, 0, diam.FLAG_R, hbh, hbh, [
    Avp.make("Origin-Host", host), Avp.make("Origin-Realm", realm),
    Avp.make("Host-IP-Address", "127.0.0.1"), Avp.make("Vendor-Id", 0),
    Avp.make("Product-Name", "entims-interop-probe", mandatory=False),
    Avp.make("Supported-Vendor-Id", diam.VENDOR_3GPP),
    Avp.make("Vendor-Specific-Application-Id", [
        Avp.make("Vendor-Id", diam.VENDOR_3GPP),
        Avp.make("Auth-Application-Id", diam.APP_CX)])]).encode())
try:
    cea = diam.Message.decode(diam.read_message(s))
except (OSError, ValueError) as e:
    print(f"no CEA: {e}")
    sys.exit(0 if mode == "refuse" else 1)
print(cea.dump())
rc = cea.find("Result-Code").u32() if cea.find("Result-Code") else None
ok = (cea.code == 257 and not cea.is_request and cea.hbh == hbh and rc == 2001 and
      cea.find("Origin-Host") is not None and
      cea.find("Origin-Host").text() == f"hss.{realm}")
sys.exit(0 if ok == (mode == "accept") else 1)
