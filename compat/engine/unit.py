"""A unit of work: one task run, as a picklable callable that an executor runs wherever it runs things.

``TaskUnit(*upstream) -> State`` holds everything the run needs except its upstream outputs: the task, its
constant inputs, the run context and the flow's default Result. The upstream outputs arrive as arguments, each a
finished upstream State (or a list of them, for a mapped upstream task): the executor replaces the futures the flow
run passed with the States they hold, so an output computed on a worker travels worker to worker and never through
the process that called ``flow.run()``.

A mapped child takes element ``map_index`` of a mapped input itself (``picks``), so the flow run needs only the
input's length, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any, NamedTuple

from compat.engine.runner import TaskRun
from compat.engine.staleness import NOT_INVALIDATED, InvalidateSettings, list_fingerprint
from compat.engine.states import State, TriggerFailed
from compat.engine.task import Task
from compat.errors import FlowError
from compat.results.base import Result
from compat.results.leases import Lease

__all__ = ["Shape", "TaskUnit", "element", "map_length", "shape_of"]


@dataclass(slots=True)
class TaskUnit:
    """One run of ``task``: ``constants`` by name, and for each upstream argument the input it feeds (``keys``)
    (None: only run after it) and, for a mapped child, whether it takes the whole value (None) or one element of it
    (an index). ``refresh`` and ``pruned``: the flow run's decisions for this task (see ``TaskRun``); ``invalidate``
    and ``code``: what makes its target stale (the flow run's settings, asked of the task only when a stored target
    is judged), and its code's fingerprint, taken where the flow runs (a function sent
    to a worker by value has no source there to fingerprint). ``lease``: the flow's ``lease=``.
    ``checks_upstream``: submitted before its upstream runs finished, so it does not run when one failed."""

    task: Task
    constants: dict[str, Any]
    keys: tuple[str | None, ...]
    picks: tuple[int | None, ...]
    map_index: int | None
    flow_context: Mapping[str, Any]
    default_result: Result | None
    refresh: bool = False
    pruned: tuple[str, ...] = ()
    checks_upstream: bool = False
    invalidate: InvalidateSettings = NOT_INVALIDATED
    code: str | None = None
    lease: Lease | bool | None = None

    def __call__(self, *upstream: State | list[State]) -> State:
        if self.checks_upstream and any(
            state.is_failed() for given in upstream for state in (given if isinstance(given, list) else [given])
        ):  # submitted before its upstream finished: do not run (the flow run says which upstream failed)
            return TriggerFailed("an upstream task failed, so this task did not run")
        inputs = dict(self.constants)
        known: dict[str, str] = {}
        for key, pick, given in zip(self.keys, self.picks, upstream):
            if key is None:  # an ordering-only edge
                continue
            value = [state.result for state in given] if isinstance(given, list) else given.result
            inputs[key] = value if pick is None else element(value, pick)
            fingerprint = recorded_fingerprint(given)
            if fingerprint is not None:
                known[key] = fingerprint if pick is None else f"{fingerprint}[{pick}]"
        upstream_keys = frozenset(key for key in self.keys if key is not None)
        return TaskRun(
            self.task, inputs, self.map_index, self.flow_context, self.default_result, self.refresh, self.pruned,
            self.invalidate, known, upstream_keys, self.code, self.lease,
        ).run()


def recorded_fingerprint(given: State | list[State]) -> str | None:
    """An upstream output's fingerprint from its record (the hash of its stored bytes, so nothing is hashed again),
    or None when it has none (kept in memory, written without a record): the value's own is taken then."""
    if isinstance(given, list):
        parts = [recorded_fingerprint(state) for state in given]
        return None if any(part is None for part in parts) else list_fingerprint(parts)  # type: ignore[arg-type]
    record = given.record
    return None if record is None else record.bytes_hash


class Shape(NamedTuple):
    """What the flow run needs to know of an output it maps over: its length (None if it has none), its type."""

    length: int | None
    type_name: str
    iterable: bool


def shape_of(value: Any) -> Shape:
    iterable = hasattr(value, "__iter__")
    length = len(value) if iterable and isinstance(value, Sized) else None
    return Shape(length, type(value).__name__, iterable)


def map_length(key: str, shape: Shape) -> int:
    """How many children mapping over an input of ``shape`` makes; a FlowError when it cannot be mapped over."""
    if shape.length is not None:
        return shape.length
    if shape.iterable:
        raise FlowError(f"input {key!r} is a {shape.type_name}, which has no length, so its elements cannot be "
                        "handed out to mapped runs; return a list or a tuple")
    raise FlowError(f"input {key!r} is not iterable ({shape.type_name}), so it cannot be mapped over; "
                    "wrap it in unmapped(...) to pass it whole")


def element(value: Any, index: int) -> Any:
    """Element ``index`` of a mapped input, in iteration order (a sequence is indexed, a set or dict listed)."""
    if isinstance(value, Sequence):
        return value[index]
    return list(value)[index]
