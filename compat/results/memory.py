"""``MemoryResult``: results kept in this process's memory, shared by every MemoryResult in it."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from compat.errors import LocationError, ResultNotFound
from compat.results.base import Result
from compat.results.records import RECORD_SUFFIX

__all__ = ["MemoryResult"]


class _Entry:
    """One stored value: its bytes, when it was stored, and the number of the write that stored it.

    An object rather than a tuple: the cyclic garbage collector untracks a tuple that holds no container, and at
    each full pass a dict whose values all are untracked, so the store left the collector at every full pass and
    the next write put it back among the youngest objects, where each young collection walked every entry again
    (a 100,000-task run on MemoryResult holds 200,000). An entry is always tracked, so the store stays in the
    oldest generation, and a flow run's freeze (``compat.engine.flow_run``) keeps it out of the passes."""

    __slots__ = ("data", "stamp", "version")

    def __init__(self, data: bytes, stamp: datetime, version: int) -> None:
        self.data = data
        self.stamp = stamp
        self.version = version


class MemoryResult(Result):
    """Stores serialized values in a process-wide, thread-safe map from location to bytes.

    Values are serialized like any backend's, so a reader never shares a mutable object with the writer and an
    unpicklable value fails here as it would on disk. Nothing survives the process: use it for tests and for
    checkpoints that only matter within one run.
    """

    _store: dict[str, _Entry] = {}
    _lock = threading.Lock()
    _versions = itertools.count(1)

    def __repr__(self) -> str:  # names the whole store: every MemoryResult of the process shares it
        return f"MemoryResult(location={self.location!r})"

    def write_bytes(self, location: str | None, data: bytes) -> str:
        if location is None:
            location = self.new_location()
        stamp = datetime.now(timezone.utc)
        with self._lock:
            self._store[self.resolve(location)] = _Entry(bytes(data), stamp, next(self._versions))
        return location

    def new_location(self) -> str:
        return f"memory-{uuid.uuid4().hex}"

    def resolve(self, location: str) -> str:
        if not isinstance(location, str) or not location:
            raise LocationError(f"a MemoryResult location must be a non-empty str, not {location!r}")
        return location

    def read_bytes(self, location: str) -> bytes:
        with self._lock:
            entry = self._store.get(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return entry.data

    def record_bytes(self, location: str) -> bytes | None:
        """The record's bytes, or None: one look-up, no exception raised when there is none (a signed read asks)."""
        with self._lock:
            entry = self._store.get(location + RECORD_SUFFIX)
        return None if entry is None else entry.data

    def exists_at(self, location: str) -> bool:
        with self._lock:
            return location in self._store

    def modified_at(self, location: str) -> datetime | None:
        with self._lock:
            entry = self._store.get(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return entry.stamp

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        """The number of the write that stored the value (each write in the process gets a new one)."""
        with self._lock:
            entry = self._store.get(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return {"version": entry.version}

    @classmethod
    def clear(cls) -> None:
        """Forget every value stored in memory (tests use this to start clean)."""
        with cls._lock:
            cls._store.clear()
