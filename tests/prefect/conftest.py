"""Fixtures for the Prefect bridge's tests, which run against the real Prefect 1.x the test extra installs.

The bridge is active here the way it is for users: the editable install's ``results_compat_prefect.pth`` armed it
at start-up and the first ``import prefect`` installed it. The tests that prove that, with no help from this file,
run fresh interpreters (``test_hook.py``).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator

import prefect
import pytest
from prefect.utilities.configuration import set_temporary_config

import compat.prefect
from compat import LegacyResultWarning
from compat.renames import PREFECT

assert compat.prefect.is_active(), "importing prefect did not activate the bridge: is the .pth hook installed?"


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


@pytest.fixture
def checkpointing() -> Iterator[None]:
    """Prefect writes task results only with checkpointing on (off by default for local runs)."""
    with set_temporary_config({"flows.checkpointing": True}):
        yield


@pytest.fixture
def fresh_legacy_modules() -> Iterator[None]:
    """Forget the restored legacy modules, so the next import makes them (and warns) again."""
    saved = {name: sys.modules.pop(name) for name in PREFECT.legacy_modules if name in sys.modules}
    attribute = prefect.engine.__dict__.pop("result_handlers", None)  # the import bound it on its parent
    yield
    for name in PREFECT.legacy_modules:
        sys.modules.pop(name, None)
    sys.modules.update(saved)
    if attribute is not None:
        prefect.engine.result_handlers = attribute


def run_quietly(flow: prefect.Flow, **kwargs: object) -> prefect.engine.state.State:
    """``flow.run`` without Prefect's INFO log lines."""
    with set_temporary_config({"logging.level": "WARNING"}):
        return flow.run(**kwargs)
