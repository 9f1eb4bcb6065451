#!/usr/bin/env python3
"""Write hostile binary property lists into DIR (tests/cli/convert_plist_hostile.test).

Each object of a bplist(ref, n, fan) but the last is an array of `fan` 4-octet references to
object ref(i); the last is <false/>. Offsets are 4 octets; the top object is 0.
"""
import struct
import sys


def bpl(ref, n, fan):
    b = bytearray(b"bplist00")
    off = []
    for i in range(n):
        off.append(len(b))
        if i == n - 1:
            b.append(0x08)
            continue
        b.append(0xA0 | fan)
        for _ in range(fan):
            b += struct.pack(">I", ref(i))
    ot = len(b)
    for o in off:
        b += struct.pack(">I", o)
    return bytes(b + bytes(6) + bytes([4, 4]) + struct.pack(">QQQ", n, 0, ot))


d = sys.argv[1]
with open(d + "/cyc.plist", "wb") as f:  # 0 -> 1 -> 2 -> 0
    f.write(bpl(lambda i: 0 if i == 2 else i + 1, 4, 1))
with open(d + "/dag.plist", "wb") as f:  # 2^40 values once expanded
    f.write(bpl(lambda i: i + 1, 40, 2))
with open(d + "/off.plist", "wb") as f:  # the offset table past the end
    f.write(bpl(lambda i: i + 1, 3, 1)[:-8] + struct.pack(">Q", 9999))
with open(d + "/deep.plist", "w") as f:
    f.write('<plist version="1.0">' + "<array>" * 10000 + "</array>" * 10000 + "</plist>")
