"""Where a local output's record is, for tests that look at it: after the pickle in the output's own file
(``compat.results.trailer``), else the output's extended attribute (``RECORD_XATTR``: an earlier version's, or another
serializer's), else the record file beside it (``RECORD_SUFFIX``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from compat.results.records import RECORD_SUFFIX, RECORD_XATTR, checked
from compat.results.trailer import trailer_of


def attribute(path: str | os.PathLike[str]) -> bytes | None:
    """The record kept as the extended attribute of the file at ``path``, or None."""
    try:
        return os.getxattr(path, RECORD_XATTR, follow_symlinks=False)
    except OSError:
        return None


def trailer_json(path: str | os.PathLike[str]) -> bytes | None:
    """The JSON of the record the file at ``path`` carries after its pickle, or None."""
    found = trailer_of(Path(path).read_bytes())
    return None if found is None else found[1]


def payload(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the file at ``path`` without the record it carries (what a record's hash covers)."""
    data = Path(path).read_bytes()
    found = trailer_of(data)
    return data if found is None else data[: found[0]]


def record_file(path: str | os.PathLike[str]) -> Path:
    """The record file beside the output at ``path``."""
    return Path(f"{os.fspath(path)}{RECORD_SUFFIX}")


def stored_record(path: str | os.PathLike[str]) -> bytes | None:
    """The JSON of the record of the output at ``path``, wherever it is kept (a record file's check line verified
    and removed), or None."""
    found = trailer_json(path)
    if found is not None:
        return found
    found = attribute(path)
    if found is not None:
        return found
    beside = record_file(path)
    return checked(beside.read_bytes()) if beside.exists() else None


def remove_record(path: str | os.PathLike[str]) -> None:
    """Leave the output at ``path`` without a record, as one written by an earlier version or by hand."""
    data = payload(path)
    if len(data) != os.path.getsize(path):
        Path(path).write_bytes(data)
    try:
        os.removexattr(path, RECORD_XATTR, follow_symlinks=False)
    except OSError:
        pass
    record_file(path).unlink(missing_ok=True)


def plant_attribute(path: str | os.PathLike[str], data: bytes) -> None:
    """Put ``data`` as the output's extended attribute, as someone who can write the store could."""
    os.setxattr(path, RECORD_XATTR, data, follow_symlinks=False)


def plant_record(path: str | os.PathLike[str], data: bytes) -> None:
    """Put the record ``data`` where the output's record is read first, as someone who can write the store could: a
    record file beside it naming the output's identity as it is now."""
    info = os.lstat(path)
    fields = {**json.loads(data), "stored": {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}}
    record_file(path).write_bytes(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
