#!/usr/bin/env bash
# Benchmark for collect-artifacts, side by side with what a user would otherwise run:
#   1. SHA-256 of a 1 GiB file: `sha256sum` and OpenSSL's single-core SHA-256 speed
#      (`openssl speed -evp sha256`) against `collect-artifacts inspect`.
#   2. RECORD check of numpy's ~17 MB manylinux wheel (downloaded from PyPI): a Python
#      `zipfile` + `hashlib` check of every RECORD hash against `collect-artifacts
#      inspect`, which does that and the rest of the wheel verification and the upload
#      digests of the whole file.
# Peak RSS comes from GNU time. Each timing is the best of $RUNS runs. Prints a Markdown
# section for BENCHMARKS.md; writes nothing else outside a temporary directory.
#
# Usage: scripts/bench-collect.sh [--runs N]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh" "$@"

echo "building collect-artifacts (release)..." >&2
cargo build --release --quiet -p collect-artifacts --manifest-path "$root/Cargo.toml"
bin="$root/target/release/collect-artifacts"

echo "writing a 1 GiB file..." >&2
big="$work/big.bin"
head -c 1073741824 /dev/urandom >"$big"
# Warm the page cache so every tool reads from memory.
cat "$big" >/dev/null

read -r t_sum rss_sum < <(best_of sha256sum "$big")
read -r t_ours rss_ours < <(best_of "$bin" inspect "$big")
# OpenSSL: bytes per second for 256 KiB blocks (the chunk size custody reads in), one core.
openssl_bps=$(openssl speed -evp sha256 -bytes 262144 -seconds 3 2>/dev/null |
    awk '/^sha256|^SHA256/ {v=$NF; sub(/k$/, "", v); print v * 1000}')
mib=1024
gib_bytes=1073741824
tp_sum=$(awk "BEGIN{printf \"%.0f\", $mib / $t_sum}")
tp_ours=$(awk "BEGIN{printf \"%.0f\", $mib / $t_ours}")
tp_openssl=$(awk "BEGIN{printf \"%.0f\", $openssl_bps / 1048576}")
ratio_openssl=$(awk "BEGIN{printf \"%.2f\", ($gib_bytes / $t_ours) / $openssl_bps}")

echo "downloading numpy's manylinux wheel from PyPI..." >&2
"$python" -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp \
    --dest "$work/wheels" "numpy==2.2.6" >&2
wheel=$(ls "$work"/wheels/numpy-*.whl)
wheel_mb=$(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$wheel") / 1000000}")

cat >"$work/record_check.py" <<'EOF'
"""What a Python release script does to check a wheel: every RECORD hash and size."""
import base64, csv, hashlib, io, sys, zipfile

with zipfile.ZipFile(sys.argv[1]) as archive:
    record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
    rows = list(csv.reader(io.StringIO(archive.read(record).decode())))
    bad = 0
    for name, digest, size in rows:
        if not digest:
            continue
        algorithm, expected = digest.split("=", 1)
        h = hashlib.new(algorithm)
        n = 0
        with archive.open(name) as member:
            for chunk in iter(lambda: member.read(1 << 18), b""):
                h.update(chunk)
                n += len(chunk)
        actual = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
        if actual != expected or (size and int(size) != n):
            bad += 1
    print(f"{len(rows)} entries, {bad} bad")
    sys.exit(1 if bad else 0)
EOF
read -r t_py rss_py < <(best_of "$python" "$work/record_check.py" "$wheel")
read -r t_wheel rss_wheel < <(best_of "$bin" inspect "$wheel")
speedup=$(awk "BEGIN{printf \"%.1f\", $t_py / $t_wheel}")

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
sha_ni=$(grep -qw sha_ni /proc/cpuinfo && echo "yes" || echo "no")
cat <<EOF
## collect-artifacts

Measured $(date -u +%Y-%m-%d) with \`scripts/bench-collect.sh\` (best of $runs runs, page
cache warm) on $(nproc) cores of: $cpu (SHA extensions: $sha_ni).
$(openssl version), $(sha256sum --version | head -1), $("$python" --version).

| Task | Tool | Time | Throughput | Peak RSS |
|---|---|---|---|---|
| SHA-256 of a 1 GiB file | \`sha256sum\` | ${t_sum} s | ${tp_sum} MiB/s | $((rss_sum / 1024)) MiB |
| SHA-256 of a 1 GiB file | \`openssl speed -evp sha256\` (256 KiB blocks, 1 core) | – | ${tp_openssl} MiB/s | – |
| SHA-256 of a 1 GiB file | \`collect-artifacts inspect\` | ${t_ours} s | ${tp_ours} MiB/s | $((rss_ours / 1024)) MiB |
| RECORD check of \`$(basename "$wheel")\` (${wheel_mb} MB) | Python \`zipfile\` + \`hashlib\` | ${t_py} s | – | $((rss_py / 1024)) MiB |
| Full verification of the same wheel (RECORD hashes, metadata, zip structure, sha256+md5+blake2b-256 of the file) | \`collect-artifacts inspect\` | ${t_wheel} s | – | $((rss_wheel / 1024)) MiB |

- Hashing runs at **${ratio_openssl}×** OpenSSL's single-core SHA-256 throughput (target ≥ 0.9×).
- The wheel check is **${speedup}×** faster than the Python RECORD check (target ≥ 4×), while
  checking more.
- Peak RSS stays at $((rss_ours / 1024)) MiB for the 1 GiB file and $((rss_wheel / 1024)) MiB for the wheel (target < 30 MiB): files are streamed in 256 KiB chunks.
EOF
