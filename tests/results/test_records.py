"""Records beside stored outputs (``compat.results.records``): what they hold, where they are, and when a record is
ignored (written for other bytes, unparseable, from another schema). Object stores: test_cloud_records.py."""

from __future__ import annotations

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest

from compat import ConstantResult, JSONResult, LocalResult, MemoryResult, PickleSerializer, StorageError
from compat.results.base import _package_version
from compat.results.records import (
    RECORD_CHECK, RECORD_SUFFIX, RECORD_XATTR, Provenance, RecordForm, TargetRecord, bytes_hash, checked,
)
from tests.records import attribute, payload, plant_attribute, plant_record, record_file, stored_record, trailer_json

MADE_BY = Provenance(flow="etl", task="clean", run_id="run-1", code="code:1", inputs={"rows": "sha256:ab"})
PAST_XATTRS = Provenance(flow="etl", task="clean", run_id="run-1",
                         inputs={f"input-{i}": "blake3:" + "0" * 64 for i in range(1000)})
"""A record of ~80 KB: past the 64 KiB any Linux file system allows one extended attribute (E2BIG), so the kernel
itself refuses to keep it with the output and it goes to the record file."""


class CustomSerializer(PickleSerializer):
    """A serializer of the user's own (it could write anything after a pickle, so nothing is appended to its bytes)."""


def sealing(tmp_path: Path) -> LocalResult:
    """A LocalResult of another serializer than the default ``PickleSerializer`` (one that streams): its records are
    a new output's extended attribute, or the record file beside it (``RECORD_XATTR``), never a trailer."""
    return LocalResult(dir=tmp_path, serializer=CustomSerializer())


def recording(result: LocalResult | MemoryResult, location: str, provenance: Provenance = MADE_BY) -> LocalResult:
    target = result.copy()
    target.location = location
    target.provenance = provenance
    return target  # type: ignore[return-value]


