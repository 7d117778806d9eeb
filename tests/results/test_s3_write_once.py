"""Write-once S3Results (``overwrite=False``): S3's conditional write (``If-None-Match: *``) lets the first writer
win; later writers get the winner's value back instead of replacing it, in this process or in another one."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from compat import S3Result, StorageError
from compat.results.s3 import MULTIPART_THRESHOLD, LocationTaken


@pytest.fixture
def once(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3Result:
    return S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, overwrite=False, location="target.pkl")


def stored(result: S3Result, s3_client: Any, key: str = "target.pkl") -> Any:
    """What the bucket holds at ``key``, read with a plain boto3 client."""
    return pickle.loads(s3_client.get_object(Bucket=result.bucket, Key=key)["Body"].read())


def test_first_write_once_stores_the_value(once: S3Result, s3_client: Any) -> None:
    assert once.write("first").value == "first"
    assert stored(once, s3_client) == "first"


def test_later_write_once_returns_the_stored_value_and_changes_nothing(once: S3Result, s3_client: Any) -> None:
    once.write("first")
    later = once.write("second")
    assert (later.value, later.location) == ("first", "target.pkl")
    assert stored(once, s3_client) == "first"


def test_large_write_once_is_refused_by_an_existing_value(once: S3Result, s3_client: Any) -> None:
    once.write("first")
    big = b"x" * (MULTIPART_THRESHOLD + 1)
    assert once.write(big).value == "first"
    assert stored(once, s3_client) == "first"
    uploads = s3_client.list_multipart_uploads(Bucket=once.bucket).get("Uploads", [])
    assert uploads == []  # the refused upload was aborted, not left to accumulate parts


def test_large_write_once_to_an_empty_key_is_one_multipart_object(once: S3Result, s3_client: Any) -> None:
    big = b"y" * (2 * MULTIPART_THRESHOLD + 5)
    once.write(big)
    assert s3_client.head_object(Bucket=once.bucket, Key="target.pkl")["ETag"].endswith('-3"')
    assert stored(once, s3_client) == big


def test_write_once_without_a_location_always_gets_a_new_key(once: S3Result) -> None:
    once.location = None
    first, second = once.write("a"), once.write("b")
    assert first.location != second.location and (first.value, second.value) == ("a", "b")


def test_default_mode_overwrites(s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any) -> None:
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, location="target.pkl")
    result.write("first")
    assert result.write("second").value == "second"
    assert stored(result, s3_client) == "second"


def test_write_bytes_to_a_taken_key_raises_location_taken_naming_it(once: S3Result) -> None:
    once.write("first")
    with pytest.raises(LocationTaken, match=rf"s3://{once.bucket}/target\.pkl already holds a value") as info:
        once.write_bytes("target.pkl", b"raw")
    assert isinstance(info.value, StorageError)


def test_location_taken_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(LocationTaken("bucket", "key")))
    assert (error.bucket, error.key, str(error)) == ("bucket", "key", str(LocationTaken("bucket", "key")))


RACER = """
import json, sys
from compat import S3Result
bucket, boto3_kwargs, name = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
result = S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs, overwrite=False, location="race.pkl")
result.client  # build the client first, so that both writes leave at the signal
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(result.write("value from " + name).value))
"""


@pytest.mark.slow
def test_two_processes_racing_on_one_target_both_finish_with_the_winners_value(
    once: S3Result, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RACER), once.bucket, json.dumps(s3_boto3_kwargs), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
    for racer in racers:  # the start signal, to both at once
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        outcomes.append(json.loads(out))
    winner = stored(once, s3_client, "race.pkl")
    assert winner in ("value from a", "value from b")
    assert outcomes == [winner, winner]


def test_a_task_that_loses_a_write_once_race_carries_the_winners_value_downstream(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any]
) -> None:
    from compat import Flow, Success, task

    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, overwrite=False)

    @task(result=result, target="race.pkl")
    def compute() -> str:
        # another run of the same flow finishes first, while this one computes
        S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, location="race.pkl").write("winner")
        return "loser"

    @task
    def downstream(value: str) -> str:
        return f"got {value}"

    with Flow("f") as flow:
        upstream = compute()
        after = downstream(upstream)
    states = flow.run().result
    assert type(states[upstream]) is Success and states[upstream].result == "winner"
    assert "another run had already stored its output" in states[upstream].message
    assert states[after].result == "got winner"
