#!/usr/bin/env python3
# Ingest speed in context: buildprof's streaming file-to-SQLite ingest (the ingest bench binary's
# --memory mode, the same path as `buildprof ingest`) against a straightforward Python
# json + sqlite3 ingest (benches/python_ingest.py) and `grep -c CACHED`, on two traces made from
# the real app1 rawjson traces:
#   log-heavy: a real build whose log messages are repeated (most bytes are base64 log data);
#   log-light: the real traces' vertex and status messages only, copied with fresh digests, so
#              the file is many short steps and no logs.
# Usage: python3 benches/compare.py [--mb 200]
import argparse, glob, json, os, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches"))
from ingest_memory import make as make_log_heavy, objects  # noqa: E402


def make_log_light(path, mb):
    texts = []
    for p in sorted(glob.glob(os.path.join(ROOT, "sample-traces/app1-series/*.rawjson"))):
        for obj, raw in objects(open(p).read()):
            if "logs" not in obj:
                texts.append(json.dumps(obj, separators=(",", ":")))
    block = "\n".join(texts) + "\n"
    target = mb << 20
    with open(path, "w") as f:
        copy = 0
        while f.tell() < target:
            f.write(re.sub(r"sha256:([0-9a-f]{8})", lambda m: f"sha256:{copy:08x}{m.group(1)[8:]}", block))
            copy += 1


def timed(cmd, check=True, **kw):
    t = time.time()
    out = subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)
    return time.time() - t, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    data = os.path.join(ROOT, "target/bench-data")
    os.makedirs(data, exist_ok=True)
    subprocess.run(["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--no-run"], cwd=ROOT, check=True)
    for kind, maker in (("log-heavy", make_log_heavy), ("log-light", make_log_light)):
        path = os.path.join(data, f"{kind}-{args.mb}MB.rawjson")
        if not os.path.exists(path):
            maker(path, args.mb)
        size = os.path.getsize(path) / 2**20
        _, out = timed(["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--", "--memory", path], cwd=ROOT)
        ours = float(re.search(r"ingest into SQLite: ([0-9.]+) s", out).group(1))
        with tempfile.TemporaryDirectory() as tmp:
            py, _ = timed([sys.executable, os.path.join(ROOT, "benches/python_ingest.py"), path, os.path.join(tmp, "py.db")])
        grep, _ = timed(["grep", "-c", "CACHED", path], check=False)
        print(f"{kind}: {size:.0f} MiB")
        print(f"  buildprof ingest        {ours:7.2f} s  {size / ours:7.0f} MiB/s")
        print(f"  python json+sqlite3     {py:7.2f} s  {size / py:7.0f} MiB/s   buildprof is {py / ours:.1f}x faster")
        print(f"  grep -c CACHED          {grep:7.2f} s  {size / grep:7.0f} MiB/s   (scale only: counts text, not outcomes)")


if __name__ == "__main__":
    main()
