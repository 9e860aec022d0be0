# The README's commands: `make run`, `make lab` and `make test`.
# Each makes .venv/ when it is missing or older than the lock file, installs the pinned
# dependencies and healthlab (editable), then does its job. Needs only Python 3.11+ and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run lab test lint format lock clean-venv

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ] || [ $(VENV) -ot requirements.lock ]; then \
		echo "creating $(VENV) with $$($(PYTHON) --version)"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Every case-study notebook at size small, with papermill; the report is runs/<timestamp>/index.html.
run: $(STAMP)
	$(BIN)/healthlab run --size small

# JupyterLab on notebooks/, its kernels in this environment.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest; status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin after changing dependencies in pyproject.toml; writes requirements.lock and environment.yml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header \
		-o requirements.lock
	$(BIN)/python tools/write_environment.py

clean-venv:
	rm -rf $(VENV)
