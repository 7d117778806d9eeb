"""Leases: while one run makes a target, other runs that need it wait for its output instead of making it again.

A lease is taken on a target's location just before its task runs and released once the output is written (or the
run fails). ``Lease(ttl, wait, poll)`` says how: a run finding the lease held polls every ``poll`` seconds, for at
most ``wait`` seconds, for the holder's output; ``ttl`` is how long a lease on a store without a liveness signal of
its own stays valid unless renewed (object stores; a local lease needs none). Every lease names its holder
(``Holder``: an id, host, pid, task and since when), for messages, ``flow.plan()`` and the command line.

Local files (``take_file_lease``): the lease is an ``flock`` on ``<target>.lease``, an operating system lock that
the kernel drops when the holding process dies, however it dies (SIGKILL included): a lock can never be left held
by a dead process. The holder is written into the file for reporting only; the lock alone decides. Threads of one
process share the process's locks, so a process-wide table of the leases it holds decides between them first. On
NFS, Linux emulates ``flock`` with NFS byte-range locks: it works between machines when the server runs its lock
manager (NFSv4, or NFSv3 with ``lockd``), a lock of a client that dies is dropped only when the server notices
(NFSv4: its lease period, about 90 s), and a filesystem mounted with ``nolock`` or ``local_lock=all`` locks only
on the client itself, so two machines would both run the task.

Object stores: S3 and GCS by compare-and-swap on a lease object (``take_versioned_lease``, renewed by a thread every
``ttl / 3``; taken over only after its version stood unrenewed for ``ttl`` on the taker's own clock); Azure by its
own blob leases (``AzureResult.take_lease``), which expire on the service's clock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import stat
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from compat.errors import ArgumentTypeError, LocationError
from compat.results._beneath import At

__all__ = [
    "LEASE_SUFFIX", "LEASING", "FileLease", "Holder", "Lease", "LeaseSetting", "Renewing", "VersionedLease",
    "file_lease_holder", "lease_body", "lease_setting", "read_body", "remove_file_lease", "take_file_lease",
    "take_versioned_lease",
]

LEASE_SUFFIX = ".lease"
"""The lease on the output at ``location`` is at ``location + LEASE_SUFFIX``, in the same store."""

LEASING = "LocalResult, S3Result, GCSResult and AzureResult"
"""The Results that can take leases, for messages."""

LeaseSetting = Any  # what ``lease=`` accepts: a Lease, True (the defaults), False (off) or None (not said)


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ArgumentTypeError(f"Lease: {name}", value, "a positive number of seconds or a datetime.timedelta")
    return float(value)


@dataclass(frozen=True, slots=True)
class Lease:
    """How a run takes the lease on a target it is about to make (all in seconds; a ``timedelta`` is accepted).

    ``ttl``: how long a lease on an object store lasts without renewal (the holder renews it while the task runs);
    a holder that stops renewing has its lease taken over after ``ttl``. ``wait``: how long a run waits for
    another run's output before it fails saying who holds the lease. ``poll``: how often a waiting run looks."""

    ttl: float = 60.0
    wait: float = 3600.0
    poll: float = 0.5

    def __post_init__(self) -> None:
        for name in ("ttl", "wait", "poll"):
            object.__setattr__(self, name, _seconds(name, getattr(self, name)))


