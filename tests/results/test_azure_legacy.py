"""The legacy AzureResultHandler works as it did, and AzureResult reads what it (or the pre-upgrade handler)
wrote."""

from __future__ import annotations

import base64
import pickle
import re
import warnings
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pytest

from compat import AzureResult, LegacyHandlerWarning, LegacyResultWarning, ResultNotFound, as_result
from compat.deprecations import message, rename_for
from compat.legacy import AzureResultHandler
from tests.fixtures.azure_server import connection_string


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        yield


@pytest.fixture
def handler(quiet: None, azure_container: str) -> AzureResultHandler:
    return AzureResultHandler(container=azure_container)


@pytest.fixture
def result(azure_container: str) -> AzureResult:
    return AzureResult(container=azure_container)


def blob_bytes(azure_service: Any, container: str, name: str) -> bytes:
    return azure_service.get_blob_client(container, name).download_blob().readall()  # type: ignore[no-any-return]


# -- the handler, as it was ------------------------------------------------------------------------------------------


def test_handler_write_returns_the_name_of_a_new_dated_blob(handler: AzureResultHandler, azure_service: Any) -> None:
    name = handler.write({"a": 1})
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.prefect_result", name)
    assert blob_bytes(azure_service, handler.container, name)


def test_handler_stores_base64_of_cloudpickle_bytes(handler: AzureResultHandler, azure_service: Any) -> None:
    name = handler.write([1, 2, 3])
    body = blob_bytes(azure_service, handler.container, name)
    assert cloudpickle.loads(base64.b64decode(body, validate=True)) == [1, 2, 3]


def test_handler_reads_back_what_it_wrote(handler: AzureResultHandler) -> None:
    assert handler.read(handler.write({"k": "v"})) == {"k": "v"}


def test_handler_gives_each_write_a_new_name(handler: AzureResultHandler) -> None:
    first, second = handler.write("a"), handler.write("b")
    assert first != second and (handler.read(first), handler.read(second)) == ("a", "b")


def test_handler_reading_a_missing_name_raises_file_not_found(handler: AzureResultHandler) -> None:
    with pytest.raises(ResultNotFound) as info:
        handler.read("2020/01/01/missing.prefect_result")
    assert isinstance(info.value, FileNotFoundError)


def test_handler_with_a_connection_string_uses_it(quiet: None, azure_container: str, azure_endpoint: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    given = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    assert given.read(given.write("explicit")) == "explicit"


def test_instantiating_the_handler_warns_with_the_tables_message(azure_container: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        AzureResultHandler(container=azure_container)
    assert [(w.category, w.filename) for w in caught] == [(LegacyHandlerWarning, __file__)]
    assert str(caught[0].message) == message(rename_for("class", "AzureResultHandler"))


def test_the_warning_says_azure_credentials_secret_is_dropped(azure_container: str) -> None:
    with pytest.warns(LegacyHandlerWarning, match=r"azure_credentials_secret= is dropped"):
        AzureResultHandler(azure_container, None, "AZ_CREDENTIALS")


def test_handler_keeps_azure_credentials_secret_as_given(quiet: None, azure_container: str) -> None:
    handler = AzureResultHandler(azure_container, azure_credentials_secret="AZ_CREDENTIALS")
    assert handler.azure_credentials_secret == "AZ_CREDENTIALS"


def test_handler_survives_pickling_and_reads_afterwards(handler: AzureResultHandler) -> None:
    name = handler.write("kept")
    clone = pickle.loads(cloudpickle.dumps(handler))
    assert clone == handler and clone.read(name) == "kept"


def test_handler_repr_hides_the_connection_string(quiet: None, azure_container: str, azure_endpoint: str) -> None:
    handler = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    assert repr(handler) == f"AzureResultHandler(container={azure_container!r})"


# -- the way across: adapters and format detection -------------------------------------------------------------


def test_as_result_turns_the_handler_into_an_azure_result_with_its_settings(
    quiet: None, azure_container: str, azure_endpoint: str
) -> None:
    handler = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    converted = as_result(handler)
    assert type(converted) is AzureResult
    assert (converted.container, converted.connection_string) == (handler.container, handler.connection_string)


def test_azure_result_reads_blobs_the_legacy_handler_wrote(handler: AzureResultHandler, result: AzureResult) -> None:
    name = handler.write({"written": "before the upgrade"})
    assert result.read(name).value == {"written": "before the upgrade"}


def test_azure_result_reads_legacy_blobs_uploaded_as_text(result: AzureResult, azure_service: Any) -> None:
    legacy_text = base64.b64encode(cloudpickle.dumps(("old", 1))).decode()  # what Prefect 0.10 uploaded (text)
    azure_service.get_blob_client(result.container, "2019/5/1/old.prefect_result").upload_blob(legacy_text)
    assert result.read("2019/5/1/old.prefect_result").value == ("old", 1)


def test_handler_reads_blobs_azure_result_wrote(handler: AzureResultHandler, result: AzureResult) -> None:
    written = result.write({"written": "after the upgrade"})
    assert handler.read(written.location) == {"written": "after the upgrade"}
