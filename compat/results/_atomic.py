"""Durable, all-or-nothing file writes: the one place every file-backed Result and handler writes through.

The bytes go to a sibling temporary file, are flushed and fsynced, and only then ``os.replace`` puts them at the
destination (atomic on POSIX and Windows). A writer that dies or raises midway leaves the destination as it was:
the old value or nothing, never a partial file.
"""

from __future__ import annotations

import os
import secrets

__all__ = ["atomic_write_bytes"]


def atomic_write_bytes(path: str, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``path`` atomically and durably, creating parent directories as needed."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with O_EXCL and 0o666 lets the umask set the final permissions, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Persist the rename itself; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
