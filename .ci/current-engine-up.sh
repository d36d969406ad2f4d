#!/usr/bin/env bash
# Starts a private *current* Docker Engine (what users run) and a local registry, and prints the
# variables to use them.
#
# Debian 12's engine (.ci/docker-up.sh) is 20.10; this one is Debian 13 (trixie)'s docker.io 26.1
# with its managed containerd 1.7, the buildx 0.13 plugin and docker-registry 2.8, for what
# 20.10 cannot do: registry cache export (`mode=max|min`), rawjson progress, the containerd image
# store. The trixie packages are fetched with `apt-get download` through a private apt state
# (the machine's own apt lists, config hooks and pinning are untouched) and unpacked with
# `dpkg -x` into a prefix cached in ${BUILDPROF_ENGINE_CACHE:-/var/cache/buildprof-engine}, so
# a second run downloads nothing. runc is Debian 12's (trixie's needs glibc 2.38); the host also
# gets busybox-static (base images) and curl when they are missing.
#
# dockerd runs as root without the bridge network or iptables (build with `--network host` or
# `none`), with data root, exec root, socket, daemon.json, registry storage and a private
# DOCKER_CONFIG (holding the buildx plugin) in a fresh temp dir. Besides its Unix socket, dockerd
# listens on plain TCP on a free 127.0.0.1 port (BUILDPROF_CURRENT_DOCKER_TCP), as a remote
# engine without TLS is reached (a CI job's docker:dind service). Base images: `local/busybox:1`
# and a different `local/busybox:2` (to simulate a base image update), both also pushed to the
# registry as $BUILDPROF_REGISTRY/busybox:{1,2}. Any failure prints the logs and exits non-zero.
#
# Environment:
#   BUILDPROF_ENGINE_STORE    containerd (default: containerd image store) or overlay2 (classic)
#   BUILDPROF_REGISTRY_PORT   registry port on 127.0.0.1 (default 5000; a free one if taken)
#   BUILDPROF_ENGINE_CACHE    package cache dir (default /var/cache/buildprof-engine)
#   BUILDPROF_ENGINE_REFRESH  set to 1 to fetch the packages again
#   BUILDPROF_ENGINE_TIMEOUT  seconds to wait for dockerd (default 90)
#   BUILDPROF_DEBIAN_MIRROR   Debian archive for the trixie packages (default http://deb.debian.org/debian)
# Prints `export VAR=...` lines for `eval`; .ci/current-engine-down.sh stops everything.
#   engine_env=$(.ci/current-engine-up.sh) && eval "$engine_env"; trap .ci/current-engine-down.sh EXIT
set -euo pipefail

log() { echo "current-engine-up: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
store=${BUILDPROF_ENGINE_STORE:-containerd}
cache=${BUILDPROF_ENGINE_CACHE:-/var/cache/buildprof-engine}
port=${BUILDPROF_REGISTRY_PORT:-5000}
timeout=${BUILDPROF_ENGINE_TIMEOUT:-90}
suite=trixie
mirror=${BUILDPROF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# dockerd 26 needs containerd (it starts it itself when `containerd` is on PATH) and tini
# (docker-init is tini-static). docker-cli (26.1) is only a fallback client (see below).
packages=(docker.io docker-cli docker-buildx docker-registry containerd tini)

case $store in
    containerd) daemon_json='{"features":{"containerd-snapshotter":true}}' ;;
    overlay2) daemon_json='{"storage-driver":"overlay2","features":{"containerd-snapshotter":false}}' ;;
    *) log "BUILDPROF_ENGINE_STORE must be containerd or overlay2, not '$store'"; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { log "must run as root (dockerd, dpkg, apt-get)"; exit 2; }

# Host tools from Debian 12 itself.
missing=()
command -v runc >/dev/null || missing+=(runc)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (Debian 12)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- Debian 13 packages, cached -------------------------------------------------------------
prefix=$cache/prefix
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9 # one fetch at a time; concurrent runs wait here
want="suite=$suite mirror=$mirror packages=${packages[*]}"
prefix_ok() { # dir: has everything this script runs
    local bin
    for bin in usr/sbin/dockerd usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/docker-init \
        usr/bin/docker-registry usr/bin/docker usr/libexec/docker/cli-plugins/docker-buildx; do
        [ -x "$1/$bin" ] || { log "$bin missing from $1"; return 1; }
    done
}
if [ "${BUILDPROF_ENGINE_REFRESH:-0}" != 1 ] && [ -f "$prefix/.buildprof-stamp" ] &&
    [ "$(head -n1 "$prefix/.buildprof-stamp")" = "$want" ] && prefix_ok "$prefix"; then
    log "using cached $suite packages in $prefix"
