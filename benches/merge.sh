#!/usr/bin/env bash
# Merge benchmark: N job databases (synthetic builds replayed from the real app1 traces, 3 builds
# and 60 steps each, as a CI job building three images would store) merged into a fresh team
# database, then merged again (everything already present). Release binary; prints the figures
# that go into README "Team setup" and docs/performance.md.
#
#   cargo build --release && benches/merge.sh            # N=1000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
BIN=${BIN:-target/release/buildprof}
WORK=target/bench-data/merge-$N
[ -x "$BIN" ] || { echo "build the release binary first: cargo build --release" >&2; exit 2; }
mkdir -p "$WORK/jobs"
if [ ! -f "$WORK/jobs/.complete" ]; then
    echo "making $N job databases in $WORK/jobs ..."
    for i in $(seq 1 "$N"); do
        "$BIN" --db "$WORK/jobs/job-$i.db" synth --steps 60 --days 7 --seed "$i" >/dev/null
    done
    touch "$WORK/jobs/.complete"
fi
rm -f "$WORK"/team.db*
bytes=$(du -cb "$WORK"/jobs/*.db | tail -1 | cut -f1)
cat "$WORK"/jobs/*.db >/dev/null   # page cache warm for both passes alike
measure() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$@" >"$WORK/out.json"
    end=$(date +%s.%N)
    python3 - "$label" "$start" "$end" "$WORK/rss" "$WORK/out.json" "$N" "$bytes" <<'PY'
import json, sys
label, start, end, rss, out, n, size = sys.argv[1:]
secs = float(end) - float(start)
report = json.load(open(out))
print(f"{label}: {n} databases ({int(size) / 2**20:.0f} MiB) in {secs:.2f} s "
      f"({secs / int(n) * 1000:.1f} ms each), {report['builds_added']} builds "
      f"({report['steps_added']} steps) added, {report['builds_present']} already present, "
      f"peak RSS {int(open(rss).read().split()[-1]) / 1024:.0f} MiB")
PY
}
uptime
measure "first merge " "$BIN" merge --json --into "$WORK/team.db" "$WORK/jobs"
measure "merge again " "$BIN" merge --json --into "$WORK/team.db" "$WORK/jobs"
