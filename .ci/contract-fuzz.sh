#!/usr/bin/env bash
# CI step: contract fuzzing of the HTTP API with schemathesis (Tests/contract/run.sh). Needs the debug build that
# .ci/run makes first; installs Python's venv module through apt-get if the machine lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "Installing python3-venv (apt-get install python3-venv)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
fi
command -v curl >/dev/null 2>&1 || { apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; }

bash Tests/contract/run.sh
