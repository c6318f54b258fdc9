# daumoi — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Locked, hashed versions for this Python (regenerate with `make lock`): the runtime lock is what
# `make run` and the image install; the test lock adds the test tools (same versions otherwise).
RUN_LOCK := requirements/runtime.txt
TEST_LOCK := requirements/test.txt
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
IMAGE ?= daumoi:latest
LOCK_VENV := .venv-lock
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url $(if $(UPGRADE),--upgrade)

.PHONY: install install-run run test bench lint format lock image clean

# Everything a developer needs: runtime, the chart extra and the test tools.
install: $(TEST_STAMP)

# What `make run` needs: the runtime lock only (no pytest, ruff, mypy, hypothesis).
install-run: $(RUN_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): $(RUN_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): $(TEST_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: install-run
	$(BIN)/daumoi run

test: install
	$(BIN)/python -m pytest -q -n auto

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-resolve the locks from pyproject.toml with Python 3.11, the one they are for (pins that still
# fit stay unless UPGRADE=1): the test lock first, then the runtime lock constrained by it, so both
# hold the same versions.
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip pip-tools; }
	mkdir -p requirements
	$(PIP_COMPILE) --extra charts --extra test -o $(TEST_LOCK) pyproject.toml
	$(PIP_COMPILE) --extra charts -c $(TEST_LOCK) -o $(RUN_LOCK) pyproject.toml

# Build the container image where a Docker engine runs; elsewhere say so in one line.
image:
	@command -v docker >/dev/null 2>&1 || { \
		echo "make image: máy này chưa cài Docker, nên không dựng được ảnh $(IMAGE)."; exit 1; }
	@docker info >/dev/null 2>&1 || { \
		echo "make image: Docker chưa chạy (không kết nối được Docker engine), nên không dựng được ảnh $(IMAGE)."; exit 1; }
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) $(LOCK_VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
