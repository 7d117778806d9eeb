"""The pre-commit hooks this repository exposes run the codemod as their entries say."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
LEGACY = "from compat.result_handlers import JSONResultHandler\n\nHANDLER = JSONResultHandler()\n"


def run_hook(hook_id: str, file: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry as pre-commit does: the entry's words, then the staged file names."""
    words = shlex.split(HOOKS[hook_id]["entry"])
    assert words[0] == "python"
    return subprocess.run([sys.executable, *words[1:], str(file)], capture_output=True, text=True, timeout=120)


def test_both_hooks_are_declared_for_python_files() -> None:
    assert set(HOOKS) == {"results-codemod-check", "results-codemod"}
    assert all(hook["language"] == "python" and hook["types"] == ["python"] for hook in HOOKS.values())


def test_the_check_hook_fails_on_legacy_code_and_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text(LEGACY)
    assert run_hook("results-codemod-check", source).returncode == 1
    assert source.read_text() == LEGACY


def test_the_check_hook_passes_on_migrated_code(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text("from compat.results import JSONResult\n\nRESULT = JSONResult()\n")
    assert run_hook("results-codemod-check", source).returncode == 0


def test_the_fix_hook_rewrites_the_file(tmp_path: Path) -> None:
    source = tmp_path / "flows.py"
    source.write_text(LEGACY)
    run_hook("results-codemod", source)
    assert source.read_text() == "from compat.results import JSONResult\n\nHANDLER = JSONResult()\n"
