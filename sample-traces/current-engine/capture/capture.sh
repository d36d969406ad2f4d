#!/usr/bin/env bash
# Captures buildx progress (rawjson and plain) of ../project on the engine started by the repo's
# .ci/current-engine-up.sh (containerd store), into $CAPTURE_OUT (default: a fresh ./out).
# Needs the variables that script prints (DOCKER_HOST, DOCKER_CONFIG, BUILDPROF_REGISTRY,
# BUILDPROF_CURRENT_ENGINE_DIR) in the environment.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
proj=${CAPTURE_PROJECT:-$here/../project}
out=${CAPTURE_OUT:-$here/out}
R=$BUILDPROF_REGISTRY
regrepo=$BUILDPROF_CURRENT_ENGINE_DIR/registry/docker/registry/v2/repositories/proj
mkdir -p "$out"
manifest=$out/manifest.tsv
commands=$out/COMMANDS.md
n=0
if [ ! -f "$manifest" ]; then
    printf 'file\tformat\tstrategy\tcache_mode\tbuilder\tchange\tbranch\texit_code\twall_seconds\trep\tstarted_utc\tdockerfile\n' >"$manifest"
fi
n=$(($(wc -l <"$manifest") - 1)) # numbering continues across invocations

reset_project() {
    echo "main v1" >"$proj/src/main.txt"
    echo "port=8080" >"$proj/config/app.conf"
}
change_project() { # src|config|base|seed
    case $1 in
        src) echo "main v2" >"$proj/src/main.txt" ;;
        config) echo "port=9090" >"$proj/config/app.conf" ;;
    esac
}
# A fresh runner: no build cache and none of the images built before (the bases stay).
cold_builder() {
    docker image rm -f proj:max proj:min proj:local proj:branch "$R/proj:inline" >/dev/null 2>&1 || true
    docker builder prune -af >/dev/null
}
quote() { # shell words, quoted only where needed
    local a words=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then words+=("$a"); else words+=("$(printf '%q' "$a")"); fi
    done
    echo "${words[*]}"
}
reset_registry() { rm -rf "$regrepo"; }

# build FORMAT STRATEGY CACHE_MODE BUILDER CHANGE BRANCH REP TAG -- extra buildx args
build() {
    local format=$1 strategy=$2 cache_mode=$3 builder=$4 change=$5 branch=$6 rep=$7 tag=$8
    shift 9
    n=$((n + 1))
    local dockerfile=${DOCKERFILE:-Dockerfile} variant=
    [ "$dockerfile" = Dockerfile ] || variant=-${dockerfile#Dockerfile.}
    local ext=rawjson
    [ "$format" = plain ] && ext=plain.log
    local name
    name=$(printf '%03d-%s%s-%s-%s-%s-r%s-%s.%s' "$n" "$strategy" "$variant" "$builder" "$branch" "$format" "$rep" "$change" "$ext")
    local base=$R/busybox:1
    [ "${BASE_VERSION:-1}" = 2 ] && base=$R/busybox:2
    [ "$builder" = cold ] && cold_builder
    local cmd=(docker buildx build --progress="$format" --network host --build-arg "BASE=$base"
        --metadata-file "$out/${name%%.*}.metadata.json" -t "$tag")
    [ "$dockerfile" = Dockerfile ] || cmd+=(-f "$dockerfile")
    cmd+=("$@" .)
    local started status t0 t1
    started=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    t0=$(date +%s.%N)
    set +e
    (cd "$proj" && "${cmd[@]}") 2>"$out/$name" >"$out/${name%%.*}.stdout"
    status=$?
    set -e
    t1=$(date +%s.%N)
    [ -s "$out/${name%%.*}.stdout" ] || rm -f "$out/${name%%.*}.stdout"
    local wall
    wall=$(echo "$t1 - $t0" | bc | sed 's/^\./0./')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n' "$name" "$format" "$strategy" "$cache_mode" \
        "$builder" "$change" "$branch" "$status" "$wall" "$rep" "$started" "$dockerfile" >>"$manifest"
    {
        echo "### $name"
        [ "$builder" = cold ] && echo "(cold: \`docker image rm -f <built tags>; docker builder prune -af\` first)"
        echo '```'
        echo "cd $proj && $(quote "${cmd[@]}" | sed "s|$R|\$REG|g; s|$out/|\$OUT/|g")"
        echo '```'
    } >>"$commands"
    echo "$name exit=$status wall=$wall" >&2
}

# sequence FORMAT STRATEGY BUILDER REP: seed, src change, config change (and base update).
sequence() {
    local format=$1 strategy=$2 builder=$3 rep=$4
    local flags=() cache_mode=- tag=proj:$strategy
    case $strategy in
        max | min)
            cache_mode=$strategy
            flags=(--cache-to "type=registry,ref=$R/proj:cache-$strategy,mode=$strategy"
                --cache-from "type=registry,ref=$R/proj:cache-$strategy") ;;
        inline)
            tag=$R/proj:inline
            flags=(--cache-to type=inline --cache-from "type=registry,ref=$R/proj:inline" --push) ;;
        local) ;;
    esac
    reset_project
    reset_registry
    [ "$builder" = warm ] && cold_builder # a warm builder starts from nothing once
    local warm_builder=$builder
    BASE_VERSION=1 build "$format" "$strategy" "$cache_mode" "$warm_builder" seed main "$rep" "$tag" -- "${flags[@]}"
    change_project src
    BASE_VERSION=1 build "$format" "$strategy" "$cache_mode" "$warm_builder" src main "$rep" "$tag" -- "${flags[@]}"
    change_project config
    BASE_VERSION=1 build "$format" "$strategy" "$cache_mode" "$warm_builder" config main "$rep" "$tag" -- "${flags[@]}"
    if [ "${WITH_BASE_UPDATE:-0}" = 1 ]; then
        BASE_VERSION=2 build "$format" "$strategy" "$cache_mode" "$warm_builder" base main "$rep" "$tag" -- "${flags[@]}"
    fi
    reset_project
}

# branch FORMAT REP: main seeds cache-max; a new branch builds with its own (missing) cache ref
# first and main's as the fallback, then builds again once its own cache exists.
branch() {
    local format=$1 rep=$2
    reset_project
    reset_registry
    build "$format" max max cold seed main "$rep" proj:max -- \
        --cache-to "type=registry,ref=$R/proj:cache-max,mode=max" --cache-from "type=registry,ref=$R/proj:cache-max"
    local flags=(--cache-from "type=registry,ref=$R/proj:cache-feature-x"
        --cache-from "type=registry,ref=$R/proj:cache-max"
        --cache-to "type=registry,ref=$R/proj:cache-feature-x,mode=max")
    change_project src
    build "$format" branch max cold src feature-x "$rep" proj:branch -- "${flags[@]}"
    change_project config
    build "$format" branch max cold config feature-x "$rep" proj:branch -- "${flags[@]}"
    reset_project
}

"$@"
