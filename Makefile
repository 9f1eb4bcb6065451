# pinset - the README's commands. CMake and Ninja do the building.
#   make run     install dependencies, build, run the offline default
#   make check   install dependencies, ASan+UBSan Debug build with -Werror, every test tier
BUILD   ?= build/release
CHECKB  ?= build/check
FUZZB   ?= build/fuzz
BENCHB  ?= build/bench
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CI_FUZZ_SECONDS ?= 20

.PHONY: all deps build run check matrix bench fuzz install format clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINSET_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@sh scripts/run-default.sh $(BUILD)/pinset

check: deps
	cmake -S . -B $(CHECKB) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPINSET_SANITIZE=ON -DPINSET_WERROR=ON
	cmake --build $(CHECKB) -j $(JOBS)
	cd $(CHECKB) && ctest --output-on-failure -j $(JOBS)

# The rest of the CI matrix: clang Release with -Werror (every tier), ThreadSanitizer on the
# tests that share policies across threads, and a short run of every fuzz target.
matrix: deps
	CC=clang CXX=clang++ cmake -S . -B build/clang-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINSET_WERROR=ON
	cmake --build build/clang-release -j $(JOBS)
	cd build/clang-release && ctest --output-on-failure -j $(JOBS)
	CC=clang CXX=clang++ cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPINSET_TSAN=ON
	cmake --build build/tsan -j $(JOBS)
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1:suppressions=$(CURDIR)/tests/tsan.supp ctest --output-on-failure -j $(JOBS) -R 'gen_pki|unit/test_policy|unit/test_verify|integration/test_attacks|integration/test_policy_swap|integration/test_reporter'
	$(MAKE) fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)

bench: deps
	cmake -S . -B $(BENCHB) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPINSET_BUILD_TESTS=OFF -DPINSET_BUILD_BENCH=ON
	cmake --build $(BENCHB) -j $(JOBS)
	sh bench/run.sh $(BENCHB)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZB) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPINSET_BUILD_TESTS=OFF -DPINSET_BUILD_FUZZERS=ON -DPINSET_SANITIZE=ON
	cmake --build $(FUZZB) -j $(JOBS)
	sh fuzz/run.sh $(FUZZB) $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD)

format:
	clang-format-16 -i $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf build
