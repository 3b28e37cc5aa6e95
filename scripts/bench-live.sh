#!/usr/bin/env bash
# Live on the standalone broker (`sluice broker`, 4 partitions), producer in another process, all
# on this machine's cores. The producer sends a CSV written beforehand by `sluice gen` (cheaper
# per event than generating the stream as it goes, so more of the CPU is left to live), with the
# frauds' labels one hour of event time after them:
#  1. drain: 24,000 events written beforehand (what the broker keeps: ~5 MiB a partition), then
#     `sluice live --exit-at-end`: events/s over the whole run, start-up included;
#  2. sustained: `sluice produce` as fast as it can while live runs: live's events/s while busy,
#     its largest lag (whether it kept up) and its CPU time per event;
#  3. paced: `sluice produce --rate R` while live runs: the prediction latency (an event's
#     message timestamp to its score) p50/p99/p999, from live's summary, and live's CPU per
#     event; at 50,000 events/s also what a bare consumer (kcat, nothing done per message) sees
#     of the same stream: the floor the broker and the clients set on this machine;
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
# Live's CPU time (user + system, from /usr/bin/time's "%U %S") per event scored, in µs.
cpu_per_event() {
  awk -v e="$(field events "$2")" '{printf "%.1f", ($1 + $2) * 1e6 / e}' "$1"
}
# Reads message timestamps (kcat -f '%T\n') on stdin: "count p50 p99 p999" of now - timestamp, ms.
latencies() {
  python3 -c '
import sys, time
lat = []
for line in iter(sys.stdin.readline, ""):
    line = line.strip()
    if line.isdigit():
        lat.append(time.time() * 1000 - int(line))
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print("%d %.1f %.1f %.1f" % (len(lat), q(0.5), q(0.99), q(0.999)))
'
}
live_flags=(--label-ttl 5400 --expired-labels negative)
produce_flags=(--label-delay-seconds 3600)

"$sluice" gen --rows 300000 --out "$work/stream.csv" >/dev/null 2>&1
head -n 200001 "$work/stream.csv" >"$work/stream200k.csv"

start_broker
"$sluice" produce --brokers "$bs" --rows 24000 "${produce_flags[@]}" 2>/dev/null
/usr/bin/time -f "%e" -o "$work/time" "$sluice" live --brokers "$bs" --assignment static --exit-at-end \
  --quiet "${live_flags[@]}" --summary "$work/drain.json"
events=$(field events "$work/drain.json")
wall=$(cat "$work/time")
printf '%-44s %8s events in %5.2f s wall: %8.0f events/s (4 partitions, both models)\n' \
  "live, drain a backlog" "$events" "$wall" "$(awk -v e="$events" -v w="$wall" 'BEGIN{print e/w}')"
printf '%-44s %8s events/s from the first event consumed to the last scored\n' \
  "  the same without start-up" "$(field events_per_second_busy "$work/drain.json")"
stop_broker

start_broker
/usr/bin/time -f "%U %S" -o "$work/cpu" "$sluice" live --brokers "$bs" --assignment static --seconds 9 \
  --quiet "${live_flags[@]}" --summary "$work/sustained.json" &
live_pid=$!
sleep 2
"$sluice" produce --brokers "$bs" --input "$work/stream.csv" "${produce_flags[@]}" \
  2>"$work/produce.txt"
wait "$live_pid"
printf '%-44s %8s events/s while busy, %s of 300000 scored, max lag %s messages, %s µs CPU an event\n' \
  "live, sustained (producer unpaced)" "$(field events_per_second_busy "$work/sustained.json")" \
  "$(field events "$work/sustained.json")" \
  "$(grep -o '"max_lag": {"messages": [0-9]*' "$work/sustained.json" | grep -o '[0-9]*$')" \
  "$(cpu_per_event "$work/cpu" "$work/sustained.json")"
printf '%-44s %s\n' "  the producer" "$(grep -o '[0-9]* events/s' "$work/produce.txt")"
stop_broker

