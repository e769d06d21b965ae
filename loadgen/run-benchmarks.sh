#!/usr/bin/env bash
# Runs every load-generator scenario on SQLite and Postgres and merges the
# figures into docs/benchmarks.json under LABEL.
#   loadgen/run-benchmarks.sh LABEL postgres://USER@127.0.0.1:PORT/postgres [RATES]
# Needs a Postgres server where databases may be created (each run makes a
# fresh one), ideally with pg_stat_statements preloaded (statement counts).
# RATES: offered loads for the latency curve (default "1000 4000 8000 15000";
# 15,000/s is half the 30,000/s target).
# LOADGEN, SERVER and PROCS override the binaries and the worker count; run
# it under the team's build lock so nothing else shares the cores. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?usage: loadgen/run-benchmarks.sh LABEL POSTGRES_URL [RATES]}
postgres=${2:?usage: loadgen/run-benchmarks.sh LABEL POSTGRES_URL [RATES]}
rates=${3:-1000 4000 8000 15000}
target=${CARGO_TARGET_DIR:-target}
if [ -z "${LOADGEN:-}" ]; then
  cargo build --release -p courier-backend -p courier-loadgen
fi
lg="${LOADGEN:-$target/release/courier-loadgen} --server ${SERVER:-$target/release/courier} --label $label"
procs=${PROCS:-2}
for db in sqlite "$postgres"; do
  $lg --database "$db" idle --connections 10000 --sources 8 --hold-secs 5
  $lg --database "$db" --procs "$procs" throughput --pairs 50 --messages 400000
  for rate in $rates; do
    $lg --database "$db" --procs "$procs" latency --pairs 20 --rate "$rate" --duration-secs 10
  done
  $lg --database "$db" drain --messages 10000
  $lg --database "$db" --procs "$procs" drain --pairs 50 --messages 40000
  $lg --database "$db" --procs "$procs" fanout --devices 100 --messages 200
done
$lg --database sqlite idle --connections 19000 --sources 8 --hold-secs 5
$lg wire
