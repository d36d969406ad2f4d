#!/usr/bin/env bash
# Writes the machine-readable output of every command on the demo database into OUTDIR, one
# file per command, so two builds of buildprof can be compared byte for byte (`diff -r`).
#   .ci/json-outputs.sh target/debug/buildprof /tmp/json-after
# Times that depend on the clock (a report's generated_at) are masked; everything else is as
# printed. The demo database is made in a scratch folder from sample-traces/.
set -euo pipefail

bin=$(realpath "$1")
out=$(realpath -m "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$bin" demo --dir "$repo/sample-traces" >/dev/null
db=buildprof-demo/demo.db
run() {
    local name=$1
    shift
    "$bin" --db "$db" "$@" >"$out/$name" 2>"$out/$name.stderr" || echo "exit $?" >>"$out/$name.stderr"
}
mask_generated() { sed -E 's/"generated_at": "[^"]*"/"generated_at": "[masked]"/' "$1" >"$1.tmp" && mv "$1.tmp" "$1"; }

run builds.json builds --json
run builds-min.json builds --json --label strategy=min
run builds-window.json builds --json --since 2026-11-22 --until 2026-11-23 --limit 5
ids=$("$bin" --db "$db" builds --json | python3 -c 'import json,sys; print("\n".join(b["id"] for b in json.load(sys.stdin)))')
for id in $ids; do
    run "show-$id.json" show "$id" --json
    run "busts-$id.json" busts "$id" --json
    run "metrics-$id.json" metrics "$id" --json
    run "summary-$id.json" summary "$id" --json
done
run compare-strategy.json compare --by strategy --json
run compare-strategy-cost.json compare --by strategy --cost --json
run compare-cache-mode-hit.json compare --by cache_mode --metric hit_ratio --json
run compare-builder-pull.json compare --by builder --metric pull --include-failed --json
run steps.json steps --json
run steps-all.json steps --all --limit 0 --json
run trends-week.json trends --json
run trends-day.json trends --by day --json --label strategy=max
run busts.json busts --json
run busts-all.json busts --limit 0 --json
run metrics.json metrics --json
run summary-last.json summary --last --json
run summary-baseline.json summary --last --baseline-label strategy=max --baseline-builds 3 --json

"$bin" --db "$db" report --since 2026-11-16 --until 2026-11-23 --format json --out report >/dev/null
mask_generated report/report.json
cp report/report.json "$out/report.json"

for t in builds steps labels step_inputs cache_operations cache_layers sources; do
    run "export-$t.jsonl" export --format jsonl --table "$t" --out -
    run "export-$t.csv" export --format csv --table "$t" --out -
done
# When each build was stored depends on when this script ran.
python3 - "$out" <<'PY'
import csv, io, json, sys, pathlib
for f in pathlib.Path(sys.argv[1]).glob("export-*"):
    if f.suffix == ".jsonl":
        rows = [json.loads(l) for l in f.read_text().splitlines() if l]
        for r in rows:
            if "ingested_at" in r:
                r["ingested_at"] = "[masked]"
        f.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    elif f.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(f.read_text())))
        if rows and "ingested_at" in rows[0]:
            i = rows[0].index("ingested_at")
            for r in rows[1:]:
                r[i] = "[masked]"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        f.write_text(buf.getvalue())
PY

"$bin" --db job.db ingest --json "$repo/sample-traces/app1-series/010-min-web-iter3.rawjson" \
    "$repo/sample-traces/engine-20.10/05-test-failure.ci.log" >"$out/ingest.json" 2>"$out/ingest.json.stderr"
"$bin" merge --into team.db job.db --json --label repo=demo >"$out/merge.json" 2>"$out/merge.json.stderr"
sed -i "s#$work/##g" "$out/merge.json"
echo "wrote $(ls "$out" | wc -l) files to $out"
