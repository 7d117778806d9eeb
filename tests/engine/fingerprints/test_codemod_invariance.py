"""Rewriting a module with ``python -m codemods.results`` keeps the code fingerprint of every function in it.

Each codemod fixture (``tests/codemods/fixtures``) and the legacy example project are copied, fingerprinted in
one fresh process, rewritten by the real codemod (a subprocess, once per profile), and fingerprinted again in
another fresh process.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compat.renames import AUTO_PROFILES
from tests.codemods.conftest import FIXTURES, fixture_pairs
from tests.engine.fingerprints.conftest import REPO, fingerprints_in_fresh_process

PAIRS = [(profile, name) for profile, name in fixture_pairs() if profile in AUTO_PROFILES]  # prefect3 changes engine
IDS = [f"{profile}/{name}" for profile, name in PAIRS]


def rewrite(profile: str, *paths: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "codemods.results", "--quiet", "--profile", profile, *map(str, paths)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: follow-ups left for a human, as some fixtures have


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """``{"profile/name": (before, after)}`` for every fixture, each side from its own fresh process."""
    pairs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for profile in AUTO_PROFILES:
        folder = tmp_path_factory.mktemp(profile)
        copies = {}
        for fixture_profile, name in PAIRS:
            if fixture_profile == profile:
                copies[name] = folder / f"{name}.py"
                shutil.copyfile(FIXTURES / profile / f"{name}.before.py", copies[name])
        if not copies:
            continue
        before = fingerprints_in_fresh_process(*copies.values())
        rewrite(profile, *copies.values())
        after = fingerprints_in_fresh_process(*copies.values())
        for name, path in copies.items():
            pairs[f"{profile}/{name}"] = (before[str(path)], after[str(path)])
    return pairs


@pytest.mark.parametrize("fixture", IDS)
def test_rewriting_a_fixture_keeps_the_fingerprint_of_every_function(
    rewritten: dict[str, tuple[dict[str, Any], dict[str, Any]]], fixture: str
) -> None:
    before, after = rewritten[fixture]
    if before["error"] is None and after["error"] is None:
        assert after["functions"].keys() == before["functions"].keys()
    both = before["functions"].keys() & after["functions"].keys()  # defined before a line left for a human
    assert {name: after["functions"][name] for name in both} == {name: before["functions"][name] for name in both}


@pytest.mark.parametrize("profile", sorted(AUTO_PROFILES))
def test_each_profile_has_a_fixture_of_task_bodies_that_loads(
    rewritten: dict[str, tuple[dict[str, Any], dict[str, Any]]], profile: str
) -> None:
    """The comparison above is not empty: each profile's task_bodies fixture loads on both sides, tasks and all."""
    before, after = rewritten[f"{profile}/task_bodies"]
    assert before["error"] is None and after["error"] is None
    assert len(before["functions"]) >= 3


def test_rewriting_the_legacy_example_project_keeps_every_task_fingerprint(tmp_path: Path) -> None:
    project = tmp_path / "legacy_project"
    shutil.copytree(REPO / "examples" / "legacy_project", project)
    script = tmp_path / "flow_tasks.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(project)!r})\n"
        "from sales.flows import build\n"
        f"flow = build({str(tmp_path / 'out')!r})\n"
        "by_name = {task.name: task.fn for task in flow.tasks if hasattr(task, 'fn')}\n"
    )
    before = _flow_task_fingerprints(script)
    rewrite("compat", project / "sales")
    after = _flow_task_fingerprints(script)
    assert after == before
    assert {"extract", "clean", "totals", "summary", "archive"} <= before.keys()


def _flow_task_fingerprints(script: Path) -> dict[str, str]:
    code = (
        "import json, runpy, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from compat.engine.fingerprints import code_fingerprint\n"
        f"by_name = runpy.run_path({str(script)!r})['by_name']\n"
        "print(json.dumps({name: code_fingerprint(fn) for name, fn in by_name.items()}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    import json

    return dict(json.loads(proc.stdout))
