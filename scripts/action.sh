#!/usr/bin/env bash
# The shell behind action.yml's three steps. Inputs arrive as environment variables
# (never pasted into the script text, so no input can inject shell code):
#
#   action.sh locate   sets the outputs dir, version and key (the cache key) from
#                      CUSTODY_VERSION, CUSTODY_METHOD, CUSTODY_TOOL_CACHE, CUSTODY_ACTION_REF
#   action.sh install  installs the binaries into CUSTODY_DIR (scripts/install.sh)
#   action.sh run      runs CUSTODY_STEP with CUSTODY_ARGS, split into words without
#                      expansion; the step writes its own outputs; exit-code is added
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=" collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi "
fail() { # a workflow-command annotation; the message escaped so it stays one command
    local message=$*
    message=${message//'%'/%25}
    message=${message//$'\r'/%0D}
    message=${message//$'\n'/%0A}
    printf '::error title=custody::%s\n' "$message"
    exit 2
}

output() { # NAME VALUE
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; else echo "$1=$2"; fi
}

locate() {
    local version=${CUSTODY_VERSION#v}
    if [[ -z "$version" ]]; then
        version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
    fi
    [[ -n "$version" ]] || fail "cannot tell which custody version to install: set the action's version input"
    local platform
    platform=$(uname -s)-$(uname -m)
    # A source build is keyed on the exact sources; a release asset on its version.
    local source=release
    if [[ "${CUSTODY_METHOD:-auto}" != release ]]; then
        source=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo "${CUSTODY_ACTION_REF:-unknown}")
    fi
    local cache=${CUSTODY_TOOL_CACHE:-${RUNNER_TOOL_CACHE:-$HOME/.custody}}
    output dir "$cache/custody/$version/$platform/bin"
    output version "$version"
    output key "custody-$version-$platform-${CUSTODY_METHOD:-auto}-$source"
}

install() {
    [[ -n "${CUSTODY_DIR:-}" ]] || fail "CUSTODY_DIR is not set (the locate step did not run)"
    bash "$here/install.sh" --version "$CUSTODY_VERSION" --method "${CUSTODY_METHOD:-auto}" \
        --to "$CUSTODY_DIR" >/dev/null
}

run() {
    local step=${CUSTODY_STEP:-}
    [[ -n "$step" && "$steps" == *" $step "* ]] ||
        fail "step \`${step}\` is not a custody step: use one of $(echo $steps | sed 's/ /, /g')"
    local binary=$CUSTODY_DIR/$step
    [[ -x "$binary" || -x "$binary.exe" ]] || fail "\`$binary\` is not installed (the install step failed?)"
    # xargs splits like a shell (quotes, backslashes) but expands nothing.
    local args=()
    if [[ -n "${CUSTODY_ARGS//[[:space:]]/}" ]]; then
        local words
        words=$(mktemp)
        printf '%s' "$CUSTODY_ARGS" | tr '\n' ' ' | xargs printf '%s\0' >"$words" ||
            fail "cannot split the args input into words: is a quote unmatched?"
        mapfile -d '' args <"$words"
        rm -f "$words"
    fi
    local status=0
    "$binary" "${args[@]}" || status=$?
    output exit-code "$status"
    return "$status"
}

case ${1:-} in
    locate | install | run) "$1" ;;
    *) fail "usage: action.sh locate|install|run" ;;
esac
