#!/usr/bin/env bash
# The load balancer test: docker/compose.yaml's two nodes behind nginx, natively on loopback. Starts node a with its
# embedded PostgreSQL and node b on the same database, runs nginx with a copy of docker/nginx.conf that differs only
# in what ties it to Docker (Tests/lb/nginx_conf.py), drives a small `zvonok-load fanout` through the balancer
# alone, and checks from nginx's access log that WebSocket upgrades reached both nodes, about evenly (least_conn),
# that /health and /metrics behave as nginx.conf says, and that invite codes stay out of the log. Everything it
# started is stopped on exit and its throwaway folder removed; the logs are kept in .build/lb-test-output/.
#
# Needs nginx (.ci/lb-test.sh installs it), curl, python3 and a prior `swift build` (zvonok and zvonok-load).
# Environment: ZVONOK_BIN, ZVONOK_LOAD_BIN (default .build/debug/…), LB_CHATS (10), LB_MEMBERS (30), LB_RATE
# (messages a second, 50), LB_DURATION (seconds, 5).
set -euo pipefail
cd "$(dirname "$0")/../.."

zvonok=${ZVONOK_BIN:-.build/debug/zvonok}
load=${ZVONOK_LOAD_BIN:-.build/debug/zvonok-load}
chats=${LB_CHATS:-10}
members=${LB_MEMBERS:-30}
rate=${LB_RATE:-50}
duration=${LB_DURATION:-5}
output=.build/lb-test-output
started=$SECONDS

for program in "$zvonok" "$load"; do
    [ -x "$program" ] || { echo "lb: $program is missing; run 'swift build' first" >&2; exit 2; }
done
command -v nginx >/dev/null 2>&1 || { echo "lb: nginx is missing (bash .ci/lb-test.sh installs it)" >&2; exit 2; }

