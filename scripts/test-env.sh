#!/usr/bin/env bash
# Prepares what the test suite drives as real peers, idempotently:
#   - a Python virtualenv with the pinned tools of tests/requirements.txt
#     (build, pytest, pypiserver, twine, ...), in target/test-venv;
#   - the sample project built into a wheel and an sdist, in target/test-fixtures/sample-dist;
#   - real artifacts from PyPI (tests/fixtures/pypi-artifacts.txt), sha256-checked,
#     in target/test-fixtures/pypi.
#   - check-jsonschema (tests/requirements-check.txt) in target/check-venv.
# Prints the environment the tests read (CUSTODY_TEST_PYTHON, CUSTODY_TEST_FIXTURES,
# CUSTODY_CHECK_JSONSCHEMA).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CUSTODY_TEST_VENV:-$root/target/test-venv}
fixtures=${CUSTODY_TEST_FIXTURES:-$root/target/test-fixtures}
python=${PYTHON:-python3}

say() { printf '[test-env] %s\n' "$*" >&2; }
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

mkdir -p "$fixtures"

# 1. The virtualenv, rebuilt when the requirements change.
want=$(stamp_of "$root/tests/requirements.txt")
if [ "$(cat "$venv/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/tests/requirements.txt"
  echo "$want" > "$venv/.custody-stamp"
fi
vpython=$venv/bin/python

# 1b. The CI-YAML validator in a virtualenv of its own (its dependencies conflict with
#     codecov-cli's).
check_venv=${CUSTODY_CHECK_VENV:-$root/target/check-venv}
want=$(stamp_of "$root/tests/requirements-check.txt")
if [ "$(cat "$check_venv/.custody-stamp" 2>/dev/null)" != "$want" ]; then
  say "creating $check_venv"
  rm -rf "$check_venv"
  "$python" -m venv "$check_venv"
  "$check_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/tests/requirements-check.txt"
  echo "$want" > "$check_venv/.custody-stamp"
fi

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

echo "export CUSTODY_TEST_PYTHON=$vpython"
echo "export CUSTODY_TEST_FIXTURES=$fixtures"
echo "export CUSTODY_CHECK_JSONSCHEMA=$check_venv/bin/check-jsonschema"
