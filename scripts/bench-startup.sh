#!/usr/bin/env bash
# Release engineering numbers: the size of each step binary in the release profile
# (LTO, one codegen unit, stripped, panic=abort), of the packaged release asset, and
# start-up time — `--help` (parse arguments, print, exit) and `--version` — beside the
# Python tools a pipeline would otherwise start for the same jobs: twine (publish-pypi)
# and codecov-cli (upload-coverage), from tests/requirements.txt's pinned versions.
# Mean of $RUNS runs after one warm-up; peak RSS from GNU time. Prints a Markdown section
# for BENCHMARKS.md.
#
# Usage: scripts/bench-startup.sh [--runs N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=20
[[ "${1:-}" == "--runs" ]] && runs=$2
cd "$root"

echo "building the release binaries and the Python peers..." >&2
cargo build --release --locked --quiet --bins
test_env=$(scripts/test-env.sh)
eval "$test_env"
venv_bin=$(dirname "$CUSTODY_TEST_PYTHON")
steps=(collect-artifacts publish-test-results upload-coverage tag-build approve-gate publish-pypi)

# Mean wall time in ms of `$@` over $runs runs (after a warm-up).
mean_ms() {
    "$@" >/dev/null 2>&1 || true
    python3 - "$runs" "$@" <<'EOF'
import subprocess, sys, time
runs, command = int(sys.argv[1]), sys.argv[2:]
total = 0.0
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total += time.perf_counter() - start
print(f"{total / runs * 1000:.1f}")
EOF
}
rss_mib() {
    /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{printf "%.1f", $1 / 1024}'
}

dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
asset=$(scripts/package-release.sh --bin-dir target/release --out "$dist")
asset_mib=$(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$asset") / 1048576}")

echo "## Release binaries: size and start-up"
echo
echo "Measured by \`scripts/bench-startup.sh\` ($runs runs each, mean after a warm-up) on"
echo "$(nproc) cores, $(uname -sm); $(rustc --version | cut -d' ' -f1-2), release profile (LTO, codegen-units=1, strip, panic=abort)."
echo
echo "| Binary | Size | \`--help\` | \`--version\` | Peak RSS |"
echo "|---|---|---|---|---|"
total=0
for step in ${steps[@]+"${steps[@]}"}; do
    size=$(stat -c %s "target/release/$step")
    total=$((total + size))
    version_arg=--version
    [[ $step == tag-build ]] && version_arg=--help # tag-build's --version is the package's
    # shellcheck disable=SC2016 # Markdown backticks, not a command substitution
    printf '| `%s` | %.1f MiB | %s ms | %s ms | %s MiB |\n' "$step" \
        "$(awk "BEGIN{print $size / 1048576}")" \
        "$(mean_ms "target/release/$step" --help)" \
        "$(mean_ms "target/release/$step" "$version_arg")" \
        "$(rss_mib "target/release/$step" --help)"
done
# shellcheck disable=SC2016 # Markdown backticks
printf '| all six | %.1f MiB (asset `%s`: %s MiB) | | | |\n' \
    "$(awk "BEGIN{print $total / 1048576}")" "$(basename "$asset")" "$asset_mib"
echo
echo "The Python peers a pipeline would start instead (same machine, same runs):"
echo
echo "| Tool | \`--help\` | \`--version\` | Peak RSS |"
echo "|---|---|---|---|"
printf '| twine %s | %s ms | %s ms | %s MiB |\n' \
    "$("$venv_bin/twine" --version 2>/dev/null | head -n1 | awk '{print $3}')" \
    "$(mean_ms "$venv_bin/twine" upload --help)" \
    "$(mean_ms "$venv_bin/twine" --version)" \
    "$(rss_mib "$venv_bin/twine" upload --help)"
printf '| codecov-cli %s | %s ms | %s ms | %s MiB |\n' \
    "$("$venv_bin/codecovcli" --version 2>/dev/null | awk '{print $NF}')" \
    "$(mean_ms "$venv_bin/codecovcli" upload-coverage --help)" \
    "$(mean_ms "$venv_bin/codecovcli" --version)" \
    "$(rss_mib "$venv_bin/codecovcli" upload-coverage --help)"
