"""Staleness from records (issue 21): a module defining a flow is edited between runs in fresh processes, and each
run reports the State of every task with its reason code and what changed. Cosmetic edits keep targets cached; a
body edit, a closure value, a parameter the template does not name and a rebuilt upstream output make them stale,
which reruns them under ``invalidate_on`` and is only reported without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.records import plant_record, remove_record, stored_record

MODULE = '''
import os
from compat import Flow, LocalResult, Parameter, task

SCALE = 2


@task(target="double.pkl")
def double(x):
    """Double it."""
    return x * SCALE  # by the scale


@task(target="total.pkl")
def total(y):
    return y + 1


def make_scaled(factor):
    @task(target="scaled.pkl")
    def scaled(y):
        return y * factor
    return scaled


scaled = make_scaled(10)


def build(invalidate_on):
    with Flow("edits", result=LocalResult(dir=os.environ["OUT"]), invalidate_on=invalidate_on) as flow:
        x = Parameter("x", default=3)
        d = double(x)
        total(d)
        scaled(d)
    return flow
'''

RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import edits
invalidate_on = json.loads(sys.argv[2])
flow = edits.build(None if invalidate_on is None else tuple(invalidate_on))
parameters = json.loads(sys.argv[3])
plan = flow.plan(parameters=parameters)
state = flow.run(parameters=parameters)
assert state.is_successful(), state.message
print(json.dumps({
    "run": {task.name: [type(s).__name__, s.code, [c.to_dict() for c in s.changes]] for task, s in state.result.items()},
    "plan": {step.task.name: [step.action, step.code] for step in plan},
}))
"""


class Project:
    """A module ``edits.py`` in a directory of its own, run in a fresh interpreter each time."""

    def __init__(self, root: Path, module: str = MODULE) -> None:
        self.root = root
        (root / "src").mkdir()
        self.module = root / "src" / "edits.py"
        self.module.write_text(module)

    def edit(self, old: str, new: str) -> None:
        text = self.module.read_text()
        assert old in text
        self.module.write_text(text.replace(old, new))

    def run(self, invalidate_on: Any = ("code", "inputs"), x: int = 3, env: dict[str, str] | None = None) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(RUN), str(self.root / "src"), json.dumps(invalidate_on),
             json.dumps({"x": x})],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "OUT": str(self.root / "out"), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path)
    first = made.run()
    assert {name: kind for name, (kind, _, _) in first["run"].items()} == {
        "x": "Success", "double": "Success", "total": "Success", "scaled": "Success"
    }
    return made


def codes(outcome: dict[str, Any]) -> dict[str, list[str]]:
    return {name: [kind, code] for name, (kind, code, _) in outcome["run"].items() if name != "x"}


@pytest.mark.parametrize(
    "old, new",
    [('"""Double it."""', '"""Double the input, which is a number."""'), ("# by the scale", "# times the scale"),
     ("return x * SCALE", "return (\n        x\n        * SCALE\n    )"), ("def double(x):", "def double(x: int) -> int:")],
    ids=["docstring", "comment", "formatting", "annotations"],
)
def test_a_cosmetic_edit_keeps_the_target_cached(project: Project, old: str, new: str) -> None:
    project.edit(old, new)
    assert codes(project.run()) == {
        "double": ["Cached", "exists"], "total": ["Cached", "exists"], "scaled": ["Cached", "exists"]
    }


def test_a_body_edit_is_code_changed_and_reruns_the_task(project: Project) -> None:
    project.edit("return y + 1", "return y + 2")
    outcome = project.run()
    assert codes(outcome)["total"] == ["Success", "code-changed"]
    assert outcome["plan"]["total"] == ["run", "code-changed"]
    assert outcome["run"]["total"][2][0]["what"] == "code"


def test_a_changed_closure_value_is_code_changed(project: Project) -> None:
    project.edit("make_scaled(10)", "make_scaled(11)")
    assert codes(project.run())["scaled"] == ["Success", "code-changed"]


def test_a_parameter_the_template_does_not_name_is_inputs_changed_naming_it(project: Project) -> None:
    outcome = project.run(x=4)
    assert codes(outcome)["double"] == ["Success", "inputs-changed"]
    (change,) = outcome["run"]["double"][2]
    assert change["what"] == "input" and change["name"] == "x" and change["old"] != change["new"]
    assert outcome["plan"]["double"] == ["run", "inputs-changed"]


def test_an_upstream_rebuild_makes_its_consumers_upstream_changed(project: Project) -> None:
    outcome = project.run(x=4)
    assert codes(outcome)["total"] == ["Success", "upstream-changed"]
    assert outcome["run"]["total"][2][0]["name"] == "y"
    assert outcome["plan"]["total"] == ["run", "upstream-changed"]


