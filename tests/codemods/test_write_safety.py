"""The codemod never loses work: a file saved while the run works on it is left as saved and reported ``edited``.

An editor's save lands between the codemod's read and its write by a trigger patched in before the workers fork (so
``-j 2`` runs it in the real worker processes): right after a file is transformed, before its new bytes are written.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import codemods.results.pool as pool
import codemods.results.runner as runner
from codemods.results.cli import main
from codemods.results.model import FileOutcome
from codemods.results.report import exit_code, totals
from codemods.results.runner import Options, run
from tests.codemods.test_pool import LEGACY, MIGRATED, legacy_tree

SAVED = LEGACY + "# saved by an editor during the run\n"


def save_during_the_run(
    monkeypatch: pytest.MonkeyPatch, chosen: Callable[[str], bool], save: Callable[[str], None]
) -> None:
    """Save ``chosen`` files (``save(path)``) after they are transformed and before they are written."""
    real_prepare = runner.prepare

    def prepare_then_save(path: str, *args: Any) -> tuple[FileOutcome, bytes | None]:
        prepared = real_prepare(path, *args)
        if chosen(path):
            save(path)
        return prepared

    monkeypatch.setattr(runner, "prepare", prepare_then_save)
    monkeypatch.setattr(pool, "prepare", prepare_then_save)


def append(path: str) -> None:
    with open(path, "a") as f:
        f.write("# saved by an editor during the run\n")


@pytest.mark.parametrize("jobs", [1, 2])
def test_files_saved_during_the_run_keep_the_saved_text_and_are_reported_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    if jobs > 1 and multiprocessing.get_start_method() != "fork":
        pytest.skip("the trigger is patched in before the workers fork")
    paths = legacy_tree(tmp_path, 60)
    saved = set(paths[::3])
    save_during_the_run(monkeypatch, saved.__contains__, append)

    outcomes = run(paths, Options(), jobs=jobs)

    assert {Path(path).read_text() for path in saved} == {SAVED}
    assert {Path(path).read_text() for path in set(paths) - saved} == {MIGRATED}
    assert {o.path for o in outcomes if o.status == "edited"} == saved
    assert totals(outcomes, "write")["files_edited_during_run"] == len(saved)
    assert totals(outcomes, "write")["files_changed"] == len(paths) - len(saved)
    assert exit_code(outcomes, "write") == 3


def test_a_save_that_keeps_the_size_and_the_modification_time_is_still_noticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [path] = legacy_tree(tmp_path, 1)

    def same_size_same_time(path: str) -> None:
        before = os.stat(path)
        Path(path).write_text(LEGACY.replace("h =", "g ="))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    save_during_the_run(monkeypatch, lambda _: True, same_size_same_time)
    [outcome] = run([path], Options(), jobs=1)
    assert outcome.status == "edited"
    assert Path(path).read_text() == LEGACY.replace("h =", "g =")


def test_a_file_removed_during_the_run_is_not_written_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = legacy_tree(tmp_path, 1)
    save_during_the_run(monkeypatch, lambda _: True, os.remove)
    [outcome] = run([path], Options(), jobs=1)
    assert outcome.status == "edited" and not os.path.exists(path)


def test_the_command_says_which_files_changed_during_the_run_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = legacy_tree(tmp_path, 3)
    save_during_the_run(monkeypatch, lambda path: path == paths[1], append)
    assert main(["-j", "1", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "changed on disk during the run, left as they are now; run the codemod again (1):\n  " + paths[1] in err
    assert Path(paths[1]).read_text() == SAVED
