"""What the command line imports before it reads a file: the rename table from compat, and libcst only for a file
whose imports it edits. Each check runs in a fresh interpreter, so nothing imported by the test session hides it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LEGACY_IMPORT = "from compat.result_handlers import JSONResultHandler\n\nh = JSONResultHandler()\n"
WATCHED = ("compat", "compat.renames", "compat.results", "libcst", "pathspec", "concurrent.futures.process")


def modules_after_main(*argv: str) -> tuple[int, list[str]]:
    """The exit code of ``main(argv)`` in a fresh interpreter and which of ``WATCHED`` it had imported by then."""
    code = (
        "import json, sys\n"
        "from codemods.results.cli import main\n"
        f"status = main({list(argv)!r})\n"
        f"print(json.dumps([status, sorted(m for m in {WATCHED!r} if m in sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    status, modules = json.loads(out.splitlines()[-1])
    return status, modules


def test_check_of_an_empty_directory_imports_only_the_rename_table(tmp_path: Path) -> None:
    assert modules_after_main("--check", str(tmp_path)) == (0, ["compat.renames"])


def test_a_file_without_legacy_names_does_not_import_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import os\n\nprint(os.sep)\n")
    assert modules_after_main("-j", "1", str(tmp_path)) == (0, ["compat.renames"])


def test_rewriting_a_legacy_import_imports_libcst_for_that_file(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_text(LEGACY_IMPORT)
    status, modules = modules_after_main("-j", "1", str(tmp_path))
    assert status == 0
    assert path.read_text() == "from compat.results import JSONResult\n\nh = JSONResult()\n"
    assert "libcst" in modules


def test_compat_imported_after_the_codemod_shares_its_rename_table() -> None:
    code = (
        "import sys, codemods.results\n"
        "assert 'compat' not in sys.modules\n"
        "import compat.renames, compat.deprecations\n"
        "assert compat.renames is sys.modules['compat.renames']\n"
        "assert compat.deprecations.COMPAT is compat.renames.COMPAT\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ok"


def test_help_imports_neither_the_transform_nor_the_runner() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from codemods.results.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['--help'])\n"
        "heavy = ('codemods.results.transform', 'codemods.results.runner', 'codemods.results.report',\n"
        "         'codemods.results.discovery', 'importlib.metadata', 'libcst')\n"
        "print(json.dumps([status, sorted(m for m in heavy if m in sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == [0, []]


def test_help_imports_neither_dataclasses_nor_typing() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from codemods.results.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(json.dumps(sorted(m for m in ('dataclasses', 'inspect', 'typing') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_the_console_script_s_help_runs_and_names_jobs_auto() -> None:
    script = Path(sys.executable).with_name("results-codemod")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    assert "auto (the default)" in out
