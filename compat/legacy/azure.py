"""``AzureResultHandler``: each value as a new blob in an Azure container, in the legacy format (base64 text).

It stores through an ``AzureResult``, so both share one client policy (lazy, never pickled), one error translation
and atomic uploads; the legacy format and blob naming are those of ``compat.legacy._cloud``, shared by the three
legacy cloud handlers. ``AzureResult`` reads the blobs this handler writes, so data stored before the upgrade stays
readable after it.
"""

from __future__ import annotations

from typing_extensions import deprecated

from compat.legacy._cloud import ObjectStoreHandler
from compat.results.azure import AzureResult

__all__ = ["AzureResultHandler"]


@deprecated(
    "AzureResultHandler is deprecated; use compat.AzureResult (results-codemod <path> rewrites it)",
    category=None,
)
class AzureResultHandler(ObjectStoreHandler):
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

    def __repr__(self) -> str:  # the connection string holds the account key: never show it
        return f"AzureResultHandler(container={self.container!r})"
