# sluice: `make demo`, `make test`, `make bench`. Each installs missing Debian packages first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build demo test test-release test-asan test-river test-river-long bench layering \
  format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_BENCHMARKS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/tools/sluice replay --report $(BUILD)/demo-report.html --summary $(BUILD)/demo-summary.json
	@echo "report: $(BUILD)/demo-report.html  summary: $(BUILD)/demo-summary.json"

# The release suite, then the whole suite again under AddressSanitizer + UBSan, then the
# differential test against the real River 0.26.1.
test: layering format test-release test-asan test-river

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

format:
	@scripts/check-format.sh

layering:
	@scripts/check-layering.sh

bench: build
	$(BUILD)/tools/bench/sluice_benchmarks --benchmark_min_time=0.5
	scripts/bench-replay.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
