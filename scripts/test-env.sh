#!/usr/bin/env bash
# Prepares what the test suite drives as real peers, idempotently:
#   - a Python virtualenv with the pinned tools of tests/requirements.txt
#     (build, pytest, pypiserver, twine, ...), in target/test-venv;
#   - the sample project built into a wheel and an sdist, in target/test-fixtures/sample-dist;
#   - real artifacts from PyPI (tests/fixtures/pypi-artifacts.txt), sha256-checked,
#     in target/test-fixtures/pypi, and the conformance corpus
#     (tests/fixtures/pypi-corpus.txt) in target/test-fixtures/corpus.
#   - check-jsonschema (tests/requirements-check.txt) in target/check-venv.
#   - coverage reports of real projects under coverage.py 5, 6 and 7, in
#     target/test-fixtures/coverage-field (tests/fixtures/upload-coverage/field).
#   - custody's own `custody-ci` wheel (maturin), in target/test-fixtures/custody-wheel.
#   - pypi-attestations and sigstore-python in target/sigstore-venv, and real PEP 740
#     attestations with the files they attest in target/test-fixtures/attestations.
# Prints the environment the tests read (CUSTODY_TEST_PYTHON, CUSTODY_TEST_FIXTURES,
# CUSTODY_CHECK_JSONSCHEMA).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CUSTODY_TEST_VENV:-$root/target/test-venv}
fixtures=${CUSTODY_TEST_FIXTURES:-$root/target/test-fixtures}
python=${PYTHON:-python3}

