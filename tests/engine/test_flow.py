"""Flows: wiring by calling tasks, parameters, explicit edges and cycles, the flow's state, pickling."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cloudpickle
import pytest

from compat import ArgumentTypeError, Failed, Flow, FlowError, LocalResult, MemoryResult, Parameter, Success, Task, task


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


def test_calling_tasks_wires_results_into_downstream_inputs() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        total = add(a, y=b)
    assert flow.run().result[total].result == 5


def test_the_calls_of_one_task_share_their_input_names_and_their_empty_constants() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
    calls = flow.calls
    assert calls[b].keys == ("x",) and calls[b].keys is calls[c].keys
    assert dict(calls[b].constants) == {} and calls[b].constants is calls[c].constants
    assert dict(calls[a].constants) == {"x": 1}


def test_a_calls_downstream_tasks_are_kept_with_it_once_per_edge() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        total = add(a, y=a)
    assert flow.calls[a].downstream == [b, total, total] and flow.downstream(a) == [b, total, total]
    assert flow.calls[b].downstream is None and list(flow.downstream(b)) == []
    with pytest.raises(KeyError):
        flow.downstream(inc.copy())


def test_a_task_with_one_downstream_edge_keeps_it_in_a_tuple_of_one() -> None:
    """One object per task of a chain (a list is two: itself and its array), read once by a run."""
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
    assert type(flow.calls[a].downstream) is tuple and flow.calls[a].downstream == (b,)
    assert flow.downstream(b) == (c,)
    flow.add_edge(b, a.copy())
    assert flow.downstream(b)[0] is c and len(flow.downstream(b)) == 2


def test_flow_state_maps_every_task_to_its_state() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
    state = flow.run()
    assert isinstance(state, Success) and set(state.result) == {a, b}
    assert state.message == "all 2 tasks succeeded (0 Cached)"


def test_each_task_runs_once_per_flow_run(calls: Counter[str]) -> None:
    @task
    def source() -> int:
        calls["source"] += 1
        return 1

    with Flow("f") as flow:
        s = source()
        inc(s)
        inc(s)
    flow.run()
    assert calls["source"] == 1


def test_parameter_values_come_from_run_and_default_otherwise() -> None:
    with Flow("f") as flow:
        x = Parameter("x", default=10)
        out = inc(x)
    assert (flow.run().result[out].result, flow.run(parameters={"x": 1}).result[out].result) == (11, 2)


def test_an_unknown_parameter_is_a_flow_error_naming_it_and_the_known_ones() -> None:
    with Flow("f") as flow:
        inc(Parameter("x", default=1))
    with pytest.raises(FlowError, match=r"flow 'f' has no parameter 'y'; its parameters: x"):
        flow.run(parameters={"y": 2})


def test_a_missing_required_parameter_is_a_flow_error_naming_it() -> None:
    with Flow("f") as flow:
        inc(Parameter("x"))
    with pytest.raises(FlowError, match=r"required parameter 'x'"):
        flow.run()


@pytest.mark.parametrize("action", ["run", "plan"])
def test_parameters_that_are_not_a_mapping_are_refused_before_anything_runs(action: str) -> None:
    with Flow("f") as flow:
        Parameter("x", default=1)
    with pytest.raises(ArgumentTypeError, match=rf"flow 'f': {action}\(parameters=...\) must be a mapping"):
        getattr(flow, action)(parameters=5)


@pytest.mark.parametrize("action", ["run", "plan"])
def test_a_missing_required_parameter_names_the_call_that_was_made(action: str) -> None:
    with Flow("f") as flow:
        Parameter("x")
    with pytest.raises(FlowError, match=rf"pass flow\.{action}\(parameters="):
        getattr(flow, action)()


def test_two_parameters_with_one_name_are_refused() -> None:
    with Flow("f"), pytest.raises(FlowError, match="already has a parameter named 'x'"):
        Parameter("x")
        Parameter("x")


def test_a_parameter_passed_into_a_flow_joins_it() -> None:
    day = Parameter("day", default="mon")
    with Flow("f") as flow:
        out = add(day, "!")
    assert flow.parameters == {"day": day} and flow.run().result[out].result == "mon!"


def test_add_edge_orders_tasks_without_passing_data(calls: Counter[str]) -> None:
    order: list[str] = []

    @task
    def record(name: str) -> None:
        order.append(name)

    with Flow("f") as flow:
        second = record("second")
        first = record("first")
    flow.add_edge(first, second)
    flow.run()
    assert order == ["first", "second"]


def test_the_flow_state_lists_tasks_in_flow_order_when_they_finished_in_another() -> None:
    with Flow("f") as flow:
        second = inc(1)
        first = inc(10)
        last = add(second, y=first)
    flow.add_edge(first, second)  # first runs before second, which the flow lists before it
    state = flow.run()
    assert list(state.result) == [second, first, last] and state.result[last].result == 13


def test_add_edge_with_a_key_passes_the_result_as_that_input() -> None:
    with Flow("f") as flow:
        one = inc(0)
    double = Task.copy(add)
    flow.add_edge(one, double, key="x")
    flow.add_edge(one, double, key="y")
    assert flow.run().result[double].result == 2


def test_an_edge_that_closes_a_cycle_is_a_flow_error_naming_the_cycle() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
    with pytest.raises(FlowError, match=r"the edge inc -> inc makes a cycle: inc -> inc -> inc -> inc"):
        flow.add_edge(c, a)


def test_a_self_edge_is_a_cycle() -> None:
    with Flow("f") as flow:
        a = inc(1)
    with pytest.raises(FlowError, match="makes a cycle"):
        flow.add_edge(a, a)


def test_an_input_fed_twice_is_refused() -> None:
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
    with pytest.raises(FlowError, match="already receives an input named 'x'"):
        flow.add_edge(a, b, key="x")


def test_flows_nest_and_tasks_join_the_innermost() -> None:
    with Flow("outer") as outer:
        a = inc(1)
        with Flow("inner") as inner:
            b = inc(2)
        c = inc(3)
    assert (outer.tasks, inner.tasks) == ((a, c), (b,))


def test_get_tasks_finds_tasks_by_name() -> None:
    with Flow("f") as flow:
        a = inc(1)
        add(a, 2)
    assert flow.get_tasks("inc") == [a]


def test_a_flow_survives_a_cloudpickle_round_trip_and_runs_the_same() -> None:
    with Flow("f", result=MemoryResult(location="{flow_name}/{task_full_name}")) as flow:
        x = Parameter("x", default=2)
        total = add(inc(x), y=x)
    clone = cloudpickle.loads(cloudpickle.dumps(flow))
    (clone_total,) = clone.get_tasks("add")
    assert clone.run(parameters={"x": 5}).result[clone_total].result == 11
    assert flow.run(parameters={"x": 5}).result[total].result == 11


def test_a_flow_with_a_failed_task_is_failed_and_names_it() -> None:
    @task
    def boom() -> None:
        raise RuntimeError("no")

    with Flow("f") as flow:
        boom()
        inc(1)
    state = flow.run()
    assert isinstance(state, Failed)
    assert state.message == "1 of 2 tasks failed: 'boom' (Failed); first, 'boom': raised RuntimeError: no"


def test_the_flow_failure_names_the_root_cause_not_the_tasks_that_did_not_run() -> None:
    @task
    def boom(x: int) -> None:
        raise RuntimeError("disk\nfull " + "x" * 500)

    with Flow("f") as flow:
        inc(boom(inc(1)))
    state = flow.run()
    assert state.message.startswith("2 of 3 tasks failed: 'boom' (Failed), 'inc' (TriggerFailed); first, 'boom': "
                                    "raised RuntimeError: disk full xxx")
    assert state.message.endswith("...") and len(state.message) < 300


def test_a_mapped_failure_names_the_child_and_its_reason() -> None:
    @task
    def check(x: int) -> int:
        if x == 2:
            raise ValueError(f"bad row {x}")
        return x

    with Flow("f") as flow:
        check.map([1, 2, 3])
    assert flow.run().message == (
        "1 of 1 task failed: 'check' (Failed); first, 'check': [1] raised ValueError: bad row 2"
    )


def test_a_failed_flow_logs_its_reason_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    @task
    def boom() -> None:
        raise RuntimeError("no")

    with Flow("f") as flow:
        boom()
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        flow.run()
    assert [r.getMessage() for r in caplog.records][-1] == \
        "Flow 'f': Failed: 1 of 1 task failed: 'boom' (Failed); first, 'boom': raised RuntimeError: no"


def test_a_flow_of_one_task_says_the_task_succeeded() -> None:
    with Flow("f") as flow:
        inc(1)
    assert flow.run().message == "the 1 task succeeded (0 Cached)"


def test_a_flow_without_a_str_name_is_an_argument_type_error() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        Flow("")
    assert str(raised.value) == "Flow: name must be a non-empty str, e.g. Flow('etl'), not str ('')"


def test_a_flow_result_that_is_not_a_result_is_an_argument_type_error() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        Flow("f", result="dir")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "result must be a Result such as LocalResult(dir=...) (a legacy ResultHandler goes through "
        "compat.as_result(handler)), not str ('dir')"
    )


def test_a_parameter_without_a_str_name_is_an_argument_type_error() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        Parameter(5)  # type: ignore[arg-type]
    assert str(raised.value) == "Parameter: name must be a non-empty str, e.g. Parameter('day'), not int (5)"


def test_adding_what_is_not_a_task_to_a_flow_is_an_argument_type_error() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        Flow("f").add_task(len)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "Flow.add_task: task must be a Task (e.g. a function decorated with @task), not builtin_function_or_method "
        "(<built-in function len>)"
    )


def test_a_task_inside_a_list_input_is_refused_with_the_way_out() -> None:
    with Flow("f"):
        a = inc(1)
        with pytest.raises(TypeError, match=r"input 'x' of task 'inc' holds the task 'inc' inside a list"):
            inc([a])


WORKER = """
import sys
import cloudpickle

