"""A flow written the 0.10 way runs unchanged: result_handler= on flows and tasks, the built-in handlers, a user's
own ResultHandler subclass, task.result_handler = ... , and targets through a custom handler."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from compat import Flow, LocalResult, Task, task
from compat.legacy import LocalResultHandler
from tests.compat.handlers import DictHandler, DirectoryHandler

pytestmark = pytest.mark.usefixtures("quiet")


def build_legacy_flow(directory: Path, calls: Counter[str], store: dict[str, Any]) -> tuple[Flow, Task, Task, Task]:
    """extract -> total -> report, configured only through legacy handlers, as a 0.10 user wrote it."""

    @task(checkpoint=True, result_handler=LocalResultHandler(dir=directory / "extract"))
    def extract():
        calls["extract"] += 1
        return [1, 2, 3]

    @task(result_handler=DictHandler(store))
    def total(rows):
        calls["total"] += 1
        return sum(rows)

    @task
    def report(amount):
        calls["report"] += 1
        return f"total={amount}"

    with Flow("legacy", result_handler=LocalResultHandler(dir=directory / "default")) as flow:
        rows = extract()
        answer = total(rows)
        line = report(answer)
    return flow, rows, answer, line


def test_a_legacy_flow_runs_and_returns_the_same_values(tmp_path: Path) -> None:
    flow, rows, answer, line = build_legacy_flow(tmp_path, Counter(), {})
    state = flow.run()
    assert state.is_successful()
    assert [state.result[t].result for t in (rows, answer, line)] == [[1, 2, 3], 6, "total=6"]


def test_a_legacy_flow_stores_each_value_where_its_handler_says(tmp_path: Path) -> None:
    store: dict[str, Any] = {}
    flow, rows, answer, line = build_legacy_flow(tmp_path, Counter(), store)
    state = flow.run()
    extract_file = state.result[rows].location
    assert os.path.dirname(extract_file) == str(tmp_path / "extract")
    assert LocalResultHandler(dir=tmp_path / "extract").read(extract_file) == [1, 2, 3]
    assert store[state.result[answer].location] == 6
    assert os.path.dirname(state.result[line].location) == str(tmp_path / "default")  # the flow's default


def test_a_legacy_flow_survives_cloudpickle_and_runs_after_it(tmp_path: Path) -> None:
    flow, rows, answer, line = build_legacy_flow(tmp_path, Counter(), {})
    clone = cloudpickle.loads(cloudpickle.dumps(flow))
    state = clone.run()
    assert state.is_successful()
    assert {t.name: s.result for t, s in state.result.items()} == {"extract": [1, 2, 3], "total": 6, "report": "total=6"}


def test_assigning_task_result_handler_before_building_the_flow_is_used(tmp_path: Path) -> None:
    store: dict[str, Any] = {}

    @task
    def produce():
        return "value"

    produce.result_handler = DictHandler(store)
    with Flow("assigned") as flow:
        produced = produce()
    state = flow.run()
    assert store[state.result[produced].location] == "value"


def test_a_target_through_a_custom_dict_handler_is_cached_on_the_second_run() -> None:
    calls: Counter[str] = Counter()
    store: dict[str, Any] = {}

    @task(target="{task_name}", result_handler=DictHandler(store, key="produce"))
    def produce():
        calls["produce"] += 1
        return {"rows": 3}

    with Flow("targets") as flow:
        produced = produce()
    first, second = flow.run(), flow.run()
    assert not first.result[produced].is_cached() and second.result[produced].is_cached()
    assert second.result[produced].result == {"rows": 3} and calls["produce"] == 1


def test_a_target_through_a_custom_directory_handler_is_cached_on_the_second_run(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()

    @task(target=str(tmp_path / "out.pkl"), result_handler=DirectoryHandler(tmp_path, name="out.pkl"))
    def produce():
        calls["produce"] += 1
        return [4, 5]

    with Flow("targets") as flow:
        produced = produce()
    flow.run()
    second = flow.run()
    assert second.result[produced].is_cached() and second.result[produced].result == [4, 5]
    assert calls["produce"] == 1


def test_a_target_a_custom_handler_cannot_hit_reruns_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    calls: Counter[str] = Counter()

    @task(target="{task_name}.pkl", result_handler=DictHandler({}))
    def produce():
        calls["produce"] += 1
        return 1

    with Flow("targets") as flow:
        produce()
    flow.run()
    flow.run()
    assert calls["produce"] == 2
    assert any("can never be found" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_new_local_result_reads_what_the_legacy_flow_stored(tmp_path: Path) -> None:
    flow, rows, answer, line = build_legacy_flow(tmp_path, Counter(), {})
    state = flow.run()
    assert LocalResult(dir=tmp_path).read(state.result[rows].location).value == [1, 2, 3]


WORKER_SENDS = """\
import sys, cloudpickle
from compat import Flow, task
from compat.legacy import ResultHandler

class MainHandler(ResultHandler):  # defined in __main__: cloudpickle ships the class by value
    store = {}
    def write(self, result):
        self.store["k"] = result
        return "k"
    def read(self, uri):
        return self.store[uri]

@task(result_handler=MainHandler())
def produce():
    return 41 + 1

with Flow("shipped") as flow:
    produce()
sys.stdout.buffer.write(cloudpickle.dumps(flow))
"""

WORKER_RUNS = """\
import sys, cloudpickle
flow = cloudpickle.loads(sys.stdin.buffer.read())
state = flow.run()
print([s.result for s in state.result.values()], type(next(iter(flow.tasks)).result).__name__)
"""


def test_a_legacy_flow_shipped_to_a_worker_runs_there_even_when_legacy_warnings_are_errors() -> None:
    sent = subprocess.run([sys.executable, "-c", WORKER_SENDS], capture_output=True, timeout=60, check=True).stdout
    env = {**os.environ, "RESULTS_COMPAT_LEGACY": "error"}
    ran = subprocess.run(
        [sys.executable, "-c", WORKER_RUNS], input=sent, capture_output=True, timeout=60, env=env
    )
    assert ran.returncode == 0, ran.stderr.decode()
    assert ran.stdout.decode().split() == ["[42]", "ResultHandlerResult"]
