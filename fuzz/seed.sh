#!/usr/bin/env bash
# Seeds each fuzz target's corpus (fuzz/corpus/<target>/, not committed) from sample-traces/.
# Safe to re-run: existing corpus entries are kept. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")"
S=../sample-traces
mkdir -p corpus/{rawjson,plain,moby,dockerbuild,dockerbuild_members,ingest}
cp $S/app1-series/*.rawjson $S/busybox-buildx0.13/*rawjson* corpus/rawjson/
cp $S/app1-series/*.plain.log $S/engine-20.10/*.log $S/busybox-buildx0.13/*plain* corpus/plain/
cp $S/engine-20.10/*.api.jsonl $S/busybox-buildx0.13/*.jsonstream $S/external/batect_* corpus/moby/
cp $S/external/*.dockerbuild corpus/dockerbuild/
cp corpus/rawjson/* corpus/plain/* corpus/moby/* corpus/dockerbuild/* corpus/ingest/

# dockerbuild_members inputs from the exports and rawjson traces, and small hand-made seeds for
# every target (short inputs mutate faster than the 50 kB traces).
python3 seed.py "$S" corpus
echo "seeded: $(ls corpus/* | wc -l) files"
