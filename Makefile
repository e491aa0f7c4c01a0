# tractor-diag: the two commands a new machine needs are `make run` and `make test`.
SWIFT      ?= swift
RUN_ARGS   ?= nested-multierrors --backend forkserver
# Test processes start real actor trees: run test functions one at a time.
TEST_FLAGS ?= --no-parallel

.PHONY: deps build release run test bench lint clean

# Installs what is missing on a fresh Debian machine: libunwind (native stacks
# are dlopen'ed from libunwind-ptrace at run time; its -dev package brings the
# unversioned .so names and headers).
deps:
	@if ! ldconfig -p | grep -q 'libunwind-ptrace.so'; then \
	  echo "installing libunwind-dev"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libunwind-dev) >/dev/null || \
	  { echo "could not install libunwind-dev (stacks will be unavailable)"; }; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "swift toolchain not found on PATH"; exit 1; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	./.build/release/tractor-diag $(RUN_ARGS)

# Run directories of the previous test run are removed first; the latest
# run's stay in /tmp/tractor-diag-tests for looking into a failure.
test: deps
	rm -rf /tmp/tractor-diag-tests
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build $(TEST_FLAGS)

bench: release
	./Scripts/bench.sh

lint:
	@if command -v swift-format >/dev/null; then swift-format lint --recursive Sources Tests; else echo "swift-format not found"; fi

clean:
	rm -rf .build tractor-diag-runs
