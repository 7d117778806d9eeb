"""S3Result against a real S3 server (moto's server mode over HTTP): keys, errors, large values, pickling.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in
test_contract.py; this file covers what is particular to S3.
"""

from __future__ import annotations

import _thread
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import cloudpickle
import pytest

from compat import ArgumentTypeError, ConfigurationError, LocationError, ResultNotFound, S3Result, StorageError
from tests.fixtures.s3_server import S3_CREDENTIALS

MB = 1024 * 1024


@pytest.fixture
def result(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3Result:
    return S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)


def at(result: S3Result, key: str) -> S3Result:
    """A copy of ``result`` that writes to ``key``."""
    located = result.copy()
    located.location = key
    return located


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter; return its stdout, failing the test with its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- keys ------------------------------------------------------------------------------------------------------------


def test_templated_location_becomes_the_object_key(result: S3Result, s3_client: Any) -> None:
    result.location = "runs/{flow_name}/{task_name}-{map_index}.pkl"
    written = result.write("v", flow_name="etl", task_name="load", map_index=3)
    assert written.location == "runs/etl/load-3.pkl"
    assert s3_client.head_object(Bucket=result.bucket, Key="runs/etl/load-3.pkl")["ContentLength"] > 0


def test_write_without_location_picks_a_new_key(result: S3Result, s3_client: Any) -> None:
    written = result.write("v")
    listed = [obj["Key"] for obj in s3_client.list_objects_v2(Bucket=result.bucket)["Contents"]]
    assert listed == [written.location]


def test_s3_uri_of_the_same_bucket_reads_the_key(result: S3Result) -> None:
    written = at(result, "a/b.pkl").write("v")
    assert result.read(f"s3://{result.bucket}/a/b.pkl").value == "v"
    assert written.location == "a/b.pkl"


def test_s3_uri_of_another_bucket_is_refused(result: S3Result) -> None:
    with pytest.raises(LocationError, match=rf"names the bucket 'elsewhere'.*stores in '{result.bucket}'"):
        result.read("s3://elsewhere/a.pkl")


def test_empty_key_is_refused_with_an_example(result: S3Result) -> None:
    with pytest.raises(LocationError, match="names no object key"):
        at(result, "").write("v")


def test_key_longer_than_s3_allows_is_refused(result: S3Result) -> None:
    with pytest.raises(LocationError, match="longer than S3's limit of 1024 bytes"):
        at(result, "k" * 1025).write("v")


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_missing_key_error_names_bucket_and_key(result: S3Result) -> None:
    with pytest.raises(ResultNotFound, match=rf"s3://{result.bucket}/absent\.pkl.*nothing is stored"):
        result.read("absent.pkl")


def test_exists_on_a_missing_bucket_raises_instead_of_answering_false(s3_boto3_kwargs: dict[str, Any]) -> None:
    result = S3Result(bucket="no-such-bucket-here", boto3_kwargs=s3_boto3_kwargs)
    with pytest.raises(StorageError, match=r"s3://no-such-bucket-here/x\.pkl.*bucket does not exist") as info:
        result.exists("x.pkl")
    assert not isinstance(info.value, ResultNotFound)
    assert info.value.__cause__ is not None


def test_read_from_a_missing_bucket_says_the_bucket_is_missing(s3_boto3_kwargs: dict[str, Any]) -> None:
    result = S3Result(bucket="no-such-bucket-here", boto3_kwargs=s3_boto3_kwargs)
    with pytest.raises(StorageError, match=r"bucket does not exist.*NoSuchBucket"):
        result.read("x.pkl")


def test_write_to_a_missing_bucket_says_the_bucket_is_missing(s3_boto3_kwargs: dict[str, Any]) -> None:
    result = S3Result(bucket="no-such-bucket-here", boto3_kwargs=s3_boto3_kwargs)
    with pytest.raises(StorageError, match=r"cannot write s3://no-such-bucket-here/x\.pkl.*bucket does not exist"):
        at(result, "x.pkl").write("v")


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


def test_unreachable_endpoint_raises_naming_the_endpoint(s3_bucket: str) -> None:
    from botocore.config import Config

    with socket.socket() as probe:  # a port that was just free, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = S3Result(
        bucket=s3_bucket,
        boto3_kwargs={
            "endpoint_url": f"http://127.0.0.1:{port}",
            "region_name": "us-east-1",
            "aws_access_key_id": "a",
            "aws_secret_access_key": "b",
            "config": Config(retries={"total_max_attempts": 1}, connect_timeout=2),
        },
    )
    with pytest.raises(StorageError, match=rf"connection to the S3 endpoint http://127\.0\.0\.1:{port} failed"):
        result.exists("x.pkl")


