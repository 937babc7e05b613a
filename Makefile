# The course's two commands:  make lab  (set up, open JupyterLab)  and  make test  (set up, run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# npm ci writes this file last: the slide decks' scripts are installed
SLIDE_ASSETS := slides/node_modules/.package-lock.json

.PHONY: lab test browser-test ddp-check unit notebooks benchmark gpu-check learner-copies grade-learner-copies slides \
        upgrade lock-check clean

# Create .venv and install exactly the versions in uv.lock: course_lib (editable) with everything the notebooks,
# tests, slides and browser test need, so a class installs in week 10 what CI tested in week 1.
# uv (pinned: the version that wrote the lock) is used when it installs (about 20 s); otherwise plain pip installs
# requirements-lock.txt, the lock's export with every file's sha256 (slower, same versions).
# --inexact: leave pip and uv themselves in .venv. --compile-bytecode writes the .pyc files once, at install (pip
# does it by default; uv does not): where PYTHONDONTWRITEBYTECODE is set, as on CI machines, every kernel and test
# worker would otherwise compile torch's Python sources again on import, about 4 s of every notebook's first cell.
UV_VERSION := 0.13.9
UV_SYNC    := $(BIN)/uv sync --frozen --inexact --all-extras --compile-bytecode --python $(BIN)/python
LOCK_EXPORT := $(BIN)/uv export --frozen --all-extras --no-emit-project --no-header --format requirements-txt

$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); then \
		$(UV_SYNC); \
	else \
		$(BIN)/python -m pip install --require-hashes -r requirements-lock.txt && \
		$(BIN)/python -m pip install --no-deps -e .; \
	fi
	touch $(STAMP)

# Move the whole stack to the newest releases pyproject.toml allows, in one deliberate step: re-resolve uv.lock
# (uv prints every package that moved: "Updated numpy v2.4.6 -> v2.4.7"), export requirements-lock.txt, install it,
# and run every test. Commit the two lock files only if the tests pass.
upgrade: $(STAMP)
	$(BIN)/uv lock --upgrade
	$(LOCK_EXPORT) --quiet -o requirements-lock.txt
	$(UV_SYNC)
	$(MAKE) test

# The lock agrees with pyproject.toml, and requirements-lock.txt is its export (CI runs this).
lock-check: $(STAMP)
	$(BIN)/uv lock --check
	@$(LOCK_EXPORT) --quiet | diff -q - requirements-lock.txt >/dev/null || \
		{ echo "requirements-lock.txt is not the export of uv.lock: run make upgrade (or uv export, see Makefile)"; exit 1; }
	@echo "uv.lock matches pyproject.toml; requirements-lock.txt is its export"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(if $(filter 0,$(shell id -u)),--allow-root,)

# Two test workers share two cores, so each gets one BLAS/torch thread: oversubscribed OpenBLAS
# threads spin-wait and made the NumPy training cells ten times slower.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# Unit tests and every notebook (nbval), two workers, one notebook per worker at a time. The notebooks go first:
# they are the long jobs, and the many short test files then fill in until both workers finish. The tests
# include the data-parallel check below (tests/test_distributed.py launches the same torchrun command).
test: $(STAMP)
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env notebooks tests

# Every notebook in a real JupyterLab page (browser_tests/): headless Debian chromium, driven by Playwright, runs each
# notebook, checks its outputs and widgets and moves the first slider of each interact; screenshots go to
# browser-screenshots/; and notebook 00's offline deck (make slides) opened with outside requests blocked. Debian's
# chromium is installed when missing, never a browser that Playwright downloads. The deck's scripts (npm ci) are
# installed before pytest starts, so a registry failure reads as one, not as a test error.
# Two workers, each with its own JupyterLab and chromium, take any test next (--dist load: the notebooks are all in one
# file; the offline deck is built once, by whichever worker asks first): 412 s for the whole browser test on two
# cores, in a fresh-clone CI run.
browser-test: $(STAMP) $(SLIDE_ASSETS)
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "browser-test needs Debian's chromium, and only root can install it: sudo apt-get install chromium"; \
			exit 1; fi; \
	fi
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 --dist load browser_tests

# Data-parallel training (DDP) in two CPU processes talking through gloo, checked against one process trained on
# the combined batches: gradients, losses and weights in float64; fails (and so does make test) past 1e-6.
# --standalone: torchrun's rendezvous takes a free port, not the fixed 29500 that two runs at once would share.
ddp-check: $(STAMP)
	$(ONE_THREAD) $(BIN)/torchrun --standalone --nproc_per_node=2 -m course_lib.distributed --backend gloo

unit: $(STAMP)
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 tests

notebooks: $(STAMP)
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env notebooks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

# On a CUDA machine: every device-parametrised test on CUDA, then training images/s of LeNet-5 and ResNet-18 in eager,
# CUDA-graph and torch.compile modes, written to data/gpu_results.json (notebook 12 shows it on CPU-only machines).
# Without a CUDA GPU it says so and exits 0, having checked nothing on a GPU.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

# Learner copies: every solution block replaced by a stub that raises NotImplementedError.
learner-copies: $(STAMP)
	$(BIN)/python -m course_lib.exercises blank notebooks learner

# The learner copies, graded: each runs top to bottom in a fresh kernel, and this fails unless every exercise is
# "not attempted" and no other cell raised. Every notebook runs once more, two at a time (minutes, as long as make
# notebooks), so it is not part of make test.
grade-learner-copies: $(STAMP)
	@copies=$$(mktemp -d) && $(BIN)/python -m course_lib.exercises blank notebooks $$copies/learner-copy >/dev/null && \
	$(ONE_THREAD) $(BIN)/python -m course_lib.exercises grade $$copies --expect-not-attempted --jobs 2; \
	status=$$?; rm -rf $$copies; exit $$status

# Offline slide decks: slides/NN_name.slides.html for every notebook, executed (the widgets keep their state), with
# reveal.js, MathJax, jQuery, RequireJS and the widget manager loaded from slides/node_modules (npm ci, from
# slides/package-lock.json), never a CDN: copy the slides/ folder to a USB stick and the decks work with no network.
# SLIDES_FROM=notebooks/03_*.ipynb builds some only. Two notebooks at a time, one thread each.
SLIDES_FROM   ?= $(wildcard notebooks/[0-9][0-9]_*.ipynb)

$(SLIDE_ASSETS): slides/package-lock.json
	@command -v npm >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -qq && apt-get install -y -qq npm; }
	@command -v npm >/dev/null || { echo "make slides needs npm (Node.js): apt-get install npm, or nodejs.org"; exit 1; }
	npm ci --prefix slides --no-audit --no-fund --ignore-scripts || { \
		echo "npm ci failed (above); once more, from an empty slides/node_modules"; rm -rf slides/node_modules; \
		npm ci --prefix slides --no-audit --no-fund --ignore-scripts; }

slides: $(STAMP) $(SLIDE_ASSETS)
	printf '%s\n' $(SLIDES_FROM) | $(ONE_THREAD) xargs -P 2 -I{} \
		$(BIN)/jupyter nbconvert --config slides/nbconvert_config.py --to slides --output-dir slides {}

clean:
	rm -rf $(VENV) learner .pytest_cache browser-screenshots slides/node_modules slides/*.slides.html slides/.deck-test*
