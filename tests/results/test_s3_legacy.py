"""What the legacy S3ResultHandler does alone: its repr hides boto3_kwargs. What the three object-store handlers
share (writing, reading, signing, conversion) runs in test_cloud_legacy.py."""

from __future__ import annotations

import warnings
from typing import Any

from compat import LegacyResultWarning
from compat.legacy import S3ResultHandler


def test_handler_repr_hides_boto3_kwargs(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        handler = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)
    assert repr(handler) == f"S3ResultHandler(bucket={s3_bucket!r})"
