#!/usr/bin/env python3
# Ingest speed in context: buildprof's streaming file-to-SQLite ingest (the ingest bench binary's
# --memory mode, the same path as `buildprof ingest`) against a straightforward Python
# json + sqlite3 ingest (benches/python_ingest.py) and `grep -c CACHED`, on traces made from
# the real app1 traces:
#   log-heavy: a real rawjson build whose log messages are repeated (most bytes are base64 logs);
#   log-light: the real rawjson traces' vertex and status messages only, copied with fresh
#              digests, so the file is many short steps and no logs;
#   plain:     a real plain-progress CI log (GitHub Actions timestamps) whose step log lines are
#              repeated: plain-log throughput (the Python script reads rawjson only);
#   many:      a real 20-step build stored 2000 times with fresh ids: one transaction per build
#              against the batches `ingest` uses for the builds of one input.
# Prints the split between reading (decode, assemble) and storing, and the SQLite insert rate
# (steps/s and rows/s of the per-step tables) of the ingest path.
# Usage: python3 benches/compare.py [--mb 200] [--only log-heavy,log-light,plain,many]
import argparse, glob, json, os, re, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches"))
from ingest_memory import make as make_log_heavy, objects  # noqa: E402

PLAIN = os.path.join(ROOT, "sample-traces/app1-series/013-max-deps-iter4.plain.log")


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


def make_plain(path, mb):
    lines = open(PLAIN, encoding="utf-8").read().splitlines(keepends=True)
    # The pip install output of step #9: timestamped `#9 <elapsed> <text>` lines.
    logs = [i for i, l in enumerate(lines) if re.match(r"\S+ #9 \d+\.\d+ ", l)]
    block = "".join(lines[i] for i in logs).encode()
    with open(path, "wb") as f:
        f.write("".join(lines[: logs[-1] + 1]).encode())
        target = mb << 20
        while f.tell() < target:
            f.write(block)
        f.write("".join(lines[logs[-1] + 1 :]).encode())


def parse_memory_run(out):
    """The figures of the ingest bench's --memory mode: the total time in seconds, and the
    matches of its read line (wall, cpu) and store line (wall, cpu, steps, rows, steps/s,
    rows/s)."""
    total = float(re.search(r"ingest into SQLite: ([0-9.]+) s", out).group(1))
    read = re.search(r"read \(decode, assemble\): ([0-9.]+) s wall, ([0-9.]+) s cpu", out)
    store = re.search(r"store: ([0-9.]+) s wall, ([0-9.]+) s cpu, (\d+) steps, (\d+) rows: (\d+) steps/s, (\d+) rows/s", out)
    return total, read, store


def timed(cmd, check=True, **kw):
    t = time.time()
    out = subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)
    return time.time() - t, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--only", default="log-heavy,log-light,plain,many")
    args = ap.parse_args()
    data = os.path.join(ROOT, "target/bench-data")
    os.makedirs(data, exist_ok=True)
    subprocess.run(["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--no-run"], cwd=ROOT, check=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    inputs = {
        "log-heavy": (make_log_heavy, "rawjson"),
        "log-light": (make_log_light, "rawjson"),
        "plain": (make_plain, "log"),
    }
    for kind in args.only.split(","):
        if kind == "many":
            trace = os.path.join(ROOT, "sample-traces/app1-series/001-max-src-iter1.rawjson")
            _, out = timed(["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--", "--many", trace, "2000"], cwd=ROOT)
            print("many: " + out.rstrip())
            continue
        maker, ext = inputs[kind]
        path = os.path.join(data, f"{kind}-{args.mb}MB.{ext}")
        if not os.path.exists(path):
            maker(path, args.mb)
        size = os.path.getsize(path) / 2**20
        _, out = timed(["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--", "--memory", path], cwd=ROOT)
        ours, read, store = parse_memory_run(out)
        print(f"{kind}: {size:.0f} MiB")
        print(f"  buildprof ingest        {ours:7.2f} s  {size / ours:7.0f} MiB/s")
        print(f"    read (decode, assemble)  {float(read.group(1)):6.2f} s wall  {float(read.group(2)):6.2f} s cpu")
        print(
            f"    store (SQLite)           {float(store.group(1)):6.2f} s wall  {float(store.group(2)):6.2f} s cpu"
            f"   {store.group(3)} steps, {store.group(4)} rows: {store.group(5)} steps/s, {store.group(6)} rows/s"
        )
        if ext == "rawjson":
            with tempfile.TemporaryDirectory() as tmp:
                py, _ = timed([sys.executable, os.path.join(ROOT, "benches/python_ingest.py"), path, os.path.join(tmp, "py.db")])
            print(f"  python json+sqlite3     {py:7.2f} s  {size / py:7.0f} MiB/s   buildprof is {py / ours:.1f}x faster")
        grep, _ = timed(["grep", "-c", "CACHED", path], check=False)
        print(f"  grep -c CACHED          {grep:7.2f} s  {size / grep:7.0f} MiB/s   (scale only: counts text, not outcomes)")


if __name__ == "__main__":
    main()
