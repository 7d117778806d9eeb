"""End to end: the codemod over examples/legacy_project yields code that runs on the engine, prints the same
outputs, and has no legacy use left but the one it lists as a manual follow-up (the team's own handler)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.results.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WARNING_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<category>Legacy\w+Warning): ", re.MULTILINE)


def run_sales(project: Path, output: Path, legacy: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESULTS_COMPAT_LEGACY": legacy, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "sales", str(output)], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "legacy_project"
    shutil.copytree(EXAMPLES / "legacy_project", copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return copy


@pytest.mark.slow
def test_migrated_project_prints_the_same_and_warns_only_where_a_follow_up_is_listed(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = run_sales(project, tmp_path / "out-legacy", "default")
    assert legacy.returncode == 0, legacy.stderr
    assert WARNING_LINE.search(legacy.stderr), "the legacy project should warn"

    assert main(["--quiet", str(project / "sales")]) == 1  # one manual follow-up: the custom handler
    follow_ups = re.findall(r"^  (.+?):(\d+):\d+: (\w[\w-]*): ", capsys.readouterr().err, re.MULTILINE)
    assert [(Path(f).name, rule) for f, _, rule in follow_ups] == [("storage.py", "subclass")]

    migrated = run_sales(project, tmp_path / "out-migrated", "default")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == legacy.stdout
    warned = {(Path(m["file"]).name, m["category"]) for m in WARNING_LINE.finditer(migrated.stderr)}
    assert warned == {("storage.py", "LegacyImportWarning"), ("storage.py", "LegacySubclassWarning")}


@pytest.mark.slow
def test_with_the_listed_follow_up_done_no_legacy_use_is_left(project: Path, tmp_path: Path) -> None:
    legacy = run_sales(project, tmp_path / "out-legacy", "ignore")
    assert main(["--quiet", str(project / "sales")]) == 1
    shutil.copyfile(EXAMPLES / "manual_port" / "storage.py", project / "sales" / "storage.py")
    assert main(["--check", "--quiet", str(project)]) == 0

    migrated = run_sales(project, tmp_path / "out-migrated", "error")  # any LegacyResultWarning would raise
    assert migrated.returncode == 0, migrated.stderr
    assert "Legacy" not in migrated.stderr
    assert migrated.stdout == legacy.stdout
