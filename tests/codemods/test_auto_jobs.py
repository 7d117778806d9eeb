"""``-j auto`` (the default): worker processes only when the files left to parse would take long in this process.

A small run never starts a worker (checked in a fresh interpreter: the pool module is never imported); a run whose
estimate says "big" hands the files it has not reached to real workers (the thresholds are lowered so a small tree
counts as big) and gets exactly the outcomes, in the same order, that one process gives.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import codemods.results.pool as pool
import codemods.results.runner as runner
from codemods.results.cli import main
from codemods.results.runner import Options, run

LEGACY = "from compat.result_handlers import JSONResultHandler\n\nh = JSONResultHandler()\n"
MIGRATED = "from compat.results import JSONResult\n\nh = JSONResult()\n"


def tree(root: Path, legacy: int, plain: int) -> list[str]:
    """``legacy`` files to rewrite and ``plain`` ones without legacy names, mixed (the same way on every call)."""
    texts = [LEGACY] * legacy + ["import os\n\nprint(os.sep)\n"] * plain
    random.Random(0).shuffle(texts)
    paths = []
    for index, text in enumerate(texts):
        path = root / f"pkg{index % 5}" / f"module_{index:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    return paths


def _cli_in_fresh_interpreter(*argv: str) -> tuple[int, bool]:
    """``main(argv)``'s exit code in a new interpreter and whether it imported the worker pool."""
    code = (
        "import json, sys\nfrom codemods.results.cli import main\n"
        f"status = main({list(argv)!r})\n"
        "print(json.dumps([status, 'codemods.results.pool' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    status, pooled = json.loads(out.splitlines()[-1])
    return status, pooled


def test_the_default_runs_a_small_tree_without_worker_processes(tmp_path: Path) -> None:
    paths = tree(tmp_path, legacy=6, plain=30)
    assert _cli_in_fresh_interpreter("-q", str(tmp_path)) == (0, False)
    assert sum(Path(path).read_text() == MIGRATED for path in paths) == 6


def test_jobs_auto_runs_a_small_tree_without_worker_processes(tmp_path: Path) -> None:
    tree(tmp_path, legacy=6, plain=30)
    assert _cli_in_fresh_interpreter("-q", "-j", "auto", "--check", str(tmp_path)) == (1, False)


def test_jobs_auto_hands_the_rest_of_a_big_run_to_workers_with_the_same_outcomes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = tree(tmp_path / "one", legacy=30, plain=30)
    auto = tree(tmp_path / "auto", legacy=30, plain=30)
    monkeypatch.setattr(runner, "_PROBE", 0.0)
    monkeypatch.setattr(runner, "_WORKERS_WORTH", {"fork": 0.0, "other": 0.0})
    handed: list[int] = []
    real = pool.run_in_workers

    def counted(paths: Any, options: Any, jobs: int, progress: Any = None) -> Any:
        handed.append(len(paths))
        return real(paths, options, jobs, progress)

    monkeypatch.setattr(pool, "run_in_workers", counted)

    sequential = run(one, Options(), jobs=1)
    automatic = run(auto, Options(), jobs="auto")

    assert handed and 0 < handed[0] < 30  # this process parsed some, the workers the rest
    assert [(Path(o.path).name, o.status, o.sites) for o in automatic] == [
        (Path(o.path).name, o.status, o.sites) for o in sequential
    ]
    assert [Path(p).read_text() for p in auto] == [Path(p).read_text() for p in one]


def test_jobs_auto_with_little_work_left_stays_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = tree(tmp_path, legacy=30, plain=0)
    monkeypatch.setattr(runner, "_PROBE", 0.0)
    monkeypatch.setattr(runner, "_WORKERS_WORTH", {"fork": 3600.0, "other": 3600.0})
    monkeypatch.setattr(pool, "run_in_workers", lambda *args: pytest.fail("started workers"))
    assert [o.status for o in run(paths, Options(mode="check"), jobs="auto")] == ["changed"] * 30


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_bad_jobs_value_is_a_usage_error_naming_it(tmp_path: Path, jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-j", jobs, str(tmp_path)]) == 2
    assert repr(jobs) in capsys.readouterr().err
