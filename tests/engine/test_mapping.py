"""Mapped tasks: one child run per element, with map_index; one target per child; children cached one by one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from compat import Cached, Failed, Flow, FlowError, LocalResult, Success, TriggerFailed, task
from compat.engine import unmapped
from tests.records import trailer_json


@task
def square(x: int) -> int:
    return x * x


@task
def scale(x: int, factor: int) -> int:
    return x * factor


def test_a_mapped_task_result_is_the_children_results_in_order() -> None:
    with Flow("f") as flow:
        node = square.map([1, 2, 3])
    state = flow.run().result[node]
    assert isinstance(state, Success) and state.result == [1, 4, 9]
    assert [child.result for child in state.map_states or []] == [1, 4, 9]


def test_unmapped_inputs_are_passed_whole_to_every_child() -> None:
    with Flow("f") as flow:
        node = scale.map([1, 2], factor=unmapped(10))
    assert flow.run().result[node].result == [10, 20]


def test_a_mapped_task_can_map_over_an_upstream_result() -> None:
    @task
    def numbers() -> list[int]:
        return [2, 3]

    with Flow("f") as flow:
        squares = square.map(numbers())
        scaled = scale.map(squares, factor=unmapped(2))
    assert flow.run().result[scaled].result == [8, 18]


def test_mapped_children_write_one_target_per_map_index(tmp_path: Path) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = square.map([1, 2, 3])
    node.target = "{task_name}-{map_index}.pkl"
    locations = [child.location for child in flow.run().result[node].map_states or []]
    assert locations == [str(tmp_path / f"square-{i}.pkl") for i in range(3)]
    assert [LocalResult(dir=tmp_path).read(f"square-{i}.pkl").value for i in range(3)] == [1, 4, 9]


def test_a_second_run_is_cached_per_child(tmp_path: Path, calls: Counter[str]) -> None:
    @task(target="{task_name}/{map_index}.pkl")
    def slow_square(x: int) -> int:
        calls[f"x={x}"] += 1
        return x * x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = slow_square.map([1, 2, 3])
    flow.run()
    (tmp_path / "slow_square" / "1.pkl").unlink()
    state = flow.run().result[node]
    assert [type(child).__name__ for child in state.map_states or []] == ["Cached", "Success", "Cached"]
    assert state.result == [1, 4, 9] and calls == Counter({"x=1": 1, "x=2": 2, "x=3": 1})
    assert isinstance(flow.run().result[node], Cached), "all children cached: the mapped task is Cached"


def test_task_full_name_carries_the_map_index(tmp_path: Path) -> None:
    @task(target="{task_full_name}.pkl")
    def ident(x: int) -> int:
        return x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        ident.map([5, 6])
    flow.run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ident[0].pkl", "ident[1].pkl"]
    assert [trailer_json(tmp_path / f"ident[{i}].pkl") is not None for i in range(2)] == [True, True]


def test_one_failed_child_fails_the_mapped_task_and_its_downstream() -> None:
    @task
    def invert(x: int) -> float:
        return 1 / x

    with Flow("f") as flow:
        inverted = invert.map([1, 0, 2])
        after = square(inverted)
    states = flow.run().result
    assert isinstance(states[inverted], Failed)
    assert states[inverted].message.startswith("1 of 3 mapped runs failed: [1]")
    assert [type(s).__name__ for s in states[inverted].map_states or []] == ["Success", "Failed", "Success"]
    assert isinstance(states[after], TriggerFailed)


def test_mapping_over_an_empty_list_gives_an_empty_result() -> None:
    with Flow("f") as flow:
        node = square.map([])
    state = flow.run().result[node]
    assert isinstance(state, Success) and state.result == [] and state.map_states == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"x": [1, 2], "factor": [1]}, "mapped inputs have different lengths"),
        ({"x": 3, "factor": [1]}, "input 'x' is not iterable (int), so it cannot be mapped over; wrap it in unmapped"),
    ],
)
def test_inputs_that_cannot_be_mapped_fail_the_task_with_the_reason(inputs: dict[str, object], message: str) -> None:
    with Flow("f") as flow:
        node = scale.map(**inputs)
    state = flow.run().result[node]
    assert isinstance(state, Failed) and message in state.message


def test_mapping_outside_a_flow_is_an_error() -> None:
    with pytest.raises(FlowError, match="was mapped outside a flow"):
        square.map([1])


def test_map_without_an_input_to_map_over_is_refused() -> None:
    with Flow("f"), pytest.raises(TypeError, match="map\\(\\) needs at least one input to map over"):
        scale.map(x=unmapped([1]), factor=unmapped(2))


def test_a_mapped_iterator_gives_the_same_children_on_every_run() -> None:
    with Flow("f") as flow:
        node = square.map(iter([1, 2, 3]))
    assert flow.run().result[node].result == [1, 4, 9]
    assert flow.run().result[node].result == [1, 4, 9]
