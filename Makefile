# The commands of the README, and their helpers. Each target installs what it needs.
#   make demo         build, then explain the seed's matrices and work its example by
#                     every algorithm
#   make test         build normally and with AddressSanitizer + UBSan, run every suite in both
#   make bench        tconv against PyTorch, oneDNN and bare sgemm on bench/shapes.csv
#   make bench-quick  the same with short budgets (under 3 minutes)
# Benchmark results go to $(BENCH_BUILD)/results (CSV and SVG); BENCH_ARGS adds options,
# e.g. make bench-quick BENCH_ARGS="--filter dcgan --threads 2".

BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps bench-deps build build-tests build-sanitize build-bench demo test \
        bench bench-quick clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

bench-deps:
	@scripts/install-deps.sh bench

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=OFF
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/tconv explain
	$(BUILD)/tconv demo

build-tests: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)

build-sanitize: test-deps
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTCONV_BUILD_TESTS=ON \
	      -DTCONV_SANITIZE=address,undefined
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)

test: build-tests build-sanitize
	@echo "== release build"
	@scripts/run-tests.sh $(BUILD)
	@echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
	@scripts/run-tests.sh $(SANITIZE_BUILD)

build-bench: bench-deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=OFF \
	      -DTCONV_BUILD_BENCH=ON
	cmake --build $(BENCH_BUILD) -j $(JOBS)

bench: build-bench
	@mkdir -p $(BENCH_BUILD)/results
	$(BENCH_BUILD)/bench/tconv_bench --csv $(BENCH_BUILD)/results/bench.csv \
	    --svg $(BENCH_BUILD)/results $(BENCH_ARGS)

bench-quick: build-bench
	@mkdir -p $(BENCH_BUILD)/results
	$(BENCH_BUILD)/bench/tconv_bench --quick --csv $(BENCH_BUILD)/results/bench-quick.csv \
	    --svg $(BENCH_BUILD)/results $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(BENCH_BUILD)
