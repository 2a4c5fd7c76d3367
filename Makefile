# newsdesk — every target sets up what it needs (uv from pip when missing, then the locked venv).
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-stamp

# No managed Python downloads (offline machines): use the interpreter we were given.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Prefect's ephemeral API takes 16–24 s to start on small machines; its default timeout is 20 s.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: help setup demo test check lint typecheck format bench serve serve-stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(STAMP) ## Create .venv from uv.lock (installs uv with pip when missing)

demo: setup ## Serve the bundled sample site on 127.0.0.1 and ingest it into data/newsdesk.duckdb
	$(BIN)/newsdesk demo

test: setup ## Run the whole test suite
	$(BIN)/pytest

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy
	$(BIN)/mypy

check: lint typecheck test ## Lint, types and tests: what CI cares about

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCHMARKS := $(filter-out benchmarks/common.py benchmarks/__init__.py,$(wildcard benchmarks/*.py))

bench: setup ## Benchmarks against the reference tools (needs ../shared/corpus); results in benchmarks/results/
	@for script in $(BENCHMARKS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

serve: setup ## Start a local Prefect server, worker and the scheduled deployments (stop: make serve-stop)
	$(BIN)/newsdesk serve

serve-stop: ## Stop what `make serve` started
	$(BIN)/newsdesk serve --stop

clean: ## Remove the venv, caches and the demo warehouse
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data
