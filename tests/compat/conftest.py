"""Fixtures for the compatibility layer's tests: legacy uses are expected here, so their warnings are recorded."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from compat import LegacyResultWarning


@pytest.fixture
def legacy() -> Iterator[list[warnings.WarningMessage]]:
    """Record every LegacyResultWarning raised inside the test (always shown, never turned into errors)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        yield caught


@pytest.fixture
def quiet() -> Iterator[None]:
    """Silence legacy warnings for tests about behaviour rather than warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        yield
