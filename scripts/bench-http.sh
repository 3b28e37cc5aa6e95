#!/usr/bin/env bash
# The HTTP API (`sluice serve`, 2 server threads) under wrk on loopback, all on this machine's
# cores (wrk takes one of them):
#  1. single events, keep-alive, 16 connections: requests/s and latency p50/p99 (wrk's);
#  2. batches of 1,000 events, one connection: the server's time per batch, from its own
#     request-duration histogram (from the request's last byte read to the response made), the
#     time spent scoring and writing the predictions, and batches/s; with a Content-Length the
#     events are parsed and scored as the body arrives; sent chunked, read whole first;
#  3. single events as in 1 while the served alias is switched every 10 ms: failed requests.
# The models are versions of a replay of the built-in stream (default models).
set -euo pipefail
build=${1:-build}
sluice="$(cd "$build" && pwd)/tools/sluice"
work=$(mktemp -d)
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "http: wrk is not installed (scripts/install-deps.sh)"; exit 0; }

"$sluice" replay --rows 100000 --registry "$work/r.db" --snapshot-every-events 20000 --quiet \
  >/dev/null
"$sluice" gen --rows 1000 --out "$work/events.csv" 2>/dev/null
# The events as JSON, numbers copied from the CSV as written.
python3 - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
rows = list(csv.reader(open(work + "/events.csv")))
header, rows = rows[0], rows[1:]
def event(i, row):
    features = ", ".join('"%s": %s' % (h, v) for h, v in zip(header, row) if h != "Class")
    return '{"id": "t-%d", "features": {%s}}' % (i, features)
open(work + "/one.json", "w").write(event(0, rows[0]))
open(work + "/batch.json", "w").write("[" + ",".join(event(i, r) for i, r in enumerate(rows)) + "]")
PY
cat >"$work/post.lua" <<'LUA'
local f = io.open(os.getenv("SLUICE_BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
# Starts `sluice serve` (in this shell, so that serve_pid is kept) and sets url.
start_serve() {
  [ -n "$serve_pid" ] && kill "$serve_pid" && wait "$serve_pid" 2>/dev/null || true
  rm -f "$work/port"
  "$sluice" serve --registry "$work/r.db" --port 0 --port-file "$work/port" 2>/dev/null &
  serve_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  url="http://127.0.0.1:$(cat "$work/port")"
}

# wrk's requests/s, p50, p99 and failures (non-2xx answers and socket errors).
load() {  # load BODY SECONDS
  SLUICE_BODY=$1 wrk -t1 -c16 -d"$2"s --latency -s "$work/post.lua" "$url/v1/score" |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
         /Non-2xx/ {bad+=$NF} /Socket errors/ {gsub(",", ""); bad+=$4+$6+$8+$10}
         END {printf "%.0f %s %s %d\n", rps, p50, p99, bad}'
}

start_serve
read -r rps p50 p99 bad < <(load "$work/one.json" 10)
printf '%-44s %8s requests/s  p50 %s  p99 %s  (%d failed)\n' \
  "http: single events, 16 connections" "$rps" "$p50" "$p99" "$bad"

# Server time per batch from the server's request-duration histogram: `batch_times LABEL NOTE`.
batch_times() {
  curl -s "$url/metrics" >"$work/metrics.txt"
  python3 - "$work/metrics.txt" "$(stat -c %s "$work/batch.json")" "$1" "$2" <<'PY'
import re, sys
text, size, label, note = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3], sys.argv[4]
key = 'route="/v1/score",method="POST",code="200"'
def series(name):
    return [float(v) for v in re.findall(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(key)), text, re.M)]
n, total = series("sluice_http_request_duration_seconds_count")[0], series("sluice_http_request_duration_seconds_sum")[0]
buckets = sorted((float(le), float(c)) for le, c in re.findall(
    r'^sluice_http_request_duration_seconds_bucket\{%s,le="([0-9.e+-]+)"\} (\S+)$' % re.escape(key), text, re.M))
within = lambda s: 100 * next(c for le, c in buckets if le >= s) / n
scoring = sum(float(v) for v in re.findall(r"^sluice_model_version_scoring_seconds_total\{[^}]*\} (\S+)$", text, re.M))
print("%-44s %8.2f ms server time per batch, %.2f ms scoring and writing (%d batches of %d KB; %.0f%% within 1 ms%s)"
      % (label, 1000 * total / n, 1000 * scoring / n, n, size // 1024, within(0.001), note))
PY
}

# With a Content-Length (what clients send), a batch is parsed and scored as its body arrives:
# the server time counts from its last byte.
start_serve
rate=$(SLUICE_BODY="$work/batch.json" wrk -t1 -c1 -d5s -s "$work/post.lua" "$url/v1/score" |
  awk '/Requests\/sec/ {print $2}')
batch_times "http: batches of 1,000 events" "; $rate batches/s on one connection"
# Chunked, with no Content-Length, a body is read whole before its events are: parsing is then
# inside the server time.
start_serve
for _ in $(seq 1 100); do
  curl -s -o /dev/null -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" \
    --data-binary "@$work/batch.json" "$url/v1/score"
done
batch_times "http: batches of 1,000 events, read whole" ""

# Versions 2 and 3 in turn, every 10 ms, while the load runs.
(
  end=$((SECONDS + 6)); v=2
  while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null -X PUT -d "{\"version\": $v}" "$url/v1/models/default/aliases/champion"
    v=$((5 - v)); sleep 0.01
  done
) &
switcher=$!
read -r rps p50 p99 bad < <(load "$work/one.json" 5)
wait "$switcher"
switches=$(curl -s "$url/v1/models/default/aliases/champion/history" | grep -o '"version"' | wc -l)
printf '%-44s %8s requests/s  p50 %s  p99 %s  (%d failed, %d alias switches)\n' \
  "http: single events, alias switched every 10 ms" "$rps" "$p50" "$p99" "$bad" "$switches"