# The status line's p99 of each second in which live scored at least 90 % of `rate` events:
# "min median max" (the steady state, without the first second while the clients connect).
steady_p99() {
  awk -v rate="$2" '/^sluice live: [0-9]+ events/ {
      r = $5; gsub(/[(\/s),]/, "", r);
      for (i = 1; i < NF; i++) if ($i == "p99") { v = $(i + 1); break }
      if (r + 0 >= 0.9 * rate) print v
    }' "$1" | sort -n | awk '{a[NR] = $1} END {
      if (NR == 0) print "- - -"; else print a[1], a[int((NR + 1) / 2)], a[NR] }'
}

for rate in 20000 50000 100000; do
  start_broker
  /usr/bin/time -f "%U %S" -o "$work/cpu" "$sluice" live --brokers "$bs" --assignment static \
    --seconds $((200000 / rate + 4)) "${live_flags[@]}" --summary "$work/paced.json" \
    >/dev/null 2>"$work/status.txt" &
  live_pid=$!
  sleep 1
  "$sluice" produce --brokers "$bs" --input "$work/stream200k.csv" --rate "$rate" \
    "${produce_flags[@]}" 2>/dev/null
  wait "$live_pid"
  printf '%-44s p50 %s ms  p99 %s ms  p999 %s ms  (%s events; CPU %s µs an event, idle included)\n' \
    "live, paced at $rate events/s, prediction" "$(inner p50_ms "$work/paced.json")" \
    "$(inner p99_ms "$work/paced.json")" "$(inner p999_ms "$work/paced.json")" \
    "$(field events "$work/paced.json")" "$(cpu_per_event "$work/cpu" "$work/paced.json")"
  read -r s_min s_med s_max < <(steady_p99 "$work/status.txt" "$rate")
  printf '%-44s p99 of each second: median %s ms (%s-%s)\n' "  steady state" "$s_med" "$s_min" \
    "$s_max"
  stop_broker
done

# The floor: kcat consuming the same stream at 50,000 events/s, doing nothing with it (with the
# fetch wait live uses on this broker).
start_broker
"$sluice" produce --brokers "$bs" --rows 1 2>/dev/null  # The topic exists before kcat reads it.
kcat -b "$bs" -C -t transactions -o end -u -q -X fetch.wait.max.ms=2 -f '%T\n' 2>/dev/null |
  latencies >"$work/floor.txt" &
reader_pid=$!
sleep 1.5
"$sluice" produce --brokers "$bs" --input "$work/stream200k.csv" --rate 50000 \
  "${produce_flags[@]}" 2>/dev/null
sleep 1
pkill -f "kcat -b $bs" || true
wait "$reader_pid" 2>/dev/null || true
read -r n v50 v99 v999 <"$work/floor.txt"
printf '%-44s p50 %s ms  p99 %s ms  p999 %s ms  (%s messages)\n' \
  "  a bare consumer (kcat) at 50000 events/s" "$v50" "$v99" "$v999" "$n"
stop_broker

