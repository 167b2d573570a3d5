# The two set-up commands of the README: `make demo` and `make test`. Both install what is missing.
BUILD ?= build
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: deps configure build test demo bench clean test-crash install fuzz test-asan style-deps format format-check tidy

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The whole crash matrix (every load mode x every fault point); `make test` runs a subset of it.
test-crash: build
	cd $(BUILD) && SLUICE_CRASH_MATRIX=full ctest --output-on-failure -R '^e2e_test_crash_matrix$$'

demo: build
	bash scripts/demo.sh $(BUILD)

# The binary is $(BUILD)/sluice after `make build`/`make demo`; this puts it on PATH as PREFIX/bin/sluice
# (with DuckDB's library in PREFIX/lib/sluice). `make install PREFIX=$$HOME/.local` needs no root.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# Style (STYLE.md): .clang-format and .clang-tidy's naming check. The whole tree is formatted, so
# format and format-check work on whole files: those changed since FORMAT_BASE (default: the last
# commit, i.e. what is not committed yet; FORMAT_BASE=origin/main for a branch) and new untracked
# ones; the suite's `format` test checks every file. tidy checks the naming of every file under
# src/ (TIDY_FILES, a regex, to narrow it) against $(BUILD)'s compile_commands.json and fails on a
# violation.
FORMAT_BASE ?= HEAD
TIDY_FILES ?= ^$(CURDIR)/src/.*\.cpp$$
CHANGED_CXX = $(shell { git diff --name-only --diff-filter=d $(FORMAT_BASE) -- src tests; \
  git ls-files --others --exclude-standard -- src tests; } | grep -E '\.(cpp|hpp)$$' | sort -u)
style-deps:
	bash scripts/install-deps.sh style
format: style-deps
	$(if $(CHANGED_CXX),clang-format -i $(CHANGED_CXX))
format-check: style-deps
	@bad=0; for f in $(CHANGED_CXX); do clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 \
	  || { echo "format-check: $$f is not formatted"; bad=1; }; done; \
	if [ $$bad -ne 0 ]; then echo "format-check: run make format"; exit 1; fi
tidy: build style-deps
	run-clang-tidy -p $(BUILD) -quiet -j $(JOBS) '$(TIDY_FILES)'

# Fuzzing and sanitizers (docs/testing.md): each in its own build dir, every module instrumented.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= json_body yaml_config cron sigv4 pg_copy pgoutput zip_extract stream_records
fuzz:
	bash scripts/install-deps.sh fuzz
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DSLUICE_FUZZ=ON -DSLUICE_WERROR=OFF >/dev/null
	cmake --build build-fuzz -j$(JOBS) --target $(addsuffix _fuzzer,$(FUZZ_TARGETS))
	bash scripts/run-fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

SANITIZER_DIR = $(CURDIR)/tests/sanitizers
ASAN_OPTIONS_SLUICE ?= detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
LSAN_OPTIONS_SLUICE ?= suppressions=$(SANITIZER_DIR)/lsan.supp:print_suppressions=0
UBSAN_OPTIONS_SLUICE ?= suppressions=$(SANITIZER_DIR)/ubsan.supp:print_stacktrace=1:halt_on_error=1
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON >/dev/null
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=$(ASAN_OPTIONS_SLUICE) UBSAN_OPTIONS=$(UBSAN_OPTIONS_SLUICE) \
	  LSAN_OPTIONS=$(LSAN_OPTIONS_SLUICE) ctest --output-on-failure -j$(JOBS)