def test_an_upstream_rebuilt_with_identical_bytes_keeps_its_consumers_cached(project: Project) -> None:
    project.edit("return x * SCALE", "return SCALE * x")  # another body, the same output: early cutoff
    outcome = project.run()
    assert codes(outcome) == {
        "double": ["Success", "code-changed"], "total": ["Cached", "exists"], "scaled": ["Cached", "exists"]
    }


def test_without_invalidate_on_a_stale_target_is_reused_and_reported(project: Project) -> None:
    project.edit("return y + 1", "return y + 2")
    outcome = project.run(invalidate_on=None)
    assert codes(outcome)["total"] == ["Cached", "code-changed"]
    assert outcome["plan"]["total"] == ["cached", "code-changed"]


def test_invalidating_on_code_only_reuses_a_target_whose_inputs_changed(project: Project) -> None:
    outcome = project.run(invalidate_on=["code"], x=4)
    assert codes(outcome)["double"] == ["Cached", "inputs-changed"]


def test_the_environment_turns_staleness_on_below_the_flow(project: Project) -> None:
    project.edit("return y + 1", "return y + 2")
    outcome = project.run(invalidate_on=None, env={"RESULTS_COMPAT_INVALIDATE_ON": "code"})
    assert codes(outcome)["total"] == ["Success", "code-changed"]


def test_a_flows_empty_invalidate_on_wins_over_the_environment(project: Project) -> None:
    project.edit("return y + 1", "return y + 2")
    outcome = project.run(invalidate_on=[], env={"RESULTS_COMPAT_INVALIDATE_ON": "code,inputs"})
    assert codes(outcome)["total"] == ["Cached", "code-changed"]


def test_a_target_without_a_record_stays_cached_as_no_record(project: Project) -> None:
    for output in (project.root / "out").glob("*.pkl"):
        remove_record(output)
    project.edit("return y + 1", "return y + 2")
    outcome = project.run()
    assert codes(outcome)["total"] == ["Cached", "no-record"]
    assert outcome["plan"]["total"] == ["cached", "no-record"]


def test_a_record_whose_hash_lies_is_no_record(project: Project) -> None:
    path = project.root / "out" / "total.pkl"
    planted = json.loads(stored_record(path) or b"")
    plant_record(path, json.dumps({**planted, "bytes_hash": "blake3:" + "0" * 64}).encode())
    project.edit("return y + 1", "return y + 2")
    assert codes(project.run(invalidate_on=None))["total"] == ["Cached", "no-record"]


LEGACY_MODULE = '''
import os
from compat import Flow, Parameter, task
from compat.result_handlers import LocalResultHandler


@task(target="double.pkl")
def double(x):
    scratch = LocalResultHandler(dir=os.environ["OUT"] + "-scratch")
    del scratch
    return [x * 2]


@task(target="total.pkl")
def total(y):
    return y[0] + 1


def build(invalidate_on):
    handler = LocalResultHandler(dir=os.environ["OUT"])
    with Flow("legacy", result_handler=handler, invalidate_on=invalidate_on) as flow:
        total(double(Parameter("x", default=3)))
    return flow
'''


def test_a_module_rewritten_by_the_codemod_keeps_every_task_cached(tmp_path: Path) -> None:
    project = Project(tmp_path, LEGACY_MODULE)
    assert codes(project.run()) == {"double": ["Success", "missing"], "total": ["Success", "missing"]}
    done = subprocess.run([sys.executable, "-m", "codemods.results", str(project.module)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LocalResultHandler" not in project.module.read_text()
    assert codes(project.run()) == {"double": ["Cached", "exists"], "total": ["Cached", "exists"]}


def test_invalidate_settings_ask_each_task_its_own_else_the_flows_else_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from compat import task
    from compat.engine.staleness import INVALIDATE_VARIABLE, InvalidateSettings

    def double(x: int) -> int:
        return 2 * x

    monkeypatch.setenv(INVALIDATE_VARIABLE, "inputs")
    own, plain = task(double, invalidate_on=("code",)), task(double)
    flows = InvalidateSettings(frozenset({"code", "inputs"}))
    environments = InvalidateSettings(None)
    monkeypatch.setenv(INVALIDATE_VARIABLE, "code")  # read once, when the settings were made
    # no map of the flow's tasks: a task made after the settings is answered too
    later = task(double)
    assert (flows[own], flows[plain], flows[later]) == (
        frozenset({"code"}), frozenset({"code", "inputs"}), frozenset({"code", "inputs"}))
    assert (environments[own], environments[plain], environments[later]) == (
        frozenset({"code"}), frozenset({"inputs"}), frozenset({"inputs"}))
