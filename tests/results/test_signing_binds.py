"""A signature binds where and when: bytes signed for another location, or longer ago than ``cache_for``, are not
trusted (kept aside, the task runs); a whole store moved elsewhere still verifies; the earlier format (rcsig1) is
read only where the reader opts in; a huge file at a target is refused with its header, memory bounded."""

from __future__ import annotations

import hmac
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from compat import Cached, Flow, LocalResult, MemoryResult, PickleSerializer, Success, UntrustedData, task
from compat.results import signing
from compat.results.base import KEPT_ASIDE_COPIES
from compat.results.records import (
    RECORD_SCHEMA, RECORD_SUFFIX, Provenance, TargetRecord, checked, signed, with_check,
)
from compat.results.serializers import LEGACY_MAGIC, SIGNING_KEY_VARIABLE
from compat.results.signing import SIGNING_KEY_FILE_VARIABLE, key_id, parse_header


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_VARIABLE, raising=False)


def two_task_flow(directory: Path, **result: Any) -> tuple[Flow, Any, Any]:
    @task(target="{task_name}.pkl")
    def first() -> str:
        return "first"

    @task(target="{task_name}.pkl")
    def second() -> str:
        return "second"

    serializer = PickleSerializer(signing_key="k")
    with Flow("pair", result=LocalResult(dir=directory, serializer=serializer, **result)) as flow:
        a, b = first(), second()
    return flow, a, b


def test_two_tasks_signed_outputs_swapped_are_not_trusted_and_both_tasks_run(tmp_path: Path) -> None:
    flow, a, b = two_task_flow(tmp_path)
    flow.run()
    first, second = (tmp_path / "first.pkl").read_bytes(), (tmp_path / "second.pkl").read_bytes()
    (tmp_path / "first.pkl").write_bytes(second)
    (tmp_path / "second.pkl").write_bytes(first)
    states = flow.run().result
    assert [type(states[a]), type(states[b])] == [Success, Success]
    assert (states[a].result, states[b].result) == ("first", "second")
    assert len(list(tmp_path.glob("first.pkl.unreadable-*"))) == len(list(tmp_path.glob("second.pkl.unreadable-*"))) == 1


