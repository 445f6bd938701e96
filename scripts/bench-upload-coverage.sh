#!/usr/bin/env bash
# Benchmark for upload-coverage, in one run:
#   1. summarizing a generated ~100 MB Cobertura report: upload-coverage against
#      pycobertura (`pycobertura show`);
#   2. the end-to-end Codecov upload of that report to the same local server (a small
#      Python server speaking codecov-cli's protocol): upload-coverage against codecov-cli;
#   3. a real small project: upload-coverage on coverage.py's XML against
#      `coverage report` on its data file (what a user runs today).
# Peers come from PyPI into a temporary venv. Wall time and peak RSS from GNU time, best
# of $RUNS runs. Prints a Markdown section for BENCHMARKS.md.
#
# Usage: scripts/bench-upload-coverage.sh [--runs N]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh" "$@"

echo "building upload-coverage (release) and the peers' venv..." >&2
cargo build --release --quiet -p upload-coverage --manifest-path "$root/Cargo.toml"
ours="$root/target/release/upload-coverage"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
    pycobertura==4.1.0 codecov-cli==11.3.1 coverage==7.17.4 pytest==9.2.0
venv="$work/venv/bin"

echo "generating the report..." >&2
mkdir -p "$work/big"
(cd "$work/big" && git init -q && "$python" - <<'EOF'
import os
files, lines_per_file = 2000, 1200
out = open("coverage.xml", "w")
out.write('<?xml version="1.0" ?>\n<coverage version="7.17.4" timestamp="1" lines-valid="0" lines-covered="0" line-rate="0.8" branches-valid="1" branches-covered="1" branch-rate="0.5" complexity="0">\n')
out.write(f"\t<sources>\n\t\t<source>{os.getcwd()}</source>\n\t</sources>\n\t<packages>\n")
for f in range(files):
    package = f"pkg{f // 100}"
    path = f"{package}/module_{f}.py"
    os.makedirs(package, exist_ok=True)
    open(path, "w").write("x = 1\n")
    if f % 100 == 0:
        if f:
            out.write("\t\t\t</classes>\n\t\t</package>\n")
        out.write(f'\t\t<package name="{package}" line-rate="0.8" branch-rate="0.5" complexity="0">\n\t\t\t<classes>\n')
    out.write(f'\t\t\t\t<class name="module_{f}.py" filename="{path}" complexity="0" line-rate="0.8" branch-rate="0.5">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n')
    for n in range(1, lines_per_file + 1):
        hits = 0 if n % 5 == 0 else 1
        if n % 10 == 3:
            out.write(f'\t\t\t\t\t\t<line number="{n}" hits="{hits}" branch="true" condition-coverage="50% (1/2)" missing-branches="{n + 2}"/>\n')
        else:
            out.write(f'\t\t\t\t\t\t<line number="{n}" hits="{hits}"/>\n')
    out.write("\t\t\t\t\t</lines>\n\t\t\t\t</class>\n")
out.write("\t\t\t</classes>\n\t\t</package>\n\t</packages>\n</coverage>\n")
EOF
git add -A >/dev/null && git -c user.name=b -c user.email=b@example.org commit -qm x)
size_mb=$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$work/big/coverage.xml") / 1000000}")
sha=$(git -C "$work/big" rev-parse HEAD)

cd "$work/big"
read -r t_ours m_ours < <(best_of_mib env NO_COLOR=1 "$ours" coverage.xml --json)
read -r t_pyc m_pyc < <(best_of_mib "$venv/pycobertura" show coverage.xml)

# A local Codecov that answers like ingest.codecov.io and takes the storage PUT.
cat >"$work/codecov.py" <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _drain(self):
        left = int(self.headers.get("content-length") or 0)
        while left > 0:
            left -= len(self.rfile.read(min(left, 1 << 20)))
    def _answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self._drain()
        port = self.server.server_port
        self._answer(200, json.dumps({"raw_upload_location": f"http://127.0.0.1:{port}/storage/x", "url": "u"}).encode())
    def do_PUT(self):
        self._drain()
        self._answer(200)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
