"""One run of a flow: parameters resolved, task runs scheduled in dependency order, one State per task.

Scheduling is Kahn's algorithm over the flow's adjacency lists: each task waits for a count of unfinished
upstream tasks; when the count reaches zero it becomes ready and its run is submitted to the executor. Each
submitted unit reports ``(task, map_index, state)`` on a queue, so the sequential and the threaded executor share
one scheduler, and every step costs O(1) per task and edge.

A task whose upstream task failed ends ``TriggerFailed`` without running. A mapped task is expanded when it
becomes ready: one unit per element, its state gathered from the children's (``map_states``).
"""

from __future__ import annotations

import logging
import queue
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from compat.engine.context import flow_run_context
from compat.engine.executors import Executor, LocalExecutor
from compat.engine.parameter import Parameter
from compat.engine.runner import TaskRun, log_state
from compat.engine.states import Cached, Failed, State, Success, TriggerFailed
from compat.engine.task import Task
from compat.errors import FlowError
from compat.results.base import _short_repr

if TYPE_CHECKING:
    from compat.engine.flow import Flow

__all__ = ["FlowRun"]

log = logging.getLogger(__name__)

_Report = tuple[Task, "int | None", State]


class FlowRun:
    """Runs ``flow`` once with ``parameters`` on ``executor`` (``LocalExecutor`` by default)."""

    def __init__(self, flow: Flow, parameters: Mapping[str, Any] | None, executor: Executor | None) -> None:
        self.flow = flow
        self.given = frozenset(parameters or ())
        self.values = resolve_parameters(flow, parameters or {})
        self.executor = executor if executor is not None else LocalExecutor()
        self.context = flow_run_context(flow.name, self.values)
        self.states: dict[Task, State] = {}
        self._calls = flow.calls
        self._waiting: dict[Task, int] = {}
        self._ready: deque[Task] = deque()
        self._reports: queue.SimpleQueue[_Report] = queue.SimpleQueue()
        self._outstanding = 0
        self._children: dict[Task, list[State | None]] = {}
        self._children_left: dict[Task, int] = {}

    def run(self) -> State:
        log.info("Flow %r: Running: %d tasks, run id %s", self.flow.name, len(self._calls), self.context["flow_run_id"])
        for task, call in self._calls.items():
            self._waiting[task] = len(call.upstream)
            if not call.upstream:
                self._ready.append(task)
        with self.executor:
            while self._ready or self._outstanding:
                while self._ready:
                    self._start(self._ready.popleft())
                if self._outstanding:
                    task, map_index, state = self._reports.get()
                    self._outstanding -= 1
                    self._report(task, map_index, state)
        state = self._flow_state()
        log.info("Flow %r: %s: %s", self.flow.name, type(state).__name__, state.message)
        return state

    # -- scheduling -------------------------------------------------------------------------------------------

    def _start(self, task: Task) -> None:
        """``task`` is ready: finish it at once (parameter, failed upstream) or submit its run(s)."""
        if isinstance(task, Parameter):
            value = self.values[task.name]
            how = "given" if task.name in self.given else "its default"
            message = f"parameter {task.name!r} is {_short_repr(value)} ({how})"
            return self._conclude(task, Success(message, result=value))
        call = self._calls[task]
        failed = [up.name for up in call.upstream if self.states[up].is_failed()]
        if failed:
            names = ", ".join(repr(name) for name in dict.fromkeys(failed))
            return self._conclude(task, TriggerFailed(f"upstream task {names} failed, so this task did not run"))
        inputs = dict(call.constants)
        for up, key in zip(call.upstream, call.keys):
            if key is not None:
                inputs[key] = self.states[up].result
        if call.mapped is None:
            return self._submit(task, None, inputs)
        try:
            children = expand_map(inputs, call.mapped)
        except FlowError as exc:
            return self._conclude(task, Failed(f"cannot map: {exc}", exception=exc))
        if not children:
            return self._conclude(task, _mapped_state([]))
        self._children[task] = [None] * len(children)
        self._children_left[task] = len(children)
        for index, child_inputs in enumerate(children):
            self._submit(task, index, child_inputs)

    def _submit(self, task: Task, map_index: int | None, inputs: dict[str, Any]) -> None:
        reports = self._reports
        flow_context = self.context
        default_result = self.flow.result

        def unit() -> None:
            state: State | None = None
            try:
                state = TaskRun(task, inputs, map_index, flow_context, default_result).run()
            finally:  # the scheduler waits for one report per unit, whatever happens in it
                if state is None:
                    state = Failed("the task run was interrupted")
                reports.put((task, map_index, state))

        self._outstanding += 1
        self.executor.submit(unit)

    def _report(self, task: Task, map_index: int | None, state: State) -> None:
        if map_index is None:
            return self._finish(task, state)
        children = self._children[task]
        children[map_index] = state
        self._children_left[task] -= 1
        if self._children_left[task] == 0:
            self._conclude(task, _mapped_state(children))

    def _conclude(self, task: Task, state: State) -> None:
        """Finish ``task`` with a state the scheduler decided (a task run logs its own)."""
        log_state(task.name, state)
        self._finish(task, state)

    def _finish(self, task: Task, state: State) -> None:
        self.states[task] = state
        for down in self.flow.downstream(task):
            self._waiting[down] -= 1
            if self._waiting[down] == 0:
                self._ready.append(down)

    def _flow_state(self) -> State:
        """Failed if any task failed, else Success; ``result`` maps every task to its state, in flow order."""
        states = {task: self.states[task] for task in self._calls}
        failed = [task for task, state in states.items() if state.is_failed()]
        if failed:
            names = ", ".join(f"{t.name!r} ({type(states[t]).__name__})" for t in failed[:5])
            more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
            return Failed(f"{len(failed)} of {len(states)} tasks failed: {names}{more}", result=states)
        cached = sum(1 for state in states.values() if isinstance(state, Cached))
        return Success(f"all {len(states)} tasks succeeded ({cached} Cached)", result=states)


