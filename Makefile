# unmask: the one entry point. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := sqlite3 chromium
PYTEST_ARGS ?= -n auto

FUZZ_SECONDS ?= 120
FUZZ_SEED ?= 0

.PHONY: all setup sysdeps builddeps demo test lint fuzz bench bench-fs bench-smoke clean

all: test

# The install compiles the Manifest.db MBFile reader with mypyc (hatch_build.py) when builddeps
# are there, so they come first, and a change to the reader or the hook reinstalls.
$(STAMP): pyproject.toml hatch_build.py src/unmask/formats/mbfile.py | builddeps
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "unmask needs Python 3.11 or newer ($(PYTHON))"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) sysdeps

# A C compiler and the Python headers: with them `pip install -e .` compiles the MBFile reader
# (about 20 times faster on big backups); without them it installs interpreted.
builddeps:
	@missing=""; command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	$(PYTHON) -c 'import os, sysconfig; raise SystemExit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null \
	  || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing; the MBFile reader will run interpreted"; \
	  else \
	    echo "note: not root, so not installing:$$missing (sudo apt-get install$$missing); the MBFile reader will run interpreted"; \
	  fi; \
	fi

# System tools the tests use: the sqlite3 shell (recovery of corrupt databases) and Debian's
# chromium (the report's browser tests drive it through Playwright; never a downloaded browser).
sysdeps: builddeps
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing; the tests that need them will be skipped"; \
	  else \
	    echo "note: not root, so not installing:$$missing (sudo apt-get install$$missing); tests that need them are skipped"; \
	  fi; \
	fi
	@# PostgreSQL: the case store tests start a real server (as an unprivileged user) from Debian's binaries.
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system package: postgresql"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "warning: could not install postgresql; the PostgreSQL store tests will be skipped"; \
	  else \
	    echo "note: not root, so not installing postgresql (sudo apt-get install postgresql); its tests are skipped"; \
	  fi; \
	fi
	@# libsodium is a library, not a command: confidential matching (pysodium) loads it at run time.
	@if ! ldconfig -p 2>/dev/null | grep -q libsodium; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system package: libsodium23"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium23 >/dev/null) \
	      || echo "warning: could not install libsodium23; confidential matching will not work"; \
	  else \
	    echo "note: not root, so not installing libsodium23 (sudo apt-get install libsodium23, or brew install libsodium)"; \
	  fi; \
	fi

demo: $(STAMP)
	@rm -rf demo
	$(PY) -m tests.builders.demo demo/backup
	@echo
	@echo '$$ unmask check-backup demo/backup --output demo/results'
	@$(VENV)/bin/unmask check-backup demo/backup --output demo/results; rc=$$?; \
	  if [ $$rc -gt 1 ]; then exit $$rc; fi; \
	  echo; echo "exit code $$rc (1 = traces found, as planted in the demo backup)"; \
	  echo "results: $$(pwd)/demo/results (alerts.json, timeline.csv, info.json, …)"; \
	  echo "report: $$(pwd)/demo/results/report.html"

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# A time-bounded mutation fuzzer over the format owners, the archive layer, the acquisitions and
# every parser (tests/fuzz/fuzz.py); the
# fixed seed keeps a run reproducible. Crashes are appended to tests/fuzz/regressions.json, exit 1.
fuzz: setup
	$(PY) -m tests.fuzz.fuzz --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED)

lint: setup
	$(VENV)/bin/ruff check src tests bench tools hatch_build.py
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench.bench_android
	$(PY) -m bench.run
	$(PY) -m bench.sysdiagnose

bench-smoke: setup
	$(PY) -m bench.bench_android --smoke
	$(PY) -m bench.run --smoke
	$(PY) -m bench.sysdiagnose --smoke

# Full-filesystem dumps: a generated ~200,000-file dump, unmask check-fs vs mvt-ios check-fs.
bench-fs: setup
	$(PY) -m bench.bench_fs

clean:
	rm -rf $(VENV) demo bench/out .pytest_cache .mypy_cache .ruff_cache
