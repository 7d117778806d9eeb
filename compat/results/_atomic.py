"""Durable, all-or-nothing file writes: the one place every file-backed Result and handler writes through.

The bytes go to a sibling temporary file, are flushed and fsynced, and only then ``os.replace`` puts them at the
destination (atomic on POSIX and Windows). A writer that dies or raises midway leaves the destination as it was:
the old value or nothing, never a partial file. The directory itself is not fsynced after the rename: that would
double the cost of small writes, and the rename is still atomic; after a power cut the destination holds the old or
the new complete value.
"""

from __future__ import annotations

import os

__all__ = ["atomic_write_bytes"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def atomic_write_bytes(path: str, data: bytes | bytearray | memoryview, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically and durably, creating parent directories as needed.

    ``mode``: permission bits for the file (e.g. those of the file being replaced); by default the umask decides.
    """
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    # os.open with O_EXCL and 0o666 lets the umask set the final permissions, as a plain open() would.
    try:
        fd = os.open(tmp, _FLAGS, 0o666)
    except FileNotFoundError:  # first write into a new directory
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, _FLAGS, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):  # POSIX; Windows has no such bits to keep
                os.fchmod(f.fileno(), mode)
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
