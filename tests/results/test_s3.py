"""S3Result against a real S3 server (moto's server mode over HTTP): bucket names, credentials, multipart uploads,
bounded calls, the AWS environment.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in test_contract.py,
and what the three object stores do alike in test_cloud_stores.py; this file covers what is particular to S3.
"""

from __future__ import annotations

import _thread
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from compat import ArgumentTypeError, ConfigurationError, LocationError, S3Result, StorageError
from tests.fixtures.s3_server import S3_CREDENTIALS
from tests.results.stores import at, run_python

MB = 1024 * 1024


@pytest.fixture
def result(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3Result:
    return S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)


# -- errors, translated at the boundary --------------------------------------------------------------------------


@pytest.mark.usefixtures("s3_authentication")
def test_exists_with_wrong_credentials_raises_naming_the_credentials(result: S3Result) -> None:
    wrong = S3Result(bucket=result.bucket, boto3_kwargs={**result.boto3_kwargs, "aws_access_key_id": "wrong"})
    with pytest.raises(StorageError, match=rf"s3://{result.bucket}/x\.pkl: access was refused; check the credentials"):
        wrong.exists("x.pkl")


@pytest.mark.usefixtures("s3_authentication")
def test_read_with_wrong_credentials_raises_naming_the_credentials(result: S3Result) -> None:
    wrong = S3Result(bucket=result.bucket, boto3_kwargs={**result.boto3_kwargs, "aws_access_key_id": "wrong"})
    with pytest.raises(StorageError, match=r"access was refused.*InvalidAccessKeyId"):
        wrong.read("x.pkl")


@pytest.mark.parametrize("key", ["a\nb.pkl", "a\rb.pkl", "a\x01b.pkl"], ids=["newline", "carriage return", "SOH"])
def test_a_key_with_a_control_character_is_refused_on_write_naming_it(result: S3Result, key: str) -> None:
    with pytest.raises(LocationError, match="control character"):
        at(result, key).write("v")
    assert result.client.list_objects_v2(Bucket=result.bucket).get("Contents", []) == []


def test_a_bucket_name_boto3_would_refuse_is_refused_when_the_result_is_made() -> None:
    with pytest.raises(LocationError, match=r"S3Result: 'not a bucket!' is not a valid bucket name \(letters, digits"):
        S3Result(bucket="not a bucket!")


def test_an_access_point_arn_is_accepted_as_the_bucket() -> None:
    arn = "arn:aws:s3:us-west-2:123456789012:accesspoint/results"
    assert S3Result(bucket=arn).bucket == arn


def test_missing_credentials_raise_naming_where_credentials_come_from(
    s3_bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = S3Result(bucket=s3_bucket, boto3_kwargs={"endpoint_url": s3_endpoint, "region_name": "us-east-1"})
    with pytest.raises(StorageError, match=r"no usable AWS credentials.*AWS_ACCESS_KEY_ID"):
        result.exists("x.pkl")


def test_boto3_kwargs_boto3_does_not_accept_raise_type_error_naming_them(s3_bucket: str) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs={"endpoint": "http://example.invalid"})
    with pytest.raises(TypeError, match=r"boto3_kwargs \['endpoint'\]"):
        result.exists("x.pkl")


# -- large values and atomic visibility --------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_50_mb_round_trips_through_a_multipart_upload(result: S3Result, s3_client: Any) -> None:
    value = os.urandom(50 * MB)
    written = at(result, "big.pkl").write(value)
    etag = s3_client.head_object(Bucket=result.bucket, Key="big.pkl")["ETag"]
    assert "-" in etag  # S3 marks the ETag of a multipart object with its part count
    assert result.read(written.location).value == value


