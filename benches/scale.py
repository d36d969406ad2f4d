#!/usr/bin/env python3
# A year of a team's builds: every command of issue 15 timed on a big synthetic history and on a
# 1-build database in the same run, with the peak RSS of each, and the size of the big database.
#
#   cargo build --release && python3 benches/scale.py        # --steps 1000000 --reps 5
#
# The history (`buildprof synth --steps N`, the real app1 traces replayed over the last year) is
# generated once into target/bench-data/synth-<N>.db and never written to afterwards: each run
# works on a fresh copy of it (target/bench-data/scale/big.db) and on a fresh 1-build database
# (one.db), so ingest and record add real builds without changing the next run's input. The
# per-build commands (ingest, record, summary --last, show) must stay within 3x their 1-build
# time plus 100 ms (issue 15); the history-wide ones (report, compare, trends, steps, busts) are
# timed on the big database (and, for scale, on the 1-build one).
import argparse, os, shutil, sqlite3, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACE = os.path.join(ROOT, "sample-traces/app1-series/004-local-src-iter1.rawjson")


def run(bin_, db, args, stdin=None):
    """Runs `bin_ --db db args...`; returns (wall seconds, peak RSS in MiB). Output is discarded."""
    start = time.perf_counter()
    p = subprocess.Popen([bin_, "--db", db, *args], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} on {db} failed ({p.returncode}): {err}")
    return wall, usage.ru_maxrss / 1024, err


def ensure_history(bin_, path, steps):
    if os.path.exists(path):
        return
    partial = path + ".partial"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(partial + suffix):
            os.remove(partial + suffix)
    print(f"generating {path} ({steps} steps; once) ...", flush=True)
    start = time.perf_counter()
    subprocess.run([bin_, "--db", partial, "synth", "--steps", str(steps)], check=True, stdout=subprocess.DEVNULL)
    os.rename(partial, path)
    print(f"  {time.perf_counter() - start:.0f} s", flush=True)


class Variants:
    """Copies of one real 18-step trace that differ by trailing newlines: each is a new build id."""

    def __init__(self, folder):
        self.folder, self.n, self.body = folder, 0, open(TRACE, "rb").read()

    def next(self):
        self.n += 1
        path = os.path.join(self.folder, f"trace-{self.n}.rawjson")
        with open(path, "wb") as f:
            f.write(self.body + b"\n" * self.n)
        return path


def last_id(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT id FROM builds ORDER BY ingested_at DESC, started_at DESC, id LIMIT 1").fetchone()[0]


def db_size(db):
    with sqlite3.connect(db) as c:
        steps = c.execute("SELECT count(*) FROM steps").fetchone()[0]
        builds = c.execute("SELECT count(*) FROM builds").fetchone()[0]
        rows = c.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    return builds, steps, os.path.getsize(db), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/buildprof"))
    ap.add_argument("--only", default="", help="comma-separated command names to time (default: all)")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit("build the release binary first: cargo build --release")
    data = os.path.join(ROOT, "target/bench-data")
    os.makedirs(data, exist_ok=True)
    name = f"synth-{args.steps // 1_000_000}m.db" if args.steps % 1_000_000 == 0 else f"synth-{args.steps}.db"
    history = os.path.join(data, name)
    ensure_history(args.bin, history, args.steps)
    work = os.path.join(data, "scale")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    big, one = os.path.join(work, "big.db"), os.path.join(work, "one.db")
    shutil.copyfile(history, big)
    variants = Variants(work)
    run(args.bin, one, ["ingest", "--quiet", "--label", "branch=main", "--label", "strategy=local", variants.next()])
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}; {args.reps} runs of each, median wall, max peak RSS", flush=True)

    out_dir = os.path.join(work, "report")
    per_build = {
        "ingest": lambda db: ["ingest", "--quiet", "--label", "branch=feature", variants.next()],
        "record": lambda db: ["record", "--quiet", "--label", "branch=feature", "--", "cat", variants.next()],
        "summary --last": lambda db: ["summary", "--last"],
        "summary --last --json": lambda db: ["summary", "--last", "--json"],
        # The worst case of the baseline walk: no build has the label, every start time is passed.
        "summary --last --baseline-label none=x": lambda db: ["summary", "--last", "--baseline-label", "none=x"],
        "show": lambda db: ["show", last_id(db)[:12]],
        "show --json": lambda db: ["show", "--json", last_id(db)[:12]],
        "busts BUILD": lambda db: ["busts", last_id(db)[:12]],
    }
    history_wide = {
        "report --since 7d": ["report", "--since", "7d", "--out", out_dir],
        "report --since 90d": ["report", "--since", "90d", "--out", out_dir],
        "report --since 365d": ["report", "--since", "365d", "--out", out_dir],
        "compare --by strategy": ["compare", "--by", "strategy"],
        "trends": ["trends"],
        "steps": ["steps"],
        "busts": ["busts"],
    }
    only = set(filter(None, args.only.split(",")))
    rows = []
    for label, make in list(per_build.items()) + [(k, (lambda a: lambda db: a)(v)) for k, v in history_wide.items()]:
        if only and label not in only:
            continue
        got = {one: [], big: []}
        notes = set()
        for _ in range(args.reps):
            for db in (one, big):
                wall, rss, err = run(args.bin, db, make(db))
                got[db].append((wall, rss))
                notes.update(line for line in err.splitlines() if "window" in line)
        med = {db: statistics.median(w for w, _ in got[db]) for db in got}
        rss = {db: max(r for _, r in got[db]) for db in got}
        limit = 3 * med[one] + 0.1
        verdict = ("met" if med[big] <= limit else "NOT met") if label in per_build else ""
        rows.append((label, med[one], rss[one], med[big], rss[big], med[big] / med[one], limit if label in per_build else None, verdict))
        print(f"  {label}: 1 build {med[one] * 1000:.0f} ms {rss[one]:.0f} MiB; {args.steps} steps {med[big] * 1000:.0f} ms {rss[big]:.0f} MiB {verdict}", flush=True)
        for n in sorted(notes):
            print(f"    stderr: {n}")

    builds, steps, size, tables = db_size(history)
    print()
    print(f"| command | 1-build DB | {args.steps:,}-step DB ({builds:,} builds) | ratio | target (3x + 100 ms) |")
    print("|---|---|---|---|---|")
    for label, t1, r1, tb, rb, ratio, limit, verdict in rows:
        target = f"{limit * 1000:.0f} ms: {verdict}" if limit is not None else ""
        print(f"| `{label}` | {t1 * 1000:.0f} ms, {r1:.0f} MiB | {tb * 1000:.0f} ms, {rb:.0f} MiB | {ratio:.1f}x | {target} |")
    print()
    print(f"database: {size / 1e6:.0f} MB for {steps:,} steps: {size / steps:.0f} bytes per step")
    for name_, bytes_ in tables:
        print(f"  {name_}: {bytes_ / 1e6:.0f} MB ({bytes_ / steps:.0f} bytes per step)")


if __name__ == "__main__":
    main()
