#!/usr/bin/env bash
# CI: the web client's browser test (Tests/browser/run.sh) against the debug build `swift build` made.
# Installs headless Chromium, its driver, python3's venv and poppler-utils through apt-get when the machine lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The admin console's test reads the printed invite sheet back with pdftotext and pdfimages.
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} (apt-get)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

bash Tests/browser/run.sh
