# The commands of the README, and their helpers. Each target installs what it needs.
#   make              build the library and the `tconv` command (Release, into $(BUILD))
#   make install      install them under PREFIX (/usr/local), staged under DESTDIR if set
#   make demo         build, then explain the seed's matrices (and write the page that
#                     recomputes any geometry in the browser), and work the seed's example
#                     by every algorithm
#   make test         every suite in a Release build and in an ASan+UBSan build, then the
#                     hardening checks: the thread stress test under ThreadSanitizer, a
#                     seeded 60 s fuzz run beside a subset of the suites under valgrind
#                     (each of the two runs on one core)
#   make bench        tconv against PyTorch, oneDNN and each GEMM provider's bare GEMM, on
#                     bench/shapes.csv (transposed convolutions) then bench/conv_shapes.csv
#                     (convolutions), per provider and layout, in one run; then tconv.torch's
#                     per-call cost on a tiny layer against torch.nn's
#   make bench-quick  the same with short budgets (about 8 minutes on 2 cores)
# Benchmark results go to $(BENCH_BUILD)/results (CSV and SVG); BENCH_ARGS adds options,
# e.g. make bench-quick BENCH_ARGS="--filter dcgan --threads 2" or BENCH_ARGS="--suite conv".
# Longer runs of the hardening checks, each on its own:
#   make fuzz         the fuzzer for FUZZ_SECONDS (1800) from FUZZ_SEED (1)
#   make tsan         the thread stress test under ThreadSanitizer
#   make valgrind     every suite, whole, under valgrind
# Not part of `make test`: the README's `make demo` and `make test` in a fresh minimal
# Debian 12 chroot (debootstrap), to check that the set-up installs everything:
#   make fresh-check  (root; the log goes to $(FRESH_BUILD)/fresh-check.log)

BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
FRESH_BUILD ?= build-fresh
PREFIX ?= /usr/local
DESTDIR ?=
JOBS ?= $(shell nproc)
# libFuzzer and the thread sanitizer with libomp's Archer come with clang
CLANG ?= clang-14
FUZZ_SEED ?= 1
FUZZ_SECONDS ?= 1800
FUZZ_SMOKE_SECONDS ?= 60
# tconv.torch's per-call cost on a tiny layer against torch.nn's (bench/python_overhead.py),
# and a channels-last layer against the same in NCHW (bench/python_layouts.py)
PYTHON_RUN = TCONV_LIBRARY=$(BENCH_BUILD)/libtconv.so PYTHONPATH=python PYTHONDONTWRITEBYTECODE=1 \
             /usr/bin/python3
PYTHON_BENCH = $(PYTHON_RUN) bench/python_overhead.py
# What `make test` runs under valgrind: all but the long parameterized sweeps, which
# `make valgrind` adds (they take tens of minutes under valgrind on two cores).
VALGRIND_SMOKE = test_geometry test_im2col test_regressions test_alloc_failure \
                 'test_layers:layers/!(against_oracle|finite_differences)' stress_threads

.PHONY: all deps test-deps bench-deps fuzz-deps build build-tests build-sanitize build-bench \
        build-fuzz build-tsan demo test bench bench-quick fuzz fuzz-smoke tsan valgrind \
        valgrind-smoke install fresh-check clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

bench-deps:
	@scripts/install-deps.sh bench

fuzz-deps:
	@scripts/install-deps.sh fuzz

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=OFF \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)

# What `make install` puts under $(DESTDIR)$(PREFIX): bin/tconv, lib/libtconv.so*,
# lib/libtconv.a, include/tconv/tconv.h, lib/pkgconfig/tconv.pc, lib/cmake/tconv/ (lib is
# lib/<multiarch> when PREFIX is /usr). The build configures PREFIX (the command's run
# path to the library is relative to it); tconv.pc and the CMake files find the prefix
# from their own place, so a DESTDIR tree moved to PREFIX works as is. Into the system's
# library directories, ldconfig then makes libtconv.so.1 known to the loader.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then ldconfig; fi

demo: build
	$(BUILD)/tconv explain --html $(BUILD)/matrix-view.html
	$(BUILD)/tconv demo
	@echo
	@echo "The page: $(abspath $(BUILD))/matrix-view.html"
	@echo "Open it in a browser (file://$(abspath $(BUILD))/matrix-view.html): it needs no network."

build-tests: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)

# -O1, as AddressSanitizer's documentation advises: the suites ran in two-thirds of their
# time at -O0 (151 s against 224 on two cores), with the same checks.
build-sanitize: test-deps
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
	      -DTCONV_BUILD_TESTS=ON -DTCONV_SANITIZE=address,undefined
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)

# The library and the harness with clang: coverage-guided, ASan + UBSan.
build-fuzz: fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=$(CLANG) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DTCONV_BUILD_TESTS=OFF -DTCONV_BUILD_FUZZ=ON -DTCONV_SANITIZE=address,undefined
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_layers

# The library with clang -fsanitize=thread and libomp (whose Archer tool tells TSan about
# OpenMP's synchronisation); only the stress test is built (Criterion cannot run under TSan).
build-tsan: test-deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=$(CLANG) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DTCONV_BUILD_TESTS=ON -DTCONV_SANITIZE=thread
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target stress_threads

test: build-tests build-sanitize build-tsan build-fuzz
	@echo "== release build"
	@scripts/run-tests.sh $(BUILD)
	@echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
	@scripts/run-tests.sh $(SANITIZE_BUILD)
	@echo "== ThreadSanitizer build: four application threads at once"
	@scripts/run-tests.sh $(TSAN_BUILD) stress_threads
	@echo "== fuzzing for $(FUZZ_SMOKE_SECONDS) s beside valgrind (memcheck) on the suites but the long sweeps"
	@scripts/fuzz-beside-valgrind.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_SEED) \
	    $(BUILD) $(VALGRIND_SMOKE)

fuzz: build-fuzz
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_SEED)

fuzz-smoke: build-fuzz
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_SEED)

tsan: build-tsan
	@scripts/run-tests.sh $(TSAN_BUILD) stress_threads

valgrind: build-tests
	@scripts/valgrind-tests.sh $(BUILD)

valgrind-smoke: build-tests
	@scripts/valgrind-tests.sh $(BUILD) $(VALGRIND_SMOKE)

build-bench: bench-deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DTCONV_BUILD_TESTS=OFF \
	      -DTCONV_BUILD_BENCH=ON
	cmake --build $(BENCH_BUILD) -j $(JOBS)

bench: build-bench
	@mkdir -p $(BENCH_BUILD)/results
	$(BENCH_BUILD)/bench/tconv_bench --csv $(BENCH_BUILD)/results/bench.csv \
	    --svg $(BENCH_BUILD)/results $(BENCH_ARGS)
	$(PYTHON_BENCH) --csv $(BENCH_BUILD)/results/python_overhead.csv
	$(PYTHON_RUN) bench/python_layouts.py

bench-quick: build-bench
	@mkdir -p $(BENCH_BUILD)/results
	$(BENCH_BUILD)/bench/tconv_bench --quick --csv $(BENCH_BUILD)/results/bench-quick.csv \
	    --svg $(BENCH_BUILD)/results $(BENCH_ARGS)
	$(PYTHON_BENCH) --quick --csv $(BENCH_BUILD)/results/python_overhead-quick.csv
	$(PYTHON_RUN) bench/python_layouts.py --quick

fresh-check:
	@scripts/install-deps.sh fresh
	scripts/fresh-check.sh $(FRESH_BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
