"""A pickle carrying its record after its STOP opcode (``compat.results.trailer``): written in the same write as the
bytes, read back by ``Result.record``, ``ls`` and ``show``, invisible to every reader of the value, and never believed
when it is cut short, foreign, or left by a killed writer."""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cloudpickle
import pytest

from compat import LocalResult, PickleSerializer
from compat.results.records import RECORD_XATTR, Provenance, TargetRecord, bytes_hash
from compat.results.trailer import FOOTER, TRAILER_MAGIC, trailer, trailer_of
from compat.store import LocalRoot, list_root
from compat.store.accept import _stored_hash
from compat.store.show import describe
from tests.records import attribute, payload, record_file, trailer_json

MADE_BY = Provenance(flow="etl", task="clean", run_id="run-1", code="code:1", inputs={"rows": "sha256:ab"})


def recorded(tmp_path: Path, value: object, location: str = "out.pkl", run_id: str = "run-1") -> LocalResult:
    writer = LocalResult(dir=tmp_path, location=location)
    writer.provenance = Provenance(flow="etl", task="clean", run_id=run_id, code="code:1", inputs={"rows": "h:1"})
    return writer.write(value)


@pytest.mark.parametrize("value", [{"a": [1, 2]}, b"x" * 1000, "text"], ids=["object", "bytes", "str"])
def test_a_pickle_written_with_its_record_carries_it_after_the_pickle(tmp_path: Path, value: object) -> None:
    written = recorded(tmp_path, value)
    assert os.listdir(tmp_path) == ["out.pkl"] and attribute(tmp_path / "out.pkl") is None
    assert written.written_record is not None
    assert trailer_json(tmp_path / "out.pkl") == written.written_record.to_json()
    assert LocalResult(dir=tmp_path).record("out.pkl") == written.written_record


@pytest.mark.parametrize("value", [b"x" * 1000, {"a": [1, 2]}, os.urandom(300 * 1024)], ids=["small", "object", "large"])
def test_a_write_at_a_new_location_carries_its_record_and_remembers_no_form_for_it(
    tmp_path: Path, value: object
) -> None:
    """A Result without a location writes each value at a new one (a task without a target's checkpoint): its
    record is the one read back, and its provenance is not remembered there (it can never write there again)."""
    from compat.results import records

    writer = LocalResult(dir=tmp_path)
    writer.provenance = MADE_BY
    forms = dict(records._FORMS)
    written = writer.write(value)
    assert isinstance(written.location, str) and os.path.dirname(written.location) == str(tmp_path)
    assert records._FORMS == forms
    assert written.written_record is not None and written.written_record.location == written.location
    assert trailer_json(written.location) == written.written_record.to_json()
    assert LocalResult(dir=tmp_path).record(written.location) == written.written_record


def test_the_value_still_loads_with_plain_pickle_and_cloudpickle(tmp_path: Path) -> None:
    recorded(tmp_path, {"a": [1, 2]})
    data = (tmp_path / "out.pkl").read_bytes()
    assert trailer_of(data) is not None
    with open(tmp_path / "out.pkl", "rb") as f:
        assert pickle.load(f) == {"a": [1, 2]}
    assert pickle.loads(data) == cloudpickle.loads(data) == {"a": [1, 2]}
    assert LocalResult(dir=tmp_path).read("out.pkl").value == {"a": [1, 2]}


def test_a_large_value_carries_its_record_and_reads_back(tmp_path: Path) -> None:
    value = os.urandom(3 * 1024 * 1024)
    written = recorded(tmp_path, value)
    assert written.written_record is not None and trailer_json(tmp_path / "out.pkl") is not None
    with open(tmp_path / "out.pkl", "rb") as f:
        assert pickle.load(f) == value
    assert LocalResult(dir=tmp_path).read("out.pkl").value == value


@pytest.mark.parametrize("size", [1000, 3 * 1024 * 1024], ids=["small", "streamed"])
def test_read_checked_hashes_the_pickle_without_its_record(tmp_path: Path, size: int) -> None:
    written = recorded(tmp_path, os.urandom(size))
    record = written.written_record
    assert record is not None and os.path.getsize(tmp_path / "out.pkl") > record.size == len(payload(tmp_path / "out.pkl"))
    assert record.bytes_hash == bytes_hash(payload(tmp_path / "out.pkl"))
    read, matches = LocalResult(dir=tmp_path).read_checked("out.pkl", record)
    assert matches and read.value == written.value


def test_ls_and_show_give_the_record_a_pickle_carries(tmp_path: Path) -> None:
    written = recorded(tmp_path, {"x": 1})
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("yes", written.written_record)
    shown = describe(LocalRoot(tmp_path), "out.pkl")
    assert (shown.record, shown.record_note) == (written.written_record, "describes these bytes")


