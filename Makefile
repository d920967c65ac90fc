# Two commands do all the set-up on a fresh machine:
#   make run    create the virtual environment if needed, install, start the app (demo data on an empty database)
#   make test   the same environment, then the whole test suite offscreen
# and for a self-contained application (docs/bundle.md):
#   make bundle       a one-folder build with PyInstaller in dist/account-health-monitor
#   make bundle-test  builds it when needed, then starts it under a virtual display and checks it
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# PyInstaller is installed only for the bundle, so `make test` and `make run` never fetch it.
BUNDLE_STAMP := $(VENV)/.installed-bundle
BUNDLE_DIR := dist/account-health-monitor
BUNDLE_EXE := $(BUNDLE_DIR)/account-health-monitor
BUNDLE_SPEC := tools/bundle/account-health-monitor.spec
BUNDLE_SOURCES := main.py pyproject.toml $(wildcard tools/bundle/*) \
	$(shell find app ui storage resources -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null)

.PHONY: run test lint bench screenshots bundle bundle-test install-test clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

$(BUNDLE_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bundle]'
	@touch $(BUNDLE_STAMP)

run: $(STAMP)
	$(PY) main.py

test: $(STAMP)
	@bash tools/system-packages
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest
	$(VENV)/bin/ruff check .

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/import_orders.py
	$(PY) bench/metrics.py
	$(PY) bench/metrics.py --marketplaces 3
	$(PY) bench/ui_responsiveness.py
	$(PY) bench/incremental.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshots.py
	QT_QPA_PLATFORM=offscreen $(PY) tools/marketplace_screenshots.py

bundle: $(BUNDLE_EXE)

# Rebuilt only when a source, the spec or the dependencies changed; the build's time goes in build/ for the check.
$(BUNDLE_EXE): $(BUNDLE_STAMP) $(BUNDLE_SOURCES)
	@bash tools/system-packages bundle
	@rm -f build/bundle-seconds
	@start=$$(date +%s); \
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		$(BUNDLE_SPEC) && echo $$(( $$(date +%s) - start )) > build/bundle-seconds

bundle-test: $(BUNDLE_EXE)
	@bash tools/system-packages bundle
	$(PY) tools/bundle_test.py $(BUNDLE_DIR)

# A seller's install on a fresh machine: pipx install of this folder, then both commands (tools/install-test).
install-test:
	bash tools/install-test

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
