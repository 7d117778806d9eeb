"""``AzureResultHandler``: each value as a new blob in an Azure container, in the legacy format (base64 text).

It stores through an ``AzureResult``, so both share one client policy (lazy, never pickled), one error translation
and atomic uploads; only the legacy format and blob naming are kept here. ``AzureResult`` reads the blobs this
handler writes, so data stored before the upgrade stays readable after it.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from typing import Any

from typing_extensions import deprecated

from compat.legacy.base import ResultHandler
from compat.results.azure import AzureResult
from compat.results.serializers import PickleSerializer

__all__ = ["AzureResultHandler"]


@deprecated(
    "AzureResultHandler is deprecated; use compat.AzureResult (python -m codemods.results <path> rewrites it)",
    category=None,
)
class AzureResultHandler(ResultHandler):
    """Writes each value to a new, uniquely named blob in ``container`` and returns its name.

    The blob holds the base64 text of the value's cloudpickle bytes, as the legacy handler wrote it (signed, and
    verified when read, with ``$RESULTS_COMPAT_SIGNING_KEY`` set).
    ``connection_string`` (else ``AZURE_STORAGE_CONNECTION_STRING``) names the account and its key.
    ``azure_credentials_secret`` (the name of a Prefect Secret) is kept but not read: there are no Prefect
    Secrets here, and the deprecation warning says so.

    .. deprecated:: 0.1.0
        Use ``compat.AzureResult(container=..., connection_string=...)``, which also reads the blobs written here.
    """

    def __init__(
        self, container: str, connection_string: str | None = None, azure_credentials_secret: str | None = None
    ) -> None:
        self.container = container
        self.connection_string = connection_string
        self.azure_credentials_secret = azure_credentials_secret
        self._storage = AzureResult(container=container, connection_string=connection_string)

    def write(self, result: Any) -> str:
        """Store ``result`` under a new name (``YYYY/MM/DD/<uuid>.prefect_result``) and return the name."""
        name = f"{datetime.now(timezone.utc):%Y/%m/%d}/{uuid.uuid4()}.prefect_result"
        return self._storage.write_bytes(name, base64.b64encode(PickleSerializer().serialize(result)))

    def read(self, uri: str) -> Any:
        """The value stored under the name ``uri`` (legacy base64 blobs, and raw pickles written by AzureResult)."""
        return self._storage.read(uri).value

    def __repr__(self) -> str:  # the connection string holds the account key: never show it
        return f"AzureResultHandler(container={self.container!r})"
