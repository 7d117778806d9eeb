"""GCSResult against a real GCS-compatible server (gcp-storage-emulator over HTTP): bucket and object names,
credentials, bounded calls, large values.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in test_contract.py,
and what the three object stores do alike in test_cloud_stores.py; this file covers what is particular to GCS.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from compat import ArgumentTypeError, GCSResult, LocationError, ResultError, StorageError
from compat.results import _cloud, gcs
from tests.results.stores import at

MB = 1024 * 1024


@pytest.fixture
def result(gcs_bucket: str) -> GCSResult:
    return GCSResult(bucket=gcs_bucket)


# -- names -----------------------------------------------------------------------------------------------------------


def test_name_with_a_line_break_is_refused(result: GCSResult) -> None:
    with pytest.raises(LocationError, match="line break"):
        at(result, "a\nb.pkl").write("v")


@pytest.mark.parametrize("name", ["..", "../x", "a/../b", "."])
def test_a_name_gcs_would_refuse_as_a_path_step_is_refused_at_once(result: GCSResult, name: str) -> None:
    started = time.monotonic()
    with pytest.raises(LocationError, match="'..' part"):
        at(result, name).write("v")
    assert time.monotonic() - started < 1  # refused before any request, not after retries


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_missing_credentials_raise_naming_the_bucket_and_where_credentials_come_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    with pytest.raises(StorageError, match=r"gs://b.*no usable Google credentials.*GOOGLE_APPLICATION_CREDENTIALS"):
        GCSResult(bucket="b", project="p").exists("x.pkl")


def test_malformed_credentials_file_raises_naming_the_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "x@y"}))
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    with pytest.raises(StorageError, match=r"no usable Google credentials") as info:
        GCSResult(bucket="b", project="p").read("x.pkl")
    assert info.value.__cause__ is not None


def test_a_bucket_name_gcs_would_refuse_is_refused_when_the_result_is_made() -> None:
    with pytest.raises(LocationError, match=r"GCSResult: '-bad-' is not a valid bucket name \(lowercase letters"):
        GCSResult(bucket="-bad-")


def test_a_bucket_given_as_a_uri_is_refused_asking_for_the_name_alone() -> None:
    with pytest.raises(LocationError, match="give the bucket name alone, without the scheme"):
        GCSResult(bucket="gs://results")


def test_dotted_bucket_names_within_gcs_rules_are_accepted() -> None:
    assert GCSResult(bucket="results.example.com").bucket == "results.example.com"


def test_client_kwargs_the_sdk_does_not_accept_raise_type_error_naming_them(gcs_bucket: str) -> None:
    result = GCSResult(bucket=gcs_bucket, client_kwargs={"endpoint": "http://example.invalid"})
    with pytest.raises(TypeError, match=r"client_kwargs \['endpoint'\]"):
        result.exists("x.pkl")


# -- bounded calls: a stalled endpoint (accepts, never answers) fails the call, configurably -------------------


def test_a_stalled_endpoint_fails_the_call_within_the_given_timeout_and_retry_deadline(
    stalled_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", stalled_endpoint)
    result = GCSResult(bucket="b", project="p", timeout=0.5, retry_deadline=1)
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"cannot look up gs://b/k: .*Read timed out.*retrying for 1 s") as info:
        result.exists("k")
    assert time.monotonic() - start < 10
    assert info.value.__cause__ is not None


def test_gcs_calls_are_bounded_by_the_module_defaults_when_not_given(
    stalled_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat.results import gcs

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", stalled_endpoint)
    monkeypatch.setattr(gcs, "READ_TIMEOUT", 0.5)  # the defaults themselves would make this test last a minute
    monkeypatch.setattr(gcs, "RETRY_DEADLINE", 1)
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"gs://b/k: the connection to the GCS endpoint .* did not answer"):
        GCSResult(bucket="b", project="p").read("k")
    assert time.monotonic() - start < 10


def test_default_bounds_are_those_of_s3() -> None:
    from compat.results import gcs, s3

    result = GCSResult(bucket="b")
    assert result.timeout == (s3.CONNECT_TIMEOUT, s3.READ_TIMEOUT) == (gcs.CONNECT_TIMEOUT, gcs.READ_TIMEOUT)
    assert result.retry_deadline == gcs.RETRY_DEADLINE < 120  # the SDK's own deadline is 120 s


@pytest.mark.parametrize(
    ("bounds", "error", "message"),
    [
        ({"timeout": 0}, ValueError, "timeout must be more than 0 seconds"),
        ({"timeout": "5"}, ArgumentTypeError, r"^GCSResult: timeout must be a number of seconds, not str \('5'\)$"),
        (
            {"timeout": (1, 2, 3)},
            ArgumentTypeError,
            r"^GCSResult: timeout must be seconds or a \(connect, read\) pair of seconds, not tuple \(\(1, 2, 3\)\)$",
        ),
        (
            {"timeout": (1, None)},
            ArgumentTypeError,
            r"^GCSResult: timeout\[1\] must be a number of seconds, not NoneType \(None\)$",
        ),
        ({"retry_deadline": -1}, ValueError, "retry_deadline must be more than 0 seconds"),
    ],
)
def test_bounds_that_are_not_positive_seconds_are_refused(
    bounds: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        GCSResult(bucket="b", **bounds)


# -- large values --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_20_mb_round_trips_through_a_resumable_upload(result: GCSResult) -> None:
    value = os.urandom(20 * MB)  # above the SDK's 8 MB single-request limit
    written = at(result, "big.pkl").write(value)
    assert result.read(written.location).value == value



PIECES = [b"head", os.urandom(1000), b"."]


def test_a_body_past_one_request_read_whole_is_the_pieces_themselves() -> None:
    body = _cloud.Unjoined(PIECES).read(10_000)
    assert isinstance(body, _cloud.Body) and len(body) == 1005
    assert [id(piece) for piece in body] == [id(piece) for piece in PIECES]  # sent from where they are, uncopied


def test_a_body_past_one_request_read_from_the_middle_is_its_bytes_from_there() -> None:
    stream = _cloud.Unjoined(PIECES)
    stream.seek(2)  # the SDK resuming a failed upload
    assert stream.read(10) == b"".join(PIECES)[2:12]


@pytest.mark.slow
def test_a_value_past_one_request_is_stored_as_its_pickle(result: GCSResult, gcs_client: Any) -> None:
    value = os.urandom(9 * MB)  # past the SDK's one-request size: sent as the pieces, with their CRC32C
    at(result, "big.pkl").write(value)
    assert gcs_client.bucket(result.bucket).blob("big.pkl").download_as_bytes() == result.serializer.serialize(value)
    assert result.read("big.pkl").value == value


@pytest.mark.slow
def test_gcs_refuses_a_body_past_one_request_whose_crc32c_does_not_match(
    result: GCSResult, gcs_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcs, "_crc32c_of", lambda pieces: "AAAAAA==")  # as if the bytes changed on the way
    with pytest.raises(StorageError, match="does not match the CRC32C of what was sent, so nothing was stored"):
        at(result, "big.pkl").write(os.urandom(9 * MB))
    assert list(gcs_client.list_blobs(result.bucket)) == []
