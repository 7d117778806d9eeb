"""MemoryResult's process-wide store, as the cyclic garbage collector sees it."""

from __future__ import annotations

import gc

import pytest

from compat import MemoryResult, PickleSerializer, UntrustedData
from compat.results.records import RECORD_SUFFIX, Provenance
from compat.results.signing import SIGNING_KEY_FILE_VARIABLE, SIGNING_KEY_VARIABLE, key_id


@pytest.fixture
def signing() -> PickleSerializer:
    MemoryResult.clear()
    return PickleSerializer(signing_key="k")


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_VARIABLE, raising=False)


def test_the_store_stays_with_the_collector_after_a_full_pass() -> None:
    # a store of tuples was untracked at each full pass and tracked again, among the youngest objects, by the next
    # write: each young collection then walked all its entries (200,000 in a 100,000-task run)
    MemoryResult.clear()
    MemoryResult(location="kept").write(1)
    gc.collect()
    assert gc.is_tracked(MemoryResult._store)


def test_the_store_gives_back_what_was_written_when_and_by_which_write() -> None:
    MemoryResult.clear()
    first = MemoryResult(location="a").write("one")
    second = MemoryResult(location="a").write("two")
    memory = MemoryResult()
    assert memory.read("a").value == "two" and first.location == second.location == "a"
    assert memory.stored_identity("a")["version"] > 0 and memory.modified_at("a") is not None
    version = memory.stored_identity("a")
    MemoryResult(location="a").write("three")
    assert memory.stored_identity("a") != version


def test_a_signed_read_checks_the_bytes_without_a_serializer_bound_per_read(
    signing: PickleSerializer, monkeypatch: pytest.MonkeyPatch
) -> None:
    MemoryResult(location="a", serializer=signing).write("v")
    monkeypatch.setattr(PickleSerializer, "at", lambda self, location: pytest.fail("a bound copy was made"))
    read = MemoryResult(serializer=signing).read("a")
    assert read.value == "v" and read.signed_at is not None


def test_a_signed_read_of_a_value_without_a_record_makes_no_replay_check(
    signing: PickleSerializer, monkeypatch: pytest.MonkeyPatch
) -> None:
    MemoryResult(location="a", serializer=signing).write("v")
    monkeypatch.setattr(MemoryResult, "refuse_replayed", lambda *args: pytest.fail("no record, yet checked"))
    assert MemoryResult(serializer=signing).read("a").value == "v"


def test_signed_bytes_copied_to_another_location_are_refused_naming_both(signing: PickleSerializer) -> None:
    MemoryResult(location="a", serializer=signing).write("v")
    MemoryResult().write_bytes("b", MemoryResult().read_bytes("a"))
    with pytest.raises(UntrustedData, match="for the location 'a', not 'b'") as caught:
        MemoryResult(serializer=signing).read("b")
    assert caught.value.key_id == key_id("k")


def test_unsigned_bytes_are_refused_while_signing(signing: PickleSerializer) -> None:
    MemoryResult(location="a").write("unsigned")
    with pytest.raises(UntrustedData, match="cannot read the result stored at 'a'.*unsigned"):
        MemoryResult(serializer=signing).read("a")


def test_an_unsigned_read_holds_no_signed_time() -> None:
    MemoryResult.clear()
    MemoryResult(location="a").write([1, 2])
    read = MemoryResult().read("a")
    assert read.value == [1, 2] and read.signed_at is None and read.location == "a"


def test_a_subclass_reading_its_own_way_is_read_through_it(signing: PickleSerializer) -> None:
    class Prefixed(MemoryResult):
        def read_bytes(self, location: str) -> bytes:
            return super().read_bytes("p/" + location)

    MemoryResult(location="p/a").write("v")
    assert Prefixed().read("a").value == "v"


def recorded_write(location: str, value: object) -> MemoryResult:
    """``value`` written at ``location`` with its record, as a task's checkpoint writes it."""
    result = MemoryResult(location=location)
    result.provenance = Provenance("f", "t", "run", None, {})
    written = result.write(value)
    assert written.written_record is not None
    return written


def test_a_value_written_with_its_record_takes_one_entry_of_the_store() -> None:
    # a record of its own was a second insert at a random place of a map twice the size, per checkpoint
    MemoryResult.clear()
    recorded_write("a", "v")
    recorded_write("b", "w")
    assert len(MemoryResult._store) == 2


def test_a_record_kept_with_its_value_is_stored_at_its_own_location() -> None:
    MemoryResult.clear()
    memory = MemoryResult()
    recorded_write("a", "v")
    record = "a" + RECORD_SUFFIX
    assert memory.exists_at(record) and memory.read_bytes(record) == memory.record_bytes("a")
    assert memory.record("a") is not None and memory.modified_at(record) is not None
    assert memory.stored_identity(record) != memory.stored_identity("a")


def test_a_value_written_again_without_a_record_keeps_the_last_record() -> None:
    # as a record of its own stayed: a signed value put back must still meet the record written after it
    MemoryResult.clear()
    memory = MemoryResult()
    recorded_write("a", "v")
    record = memory.record_bytes("a")
    memory.write_bytes("a", memory.read_bytes("a"))
    assert record is not None and memory.record_bytes("a") == record
    assert memory.record("a") is None  # it describes the bytes of another write


def test_a_record_written_before_its_value_is_read_until_the_next_record() -> None:
    MemoryResult.clear()
    memory = MemoryResult()
    memory.write_bytes("a" + RECORD_SUFFIX, b"early")
    memory.write_bytes("a", b"value")
    assert memory.record_bytes("a") == b"early" and memory.read_bytes("a" + RECORD_SUFFIX) == b"early"
    memory.write_bytes("a" + RECORD_SUFFIX, b"later")
    assert memory.record_bytes("a") == b"later" and memory.read_bytes("a" + RECORD_SUFFIX) == b"later"
