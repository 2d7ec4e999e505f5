#!/usr/bin/env bash
# The restore drill (issue 21): a PostgreSQL cluster with continuous WAL archiving (archive_command copies every
# finished segment into an archive folder), a hub node on it and steady `zvonok-load fanout`; a base backup taken
# with pg_basebackup while the load runs; the load ends with every send acknowledged, and that moment is the restore
# target; a second load keeps sending after it. Then a new cluster is made from the base backup and the archive
# (restore_command, recovery_target_time), a hub node started on it, and checked: every message acknowledged before
# the target is there (as many rows as the first load's acks, every chat gap-free) and nothing sent after it.
# Everything started is stopped on exit; logs are kept in .build/ha-restore-output/.
#
# Needs PostgreSQL 15's server programs, curl, python3 and a prior `swift build`. Environment: ZVONOK_BIN,
# ZVONOK_LOAD_BIN, DRILL_CHATS (10), DRILL_MEMBERS (20), DRILL_RATE (messages a second, 50), DRILL_DURATION
# (seconds of each load, 30).
set -euo pipefail
cd "$(dirname "$0")/../.."

zvonok=${ZVONOK_BIN:-.build/debug/zvonok}
load=${ZVONOK_LOAD_BIN:-.build/debug/zvonok-load}
chats=${DRILL_CHATS:-10}
members=${DRILL_MEMBERS:-20}
rate=${DRILL_RATE:-50}
duration=${DRILL_DURATION:-30}
output=.build/ha-restore-output
started=$SECONDS


