"""Contexts: the flow being built (``with Flow(...)``) and the template context of each task run.

A task run's context is what its Result's location template (or ``target=``) is rendered with:

- ``flow_name``, ``flow_run_id``, ``parameters`` (a dict of every flow parameter's value);
- ``date`` (the flow run's start as an aware UTC datetime), ``today``, ``yesterday``, ``tomorrow``
  (``YYYY-MM-DD`` strings of that date: one flow run uses one date, even across midnight);
- ``task_name``, ``task_full_name`` (``name[map_index]`` for a mapped child), ``map_index`` (None unless
  mapped), ``task_run_id``, ``task_run_count`` (1 on the first attempt; a location is rendered once per
  run, before the target check, and again for the write only if the task was retried);
- the flow's parameters by name, then the task's inputs by name. Names you chose win over built-in keys,
  and a task input wins over a parameter of the same name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compat.engine.flow import Flow

__all__ = ["active_flow", "enter_flow", "exit_flow", "flow_run_context", "task_run_context", "task_run_values"]

_building: ContextVar[tuple[Flow, ...]] = ContextVar("compat_engine_building_flows", default=())


def active_flow() -> Flow | None:
    """The innermost flow whose ``with`` block is open in this thread/context, if any."""
    stack = _building.get()
    return stack[-1] if stack else None


def enter_flow(flow: Flow) -> None:
    """Make ``flow`` the active flow until the matching ``exit_flow`` (flows may nest)."""
    _building.set((*_building.get(), flow))


def exit_flow(flow: Flow) -> None:
    """Leave ``flow``'s ``with`` block: the flow around it, if any, becomes active again."""
    stack = _building.get()
    if not stack or stack[-1] is not flow:
        raise RuntimeError(f"flow {flow.name!r} is not the innermost open flow; with-blocks must nest")
    _building.set(stack[:-1])


def flow_run_context(flow_name: str, parameters: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The keys every task run of one flow run shares (computed once per flow run)."""
    date = now if now is not None else datetime.now(timezone.utc)
    day = timedelta(days=1)
    return {
        "flow_name": flow_name,
        "flow_run_id": uuid.uuid4().hex,
        "parameters": dict(parameters),
        "date": date,
        "today": date.strftime("%Y-%m-%d"),
        "yesterday": (date - day).strftime("%Y-%m-%d"),
        "tomorrow": (date + day).strftime("%Y-%m-%d"),
    }


def task_run_context(
    flow_context: Mapping[str, Any],
    task_name: str,
    map_index: int | None,
    inputs: Mapping[str, Any],
) -> dict[str, Any]:
    """The template context of one task run: the flow run's keys, the task's, then parameters and inputs."""
    context = dict(flow_context)
    context["task_name"] = task_name
    context["task_full_name"] = task_name if map_index is None else f"{task_name}[{map_index}]"
    context["map_index"] = map_index
    context["task_run_id"] = os.urandom(16).hex()  # a random 128-bit id; uuid4().hex costs 3x more
    context["task_run_count"] = 1
    context.update(flow_context["parameters"])
    context.update(inputs)
    return context


def task_run_values(
    flow_context: Mapping[str, Any],
    task_name: str,
    map_index: int | None,
    inputs: Mapping[str, Any],
    keys: Iterable[str],
) -> dict[str, Any] | None:
    """The entries of ``task_run_context`` named in ``keys``, and only those (None if one is not in it): what a
    template using only ``keys`` renders alike with, without building the rest (a plan renders one location per
    task, 100,000 for a large flow, and most templates name two or three keys; no ``task_run_id`` is drawn unless
    asked for)."""
    parameters = flow_context["parameters"]
    values: dict[str, Any] = {}
    for key in keys:  # task_run_context's order, from the last to win: inputs, parameters, the task's, the flow's
        if key in inputs:
            values[key] = inputs[key]
        elif key in parameters:
            values[key] = parameters[key]
        elif key in _TASK_KEYS:
            values[key] = _task_value(key, task_name, map_index)
        elif key in flow_context:
            values[key] = flow_context[key]
        else:
            return None
    return values


_TASK_KEYS = frozenset({"task_name", "task_full_name", "map_index", "task_run_id", "task_run_count"})
"""The keys ``task_run_context`` sets per task run."""


def _task_value(key: str, task_name: str, map_index: int | None) -> Any:
    """One of ``_TASK_KEYS`` as ``task_run_context`` sets it."""
    if key == "task_name":
        return task_name
    if key == "task_full_name":
        return task_name if map_index is None else f"{task_name}[{map_index}]"
    if key == "map_index":
        return map_index
    if key == "task_run_id":
        return os.urandom(16).hex()
    return 1  # task_run_count: the first attempt
