# Two entry points for people (see README): `make book` and `make test`.
# Python: PYTHON=/path/to/python if given (>= 3.12), else the first Python >= 3.12 that
# scripts/find_python.sh finds (python3.13, python3.12, python3, then pyenv's installed versions).
PYTHON ?=
export PYTHON
LOCK_PYTHON := 3.12
export LOCK_PYTHON
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv

.PHONY: book test env bench-env lab clean lint lock FORCE

# (Re)create .venv when it is missing or was made with a Python older than 3.12 (or another X.Y
# than a given PYTHON). Its pyvenv.cfg is then newer than the stamps below, so they are redone.
$(VENV)/pyvenv.cfg: FORCE
	@sh scripts/ensure_venv.sh $(VENV)

$(UV): $(VENV)/pyvenv.cfg
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Install one group's lock once; redo it when that lock or the package metadata changes. The locks
# agree on every version (`make lock`), so groups add up in one .venv.
# --compile-bytecode writes the .pyc files at install time: where PYTHONDONTWRITEBYTECODE is set
# (as on the course's CI machine) Python would otherwise recompile every imported module in every
# process, which cost about 7 s per notebook kernel (importing PyMC, Bambi, ArviZ, nutpie and
# seaborn: 12.7 s without .pyc files, 5.5 s with them).
define install
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r $(1)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
endef

# runtime + book: the notebooks, the HTML book, JupyterLab.
$(VENV)/.installed-book: locks/book.txt pyproject.toml $(UV)
	$(call install,locks/book.txt)
	touch $@

# Every group (test.txt holds book.txt), so it also stands for the book stamp.
$(VENV)/.installed-test: locks/test.txt pyproject.toml $(UV)
	$(call install,locks/test.txt)
	touch $@ $(VENV)/.installed-book

$(VENV)/.installed-bench: locks/bench.txt pyproject.toml $(UV)
	$(call install,locks/bench.txt)
	touch $@

env: $(VENV)/.installed-test

bench-env: $(VENV)/.installed-bench

# Build the HTML book into _build/html from the notebooks' committed outputs.
book: $(VENV)/.installed-book
	$(BIN)/jupyter-book build . --keep-going
	@echo "Open _build/html/index.html"

# Every test: unit tests, nbval re-execution of each notebook under book/, and the book build
# with warnings as errors (tests/test_book.py). Progress bars stay quiet; the hash seed is the one
# scripts/run_notebook.py executes the notebooks with, so nothing set-ordered can differ.
# The tests run in JOBS processes (pytest-xdist; default: one per core, at most 4, since each
# notebook kernel can hold a few GB). `--dist loadscope` keeps every cell of a notebook, in order,
# in one worker and its one kernel; the largest files start first. Compiling a model uses one
# core, so two notebooks compile side by side on two cores. `make test JOBS=0`: one process.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)
test: $(VENV)/.installed-test
	$(BIN)/ruff check course_pkg tests scripts bench
	COURSE_PROGRESS=0 PYTHONHASHSEED=0 $(BIN)/python -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --junitxml=_build/test-results.xml \
		-n $(JOBS) --dist loadscope tests book

lint: $(VENV)/.installed-test
	$(BIN)/ruff check course_pkg tests scripts bench

lab: $(VENV)/.installed-book
	$(BIN)/jupyter lab book/

# Regenerate every lock from pyproject.toml for Python $(LOCK_PYTHON). test.txt holds every group
# and is resolved first; the others are resolved within it (--constraint), so a package has one
# version in all four. Existing pins are kept unless pyproject.toml needs others; to move every
# package to its newest allowed release: make lock UPGRADE=--upgrade
UPGRADE ?=
COMPILE = $(UV) pip compile --quiet --python-version $(LOCK_PYTHON) --custom-compile-command "make lock"
lock: $(UV)
	$(COMPILE) $(UPGRADE) pyproject.toml --all-extras -o locks/test.txt
	$(COMPILE) pyproject.toml --extra runtime -c locks/test.txt -o locks/runtime.txt
	$(COMPILE) pyproject.toml --extra runtime --extra book -c locks/test.txt -o locks/book.txt
	$(COMPILE) pyproject.toml --extra runtime --extra bench -c locks/test.txt -o locks/bench.txt
	sh scripts/lock_headers.sh $(LOCK_PYTHON)

clean:
	rm -rf _build
