"""What ``--profile prefect3`` writes runs on real Prefect 3 (the virtual environment ``make prefect3`` builds beside
the main one): a task migrated from Prefect 1.4.1 prints what it printed there, stores its value at the storage
key its target became, and a second run loads it from there without running the task."""

from __future__ import annotations

import json
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


RESULT_KINDS = '''import json
import os

from prefect import task
from prefect.engine.result_handlers import JSONResultHandler
from prefect.engine.results import LocalResult

RESULTS = os.environ["RESULTS_DIR"]


@task(result_handler=JSONResultHandler(), target="{x}.json")
def as_json(x):
    with open(os.environ["CALLS"], "a") as calls:
        calls.write("as_json\\n")
    return {"x": x}


@task(result=LocalResult(dir=RESULTS, location="{task_name}/{x}.pkl"))
def located(x):
    with open(os.environ["CALLS"], "a") as calls:
        calls.write("located\\n")
    return x
'''


def test_a_json_result_and_a_location_run_on_prefect_3_and_load_on_the_second_run(
    prefect3_python: Path, tmp_path: Path
) -> None:
    migrated = transform_source(RESULT_KINDS, PREFECT3)
    assert not [site for site in migrated.sites if site.action == "manual"]
    script = tmp_path / "migrated.py"
    script.write_text(migrated.code + "\n\nfrom prefect import flow\n\n\n@flow\ndef kinds():\n"
                      "    print(as_json(1), located(2))\n\n\nkinds()\n")
    folder = tmp_path / "three"
    printed = [run_script(prefect3_python, script, folder) for _ in "12"]

    assert printed == ["{'x': 1} 2\n"] * 2
    assert calls(folder) == 2, "the second run ran a task instead of loading its stored result"
    assert (folder / "results" / "located" / "2.pkl").is_file()
    stored = json.loads((folder / "prefect-home" / "storage" / "1.json").read_text())
    assert stored["metadata"]["serializer"]["type"] == "json"
