# Shared by the scripted tests (Tests/browser, Tests/contract, Tests/lb): a free loopback port, and the built server
# (or several, and helpers such as nginx) started in the background, waited for and always stopped. Source it once;
# it defines functions and the empty list zvonok_pids.

zvonok_pids=()

# Prints a loopback port nobody listens on.
zvonok_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# zvonok_start LOG COMMAND...: runs COMMAND in the background with its output in LOG; sets zvonok_pid to its process
# id and adds it to zvonok_pids. Everything started this way is stopped on exit, the last started first (so a node
# that owns the embedded cluster, started first, stops last); then zvonok_cleanup runs, if the caller defined it.
zvonok_start() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    zvonok_pid=$!
    zvonok_pids+=("$zvonok_pid")
    trap zvonok_stop EXIT
}

# zvonok_stop_one PID: SIGTERM, then a bounded wait (a server stops its embedded cluster on the way out), then SIGKILL.
zvonok_stop_one() {
    local pid=$1
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# Stops everything zvonok_start started, in reverse order, then runs zvonok_cleanup.
zvonok_stop() {
    local i
    for ((i = ${#zvonok_pids[@]} - 1; i >= 0; i--)); do zvonok_stop_one "${zvonok_pids[i]}"; done
    zvonok_pids=()
    if declare -F zvonok_cleanup >/dev/null; then zvonok_cleanup; fi
}

# zvonok_wait_healthy PORT LOG [TEXT]: waits up to two minutes for /health to answer 200 (and, given TEXT, to
# contain it, e.g. '"listener":"up"') while the process zvonok_start started last runs; on failure prints the
# log's tail and exits 1.
zvonok_wait_healthy() {
    local port=$1 log=$2 text=${3:-} body
    for _ in $(seq 1 240); do
        if body=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/health" 2>/dev/null) && [[ $body == *"$text"* ]]; then
            return 0
        fi
        kill -0 "$zvonok_pid" 2>/dev/null || { echo "The server exited:" >&2; tail -30 "$log" >&2; exit 1; }
        sleep 0.5
    done
    echo "The server did not become healthy${text:+ (no $text in /health)}" >&2
    tail -30 "$log" >&2
    exit 1
}
