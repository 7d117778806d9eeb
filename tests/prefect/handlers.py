"""Legacy handlers of a user's own, written as Prefect 0.13 users wrote them, for the bridge's tests."""

from __future__ import annotations

import warnings
from typing import Any

import cloudpickle

from compat import LegacyResultWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", LegacyResultWarning)  # subclassing ResultHandler is a legacy use
    from prefect.engine.result_handlers import ResultHandler

    class DictHandler(ResultHandler):
        """Keeps values in a dict under increasing keys; a missing key raises KeyError."""

        def __init__(self, store: dict[str, Any] | None = None) -> None:
            self.store = {} if store is None else store
            super().__init__()

        def write(self, result: Any) -> str:
            key = f"key-{len(self.store)}"
            self.store[key] = result
            return key

        def read(self, uri: str) -> Any:
            return self.store[uri]

    class FileHandler(ResultHandler):
        """Writes every value to one file, whose path it returns: a handler whose URI a target can name."""

        def __init__(self, path: str) -> None:
            self.path = path
            self.writes = 0

        def write(self, result: Any) -> str:
            self.writes += 1
            with open(self.path, "wb") as f:
                f.write(cloudpickle.dumps(result))
            return self.path

        def read(self, uri: str) -> Any:
            with open(uri, "rb") as f:
                return cloudpickle.loads(f.read())

    class BrokenHandler(ResultHandler):
        """Fails every read with an error that does not mean "not found"."""

        def write(self, result: Any) -> str:
            return "nowhere"

        def read(self, uri: str) -> Any:
            raise PermissionError(f"no access to {uri}")

    class ExistsHandler(DictHandler):
        """Has its own exists(uri), which the bridge prefers to a read; counts its calls."""

        exists_calls = 0

        def exists(self, uri: str) -> bool:
            self.exists_calls += 1
            return uri in self.store
