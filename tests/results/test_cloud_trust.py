"""Signed pickles and untrusted bytes on S3, GCS and Azure, as test_signing.py shows for local files: with a signing
key a planted pickle is refused before it runs (raw, or base64 as the legacy handlers stored them), and a task whose
target holds one moves it aside (``keep_aside``) and stores its own output, never destroying the bytes.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from compat import Flow, PickleSerializer, Result, SerializationError, Success, UntrustedData, task
from compat.results.base import KEPT_ASIDE_COPIES
from compat.results.records import Provenance
from compat.results.serializers import SIGNING_KEY_VARIABLE
from tests.results.stores import Store
from tests.results.test_signing import planted

SIGNED = PickleSerializer(signing_key="k")


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)


@pytest.mark.parametrize("legacy_base64", [False, True], ids=["raw", "legacy-base64"])
def test_a_planted_pickle_is_refused_with_a_key(tmp_path: Path, store: Store, legacy_base64: bool) -> None:
    body = planted(tmp_path / "ran")
    store.put("v.pkl", base64.b64encode(body) if legacy_base64 else body)
    with pytest.raises(SerializationError, match="unsigned"):
        store.result(serializer=SIGNED).read("v.pkl")
    assert not (tmp_path / "ran").exists()


def test_a_signed_value_reads_back(store: Store) -> None:
    store.result(serializer=SIGNED, location="v.pkl").write({"v": 1})
    assert store.result(serializer=SIGNED).read("v.pkl").value == {"v": 1}


def test_keep_aside_moves_the_bytes_beside_and_frees_the_name(store: Store) -> None:
    store.put("v.pkl", b"unreadable")
    kept = store.result().keep_aside("v.pkl")
    assert kept is not None and kept.startswith("v.pkl.unreadable-")
    assert store.names() == [kept] and store.get(kept) == b"unreadable"


def test_keep_aside_of_nothing_keeps_nothing(store: Store) -> None:
    assert store.result().keep_aside("absent.pkl") is None


@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "write-once"])
def test_an_untrusted_object_at_a_target_is_kept_aside_and_the_task_writes_its_own(
    tmp_path: Path, store: Store, overwrite: bool
) -> None:
    store.put("total.pkl", planted(tmp_path / "ran"))

    @task(result=store.result(serializer=SIGNED, overwrite=overwrite), target="{task_name}.pkl")
    def total() -> int:
        return 42

    with Flow("f") as flow:
        node = total()
    state = flow.run().result[node]
    assert type(state) is Success and state.result == 42 and not (tmp_path / "ran").exists()
    names = store.names()
    assert names[:2] == ["total.pkl", "total.pkl.record.json"] and len(names) == 3
    assert names[2].startswith("total.pkl.unreadable-") and store.get(names[2]) == planted(tmp_path / "ran")
    assert store.result(serializer=SIGNED).read("total.pkl").value == 42


def test_only_the_newest_kept_aside_copies_of_a_target_are_kept(store: Store) -> None:
    result = store.result()
    kept = []
    for i in range(KEPT_ASIDE_COPIES + 2):
        store.put("v.pkl", b"unreadable %d" % i)
        kept.append(result.keep_aside("v.pkl"))
    assert store.names() == sorted(kept[-KEPT_ASIDE_COPIES:])


def recording(store: Store, run_id: str) -> Result:
    """A signing Result of ``store`` that writes a record with each output, as a task run's does."""
    result = store.result(serializer=SIGNED, location="total.pkl")
    result.provenance = Provenance(flow="f", task="total", run_id=run_id)
    return result


def test_an_older_signed_copy_of_the_same_target_put_back_is_refused(store: Store) -> None:
    recording(store, "run-1").write("older")
    older = store.get("total.pkl")
    recording(store, "run-2").write("newer")
    store.put("total.pkl", older)
    with pytest.raises(UntrustedData, match="older copy of this target put back"):
        store.result(serializer=SIGNED).read("total.pkl")


def test_the_newest_signed_value_stored_again_unchanged_still_reads(store: Store) -> None:
    recording(store, "run-1").write("older")
    recording(store, "run-2").write("newer")
    store.put("total.pkl", store.get("total.pkl"))  # the same bytes anew (a new generation on GCS)
    assert store.result(serializer=SIGNED).read("total.pkl").value == "newer"
