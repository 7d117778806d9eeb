# The two commands of the README: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): pyproject.toml setup.py results_compat_prefect.pth
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,s3,prefect]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# -p no:results_compat: our own pytest plugin (an entry point) would import compat before coverage starts and
# hide its import-time lines; the plugin's tests load it in their inner pytest sessions all the same.
test: $(STAMP)
	$(BIN)/python -m pytest -p no:results_compat --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .coverage build *.egg-info
