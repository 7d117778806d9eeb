"""Signed pickles: with a key, every pickle written carries a keyed BLAKE3 tag (compat.results.signing) that is
checked before a byte is unpickled; a planted pickle never runs its code, locally or through legacy handlers (on S3, GCS and Azure, raw and
legacy base64: test_cloud_trust.py)."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from compat import (
    ArgumentTypeError, ConfigurationError, Failed, Flow, LocalResult, PickleSerializer, SerializationError, Success,
    UntrustedData, task,
)
from compat.results.serializers import SIGNED_MAGIC, SIGNING_KEY_VARIABLE
from compat.results.signing import key_id, keyring, parse_header, verify


class Planted:
    """A pickle whose loading touches ``marker``: proof that unpickling ran code chosen by whoever wrote it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def planted(marker: Path) -> bytes:
    return pickle.dumps(Planted(marker), protocol=5)


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)


def test_a_signed_pickle_is_the_signed_header_for_its_location_then_the_payload() -> None:
    data = PickleSerializer(signing_key="k").at("a.pkl").serialize({"a": 1})
    assert data[: len(SIGNED_MAGIC)] == SIGNED_MAGIC
    header, payload = verify(keyring("k"), data, "a.pkl")
    assert header.key_id == key_id("k") and header.location == "a.pkl"
    assert pickle.loads(payload) == {"a": 1}


def test_a_signed_pickle_round_trips() -> None:
    serializer = PickleSerializer(signing_key=b"k")
    assert serializer.deserialize(serializer.serialize([1, "x"])) == [1, "x"]


def test_an_unsigned_pickle_is_refused_without_being_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(SerializationError, match="refused .* unsigned bytes without unpickling them"):
        PickleSerializer(signing_key="k").deserialize(planted(marker))
    assert not marker.exists()


def test_a_pickle_signed_with_another_key_is_refused() -> None:
    data = PickleSerializer(signing_key="old").serialize(1)
    with pytest.raises(UntrustedData, match=f"key id {key_id('old')}, which is not among the 1 key"):
        PickleSerializer(signing_key="new").deserialize(data)


def test_a_changed_payload_is_refused(tmp_path: Path) -> None:
    signed = PickleSerializer(signing_key="k").serialize(1)
    forged = signed[: parse_header(signed).size] + planted(tmp_path / "ran")
    with pytest.raises(UntrustedData, match="does not match the bytes"):
        PickleSerializer(signing_key="k").deserialize(forged)
    assert not (tmp_path / "ran").exists()


def test_key_rotation_signs_with_the_first_key_and_accepts_every_key() -> None:
    old = PickleSerializer(signing_key="old").serialize("before")
    rotated = PickleSerializer(signing_key=["new", "old"])
    assert rotated.deserialize(old) == "before"
    assert PickleSerializer(signing_key="new").deserialize(rotated.serialize("after")) == "after"


def test_trust_unsigned_reads_data_written_before_signing() -> None:
    legacy = cloudpickle.dumps({"old": True})
    assert PickleSerializer(signing_key="k", trust_unsigned=True).deserialize(legacy) == {"old": True}


def test_a_signed_pickle_without_a_key_is_a_configuration_error_naming_the_variable() -> None:
    data = PickleSerializer(signing_key="k").serialize(1)
    with pytest.raises(ConfigurationError, match=SIGNING_KEY_VARIABLE):
        PickleSerializer().deserialize(data)


def test_the_environment_variable_signs_and_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "new, old")
    data = PickleSerializer().serialize(5)
    assert PickleSerializer(signing_key="new").deserialize(data) == 5
    assert PickleSerializer().deserialize(PickleSerializer(signing_key="old").serialize(6)) == 6


def test_a_changed_environment_variable_is_used_at_the_next_use(monkeypatch: pytest.MonkeyPatch) -> None:
    serializer = PickleSerializer()
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "first")
    first = serializer.serialize(1)
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "second")
    second = serializer.serialize(1)
    monkeypatch.delenv(SIGNING_KEY_VARIABLE)
    assert (parse_header(first).key_id, parse_header(second).key_id) == (key_id("first"), key_id("second"))
    assert serializer.serialize(1)[:1] == b"\x80"  # unset again: unsigned


@pytest.mark.parametrize("key", ["", b"", [], ["k", ""]])
def test_an_empty_signing_key_is_a_configuration_error(key: Any) -> None:
    with pytest.raises(ConfigurationError, match="signing key"):
        PickleSerializer(signing_key=key)


