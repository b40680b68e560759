# The two commands of the README, and their helpers. Each target installs what it needs.
#   make demo   build, then explain the seed's matrices and work its example by every algorithm
#   make test   build normally and with AddressSanitizer + UBSan, run every suite in both

BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps build build-tests build-sanitize demo test clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

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

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
