# The two commands of the README: `make demo` and `make test`. Each sets itself up from
# nothing: a virtual environment with the locked dependencies, then the package.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ASSETS := src/faisceau/web/assets
VENDOR := src/faisceau/web/static/vendor
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml $(ASSETS)/package-lock.json | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9

.PHONY: setup demo test lint lock bench clean

setup: $(STAMP)

# The browser's graph library (cytoscape.js) comes from its lock file and is served from
# /static/vendor: no CDN.
$(STAMP): requirements.lock pyproject.toml $(ASSETS)/package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	npm ci --prefix $(ASSETS) --no-audit --no-fund
	@mkdir -p $(VENDOR)
	cp $(ASSETS)/node_modules/cytoscape/dist/cytoscape.min.js $(VENDOR)/
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: setup
	$(BIN)/faisceau demo

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 --dist loadfile

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) faisceau-data demo-data $(ASSETS)/node_modules $(VENDOR)
