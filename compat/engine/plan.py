"""Plans: what a flow run will do, decided before any task runs (``flow.plan``, ``prune=``, ``refresh=``).

A plan is a report, not a second engine (Make's ``-n``): it decides from the same functions the runner uses
(``compat.engine.targets``), and ``flow.run`` executes the decisions of a plan made with its own flow context,
so the two cannot disagree. For each task the plan says ``run``, ``cached`` or ``skip`` and why:

- ``cached``: the task's location renders from parameters and context alone and an output is stored there (and
  is fresh, for a caching Result). Only existence is checked: the run still reads and validates the value, and
  runs the task after all if the stored value is rejected.
- ``skip`` (only with ``prune=True``): every task that consumes its output is cached or skipped itself, so it is
  not needed (Luigi's backward completeness check). Decided from the sinks backwards; a skipped task is never
  looked up. A task that cannot be decided this way runs as it does without ``prune``.
- ``run``: everything else; the reason says why (no target, nothing stored yet, a location that depends on
  an upstream output, a mapped task, a refresh).

Each step carries a stable reason ``code`` (``compat.engine.reasons``) beside its sentence. A cached step whose
target's record disagrees with the task's code or inputs now says what changed (``changes``): with ``invalidate_on``
for that kind it runs (``code-changed``, ``inputs-changed``, ``upstream-changed``), without it stays cached and
still says stale. Fingerprints of upstream outputs come from their records; an upstream task that will be rebuilt
makes its consumers ``upstream-changed`` unless it stores the same bytes (decided when it has run: early cutoff).
Tasks are decided in dependency order, then ``prune`` looks from the sinks backwards.

``refresh=`` names tasks (or ``True`` for all) whose stored outputs are ignored and overwritten; every task
downstream of one is refreshed too, as its inputs may change. A task whose Result is write-once
(``overwrite=False``) cannot overwrite what is stored, so it is not refreshed: the plan and the run both treat it
as without ``refresh`` (its stored output stands, and a WARNING says so), and nothing downstream is refreshed
because of it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from compat.engine.context import task_run_context, task_run_values
from compat.engine.parameter import Parameter
from compat.engine.runner import _describe
from compat.engine.staleness import NO_RECORD, Change, InvalidateSettings, Verdict, code_of, input_fingerprint, judge
from compat.engine.states import Skipped
from compat.engine.targets import (
    cache_terms,
    check_settings,
    choose_result,
    choose_results,
    keeps_in_memory,
    refuse_colliding_targets,
    stored_at,
    template_keys,
    write_once,
)
from compat.results.leases import Holder, Lease
from compat.results.records import TargetRecord
from compat.engine.task import Task
from compat.errors import ArgumentTypeError
from compat.results.base import Location, Result, _short_repr
from compat.results.local import LocalResult

if TYPE_CHECKING:
    from compat.engine.flow import Call, Flow

__all__ = ["Plan", "Planner", "Refresh", "Step"]

log = logging.getLogger(__name__)

Refresh = Union[bool, str, Task, Iterable[Union[str, Task]], None]
"""What ``refresh=`` accepts: True (every task), a task or task name, or several; None or False: none."""

_SHOWN = 5  # names listed in a reason before "and N more"


@dataclass(frozen=True, slots=True)
class Step:
    """The plan for one task: ``action`` is ``"run"``, ``"cached"`` or ``"skip"``; ``reason`` is one sentence and
    ``code`` its stable reason code (``compat.engine.reasons``); ``location`` is where its output is stored, when
    that can be rendered before the run; ``changes`` what differs from the target's record."""

    task: Task
    action: str
    reason: str
    location: str | None = None
    code: str = ""
    changes: tuple[Change, ...] = ()
    record: TargetRecord | None = None
    holder: Holder | None = None
    """Who holds the target's lease (code ``leased``)."""

    def __init__(
        self, task: Task, action: str, reason: str, location: str | None = None, code: str = "",
        changes: tuple[Change, ...] = (), record: TargetRecord | None = None, holder: Holder | None = None,
    ) -> None:  # fmt: skip
        """The frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (2.2 us a step; a
        plan makes one per task): a Step is filled as its unfrozen twin instead (one slots layout), 0.6 us."""
        kind = type(self)
        if kind is not Step:  # a subclass may have another layout
            for name, value in zip(Step.__slots__, (task, action, reason, location, code, changes, record, holder)):
                object.__setattr__(self, name, value)
            return
        filling: Any = self
        object.__setattr__(filling, "__class__", _UnfrozenStep)
        filling.task, filling.action, filling.reason, filling.location = task, action, reason, location
        filling.code, filling.changes, filling.record, filling.holder = code, changes, record, holder
        filling.__class__ = Step

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "task": self.task.name, "action": self.action, "code": self.code, "reason": self.reason,
            "location": self.location, "changes": [change.to_dict() for change in self.changes],
        }  # fmt: skip
        if self.holder is not None:
            shown["holder"] = self.holder.to_dict()
        return shown


