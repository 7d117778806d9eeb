"""What a run tells its user: the end-of-run summary, the JSON report, and the exit code."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from codemods.results._table import load_own
from codemods.results.diffs import patch_path
from codemods.results.model import FileOutcome, Site
from codemods.results.runner import Mode
from codemods.results.terminal import shown

__all__ = [
    "SCHEMA_VERSION", "exit_code", "github_report", "inventory", "json_report", "sarif_report", "summary", "totals"
]


def totals(outcomes: Sequence[FileOutcome], mode: Mode) -> dict[str, Any]:
    statuses = Counter(outcome.status for outcome in outcomes)
    rewritten = Counter(site.rule for o in outcomes for site in o.sites if site.action == "rewritten")
    return {
        "mode": mode,
        "files_scanned": len(outcomes),
        "files_filtered": statuses["filtered"],
        "files_changed": statuses["changed"],
        "files_unchanged": statuses["unchanged"],
        "files_failed": statuses["failed"],
        "files_edited_during_run": statuses["edited"],
        "sites_rewritten": dict(sorted(rewritten.items())),
        "manual_follow_ups": sum(len(o.manual) for o in outcomes),
        "follow_ups_ignored": sum(1 for o in outcomes for site in o.sites if site.action == "ignored"),
    }


def exit_code(outcomes: Sequence[FileOutcome], mode: Mode) -> int:
    """2: a file could not be processed; 3: a file changed on disk during the run and was left as it is; 1: changes
    needed (check/diff) or manual follow-ups remain; else 0."""
    if any(outcome.status == "failed" for outcome in outcomes):
        return 2
    if any(outcome.status == "edited" for outcome in outcomes):
        return 3
    if mode != "write" and any(outcome.status == "changed" for outcome in outcomes):
        return 1
    return 1 if any(outcome.manual for outcome in outcomes) else 0


def summary(
    outcomes: Sequence[FileOutcome],
    mode: Mode,
    quiet: bool = False,
    skipped: Sequence[tuple[str, str]] = (),
    verbose: bool = False,
) -> str:
    """The end-of-run text: counts, sites by rule, the paths skipped (each listed when ``verbose``), each manual
    follow-up as ``file:line:col`` and each failure."""
    counts = totals(outcomes, mode)
    lines: list[str] = []
    if not quiet:
        verb = "rewrote" if mode == "write" else "would rewrite"
        lines.append(
            f"scanned {counts['files_scanned']} files ({counts['files_filtered']} without legacy names); "
            f"{verb} {counts['files_changed']}, {counts['files_failed']} failed"
        )
        if counts["sites_rewritten"]:
            kinds = ", ".join(f"{rule} {n}" for rule, n in counts["sites_rewritten"].items())
            lines.append(f"sites {'rewritten' if mode == 'write' else 'to rewrite'}: {kinds}")
        if skipped:
            reasons = Counter(reason for _, reason in skipped)
            lines.append(f"skipped {len(skipped)} path(s): " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
                         + ("" if verbose else " (--verbose lists them)"))
            if verbose:
                lines.extend(f"  {shown(path)}: {reason}" for path, reason in skipped)
        if counts["follow_ups_ignored"]:
            lines.append(f"follow-ups silenced by a '# results-codemod: ignore' pragma: {counts['follow_ups_ignored']}")
    manual = [(o.path, site) for o in outcomes for site in o.manual]
    if manual:
        lines.append(f"manual follow-ups ({len(manual)}):")
        lines.extend(f"  {shown(path)}:{site.line}:{site.column}: {site.rule}: {site.reason}" for path, site in manual)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        lines.append(f"could not process ({len(failed)}):")
        lines.extend(f"  {shown(o.path)}: {o.error}" for o in failed)
    edited = [o for o in outcomes if o.status == "edited"]
    if edited:
        lines.append(f"changed on disk during the run, left as they are now; run the codemod again ({len(edited)}):")
        lines.extend(f"  {shown(o.path)}" for o in edited)
    return "\n".join(lines)


_inventory = load_own("compat.audit.inventory")
_ci = load_own("compat.audit.ci_reports")

SCHEMA_VERSION: int = _inventory.SCHEMA_VERSION
"""Of the JSON report, which shares its site records with the audit's (``compat.audit.inventory``); raised whenever
a key changes meaning or goes away (new keys do not raise it)."""

_VERDICTS = {"rewritten": "rewrites", "would_rewrite": "rewrites", "manual": "lists", "ignored": "lists",
             "skipped": "skips"}
_TOOL = "results-codemod"


def json_report(outcomes: Sequence[FileOutcome], mode: Mode, skipped: Sequence[tuple[str, str]] = ()) -> str:
    """One JSON document (indented): ``schema_version``, ``sites``, one inventory record per site (file, line,
    column, rule, origin ``static``, codemod, action, reason, statement, fingerprint), ``failures``,
    ``changed_files``, ``edited_during_run`` (files left as they are: they changed on disk during the run),
    ``skipped`` (path, reason) and ``totals``. Under --check/--diff nothing is written, so a site's action is
    ``would_rewrite`` where a write run says ``rewritten``."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "sites": inventory(outcomes, mode),
        "failures": [{"file": patch_path(o.path), "error": o.error} for o in outcomes if o.status == "failed"],
        "changed_files": [patch_path(o.path) for o in outcomes if o.status == "changed"],
        "edited_during_run": [patch_path(o.path) for o in outcomes if o.status == "edited"],
        "skipped": [{"path": path, "reason": reason} for path, reason in skipped],
        "totals": {**totals(outcomes, mode), "paths_skipped": len(skipped)},
    }
    return json.dumps(document, indent=2)


