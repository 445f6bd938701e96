#!/usr/bin/env bash
# The whole test run, exactly as CI runs it (.ci/run calls this):
#   1. prepare the Python peers and fixtures (scripts/test-env.sh),
#   2. action.yml, examples/ and templates/ against the GitHub and Azure schemas
#      (their step invocations are checked against each step's --help by the tests),
#   3. no unused dependency (cargo-machete), 4. cargo fmt --check,
#   5. clippy with warnings as errors, 6. every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# A failing setup stops here (an `eval "$(...)"` alone would swallow its exit status).
test_env=$(scripts/test-env.sh)
eval "$test_env"
export CUSTODY_TEST_PYTHON CUSTODY_TEST_FIXTURES

echo "== validating action.yml, the example workflows and the Azure templates"
scripts/check-ci-yaml.sh

echo "== shellcheck (every shipped script; POSIX sh ones as sh: no bashisms)"
shellcheck scripts/*.sh

echo "== unused dependencies (cargo-machete)"
machete=$root/target/tools/bin/cargo-machete
if [ "$("$machete" --version 2>/dev/null)" != "0.9.2" ]; then
  # Its own target dir: the workspace's build lock is not held while it compiles.
  CARGO_TARGET_DIR=$root/target/tools/build cargo install --quiet --locked \
    --root "$root/target/tools" cargo-machete@0.9.2
fi
"$machete" "$root"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
set +e
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee target/test-output.log
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, in the form CI readers recognise.
passed=$(grep -Eo 'test result: [A-Za-z]+\. [0-9]+ passed' target/test-output.log | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.log | awk '{s+=$1} END {print s+0}')
echo "$passed passed, $failed failed"
exit "$status"
