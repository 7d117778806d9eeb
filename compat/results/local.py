"""``LocalResult``: results stored as files under a directory."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from typing import Any

from compat.errors import LocationError, ResultNotFound, StorageError
from compat.results._atomic import atomic_write_bytes
from compat.results.base import Result

__all__ = ["LocalResult", "default_results_dir"]


def default_results_dir() -> str:
    """``$RESULTS_COMPAT_HOME/results``, else ``~/.results-compat/results``."""
    home = os.environ.get("RESULTS_COMPAT_HOME") or os.path.join(os.path.expanduser("~"), ".results-compat")
    return os.path.join(home, "results")


class LocalResult(Result):
    """Stores each value as one file (cloudpickle bytes by default) under ``dir``.

    A relative location is taken relative to ``dir`` and may not escape it (a parameter such as ``"../../etc"``
    is refused); an absolute location is used as given. ``write`` returns the file's absolute path as the new
    Result's ``location``. Files are written atomically, so readers never see a partial value.
    ``validate_dir=True`` creates ``dir`` now and fails at once if it cannot be used, instead of at the first write
    (what the legacy ``LocalResultHandler(validate=True)`` did).
    """

    def __init__(self, dir: str | os.PathLike[str] | None = None, validate_dir: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        raw = os.fspath(dir) if dir is not None else default_results_dir()
        self.dir = os.path.abspath(os.path.expanduser(raw))
        if validate_dir:
            self._validate_dir()

    def _validate_dir(self) -> None:
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise LocationError(f"the result directory {self.dir!r} exists and is not a directory")
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the result directory {self.dir!r}: {exc}") from exc
        if not os.access(self.dir, os.W_OK | os.X_OK):
            raise StorageError(f"the result directory {self.dir!r} is not writable by this process")

    def resolve(self, location: str) -> str:
        if not isinstance(location, (str, os.PathLike)):
            raise LocationError(f"a LocalResult location must be a path, not {type(location).__name__}")
        location = os.fspath(location)
        if not location:
            raise LocationError("an empty location cannot name a file; give a file name such as '{task_name}.pkl'")
        if os.path.isabs(location):
            return os.path.normpath(location)
        path = os.path.normpath(os.path.join(self.dir, location))
        inside = self.dir if self.dir.endswith(os.sep) else self.dir + os.sep
        if not path.startswith(inside):
            raise LocationError(
                f"location {location!r} resolves to {path!r}, outside the result directory {self.dir!r}; "
                "check the values rendered into the template, or give an absolute location"
            )
        return path

    def write_bytes(self, location: str | None, data: bytes) -> str:
        if location is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            location = f"result-{stamp}-{uuid.uuid4().hex[:12]}.pkl"
        path = self.resolve(location)
        if os.path.isdir(path):
            raise LocationError(f"location {path!r} is a directory; a result location must name a file")
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            raise StorageError(f"cannot write the result file {path!r}: {exc}") from exc
        return path

    def read_bytes(self, location: str) -> bytes:
        path = self.resolve(location)
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError as exc:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        except IsADirectoryError as exc:
            raise LocationError(f"location {path!r} is a directory; a result location must name a file") from exc
        except OSError as exc:
            raise StorageError(f"cannot read the result file {path!r}: {exc}") from exc

    def exists_at(self, location: str) -> bool:
        return os.path.isfile(self.resolve(location))

    def modified_at(self, location: str) -> datetime | None:
        path = self.resolve(location)
        try:
            stamp = os.stat(path).st_mtime
        except FileNotFoundError as exc:
            raise ResultNotFound(f"no result is stored at {path!r} (no such file)") from exc
        return datetime.fromtimestamp(stamp, tz=timezone.utc)

    def __repr__(self) -> str:
        return f"LocalResult(dir={self.dir!r}, location={self.location!r})"
