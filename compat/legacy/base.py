"""``ResultHandler``: the legacy storage interface, kept working until its removal.

A handler has two methods: ``write(value) -> uri`` stores a value wherever the handler likes and returns a string
that names it, and ``read(uri) -> value`` loads it back. Nothing else is promised (no templated locations, no
``exists``), which is why PIN 16 replaced it with ``compat.results.Result``; ``compat.adapters.as_result`` runs
any handler as a Result meanwhile.

Built-in handlers warn when they are instantiated; a user's subclass warns once, at its ``class`` statement.
"""

from __future__ import annotations

import logging
import sys
import types
import weakref
from typing import Any, ClassVar

from typing_extensions import deprecated

from compat.deprecations import (
    LegacyHandlerWarning,
    LegacySubclassWarning,
    message,
    rename_for,
    warn,
)
from compat.renames import COMPAT, Rename

__all__ = ["ResultHandler"]


class _LegacyHandlerType(type):
    """Warns when a built-in handler is instantiated; unpickling (which does not call the class) stays silent."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        rename = cls.__dict__.get("_legacy_rename")
        if rename is not None:
            warn(LegacyHandlerWarning, message(rename))
        return super().__call__(*args, **kwargs)


def _built_by_class_statement() -> bool:
    """False when ``types.new_class`` builds the class, as cloudpickle does when a worker unpickles a handler class
    defined in ``__main__``: there is no class statement to point at, and warning (or, under an "error" filter,
    raising) there would break the worker, not show the user anything new."""
    creator = sys._getframe(2)  # 0: here, 1: __init_subclass__, 2: whatever ran the class creation
    return creator.f_code.co_filename != types.__file__


def _is_compat_class(cls: type) -> bool:
    return cls.__module__ == "compat" or cls.__module__.startswith("compat.")


class _Logger:
    """``handler.logger``: a logger named after the handler's class, as legacy handlers had. A non-data descriptor,
    so a subclass may still assign its own ``self.logger``; not an instance attribute, so equality and ``repr``
    (which read the public attributes) are unchanged."""

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return logging.getLogger(f"compat.{type(instance).__name__}")


@deprecated(
    "ResultHandler is deprecated; use compat.Result (results-codemod <path> rewrites it)", category=None
)
class ResultHandler(metaclass=_LegacyHandlerType):
    """Base class of legacy result handlers: ``write(value) -> uri`` and ``read(uri) -> value``; ``.logger``.

    Two handlers are equal when they are of the same type and their public attributes are equal, as before.

    .. deprecated:: 0.1.0
        Subclass ``compat.Result`` instead (implement ``write_bytes``/``read_bytes``/``exists_at``), or wrap a
        handler with ``compat.as_result(handler)``. ``results-codemod <path>`` rewrites call sites.
    """

    _legacy_rename: ClassVar[Rename | None] = None
    """Set on each subclass: the table's rename for compat's built-ins (LocalResultHandler...), else None."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _is_compat_class(cls):
            cls._legacy_rename = COMPAT.find("class", cls.__name__)
            return
        cls._legacy_rename = None  # a user's subclass of a built-in is the user's class, not the built-in
        if _built_by_class_statement():
            warn(LegacySubclassWarning, message(rename_for("class", "ResultHandler"), subject=cls.__qualname__))

    logger = _Logger()

    def write(self, result: Any) -> str | None:
        """Store ``result``; return the URI that ``read`` accepts. The base class stores nothing and returns None,
        as the legacy base class did (subclasses override it)."""
        return None

    def read(self, uri: str) -> Any:
        """Load the value stored at ``uri``. The base class returns None, as the legacy base class did."""
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        """Set the attribute, and on every Result this handler was converted into (``as_result``) the attribute
        the rename table maps it to, so ``handler.dir = b`` after ``Task(result_handler=handler)`` takes effect."""
        object.__setattr__(self, name, value)
        rename = type(self).__dict__.get("_legacy_rename")
        if rename is None or name.startswith("_"):
            return
        new = rename.arguments.get(name, name)
        for ref in self.__dict__.get("_converted", ()):
            result = ref()
            if result is not None and new is not None:
                setattr(result, new, value)

    def _converted_into(self, result: object) -> None:
        """Called by the adapters: ``result`` was built from this handler's settings and must follow them."""
        self.__dict__.setdefault("_converted", []).append(weakref.ref(result))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_converted"}  # weak references do not pickle

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        public = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return public == {k: v for k, v in vars(other).items() if not k.startswith("_")}

    __hash__ = None  # type: ignore[assignment]  # equal by mutable attributes, so unhashable, as before

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({shown})"