class _UnfrozenStep:
    """A ``Step`` being filled (``Step.__init__``)."""

    __slots__ = Step.__slots__  # type: ignore[attr-defined]


class Plan:
    """What ``flow.run`` would do, one ``Step`` per task in flow order (a mapped task is one step). Look a step up
    with ``plan[task]`` or ``plan["task name"]``; ``str(plan)`` is a table (with each step's reason code and
    sentence) and ``to_dict()`` is JSON-ready."""

    __slots__ = ("flow_name", "steps")

    def __init__(self, flow_name: str, steps: Mapping[Task, Step]) -> None:
        self.flow_name = flow_name
        self.steps = dict(steps)

    def __getitem__(self, key: Task | str) -> Step:
        if isinstance(key, Task):
            try:
                return self.steps[key]
            except KeyError:
                raise KeyError(f"task {key.name!r} is not in flow {self.flow_name!r}") from None
        matches = [step for task, step in self.steps.items() if task.name == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise KeyError(f"flow {self.flow_name!r} has {len(matches)} tasks named {key!r}; look one up by the task")
        raise KeyError(f"flow {self.flow_name!r} has no task named {key!r}; its tasks: {_task_names(self.steps)}")

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def __len__(self) -> int:
        return len(self.steps)

    def count(self, action: str) -> int:
        """How many tasks have ``action``, parameters aside (their values are known: nothing runs for them)."""
        return sum(1 for step in self.steps.values() if step.action == action and not isinstance(step.task, Parameter))

    def skipped(self, task: Task) -> Skipped | None:
        """The state a run gives ``task`` without running it, when the plan skips it."""
        step = self.steps.get(task)
        return Skipped(step.reason, code=step.code) if step is not None and step.action == "skip" else None

    def summary(self) -> str:
        return (f"flow {self.flow_name!r}: {self.count('run')} to run, {self.count('cached')} cached, "
                f"{self.count('skip')} skipped")

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow_name, "tasks": [step.to_dict() for step in self.steps.values()]}

    def __str__(self) -> str:
        rows = [("task", "action", "code", "location", "reason")]
        rows += [(_shown(s.task.name), s.action, s.code or "-", _shown(s.location or "-"), _shown(s.reason))
                 for s in self.steps.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] for row in rows]
        return "\n".join([f"Plan for {self.summary()}", *lines])

    def __repr__(self) -> str:
        return f"<Plan: {self.summary()}>"


