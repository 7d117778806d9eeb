"""The backends the contract suite (test_contract.py) runs against: add a factory here and a new backend gets
every contract test for free.

A factory takes pytest's ``request`` and a fresh temporary directory and returns a storing Result whose
``location`` is unset; tests set locations as they need.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compat import AzureResult, GCSResult, LocalResult, MemoryResult, Result, S3Result, as_result

BackendFactory = Callable[[pytest.FixtureRequest, Path], Result]


def local(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    return LocalResult(dir=tmp_path)


def legacy_handler(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    """A user's own ResultHandler subclass (a directory of pickles) run through ``compat.as_result``."""
    from tests.compat.handlers import DirectoryHandler

    return as_result(DirectoryHandler(tmp_path))


def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    MemoryResult.clear()
    return MemoryResult()


def s3(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    """A bucket of its own on the session's moto server (tests/fixtures/s3_server.py)."""
    bucket, boto3_kwargs = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_boto3_kwargs")
    return S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs)


def azure(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    """A container of its own on the session's Azurite (tests/fixtures/azure_server.py)."""
    return AzureResult(container=request.getfixturevalue("azure_container"))


def gcs(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    """A bucket of its own on the session's GCS emulator (tests/fixtures/gcs_server.py)."""
    return GCSResult(bucket=request.getfixturevalue("gcs_bucket"))


BACKENDS: dict[str, BackendFactory] = {
    "azure": azure,
    "gcs": gcs,
    "legacy_handler": legacy_handler,
    "local": local,
    "memory": memory,
    "s3": s3,
}
