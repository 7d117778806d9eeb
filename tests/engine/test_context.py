"""The template context of a task run: the keys of DESIGN.md, parameters by name, inputs winning on a clash."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from compat import Flow, MemoryResult, Parameter, task
from compat.engine import unmapped
from compat.engine.context import flow_run_context, task_run_context, task_run_values


def captured_context(**run_parameters: Any) -> dict[str, Any]:
    """Runs a flow whose target callable records the context it is called with."""
    seen: dict[str, Any] = {}

    def remember(**context: Any) -> str:
        seen.update(context)
        return "captured"

    @task(target=remember, result=MemoryResult())
    def make(region: str, x: int) -> int:
        return x

    with Flow("ctx") as flow:
        Parameter("day", default="mon")
        region = Parameter("region", default="eu")
        make.map(unmapped(region), [7])
    flow.run(parameters=run_parameters)
    return seen


def test_the_context_has_every_key_design_md_lists() -> None:
    context = captured_context()
    expected = {"flow_name", "task_name", "task_full_name", "map_index", "parameters", "flow_run_id", "task_run_id",
                "task_run_count", "today", "yesterday", "tomorrow", "date"}
    assert expected <= context.keys()
    assert (context["flow_name"], context["task_name"], context["task_full_name"], context["map_index"]) == (
        "ctx", "make", "make[0]", 0,
    )
    assert context["task_run_count"] == 1 and context["parameters"] == {"day": "mon", "region": "eu"}


def test_parameters_and_inputs_are_available_by_name() -> None:
    context = captured_context(day="tue")
    assert (context["day"], context["x"], context["region"]) == ("tue", 7, "eu")


def test_a_task_input_wins_over_a_parameter_of_the_same_name() -> None:
    flow_context = flow_run_context("f", {"x": "from parameter"})
    assert task_run_context(flow_context, "t", None, {"x": "from input"})["x"] == "from input"


def test_dates_are_one_day_apart_and_taken_once_per_flow_run() -> None:
    start = datetime(2026, 11, 24, 23, 59, tzinfo=timezone.utc)
    context = flow_run_context("f", {}, now=start)
    assert (context["yesterday"], context["today"], context["tomorrow"]) == ("2026-11-23", "2026-11-24", "2026-11-25")
    assert context["date"] == start


def test_each_task_run_gets_its_own_id_and_shares_the_flow_run_id() -> None:
    flow_context = flow_run_context("f", {})
    first, second = (task_run_context(flow_context, "t", None, {}) for _ in range(2))
    assert first["task_run_id"] != second["task_run_id"] and first["flow_run_id"] == second["flow_run_id"]


def every_key_context() -> tuple[dict[str, Any], dict[str, Any]]:
    """A flow context with parameters that shadow built-in keys, and inputs that shadow parameters and built-ins."""
    flow_context = flow_run_context("f", {"region": "eu", "x": "parameter", "task_name": "parameter", "today": "p"})
    inputs = {"x": "input", "map_index": "input", "y": 2}
    return flow_context, inputs


def test_a_task_runs_values_for_some_keys_are_its_contexts_entries_for_them() -> None:
    for map_index in (None, 3):
        flow_context, inputs = every_key_context()
        context = task_run_context(flow_context, "t", map_index, inputs)
        keys = [key for key in context if key != "task_run_id"]
        assert task_run_values(flow_context, "t", map_index, inputs, keys) == {key: context[key] for key in keys}


def test_a_task_runs_values_for_one_key_hold_only_that_key() -> None:
    flow_context, inputs = every_key_context()
    assert task_run_values(flow_context, "t", 2, inputs, ["task_full_name"]) == {"task_full_name": "t[2]"}


def test_a_task_runs_values_draw_a_new_task_run_id_only_when_asked() -> None:
    flow_context, inputs = every_key_context()
    first, second = (task_run_values(flow_context, "t", None, inputs, ["task_run_id"]) for _ in range(2))
    assert first is not None and second is not None and len(first["task_run_id"]) == 32
    assert first["task_run_id"] != second["task_run_id"]


def test_a_task_runs_values_are_none_for_a_key_its_context_lacks() -> None:
    flow_context, inputs = every_key_context()
    assert task_run_values(flow_context, "t", None, inputs, ["y", "nowhere"]) is None
