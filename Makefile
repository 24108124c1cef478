# Every target installs what it needs; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-fast install install-llm install-milvus browser build bench eval clean

run: install
	$(BIN)/assistant serve

test: install install-llm install-milvus browser
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

# The optional extra `llm` (llama-cpp-python + its OpenAI-compatible server) for local GGUF models
# and the slow LLM tests. It compiles llama.cpp (~6 min on 2 cores, no download; pip caches the
# wheel, so reinstalls are quick). The tests' model comes from PyPI (assistant/llm_fixture.py).
# Not -DGGML_NATIVE=ON: these VMs advertise AMX, -march=native compiles ggml's AMX kernels, and
# the first matrix multiply dies with a general protection fault (ldtilecfg). AVX2/FMA/F16C/BMI2
# run on every x86-64 machine of this kind (the x86 flags are ignored elsewhere).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAMA_CURL=OFF
install-llm: $(VENV)/.installed-llm

$(VENV)/.installed-llm: $(VENV)/.installed pyproject.toml
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -e ".[test,llm]"
	@# pip reuses a cached wheel whatever CMAKE_ARGS say: one built with AMX is rebuilt without the cache
	$(BIN)/python -c "import sys, llama_cpp; sys.exit(b'AMX_INT8 = 1' in llama_cpp.llama_print_system_info())" || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==0.3.36"
	touch $@

# The optional extra `milvus` (pymilvus + Milvus Lite) for ASSISTANT_STORE=milvus:… and its tests.
install-milvus: $(VENV)/.installed-milvus

$(VENV)/.installed-milvus: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -e ".[test,milvus]"
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