server.serve_forever()
EOF
port=$("$python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"$python" "$work/codecov.py" "$port" &
server_pid=$!
sleep 1
url="http://127.0.0.1:$port"
read -r t_up_ours m_up_ours < <(best_of_mib env NO_COLOR=1 "$ours" coverage.xml --quiet --codecov-url "$url" \
    --codecov-token bench --commit "$sha" --slug bench/repo --git-service github --branch main --fail-on-error)
read -r t_up_cli m_up_cli < <(best_of_mib env HOME="$work" "$venv/codecovcli" --disable-telem -u "$url" upload-coverage \
    -t bench -C "$sha" -r bench/repo --git-service github -B main -f coverage.xml --disable-search --disable-file-fixes)
# codecov-cli as the Codecov action runs it: searching for reports, computing file fixes.
read -r t_up_def m_up_def < <(best_of_mib env HOME="$work" "$venv/codecovcli" --disable-telem -u "$url" upload-coverage \
    -t bench -C "$sha" -r bench/repo --git-service github -B main)
speedup=$(awk "BEGIN{printf \"%.1f\", $t_up_cli / $t_up_ours}")
speedup_default=$(awk "BEGIN{printf \"%.1f\", $t_up_def / $t_up_ours}")

# The small real project: coverage.py's own report against ours on its XML.
cp -r "$root/tests/fixtures/upload-coverage/project" "$work/small"
cd "$work/small"
"$venv/python" -m coverage run --branch --source=calc -m pytest -q -p no:cacheprovider tests >/dev/null
"$venv/python" -m coverage xml -q -o coverage.xml
read -r t_small_ours m_small_ours < <(best_of_mib env NO_COLOR=1 "$ours" coverage.xml)
read -r t_small_cov m_small_cov < <(best_of_mib "$venv/python" -m coverage report)
# What every job of a matrix does: upload its small report.
git init -q && git add -A >/dev/null && git -c user.name=b -c user.email=b@example.org commit -qm x
small_sha=$(git rev-parse HEAD)
read -r t_small_up m_small_up < <(best_of_mib env NO_COLOR=1 "$ours" coverage.xml --quiet --codecov-url "$url" \
    --codecov-token bench --commit "$small_sha" --slug bench/repo --git-service github --branch main --fail-on-error)
read -r t_small_cli m_small_cli < <(best_of_mib env HOME="$work" "$venv/codecovcli" --disable-telem -u "$url" upload-coverage \
    -t bench -C "$small_sha" -r bench/repo --git-service github -B main -f coverage.xml --disable-search --disable-file-fixes)
speedup_small=$(awk "BEGIN{printf \"%.0f\", $t_small_cli / ($t_small_up > 0 ? $t_small_up : 0.01)}")

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
cat <<EOF
## upload-coverage

Measured $(date -u +%Y-%m-%d) with \`scripts/bench-upload-coverage.sh\` (best of $runs runs) on
$(nproc) cores of: $cpu. The generated report: ${size_mb} MB of Cobertura, 2,000 files,
2.4 million lines, branches on every tenth line. Peers from PyPI: pycobertura 4.1.0,
codecov-cli 11.3.1, coverage 7.17.4.

| Task | Tool | Time | Peak RSS |
|---|---|---|---|
| Summarize the ${size_mb} MB report | \`upload-coverage --json\` | ${t_ours} s | ${m_ours} MiB |
| Summarize the ${size_mb} MB report | \`pycobertura show\` | ${t_pyc} s | ${m_pyc} MiB |
| Upload it to a local Codecov (end to end) | \`upload-coverage\` (totals + upload) | ${t_up_ours} s | ${m_up_ours} MiB |
| Upload it to a local Codecov (end to end) | \`codecovcli upload-coverage -f coverage.xml --disable-search --disable-file-fixes\` | ${t_up_cli} s | ${m_up_cli} MiB |
| Upload it to a local Codecov (end to end) | \`codecovcli upload-coverage\` with its defaults (search, file fixes) | ${t_up_def} s | ${m_up_def} MiB |
| Report a small real project | \`upload-coverage coverage.xml\` | ${t_small_ours} s | ${m_small_ours} MiB |
| Report a small real project | \`coverage report\` | ${t_small_cov} s | ${m_small_cov} MiB |
| Upload the small project's report to a local Codecov | \`upload-coverage\` (totals + upload) | ${t_small_up} s | ${m_small_up} MiB |
| Upload the small project's report to a local Codecov | \`codecovcli upload-coverage\` | ${t_small_cli} s | ${m_small_cli} MiB |

End to end on the small report a matrix job uploads, upload-coverage is **${speedup_small}×**
faster than codecov-cli (target ≥ 10×). On the 103 MB report the ratio is ${speedup}× against
codecov-cli told exactly what to send and ${speedup_default}× against its defaults: there both spend
their time compressing 103 MB with zlib (which cannot be split across cores in one
stream), and upload-coverage also parses the report to compute the totals.
EOF
