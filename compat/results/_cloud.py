"""What the object-store backends (``S3Result``, ``GCSResult``, ``AzureResult``) share.

- ``ObjectStoreResult``: the base of the three: the write-once rule in ``write``, ``exists_at`` by a metadata
  look-up, the one place their SDK's exceptions are turned into ours (``_translated``), and what the command line
  needs of a store: ``list_objects`` (one paginated listing, no per-object request) and ``delete_object``.
- ``StoredObject``: one entry of a listing (name, size, time written, the service's version of it).
- ``ClientCache``: one SDK client per process, built on first use, shared by every copy of a Result and never
  pickled, so a Result sent to a worker (cloudpickle) or inherited by a forked child builds its own.
- ``LocationTaken`` and ``first_write_wins``: the write-once rule. A backend's ``write_bytes`` raises
  ``LocationTaken`` when the service's precondition refused the write; ``write`` then returns the stored value.
- ``checked_store_name``: a bucket or container name refused when the Result is made, not at its first write;
  ``checked_kwargs``: the SDK client's keyword arguments, a mapping.
- ``name_in_store``: the object name a location gives (``scheme://store/name`` or the name alone).
- ``unique_name``: where a write without a location goes; ``kept_name``: where ``keep_aside`` moves bytes.
- ``unwrap_legacy_payload``: the pickle inside an object a legacy cloud handler wrote (base64 text).
- ``Gathered`` and ``Pieces``: a value pickled into pieces (its large ``bytes`` kept where they are) and uploaded
  from a file object over them (``Unjoined``, for an SDK that sends what it reads as the request body: the pieces
  themselves); ``load_while_downloading``: a value loaded from a download as the SDK writes it
  (``Piped``), on a thread of its own.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, BinaryIO, TypeVar

from compat.errors import ArgumentTypeError, LocationError, ResultError, ResultNotFound, StorageError
from compat.results.base import KEPT_MARK, Result, excess_kept
from compat.results.leases import LEASE_SUFFIX, Holder, read_body, take_versioned_lease
from compat.results.serializers import LEGACY_MAGIC, SIGNED_MAGIC

__all__ = [
    "Body",
    "Gathered",
    "ObjectStoreResult",
    "Pieces",
    "Piped",
    "ReadStopped",
    "StoredObject",
    "ClientCache",
    "Unjoined",
    "LocationTaken",
    "SIGNED_BASE64",
    "checked_kwargs",
    "checked_store_name",
    "first_write_wins",
    "kept_name",
    "load_while_downloading",
    "name_in_store",
    "unique_name",
    "unwrap_legacy_payload",
    "unwrapping_legacy",
]

T = TypeVar("T")
O = TypeVar("O", bound="ObjectStoreResult")

READ_BUFFER = 1024 * 1024
"""Bytes a backend reads at a time while a value is loaded from a stream."""
_JOIN_BELOW = 1024 * 1024  # a body smaller than this is sent as one bytes object: a stream costs more than a copy
_KEEP = 64 * 1024  # a bytes object written that large is kept as it is, not copied into the gathered buffer
_PIPE_LIMIT = 16 * 1024 * 1024  # bytes a download may have written ahead of the reader
_PIPE_WAKE = 1024 * 1024  # bytes waiting (or the end) that wake a reader who asked for at least as many
_PIPE_SPILL = 4 * 1024 * 1024  # bytes of a download after which its value is loaded on a thread as it arrives

WRITE_ONCE_ATTEMPTS = 5

SIGNED_BASE64 = base64.b64encode(SIGNED_MAGIC[:6])
"""How the base64 text of a signed pickle starts (what a legacy handler writes when a signing key is set)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object of a listing: its full ``name`` in the store, ``size`` in bytes, when it was last ``modified``
    (tz-aware), the service's ``version`` of it (S3's ETag, GCS's generation, Azure's ETag), which a delete can
    be made conditional on, and its ``identity`` as a record names it (``stored_identity``, from the listing).
    ``leased``: whether a blob lease is held on it, where the listing says (Azure; None elsewhere)."""

    name: str
    size: int
    modified: datetime
    version: str | None = None
    identity: Mapping[str, Any] | None = field(default=None, compare=False)
    leased: bool | None = field(default=None, compare=False)


class ObjectStoreResult(Result):
    """What ``S3Result``, ``GCSResult`` and ``AzureResult`` do alike. A backend gives ``_build_client``,
    ``store_uri``, ``_look_up`` (the SDK's metadata of a name) and ``_translate`` (an SDK exception as ours)."""

    def __init__(self, *, overwrite: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.overwrite = overwrite
        self._clients = ClientCache()

    @property
    def client(self) -> Any:
        """The SDK's client, built by ``_build_client`` on first use in this process and shared by every copy of
        this Result; a Result pickled to a worker (cloudpickle) builds its own there, and a forked child never
        reuses its parent's."""
        return self._clients.get(self._build_client)

    def _build_client(self) -> Any:
        raise NotImplementedError

    @property
    def store_uri(self) -> str:
        """The bucket or container as a URI (``s3://bucket``), for messages."""
        raise NotImplementedError

    def write(self: O, value: Any, /, **context: Any) -> O:
        """Store ``value``; in write-once mode, a location that already holds a value gives back that value instead."""
        if self.overwrite:
            return super().write(value, **context)
        return first_write_wins(
            lambda: super(ObjectStoreResult, self).write(value, **context), self.read, self.store_uri
        )

    def new_location(self) -> str:
        return unique_name()

    def _remove_old_copies(self, name: str) -> None:
        """Delete the kept-aside copies of ``name`` beyond the newest ``KEPT_ASIDE_COPIES`` (each only if unchanged
        since it was listed, where the service can tell)."""
        listed = {item.name: item.version for item in self.list_objects(name + KEPT_MARK)}
        for old in excess_kept(listed):
            self.delete_object(old, listed[old])

    can_lease = True

    def take_lease(self, location: str, holder: Holder, ttl: float = 60.0) -> Any:
        """The lease object ``<name>.lease``, taken with the store's compare-and-swap (``compat.results.leases``)."""
        return take_versioned_lease(self, self.resolve(location) + LEASE_SUFFIX, holder, ttl)

    def lease_holder(self, location: str) -> Holder | None:
        current = self._lease_get(self.resolve(location) + LEASE_SUFFIX)
        return None if current is None else read_body(current[0], 0.0)[0]

    def _lease_put(self, name: str, data: bytes, version: str | None) -> str | None:
        """Write the lease object: create it (``version`` None) only if there is none, else replace it only if it
        is still ``version``; its new version, or None when the condition failed."""
        raise NotImplementedError

    def _lease_get(self, name: str) -> tuple[bytes, str] | None:
        """The lease object's bytes and version, or None if there is none."""
        raise NotImplementedError

    def write_record_bytes(self, location: str, data: bytes) -> None:
        """A record replaces the previous one even on a write-once Result: it is written by the run whose output
        was stored, and describes it."""
        recorder = self.copy()
        recorder.overwrite = True
        recorder.write_bytes(location, data)

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        return self._identity(self._look_up(self.resolve(location)))

    def _identity(self, metadata: Any) -> dict[str, Any]:
        """What in the SDK's metadata of an object changes whenever it is rewritten (an ETag, a generation)."""
        raise NotImplementedError

    def exists_at(self, location: str) -> bool:
        try:
            self._look_up(self.resolve(location))
        except ResultNotFound:
            return False
        return True

    def _look_up(self, name: str) -> Any:
        """The SDK's metadata of the object ``name``; ``ResultNotFound`` if there is none."""
        raise NotImplementedError

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every object whose name starts with ``prefix``, from the service's listing alone (paginated: one request
        per page of up to a thousand or so, never one per object), in the service's order."""
        raise NotImplementedError

    def delete_object(self, name: str, version: str | None = None) -> bool:
        """Delete the object ``name``; with ``version`` (from ``list_objects``), only if it is still that version,
        where the service can make a delete conditional (GCS, Azure). False when it was gone or had changed."""
        raise NotImplementedError

    @contextmanager
    def _translated(self, action: str, name: str, **options: Any) -> Iterator[None]:
        """Turn the SDK's exceptions raised inside into ours (``_translate``, given ``options``), keeping the cause."""
        try:
            yield
        except Exception as exc:
            error = self._translate(exc, action, name, **options)
            if error is None:
                raise
            raise error from exc

    _translate: Callable[..., ResultError | None]
    """``_translate(exc, action, name, **options)``: ``exc`` as one of our errors, saying it could not ``action``
    ``name``; None to let it through. Each backend's keyword options are its own (``missing_bucket=``)."""


class ClientCache:
    """Holds one client per process; pickles as empty, and a new process id means a new client."""

    def __init__(self) -> None:
        self._client: Any = None
        self._pid = -1
        self._lock = threading.Lock()

    def get(self, build: Callable[[], T]) -> T:
        """The client of this process, calling ``build()`` the first time (once, however many threads ask)."""
        if self._client is not None and self._pid == os.getpid():
            return self._client  # type: ignore[no-any-return]
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = build()
                self._pid = os.getpid()
            return self._client  # type: ignore[no-any-return]

    @property
    def built(self) -> bool:
        """Whether this process has built its client yet."""
        return self._client is not None and self._pid == os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


class LocationTaken(StorageError):
    """Raised by a write-once Result's ``write_bytes`` when the location already holds a value.

    ``write`` catches it and returns the stored value instead: the first writer wins.
    """

    def __init__(self, uri: str, location: str) -> None:
        self.uri = uri
        self.location = location
        super().__init__(
            f"{uri} already holds a value and this Result is write-once (overwrite=False); read it, or write with "
            "overwrite=True to replace it"
        )

    def __reduce__(self) -> tuple[type[LocationTaken], tuple[str, str]]:  # survives pickling to another process
        return (LocationTaken, (self.uri, self.location))


def first_write_wins(write: Callable[[], T], read: Callable[[str], T], where: str) -> T:
    """``write()``; if the location is taken, the stored value (``read(location)``) instead.

    A taken location that holds nothing yet (the winner's upload is still being committed, or the value was
    deleted since) is retried a few times with a growing pause.
    """
    for attempt in range(WRITE_ONCE_ATTEMPTS):
        try:
            return write()
        except LocationTaken as taken:
            try:
                return read(taken.location)
            except ResultNotFound:
                time.sleep(0.05 * 2**attempt)
    raise StorageError(
        f"could not write once to {where}: the location kept being claimed by another writer but held no value "
        f"after {WRITE_ONCE_ATTEMPTS} attempts; retry later"
    )


def kept_name(name: str) -> str:
    """Where ``keep_aside`` moves the unreadable bytes at ``name``: beside them, stamped with the time."""
    return f"{name}{KEPT_MARK}{datetime.now(timezone.utc):%Y%m%dT%H%M%S.%fZ}"


def unique_name() -> str:
    """A new name for a write without a location: dated, so a listing of the bucket or container stays browsable."""
    return f"{datetime.now(timezone.utc):%Y/%m/%d}/result-{uuid.uuid4().hex}.pkl"


def checked_store_name(owner: str, what: str, name: object, valid: re.Pattern[str], rules: str) -> str:
    """``name`` if it is a str ``valid`` matches all of, else an ``ArgumentTypeError`` (not a str) or a
    ``LocationError`` that says the service's rules and, for a name holding a URI or a path, where that part goes."""
    if not isinstance(name, str):
        raise ArgumentTypeError(f"{owner}: {what}", name, f"the name of a {what} (a str), e.g. {what}='results'")
    if valid.fullmatch(name):
        return name
    if "://" in name:
        hint = f"; give the {what} name alone, without the scheme"
    elif "/" in name:
        head, _, rest = name.partition("/")
        hint = f"; a path belongs in the location: {what}={head!r}, location='{rest.strip('/')}/{{task_name}}.pkl'"
    else:
        hint = ""
    raise LocationError(f"{owner}: {name!r} is not a valid {what} name ({rules}){hint}")


def checked_kwargs(owner: str, argument: str, given: object, takes: str) -> dict[str, Any]:
    """A new dict of ``given`` (None: empty); anything but a mapping is an ``ArgumentTypeError`` saying it holds the
    keyword arguments of ``takes``, without showing it (it may hold credentials)."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ArgumentTypeError(
            f"{owner}: {argument}", given, f"a mapping of {takes} keyword arguments, or None", secret=True
        )
    return dict(given)


def name_in_store(location: object, *, scheme: str, store_kind: str, store: str, owner: str, thing: str) -> str:
    """The object name ``location`` gives: ``scheme://store/name`` or ``name`` alone, never another store's.

    ``owner``: the Result with its article (``an S3Result``); ``thing``: what the service calls a name (``object
    key``). Each backend then checks its service's length rules on what this returns.
    """
    result = owner.split()[-1]
    if not isinstance(location, str):
        raise LocationError(f"{owner} location must be a str {thing}, not {type(location).__name__}")
    name = location
    prefix = f"{scheme}://"
    if location.startswith(prefix):
        named, _, name = location[len(prefix) :].partition("/")
        if named != store:
            raise LocationError(
                f"location {location!r} names the {store_kind} {named!r}, but this {result} stores in {store!r}; "
                f"give the {thing} alone, or use {owner} for that {store_kind}"
            )
    if not name:
        raise LocationError(
            f"location {location!r} names no {thing}; give one such as '{{flow_name}}/{{task_name}}.pkl'"
        )
    return name


def unwrap_legacy_payload(data: bytes) -> bytes:
    """The pickle inside an object written by a legacy cloud handler (``S3ResultHandler``, ``GCSResultHandler``,
    ``AzureResultHandler``: base64 text), else ``data``.

    A raw pickle is never mistaken for one: every pickle ends with the STOP opcode ``.``, which base64 never
    produces. Legacy objects are the base64 of a protocol 2+ pickle, so they start with ``g`` (the base64 of the
    0x80 PROTO opcode), which makes the common case (a raw pickle, starting with 0x80) a one-byte check. The
    legacy handlers write signed pickles as base64 too when a signing key is set (``SIGNED_BASE64``).
    """
    if not data.startswith((b"g", SIGNED_BASE64)) or data.endswith(b"."):
        return data
    try:
        decoded = base64.b64decode(data, validate=True)
    except binascii.Error:
        return data
    if decoded.startswith(SIGNED_MAGIC):
        return decoded  # a signed pickle ends with its tag, and base64 text never starts with a 0x00 byte
    return decoded if decoded.startswith((b"\x80", LEGACY_MAGIC)) and decoded.endswith(b".") else data


class Gathered:
    """What a serializer writes for an upload, gathered without copying the large ``bytes`` it writes (those are
    immutable: a reference is as good as a copy), so a body or a part is sent straight from the value's memory."""

    def __init__(self) -> None:
        self.pieces: list[memoryview] = []
        self.size = 0
        self._tail = bytearray()

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if isinstance(data, bytes) and len(view) >= _KEEP:
            self._close_tail()
            self.pieces.append(view)
        else:
            self._tail += view
        self.size += len(view)
        return len(view)

    def _close_tail(self) -> None:
        if self._tail:
            self.pieces.append(memoryview(bytes(self._tail)))
            self._tail = bytearray()

    def body(self, start: int, end: int) -> Any:
        """A request body of bytes ``[start, end)``: bytes when small, else a seekable stream over the pieces."""
        self._close_tail()
        if end - start < _JOIN_BELOW:
            return b"".join(self._slices(start, end))
        return io.BufferedReader(Pieces(list(self._slices(start, end))), READ_BUFFER)

    def whole(self) -> list[bytes]:
        """Every piece as the ``bytes`` object it views, in order: the value's own large ``bytes`` and the small
        writes joined between them (each piece views its object whole)."""
        self._close_tail()
        return [piece.obj for piece in self.pieces]  # type: ignore[misc]  # always bytes: see write

    def _slices(self, start: int, end: int) -> Iterator[memoryview]:
        offset = 0
        for piece in self.pieces:
            low, high = max(start, offset), min(end, offset + len(piece))
            if low < high:
                yield piece[low - offset : high - offset]
            offset += len(piece)


class Pieces(io.RawIOBase):
    """A readable, seekable raw stream over consecutive buffers (an SDK seeks a body to retry or checksum it)."""

    def __init__(self, pieces: list[memoryview]) -> None:
        self.pieces = pieces
        self.size = sum(len(piece) for piece in pieces)
        self.position = 0
        self._index = 0  # the piece holding ``position``, and where that piece starts: reads go on from there
        self._start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        self._index = self._start = 0
        while self._index < len(self.pieces) and self._start + len(self.pieces[self._index]) <= self.position:
            self._start += len(self.pieces[self._index])
            self._index += 1
        return self.position

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        done = 0
        while done < len(target) and self._index < len(self.pieces):
            piece = self.pieces[self._index]
            at = self.position - self._start
            count = min(len(piece) - at, len(target) - done)
            target[done : done + count] = piece[at : at + count]
            done += count
            self.position += count
            if at + count == len(piece):
                self._start += len(piece)
                self._index += 1
        return done


class Unjoined(io.RawIOBase):
    """A file object over ``pieces`` whose read of everything from the start returns them unjoined, as a ``Body``.

    For an SDK that hands what it read to ``requests`` as the request body, as the GCS SDK's resumable upload does:
    the socket then sends each piece from where it is, the value's own memory, instead of a ``bytes`` read copying
    the whole body first (64 MB of page faults and memory bandwidth: 50 ms on a busy machine). Any other read (the
    SDK resuming a failed upload from the middle) is served as ``bytes`` from ``Pieces``."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.body = Body(pieces)
        self._rest = Pieces([memoryview(piece) for piece in pieces])

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._rest.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._rest.seek(offset, whence)

    def read(self, size: int | None = -1) -> Any:
        if self._rest.position == 0 and (size is None or size < 0 or size >= len(self.body)):
            self._rest.seek(0, io.SEEK_END)
            return self.body
        return super().read(-1 if size is None else size)

    def readinto(self, buffer: Any) -> int:
        return self._rest.readinto(buffer)


class Body:
    """Buffers sent one after the other as one request body: ``requests`` sends an iterable with a length as that
    many bytes (a Content-Length body), each buffer as it is; iterable again for a retry of the request."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.size = sum(len(piece) for piece in pieces)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.pieces)


class ReadStopped(Exception):
    """Raised to a download's thread when the reader stopped (the value failed to load): the SDK does not retry
    it, and the download ends at its next write."""


class Piped(io.RawIOBase):
    """A download's bytes, written by the SDK (``write``) and read as they arrive (``readinto``) by a loader on
    another thread, each byte copied once, into what the loader reads.

    A large read (``_PIPE_WAKE`` bytes or more: a value's payload, or the reader's buffer) takes what is queued and
    hands the rest of its buffer to the download, whose writes then copy each chunk straight into it, as an
    in-memory file's writes would, until it is full or the download ends; the reader sleeps meanwhile and is woken
    once. Otherwise each chunk the SDK hands over is queued as it is: at most ``_PIPE_LIMIT`` bytes wait unread once
    the loader runs (the SDK waits for room), and the loader is woken when ``_PIPE_WAKE`` bytes (or the end) are
    there, not for every chunk. ``on_spill`` is called once, when ``_PIPE_SPILL`` bytes have arrived (that is when
    ``load_while_downloading`` starts its loader).

    A write costs an append and two additions, or a copy into the reader's buffer (the SDK writes a chunk per 8
    KiB): the queue and its counts are changed by one thread at a time (the writer reads the queue into the reader's
    buffer only while the reader waits for it), and the lock is taken only to wait or to wake the other side."""

    def __init__(self, on_spill: Callable[[], None]) -> None:
        self._ready = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._head = 0  # bytes of the first chunk already read
        self._written = 0  # bytes queued, changed by the writer only
        self._read = 0  # bytes taken from the queue
        self._wanted = 0  # what the reader waits for (0: it does not wait)
        self._target: memoryview | None = None  # the reader's buffer, which the writer fills while it waits
        self._into = 0  # bytes of the target filled
        self._full = False  # the writer waits for room
        self._ended = False
        self._stopped = False
        self._on_spill: Callable[[], None] | None = on_spill

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._stopped:
            raise ReadStopped("the value being read failed to load; the download stops")
        chunk = data if type(data) is bytes else bytes(data)  # a reused buffer is copied
        target = self._target
        if target is not None:
            into = self._into
            if into + len(chunk) < len(target) and not self._chunks:  # the common case, without a call
                target[into : into + len(chunk)] = chunk
                self._into = into + len(chunk)
            else:
                self._fill(target, chunk)
            return len(chunk)
        self._chunks.append(chunk)
        self._written += len(chunk)
        if self._wanted and self._written - self._read >= self._wanted:
            with self._ready:
                self._ready.notify_all()
        if self._on_spill is not None:
            if self._written >= _PIPE_SPILL:
                spill, self._on_spill = self._on_spill, None
                spill()
        elif self._written - self._read >= _PIPE_LIMIT:
            with self._ready:
                self._full = True
                while self._written - self._read >= _PIPE_LIMIT and not self._stopped and self._target is None:
                    self._ready.wait()
                self._full = False
        return len(chunk)

    def _fill(self, target: memoryview, chunk: bytes) -> None:
        """Copy ``chunk`` into the waiting reader's ``target``, after what was queued before it; once it is full,
        queue the rest and wake the reader."""
        if self._chunks:  # queued before the reader handed its buffer over: those bytes come first
            self._into += self._take(target[self._into :])
        part = min(len(target) - self._into, len(chunk))
        target[self._into : self._into + part] = chunk if part == len(chunk) else memoryview(chunk)[:part]
        self._into += part
        if self._into == len(target):
            if part < len(chunk):
                self._chunks.append(chunk[part:])
                self._written += len(chunk) - part
            with self._ready:
                self._target = None
                self._ready.notify_all()

    def end(self) -> None:
        """The download is over (complete or not): a reader gets what is left, then the end."""
        with self._ready:
            self._ended = True
            self._ready.notify_all()

    def stop(self) -> None:
        """The reader stops: the download's next write raises ``ReadStopped``."""
        with self._ready:
            self._stopped = True
            self._ready.notify_all()

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if len(target) >= _PIPE_WAKE:
            return self._read_large(target)
        wanted = min(len(target), _PIPE_LIMIT)  # never more than the download may write ahead
        if self._written - self._read < wanted and not self._ended:
            with self._ready:
                self._wanted = wanted
                while self._written - self._read < wanted and not self._ended and not self._stopped:
                    self._ready.wait()
                self._wanted = 0
        done = self._take(target)
        if self._full:
            with self._ready:
                self._ready.notify_all()  # the download waits for room
        return done

    def _read_large(self, target: memoryview) -> int:
        """What is queued, then the download's next bytes written straight into ``target`` until it is full or the
        download ends."""
        done = self._take(target)
        if done < len(target) and not self._ended:
            with self._ready:
                self._into = done
                self._target = target
                self._ready.notify_all()  # a download waiting for room goes on, into the target
                while self._target is not None and not self._ended and not self._stopped:
                    self._ready.wait()
                self._target = None
                done = self._into
            done += self._take(target[done:])  # queued after the target was handed over, if the download ended
        return done

    def _take(self, target: memoryview) -> int:
        """Copy queued bytes into ``target``, as many as fit (the reader, or the writer while the reader waits)."""
        done = 0
        chunks = self._chunks
        while chunks and done < len(target):
            chunk = chunks[0]
            part = min(len(chunk) - self._head, len(target) - done)
            target[done : done + part] = memoryview(chunk)[self._head : self._head + part]
            done += part
            if self._head + part == len(chunk):
                chunks.popleft()
                self._head = 0
            else:
                self._head += part
        self._read += done
        return done


def load_while_downloading(download: Callable[[Piped], object], load: Callable[[io.BufferedReader], T]) -> T:
    """``load`` a stream of what ``download(file)`` writes to a file object.

    The download runs here. A small object (below ``_PIPE_SPILL``) is loaded once it has arrived; for a larger one
    ``load`` starts on a thread of its own as soon as that much has arrived, so copying the bytes into the value
    overlaps the network (loading only after the last byte arrived would add a whole copy's time) and memory holds
    at most ``_PIPE_LIMIT`` bytes waiting. The SDK checks the length and checksum and resumes a broken download;
    ``load`` reads the stream to the end, so those checks run before a value is returned. If the download failed,
    its exception is raised (whatever ``load`` made of the bytes that arrived), for the backend to translate; else
    what ``load`` raised."""
    outcome: list[Any] = []  # [value] or [None, exception]
    stream: list[io.BufferedReader] = []

    def loading() -> None:
        try:
            value = load(stream[0])
            stream[0].read()  # to the end: the download's own checks run at its end
        except BaseException as exc:  # raised by the caller, from its own thread
            pipe.stop()
            outcome[:] = [None, exc]
        else:
            outcome[:] = [value]

    loader = threading.Thread(target=loading, name="compat-load", daemon=True)
    pipe = Piped(on_spill=loader.start)
    stream.append(io.BufferedReader(pipe, READ_BUFFER))
    try:
        download(pipe)
    except BaseException as exc:
        failure: BaseException | None = exc
    else:
        failure = None
    pipe.end()
    if loader.ident is not None:
        loader.join()  # it reads what is left, then the end
    else:
        loading()
    if failure is not None and not isinstance(failure, ReadStopped):
        raise failure  # the download failed: what load made of its bytes is no verdict
    if len(outcome) == 2:
        raise outcome[1]
    return outcome[0]  # type: ignore[no-any-return]


def unwrapping_legacy(serializer: Any, load: Callable[[BinaryIO], T]) -> Callable[[io.BufferedReader], T]:
    """``load``, first decoding an object a legacy cloud handler wrote (base64 text, recognised by its first bytes:
    ``unwrap_legacy_payload``) when ``serializer`` is a ``PickleSerializer``."""
    from compat.results.serializers import PickleSerializer

    def loading(stream: io.BufferedReader) -> T:
        if isinstance(serializer, PickleSerializer) and stream.peek(len(SIGNED_BASE64)).startswith(
            (b"g", SIGNED_BASE64)
        ):
            stream = io.BufferedReader(io.BytesIO(unwrap_legacy_payload(stream.read())))  # type: ignore[arg-type]
        return load(stream)  # type: ignore[arg-type]

    return loading
