"""``result_handler=`` -> ``result=``: the legacy keyword and attribute of ``Task``, ``Flow`` and ``task``.

``translate_result_handler`` is a wrapt decorator: ``result_handler=X`` becomes ``result=as_result(X)`` with a
warning at the line that passes it; passing both is a ``TypeError``; ``result_handler=None`` is accepted and
ignored without a warning (a subclass's ``__init__(self, result_handler=None, **kw)`` forwards it on every call).
It wraps ``__init__`` (never a class: a wrapped class breaks pickling and subclassing) and ``task``, and
``inspect.signature`` of what it wraps shows the extra keyword. ``.result_handler`` stays readable and assignable
on tasks and flows as a deprecated alias of ``.result``, through the adapters.

The engine knows nothing of this: ``install_on_engine()`` applies both to the engine's callables when
``compat.engine`` is imported, so deleting the shims one day only deletes code. The keyword, the attribute and which
callables take them are read from the rename table. Wrapping costs no more than the table: the adapters, the legacy
handlers and the warnings machinery are imported when a legacy keyword or attribute is first used.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from compat import _wrapt
from compat._lazy import lazy_names
from compat.renames import COMPAT, Profile, rename_for

__all__ = [
    "Flow",
    "FunctionTask",
    "Task",
    "install",
    "install_on_engine",
    "result_handler_property",
    "task",
    "translate_result_handler",
]
# Flow, FunctionTask, Task and task are the engine's own objects (translated); see the end of the module.

F = TypeVar("F", bound=Callable[..., Any])

KEYWORD = rename_for("keyword", "result_handler")
ATTRIBUTE = rename_for("attribute", "result_handler")


def _as_result(handler: Any) -> Any:
    from compat.adapters import as_result

    return as_result(handler)


def _as_result_handler(result: Any) -> Any:
    from compat.adapters import as_result_handler

    return as_result_handler(result)


def _handler_kind(handler: Any) -> Any:
    from compat.adapters import handler_kind

    return handler_kind(handler)


def translate_result_handler(
    wrapped: F,
    owner: str | None = None,
    *,
    convert: Callable[[Any], Any] = _as_result,
    kind_of: Callable[[Any], HandlerKind] = _handler_kind,
    profile: Profile = COMPAT,
    hint: str = "as_result(handler)",
) -> F:
    """Wrap ``wrapped`` (a function or an ``__init__``) so that it accepts the legacy ``result_handler=``.

    ``owner``: the name the messages use (``Task``); by default the name of ``wrapped``'s class or function.
    ``convert`` turns the handler into what ``result=`` takes (``compat.adapters.as_result``), and ``kind_of`` says
    what ``convert`` makes of it (the warning says that); ``profile`` is the rename table's family the keyword
    belongs to (its messages name that family's codemod); ``hint`` is what replaces ``handler`` in the message when
    both keywords are given. The Prefect bridge passes its own four.
    """
    keyword = rename_for("keyword", KEYWORD.old, profile)
    signature = inspect.signature(wrapped)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())  # Prefect's task(**kwargs)
    if KEYWORD.new not in signature.parameters and not takes_any:
        raise TypeError(f"{wrapped.__qualname__} has no {KEYWORD.new!r} parameter to translate {KEYWORD.old}= into")
    name = owner or _owner_of(wrapped)
    positional = [
        p.name for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    new_at = positional.index(KEYWORD.new) if KEYWORD.new in positional else None
    both = (
        f"{name}() got both {KEYWORD.new}= and the deprecated {KEYWORD.old}=; pass only {KEYWORD.new}= "
        f"({KEYWORD.new}={hint} replaces {KEYWORD.old}=handler)"
    )

    @_wrapt.decorator
    def translate(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if KEYWORD.old in kwargs:
            handler = kwargs.pop(KEYWORD.old)
            if handler is not None:  # None is what a subclass forwards by default: nothing legacy was written
                from compat.deprecations import LegacyKeywordWarning, keyword_message, warn

                warning = keyword_message(keyword, name, kind_of(handler), profile)
                warn(LegacyKeywordWarning, warning, keyword=KEYWORD.old, constructing=instance)
                # a bound call (instance set) does not pass self in args, so positions shift by one
                given_at = None if new_at is None else new_at - (instance is not None)
                if KEYWORD.new in kwargs or (given_at is not None and len(args) > given_at):
                    raise TypeError(both)
                kwargs[KEYWORD.new] = convert(handler)
        return wrapped(*args, **kwargs)

    return _wrapt.with_signature(signature=_with_keyword(signature))(translate(wrapped))  # type: ignore[return-value]


def _owner_of(wrapped: Callable[..., Any]) -> str:
    qualname = wrapped.__qualname__
    return qualname.rpartition(".")[0] if qualname.endswith(".__init__") else qualname


def _with_keyword(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` plus a keyword-only ``result_handler=None``, placed before any ``**kwargs``."""
    parameters = list(signature.parameters.values())
    legacy = inspect.Parameter(
        KEYWORD.old, inspect.Parameter.KEYWORD_ONLY, default=None, annotation="ResultHandler | None"
    )
    if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
        return signature.replace(parameters=[*parameters[:-1], legacy, parameters[-1]])
    return signature.replace(parameters=[*parameters, legacy])


def result_handler_property(
    owner: str,
    *,
    to_result: Callable[[Any], Any] = _as_result,
    to_handler: Callable[[Any], Any] = _as_result_handler,
    profile: Profile = COMPAT,
) -> property:
    """The deprecated ``.result_handler`` alias of ``.result`` for the class named ``owner``.

    Reading gives a legacy-handler view of ``.result`` (``to_handler``: the original handler if it came from one);
    assigning a handler or a Result sets ``.result`` through ``to_result``; None clears it.
    """
    attribute = rename_for("attribute", ATTRIBUTE.old, profile)

    def legacy_use() -> None:
        from compat.deprecations import LegacyAttributeWarning, message, warn

        warn(LegacyAttributeWarning, message(attribute, owner=owner, profile=profile))

    def get(self: Any) -> Any:
        legacy_use()
        result = getattr(self, ATTRIBUTE.new)
        return None if result is None else to_handler(result)

    def set(self: Any, handler: Any) -> None:
        legacy_use()
        setattr(self, ATTRIBUTE.new, None if handler is None else to_result(handler))

    return property(get, set, doc=f"Deprecated alias of .{ATTRIBUTE.new}: use .{ATTRIBUTE.new}, it warns")


def install(classes: dict[str, type], functions: dict[str, Callable[..., Any]], modules: list[Any]) -> None:
    """Apply the translation to ``classes``' ``__init__`` and to ``functions`` (rebinding each wrapped function
    in ``modules`` wherever they hold it), and add the ``.result_handler`` property to ``classes``.

    Only the callables the rename table lists (``applies_to``) are touched; anything else is refused.
    """
    for name, cls in classes.items():
        _check_listed(name, KEYWORD.applies_to)
        cls.__init__ = translate_result_handler(cls.__dict__["__init__"], owner=name)  # type: ignore[misc]
        if name in ATTRIBUTE.applies_to:
            setattr(cls, ATTRIBUTE.old, result_handler_property(name))
    for name, function in functions.items():
        _check_listed(name, KEYWORD.applies_to)
        wrapped = translate_result_handler(function, owner=name)
        for module in modules:
            if getattr(module, name, None) is function:
                setattr(module, name, wrapped)


def _check_listed(name: str, listed: tuple[str, ...]) -> None:
    if name not in listed:
        raise ValueError(f"the rename table does not list {name!r} as taking {KEYWORD.old}= (it lists {listed})")


def install_on_engine() -> None:
    """Translate ``result_handler=`` on the engine's ``Task``, ``Flow`` and ``task`` wherever they are bound (what
    ``compat.engine`` calls once its names are bound)."""
    engine = sys.modules["compat.engine"]
    # the defining module, the engine package and the root (if it bound the names already) all hold ``task``
    modules = [module for name, module in sys.modules.items() if name == "compat" or name.startswith("compat.engine")]
    install({"Task": engine.Task, "Flow": engine.Flow}, {"task": engine.task}, modules)


# -- what type checkers see ----------------------------------------------------------------------------------------
# The package root imports Task, Flow and task from here: at runtime they are the engine's own objects, translated
# above; type checkers see the declarations below instead. Each adds a PEP 702 ``@deprecated`` overload taking ``result_handler=``, and a deprecated
# ``.result_handler`` property, so mypy/pyright flag legacy code before it runs. The literals must equal
# ``static_message`` of the table's renames, and the parameters the engine's: tests/compat/test_static.py checks.

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import timedelta

    from typing_extensions import deprecated

    from compat.deprecations import HandlerKind
    from compat.engine.flow import Flow as _Flow
    from compat.engine.staleness import InvalidateOn
    from compat.engine.task import FunctionTask as _FunctionTask
    from compat.engine.task import Task as _Task
    from compat.legacy.base import ResultHandler
    from compat.results.base import CacheValidator, Location, Result, Validator
    from compat.results.leases import LeaseSetting

    class _ResultHandlerAlias:  # a descriptor: mypy reports @deprecated on __get__/__set__, not on a property's
        @deprecated(
            "Task/Flow.result_handler is deprecated; use Task/Flow.result "
            "(results-codemod <path> rewrites it)"
        )
        def __get__(self, instance: object, owner: type | None = None) -> ResultHandler | None:
            raise NotImplementedError

        @deprecated(
            "Task/Flow.result_handler is deprecated; use Task/Flow.result "
            "(results-codemod <path> rewrites it)"
        )
        def __set__(self, instance: object, handler: ResultHandler | Result | None) -> None: ...

    class _LegacyAttribute:
        result_handler = _ResultHandlerAlias()

    class Task(_Task, _LegacyAttribute):
        @overload
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
        ) -> None: ...

        @overload
        @deprecated(
            "the result_handler= keyword of Task/Flow/task is deprecated; use result= "
            "(results-codemod <path> rewrites it)"
        )
        def __init__(
            self,
            name: str | None = None,
            *,
            target: Location = None,
            validators: Iterable[Validator] | None = None,
            checkpoint: bool = True,
            cache_for: timedelta | None = None,
            cache_validators: Iterable[CacheValidator] | None = None,
            max_retries: int = 0,
            retry_delay: timedelta | float | None = None,
            invalidate_on: InvalidateOn = None,
            result_handler: ResultHandler | Result | None,
        ) -> None: ...

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    class FunctionTask(_FunctionTask, _LegacyAttribute): ...

    class Flow(_Flow, _LegacyAttribute):
        @overload
        def __init__(
            self, name: str, result: Result | None = None, invalidate_on: InvalidateOn = None, lease: LeaseSetting = None
        ) -> None: ...

        @overload
        @deprecated(
            "the result_handler= keyword of Task/Flow/task is deprecated; use result= "
            "(results-codemod <path> rewrites it)"
        )
        def __init__(
            self,
            name: str,
            *,
            invalidate_on: InvalidateOn = None,
            lease: LeaseSetting = None,
            result_handler: ResultHandler | Result | None,
        ) -> None: ...

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

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

    @overload
    @deprecated(
        "the result_handler= keyword of Task/Flow/task is deprecated; use result= "
        "(results-codemod <path> rewrites it)"
    )
    def task(
        fn: None = None,
        *,
        name: str | None = None,
        target: Location = None,
        validators: Iterable[Validator] | None = None,
        checkpoint: bool = True,
        cache_for: timedelta | None = None,
        cache_validators: Iterable[CacheValidator] | None = None,
        max_retries: int = 0,
        retry_delay: timedelta | float | None = None,
        invalidate_on: InvalidateOn = None,
        result_handler: ResultHandler | Result | None,
    ) -> Callable[[Callable[..., Any]], FunctionTask]: ...

    def task(*args: Any, **kwargs: Any) -> Any: ...

else:  # the engine's own objects, translated by install_on_engine when it was imported
    __getattr__, __dir__ = lazy_names(
        __name__, {"Flow": "compat.engine", "Task": "compat.engine", "task": "compat.engine", "FunctionTask": "compat.engine.task"}
    )
