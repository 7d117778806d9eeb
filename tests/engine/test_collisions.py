"""A mapped task whose target has no per-child field is refused before anything runs (children would collide)."""

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
    assert len(list(tmp_path.iterdir())) == 3


def test_a_callable_target_cannot_be_checked_and_is_allowed(tmp_path: Path, calls: Counter[str]) -> None:
    def where(**context: Any) -> str:
        return f"square-{context['map_index']}.pkl"

    assert mapped_flow(tmp_path, calls, target=where).run().is_successful()


def test_a_mapped_task_without_a_location_is_allowed(tmp_path: Path, calls: Counter[str]) -> None:
    assert mapped_flow(tmp_path, calls, target=None).run().is_successful()
