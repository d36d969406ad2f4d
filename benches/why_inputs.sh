#!/usr/bin/env bash
# Issue 14 ("why did it miss") measurements:
#   hash:     hashing a generated 50,000-file, 1 GiB context (benches/gen_context.py): files/s
#             and MB/s, page cache warm (the build reads the same files), from `ingest
#             --context` against the same ingest without it (min of 3 each).
#   stored:   bytes a build adds to the database when one file of that context changed:
#             new context_nodes rows (count, bytes), its build_inputs and build_args rows, and the
#             file's growth in pages after a checkpoint.
#   engine:   wall time of `record` around a real engine build of that context against the same
#             build run directly, REPS pairs in ABBA order, each build as on a fresh CI runner
#             (builder cache pruned, no remembered hashes: the whole context is sent, copied and
#             hashed). Needs an engine at DOCKER_HOST and the docker.io
#             20.10 CLI (.ci/docker-up.sh; with TMPDIR=/dev/shm for both the engine and this
#             script, the engine's storage and the context are in memory, so disk writes (2 GB of
#             snapshots pruned between builds) do not add their noise to the pairs).
#   why:      `buildprof why` on the last build and on the build with most busts of a 1M-step
#             synthetic database (`synth --steps 1000000`, made once into target/bench-data/).
# Usage: benches/why_inputs.sh [--reps N] [--bin PATH] [--skip-engine] [--skip-why]
set -euo pipefail
cd "$(dirname "$0")/.."

reps=6
bin=target/release/buildprof
skip_engine=0
skip_why=0
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --skip-engine) skip_engine=1; shift ;;
        --skip-why) skip_why=1; shift ;;
        *) echo "usage: $0 [--reps N] [--bin PATH] [--skip-engine] [--skip-why]" >&2; exit 2 ;;
    esac
done
if [ ! -x "$bin" ]; then
    echo "building $bin" >&2
    cargo build --release --locked --bin buildprof >&2
fi
bin=$(realpath "$bin")
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset BUILDPROF_DB

now_ns() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minimum() { sort -g | head -1; }

ctx=$work/ctx
python3 benches/gen_context.py "$ctx" 50000 $((1 << 30))
files=$(find "$ctx" -type f | wc -l)
bytes=$(du -sb --apparent-size "$ctx" | cut -f1)
find "$ctx" -type f -exec cat {} + >/dev/null # warm the page cache
trace1=$repo/sample-traces/current-engine/containerd-store/045-local-warm-main-plain-r1-seed.plain.log
trace2=$repo/sample-traces/current-engine/containerd-store/046-local-warm-main-plain-r1-src.plain.log

# --- hash ---
time_ingest() { # DB EXTRA...: ns of one ingest of trace1 (the hash cache kept when $KEEP is set)
    local db=$1 t0 t1
    shift
    rm -f "$db" "$db"-wal "$db"-shm
    [ -n "${KEEP:-}" ] || rm -f "$db"-hashes
    t0=$(now_ns)
    "$bin" --db "$db" ingest --quiet "$@" "$trace1" >/dev/null
    t1=$(now_ns)
    echo $((t1 - t0))
}
: >"$work/with" && : >"$work/without"
for _ in 1 2 3; do
    time_ingest "$work/h.db" --context "$ctx" >>"$work/with"
    time_ingest "$work/h.db" >>"$work/without"
done
w=$(minimum <"$work/with")
wo=$(minimum <"$work/without")
awk -v w="$w" -v wo="$wo" -v f="$files" -v b="$bytes" 'BEGIN {
    s = (w - wo) / 1e9
    printf "hash       %d files, %.0f MB, every file read: %.2f s  ->  %.0f files/s, %.0f MB/s   (ingest with --context %.2f s, without %.3f s)\n",
        f, b / 1e6, s, f / s, b / 1e6 / s, w / 1e9, wo / 1e9 }'
# Again with the hash cache of the previous run (a rebuild): only status is read.
: >"$work/cached"
time_ingest "$work/c.db" --context "$ctx" >/dev/null
for _ in 1 2 3; do KEEP=1 time_ingest "$work/c.db" --context "$ctx" >>"$work/cached"; done
c=$(minimum <"$work/cached")
awk -v c="$c" -v wo="$wo" -v f="$files" 'BEGIN {
    s = (c - wo) / 1e9
    printf "hash       the same, hashes remembered (a rebuild): %.2f s  ->  %.0f files/s\n", s, f / s }'