class Planner:
    """Decides a plan for one flow run: refuses colliding targets and resolves ``refresh`` at once (before
    anything runs), then ``plan(prune)`` looks up each task's stored output with the run's ``flow_context``."""

    def __init__(self, flow: Flow, values: Mapping[str, Any], flow_context: Mapping[str, Any], refresh: Refresh) -> None:
        self.calls = calls = flow.calls
        # step 1 for every task, once: the checks below and each step use the same copy
        self.results = choose_results((task for task in calls if not isinstance(task, Parameter)), flow.result)
        refuse_colliding_targets(flow.name, calls.items(), flow.result, self.results)
        check_settings(self.results.values())
        self.flow = flow
        self.values = values
        self.flow_context = flow_context
        self.refreshed, self.write_once = refreshed_tasks(flow, refresh)
        if self.write_once:
            _warn_write_once(self.write_once, flow.result)
        self.invalidate = InvalidateSettings(flow.invalidate_on)
        self.parameters = frozenset(flow.parameters.values())
        self.steps: dict[Task, Step] = {}  # decided so far, in dependency order
        self.wheres: dict[int, _Where] = {}  # by the chosen Result's id
        self.codes: dict[Any, str | None] = {}  # by function (a flow calls one @task many times)

    def plan(self, prune: bool = False) -> Plan:
        """Decide every task in dependency order (a consumer's inputs are fingerprinted from its producers'
        records); with ``prune``, then skip from the sinks backwards what only cached tasks need."""
        order = _topological(self.flow)
        steps = self.steps
        for task in order:
            steps[task] = self.decide(task)
        if prune:
            covered: dict[Task, list[str]] = {}  # a skipped task: the cached tasks that make it unnecessary
            for task in reversed(order):
                cached_by = self.covering(task, steps, covered)
                if cached_by is not None:
                    covered[task], direct = cached_by
                    steps[task] = Step(task, "skip", _not_needed(covered[task], direct), steps[task].location,
                                       "not-needed")
        plan = Plan(self.flow.name, {})
        # in flow order, made here (not copied again): the steps are, when they were decided in that order
        plan.steps = steps if order == list(self.calls) else {task: steps[task] for task in self.calls}
        return plan

    def covering(
        self, task: Task, steps: Mapping[Task, Step], covered: Mapping[Task, list[str]]
    ) -> tuple[list[str], bool] | None:
        """The cached tasks that make ``task`` unnecessary (and whether they consume it directly), or None when
        a consumer will run, or nothing consumes it (a sink, whose output is what the run is for)."""
        consumers = self.flow.downstream(task)
        if not consumers or isinstance(task, Parameter) or task in self.refreshed:
            return None
        names: dict[str, None] = {}
        direct = True
        for consumer in consumers:
            action = steps[consumer].action
            if action == "cached":
                names[consumer.name] = None
            elif action == "skip":
                direct = False
                names.update(dict.fromkeys(covered[consumer]))
            else:
                return None
        return list(names)[: _SHOWN + 1], direct

    def decide(self, task: Task) -> Step:
        """One task's step, its upstream tasks' steps decided already."""
        if isinstance(task, Parameter):
            return Step(task, "run", f"parameter {task.name!r} is {_short_repr(self.values[task.name])}",
                        code="parameter")
        result = self.results[task]
        where = self.where(result)
        rendered, shown, undecided = self.locate(task, result, where)
        if task in self.refreshed:
            return Step(task, "run", _refresh_reason(self.refreshed[task]), shown, "refresh")
        if undecided is not None:
            return Step(task, "run", *undecided[:1], shown, undecided[1])
        step = self.look_up(task, result, rendered, shown)
        if where.lease and step.action == "run" and step.code in _REBUILDS:
            step = self.leased(step, result, rendered, where.lease)
        if task in self.write_once and step.action == "cached":
            return Step(task, "cached", f"not refreshed: its {type(result).__name__} is write-once (overwrite=False), "
                                        f"so its stored output stands; {step.reason}", shown, "write-once",
                        step.changes, step.record)
        return step

    def where(self, result: Result) -> _Where:
        """What this plan knows of ``result`` before any task: decided once for all the tasks that share it."""
        where = self.wheres.get(id(result))  # the chosen Results are kept in self.results: no id is reused
        if where is None:
            where = self.wheres[id(result)] = _Where(result, self.flow.lease)
        return where

    def locate(
        self, task: Task, result: Result, where: _Where
    ) -> tuple[str | None, str | None, tuple[str, str] | None]:
        """``(rendered, resolved, None)`` when the location renders from parameters and context alone, else
        ``(None, None, (why not, reason code))``."""
        call = self.calls[task]
        if call.mapped is not None:
            return None, None, ("mapped: each child checks its own target when it runs", "mapped")
        if where.undecided is not None:
            return None, None, where.undecided
        keys = where.keys  # None: a callable, which may use any key
        if call.keys and (keys is None or not keys.isdisjoint(call.keys)):
            upstream = [key for up, key in zip(call.upstream, call.keys)
                        if key is not None and not isinstance(up, Parameter) and (keys is None or key in keys)]
            if upstream:
                depends = ", ".join(repr(key) for key in dict.fromkeys(upstream))
                how = "is computed from the run's inputs, including" if keys is None else "depends on"
                return None, None, (f"location {how} upstream output {depends}", "upstream-location")
        try:
            rendered = self.render(task, call, result, where)
            return rendered, None if rendered is None else result.resolve(rendered), None
        except Exception as exc:  # TemplateError, LocationError, or whatever a target callable raised
            return None, None, (f"cannot render the output location, so the run fails there: {_describe(exc)}",
                                "bad-location")

    def render(self, task: Task, call: Call, result: Result, where: _Where) -> str | None:
        """The location the task's run will render: from the entries of its run's context that the template names,
        where the backend's ``render`` reads no others; from the whole context otherwise, and to raise the error
        of a template that cannot be rendered (it lists every key there is)."""
        # the inputs known before the run: its constants as they are (only read), unless it takes a parameter
        inputs = call.constants if self.parameters.isdisjoint(call.upstream) else self.known_inputs(task)
        if where.renders_from_keys:
            values = task_run_values(self.flow_context, task.name, None, inputs, where.keys)  # type: ignore[arg-type]
            if values is not None:
                try:
                    return result.render(where.template, values)
                except Exception:  # a key only a format spec names, say: rendered again below, as the run would
                    pass
        return result.render(where.template, task_run_context(self.flow_context, task.name, None, inputs))

    def known_inputs(self, task: Task) -> dict[str, Any]:
        """The inputs of ``task`` known before the run: its constants and the parameters it takes."""
        call = self.calls[task]
        inputs = call.copied_constants()
        for up, key in zip(call.upstream, call.keys):
            if key is not None and isinstance(up, Parameter):  # known before the run; the template uses no other
                inputs[key] = self.values[up.name]
        return inputs

    def look_up(self, task: Task, result: Result, rendered: str | None, shown: str | None) -> Step:
        """Step 2/3's question, answered without reading: is a reusable output stored at ``rendered``, and does
        its record agree with the task's code and inputs now? Existence is asked first: a target not stored yet
        (every target of a first run) costs that one look-up, a stored one also the record's."""
        caches = result.caches
        try:
            found = stored_at(result, rendered, shown)
            record = result.record(shown, resolved=True) if found else None  # type: ignore[arg-type]
            exists = found or (caches and result.exists_at(shown))  # type: ignore[arg-type]
        except Exception as exc:  # a backend failing: the run fails at the same check
            return Step(task, "run", f"cannot check the target {rendered!r}, so the run fails there: {_describe(exc)}",
                        shown, "check-failed")
        if caches:
            if found:
                return Step(task, "cached", f"output at {rendered!r} is fresh ({cache_terms(result)}); the run "
                                            "still reads and validates it", shown, "fresh", record=record)
            return Step(task, "run", f"no output at {rendered!r} is fresh enough to reuse ({cache_terms(result)})",
                        shown, "expired" if exists else "missing")
        if not found:
            return Step(task, "run", f"no target at {rendered!r}", shown, "missing")
        verdict = self.judge(task, record)
        stale = verdict.deciding(self.invalidate[task])
        if stale is not None and not write_once(result):
            return Step(task, "run", f"target {rendered!r} is stale: {verdict.sentence()}", shown, stale,
                        verdict.changes, record)
        reason = f"target {rendered!r} exists; the run still reads and validates it"
        if verdict.changes:
            reason += f"; stale ({verdict.sentence()}), reused as invalidate_on does not ask to rebuild it"
        code = "write-once" if stale is not None else verdict.code
        return Step(task, "cached", reason, shown, code, verdict.changes, record)

    def leased(self, step: Step, result: Result, rendered: str | None, setting: Lease | bool) -> Step:
        """``step`` as ``leased`` when another run holds the target's lease now (``setting``: the task's lease=)."""
        if rendered is None:
            return step
        try:
            holder = result.lease_holder(rendered)
        except Exception as exc:  # a backend failing: the run fails there
            return Step(step.task, "run", f"cannot look up the lease on {rendered!r}, so the run fails there: "
                        f"{_describe(exc)}", step.location, "check-failed")
        if holder is None:
            return step
        wait = setting.wait if isinstance(setting, Lease) else Lease().wait
        return Step(step.task, "run", f"being made elsewhere: {holder.describe()} holds its lease; the run waits up "
                    f"to {wait:g} s for that output ({step.reason})", step.location, "leased", step.changes,
                    step.record, holder)

    def judge(self, task: Task, record: TargetRecord | None) -> Verdict:
        """``record`` against the fingerprints of ``task``'s code and inputs as this plan knows them: parameters
        and constants by value, upstream outputs by their records (None when the upstream task rebuilds first;
        left out when it is unknown before the run)."""
        if record is None:
            return NO_RECORD
        call = self.calls[task]
        inputs: dict[str, str | None] = {
            key: input_fingerprint(value) for key, value in self.known_inputs(task).items()
        }
        upstream: list[str] = []
        for up, key in zip(call.upstream, call.keys):
            if key is None or isinstance(up, Parameter):
                continue
            upstream.append(key)
            step = self.steps.get(up)
            if step is None:
                continue
            if step.action == "run" and step.code in _REBUILDS:
                inputs[key] = None
            elif step.record is not None:
                inputs[key] = step.record.bytes_hash
        return judge(record, self.code(task), inputs, upstream)

    def code(self, task: Task) -> str | None:
        """The fingerprint of ``task``'s code, taken once per run here, where the flow was built (the runs on
        workers are given it)."""
        if isinstance(task, Parameter):
            return None
        fn = getattr(task, "fn", None)
        made_by = fn if fn is not None else type(task)  # what code_of fingerprints: one per function, not per call
        try:
            return self.codes[made_by]
        except KeyError:
            code = self.codes[made_by] = code_of(task)
            return code
        except TypeError:  # an unhashable callable
            return code_of(task)


