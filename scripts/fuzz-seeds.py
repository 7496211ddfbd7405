#!/usr/bin/env python3
"""Seed the `pipeline` fuzz target with the bundled captures, in its input format (per frame: a link
selector byte, a 16-bit big-endian length, the frame), so that the fuzzer starts from real HTTP, FTP,
mail, LDAP, Redis... conversations instead of discovering TCP handshakes byte by byte.

    scripts/fuzz-seeds.py            writes fuzz/corpus/pipeline/seed-<capture> for captures/*.pcap
"""
import glob
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus", "pipeline")
ETHERNET = 0  # index of LinkType::ETHERNET in the target's LINKS
MAX_LEN = 65536  # scripts/fuzz.sh runs with -max_len=65536

os.makedirs(OUT, exist_ok=True)
for path in sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap"))):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D) or struct.unpack("<I", data[20:24])[0] != 1:
        continue  # little-endian Ethernet pcap only (what captures/gen writes)
    out, off = bytearray(), 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(out) + 3 + len(frame) > MAX_LEN:
            break
        out += bytes([ETHERNET]) + struct.pack(">H", len(frame)) + frame
    name = os.path.splitext(os.path.basename(path))[0]
    open(os.path.join(OUT, "seed-" + name), "wb").write(out)
    print(f"seed-{name}: {len(out)} bytes")
