#!/usr/bin/env bash
# End-to-end replay throughput: a 1,000,000-row `sluice gen` file through both models with
# --label-delay 1000, without --predictions. Prints wall time, events/s and peak memory.
set -euo pipefail
build=${1:-build}
sluice="$build/tools/sluice"
data="$build/bench-data"
mkdir -p "$data"
input="$data/gen-1m.csv"
[ -f "$input" ] || "$sluice" gen --rows 1000000 --seed 1 --out "$input"

run() {
  local name=$1; shift
  local summary="$data/summary.json"
  /usr/bin/time -f "%e %M" -o "$data/time.txt" "$sluice" replay --quiet --input "$input" \
    --summary "$summary" "$@"
  read -r wall rss_kb <"$data/time.txt"
  local eps
  eps=$(grep -o '"events_per_second": [0-9.e+]*' "$summary" | awk '{print $2}')
  printf '%-44s wall %6.2f s  replay loop %12.0f events/s  peak RSS %5.0f MB\n' \
    "$name" "$wall" "$eps" "$((rss_kb / 1024))"
}

run "replay 1M rows, both models, delay 1000" --label-delay 1000
run "replay 1M rows, hst only" --model hst
run "replay 1M rows, logreg only, delay 1000" --model logreg --label-delay 1000