_FRESH_KEYS = ("flow_run_id", "task_run_id")
"""Template keys whose value is new on every run: a location naming one is never found again."""


class _Where:
    """What a plan knows of one chosen Result before it looks at any task: its template and the keys it names,
    why no target can be looked up (``undecided``: why, reason code), the lease its tasks take (None: none), and
    whether its ``render`` reads only the keys its template names. The calls of one ``@task`` share their Result
    (``choose_results``), so this is decided once for all of them, not once per task."""

    __slots__ = ("keys", "lease", "renders_from_keys", "template", "undecided")

    def __init__(self, result: Result, flow_lease: Lease | bool | None) -> None:
        self.template = template = result.template
        self.keys = keys = template_keys(template)
        self.undecided = _no_target(result, template, keys)
        own = getattr(result, "lease", None)  # a Result subclass may skip Result.__init__
        setting = own if own is not None else flow_lease
        # a task run takes a lease only with a setting and a backend that can lease (it fails otherwise), so
        # without both there is no lease to find
        self.lease = setting if setting and result.can_lease else None
        self.renders_from_keys = keys is not None and type(result).render in _RENDERS_FROM_KEYS


_RENDERS_FROM_KEYS = (Result.render, LocalResult.render)
"""``render`` methods that read no key of the context but those the template names (``render_location``'s
``format_map``): a location is rendered alike from those entries alone. A backend's own ``render`` may read more."""


