"""Where a task's output lives, and whether one is already stored there: shared by the runner and the plan.

A task run (``compat.engine.runner``) and a plan (``compat.engine.plan``) must agree on what counts as a stored
output, so both choose the Result with ``choose_result`` (step 1 of PIN 16), render its location with the
task run's context and ask ``stored_at`` (the question of steps 2 and 3, answered from the backend's metadata
without reading the value). The runner then reads and validates what it found; a plan stops at the question.

``refuse_colliding_targets`` is the check both run before anything else: a mapped task whose location template
has no per-child field would make every child read and write one location, and two tasks whose templates render
alike would read each other's output as their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from compat.engine.parameter import Parameter
from compat.engine.task import Task
from compat.errors import FlowError
from compat.results.base import _TEMPLATE_KEYS, Location, Result, _template_keys
from compat.results.local import LocalResult

if TYPE_CHECKING:
    from compat.engine.flow import Call

__all__ = [
    "KEPT_IN_MEMORY", "cache_terms", "check_settings", "choose_result", "choose_results", "keeps_in_memory",
    "literal", "refuse_colliding_targets", "stored_at", "template_keys", "write_once",
]

PER_CHILD_KEYS = ("map_index", "task_full_name", "task_run_id")
"""Template keys whose value differs between the children of one mapped task (mapped inputs differ too)."""

NAME_KEYS = ("task_name", "task_full_name")
"""Template keys whose value differs between two tasks exactly when their names differ."""


class _KeptInMemory(Result):
    """The Result of a task that has none in a flow without a default: its output is validated like any
    other but stored nowhere, so nothing is looked up before the run and ``write`` stores nothing."""

    def write(self, value: Any, /, **context: Any) -> _KeptInMemory:
        kept = self.copy()
        kept.value = value
        return kept


KEPT_IN_MEMORY = _KeptInMemory()


def keeps_in_memory(result: Result) -> bool:
    """Whether ``result`` is (a copy of) ``KEPT_IN_MEMORY``: no Result was configured for the task."""
    return isinstance(result, _KeptInMemory)


def choose_result(task: Task, default_result: Result | None) -> Result:
    """Step 1: the task's Result, else the flow's default; ``target=``, ``validators=`` and the cache settings of
    the task applied to a copy. With neither, a task with a target stores under ``LocalResult()`` and any other
    task keeps its output in memory (``KEPT_IN_MEMORY``)."""
    base = task.result if task.result is not None else default_result
    if base is None:
        base = LocalResult() if task.target is not None else KEPT_IN_MEMORY
    chosen = base.copy()
    if task.target is not None:
        chosen.location = task.target
    if task.validators:
        chosen.validators.extend(task.validators)
    if task.cache_for is not None:
        chosen.cache_for = task.cache_for
    if task.cache_validators:
        chosen.cache_validators = list(task.cache_validators)
    return chosen


def choose_results(tasks: Iterable[Task], default_result: Result | None) -> dict[Task, Result]:
    """``choose_result`` for each of ``tasks``, made once for the tasks that configure it alike (the calls of one
    ``@task`` share its settings): a flow of 100,000 calls of one task makes one copy, not 100,000. The copies are
    shared, so they are only read (a run chooses its own)."""
    chosen: dict[tuple[int, ...], Result] = {}
    results: dict[Task, Result] = {}
    last: Task | None = None
    result = KEPT_IN_MEMORY
    for task in tasks:
        # the settings choose_result reads, by identity: the tasks hold them, so no id is reused meanwhile. The
        # calls of one @task usually come one after another: the same objects as the last task's choose its Result
        if last is None or not (task.result is last.result and task.target is last.target
                                and task.validators is last.validators and task.cache_for is last.cache_for
                                and task.cache_validators is last.cache_validators):  # fmt: skip
            how = (id(task.result), id(task.target), id(task.validators), id(task.cache_for),
                   id(task.cache_validators))
            result = chosen.get(how)  # type: ignore[assignment]
            if result is None:
                result = chosen[how] = choose_result(task, default_result)
            last = task
        results[task] = result
    return results


def template_keys(template: Location) -> frozenset[str] | None:
    """The context keys a location template uses, parsed once per template; None when it may use any (a callable),
    none for no template."""
    if callable(template):
        return None
    if not isinstance(template, str):
        return frozenset()
    keys = _TEMPLATE_KEYS.get(template)
    return _template_keys(template) if keys is None else keys


def stored_at(result: Result, location: str | None, resolved: str | None = None) -> bool:
    """Whether an output the run could reuse is stored at the rendered ``location``: something is there and, for
    a Result with ``cache_for``, it is fresh. Answered from metadata; the value is read and validated only by the
    run itself. Backend errors propagate (a ``ResultError`` says what failed). ``resolved``: ``location`` as the
    caller resolved it already (a plan has), so it is not resolved again."""
    if location is None:
        return False
    if resolved is not None and result.cache_for is None:
        return result.exists_at(resolved)  # what is_fresh answers without cache_for
    return result.is_fresh(location)


def write_once(result: Result) -> bool:
    """Whether ``result`` refuses to replace a stored output (``overwrite=False`` on S3, GCS, Azure): a rerun
    cannot change what is stored there, the first value written stands."""
    return getattr(result, "overwrite", True) is False


def cache_terms(result: Result) -> str:
    """How a caching Result decides freshness, for messages: ``cache_for=1:00:00, 2 cache_validators``."""
    terms = [f"cache_for={result.cache_for}"] if result.cache_for is not None else []
    if result.cache_validators:
        terms.append(f"{len(result.cache_validators)} cache_validators")
    return ", ".join(terms)


def literal(location: str | None) -> str | None:
    """A template that renders to exactly ``location``: the location is rendered once per run (a target
    callable is called once), and the context never meets the Result's own arguments (an input named
    ``value`` or ``location`` would collide with ``write(value, **context)``/``exists(location, **context)``)."""
    return None if location is None else location.replace("{", "{{").replace("}", "}}")


def check_settings(results: Iterable[Result]) -> None:
    """Raise the ``ConfigurationError`` of a setting that no task run could use (an empty key in
    ``$RESULTS_COMPAT_SIGNING_KEY``), before anything runs or is looked up: found inside a run, it would fail
    every task, and must never be mistaken for unreadable stored data. ``results``: each task's (``choose_result``)."""
    seen: set[int] = set()
    last = None
    for result in results:
        if result is last:  # shared by the calls of one @task, which come one after another
            continue
        last, serializer = result, result.serializer
        if id(serializer) not in seen:
            seen.add(id(serializer))
            getattr(serializer, "keyring", None)  # a PickleSerializer parses its keys here, raising if unusable


