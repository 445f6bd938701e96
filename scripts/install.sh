#!/bin/sh
# Installs custody's six step binaries, for a shell-only CI (and for action.yml):
# from the project's release assets, each checked against its published sha256, or
# built from source with cargo.
#
# Usage:
#   install.sh [--version VERSION] [--to DIR] [--method auto|release|source|pip]
#              [--target TRIPLE] [--sha256 HEX]
#
#   --version  the release to install (default: this checkout's workspace version)
#   --to       where the binaries go (default: $CUSTODY_INSTALL_DIR, else ~/.custody/bin)
#   --method   auto (default): the release asset, else build from source;
#              release: the asset or fail; source: cargo build from this checkout;
#              pip: the `custody-ci` wheel of that version from PyPI (or pip's
#              configured index, PIP_INDEX_URL), with the Python in $PYTHON, else
#              python3/python
#   --target   the asset's Rust target triple (default: detected from uname)
#   --sha256   the asset's expected sha256 (pin it); default: the published
#              custody-<target>.tar.gz.sha256 next to the asset. With --method pip:
#              the wheels' sha256, comma-separated (one per platform), checked by
#              pip's --require-hashes
#
# Assets are fetched from $CUSTODY_DOWNLOAD_URL/v<version>/ (default: the GitHub
# releases of custody-ci/custody); a mirror can be given there.
#
# Exit status: 0 installed; 1 an asset did not match its sha256 (nothing installed);
# 2 bad usage; 4 download failed and no fallback was allowed, or cargo is missing.
# Prints the directory holding the binaries on stdout (last line).
#
# POSIX sh (no arrays, no `local`, no `[[`): macOS's bash 3.2, Git Bash, dash and
# BusyBox sh run it alike (crates/custody-e2e/tests/it/shells.rs).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
steps="collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi"
say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { status=$1; shift; say "$*"; exit "$status"; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
fetch() { # URL FILE
    if command -v curl >/dev/null; then
        curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
    else
        wget --quiet --tries=3 --output-document="$2" "$1"
    fi
}

version='' to=${CUSTODY_INSTALL_DIR:-$HOME/.custody/bin} method=auto target='' pinned=''
while [ $# -gt 0 ]; do
    case $1 in
        --version | --to | --method | --target | --sha256)
            [ $# -ge 2 ] || die 2 "\`$1\` needs a value (see --help)" ;;
    esac
    case $1 in
        --version) version=${2#v}; shift 2 ;;
        --to) to=$2; shift 2 ;;
        --method) method=$2; shift 2 ;;
        --target) target=$2; shift 2 ;;
        --sha256) pinned=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -eu$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die 2 "unknown option \`$1\` (see --help)" ;;
    esac
done
case $method in auto | release | source | pip) ;; *) die 2 "--method must be auto, release, source or pip, not \`$method\`" ;; esac
if [ -z "$version" ] && [ -f "$root/Cargo.toml" ]; then
    version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

