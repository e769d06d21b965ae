#!/usr/bin/env bash
# Runs every load-generator scenario on SQLite and Postgres and merges the
# figures into docs/benchmarks.json under LABEL.
#   loadgen/run-benchmarks.sh LABEL postgres://USER@127.0.0.1:PORT/postgres
# Needs a Postgres server where databases may be created (each run makes a
# fresh one). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?usage: loadgen/run-benchmarks.sh LABEL POSTGRES_URL}
postgres=${2:?usage: loadgen/run-benchmarks.sh LABEL POSTGRES_URL}
cargo build --release -p courier-backend -p courier-loadgen
lg=target/release/courier-loadgen
for db in sqlite "$postgres"; do
  $lg --database "$db" --label "$label" idle --connections 10000 --sources 8 --hold-secs 5
  $lg --database "$db" --label "$label" throughput --pairs 50 --messages 20000
  $lg --database "$db" --label "$label" latency --pairs 20 --rate 1000 --duration-secs 10
  $lg --database "$db" --label "$label" drain --messages 10000
  $lg --database "$db" --label "$label" fanout --devices 100 --messages 200
done
$lg --label "$label" wire
