#!/bin/sh
# Entry point of docker/pg_auto_failover.Dockerfile: `monitor` or `node NAME`. Creates the service on first start
# (its data, config and state live in the /var/lib/zvonok-pg volume), then runs it; pg_autoctl supervises PostgreSQL.
#
# Authentication is `trust` with self-signed TLS, as pg_auto_failover's own compose example has it: the network is
# the compose project's own and no PostgreSQL port is published. Anywhere else use --auth scram-sha-256, passwords
# (pg_autoctl config set replication.password; the monitor's autoctl_node) and --ssl-ca-file/--server-cert/--server-key
# (docs/operations.md).
set -eu

case "${1:-}" in
monitor)
    if [ ! -f "$PGDATA/postgresql.conf" ]; then
        pg_autoctl create monitor --pgdata "$PGDATA" --pgport 5432 --hostname monitor --auth trust --ssl-self-signed
        # Failover in seconds rather than the defaults' ~50 s (docs/operations.md, "Failover settings"): health
        # checked every second, one retry, a node unhealthy after 2 s without word, the standby promoted 3 s after
        # the old primary was told to demote. Measured with these: docs/performance.md.
        cat >>"$PGDATA/postgresql.conf" <<CONF
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 2000
pgautofailover.primary_demote_timeout = 3000
CONF
    fi
    ;;
node)
    name=${2:?usage: pg_auto_failover.sh node NAME}
    if [ ! -f "$XDG_CONFIG_HOME/pg_autoctl$PGDATA/pg_autoctl.cfg" ]; then
        pg_autoctl create postgres --pgdata "$PGDATA" --pgport 5432 --hostname "$name" --name "$name" \
            --auth trust --ssl-self-signed --dbname zvonok \
            --monitor "postgres://autoctl_node@monitor:5432/pg_auto_failover?sslmode=require"
        # pg_autoctl lets in only the other nodes and the monitor: the hub nodes come from the compose network, over TLS.
        echo "hostssl zvonok postgres samenet trust" >>"$PGDATA/pg_hba.conf"
    fi
    ;;
*)
    echo "usage: pg_auto_failover.sh monitor | node NAME" >&2
    exit 2
    ;;
esac
exec pg_autoctl run --pgdata "$PGDATA"
