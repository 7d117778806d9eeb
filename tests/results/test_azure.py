"""AzureResult against a real Azure Blob Storage server (Azurite over HTTP): container names, connection strings
and account keys, bounded calls, large values.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in test_contract.py,
and what the three object stores do alike in test_cloud_stores.py; this file covers what is particular to Azure.
"""

from __future__ import annotations

import os
import pickle
import time
from typing import Any

import pytest

from compat import ArgumentTypeError, AzureResult, LocationError, StorageError
from tests.fixtures.azure_server import connection_string
from tests.results.stores import at

MB = 1024 * 1024
WRONG_KEY = "d3Jvbmcga2V5"  # base64, so the SDK signs with it and the server refuses the signature


@pytest.fixture
def result(azure_container: str) -> AzureResult:
    return AzureResult(container=azure_container)


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_exists_with_a_wrong_account_key_raises_naming_the_connection_string(
    result: AzureResult, azure_endpoint: str
) -> None:
    wrong = AzureResult(container=result.container, connection_string=connection_string(azure_endpoint, WRONG_KEY))
    with pytest.raises(StorageError, match=rf"az://{result.container}/x\.pkl: access was refused; check the connection"):
        wrong.exists("x.pkl")


def test_read_with_a_wrong_account_key_raises_and_shows_no_key(result: AzureResult, azure_endpoint: str) -> None:
    wrong = AzureResult(container=result.container, connection_string=connection_string(azure_endpoint, WRONG_KEY))
    with pytest.raises(StorageError, match=r"access was refused.*Azure said 403") as info:
        wrong.read("x.pkl")
    assert WRONG_KEY not in str(info.value)


def test_a_container_name_azure_would_refuse_is_refused_when_the_result_is_made() -> None:
    with pytest.raises(LocationError, match=r"AzureResult: 'Bad_Name' is not a valid container name \(lowercase"):
        AzureResult(container="Bad_Name")


def test_a_container_name_with_two_hyphens_in_a_row_is_refused() -> None:
    with pytest.raises(LocationError, match="single '-' between them"):
        AzureResult(container="my--results")


def test_azures_special_root_container_is_accepted() -> None:
    assert AzureResult(container="$root").container == "$root"


def test_a_stalled_endpoint_fails_the_call_within_the_timeouts_in_client_kwargs(stalled_endpoint: str) -> None:
    result = AzureResult(
        container="c",
        connection_string=connection_string(stalled_endpoint),
        client_kwargs={"read_timeout": 0.5, "retry_total": 1, "initial_backoff": 0, "random_jitter_range": 0},
    )
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"cannot look up az://c/k: .* did not answer in time .*Read timed out"):
        result.exists("k")
    assert time.monotonic() - start < 10


def test_azure_calls_are_bounded_by_default(stalled_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.results import azure

    assert azure.BOUNDED_CALLS["read_timeout"] <= 20 and azure.BOUNDED_CALLS["retry_total"] <= 2
    quick = {**azure.BOUNDED_CALLS, "read_timeout": 0.5, "retry_total": 0}  # the defaults would take a minute
    monkeypatch.setattr(azure, "BOUNDED_CALLS", quick)
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"az://c/k: the connection to the Azure endpoint .* did not answer"):
        AzureResult(container="c", connection_string=connection_string(stalled_endpoint)).read("k")
    assert time.monotonic() - start < 10


def test_without_a_connection_string_using_the_backend_says_where_to_give_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(StorageError, match=r"'c' has no connection string; pass connection_string= or set AZURE_"):
        AzureResult(container="c").exists("x.pkl")


def test_a_malformed_connection_string_raises_without_repeating_it() -> None:
    with pytest.raises(StorageError, match=r"the connection string is not valid") as info:
        AzureResult(container="c", connection_string="AccountKey=sekrit").exists("x.pkl")
    assert "sekrit" not in str(info.value)


def test_a_connection_string_that_is_not_a_str_is_an_argument_type_error() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        AzureResult(container="c", connection_string=b"AccountKey=sekrit")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "AzureResult: connection_string must be a str (None: AZURE_STORAGE_CONNECTION_STRING), not bytes "
        "(not shown: it may hold a secret)"
    )


# -- large values, in blocks committed at once --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_70_mb_round_trips_through_blocks_committed_at_once(result: AzureResult) -> None:
    value = os.urandom(70 * MB)  # above the SDK's 64 MB single Put Blob
    written = at(result, "big.pkl").write(value)
    assert result.read(written.location).value == value



@pytest.mark.slow
def test_a_large_write_once_is_refused_by_an_existing_value(result: AzureResult, azure_service: Any) -> None:
    once = at(AzureResult(container=result.container, overwrite=False), "target.pkl")
    once.write("first")
    big = b"x" * (65 * MB)  # above the SDK's single Put Blob: blocks, then one conditional Put Block List
    assert once.write(big).value == "first"
    stored = azure_service.get_blob_client(result.container, "target.pkl").download_blob().readall()
    assert pickle.loads(stored) == "first"
