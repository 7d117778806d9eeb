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
            "1 legacy call site(s) (1 first-party, 0 third-party), 3 use(s); `results-codemod` rewrites 1, lists 0 "
            "to port by hand, does not see 0 (dynamic use)",
            "first-party:",
            "  test_legacy.py:5  LegacyHandlerWarning x3: use compat.LocalResult  (results-codemod rewrites it)",
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
    assert document["schema_version"] == 2
    (site,) = document["sites"]
    fingerprint = site.pop("fingerprint")
    assert site == {
        "file": "test_legacy.py",
        "line": 5,
        "column": None,
        "rule": "constructor",
        "origin": "runtime",
        "codemod": "rewrites",
        "reason": "LocalResultHandler -> LocalResult",
        "statement": "LocalResultHandler ( dir = str ( tmp_path ) )",
        "kind": "LegacyHandlerWarning",
        "replacement": "compat.LocalResult",
        "count": 3,
        "first_party": True,
        "own_handler": False,
    }
    assert fingerprint.endswith(":0")
    assert document["totals"] == {
        "sites": 1,
        "uses": 3,
        "first_party_sites": 1,
        "third_party_sites": 0,
        "codemod_rewrites": 1,
        "codemod_lists": 0,
        "codemod_unseen": 0,
        "own_handlers": 0,
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
    result.stdout.fnmatch_lines(["*conftest.py:2  LegacyHandlerWarning x1: use compat.JSONResult*"])


def test_uses_at_collection_time_are_audited(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_module_level="from compat.legacy import JSONResultHandler\nH = JSONResultHandler()\n\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines(["*test_module_level.py:2  LegacyHandlerWarning x1*"])


def test_legacy_import_path_is_audited_in_a_fresh_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_imports="import compat.result_handlers\n\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--legacy-audit")
    result.stdout.fnmatch_lines(["*test_imports.py:1  LegacyImportWarning x1: use compat.results*"])


def test_a_subclass_is_reported_as_a_site_to_port_by_hand(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sub="from compat.legacy import ResultHandler\n\nclass Mine(ResultHandler):\n    pass\n\ndef test_x():\n    pass\n"
    )
    result = pytester.runpytest("--legacy-audit")
    result.stdout.fnmatch_lines([
        "*rewrites 0, lists 1 to port by hand (1 of them handlers of your own), does not see 0*",
        "*test_sub.py:3  LegacySubclassWarning x1:*(port by hand: a handler of your own)",
    ])


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
    assert recorded == [{"file": "test_legacy.py", "rule": "constructor",
                         "statement": "LocalResultHandler ( dir = str ( tmp_path ) )", "count": 1}]


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
            "*test_new.py:4  LegacyHandlerWarning: use compat.JSONResult*",
            "*if they are known, run with --legacy-audit-baseline-update to record them*",
        ]
    )


def test_baseline_reports_a_stale_entry_when_its_site_goes_away(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    pytester.makepyfile(test_legacy=CLEAN_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "stale baseline entries (no site matches them any more): run with --legacy-audit-baseline-update*",
        "  test_legacy.py: constructor x1: LocalResultHandler ( dir = str ( tmp_path ) )",
    ])


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
    result.stdout.fnmatch_lines(["*conftest.py:2  LegacyHandlerWarning x1: use compat.JSONResult*"])


def test_a_directory_given_as_the_baseline_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.mkdir("baselines")
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baselines")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--legacy-audit-baseline=baselines is a directory; give a file path" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


# -- the baseline, per site -------------------------------------------------------------------------------------

TWO_HANDLERS = """
from compat.legacy import JSONResultHandler, LocalResultHandler

def test_two(tmp_path):
    JSONResultHandler()
    LocalResultHandler(dir=str(tmp_path))
"""


