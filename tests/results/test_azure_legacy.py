"""What the legacy AzureResultHandler does alone: a connection string given to it (used, converted, never shown) and
its azure_credentials_secret=, kept without an AzureResult equivalent. What the three object-store handlers share
(writing, reading, signing, conversion) runs in test_cloud_legacy.py."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from compat import AzureResult, LegacyHandlerWarning, LegacyResultWarning, as_result
from compat.legacy import AzureResultHandler
from tests.fixtures.azure_server import connection_string


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        yield


def test_handler_with_a_connection_string_uses_it(quiet: None, azure_container: str, azure_endpoint: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    given = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    assert given.read(given.write("explicit")) == "explicit"


def test_the_warning_says_azure_credentials_secret_is_dropped(azure_container: str) -> None:
    with pytest.warns(LegacyHandlerWarning, match=r"azure_credentials_secret= has none in AzureResult"):
        AzureResultHandler(azure_container, None, "AZ_CREDENTIALS")


def test_handler_keeps_azure_credentials_secret_as_given(quiet: None, azure_container: str) -> None:
    handler = AzureResultHandler(azure_container, azure_credentials_secret="AZ_CREDENTIALS")
    assert handler.azure_credentials_secret == "AZ_CREDENTIALS"


def test_handler_repr_hides_the_connection_string(quiet: None, azure_container: str, azure_endpoint: str) -> None:
    handler = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    assert repr(handler) == f"AzureResultHandler(container={azure_container!r})"


def test_as_result_keeps_the_connection_string_given_to_the_handler(
    quiet: None, azure_container: str, azure_endpoint: str
) -> None:
    handler = AzureResultHandler(azure_container, connection_string(azure_endpoint))
    converted = as_result(handler)
    assert type(converted) is AzureResult
    assert (converted.container, converted.connection_string) == (handler.container, handler.connection_string)