def refuse_colliding_targets(
    flow_name: str, calls: Iterable[tuple[Task, Call]], default: Result | None, chosen: Mapping[Task, Result]
) -> None:
    """Raise ``FlowError`` before anything runs for the first mapped task whose location template names no
    per-child field (its children would overwrite one another and each would read the first child's output), and
    for two tasks whose templates render alike in the same store (the second would read the first's output as
    ``Cached``). A callable location cannot be inspected and is allowed. ``chosen``: each task's Result
    (``choose_result``)."""
    seen: dict[tuple[Any, ...], Task] = {}
    stores: dict[int, Any] = {}  # each chosen Result's store, by identity (tasks of one @task share one)
    last: Result | None = None
    keys: frozenset[str] | None = None
    for task, call in calls:
        result = chosen.get(task)
        if result is None:  # a parameter: its value is given, never stored
            continue
        if result is not last:  # the template and its keys, once per run of tasks sharing their Result
            last, template = result, result.template
            # None: the backend picks a new name per write; a callable: unknowable
            keys = template_keys(template) if isinstance(template, str) else None
        if keys is None:
            continue
        if call.mapped is not None and keys.isdisjoint(PER_CHILD_KEYS) and keys.isdisjoint(call.mapped):
            mapped = ", ".join("{" + key + "}" for key in sorted(call.mapped))
            raise FlowError(
                f"flow {flow_name!r}: task {task.name!r} is mapped, but its {_what(task)} {template!r} has no "
                "per-child field, so every child would write the same location and read the first child's output; "
                f"add {{map_index}} (e.g. '{{task_name}}-{{map_index}}.pkl'), or use {{task_full_name}} or a mapped "
                f"input ({mapped})"
            )
        if "task_run_id" in keys or not keys.isdisjoint(call.constants) or not keys.isdisjoint(call.keys):
            continue  # a field that may differ between tasks whatever their names: an input, a fresh id
        rendering = _rendering(task, call, result, default, stores, keys)
        first = seen.setdefault(rendering, task)
        if first is not task:
            raise FlowError(
                f"flow {flow_name!r}: tasks {first.name!r} and {task.name!r} both store their output at the "
                f"{_what(task)} {template!r} of {result!r}, so the second would read the first's output as its own "
                "(Cached); give each task its own target, or name a field that differs between them in the "
                "template (e.g. '{task_name}.pkl' with distinct task names, or one of their inputs)"
            )


def _what(task: Task) -> str:
    return "target" if task.target is not None else "Result's location template"


def _rendering(
    task: Task, call: Call, result: Result, default: Result | None, stores: dict[int, Any], keys: frozenset[str]
) -> tuple[Any, ...]:
    """What the rendered location of ``task`` depends on, beyond what every task of one flow run shares: equal for
    two tasks means one location for both. Asked of a template that names no input and no fresh id (those may
    differ between tasks whatever their names). ``stores``: each Result's store, as found so far; ``keys``: the
    keys the template uses."""
    configured = task.result or default
    # a Result's repr names its store (dir, bucket, container) and template; one that does not is itself the store
    store = stores.get(id(result))
    if store is None:
        store = stores[id(result)] = (
            repr(result) if type(result).__repr__ is not Result.__repr__ or configured is None else id(configured)
        )
    named = task.name if not keys.isdisjoint(NAME_KEYS) else None
    mapped = call.mapped is not None and not keys.isdisjoint(PER_CHILD_KEYS)
    return type(result), store, result.template, named, mapped
