"""What ``--profile prefect3`` writes runs on real Prefect 3 (the virtual environment ``make prefect3`` builds beside
the main one): a task migrated from Prefect 1.4.1 prints what it printed there, stores its value at the storage
key its target became, and a second run loads it from there without running the task."""

from __future__ import annotations

import sys
from pathlib import Path

from compat.renames import PREFECT3
from codemods.results import transform_source
from tests.prefect3.runs import calls, run_script

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


def test_a_migrated_task_prints_the_same_and_loads_its_stored_result_on_the_second_run(
    prefect3_python: Path, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy.py"
    legacy.write_text(TASKS + PREFECT1_FLOW)
    printed_on_1 = run_script(Path(sys.executable), legacy, tmp_path / "one")
    migrated = transform_source(TASKS, PREFECT3)
    assert migrated.changed and not [site for site in migrated.sites if site.action == "manual"]
    script = tmp_path / "migrated.py"
    script.write_text(migrated.code + PREFECT3_FLOW)
    three = tmp_path / "three"

    first = run_script(prefect3_python, script, three)
    assert calls(three) == 1
    assert (three / "results" / "double" / "etl-21.txt").is_file()
    second = run_script(prefect3_python, script, three)

    assert first == second == printed_on_1 == "doubled: 42\n"
    assert calls(three) == 1, "the second run ran the task instead of loading its stored result"
