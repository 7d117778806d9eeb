"""pytest hooks of the legacy audit: collection, the terminal report, CI formats, strict and baseline exits.

Loaded by the ``pytest11`` entry point (``results_compat_pytest``, which also declares the options) only when a
session asks for the audit.

``--legacy-audit`` reports, ``--legacy-audit=strict`` fails the session on any legacy use (with a baseline: on
any site it does not know, and on stale entries), ``--legacy-audit-baseline FILE`` fails only on sites not
recorded in FILE (recording it on first use; ``--legacy-audit-baseline-update`` rewrites it),
``--legacy-audit-json PATH`` writes the inventory for CI tools and ``--legacy-audit-format=github|sarif`` reports
the sites as workflow annotations or a SARIF log. Each but the update has an ini key of the same name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from compat.audit.baseline import (
    Baseline,
    BaselineError,
    Comparison,
    compare,
    load_baseline,
    save_baseline,
    writable_problem,
)
from compat.audit.ci_reports import github_annotations, sarif_log
from compat.audit.inventory import RULES, SCHEMA_VERSION, fingerprints
from compat.audit.sites import AuditReport, Site, totals
from compat.audit.verdicts import CodemodUnavailable, with_verdicts
from compat.deprecations import LegacyUse, observe
from compat.results._atomic import atomic_write_bytes
from results_compat_pytest import FORMATS, MODES

# Legacy uses from before pytest_configure (conftest imports, plugins) are buffered here for the session.
_early: list[LegacyUse] = []
_buffering = False
_CODEMOD = "results-codemod"
_DEFAULT_SARIF = "legacy-audit.sarif"


def _buffer(use: LegacyUse) -> None:
    if _buffering:
        _early.append(use)


observe(_buffer)


def start_buffering() -> None:
    """Keep the legacy uses seen from now until ``pytest_configure`` (conftest imports): the entry point calls this
    when the session asks for the audit, before conftest files are imported."""
    global _buffering
    _early.clear()
    _buffering = True


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(name) or config.getini(name) or None


def pytest_configure(config: pytest.Config) -> None:
    global _buffering
    _buffering = False
    mode = _option(config, "legacy_audit")
    json_path = _option(config, "legacy_audit_json")
    baseline = _option(config, "legacy_audit_baseline")
    output_format = _option(config, "legacy_audit_format")
    update = bool(config.getoption("legacy_audit_baseline_update"))
    if mode is None and json_path is None and baseline is None and output_format is None and not update:
        _early.clear()
        return
    mode = mode or "report"
    if mode not in MODES:
        raise pytest.UsageError(f"--legacy-audit takes 'report' or 'strict', not {mode!r}")
    output_format = output_format or "text"
    if output_format not in FORMATS:
        raise pytest.UsageError(f"--legacy-audit-format takes {', '.join(FORMATS)}, not {output_format!r}")
    if update and baseline is None:
        raise pytest.UsageError("--legacy-audit-baseline-update rewrites the baseline: give it with "
                                "--legacy-audit-baseline FILE (or the legacy_audit_baseline ini key)")
    sarif = _option(config, "legacy_audit_output") or (_DEFAULT_SARIF if output_format == "sarif" else None)
    root = str(config.rootpath)
    known = None
    baseline_path = os.path.join(root, baseline) if baseline is not None else None
    reading = baseline_path is not None and os.path.exists(baseline_path) and not update
    for option, path, written in (
        ("--legacy-audit-baseline", baseline, baseline_path is not None and not reading),
        ("--legacy-audit-json", json_path, True),
        ("--legacy-audit-output", sarif, True),
    ):
        if path is None:
            continue
        full = os.path.join(root, path)
        if os.path.isdir(full):
            raise pytest.UsageError(f"{option}={path} is a directory; give a file path, e.g. {option}=legacy-audit.json")
        problem = writable_problem(full) if written else None
        if problem is not None:  # said now, not as a traceback after the tests have run
            raise pytest.UsageError(f"{option}={path} cannot be written: {problem}")
    if reading:
        try:  # read now, so a broken baseline is a usage error up front, not a traceback after the tests
            known = load_baseline(baseline_path)  # type: ignore[arg-type]
        except BaselineError as exc:
            raise pytest.UsageError(f"--legacy-audit-baseline: {exc}") from None
    plugin = LegacyAudit(config, mode, json_path, baseline, known, update, output_format, sarif)
    for use in _early:
        plugin.report.record(use)
    _early.clear()
    config.pluginmanager.register(plugin, "results-compat-legacy-audit")


class LegacyAudit:
    """The per-session audit: records uses, prints the report, sets the exit status."""

    def __init__(
        self,
        config: pytest.Config,
        mode: str,
        json_path: str | None,
        baseline: str | None,
        known: Baseline | None,
        update: bool = False,
        output_format: str = "text",
        sarif: str | None = None,
    ) -> None:
        self.config = config
        self.mode = mode
        self.json_path = json_path
        self.baseline = baseline
        self.known = known  # the baseline's entries, when it exists and is not being rewritten
        self.update = update
        self.output_format = output_format
        self.sarif = sarif
        self.report = AuditReport(str(config.rootpath))
        self.comparison: Comparison | None = None
        self.baseline_written = ""  # "recorded" or "updated" once written
        self.sites: list[Site] = []
        self.codemod_problem = ""
        self.errors: list[str] = []
        self._unsubscribe: Callable[[], None] = observe(self.report.record)

    def pytest_unconfigure(self) -> None:
        self._unsubscribe()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        root = str(self.config.rootpath)
        sites = self.report.sites()
        try:
            sites = with_verdicts(sites, root)
        except CodemodUnavailable as exc:
            self.codemod_problem = str(exc)
        self.sites = sites
        if self.baseline is not None:
            path = os.path.join(root, self.baseline)
            if self.known is not None:
                self.comparison = compare(sites, self.known)
            else:
                try:
                    save_baseline(path, sites, merge=not self.update)
                    self.baseline_written = "updated" if self.update else "recorded"
                except BaselineError as exc:
                    self.errors.append(str(exc))
        records = self._records(sites)
        for output, text in ((self.json_path, self._json(records)), (self.sarif, self._sarif(records))):
            if output is None or text is None:
                continue
            try:
                atomic_write_bytes(os.path.join(root, output), text.encode("utf-8"))
            except OSError as exc:
                self.errors.append(f"cannot write {output} ({exc.strerror or exc}); give a path in a directory you can "
                                   "write")
        if self.errors:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif session.exitstatus == pytest.ExitCode.OK and self._failing(sites):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _failing(self, sites: list[Site]) -> bool:
        if self.comparison is not None:
            return bool(self.comparison.new or (self.mode == "strict" and self.comparison.stale))
        if self.baseline_written:
            return False
        return bool(sites) and self.mode == "strict"

    # -- the inventory, and the CI formats -----------------------------------------------------------------

    def _records(self, sites: list[Site]) -> list[tuple[dict[str, Any], str]]:
        """Each site's inventory record and its level: error where it fails the session, a notice where the
        baseline knows it, a warning otherwise."""
        new = {id(site) for site in self.comparison.new} if self.comparison is not None else set()
        pairs = []
        for site in sites:
            record = site.record()
            if self.comparison is not None:
                record["new"] = id(site) in new
                level = "error" if record["new"] else "notice"
            else:
                level = "error" if self.mode == "strict" and not self.baseline_written else "warning"
            pairs.append((record, level))
        fingerprints(record for record, _ in pairs)
        return pairs

    def _json(self, records: list[tuple[dict[str, Any], str]]) -> str:
        import json

        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "sites": [record for record, _ in records],
            "totals": totals(self.sites),
        }
        if self.comparison is not None:
            document["new_sites"] = [site.key for site in self.comparison.new]
            document["stale_entries"] = [
                {"file": file, "rule": rule, "statement": statement, "count": number}
                for file, rule, statement, number in self.comparison.stale
            ]
        if self.codemod_problem:
            document["codemod_problem"] = self.codemod_problem
        return json.dumps(document, indent=2) + "\n"

    def _sarif(self, records: list[tuple[dict[str, Any], str]]) -> str | None:
        if self.output_format != "sarif":
            return None
        return sarif_log("results-compat legacy audit", _version(), RULES, records, root=str(self.config.rootpath))

    # -- the terminal report -----------------------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        sites = self.sites
        write = terminalreporter.write_line
        terminalreporter.section("legacy results audit")
        if not sites:
            write("no legacy result-handler uses: nothing left to migrate")
        else:
            count = totals(sites)
            write(f"{count['sites']} legacy call site(s) ({count['first_party_sites']} first-party, "
                  f"{count['third_party_sites']} third-party), {count['uses']} use(s); {self._codemod_says(count)}")
            for first_party, title in ((True, "first-party"), (False, "third-party (site-packages)")):
                group = [site for site in sites if site.first_party is first_party]
                if group:
                    write(f"{title}:")
                    for site in group:
                        write(f"  {site.key}  {site.kind} x{site.count}: use {site.replacement}{_verdict(site)}")
        if self.baseline_written:
            write(f"{self.baseline_written} {len(sites)} known site(s) in the baseline {self.baseline}")
        elif self.comparison is not None:
            self._write_comparison(self.comparison, write)
        elif self.mode == "strict" and sites:
            write("FAILED: --legacy-audit=strict and legacy uses remain (see above)", red=True)
        for path in (self.json_path, self.sarif):
            if path is not None and not any(path in error for error in self.errors):
                write(f"legacy audit written to {path}")
        for error in self.errors:
            write(f"ERROR: {error}", red=True)
        if self.output_format == "github":
            records = self._records(sites)
            terminalreporter.write(github_annotations(records, RULES))

    def _codemod_says(self, count: dict[str, int]) -> str:
        if self.codemod_problem:
            return f"what `{_CODEMOD}` does with them is unknown: {self.codemod_problem}"
        own = f" ({count['own_handlers']} of them handlers of your own)" if count["own_handlers"] else ""
        return (f"`{_CODEMOD}` rewrites {count['codemod_rewrites']}, lists {count['codemod_lists']} to port by "
                f"hand{own}, does not see {count['codemod_unseen']} (dynamic use)")

    def _write_comparison(self, comparison: Comparison, write: Callable[..., None]) -> None:
        strict = self.mode == "strict"
        if comparison.stale:
            write(f"{'FAILED: ' if strict else ''}stale baseline entries (no site matches them any more): "
                  f"run with --legacy-audit-baseline-update to rewrite {self.baseline}", red=strict)
            for file, rule, statement, number in comparison.stale:
                write(f"  {file}: {rule} x{number}: {statement}", red=strict)
        if not comparison.new:
            write(f"no legacy call sites beyond the baseline {self.baseline}")
            return
        write(f"FAILED: legacy uses beyond the baseline {self.baseline}:", red=True)
        for site in comparison.new:
            write(f"  {site.key}  {site.kind}: use {site.replacement}", red=True)
        write("migrate the new use(s); if they are known, run with --legacy-audit-baseline-update to record them",
              red=True)


def _verdict(site: Site) -> str:
    if site.codemod == "rewrites":
        return f"  ({_CODEMOD} rewrites it)"
    if site.codemod == "lists":
        return "  (port by hand: a handler of your own)" if site.own_handler else "  (port by hand)"
    if site.codemod == "unseen":
        return f"  (by hand: {_CODEMOD} does not see it)"
    return ""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("results-compat")
    except PackageNotFoundError:
        return "0"
