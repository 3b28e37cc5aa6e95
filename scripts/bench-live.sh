#!/usr/bin/env bash
# Live on the standalone broker (`sluice broker`, 4 partitions), producer in another process:
#  1. drain: 24,000 events written beforehand (what the broker keeps: ~5 MiB a partition), then
#     `sluice live --exit-at-end`: events/s over the whole run, start-up included;
#  2. paced: `sluice produce --rate R` while live runs: the prediction latency (an event's
#     message timestamp to its score) p50/p99/p999, from live's summary;
set -euo pipefail
build=${1:-build}
sluice="$(cd "$build" && pwd)/tools/sluice"
work=$(mktemp -d)
broker_pid=""
scripts=$(cd "$(dirname "$0")" && pwd)
kafka_dir=""
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  [ -n "$kafka_dir" ] && "$scripts/kafka-broker.sh" stop "$kafka_dir" >/dev/null 2>&1
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
printf '%-44s %8s events/s from the first event consumed to the last scored\n' \
  "  the same without start-up" "$(field events_per_second_busy "$work/drain.json")"
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
    "live, paced at $rate events/s, prediction" "$(inner p50_ms "$work/paced.json")" \
    "$(inner p99_ms "$work/paced.json")" "$(inner p999_ms "$work/paced.json")" \
    "$(field events "$work/paced.json")"
  stop_broker
done

#  3. a real Apache Kafka 4.x broker (scripts/kafka-broker.sh), exactly once by transactions with
#    a checkpoint every second of wall time, paced at 20,000 events/s: prediction latency, commit
#    time, and the time from a score being sent to it being visible to a read_committed consumer
#    (kcat, an independent client; measured on arrival against the score message's CreateTime).
kafka_dir="$work/kafka"
if bs=$("$scripts/kafka-broker.sh" start "$kafka_dir"); then
  rate=20000
  # The input topics exist before live starts (auto-created, 4 partitions).
  "$sluice" produce --brokers "$bs" --rows 1 2>/dev/null
  "$sluice" live --brokers "$bs" --quiet --seconds 14 --registry "$work/real.db" \
    --snapshot-every-wall 1 --label-ttl 5400 --expired-labels negative \
    --summary "$work/real.json" &
  live_pid=$!
  sleep 4  # Topics created, transactions initialised.
  kcat -b "$bs" -C -t scores -o end -u -q -X isolation.level=read_committed -f '%T\n' \
    2>/dev/null | python3 -c '
import sys, time
lat = []
for line in iter(sys.stdin.readline, ""):
    line = line.strip()
    if line.isdigit():
        lat.append(time.time() * 1000 - int(line))
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print("%d %.1f %.1f %.1f" % (len(lat), q(0.5), q(0.99), q(0.999)))
' > "$work/visible.txt" &
  reader_pid=$!
  sleep 1
  "$sluice" produce --brokers "$bs" --rows $((rate * 6)) --rate "$rate" \
    --label-delay-seconds 3600 2>/dev/null
  wait "$live_pid"
  pkill -f "kcat -b $bs" || true
  wait "$reader_pid" 2>/dev/null || true
  read -r n v50 v99 v999 < "$work/visible.txt"
  printf '%-44s p50 %s ms  p99 %s ms  p999 %s ms  (%s events)\n' \
    "real Kafka, transactions, paced at $rate/s" "$(inner p50_ms "$work/real.json")" \
    "$(inner p99_ms "$work/real.json")" "$(inner p999_ms "$work/real.json")" \
    "$(field events "$work/real.json")"
  printf '%-44s p50 %s ms  p99 %s ms  (checkpoint every 1 s)\n' "  commit of a checkpoint" \
    "$(grep -o '"commit_latency": {[^}]*' "$work/real.json" | grep -o '"p50_ms": [0-9.]*' | awk '{print $2}')" \
    "$(grep -o '"commit_latency": {[^}]*' "$work/real.json" | grep -o '"p99_ms": [0-9.]*' | awk '{print $2}')"
  printf '%-44s p50 %s ms  p99 %s ms  p999 %s ms  (%s scores read)\n' \
    "  score sent -> visible to read_committed" "$v50" "$v99" "$v999" "$n"
else
  echo "real Kafka: scripts/kafka-broker.sh could not start a broker; skipped"
fi
