"""``GCSResultHandler``: each value as a new object in a GCS bucket, in the legacy format (base64 text).

It stores through a ``GCSResult``, so both share one client policy (lazy, never pickled), one error translation
and atomic uploads; only the legacy format and object naming are kept here. ``GCSResult`` reads the objects this
handler writes, so data stored before the upgrade stays readable after it.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from typing import Any

from typing_extensions import deprecated

from compat.legacy.base import ResultHandler
from compat.results.gcs import GCSResult
from compat.results.serializers import PickleSerializer

__all__ = ["GCSResultHandler"]


@deprecated(
    "GCSResultHandler is deprecated; use compat.GCSResult (python -m codemods.results <path> rewrites it)",
    category=None,
)
class GCSResultHandler(ResultHandler):
    """Writes each value to a new, uniquely named object in ``bucket`` and returns its name.

    The object holds the base64 text of the value's cloudpickle bytes, as the legacy handler wrote it (signed, and
    verified when read, with ``$RESULTS_COMPAT_SIGNING_KEY`` set). The client
    uses Google's standard credentials and environment (``GOOGLE_APPLICATION_CREDENTIALS``,
    ``STORAGE_EMULATOR_HOST``). ``credentials_secret`` (the name of a Prefect Secret) is kept but not read: there
    are no Prefect Secrets here, and the deprecation warning says so.

    .. deprecated:: 0.1.0
        Use ``compat.GCSResult(bucket=...)``, which also reads the objects written here.
    """

    def __init__(self, bucket: str, credentials_secret: str | None = None) -> None:
        self.bucket = bucket
        self.credentials_secret = credentials_secret
        self._storage = GCSResult(bucket=bucket)

    def write(self, result: Any) -> str:
        """Store ``result`` under a new name (``YYYY/MM/DD/<uuid>.prefect_result``) and return the name."""
        name = f"{datetime.now(timezone.utc):%Y/%m/%d}/{uuid.uuid4()}.prefect_result"
        return self._storage.write_bytes(name, base64.b64encode(PickleSerializer().serialize(result)))

    def read(self, uri: str) -> Any:
        """The value stored under the name ``uri`` (legacy base64 objects, and raw pickles written by GCSResult)."""
        return self._storage.read(uri).value
