#!/usr/bin/env bash
# The capture matrix behind current-engine/ (run with the current-engine-up.sh variables set).
set -euo pipefail
cd "$(dirname "$0")"
export WITH_BASE_UPDATE=1
for s in max min; do
  for f in rawjson plain; do
    for r in 1 2; do ./capture.sh sequence $f $s cold $r; done
  done
done
for f in rawjson plain; do ./capture.sh sequence $f inline cold 1; done
for f in rawjson plain; do ./capture.sh sequence $f local warm 1; done
for f in rawjson plain; do ./capture.sh sequence $f max warm 1; done
for f in rawjson plain; do ./capture.sh sequence $f local cold 1; done
for f in rawjson plain; do ./capture.sh branch $f 1; done
# Supplementary: a test stage built on deps (lazy cache miss with mode=min), and a failing RUN.
for f in rawjson plain; do
  for s in min max; do WITH_BASE_UPDATE=0 DOCKERFILE=Dockerfile.teststage ./capture.sh sequence $f $s cold 1; done
done
for f in rawjson plain; do DOCKERFILE=Dockerfile.fail ./capture.sh build $f local - cold fail main 1 proj:local --; done
# Engine API on the containerd store (tar body, no session): current-engine/api/, made with curl
# exactly like run-overlay2.sh's api() (containerd-store_version2 fails; version1 works).
