"""``Task`` and the ``@task`` decorator: a unit of work with PIN 16 output settings.

Subclass ``Task`` and override ``run``, or decorate a function with ``@task`` (bare or ``@task(...)``). Calling a
task inside ``with Flow(...)`` does not run it: it adds a copy of the task to the flow, wired to the tasks passed
as inputs, and returns that copy so it can be passed on. ``task.map(...)`` adds a mapped task instead.

``__init__`` stays an ordinary method taking keywords, and ``@task(...)`` builds its task by calling the class
with keywords, so a wrapper applied to ``Task.__init__`` (the compatibility layer's keyword translation) sees
every construction.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar, overload

from compat.engine.context import active_flow
from compat.engine.staleness import InvalidateOn, checked_invalidate_on
from compat.errors import ArgumentTypeError, FlowError
from compat.results.base import CacheValidator, Location, Result, Validator, _callables

__all__ = ["FunctionTask", "Task", "task", "unmapped"]

T = TypeVar("T", bound="Task")


class Task:
    """A unit of work: override ``run(**inputs)``; the engine runs it through the PIN 16 pipeline.

    ``result``: where the output is checkpointed (else the flow's default Result). ``target``: a location
    template or ``fn(**context) -> str`` that overrides the Result's location; an existing target is read
    instead of running. ``validators``: ``fn(value) -> bool``, appended to the Result's. ``checkpoint``:
    False keeps the output in memory only. ``cache_for`` / ``cache_validators``: reuse a stored output while it
    is fresh (set on a copy of the chosen Result). ``max_retries`` / ``retry_delay``: run again after an
    exception, waiting ``retry_delay`` between attempts. ``invalidate_on``: ``("code", "inputs")`` or one of them
    makes a stored target stale when its record disagrees with the task's code or inputs now (the flow's setting, then
    ``$RESULTS_COMPAT_INVALIDATE_ON``, when None). Validator collections are kept as tuples.
    """

    def __init__(
        self,
        name: str | None = None,
        result: Result | None = None,
        target: Location = None,
        validators: Iterable[Validator] | None = None,
        checkpoint: bool = True,
        cache_for: timedelta | None = None,
        cache_validators: Iterable[CacheValidator] | None = None,
        max_retries: int = 0,
        retry_delay: timedelta | float | None = None,
        invalidate_on: InvalidateOn = None,
    ) -> None:
        if result is not None and not isinstance(result, Result):
            raise ArgumentTypeError("result", result, RESULT_EXPECTED)
        if target is not None and not (isinstance(target, str) or callable(target)):
            raise ArgumentTypeError("target", target, "a location template str or a callable fn(**context) -> str")
        if cache_for is not None and not isinstance(cache_for, timedelta):
            raise ArgumentTypeError("cache_for", cache_for, "a datetime.timedelta, e.g. cache_for=timedelta(hours=1)")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise ArgumentTypeError("max_retries", max_retries, "an int >= 0, e.g. max_retries=3")
        if max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, not {max_retries!r}")
        self.name = name if name is not None else type(self).__name__
        self.result = result
        self.target = target
        self.validators: tuple[Validator, ...] = tuple(_callables(validators, "validators"))
        self.checkpoint = checkpoint
        self.cache_for = cache_for
        self.cache_validators: tuple[CacheValidator, ...] = tuple(_callables(cache_validators, "cache_validators"))
        self.max_retries = max_retries
        self.retry_delay = _seconds(retry_delay)
        self.invalidate_on = checked_invalidate_on(invalidate_on, f"task {self.name!r}: invalidate_on")

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The work; override it. Its parameters are the task's inputs."""
        raise NotImplementedError(f"{type(self).__name__} must override run() with the task's work")

    # -- building flows ---------------------------------------------------------------------------------------

    def __call__(self: T, *args: Any, **kwargs: Any) -> T:
        """Inside ``with Flow(...)``: add a copy of this task, fed by ``args``/``kwargs``, and return it."""
        flow = _building_flow(self, "called")
        node = self.copy()
        flow.add_call(node, self.bind_inputs(args, kwargs))
        return node

    def map(self: T, *args: Any, **kwargs: Any) -> T:
        """Inside ``with Flow(...)``: add a mapped copy that runs once per element of each input (inputs wrapped
        in ``unmapped(...)`` are passed whole); its state's ``result`` is the list of the children's results.
        Give a mapped task a location that names ``{map_index}`` (or ``{task_full_name}``): children that render
        the same location share one stored output. An iterator mapped over (a generator, ``map(...)``) is read
        into a list here, once, so every run of the flow maps over the same elements."""
        flow = _building_flow(self, "mapped")
        inputs = self.bind_inputs(args, kwargs)
        mapped = frozenset(key for key, value in inputs.items() if not isinstance(value, unmapped))
        if not mapped:
            raise TypeError(f"task {self.name!r}: map() needs at least one input to map over (not unmapped)")
        inputs = {
            key: value.value if isinstance(value, unmapped) else list(value) if isinstance(value, Iterator) else value
            for key, value in inputs.items()
        }
        node = self.copy()
        flow.add_call(node, inputs, mapped=mapped)
        return node

    def bind_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """``args``/``kwargs`` as the named inputs of ``run`` (defaults filled in); a clear TypeError if they
        do not fit its signature."""
        signature = self.run_signature()
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"task {self.name!r} cannot take these inputs: {exc}; its run() is {signature}") from None
        bound.apply_defaults()
        inputs: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            kind = signature.parameters[key].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                inputs.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    raise TypeError(f"task {self.name!r}: inputs are passed by name; *{key} cannot receive {value!r}")
            elif kind is inspect.Parameter.POSITIONAL_ONLY:
                raise TypeError(f"task {self.name!r}: run() parameter {key!r} is positional-only; make it nameable")
            else:
                inputs[key] = value
        return inputs

    def run_signature(self) -> inspect.Signature:
        """The signature of ``run`` without ``self``: the task's inputs."""
        return _method_signature(type(self).run)

    def copy(self: T) -> T:
        """A shallow copy, made without calling ``__init__`` (settings are immutable or replaced, never
        changed in place, so the copy shares them safely). Set one by one, the attributes stay inline in the
        object; ``__dict__.update`` would give each copy a dict of its own (a flow holds one copy per call)."""
        new = object.__new__(type(self))
        for name, value in self.__dict__.items():
            setattr(new, name, value)
        return new

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


