# Thin wrapper over the CMake presets (libre style): the real build lives
# in CMakeLists.txt and CMakePresets.json.
#
#   make            dev build (Debug, -Werror, ASan+UBSan) in build/
#   make release    optimised build in build-release/
#   make test       dev build, then ctest: unit, fuzz (corpus replay), e2e
#   make fuzz       clang libFuzzer harnesses in build-fuzz/, each run FUZZ_TIME s
#   make bench      parser micro-benchmark, then bench/load.sh (vs Kamailio)
#   make lint       clang-format, clang-tidy, cppcheck
#   make clean      remove every build directory

FUZZ_TIME ?= 60
JOBS      ?= $(shell nproc)
SOURCES    = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all dev release test fuzz bench lint format clean

all: dev

dev: build/build.ninja
	cmake --build build -j $(JOBS)

build/build.ninja:
	cmake --preset dev

release: build-release/build.ninja
	cmake --build build-release -j $(JOBS)

build-release/build.ninja:
	cmake --preset release

test: dev
	cd build && ctest -L 'unit|fuzz|e2e' --output-on-failure -j $(JOBS)

build-fuzz/build.ninja:
	cmake --preset fuzz

fuzz: build-fuzz/build.ninja
	cmake --build build-fuzz -j $(JOBS)
	@set -e; for f in build-fuzz/tests/fuzz/fuzz_*; do \
		[ -x "$$f" ] || continue; \
		t=$$(basename $$f); t=$${t#fuzz_}; \
		mkdir -p build-fuzz/corpus/$$t; \
		echo "== $$f for $(FUZZ_TIME) s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=65535 \
			-artifact_prefix=tests/fuzz/ \
			build-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
			>build-fuzz/$$t.log 2>&1 || \
			{ tail -60 build-fuzz/$$t.log; exit 1; }; \
		tail -2 build-fuzz/$$t.log; \
	done

bench: release
	build-release/bench/parse_bench
	bench/load.sh

lint: dev
	clang-format --dry-run -Werror $(SOURCES)
	clang-tidy -p build --quiet $(filter %.c,$(SOURCES))
	cppcheck --project=build/compile_commands.json --quiet \
		--enable=warning,performance,portability --inline-suppr \
		--error-exitcode=1 --suppress=missingIncludeSystem

format:
	clang-format -i $(SOURCES)

clean:
	rm -rf build build-release build-fuzz
