#!/usr/bin/env bash
# Benchmark for publish-pypi, side by side with `twine upload` and `uv publish` (both
# installed from PyPI into a temporary venv), each uploading the same files to its own
# fresh pypiserver on 127.0.0.1:
#   1. the sample project's wheel + sdist (a typical small release: start-up, checks,
#      round trips dominate);
#   2. a 200 MB wheel (streaming: memory must stay flat).
# Wall time, CPU time (user + sys) and peak RSS come from GNU time; best of $RUNS runs. Prints a Markdown
# section for BENCHMARKS.md.
#
# Usage: scripts/bench-publish-pypi.sh [--runs N]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh" "$@"

echo "building publish-pypi (release) and the peers' venv..." >&2
cargo build --release --quiet -p publish-pypi --manifest-path "$root/Cargo.toml"
ours="$root/target/release/publish-pypi"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
    twine==7.0.0 uv==0.13.9 pypiserver==2.4.2 passlib==1.7.4 build==1.6.1 setuptools==84.2.1
venv="$work/venv/bin"
"$venv/python" -c "from passlib.apache import HtpasswdFile as H; h=H('$work/htpasswd', new=True); h.set_password('bench','bench-pw'); h.save()"

# The files: the sample project, and a 200 MB wheel of random data.
mkdir -p "$work/small" "$work/big"
cp -r "$root/tests/fixtures/sample-project" "$work/project"
(cd "$work/project" && "$venv/python" -m build --no-isolation --outdir "$work/small" . >/dev/null 2>&1)
"$venv/python" - "$work/big" <<'EOF'
import base64, hashlib, os, sys, zipfile
name, version = "bigpkg", "1.0"
path = os.path.join(sys.argv[1], f"{name}-{version}-py3-none-any.whl")
files = {f"{name}/__init__.py": b"", f"{name}/blob.bin": os.urandom(200 * 1024 * 1024)}
files[f"{name}-{version}.dist-info/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: big\n\nA big wheel.\n".encode()
files[f"{name}-{version}.dist-info/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n" for n, d in files.items())
record += f"{name}-{version}.dist-info/RECORD,,\n"
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
    for n, d in files.items():
        z.writestr(n, d)
    z.writestr(f"{name}-{version}.dist-info/RECORD", record)
EOF

start_server() {
    rm -rf "$work/packages" && mkdir -p "$work/packages"
    port=$("$venv/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
    "$venv/pypi-server" run -i 127.0.0.1 -p "$port" -P "$work/htpasswd" -a update --disable-fallback \
        "$work/packages" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "pypiserver did not start" >&2; exit 1
}
stop_server() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

# measure NAME FILES...: best wall time, its CPU time and peak RSS over $runs fresh servers.
measure() {
    local tool=$1; shift
    local best="" rss="" cpu=""
    for _ in $(seq "$runs"); do
        start_server
        local url="http://127.0.0.1:$port/"
        case $tool in
            publish-pypi) cmd=(env NO_COLOR=1 PYPI_LOGIN=bench PYPI_PASSWORD=bench-pw "$ours" --quiet --repository-url "$url" --max-file-size 300 "$@") ;;
            twine) cmd=("$venv/twine" upload --disable-progress-bar --non-interactive --repository-url "$url" -u bench -p bench-pw "$@") ;;
            uv) cmd=("$venv/uv" publish --publish-url "$url" --username bench --password bench-pw "$@") ;;
        esac
        /usr/bin/time -f "%e %M %U %S" -o "$work/time" ${cmd[@]+"${cmd[@]}"} >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
        stop_server
        read -r seconds kib user sys <"$work/time"
        if [[ -z "$best" ]] || awk "BEGIN{exit !($seconds < $best)}"; then
            best=$seconds rss=$kib cpu=$(awk "BEGIN{print $user + $sys}")
        fi
    done
    echo "$best $cpu $((rss / 1024))"
}

rows=""
for tool in publish-pypi twine uv; do
    read -r t_small c_small m_small < <(measure "$tool" "$work"/small/*)
    read -r t_big c_big m_big < <(measure "$tool" "$work"/big/*.whl)
    rows+="| \`$tool\` | ${t_small} s | ${c_small} s | ${m_small} MiB | ${t_big} s | ${c_big} s | ${m_big} MiB |"$'\n'
done

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
cat <<EOF
## publish-pypi

Measured $(date -u +%Y-%m-%d) with \`scripts/bench-publish-pypi.sh\` (best of $runs runs, a fresh
pypiserver 2.4.2 on 127.0.0.1 per run) on $(nproc) cores of: $cpu. Peers: twine 7.0.0 and
uv 0.13.9 from PyPI. publish-pypi also verifies every wheel down to its RECORD hashes and
runs the pre-flight check and the index lookup before uploading; twine and uv do neither.

| Tool | sample wheel + sdist: wall | CPU | peak RSS | 200 MB wheel: wall | CPU | peak RSS |
|---|---|---|---|---|---|---|
${rows}
EOF
