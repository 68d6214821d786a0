# The project's vocabulary. `make run` and `make test` work on a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint typecheck unit bench lock build deploy clean

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip<26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## Start the whole system locally (moto as AWS) on 127.0.0.1:$${LOYALTY_PORT:-8000}.
run: $(STAMP)
	$(BIN)/python -m infra.local

## The local stack with half a year of a coffee shop replayed through the API (for the KPI report).
demo: $(STAMP)
	$(BIN)/python -m infra.local --demo

## Lint, type-check and run every test (unit, integration, end-to-end, template).
test: lint typecheck
	$(BIN)/python -m pytest -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks: DynamoDB calls and capacity units per operation, and in-process ratios.
bench: $(STAMP)
	$(BIN)/python -m bench

## Re-resolve requirements-dev.lock from requirements-dev.in (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet "pip<26.3" && .lock-venv/bin/pip install --quiet -r requirements-dev.in
	(echo "# Resolved from requirements-dev.in by 'make lock' on Python 3.11; every package pinned."; \
	 .lock-venv/bin/pip freeze) > requirements-dev.lock
	rm -rf .lock-venv

## Build and deploy to AWS with the SAM CLI (installed on first use into .venv-sam).
.venv-sam/bin/sam:
	$(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet aws-sam-cli==1.170.0

build: .venv-sam/bin/sam
	.venv-sam/bin/sam build

deploy: build
	.venv-sam/bin/sam deploy --guided

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache
