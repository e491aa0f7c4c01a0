# tractor-diag: the two commands a new machine needs are `make run` and `make test`.
SWIFT      ?= swift
RUN_ARGS   ?= nested-multierrors --backend forkserver
# Test processes start real actor trees: run test functions one at a time.
# Parallel runs are not safe, for three reasons in the tests' design: the test
# process is a child subreaper, and whatever a run leaves behind is reparented
# to it with nothing saying which test it came from, so ToolProcess.survivors()
# SIGKILLs every live descendant of the test process (another test's tree
# included); TreeReaper's own tests tear down all descendants of the test
# process; and reaping with waitpid(-1) takes other tests' children's exit
# statuses. Scoping each of these to one test's tree is open work.
TEST_FLAGS ?= --no-parallel

.PHONY: deps venv build release run install uninstall test bench fuzz lint clean

# The project-local Python venv for the real-tree fixtures (Fixtures/python):
# Debian's interpreter, never a pyenv shim on PATH, and every package pinned.
VENV_PYTHON ?= /usr/bin/python3
VENV        := .venv
VENV_REQS   := Fixtures/python/requirements.txt
# A pyenv CPython 3.13 (when present) gets its own venv with the newest trio.
VENV313_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13))
VENV313      := .venv-313
VENV313_REQS := Fixtures/python/requirements-313.txt

# Installs what is missing on a fresh Debian machine: libunwind, static libc.
# The release tractor-diag links libunwind-ptrace.a, libunwind-x86_64.a and
# liblzma.a (libunwind-dev and its dependency liblzma-dev); debug builds and
# the tests dlopen libunwind-ptrace.so.0 and libunwind-x86_64.so.8 (libunwind8)
# at first use, and without them stacks degrade to a note and /proc-only evidence.
deps:
	@if ! dpkg -s libunwind-dev liblzma-dev >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libunwind-ptrace.so.0'; then \
	  echo "installing libunwind-dev"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libunwind-dev liblzma-dev) >/dev/null || \
	  { echo "could not install libunwind-dev (stacks will be unavailable)"; }; \
	fi
	@# tractor-actor is linked statically (-static-executable): it needs libc.a
	@# and libstdc++.a, which g++ pulls in (libc6-dev, libstdc++-12-dev).
	@if ! dpkg -s libc6-dev >/dev/null 2>&1 || ! ls /usr/lib/gcc/*/*/libstdc++.a >/dev/null 2>&1; then \
	  echo "installing g++ (static libc and libstdc++ for tractor-actor)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++) >/dev/null || \
	  { echo "could not install g++: tractor-actor will not link"; exit 1; }; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "swift toolchain not found on PATH"; exit 1; }
	@$(MAKE) --no-print-directory venv

# Rebuilt only when the requirements file's content changed (its sha256 is the
# stamp), so a second `make deps` costs one sha256sum. The whole file goes in
# with --no-deps (it pins the transitive closure; see its header), then
# `pip check` proves nothing is missing and a real import proves it works.
venv:
	@want=$$(sha256sum $(VENV_REQS) | cut -d' ' -f1); \
	if [ -x $(VENV)/bin/python ] && [ "$$(cat $(VENV)/.requirements.sha256 2>/dev/null)" = "$$want" ]; then exit 0; fi; \
	if [ ! -x $(VENV_PYTHON) ] || ! dpkg -s python3-venv >/dev/null 2>&1; then \
	  echo "installing python3-venv"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv) >/dev/null || \
	    { echo "could not install python3-venv"; exit 1; }; \
	fi; \
	echo "building $(VENV) from $(VENV_REQS)"; \
	rm -rf $(VENV) && $(VENV_PYTHON) -m venv $(VENV) && \
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -r $(VENV_REQS) && \
	$(VENV)/bin/pip check --disable-pip-version-check && \
	$(VENV)/bin/python -W ignore -c 'import tractor, trio' && \
	echo "$$want" > $(VENV)/.requirements.sha256 || \
	{ echo "could not build $(VENV) (see the pip output above)"; rm -rf $(VENV); exit 1; }
	@# Python 3.13 with trio 0.35 for the 3.13 task-tree tests; no 3.13 leaves them a visible skip.
	@if [ -z "$(VENV313_PYTHON)" ]; then echo "no CPython 3.13 under ~/.pyenv/versions: $(VENV313) not built (its tests skip)"; exit 0; fi; \
	want=$$(sha256sum $(VENV313_REQS) | cut -d' ' -f1); \
	if [ -x $(VENV313)/bin/python ] && [ "$$(cat $(VENV313)/.requirements.sha256 2>/dev/null)" = "$$want" ]; then exit 0; fi; \
	echo "building $(VENV313) from $(VENV313_REQS) with $(VENV313_PYTHON)"; \
	rm -rf $(VENV313) && $(VENV313_PYTHON) -m venv $(VENV313) && \
	$(VENV313)/bin/pip install -q --disable-pip-version-check --no-deps -r $(VENV313_REQS) && \
	$(VENV313)/bin/pip check --disable-pip-version-check && \
	$(VENV313)/bin/python -c 'import trio' && \
	echo "$$want" > $(VENV313)/.requirements.sha256 || \
	{ echo "could not build $(VENV313) (see the pip output above)"; rm -rf $(VENV313); exit 1; }

build: deps
	$(SWIFT) build

# Release builds (make run, bench, install) link the Swift libraries
# statically (--static-swift-stdlib), and tractor-diag is then a static
# executable (Package.swift: -static-executable, lld, libunwind's archives):
# it is a short-lived process, and dynamic linking of libswiftCore and
# friends was ~40% of a `snapshot --tree` of 6 Python processes at one time.
# The installed binary runs without the toolchain. Debug builds stay dynamic.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

run: release
	./.build/release/tractor-diag $(RUN_ARGS)

# Puts tractor-diag on PATH: both executables go to $(PREFIX)/bin, side by
# side, because tractor-diag starts the tractor-actor it finds beside itself.
PREFIX ?= /usr/local
install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/tractor-diag .build/release/tractor-actor $(DESTDIR)$(PREFIX)/bin/
	@echo "installed $(DESTDIR)$(PREFIX)/bin/tractor-diag (and tractor-actor beside it)"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tractor-diag $(DESTDIR)$(PREFIX)/bin/tractor-actor

# Run directories of the previous test run are removed first; the latest
# run's stay in /tmp/tractor-diag-tests for looking into a failure.
test: deps
	rm -rf /tmp/tractor-diag-tests
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build $(TEST_FLAGS)

bench: release
	./Scripts/bench.sh

# libFuzzer targets (Fuzz/) over the IPC frames, scenarios, probe logs and the
# /proc and sock_diag parsers, each for FUZZ_SECONDS on Tests/Fuzz/Corpus/<target>.
# Built apart (.build/fuzz): build and test neither build nor wait for them.
FUZZ_SECONDS ?= 60
fuzz:
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) ./Scripts/fuzz.sh

lint:
	@if command -v swift-format >/dev/null; then swift-format lint --recursive Sources Tests; else echo "swift-format not found"; fi

clean:
	rm -rf .build tractor-diag-runs $(VENV)
