"""What ``--profile prefect3`` writes runs on real Prefect 3 (the virtual environment ``make prefect3`` builds beside
the main one): a task migrated from Prefect 1.4.1 prints what it printed there, stores its value at the storage
key its target became, and a second run loads it from there without running the task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compat.renames import PREFECT3
from codemods.results import transform_source

ROOT = Path(__file__).resolve().parents[2]
PREFECT3_PYTHON = ROOT / ".cache" / "prefect3-venv" / "bin" / "python"

TASKS = '''import os

from prefect import task
from prefect.engine.results import LocalResult

RESULTS = os.environ["RESULTS_DIR"]


@task(result=LocalResult(dir=RESULTS), target="{task_name}/{flow_name}-{x}.txt")
def double(x):
    with open(os.environ["CALLS"], "a") as calls:
        calls.write("double\\n")
    return 2 * x
'''

PREFECT1_FLOW = '''
from prefect import Flow, Parameter

with Flow("etl") as flow:
    doubled = double(Parameter("x", default=21))

state = flow.run()
print(f"doubled: {state.result[doubled].result}")
'''

PREFECT3_FLOW = '''
from prefect import flow


@flow(name="etl")
def etl(x=21):
    print(f"doubled: {double(x)}")


etl()
'''


@pytest.fixture(scope="module")
def prefect3_python() -> Path:
    if not PREFECT3_PYTHON.exists():
        message = f"Prefect 3 is not installed at {PREFECT3_PYTHON}: run make prefect3 (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return PREFECT3_PYTHON


def _run(python: Path, script: Path, folder: Path) -> str:
    """Run ``script`` in ``folder`` (its results, its call count and Prefect's home are there); what it printed."""
    folder.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "RESULTS_DIR": str(folder / "results"),
        "CALLS": str(folder / "calls"),
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "ERROR",  # Prefect 3
        "PREFECT__LOGGING__LEVEL": "ERROR",  # Prefect 1
        "PREFECT__FLOWS__CHECKPOINTING": "true",
    }
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([str(python), str(script)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _calls(folder: Path) -> int:
    path = folder / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_migrated_task_prints_the_same_and_loads_its_stored_result_on_the_second_run(
    prefect3_python: Path, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy.py"
    legacy.write_text(TASKS + PREFECT1_FLOW)
    printed_on_1 = _run(Path(sys.executable), legacy, tmp_path / "one")
    migrated = transform_source(TASKS, PREFECT3)
    assert migrated.changed and not [site for site in migrated.sites if site.action == "manual"]
    script = tmp_path / "migrated.py"
    script.write_text(migrated.code + PREFECT3_FLOW)
    three = tmp_path / "three"

    first = _run(prefect3_python, script, three)
    assert _calls(three) == 1
    assert (three / "results" / "double" / "etl-21.txt").is_file()
    second = _run(prefect3_python, script, three)

    assert first == second == printed_on_1 == "doubled: 42\n"
    assert _calls(three) == 1, "the second run ran the task instead of loading its stored result"