work=$(mktemp -d /tmp/zvonok-lb.XXXXXX)
chmod 755 "$work"   # as root, the embedded cluster runs as `postgres`, which must reach the folder
mkdir -p "$work/nginx" "$output"
rm -f "$output"/*
source Tests/support/zvonok-server.sh
zvonok_cleanup() {
    cp "$work"/*.log "$work"/load.* "$work/nginx/nginx.conf" "$work"/nginx/*.log "$output"/ 2>/dev/null || true
    rm -rf "$work"
}

# fail MESSAGE [LOG…]: says what failed, shows the logs' tails and exits (the trap stops everything).
fail() {
    echo "lb: FAILED: $1" >&2
    shift
    for log in "$@"; do
        [ -s "$log" ] && { echo "--- $log (last lines)" >&2; tail -15 "$log" >&2; }
    done
    exit 1
}

# Three distinct free loopback ports: node a, node b, the balancer.
pa=$(zvonok_free_port)
pb=$(zvonok_free_port)
pl=$(zvonok_free_port)
while [ "$pb" = "$pa" ]; do pb=$(zvonok_free_port); done
while [ "$pl" = "$pa" ] || [ "$pl" = "$pb" ]; do pl=$(zvonok_free_port); done

# Node a owns the embedded cluster; it logs the URL that reaches it (a Unix socket in its data folder).
node_options=(--send-rate 0 --log-level notice)
zvonok_start "$work/a.log" "$zvonok" serve --data-dir "$work/data" --port "$pa" --node-name a "${node_options[@]}"
echo "lb: node a on 127.0.0.1:$pa (embedded PostgreSQL)"
zvonok_wait_healthy "$pa" "$work/a.log" '"listener":"up"'
url=$(sed -n 's/.*connect with: psql "\(postgresql:[^"]*\)"$/\1/p' "$work/a.log" | head -1)
[ -n "$url" ] || fail "node a logged no database URL" "$work/a.log"

zvonok_start "$work/b.log" "$zvonok" serve --database-url "$url" --port "$pb" --node-name b "${node_options[@]}"
echo "lb: node b on 127.0.0.1:$pb, database $url"
zvonok_wait_healthy "$pb" "$work/b.log" '"listener":"up"'

# nginx from docker/nginx.conf itself; in the foreground (daemon off) so that it is our child and stops with us.
python3 Tests/lb/nginx_conf.py docker/nginx.conf "$work/nginx/nginx.conf" "$work/nginx" "$pl" "$pa" "$pb"
nginx_args=(-p "$work/nginx/" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf")
timeout 30 nginx -t -q "${nginx_args[@]}" || fail "nginx -t refused the generated configuration" "$work/nginx/error.log"
zvonok_start "$work/nginx/stderr.log" nginx "${nginx_args[@]}" -g 'daemon off;'
echo "lb: $(nginx -v 2>&1 | sed 's/.*version: //') on 127.0.0.1:$pl"
zvonok_wait_healthy "$pl" "$work/nginx/error.log"
access=$work/nginx/access.log

# GET URL: prints the status code, and the body into $work/body.
status() { curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "$1" || echo 000; }

# /health goes to whichever node least_conn picks, and is not logged.
health_nodes=()
for _ in 1 2 3 4; do
    code=$(status "http://127.0.0.1:$pl/health")
    [ "$code" = 200 ] || fail "/health through the balancer answered $code" "$work/nginx/error.log"
    node=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["node"].split("-")[0])' "$work/body")
    health_nodes+=("$node")
done
# /metrics (and /metrics/, which the nodes' router also serves) is nginx's own 404; a node answers it directly.
for path in /metrics /metrics/; do
    code=$(status "http://127.0.0.1:$pl$path")
    [ "$code" = 404 ] || fail "$path through the balancer answered $code, not 404"
done
code=$(status "http://127.0.0.1:$pa/metrics")
[ "$code" = 200 ] && grep -q '^# TYPE ' "$work/body" || fail "/metrics on node a answered $code"
grep -q '"GET /health"' "$access" && fail "/health was logged, though nginx.conf says access_log off"
metrics_lines=$(grep -c '"GET /metrics/\?" 404 .* upstream=- ' "$access" || true)
[ "$metrics_lines" = 2 ] || fail "the access log lacks the two /metrics requests answered by nginx itself" "$access"

# The load, through the balancer only.
token=$(timeout 60 "$zvonok" token --role ministry --data-dir "$work/data" --log-level warning) \
    || fail "zvonok token failed"
echo "lb: zvonok-load fanout: $chats chats × $members members, $rate msg/s for $duration s, through the balancer"
load_rc=0
timeout 180 "$load" fanout --server "http://127.0.0.1:$pl" --token "$token" \
    --chats "$chats" --members "$members" --rate "$rate" --duration "$duration" --drain 5 \
    --quiet --json "$work/load.json" >"$work/load.txt" 2>&1 || load_rc=$?
result=$(grep -m1 '^== zvonok-load' "$work/load.txt" || true)
[ "$load_rc" = 0 ] && [[ $result == *PASSED* ]] \
    || { cat "$work/load.txt" >&2; fail "zvonok-load exited $load_rc" "$work"/[ab].log "$work/nginx/error.log"; }
read -r opened sent delivered < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
print(c["opened"], c["sent"], c["delivered"])' "$work/load.json")

# nginx logs a WebSocket when its tunnel closes: wait (bounded) until every connection zvonok-load opened is there.
ws_count() { grep -c '"GET /v1/ws" 101 ' "$access" || true; }
for _ in $(seq 1 40); do [ "$(ws_count)" -ge "$opened" ] && break; sleep 0.5; done
upgrades=$(ws_count)
[ "$upgrades" = "$opened" ] || fail "$upgrades upgrades (101 on /v1/ws) logged, $opened connections opened" "$access"
others=$(grep '"GET /v1/ws" ' "$access" | grep -vc '"GET /v1/ws" 101 ' || true)
[ "$others" = 0 ] || fail "$others handshakes on /v1/ws were not answered 101" "$access"
on_a=$(grep -c "\"GET /v1/ws\" 101 .* upstream=127.0.0.1:$pa " "$access" || true)
on_b=$(grep -c "\"GET /v1/ws\" 101 .* upstream=127.0.0.1:$pb " "$access" || true)
[ $((on_a + on_b)) = "$upgrades" ] || fail "some upgrades name another upstream (a retry?)" "$access"
# least_conn over connections that all stay open: each node should hold about half; allow 40–60 %.
smaller=$((on_a < on_b ? on_a : on_b))
[ $((smaller * 10)) -ge $((upgrades * 4)) ] || fail "unbalanced: node a $on_a, node b $on_b WebSocket upgrades"

# zvonok-load activated its people's invites through the balancer: the codes (XXXX-XXXX-XXXX-XXXX-XXXX, in the
# path) must not be in the access log.
activations=$(grep -c '"POST /v1/invites/-/activate" 200 ' "$access" || true)
[ "$activations" -gt 0 ] || fail "no invite activation logged as /v1/invites/-/activate" "$access"
if grep -E '/v1/invites/[^-]|[0-9A-Z]{4}(-[0-9A-Z]{4}){4}' "$access" | head -3 >&2; then
    fail "invite codes reached the access log (above)"
fi

# Both nodes came through it well, and nginx logged no error.
for port in "$pa" "$pb"; do
    code=$(status "http://127.0.0.1:$port/health")
    [ "$code" = 200 ] && grep -q '"listener":"up"' "$work/body" || fail "node on $port is not healthy after the load"
done
if grep -E '\[(error|crit|alert|emerg)\]' "$work/nginx/error.log" >&2; then
    fail "nginx logged errors (above)"
fi

echo "lb: WebSocket upgrades (101 on /v1/ws): node a $on_a, node b $on_b, of $opened connections zvonok-load opened"
echo "lb: $result  sent $sent, delivered $delivered"
echo "lb: /health through the balancer: 200 from ${health_nodes[*]}, not logged; /metrics and /metrics/: 404 from nginx"
echo "lb: $activations invite activations logged without their codes"
echo "lb: PASSED in $((SECONDS - started)) s"
