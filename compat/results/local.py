"""``LocalResult``: results stored as files under a directory."""

from __future__ import annotations

import errno
import functools
import io
import os
import pickle
import stat
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, BinaryIO, TypeVar

from compat.errors import LocationError, ResultError, ResultNotFound, SerializationError, StorageError
from compat.results import _beneath
from compat.results._atomic import RESULT_BITS, atomic_write, write_anew
from compat.results._beneath import At, Link, inside, links_leaving
from compat.results.base import (
    KEPT_MARK, Location, Result, _package_version, _record_tail, _streams, _unreadable, excess_kept,
)
from compat.results.leases import (
    LEASE_SUFFIX, FileLease, Holder, file_lease_holder, remove_file_lease, take_file_lease,
)
from compat.results.records import (
    _CHECK_SIZE, RECORD_CHECK, RECORD_SUFFIX, RECORD_XATTR, HashingWriter, Provenance, RecordForm, TargetRecord,
    _keyring, bytes_hash, utc_now, with_check, written_json,
)
from compat.results.trailer import TRAILER_STORED, TRAILER_STORED_JSON, record_of_file, trailer
from compat.results.serializers import (
    _PLAIN, _SIGNING, _SMALL_PLAIN, SIGNED_MAGIC, PickleSerializer, Serializer, _undeserializable, signing_module,
)

__all__ = ["LocalResult", "default_results_dir"]

T = TypeVar("T")
L = TypeVar("L", bound="LocalResult")


def default_results_dir() -> str:
    """``$RESULTS_COMPAT_HOME/results``, else ``~/.results-compat/results``."""
    home = os.environ.get("RESULTS_COMPAT_HOME") or os.path.join(os.path.expanduser("~"), ".results-compat")
    return os.path.join(home, "results")


_NAME_MAX = 255  # bytes in one file name: ext4, xfs, btrfs, APFS, NTFS (in UTF-16 units)
_PATH_MAX = 4096  # bytes in a whole path (Linux)


def _directory(given: Any) -> str:
    """``dir=`` as an absolute str path; a clear ``LocationError`` for what cannot be one."""
    try:
        raw = os.fspath(given)
    except TypeError:
        raise LocationError(f"dir must be a str or os.PathLike path, not {type(given).__name__}") from None
    if not isinstance(raw, str):
        raise LocationError(f"dir must be a str path, not {type(raw).__name__} ({raw!r}); decode it first")
    if not raw:
        raise LocationError(
            "dir is empty, which would silently mean the current directory; give a directory, dir='.' for the "
            "current one, or leave dir out for the default ($RESULTS_COMPAT_HOME/results)"
        )
    _check_path_text(raw, "dir")
    return os.path.abspath(os.path.expanduser(raw))


def _check_path_text(path: str, what: str) -> None:
    """Refuse what no file system stores: a NUL byte, a name or a path longer than the limits."""
    if "\0" in path:
        raise LocationError(f"{what} {path!r} contains a NUL byte, which no file name may hold; check the values "
                            "rendered into it")
    encoded = os.fsencode(path)
    if len(encoded) <= _NAME_MAX:
        return  # no name in it can be too long either
    if len(encoded) > _PATH_MAX:
        raise LocationError(f"{what} {path[:60]!r}... is {len(encoded)} bytes long; paths are at most {_PATH_MAX} "
                            "bytes; shorten the values rendered into it")
    for name in encoded.split(os.fsencode(os.sep)):
        if len(name) > _NAME_MAX:
            raise LocationError(f"{what} {path[:60]!r}... has a file name of {len(name)} bytes; file names are at "
                                f"most {_NAME_MAX} bytes; shorten the values rendered into it")


_GIVEN, _IN_DIR, _BELOW_DIR = 0, 1, 2
"""Where a location's path is: an absolute location outside ``dir`` used as given (no link is checked), directly in
``dir``, or in a subdirectory of ``dir`` (reached through the directories between, see ``_beneath``)."""

_PATHS: dict[tuple[str, str], tuple[str, int]] = {}
_PATHS_KEPT = 32_768  # (dir, location) pairs remembered, at most: a plan looks up 3 per target (output, record...)


def _path(directory: str, location: Any) -> tuple[str, int]:
    """The path of ``location`` under ``directory`` and where it is (``_GIVEN``...), checked as text: no NUL byte,
    no over-long name, no climbing out of ``directory``. A pure function of its two strings (nothing on disk is
    looked at), so it is remembered: a task's location is resolved several times per run."""
    if type(location) is str:
        known = _PATHS.get((directory, location))
        if known is not None:
            return known
    if not isinstance(location, (str, os.PathLike)):
        raise LocationError(f"a LocalResult location must be a path, not {type(location).__name__}")
    text = os.fspath(location)
    if not isinstance(text, str):
        raise LocationError(f"a LocalResult location must be a str path, not {type(text).__name__}")
    if not text:
        raise LocationError("an empty location cannot name a file; give a file name such as '{task_name}.pkl'")
    _check_path_text(text, "location")
    if os.path.isabs(text):
        path = os.path.normpath(text)
        given = not inside(path, directory)  # inside dir (the engine resolves before it reads): confined as well
    else:
        path = os.path.normpath(os.path.join(directory, text))
        if not inside(path, directory):
            raise LocationError(
                f"location {text!r} resolves to {path!r}, outside the result directory {directory!r}; "
                "check the values rendered into the template, or give an absolute location"
            )
        given = False
    found = path, _GIVEN if given else _IN_DIR if os.path.dirname(path) == directory else _BELOW_DIR
    if type(location) is str:
        if len(_PATHS) >= _PATHS_KEPT:
            _PATHS.clear()
        _PATHS[directory, location] = found
    return found


_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
"""How a result file is opened: O_NONBLOCK so that a FIFO planted at the location cannot block the open (its type
is then checked on the descriptor and refused); it changes nothing for a regular file."""
_SIGNED_START = SIGNED_MAGIC[:1]
"""How a signed value (and one of the earlier signed format) starts: no pickle does."""
_SMALL = 256 * 1024
"""Files up to this size are read whole with one read and unpickled from memory (cheaper than a buffered file for
small values); larger ones are unpickled straight from the file, so a large value is never held twice."""


_SIZED = (bytes, str)
"""The plain types whose pickle can be large: one past ``_SMALL_PLAIN`` is pickled straight into the file, never
copied into memory first."""

_OWN_METHODS = ("render", "resolve", "read_stream", "read_bytes", "write_stream", "write_bytes")
"""LocalResult's methods that its own ``read``/``write`` may bypass; a subclass overriding one is called through it."""
_READ_METHODS = ("read_stream", "read_bytes", "load", "deserialize")  # Result.read's choice of the stream path
_RECORD_METHODS = ("record_bytes", "stored_identity")  # what a signed read's replay check asks of a record


def _kept_aside_name(name: str) -> str:
    """``name`` stamped ``.unreadable-<UTC time>``, within the 255 bytes a file name may have: a long name is cut
    at a character boundary, never inside the bytes of one UTF-8 character."""
    suffix = f".unreadable-{datetime.now(timezone.utc):%Y%m%dT%H%M%S.%fZ}"
    encoded = os.fsencode(name)
    cut = _NAME_MAX - len(suffix)
    if len(encoded) > cut:
        while cut > 0 and encoded[cut] & 0xC0 == 0x80:  # a continuation byte: the character began before it
            cut -= 1
        encoded = encoded[:cut]
    return os.fsdecode(encoded) + suffix


