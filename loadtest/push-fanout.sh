#!/usr/bin/env bash
# Fan-out with the notification sender on and off (issue 18, docs/performance.md "Fan-out with notifications on and
# off"): for each mode, a fresh `zvonok serve` on an embedded cluster (port 8090, data in /tmp/zvonok-push-MODE), 100
# class chats of 30 set up by `zvonok-load fanout`, a Web Push subscription for every member (inserted with psql; the
# members are connected, so nothing is sent), then 1,000 msg/s for DURATION seconds. Prints one line per run.
#
#   bash loadtest/push-fanout.sh BINDIR          # BINDIR holds release builds of zvonok and zvonok-load
#   MODES="off on off on" DURATION=20 bash loadtest/push-fanout.sh .build/release
set -uo pipefail
bin=$1
ulimit -n 20000
for mode in ${MODES:-off on off on}; do
    data=/tmp/zvonok-push-$mode
    rm -rf "$data" "$data"-*.json "$data".*; mkdir -p "$data"
    extra=(); [ "$mode" = off ] && extra=(--no-push-sender)
    "$bin/zvonok" --data-dir "$data" --port 8090 --send-rate 0 --log-level notice "${extra[@]}" > "$data.log" 2>&1 &
    server=$!
    for _ in $(seq 1 240); do curl -fsS http://127.0.0.1:8090/health > /dev/null 2>&1 && break; sleep 0.5; done
    token=$("$bin/zvonok" token --role ministry --data-dir "$data" --log-level warning)
    common=(--server http://127.0.0.1:8090 --token "$token" --setup "$data-100x30.json" --chats 100 --classes-per-school 25
        --members 30 --quiet)
    "$bin/zvonok-load" fanout "${common[@]}" --rate 10 --duration 1 > /dev/null 2>&1
    url=$(grep -o 'psql "[^"]*"' "$data.log" | head -1 | sed 's/psql "//; s/"$//')
    psql "$url" -qAtc "INSERT INTO push_subscriptions (person_id, endpoint, p256dh, auth)
        SELECT id, 'https://fcm.googleapis.com/fcm/send/bench-' || id, decode('04' || repeat('00', 64), 'hex'),
               decode(repeat('00', 16), 'hex')
        FROM people WHERE role IN ('student', 'teacher') ON CONFLICT DO NOTHING" > /dev/null
    out="$data.out"
    "$bin/zvonok-load" fanout "${common[@]}" --rate 1000 --duration "${DURATION:-20}" --server-pid "$server" > "$out" 2>&1
    printf "sender %s: %s | server CPU µs/message %s | send→ack p99 %s ms | send→last recipient p50/p99/max %s ms\n" "$mode" \
        "$(grep -o 'PASSED\|FAILED' "$out" | head -1)" "$(grep 'server CPU µs/message' "$out" | awk '{print $4}')" \
        "$(grep 'send→ack' "$out" | awk '{print $5}')" "$(grep 'send→last recipient' "$out" | awk '{print $4 "/" $6 "/" $8}')"
    kill "$server"; wait "$server" 2> /dev/null
done
