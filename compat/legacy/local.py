"""``LocalResultHandler``: each value as a new cloudpickle file in a directory (the legacy file format)."""

from __future__ import annotations

import os
import pickle
import uuid
from typing import Any

from typing_extensions import deprecated

from compat.errors import LocationError
from compat.legacy.base import ResultHandler
from compat.results._atomic import atomic_write_bytes
from compat.results.local import default_results_dir
from compat.results.serializers import PickleSerializer

__all__ = ["LocalResultHandler"]


@deprecated(
    "LocalResultHandler is deprecated; use compat.LocalResult (results-codemod <path> rewrites it)",
    category=None,
)
class LocalResultHandler(ResultHandler):
    """Writes each value to a new, uniquely named file under ``dir`` and returns its absolute path.

    The file holds the raw cloudpickle bytes, the same format ``LocalResult`` uses, so files move freely between
    the two. With ``$RESULTS_COMPAT_SIGNING_KEY`` set they are signed, and a file is unpickled only once its signature
is checked, as ``PickleSerializer`` does. ``validate=True`` creates ``dir`` up front and refuses a path that is not
a directory.

    .. deprecated:: 0.1.0
        Use ``compat.LocalResult(dir=...)``.
    """

    def __init__(self, dir: str | os.PathLike[str] | None = None, validate: bool = True) -> None:
        raw = os.fspath(dir) if dir is not None else default_results_dir()
        self.dir = os.path.abspath(os.path.expanduser(raw))
        if validate:
            if os.path.exists(self.dir) and not os.path.isdir(self.dir):
                raise LocationError(f"LocalResultHandler dir {self.dir!r} exists and is not a directory")
            os.makedirs(self.dir, exist_ok=True)

    def write(self, result: Any) -> str:
        name = f"result-{uuid.uuid4().hex}"
        atomic_write_bytes(os.path.join(self.dir, name), PickleSerializer().at(name).serialize(result))
        return os.path.join(self.dir, name)

    def read(self, uri: str) -> Any:
        with open(uri, "rb") as f:
            data = f.read()
        # unsigned data raises what it always raised (pickle's errors); signing adds SerializationError. A signature
        # names the file relative to dir (its name, for what this handler wrote), so a signed file moved in from
        # another place is refused.
        where = os.path.relpath(os.path.abspath(uri), self.dir)
        return pickle.loads(PickleSerializer().at(where).verified(data))
