"""The legacy inventory as CI services read it: a SARIF 2.1.0 log (code scanning) and GitHub workflow commands
(annotations on the lines of a pull request).

Both take inventory records (``compat.audit.inventory``) and import nothing, so the codemod and the audit render
the same sites the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

__all__ = ["FINGERPRINT_KEY", "github_annotations", "sarif_log"]

FINGERPRINT_KEY = "resultsCompatSite/v1"
"""The ``partialFingerprints`` key: code scanning matches a site across runs by it, not by its line."""

_SARIF_LEVELS = {"error": "error", "warning": "warning", "notice": "note"}


def sarif_log(
    tool: str,
    version: str,
    rules: Mapping[str, tuple[str, str]],
    results: Sequence[tuple[Mapping[str, Any], str]],
    failures: Sequence[tuple[str, str]] = (),
    root: str | None = None,
) -> str:
    """One SARIF 2.1.0 run of ``tool``: a rule per kind in ``rules`` (id -> title, help), a result per
    ``(record, level)`` (level ``error``, ``warning`` or ``notice``), and each ``(file, error)`` of ``failures``
    as a tool notification (the run then did not succeed). ``root``: the directory files are relative to."""
    ids = list(rules)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool, "version": version, "rules": [
            {
                "id": rule,
                "name": "".join(part.capitalize() for part in rule.split("-")),
                "shortDescription": {"text": title},
                "fullDescription": {"text": help_text},
                "help": {"text": help_text},
                "defaultConfiguration": {"level": "error"},
            }
            for rule, (title, help_text) in rules.items()
        ]}},
        "results": [_result(record, level, ids) for record, level in results],
        "invocations": [{
            "executionSuccessful": not failures,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": error}, "locations": [_location(file, None, None)]}
                for file, error in failures
            ],
        }],
        "columnKind": "unicodeCodePoints",
    }
    if root is not None:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": "file://" + quote(root.rstrip("/") + "/")}}
    return json.dumps({"version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _result(record: Mapping[str, Any], level: str, rule_ids: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": record["rule"],
        "level": _SARIF_LEVELS[level],
        "message": {"text": record["reason"] or record["rule"]},
        "locations": [_location(record["file"], record["line"], record.get("column"))],
        "partialFingerprints": {FINGERPRINT_KEY: record["fingerprint"]},
        "properties": {key: value for key, value in record.items()
                       if key not in ("file", "line", "column", "rule", "reason", "fingerprint")},
    }
    if record["rule"] in rule_ids:
        result["ruleIndex"] = rule_ids.index(record["rule"])
    return result


def _location(file: str, line: int | None, column: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(file), "uriBaseId": "SRCROOT"}}
    if line is not None:
        physical["region"] = {"startLine": line, **({"startColumn": column} if column else {})}
    return {"physicalLocation": physical}


def github_annotations(results: Iterable[tuple[Mapping[str, Any], str]], titles: Mapping[str, tuple[str, str]]) -> str:
    """One ``::error file=...,line=...,col=...,title=...::message`` workflow command per ``(record, level)``."""
    lines = []
    for record, level in results:
        properties = [f"file={_property(record['file'])}", f"line={record['line']}"]
        if record.get("column"):
            properties.append(f"col={record['column']}")
        rule = record["rule"]
        title = titles.get(rule, (rule, ""))[0]
        properties.append(f"title={_property(f'results-compat {rule}: {title}')}")
        lines.append(f"::{level} {','.join(properties)}::{_data(record['reason'] or title)}\n")
    return "".join(lines)


def _data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped (they end or garble the command)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value: also ':' and ',' escaped (they separate properties)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
