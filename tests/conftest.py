"""Shared pytest configuration: the fixtures that start real servers live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.azure_server",
    "tests.fixtures.cut_proxy",
    "tests.fixtures.dask_cluster",
    "tests.fixtures.gcs_server",
    "tests.fixtures.gcs_strict_server",
    "tests.fixtures.s3_server",
]

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _record_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Records that ``ls`` and ``gc`` keep (``compat.store.record_cache``) go to a directory of this session, never
    to the user's cache (subprocesses inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESULTS_COMPAT_CACHE_DIR", str(tmp_path_factory.mktemp("record-cache")))
        yield
