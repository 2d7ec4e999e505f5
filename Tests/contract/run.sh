#!/usr/bin/env bash
# Contract fuzzing of the HTTP API: starts the already-built debug server on a free loopback port with a throwaway
# data folder, seeds a small region through the API (seed.py), then runs schemathesis against docs/openapi.yaml
# three times — as a school admin and a regional admin (who write, so bodies get decoded) and as the ministry (who
# reads everything) — with every check: no 5xx, every status, content type, header and schema as the document says,
# schema-valid requests accepted and schema-violating ones refused, 405 for undeclared methods. The server is always
# stopped. Exits non-zero when schemathesis reports a failure.
#
# Environment: ZVONOK_BIN (default .build/debug/zvonok), FUZZ_MAX_EXAMPLES (cases per operation and phase, default
# 25), FUZZ_MAX_TIME (seconds per pass, default 150), FUZZ_SEED (default 1), FUZZ_KEEP_REPORTS (a folder to copy
# schemathesis's NDJSON reports to; they go with the throwaway folder otherwise).
set -euo pipefail
cd "$(dirname "$0")/../.."

zvonok=${ZVONOK_BIN:-.build/debug/zvonok}
venv=.build/schemathesis-venv
max_examples=${FUZZ_MAX_EXAMPLES:-25}
max_time=${FUZZ_MAX_TIME:-150}
seed=${FUZZ_SEED:-1}

[ -x "$zvonok" ] || { echo "contract: $zvonok is missing; run 'swift build' first" >&2; exit 2; }
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi

work=$(mktemp -d /tmp/zvonok-contract.XXXXXX)
# As root the embedded cluster runs as the postgres user, which must be able to reach its folder.
chmod 755 "$work"
source Tests/support/zvonok-server.sh
port=$(zvonok_free_port)
base="http://127.0.0.1:$port"
zvonok_cleanup() { rm -rf "$work"; }

zvonok_start "$work/server.log" "$zvonok" serve --data-dir "$work/data" --port "$port" --log-level warning
zvonok_wait_healthy "$port" "$work/server.log"

ministry=$("$zvonok" token --role ministry --data-dir "$work/data")
read -r regional school_admin < <(python3 Tests/contract/seed.py "$base" "$ministry" "$work/schemathesis.toml")

failed=0
# From the bottom up: a regional admin may remove the school admin and the ministry the regional admin, which would
# end the next pass's token.
for pass in school_admin regional ministry; do
    token=${!pass}
    echo "contract: schemathesis as $pass"
    # Signing out would revoke the token the rest of the run uses, so that one operation is left out.
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run docs/openapi.yaml \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks all \
        --exclude-operation-id signOut \
        --max-examples "$max_examples" --max-time "$max_time" --seed "$seed" --workers 1 \
        --suppress-health-check all \
        --report ndjson --report-ndjson-path "$work/$pass.ndjson" \
        || failed=1
done
[ -z "${FUZZ_KEEP_REPORTS:-}" ] || cp "$work"/*.ndjson "$FUZZ_KEEP_REPORTS"/
python3 Tests/contract/summary.py "school_admin=$work/school_admin.ndjson" "regional=$work/regional.ndjson" "ministry=$work/ministry.ndjson"

# A 5xx already fails schemathesis's checks; errors the server only logged are shown for a person to read.
if grep -E '^[^ ]+ (error|critical) ' "$work/server.log" >"$work/server-errors.log"; then
    echo "contract: the server logged $(wc -l <"$work/server-errors.log") errors, the first ones:"
    head -5 "$work/server-errors.log"
fi
if ! kill -0 "$zvonok_pid" 2>/dev/null; then
    echo "contract: the server died during the run" >&2
    tail -20 "$work/server.log" >&2
    failed=1
fi
exit "$failed"
