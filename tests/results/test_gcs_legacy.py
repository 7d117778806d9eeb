"""The legacy GCSResultHandler works as it did, and GCSResult reads what it (or the pre-upgrade handler) wrote."""

from __future__ import annotations

import base64
import pickle
import re
import warnings
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pytest

from compat import GCSResult, LegacyHandlerWarning, LegacyResultWarning, ResultNotFound, as_result
from compat.deprecations import message, rename_for
from compat.legacy import GCSResultHandler


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        yield


@pytest.fixture
def handler(quiet: None, gcs_bucket: str) -> GCSResultHandler:
    return GCSResultHandler(bucket=gcs_bucket)


@pytest.fixture
def result(gcs_bucket: str) -> GCSResult:
    return GCSResult(bucket=gcs_bucket)


# -- the handler, as it was ------------------------------------------------------------------------------------------


def test_handler_write_returns_the_name_of_a_new_dated_object(handler: GCSResultHandler, gcs_client: Any) -> None:
    name = handler.write({"a": 1})
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.prefect_result", name)
    assert gcs_client.bucket(handler.bucket).get_blob(name).size > 0


def test_handler_stores_base64_of_cloudpickle_bytes(handler: GCSResultHandler, gcs_client: Any) -> None:
    name = handler.write([1, 2, 3])
    body = gcs_client.bucket(handler.bucket).blob(name).download_as_bytes()
    assert cloudpickle.loads(base64.b64decode(body, validate=True)) == [1, 2, 3]


def test_handler_reads_back_what_it_wrote(handler: GCSResultHandler) -> None:
    assert handler.read(handler.write({"k": "v"})) == {"k": "v"}


def test_handler_gives_each_write_a_new_name(handler: GCSResultHandler) -> None:
    first, second = handler.write("a"), handler.write("b")
    assert first != second and (handler.read(first), handler.read(second)) == ("a", "b")


def test_handler_reading_a_missing_name_raises_file_not_found(handler: GCSResultHandler) -> None:
    with pytest.raises(ResultNotFound) as info:
        handler.read("2020/01/01/missing.prefect_result")
    assert isinstance(info.value, FileNotFoundError)


def test_instantiating_the_handler_warns_with_the_tables_message(gcs_bucket: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        GCSResultHandler(bucket=gcs_bucket)
    assert [(w.category, w.filename) for w in caught] == [(LegacyHandlerWarning, __file__)]
    assert str(caught[0].message) == message(rename_for("class", "GCSResultHandler"))


def test_the_warning_says_credentials_secret_is_dropped(gcs_bucket: str) -> None:
    with pytest.warns(LegacyHandlerWarning, match=r"credentials_secret= is dropped"):
        GCSResultHandler(gcs_bucket, "GCP_CREDENTIALS")


def test_handler_keeps_credentials_secret_as_given(handler: GCSResultHandler, gcs_bucket: str) -> None:
    assert GCSResultHandler(gcs_bucket, credentials_secret="GCP").credentials_secret == "GCP"


def test_handler_survives_pickling_and_reads_afterwards(handler: GCSResultHandler) -> None:
    name = handler.write("kept")
    clone = pickle.loads(cloudpickle.dumps(handler))
    assert clone == handler and clone.read(name) == "kept"


# -- the way across: adapters and format detection -------------------------------------------------------------


def test_as_result_turns_the_handler_into_a_gcs_result_on_the_same_bucket(handler: GCSResultHandler) -> None:
    converted = as_result(handler)
    assert type(converted) is GCSResult and converted.bucket == handler.bucket


def test_gcs_result_reads_objects_the_legacy_handler_wrote(handler: GCSResultHandler, result: GCSResult) -> None:
    name = handler.write({"written": "before the upgrade"})
    assert result.read(name).value == {"written": "before the upgrade"}


def test_gcs_result_reads_legacy_objects_uploaded_by_the_plain_client(result: GCSResult, gcs_client: Any) -> None:
    legacy_body = base64.b64encode(cloudpickle.dumps(("old", 1))).decode()  # what Prefect 0.10 uploaded (text)
    gcs_client.bucket(result.bucket).blob("2019/5/1/old.prefect_result").upload_from_string(legacy_body)
    assert result.read("2019/5/1/old.prefect_result").value == ("old", 1)


def test_handler_reads_objects_gcs_result_wrote(handler: GCSResultHandler, result: GCSResult) -> None:
    written = result.write({"written": "after the upgrade"})
    assert handler.read(written.location) == {"written": "after the upgrade"}
