"""Bridge uses are legacy uses like any other: the --legacy-audit plugin lists them and RESULTS_COMPAT_LEGACY=error
turns them into errors, in fresh processes where only the .pth hook installed the bridge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PREFECT_TEST = """
from prefect import Task, task
from prefect.engine.result_handlers import JSONResultHandler

def test_uses_the_legacy_keyword():
    for _ in range(2):
        Task(result_handler=JSONResultHandler())
"""


@pytest.mark.slow
def test_the_audit_lists_bridge_uses_with_their_prefect_replacements(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prefect_legacy=PREFECT_TEST)
    result = pytester.runpytest_subprocess("--legacy-audit", "-p", "results_compat")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*legacy results audit*",
            "2 legacy call site(s) (2 first-party, 0 third-party), 5 use(s); `results-codemod` rewrites 2, lists 0 "
            "to port by hand, does not see 0 (dynamic use)",
            "  test_prefect_legacy.py:2  LegacyImportWarning x1: use prefect.engine.results  (results-codemod rewrites it)",
            "  test_prefect_legacy.py:6  LegacyHandlerWarning x2: use prefect.engine.results.PrefectResult  "
            "(results-codemod rewrites it)",
            "  test_prefect_legacy.py:6  LegacyKeywordWarning x2: use result=  (results-codemod rewrites it)",
        ],
        consecutive=False,
    )


@pytest.mark.slow
def test_strict_audit_fails_on_bridge_uses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prefect_legacy=PREFECT_TEST)
    result = pytester.runpytest_subprocess("--legacy-audit=strict", "-p", "results_compat")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.slow
def test_results_compat_legacy_error_turns_a_bridge_use_into_an_error(tmp_path: Path) -> None:
    script = tmp_path / "flow.py"
    script.write_text("import compat\nfrom prefect.engine.result_handlers import JSONResultHandler\n")
    env = {**os.environ, "RESULTS_COMPAT_LEGACY": "error"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "LegacyImportWarning: the module prefect.engine.result_handlers is deprecated" in proc.stderr


PREFECT_OWN_HANDLER_TEST = """
from prefect import Task
from prefect.engine.result_handlers import JSONResultHandler, ResultHandler

class Mine(ResultHandler):
    def write(self, value):
        return "x"

    def read(self, uri):
        return 1

def test_own_and_built_in_handlers():
    Task(result_handler=Mine())
    Task(result_handler=JSONResultHandler())
"""


@pytest.mark.slow
def test_the_audit_counts_handlers_of_ones_own_apart_from_what_the_codemod_rewrites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prefect_own=PREFECT_OWN_HANDLER_TEST)
    result = pytester.runpytest_subprocess("--legacy-audit", "-p", "results_compat")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*`results-codemod` rewrites 2, lists 2 to port by hand (2 of them handlers of your own), does not see 0*",
            "  test_prefect_own.py:4  LegacySubclassWarning x1: *(port by hand: a handler of your own)",
            "  test_prefect_own.py:12  LegacyKeywordWarning x1: *(port by hand: a handler of your own)",
            "  test_prefect_own.py:13  LegacyKeywordWarning x1: *(results-codemod rewrites it)",
        ],
        consecutive=False,
    )
