"""``Flow``: a graph of tasks with a default Result, built in a ``with`` block, run with ``flow.run()`` and
previewed with ``flow.plan()``.

Inside ``with Flow("etl") as flow:``, calling a task adds a copy of it to the flow, fed by the tasks and values
passed as inputs. ``flow.add_edge`` adds a dependency by hand (and refuses one that would close a cycle).
``flow.result`` is the default Result of every task that has none of its own.

The graph is kept as adjacency lists (each task's inputs and upstream tasks, and each task's downstream tasks),
so building and scheduling cost time linear in the number of tasks and edges.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from compat.engine.context import enter_flow, exit_flow, flow_run_context
from compat.engine.executors import Executor
from compat.engine.parameter import Parameter
from compat.engine.staleness import InvalidateOn, checked_invalidate_on
from compat.engine.states import State
from compat.engine.task import RESULT_EXPECTED, Task
from compat.errors import ArgumentTypeError, FlowError
from compat.results.base import Result
from compat.results.leases import LeaseSetting, lease_setting

if TYPE_CHECKING:  # run and plan import them: a program that only defines flows (or imports compat) skips them
    from compat.engine.plan import Plan, Refresh

__all__ = ["Call", "Flow"]


@dataclass(eq=False, slots=True)
class Call:
    """How one task of a flow gets its inputs: ``constants`` by name; the ``upstream`` tasks, each feeding the
    input named at the same position in ``keys`` (None: run after that task, take nothing from it); the
    ``mapped`` input names (None: the task is not mapped); ``downstream``: the tasks that take its output or run
    after it, once per edge (None: none; a tuple of one for one edge, a list from the second on). Tuples, not lists of
    pairs, and the downstream tasks here rather than in a second dict: a flow holds one Call per task, and fewer
    objects keep a large flow's memory and the garbage collector's share of its run small; a run reads each once,
    long after it was built (in a chain of 100,000 tasks, from main memory rather than a cache)."""

    constants: Mapping[str, Any] = field(default_factory=lambda: _NO_CONSTANTS)
    upstream: tuple[Task, ...] = ()
    keys: tuple[str | None, ...] = ()
    mapped: frozenset[str] | None = None
    downstream: tuple[Task] | list[Task] | None = None

    def copied_constants(self) -> dict[str, Any]:
        """A new dict of the constants, to which a run or a plan adds the inputs it knows (a call without any
        shares one read-only empty mapping: copying it would cost more than a new dict)."""
        constants = self.constants
        return dict(constants) if constants else {}


_NO_CONSTANTS: Mapping[str, Any] = MappingProxyType({})
"""The constants of every call that has none (read-only, shared: one dict fewer per task of a chain)."""


_NO_TASKS: tuple[Task, ...] = ()


class Flow:
    """A named graph of tasks; ``result`` is the default Result for tasks that have none (see
    ``compat.engine.runner`` for what happens when neither sets one). ``invalidate_on``: what makes a stored target
    of its tasks stale, for tasks that do not say (``compat.engine.staleness``). ``lease``: True or a ``Lease`` for
    every task whose Result does not say (``Result(lease=...)``): a run waits for a target another run is making."""

    def __init__(
        self, name: str, result: Result | None = None, invalidate_on: InvalidateOn = None, lease: LeaseSetting = None
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ArgumentTypeError("Flow: name", name, "a non-empty str, e.g. Flow('etl')")
        if result is not None and not isinstance(result, Result):
            raise ArgumentTypeError("result", result, RESULT_EXPECTED)
        self.name = name
        self.result = result
        self.invalidate_on = checked_invalidate_on(invalidate_on, f"Flow {name!r}: invalidate_on")
        self.lease = lease_setting(lease, f"Flow {name!r}: lease")
        self._calls: dict[Task, Call] = {}
        self._parameters: dict[str, Parameter] = {}
        self._keys: dict[tuple[str | None, ...], tuple[str | None, ...]] = {}  # one tuple per distinct input names

    def __enter__(self) -> Flow:
        enter_flow(self)
        _postpone_full_passes()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _resume_full_passes()
        exit_flow(self)

    # -- building -------------------------------------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (with no inputs yet) unless it is already in the flow; return it."""
        if task in self._calls:
            return task
        if not isinstance(task, Task):
            raise ArgumentTypeError("Flow.add_task: task", task, "a Task (e.g. a function decorated with @task)")
        if isinstance(task, Parameter):
            other = self._parameters.get(task.name)
            if other is not None:
                raise FlowError(f"flow {self.name!r} already has a parameter named {task.name!r}; names must be unique")
            self._parameters[task.name] = task
        self._calls[task] = Call()
        return task

    def add_call(self, task: Task, inputs: Mapping[str, Any], mapped: frozenset[str] | None = None) -> None:
        """Add ``task`` fed by ``inputs``: a Task value makes that task an upstream dependency, anything else
        is passed as is. ``mapped``: the input names a mapped task iterates over."""
        if task in self._calls:
            raise FlowError(f"task {task.name!r} is already in flow {self.name!r}; call the task to add a copy")
        constants: dict[str, Any] = {}
        upstream: list[Task] = []
        keys: list[str] = []
        for key, value in inputs.items():
            if isinstance(value, Task):
                self.add_task(value)
                upstream.append(value)
                keys.append(key)
                self._feeds(value, task)
            else:
                _refuse_nested_tasks(task, key, value)
                constants[key] = value
        self.add_task(task)
        names = tuple(keys)
        names = self._keys.setdefault(names, names)  # the calls of one @task share their input names
        self._calls[task] = Call(constants or _NO_CONSTANTS, tuple(upstream), names, mapped)

    def add_edge(self, upstream: Task, downstream: Task, key: str | None = None) -> None:
        """Make ``downstream`` run after ``upstream`` (and receive its result as input ``key``, if given).
        An edge that would close a cycle is refused with a FlowError naming the cycle."""
        self.add_task(upstream)
        self.add_task(downstream)
        cycle = self._path(downstream, upstream)
        if cycle is not None:
            shown = " -> ".join(t.name for t in [upstream, *cycle])
            raise FlowError(f"flow {self.name!r}: the edge {upstream.name} -> {downstream.name} makes a cycle: {shown}")
        call = self._calls[downstream]
        if key is not None and (key in call.constants or key in call.keys):
            raise FlowError(f"task {downstream.name!r} already receives an input named {key!r}")
        call.upstream += (upstream,)
        call.keys += (key,)
        self._feeds(upstream, downstream)

    def _feeds(self, upstream: Task, downstream: Task) -> None:
        """Record the edge ``upstream -> downstream``: a first one as a tuple of one (one object; a list is two, the
        list and its array of items), a list from the second on."""
        call = self._calls[upstream]
        tasks = call.downstream
        if tasks is None:
            call.downstream = (downstream,)
        elif type(tasks) is tuple:
            call.downstream = [*tasks, downstream]
        else:
            tasks.append(downstream)  # type: ignore[union-attr]

    def _path(self, start: Task, goal: Task) -> list[Task] | None:
        """The tasks on a downstream path from ``start`` to ``goal`` (both included), or None."""
        parents: dict[Task, Task | None] = {start: None}
        stack = [start]
        while stack:
            node = stack.pop()
            if node is goal:
                path = [node]
                while (parent := parents[path[-1]]) is not None:
                    path.append(parent)
                return path[::-1]
            for child in self._calls[node].downstream or _NO_TASKS:
                if child not in parents:
                    parents[child] = node
                    stack.append(child)
        return None

    # -- reading the graph ------------------------------------------------------------------------------------

    @property
    def tasks(self) -> tuple[Task, ...]:
        """Every task in the flow, in the order they were added."""
        return tuple(self._calls)

    @property
    def calls(self) -> Mapping[Task, Call]:
        """Each task's inputs and upstream dependencies (read-only)."""
        return MappingProxyType(self._calls)

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """The flow's parameters by name (read-only)."""
        return MappingProxyType(self._parameters)

    def downstream(self, task: Task) -> Sequence[Task]:
        """The tasks that depend on ``task`` (once per edge)."""
        return self._calls[task].downstream or _NO_TASKS

    def get_tasks(self, name: str) -> list[Task]:
        """The tasks named ``name`` (a task called twice appears twice)."""
        return [task for task in self._calls if task.name == name]

    # -- running ----------------------------------------------------------------------------------------------

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        executor: Executor | None = None,
        prune: bool = False,
        refresh: Refresh = None,
        progress: bool = False,
    ) -> State:
        """Run every task once, in dependency order; return the flow's State, whose ``result`` maps each task to
        its State. An unknown or missing parameter, or a mapped task whose target would collide, raises FlowError
        before anything runs.

        ``prune``: a task whose output only cached tasks need is not run and ends ``Skipped`` (see ``plan``).
        ``refresh``: True, or tasks / task names: ignore their stored outputs, run them and everything downstream
        of them, and overwrite their outputs (a write-once Result's stored output stands: see ``compat.engine.plan``).
        ``progress``: a live bar on a terminal (the ``progress`` extra)."""
        from compat.engine.flow_run import FlowRun

        return FlowRun(self, parameters, executor, prune=prune, refresh=refresh, progress=progress).run()

    def plan(
        self, parameters: Mapping[str, Any] | None = None, prune: bool = False, refresh: Refresh = None
    ) -> Plan:
        """What ``run`` with the same arguments would do, without running task code or writing anything: for each
        task ``run``, ``cached`` or ``skip``, with the reason and the rendered location (``compat.engine.plan``).
        Stored outputs are only checked for existence; the run still reads and validates them."""
        from compat.engine.flow_run import resolve_parameters
        from compat.engine.plan import Planner

        values = resolve_parameters(self, parameters, "plan")
        return Planner(self, values, flow_run_context(self.name, values), refresh).plan(prune)

    def __repr__(self) -> str:
        return f"<Flow: {self.name} ({len(self._calls)} tasks)>"


