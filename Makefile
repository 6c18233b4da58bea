# minigrad course: `make lab` to learn, `make test` to check everything.
# Both create .venv (with the first Python >= 3.11 found) and install the project into it.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# JupyterLab refuses to run as root unless told to (containers, CI, Binder-like set-ups).
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help venv lab test test-quick bench release check publish grade lint clean

help:
	@echo "make lab         set up .venv and open the course in JupyterLab"
	@echo "make test        set up .venv and run every test"
	@echo "make test-quick  the tests without the slow ones"
	@echo "make bench       run the benchmarks (installs micrograd as a baseline)"
	@echo "make release     regenerate course/ from solutions/ (instructors)"
	@echo "make check       check course/ against solutions/ and grade both (instructors)"
	@echo "make publish     write the student edition: make publish DEST=dir [REMOTE=url]"
	@echo "make grade       grade a class: make grade SUBMISSIONS=dir OUT=dir [ARGS=--jobs 2]"
	@echo "make lint        check the code with ruff"
	@echo "make clean       remove .venv and caches"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@python=$$(bash .ci/find-python) && \
	  echo "Creating $(VENV) with $$python ($$($$python --version))" && \
	  $$python -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[course,dev,postgres]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=course $(LAB_FLAGS) $(ARGS)

# Test files run side by side, one per core (pytest-xdist), each file's tests in one process
# so that a file's kernels and fixtures are made once. ARGS="-n 0" runs them one at a time.
PARALLEL := -n auto --dist loadfile

test: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) $(ARGS)

test-quick: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow" $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@for script in benchmarks/bench_*.py; do \
	  echo; echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

release: $(STAMP)
	$(BIN)/minigrad-course release $(ARGS)

check: $(STAMP)
	$(BIN)/minigrad-course check $(ARGS)

publish: $(STAMP)
	@test -n "$(DEST)" || { echo "name the edition's folder: make publish DEST=../minigrad-edition [REMOTE=https://github.com/<owner>/<name>]"; exit 2; }
	$(BIN)/minigrad-course publish "$(DEST)" $(if $(REMOTE),--remote "$(REMOTE)") $(ARGS)

SUBMISSIONS ?= submissions
OUT ?= out
grade: $(STAMP)
	$(BIN)/minigrad-course grade $(SUBMISSIONS) --out $(OUT) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check minigrad minigrad_course tests benchmarks
	$(BIN)/ruff format --check minigrad minigrad_course tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
