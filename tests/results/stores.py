"""The object stores the shared cloud tests run against: S3 (moto's server), GCS (gcp-storage-emulator) and Azure
(Azurite), each a real server over HTTP started once per session (tests/fixtures/).

A ``Store`` is one backend's bucket or container for one test: how to make its Result and its legacy handler there,
what its messages call things, and raw put/get/list/last-modified through the plain SDK client, to arrange and
inspect what the code under test does. The ``store`` fixture (conftest.py) gives one per backend, so a behaviour
the three share is written once and runs against all of them; what only one backend does stays in its own module.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from compat import AzureResult, GCSResult, LegacyResultWarning, Result, S3Result

__all__ = ["STORES", "STRICT_STORES", "Store", "at", "run_python"]


@dataclass
class Store:
    """One backend's bucket or container of a test (``name``), and what the tests need to know about it."""

    backend: str
    """``s3``, ``gcs`` or ``azure``: the test id."""
    service: str
    """What the messages call the service (``S3``, ``GCS``, ``Azure``)."""
    result_class: type[Result]
    name: str
    kind: str
    """What the service calls a store: ``bucket`` or ``container``."""
    scheme: str
    thing: str
    """What the messages call a stored name (``object key``, ``object name``, ``blob name``)."""
    limit: str
    """How the messages state the service's limit on a name's length."""
    not_found: str
    """What the service's answer to a read of a missing name says (quoted in the message)."""
    put: Callable[[str, bytes], None]
    get: Callable[[str], bytes]
    names: Callable[[], list[str]]
    """Every stored name, sorted."""
    modified: Callable[[str], datetime]
    """The last-modified time the service reports for a name."""
    new_handler: Callable[[], Any]
    """Makes the legacy handler of this backend on this store (which warns, as it does)."""
    built: Callable[[Any], bool]
    """Whether a Result of this backend has built its SDK client in this process."""
    reaching: Callable[[str], Any]
    """A Result of this store that sends its requests to the endpoint URL given, without retrying them."""
    explicit: dict[str, Any]
    """Keyword arguments that reach the server without the environment the fixtures set (a dask worker started
    before them), credentials included: no repr may show them."""
    options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments every Result of this store is made with (S3's ``boto3_kwargs``)."""

    def result(self, **kwargs: Any) -> Any:
        """A Result of this backend on this store."""
        return self.on(self.name, **kwargs)

    def on(self, name: str, **kwargs: Any) -> Any:
        """A Result of this backend on the store ``name`` (one that does not exist, say), with this store's options."""
        return self.result_class(**{self.kind: name}, **{**self.options, **kwargs})

    def uri(self, name: str, store: str | None = None) -> str:
        return f"{self.scheme}://{store or self.name}/{name}"

    def handler(self) -> Any:
        """The legacy handler of this backend on this store, made without its deprecation warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LegacyResultWarning)
            return self.new_handler()


def at(result: Any, name: str) -> Any:
    """A copy of ``result`` that writes to ``name``."""
    located = result.copy()
    located.location = name
    return located


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter; return its stdout, failing the test with its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def s3(request: pytest.FixtureRequest) -> Store:
    from botocore.config import Config

    from compat.legacy import S3ResultHandler

    bucket, client = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_client")
    boto3_kwargs = request.getfixturevalue("s3_boto3_kwargs")
    return Store(
        "s3", "S3", S3Result, bucket, "bucket", "s3", "object key", "S3's limit of 1024 bytes", "S3 said NoSuchKey",
        put=lambda name, data: client.put_object(Bucket=bucket, Key=name, Body=data),
        get=lambda name: client.get_object(Bucket=bucket, Key=name)["Body"].read(),
        names=lambda: sorted(obj["Key"] for obj in client.list_objects_v2(Bucket=bucket).get("Contents", [])),
        modified=lambda name: client.head_object(Bucket=bucket, Key=name)["LastModified"],
        new_handler=lambda: S3ResultHandler(bucket=bucket, boto3_kwargs=boto3_kwargs),
        built=lambda result: result._clients.built,
        reaching=lambda url: S3Result(bucket, boto3_kwargs={
            **boto3_kwargs, "endpoint_url": url, "config": Config(retries={"total_max_attempts": 1}, connect_timeout=2)
        }),
        explicit={"boto3_kwargs": boto3_kwargs},
        options={"boto3_kwargs": boto3_kwargs},
    )  # fmt: skip


def gcs(request: pytest.FixtureRequest) -> Store:
    from compat.legacy import GCSResultHandler

    from google.auth.credentials import AnonymousCredentials

    bucket, client = request.getfixturevalue("gcs_bucket"), request.getfixturevalue("gcs_client")
    endpoint = request.getfixturevalue("gcs_endpoint")
    return Store(
        "gcs", "GCS", GCSResult, bucket, "bucket", "gs", "object name", "GCS's limit of 1024 bytes", "GCS said 404",
        put=lambda name, data: client.bucket(bucket).blob(name).upload_from_string(data),
        get=lambda name: client.bucket(bucket).blob(name).download_as_bytes(),
        names=lambda: sorted(blob.name for blob in client.list_blobs(bucket)),
        modified=lambda name: client.bucket(bucket).get_blob(name).updated,
        new_handler=lambda: GCSResultHandler(bucket=bucket),
        built=lambda result: result._clients.built,
        reaching=lambda url: GCSResult(bucket, project="test", retry_deadline=0.5, client_kwargs={
            "client_options": {"api_endpoint": url}, "credentials": AnonymousCredentials()
        }),
        explicit={"project": "test", "client_kwargs": {"client_options": {"api_endpoint": endpoint},
                                                       "credentials": AnonymousCredentials()}},
    )  # fmt: skip


def azure(request: pytest.FixtureRequest) -> Store:
    from compat.legacy import AzureResultHandler
    from tests.fixtures.azure_server import connection_string

    container, service = request.getfixturevalue("azure_container"), request.getfixturevalue("azure_service")
    blobs = service.get_container_client(container)
    return Store(
        "azure", "Azure", AzureResult, container, "container", "az", "blob name", "Azure's limit of 1024 characters",
        "BlobNotFound",
        put=lambda name, data: blobs.get_blob_client(name).upload_blob(data, overwrite=True),
        get=lambda name: blobs.get_blob_client(name).download_blob().readall(),
        names=lambda: sorted(blob.name for blob in blobs.list_blobs()),
        modified=lambda name: blobs.get_blob_client(name).get_blob_properties().last_modified,
        new_handler=lambda: AzureResultHandler(container=container),
        built=lambda result: result._clients.built,
        reaching=lambda url: AzureResult(container, connection_string(url), client_kwargs={"retry_total": 0}),
        explicit={"connection_string": connection_string(request.getfixturevalue("azure_endpoint"))},
    )  # fmt: skip


def gcs_strict(request: pytest.FixtureRequest) -> Store:
    """GCS on fake-gcs-server, which enforces ``if_generation_match`` on uploads (tests/fixtures/gcs_strict_server.py):
    for the tests that need a store to refuse a conditional write (leases)."""
    from tests.fixtures.gcs_strict_server import gcs_strict_kwargs

    bucket, client = request.getfixturevalue("gcs_strict_bucket"), request.getfixturevalue("gcs_strict_client")
    kwargs = gcs_strict_kwargs(request.getfixturevalue("gcs_strict_endpoint"))

    def no_handler() -> Any:
        raise AssertionError("the legacy GCS handler finds its server by STORAGE_EMULATOR_HOST: not this one")

    return Store(
        "gcs-strict", "GCS", GCSResult, bucket, "bucket", "gs", "object name", "GCS's limit of 1024 bytes",
        "GCS said 404",
        put=lambda name, data: client.bucket(bucket).blob(name).upload_from_string(data),
        get=lambda name: client.bucket(bucket).blob(name).download_as_bytes(),
        names=lambda: sorted(blob.name for blob in client.list_blobs(bucket)),
        modified=lambda name: client.bucket(bucket).get_blob(name).updated,
        new_handler=no_handler,
        built=lambda result: result._clients.built,
        reaching=lambda url: GCSResult(bucket, retry_deadline=0.5, **gcs_strict_kwargs(url)),
        explicit=kwargs,
        options=kwargs,
    )  # fmt: skip


STORES: dict[str, Callable[[pytest.FixtureRequest], Store]] = {"azure": azure, "gcs": gcs, "s3": s3}
"""Each backend's ``Store`` factory, by test id: the ``store`` fixture runs a test on each."""

STRICT_STORES: dict[str, Callable[[pytest.FixtureRequest], Store]] = {"gcs-strict": gcs_strict}
"""Servers a test asks for by name (``parametrize("store", [...], indirect=True)``), never run by default."""
