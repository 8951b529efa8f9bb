# luister — every target runs from a fresh clone. `make install` is idempotent.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch; a GPU user installs a CUDA build first (see README) and sets TORCH_SPEC= to keep it.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test lint typecheck dashboards vendor-js bench bench-alert bench-models bench-fresh bench-memory bench-queries bench-nab bench-false-alarms eval train clean
.DEFAULT_GOAL := help

help:
	@echo "make install       create $(VENV) and install luister with its dev tools"
	@echo "make run           install, then run the whole pipeline on the embedded broker and engine (luister run)"
	@echo "make test          install (+ Debian's chromium and prometheus), then lint, type-check and run the tests"
	@echo "make dashboards    regenerate the Grafana dashboards' JSON (dashboards/generated) and alert rules (provisioning/alerting)"
	@echo "make vendor-js     re-vendor the wall page's chart library (uPlot UPLOT_VERSION=1.6.32) from npm"
	@echo "make bench         end-to-end vs model-only throughput and ingest→queryable latency (JSON on stdout)"
	@echo "make bench-models  model-only throughput benchmark (JSON on stdout)"
	@echo "make bench-fresh   fresh clone → make run → first enriched mention via luister sql, timed (JSON)"
	@echo "make bench-memory  RSS of luister run (worker + broker) under demo traffic over MINUTES=30 (JSON)"
	@echo "make bench-alert   time from a demo crisis's first post to the Slack alert, real pipeline (JSON; RAMP_S=30: a burst)"
	@echo "make bench-queries brand-query matching throughput, 50 queries on one core (JSON on stdout)"
	@echo "make bench-nab     NAB score of luister detect's alert decisions on NAB_DIR=../shared/data/nab-dev (JSON)"
	@echo "make bench-false-alarms  detector false alarms per brand-day and recall on synthetic traffic (JSON)"
	@echo "make eval          sentiment macro-F1 per language on UMSAB validation (DATA=../shared/data/umsab)"

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@if [ -n "$(TORCH_SPEC)" ]; then $(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"; fi
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/luister models unpack
	@touch $(STAMP)

install: $(STAMP)

# Tools the test suite drives for real: headless Chromium (the wall page) and promtool (Prometheus config and
# rules). Installed from Debian when missing and we may (root + apt-get); otherwise say what is missing: the tests
# that need them skip outside CI and fail inside it (CI=true).
SYSTEM_PACKAGES ?= chromium:chromium prometheus:promtool
system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "warning: missing Debian packages:$$missing (apt-get install$$missing); tests that need them skip"; fi

run: install
	$(BIN)/luister run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: system-deps lint typecheck
	$(BIN)/python -m pytest

dashboards: install
	$(BIN)/luister dashboards generate

# The wall page's chart library, committed under pipeline/wall/static/vendor (offline walls): needs npm.
UPLOT_VERSION ?= 1.6.32
vendor-js:
	scripts/vendor_wall_js.sh $(UPLOT_VERSION)

bench: install
	$(BIN)/python -m benchmarks.bench_pipeline --compare-inline

bench-fresh:
	python3 benchmarks/first_mention.py

MINUTES ?= 30
bench-memory: install
	$(BIN)/python -m benchmarks.bench_memory --minutes $(MINUTES)

RAMP_S ?= 300
bench-alert: install
	$(BIN)/python -m benchmarks.bench_alert --ramp-s $(RAMP_S)

bench-queries: install
	$(BIN)/python -m benchmarks.bench_queries

NAB_DIR ?= ../shared/data/nab-dev
bench-nab: install
	NAB_DIR=$(NAB_DIR) $(BIN)/python -m benchmarks.bench_nab --nab-dir $(NAB_DIR)

bench-false-alarms: install
	$(BIN)/python -m benchmarks.bench_false_alarms

DATA ?= ../shared/data/umsab
bench-models: install
	$(BIN)/python -m benchmarks.bench_models --data $(DATA)

eval: install
	$(BIN)/luister eval sentiment --data $(DATA)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
