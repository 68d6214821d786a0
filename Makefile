# The project's vocabulary. `make run` and `make test` work on a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint typecheck unit bench lock layer build deploy deploy-web clean web web-check web-if-possible

# The merchant web app (web/): Node.js 20 and npm 11 build it. It is rebuilt when anything it is
# made from is newer than the build (make's own timestamp check), and `npm ci` reruns when the
# lock file changes.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json openapi.json
WEB_DEPS := web/node_modules/.package-lock.json
WEB_BUILD := web/dist/index.html

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip<26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## Start the whole system locally (moto as AWS) on 127.0.0.1:$${LOYALTY_PORT:-8000}, the web app at /app/.
run: $(STAMP) web-if-possible
	$(BIN)/python -m infra.local

## The local stack with half a year of a coffee shop replayed through the API (for the KPI report).
demo: $(STAMP) web-if-possible
	$(BIN)/python -m infra.local --demo

## Lint, type-check and run every test (unit, integration, end-to-end, template, browser).
test: lint typecheck web web-check
	$(BIN)/python -m pytest -n auto --dist loadgroup

$(WEB_DEPS): web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "The web app needs Node.js 20 and npm 11 (see README: The web app)." >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(WEB_DEPS)

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build

## Build the web app into web/dist (the client is generated from openapi.json and type-checked first).
web: $(WEB_BUILD)

## The web app's own lint (eslint, type-aware) and unit tests (vitest).
web-check: $(WEB_BUILD)
	cd web && npm run --silent lint && npm run --silent test

# `make run` starts the API even when the web app cannot be built here; it says why.
web-if-possible:
	@if ! command -v npm >/dev/null 2>&1 || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null; then \
		echo "make run: the web app needs Node.js 20+ and npm 11 (README: The web app); starting the API without it."; \
	elif ! $(MAKE) --no-print-directory web; then \
		echo "make run: the web app did not build (see above); starting the API without it."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks: DynamoDB calls and capacity units per operation, and in-process ratios; then cold
## start: the layer's size, every handler's import next to `import boto3`, the first requests.
bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.coldstart

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

## The shared layer as Lambda gets it (arm64, Python 3.12 bytecode) in build/layer; sam build runs
## the same build through layers/loyalty/Makefile.
layer: $(STAMP)
	$(BIN)/python -m infra.layer --arch arm64 --out build/layer

build: .venv-sam/bin/sam $(STAMP)
	PYTHON="$(CURDIR)/$(BIN)/python" .venv-sam/bin/sam build

deploy: build
	.venv-sam/bin/sam deploy --guided
	$(MAKE) --no-print-directory deploy-web

## Upload the web app to the stack's bucket with its config.json (the API URL from the stack's outputs).
deploy-web: $(STAMP) web
	$(BIN)/python -m infra.deploy_web

clean:
	rm -rf $(VENV) .venv-sam .aws-sam build .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist test-artifacts
