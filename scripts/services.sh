#!/usr/bin/env bash
# Starts a throw-away PostgreSQL and Redis on loopback for tests and benchmarks, and prints the
# environment to use them. Installs them from Debian packages first when they are missing.
#   eval "$(scripts/services.sh start)"   # then: npm test
#   scripts/services.sh stop
set -euo pipefail
STATE=${PATCHBAY_SERVICES_DIR:-/tmp/patchbay-services}
PGPORT=${PATCHBAY_TEST_PGPORT:-55432}
REDISPORT=${PATCHBAY_TEST_REDISPORT:-56379}

install() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then
    echo "installing postgresql and redis-server from Debian packages…" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >&2
  fi
  # The dashboard's browser tests drive Debian's Chromium (playwright-core with its executablePath).
  if [ -z "${PATCHBAY_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
    echo "installing chromium from Debian packages…" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  fi
}

start() {
  install
  local pgbin; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$STATE"; chown postgres "$STATE"
  if [ ! -d "$STATE/data" ]; then
    runuser -u postgres -- "$pgbin/initdb" -D "$STATE/data" -A trust -U postgres >/dev/null
  fi
  if ! runuser -u postgres -- "$pgbin/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$STATE/data" -l "$STATE/pg.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $STATE -c fsync=on -c max_connections=200" start >&2
  fi
  if ! redis-cli -p "$REDISPORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDISPORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" >&2
  fi
  echo "export PATCHBAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PGPORT/postgres"
  echo "export PATCHBAY_TEST_REDIS_URL=redis://127.0.0.1:$REDISPORT"
  if command -v chromium >/dev/null; then echo "export PATCHBAY_TEST_CHROMIUM=$(command -v chromium)"; fi
}

stop() {
  local pgbin; pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$pgbin" ] && [ -d "$STATE/data" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$STATE/data" -m fast stop >&2 || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