# --- stored ---
db=$work/s.db
"$bin" --db "$db" ingest --quiet --context "$ctx" "$trace1" >/dev/null
sqlite() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])" "$@"; }
pages() { sqlite "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null; sqlite "$db" "PRAGMA page_count"; }
n1=$(sqlite "$db" "SELECT count(*) FROM context_nodes")
b1=$(sqlite "$db" "SELECT sum(length(hash) + length(entries)) FROM context_nodes")
p1=$(pages)
printf 'changed\n' >>"$ctx/src/pkg0123/file045.dat"
"$bin" --db "$db" ingest --quiet --context "$ctx" "$trace2" >/dev/null
n2=$(sqlite "$db" "SELECT count(*) FROM context_nodes")
b2=$(sqlite "$db" "SELECT sum(length(hash) + length(entries)) FROM context_nodes")
p2=$(pages)
psize=$(sqlite "$db" "PRAGMA page_size")
row=$(sqlite "$db" "SELECT sum(length(coalesce(context,'')) + length(coalesce(dockerfile_path,'')) + length(coalesce(dockerfile_hash,'')) + length(coalesce(dockerfile_text,'')) + length(coalesce(stage_graph,'')) + length(coalesce(context_root,'')) + length(base_images) + length(notes) + 24) FROM build_inputs WHERE build_id = (SELECT id FROM builds ORDER BY ingested_at DESC LIMIT 1)")
echo "stored     first build: $n1 nodes, $b1 bytes of nodes; one file changed: +$((n2 - n1)) nodes, +$((b2 - b1)) bytes of nodes, build_inputs row ~$row bytes; file +$(( (p2 - p1) * psize )) bytes ($((p2 - p1)) pages, the trace's own steps included)"

# --- engine ---
# Every build as on a fresh CI runner: the builder cache pruned, the image removed and no
# remembered hashes (not timed), so the engine receives the whole 1 GiB context and the COPY
# writes it, while record hashes every file of it.
if [ "$skip_engine" = 0 ]; then
    docker=/usr/bin/docker
    # The database on disk, as on a CI runner, even when TMPDIR puts the rest in memory.
    edb=$repo/target/bench-data/why_inputs-record.db
    mkdir -p "$(dirname "$edb")"
    rm -f "$edb" "$edb"-wal "$edb"-shm "$edb"-hashes
    fresh() { # then let the pruned snapshots' writes settle before the next build starts
        "$docker" image rm -f buildprof-bench-ctx >/dev/null 2>&1 || true
        "$docker" builder prune -af >/dev/null 2>&1
        rm -f "$edb-hashes"
        sync
        sleep 2
    }
    build() { DOCKER_BUILDKIT=1 "$docker" build --progress=plain --network none -t buildprof-bench-ctx "$ctx"; }
    : >"$work/d" && : >"$work/r" && : >"$work/q" && : >"$work/timings"
    fresh
    build >/dev/null 2>&1 # the base image, and the page cache
    direct() { local t0 t1; fresh; t0=$(now_ns); build >/dev/null 2>&1; t1=$(now_ns); echo $((t1 - t0)); }
    recorded() {
        local t0 t1
        fresh
        t0=$(now_ns)
        DOCKER_BUILDKIT=1 "$bin" --db "$edb" record --quiet --timings -- "$docker" build --progress=plain --network none -t buildprof-bench-ctx "$ctx" >/dev/null 2>"$work/rec.err"
        t1=$(now_ns)
        if ! grep '^buildprof: timings: ' "$work/rec.err" >>"$work/timings"; then
            echo "no timings from $bin record --timings: $(tail -n 3 "$work/rec.err")" >&2
            echo 0
            return
        fi
        echo $((t1 - t0))
    }
    for k in $(seq 1 "$reps"); do
        if [ $((k % 2)) = 1 ]; then d=$(direct); r=$(recorded); else r=$(recorded); d=$(direct); fi
        [ "$r" != 0 ] || exit 1 # the recorded build said nothing of its timings (see above)
        echo "$d" >>"$work/d"; echo "$r" >>"$work/r"
        awk -v d="$d" -v r="$r" 'BEGIN { print r / d }' >>"$work/q"
    done
    fresh
    d=$(median <"$work/d"); r=$(median <"$work/r"); q=$(median <"$work/q")
    awk -v d="$d" -v r="$r" -v q="$q" -v k="$reps" 'BEGIN {
        printf "engine     direct %.3f s   record %.3f s   ratio of medians %.4f   median pair ratio %.4f   (%d pairs)\n",
            d / 1e9, r / 1e9, r / d, q, k }'
    echo "           pair ratios: $(tr '\n' ' ' <"$work/q")"
    # The geometric mean of the pair ratios with a 95% bootstrap interval (10,000 resamples).
    python3 - "$work/q" <<'PY'
