"""``examples/prefect_legacy`` under ``results-codemod --profile prefect3``: what moves runs on real Prefect 3 and
prints what it printed on Prefect 1.4.1 (through the bridge), its targets loaded on the second run; what cannot
move is listed for a human, each site with its reason."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from compat.renames import PREFECT3
from codemods.results import transform_source
from codemods.results.cli import main
from tests.prefect3.runs import ROOT, run_script

EXAMPLES = ROOT / "examples" / "prefect_legacy"

LISTED = {
    'etl.py': [
        (25, 'flow',
         "with Flow('etl') as flow: left as it is: the flow is built inside a function or another block: build"
         ' it at module level, or port it to a @flow function by hand; loaded, bound in the flow block, is '
         "used outside it (lines 25-27): in Prefect 3 it is the flow function's local; return it and port that"
         ' use by hand'),
    ],
    'own_handler.py': [
        (33, 'keyword',
         'handler is not a built-in handler and the prefect3 profile has no wrapper for it: a handler or '
         'Result of your own has no Prefect 3 equivalent: store the value in a block of prefect.filesystems, '
         'or write it in the task'),
        (33, 'keyword',
         'target= is not a string literal: build the result_storage_key= template by hand (the task loads the '
         'result stored at the key instead of running; template fields are translated)'),
        (38, 'flow',
         "with Flow('own-handler') as flow: left as it is: the flow is built inside a function or another "
         'block: build it at module level, or port it to a @flow function by hand; line 39: squares(...) is '
         'not a task of this module (only task calls, Parameters and literals move): port it by hand; value, '
         "bound in the flow block, is used outside it (lines 38-39): in Prefect 3 it is the flow function's "
         'local; return it and port that use by hand'),
    ],
    'squares.py': [],
    'task_classes.py': [
        (12, 'task-class',
         'class Scale(Task) stays a class: it holds more than run() (__init__()); run() uses self; line 32: '
         'factor= has no with_options equivalent: port it to an @task function by hand'),
        (33, 'attribute',
         'report.result_handler = ...: a Prefect 3 task takes its options when it is built: report = '
         'report.with_options(result_storage=...) with persist_result=True'),
        (34, 'flow',
         "with Flow('task-classes') as flow: left as it is: the flow is built inside a function or another "
         'block: build it at module level, or port it to a @flow function by hand; line 35: scale(...) is not '
         'a task of this module (only task calls, Parameters and literals move): port it by hand; summary, '
         "bound in the flow block, is used outside it (lines 34-35): in Prefect 3 it is the flow function's "
         'local; return it and port that use by hand'),
    ],
}
"""What results-codemod --profile prefect3 lists for a human in each example; squares.py moves whole."""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "prefect_legacy"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _manual(path: Path) -> list[tuple[int, str, str]]:
    sites = transform_source(path.read_text(), PREFECT3).sites
    return [(site.line, site.rule, site.reason) for site in sites if site.action == "manual"]


@pytest.mark.slow
def test_the_squares_flow_prints_on_prefect_3_what_it_printed_on_prefect_1_and_loads_its_targets_again(
    prefect3_python: Path, project: Path, tmp_path: Path
) -> None:
    script = project / "squares.py"
    on_1 = [run_script(Path(sys.executable), script, tmp_path / "one", str(tmp_path / "one" / "r")) for _ in "12"]
    assert main(["--quiet", "--profile", "prefect3", str(script)]) == 0
    assert "Flow" not in script.read_text() and not _manual(script)
    on_3 = [run_script(prefect3_python, script, tmp_path / "three", str(tmp_path / "three" / "r")) for _ in "12"]

    assert on_3 == on_1
    assert on_3[0].count("computing") == 2 and on_3[1].count("computing") == 0, "the second run ran the tasks"
    assert {p.name for p in (tmp_path / "three" / "r").glob("squares-*")} == {"squares-4.pkl", "squares-6.pkl"}


def test_every_example_moves_or_is_listed_for_a_human_with_its_reasons() -> None:
    assert {path.name: _manual(path) for path in sorted(EXAMPLES.glob("*.py"))} == LISTED


def test_what_stays_in_an_example_is_left_as_it_was(project: Path) -> None:
    main(["--quiet", "--profile", "prefect3", str(project)])
    for name in ("etl.py", "own_handler.py"):
        assert (project / name).read_text() == (EXAMPLES / name).read_text()
    migrated = (project / "task_classes.py").read_text()
    assert "class Scale(Task):" in migrated and "report.result_handler = LocalResultHandler(" in migrated


FIXTURES = ROOT / "tests" / "codemods" / "fixtures" / "prefect3"


@pytest.mark.slow
def test_the_flows_fixture_runs_on_prefect_3_as_it_ran_on_prefect_1(prefect3_python: Path, tmp_path: Path) -> None:
    """.map, unmapped, upstream_tasks= -> wait_for=, Parameters with and without defaults, flow.run(parameters=)."""
    before = (FIXTURES / "flows.before.py").read_text().replace("/tmp/results", str(tmp_path / "results"))
    after = transform_source(before, PREFECT3)
    assert not [site for site in after.sites if site.action == "manual"]
    (tmp_path / "one.py").write_text(before)
    (tmp_path / "three.py").write_text(after.code)
    on_1 = run_script(Path(sys.executable), tmp_path / "one.py", tmp_path / "one")
    on_3 = run_script(prefect3_python, tmp_path / "three.py", tmp_path / "three")
    assert sorted(on_3.splitlines()) == sorted(on_1.splitlines())  # Prefect 1 ran independent tasks in its order
    assert "sums: [3, 5, 7]" in on_3.splitlines()