def test_baseline_fails_on_a_use_swapped_in_for_a_removed_one_in_the_same_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two=TWO_HANDLERS)
    assert pytester.runpytest("--legacy-audit-baseline=baseline.json").ret == pytest.ExitCode.OK
    pytester.makepyfile(test_two=TWO_HANDLERS.replace("    JSONResultHandler()\n", "    JSONResultHandler().write(1)\n"))
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: legacy uses beyond the baseline*", "  test_two.py:4  LegacyHandlerWarning: use compat.JSONResult"])


def test_baseline_survives_an_inserted_line_and_reformatting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two=TWO_HANDLERS)
    pytester.runpytest("--legacy-audit-baseline=baseline.json", "--legacy-audit=strict")
    moved = "import os\n" + TWO_HANDLERS.replace("dir=str(tmp_path))", "dir = str(tmp_path)  # kept\n    )")
    pytester.makepyfile(test_two=moved)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json", "--legacy-audit=strict")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*no legacy call sites beyond the baseline baseline.json*"])


def test_strict_fails_on_a_stale_entry_until_the_baseline_is_updated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two=TWO_HANDLERS)
    pytester.runpytest("--legacy-audit-baseline=baseline.json")
    pytester.makepyfile(test_two=TWO_HANDLERS.replace("    JSONResultHandler()\n", ""))
    strict = ("--legacy-audit=strict", "--legacy-audit-baseline=baseline.json")
    result = pytester.runpytest(*strict)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAILED: stale baseline entries*", "  test_two.py: constructor x1: JSONResultHandler ( )"])
    updated = pytester.runpytest(*strict, "--legacy-audit-baseline-update")
    assert updated.ret == pytest.ExitCode.OK
    updated.stdout.fnmatch_lines(["updated 1 known site(s) in the baseline baseline.json"])
    assert pytester.runpytest(*strict).ret == pytest.ExitCode.OK


def test_the_update_flag_without_a_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two=TWO_HANDLERS)
    result = pytester.runpytest("--legacy-audit-baseline-update")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "give it with --legacy-audit-baseline FILE" in result.stderr.str()


BARRIER_TEST = """
import os, time
from compat.legacy import {handler}

def test_meets_the_other_session():
    {handler}({argument})
    open("{mine}", "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists("{other}") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert os.path.exists("{other}")
"""


@pytest.mark.slow
def test_two_sessions_recording_one_baseline_at_once_lose_no_entry(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a=BARRIER_TEST.format(handler="JSONResultHandler", argument="", mine="a.ready", other="b.ready"),
        test_b=BARRIER_TEST.format(handler="ConstantResultHandler", argument="1", mine="b.ready", other="a.ready"),
    )
    sessions = [
        subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name,
                          "--legacy-audit-baseline=baseline.json"], cwd=pytester.path, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
        for name in ("test_a.py", "test_b.py")
    ]
    for session in sessions:
        out, _ = session.communicate(timeout=180)
        assert session.returncode == 0, out.decode()
    recorded = json.loads((pytester.path / "baseline.json").read_text())["known_sites"]
    assert sorted(entry["file"] for entry in recorded) == ["test_a.py", "test_b.py"]