import math, random, sys
logs = [math.log(float(x)) for x in open(sys.argv[1]) if x.strip()]
rng = random.Random(1)
def gmean(xs): return math.exp(sum(xs) / len(xs))
boot = sorted(gmean([rng.choice(logs) for _ in logs]) for _ in range(10000))
print(f"           geometric mean of pair ratios {gmean(logs):.4f}, 95% interval {boot[250]:.4f} .. {boot[9749]:.4f}")
PY
    # What each recorded build waited for buildprof after the command exited (`record --timings`):
    # the one part of the overhead measured inside the run, free of the pairs' noise.
    python3 - "$work/timings" <<'PY'
import re, statistics, sys
rows, other = [], []
for line in open(sys.argv[1]):
    nums = [re.search(re.escape(label) + r"([0-9.]+) s", line)
            for label in ("the command ran ", "buildprof took ", "after it exited (", "gathered in ")]
    if all(nums):
        rows.append(tuple(float(m.group(1)) for m in nums))
    else:
        other.append(line.strip())
for line in other:
    print("           without its inputs gathered: " + line)
if rows:
    share = [after / ran for ran, after, _, _ in rows]
    print("           after the command exited (record --timings, %d builds): median %.3f s, max %.3f s"
          " (median %.2f%%, max %.2f%% of the command's time); of it waiting for the hashing:"
          " median %.3f s, max %.3f s; hashing took %.2f-%.2f s beside the build"
          % (len(rows), statistics.median(r[1] for r in rows), max(r[1] for r in rows),
             100 * statistics.median(share), 100 * max(share),
             statistics.median(r[2] for r in rows), max(r[2] for r in rows),
             min(r[3] for r in rows), max(r[3] for r in rows)))
PY
    n=$(sqlite "$edb" "SELECT count(*) FROM build_inputs WHERE context_files = $files")
    echo "           recorded builds with all $files files in their manifest: $n"
fi

# --- why ---
if [ "$skip_why" = 0 ]; then
    synth=$repo/target/bench-data/synth-1m.db
    if [ ! -f "$synth" ]; then
        mkdir -p "$(dirname "$synth")"
        "$bin" --db "$synth" synth --steps 1000000 >&2
    fi
    last=$(sqlite "$synth" "SELECT id FROM builds ORDER BY started_at DESC LIMIT 1")
    most=$(sqlite "$synth" "SELECT build_id FROM steps WHERE outcome = 'executed' GROUP BY build_id ORDER BY count(*) DESC, build_id LIMIT 1")
    for id in "$last" "$most"; do
        "$bin" --db "$synth" why "$id" >/dev/null # warm
        : >"$work/w"
        for _ in 1 2 3 4 5; do
            t0=$(now_ns); "$bin" --db "$synth" why "$id" --json >/dev/null; t1=$(now_ns)
            echo $((t1 - t0)) >>"$work/w"
        done
        n=$("$bin" --db "$synth" why "$id" --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['busts']))")
        printf 'why        %s (%s steps ran): min %.1f ms, median %.1f ms of 5 (whole process)\n' "${id:0:12}" "$n" \
            "$(awk -v t="$(minimum <"$work/w")" 'BEGIN{print t/1e6}')" "$(awk -v t="$(median <"$work/w")" 'BEGIN{print t/1e6}')"
    done
fi
