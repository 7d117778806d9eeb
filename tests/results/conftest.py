"""The ``store`` fixture: each object store (S3, GCS, Azure) in turn, for the behaviours they share (stores.py)."""

from __future__ import annotations

import pytest

from tests.results.stores import STORES, STRICT_STORES, Store


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Store:
    """A bucket or container of its own on one backend's server (or on a server named by the test: STRICT_STORES)."""
    return {**STORES, **STRICT_STORES}[request.param](request)