detect_target() {
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

# Puts the binaries from $1 (with the suffix $2) into $to, all six or none.
place() {
    for step in $steps; do
        [ -f "$1/$step$2" ] || die 1 "the asset has no \`$step$2\`: it is not a custody release"
    done
    mkdir -p "$to"
    for step in $steps; do
        cp "$1/$step$2" "$to/.$step$2.new"
        chmod +x "$to/.$step$2.new"
        mv -f "$to/.$step$2.new" "$to/$step$2"
    done
}

from_release() {
    [ -n "$version" ] || { say "no --version given and no checkout to read it from"; return 4; }
    if [ -z "$target" ]; then
        target=$(detect_target) || { say "no release asset for $(uname -s) $(uname -m)"; return 4; }
    fi
    exe='' asset=custody-$target.tar.gz
    case $target in *windows*) exe=.exe asset=custody-$target.zip ;; esac
    base=${CUSTODY_DOWNLOAD_URL:-https://github.com/custody-ci/custody/releases/download}
    url=$base/v$version/$asset
    say "downloading $url"
    fetch "$url" "$work/$asset" || { say "could not download \`$url\`"; return 4; }
    expected=$pinned
    if [ -z "$expected" ]; then
        fetch "$url.sha256" "$work/$asset.sha256" || { say "could not download \`$url.sha256\`: refusing an unchecked asset"; return 4; }
        expected=$(cut -d' ' -f1 <"$work/$asset.sha256")
    fi
    actual=$(sha256 "$work/$asset")
    if [ "$actual" != "$expected" ]; then
        die 1 "\`$asset\` has sha256 $actual, expected $expected: not installed
hint: the download was corrupted or tampered with; retry, or use --method source"
    fi
    mkdir "$work/unpacked"
    if [ -n "$exe" ]; then unzip -q "$work/$asset" -d "$work/unpacked"; else tar -xzf "$work/$asset" -C "$work/unpacked"; fi
    place "$work/unpacked/custody-$target" "$exe"
    say "installed custody $version ($target, sha256 $actual) into $to"
}

from_source() {
    if [ ! -f "$root/Cargo.toml" ] || [ ! -d "$root/crates" ]; then
        die 4 "no custody checkout at \`$root\` to build from"
    fi
    command -v cargo >/dev/null || die 4 "cargo is not installed
hint: install Rust (https://rustup.rs), or use --method release"
    say "building from source in $root (cargo build --release)"
    (cd "$root" && cargo build --release --locked --bins >&2)
    exe=''
    case $(uname -s) in MINGW* | MSYS* | CYGWIN*) exe=.exe ;; esac
    place "${CARGO_TARGET_DIR:-$root/target}/release" "$exe"
    say "installed custody $version (built from source) into $to"
}

# The `custody-ci` wheel (maturin puts the six binaries in its scripts): pip installs
# it into a scratch directory, from which the binaries are placed like an asset's.
from_pip() {
    [ -n "$version" ] || die 2 "--method pip needs --version (no checkout to read it from)"
    python=${PYTHON:-}
    if [ -z "$python" ]; then
        if command -v python3 >/dev/null; then python=python3
        elif command -v python >/dev/null; then python=python
        else die 4 "no Python to run pip with
hint: install Python 3.8+ (or set PYTHON), or use --method release"
        fi
    fi
    requirement="custody-ci==$version" require_hashes=''
    for hex in $(printf '%s' "$pinned" | tr ',' ' '); do
        requirement="$requirement --hash=sha256:$hex" require_hashes=--require-hashes
    done
    printf '%s\n' "$requirement" >"$work/requirements.txt"
    say "pip install $requirement"
    if ! "$python" -m pip install --disable-pip-version-check --no-input --no-cache-dir \
        --no-deps --only-binary :all: ${require_hashes:+"$require_hashes"} \
        --target "$work/pip" -r "$work/requirements.txt" >"$work/pip.log" 2>&1; then
        cat "$work/pip.log" >&2
        if grep -q 'DO NOT MATCH THE HASHES' "$work/pip.log"; then
            die 1 "custody-ci $version does not match --sha256: not installed
hint: the download was corrupted or tampered with, or --sha256 names another version's wheels"
        fi
        die 4 "pip could not install custody-ci $version (above)"
    fi
    exe='' scripts=$work/pip/bin
    case $(uname -s) in MINGW* | MSYS* | CYGWIN*) exe=.exe scripts=$work/pip/Scripts ;; esac
    place "$scripts" "$exe"
    say "installed custody $version (custody-ci via pip${require_hashes:+, hash-checked}) into $to"
}

case $method in
    source) from_source ;;
    pip) from_pip ;;
    release) from_release || exit $? ;;
    auto)
        status=0
        from_release || status=$?
        if [ "$status" -eq 4 ]; then
            say "falling back to building from source"
            from_source
        elif [ "$status" -ne 0 ]; then
            exit "$status"
        fi
        ;;
esac
(cd "$to" && pwd)
