"""Names a package exports but imports on first use (PEP 562), so ``import compat`` does not pay for backends and
executors a program may never touch (the cloud Results, the legacy cloud handlers, DaskExecutor).

A package binds its lazy names under ``if TYPE_CHECKING:`` (so mypy and IDEs see them) and sets
``__getattr__, __dir__ = lazy_names(__name__, {name: module})``. ``from package import Name``, ``package.Name``,
``import *``, ``dir(package)`` and pickling by reference all work; the first look-up imports the module and binds
the name in the package, so later look-ups cost nothing.

A module defining public names calls ``show_as_public(globals())`` once they are bound, so tracebacks and reprs show
``compat.LocalResult`` however the object was reached (``compat`` no longer imports them all up front to say so).
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (``import compat`` loads this module)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_names", "show_as_public"]


def lazy_names(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``, whose names ``where`` maps to defining modules."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            submodule = sys.modules.get(f"{package}.{name}")
            if submodule is not None:  # imported without binding it here (the codemod loads compat.renames so)
                return submodule
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        public = sys.modules["compat"]
        if name in public.__all__:  # the public surface shows compat.Name, however it was reached first
            value.__module__ = "compat"
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


def show_as_public(namespace: Mapping[str, Any]) -> None:
    """Give each object of ``namespace`` that ``compat`` exports the public module path ``compat``."""
    for name in sys.modules["compat"].__all__:
        value = namespace.get(name)
        if value is not None and getattr(value, "__module__", None) != "compat":
            value.__module__ = "compat"
