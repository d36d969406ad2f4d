#!/usr/bin/env python3
# The floor of SQLite for the rows buildprof stores, and buildprof's store against it. Runs the
# ingest bench's --memory mode (the streaming file-to-SQLite path of `buildprof ingest`) on the
# log-light input (one build of 110,370 short steps, no logs) twice per round: once with
# buildprof's schema, once from a scratch git worktree whose schema has no secondary index, no
# CHECK and no foreign key (the same tables, keys and rows: the floor of storing what buildprof
# stores). The figure that goes into the README is the ratio of the two store times measured in
# the same round; the Python json+sqlite3 script of compare.py is timed too, for scale only (it
# stores far fewer rows, so it is no target).
# The worktree builds in target/store-floor/ (a target directory of its own: cargo cannot tell
# two copies of a workspace apart in one), and each tree's bench binary is run directly.
# Usage: python3 benches/store_floor.py [--mb 200] [--rounds 2]
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches"))
from compare import make_log_light, parse_memory_run  # noqa: E402


def strip_schema(path):
    s = open(path).read()
    s = re.sub(r"CREATE INDEX [^\n]*\n", "", s)
    s = re.sub(r" CHECK \([^\n]*\)\)", "", s)
    s = s.replace(" REFERENCES builds (id) ON DELETE CASCADE", "")
    s = s.replace(",\n    FOREIGN KEY (build_id, seq) REFERENCES steps (build_id, seq) ON DELETE CASCADE", "")
    if re.search(r"CHECK|REFERENCES|CREATE INDEX", s):
        sys.exit(f"{path}: schema not stripped, update this script")
    open(path, "w").write(s)


def build(tree, target, dest):
    """Builds the ingest bench binary of `tree` in `target` and copies it to `dest`."""
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "buildprof-collector", "--bench", "ingest", "--no-run", "--message-format=json"],
        cwd=tree, env=env, check=True, capture_output=True, text=True,
    ).stdout
    exe = [m["executable"] for m in map(json.loads, out.splitlines()) if m.get("reason") == "compiler-artifact" and m.get("executable")]
    shutil.copy(exe[-1], dest)


def ingest(exe, trace):
    out = subprocess.run([exe, "--memory", trace], check=True, capture_output=True, text=True).stdout
    total, read, store = parse_memory_run(out)
    return total, float(read.group(1)), float(store.group(1)), float(store.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    trace = os.path.join(ROOT, f"target/bench-data/log-light-{args.mb}MB.rawjson")
    if not os.path.exists(trace):
        os.makedirs(os.path.dirname(trace), exist_ok=True)
        make_log_light(trace, args.mb)
    with tempfile.TemporaryDirectory() as tmp:
        bare = os.path.join(tmp, "bare")
        subprocess.run(["git", "worktree", "add", "-q", "--detach", bare, "HEAD"], cwd=ROOT, check=True)
        try:
            strip_schema(os.path.join(bare, "collector/src/store/schema.rs"))
            exes = {"buildprof schema": os.path.join(tmp, "ingest-schema"), "no index/CHECK/FK": os.path.join(tmp, "ingest-bare")}
            build(ROOT, os.path.join(ROOT, "target"), exes["buildprof schema"])
            build(bare, os.path.join(ROOT, "target/store-floor"), exes["no index/CHECK/FK"])
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
            print(f"input: {trace} ({os.path.getsize(trace) / 2**20:.0f} MiB)")
            for r in range(args.rounds):
                t = time.time()
                subprocess.run([sys.executable, os.path.join(ROOT, "benches/python_ingest.py"), trace, os.path.join(tmp, f"py{r}.db")], check=True, capture_output=True)
                py = time.time() - t
                print(f"round {r + 1}: python json+sqlite3 {py:.2f} s (for scale)")
                got = {}
                for name, exe in exes.items():
                    total, read, store, store_cpu = ingest(exe, trace)
                    got[name] = (total, store, store_cpu)
                    print(
                        f"  {name:18} total {total:5.2f} s = read {read:5.2f} s + store {store:5.2f} s"
                        f" ({store_cpu:.2f} s cpu)"
                    )
                (t_ours, s_ours, c_ours), (t_floor, s_floor, c_floor) = got["buildprof schema"], got["no index/CHECK/FK"]
                print(
                    f"  buildprof's store / SQLite floor: {s_ours / s_floor:.2f}x wall ({c_ours / c_floor:.2f}x cpu);"
                    f" whole ingest {t_ours / t_floor:.2f}x"
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", bare], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
