"""Print, as JSON, the code fingerprint of every function some module files define: ``python fingerprint_module.py
PATH...`` -> ``{path: {"functions": {qualname: fingerprint}, "error": None}}``. The tests run it in a fresh
process for each side of a comparison, so each side is loaded as a program would load it.

Each file is loaded as a module named after the file (``keywords.before.py`` -> ``keywords``), so a file and its
rewritten copy get the same name. A module that stops with an error (a codemod fixture may, at a line it leaves
for a human) gives the functions defined before that line, and the error's type.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import warnings
from typing import Any

from compat.engine.fingerprints import code_fingerprint


def functions(module: Any) -> dict[str, Any]:
    """The module's functions, methods, ``@task`` functions (ours and Prefect's) and Task classes' ``run``."""
    found: dict[str, Any] = {}
    for value in list(vars(module).values()):
        candidates = [value, getattr(value, "fn", None), getattr(value, "run", None), type(value)]
        for candidate in candidates:
            if inspect.isclass(candidate) and candidate.__module__ == module.__name__:
                for member in vars(candidate).values():
                    if inspect.isfunction(member):
                        found[member.__qualname__] = member
            elif inspect.isfunction(candidate) and candidate.__module__ == module.__name__:
                found[candidate.__qualname__] = candidate
    return found


def load(path: str) -> dict[str, Any]:
    name = os.path.basename(path).split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    error = None
    try:
        spec.loader.exec_module(module)
    except Exception as stopped:  # noqa: BLE001 - reported, and compared by the test
        error = type(stopped).__name__
    found = {qualname: code_fingerprint(fn) for qualname, fn in sorted(functions(module).items())}
    return {"functions": found, "error": error}


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # the legacy side warns as it imports
    found = {path: load(path) for path in sys.argv[1:]}
    print("\n" + json.dumps(found))  # on a line of its own, after anything the modules printed
