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
"$venv/bin/python" -c "import selenium" 2>/dev/null || timeout 300 "$venv/bin/pip" install --quiet "selenium>=4.20,<5"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d /tmp/zvonok-browser.XXXXXX)
chmod 755 "$data"   # as root, the embedded cluster runs as `postgres`, which must reach the folder
log="$output/server.log"

# No send limit: the test sends a burst of messages to fill a page of history.
"$server" serve --demo --port "$port" --data-dir "$data" --log-level notice --send-rate 0 >"$log" 2>&1 &
pid=$!
stop_server() {
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
}
trap stop_server EXIT

echo "Waiting for the demo server on port $port (log: $log)"
for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
    kill -0 "$pid" 2>/dev/null || { echo "The server exited:" >&2; tail -30 "$log" >&2; exit 1; }
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "The server did not become healthy" >&2; tail -30 "$log" >&2; exit 1; }

ZVONOK_SERVER_LOG="$log" ZVONOK_BROWSER_OUTPUT="$output" \
    timeout 300 "$venv/bin/python" Tests/browser/test_web_client.py
