"""pytest hooks of the legacy audit: collection, the terminal report, strict and baseline exits.

Loaded by the ``pytest11`` entry point (``results_compat_pytest``, which also declares the options) only when a
session asks for the audit.

``--legacy-audit`` reports, ``--legacy-audit=strict`` fails the session on any legacy use,
``--legacy-audit-baseline FILE`` fails only on uses not recorded in FILE (recording it on first use), and
``--legacy-audit-json PATH`` writes the report for CI tools. Each has an ini key of the same name.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from compat.audit.baseline import Baseline, Comparison, compare, load_baseline, save_baseline
from compat.audit.sites import AuditReport, Site, totals
from compat.deprecations import CODEMOD, LegacyUse, observe
from compat.results._atomic import atomic_write_bytes
from results_compat_pytest import MODES

# Legacy uses from before pytest_configure (conftest imports, plugins) are buffered here for the session.
_early: list[LegacyUse] = []
_buffering = False


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


def pytest_configure(config: pytest.Config) -> None:
    global _buffering
    _buffering = False
    mode = config.getoption("legacy_audit") or config.getini("legacy_audit") or None
    json_path = config.getoption("legacy_audit_json") or config.getini("legacy_audit_json") or None
    baseline = config.getoption("legacy_audit_baseline") or config.getini("legacy_audit_baseline") or None
    if mode is None and json_path is None and baseline is None:
        _early.clear()
        return
    mode = mode or "report"
    if mode not in MODES:
        raise pytest.UsageError(f"--legacy-audit takes 'report' or 'strict', not {mode!r}")
    for option, path in (("--legacy-audit-baseline", baseline), ("--legacy-audit-json", json_path)):
        if path is not None and os.path.isdir(os.path.join(str(config.rootpath), path)):
            raise pytest.UsageError(
                f"{option}={path} is a directory; give a file path, e.g. {option}=legacy-audit.json"
            )
    known = None
    if baseline is not None and os.path.exists(os.path.join(str(config.rootpath), baseline)):
        try:  # read now, so a broken baseline is a usage error up front, not a traceback after the tests
            known = load_baseline(os.path.join(str(config.rootpath), baseline))
        except (OSError, ValueError) as exc:
            raise pytest.UsageError(f"--legacy-audit-baseline: {exc}") from None
    plugin = LegacyAudit(config, mode, json_path, baseline, known)
    for use in _early:
        plugin.report.record(use)
    _early.clear()
    config.pluginmanager.register(plugin, "results-compat-legacy-audit")


class LegacyAudit:
    """The per-session audit: records uses, prints the report, sets the exit status."""

    def __init__(
        self, config: pytest.Config, mode: str, json_path: str | None, baseline: str | None, known: Baseline | None
    ) -> None:
        self.config = config
        self.mode = mode
        self.json_path = json_path
        self.baseline = baseline
        self.known = known  # the baseline's counts, when it exists
        self.report = AuditReport(str(config.rootpath))
        self.comparison: Comparison | None = None
        self.baseline_recorded = False
        self._unsubscribe: Callable[[], None] = observe(self.report.record)

    def pytest_unconfigure(self) -> None:
        self._unsubscribe()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        sites = self.report.sites()
        if self.baseline is not None:
            baseline = os.path.join(str(self.config.rootpath), self.baseline)
            if self.known is not None:
                self.comparison = compare(sites, self.known)
            else:
                save_baseline(baseline, sites)
                self.baseline_recorded = True
        if self.json_path is not None:
            path = os.path.join(str(self.config.rootpath), self.json_path)
            new = self.comparison.new if self.comparison is not None else None
            atomic_write_bytes(path, self.report.to_json(sites, new).encode("utf-8"))
        if session.exitstatus == pytest.ExitCode.OK and self._failing(sites):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _failing(self, sites: list[Site]) -> list[Site]:
        if self.comparison is not None:
            return self.comparison.new
        if self.baseline_recorded:
            return []
        return sites if self.mode == "strict" else []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        sites = self.report.sites()
        write = terminalreporter.write_line
        terminalreporter.section("legacy results audit")
        if not sites:
            write("no legacy result-handler uses: nothing left to migrate")
        else:
            count = totals(sites)
            write(
                f"{count['sites']} legacy call site(s) ({count['first_party_sites']} first-party, "
                f"{count['third_party_sites']} third-party), {count['uses']} use(s); "
                f"`{CODEMOD}` rewrites {count['codemod_fixable_sites']} of them"
            )
            for first_party, title in ((True, "first-party"), (False, "third-party (site-packages)")):
                group = [site for site in sites if site.first_party is first_party]
                if group:
                    write(f"{title}:")
                    for site in group:
                        fix = "" if site.fixable else "  (port by hand)"
                        write(f"  {site.key}  {site.kind} x{site.count}: use {site.replacement}{fix}")
        if self.baseline_recorded:
            write(f"recorded {len(sites)} known site(s) in the baseline {self.baseline}")
        elif self.comparison is not None:
            self._write_comparison(self.comparison, write)
        elif self.mode == "strict" and sites:
            write("FAILED: --legacy-audit=strict and legacy uses remain (see above)", red=True)
        if self.json_path is not None:
            write(f"legacy audit written to {self.json_path}")

    def _write_comparison(self, comparison: Comparison, write: Callable[..., None]) -> None:
        for file, kind, known, now in comparison.shrunk:
            write(f"progress: {file} has {now} {kind} site(s), the baseline {known}; re-record the baseline "
                  f"(delete {self.baseline} and run again) to lock it in")
        if not comparison.grown:
            write(f"no legacy call sites beyond the baseline {self.baseline}")
            return
        write(f"FAILED: legacy uses beyond the baseline {self.baseline}:", red=True)
        for file, kind, known, now in comparison.grown:
            write(f"  {file}: {now} {kind} site(s), the baseline allows {known}", red=True)
        for site in comparison.new:
            write(f"    {site.key}  {site.kind}: use {site.replacement}", red=True)
        write(f"migrate the new use(s); if the baseline is stale, delete {self.baseline} and run again", red=True)
