#!/usr/bin/env bash
# The release pipeline in plain shell, for CI systems without templates (GitLab CI,
# Jenkins): re-verify the release set the build pipeline selected, ask for the manual
# confirmation (approve-gate), then publish exactly the approved files (publish-pypi).
#
# Usage:
#   release-pipeline.sh --release DIR --repository-url URL [--dry-run] -- APPROVE-GATE-ARGS...
#
#   --release DIR         the release set: DIR/release.json and its files (from
#                         `build-pipeline.sh fan-in`, downloaded from the build)
#   --repository-url URL  the index's upload URL (default: PyPI)
#   --approval FILE       where the approval record goes (default: DIR/../approval.json)
#   --dry-run             verify, approve and check everything, upload nothing
#   after --               how approve-gate gets the decision, e.g.
#                         `--decision-dir /shared/decisions --timeout 2h`, or
#                         `--github-issue --approvers alice,bob`, or
#                         `--approved-by NAME --manifest-digest DIGEST` after the CI's own gate
#
# Credentials: PYPI_LOGIN/PYPI_PASSWORD (or TWINE_USERNAME/TWINE_PASSWORD, or trusted
# publishing on GitHub); publish-pypi never prints them. The steps come from
# $CUSTODY_BIN (default: PATH). Exit status: the first failing step's: 1 rejected or
# changed files, 3 bad input, 4 the index refused, 5 no decision in time.
set -euo pipefail

die() { printf 'release-pipeline.sh: %s\n' "$*" >&2; exit 2; }
step() { printf '\n== %s\n' "$*" >&2; }
tool() {
    local name=$1
    shift
    if [[ -n "${CUSTODY_BIN:-}" ]]; then "$CUSTODY_BIN/$name" "$@"; else "$name" "$@"; fi
}

release='' repository=() approval='' dry_run=()
while (($#)); do
    case $1 in
        --release) release=$2; shift 2 ;;
        --repository-url) repository=(--repository-url "$2"); shift 2 ;;
        --approval) approval=$2; shift 2 ;;
        --dry-run) dry_run=(--dry-run); shift ;;
        --) shift; break ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option \`$1\` (approve-gate's options go after \`--\`)" ;;
    esac
done
[[ -n "$release" ]] || die "--release DIR is required: the directory with release.json and its files"
manifest=$release/release.json
[[ -f "$manifest" ]] || die "\`$manifest\` does not exist: pass the release set from \`build-pipeline.sh fan-in\` as --release"
approval=${approval:-$(dirname "$release")/approval.json}

step "verify the release set"
tool collect-artifacts verify --manifest "$manifest" --strict

step "manual confirmation"
tool approve-gate --manifest "$manifest" --out "$approval" "$@"

step "publish${dry_run:+ (dry run)}"
tool publish-pypi --manifest "$manifest" --approval "$approval" ${repository[@]+"${repository[@]}"} ${dry_run[@]+"${dry_run[@]}"}
