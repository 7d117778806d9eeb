"""Where a local output's record is, for tests that look at it: the output's extended attribute (``RECORD_XATTR``),
else the record file beside it (``RECORD_SUFFIX``)."""

from __future__ import annotations

import os
from pathlib import Path

from compat.results.records import RECORD_SUFFIX, RECORD_XATTR, checked


def attribute(path: str | os.PathLike[str]) -> bytes | None:
    """The record kept with the file at ``path`` itself, or None."""
    try:
        return os.getxattr(path, RECORD_XATTR, follow_symlinks=False)
    except OSError:
        return None


def record_file(path: str | os.PathLike[str]) -> Path:
    """The record file beside the output at ``path``."""
    return Path(f"{os.fspath(path)}{RECORD_SUFFIX}")


def stored_record(path: str | os.PathLike[str]) -> bytes | None:
    """The JSON of the record of the output at ``path``, wherever it is kept (a record file's check line verified
    and removed), or None."""
    found = attribute(path)
    if found is not None:
        return found
    beside = record_file(path)
    return checked(beside.read_bytes()) if beside.exists() else None


def remove_record(path: str | os.PathLike[str]) -> None:
    """Leave the output at ``path`` without a record, as one written by an earlier version or by hand."""
    try:
        os.removexattr(path, RECORD_XATTR, follow_symlinks=False)
    except OSError:
        pass
    record_file(path).unlink(missing_ok=True)


def plant_record(path: str | os.PathLike[str], data: bytes) -> None:
    """Put ``data`` where the output's record is read first, as someone who can write the store could."""
    os.setxattr(path, RECORD_XATTR, data, follow_symlinks=False)