def test_a_pickle_written_with_provenance_carries_its_json_record_and_no_record_file(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write({"a": 1})
    assert os.listdir(tmp_path) == ["out.pkl"] and attribute(tmp_path / "out.pkl") is None
    stored = json.loads(trailer_json(tmp_path / "out.pkl") or b"")
    data = payload(tmp_path / "out.pkl")
    assert stored["stored"] == {"trailer": True} and pickle.loads(data) == {"a": 1}
    assert stored["bytes_hash"] == bytes_hash(data) and stored["size"] == len(data)
    assert (stored["flow"], stored["task"], stored["run_id"], stored["code"], stored["inputs"]) == (
        "etl", "clean", "run-1", "code:1", {"rows": "sha256:ab"}
    )
    assert stored["schema"] == 1 and stored["serializer"] == "PickleSerializer" and stored["written_at"].endswith("Z")
    assert TargetRecord.from_dict(stored) == written.written_record


def test_another_serializers_output_keeps_a_json_record_as_its_attribute_and_no_record_file(tmp_path: Path) -> None:
    written = recording(sealing(tmp_path), "out.pkl").write({"a": 1})
    assert os.listdir(tmp_path) == ["out.pkl"] and trailer_json(tmp_path / "out.pkl") is None
    stored = json.loads(os.getxattr(tmp_path / "out.pkl", RECORD_XATTR))
    data = (tmp_path / "out.pkl").read_bytes()
    assert stored["bytes_hash"] == bytes_hash(data) and stored["size"] == len(data)
    assert (stored["flow"], stored["task"], stored["run_id"], stored["code"], stored["inputs"]) == (
        "etl", "clean", "run-1", "code:1", {"rows": "sha256:ab"}
    )
    assert stored["schema"] == 1 and stored["serializer"] == "CustomSerializer" and stored["written_at"].endswith("Z")
    assert TargetRecord.from_dict(stored) == written.written_record


def test_a_write_without_provenance_stores_no_record(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path, location="out.pkl").write(1)
    assert os.listdir(tmp_path) == ["out.pkl"]


def test_a_provenance_made_at_once_is_the_provenance_its_fields_make() -> None:
    made = Provenance.of("etl", "clean", "run-1", "code:1", {"rows": "sha256:ab"})
    assert type(made) is Provenance and made == MADE_BY
    assert (made.flow, made.task, made.run_id, made.code, made.inputs) == (
        "etl", "clean", "run-1", "code:1", {"rows": "sha256:ab"})
    with pytest.raises(AttributeError):
        made.task = "other"  # type: ignore[misc]


def test_a_provenance_subclass_made_at_once_goes_through_its_own_init() -> None:
    class Tagged(Provenance):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            object.__setattr__(self, "tag", "mine")

    made = Tagged.of("etl", "clean", "run-1", None, {})
    assert type(made) is Tagged and made.tag == "mine" and made.task == "clean"  # type: ignore[attr-defined]


def test_record_gives_back_the_record_of_the_stored_bytes(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write([1, 2, 3])
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_record_of_a_location_already_resolved_is_the_same_record(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "sub/out.pkl").write([1, 2, 3])
    result = LocalResult(dir=tmp_path)
    assert result.record(result.resolve("sub/out.pkl"), resolved=True) == written.written_record


def test_an_output_rewritten_without_its_record_has_none(tmp_path: Path) -> None:
    recording(LocalResult(dir=tmp_path), "out.pkl").write("first")
    LocalResult(dir=tmp_path, location="out.pkl").write("first")  # same bytes, another file: the record is stale
    assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_record_round_trips_through_to_dict(tmp_path: Path) -> None:
    record = recording(LocalResult(dir=tmp_path), "out.pkl").write(1).written_record
    assert record is not None
    assert TargetRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_a_record_written_read_or_changed_keeps_no_instance_dict(tmp_path: Path) -> None:
    """A finished run keeps one record per stored output: slots, not a dict each (~360 bytes fewer)."""
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write(1).written_record
    assert written is not None
    read = TargetRecord.from_json(written.to_json())
    changed = read.changed(invalidated="2026-01-01T00:00:00.000000Z")
    assert not any(hasattr(record, "__dict__") for record in (written, read, changed))
    assert type(changed) is TargetRecord and changed.invalidated == "2026-01-01T00:00:00.000000Z"
    assert changed.changed(invalidated=None) == read == written


@pytest.mark.parametrize(
    "planted",
    [b"not json", b"[]", json.dumps({"schema": 2, "bytes_hash": "x", "size": 1, "location": "l"}).encode(),
     json.dumps({"schema": 1, "size": 1, "location": "l"}).encode(),
     json.dumps({"schema": 1, "bytes_hash": 5, "size": 1, "location": "l"}).encode(),
     b" " * (1024 * 1024 + 1)],
    ids=["not-json", "not-an-object", "other-schema", "no-hash", "hash-not-a-str", "too-large"],
)
def test_a_record_that_cannot_be_read_is_ignored(tmp_path: Path, planted: bytes) -> None:
    LocalResult(dir=tmp_path, location="out.pkl").write(1)
    (tmp_path / ("out.pkl" + RECORD_SUFFIX)).write_bytes(planted)
    assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_planted_record_naming_the_file_but_another_hash_fails_the_read_check(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write("value")
    assert written.written_record is not None
    lying = TargetRecord.from_dict({**written.written_record.to_dict(), "bytes_hash": bytes_hash(b"other")})
    plant_record(tmp_path / "out.pkl", lying.to_json())
    result = LocalResult(dir=tmp_path)
    record = result.record("out.pkl")
    assert record == lying.changed(stored=result.stored_identity("out.pkl"))
    assert record is not None
    read, matches = result.read_checked("out.pkl", record)
    assert read.value == "value" and not matches


def test_read_checked_hashes_a_large_value_read_from_the_file(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "big.pkl").write(os.urandom(1024 * 1024))
    assert written.written_record is not None
    read, matches = LocalResult(dir=tmp_path).read_checked("big.pkl", written.written_record)
    assert matches and read.value == written.value


def test_memory_keeps_records_in_memory() -> None:
    MemoryResult.clear()
    written = recording(MemoryResult(), "m").write("value")
    assert MemoryResult().record("m") == written.written_record
    MemoryResult(location="m").write("value")
    assert MemoryResult().record("m") is None


@pytest.mark.parametrize("result", [JSONResult(), ConstantResult(value=1)], ids=["json", "constant"])
def test_results_that_store_nothing_have_no_record(result: JSONResult | ConstantResult) -> None:
    assert result.record("1") is None and not result.keeps_records


KILLED = """
    import os, signal, sys
    from compat import LocalResult, PickleSerializer
    from compat.results.records import Provenance
    run, where, many = sys.argv[2], sys.argv[3], sys.argv[4] == "many"

    class CustomSerializer(PickleSerializer):  # its records: the attribute or the record file, never a trailer
        pass

    serializer = CustomSerializer() if sys.argv[5] == "custom" else PickleSerializer()
    result = LocalResult(dir=sys.argv[1], location="out.pkl", serializer=serializer).copy()
    inputs = {f"input-{i}": "blake3:" + "0" * 64 for i in range(1000 if many else 1)}  # many: past the xattr space
    result.provenance = Provenance(flow="f", task="t", run_id=run, inputs=inputs)

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if run == "second" and where == "record file":  # the output is stored; its record file is not yet
        result._write_record_file = die
    elif run == "second" and where == "fsync":  # the new file written, not yet fsynced nor renamed
        os.fsync = die
    elif run == "second" and where == "rename":  # the new file in place; its record not yet set
        real = os.replace
        os.replace = lambda *args, **kwargs: (real(*args, **kwargs), die())
    result.write(run)
"""


def writer(directory: Path, run: str, where: str = "", many: bool = False, custom: bool = False) -> int:
    script = [sys.executable, "-c", textwrap.dedent(KILLED), str(directory), run, where, "many" if many else "one",
              "custom" if custom else "pickle"]
    return subprocess.run(script, timeout=60).returncode


def test_a_writer_killed_between_output_and_record_file_leaves_no_record_of_other_bytes(tmp_path: Path) -> None:
    assert writer(tmp_path, "first", many=True, custom=True) == 0
    assert LocalResult(dir=tmp_path).record("out.pkl") is not None and record_file(tmp_path / "out.pkl").exists()
    assert writer(tmp_path, "second", "record file", many=True, custom=True) == -signal.SIGKILL
    assert LocalResult(dir=tmp_path).read("out.pkl").value == "second"
    assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_writer_killed_before_its_rename_leaves_the_previous_output_with_its_record(tmp_path: Path) -> None:
    assert writer(tmp_path, "first") == 0
    assert writer(tmp_path, "second", "fsync") == -signal.SIGKILL
    result = LocalResult(dir=tmp_path)
    record = result.record("out.pkl")
    assert record is not None and record.run_id == "first"
    read, matches = result.read_checked("out.pkl", record)
    assert matches and read.value == "first"


def test_a_writer_killed_between_its_rename_and_its_record_leaves_the_output_without_one(tmp_path: Path) -> None:
    """The record kept with the previous output went with it: the new output has none yet, never a wrong one."""
    assert writer(tmp_path, "first", custom=True) == 0
    assert writer(tmp_path, "second", "rename", custom=True) == -signal.SIGKILL
    result = LocalResult(dir=tmp_path, serializer=CustomSerializer())
    assert result.read("out.pkl").value == "second" and result.record("out.pkl") is None


def signing(tmp_path: Path, key: str = "key-one") -> LocalResult:
    return LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key=key))


def test_records_are_signed_with_the_results_key(tmp_path: Path) -> None:
    written = recording(signing(tmp_path), "out.pkl").write("value")
    assert written.written_record is not None and written.written_record.key_id is not None
    assert signing(tmp_path).record("out.pkl") == written.written_record


def test_an_unsigned_record_is_ignored_while_signing(tmp_path: Path) -> None:
    recording(signing(tmp_path), "out.pkl").write("value")
    path = tmp_path / ("out.pkl" + RECORD_SUFFIX)
    planted = {**json.loads(checked(path.read_bytes())), "key_id": None, "signature": None}
    path.write_text(json.dumps(planted))
    assert signing(tmp_path).record("out.pkl") is None


def test_a_record_changed_after_signing_is_ignored(tmp_path: Path) -> None:
    recording(signing(tmp_path), "out.pkl").write("value")
    path = tmp_path / ("out.pkl" + RECORD_SUFFIX)
    path.write_text(json.dumps({**json.loads(checked(path.read_bytes())), "code": "code:forged"}))
    assert signing(tmp_path).record("out.pkl") is None


def test_a_record_signed_with_another_key_is_ignored(tmp_path: Path) -> None:
    recording(signing(tmp_path, "key-two"), "out.pkl").write("value")
    assert signing(tmp_path, "key-two").record("out.pkl") is not None
    assert signing(tmp_path, "key-one").record("out.pkl") is None


def test_a_record_naming_sha256_is_checked_with_sha256(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write("value")
    assert written.written_record is not None and written.written_record.bytes_hash.startswith("blake3:")
    data = payload(tmp_path / "out.pkl")
    older = TargetRecord.from_dict({**written.written_record.to_dict(), "bytes_hash": bytes_hash(data, "sha256")})
    assert LocalResult(dir=tmp_path).read_checked("out.pkl", older)[1]


def test_a_record_naming_an_unknown_hash_does_not_vouch_for_the_bytes(tmp_path: Path) -> None:
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write("value")
    assert written.written_record is not None
    unknown = TargetRecord.from_dict({**written.written_record.to_dict(), "bytes_hash": "nohash:00"})
    read, matches = LocalResult(dir=tmp_path).read_checked("out.pkl", unknown)
    assert read.value == "value" and not matches


def test_a_link_planted_at_the_record_is_replaced_not_written_through(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_bytes(b"someone else's")
    recording(sealing(tmp_path), "out.pkl").write({"a": 0})  # the rewrite's record goes to the record file
    (tmp_path / f"out.pkl{RECORD_SUFFIX}").symlink_to(tmp_path / "other.json")
    written = recording(sealing(tmp_path), "out.pkl").write({"a": 1})
    assert (tmp_path / "other.json").read_bytes() == b"someone else's"
    assert not (tmp_path / f"out.pkl{RECORD_SUFFIX}").is_symlink()
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_hard_link_planted_at_the_record_is_replaced_not_written_through(tmp_path: Path) -> None:
    """Even a record file this version wrote (its check line at the end) is not rewritten in place through another
    name: a hard link planted there is replaced."""
    result = recording(sealing(tmp_path), "out.pkl")
    result.write({"a": 0})
    result.write({"a": 1})  # a rewrite: the record file
    os.link(tmp_path / f"out.pkl{RECORD_SUFFIX}", tmp_path / "other.json")
    os.unlink(tmp_path / f"out.pkl{RECORD_SUFFIX}")
    planted = (tmp_path / "other.json").read_bytes()
    os.link(tmp_path / "other.json", tmp_path / f"out.pkl{RECORD_SUFFIX}")
    written = result.write({"a": 2})
    assert (tmp_path / "other.json").read_bytes() == planted
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_record_is_written_without_a_rename_over_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename over an existing file makes ext4 (auto_da_alloc) write the new file's data out at once: the record
    is unlinked and created anew instead (benchmarks/record_syscalls.py)."""
    result = recording(sealing(tmp_path), "out.pkl")
    result.write(1)
    renamed: list[str] = []

    def spied(real: Any) -> Any:
        return lambda src, dst, *args, **kwargs: renamed.append(str(dst)) or real(src, dst, *args, **kwargs)

    for name in ("replace", "rename"):
        monkeypatch.setattr(os, name, spied(getattr(os, name)))
    written = result.write(2)
    assert renamed == [str(tmp_path / "out.pkl")]
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_record_file_cut_short_is_no_record(tmp_path: Path) -> None:
    written = recording(sealing(tmp_path), "out.pkl", PAST_XATTRS).write({"a": 1})
    assert written.written_record is not None
    whole = written.written_record.to_json()
    for cut in (0, 1, len(whole) // 2, len(whole) - 1):
        (tmp_path / f"out.pkl{RECORD_SUFFIX}").write_bytes(whole[:cut])
        assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_record_created_by_another_writer_meanwhile_is_replaced_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer creates the record file between the unlink of the old one and our create: ours replaces it."""
    result = recording(sealing(tmp_path), "out.pkl", PAST_XATTRS)
    record = tmp_path / f"out.pkl{RECORD_SUFFIX}"
    real_unlink, raced = os.unlink, []

    def unlink_then_race(path: object, *args: object, **kwargs: object) -> None:
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path).endswith(RECORD_SUFFIX) and not raced:
            raced.append(record.write_bytes(b'{"the other writer": 1}'))

    result.write(1)
    record.write_bytes(b'{"an earlier version\'s": 1}')  # no check line: replaced by a new file, not in place
    monkeypatch.setattr(os, "unlink", unlink_then_race)
    written = result.write(2)
    assert raced
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


RECORD_WRITER = """
    import sys, time
    from compat import LocalResult
    from compat.results.records import Provenance
    result = LocalResult(dir=sys.argv[1], location="out.pkl").copy()
    result.provenance = Provenance(flow="f", task="t" * int(sys.argv[2]), run_id="r")
    end = time.monotonic() + float(sys.argv[3])
    while time.monotonic() < end:
        result.write_record(result.resolve("out.pkl"), result.provenance, "blake3:" + "0" * 64, 1)
"""


def test_records_written_by_two_processes_at_once_are_never_read_mixed(tmp_path: Path) -> None:
    """Two writers of records of different lengths, and a reader: each record read is one writer's whole record,
    or none (while one is being written), never a mix of the two nor of old and new."""
    LocalResult(dir=tmp_path, location="out.pkl").write(1)
    writers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(RECORD_WRITER), str(tmp_path), str(length), "0.6"])
        for length in (1, 300)
    ]
    seen: set[str] = set()
    reader = LocalResult(dir=tmp_path)
    try:
        while any(process.poll() is None for process in writers):
            data = reader.record_bytes(str(tmp_path / "out.pkl"))
            if data is None:
                continue
            try:
                seen.add(TargetRecord.from_json(data).task or "")
            except ValueError:  # one being written, cut short: refused
                continue
    finally:
        for process in writers:
            assert process.wait(timeout=60) == 0
    last = reader.record_bytes(str(tmp_path / "out.pkl"))
    assert last is not None
    seen.add(TargetRecord.from_json(last).task or "")
    assert seen <= {"t", "t" * 300}


