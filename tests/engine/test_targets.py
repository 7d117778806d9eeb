"""Targets (PIN 16's Makefile-like semantics): an existing, valid target is read instead of running the task."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from compat import Cached, Failed, Flow, LocalResult, MemoryResult, StorageError, Success, task
from tests.engine.lookups import LookUpCounting


def counted_flow(tmp_path: Path, calls: Counter[str], **task_kwargs: object) -> tuple[Flow, object]:
    @task(target="out/{task_name}.pkl", **task_kwargs)  # type: ignore[arg-type]
    def extract() -> list[int]:
        calls["extract"] += 1
        return [1, 2, 3]

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = extract()
    return flow, node


def test_a_missing_target_runs_the_task_and_writes_the_target(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = counted_flow(tmp_path, calls)
    state = flow.run().result[node]
    assert type(state) is Success and calls["extract"] == 1
    assert state.location == str(tmp_path / "out" / "extract.pkl")
    assert LocalResult(dir=tmp_path).read("out/extract.pkl").value == [1, 2, 3]


def test_an_existing_target_is_read_and_the_task_does_not_run(tmp_path: Path, calls: Counter[str]) -> None:
    LocalResult(dir=tmp_path, location="out/extract.pkl").write(["stored"])
    flow, node = counted_flow(tmp_path, calls)
    state = flow.run().result[node]
    assert isinstance(state, Cached) and state.result == ["stored"] and calls["extract"] == 0
    assert state.location == str(tmp_path / "out" / "extract.pkl")
    assert state.message == "target 'out/extract.pkl' exists and is valid"


def test_a_second_run_in_the_same_process_is_cached(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = counted_flow(tmp_path, calls)
    flow.run()
    second = flow.run().result[node]
    assert isinstance(second, Cached) and second.result == [1, 2, 3] and calls["extract"] == 1


def test_target_overrides_the_location_of_the_task_result(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=tmp_path, location="ignored.pkl"), target="chosen-{x}.pkl")
    def make(x: int) -> int:
        return x

    with Flow("f") as flow:
        node = make(4)
    assert flow.run().result[node].location == str(tmp_path / "chosen-4.pkl")


def test_a_callable_target_is_called_with_the_context(tmp_path: Path) -> None:
    def where(**context: object) -> str:
        return f"{context['flow_name']}/{context['x'] * 2}.pkl"

    @task(target=where)
    def make(x: int) -> int:
        return x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = make(4)
    assert flow.run().result[node].location == str(tmp_path / "f" / "8.pkl")


def test_a_location_template_on_the_result_acts_as_a_target(calls: Counter[str]) -> None:
    @task
    def make() -> int:
        calls["make"] += 1
        return 1

    with Flow("f", result=MemoryResult(location="{flow_name}-{task_name}")) as flow:
        node = make()
    flow.run()
    assert isinstance(flow.run().result[node], Cached) and calls["make"] == 1


def test_a_result_without_a_location_writes_a_new_name_each_run_and_never_hits(calls: Counter[str]) -> None:
    @task(result=MemoryResult())
    def make() -> int:
        calls["make"] += 1
        return 1

    with Flow("f") as flow:
        node = make()
    first, second = flow.run().result[node], flow.run().result[node]
    assert calls["make"] == 2 and first.location != second.location


def test_a_corrupt_target_is_rerun_and_its_bytes_are_kept_aside_with_a_warning_naming_the_kept_file(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "extract.pkl").write_bytes(b"not a pickle")
    flow, node = counted_flow(tmp_path, calls)
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[node]
    assert type(state) is Success and calls["extract"] == 1
    assert LocalResult(dir=tmp_path).read("out/extract.pkl").value == [1, 2, 3]
    (kept,) = (tmp_path / "out").glob("extract.pkl.unreadable-*")
    assert kept.read_bytes() == b"not a pickle"
    first, second = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "cannot be read" in first and "move it aside" in first
    assert str(kept) in second


def test_a_target_that_fails_validation_is_rerun_and_overwritten_with_a_warning(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    LocalResult(dir=tmp_path, location="out/extract.pkl").write([])

    def non_empty(rows: list[int]) -> bool:
        return len(rows) > 0

    flow, node = counted_flow(tmp_path, calls, validators=[non_empty])
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[node]
    assert type(state) is Success and state.result == [1, 2, 3] and calls["extract"] == 1
    assert LocalResult(dir=tmp_path).read("out/extract.pkl").value == [1, 2, 3]
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "fails validation: validator" in warning.getMessage() and "non_empty" in warning.getMessage()


class UnreachableStore(MemoryResult):
    """A backend whose storage is down: checking for a stored value fails with a StorageError."""

    def exists_at(self, location: str) -> bool:
        raise StorageError(f"storage unreachable while checking {location!r}")


def test_a_storage_error_while_checking_the_target_fails_the_task_without_running_it(calls: Counter[str]) -> None:
    @task(result=UnreachableStore(), target="t")
    def make() -> int:
        calls["make"] += 1
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Failed) and isinstance(state.exception, StorageError) and calls["make"] == 0
    assert state.message == "cannot check the target 't': storage unreachable while checking 't'"


def test_a_target_without_any_result_is_stored_as_a_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_HOME", str(tmp_path))

    @task(target="t.pkl")
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    assert flow.run().result[node].location == str(tmp_path / "results" / "t.pkl")


FRESH_PROCESS_FLOW = """
import sys
from collections import Counter
from compat import Flow, LocalResult, Parameter, task

