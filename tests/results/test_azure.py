"""AzureResult against a real Azure Blob Storage server (Azurite over HTTP): names, errors, large values, pickling
and forking.

The storage contract shared with every backend (round trips, exists, not found, caching) runs in
test_contract.py; this file covers what is particular to Azure.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import time
from typing import Any

import cloudpickle
import pytest

from compat import ArgumentTypeError, AzureResult, JSONSerializer, LocationError, ResultNotFound, StorageError
from tests.fixtures.azure_server import connection_string
from tests.results.test_s3 import run_python

MB = 1024 * 1024
WRONG_KEY = "d3Jvbmcga2V5"  # base64, so the SDK signs with it and the server refuses the signature


@pytest.fixture
def result(azure_container: str) -> AzureResult:
    return AzureResult(container=azure_container)


def at(result: AzureResult, name: str) -> AzureResult:
    """A copy of ``result`` that writes to ``name``."""
    located = result.copy()
    located.location = name
    return located


def blob_names(azure_service: Any, container: str) -> list[str]:
    return [blob.name for blob in azure_service.get_container_client(container).list_blobs()]


# -- names -----------------------------------------------------------------------------------------------------------


def test_templated_location_becomes_the_blob_name(result: AzureResult, azure_service: Any) -> None:
    result.location = "runs/{flow_name}/{task_name}-{map_index}.pkl"
    written = result.write("v", flow_name="etl", task_name="load", map_index=3)
    assert written.location == "runs/etl/load-3.pkl"
    assert blob_names(azure_service, result.container) == ["runs/etl/load-3.pkl"]


def test_write_without_location_picks_a_new_name(result: AzureResult, azure_service: Any) -> None:
    written = result.write("v")
    assert blob_names(azure_service, result.container) == [written.location]


def test_az_uri_of_the_same_container_reads_the_blob(result: AzureResult) -> None:
    at(result, "a/b.pkl").write("v")
    assert result.read(f"az://{result.container}/a/b.pkl").value == "v"


def test_az_uri_of_another_container_is_refused(result: AzureResult) -> None:
    with pytest.raises(LocationError, match=rf"names the container 'elsewhere'.*stores in '{result.container}'"):
        result.read("az://elsewhere/a.pkl")


def test_empty_name_is_refused_with_an_example(result: AzureResult) -> None:
    with pytest.raises(LocationError, match="names no blob"):
        at(result, "").write("v")


def test_name_longer_than_azure_allows_is_refused(result: AzureResult) -> None:
    with pytest.raises(LocationError, match="longer than Azure's limit of 1024 characters"):
        at(result, "k" * 1025).write("v")


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_missing_blob_error_names_container_and_blob(result: AzureResult) -> None:
    with pytest.raises(ResultNotFound, match=rf"az://{result.container}/absent\.pkl.*nothing is stored.*BlobNotFound"):
        result.read("absent.pkl")


def test_exists_on_a_missing_container_raises_instead_of_answering_false(azure_endpoint: str) -> None:
    with pytest.raises(StorageError, match=r"az://no-such-container/x\.pkl: the container does not exist") as info:
        AzureResult(container="no-such-container").exists("x.pkl")
    assert not isinstance(info.value, ResultNotFound)
    assert info.value.__cause__ is not None


def test_read_from_a_missing_container_says_the_container_is_missing(azure_endpoint: str) -> None:
    with pytest.raises(StorageError, match=r"cannot read az://no-such-container/x\.pkl: the container does not exist"):
        AzureResult(container="no-such-container").read("x.pkl")


def test_write_to_a_missing_container_says_the_container_is_missing(azure_endpoint: str) -> None:
    result = at(AzureResult(container="no-such-container"), "x.pkl")
    with pytest.raises(StorageError, match=r"cannot write az://no-such-container/x\.pkl: the container does not"):
        result.write("v")


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


def test_a_container_holding_a_path_is_refused_saying_where_the_path_goes() -> None:
    with pytest.raises(LocationError, match=r"'a/b' is not a valid container name .*container='a', location='b/"):
        AzureResult(container="a/b")


def test_a_container_name_with_two_hyphens_in_a_row_is_refused() -> None:
    with pytest.raises(LocationError, match="single '-' between them"):
        AzureResult(container="my--results")


def test_azures_special_root_container_is_accepted() -> None:
    assert AzureResult(container="$root").container == "$root"


def test_unreachable_endpoint_raises_naming_the_endpoint(azure_container: str) -> None:
    with socket.socket() as probe:  # a port that was just free, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = AzureResult(
        container=azure_container,
        connection_string=connection_string(f"http://127.0.0.1:{port}"),
        client_kwargs={"retry_total": 0},
    )
    with pytest.raises(StorageError, match=rf"connection to the Azure endpoint http://127\.0\.0\.1:{port}/\S+ failed"):
        result.exists("x.pkl")


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


def test_without_the_sdk_using_the_backend_says_what_to_install() -> None:
    out = run_python(
        """
        import sys
        sys.modules["azure.storage.blob"] = None  # as if the azure extra were not installed
        from compat import AzureResult, MissingDependency
        try:
            AzureResult(container="c", connection_string="UseDevelopmentStorage=true").exists("x")
        except MissingDependency as exc:
            print(exc)
        """
    )
    assert "pip install 'results-compat[azure]'" in out


# -- large values --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_value_of_70_mb_round_trips_through_blocks_committed_at_once(result: AzureResult) -> None:
    value = os.urandom(70 * MB)  # above the SDK's 64 MB single Put Blob
    written = at(result, "big.pkl").write(value)
    assert result.read(written.location).value == value


# -- the client: lazy, shared by copies, never pickled, rebuilt after fork ----------------------------------------


def test_copies_share_one_client(result: AzureResult) -> None:
    assert result.format(task_name="t").client is result.client


def test_pickled_result_leaves_its_client_behind(result: AzureResult) -> None:
    at(result, "p.pkl").write("v")  # the client now exists
    clone = pickle.loads(pickle.dumps(result))
    assert not clone._clients.built
    assert clone.read("p.pkl").value == "v"


def test_cloudpickled_result_reads_from_the_server_in_another_process(result: AzureResult) -> None:
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


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_builds_its_own_client_and_reads(result: AzureResult) -> None:
    at(result, "forked.pkl").write("from the parent")
    parent_client = result.client
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's cleanup
        try:
            report = {"own_client": result.client is not parent_client, "value": result.read("forked.pkl").value}
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = json.loads(pipe.read() or b"{}")
    os.waitpid(pid, 0)
    assert report == {"own_client": True, "value": "from the parent"}


def test_repr_shows_container_and_location_but_no_connection_string(azure_endpoint: str) -> None:
    result = AzureResult(container="c", connection_string=connection_string(azure_endpoint), location="{x}.pkl")
    assert repr(result) == "AzureResult(container='c', location='{x}.pkl')"


def test_modified_at_is_the_blobs_last_modified(result: AzureResult, azure_service: Any) -> None:
    at(result, "m.pkl").write(1)
    properties = azure_service.get_blob_client(result.container, "m.pkl").get_blob_properties()
    assert result.modified_at("m.pkl") == properties.last_modified


def test_json_serializer_stores_plain_json(azure_container: str, azure_service: Any) -> None:
    result = AzureResult(container=azure_container, serializer=JSONSerializer())
    at(result, "doc.json").write({"a": [1, 2]})
    body = azure_service.get_blob_client(azure_container, "doc.json").download_blob().readall()
    assert json.loads(body) == {"a": [1, 2]}
    assert result.read("doc.json").value == {"a": [1, 2]}
