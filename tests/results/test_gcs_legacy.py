"""What the legacy GCSResultHandler does alone: its credentials_secret= is kept but has no GCSResult equivalent.
What the three object-store handlers share (writing, reading, signing, conversion) runs in test_cloud_legacy.py."""

from __future__ import annotations

import warnings

import pytest

from compat import LegacyHandlerWarning, LegacyResultWarning
from compat.legacy import GCSResultHandler


def test_the_warning_says_credentials_secret_is_dropped(gcs_bucket: str) -> None:
    with pytest.warns(LegacyHandlerWarning, match=r"credentials_secret= has none in GCSResult"):
        GCSResultHandler(gcs_bucket, "GCP_CREDENTIALS")


def test_handler_keeps_credentials_secret_as_given(gcs_bucket: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        assert GCSResultHandler(gcs_bucket, credentials_secret="GCP").credentials_secret == "GCP"
