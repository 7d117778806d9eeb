"""What the legacy object-store handlers (``S3ResultHandler``, ``GCSResultHandler``, ``AzureResultHandler``) share:
each value as a new object in the legacy format (the base64 text of its cloudpickle bytes), stored through the
Result of the same service (``_storage``), which also reads what they wrote."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from typing import Any

from compat.legacy.base import ResultHandler
from compat.results._cloud import ObjectStoreResult
from compat.results.serializers import PickleSerializer

__all__ = ["ObjectStoreHandler"]


class ObjectStoreHandler(ResultHandler):
    """A legacy handler over an object store; a subclass sets ``_storage``, the Result it stores through."""

    _storage: ObjectStoreResult

    def write(self, result: Any) -> str:
        """Store ``result`` under a new name (``YYYY/MM/DD/<uuid>.prefect_result``) and return the name."""
        name = f"{datetime.now(timezone.utc):%Y/%m/%d}/{uuid.uuid4()}.prefect_result"
        signed_for = self._storage.signed_location(self._storage.resolve(name))
        return self._storage.write_bytes(name, base64.b64encode(PickleSerializer().at(signed_for).serialize(result)))

    def read(self, uri: str) -> Any:
        """The value stored under the name ``uri`` (legacy base64 objects, and raw pickles its Result wrote)."""
        return self._storage.read(uri).value
