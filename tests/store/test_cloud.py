"""``ls``, ``gc`` and ``show`` on S3, GCS and Azure servers (moto, gcp-storage-emulator, Azurite): one listing per
root, hostile names, foreign objects, and removal only of what is still as listed."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from compat.results.leases import Holder, lease_body
from compat.store import ObjectRoot, Rules, collect, decide, describe, list_root
from compat.store.lease_watch import watched
from compat.store.cli import main
from tests.fixtures.gcs_server import EMULATOR_LOGGER
from tests.results.stores import Store
from tests.store.helpers import RECORD_SUFFIX, record_json

OLD = "2020-01-01T00:00:00.000000Z"


def root_of(store: Store, prefix: str = "") -> ObjectRoot:
    from compat.results.serializers import JSONSerializer

    return ObjectRoot(store.result(serializer=JSONSerializer()), prefix)


def stored_output(store: Store, name: str, data: bytes = b"\x80\x05K\x01.", **fields: object) -> None:
    """An output and the record that describes it, its identity as the store's listing reports it."""
    store.put(name, data)
    root = root_of(store)
    (listed,) = [item for item in root.objects() if item.name == name]
    store.put(name + RECORD_SUFFIX, record_json(name, data, dict(listed.identity or {}), **fields))  # type: ignore[arg-type]


def test_ls_pairs_outputs_with_records_and_names_the_rest(store: Store) -> None:
    stored_output(store, "runs/etl/raw.pkl", task="extract", run_id="r1")
    store.put("runs/etl/raw.pkl.unreadable-20261201T101010.123456Z", b"bad")
    store.put("runs/etl/raw.pkl.lease", b"{}")
    store.put("runs/foreign object.bin", b"someone's")
    store.put("elsewhere/not-listed.pkl", b"x")
    listing = list_root(root_of(store, "runs/"))
    assert {(e.location, e.kind, e.record_note) for e in listing.entries} == {
        ("runs/etl/raw.pkl", "output", "yes"),
        ("runs/etl/raw.pkl.unreadable-20261201T101010.123456Z", "kept-aside", "-"),
        ("runs/etl/raw.pkl.lease", "lease", "-"),
        ("runs/foreign object.bin", "output", "none"),
    }
    (output,) = [e for e in listing.entries if e.record is not None]
    assert (output.record.task, output.record.run_id) == ("extract", "r1")


def test_a_record_written_by_a_result_pairs_with_its_output(store: Store) -> None:
    from compat.results.records import Provenance

    writer = store.result(location="runs/{task_name}.pkl")
    writer.provenance = Provenance(flow="etl", task="extract", run_id="r9")
    writer.write([1, 2, 3], task_name="extract")
    (entry,) = list_root(root_of(store)).entries
    assert (entry.location, entry.record_note, entry.record.run_id) == ("runs/extract.pkl", "yes", "r9")


def test_a_record_for_other_bytes_is_not_believed(store: Store) -> None:
    stored_output(store, "raw.pkl")
    store.put("raw.pkl", b"rewritten without a record")
    (entry,) = list_root(root_of(store)).entries
    assert (entry.record, entry.record_note) == (None, "for other bytes")


def test_gc_dry_run_equals_gc_and_keeps_what_it_cannot_account_for(store: Store) -> None:
    stored_output(store, "old one.pkl", written_at=OLD, run_id="a")
    stored_output(store, "dir/old two.pkl", written_at=OLD, run_id="b")
    store.put("dir/old two.pkl.unreadable-20200101T000000.000000Z", b"bad")
    store.put("foreign.pkl", b"no record")
    rules = Rules(older_than=timedelta(days=30), unreadable=True)
    would = collect(root_of(store), rules, dry_run=True)
    done = collect(root_of(store), rules)
    assert [r.to_dict() for r in would.removed] == [r.to_dict() for r in done.removed]
    assert [r.entry.location for r in done.removed] == ["dir/old two.pkl", "old one.pkl"]
    assert store.names() == ["dir/old two.pkl.unreadable-20200101T000000.000000Z", "foreign.pkl"]  # copy: just made
    assert [r.entry.location for r in collect(root_of(store), Rules(unreadable=True)).removed] == [
        "dir/old two.pkl.unreadable-20200101T000000.000000Z"]
    assert store.names() == ["foreign.pkl"]