@pytest.mark.parametrize(
    ("threshold", "size", "parts"),
    [(16 * MB, 9 * MB, None), (5 * MB, 6 * MB, 1)],
    ids=["below it, one PUT (above the default)", "at or above it, in parts (below the default)"],
)
def test_the_multipart_threshold_decides_between_one_put_and_parts(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any, threshold: int, size: int, parts: int | None
) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, multipart_threshold=threshold)
    value = os.urandom(size)
    at(result, "sized.pkl").write(value)
    etag = s3_client.head_object(Bucket=s3_bucket, Key="sized.pkl")["ETag"]
    assert etag.endswith(f'-{parts}"') if parts else "-" not in etag  # S3 counts a multipart object's parts there
    assert result.read("sized.pkl").value == value


def test_a_multipart_upload_declares_crc32_and_sends_each_parts_checksum_when_completing(
    result: S3Result, s3_client: Any
) -> None:
    completed: list[dict[str, Any]] = []
    result.client.meta.events.register(
        "before-parameter-build.s3.CompleteMultipartUpload", lambda params, **_: completed.append(params)
    )
    value = os.urandom(9 * MB)
    at(result, "checked.pkl").write(value)
    parts = completed[0]["MultipartUpload"]["Parts"]
    assert len(parts) == 2 and all(part.get("ChecksumCRC32") for part in parts)  # S3 refuses a completion without
    stored = s3_client.head_object(Bucket=result.bucket, Key="checked.pkl", ChecksumMode="ENABLED")
    assert stored.get("ChecksumCRC32")
    assert result.read("checked.pkl").value == value


def test_a_client_computing_checksums_only_when_required_uploads_parts_without_them(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    from botocore.config import Config

    config = Config(request_checksum_calculation="when_required")
    result = S3Result(bucket=s3_bucket, boto3_kwargs={**s3_boto3_kwargs, "config": config})
    value = os.urandom(9 * MB)
    at(result, "plain.pkl").write(value)
    stored = s3_client.head_object(Bucket=s3_bucket, Key="plain.pkl", ChecksumMode="ENABLED")
    assert "-2" in stored["ETag"] and not stored.get("ChecksumCRC32")
    assert result.read("plain.pkl").value == value


def test_the_multipart_threshold_survives_pickling(result: S3Result) -> None:
    result.multipart_threshold = 64 * MB
    assert pickle.loads(pickle.dumps(result)).multipart_threshold == 64 * MB


@pytest.mark.parametrize("threshold", [4 * MB, 5 * 1024**3 + 1], ids=["below S3's smallest part", "above one PUT"])
def test_a_multipart_threshold_s3_cannot_honour_is_refused_naming_the_bounds(threshold: int) -> None:
    with pytest.raises(ConfigurationError, match=r"multipart_threshold=\d+ cannot be honoured.*5 MiB.*5 GiB"):
        S3Result(bucket="b", multipart_threshold=threshold)


@pytest.mark.parametrize("threshold", ["8MB", 8.0 * MB, True], ids=["str", "float", "bool"])
def test_a_multipart_threshold_that_is_not_an_int_is_refused(threshold: Any) -> None:
    with pytest.raises(ArgumentTypeError, match="multipart_threshold must be a number of bytes"):
        S3Result(bucket="b", multipart_threshold=threshold)


@pytest.mark.slow
def test_readers_see_the_old_or_the_new_value_while_a_multipart_write_runs(result: S3Result) -> None:
    old, new = b"o" * (20 * MB), b"n" * (20 * MB)
    at(result, "swap.pkl").write(old)
    seen: list[bool] = []
    writer = threading.Thread(target=at(result, "swap.pkl").write, args=(new,))
    writer.start()
    while writer.is_alive():
        seen.append(result.read("swap.pkl").value in (old, new))
    writer.join()
    assert all(seen) and len(seen) > 0
    assert result.read("swap.pkl").value == new


KILLED_WRITER = """
import json, sys
from compat import S3Result
bucket, boto3_kwargs = sys.argv[1], json.loads(sys.argv[2])
result = S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs, location="swap.pkl")
result.write(b"n" * (40 * 1024 * 1024))
"""


@pytest.mark.slow
def test_writer_killed_during_a_multipart_upload_leaves_the_old_value(result: S3Result, s3_client: Any) -> None:
    at(result, "swap.pkl").write("old")
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), result.bucket, json.dumps(result.boto3_kwargs)],
        stderr=subprocess.DEVNULL,
    )
    try:
        while not s3_client.list_multipart_uploads(Bucket=result.bucket).get("Uploads"):
            assert writer.poll() is None, "the writer finished before its upload could be interrupted"
            time.sleep(0.005)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert s3_client.list_multipart_uploads(Bucket=result.bucket).get("Uploads")  # killed before completing it
    assert result.read("swap.pkl").value == "old"


