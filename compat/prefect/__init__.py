"""The Prefect bridge: flows written for Prefect 0.10-0.13's result handlers run unmodified on Prefect 1.x.

Installed with the ``prefect`` extra, the distribution's ``results_compat_prefect.pth`` arms it in every
interpreter at no cost (``_results_compat_prefect``); when ``prefect`` is imported, ``install`` registers
``activate`` as a wrapt post-import hook, which restores the legacy API (``compat.prefect.patches``) on Prefect
>= 0.14, < 2 and does nothing on older Prefect (it has its own handlers) or Prefect 2+ (no Results API to map
onto). ``RESULTS_COMPAT_PREFECT=0`` turns the start-up hook off; ``install()`` turns the bridge on explicitly.

This module imports nothing heavy: Prefect, wrapt and the rest of the bridge are imported when needed.
"""

from __future__ import annotations

import logging
import re
from types import ModuleType

__all__ = ["SUPPORTED", "activate", "install", "is_active"]

SUPPORTED = ((0, 14), (2, 0))
"""The Prefect versions the bridge restores the legacy API on: at least the first, below the second."""

logger = logging.getLogger(__name__)

_registered = False
_active = False


def install() -> None:
    """Turn the bridge on: now if ``prefect`` is imported, else as soon as it is. Idempotent."""
    global _registered
    if _registered:
        return
    _registered = True
    import wrapt

    wrapt.register_post_import_hook(activate, "prefect")


def is_active() -> bool:
    """Whether the legacy API has been restored in this process."""
    return _active


def activate(prefect: ModuleType) -> None:
    """Restore the legacy API on the imported ``prefect`` if its version is supported (once per process)."""
    global _active
    version = _version(getattr(prefect, "__version__", ""))
    low, high = SUPPORTED
    if version is None or not low <= version < high:
        logger.debug(
            "results-compat's Prefect bridge does nothing on Prefect %s: Prefect before 0.14 has its own result "
            "handlers, and Prefect 2 has no Result API to map them onto (the bridge supports >= 0.14, < 2)",
            getattr(prefect, "__version__", "of unknown version"),
        )
        return
    if _active:
        return
    from compat.prefect.patches import apply

    apply(prefect)
    _active = True


def _version(text: str) -> tuple[int, int] | None:
    found = re.match(r"(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else None
