#!/usr/bin/env bash
# CI: the PostgreSQL high-availability scripts (Tests/ha), in full (about 2.5 minutes together here): the failover
# test (a pg_auto_failover primary killed under load on two hub nodes) and the restore drill (base backup under load,
# WAL archive, point-in-time restore). Their figures are in docs/performance.md ("Failover", "Restore drill").
# Installs pg_auto_failover through apt-get when the machine lacks it; needs a prior `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pg_autoctl >/dev/null 2>&1 || [ ! -f /usr/share/postgresql/15/extension/pgautofailover.control ]; then
    echo "Installing pg_auto_failover (apt-get install postgresql-15-auto-failover pg-auto-failover-cli)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15-auto-failover pg-auto-failover-cli
fi
command -v curl >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; }

timeout 600 bash Tests/ha/failover.sh
timeout 600 bash Tests/ha/restore-drill.sh
