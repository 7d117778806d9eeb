"""Shared pytest configuration: the fixtures that start real servers live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.azure_server",
    "tests.fixtures.cut_proxy",
    "tests.fixtures.dask_cluster",
    "tests.fixtures.gcs_server",
    "tests.fixtures.s3_server",
]
