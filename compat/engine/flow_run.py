"""One run of a flow: parameters resolved, task runs scheduled in dependency order, one State per task.

Scheduling is Kahn's algorithm over the flow's adjacency lists: each task waits for a count of unfinished
upstream tasks; when the count reaches zero it becomes ready and its run is submitted to the executor as a
``TaskUnit``, with the futures of its upstream runs as arguments (so outputs travel as futures and stay where they
were computed). Finished futures arrive on one queue through ``add_done_callback``, so every executor shares one
scheduler and every step costs O(1) per task and edge.

On an executor that resolves dependencies itself (``resolves_dependencies``: dask), a task that is not mapped is
submitted as soon as its upstream runs are submitted, so a chain runs on the cluster without a round trip through
this process per link; the decisions (a failed upstream, the State it ends with) are still taken here, when its
upstream runs have finished (``_release``).

A task whose upstream task failed ends ``TriggerFailed`` without running. A mapped task is expanded when it
becomes ready: one unit per element, its state gathered from the children's (``map_states``). On an executor
that keeps data on its workers (``remote_data``), the States seen during the run may be provisional (the right
class; the message comes later): when the run ends the executor settles them, bringing back the values of the
flow's terminal tasks (those no task depends on) only; the other States keep ``result`` None and their
``location``.

Before anything runs, a ``Planner`` (``compat.engine.plan``) refuses colliding targets and resolves ``refresh``;
with ``prune`` its plan decides which tasks end ``Skipped``, and the scheduler executes those decisions.
"""

from __future__ import annotations

import gc
import logging
import operator
import queue
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compat.engine.context import flow_run_context
from compat.engine.executors import Executor, LocalExecutor
from compat.engine.parameter import Parameter
from compat.engine.plan import Planner, Refresh
from compat.engine.progress import NO_PROGRESS, Progress, progress_bar
from compat.engine.runner import log_state
from compat.engine.states import Cached, Failed, Skipped, State, Success, TriggerFailed
from compat.engine.task import Task
from compat.engine.unit import TaskUnit, map_length, shape_of
from compat.errors import ArgumentTypeError, FlowError
from compat.results.base import _short_repr

if TYPE_CHECKING:
    from compat.engine.flow import Flow

__all__ = ["FlowRun"]

log = logging.getLogger(__name__)


_AWAITED = object()  # an early task whose upstream runs have finished without failing: its report decides
_DECIDED = object()  # an early task already ended TriggerFailed here: its report is dropped


@dataclass(slots=True)
class _Known:
    """An output the flow run holds itself (a parameter's value), passed on as a constant."""

    value: Any


