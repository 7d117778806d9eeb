"""The docs cannot rot: every code block in README.md and MIGRATION.md runs, and the rename tables match."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compat.renames import PROFILES
from tests.docs.rename_tables import END, START, render

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "MIGRATION.md")
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)

# Shell lines the suite cannot run from inside itself, each with where it is covered instead.
COVERED_ELSEWHERE = {
    "make test": "this is the suite itself (.ci/run runs it)",
    "make demo": "tests/test_demo.py runs the demo end to end",
    # the Prefect section's install lines: tests/prefect/test_install.py runs them in a fresh virtualenv
    "python -m pip install '.[prefect]'": "tests/prefect/test_install.py installs a clone into a fresh virtualenv",
    "python -m pip wheel --no-deps --wheel-dir dist .": "tests/prefect/test_install.py builds the wheel in a clone",
    "python -m pip install 'dist/results_compat-0.1.0-py3-none-any.whl[prefect]'": "tests/prefect/test_install.py "
    "installs the wheel into a fresh virtualenv",
}


def code_blocks(doc: str) -> list[tuple[str, int, str]]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    return [
        (match["lang"], text.count("\n", 0, match.start()) + 1, match["body"])
        for match in FENCE.finditer(text)
    ]


PYTHON_BLOCKS = [
    pytest.param(body, id=f"{doc}:{line}")
    for doc in DOCS
    for lang, line, body in code_blocks(doc)
    if lang == "python"
]
SHELL_BLOCKS = [
    pytest.param(body, id=f"{doc}:{line}")
    for doc in DOCS
    for lang, line, body in code_blocks(doc)
    if lang in ("sh", "bash", "console", "shell")
]


@pytest.mark.parametrize("body", PYTHON_BLOCKS)
def test_python_block_runs(body: str, tmp_path: Path) -> None:
    env = {**os.environ, "RESULTS_COMPAT_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", body], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


def shell_commands(body: str) -> list[str]:
    commands = []
    for line in body.splitlines():
        command = line.split("#", 1)[0].strip()
        if command:
            commands.append(command)
    return commands


@pytest.mark.parametrize("body", SHELL_BLOCKS)
def test_shell_block_runs(body: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "flows.py").write_text("from compat import LocalResult\n\nRESULT = LocalResult()\n")
    (project / "test_flows.py").write_text("import src.flows\n\ndef test_imports():\n    assert src.flows.RESULT\n")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ["PATH"], "RESULTS_COMPAT_HOME": str(tmp_path)}
    ran = 0
    for command in shell_commands(body):
        if command in COVERED_ELSEWHERE:
            continue
        proc = subprocess.run(command, shell=True, cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{command!r} failed:\n{proc.stdout}\n{proc.stderr}"
        ran += 1
    skipped = [c for c in shell_commands(body) if c in COVERED_ELSEWHERE]
    assert ran or skipped


@pytest.mark.parametrize("body", SHELL_BLOCKS)
def test_shell_blocks_run_the_codemod_as_the_results_codemod_script(body: str) -> None:
    """``python -m codemods.results`` fails in a project with a ``codemods`` package of its own: the docs' commands
    use the installed script, as the warnings do."""
    assert not [command for command in shell_commands(body) if "-m codemods.results" in command]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_migration_rename_table_matches_compat_renames(profile: str) -> None:
    text = (ROOT / "MIGRATION.md").read_text(encoding="utf-8")
    start, end = START.format(name=profile), END.format(name=profile)
    assert start in text and end in text, f"MIGRATION.md lacks the {profile} rename table markers"
    current = text[text.index(start) : text.index(end) + len(end)]
    assert current == render(PROFILES[profile]), "regenerate it with: python -m tests.docs.rename_tables"


def test_every_anchor_the_warnings_link_to_exists_in_migration() -> None:
    text = (ROOT / "MIGRATION.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    wanted = {rename.anchor for profile in PROFILES.values() for rename in profile.renames}
    assert wanted - anchors == set()
