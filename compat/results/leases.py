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
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import stat
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from compat.errors import ArgumentTypeError, LocationError
from compat.results._beneath import At

__all__ = ["LEASE_SUFFIX", "LEASING", "FileLease", "Holder", "Lease", "LeaseSetting", "file_lease_holder",
           "lease_setting", "take_file_lease"]

LEASE_SUFFIX = ".lease"
"""The lease on the output at ``location`` is at ``location + LEASE_SUFFIX``, in the same store."""

LEASING = "LocalResult"
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