def _no_target(result: Result, template: Location, keys: frozenset[str] | None) -> tuple[str, str] | None:
    """Why no target of ``result`` can be looked up before the run (its sentence and reason code), or None."""
    if template is None:
        if keeps_in_memory(result):
            return "no target: no Result is configured, so its output is kept in memory only", "no-target"
        return "no target: its Result has no location template, so each run writes a new output", "no-target"
    if keys is not None and not keys.isdisjoint(_FRESH_KEYS):
        fresh = [key for key in _FRESH_KEYS if key in keys]
        return f"no target: its location names {{{fresh[0]}}}, which is new on every run", "no-target"
    return None

_REBUILDS = frozenset({"missing", "expired", "refresh", "invalidated", "code-changed", "inputs-changed", "upstream-changed",
                       "unreadable", "untrusted", "invalid"})
"""The codes of a step that rebuilds a stored output, so its consumers' inputs change (unless it stores the same
bytes)."""


def refreshed_tasks(flow: Flow, refresh: Refresh) -> tuple[dict[Task, str | None], list[Task]]:
    """Each refreshed task, mapped to the refreshed task upstream of it that made it so (None: named itself), and
    the tasks refresh= reaches but cannot rerun (write-once, see ``_cannot_overwrite``): those are left out, and so
    is whatever only they would have refreshed. An unknown name or a task from another flow is a ValueError
    listing the flow's task names; anything but True, tasks or task names is a TypeError."""
    chosen = _named(flow, refresh)
    refreshed: dict[Task, str | None] = {}
    held: dict[Task, None] = {}
    queue: deque[Task] = deque()
    for task in chosen:
        if _cannot_overwrite(task, flow.result):
            held[task] = None
        elif task not in refreshed:
            refreshed[task] = None
            queue.append(task)
    while queue:
        task = queue.popleft()
        for down in flow.downstream(task):
            if down in refreshed or down in held:
                continue
            if _cannot_overwrite(down, flow.result):
                held[down] = None
                continue
            refreshed[down] = task.name if refreshed[task] is None else refreshed[task]
            queue.append(down)
    return refreshed, list(held)