test_name=restore
work=$(mktemp -d /tmp/zvonok-drill.XXXXXX)
mkdir -p "$output"
rm -f "$output"/*
source Tests/support/zvonok-server.sh
source Tests/ha/postgres-support.sh
require_built "$zvonok" "$load"
pg_prepare_work

clusters=()
zvonok_cleanup() {
    local data
    for data in "${clusters[@]}"; do as_postgres pg_ctl stop -D "$data" -m fast -t 60 >/dev/null 2>&1 || true; done
    cp "$work"/*.log "$work"/pg/*.log "$work"/load* "$output"/ 2>/dev/null || true
    rm -rf "$work"
}
trap zvonok_stop EXIT


read -r pp pr pa pc <<<"$(free_ports 4)"
archive=$work/pg/archive
pg_folder "$archive"

# pg_start DATA PORT: starts a cluster on loopback only, its socket in $work/sock.
pg_start() {
    clusters+=("$1")
    as_postgres pg_ctl start -D "$1" -w -t 120 -l "$work/pg/$(basename "$1").log" \
        -o "-p $2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/sock" >/dev/null
}

# The primary: WAL archiving on, each finished segment copied once into the archive (never over an existing one).
as_postgres initdb -D "$work/pg/primary" --auth=trust -U postgres >"$work/initdb.log" 2>&1 || fail "initdb failed" "$work/initdb.log"
cat >>"$work/pg/primary/postgresql.conf" <<CONF
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $archive/%f && cp %p $archive/%f'
archive_timeout = 60
CONF
pg_start "$work/pg/primary" "$pp" || fail "the primary did not start" "$work/pg/primary.log"
psql_at "$pp" postgres "CREATE DATABASE zvonok" >/dev/null
url="postgres://postgres@127.0.0.1:$pp/zvonok"

zvonok_start "$work/a.log" "$zvonok" serve --database-url "$url" --port "$pa" --node-name a --send-rate 0 --log-level notice
zvonok_wait_healthy "$pa" "$work/a.log"
token=$(timeout 60 "$zvonok" token --role ministry --database-url "$url" --log-level warning) || fail "zvonok token failed"

# run_load NAME: `zvonok-load fanout` on node a in the background (the same people in both runs: --setup).
run_load() {
    timeout $((duration + 600)) "$load" fanout --server "http://127.0.0.1:$pa" --token "$token" --setup "$work/setup.json" \
        --chats "$chats" --members "$members" --rate "$rate" --duration "$duration" --drain 30 \
        --quiet --json "$work/$1.json" >"$work/$1.txt" 2>&1 &
    load_pid=$!
}
# finish_load NAME: waits for it; fails unless it passed; sets `acked` to its acknowledged messages.
finish_load() {
    local rc=0
    wait "$load_pid" || rc=$?
    grep -q '^== zvonok-load .*PASSED' "$work/$1.txt" || { cat "$work/$1.txt" >&2; fail "zvonok-load ($1) exited $rc" "$work/a.log"; }
    acked=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counters"]["acked"])' "$work/$1.json")
}
messages_at() { psql_at "$1" zvonok "SELECT count(*) FROM messages"; }

echo "restore: zvonok-load fanout: $chats chats × $members members, $rate msg/s for $duration s; base backup meanwhile"
run_load load-before
sending() { [ "$(messages_at "$pp")" -gt 0 ]; }
wait_for 400 "the first message" sending || fail "no message arrived" "$work/load-before.txt" "$work/a.log"
sleep 2
as_postgres pg_basebackup -h 127.0.0.1 -p "$pp" -U postgres -D "$work/pg/base" -X stream --checkpoint=fast >"$work/basebackup.log" 2>&1 \
    || fail "pg_basebackup failed" "$work/basebackup.log"
in_backup=$(messages_at "$pp")
echo "restore: base backup taken under load ($in_backup messages by then)"
finish_load load-before
acked_before=$acked

# The restore target: every send so far is acknowledged. A second later the next load starts; its messages must not
# come back.
sleep 1
target=$(psql_at "$pp" postgres "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
rows_before=$(messages_at "$pp")
sleep 1
run_load load-after
finish_load load-after
acked_after=$acked
# The segment holding the last commits is archived once it is switched out.
segment=$(psql_at "$pp" postgres "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [ "$(psql_at "$pp" postgres "SELECT coalesce(last_archived_wal >= '$segment', false) FROM pg_stat_archiver")" = t ]; }
wait_for 60 "the last WAL segment being archived" archived || fail "archiving stalled" "$work/pg/primary.log"
echo "restore: target $target: $acked_before messages acknowledged before it, $acked_after after; $(ls "$archive" | wc -l) WAL files archived"

# Point-in-time recovery into a new cluster from the base backup and the archive.
cp -a "$work/pg/base" "$work/pg/restored"
cat >>"$work/pg/restored/postgresql.conf" <<CONF
archive_mode = off
restore_command = 'cp $archive/%f %p'
recovery_target_time = '$target'
recovery_target_action = 'promote'
CONF
as_postgres touch "$work/pg/restored/recovery.signal"
restore_began=$SECONDS
pg_start "$work/pg/restored" "$pr" || fail "the restored cluster did not start" "$work/pg/restored.log"
promoted() { [ "$(psql_at "$pr" postgres "SELECT pg_is_in_recovery()")" = f ]; }
wait_for 300 "the restore reaching its target" promoted || fail "recovery did not end" "$work/pg/restored.log"
echo "restore: recovered to the target in $((SECONDS - restore_began)) s"

zvonok_start "$work/c.log" "$zvonok" serve --database-url "postgres://postgres@127.0.0.1:$pr/zvonok" --port "$pc" --node-name c --log-level notice
zvonok_wait_healthy "$pc" "$work/c.log"
read -r rows broken < <(history_check "$pr")
late=$(psql_at "$pr" zvonok "SELECT count(*) FROM messages WHERE sent_at > '$target'")
[ "$broken" = 0 ] || fail "$broken restored chats have a gap or a doubled seq"
[ "$rows" = "$acked_before" ] && [ "$rows" = "$rows_before" ] \
    || fail "the restored history holds $rows messages; $acked_before were acknowledged before the target ($rows_before rows then)"
[ "$late" = 0 ] || fail "$late messages sent after the target came back"
curl -fsS --max-time 10 "http://127.0.0.1:$pc/health" | grep -q '"database":"up"' || fail "Zvonok on the restored cluster is not healthy" "$work/c.log"

echo "restore: all $rows messages acknowledged before the target are in the restored cluster, every chat gap-free; none of the $acked_after sent after it"
echo "restore: PASSED in $((SECONDS - started)) s"