def _remove_old_copies(at: At, kept: str) -> None:
    """Remove the kept-aside copies of the file ``at`` names (``kept`` is the newest) beyond the newest few, in the
    directory held open: regular files only, so a link or directory of such a name, someone else's, stays."""
    prefix = kept[: kept.rindex(KEPT_MARK) + len(KEPT_MARK)]
    directory = at.dir_fd if at.dir_fd is not None else os.path.dirname(at.path)
    with os.scandir(directory) as entries:
        copies = [
            entry.name for entry in entries if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False)
        ]
    for name in excess_kept(copies):
        try:
            if at.dir_fd is not None:
                os.unlink(name, dir_fd=at.dir_fd)
            else:
                os.unlink(os.path.join(directory, name))  # type: ignore[arg-type]
        except FileNotFoundError:  # another run removed it first
            pass


def _whole(stream: BinaryIO) -> bytes:
    return stream.read()


_PREAD = getattr(os, "pread", None)  # POSIX; Windows has none


def _read_at_start(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from the start of ``fd`` (one ``pread`` where there is one)."""
    if _PREAD is not None:
        return _PREAD(fd, size, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, size)


_READV = getattr(os, "readv", None)  # POSIX; Windows has none
_ONE_READ = 0x7FFFF000
"""The most one ``read``/``readv`` gives on Linux, whatever was asked: a file up to this size is read by
``_FileAt`` (no single read can ask more), a larger one through a buffered file, which reads again until it has all."""
_FRAMED = frozenset(b"\x80" + bytes((protocol,)) for protocol in range(4, pickle.HIGHEST_PROTOCOL + 1))
"""How a pickle of protocol 4 or later starts: it comes in frames (up to 64 KiB each, read with one call), and a
value larger than a frame (bytes, str) is read straight into its own object."""


class _FileAt:
    """What ``pickle.load`` needs of a file (``read``, ``readinto``, ``readline``) over a descriptor at its start,
    without a file object (its ``fstat``, its ``lseek``, its buffer that the first bytes are copied through):
    ``read`` is ``os.read`` itself (no Python call per read), which never reads again after a short read: for a
    file no larger than one read gives (``_ONE_READ``), where only its end is short. For a framed pickle
    (``_FRAMED``) only, which ``pickle.load`` reads a frame (or a large value, into its own object) at a time; an
    older protocol's is read an opcode at a time, which a buffered file serves from memory."""

    __slots__ = ("fd", "read")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.read = functools.partial(os.read, fd)

    def readinto(self, buffer: Any) -> int:
        return os.readv(self.fd, (buffer,))

    def readline(self, size: int = -1) -> bytes:
        """Up to and with the next newline (a text opcode's argument, which framed pickles seldom hold)."""
        parts = []
        while size != 0:
            byte = os.read(self.fd, 1)
            parts.append(byte)
            if byte in (b"\n", b""):
                break
            size -= 1
        return b"".join(parts)


_RECORD_READ = 4096
"""How much of a record file a signed read reads at once (a record is a few hundred bytes; a larger one is read
as ``_load`` reads a file)."""


def _open_for_reading(at: At) -> int:
    return at.open(_READ)


def file_identity(info: os.stat_result) -> dict[str, Any]:
    """What a record names of the file ``info`` describes (``LocalResult.stored_identity``): its size, modification
    time (ns) and inode; an atomic rewrite changes the inode, an edit in place the time or the size."""
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}


def _filled(form: RecordForm, digest: str, size: int, info: os.stat_result, written_at: str) -> TargetRecord:
    """The record ``form`` gives the file ``info`` describes (``LocalResult._write_with_record``, when asked for)."""
    return form.record(digest, size, file_identity(info), written_at)


def _in_trailer(form: RecordForm, digest: str, size: int, written_at: str) -> TargetRecord:
    """The record ``form`` gives a pickle that carries it (``LocalResult._write_with_trailer``, when asked for)."""
    return form.record(digest, size, dict(TRAILER_STORED), written_at)


def _trailer_record_of(digest: str, size: int, path: str, provenance: Provenance, written_at: str, version: str
                       ) -> TargetRecord:
    """The record ``written_json`` wrote after a pickle (``LocalResult._trailer_json``, when asked for)."""
    return TargetRecord.of_write(digest, size, path, provenance, written_at, "PickleSerializer", version,
                                 dict(TRAILER_STORED))


_IDENTITY_JSON = '{"inode":%d,"mtime_ns":%d,"size":%d}'
"""``file_identity`` as canonical JSON (keys sorted, compact), to be filled with its three numbers."""
_IDENTITY_JSON_BYTES = _IDENTITY_JSON.encode("ascii")


def _identity_json(info: os.stat_result) -> str:
    """``file_identity(info)`` as canonical JSON (keys sorted, compact), as ``RecordForm.json`` takes it."""
    return _IDENTITY_JSON % (info.st_ino, info.st_mtime_ns, info.st_size)


def _parsed(data: bytes | None) -> TargetRecord | None:
    """The record in ``data``, None if there is none or it is not one this version reads."""
    if data is None:
        return None
    try:
        return TargetRecord.from_json(data)
    except ValueError:
        return None


_XATTRS = hasattr(os, "setxattr")
"""Whether this system has extended attributes (Linux), where a record is kept with its output (``RECORD_XATTR``)."""

_REFUSED = frozenset(
    getattr(errno, name) for name in ("ENOTSUP", "EOPNOTSUPP", "E2BIG", "ENOSPC", "EDQUOT", "ERANGE", "EPERM", "EACCES")
    if hasattr(errno, name)
)
"""How a file system refuses a record as an extended attribute (none of ``user.`` ones, a record larger than the
space it gives them, a quota): the record is then the file beside the output."""


def _attribute(at: At, path: str) -> bytes | None:
    """The record attribute of the file ``at`` names, None if it has none or was reached through a link (a link's
    record is the record file beside it); ``FileNotFoundError`` if there is no file."""
    if at.path != path:
        return None
    fd = at.open(_READ)
    try:
        return os.getxattr(fd, RECORD_XATTR)
    except OSError:
        return None
    finally:
        os.close(fd)


def _replace_attribute(at: At, path: str, data: bytes) -> bool:
    """Replace the record attribute of the file ``at`` names with ``data``, on a descriptor of it; False (nothing
    set) if it has none or was reached through a link (its record is the record file). ``StorageError`` if the file
    has other names: a hard link planted there would make the attribute another output's."""
    if at.path != path:
        return False
    fd = at.open(_READ)
    try:
        try:
            os.getxattr(fd, RECORD_XATTR)
        except OSError:
            return False
        if os.fstat(fd).st_nlink != 1:
            raise StorageError(f"the output {path!r} has other names (hard links), which its record would be changed "
                               "for as well; remove the other names, or rewrite the output")
        os.setxattr(fd, RECORD_XATTR, data)
    finally:
        os.close(fd)
    return True