def _no_record_anywhere(tmp_path: Path) -> None:
    assert LocalResult(dir=tmp_path).record("out.pkl") is None
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("none", None)


@pytest.mark.parametrize("cut", [1, 8, FOOTER.size, FOOTER.size + 10])
def test_a_record_cut_short_is_no_record_and_the_value_still_reads(tmp_path: Path, cut: int) -> None:
    recorded(tmp_path, {"x": 1})
    data = (tmp_path / "out.pkl").read_bytes()
    (tmp_path / "out.pkl").write_bytes(data[:-cut])
    _no_record_anywhere(tmp_path)
    assert LocalResult(dir=tmp_path).read("out.pkl").value == {"x": 1}


def test_bytes_appended_after_a_record_or_a_pickle_are_no_record(tmp_path: Path) -> None:
    recorded(tmp_path, {"x": 1})
    with open(tmp_path / "out.pkl", "ab") as f:
        f.write(os.urandom(100) + TRAILER_MAGIC)
    _no_record_anywhere(tmp_path)
    (tmp_path / "out.pkl").write_bytes(pickle.dumps(1) + os.urandom(64))
    _no_record_anywhere(tmp_path)


def test_a_pickle_whose_bytes_end_like_a_record_is_no_record(tmp_path: Path) -> None:
    """A value that is itself a file with a record: its pickle ends with STOP, so no footer is at the file's end."""
    recorded(tmp_path, {"x": 1}, location="inner.pkl")
    inner = (tmp_path / "inner.pkl").read_bytes()
    LocalResult(dir=tmp_path, location="out.pkl").write(inner)
    assert trailer_of(inner) is not None and trailer_of((tmp_path / "out.pkl").read_bytes()) is None
    assert LocalResult(dir=tmp_path).record("out.pkl") is None


def test_a_record_whose_crc_does_not_match_is_no_record(tmp_path: Path) -> None:
    recorded(tmp_path, {"x": 1})
    data = bytearray((tmp_path / "out.pkl").read_bytes())
    data[-FOOTER.size - 5] ^= 1  # a byte of the JSON changed: its CRC-32 no longer matches
    (tmp_path / "out.pkl").write_bytes(bytes(data))
    _no_record_anywhere(tmp_path)


def _plant(tmp_path: Path, pickled: bytes, record: TargetRecord) -> None:
    (tmp_path / "out.pkl").write_bytes(pickled + trailer(record.to_json(), len(pickled)))


def test_a_planted_record_with_a_wrong_byte_hash_is_read_and_fails_the_read_check(tmp_path: Path) -> None:
    pickled = pickle.dumps({"x": 1})
    lying = TargetRecord.filled(bytes_hash=bytes_hash(b"other"), size=len(pickled), location="out.pkl",
                                run_id="planted", stored={"trailer": True})
    _plant(tmp_path, pickled, lying)
    result = LocalResult(dir=tmp_path)
    assert result.record("out.pkl") == lying
    read, matches = result.read_checked("out.pkl", lying)
    assert read.value == {"x": 1} and not matches
    assert describe(LocalRoot(tmp_path), "out.pkl").record_note == "for other bytes (the output was replaced since)"


@pytest.mark.parametrize(
    "stored, size_off", [({"trailer": True}, 1), ({"size": 1, "mtime_ns": 1, "inode": 1}, 0), (None, 0)],
    ids=["another-size", "an-identity", "no-identity"],
)
def test_a_planted_record_not_of_this_pickle_is_no_record(tmp_path: Path, stored: object, size_off: int) -> None:
    pickled = pickle.dumps({"x": 1})
    planted = TargetRecord.filled(bytes_hash=bytes_hash(pickled), size=len(pickled) + size_off, location="out.pkl",
                                  stored=stored)
    _plant(tmp_path, pickled, planted)
    _no_record_anywhere(tmp_path)


def test_a_record_written_for_an_existing_output_wins_until_a_run_rewrites_it(tmp_path: Path) -> None:
    """``results-compat touch`` writes a record naming the output as it is (the record file): read before the
    output's own; a run that rewrites the output writes a new one with it, and the record file names the old file."""
    recorded(tmp_path, {"x": 1}, run_id="run-1")
    result = LocalResult(dir=tmp_path)
    digest, size = _stored_hash(result, "out.pkl")  # as touch hashes it
    touched = result.write_record(result.resolve("out.pkl"), Provenance(flow="etl", task="clean", run_id="touched"),
                                  digest, size)
    assert touched.bytes_hash == bytes_hash(payload(tmp_path / "out.pkl")) and record_file(tmp_path / "out.pkl").exists()
    assert result.record("out.pkl") == touched and result.read_checked("out.pkl", touched)[1]
    assert list_root(LocalRoot(tmp_path)).entries[0].record == touched
    assert describe(LocalRoot(tmp_path), "out.pkl").record == touched
    rewritten = recorded(tmp_path, {"x": 2}, run_id="run-2").written_record
    assert record_file(tmp_path / "out.pkl").exists()  # left as it was: it names the file replaced
    assert result.record("out.pkl") == rewritten and rewritten is not None and rewritten.run_id == "run-2"
    assert list_root(LocalRoot(tmp_path)).entries[0].record == rewritten
    assert describe(LocalRoot(tmp_path), "out.pkl").record == rewritten


