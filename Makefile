# The two set-up commands of the README: `make demo` and `make test`. Both install what is missing.
BUILD ?= build
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: deps configure build test demo bench clean test-crash install

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
