#!/usr/bin/env python3
"""Writes a generated build context: FILES files in directories of 100, BYTES in total
(incompressible, so nothing downstream can shortcut them), a Dockerfile and a .dockerignore.
Usage: benches/gen_context.py DIR [FILES] [BYTES]"""
import os
import sys

root = sys.argv[1]
files = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
total = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
size = total // files
os.makedirs(root, exist_ok=True)
block = os.urandom(1 << 20)
for i in range(files):
    d = os.path.join(root, "src", f"pkg{i // 100:04d}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    off = (i * 7919) % (len(block) - size) if size < len(block) else 0
    data = (i.to_bytes(8, "little") + block[off:off + size])[:size]
    with open(os.path.join(d, f"file{i % 100:03d}.dat"), "wb") as f:
        f.write(data)
with open(os.path.join(root, "Dockerfile"), "w") as f:
    f.write("FROM local/busybox:1\nCOPY src /src\nRUN ls /src | wc -l\n")
with open(os.path.join(root, ".dockerignore"), "w") as f:
    f.write("**/*.log\n")
