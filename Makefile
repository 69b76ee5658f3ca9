# nowaki — two commands on a fresh machine: `make run` (the demo) and `make test`.
# Both create the virtualenv on first use; `make test` also installs Debian's
# chromium (as root) and the runtime's build tool when they are missing.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
NODE_STAMP = client-runtime/node_modules/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run run-split test lint unit conformance browser runtime chromium bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): client-runtime/package.json client-runtime/package-lock.json
	cd client-runtime && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## Serve the demo app at http://$(HOST):$(PORT) (the dashboard's feed takes
## `NOWAKI_PUBLISH_TOKEN=demo nowaki publish orders '{"item": "tea"}'`)
run: $(STAMP)
	NOWAKI_PUBLISH_TOKEN=$${NOWAKI_PUBLISH_TOKEN:-demo} $(BIN)/nowaki start examples/demo --host $(HOST) --port $(PORT)

## Rebuild front/static/runtime.js from client-runtime/src/runtime.js (needs Node)
runtime: $(NODE_STAMP)
	cd client-runtime && npm run --silent build && npm run --silent size

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Everything: lint, types, unit, conformance and real-Chromium tests
test: $(STAMP) $(NODE_STAMP) chromium lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

conformance: $(STAMP)
	$(BIN)/python -m pytest -q tests/conformance

browser: $(STAMP) chromium
	$(BIN)/python -m pytest -q tests/browser

## Performance beside floors measured in the same run (< 10 min on 2 cores); writes bench/results.{json,md}
bench: $(STAMP) chromium
	$(BIN)/python -m bench.run

## Property tests (decoders, live-socket frames, diff, tokens) run long
fuzz: $(STAMP)
	NOWAKI_FUZZ=1 $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=1800 tests/unit/test_diff.py \
	  tests/unit/test_token.py tests/unit/test_decoder_properties.py tests/unit/test_wsframes.py

clean:
	rm -rf $(VENV) client-runtime/node_modules .mypy_cache .ruff_cache .pytest_cache

## The demo as separate services: two renderer services and one front
SPLIT_DIR ?= /tmp/nowaki-split
run-split: $(STAMP)
	@mkdir -p $(SPLIT_DIR)
	@export NOWAKI_RENDERER_KEY=$${NOWAKI_RENDERER_KEY:-$$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')}; \
	$(BIN)/nowaki renderer --app examples/demo --listen unix:$(SPLIT_DIR)/r1.sock & r1=$$!; \
	$(BIN)/nowaki renderer --app examples/demo --listen tcp:127.0.0.1:8101 & r2=$$!; \
	trap 'kill $$r1 $$r2 2>/dev/null' EXIT INT TERM; sleep 1; \
	$(BIN)/nowaki front examples/demo --host $(HOST) --port $(PORT) \
	  --renderer unix:$(SPLIT_DIR)/r1.sock --renderer tcp:127.0.0.1:8101
