# Every target installs what it needs; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-fast install browser build bench eval clean

run: install
	$(BIN)/assistant serve

test: install browser
	$(BIN)/python -m pytest -m "slow or not slow"

# Fast unit tests only (what plain `pytest` runs): no real model, no browser.
test-fast: install
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch first and pinned: this CPU build is on local disk; unpinned, pip pulls GBs of CUDA.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[test]"
	touch $@

# Debian's Chromium and a CJK font for the real-browser test (never `playwright install`: it downloads).
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	else echo "需要 chromium 与 fonts-wqy-zenhei: sudo apt-get install chromium fonts-wqy-zenhei" >&2; exit 1; fi

build: install
	$(BIN)/assistant build

bench: install
	$(BIN)/assistant bench cmrc

eval: install
	$(BIN)/assistant eval

clean:
	rm -rf $(VENV) indexes/default indexes/.default.* eval/reports
