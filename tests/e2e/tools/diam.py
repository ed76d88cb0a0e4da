"""Minimal Diameter codec (RFC 6733 3, 4) with the Cx/Dx AVPs of
TS 29.229 6.3 and the digest AVPs of RFC 4590, for the interop tools:
decode and pretty-print what a peer sends, build answers.  Test tooling,
not part of entims."""
import struct

FLAG_R, FLAG_P, FLAG_E, FLAG_T = 0x80, 0x40, 0x20, 0x10
AVP_V, AVP_M = 0x80, 0x40
VENDOR_3GPP = 10415
APP_CX = 16777216

COMMANDS = {257: "CE", 280: "DW", 282: "DP", 300: "UA", 301: "SA", 302: "LI",
            303: "MA", 304: "RT", 305: "PP"}

# (code, vendor) -> (name, type); type: u32 utf8 os grouped addr
AVPS = {
    (1, 0): ("User-Name", "utf8"),
    (8, 0): ("Framed-IP-Address", "os"),
    (104, 0): ("Digest-Realm", "utf8"),
    (110, 0): ("Digest-QoP", "utf8"),
    (111, 0): ("Digest-Algorithm", "utf8"),
    (121, 0): ("Digest-HA1", "utf8"),
    (257, 0): ("Host-IP-Address", "addr"),
    (258, 0): ("Auth-Application-Id", "u32"),
    (259, 0): ("Acct-Application-Id", "u32"),
    (260, 0): ("Vendor-Specific-Application-Id", "grouped"),
    (263, 0): ("Session-Id", "utf8"),
    (264, 0): ("Origin-Host", "utf8"),
    (265, 0): ("Supported-Vendor-Id", "u32"),
    (266, 0): ("Vendor-Id", "u32"),
    (267, 0): ("Firmware-Revision", "u32"),
    (268, 0): ("Result-Code", "u32"),
    (269, 0): ("Product-Name", "utf8"),
    (273, 0): ("Disconnect-Cause", "u32"),
    (277, 0): ("Auth-Session-State", "u32"),
    (278, 0): ("Origin-State-Id", "u32"),
    (279, 0): ("Failed-AVP", "grouped"),
    (281, 0): ("Error-Message", "utf8"),
    (282, 0): ("Route-Record", "utf8"),
    (283, 0): ("Destination-Realm", "utf8"),
    (284, 0): ("Proxy-Info", "grouped"),
    (293, 0): ("Destination-Host", "utf8"),
    (296, 0): ("Origin-Realm", "utf8"),
    (297, 0): ("Experimental-Result", "grouped"),
    (298, 0): ("Experimental-Result-Code", "u32"),
    (299, 0): ("Inband-Security-Id", "u32"),
    (600, VENDOR_3GPP): ("Visited-Network-Identifier", "utf8"),
    (601, VENDOR_3GPP): ("Public-Identity", "utf8"),
    (602, VENDOR_3GPP): ("Server-Name", "utf8"),
    (603, VENDOR_3GPP): ("Server-Capabilities", "grouped"),
    (604, VENDOR_3GPP): ("Mandatory-Capability", "u32"),
    (605, VENDOR_3GPP): ("Optional-Capability", "u32"),
    (606, VENDOR_3GPP): ("User-Data", "utf8"),
    (607, VENDOR_3GPP): ("SIP-Number-Auth-Items", "u32"),
    (608, VENDOR_3GPP): ("SIP-Authentication-Scheme", "utf8"),
    (609, VENDOR_3GPP): ("SIP-Authenticate", "os"),
    (610, VENDOR_3GPP): ("SIP-Authorization", "os"),
    (611, VENDOR_3GPP): ("SIP-Authentication-Context", "os"),
    (612, VENDOR_3GPP): ("SIP-Auth-Data-Item", "grouped"),
    (613, VENDOR_3GPP): ("SIP-Item-Number", "u32"),
    (614, VENDOR_3GPP): ("Server-Assignment-Type", "u32"),
    (615, VENDOR_3GPP): ("Deregistration-Reason", "grouped"),
    (616, VENDOR_3GPP): ("Reason-Code", "u32"),
    (617, VENDOR_3GPP): ("Reason-Info", "utf8"),
    (618, VENDOR_3GPP): ("Charging-Information", "grouped"),
    (623, VENDOR_3GPP): ("User-Authorization-Type", "u32"),
    (624, VENDOR_3GPP): ("User-Data-Already-Available", "u32"),
    (625, VENDOR_3GPP): ("Confidentiality-Key", "os"),
    (626, VENDOR_3GPP): ("Integrity-Key", "os"),
    (628, VENDOR_3GPP): ("Supported-Features", "grouped"),
    (629, VENDOR_3GPP): ("Feature-List-ID", "u32"),
    (630, VENDOR_3GPP): ("Feature-List", "u32"),
    (632, VENDOR_3GPP): ("Associated-Identities", "grouped"),
    (633, VENDOR_3GPP): ("Originating-Request", "u32"),
    (635, VENDOR_3GPP): ("SIP-Digest-Authenticate", "grouped"),
    (637, VENDOR_3GPP): ("UAR-Flags", "u32"),
    (653, VENDOR_3GPP): ("LIA-Flags", "u32"),
    (655, VENDOR_3GPP): ("SAR-Flags", "u32"),
    (13, 13019): ("ETSI-Line-Identifier", "os"),
}
NAMES = {v[0]: k for k, v in AVPS.items()}


