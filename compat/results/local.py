"""``LocalResult``: results stored as files under a directory."""

from __future__ import annotations

import errno
import io
import os
import stat
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, BinaryIO, TypeVar

from compat.errors import LocationError, ResultNotFound, SerializationError, StorageError
from compat.results._atomic import atomic_write
from compat.results.base import Location, Result, _streams, _unreadable

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


def _through_links(path: str, directory: str) -> str | None:
    """Where ``path`` (below ``directory``) really leads if a symbolic link under ``directory`` takes it outside,
    else None. Only the components below ``directory`` are looked at (one ``lstat`` each), and only a link among
    them costs a full ``realpath``."""
    end = len(directory) if directory.endswith(os.sep) else len(directory) + 1  # path is normalised, below it
    while end > 0:
        end = path.find(os.sep, end) + 1  # each component in turn: up to the next separator, or the whole path
        try:
            mode = os.lstat(path[: end - 1] if end else path).st_mode
        except OSError:  # not there yet: nothing further down can be a link
            return None
        if stat.S_ISLNK(mode):
            real = os.path.realpath(path)
            return None if _inside(real, os.path.realpath(directory)) else real
    return None


def _inside(path: str, directory: str) -> bool:
    inside = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(inside)


_GIVEN, _IN_DIR, _BELOW_DIR = 0, 1, 2
"""Where a location's path is: an absolute location used as given (no link is checked), directly in ``dir``, or in a
subdirectory of ``dir`` (the components between ``dir`` and the file are checked too)."""

_PATHS: dict[tuple[str, str], tuple[str, int]] = {}
_PATHS_KEPT = 1024  # (dir, location) pairs remembered, at most


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
        found = os.path.normpath(text), _GIVEN
    else:
        path = os.path.normpath(os.path.join(directory, text))
        if not _inside(path, directory):
            raise LocationError(
                f"location {text!r} resolves to {path!r}, outside the result directory {directory!r}; "
                "check the values rendered into the template, or give an absolute location"
            )
        found = path, _IN_DIR if os.path.dirname(path) == directory else _BELOW_DIR
    if type(location) is str:
        if len(_PATHS) >= _PATHS_KEPT:
            _PATHS.clear()
        _PATHS[directory, location] = found
    return found


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; Windows has none, and then links are looked for before opening
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_LINK_ERRNOS = (errno.ELOOP, errno.EMLINK)  # O_NOFOLLOW met a link: ELOOP on Linux and macOS, EMLINK on FreeBSD
_SMALL = 256 * 1024
"""Files up to this size are read whole with one read and unpickled from memory (cheaper than a buffered file for
small values); larger ones are unpickled straight from the file, so a large value is never held twice."""


_OWN_METHODS = ("render", "resolve", "read_stream", "read_bytes", "write_stream", "write_bytes")
"""LocalResult's methods that its own ``read``/``write`` may bypass; a subclass overriding one is called through it."""
_READ_METHODS = ("read_stream", "read_bytes", "load", "deserialize")  # Result.read's choice of the stream path


def _whole(stream: BinaryIO) -> bytes:
    return stream.read()


_PREAD = getattr(os, "pread", None)  # POSIX; Windows has none


