# The two commands of the README: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite, the Azure Blob Storage emulator the tests start (tests/fixtures/azure_server.py), from npm
AZURITE_VERSION := 3.35.0
AZURITE_DIR := .cache/azurite
AZURITE_STAMP := $(AZURITE_DIR)/.installed-$(AZURITE_VERSION)
# Prefect 3, in a virtual environment of its own (Prefect 1.4.1, in .venv, cannot share one): the codemod's prefect3
# profile is tested by running what it writes there (tests/prefect3)
PREFECT3_VERSION := 3.9.1
PREFECT3_VENV := .cache/prefect3-venv
PREFECT3_STAMP := $(PREFECT3_VENV)/.installed-$(PREFECT3_VERSION)
# azure-storage-blob 2.x, the SDK Prefect 0.13's AzureResultHandler called (BlockBlobService): it shares its import path
# with the 12.x the extras install, so it goes in a directory of its own that tests/prefect/test_azure_sdk2.py puts
# first on PYTHONPATH of the processes it starts (its dependencies beyond these three are in .venv)
AZURE_BLOB2_DIR := .cache/azure-storage-blob-2
AZURE_BLOB2_STAMP := $(AZURE_BLOB2_DIR)/.installed-2.1.0

.PHONY: demo test azurite prefect3 azure-blob2 clean

$(STAMP): pyproject.toml setup.py results_compat_prefect.pth
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,s3,gcs,azure,prefect,dask]'
	touch $(STAMP)

$(AZURITE_STAMP):
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "make test needs Node.js and npm to install Azurite, the Azure Blob Storage emulator the tests run;" >&2; \
	  echo "install them first (Debian/Ubuntu: apt-get install nodejs npm), then run make test again" >&2; \
	  exit 1; }
	npm install --prefix $(AZURITE_DIR) --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	touch $(AZURITE_STAMP)

azurite: $(AZURITE_STAMP)

$(PREFECT3_STAMP):
	rm -rf $(PREFECT3_VENV)
	$(PYTHON) -m venv $(PREFECT3_VENV)
	$(PREFECT3_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PREFECT3_VENV)/bin/python -m pip install --quiet 'prefect==$(PREFECT3_VERSION)'
	touch $(PREFECT3_STAMP)

prefect3: $(PREFECT3_STAMP)

$(AZURE_BLOB2_STAMP): $(STAMP)
	rm -rf $(AZURE_BLOB2_DIR)
	$(BIN)/python -m pip install --quiet --no-deps --target $(AZURE_BLOB2_DIR) \
	  'azure-storage-blob==2.1.0' 'azure-storage-common==2.1.0' 'azure-common==1.1.28'
	touch $(AZURE_BLOB2_STAMP)

azure-blob2: $(AZURE_BLOB2_STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Our own pytest plugin (an entry point) stays loaded: it imports nothing of compat unless --legacy-audit asks,
# so coverage still sees compat's import-time lines.
test: $(STAMP) $(AZURITE_STAMP) $(PREFECT3_STAMP) $(AZURE_BLOB2_STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .coverage build *.egg-info
