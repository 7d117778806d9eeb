"""Executors: the futures contract; the thread pool runs independent tasks in parallel and gives the same states
as the sequential one."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle  # type: ignore[import-untyped]
import pytest

from compat import ArgumentTypeError, Executor, Failed, Flow, LocalExecutor, LocalResult, Parameter, ThreadExecutor, TriggerFailed, task
from compat.engine import unmapped
from compat.engine.executors import resolve
from compat.engine.states import State


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def repeat(x: int, times: int) -> list[int]:
    return [x] * times


def diamond_flow(tmp_path: Path) -> Flow:
    with Flow("diamond", result=LocalResult(dir=tmp_path, location="{task_full_name}-{x}.pkl")) as flow:
        x = Parameter("x", default=1)
        left = inc.map(repeat(x, 3))
        right = inc(x)
        add.map(left, y=unmapped(right))
    return flow


def summary(state: State) -> list[tuple[str, str, object]]:
    assert isinstance(state.result, dict)
    return sorted((task.name, type(s).__name__, repr(s.result)) for task, s in state.result.items())


def test_the_thread_executor_gives_the_same_states_as_the_local_one(tmp_path: Path) -> None:
    sequential = diamond_flow(tmp_path / "seq").run(executor=LocalExecutor())
    threaded = diamond_flow(tmp_path / "threads").run(executor=ThreadExecutor(max_workers=4))
    assert summary(threaded) == summary(sequential)
    assert threaded.result[next(t for t in threaded.result if t.name == "add")].result == [4, 4, 4]


def test_a_second_threaded_run_is_cached_like_a_sequential_one(tmp_path: Path) -> None:
    flow = diamond_flow(tmp_path)
    flow.run(executor=ThreadExecutor(max_workers=4))
    again = flow.run(executor=ThreadExecutor(max_workers=4))
    assert again.message == "all 5 tasks succeeded (4 Cached)"


def test_independent_tasks_run_at_the_same_time_on_threads() -> None:
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(i: int) -> int:
        barrier.wait()  # returns only when all three runs are inside it at once
        return i

    with Flow("parallel") as flow:
        nodes = [meet(i) for i in range(3)]
    state = flow.run(executor=ThreadExecutor(max_workers=3))
    assert [state.result[n].result for n in nodes] == [0, 1, 2]


def test_mapped_children_run_in_parallel_on_threads() -> None:
    barrier = threading.Barrier(4, timeout=10)

    @task
    def meet(i: int) -> int:
        barrier.wait()
        return i

    with Flow("parallel") as flow:
        node = meet.map(range(4))
    assert flow.run(executor=ThreadExecutor(max_workers=4)).result[node].result == [0, 1, 2, 3]


def test_the_local_executor_runs_tasks_on_the_calling_thread() -> None:
    @task
    def where() -> int:
        return threading.get_ident()

    with Flow("f") as flow:
        node = where()
    assert flow.run(executor=LocalExecutor()).result[node].result == threading.get_ident()


def test_a_thread_executor_can_be_reused_for_another_run() -> None:
    executor = ThreadExecutor(max_workers=2)
    with Flow("f") as flow:
        node = inc(1)
    assert [flow.run(executor=executor).result[node].result for _ in range(2)] == [2, 2]


def test_an_executor_that_is_not_an_executor_is_refused_before_the_run_starts() -> None:
    ran: list[int] = []

    @task
    def record() -> None:
        ran.append(1)

    with Flow("f") as flow:
        record()
    with pytest.raises(ArgumentTypeError) as raised:
        flow.run(executor="dask")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "flow 'f': run(executor=...) must be an Executor (LocalExecutor, ThreadExecutor, DaskExecutor), or None, "
        "not str ('dask')"
    )
    assert ran == []


def test_a_thread_executor_needs_a_positive_worker_count() -> None:
    with pytest.raises(ValueError, match="max_workers must be an int >= 1"):
        ThreadExecutor(max_workers=0)


def test_flow_state_lists_tasks_in_flow_order_whatever_order_they_finish_in() -> None:
    @task
    def slower_first(i: int) -> int:
        time.sleep(0.02 * (4 - i))  # on threads, the last task finishes first
        return i

    with Flow("f") as flow:
        nodes = [slower_first(i) for i in range(4)]
    assert list(flow.run(executor=ThreadExecutor(max_workers=4)).result) == nodes


def call_pickled(blob: bytes) -> State:
    fn, args = cloudpickle.loads(blob)
    return fn(*args)  # type: ignore[no-any-return]


class ProcessExecutor(Executor):
    """The futures contract on a process pool: units (shipped with cloudpickle) and States cross processes."""

    def __enter__(self) -> ProcessExecutor:
        self.pool = concurrent.futures.ProcessPoolExecutor(2)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pool.shutdown()

    def submit(self, fn: Callable[..., State], *args: object) -> concurrent.futures.Future[State]:
        return self.pool.submit(call_pickled, cloudpickle.dumps((fn, resolve(args))))


@task
def pid() -> int:
    return os.getpid()


def test_an_executor_on_a_process_pool_runs_units_in_other_processes_with_the_same_states(tmp_path: Path) -> None:
    with Flow("f") as flow:
        where = pid()
    assert flow.run(executor=ProcessExecutor()).result[where].result != os.getpid()
    in_processes = diamond_flow(tmp_path / "processes").run(executor=ProcessExecutor())
    assert summary(in_processes) == summary(diamond_flow(tmp_path / "seq").run())


@task
def leave() -> None:
    sys.exit(3)


@task
def interrupt() -> None:
    raise KeyboardInterrupt("pressed")


@pytest.mark.parametrize(
    ("executor", "raiser", "message"),
    [
        (LocalExecutor, leave, "the task run was interrupted: SystemExit: 3"),
        (lambda: ThreadExecutor(max_workers=1), leave, "the task run was interrupted: SystemExit: 3"),
        (lambda: ThreadExecutor(max_workers=1), interrupt, "the task run was interrupted: KeyboardInterrupt: pressed"),
    ],
    ids=["local-SystemExit", "thread-SystemExit", "thread-KeyboardInterrupt"],
)
def test_a_task_raising_system_exit_or_a_keyboard_interrupt_off_the_main_thread_ends_failed_and_the_run_goes_on(
    executor: Callable[[], Executor], raiser: Any, message: str
) -> None:
    with Flow("f") as flow:
        node = raiser()
        after = inc(node)
        other = inc(1)
    states = flow.run(executor=executor()).result
    assert isinstance(states[node], Failed)
    assert states[node].message == message
    assert isinstance(states[after], TriggerFailed)
    assert states[other].result == 2


def test_a_keyboard_interrupt_in_a_task_on_the_local_executor_stops_the_flow_run_as_ctrl_c_does(
    calls: Counter[str],
) -> None:
    @task
    def later() -> None:
        calls["later"] += 1

    with Flow("f") as flow:
        first = interrupt()
        flow.add_edge(first, later())
    with pytest.raises(KeyboardInterrupt, match="pressed"):
        flow.run(executor=LocalExecutor())
    assert calls == Counter()


def test_mapping_over_an_output_without_a_length_fails_saying_to_return_a_list() -> None:
    @task
    def numbers() -> Iterator[int]:
        return iter([1, 2])

    with Flow("f") as flow:
        node = inc.map(numbers())
    state = flow.run().result[node]
    assert isinstance(state, Failed)
    assert state.message == ("cannot map: input 'x' is a list_iterator, which has no length, so its elements cannot be "
                             "handed out to mapped runs; return a list or a tuple")
