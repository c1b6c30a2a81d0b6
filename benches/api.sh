#!/usr/bin/env bash
# HTTP API benchmark: GET /health vs authenticated GET /api/v1/agents, in two modes:
#   embedded: `otoq serve` on SQLite in a temp dir;
#   scaled:   `otoq migrate`, then `otoq api` + `otoq worker` on Postgres + Redis.
# Usage: bash benches/api.sh
# Env: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_PG_HOST (127.0.0.1), BENCH_PG_USER (postgres),
#      BENCH_REDIS_URL (redis://127.0.0.1:6379).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root
DURATION=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
export PGHOST=${BENCH_PG_HOST:-127.0.0.1} PGUSER=${BENCH_PG_USER:-postgres} PGPORT=5432
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
BIN=$PWD/target/release/otoq

TMP=$(mktemp -d -t otoq-bench.XXXXXX)
DB_NAME="otoq_bench_$(date +%s)_$RANDOM"
REDIS_PREFIX="bench:$DB_NAME:"
DB_CREATED=0
PIDS=()      # processes started by this script
RESULTS=()   # "mode route rps p99 non2xx errors ratio"

# Stop every process we started: SIGTERM, up to 15 s of grace, then SIGKILL.
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  local rc=$?
  stop_all
  if [[ $DB_CREATED == 1 ]]; then
    timeout 30 psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  fi
  if command -v redis-cli >/dev/null; then
    timeout 30 redis-cli -u "$REDIS" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null \
      | xargs -r timeout 30 redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Common server environment: quiet logs, rate limits out of the way, nothing inherited.
unset DATABASE_URL REDIS_URL OTOQ_PUBLIC_URL PORT
export RUST_LOG=warn OTOQ_RATE_LIMIT_PRO=1000000000 OTOQ_RATE_LIMIT_ENTERPRISE=1000000000 \
  OTOQ_RATE_LIMIT_ANONYMOUS=1000000000 OTOQ_REDIS_PREFIX=$REDIS_PREFIX

echo "==> building release binary"
timeout 3600 cargo build --release --bin otoq

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get install -y wrk || { timeout 300 apt-get update && timeout 300 apt-get install -y wrk; }
fi

# A loopback port nobody listens on.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# Waits up to 60 s for GET /health on $BASE while the server process $1 is alive.
wait_health() {
  for _ in $(seq 300); do
    curl -fsS --max-time 1 "$BASE/health" >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || { echo "server exited early, log:"; cat "$TMP/$MODE.log"; return 1; }
    sleep 0.2
  done
  echo "server not healthy after 60 s, log:"; cat "$TMP/$MODE.log"; return 1
}

# Creates a pro account and 5 agents; sets KEY.
seed() {
  local out
  out=$(timeout 60 "$BIN" accounts create --email "bench-$MODE@example.com" --plan pro)
  KEY=$(sed -n 's/.*"api_key" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  [[ -n $KEY ]] || { echo "no api_key in: $out"; return 1; }
  for i in 1 2 3 4 5; do
    curl -fsS --max-time 10 -o /dev/null -X POST "$BASE/api/v1/agents" -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/json' -d "{\"name\":\"Bench $i\"}"
  done
  curl -fsS --max-time 10 -o /dev/null "$BASE/api/v1/agents" -H "Authorization: Bearer $KEY"
}

# bench ROUTE [wrk args...]: runs wrk once, prints its output, records "rps p99 non2xx errors" in LAST.
bench() {
  local route=$1 out; shift
  out="$TMP/wrk-$MODE-${route//\//_}.txt"
  echo "--> $MODE GET $route (${DURATION}s, 1 thread, $CONNS connections)"
  timeout $((DURATION + 60)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$BASE$route" | tee "$out"
  LAST="$(awk '/^Requests\/sec:/ {print $2}' "$out") $(awk '$1 == "99%" {print $2}' "$out")"
  LAST+=" $(awk '/Non-2xx or 3xx responses:/ {n = $NF} END {print n + 0}' "$out")"
  LAST+=" $(awk '/Socket errors:/ {s = $4 + $6 + $8 + $10} END {print s + 0}' "$out")"
}

# run_mode MODE: servers are already started by the caller (PIDS, BASE); seed, benchmark, record, stop.
run_mode() {
  wait_health "${PIDS[0]}"
  seed
  bench /health;                                       local h=($LAST)
  bench /api/v1/agents -H "Authorization: Bearer $KEY"; local a=($LAST)
  local ratio; ratio=$(awk -v a="${a[0]}" -v h="${h[0]}" 'BEGIN {printf "%.2f", a / h}')
  RESULTS+=("$MODE /health ${h[*]} -" "$MODE /api/v1/agents ${a[*]} $ratio")
  stop_all
}

# --- embedded: one `otoq serve` process on SQLite ---
MODE=embedded
port=$(free_port)
export OTOQ_DATA_DIR=$TMP/embedded OTOQ_BIND=127.0.0.1:$port
BASE=http://$OTOQ_BIND
mkdir -p "$OTOQ_DATA_DIR"
echo "==> $MODE on $BASE"
"$BIN" serve >"$TMP/$MODE.log" 2>&1 & PIDS+=($!)
run_mode

# --- scaled: migrate, then `otoq api` + `otoq worker` on Postgres + Redis ---
MODE=scaled
timeout 30 psql -q -d postgres -c "CREATE DATABASE $DB_NAME"; DB_CREATED=1
port=$(free_port)
export OTOQ_DATA_DIR=$TMP/scaled OTOQ_BIND=127.0.0.1:$port REDIS_URL=$REDIS \
  OTOQ_SECRET_KEY=$(head -c 32 /dev/urandom | base64) \
  DATABASE_URL=postgres://$PGUSER@$PGHOST:$PGPORT/$DB_NAME
BASE=http://$OTOQ_BIND
mkdir -p "$OTOQ_DATA_DIR"
echo "==> $MODE on $BASE (database $DB_NAME)"
timeout 120 "$BIN" migrate
"$BIN" api >"$TMP/$MODE.log" 2>&1 & PIDS+=($!)
"$BIN" worker >"$TMP/$MODE-worker.log" 2>&1 & PIDS+=($!)
run_mode

# --- summary ---
echo
echo "==> summary (${DURATION}s per route, wrk -t1 -c$CONNS, $(nproc) cores)"
printf '%-9s %-15s %10s %9s %8s %7s %6s\n' mode route req/s p99 non-2xx errors ratio
for r in "${RESULTS[@]}"; do
  # shellcheck disable=SC2086
  printf '%-9s %-15s %10s %9s %8s %7s %6s\n' $r
done
echo "goal: scaled ratio >= 0.40"
