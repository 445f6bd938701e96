#!/usr/bin/env bash
# Installs custody's six step binaries, for a shell-only CI (and for action.yml):
# from the project's release assets, each checked against its published sha256, or
# built from source with cargo.
#
# Usage:
#   install.sh [--version VERSION] [--to DIR] [--method auto|release|source]
#              [--target TRIPLE] [--sha256 HEX]
#
#   --version  the release to install (default: this checkout's workspace version)
#   --to       where the binaries go (default: $CUSTODY_INSTALL_DIR, else ~/.custody/bin)
#   --method   auto (default): the release asset, else build from source;
#              release: the asset or fail; source: cargo build from this checkout
#   --target   the asset's Rust target triple (default: detected from uname)
#   --sha256   the asset's expected sha256 (pin it); default: the published
#              custody-<target>.tar.gz.sha256 next to the asset
#
# Assets are fetched from $CUSTODY_DOWNLOAD_URL/v<version>/ (default: the GitHub
# releases of custody-ci/custody); a mirror can be given there.
#
# Exit status: 0 installed; 1 an asset did not match its sha256 (nothing installed);
# 2 bad usage; 4 download failed and no fallback was allowed, or cargo is missing.
# Prints the directory holding the binaries on stdout (last line).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
steps=(collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi)
say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { local code=$1; shift; say "$*"; exit "$code"; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
fetch() { # URL FILE
    if command -v curl >/dev/null; then
        curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
    else
        wget --quiet --tries=3 --output-document="$2" "$1"
    fi
}

version='' to=${CUSTODY_INSTALL_DIR:-$HOME/.custody/bin} method=auto target='' pinned=''
while (($#)); do
    case $1 in
        --version) version=${2#v}; shift 2 ;;
        --to) to=$2; shift 2 ;;
        --method) method=$2; shift 2 ;;
        --target) target=$2; shift 2 ;;
        --sha256) pinned=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die 2 "unknown option \`$1\` (see --help)" ;;
    esac
done
case $method in auto | release | source) ;; *) die 2 "--method must be auto, release or source, not \`$method\`" ;; esac
if [[ -z "$version" && -f "$root/Cargo.toml" ]]; then
    version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

detect_target() {
    local os arch
    os=$(uname -s) arch=$(uname -m)
    case $arch in x86_64 | amd64) arch=x86_64 ;; arm64 | aarch64) arch=aarch64 ;;
        *) return 1 ;; esac
    case $os in
        Linux) echo "$arch-unknown-linux-gnu" ;;
        Darwin) echo "$arch-apple-darwin" ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT) echo "$arch-pc-windows-msvc" ;;
        *) return 1 ;;
    esac
}

# Puts the binaries from $1 into $to, all six or none.
place() {
    local from=$1 exe=$2 step
    for step in "${steps[@]}"; do
        [[ -f "$from/$step$exe" ]] || die 1 "the asset has no \`$step$exe\`: it is not a custody release"
    done
    mkdir -p "$to"
    for step in "${steps[@]}"; do
        cp "$from/$step$exe" "$to/.$step$exe.new"
        chmod +x "$to/.$step$exe.new"
        mv -f "$to/.$step$exe.new" "$to/$step$exe"
    done
}

from_release() {
    [[ -n "$version" ]] || { say "no --version given and no checkout to read it from"; return 4; }
    target=${target:-$(detect_target)} || { say "no release asset for $(uname -s) $(uname -m)"; return 4; }
    local exe='' asset=custody-$target.tar.gz
    if [[ $target == *windows* ]]; then exe=.exe asset=custody-$target.zip; fi
    local base=${CUSTODY_DOWNLOAD_URL:-https://github.com/custody-ci/custody/releases/download}
    local url=$base/v$version/$asset
    say "downloading $url"
    fetch "$url" "$work/$asset" || { say "could not download \`$url\`"; return 4; }
    local expected=$pinned
    if [[ -z "$expected" ]]; then
        fetch "$url.sha256" "$work/$asset.sha256" || { say "could not download \`$url.sha256\`: refusing an unchecked asset"; return 4; }
        expected=$(cut -d' ' -f1 <"$work/$asset.sha256")
    fi
    local actual
    actual=$(sha256 "$work/$asset")
    if [[ "$actual" != "$expected" ]]; then
        die 1 "\`$asset\` has sha256 $actual, expected $expected: not installed
hint: the download was corrupted or tampered with; retry, or use --method source"
    fi
    mkdir "$work/unpacked"
    if [[ -n "$exe" ]]; then unzip -q "$work/$asset" -d "$work/unpacked"; else tar -xzf "$work/$asset" -C "$work/unpacked"; fi
    place "$work/unpacked/custody-$target" "$exe"
    say "installed custody $version ($target, sha256 $actual) into $to"
}

from_source() {
    [[ -f "$root/Cargo.toml" && -d "$root/crates" ]] || die 4 "no custody checkout at \`$root\` to build from"
    command -v cargo >/dev/null || die 4 "cargo is not installed
hint: install Rust (https://rustup.rs), or use --method release"
    say "building from source in $root (cargo build --release)"
    (cd "$root" && cargo build --release --locked --bins >&2)
    local exe=''
    [[ "$(uname -s)" == MINGW* || "$(uname -s)" == MSYS* ]] && exe=.exe
    place "${CARGO_TARGET_DIR:-$root/target}/release" "$exe"
    say "installed custody $version (built from source) into $to"
}

case $method in
    source) from_source ;;
    release) from_release || exit $? ;;
    auto)
        status=0
        from_release || status=$?
        if ((status == 4)); then
            say "falling back to building from source"
            from_source
        elif ((status != 0)); then
            exit "$status"
        fi
        ;;
esac
(cd "$to" && pwd)
