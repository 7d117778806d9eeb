"""Flows written for Prefect 0.10-0.13 (examples/prefect_legacy) run unmodified through the bridge, and print the
same after ``results-codemod --profile prefect``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.results.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "prefect_legacy"
FLOWS = ("etl", "task_classes", "own_handler", "squares")
WARNING_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<category>Legacy\w+Warning): ", re.MULTILINE)


def run_flow(script: Path, results: Path) -> subprocess.CompletedProcess[str]:
    results.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT__FLOWS__CHECKPOINTING": "true",
        "PREFECT__LOGGING__LEVEL": "WARNING",  # its INFO lines go to stdout, with times in them
        "RESULTS_COMPAT_LEGACY": "default",
    }
    proc = subprocess.run(
        [sys.executable, str(script), str(results)], cwd=script.parent, env=env, capture_output=True, text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def legacy_warnings(proc: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    return {(Path(m["file"]).name, m["category"]) for m in WARNING_LINE.finditer(proc.stderr)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "prefect_legacy"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("name", FLOWS)
def test_a_legacy_flow_runs_unmodified_and_prints_the_same_after_the_codemod(
    project: Path, tmp_path: Path, name: str
) -> None:
    script = project / f"{name}.py"
    legacy = run_flow(script, tmp_path / "legacy")
    assert legacy_warnings(legacy), "the legacy flow should warn"

    main(["--profile", "prefect", "--quiet", str(project)])
    assert script.read_text() != (EXAMPLES / f"{name}.py").read_text() or name == "own_handler"
    migrated = run_flow(script, tmp_path / "migrated")
    assert migrated.stdout == legacy.stdout


@pytest.mark.slow
def test_after_the_codemod_only_the_teams_own_handler_still_warns(project: Path, tmp_path: Path) -> None:
    assert main(["--profile", "prefect", "--quiet", str(project)]) == 1  # the follow-ups: own_handler.py
    warned = set().union(*(legacy_warnings(run_flow(project / f"{name}.py", tmp_path / name)) for name in FLOWS))
    assert {file for file, _ in warned} == {"own_handler.py"}


@pytest.mark.slow
def test_the_own_handler_target_is_cached_on_the_second_run(project: Path, tmp_path: Path) -> None:
    out = run_flow(project / "own_handler.py", tmp_path / "results").stdout.splitlines()
    assert out == ["computing squares", "run 1: Success [0, 1, 4, 9, 16]", "run 2: Cached [0, 1, 4, 9, 16]"]


@pytest.mark.slow
def test_a_legacy_flow_runs_on_dask_worker_processes(tmp_path: Path) -> None:
    script = tmp_path / "dask_flow.py"
    script.write_text(
        "import sys\n"
        "from prefect import Flow, task\n"
        "from prefect.executors import LocalDaskExecutor\n"
        "from prefect.engine.result_handlers import LocalResultHandler, ResultHandler\n"
        "class Memory(ResultHandler):\n"
        "    def write(self, result):\n"
        "        return repr(result)\n"
        "    def read(self, uri):\n"
        "        return eval(uri)\n"
        "@task(result_handler=LocalResultHandler(dir=sys.argv[1]))\n"
        "def double(x):\n"
        "    return 2 * x\n"
        "@task(result_handler=Memory())\n"
        "def total(xs):\n"
        "    return sum(xs)\n"
        "if __name__ == '__main__':\n"
        "    with Flow('dask') as flow:\n"
        "        t = total(double.map([1, 2, 3]))\n"
        "    state = flow.run(executor=LocalDaskExecutor(scheduler='processes', num_workers=2))\n"
        "    print(type(state).__name__, state.result[t].result)\n"
    )
    assert run_flow(script, tmp_path / "results").stdout.split() == ["Success", "12"]
    assert len(os.listdir(tmp_path / "results")) == 3  # the three mapped doubles, checkpointed by the workers
