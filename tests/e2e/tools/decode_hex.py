#!/usr/bin/env python3
"""Decode a Diameter message given as hex (file or stdin) and print it."""
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diam  # noqa: E402

src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
print(diam.Message.decode(bytes.fromhex(src.read().strip())).dump())
