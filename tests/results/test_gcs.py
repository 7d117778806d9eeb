"""GCSResult against a real GCS-compatible server (gcp-storage-emulator over HTTP): names, errors, large values,
pickling and forking.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in
test_contract.py; this file covers what is particular to GCS.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from compat import ArgumentTypeError, GCSResult, JSONSerializer, LocationError, ResultNotFound, StorageError
from tests.results.test_s3 import run_python

MB = 1024 * 1024


@pytest.fixture
def result(gcs_bucket: str) -> GCSResult:
    return GCSResult(bucket=gcs_bucket)


def at(result: GCSResult, name: str) -> GCSResult:
    """A copy of ``result`` that writes to ``name``."""
    located = result.copy()
    located.location = name
    return located


# -- names -----------------------------------------------------------------------------------------------------------


def test_templated_location_becomes_the_object_name(result: GCSResult, gcs_client: Any) -> None:
    result.location = "runs/{flow_name}/{task_name}-{map_index}.pkl"
    written = result.write("v", flow_name="etl", task_name="load", map_index=3)
    assert written.location == "runs/etl/load-3.pkl"
    assert gcs_client.bucket(result.bucket).get_blob("runs/etl/load-3.pkl").size > 0


def test_write_without_location_picks_a_new_name(result: GCSResult, gcs_client: Any) -> None:
    written = result.write("v")
    assert [blob.name for blob in gcs_client.list_blobs(result.bucket)] == [written.location]


def test_gs_uri_of_the_same_bucket_reads_the_object(result: GCSResult) -> None:
    at(result, "a/b.pkl").write("v")
    assert result.read(f"gs://{result.bucket}/a/b.pkl").value == "v"


def test_gs_uri_of_another_bucket_is_refused(result: GCSResult) -> None:
    with pytest.raises(LocationError, match=rf"names the bucket 'elsewhere'.*stores in '{result.bucket}'"):
        result.read("gs://elsewhere/a.pkl")


def test_empty_name_is_refused_with_an_example(result: GCSResult) -> None:
    with pytest.raises(LocationError, match="names no object"):
        at(result, "").write("v")


def test_name_longer_than_gcs_allows_is_refused(result: GCSResult) -> None:
    with pytest.raises(LocationError, match="longer than GCS's limit of 1024 bytes"):
        at(result, "k" * 1025).write("v")


def test_name_with_a_line_break_is_refused(result: GCSResult) -> None:
    with pytest.raises(LocationError, match="line break"):
        at(result, "a\nb.pkl").write("v")


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_missing_object_error_names_bucket_and_object(result: GCSResult) -> None:
    with pytest.raises(ResultNotFound, match=rf"gs://{result.bucket}/absent\.pkl.*nothing is stored.*GCS said 404"):
        result.read("absent.pkl")


def test_exists_on_a_missing_bucket_raises_instead_of_answering_false(gcs_endpoint: str) -> None:
    result = GCSResult(bucket="no-such-bucket-here")
    with pytest.raises(StorageError, match=r"gs://no-such-bucket-here/x\.pkl: the bucket does not exist") as info:
        result.exists("x.pkl")
    assert not isinstance(info.value, ResultNotFound)
    assert info.value.__cause__ is not None


def test_read_from_a_missing_bucket_says_the_bucket_is_missing(gcs_endpoint: str) -> None:
    with pytest.raises(StorageError, match=r"cannot read gs://no-such-bucket-here/x\.pkl: the bucket does not exist"):
        GCSResult(bucket="no-such-bucket-here").read("x.pkl")


def test_write_to_a_missing_bucket_says_the_bucket_is_missing(gcs_endpoint: str) -> None:
    result = at(GCSResult(bucket="no-such-bucket-here"), "x.pkl")
    with pytest.raises(StorageError, match=r"cannot write gs://no-such-bucket-here/x\.pkl: the bucket does not exist"):
        result.write("v")


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


def test_a_bucket_holding_a_path_is_refused_saying_where_the_path_goes() -> None:
    with pytest.raises(LocationError, match=r"'a/b' is not a valid bucket name .*bucket='a', location='b/"):
        GCSResult(bucket="a/b")


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


def test_without_the_sdk_using_the_backend_says_what_to_install() -> None:
    out = run_python(
        """
        import sys
        sys.modules["google.cloud.storage"] = None  # as if the gcs extra were not installed
        from compat import GCSResult, MissingDependency
        try:
            GCSResult(bucket="b").exists("x")
        except MissingDependency as exc:
            print(exc)
        """
    )
    assert "pip install 'results-compat[gcs]'" in out


# -- large values --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_20_mb_round_trips_through_a_resumable_upload(result: GCSResult) -> None:
    value = os.urandom(20 * MB)  # above the SDK's 8 MB single-request limit
    written = at(result, "big.pkl").write(value)
    assert result.read(written.location).value == value


# -- the client: lazy, shared by copies, never pickled, rebuilt after fork ----------------------------------------


def test_copies_share_one_client(result: GCSResult) -> None:
    assert result.format(task_name="t").client is result.client


def test_pickled_result_leaves_its_client_behind(result: GCSResult) -> None:
    at(result, "p.pkl").write("v")  # the client now exists
    clone = pickle.loads(pickle.dumps(result))
    assert not clone._clients.built
    assert clone.read("p.pkl").value == "v"


def test_cloudpickled_result_reads_from_the_server_in_another_process(result: GCSResult) -> None:
    at(result, "shared.pkl").write({"answer": 42})
    payload = cloudpickle.dumps(result).hex()
    out = run_python(
        f"""
        import cloudpickle
        result = cloudpickle.loads(bytes.fromhex({payload!r}))
        print(result.read("shared.pkl").value["answer"])
        """
    )
    assert out.strip() == "42"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_builds_its_own_client_and_reads(result: GCSResult) -> None:
    at(result, "forked.pkl").write("from the parent")
    parent_client = result.client
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's cleanup
        try:
            report = {"own_client": result.client is not parent_client, "value": result.read("forked.pkl").value}
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = json.loads(pipe.read() or b"{}")
    os.waitpid(pid, 0)
    assert report == {"own_client": True, "value": "from the parent"}


def test_repr_shows_bucket_and_location_but_not_client_kwargs(gcs_bucket: str) -> None:
    result = GCSResult(bucket=gcs_bucket, client_kwargs={"credentials": "secret"}, location="{task_name}.pkl")
    assert repr(result) == f"GCSResult(bucket={gcs_bucket!r}, location='{{task_name}}.pkl')"


def test_modified_at_is_the_objects_update_time(result: GCSResult, gcs_client: Any) -> None:
    at(result, "m.pkl").write(1)
    assert result.modified_at("m.pkl") == gcs_client.bucket(result.bucket).get_blob("m.pkl").updated


def test_json_serializer_stores_plain_json(gcs_bucket: str, gcs_client: Any) -> None:
    result = GCSResult(bucket=gcs_bucket, serializer=JSONSerializer())
    at(result, "doc.json").write({"a": [1, 2]})
    assert json.loads(gcs_client.bucket(gcs_bucket).blob("doc.json").download_as_bytes()) == {"a": [1, 2]}
    assert result.read("doc.json").value == {"a": [1, 2]}
