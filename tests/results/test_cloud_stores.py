"""What S3Result, GCSResult and AzureResult each do the same way, against each real server (the ``store`` fixture:
moto, gcp-storage-emulator, Azurite): names and URIs, errors translated at the boundary, the SDK client (lazy, shared
by copies, never pickled, rebuilt in another process), last-modified times and other serializers.

The storage contract every backend keeps (round trips, exists, not found, caching) runs in test_contract.py; what
only one backend does (its naming rules, credentials, bounded calls, large values) stays in test_s3.py, test_gcs.py
and test_azure.py.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
from collections.abc import Callable
from typing import BinaryIO

import cloudpickle
import pytest

from compat import JSONSerializer, LocationError, PickleSerializer, ResultNotFound, SerializationError, StorageError
from compat.results import _cloud
from tests.results.stores import Store, at, run_python

# -- names -----------------------------------------------------------------------------------------------------------


def test_templated_location_becomes_the_stored_name(store: Store) -> None:
    result = store.result(location="runs/{flow_name}/{task_name}-{map_index}.pkl")
    written = result.write("v", flow_name="etl", task_name="load", map_index=3)
    assert written.location == "runs/etl/load-3.pkl"
    assert store.names() == ["runs/etl/load-3.pkl"] and store.get("runs/etl/load-3.pkl")


def test_write_without_location_picks_a_new_name(store: Store) -> None:
    written = store.result().write("v")
    assert store.names() == [written.location]


def test_a_uri_of_the_same_store_reads_the_value(store: Store) -> None:
    written = at(store.result(), "a/b.pkl").write("v")
    assert written.location == "a/b.pkl"
    assert store.result().read(store.uri("a/b.pkl")).value == "v"


def test_a_uri_of_another_store_is_refused(store: Store) -> None:
    with pytest.raises(LocationError, match=rf"names the {store.kind} 'elsewhere'.*stores in '{store.name}'"):
        store.result().read(store.uri("a.pkl", "elsewhere"))


def test_a_value_rendered_into_a_location_cannot_change_the_store(store: Store) -> None:
    with pytest.raises(LocationError, match=f"names the {store.kind} 'elsewhere'"):
        at(store.result(), "{name}").write(1, name=store.uri("x.pkl", "elsewhere"))


def test_an_empty_name_is_refused_with_an_example(store: Store) -> None:
    with pytest.raises(LocationError, match=rf"names no {store.thing}; give one such as"):
        at(store.result(), "").write("v")


def test_a_name_longer_than_the_service_allows_is_refused(store: Store) -> None:
    with pytest.raises(LocationError, match=f"longer than {store.limit}"):
        at(store.result(), "k" * 1025).write("v")


def test_a_store_name_holding_a_path_is_refused_saying_where_the_path_goes(store: Store) -> None:
    kind = store.kind
    with pytest.raises(LocationError, match=rf"'a/b' is not a valid {kind} name .*{kind}='a', location='b/"):
        store.on("a/b")


# -- errors, translated at the boundary --------------------------------------------------------------------------


def test_a_missing_name_is_result_not_found_naming_store_and_name(store: Store) -> None:
    where = re.escape(store.uri("absent.pkl"))
    with pytest.raises(ResultNotFound, match=rf"{where}: nothing is stored .*{store.not_found}"):
        store.result().read("absent.pkl")


def test_exists_on_a_missing_store_raises_instead_of_answering_false(store: Store) -> None:
    missing = f"no-such-{store.kind}-here"
    where = re.escape(store.uri("x.pkl", missing))
    with pytest.raises(StorageError, match=rf"{where}: the {store.kind} does not exist") as info:
        store.on(missing).exists("x.pkl")
    assert not isinstance(info.value, ResultNotFound)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("action", ["read", "write"])
def test_reading_or_writing_in_a_missing_store_says_the_store_is_missing(store: Store, action: str) -> None:
    missing = f"no-such-{store.kind}-here"
    result = at(store.on(missing), "x.pkl")
    where = re.escape(store.uri("x.pkl", missing))
    with pytest.raises(StorageError, match=rf"cannot {action} {where}: the {store.kind} does not exist"):
        result.read("x.pkl") if action == "read" else result.write("v")


def test_an_unreachable_endpoint_is_a_storage_error_naming_it(store: Store) -> None:
    with socket.socket() as probe:  # a port that was just free, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    said = rf"connection to the {store.service} endpoint {re.escape(endpoint)}\S* failed"
    with pytest.raises(StorageError, match=said):
        store.reaching(endpoint).exists("x.pkl")


@pytest.mark.parametrize(
    ("result_class", "arguments", "module", "extra"),
    [("S3Result", "bucket='b'", "boto3", "s3"), ("GCSResult", "bucket='b'", "google.cloud.storage", "gcs"),
     ("AzureResult", "container='c'", "azure.storage.blob", "azure")],  # fmt: skip
)
def test_without_the_sdk_using_the_backend_says_what_to_install(
    result_class: str, arguments: str, module: str, extra: str
) -> None:
    out = run_python(
        f"""
        import sys
        sys.modules[{module!r}] = None  # as if the extra were not installed
        from compat import MissingDependency, {result_class}
        try:
            {result_class}({arguments}).exists("x")
        except MissingDependency as exc:
            print(exc)
        """
    )
    assert f"pip install 'results-compat[{extra}]'" in out


# -- the client: lazy, shared by copies, never pickled, rebuilt in another process --------------------------------


def test_copies_share_one_client(store: Store) -> None:
    result = store.result()
    assert result.format(task_name="t").client is result.client


def test_a_pickled_result_leaves_its_client_behind(store: Store) -> None:
    result = store.result()
    at(result, "p.pkl").write("v")  # the client now exists
    clone = pickle.loads(pickle.dumps(result))
    assert store.built(result) and not store.built(clone)
    assert clone.read("p.pkl").value == "v"


def test_a_cloudpickled_result_reads_from_the_server_in_another_process(store: Store) -> None:
    result = store.result()
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
def test_a_forked_child_builds_its_own_client_and_reads(store: Store) -> None:
    result = store.result()
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


def test_repr_shows_the_store_and_location_but_no_credentials(store: Store) -> None:
    result = store.result(**store.explicit, location="{task_name}.pkl")
    expected = f"{store.result_class.__name__}({store.kind}={store.name!r}, location='{{task_name}}.pkl')"
    assert repr(result) == expected


# -- what the service says about a stored value ------------------------------------------------------------------


def test_modified_at_is_the_last_modified_time_the_service_reports(store: Store) -> None:
    result = store.result()
    at(result, "m.pkl").write(1)
    assert result.modified_at("m.pkl") == store.modified("m.pkl")


def test_a_json_serializer_stores_plain_json(store: Store) -> None:
    result = store.result(serializer=JSONSerializer())
    at(result, "doc.json").write({"a": [1, 2]})
    assert json.loads(store.get("doc.json")) == {"a": [1, 2]}
    assert result.read("doc.json").value == {"a": [1, 2]}


ENDPOINTS = {"s3": "s3_endpoint", "gcs": "gcs_endpoint", "azure": "azure_endpoint"}


def test_a_read_cut_short_by_the_network_is_a_storage_error_and_the_value_stays(
    store: Store, request: pytest.FixtureRequest, cut_proxy: Callable[[str, int], str]
) -> None:
    value = os.urandom(400_000)
    at(store.result(), "v.pkl").write(value)
    stored = store.get("v.pkl")
    proxy = cut_proxy(request.getfixturevalue(ENDPOINTS[store.backend]), 200_000)  # half the value gets through
    with pytest.raises(StorageError) as raised:
        store.reaching(proxy).read("v.pkl")
    assert not isinstance(raised.value, SerializationError)
    assert store.names() == ["v.pkl"] and store.get("v.pkl") == stored  # nothing kept aside, nothing changed


class _Watching(PickleSerializer):
    """A PickleSerializer that notes which of its methods a Result used: whole bytes, or a stream."""

    used: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.used = []

    def serialize(self, value: object) -> bytes:
        self.used.append("serialize")
        return super().serialize(value)

    def deserialize(self, data: bytes) -> object:
        self.used.append("deserialize")
        return super().deserialize(data)

    def dump(self, value: object, stream: BinaryIO) -> None:
        self.used.append("dump")
        super().dump(value, stream)

    def load(self, stream: BinaryIO) -> object:
        self.used.append("load")
        return super().load(stream)


def test_a_value_is_streamed_to_and_from_the_store_never_held_as_whole_bytes(store: Store) -> None:
    serializer = _Watching()
    value = os.urandom(2_000_000)
    result = store.result(serializer=serializer)
    at(result, "v.pkl").write(value)
    assert result.read("v.pkl").value == value
    assert serializer.used == ["dump", "load"]


def test_a_large_value_loads_as_it_downloads_and_matches_what_was_written(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cloud, "_PIPE_SPILL", 64 * 1024)  # the loader thread starts early...
    monkeypatch.setattr(_cloud, "_PIPE_LIMIT", 256 * 1024)  # ...and the download waits for it often
    value = os.urandom(3_000_000)
    at(store.result(), "big.pkl").write(value)
    assert store.result().read("big.pkl").value == value


def test_a_read_cut_short_while_loading_on_the_loader_thread_is_a_storage_error(
    store: Store, request: pytest.FixtureRequest, cut_proxy: Callable[[str, int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cloud, "_PIPE_SPILL", 16 * 1024)  # the value is being loaded when the network is cut
    value = os.urandom(400_000)
    at(store.result(), "v.pkl").write(value)
    stored = store.get("v.pkl")
    proxy = cut_proxy(request.getfixturevalue(ENDPOINTS[store.backend]), 200_000)
    with pytest.raises(StorageError) as raised:
        store.reaching(proxy).read("v.pkl")
    assert not isinstance(raised.value, SerializationError)
    assert store.names() == ["v.pkl"] and store.get("v.pkl") == stored
