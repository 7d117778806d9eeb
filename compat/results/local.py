"""``LocalResult``: results stored as files under a directory."""

from __future__ import annotations

import os
import stat
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, BinaryIO, TypeVar

from compat.errors import LocationError, ResultNotFound, StorageError
from compat.results._atomic import atomic_write, existing_mode
from compat.results.base import Location, Result

__all__ = ["LocalResult", "default_results_dir"]

T = TypeVar("T")


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
    current = directory
    for part in path[len(directory) :].split(os.sep):
        if not part:
            continue
        current = os.path.join(current, part)
        try:
            mode = os.lstat(current).st_mode
        except OSError:  # not there yet: nothing further down can be a link
            return None
        if stat.S_ISLNK(mode):
            real = os.path.realpath(path)
            return None if _inside(real, os.path.realpath(directory)) else real
    return None


def _inside(path: str, directory: str) -> bool:
    inside = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(inside)


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
    Values are pickled straight into the file and unpickled straight from it (no whole copy of the stored bytes in
    memory), unless the pickles are signed, which are verified in memory before they are unpickled.
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
        self.resolve(rendered)  # a NUL byte, an over-long name or an escape is refused now, before anything runs
        return rendered

    def resolve(self, location: str) -> str:
        if not isinstance(location, (str, os.PathLike)):
            raise LocationError(f"a LocalResult location must be a path, not {type(location).__name__}")
        location = os.fspath(location)
        if not isinstance(location, str):
            raise LocationError(f"a LocalResult location must be a str path, not {type(location).__name__}")
        if not location:
            raise LocationError("an empty location cannot name a file; give a file name such as '{task_name}.pkl'")
        _check_path_text(location, "location")
        if os.path.isabs(location):
            return os.path.normpath(location)
        path = os.path.normpath(os.path.join(self.dir, location))
        if not _inside(path, self.dir):
            raise LocationError(
                f"location {location!r} resolves to {path!r}, outside the result directory {self.dir!r}; "
                "check the values rendered into the template, or give an absolute location"
            )
        real = _through_links(path, self.dir)
        if real is not None:
            raise LocationError(
                f"location {location!r} leads through a symbolic link to {real!r}, outside the result directory "
                f"{self.dir!r}; remove the link, or give the real path as an absolute location"
            )
        return path

    def write_bytes(self, location: str | None, data: bytes) -> str:
        return self.write_stream(location, lambda f: f.write(data))

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        if location is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            location = f"result-{stamp}-{uuid.uuid4().hex[:12]}.pkl"
        path = self.resolve(location)
        try:
            mode = existing_mode(path)  # one stat: the mode an overwrite keeps, and whether it is a directory
        except IsADirectoryError:
            raise LocationError(f"location {path!r} is a directory; a result location must name a file") from None
        try:
            atomic_write(path, dump, mode, self.durable)
        except OSError as exc:
            raise StorageError(f"cannot write the result file {path!r}: {exc}") from exc
        return path

    def read_bytes(self, location: str) -> bytes:
        return self.read_stream(location, lambda f: f.read())

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        path = self.resolve(location)
        try:
            f = open(path, "rb")
        except FileNotFoundError as exc:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        except IsADirectoryError as exc:
            raise LocationError(f"location {path!r} is a directory; a result location must name a file") from exc
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc
        with f:
            try:
                return load(f)
            except OSError as exc:
                raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc

    def exists_at(self, location: str) -> bool:
        """Whether a file is stored at ``location``; a directory (or other non-file) there is a ``LocationError``, so
        a plan says what the run will fail on instead of "no target"."""
        path = self.resolve(location)
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StorageError(f"cannot look up the result file {path!r}: {exc}") from exc
        if stat.S_ISREG(mode):
            return True
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise LocationError(f"location {path!r} is {what}; a result location must name a file: move it away, or give "
                            "the task another target")

    def modified_at(self, location: str) -> datetime | None:
        path = self.resolve(location)
        try:
            stamp = os.stat(path).st_mtime
        except FileNotFoundError as exc:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        return datetime.fromtimestamp(stamp, tz=timezone.utc)

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
