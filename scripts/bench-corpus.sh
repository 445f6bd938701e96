#!/usr/bin/env bash
# Benchmark of the conformance corpus (tests/fixtures/pypi-corpus.txt, fetched by
# scripts/test-env.sh into target/test-fixtures/corpus): `collect-artifacts inspect` of
# every file (full verification and the upload digests), side by side with one run of
# `twine check` and check-wheel-contents over the same files
# (tests/fixtures/pypi-corpus-peers.py). Best of $RUNS runs, page cache warm; peak RSS
# from GNU time. Prints a Markdown section for BENCHMARKS.md.
#
# Usage: scripts/bench-corpus.sh [--runs N]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh" "$@"

test_env=$("$root/scripts/test-env.sh")
eval "$test_env"
corpus=$CUSTODY_TEST_FIXTURES/corpus
files=$(grep -v '^#' "$root/tests/fixtures/pypi-corpus.txt" | awk 'NF {print $2}')
count=$(echo "$files" | wc -l)
mb=$(cd "$corpus" && echo "$files" | xargs stat -c %s | awk '{s+=$1} END {printf "%.1f", s / 1000000}')

echo "building collect-artifacts (release)..." >&2
cargo build --release --quiet -p collect-artifacts --manifest-path "$root/Cargo.toml"
bin="$root/target/release/collect-artifacts"

mkdir -p "$work/corpus"
for file in $files; do ln -s "$corpus/$file" "$work/corpus/$file"; done
cat "$work"/corpus/* >/dev/null

read -r t_ours rss_ours < <(best_of_mib "$bin" inspect "$work/corpus")
read -r t_peers rss_peers < <(best_of_mib "$CUSTODY_TEST_PYTHON" \
    "$root/tests/fixtures/pypi-corpus-peers.py" "$work"/corpus/*)
per_file=$(awk "BEGIN{printf \"%.0f\", 1000 * $t_ours / $count}")

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
cat <<MD
## The conformance corpus

Measured $(date -u +%Y-%m-%d) with \`scripts/bench-corpus.sh\` (best of $runs runs, page
cache warm) on $(nproc) cores of: $cpu.

| Task | Tool | Time | Peak RSS |
|---|---|---|---|
| Verify $count real files (${mb} MB) | \`collect-artifacts inspect\` (release) | ${t_ours} s (${per_file} ms a file) | ${rss_ours} MiB |
| The same files, once each | \`twine check\` + check-wheel-contents | ${t_peers} s | ${rss_peers} MiB |
MD
