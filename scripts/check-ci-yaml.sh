#!/usr/bin/env bash
# Validates the CI YAML we ship against the schemas check-jsonschema vendors (no
# network): action.yml (GitHub Actions metadata), the example and project workflows
# (GitHub workflows), the Azure Pipelines templates and examples (Azure Pipelines).
# check-jsonschema comes from scripts/test-env.sh ($CUSTODY_CHECK_JSONSCHEMA).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check=${CUSTODY_CHECK_JSONSCHEMA:-check-jsonschema}

"$check" --builtin-schema vendor.github-actions action.yml
"$check" --builtin-schema vendor.github-workflows examples/github/*.yml .github/workflows/*.yml
# The vendored Azure schema has a pattern only Python's regex engine compiles.
"$check" --regex-variant python --builtin-schema vendor.azure-pipelines templates/azure/*.yml templates/azure/steps/*.yml examples/azure/*.yml
