#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the DuckLake tests and for trying the `ducklake`
# backend on one machine. Not for production (trust authentication, data in a temporary folder).
#
#   deploy/postgres-dev.sh start [DIR]   initdb (first time) and start; prints `export …` lines
#   deploy/postgres-dev.sh stop [DIR]    stop it and remove DIR
#
# DIR defaults to $NEWSDESK_PG_DIR, else /tmp/newsdesk-postgres; the port to $NEWSDESK_PG_PORT,
# else 55432. Run as root, the server runs as the `postgres` user (initdb refuses root); as
# anyone else, as that user. Binaries: Debian's postgresql package (/usr/lib/postgresql/*/bin).
set -euo pipefail

action="${1:-}"
dir="${2:-${NEWSDESK_PG_DIR:-/tmp/newsdesk-postgres}}"
port="${NEWSDESK_PG_PORT:-55432}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres-dev: no PostgreSQL server binaries; apt-get install -y postgresql" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export NEWSDESK_TEST_POSTGRES_DSN='host=127.0.0.1 port=$port user=postgres dbname=postgres'"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
