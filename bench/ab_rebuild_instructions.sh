#!/usr/bin/env bash
# Compares the instructions two builds of projections_bench execute to
# rebuild every read model of the same log.
#
#   bench/ab_rebuild_instructions.sh A_PROJECTIONS_BENCH B_PROJECTIONS_BENCH [EVENTS]
#
# On a shared machine a rebuild's wall and CPU time drift by tens of percent
# from one run to the next; the instructions it executes, counted by
# callgrind, repeat to 0.1% or better. A change to the folds that saves 2%
# shows here and nowhere else.
#
# A writes a log of realistic histories of at least EVENTS events (30000 by
# default) once; then A, B and A again rebuild it under callgrind, each
# rebuild the last one's output. Each run prints a line; the last line is
# "summary: key=value ..." with the instructions per event of A and B, B
# over A, and how far A's two runs differ (a_repeat_spread), which bounds
# what the comparison can tell.
set -euo pipefail

fail() {
  echo "ab_rebuild_instructions: $*" >&2
  exit 2
}
[[ $# -ge 2 && $# -le 3 ]] ||
  fail "usage: $0 A_PROJECTIONS_BENCH B_PROJECTIONS_BENCH [EVENTS]"
a="$1"
b="$2"
events="${3:-30000}"
for bin in "$a" "$b"; do
  [[ -f "$bin" && -x "$bin" ]] ||
    fail "A_PROJECTIONS_BENCH and B_PROJECTIONS_BENCH must be executable" \
      "files, got \"$bin\""
done
[[ "$events" =~ ^[0-9]{4,8}$ ]] && ((events <= 10000000)) ||
  fail "EVENTS must be an integer in [1000, 10000000], got \"$events\""
command -v valgrind >/dev/null ||
  fail "valgrind is missing (deploy/install-deps.sh installs it)"

root="${LEADLEDGER_BENCH_DIR:-./var/bench}"
mkdir -p "$root"
dir="$(mktemp -d "$root/ab_rebuild.XXXXXX")"
trap 'rm -rf "$dir"' EXIT

if ! LEADLEDGER_BENCH_DIR="$dir" "$a" --events="$events" --leads=0 \
  --queries=1 --keep_dir >"$dir/log.out" 2>&1; then
  echo "ab_rebuild_instructions: writing the log failed:" >&2
  cat "$dir/log.out" >&2
  exit 1
fi
data="$dir/projections_bench"

# Rebuilds `data` with projections_bench $1 under callgrind; prints
# "<events> <instructions>".
count() {
  local out="$dir/run.out" err="$dir/run.err"
  if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" \
    --rebuild_child="$data" >"$out" 2>"$err"; then
    echo "ab_rebuild_instructions: the rebuild by $1 failed:" >&2
    cat "$out" "$err" >&2
    exit 1
  fi
  local rebuilt instructions
  rebuilt="$(awk '$1 == "rebuild" { print $2 }' "$out")"
  instructions="$(grep -o 'Collected : [0-9]*' "$err" | awk '{ print $3 }')"
  if [[ -z "$rebuilt" || -z "$instructions" ]]; then
    echo "ab_rebuild_instructions: no event or instruction count from $1:" >&2
    cat "$out" "$err" >&2
    exit 1
  fi
  echo "$rebuilt $instructions"
}

read -r a_events a1 <<<"$(count "$a")"
echo "a ($a): events=$a_events instructions=$a1"
read -r b_events b1 <<<"$(count "$b")"
echo "b ($b): events=$b_events instructions=$b1"
# Per-event figures of different logs would not compare.
if [[ "$b_events" != "$a_events" ]]; then
  echo "ab_rebuild_instructions: A rebuilt $a_events events and B" \
    "$b_events: they did not read the same log" >&2
  exit 1
fi
read -r _ a2 <<<"$(count "$a")"
echo "a again ($a): events=$a_events instructions=$a2"

awk -v events="$a_events" -v a1="$a1" -v a2="$a2" -v b="$b1" 'BEGIN {
  a = (a1 + a2) / 2
  spread = (a1 > a2 ? a1 - a2 : a2 - a1) / a
  printf "summary: events=%d a_instructions_per_event=%.0f", events, a / events
  printf " b_instructions_per_event=%.0f b_over_a=%.4f", b / events, b / a
  printf " a_repeat_spread=%.5f\n", spread
}'
