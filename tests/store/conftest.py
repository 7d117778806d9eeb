"""The ``store`` fixture of the results tests (each object store's server in turn) serves the store tests too."""

from tests.results.conftest import store

__all__ = ["store"]
