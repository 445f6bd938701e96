#!/bin/sh
# The shell behind action.yml's three steps. Inputs arrive as environment variables
# (never pasted into the script text, so no input can inject shell code):
#
#   action.sh locate   sets the outputs dir, version and key (the cache key) from
#                      CUSTODY_VERSION, CUSTODY_METHOD, CUSTODY_TOOL_CACHE, CUSTODY_ACTION_REF
#   action.sh install  installs the binaries into CUSTODY_DIR (scripts/install.sh)
#   action.sh run      runs CUSTODY_STEP with CUSTODY_ARGS, split into words without
#                      expansion; the step writes its own outputs; exit-code is added
#
# POSIX sh, so it runs the same under macOS's bash 3.2, Git Bash, dash and BusyBox sh
# (crates/custody-e2e/tests/it/shells.rs runs it under each): no arrays, no `local`,
# no `[[`, no pipefail.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps="collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi"

fail() { # a workflow-command annotation; the message escaped so it stays one command
    printf '::error title=custody::'
    printf '%s' "$*" | awk 'BEGIN { ORS = "" }
        { gsub(/%/, "%25"); gsub(/\r/, "%0D"); if (NR > 1) printf "%%0A"; print }'
    printf '\n'
    exit 2
}

output() { # NAME VALUE (printf, not echo: a Windows path's backslashes stay as they are)
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    else
        printf '%s=%s\n' "$1" "$2"
    fi
}

locate() {
    version=${CUSTODY_VERSION:-}
    version=${version#v}
    if [ -z "$version" ]; then
        version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")
    fi
    [ -n "$version" ] || fail "cannot tell which custody version to install: set the action's version input"
    platform=$(uname -s)-$(uname -m)
    # A source build is keyed on the exact sources; a release asset on its version.
    source=release
    if [ "${CUSTODY_METHOD:-auto}" != release ]; then
        source=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo "${CUSTODY_ACTION_REF:-unknown}")
    fi
    cache=${CUSTODY_TOOL_CACHE:-${RUNNER_TOOL_CACHE:-$HOME/.custody}}
    output dir "$cache/custody/$version/$platform/bin"
    output version "$version"
    output key "custody-$version-$platform-${CUSTODY_METHOD:-auto}-$source"
}

install() {
    [ -n "${CUSTODY_DIR:-}" ] || fail "CUSTODY_DIR is not set (the locate step did not run)"
    if [ -n "${CUSTODY_SHA256:-}" ]; then
        sh "$here/install.sh" --version "${CUSTODY_VERSION:-}" --method "${CUSTODY_METHOD:-auto}" \
            --sha256 "$CUSTODY_SHA256" --to "$CUSTODY_DIR" >/dev/null
    else
        sh "$here/install.sh" --version "${CUSTODY_VERSION:-}" --method "${CUSTODY_METHOD:-auto}" \
            --to "$CUSTODY_DIR" >/dev/null
    fi
}

run() {
    step=${CUSTODY_STEP:-}
    known=no
    for candidate in $steps; do
        if [ "$step" = "$candidate" ]; then known=yes; fi
    done
    [ "$known" = yes ] ||
        fail "step \`$step\` is not a custody step: use one of $(printf '%s' "$steps" | sed 's/ /, /g')"
    binary=${CUSTODY_DIR:-}/$step
    [ -x "$binary" ] || [ -x "$binary.exe" ] || fail "\`$binary\` is not installed (the install step failed?)"
    # xargs splits like a shell (quotes, backslashes) but expands nothing. It writes the
    # words to a file first, so an unmatched quote runs nothing; one word a line (the
    # newlines of the input became spaces), read back into "$@".
    set --
    if [ -n "$(printf '%s' "${CUSTODY_ARGS:-}" | tr -d ' \t\r\n')" ]; then
        words=$(mktemp)
        printf '%s' "$CUSTODY_ARGS" | tr '\r\n' '  ' | xargs printf '%s\n' >"$words" ||
            { rm -f "$words"; fail "cannot split the args input into words: is a quote unmatched?"; }
        while IFS= read -r word; do
            set -- ${1+"$@"} "$word"
        done <"$words"
        rm -f "$words"
    fi
    status=0
    "$binary" ${1+"$@"} || status=$?
    output exit-code "$status"
    return "$status"
}

case ${1:-} in
    locate | install | run) "$1" ;;
    *) fail "usage: action.sh locate|install|run" ;;
esac
