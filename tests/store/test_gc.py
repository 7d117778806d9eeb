"""``gc`` on a local directory: the rules, ``--dry-run`` equal to the real run, and never a file it cannot account
for, a link, or a file being written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from compat.results import LocalResult
from compat.results._atomic import TEMP_PREFIX
from compat.results.leases import Holder
from compat.store import LocalRoot, Rules, collect
from compat.store.gc import parse_age, parse_size
from tests.store.helpers import RECORD_SUFFIX, output, tree

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def removed(root: Path, rules: Rules, dry_run: bool = False) -> list[str]:
    return [removal.entry.location for removal in collect(LocalRoot(root), rules, dry_run, now=NOW).removed]


def aged(root: Path, name: str, days: int, **fields: object) -> Path:
    written = (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    return output(root, name, written_at=written, **fields)


def test_older_than_removes_old_outputs_with_their_records(tmp_path: Path) -> None:
    aged(tmp_path, "old.pkl", 40)
    aged(tmp_path, "new.pkl", 1)
    assert removed(tmp_path, Rules(older_than=timedelta(days=30))) == ["old.pkl"]
    assert tree(tmp_path) == ["new.pkl", "new.pkl" + RECORD_SUFFIX]


def test_dry_run_reports_exactly_what_the_real_run_removes(tmp_path: Path) -> None:
    for day in range(6):
        aged(tmp_path, f"t/{day}.pkl", day * 10, run_id=f"r{day}")
    (tmp_path / "t" / "0.pkl.unreadable-20261101T000000.000000Z").write_bytes(b"bad")
    rules = Rules(older_than=timedelta(days=25), keep_last=1, max_size=20, unreadable=True)
    before = tree(tmp_path)
    would = collect(LocalRoot(tmp_path), rules, dry_run=True, now=NOW)
    assert tree(tmp_path) == before  # a dry run removes nothing
    done = collect(LocalRoot(tmp_path), rules, now=NOW)
    assert [r.to_dict() for r in would.removed] == [r.to_dict() for r in done.removed] != []
    assert would.freed == done.freed


def test_keep_last_keeps_each_tasks_newest_runs(tmp_path: Path) -> None:
    for day in range(3):
        aged(tmp_path, f"a{day}.pkl", day, task="a", run_id=f"r{day}")
        aged(tmp_path, f"b{day}.pkl", day, task="b", run_id=f"r{day}")
    assert removed(tmp_path, Rules(keep_last=1)) == ["a1.pkl", "a2.pkl", "b1.pkl", "b2.pkl"]


def test_keep_last_protects_from_older_than(tmp_path: Path) -> None:
    aged(tmp_path, "only.pkl", 400)
    assert removed(tmp_path, Rules(older_than=timedelta(days=1), keep_last=1)) == []


def test_max_size_removes_the_oldest_first(tmp_path: Path) -> None:
    for day in range(4):
        aged(tmp_path, f"{day}.pkl", day, data=b"x" * 100, run_id=f"r{day}")
    footprint = 100 + (tmp_path / ("0.pkl" + RECORD_SUFFIX)).stat().st_size
    assert removed(tmp_path, Rules(max_size=2 * footprint + 50)) == ["2.pkl", "3.pkl"]


def test_kept_aside_copies_go_only_with_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.pkl.unreadable-20261101T000000.000000Z").write_bytes(b"bad")
    assert removed(tmp_path, Rules()) == []
    assert removed(tmp_path, Rules(unreadable=True)) == ["x.pkl.unreadable-20261101T000000.000000Z"]


def test_files_it_cannot_account_for_are_never_removed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("someone's")
    aged(tmp_path, "hand-edited.pkl", 90).write_bytes(b"changed after its record")
    output(tmp_path, "legacy.pkl", record=False)
    held = LocalResult(tmp_path).take_lease("x", Holder.new("running"))
    rules = Rules(older_than=timedelta(0), keep_last=0, max_size=0, unreadable=True)
    try:
        assert removed(tmp_path, rules) == []
    finally:
        held.release()
    assert "notes.txt" in tree(tmp_path)


def test_a_lease_file_nobody_holds_is_collected(tmp_path: Path) -> None:
    (tmp_path / "x.pkl.lease").write_text("{}")  # left by a holder that died before removing it
    assert removed(tmp_path, Rules()) == ["x.pkl.lease"]
    assert tree(tmp_path) == []


def test_a_held_lease_is_never_collected_and_still_held_after(tmp_path: Path) -> None:
    held = LocalResult(tmp_path).take_lease("x.pkl", Holder.new("running"))
    try:
        assert removed(tmp_path, Rules(older_than=timedelta(0), unreadable=True)) == []
        assert LocalResult(tmp_path).lease_holder("x.pkl") == held.holder
    finally:
        held.release()


def test_links_out_of_the_root_are_never_followed_or_removed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    aged(outside, "victim.pkl", 90)
    root = tmp_path / "root"
    root.mkdir()
    (root / "dir-link").symlink_to(outside)
    (root / "file-link.pkl").symlink_to(outside / "victim.pkl")
    assert removed(root, Rules(older_than=timedelta(0), unreadable=True)) == []
    assert tree(outside) == ["victim.pkl", "victim.pkl" + RECORD_SUFFIX]
    assert sorted(os.listdir(root)) == ["dir-link", "file-link.pkl"]


def test_a_directory_swapped_for_a_link_after_the_listing_is_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    aged(root, "sub/old.pkl", 90)
    chosen = collect(LocalRoot(root), Rules(older_than=timedelta(days=1)), dry_run=True, now=NOW).removed
    (outside / "sub").mkdir(parents=True)
    os.rename(root / "sub", outside / "sub-moved")
    (root / "sub").symlink_to(outside / "sub-moved")
    from compat.store.gc import _remove

    assert _remove(LocalRoot(root), chosen[0].entry) is not None
    assert (outside / "sub-moved" / "old.pkl").exists()


def test_an_output_rewritten_after_the_listing_is_left(tmp_path: Path) -> None:
    path = aged(tmp_path, "old.pkl", 90)
    root = LocalRoot(tmp_path)
    from compat.store.gc import _remove, decide
    from compat.store.listing import list_root

    (chosen,) = decide(list_root(root), Rules(older_than=timedelta(days=1)), now=NOW)
    time.sleep(0.01)
    path.write_bytes(b"a new run's output")
    assert _remove(root, chosen.entry) == "changed or removed since it was listed: left alone"
    assert path.read_bytes() == b"a new run's output"


def test_a_file_being_written_by_another_process_is_left_and_an_abandoned_one_removed(tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys; from compat.results._atomic import atomic_write\n"
         "atomic_write(sys.argv[1], lambda f: (f.write(b'part'), f.flush(), print('writing', flush=True), "
         "sys.stdin.readline()))", str(tmp_path / "big.pkl")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        (live,) = [name for name in os.listdir(tmp_path) if name.startswith(TEMP_PREFIX)]
        killed = subprocess.Popen([sys.executable, "-c", "pass"])
        killed.wait()
        from compat.results import _atomic

        dead = f"{TEMP_PREFIX}{_atomic._HOST}-{killed.pid}-{time.time_ns() - 10**9:x}-0.tmp"
        (tmp_path / dead).write_bytes(b"left by a killed writer")
        assert removed(tmp_path, Rules()) == [dead]
        assert live in os.listdir(tmp_path)
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.close()
        writer.wait(timeout=30)
    assert (tmp_path / "big.pkl").read_bytes() == b"part"


def test_names_with_spaces_and_newlines_are_removed_and_reported_as_they_are(tmp_path: Path) -> None:
    aged(tmp_path, "a b/c\nd.pkl", 90)
    assert removed(tmp_path, Rules(older_than=timedelta(days=1))) == ["a b/c\nd.pkl"]
    assert tree(tmp_path) == [] and (tmp_path / "a b").is_dir()


@pytest.mark.parametrize(("text", "age"), [("30d", timedelta(days=30)), ("1d12h", timedelta(days=1, hours=12)),
                                           ("90m", timedelta(minutes=90)), ("2w", timedelta(weeks=2))])
def test_ages_are_read_with_their_units(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["30", "3x", "d", "-1d", ""])
def test_an_age_without_a_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age(text)


@pytest.mark.parametrize(("text", "size"), [("50G", 50 * 1024**3), ("500M", 500 * 1024**2), ("10k", 10240),
                                            ("1.5GiB", 1536 * 1024**2), ("123", 123)])
def test_sizes_are_read_in_powers_of_1024(text: str, size: int) -> None:
    assert parse_size(text) == size