@pytest.mark.parametrize(
    "known_sites",
    [
        pytest.param('[{"file": "t.py", "rule": "constructor", "statement": "X ( )", "count": 1e999}]', id="1e999"),
        pytest.param('[{"file": "t.py", "rule": "constructor", "statement": "X ( )", "count": true}]', id="true"),
        pytest.param('[{"file": "t.py", "rule": "constructor", "statement": "X ( )", "count": -2}]', id="negative"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param('{"t.py": {"LegacyHandlerWarning": 1}}', id="the-counts-of-version-2"),
    ],
)
def test_a_baseline_that_is_not_one_is_a_usage_error_naming_the_fix(
    known_sites: str, pytester: pytest.Pytester
) -> None:
    (pytester.path / "baseline.json").write_text(f'{{"schema_version": 3, "known_sites": {known_sites}}}')
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--legacy-audit-baseline-update to write a new one" in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_baseline_in_a_missing_directory_is_a_usage_error_before_the_tests_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=missing/baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--legacy-audit-baseline=missing/baseline.json cannot be written: its directory" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_baseline_that_cannot_be_written_is_a_clear_error_not_a_traceback(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-baseline=/proc/legacy-baseline.json")  # not even root writes there
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str() + result.stderr.str()
    assert "cannot" in out and "/proc/legacy-baseline.json" in out
    assert "Traceback" not in out and "PermissionError" not in out


# -- what the codemod does with each site ------------------------------------------------------------------------

THREE_KINDS = """
import compat.legacy
from compat.legacy import JSONResultHandler, ResultHandler


class Mine(ResultHandler):
    def write(self, value):
        return "x"


def test_three():
    JSONResultHandler()
    made = getattr(compat.legacy, "ConstantResultHandler")(1)
"""


def test_the_audit_says_which_sites_the_codemod_rewrites_lists_or_does_not_see(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_three=THREE_KINDS)
    result = pytester.runpytest("--legacy-audit", "--legacy-audit-json=audit.json")
    result.stdout.fnmatch_lines([
        "*`results-codemod` rewrites 1, lists 1 to port by hand (1 of them handlers of your own), does not see 1*",
        "*test_three.py:5  LegacySubclassWarning x1:*(port by hand: a handler of your own)",
        "*test_three.py:11  LegacyHandlerWarning x1:*(results-codemod rewrites it)",
        "*test_three.py:12  LegacyHandlerWarning x1:*(by hand: results-codemod does not see it)",
    ])
    sites = json.loads((pytester.path / "audit.json").read_text())["sites"]
    assert [(site["line"], site["codemod"]) for site in sites] == [(5, "lists"), (11, "rewrites"), (12, "unseen")]


def test_the_audit_and_the_codemod_name_a_site_alike(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    pytester.runpytest("--legacy-audit-json=audit.json")
    (runtime,) = json.loads((pytester.path / "audit.json").read_text())["sites"]
    done = subprocess.run([sys.executable, "-m", "codemods.results", "--check", "--report", "json", "test_legacy.py"],
                          cwd=pytester.path, capture_output=True, text=True, timeout=120)
    static = json.loads(done.stdout)["sites"]
    (constructor,) = [site for site in static if site["rule"] == "constructor"]
    shared = ("file", "line", "rule", "codemod", "statement", "fingerprint")
    assert {key: runtime[key] for key in shared} == {key: constructor[key] for key in shared}
    assert (runtime["origin"], constructor["origin"]) == ("runtime", "static")


# -- CI formats ---------------------------------------------------------------------------------------------------


def test_the_github_format_prints_an_annotation_per_site(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit=strict", "--legacy-audit-format=github")
    result.stdout.fnmatch_lines([
        "::error file=test_legacy.py,line=5,title=results-compat constructor%3A legacy handler constructor::"
        "LocalResultHandler -> LocalResult",
    ])


def test_the_sarif_format_writes_a_valid_log_with_stable_fingerprints(pytester: pytest.Pytester) -> None:
    from tests.sarif import validate

    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit", "--legacy-audit-format=sarif", "--legacy-audit-output=audit.sarif")
    result.stdout.fnmatch_lines(["legacy audit written to audit.sarif"])
    log = json.loads((pytester.path / "audit.sarif").read_text())
    validate(log)
    (found,) = log["runs"][0]["results"]
    assert (found["ruleId"], found["level"]) == ("constructor", "warning")
    pytester.makepyfile(test_legacy="# a line above moves the site\n" + LEGACY_TEST)
    pytester.runpytest("--legacy-audit", "--legacy-audit-format=sarif", "--legacy-audit-output=audit.sarif")
    (moved,) = json.loads((pytester.path / "audit.sarif").read_text())["runs"][0]["results"]
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert moved["partialFingerprints"] == found["partialFingerprints"]


def test_an_unknown_format_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_legacy=LEGACY_TEST)
    result = pytester.runpytest("--legacy-audit-format=xml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--legacy-audit-format takes text, github, sarif, not 'xml'" in result.stderr.str()