def test_a_bucket_name_boto3_would_refuse_is_refused_when_the_result_is_made() -> None:
    with pytest.raises(LocationError, match=r"S3Result: 'not a bucket!' is not a valid bucket name \(letters, digits"):
        S3Result(bucket="not a bucket!")


def test_a_bucket_holding_a_path_is_refused_saying_where_the_path_goes() -> None:
    with pytest.raises(LocationError, match=r"'a/b' is not a valid bucket name .*bucket='a', location='b/"):
        S3Result(bucket="a/b")


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


def test_without_boto3_using_the_backend_says_what_to_install() -> None:
    out = run_python(
        """
        import sys
        sys.modules["boto3"] = None  # as if the s3 extra were not installed
        from compat import MissingDependency, S3Result
        try:
            S3Result(bucket="b").exists("x")
        except MissingDependency as exc:
            print(exc)
        """
    )
    assert "pip install 'results-compat[s3]'" in out


# -- large values and atomic visibility --------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_50_mb_round_trips_through_a_multipart_upload(result: S3Result, s3_client: Any) -> None:
    value = os.urandom(50 * MB)
    written = at(result, "big.pkl").write(value)
    etag = s3_client.head_object(Bucket=result.bucket, Key="big.pkl")["ETag"]
    assert "-" in etag  # S3 marks the ETag of a multipart object with its part count
    assert result.read(written.location).value == value


def test_a_value_below_the_multipart_threshold_is_sent_in_one_put(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, multipart_threshold=16 * MB)
    value = os.urandom(9 * MB)  # above the default threshold
    at(result, "one-put.pkl").write(value)
    etag = s3_client.head_object(Bucket=s3_bucket, Key="one-put.pkl")["ETag"]
    assert "-" not in etag
    assert result.read("one-put.pkl").value == value


def test_a_value_at_the_multipart_threshold_is_sent_in_parts(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, multipart_threshold=5 * MB)
    value = os.urandom(6 * MB)  # below the default threshold
    at(result, "parts.pkl").write(value)
    etag = s3_client.head_object(Bucket=s3_bucket, Key="parts.pkl")["ETag"]
    assert etag.endswith('-1"')  # one part of 8 MiB holds it
    assert result.read("parts.pkl").value == value


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


# -- the client: lazy, shared by copies, never pickled -----------------------------------------------------------


def test_copies_share_one_client(result: S3Result) -> None:
    assert result.format(task_name="t").client is result.client


def test_pickled_result_leaves_its_client_behind(result: S3Result) -> None:
    at(result, "p.pkl").write("v")  # the client now exists
    clone = pickle.loads(pickle.dumps(result))
    assert clone._client._client is None
    assert clone.read("p.pkl").value == "v"


def test_cloudpickled_result_reads_from_the_server_in_another_process(result: S3Result) -> None:
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


def test_repr_shows_bucket_and_location_but_no_credentials(result: S3Result) -> None:
    result.location = "{task_name}.pkl"
    assert repr(result) == f"S3Result(bucket={result.bucket!r}, location='{{task_name}}.pkl')"


def test_modified_at_is_the_objects_last_modified(result: S3Result, s3_client: Any) -> None:
    at(result, "m.pkl").write(1)
    assert result.modified_at("m.pkl") == s3_client.head_object(Bucket=result.bucket, Key="m.pkl")["LastModified"]


def test_json_serializer_stores_plain_json(s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any) -> None:
    from compat import JSONSerializer

    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, serializer=JSONSerializer())
    at(result, "doc.json").write({"a": [1, 2]})
    body = s3_client.get_object(Bucket=s3_bucket, Key="doc.json")["Body"].read()
    assert json.loads(body) == {"a": [1, 2]}
    assert result.read("doc.json").value == {"a": [1, 2]}


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


def test_a_value_rendered_into_a_key_cannot_change_the_bucket(result: S3Result) -> None:
    with pytest.raises(LocationError, match="names the bucket 'elsewhere'"):
        at(result, "{name}").write(1, name="s3://elsewhere/x.pkl")
