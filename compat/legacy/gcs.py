"""``GCSResultHandler``: each value as a new object in a GCS bucket, in the legacy format (base64 text).

It stores through a ``GCSResult``, so both share one client policy (lazy, never pickled), one error translation
and atomic uploads; the legacy format and object naming are those of ``compat.legacy._cloud``, shared by the three
legacy cloud handlers. ``GCSResult`` reads the objects this handler writes, so data stored before the upgrade
stays readable after it.
"""

from __future__ import annotations

from typing_extensions import deprecated

from compat.legacy._cloud import ObjectStoreHandler
from compat.results.gcs import GCSResult

__all__ = ["GCSResultHandler"]


@deprecated(
    "GCSResultHandler is deprecated; use compat.GCSResult (results-codemod <path> rewrites it)",
    category=None,
)
class GCSResultHandler(ObjectStoreHandler):
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
