"""``AzureResultHandler`` where the user kept azure-storage-blob 2.x, the SDK Prefect 0.13's handler was written for:
it builds ``BlockBlobService`` as 0.13 did and stores through it, on Azurite; under ``result_handler=`` it runs
itself, since Prefect 1.x's ``AzureResult`` needs the 12.x SDK.

2.x and 12.x share the import path ``azure.storage.blob``, so they cannot be installed in one environment: ``make
test`` installs 2.x in a directory of its own (``make azure-blob2``), and these tests run real processes with that
directory first on ``PYTHONPATH``, so ``azure.storage.blob`` there is 2.x over the same Prefect 1.4.1 and bridge.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from tests.fixtures.azure_server import connection_string

ROOT = Path(__file__).resolve().parents[2]
BLOB2 = ROOT / ".cache" / "azure-storage-blob-2"


@pytest.fixture(scope="module")
def blob2() -> Path:
    """The directory holding azure-storage-blob 2.x."""
    if not (BLOB2 / "azure" / "storage" / "blob").is_dir():
        message = f"azure-storage-blob 2.x is not installed in {BLOB2}: run make azure-blob2 (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return BLOB2


def run_with_sdk2(blob2: Path, code: str, **environment: str) -> str:
    """Run ``code`` in a new interpreter whose ``azure.storage.blob`` is 2.x; what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "AZURE_STORAGE_CONNECTION_STRING"}
    env.update(environment, PYTHONPATH=str(blob2), RESULTS_COMPAT_LEGACY="ignore")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def stored(azure_service: Any, container: str, uri: str) -> Any:
    """The value 0.13's format holds at ``uri``, read with the 12.x SDK of this process (base64 of a cloudpickle)."""
    text = azure_service.get_blob_client(container, uri).download_blob().readall()
    return cloudpickle.loads(base64.b64decode(text))


def test_the_subprocesses_import_the_2x_sdk(blob2: Path) -> None:
    printed = run_with_sdk2(blob2, """
        import azure.storage.blob, importlib.metadata
        print(importlib.metadata.version("azure-storage-blob"), hasattr(azure.storage.blob, "BlockBlobService"))
    """)
    assert printed.split() == ["2.1.0", "True"]


def test_handler_stores_through_block_blob_service_with_the_account_in_the_secret(
    blob2: Path, azure_endpoint: str, azure_container: str, azure_service: Any
) -> None:
    printed = run_with_sdk2(blob2, f"""
        import prefect
        from prefect.engine.result_handlers import AzureResultHandler

        handler = AzureResultHandler({azure_container!r}, azure_credentials_secret="MY_AZ")
        with prefect.context(secrets={{"MY_AZ": {connection_string(azure_endpoint)!r}}}):
            uri = handler.write({{"stored": [1, 2]}})
            assert handler.read(uri) == {{"stored": [1, 2]}}
        print(type(handler.service).__name__, uri)
    """)
    service, uri = printed.split()
    assert service == "BlockBlobService"
    assert stored(azure_service, azure_container, uri) == {"stored": [1, 2]}


def test_handler_stores_through_block_blob_service_with_a_connection_string(
    blob2: Path, azure_endpoint: str, azure_container: str, azure_service: Any
) -> None:
    printed = run_with_sdk2(blob2, f"""
        from prefect.engine.result_handlers import AzureResultHandler

        handler = AzureResultHandler({azure_container!r})  # AZURE_STORAGE_CONNECTION_STRING, as in 0.13
        print(type(handler.service).__name__, handler.write("direct"))
    """, AZURE_STORAGE_CONNECTION_STRING=connection_string(azure_endpoint))
    service, uri = printed.split()
    assert service == "BlockBlobService"
    assert stored(azure_service, azure_container, uri) == "direct"


def test_a_task_checkpoints_through_the_handler_itself_on_the_2x_sdk(
    blob2: Path, azure_endpoint: str, azure_container: str, azure_service: Any
) -> None:
    printed = run_with_sdk2(blob2, f"""
        from prefect import Flow, task
        from prefect.engine.result_handlers import AzureResultHandler
        from prefect.utilities.configuration import set_temporary_config

        @task(result_handler=AzureResultHandler({azure_container!r}))
        def produce():
            return 42

        with Flow("azure 2.x") as flow:
            produced = produce()
        with set_temporary_config({{"flows.checkpointing": True, "logging.level": "WARNING"}}):
            state = flow.run()
        assert state.is_successful(), state.result[produced].message
        print(type(produce.result).__name__, state.result[produced]._result.location)
    """, AZURE_STORAGE_CONNECTION_STRING=connection_string(azure_endpoint))
    result, location = printed.splitlines()[-1].split()
    assert result == "ResultHandlerResult"
    assert stored(azure_service, azure_container, location) == 42


def test_a_secret_without_a_credential_is_a_configuration_error_on_the_2x_sdk_too(blob2: Path) -> None:
    printed = run_with_sdk2(blob2, """
        import prefect
        from compat.errors import ConfigurationError
        from prefect.engine.result_handlers import AzureResultHandler

        with prefect.context(secrets={"MY_AZ": {"ACCOUNT_NAME": "myaccount"}}):
            try:
                AzureResultHandler("results", azure_credentials_secret="MY_AZ").initialize_service()
            except ConfigurationError as error:
                print(error)
    """)
    assert "'MY_AZ' that azure_credentials_secret= names needs ACCOUNT_NAME and ACCOUNT_KEY or SAS_TOKEN" in printed