def _named(flow: Flow, refresh: Refresh) -> list[Task]:
    """The tasks ``refresh`` names, checked against the flow."""
    if refresh is None or refresh is False:
        return []
    if refresh is True:
        return list(flow.calls)
    if isinstance(refresh, (str, Task)):
        named: list[object] = [refresh]
    elif isinstance(refresh, Iterable) and not isinstance(refresh, (bytes, bytearray)):
        named = list(refresh)
    else:
        raise ArgumentTypeError("refresh", refresh, "True, a task, a task name, or a list of tasks and task names")
    chosen: list[Task] = []
    for item in named:
        if isinstance(item, Task):
            if item not in flow.calls:
                raise ValueError(f"refresh: task {item.name!r} is not in flow {flow.name!r} (pass the task the flow "
                                 f"was built with, or its name); its tasks: {_task_names(flow.calls)}")
            chosen.append(item)
        elif isinstance(item, str):
            matches = flow.get_tasks(item)
            if not matches:
                raise ValueError(f"refresh: flow {flow.name!r} has no task named {item!r}; its tasks: "
                                 f"{_task_names(flow.calls)}")
            chosen.extend(matches)
        else:
            raise ArgumentTypeError("each of refresh", item, "a task or a task name")
    return chosen


def _cannot_overwrite(task: Task, default: Result | None) -> bool:
    """A refresh would run ``task`` only for its write-once Result to keep the stored value and drop the new
    one: it checkpoints to a fixed location that refuses to be overwritten."""
    if isinstance(task, Parameter) or not task.checkpoint:
        return False
    result = choose_result(task, default)
    return result.location is not None and write_once(result)


def _warn_write_once(tasks: list[Task], default: Result | None) -> None:
    kinds = ", ".join(sorted({type(choose_result(task, default)).__name__ for task in tasks}))
    names = ", ".join(repr(task.name) for task in tasks[:_SHOWN]) + (" and more" if len(tasks) > _SHOWN else "")
    which = f"task {names} is" if len(tasks) == 1 else f"tasks {names} are"
    log.warning("refresh: %s not refreshed: a write-once %s (overwrite=False) cannot replace a stored output, so "
                "it stands and is read as without refresh=; to rerun, use overwrite=True or delete the stored "
                "output", which, kinds)


def _refresh_reason(source: str | None) -> str:
    if source is None:
        return "refreshed: refresh= names it, so its stored output is ignored and overwritten"
    return f"refreshed: it is downstream of the refreshed task {source!r}, so its inputs may change"


def _not_needed(cached: list[str], direct: bool) -> str:
    shown = ", ".join(repr(name) for name in cached[:_SHOWN]) + (" and more" if len(cached) > _SHOWN else "")
    if direct and len(cached) == 1:
        return f"not needed: its only consumer {shown} is cached"
    if direct:
        return f"not needed: its consumers {shown} are cached"
    return f"not needed: every task that uses its output is skipped or cached (cached: {shown})"


def _topological(flow: Flow) -> list[Task]:
    """The flow's tasks in dependency order: the order they were added in, when each one's upstream tasks came
    before it (a flow built by calling tasks, whose calls take tasks that exist); else Kahn's algorithm (an edge
    added afterwards, ``set_upstream``, may point back). The flow refuses cycles when it is built."""
    calls = flow.calls
    added: set[Task] = set()
    for task, call in calls.items():
        if call.upstream and not added.issuperset(call.upstream):
            return _kahn(flow)
        added.add(task)
    return list(calls)


def _kahn(flow: Flow) -> list[Task]:
    waiting = {task: len(call.upstream) for task, call in flow.calls.items()}
    ready = [task for task, count in waiting.items() if count == 0]
    order: list[Task] = []
    while ready:
        task = ready.pop()
        order.append(task)
        for down in flow.downstream(task):
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
    return order


def _shown(text: str) -> str:
    """``text`` for one table cell: control characters (a newline, an escape sequence, a bidi override that a
    parameter value put in a location) are shown escaped, so a value can neither add rows nor rewrite the
    terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _task_names(tasks: Iterable[Task]) -> str:
    return ", ".join(repr(name) for name in sorted({task.name for task in tasks})) or "(none)"