with open(sys.argv[1], "rb") as f:
    flow = cloudpickle.load(f)
state = flow.run(parameters={"n": 3})
print(state.message)
print(sorted((task.name, repr(s.result)) for task, s in state.result.items()))
"""


@pytest.mark.slow
def test_a_flow_shipped_with_cloudpickle_runs_in_another_process(tmp_path: Path) -> None:
    def upto(n: int) -> list[int]:  # defined here, so cloudpickle ships them by value like a user's functions
        return list(range(n))

    def offset(x: int) -> int:
        return x + 100

    with Flow("shipped", result=LocalResult(dir=tmp_path / "results", location="{task_full_name}.pkl")) as flow:
        n = Parameter("n", default=1)
        task(offset).map(task(upto)(n))
    (tmp_path / "flow.pkl").write_bytes(cloudpickle.dumps(flow))
    (tmp_path / "worker.py").write_text(WORKER)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "worker.py"), str(tmp_path / "flow.pkl")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "all 3 tasks succeeded (0 Cached)",
        "[('n', '3'), ('offset', '[100, 101, 102]'), ('upto', '[0, 1, 2]')]",
    ]
    assert LocalResult(dir=tmp_path / "results").read("offset[2].pkl").value == 102


def test_a_run_freezes_the_objects_made_before_it_and_unfreezes_them_when_it_ends() -> None:
    import gc

    seen: list[int] = []

    @task
    def frozen_now() -> None:
        seen.append(gc.get_freeze_count())

    with Flow("freeze") as flow:
        frozen_now()
    assert gc.get_freeze_count() == 0
    assert flow.run().is_successful()
    assert seen[0] > 0 and gc.get_freeze_count() == 0


def test_a_long_run_freezes_its_finished_task_runs_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import compat.engine.flow_run as flow_run

    monkeypatch.setattr(flow_run, "REFREEZE_EVERY", 2)
    ran: list[int] = []
    frozen_after: list[int] = []  # how many task runs had finished at each freeze
    freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (frozen_after.append(len(ran)), freeze())[1])

    @task
    def count(x: int) -> int:
        ran.append(x)
        return x + 1

    with Flow("batches") as flow:
        x = count(0)
        for _ in range(5):
            x = count(x)
    assert flow.run().is_successful()
    assert frozen_after == [0, 2, 4, 6] and gc.get_freeze_count() == 0


def test_cyclic_garbage_a_run_made_is_collected_not_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    import compat.engine.flow_run as flow_run

    monkeypatch.setattr(flow_run, "REFREEZE_EVERY", 1)

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    made: list[weakref.ref[Node]] = []

    @task
    def make() -> int:
        made.append(weakref.ref(Node()))
        return 1

    @task
    def look(x: int) -> bool:
        return made[0]() is None  # the re-freeze after make() collected it rather than froze it

    with Flow("garbage") as flow:
        looked = look(make())
    assert flow.run().result[looked].result is True


def test_a_run_unfreezes_even_when_a_task_raises_keyboard_interrupt() -> None:
    import gc

    @task
    def interrupt() -> None:
        raise KeyboardInterrupt

    with Flow("interrupted") as flow:
        interrupt()
    with pytest.raises(KeyboardInterrupt):
        flow.run()
    assert gc.get_freeze_count() == 0


def test_a_run_leaves_a_programs_own_freeze_alone() -> None:
    import gc

    kept = [["made before the program froze its objects"]]

    @task
    def one() -> int:
        return 1

    with Flow("own freeze") as flow:
        one()
    gc.freeze()
    try:
        assert flow.run().is_successful()
        assert not any(obj is kept for obj in gc.get_objects())  # still frozen: out of every generation
    finally:
        gc.unfreeze()
    assert any(obj is kept for obj in gc.get_objects())


def test_no_full_collection_runs_while_a_flow_is_built() -> None:
    # a full pass falls due whenever the oldest generation grew by a quarter: a large flow grows it that fast
    import gc

    passes: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            passes.append(1)

    @task
    def one(x: int) -> int:
        return x

    thresholds = gc.get_threshold()
    gc.freeze()  # the oldest generation starts empty: each young collection's survivors are growth
    gc.collect()
    gc.set_threshold(10, 1, 1)
    gc.callbacks.append(counted)
    try:
        with Flow("built") as flow:
            x = one(0)
            for _ in range(300):
                x = one(x)
            gc.collect(1)  # a collection of the middle generation, which would call for a full pass here
    finally:
        gc.callbacks.remove(counted)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    assert passes == [] and len(flow.tasks) == 301


def test_cyclic_garbage_dropped_while_a_flow_is_built_is_still_collected() -> None:
    import gc
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    @task
    def one(x: int) -> int:
        return x

    with Flow("young garbage") as flow:
        dropped = weakref.ref(Node())
        x = one(0)
        for _ in range(20_000):  # young collections run as the flow grows
            if dropped() is None:
                break
            x = one(x)
        collected = dropped() is None
    assert collected and gc.isenabled() and len(flow.tasks) < 20_001


def test_the_programs_collector_thresholds_come_back_when_the_last_block_closes() -> None:
    import gc

    thresholds = gc.get_threshold()
    with pytest.raises(ValueError, match="inner"):
        with Flow("outer"):
            with Flow("inner"):
                raise ValueError("inner")
    assert gc.get_threshold() == thresholds


def test_thresholds_the_program_sets_inside_the_block_stay() -> None:
    import gc

    thresholds = gc.get_threshold()
    try:
        with Flow("own thresholds"):
            gc.set_threshold(500, 5, 5)
        assert gc.get_threshold() == (500, 5, 5)
    finally:
        gc.set_threshold(*thresholds)


def test_a_calls_copied_constants_are_a_new_dict_its_constants_never_see() -> None:
    @task
    def add(x: int, y: int = 0) -> int:
        return x + y

    with Flow("copies") as flow:
        given = add(1, y=2)
        bare = add.copy()  # no constants: the shared read-only empty mapping
        flow.add_task(bare)
    for one in (given, bare):
        call = flow.calls[one]
        copied = call.copied_constants()
        assert type(copied) is dict and copied == dict(call.constants)
        copied["z"] = 3
        assert "z" not in call.constants and "z" not in call.copied_constants()
