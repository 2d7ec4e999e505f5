# PostgreSQL 15 with pg_auto_failover 2.0, from Debian's own packages (the ones Tests/ha/failover.sh runs natively):
# one image for the monitor and both data nodes of docker/compose.yaml; docker/pg_auto_failover.sh picks the role.
#     docker build -f docker/pg_auto_failover.Dockerfile -t zvonok-pgaf docker/
FROM debian:bookworm-slim

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        postgresql-15 postgresql-15-auto-failover pg-auto-failover-cli ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/zvonok-pg && chown postgres:postgres /var/lib/zvonok-pg

COPY pg_auto_failover.sh /usr/local/bin/pg_auto_failover.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/zvonok-pg/data \
    XDG_CONFIG_HOME=/var/lib/zvonok-pg/config \
    XDG_DATA_HOME=/var/lib/zvonok-pg/share
# pg_autoctl refuses root.
USER postgres
ENTRYPOINT ["sh", "/usr/local/bin/pg_auto_failover.sh"]
