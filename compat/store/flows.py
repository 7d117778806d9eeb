"""Finding a flow the command line names (``MODULE_OR_FILE:FLOW``) and the parameters it is given
(``--param NAME=VALUE``), then planning it (``plan_flow``).

A file is loaded as Python runs a script's imports (its directory first on ``sys.path``, so it can import its
neighbours), but under a module name of its own, never ``__main__``: code under ``if __name__ == "__main__":``
does not run. A module is imported from the current directory first, as ``python -m`` does.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import linecache
import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from compat.engine.flow import Flow
from compat.errors import FlowError

__all__ = ["load_flow", "parse_params", "plan_flow"]


def load_flow(spec: str) -> Flow:
    """The ``Flow`` that ``spec`` names: ``path/to/flows.py:flow`` or ``package.module:flow`` (``FLOW`` an
    attribute, dotted for one inside an object). A FlowError says what is missing and how to name it."""
    source, colon, name = spec.rpartition(":")
    if not colon or not source or not name:
        raise FlowError(f"{spec!r} does not name a flow; write MODULE_OR_FILE:FLOW, e.g. flows.py:flow or "
                        "mypackage.flows:flow")
    module = _load_file(source) if _is_path(source) else _import(source)
    found: Any = module
    for part in name.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            flows = sorted(key for key, value in vars(module).items() if isinstance(value, Flow))
            shown = ", ".join(flows) or "none"
            raise FlowError(f"{source} has no attribute {name!r}; the flows it defines at its top level: {shown}")
    if not isinstance(found, Flow):
        raise FlowError(f"{source}:{name} is a {type(found).__name__}, not a Flow; name the flow object itself")
    return found


def _is_path(source: str) -> bool:
    return source.endswith(".py") or os.sep in source or (os.altsep is not None and os.altsep in source)


def _load_file(path: str) -> Any:
    if not os.path.isfile(path):
        raise FlowError(f"no flow file {path!r}: {'no such file' if not os.path.exists(path) else 'not a file'}")
    absolute = os.path.abspath(path)
    linecache.checkcache(absolute)  # a file edited since this process read it: its tasks' source is the new one
    module_name = f"_results_compat_flow_{abs(hash(absolute)):x}"
    spec = importlib.util.spec_from_file_location(module_name, absolute)
    if spec is None or spec.loader is None:
        raise FlowError(f"{path!r} cannot be loaded as Python; a flow file ends in .py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses, pickling and dask look a module up by name
    sys.path.insert(0, os.path.dirname(absolute))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise FlowError(f"loading {path!r} failed: {_where(exc)}") from exc
    finally:
        sys.path.remove(os.path.dirname(absolute))
    return module


def _import(name: str) -> Any:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, "")  # as python -m: the current directory first
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise FlowError(f"no module named {name!r} (looked in the current directory and sys.path); give a "
                            "file path such as flows.py:flow, or run from the directory the module is in") from exc
        raise FlowError(f"importing {name!r} failed: {_where(exc)}") from exc
    except Exception as exc:
        raise FlowError(f"importing {name!r} failed: {_where(exc)}") from exc


def _where(exc: BaseException) -> str:
    """The exception and the line of the user's code that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    at = f" (at {last.filename}:{last.lineno})" if last is not None else ""
    return f"{type(exc).__name__}: {exc}{at}"


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings as parameters: a VALUE that is JSON (``3``, ``1.5``, ``true``, ``null``, ``[1, 2]``,
    ``"3"``) is that value, anything else the text as it is (``2026-11-30``). ValueError for a malformed item or a
    name given twice."""
    params: dict[str, Any] = {}
    for item in items:
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ValueError(f"--param {item!r}: write NAME=VALUE, e.g. --param day=2026-11-30")
        if name in params:
            raise ValueError(f"--param {name!r} is given twice; give each parameter once")
        try:
            params[name] = json.loads(text)
        except ValueError:
            params[name] = text
    return params


def plan_flow(
    flow: Flow, parameters: Mapping[str, Any] | None = None, prune: bool = False, refresh: Iterable[str] = ()
) -> Any:
    """``flow.plan`` with the given parameters, pruning and refreshed task names (the engine's ``Plan``)."""
    refreshed = list(refresh)
    return flow.plan(parameters=dict(parameters or {}), prune=prune, refresh=refreshed or None)
