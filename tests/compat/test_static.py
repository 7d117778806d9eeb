"""Type checkers flag legacy uses before anything runs (PEP 702 ``@deprecated``), with the package's own types."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import compat

REPO = Path(compat.__file__).resolve().parent.parent


def mypy(tmp_path: Path, code: str) -> list[str]:
    """mypy's error lines for ``code`` (deprecations enabled; errors inside compat itself are not reported)."""
    snippet = tmp_path / "legacy_snippet.py"
    snippet.write_text(textwrap.dedent(code))
    proc = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--enable-error-code", "deprecated", "--follow-imports=silent",
            "--no-error-summary", "--cache-dir", str(tmp_path / ".mypy_cache"), str(snippet),
        ],
        capture_output=True, text=True, cwd=tmp_path, env={"MYPYPATH": str(REPO), "PATH": ""}, timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [line.partition("legacy_snippet.py:")[2] for line in proc.stdout.splitlines()]


def test_package_ships_a_py_typed_marker() -> None:
    assert (Path(compat.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_mypy_flags_legacy_handler_classes(tmp_path: Path) -> None:
    errors = mypy(
        tmp_path,
        """
        from compat.result_handlers import LocalResultHandler
        from compat.legacy import ResultHandler
        from compat import LocalResult

        LocalResult(dir="/tmp/results")
        """,
    )
    assert errors == [
        "2: error: class compat.legacy.local.LocalResultHandler is deprecated: LocalResultHandler is deprecated; "
        "use compat.LocalResult (python -m codemods.results <path> rewrites it)  [deprecated]",
        "3: error: class compat.legacy.base.ResultHandler is deprecated: ResultHandler is deprecated; "
        "use compat.Result (python -m codemods.results <path> rewrites it)  [deprecated]",
    ]
