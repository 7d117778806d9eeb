"""The bridge's restored handlers sign and verify with $RESULTS_COMPAT_SIGNING_KEY on the real Prefect 1.4.1: a
pickle planted at a 0.13-style flow's target never runs its code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prefect import Flow, task
from prefect.engine.result_handlers import LocalResultHandler

from compat import PickleSerializer, UntrustedData
from compat.results.serializers import SIGNED_MAGIC, SIGNING_KEY_VARIABLE
from compat.results.signing import key_id, parse_header
from tests.results.test_signing import planted


@pytest.fixture
def signing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "k")


def test_a_pickle_planted_at_a_legacy_flows_target_never_runs(
    quiet: None, checkpointing: None, signing: None, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "total.pkl").write_bytes(planted(marker))

    @task(result_handler=LocalResultHandler(dir=str(tmp_path)), target="total.pkl")
    def total() -> int:
        return 42

    with Flow("legacy") as flow:
        node = total()

    state = flow.run()
    assert not marker.exists(), "the planted pickle ran its code"
    assert not state.result[node].is_successful()  # Prefect 1.x fails a task whose target cannot be read
    assert isinstance(state.result[node].result, UntrustedData)


def test_a_legacy_flows_target_is_signed_and_cached_on_the_next_run(
    quiet: None, checkpointing: None, signing: None, tmp_path: Path
) -> None:
    @task(result_handler=LocalResultHandler(dir=str(tmp_path)), target="total.pkl")
    def total() -> int:
        return 42

    with Flow("legacy") as flow:
        node = total()

    assert flow.run().result[node].result == 42
    stored = (tmp_path / "total.pkl").read_bytes()
    assert stored.startswith(SIGNED_MAGIC) and parse_header(stored).key_id == key_id("k")
    second = flow.run().result[node]
    assert second.is_cached() and second.result == 42


def test_the_handler_signs_what_it_writes_for_its_file(quiet: None, signing: None, tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path))
    uri = handler.write({"a": 1})
    header = parse_header(Path(uri).read_bytes())
    assert header.location == os.path.basename(uri)
    assert handler.read(uri) == {"a": 1}


def test_the_handler_refuses_a_planted_pickle_unread(quiet: None, signing: None, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "planted").write_bytes(planted(marker))
    with pytest.raises(UntrustedData, match="unsigned"):
        LocalResultHandler(dir=str(tmp_path)).read(str(tmp_path / "planted"))
    assert not marker.exists()


def test_the_handler_refuses_a_signed_file_moved_from_another_name(quiet: None, signing: None, tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path))
    uri = handler.write("theirs")
    os.rename(uri, tmp_path / "mine")
    with pytest.raises(UntrustedData, match="for the location"):
        handler.read(str(tmp_path / "mine"))


def test_without_a_key_the_handler_writes_plain_cloudpickle_as_0_13_did(
    quiet: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    uri = LocalResultHandler(dir=str(tmp_path)).write([1, 2])
    assert Path(uri).read_bytes()[:1] == b"\x80"
    assert PickleSerializer().deserialize(Path(uri).read_bytes()) == [1, 2]