def test_a_records_json_is_sorted_compact_ascii(tmp_path: Path) -> None:
    """The bytes a signature covers: any writer or reader must make the same ones from the same fields."""
    made_by = Provenance(flow="fløw", task='t"\\\n', run_id="r", code=None, inputs={"z": "h:1", "a": "h:\u2603"})
    written = recording(sealing(tmp_path), "out.pkl", made_by).write([1, 2])
    assert written.written_record is not None
    fields = written.written_record.to_dict()
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert attribute(tmp_path / "out.pkl") == written.written_record.to_json() == expected


@pytest.mark.parametrize(
    ("nanoseconds", "said"),
    [
        (1_765_000_000_999_999_000, "2025-12-06T05:46:40.999999Z"),
        (1_765_000_001_000_000_000, "2025-12-06T05:46:41.000000Z"),
        (1_765_000_000_000_001_999, "2025-12-06T05:46:40.000001Z"),
        (1_765_000_000_012_045_000, "2025-12-06T05:46:40.012045Z"),
        (1_765_000_000_450_900_000, "2025-12-06T05:46:40.450900Z"),
    ],
)
def test_utc_now_says_the_microsecond_it_is_called_in(
    monkeypatch: pytest.MonkeyPatch, nanoseconds: int, said: str
) -> None:
    from compat.results import records

    records.utc_now()  # a second formatted already: the next call must not reuse it for another second
    monkeypatch.setattr(records.time, "time_ns", lambda: nanoseconds)
    assert records.utc_now() == said


