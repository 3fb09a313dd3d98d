#!/usr/bin/env bash
# Starts the services the test suites need (PostgreSQL, Redis, memcached, the Redis Cluster), each only when it
# is not already answering, then waits until each one answers. Safe to run any number of times.
# Env: SERVICE_WAIT_SECONDS (default 30) bounds each wait; REDIS_PORT, MEMCACHED_PORT and REDIS_CLUSTER_PORT
# move a service the way test/services.ts reads them.
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-30}"
PG_PORT=5432
REDIS_PORT="${REDIS_PORT:-6379}"
MEMCACHED_PORT="${MEMCACHED_PORT:-11211}"
CLUSTER_PORT="${REDIS_CLUSTER_PORT:-7100}"

say() { printf '[services] %s\n' "$*"; }
fail() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}
run() {
  local line
  line="$(printf '%q ' "$@")"
  say "+ ${line% }"
  "$@"
}
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is not installed ($2)"; }

postgres_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 1; }
redis_up() { [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
cluster_up() {
  local info
  info="$(timeout 2 redis-cli -h 127.0.0.1 -p "$CLUSTER_PORT" cluster info 2>/dev/null)" || return 1
  [[ "$info" == *cluster_state:ok* ]]
}
# memcached's text protocol: `version` answers `VERSION x.y.z`.
memcached_up() {
  local reply
  reply="$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MEMCACHED_PORT && printf 'version\r\n' >&3 \
    && head -c 7 <&3 | tr -d '\\0'" 2>/dev/null)" || return 1
  [ "$reply" = VERSION ]
}

# Polls `check` every 0.2 s for at most WAIT_SECONDS; fails with `hint` when it never answers.
wait_for() {
  local name="$1" check="$2" hint="$3" deadline=$((SECONDS + WAIT_SECONDS))
  until "$check"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$name did not answer within ${WAIT_SECONDS}s ($hint)"
    sleep 0.2
  done
  say "$name is up"
}

start_postgres() {
  if postgres_up; then
    say "PostgreSQL already answers on 127.0.0.1:$PG_PORT"
  else
    need pg_ctlcluster 'apt-get install postgresql'
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    [ -n "$version" ] || fail 'no PostgreSQL cluster under /etc/postgresql'
    run pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for PostgreSQL postgres_up "log: /var/log/postgresql/"
  fi
  # The tests connect to database `test` as postgres (trust auth); a fresh machine may not have it yet.
  if [ "$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    run createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres test
  fi
}

start_redis() {
  if redis_up; then
    say "Redis already answers on 127.0.0.1:$REDIS_PORT"
    return
  fi
  need redis-server 'apt-get install redis-server'
  mkdir -p /var/lib/redis /var/log/redis
  run redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up "log: /var/log/redis/ci.log"
}

start_memcached() {
  if memcached_up; then
    say "memcached already answers on 127.0.0.1:$MEMCACHED_PORT"
    return
  fi
  need memcached 'apt-get install memcached'
  run memcached -d -u root -l 127.0.0.1 -p "$MEMCACHED_PORT" -m 64
  wait_for memcached memcached_up "started with: memcached -d -u root -l 127.0.0.1 -p $MEMCACHED_PORT -m 64"
}

start_redis_cluster() {
  if cluster_up; then
    say "Redis Cluster already answers on 127.0.0.1:$CLUSTER_PORT"
    return
  fi
  # Under CI=true the Cluster suites then fail (test/services.ts), so a missing script cannot pass unnoticed.
  if ! [ -f scripts/redis-cluster.sh ]; then
    say "WARNING: scripts/redis-cluster.sh is missing; the Redis Cluster is NOT started"
    return
  fi
  run bash scripts/redis-cluster.sh start
  wait_for 'Redis Cluster' cluster_up "scripts/redis-cluster.sh start did not reach cluster_state:ok"
}

start_postgres
start_redis
start_memcached
start_redis_cluster
