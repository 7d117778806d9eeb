"""Durable, all-or-nothing file writes: the one place every file-backed Result and handler writes through.

The bytes (given, or streamed by a serializer) go to a sibling temporary file, are flushed and fsynced (unless the
caller chose speed over durability), and only then ``os.replace`` puts them at the destination (atomic on POSIX
and Windows). A writer that dies or raises midway leaves the destination as it was:
the old value or nothing, never a partial file. The directory itself is not fsynced after the rename: that would
double the cost of small writes, and the rename is still atomic; after a power cut the destination holds the old or
the new complete value. An overwrite keeps the replaced file's permission bits, within ``RESULT_BITS``.

Temporary files are named ``.results-compat-<machine>-<pid>-<time>-<count>.tmp``: short whatever the destination's
name (any name ``open()`` accepts can be written), and saying who wrote them and when (``<machine>``: the host name,
boot id and PID namespace, hashed; the count, per process, tells apart two files made in the same nanosecond; a name
taken by someone else is skipped, as ``O_EXCL`` says). A writer killed mid-write (SIGKILL, power loss) cannot remove
its own; the next write into that directory from the same machine, boot and PID namespace removes those whose writer
is gone (at most once a minute per directory and process). Files of writers elsewhere (another machine, or another
container with the same host name) are left alone: their liveness cannot be checked from here.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import re
import stat
import threading
import time
import zlib
from collections.abc import Callable
from typing import BinaryIO

__all__ = [
    "KEEP_MODE",
    "RESULT_BITS",
    "TEMP_PREFIX",
    "abandoned",
    "atomic_write",
    "atomic_write_bytes",
    "existing_mode",
    "remove_stale_temp_files",
    "temp_written_at",
    "write_anew",
]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

TEMP_PREFIX = ".results-compat-"
"""How every temporary file of an atomic write starts."""

KEEP_MODE = -1
"""``mode=`` for a write that keeps the permission bits of the file it replaces (looked up with one ``stat``)."""

RESULT_BITS = 0o664
"""The permission bits ``KEEP_MODE`` keeps of the file replaced: read and write for the owner and group, read for
others. Never setuid, setgid, sticky, execute or world-write, which a file planted at the target may carry."""



def _machine() -> str:
    """Whose pids a temporary file's name gives, as 8 hex digits: the host name, the boot id and the PID namespace.
    Containers sharing a volume often share a host name too, and each has pids of its own: a writer's liveness is
    checked only by a process that sees the same pids (one with the same three), never guessed from the name."""
    parts = [os.uname().nodename if hasattr(os, "uname") else ""]
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:  # Linux
            parts.append(f.read().strip())
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass
    return f"{zlib.crc32(chr(0).join(parts).encode()):08x}"


_HOST = _machine()
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"([0-9a-f]{8})-(\d+)-([0-9a-f]+)-[0-9a-f]+\.tmp\Z")
_FCHMOD = getattr(os, "fchmod", None)
_count = itertools.count()
_writer = [f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-"]
"""The start of this process's temporary file names; renewed in a forked child (``getpid`` is a system call)."""
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _writer.__setitem__(0, f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-"))
_SWEEP_INTERVAL = 60.0  # seconds between two sweeps of one directory by one process
_SWEPT_KEPT = 4096  # directories remembered as recently swept, at most (about)
_swept: dict[str, float] = {}
_swept_lock = threading.Lock()


def atomic_write_bytes(
    path: str, data: bytes | bytearray | memoryview, mode: int | None = KEEP_MODE, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` atomically (and, ``durable``, fsynced), creating parent directories as needed.

    ``mode``: permission bits for the file, as given; by default (``KEEP_MODE``) those of the file being replaced,
    within ``RESULT_BITS``; None, or nothing to replace: the umask decides, as for any new file.
    """
    atomic_write(path, bytes(data) if type(data) is not bytes else data, mode, durable)


def atomic_write(
    path: str,
    fill: Callable[[BinaryIO], object] | bytes,
    mode: int | None = KEEP_MODE,
    durable: bool = True,
    dir_fd: int | None = None,
    seal: Callable[[int], object] | None = None,
) -> None:
    """Write what ``fill(file)`` writes to ``path`` atomically: nothing reaches ``path`` if ``fill`` raises.
    ``fill`` may also be the bytes themselves: they are written to the descriptor, with no file object around it
    (for a small value pickled in memory: no buffer to set up, which costs a system call and more than the write).

    ``durable=False`` skips the fsync: the file then survives the writer's crash (the rename is still atomic), but
    not a power cut or a kernel crash, which may leave an empty or partial file at ``path`` (scratch space).
    The temporary file is created with one ``open(O_EXCL)`` beside ``path`` (no other call checks for it first).
    ``dir_fd``: a descriptor of ``path``'s directory, held by the caller; the temporary file is then created, swept
    and renamed by name relative to it, so its directory is never looked up by path again (``_beneath``).
    ``seal``: called with the file's descriptor once the file is at ``path`` (renamed into place), before it is
    closed: a record set as an extended attribute of that very inode (``LocalResult``), not fsynced. Before the
    fsync instead, the attribute's own block was written by it: 1.4-1.5x the syscalls of a new 1 KB file, against
    1.01-1.05x after the rename (fastest of 12 rounds of 200 new files, load 5-6).
    """
    head = path[: path.rfind(os.sep) + 1] if os.altsep is None else os.path.join(os.path.dirname(path), "")
    directory = head or "."  # with its trailing separator: the temporary file's name is appended to it
    last = _swept.get(directory)
    if last is None or time.monotonic() - last >= _SWEEP_INTERVAL:  # the usual case decided here, without a call
        _maybe_sweep(directory, dir_fd)
    if dir_fd is not None:
        path, head = path[len(head) :], ""
    if mode == KEEP_MODE:
        mode = existing_mode(path, dir_fd)
        mode = None if mode is None else mode & RESULT_BITS
    tmp, fd = _create(head, directory, dir_fd, 0o666 if mode is None else mode)
    held = True  # fd is open (closed once written, or kept open for seal)
    try:
        if mode is not None and _FCHMOD is not None:  # the umask may have taken some of the bits to keep:
            try:  # one call sets them (an fstat to look first costs as much, and its stat_result more in Python)
                _FCHMOD(fd, mode)
            except OSError:  # a file system that refuses modes: only an error if the mode is not already right
                if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
                    raise
        if type(fill) is bytes:
            written = os.write(fd, fill)  # all of it, unless cut short (a signal): then the rest where it stopped
            if written < len(fill):
                view = memoryview(fill)[written:]
                while view:
                    view = view[os.write(fd, view) :]
        else:
            with open(fd, "wb", io.DEFAULT_BUFFER_SIZE, None, None, None, False) as f:  # closefd=False; no isatty()
                fill(f)  # type: ignore[operator]
        if durable:
            os.fsync(fd)
        if seal is None:
            held = False
            os.close(fd)
        if dir_fd is None:
            os.replace(tmp, path)
        else:
            os.replace(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        if held:
            os.close(fd)
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise
    if seal is not None:
        try:
            seal(fd)
        finally:
            os.close(fd)


_ANEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_ANEW_TRIES = 100


def write_anew(path: str, data: bytes, dir_fd: int | None = None) -> None:
    """Put ``data`` at ``path`` as a new file: whatever is at ``path`` is unlinked (a link: the link itself, never
    what it leads to) and a file created there with ``O_EXCL`` (which follows no link) and written, not fsynced;
    its mode is the umask's. For self-delimiting data only (a record's JSON object), where a reader that meets the
    file half written sees a prefix and refuses it: nothing else at ``path`` is ever mixed into it, and two writers
    each write a file of their own (the last to create it wins; ``O_EXCL`` refusing one means another writer
    created it meanwhile, and it is replaced in turn).

    No rename over an existing file: on ext4 (``auto_da_alloc``, its default) that makes the kernel write the new
    file's data out at once, which cost a 1 KB durable checkpoint's record as much as its output's own fsync
    (``benchmarks/record_syscalls.py``). ``dir_fd``: ``path`` is a name in the directory open as it."""
    for _ in range(_ANEW_TRIES):
        try:
            os.unlink(path, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, _ANEW, 0o666, dir_fd=dir_fd)
        except FileExistsError:  # another writer created it between the two calls: replace theirs too
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return
    raise FileExistsError(errno.EEXIST, "another writer kept creating the file", path)


def _create(head: str, directory: str, dir_fd: int | None, mode: int = 0o666) -> tuple[str, int]:
    """A new temporary file in ``directory`` (``head``: its path with a trailing separator, or empty; or open as
    ``dir_fd``): its name and a descriptor open for writing. ``mode`` less the umask are its permission bits
    (0o666: as a plain ``open()`` would make them)."""
    for _ in range(100):
        tmp = f"{head}{_writer[0]}{time.time_ns():x}-{next(_count):x}.tmp"
        try:
            return tmp, os.open(tmp, _FLAGS, mode, dir_fd=dir_fd)
        except FileNotFoundError:  # first write into a new directory
            if dir_fd is not None:
                raise
            os.makedirs(directory, exist_ok=True)
            return tmp, os.open(tmp, _FLAGS, mode)
        except FileExistsError:  # not ours: someone made a file of that name
            continue
    raise FileExistsError(errno.EEXIST, "every temporary file name tried exists already", tmp)


def existing_mode(path: str, dir_fd: int | None = None) -> int | None:
    """The permission bits of the regular file at ``path``, or None if there is none; ``IsADirectoryError`` if
    ``path`` is a directory (no file can replace it)."""
    try:
        st = os.stat(path, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _maybe_sweep(directory: str, dir_fd: int | None) -> None:
    now = time.monotonic()
    last = _swept.get(directory)
    if last is not None and now - last < _SWEEP_INTERVAL:  # the usual case, decided without the lock
        return
    with _swept_lock:
        last = _swept.get(directory)
        if last is not None and now - last < _SWEEP_INTERVAL:
            return
        if len(_swept) >= _SWEPT_KEPT:  # a process writing into very many directories: forget the old sweeps
            for known, when in list(_swept.items()):
                if now - when >= _SWEEP_INTERVAL:
                    del _swept[known]
        _swept[directory] = now
    remove_stale_temp_files(directory, dir_fd)


def remove_stale_temp_files(directory: str, dir_fd: int | None = None) -> list[str]:
    """Remove the temporary files in ``directory`` (open as ``dir_fd`` if given: then listed and removed through
    it) left by writers of this machine that are gone; return their paths."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return []
    removed = []
    try:
        entries = os.scandir(directory if dir_fd is None else dir_fd)
    except OSError:  # not created yet, or not listable: nothing to sweep
        return []
    with entries:
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) and abandoned(entry.name)):
                continue
            try:
                os.unlink(entry.path if dir_fd is None else entry.name, dir_fd=dir_fd)
            except OSError:  # removed by another sweeper, or not ours to remove
                continue
            removed.append(os.path.join(directory, entry.name))
    return removed


def abandoned(name: str) -> bool | None:
    """Whether the file called ``name`` is a temporary file of an atomic write whose writer, on this machine (and
    boot, and PID namespace: ``_machine``), is gone; None when ``name`` is not such a temporary file's name. Another
    machine's is never said abandoned: its writer's liveness cannot be checked from here."""
    match = _TEMP_NAME.match(name)
    if match is None:
        return None
    if match[1] != _HOST or os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return False
    return not _writer_alive(int(match[2]), int(match[3], 16) / 1e9)


def temp_written_at(name: str) -> float | None:
    """When the temporary file called ``name`` was created (seconds since the epoch, from its name), or None when
    ``name`` is not a temporary file's name."""
    match = _TEMP_NAME.match(name)
    return None if match is None else int(match[3], 16) / 1e9


def _writer_alive(pid: int, created: float) -> bool:
    """Whether process ``pid`` may still be writing a file it created at ``created`` (seconds since the epoch)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        pass
    except OSError:
        return True
    started = _process_start(pid)
    return started is None or started <= created + 2.0  # a process started later reuses the pid: not the writer


def _process_start(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), from Linux's /proc; None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
