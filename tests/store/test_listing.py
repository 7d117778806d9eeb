"""``list_root`` on a local directory: one row per output with its record, everything else named for what it is,
hostile contents included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compat.errors import ResultNotFound
from compat.results._atomic import TEMP_PREFIX
from compat.store import LocalRoot, list_root, open_root
from tests.store.helpers import RECORD_SUFFIX, output


def kinds(root: Path) -> dict[str, str]:
    return {entry.location: entry.kind for entry in list_root(LocalRoot(root)).entries}


def test_an_output_and_its_record_are_one_row(tmp_path: Path) -> None:
    output(tmp_path, "etl/raw.pkl", task="extract", run_id="r1")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.location, entry.kind, entry.record_note) == ("etl/raw.pkl", "output", "yes")
    assert (entry.record.task, entry.record.run_id) == ("extract", "r1")
    assert entry.written.isoformat() == "2026-01-01T00:00:00+00:00"  # the record's time, not the file's


def test_a_record_written_by_a_result_pairs_with_its_output(tmp_path: Path) -> None:
    from compat import LocalResult
    from compat.results.records import Provenance

    writer = LocalResult(dir=tmp_path, location="{task_name}.pkl")
    writer.provenance = Provenance(flow="etl", task="extract", run_id="r9")
    writer.write([1, 2, 3], task_name="extract")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.location, entry.record_note, entry.record.run_id) == ("extract.pkl", "yes", "r9")


def test_an_unsigned_record_is_not_believed_while_signing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output(tmp_path, "raw.pkl")
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "secret")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record, entry.record_note, entry.accounted) == (None, "untrusted (its signature)", False)


def test_a_record_beside_other_bytes_is_not_believed(tmp_path: Path) -> None:
    path = output(tmp_path, "raw.pkl")
    path.write_bytes(b"rewritten by hand")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.record, entry.record_note) == (None, "for other bytes")
    assert not entry.accounted


def test_a_record_that_is_not_json_is_said_unreadable(tmp_path: Path) -> None:
    output(tmp_path, "raw.pkl", record=False)
    (tmp_path / ("raw.pkl" + RECORD_SUFFIX)).write_bytes(b"{not json")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert entry.record is None and entry.record_note.startswith("unreadable")


def test_a_walked_file_has_the_identity_time_and_version_its_result_sees(tmp_path: Path) -> None:
    from compat import LocalResult
    from compat.store.roots import LocalFile

    result = LocalResult(dir=tmp_path)
    result.write_bytes("sub/a.pkl", b"abc")
    (found,) = LocalRoot(tmp_path).objects()
    assert isinstance(found, LocalFile) and (found.name, found.size, found.leased) == ("sub/a.pkl", 3, None)
    assert found.identity == result.stored_identity("sub/a.pkl")
    assert found.modified == result.modified_at("sub/a.pkl")
    assert found.version == f"{found.identity['inode']}:{found.identity['mtime_ns']}"


def test_a_foreign_file_is_an_output_without_a_record(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.kind, entry.record_note, entry.accounted) == ("output", "none", False)


def test_kept_aside_copies_name_their_output(tmp_path: Path) -> None:
    (tmp_path / "raw.pkl.unreadable-20261201T101010.123456Z").write_bytes(b"x")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.kind, entry.of) == ("kept-aside", "raw.pkl")


def test_a_record_whose_output_is_gone_is_listed_as_a_record(tmp_path: Path) -> None:
    output(tmp_path, "raw.pkl").unlink()
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.kind, entry.of, entry.note) == ("record", "raw.pkl", "its output is gone")


def test_a_lease_nobody_holds_is_listed_as_a_stale_lease(tmp_path: Path) -> None:
    (tmp_path / "raw.pkl.lease").write_bytes(b"{}")
    (entry,) = list_root(LocalRoot(tmp_path)).entries
    assert (entry.kind, entry.of, entry.note, entry.accounted) == ("lease", "raw.pkl", "stale: nobody holds it", True)


def test_a_held_lease_is_listed_with_its_holder(tmp_path: Path) -> None:
    from compat.results import LocalResult
    from compat.results.leases import Holder

    held = LocalResult(tmp_path).take_lease("raw.pkl", Holder.new("etl.raw"))
    try:
        (entry,) = list_root(LocalRoot(tmp_path)).entries
    finally:
        held.release()
    assert (entry.kind, entry.accounted) == ("lease", False)
    assert entry.note.startswith("held by task 'etl.raw', pid ")


def test_temporary_files_say_whether_their_writer_is_gone(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from compat.results import _atomic

    host = _atomic._HOST
    (tmp_path / f"{TEMP_PREFIX}{host}-{gone.stdout.strip()}-{1:x}-0.tmp").write_bytes(b"half")
    (tmp_path / f"{TEMP_PREFIX}{host}-{os.getpid()}-{2**62:x}-0.tmp").write_bytes(b"half")
    notes = sorted(entry.note for entry in list_root(LocalRoot(tmp_path)).entries)
    assert notes == ["being written, or by another machine", "its writer is gone"]


def test_a_link_out_of_the_root_is_listed_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.pkl").write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "file-link.pkl").symlink_to(outside / "deep" / "secret.pkl")
    assert kinds(root) == {"escape": "link", "file-link.pkl": "link"}


def test_names_with_spaces_and_newlines_are_listed_as_they_are(tmp_path: Path) -> None:
    output(tmp_path, "a dir/two words\nand a line.pkl")
    assert kinds(tmp_path) == {"a dir/two words\nand a line.pkl": "output"}


def test_a_root_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFound, match="does not exist"):
        open_root(str(tmp_path / "missing"))
