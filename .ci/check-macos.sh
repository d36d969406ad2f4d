#!/usr/bin/env bash
# Type-checks the library crates for macOS (x86_64-apple-darwin) on this Linux machine:
# `cargo check` of collector, analyzer, reports, export and live for that target.
#
# What it proves: the Rust code of those crates (their cfg gates, the std and libc APIs they
# use) compiles for macOS. What it cannot: there is no macOS SDK here, so the C that some
# dependencies build (SQLite in rusqlite's `bundled`, zstd for Parquet, psm) is compiled by this
# machine's gcc as Linux objects through a wrapper that drops the Apple-only flags. `cargo
# check` links nothing, so those objects are never used; those C libraries build on macOS
# upstream. Needs the target's standard library: `rustup target add x86_64-apple-darwin`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx x86_64-apple-darwin; then
    echo "check-macos: adding the x86_64-apple-darwin standard library" >&2
    rustup target add x86_64-apple-darwin
fi
wrapper_dir=$(mktemp -d)
trap 'rm -rf "$wrapper_dir"' EXIT
cat >"$wrapper_dir/cc-for-check" <<'SH'
#!/usr/bin/env bash
# gcc without the Apple-only flags cc-rs passes for a darwin target (see check-macos.sh).
args=()
skip=0
for a in "$@"; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    case "$a" in
        -arch) skip=1 ;;
        -mmacosx-version-min=*|-mmacos-version-min=*) ;;
        *) args+=("$a") ;;
    esac
done
exec gcc "${args[@]}"
SH
chmod +x "$wrapper_dir/cc-for-check"
export CC_x86_64_apple_darwin="$wrapper_dir/cc-for-check"
export AR_x86_64_apple_darwin=ar
cargo check --locked --target x86_64-apple-darwin \
    -p buildprof-collector -p buildprof-analyzer -p buildprof-reports -p buildprof-export \
    -p buildprof-live
echo "check-macos: the library crates type-check for x86_64-apple-darwin"
