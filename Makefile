# The two commands of the README: `make demo` and `make test`.
# Both set up .venv from scratch when needed (packages, the kit, its Jupyter kernel).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: setup demo test lint format bench clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/diligence kernel install
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diligence demo --out $(DEMO_OUT)

test: $(STAMP) chromium lint
	$(BIN)/python -m pytest

# Format and lint with ruff (rules in pyproject.toml); `make format` rewrites in place.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The report is checked in a real headless browser: Debian's chromium (root installs it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: the browser test will be skipped (apt-get install chromium)"; fi; }

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache build dist
