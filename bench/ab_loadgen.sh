#!/usr/bin/env bash
# Compares two builds of leadledgerd under the same load.
#
#   bench/ab_loadgen.sh A_LEADLEDGERD B_LEADLEDGERD [ROUNDS] [loadgen flags]
#
# On a shared machine the speed drifts by tens of percent within minutes, so
# one run of each says little. The two builds run alternately (A, B, A,
# B, ...: ROUNDS pairs, 3 by default), each on a fresh data directory under
# the same loadgen flags: a 6 s mixed run, then whatever flags are given,
# which win. The server's CPU time per call drifts less than throughput; both
# are reported. Each run prints a line; the last line is
# "summary: key=value ..." with the mean of each build, B over A of the
# means, and the lowest and highest B over A of the server's CPU among the
# pairs: a range that holds 1 shows no difference.
set -euo pipefail

fail() {
  echo "ab_loadgen: $*" >&2
  exit 2
}
[[ $# -ge 2 ]] ||
  fail "usage: $0 A_LEADLEDGERD B_LEADLEDGERD [ROUNDS] [loadgen flags]"
a="$1"
b="$2"
shift 2
rounds=3
if [[ $# -gt 0 && "$1" != -* ]]; then
  rounds="$1"
  shift
fi
for bin in "$a" "$b"; do
  [[ -f "$bin" && -x "$bin" ]] ||
    fail "A_LEADLEDGERD and B_LEADLEDGERD must be executable files, got \"$bin\""
done
[[ "$rounds" =~ ^[0-9]{1,3}$ ]] && ((rounds >= 1 && rounds <= 100)) ||
  fail "ROUNDS must be an integer in [1, 100], got \"$rounds\""

here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "${LEADLEDGER_BENCH_DIR:-./var/bench}"
figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT

# The value of `key` in loadgen's summary line `line`; empty when absent.
figure() {
  { grep -o "\b$1=[^ ]*" <<<"$2" || true; } | head -n 1 | cut -d= -f2
}

for round in $(seq 1 "$rounds"); do
  for side in a b; do
    bin="$a"
    [[ "$side" == b ]] && bin="$b"
    summary="$(LEADLEDGERD="$bin" bash "$here/run_loadgen.sh" --mode=mixed \
      --duration=6s --classify_c1_calls=0 "$@" | tail -n 1)"
    cpu="$(figure mixed_server_cpu_us "$summary")"
    qps="$(figure mixed_qps "$summary")"
    if [[ -z "$cpu" || -z "$qps" ]]; then
      echo "ab_loadgen: loadgen's summary has no mixed_server_cpu_us or" \
        "mixed_qps: $summary" >&2
      exit 1
    fi
    echo "round $round $side ($bin): server_cpu_us=$cpu qps=$qps"
    echo "$round $side $cpu $qps" >>"$figures"
  done
done

awk -v rounds="$rounds" '
  { cpu[$1, $2] = $3; qps[$1, $2] = $4 }
  END {
    for (r = 1; r <= rounds; ++r) {
      a_cpu += cpu[r, "a"]; b_cpu += cpu[r, "b"]
      a_qps += qps[r, "a"]; b_qps += qps[r, "b"]
      ratio = cpu[r, "b"] / cpu[r, "a"]
      if (r == 1 || ratio < low) low = ratio
      if (r == 1 || ratio > high) high = ratio
    }
    printf "summary: rounds=%d a_server_cpu_us=%.1f b_server_cpu_us=%.1f", \
      rounds, a_cpu / rounds, b_cpu / rounds
    printf " server_cpu_b_over_a=%.4f", b_cpu / a_cpu
    printf " server_cpu_b_over_a_low=%.4f server_cpu_b_over_a_high=%.4f", \
      low, high
    printf " a_qps=%.0f b_qps=%.0f qps_b_over_a=%.4f\n", \
      a_qps / rounds, b_qps / rounds, b_qps / a_qps
  }' "$figures"
