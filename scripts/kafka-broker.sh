#!/usr/bin/env bash
# Test-only: a real single-node Apache Kafka 4.x broker (KRaft, broker+controller in one JVM),
# run from Maven Central jars, for tests of sluice against real Kafka.
#
#   scripts/kafka-broker.sh start DIR [key=value ...]  # prints the bootstrap HOST:PORT
#   scripts/kafka-broker.sh stop DIR                   # harmless when it is not running
#
# DIR holds server.properties, logs/ (the data), kafka.log, pid and bootstrap. Starting again in
# the same DIR reuses its config and ports, so the data survives a stop/start. Extra key=value
# arguments are added to server.properties when DIR is new. The jars (pinned in
# scripts/kafka/pom.xml) are fetched once into the cache; later starts use no network.
# Env: SLUICE_CACHE (default ~/.cache/sluice), SLUICE_KAFKA_JAVA_OPTS (extra JVM options),
# SLUICE_KAFKA_HOST (the address clients reach it at, default 127.0.0.1; e.g. its address in a
# network namespace, for tests of machines that share only the broker).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pom="$repo/scripts/kafka/pom.xml"
jars="${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka-4.x/jars"
host="${SLUICE_KAFKA_HOST:-127.0.0.1}"

die() { echo "kafka-broker: $*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR [key=value ...]"; }

[ $# -ge 2 ] && [[ $1 == start || $1 == stop ]] || usage
cmd=$1 dir=$2
shift 2
[ "$cmd" != stop ] || [ -d "$dir" ] || exit 0 # nothing to stop
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# True when DIR/pid names a live process that is this DIR's broker (not a reused PID; a zombie
# has an empty cmdline, so it counts as stopped).
running() {
  local pid
  pid=$(cat "$dir/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $dir/server.properties"
}

# Fetches the jars once. A stamp of the pom's hash makes a version change in the pom refetch.
ensure_jars() {
  local stamp
  stamp=$(sha256sum "$pom" | cut -d' ' -f1)
  [ "$(cat "$jars/.pom-sha256" 2>/dev/null)" = "$stamp" ] && return 0
  echo "kafka-broker: fetching Kafka jars into $jars (once)" >&2
  local tmp="$jars.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$(dirname "$jars")"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$tmp.log" 2>&1 ||
    { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; die "mvn could not fetch the Kafka jars"; }
  rm -f "$tmp.log"
  echo "$stamp" >"$tmp/.pom-sha256"
  rm -rf "$jars" && mv "$tmp" "$jars"
}

# Prints two distinct free loopback ports (bound at the same time, then released).
free_ports() {
  python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))'
}

# Writes DIR/server.properties for a new DIR.
write_config() {
  local port cport
  read -r port cport < <(free_ports)
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$host:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://$host:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$cport
log.dirs=$dir/logs
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Fast tests on a small machine.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.partitions=4
num.network.threads=2
num.io.threads=2
background.threads=2
EOF
  local kv
  for kv in "$@"; do echo "$kv" >>"$dir/server.properties"; done
  # Broker log to stdout (DIR/kafka.log), INFO as Kafka's distribution does.
  cat >"$dir/log4j2.properties" <<'EOF'
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=OUT
appender.out.type=Console
appender.out.name=OUT
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
logger.request.name=kafka.request.logger
logger.request.level=WARN
EOF
}

# Shows the broker log's first errors and its tail, then fails.
fail_start() {
  echo "--- first errors in $dir/kafka.log:" >&2
  grep -m 8 -E '^\[[^]]*\] (ERROR|FATAL)|^[A-Za-z0-9_.$]+(Exception|Error)|^Caused by' \
    "$dir/kafka.log" | cut -c1-400 >&2 || true
  echo "--- last lines:" >&2
  tail -n 15 "$dir/kafka.log" | cut -c1-400 >&2
  die "$*"
}

listen_address() { sed -n 's|^advertised.listeners=PLAINTEXT://||p' "$dir/server.properties"; }

start() {
  if running; then cat "$dir/bootstrap"; return 0; fi
  ensure_jars
  [ -f "$dir/server.properties" ] || write_config "$@"
  # Small and quick: 512 MB heap, serial GC, C1 JIT only (measured: starts ~2 s sooner, with
  # half the CPU and ~30 MB less RSS than the default JIT, at the same kcat throughput).
  local cp="$jars/*" java_opts=(-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Djava.awt.headless=true)
  # shellcheck disable=SC2206  # word splitting of extra options is intended
  java_opts+=(${SLUICE_KAFKA_JAVA_OPTS:-})
  # Format the storage once (a random cluster id: 16 bytes, URL-safe base64, not led by '-').
  if [ ! -f "$dir/logs/meta.properties" ]; then
    local id=-
    while [[ $id == -* ]]; do id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
    java "${java_opts[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$id" \
      -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      { cat "$dir/format.log" >&2; die "formatting $dir/logs failed"; }
  fi
  local bs
  bs="$(listen_address)"
  # A fresh kafka.log (the previous run's is kept as kafka.log.1), so that the wait below reads
  # only this run. All descriptors redirected, so that $(kafka-broker.sh start DIR) returns.
  [ ! -f "$dir/kafka.log" ] || mv "$dir/kafka.log" "$dir/kafka.log.1"
  : >"$dir/kafka.log"
  # Log4j keeps logging through the shutdown (its own hook would cut the last lines).
  java "${java_opts[@]}" "-Dlog4j2.configurationFile=$dir/log4j2.properties" \
    -Dlog4j2.shutdownHookEnabled=false -cp "$cp" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$dir/kafka.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pid"
  # Ready when the broker says it started and (with kcat) answers a metadata request.
  local deadline=$((SECONDS + 90))
  until grep -q 'Kafka Server started' "$dir/kafka.log" &&
      { ! command -v kcat >/dev/null || timeout 10 kcat -b "$bs" -L -m 5 >/dev/null 2>&1; }; do
    if ! kill -0 "$pid" 2>/dev/null; then # (not `running`: the cmdline is set at exec)
      rm -f "$dir/pid"
      fail_start "the broker exited during start (log: $dir/kafka.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      stop
      fail_start "the broker did not answer on $bs within 90 s (log: $dir/kafka.log)"
    fi
    sleep 0.5
  done
  echo "$bs" >"$dir/bootstrap"
  echo "$bs"
}

stop() {
  if running; then
    local pid i
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do # 30 s for a controlled shutdown
      running || break
      sleep 0.5
    done
    if running; then
      echo "kafka-broker: no exit 30 s after SIGTERM, sending SIGKILL to $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do running || break; sleep 0.1; done
    fi
  fi
  rm -f "$dir/pid"
}

if [ "$cmd" = start ]; then start "$@"; else stop; fi