@pytest.mark.parametrize("key", [3, [b"k", 3]])
def test_a_signing_key_of_the_wrong_type_is_a_type_error(key: Any) -> None:
    with pytest.raises(ArgumentTypeError, match="signing"):
        PickleSerializer(signing_key=key)


@pytest.mark.parametrize("setting", ["trust_unsigned", "accept_unbound_signatures"])
@pytest.mark.parametrize("given", ["no", 0, None])
def test_trust_settings_take_only_true_or_false(setting: str, given: Any) -> None:
    with pytest.raises(ArgumentTypeError, match=setting):
        PickleSerializer(signing_key="k", **{setting: given})


def test_spaces_around_a_key_given_as_an_argument_are_stripped_as_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, " k ")
    assert PickleSerializer(signing_key=" k ").deserialize(PickleSerializer().serialize(1)) == 1
    assert PickleSerializer().deserialize(PickleSerializer(signing_key="k").serialize(2)) == 2


def test_the_repr_never_shows_the_key() -> None:
    assert "secret" not in repr(PickleSerializer(signing_key="secret"))


def test_serializers_with_different_keys_are_not_equal() -> None:
    assert PickleSerializer(signing_key="a") != PickleSerializer(signing_key="b")
    assert PickleSerializer(signing_key="a") == PickleSerializer(signing_key="a")


# -- the planted-pickle flow -----------------------------------------------------------------------------------------


def tour_flow(tmp_path: Path, serializer: PickleSerializer) -> tuple[Flow, Any]:
    @task(target="{task_name}.pkl")
    def total() -> int:
        return 42

    with Flow("tour", result=LocalResult(dir=tmp_path / "results", serializer=serializer)) as flow:
        node = total()
    return flow, node


def test_without_a_key_a_planted_pickle_at_a_target_runs_its_code(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "total.pkl").write_bytes(planted(tmp_path / "ran"))
    flow, node = tour_flow(tmp_path, PickleSerializer())
    flow.run()
    assert (tmp_path / "ran").exists(), "the planted payload did not run; this test proves nothing"


def test_with_a_key_a_planted_pickle_never_runs_the_task_reruns_and_the_bytes_are_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "total.pkl").write_bytes(planted(tmp_path / "ran"))
    flow, node = tour_flow(tmp_path, PickleSerializer(signing_key="k"))
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[node]
    assert not (tmp_path / "ran").exists()
    assert type(state) is Success and state.result == 42
    assert "unsigned" in caplog.text
    (kept,) = (tmp_path / "results").glob("total.pkl.unreadable-*")
    assert kept.read_bytes() == planted(tmp_path / "ran")
    assert PickleSerializer(signing_key="k").deserialize((tmp_path / "results" / "total.pkl").read_bytes()) == 42


# -- a mistyped key is a configuration error, never unreadable data ---------------------------------------------------


@pytest.mark.parametrize("mistyped", ["", ",", " ", "new,,old"])
def test_a_mistyped_key_in_the_environment_stops_the_run_before_anything_runs_and_moves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistyped: str
) -> None:
    flow, node = tour_flow(tmp_path, PickleSerializer())
    assert type(flow.run().result[node]) is Success
    stored = (tmp_path / "results" / "total.pkl").read_bytes()
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, mistyped)
    with pytest.raises(ConfigurationError, match=SIGNING_KEY_VARIABLE):
        flow.run()
    with pytest.raises(ConfigurationError, match=SIGNING_KEY_VARIABLE):
        flow.plan()
    assert sorted(path.name for path in (tmp_path / "results").iterdir()) == ["total.pkl"]
    assert (tmp_path / "results" / "total.pkl").read_bytes() == stored


def test_signed_outputs_read_without_the_key_fail_the_task_and_are_not_moved_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, node = tour_flow(tmp_path, PickleSerializer())
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "k")
    assert type(flow.run().result[node]) is Success
    stored = (tmp_path / "results" / "total.pkl").read_bytes()
    monkeypatch.delenv(SIGNING_KEY_VARIABLE)  # a worker started without the key: the data is fine, the setting is not
    state = flow.run().result[node]
    assert type(state) is Failed and SIGNING_KEY_VARIABLE in state.message
    assert sorted(path.name for path in (tmp_path / "results").iterdir()) == ["total.pkl", "total.pkl.record.json"]
    assert (tmp_path / "results" / "total.pkl").read_bytes() == stored


def test_a_key_in_an_environment_replaced_by_a_plain_dict_still_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(os, "environ", {SIGNING_KEY_VARIABLE: "from-a-dict"})
    assert PickleSerializer().keyring is not None
    assert parse_header(PickleSerializer().at("v.pkl").serialize(1)).key_id == key_id("from-a-dict")
