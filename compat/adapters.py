"""Adapters between the legacy ``ResultHandler`` interface and PIN 16 ``Result`` objects, both ways.

``as_result(obj)`` is what the engine gets wherever a user still passes a handler: a built-in handler becomes its
native Result with the same settings (the conversion is read from the rename table: the Result class named by the
rename's ``new``, constructor arguments mapped by its ``arguments``), a user's own handler becomes a
``ResultHandlerResult`` around it, and a Result is returned as is. ``as_result_handler(result)`` is the reverse
view for legacy code that calls ``.write(value)`` and expects a URI back.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, TypeVar

import compat.results
from compat._lazy import show_as_public
from compat.deprecations import HandlerKind
from compat.errors import ArgumentTypeError, ResultNotFound
from compat.legacy.base import ResultHandler
from compat.renames import COMPAT, Rename
from compat.results.base import Result

__all__ = [
    "HANDLER_EXPECTED",
    "ResultAsHandler",
    "ResultHandlerResult",
    "as_result",
    "as_result_handler",
    "handler_has_stored",
    "handler_kind",
    "is_not_found",
]

R = TypeVar("R", bound="ResultHandlerResult")

HANDLER_EXPECTED = "a legacy handler, with write(value) -> uri and read(uri) -> value"
"""What a ``ResultHandlerResult`` (here or in the Prefect bridge) runs, for the ArgumentTypeError that refuses
anything else."""

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
"""botocore ``ClientError`` codes that mean "no such object" (matched by shape: botocore is not imported)."""


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` says "nothing is stored there" rather than "storage failed".

    ``FileNotFoundError`` (and so ``ResultNotFound``), ``KeyError``/``LookupError``, and S3's NoSuchKey/404.
    """
    if isinstance(exc, (FileNotFoundError, LookupError)):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) in _NOT_FOUND_CODES
    return False


def handler_has_stored(handler: Any, location: str) -> bool:
    """Whether a legacy ``handler`` has a value at ``location``: its own ``exists(uri)`` if it has one, else a read
    where only "not found" (``is_not_found``) means absent and any other error propagates.

    The legacy interface has no ``exists``; this is what lets a target work with a handler of the user's own
    (here and in the Prefect bridge's ``ResultHandlerResult``).
    """
    handler_exists = getattr(handler, "exists", None)
    if callable(handler_exists):
        return bool(handler_exists(location))
    try:
        handler.read(location)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


class ResultHandlerResult(Result):
    """Runs a legacy handler as a Result: ``write`` calls ``handler.write``, ``read`` calls ``handler.read``.

    Validators, ``cache_for`` and ``cache_validators`` work as on any Result. ``exists`` uses the handler's own
    ``exists(uri)`` if it has one, else reads and treats only "not found" errors as absence (any other error
    propagates), so targets work with a handler whose URIs are predictable; the value that read returned is kept
    for the ``read`` of the same location that follows, so a target check unpickles it once, not twice. ``modified_at`` uses the handler's
    own ``modified_at(uri)``, else the file's time when the URI is a local file path, else None (``cache_for``
    then cannot tell freshness and the task reruns).

    A handler chooses its own URI on write; when it differs from a task's rendered ``target``, the engine logs a
    WARNING with ``unreachable_target_hint``: that target can never be found through this handler.
    """

    keeps_records = False  # a legacy handler writes no record beside what it stores: its targets are `no-record`

    def __init__(self, handler: Any = None, *, result_handler: Any = None, **kwargs: Any) -> None:
        if handler is not None and result_handler is not None:
            raise TypeError("ResultHandlerResult() got both handler and result_handler=: pass one")
        handler = handler if handler is not None else result_handler  # Prefect 0.11-0.13 named it result_handler
        if not (callable(getattr(handler, "write", None)) and callable(getattr(handler, "read", None))):
            raise ArgumentTypeError("ResultHandlerResult: handler", handler, HANDLER_EXPECTED)
        super().__init__(**kwargs)
        self.handler = handler

    @property
    def result_handler(self) -> Any:
        """The handler, under the name Prefect 0.11-0.13's ``ResultHandlerResult`` gave it."""
        return self.handler

    @result_handler.setter
    def result_handler(self, handler: Any) -> None:
        self.handler = handler

    @property
    def unreachable_target_hint(self) -> str:  # type: ignore[override]
        name = type(self.handler).__name__
        return (
            f"A legacy handler chooses its own URI on write: port {name} to a compat.Result subclass "
            f"(write_bytes(location, data) stores at the target), or make its write() return the target's URI and "
            f"give it an exists(uri) method."
        )

    def write(self: R, value: Any, /, **context: Any) -> R:  # a task input named "value" is context too
        new = self.copy()
        uri = self.handler.write(value)
        new.location = uri
        new.value = value
        return new

    def read(self: R, location: str) -> R:
        peeked = self.__dict__.pop("_peeked", None)
        if peeked is not None and peeked[0] == location:
            new = self.copy()
            new.location, new.value = peeked
            return new
        try:
            value = self.handler.read(location)
        except ResultNotFound:
            raise
        except Exception as exc:
            if is_not_found(exc):
                raise ResultNotFound(
                    f"{type(self.handler).__name__} has nothing stored at {location!r} "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            raise
        new = self.copy()
        new.location = location
        new.value = value
        return new

    def exists_at(self, location: str) -> bool:
        if callable(getattr(self.handler, "exists", None)):
            return handler_has_stored(self.handler, location)
        self.__dict__.pop("_peeked", None)
        try:
            value = self.handler.read(location)
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        self._peeked = (location, value)  # for the read that follows: the value is not loaded twice
        return True

    def modified_at(self, location: str) -> datetime | None:
        handler_modified_at = getattr(self.handler, "modified_at", None)
        if callable(handler_modified_at):
            return handler_modified_at(location)  # type: ignore[no-any-return]
        if isinstance(location, str) and os.path.isabs(location):
            try:
                return datetime.fromtimestamp(os.stat(location).st_mtime, tz=timezone.utc)
            except FileNotFoundError as exc:
                raise ResultNotFound(f"no result is stored at {location!r} (no such file)") from exc
            except OSError:
                return None
        return None

    def __repr__(self) -> str:
        return f"ResultHandlerResult({self.handler!r}, location={self.location!r})"


class ResultAsHandler(ResultHandler):
    """A Result seen as a legacy handler: ``write(value) -> uri``, ``read(uri) -> value``, ``exists(uri)``.

    Other attributes are the Result's (``.dir`` of a LocalResult), as legacy code read them on its handler.
    """

    def __init__(self, result: Result) -> None:
        object.__setattr__(self, "result", result)

    def write(self, result: Any) -> str:
        return self.result.write(result).location  # type: ignore[return-value]

    def read(self, uri: str) -> Any:
        return self.result.read(uri).value

    def exists(self, uri: str) -> bool:
        return self.result.exists_at(self.result.resolve(uri))

    def __getattr__(self, name: str) -> Any:
        if name == "result":  # not set yet (e.g. mid-unpickling): do not recurse
            raise AttributeError(name)
        return getattr(self.result, _result_attribute(self.result, name))

    def __setattr__(self, name: str, value: Any) -> None:
        """Legacy code that configures its handler (``flow.result_handler.dir = b``) configures the Result in use."""
        if name == "result" or name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.result, _result_attribute(self.result, name), value)

    def __repr__(self) -> str:
        return f"as_result_handler({self.result!r})"


