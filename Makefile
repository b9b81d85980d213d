# Two commands matter: `make run` (demo server on http://127.0.0.1:8080) and `make test`.
# Everything else here is what those two are built from.

PYTHON       ?= python3.11
VENV         := .venv
BIN          := $(VENV)/bin
SERVICES_VENV := .venv-services
CONSTRAINTS  := .ci/constraints.txt
STAMP        := $(VENV)/.installed
SERVICES_STAMP := $(SERVICES_VENV)/.installed
# The MongoDB wire-protocol test server needs Python >= 3.13.
PYTHON313    ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3.13 $$(command -v python3.13); do \
                  "$$p" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: run test install install-test lint typecheck test-only services system-deps lock clean

run: install
	$(BIN)/invigilator migrate
	$(BIN)/invigilator seed-demo
	$(BIN)/invigilator serve

test: install install-test system-deps services lint typecheck test-only

# torch/torchvision first and by exact version: a bare resolve would pick a newer build.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(SERVICES_STAMP):
	@test -n "$(PYTHON313)" || { echo "Python 3.13 is needed for the MongoDB wire test server"; exit 1; }
	test -x $(SERVICES_VENV)/bin/python || $(PYTHON313) -m venv $(SERVICES_VENV)
	$(SERVICES_VENV)/bin/pip install --quiet --disable-pip-version-check 'mongoeco[wire]==4.11.0'
	touch $(SERVICES_STAMP)

install-test: $(SERVICES_STAMP)

system-deps:
	bash .ci/system-deps.sh

services:
	bash .ci/services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy core storage webapp plugins media

test-only:
	INVIGILATOR_TEST_SERVICES=required $(BIN)/pytest -q -p no:cacheprovider

# Refresh the lock after changing pyproject.toml dependencies.
lock: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^invigilator' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) $(SERVICES_VENV) var .mypy_cache .ruff_cache .pytest_cache
