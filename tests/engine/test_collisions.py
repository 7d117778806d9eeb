"""Colliding targets are refused before anything runs: a mapped task whose target has no per-child field (its
children would collide), and two tasks whose templates render alike in one store (one would read the other's output)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from compat import Flow, FlowError, LocalResult, task, unmapped


def mapped_flow(tmp_path: Path, calls: Counter[str], target: Any, result: LocalResult | None = None) -> Flow:
    @task(checkpoint=False)
    def first() -> int:
        calls["first"] += 1
        return 1

    @task(target=target)
    def square(x: int, offset: int) -> int:
        calls["square"] += 1
        return x * x + offset

    with Flow("f", result=result or LocalResult(dir=tmp_path)) as flow:
        square.map([1, 2, 3], offset=unmapped(first()))
    return flow


@pytest.mark.parametrize("method", ["run", "plan"])
def test_a_mapped_target_without_a_per_child_field_is_refused_before_anything_runs(
    tmp_path: Path, calls: Counter[str], method: str
) -> None:
    flow = mapped_flow(tmp_path, calls, target="{task_name}.pkl")
    with pytest.raises(FlowError) as raised:
        getattr(flow, method)()
    message = str(raised.value)
    assert "task 'square' is mapped, but its target '{task_name}.pkl' has no per-child field" in message
    assert "add {map_index} (e.g. '{task_name}-{map_index}.pkl')" in message and "a mapped input ({x})" in message
    assert calls == Counter() and list(tmp_path.iterdir()) == []


def test_a_flow_default_location_template_is_checked_too(tmp_path: Path, calls: Counter[str]) -> None:
    flow = mapped_flow(tmp_path, calls, target=None, result=LocalResult(dir=tmp_path, location="{task_name}.pkl"))
    with pytest.raises(FlowError, match="its Result's location template '{task_name}.pkl' has no per-child field"):
        flow.run()


@pytest.mark.parametrize(
    "target",
    ["{task_name}-{map_index}.pkl", "{task_full_name}.pkl", "{task_name}-{x}.pkl", "{task_run_id}.pkl"],
)
def test_a_mapped_target_with_a_per_child_field_runs(tmp_path: Path, calls: Counter[str], target: str) -> None:
    state = mapped_flow(tmp_path, calls, target=target).run()
    assert state.is_successful() and calls["square"] == 3
    assert len([p for p in tmp_path.iterdir() if not p.name.endswith(".record.json")]) == 3


def test_a_callable_target_cannot_be_checked_and_is_allowed(tmp_path: Path, calls: Counter[str]) -> None:
    def where(**context: Any) -> str:
        return f"square-{context['map_index']}.pkl"

    assert mapped_flow(tmp_path, calls, target=where).run().is_successful()


def test_a_mapped_task_without_a_location_is_allowed(tmp_path: Path, calls: Counter[str]) -> None:
    assert mapped_flow(tmp_path, calls, target=None).run().is_successful()


def two_tasks_flow(tmp_path: Path, calls: Counter[str], first: Any, second: Any, **results: Any) -> Flow:
    @task(target=first, result=results.get("first_result"))
    def extract() -> str:
        calls["extract"] += 1
        return "extracted"

    @task(target=second, result=results.get("second_result"))
    def report() -> str:
        calls["report"] += 1
        return "report"

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        extract()
        report()
    return flow


@pytest.mark.parametrize("method", ["run", "plan"])
def test_two_tasks_with_the_same_target_are_refused_before_anything_runs_naming_both_and_the_template(
    tmp_path: Path, calls: Counter[str], method: str
) -> None:
    flow = two_tasks_flow(tmp_path, calls, "out-{today}.pkl", "out-{today}.pkl")
    with pytest.raises(FlowError) as raised:
        getattr(flow, method)()
    assert "tasks 'extract' and 'report' both store their output at the target 'out-{today}.pkl'" in str(raised.value)
    assert calls == Counter() and list(tmp_path.iterdir()) == []


def test_a_flow_default_template_without_the_task_name_is_refused_for_two_tasks(tmp_path: Path) -> None:
    @task
    def one() -> int:
        return 1

    @task
    def two() -> int:
        return 2

    with Flow("f", result=LocalResult(dir=tmp_path, location="{flow_name}.pkl")) as flow:
        one()
        two()
    with pytest.raises(FlowError, match="tasks 'one' and 'two' both store their output at the Result's location "
                                        "template '{flow_name}.pkl'"):
        flow.run()


def test_one_task_called_twice_with_a_target_naming_only_the_task_name_is_refused(tmp_path: Path) -> None:
    @task(target="{task_name}.pkl")
    def inc(x: int) -> int:
        return x + 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        inc(1)
        inc(2)
    with pytest.raises(FlowError, match="tasks 'inc' and 'inc' both store their output at the target"):
        flow.run()


@pytest.mark.parametrize("template", ["{task_name}.pkl", "{task_full_name}.pkl", "{task_run_id}.pkl"])
def test_two_tasks_whose_template_names_a_field_that_differs_between_them_run(
    tmp_path: Path, calls: Counter[str], template: str
) -> None:
    assert two_tasks_flow(tmp_path, calls, template, template).run().is_successful()
    assert calls == Counter(extract=1, report=1)


def test_one_task_called_twice_with_a_target_naming_its_input_runs(tmp_path: Path) -> None:
    @task(target="{task_name}-{x}.pkl")
    def inc(x: int) -> int:
        return x + 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        one, two = inc(1), inc(2)
    states = flow.run().result
    assert (states[one].result, states[two].result) == (2, 3)


def test_the_same_target_in_two_different_directories_runs(tmp_path: Path, calls: Counter[str]) -> None:
    flow = two_tasks_flow(tmp_path, calls, "out.pkl", "out.pkl", first_result=LocalResult(dir=tmp_path / "a"),
                          second_result=LocalResult(dir=tmp_path / "b"))
    assert flow.run().is_successful() and calls == Counter(extract=1, report=1)


def test_two_callable_targets_cannot_be_compared_and_are_allowed(tmp_path: Path, calls: Counter[str]) -> None:
    def where(**context: Any) -> str:
        return f"{context['task_name']}.pkl"

    assert two_tasks_flow(tmp_path, calls, where, where).run().is_successful()
