# The two commands of the README: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): pyproject.toml setup.py results_compat_prefect.pth
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,s3,prefect,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Our own pytest plugin (an entry point) stays loaded: it imports nothing of compat unless --legacy-audit asks,
# so coverage still sees compat's import-time lines.
test: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .coverage build *.egg-info
