# Perheopas: `make run` sets everything up and starts the stack; `make test` sets up and runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages: Voikko for Finnish morphology at run time; real servers and a browser for tests.
APT_RUN := libvoikko1 voikko-fi
APT_TEST := postgresql redis-server chromium

# A Python 3.10 interpreter: PYTHON310 if given, else python3.10 on PATH (if it really runs), else pyenv's versions folder.
PYTHON310 ?= $(shell \
  for c in python3.10 $$(pyenv root 2>/dev/null)/versions/3.10.*/bin/python3.10 $$HOME/.pyenv/versions/3.10.*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
    if [ -x "$$(command -v $$c 2>/dev/null)" ] && "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then echo "$$c"; break; fi; \
  done)

# Everything a trained model depends on, code of the pipeline's components followed through its imports
# (bot/ops/train_inputs.py, standard library only, so any Python runs it).
TRAIN_INPUTS := $(shell $(or $(wildcard $(PY)),$(PYTHON310),python3) bot/ops/train_inputs.py)
MODEL := models/perheopas.tar.gz

.PHONY: help setup sysdeps sysdeps-test venv db model run test check static lint types bench clean clean-data

help:
	@echo "make run    - set up everything and start actions (:5055), Rasa (:5005) and the web app (:8000)"
	@echo "make test   - set up everything and run the whole test suite"
	@echo "make check  - before every commit: ruff, mypy and the tests not marked slow (under 2 minutes)"
	@echo "make lint   - ruff;  make types - mypy"
	@echo "make bench  - run the benchmarks under bench/"

sysdeps:
	@$(call apt_ensure,$(APT_RUN))

sysdeps-test:
	@$(call apt_ensure,$(APT_RUN) $(APT_TEST))

# Installs the given Debian packages when any is missing: as root directly, otherwise prints the command.
define apt_ensure
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "Installing Debian packages:$$missing"; \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
      || { echo "apt-get install failed for:$$missing" >&2; exit 1; }; \
  else \
    echo "Missing Debian packages. Run as root:  apt-get update && apt-get install -y$$missing" >&2; exit 1; \
  fi; \
fi
endef

venv: $(VENV)/.installed

# pip's notices that are not failures (pip's own exit status decides whether the install failed).
PIP_NOISE := ^warning: location|notice|deprecation|legacy 'setup.py install'|--use-pep517|pip 23.1|discussion can be found

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "Python 3.10 is required (Rasa 3.6 supports nothing newer) and none was found." >&2; \
	  echo "Install it, e.g. 'pyenv install 3.10.13' or 'apt-get install python3.10 python3.10-venv'," >&2; \
	  echo "or point to one: make run PYTHON310=/path/to/python3.10" >&2; exit 1; fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON310)"; $(PYTHON310) -m venv $(VENV); }
	@echo "Installing the project into $(VENV) (only when pyproject.toml changed)"
	@set -o pipefail; $(PY) -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel 2>&1 \
	  | { grep -v -i -E "$(PIP_NOISE)" || true; } || { echo "pip could not upgrade itself in $(VENV)" >&2; exit 1; }
	@set -o pipefail; $(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 \
	  | { grep -v -i -E "$(PIP_NOISE)" || true; } || { echo "Installing the project into $(VENV) failed (above)" >&2; exit 1; }
	@$(PY) -c 'import rasa, rasa_sdk, sqlalchemy' || { echo "Installation into $(VENV) failed" >&2; exit 1; }
	@touch $@

setup: sysdeps venv db model

db: venv
	@$(PY) -m catalog migrate
	@$(PY) -m catalog load-sample --if-empty

# The virtualenv is an order-only prerequisite: it must exist, but adding a package retrains nothing. The Rasa
# version is pinned in pyproject.toml, and Rasa refuses a model trained by an incompatible version.
data/nlu/generated/municipalities.yml: catalog/data/municipalities.csv catalog/data/districts.yml catalog/municipalities.py | $(VENV)/.installed
	@$(PY) -m bot nlu-lookups --out $@

model: $(MODEL)

$(MODEL): $(TRAIN_INPUTS) data/nlu/generated/municipalities.yml | $(VENV)/.installed
	@echo "Training the Rasa model (data, domain or config changed)"
	@$(PY) -m bot train --out models --name perheopas

run: setup
	@exec $(PY) -m bot run

# Test-only npm tools (axe-core for the accessibility checks), pinned by package-lock.json.
# npm comes from Debian only when the machine has none (a preinstalled Node.js ships its own npm).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { $(call apt_ensure,nodejs npm); }
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The tests that need no trained model run while it trains, on both cores too (training leaves one idle much of
# the time, and none when it comes from the shared training cache: bot/ops/train.py), the moodbot reference of the
# load benchmark trains after them, and the tests marked `model` run once both are there, on both cores
# (pytest-xdist): each module, and the modules sharing one running stack, go to one worker, longest first
# (tests/conftest.py). Together they are the whole suite, each test once; --output-sync keeps each job's output in
# one piece. The model tests list their 30 slowest at the end, so a CI log shows where the time goes.
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
MODEL_TIER := -m model -n 2 --dist loadgroup --no-loadscope-reorder --durations=30
.PHONY: test-without-model bench-reference

test: sysdeps-test venv db node_modules/.installed static
	@echo "Training the model if needed while the tests that need none run (output comes as each job ends)"
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target model test-without-model bench-reference; \
	  status=$$?; { $(MAKE) -q model && $(PYTEST) $(MODEL_TIER); } || status=1; exit $$status

test-without-model: venv data/nlu/generated/municipalities.yml node_modules/.installed
	@$(PYTEST) -m "not model" -n 2

bench-reference: venv
	@$(PY) bench/load.py --short --train-reference-only

# The fast loop: what a developer runs before each commit. Needs no trained model and no servers; the tests run
# on both cores (pytest-xdist).
check: venv static
	@$(PY) -m pytest -q -p no:cacheprovider -m "not slow and not model" -n 2

static: lint types

lint: venv
	@$(VENV)/bin/ruff check bot actions catalog core tests bench

types: venv
	@$(VENV)/bin/mypy

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Removes what setup rebuilds; keeps var/ (the databases: contact requests, staff users, conversations) and the
# training cache shared by the clones on this machine (~/.cache/perheopas; PERHEOPAS_TRAINING_CACHE=off).
clean:
	rm -rf $(VENV) models .rasa .pytest_cache .mypy_cache data/nlu/generated node_modules/.installed

# Deletes the databases under var/ too, only after the operator types the word asked for.
clean-data:
	@read -r -p "Delete var/ with its databases (contact requests, staff users, conversations)? Type 'delete': " answer; \
	  if [ "$$answer" = delete ]; then rm -rf var && echo "var/ deleted"; else echo "Nothing deleted"; exit 1; fi
