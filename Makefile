# Two entry points for people (see README): `make book` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test env lab clean lint

# Create the locked environment once; redo it when the lock or the package metadata changes.
# --compile-bytecode writes the .pyc files at install time: where PYTHONDONTWRITEBYTECODE is set
# (as on the course's CI machine) Python would otherwise recompile every imported module in every
# process, which cost about 7 s per notebook kernel (importing PyMC, Bambi, ArviZ, nutpie and
# seaborn: 12.7 s without .pyc files, 5.5 s with them).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

# Build the HTML book into _build/html from the notebooks' committed outputs.
book: $(STAMP)
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
test: $(STAMP)
	$(BIN)/ruff check course_pkg tests scripts bench
	COURSE_PROGRESS=0 PYTHONHASHSEED=0 $(BIN)/python -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --junitxml=_build/test-results.xml \
		-n $(JOBS) --dist loadscope tests book

lint: $(STAMP)
	$(BIN)/ruff check course_pkg tests scripts bench

lab: $(STAMP)
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build