#  4. a real Apache Kafka 4.x broker (scripts/kafka-broker.sh), exactly once by transactions with
#    a checkpoint every second of wall time, paced at 20,000 events/s: prediction latency, commit
#    time, and the time from a score being sent to it being visible to a read_committed consumer
#    (kcat, an independent client; measured on arrival against the score message's CreateTime).
#    Then the scale-out measurements (5. below) on the same broker.
kafka_dir="$work/kafka"
if bs=$("$scripts/kafka-broker.sh" start "$kafka_dir"); then
  rate=20000
  # The input topics exist before live starts (auto-created, 4 partitions).
  "$sluice" produce --brokers "$bs" --rows 1 2>/dev/null
  "$sluice" live --brokers "$bs" --assignment static --quiet --seconds 14 --registry "$work/real.db" \
    --snapshot-every-wall 1 --label-ttl 5400 --expired-labels negative \
    --summary "$work/real.json" &
  live_pid=$!
  sleep 4  # Topics created, transactions initialised.
  kcat -b "$bs" -C -t scores -o end -u -q -X isolation.level=read_committed -f '%T\n' \
    2>/dev/null | latencies >"$work/visible.txt" &
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

  #  5. scale-out, 4 partitions and 2 processes in one consumer group on these 2 cores, each with
  #     its own registry, checkpoints every 2 s published to sluice.checkpoints inside their
  #     transactions. Paced at 10,000 events/s: A runs alone, B joins after 8 s and the group
  #     moves 2 partitions to it. A partition's move is the time from A being told to give it up
  #     to B scoring its first event (checkpoint and commit at A, the group's second round, the
  #     restore at B: reading the checkpoints topic, importing into B's registry), from the two
  #     summaries; throughput is both processes' events over the time they were busy.
  move() {  # move NAME [model flags...]
    local name=$1
    shift
    local group="move-$name" topic="move-$name"
    "$sluice" produce --brokers "$bs" --transactions-topic "$topic" --rows 1 2>/dev/null
    local common=(--brokers "$bs" --group "$group" --transactions "$topic" --model-name "$name" --quiet
      --snapshot-every-wall 2 "${live_flags[@]}" "$@")
    "$sluice" live "${common[@]}" --registry "$work/$name-a.db" --summary "$work/$name-a.json" &
    local a=$!
    "$sluice" produce --brokers "$bs" --transactions-topic "$topic" --rows 180000 --rate 10000 \
      "${produce_flags[@]}" 2>/dev/null &
    local producer=$!
    sleep 8
    "$sluice" live "${common[@]}" --registry "$work/$name-b.db" --summary "$work/$name-b.json" &
    local b=$!
    wait "$producer"
    sleep 3
    kill -TERM "$a" "$b" 2>/dev/null || true
    wait "$a" "$b" || true
    python3 - "$work/$name-a.json" "$work/$name-b.json" "$name" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
moves = []
for ra in a["partitions"]:
    if not ra["handed_back"] or ra["revoked_at"] == 0:
        continue
    for rb in b["partitions"]:
        if rb["partition"] == ra["partition"] and rb["first_event_at"] is not None:
            moves.append((rb["first_event_at"] - ra["revoked_at"], ra["handed_back_at"] - ra["revoked_at"],
                          rb["assigned_at"] - ra["handed_back_at"], rb["running_at"] - rb["assigned_at"],
                          rb["first_event_at"] - rb["running_at"], rb["partition"]))
print("%-44s %d partitions moved from A to B" % ("scale-out, 2 processes (%s)" % sys.argv[3],
      len(moves)))
for m in moves:
    print("%-44s %.2f s  (A checkpoints and commits %.2f s, the group's second round %.2f s, "
          "B restores %.2f s, B's first event %.2f s)" %
          ("  partition %d moved: revoke -> first score" % m[5], m[0], m[1], m[2], m[3], m[4]))
PY
  }
  # Throughput: 200,000 events written beforehand, drained by the two processes started
  # together (the group's first rounds included), with the default model.
  "$sluice" produce --brokers "$bs" --transactions-topic drain2 --rows 200000 \
    "${produce_flags[@]}" 2>/dev/null
  start=$(date +%s.%N)
  for p in a b; do
    "$sluice" live --brokers "$bs" --group drain2 --transactions drain2 --model-name drain2 \
      --quiet --exit-at-end \
      --registry "$work/drain2-$p.db" --snapshot-every-wall 2 "${live_flags[@]}" \
      --summary "$work/drain2-$p.json" &
  done
  wait
  end=$(date +%s.%N)
  # What was produced (all of it scored: --exit-at-end); a summary's events include those a
  # moved partition restored, so the two summaries' sum would count some twice.
  events=200000
  printf '%-44s %8s events in %5.2f s wall: %8.0f events/s (start-up and the group included)\n' \
    "scale-out, 2 processes drain a backlog" "$events" "$(awk -v s="$start" -v e="$end" 'BEGIN{print e-s}')" \
    "$(awk -v n="$events" -v s="$start" -v e="$end" 'BEGIN{print n/(e-s)}')"
  move default
  move hst-25-15 --hst-trees 25 --hst-height 15 --hst-window 250
else
  echo "real Kafka: scripts/kafka-broker.sh could not start a broker; skipped"
fi