def test_a_value_signed_for_another_location_is_refused_naming_both(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    LocalResult(dir=tmp_path / "other-flow", location="output.pkl", serializer=serializer).write("theirs")
    (tmp_path / "mine").mkdir()
    shutil.copy(tmp_path / "other-flow" / "output.pkl", tmp_path / "mine" / "total.pkl")
    with pytest.raises(UntrustedData, match="for the location 'output.pkl', not 'total.pkl'") as caught:
        LocalResult(dir=tmp_path / "mine", serializer=serializer).read("total.pkl")
    assert caught.value.key_id == key_id("k")


def test_a_whole_store_moved_elsewhere_still_verifies(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    LocalResult(dir=tmp_path / "before", location="flows/a/total.pkl", serializer=serializer).write(42)
    shutil.move(tmp_path / "before", tmp_path / "after")
    assert LocalResult(dir=tmp_path / "after", serializer=serializer).read("flows/a/total.pkl").value == 42


def test_an_old_signed_value_put_back_is_not_fresh_whatever_its_file_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, a, _ = two_task_flow(tmp_path, cache_for=timedelta(hours=1))
    two_hours_ago = signing.time.time_ns() - 2 * 3600 * 10**9
    monkeypatch.setattr(signing.time, "time_ns", lambda: two_hours_ago)
    flow.run()  # signed two hours ago...
    monkeypatch.undo()
    os.utime(tmp_path / "first.pkl")  # ...and put back now: the file's time says fresh
    state = flow.run().result[a]
    assert type(state) is Success and state.result == "first"


def test_a_value_signed_within_cache_for_is_reused(tmp_path: Path) -> None:
    flow, a, _ = two_task_flow(tmp_path, cache_for=timedelta(hours=1))
    flow.run()
    assert type(flow.run().result[a]) is Cached


def test_a_read_says_when_and_by_which_key_the_value_was_signed(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    written = LocalResult(dir=tmp_path, location="v.pkl", serializer=serializer).write(1)
    stored = LocalResult(dir=tmp_path, serializer=serializer).read(written.location)
    assert stored.signed_by == key_id("k")
    assert stored.signed_at is not None and abs(stored.signed_at.timestamp() - os.path.getmtime(written.location)) < 5


def test_a_write_without_a_location_is_signed_for_the_name_chosen(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    written = LocalResult(dir=tmp_path, serializer=serializer).write(7)
    assert LocalResult(dir=tmp_path, serializer=serializer).read(written.location).value == 7


# -- the earlier format --------------------------------------------------------------------------------------------


def rcsig1(key: bytes, value: Any) -> bytes:
    payload = pickle.dumps(value, protocol=5)
    return LEGACY_MAGIC + hmac.new(key, payload, "sha256").digest() + payload


def test_the_earlier_signed_format_is_refused_unless_the_reader_opts_in(tmp_path: Path) -> None:
    (tmp_path / "old.pkl").write_bytes(rcsig1(b"k", "before"))
    with pytest.raises(UntrustedData, match="accept_unbound_signatures=True"):
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("old.pkl")
    opted_in = PickleSerializer(signing_key="k", accept_unbound_signatures=True)
    assert LocalResult(dir=tmp_path, serializer=opted_in).read("old.pkl").value == "before"


def test_the_earlier_format_with_another_key_is_refused_even_when_opted_in(tmp_path: Path) -> None:
    (tmp_path / "old.pkl").write_bytes(rcsig1(b"other", "before"))
    opted_in = PickleSerializer(signing_key="k", accept_unbound_signatures=True)
    with pytest.raises(UntrustedData, match="matches none"):
        LocalResult(dir=tmp_path, serializer=opted_in).read("old.pkl")


# -- a huge file at a target --------------------------------------------------------------------------------------

HUGE = 2 * 1024**3  # sparse: no disk, and no memory unless the reader holds it


def test_a_huge_unsigned_file_is_refused_from_its_first_bytes(tmp_path: Path) -> None:
    with open(tmp_path / "total.pkl", "wb") as f:
        f.truncate(HUGE)
    tracemalloc.start()
    try:
        with pytest.raises(UntrustedData, match="unsigned"):
            LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("total.pkl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024**2


def test_a_huge_file_behind_a_real_header_is_verified_as_it_streams_and_refused(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    LocalResult(dir=tmp_path, location="total.pkl", serializer=serializer).write("small")
    path = tmp_path / "total.pkl"
    header = parse_header(path.read_bytes())
    with open(path, "r+b") as f:
        f.truncate(header.size)
        f.truncate(HUGE)  # a real header, for this location, then 2 GiB of nothing
    tracemalloc.start()
    try:
        with pytest.raises(UntrustedData, match="does not match the bytes"):
            LocalResult(dir=tmp_path, serializer=serializer).read("total.pkl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024**2


def test_a_huge_file_at_a_target_is_kept_aside_and_the_task_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow, a, _ = two_task_flow(tmp_path)
    with open(tmp_path / "first.pkl", "wb") as f:
        f.truncate(HUGE)
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[a]
    assert type(state) is Success and state.result == "first"
    (kept,) = tmp_path.glob("first.pkl.unreadable-*")
    assert kept.stat().st_size == HUGE


def test_a_signed_file_someone_else_may_write_is_unpickled_from_the_bytes_verified(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    value = os.urandom(1024 * 1024)
    written = LocalResult(dir=tmp_path, location="v.pkl", serializer=serializer).write(value)
    os.chmod(written.location, 0o666)  # writable by others: they could change it between the check and the load
    assert LocalResult(dir=tmp_path, serializer=serializer).read("v.pkl").value == value


# -- two writers on different keys --------------------------------------------------------------------------------


def test_two_writers_on_different_keys_keep_only_the_newest_copies_aside_and_say_which_key_signed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @task(target="{task_name}.pkl")
    def total() -> bytes:
        return b"x" * 1000

    flows = []
    for key in ("old", "new"):
        with Flow("rotation", result=LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key=key))) as flow:
            total()
        flows.append(flow)
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        for run in range(12):
            flows[run % 2].run()
    assert len(list(tmp_path.glob("total.pkl.unreadable-*"))) == KEPT_ASIDE_COPIES
    assert f"signed with key id {key_id('new')}" in caplog.text and f"signed with key id {key_id('old')}" in caplog.text


def test_a_link_named_like_a_kept_copy_is_never_removed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("someone else's")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "v.pkl.unreadable-00000000T000000.000000Z").symlink_to(outside)
    result = LocalResult(dir=tmp_path / "d")
    for _ in range(KEPT_ASIDE_COPIES + 1):
        (tmp_path / "d" / "v.pkl").write_bytes(b"unreadable")
        result.keep_aside("v.pkl")
    assert outside.read_text() == "someone else's"
    assert (tmp_path / "d" / "v.pkl.unreadable-00000000T000000.000000Z").is_symlink()


# -- keys never travel in pickles -----------------------------------------------------------------------------------

UNPICKLE_AND_SIGN = (
    "import pickle, sys\n"
    "serializer = pickle.loads(sys.stdin.buffer.read())\n"
    "try:\n"
    "    serializer.serialize(1)\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__, exc)\n"
    "else:\n"
    "    print('signed')\n"
)


def unpickled_elsewhere(data: bytes, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in (SIGNING_KEY_VARIABLE, SIGNING_KEY_FILE_VARIABLE)}
    run = subprocess.run([sys.executable, "-c", UNPICKLE_AND_SIGN], input=data, capture_output=True, timeout=60,
                         env={**env, **environment}, check=True)
    return run.stdout.decode()


def test_a_pickled_serializer_carries_its_key_ids_never_its_keys() -> None:
    data = pickle.dumps(PickleSerializer(signing_key="a-very-secret-key"))
    assert b"a-very-secret-key" not in data
    assert key_id("a-very-secret-key").encode() in data


def test_a_worker_without_the_key_refuses_naming_the_key_id_and_the_setting() -> None:
    out = unpickled_elsewhere(pickle.dumps(PickleSerializer(signing_key="a-very-secret-key")))
    assert out.startswith("ConfigurationError") and key_id("a-very-secret-key") in out and SIGNING_KEY_VARIABLE in out


def test_a_worker_with_the_key_in_its_environment_signs(tmp_path: Path) -> None:
    (tmp_path / "keys").write_text("a-very-secret-key\n")
    data = pickle.dumps(PickleSerializer(signing_key="a-very-secret-key"))
    assert unpickled_elsewhere(data, **{SIGNING_KEY_VARIABLE: "a-very-secret-key"}) == "signed\n"
    assert unpickled_elsewhere(data, **{SIGNING_KEY_FILE_VARIABLE: str(tmp_path / "keys")}) == "signed\n"


def recording_result(directory: Path, run_id: str) -> LocalResult:
    """A signing LocalResult that writes a record with each output, as a task run's does."""
    result = LocalResult(dir=directory, location="total.pkl", serializer=PickleSerializer(signing_key="k"))
    result.provenance = Provenance(flow="f", task="total", run_id=run_id)
    return result


def test_an_older_signed_copy_of_the_same_target_put_back_is_refused_naming_its_record(tmp_path: Path) -> None:
    recording_result(tmp_path, "run-1").write("older")
    older = (tmp_path / "total.pkl").read_bytes()
    recording_result(tmp_path, "run-2").write("newer")
    (tmp_path / "total.pkl").write_bytes(older)  # put back: signed for this very location
    with pytest.raises(UntrustedData, match="older copy of this target put back") as caught:
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("total.pkl")
    assert "run-2" in str(caught.value) and caught.value.key_id == key_id("k")


def test_an_older_signed_copy_put_back_is_kept_aside_and_the_task_runs(tmp_path: Path) -> None:
    made = []

    @task(target="{task_name}.pkl")
    def total() -> int:
        made.append(1)
        return len(made)

    with Flow("f", result=LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k"))) as flow:
        node = total()
    flow.run()
    older = (tmp_path / "total.pkl").read_bytes()
    assert flow.run(refresh="total").result[node].result == 2
    (tmp_path / "total.pkl").write_bytes(older)
    state = flow.run().result[node]
    assert type(state) is Success and state.result == 3 and state.code == "untrusted"
    assert [path.read_bytes() for path in tmp_path.glob("total.pkl.unreadable-*")] == [older]


def test_a_newer_signed_output_whose_record_was_never_written_is_read(tmp_path: Path) -> None:
    recording_result(tmp_path, "run-1").write("first")
    LocalResult(dir=tmp_path, location="total.pkl", serializer=PickleSerializer(signing_key="k")).write("second")
    assert LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("total.pkl").value == "second"


def test_a_signed_store_copied_with_its_records_still_reads(tmp_path: Path) -> None:
    recording_result(tmp_path / "before", "run-1").write("kept")
    shutil.copytree(tmp_path / "before", tmp_path / "after")  # new files: the record's identity no longer matches
    copied = LocalResult(dir=tmp_path / "after", serializer=PickleSerializer(signing_key="k"))
    assert copied.record("total.pkl") is None
    assert copied.read("total.pkl").value == "kept"


def test_a_signed_store_copied_with_its_records_is_judged_from_the_bytes_read_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording_result(tmp_path / "before", "run-1").write("kept")
    shutil.copytree(tmp_path / "before", tmp_path / "after")  # the record's hash decides: the bytes are hashed

    def read_again(*args: Any) -> Any:
        raise AssertionError("the signed bytes were read again by their location to be hashed")

    monkeypatch.setattr(LocalResult, "read_stream", read_again)
    copied = LocalResult(dir=tmp_path / "after", serializer=PickleSerializer(signing_key="k"))
    assert copied.read("total.pkl").value == "kept"


def test_an_untrusted_record_cannot_refuse_a_signed_value(tmp_path: Path) -> None:
    recording_result(tmp_path, "run-1").write("older")
    older = (tmp_path / "total.pkl").read_bytes()
    result = recording_result(tmp_path, "run-2")
    result.serializer = PickleSerializer(signing_key="another key")
    result.write("newer")  # its record is signed with a key the reader does not hold
    (tmp_path / "total.pkl").write_bytes(older)
    assert LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("total.pkl").value == "older"


def test_one_serializer_writing_several_targets_signs_each_for_its_own(tmp_path: Path) -> None:
    serializer = PickleSerializer(signing_key="k")
    for name in ("a.pkl", "b.pkl", "a.pkl", "sub/b.pkl"):
        LocalResult(dir=tmp_path, location=name, serializer=serializer).write(name)
    for name in ("a.pkl", "b.pkl", "sub/b.pkl"):
        assert parse_header((tmp_path / name).read_bytes()).location == name
    assert "_writers" not in pickle.loads(pickle.dumps(serializer)).__dict__  # what it keeps stays home


def test_an_older_signed_copy_put_back_in_memory_is_refused() -> None:
    serializer = PickleSerializer(signing_key="k")
    result = MemoryResult(location="replayed-total.pkl", serializer=serializer)
    result.provenance = Provenance(flow="f", task="total", run_id="run-1")
    result.write("older")
    older = MemoryResult().read_bytes("replayed-total.pkl")
    result.provenance = Provenance(flow="f", task="total", run_id="run-2")
    result.write("newer")
    MemoryResult().write_bytes("replayed-total.pkl", older)
    with pytest.raises(UntrustedData, match="older copy of this target put back"):
        MemoryResult(serializer=serializer).read("replayed-total.pkl")


# -- the replay check decides from a record's last fields when they say the bytes are the newest ------------------


def put_back_older(directory: Path) -> bytes:
    """An older signed copy of total.pkl put back under the record of the newer write (trusted, written later,
    naming the newer file): the bytes of that record file, which each test below rewrites."""
    recording_result(directory, "run-1").write("older")
    older = (directory / "total.pkl").read_bytes()
    recording_result(directory, "run-2").write("newer")
    (directory / "total.pkl").write_bytes(older)
    return (directory / ("total.pkl" + RECORD_SUFFIX)).read_bytes()


def record_rewritten(directory: Path, **changes: Any) -> None:
    """The record file of total.pkl with ``changes``, signed again with the reader's key and checked as written."""
    record_file = directory / ("total.pkl" + RECORD_SUFFIX)
    record = TargetRecord.from_json(record_file.read_bytes()).changed(**changes)
    record_file.write_bytes(with_check(signed(record, PickleSerializer(signing_key="k")).to_json()))


def signed_time(directory: Path, micros: int = 0) -> str:
    """When total.pkl's bytes were signed, plus ``micros``, as a record says a time."""
    signed_ns = parse_header((directory / "total.pkl").read_bytes()).written_ns
    when = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=signed_ns // 1000 + micros)
    return f"{when:%Y-%m-%dT%H:%M:%S.%f}Z"


def read_total(directory: Path) -> Any:
    return LocalResult(dir=directory, serializer=PickleSerializer(signing_key="k")).read("total.pkl").value


def test_a_signed_read_of_the_newest_bytes_is_decided_without_parsing_their_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording_result(tmp_path, "run-1").write("newest")

    def refused(*args: Any) -> Any:
        raise AssertionError("the record was parsed whole, or the file looked up by its path")

    monkeypatch.setattr(TargetRecord, "from_json", refused)
    monkeypatch.setattr(LocalResult, "stored_identity", refused)
    assert read_total(tmp_path) == "newest"


def test_a_signed_read_below_dir_of_the_newest_bytes_is_decided_without_parsing_their_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = recording_result(tmp_path, "run-1")
    result.location = "sub/total.pkl"
    result.write("newest")

    def refused(*args: Any) -> Any:
        raise AssertionError("the record was parsed whole, or the file looked up by its path")

    monkeypatch.setattr(TargetRecord, "from_json", refused)
    monkeypatch.setattr(LocalResult, "stored_identity", refused)
    reader = LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k"))
    assert reader.read("sub/total.pkl").value == "newest"


def test_an_older_signed_copy_put_back_below_dir_is_refused(tmp_path: Path) -> None:
    for run_id, value in (("run-1", "older"), ("run-2", "newer")):
        result = recording_result(tmp_path, run_id)
        result.location = "sub/total.pkl"
        result.write(value)
        if value == "older":
            older = (tmp_path / "sub" / "total.pkl").read_bytes()
    (tmp_path / "sub" / "total.pkl").write_bytes(older)
    with pytest.raises(UntrustedData, match="older copy of this target put back"):
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("sub/total.pkl")


def test_an_older_copy_signed_one_microsecond_before_its_record_is_refused(tmp_path: Path) -> None:
    put_back_older(tmp_path)
    record_rewritten(tmp_path, written_at=signed_time(tmp_path, micros=1))
    with pytest.raises(UntrustedData, match="older copy of this target put back"):
        read_total(tmp_path)


def test_an_older_copy_signed_when_its_record_was_written_is_read(tmp_path: Path) -> None:
    put_back_older(tmp_path)
    record_rewritten(tmp_path, written_at=signed_time(tmp_path))
    assert read_total(tmp_path) == "older"


def test_an_older_copy_is_refused_when_a_later_version_s_field_follows_the_record_s_time(tmp_path: Path) -> None:
    put_back_older(tmp_path)
    record_file = tmp_path / ("total.pkl" + RECORD_SUFFIX)
    data = checked(record_file.read_bytes())
    info = os.stat(tmp_path / "total.pkl")
    later_field = (  # what this version's records end with, naming the put-back file, one level down
        f',"zz":{{"stored":{{"inode":{info.st_ino},"mtime_ns":{info.st_mtime_ns},"size":{info.st_size}}},'
        f'"task":null,"written_at":"{signed_time(tmp_path)}"}}}}'
    ).encode()
    record_file.write_bytes(with_check(data[:-1] + later_field))  # unknown fields are ignored, signature holds
    with pytest.raises(UntrustedData, match="older copy of this target put back"):
        read_total(tmp_path)


def test_an_older_copy_under_a_malformed_record_is_read(tmp_path: Path) -> None:
    data = checked(put_back_older(tmp_path))
    broken = data.replace(b'"bytes_hash":', b'"bytes_hash" ', 1)  # not JSON; its last fields as ever
    (tmp_path / ("total.pkl" + RECORD_SUFFIX)).write_bytes(with_check(broken))
    assert read_total(tmp_path) == "older"


def test_an_older_copy_under_a_torn_record_file_is_read(tmp_path: Path) -> None:
    data = put_back_older(tmp_path)
    torn = data.replace(b'"run-2"', b'"run-3"', 1)  # its check line no longer matches: a record half rewritten
    (tmp_path / ("total.pkl" + RECORD_SUFFIX)).write_bytes(torn)
    assert read_total(tmp_path) == "older"


def test_an_older_copy_under_a_record_of_another_schema_is_read(tmp_path: Path) -> None:
    put_back_older(tmp_path)
    record_rewritten(tmp_path, schema=RECORD_SCHEMA + 1)
    assert read_total(tmp_path) == "older"


def test_a_subclass_reading_records_its_own_way_is_asked_for_the_record(tmp_path: Path) -> None:
    class Unrecorded(LocalResult):
        def record_bytes(self, location: str) -> bytes | None:
            return None  # keeps its records elsewhere: none here

    put_back_older(tmp_path)
    assert Unrecorded(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("total.pkl").value == "older"
