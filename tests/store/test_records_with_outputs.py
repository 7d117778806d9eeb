"""Records kept with their outputs, as a run writes them now, seen by ``ls``, ``show``, ``gc`` and ``invalidate`` as
record files were (tests/store/helpers.py writes those, as earlier versions stored them): after the pickle in the
output's own file (``compat.results.trailer``, the default ``PickleSerializer``'s), or as the output's extended
attribute (``RECORD_XATTR``: another serializer's, and an earlier version's)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from compat.results import LocalResult
from compat.results.records import Provenance, TargetRecord
from compat.results.serializers import PickleSerializer
from compat.store import LocalRoot, Rules, collect, list_root
from compat.store.cli import main
from compat.store.show import describe
from tests.records import attribute, record_file, trailer_json
from tests.store.helpers import record_json


class CustomSerializer(PickleSerializer):
    """A serializer of the user's own: its new outputs keep their records as their extended attribute."""


KINDS = ["trailer", "attribute"]


def kept(root: Path, name: str, kind: str) -> bytes | None:
    """The record kept with the output ``name`` the ``kind`` way."""
    return trailer_json(root / name) if kind == "trailer" else attribute(root / name)


def written(root: Path, name: str, run_id: str, kind: str, value: object = 1) -> TargetRecord:
    writer = LocalResult(dir=root, location=name, serializer=PickleSerializer() if kind == "trailer" else
                         CustomSerializer())
    writer.provenance = Provenance(flow="etl", task=name.partition("-")[0], run_id=run_id)
    record = writer.write(value).written_record
    assert record is not None and kept(root, name, kind) is not None and not record_file(root / name).exists()
    return record


@pytest.mark.parametrize("kind", KINDS)
def test_ls_shows_the_record_kept_with_the_output_over_a_record_file_for_other_bytes(tmp_path: Path, kind: str
                                                                                     ) -> None:
    record = written(tmp_path, "a.pkl", "r2", kind)
    record_file(tmp_path / "a.pkl").write_bytes(record_json("a.pkl", b"other", {"size": 5, "mtime_ns": 1, "inode": 2}))
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("yes", record)


@pytest.mark.parametrize("kind", KINDS)
def test_show_gives_the_record_kept_with_the_output(tmp_path: Path, kind: str) -> None:
    record = written(tmp_path, "a.pkl", "r1", kind, {"x": 1})
    shown = describe(LocalRoot(tmp_path), "a.pkl")
    assert shown.record == record and shown.record_note == "describes these bytes"


@pytest.mark.parametrize("kind", KINDS)
def test_gc_keep_last_reads_the_runs_from_records_kept_with_the_outputs(tmp_path: Path, kind: str) -> None:
    for run in (1, 2, 3):
        written(tmp_path, f"a-{run}.pkl", f"r{run}", kind)
    done = collect(LocalRoot(tmp_path), Rules(keep_last=1), now=datetime.now(timezone.utc) + timedelta(days=1))
    assert sorted(removal.entry.location for removal in done.removed) == ["a-1.pkl", "a-2.pkl"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-3.pkl"]


def test_invalidate_marks_the_record_kept_as_the_outputs_attribute(tmp_path: Path) -> None:
    written(tmp_path, "a.pkl", "r1", "attribute")
    assert main(["invalidate", str(tmp_path / "a.pkl")]) == 0
    assert json.loads(attribute(tmp_path / "a.pkl") or b"")["invalidated"] is not None
    assert not record_file(tmp_path / "a.pkl").exists()
    assert LocalResult(dir=tmp_path).record("a.pkl").invalidated is not None  # type: ignore[union-attr]


def test_invalidate_of_an_output_carrying_its_record_writes_the_record_file_naming_it(tmp_path: Path) -> None:
    """The output is not rewritten: the invalidated record goes beside it, naming the file as it is, and is read
    before the record the file carries."""
    before = (tmp_path / "a.pkl").read_bytes() if (written(tmp_path, "a.pkl", "r1", "trailer")) else b""
    assert main(["invalidate", str(tmp_path / "a.pkl")]) == 0
    assert (tmp_path / "a.pkl").read_bytes() == before and record_file(tmp_path / "a.pkl").exists()
    record = LocalResult(dir=tmp_path).record("a.pkl")
    assert record is not None and record.invalidated is not None and record.run_id == "r1"
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert entry.record is not None and entry.record.invalidated == record.invalidated


def test_ls_and_show_read_a_record_file_rewritten_in_place(tmp_path: Path) -> None:
    for run in ("r1", "r2", "r3"):  # the first record with the output, the next ones in the record file
        writer = LocalResult(dir=tmp_path, location="a.pkl", serializer=CustomSerializer())
        writer.provenance = Provenance(flow="etl", task="a", run_id=run)
        record = writer.write(run).written_record
    assert attribute(tmp_path / "a.pkl") is None and record_file(tmp_path / "a.pkl").exists()
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("yes", record)
    assert describe(LocalRoot(tmp_path), "a.pkl").record == record
