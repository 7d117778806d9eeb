"""The two parts of wrapt the ``result_handler=`` shim uses (``decorator``, ``with_signature``), without paying for
the rest of wrapt at ``import compat``.

wrapt's package ``__init__`` imports every wrapt feature, among them ``wrapt.synchronization`` (which imports
asyncio) and ``wrapt.importer`` (importlib.metadata): about 30 ms, two thirds of what ``import compat`` used to
cost, for modules the shim never calls. When nothing has imported wrapt yet, its package module is created from
its spec without running ``__init__`` (the submodules the shim needs import only each other), and ``__init__``
runs on the first look-up of a name it would have bound: ``import wrapt; wrapt.when_imported(...)`` anywhere else
in the process works as it always did, on the same module objects.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

from compat._frames import skip_frames_in

__all__ = ["decorator", "directory", "with_signature"]

_init_lock = threading.RLock()
_pending: set[str] = set()  # packages whose __init__ has not run yet


class _DeferredInit(types.ModuleType):
    """A package whose ``__init__`` runs when a name it has not bound yet is looked up (PEP 562 ``__getattr__``).

    Names already bound (``__path__``, ``__spec__``, submodules imported so far) are found without running it.
    """

    def __getattr__(self, name: str) -> Any:
        with _init_lock:
            if self.__name__ in _pending:
                _pending.discard(self.__name__)  # before running: a look-up from inside __init__ must not recurse
                try:
                    self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
                finally:
                    self.__class__ = types.ModuleType  # type: ignore[assignment]
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def _defer_package_init(name: str) -> None:
    """Put package ``name`` in ``sys.modules`` with its ``__init__`` deferred (see ``_DeferredInit``), unless it is
    imported already or is not a plain source package (then the ordinary import below runs ``__init__``)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return
    if not hasattr(spec.loader, "exec_module"):
        return
    module = importlib.util.module_from_spec(spec)
    with _init_lock:
        if name in sys.modules:  # another thread imported it meanwhile
            return
        module.__class__ = _DeferredInit
        _pending.add(name)
        sys.modules[name] = module


_defer_package_init("wrapt")

from wrapt.decorators import decorator  # noqa: E402  (imported after the deferral, on purpose)
from wrapt.signature import with_signature  # noqa: E402

directory: str = sys.modules["wrapt"].__path__[0]
"""wrapt's package directory: frames from its files are not the user's (``compat._frames``)."""
skip_frames_in(directory)
