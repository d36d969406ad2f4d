#!/usr/bin/env bash
# Stops the engine that .ci/current-engine-up.sh started (BUILDPROF_CURRENT_ENGINE_DIR): dockerd,
# its managed containerd and shims, and the registry; unmounts leftovers and removes the temp
# dir. Leaves the package cache alone. Safe to call twice or when nothing was started.
set -euo pipefail

dir=${BUILDPROF_CURRENT_ENGINE_DIR:-}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
# Never remove a directory that current-engine-up.sh did not make.
if [ ! -e "$dir/.buildprof-current-engine" ]; then
    echo "current-engine-down: $dir is not an engine dir of current-engine-up.sh; left alone" >&2
    exit 1
fi

stop() { # name pid
    local name=$1 pid=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    echo "current-engine-down: stopping $name ($pid)" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}
pid_of() { cat "$1" 2>/dev/null || true; }

# dockerd stops its managed containerd on TERM; the rest is for a dockerd that died hard.
stop dockerd "$(pid_of "$dir/dockerd.launch.pid")"
stop containerd "$(pid_of "$dir/exec/containerd/containerd.pid")"
stop registry "$(pid_of "$dir/registry.pid")"
# Shims or anything else the engine left running (their command lines name its exec or data root).
for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    if [ "$pid" = $$ ] || [ "$pid" = "$PPID" ]; then continue; fi
    cmd=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline" || true)
    case $cmd in
        *" $dir/exec/"* | *" $dir/root/"*)
            # A shim's children are container inits: end them first, or they outlive the shim.
            for child in /proc/[0-9]*; do
                if [ "$(awk '{print $4}' "$child/stat" 2>/dev/null)" = "$pid" ]; then
                    kill -KILL "${child#/proc/}" 2>/dev/null || true
                fi
            done
            stop "leftover ${cmd:0:60}" "$pid"
            ;;
    esac
done

# Layers and snapshots may still be mounted if something died hard.
grep " $dir/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$dir"