class FlowRun:
    """Runs ``flow`` once with ``parameters`` on ``executor`` (``LocalExecutor`` by default); ``prune``,
    ``refresh`` and ``progress`` as in ``Flow.run``."""

    def __init__(
        self,
        flow: Flow,
        parameters: Mapping[str, Any] | None,
        executor: Executor | None,
        prune: bool = False,
        refresh: Refresh = None,
        progress: bool = False,
    ) -> None:
        self.flow = flow
        self.values = resolve_parameters(flow, parameters)
        self.given = frozenset(parameters or ())
        if executor is not None and not isinstance(executor, Executor):  # before anything runs, not at `with`
            raise ArgumentTypeError(f"flow {flow.name!r}: run(executor=...)", executor, "an Executor (LocalExecutor, "
                                    "ThreadExecutor, DaskExecutor), or None")
        self.executor = executor if executor is not None else LocalExecutor()
        self.context = flow_run_context(flow.name, self.values)
        planner = Planner(flow, self.values, self.context, refresh)
        self.planner = planner
        self.refreshed = planner.refreshed
        self.invalidate = planner.invalidate
        self.plan = planner.plan(prune=True) if prune else None
        self.show_progress = progress_bar(progress)  # a missing extra is reported before anything runs
        self.progress: Progress = NO_PROGRESS
        self.states: dict[Task, State] = {}
        self._calls = flow.calls
        self._waiting: dict[Task, int] = {}  # a task with several upstream edges -> how many have not finished
        self._ready: deque[Task] = deque()
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: dict[Any, tuple[Task, int | None]] = {}  # submitted future -> its task run
        # each task's output: a future, a list of futures (a mapped task), _Known, or, once finished on an
        # executor without remote data, its children's States (a mapped task) or nothing: its State is its output
        self._outputs: dict[Task, Any] = {}
        self._children: dict[Task, list[State | None]] = {}
        self._children_left: dict[Task, int] = {}
        # an executor that resolves dependencies itself gets a task as soon as its upstream runs are submitted
        self._eager = self.executor.resolves_dependencies
        self._unlaunched: dict[Task, int] = {}  # upstream tasks not yet submitted (or decided)
        self._launchable: deque[Task] = deque()
        self._early: dict[Task, Any] = {}  # submitted early -> None (running), its held State, _AWAITED or _DECIDED
        self._refreezer = Refreezer(False)  # set by run()

    def run(self) -> State:
        log.info("Flow %r: Running: %d tasks, run id %s", self.flow.name, len(self._calls), self.context["flow_run_id"])
        # only a task with several upstream edges waits on a count: one with a single edge is ready when that
        # upstream task finishes (a chain keeps no dict of its size for this)
        for task, call in self._calls.items():
            edges = len(call.upstream)
            if edges > 1:
                self._waiting[task] = edges
            elif not edges:
                self._ready.append(task)
        if self._eager:
            self._unlaunched.update((task, len(call.upstream)) for task, call in self._calls.items())
        with self.show_progress(self.flow.name, len(self._calls)) as self.progress, self.executor, \
                older_objects_frozen() as frozen:
            if not self.executor.remote_data:  # (a cluster's objects in this process are not the run's to keep)
                self._refreezer = frozen
            while self._ready or self._launchable or self._pending:
                while self._ready or self._launchable:
                    if self._ready:
                        self._start(self._ready.popleft())
                    else:
                        self._submit_early(self._launchable.popleft())
                if self._pending:
                    self._collect()
            if self.executor.remote_data:
                self._settle_remote_states()
        state = self._flow_state()
        # a failure is a WARNING, so that with logging's default level the reason is seen without turning on INFO
        log.log(logging.WARNING if state.is_failed() else logging.INFO, "Flow %r: %s: %s", self.flow.name,
                type(state).__name__, state.message)
        return state

    # -- scheduling -------------------------------------------------------------------------------------------

    def _start(self, task: Task) -> None:
        """Every upstream task of ``task`` has finished."""
        if task in self._early:
            return self._release(task)
        self._begin(task)
        if self._eager:
            self._launched(task)
        return None

    def _begin(self, task: Task) -> None:
        """``task`` is ready: finish it at once (skipped, parameter, failed upstream) or submit its run(s)."""
        skipped = self.plan.skipped(task) if self.plan is not None else None
        if skipped is not None:
            self._outputs[task] = _Known(None)
            return self._conclude(task, skipped)
        if isinstance(task, Parameter):
            value = self.values[task.name]
            how = "given" if task.name in self.given else "its default"
            message = f"parameter {task.name!r} is {_short_repr(value)} ({how})"
            self._outputs[task] = _Known(value)
            return self._conclude(task, Success(message, result=value, code="parameter"))
        call = self._calls[task]
        failed = [up.name for up in call.upstream if self.states[up].is_failed()]
        if failed:
            names = ", ".join(repr(name) for name in dict.fromkeys(failed))
            return self._conclude(task, TriggerFailed(f"upstream task {names} failed, so this task did not run"))
        constants = call.copied_constants()
        upstream: dict[str, Any] = {}
        for up, key in zip(call.upstream, call.keys):
            if key is None:
                continue
            output = self._output(up)
            if isinstance(output, _Known):
                constants[key] = output.value
            else:
                upstream[key] = output
        refresh = task in self.refreshed
        if call.mapped is None:
            fed = tuple(upstream)
            unit = TaskUnit(task, constants, fed, (None,) * len(fed), None, self.context, self.flow.result, refresh,
                            self._pruned_upstream(task), invalidate=self.invalidate, code=self.planner.code(task),
                            lease=self.flow.lease)
            self._submit(task, None, unit, tuple(upstream.values()))
            return None
        try:
            count = self._map_count(constants, upstream, call.mapped)
        except FlowError as exc:
            return self._conclude(task, Failed(f"cannot map: {exc}", exception=exc))
        if count == 0:
            self._outputs[task] = []
            return self._conclude(task, _mapped_state([]))
        columns = {key: list(constants[key]) for key in call.mapped if key in constants}
        whole = {key: constants[key] for key in constants if key not in columns}
        self.progress.expand(count)
        self._children[task] = [None] * count
        self._children_left[task] = count
        children = self._outputs[task] = []
        for index in range(count):
            picks: list[int | None] = []
            args: list[Any] = []
            for key, output in upstream.items():
                mapped = key in call.mapped
                if mapped and isinstance(output, list):  # a mapped upstream: child i feeds child i
                    picks.append(None)
                    args.append(output[index])
                else:
                    picks.append(index if mapped else None)
                    args.append(output)
            child_constants = {**whole, **{key: values[index] for key, values in columns.items()}}
            unit = TaskUnit(task, child_constants, tuple(upstream), tuple(picks), index, self.context, self.flow.result,
                            refresh, invalidate=self.invalidate, code=self.planner.code(task),
                            lease=self.flow.lease)
            children.append(self._submit(task, index, unit, tuple(args)))
        return None

    def _map_count(self, constants: dict[str, Any], upstream: dict[str, Any], mapped: frozenset[str]) -> int:
        """How many children a mapped task has: every mapped input must have the same length."""
        lengths: dict[str, int] = {}
        for key in sorted(mapped):
            output = upstream.get(key)
            if key in constants:
                lengths[key] = map_length(key, shape_of(constants[key]))
            elif isinstance(output, list):
                lengths[key] = len(output)
            elif isinstance(output, State):
                lengths[key] = map_length(key, shape_of(output.result))
            else:
                lengths[key] = map_length(key, self.executor.shape(output))
        if len(set(lengths.values())) > 1:
            raise FlowError(f"mapped inputs have different lengths: {lengths}")
        return next(iter(lengths.values()), 0)

    def _submit(self, task: Task, map_index: int | None, unit: TaskUnit, args: tuple[Any, ...]) -> Any:
        future = self.executor.submit(unit, *args)
        self._pending[future] = (task, map_index)
        if map_index is None:
            self._outputs[task] = future
        future.add_done_callback(self._done.put)
        return future

    # -- early submission (an executor that resolves dependencies itself) -------------------------------------

    def _launched(self, task: Task) -> None:
        """``task`` was submitted or decided: a downstream task whose upstream all are can be submitted early."""
        for down in self.flow.downstream(task):
            self._unlaunched[down] -= 1
            if self._unlaunched[down] == 0:
                self._launchable.append(down)

    def _submit_early(self, task: Task) -> None:
        """Submit ``task`` before its upstream runs have finished, their futures as its arguments, so the cluster
        runs it as soon as they have (no round trip through this process per dependency). Only a task that is not
        mapped (its length needs its inputs) nor decided here (skipped, a failed upstream): those wait, as on every
        executor. The unit checks its upstream States itself; the decision stays here (``_release``)."""
        call = self._calls[task]
        if task in self._outputs or task in self.states or call.mapped is not None or isinstance(task, Parameter):
            return
        if self.plan is not None and self.plan.skipped(task) is not None:
            return
        constants = call.copied_constants()
        keys: list[str | None] = []
        args: list[Any] = []
        for up, key in zip(call.upstream, call.keys):
            state = self.states.get(up)
            if state is not None and state.is_failed():
                return
            output = self._output(up)
            if isinstance(output, _Known):
                if key is not None:
                    constants[key] = output.value
            else:  # a future, or a mapped task's list of them; ordering-only edges too, so the cluster waits
                keys.append(key)
                args.append(output)
        unit = TaskUnit(task, constants, tuple(keys), (None,) * len(keys), None, self.context, self.flow.result,
                        task in self.refreshed, self._pruned_upstream(task), checks_upstream=True,
                        invalidate=self.invalidate, code=self.planner.code(task),
                            lease=self.flow.lease)
        self._early[task] = None
        self._submit(task, None, unit, tuple(args))
        self._launched(task)

    def _release(self, task: Task) -> None:
        """The upstream runs of an early task have finished: end it TriggerFailed if one failed (whatever the unit
        reported), else with the State it reported, or the one it will report."""
        held = self._early[task]
        failed = [up.name for up in self._calls[task].upstream if self.states[up].is_failed()]
        if failed:
            if held is None:
                self._early[task] = _DECIDED  # its report, when it comes, is dropped
            else:
                del self._early[task]
            self._outputs[task] = _Known(None)  # nothing to settle: the State is decided here
            names = ", ".join(repr(name) for name in dict.fromkeys(failed))
            return self._conclude(task, TriggerFailed(f"upstream task {names} failed, so this task did not run"))
        if held is None:
            self._early[task] = _AWAITED
            return None
        del self._early[task]
        return self._finish(task, held)

    def _pruned_upstream(self, task: Task) -> tuple[str, ...]:
        """The upstream tasks that ``prune`` skipped: ``task`` was planned Cached and cannot run without them."""
        if self.plan is None:
            return ()
        return tuple(up.name for up in self._calls[task].upstream if isinstance(self.states.get(up), Skipped))

    def _collect(self) -> None:
        """Wait for a submitted run to finish; report it and every other run finished by then (in one batch, so
        an executor that fetches States from elsewhere makes one request for all of them)."""
        self.executor.flush()
        finished = [self._done.get()]
        while True:
            try:
                finished.append(self._done.get_nowait())
            except queue.Empty:
                break
        for future, state in zip(finished, self.executor.outcomes(finished)):
            task, map_index = self._pending.pop(future)
            self._report(task, map_index, state)

    def _output(self, task: Task) -> Any:
        """What ``task`` passes on: its entry in ``_outputs``, else (finished on an executor without remote data)
        its State."""
        output = self._outputs.get(task)
        return output if output is not None else self.states[task]

    def _report(self, task: Task, map_index: int | None, state: State) -> None:
        # on an executor without remote data a finished run's State is its output: its future is dropped, so the
        # outputs held are only those of the runs in flight (a dict of the flow's size fewer)
        local = not self.executor.remote_data
        if map_index is None and task in self._early:
            held = self._early[task]
            if held is None:  # some upstream run has not been reported yet: hold the State until _release
                self._early[task] = state
                return None
            del self._early[task]
            if held is _DECIDED:
                return None
        if map_index is None:
            if local:
                del self._outputs[task]
            return self._finish(task, state)
        self.progress.advance(state)
        self._refreezer.finished()
        children = self._children[task]
        children[map_index] = state
        self._children_left[task] -= 1
        if self._children_left[task] == 0:
            if local:
                self._outputs[task] = children
            self._conclude(task, _mapped_state(children))

    def _conclude(self, task: Task, state: State) -> None:
        """Finish ``task`` with a state the scheduler decided (a task run logs its own)."""
        log_state(task.name, state)
        self._finish(task, state)

    def _finish(self, task: Task, state: State) -> None:
        self.states[task] = state
        self._refreezer.finished()
        if task not in self._children:  # a mapped task's children were counted one by one
            self.progress.advance(state)
        waiting = self._waiting
        for down in self.flow.downstream(task):
            left = waiting.pop(down, 1) - 1  # (a task with one upstream edge has no count: 1)
            if left:
                waiting[down] = left
            else:
                self._ready.append(down)

    def _settle_remote_states(self) -> None:
        """The final States of the runs an executor with remote data ran, in one request: with their values for
        the tasks no task depends on, without for the others (their values stay where they were computed)."""
        settled: dict[Task, Any] = {}
        for task in self._calls:
            output = self._outputs.get(task)
            if output is not None and not isinstance(output, _Known):
                settled[task] = output
        futures: list[Any] = []
        values: list[bool] = []
        for task, output in settled.items():
            runs = output if isinstance(output, list) else [output]
            futures += runs
            values += [not self.flow.downstream(task)] * len(runs)
        states = iter(self.executor.settle(futures, values))
        for task, output in settled.items():
            if isinstance(output, list):
                if output:
                    self.states[task] = _mapped_state([next(states) for _ in output])
            else:
                self.states[task] = next(states)

    def _flow_state(self) -> State:
        """Failed if any task failed, else Success; ``result`` maps every task to its state, in flow order (the
        run's own dict when the tasks finished in that order, as a chain's do: no second dict of the flow's size)."""
        states = self.states
        if len(states) != len(self._calls) or not all(map(operator.is_, states, self._calls)):
            states = {task: states[task] for task in self._calls}
        failed: list[Task] = []
        cached = skipped = 0
        for task, state in states.items():  # one pass over the States (at 100,000 tasks, far apart in memory)
            if state.is_failed():
                failed.append(task)
            elif isinstance(state, Cached):
                cached += 1
            elif isinstance(state, Skipped):
                skipped += 1
        if failed:
            names = ", ".join(f"{t.name!r} ({type(states[t]).__name__})" for t in failed[:5])
            more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
            # the root cause: the first task that failed on its own (the others failed because it did)
            first = next((t for t in failed if not isinstance(states[t], TriggerFailed)), failed[0])
            tasks = "task" if len(states) == 1 else "tasks"
            return Failed(f"{len(failed)} of {len(states)} {tasks} failed: {names}{more}; first, {first.name!r}: "
                          f"{_shortened(_reason(states[first]))}", result=states)
        also = f", {skipped} Skipped" if skipped else ""
        every = "the 1 task" if len(states) == 1 else f"all {len(states)} tasks"
        return Success(f"{every} succeeded ({cached} Cached{also})", result=states)


