"""What the bridge changes in a loaded Prefect 1.x, all in ``apply``; nothing else of Prefect is touched.

- ``result_handler=`` on ``Task.__init__`` (so subclasses' ``super().__init__`` too), ``Flow.__init__`` and
  ``task``: translated to ``result=`` by compat's own translator (``compat.kwargs.translate_result_handler``) with
  the bridge's conversion and the ``prefect`` profile's messages;
- ``.result_handler`` on ``Task`` and ``Flow``: a deprecated alias of ``.result``;
- ``prefect.engine.results.ResultHandlerResult``, ``prefect.engine.result.SafeResult`` and the legacy module paths
  (``compat.prefect.modules``).

Functions and ``__init__``s are wrapped, never classes, so pickling, ``isinstance`` and subclassing keep working.
Which callables take the keyword and attribute, and where ``task`` is bound, come from the rename table.

``apply`` runs inside ``import prefect``, so it imports only the rename table and the wrappers: the bridge's Results
and handlers (``compat.prefect.results``, ``compat.prefect.handlers``), the legacy layer and the warnings machinery
are imported when a legacy use first needs them (a restored name looked up, a legacy keyword passed, a legacy module
imported).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

from compat._frames import skip_frames_in
from compat.kwargs import result_handler_property, translate_result_handler
from compat.prefect.modules import engine_getattr, install_finder
from compat.renames import PREFECT, rename_for

__all__ = ["apply"]

KEYWORD = rename_for("keyword", "result_handler", PREFECT)
ATTRIBUTE = rename_for("attribute", "result_handler", PREFECT)
HINT = "ResultHandlerResult.from_result_handler(handler)"


def apply(prefect: ModuleType) -> None:
    """Restore the legacy API on ``prefect`` (a Prefect >= 0.14, < 2 that has finished importing)."""
    skip_frames_in(os.path.dirname(str(prefect.__file__)))  # warnings land on the user's line, past Prefect's
    install_finder()
    if not hasattr(prefect.engine, "__getattr__"):
        prefect.engine.__getattr__ = engine_getattr  # type: ignore[attr-defined]
    import prefect.engine.results

    _restore_lazily(prefect.engine.results, "ResultHandlerResult")
    import prefect.engine.result.base

    for module in (prefect.engine.result, prefect.engine.result.base):  # where 0.13 defined and exported it
        _restore_lazily(module, "SafeResult")

    for name in KEYWORD.applies_to:  # Task, Flow (their __init__) and task (rebound wherever Prefect binds it)
        original = getattr(prefect, name)
        if isinstance(original, type):
            original.__init__ = _translated(original.__dict__["__init__"], name)  # type: ignore[misc]
            continue
        translated = _translated(original, name)
        for module_name in PREFECT.engine_modules:
            module = sys.modules.get(module_name)
            if module is not None and getattr(module, name, None) is original:
                setattr(module, name, translated)
    for name in ATTRIBUTE.applies_to:  # Task, Flow
        alias = result_handler_property(name, to_result=_to_result, to_handler=_to_handler, profile=PREFECT)
        setattr(getattr(prefect, name), ATTRIBUTE.old, alias)


def _restore_lazily(module: ModuleType, name: str) -> None:
    """Serve ``module.name`` from ``compat.prefect.results`` on its first look-up (a module ``__getattr__``, PEP 562,
    in front of any the module has), bound in the module from then on."""
    previous = module.__dict__.get("__getattr__")

    def __getattr__(attribute: str) -> Any:
        if attribute == name:
            from compat.prefect import results

            value = getattr(results, name)
            setattr(module, name, value)
            return value
        if previous is not None:
            return previous(attribute)
        raise AttributeError(f"module {module.__name__!r} has no attribute {attribute!r}")

    setattr(module, "__getattr__", __getattr__)


def _to_result(obj: Any) -> Any:
    from compat.prefect import results

    return results.to_result(obj)


def _to_handler(result: Any) -> Any:
    from compat.prefect import results

    return results.to_handler(result)


def _handler_kind(obj: Any) -> Any:
    from compat.prefect import results

    return results.handler_kind(obj)


def _translated(function: Any, owner: str) -> Any:
    return translate_result_handler(
        function, owner=owner, convert=_to_result, kind_of=_handler_kind, profile=PREFECT, hint=HINT
    )
