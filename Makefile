# The two commands of the README: `make demo` and `make test`.
# Both set up .venv from scratch when needed (packages, the kit, its Jupyter kernel).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: setup demo test lint format bench clean tools

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/diligence kernel install
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diligence demo --out $(DEMO_OUT)

test: $(STAMP) tools lint
	$(BIN)/python -m pytest

# Format and lint with ruff (rules in pyproject.toml); `make format` rewrites in place.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Real tools the tests drive (root installs them from Debian): chromium checks the report and
# prints report.pdf; LibreOffice recalculates the workbook's live capacity plan and prints the deck.
tools:
	@need_chromium=; need_office=; \
	command -v chromium >/dev/null 2>&1 || need_chromium=1; \
	command -v soffice >/dev/null 2>&1 || need_office=1; \
	if command -v dpkg >/dev/null 2>&1; then dpkg -s libreoffice-impress-nogui >/dev/null 2>&1 \
	  || dpkg -s libreoffice-impress >/dev/null 2>&1 || need_office=1; fi; \
	if [ -n "$$need_chromium$$need_office" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq; \
	    if [ -n "$$need_chromium" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	    if [ -n "$$need_office" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libreoffice-calc-nogui libreoffice-impress-nogui fonts-dejavu-core fonts-crosextra-carlito >/dev/null; fi; \
	  else echo "chromium or LibreOffice is not installed: the tests that need them will be skipped" \
	    "(apt-get install chromium libreoffice-calc-nogui libreoffice-impress-nogui)"; fi; \
	fi

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache build dist