else
    log "fetching $suite packages: ${packages[*]}"
    apt_dir=$cache/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/apt.conf.d" \
        "$apt_dir/preferences.d"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
        >"$apt_dir/sources.list"
    # APT_CONFIG is read before the machine's apt.conf.d, so pointing Dir::Etc::parts at an empty
    # dir keeps the machine's hooks (appstream refresh, dpkg post-invoke) out; keep its proxy.
    {
        echo "Dir::Etc::parts \"$apt_dir/apt.conf.d\";"
        for key in Acquire::http::Proxy Acquire::https::Proxy; do
            value=$(apt-config dump "$key" | sed -n "s|^$key \"\\(.*\\)\";\$|\\1|p" | head -n1)
            [ -z "$value" ] || echo "$key \"$value\";"
        done
    } >"$apt_dir/apt.conf"
    apt_opts=(
        -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
        -o "Dir::Etc::preferences=$apt_dir/preferences" -o "Dir::Etc::preferencesparts=$apt_dir/preferences.d"
        -o Dir::State::status=/dev/null -o Acquire::Languages=none -o APT::Sandbox::User=root
    )
    export APT_CONFIG=$apt_dir/apt.conf
    apt-get -qq "${apt_opts[@]}" update >&2
    rm -rf "$cache/debs.new" "$cache/prefix.new"
    mkdir -p "$cache/debs.new" "$cache/prefix.new"
    (cd "$cache/debs.new" && apt-get -qq "${apt_opts[@]}" download "${packages[@]}" >&2)
    unset APT_CONFIG
    rm -rf "$apt_dir/lists" "$apt_dir/cache" # only needed for this download (~140 MB)
    for deb in "$cache"/debs.new/*.deb; do
        dpkg -x "$deb" "$cache/prefix.new"
    done
    # Debian 13's runc needs glibc 2.38: never use one from the prefix.
    rm -f "$cache/prefix.new/usr/sbin/runc" "$cache/prefix.new/usr/bin/runc"
    prefix_ok "$cache/prefix.new" || exit 1
    { echo "$want"; (cd "$cache/debs.new" && ls -1 ./*.deb); } >"$cache/prefix.new/.buildprof-stamp"
    rm -rf "$prefix" "$cache/debs"
    mv "$cache/prefix.new" "$prefix"
    mv "$cache/debs.new" "$cache/debs"
fi
flock -u 9
exec 9>&- # not inherited by the daemons

# --- dockerd ----------------------------------------------------------------------------------
dir=$(mktemp -d /tmp/buildprof-engine.XXXXXX)
touch "$dir/.buildprof-current-engine" # current-engine-down.sh only removes dirs with this mark
sock="$dir/docker.sock"
host="unix://$sock"
# Any failure from here on stops what was started: nothing is left running.
trap 'status=$?; [ $status -eq 0 ] || BUILDPROF_CURRENT_ENGINE_DIR=$dir "$here/current-engine-down.sh"' EXIT

show_logs() {
    for f in dockerd.log registry.log; do
        [ -s "$dir/$f" ] || continue
        log "--- tail of $f:"
        tail -n 40 "$dir/$f" >&2
    done
}

# The client: the image's Docker 28 client (what CI machines ship and users run; it negotiates
# API 1.45 with this engine and drives the buildx plugin), else trixie's 26.1 client.
if [ -x /usr/local/bin/docker ]; then
    cli=/usr/local/bin/docker
    path_export=
else
    cli=$prefix/usr/bin/docker
    path_export="$prefix/usr/bin"
fi
export DOCKER_CONFIG=$dir/docker-config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln "$prefix/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG/cli-plugins/docker-buildx" 2>/dev/null ||
    cp "$prefix/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
echo '{}' >"$DOCKER_CONFIG/config.json"
docker=("$cli" -H "$host")

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
tcp_port=$((20000 + RANDOM % 40000))
while port_taken "$tcp_port"; do tcp_port=$((20000 + RANDOM % 40000)); done
tcp_host=tcp://127.0.0.1:$tcp_port

echo "$daemon_json" >"$dir/daemon.json"
log "starting dockerd 26 ($store image store) in $dir"
# Prefix first on PATH: dockerd finds containerd, containerd-shim-runc-v2 and docker-init there,
# and the host's runc (/usr/sbin) after it.
PATH="$prefix/usr/sbin:$prefix/usr/bin:$PATH" "$prefix/usr/sbin/dockerd" \
    --config-file "$dir/daemon.json" --iptables=false --ip6tables=false --bridge=none \
    --data-root "$dir/root" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "$host" -H "$tcp_host" </dev/null >"$dir/dockerd.log" 2>&1 &
echo $! >"$dir/dockerd.launch.pid"

deadline=$((SECONDS + timeout))
until "${docker[@]}" version >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$dir/dockerd.launch.pid")" 2>/dev/null; then
        log "dockerd exited"
        show_logs
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        log "dockerd did not answer within $timeout s"
        show_logs
        exit 1
    fi
    sleep 0.5
done
driver=$("${docker[@]}" info --format '{{.Driver}} {{json .DriverStatus}}')
case $store in
    containerd) [[ $driver == *io.containerd.snapshotter* ]] ;;
    overlay2) [[ $driver == overlay2* ]] ;;
esac || { log "dockerd runs with '$driver', not the $store store"; show_logs; exit 1; }
"${docker[@]}" buildx version >/dev/null || { log "the buildx plugin does not run"; exit 1; }

# --- registry ---------------------------------------------------------------------------------
start_registry() {
    mkdir -p "$dir/registry"
    cat >"$dir/registry.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $dir/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    "$prefix/usr/bin/docker-registry" serve "$dir/registry.yml" </dev/null >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    for _ in $(seq 1 40); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
            return 0
        fi
        kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null || return 1
        sleep 0.25
    done
    return 1
}
registry_up=
for attempt in 1 2 3 4 5; do
    if port_taken "$port"; then
        old=$port
        while port_taken "$port"; do port=$((20000 + RANDOM % 40000)); done
        log "port $old is taken; registry uses $port"
    fi
    if start_registry; then
        registry_up=1
        break
    fi
    kill "$(cat "$dir/registry.pid")" 2>/dev/null || true
    log "registry did not start on $port (attempt $attempt)"
    tail -n 5 "$dir/registry.log" >&2 || true
    port=$((20000 + RANDOM % 40000))
done
[ -n "$registry_up" ] || { show_logs; exit 1; }
registry=127.0.0.1:$port

# --- base images ------------------------------------------------------------------------------
# local/busybox:1 as in docker-up.sh; local/busybox:2 differs by one file, a base image update.
rootfs="$dir/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/root"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
for version in 1 2; do
    log "importing local/busybox:$version from busybox-static, pushing $registry/busybox:$version"
    echo "$version" >"$rootfs/etc/buildprof-base-version"
    tar -C "$rootfs" -c . | "${docker[@]}" import -c 'ENV PATH=/bin' - "local/busybox:$version" >/dev/null
    "${docker[@]}" tag "local/busybox:$version" "$registry/busybox:$version"
    "${docker[@]}" push -q "$registry/busybox:$version" >/dev/null
done
rm -rf "$rootfs"

log "engine ready at $host (dockerd $("${docker[@]}" version --format '{{.Server.Version}}'), $store store; client $cli; registry $registry)"
q() { printf '%q' "$1"; }
echo "export DOCKER_HOST=$(q "$host")"
echo "export DOCKER_CONFIG=$(q "$DOCKER_CONFIG")"
echo "export BUILDPROF_CURRENT_DOCKER_TCP=$(q "$tcp_host")"
echo "export BUILDPROF_CURRENT_ENGINE_DIR=$(q "$dir")"
echo "export BUILDPROF_REGISTRY=$(q "$registry")"
echo "export BUILDPROF_ENGINE_STORE=$(q "$store")"
echo "export BUILDPROF_DOCKER_CLI=$(q "$cli")"
[ -z "$path_export" ] || echo "export PATH=$(q "$path_export"):\$PATH"
