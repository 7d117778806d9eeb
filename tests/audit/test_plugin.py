"""The legacy-audit pytest plugin, exercised through real inner pytest sessions (pytester)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


LEGACY_TEST = """
from compat.legacy import LocalResultHandler

def test_uses_a_legacy_handler(tmp_path):
    for _ in range(3):
        LocalResultHandler(dir=str(tmp_path))
"""

CLEAN_TEST = """
from compat import LocalResult

def test_uses_the_new_api(tmp_path):
    LocalResult(dir=str(tmp_path))
"""


def test_report_lists_each_call_site_with_kind_count_and_replacement(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*legacy results audit*",
            "1 legacy call site(s) (1 first-party, 0 third-party), 3 use(s);*rewrites 1 of them",
            "first-party:",
            "  test_legacy.py:5  LegacyHandlerWarning x3: use compat.LocalResult",
        ]
    )


def test_a_session_without_legacy_uses_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_clean=CLEAN_TEST)
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*no legacy result-handler uses*"])


def test_without_the_option_nothing_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest()
    assert "legacy results audit" not in result.stdout.str()


def test_strict_fails_a_session_whose_tests_pass_when_legacy_uses_remain(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit=strict")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: --legacy-audit=strict and legacy uses remain*"])


def test_strict_passes_a_clean_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_clean=CLEAN_TEST)
    assert pytester.runpytest("--legacy-audit=strict").ret == pytest.ExitCode.OK


def test_strict_mode_can_come_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlegacy_audit = strict\n")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    assert pytester.runpytest().ret == pytest.ExitCode.TESTS_FAILED


def test_an_unknown_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlegacy_audit = loud\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--legacy-audit takes 'report' or 'strict', not 'loud'*"])


def test_a_path_after_the_bare_option_is_still_a_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST, test_clean=CLEAN_TEST)
    result = pytester.runpytest("--legacy-audit", "test_clean.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*no legacy result-handler uses*"])


def test_json_report_has_sites_and_totals(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-json=audit.json")
    document = json.loads((pytester.path / "audit.json").read_text())
    assert document["schema_version"] == 1
    assert document["sites"] == [
        {
            "file": "test_legacy.py",
            "line": 5,
            "kind": "LegacyHandlerWarning",
            "replacement": "compat.LocalResult",
            "count": 3,
            "first_party": True,
            "fixable": True,
        }
    ]
    assert document["totals"] == {
        "sites": 1,
        "uses": 3,
        "first_party_sites": 1,
        "third_party_sites": 0,
        "codemod_fixable_sites": 1,
    }


def test_uses_are_audited_even_when_filterwarnings_ignores_them(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings =\n    ignore::DeprecationWarning\n")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*test_legacy.py:5  LegacyHandlerWarning x3*"])


def test_uses_are_audited_even_when_filterwarnings_makes_them_errors(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings =\n    error::DeprecationWarning\n")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_legacy.py:5  LegacyHandlerWarning x1*"])


def test_uses_at_import_time_of_a_conftest_are_audited(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from compat.legacy import JSONResultHandler\nHANDLER = JSONResultHandler()\n")
    pytester.makepyfile(test_clean=CLEAN_TEST)
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*conftest.py:2  LegacyHandlerWarning x1: use compat.JSONResult"])


def test_uses_at_collection_time_are_audited(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_module_level="from compat.legacy import JSONResultHandler\nH = JSONResultHandler()\n\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*test_module_level.py:2  LegacyHandlerWarning x1*"])


def test_legacy_import_path_is_audited_in_a_fresh_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_imports="import compat.result_handlers\n\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--legacy-audit")
    result.stdout.fnmatch_lines(["*test_imports.py:1  LegacyImportWarning x1: use compat.results"])


def test_a_subclass_is_reported_as_a_site_to_port_by_hand(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sub="from compat.legacy import ResultHandler\n\nclass Mine(ResultHandler):\n    pass\n\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*rewrites 0 of them", "*test_sub.py:3  LegacySubclassWarning x1:*(port by hand)"])


def test_third_party_sites_are_reported_apart(pytester: pytest.Pytester) -> None:
    vendor = pytester.mkdir("site-packages")
    (vendor / "vendored.py").write_text("from compat.legacy import JSONResultHandler\n\ndef make():\n    return JSONResultHandler()\n")
    pytester.makepyfile(
        test_vendor="import sys\nsys.path.insert(0, 'site-packages')\nimport vendored\n\ndef test_x():\n    vendored.make()\n"
    )
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(
        ["*(0 first-party, 1 third-party)*", "third-party (site-packages):", "*vendored.py:4  LegacyHandlerWarning x1*"]
    )


def test_baseline_is_recorded_on_first_use_and_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.OK
    recorded = json.loads((pytester.path / "baseline.json").read_text())["known_sites"]
    assert recorded == {"test_legacy.py": {"LegacyHandlerWarning": 1}}


def test_baseline_passes_when_nothing_new_appears(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*no legacy call sites beyond the baseline baseline.json*"])


def test_baseline_survives_edits_that_move_known_sites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    pytester.makepyfile(test_legacy="# a new comment moves every line down\n" + LEGACY_TEST)
    assert pytester.runpytest("--legacy-audit-baseline=baseline.json").ret == pytest.ExitCode.OK


def test_baseline_fails_on_a_new_call_site_and_names_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    pytester.makepyfile(test_new="from compat.legacy import JSONResultHandler\n\ndef test_y():\n    JSONResultHandler()\n")
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*FAILED: legacy uses beyond the baseline baseline.json:*",
            "*test_new.py: 1 LegacyHandlerWarning site(s), the baseline allows 0*",
            "*test_new.py:4  LegacyHandlerWarning: use compat.JSONResult*",
            "*if the baseline is stale, delete baseline.json and run again*",
        ]
    )


def test_baseline_reports_progress_when_sites_go_away(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    pytester.makepyfile(test_legacy=CLEAN_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*progress: test_legacy.py has 0 LegacyHandlerWarning site(s), the baseline 1*"])


def test_a_corrupt_baseline_is_named_with_the_fix(pytester: pytest.Pytester) -> None:
    (pytester.path / "baseline.json").write_text("{not json")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not a legacy-audit baseline of this version" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


# -- a project whose own compat module shadows ours --------------------------------------------------------------

OWN_COMPAT = "def shout(text):\n    return text.upper()\n"
OWN_TEST = "from compat import shout\n\ndef test_its_own_compat():\n    assert shout('a') == 'A'\n"


def test_the_entry_point_module_imports_nothing_of_compat() -> None:
    code = "import sys, results_compat_pytest; print(sorted(m for m in sys.modules if m.split('.')[0] == 'compat'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_project_with_its_own_compat_module_runs_its_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(compat=OWN_COMPAT, test_own=OWN_TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_project_with_its_own_compat_package_runs_its_tests(pytester: pytest.Pytester) -> None:
    package = pytester.mkpydir("compat")
    (package / "__init__.py").write_text(OWN_COMPAT)
    pytester.makepyfile(test_own=OWN_TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_the_audit_in_a_project_with_its_own_compat_is_a_usage_error_that_says_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(compat=OWN_COMPAT, test_own=OWN_TEST)
    result = pytester.runpytest_subprocess("--legacy-audit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--legacy-audit needs results-compat's package 'compat'*shadows it*"])


def test_the_audit_turned_on_by_the_ini_file_alone_sees_conftest_imports(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlegacy_audit = report\n")
    pytester.makeconftest("from compat.legacy import JSONResultHandler\nHANDLER = JSONResultHandler()\n")
    pytester.makepyfile(test_clean=CLEAN_TEST)
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(["*conftest.py:2  LegacyHandlerWarning x1: use compat.JSONResult"])


def test_a_directory_given_as_the_baseline_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.mkdir("baselines")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baselines")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--legacy-audit-baseline=baselines is a directory; give a file path" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
