"""Fixtures for the engine tests: a clean in-memory store and a call counter for task functions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from compat import MemoryResult


@pytest.fixture(autouse=True)
def clean_memory_store() -> Iterator[None]:
    """Every test starts with an empty MemoryResult store, so no output leaks from one test to another."""
    MemoryResult.clear()
    yield
    MemoryResult.clear()


@pytest.fixture
def calls() -> Counter[str]:
    """Counts how many times each task function really ran (tasks do ``calls[name] += 1``)."""
    return Counter()
