"""The Prefect 3 interpreter (``make prefect3`` builds its virtual environment beside the main one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.prefect3.runs import PREFECT3_PYTHON


@pytest.fixture(scope="session")
def prefect3_python() -> Path:
    if not PREFECT3_PYTHON.exists():
        message = f"Prefect 3 is not installed at {PREFECT3_PYTHON}: run make prefect3 (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return PREFECT3_PYTHON
