#!/usr/bin/env bash
# Starts or stops a local three-master Redis Cluster for the tests (no replicas, no persistence).
# Usage: scripts/redis-cluster.sh start|stop|status
# Env: REDIS_CLUSTER_PORT (first port, default 7100; the nodes use it and the next two),
#      REDIS_CLUSTER_DIR (node files, default $TMPDIR/sessionkit-redis-cluster-<port>),
#      REDIS_CLUSTER_WAIT_SECONDS (default 30) bounds each wait.
# `start` does nothing when the cluster already answers with cluster_state:ok; `stop` shuts down only
# nodes that run from this script's directory (their pid files), never another Redis on those ports.
set -euo pipefail

FIRST_PORT="${REDIS_CLUSTER_PORT:-7100}"
PORTS=("$FIRST_PORT" "$((FIRST_PORT + 1))" "$((FIRST_PORT + 2))")
DIR="${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/sessionkit-redis-cluster-$FIRST_PORT}"
WAIT_SECONDS="${REDIS_CLUSTER_WAIT_SECONDS:-30}"

say() { printf '[redis-cluster] %s\n' "$*"; }
fail() {
  printf '[redis-cluster] ERROR: %s\n' "$*" >&2
  exit 1
}
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = PONG ]; }
cluster_ok() {
  local port info
  for port in "${PORTS[@]}"; do
    info="$(cli "$port" cluster info 2>/dev/null)" || return 1
    [[ "$info" == *cluster_state:ok* ]] || return 1
  done
}
# Polls `check` every 0.2 s for at most WAIT_SECONDS.
wait_for() {
  local what="$1" deadline=$((SECONDS + WAIT_SECONDS))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what did not happen within ${WAIT_SECONDS}s (logs: $DIR/*.log)"
    sleep 0.2
  done
}

stop() {
  local port pid
  for port in "${PORTS[@]}"; do
    [ -f "$DIR/$port.pid" ] || continue
    pid="$(cat "$DIR/$port.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping node $port (pid $pid)"
      cli "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      wait_for "node $port stopping" node_gone "$pid"
    fi
  done
  rm -rf "$DIR"
}
node_gone() { ! kill -0 "$1" 2>/dev/null; }

start() {
  command -v redis-server >/dev/null || fail "redis-server is not installed (apt-get install redis-server)"
  if cluster_ok; then
    say "already up on 127.0.0.1:${PORTS[0]}-${PORTS[2]}"
    return
  fi
  # A half-started cluster of ours is restarted from scratch; a foreign server on a port is an error.
  stop
  local port
  for port in "${PORTS[@]}"; do
    answers "$port" && fail "port $port is taken by a Redis this script did not start"
  done
  mkdir -p "$DIR"
  for port in "${PORTS[@]}"; do
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 --dir "$DIR" \
      --save "" --appendonly no --daemonize yes --pidfile "$DIR/$port.pid" --logfile "$DIR/$port.log"
  done
  for port in "${PORTS[@]}"; do wait_for "node $port answering" answers "$port"; done
  local nodes=()
  for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 ||
    fail "redis-cli --cluster create failed: $(tail -n 5 "$DIR/create.log")"
  wait_for "cluster_state:ok" cluster_ok
  say "up on 127.0.0.1:${PORTS[0]}-${PORTS[2]} (files in $DIR)"
}

case "${1:-}" in
start) start ;;
stop) stop && say "stopped" ;;
status) if cluster_ok; then say "up"; else say "down" && exit 1; fi ;;
*) fail "usage: $0 start|stop|status" ;;
esac
