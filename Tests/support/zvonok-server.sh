# Shared by the scripted tests (Tests/browser, Tests/contract): a free loopback port, and the built server started in
# the background, waited for and always stopped. Source it; it defines functions only.

# Prints a loopback port nobody listens on.
zvonok_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# zvonok_start LOG COMMAND...: runs COMMAND in the background with its output in LOG; sets zvonok_pid and stops the
# server on exit (then runs zvonok_cleanup, if the caller defined it).
zvonok_start() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    zvonok_pid=$!
    trap zvonok_stop EXIT
}

# Stops the server: SIGTERM, then a bounded wait (it stops its embedded cluster on the way out), then SIGKILL.
zvonok_stop() {
    if [ -n "${zvonok_pid:-}" ] && kill -0 "$zvonok_pid" 2>/dev/null; then
        kill -TERM "$zvonok_pid"
        for _ in $(seq 1 60); do kill -0 "$zvonok_pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$zvonok_pid" 2>/dev/null || true
    fi
    wait "${zvonok_pid:-}" 2>/dev/null || true
    if declare -F zvonok_cleanup >/dev/null; then zvonok_cleanup; fi
}

# zvonok_wait_healthy PORT LOG: waits up to two minutes for /health; on failure prints the log's tail and exits 1.
zvonok_wait_healthy() {
    local port=$1 log=$2
    for _ in $(seq 1 240); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        kill -0 "$zvonok_pid" 2>/dev/null || { echo "The server exited:" >&2; tail -30 "$log" >&2; exit 1; }
        sleep 0.5
    done
    echo "The server did not become healthy" >&2
    tail -30 "$log" >&2
    exit 1
}
