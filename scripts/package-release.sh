#!/usr/bin/env bash
# Packages the six step binaries as a release asset, the form scripts/install.sh and
# action.yml download:
#
#   DIR/custody-<target>.tar.gz   (custody-<target>.zip for Windows targets)
#   DIR/custody-<target>.tar.gz.sha256   "<sha256>  custody-<target>.tar.gz"
#   DIR/SHA256SUMS                       one such line per asset (appended)
#
# Usage:
#   package-release.sh [--target TRIPLE] [--out DIR] [--bin-dir DIR]
#
#   --target   the Rust target triple (default: the host's); built with
#              `cargo build --release --locked --target TRIPLE` unless --bin-dir is given
#   --out      where the assets go (default: target/dist)
#   --bin-dir  package already-built binaries from DIR instead of building
#
# The project's release workflow (.github/workflows/release.yml) runs this once per
# target and attaches the assets to the GitHub release.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
steps=(collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi)
die() { printf 'package-release.sh: %s\n' "$*" >&2; exit 2; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

target='' out=$root/target/dist bin_dir=''
while (($#)); do
    case $1 in
        --target) target=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --bin-dir) bin_dir=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option \`$1\`" ;;
    esac
done
if [[ -z "$target" ]]; then
    target=$(rustc -vV | sed -n 's/^host: //p')
fi
[[ -n "$target" ]] || die "cannot tell the host's target triple: pass --target"
exe=''
[[ $target == *windows* ]] && exe=.exe

if [[ -z "$bin_dir" ]]; then
    (cd "$root" && cargo build --release --locked --bins --target "$target")
    bin_dir=$root/target/$target/release
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
name=custody-$target
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
for step in ${steps[@]+"${steps[@]}"}; do
    [[ -f "$bin_dir/$step$exe" ]] || die "\`$bin_dir/$step$exe\` is missing: build the workspace first (cargo build --release --bins)"
    cp "$bin_dir/$step$exe" "$stage/$name/"
done
cp "$root/LICENSE" "$root/README.md" "$stage/$name/"

if [[ -n "$exe" ]]; then
    asset=$name.zip
    rm -f "$out/$asset"
    if command -v zip >/dev/null; then
        (cd "$stage" && zip -qr "$out/$asset" "$name")
    else # Windows runners have 7-Zip, not zip
        (cd "$stage" && 7z a -tzip -bd "$out/$asset" "$name" >/dev/null)
    fi
else
    asset=$name.tar.gz
    # Stable bytes for the same binaries: sorted names, fixed owner and time.
    stable=()
    if tar --version 2>/dev/null | grep -q 'GNU tar'; then
        stable=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0)
    fi # macOS's bsdtar: same contents, its own ordering
    tar -C "$stage" ${stable[@]+"${stable[@]}"} -cf - "$name" | gzip -n >"$out/$asset"
fi
sum=$(sha256 "$out/$asset")
echo "$sum  $asset" >"$out/$asset.sha256"
touch "$out/SHA256SUMS"
grep -v "  $asset\$" "$out/SHA256SUMS" >"$stage/sums" || true
echo "$sum  $asset" >>"$stage/sums"
sort -k2 "$stage/sums" >"$out/SHA256SUMS"
echo "$out/$asset"
