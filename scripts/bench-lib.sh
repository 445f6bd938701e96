# shellcheck shell=bash
# Sourced by the scripts/bench-*.sh that time tools side by side:
#   . "$(dirname "$0")/bench-lib.sh" "$@"
# Sets root (the checkout), runs (3, or --runs N), python (${PYTHON:-python3}), work (a
# temporary directory removed at exit, with the server in server_pid, if any, stopped),
# and defines best_of / best_of_mib.
# shellcheck disable=SC2034 # root and python are for the scripts that source this
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3
[[ "${1:-}" == "--runs" ]] && runs=$2
# shellcheck disable=SC2034
python=${PYTHON:-python3}
work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# best_of CMD...: runs CMD $runs times under GNU time and prints "<best seconds> <peak
# RSS KiB of that run>". A failing run stops the benchmark with its output.
best_of() {
    local best="" rss="" seconds kib
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || {
            cat "$work/out" >&2
            return 1
        }
        read -r seconds kib <"$work/time"
        if [[ -z "$best" ]] || awk "BEGIN{exit !($seconds < $best)}"; then
            best=$seconds rss=$kib
        fi
    done
    echo "$best $rss"
}

# best_of_mib CMD...: best_of, with the peak RSS in MiB.
best_of_mib() {
    local seconds kib
    read -r seconds kib < <(best_of "$@") || return 1
    echo "$seconds $((kib / 1024))"
}
