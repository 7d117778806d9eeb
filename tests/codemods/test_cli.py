"""The command line: modes, exit codes, reports, failures that do not stop a run, and one real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.results.cli import main

LEGACY = "from compat.result_handlers import JSONResultHandler\n\nh = JSONResultHandler()\n"
MIGRATED = "from compat.results import JSONResult\n\nh = JSONResult()\n"
PLAIN = "import os\n\nprint(os.sep)\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_default_mode_rewrites_in_place_and_exits_0(project: Path) -> None:
    path = write(project / "flow.py", LEGACY)
    assert main([str(project)]) == 0
    assert path.read_text() == MIGRATED


def test_check_writes_nothing_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(project / "flow.py", LEGACY)
    assert main(["--check", str(project)]) == 1
    assert path.read_text() == LEGACY
    assert f"would rewrite {path}" in capsys.readouterr().err


def test_check_on_migrated_code_exits_0(project: Path) -> None:
    write(project / "flow.py", MIGRATED)
    assert main(["--check", str(project)]) == 0


def test_a_symlink_loop_in_the_tree_is_reported_and_does_not_fail_the_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project / "flow.py", LEGACY)
    (project / "pkg").mkdir()
    (project / "pkg" / "loop.py").symlink_to("loop.py")
    assert main(["-j", "1", str(project)]) == 0
    assert path.read_text() == MIGRATED
    assert "skipped 1 path(s): 1 a symlink loop" in capsys.readouterr().err


def test_diff_prints_a_unified_diff_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(project / "flow.py", LEGACY)
    assert main(["--diff", str(project)]) == 1
    out = capsys.readouterr().out
    assert f"--- {path}\n+++ {path}\n" in out
    assert "-h = JSONResultHandler()\n+h = JSONResult()\n" in out
    assert path.read_text() == LEGACY


def test_manual_follow_ups_exit_1_and_are_listed_with_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project / "mine.py", "from compat.legacy import ResultHandler\n\n\nclass Mine(ResultHandler):\n    pass\n")
    assert main([str(project)]) == 1
    assert f"{path}:4:1: subclass: class Mine(ResultHandler)" in capsys.readouterr().err


def test_a_file_that_does_not_parse_is_reported_and_the_others_proceed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(project / "a_broken.py", "result_handler = (\n")
    good = write(project / "b_good.py", LEGACY)
    assert main([str(project)]) == 2
    assert good.read_text() == MIGRATED
    assert f"{broken}: does not parse: line 1" in capsys.readouterr().err


def test_a_file_that_is_not_utf8_is_reported_and_the_others_proceed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    undecodable = write(project / "a_latin.py", b"# result_handler \xff\xfe\n")
    good = write(project / "b_good.py", LEGACY)
    assert main([str(project)]) == 2
    assert good.read_text() == MIGRATED
    assert f"{undecodable}: cannot decode" in capsys.readouterr().err


def test_a_recursion_error_fails_one_file_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = write(project / "a_deep.py", "x = result_handler" + " + result_handler" * 30000 + "\n")
    good = write(project / "b_good.py", LEGACY)
    assert main([str(project)]) == 2
    assert good.read_text() == MIGRATED
    err = capsys.readouterr().err
    assert f"{deep}:" in err and "nested" in err


def test_a_cookie_encoded_file_keeps_its_encoding(project: Path) -> None:
    text = "# -*- coding: latin-1 -*-\nfrom compat.legacy import JSONResultHandler\nnote = 'café'\nh = JSONResultHandler()\n"
    path = write(project / "latin.py", text.encode("latin-1"))
    assert main([str(project)]) == 0
    assert path.read_bytes() == text.replace("compat.legacy import JSONResultHandler", "compat.results import JSONResult").replace(
        "= JSONResultHandler()", "= JSONResult()").encode("latin-1")


def test_a_bom_is_kept(project: Path) -> None:
    path = write(project / "bom.py", b"\xef\xbb\xbf" + LEGACY.encode())
    assert main([str(project)]) == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + MIGRATED.encode()


def test_crlf_newlines_are_kept_on_disk(project: Path) -> None:
    path = write(project / "crlf.py", LEGACY.replace("\n", "\r\n"))
    assert main([str(project)]) == 0
    assert path.read_bytes() == MIGRATED.replace("\n", "\r\n").encode()


def test_a_rewritten_file_keeps_its_permissions(project: Path) -> None:
    path = write(project / "script.py", LEGACY)
    path.chmod(0o754)
    assert main([str(project)]) == 0
    assert path.stat().st_mode & 0o777 == 0o754


def test_report_json_has_one_record_per_site_and_totals(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(project / "flow.py", LEGACY)
    write(project / "plain.py", PLAIN)
    assert main(["--check", "--report", "json", str(project)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {(s["file"], s["line"], s["column"], s["rule"], s["action"]) for s in report["sites"]} == {
        (str(path), 1, 36, "import", "would_rewrite"),
        (str(path), 3, 5, "constructor", "would_rewrite"),
    }
    assert all(s["reason"] for s in report["sites"])
    assert report["totals"]["files_scanned"] == 2
    assert report["totals"]["files_filtered"] == 1
    assert report["totals"]["sites_rewritten"] == {"constructor": 1, "import": 1}


def test_jobs_2_gives_the_same_outcome_as_jobs_1(tmp_path: Path) -> None:
    trees = []
    for jobs in ("1", "2"):
        root = tmp_path / f"j{jobs}"
        for index in range(12):
            write(root / f"legacy_{index}.py", LEGACY if index % 3 else PLAIN)
        write(root / "mine.py", "from compat.legacy import ResultHandler\nclass M(ResultHandler): pass\n")
        assert main(["-j", jobs, "--quiet", str(root)]) == 1
        trees.append({p.name: p.read_text() for p in root.iterdir()})
    assert trees[0] == trees[1]
    assert trees[0]["legacy_1.py"] == MIGRATED


def test_quiet_prints_no_summary_and_no_progress_off_a_terminal(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in range(60):
        write(project / f"f{index}.py", PLAIN)
    assert main(["--quiet", "-j", "1", str(project)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["-j", "1", str(project)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "scanned 60 files" in err


@pytest.mark.parametrize(
    "argv",
    [["/no/such/path"], ["--diff", "--report", "json", "."], ["-j", "0", "."], ["--profile", "nope", "."], []],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point_in_a_real_subprocess(project: Path) -> None:
    path = write(project / "flow.py", LEGACY)
    check = subprocess.run(
        [sys.executable, "-m", "codemods.results", "--check", str(project)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert check.returncode == 1, check.stderr
    assert f"would rewrite {path}" in check.stderr
    fix = subprocess.run([sys.executable, "-m", "codemods.results", str(project)], capture_output=True, text=True,
                         timeout=60)
    assert fix.returncode == 0, fix.stderr
    assert path.read_text() == MIGRATED


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_progress_bar_is_drawn_on_a_terminal(project: Path) -> None:
    import pty

    for index in range(60):
        write(project / f"f{index}.py", PLAIN)
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "codemods.results", "--check", "-j", "1", str(project)],
                              stdout=subprocess.PIPE, stderr=terminal, timeout=60)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0
    assert b"\r[##############################] 60/60 files" in shown


def test_a_file_without_legacy_names_is_never_parsed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "broken_but_unrelated.py", "def (:\n")  # would fail to parse if it were parsed
    assert main(["--report", "json", str(project)]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["files_filtered"] == 1 and totals["files_failed"] == 0


def test_exclude_takes_the_paths_as_the_run_prints_them(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "cm3" / "custom.py", LEGACY)
    kept = write(project / "cm3" / "other.py", LEGACY)
    monkeypatch.chdir(project)
    assert main(["--check", "cm3"]) == 1
    assert "would rewrite cm3/custom.py" in capsys.readouterr().err
    assert main(["--check", "--exclude", "cm3/custom.py", "cm3"]) == 1
    err = capsys.readouterr().err
    assert "cm3/custom.py" not in err and "would rewrite cm3/other.py" in err
    assert main(["--check", "--force-exclude", "--exclude", "cm3", "cm3"]) == 0
    assert kept.read_text() == LEGACY


def test_check_fails_on_a_gitignored_directory_named_on_the_command_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".gitignore", "generated/\n")
    write(project / "generated" / "flow.py", LEGACY)
    monkeypatch.chdir(project)
    assert main(["--check", "generated"]) == 1
    assert "would rewrite generated/flow.py" in capsys.readouterr().err
    assert main(["--check", "--exclude", "generated", "generated"]) == 1


def test_help_says_what_an_exclude_glob_is_matched_against(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "relative to the current directory" in help_text
    assert "relative to the PATH argument" in help_text
    assert "everything under it" in help_text


def test_help_describes_the_json_report_as_the_one_document_it_prints(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "one JSON document" in help_text
    write(project / "flow.py", LEGACY)
    main(["--check", "--report", "json", str(project)])
    document = json.loads(capsys.readouterr().out)  # the whole of stdout is that one document
    for key in ("sites", "failures", "changed_files", "totals"):
        assert key in document and key in help_text


def test_an_undecodable_file_is_told_how_to_declare_or_convert_its_encoding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_line = write(project / "a_first.py", "h = 'café'  # result_handler\n".encode("latin-1"))
    later = write(project / "b_later.py", "import os\n\nh = 'café'  # result_handler\n".encode("latin-1"))
    assert main([str(project)]) == 2
    err = capsys.readouterr().err
    hint = "; declare the file's encoding with a '# -*- coding: <name> -*-' line (PEP 263) or convert the file to UTF-8"
    assert f"{first_line}: cannot decode: invalid or missing encoding declaration{hint}" in err
    assert f"{later}: cannot decode: 'utf-8' codec can't decode byte 0xe9 in position 19: invalid continuation byte{hint}" in err


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(LEGACY.rstrip("\n"), id="no-newline-at-end"),
        pytest.param("\f\n" + LEGACY + "x = 1  # a form feed \f inside a line\n", id="form-feeds"),
        pytest.param(LEGACY.replace("\n", "\r\n"), id="crlf"),
    ],
)
def test_the_diff_applies_with_git_apply(
    text: str, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "flow.py", text)
    monkeypatch.chdir(project)
    assert main(["--diff", "flow.py"]) == 1
    diff = capsys.readouterr().out
    if shutil.which("patch"):  # GNU patch too, where the machine has it (git is always there)
        checked = subprocess.run(["patch", "-p0", "--dry-run"], input=diff.encode(), cwd=project,
                                 capture_output=True, timeout=60)
        assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    for args in (["--check"], []):
        applied = subprocess.run(["git", "apply", "-p0", *args], input=diff.encode(), cwd=project,
                                 capture_output=True, timeout=60)
        assert applied.returncode == 0, applied.stderr.decode()
    assert main(["--check", "flow.py"]) == 0  # the patched file is the rewritten one


def test_a_diff_marks_a_last_line_without_newline(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(project / "flow.py", LEGACY.rstrip("\n"))
    main(["--diff", str(path)])
    assert "-h = JSONResultHandler()\n\\ No newline at end of file\n+h = JSONResult()\n\\ No newline at end of file\n" in (
        capsys.readouterr().out
    )


def test_report_json_has_a_schema_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "flow.py", LEGACY)
    main(["--check", "--report", "json", str(project)])
    assert json.loads(capsys.readouterr().out)["schema_version"] == 2


def test_report_json_of_a_write_run_says_rewritten(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "flow.py", LEGACY)
    assert main(["--report", "json", str(project)]) == 0
    assert {site["action"] for site in json.loads(capsys.readouterr().out)["sites"]} == {"rewritten"}


def test_an_import_whose_replacement_takes_its_place_is_reported_as_replaced(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "flow.py", LEGACY)
    main(["--check", "--report", "json", str(project)])
    (site,) = [s for s in json.loads(capsys.readouterr().out)["sites"] if s["rule"] == "import"]
    assert site["reason"] == "replaced the legacy import of JSONResultHandler with compat.results.JSONResult"


def test_an_import_left_unused_by_the_rewrite_is_reported_as_removed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "flow.py", "import compat.result_handlers as rh\n\nh = rh.JSONResultHandler()\n")
    main(["--check", "--report", "json", str(project)])
    (site,) = [s for s in json.loads(capsys.readouterr().out)["sites"] if s["rule"] == "import"]
    assert site["reason"].startswith("removed the legacy import of rh")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 695 syntax parses on this Python")
def test_a_file_in_syntax_newer_than_the_running_python_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project / "new.py", "from compat.legacy import JSONResultHandler\n\ntype Handler = JSONResultHandler\n")
    assert main([str(project)]) == 2
    err = capsys.readouterr().err
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"{path}: does not parse: line 3: invalid syntax: the file uses syntax newer than Python {running}" in err


def test_deeply_nested_files_fail_one_by_one_saying_why_and_the_others_are_rewritten(project: Path) -> None:
    """In a real subprocess: libcst's parser, asked for a second opinion on 5,000 nested brackets, crashed the
    process (SIGSEGV), and 100,000 nested unary minus signs failed as 'internal error: MemoryError'."""
    header = "from compat.result_handlers import JSONResultHandler\n"
    brackets = write(project / "brackets.py", header + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    minus = write(project / "minus.py", header + "x = " + "-" * 100_000 + "1\n")
    good = write(project / "good.py", LEGACY)
    run = subprocess.run([sys.executable, "-m", "codemods.results", "-j", "1", str(project)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert f"{brackets}: does not parse: line 2: too many nested parentheses (Python cannot import it either)" in run.stderr
    assert (f"{minus}: too deeply nested to analyse (MemoryError: Python's own parser gives up on it); the file is "
            "unchanged") in run.stderr
    assert good.read_text() == MIGRATED


def test_a_file_that_is_not_python_at_all_is_not_called_newer_syntax(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "broken.py", "result_handler = (\n")
    assert main([str(project)]) == 2
    assert "newer" not in capsys.readouterr().err


def _tree_with_skipped_paths(project: Path, tmp_path: Path) -> None:
    write(project / "flow.py", LEGACY)
    write(project / "build" / "lib" / "flow.py", LEGACY)
    outside = write(tmp_path / "elsewhere.py", LEGACY)
    (project / "linked.py").symlink_to(outside)
    (project / "gone.py").symlink_to(tmp_path / "no-such-file.py")
    write(project / "__pycache__" / "x.py", LEGACY)


def test_skipped_paths_are_counted_in_the_summary(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree_with_skipped_paths(project, tmp_path)
    assert main(["--check", str(project)]) == 1
    err = capsys.readouterr().err
    assert ("skipped 3 path(s): 1 a build, packaging or environment directory, 1 a dangling symlink, "
            "1 a symlink to a file outside the tree (--verbose lists them)") in err


def test_verbose_lists_each_skipped_path_with_the_reason(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree_with_skipped_paths(project, tmp_path)
    assert main(["--check", "--verbose", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"  {project / 'build'}: a build, packaging or environment directory\n" in err
    assert f"  {project / 'linked.py'}: a symlink to a file outside the tree\n" in err
    assert f"  {project / 'gone.py'}: a dangling symlink\n" in err
    assert "__pycache__" not in err


def test_report_json_lists_the_skipped_paths(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tree_with_skipped_paths(project, tmp_path)
    main(["--check", "--report", "json", str(project)])
    document = json.loads(capsys.readouterr().out)
    assert {"path": str(project / "gone.py"), "reason": "a dangling symlink"} in document["skipped"]
    assert document["totals"]["paths_skipped"] == 3


def test_help_documents_what_is_skipped_and_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    for skipped in ("build", "dist", ".gitignore", "symlinked directories", "outside the tree", "dangling symlinks",
                    "pyvenv.cfg", "--exclude"):
        assert skipped in help_text
    for code in ("0  nothing left to change", "1  changes needed", "2  usage error"):
        assert code in help_text


@pytest.mark.parametrize("argument", [".", "./", "./sub/../"])
def test_a_diff_of_a_directory_given_as_dot_applies_with_git_apply(
    argument: str, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "flow.py", LEGACY)
    write(project / "sub" / "inner.py", LEGACY)
    monkeypatch.chdir(project)
    assert main(["--diff", argument]) == 1
    diff = capsys.readouterr().out
    assert "--- flow.py\n" in diff and "--- sub/inner.py\n" in diff
    applied = subprocess.run(["git", "apply", "-p0"], input=diff.encode(), cwd=project, capture_output=True,
                             timeout=60)
    assert applied.returncode == 0, applied.stderr.decode()
    assert main(["--check", "."]) == 0


def test_a_diff_of_an_absolute_path_inside_the_current_directory_is_relative(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project / "flow.py", LEGACY)
    monkeypatch.chdir(project)
    main(["--diff", str(path)])
    assert "--- flow.py\n+++ flow.py\n" in capsys.readouterr().out


def test_help_names_the_results_codemod_script_in_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: results-codemod ")
    assert "python -m codemods.results" not in out


HOSTILE = "evil\x1b[2J\nrewrote ok\u202e.py"
"""A file name with an escape sequence (clear screen), a newline that fakes a line of output, and a bidi override."""


def test_control_characters_in_a_file_name_are_escaped_on_stderr(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / HOSTILE, LEGACY)
    write(project / ("broken\x07.py"), "from compat.legacy import JSONResultHandler\nx = (\n")
    main(["-j", "1", str(project)])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err and "\nrewrote ok" not in err
    assert f'rewrote "{project}/evil\\033[2J\\nrewrote ok\\342\\200\\256.py"' in err
    assert f'"{project}/broken\\a.py": does not parse' in err


def test_control_characters_in_a_file_name_are_quoted_in_the_diff_as_git_quotes_them_and_it_applies(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project / HOSTILE, LEGACY)
    monkeypatch.chdir(project)
    assert main(["--diff", "."]) == 1
    diff = capsys.readouterr().out
    quoted = '"evil\\033[2J\\nrewrote ok\\342\\200\\256.py"'
    assert f"--- {quoted}\n+++ {quoted}\n" in diff and "\x1b" not in diff
    applied = subprocess.run(["git", "apply", "-p0"], input=diff.encode(), cwd=project, capture_output=True,
                             timeout=60)
    assert applied.returncode == 0, applied.stderr.decode()
    assert path.read_text() == MIGRATED