class Avp:
    def __init__(self, code, vendor=0, flags=AVP_M, data=b""):
        self.code, self.vendor, self.flags, self.data = code, vendor, flags, data

    @classmethod
    def make(cls, name, value, mandatory=True):
        code, vendor = NAMES[name]
        typ = AVPS[(code, vendor)][1]
        if typ == "u32":
            data = struct.pack("!I", value)
        elif typ == "grouped":
            data = b"".join(a.encode() for a in value)
        elif typ == "addr":
            data = struct.pack("!H", 1) + bytes(int(x) for x in value.split("."))
        elif isinstance(value, str):
            data = value.encode()
        else:
            data = bytes(value)
        flags = (AVP_M if mandatory else 0) | (AVP_V if vendor else 0)
        return cls(code, vendor, flags, data)

    def encode(self):
        hlen = 12 if self.vendor else 8
        length = hlen + len(self.data)
        out = struct.pack("!IB", self.code, self.flags) + length.to_bytes(3, "big")
        if self.vendor:
            out += struct.pack("!I", self.vendor)
        out += self.data + b"\0" * ((4 - length % 4) % 4)
        return out

    @property
    def name(self):
        return AVPS.get((self.code, self.vendor), (f"AVP{self.code}/{self.vendor}", "os"))[0]

    @property
    def type(self):
        return AVPS.get((self.code, self.vendor), (None, "os"))[1]

    def u32(self):
        return struct.unpack("!I", self.data[:4])[0]

    def text(self):
        return self.data.decode("utf-8", "replace")

    def children(self):
        return decode_avps(self.data)

    def find(self, name):
        return find(self.children(), name)

    def dump(self, indent=0):
        pad = "  " * indent
        flags = ("V" if self.flags & AVP_V else "-") + ("M" if self.flags & AVP_M else "-")
        head = f"{pad}{self.name} ({self.code}{'/' + str(self.vendor) if self.vendor else ''}) [{flags}]"
        if self.type == "grouped":
            return "\n".join([head] + [c.dump(indent + 1) for c in self.children()])
        if self.type == "u32" and len(self.data) == 4:
            return f"{head} = {self.u32()}"
        if self.type == "utf8":
            t = self.text()
            return f"{head} = {t if len(t) < 400 else t[:400] + '...'}"
        if self.type == "addr" and len(self.data) == 6:
            return f"{head} = {'.'.join(str(b) for b in self.data[2:])}"
        return f"{head} = 0x{self.data.hex()}"


def decode_avps(buf):
    avps, off = [], 0
    while off < len(buf):
        if len(buf) - off < 8:
            raise ValueError("truncated AVP header")
        code, flags = struct.unpack("!IB", buf[off:off + 5])
        length = int.from_bytes(buf[off + 5:off + 8], "big")
        hlen = 12 if flags & AVP_V else 8
        if length < hlen or off + length > len(buf):
            raise ValueError(f"bad AVP length {length} at {off}")
        vendor = struct.unpack("!I", buf[off + 8:off + 12])[0] if flags & AVP_V else 0
        avps.append(Avp(code, vendor, flags, buf[off + hlen:off + length]))
        off += length + (4 - length % 4) % 4
    return avps


def find(avps, name):
    code, vendor = NAMES[name]
    for a in avps:
        if a.code == code and a.vendor == vendor:
            return a
    return None


class Message:
    def __init__(self, code, app, flags, hbh, e2e, avps):
        self.code, self.app, self.flags = code, app, flags
        self.hbh, self.e2e, self.avps = hbh, e2e, avps

    @property
    def is_request(self):
        return bool(self.flags & FLAG_R)

    @classmethod
    def decode(cls, raw):
        if len(raw) < 20 or raw[0] != 1:
            raise ValueError("not a Diameter v1 message")
        length = int.from_bytes(raw[1:4], "big")
        if length != len(raw):
            raise ValueError("length mismatch")
        flags = raw[4]
        code = int.from_bytes(raw[5:8], "big")
        app, hbh, e2e = struct.unpack("!III", raw[8:20])
        return cls(code, app, flags, hbh, e2e, decode_avps(raw[20:]))

    def encode(self):
        body = b"".join(a.encode() for a in self.avps)
        length = 20 + len(body)
        return (bytes([1]) + length.to_bytes(3, "big") + bytes([self.flags]) +
                self.code.to_bytes(3, "big") +
                struct.pack("!III", self.app, self.hbh, self.e2e) + body)

    def find(self, name):
        return find(self.avps, name)

    def answer(self, avps):
        # RFC 6733 6.2: same command, application, hop-by-hop, end-to-end;
        # R cleared, P copied.
        return Message(self.code, self.app, self.flags & FLAG_P, self.hbh, self.e2e, avps)

    def dump(self):
        kind = COMMANDS.get(self.code, str(self.code)) + ("R" if self.is_request else "A")
        head = (f"{kind} (command {self.code}, app {self.app}, flags 0x{self.flags:02x}, "
                f"hbh 0x{self.hbh:08x}, e2e 0x{self.e2e:08x})")
        return "\n".join([head] + [a.dump(1) for a in self.avps])


def read_message(sock):
    """Read exactly one Diameter message from a stream socket."""
    head = _read_n(sock, 4)
    if head[0] != 1:
        raise ValueError(f"Diameter version {head[0]}, expected 1")
    length = int.from_bytes(head[1:4], "big")
    if length < 20 or length > 1 << 20:
        raise ValueError(f"bad message length {length}")
    return head + _read_n(sock, length - 4)


def _read_n(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ValueError("connection closed")
        buf += chunk
    return buf
