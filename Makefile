# defdip: two commands are the contract (see README).
#   make run   - set up a fresh clone and run the main job (fetch sources, build the store, print a summary, validate it);
#                a build refuses to drop sources the store holds: `make run BUILD_ARGS=--replace` to mean it
#   make test  - set up and run the quality gates (ruff, mypy) and every test (installs Debian's chromium for
#                the browser tests if missing)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,spark]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	@if [ -z "$$DEFDIP_SOURCES" ]; then $(BIN)/defdip fetch || echo "some sources could not be downloaded; building with what is available"; fi
	$(BIN)/defdip build $(BUILD_ARGS)
	$(BIN)/defdip status
	$(BIN)/defdip validate

browser:
	@if [ -z "$$DEFDIP_NO_BROWSER" ] && [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "could not install chromium: browser tests will fail (set DEFDIP_NO_BROWSER=1 to skip them)"; \
	fi

test: setup browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider

bench: setup
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/panel.py
	$(BIN)/python benchmarks/load.py --warm-up
	$(BIN)/python benchmarks/events.py --rows 10000000 --files 40 --spark
	$(BIN)/python benchmarks/code.py

clean:
	rm -rf $(VENV) artifacts out