REFREEZE_EVERY = 5_000
"""Task runs finished between two ``Refreezer.finished`` re-freezes (see ``older_objects_frozen``)."""


class Refreezer:
    """Counts finished task runs and, every ``REFREEZE_EVERY``, collects the cyclic garbage made since the last
    freeze (``gc.collect()``: a full pass traverses only unfrozen objects, so it costs what was made since) and
    freezes what is left. Without it, the run's own States and records piled up in the oldest generation, and the
    collector's full passes, each due when that generation had grown by a quarter, traversed them again and again:
    a 100,000-task run paid about 12 passes where a 10,000-task run paid one. Garbage is never frozen (it is
    collected first); an object frozen here that later becomes cyclic garbage waits for the run's end
    (``gc.unfreeze``) to be collected. A no-op when the run did not freeze (``older_objects_frozen``)."""

    __slots__ = ("active", "left")

    def __init__(self, active: bool) -> None:
        self.active = active
        self.left = REFREEZE_EVERY

    def finished(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.left = REFREEZE_EVERY
            if self.active:
                gc.collect()
                gc.freeze()


@contextmanager
def older_objects_frozen() -> Iterator[Refreezer]:
    """While a flow runs, the objects that existed before it (its graph, the program's data) are kept out of the
    cyclic garbage collector's passes (``gc.freeze``): each full pass would traverse them all again as the run's
    States pile up, which made a 100,000-task run grow faster than its work. Objects the run makes are collected
    as usual, and frozen in batches once they have survived (the ``Refreezer`` yielded); ``gc.unfreeze`` puts
    every frozen object back when the run ends, however it ends, so garbage made before the run is collected
    after it. Nothing is done when the collector is off or the program froze objects itself (its ``gc.freeze`` is
    its own: a run never undoes it)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield Refreezer(False)
        return
    gc.freeze()
    try:
        yield Refreezer(True)
    finally:
        gc.unfreeze()


def resolve_parameters(flow: Flow, given: Mapping[str, Any] | None, action: str = "run") -> dict[str, Any]:
    """Every parameter's value (given, else its default); an unknown or missing one is a FlowError naming it, and
    ``given`` that is not a mapping an ArgumentTypeError. ``action``: ``run`` or ``plan``, for the messages."""
    if given is None:
        given = {}
    elif not isinstance(given, Mapping):
        raise ArgumentTypeError(
            f"flow {flow.name!r}: {action}(parameters=...)", given, "a mapping of parameter names to values, e.g. "
            f"flow.{action}(parameters={{'day': '2024-01-01'}})"
        )
    declared = flow.parameters
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "(none)"
        raise FlowError(f"flow {flow.name!r} has no parameter {', '.join(map(repr, unknown))}; its parameters: {known}")
    missing = sorted(name for name, p in declared.items() if p.required and name not in given)
    if missing:
        raise FlowError(f"flow {flow.name!r} needs a value for the required parameter {', '.join(map(repr, missing))}; "
                        f"pass flow.{action}(parameters={{...}})")
    return {name: given[name] if name in given else p.default for name, p in declared.items()}


_REASON_LIMIT = 200
"""Characters of the first failure's message the flow's message repeats (the task's own State has all of it)."""


def _reason(state: State) -> str:
    """Why ``state`` failed; for a mapped task, its first failed child's message, prefixed with its index."""
    children = state.map_states or []
    index, child = next(((i, c) for i, c in enumerate(children) if c.is_failed()), (None, None))
    if child is None:
        return state.message
    return f"[{index}] {_reason(child)}"


def _shortened(text: str) -> str:
    text = " ".join(text.split())  # one line in a log, whatever the exception's message held
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


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