# -- the client: configured by the standard AWS environment ------------------------------------------------------


def test_standard_aws_environment_variables_configure_the_client(result: S3Result) -> None:
    at(result, "env.pkl").write("from the environment")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": result.boto3_kwargs["endpoint_url"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = run_python(
        f"""
        from compat import S3Result
        print(S3Result(bucket={result.bucket!r}).read("env.pkl").value)
        """,
        env=env,
    )
    assert out.strip() == "from the environment"


# -- bounded calls, aborted uploads, keys that stay in the bucket ----------------------------------------------------


def test_a_stalled_endpoint_fails_the_call_within_the_configured_read_timeout(
    s3_bucket: str, stalled_endpoint: str
) -> None:
    from botocore.config import Config

    result = S3Result(
        bucket=s3_bucket,
        boto3_kwargs={
            "endpoint_url": stalled_endpoint,
            **S3_CREDENTIALS,
            "config": Config(read_timeout=1, retries={"total_max_attempts": 2}),
        },
    )
    start = time.monotonic()
    with pytest.raises(StorageError, match="connection to the S3 endpoint .* failed"):
        result.exists("x.pkl")
    assert time.monotonic() - start < 15


def test_s3_calls_are_bounded_by_default(s3_boto3_kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.results.s3 import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT

    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    config = S3Result(bucket="b", boto3_kwargs=s3_boto3_kwargs).client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert config.retries["total_max_attempts"] == MAX_ATTEMPTS


def test_a_config_in_boto3_kwargs_must_be_a_botocore_config(s3_boto3_kwargs: dict[str, Any]) -> None:
    result = S3Result(bucket="b", boto3_kwargs={**s3_boto3_kwargs, "config": {"read_timeout": 1}})
    with pytest.raises(ArgumentTypeError) as raised:
        result.exists("x.pkl")
    assert str(raised.value) == (
        "S3Result: boto3_kwargs['config'] must be a botocore.config.Config, not dict ({'read_timeout': 1})"
    )


def fault_at_the_second_part(client: Any, fault: str) -> None:
    """Make ``client``'s upload of part 2 fail ("fails": the request raises) or be interrupted ("interrupted": the
    main thread gets a KeyboardInterrupt, as from Ctrl-C, while the upload runs), on the real HTTP path."""

    def inject(params: dict[str, Any], **_: Any) -> None:
        if params.get("PartNumber") != 2:
            return
        if fault == "fails":
            raise RuntimeError("part 2 failed")
        _thread.interrupt_main()
        time.sleep(0.5)  # let the main thread take the interrupt while this part is in flight

    client.meta.events.register("before-parameter-build.s3.UploadPart", inject)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["fails", "interrupted"])
@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "write-once"])
def test_a_multipart_upload_that_fails_or_is_interrupted_is_aborted(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any, overwrite: bool, fault: str,
    request: pytest.FixtureRequest,
) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, overwrite=overwrite, location="big.pkl")
    # interrupt_main() does nothing while SIGINT is ignored, as it is in a suite started in the background by a shell
    # without job control (`make test &` in a script: POSIX sets SIGINT to SIG_IGN there); Ctrl-C raises here anyway
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    fault_at_the_second_part(result.client, fault)
    with pytest.raises((StorageError, RuntimeError, KeyboardInterrupt)):
        result.write(b"x" * (20 * MB))
    time.sleep(0.5)  # an interrupted managed transfer aborts from its worker threads
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert "Contents" not in s3_client.list_objects_v2(Bucket=s3_bucket)