def test_a_record_past_the_attribute_space_of_a_new_output_is_the_record_file(tmp_path: Path) -> None:
    """The kernel refuses an extended attribute past 64 KiB (E2BIG): that record goes to the record file."""
    large = recording(sealing(tmp_path), "out.pkl", PAST_XATTRS).write(1)
    assert large.written_record is not None and attribute(tmp_path / "out.pkl") is None
    assert checked(record_file(tmp_path / "out.pkl").read_bytes()) == large.written_record.to_json()
    assert LocalResult(dir=tmp_path).record("out.pkl") == large.written_record


def test_a_rewritten_output_keeps_its_record_in_its_record_file_rewritten_in_place(tmp_path: Path) -> None:
    """A rewrite frees the replaced file (and an attribute's block with it): its record goes to the record file,
    which, once there, is rewritten in place (the same file: nothing created, renamed or freed)."""
    result = recording(sealing(tmp_path), "out.pkl")
    result.write(1)
    second = result.write(2)
    inode = os.stat(record_file(tmp_path / "out.pkl")).st_ino
    third = result.write(3)
    assert attribute(tmp_path / "out.pkl") is None and os.stat(record_file(tmp_path / "out.pkl")).st_ino == inode
    assert second.written_record != third.written_record == LocalResult(dir=tmp_path).record("out.pkl")


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_a_record_file_mixed_with_the_one_it_replaces_is_no_record(tmp_path: Path, cut: int) -> None:
    """What a reader meets while a record file is rewritten in place (the new record's start, the old one's end)
    fails its check line, even where the mix is valid JSON of the same length."""
    result = recording(sealing(tmp_path), "out.pkl")
    result.write(0)
    result.write(1)
    old = record_file(tmp_path / "out.pkl").read_bytes()
    new = result.write(2).written_record
    assert new is not None
    fresh = record_file(tmp_path / "out.pkl").read_bytes()
    mixed = fresh[:cut] + old[cut:]
    json.loads(mixed[: mixed.rindex(RECORD_CHECK)])  # the JSON part alone would parse
    record_file(tmp_path / "out.pkl").write_bytes(mixed)
    assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_file_system_refusing_user_attributes_gets_the_record_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file system here refuses ``user.`` attributes (ext4 and tmpfs keep them), so os.setxattr is made to answer
    as one that does (ENOTSUP, what NFS without xattr support or a FUSE mount says)."""
    refused: list[object] = []

    def unsupported(*args: object, **kwargs: object) -> None:
        refused.append(args[0])
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    written = recording(sealing(tmp_path), "out.pkl").write(1)
    assert len(refused) == 1 and attribute(tmp_path / "out.pkl") is None
    assert checked(record_file(tmp_path / "out.pkl").read_bytes()) == written.written_record.to_json()  # type: ignore[union-attr]
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_record_file_an_earlier_version_wrote_is_still_read_and_the_next_write_replaces_it(tmp_path: Path) -> None:
    """Targets stored before keep their records (a file without a check line); a rewrite replaces it whole."""
    result = LocalResult(dir=tmp_path)
    result.write_bytes("out.pkl", b"\x80\x05\x8c\x03old\x94.")  # as the earlier version stored it: a record file
    earlier = TargetRecord.filled(bytes_hash=bytes_hash(b"\x80\x05\x8c\x03old\x94."), size=14, location="out.pkl",
                                  run_id="earlier", stored=result.stored_identity(str(tmp_path / "out.pkl")))
    record_file(tmp_path / "out.pkl").write_bytes(earlier.to_json())
    assert LocalResult(dir=tmp_path).record("out.pkl") == earlier
    newer = recording(sealing(tmp_path), "out.pkl").write("new")
    assert record_file(tmp_path / "out.pkl").read_bytes().endswith(b"%08x" % zlib.crc32(newer.written_record.to_json()))  # type: ignore[union-attr]
    assert LocalResult(dir=tmp_path).record("out.pkl") == newer.written_record


def test_a_result_that_signs_keeps_its_records_in_the_record_file(tmp_path: Path) -> None:
    """The newest signed record stays at the location, so an older signed copy put back there is refused."""
    written = recording(signing(tmp_path), "out.pkl").write("value")
    assert attribute(tmp_path / "out.pkl") is None
    assert checked(record_file(tmp_path / "out.pkl").read_bytes()) == written.written_record.to_json()  # type: ignore[union-attr]


def test_an_attribute_record_is_not_believed_while_signing(tmp_path: Path) -> None:
    """A Result that signs reads records in the record file alone: one that travels with the bytes is not its."""
    signed = recording(signing(tmp_path), "out.pkl").write("value").written_record
    assert signed is not None
    plant_attribute(tmp_path / "out.pkl", signed.changed(code="code:forged").to_json())
    assert signing(tmp_path).record("out.pkl") == signed


def test_a_hard_link_planted_at_the_output_does_not_get_the_record(tmp_path: Path) -> None:
    (tmp_path / "other.pkl").write_bytes(b"someone else's")
    os.link(tmp_path / "other.pkl", tmp_path / "out.pkl")
    written = recording(LocalResult(dir=tmp_path), "out.pkl").write({"a": 1})
    assert attribute(tmp_path / "other.pkl") is None and (tmp_path / "other.pkl").read_bytes() == b"someone else's"
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_record_changed_for_an_output_with_other_names_is_refused(tmp_path: Path) -> None:
    """A record set on an existing output (``results-compat invalidate``, ``touch``) would be every name's: an output
    that is also a hard link elsewhere (one planted there, to another output) is refused, naming the problem."""
    written = recording(sealing(tmp_path), "out.pkl").write(1)
    assert written.written_record is not None
    os.link(tmp_path / "out.pkl", tmp_path / "elsewhere.pkl")
    with pytest.raises(StorageError, match="other names"):
        LocalResult(dir=tmp_path).write_record_bytes("out.pkl" + RECORD_SUFFIX, b"{}")
    assert attribute(tmp_path / "elsewhere.pkl") == written.written_record.to_json()


def test_a_record_changed_for_a_stored_output_stays_with_it(tmp_path: Path) -> None:
    written = recording(sealing(tmp_path), "sub/out.pkl").write(1)
    assert written.written_record is not None
    marked = written.written_record.changed(invalidated="2026-12-06T00:00:00.000000Z")
    result = LocalResult(dir=tmp_path)
    result.write_record_bytes("sub/out.pkl" + RECORD_SUFFIX, marked.to_json())
    assert attribute(tmp_path / "sub" / "out.pkl") == marked.to_json()
    assert not record_file(tmp_path / "sub" / "out.pkl").exists() and result.record("sub/out.pkl") == marked


def test_a_record_changed_for_a_rewritten_output_stays_in_its_record_file(tmp_path: Path) -> None:
    writer = recording(sealing(tmp_path), "out.pkl")
    writer.write(1)
    written = writer.write(2)
    assert written.written_record is not None
    marked = written.written_record.changed(invalidated="2026-12-06T00:00:00.000000Z")
    result = LocalResult(dir=tmp_path)
    result.write_record_bytes("out.pkl" + RECORD_SUFFIX, marked.to_json())
    assert attribute(tmp_path / "out.pkl") is None and result.record("out.pkl") == marked


@pytest.mark.parametrize(
    "changes",
    [{}, {"stored": {"etag": '"abc"'}, "inputs": {}, "invalidated": "t", "key_id": "k", "signature": "s"},
     {"stored": None, "task": None, "code": None}, {"stored": {"generation": 5, "odd": 1.5}}, {"size": True},
     {"inputs": {"b": "h:\u00e9", "a": "h:\n\"", "\u2603": "h:1"}}],
    ids=["written", "cloud-signed-invalidated", "nulls", "a-float", "a-bool", "escapes"],
)
def test_a_records_json_is_the_canonical_encoders_for_every_field(changes: dict[str, Any]) -> None:
    """``to_json`` encodes a record field by field (``_record_json``): the bytes must be those of the one canonical
    encoding, whatever the fields hold, or a signature made by one writer fails for another."""
    record = TargetRecord.filled(bytes_hash="blake3:00", size=3, location="/d/\u00e9\"\n.pkl", flow="f", task="t",
                                 run_id="r", written_at="2026-12-06T00:00:00.000000Z", inputs={"x": "h:1"},
                                 stored={"size": 3, "mtime_ns": 1, "inode": 2}).changed(**changes)
    expected = json.dumps(record.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert record.to_json() == expected


@pytest.mark.parametrize(
    "provenance",
    [MADE_BY, Provenance(), Provenance(flow="f\u00e9\"\n", task="t\\", run_id="\u2603", code="c",
                                       inputs={"b": "h:\u00e9", "a": "h:\n\"", "\u2603": "h:1", "n": 5}),
     Provenance(flow="f", task="t", run_id="r", inputs={})],
    ids=["usual", "nulls", "escapes", "no-inputs"],
)
def test_a_record_filled_into_its_form_is_the_record_built_whole(tmp_path: Path, provenance: Provenance) -> None:
    """A write fills each record into the form its provenance writes (``RecordForm``, made once): the same record
    and the same bytes as ``Result.new_record`` and ``TargetRecord.to_json`` make, whatever its fields hold."""
    result, identity = LocalResult(dir=tmp_path), {"size": 3, "mtime_ns": 1_765_000_000_123_456_789, "inode": 2}
    form = RecordForm.of(provenance, "/d/\u00e9\".pkl", "PickleSerializer", _package_version())
    assert form is not None
    filled = form.record("blake3:00", 3, identity, "2026-12-06T00:00:00.000000Z")
    whole = result.new_record("/d/\u00e9\".pkl", provenance, "blake3:00", 3, identity).changed(
        written_at="2026-12-06T00:00:00.000000Z"
    )
    assert filled == whole
    stored = '{"inode":2,"mtime_ns":1765000000123456789,"size":3}'
    assert form.json("blake3:00", 3, stored, "2026-12-06T00:00:00.000000Z") == whole.to_json() == json.dumps(
        whole.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")


def test_each_write_of_one_writer_stores_the_json_of_the_record_it_gives(tmp_path: Path) -> None:
    """A new output (its attribute), then rewrites of it (its record file, rewritten in place)."""
    writer = recording(sealing(tmp_path), "out.pkl")
    for value in (b"first", b"second", b"third"):
        written = writer.write(value)
        assert written.written_record is not None
        assert stored_record(tmp_path / "out.pkl") == written.written_record.to_json()
        assert written.written_record.stored == LocalResult(dir=tmp_path).stored_identity("out.pkl")
        assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_a_provenance_whose_inputs_changed_between_writes_records_the_new_inputs(tmp_path: Path) -> None:
    provenance = Provenance(flow="f", task="t", run_id="r", inputs={"rows": "sha256:1"})
    writer = recording(sealing(tmp_path), "out.pkl", provenance)
    writer.write(b"first")
    provenance.inputs["rows"] = "sha256:2"  # type: ignore[index]
    written = writer.write(b"second")
    assert written.written_record is not None and written.written_record.inputs == {"rows": "sha256:2"}
    assert json.loads(checked(record_file(tmp_path / "out.pkl").read_bytes()))["inputs"] == {"rows": "sha256:2"}


def test_a_subclass_that_builds_its_own_records_writes_them(tmp_path: Path) -> None:
    class Annotating(LocalResult):
        def new_record(self, *args: Any) -> TargetRecord:
            return super().new_record(*args).changed(code="code:annotated")

    for value in (b"first", b"second"):  # a new output (its attribute), then a rewritten one (its record file)
        written = recording(Annotating(dir=tmp_path), "out.pkl").write(value)
        assert written.written_record is not None and written.written_record.code == "code:annotated"
        assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


def test_the_record_of_a_write_is_given_by_the_result_written_its_copies_and_its_pickle(tmp_path: Path) -> None:
    """A checkpoint's record object is made when first asked for (``written_record``), from what the write kept."""
    writer = recording(LocalResult(dir=tmp_path), "out.pkl")
    writer.write(b"first")
    written = writer.write(b"second")
    stored = LocalResult(dir=tmp_path).record("out.pkl")
    assert stored is not None and stored.bytes_hash == bytes_hash(payload(tmp_path / "out.pkl"))
    assert pickle.loads(pickle.dumps(written)).written_record == written.copy().written_record == stored
    assert written.written_record == stored and written.written_record is written.written_record


