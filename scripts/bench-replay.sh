#!/usr/bin/env bash
# End-to-end replay throughput: a 1,000,000-row `sluice gen` file through both models with
# --label-delay 1000, without --predictions. Prints wall time, events/s and peak memory, and
# River 0.26.1's events/s on the first 20,000 rows of the same file with the ratio.
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
  last_eps=$eps
}

run "replay 1M rows, both models, delay 1000" --label-delay 1000
# River 0.26.1 (scripts/river-venv.sh) on the first 20,000 rows of the same file, same pipelines.
python=$("$(dirname "$0")/river-venv.sh")
river_eps=$("$python" "$(dirname "$0")/bench-river.py" "$input" 20000 1000)
printf '%-44s %38.0f events/s  sluice/River: %sx\n' "River 0.26.1, first 20,000 rows, same" \
  "$river_eps" "$(awk -v s="$last_eps" -v r="$river_eps" 'BEGIN { printf "%.0f", s / r }')"
# What analysts add: explanations, and challengers in shadow (0, 1, 3), each beside the champion.
run "replay 1M rows, both, delay 1000, --explain 3" --label-delay 1000 --explain 3
run "  ... 1 challenger (logreg lr=0.05)" --label-delay 1000 --challenger logreg:lr=0.05
run "  ... 3 challengers (+ hst 10x8 seed 7, logreg l2)" --label-delay 1000 \
  --challenger logreg:lr=0.05 --challenger hst:seed=7 --challenger logreg:l2=0.001
run "replay 1M rows, hst only" --model hst
run "replay 1M rows, logreg only, delay 1000" --model logreg --label-delay 1000

# The same replay snapshotting into a registry: throughput next to the runs above, and how
# long the stream stood still per snapshot.
registry_run() {
  local name=$1; shift
  local registry="$data/bench-registry.db"
  rm -f "$registry" "$registry-wal" "$registry-shm"
  run "$name" --registry "$registry" "$@"
  printf '%-44s snapshot pause p50 %s ms, p99 %s ms\n' "" \
    "$(grep -o '"snapshot_pause_p50_ms": [0-9.e+-]*' "$data/summary.json" | awk '{printf "%.3f", $2}')" \
    "$(grep -o '"snapshot_pause_p99_ms": [0-9.e+-]*' "$data/summary.json" | awk '{printf "%.3f", $2}')"
  rm -f "$registry" "$registry-wal" "$registry-shm"
}

run "replay 1M rows, both models (no registry)"
registry_run "  same, snapshot every 10,000 events" --snapshot-every-events 10000
registry_run "  same, frozen serving, every 10,000" --snapshot-every-events 10000 --serving frozen
