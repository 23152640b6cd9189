# gptviz. Two commands do all the set-up on a fresh machine (each creates .venv first if needed):
#   make lab    JupyterLab on your working copy of the notebooks (my-notebooks/), with the bundled offline model
#   make test   the whole test suite: unit and parity tests, nbval on every notebook, browser tests
#   make site   the course as a static website in site/ (the explorers run the model in the browser)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STATE  := $(CURDIR)/.state
PORT   ?= 8888
# Your working copy of notebooks/ (git-ignored): `make lab` copies the chapters it lacks, never overwrites.
WORK   ?= my-notebooks
# An extra package index for torch, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu on Linux (the CPU
# build, without several GB of CUDA libraries). Empty: pip's own index.
TORCH_INDEX ?=

# Keep Jupyter, IPython, matplotlib and tiktoken state inside the project, not in the home directory.
export JUPYTER_CONFIG_DIR  := $(STATE)/jupyter/config
export JUPYTER_DATA_DIR    := $(STATE)/jupyter/data
export JUPYTER_RUNTIME_DIR := $(STATE)/jupyter/runtime
export JUPYTER_PLATFORM_DIRS := 1
export IPYTHONDIR          := $(STATE)/ipython
export MPLCONFIGDIR        := $(STATE)/matplotlib
export TIKTOKEN_CACHE_DIR  := $(STATE)/tiktoken
export PLOTLY_RENDERER     := plotly_mimetype

# nbval a second time with the CPU math on other paths than the ones that wrote the stored outputs: two torch
# threads instead of one, PyTorch's kernels without AVX2, oneDNN at SSE4.1, MKL on its path for any x86 CPU.
# tools/portable_nbval.py first checks that each switch takes effect.
PORTABLE := GPTVIZ_THREADS=2 ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_CBWR=COMPATIBLE

# The recipes read WORK, NB and PORT from the environment, quoted ("$$WORK"), never pasted into the
# shell line: `make reset NB='03; rm -r x'` or `WORK='my work'` is then only a strange name.
export WORK NB PORT

ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root,)

TEST_WORKERS ?= 2

.PHONY: install lab notebook reset stop test test-gpt2 test-portable bench site hub hub-proxy hub-stop clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)   # pinned: an open range pulls a CUDA build
	$(BIN)/pip install --quiet -e ".[dev,hub]"
	touch $@

install: $(BIN)/.installed

lab: install
	$(BIN)/python tools/working_copy.py sync "$$WORK"
	$(BIN)/jupyter lab --notebook-dir="$$WORK" --port="$$PORT" $(ROOT_FLAG)

notebook: install   # the same working copy in Notebook 7
	$(BIN)/python tools/working_copy.py sync "$$WORK"
	$(BIN)/jupyter notebook --notebook-dir="$$WORK" --port="$$PORT" $(ROOT_FLAG)

reset: install      # make reset NB=03: chapter 03 afresh; make reset: every chapter. Yours go to $(WORK)/backups/
	set -f; $(BIN)/python tools/working_copy.py reset "$$WORK" $$NB   # NB="03 05": split into words, never run

stop:               # stop the server on $(PORT) (from another terminal; or Ctrl+C twice in its own)
	$(BIN)/jupyter server stop "$$PORT"

# pytest-xdist, each module on one worker, the longest first (tests/xdist_order.py); TEST_WORKERS=0: one process
XDIST = -n $(TEST_WORKERS) --dist loadscope -p tests.xdist_order

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg \
	  $(XDIST) --durations=25

# Every chapter on a model of GPT-2 small's shape (12 layers, 768 wide, context 1,024; random weights, written once
# to $(GPT2_SHAPED), ~500 MB): each runs to its end, with the counts gptviz.notebook.budget scales down; outputs are
# not compared (--nbval-lax), and the bundled model's claims print notes. One torch thread by default: on a busy
# 2-core machine two threads wait for each other (measured 10x slower generation); GPTVIZ_THREADS=2 on an idle one.
# About 4 minutes on 2 cores (README, "The chapters on GPT-2 small"); chapters 7 and 10 take the longest.
GPT2_SHAPED ?= /tmp/gptviz-gpt2-shaped
test-gpt2: install
	$(BIN)/python tools/gpt2_shaped.py "$(GPT2_SHAPED)"
	GPTVIZ_MODEL="$(GPT2_SHAPED)" GPTVIZ_THREADS=$${GPTVIZ_THREADS:-1} HF_HUB_OFFLINE=1 \
	  $(BIN)/python -m pytest --nbval-lax notebooks -p no:cacheprovider --durations=11 -n $(TEST_WORKERS) --dist loadscope

# JupyterHub's proxy (configurable-http-proxy, npm; Node >= 18) in hub/node_modules, as hub/package-lock.json pins it.
hub/node_modules/.bin/configurable-http-proxy: hub/package.json hub/package-lock.json
	cd hub && npm ci --no-audit --no-fund --silent
	touch $@

hub-proxy: hub/node_modules/.bin/configurable-http-proxy

# A JupyterHub for a class on this machine, on 127.0.0.1:$(HUB_PORT): make hub GPTVIZ_HUB_PASSWORD=the-class-password
# (GPTVIZ_HUB_IP=the lab network's address lets the room in: README, "A class on one JupyterHub").
# Its proxy runs on its own and outlives the hub: Ctrl+C (or a crash) stops the hub only, and `make hub` again
# resumes behind the same proxy with every student's server and kernel; `make hub-stop` stops those too.
HUB_PORT ?= 8000
hub: install hub-proxy
	GPTVIZ_HUB_PORT=$(HUB_PORT) $(BIN)/python hub/classhub.py start

hub-stop:
	$(BIN)/python hub/classhub.py stop

# One chapter at a time: each kernel runs 2 torch threads here, and two workers would put 4 busy threads on
# a 2-core machine, where threads that wait for each other make generation several times slower.
test-portable: install
	$(PORTABLE) HF_HUB_OFFLINE=1 $(BIN)/python tools/portable_nbval.py -p no:xdist

bench: install
	$(BIN)/python benchmarks/forward.py
	$(BIN)/python benchmarks/generate.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/widgets.py

site: install       # the course as a static website in site/: python -m http.server -d site, or GitHub Pages
	$(BIN)/python tools/build_site.py site

clean:
	rm -rf $(VENV) $(STATE)
