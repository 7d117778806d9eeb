"""The Prefect bridge: flows written for Prefect 0.10-0.13's result handlers run unmodified on Prefect 1.x.

Installed with the ``prefect`` extra, the distribution's ``results_compat_prefect.pth`` arms it in every
interpreter at no cost (``_results_compat_prefect``); when ``prefect`` is imported, ``install`` puts a finder on
``sys.meta_path`` that runs ``activate`` after every import of ``prefect`` (also one after ``prefect`` was purged
from ``sys.modules``), which restores the legacy API (``compat.prefect.patches``) on Prefect >= 0.14, < 2 and does
nothing on older Prefect (it has its own handlers) or Prefect 2+ (no Results API to map onto).
``RESULTS_COMPAT_PREFECT=0`` turns the start-up hook off; ``install()`` turns the bridge on explicitly.

This module imports nothing heavy: Prefect, wrapt and the rest of the bridge are imported when needed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sys
import threading
import weakref
from types import ModuleType
from typing import Any

__all__ = ["SUPPORTED", "activate", "install", "is_active"]

SUPPORTED = ((0, 14), (2, 0))
"""The Prefect versions the bridge restores the legacy API on: at least the first, below the second."""

logger = logging.getLogger(__name__)

_finder: _EveryImport | None = None
_patched: weakref.WeakSet[ModuleType] = weakref.WeakSet()
"""The ``prefect`` modules given the legacy API: one, unless ``prefect`` was purged from ``sys.modules`` and
imported again."""


def install() -> None:
    """Turn the bridge on: now if ``prefect`` is imported, else as soon as it is, and on every later import of it
    (after ``prefect`` was purged from ``sys.modules``). Idempotent."""
    global _finder
    if _finder is None:
        _finder = _EveryImport()
        sys.meta_path.insert(0, _finder)
    prefect = sys.modules.get("prefect")
    if prefect is not None:
        activate(prefect)


def is_active() -> bool:
    """Whether the legacy API has been restored on the ``prefect`` imported in this process."""
    return sys.modules.get("prefect") in _patched


def activate(prefect: ModuleType) -> None:
    """Restore the legacy API on the imported ``prefect`` if its version is supported (once per module)."""
    version = _version(getattr(prefect, "__version__", ""))
    low, high = SUPPORTED
    if version is None or not low <= version < high:
        logger.debug(
            "results-compat's Prefect bridge does nothing on Prefect %s: Prefect before 0.14 has its own result "
            "handlers, and Prefect 2 has no Result API to map them onto (the bridge supports >= 0.14, < 2)",
            getattr(prefect, "__version__", "of unknown version"),
        )
        return
    if prefect in _patched:
        return
    from compat.prefect import patches

    results = sys.modules.get("compat.prefect.results")  # imported on the first legacy use, if any
    if _patched and results is not None:  # a Prefect imported anew: the bridge's classes must derive from its
        importlib.reload(results)  # classes, not the old ones'
        patches = importlib.reload(patches)
    patches.apply(prefect)
    _patched.add(prefect)


class _EveryImport:
    """On ``sys.meta_path`` once the bridge is installed: every import of ``prefect`` (the first, or one after it
    was purged from ``sys.modules``) goes through ``_Activating``. A wrapt post-import hook fires only once per
    process, which left a re-imported Prefect without the legacy API."""

    def __init__(self) -> None:
        self._finding = threading.local()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "prefect" or getattr(self._finding, "now", False):
            return None
        self._finding.now = True  # importlib.util.find_spec asks this finder again: let the others answer
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding.now = False
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Activating(spec.loader)  # type: ignore[assignment]  # a Loader by duck typing
        return spec


class _Activating:
    """Loads ``prefect`` with its own loader, then activates the bridge on it; the module keeps its own loader."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_data, is_package, ...: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        activate(module)


def _version(text: str) -> tuple[int, int] | None:
    found = re.match(r"(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else None