RESULT_EXPECTED = (
    "a Result such as LocalResult(dir=...) (a legacy ResultHandler goes through compat.as_result(handler))"
)
"""What a task's or a flow's ``result=`` takes, for the ArgumentTypeError that refuses anything else."""


class FunctionTask(Task):
    """A Task whose ``run`` calls ``fn``; what ``@task`` builds."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **task_kwargs: Any) -> None:
        if not callable(fn):
            raise ArgumentTypeError("what @task decorates", fn, "a function (or another callable)")
        self.fn = fn
        super().__init__(name=name if name is not None else getattr(fn, "__name__", type(fn).__name__), **task_kwargs)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def run_signature(self) -> inspect.Signature:
        return _function_signature(self.fn)


class unmapped:  # noqa: N801 - reads as a marker at the call site: t.map(xs, y=unmapped(config))
    """Marks an input of ``Task.map`` that every child receives whole instead of one element of."""

    def __init__(self, value: Any) -> None:
        self.value = value


@overload
def task(fn: Callable[..., Any]) -> FunctionTask: ...


@overload
def task(
    fn: None = None,
    *,
    name: str | None = None,
    result: Result | None = None,
    target: Location = None,
    validators: Iterable[Validator] | None = None,
    checkpoint: bool = True,
    cache_for: timedelta | None = None,
    cache_validators: Iterable[CacheValidator] | None = None,
    max_retries: int = 0,
    retry_delay: timedelta | float | None = None,
    invalidate_on: InvalidateOn = None,
) -> Callable[[Callable[..., Any]], FunctionTask]: ...


def task(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    result: Result | None = None,
    target: Location = None,
    validators: Iterable[Validator] | None = None,
    checkpoint: bool = True,
    cache_for: timedelta | None = None,
    cache_validators: Iterable[CacheValidator] | None = None,
    max_retries: int = 0,
    retry_delay: timedelta | float | None = None,
    invalidate_on: InvalidateOn = None,
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a Task: ``@task`` or ``@task(result=..., target=..., ...)`` (``Task``'s keywords)."""
    settings: dict[str, Any] = {
        "name": name,
        "result": result,
        "target": target,
        "validators": validators,
        "checkpoint": checkpoint,
        "cache_for": cache_for,
        "cache_validators": cache_validators,
        "max_retries": max_retries,
        "retry_delay": retry_delay,
        "invalidate_on": invalidate_on,
    }
    if fn is not None:
        return FunctionTask(fn=fn, **settings)

    def decorate(function: Callable[..., Any]) -> FunctionTask:
        return FunctionTask(fn=function, **settings)

    return decorate


def _building_flow(task: Task, verb: str) -> Any:
    flow = active_flow()
    if flow is None:
        raise FlowError(
            f"task {task.name!r} was {verb} outside a flow; build flows inside 'with Flow(name):', "
            f"or call task.run(...) to run its work directly"
        )
    return flow


@functools.lru_cache(maxsize=1024)
def _function_signature(fn: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(fn)
    except ValueError:  # some builtins (range, ...) have none
        raise TypeError(
            f"cannot read the parameters of {fn!r}, so its task cannot take inputs; wrap it in a def with named "
            "parameters"
        ) from None


@functools.lru_cache(maxsize=1024)
def _method_signature(method: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(method)
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def _seconds(delay: timedelta | float | None) -> float:
    if delay is None:
        return 0.0
    if isinstance(delay, bool) or not isinstance(delay, (timedelta, int, float)):
        raise ArgumentTypeError("retry_delay", delay, "a datetime.timedelta or a number of seconds, e.g. "
                                "retry_delay=timedelta(seconds=10)")
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
    if seconds < 0:
        raise ValueError(f"retry_delay must not be negative, not {delay!r}")
    return seconds