say() { printf '[test-env] %s\n' "$*" >&2; }
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
# apt_install PACKAGE...: installs Debian packages (as root, or with sudo), running
# `apt-get update` once per run at most.
apt_updated=''
apt_install() {
  say "installing $* (apt-get)"
  local as_root=''; [ "$(id -u)" = 0 ] || as_root=sudo
  if [ -z "$apt_updated" ]; then $as_root apt-get update -qq >&2; apt_updated=1; fi
  $as_root apt-get install -y -qq --no-install-recommends "$@" >&2
}
# venv_with DIR REQUIREMENTS: a virtualenv in DIR holding REQUIREMENTS, made again only
# when the requirements file changes (or an interrupted run left it without a python;
# the stamp is written last).
venv_with() {
  local want; want=$(stamp_of "$2")
  [ "$(cat "$1/.custody-stamp" 2>/dev/null)" = "$want" ] && [ -x "$1/bin/python" ] && return
  say "creating $1"
  rm -rf "$1"
  "$python" -m venv "$1"
  "$1/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$1/bin/python" -m pip install --quiet --disable-pip-version-check -r "$2"
  echo "$want" > "$1/.custody-stamp"
}
# npm_tools DIR PROJECT: `npm ci` of PROJECT's package.json and package-lock.json into
# DIR, again only when either changes.
npm_tools() {
  local want; want=$(stamp_of "$2/package.json" "$2/package-lock.json")
  [ "$(cat "$1/.custody-stamp" 2>/dev/null)" = "$want" ] && return
  say "installing $(cd "$2" && node -p 'Object.keys(require("./package.json").devDependencies).join(", ")') (npm ci)"
  rm -rf "$1"
  mkdir -p "$1"
  cp "$2/package.json" "$2/package-lock.json" "$1/"
  (cd "$1" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
  echo "$want" > "$1/.custody-stamp"
}

mkdir -p "$fixtures"

# 0. Debian packages: the shells the action's scripts are tested under (dash, BusyBox
#    sh) and shellcheck; apt-get only when one is missing.
missing=''
for tool in dash busybox shellcheck; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
# shellcheck disable=SC2086 # $missing is a list of package names
[ -z "$missing" ] || apt_install $missing

# 1. The virtualenv, rebuilt when the requirements change.
venv_with "$venv" "$root/tests/requirements.txt"
vpython=$venv/bin/python

# 1b. The CI-YAML validator in a virtualenv of its own (its dependencies conflict with
#     codecov-cli's).
check_venv=${CUSTODY_CHECK_VENV:-$root/target/check-venv}
venv_with "$check_venv" "$root/tests/requirements-check.txt"

# 2. The sample project's wheel and sdist, rebuilt when its sources change.
sample=$root/tests/fixtures/sample-project
dist=$fixtures/sample-dist
want=$(cd "$sample" && find . -type f -not -path '*/__pycache__/*' -not -path '*.egg-info*' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
if [ "$(cat "$dist/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "building the sample project"
  rm -rf "$dist" "$fixtures/sample-build"
  cp -r "$sample" "$fixtures/sample-build"
  if ! (cd "$fixtures/sample-build" && SOURCE_DATE_EPOCH=1700000000 "$vpython" -m build --no-isolation --outdir "$dist" . >"$fixtures/sample-build.log" 2>&1); then
    cat "$fixtures/sample-build.log" >&2; exit 1
  fi
  rm -rf "$fixtures/sample-build"
  echo "$want" > "$dist/.custody-stamp"
fi

# 3. Real artifacts from PyPI, checked against their pinned sha256.
pypi=$fixtures/pypi
mkdir -p "$pypi"
grep -v '^#' "$root/tests/fixtures/pypi-artifacts.txt" | while read -r sha file args; do
  [ -n "$sha" ] || continue
  if [ -f "$pypi/$file" ] && [ "$(sha256sum "$pypi/$file" | cut -d' ' -f1)" = "$sha" ]; then
    continue
  fi
  say "downloading $file"
  tmp=$(mktemp -d)
  # shellcheck disable=SC2086
  "$vpython" -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" $args
  if [ ! -f "$tmp/$file" ]; then
    say "pip did not fetch $file (got: $(ls "$tmp"))"; exit 1
  fi
  got=$(sha256sum "$tmp/$file" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    say "$file has sha256 $got, expected $sha"; exit 1
  fi
  mv "$tmp/$file" "$pypi/$file"
  rm -rf "$tmp"
done

# 3b. The conformance corpus (tests/fixtures/pypi-corpus.txt, ~62 MB): exact files from
#     PyPI's simple index (PEP 691 JSON), fetched in parallel, checked against the pinned
#     sha256 and the index's own, in target/test-fixtures/corpus. Not `pip download`: for
#     an sdist it builds the metadata, which compiles maturin or meson projects.
corpus=$fixtures/corpus
mkdir -p "$corpus"
"$vpython" - "$root/tests/fixtures/pypi-corpus.txt" "$corpus" <<'PY'
import concurrent.futures, hashlib, json, os, sys, time, urllib.request

listing, dest = sys.argv[1], sys.argv[2]
rows = [line.split()[:3] for line in open(listing, encoding="utf-8")
        if line.strip() and not line.startswith("#")]

def sha256_of(path):
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()

def retried(action, attempts=4):
    """The network on a fresh CI machine blinks (DNS, resets): a few tries, then fail."""
    for attempt in range(attempts):
        try:
            return action()
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(2 ** attempt)

def index_files(project):
    request = urllib.request.Request(f"https://pypi.org/simple/{project}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return {f["filename"]: f for f in json.load(answer)["files"]}

def download(url, path):
    with urllib.request.urlopen(url, timeout=120) as answer, open(path, "wb") as part:
        while chunk := answer.read(1 << 20):
            part.write(chunk)

def fetch(row):
    sha, name, project = row
    path = os.path.join(dest, name)
    if os.path.exists(path) and sha256_of(path) == sha:
        return None
    files = retried(lambda: index_files(project))
    if name not in files or files[name]["hashes"].get("sha256") != sha:
        return f"{name}: not on the index of `{project}` with sha256 {sha}"
    sys.stderr.write(f"[test-env] downloading {name}\n")
    part = path + ".part"
    retried(lambda: download(files[name]["url"], part))
    if sha256_of(part) != sha:
        os.unlink(part)
        return f"{name}: the download does not have sha256 {sha}"
    os.replace(part, path)
    return None

with concurrent.futures.ThreadPoolExecutor(8) as pool:
    failures = [f for f in pool.map(fetch, rows) if f]
for failure in failures:
    sys.stderr.write(f"[test-env] {failure}\n")
sys.exit(1 if failures else 0)
PY

# 4. Other languages' coverage tools for upload-coverage's conformance tests
#    (tests/it/other_tools.rs): gcc + gcovr for C, c8 and nyc for JavaScript (pinned by
#    a committed package-lock.json). Their reports are written once, into
#    $fixtures/other-tools, and again only when the projects, the pins or the tools change.
other=$root/tests/fixtures/upload-coverage/other-tools
command -v gcc >/dev/null || apt_install gcc
command -v npm >/dev/null || apt_install nodejs npm
other_venv=${CUSTODY_OTHER_TOOLS_VENV:-$root/target/other-tools-venv}
venv_with "$other_venv" "$other/requirements.txt"
js_tools=$fixtures/other-tools-js
npm_tools "$js_tools" "$other/js"
other_reports=$fixtures/other-tools
want=$({ (cd "$other" && find . -type f | LC_ALL=C sort | xargs cat); gcc --version; node --version;
  cat "$other_venv/.custody-stamp" "$js_tools/.custody-stamp"; } | sha256sum | cut -c1-16)
if [ "$(cat "$other_reports/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "writing the coverage reports of gcovr, c8 and nyc"
  "$other/generate.sh" "$other_reports" "$other_venv/bin/gcovr" "$js_tools" >&2
  echo "$want" > "$other_reports/.custody-stamp"
fi

# 5. JUnit reports written by real runners for publish-test-results' conformance tests
#    (tests/it/conformance.rs): pytest with xdist and rerunfailures (a venv of their own,
#    tests/requirements-junit.txt), jest + jest-junit, mocha + mocha-junit-reporter and
#    vitest (npm ci from a committed lock), JUnit 5's console launcher (Debian's junit5
#    and a JDK). Written once into $fixtures/junit-runners, again when any input changes.
junit=$root/tests/fixtures/publish-test-results
missing=''
command -v npm >/dev/null || missing="$missing nodejs npm"
command -v javac >/dev/null || missing="$missing default-jdk-headless"
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || missing="$missing junit5"
# shellcheck disable=SC2086 # $missing is a list of package names
[ -z "$missing" ] || apt_install $missing
junit_venv=${CUSTODY_JUNIT_VENV:-$root/target/junit-venv}
venv_with "$junit_venv" "$root/tests/requirements-junit.txt"
junit_js=$fixtures/junit-runners-js
npm_tools "$junit_js" "$junit/js"
junit_reports=$fixtures/junit-runners
want=$({ (cd "$junit" && find make-reports.sh project pytest-plugins js java -type f \
  -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat); node --version; javac -version 2>&1;
  cat "$junit_venv/.custody-stamp" "$junit_js/.custody-stamp"; } | sha256sum | cut -c1-16)
if [ "$(cat "$junit_reports/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "writing the JUnit reports of pytest, jest, mocha, vitest and JUnit 5"
  rm -rf "$junit_reports"
  "$junit/make-reports.sh" "$junit_reports" "$junit_venv/bin/python" "$junit_js/node_modules" >&2
  echo "$want" > "$junit_reports/.custody-stamp"
fi

# custody's own wheel (crates/custody-wheel, built by maturin from the test venv) for the
# self-release test (crates/custody-e2e/tests/it/self_release.rs), rebuilt when the
# workspace's sources change. A debug build that shares the test build's compiled
# dependencies (cargo's build-dir is the workspace's target/) but puts its binaries in
# target/wheel: target/debug holds the step crates' binaries of the same names, which
# the tests run. Stripped, so the wheel moves quickly through publish and install.
custody_wheel=$fixtures/custody-wheel
build_dir=${CARGO_TARGET_DIR:-$root/target}
want=$( (cd "$root" && find Cargo.toml Cargo.lock crates -type f \( -name '*.rs' -o -name '*.toml' \
  -o -name '*.md' -o -name Cargo.lock \) -not -path '*/tests/*' | LC_ALL=C sort | xargs cat;
  cat "$venv/.custody-stamp") | sha256sum | cut -c1-16)
if [ "$(cat "$custody_wheel/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "building custody's wheel with maturin"
  rm -rf "$custody_wheel.new"
  if ! (cd "$root" && CARGO_BUILD_BUILD_DIR=$build_dir CARGO_TARGET_DIR=$build_dir/wheel \
      "$venv/bin/maturin" build --locked --profile dev --strip \
      --manifest-path crates/custody-wheel/Cargo.toml --out "$custody_wheel.new" \
      >"$fixtures/custody-wheel.log" 2>&1); then
    cat "$fixtures/custody-wheel.log" >&2; exit 1
  fi
  echo "$want" > "$custody_wheel.new/.custody-stamp"
  rm -rf "$custody_wheel" && mv "$custody_wheel.new" "$custody_wheel"
fi

# 4. Coverage reports from the field, for upload-coverage's conformance tests: real
#    projects' test suites (sdists pinned by sha256) run under coverage.py 5.5, 6.5 and
#    7.x, each in a virtualenv of its own, in two halves and combined, with each
#    report's `coverage report` beside it. Made again only when the pins or the
#    generator change (a few minutes on a fresh machine).
field_def=$root/tests/fixtures/upload-coverage/field
field=$fixtures/coverage-field
want=$(stamp_of "$field_def"/*)
if [ "$(cat "$field/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "running real projects' test suites under coverage.py 5, 6 and 7 (once)"
  "$python" "$field_def/generate.py" "$field"
  echo "$want" > "$field/.custody-stamp"
fi

# 6. The other real package indexes publish-pypi's tests upload to (devpi-server), in a
#    virtualenv of their own (tests/requirements-indexes.txt).
index_venv=${CUSTODY_INDEX_VENV:-$root/target/index-venv}
venv_with "$index_venv" "$root/tests/requirements-indexes.txt"

# 7. PEP 740 attestations: the tools that define their truth (pypi-attestations and
#    sigstore-python, tests/requirements-sigstore.txt) in a virtualenv of their own, and
#    real attestations made by PyPI's publishing flows with the files they attest
#    (tests/fixtures/attestations.txt), in target/test-fixtures/attestations.
sigstore_venv=${CUSTODY_SIGSTORE_VENV:-$root/target/sigstore-venv}
venv_with "$sigstore_venv" "$root/tests/requirements-sigstore.txt"
attest=$fixtures/attestations
want=$(stamp_of "$root/tests/fixtures/attestations.txt")
if [ "$(cat "$attest/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "downloading real PEP 740 attestations and the files they attest"
  rm -rf "$attest" && mkdir -p "$attest/released"
  tmp=$(mktemp -d)
  grep -v '^#' "$root/tests/fixtures/attestations.txt" | while read -r sha file args; do
    [ -n "$sha" ] || continue
    # shellcheck disable=SC2086
    "$vpython" -m pip download --quiet --disable-pip-version-check --no-deps --no-build-isolation -d "$tmp" $args >&2
    got=$(sha256sum "$tmp/$file" 2>/dev/null | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
      say "$file has sha256 ${got:-none}, expected $sha"; exit 1
    fi
    mv "$tmp/$file" "$attest/released/$file"
  done
  tar -xzf "$attest/released/pypi_attestations-0.0.30.tar.gz" -C "$tmp"
  mv "$tmp"/pypi_attestations-0.0.30/test/assets "$attest/assets"
  rm -rf "$tmp"
  echo "$want" > "$attest/.custody-stamp"
fi

echo "export CUSTODY_TEST_PYTHON=$vpython"
echo "export CUSTODY_SIGSTORE_VENV=$sigstore_venv"
echo "export CUSTODY_INDEX_VENV=$index_venv"
echo "export CUSTODY_TEST_FIXTURES=$fixtures"
echo "export CUSTODY_CHECK_JSONSCHEMA=$check_venv/bin/check-jsonschema"
