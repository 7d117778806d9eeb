"""Start-up hook of the Prefect bridge: what ``results_compat_prefect.pth`` hands ``import prefect`` over to.

Python runs each line of a ``.pth`` file in site-packages at every start-up, so that line must cost nothing: it
imports only ``os`` (already loaded by ``site``), reads ``RESULTS_COMPAT_PREFECT`` and, unless it is 0/false/no/off,
puts on ``sys.meta_path`` a finder that answers every import with None at once, except ``prefect``'s: that one
imports this module and calls ``found_prefect``. Nothing of results-compat, wrapt or Prefect is imported before.

``found_prefect`` removes that finder, turns the bridge on (``compat.prefect.install()``, a finder of its own that
activates the bridge after each import of ``prefect``) and finds ``prefect`` again, now through that finder, so the
bridge runs once Prefect has loaded.
"""

from __future__ import annotations

import sys
from typing import Any

SWITCH = "RESULTS_COMPAT_PREFECT"
OFF = ("0", "false", "no", "off")


def is_waiting(finder: object) -> bool:
    """Whether ``finder`` is the one the .pth line put on ``sys.meta_path``."""
    return type(finder).__name__ == "AwaitPrefect" and type(finder).__module__ == __name__


def found_prefect() -> Any:
    """``prefect`` is being imported: install the bridge and return the spec to import it with (None: carry on)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not is_waiting(finder)]
    import importlib.util
    import os

    if os.environ.get(SWITCH, "").strip().lower() in OFF:
        return None
    try:
        import compat.prefect

        compat.prefect.install()
    except Exception as exc:  # a broken bridge must not break ``import prefect``: say so and step aside
        import warnings

        warnings.warn(f"results-compat's Prefect bridge could not be installed: {exc!r}", RuntimeWarning, stacklevel=2)
        return None
    return importlib.util.find_spec("prefect")
