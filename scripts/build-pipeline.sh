#!/usr/bin/env bash
# The build pipeline in plain shell, for CI systems without templates (GitLab CI,
# Jenkins, a cron job). Two stages, as in the original Azure pipeline:
#
#   build-pipeline.sh job    — one matrix job: build the wheel (and sdist), run pytest
#                              with JUnit and coverage output, publish the test results
#                              and the coverage (to the CI, and to Codecov when
#                              CODECOV_TOKEN is set), collect and label the artifacts.
#   build-pipeline.sh fan-in — after every job: merge the jobs' manifests, select the
#                              release set, verify it, and decide with tag-build
#                              whether this build is a release (on Azure it is tagged
#                              `Automated`).
#
# Usage:
#   build-pipeline.sh job --source DIR --out DIR --label python=3.7 --label arch=x86 \
#       [--label os=windows] [--sdist] [--cov PACKAGE] [--tests DIR] [--requirements FILE] \
#       [--no-isolation] [--no-codecov]
#   build-pipeline.sh fan-in --source DIR --jobs DIR --out DIR --where python=3.7 \
#       --where arch=x86 [--require-release]
#
# The steps come from $CUSTODY_BIN (default: PATH; see scripts/install.sh), Python from
# $PYTHON (default: python3). The CI context (Azure, GitHub, GitLab or none) is read from
# the environment by every step. Exit status: the first failing step's (documented in
# the README): 1 when tests fail or the tag does not match the version, 3 for bad input.
set -euo pipefail

die() { printf 'build-pipeline.sh: %s\n' "$*" >&2; exit 2; }
step() { printf '\n== %s\n' "$*" >&2; }
tool() {
    local name=$1
    shift
    if [[ -n "${CUSTODY_BIN:-}" ]]; then "$CUSTODY_BIN/$name" "$@"; else "$name" "$@"; fi
}
python=${PYTHON:-python3}
# Every step describes the checkout DIR (its commit and ref go into the manifest, tag-build
# reads its tag), not the directory the script runs in: CUSTODY_SOURCE_DIR, which every
# step reads as its --source.
describe() {
    CUSTODY_SOURCE_DIR=$(cd "$1" && pwd)
    export CUSTODY_SOURCE_DIR
}

job() {
    local source='' out='' sdist=no cov='' tests=tests requirements='' isolation=() codecov=()
    local labels=()
    while (($#)); do
        case $1 in
            --source) source=$2; shift 2 ;;
            --out) out=$2; shift 2 ;;
            --label) labels+=("$2"); shift 2 ;;
            --sdist) sdist=yes; shift ;;
            --cov) cov=$2; shift 2 ;;
            --tests) tests=$2; shift 2 ;;
            --requirements) requirements=$2; shift 2 ;;
            --no-isolation) isolation=(--no-isolation); shift ;;
            --no-codecov) codecov=(--no-codecov); shift ;;
            *) die "unknown option \`$1\` for \`job\` (see the usage at the top of this script)" ;;
        esac
    done
    [[ -n "$source" && -n "$out" ]] || die "job needs --source DIR and --out DIR"
    [[ -d "$source" ]] || die "\`$source\` is not a directory: pass the project's checkout as --source"
    describe "$source"
    mkdir -p "$out/dist"
    out=$(cd "$out" && pwd)
    local title='' flag='' label
    for label in ${labels[@]+"${labels[@]}"}; do
        title+="${title:+ }${label#*=}"
        flag+="${flag:+-}${label#*=}"
    done

    if [[ -n "$requirements" ]]; then
        step "install requirements ($requirements)"
        "$python" -m pip install --disable-pip-version-check -r "$requirements"
    fi

    # Reproducible wheels: every job builds the same bytes from the same commit, so the
    # fan-in can tell a rebuild from a real conflict.
    if [[ -z "${SOURCE_DATE_EPOCH:-}" ]] && git -C "$source" rev-parse --verify -q HEAD >/dev/null 2>&1; then
        SOURCE_DATE_EPOCH=$(git -C "$source" log -1 --format=%ct)
        export SOURCE_DATE_EPOCH
    fi

    step "build ($title)"
    local formats=(--wheel)
    [[ $sdist == yes ]] && formats+=(--sdist)
    (cd "$source" && "$python" -m build ${isolation[@]+"${isolation[@]}"} ${formats[@]+"${formats[@]}"} --outdir "$out/dist" .) \
        >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 3; }

    step "test ($title)"
    # The tests' outcome is publish-test-results' to judge, after publishing them.
    local cov_args=()
    [[ -n "$cov" ]] && cov_args=(--cov="$cov" --cov-branch --cov-report=xml:"$out/coverage.xml")
    (
        cd "$source"
        [[ -d src ]] && export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
        "$python" -m pytest -q -p no:cacheprovider --junitxml="$out/junit.xml" \
            ${cov_args[@]+"${cov_args[@]}"} "$tests"
    ) >"$out/pytest.log" 2>&1 || true
    tail -n 1 "$out/pytest.log" >&2

    step "publish test results"
    local status=0
    tool publish-test-results "$out/junit.xml" --title "Python $title" || status=$?

    if [[ -n "$cov" ]]; then
        step "publish coverage"
        local flags=()
        [[ -n "$flag" ]] && flags=(--flag "$flag")
        (cd "$source" && tool upload-coverage "$out/coverage.xml" ${flags[@]+"${flags[@]}"} ${codecov[@]+"${codecov[@]}"})
    fi
    ((status == 0)) || exit "$status"

    step "collect artifacts"
    local label_args=()
    for label in ${labels[@]+"${labels[@]}"}; do label_args+=(--label "$label"); done
    tool collect-artifacts collect "$out/dist" --out "$out/dist/manifest.json" ${label_args[@]+"${label_args[@]}"}
}

fan_in() {
    local source='' jobs='' out='' wheres=() require=()
    while (($#)); do
        case $1 in
            --source) source=$2; shift 2 ;;
            --jobs) jobs=$2; shift 2 ;;
            --out) out=$2; shift 2 ;;
            --where) wheres+=(--where "$2"); shift 2 ;;
            --require-release) require=(--require-release); shift ;;
            *) die "unknown option \`$1\` for \`fan-in\` (see the usage at the top of this script)" ;;
        esac
    done
    [[ -n "$source" && -n "$jobs" && -n "$out" ]] || die "fan-in needs --source DIR, --jobs DIR and --out DIR"
    [[ -d "$source" ]] || die "\`$source\` is not a directory: pass the project's checkout as --source"
    describe "$source"
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    shopt -s nullglob
    local manifests=("$jobs"/*/dist/manifest.json)
    ((${#manifests[@]})) || die "no job manifests under \`$jobs\` (expected $jobs/<job>/dist/manifest.json)"

    step "merge ${#manifests[@]} job manifest(s)"
    tool collect-artifacts merge ${manifests[@]+"${manifests[@]}"} --out "$out/all.json"

    step "select the release set"
    rm -rf "$out/release"
    tool collect-artifacts select --manifest "$out/all.json" --from "$jobs" ${wheres[@]+"${wheres[@]}"} \
        --copy-to "$out/release"
    tool collect-artifacts verify --manifest "$out/release/release.json" --strict

    step "release decision"
    (cd "$source" && tool tag-build --manifest "$out/release/release.json" ${require[@]+"${require[@]}"})
}

case ${1:-} in
    job) shift; job "$@" ;;
    fan-in) shift; fan_in "$@" ;;
    -h | --help | '') sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ; exit 0 ;;
    *) die "unknown stage \`$1\`: use \`job\` or \`fan-in\`" ;;
esac
