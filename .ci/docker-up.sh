#!/usr/bin/env bash
# Starts a private Docker Engine for the engine tests and prints the variables to use it.
#
# Installs Debian's docker.io and busybox-static when missing, starts dockerd as root without
# the bridge network or iptables, with its data root, exec root and socket in a fresh temp dir,
# waits for it, and imports a busybox base image (`local/busybox:1`) since no registry is
# reachable. Prints `export DOCKER_HOST=...` lines for `eval`; .ci/docker-down.sh stops it.
# The temp dir is made under $TMPDIR (default /tmp): `TMPDIR=/dev/shm` keeps the engine's
# storage in memory, as benches/why_inputs.sh suggests to take disk noise out of its timings.
#   docker_env=$(.ci/docker-up.sh) && eval "$docker_env"; trap .ci/docker-down.sh EXIT
set -euo pipefail

log() { echo "docker-up: $*" >&2; }

if ! command -v dockerd >/dev/null || [ ! -x /usr/bin/docker ] || [ ! -x /bin/busybox ]; then
    log "installing docker.io and busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends docker.io busybox-static >&2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/buildprof-docker.XXXXXX")
sock="$dir/docker.sock"
host="unix://$sock"
# The 20.10 client from docker.io; any client works for these calls.
docker=(/usr/bin/docker -H "$host")

log "starting dockerd in $dir"
dockerd --iptables=false --ip6tables=false --bridge=none \
    --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "$host" >"$dir/dockerd.log" 2>&1 &
echo $! >"$dir/dockerd.launch.pid"
# Any failure from here on stops the daemon again: nothing is left running.
trap 'status=$?; [ $status -eq 0 ] || BUILDPROF_DOCKER_DIR=$dir "$(dirname "$0")/docker-down.sh"' EXIT

for _ in $(seq 1 120); do
    if "${docker[@]}" version >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$(cat "$dir/dockerd.launch.pid")" 2>/dev/null; then
        log "dockerd exited; its log:"
        tail -n 30 "$dir/dockerd.log" >&2
        exit 1
    fi
    sleep 0.5
done
if ! "${docker[@]}" version >/dev/null 2>&1; then
    log "dockerd did not answer within 60 s; its log:"
    tail -n 30 "$dir/dockerd.log" >&2
    exit 1
fi

log "importing local/busybox:1 from busybox-static"
rootfs="$dir/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/root"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | "${docker[@]}" import -c 'ENV PATH=/bin' - local/busybox:1 >/dev/null
rm -rf "$rootfs"

log "engine ready at $host ($("${docker[@]}" version --format '{{.Server.Version}}'))"
echo "export DOCKER_HOST=$host"
echo "export BUILDPROF_DOCKER_DIR=$dir"
