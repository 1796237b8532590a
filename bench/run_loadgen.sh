#!/usr/bin/env bash
# Starts leadledgerd on a fresh data directory (on the disk the service would
# use, under ./var/bench) and drives it with loadgen; extra arguments go to
# loadgen. The server is stopped whatever happens. LEADLEDGERD and LOADGEN
# name other builds of the two (bench/ab_loadgen.sh compares servers so).
set -euo pipefail
build_dir="${BUILD_DIR:-build}"
server_bin="${LEADLEDGERD:-$build_dir/services/leadledgerd}"
loadgen_bin="${LOADGEN:-$build_dir/bench/loadgen}"
data_dir="$(mktemp -d "${LEADLEDGER_BENCH_DIR:-./var/bench}/loadgen.XXXXXX")"
port_file="$data_dir/port"
"$server_bin" --listen=127.0.0.1:0 \
  --data_dir="$data_dir/data" --port_file="$port_file" ${LEADLEDGERD_FLAGS:-} \
  >"$data_dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data_dir"' EXIT
for _ in $(seq 1 300); do
  [[ -s "$port_file" ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$data_dir/server.log"; exit 1; }
  sleep 0.1
done
[[ -s "$port_file" ]] || { echo "leadledgerd did not start" >&2; exit 1; }
"$loadgen_bin" --server="127.0.0.1:$(cat "$port_file")" \
  --server_pid="$server" "$@"
