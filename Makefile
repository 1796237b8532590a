# The whole user interface of LeadLedger. Every target installs missing
# dependencies first (deploy/install-deps.sh is quick when all are present).

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
COVERAGE_BUILD_DIR ?= build-coverage
JOBS           ?= $(shell nproc)
LISTEN         ?= 127.0.0.1:50051
DATA_DIR       ?= ./var/data
SOURCE_DIRS    := domain eventstore projections services tools bench tests

.PHONY: all deps build build-asan run test test-asan coverage bench loadgen fmt clean

all: build

deps:
	@bash deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DLEADLEDGER_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

# Starts leadledgerd in the foreground; Ctrl-C stops it cleanly.
run: build
	mkdir -p $(DATA_DIR)
	exec ./$(BUILD_DIR)/services/leadledgerd --listen=$(LISTEN) --data_dir=$(DATA_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD_DIR) && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# Line coverage of the pure domain by its unit tests; fails under 95%.
coverage: deps
	cmake -S . -B $(COVERAGE_BUILD_DIR) -G Ninja -DLEADLEDGER_COVERAGE=ON \
	  -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(COVERAGE_BUILD_DIR) -j $(JOBS) --target domain_test
	find $(COVERAGE_BUILD_DIR) -name '*.gcda' -delete
	./$(COVERAGE_BUILD_DIR)/tests/domain_test --gtest_brief=1
	gcovr --root . --filter 'domain/' --exclude-unreachable-branches \
	  --print-summary --fail-under-line 95 $(COVERAGE_BUILD_DIR)

bench: build
	mkdir -p ./var/bench
	./$(BUILD_DIR)/bench/eventstore_bench
	./$(BUILD_DIR)/bench/projections_bench

# The whole server under the mixed workload of the lead desk, against the
# health check as the baseline (see bench/loadgen.cc).
loadgen: build
	mkdir -p ./var/bench
	BUILD_DIR=$(BUILD_DIR) bash bench/run_loadgen.sh

fmt:
	find $(SOURCE_DIRS) -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(COVERAGE_BUILD_DIR)
