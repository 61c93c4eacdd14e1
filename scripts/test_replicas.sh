#!/usr/bin/env bash
# Replicas that share conversations. Starts, all on 127.0.0.1 and in temporary directories:
# a throwaway PostgreSQL cluster from the distribution's packages (scripts/lib.sh,
# start_postgres), two `samtal serve` replicas on it (`--store postgres://…`) and nginx from
# the distribution's packages in front, with the config in scripts/nginx-replicas.conf
# (routing by conversation id, `hash … consistent`, falling back to the other replica when one
# is down). Then:
#   1. the conversation store's test suite against this PostgreSQL (the same suite SQLite runs);
#   2. scripts/replicas_check.py: a conversation's turns alternated between the replicas,
#      directly and through nginx, each answer checked against the history it was given; one
#      replica killed with SIGKILL mid-turn and the conversation continued through nginx;
#      PostgreSQL stopped during a request (503, server up) and started again (200).
# With --load SECONDS, a load run instead (see scripts/replicas_check.py --help): 16 clients
# through nginx, and the same against one replica on SQLite, for the README.
#
#     bash scripts/test_replicas.sh [--load 60]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cargo build --quiet --release -p samtal-cli
model=${SAMTAL_MODEL:-$(target/release/samtal pull)}
ensure_packages nginx-light

start_postgres
work=$(mktemp -d /tmp/samtal-replicas.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    stop_postgres
    rm -rf "$work"
}
trap cleanup EXIT

if [ "${1:-}" != "--load" ]; then
    echo "== the store's test suite against PostgreSQL"
    # --workspace, not -p: the same feature set as `cargo test --workspace`, so nothing rebuilds.
    SAMTAL_TEST_POSTGRES="$pg_url" cargo test --quiet --workspace --lib store
fi

"$pg_bin/psql" -q "$pg_url" -c "CREATE DATABASE samtal"
store="postgres://samtal@127.0.0.1:$pg_port/samtal"

# Two replicas: each sees the store, neither knows of the other.
start_samtal_serve --model "$model" --store "$store"
a_pid=$serve_pid a_addr=$addr a_log=$serve_log
pids+=("$a_pid")
start_samtal_serve --model "$model" --store "$store"
b_pid=$serve_pid b_addr=$addr b_log=$serve_log
pids+=("$b_pid")

nginx_port=$(free_port)
mkdir -p "$work/tmp"
sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$nginx_port|g" \
    -e "s|@A@|${a_addr#http://}|g" -e "s|@B@|${b_addr#http://}|g" \
    scripts/nginx-replicas.conf >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work" -e "$work/error.log" &
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$nginx_port/health" >/dev/null 2>&1 && break
    sleep 0.1
done
echo "replicas $a_addr and $b_addr, nginx at http://127.0.0.1:$nginx_port, store $store"

single="" single_store=""
if [ "${1:-}" = "--load" ]; then
    # The same load against one replica on SQLite, for comparison.
    single_store="$work/single.sqlite3"
    start_samtal_serve --model "$model" --store "$single_store"
    single=$addr
    pids+=("$serve_pid")
fi

status=0
SINGLE="$single" SINGLE_STORE="$single_store" REPLICA_A="$a_addr" REPLICA_B="$b_addr" REPLICA_A_PID="$a_pid" NGINX="http://127.0.0.1:$nginx_port" \
STORE_URL="$store" SAMTAL=target/release/samtal MODEL="$model" \
PG_STOP="$(declare -p pg_as pg_bin pg_dir pg_port); $(declare -f pg_ctl_stop); pg_ctl_stop" \
PG_START="$(declare -p pg_as pg_bin pg_dir pg_port); $(declare -f pg_ctl_start); pg_ctl_start" \
    python3 scripts/replicas_check.py "$@" || status=$?
if [ $status -ne 0 ]; then
    echo "--- replica A"; tail -n 20 "$a_log"
    echo "--- replica B"; tail -n 20 "$b_log"
    echo "--- nginx"; tail -n 20 "$work/error.log" 2>/dev/null || true
fi
rm -f "$a_log" "$b_log"
exit $status
