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
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from compat.errors import ArgumentTypeError, LocationError, ResultError, ResultNotFound, StorageError
from compat.results.base import KEPT_MARK, Result, excess_kept
from compat.results.leases import LEASE_SUFFIX, Holder, read_body, take_versioned_lease
from compat.results.serializers import LEGACY_MAGIC, SIGNED_MAGIC

__all__ = [
    "ObjectStoreResult",
    "StoredObject",
    "ClientCache",
    "LocationTaken",
    "SIGNED_BASE64",
    "checked_kwargs",
    "checked_store_name",
    "first_write_wins",
    "kept_name",
    "name_in_store",
    "unique_name",
    "unwrap_legacy_payload",
]

T = TypeVar("T")
O = TypeVar("O", bound="ObjectStoreResult")

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
