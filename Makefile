# Portcullis: the one place that says how the project is checked.
#
#   make test         every check, in order, stopping at the first failure
#   make compat       only the compat suite (real boto3/awscli against target/release/portcullis)
#   make compat-venv  (re)create compat/.venv from compat/requirements.txt when missing or stale
#   make run          run the server from a release build
#
# Store and API tests also run against PostgreSQL when PORTCULLIS_TEST_POSTGRES_URL is set
# (.ci/run sets it to a fresh database); otherwise those cases show as ignored, and with CI set
# `make test` fails instead.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
# The phases of `test` must run one after another even under `make -j`.
.NOTPARALLEL:

CARGO   ?= cargo
PYTHON  ?= python3
VENV    := compat/.venv
VENV_PY := $(VENV)/bin/python
# A copy of the requirements the venv was built from; a difference means "stale".
VENV_STAMP := $(VENV)/requirements.installed
PYTEST_ARGS ?=

# Forbidden in the normal dependency graph: one crypto provider (aws-lc-rs), no OpenSSL, no ring.
FORBIDDEN_CRATES := openssl-sys ring

# $(call phase,<target>): run a sub-make target and print how long it took.
define phase
@start=$$(date +%s); echo "==> [$(1)]"; $(MAKE) --no-print-directory $(1); echo "<== [$(1)] ok in $$(( $$(date +%s) - start ))s"
endef

.PHONY: test fmt-check clippy proto-check deps-check cargo-test build-release compat compat-venv compat-node run

test:
	$(call phase,fmt-check)
	$(call phase,clippy)
	$(call phase,proto-check)
	$(call phase,deps-check)
	$(call phase,cargo-test)
	$(call phase,build-release)
	$(call phase,compat)

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Regenerating crates/proto from the checked-in model must change nothing.
proto-check:
	@test -f tools/gen_proto/check.sh || { echo "tools/gen_proto/check.sh is missing"; exit 1; }
	bash tools/gen_proto/check.sh

# `cargo tree -i X` exits 101 with "did not match any packages" when X is not in the lock file,
# and exits 0 printing nothing to stdout ("nothing to print" on stderr) when X is in the lock
# file but not reachable through normal edges. Both are a pass; anything on stdout is a failure.
deps-check:
	@for crate in $(FORBIDDEN_CRATES); do \
	  errf=$$(mktemp); \
	  if out=$$($(CARGO) tree --workspace -e normal -i "$$crate" 2>"$$errf"); then \
	    if [ -n "$$(printf '%s' "$$out" | tr -d '[:space:]')" ]; then \
	      echo "forbidden dependency '$$crate' is in the normal dependency graph:"; \
	      printf '%s\n' "$$out"; rm -f "$$errf"; exit 1; \
	    fi; \
	  elif ! grep -q "did not match any packages" "$$errf"; then \
	    echo "cargo tree failed while looking for '$$crate':"; cat "$$errf"; rm -f "$$errf"; exit 1; \
	  fi; \
	  rm -f "$$errf"; \
	  echo "ok: no $$crate in the normal dependency graph"; \
	done

# Without PORTCULLIS_TEST_POSTGRES_URL the PostgreSQL cases are built as ignored (they show as
# "ignored" in the summary); in CI (CI set and not "false"/"0") that is a failure, not a skip.
cargo-test:
	@if [ -n "$${PORTCULLIS_TEST_POSTGRES_URL:-}" ]; then \
	  echo "store and API tests: SQLite and PostgreSQL"; \
	elif [ -n "$${CI:-}" ] && [ "$${CI}" != "false" ] && [ "$${CI}" != "0" ]; then \
	  echo "CI is set but PORTCULLIS_TEST_POSTGRES_URL is not: the PostgreSQL cases would not run"; \
	  exit 1; \
	else \
	  echo "store and API tests: SQLite only; PostgreSQL cases ignored (PORTCULLIS_TEST_POSTGRES_URL is not set)"; \
	fi
	$(CARGO) test --workspace

build-release:
	$(CARGO) build --release -p portcullis

# Rebuilt when missing, when requirements.txt differs from what it was built from,
# or when it cannot import the clients (e.g. the base Python moved).
compat-venv:
	@if [ -x "$(VENV_PY)" ] && cmp -s compat/requirements.txt "$(VENV_STAMP)" \
	    && "$(VENV_PY)" -c "import boto3, botocore, awscli, pytest, requests" 2>/dev/null \
	    && [ -x "$(VENV)/bin/aws" ]; then \
	  echo "compat venv is up to date"; \
	else \
	  echo "building compat venv from compat/requirements.txt"; \
	  start=$$(date +%s); \
	  rm -rf "$(VENV)"; \
	  $(PYTHON) -m venv "$(VENV)"; \
	  "$(VENV_PY)" -m pip install --disable-pip-version-check --no-input -q -r compat/requirements.txt; \
	  cp compat/requirements.txt "$(VENV_STAMP)"; \
	  echo "compat venv built in $$(( $$(date +%s) - start ))s"; \
	fi

# The Node clients (amazon-cognito-identity-js, aws-jwt-verify), from the lockfile; reinstalled
# when the lockfile changed since the last install.
JS_DIR := compat/js
JS_STAMP := $(JS_DIR)/node_modules/.package-lock.installed
compat-node:
	@if [ -f "$(JS_STAMP)" ] && cmp -s $(JS_DIR)/package-lock.json "$(JS_STAMP)"; then \
	  echo "compat node modules are up to date"; \
	else \
	  echo "installing compat node modules from $(JS_DIR)/package-lock.json"; \
	  npm ci --prefix $(JS_DIR) --no-audit --no-fund; \
	  cp $(JS_DIR)/package-lock.json "$(JS_STAMP)"; \
	fi

# Runs against the existing release binary (PORTCULLIS_BIN overrides its path); `make test`
# builds it first.
compat: compat-venv compat-node
	$(VENV_PY) -m pytest compat -q $(PYTEST_ARGS)

run:
	$(CARGO) run --release -p portcullis -- serve
