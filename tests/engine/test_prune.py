"""flow.run(prune=True): a task whose output only cached tasks need is not run and ends Skipped."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from compat import Cached, Failed, Flow, LocalExecutor, LocalResult, Skipped, Success, ThreadExecutor, task
from compat.engine import Executor


def chain(tmp_path: Path, calls: Counter[str]) -> tuple[Flow, list[object]]:
    """first -> middle -> sink, where only the sink has a target."""

    @task
    def first() -> int:
        calls["first"] += 1
        return 1

    @task
    def middle(x: int) -> int:
        calls["middle"] += 1
        return x + 1

    @task(target="sink.pkl")
    def sink(x: int) -> int:
        calls["sink"] += 1
        return x * 10

    with Flow("chain", result=LocalResult(dir=tmp_path)) as flow:
        a = first()
        b = middle(a)
        c = sink(b)
    return flow, [a, b, c]


@pytest.mark.parametrize("executor", [LocalExecutor(), ThreadExecutor(max_workers=4)], ids=["local", "threads"])
def test_a_chain_whose_sink_is_cached_runs_nothing(tmp_path: Path, calls: Counter[str], executor: Executor) -> None:
    flow, (a, b, c) = chain(tmp_path, calls)
    flow.run()
    calls.clear()
    state = flow.run(prune=True, executor=executor)
    assert calls == Counter()
    assert [type(state.result[t]).__name__ for t in (a, b, c)] == ["Skipped", "Skipped", "Cached"]
    assert state.result[c].result == 20
    assert state.message == "all 3 tasks succeeded (1 Cached, 2 Skipped)"


def test_a_skipped_task_is_a_success_without_a_value_naming_the_cached_tasks(tmp_path: Path, calls: Counter[str]) -> None:
    flow, (a, b, _) = chain(tmp_path, calls)
    flow.run()
    states = flow.run(prune=True).result
    assert isinstance(states[b], Success) and states[b].result is None and states[b].location is None
    assert states[b].message == "not needed: its only consumer 'sink' is cached"
    assert states[a].message == "not needed: every task that uses its output is skipped or cached (cached: 'sink')"


def test_without_prune_the_upstream_tasks_of_a_cached_sink_still_run(tmp_path: Path, calls: Counter[str]) -> None:
    flow, _ = chain(tmp_path, calls)
    flow.run()
    flow.run()
    assert calls == Counter({"first": 2, "middle": 2, "sink": 1})


def test_a_sink_without_a_stored_output_keeps_its_upstream_running(tmp_path: Path, calls: Counter[str]) -> None:
    flow, _ = chain(tmp_path, calls)
    state = flow.run(prune=True)
    assert state.is_successful() and calls == Counter({"first": 1, "middle": 1, "sink": 1})


def diamond(tmp_path: Path, calls: Counter[str], right_target: str | None) -> tuple[Flow, object, object, object]:
    """source feeds left (a target) and right (``right_target``)."""

    @task
    def source() -> int:
        calls["source"] += 1
        return 2

    @task(target="left.pkl")
    def left(x: int) -> int:
        calls["left"] += 1
        return x

    @task(target=right_target)
    def right(x: int) -> int:
        calls["right"] += 1
        return -x

    with Flow("diamond", result=LocalResult(dir=tmp_path)) as flow:
        s = source()
        left_node = left(s)
        right_node = right(s)
    return flow, s, left_node, right_node


def test_a_consumer_that_is_not_cached_keeps_its_upstream_running(tmp_path: Path, calls: Counter[str]) -> None:
    flow, s, left_node, right_node = diamond(tmp_path, calls, right_target=None)
    flow.run()
    states = flow.run(prune=True).result
    assert type(states[s]) is Success and isinstance(states[left_node], Cached)
    assert type(states[right_node]) is Success and states[right_node].result == -2
    assert calls == Counter({"source": 2, "left": 1, "right": 2})


def test_an_upstream_task_all_of_whose_consumers_are_cached_is_skipped(tmp_path: Path, calls: Counter[str]) -> None:
    flow, s, left_node, right_node = diamond(tmp_path, calls, right_target="right.pkl")
    flow.run()
    states = flow.run(prune=True).result
    assert isinstance(states[s], Skipped)
    assert states[s].message == "not needed: its consumers 'left', 'right' are cached"
    assert calls == Counter({"source": 1, "left": 1, "right": 1})


def test_a_mapped_task_whose_only_consumer_is_cached_is_skipped(tmp_path: Path, calls: Counter[str]) -> None:
    @task(target="{task_name}-{map_index}.pkl")
    def square(x: int) -> int:
        calls[f"square {x}"] += 1
        return x * x

    @task(target="total.pkl")
    def total(squares: list[int]) -> int:
        calls["total"] += 1
        return sum(squares)

    with Flow("mapped", result=LocalResult(dir=tmp_path)) as flow:
        squares = square.map([1, 2, 3])
        node = total(squares)
    flow.run()
    calls.clear()
    states = flow.run(prune=True).result
    assert isinstance(states[squares], Skipped) and states[squares].map_states is None
    assert states[node].result == 14 and calls == Counter()


def test_a_mapped_consumer_keeps_its_upstream_running(tmp_path: Path, calls: Counter[str]) -> None:
    @task(target="numbers.pkl")
    def numbers() -> list[int]:
        calls["numbers"] += 1
        return [1, 2]

    @task(target="{task_name}-{map_index}.pkl")
    def square(x: int) -> int:
        calls["square"] += 1
        return x * x

    with Flow("mapped", result=LocalResult(dir=tmp_path)) as flow:
        node = square.map(numbers())
    flow.run()
    states = flow.run(prune=True).result
    assert isinstance(states[node], Cached) and states[node].result == [1, 4]
    assert calls == Counter({"numbers": 1, "square": 2})


def test_a_planned_cached_output_rejected_at_run_time_fails_and_says_to_run_without_prune(
    tmp_path: Path, calls: Counter[str]
) -> None:
    flow, (_, b, c) = chain(tmp_path, calls)
    flow.run()
    LocalResult(dir=tmp_path, location="sink.pkl").write("not a number")
    c.validators = (lambda value: isinstance(value, int),)  # type: ignore[attr-defined]
    state = flow.run(prune=True)
    assert isinstance(state.result[c], Failed) and isinstance(state.result[b], Skipped)
    assert "upstream task 'middle' was skipped (prune=True), so it cannot run" in state.result[c].message
    assert "run the flow again without prune" in state.result[c].message
    assert calls["sink"] == 1


def test_plan_with_prune_reports_the_skips_the_run_makes(tmp_path: Path, calls: Counter[str]) -> None:
    flow, _ = chain(tmp_path, calls)
    flow.run()
    plan = flow.plan(prune=True)
    assert [step.action for step in plan] == ["skip", "skip", "cached"]
    assert plan["middle"].reason == "not needed: its only consumer 'sink' is cached"
    assert [step.action for step in flow.plan()] == ["run", "run", "cached"]


def test_a_refreshed_sink_keeps_its_upstream_running_under_prune(tmp_path: Path, calls: Counter[str]) -> None:
    flow, (a, b, c) = chain(tmp_path, calls)
    flow.run()
    states = flow.run(prune=True, refresh=[c]).result
    assert [type(states[t]).__name__ for t in (a, b, c)] == ["Success", "Success", "Success"]
    assert calls == Counter({"first": 2, "middle": 2, "sink": 2})
