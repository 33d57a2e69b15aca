# The two commands of the README: `make demo` and `make test`.
# Both set up .venv from scratch when needed (packages, the kit, its Jupyter kernel).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := diligence
DEMO_OUT ?= demo-output

.PHONY: setup demo test bench clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Coverage diligence (Python 3)"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diligence demo --out $(DEMO_OUT)

test: $(STAMP) chromium
	$(BIN)/python -m pytest

# The report is checked in a real headless browser: Debian's chromium (root installs it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: the browser test will be skipped (apt-get install chromium)"; fi; }

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
