#!/usr/bin/env bash
# CI: the load balancer test (Tests/lb/run.sh): two nodes of the debug build `swift build` made, behind nginx run
# from docker/nginx.conf, natively (no Docker). Installs nginx and curl through apt-get when the machine lacks them;
# Debian's package does not start the service in a container (policy-rc.d), and the test runs its own nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} (apt-get)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
# nginx lives in /usr/sbin, which a non-login PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac

timeout 300 bash Tests/lb/run.sh