def _result_attribute(result: Result, legacy: str) -> str:
    """The attribute of ``result`` that the legacy handler attribute ``legacy`` maps to in the rename table
    (``validate`` -> ``validate_dir`` on a LocalResult); the same name when the table says nothing."""
    for rename in COMPAT.of_kind("class"):
        if rename.new == type(result).__name__:
            return rename.arguments.get(legacy) or legacy
    return legacy


def as_result(obj: Any) -> Result:
    """The Result to use for ``obj``: a Result itself, a built-in handler's native Result, or an adapter.

    ``LocalResultHandler(dir)`` -> ``LocalResult(dir)``, ``JSONResultHandler()`` -> ``JSONResult()``,
    ``ConstantResultHandler(value)`` -> ``ConstantResult(value)`` (and any other pair in the rename table);
    any other ``ResultHandler`` -> ``ResultHandlerResult(handler)``.
    """
    if isinstance(obj, Result):
        return obj
    if isinstance(obj, ResultAsHandler):
        return obj.result
    if isinstance(obj, ResultHandler):
        rename = type(obj).__dict__.get("_legacy_rename")
        if rename is not None:
            return _native_result(obj, rename)
        return ResultHandlerResult(obj)
    raise ArgumentTypeError("the handler", obj, "a Result (e.g. compat.LocalResult(dir=...)) or a legacy ResultHandler")


def handler_kind(obj: Any) -> HandlerKind:
    """What ``as_result`` makes of ``obj``, for the ``result_handler=`` warning: a built-in handler's rename (it
    becomes that Result), ``"own handler"`` (wrapped in ``ResultHandlerResult``) or ``"result"`` (kept)."""
    if isinstance(obj, (Result, ResultAsHandler)):
        return "result"
    rename = type(obj).__dict__.get("_legacy_rename") if isinstance(obj, ResultHandler) else None
    return "own handler" if rename is None else rename


def as_result_handler(obj: Any) -> ResultHandler:
    """A legacy-handler view of ``obj``: the handler inside a ``ResultHandlerResult``, a handler itself, or a
    ``ResultAsHandler`` over any other Result."""
    if isinstance(obj, ResultHandlerResult):
        return obj.handler  # type: ignore[no-any-return]
    if isinstance(obj, ResultHandler):
        return obj
    if isinstance(obj, Result):
        return ResultAsHandler(obj)
    raise ArgumentTypeError("the result", obj, "a Result or a legacy ResultHandler")


def _native_result(handler: ResultHandler, rename: Rename) -> Result:
    """Build the Result that the rename table names for a built-in handler, with the same settings."""
    result_class = getattr(compat.results, rename.new, None)
    if not (isinstance(result_class, type) and issubclass(result_class, Result)):
        raise LookupError(
            f"the rename table maps {rename.old} to {rename.new}, which compat.results does not export"
        )
    # an argument the handler acted on when it was built and does not keep (LocalResultHandler's validate=, which
    # already created and checked its directory) is not acted on again
    kwargs = {
        new: getattr(handler, old)
        for old, new in rename.arguments.items()
        if new is not None and hasattr(handler, old)
    }
    result = result_class(**kwargs)
    handler._converted_into(result)  # the handler's later changes (handler.dir = ...) reach this Result
    return result


show_as_public(globals())