def lease_setting(value: LeaseSetting, where: str) -> Lease | bool | None:
    """``lease=`` checked: a Lease as given, True for ``Lease()``, False (off, even where a flow sets one) or None
    (not said: the flow's setting applies)."""
    if value is None or value is False or isinstance(value, Lease):
        return value  # type: ignore[no-any-return]
    if value is True:
        return Lease()
    raise ArgumentTypeError(where, value, "True, False, None or a Lease(ttl=..., wait=..., poll=...)")


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lease: ``id`` (new for each take), ``host``, ``pid``, ``task`` and ``since`` (ISO 8601 UTC)."""

    id: str
    host: str
    pid: int
    task: str
    since: str

    @classmethod
    def new(cls, task: str) -> Holder:
        since = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return cls(uuid.uuid4().hex, socket.gethostname(), os.getpid(), task, since)

    @classmethod
    def unknown(cls) -> Holder:
        """A holder that has taken the lease but not yet written who it is (or wrote something unreadable)."""
        return cls("", "unknown host", 0, "unknown task", "an unknown time")

    def describe(self) -> str:
        if not self.id:
            return "a run that has not said who it is yet"
        return f"task {self.task!r}, pid {self.pid} on {self.host!r}, since {self.since}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "host": self.host, "pid": self.pid, "task": self.task, "since": self.since}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Holder:
        try:
            fields = json.loads(data)
            holder = cls(str(fields["id"]), str(fields["host"]), int(fields["pid"]), str(fields["task"]),
                         str(fields["since"]))
        except (ValueError, KeyError, TypeError):
            return cls.unknown()
        return holder


# -- local files ---------------------------------------------------------------------------------------------------

_HELD: dict[str, FileLease] = {}  # the leases this process holds, by path: threads share its flocks
_TABLE = threading.Lock()
_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


class FileLease:
    """A lease held on a local file: released (and its file removed) by ``release``, or by the kernel when this
    process dies."""

    __slots__ = ("dir_fd", "fd", "holder", "name", "path")

    def __init__(self, fd: int, dir_fd: int | None, name: str, path: str, holder: Holder) -> None:
        self.fd, self.dir_fd, self.name, self.path, self.holder = fd, dir_fd, name, path, holder

    def renew(self) -> None:
        """Nothing to renew: the kernel holds the lock as long as this process lives."""

    def release(self) -> None:
        with _TABLE:
            if _HELD.get(self.path) is not self:
                return  # released already
            del _HELD[self.path]
            try:
                if _same_file(self.fd, self.name, self.dir_fd):  # never remove a lease file another run made since
                    os.unlink(self.name, dir_fd=self.dir_fd)
            except OSError:
                pass  # left behind: unlocked, so the next run takes it; gc collects it
            finally:
                os.close(self.fd)  # drops the flock
                if self.dir_fd is not None:
                    os.close(self.dir_fd)


def _same_file(fd: int, name: str, dir_fd: int | None) -> bool:
    try:
        named = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def take_file_lease(at: At, holder: Holder) -> FileLease | Holder:
    """Take the lease file at ``at`` for ``holder`` without waiting: the held lease, or who holds it now."""
    with _TABLE:
        held = _HELD.get(at.path)
        if held is not None:
            return held.holder
        for _ in range(100):  # a holder removing its file between our open and lock: open the new one
            fd = _open(at, create=True)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = _read_holder(fd)
                os.close(fd)
                return other
            except BaseException:
                os.close(fd)
                raise
            if not _same_file(fd, at.name, at.dir_fd):
                os.close(fd)  # we locked a file its holder removed as it released it
                continue
            data = holder.to_json()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            dir_fd = None if at.dir_fd is None else os.dup(at.dir_fd)  # ``at``'s own is closed after this call
            lease = _HELD[at.path] = FileLease(fd, dir_fd, at.name, at.path, holder)
            return lease
    raise LocationError(f"the lease file {at.path!r} keeps being replaced; is something else removing it?")


def file_lease_holder(at: At) -> Holder | None:
    """Who holds the lease file at ``at``, or None when nobody does (a file left unlocked is no lease)."""
    with _TABLE:
        held = _HELD.get(at.path)
        if held is not None:
            return held.holder
    try:
        fd = _open(at, create=False)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: a probe never keeps a taker out for long
        except BlockingIOError:
            return _read_holder(fd)
        return None
    finally:
        os.close(fd)


def remove_file_lease(at: At) -> bool:
    """Remove the lease file at ``at`` if nobody holds it, under its lock (as a release does, so a run taking it at
    that moment opens a new one); False if it is held."""
    with _TABLE:
        if at.path in _HELD:
            return False
        fd = _open(at, create=False)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            if not _same_file(fd, at.name, at.dir_fd):
                return False
            os.unlink(at.name, dir_fd=at.dir_fd)
            return True
        finally:
            os.close(fd)


def _open(at: At, create: bool) -> int:
    flags = _FLAGS if create else _FLAGS & ~os.O_CREAT
    try:
        fd = os.open(at.name, flags, 0o644, dir_fd=at.dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise LocationError(f"the lease file {at.path!r} is a symbolic link; remove it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LocationError(f"the lease file {at.path!r} is not a regular file; remove it")
    return fd


def _read_holder(fd: int) -> Holder:
    return Holder.from_json(os.pread(fd, 4096, 0))


# -- object stores ---------------------------------------------------------------------------------------------------
#
# S3 and GCS give compare-and-swap on an object (create only if absent; replace only if still the version read), and
# the lease is built on it: the lease object holds the holder and a renewal count; the holder replaces it every ttl/3,
# so its version changes. A taker never compares clocks: it notes, on its own monotonic clock, when it first saw a
# version, and takes the lease over (replacing exactly that version) only once the same version has stood for the
# holder's ttl. Azure has leases of its own (``AzureResult.take_lease``), which expire on the server's clock.

log = logging.getLogger(__name__)

_SEEN: dict[tuple[str, str], tuple[str, float]] = {}  # (store, name) -> (version, when this process first saw it)


def lease_body(holder: Holder, ttl: float, beat: int) -> bytes:
    return json.dumps({**holder.to_dict(), "ttl": ttl, "beat": beat}, sort_keys=True).encode()


def read_body(data: bytes, ttl: float) -> tuple[Holder, float]:
    """The holder a lease object names and its ttl (``ttl`` when it does not say)."""
    try:
        said = float(json.loads(data).get("ttl", ttl))
    except (ValueError, AttributeError, TypeError):
        said = ttl
    return Holder.from_json(data), said if said > 0 else ttl


class Renewing:
    """A held lease that a daemon thread renews every ``ttl / 3`` until ``release``: ``renew_once()`` is the
    backend's (True: renewed; False: lost to a takeover), ``drop()`` gives it up."""

    def __init__(self, where: str, holder: Holder, ttl: float) -> None:
        self.where, self.holder, self.ttl = where, holder, ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renewing, name=f"lease {where}", daemon=True)
        self._thread.start()

    def _renewing(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.renew_once():
                    log.warning("Lost the lease on %s: another run took it over (it was not renewed within its "
                                "ttl of %g s); both runs may make the target", self.where, self.ttl)
                    return
            except Exception as exc:  # a failed renewal is retried; the lease lapses only after ttl
                log.warning("Could not renew the lease on %s: %s: %s", self.where, type(exc).__name__, exc)

    def renew(self) -> None:
        """Renewed by its own thread; this renews at once."""
        self.renew_once()

    def release(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self.drop()

    def renew_once(self) -> bool:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError


class VersionedLease(Renewing):
    """A lease object held on S3 or GCS: renewed and released only if it is still the version this run wrote."""

    def __init__(self, store: Any, name: str, holder: Holder, ttl: float, version: str) -> None:
        self.store, self.name, self.version, self.beat = store, name, version, 0
        super().__init__(f"{store.store_uri}/{name}", holder, ttl)

    def renew_once(self) -> bool:
        self.beat += 1
        version = self.store._lease_put(self.name, lease_body(self.holder, self.ttl, self.beat), self.version)
        if version is None:
            return False
        self.version = version
        return True

    def drop(self) -> None:
        self.store.delete_object(self.name, self.version)


def take_versioned_lease(store: Any, name: str, holder: Holder, ttl: float) -> VersionedLease | Holder:
    """Take the lease object ``name`` with ``store``'s ``_lease_put``/``_lease_get``, without waiting."""
    body = lease_body(holder, ttl, 0)
    other = Holder.unknown()
    for _ in range(5):  # the lease released or taken over between two requests: look again
        version = store._lease_put(name, body, None)
        if version is not None:
            return VersionedLease(store, name, holder, ttl, version)
        current = store._lease_get(name)
        if current is None:
            continue
        data, seen_version = current
        other, other_ttl = read_body(data, ttl)
        key = (store.store_uri, name)
        now = time.monotonic()
        with _TABLE:
            seen = _SEEN.get(key)
            if seen is None or seen[0] != seen_version:
                _SEEN[key] = (seen_version, now)
                return other
            if now - seen[1] < other_ttl:
                return other
            del _SEEN[key]
        version = store._lease_put(name, body, seen_version)
        if version is None:
            continue
        log.warning("Took over the lease on %s/%s from %s: it was not renewed for its ttl of %g s",
                    store.store_uri, name, other.describe(), other_ttl)
        return VersionedLease(store, name, holder, ttl, version)
    return other
