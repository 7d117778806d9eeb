"""Targets on object stores make a flow Makefile-like across processes: a second run, in a fresh interpreter, reads
every target back instead of running the tasks (PIN 16's cross-process caching), on S3, GCS and Azure.

The fresh interpreters get the flow's Result cloudpickled (it carries no client) and find the servers through what
it holds or the environment the fixtures set (``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_CONNECTION_STRING``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import cloudpickle
import pytest

from tests.results.stores import Store

FLOW = """
import cloudpickle, json, sys
from compat import Flow, Parameter, task

@task(target="{flow_name}/{day}/extract.pkl")
def extract(day):
    return [1, 2, 3]

@task(target="{flow_name}/{day}/total.pkl")
def total(rows):
    return sum(rows)

with Flow("etl", result=cloudpickle.loads(bytes.fromhex(sys.argv[1]))) as flow:
    day = Parameter("day", default="2026-11-25")
    answer = total(extract(day))

state = flow.run()
runs = {t.name: type(s).__name__ for t, s in state.result.items() if t.name != "day"}
print(json.dumps({"states": runs, "answer": state.result[answer].result}))
"""


def run_flow_in_a_fresh_process(result: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FLOW), cloudpickle.dumps(result).hex()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_flow_with_targets_is_all_cached_when_run_again_in_a_fresh_process(store: Store) -> None:
    first = run_flow_in_a_fresh_process(store.result())
    assert first == {"states": {"extract": "Success", "total": "Success"}, "answer": 6}
    assert store.names() == [
        "etl/2026-11-25/extract.pkl", "etl/2026-11-25/extract.pkl.record.json", "etl/2026-11-25/total.pkl",
        "etl/2026-11-25/total.pkl.record.json",
    ]

    again = run_flow_in_a_fresh_process(store.result())
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
@pytest.mark.parametrize("store", ["azure", "gcs"], indirect=True)  # S3's: tests/engine/test_dask.py
def test_targets_written_by_dask_workers_are_cached_afterwards(dask_address: str, store: Store) -> None:
    # the server given explicitly: the workers may have started before the fixtures set the environment
    first, again = on_the_workers_then_cached(store.result(**store.explicit), dask_address)
    assert first.is_successful(), first.message
    assert [n for n in store.names() if "/inc-" in n] == [
        f"targets/2026-11-30/inc-{i}.pkl{suffix}" for i in range(3) for suffix in ("", ".record.json")
    ]
    assert mapped_states(again) == ["Cached", "Cached", "Cached"]
