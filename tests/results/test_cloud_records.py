"""Records on S3, GCS and Azure, against their servers: the record is an object beside the output, names the
object's ETag or generation, and is ignored once the output is rewritten without it."""

from __future__ import annotations

import json
from typing import Any

from compat.results.records import RECORD_SUFFIX, Provenance, bytes_hash
from tests.results.stores import Store, at


def recording(result: Any, name: str) -> Any:
    target = at(result, name)
    target.provenance = Provenance(flow="f", task="t", run_id="r", inputs={"x": "sha256:1"})
    return target


def test_a_record_is_an_object_beside_the_output(store: Store) -> None:
    written = recording(store.result(), "out.pkl").write([1, 2])
    stored = json.loads(store.get("out.pkl" + RECORD_SUFFIX))
    assert stored["bytes_hash"] == bytes_hash(store.get("out.pkl")) and stored["inputs"] == {"x": "sha256:1"}
    assert store.result().record("out.pkl") == written.written_record


def test_an_object_rewritten_without_its_record_has_none(store: Store) -> None:
    written = recording(store.result(), "out.pkl").write("value")
    store.put("out.pkl", store.get("out.pkl") + b" ")  # a writer that stores no record
    assert store.result().record("out.pkl") is None
    assert written.written_record is not None


def test_a_write_once_result_writes_and_rewrites_its_record(store: Store) -> None:
    recording(store.result(overwrite=False), "once.pkl").write("first")
    store.put("once.pkl" + RECORD_SUFFIX, b"{}")  # a record left by someone else: replaced, not kept
    recording(store.result(overwrite=True), "once.pkl").write("second")
    result = store.result(overwrite=False)
    record = result.record("once.pkl")
    assert record is not None and result.read_checked("once.pkl", record)[1]


def test_read_checked_tells_bytes_the_record_does_not_describe(store: Store) -> None:
    written = recording(store.result(), "out.pkl").write("value")
    result = store.result()
    assert result.read_checked("out.pkl", written.written_record)[1]
    lying = type(written.written_record).from_dict({**written.written_record.to_dict(), "bytes_hash": "sha256:0"})
    assert not result.read_checked("out.pkl", lying)[1]
