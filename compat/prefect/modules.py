"""The import path ``prefect.engine.result_handlers`` and its 0.13 submodules, restored on Prefect 1.x.

A meta path finder serves each path the ``prefect`` profile of the rename table lists (``legacy_modules``): the
package exposes ``ResultHandler`` and every built-in handler, and each submodule (``local_result_handler``, ...)
the class it held in 0.13. The modules are made when first imported, so importing the legacy path warns at the
user's import statement (once per process, as any module body runs once); the classes are those of
``compat.prefect.handlers``, so pickles name a module that always exists.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

from compat.renames import PREFECT, rename_for

__all__ = ["LegacyModuleFinder", "engine_getattr", "install_finder", "module_contents"]

ROOT = rename_for("module", "prefect.engine.result_handlers", PREFECT).old


def module_contents(name: str) -> dict[str, Any]:
    """The names the legacy module ``name`` exposes: all handlers for the package, else the one whose snake-case
    name is the submodule's (``local_result_handler`` -> ``LocalResultHandler``)."""
    from compat.prefect import handlers

    if name == ROOT:
        return {cls: getattr(handlers, cls) for cls in handlers.__all__}
    leaf = name.rpartition(".")[2].replace("_", "")
    return {cls: getattr(handlers, cls) for cls in handlers.__all__ if cls.lower() == leaf}


class LegacyModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the legacy module paths; every other import passes by."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PREFECT.legacy_modules:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == ROOT)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        from compat.deprecations import LegacyImportWarning, message, warn

        contents = module_contents(module.__name__)
        module.__dict__.update(contents)
        module.__all__ = sorted(contents)  # type: ignore[attr-defined]
        module.__doc__ = (
            f"Prefect 0.13's {module.__name__}, restored by results-compat's Prefect bridge.\n\n"
            f".. deprecated:: Prefect 0.11\n    {message(rename_for('module', ROOT, PREFECT), profile=PREFECT)}\n"
        )
        if module.__name__ == ROOT:
            module.__path__ = []  # type: ignore[attr-defined]  # a package: its submodules come from this finder
            warn(LegacyImportWarning, message(rename_for("module", ROOT, PREFECT), profile=PREFECT), at_import=True)


def engine_getattr(name: str) -> ModuleType:
    """``prefect.engine``'s module ``__getattr__`` (PEP 562): ``import prefect`` made ``prefect.engine.result_handlers``
    reachable in 0.13 (``prefect.engine`` imported it), so the attribute imports it on first use."""
    if name == ROOT.rpartition(".")[2]:
        return importlib.import_module(ROOT)
    raise AttributeError(f"module 'prefect.engine' has no attribute {name!r}")


def install_finder() -> None:
    """Serve the legacy paths from now on (idempotent)."""
    if not any(isinstance(finder, LegacyModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, LegacyModuleFinder())
