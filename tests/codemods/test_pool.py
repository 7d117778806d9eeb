"""``-j N`` worker processes: a worker that dies loses nothing, and the summary counts exactly the files rewritten.

The workers are real processes killed with a real SIGKILL: from outside, mid-run; or by a trigger patched in
before they fork (inherited by the workers) at the exact moment a test needs: after committing a file, or on a
file that kills every worker it reaches.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import codemods.results.pool as pool
import codemods.results.runner as runner
from codemods.results.model import FileOutcome
from codemods.results.report import totals
from codemods.results.runner import Options, run

LEGACY = "from compat.result_handlers import JSONResultHandler\n\nh = JSONResultHandler()\n"
MIGRATED = "from compat.results import JSONResult\n\nh = JSONResult()\n"

needs_fork = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the trigger is patched in before the workers fork"
)


def legacy_tree(root: Path, files: int) -> list[str]:
    paths = []
    for index in range(files):
        path = root / f"pkg{index % 10}" / f"module_{index:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LEGACY)
        paths.append(str(path))
    return paths


def rewritten_on_disk(paths: list[str]) -> int:
    return sum(Path(path).read_text() == MIGRATED for path in paths)


def test_a_worker_killed_mid_run_loses_no_file_and_the_summary_counts_every_rewrite(tmp_path: Path) -> None:
    paths = legacy_tree(tmp_path, 240)
    killed: list[multiprocessing.Process] = []
    done = []

    def kill_one_worker(count: int) -> None:
        done.append(count)
        if not killed and len(done) == 40:  # both workers are busy: each holds a batch or two
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
            killed.append(victim)

    outcomes = run(paths, Options(), jobs=2, progress=kill_one_worker)

    assert killed and killed[0].exitcode == -signal.SIGKILL
    assert [o.status for o in outcomes] == ["changed"] * len(paths)
    assert totals(outcomes, "write")["files_changed"] == rewritten_on_disk(paths) == len(paths)


@needs_fork
def test_a_file_committed_just_before_its_worker_died_counts_as_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = legacy_tree(tmp_path, 40)
    victim = paths[5]
    real_commit = runner.commit

    def commit_then_die(outcome: FileOutcome, new_data: bytes, original: runner.Original) -> FileOutcome:
        committed = real_commit(outcome, new_data, original)
        if outcome.path == victim:
            os.kill(os.getpid(), signal.SIGKILL)  # before the worker can report it
        return committed

    monkeypatch.setattr(runner, "commit", commit_then_die)
    outcomes = run(paths, Options(), jobs=2)

    assert outcomes[5].status == "changed"
    assert outcomes[5].sites  # the outcome the worker announced, with its sites
    assert totals(outcomes, "write")["files_changed"] == rewritten_on_disk(paths) == len(paths)


@needs_fork
def test_a_file_that_kills_two_workers_fails_alone_and_the_rest_are_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = legacy_tree(tmp_path, 40)
    poison = paths[7]
    real_prepare = pool.prepare

    def prepare_or_die(path: str, *args: Any) -> tuple[FileOutcome, bytes | None]:
        if path == poison:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_prepare(path, *args)

    monkeypatch.setattr(pool, "prepare", prepare_or_die)
    outcomes = run(paths, Options(), jobs=2)

    assert outcomes[7].status == "failed"
    assert "two worker processes died (killed by SIGKILL)" in outcomes[7].error
    assert Path(poison).read_text() == LEGACY
    assert [o.status for i, o in enumerate(outcomes) if i != 7] == ["changed"] * (len(paths) - 1)
    assert rewritten_on_disk(paths) == len(paths) - 1


def test_workers_give_the_same_outcomes_in_the_same_order_as_one_process(tmp_path: Path) -> None:
    one = legacy_tree(tmp_path / "one", 30)
    two = legacy_tree(tmp_path / "two", 30)
    (tmp_path / "one" / "plain.py").write_text("import os\n")
    (tmp_path / "two" / "plain.py").write_text("import os\n")
    one.insert(3, str(tmp_path / "one" / "plain.py"))
    two.insert(3, str(tmp_path / "two" / "plain.py"))

    sequential = run(one, Options(mode="check"), jobs=1)
    parallel = run(two, Options(mode="check"), jobs=2)

    assert [(o.status, o.sites) for o in parallel] == [(o.status, o.sites) for o in sequential]
    assert [o.path for o in parallel] == two
