# Shared by the PostgreSQL high-availability scripts (Tests/ha/failover.sh, Tests/ha/restore-drill.sh): PostgreSQL's
# and pg_auto_failover's programs run as the `postgres` user when we are root (both refuse root), with their
# configuration and run-time files inside the test's own folder, and process trees stopped by id. Source it after
# Tests/support/zvonok-server.sh and after setting `work` (the test's folder) and `test_name` (the prefix of its
# messages).

export PATH="/usr/lib/postgresql/15/bin:$PATH"
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac

# as_postgres COMMAND...: runs COMMAND as `postgres` when root (as ourselves otherwise), with pg_autoctl's XDG folders
# in $work/xdg so that nothing outside the test's folder is read or written.
as_postgres() {
    local env=(env "PATH=$PATH" "XDG_CONFIG_HOME=$work/xdg/config" "XDG_DATA_HOME=$work/xdg/data"
        "XDG_RUNTIME_DIR=$work/xdg/run")
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "${env[@]}" "$@"
    else
        "${env[@]}" "$@"
    fi
}

# Makes $work reachable for `postgres`, with its own folders: the socket, pg_autoctl's XDG ones, and $work/pg for
# data folders and archives.
pg_prepare_work() {
    mkdir -p "$work/sock" "$work/xdg/config" "$work/xdg/data" "$work/xdg/run" "$work/pg"
    chmod 755 "$work"
    chmod 700 "$work/xdg/run"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$work/sock" "$work/xdg" "$work/pg"
    return 0
}

# pg_folder PATH: makes an empty folder owned by `postgres` (a data folder, a WAL archive).
pg_folder() {
    mkdir -p "$1"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$1"
    return 0
}

# descendants PID: prints the process ids under PID (children first, then theirs), one a line.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

# kill_tree SIGNAL PID: sends SIGNAL to PID and every process under it, all listed first and then signalled at
# once — for SIGKILL, the machine dying.
kill_tree() {
    local signal=$1 pids
    pids=$(
        echo "$2"
        descendants "$2"
    )
    # shellcheck disable=SC2086
    kill "-$signal" $pids 2>/dev/null || true
}

# wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND every half second until it succeeds, at most SECONDS long;
# on time-out says what did not happen and returns 1.
wait_for() {
    local seconds=$1 description=$2 i
    shift 2
    for ((i = 0; i < seconds * 2; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "$description did not happen within $seconds s" >&2
    return 1
}

# psql_at PORT DATABASE SQL: one value (or rows, |-separated) from a local cluster on loopback, as its superuser.
psql_at() {
    as_postgres psql -X -q -A -t -h 127.0.0.1 -U postgres -p "$1" -d "$2" -v ON_ERROR_STOP=1 -c "$3"
}

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# fail MESSAGE [LOG…]: says what failed, shows the logs' tails and exits (the caller's EXIT trap stops everything).
fail() {
    echo "$test_name: FAILED: $1" >&2
    shift
    for log in "$@"; do
        [ -s "$log" ] && { echo "--- $log (last lines)" >&2; tail -20 "$log" >&2; }
    done
    exit 1
}

# free_ports N: prints N distinct free loopback ports on one line.
free_ports() {
    local found=() port
    while [ ${#found[@]} -lt "$1" ]; do
        port=$(zvonok_free_port)
        [[ " ${found[*]} " == *" $port "* ]] || found+=("$port")
    done
    echo "${found[*]}"
}

# require_built ZVONOK LOAD: exits 2 unless both programs were built.
require_built() {
    local program
    for program in "$@"; do
        [ -x "$program" ] || { echo "$test_name: $program is missing; run 'swift build' first" >&2; exit 2; }
    done
}

# history_check PORT: on the cluster at PORT, prints the messages in history and how many chats break the rule
# that a chat's history is seq 1…n, each once.
history_check() {
    psql_at "$1" zvonok "
        SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n <> top OR n <> distinct_seqs)
        FROM (SELECT count(*) AS n, max(seq) AS top, count(DISTINCT seq) AS distinct_seqs FROM messages GROUP BY chat_id) per_chat" |
        tr '|' ' '
}
