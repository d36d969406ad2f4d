#!/usr/bin/env bash
# Overhead of `buildprof record` against running the same build command directly (issue 3).
#
# Three workloads, each run REPS times in pairs (direct and recorded, in ABBA order):
#   engine:    DOCKER_BUILDKIT=1 /usr/bin/docker build --no-cache --progress=plain on a busybox
#              context whose RUN prints 100,000 log lines (paced under BuildKit's 200 KiB/s log
#              limit so none is clipped). Needs an engine at DOCKER_HOST (.ci/docker-up.sh).
#   synthetic: a fake build that writes a plain trace with 100,000 log lines to stderr as fast
#              as a pipe takes it: the worst case, pure pass-through and decoding cost.
#   paced:     the same, then 2 s more of "build": decoding overlaps the build, so this is the
#              fixed cost a real build sees, without the engine's run-to-run noise.
# Prints the median wall times, their ratio and the median of the per-pair ratios (target
# < 1.01 on the engine build), and checks the
# output: byte-identical for the fake builds (stdout and stderr); for the engine build,
# the 100,000 log lines all present and in order in both the direct and the recorded output.
# Usage: benches/record_overhead.sh [--reps N] [--bin PATH] [--skip-engine]
set -euo pipefail
cd "$(dirname "$0")/.."

reps=15
bin=target/release/buildprof
skip_engine=0
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --skip-engine) skip_engine=1; shift ;;
        *) echo "usage: $0 [--reps N] [--bin PATH] [--skip-engine]" >&2; exit 2 ;;
    esac
done
if [ ! -x "$bin" ]; then
    echo "building $bin" >&2
    cargo build --release --locked --bin buildprof >&2
fi
bin=$(realpath "$bin")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BUILDPROF_DB="$work/bench.db"

now_ns() { date +%s%N; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run_pair NAME CHECK CMD...: times CMD direct and under `record`, alternately; CHECK NAME i
# compares the outputs of run i.
run_pair() {
    local name=$1 check=$2
    shift 2
    : >"$work/$name.direct.t"
    : >"$work/$name.record.t"
    : >"$work/$name.ratio"
    for i in $(seq 1 "$reps"); do
        local d r
        # ABBA order: whichever runs second in a pair does not always get the warmer machine.
        if [ $((i % 2)) = 1 ]; then
            d=$(time_direct "$name" "$i" "$@")
            r=$(time_record "$name" "$i" "$@")
        else
            r=$(time_record "$name" "$i" "$@")
            d=$(time_direct "$name" "$i" "$@")
        fi
        echo "$d" >>"$work/$name.direct.t"
        echo "$r" >>"$work/$name.record.t"
        awk -v d="$d" -v r="$r" 'BEGIN { print r / d }' >>"$work/$name.ratio"
        "$check" "$name" "$i"
    done
    local d r q
    d=$(median <"$work/$name.direct.t")
    r=$(median <"$work/$name.record.t")
    q=$(median <"$work/$name.ratio")
    awk -v n="$name" -v d="$d" -v r="$r" -v q="$q" -v k="$reps" 'BEGIN {
        printf "%-10s direct %8.3f s   record %8.3f s   ratio of medians %.4f   median pair ratio %.4f   (%d pairs)\n",
            n, d / 1e6, r / 1e6, r / d, q, k }'
}

time_direct() {
    local name=$1 i=$2 t0 t1
    shift 2
    t0=$(now_ns)
    "$@" >"$work/$name.direct.$i.out" 2>"$work/$name.direct.$i.err" || true
    t1=$(now_ns)
    echo $(((t1 - t0) / 1000))
}

time_record() {
    local name=$1 i=$2 t0 t1
    shift 2
    t0=$(now_ns)
    "$bin" record --quiet --label bench="$name" -- "$@" \
        >"$work/$name.record.$i.out" 2>"$work/$name.record.$i.err" || true
    t1=$(now_ns)
    echo $(((t1 - t0) / 1000))
}

same_bytes() {
    local name=$1 i=$2
    cmp -s "$work/$name.direct.$i.out" "$work/$name.record.$i.out" ||
        { echo "$name run $i: stdout differs" >&2; exit 1; }
    cmp -s "$work/$name.direct.$i.err" "$work/$name.record.$i.err" ||
        { echo "$name run $i: stderr differs" >&2; exit 1; }
}

same_log_lines() {
    local name=$1 i=$2 want
    want=$(seq 1 100000 | cksum)
    for side in direct record; do
        local got
        got=$(grep -E '^#[0-9]+ [0-9.]+ [0-9]+$' "$work/$name.$side.$i.err" | awk '{print $3}' | cksum)
        [ "$got" = "$want" ] ||
            { echo "$name run $i ($side): the 100000 log lines are not all there in order" >&2; exit 1; }
    done
}

# Synthetic: a plain trace whose RUN step logs 100,000 lines, printed at full speed.
trace="$work/trace.plain"
{
    printf '#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n'
    printf '#2 [1/2] FROM docker.io/local/busybox:1\n#2 CACHED\n\n'
    printf '#3 [2/2] RUN seq 1 100000\n'
    seq 1 100000 | awk '{printf "#3 %.3f %d\n", NR / 20000, $1}'
    printf '#3 DONE 5.0s\n\n#4 exporting to image\n#4 exporting layers done\n#4 DONE 0.1s\n'
} >"$trace"
echo "synthetic trace: $(wc -l <"$trace") lines, $(wc -c <"$trace") bytes"
run_pair synthetic same_bytes sh -c 'cat "$1" >&2; echo done' fake "$trace"
# Paced: the same output, then the build goes on for 2 s (as a build does after its log):
# decoding overlaps, what remains is buildprof's fixed cost (start, store, exit).
run_pair paced same_bytes sh -c 'cat "$1" >&2; echo done; sleep 2' fake "$trace"

if [ "$skip_engine" = 0 ]; then
    ctx="$work/ctx"
    mkdir -p "$ctx"
    cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM local/busybox:1
RUN i=0; while [ $i -lt 100 ]; do seq $((i*1000+1)) $((i*1000+1000)); sleep 0.04; i=$((i+1)); done
DOCKERFILE
    export DOCKER_BUILDKIT=1
    run_pair engine same_log_lines /usr/bin/docker build --no-cache --progress=plain --network none "$ctx"
fi
echo "builds recorded: $("$bin" builds --json | grep -c '"id"')"
