"""``MemoryResult``: results kept in this process's memory, shared by every MemoryResult in it."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, TypeVar

from compat.errors import LocationError, ResultNotFound
from compat.results.base import Result
from compat.results.records import RECORD_SUFFIX
from compat.results.serializers import SIGNED_MAGIC, PickleSerializer

M = TypeVar("M", bound="MemoryResult")

_RECORD = 3
"""Where a stored value's entry keeps its record's entry (see ``MemoryResult._store``)."""

__all__ = ["MemoryResult"]


class MemoryResult(Result):
    """Stores serialized values in a process-wide, thread-safe map from location to bytes.

    Values are serialized like any backend's, so a reader never shares a mutable object with the writer and an
    unpicklable value fails here as it would on disk. Nothing survives the process: use it for tests and for
    checkpoints that only matter within one run.
    """

    # Each value is kept as a list [bytes, when stored, number of the write, its record's entry or None], not a
    # tuple: the cyclic garbage collector untracks a tuple that holds no container, and at a full pass a dict whose
    # values all are untracked, so the store left the collector at every full pass (a flow run makes one every 5,000
    # tasks), the next write's new tuple tracked it again among the youngest objects, and young collections walked
    # every entry. A list is never untracked: the store ages into the oldest generation (frozen during a run).
    # The record at ``location + RECORD_SUFFIX`` of a stored value is kept in the value's entry (``_RECORD``), not
    # in an entry of its own: one insert into the map a checkpoint, not two at random places of a map twice the size
    # (in a 100,000-task run the two cost 0.6-1.0 us a task more than at 10,000, one 0.03-0.2 us). A value written
    # again keeps the record until a new one is written, as a record of its own would stay.
    _store: dict[str, list[Any]] = {}
    _lock = threading.Lock()
    _versions = itertools.count(1)

    def __repr__(self) -> str:  # names the whole store: every MemoryResult of the process shares it
        return f"MemoryResult(location={self.location!r})"

    def write_bytes(self, location: str | None, data: bytes) -> str:
        if location is None:
            location = self.new_location()
        stamp = datetime.now(timezone.utc)
        resolved = self.resolve(location)
        store = self._store
        with self._lock:
            before = store.get(resolved)
            if before is None and resolved.endswith(RECORD_SUFFIX):
                output = store.get(resolved[: -len(RECORD_SUFFIX)])
                if output is not None:  # the record of a stored value: kept with it
                    output[_RECORD] = [bytes(data), stamp, next(self._versions), None]
                    return location
            store[resolved] = [bytes(data), stamp, next(self._versions), None if before is None else before[_RECORD]]
        return location

    def _kept_record(self, location: str) -> list[Any] | None:
        """The entry of the record kept with its value, when ``location`` is a record's (a record has one entry:
        kept with its value, or of its own when written before its value); called holding the lock."""
        if not location.endswith(RECORD_SUFFIX):
            return None
        output = self._store.get(location[: -len(RECORD_SUFFIX)])
        return None if output is None else output[_RECORD]

    def new_location(self) -> str:
        return f"memory-{uuid.uuid4().hex}"

    def resolve(self, location: str) -> str:
        if not isinstance(location, str) or not location:
            raise LocationError(f"a MemoryResult location must be a non-empty str, not {location!r}")
        return location

    def read(self: M, location: str) -> M:
        """As ``Result.read``; with the default ``PickleSerializer`` the stored bytes are checked and unpickled by
        ``PickleSerializer.unpickle`` (as ``LocalResult`` does a small file's), without a serializer bound to the
        location for each read."""
        serializer = self.serializer
        if type(serializer) is not PickleSerializer or type(self) is not MemoryResult:
            return super().read(location)
        resolved = self.resolve(location)
        data = self.read_bytes(resolved)
        signed_for, on_header = None, None
        if data[:1] == SIGNED_MAGIC[:1]:  # no pickle starts with it: signed (or not a pickle)
            signed_for = resolved
            record = self.record_bytes(resolved) if self.keeps_records else None  # read after the value, as ever
            if record is not None:  # checked once the signature is verified; none: nothing to check, no call
                on_header = lambda header: self.refuse_replayed(resolved, header, record)  # noqa: E731
        return self._unpickled_at(resolved, data, serializer, signed_for, on_header)

    def read_bytes(self, location: str) -> bytes:
        with self._lock:
            entry = self._store.get(location) or self._kept_record(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return entry[0]

    def record_bytes(self, location: str) -> bytes | None:
        """The record's bytes, or None: one look-up, no exception raised when there is none (a signed read asks)."""
        with self._lock:
            output = self._store.get(location)
            entry = output[_RECORD] if output is not None else None
            if entry is None:  # none kept with it: one of its own (written before it), if any
                entry = self._store.get(location + RECORD_SUFFIX)
        return None if entry is None else entry[0]

    def exists_at(self, location: str) -> bool:
        with self._lock:
            return location in self._store or self._kept_record(location) is not None

    def modified_at(self, location: str) -> datetime | None:
        with self._lock:
            entry = self._store.get(location) or self._kept_record(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return entry[1]

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        """The number of the write that stored the value (each write in the process gets a new one)."""
        with self._lock:
            entry = self._store.get(location) or self._kept_record(location)
        if entry is None:
            raise ResultNotFound(f"no result is stored in memory at {location!r}")
        return {"version": entry[2]}

    @classmethod
    def clear(cls) -> None:
        """Forget every value stored in memory (tests use this to start clean)."""
        with cls._lock:
            cls._store.clear()
