"""Records kept with their outputs (``RECORD_XATTR``), as a run writes them now, seen by ``ls``, ``show``, ``gc``
and ``invalidate`` as record files were (tests/store/helpers.py writes those, as earlier versions stored them)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from compat.results import LocalResult
from compat.results.records import Provenance, TargetRecord
from compat.store import LocalRoot, Rules, collect, list_root
from compat.store.cli import main
from compat.store.show import describe
from tests.records import attribute, record_file
from tests.store.helpers import record_json


def written(root: Path, name: str, run_id: str, value: object = 1) -> TargetRecord:
    writer = LocalResult(dir=root, location=name)
    writer.provenance = Provenance(flow="etl", task=name.partition("-")[0], run_id=run_id)
    record = writer.write(value).written_record
    assert record is not None and attribute(root / name) is not None and not record_file(root / name).exists()
    return record


def test_ls_shows_the_record_kept_with_the_output_over_a_record_file_for_other_bytes(tmp_path: Path) -> None:
    record = written(tmp_path, "a.pkl", "r2")
    record_file(tmp_path / "a.pkl").write_bytes(record_json("a.pkl", b"other", {"size": 5, "mtime_ns": 1, "inode": 2}))
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("yes", record)


def test_show_gives_the_record_kept_with_the_output(tmp_path: Path) -> None:
    record = written(tmp_path, "a.pkl", "r1", {"x": 1})
    shown = describe(LocalRoot(tmp_path), "a.pkl")
    assert shown.record == record and shown.record_note == "describes these bytes"


def test_gc_keep_last_reads_the_runs_from_records_kept_with_the_outputs(tmp_path: Path) -> None:
    for run in (1, 2, 3):
        written(tmp_path, f"a-{run}.pkl", f"r{run}")
    done = collect(LocalRoot(tmp_path), Rules(keep_last=1), now=datetime.now(timezone.utc) + timedelta(days=1))
    assert sorted(removal.entry.location for removal in done.removed) == ["a-1.pkl", "a-2.pkl"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-3.pkl"]


def test_invalidate_marks_the_record_kept_with_the_output(tmp_path: Path) -> None:
    written(tmp_path, "a.pkl", "r1")
    assert main(["invalidate", str(tmp_path / "a.pkl")]) == 0
    assert json.loads(attribute(tmp_path / "a.pkl") or b"")["invalidated"] is not None
    assert not record_file(tmp_path / "a.pkl").exists()
    assert LocalResult(dir=tmp_path).record("a.pkl").invalidated is not None  # type: ignore[union-attr]


def test_ls_and_show_read_a_record_file_rewritten_in_place(tmp_path: Path) -> None:
    for run in ("r1", "r2", "r3"):  # the first record with the output, the next ones in the record file
        writer = LocalResult(dir=tmp_path, location="a.pkl")
        writer.provenance = Provenance(flow="etl", task="a", run_id=run)
        record = writer.write(run).written_record
    assert attribute(tmp_path / "a.pkl") is None and record_file(tmp_path / "a.pkl").exists()
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record_note, entry.record) == ("yes", record)
    assert describe(LocalRoot(tmp_path), "a.pkl").record == record
