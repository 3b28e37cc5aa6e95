# sluice: `make demo`, `make test`, `make bench`. Each installs missing Debian packages first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz

.PHONY: all deps build demo test test-release test-asan test-tsan test-fuzz fuzz fuzz-build \
        fuzz-corpus test-river test-river-long test-browser bench layering format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_BENCHMARKS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/tools/sluice replay --report $(BUILD)/demo-report.html --summary $(BUILD)/demo-summary.json
	@echo "report: $(BUILD)/demo-report.html  summary: $(BUILD)/demo-summary.json"
	@echo "live for 6 s: an embedded Kafka broker, a producer at 20,000 events/s, one runner per partition"
	$(BUILD)/tools/sluice live --demo --seconds 6 --summary $(BUILD)/demo-live.json

# The release suite, the whole suite again under AddressSanitizer + UBSan, the threaded tests
# under ThreadSanitizer, every fuzz target for 10 s, the differential test against the real
# River 0.26.1, and the dashboard in a real browser.
test: layering format test-release test-asan test-tsan test-fuzz test-river test-browser

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON \
	  -DSLUICE_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# `sluice replay` against River 0.26.1 (PyPI, in a cached venv) on seeded random configurations,
# with == on every event (tests/river/README.md). -long: many more configs, longer streams.
test-river: build
	@python=$$(scripts/river-venv.sh) && \
	  "$$python" tests/river/differential.py --sluice $(BUILD)/tools/sluice

test-river-long: build
	@python=$$(scripts/river-venv.sh) && \
	  "$$python" tests/river/differential.py --sluice $(BUILD)/tools/sluice --long

# The dashboard in a real browser: Debian's Chromium driven by playwright-core (npm, pinned), both
# installed once by scripts/browser-deps.sh, against `sluice live --demo --http-port`; the
# screenshot is kept as $(BUILD)/dashboard/dashboard.png.
test-browser: build
	@node_modules=$$(scripts/browser-deps.sh) && \
	  node tests/e2e/dashboard_test.mjs --sluice $(BUILD)/tools/sluice --out $(BUILD)/dashboard \
	    --node-modules "$$node_modules" && \
	  node tests/e2e/report_test.mjs --sluice $(BUILD)/tools/sluice --out $(BUILD)/report \
	    --node-modules "$$node_modules"

# ThreadSanitizer (GCC) on the tests labelled `threads`: the replay, snapshotter and
# RegistryCliTest tests, picked per test by sluice_add_test(... THREADED <gtest filter>) in
# tests/*/CMakeLists.txt. Only the binaries they need are built. The kill-and-resume stress test
# is left out: it replays 200,000 rows nine times (3.5 minutes under TSan) through the same
# threads as the other RegistryCliTest tests.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=thread \
	  -DSLUICE_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target engine_test e2e_test sluice
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 $$TSAN_OPTIONS" ctest --output-on-failure \
	  -j $(JOBS) -L threads -E KilledAtRandomPointsResumesByteIdentical

# libFuzzer targets (clang 14, ASan + UBSan), one per tests/fuzz/<name>_fuzz.cc, declared by
# sluice_add_fuzzer() in tests/fuzz/CMakeLists.txt. Only the fuzzers and their libraries build.
FUZZ_CONFIGURE = cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DSLUICE_FUZZ=ON -DSLUICE_BUILD_TESTS=OFF \
  -DSLUICE_BUILD_BENCHMARKS=OFF >/dev/null
fuzz-build: deps
	@$(FUZZ_CONFIGURE)
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target sluice_fuzzers

# Each target for 10 s from its committed seeds (tests/fuzz/corpus/<name>/); new inputs go to
# $(FUZZ_BUILD)/fuzz/<name>/new, crashes to $(FUZZ_BUILD)/fuzz/<name>/artifacts.
test-fuzz: fuzz-build
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

# Each target for 60 s on a copy of its seeds ($(FUZZ_BUILD)/fuzz/<name>/corpus, kept between
# runs).
fuzz: fuzz-build
	cd $(FUZZ_BUILD) && SLUICE_FUZZ_SECONDS=60 SLUICE_FUZZ_MODE=fuzz \
	  ctest --output-on-failure -j $(JOBS) -L fuzz

# Rewrites the generated seeds (tests/fuzz/make_corpus.cc); regression_* seeds stay.
fuzz-corpus: deps
	@$(FUZZ_CONFIGURE)
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_corpus_gen
	$(FUZZ_BUILD)/tests/fuzz/fuzz_corpus_gen tests/fuzz/corpus

format:
	@scripts/check-format.sh

layering:
	@scripts/check-layering.sh

bench: build
	$(BUILD)/tools/bench/sluice_benchmarks --benchmark_min_time=0.5
	scripts/bench-replay.sh $(BUILD)
	scripts/bench-live.sh $(BUILD)
	scripts/bench-http.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
