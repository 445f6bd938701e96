#!/usr/bin/env bash
# Benchmark for publish-test-results, side by side with junitparser (Python, installed
# from PyPI into a temporary venv), on the same generated report: ~200 MB of JUnit XML
# with 100,000 test cases (10 % failing with a traceback, every case with captured
# output, as pytest writes with `junit_logging=all`). Both compute the same totals.
# Wall time and peak RSS from GNU time, best of $RUNS runs. Prints a Markdown section
# for BENCHMARKS.md.
#
# Usage: scripts/bench-publish-test-results.sh [--runs N]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh" "$@"

echo "building publish-test-results (release) and junitparser's venv..." >&2
cargo build --release --quiet -p publish-test-results --manifest-path "$root/Cargo.toml"
ours="$root/target/release/publish-test-results"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check junitparser==5.0.3

echo "generating the report..." >&2
"$python" - "$work/report.xml" <<'EOF'
import sys
out = open(sys.argv[1], "w")
out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
cases = 100_000
out.write(f'<testsuite name="pytest" errors="0" failures="{cases // 10}" skipped="0" tests="{cases}" time="1234.5">')
log = ("DEBUG connecting to the database at 127.0.0.1:5432 &amp; waiting for it to answer\n" * 23)
trace = ("    def test_case():\n&gt;       assert compute(41) == 42\nE       assert 41 == 42\n\ntests/test_big.py:17: AssertionError\n" * 3)
for i in range(cases):
    out.write(f'<testcase classname="tests.test_big" name="test_case_{i}" time="0.{i % 1000:03d}">')
    if i % 10 == 0:
        out.write(f'<failure message="assert 41 == 42">{trace}</failure>')
    out.write(f"<system-out>{log}</system-out></testcase>\n")
out.write("</testsuite></testsuites>\n")
EOF
size_mb=$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$work/report.xml") / 1000000}")

cat >"$work/peer.py" <<'EOF'
"""The same totals with junitparser, as a Python script in CI would compute them."""
import sys
from junitparser import Error, Failure, JUnitXml, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
tests = failed = errors = skipped = 0
for suite in xml:
    for case in suite:
        tests += 1
        for result in case.result:
            if isinstance(result, Failure):
                failed += 1
            elif isinstance(result, Error):
                errors += 1
            elif isinstance(result, Skipped):
                skipped += 1
print(tests, failed, errors, skipped)
EOF

read -r t_ours m_ours < <(best_of_mib env NO_COLOR=1 "$ours" --json --fail-on none "$work/report.xml")
ours_totals=$("$ours" --json --fail-on none "$work/report.xml" | "$python" -c "import json,sys; t=json.load(sys.stdin)['totals']; print(t['tests'], t['failed'], t['errors'], t['skipped'])")
read -r t_peer m_peer < <(best_of_mib "$work/venv/bin/python" "$work/peer.py" "$work/report.xml")
peer_totals=$("$work/venv/bin/python" "$work/peer.py" "$work/report.xml")
[[ "$ours_totals" == "$peer_totals" ]] || { echo "totals differ: ours $ours_totals, junitparser $peer_totals" >&2; exit 1; }

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
cat <<EOF
## publish-test-results

Measured $(date -u +%Y-%m-%d) with \`scripts/bench-publish-test-results.sh\` (best of $runs runs) on
$(nproc) cores of: $cpu. The report: ${size_mb} MB of JUnit XML, 100,000 test cases, 10 % failing
with a traceback, captured output on every case. Both tools agree on the totals
(tests, failed, errors, skipped = $ours_totals). publish-test-results also keeps the
failures, the slowest tests and the JSON it prints.

| Tool | Time | Peak RSS |
|---|---|---|
| \`publish-test-results --json\` | ${t_ours} s | ${m_ours} MiB |
| junitparser 5.0.3 (\`JUnitXml.fromfile\` + totals) | ${t_peer} s | ${m_peer} MiB |
EOF
