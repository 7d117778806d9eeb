"""Targets on S3 make a flow Makefile-like across processes: a second run, in a fresh interpreter, reads every
target back instead of running the tasks (PIN 16's cross-process caching, on object storage)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

FLOW = """
import json, sys
from compat import Flow, Parameter, S3Result, task

bucket, boto3_kwargs = sys.argv[1], json.loads(sys.argv[2])

@task(target="{flow_name}/{day}/extract.pkl")
def extract(day):
    return [1, 2, 3]

@task(target="{flow_name}/{day}/total.pkl")
def total(rows):
    return sum(rows)

with Flow("etl", result=S3Result(bucket=bucket, boto3_kwargs=boto3_kwargs)) as flow:
    day = Parameter("day", default="2026-11-25")
    answer = total(extract(day))

state = flow.run()
runs = {t.name: type(s).__name__ for t, s in state.result.items() if t.name != "day"}
print(json.dumps({"states": runs, "answer": state.result[answer].result}))
"""


def run_flow_in_a_fresh_process(bucket: str, boto3_kwargs: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FLOW), bucket, json.dumps(boto3_kwargs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.slow
def test_flow_with_targets_on_s3_is_all_cached_when_run_again_in_a_fresh_process(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    first = run_flow_in_a_fresh_process(s3_bucket, s3_boto3_kwargs)
    assert first == {"states": {"extract": "Success", "total": "Success"}, "answer": 6}
    keys = sorted(obj["Key"] for obj in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == ["etl/2026-11-25/extract.pkl", "etl/2026-11-25/total.pkl"]

    again = run_flow_in_a_fresh_process(s3_bucket, s3_boto3_kwargs)
    assert again == {"states": {"extract": "Cached", "total": "Cached"}, "answer": 6}
