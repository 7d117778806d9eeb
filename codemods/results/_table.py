"""``compat.renames``, the one table of renames, loaded without the rest of ``compat``.

Importing ``compat.renames`` the ordinary way first runs ``compat/__init__.py``, which imports the whole runtime
(engine, backends, shims): most of the codemod's start-up, for a table that imports nothing from ``compat``. So
the table's module is loaded from its file under its own name; every later ``from compat.renames import ...``
(the codemod's, and ``compat``'s own once something imports ``compat``) finds that one module in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import PathFinder
from types import ModuleType

__all__ = ["load_rename_table"]

NAME = "compat.renames"


def load_rename_table() -> ModuleType:
    """``compat.renames``, executed once per process, without importing the ``compat`` package if it is not yet."""
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("compat")  # a top-level name: finding it runs nothing
    locations = None if package is None else package.submodule_search_locations
    spec = None if locations is None else PathFinder.find_spec(NAME, list(locations))
    if spec is None or spec.loader is None:  # an unusual install: let the import system do it the slow way
        import compat.renames

        return compat.renames
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[NAME]
        raise
    return module
