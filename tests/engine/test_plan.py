"""flow.plan(): what a run would do (run / cached / skip, why, where), decided without running or writing."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from datetime import timedelta
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from compat import Failed, Flow, FlowError, LegacyResultWarning, LocalResult, LocationError, MemoryResult, Parameter, as_result, task
from tests.compat.handlers import ExistsHandler
from tests.engine.lookups import LookUpCounting


def etl_flow(tmp_path: Path, calls: Counter[str]) -> Flow:
    """day -> extract (target from the parameter) -> clean (no target) -> report (target from an upstream output)."""

    @task(target="raw-{day}.pkl")
    def extract(day: str) -> list[int]:
        calls["extract"] += 1
        return [1, 2, 3]

    @task
    def clean(rows: list[int]) -> list[int]:
        calls["clean"] += 1
        return rows

    @task(target="report-{rows}.pkl")
    def report(rows: list[int]) -> int:
        calls["report"] += 1
        return sum(rows)

    with Flow("etl", result=LocalResult(dir=tmp_path)) as flow:
        report(clean(extract(Parameter("day", default="2026-11-30"))))
    return flow


def test_a_target_that_does_not_exist_yet_is_planned_to_run(tmp_path: Path, calls: Counter[str]) -> None:
    step = etl_flow(tmp_path, calls).plan()["extract"]
    assert (step.action, step.reason) == ("run", "no target at 'raw-2026-11-30.pkl'")
    assert step.location == str(tmp_path / "raw-2026-11-30.pkl")


def test_an_existing_target_is_planned_cached_and_the_reason_says_it_is_still_validated(
    tmp_path: Path, calls: Counter[str]
) -> None:
    LocalResult(dir=tmp_path, location="raw-2026-12-01.pkl").write([1])
    step = etl_flow(tmp_path, calls).plan(parameters={"day": "2026-12-01"})["extract"]
    assert step.action == "cached"
    assert step.reason == "target 'raw-2026-12-01.pkl' exists; the run still reads and validates it"


def test_a_task_without_a_location_runs_because_it_has_no_target(tmp_path: Path, calls: Counter[str]) -> None:
    step = etl_flow(tmp_path, calls).plan()["clean"]
    assert step.action == "run" and step.reason.startswith("no target") and step.location is None


def test_a_task_without_any_result_is_planned_as_kept_in_memory_only() -> None:
    with Flow("bare") as flow:  # no Result on the task, none on the flow
        task(lambda: 1, name="one")()
    step = flow.plan()["one"]
    assert (step.code, step.reason) == (
        "no-target", "no target: no Result is configured, so its output is kept in memory only"
    )


def test_a_task_called_many_times_has_its_code_fingerprinted_once_per_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    import compat.engine.plan as plan_module

    fingerprinted: list[object] = []

    def counting(task: object) -> str:
        fingerprinted.append(task)
        return "code"

    monkeypatch.setattr(plan_module, "code_of", counting)
    step = task(lambda x: x + 1, name="step", target="{x}.pkl")
    with Flow("three", result=MemoryResult()) as flow:
        for x in range(3):
            step(x)
    planner = plan_module.Planner(flow, {}, {}, None)
    assert [planner.code(t) for t in flow.tasks] == ["code"] * 3 and len(fingerprinted) == 1


def test_the_calls_of_one_task_share_the_result_a_plan_chooses_for_them() -> None:
    import compat.engine.plan as plan_module

    step = task(lambda x: x + 1, name="step", target="{x}.pkl")
    other = task(lambda x: x, name="other", target="other-{x}.pkl")
    with Flow("shared", result=MemoryResult()) as flow:
        first, second = step(1), step(2)
        third = other(3)
    results = plan_module.Planner(flow, {}, {}, None).results
    assert results[first] is results[second] and results[third] is not results[first]
    assert (results[first].template, results[third].template) == ("{x}.pkl", "other-{x}.pkl")


def test_a_plan_of_missing_targets_reads_no_record(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = MemoryResult.read_bytes

    def counting(self: MemoryResult, location: str) -> bytes:
        read.append(location)
        return real(self, location)

    monkeypatch.setattr(MemoryResult, "read_bytes", counting)
    step = task(lambda x: x + 1, name="step", target="missing-{x}.pkl")
    with Flow("missing", result=MemoryResult()) as flow:
        for x in range(3):
            step(x)
    assert flow.plan().count("run") == 3 and read == []  # asked with record_bytes: no exception per target


def test_a_location_rendered_from_an_upstream_output_cannot_be_decided_before_the_run(
    tmp_path: Path, calls: Counter[str]
) -> None:
    step = etl_flow(tmp_path, calls).plan()["report"]
    assert (step.action, step.reason, step.location) == ("run", "location depends on upstream output 'rows'", None)


def test_a_plan_never_calls_task_code_and_never_writes(tmp_path: Path, calls: Counter[str]) -> None:
    LocalResult(dir=tmp_path, location="raw-2026-11-30.pkl").write([1])
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    flow = etl_flow(tmp_path, calls)
    flow.plan()
    flow.plan(prune=True, refresh=True)
    assert calls == Counter()
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


def test_a_mapped_task_is_one_entry_planned_to_run(tmp_path: Path) -> None:
    @task(target="{task_name}-{map_index}.pkl")
    def square(x: int) -> int:
        return x * x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = square.map([1, 2, 3])
    flow.run()
    plan = flow.plan()
    assert len(plan) == 1
    assert (plan[node].action, plan[node].reason) == ("run", "mapped: each child checks its own target when it runs")


def test_a_caching_result_is_planned_cached_only_while_its_output_is_fresh() -> None:
    @task(result=MemoryResult(location="c.pkl"), cache_for=timedelta(hours=1))
    def fresh() -> int:
        return 1

    @task(result=MemoryResult(location="s.pkl"), cache_for=timedelta(0))
    def stale() -> int:
        return 1

    with Flow("f") as flow:
        fresh()
        stale()
    flow.run()
    plan = flow.plan()
    assert plan["fresh"].action == "cached" and "is fresh (cache_for=1:00:00)" in plan["fresh"].reason
    assert plan["stale"].action == "run" and "fresh enough to reuse (cache_for=0:00:00)" in plan["stale"].reason


def test_a_legacy_handler_target_is_looked_up_through_the_handler_without_reading_it() -> None:
    store: dict[str, object] = {"data/2026-11-30": [1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        handler = ExistsHandler(store)

    @task(result=as_result(handler), target="data/{day}")
    def load(day: str) -> list[int]:
        return [2]

    with Flow("f") as flow:
        load(Parameter("day"))
    assert flow.plan(parameters={"day": "2026-11-30"})["load"].action == "cached"
    assert flow.plan(parameters={"day": "2026-12-01"})["load"].action == "run"
    assert (handler.exists_calls, handler.reads, handler.writes) == (2, 0, 0)


def test_a_target_that_cannot_be_rendered_is_planned_to_run_and_says_the_run_fails_there(tmp_path: Path) -> None:
    @task(target="{nowhere}.pkl")
    def make() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        make()
    step = flow.plan()["make"]
    assert step.action == "run" and step.reason.startswith("cannot render the output location, so the run fails")
    assert "'nowhere'" in step.reason


def test_a_directory_at_the_target_is_planned_and_run_as_the_same_location_error(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()

    @task(target="sub")
    def make() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        make()
    step = flow.plan()["make"]
    assert step.action == "run" and step.reason.startswith("cannot check the target 'sub', so the run fails there")
    assert "is a directory" in step.reason
    state = flow.run().result[flow.get_tasks("make")[0]]
    assert type(state) is Failed and state.message.startswith("cannot check the target 'sub'")
    assert "is a directory" in state.message and (tmp_path / "sub").is_dir()


def test_a_directory_at_a_location_is_a_location_error_not_absent(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(LocationError, match="is a directory; a result location must name a file"):
        LocalResult(dir=tmp_path).exists("sub")
    assert LocalResult(dir=tmp_path).exists("missing") is False


def test_steps_are_looked_up_by_task_or_by_name(tmp_path: Path, calls: Counter[str]) -> None:
    flow = etl_flow(tmp_path, calls)
    plan = flow.plan()
    (extract,) = flow.get_tasks("extract")
    assert plan[extract] is plan["extract"]
    assert [step.task.name for step in plan] == ["day", "extract", "clean", "report"]


def test_an_unknown_name_lists_the_flow_tasks(tmp_path: Path, calls: Counter[str]) -> None:
    with pytest.raises(KeyError, match="no task named 'extrct'; its tasks: 'clean', 'day', 'extract', 'report'"):
        etl_flow(tmp_path, calls).plan()["extrct"]


def test_a_name_shared_by_two_tasks_must_be_looked_up_by_task() -> None:
    @task
    def twice() -> int:
        return 1

    with Flow("f") as flow:
        twice()
        twice()
    with pytest.raises(KeyError, match="has 2 tasks named 'twice'; look one up by the task"):
        flow.plan()["twice"]


def test_str_of_a_plan_is_a_table_with_a_summary_and_one_row_per_task(tmp_path: Path, calls: Counter[str]) -> None:
    lines = str(etl_flow(tmp_path, calls).plan()).splitlines()
    assert lines[0] == "Plan for flow 'etl': 3 to run, 0 cached, 0 skipped"
    assert lines[1].split() == ["task", "action", "code", "location", "reason"]
    assert [line.split()[:2] for line in lines[2:]] == [["day", "run"], ["extract", "run"], ["clean", "run"],
                                                         ["report", "run"]]


def test_str_of_a_plan_escapes_control_characters_a_parameter_put_in_a_location(
    tmp_path: Path, calls: Counter[str]
) -> None:
    forged = "x\nfake  skip  -  not needed\x1b[2K"
    table = str(etl_flow(tmp_path, calls).plan(parameters={"day": forged}))
    assert len(table.splitlines()) == 6, "a parameter value must not add rows to the table"
    assert "raw-x\\nfake  skip  -  not needed\\x1b[2K.pkl" in table and "\x1b" not in table


def test_to_dict_is_json_ready(tmp_path: Path, calls: Counter[str]) -> None:
    data = json.loads(json.dumps(etl_flow(tmp_path, calls).plan().to_dict()))
    assert data["flow"] == "etl"
    assert data["tasks"][1] == {
        "task": "extract",
        "action": "run",
        "code": "missing",
        "reason": "no target at 'raw-2026-11-30.pkl'",
        "location": str(tmp_path / "raw-2026-11-30.pkl"),
        "changes": [],
    }


def test_plan_refuses_an_unknown_parameter_like_run(tmp_path: Path, calls: Counter[str]) -> None:
    with pytest.raises(FlowError, match="has no parameter 'month'"):
        etl_flow(tmp_path, calls).plan(parameters={"month": "11"})


def test_what_the_plan_says_is_what_the_run_does(tmp_path: Path) -> None:
    @task(target="a-{day}.pkl")
    def first(day: str) -> str:
        return day

    @task(target="b-{day}.pkl")
    def second(x: str, day: str) -> str:
        return x

    @task
    def last(x: str) -> str:
        return x

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        day = Parameter("day")
        last(second(first(day), day))
    for day_value in ("1", "2", "3"):
        flow.run(parameters={"day": day_value})
    (tmp_path / "a-2.pkl").unlink()
    (tmp_path / "b-3.pkl").unlink()
    expected = {"run": "Success", "cached": "Cached", "skip": "Skipped"}
    for day_value in ("1", "2", "3", "4"):
        plan = flow.plan(parameters={"day": day_value}, prune=True)
        states = flow.run(parameters={"day": day_value}, prune=True).result
        planned = {t.name: expected[plan[t].action] for t in flow.tasks}
        assert planned == {t.name: type(states[t]).__name__ for t in flow.tasks}, day_value


def test_a_location_naming_a_run_id_is_planned_to_run_because_it_is_new_every_run(tmp_path: Path) -> None:
    @task(target="{task_run_id}.pkl")
    def make() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        make()
    flow.run()
    step = flow.plan()["make"]
    assert (step.action, step.reason) == ("run", "no target: its location names {task_run_id}, which is new on every run")


# -- what a plan asks of the store, and how it renders: the work done once per task -----------------------------




def test_a_plan_looks_a_missing_target_up_once() -> None:
    LookUpCounting.asked = []
    step = task(lambda x: x, name="step", target="once-{x}.pkl")
    with Flow("once", result=LookUpCounting()) as flow:
        for x in range(3):
            step(x)
    assert flow.plan().count("run") == 3
    assert LookUpCounting.asked == [("exists", f"once-{x}.pkl") for x in range(3)]


def test_a_task_added_before_the_tasks_it_depends_on_is_decided_after_them() -> None:
    step = task(lambda name: name, name="step", target="{name}.pkl")
    with Flow("backwards", result=MemoryResult()) as flow:
        last = step("c")
        middle = step("b")
        first = step("a")
    flow.add_edge(middle, last)
    flow.add_edge(first, middle)
    MemoryResult(location="c.pkl").write("c")
    plan = flow.plan(prune=True)
    assert [(s.task.name, s.location, s.code) for s in plan] == [
        ("step", "c.pkl", "no-record"), ("step", "b.pkl", "not-needed"), ("step", "a.pkl", "not-needed"),
    ]  # in flow order; decided in dependency order, so the skip of "b" covers "a"


def test_a_plan_renders_each_location_as_its_run_does() -> None:
    @task(target="{flow_name}/{task_name}/{today}/{day}-{x}-{region}.pkl")
    def make(x: int, region: str, today: str) -> int:
        return x

    with Flow("where", result=MemoryResult()) as flow:
        Parameter("x", default=0)  # an input of the same name wins over it
        region = Parameter("region", default="eu")
        day = Parameter("day", default="mon")
        node = make(7, region, day)  # its input "today" wins over the built-in key
    planned = flow.plan()[node].location
    assert planned == "where/make/mon/mon-7-eu.pkl" == flow.run().result[node].location


def test_a_location_whose_format_spec_names_a_key_is_rendered_as_its_run_renders_it() -> None:
    @task(target="{x:>{width}}.pkl")
    def make(x: str) -> str:
        return x

    with Flow("spec", result=MemoryResult()) as flow:
        Parameter("width", default=4)
        node = make("a")
    planned = flow.plan()[node].location
    assert planned == "   a.pkl" == flow.run().result[node].location


def test_a_location_naming_a_missing_key_is_refused_listing_every_key_of_the_run() -> None:
    with Flow("missing", result=MemoryResult()) as flow:
        task(lambda: 1, name="make", target="{nowhere}-{task_name}.pkl")()
    step = flow.plan()["make"]
    assert step.code == "bad-location"
    assert "available keys: date, flow_name, flow_run_id, map_index, parameters, task_full_name" in step.reason


class Prefixed(MemoryResult):
    """A backend whose render reads a key of the context that the template does not name."""

    def render(self, location: object, context: Mapping[str, Any]) -> str | None:
        rendered = super().render(location, context)  # type: ignore[arg-type]
        return f"{context.get('flow_name', 'no flow')}/{rendered}"


def test_a_backend_whose_render_reads_other_keys_is_given_the_whole_context() -> None:
    with Flow("whole", result=Prefixed()) as flow:
        node = task(lambda x: x, name="make", target="{x}.pkl")(1)
    assert flow.plan()[node].location == "whole/1.pkl"


def test_calls_of_two_tasks_in_turn_each_get_their_own_tasks_result() -> None:
    import compat.engine.plan as plan_module

    one = task(lambda x: x, name="one", target="one-{x}.pkl")
    two = task(lambda x: x, name="two", target="two-{x}.pkl")
    with Flow("turns", result=MemoryResult()) as flow:
        first, second, third = one(1), two(1), one(2)
    results = plan_module.Planner(flow, {}, {}, None).results
    assert results[first] is results[third] and results[second] is not results[first]
    assert [results[node].template for node in (first, second, third)] == ["one-{x}.pkl", "two-{x}.pkl", "one-{x}.pkl"]
