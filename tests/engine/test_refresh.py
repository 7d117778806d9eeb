"""flow.run(refresh=...): ignore stored outputs of some tasks (and everything downstream), rerun and overwrite."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from compat import ArgumentTypeError, Cached, Flow, LocalResult, MemoryResult, S3Result, Success, task


def three_targets(tmp_path: Path, calls: Counter[str], version: list[int]) -> tuple[Flow, object, object, object]:
    """extract -> transform -> load, each with a target; the values carry ``version[0]`` so reruns show."""

    @task(target="extract.pkl")
    def extract() -> int:
        calls["extract"] += 1
        return version[0]

    @task(target="transform.pkl")
    def transform(x: int) -> int:
        calls["transform"] += 1
        return x * 10 + version[0]

    @task(target="load.pkl")
    def load(x: int) -> int:
        calls["load"] += 1
        return x * 10 + version[0]

    with Flow("etl", result=LocalResult(dir=tmp_path)) as flow:
        e = extract()
        t = transform(e)
        lo = load(t)
    return flow, e, t, lo


def test_refreshing_a_task_reruns_it_and_everything_downstream_and_overwrites_their_outputs(
    tmp_path: Path, calls: Counter[str]
) -> None:
    version = [1]
    flow, e, t, lo = three_targets(tmp_path, calls, version)
    flow.run()
    version[0] = 2
    states = flow.run(refresh=t).result
    assert isinstance(states[e], Cached) and type(states[t]) is Success and type(states[lo]) is Success
    assert (states[t].result, states[lo].result) == (12, 122)
    assert LocalResult(dir=tmp_path).read("load.pkl").value == 122
    assert calls == Counter({"extract": 1, "transform": 2, "load": 2})


def test_refresh_accepts_task_names(tmp_path: Path, calls: Counter[str]) -> None:
    flow, e, t, lo = three_targets(tmp_path, calls, [1])
    flow.run()
    states = flow.run(refresh=["load"]).result
    assert [type(states[node]).__name__ for node in (e, t, lo)] == ["Cached", "Cached", "Success"]


def test_refresh_true_reruns_every_task(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    flow.run()
    assert flow.run(refresh=True).message == "all 3 tasks succeeded (0 Cached)"
    assert calls == Counter({"extract": 2, "transform": 2, "load": 2})


def test_refresh_ignores_a_fresh_cache() -> None:
    runs = []

    @task(result=MemoryResult(location="cached.pkl"), cache_for=timedelta(hours=1))
    def cached() -> int:
        runs.append(1)
        return len(runs)

    with Flow("f") as flow:
        node = cached()
    flow.run()
    assert flow.run(refresh=[node]).result[node].result == 2
    assert isinstance(flow.run().result[node], Cached)


def test_a_refreshed_mapped_task_reruns_every_child(tmp_path: Path, calls: Counter[str]) -> None:
    @task(target="{task_name}-{map_index}.pkl")
    def square(x: int) -> int:
        calls["square"] += 1
        return x * x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = square.map([1, 2, 3])
    flow.run()
    state = flow.run(refresh="square").result[node]
    assert [type(child).__name__ for child in state.map_states or []] == ["Success"] * 3
    assert calls["square"] == 6


def test_the_plan_says_which_tasks_a_refresh_reruns_and_why(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    flow.run()
    plan = flow.plan(refresh="transform")
    assert [step.action for step in plan] == ["cached", "run", "run"]
    assert plan["transform"].reason == "refreshed: refresh= names it, so its stored output is ignored and overwritten"
    assert plan["load"].reason == "refreshed: it is downstream of the refreshed task 'transform', so its inputs may change"
    assert plan["load"].location == str(tmp_path / "load.pkl")


def test_an_unknown_name_is_a_value_error_listing_the_flow_tasks(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    with pytest.raises(ValueError, match="no task named 'lod'; its tasks: 'extract', 'load', 'transform'"):
        flow.run(refresh="lod")
    assert calls == Counter(), "nothing runs when refresh= is wrong"


def test_a_task_of_another_flow_is_a_value_error(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    _, e, _, _ = three_targets(tmp_path, calls, [1])
    with pytest.raises(ValueError, match="task 'extract' is not in flow 'etl'"):
        flow.run(refresh=[e])


def test_refresh_of_the_wrong_type_is_a_type_error(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    with pytest.raises(ArgumentTypeError) as raised:
        flow.run(refresh=[3])  # type: ignore[list-item]
    assert str(raised.value) == "each of refresh must be a task or a task name, not int (3)"


def test_refresh_of_an_int_is_a_type_error_naming_it(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    with pytest.raises(ArgumentTypeError) as raised:
        flow.run(refresh=5)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "refresh must be True, a task, a task name, or a list of tasks and task names, not int (5)"
    )


def test_refresh_of_bytes_is_a_type_error_naming_the_bytes(tmp_path: Path, calls: Counter[str]) -> None:
    flow, *_ = three_targets(tmp_path, calls, [1])
    with pytest.raises(ArgumentTypeError, match=r"^refresh must be .*, not bytes \(b'load'\)$"):
        flow.plan(refresh=b"load")  # type: ignore[arg-type]


def write_once_chain(bucket: str, boto3_kwargs: dict[str, Any], calls: Counter[str]) -> tuple[Flow, object, object]:
    """once (a write-once S3Result target) -> report (a MemoryResult target); values count the runs."""
    once_result = S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs, overwrite=False)

    @task(result=once_result, target="once.pkl")
    def once() -> int:
        calls["once"] += 1
        return calls["once"]

    @task(result=MemoryResult(), target="report.pkl")
    def report(x: int) -> int:
        calls["report"] += 1
        return x * 10

    with Flow("f") as flow:
        o = once()
        r = report(o)
    return flow, o, r


def test_the_plan_of_a_refresh_keeps_a_stored_write_once_output_cached_and_says_why(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], calls: Counter[str]
) -> None:
    flow, o, _ = write_once_chain(s3_bucket, s3_boto3_kwargs, calls)
    flow.run()
    step = flow.plan(refresh=True)[o]
    assert step.action == "cached"
    assert step.reason.startswith("not refreshed: its S3Result is write-once (overwrite=False), so its stored output "
                                  "stands; target 'once.pkl' exists")


def test_a_refresh_reads_a_stored_write_once_output_instead_of_running_the_task(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], calls: Counter[str]
) -> None:
    flow, o, r = write_once_chain(s3_bucket, s3_boto3_kwargs, calls)
    flow.run()
    states = flow.run(refresh=True).result
    assert isinstance(states[o], Cached) and states[o].result == 1
    assert type(states[r]) is Success and states[r].result == 10
    assert calls == Counter({"once": 1, "report": 2})


def test_refreshing_only_a_write_once_task_refreshes_nothing_downstream(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], calls: Counter[str]
) -> None:
    flow, o, r = write_once_chain(s3_bucket, s3_boto3_kwargs, calls)
    flow.run()
    assert [step.action for step in flow.plan(refresh=o)] == ["cached", "cached"]
    assert flow.run(refresh=o).message == "all 2 tasks succeeded (2 Cached)"


def test_a_refresh_that_reaches_a_write_once_task_warns_that_its_output_stands(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    flow, *_ = write_once_chain(s3_bucket, s3_boto3_kwargs, calls)
    with caplog.at_level(logging.WARNING, logger="compat.engine.plan"):
        flow.plan(refresh="once")
    assert caplog.messages == [
        "refresh: task 'once' is not refreshed: a write-once S3Result (overwrite=False) cannot replace a stored "
        "output, so it stands and is read as without refresh=; to rerun, use overwrite=True or delete the stored "
        "output"
    ]
