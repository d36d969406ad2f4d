#!/usr/bin/env python3
# Peak-memory benchmark for `buildprof ingest` on a ~1 GB log-heavy rawjson trace.
#
# The trace is a real one (sample-traces/app1-series/010-min-web-iter3.rawjson) whose log
# messages are repeated until the file reaches the size asked for, so it looks like a build
# whose steps print gigabytes. Reports the peak resident memory of the ingest (target < 100 MB)
# and its throughput, measured by the ingest bench binary's streaming file-to-SQLite path.
# Usage: python3 benches/ingest_memory.py [--mb 1024]
import argparse, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACE = os.path.join(ROOT, "sample-traces/app1-series/010-min-web-iter3.rawjson")


def objects(text):
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, end = dec.raw_decode(text, i)
        yield obj, text[i:end]
        i = end


def make(path, mb):
    text = open(TRACE).read()
    parts = list(objects(text))
    logs = [raw for obj, raw in parts if "logs" in obj]
    first_log = next(i for i, (obj, _) in enumerate(parts) if "logs" in obj)
    block = ("\n".join(logs) + "\n").encode()
    with open(path, "wb") as f:
        for _, raw in parts[:first_log]:
            f.write(raw.encode() + b"\n")
        target = mb << 20
        while f.tell() < target:
            f.write(block)
        for _, raw in parts[first_log:]:
            f.write(raw.encode() + b"\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    args = ap.parse_args()
    data = os.path.join(ROOT, "target/bench-data")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(data, f"log-heavy-{args.mb}MB.rawjson")
    if not os.path.exists(path):
        make(path, args.mb)
    subprocess.run(
        ["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--", "--memory", path],
        cwd=ROOT,
        check=True,
    )


if __name__ == "__main__":
    sys.exit(main())
