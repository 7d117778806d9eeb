"""Write-once S3Results (``overwrite=False``) where S3 differs from the other object stores: multipart uploads, and
a flow that loses the race. What the three share runs in test_cloud_write_once.py."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from compat import S3Result
from compat.results.s3 import MULTIPART_THRESHOLD


@pytest.fixture
def once(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3Result:
    return S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, overwrite=False, location="target.pkl")


def stored(result: S3Result, s3_client: Any, key: str = "target.pkl") -> Any:
    """What the bucket holds at ``key``, read with a plain boto3 client."""
    return pickle.loads(s3_client.get_object(Bucket=result.bucket, Key=key)["Body"].read())


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
