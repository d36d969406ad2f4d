#!/usr/bin/env bash
# Stops the Docker Engine that .ci/docker-up.sh started (BUILDPROF_DOCKER_DIR) and removes its
# temp dir. Safe to call twice or when nothing was started.
set -uo pipefail

dir=${BUILDPROF_DOCKER_DIR:-}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
pid=$(cat "$dir/dockerd.launch.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "docker-down: stopping dockerd ($pid)" >&2
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
# Layers may still be mounted if dockerd died hard.
grep " $dir/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf "$dir"
