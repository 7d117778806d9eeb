"""``S3ResultHandler``: each value as a new object in an S3 bucket, in the legacy format (base64 text).

It stores through an ``S3Result``, so both share one boto3 client policy (lazy, never pickled), one error
translation and atomic writes; the legacy format and key naming are those of ``compat.legacy._cloud``, shared by
the three legacy cloud handlers. ``S3Result`` reads the objects this handler writes, so data stored before the
upgrade stays readable after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import deprecated

from compat.legacy._cloud import ObjectStoreHandler
from compat.results.s3 import S3Result

__all__ = ["S3ResultHandler"]


@deprecated(
    "S3ResultHandler is deprecated; use compat.S3Result (results-codemod <path> rewrites it)",
    category=None,
)
class S3ResultHandler(ObjectStoreHandler):
    """Writes each value to a new, uniquely named object in ``bucket`` and returns its key.

    The object holds the base64 text of the value's cloudpickle bytes, as the legacy handler wrote it (signed, and
    verified when read, with ``$RESULTS_COMPAT_SIGNING_KEY`` set).
    ``boto3_kwargs`` go to ``boto3.client("s3", ...)``; the standard AWS environment variables fill the rest.

    .. deprecated:: 0.1.0
        Use ``compat.S3Result(bucket=..., boto3_kwargs=...)``, which also reads the objects written here.
    """

    def __init__(self, bucket: str, boto3_kwargs: Mapping[str, Any] | None = None) -> None:
        self.bucket = bucket
        self.boto3_kwargs = boto3_kwargs
        self._storage = S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        """``handler.bucket = ...`` (or ``boto3_kwargs``) after construction takes effect, as it did."""
        super().__setattr__(name, value)
        if name in ("bucket", "boto3_kwargs") and "_storage" in self.__dict__:
            self._storage = S3Result(bucket=self.bucket, boto3_kwargs=self.boto3_kwargs)

    def __repr__(self) -> str:  # boto3_kwargs may hold credentials: never show them
        return f"S3ResultHandler(bucket={self.bucket!r})"