def test_records_of_earlier_versions_are_still_read(tmp_path: Path) -> None:
    """A pickle without a record of its own, whose record is its attribute, or the record file beside it."""
    pickled = pickle.dumps("old")
    result = LocalResult(dir=tmp_path)
    for name, where in (("a.pkl", "attribute"), ("b.pkl", "file")):
        (tmp_path / name).write_bytes(pickled)
        earlier = TargetRecord.filled(bytes_hash=bytes_hash(pickled), size=len(pickled), location=name, run_id=where,
                                      stored=result.stored_identity(name))
        if where == "attribute":
            os.setxattr(tmp_path / name, RECORD_XATTR, earlier.to_json())
        else:
            record_file(tmp_path / name).write_bytes(earlier.to_json())
        assert result.record(name) == earlier and result.read_checked(name, earlier)[1]
        assert describe(LocalRoot(tmp_path), name).record == earlier
    entries = {entry.location: entry for entry in list_root(LocalRoot(tmp_path)).entries}
    assert (entries["a.pkl"].record.run_id, entries["b.pkl"].record.run_id) == ("attribute", "file")  # type: ignore[union-attr]


def test_a_result_that_signs_writes_no_record_into_the_file(tmp_path: Path) -> None:
    writer = LocalResult(dir=tmp_path, location="out.pkl", serializer=PickleSerializer(signing_key="key-one"))
    writer.provenance = MADE_BY
    written = writer.write({"x": 1})
    assert trailer_json(tmp_path / "out.pkl") is None and record_file(tmp_path / "out.pkl").exists()
    reader = LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="key-one"))
    assert reader.record("out.pkl") == written.written_record


def test_an_unsigned_record_in_the_file_is_not_believed_while_signing(tmp_path: Path) -> None:
    recorded(tmp_path, {"x": 1})
    assert LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="key-one")).record("out.pkl") is None


WRITER = """
    import os, sys
    from compat import LocalResult
    from compat.results.records import Provenance
    result = LocalResult(dir=sys.argv[1], location="out.pkl")
    result.provenance = Provenance(flow="f", task="t", run_id=sys.argv[2])
    value = os.urandom(int(sys.argv[3]))
    print("writing", flush=True)
    while True:
        result.write(value)
"""


def test_a_writer_killed_mid_write_never_leaves_a_record_of_other_bytes(tmp_path: Path) -> None:
    """A writer of a 16 MB value is killed (SIGKILL) at random moments of its writes: what is at the location is
    always one whole value with its record, whose hash is of those very bytes."""
    script = textwrap.dedent(WRITER)
    subprocess.run([sys.executable, "-c", script.replace("while True:", "for _ in range(1):"), str(tmp_path),
                    "first", "1000"], check=True, timeout=60, stdout=subprocess.DEVNULL)
    result = LocalResult(dir=tmp_path)
    for round_ in range(4):
        process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), f"run-{round_}", str(16 << 20)],
                                   stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"writing\n"
        time.sleep(0.05 + 0.1 * round_)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        record = result.record("out.pkl")
        assert record is not None
        read, matches = result.read_checked("out.pkl", record)
        assert matches and len(pickle.loads(payload(tmp_path / "out.pkl"))) in (1000, 16 << 20)


def test_a_stream_limited_to_the_pickle_hides_the_record_from_a_look_ahead(tmp_path: Path) -> None:
    from compat.results.records import HashingReader

    recorded(tmp_path, os.urandom(300_000))
    data = (tmp_path / "out.pkl").read_bytes()
    size = trailer_of(data)[0]  # type: ignore[index]
    with open(tmp_path / "out.pkl", "rb", buffering=io.DEFAULT_BUFFER_SIZE) as f:
        reader = HashingReader(f, limit=size)
        assert len(reader.peek(10**6)) <= size  # type: ignore[attr-defined]
        pickle.load(reader)  # type: ignore[arg-type]
        assert reader.finish() == bytes_hash(data[:size]) and reader.size == size
