#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build and test, and nothing when all are present.
set -euo pipefail

# clang-14 and libclang-rt-14-dev: the libFuzzer targets (make test-fuzz); python3-venv: River;
# librdkafka-dev: live on Kafka (and its mock cluster); kcat: an independent client in tests;
# maven and a Java 17 runtime: the real Kafka broker of the tests (scripts/kafka-broker.sh);
# libboost-dev: Beast and Asio (the HTTP server, header-only); wrk: the HTTP load of make bench;
# prometheus: only its promtool, which lints the /metrics text in tests (its postinst also starts
# a Prometheus server on port 9090 unless policy-rc.d denies it, as Docker images' does).
packages=(g++ make cmake pkg-config libabsl-dev libsqlite3-dev libcxxopts-dev libsimdjson-dev
          libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-14 libclang-rt-14-dev
          python3 python3-venv librdkafka-dev kcat maven openjdk-17-jre-headless prometheus
          libboost-dev wrk)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
