"""Where a legacy use's warning points: the first frame outside compat, wrapt and the import machinery.

Kept apart from ``compat.deprecations`` (messages, categories, filters) so that the Prefect bridge can name
Prefect's package as not the user's when Prefect is imported, without importing the warnings machinery before a
legacy use needs it. ``compat._wrapt`` adds wrapt's package when it is first imported.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import FrameType

__all__ = ["importer_frame", "skip_frames_in", "user_frame", "where_keyword_is_written"]


def _package_dir(module_file: str) -> str:
    return os.path.dirname(os.path.abspath(module_file)) + os.sep


_OWN_PREFIXES: tuple[str, ...] = (
    _package_dir(__file__),  # compat itself
    _package_dir(importlib.__file__),  # importlib.import_module(...)
    "<frozen importlib",  # the import system, between an import statement and the module it runs
)


def skip_frames_in(directory: str) -> None:
    """Also walk out of the frames of code under ``directory`` (wrapt's package; the Prefect bridge adds Prefect's,
    whose ``Task.__init__`` wrappers and ``@task`` lie between the user's line and the bridge)."""
    global _OWN_PREFIXES
    prefix = _package_dir(os.path.join(directory, "__init__.py"))
    if prefix not in _OWN_PREFIXES:
        _OWN_PREFIXES = (*_OWN_PREFIXES, prefix)


def user_frame() -> FrameType | None:
    """The innermost frame whose code is not compat's, wrapt's or importlib's: the user's line."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_PREFIXES):
        frame = frame.f_back
    return frame


def where_keyword_is_written(frame: FrameType | None, keyword: str, instance: object) -> FrameType | None:
    """From ``frame`` outwards, the first frame that is not compat's and not an ``__init__`` of ``instance`` that
    received ``keyword`` itself (as a parameter or inside its ``**kwargs``) and passed it on."""
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_OWN_PREFIXES) and not _passes_on(frame, keyword, instance):
            return frame
        frame = frame.f_back
    return None


def _passes_on(frame: FrameType, keyword: str, instance: object) -> bool:
    code = frame.f_code
    if code.co_name != "__init__" or not code.co_argcount:
        return False
    local = frame.f_locals
    if local.get(code.co_varnames[0]) is not instance:
        return False
    return keyword in local or any(isinstance(value, dict) and keyword in value for value in local.values())


def importer_frame() -> FrameType | None:
    """The frame whose import statement runs the calling module's body: the innermost frame outside the import
    system. Loaders from outside importlib (pytest's assertion rewriter, ...) run below the import system's frames
    and are skipped with them."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_PREFIXES):
        frame = frame.f_back
    return frame