_IN_PLACE = os.O_RDWR | _beneath.NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_CHECK_LENGTH = len(RECORD_CHECK)


def _rewrite_record(path: str, data: bytes, dir_fd: int | None = None) -> bool:
    """Rewrite the record file at ``path`` in place with ``data`` (which ends with its check line): only a regular
    file of one name (a hard link planted there would be written through) whose own end is a check line (a file an
    earlier version wrote whole has none: a reader meeting it mixed with ``data`` could take it for a record);
    False, nothing written, for anything else (nothing there, a link, another file)."""
    if _PREAD is None or not _beneath.NOFOLLOW:  # Windows: no pread, no O_NOFOLLOW
        return False
    try:
        fd = os.open(path, _IN_PLACE) if dir_fd is None else os.open(path, _IN_PLACE, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size < _CHECK_SIZE:
            return False
        if os.pread(fd, _CHECK_LENGTH, info.st_size - _CHECK_SIZE) != RECORD_CHECK:
            return False
        size = len(data)
        written = os.pwrite(fd, data, 0)
        while written < size:  # a short write (a signal): the rest where it stopped
            written += os.pwrite(fd, memoryview(data)[written:], written)
        if info.st_size > size:
            os.ftruncate(fd, size)
    finally:
        os.close(fd)
    return True


def _kept_mode(info: os.stat_result | None, path: str) -> int | None:
    """The permission bits an overwrite of what ``info`` says is at ``path`` keeps (None: the umask's, for a new
    file); ``LocationError`` for a directory there."""
    if info is None:
        return None
    if stat.S_ISDIR(info.st_mode):
        raise LocationError(f"location {path!r} is a directory; a result location must name a file")
    return info.st_mode & RESULT_BITS if stat.S_ISREG(info.st_mode) else None


def _not_a_file(path: str, mode: int) -> LocationError:
    what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
    return LocationError(f"location {path!r} is {what}; a result location must name a file: move it away, or give "
                         "the task another target")


class LocalResult(Result):
    """Stores each value as one file (cloudpickle bytes by default) under ``dir``.

    A relative location is taken relative to ``dir`` and may not leave it, also through a symlink: a parameter such
    as ``"../../etc"`` is refused. A value rendered into a template can never make the location absolute; a template
    whose own text is absolute (``"/data/{name}.pkl"``) is used as given, and values rendered into it may not climb
    out of its directory. ``write`` returns the file's absolute path as the new Result's ``location``. Files below
    ``dir`` are reached from ``dir`` down without following a link out of it (``_beneath``), so a directory swapped
    for a link meanwhile cannot send a write or a read outside. Only regular files are read: a FIFO at the location
    is refused, never waited on. Files are written atomically, so readers never see a partial value, and an
    overwrite keeps the file's read and write permission bits (``RESULT_BITS``). ``validate_dir=True`` creates
    ``dir`` now and fails at once if it cannot be used, instead of at the first write (what the legacy
    ``LocalResultHandler(validate=True)`` did).

    ``durable=False`` skips the fsync of each write: about half the cost of a small checkpoint. A written file then
    survives a crash of the process (the write is still atomic), but not a power cut or an operating system crash,
    after which it may be empty or partial: for scratch space whose results can be recomputed.
    Values are pickled straight into the file (a plain value of up to 64 KiB in memory first, then written with one
    call). A file of up to 256 KiB is read whole and unpickled from memory; a larger one is unpickled straight from
    the file (no whole copy of the stored bytes in memory), unless it is a signed pickle, which is verified in memory
    before it is unpickled.
    """

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,
        validate_dir: bool = False,
        durable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dir = dir if dir is not None else default_results_dir()  # type: ignore[assignment]
        self.durable = durable
        if validate_dir:
            self._validate_dir()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        others = [klass for klass in cls.__mro__ if klass not in (LocalResult, Result)]  # a mixin's count too
        cls._opens_own_files = not any(name in klass.__dict__ for klass in others for name in _OWN_METHODS)
        cls._reads_own_records = cls._opens_own_files and not any(
            name in klass.__dict__ for klass in others for name in _RECORD_METHODS
        )

    _opens_own_files = True
    """Whether this class renders, resolves, reads and writes as LocalResult does, so links may be checked as its
    files are opened (a subclass overriding one of ``_OWN_METHODS`` is called through them instead)."""
    _reads_own_records = True
    """Whether this class also reads records and checks a signed value against them as LocalResult does, so a small
    signed read may read the record file itself (a subclass overriding one of ``_RECORD_METHODS`` is called)."""

    @property
    def dir(self) -> str:
        """The directory, absolute; assigning a path normalises and checks it as ``dir=`` does (legacy code sets
        ``flow.result_handler.dir``)."""
        return self._dir  # type: ignore[no-any-return]

    @dir.setter
    def dir(self, dir: str | os.PathLike[str]) -> None:
        self._dir = _directory(dir)

    def _validate_dir(self) -> None:
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise LocationError(f"the result directory {self.dir!r} exists and is not a directory")
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the result directory {self.dir!r}: {exc}") from exc
        if not os.access(self.dir, os.W_OK | os.X_OK):
            raise StorageError(f"the result directory {self.dir!r} is not writable by this process")

    def render(self, location: Location, context: Mapping[str, Any]) -> str | None:
        rendered = self._render_text(location, context)
        if rendered is not None:
            self.resolve(rendered)  # a NUL byte, an over-long name or an escape is refused now, before anything runs
        return rendered

    def _render_to_write(self, context: Mapping[str, Any]) -> str | None:
        if not self._opens_own_files:
            return super()._render_to_write(context)
        template = self.template
        if isinstance(template, str) and "{" not in template and "}" not in template:
            return template  # nothing to render, and no value chose any part of it
        return self._render_text(template, context)  # write_stream checks the rest as it writes

    def _render_text(self, location: Location, context: Mapping[str, Any]) -> str | None:
        """``location`` rendered, refused if a value chose an absolute path or climbed out of an absolute
        template's directory."""
        rendered = super().render(location, context)
        if rendered is None:
            return None
        if isinstance(location, str) and os.path.isabs(rendered):
            literal = next(iter(string.Formatter().parse(location)), ("",))[0] or ""
            if not os.path.isabs(literal):
                raise LocationError(
                    f"location template {location!r} rendered to the absolute path {rendered!r}: a value substituted "
                    f"into it may not choose where the file goes; relative locations stay inside {self.dir!r} (give "
                    "an absolute template's directory as literal text, or set dir=)"
                )
            if literal != location:  # values were substituted into an absolute template: they stay below its text
                base = os.path.dirname(literal)
                path = os.path.normpath(rendered)
                if not inside(path, base):
                    raise LocationError(
                        f"location template {location!r} rendered to {rendered!r}, which climbs out of {base!r}; "
                        "check the values rendered into the template"
                    )
        return rendered

    def resolve(self, location: str) -> str:
        path, where = _path(self._dir, location)
        if where != _GIVEN:
            real = links_leaving(path, self._dir)  # a check by path, for an early error: files are opened confined
            if real is not None:
                raise LocationError(
                    f"location {location!r} leads through a symbolic link to {real!r}, outside the result directory "
                    f"{self._dir!r}; remove the link, or give the real path as an absolute location"
                )
        return path

    def _place(self, location: str) -> tuple[str, int]:
        """``resolve``'s path but checked as text only, and where it is (``_GIVEN``...): the links below ``dir`` are
        checked as the file is reached (``_at``), so a link planted after any check is still refused."""
        if not self._opens_own_files:  # a subclass resolves its own way: it has checked what it returns
            return self.resolve(location), _GIVEN
        return _path(self._dir, location)

    def _at(self, path: str, where: int, location: str, act: Callable[[At], T], create: bool = False) -> T:
        """``act`` on the file at ``path``: below ``dir``, reached from ``dir`` down through directory descriptors
        and never through a link leading outside ``dir`` (``_beneath``); a location used as given, as it is. A file
        directly in ``dir`` is first tried by its path with ``O_NOFOLLOW`` (no more calls than a plain ``open``)."""
        if where == _GIVEN:
            return act(At(None, path, path, False))
        if where == _IN_DIR and _beneath.AT_SUPPORTED:
            try:
                return act(At(None, path, path, True))
            except Link:  # the name is a link: followed below, only as far as it stays inside dir
                pass
        start = len(self._dir) if self._dir.endswith(os.sep) else len(self._dir) + 1
        return _beneath.at(self._dir, path[start:], act, location, create)

    def write(self: L, value: Any, /, **context: Any) -> L:
        """As ``Result.write``. A location without template keys (or none: ``new_location``) written by the default
        ``PickleSerializer`` while nothing is signed (a checkpoint's usual case) takes the few calls the work needs, as
        ``_read_pickle`` does for reads: the path memo, the atomic write, the record when ``provenance`` is set. A small
        plain value (``_PLAIN``, up to ``_SMALL_PLAIN``) is pickled in memory and written with one call: followed by its
        record (the bytes hashed whole, ``compat.results.trailer``), or signed without one (as ``PickleSerializer.dump``
        signs it: for its location relative to ``dir``, now)."""
        serializer = self.serializer
        template = self.__dict__.get("_location")
        fresh = template is None  # a new location: nothing was written there, so no record form to look up
        if fresh and not context and type(serializer) is PickleSerializer and self._opens_own_files:
            template = self.new_location()  # where write_stream would put it (a task without a target's checkpoint)
        if (
            context
            or type(serializer) is not PickleSerializer
            or not self._opens_own_files
            or type(template) is not str
            or "{" in template
            or "}" in template
        ):
            return super().write(value, **context)
        keys = serializer.keyring
        provenance = self.provenance if self.keeps_records else None
        plain = type(value) in _PLAIN
        small = plain and (type(value) not in _SIZED or len(value) <= _SMALL_PLAIN)
        if keys is not None and (provenance is not None or not small):
            return super().write(value, **context)  # signed as a stream, or with a record: Result.write's path
        known = _PATHS.get((self._dir, template))  # _path's memo, without its call
        path, where = known if known is not None else _path(self._dir, template)
        new = self.copy()
        new.__dict__.pop("_signed", None)  # what a read said of the value this Result held, not of the one written
        fill: Callable[[BinaryIO], object] | bytes
        if small:  # plain: what PickleSerializer.dump does for them, without its calls
            fill = pickle.dumps(value, serializer.protocol)  # one write, no file object
            if keys is not None:  # signed for where it goes, as PickleSerializer.dump signs a small plain value
                signed_for = path[path.rindex(os.sep) + 1 :] if where == _IN_DIR else self._relative(path, where)
                fill = (_SIGNING[0] if _SIGNING else signing_module()).sign(keys, signed_for, fill)
        elif plain:  # unsigned, as PickleSerializer.dump pickles them, without its calls
            protocol = serializer.protocol
            fill = lambda stream: pickle.dump(value, stream, protocol)
        else:
            dump = serializer.dump
            fill = lambda stream: dump(value, stream)
        if provenance is None:
            self._replace(path, where, template, fill, self.durable)
        else:
            # _write_with_record's choice for a PickleSerializer, and written_record's setter, without their calls
            new.__dict__["_written_record"] = self._write_with_trailer(
                path, where, template, fill, provenance, True, fresh
            )
        new.__dict__["_location"] = path  # the location setter's work, without its call
        new.value = value
        return new

    def write_recorded(
        self, location: str | None, dump: Callable[[BinaryIO], object], provenance: Provenance
    ) -> tuple[str, TargetRecord]:
        """As ``Result.write_recorded``; the record goes with the file itself (a pickle's after it, in the same write:
        ``compat.results.trailer``; another serializer's as its attribute, ``RECORD_XATTR``), unless this Result signs
        or a subclass writes its own way (then the record file beside it). The record may be returned as what makes
        it, made when first read (``write`` keeps it as ``written_record``)."""
        if not self._opens_own_files or _keyring(self.serializer) is not None:
            return super().write_recorded(location, dump, provenance)
        fresh = location is None
        if location is None:
            location = self.new_location()
        path, where = self._place(location)
        record = self._write_with_record(path, where, location, dump, provenance, True, fresh)
        return path, record  # type: ignore[return-value]

    def _write_with_record(
        self, path: str, where: int, location: str, dump: Callable[[BinaryIO], object] | bytes,
        provenance: Provenance, later: bool = False, fresh: bool = False,
    ) -> TargetRecord | tuple[Any, ...]:
        """Write what ``dump`` writes at ``path`` with its record. A pickle of the default ``PickleSerializer``
        carries its record after it, in the same atomic write (``_write_with_trailer``); any other serializer's bytes
        have it as the file's extended attribute or in the record file (``_write_with_seal``).
        ``dump`` may be the bytes themselves (a small value pickled in memory): hashed whole, written in one call.
        ``later``: the record may be returned as what makes it when first read (``Result.written_record``).
        ``fresh``: ``path`` is a new location (``new_location``), so ``provenance`` never wrote there."""
        if type(self.serializer) is PickleSerializer:
            return self._write_with_trailer(path, where, location, dump, provenance, later, fresh)
        return self._write_with_seal(path, where, location, dump, provenance, later)

    def _write_with_trailer(
        self, path: str, where: int, location: str, dump: Callable[[BinaryIO], object] | bytes,
        provenance: Provenance, later: bool, fresh: bool = False,
    ) -> TargetRecord | tuple[Any, ...]:
        """``_write_with_record`` of a pickle: the record (of the pickle's bytes, hashed as they are written) follows
        them in the file (``compat.results.trailer``), written with them and renamed into place with them: no
        identity to look up, no attribute, no second file. Bytes pickled in memory are hashed whole and written with
        their record in one call."""
        record: Any
        if type(dump) is bytes:
            size = len(dump)
            json, record = self._trailer_json(path, provenance, bytes_hash(dump), size, fresh)
            self._replace(path, where, location, dump + trailer(json, size), self.durable)
        else:
            made: list[Any] = []

            def fill(stream: BinaryIO) -> None:
                hashing = HashingWriter(stream)
                dump(hashing)  # type: ignore[operator]
                json, made_by = self._trailer_json(path, provenance, hashing.digest(), hashing.size, fresh)
                made[:] = [made_by]
                stream.write(trailer(json, hashing.size))

            self._replace(path, where, location, fill, self.durable)
            record = made[0]
        if type(record) is tuple and not later:
            return record[0](*record[1:])  # type: ignore[no-any-return]
        return record  # type: ignore[no-any-return]

    def _trailer_json(
        self, path: str, provenance: Provenance, digest: str, size: int, fresh: bool
    ) -> tuple[bytes, TargetRecord | tuple[Any, ...]]:
        """The JSON of the record a pickle of ``size`` bytes hashed ``digest`` carries at ``path``, and the record
        (or what makes it, when first read). A provenance writing here for the first time (always, at a ``fresh``
        location) has its JSON made whole (``written_json``); from its second write on, filled into its form
        (``RecordForm``). A subclass that builds its records its own way (``new_record``) has them built whole."""
        written_at = utc_now()
        if type(self).new_record is Result.new_record:  # _record_form's question, asked once here
            version = _package_version()
            form = None if fresh else RecordForm.on_repeat(provenance, path, "PickleSerializer", version)
            if form is not None:
                return (form.json(digest, size, TRAILER_STORED_JSON, written_at),
                        (_in_trailer, form, digest, size, written_at))
            try:
                data = written_json(provenance, path, "PickleSerializer", version, digest, size, TRAILER_STORED_JSON,
                                    written_at)
            except TypeError:  # a field of a type the one formatting does not cover: built whole below
                pass
            else:
                return data, (_trailer_record_of, digest, size, path, provenance, written_at, version)
        record = self.new_record(path, provenance, digest, size, dict(TRAILER_STORED))
        return record.to_json(), record

    def _write_with_seal(
        self, path: str, where: int, location: str, dump: Callable[[BinaryIO], object] | bytes,
        provenance: Provenance, later: bool,
    ) -> TargetRecord | tuple[Any, ...]:
        """``_write_with_record`` of another serializer's bytes: the record is built on the descriptor of the file
        just renamed into place (``atomic_write``'s ``seal``: its identity from ``fstat``, so a writer who replaced
        the file meanwhile never gets this record). A new output keeps its record as its own extended attribute; an
        output that replaced another keeps it in the record file, rewritten in place (``_write_record_file``): an
        attribute is another block freed with each replaced file (24-33 us more per rename over it here, where freed
        blocks are discarded), a record file rewritten in place frees nothing. Either is written after the output,
        not fsynced: a writer killed, or a power cut, between the two leaves no record, or the previous one, which
        names another file, never a wrong one. Where the attribute is refused the record file is used."""
        sealed: list[Any] = []
        fill: Callable[[BinaryIO], object] | bytes
        if type(dump) is bytes:
            sealed[:] = [(bytes_hash(dump), len(dump))]
            fill = dump
        else:
            def fill(stream: BinaryIO) -> None:
                sealed[:] = [HashingWriter(stream)]
                dump(sealed[0])  # type: ignore[operator]

        form = self._record_form(path, provenance)

        def seal(fd: int, new: bool) -> None:
            written, info = sealed[0], os.fstat(fd)
            digest, size = written if type(written) is tuple else (written.digest(), written.size)
            if form is None:
                record = self.new_record(path, provenance, digest, size, file_identity(info))
                data = record.to_json()
            else:  # what new_record and to_json give, filled into what this provenance's records say alike
                written_at = utc_now()
                data = form.json(digest, size, _identity_json(info), written_at)
                record = (_filled, form, digest, size, info, written_at)  # made when asked for (written_record)
            if new and _XATTRS:
                try:
                    os.setxattr(fd, RECORD_XATTR, data)
                    data = None  # type: ignore[assignment]
                except OSError:  # refused (_REFUSED), or failing: the output is in place, so the record file
                    pass
            sealed[1:] = [record, data]

        self._replace(path, where, location, fill, self.durable, seal)
        record, data = sealed[1], sealed[2]
        if data is not None:
            self._write_record_file(path + RECORD_SUFFIX if form is None else form.record_location, data)
        if type(record) is tuple and not later:
            return record[0](*record[1:])  # type: ignore[no-any-return]
        return record  # type: ignore[no-any-return]

    def _record_form(self, path: str, provenance: Provenance) -> RecordForm | None:
        """The form of the records ``provenance`` writes at ``path`` (``RecordForm``: made on its second write there,
        filled per write), or None: its first write there, or a subclass that builds its records its own way
        (``new_record``). Only for a Result that does not sign: a signed record is signed whole (``_write_with_record``
        is for those that do not)."""
        if type(self).new_record is not Result.new_record:
            return None
        return RecordForm.on_repeat(provenance, path, type(self.serializer).__name__, _package_version())

    def write_bytes(self, location: str | None, data: bytes) -> str:
        return self.write_stream(location, lambda f: f.write(data))

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        if location is None:
            location = self.new_location()
        path, where = self._place(location)
        self._replace(path, where, location, dump, self.durable)
        return path

    def _replace(
        self,
        path: str,
        where: int,
        location: str,
        fill: Callable[[BinaryIO], object] | bytes,
        durable: bool,
        seal: Callable[[int, bool], object] | None = None,
    ) -> None:
        """Write what ``fill`` writes (or the bytes ``fill``) atomically at ``path`` (see ``_at``), keeping the mode of
        the file replaced.
        ``seal``: ``atomic_write``'s, also told whether the file is a new one (nothing was at ``path``, and it was
        reached without a link: a link's record is the record file beside it, where a reader of the link looks)."""

        def write(at: At) -> None:
            info = at.lstat()  # what is there
            new = info is None and at.path == path
            atomic_write(at.path, fill, _kept_mode(info, path), durable, at.dir_fd,
                         None if seal is None else lambda fd: seal(fd, new))

        try:
            if where == _IN_DIR and _beneath.AT_SUPPORTED:  # the usual case, by path: _at's first try without its cost
                try:
                    info = os.lstat(path)
                except (FileNotFoundError, NotADirectoryError):
                    atomic_write(path, fill, None, durable, None, None if seal is None else lambda fd: seal(fd, True))
                    return
                mode = info.st_mode
                if not stat.S_ISLNK(mode):  # a regular file's bits kept here, without _kept_mode's call
                    atomic_write(path, fill, mode & RESULT_BITS if stat.S_ISREG(mode) else _kept_mode(info, path),
                                 durable, None, None if seal is None else lambda fd: seal(fd, False))
                    return
            self._at(path, where, location, write, create=True)
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot write the result file {path!r}: {exc}") from exc

    def _stat(self, path: str, where: int, location: str) -> os.stat_result | None:
        """What is at ``path`` (a link inside ``dir`` followed), or None if nothing is."""
        try:
            if where == _IN_DIR and _beneath.AT_SUPPORTED:  # the usual case, by path: _at's first try without its cost
                info = os.lstat(path)
                if not stat.S_ISLNK(info.st_mode):
                    return info
            return self._at(path, where, location, At.lstat)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot look up the result file {path!r}: {exc}") from exc

    def read(self: L, location: str) -> L:
        """As ``Result.read``; the links of a relative location are checked as its file is opened (see
        ``_place``), so a read costs no more calls than opening the file. A small file read by the default
        ``PickleSerializer`` is checked and unpickled from its bytes in memory (``PickleSerializer.unpickle``); while
        nothing is signed, the whole read takes the few calls of ``_read_pickle``."""
        serializer = self.serializer
        if type(serializer) is PickleSerializer and self._opens_own_files:
            # keys given (a signing Result's usual case): told without the keyring property's call
            return self._read_pickle(location, serializer, serializer._keyring is None and serializer.keyring is None)
        if not (self._opens_own_files and _streams(LocalResult, type(serializer), *_READ_METHODS)):
            return super().read(location)
        path, where = self._place(location)
        bound = self._bound_for_reading(serializer, path)
        try:
            value = self._load(path, where, location, bound.load)  # type: ignore[attr-defined]
        except SerializationError as exc:
            raise _unreadable(path, exc) from exc.__cause__
        return self._holding(path, value, bound)

    def _read_pickle(self: L, location: str, serializer: PickleSerializer, unsigned: bool) -> L:
        """``read`` with the default ``PickleSerializer``, in as few calls as the work takes: what ``_load`` and
        ``PickleSerializer.unpickle``/``load`` do, the same checks and errors. An unsigned pickle read while nothing
        is signed (``unsigned``) is unpickled here (a small file from its bytes, a larger one from the file); a
        signed or earlier-format value, or any value while signing, is checked by ``_unpickled`` (small) or
        ``_streamed`` (large); not a regular file, a link or no file go the general way. A larger file read while
        nothing is signed goes to ``pickle.load`` at once: a pickle of protocol 4 or later (its first two bytes)
        through ``_FileAt``, with no file object; any other through a buffered file, where a signed one
        (``SIGNED_MAGIC``, whose first byte no pickle starts with) fails before anything is unpickled, and only then
        is its first byte looked at."""
        known = _PATHS.get((self._dir, location)) if type(location) is str else None
        path, where = known if known is not None else _path(self._dir, location)
        if where == _IN_DIR and _beneath.AT_SUPPORTED:  # _open's first try, without its call
            try:
                fd = os.open(path, _READ | _beneath.NOFOLLOW)
            except OSError:  # missing, a link, or worse: _open says which, or follows the link inside dir
                fd = self._open(path, where, location)
        else:
            fd = self._open(path, where, location)
        data = None
        try:
            try:
                size = os.lseek(fd, 0, os.SEEK_END)
            except OSError:  # ESPIPE: not a regular file
                size = -1
            if 0 <= size <= _SMALL:
                data = _PREAD(fd, size + 1, 0) if _PREAD is not None else _read_at_start(fd, size + 1)
                if len(data) != size:
                    data = None
            if data is None:
                mode = os.fstat(fd).st_mode
                if not stat.S_ISREG(mode):
                    raise _not_a_file(path, mode)
                framed = (
                    unsigned and _READV is not None and size <= _ONE_READ
                    and _PREAD(fd, 2, 0) in _FRAMED  # type: ignore[misc]
                )
                os.lseek(fd, 0, os.SEEK_SET)
                if framed:  # no file object: _FileAt
                    try:
                        value = pickle.load(_FileAt(fd))
                    except OSError:
                        raise
                    except Exception as exc:  # not signed (it starts as a pickle): unreadable
                        raise _unreadable(path, _undeserializable(serializer, exc)) from exc
                else:
                    # closefd=False; no isatty()
                    with open(fd, "rb", io.DEFAULT_BUFFER_SIZE, None, None, None, False) as f:
                        if not unsigned:  # signing: checked as ever
                            return self._streamed(path, serializer, f)
                        try:
                            value = pickle.load(f)  # a signed file fails at its first byte, which no pickle starts with
                        except OSError:
                            raise
                        except Exception as exc:
                            failure: Exception | None = exc
                        else:
                            failure = None
                        if failure is not None:
                            f.seek(0)
                            if f.peek(1)[:1] == _SIGNED_START:  # signed: checked (and refused, with no key) as ever
                                return self._streamed(path, serializer, f)
                            raise _unreadable(path, _undeserializable(serializer, failure)) from failure
            elif not unsigned or data[:1] == _SIGNED_START:  # checked while the file is open: its record is
                return self._unpickled(path, where, data, serializer, fd)  # compared with this very file
        except IsADirectoryError:
            raise _not_a_file(path, stat.S_IFDIR) from None
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc
        finally:
            os.close(fd)
        if data is not None:
            try:
                value = pickle.loads(data)
            except Exception as exc:
                raise _unreadable(path, _undeserializable(serializer, exc, len(data))) from exc
        new = self.copy()
        new.__dict__["_location"] = path  # the location setter's work, without its call
        new.value = value
        return new

    def _streamed(self: L, path: str, serializer: Serializer, stream: BinaryIO) -> L:
        """A copy holding the value ``serializer``, bound to ``path``, loads from ``stream`` (a large file's)."""
        bound = self._bound_for_reading(serializer, path)
        try:
            value = bound.load(stream)  # type: ignore[attr-defined]
        except SerializationError as exc:
            raise _unreadable(path, exc) from exc.__cause__
        return self._holding(path, value, bound)

    def _unpickled(self: L, path: str, where: int, data: bytes, serializer: PickleSerializer, fd: int) -> L:
        """A copy holding the value in ``data``, the bytes of the small file at ``path`` read through ``fd`` (still
        open), checked as ``read`` checks them through a bound serializer (the location a signature names, and the
        target's record). A value signed as this version signs (``SIGNED_MAGIC``) is verified here, and checked
        against its record at once (``_refuse_replayed``, before a byte is unpickled): what ``_unpickled_at`` and
        ``PickleSerializer.unpickle`` do, without their two calls and the ``on_header`` closure."""
        signed_for, on_header = None, None
        if data[:1] == _SIGNED_START:  # no pickle starts with it: signed (or not a pickle)
            if where == _IN_DIR:
                signed_for = path[path.rindex(os.sep) + 1 :]
                checked = self.keeps_records and os.access(path + RECORD_SUFFIX, os.F_OK)  # a record to check it with
            else:
                signed_for = self._relative(path, where)
                checked = self.keeps_records
            if data[:8] == SIGNED_MAGIC and (self._reads_own_records or not checked):
                keys = serializer._keyring
                if keys is None:  # the environment's; ConfigurationError if none is set, as unpickle says
                    keys = serializer._signing_keys_for_signed()
                try:
                    header, payload = (_SIGNING[0] if _SIGNING else signing_module()).verify(keys, data, signed_for)
                    if checked:
                        self._refuse_replayed(path, where, fd, header, data)
                except SerializationError as exc:
                    raise _unreadable(path, exc) from exc.__cause__
                try:
                    value = pickle.loads(payload)
                except Exception as exc:
                    raise _unreadable(path, _undeserializable(serializer, exc, len(data))) from exc
                new = self.copy()
                new.__dict__["_location"] = path  # the location setter's work, without its call
                new.value = value
                new._signed = header
                return new
            if checked:  # a subclass that reads records its own way (_RECORD_METHODS)
                on_header = self._replay_check(path)
        return self._unpickled_at(path, data, serializer, signed_for, on_header)

    def _refuse_replayed(self, path: str, where: int, fd: int, header: Any, content: bytes) -> None:
        """``refuse_replayed`` for the signed file at ``path``, its bytes (``content``) verified as read through
        ``fd``: the identity from ``fd`` (the very file read, not a look-up by path), and on the rare path that
        hashes the bytes, ``content`` hashed (not read again by path); the record file beside a file directly in
        ``dir`` read with one open (``record_bytes``' look-up, which a signing Result makes there), any other (below
        ``dir``, a link, not a small regular file) by ``record_bytes``. The usual record, the one written with the
        very file read (its ``stored`` identity: ``_record_tail``), is accepted here; any other is
        ``refuse_replayed``'s to judge."""
        data = self._record_file_in_dir(path) if where == _IN_DIR else None
        if data is None:
            data = self.record_bytes(path)
            if data is None:
                return
        info = os.fstat(fd)
        stored = _IDENTITY_JSON_BYTES % (info.st_ino, info.st_mtime_ns, info.st_size)  # _identity_json's, as bytes
        tail = _record_tail(data)
        if tail is None or tail[1] != stored:
            self.refuse_replayed(path, header, data, stored, content)

    @staticmethod
    def _record_file_in_dir(path: str) -> bytes | None:
        """The bytes of the record file beside ``path``, a file directly in ``dir``, with one open and (for a record
        of up to ``_RECORD_READ`` bytes) one read; None if it is not there, a link, or not a small regular file."""
        try:
            record = os.open(path + RECORD_SUFFIX, _READ | _beneath.NOFOLLOW) if _beneath.AT_SUPPORTED else -1
        except OSError:  # gone since, or a link
            record = -1
        data = None
        if record >= 0:
            try:  # a record of a few hundred bytes in one read: a short read of a regular file is all of it
                data = _PREAD(record, _RECORD_READ, 0) if _PREAD is not None else _read_at_start(record, _RECORD_READ)
                if len(data) == _RECORD_READ:  # larger, or not a regular file: its size first, as _load reads
                    size = os.lseek(record, 0, os.SEEK_END)
                    data = _read_at_start(record, size + 1) if 0 <= size <= _SMALL else None
                    if data is not None and len(data) != size:
                        data = None
            except OSError:  # a directory, a FIFO: looked up the general way
                data = None
            finally:
                os.close(record)
        return data

    def signed_location(self, location: str) -> str:
        """The path relative to ``dir`` (the absolute path for a file outside it), so moving ``dir`` keeps its
        signatures valid."""
        return self._relative(*_path(self._dir, location))

    def _relative(self, path: str, where: int) -> str:
        """``path`` relative to ``dir`` (``where`` it is, as ``_path`` says), or as it is if outside ``dir``."""
        if where == _GIVEN:
            return path
        return path[len(self._dir) if self._dir.endswith(os.sep) else len(self._dir) + 1 :]

    def new_location(self) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        return f"result-{stamp}-{uuid.uuid4().hex[:12]}.pkl"

    def read_bytes(self, location: str) -> bytes:
        return self.read_stream(location, _whole)

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        path, where = self._place(location)
        return self._load(path, where, location, load)

    def _load(
        self,
        path: str,
        where: int,
        location: str,
        load: Callable[[BinaryIO], T] | None,
        missing: Any = ResultNotFound,
    ) -> Any:
        """``load`` on the regular file at ``path``: a small file from its bytes in memory, a larger one straight
        from the file. A small file costs an ``lseek`` to its end (its size, cheaper than an ``fstat``) and one read
        of one byte more than that: getting exactly the size back means the whole file was read. Anything else (a
        larger file, one that grew or gave a short read, a FIFO that cannot seek) has its type checked on the open
        descriptor first, and only a regular file is read as a stream. ``load`` None: the bytes of a small file, or
        None for any other (nothing of it read).
        ``missing``: None to return None if there is no file (a probe), instead of raising ``ResultNotFound``."""
        fd = self._open(path, where, location, missing is not None)
        if fd < 0:
            return None
        data = None
        try:
            try:
                size = os.lseek(fd, 0, os.SEEK_END)
            except OSError:  # ESPIPE: a FIFO, a socket or a terminal, refused below
                size = -1
            if 0 <= size <= _SMALL:
                data = _read_at_start(fd, size + 1)
                if len(data) != size:
                    data = None
            if load is None:
                return data
            if data is None:
                mode = os.fstat(fd).st_mode
                if not stat.S_ISREG(mode):
                    raise _not_a_file(path, mode)
                os.lseek(fd, 0, os.SEEK_SET)
                with open(fd, "rb", buffering=io.DEFAULT_BUFFER_SIZE, closefd=False) as f:  # no isatty() call
                    return load(f)
        except IsADirectoryError:
            raise _not_a_file(path, stat.S_IFDIR) from None
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc
        finally:
            os.close(fd)
        return load(io.BytesIO(data))  # type: ignore[arg-type]

    def _open(self, path: str, where: int, location: str, required: bool = True) -> int:
        """A descriptor open for reading on the file at ``path`` (see ``_at``); ``O_NONBLOCK``: a FIFO there cannot
        block the open, and is refused once open. No file there: ``ResultNotFound``, or -1 if not ``required``."""
        try:
            if where == _IN_DIR and _beneath.AT_SUPPORTED:  # the usual case, by path: _at's first try without its cost
                try:
                    return os.open(path, _READ | _beneath.NOFOLLOW)
                except OSError as exc:
                    if exc.errno not in _beneath.LINK_ERRNOS:
                        raise
            return self._at(path, where, location, _open_for_reading)
        except FileNotFoundError as exc:
            if not required:
                return -1
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc

    def exists_at(self, location: str) -> bool:
        """Whether a file is stored at ``location``; a directory (or other non-file) there is a ``LocationError``, so
        a plan says what the run will fail on instead of "no target"."""
        path, where = self._place(location)
        info = self._stat(path, where, location)
        if info is None:
            return False
        if stat.S_ISREG(info.st_mode):
            return True
        raise _not_a_file(path, info.st_mode)

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        """The file's size, modification time (ns) and inode: an atomic rewrite changes the inode, an edit in place
        the time or the size."""
        path, where = self._place(location)
        info = self._stat(path, where, location)
        if info is None:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)")
        return file_identity(info)

    def record(self, location: str, *, resolved: bool = False) -> TargetRecord | None:
        """As ``Result.record``, for a Result that does not sign: the record file beside the output while it
        describes the output (``results-compat touch`` and ``invalidate`` write one for an output as it is), else the
        record the output's own file carries after its pickle (``compat.results.trailer``: it describes the bytes it
        is written with), else the output's extended attribute while it describes the output (``RECORD_XATTR``, an
        earlier version's). A Result that signs reads the record file alone (see ``RECORD_XATTR``)."""
        if not (self.keeps_records and self._opens_own_files and isinstance(location, str)) or (
            _keyring(self.serializer) is not None
        ):
            return super().record(location, resolved=resolved)
        try:
            if not resolved:
                location = self.resolve(location)
            return self._own_record(location)
        except (ResultNotFound, ValueError, LocationError):
            return None

    def _own_record(self, location: str) -> TargetRecord | None:
        """``record`` of the concrete ``location``; ``ResultNotFound`` if no output is there."""
        identity = None
        beside = _parsed(self._record_file(location))
        if beside is not None:
            identity = self.stored_identity(location)
            if beside.describes(identity):
                return beside
        path, where = self._place(location)
        own = self._trailer_record(path, where, location)
        if own is not None:
            return own
        attribute = _parsed(self._attribute_bytes(path, where, location) if _XATTRS else None)
        if attribute is None:
            return None
        return attribute if attribute.describes(identity or self.stored_identity(location)) else None

    def _trailer_record(self, path: str, where: int, location: str) -> TargetRecord | None:
        """The record the file at ``path`` carries after its pickle, or None; ``ResultNotFound`` if no file is there.
        One open, one ``lseek`` (its size; a FIFO cannot seek, and has none), one ``pread`` (two for a record
        larger than 4 KiB)."""
        fd = -1
        if where == _IN_DIR and _beneath.AT_SUPPORTED:  # _open's first try, without its call
            try:
                fd = os.open(path, _READ | _beneath.NOFOLLOW)
            except OSError:
                pass
        if fd < 0:
            fd = self._open(path, where, location)
        try:
            return record_of_file(fd)
        finally:
            os.close(fd)

    def _attribute_bytes(self, path: str, where: int, location: str) -> bytes | None:
        """The record kept as the extended attribute of the file at ``path`` (``RECORD_XATTR``), or None."""
        try:
            if where == _IN_DIR and _beneath.AT_SUPPORTED:  # the usual case: one call, no link followed
                return os.getxattr(path, RECORD_XATTR, follow_symlinks=False)
            return self._at(path, where, location, lambda at: _attribute(at, path))
        except (OSError, ResultError):  # none (ENODATA), none on this file system, a link, no file
            return None

    def record_bytes(self, location: str) -> bytes | None:
        """The bytes of the record kept beside the output, or None if there is none (or a file too large to be one:
        ``_SMALL``): the output's extended attribute (``RECORD_XATTR``), else the record file beside it. A Result that
        signs reads the record file only (see ``RECORD_XATTR``). The record a pickle carries in its own file is read
        by ``record`` (``compat.results.trailer``)."""
        if _XATTRS and self._opens_own_files and _keyring(self.serializer) is None:
            path, where = self._place(location)
            data = self._attribute_bytes(path, where, location)
            if data is not None:
                return data
        return self._record_file(location)

    def _record_file(self, location: str) -> bytes | None:
        """The bytes of the record file beside the output at ``location``, or None."""
        record = location + RECORD_SUFFIX
        path, where = self._place(record)
        if where == _IN_DIR and not os.access(path, os.F_OK):  # the usual "none": a bool, no exception raised
            return None
        try:
            return self._load(path, where, record, None, missing=None)  # type: ignore[no-any-return]
        except (ResultNotFound, LocationError):
            return None

    def write_record_bytes(self, location: str, data: bytes) -> None:
        """The record ``data`` of the output at ``location`` less ``RECORD_SUFFIX`` (``results-compat invalidate``,
        ``touch``) put where ``record_bytes`` finds it first: the output's extended attribute if it has one (set on a
        descriptor of the file), else the record file (``_write_record_file``)."""
        output = location[: -len(RECORD_SUFFIX)] if location.endswith(RECORD_SUFFIX) else None
        if output and _XATTRS and self._opens_own_files and _keyring(self.serializer) is None:
            path, where = self._place(output)
            try:
                if self._at(path, where, output, lambda at: _replace_attribute(at, path, data)):
                    return
            except (FileNotFoundError, NotADirectoryError):
                pass
            except ResultError:
                raise
            except OSError as exc:
                raise StorageError(f"cannot write the record of {path!r}: {exc}") from exc
        self._write_record_file(location, data)

    def _write_record_file(self, location: str, data: bytes) -> None:
        """The record file, ending with its check line (``with_check``): the file there rewritten in place when it
        is one this version wrote (a regular file of one name ending with a check line: ``_rewrite_record``), which
        creates, renames and frees nothing; else a new file (``write_anew``: whatever is there unlinked, a link never
        followed). A reader meeting it half rewritten, or mixed by two writers, sees a check that fails: no record.
        Not fsynced: the output it describes was (when ``durable``), and a record lost or cut short by a crash or a
        power cut is only a missing one, never a wrong one. A new file's mode is the umask's."""
        path, where = self._place(location)
        data = with_check(data)
        try:
            if where == _IN_DIR and _beneath.AT_SUPPORTED:  # the usual case, by path: _at's first try without its cost
                if not _rewrite_record(path, data):
                    write_anew(path, data)
            else:
                self._at(path, where, location, lambda at: _rewrite_record(at.name, data, at.dir_fd)
                         or write_anew(at.name, data, at.dir_fd), create=True)
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot write the record file {path!r}: {exc}") from exc

    def modified_at(self, location: str) -> datetime | None:
        path, where = self._place(location)
        info = self._stat(path, where, location)
        if info is None:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)")
        return datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)

    can_lease = True

    def take_lease(self, location: str, holder: Holder, ttl: float = 60.0) -> FileLease | Holder:
        """An ``flock`` on ``<location>.lease`` beside the output (``compat.results.leases``); it needs no ttl: the
        kernel drops it when its holder dies."""
        return self._on_lease_file(location, lambda at: take_file_lease(at, holder), create=True)

    def lease_holder(self, location: str) -> Holder | None:
        return self._on_lease_file(location, file_lease_holder, create=False)

    def remove_stale_lease(self, location: str) -> bool:
        """Remove the lease file of ``location`` if nobody holds it (``results-compat gc``); False if held or gone."""
        return bool(self._on_lease_file(location, remove_file_lease, create=False))

    def _on_lease_file(self, location: str, act: Callable[[At], T], create: bool) -> T:
        lease_location = location + LEASE_SUFFIX
        path, where = self._place(lease_location)
        try:
            return self._at(path, where, lease_location, act, create=create)
        except (FileNotFoundError, NotADirectoryError):
            if create:
                raise StorageError(f"cannot take the lease file {path!r}: its directory disappeared") from None
            return None  # type: ignore[return-value]
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot take the lease file {path!r}: {exc}") from exc

    def keep_aside(self, location: str) -> str | None:
        """Rename the file at ``location`` to ``<name>.unreadable-<UTC time>`` beside it (its mode kept), in the
        directory its read was confined to; of the copies kept so, the oldest beyond ``KEPT_ASIDE_COPIES`` are
        removed."""
        path, where = self._place(location)

        def move(at: At) -> str | None:
            info = at.lstat()
            if info is None or not stat.S_ISREG(info.st_mode):
                return None
            kept = at.sibling(_kept_aside_name(os.path.basename(at.path)))
            try:
                at.rename(kept)
            except FileNotFoundError:  # moved or removed meanwhile
                return None
            _remove_old_copies(at, os.path.basename(kept.path))
            return kept.path

        try:
            return self._at(path, where, location, move)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except ResultError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot move the unreadable file {path!r} aside: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalResult(dir={self.dir!r}, location={self.location!r})"
