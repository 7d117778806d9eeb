"""The codemod's CI reports: a SARIF 2.1.0 log (code scanning) and GitHub workflow annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compat.audit.ci_reports import github_annotations
from compat.audit.inventory import RULES
from codemods.results.cli import main
from tests.sarif import validate

GATE_SHUT = (
    "from compat import Task\nfrom compat.legacy import JSONResultHandler\n\n"
    "store = {'json': JSONResultHandler()}\n"
    "make_task(result_handler=store['json'])\n"
)


def _sarif(capsys: pytest.CaptureFixture[str], *paths: str) -> dict:
    assert main(["--check", "--report", "sarif", *paths]) == 1
    return json.loads(capsys.readouterr().out)


def test_report_sarif_is_a_valid_sarif_log_with_one_rule_per_kind(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "flow.py").write_text(GATE_SHUT)
    monkeypatch.chdir(project)
    log = _sarif(capsys, ".")
    validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    assert all(rule["help"]["text"] and rule["shortDescription"]["text"] for rule in rules)
    found = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("keyword", "error") in found and ("constructor", "warning") in found
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "flow.py" for r in run["results"])
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_sarif_fingerprints_survive_lines_moving(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "flow.py"
    path.write_text(GATE_SHUT)
    monkeypatch.chdir(project)
    before = _sarif(capsys, "flow.py")["runs"][0]["results"]
    path.write_text("# a comment\n\n" + GATE_SHUT.replace("\n\n", "\n\n\n"))
    after = _sarif(capsys, "flow.py")["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] != [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in before]


def test_equal_statements_get_different_fingerprints(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "flow.py").write_text("import compat\n\nmake_task(result_handler=h)\nmake_task(result_handler=h)\n")
    monkeypatch.chdir(project)
    results = _sarif(capsys, "flow.py")["runs"][0]["results"]
    assert len({r["partialFingerprints"]["resultsCompatSite/v1"] for r in results}) == 2


def test_a_file_that_cannot_be_processed_is_a_tool_notification(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "broken.py").write_text("from compat.legacy import JSONResultHandler\ndef (:\n")
    monkeypatch.chdir(project)
    assert main(["--check", "--report", "sarif", "."]) == 2
    log = json.loads(capsys.readouterr().out)
    validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert "does not parse" in notification["message"]["text"]


def test_report_github_prints_one_annotation_per_site_that_shuts_the_gate(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "odd,name:1%.py").write_text(GATE_SHUT)
    monkeypatch.chdir(project)
    assert main(["--check", "--report", "github", "."]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(("::error file=odd%2Cname%3A1%25.py,line=", "::warning file=odd%2Cname%3A1%25.py,"))
                         for line in lines)
    assert any(line.startswith("::error ") and ",title=results-compat keyword%3A " in line for line in lines)


def test_github_annotations_escape_what_would_end_or_split_a_command() -> None:
    record = {"file": "a.py", "line": 3, "column": 2, "rule": "attribute",
              "reason": "cannot tell whether f(\n  x) is 100% a Task\r"}
    text = github_annotations([(record, "error")], RULES)
    assert text == ("::error file=a.py,line=3,col=2,title=results-compat attribute%3A .result_handler attribute::"
                    "cannot tell whether f(%0A  x) is 100%25 a Task%0D\n")


def test_diff_and_a_machine_report_are_refused_together(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert main(["--diff", "--report", "sarif", str(project)]) == 2
    assert "--diff and --report sarif both print to stdout" in capsys.readouterr().err


def test_every_rule_the_codemod_reports_has_a_sarif_rule() -> None:
    from typing import get_args

    from codemods.results.model import Rule

    assert set(get_args(Rule)) == set(RULES)


def test_prefect3_flows_left_for_a_human_point_at_their_sarif_rule(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = Path(__file__).parent / "fixtures" / "prefect3" / "flows_left.before.py"
    (project / "flows.py").write_text(fixture.read_text())
    monkeypatch.chdir(project)
    assert main(["--check", "--profile", "prefect3", "--report", "sarif", "."]) == 1
    log = json.loads(capsys.readouterr().out)
    validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    flows = [r for r in run["results"] if r["ruleId"] == "flow"]
    assert flows and all(rules[r["ruleIndex"]]["id"] == "flow" for r in flows)
