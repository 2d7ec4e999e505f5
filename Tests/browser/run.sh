#!/usr/bin/env bash
# The web client's browser test: starts the built debug server with its demo region on a free port and a throwaway
# data folder, drives two headless Chromium windows with Selenium, and always stops the server. Needs `chromium`,
# `chromium-driver` and python3's venv (.ci/browser-test.sh installs them) and a prior `swift build`.
# Screenshots and logs go to .build/browser-test-output/.
set -euo pipefail
cd "$(dirname "$0")/../.."

output=.build/browser-test-output
venv=.build/browser-venv
server=.build/debug/zvonok
mkdir -p "$output"
[ -x "$server" ] || { echo "No $server: run swift build first" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import selenium, cryptography" 2>/dev/null ||
    timeout 300 "$venv/bin/pip" install --quiet "selenium>=4.20,<5" "cryptography>=41"

source Tests/support/zvonok-server.sh
port=$(zvonok_free_port)
data=$(mktemp -d /tmp/zvonok-browser.XXXXXX)
chmod 755 "$data"   # as root, the embedded cluster runs as `postgres`, which must reach the folder
log="$output/server.log"
zvonok_cleanup() { rm -rf "$data"; }
trap zvonok_cleanup EXIT

# Twelve weeks of a small generated region (55) for the admin console's trend dashboard, and a ministry token of
# its own (the demo ministry's sign-in link is the chat test's to use), made before the server takes the cluster.
"$server" demo-data --data-dir "$data" --log-level warning --regions 1 --first-region 55 --municipalities 2 --schools 4 \
    --classes 2 --students 3 --teachers 3 --weeks 12 --messages 2000 > "$output/demo-data.log" 2>&1
ministry_token=$("$server" token --role ministry --data-dir "$data" --log-level warning 2>> "$output/demo-data.log")

# The OpenID Connect provider of the sign-in test (test_sign_in.py), which the server signs in through.
provider_port=$(zvonok_free_port)
zvonok_start "$output/provider.log" "$venv/bin/python" Tests/browser/oidc_provider.py "$provider_port" zvonok browser-secret
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$provider_port/jwks" >/dev/null 2>&1 && break; sleep 0.2; done

# No send limit: the test sends a burst of messages to fill a page of history.
zvonok_start "$log" env ZVONOK_OIDC_CLIENT_SECRET=browser-secret "$server" serve --demo --port "$port" --data-dir "$data" \
    --log-level notice --send-rate 0 --oidc-issuer "http://127.0.0.1:$provider_port" --oidc-client-id zvonok \
    --oidc-redirect-uri "http://127.0.0.1:$port/"
echo "Waiting for the demo server on port $port (log: $log)"
zvonok_wait_healthy "$port" "$log"

ZVONOK_SERVER_LOG="$log" ZVONOK_BROWSER_OUTPUT="$output" \
    timeout 300 "$venv/bin/python" Tests/browser/test_web_client.py
ZVONOK_SERVER_LOG="$log" ZVONOK_BROWSER_OUTPUT="$output" ZVONOK_URL="http://127.0.0.1:$port/" \
    timeout 120 "$venv/bin/python" Tests/browser/test_sign_in.py
ZVONOK_SERVER_LOG="$log" ZVONOK_BROWSER_OUTPUT="$output" ZVONOK_URL="http://127.0.0.1:$port" \
    timeout 120 "$venv/bin/python" Tests/browser/test_push.py
ZVONOK_SERVER_LOG="$log" ZVONOK_BROWSER_OUTPUT="$output" ZVONOK_URL="http://127.0.0.1:$port" ZVONOK_MINISTRY_TOKEN="$ministry_token" \
    timeout 300 "$venv/bin/python" Tests/browser/test_admin_console.py