@pytest.mark.parametrize(
    "provenance",
    [MADE_BY, Provenance(), Provenance(flow="f\u00e9\"\n", task="t\\", run_id="\u2603", code="c",
                                       inputs={"b": "h:\u00e9", "a": "h:\n\"", "\u2603": "h:1", "n": 5}),
     Provenance(flow="f", task="t", run_id="r", inputs={}), Provenance(flow="f", task="t", run_id="other-run",
                                                                        inputs={"\u00e9\"": "h:\n"})],
    ids=["usual", "nulls", "escapes", "no-inputs", "one-input-escaped"],
)
def test_a_records_json_made_in_one_formatting_is_the_record_built_whole(provenance: Provenance) -> None:
    """A provenance's first write makes its record's JSON at once (``written_json``: what one run's records say
    alike encoded once per run and task code): the bytes ``TargetRecord.to_json`` and the canonical encoder give."""
    from compat.results.records import written_json

    for run_id, code in [(provenance.run_id, provenance.code), ("another-run", provenance.code),
                         ("another-run", "sha256:another-task"), ("another-run", None)]:  # parts made, then others
        made_by = Provenance(provenance.flow, provenance.task, run_id, code, dict(provenance.inputs))
        whole = TargetRecord.of_write("blake3:00", 3, "/d/\u00e9\".pkl", made_by, "2026-12-06T00:00:00.000000Z",
                                      "PickleSerializer", _package_version(), {"trailer": True})
        made = written_json(made_by, "/d/\u00e9\".pkl", "PickleSerializer", _package_version(), "blake3:00", 3,
                            '{"trailer":true}', "2026-12-06T00:00:00.000000Z")
        assert made == whole.to_json() == json.dumps(
            whole.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")


def test_a_provenance_writes_its_first_record_whole_and_the_next_ones_through_its_form(tmp_path: Path) -> None:
    from compat.results import records

    writer = recording(LocalResult(dir=tmp_path), "out.pkl", Provenance(flow="f", task="t", run_id="r", inputs={}))
    key = (id(writer.provenance), str(tmp_path / "out.pkl"), "PickleSerializer")
    first = writer.write(b"first")
    assert records._FORMS.get(key) is writer.provenance  # seen once: no form made
    second = writer.write(b"second")
    assert type(records._FORMS.get(key)) is RecordForm
    third = writer.write(b"third")
    for written in (first, second, third):
        assert written.written_record is not None and written.written_record.stored == {"trailer": True}
    assert LocalResult(dir=tmp_path).record("out.pkl") == third.written_record
