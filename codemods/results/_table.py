"""``compat.renames``, the one table of renames, loaded without the rest of ``compat``.

Importing ``compat.renames`` the ordinary way first runs ``compat/__init__.py``, which imports the whole runtime
(engine, backends, shims): most of the codemod's start-up, for a table that imports nothing from ``compat``. So
the table's module is loaded from its file under its own name; every later ``from compat.renames import ...``
(the codemod's, and ``compat``'s own once something imports ``compat``) finds that one module in ``sys.modules``.
The atomic write is loaded the same way. Both are found beside ``codemods``, never through the name ``compat``,
which a project of the user's may own (``python -m codemods.results`` puts the current directory first).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

__all__ = ["load_own", "load_rename_table"]

NAME = "compat.renames"
_OUR_COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "compat")
"""This distribution's ``compat`` package, beside ``codemods``: found by location, not by name, because a project
the codemod runs in may have a ``compat`` module of its own that ``python -m`` puts first on ``sys.path``."""


def load_rename_table() -> ModuleType:
    """``compat.renames``, executed once per process, without importing the ``compat`` package if it is not yet."""
    return load_own(NAME)


def load_own(name: str) -> ModuleType:
    """A module of this distribution's ``compat`` that imports nothing from ``compat`` (``compat.renames``,
    ``compat.results._atomic``), loaded from its file once per process under its own name, so neither the rest of
    ``compat`` nor a project's own module named ``compat`` is imported for it."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    path = os.path.join(_OUR_COMPAT, *name.split(".")[1:]) + ".py"
    spec = importlib.util.spec_from_file_location(name, path) if os.path.isfile(path) else None
    if spec is None or spec.loader is None:  # an unusual install: let the import system do it the slow way
        return importlib.import_module(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
