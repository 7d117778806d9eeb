"""The legacy S3ResultHandler works as it did, and S3Result reads what it (or the pre-upgrade handler) wrote."""

from __future__ import annotations

import base64
import pickle
import re
import warnings
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pytest

from compat import LegacyHandlerWarning, LegacyResultWarning, ResultNotFound, S3Result, SerializationError, as_result
from compat.deprecations import message, rename_for
from compat.legacy import S3ResultHandler


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        yield


@pytest.fixture
def handler(quiet: None, s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3ResultHandler:
    return S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)


@pytest.fixture
def result(s3_bucket: str, s3_boto3_kwargs: dict[str, Any]) -> S3Result:
    return S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)


# -- the handler, as it was ------------------------------------------------------------------------------------------


def test_handler_write_returns_the_key_of_a_new_dated_object(handler: S3ResultHandler, s3_client: Any) -> None:
    key = handler.write({"a": 1})
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.prefect_result", key)
    assert s3_client.head_object(Bucket=handler.bucket, Key=key)["ContentLength"] > 0


def test_handler_stores_base64_of_cloudpickle_bytes(handler: S3ResultHandler, s3_client: Any) -> None:
    key = handler.write([1, 2, 3])
    body = s3_client.get_object(Bucket=handler.bucket, Key=key)["Body"].read()
    assert cloudpickle.loads(base64.b64decode(body, validate=True)) == [1, 2, 3]


def test_handler_reads_back_what_it_wrote(handler: S3ResultHandler) -> None:
    assert handler.read(handler.write({"k": "v"})) == {"k": "v"}


def test_handler_gives_each_write_a_new_key(handler: S3ResultHandler) -> None:
    first, second = handler.write("a"), handler.write("b")
    assert first != second and (handler.read(first), handler.read(second)) == ("a", "b")


def test_handler_reading_a_missing_key_raises_file_not_found(handler: S3ResultHandler) -> None:
    with pytest.raises(ResultNotFound) as info:
        handler.read("2020/01/01/missing.prefect_result")
    assert isinstance(info.value, FileNotFoundError)


def test_instantiating_the_handler_warns_with_the_tables_message(s3_bucket: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        S3ResultHandler(bucket=s3_bucket)
    assert [(w.category, w.filename) for w in caught] == [(LegacyHandlerWarning, __file__)]
    assert str(caught[0].message) == message(rename_for("class", "S3ResultHandler"))


def test_handler_survives_pickling_and_reads_afterwards(handler: S3ResultHandler) -> None:
    key = handler.write("kept")
    clone = pickle.loads(cloudpickle.dumps(handler))
    assert clone == handler and clone.read(key) == "kept"


def test_handler_repr_hides_boto3_kwargs(handler: S3ResultHandler) -> None:
    assert repr(handler) == f"S3ResultHandler(bucket={handler.bucket!r})"


# -- the way across: adapters and format detection -------------------------------------------------------------


def test_as_result_turns_the_handler_into_an_s3_result_with_its_settings(handler: S3ResultHandler) -> None:
    converted = as_result(handler)
    assert type(converted) is S3Result
    assert (converted.bucket, converted.boto3_kwargs) == (handler.bucket, handler.boto3_kwargs)


def test_s3_result_reads_objects_the_legacy_handler_wrote(handler: S3ResultHandler, result: S3Result) -> None:
    key = handler.write({"written": "before the upgrade"})
    assert result.read(key).value == {"written": "before the upgrade"}


def test_s3_result_reads_legacy_objects_put_by_plain_boto3(result: S3Result, s3_client: Any) -> None:
    legacy_body = base64.b64encode(cloudpickle.dumps(("old", 1)))  # exactly what the old handler uploaded
    s3_client.put_object(Bucket=result.bucket, Key="2019/05/01/old.prefect_result", Body=legacy_body)
    assert result.read("2019/05/01/old.prefect_result").value == ("old", 1)


def test_handler_reads_objects_s3_result_wrote(handler: S3ResultHandler, result: S3Result) -> None:
    written = result.write({"written": "after the upgrade"})
    assert handler.read(written.location) == {"written": "after the upgrade"}


def test_stored_bytes_that_look_like_a_legacy_object_come_back_unchanged(result: S3Result) -> None:
    lookalike = base64.b64encode(cloudpickle.dumps("inner"))  # a *value* that is base64 text of a pickle
    written = result.write(lookalike)
    assert result.read(written.location).value == lookalike


def test_the_handler_signs_its_base64_objects_and_s3_result_verifies_them(
    handler: S3ResultHandler, s3_bucket: str, s3_boto3_kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "k")
    key = handler.write({"signed": True})
    assert handler.read(key) == {"signed": True}
    assert S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).read(key).value == {"signed": True}
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "another")
    with pytest.raises(SerializationError, match="matches none"):
        handler.read(key)
