#!/usr/bin/env bash
# Live on the standalone broker (`sluice broker`, 4 partitions), producer in another process:
#  1. drain: 24,000 events written beforehand (what the broker keeps: ~5 MiB a partition), then
#     `sluice live --exit-at-end`: events/s over the whole run, start-up included;
#  2. paced: `sluice produce --rate R` while live runs: the latency from an event's arrival to
#     its score, p50/p99/p999, from live's summary.
set -euo pipefail
build=${1:-build}
sluice="$(cd "$build" && pwd)/tools/sluice"
work=$(mktemp -d)
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a broker (in this shell, so that broker_pid is kept) and sets bs to its address.
start_broker() {
  rm -f "$work/bootstrap"
  "$sluice" broker --partitions 4 --bootstrap-file "$work/bootstrap" </dev/null >/dev/null 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
  bs=$(cat "$work/bootstrap")
}
stop_broker() {
  kill "$broker_pid"
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=""
}
# A top-level number of live's summary (its own line, not a partition's).
field() { grep -o "^  \"$1\": [0-9.]*" "$2" | head -1 | awk '{print $2}'; }
# A number anywhere in it (the latency object).
inner() { grep -o "\"$1\": [0-9.]*" "$2" | head -1 | awk '{print $2}'; }

start_broker
"$sluice" produce --brokers "$bs" --rows 24000 --label-delay-seconds 3600 2>/dev/null
/usr/bin/time -f "%e" -o "$work/time" "$sluice" live --brokers "$bs" --exit-at-end --quiet \
  --label-ttl 5400 --expired-labels negative --summary "$work/drain.json"
events=$(field events "$work/drain.json")
wall=$(cat "$work/time")
printf '%-44s %8s events in %5.2f s wall: %8.0f events/s (4 partitions, both models)\n' \
  "live, drain a backlog" "$events" "$wall" "$(awk -v e="$events" -v w="$wall" 'BEGIN{print e/w}')"
stop_broker

for rate in 20000 50000 100000; do
  start_broker
  "$sluice" live --brokers "$bs" --quiet --seconds $((200000 / rate + 4)) --label-ttl 5400 \
    --expired-labels negative --summary "$work/paced.json" &
  live_pid=$!
  sleep 1
  "$sluice" produce --brokers "$bs" --rows 200000 --rate "$rate" --label-delay-seconds 3600 \
    2>/dev/null
  wait "$live_pid"
  printf '%-44s p50 %s ms  p99 %s ms  p999 %s ms  (%s events)\n' \
    "live, paced at $rate events/s, arrival->score" "$(inner p50_ms "$work/paced.json")" \
    "$(inner p99_ms "$work/paced.json")" "$(inner p999_ms "$work/paced.json")" \
    "$(field events "$work/paced.json")"
  stop_broker
done
