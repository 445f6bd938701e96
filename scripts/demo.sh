#!/usr/bin/env bash
# The main job, locally: the original project's build pipeline and release pipeline, on
# the sample package in tests/fixtures/sample-project, with custody's steps.
#
#   build pipeline (two matrix jobs: python=3.7/x86/windows is the release set,
#   python=3.11/x64/linux is not): build wheel (+ sdist in the release job), run
#   pytest with JUnit and coverage output, publish-test-results, collect and label the
#   artifacts;
#   fan-in: merge the jobs' manifests, select the release set, stage and verify it;
#   tag-build checks the tag v0.18.3 against the release set's version
#   (scripts/build-pipeline.sh, as any shell-only CI would run it).
#   release pipeline (scripts/release-pipeline.sh): start a pypiserver on 127.0.0.1,
#   approve-gate (a decision file), publish the approved release set with publish-pypi
#   (a dry run first, then the upload, then a re-run that skips what is there), and
#   pip install the released package from that index.
#
# Everything it writes is under target/demo/; it prints where each output went.
# Needs only cargo and python3 (the tools come from PyPI into target/test-venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

demo=$root/target/demo
bin=$root/target/debug
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
where() { printf '   -> %-28s %s\n' "$1" "${2#"$root"/}"; }

step "building the workspace"
cargo build --workspace --bins --quiet

step "preparing Python tools (target/test-venv)"
test_env=$(scripts/test-env.sh)
eval "$test_env"
python=$CUSTODY_TEST_PYTHON

rm -rf "$demo"
mkdir -p "$demo/jobs"
# The CI context the steps see: a local run (no CI variables), so nothing leaks in from
# the machine's environment either.
unset TF_BUILD GITHUB_ACTIONS GITLAB_CI
export CUSTODY_CI_PROVIDER=none

# The project's source under git, tagged as a release.
src=$demo/source
cp -r tests/fixtures/sample-project "$src"
git -C "$src" init --quiet --initial-branch=main
git -C "$src" -c user.name=demo -c user.email=demo@example.org add -A
git -C "$src" -c user.name=demo -c user.email=demo@example.org commit --quiet -m "custody-sample 0.18.3"
git -C "$src" tag v0.18.3

export CUSTODY_BIN=$bin PYTHON=$python

# One matrix job of the build pipeline (scripts/build-pipeline.sh job): build, test,
# publish test results and coverage, collect.
job() {
    local name=$1 python_label=$2 arch=$3 os=$4 with_sdist=$5
    local out=$demo/jobs/$name
    step "build job $name (python=$python_label arch=$arch os=$os)"
    local extra=()
    [[ "$with_sdist" == yes ]] && extra+=(--sdist)
    scripts/build-pipeline.sh job --source "$src" --out "$out" --no-isolation --no-codecov \
        --cov custody_sample --label "python=$python_label" --label "arch=$arch" --label "os=$os" \
        ${extra[@]+"${extra[@]}"}
    rm -rf "$src/build" "$src"/src/*.egg-info
    where "build log" "$out/build.log"
    where "pytest log" "$out/pytest.log"
    where "JUnit XML" "$out/junit.xml"
    where "coverage (Cobertura)" "$out/coverage.xml"
    where "artifacts + manifest" "$out/dist/manifest.json"
}

job py37-x86 3.7 x86 windows yes
job py311-x64 3.11 x64 linux no

step "fan-in: coverage of the whole matrix"
(cd "$src" && "$bin/upload-coverage" "$demo"/jobs/*/coverage.xml --no-codecov --output "$demo/coverage-merged.xml")
where "merged coverage" "$demo/coverage-merged.xml"

step "fan-in: merge, select the release set (python=3.7, arch=x86), tag-build on v0.18.3"
scripts/build-pipeline.sh fan-in --source "$src" --jobs "$demo/jobs" --out "$demo" \
    --where python=3.7 --where arch=x86 --require-release
where "merged manifest" "$demo/all.json"
where "release set" "$demo/release/"

step "release pipeline: publish to a local index and install from it"
index=$demo/index
mkdir -p "$index/packages"
"$python" -c "from passlib.apache import HtpasswdFile as H; h=H('$index/htpasswd', new=True); h.set_password('demo', 'demo-upload-pw'); h.save()"
port=$("$python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$(dirname "$python")/pypi-server" run -i 127.0.0.1 -p "$port" -P "$index/htpasswd" -a update \
    --disable-fallback "$index/packages" >"$index/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do
    "$python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
    sleep 0.2
done
# The release pipeline (scripts/release-pipeline.sh): verify, the manual confirmation
# (non-interactive: the release manager's decision file), publish. A dry run first, then
# the upload, then a re-run that finds everything already there.
mkdir -p "$demo/decisions"
echo '{"decision": "approve", "by": "release-manager", "reason": "demo"}' >"$demo/decisions/approve.json"
export PYPI_LOGIN=demo PYPI_PASSWORD=demo-upload-pw
release=(scripts/release-pipeline.sh --release "$demo/release" --repository-url "http://127.0.0.1:$port/")
gate=(-- --decision-dir "$demo/decisions" --timeout 30s --poll-interval 200ms)
${release[@]+"${release[@]}"} --dry-run ${gate[@]+"${gate[@]}"}
${release[@]+"${release[@]}"} ${gate[@]+"${gate[@]}"}
"$bin/publish-pypi" --manifest "$demo/release/release.json" --approval "$demo/approval.json" \
    --repository-url "http://127.0.0.1:$port/" --json >"$demo/publish-rerun.json"
unset PYPI_LOGIN PYPI_PASSWORD
"$python" -m pip install --quiet --isolated --no-cache-dir --no-deps --disable-pip-version-check \
    --index-url "http://127.0.0.1:$port/simple/" --target "$demo/installed" custody-sample==0.18.3
PYTHONPATH="$demo/installed" "$python" -c \
    "import custody_sample, importlib.metadata as m; print('installed custody-sample', m.version('custody-sample'), 'from the local index:', custody_sample.bit_positions('demo')[:3])"
where "approval record" "$demo/approval.json"
where "index (pypiserver)" "http://127.0.0.1:$port/simple/ (stopped at exit)"
where "index storage" "$index/packages/"
where "re-run result (JSON)" "$demo/publish-rerun.json"
where "installed package" "$demo/installed/"

step "done"
echo "Everything the demo wrote is under ${demo#"$root"/}/."