def inventory(outcomes: Sequence[FileOutcome], mode: Mode) -> list[dict[str, Any]]:
    """Every site as an inventory record of origin ``static``, files as ``--diff`` names them."""
    records = [_site_record(patch_path(o.path), site, mode) for o in outcomes for site in o.sites]
    _inventory.fingerprints(records)
    return records


def _site_record(path: str, site: Site, mode: Mode) -> dict[str, Any]:
    record = site.to_json(path)
    if mode != "write" and site.action == "rewritten":
        record["action"] = "would_rewrite"
    record["origin"] = "static"
    record["codemod"] = _VERDICTS[site.action]
    return record


def _gate(outcomes: Sequence[FileOutcome], mode: Mode) -> list[tuple[dict[str, Any], str]]:
    """The records that keep the gate shut, with their level: each manual follow-up (an error) and, under
    --check/--diff, each site still to rewrite (a warning: the codemod fixes it)."""
    levels = {"manual": "error", "would_rewrite": "warning"}
    return [(record, levels[record["action"]]) for record in inventory(outcomes, mode) if record["action"] in levels]


def sarif_report(outcomes: Sequence[FileOutcome], mode: Mode) -> str:
    """The run as a SARIF 2.1.0 log: one rule per kind of site, one result per site that keeps the gate shut,
    each file that could not be processed as a tool notification; files relative to the current directory."""
    failures = [(patch_path(o.path), o.error) for o in outcomes if o.status == "failed"]
    return _ci.sarif_log(_TOOL, _version(), _inventory.RULES, _gate(outcomes, mode), failures, os.getcwd())


def github_report(outcomes: Sequence[FileOutcome], mode: Mode) -> str:
    """The run as GitHub workflow commands: an annotation per site that keeps the gate shut, one per failure."""
    failures = [({"file": patch_path(o.path), "line": 1, "rule": "failed", "reason": f"could not process: {o.error}"},
                 "error") for o in outcomes if o.status == "failed"]
    return _ci.github_annotations([*_gate(outcomes, mode), *failures], _inventory.RULES)


def _version() -> str:
    import importlib.metadata  # ~15 ms: only a SARIF log names the tool's version

    try:
        return importlib.metadata.version("results-compat")
    except importlib.metadata.PackageNotFoundError:
        return "0"
