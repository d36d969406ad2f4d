#!/usr/bin/env bash
# The captures behind current-engine/overlay2-store/ (engine started with
# BUILDPROF_ENGINE_STORE=overlay2 the repo's .ci/current-engine-up.sh, variables eval'ed).
set -euo pipefail
cd "$(dirname "$0")"
export CAPTURE_OUT=${CAPTURE_OUT:-$PWD/out/overlay2-store}
for f in rawjson plain; do ./capture.sh sequence $f local warm 1; done
for f in rawjson plain; do WITH_BASE_UPDATE=0 ./capture.sh sequence $f inline cold 1; done
# Registry cache export: refused by buildx on the classic store (exit 1).
for f in rawjson plain; do
  ./capture.sh build $f max max cold seed main 1 proj:max -- \
    --cache-to "type=registry,ref=$BUILDPROF_REGISTRY/proj:cache-max,mode=max" \
    --cache-from "type=registry,ref=$BUILDPROF_REGISTRY/proj:cache-max"
done
# Engine API, tar body, no session (api/*.request.txt has each query).
S=${DOCKER_HOST#unix://}; A=$CAPTURE_OUT/api; mkdir -p "$A"
(cd ../project && tar -c --exclude=./tmp .) >/tmp/ctx.tar
BA=$(python3 -c "import urllib.parse,json;print(urllib.parse.quote(json.dumps({'BASE':'$BUILDPROF_REGISTRY/busybox:1'})))")
api() { curl -sS --unix-socket "$S" -X POST -H 'Content-Type: application/x-tar' --data-binary @/tmp/ctx.tar \
  "http://localhost/v1.45/build?$2" -D "$A/$1.headers.txt" -o "$A/$1.jsonl"; }
api overlay2-store_version2_warm "version=2&t=proj:api&networkmode=host&buildargs=$BA"
api overlay2-store_version2_nocache "version=2&t=proj:api&networkmode=host&buildargs=$BA&nocache=1"
docker builder prune -af >/dev/null; docker image rm -f proj:api >/dev/null
api overlay2-store_version2_cold "version=2&t=proj:api&networkmode=host&buildargs=$BA"
rm -f /tmp/ctx.tar
