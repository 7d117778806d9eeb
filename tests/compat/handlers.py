"""Users' own ResultHandler subclasses, written the legacy way, that the tests run through the adapters."""

from __future__ import annotations

import os
import uuid
import warnings
from typing import Any

from compat import LegacyResultWarning, PickleSerializer

with warnings.catch_warnings():  # defining them is a legacy use; the tests that check that define their own
    warnings.simplefilter("ignore", LegacyResultWarning)
    from compat.legacy import ResultHandler

    class DirectoryHandler(ResultHandler):
        """Stores each value as a new file under ``dir`` (``name``: always this file name instead)."""

        def __init__(self, dir: str | os.PathLike[str], name: str | None = None) -> None:
            self.dir = os.fspath(dir)
            self.name = name
            self.serializer = PickleSerializer()  # names the value's type when it cannot be pickled

        def write(self, result: Any) -> str:
            path = os.path.join(self.dir, self.name or uuid.uuid4().hex)
            with open(path, "wb") as f:
                f.write(self.serializer.serialize(result))
            return path

        def read(self, uri: str) -> Any:
            with open(uri, "rb") as f:
                return self.serializer.deserialize(f.read())

    class DictHandler(ResultHandler):
        """Stores values in a dict it is given, under ``key`` or a new key per write; counts its calls."""

        def __init__(self, store: dict[str, Any], key: str | None = None) -> None:
            self.store = store
            self.key = key
            self.reads = 0
            self.writes = 0

        def write(self, result: Any) -> str:
            self.writes += 1
            key = self.key or f"key-{len(self.store)}"
            self.store[key] = result
            return key

        def read(self, uri: str) -> Any:
            self.reads += 1
            return self.store[uri]

    class ExistsHandler(DictHandler):
        """A DictHandler that answers ``exists`` itself (and counts the calls)."""

        def __init__(self, store: dict[str, Any], key: str | None = None) -> None:
            super().__init__(store, key)
            self.exists_calls = 0

        def exists(self, uri: str) -> bool:
            self.exists_calls += 1
            return uri in self.store

    class BrokenHandler(ResultHandler):
        """Every read fails with an error that is not "not found"."""

        def write(self, result: Any) -> str:
            return "somewhere"

        def read(self, uri: str) -> Any:
            raise PermissionError(f"access denied to {uri}")
