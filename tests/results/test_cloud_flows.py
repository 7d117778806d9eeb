"""Targets on GCS and Azure make a flow Makefile-like across processes: a second run, in a fresh interpreter, reads
every target back instead of running the tasks (PIN 16's cross-process caching), as test_s3_flow.py shows for S3.

The fresh interpreters find the emulators through the environment the fixtures set (``STORAGE_EMULATOR_HOST``,
``AZURE_STORAGE_CONNECTION_STRING``); the bucket or container is their argument.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

FLOW = """
import json, sys
from compat import Flow, Parameter, task
from compat.results import {result_class}

@task(target="{{flow_name}}/{{day}}/extract.pkl")
def extract(day):
    return [1, 2, 3]

@task(target="{{flow_name}}/{{day}}/total.pkl")
def total(rows):
    return sum(rows)

with Flow("etl", result={result_class}(*json.loads(sys.argv[1]))) as flow:
    day = Parameter("day", default="2026-11-25")
    answer = total(extract(day))

state = flow.run()
runs = {{t.name: type(s).__name__ for t, s in state.result.items() if t.name != "day"}}
print(json.dumps({{"states": runs, "answer": state.result[answer].result}}))
"""


def run_flow_in_a_fresh_process(result_class: str, arguments: list[Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FLOW.format(result_class=result_class)), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.slow
def test_flow_with_targets_on_gcs_is_all_cached_when_run_again_in_a_fresh_process(
    gcs_bucket: str, gcs_client: Any
) -> None:
    first = run_flow_in_a_fresh_process("GCSResult", [gcs_bucket])
    assert first == {"states": {"extract": "Success", "total": "Success"}, "answer": 6}
    names = sorted(blob.name for blob in gcs_client.list_blobs(gcs_bucket))
    assert names == ["etl/2026-11-25/extract.pkl", "etl/2026-11-25/total.pkl"]

    again = run_flow_in_a_fresh_process("GCSResult", [gcs_bucket])
    assert again == {"states": {"extract": "Cached", "total": "Cached"}, "answer": 6}


@pytest.mark.slow
def test_flow_with_targets_on_azure_is_all_cached_when_run_again_in_a_fresh_process(
    azure_container: str, azure_service: Any
) -> None:
    first = run_flow_in_a_fresh_process("AzureResult", [azure_container])
    assert first == {"states": {"extract": "Success", "total": "Success"}, "answer": 6}
    names = sorted(blob.name for blob in azure_service.get_container_client(azure_container).list_blobs())
    assert names == ["etl/2026-11-25/extract.pkl", "etl/2026-11-25/total.pkl"]

    again = run_flow_in_a_fresh_process("AzureResult", [azure_container])
    assert again == {"states": {"extract": "Cached", "total": "Cached"}, "answer": 6}


# -- on dask workers: each worker process builds its own client from the pickled Result ---------------------------


def on_the_workers_then_cached(result: Any, dask_address: str) -> tuple[Any, Any]:
    """Run the dask tests' flow of mapped targets on the session's cluster, then again in this process."""
    from compat import DaskExecutor
    from tests.engine.test_dask import target_flow

    first = target_flow(result).run(executor=DaskExecutor(address=dask_address))
    again = target_flow(result).run()
    return first, again


def mapped_states(state: Any) -> list[str]:
    (mapped,) = [s for t, s in state.result.items() if t.name == "stored_inc"]
    return [type(child).__name__ for child in mapped.map_states]


@pytest.mark.slow
def test_targets_on_azure_written_by_dask_workers_are_cached_afterwards(
    dask_address: str, azure_endpoint: str, azure_container: str, azure_service: Any
) -> None:
    from compat import AzureResult
    from tests.fixtures.azure_server import connection_string

    # given explicitly: the workers may have started before the fixtures set the environment
    result = AzureResult(container=azure_container, connection_string=connection_string(azure_endpoint))
    first, again = on_the_workers_then_cached(result, dask_address)
    assert first.is_successful(), first.message
    names = sorted(blob.name for blob in azure_service.get_container_client(azure_container).list_blobs())
    assert [n for n in names if "/inc-" in n] == [f"targets/2026-11-30/inc-{i}.pkl" for i in range(3)]
    assert mapped_states(again) == ["Cached", "Cached", "Cached"]


@pytest.mark.slow
def test_targets_on_gcs_written_by_dask_workers_are_cached_afterwards(
    dask_address: str, gcs_endpoint: str, gcs_bucket: str, gcs_client: Any
) -> None:
    from google.auth.credentials import AnonymousCredentials

    from compat import GCSResult

    # given explicitly: the workers may have started before the fixtures set the environment
    client_kwargs = {"client_options": {"api_endpoint": gcs_endpoint}, "credentials": AnonymousCredentials()}
    result = GCSResult(bucket=gcs_bucket, project="test", client_kwargs=client_kwargs)
    first, again = on_the_workers_then_cached(result, dask_address)
    assert first.is_successful(), first.message
    names = sorted(blob.name for blob in gcs_client.list_blobs(gcs_bucket))
    assert [n for n in names if "/inc-" in n] == [f"targets/2026-11-30/inc-{i}.pkl" for i in range(3)]
    assert mapped_states(again) == ["Cached", "Cached", "Cached"]
