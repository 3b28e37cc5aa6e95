#!/usr/bin/env bash
# Runs one libFuzzer binary from its seed corpus (ctest fuzz.<name>; make test-fuzz, make fuzz).
# usage: run-fuzzer.sh FUZZER SEED_CORPUS WORK_DIR
#   SLUICE_FUZZ_SECONDS  how long to fuzz (default 10)
#   SLUICE_FUZZ_MODE     test (default): the seed corpus is only read; new inputs go to
#                        WORK_DIR/new, emptied first.
#                        fuzz: fuzzes WORK_DIR/corpus, a copy of the seeds that keeps what
#                        earlier runs found (minimise it into the seeds with -merge=1).
# A crash, leak, sanitizer report, failed check or slow input (> 10 s) fails; the input is saved
# as WORK_DIR/artifacts/{crash,leak,timeout,...}-<sha1>. Reproduce: FUZZER ARTIFACT.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 FUZZER SEED_CORPUS WORK_DIR" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 work=$3
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
  echo "run-fuzzer: no seeds in $seeds; add a few valid inputs there" >&2
  exit 2
fi
seconds=${SLUICE_FUZZ_SECONDS:-10}
mode=${SLUICE_FUZZ_MODE:-test}
mkdir -p "$work/artifacts"
case "$mode" in
  test)
    rm -rf "$work/new" "$work/artifacts"/*
    mkdir -p "$work/new"
    corpora=("$work/new" "$seeds")
    # A fixed seed: make test mutates the same way every run (what it finds, it finds again).
    extra=(-seed=1)
    ;;
  fuzz)
    mkdir -p "$work/corpus"
    cp -n "$seeds"/* "$work/corpus/"
    corpora=("$work/corpus")
    extra=()
    ;;
  *)
    echo "run-fuzzer: SLUICE_FUZZ_MODE must be test or fuzz, not $mode" >&2
    exit 2
    ;;
esac
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${extra[@]}" \
  -artifact_prefix="$work/artifacts/" "${corpora[@]}" || status=$?
if [ $status -ne 0 ]; then
  echo "run-fuzzer: $(basename "$fuzzer") failed (exit $status); reproduce with:" \
       "$fuzzer $work/artifacts/<file>" >&2
fi
exit $status