@pytest.mark.parametrize("store", ["azure", "s3"], indirect=True)  # GCS: no server here refuses such a delete
def test_gc_leaves_an_object_rewritten_after_the_listing(store: Store) -> None:
    stored_output(store, "raw.pkl", written_at=OLD)
    from compat.store.gc import _remove, decide

    root = root_of(store)
    (chosen,) = decide(list_root(root), Rules(older_than=timedelta(days=1)))
    store.put("raw.pkl", b"a new run's output")
    assert _remove(root, chosen.entry) == "changed or removed since it was listed: left alone"
    assert store.get("raw.pkl") == b"a new run's output"


def test_show_reads_the_signature_of_a_legacy_handlers_object(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESULTS_COMPAT_SIGNING_KEY", raising=False)
    store.put("legacy.pkl", b"gAVLAS4=")  # base64 of a pickle, as the legacy handlers write
    found = describe(root_of(store), "legacy.pkl")
    assert (found.format, found.signature) == ("pickle (protocol 5) in a legacy handler's base64 text", "unsigned")


def test_the_command_line_lists_a_bucket_prefix(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in _environment(store).items():
        monkeypatch.setenv(name, value)
    stored_output(store, "runs/raw.pkl", task="extract")
    assert main(["ls", store.uri("runs"), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["entries"]
    assert (row["uri"], row["task"]) == (store.uri("runs/raw.pkl"), "extract")


def _environment(store: Store) -> dict[str, str]:
    """What the command line needs in the environment to reach the store's server (GCS and Azure: set by the
    fixtures already)."""
    if store.backend != "s3":
        return {}
    kwargs = store.options["boto3_kwargs"]
    return {"AWS_ENDPOINT_URL": kwargs["endpoint_url"], "AWS_ACCESS_KEY_ID": kwargs["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": kwargs["aws_secret_access_key"], "AWS_DEFAULT_REGION": kwargs["region_name"]}


def test_touch_accepts_a_legacy_handlers_objects_and_the_run_is_cached(store: Store) -> None:
    import base64
    import pickle

    from compat import Flow, Parameter, task
    from compat.store.accept import touch

    @task(target="etl/raw-{day}.pkl")
    def extract(day: str) -> list[int]:
        return [1, 2, 3]

    @task(target="etl/total-{day}.pkl")
    def total(rows: list[int]) -> int:
        return sum(rows)

    with Flow("etl", result=store.result(), invalidate_on=("code", "inputs")) as flow:
        total(extract(Parameter("day", default="2026-11-25")))
    store.put("etl/raw-2026-11-25.pkl", base64.b64encode(pickle.dumps([1, 2, 3], protocol=4)))  # as legacy handlers
    store.put("etl/total-2026-11-25.pkl", base64.b64encode(pickle.dumps(6, protocol=4)))
    assert [item.record is not None for item in touch(flow)] == [True, True]
    state = flow.run()
    assert {t.name: (type(s).__name__, s.code) for t, s in state.result.items() if t.name != "day"} == {
        "extract": ("Cached", "exists"), "total": ("Cached", "exists")}


@pytest.mark.parametrize("store", ["gcs"], indirect=True)
def test_gc_deletes_on_gcs_only_the_generations_it_listed(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Neither gcp-storage-emulator nor fake-gcs-server 1.54 refuses a delete whose ifGenerationMatch does not hold
    (GCS does), so what can be checked is that gc asks for it: the emulator logs each request line."""
    from compat.store.gc import _remove

    stored_output(store, "raw.pkl", written_at=OLD)
    root = root_of(store)
    (chosen,) = decide(list_root(root), Rules(older_than=timedelta(days=1)))
    assert chosen.entry.found is not None and chosen.entry.record_found is not None
    with caplog.at_level(logging.INFO, logger=EMULATOR_LOGGER):
        assert _remove(root, chosen.entry) is None
    deletes = [record.getMessage() for record in caplog.records
               if record.name.startswith(EMULATOR_LOGGER) and "DELETE" in record.getMessage()]
    assert len(deletes) == 2
    assert f"ifGenerationMatch={chosen.entry.found.version}" in deletes[0] and "raw.pkl?" in deletes[0]
    assert f"ifGenerationMatch={chosen.entry.record_found.version}" in deletes[1]


# -- leases (issue 25): gc collects those nobody holds, by the rule a waiting run takes one over by --------------

VERSIONED = pytest.mark.parametrize("store", ["gcs", "s3"], indirect=True)
"""Stores whose lease is an object its holder renews by replacing it (stale: unrenewed for its ttl)."""

AZURE = pytest.mark.parametrize("store", ["azure"], indirect=True)
"""Azure: a blob lease, which the service expires; the listing says whether it is held."""


@VERSIONED
def test_gc_removes_a_lease_object_left_unrenewed_for_its_ttl_naming_who_left_it(store: Store) -> None:
    store.put("x.pkl.lease", lease_body(Holder.new("the dead one"), 0.3, 0))
    would = collect(root_of(store), Rules(), dry_run=True)
    done = collect(root_of(store), Rules())
    assert [r.to_dict() for r in would.removed] == [r.to_dict() for r in done.removed]
    (removal,) = done.removed
    assert removal.entry.location == "x.pkl.lease" and "'the dead one'" in removal.why and "ttl of 0.3 s" in removal.why
    assert store.names() == []


@VERSIONED
def test_gc_leaves_a_lease_object_its_holder_renews(store: Store) -> None:
    held = store.result().take_lease("x.pkl", Holder.new("alive"), 1.5)  # renewed every 0.5 s while gc watches
    try:
        done = collect(root_of(store), Rules())
        assert done.removed == [] and done.skipped == []
        assert store.result().lease_holder("x.pkl") == held.holder
    finally:
        held.release()


@VERSIONED
def test_a_lease_object_renewed_while_gc_watches_it_is_left(store: Store) -> None:
    holder = Holder.new("slow but alive")
    store.put("x.pkl.lease", lease_body(holder, 0.3, 0))
    listing = list_root(root_of(store))
    renewed = watched(listing, sleep=lambda _: store.put("x.pkl.lease", lease_body(holder, 0.3, 1)))
    (entry,) = renewed.entries
    assert (entry.accounted, entry.note) == (False, f"held by {holder.describe()} (renewed while gc watched it)")
    assert decide(renewed, Rules()) == []


@VERSIONED
def test_a_lease_object_whose_ttl_is_longer_than_gc_watches_is_left_saying_so(store: Store) -> None:
    store.put("x.pkl.lease", lease_body(Holder.new("patient"), 600, 0))
    done = collect(root_of(store), Rules(), lease_watch=0.1)
    assert done.removed == [] and store.names() == ["x.pkl.lease"]
    (entry,) = watched(list_root(root_of(store)), limit=0.1).entries
    assert "its ttl of 600 s is longer than gc watches a lease (0.1 s)" in entry.note


@AZURE
def test_gc_removes_an_azure_lease_blob_whose_lease_is_over(store: Store, azure_service: Any) -> None:
    from azure.storage.blob import BlobLeaseClient

    store.put("x.pkl.lease", Holder.new("the dead one").to_json())
    blob = azure_service.get_container_client(store.name).get_blob_client("x.pkl.lease")
    lease = BlobLeaseClient(blob)
    lease.acquire(lease_duration=15)
    lease.break_lease(lease_break_period=0)  # over at once, as Azure ends the lease of a holder that stopped renewing
    (entry,) = list_root(root_of(store)).entries
    assert (entry.kind, entry.note, entry.accounted) == ("lease", "stale: nobody holds it", True)
    would = collect(root_of(store), Rules(), dry_run=True)
    done = collect(root_of(store), Rules())
    assert [r.to_dict() for r in would.removed] == [r.to_dict() for r in done.removed]
    assert [r.entry.location for r in done.removed] == ["x.pkl.lease"] and store.names() == []


@AZURE
def test_gc_never_removes_an_azure_lease_blob_that_is_held(store: Store) -> None:
    held = store.result().take_lease("x.pkl", Holder.new("alive"), 15)
    try:
        (entry,) = list_root(root_of(store)).entries
        assert (entry.note, entry.accounted) == ("held (an Azure blob lease)", False)
        assert collect(root_of(store), Rules()).removed == []
        assert store.result().lease_holder("x.pkl") == held.holder
    finally:
        held.release()


@AZURE
def test_an_azure_lease_taken_after_the_listing_keeps_its_blob(store: Store) -> None:
    store.put("x.pkl.lease", b"")  # as a run makes it, just before it acquires the lease
    root = root_of(store)
    listing = list_root(root)
    held = store.result().take_lease("x.pkl", Holder.new("just in time"), 15)
    try:
        (removal,) = decide(listing, Rules())
        assert not root.remove(removal.entry.found)  # a leased blob is deleted only with its lease id
        assert store.result().lease_holder("x.pkl") == held.holder
    finally:
        held.release()


def test_gc_lease_watch_takes_seconds(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc", "--lease-watch", "soon", str(tmp_path)]) == 2
    assert "'soon' is not a number of seconds" in capsys.readouterr().err


# -- records kept on this machine by their listed version (compat.store.record_cache) ----------------------------


def counting_reads(root: ObjectRoot) -> list[str]:
    """The names ``root`` reads from now on (each a request to the store)."""
    reads: list[str] = []
    read = root.read
    root.read = lambda name, limit=None: reads.append(name) or read(name, limit)  # type: ignore[method-assign]
    return reads


def test_a_second_listing_reads_only_the_records_rewritten_since(store: Store) -> None:
    stored_output(store, "a.pkl", run_id="r1")
    stored_output(store, "b.pkl", run_id="r1")
    assert len(list_root(root_of(store)).entries) == 2  # both records read, and kept
    stored_output(store, "b.pkl", data=b"\x80\x05K\x02.", run_id="r2")
    root = root_of(store)
    reads = counting_reads(root)
    listing = list_root(root)
    assert reads == ["b.pkl" + RECORD_SUFFIX]
    assert {entry.location: (entry.record_note, entry.record.run_id) for entry in listing.entries} == {
        "a.pkl": ("yes", "r1"), "b.pkl": ("yes", "r2")}


def test_with_the_cache_turned_off_every_listing_reads_every_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_CACHE_DIR", "")
    stored_output(store, "a.pkl")
    list_root(root_of(store))
    root = root_of(store)
    reads = counting_reads(root)
    list_root(root)
    assert reads == ["a.pkl" + RECORD_SUFFIX]


def test_a_kept_record_is_checked_as_if_just_read(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_CACHE_DIR", str(tmp_path))
    stored_output(store, "a.pkl", run_id="r1")
    list_root(root_of(store))  # kept unsigned
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "k" * 32)
    (entry,) = list_root(root_of(store)).entries
    assert (entry.record, entry.record_note) == (None, "untrusted (its signature)")


def test_ls_brief_reads_no_record(store: Store, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in _environment(store).items():
        monkeypatch.setenv(name, value)
    stored_output(store, "a.pkl", run_id="r1")
    root = root_of(store)
    reads = counting_reads(root)
    (entry,) = list_root(root, records=False).entries
    assert reads == [] and (entry.location, entry.record, entry.record_note) == ("a.pkl", None, "not read")
    assert main(["ls", "--brief", store.uri("")]) == 0
    assert "not read" in capsys.readouterr().out


def test_kept_records_others_could_have_written_are_not_used(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_CACHE_DIR", str(tmp_path))
    stored_output(store, "a.pkl")
    list_root(root_of(store))
    (kept,) = tmp_path.glob("records-*.json")
    kept.chmod(0o666)  # as if planted, or left open to every user
    root = root_of(store)
    reads = counting_reads(root)
    list_root(root)
    assert reads == ["a.pkl" + RECORD_SUFFIX]


@VERSIONED
def test_gc_says_it_is_watching_leases_and_then_what_it_would_remove(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in _environment(store).items():
        monkeypatch.setenv(name, value)
    store.put("x.pkl.lease", lease_body(Holder.new("the dead one"), 0.3, 0))
    assert main(["gc", "--dry-run", store.uri("")]) == 1
    said = capsys.readouterr()
    assert "watching 1 lease for " in said.err and "--lease-watch bounds it" in said.err
    assert f"would remove {store.uri('x.pkl.lease')}" in said.out and "lease nobody holds" in said.out
    assert store.names() == ["x.pkl.lease"]