ran = Counter()

@task(target="{{flow_name}}/{{task_name}}-{{n}}.pkl")
def extract(n):
    ran["extract"] += 1
    return list(range(n))

@task(target="{{flow_name}}/{{task_name}}-{{n}}.pkl")
def total(rows, n):
    ran["total"] += 1
    return sum(rows)

with Flow("fresh", result=LocalResult(dir={directory!r})) as flow:
    n = Parameter("n", default=4)
    rows = extract(n)
    answer = total(rows, n)

state = flow.run()
for node in (rows, answer):
    print(node.name, type(state.result[node]).__name__, state.result[node].result, ran[node.name])
"""


def run_script(script: Path) -> list[str]:
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=os.environ)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.slow
def test_the_same_flow_in_a_fresh_python_process_is_all_cached(tmp_path: Path) -> None:
    script = tmp_path / "flow_script.py"
    script.write_text(textwrap.dedent(FRESH_PROCESS_FLOW.format(directory=str(tmp_path / "results"))))
    first = run_script(script)
    second = run_script(script)
    assert first == ["extract Success [0, 1, 2, 3] 1", "total Success 6 1"]
    assert second == ["extract Cached [0, 1, 2, 3] 0", "total Cached 6 0"]


class VanishingStore(MemoryResult):
    """A target deleted between the existence check and the read (another process cleaned it up)."""

    def exists_at(self, location: str) -> bool:
        return True


def test_a_target_that_vanishes_before_it_is_read_runs_the_task(
    calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    @task(result=VanishingStore(), target="gone")
    def make() -> int:
        calls["make"] += 1
        return 1

    with Flow("f") as flow:
        node = make()
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        state = flow.run().result[node]
    assert type(state) is Success and calls["make"] == 1
    assert "Running: the target at 'gone' disappeared before it could be read" in caplog.text


def test_with_run_validators_false_a_stored_target_is_trusted_unvalidated(calls: Counter[str]) -> None:
    MemoryResult(location="t").write(-5)

    @task(result=MemoryResult(run_validators=False), target="t", validators=[lambda value: value > 0])
    def make() -> int:
        calls["make"] += 1
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Cached) and state.result == -5 and calls["make"] == 0


def test_a_target_the_result_cannot_store_at_logs_why_with_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    from compat import JSONResult

    @task(target="{task_name}.json", result=JSONResult())
    def make() -> dict[str, int]:
        return {"x": 1}

    with Flow("f") as flow:
        node = make()
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        assert type(flow.run().result[node]) is Success
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    text = record.getMessage()
    assert "its target is 'make.json', but JSONResult stored the output at '{\"x\": 1}'" in text
    assert "can never be found" in text and "LocalResult(serializer=JSONSerializer())" in text


def test_a_target_that_is_written_where_asked_logs_no_warning(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    flow, _ = counted_flow(tmp_path, calls)
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        flow.run()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_foreign_csv_at_a_target_is_kept_aside_with_its_mode_not_overwritten(
    tmp_path: Path, calls: Counter[str]
) -> None:
    (tmp_path / "out").mkdir()
    csv = tmp_path / "out" / "extract.pkl"
    csv.write_text("id,amount\n1,9.50\n")
    os.chmod(csv, 0o640)
    flow, node = counted_flow(tmp_path, calls)
    state = flow.run().result[node]
    assert type(state) is Success and calls["extract"] == 1
    (kept,) = (tmp_path / "out").glob("extract.pkl.unreadable-*")
    assert kept.read_text() == "id,amount\n1,9.50\n"
    assert kept.stat().st_mode & 0o777 == 0o640


def test_a_pickle_whose_class_no_longer_imports_is_kept_aside(tmp_path: Path, calls: Counter[str]) -> None:
    script = textwrap.dedent(
        f"""
        import pickle, sys, types
        module = types.ModuleType("gone_module")  # pickled by reference, as an installed package's class is
        exec("class Row:\\n    pass", module.__dict__)
        sys.modules["gone_module"] = module
        (open({str(tmp_path / "out" / "extract.pkl")!r}, "wb")).write(pickle.dumps(module.Row()))
        """
    )
    (tmp_path / "out").mkdir()
    subprocess.run([sys.executable, "-c", script], check=True)
    flow, node = counted_flow(tmp_path, calls)
    state = flow.run().result[node]
    assert type(state) is Success and state.result == [1, 2, 3]
    (kept,) = (tmp_path / "out").glob("extract.pkl.unreadable-*")
    assert b"gone_module" in kept.read_bytes()




def test_a_run_looks_a_missing_target_up_once_before_running_the_task() -> None:
    before_running: list[list[tuple[str, str]]] = []

    @task(target="once-{x}.pkl")
    def make(x: int) -> int:
        before_running.append(list(LookUpCounting.asked))
        return x

    LookUpCounting.asked = []
    with Flow("once", result=LookUpCounting()) as flow:
        make(1)
    assert flow.run().is_successful()
    assert before_running == [[("exists", "once-1.pkl")]]