_OLDEST_NEVER = 2**31 - 1
"""A threshold for the oldest generation that is never reached (it counts collections of the middle one)."""

_building_lock = threading.Lock()
_blocks_open = 0  # `with Flow` blocks open in any thread
_thresholds: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None  # (the program's, ours) while open


def _postpone_full_passes() -> None:
    """While flows are built, the cyclic garbage collector makes no full pass: a full pass falls due each time the
    oldest generation has grown by a quarter, and a large flow (a Task and a Call per task call) grows it so fast
    that a 100,000-task build paid 4 to 7 passes over the whole growing graph, where a 10,000-task build paid none.
    Young collections go on as before, so cyclic garbage the program drops while it is young is still collected
    during the block; what had already reached the oldest generation waits for the first full pass after the last
    block closes (the program's thresholds are back then, and the growth calls for one soon). Nothing is frozen and
    no object outlives the block because of it. A program that set the thresholds itself meanwhile keeps its own."""
    global _blocks_open, _thresholds
    with _building_lock:
        _blocks_open += 1
        if _blocks_open == 1:
            young, middle, oldest = gc.get_threshold()
            ours = (young, middle, _OLDEST_NEVER)
            gc.set_threshold(*ours)
            _thresholds = ((young, middle, oldest), ours)


def _resume_full_passes() -> None:
    """The last open ``with Flow`` block closes: the program's thresholds again (unless it set others meanwhile)."""
    global _blocks_open, _thresholds
    with _building_lock:
        _blocks_open -= 1
        if _blocks_open == 0 and _thresholds is not None:
            program, ours = _thresholds
            _thresholds = None
            if gc.get_threshold() == ours:
                gc.set_threshold(*program)


def _refuse_nested_tasks(task: Task, key: str, value: Any) -> None:
    """A task inside a list or dict input would be passed as the Task object, not its result: refuse it."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple, set)) else ()
    nested = next((item for item in items if isinstance(item, Task)), None)
    if nested is not None:
        raise TypeError(
            f"input {key!r} of task {task.name!r} holds the task {nested.name!r} inside a {type(value).__name__}; "
            "tasks are only resolved when passed directly: pass it as its own input, or collect the values "
            "in a task that takes them as inputs"
        )
