#!/usr/bin/env bash
# Starts the services the test suites need (PostgreSQL, Redis, memcached, MariaDB, the Redis Cluster), each only when it
# is not already answering, then waits until each one answers. Safe to run any number of times.
# Env: SERVICE_WAIT_SECONDS (default 30) bounds each wait; REDIS_PORT, MEMCACHED_PORT, MYSQL_PORT and
# REDIS_CLUSTER_PORT move a service the way test/services.ts reads them (MYSQL_DATADIR: MariaDB's data).
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-30}"
PG_PORT=5432
REDIS_PORT="${REDIS_PORT:-6379}"
MEMCACHED_PORT="${MEMCACHED_PORT:-11211}"
CLUSTER_PORT="${REDIS_CLUSTER_PORT:-7100}"
MYSQL_PORT="${MYSQL_PORT:-3306}"
MYSQL_DATADIR="${MYSQL_DATADIR:-/var/lib/mysql}"
MYSQL_SOCKET="/run/mysqld/mysqld$([ "$MYSQL_PORT" = 3306 ] || printf -- '-%s' "$MYSQL_PORT").sock"

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

# `ping` answers for a running server even when the login is refused; the tests log in as root without a password.
mariadb_up() { timeout 3 mariadb-admin --protocol=socket --socket="$MYSQL_SOCKET" ping >/dev/null 2>&1; }
mariadb_login() { timeout 3 mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u root -e 'SELECT 1' test >/dev/null 2>&1; }

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

start_mariadb() {
  if mariadb_login; then
    say "MariaDB already answers on 127.0.0.1:$MYSQL_PORT"
    return
  fi
  if ! mariadb_up && ! timeout 3 mariadb-admin -h 127.0.0.1 -P "$MYSQL_PORT" ping >/dev/null 2>&1; then
    need mariadbd-safe 'apt-get install mariadb-server'
    mkdir -p /run/mysqld /var/log/mysql
    chown mysql:mysql /run/mysqld /var/log/mysql
    if ! [ -d "$MYSQL_DATADIR/mysql" ]; then
      run mariadb-install-db --user=mysql --datadir="$MYSQL_DATADIR" --skip-test-db >/dev/null
    fi
    say "+ mariadbd-safe --port=$MYSQL_PORT --datadir=$MYSQL_DATADIR (detached)"
    setsid nohup mariadbd-safe --no-defaults --user=mysql --datadir="$MYSQL_DATADIR" --port="$MYSQL_PORT" \
      --bind-address=127.0.0.1 --socket="$MYSQL_SOCKET" --pid-file="/run/mysqld/mysqld-$MYSQL_PORT.pid" \
      --skip-name-resolve --character-set-server=utf8mb4 --log-error="/var/log/mysql/ci-$MYSQL_PORT.log" \
      >/dev/null 2>&1 </dev/null &
    wait_for MariaDB mariadb_up "log: /var/log/mysql/ci-$MYSQL_PORT.log"
  fi
  # A fresh install lets root in only through the socket: allow root from 127.0.0.1 without a password
  # (loopback only, like every service here) and create the database the tests use.
  run mariadb --protocol=socket --socket="$MYSQL_SOCKET" -u root -e "CREATE DATABASE IF NOT EXISTS test;
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  mariadb_login || fail "root cannot log in to MariaDB on 127.0.0.1:$MYSQL_PORT"
  say "MariaDB is ready"
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
start_mariadb
start_redis_cluster