def _read_at_start(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from the start of ``fd`` (one ``pread`` where there is one)."""
    if _PREAD is not None:
        return _PREAD(fd, size, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, size)


class LocalResult(Result):
    """Stores each value as one file (cloudpickle bytes by default) under ``dir``.

    A relative location is taken relative to ``dir`` and may not leave it, also through a symlink (real paths are
    compared): a parameter such as ``"../../etc"`` is refused. A value rendered into a template can never make the
    location absolute; a template whose own text is absolute (``"/data/{name}.pkl"``) is used as given, and values
    rendered into it may not climb out of its directory. ``write`` returns the file's absolute path as the new
    Result's ``location``. Files are written atomically, so readers never see a partial value, and an overwrite
    keeps the file's permission bits. ``validate_dir=True`` creates ``dir`` now and fails at once if it cannot be
    used, instead of at the first write (what the legacy ``LocalResultHandler(validate=True)`` did).

    ``durable=False`` skips the fsync of each write: about half the cost of a small checkpoint. A written file then
    survives a crash of the process (the write is still atomic), but not a power cut or an operating system crash,
    after which it may be empty or partial: for scratch space whose results can be recomputed.
    Values are pickled straight into the file. A file of up to 256 KiB is read whole and unpickled from memory; a
    larger one is unpickled straight from the file (no whole copy of the stored bytes in memory), unless it is a
    signed pickle, which is verified in memory before it is unpickled.
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

    _opens_own_files = True
    """Whether this class renders, resolves, reads and writes as LocalResult does, so links may be checked as its
    files are opened (a subclass overriding one of ``_OWN_METHODS`` is called through them instead)."""

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
                if not _inside(path, base):
                    raise LocationError(
                        f"location template {location!r} rendered to {rendered!r}, which climbs out of {base!r}; "
                        "check the values rendered into the template"
                    )
        return rendered

    def resolve(self, location: str) -> str:
        path, where = _path(self._dir, location)
        if where != _GIVEN:
            self._refuse_links(path, location)
        return path

    def _refuse_links(self, path: str, location: str) -> None:
        """``LocationError`` if a symbolic link among the components of ``path`` below ``dir`` leads outside it."""
        real = _through_links(path, self._dir)
        if real is not None:
            raise LocationError(
                f"location {location!r} leads through a symbolic link to {real!r}, outside the result directory "
                f"{self._dir!r}; remove the link, or give the real path as an absolute location"
            )

    def _located(self, location: str) -> tuple[str, bool]:
        """``resolve``'s work but for the file's own name: the path, and whether the caller must still check that a
        link there stays inside ``dir``. The callers do so as they open or look at the file (``O_NOFOLLOW``, an
        ``lstat`` they need anyway), so a file directly in ``dir`` costs no extra call, and a link planted there
        after the location was rendered is still refused."""
        if not self._opens_own_files:  # a subclass resolves its own way: it has checked what it returns
            return self.resolve(location), False
        path, where = _path(self._dir, location)
        if where == _BELOW_DIR:
            self._refuse_links(os.path.dirname(path), location)
        return path, where != _GIVEN

    def write_bytes(self, location: str | None, data: bytes) -> str:
        return self.write_stream(location, lambda f: f.write(data))

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        if location is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            location = f"result-{stamp}-{uuid.uuid4().hex[:12]}.pkl"
        path, confined = self._located(location)
        info = self._stat(path, confined, location)  # one call: the mode an overwrite keeps, and what is there
        if info is None:
            mode = None
        elif stat.S_ISDIR(info.st_mode):
            raise LocationError(f"location {path!r} is a directory; a result location must name a file")
        else:
            mode = stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None
        try:
            atomic_write(path, dump, mode, self.durable)
        except OSError as exc:
            raise StorageError(f"cannot write the result file {path!r}: {exc}") from exc
        return path

    def _stat(self, path: str, confined: bool, location: str) -> os.stat_result | None:
        """What is at ``path`` (links followed), or None if nothing is; ``LocationError`` if ``confined`` and the
        file's name is a link leading outside ``dir``."""
        try:
            info = os.lstat(path) if confined else os.stat(path)
            if confined and stat.S_ISLNK(info.st_mode):
                self._refuse_links(path, location)
                info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(f"cannot look up the result file {path!r}: {exc}") from exc
        return info

    def read(self: L, location: str) -> L:
        """As ``Result.read``; the links of a relative location are checked as its file is opened (see
        ``_located``), so a read costs no more calls than opening the file."""
        serializer = self.serializer
        if not (self._opens_own_files and _streams(LocalResult, type(serializer), *_READ_METHODS)):
            return super().read(location)
        path, confined = self._located(location)
        try:
            value = self._load(path, confined, location, serializer.load)  # type: ignore[attr-defined]
        except SerializationError as exc:
            raise _unreadable(path, exc) from exc.__cause__
        return self._holding(path, value)

    def read_bytes(self, location: str) -> bytes:
        return self.read_stream(location, _whole)

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        path, confined = self._located(location)
        return self._load(path, confined, location, load)

    def _load(self, path: str, confined: bool, location: str, load: Callable[[BinaryIO], T]) -> T:
        """``load`` on the file at ``path``: a small file from its bytes in memory, a larger one (or a pipe, a
        device) straight from the file. A small file costs an ``lseek`` to its end (which says its size, cheaper
        than an ``fstat``) and one read of one byte more than that: getting exactly the size back means the whole
        file was read. Anything else (a file that grew or gave a short read, a device) is read as a stream."""
        fd = self._open(path, confined, location)
        data = None
        try:
            try:
                size: int | None = os.lseek(fd, 0, os.SEEK_END)
            except OSError:  # not seekable (a pipe), or a directory on some file systems
                size = None
            if size is not None and size <= _SMALL:
                data = _read_at_start(fd, size + 1)
                if len(data) != size:
                    data = None
            if data is None:
                if size is not None:
                    os.lseek(fd, 0, os.SEEK_SET)
                with open(fd, "rb", buffering=io.DEFAULT_BUFFER_SIZE, closefd=False) as f:  # no isatty() call
                    return load(f)
        except IsADirectoryError:
            raise LocationError(f"location {path!r} is a directory; a result location must name a file") from None
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc
        finally:
            os.close(fd)
        return load(io.BytesIO(data))  # type: ignore[arg-type]

    def _open(self, path: str, confined: bool, location: str) -> int:
        """A descriptor open for reading on the file at ``path``; when ``confined``, a link as the file's name is
        followed only if it stays inside ``dir``."""
        if confined and not _NOFOLLOW:  # no O_NOFOLLOW (Windows): look for a link first
            self._refuse_links(path, location)
        try:
            try:
                return os.open(path, (_READ | _NOFOLLOW) if confined else _READ)
            except OSError as exc:
                if not (confined and exc.errno in _LINK_ERRNOS):
                    raise
            self._refuse_links(path, location)  # the file's name is a link: it may lead to a file inside dir
            return os.open(os.path.realpath(path), _READ | _NOFOLLOW)
        except FileNotFoundError as exc:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        except IsADirectoryError as exc:
            raise LocationError(f"location {path!r} is a directory; a result location must name a file") from exc
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc

    def exists_at(self, location: str) -> bool:
        """Whether a file is stored at ``location``; a directory (or other non-file) there is a ``LocationError``, so
        a plan says what the run will fail on instead of "no target"."""
        path, confined = self._located(location)
        info = self._stat(path, confined, location)
        if info is None:
            return False
        if stat.S_ISREG(info.st_mode):
            return True
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise LocationError(f"location {path!r} is {what}; a result location must name a file: move it away, or give "
                            "the task another target")

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        """The file's size, modification time (ns) and inode: an atomic rewrite changes the inode, an edit in place
        the time or the size."""
        path, confined = self._located(location)
        info = self._stat(path, confined, location)
        if info is None:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)")
        return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}

    def write_record_bytes(self, location: str, data: bytes) -> None:
        """A record is written atomically but not fsynced: the output it describes was (when ``durable``), and a
        record lost to a power cut is only a missing one (``no-record``), never a wrong one."""
        path, _ = self._located(location)
        try:
            atomic_write(path, lambda f: f.write(data), durable=False)
        except OSError as exc:
            raise StorageError(f"cannot write the record file {path!r}: {exc}") from exc

    def modified_at(self, location: str) -> datetime | None:
        path, confined = self._located(location)
        info = self._stat(path, confined, location)
        if info is None:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)")
        return datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)

    def keep_aside(self, location: str) -> str | None:
        """Rename the file at ``location`` to ``<name>.unreadable-<UTC time>`` beside it (its mode kept)."""
        path = self.resolve(location)
        if not os.path.isfile(path):
            return None
        suffix = f".unreadable-{datetime.now(timezone.utc):%Y%m%dT%H%M%S.%fZ}"
        name = os.fsencode(os.path.basename(path))[: _NAME_MAX - len(suffix)]
        kept = os.path.join(os.path.dirname(path), os.fsdecode(name) + suffix)
        try:
            os.rename(path, kept)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot move the unreadable file {path!r} aside to {kept!r}: {exc}") from exc
        return kept

    def __repr__(self) -> str:
        return f"LocalResult(dir={self.dir!r}, location={self.location!r})"