def resolve_parameters(flow: Flow, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value (given, else its default); an unknown or missing one is a FlowError naming it."""
    declared = flow.parameters
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "(none)"
        raise FlowError(f"flow {flow.name!r} has no parameter {', '.join(map(repr, unknown))}; its parameters: {known}")
    missing = sorted(name for name, p in declared.items() if p.required and name not in given)
    if missing:
        raise FlowError(f"flow {flow.name!r} needs a value for the required parameter {', '.join(map(repr, missing))}; "
                        "pass flow.run(parameters={...})")
    return {name: given[name] if name in given else p.default for name, p in declared.items()}


def expand_map(inputs: Mapping[str, Any], mapped: frozenset[str]) -> list[dict[str, Any]]:
    """One input dict per element of the mapped inputs (which must all have the same length)."""
    columns: dict[str, list[Any]] = {}
    for key in mapped:
        try:
            columns[key] = list(inputs[key])
        except TypeError:
            raise FlowError(f"input {key!r} is not iterable ({type(inputs[key]).__name__}), so it cannot be mapped "
                            "over; wrap it in unmapped(...) to pass it whole") from None
    lengths = {key: len(values) for key, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise FlowError(f"mapped inputs have different lengths: {lengths}")
    count = next(iter(lengths.values()), 0)
    return [{**inputs, **{key: values[i] for key, values in columns.items()}} for i in range(count)]


def _mapped_state(children: list[State | None]) -> State:
    """A mapped task's state from its children's: failed if any failed, Cached if all were, else Success."""
    states = [child for child in children if child is not None]
    results = [child.result for child in states]
    failed = [i for i, child in enumerate(states) if child.is_failed()]
    if failed:
        shown = ", ".join(f"[{i}] {type(states[i]).__name__}" for i in failed[:5])
        return Failed(f"{len(failed)} of {len(states)} mapped runs failed: {shown}", result=results, map_states=states)
    cached = sum(1 for child in states if isinstance(child, Cached))
    kind = Cached if states and cached == len(states) else Success
    return kind(f"{len(states)} mapped runs ({cached} Cached)", result=results, map_states=states)
